/* Arithmetic shared by the quantized operator family (runtime/ops/
 * quantized.c, quant_linear.c, quant_contrib.c, quant_emulate.c): integer
 * ranges, the rounding and saturation rules of QuantizeLinear and of ONNX
 * Runtime's requantization, parameter access, lookup tables and the
 * broadcast walker of the element-wise quantized operators.
 *
 * Rounding everywhere is round half to even (nearbyintf in the default
 * floating-point environment), as ONNX specifies and as ONNX Runtime's x86
 * kernels do (cvtps2dq with the default MXCSR). Values are clamped to the
 * integer range *before* rounding, in float, exactly as MLAS does; NaN
 * saturates to the lowest integer (MLAS's maxps(NaN, min) returns min).
 *
 * Nothing here allocates except sc_quant_table_* users' callers; nothing
 * fails: validation is the kernels' prepare/reshape job. */
#ifndef SC_RUNTIME_OPS_QUANT_COMMON_H
#define SC_RUNTIME_OPS_QUANT_COMMON_H

#include <math.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/quant.h"

/* 1 for the 8/16-bit integer types a quantized tensor may have. */
int sc_quant_is_int(enum sc_dtype dtype);

/* Clamps v to [lo, hi] in float (NaN gives lo), then rounds half to even.
 * Inline: it is the inner loop of every requantization. Within +-2^22 the
 * rounding is (v + 1.5 * 2^23) - 1.5 * 2^23, exact round-half-to-even in
 * IEEE arithmetic (the build forbids contraction and fast-math), else
 * nearbyintf in the default rounding mode. */
static inline int32_t sc_quant_round(float v, int32_t lo, int32_t hi)
{
  const float magic = 12582912.0f; /* 1.5 * 2^23 */
  float flo = (float)lo, fhi = (float)hi;
  if (!(v >= flo)) /* also NaN */
    return lo;
  if (v >= fhi)
    return hi;
  if (lo >= -4194304 && hi <= 4194304)
    return (int32_t)((v + magic) - magic);
  return (int32_t)nearbyintf(v);
}

/* QuantizeLinear of one value, as MLAS's MlasQuantizeLinear:
 * clamp(x / scale, qmin - zp, qmax - zp) rounded half to even, plus zp. */
static inline int32_t sc_quant_quantize(float x, float scale,
                                        int32_t zero_point, int32_t qmin,
                                        int32_t qmax)
{
  return sc_quant_round(x / scale, qmin - zero_point, qmax - zero_point) +
         zero_point;
}

/* Requantization of an int32 accumulator, as MLAS's MlasRequantizeOutput:
 * clamp((float)acc * multiplier, qmin - zp, qmax - zp) rounded half to even,
 * plus zp. */
static inline int32_t sc_quant_requantize(int32_t acc, float multiplier,
                                          int32_t zero_point, int32_t qmin,
                                          int32_t qmax)
{
  return sc_quant_round((float)acc * multiplier, qmin - zero_point,
                        qmax - zero_point) +
         zero_point;
}

/* Requantizes a row of int32 accumulators: dst[i] (element offset + i of
 * an int8/uint8/int16/uint16 array) = sc_quant_requantize(acc[i] + bias,
 * ...), the bias added with int32 wrap-around. */
void sc_quant_requantize_row(const int32_t *acc, int64_t n, int32_t bias,
                             float multiplier, int32_t zero_point,
                             enum sc_dtype dtype, void *dst, int64_t offset);

/* Widens [*lo, *hi] to hold every non-NaN x[0..n) (NaN elements are
 * ignored; a value replaces a bound only when strictly beyond it, so 0.0
 * is never replaced by -0.0). AVX-512 where available, same result. */
void sc_quant_min_max(const float *x, int64_t n, float *lo, float *hi);

/* QuantizeLinear of a row: dst[offset + i] (an int8/uint8/int16/uint16
 * array) = sc_quant_quantize(x[i], scale, zero_point, qmin, qmax) with the
 * type's range. AVX-512 for the 8-bit types where available, same
 * result. */
