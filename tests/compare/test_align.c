/* Layout and dtype alignment between stages: a header on the same storage
 * where nothing changes, and otherwise the same bytes as the plain
 * element-by-element conversion below (the implementation before the
 * sharing and the single pass), on random tensors of many dtype, grid and
 * layout combinations. Errors name what is wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare/align.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

/* --- the plain definition --- */

/* out[n][c][h][w] = in[n][h][w][c] (to_nchw) or the reverse. */
static void plain_permute4(const struct sc_tensor *in, struct sc_tensor *out,
                           int to_nchw)
{
  size_t elem = sc_dtype_size(in->dtype);
  int64_t n, c, h, w, N, C, H, W;
  const uint8_t *src = in->data;
  uint8_t *dst = out->data;
  if (to_nchw) {
    N = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  } else {
    N = in->dims[0], C = in->dims[1], H = in->dims[2], W = in->dims[3];
  }
  for (n = 0; n < N; n++)
    for (c = 0; c < C; c++)
      for (h = 0; h < H; h++)
        for (w = 0; w < W; w++) {
          int64_t nchw = ((n * C + c) * H + h) * W + w;
          int64_t nhwc = ((n * H + h) * W + w) * C + c;
          int64_t from = to_nchw ? nhwc : nchw, to = to_nchw ? nchw : nhwc;
          memcpy(dst + (size_t)to * elem, src + (size_t)from * elem, elem);
        }
}

static sc_status plain_align_for_compare(const struct sc_tensor *t,
                                         enum sc_layout_fix fix, int rank,
                                         const int64_t *dims,
                                         struct sc_tensor **out,
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
  st = sc_tensor_create_pooled(NULL, t->dtype, rank, dims, &res, err);
  if (st)
    return st;
  if (fix == SC_LAYOUT_NHWC_TO_NCHW && t->rank == 4 && rank == 4)
    plain_permute4(t, res, 1);
  else if (sc_tensor_size(t))
    memcpy(res->data, t->data, sc_tensor_size(t));
  *out = res;
  return SC_OK;
}

/* A list of parameters shorter than the axis repeats its last one. */
static int64_t plain_param_of(const struct sc_quant *q, int rank,
                              const int64_t *dims, int64_t i)
{
  int64_t inner = 1, c;
  int r;
  if (!q || q->axis < 0 || q->n_params <= 1 || q->axis >= rank)
    return 0;
  for (r = q->axis + 1; r < rank; r++)
    inner *= dims[r];
  c = (i / inner) % dims[q->axis];
  return c < q->n_params ? c : q->n_params - 1;
}

