/* Operator family: pooling. MaxPool (with the optional Indices output),
 * AveragePool, LpPool, their Global* forms, MaxUnpool and MaxRoiPool.
 *
 * Windowed pools share the sliding-window geometry of conv_window.h, made
 * canonical 3-D (1-D and 2-D inputs get leading spatial dims of size 1).
 * Every kernel loops over (image, channel) planes in parallel; one output
 * element is always computed by one thread, the same way.
 *
 * Float MaxPool with a 2 x 2 window at stride 2 (U-Net downsampling) has
 * its own row loop, four outputs per SSE2 step, with the same comparisons
 * in the same order as the general one.
 *
 * Float kernels; float16/bfloat16 run through float (SC_OP_F16_VIA_FLOAT).
 * MaxPool and GlobalMaxPool also take double, MaxPool int8/uint8 from
 * opset 12. Averages and Lp sums accumulate in double.
 *
 * A window that holds no input element at all (possible only with pads or
 * dilations that skip the whole input) gives the lowest value of the type
 * and index -1 for MaxPool, NaN for AveragePool without count_include_pad
 * and 0 for LpPool. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "runtime/ops/conv_window.h"
#include "runtime/ops/families.h"
#include "runtime/threadpool.h"

#define POOL_MAX_SPATIAL 3
/* elements of work wanted per parallel chunk */
#define POOL_GRAIN_WORK 32768

enum pool_kind {
  POOL_MAX,
  POOL_AVERAGE,
  POOL_LP,
  POOL_GLOBAL_MAX,
  POOL_GLOBAL_AVERAGE,
  POOL_GLOBAL_LP
};

struct pool_geometry {
  int64_t planes; /* N * C */
  int64_t in[3], out[3], kernel[3], stride[3], dilation[3];
  int64_t pad[3], pad_end[3];
};

struct pool_state {
  enum pool_kind kind;
  struct sc_window_attrs window;
  int count_include_pad;
  int storage_order;             /* Indices: 0 row-major, 1 column-major */
  double p;                      /* LpPool */
  int64_t unpool_planes;         /* MaxUnpool: N * C of the unpooled shape */
  struct pool_geometry geometry; /* resolved by reshape */
};

static void pool_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

static int64_t volume3(const int64_t *v)
{
  return v[0] * v[1] * v[2];
}

/* Kernel taps [k0, k1) of a window starting at `start` whose positions
 * start + k * dilation fall in [lo, hi). */
static void tap_range(int64_t start, int64_t dilation, int64_t kernel,
                      int64_t lo, int64_t hi, int64_t *k0, int64_t *k1)
{
  int64_t a = start >= lo ? 0 : (lo - start + dilation - 1) / dilation;
  int64_t b = start > hi - 1 ? 0 : (hi - 1 - start) / dilation + 1;
  if (b > kernel)
    b = kernel;
  if (a > b)
    a = b;
  *k0 = a;
  *k1 = b;
}

/* --- prepare / reshape ------------------------------------------------- */

static sc_status pool_state_create(struct sc_node *node, enum pool_kind kind,
                                   struct pool_state **out,
                                   struct sc_error *err)
{
  struct pool_state *state = calloc(1, sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "pool state");
  state->kind = kind;
  state->p = 2.0;
  node->state = state;
  *out = state;
  return SC_OK;
}

/* Reads an int attribute that must be 0 or 1. */
static sc_status read_flag(const struct sc_node *node, const char *name,
                           int *out, struct sc_error *err)
{
  int64_t v;
  sc_status st = sc_node_attr_int(node, name, 0, &v, err);
  if (st)
    return st;
  if (v != 0 && v != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' is %lld, expected 0 or 1", name,
                        (long long)v);
  *out = (int)v;
  return SC_OK;
}

/* The p attribute of LpPool/GlobalLpPool: a float at opset 1, an int from
 * opset 2. Must be positive. */
static sc_status read_p(const struct sc_node *node, double *out,
                        struct sc_error *err)
{
  sc_status st;
  if (node->opset < 2) {
    float p;
    st = sc_node_attr_float(node, "p", 2.0f, &p, err);
    *out = p;
  } else {
    int64_t p;
    st = sc_node_attr_int(node, "p", 2, &p, err);
    *out = (double)p;
  }
  if (st)
    return st;
  if (!(*out > 0.0) || *out > 1e6)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'p' is %g, expected a positive power", *out);
  return SC_OK;
}

static sc_status check_float_input(const struct sc_node *node,
                                   struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT};
  return sc_check_dtype(node, 0, types, 1, err);
}

