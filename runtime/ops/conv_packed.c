/* Convolution as a blocked matrix product with our own micro-kernel
 * (SC_CONV_PATH_PACKED, see conv_kernels.h; docs/internals/KERNELS.md
 * explains the tiling and the measurements behind it).
 *
 * For image n and group g, Y[n, g] (Mg x S_out) = W[g] (Mg x K) * col
 * (K x S_out), col the im2col matrix, K = C/group * kernel volume:
 *   - W is packed once into panels of SC_PACKED_MR output channels
 *     (sc_conv_weights_pack; the Conv operator keeps them in its state);
 *   - col is never built whole, nor copied twice: the output positions
 *     are cut into column panels of SC_PACKED_NR, K into blocks of whole
 *     input channels (about KC_TARGET rows), and im2col writes a K block
 *     of a column panel straight into the layout the micro-kernel reads;
 *   - with few output channels, a full column panel inside one output
 *     row whose taps all lie inside the image is not written at all: the
 *     micro-kernel reads its rows in place (DIRECT_MAX_ROWS);
 *   - the micro-kernel multiplies one weights panel by one column panel,
 *     starting from the bias on the first K block and from the partial
 *     sums on the others; it writes the sums to a contiguous stage
 *     between K blocks and to Y after the last.
 * A work item covers a tile of column panels and a block of output
 * channels. Per K block it writes the K block of all its column panels
 * (with the stage at most TILE_BUDGET floats: L2), then passes every
 * weights panel over every column panel, so that a weights panel is
 * reused by the whole tile and output rows are written in long runs.
 * With few output channels and several K blocks it goes one column panel
 * at a time instead: the panel's K block stays in L1 while the (small)
 * weights stream past it.
 *
 * Threads: work items are (image, group, tile, block of output channels),
 * their sizes a function of the geometry only; every output element sums
 * its K products in index order, K block after K block, within one item,
 * so the bits do not depend on the thread count. Each thread allocates
 * its buffers once per range of items. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_packed.h"
#include "runtime/tensor.h"
#include "runtime/threadpool.h"

#define MR SC_PACKED_MR
#define NR SC_PACKED_NR
#define LANES SC_PACKED_LANES
/* K rows per block, a target: blocks hold whole input channels */
#ifndef KC_TARGET
#define KC_TARGET 192
#endif
/* column panels per work item, at most */
#ifndef TILE_PANELS
#define TILE_PANELS 16
#endif
/* floats of an item's column block plus its stage: 1 MB, half the L2
 * of current Xeons */
#ifndef TILE_BUDGET
#define TILE_BUDGET ((int64_t)256 * 1024)
#endif
/* at most this many output channels (per group) and several K blocks:
 * one column panel at a time */
#define PANEL_FIRST_ROWS 32
/* at most this many output channels (per group): column panels are read
 * in place where the geometry allows (sc_packed_direct_fn). With few
 * weights panels to share a filled panel, the fill is a large part of the
 * work: on 64 input channels at 512 x 512, one thread, 16 output channels
 * take 49 ms read in place against 57 ms filled, 1 channel 14 against 19;
 * from 64 output channels on, filled panels (aligned, in L2) are as fast
 * or up to 3% faster. */
#define DIRECT_MAX_ROWS 32
/* fewest work items wanted before tiles shrink and channels split */
#define MIN_ITEMS 8

struct sc_conv_weights {
  enum sc_conv_path path;         /* PACKED or WINOGRAD */
  int64_t out_channels, group, k; /* M, group, K = C/group * kvol */
  int64_t n_panels;               /* weights panels per group */
  /* PACKED: [group][n_panels][K][MR], rows past Mg zero; WINOGRAD: the
   * transformed weights, sc_conv_winograd_pack's layout */
  float *panels;
};

static int force_portable;

void sc_conv_packed_force_portable(int force)
{
  force_portable = force;
}

int sc_conv_packed_fast(void)
{
  struct sc_packed_kernels k;
  return !force_portable && sc_packed_avx512(&k);
}

static int no_direct;

