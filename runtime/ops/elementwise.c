/* Operator family: element-wise math.
 *
 *   unary        Abs Neg Reciprocal Floor Ceil Round Sqrt Exp Log Sin Cos
 *                Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Erf Sign
 *                IsNaN IsInf Not BitwiseNot
 *   activations  Relu LeakyRelu PRelu Elu Selu Celu ThresholdedRelu Sigmoid
 *                HardSigmoid HardSwish Tanh Softplus Softsign Shrink Mish
 *                Clip
 *   binary       Add Sub Mul Div Pow Mod BitShift And Or Xor BitwiseAnd
 *                BitwiseOr BitwiseXor Equal Greater Less GreaterOrEqual
 *                LessOrEqual, with numpy broadcasting (opset < 7: the
 *                legacy `broadcast`/`axis` attributes)
 *   ternary      Where
 *   variadic     Max Min Sum Mean
 *   fused        ONNX Runtime's com.microsoft Gelu BiasGelu FastGelu QuickGelu
 *
 * Every kernel is a typed row function (runtime/ops/broadcast.h): a loop
 * over a run of output elements whose inputs either advance with the output
 * or stay fixed. Same-shape, scalar and per-channel operations therefore run
 * as long straight loops the compiler vectorises (the loops are split at a
 * multiple of ROW_BLOCK and use restrict pointers, which GCC's -O2 cost
 * model needs); sc_broadcast_run splits the output between threads and has
 * the element-by-element reference path the tests compare against.
 *
 * The row functions are generated per element type by the X-macros below;
 * expressions are written once and <tgmath.h> picks the float or double
 * libm function. Float16/bfloat16 go through float (SC_OP_F16_VIA_FLOAT),
 * except in Where (moves bytes) and Pow, which converts them itself: with
 * the flag, a float base with a float16 exponent would have its float
 * result rounded to float16 by the executor. The unary operators with a
 * float16 result and Add, Sub, Mul and Div take all-float16 inputs
 * themselves (SC_OP_F16_ROWS): the float row runs on stretches of
 * HALF_STRETCH elements converted on the stack and is rounded back there,
 * the executor's conversions element for element, without its two
 * whole-tensor float copies.
 *
 * Integer semantics: arithmetic wraps (computed in the unsigned type);
 * division and Mod by zero give 0; Div truncates toward zero (C, and the
 * numpy astype of the backend tests); Mod with fmod=0 takes the divisor's
 * sign (Python), with fmod=1 the dividend's (C); shifts by at least the
 * bit width give 0. Float results converted to integers (Pow with an
 * integer base, Shrink on integers) truncate toward zero and saturate, NaN
 * giving 0, as sc_dtype_store does. Max, Min, Relu, Clip and the other
 * comparisons-based activations propagate NaN like numpy. */
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "runtime/dtype.h"
#include "runtime/ops/activation.h"
#include "runtime/ops/broadcast.h"
#include "runtime/ops/families.h"

/* Main loops run over a multiple of this many elements, so that GCC's
 * default -O2 vectoriser cost model accepts them (the remainder is a
 * second, scalar loop). */
#define ROW_BLOCK 16

/* Thread grains, in output elements: cheap arithmetic and calls into libm. */
#define GRAIN_CHEAP 32768
#define GRAIN_HEAVY 4096

/* A value of any numeric element type; members are named like the type
 * suffixes of the X-macro lists. */
union ew_scalar {
  float f32;
  double f64;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
};

/* What a row function reads besides its operands. */
struct ew_params {
  float alpha, beta, gamma;             /* activation attributes */
  float lambd, bias;                    /* Shrink */
  int detect_negative, detect_positive; /* IsInf */
  union ew_scalar lo, hi;               /* Clip bounds, in the input type */
  int64_t count;                        /* Mean: number of inputs */
  enum sc_dtype type_a, type_b, type_y; /* Pow's generic row */
};

/* --- element types ------------------------------------------------------
 * X(op, e, suffix, DTYPE, C type, W): W is the unsigned type integer
 * arithmetic wraps in (at least int wide, so that no promotion to int can
 * overflow). `op` and `e` are passed through to X. */
#define FLOAT_TYPES(X, op, e)                                                  \
  X(op, e, f32, FLOAT, float, float) X(op, e, f64, DOUBLE, double, double)
#define SIGNED_TYPES(X, op, e)                                                 \
  X(op, e, i8, INT8, int8_t, uint32_t)                                         \
  X(op, e, i16, INT16, int16_t, uint32_t)                                      \
  X(op, e, i32, INT32, int32_t, uint32_t)                                      \
  X(op, e, i64, INT64, int64_t, uint64_t)
#define UNSIGNED_TYPES(X, op, e)                                               \
  X(op, e, u8, UINT8, uint8_t, uint32_t)                                       \
  X(op, e, u16, UINT16, uint16_t, uint32_t)                                    \
  X(op, e, u32, UINT32, uint32_t, uint32_t)                                    \
  X(op, e, u64, UINT64, uint64_t, uint64_t)
#define BOOL_TYPE(X, op, e) X(op, e, b8, BOOL, uint8_t, uint32_t)
#define INT_TYPES(X, op, e) SIGNED_TYPES(X, op, e) UNSIGNED_TYPES(X, op, e)
#define NUMERIC_TYPES(X, op, e) FLOAT_TYPES(X, op, e) INT_TYPES(X, op, e)

/* NaN-propagating clamps (a comparison with NaN is false). */
#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : (v) > (hi) ? (hi) : (v))
#define CLAMP01(v) CLAMP(v, 0, 1)
#define MAX_NAN(a, b) ((a) != (a) || (a) > (b) ? (a) : (b))
#define MIN_NAN(a, b) ((a) != (a) || (a) < (b) ? (a) : (b))

/* --- row generators ------------------------------------------------------- */

/* GCC honours `restrict` on parameters, not on local pointers, and loses it
 * when several such functions are inlined into one: every loop lives in a
 * function of its own taking its arrays as restrict parameters. */
#define ROW_LOOP static __attribute__((noinline)) void

/* y = EXPR(x, p) over a contiguous run (unary inputs have the output's
 * shape, so their step is 1, or n == 1 on the reference path). */
#define UNARY_ROW(name, TX, TY, EXPR)                                          \
  ROW_LOOP name##_loop(const TX *restrict xs, TY *restrict ys, int64_t n,      \
                       const struct ew_params *params)                         \
  {                                                                            \
    /* a local copy: its fields can be read unconditionally */                 \
    const struct ew_params local = *params, *const p = &local;                 \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    (void)p;                                                                   \
    for (j = 0; j < m; j++) {                                                  \
      const TX x = xs[j];                                                      \
      ys[j] = (TY)(EXPR);                                                      \
    }                                                                          \
    for (; j < n; j++) {                                                       \
      const TX x = xs[j];                                                      \
      ys[j] = (TY)(EXPR);                                                      \
    }                                                                          \
  }                                                                            \
  static void name(const void *ctx, const void *const *in,                     \
                   const int64_t *step, void *out, int64_t n)                  \
  {                                                                            \
    (void)step;                                                                \
    name##_loop(in[0], out, n, ctx);                                           \
  }

/* y = EXPR(y, p) in place (the job's input 0 is the output itself). */
#define INPLACE_ROW(name, T, EXPR)                                             \
  static void name(const void *ctx, const void *const *in,                     \
                   const int64_t *step, void *out, int64_t n)                  \
  {                                                                            \
    const struct ew_params *p = ctx;                                           \
    T *ys = out;                                                               \
    int64_t j;                                                                 \
    (void)in;                                                                  \
    (void)step;                                                                \
    for (j = 0; j < n; j++) {                                                  \
      const T x = ys[j];                                                       \
      ys[j] = (T)(EXPR);                                                       \
    }                                                                          \
  }

/* An element function name##_elem(x1, x2, p), loops for a vector operand
 * (v) or a fixed one (s) on either side, and the row function `name`
 * choosing among them by the input steps. */
#define BINARY_ROW(name, TA, TB, TY, EXPR)                                     \
  static inline TY name##_elem(const TA x1, const TB x2,                       \
                               const struct ew_params *p)                      \
  {                                                                            \
    (void)p;                                                                   \
    return (TY)(EXPR);                                                         \
  }                                                                            \
  ROW_LOOP name##_vv(const TA *restrict a, const TB *restrict b,               \
                     TY *restrict y, int64_t n, const struct ew_params *p)     \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = name##_elem(a[j], b[j], p);                                       \
    for (; j < n; j++)                                                         \
      y[j] = name##_elem(a[j], b[j], p);                                       \
  }                                                                            \
  ROW_LOOP name##_vs(const TA *restrict a, const TB x2, TY *restrict y,        \
                     int64_t n, const struct ew_params *p)                     \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = name##_elem(a[j], x2, p);                                         \
    for (; j < n; j++)                                                         \
      y[j] = name##_elem(a[j], x2, p);                                         \
  }                                                                            \
  ROW_LOOP name##_sv(const TA x1, const TB *restrict b, TY *restrict y,        \
                     int64_t n, const struct ew_params *p)                     \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = name##_elem(x1, b[j], p);                                         \
    for (; j < n; j++)                                                         \
      y[j] = name##_elem(x1, b[j], p);                                         \
  }                                                                            \
  static void name(const void *ctx, const void *const *in,                     \
                   const int64_t *step, void *out, int64_t n)                  \
  {                                                                            \
    const TA *a = in[0];                                                       \
    const TB *b = in[1];                                                       \
    TY *y = out;                                                               \
    int64_t j;                                                                 \
    if (step[0] && step[1])                                                    \
      name##_vv(a, b, y, n, ctx);                                              \
    else if (step[0])                                                          \
      name##_vs(a, b[0], y, n, ctx);                                           \
    else if (step[1])                                                          \
      name##_sv(a[0], b, y, n, ctx);                                           \
    else {                                                                     \
      const TY v = name##_elem(a[0], b[0], ctx);                               \
      for (j = 0; j < n; j++)                                                  \
        y[j] = v;                                                              \
    }                                                                          \
  }

/* A binary row plus name##_acc: y = elem(y, b), for the variadic ops, whose
 * later steps accumulate into the output (the job's input 0). */
#define VARIADIC_ROW(name, T, EXPR)                                            \
  BINARY_ROW(name, T, T, T, EXPR)                                              \
  ROW_LOOP name##_acc_v(T *restrict y, const T *restrict b, int64_t n,         \
                        const struct ew_params *p)                             \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = name##_elem(y[j], b[j], p);                                       \
    for (; j < n; j++)                                                         \
      y[j] = name##_elem(y[j], b[j], p);                                       \
  }                                                                            \
  ROW_LOOP name##_acc_s(T *restrict y, const T x2, int64_t n,                  \
                        const struct ew_params *p)                             \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = name##_elem(y[j], x2, p);                                         \
    for (; j < n; j++)                                                         \
      y[j] = name##_elem(y[j], x2, p);                                         \
  }                                                                            \
  static void name##_acc(const void *ctx, const void *const *in,               \
                         const int64_t *step, void *out, int64_t n)            \
  {                                                                            \
    const T *b = in[1];                                                        \
    if (step[1])                                                               \
      name##_acc_v(out, b, n, ctx);                                            \
    else                                                                       \
      name##_acc_s(out, b[0], n, ctx);                                         \
  }

