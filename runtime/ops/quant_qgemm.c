/* Operator family: com.microsoft QGemm, the quantized Gemm ONNX Runtime's
 * quantizer emits for fully connected layers.
 *
 *   inputs  A (u8/i8, 2-D), a_scale, a_zero_point, B (u8/i8, 2-D),
 *           b_scale (scalar or [N]), b_zero_point (scalar or [N]),
 *           C (optional int32 bias, broadcast to [M, N]),
 *           y_scale, y_zero_point (optional: without them Y is float)
 *   attrs   alpha (1.0), transA (0), transB (0)
 *
 * As ONNX Runtime computes it on x86: acc = sum_k (A - a_zp)(B - b_zp) + C
 * exactly in integers (the integer GEMM of quant_gemm.h); a quantized Y is
 *   clamp(round_half_even(float(acc) * M[n]) + y_zp)
 * with the float32 multiplier M[n] = alpha * float(a_scale * b_scale[n]) /
 * y_scale (MlasRequantizeOutput); a float Y is float(acc) * alpha * a_scale *
 * b_scale[n]. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/ops/quant_gemm.h"

struct qgemm_state {
  float alpha;
  int trans_a, trans_b;
};

static int quantized_type(enum sc_dtype d)
{
  return d == SC_DTYPE_UINT8 || d == SC_DTYPE_INT8;
}

static sc_status qgemm_prepare(struct sc_node *node, struct sc_error *err)
{
  struct qgemm_state *s;
  int64_t ta, tb;
  float alpha;
  sc_status st =
      sc_check_arity_optional(node, 6, 9, 1, 1, 1u << 2 | 1u << 5, err);
  int i;

  if (st)
    return st;
  if ((st = sc_node_attr_float(node, "alpha", 1.0f, &alpha, err)) ||
      (st = sc_node_attr_int(node, "transA", 0, &ta, err)) ||
      (st = sc_node_attr_int(node, "transB", 0, &tb, err)))
    return st;
  if (!quantized_type(node->in[0]->dtype) ||
      !quantized_type(node->in[3]->dtype))
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "A and B must be uint8 or int8, not %s and %s",
                        sc_dtype_name(node->in[0]->dtype),
                        sc_dtype_name(node->in[3]->dtype));
  if (node->in[2] && node->in[2]->dtype != node->in[0]->dtype)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "a_zero_point must have A's type");
  if (node->in[5] && node->in[5]->dtype != node->in[3]->dtype)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "b_zero_point must have B's type");
  for (i = 1; i < 8; i += 3)
    if (i < node->n_inputs && node->in[i] &&
        node->in[i]->dtype != SC_DTYPE_FLOAT)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d (a scale) must be float32", i);
  if (node->n_inputs > 6 && node->in[6] && node->in[6]->dtype != SC_DTYPE_INT32)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the bias C must be int32, not %s",
                        sc_dtype_name(node->in[6]->dtype));
  if (node->n_inputs > 7 && node->in[7]) {
    enum sc_dtype y =
        node->n_inputs > 8 && node->in[8] ? node->in[8]->dtype : SC_DTYPE_UINT8;
    if (!quantized_type(y))
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "y_zero_point must be uint8 or int8");
    node->out[0]->dtype = y;
  } else {
    node->out[0]->dtype = SC_DTYPE_FLOAT;
  }
  s = calloc(1, sizeof *s);
  if (!s)
    return sc_fail_nomem(err, "QGemm");
  s->alpha = alpha;
  s->trans_a = ta != 0;
  s->trans_b = tb != 0;
  node->state = s;
  return SC_OK;
}

static void qgemm_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Number of elements of an optional scalar-or-vector parameter. */
static int64_t count(const struct sc_tensor *t)
{
  return t ? t->n_elements : 0;
}

static sc_status qgemm_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct qgemm_state *s = node->state;
  const struct sc_tensor *a = node->in[0], *b = node->in[3];
  int64_t m, k, k2, n, dims[2];

  if (a->rank != 2 || b->rank != 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "A and B must be 2-D");
  m = s->trans_a ? a->dims[1] : a->dims[0];
  k = s->trans_a ? a->dims[0] : a->dims[1];
  k2 = s->trans_b ? b->dims[1] : b->dims[0];
  n = s->trans_b ? b->dims[0] : b->dims[1];
  if (k != k2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "A has %lld columns, B %lld rows", (long long)k,
                        (long long)k2);
  if (count(node->in[1]) != 1 || count(node->in[2]) > 1 ||
      (count(node->in[4]) != 1 && count(node->in[4]) != n) ||
      (count(node->in[5]) > 1 && count(node->in[5]) != n))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "scales and zero points must be scalars (B's may "
                        "have one per output column)");
  if (node->n_inputs > 6 && node->in[6]) {
    const struct sc_tensor *c = node->in[6];
    int ok = c->n_elements == 1 || c->n_elements == n ||
             (c->rank == 2 && c->dims[0] == m && c->dims[1] == n);
    if (!ok)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "C does not broadcast to [%lld, %lld]", (long long)m,
                          (long long)n);
  }
  dims[0] = m;
  dims[1] = n;
  return sc_tensor_set_shape(node->out[0], 2, dims, err);
}