void sc_conv_packed_disable_direct(int disable)
{
  no_direct = disable;
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

struct weights_job {
  const float *w;
  struct sc_conv_weights *p;
  int64_t mg;
};

/* Panels [begin, end) of all groups' (group-major) into p->panels. */
static void pack_weight_panels(void *ctx, int64_t begin, int64_t end)
{
  const struct weights_job *job = ctx;
  const struct sc_conv_weights *p = job->p;
  const int64_t k = p->k, mg = job->mg;
  int64_t i, r, j;
  for (i = begin; i < end; i++) {
    int64_t gi = i / p->n_panels, panel = i % p->n_panels;
    float *dst = p->panels + i * k * MR;
    for (r = 0; r < MR; r++) {
      int64_t m = panel * MR + r;
      const float *row = m < mg ? job->w + (gi * mg + m) * k : NULL;
      for (j = 0; j < k; j++)
        dst[j * MR + r] = row ? row[j] : 0.0f;
    }
  }
}

sc_status sc_conv_weights_pack_for(const struct sc_conv_geometry *g,
                                   enum sc_conv_path path, const float *w,
                                   struct sc_conv_weights **out,
                                   struct sc_error *err)
{
  return sc_conv_weights_pack_on(g, path, w, NULL, out, err);
}

sc_status sc_conv_weights_pack_on(const struct sc_conv_geometry *g,
                                  enum sc_conv_path path, const float *w,
                                  struct sc_threadpool *threads,
                                  struct sc_conv_weights **out,
                                  struct sc_error *err)
{
  struct sc_conv_weights *p;
  struct weights_job job;
  int64_t mg = g->out_channels / g->group, k = reduction_size(g);
  size_t size;

  *out = NULL;
  if ((path != SC_CONV_PATH_PACKED && path != SC_CONV_PATH_WINOGRAD) ||
      !sc_conv_path_applies(g, path))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "convolution weights cannot be packed for path %d",
                   (int)path);
  p = calloc(1, sizeof *p);
  if (!p)
    return sc_fail_nomem(err, "packed convolution weights");
  p->path = path;
  p->out_channels = g->out_channels;
  p->group = g->group;
  p->k = k;
  p->n_panels = ceil_div(mg, MR);
  if (path == SC_CONV_PATH_WINOGRAD)
    size = (size_t)sc_conv_winograd_weights_floats(g) * sizeof(float);
  else
    size =
        (size_t)(g->group * p->n_panels * MR * (k > 0 ? k : 1)) * sizeof(float);
  p->panels = sc_storage_alloc(size > 0 ? size : sizeof(float));
  if (!p->panels) {
    free(p);
    return sc_fail_nomem(err, "packed convolution weights");
  }
  *out = p;
  if (path == SC_CONV_PATH_WINOGRAD) {
    sc_conv_winograd_pack_on(g, w, p->panels, threads);
    return SC_OK;
  }
  job.w = w;
  job.p = p;
  job.mg = mg;
  sc_parallel_for(threads, g->group * p->n_panels, 1, pack_weight_panels, &job);
  return SC_OK;
}

sc_status sc_conv_weights_pack(const struct sc_conv_geometry *g, const float *w,
                               struct sc_conv_weights **out,
                               struct sc_error *err)
{
  return sc_conv_weights_pack_for(g, SC_CONV_PATH_PACKED, w, out, err);
}

enum sc_conv_path sc_conv_weights_path(const struct sc_conv_weights *p)
{
  return p->path;
}

const float *sc_conv_weights_data(const struct sc_conv_weights *p)
{
  return p->panels;
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
         p->k == reduction_size(g) &&
         (p->path != SC_CONV_PATH_WINOGRAD ||
          sc_conv_path_applies(g, SC_CONV_PATH_WINOGRAD));
}

/* --- portable inner loops (see conv_packed.h) ------------------------- */

/* The micro-kernel with rows and width as arguments; float sums in the
 * same order as the AVX-512 one (a product, then a sum: no fused
 * multiply-add in this build, so the bits may differ from it). */