/* --- unary kernels -------------------------------------------------------- */

struct unary_impl {
  enum sc_dtype dtype; /* of the input */
  sc_broadcast_row_fn row;
};

#define UNARY_SAME(op, e, sfx, D, T, W) UNARY_ROW(op##_##sfx, T, T, e)
#define UNARY_TO_BOOL(op, e, sfx, D, T, W) UNARY_ROW(op##_##sfx, T, uint8_t, e)
#define UNARY_ENTRY(op, e, sfx, D, T, W) {SC_DTYPE_##D, op##_##sfx},
#define UNARY_END                                                              \
  {                                                                            \
    SC_DTYPE_UNDEFINED, NULL                                                   \
  }

/* A float/double-only operator: rows and table op##_impls. */
#define FLOAT_UNARY(op, e)                                                     \
  FLOAT_TYPES(UNARY_SAME, op, e)                                               \
  static const struct unary_impl op##_impls[] = {                              \
      FLOAT_TYPES(UNARY_ENTRY, op, _) UNARY_END};

#define NEG_SIGNED(op, e, sfx, D, T, W) UNARY_ROW(op##_##sfx, T, T, (W)0 - (W)x)
#define ABS_SIGNED(op, e, sfx, D, T, W)                                        \
  UNARY_ROW(op##_##sfx, T, T, x < 0 ? (W)0 - (W)x : (W)x)
#define ERF_INT(op, e, sfx, D, T, W) UNARY_ROW(op##_##sfx, T, T, erf((double)x))
#define SHRINK_INT(op, e, sfx, D, T, W)                                        \
  static void op##_##sfx(const void *ctx, const void *const *in,               \
                         const int64_t *step, void *out, int64_t n)            \
  {                                                                            \
    const struct ew_params *p = ctx;                                           \
    int64_t j;                                                                 \
    (void)step;                                                                \
    for (j = 0; j < n; j++) {                                                  \
      double x = sc_dtype_load(SC_DTYPE_##D, in[0], j);                        \
      double v = x < -p->lambd  ? x + p->bias                                  \
                 : x > p->lambd ? x - p->bias                                  \
                                : 0.0;                                         \
      sc_dtype_store(SC_DTYPE_##D, out, j, v);                                 \
    }                                                                          \
  }
#define CLIP_EXPR(sfx)                                                         \
  ((x < p->lo.sfx ? p->lo.sfx : x) > p->hi.sfx                                 \
       ? p->hi.sfx                                                             \
       : (x < p->lo.sfx ? p->lo.sfx : x))
#define CLIP_ROW(op, e, sfx, D, T, W)                                          \
  UNARY_ROW(op##_##sfx, T, T, CLIP_EXPR(sfx))

FLOAT_TYPES(UNARY_SAME, abs, fabs(x))
SIGNED_TYPES(ABS_SIGNED, abs, _)
UNSIGNED_TYPES(UNARY_SAME, abs, x)
static const struct unary_impl abs_impls[] = {NUMERIC_TYPES(UNARY_ENTRY, abs, _)
                                                  UNARY_END};

FLOAT_TYPES(UNARY_SAME, neg, -x)
SIGNED_TYPES(NEG_SIGNED, neg, _)
static const struct unary_impl neg_impls[] = {FLOAT_TYPES(
    UNARY_ENTRY, neg, _) SIGNED_TYPES(UNARY_ENTRY, neg, _) UNARY_END};

FLOAT_TYPES(UNARY_SAME, sign, x > 0 ? 1 : x < 0 ? -1 : x)
SIGNED_TYPES(UNARY_SAME, sign, (x > 0) - (x < 0))
UNSIGNED_TYPES(UNARY_SAME, sign, x > 0)
static const struct unary_impl sign_impls[] = {
    NUMERIC_TYPES(UNARY_ENTRY, sign, _) UNARY_END};

FLOAT_TYPES(UNARY_SAME, erf, erf(x))
INT_TYPES(ERF_INT, erf, _)
static const struct unary_impl erf_impls[] = {NUMERIC_TYPES(UNARY_ENTRY, erf, _)
                                                  UNARY_END};

FLOAT_TYPES(UNARY_SAME, relu, x < 0 ? 0 : x)
SIGNED_TYPES(UNARY_SAME, relu, x < 0 ? 0 : x)
static const struct unary_impl relu_impls[] = {FLOAT_TYPES(
    UNARY_ENTRY, relu, _) SIGNED_TYPES(UNARY_ENTRY, relu, _) UNARY_END};

FLOAT_TYPES(UNARY_SAME, shrink,
            (x < -p->lambd  ? x + p->bias
             : x > p->lambd ? x - p->bias
                            : 0))
INT_TYPES(SHRINK_INT, shrink, _)
static const struct unary_impl shrink_impls[] = {
    NUMERIC_TYPES(UNARY_ENTRY, shrink, _) UNARY_END};

FLOAT_TYPES(UNARY_TO_BOOL, isnan, x != x)
static const struct unary_impl isnan_impls[] = {
    FLOAT_TYPES(UNARY_ENTRY, isnan, _) UNARY_END};

FLOAT_TYPES(UNARY_TO_BOOL, isinf,
            (x == INFINITY && p->detect_positive) ||
                (x == -INFINITY && p->detect_negative))
static const struct unary_impl isinf_impls[] = {
    FLOAT_TYPES(UNARY_ENTRY, isinf, _) UNARY_END};

BOOL_TYPE(UNARY_SAME, not, x == 0)
static const struct unary_impl not_impls[] = {BOOL_TYPE(UNARY_ENTRY, not, _)
                                                  UNARY_END};

INT_TYPES(UNARY_SAME, bitwise_not, ~x)
static const struct unary_impl bitwise_not_impls[] = {
    INT_TYPES(UNARY_ENTRY, bitwise_not, _) UNARY_END};

NUMERIC_TYPES(CLIP_ROW, clip, _)
static const struct unary_impl clip_impls[] = {
    NUMERIC_TYPES(UNARY_ENTRY, clip, _) UNARY_END};

FLOAT_UNARY(reciprocal, 1 / x)
FLOAT_UNARY(floor, floor(x))
FLOAT_UNARY(ceil, ceil(x))
FLOAT_UNARY(round, nearbyint(x)) /* default rounding: half to even */
FLOAT_UNARY(sqrt, sqrt(x))
FLOAT_UNARY(exp, exp(x))
FLOAT_UNARY(log, log(x))
FLOAT_UNARY(sin, sin(x))
FLOAT_UNARY(cos, cos(x))
FLOAT_UNARY(tan, tan(x))
FLOAT_UNARY(asin, asin(x))
FLOAT_UNARY(acos, acos(x))
FLOAT_UNARY(atan, atan(x))
FLOAT_UNARY(sinh, sinh(x))
FLOAT_UNARY(cosh, cosh(x))
FLOAT_UNARY(asinh, asinh(x))
FLOAT_UNARY(acosh, acosh(x))
FLOAT_UNARY(atanh, atanh(x))
FLOAT_UNARY(tanh, tanh(x))
/* GCC (with the default -ftrapping-math) does not if-convert a floating-
 * point product that only one branch needs, nor a product by a select
 * whose arm is the constant 1 (it folds x * 1 into the arm), so the
 * vectorisable forms compute products unconditionally: x >= 0 (or NaN)
 * gives x + alpha * 0 = x for a finite alpha (prepare checks it). */
FLOAT_UNARY(leaky_relu, (x < 0 ? 0 : x) + p->alpha * (x < 0 ? x : 0))
FLOAT_UNARY(elu, x < 0 ? p->alpha * expm1(x) : x)
FLOAT_UNARY(selu, x <= 0 ? p->gamma * (p->alpha * expm1(x)) : p->gamma * x)
/* max(0,x) + min(0, alpha*(exp(x/alpha)-1)), for either sign of alpha */
FLOAT_UNARY(celu, x < 0 ? p->alpha * expm1(x / p->alpha) : x)
FLOAT_UNARY(thresholded_relu, x <= p->alpha ? 0 : x)
/* one exp, no overflow: exp(-|x|) <= 1 */
FLOAT_UNARY(sigmoid, x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)))
FLOAT_UNARY(hard_sigmoid, CLAMP01((p->alpha * x) + p->beta))
/* the upper bound 1 comes from p->gamma, see leaky_relu */
FLOAT_UNARY(hard_swish, (x * CLAMP((p->alpha * x) + p->beta, 0, p->gamma)))
FLOAT_UNARY(softplus, x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)))
FLOAT_UNARY(softsign, x / (1 + fabs(x)))
FLOAT_UNARY(mish, (x * tanh(x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)))))

/* A float attribute copied into the parameters (fixed: a constant of the
 * operator, not read from the node). */
struct param_attr {
  const char *name;
  float def;
  size_t offset; /* in struct ew_params */
  int fixed;
};

struct unary_spec {
  const char *op_type;
  const struct unary_impl *impls;
  int bool_output;
  int64_t grain;
  struct param_attr attrs[3];
};

#define P_ALPHA offsetof(struct ew_params, alpha)
#define P_BETA offsetof(struct ew_params, beta)
#define P_GAMMA offsetof(struct ew_params, gamma)
#define P_LAMBD offsetof(struct ew_params, lambd)
#define P_BIAS offsetof(struct ew_params, bias)