static sc_status
plain_align_for_feed(const struct sc_tensor *r, const struct sc_quant *r_quant,
                     enum sc_dtype dtype, const struct sc_quant *quant,
                     int rank, const int64_t *dims, enum sc_layout_fix fix,
                     struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *f = NULL, *res = NULL;
  int64_t i, n;
  int dequant =
      r_quant && r_quant->n_params > 0 && sc_dtype_is_integer(r->dtype);
  sc_status st;

  *out = NULL;
  if (sc_dtype_is_integer(dtype) && dtype != r->dtype &&
      (!quant || quant->n_params == 0))
    return sc_fail(err, SC_ERR_CONFIG,
                   "cannot feed a %s value without its quantization scale",
                   sc_dtype_name(dtype));
  /* 1. the reference as float64 values, in the target's layout */
  st =
      sc_tensor_create_pooled(NULL, SC_DTYPE_DOUBLE, r->rank, r->dims, &f, err);
  if (st)
    return st;
  for (i = 0; i < r->n_elements; i++) {
    double v = sc_dtype_load(r->dtype, r->data, i);
    if (dequant) {
      int64_t c = plain_param_of(r_quant, r->rank, r->dims, i);
      v = (v - (double)r_quant->zero_point[c]) * (double)r_quant->scale[c];
    }
    ((double *)f->data)[i] = v;
  }
  st = sc_shape_count(rank, dims, 8, &n, "target", err);
  if (st)
    goto done;
  if (n != r->n_elements) {
    st = sc_fail(err, SC_ERR_CONFIG, "the tensors hold %lld and %lld elements",
                 (long long)n, (long long)r->n_elements);
    goto done;
  }
  st = sc_tensor_create_pooled(NULL, dtype, rank, dims, &res, err);
  if (st)
    goto done;
  if (fix == SC_LAYOUT_NHWC_TO_NCHW && r->rank == 4 && rank == 4) {
    struct sc_tensor *p;
    st = sc_tensor_create_pooled(NULL, SC_DTYPE_DOUBLE, 4, dims, &p, err);
    if (st)
      goto done;
    plain_permute4(f, p, 0);
    sc_tensor_free(f);
    f = p;
  }
  /* 2. into the target's dtype */
  for (i = 0; i < n; i++) {
    double v = ((double *)f->data)[i];
    if (sc_dtype_is_integer(dtype) && quant && quant->n_params > 0) {
      int32_t lo = INT32_MIN, hi = INT32_MAX;
      int64_t c = plain_param_of(quant, rank, dims, i);
      sc_quant_range(dtype, &lo, &hi);
      v = nearbyint(v / (double)quant->scale[c]) + (double)quant->zero_point[c];
      v = v < lo ? lo : v > hi ? hi : v;
    }
    sc_dtype_store(dtype, res->data, i, v);
  }
  *out = res;
  res = NULL;
done:
  sc_tensor_free(f);
  sc_tensor_free(res);
  return st;
}

/* --- test data --- */

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static double uniform(void)
{
  return sc_test_uniform(&rng_state);
}

/* A tensor of random values: floats with zeros, NaN, infinities and
 * values up to 8 in magnitude; integers over the range of the dtype, a
 * tenth of them at its ends (int64 beyond 2^53). */
static struct sc_tensor *random_tensor(enum sc_dtype dtype, int rank,
                                       const int64_t *dims)
{
  struct sc_tensor *t;
  int64_t i;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &t, NULL), SC_OK);
  for (i = 0; i < t->n_elements; i++) {
    double u = uniform(), v = (uniform() * 2 - 1) * 8;
    if (dtype == SC_DTYPE_INT64) {
      sc_dtype_store_i64(dtype, t->data, i,
                         (int64_t)(rng_state >> 1) * (u < 0.5 ? 1 : -1));
      continue;
    }
    if (sc_dtype_is_integer(dtype) || dtype == SC_DTYPE_BOOL)
      v = u < 0.05 ? -1e30
          : u < 0.1
              ? 1e30
              : ldexp(sc_dtype_is_signed(dtype) ? uniform() * 2 - 1 : uniform(),
                      8 * (int)sc_dtype_size(dtype));
    else if (u < 0.1)
      v = 0.0;
    else if (u < 0.12)
      v = NAN;
    else if (u < 0.14)
      v = u < 0.13 ? INFINITY : -INFINITY;
    sc_dtype_store(dtype, t->data, i, v);
  }
  return t;
}

/* Per-tensor (n_params 1) or per-axis parameters; every scale non-zero
 * unless zero_scale. */
static struct sc_quant *make_quant(enum sc_dtype dtype, int axis,
                                   int64_t n_params, int zero_scale)
{
  struct sc_quant *q = NULL;
  int64_t c;
  assert_int_equal(sc_quant_create(dtype, axis, n_params, &q, NULL), SC_OK);
  for (c = 0; c < n_params; c++) {
    q->scale[c] = (float)(0.01 + 0.1 * uniform());
    q->zero_point[c] = dtype == SC_DTYPE_UINT8 ? 128 - c : c - 2;
  }
  if (zero_scale)
    q->scale[0] = 0.0f;
  return q;
}

