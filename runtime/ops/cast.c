/* Operator family: Cast and CastLike between every numeric type and bool
 * (float16, bfloat16, float, double, int8..int64, uint8..uint64).
 *
 * Conversions, per element:
 *   to float/double        C conversion: exact or rounded to nearest even
 *                          (overflow gives inf).
 *   to float16/bfloat16    rounded once to nearest even from the exact
 *                          source value: double and 64-bit integer sources
 *                          go through float with round-to-odd, which keeps
 *                          the second rounding from being a double rounding.
 *   float to integer       truncation toward zero; values outside the
 *                          target's range saturate and NaN gives 0 (ONNX
 *                          leaves this undefined; sc_dtype_store does the
 *                          same).
 *   integer to integer     C conversion: modulo 2^bits (numpy's astype).
 *   to bool                x != 0 (NaN is true, as in numpy).
 *   from bool              0 or 1.
 * Strings are not supported (SC_ERR_UNSUPPORTED). */
#include <math.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/threadpool.h"

#define CAST_GRAIN 32768

/* --- scalar conversions --------------------------------------------------- */

/* d rounded to float with round-to-odd: an inexact result takes the
 * neighbour whose last mantissa bit is 1. Rounding that float to nearest
 * even in a format at least two bits narrower (float16, bfloat16) gives the
 * same result as rounding d directly. */
static float float_round_odd(double d)
{
  float f = (float)d;
  uint32_t bits;
  if (d != d || isinf(f) || (double)f == d)
    return f;
  memcpy(&bits, &f, sizeof bits);
  if (!(bits & 1u))
    f = nextafterf(f, (double)f < d ? INFINITY : -INFINITY);
  return f;
}

/* u rounded to float with round-to-odd: first to 53 bits with a sticky
 * last bit (exact in double), then float_round_odd. */
static float u64_round_odd(uint64_t u)
{
  int shift = 0;
  uint64_t sticky = 0;
  while (u >> 53) {
    sticky |= u & 1u;
    u >>= 1;
    shift++;
  }
  return float_round_odd(ldexp((double)(u | sticky), shift));
}

static float i64_round_odd(int64_t v)
{
  float f = u64_round_odd(v < 0 ? 0u - (uint64_t)v : (uint64_t)v);
  return v < 0 ? -f : f;
}

static uint16_t half_from_double(double d)
{
  return sc_float_to_half(float_round_odd(d));
}
static uint16_t half_from_i64(int64_t v)
{
  return sc_float_to_half(i64_round_odd(v));
}
static uint16_t half_from_u64(uint64_t v)
{
  return sc_float_to_half(u64_round_odd(v));
}
static uint16_t bf16_from_double(double d)
{
  return sc_float_to_bfloat16(float_round_odd(d));
}
static uint16_t bf16_from_i64(int64_t v)
{
  return sc_float_to_bfloat16(i64_round_odd(v));
}
static uint16_t bf16_from_u64(uint64_t v)
{
  return sc_float_to_bfloat16(u64_round_odd(v));
}

/* Float to integer: truncation, saturation, NaN -> 0. `below` and `above`
 * are the nearest values outside the range (exact doubles, or rounded
 * outward for 64-bit types). */
#define SATURATE(sfx, T, MIN, MAX, below, above)                               \
  static inline T sat_##sfx(double v)                                          \
  {                                                                            \
    if (v != v)                                                                \
      return 0;                                                                \
    if (v <= (below))                                                          \
      return MIN;                                                              \
    if (v >= (above))                                                          \
      return MAX;                                                              \
    return (T)v;                                                               \
  }
SATURATE(i8, int8_t, INT8_MIN, INT8_MAX, -129.0, 128.0)
SATURATE(i16, int16_t, INT16_MIN, INT16_MAX, -32769.0, 32768.0)
SATURATE(i32, int32_t, INT32_MIN, INT32_MAX, -2147483649.0, 2147483648.0)
SATURATE(i64, int64_t, INT64_MIN, INT64_MAX, -9223372036854775808.0,
         9223372036854775808.0)