static const struct unary_spec unary_specs[] = {
    {"Abs", abs_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Neg", neg_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Reciprocal", reciprocal_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Floor", floor_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Ceil", ceil_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Round", round_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Sqrt", sqrt_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Exp", exp_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Log", log_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Sin", sin_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Cos", cos_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Tan", tan_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Asin", asin_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Acos", acos_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Atan", atan_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Sinh", sinh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Cosh", cosh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Asinh", asinh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Acosh", acosh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Atanh", atanh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Erf", erf_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Sign", sign_impls, 0, GRAIN_CHEAP, {{0}}},
    {"IsNaN", isnan_impls, 1, GRAIN_CHEAP, {{0}}},
    {"IsInf", isinf_impls, 1, GRAIN_CHEAP, {{0}}},
    {"Not", not_impls, 0, GRAIN_CHEAP, {{0}}},
    {"BitwiseNot", bitwise_not_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Relu", relu_impls, 0, GRAIN_CHEAP, {{0}}},
    {"LeakyRelu",
     leaky_relu_impls,
     0,
     GRAIN_CHEAP,
     {{"alpha", 0.01f, P_ALPHA, 0}}},
    {"Elu", elu_impls, 0, GRAIN_HEAVY, {{"alpha", 1.0f, P_ALPHA, 0}}},
    {"Selu",
     selu_impls,
     0,
     GRAIN_HEAVY,
     {{"alpha", 1.67326319217681884765625f, P_ALPHA, 0},
      {"gamma", 1.05070102214813232421875f, P_GAMMA, 0}}},
    {"Celu", celu_impls, 0, GRAIN_HEAVY, {{"alpha", 1.0f, P_ALPHA, 0}}},
    {"ThresholdedRelu",
     thresholded_relu_impls,
     0,
     GRAIN_CHEAP,
     {{"alpha", 1.0f, P_ALPHA, 0}}},
    {"Sigmoid", sigmoid_impls, 0, GRAIN_HEAVY, {{0}}},
    {"HardSigmoid",
     hard_sigmoid_impls,
     0,
     GRAIN_CHEAP,
     {{"alpha", 0.2f, P_ALPHA, 0}, {"beta", 0.5f, P_BETA, 0}}},
    {"HardSwish",
     hard_swish_impls,
     0,
     GRAIN_CHEAP,
     {{"alpha", 1.0f / 6.0f, P_ALPHA, 1},
      {"beta", 0.5f, P_BETA, 1},
      {"gamma", 1.0f, P_GAMMA, 1}}},
    {"Tanh", tanh_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Softplus", softplus_impls, 0, GRAIN_HEAVY, {{0}}},
    {"Softsign", softsign_impls, 0, GRAIN_CHEAP, {{0}}},
    {"Shrink",
     shrink_impls,
     0,
     GRAIN_CHEAP,
     {{"lambd", 0.5f, P_LAMBD, 0}, {"bias", 0.0f, P_BIAS, 0}}},
    {"Mish", mish_impls, 0, GRAIN_HEAVY, {{0}}},
};

/* --- shared kernel plumbing ----------------------------------------------- */

/* A float row run on float16 operands and result (half_row): its context
 * is `params`. */
struct half_rows {
  sc_broadcast_row_fn row;
  const struct ew_params *params;
  int n_inputs;
};

/* Private state of every node of this family (node->state). */
struct ew_state {
  struct ew_params params;
  struct half_rows half;     /* float16 operands: row is half_row */
  sc_broadcast_row_fn row;   /* unary and binary rows */
  sc_broadcast_row_fn acc;   /* variadic: y = op(y, b) */
  sc_broadcast_row_fn last;  /* Mean: in-place division by the count */
  sc_broadcast_row_fn exact; /* PRelu: the row for non-finite slopes */
  int64_t grain;
  /* binary ops */
  int legacy;        /* opset < 7 `broadcast`/`axis` form */
  int64_t broadcast; /* legacy attribute values */
  int64_t axis;      /* legacy; meaningful when has_axis */
  int has_axis;
  int unidirectional; /* PRelu: the slope broadcasts to X */
  int same_shapes;    /* variadic ops before opset 8 */
  /* Clip before opset 11: bounds from attributes */
  int clip_attrs;
  float clip_min, clip_max;
};

static void ew_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Allocates node->state (zeroed), replacing any earlier one. */
static sc_status state_create(struct sc_node *node, struct ew_state **out,
                              struct sc_error *err)
{
  ew_release(node);
  *out = calloc(1, sizeof **out);
  if (!*out)
    return sc_fail_nomem(err, "element-wise kernel state");
  node->state = *out;
  return SC_OK;
}

static sc_status unsupported_input(const struct sc_node *node, int i,
                                   struct sc_error *err)
{
  return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                      "input %d ('%s') has dtype %s, which this operator "
                      "does not support",
                      i, sc_node_input_name(node, i),
                      sc_dtype_name(node->in[i]->dtype));
}

static const struct unary_impl *find_unary(const struct unary_impl *impls,
                                           enum sc_dtype dtype)
{
  for (; impls->row; impls++)
    if (impls->dtype == dtype)
      return impls;
  return NULL;
}

/* Elements a float16 row converts at a time (on the stack). */
#define HALF_STRETCH 256

/* A row of float16 elements through h->row: each stretch of the advancing
 * inputs widened, the float row run on it, its result rounded to float16
 * (sc_half_to_float_n and sc_float_to_half_n, which the executor's
 * conversions call). A broadcast input is widened once. */
static void half_row(const void *ctx, const void *const *in,
                     const int64_t *step, void *out, int64_t n)
{
  const struct half_rows *h = ctx;
  float wide[SC_BROADCAST_MAX_INPUTS][HALF_STRETCH], result[HALF_STRETCH];
  const void *operands[SC_BROADCAST_MAX_INPUTS];
  int64_t j, m;
  int k;

  for (k = 0; k < h->n_inputs; k++) {
    operands[k] = wide[k];
    if (!step[k])
      wide[k][0] = sc_half_to_float(*(const uint16_t *)in[k]);
  }
  for (j = 0; j < n; j += m) {
    m = n - j < HALF_STRETCH ? n - j : HALF_STRETCH;
    for (k = 0; k < h->n_inputs; k++)
      if (step[k])
        sc_half_to_float_n((const uint16_t *)in[k] + j, wide[k], m);
    h->row(h->params, operands, step, result, m);
    sc_float_to_half_n(result, (uint16_t *)out + j, m);
  }
}

/* Makes s run `row`, a float row of n_inputs operands, on float16 ones. */
static void use_half_rows(struct ew_state *s, sc_broadcast_row_fn row,
                          int n_inputs)
{
  s->half.row = row;
  s->half.params = &s->params;
  s->half.n_inputs = n_inputs;
  s->row = half_row;
}

/* Runs `row` over output 0 with the given inputs; its context is s's
 * parameters, or s->half for half_row. */
static void run_rows(struct sc_node *node, sc_broadcast_row_fn row,
                     const struct ew_state *s, const struct ew_params *params,
                     int64_t grain, struct sc_tensor *out, int n_inputs,
                     const struct sc_tensor *const *inputs)
{
  struct sc_broadcast_job job;
  sc_broadcast_job_init(&job, out, n_inputs, inputs, row,
                        row == half_row ? (const void *)&s->half
                                        : (const void *)params);
  sc_broadcast_run(&job, sc_node_threads(node), grain);
}

/* --- unary operators ------------------------------------------------------ */

static const struct unary_spec *find_unary_spec(const char *op_type)
{
  size_t i;
  for (i = 0; i < sizeof unary_specs / sizeof unary_specs[0]; i++)
    if (strcmp(unary_specs[i].op_type, op_type) == 0)
      return &unary_specs[i];
  return NULL;
}

/* Reads the float attributes of `spec` into params. */
static sc_status read_param_attrs(const struct sc_node *node,
                                  const struct param_attr *attrs, int n_attrs,
                                  struct ew_params *params,
                                  struct sc_error *err)
{
  int i;
  for (i = 0; i < n_attrs && attrs[i].name; i++) {
    float *field = (float *)((char *)params + attrs[i].offset);
    if (attrs[i].fixed)
      *field = attrs[i].def;
    else {
      sc_status st =
          sc_node_attr_float(node, attrs[i].name, attrs[i].def, field, err);
      if (st)
        return st;
    }
  }
  return SC_OK;
}

static sc_status unary_prepare(struct sc_node *node, struct sc_error *err)
{
  const struct unary_spec *spec = find_unary_spec(node->op_type);
  const struct unary_impl *impl;
  struct ew_state *s;
  sc_status st;
  int half;

  if (!spec)
    return sc_node_fail(node, err, SC_ERR_INTERNAL,
                        "no element-wise kernel for this operator");
  st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (st)
    return st;
  half = node->in[0]->dtype == SC_DTYPE_FLOAT16 && !spec->bool_output;
  impl = find_unary(spec->impls, half ? SC_DTYPE_FLOAT : node->in[0]->dtype);
  if (!impl)
    return unsupported_input(node, 0, err);
  st = state_create(node, &s, err);
  if (st)
    return st;
  s->row = impl->row;
  if (half)
    use_half_rows(s, impl->row, 1);
  s->grain = spec->grain;
  st = read_param_attrs(node, spec->attrs, 3, &s->params, err);
  if (st)
    return st;
  if (strcmp(node->op_type, "IsInf") == 0) {
    int64_t neg, pos;
    st = sc_node_attr_int(node, "detect_negative", 1, &neg, err);
    if (!st)
      st = sc_node_attr_int(node, "detect_positive", 1, &pos, err);
    if (st)
      return st;
    s->params.detect_negative = neg != 0;
    s->params.detect_positive = pos != 0;
  }
  if (strcmp(node->op_type, "LeakyRelu") == 0 && !isfinite(s->params.alpha))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'alpha' must be finite");
  if (strcmp(node->op_type, "Celu") == 0 && s->params.alpha == 0.0f)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'alpha' must not be 0");
  node->out[0]->dtype = spec->bool_output ? SC_DTYPE_BOOL : node->in[0]->dtype;
  return SC_OK;
}

static sc_status unary_run(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  run_rows(node, s->row, s, &s->params, s->grain, node->out[0], 1, &in);
  return SC_OK;
}

/* --- Clip ----------------------------------------------------------------- */

static sc_status clip_prepare_common(struct sc_node *node, int max_inputs,
                                     struct ew_state **out,
                                     struct sc_error *err)
{
  const struct unary_impl *impl;
  sc_status st = sc_check_arity(node, 1, max_inputs, 1, 1, err);
  int i;
  if (st)
    return st;
  impl = find_unary(clip_impls, node->in[0]->dtype);
  if (!impl)
    return unsupported_input(node, 0, err);
  for (i = 1; i < node->n_inputs; i++)
    if (node->in[i] && node->in[i]->dtype != node->in[0]->dtype)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT, "input %d ('%s') is %s but the input is %s",
          i, sc_node_input_name(node, i), sc_dtype_name(node->in[i]->dtype),
          sc_dtype_name(node->in[0]->dtype));
  st = state_create(node, out, err);
  if (st)
    return st;
  (*out)->row = impl->row;
  (*out)->grain = GRAIN_CHEAP;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Clip 1..10: bounds from the `min`/`max` attributes (float types). */
static sc_status clip_attr_prepare(struct sc_node *node, struct sc_error *err)
{
  struct ew_state *s;
  sc_status st = clip_prepare_common(node, 1, &s, err);
  if (st)
    return st;
  if (!sc_dtype_is_float(node->in[0]->dtype))
    return unsupported_input(node, 0, err); /* float attributes */
  st = sc_node_attr_float(node, "min", -FLT_MAX, &s->clip_min, err);
  if (!st)
    st = sc_node_attr_float(node, "max", FLT_MAX, &s->clip_max, err);
  if (st)
    return st;
  s->clip_attrs = 1;
  return SC_OK;
}

/* Clip 11..: bounds from the optional scalar inputs `min` and `max`. */
static sc_status clip_prepare(struct sc_node *node, struct sc_error *err)
{
  struct ew_state *s;
  return clip_prepare_common(node, 3, &s, err);
}

static sc_status clip_reshape(struct sc_node *node, struct sc_error *err)
{
  int i;
  for (i = 1; i < node->n_inputs; i++)
    if (node->in[i] && node->in[i]->n_elements != 1) {
      char shape[160];
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d ('%s') must be a scalar, not %s", i,
                          sc_node_input_name(node, i),
                          sc_shape_format(node->in[i]->rank, node->in[i]->dims,
                                          shape, sizeof shape));
    }
  return sc_reshape_like_input0(node, err);
}

/* The lowest and highest value of a numeric dtype (Clip's defaults). */
static void dtype_limits(enum sc_dtype dtype, union ew_scalar *lo,
                         union ew_scalar *hi)
{
  switch (dtype) {
  case SC_DTYPE_FLOAT:
    lo->f32 = -FLT_MAX;
    hi->f32 = FLT_MAX;
    break;
  case SC_DTYPE_DOUBLE:
    lo->f64 = -DBL_MAX;
    hi->f64 = DBL_MAX;
    break;
  case SC_DTYPE_INT8:
    lo->i8 = INT8_MIN;
    hi->i8 = INT8_MAX;
    break;
  case SC_DTYPE_INT16:
    lo->i16 = INT16_MIN;
    hi->i16 = INT16_MAX;
    break;
  case SC_DTYPE_INT32:
    lo->i32 = INT32_MIN;
    hi->i32 = INT32_MAX;
    break;
  case SC_DTYPE_INT64:
    lo->i64 = INT64_MIN;
    hi->i64 = INT64_MAX;
    break;
  case SC_DTYPE_UINT8:
    lo->u8 = 0;
    hi->u8 = UINT8_MAX;
    break;
  case SC_DTYPE_UINT16:
    lo->u16 = 0;
    hi->u16 = UINT16_MAX;
    break;
  case SC_DTYPE_UINT32:
    lo->u32 = 0;
    hi->u32 = UINT32_MAX;
    break;
  case SC_DTYPE_UINT64:
    lo->u64 = 0;
    hi->u64 = UINT64_MAX;
    break;
  default:
    break;
  }
}

static sc_status clip_run(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  struct ew_params params = s->params;
  size_t size = sc_dtype_size(in->dtype);

  dtype_limits(in->dtype, &params.lo, &params.hi);
  if (s->clip_attrs) {
    if (in->dtype == SC_DTYPE_FLOAT) {
      params.lo.f32 = s->clip_min;
      params.hi.f32 = s->clip_max;
    } else {
      params.lo.f64 = s->clip_min;
      params.hi.f64 = s->clip_max;
    }
  }
  if (node->n_inputs > 1 && node->in[1])
    memcpy(&params.lo, node->in[1]->data, size);
  if (node->n_inputs > 2 && node->in[2])
    memcpy(&params.hi, node->in[2]->data, size);
  run_rows(node, s->row, s, &params, s->grain, node->out[0], 1, &in);
  return SC_OK;
}

/* --- binary kernels ------------------------------------------------------- */

struct binary_impl {
  enum sc_dtype a, b, y;
  sc_broadcast_row_fn row;
  sc_broadcast_row_fn acc; /* variadic ops only */
};

#define BINARY_END                                                             \
  {                                                                            \
    SC_DTYPE_UNDEFINED, SC_DTYPE_UNDEFINED, SC_DTYPE_UNDEFINED, NULL, NULL     \
  }
#define SAME_ENTRY(op, e, sfx, D, T, W)                                        \
  {SC_DTYPE_##D, SC_DTYPE_##D, SC_DTYPE_##D, op##_##sfx, NULL},
#define BOOL_ENTRY(op, e, sfx, D, T, W)                                        \
  {SC_DTYPE_##D, SC_DTYPE_##D, SC_DTYPE_BOOL, op##_##sfx, NULL},
#define VARIADIC_ENTRY(op, e, sfx, D, T, W)                                    \
  {SC_DTYPE_##D, SC_DTYPE_##D, SC_DTYPE_##D, op##_##sfx, op##_##sfx##_acc},

/* generators taking the expression `e` (no type names in it) */
#define BINARY_SAME(op, e, sfx, D, T, W) BINARY_ROW(op##_##sfx, T, T, T, e)
#define BINARY_TO_BOOL(op, e, sfx, D, T, W)                                    \
  BINARY_ROW(op##_##sfx, T, T, uint8_t, e)
#define VARIADIC_SAME(op, e, sfx, D, T, W) VARIADIC_ROW(op##_##sfx, T, e)

/* integer generators: the expression needs W */
#define ADD_INT(op, e, sfx, D, T, W)                                           \
  BINARY_ROW(op##_##sfx, T, T, T, (W)x1 + (W)x2)
#define SUB_INT(op, e, sfx, D, T, W)                                           \
  BINARY_ROW(op##_##sfx, T, T, T, (W)x1 - (W)x2)
#define MUL_INT(op, e, sfx, D, T, W)                                           \
  BINARY_ROW(op##_##sfx, T, T, T, ((W)x1 * (W)x2))
#define DIV_SIGNED(op, e, sfx, D, T, W)                                        \
  BINARY_ROW(op##_##sfx, T, T, T,                                              \
             x2 == 0    ? (W)0                                                 \
             : x2 == -1 ? (W)0 - (W)x1                                         \
                        : (W)(x1 / x2))
#define DIV_UNSIGNED(op, e, sfx, D, T, W)                                      \
  BINARY_ROW(op##_##sfx, T, T, T, x2 == 0 ? 0 : x1 / x2)
#define FMOD_SIGNED(op, e, sfx, D, T, W)                                       \
  BINARY_ROW(op##_##sfx, T, T, T, x2 == 0 || x2 == -1 ? 0 : x1 % x2)
#define MOD_UNSIGNED(op, e, sfx, D, T, W)                                      \
  BINARY_ROW(op##_##sfx, T, T, T, x2 == 0 ? 0 : x1 % x2)
/* Python's %: the remainder takes the divisor's sign */
#define MOD_SIGNED(op, e, sfx, D, T, W)                                        \
  BINARY_ROW(op##_##sfx, T, T, T,                                              \
             x2 == 0 || x2 == -1                         ? 0                   \
             : x1 % x2 != 0 && (x1 % x2 < 0) != (x2 < 0) ? x1 % x2 + x2        \
                                                         : x1 % x2)
#define SHL_UNSIGNED(op, e, sfx, D, T, W)                                      \
  BINARY_ROW(op##_##sfx, T, T, T, x2 >= sizeof(T) * 8 ? (W)0 : (W)x1 << x2)
#define SHR_UNSIGNED(op, e, sfx, D, T, W)                                      \
  BINARY_ROW(op##_##sfx, T, T, T, x2 >= sizeof(T) * 8 ? (W)0 : (W)x1 >> x2)
#define PRELU_SIGNED(op, e, sfx, D, T, W)                                      \
  BINARY_ROW(op##_##sfx, T, T, T, x1 < 0 ? (W)x1 * (W)x2 : (W)x1)
#define PRELU_UNSIGNED(op, e, sfx, D, T, W)                                    \
  BINARY_ROW(op##_##sfx, T, T, T, ((void)x2, x1))

FLOAT_TYPES(BINARY_SAME, add, x1 + x2)
INT_TYPES(ADD_INT, add, _)
static const struct binary_impl add_impls[] = {NUMERIC_TYPES(SAME_ENTRY, add, _)
                                                   BINARY_END};

FLOAT_TYPES(BINARY_SAME, sub, x1 - x2)
INT_TYPES(SUB_INT, sub, _)
static const struct binary_impl sub_impls[] = {NUMERIC_TYPES(SAME_ENTRY, sub, _)
                                                   BINARY_END};

FLOAT_TYPES(BINARY_SAME, mul, (x1 * x2))
INT_TYPES(MUL_INT, mul, _)
static const struct binary_impl mul_impls[] = {NUMERIC_TYPES(SAME_ENTRY, mul, _)
                                                   BINARY_END};

FLOAT_TYPES(BINARY_SAME, div, x1 / x2)
SIGNED_TYPES(DIV_SIGNED, div, _)
UNSIGNED_TYPES(DIV_UNSIGNED, div, _)
static const struct binary_impl div_impls[] = {NUMERIC_TYPES(SAME_ENTRY, div, _)
                                                   BINARY_END};

FLOAT_TYPES(BINARY_SAME, fmod, fmod(x1, x2))
SIGNED_TYPES(FMOD_SIGNED, fmod, _)
UNSIGNED_TYPES(MOD_UNSIGNED, fmod, _)
static const struct binary_impl fmod_impls[] = {
    NUMERIC_TYPES(SAME_ENTRY, fmod, _) BINARY_END};

SIGNED_TYPES(MOD_SIGNED, mod, _)
UNSIGNED_TYPES(MOD_UNSIGNED, mod, _)
static const struct binary_impl mod_impls[] = {INT_TYPES(SAME_ENTRY, mod, _)
                                                   BINARY_END};

UNSIGNED_TYPES(SHL_UNSIGNED, shl, _)
static const struct binary_impl shl_impls[] = {
    UNSIGNED_TYPES(SAME_ENTRY, shl, _) BINARY_END};

UNSIGNED_TYPES(SHR_UNSIGNED, shr, _)
static const struct binary_impl shr_impls[] = {
    UNSIGNED_TYPES(SAME_ENTRY, shr, _) BINARY_END};

BOOL_TYPE(BINARY_SAME, and, (x1 != 0) & (x2 != 0))
static const struct binary_impl and_impls[] = {BOOL_TYPE(SAME_ENTRY, and, _)
                                                   BINARY_END};

BOOL_TYPE(BINARY_SAME, or, (x1 != 0) | (x2 != 0))
static const struct binary_impl or_impls[] = {BOOL_TYPE(SAME_ENTRY, or, _)
                                                  BINARY_END};

BOOL_TYPE(BINARY_SAME, xor, (x1 != 0) ^ (x2 != 0))
static const struct binary_impl xor_impls[] = {BOOL_TYPE(SAME_ENTRY, xor, _)
                                                   BINARY_END};

INT_TYPES(BINARY_SAME, bitwise_and, (x1 & x2))
static const struct binary_impl bitwise_and_impls[] = {
    INT_TYPES(SAME_ENTRY, bitwise_and, _) BINARY_END};

INT_TYPES(BINARY_SAME, bitwise_or, x1 | x2)
static const struct binary_impl bitwise_or_impls[] = {
    INT_TYPES(SAME_ENTRY, bitwise_or, _) BINARY_END};

INT_TYPES(BINARY_SAME, bitwise_xor, x1 ^ x2)
static const struct binary_impl bitwise_xor_impls[] = {
    INT_TYPES(SAME_ENTRY, bitwise_xor, _) BINARY_END};

NUMERIC_TYPES(BINARY_TO_BOOL, equal, x1 == x2)
BOOL_TYPE(BINARY_TO_BOOL, equal, (x1 != 0) == (x2 != 0))
static const struct binary_impl equal_impls[] = {NUMERIC_TYPES(
    BOOL_ENTRY, equal, _) BOOL_TYPE(BOOL_ENTRY, equal, _) BINARY_END};

NUMERIC_TYPES(BINARY_TO_BOOL, greater, x1 > x2)
static const struct binary_impl greater_impls[] = {
    NUMERIC_TYPES(BOOL_ENTRY, greater, _) BINARY_END};

NUMERIC_TYPES(BINARY_TO_BOOL, less, x1 < x2)
static const struct binary_impl less_impls[] = {
    NUMERIC_TYPES(BOOL_ENTRY, less, _) BINARY_END};

NUMERIC_TYPES(BINARY_TO_BOOL, greater_equal, x1 >= x2)
static const struct binary_impl greater_equal_impls[] = {
    NUMERIC_TYPES(BOOL_ENTRY, greater_equal, _) BINARY_END};

NUMERIC_TYPES(BINARY_TO_BOOL, less_equal, x1 <= x2)
static const struct binary_impl less_equal_impls[] = {
    NUMERIC_TYPES(BOOL_ENTRY, less_equal, _) BINARY_END};

/* prelu: vectorisable, exact for finite slopes (see leaky_relu);
 * prelu_exact: for slopes with an infinity or NaN. */
FLOAT_TYPES(BINARY_SAME, prelu, (x1 < 0 ? 0 : x1) + x2 * (x1 < 0 ? x1 : 0))
FLOAT_TYPES(BINARY_SAME, prelu_exact, x1 < 0 ? x2 * x1 : x1)
PRELU_SIGNED(prelu, _, i32, INT32, int32_t, uint32_t)
PRELU_SIGNED(prelu, _, i64, INT64, int64_t, uint64_t)
PRELU_UNSIGNED(prelu, _, u32, UINT32, uint32_t, uint32_t)
PRELU_UNSIGNED(prelu, _, u64, UINT64, uint64_t, uint64_t)
static const struct binary_impl prelu_impls[] = {
    FLOAT_TYPES(SAME_ENTRY, prelu, _) SAME_ENTRY(prelu, _, i32, INT32, , )
        SAME_ENTRY(prelu, _, i64, INT64, , )
            SAME_ENTRY(prelu, _, u32, UINT32, , )
                SAME_ENTRY(prelu, _, u64, UINT64, , ) BINARY_END};

/* Pow: same-type float rows; everything else (integer bases, mixed and
 * reduced-precision types) through pow_generic. x ** 2 is the exact
 * square, as numpy computes it. */
FLOAT_TYPES(BINARY_SAME, pow, x2 == 2 ? x1 * x1 : pow(x1, x2))
static const struct binary_impl pow_impls[] = {FLOAT_TYPES(SAME_ENTRY, pow, _)
                                                   BINARY_END};

/* base ** e for e >= 0 in wrapping 64-bit arithmetic (exact modulo 2^64,
 * hence also modulo 2^32 for int32 results). */
static int64_t int_power(int64_t base, uint64_t e)
{
  uint64_t result = 1, b = (uint64_t)base;
  while (e) {
    if (e & 1)
      result *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)result;
}

/* Pow for any supported base/exponent pair, one element at a time: integer
 * bases with integer exponents >= 0 exactly, everything else through
 * double, stored with sc_dtype_store's rounding (float16/bfloat16) or
 * truncation (integers). */
static void pow_generic(const void *ctx, const void *const *in,
                        const int64_t *step, void *out, int64_t n)
{
  const struct ew_params *p = ctx;
  int64_t j;
  for (j = 0; j < n; j++) {
    int64_t ia = j * step[0], ib = j * step[1];
    if (sc_dtype_is_integer(p->type_a) && sc_dtype_is_integer(p->type_b)) {
      int64_t base = sc_dtype_load_i64(p->type_a, in[0], ia);
      int64_t e = sc_dtype_load_i64(p->type_b, in[1], ib);
      if (p->type_b == SC_DTYPE_UINT64 || e >= 0)
        sc_dtype_store_i64(p->type_y, out, j, int_power(base, (uint64_t)e));
      else
        sc_dtype_store(p->type_y, out, j, pow((double)base, (double)e));
    } else {
      double base = sc_dtype_load(p->type_a, in[0], ia);
      double e = sc_dtype_load(p->type_b, in[1], ib);
      sc_dtype_store(p->type_y, out, j, e == 2 ? base * base : pow(base, e));
    }
  }
}

static int pow_base_type(enum sc_dtype d)
{
  return d == SC_DTYPE_FLOAT || d == SC_DTYPE_DOUBLE || d == SC_DTYPE_FLOAT16 ||
         d == SC_DTYPE_BFLOAT16 || d == SC_DTYPE_INT32 || d == SC_DTYPE_INT64;
}

/* variadic */
FLOAT_TYPES(VARIADIC_SAME, max, MAX_NAN(x1, x2))
INT_TYPES(VARIADIC_SAME, max, x1 > x2 ? x1 : x2)
static const struct binary_impl max_impls[] = {
    NUMERIC_TYPES(VARIADIC_ENTRY, max, _) BINARY_END};

FLOAT_TYPES(VARIADIC_SAME, min, MIN_NAN(x1, x2))
INT_TYPES(VARIADIC_SAME, min, x1 < x2 ? x1 : x2)
static const struct binary_impl min_impls[] = {
    NUMERIC_TYPES(VARIADIC_ENTRY, min, _) BINARY_END};

FLOAT_TYPES(VARIADIC_SAME, sum, x1 + x2)
static const struct binary_impl sum_impls[] = {
    FLOAT_TYPES(VARIADIC_ENTRY, sum, _) BINARY_END};

#define MEAN_ROW(op, e, sfx, D, T, W) INPLACE_ROW(op##_##sfx, T, e)
FLOAT_TYPES(MEAN_ROW, mean_divide, x / p->count)
static const struct unary_impl mean_divide_impls[] = {
    FLOAT_TYPES(UNARY_ENTRY, mean_divide, _) UNARY_END};

struct binary_spec {
  const char *op_type;
  const struct binary_impl *impls; /* NULL: chosen from attributes */
  int64_t grain;
};

static const struct binary_spec binary_specs[] = {
    {"Add", add_impls, GRAIN_CHEAP},
    {"Sub", sub_impls, GRAIN_CHEAP},
    {"Mul", mul_impls, GRAIN_CHEAP},
    {"Div", div_impls, GRAIN_CHEAP},
    {"Pow", pow_impls, GRAIN_HEAVY},
    {"Mod", NULL, GRAIN_HEAVY},
    {"BitShift", NULL, GRAIN_CHEAP},
    {"And", and_impls, GRAIN_CHEAP},
    {"Or", or_impls, GRAIN_CHEAP},
    {"Xor", xor_impls, GRAIN_CHEAP},
    {"BitwiseAnd", bitwise_and_impls, GRAIN_CHEAP},
    {"BitwiseOr", bitwise_or_impls, GRAIN_CHEAP},
    {"BitwiseXor", bitwise_xor_impls, GRAIN_CHEAP},
    {"Equal", equal_impls, GRAIN_CHEAP},
    {"Greater", greater_impls, GRAIN_CHEAP},
    {"Less", less_impls, GRAIN_CHEAP},
    {"GreaterOrEqual", greater_equal_impls, GRAIN_CHEAP},
    {"LessOrEqual", less_equal_impls, GRAIN_CHEAP},
    {"PRelu", prelu_impls, GRAIN_CHEAP},
    {"Max", max_impls, GRAIN_CHEAP},
    {"Min", min_impls, GRAIN_CHEAP},
    {"Sum", sum_impls, GRAIN_CHEAP},
    {"Mean", sum_impls, GRAIN_CHEAP},
};

static const struct binary_spec *find_binary_spec(const char *op_type)
{
  size_t i;
  for (i = 0; i < sizeof binary_specs / sizeof binary_specs[0]; i++)
    if (strcmp(binary_specs[i].op_type, op_type) == 0)
      return &binary_specs[i];
  return NULL;
}

/* The implementation list of Mod and BitShift, which depends on an
 * attribute; fails naming the node on a bad value. */
static sc_status attribute_impls(const struct sc_node *node,
                                 const struct binary_impl **impls,
                                 struct sc_error *err)
{
  sc_status st;
  if (strcmp(node->op_type, "Mod") == 0) {
    int64_t fmod_attr;
    st = sc_node_attr_int(node, "fmod", 0, &fmod_attr, err);
    if (st)
      return st;
    if (fmod_attr != 0 && fmod_attr != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'fmod' must be 0 or 1, not %lld",
                          (long long)fmod_attr);
    if (!fmod_attr && sc_dtype_is_float(node->in[0]->dtype))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'fmod' must be 1 for %s inputs",
                          sc_dtype_name(node->in[0]->dtype));
    *impls = fmod_attr ? fmod_impls : mod_impls;
    return SC_OK;
  }
  {
    const char *direction;
    st = sc_node_attr_string(node, "direction", NULL, &direction, err);
    if (st)
      return st;
    if (!direction)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'direction' is missing");
    if (strcmp(direction, "LEFT") == 0)
      *impls = shl_impls;
    else if (strcmp(direction, "RIGHT") == 0)
      *impls = shr_impls;
    else
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'direction' must be LEFT or RIGHT, not "
                          "'%s'",
                          direction);
    return SC_OK;
  }
}

/* Picks the row for input dtypes (a, b) among `impls`; fails naming the
 * node and the offending input. Pow accepts any base/exponent pair of its
 * type constraints through pow_generic. */
static sc_status choose_binary(const struct sc_node *node,
                               const struct binary_impl *impls,
                               struct ew_state *s, enum sc_dtype *out_dtype,
                               struct sc_error *err)
{
  enum sc_dtype a = node->in[0]->dtype, b = node->in[1]->dtype;
  const struct binary_impl *impl;
  int a_known = 0;

  /* SC_OP_F16_ROWS (Pow, which converts float16 itself, has no flag) */
  if (a == SC_DTYPE_FLOAT16 && b == SC_DTYPE_FLOAT16 && impls != pow_impls)
    for (impl = impls; impl->row; impl++)
      if (impl->a == SC_DTYPE_FLOAT && impl->b == SC_DTYPE_FLOAT &&
          impl->y == SC_DTYPE_FLOAT) {
        use_half_rows(s, impl->row, 2);
        *out_dtype = SC_DTYPE_FLOAT16;
        return SC_OK;
      }
  for (impl = impls; impl->row; impl++) {
    if (impl->a == a && impl->b == b) {
      s->row = impl->row;
      s->acc = impl->acc;
      *out_dtype = impl->y;
      return SC_OK;
    }
    if (impl->a == a)
      a_known = 1;
  }
  if (impls == pow_impls) {
    if (!pow_base_type(a))
      return unsupported_input(node, 0, err);
    if (!sc_dtype_is_float(b) && !sc_dtype_is_integer(b))
      return unsupported_input(node, 1, err);
    s->row = pow_generic;
    s->params.type_a = a;
    s->params.type_b = b;
    s->params.type_y = a;
    *out_dtype = a;
    return SC_OK;
  }
  if (!a_known)
    return unsupported_input(node, 0, err);
  return sc_node_fail(node, err, SC_ERR_FORMAT,
                      "inputs have different dtypes (%s and %s)",
                      sc_dtype_name(a), sc_dtype_name(b));
}

static sc_status binary_prepare(struct sc_node *node, struct sc_error *err)
{
  const struct binary_spec *spec = find_binary_spec(node->op_type);
  const struct binary_impl *impls;
  struct ew_state *s;
  sc_status st;

  if (!spec)
    return sc_node_fail(node, err, SC_ERR_INTERNAL,
                        "no element-wise kernel for this operator");
  st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (st)
    return st;
  impls = spec->impls;
  if (!impls) {
    st = attribute_impls(node, &impls, err);
    if (st)
      return st;
  }
  st = state_create(node, &s, err);
  if (st)
    return st;
  s->grain = spec->grain;
  s->unidirectional = strcmp(node->op_type, "PRelu") == 0;
  if (s->unidirectional && node->in[0]->dtype == SC_DTYPE_FLOAT)
    s->exact = prelu_exact_f32;
  if (s->unidirectional && node->in[0]->dtype == SC_DTYPE_DOUBLE)
    s->exact = prelu_exact_f64;
  return choose_binary(node, impls, s, &node->out[0]->dtype, err);
}

/* Opset < 7 Add, Sub, Mul, Div, Pow, And, Or, Xor, Equal, Greater, Less:
 * B broadcasts to A only as the `broadcast` and `axis` attributes say. */
static sc_status binary_legacy_prepare(struct sc_node *node,
                                       struct sc_error *err)
{
  struct ew_state *s;
  sc_status st = binary_prepare(node, err);
  if (st)
    return st;
  s = node->state;
  s->legacy = 1;
  st = sc_node_attr_int(node, "broadcast", 0, &s->broadcast, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &s->axis, err);
  if (st)
    return st;
  s->has_axis = sc_node_attr(node, "axis") != NULL;
  return SC_OK;
}

/* Opset < 7 PRelu: a slope of one element, or one value per channel (dim 1
 * of X, how PyTorch exports it), or a numpy-broadcastable one. */
static sc_status prelu_legacy_prepare(struct sc_node *node,
                                      struct sc_error *err)
{
  sc_status st = binary_prepare(node, err);
  if (st)
    return st;
  ((struct ew_state *)node->state)->legacy = 1;
  return SC_OK;
}

static sc_status shape_error(const struct sc_node *node, const char *what,
                             const struct sc_tensor *a,
                             const struct sc_tensor *b, struct sc_error *err)
{
  char sa[160], sb[160];
  return sc_node_fail(node, err, SC_ERR_FORMAT, "%s: shapes %s and %s", what,
                      sc_shape_format(a->rank, a->dims, sa, sizeof sa),
                      sc_shape_format(b->rank, b->dims, sb, sizeof sb));
}

/* The view of B (same data, a shape of A's rank) under the legacy
 * attributes, checked against A. */
static sc_status legacy_view(const struct sc_node *node,
                             const struct ew_state *s,
                             const struct sc_tensor *a,
                             const struct sc_tensor *b, struct sc_tensor *view,
                             struct sc_error *err)
{
  int64_t axis;
  int i;

  *view = *b;
  view->buffer = NULL; /* a borrowed header, never freed */
  if (strcmp(node->op_type, "PRelu") == 0) {
    if (b->n_elements == 1 && b->rank <= a->rank) {
      view->rank = 0;
      return SC_OK;
    }
    if (b->rank == 1 && a->rank >= 2 && b->dims[0] == a->dims[1]) {
      view->rank = a->rank;
      for (i = 0; i < a->rank; i++)
        view->dims[i] = i == 1 ? b->dims[0] : 1;
      return SC_OK;
    }
  } else if (!s->broadcast) {
    if (!sc_tensor_same_shape(a, b))
      return shape_error(node, "with broadcast=0 the shapes must be equal", a,
                         b, err);
    return SC_OK;
  } else {
    if (b->n_elements == 1 && b->rank <= a->rank) {
      view->rank = 0;
      return SC_OK;
    }
    if (b->rank > a->rank)
      return shape_error(node, "B has a higher rank than A", a, b, err);
    axis = s->has_axis ? s->axis : a->rank - b->rank;
    if (axis < 0)
      axis += a->rank;
    if (axis < 0 || axis + b->rank > a->rank)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'axis' (%lld) does not fit a rank %d B "
                          "into a rank %d A",
                          (long long)s->axis, b->rank, a->rank);
    view->rank = a->rank;
    for (i = 0; i < a->rank; i++)
      view->dims[i] = i >= axis && i < axis + b->rank ? b->dims[i - axis] : 1;
  }
  for (i = 0; i < view->rank; i++) {
    int ia = i + a->rank - view->rank;
    if (view->rank > a->rank ||
        (view->dims[i] != 1 && view->dims[i] != a->dims[ia]))
      return shape_error(node, "B does not broadcast to A", a, b, err);
  }
  return SC_OK;
}

/* The two operands as the kernel broadcasts them (B through the legacy
 * view when needed) and the output shape. */
static sc_status binary_operands(const struct sc_node *node,
                                 struct sc_tensor *view,
                                 const struct sc_tensor **b, int *rank,
                                 int64_t *dims, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  const struct sc_tensor *a = node->in[0];
  sc_status st;

  *b = node->in[1];
  if (s->legacy) {
    st = legacy_view(node, s, a, node->in[1], view, err);
    if (st)
      return st;
    *b = view;
  }
  st = sc_broadcast_shapes(node, a->rank, a->dims, (*b)->rank, (*b)->dims, rank,
                           dims, err);
  if (st)
    return st;
  if ((s->legacy || s->unidirectional) &&
      (*rank != a->rank || memcmp(dims, a->dims, sizeof *dims * *rank) != 0))
    return shape_error(node, "the second input does not broadcast to the first",
                       a, node->in[1], err);
  return SC_OK;
}

static sc_status binary_reshape(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor view;
  const struct sc_tensor *b;
  int64_t dims[SC_MAX_RANK];
  int rank;
  sc_status st = binary_operands(node, &view, &b, &rank, dims, err);
  if (st)
    return st;
  return sc_tensor_set_shape(node->out[0], rank, dims, err);
}

/* 1 if a float or double tensor holds no infinity or NaN. */
static int all_finite(const struct sc_tensor *t)
{
  int64_t i;
  if (t->dtype == SC_DTYPE_FLOAT) {
    const float *v = t->data;
    for (i = 0; i < t->n_elements; i++)
      if (!isfinite(v[i]))
        return 0;
  } else if (t->dtype == SC_DTYPE_DOUBLE) {
    const double *v = t->data;
    for (i = 0; i < t->n_elements; i++)
      if (!isfinite(v[i]))
        return 0;
  }
  return 1;
}

static sc_status binary_run(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  const struct sc_tensor *operands[2];
  struct sc_tensor view;
  int64_t dims[SC_MAX_RANK];
  int rank;
  sc_status st = binary_operands(node, &view, &operands[1], &rank, dims, err);
  if (st)
    return st;
  operands[0] = node->in[0];
  run_rows(node, s->exact && !all_finite(node->in[1]) ? s->exact : s->row, s,
           &s->params, s->grain, node->out[0], 2, operands);
  return SC_OK;
}

/* --- variadic: Max, Min, Sum, Mean ---------------------------------------- */

static sc_status variadic_prepare_common(struct sc_node *node,
                                         struct sc_error *err)
{
  const struct binary_spec *spec = find_binary_spec(node->op_type);
  const struct binary_impl *impl;
  struct ew_state *s;
  enum sc_dtype dtype;
  int i;
  sc_status st = sc_check_arity(node, 1, INT_MAX, 1, 1, err);
  if (st)
    return st;
  if (!spec)
    return sc_node_fail(node, err, SC_ERR_INTERNAL,
                        "no element-wise kernel for this operator");
  dtype = node->in[0]->dtype;
  for (i = 0; i < node->n_inputs; i++) {
    if (!node->in[i])
      return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is omitted", i);
    if (node->in[i]->dtype != dtype)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT, "input %d ('%s') is %s but input 0 is %s",
          i, sc_node_input_name(node, i), sc_dtype_name(node->in[i]->dtype),
          sc_dtype_name(dtype));
  }
  for (impl = spec->impls; impl->row; impl++)
    if (impl->a == dtype)
      break;
  if (!impl->row)
    return unsupported_input(node, 0, err);
  st = state_create(node, &s, err);
  if (st)
    return st;
  s->row = impl->row;
  s->acc = impl->acc;
  s->grain = spec->grain;
  s->params.count = node->n_inputs;
  if (strcmp(node->op_type, "Mean") == 0)
    s->last = find_unary(mean_divide_impls, dtype)->row;
  node->out[0]->dtype = dtype;
  return SC_OK;
}

/* Opset 8..: numpy broadcasting of all inputs. */
static sc_status variadic_prepare(struct sc_node *node, struct sc_error *err)
{
  return variadic_prepare_common(node, err);
}

/* Opset < 8: all inputs have the same shape. */
static sc_status variadic_same_prepare(struct sc_node *node,
                                       struct sc_error *err)
{
  sc_status st = variadic_prepare_common(node, err);
  if (!st)
    ((struct ew_state *)node->state)->same_shapes = 1;
  return st;
}

static sc_status variadic_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  int64_t dims[SC_MAX_RANK];
  int rank = node->in[0]->rank, i;
  memcpy(dims, node->in[0]->dims, sizeof dims);
  for (i = 1; i < node->n_inputs; i++) {
    const struct sc_tensor *in = node->in[i];
    sc_status st;
    if (s->same_shapes && !sc_tensor_same_shape(in, node->in[0]))
      return shape_error(node, "before opset 8 all inputs must have one shape",
                         node->in[0], in, err);
    st = sc_broadcast_shapes(node, rank, dims, in->rank, in->dims, &rank, dims,
                             err);
    if (st)
      return st;
  }
  return sc_tensor_set_shape(node->out[0], rank, dims, err);
}

static sc_status variadic_run(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  struct sc_tensor *out = node->out[0];
  const struct sc_tensor *operands[2];
  int i;

  if (node->n_inputs == 1) {
    if (out->n_elements)
      memcpy(out->data, node->in[0]->data, sc_tensor_size(out));
    return SC_OK;
  }
  operands[0] = node->in[0];
  operands[1] = node->in[1];
  run_rows(node, s->row, s, &s->params, s->grain, out, 2, operands);
  operands[0] = out;
  for (i = 2; i < node->n_inputs; i++) {
    operands[1] = node->in[i];
    run_rows(node, s->acc, s, &s->params, s->grain, out, 2, operands);
  }
  if (s->last)
    run_rows(node, s->last, s, &s->params, s->grain, out, 1, operands);
  return SC_OK;
}

/* --- Where ---------------------------------------------------------------- */

/* y = c ? a : b on elements of one size (Where moves bytes: every dtype,
 * float16 included, goes through the row of its size). */
#define WHERE_ROW(name, T)                                                     \
  ROW_LOOP name##_vvv(const uint8_t *restrict c, const T *restrict a,          \
                      const T *restrict b, T *restrict y, int64_t n)           \
  {                                                                            \
    const int64_t m = n & ~(int64_t)(ROW_BLOCK - 1);                           \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++) {                                                  \
      const T x1 = a[j], x2 = b[j]; /* unconditional loads vectorise */        \
      y[j] = c[j] ? x1 : x2;                                                   \
    }                                                                          \
    for (; j < n; j++)                                                         \
      y[j] = c[j] ? a[j] : b[j];                                               \
  }                                                                            \
  static void name(const void *ctx, const void *const *in,                     \
                   const int64_t *step, void *out, int64_t n)                  \
  {                                                                            \
    const uint8_t *c = in[0];                                                  \
    const T *a = in[1];                                                        \
    const T *b = in[2];                                                        \
    T *y = out;                                                                \
    int64_t j;                                                                 \
    (void)ctx;                                                                 \
    if (step[0] && step[1] && step[2])                                         \
      name##_vvv(c, a, b, y, n);                                               \
    else                                                                       \
      for (j = 0; j < n; j++)                                                  \
        y[j] = c[j * step[0]] ? a[j * step[1]] : b[j * step[2]];               \
  }

WHERE_ROW(where_8, uint8_t)
WHERE_ROW(where_16, uint16_t)
WHERE_ROW(where_32, uint32_t)
WHERE_ROW(where_64, uint64_t)

static sc_status where_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype cond_types[] = {SC_DTYPE_BOOL};
  struct ew_state *s;
  sc_status st = sc_check_arity(node, 3, 3, 1, 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, cond_types, 1, err);
  if (st)
    return st;
  if (node->in[2]->dtype != node->in[1]->dtype)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "inputs 1 and 2 have different dtypes (%s and %s)",
                        sc_dtype_name(node->in[1]->dtype),
                        sc_dtype_name(node->in[2]->dtype));
  st = state_create(node, &s, err);
  if (st)
    return st;
  switch (sc_dtype_size(node->in[1]->dtype)) {
  case 1:
    s->row = where_8;
    break;
  case 2:
    s->row = where_16;
    break;
  case 4:
    s->row = where_32;
    break;
  case 8:
    s->row = where_64;
    break;
  default:
    return unsupported_input(node, 1, err);
  }
  s->grain = GRAIN_CHEAP;
  node->out[0]->dtype = node->in[1]->dtype;
  return SC_OK;
}

static sc_status where_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK];
  int rank;
  sc_status st = sc_broadcast_shapes(node, node->in[0]->rank, node->in[0]->dims,
                                     node->in[1]->rank, node->in[1]->dims,
                                     &rank, dims, err);
  if (!st)
    st = sc_broadcast_shapes(node, rank, dims, node->in[2]->rank,
                             node->in[2]->dims, &rank, dims, err);
  if (st)
    return st;
  return sc_tensor_set_shape(node->out[0], rank, dims, err);
}

static sc_status where_run(struct sc_node *node, struct sc_error *err)
{
  const struct ew_state *s = node->state;
  const struct sc_tensor *operands[3];
  operands[0] = node->in[0];
  operands[1] = node->in[1];
  operands[2] = node->in[2];
  run_rows(node, s->row, s, &s->params, s->grain, node->out[0], 3, operands);
  return SC_OK;
}

/* --- registry ------------------------------------------------------------- */

#define F16 SC_OP_F16_VIA_FLOAT
#define F16_ROWS (SC_OP_F16_VIA_FLOAT | SC_OP_F16_ROWS)
#define LATEST SC_OPSET_LATEST
#define UNARY(name, since, flags)                                              \
  {                                                                            \
    "", name, since, LATEST, unary_prepare, sc_reshape_like_input0, unary_run, \
        ew_release, flags                                                      \
  }
#define BINARY(name, since, until, flags)                                      \
  {                                                                            \
    "", name, since, until, binary_prepare, binary_reshape, binary_run,        \
        ew_release, flags                                                      \
  }
#define BINARY_LEGACY(name, flags)                                             \
  {                                                                            \
    "", name, 1, 6, binary_legacy_prepare, binary_reshape, binary_run,         \
        ew_release, flags                                                      \
  }
#define VARIADIC(name, flags)                                                  \
  {"",           name,       1,    7, variadic_same_prepare, variadic_reshape, \
   variadic_run, ew_release, flags},                                           \
  {                                                                            \
    "", name, 8, LATEST, variadic_prepare, variadic_reshape, variadic_run,     \
        ew_release, flags                                                      \
  }

/* --- ONNX Runtime's Gelu family (com.microsoft) ---------------------------
 * Fusions its graph optimizer writes for the Gelu patterns of transformer
 * models: Gelu (x), BiasGelu (A, bias), FastGelu (x, optional bias) and
 * QuickGelu (x, attribute alpha, default 1.702). A bias is 1-D with the
 * input's last dimension and is added first, rounded to float as an Add
 * rounds it. Then, in ONNX Runtime's order of float steps, with this
 * runtime's own Erf, Tanh and Sigmoid rows (ONNX Runtime's kernels use
 * polynomial approximations of erf, tanh and the logistic function, so
 * its results differ from these in the last bits):
 *   Gelu      y = (0.5 x) (erf(x (float)(1/sqrt 2)) + 1)
 *   FastGelu  y = (0.5 x) (tanh(x ((0.035677408 x) x + 0.7978846)) + 1)
 *   QuickGelu y = x sigmoid(alpha x)  (the Mul, Sigmoid, Mul it replaces)
 * Float only (float16 and bfloat16 through float). */

/* Elements per step of the Gelu family and of sc_activation_apply: the
 * input is copied to the stack first, so that a row never reads what it
 * writes. */
#define ACTIVATION_BLOCK 1024

enum gelu_kind { GELU_ERF, GELU_BIAS, GELU_FAST, GELU_QUICK };

struct gelu_state {
  enum gelu_kind kind;
  float alpha;             /* QuickGelu */
  sc_broadcast_row_fn row; /* Erf, Tanh or Sigmoid */
  struct ew_params params; /* the row's (none used: zero) */
};

static sc_status gelu_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype floats[] = {SC_DTYPE_FLOAT};
  struct gelu_state *g;
  enum gelu_kind kind = strcmp(node->op_type, "BiasGelu") == 0    ? GELU_BIAS
                        : strcmp(node->op_type, "FastGelu") == 0  ? GELU_FAST
                        : strcmp(node->op_type, "QuickGelu") == 0 ? GELU_QUICK
                                                                  : GELU_ERF;
  int min_in = kind == GELU_BIAS ? 2 : 1;
  int max_in = kind == GELU_BIAS || kind == GELU_FAST ? 2 : 1, i;
  float alpha = 1.702f;
  sc_status st = sc_check_arity(node, min_in, max_in, 1, 1, err);
  for (i = 0; !st && i < node->n_inputs; i++)
    if (node->in[i])
      st = sc_check_dtype(node, i, floats, 1, err);
  if (!st && kind == GELU_QUICK)
    st = sc_node_attr_float(node, "alpha", 1.702f, &alpha, err);
  if (st)
    return st;
  if (!isfinite(alpha))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'alpha' must be finite");
  g = calloc(1, sizeof *g);
  if (!g)
    return sc_fail_nomem(err, "Gelu state");
  g->kind = kind;
  g->alpha = alpha;
  g->row = find_unary(kind == GELU_FAST    ? tanh_impls
                      : kind == GELU_QUICK ? sigmoid_impls
                                           : erf_impls,
                      SC_DTYPE_FLOAT)
               ->row;
  node->state = g;
  node->out[0]->dtype = SC_DTYPE_FLOAT;
  return SC_OK;
}

static sc_status gelu_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  const struct sc_tensor *bias = node->n_inputs > 1 ? node->in[1] : NULL;
  if (bias && (x->rank < 1 || bias->rank != 1 ||
               bias->dims[0] != x->dims[x->rank - 1])) {
    char sx[160], sb[160];
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "bias %s must be 1-D with the last dimension of the "
                        "input %s",
                        sc_shape_format(bias->rank, bias->dims, sb, sizeof sb),
                        sc_shape_format(x->rank, x->dims, sx, sizeof sx));
  }
  return sc_tensor_set_shape(node->out[0], x->rank, x->dims, err);
}

struct gelu_job {
  const struct gelu_state *g;
  const float *x, *bias;
  int64_t bias_n;
  float *y;
};

static void gelu_range(void *ctx, int64_t begin, int64_t end)
{
  const struct gelu_job *job = ctx;
  const struct gelu_state *g = job->g;
  float v[ACTIVATION_BLOCK], t[ACTIVATION_BLOCK], r[ACTIVATION_BLOCK];
  const float inv_sqrt2 = (float)M_SQRT1_2;
  const float fast_b = 0.7978845608028654f, fast_c = 0.035677408136300125f;
  int64_t i, j;

  for (i = begin; i < end; i += ACTIVATION_BLOCK) {
    int64_t n = end - i < ACTIVATION_BLOCK ? end - i : ACTIVATION_BLOCK;
    const void *in[1];
    float *y = job->y + i;
    in[0] = t;
    for (j = 0; j < n; j++)
      v[j] = job->bias ? job->x[i + j] + job->bias[(i + j) % job->bias_n]
                       : job->x[i + j];
    switch (g->kind) {
    case GELU_QUICK:
      for (j = 0; j < n; j++)
        t[j] = v[j] * g->alpha;
      g->row(&g->params, in, NULL, r, n);
      for (j = 0; j < n; j++)
        y[j] = v[j] * r[j];
      break;
    case GELU_FAST:
      for (j = 0; j < n; j++) {
        float cubic = fast_c * v[j] * v[j] + fast_b; /* (c v) v, then + b */
        t[j] = v[j] * cubic;
      }
      g->row(&g->params, in, NULL, r, n);
      for (j = 0; j < n; j++)
        y[j] = 0.5f * v[j] * (r[j] + 1.0f);
      break;
    default:
      for (j = 0; j < n; j++)
        t[j] = v[j] * inv_sqrt2;
      g->row(&g->params, in, NULL, r, n);
      for (j = 0; j < n; j++)
        y[j] = 0.5f * v[j] * (r[j] + 1.0f);
    }
  }
}

static sc_status gelu_run(struct sc_node *node, struct sc_error *err)
{
  struct gelu_job job;
  (void)err;
  job.g = node->state;
  job.x = node->in[0]->data;
  job.bias = node->n_inputs > 1 && node->in[1] ? node->in[1]->data : NULL;
  job.bias_n = job.bias ? node->in[1]->n_elements : 1;
  job.y = node->out[0]->data;
  sc_parallel_for(sc_node_threads(node), node->out[0]->n_elements, GRAIN_HEAVY,
                  gelu_range, &job);
  return SC_OK;
}

static void gelu_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* --- activations of other operators (runtime/ops/activation.h) ---------- */

struct sc_activation {
  sc_broadcast_row_fn row; /* the operator's float32 row (Silu: Sigmoid's) */
  int silu;                /* then y = x * row(x) */
  int64_t grain;
  struct ew_params params;
};

sc_status sc_activation_create(const struct sc_node *node, const char *name,
                               const float *params, int64_t n_params,
                               struct sc_activation **out, struct sc_error *err)
{
  static const struct {
    const char *name, *op_type;
    int n_params;
  } known[] = {{"Relu", "Relu", 0},
               {"Tanh", "Tanh", 0},
               {"Sigmoid", "Sigmoid", 0},
               {"Silu", "Sigmoid", 0},
               {"LeakyRelu", "LeakyRelu", 1},
               {"Clip", "Clip", 2},
               {"HardSigmoid", "HardSigmoid", 2},
               {"Elu", "Elu", 1},
               {"Celu", "Celu", 1},
               {"Selu", "Selu", 2},
               {"ThresholdedRelu", "ThresholdedRelu", 1},
               {"Softplus", "Softplus", 0},
               {"Softsign", "Softsign", 0}};
  struct sc_activation *a;
  size_t k;

  *out = NULL;
  for (k = 0; k < sizeof known / sizeof known[0]; k++)
    if (strcmp(known[k].name, name) == 0)
      break;
  if (k == sizeof known / sizeof known[0])
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "activation '%s' is not implemented (Relu, Tanh, "
                        "Sigmoid, Silu, LeakyRelu, Clip, HardSigmoid, Elu, "
                        "Celu, Selu, ThresholdedRelu, Softplus, Softsign "
                        "are)",
                        name);
  if (n_params != known[k].n_params)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "activation %s takes %d parameter%s, "
                        "activation_params has %lld",
                        name, known[k].n_params,
                        known[k].n_params == 1 ? "" : "s", (long long)n_params);
  a = calloc(1, sizeof *a);
  if (!a)
    return sc_fail_nomem(err, "activation");
  a->silu = strcmp(name, "Silu") == 0;
  if (strcmp(name, "Clip") == 0) {
    a->row = find_unary(clip_impls, SC_DTYPE_FLOAT)->row;
    a->grain = GRAIN_CHEAP;
    a->params.lo.f32 = params[0];
    a->params.hi.f32 = params[1];
  } else {
    const struct unary_spec *spec = find_unary_spec(known[k].op_type);
    int i;
    a->row = find_unary(spec->impls, SC_DTYPE_FLOAT)->row;
    a->grain = spec->grain;
    for (i = 0; i < known[k].n_params; i++)
      *(float *)((char *)&a->params + spec->attrs[i].offset) = params[i];
  }
  if (known[k].n_params > 0 && strcmp(name, "Clip") != 0 &&
      (!(isfinite(params[0]) &&
         (known[k].n_params < 2 || isfinite(params[1]))) ||
       (strcmp(name, "Celu") == 0 && params[0] == 0.0f))) {
    free(a);
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "activation %s: parameters must be finite (and "
                        "Celu's alpha non-zero)",
                        name);
  }
  *out = a;
  return SC_OK;
}

