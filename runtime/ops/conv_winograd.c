/* Winograd F(4x4, 3x3) convolution (SC_CONV_PATH_WINOGRAD, see
 * conv_kernels.h; docs/internals/KERNELS.md has the measurements).
 *
 * A 4x4 block of outputs of a 3x3 convolution with stride 1 is
 *   Y = A^T [ sum_c (G g_mc G^T) .* (B^T d_c B) ] A
 * for the 6x6 input block d_c of each input channel c (Lavin and Gray,
 * "Fast Algorithms for Convolutional Neural Networks", 2016; the
 * matrices below are theirs). The sum over channels is, for each of the 36
 * points xi of the 6x6 grid, a matrix product
 *   M[xi] (maps x tiles) = U[xi] (maps x channels) * V[xi] (channels x tiles)
 * with U = G g G^T, the weights transformed once (sc_conv_winograd_pack, in
 * double, rounded once), and V = B^T d B. That is 36 products of C
 * multiply-adds per 16 outputs against 9 * 16 for the direct sum: 4 times
 * fewer. The products run on the packed path's micro-kernel
 * (conv_packed.h), U laid out as its weights panels and V as its column
 * panels.
 *
 * Accuracy: the transforms add rounding the direct sum does not have (B^T
 * has entries up to 5, A^T up to 8), so a result differs from the exact sum
 * by more than the direct path's: by up to 3e-6 of the sum of the
 * magnitudes of its products in the tests (tests/runtime/test_conv.c
 * bounds it). sc_conv_path_choose takes this path only for layers large
 * enough to gain (conv_kernels.c).
 *
 * A group is 16 consecutive tiles (4x4 outputs each) of one tile row, a
 * lane per tile; a work item is up to 3 consecutive groups (48 columns of
 * the micro-kernel's widest panel), across rows and images. Per group and
 * input channel, the 6 input rows its tiles read are combined along the
 * rows (B^T on the left) into a small buffer, then along the columns (B
 * on the right), the stride-4 columns taken out with permutes; V goes to
 * the item's column panels. After the 36 products, each map's 36 values
 * per tile are combined (A^T on the left, A on the right), the bias
 * added, the Relu applied and the 4x4 blocks interleaved back into output
 * rows. Each output element depends on its item alone: the bits do not
 * depend on the thread count.
 *
 * AVX-512F only (it reuses the packed path's AVX-512F micro-kernel):
 * sc_conv_path_applies says no on other CPUs. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_packed.h"
#include "runtime/threadpool.h"

#define MR SC_PACKED_MR
#define LANES SC_PACKED_LANES
#define TILE 4    /* outputs per tile side */
#define ALPHA 6   /* inputs per tile side: TILE + 3 - 1 */
#define POINTS 36 /* ALPHA * ALPHA */
/* floats of an item's column panels and products, at most (4 MB: the
 * products read a point's panel, C x 48 floats, from L1 and L2; the whole
 * may spill to L3) */
#define SCRATCH_BUDGET ((int64_t)1024 * 1024)