static sc_status pool_prepare_kind(struct sc_node *node, enum pool_kind kind,
                                   struct sc_error *err)
{
  struct pool_state *state = NULL;
  int windowed = kind == POOL_MAX || kind == POOL_AVERAGE || kind == POOL_LP;
  int max_outputs = kind == POOL_MAX && node->opset >= 8 ? 2 : 1;
  sc_status st = sc_check_arity(node, 1, 1, 1, max_outputs, err);
  if (st)
    return st;
  if (kind == POOL_MAX || kind == POOL_GLOBAL_MAX) {
    /* maxima are exact in any type: double too, and 8-bit integers for
     * MaxPool from opset 12 */
    static const enum sc_dtype types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE,
                                          SC_DTYPE_INT8, SC_DTYPE_UINT8};
    int n = kind == POOL_MAX && node->opset >= 12 ? 4 : 2;
    st = sc_check_dtype(node, 0, types, n, err);
  } else {
    st = check_float_input(node, err);
  }
  if (!st)
    st = pool_state_create(node, kind, &state, err);
  if (!st && windowed)
    st = sc_window_parse(node, kind != POOL_LP || node->opset >= 18,
                         &state->window, err);
  if (!st && kind == POOL_AVERAGE)
    st = read_flag(node, "count_include_pad", &state->count_include_pad, err);
  if (!st && kind == POOL_MAX)
    st = read_flag(node, "storage_order", &state->storage_order, err);
  if (!st && (kind == POOL_LP || kind == POOL_GLOBAL_LP))
    st = read_p(node, &state->p, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  if (node->n_outputs > 1 && node->out[1])
    node->out[1]->dtype = SC_DTYPE_INT64;
  return SC_OK;
}

static sc_status maxpool_prepare(struct sc_node *node, struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_MAX, err);
}

static sc_status averagepool_prepare(struct sc_node *node, struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_AVERAGE, err);
}

static sc_status lppool_prepare(struct sc_node *node, struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_LP, err);
}

static sc_status global_maxpool_prepare(struct sc_node *node,
                                        struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_GLOBAL_MAX, err);
}

static sc_status global_averagepool_prepare(struct sc_node *node,
                                            struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_GLOBAL_AVERAGE, err);
}

static sc_status global_lppool_prepare(struct sc_node *node,
                                       struct sc_error *err)
{
  return pool_prepare_kind(node, POOL_GLOBAL_LP, err);
}

/* Checks X is N x C x D1 ... with 1 to POOL_MAX_SPATIAL spatial dims. */
static sc_status check_pool_input(const struct sc_node *node,
                                  struct sc_error *err)
{
  int rank = node->in[0]->rank;
  if (rank < 3)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input X has rank %d, expected N x C x D1 x ... "
                        "(rank 3 or more)",
                        rank);
  if (rank - 2 > POOL_MAX_SPATIAL)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "input X has %d spatial dimensions, at most %d are "
                        "supported",
                        rank - 2, POOL_MAX_SPATIAL);
  return SC_OK;
}

/* Canonical 3-D copy of a resolved window. */
static void geometry_from_window(struct pool_geometry *g, int64_t planes,
                                 const struct sc_window *w)
{
  int i, lead = POOL_MAX_SPATIAL - w->n_dims;
  g->planes = planes;
  for (i = 0; i < POOL_MAX_SPATIAL; i++) {
    int s = i - lead;
    g->in[i] = s >= 0 ? w->in[s] : 1;
    g->out[i] = s >= 0 ? w->out[s] : 1;
    g->kernel[i] = s >= 0 ? w->kernel[s] : 1;
    g->stride[i] = s >= 0 ? w->stride[s] : 1;
    g->dilation[i] = s >= 0 ? w->dilation[s] : 1;
    g->pad[i] = s >= 0 ? w->pad_begin[s] : 0;
    g->pad_end[i] = s >= 0 ? w->pad_end[s] : 0;
  }
}

static sc_status pool_reshape(struct sc_node *node, struct sc_error *err)
{
  struct pool_state *state = node->state;
  const struct sc_tensor *x = node->in[0];
  int64_t dims[SC_MAX_RANK];
  struct sc_window win;
  int i, n_spatial;
  sc_status st = check_pool_input(node, err);
  if (st)
    return st;
  n_spatial = x->rank - 2;

  if (state->kind == POOL_GLOBAL_MAX || state->kind == POOL_GLOBAL_AVERAGE ||
      state->kind == POOL_GLOBAL_LP) {
    /* one window covering the whole plane */
    memset(&win, 0, sizeof win);
    win.n_dims = n_spatial;
    for (i = 0; i < n_spatial; i++) {
      win.in[i] = win.kernel[i] = x->dims[2 + i];
      win.out[i] = win.stride[i] = win.dilation[i] = 1;
    }
  } else {
    st = sc_window_resolve(node, &state->window, n_spatial, x->dims + 2, NULL,
                           &win, err);
    if (st)
      return st;
  }
  geometry_from_window(&state->geometry, x->dims[0] * x->dims[1], &win);

  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  for (i = 0; i < n_spatial; i++)
    dims[2 + i] = win.out[i];
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i]) {
      st = sc_tensor_set_shape(node->out[i], x->rank, dims, err);
      if (st)
        return st;
    }
  return SC_OK;
}

/* --- windowed kernels -------------------------------------------------- */

struct pool_job;
typedef void (*pool_plane_fn)(const struct pool_job *job, int64_t plane);

