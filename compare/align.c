#include "compare/align.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/quant.h"
#include "runtime/threadpool.h"

/* out[n][c][h][w] = in[n][h][w][c] (to_nchw) or the reverse. Each element
 * size (1, 2, 4 or 8 bytes) has its loop, where memcpy of a constant size
 * compiles to one move. */
#define PERMUTE4(size)                                                         \
  do {                                                                         \
    const uint8_t *src = in->data;                                             \
    uint8_t *dst = out->data;                                                  \
    for (n = 0; n < N; n++)                                                    \
      for (c = 0; c < C; c++)                                                  \
        for (h = 0; h < H; h++)                                                \
          for (w = 0; w < W; w++) {                                            \
            int64_t nchw = ((n * C + c) * H + h) * W + w;                      \
            int64_t nhwc = ((n * H + h) * W + w) * C + c;                      \
            int64_t from = to_nchw ? nhwc : nchw, to = to_nchw ? nchw : nhwc;  \
            memcpy(dst + to * (size), src + from * (size), (size));            \
          }                                                                    \
  } while (0)

static void permute4(const struct sc_tensor *in, struct sc_tensor *out,
                     int to_nchw)
{
  int64_t n, c, h, w, N, C, H, W;
  if (to_nchw) {
    N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  } else {
    N = in->dims[0], C = in->dims[1], H = in->dims[2], W = in->dims[3];
  }
  switch (sc_dtype_size(in->dtype)) {
  case 1:
    PERMUTE4(1);
    break;
  case 2:
    PERMUTE4(2);
    break;
  case 4:
    PERMUTE4(4);
    break;
  case 8:
    PERMUTE4(8);
    break;
  default: /* no other size: sc_dtype_size is 0 for what the runtime
              cannot hold */
    break;
  }
}

#undef PERMUTE4

/* A new header on t's storage (a copy when t borrows its memory) with the
 * shape rank/dims, which holds as many elements. */
static sc_status share_reshaped(const struct sc_tensor *t, int rank,
                                const int64_t *dims, struct sc_tensor **out,
                                struct sc_error *err)
{
  struct sc_tensor *res;
  sc_status st = sc_tensor_ref(t, &res, err);
  if (st)
    return st;
  res->rank = rank;
  memset(res->dims, 0, sizeof res->dims);
  if (rank > 0)
    memcpy(res->dims, dims, (size_t)rank * sizeof *dims);
  *out = res;
  return SC_OK;
}

sc_status sc_align_for_compare(const struct sc_tensor *t,
                               enum sc_layout_fix fix, int rank,
                               const int64_t *dims, struct sc_tensor **out,
                               struct sc_error *err)
{
  struct sc_tensor *res;
  int64_t n;
  sc_status st;

  *out = NULL;
  st =
      sc_shape_count(rank, dims, sc_dtype_size(t->dtype), &n, "reference", err);
  if (st)
    return st;
  if (n != t->n_elements)
    return sc_fail(err, SC_ERR_CONFIG,
                   "the tensors hold %lld and %lld elements", (long long)n,
                   (long long)t->n_elements);
  if (!(fix == SC_LAYOUT_NHWC_TO_NCHW && t->rank == 4 && rank == 4))
    return share_reshaped(t, rank, dims, out, err);
  st = sc_tensor_create_pooled(NULL, t->dtype, rank, dims, &res, err);
  if (st)
    return st;
  permute4(t, res, 1);
  *out = res;
  return SC_OK;
}

/* What one side's quantization parameters need per element. */
struct grid_walk {
  const struct sc_quant *q;
  int64_t inner, dim; /* dim 0: one parameter for every element */
};

static void grid_walk_init(struct grid_walk *g, const struct sc_quant *q,
                           int rank, const int64_t *dims)
{
  int r;
  g->q = q;
  g->inner = 1;
  g->dim = 0;
  if (!q || q->axis < 0 || q->n_params <= 1 || q->axis >= rank)
    return;
  for (r = q->axis + 1; r < rank; r++)
    g->inner *= dims[r];
  g->dim = dims[q->axis];
}

/* index of the quantization parameter for element i (the last one where
 * the list is shorter than the axis, as compare/metrics.c reads it) */
