/* Convolution as a blocked matrix product with our own micro-kernel
 * (SC_CONV_PATH_PACKED, see conv_kernels.h; docs/internals/KERNELS.md
 * explains the tiling).
 *
 * For image n and group g, Y[n, g] (Mg x S_out) = W[g] (Mg x K) * col
 * (K x S_out), col the im2col matrix, K = C/group * kernel volume:
 *   - W is packed once into panels of SC_PACKED_MR output channels
 *     (sc_conv_weights_pack; the Conv operator keeps them in its state);
 *   - col is never built whole, nor copied twice: for each block of
 *     output columns and each block of K rows (whole input channels,
 *     about KC_TARGET rows), im2col writes the rows straight into column
 *     panels of SC_PACKED_NR positions, the layout the micro-kernel reads;
 *   - the micro-kernel multiplies one weights panel by one column panel
 *     into C = Y, starting from the bias on the first K block and from C
 *     on the others.
 * The K block's column panel (K block x 48 floats, at most 36 KB) stays in
 * L1 while every weights panel of the item passes over it; the column
 * block and the output tile stay in L2 (TILE_BUDGET).
 *
 * Threads: work items are (image, group, column tile, block of output
 * channels), their sizes a function of the geometry only; within an item
 * every output element sums its K products in index order, K block after
 * K block, so the bits do not depend on the thread count. Each thread
 * allocates its column block once per range of items. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_packed.h"
#include "runtime/threadpool.h"

#define MR SC_PACKED_MR
#define NR SC_PACKED_NR
#define LANES SC_PACKED_LANES
/* K rows per block, a target: blocks hold whole input channels */
#ifndef KC_TARGET
#define KC_TARGET 192
#endif
/* floats of one item's column block (K block x columns) plus its output
 * tile (channels x columns): 1 MB, half the L2 of current Xeons */
#ifndef TILE_BUDGET
#define TILE_BUDGET ((int64_t)256 * 1024)
#endif
/* fewest work items wanted before tiles shrink and channels split */
#define MIN_ITEMS 8

struct sc_conv_weights {
  int64_t out_channels, group, k; /* M, group, K = C/group * kvol */
  int64_t n_panels;               /* weights panels per group */
  float *panels; /* [group][n_panels][K][MR], rows past Mg zero */
};

static int force_portable;

void sc_conv_packed_force_portable(int force)
{
  force_portable = force;
}

int sc_conv_packed_fast(void)
{
  sc_packed_tile_fn tiles[SC_PACKED_N_TILES];
  sc_packed_fill_fn fill;
  return !force_portable && sc_packed_avx512(tiles, &fill);
}