SATURATE(u8, uint8_t, 0, UINT8_MAX, -1.0, 256.0)
SATURATE(u16, uint16_t, 0, UINT16_MAX, -1.0, 65536.0)
SATURATE(u32, uint32_t, 0, UINT32_MAX, -1.0, 4294967296.0)
SATURATE(u64, uint64_t, 0, UINT64_MAX, -1.0, 18446744073709551616.0)

/* Sources load into one of four exact intermediate types: float (float16,
 * bfloat16, float), double, int64_t (signed types, bool, uint8..uint32) or
 * uint64_t; each destination converts from all four. */
#define LOAD_F16(v) sc_half_to_float(v)
#define LOAD_BF16(v) sc_bfloat16_to_float(v)
#define LOAD_SAME(v) (v)
#define LOAD_I64(v) ((int64_t)(v))
#define LOAD_U64(v) ((uint64_t)(v))

#define TO_f32(v) ((float)(v))
#define TO_f64(v) ((double)(v))
#define TO_f16(v)                                                              \
  _Generic((v), float                                                          \
           : sc_float_to_half, double                                          \
           : half_from_double, int64_t                                         \
           : half_from_i64, uint64_t                                           \
           : half_from_u64)(v)
#define TO_bf16(v)                                                             \
  _Generic((v), float                                                          \
           : sc_float_to_bfloat16, double                                      \
           : bf16_from_double, int64_t                                         \
           : bf16_from_i64, uint64_t                                           \
           : bf16_from_u64)(v)
#define TO_INT(sfx, T, v)                                                      \
  _Generic((v), float                                                          \
           : sat_##sfx((double)(v)), double                                    \
           : sat_##sfx((double)(v)), default                                   \
           : (T)(v))
#define TO_i8(v) TO_INT(i8, int8_t, v)
#define TO_i16(v) TO_INT(i16, int16_t, v)
#define TO_i32(v) TO_INT(i32, int32_t, v)
#define TO_i64(v) TO_INT(i64, int64_t, v)
#define TO_u8(v) TO_INT(u8, uint8_t, v)
#define TO_u16(v) TO_INT(u16, uint16_t, v)
#define TO_u32(v) TO_INT(u32, uint32_t, v)
#define TO_u64(v) TO_INT(u64, uint64_t, v)
#define TO_b8(v) ((uint8_t)((v) != 0))

/* X(suffix, DTYPE, C type, LOAD, ...): two copies, for nesting. */
#define CAST_SOURCES(X, ...)                                                   \
  X(f16, FLOAT16, uint16_t, LOAD_F16, __VA_ARGS__)                             \
  X(bf16, BFLOAT16, uint16_t, LOAD_BF16, __VA_ARGS__)                          \
  X(f32, FLOAT, float, LOAD_SAME, __VA_ARGS__)                                 \
  X(f64, DOUBLE, double, LOAD_SAME, __VA_ARGS__)                               \
  X(i8, INT8, int8_t, LOAD_I64, __VA_ARGS__)                                   \
  X(i16, INT16, int16_t, LOAD_I64, __VA_ARGS__)                                \
  X(i32, INT32, int32_t, LOAD_I64, __VA_ARGS__)                                \
  X(i64, INT64, int64_t, LOAD_I64, __VA_ARGS__)                                \
  X(u8, UINT8, uint8_t, LOAD_I64, __VA_ARGS__)                                 \
  X(u16, UINT16, uint16_t, LOAD_I64, __VA_ARGS__)                              \
  X(u32, UINT32, uint32_t, LOAD_I64, __VA_ARGS__)                              \
  X(u64, UINT64, uint64_t, LOAD_U64, __VA_ARGS__)                              \
  X(b8, BOOL, uint8_t, LOAD_I64, __VA_ARGS__)