static int64_t param_of(const struct grid_walk *g, int64_t i)
{
  int64_t c;
  if (!g->dim)
    return 0;
  c = (i / g->inner) % g->dim;
  return c < g->q->n_params ? c : g->q->n_params - 1;
}

/* 1 when every element of r has the same parameters under r_quant (with
 * r's shape) as under quant (with rank/dims), every scale finite and
 * non-zero and every zero point within 2^31: dequantizing an int32-range
 * integer q and quantizing it again gives back q (x = q - zero_point is
 * below 2^33, so the two roundings of x * s / s stay within 2^-19 of x). */
static int same_grid(const struct sc_tensor *r, const struct sc_quant *r_quant,
                     const struct sc_quant *quant, int rank,
                     const int64_t *dims)
{
  struct grid_walk a, b;
  int64_t c;
  grid_walk_init(&a, r_quant, r->rank, r->dims);
  grid_walk_init(&b, quant, rank, dims);
  if (r_quant->n_params != quant->n_params || a.dim != b.dim)
    return 0;
  if (a.dim && (a.inner != b.inner || a.dim > r_quant->n_params))
    return 0;
  for (c = 0; c < r_quant->n_params; c++)
    if (r_quant->scale[c] != quant->scale[c] ||
        r_quant->zero_point[c] != quant->zero_point[c] ||
        !isfinite(quant->scale[c]) || quant->scale[c] == 0 ||
        quant->zero_point[c] > INT32_MAX || quant->zero_point[c] < INT32_MIN)
      return 0;
  return 1;
}

/* 1 when converting r as sc_align_for_feed does would give back r's own
 * elements: the same dtype and no permutation, and either a float type or
 * an integer type that double holds exactly, with neither side quantized
 * or the same quantization grid on both. (The conversion would make the
 * payload of a float16/bfloat16 NaN canonical, and quiet a signalling
 * float NaN; sharing keeps them as they are. NaN is NaN to every kernel
 * and metric.) */
static int feed_is_identity(const struct sc_tensor *r,
                            const struct sc_quant *r_quant, enum sc_dtype dtype,
                            const struct sc_quant *quant, int rank,
                            const int64_t *dims, int permute)
{
  int r_quantized = r_quant && r_quant->n_params > 0;
  int quantized = quant && quant->n_params > 0;
  int32_t lo, hi;
  if (permute || dtype != r->dtype)
    return 0;
  if (sc_dtype_is_float(dtype))
    return 1;
  switch (dtype) {
  case SC_DTYPE_INT8:
  case SC_DTYPE_UINT8:
  case SC_DTYPE_INT16:
  case SC_DTYPE_UINT16:
  case SC_DTYPE_INT32:
  case SC_DTYPE_UINT32:
    break;
  default: /* int64 beyond 2^53, bool bytes other than 0 and 1 */
    return 0;
  }
  if (!r_quantized && !quantized)
    return 1;
  /* the range of the quantization must hold every value of the dtype */
  return r_quantized && quantized && sc_quant_range(dtype, &lo, &hi) == 0 &&
         same_grid(r, r_quant, quant, rank, dims);
}

/* Element i of r as a double, dequantized with r_quant when dequant. */
static double feed_value(const struct sc_tensor *r, const struct grid_walk *rg,
                         int dequant, int64_t i)
{
  double v = sc_dtype_load(r->dtype, r->data, i);
  if (dequant) {
    int64_t c = param_of(rg, i);
    v = (v - (double)rg->q->zero_point[c]) * (double)rg->q->scale[c];
  }
  return v;
}

/* Stores v as element i of res, quantized on g's grid when quantize. */
static void feed_store(struct sc_tensor *res, const struct grid_walk *g,
                       int quantize, int32_t lo, int32_t hi, int64_t i,
                       double v)
{
  if (quantize) {
    int64_t c = param_of(g, i);
    v = nearbyint(v / (double)g->q->scale[c]) + (double)g->q->zero_point[c];
    v = v < lo ? lo : v > hi ? hi : v;
  }
  sc_dtype_store(res->dtype, res->data, i, v);
}

/* --- the conversion without a permutation ---
 *
 * Fast paths give the same values as feed_value + feed_store, bit for
 * bit, without their per-element dtype switch and parameter lookup: float
 * <-> float16 through the bulk converters (F16C where the CPU has it),
 * and float <-> int8/uint8 quantization and dequantization, parameter run
 * by parameter run. tests/compare/test_align.c checks them against the
 * plain conversion, on one thread and on several. */