static int64_t ceil_div(int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

static int64_t volume3(const int64_t *v)
{
  return v[0] * v[1] * v[2];
}

/* K of one group: input channels per group times the kernel volume. */
static int64_t reduction_size(const struct sc_conv_geometry *g)
{
  return g->in_channels / g->group * volume3(g->kernel);
}

sc_status sc_conv_weights_pack(const struct sc_conv_geometry *g, const float *w,
                               struct sc_conv_weights **out,
                               struct sc_error *err)
{
  struct sc_conv_weights *p;
  int64_t mg = g->out_channels / g->group, k = reduction_size(g);
  int64_t gi, panel, r, j;
  size_t size;

  *out = NULL;
  p = calloc(1, sizeof *p);
  if (!p)
    return sc_fail_nomem(err, "packed convolution weights");
  p->out_channels = g->out_channels;
  p->group = g->group;
  p->k = k;
  p->n_panels = ceil_div(mg, MR);
  size =
      (size_t)(g->group * p->n_panels * MR * (k > 0 ? k : 1)) * sizeof(float);
  p->panels = aligned_alloc(64, (size + 63) / 64 * 64);
  if (!p->panels) {
    free(p);
    return sc_fail_nomem(err, "packed convolution weights");
  }
  for (gi = 0; gi < g->group; gi++)
    for (panel = 0; panel < p->n_panels; panel++) {
      float *dst = p->panels + (gi * p->n_panels + panel) * k * MR;
      for (r = 0; r < MR; r++) {
        int64_t m = panel * MR + r;
        const float *row = m < mg ? w + (gi * mg + m) * k : NULL;
        for (j = 0; j < k; j++)
          dst[j * MR + r] = row ? row[j] : 0.0f;
      }
    }
  *out = p;
  return SC_OK;
}

void sc_conv_weights_free(struct sc_conv_weights *p)
{
  if (!p)
    return;
  free(p->panels);
  free(p);
}

int sc_conv_weights_match(const struct sc_conv_weights *p,
                          const struct sc_conv_geometry *g)
{
  return p && p->out_channels == g->out_channels && p->group == g->group &&
         p->k == reduction_size(g);
}

/* --- portable inner loops (see conv_packed.h) ------------------------- */

/* The micro-kernel with rows and width as arguments; float sums in the
 * same order as the AVX-512 one (a product, then a sum: no fused
 * multiply-add in this build, so the bits may differ from it). */
static void tile_portable(int64_t rows, int64_t width, int64_t kc,
                          const float *a, const float *b, float *c, int64_t ldc,
                          int64_t cols, const float *bias, int accumulate)
{
  float acc[MR][NR];
  int64_t r, j, k;
  for (r = 0; r < rows; r++)
    for (j = 0; j < cols; j++)
      acc[r][j] = accumulate ? c[r * ldc + j] : bias ? bias[r] : 0.0f;
  for (k = 0; k < kc; k++)
    for (r = 0; r < rows; r++) {
      float av = a[k * MR + r];
      for (j = 0; j < cols; j++)
        acc[r][j] += av * b[k * width + j];
    }
  for (r = 0; r < rows; r++)
    memcpy(c + r * ldc, acc[r], (size_t)cols * sizeof(float));
}

static void fill_portable(const float *x, int64_t plane, int64_t n_channels,
                          const struct sc_packed_tap *taps, int64_t n_taps,
                          int64_t stride, float *dst, int64_t width,
                          int64_t len)
{
  int64_t c, t, j;
  for (c = 0; c < n_channels; c++) {
    const float *xc = x + c * plane;
    for (t = 0; t < n_taps; t++, dst += width) {
      const struct sc_packed_tap *tap = &taps[t];
      for (j = 0; j < tap->lo; j++)
        dst[j] = 0.0f;
      for (j = tap->lo; j < tap->hi; j++)
        dst[j] = xc[tap->offset + (j - tap->lo) * stride];
      for (j = tap->hi; j < len; j++)
        dst[j] = 0.0f;
    }
  }
}

/* --- the path ----------------------------------------------------------- */

struct packed_job {
  const struct sc_conv_geometry *g;
  const float *x, *bias;
  const struct sc_conv_weights *w;
  float *y;
  /* AVX-512 inner loops, or fill == NULL for the portable ones */
  sc_packed_tile_fn tiles[SC_PACKED_N_TILES];
  sc_packed_fill_fn fill;
  int64_t cg, mg, kvol, k, s_in, s_out;
  int64_t kb_channels, n_kblocks; /* input channels per K block */
  int64_t tile, n_tiles;          /* output columns per item */
  int64_t m_block, n_mblocks;     /* output channels per item */
  int failed;                     /* a scratch allocation failed */
};

/* Range [lo, hi) of j in [0, run) with 0 <= first + j * step < size. */
static void valid_range(int64_t first, int64_t step, int64_t size, int64_t run,
                        int64_t *lo, int64_t *hi)
{
  int64_t a = first >= 0 ? 0 : ceil_div(-first, step);
  int64_t b = first > size - 1 ? 0 : (size - 1 - first) / step + 1;
  if (a > run)
    a = run;
  if (b > run)
    b = run;
  if (b < a)
    b = a;
  *lo = a;
  *hi = b;
}

/* The taps of a run of `run` output positions starting at (od, oy, ox). */
static void run_taps(const struct sc_conv_geometry *g, int64_t od, int64_t oy,
                     int64_t ox, int64_t run, struct sc_packed_tap *taps)
{
  const int64_t d_in = g->in[0], h_in = g->in[1], w_in = g->in[2];
  const int64_t sw = g->stride[2];
  int64_t kd, ky, kx;
  for (kd = 0; kd < g->kernel[0]; kd++) {
    int64_t id = od * g->stride[0] - g->pad[0] + kd * g->dilation[0];
    for (ky = 0; ky < g->kernel[1]; ky++) {
      int64_t iy = oy * g->stride[1] - g->pad[1] + ky * g->dilation[1];
      int inside = id >= 0 && id < d_in && iy >= 0 && iy < h_in;
      for (kx = 0; kx < g->kernel[2]; kx++, taps++) {
        int64_t first = ox * sw - g->pad[2] + kx * g->dilation[2];
        taps->offset = 0;
        taps->lo = taps->hi = 0;
        if (!inside)
          continue;
        valid_range(first, sw, w_in, run, &taps->lo, &taps->hi);
        if (taps->hi > taps->lo)
          taps->offset = (id * h_in + iy) * w_in + first + taps->lo * sw;
      }
    }
  }
}

/* Writes the column block of input channels [0, n_channels) of xc (the
 * first channel of the K block) over output columns [s0, s0 + cols): kc
 * rows, as column panels of NR positions at block + p * NR * kc. Runs of
 * positions end at panel and output row boundaries. */
static void pack_columns(const struct packed_job *job, const float *xc,
                         int64_t n_channels, int64_t s0, int64_t cols,
                         int64_t kc, float *block, struct sc_packed_tap *taps)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t oh = g->out[1], ow = g->out[2];
  int64_t p;
  for (p = 0; p * NR < cols; p++) {
    int64_t p0 = s0 + p * NR, pc = cols - p * NR < NR ? cols - p * NR : NR;
    int64_t width = ceil_div(pc, LANES) * LANES, s, k;
    float *panel = block + p * NR * kc;
    for (s = p0; s < p0 + pc;) {
      int64_t od = s / (oh * ow), oy = s / ow % oh, ox = s % ow;
      int64_t run = p0 + pc - s < ow - ox ? p0 + pc - s : ow - ox;
      run_taps(g, od, oy, ox, run, taps);
      if (job->fill)
        job->fill(xc, job->s_in, n_channels, taps, job->kvol, g->stride[2],
                  panel + (s - p0), width, run);
      else
        fill_portable(xc, job->s_in, n_channels, taps, job->kvol, g->stride[2],
                      panel + (s - p0), width, run);
      s += run;
    }
    if (width > pc)
      for (k = 0; k < kc; k++)
        memset(panel + k * width + pc, 0, (size_t)(width - pc) * sizeof(float));
  }
}