static int64_t ceil_div(int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

int64_t sc_conv_winograd_weights_floats(const struct sc_conv_geometry *g)
{
  return POINTS * ceil_div(g->out_channels, MR) * MR * g->in_channels;
}

/* G (6 x 3) of F(4x4, 3x3) times the 3 values g, in double (products by
 * the doubles nearest 1/6 and 1/24: the result is rounded to float). */
static inline void g_times(double g0, double g1, double g2, double *out)
{
  const double sixth = 1.0 / 6, even = (g0 + g2) * sixth, odd = g1 * sixth;
  const double even24 = (g0 * (1.0 / 24) + g2 * sixth), odd12 = g1 * (1.0 / 12);
  out[0] = g0 * 0.25;
  out[1] = -even - odd;
  out[2] = -even + odd;
  out[3] = even24 + odd12;
  out[4] = even24 - odd12;
  out[5] = g2;
}

struct pack_job {
  const struct sc_conv_geometry *g;
  const float *w;
  float *u;
};

/* Panels [p0, p1) of sc_conv_winograd_pack: each writes its own floats. */
static void pack_panels(void *ctx, int64_t p0, int64_t p1)
{
  const struct pack_job *job = ctx;
  const struct sc_conv_geometry *g = job->g;
  const float *w = job->w;
  float *u = job->u;
  const int64_t c_in = g->in_channels, maps = g->out_channels;
  const int64_t panels = ceil_div(maps, MR), stride = panels * c_in * MR;
  int64_t p, c, r;
  int i, j;

  for (p = p0; p < p1; p++)
    for (c = 0; c < c_in; c++)
      for (r = 0; r < MR; r++) {
        int64_t m = p * MR + r;
        float *dst = u + (p * c_in + c) * MR + r; /* point xi at xi * stride */
        const float *k3;
        double cols[3][ALPHA], row[ALPHA];
        if (m >= maps) { /* rows past the last map: zero */
          for (i = 0; i < POINTS; i++)
            dst[i * stride] = 0.0f;
          continue;
        }
        k3 = w + (m * c_in + c) * 9;
        for (j = 0; j < 3; j++) /* G g: column j */
          g_times(k3[j], k3[3 + j], k3[6 + j], cols[j]);
        for (i = 0; i < ALPHA; i++) { /* (G g) G^T: row i */
          g_times(cols[0][i], cols[1][i], cols[2][i], row);
          for (j = 0; j < ALPHA; j++)
            dst[(i * ALPHA + j) * stride] = (float)row[j];
        }
      }
}

void sc_conv_winograd_pack_on(const struct sc_conv_geometry *g, const float *w,
                              float *u, struct sc_threadpool *threads)
{
  struct pack_job job;
  job.g = g;
  job.w = w;
  job.u = u;
  sc_parallel_for(threads, ceil_div(g->out_channels, MR), 1, pack_panels, &job);
}

void sc_conv_winograd_pack(const struct sc_conv_geometry *g, const float *w,
                           float *u)
{
  sc_conv_winograd_pack_on(g, w, u, NULL);
}

#if defined(__x86_64__) && defined(__GNUC__)

#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE_AVX512                                                          \
  static inline __attribute__((always_inline, target("avx512f")))

struct winograd_job {
  const struct sc_conv_geometry *g;
  const float *x, *u, *bias;
  float *y;
  struct sc_packed_kernels kern;
  int64_t c_in, maps, panels;
  int64_t tiles_h, tiles_w; /* tiles per column and per row */
  int64_t groups_w;         /* groups of LANES tiles per tile row */
  int64_t n_groups;         /* in all images */
  int64_t per_item;         /* groups per work item: 1 to 3 */
  int64_t n_items;
  int failed;
};

/* The LANES tiles (fewer at the end of a row) of one group, a lane each. */
struct group {
  int64_t n, ty, tx0, n_tiles;
};

static struct group group_at(const struct winograd_job *job, int64_t index)
{
  struct group gr;
  int64_t per_image = job->tiles_h * job->groups_w;
  gr.n = index / per_image;
  gr.ty = index % per_image / job->groups_w;
  gr.tx0 = index % job->groups_w * LANES;
  gr.n_tiles = job->tiles_w - gr.tx0 < LANES ? job->tiles_w - gr.tx0 : LANES;
  return gr;
}

/* Floats of one row of the row-combined buffer: the 64 + 2 columns 16
 * tiles read, in whole vectors. */
#define ROW_FLOATS (TILE * LANES + LANES)

/* Lanes [0, n) of a vector, n in [0, 16]. */
static inline __mmask16 lanes(int64_t n)
{
  return n <= 0 ? 0 : n >= 16 ? 0xffff : (__mmask16)(0xffffu >> (16 - n));
}

/* B^T applied to six vectors d0..d5 (rows or stride-4 columns). */
#define B_TRANSPOSED(d0, d1, d2, d3, d4, d5, t)                                \
  do {                                                                         \
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f);     \
    __m512 a_ = _mm512_fnmadd_ps(four, d2, d4);                                \
    __m512 b_ = _mm512_fnmadd_ps(four, d1, d3);                                \
    __m512 c_ = _mm512_sub_ps(d4, d2);                                         \
    __m512 e_ = _mm512_add_ps(_mm512_sub_ps(d3, d1), _mm512_sub_ps(d3, d1));   \
    t[0] = _mm512_fmadd_ps(four, d0, _mm512_fnmadd_ps(five, d2, d4));          \
    t[1] = _mm512_add_ps(a_, b_);                                              \
    t[2] = _mm512_sub_ps(a_, b_);                                              \
    t[3] = _mm512_add_ps(c_, e_);                                              \
    t[4] = _mm512_sub_ps(c_, e_);                                              \
    t[5] = _mm512_fmadd_ps(four, d1, _mm512_fnmadd_ps(five, d3, d5));          \
  } while (0)