#define CAST_DESTINATIONS(X, ...)                                              \
  X(f16, FLOAT16, uint16_t, LOAD_F16, __VA_ARGS__)                             \
  X(bf16, BFLOAT16, uint16_t, LOAD_BF16, __VA_ARGS__)                          \
  X(f32, FLOAT, float, LOAD_SAME, __VA_ARGS__)                                 \
  X(f64, DOUBLE, double, LOAD_SAME, __VA_ARGS__)                               \
  X(i8, INT8, int8_t, LOAD_I64, __VA_ARGS__)                                   \
  X(i16, INT16, int16_t, LOAD_I64, __VA_ARGS__)                                \
  X(i32, INT32, int32_t, LOAD_I64, __VA_ARGS__)                                \
  X(i64, INT64, int64_t, LOAD_I64, __VA_ARGS__)                                \
  X(u8, UINT8, uint8_t, LOAD_I64, __VA_ARGS__)                                 \
  X(u16, UINT16, uint16_t, LOAD_I64, __VA_ARGS__)                              \
  X(u32, UINT32, uint32_t, LOAD_I64, __VA_ARGS__)                              \
  X(u64, UINT64, uint64_t, LOAD_U64, __VA_ARGS__)                              \
  X(b8, BOOL, uint8_t, LOAD_I64, __VA_ARGS__)

/* Converts elements [begin, end). */
typedef void (*cast_fn)(const void *in, void *out, int64_t begin, int64_t end);

#define CAST_FUNCTION(d, DD, TD, dload, s, DS, TS, LOAD)                       \
  static inline void cast_##s##_##d##_loop(const TS *restrict x,               \
                                           TD *restrict y, int64_t n)          \
  {                                                                            \
    const int64_t m = n & ~(int64_t)15; /* see elementwise.c: ROW_BLOCK */     \
    int64_t j;                                                                 \
    for (j = 0; j < m; j++)                                                    \
      y[j] = TO_##d(LOAD(x[j]));                                               \
    for (; j < n; j++)                                                         \
      y[j] = TO_##d(LOAD(x[j]));                                               \
  }                                                                            \
  static void cast_##s##_##d(const void *in, void *out, int64_t begin,         \
                             int64_t end)                                      \
  {                                                                            \
    cast_##s##_##d##_loop((const TS *)in + begin, (TD *)out + begin,           \
                          end - begin);                                        \
  }

#define CAST_FUNCTIONS_FROM(s, DS, TS, LOAD, unused)                           \
  CAST_DESTINATIONS(CAST_FUNCTION, s, DS, TS, LOAD)
CAST_SOURCES(CAST_FUNCTIONS_FROM, _)

#define CAST_ENTRY(d, DD, TD, dload, s, DS, TS, LOAD)                          \
  [SC_DTYPE_##DS][SC_DTYPE_##DD] = cast_##s##_##d,
#define CAST_ENTRIES_FROM(s, DS, TS, LOAD, unused)                             \
  CAST_DESTINATIONS(CAST_ENTRY, s, DS, TS, LOAD)

/* float <-> float16, the pairs of float16 models, through the converters
 * that take F16C where the CPU has it: bit for bit the scalar ones. */
static void cast_f32_to_f16_n(const void *in, void *out, int64_t begin,
                              int64_t end)
{
  sc_float_to_half_n((const float *)in + begin, (uint16_t *)out + begin,
                     end - begin);
}

static void cast_f16_to_f32_n(const void *in, void *out, int64_t begin,
                              int64_t end)
{
  sc_half_to_float_n((const uint16_t *)in + begin, (float *)out + begin,
                     end - begin);
}

static const cast_fn cast_f32_f16_fast = cast_f32_to_f16_n;
static const cast_fn cast_f16_f32_fast = cast_f16_to_f32_n;

/* [source dtype][destination dtype]; NULL for unsupported pairs */
static const cast_fn cast_table[SC_DTYPE_BFLOAT16 + 1][SC_DTYPE_BFLOAT16 + 1] =
    {CAST_SOURCES(CAST_ENTRIES_FROM, _)};

static cast_fn cast_lookup(enum sc_dtype from, enum sc_dtype to)
{
  if ((unsigned)from > SC_DTYPE_BFLOAT16 || (unsigned)to > SC_DTYPE_BFLOAT16)
    return NULL;
  return cast_table[from][to];
}

/* --- kernels -------------------------------------------------------------- */

/* Checks both types and points node->state at the cast_table entry of the
 * conversion, or leaves it NULL when the types are equal (a copy). Nothing
 * is allocated. Fails naming the node on an unsupported type. */
static sc_status choose_conversion(struct sc_node *node, enum sc_dtype to,
                                   struct sc_error *err)
{
  enum sc_dtype from = node->in[0]->dtype;
  if (!cast_lookup(from, SC_DTYPE_FLOAT))
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "input 0 ('%s') has dtype %s, which this operator "
                        "does not support",
                        sc_node_input_name(node, 0), sc_dtype_name(from));
  if (!cast_lookup(SC_DTYPE_FLOAT, to))
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "casting to %s is not supported", sc_dtype_name(to));
  if (from == to)
    node->state = NULL;
  else if (from == SC_DTYPE_FLOAT && to == SC_DTYPE_FLOAT16)
    node->state = (void *)&cast_f32_f16_fast;
  else if (from == SC_DTYPE_FLOAT16 && to == SC_DTYPE_FLOAT)
    node->state = (void *)&cast_f16_f32_fast;
  else
    node->state = (void *)&cast_table[from][to];
  return SC_OK;
}