/* One item: output channels [m0, m0 + rows) of image n, group gi over
 * output columns [s0, s0 + cols). */
static void packed_item(const struct packed_job *job, int64_t item,
                        float *block, struct sc_packed_tap *taps)
{
  const struct sc_conv_geometry *g = job->g;
  int64_t mb = item % job->n_mblocks, t = item / job->n_mblocks % job->n_tiles;
  int64_t gi = item / job->n_mblocks / job->n_tiles % g->group;
  int64_t n = item / job->n_mblocks / job->n_tiles / g->group;
  int64_t m0 = mb * job->m_block, s0 = t * job->tile;
  int64_t rows = job->mg - m0 < job->m_block ? job->mg - m0 : job->m_block;
  int64_t cols = job->s_out - s0 < job->tile ? job->s_out - s0 : job->tile;
  const float *xg = job->x + (n * g->in_channels + gi * job->cg) * job->s_in;
  const float *wg =
      job->w->panels + (gi * job->w->n_panels + m0 / MR) * job->k * MR;
  const float *bias = job->bias ? job->bias + gi * job->mg + m0 : NULL;
  float *yg =
      job->y + (n * g->out_channels + gi * job->mg + m0) * job->s_out + s0;
  int64_t kb, p, m;

  for (kb = 0; kb < job->n_kblocks; kb++) {
    int64_t c0 = kb * job->kb_channels;
    int64_t c1 =
        c0 + job->kb_channels < job->cg ? c0 + job->kb_channels : job->cg;
    int64_t k0 = c0 * job->kvol, kc = (c1 - c0) * job->kvol;
    pack_columns(job, xg + c0 * job->s_in, c1 - c0, s0, cols, kc, block, taps);
    for (p = 0; p * NR < cols; p++) {
      int64_t pc = cols - p * NR < NR ? cols - p * NR : NR;
      int64_t width = ceil_div(pc, LANES) * LANES;
      const float *b = block + p * NR * kc;
      for (m = 0; m < rows; m += MR) {
        int64_t r = rows - m < MR ? rows - m : MR;
        const float *a = wg + (m / MR) * job->k * MR + k0 * MR;
        float *c = yg + m * job->s_out + p * NR;
        const float *bm = bias ? bias + m : NULL;
        if (job->fill)
          job->tiles[(r - 1) * (NR / LANES) + width / LANES - 1](
              kc, a, b, c, job->s_out, pc, bm, kb > 0);
        else
          tile_portable(r, width, kc, a, b, c, job->s_out, pc, bm, kb > 0);
      }
    }
  }
}