/* A^T applied to six vectors m0..m5: four outputs. */
#define A_TRANSPOSED(m0, m1, m2, m3, m4, m5, o)                                \
  do {                                                                         \
    __m512 s12_ = _mm512_add_ps(m1, m2), d12_ = _mm512_sub_ps(m1, m2);         \
    __m512 s34_ = _mm512_add_ps(m3, m4), d34_ = _mm512_sub_ps(m3, m4);         \
    o[0] = _mm512_add_ps(_mm512_add_ps(m0, s12_), s34_);                       \
    o[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34_, d12_);                  \
    o[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34_, s12_);                  \
    o[3] =                                                                     \
        _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34_, d12_), m5);  \
  } while (0)

/* V of input channel c (plane xc) for the tiles of group gr, lane l at
 * v[(xi * c_in + c) * width + lane0 + l]. `rows` is a scratch of ALPHA
 * rows of ROW_FLOATS. */
INLINE_AVX512 void input_transform(const struct winograd_job *job,
                                   const float *xc, const struct group *gr,
                                   int64_t c, float *rows, float *v,
                                   int64_t width, int64_t lane0)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t h_in = g->in[1], w_in = g->in[2];
  const int64_t iy0 = gr->ty * TILE - g->pad[1];
  const int64_t ix0 = gr->tx0 * TILE - g->pad[2];
  const __m512i pick_lo = _mm512_set_epi32(29, 25, 21, 17, 13, 9, 5, 1, 28, 24,
                                           20, 16, 12, 8, 4, 0);
  const __m512i pick_hi = _mm512_set_epi32(31, 27, 23, 19, 15, 11, 7, 3, 30, 26,
                                           22, 18, 14, 10, 6, 2);
  const __m512i low_halves =
      _mm512_set_epi32(23, 22, 21, 20, 19, 18, 17, 16, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i high_halves = _mm512_set_epi32(31, 30, 29, 28, 27, 26, 25, 24,
                                               15, 14, 13, 12, 11, 10, 9, 8);
  const __m512i next0 =
      _mm512_set_epi32(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const __m512i next1 =
      _mm512_set_epi32(17, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
  const float *src[ALPHA];
  int64_t j;
  int r, mu;

  for (r = 0; r < ALPHA; r++)
    src[r] = iy0 + r >= 0 && iy0 + r < h_in ? xc + (iy0 + r) * w_in : NULL;
  /* rows: B^T on the left, 16 input columns at a time (zero outside) */
  for (j = 0; j < ROW_FLOATS; j += LANES) {
    int64_t at = ix0 + j;
    __mmask16 in = lanes(w_in - at) & (__mmask16)~lanes(-at);
    __m512 d[ALPHA], t[ALPHA];
    for (r = 0; r < ALPHA; r++)
      d[r] = src[r] && in ? _mm512_maskz_loadu_ps(in, src[r] + at)
                          : _mm512_setzero_ps();
    B_TRANSPOSED(d[0], d[1], d[2], d[3], d[4], d[5], t);
    for (mu = 0; mu < ALPHA; mu++)
      _mm512_store_ps(rows + mu * ROW_FLOATS + j, t[mu]);
  }
  /* columns: B on the right; the stride-4 columns of the 16 tiles taken
   * out with permutes */
  for (mu = 0; mu < ALPHA; mu++) {
    const float *row = rows + mu * ROW_FLOATS;
    __m512 v0 = _mm512_load_ps(row), v1 = _mm512_load_ps(row + 16);
    __m512 v2 = _mm512_load_ps(row + 32), v3 = _mm512_load_ps(row + 48);
    __m512 v4 = _mm512_load_ps(row + 64);
    /* p: columns 4t and 4t + 1 of tiles 0-7, q of tiles 8-15 */
    __m512 p01 = _mm512_permutex2var_ps(v0, pick_lo, v1);
    __m512 q01 = _mm512_permutex2var_ps(v2, pick_lo, v3);
    __m512 p23 = _mm512_permutex2var_ps(v0, pick_hi, v1);
    __m512 q23 = _mm512_permutex2var_ps(v2, pick_hi, v3);
    __m512 d0 = _mm512_permutex2var_ps(p01, low_halves, q01);
    __m512 d1 = _mm512_permutex2var_ps(p01, high_halves, q01);
    __m512 d2 = _mm512_permutex2var_ps(p23, low_halves, q23);
    __m512 d3 = _mm512_permutex2var_ps(p23, high_halves, q23);
    __m512 d4 = _mm512_permutex2var_ps(d0, next0, v4);
    __m512 d5 = _mm512_permutex2var_ps(d1, next1, v4);
    __m512 t[ALPHA];
    int nu;
    B_TRANSPOSED(d0, d1, d2, d3, d4, d5, t);
    for (nu = 0; nu < ALPHA; nu++)
      _mm512_store_ps(v + ((mu * ALPHA + nu) * job->c_in + c) * width + lane0,
                      t[nu]);
  }
}

/* Map m of group gr: the products' 36 values per tile (from lane0 of
 * prod's rows of `width`) to its 4x4 outputs, plus the bias, through the
 * Relu, into the output plane ym. */
INLINE_AVX512 void output_transform(const struct winograd_job *job,
                                    const float *prod, int64_t m,
                                    const struct group *gr, int64_t width,
                                    int64_t lane0, float *ym)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t h_out = g->out[1], w_out = g->out[2];
  const int64_t ld = job->panels * MR * width;
  const __m512i pairs_lo =
      _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  const __m512i pairs_hi = _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27,
                                            11, 26, 10, 25, 9, 24, 8);
  const __m512i quads_lo =
      _mm512_set_epi32(23, 22, 7, 6, 21, 20, 5, 4, 19, 18, 3, 2, 17, 16, 1, 0);
  const __m512i quads_hi = _mm512_set_epi32(31, 30, 15, 14, 29, 28, 13, 12, 27,
                                            26, 11, 10, 25, 24, 9, 8);
  const __m512 bias = _mm512_set1_ps(job->bias ? job->bias[m] : 0.0f);
  const __m512 zero = _mm512_setzero_ps();
  const float *pm = prod + m * width + lane0;
  const int64_t x0 = gr->tx0 * TILE;
  __m512 o[TILE][ALPHA];
  int i, nu, k;

  /* A^T on the left, per column nu */
  for (nu = 0; nu < ALPHA; nu++) {
    __m512 col[TILE];
    A_TRANSPOSED(_mm512_load_ps(pm + (0 * ALPHA + nu) * ld),
                 _mm512_load_ps(pm + (1 * ALPHA + nu) * ld),
                 _mm512_load_ps(pm + (2 * ALPHA + nu) * ld),
                 _mm512_load_ps(pm + (3 * ALPHA + nu) * ld),
                 _mm512_load_ps(pm + (4 * ALPHA + nu) * ld),
                 _mm512_load_ps(pm + (5 * ALPHA + nu) * ld), col);
    for (i = 0; i < TILE; i++)
      o[i][nu] = col[i];
  }
  /* A on the right, per output row; the 4 columns interleaved */
  for (i = 0; i < TILE && gr->ty * TILE + i < h_out; i++) {
    float *row = ym + (gr->ty * TILE + i) * w_out;
    __m512 yv[TILE], s01, s01h, s23, s23h, out[4];
    A_TRANSPOSED(o[i][0], o[i][1], o[i][2], o[i][3], o[i][4], o[i][5], yv);
    for (k = 0; k < TILE; k++) {
      yv[k] = _mm512_add_ps(yv[k], bias);
      if (g->relu) /* Relu's x < 0 ? 0 : x: NaN and -0 stay */
        yv[k] = _mm512_mask_mov_ps(
            yv[k], _mm512_cmp_ps_mask(yv[k], zero, _CMP_LT_OQ), zero);
    }
    s01 = _mm512_permutex2var_ps(yv[0], pairs_lo, yv[1]);
    s01h = _mm512_permutex2var_ps(yv[0], pairs_hi, yv[1]);
    s23 = _mm512_permutex2var_ps(yv[2], pairs_lo, yv[3]);
    s23h = _mm512_permutex2var_ps(yv[2], pairs_hi, yv[3]);
    out[0] = _mm512_permutex2var_ps(s01, quads_lo, s23);
    out[1] = _mm512_permutex2var_ps(s01, quads_hi, s23);
    out[2] = _mm512_permutex2var_ps(s01h, quads_lo, s23h);
    out[3] = _mm512_permutex2var_ps(s01h, quads_hi, s23h);
    for (k = 0; k < 4; k++)
      _mm512_mask_storeu_ps(row + x0 + 16 * k, lanes(w_out - x0 - 16 * k),
                            out[k]);
  }
}