void sc_quant_quantize_row(const float *x, int64_t n, float scale,
                           int32_t zero_point, enum sc_dtype dtype, void *dst,
                           int64_t offset);

/* Element i of an int8/uint8/int16/uint16/int32 array as int32. */
int32_t sc_quant_load(enum sc_dtype dtype, const void *data, int64_t i);
/* Stores v (already within the type's range) as element i. */
void sc_quant_store(enum sc_dtype dtype, void *data, int64_t i, int32_t v);

/* Element i of a float32, float16 or bfloat16 tensor (a scale, say) as
 * float. */
float sc_quant_load_float(const struct sc_tensor *scale, int64_t i);

/* Zero point i of an optional zero-point input (0 when t is NULL). */
int32_t sc_quant_zero_point(const struct sc_tensor *t, int64_t i);

/* Per-tensor parameters of a quantized operand. */
struct sc_qparam {
  float scale;
  int32_t zero_point;
};

/* Reads the scale (input i_scale, required) and zero point (input i_zp,
 * optional: -1 or omitted gives 0) of a node. */
struct sc_qparam sc_quant_param(const struct sc_node *node, int i_scale,
                                int i_zp);

/* For reshape: checks that input i, if present, holds exactly one element
 * (a scalar or a 1-element tensor); `what` names it ("x_scale"). */
sc_status sc_quant_check_scalar(const struct sc_node *node, int i,
                                const char *what, struct sc_error *err);

/* For reshape: checks that input i, if present, is a scalar/1-element
 * tensor or a 1-D tensor of `n` elements (per-axis parameters). */
sc_status sc_quant_check_vector(const struct sc_node *node, int i,
                                const char *what, int64_t n,
                                struct sc_error *err);

/* For prepare: checks that the optional zero-point input i has the dtype
 * `dtype` (when present). */
sc_status sc_quant_check_zp_dtype(const struct sc_node *node, int i,
                                  enum sc_dtype dtype, struct sc_error *err);

/* For prepare: checks that input i is a float32 scale. */
sc_status sc_quant_check_scale_dtype(const struct sc_node *node, int i,
                                     struct sc_error *err);

/* The logistic function as ONNX Runtime computes it on x86 with FMA3
 * (MlasLogisticKernelFma3, the rational approximation MLAS shares with
 * Eigen): clamp x to [-18, 18], p/q of odd/even polynomials in x^2 with
 * fused multiply-adds, + 0.5, lower-clamped at 0. */
float sc_quant_logistic(float x);

/* Builds the 256-entry lookup table of a quantized unary operator as ORT's
 * QlinearBuildLookupTable does: entry b (the raw byte) is
 * quantize(fn(x_scale * (int(x) - x_zp)), y_scale, y_zp), x the byte read
 * as `dtype` (int8 or uint8). */
typedef float (*sc_quant_float_fn)(float x, const void *ctx);
void sc_quant_build_table(enum sc_dtype dtype, struct sc_qparam x,
                          struct sc_qparam y, sc_quant_float_fn fn,
                          const void *ctx, uint8_t table[256]);

/* Broadcast walk of a binary element-wise operator: strides (in elements,
 * 0 along broadcast dims) of both inputs over the output shape, and which
 * input is constant along the innermost output dimension larger than 1 (the
 * "scalar span" of ONNX Runtime's broadcaster). */
struct sc_quant_broadcast {
  int rank;
  int64_t dims[SC_MAX_RANK];
  int64_t stride_a[SC_MAX_RANK], stride_b[SC_MAX_RANK];
  int a_is_scalar_span, b_is_scalar_span;
};

void sc_quant_broadcast_init(const struct sc_tensor *a,
                             const struct sc_tensor *b,
                             const struct sc_tensor *out,
                             struct sc_quant_broadcast *bc);
/* Offsets into a and b of output element i. */
void sc_quant_broadcast_offsets(const struct sc_quant_broadcast *bc, int64_t i,
                                int64_t *ia, int64_t *ib);

#endif