static void tile_portable(int64_t rows, int64_t width, int64_t kc,
                          const float *a, const float *b, const float *in,
                          int64_t ldi, float *out, int64_t ldo, int64_t cols,
                          const float *bias, int relu)
{
  float acc[MR][NR];
  int64_t r, j, k;
  for (r = 0; r < rows; r++)
    for (j = 0; j < cols; j++)
      acc[r][j] = in ? in[r * ldi + j] : bias ? bias[r] : 0.0f;
  for (k = 0; k < kc; k++)
    for (r = 0; r < rows; r++) {
      float av = a[k * MR + r];
      for (j = 0; j < cols; j++)
        acc[r][j] += av * b[k * width + j];
    }
  if (relu)
    for (r = 0; r < rows; r++)
      for (j = 0; j < cols; j++)
        acc[r][j] = acc[r][j] < 0 ? 0 : acc[r][j];
  for (r = 0; r < rows; r++)
    memcpy(out + r * ldo, acc[r], (size_t)cols * sizeof(float));
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
  /* AVX-512 inner loops, or kern.fill == NULL for the portable ones */
  struct sc_packed_kernels kern;
  /* panels read in place (kern.direct): koff[k] for k < kb_channels *
   * kvol, from a panel's first tap; NULL when the geometry allows none */
  int64_t *koff;
  int64_t cg, mg, kvol, k, s_in, s_out;
  int64_t kb_channels, n_kblocks; /* input channels per K block */
  int64_t n_panels;               /* column panels per image and group */
  int64_t tile, n_tiles;          /* column panels per item */
  int64_t pass_panels;        /* column panels written per K block: tile or 1 */
  int64_t m_block, n_mblocks; /* output channels per item */
  int failed;                 /* a scratch allocation failed */
};

/* A thread's buffers, allocated once per range of items. */
struct packed_scratch {
  float *panels;              /* one K block of pass_panels panels */
  float *stage;               /* their partial sums, [panel][channel][NR] */
  struct sc_packed_tap *taps; /* kvol */
  int64_t *direct; /* pass_panels: a panel's base offset, or -1 (filled) */
};

/* The taps, in im2col row order, of a run of `run` output positions
 * starting at (od, oy, ox). */
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
        taps->ahead = -1;
        if (!inside)
          continue;
        sc_conv_valid_range(first, sw, w_in, run, &taps->lo, &taps->hi);
        if (taps->hi > taps->lo) {
          taps->offset = (id * h_in + iy) * w_in + first + taps->lo * sw;
          /* the input row's next positions, once per kernel row */
          if (kx == 0)
            taps->ahead = (run - taps->lo) * sw;
        }
      }
    }
  }
}

/* Writes the kc = n_channels * kvol im2col rows of the K block whose
 * first input channel is xc, over output positions [s0, s0 + len), as the
 * column panel `panel` (width = len rounded up to whole vectors; the
 * columns past len are zero). Runs of positions end at output row
 * boundaries. */
static void pack_panel(const struct packed_job *job, const float *xc,
                       int64_t n_channels, int64_t s0, int64_t len, int64_t kc,
                       float *panel, struct sc_packed_tap *taps)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t oh = g->out[1], ow = g->out[2];
  int64_t width = ceil_div(len, LANES) * LANES, s, k;
  for (s = s0; s < s0 + len;) {
    int64_t od = s / (oh * ow), oy = s / ow % oh, ox = s % ow;
    int64_t run = s0 + len - s < ow - ox ? s0 + len - s : ow - ox;
    run_taps(g, od, oy, ox, run, taps);
    if (job->kern.fill)
      job->kern.fill(xc, job->s_in, n_channels, taps, job->kvol, g->stride[2],
                     panel + (s - s0), width, run);
    else
      fill_portable(xc, job->s_in, n_channels, taps, job->kvol, g->stride[2],
                    panel + (s - s0), width, run);
    s += run;
  }
  if (width > len)
    for (k = 0; k < kc; k++)
      memset(panel + k * width + len, 0, (size_t)(width - len) * sizeof(float));
}

/* The operands of one item: output channels [m0, m0 + rows) of image n,
 * group gi, over output positions [s0, s0 + cols) (whole panels but the
 * last). */
struct packed_item {
  const float *x;    /* the group's first input channel */
  const float *w;    /* the first weights panel of the channels */
  const float *bias; /* their bias, or NULL */
  float *y;          /* output channel m0, position s0 */
  int64_t rows, s0, cols;
};