/* One work item, groups [first, first + count): V, the 36 products, the
 * outputs of every map. */
AVX512 static void winograd_item(const struct winograd_job *job, int64_t first,
                                 int64_t count, float *rows, float *v,
                                 float *prod)
{
  const struct sc_conv_geometry *g = job->g;
  const int64_t width = count * LANES, c_in = job->c_in;
  const int64_t plane_in = g->in[1] * g->in[2];
  const int64_t plane_out = g->out[1] * g->out[2];
  const sc_packed_tile_fn *tiles = job->kern.tiles;
  struct group gr[3];
  int64_t k, c, xi, p, m;

  for (k = 0; k < count; k++) {
    gr[k] = group_at(job, first + k);
    for (c = 0; c < c_in; c++)
      input_transform(job, job->x + (gr[k].n * c_in + c) * plane_in, &gr[k], c,
                      rows, v, width, k * LANES);
  }
  for (xi = 0; xi < POINTS; xi++)
    for (p = 0; p < job->panels; p++) {
      int64_t n_rows = job->maps - p * MR < MR ? job->maps - p * MR : MR;
      tiles[(n_rows - 1) * 3 + (count - 1)](
          c_in, job->u + (xi * job->panels + p) * c_in * MR,
          v + xi * c_in * width, NULL, 0,
          prod + (xi * job->panels * MR + p * MR) * width, width, width, NULL,
          0);
    }
  for (k = 0; k < count; k++)
    for (m = 0; m < job->maps; m++)
      output_transform(job, prod, m, &gr[k], width, k * LANES,
                       job->y + (gr[k].n * job->maps + m) * plane_out);
}