/* The `to` attribute: a DataType number (opset 6..) or, in opset 1..5, its
 * name ("FLOAT", "INT64" ...). */
static sc_status cast_target(const struct sc_node *node, enum sc_dtype *to,
                             struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, "to");
  if (!a)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "attribute 'to' is missing");
  if (a->type == SC_ATTR_STRING) {
    if (sc_dtype_from_name(a->s, to) != 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'to' names no data type ('%s')", a->s);
    return SC_OK;
  }
  if (a->type != SC_ATTR_INT)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'to' must be an integer or a string");
  if (a->i <= SC_DTYPE_UNDEFINED)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'to' (%lld) is no data type",
                        (long long)a->i);
  if (a->i > SC_DTYPE_BFLOAT16)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "attribute 'to' is data type %lld, which is not "
                        "supported",
                        (long long)a->i);
  *to = (enum sc_dtype)a->i;
  return SC_OK;
}

static sc_status cast_prepare(struct sc_node *node, struct sc_error *err)
{
  enum sc_dtype to = SC_DTYPE_UNDEFINED;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = cast_target(node, &to, err);
  if (!st)
    st = choose_conversion(node, to, err);
  if (st)
    return st;
  node->out[0]->dtype = to;
  return SC_OK;
}

static sc_status cast_like_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!st)
    st = choose_conversion(node, node->in[1]->dtype, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[1]->dtype;
  return SC_OK;
}

struct cast_job {
  cast_fn fn;
  const void *in;
  void *out;
};

static void cast_range(void *ctx, int64_t begin, int64_t end)
{
  const struct cast_job *job = ctx;
  job->fn(job->in, job->out, begin, end);
}

static sc_status cast_run(struct sc_node *node, struct sc_error *err)
{
  const cast_fn *entry = node->state;
  struct cast_job job;
  job.in = node->in[0]->data;
  job.out = node->out[0]->data;
  if (!entry) {
    if (node->out[0]->n_elements)
      memcpy(job.out, job.in, sc_tensor_size(node->out[0]));
    return SC_OK;
  }
  job.fn = *entry;
  sc_parallel_for(sc_node_threads(node), node->out[0]->n_elements, CAST_GRAIN,
                  cast_range, &job);
  return SC_OK;
}

const struct sc_op sc_ops_cast[] = {
    {"", "Cast", 1, SC_OPSET_LATEST, cast_prepare, sc_reshape_like_input0,
     cast_run, NULL, 0},
    {"", "CastLike", 15, SC_OPSET_LATEST, cast_like_prepare,
     sc_reshape_like_input0, cast_run, NULL, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