/* Fails unless a and b have the same dtype, shape and bytes. */
static void assert_same_tensor(const char *what, const struct sc_tensor *a,
                               const struct sc_tensor *b)
{
  size_t i, size = sc_tensor_size(a);
  if (a->dtype != b->dtype || !sc_tensor_same_shape(a, b))
    fail_msg("%s: %s %lld elements vs %s %lld elements", what,
             sc_dtype_name(a->dtype), (long long)a->n_elements,
             sc_dtype_name(b->dtype), (long long)b->n_elements);
  for (i = 0; i < size; i++)
    if (((const uint8_t *)a->data)[i] != ((const uint8_t *)b->data)[i])
      fail_msg("%s: byte %zu (element %zu) differs from the plain conversion",
               what, i, i / sc_dtype_size(a->dtype));
}

/* --- sc_align_for_compare --- */

static void test_align_compare_same_layout_shares_storage(void **state)
{
  int64_t dims[3] = {1, 3, 4}, ref_dims[2] = {3, 4};
  struct sc_tensor *t = random_tensor(SC_DTYPE_FLOAT, 3, dims), *a, *plain;
  struct sc_error err;
  (void)state;

  assert_int_equal(
      sc_align_for_compare(t, SC_LAYOUT_SAME, 2, ref_dims, &a, &err), SC_OK);
  assert_ptr_equal(a->data, t->data);
  assert_int_equal(
      plain_align_for_compare(t, SC_LAYOUT_SAME, 2, ref_dims, &plain, &err),
      SC_OK);
  assert_same_tensor("reshape", a, plain);
  sc_tensor_free(t); /* the result keeps the storage alive */
  assert_same_tensor("reshape, source freed", a, plain);
  sc_tensor_free(a);
  sc_tensor_free(plain);
}