/* The end of the run of elements from i on that share g's parameter (at
 * most n). */
static int64_t param_run_end(const struct grid_walk *g, int64_t i, int64_t n)
{
  int64_t end = g->dim ? (i / g->inner + 1) * g->inner : n;
  return end < n ? end : n;
}

/* sc_round_half_even(x / scale) + zero_point saturated to [lo, hi], as
 * feed_store computes it, for elements [begin, n); NaN (x NaN, or 0 / 0)
 * is stored as 0, as sc_dtype_store stores it. */
#define QUANTIZE_RUNS(type)                                                    \
  do {                                                                         \
    const float *x = job->r->data;                                             \
    type *q = job->res->data;                                                  \
    for (i = begin; i < n; i = end) {                                          \
      int64_t c = param_of(g, i);                                              \
      double scale = (double)g->q->scale[c];                                   \
      double zero_point = (double)g->q->zero_point[c];                         \
      end = param_run_end(g, i, n);                                            \
      for (k = i; k < end; k++) {                                              \
        double v = sc_round_half_even((double)x[k] / scale) + zero_point;      \
        v = v < job->lo ? job->lo : v > job->hi ? job->hi : v;                 \
        q[k] = v == v ? (type)v : 0;                                           \
      }                                                                        \
    }                                                                          \
  } while (0)

/* (q - zero_point) * scale in double, stored as float. */
#define DEQUANTIZE_RUNS(type)                                                  \
  do {                                                                         \
    const type *q = job->r->data;                                              \
    float *y = job->res->data;                                                 \
    for (i = begin; i < n; i = end) {                                          \
      int64_t c = param_of(rg, i);                                             \
      double scale = (double)rg->q->scale[c];                                  \
      double zero_point = (double)rg->q->zero_point[c];                        \
      end = param_run_end(rg, i, n);                                           \
      for (k = i; k < end; k++)                                                \
        y[k] = (float)(((double)q[k] - zero_point) * scale);                   \
    }                                                                          \
  } while (0)

enum feed_path {
  FEED_PLAIN, /* no fast path: feed_value + feed_store */
  FEED_TO_HALF,
  FEED_FROM_HALF,
  FEED_QUANTIZE,
  FEED_DEQUANTIZE
};

/* One conversion without a permutation, split over threads by element
 * ranges (each element is converted on its own: the same bits for any
 * split). */
struct feed_job {
  enum feed_path path;
  const struct sc_tensor *r;
  const struct grid_walk *rg, *g;
  struct sc_tensor *res;
  int dequant, quantize;
  int32_t lo, hi;
};

static enum feed_path feed_path_of(enum sc_dtype from, enum sc_dtype to,
                                   int dequant, int quantize)
{
  int to_8bit = to == SC_DTYPE_INT8 || to == SC_DTYPE_UINT8;
  int from_8bit = from == SC_DTYPE_INT8 || from == SC_DTYPE_UINT8;
  if (!dequant && !quantize && from == SC_DTYPE_FLOAT && to == SC_DTYPE_FLOAT16)
    return FEED_TO_HALF;
  if (!dequant && !quantize && from == SC_DTYPE_FLOAT16 && to == SC_DTYPE_FLOAT)
    return FEED_FROM_HALF;
  if (!dequant && quantize && from == SC_DTYPE_FLOAT && to_8bit)
    return FEED_QUANTIZE;
  if (dequant && !quantize && to == SC_DTYPE_FLOAT && from_8bit)
    return FEED_DEQUANTIZE;
  return FEED_PLAIN;
}