struct pool_job {
  const struct pool_state *state;
  const void *x;
  void *y;
  int64_t *indices; /* MaxPool's second output, or NULL */
  pool_plane_fn plane_fn;
  /* per spatial dim d and output o: taps [taps[d][2o], taps[d][2o + 1])
   * of the window fall inside the input; padded[d] likewise counts the
   * taps inside the padded input (count_include_pad) */
  const int64_t *taps[3], *padded[3];
};

/* Fills job->taps (and job->padded) from one array of
 * 4 * (out[0] + out[1] + out[2]) values; the caller frees it. Returns NULL
 * when out of memory. */
static int64_t *pool_tap_tables(struct pool_job *job)
{
  const struct pool_geometry *g = &job->state->geometry;
  int64_t *table =
      malloc((size_t)(g->out[0] + g->out[1] + g->out[2]) * 4 * sizeof(int64_t));
  int64_t *at = table, o;
  int d;
  if (!table)
    return NULL;
  for (d = 0; d < 3; d++) {
    int64_t *taps = at, *padded = at + 2 * g->out[d];
    for (o = 0; o < g->out[d]; o++) {
      int64_t start = o * g->stride[d] - g->pad[d];
      tap_range(start, g->dilation[d], g->kernel[d], 0, g->in[d], &taps[2 * o],
                &taps[2 * o + 1]);
      tap_range(start, g->dilation[d], g->kernel[d], -g->pad[d],
                g->in[d] + g->pad_end[d], &padded[2 * o], &padded[2 * o + 1]);
    }
    job->taps[d] = taps;
    job->padded[d] = padded;
    at += 4 * g->out[d];
  }
  return table;
}

/* The window of output o: its first position along each dim (start, may
 * lie in the padding) and the taps [a, b) that fall inside the input. */
struct window_at {
  int64_t start[3], a[3], b[3];
};

/* Sets dim d of window w for output index o along it; the loops set dims
 * 0 and 1 once per output row and dim 2 for every output. */
static inline void window_at(const struct pool_job *job, int d, int64_t o,
                             struct window_at *w)
{
  const struct pool_geometry *g = &job->state->geometry;
  w->start[d] = o * g->stride[d] - g->pad[d];
  w->a[d] = job->taps[d][2 * o];
  w->b[d] = job->taps[d][2 * o + 1];
}

/* Row-major offset in the plane of taps k0, k1 and tap 0 along the last
 * dim of window w. */
static inline int64_t window_row(const struct pool_geometry *g,
                                 const struct window_at *w, int64_t k0,
                                 int64_t k1)
{
  return ((w->start[0] + k0 * g->dilation[0]) * g->in[1] + w->start[1] +
          k1 * g->dilation[1]) *
             g->in[2] +
         w->start[2];
}

/* Converts a row-major spatial offset to the layout of storage_order. */
static int64_t spatial_index(const struct pool_geometry *g, int64_t pos,
                             int column_major)
{
  int64_t d, h, w;
  if (!column_major)
    return pos;
  w = pos % g->in[2];
  h = pos / g->in[2] % g->in[1];
  d = pos / g->in[2] / g->in[1];
  return d + g->in[0] * (h + g->in[1] * w);
}

/* MaxPool over one plane for element type T. The first maximum in window
 * order wins; NaN propagates. Indices are flat over the whole input:
 * plane * D*H*W + the spatial offset (row- or column-major). */
#define DEFINE_MAXPOOL_PLANE(NAME, T, LOWEST)                                  \
  static void NAME(const struct pool_job *job, int64_t plane)                  \
  {                                                                            \
    const struct pool_geometry *g = &job->state->geometry;                     \
    const int64_t in_size = volume3(g->in), out_size = volume3(g->out);        \
    const int64_t step = g->dilation[2];                                       \
    const T *xp = (const T *)job->x + plane * in_size;                         \
    T *yp = (T *)job->y + plane * out_size;                                    \
    int64_t *ip = job->indices ? job->indices + plane * out_size : NULL;       \
    int64_t o[3], k0, k1, k2;                                                  \
    struct window_at w;                                                        \
    for (o[0] = 0; o[0] < g->out[0]; o[0]++)                                   \
      for (o[1] = 0; o[1] < g->out[1]; o[1]++)                                 \
        for (o[2] = 0; o[2] < g->out[2]; o[2]++) {                             \
          T best = LOWEST;                                                     \
          int64_t arg = -1;                                                    \
          window_at(job, 0, o[0], &w);                                         \
          window_at(job, 1, o[1], &w);                                         \
          window_at(job, 2, o[2], &w);                                         \
          for (k0 = w.a[0]; k0 < w.b[0]; k0++)                                 \
            for (k1 = w.a[1]; k1 < w.b[1]; k1++) {                             \
              int64_t row = window_row(g, &w, k0, k1);                         \
              for (k2 = w.a[2]; k2 < w.b[2]; k2++) {                           \
                T v = xp[row + k2 * step];                                     \
                if (arg < 0 || (best == best && !(v <= best))) {               \
                  best = v;                                                    \
                  arg = row + k2 * step;                                       \
                }                                                              \
              }                                                                \
            }                                                                  \
          *yp++ = best;                                                        \
          if (ip)                                                              \
            *ip++ = arg < 0 ? -1                                               \
                            : plane * in_size +                                \
                                  spatial_index(g, arg,                        \
                                                job->state->storage_order);    \
        }                                                                      \
  }

