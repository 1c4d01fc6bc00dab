/* Convolution through sgemm (see conv_kernels.h).
 *
 * Conv: for every image n and group g, Y[n, g] (Mg x S_out) = W[g] (Mg x K)
 * * col (K x S_out), where col is the im2col matrix of the group's input,
 * K = C/group * kernel volume. The output columns are cut into tiles so that
 * one tile of col stays within COL_BUDGET_FLOATS whatever the image size
 * (but at least MIN_TILE columns, for sgemm's sake); each tile is built
 * into a per-thread scratch and multiplied straight into its columns of y
 * (ldc = S_out). A pointwise convolution skips im2col: x is already the
 * K x S matrix. The bias is written into the tile first and the product
 * added to it (beta = 1).
 *
 * ConvTranspose: col (Mg*kvol x S_in) = W[g]^T * X[n, g], then col2im adds
 * every column into the output positions it reaches. Work items own blocks
 * of output channels, so no two threads write the same output.
 *
 * Threads: work items (image, group, column tile, block of output
 * channels) are independent and spread over the pool; every sgemm runs on
 * the calling thread. Small images get their output channels split into
 * blocks so that there are enough items. The partition depends on the
 * geometry only, never on the thread count, so the bits do not either.
 * (OpenBLAS's own threads are not used: after a call they spin for a while
 * and would compete with the pool on a machine with few cores.) */
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm.h"
#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_vector.h"
#include "runtime/threadpool.h"

/* im2col / col2im tile: 1 MB per thread, half the L2 of current Xeons */
#ifndef COL_BUDGET_FLOATS
#define COL_BUDGET_FLOATS ((int64_t)256 * 1024)
#endif
/* pointwise tiles: columns of x and y per item */
#ifndef POINTWISE_TILE
#define POINTWISE_TILE ((int64_t)4096)
#endif
#define TILE_ALIGN 16
/* fewest columns per tile: narrower products run far below sgemm's peak */
#define MIN_TILE 256
/* fewest work items wanted before channels are split into blocks */
#define MIN_ITEMS 8
/* output channels of a block are a multiple of this */
#define CHANNEL_ALIGN 16
/* largest im2col matrix (floats) built whole for a small image whose
 * output channels are split over several items */
#define SHARED_COL_LIMIT ((int64_t)4 * 1024 * 1024)
/* ConvTranspose: sgemm rows wanted per channel block */
#define TRANSPOSE_ROWS 64
/* ConvTranspose: fewest items wanted before channel blocks shrink (every
 * block packs the same input again, so fewer than for Conv) */
#define TRANSPOSE_MIN_ITEMS 4

static int64_t volume3(const int64_t *v)
{
  return v[0] * v[1] * v[2];
}