static int64_t load_q(const struct sc_tensor *t, int64_t i)
{
  return t->dtype == SC_DTYPE_UINT8 ? ((const uint8_t *)t->data)[i]
                                    : ((const int8_t *)t->data)[i];
}

/* dst (rows x cols) = src^T (src: cols x rows), bytes. */
static void transpose_bytes(const uint8_t *src, int64_t rows, int64_t cols,
                            uint8_t *dst)
{
  int64_t i, j;
  for (i = 0; i < rows; i++)
    for (j = 0; j < cols; j++)
      dst[i * cols + j] = src[j * rows + i];
}

static sc_status qgemm_run(struct sc_node *node, struct sc_error *err)
{
  const struct qgemm_state *s = node->state;
  const struct sc_tensor *a = node->in[0], *b = node->in[3];
  const struct sc_tensor *c = node->n_inputs > 6 ? node->in[6] : NULL;
  const struct sc_tensor *ys = node->n_inputs > 7 ? node->in[7] : NULL;
  const struct sc_tensor *yz = node->n_inputs > 8 ? node->in[8] : NULL;
  struct sc_tensor *y = node->out[0];
  int64_t m = y->dims[0], n = y->dims[1];
  int64_t k = s->trans_a ? a->dims[0] : a->dims[1];
  int32_t azp = node->in[2] ? (int32_t)load_q(node->in[2], 0) : 0;
  float a_scale = ((const float *)node->in[1]->data)[0];
  const uint8_t *a_rows = a->data, *b_rows = b->data;
  uint8_t *a_copy = NULL, *b_copy = NULL;
  int32_t *acc = NULL, *zp = NULL;
  int64_t i, j;
  int lo = y->dtype == SC_DTYPE_UINT8 ? 0 : -128;
  int hi = y->dtype == SC_DTYPE_UINT8 ? 255 : 127;
  sc_status st;

  /* exact int32 accumulators from the integer GEMM, A and B row-major */
  acc = malloc((size_t)(m * n) * sizeof *acc + 1);
  zp = malloc((size_t)(m + n) * sizeof *zp + 1);
  if (s->trans_a)
    a_rows = a_copy = malloc((size_t)(m * k) + 1);
  if (s->trans_b)
    b_rows = b_copy = malloc((size_t)(k * n) + 1);
  if (!acc || !zp || (s->trans_a && !a_copy) || (s->trans_b && !b_copy)) {
    st = sc_fail_nomem(err, "QGemm buffers");
    goto cleanup;
  }
  if (a_copy)
    transpose_bytes(a->data, m, k, a_copy);
  if (b_copy)
    transpose_bytes(b->data, k, n, b_copy);
  for (i = 0; i < m; i++)
    zp[i] = azp;
  for (j = 0; j < n; j++)
    zp[m + j] = node->in[5] ? (int32_t)load_q(node->in[5],
                                              count(node->in[5]) > 1 ? j : 0)
                            : 0;
  st = sc_qgemm(m, n, k, a_rows, a->dtype, k, zp, b_rows, b->dtype, n, zp + m,
                acc, n, sc_node_threads(node), err);
  if (st)
    goto cleanup;

  for (j = 0; j < n; j++) {
    float b_scale =
        ((const float *)node->in[4]->data)[count(node->in[4]) > 1 ? j : 0];
    float ab = a_scale * b_scale; /* float32, as ONNX Runtime */
    float multiplier = ys ? s->alpha * (ab / ((const float *)ys->data)[0]) : 0;
    int64_t z = yz ? load_q(yz, 0) : 0;
    for (i = 0; i < m; i++) {
      uint32_t sum = (uint32_t)acc[i * n + j];
      int32_t v;
      if (c) /* int32 accumulation wraps as on x86 */
        sum += (uint32_t)((const int32_t *)
                              c->data)[c->n_elements == 1   ? 0
                                       : c->n_elements == n ? j
                                                            : i * n + j];
      v = (int32_t)sum;
      if (ys) {
        float f = (float)v * multiplier;
        double q = nearbyint((double)f) + (double)z;
        int64_t out = q < lo ? lo : q > hi ? hi : (int64_t)q;
        if (y->dtype == SC_DTYPE_UINT8)
          ((uint8_t *)y->data)[i * n + j] = (uint8_t)out;
        else
          ((int8_t *)y->data)[i * n + j] = (int8_t)out;
      } else {
        ((float *)y->data)[i * n + j] = (float)v * s->alpha * ab;
      }
    }
  }

cleanup:
  free(acc);
  free(zp);
  free(a_copy);
  free(b_copy);
  return st;
}

const struct sc_op sc_ops_quant_qgemm[] = {
    {"com.microsoft", "QGemm", 1, SC_OPSET_LATEST, qgemm_prepare, qgemm_reshape,
     qgemm_run, qgemm_release, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
