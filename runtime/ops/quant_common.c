/* Arithmetic shared by the quantized operator family; see quant_common.h. */
#include "runtime/ops/quant_common.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

int sc_quant_is_int(enum sc_dtype dtype)
{
  return dtype == SC_DTYPE_INT8 || dtype == SC_DTYPE_UINT8 ||
         dtype == SC_DTYPE_INT16 || dtype == SC_DTYPE_UINT16;
}

/* One loop per output type, so that the clamp and the rounding inline. */
#define REQUANTIZE_ROW(T)                                                      \
  do {                                                                         \
    T *out = (T *)dst + offset;                                                \
    for (i = 0; i < n; i++) {                                                  \
      int32_t v = (int32_t)((uint32_t)acc[i] + (uint32_t)bias);                \
      out[i] = (T)sc_quant_requantize(v, multiplier, zero_point, qmin, qmax);  \
    }                                                                          \
  } while (0)

#if defined(__x86_64__) && defined(__GNUC__)
/* MLAS's tail of (re)quantization, 16 values: clamp to the 8-bit range
 * less the zero point with the bound second (maxps/minps return it for a
 * NaN), round half to even (cvtps2dq), add the zero point, narrow to bytes.
 * Inline in loops: the bounds are loop invariants. */
__attribute__((target("avx512f,avx512bw"))) static inline __m128i
round_to_8bit(__m512 f, int is_signed, int32_t zero_point)
{
  const __m512 lo =
      _mm512_set1_ps((float)((is_signed ? -128 : 0) - zero_point));
  const __m512 hi =
      _mm512_set1_ps((float)((is_signed ? 127 : 255) - zero_point));
  __m512i v;
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  v = _mm512_cvt_roundps_epi32(f,
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  return _mm512_cvtepi32_epi8(
      _mm512_add_epi32(v, _mm512_set1_epi32(zero_point)));
}

/* 16 values at a time as MLAS does it (cvtdq2ps, mulps, maxps/minps with
 * the bound second so NaN gives the lower bound, cvtps2dq rounding half to
 * even, + zero point): the same arithmetic as the scalar loop. */
__attribute__((target("avx512f,avx512bw"))) static int64_t
requantize_8bit_avx512(const int32_t *acc, int64_t n, int32_t bias,
                       float multiplier, int32_t zero_point, int is_signed,
                       uint8_t *out)
{
  const __m512i vbias = _mm512_set1_epi32(bias);
  const __m512 vmul = _mm512_set1_ps(multiplier);
  int64_t i;
  for (i = 0; i + 16 <= n; i += 16) {
    __m512i v = _mm512_add_epi32(_mm512_loadu_si512(acc + i), vbias);
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), vmul);
    _mm_storeu_si128((__m128i *)(out + i),
                     round_to_8bit(f, is_signed, zero_point));
  }
  return i;
}

static int has_avx512(void)
{
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    __builtin_cpu_init();
    v = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return v;
}
#endif