static int64_t ceil_div(int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

/* A 64-byte aligned float array; NULL on failure. Free with free(). */
static float *scratch_alloc(int64_t n_floats)
{
  size_t size = (size_t)(n_floats > 0 ? n_floats : 1) * sizeof(float);
  size = (size + 63) / 64 * 64;
  return aligned_alloc(64, size);
}

/* The width of ceil(n_columns / widest) equal tiles, rounded up to
 * TILE_ALIGN, never above `widest` or n_columns. */
static int64_t even_tile(int64_t widest, int64_t n_columns)
{
  int64_t n_tiles, tile;
  if (n_columns <= widest)
    return n_columns;
  n_tiles = ceil_div(n_columns, widest);
  tile = ceil_div(ceil_div(n_columns, n_tiles), TILE_ALIGN) * TILE_ALIGN;
  return tile < widest ? tile : widest;
}

/* Tile width (columns) such that `rows` x tile floats fit the budget, at
 * least MIN_TILE, then evened out so that the last tile of n_columns is
 * not much narrower than the others. */
static int64_t tile_for_rows(int64_t rows, int64_t n_columns)
{
  int64_t tile = COL_BUDGET_FLOATS / (rows > 0 ? rows : 1);
  tile = tile / TILE_ALIGN * TILE_ALIGN;
  if (tile < MIN_TILE)
    tile = MIN_TILE;
  return even_tile(tile, n_columns);
}

/* Channels per block out of `channels`, so that n_items * blocks reaches
 * min_items when it can; a multiple of `align` unless it is all of them. */
static int64_t channel_block(int64_t channels, int64_t n_items,
                             int64_t min_items, int64_t align)
{
  int64_t want, block;
  if (n_items >= min_items || channels <= align)
    return channels > 0 ? channels : 1;
  want = ceil_div(min_items, n_items > 0 ? n_items : 1);
  block = ceil_div(ceil_div(channels, want), align) * align;
  return block < channels ? block : channels;
}

/* --- Conv ------------------------------------------------------------- */

struct gemm_job {
  const struct sc_conv_geometry *g;
  const float *x, *w, *bias;
  float *y;
  int pointwise;
  int64_t cg, mg, k; /* K = cg * kernel volume */
  int64_t s_in, s_out;
  int64_t tile, n_tiles;
  int64_t m_block, n_mblocks; /* output channels per item */
  /* small images split over channel blocks: every tile's im2col matrix is
   * built first, by blocks of input channels, into `shared` (tile t of
   * image n, group g at ((n * group + g) * n_tiles + t) * K * tile) */
  float *shared;
  int64_t c_block, n_cblocks;
  int failed; /* a scratch allocation failed */
};

/* Rows of input channels [c0, c1) of the K x (s1 - s0) im2col tile of one
 * group's input xg: row (c, kd, ky, kx) holds, for each output position,
 * the input value under that kernel tap (0 in the padding). Positions are
 * walked in runs along one output row, so each run of a row is one
 * contiguous copy for stride 1. */
SC_CONV_CLONES
static void im2col_tile(const struct gemm_job *job, const float *xg, int64_t s0,
                        int64_t s1, int64_t c0, int64_t c1, float *col)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t oh = g->out[1], ow = g->out[2], n = s1 - s0;
  const int64_t d_in = g->in[0], h_in = g->in[1], w_in = g->in[2];
  const int64_t sw = g->stride[2];
  int64_t s = s0;
  while (s < s1) {
    int64_t od = s / (oh * ow), oy = s / ow % oh, ox = s % ow;
    int64_t run = s1 - s < ow - ox ? s1 - s : ow - ox;
    int64_t id0 = od * g->stride[0] - g->pad[0];
    int64_t iy0 = oy * g->stride[1] - g->pad[1];
    int64_t ix0 = ox * sw - g->pad[2];
    float *dst = col + c0 * volume3(g->kernel) * n + (s - s0);
    int64_t c, kd, ky, kx, j;
    for (c = c0; c < c1; c++) {
      const float *xc = xg + c * job->s_in;
      for (kd = 0; kd < g->kernel[0]; kd++) {
        int64_t id = id0 + kd * g->dilation[0];
        for (ky = 0; ky < g->kernel[1]; ky++) {
          int64_t iy = iy0 + ky * g->dilation[1];
          const float *row;
          if (id < 0 || id >= d_in || iy < 0 || iy >= h_in) {
            for (kx = 0; kx < g->kernel[2]; kx++, dst += n)
              sc_conv_fill(dst, 0.0f, run);
            continue;
          }
          row = xc + (id * h_in + iy) * w_in;
          for (kx = 0; kx < g->kernel[2]; kx++, dst += n) {
            int64_t first = ix0 + kx * g->dilation[2], lo, hi;
            sc_conv_valid_range(first, sw, w_in, run, &lo, &hi);
            sc_conv_fill(dst, 0.0f, lo);
            if (sw == 1)
              sc_conv_copy(dst + lo, row + first + lo, hi - lo);
            else
              for (j = lo; j < hi; j++)
                dst[j] = row[first + j * sw];
            sc_conv_fill(dst + hi, 0.0f, run - hi);
          }
        }
      }
    }
    s += run;
  }
}