static void item_operands(const struct packed_job *job, int64_t item,
                          struct packed_item *it)
{
  const struct sc_conv_geometry *g = job->g;
  int64_t mb = item % job->n_mblocks, t = item / job->n_mblocks % job->n_tiles;
  int64_t gi = item / job->n_mblocks / job->n_tiles % g->group;
  int64_t n = item / job->n_mblocks / job->n_tiles / g->group;
  int64_t m0 = mb * job->m_block;
  it->s0 = t * job->tile * NR;
  it->cols = job->s_out - it->s0 < job->tile * NR ? job->s_out - it->s0
                                                  : job->tile * NR;
  it->rows = job->mg - m0 < job->m_block ? job->mg - m0 : job->m_block;
  it->x = job->x + (n * g->in_channels + gi * job->cg) * job->s_in;
  it->w = job->w->panels + (gi * job->w->n_panels + m0 / MR) * job->k * MR;
  it->bias = job->bias ? job->bias + gi * job->mg + m0 : NULL;
  it->y =
      job->y + (n * g->out_channels + gi * job->mg + m0) * job->s_out + it->s0;
}

/* out (ldo) = in (ld NR; NULL: the bias) + one weights panel a (rows
 * output channels, a K block of kc rows) times the column panel b (len
 * positions). */
static void multiply(const struct packed_job *job, int64_t rows, const float *a,
                     int64_t kc, const float *b, int64_t len, const float *in,
                     float *out, int64_t ldo, const float *bias, int relu)
{
  int64_t width = ceil_div(len, LANES) * LANES;
  if (job->kern.fill)
    job->kern.tiles[(rows - 1) * (NR / LANES) + width / LANES - 1](
        kc, a, b, in, NR, out, ldo, len, bias, relu);
  else
    tile_portable(rows, width, kc, a, b, in, NR, out, ldo, len, bias, relu);
}

/* The in-place base of the full column panel of output positions
 * [s, s + NR) (see sc_packed_direct_fn): the offset in a channel plane of
 * its first position's first tap, or -1 when the panel must be filled
 * (it spans two output rows or a tap reaches into the padding). */
static int64_t direct_base(const struct packed_job *job, int64_t s)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t oh = g->out[1], ow = g->out[2];
  int64_t o[3], first[3], i;
  o[0] = s / (oh * ow);
  o[1] = s / ow % oh;
  o[2] = s % ow;
  if (o[2] + NR > ow)
    return -1;
  for (i = 0; i < 3; i++) {
    int64_t last = i == 2 ? NR - 1 : 0;
    first[i] = o[i] * g->stride[i] - g->pad[i];
    if (first[i] < 0 ||
        first[i] + last + (g->kernel[i] - 1) * g->dilation[i] >= g->in[i])
      return -1;
  }
  return (first[0] * g->in[1] + first[1]) * g->in[2] + first[2];
}

/* An item, pass_panels column panels at a time (all of them, or one):
 * for each K block the panels are written, then each weights panel passes
 * over every one of them. The sums wait in the stage between K blocks and
 * go to y after the last. */