void sc_quant_requantize_row(const int32_t *acc, int64_t n, int32_t bias,
                             float multiplier, int32_t zero_point,
                             enum sc_dtype dtype, void *dst, int64_t offset)
{
  int32_t qmin = 0, qmax = 0;
  int64_t i;
  sc_quant_range(dtype, &qmin, &qmax);
#if defined(__x86_64__) && defined(__GNUC__)
  if ((dtype == SC_DTYPE_UINT8 || dtype == SC_DTYPE_INT8) && has_avx512()) {
    int64_t done =
        requantize_8bit_avx512(acc, n, bias, multiplier, zero_point,
                               dtype == SC_DTYPE_INT8, (uint8_t *)dst + offset);
    acc += done;
    n -= done;
    offset += done;
  }
#endif
  switch (dtype) {
  case SC_DTYPE_UINT8:
    REQUANTIZE_ROW(uint8_t);
    break;
  case SC_DTYPE_INT8:
    REQUANTIZE_ROW(int8_t);
    break;
  case SC_DTYPE_UINT16:
    REQUANTIZE_ROW(uint16_t);
    break;
  case SC_DTYPE_INT16:
    REQUANTIZE_ROW(int16_t);
    break;
  default:
    break;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
/* vminps(x, acc) is (x < acc ? x : acc), NaN x giving acc: the scalar
 * rule, 16 lanes at a time; the lanes hold no NaN, so folding them in any
 * order gives the same bounds. */
__attribute__((target("avx512f"))) static int64_t
min_max_avx512(const float *x, int64_t n, float *lo, float *hi)
{
  __m512 vlo = _mm512_set1_ps(*lo), vhi = _mm512_set1_ps(*hi);
  __m512 vlo2 = vlo, vhi2 = vhi;
  float lanes_lo[16], lanes_hi[16];
  int64_t i;
  int l;
  for (i = 0; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    vlo = _mm512_min_ps(a, vlo);
    vhi = _mm512_max_ps(a, vhi);
    vlo2 = _mm512_min_ps(b, vlo2);
    vhi2 = _mm512_max_ps(b, vhi2);
  }
  _mm512_storeu_ps(lanes_lo, _mm512_min_ps(vlo2, vlo));
  _mm512_storeu_ps(lanes_hi, _mm512_max_ps(vhi2, vhi));
  for (l = 0; l < 16; l++) {
    if (lanes_lo[l] < *lo)
      *lo = lanes_lo[l];
    if (lanes_hi[l] > *hi)
      *hi = lanes_hi[l];
  }
  return i;
}

/* MLAS's QuantizeLinear arithmetic 16 values at a time: divide, maxps/minps
 * with the bound second (NaN gives the lower bound), round half to even,
 * add the zero point. */
__attribute__((target("avx512f,avx512bw"))) static int64_t
quantize_8bit_avx512(const float *x, int64_t n, float scale, int32_t zero_point,
                     int is_signed, uint8_t *out)
{
  const __m512 vscale = _mm512_set1_ps(scale);
  int64_t i;
  for (i = 0; i + 16 <= n; i += 16) {
    __m512 f = _mm512_div_ps(_mm512_loadu_ps(x + i), vscale);
    _mm_storeu_si128((__m128i *)(out + i),
                     round_to_8bit(f, is_signed, zero_point));
  }
  return i;
}
#endif

void sc_quant_min_max(const float *x, int64_t n, float *lo, float *hi)
{
  int64_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (has_avx512())
    i = min_max_avx512(x, n, lo, hi);
#endif
  for (; i < n; i++) {
    if (x[i] < *lo)
      *lo = x[i];
    if (x[i] > *hi)
      *hi = x[i];
  }
}

void sc_quant_quantize_row(const float *x, int64_t n, float scale,
                           int32_t zero_point, enum sc_dtype dtype, void *dst,
                           int64_t offset)
{
  int32_t qmin = 0, qmax = 0;
  int64_t i = 0;
  sc_quant_range(dtype, &qmin, &qmax);
#if defined(__x86_64__) && defined(__GNUC__)
  if ((dtype == SC_DTYPE_UINT8 || dtype == SC_DTYPE_INT8) && has_avx512())
    i = quantize_8bit_avx512(x, n, scale, zero_point, dtype == SC_DTYPE_INT8,
                             (uint8_t *)dst + offset);
#endif
  for (; i < n; i++)
    sc_quant_store(dtype, dst, offset + i,
                   sc_quant_quantize(x[i], scale, zero_point, qmin, qmax));
}

int32_t sc_quant_load(enum sc_dtype dtype, const void *data, int64_t i)
{
  switch (dtype) {
  case SC_DTYPE_INT8:
    return ((const int8_t *)data)[i];
  case SC_DTYPE_UINT8:
    return ((const uint8_t *)data)[i];
  case SC_DTYPE_INT16:
    return ((const int16_t *)data)[i];
  case SC_DTYPE_UINT16:
    return ((const uint16_t *)data)[i];
  case SC_DTYPE_INT32:
    return ((const int32_t *)data)[i];
  default:
    return 0;
  }
}

void sc_quant_store(enum sc_dtype dtype, void *data, int64_t i, int32_t v)
{
  switch (dtype) {
  case SC_DTYPE_INT8:
    ((int8_t *)data)[i] = (int8_t)v;
    break;
  case SC_DTYPE_UINT8:
    ((uint8_t *)data)[i] = (uint8_t)v;
    break;
  case SC_DTYPE_INT16:
    ((int16_t *)data)[i] = (int16_t)v;
    break;
  case SC_DTYPE_UINT16:
    ((uint16_t *)data)[i] = (uint16_t)v;
    break;
  case SC_DTYPE_INT32:
    ((int32_t *)data)[i] = v;
    break;
  default:
    break;
  }
}

float sc_quant_load_float(const struct sc_tensor *scale, int64_t i)
{
  switch (scale->dtype) {
  case SC_DTYPE_FLOAT:
    return ((const float *)scale->data)[i];
  case SC_DTYPE_FLOAT16:
    return sc_half_to_float(((const uint16_t *)scale->data)[i]);
  case SC_DTYPE_BFLOAT16:
    return sc_bfloat16_to_float(((const uint16_t *)scale->data)[i]);
  default:
    return (float)sc_dtype_load(scale->dtype, scale->data, i);
  }
}

int32_t sc_quant_zero_point(const struct sc_tensor *t, int64_t i)
{
  if (!t)
    return 0;
  return sc_quant_load(t->dtype, t->data, i);
}

struct sc_qparam sc_quant_param(const struct sc_node *node, int i_scale,
                                int i_zp)
{
  struct sc_qparam p;
  p.scale = sc_quant_load_float(node->in[i_scale], 0);
  p.zero_point = 0;
  if (i_zp >= 0 && i_zp < node->n_inputs && node->in[i_zp])
    p.zero_point = sc_quant_zero_point(node->in[i_zp], 0);
  return p;
}

sc_status sc_quant_check_scalar(const struct sc_node *node, int i,
                                const char *what, struct sc_error *err)
{
  const struct sc_tensor *t;
  if (i >= node->n_inputs || !node->in[i])
    return SC_OK;
  t = node->in[i];
  if (t->n_elements != 1 || t->rank > 1)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "%s ('%s') must be a scalar or a 1-element tensor, "
                        "it has %lld elements in %d dimensions",
                        what, sc_node_input_name(node, i),
                        (long long)t->n_elements, t->rank);
  return SC_OK;
}

sc_status sc_quant_check_vector(const struct sc_node *node, int i,
                                const char *what, int64_t n,
                                struct sc_error *err)
{
  const struct sc_tensor *t;
  if (i >= node->n_inputs || !node->in[i])
    return SC_OK;
  t = node->in[i];
  if ((t->n_elements == 1 && t->rank <= 1) || (t->rank == 1 && t->dims[0] == n))
    return SC_OK;
  return sc_node_fail(node, err, SC_ERR_FORMAT,
                      "%s ('%s') must be a scalar or a 1-D tensor of %lld "
                      "elements, it has %lld elements in %d dimensions",
                      what, sc_node_input_name(node, i), (long long)n,
                      (long long)t->n_elements, t->rank);
}

sc_status sc_quant_check_zp_dtype(const struct sc_node *node, int i,
                                  enum sc_dtype dtype, struct sc_error *err)
{
  if (i >= node->n_inputs || !node->in[i])
    return SC_OK;
  if (node->in[i]->dtype != dtype)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "zero point '%s' has dtype %s, the quantized tensor "
                        "is %s",
                        sc_node_input_name(node, i),
                        sc_dtype_name(node->in[i]->dtype),
                        sc_dtype_name(dtype));
  return SC_OK;
}