DEFINE_MAXPOOL_PLANE(maxpool_indices_plane_f32, float, -INFINITY)
DEFINE_MAXPOOL_PLANE(maxpool_plane_f64, double, -INFINITY)
DEFINE_MAXPOOL_PLANE(maxpool_plane_i8, int8_t, INT8_MIN)
DEFINE_MAXPOOL_PLANE(maxpool_plane_u8, uint8_t, 0)

/* MaxPool of a float plane without Indices: branch-free maxima, a NaN
 * anywhere in a window makes it NaN. */
static void maxpool_plane_f32(const struct pool_job *job, int64_t plane)
{
  const struct pool_geometry *g = &job->state->geometry;
  const int64_t in_size = volume3(g->in), out_size = volume3(g->out);
  const int64_t step = g->dilation[2];
  const float *xp = (const float *)job->x + plane * in_size;
  float *yp = (float *)job->y + plane * out_size;
  int64_t o[3], k0, k1, k2;
  struct window_at w;
  for (o[0] = 0; o[0] < g->out[0]; o[0]++)
    for (o[1] = 0; o[1] < g->out[1]; o[1]++) {
      window_at(job, 0, o[0], &w);
      window_at(job, 1, o[1], &w);
      for (o[2] = 0; o[2] < g->out[2]; o[2]++) {
        float best = -INFINITY;
        int nan = 0;
        window_at(job, 2, o[2], &w);
        for (k0 = w.a[0]; k0 < w.b[0]; k0++)
          for (k1 = w.a[1]; k1 < w.b[1]; k1++) {
            const float *row = xp + window_row(g, &w, k0, k1);
            for (k2 = w.a[2]; k2 < w.b[2]; k2++) {
              float v = row[k2 * step];
              nan |= v != v;
              best = v > best ? v : best;
            }
          }
        *yp++ = nan ? NAN : best;
      }
    }
}

/* One output row of a 2 x 2, stride 2 MaxPool without padding before:
 * y[o] from r0[2o], r0[2o + 1], r1[2o], r1[2o + 1] (r1 = r0 when the
 * window's second row lies past the input), for o < n. The same maxima,
 * compared in the same order, as maxpool_plane_f32: each value replaces
 * the best so far only when greater, so the first of equal values (+0 or
 * -0) wins; a NaN anywhere gives NaN. */
static void maxpool_row_2x2(const float *r0, const float *r1, float *y,
                            int64_t n)
{
  int64_t o = 0;
#if defined(__SSE2__)
  const __m128 nan = _mm_set1_ps(NAN);
  for (; o + 4 <= n; o += 4) {
    __m128 a0 = _mm_loadu_ps(r0 + 2 * o), a1 = _mm_loadu_ps(r0 + 2 * o + 4);
    __m128 b0 = _mm_loadu_ps(r1 + 2 * o), b1 = _mm_loadu_ps(r1 + 2 * o + 4);
    __m128 ae = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(2, 0, 2, 0));
    __m128 ao = _mm_shuffle_ps(a0, a1, _MM_SHUFFLE(3, 1, 3, 1));
    __m128 be = _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0));
    __m128 bo = _mm_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1));
    /* _mm_max_ps(v, best) = v > best ? v : best */
    __m128 best = _mm_max_ps(bo, _mm_max_ps(be, _mm_max_ps(ao, ae)));
    __m128 bad = _mm_or_ps(_mm_cmpunord_ps(ae, ao), _mm_cmpunord_ps(be, bo));
    _mm_storeu_ps(y + o,
                  _mm_or_ps(_mm_and_ps(bad, nan), _mm_andnot_ps(bad, best)));
  }
#endif
  for (; o < n; o++) {
    const float v[4] = {r0[2 * o], r0[2 * o + 1], r1[2 * o], r1[2 * o + 1]};
    float best = v[0];
    int i, bad = v[0] != v[0];
    for (i = 1; i < 4; i++) {
      bad |= v[i] != v[i];
      best = v[i] > best ? v[i] : best;
    }
    y[o] = bad ? NAN : best;
  }
}

/* maxpool_plane_f32 for a 2-D 2 x 2 window, stride 2, no dilation and no
 * padding before (U-Net style downsampling; ceil_mode may add a last
 * row and column of one). */
static int maxpool_is_2x2(const struct pool_geometry *g)
{
  return g->in[0] == 1 && g->out[0] == 1 && g->kernel[0] == 1 &&
         g->kernel[1] == 2 && g->kernel[2] == 2 && g->stride[1] == 2 &&
         g->stride[2] == 2 && g->dilation[1] == 1 && g->dilation[2] == 1 &&
         g->pad[0] == 0 && g->pad[1] == 0 && g->pad[2] == 0;
}