static int64_t rows_floats(void)
{
  return ALPHA * ROW_FLOATS;
}

static int64_t v_floats(const struct winograd_job *job)
{
  return POINTS * job->c_in * job->per_item * LANES;
}

static int64_t prod_floats(const struct winograd_job *job)
{
  return POINTS * job->panels * MR * job->per_item * LANES;
}

static void winograd_range(void *ctx, int64_t begin, int64_t end)
{
  struct winograd_job *job = ctx;
  size_t size = (size_t)(rows_floats() + v_floats(job) + prod_floats(job)) *
                sizeof(float);
  float *scratch = sc_scratch_take(size);
  int64_t item;
  if (!scratch) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  for (item = begin; item < end; item++) {
    int64_t first = item * job->per_item;
    int64_t count = job->n_groups - first < job->per_item
                        ? job->n_groups - first
                        : job->per_item;
    winograd_item(job, first, count, scratch, scratch + rows_floats(),
                  scratch + rows_floats() + v_floats(job));
  }
  sc_scratch_give(scratch);
}

/* The sizes of a job (no pointers): items of 3 groups (48 tiles, the
 * micro-kernel's widest panel) unless their column panels and products
 * would pass SCRATCH_BUDGET. */
static void winograd_plan(const struct sc_conv_geometry *g,
                          struct winograd_job *job)
{
  int64_t per_group;
  memset(job, 0, sizeof *job);
  job->g = g;
  job->c_in = g->in_channels;
  job->maps = g->out_channels;
  job->panels = ceil_div(job->maps, MR);
  job->tiles_h = ceil_div(g->out[1], TILE);
  job->tiles_w = ceil_div(g->out[2], TILE);
  job->groups_w = ceil_div(job->tiles_w, LANES);
  job->n_groups = g->batch * job->tiles_h * job->groups_w;
  per_group = POINTS * (job->c_in + job->panels * MR) * LANES;
  job->per_item = SCRATCH_BUDGET / per_group;
  if (job->per_item > SC_PACKED_NR / LANES)
    job->per_item = SC_PACKED_NR / LANES;
  if (job->per_item < 1)
    job->per_item = 1;
  job->n_items = ceil_div(job->n_groups, job->per_item);
}