sc_status sc_quant_check_scale_dtype(const struct sc_node *node, int i,
                                     struct sc_error *err)
{
  static const enum sc_dtype floats[] = {SC_DTYPE_FLOAT};
  if (i >= node->n_inputs || !node->in[i])
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the scale (input %d) is missing", i);
  return sc_check_dtype(node, i, floats, 1, err);
}

float sc_quant_logistic(float x)
{
  /* MlasLogisticConstants (the Eigen coefficients) */
  static const float alpha_9 = 4.37031012579801e-11f;
  static const float alpha_7 = 1.15627324459942e-07f;
  static const float alpha_5 = 6.08574864600143e-05f;
  static const float alpha_3 = 8.51377133304701e-03f;
  static const float alpha_1 = 2.48287947061529e-01f;
  static const float beta_10 = 6.10247389755681e-13f;
  static const float beta_8 = 5.76102136993427e-09f;
  static const float beta_6 = 6.29106785017040e-06f;
  static const float beta_4 = 1.70198817374094e-03f;
  static const float beta_2 = 1.16817656904453e-01f;
  static const float beta_0 = 9.93151921023180e-01f;
  float x2, p, q, y;

  /* vmaxps/vminps with the bound first: a NaN input passes through */
  x = x < -18.0f ? -18.0f : x;
  x = x > 18.0f ? 18.0f : x;
  x2 = x * x;
  p = fmaf(x2, alpha_9, alpha_7);
  p = fmaf(x2, p, alpha_5);
  p = fmaf(x2, p, alpha_3);
  p = fmaf(x2, p, alpha_1);
  q = fmaf(x2, beta_10, beta_8);
  q = fmaf(x2, q, beta_6);
  q = fmaf(x2, q, beta_4);
  q = fmaf(x2, q, beta_2);
  q = fmaf(x2, q, beta_0);
  p = x * p;
  y = p / q + 0.5f;
  return y < 0.0f ? 0.0f : y; /* vmaxps(0, y): NaN stays NaN */
}