static void feed_range(void *ctx, int64_t begin, int64_t n)
{
  const struct feed_job *job = ctx;
  const struct grid_walk *rg = job->rg, *g = job->g;
  enum sc_dtype from = job->r->dtype, to = job->res->dtype;
  int64_t i, k, end;

  switch (job->path) {
  case FEED_TO_HALF:
    sc_float_to_half_n((const float *)job->r->data + begin,
                       (uint16_t *)job->res->data + begin, n - begin);
    break;
  case FEED_FROM_HALF:
    sc_half_to_float_n((const uint16_t *)job->r->data + begin,
                       (float *)job->res->data + begin, n - begin);
    break;
  case FEED_QUANTIZE:
    if (to == SC_DTYPE_INT8)
      QUANTIZE_RUNS(int8_t);
    else
      QUANTIZE_RUNS(uint8_t);
    break;
  case FEED_DEQUANTIZE:
    if (from == SC_DTYPE_INT8)
      DEQUANTIZE_RUNS(int8_t);
    else
      DEQUANTIZE_RUNS(uint8_t);
    break;
  case FEED_PLAIN:
    for (i = begin; i < n; i++)
      feed_store(job->res, g, job->quantize, job->lo, job->hi, i,
                 feed_value(job->r, rg, job->dequant, i));
    break;
  }
}

#undef QUANTIZE_RUNS
#undef DEQUANTIZE_RUNS

/* Elements converted per range of a parallel conversion. */
#define FEED_GRAIN ((int64_t)1 << 16)

sc_status sc_align_for_feed(const struct sc_tensor *r,
                            const struct sc_quant *r_quant, enum sc_dtype dtype,
                            const struct sc_quant *quant, int rank,
                            const int64_t *dims, enum sc_layout_fix fix,
                            struct sc_threadpool *threads,
                            struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *f = NULL, *res = NULL;
  struct grid_walk rg, g;
  int64_t i, n;
  int dequant =
      r_quant && r_quant->n_params > 0 && sc_dtype_is_integer(r->dtype);
  int quantize = sc_dtype_is_integer(dtype) && quant && quant->n_params > 0;
  int permute = fix == SC_LAYOUT_NHWC_TO_NCHW && r->rank == 4 && rank == 4;
  int32_t lo = INT32_MIN, hi = INT32_MAX;
  sc_status st;

  *out = NULL;
  if (sc_dtype_is_integer(dtype) && dtype != r->dtype &&
      (!quant || quant->n_params == 0))
    return sc_fail(err, SC_ERR_CONFIG,
                   "cannot feed a %s value without its quantization scale",
                   sc_dtype_name(dtype));
  st = sc_shape_count(rank, dims, 8, &n, "target", err);
  if (st)
    return st;
  if (n != r->n_elements)
    return sc_fail(err, SC_ERR_CONFIG,
                   "the tensors hold %lld and %lld elements", (long long)n,
                   (long long)r->n_elements);
  if (feed_is_identity(r, r_quant, dtype, quant, rank, dims, permute))
    return share_reshaped(r, rank, dims, out, err);

  grid_walk_init(&rg, r_quant, r->rank, r->dims);
  grid_walk_init(&g, quant, rank, dims);
  if (quantize)
    sc_quant_range(dtype, &lo, &hi);
  st = sc_tensor_create_pooled(NULL, dtype, rank, dims, &res, err);
  if (st)
    return st;
  if (!permute) { /* element i of r becomes element i of the result */
    struct feed_job job;
    job.path = feed_path_of(r->dtype, dtype, dequant, quantize);
    job.r = r;
    job.rg = &rg;
    job.g = &g;
    job.res = res;
    job.dequant = dequant;
    job.quantize = quantize;
    job.lo = lo;
    job.hi = hi;
    sc_parallel_for(threads, n, FEED_GRAIN, feed_range, &job);
    *out = res;
    return SC_OK;
  }
  /* 1. the reference as float64 values, in the target's layout */
  st =
      sc_tensor_create_pooled(NULL, SC_DTYPE_DOUBLE, r->rank, r->dims, &f, err);
  if (st)
    goto done;
  for (i = 0; i < n; i++)
    ((double *)f->data)[i] = feed_value(r, &rg, dequant, i);
  {
    struct sc_tensor *p;
    st = sc_tensor_create_pooled(NULL, SC_DTYPE_DOUBLE, 4, dims, &p, err);
    if (st)
      goto done;
    permute4(f, p, 0);
    sc_tensor_free(f);
    f = p;
  }
  /* 2. into the target's dtype */
  for (i = 0; i < n; i++)
    feed_store(res, &g, quantize, lo, hi, i, ((double *)f->data)[i]);
  *out = res;
  res = NULL;
done:
  sc_tensor_free(f);
  sc_tensor_free(res);
  return st;
}