/* Image n, group gi and first output column s0 of base item b (an item
 * before the split into channel blocks); returns the tile's width. */
static int64_t base_item(const struct gemm_job *job, int64_t b, int64_t *n,
                         int64_t *gi, int64_t *s0)
{
  int64_t t = b % job->n_tiles;
  *gi = b / job->n_tiles % job->g->group;
  *n = b / job->n_tiles / job->g->group;
  *s0 = t * job->tile;
  return job->s_out - *s0 < job->tile ? job->s_out - *s0 : job->tile;
}

static const float *group_input(const struct gemm_job *job, int64_t n,
                                int64_t gi)
{
  return job->x + (n * job->g->in_channels + gi * job->cg) * job->s_in;
}

/* Shared mode, first pass: items are (base item, block of input
 * channels). */
static void shared_im2col_range(void *ctx, int64_t begin, int64_t end)
{
  const struct gemm_job *job = ctx;
  int64_t item;
  for (item = begin; item < end; item++) {
    int64_t b = item / job->n_cblocks;
    int64_t c0 = item % job->n_cblocks * job->c_block;
    int64_t c1 = c0 + job->c_block < job->cg ? c0 + job->c_block : job->cg;
    int64_t n, gi, s0, cols = base_item(job, b, &n, &gi, &s0);
    im2col_tile(job, group_input(job, n, gi), s0, s0 + cols, c0, c1,
                job->shared + b * job->k * job->tile);
  }
}

/* One item: output channels [m0, m0 + rows) over a base item's tile. `col`
 * is the thread's scratch (unused for pointwise and shared mode). */
static void gemm_item(const struct gemm_job *job, int64_t item, float *col)
{
  const struct sc_conv_geometry *g = job->g;
  int64_t b = item / job->n_mblocks;
  int64_t m0 = item % job->n_mblocks * job->m_block;
  int64_t n, gi, s0, cols = base_item(job, b, &n, &gi, &s0);
  int64_t rows = job->mg - m0 < job->m_block ? job->mg - m0 : job->m_block;
  const float *xg = group_input(job, n, gi);
  const float *wg = job->w + (gi * job->mg + m0) * job->k;
  float *yg =
      job->y + (n * g->out_channels + gi * job->mg + m0) * job->s_out + s0;
  float beta = 0.0f;
  int64_t m;

  if (job->bias) {
    for (m = 0; m < rows; m++)
      sc_conv_fill(yg + m * job->s_out, job->bias[gi * job->mg + m0 + m], cols);
    beta = 1.0f;
  }
  if (job->pointwise) {
    sc_sgemm(0, 0, rows, cols, job->cg, 1.0f, wg, job->cg, xg + s0, job->s_in,
             beta, yg, job->s_out, NULL);
    return;
  }
  if (job->shared)
    col = job->shared + b * job->k * job->tile;
  else
    im2col_tile(job, xg, s0, s0 + cols, 0, job->cg, col);
  sc_sgemm(0, 0, rows, cols, job->k, 1.0f, wg, job->k, col, cols, beta, yg,
           job->s_out, NULL);
}

static void gemm_range(void *ctx, int64_t begin, int64_t end)
{
  struct gemm_job *job = ctx;
  float *col = NULL;
  int64_t item;
  if (!job->pointwise && !job->shared) {
    col = scratch_alloc(job->k * job->tile);
    if (!col) {
      __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
      return;
    }
  }
  for (item = begin; item < end; item++)
    gemm_item(job, item, col);
  free(col);
}