void sc_quant_build_table(enum sc_dtype dtype, struct sc_qparam x,
                          struct sc_qparam y, sc_quant_float_fn fn,
                          const void *ctx, uint8_t table[256])
{
  int32_t qmin = 0, qmax = 255;
  int b;
  sc_quant_range(dtype, &qmin, &qmax);
  for (b = 0; b < 256; b++) {
    int32_t q = dtype == SC_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)b : b;
    float deq = x.scale * (float)(q - x.zero_point);
    float v = fn(deq, ctx);
    int32_t r = sc_quant_quantize(v, y.scale, y.zero_point, qmin, qmax);
    table[b] = (uint8_t)r; /* int8 stored by its two's complement byte */
  }
}

void sc_quant_broadcast_init(const struct sc_tensor *a,
                             const struct sc_tensor *b,
                             const struct sc_tensor *out,
                             struct sc_quant_broadcast *bc)
{
  int64_t sa = 1, sb = 1;
  int r, inner = -1;

  memset(bc, 0, sizeof *bc);
  bc->rank = out->rank;
  for (r = out->rank - 1; r >= 0; r--) {
    int ra = r - (out->rank - a->rank), rb = r - (out->rank - b->rank);
    bc->dims[r] = out->dims[r];
    if (ra < 0 || a->dims[ra] == 1)
      bc->stride_a[r] = 0;
    else {
      bc->stride_a[r] = sa;
      sa *= a->dims[ra];
    }
    if (rb < 0 || b->dims[rb] == 1)
      bc->stride_b[r] = 0;
    else {
      bc->stride_b[r] = sb;
      sb *= b->dims[rb];
    }
    if (inner < 0 && out->dims[r] > 1)
      inner = r;
  }
  /* ORT's BroadcastLooper tests input 0 first: a single-element output (no
   * dimension > 1) takes the input-0-scalar path */
  if (inner < 0 || a->n_elements == 1)
    bc->a_is_scalar_span = 1;
  else if (bc->stride_a[inner] == 0)
    bc->a_is_scalar_span = 1;
  else if (b->n_elements == 1 || bc->stride_b[inner] == 0)
    bc->b_is_scalar_span = 1;
}

void sc_quant_broadcast_offsets(const struct sc_quant_broadcast *bc, int64_t i,
                                int64_t *ia, int64_t *ib)
{
  int64_t oa = 0, ob = 0;
  int r;
  for (r = bc->rank - 1; r >= 0; r--) {
    int64_t c = i % bc->dims[r];
    i /= bc->dims[r];
    oa += c * bc->stride_a[r];
    ob += c * bc->stride_b[r];
  }
  *ia = oa;
  *ib = ob;
}