struct activation_job {
  const struct sc_activation *a;
  const float *z;
  float *y;
};

static void activation_range(void *ctx, int64_t begin, int64_t end)
{
  const struct activation_job *job = ctx;
  const struct sc_activation *a = job->a;
  float x[ACTIVATION_BLOCK], r[ACTIVATION_BLOCK];
  int64_t i, j;

  for (i = begin; i < end; i += ACTIVATION_BLOCK) {
    int64_t n = end - i < ACTIVATION_BLOCK ? end - i : ACTIVATION_BLOCK;
    float *y = job->y + i;
    const void *in[1];
    in[0] = x;
    if (job->z) /* Add */
      for (j = 0; j < n; j++)
        x[j] = y[j] + job->z[i + j];
    else
      memcpy(x, y, (size_t)n * sizeof *x);
    if (!a)
      memcpy(y, x, (size_t)n * sizeof *x);
    else if (!a->silu)
      a->row(&a->params, in, NULL, y, n);
    else { /* Sigmoid, then Mul */
      a->row(&a->params, in, NULL, r, n);
      for (j = 0; j < n; j++)
        y[j] = x[j] * r[j];
    }
  }
}

void sc_activation_apply(const struct sc_activation *a, const float *z,
                         float *y, int64_t n, struct sc_threadpool *threads)
{
  struct activation_job job;
  job.a = a;
  job.z = z;
  job.y = y;
  sc_parallel_for(threads, n, a ? a->grain : GRAIN_CHEAP, activation_range,
                  &job);
}