/* Fills the sizes of a Conv job (no pointers). */
static void gemm_plan(const struct sc_conv_geometry *g, int pointwise,
                      struct gemm_job *job)
{
  int64_t n_base;
  memset(job, 0, sizeof *job);
  job->g = g;
  job->pointwise = pointwise;
  job->cg = g->in_channels / g->group;
  job->mg = g->out_channels / g->group;
  job->k = job->cg * volume3(g->kernel);
  job->s_in = volume3(g->in);
  job->s_out = volume3(g->out);
  if (pointwise)
    job->tile = even_tile(POINTWISE_TILE, job->s_out);
  else
    job->tile = tile_for_rows(job->k, job->s_out);
  job->n_tiles = job->tile > 0 ? ceil_div(job->s_out, job->tile) : 0;
  n_base = g->batch * g->group * job->n_tiles;
  job->m_block = channel_block(job->mg, n_base, MIN_ITEMS, CHANNEL_ALIGN);
  job->n_mblocks = ceil_div(job->mg, job->m_block);
  job->c_block = channel_block(job->cg, n_base, MIN_ITEMS, 1);
  job->n_cblocks = ceil_div(job->cg, job->c_block);
}

/* Floats of the shared im2col matrix, or 0 when every item builds its own
 * tile (pointwise, no channel split, or too large). */
static int64_t shared_floats(const struct gemm_job *job)
{
  int64_t size;
  /* channel blocks exist only when there are fewer than MIN_ITEMS tiles,
   * so the product below stays small */
  if (job->pointwise || job->n_mblocks < 2)
    return 0;
  size = job->g->batch * job->g->group * job->n_tiles * job->k * job->tile;
  return size > SHARED_COL_LIMIT ? 0 : size;
}

sc_status sc_conv_gemm(const struct sc_conv_geometry *g, int pointwise,
                       const float *x, const float *w, const float *bias,
                       float *y, struct sc_threadpool *threads,
                       struct sc_error *err)
{
  struct gemm_job job;
  int64_t n_base, shared;
  gemm_plan(g, pointwise, &job);
  job.x = x;
  job.w = w;
  job.bias = bias;
  job.y = y;
  n_base = g->batch * g->group * job.n_tiles;
  shared = shared_floats(&job);
  if (shared > 0) {
    job.shared = scratch_alloc(shared);
    if (!job.shared)
      return sc_fail_nomem(err, "im2col matrix");
    sc_parallel_for(threads, n_base * job.n_cblocks, 1, shared_im2col_range,
                    &job);
  }
  sc_parallel_for(threads, n_base * job.n_mblocks, 1, gemm_range, &job);
  free(job.shared);
  if (job.failed)
    return sc_fail_nomem(err, "im2col scratch buffer");
  return SC_OK;
}

/* --- ConvTranspose ------------------------------------------------------ */

struct transpose_job {
  const struct sc_conv_geometry *g;
  const float *x, *w, *bias;
  float *y;
  int64_t cg, mg, kvol, s_in, s_out;
  int64_t block, n_blocks; /* output channels per item */
  int64_t tile;            /* input columns per sgemm */
  int failed;
};

/* Adds the kw col rows of one (channel, kd, ky) over a run of `run` input
 * positions of one input row into the output row `row`: input column
 * ix0 + j reaches output column (ix0 + j) * stride - pad + kx * dilation.
 * Columns where every kx lands inside the row go position by position, all
 * kx together (contiguous writes when kernel = stride); the few border
 * positions go tap by tap. */
SC_CONV_CLONES
static void col2im_run(const struct sc_conv_geometry *g, const float *src,
                       int64_t cols, int64_t ix0, int64_t run, float *row)
{
  const int64_t sw = g->stride[2], dw = g->dilation[2], kw = g->kernel[2];
  const int64_t first = ix0 * sw - g->pad[2];
  int64_t lo = 0, hi = run, kx, j;
  for (kx = 0; kx < kw; kx++) {
    int64_t a, b;
    sc_conv_valid_range(first + kx * dw, sw, g->out[2], run, &a, &b);
    lo = a > lo ? a : lo;
    hi = b < hi ? b : hi;
  }
  if (hi < lo)
    hi = lo;
  for (j = lo; j < hi; j++) {
    float *out = row + first + j * sw;
    for (kx = 0; kx < kw; kx++)
      out[kx * dw] += src[kx * cols + j];
  }
  for (kx = 0; kx < kw; kx++) {
    int64_t a, b;
    sc_conv_valid_range(first + kx * dw, sw, g->out[2], run, &a, &b);
    for (j = a; j < b && j < lo; j++)
      row[first + kx * dw + j * sw] += src[kx * cols + j];
    for (j = hi > a ? hi : a; j < b; j++)
      row[first + kx * dw + j * sw] += src[kx * cols + j];
  }
}