static void maxpool_plane_2x2_f32(const struct pool_job *job, int64_t plane)
{
  const struct pool_geometry *g = &job->state->geometry;
  const int64_t w_in = g->in[2], out_w = g->out[2];
  const int64_t in_size = volume3(g->in), out_size = volume3(g->out);
  const int64_t whole = w_in / 2 < out_w ? w_in / 2 : out_w;
  const float *xp = (const float *)job->x + plane * in_size;
  float *yp = (float *)job->y + plane * out_size;
  int64_t oy, ox, k;
  for (oy = 0; oy < g->out[1]; oy++, yp += out_w) {
    const int64_t a = job->taps[1][2 * oy], b = job->taps[1][2 * oy + 1];
    const float *r0 = xp + 2 * oy * w_in, *r1 = b - a == 2 ? r0 + w_in : r0;
    if (a != 0 || b == 0) { /* no input row: the lowest value */
      for (ox = 0; ox < out_w; ox++)
        yp[ox] = -INFINITY;
      continue;
    }
    maxpool_row_2x2(r0, r1, yp, whole);
    for (ox = whole; ox < out_w; ox++) { /* windows of one column or none */
      float best = -INFINITY;
      int bad = 0;
      for (k = job->taps[2][2 * ox]; k < job->taps[2][2 * ox + 1]; k++) {
        float v0 = r0[2 * ox + k], v1 = r1[2 * ox + k];
        bad |= (v0 != v0) | (v1 != v1);
        best = v0 > best ? v0 : best;
        best = v1 > best ? v1 : best;
      }
      yp[ox] = bad ? NAN : best;
    }
  }
}

/* Sum of the values of window w of a float plane. */
static double window_sum(const struct pool_geometry *g, const float *xp,
                         const struct window_at *w)
{
  const int64_t step = g->dilation[2];
  double sum = 0.0;
  int64_t k0, k1, k2;
  for (k0 = w->a[0]; k0 < w->b[0]; k0++)
    for (k1 = w->a[1]; k1 < w->b[1]; k1++) {
      const float *row = xp + window_row(g, w, k0, k1);
      for (k2 = w->a[2]; k2 < w->b[2]; k2++)
        sum += row[k2 * step];
    }
  return sum;
}

/* Sum of |v|^p over window w of a float plane. */
static double window_power_sum(const struct pool_geometry *g, const float *xp,
                               const struct window_at *w, double p)
{
  const int64_t step = g->dilation[2];
  double sum = 0.0;
  int64_t k0, k1, k2;
  for (k0 = w->a[0]; k0 < w->b[0]; k0++)
    for (k1 = w->a[1]; k1 < w->b[1]; k1++) {
      const float *row = xp + window_row(g, w, k0, k1);
      for (k2 = w->a[2]; k2 < w->b[2]; k2++) {
        double v = row[k2 * step];
        if (p == 2.0)
          sum += v * v;
        else if (p == 1.0)
          sum += fabs(v);
        else
          sum += pow(fabs(v), p);
      }
    }
  return sum;
}

/* AveragePool or LpPool over one float plane; sums in double. */
static void sumpool_plane(const struct pool_job *job, int64_t plane)
{
  const struct pool_state *state = job->state;
  const struct pool_geometry *g = &state->geometry;
  const int64_t in_size = volume3(g->in), out_size = volume3(g->out);
  const float *xp = (const float *)job->x + plane * in_size;
  float *yp = (float *)job->y + plane * out_size;
  const int lp = state->kind == POOL_LP || state->kind == POOL_GLOBAL_LP;
  const double p = state->p;
  struct window_at w;
  int64_t o[3];

  for (o[0] = 0; o[0] < g->out[0]; o[0]++)
    for (o[1] = 0; o[1] < g->out[1]; o[1]++) {
      window_at(job, 0, o[0], &w);
      window_at(job, 1, o[1], &w);
      for (o[2] = 0; o[2] < g->out[2]; o[2]++) {
        double sum, count = 1.0;
        int d;
        window_at(job, 2, o[2], &w);
        if (lp) {
          sum = window_power_sum(g, xp, &w, p);
          *yp++ = (float)(p == 2.0   ? sqrt(sum)
                          : p == 1.0 ? sum
                                     : pow(sum, 1.0 / p));
          continue;
        }
        sum = window_sum(g, xp, &w);
        for (d = 0; d < 3; d++) {
          const int64_t *range =
              state->count_include_pad ? job->padded[d] : job->taps[d];
          count *= (double)(range[2 * o[d] + 1] - range[2 * o[d]]);
        }
        *yp++ = (float)(sum / count);
      }
    }
}

static void pool_range(void *ctx, int64_t begin, int64_t end)
{
  const struct pool_job *job = ctx;
  int64_t plane;
  for (plane = begin; plane < end; plane++)
    job->plane_fn(job, plane);
}

/* Planes per parallel chunk so that a chunk holds about POOL_GRAIN_WORK
 * window taps. */
static int64_t plane_grain(const struct pool_geometry *g)
{
  double work = (double)volume3(g->out) * (double)volume3(g->kernel);
  if (work >= POOL_GRAIN_WORK)
    return 1;
  return (int64_t)(POOL_GRAIN_WORK / (work > 1.0 ? work : 1.0));
}