void sc_activation_free(struct sc_activation *a)
{
  free(a);
}

const struct sc_op sc_ops_elementwise[] = {
    UNARY("Abs", 1, F16_ROWS),
    UNARY("Neg", 1, F16_ROWS),
    UNARY("Reciprocal", 1, F16_ROWS),
    UNARY("Floor", 1, F16_ROWS),
    UNARY("Ceil", 1, F16_ROWS),
    UNARY("Round", 11, F16_ROWS),
    UNARY("Sqrt", 1, F16_ROWS),
    UNARY("Exp", 1, F16_ROWS),
    UNARY("Log", 1, F16_ROWS),
    UNARY("Sin", 7, F16_ROWS),
    UNARY("Cos", 7, F16_ROWS),
    UNARY("Tan", 7, F16_ROWS),
    UNARY("Asin", 7, F16_ROWS),
    UNARY("Acos", 7, F16_ROWS),
    UNARY("Atan", 7, F16_ROWS),
    UNARY("Sinh", 9, F16_ROWS),
    UNARY("Cosh", 9, F16_ROWS),
    UNARY("Asinh", 9, F16_ROWS),
    UNARY("Acosh", 9, F16_ROWS),
    UNARY("Atanh", 9, F16_ROWS),
    UNARY("Erf", 9, F16_ROWS),
    UNARY("Sign", 9, F16_ROWS),
    UNARY("IsNaN", 9, F16),
    UNARY("IsInf", 10, 0),
    UNARY("Not", 1, 0),
    UNARY("BitwiseNot", 18, 0),
    UNARY("Relu", 1, F16_ROWS),
    UNARY("LeakyRelu", 1, F16_ROWS),
    UNARY("Elu", 1, F16_ROWS),
    UNARY("Selu", 1, F16_ROWS),
    UNARY("Celu", 12, 0),
    UNARY("ThresholdedRelu", 10, F16_ROWS),
    UNARY("Sigmoid", 1, F16_ROWS),
    UNARY("HardSigmoid", 1, F16_ROWS),
    UNARY("HardSwish", 14, F16_ROWS),
    UNARY("Tanh", 1, F16_ROWS),
    UNARY("Softplus", 1, F16_ROWS),
    UNARY("Softsign", 1, F16_ROWS),
    UNARY("Shrink", 9, F16_ROWS),
    UNARY("Mish", 18, F16_ROWS),
    {"", "Clip", 1, 10, clip_attr_prepare, clip_reshape, clip_run, ew_release,
     F16},
    {"", "Clip", 11, LATEST, clip_prepare, clip_reshape, clip_run, ew_release,
     F16},
    BINARY_LEGACY("Add", F16_ROWS),
    BINARY("Add", 7, LATEST, F16_ROWS),
    BINARY_LEGACY("Sub", F16_ROWS),
    BINARY("Sub", 7, LATEST, F16_ROWS),
    BINARY_LEGACY("Mul", F16_ROWS),
    BINARY("Mul", 7, LATEST, F16_ROWS),
    BINARY_LEGACY("Div", F16_ROWS),
    BINARY("Div", 7, LATEST, F16_ROWS),
    BINARY_LEGACY("Pow", 0),
    BINARY("Pow", 7, LATEST, 0),
    BINARY("Mod", 10, LATEST, F16),
    BINARY("BitShift", 11, LATEST, 0),
    BINARY_LEGACY("And", 0),
    BINARY("And", 7, LATEST, 0),
    BINARY_LEGACY("Or", 0),
    BINARY("Or", 7, LATEST, 0),
    BINARY_LEGACY("Xor", 0),
    BINARY("Xor", 7, LATEST, 0),
    BINARY("BitwiseAnd", 18, LATEST, 0),
    BINARY("BitwiseOr", 18, LATEST, 0),
    BINARY("BitwiseXor", 18, LATEST, 0),
    BINARY_LEGACY("Equal", F16),
    BINARY("Equal", 7, LATEST, F16),
    BINARY_LEGACY("Greater", F16),
    BINARY("Greater", 7, LATEST, F16),
    BINARY_LEGACY("Less", F16),
    BINARY("Less", 7, LATEST, F16),
    BINARY("GreaterOrEqual", 12, LATEST, F16),
    BINARY("LessOrEqual", 12, LATEST, F16),
    {"", "PRelu", 1, 6, prelu_legacy_prepare, binary_reshape, binary_run,
     ew_release, F16},
    BINARY("PRelu", 7, LATEST, F16),
    VARIADIC("Max", F16),
    VARIADIC("Min", F16),
    VARIADIC("Sum", F16),
    VARIADIC("Mean", F16),
    {"", "Where", 9, LATEST, where_prepare, where_reshape, where_run,
     ew_release, 0},
    {"com.microsoft", "Gelu", 1, LATEST, gelu_prepare, gelu_reshape, gelu_run,
     gelu_release, F16},
    {"com.microsoft", "BiasGelu", 1, LATEST, gelu_prepare, gelu_reshape,
     gelu_run, gelu_release, F16},
    {"com.microsoft", "FastGelu", 1, LATEST, gelu_prepare, gelu_reshape,
     gelu_run, gelu_release, F16},
    {"com.microsoft", "QuickGelu", 1, LATEST, gelu_prepare, gelu_reshape,
     gelu_run, gelu_release, F16},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