static void test_align_compare_borrowed_tensor_is_copied(void **state)
{
  float values[6] = {1, 2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  struct sc_tensor *t, *a;
  struct sc_error err;
  (void)state;

  assert_int_equal(sc_tensor_wrap(SC_DTYPE_FLOAT, 2, dims, values, &t, &err),
                   SC_OK);
  assert_int_equal(sc_align_for_compare(t, SC_LAYOUT_SAME, 2, dims, &a, &err),
                   SC_OK);
  assert_ptr_not_equal(a->data, values);
  assert_memory_equal(a->data, values, sizeof values);
  sc_tensor_free(t);
  sc_tensor_free(a);
}

static void test_align_compare_nhwc_matches_plain_permutation(void **state)
{
  static const enum sc_dtype types[] = {SC_DTYPE_UINT8, SC_DTYPE_FLOAT16,
                                        SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
  int64_t nhwc[4] = {2, 5, 7, 3}, nchw[4] = {2, 3, 5, 7};
  size_t k;
  (void)state;

  for (k = 0; k < sizeof types / sizeof types[0]; k++) {
    struct sc_tensor *t = random_tensor(types[k], 4, nhwc), *a, *plain;
    struct sc_error err;
    assert_int_equal(
        sc_align_for_compare(t, SC_LAYOUT_NHWC_TO_NCHW, 4, nchw, &a, &err),
        SC_OK);
    assert_int_equal(plain_align_for_compare(t, SC_LAYOUT_NHWC_TO_NCHW, 4, nchw,
                                             &plain, &err),
                     SC_OK);
    assert_ptr_not_equal(a->data, t->data);
    assert_same_tensor(sc_dtype_name(types[k]), a, plain);
    sc_tensor_free(t);
    sc_tensor_free(a);
    sc_tensor_free(plain);
  }
}

static void test_align_compare_count_mismatch_is_an_error(void **state)
{
  int64_t dims[2] = {3, 4}, ref_dims[2] = {3, 5};
  struct sc_tensor *t = random_tensor(SC_DTYPE_FLOAT, 2, dims), *a;
  struct sc_error err;
  (void)state;

  assert_int_equal(
      sc_align_for_compare(t, SC_LAYOUT_SAME, 2, ref_dims, &a, &err),
      SC_ERR_CONFIG);
  assert_null(a);
  assert_non_null(strstr(err.message, "15"));
  assert_non_null(strstr(err.message, "12"));
  sc_tensor_free(t);
}

/* --- sc_align_for_feed --- */

/* One conversion: the reference's dtype and grid, the target's, the
 * layout; whether the result must share the reference's storage. */
struct feed_case {
  const char *name;
  enum sc_dtype r_dtype, dtype;
  enum sc_dtype r_qdtype, qdtype;
  int r_axis, axis;
  int64_t r_params, params; /* 0: no quantization */
  int same_quant;           /* the target uses the reference's parameters */
  int zero_scale;
  int nhwc;     /* the target holds NHWC */
  int reshaped; /* the target is [7, 3, 10], the reference [2, 3, 5, 7] */
  int shares;
};

static const struct feed_case feed_cases[] = {
    {.name = "float to float",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_FLOAT,
     .shares = 1},
    {.name = "float16 to float16",
     .r_dtype = SC_DTYPE_FLOAT16,
     .dtype = SC_DTYPE_FLOAT16,
     .shares = 1},
    {.name = "float with a quantized view to float",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_FLOAT,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = -1,
     .r_params = 1,
     .qdtype = SC_DTYPE_INT8,
     .axis = 1,
     .params = 3,
     .shares = 1},
    {.name = "float to float16",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_FLOAT16},
    {.name = "float16 to float",
     .r_dtype = SC_DTYPE_FLOAT16,
     .dtype = SC_DTYPE_FLOAT},
    {.name = "float to bfloat16",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_BFLOAT16},
    {.name = "double to float",
     .r_dtype = SC_DTYPE_DOUBLE,
     .dtype = SC_DTYPE_FLOAT},
    {.name = "float to NHWC float",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_FLOAT,
     .nhwc = 1},
    {.name = "float to int8 per-tensor",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_INT8,
     .qdtype = SC_DTYPE_INT8,
     .axis = -1,
     .params = 1},
    {.name = "float to uint8 per-axis",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_UINT8,
     .qdtype = SC_DTYPE_UINT8,
     .axis = 1,
     .params = 3},
    {.name = "float to NHWC int8 per-axis",
     .r_dtype = SC_DTYPE_FLOAT,
     .dtype = SC_DTYPE_INT8,
     .qdtype = SC_DTYPE_INT8,
     .axis = 3,
     .params = 3,
     .nhwc = 1},
    {.name = "int8 per-axis to float",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_FLOAT,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = 1,
     .r_params = 3},
    {.name = "uint8 to NHWC float",
     .r_dtype = SC_DTYPE_UINT8,
     .dtype = SC_DTYPE_FLOAT,
     .r_qdtype = SC_DTYPE_UINT8,
     .r_axis = -1,
     .r_params = 1,
     .nhwc = 1},
    {.name = "int8 to int8 on the same grid",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = 1,
     .r_params = 3,
     .same_quant = 1,
     .shares = 1},
    {.name = "int8 to int8 on the same parameters, reshaped",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = 1,
     .r_params = 3,
     .same_quant = 1,
     .reshaped = 1},
    {.name = "int8 to int8 on the same grid, a zero scale",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = 1,
     .r_params = 3,
     .same_quant = 1,
     .zero_scale = 1},
    {.name = "int8 to int8 on another grid",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = -1,
     .r_params = 1,
     .qdtype = SC_DTYPE_INT8,
     .axis = -1,
     .params = 1},
    {.name = "int8 to uint8",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_UINT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = 1,
     .r_params = 3,
     .qdtype = SC_DTYPE_UINT8,
     .axis = -1,
     .params = 1},
    {.name = "int8 with parameters to plain int8",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .r_qdtype = SC_DTYPE_INT8,
     .r_axis = -1,
     .r_params = 1},
    {.name = "plain int8 to int8 with parameters",
     .r_dtype = SC_DTYPE_INT8,
     .dtype = SC_DTYPE_INT8,
     .qdtype = SC_DTYPE_INT8,
     .axis = -1,
     .params = 1},
    {.name = "uint16 to uint16",
     .r_dtype = SC_DTYPE_UINT16,
     .dtype = SC_DTYPE_UINT16,
     .shares = 1},
    {.name = "int32 to int32",
     .r_dtype = SC_DTYPE_INT32,
     .dtype = SC_DTYPE_INT32,
     .shares = 1},
    {.name = "int64 to int64 (beyond 2^53: converted)",
     .r_dtype = SC_DTYPE_INT64,
     .dtype = SC_DTYPE_INT64},
    {.name = "bool to bool", .r_dtype = SC_DTYPE_BOOL, .dtype = SC_DTYPE_BOOL},
};

static void test_align_feed_matches_plain_conversion(void **state)
{
  int64_t nchw[4] = {2, 3, 5, 7}, nhwc[4] = {2, 5, 7, 3}, other[3] = {7, 3, 10};
  size_t k;
  (void)state;

  for (k = 0; k < sizeof feed_cases / sizeof feed_cases[0]; k++) {
    const struct feed_case *fc = &feed_cases[k];
    const int64_t *dims = fc->nhwc ? nhwc : fc->reshaped ? other : nchw;
    int rank = fc->reshaped ? 3 : 4;
    enum sc_layout_fix fix = fc->nhwc ? SC_LAYOUT_NHWC_TO_NCHW : SC_LAYOUT_SAME;
    struct sc_tensor *r = random_tensor(fc->r_dtype, 4, nchw), *a, *plain;
    struct sc_quant *rq = NULL, *q = NULL;
    struct sc_error err;

    if (fc->r_params)
      rq = make_quant(fc->r_qdtype, fc->r_axis, fc->r_params, fc->zero_scale);
    if (fc->params)
      q = make_quant(fc->qdtype, fc->axis, fc->params, fc->zero_scale);
    if (fc->same_quant)
      q = rq;
    assert_int_equal(
        sc_align_for_feed(r, rq, fc->dtype, q, rank, dims, fix, NULL, &a, &err),
        SC_OK);
    assert_int_equal(plain_align_for_feed(r, rq, fc->dtype, q, rank, dims, fix,
                                          &plain, &err),
                     SC_OK);
    assert_same_tensor(fc->name, a, plain);
    if (fc->shares && a->data != r->data)
      fail_msg("%s: a copy where nothing changes", fc->name);
    if (!fc->shares && a->data == r->data)
      fail_msg("%s: shares the reference's storage", fc->name);
    sc_tensor_free(a);
    sc_tensor_free(plain);
    sc_tensor_free(r);
    sc_quant_free(rq);
    if (!fc->same_quant)
      sc_quant_free(q);
  }
}

/* Values that stress a conversion to float16 or an 8-bit grid: float16
 * values and the points half way between them, both ends of the float16
 * range and its subnormals, multiples and half-multiples of the scales of
 * make_quant (ties), magnitudes that saturate, signed zeros, NaN (with a
 * payload) and infinities. */
static float awkward_float(int64_t i)
{
  uint16_t h = (uint16_t)(rng_state >> 17);
  float nan_payload;
  uint32_t bits = 0x7fc01234u | (uint32_t)(i & 1) << 31;
  double u = uniform();
  memcpy(&nan_payload, &bits, sizeof bits);
  switch (i % 12) {
  case 0:
    return sc_half_to_float(h);
  case 1: /* half way to the next float16 (ties to even) */
    return (float)(((double)sc_half_to_float(h) +
                    (double)sc_half_to_float((uint16_t)(h + 1))) /
                   2);
  case 2:
    return (float)((uniform() * 2 - 1) * 65536.0); /* overflow at 65520 */
  case 3:
    return (float)(ldexp(uniform() - 0.5, -14)); /* subnormal float16 */
  case 4: /* k + 1/2 steps of a scale: ties on the grid */
    return (float)((floor((uniform() * 2 - 1) * 300) + 0.5) * 0.0625);
  case 5:
    return (float)((uniform() * 2 - 1) * 1e6);
  case 6:
    return u < 0.5 ? 0.0f : -0.0f;
  case 7:
    return u < 0.5 ? nan_payload : NAN;
  case 8:
    return u < 0.5 ? INFINITY : -INFINITY;
  default:
    return (float)((uniform() * 2 - 1) * 8);
  }
}

/* The fast paths of sc_align_for_feed (float <-> float16, float <-> int8
 * and uint8 with per-tensor or per-axis parameters, a zero scale among
 * them) give the plain conversion's bytes on awkward values and sizes
 * that are not multiples of the vector width; every float16 and every
 * 8-bit value is converted at least once. Each conversion runs on one
 * thread and on two: the large cases are split into ranges at 65 536 and
 * 131 072 elements, inside the runs of their per-channel parameters
 * (56 153 elements each). */
static void test_align_feed_fast_paths_match_plain_conversion(void **state)
{
  int64_t small[4] = {1, 3, 37, 41}, every16[4] = {1, 1, 256, 256},
          large[4] = {1, 3, 241, 233};
  struct sc_threadpool *two;
  struct sc_error pool_err;
  struct {
    const char *name;
    enum sc_dtype r_dtype, dtype;
    int r_axis, axis; /* -2: no quantization */
    int64_t n_params;
    int zero_scale;
    const int64_t *dims;
  } cases[] = {
      {"float to float16", SC_DTYPE_FLOAT, SC_DTYPE_FLOAT16, -2, -2, 0, 0,
       small},
      {"every float16 to float", SC_DTYPE_FLOAT16, SC_DTYPE_FLOAT, -2, -2, 0, 0,
       every16},
      {"float to int8 per-tensor", SC_DTYPE_FLOAT, SC_DTYPE_INT8, -2, -1, 1, 0,
       small},
      {"float to uint8 per-tensor", SC_DTYPE_FLOAT, SC_DTYPE_UINT8, -2, -1, 1,
       0, small},
      {"float to int8 along axis 1", SC_DTYPE_FLOAT, SC_DTYPE_INT8, -2, 1, 3, 0,
       small},
      {"float to uint8 along axis 3, a short list, a zero scale",
       SC_DTYPE_FLOAT, SC_DTYPE_UINT8, -2, 3, 5, 1, small},
      {"float to int8 along axis 2, a zero scale", SC_DTYPE_FLOAT,
       SC_DTYPE_INT8, -2, 2, 37, 1, small},
      {"every int8 to float per-tensor", SC_DTYPE_INT8, SC_DTYPE_FLOAT, -1, -2,
       1, 0, every16},
      {"every uint8 to float along axis 2", SC_DTYPE_UINT8, SC_DTYPE_FLOAT, 2,
       -2, 256, 0, every16},
      {"int8 to float along axis 1, a zero scale", SC_DTYPE_INT8,
       SC_DTYPE_FLOAT, 1, -2, 3, 1, small},
      {"float to float16, split", SC_DTYPE_FLOAT, SC_DTYPE_FLOAT16, -2, -2, 0,
       0, large},
      {"float to uint8 along axis 1, split", SC_DTYPE_FLOAT, SC_DTYPE_UINT8, -2,
       1, 3, 0, large},
      {"uint8 to float along axis 1, split", SC_DTYPE_UINT8, SC_DTYPE_FLOAT, 1,
       -2, 3, 0, large},
  };
  size_t k;
  int threaded;
  (void)state;

  assert_int_equal(sc_threadpool_create(2, &two, &pool_err), SC_OK);
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct sc_tensor *r, *a, *plain;
    struct sc_quant *rq = NULL, *q = NULL;
    struct sc_error err;
    int64_t i;

    assert_int_equal(
        sc_tensor_create(cases[k].r_dtype, 4, cases[k].dims, &r, &err), SC_OK);
    for (i = 0; i < r->n_elements; i++) {
      if (cases[k].r_dtype == SC_DTYPE_FLOAT)
        ((float *)r->data)[i] = awkward_float(i);
      else /* every bit pattern, in order */
        sc_dtype_store_i64(cases[k].r_dtype, r->data, i,
                           cases[k].r_dtype == SC_DTYPE_INT8    ? (int8_t)i
                           : cases[k].r_dtype == SC_DTYPE_UINT8 ? (uint8_t)i
                                                                : (uint16_t)i);
    }
    if (cases[k].r_axis > -2)
      rq = make_quant(cases[k].r_dtype, cases[k].r_axis, cases[k].n_params,
                      cases[k].zero_scale);
    if (cases[k].axis > -2) {
      q = make_quant(cases[k].dtype, cases[k].axis, cases[k].n_params,
                     cases[k].zero_scale);
      q->scale[q->n_params - 1] = 0.0625f; /* the ties of awkward_float */
    }
    assert_int_equal(plain_align_for_feed(r, rq, cases[k].dtype, q, 4,
                                          cases[k].dims, SC_LAYOUT_SAME, &plain,
                                          &err),
                     SC_OK);
    for (threaded = 0; threaded < 2; threaded++) {
      assert_int_equal(sc_align_for_feed(r, rq, cases[k].dtype, q, 4,
                                         cases[k].dims, SC_LAYOUT_SAME,
                                         threaded ? two : NULL, &a, &err),
                       SC_OK);
      assert_same_tensor(cases[k].name, a, plain);
      sc_tensor_free(a);
    }
    sc_tensor_free(plain);
    sc_tensor_free(r);
    sc_quant_free(rq);
    sc_quant_free(q);
  }
  sc_threadpool_free(two);
}

static void test_align_feed_integer_without_scale_is_an_error(void **state)
{
  int64_t dims[2] = {2, 3};
  struct sc_tensor *r = random_tensor(SC_DTYPE_FLOAT, 2, dims), *a;
  struct sc_error err;
  (void)state;

  assert_int_equal(sc_align_for_feed(r, NULL, SC_DTYPE_INT8, NULL, 2, dims,
                                     SC_LAYOUT_SAME, NULL, &a, &err),
                   SC_ERR_CONFIG);
  assert_null(a);
  assert_non_null(strstr(err.message, "int8"));
  sc_tensor_free(r);
}

static void test_align_feed_count_mismatch_is_an_error(void **state)
{
  int64_t dims[2] = {2, 3}, other[2] = {2, 4};
  struct sc_tensor *r = random_tensor(SC_DTYPE_FLOAT, 2, dims), *a;
  struct sc_error err;
  (void)state;

  assert_int_equal(sc_align_for_feed(r, NULL, SC_DTYPE_FLOAT, NULL, 2, other,
                                     SC_LAYOUT_SAME, NULL, &a, &err),
                   SC_ERR_CONFIG);
  assert_null(a);
  assert_non_null(strstr(err.message, "8"));
  assert_non_null(strstr(err.message, "6"));
  sc_tensor_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_align_compare_same_layout_shares_storage),
      cmocka_unit_test(test_align_compare_borrowed_tensor_is_copied),
      cmocka_unit_test(test_align_compare_nhwc_matches_plain_permutation),
      cmocka_unit_test(test_align_compare_count_mismatch_is_an_error),
      cmocka_unit_test(test_align_feed_matches_plain_conversion),
      cmocka_unit_test(test_align_feed_fast_paths_match_plain_conversion),
      cmocka_unit_test(test_align_feed_integer_without_scale_is_an_error),
      cmocka_unit_test(test_align_feed_count_mismatch_is_an_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