static sc_status pool_run(struct sc_node *node, struct sc_error *err)
{
  const struct pool_state *state = node->state;
  struct pool_job job;
  int64_t *tables;
  memset(&job, 0, sizeof job);
  job.state = state;
  job.x = node->in[0]->data;
  job.y = node->out[0]->data;
  job.indices = node->n_outputs > 1 && node->out[1] ? node->out[1]->data : NULL;
  job.plane_fn = sumpool_plane;
  if (state->kind == POOL_MAX || state->kind == POOL_GLOBAL_MAX) {
    switch (node->in[0]->dtype) {
    case SC_DTYPE_DOUBLE:
      job.plane_fn = maxpool_plane_f64;
      break;
    case SC_DTYPE_INT8:
      job.plane_fn = maxpool_plane_i8;
      break;
    case SC_DTYPE_UINT8:
      job.plane_fn = maxpool_plane_u8;
      break;
    default:
      job.plane_fn = job.indices ? maxpool_indices_plane_f32
                     : maxpool_is_2x2(&state->geometry) ? maxpool_plane_2x2_f32
                                                        : maxpool_plane_f32;
      break;
    }
  }
  tables = pool_tap_tables(&job);
  if (!tables)
    return sc_fail_nomem(err, "pooling window tables");
  sc_parallel_for(sc_node_threads(node), state->geometry.planes,
                  plane_grain(&state->geometry), pool_range, &job);
  free(tables);
  return SC_OK;
}

/* --- MaxUnpool ---------------------------------------------------------- */

static sc_status maxunpool_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype index_types[] = {SC_DTYPE_INT64};
  struct pool_state *state = NULL;
  sc_status st = sc_check_arity(node, 2, 3, 1, 1, err);
  if (!st)
    st = check_float_input(node, err);
  if (!st)
    st = sc_check_dtype(node, 1, index_types, 1, err);
  if (!st)
    st = sc_check_dtype(node, 2, index_types, 1, err);
  if (!st)
    st = pool_state_create(node, POOL_MAX, &state, err);
  if (!st)
    st = sc_window_parse(node, 0, &state->window, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Output dims from the output_shape input: rank of X values, each at least
 * the inferred size. */
static sc_status unpool_shape_from_input(const struct sc_node *node,
                                         const struct sc_tensor *shape,
                                         const int64_t *inferred, int64_t *dims,
                                         struct sc_error *err)
{
  const int64_t *v = shape->data;
  int i, rank = node->in[0]->rank;
  if (shape->rank != 1 || shape->dims[0] != rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input output_shape must be 1-D with %d values", rank);
  for (i = 0; i < rank; i++) {
    if (v[i] < inferred[i] || v[i] >= ((int64_t)1 << 40))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "output_shape[%d] is %lld, expected at least the "
                          "unpooled size %lld",
                          i, (long long)v[i], (long long)inferred[i]);
    dims[i] = v[i];
  }
  return SC_OK;
}

/* The unpooled shape: X's N and C, and per spatial dim
 * (in - 1) * stride + kernel - pad_begin - pad_end. */
static sc_status unpool_inferred_shape(const struct sc_node *node,
                                       const struct sc_window_attrs *a,
                                       int64_t *dims, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  int i, n = x->rank - 2;
  if (a->n_kernel != n || (a->n_strides >= 0 && a->n_strides != n) ||
      (a->n_pads >= 0 && a->n_pads != 2 * n))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attributes kernel_shape, strides and pads must have "
                        "%d, %d and %d values",
                        n, n, 2 * n);
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  for (i = 0; i < n; i++) {
    int64_t stride = a->n_strides >= 0 ? a->strides[i] : 1;
    int64_t pads = a->n_pads >= 0 ? a->pads[i] + a->pads[i + n] : 0;
    if (x->dims[2 + i] > ((int64_t)1 << 40) / stride)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "unpooled size along spatial axis %d overflows", i);
    dims[2 + i] = (x->dims[2 + i] - 1) * stride + a->kernel[i] - pads;
    if (dims[2 + i] < 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "unpooled size along spatial axis %d would be %lld",
                          i, (long long)dims[2 + i]);
  }
  return SC_OK;
}

static sc_status maxunpool_reshape(struct sc_node *node, struct sc_error *err)
{
  struct pool_state *state = node->state;
  struct pool_geometry *g = &state->geometry;
  const struct sc_tensor *x = node->in[0], *indices = node->in[1];
  const struct sc_tensor *shape = node->n_inputs > 2 ? node->in[2] : NULL;
  int64_t inferred[SC_MAX_RANK], dims[SC_MAX_RANK];
  int i;
  sc_status st = check_pool_input(node, err);
  if (st)
    return st;
  if (!sc_tensor_same_shape(x, indices))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input I must have the shape of X");
  st = unpool_inferred_shape(node, &state->window, inferred, err);
  if (st)
    return st;
  if (shape && !shape->data)
    return sc_node_defer(node);
  if (shape)
    st = unpool_shape_from_input(node, shape, inferred, dims, err);
  else
    memcpy(dims, inferred, sizeof dims);
  if (st)
    return st;
  /* run maps indices over the inferred shape into the output's corner */
  memset(g, 0, sizeof *g);
  for (i = 0; i < POOL_MAX_SPATIAL; i++) {
    int s = i - (POOL_MAX_SPATIAL - (x->rank - 2));
    g->in[i] = s >= 0 ? inferred[2 + s] : 1;
    g->out[i] = s >= 0 ? dims[2 + s] : 1;
  }
  g->planes = dims[0] * dims[1];
  state->unpool_planes = inferred[0] * inferred[1];
  return sc_tensor_set_shape(node->out[0], x->rank, dims, err);
}