int64_t sc_conv_winograd_scratch_floats(const struct sc_conv_geometry *g)
{
  struct winograd_job job;
  winograd_plan(g, &job);
  return rows_floats() + v_floats(&job) + prod_floats(&job);
}

int sc_conv_winograd_available(void)
{
  struct sc_packed_kernels k;
  return sc_conv_packed_fast() && sc_packed_avx512(&k);
}

sc_status sc_conv_winograd(const struct sc_conv_geometry *g, const float *x,
                           const float *u, const float *bias, float *y,
                           struct sc_threadpool *threads, struct sc_error *err)
{
  struct winograd_job job;
  winograd_plan(g, &job);
  if (!sc_packed_avx512(&job.kern))
    return sc_fail(err, SC_ERR_INTERNAL,
                   "the Winograd convolution needs AVX-512F");
  job.x = x;
  job.u = u;
  job.bias = bias;
  job.y = y;
  sc_parallel_for(threads, job.n_items, 1, winograd_range, &job);
  if (job.failed)
    return sc_fail_nomem(err, "convolution scratch buffers");
  return SC_OK;
}

#else /* not x86-64 with GCC or Clang */

int64_t sc_conv_winograd_scratch_floats(const struct sc_conv_geometry *g)
{
  (void)g;
  return 0;
}

int sc_conv_winograd_available(void)
{
  return 0;
}

sc_status sc_conv_winograd(const struct sc_conv_geometry *g, const float *x,
                           const float *u, const float *bias, float *y,
                           struct sc_threadpool *threads, struct sc_error *err)
{
  (void)g;
  (void)x;
  (void)u;
  (void)bias;
  (void)y;
  (void)threads;
  return sc_fail(err, SC_ERR_INTERNAL,
                 "the Winograd convolution needs AVX-512F");
}

#endif