/* Adds col rows (channels [m0, m1) x kernel offsets) over input positions
 * [s0, s0 + cols) into the output planes yg of the group. */
static void col2im_tile(const struct transpose_job *job, const float *col,
                        int64_t m0, int64_t m1, int64_t s0, int64_t cols,
                        float *yg)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t h = g->in[1], w = g->in[2];
  int64_t m, k0, k1;
  for (m = m0; m < m1; m++) {
    float *ym = yg + m * job->s_out;
    for (k0 = 0; k0 < g->kernel[0]; k0++)
      for (k1 = 0; k1 < g->kernel[1]; k1++) {
        int64_t s = s0, end = s0 + cols;
        while (s < end) {
          int64_t id = s / (h * w), iy = s / w % h, ix = s % w;
          int64_t run = end - s < w - ix ? end - s : w - ix;
          int64_t od = id * g->stride[0] - g->pad[0] + k0 * g->dilation[0];
          int64_t oy = iy * g->stride[1] - g->pad[1] + k1 * g->dilation[1];
          if (od >= 0 && od < g->out[0] && oy >= 0 && oy < g->out[1])
            col2im_run(g, col + (s - s0), cols, ix, run,
                       ym + (od * g->out[1] + oy) * g->out[2]);
          s += run;
        }
        col += g->kernel[2] * cols;
      }
  }
}

/* Output rows (flattened od * OH + oy) that input positions [0, s] can
 * reach, a bound that never decreases with s: exact in 2-D, whole depth
 * planes in 3-D. */
static int64_t rows_reached(const struct sc_conv_geometry *g, int64_t s)
{
  int64_t id = s / (g->in[1] * g->in[2]), iy = s / g->in[2] % g->in[1];
  int64_t od =
      id * g->stride[0] - g->pad[0] + (g->kernel[0] - 1) * g->dilation[0];
  int64_t oy =
      iy * g->stride[1] - g->pad[1] + (g->kernel[1] - 1) * g->dilation[1];
  if (od < 0)
    return 0;
  if (od >= g->out[0])
    return g->out[0] * g->out[1];
  if (g->in[0] > 1 || g->kernel[0] > 1)
    return (od + 1) * g->out[1];
  return oy < 0 ? 0 : oy >= g->out[1] ? g->out[1] : oy + 1;
}

/* Sets output rows [r0, r1) of channels [m0, m1) to their bias. */
static void fill_rows(const struct transpose_job *job, int64_t gi, int64_t m0,
                      int64_t m1, int64_t r0, int64_t r1, float *yg)
{
  const int64_t ow = job->g->out[2];
  int64_t m;
  for (m = m0; m < m1; m++)
    sc_conv_fill(yg + m * job->s_out + r0 * ow,
                 job->bias ? job->bias[gi * job->mg + m] : 0.0f,
                 (r1 - r0) * ow);
}

/* One item: output channels [m0, m1) of one image and group. The output
 * rows are set to the bias just before the first tile that reaches them,
 * so that they are still in cache when col2im adds to them. */
