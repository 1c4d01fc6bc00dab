#include "compare/align.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/quant.h"

/* out[n][c][h][w] = in[n][h][w][c] (to_nchw) or the reverse. */
static void permute4(const struct sc_tensor *in, struct sc_tensor *out,
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
  st = sc_tensor_create_pooled(NULL, t->dtype, rank, dims, &res, err);
  if (st)
    return st;
  if (fix == SC_LAYOUT_NHWC_TO_NCHW && t->rank == 4 && rank == 4)
    permute4(t, res, 1);
  else if (sc_tensor_size(t))
    memcpy(res->data, t->data, sc_tensor_size(t));
  *out = res;
  return SC_OK;
}

/* index of the quantization parameter for element i */
static int64_t param_of(const struct sc_quant *q, int rank, const int64_t *dims,
                        int64_t i)
{
  int64_t inner = 1;
  int r;
  if (!q || q->axis < 0 || q->n_params <= 1 || q->axis >= rank)
    return 0;
  for (r = q->axis + 1; r < rank; r++)
    inner *= dims[r];
  return (i / inner) % dims[q->axis];
}

sc_status sc_align_for_feed(const struct sc_tensor *r,
                            const struct sc_quant *r_quant, enum sc_dtype dtype,
                            const struct sc_quant *quant, int rank,
                            const int64_t *dims, enum sc_layout_fix fix,
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
      int64_t c = param_of(r_quant, r->rank, r->dims, i);
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
    permute4(f, p, 0);
    sc_tensor_free(f);
    f = p;
  }
  /* 2. into the target's dtype */
  for (i = 0; i < n; i++) {
    double v = ((double *)f->data)[i];
    if (sc_dtype_is_integer(dtype) && quant && quant->n_params > 0) {
      int32_t lo = INT32_MIN, hi = INT32_MAX;
      int64_t c = param_of(quant, rank, dims, i);
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