/* Scatters X into a zeroed output: I holds flat positions in the unpooled
 * (inferred) shape, whose origin coincides with the output's (a larger
 * output_shape only adds zeros at the end of each dim, as in the ONNX
 * reference). A position outside the unpooled shape fails naming the node. */
static sc_status maxunpool_run(struct sc_node *node, struct sc_error *err)
{
  const struct pool_state *state = node->state;
  const struct pool_geometry *g = &state->geometry;
  const struct sc_tensor *x = node->in[0];
  const float *xv = x->data;
  const int64_t *iv = node->in[1]->data;
  float *y = node->out[0]->data;
  int64_t i, in_plane = volume3(g->in), out_plane = volume3(g->out);
  int64_t limit = state->unpool_planes * in_plane;
  if (node->out[0]->n_elements > 0)
    memset(y, 0, (size_t)node->out[0]->n_elements * sizeof(float));
  for (i = 0; i < x->n_elements; i++) {
    int64_t at = iv[i], plane, d, h, w;
    if (at < 0 || at >= limit)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "index %lld at position %lld of I is outside the "
                          "unpooled tensor of %lld elements",
                          (long long)at, (long long)i, (long long)limit);
    plane = at / in_plane;
    w = at % g->in[2];
    h = at / g->in[2] % g->in[1];
    d = at / g->in[2] / g->in[1] % g->in[0];
    y[plane * out_plane + (d * g->out[1] + h) * g->out[2] + w] = xv[i];
  }
  return SC_OK;
}

/* --- MaxRoiPool ---------------------------------------------------------- */

struct roipool_state {
  int64_t pooled[2];
  float spatial_scale;
};

static sc_status maxroipool_prepare(struct sc_node *node, struct sc_error *err)
{
  struct roipool_state *state;
  const int64_t *pooled;
  int64_t n_pooled;
  float scale;
  sc_status st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!st)
    st = check_float_input(node, err);
  if (!st && node->in[1]->dtype != node->in[0]->dtype)
    st = sc_node_fail(
        node, err, SC_ERR_FORMAT, "input rois has dtype %s, expected %s like X",
        sc_dtype_name(node->in[1]->dtype), sc_dtype_name(node->in[0]->dtype));
  if (!st)
    st = sc_node_attr_ints(node, "pooled_shape", &n_pooled, &pooled, err);
  if (!st)
    st = sc_node_attr_float(node, "spatial_scale", 1.0f, &scale, err);
  if (st)
    return st;
  if (n_pooled != 2 || pooled[0] < 1 || pooled[1] < 1 ||
      pooled[0] >= SC_WINDOW_MAX_VALUE || pooled[1] >= SC_WINDOW_MAX_VALUE)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'pooled_shape' must hold 2 positive "
                        "sizes");
  if (!isfinite(scale))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'spatial_scale' is not finite");
  state = calloc(1, sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "MaxRoiPool state");
  state->pooled[0] = pooled[0];
  state->pooled[1] = pooled[1];
  state->spatial_scale = scale;
  node->state = state;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static sc_status maxroipool_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct roipool_state *state = node->state;
  const struct sc_tensor *x = node->in[0], *rois = node->in[1];
  int64_t dims[4];
  if (x->rank != 4)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input X has rank %d, expected N x C x H x W", x->rank);
  if (rois->rank != 2 || rois->dims[1] != 5)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input rois must have shape [num_rois, 5]");
  dims[0] = rois->dims[0];
  dims[1] = x->dims[1];
  dims[2] = state->pooled[0];
  dims[3] = state->pooled[1];
  return sc_tensor_set_shape(node->out[0], 4, dims, err);
}

/* Rounds a RoI coordinate scaled to the feature map, clamped to a range
 * where the integer arithmetic below cannot overflow. */
static int64_t roi_coordinate(float v, float scale)
{
  double c = floor((double)v * scale + 0.5); /* round half away from 0 */
  if ((double)v * scale < 0)
    c = -floor(-(double)v * scale + 0.5);
  if (c > 1e12)
    c = 1e12;
  if (c < -1e12)
    c = -1e12;
  return (int64_t)c;
}

/* A bin edge clamped to [0, size] before it becomes an integer. */
static int64_t bin_edge(double v, int64_t size)
{
  if (!(v > 0.0))
    return 0;
  return v >= (double)size ? size : (int64_t)v;
}