static void packed_item(const struct packed_job *job,
                        const struct packed_item *it,
                        const struct packed_scratch *scratch)
{
  const int64_t stage_rows = ceil_div(job->m_block, MR) * MR;
  int64_t g0, kb, m, p;
  for (g0 = 0; g0 < it->cols; g0 += job->pass_panels * NR) {
    int64_t g_cols = it->cols - g0 < job->pass_panels * NR
                         ? it->cols - g0
                         : job->pass_panels * NR;
    for (p = 0; p * NR < g_cols; p++)
      scratch->direct[p] = job->koff && g_cols - p * NR >= NR
                               ? direct_base(job, it->s0 + g0 + p * NR)
                               : -1;
    for (kb = 0; kb < job->n_kblocks; kb++) {
      int64_t c0 = kb * job->kb_channels;
      int64_t c1 =
          c0 + job->kb_channels < job->cg ? c0 + job->kb_channels : job->cg;
      int64_t kc = (c1 - c0) * job->kvol;
      int last = kb == job->n_kblocks - 1;
      for (p = 0; p * NR < g_cols; p++)
        if (scratch->direct[p] < 0)
          pack_panel(job, it->x + c0 * job->s_in, c1 - c0, it->s0 + g0 + p * NR,
                     g_cols - p * NR < NR ? g_cols - p * NR : NR, kc,
                     scratch->panels + p * NR * kc, scratch->taps);
      for (m = 0; m < it->rows; m += MR) {
        int64_t r = it->rows - m < MR ? it->rows - m : MR;
        const float *a = it->w + (m / MR) * job->k * MR + c0 * job->kvol * MR;
        for (p = 0; p * NR < g_cols; p++) {
          int64_t len = g_cols - p * NR < NR ? g_cols - p * NR : NR;
          float *stage = scratch->stage + (p * stage_rows + m) * NR;
          float *out = last ? it->y + m * job->s_out + g0 + p * NR : stage;
          int64_t ldo = last ? job->s_out : NR;
          const float *bias = it->bias ? it->bias + m : NULL;
          int relu = last && job->g->relu;
          if (scratch->direct[p] >= 0)
            job->kern.direct[r - 1](
                kc, a, it->x + c0 * job->s_in + scratch->direct[p], job->koff,
                kb > 0 ? stage : NULL, NR, out, ldo, bias, relu);
          else
            multiply(job, r, a, kc, scratch->panels + p * NR * kc, len,
                     kb > 0 ? stage : NULL, out, ldo, bias, relu);
        }
      }
    }
  }
}

/* Floats of a thread's column panels and stage (none for one K block). */
static int64_t panels_floats(const struct packed_job *job)
{
  return job->kb_channels * job->kvol * NR * job->pass_panels;
}

static int64_t stage_floats(const struct packed_job *job)
{
  if (job->n_kblocks < 2)
    return 0;
  return ceil_div(job->m_block, MR) * MR * NR * job->pass_panels;
}

static void packed_range(void *ctx, int64_t begin, int64_t end)
{
  struct packed_job *job = ctx;
  size_t size =
      (size_t)(panels_floats(job) + stage_floats(job)) * sizeof(float);
  struct packed_scratch scratch;
  int64_t item;
  scratch.panels = sc_scratch_take(size);
  scratch.stage = scratch.panels ? scratch.panels + panels_floats(job) : NULL;
  scratch.taps = malloc((size_t)job->kvol * sizeof *scratch.taps);
  scratch.direct = malloc((size_t)job->pass_panels * sizeof *scratch.direct);
  if (scratch.panels && scratch.taps && scratch.direct)
    for (item = begin; item < end; item++) {
      struct packed_item it;
      item_operands(job, item, &it);
      packed_item(job, &it, &scratch);
    }
  else
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
  sc_scratch_give(scratch.panels);
  free(scratch.taps);
  free(scratch.direct);
}

/* Fills the sizes of a job (no pointers). */
static void packed_plan(const struct sc_conv_geometry *g,
                        struct packed_job *job)
{
  int64_t per_block, n_base, widest, m_rows;
  memset(job, 0, sizeof *job);
  job->g = g;
  job->cg = g->in_channels / g->group;
  job->mg = g->out_channels / g->group;
  job->kvol = volume3(g->kernel);
  job->k = job->cg * job->kvol;
  job->s_in = volume3(g->in);
  job->s_out = volume3(g->out);
  job->n_panels = ceil_div(job->s_out, NR);

  /* K blocks of whole input channels, as even as possible */
  per_block = KC_TARGET / job->kvol > 0 ? KC_TARGET / job->kvol : 1;
  job->n_kblocks = ceil_div(job->cg, per_block);
  job->kb_channels = job->n_kblocks > 0 ? ceil_div(job->cg, job->n_kblocks) : 0;

  /* Several K blocks and few output channels: one column panel at a time
   * (its K block stays in L1, the weights are small). Otherwise the
   * item's whole column block at once, the weights block reused by all
   * its panels. */
  m_rows = ceil_div(job->mg, MR) * MR;
  if (job->n_kblocks > 1 && job->mg <= PANEL_FIRST_ROWS) {
    widest = TILE_PANELS;
  } else {
    int64_t rows = job->kb_channels * job->kvol;
    if (job->n_kblocks > 1)
      rows += m_rows; /* the stage */
    widest = TILE_BUDGET / (rows * NR);
  }
  if (widest > TILE_PANELS)
    widest = TILE_PANELS;
  if (widest < 1)
    widest = 1;