static void packed_range(void *ctx, int64_t begin, int64_t end)
{
  struct packed_job *job = ctx;
  size_t block_size =
      (size_t)(job->tile * job->kb_channels * job->kvol) * sizeof(float);
  float *block = aligned_alloc(64, (block_size + 63) / 64 * 64);
  struct sc_packed_tap *taps = malloc((size_t)job->kvol * sizeof *taps);
  int64_t item;
  if (block && taps)
    for (item = begin; item < end; item++)
      packed_item(job, item, block, taps);
  else
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
  free(block);
  free(taps);
}

/* Fills the sizes of a job (no pointers). */
static void packed_plan(const struct sc_conv_geometry *g,
                        struct packed_job *job)
{
  int64_t per_block, n_panels, widest, n_base, kc;
  memset(job, 0, sizeof *job);
  job->g = g;
  job->cg = g->in_channels / g->group;
  job->mg = g->out_channels / g->group;
  job->kvol = volume3(g->kernel);
  job->k = job->cg * job->kvol;
  job->s_in = volume3(g->in);
  job->s_out = volume3(g->out);

  /* K blocks of whole input channels, as even as possible */
  per_block = KC_TARGET / job->kvol > 0 ? KC_TARGET / job->kvol : 1;
  job->n_kblocks = ceil_div(job->cg, per_block);
  job->kb_channels = job->n_kblocks > 0 ? ceil_div(job->cg, job->n_kblocks) : 0;
  kc = job->kb_channels * job->kvol;

  /* column tiles of whole panels within the budget, more of them when
   * there are too few items */
  n_panels = ceil_div(job->s_out, NR);
  widest = TILE_BUDGET / (kc + job->mg) / NR;
  if (widest < 1)
    widest = 1;
  job->n_tiles = ceil_div(n_panels, widest);
  n_base = g->batch * g->group;
  if (n_base * job->n_tiles < MIN_ITEMS)
    job->n_tiles = ceil_div(MIN_ITEMS, n_base);
  if (job->n_tiles > n_panels)
    job->n_tiles = n_panels;
  job->tile = ceil_div(n_panels, job->n_tiles) * NR;
  job->n_tiles = ceil_div(job->s_out, job->tile);

  /* blocks of output channels when tiles alone are too few */
  job->m_block = job->mg;
  if (n_base * job->n_tiles < MIN_ITEMS && job->mg > MR) {
    int64_t want = ceil_div(MIN_ITEMS, n_base * job->n_tiles);
    job->m_block = ceil_div(ceil_div(job->mg, want), MR) * MR;
  }
  job->n_mblocks = ceil_div(job->mg, job->m_block);
}

int64_t sc_conv_packed_scratch_floats(const struct sc_conv_geometry *g)
{
  struct packed_job job;
  packed_plan(g, &job);
  return job.tile * job.kb_channels * job.kvol;
}

/* Y = bias (or 0) everywhere: the convolution has no input channels. */
static void fill_bias(const struct sc_conv_geometry *g, const float *bias,
                      float *y)
{
  int64_t s_out = volume3(g->out), n, m, j;
  for (n = 0; n < g->batch; n++)
    for (m = 0; m < g->out_channels; m++, y += s_out)
      for (j = 0; j < s_out; j++)
        y[j] = bias ? bias[m] : 0.0f;
}

sc_status sc_conv_packed(const struct sc_conv_geometry *g, const float *x,
                         const float *w, const struct sc_conv_weights *packed,
                         const float *bias, float *y,
                         struct sc_threadpool *threads, struct sc_error *err)
{
  struct sc_conv_weights *own = NULL;
  struct packed_job job;
  sc_status st;

  if (packed && !sc_conv_weights_match(packed, g))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "packed convolution weights were packed for another "
                   "shape");
  packed_plan(g, &job);
  if (job.k == 0) {
    fill_bias(g, bias, y);
    return SC_OK;
  }
  if (!packed) {
    st = sc_conv_weights_pack(g, w, &own, err);
    if (st)
      return st;
    packed = own;
  }
  job.x = x;
  job.w = packed;
  job.bias = bias;
  job.y = y;
  if (force_portable || !sc_packed_avx512(job.tiles, &job.fill))
    job.fill = NULL;
  sc_parallel_for(threads, g->batch * g->group * job.n_tiles * job.n_mblocks, 1,
                  packed_range, &job);
  sc_conv_weights_free(own);
  if (job.failed)
    return sc_fail_nomem(err, "im2col column block");
  return SC_OK;
}