static void transpose_item(const struct transpose_job *job, int64_t item,
                           float *col)
{
  const struct sc_conv_geometry *g = job->g;
  int64_t b = item % job->n_blocks, gi = item / job->n_blocks % g->group;
  int64_t n = item / job->n_blocks / g->group;
  int64_t m0 = b * job->block;
  int64_t m1 = m0 + job->block < job->mg ? m0 + job->block : job->mg;
  const float *xg = job->x + (n * g->in_channels + gi * job->cg) * job->s_in;
  const float *wg = job->w + gi * job->cg * job->mg * job->kvol;
  float *yg = job->y + (n * g->out_channels + gi * job->mg) * job->s_out;
  int64_t s0, filled = 0;

  for (s0 = 0; s0 < job->s_in; s0 += job->tile) {
    int64_t cols = job->s_in - s0 < job->tile ? job->s_in - s0 : job->tile;
    int64_t reach = rows_reached(g, s0 + cols - 1);
    if (reach > filled) {
      fill_rows(job, gi, m0, m1, filled, reach, yg);
      filled = reach;
    }
    sc_sgemm(1, 0, (m1 - m0) * job->kvol, cols, job->cg, 1.0f,
             wg + m0 * job->kvol, job->mg * job->kvol, xg + s0, job->s_in, 0.0f,
             col, cols, NULL);
    col2im_tile(job, col, m0, m1, s0, cols, yg);
  }
  fill_rows(job, gi, m0, m1, filled, g->out[0] * g->out[1], yg);
}

static void transpose_range(void *ctx, int64_t begin, int64_t end)
{
  struct transpose_job *job = ctx;
  float *col = scratch_alloc(job->block * job->kvol * job->tile);
  int64_t item;
  if (!col) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  for (item = begin; item < end; item++)
    transpose_item(job, item, col);
  free(col);
}

/* Fills the sizes of a ConvTranspose job (no pointers). */
static void transpose_plan(const struct sc_conv_geometry *g,
                           struct transpose_job *job)
{
  memset(job, 0, sizeof *job);
  job->g = g;
  job->cg = g->in_channels / g->group;
  job->mg = g->out_channels / g->group;
  job->kvol = volume3(g->kernel);
  job->s_in = volume3(g->in);
  job->s_out = volume3(g->out);
  job->block = ceil_div(TRANSPOSE_ROWS, job->kvol);
  if (job->block > job->mg)
    job->block = job->mg;
  job->n_blocks = job->block > 0 ? ceil_div(job->mg, job->block) : 0;
  if (g->batch * g->group * job->n_blocks < TRANSPOSE_MIN_ITEMS &&
      job->block > 1) {
    job->block =
        channel_block(job->mg, g->batch * g->group, TRANSPOSE_MIN_ITEMS, 1);
    job->n_blocks = ceil_div(job->mg, job->block);
  }
  job->tile = tile_for_rows(job->block * job->kvol, job->s_in);
  if (job->tile < 1)
    job->tile = 1;
}

int64_t sc_conv_scratch_floats(const struct sc_conv_geometry *g,
                               enum sc_conv_path path, int transpose)
{
  if (transpose) {
    struct transpose_job job;
    transpose_plan(g, &job);
    return job.block * job.kvol * job.tile;
  }
  if (path == SC_CONV_PATH_IM2COL) {
    struct gemm_job job;
    gemm_plan(g, 0, &job);
    return shared_floats(&job) > 0 ? shared_floats(&job) : job.k * job.tile;
  }
  if (path == SC_CONV_PATH_PACKED)
    return sc_conv_packed_scratch_floats(g);
  if (path == SC_CONV_PATH_WINOGRAD)
    return sc_conv_winograd_scratch_floats(g);
  return 0;
}

sc_status sc_conv_transpose_gemm(const struct sc_conv_geometry *g,
                                 const float *x, const float *w,
                                 const float *bias, float *y,
                                 struct sc_threadpool *threads,
                                 struct sc_error *err)
{
  struct transpose_job job;
  transpose_plan(g, &job);
  job.x = x;
  job.w = w;
  job.bias = bias;
  job.y = y;
  sc_parallel_for(threads, g->batch * g->group * job.n_blocks, 1,
                  transpose_range, &job);
  if (job.failed)
    return sc_fail_nomem(err, "col2im scratch buffer");
  return SC_OK;
}