/* One RoI: bins of roi_size / pooled cells, each the max of the input
 * pixels it covers (0 for an empty bin), as in Caffe's RoIPooling. */
static void roipool_one(const struct roipool_state *state,
                        const struct sc_tensor *x, const float *roi, float *y)
{
  int64_t c, ph, pw, h = x->dims[2], w = x->dims[3];
  int64_t batch = (int64_t)roi[0];
  int64_t x1 = roi_coordinate(roi[1], state->spatial_scale);
  int64_t y1 = roi_coordinate(roi[2], state->spatial_scale);
  int64_t x2 = roi_coordinate(roi[3], state->spatial_scale);
  int64_t y2 = roi_coordinate(roi[4], state->spatial_scale);
  double bin_h = (double)(y2 - y1 + 1 > 1 ? y2 - y1 + 1 : 1) / state->pooled[0];
  double bin_w = (double)(x2 - x1 + 1 > 1 ? x2 - x1 + 1 : 1) / state->pooled[1];

  for (c = 0; c < x->dims[1]; c++) {
    const float *plane =
        (const float *)x->data + (batch * x->dims[1] + c) * h * w;
    for (ph = 0; ph < state->pooled[0]; ph++)
      for (pw = 0; pw < state->pooled[1]; pw++) {
        int64_t hs = bin_edge(floor(ph * bin_h) + (double)y1, h);
        int64_t he = bin_edge(ceil((ph + 1) * bin_h) + (double)y1, h);
        int64_t ws = bin_edge(floor(pw * bin_w) + (double)x1, w);
        int64_t we = bin_edge(ceil((pw + 1) * bin_w) + (double)x1, w);
        int64_t i, j;
        float best = -INFINITY;
        if (he <= hs || we <= ws)
          best = 0.0f;
        for (i = hs; i < he; i++)
          for (j = ws; j < we; j++)
            if (plane[i * w + j] > best)
              best = plane[i * w + j];
        *y++ = best;
      }
  }
}

static sc_status maxroipool_run(struct sc_node *node, struct sc_error *err)
{
  const struct roipool_state *state = node->state;
  const struct sc_tensor *x = node->in[0], *rois = node->in[1];
  const float *r = rois->data;
  float *y = node->out[0]->data;
  int64_t i, per_roi = x->dims[1] * state->pooled[0] * state->pooled[1];
  for (i = 0; i < rois->dims[0]; i++) {
    const float *roi = r + i * 5;
    int k;
    for (k = 0; k < 5; k++)
      if (!isfinite(roi[k]))
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "RoI %lld has a non-finite value", (long long)i);
    if (roi[0] < 0 || roi[0] >= (float)x->dims[0])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "RoI %lld has batch index %g, expected 0 to %lld",
                          (long long)i, roi[0], (long long)(x->dims[0] - 1));
    roipool_one(state, x, roi, y + i * per_roi);
  }
  return SC_OK;
}

static void roipool_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Rows: MaxPool gained Indices/storage_order at 8, ceil_mode/dilations at
 * 10 and int8/uint8 at 12; AveragePool gained count_include_pad at 7 and
 * ceil_mode at 10; LpPool's p became an int at 2 and it gained
 * ceil_mode/dilations at 18; GlobalLpPool's p became an int at 2. */
const struct sc_op sc_ops_pool[] = {
    {"", "MaxPool", 1, 7, maxpool_prepare, pool_reshape, pool_run, pool_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "MaxPool", 8, 9, maxpool_prepare, pool_reshape, pool_run, pool_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "MaxPool", 10, 11, maxpool_prepare, pool_reshape, pool_run,
     pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "MaxPool", 12, SC_OPSET_LATEST, maxpool_prepare, pool_reshape,
     pool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "AveragePool", 1, 6, averagepool_prepare, pool_reshape, pool_run,
     pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "AveragePool", 7, 9, averagepool_prepare, pool_reshape, pool_run,
     pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "AveragePool", 10, SC_OPSET_LATEST, averagepool_prepare, pool_reshape,
     pool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "LpPool", 1, 1, lppool_prepare, pool_reshape, pool_run, pool_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "LpPool", 2, 17, lppool_prepare, pool_reshape, pool_run, pool_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "LpPool", 18, SC_OPSET_LATEST, lppool_prepare, pool_reshape, pool_run,
     pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "GlobalMaxPool", 1, SC_OPSET_LATEST, global_maxpool_prepare,
     pool_reshape, pool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "GlobalAveragePool", 1, SC_OPSET_LATEST, global_averagepool_prepare,
     pool_reshape, pool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "GlobalLpPool", 1, 1, global_lppool_prepare, pool_reshape, pool_run,
     pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "GlobalLpPool", 2, SC_OPSET_LATEST, global_lppool_prepare,
     pool_reshape, pool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "MaxUnpool", 9, SC_OPSET_LATEST, maxunpool_prepare, maxunpool_reshape,
     maxunpool_run, pool_release, SC_OP_F16_VIA_FLOAT},
    {"", "MaxRoiPool", 1, SC_OPSET_LATEST, maxroipool_prepare,
     maxroipool_reshape, maxroipool_run, roipool_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