  /* fewer panels per item when there are too few items */
  job->n_tiles = ceil_div(job->n_panels, widest);
  n_base = g->batch * g->group;
  if (n_base * job->n_tiles < MIN_ITEMS)
    job->n_tiles = ceil_div(MIN_ITEMS, n_base);
  if (job->n_tiles > job->n_panels)
    job->n_tiles = job->n_panels;
  job->tile = ceil_div(job->n_panels, job->n_tiles);
  job->n_tiles = ceil_div(job->n_panels, job->tile);
  job->pass_panels =
      job->n_kblocks > 1 && job->mg <= PANEL_FIRST_ROWS ? 1 : job->tile;

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
  return panels_floats(&job) + stage_floats(&job);
}

/* Y = bias (or 0) everywhere, through the fused Relu if any: the
 * convolution has no input channels. */
static void fill_bias(const struct sc_conv_geometry *g, const float *bias,
                      float *y)
{
  int64_t s_out = volume3(g->out), n, m, j;
  for (n = 0; n < g->batch; n++)
    for (m = 0; m < g->out_channels; m++, y += s_out)
      for (j = 0; j < s_out; j++) {
        float v = bias ? bias[m] : 0.0f;
        y[j] = g->relu && v < 0 ? 0 : v;
      }
}

/* job->koff: where row k = (channel c, tap (kd, ky, kx)) of a K block
 * reads, from the K block's first channel at the panel's first tap. */
static sc_status direct_offsets(struct packed_job *job, struct sc_error *err)
{
  const struct sc_conv_geometry *g = job->g;
  int64_t c, kd, ky, kx, k = 0;
  job->koff =
      malloc((size_t)(job->kb_channels * job->kvol) * sizeof *job->koff);
  if (!job->koff)
    return sc_fail_nomem(err, "convolution offsets");
  for (c = 0; c < job->kb_channels; c++)
    for (kd = 0; kd < g->kernel[0]; kd++)
      for (ky = 0; ky < g->kernel[1]; ky++)
        for (kx = 0; kx < g->kernel[2]; kx++)
          job->koff[k++] =
              c * job->s_in +
              (kd * g->dilation[0] * g->in[1] + ky * g->dilation[1]) *
                  g->in[2] +
              kx * g->dilation[2];
  return SC_OK;
}

sc_status sc_conv_packed(const struct sc_conv_geometry *g, const float *x,
                         const float *w, const struct sc_conv_weights *packed,
                         const float *bias, float *y,
                         struct sc_threadpool *threads, struct sc_error *err)
{
  struct sc_conv_weights *own = NULL;
  struct packed_job job;
  sc_status st;

  if (packed && (!sc_conv_weights_match(packed, g) ||
                 packed->path != SC_CONV_PATH_PACKED))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "packed convolution weights were packed for another "
                   "shape or path");
  packed_plan(g, &job);
  if (job.k == 0) {
    fill_bias(g, bias, y);
    return SC_OK;
  }
  if (!packed) { /* per call: the panels on the call's threads */
    st = sc_conv_weights_pack_on(g, SC_CONV_PATH_PACKED, w, threads, &own, err);
    if (st)
      return st;
    packed = own;
  }
  job.x = x;
  job.w = packed;
  job.bias = bias;
  job.y = y;
  if (force_portable || !sc_packed_avx512(&job.kern))
    job.kern.fill = NULL;
  if (job.kern.fill && !no_direct && job.mg <= DIRECT_MAX_ROWS &&
      g->stride[2] == 1 && g->out[2] >= NR) {
    st = direct_offsets(&job, err);
    if (st) {
      sc_conv_weights_free(own);
      return st;
    }
  }
  sc_parallel_for(threads, g->batch * g->group * job.n_tiles * job.n_mblocks, 1,
                  packed_range, &job);
  sc_conv_weights_free(own);
  free(job.koff);
  if (job.failed)
    return sc_fail_nomem(err, "convolution scratch buffers");
  return SC_OK;
}
