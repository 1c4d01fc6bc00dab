#include "runtime/dtype.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

size_t sc_dtype_size(enum sc_dtype dtype)
{
  switch (dtype) {
  case SC_DTYPE_FLOAT:
  case SC_DTYPE_INT32:
  case SC_DTYPE_UINT32:
    return 4;
  case SC_DTYPE_UINT8:
  case SC_DTYPE_INT8:
  case SC_DTYPE_BOOL:
    return 1;
  case SC_DTYPE_UINT16:
  case SC_DTYPE_INT16:
  case SC_DTYPE_FLOAT16:
  case SC_DTYPE_BFLOAT16:
    return 2;
  case SC_DTYPE_INT64:
  case SC_DTYPE_UINT64:
  case SC_DTYPE_DOUBLE:
    return 8;
  case SC_DTYPE_UNDEFINED:
  case SC_DTYPE_STRING:
  case SC_DTYPE_COMPLEX64:
  case SC_DTYPE_COMPLEX128:
    return 0;
  }
  return 0;
}

static const struct {
  enum sc_dtype dtype;
  const char *name;
} dtype_names[] = {
    {SC_DTYPE_FLOAT, "float32"},
    {SC_DTYPE_UINT8, "uint8"},
    {SC_DTYPE_INT8, "int8"},
    {SC_DTYPE_UINT16, "uint16"},
    {SC_DTYPE_INT16, "int16"},
    {SC_DTYPE_INT32, "int32"},
    {SC_DTYPE_INT64, "int64"},
    {SC_DTYPE_STRING, "string"},
    {SC_DTYPE_BOOL, "bool"},
    {SC_DTYPE_FLOAT16, "float16"},
    {SC_DTYPE_DOUBLE, "float64"},
    {SC_DTYPE_UINT32, "uint32"},
    {SC_DTYPE_UINT64, "uint64"},
    {SC_DTYPE_COMPLEX64, "complex64"},
    {SC_DTYPE_COMPLEX128, "complex128"},
    {SC_DTYPE_BFLOAT16, "bfloat16"},
};

/* Other spellings accepted by sc_dtype_from_name (ONNX enum names and
 * common short forms). */
static const struct {
  enum sc_dtype dtype;
  const char *name;
} dtype_aliases[] = {
    {SC_DTYPE_FLOAT, "float"},  {SC_DTYPE_FLOAT, "fp32"},
    {SC_DTYPE_FLOAT, "f32"},    {SC_DTYPE_DOUBLE, "double"},
    {SC_DTYPE_DOUBLE, "fp64"},  {SC_DTYPE_FLOAT16, "fp16"},
    {SC_DTYPE_FLOAT16, "half"}, {SC_DTYPE_BFLOAT16, "bf16"},
    {SC_DTYPE_UINT8, "u8"},     {SC_DTYPE_INT8, "s8"},
    {SC_DTYPE_INT8, "i8"},
};

const char *sc_dtype_name(enum sc_dtype dtype)
{
  size_t i;
  if (dtype == SC_DTYPE_UNDEFINED)
    return "undefined";
  for (i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
    if (dtype_names[i].dtype == dtype)
      return dtype_names[i].name;
  return "unknown";
}

int sc_dtype_from_name(const char *name, enum sc_dtype *out)
{
  size_t i;
  for (i = 0; i < sizeof dtype_names / sizeof dtype_names[0]; i++)
    if (strcasecmp(dtype_names[i].name, name) == 0) {
      *out = dtype_names[i].dtype;
      return 0;
    }
  for (i = 0; i < sizeof dtype_aliases / sizeof dtype_aliases[0]; i++)
    if (strcasecmp(dtype_aliases[i].name, name) == 0) {
      *out = dtype_aliases[i].dtype;
      return 0;
    }
  return -1;
}

int sc_dtype_is_float(enum sc_dtype dtype)
{
  return dtype == SC_DTYPE_FLOAT || dtype == SC_DTYPE_DOUBLE ||
         dtype == SC_DTYPE_FLOAT16 || dtype == SC_DTYPE_BFLOAT16;
}

int sc_dtype_is_integer(enum sc_dtype dtype)
{
  switch (dtype) {
  case SC_DTYPE_UINT8:
  case SC_DTYPE_INT8:
  case SC_DTYPE_UINT16:
  case SC_DTYPE_INT16:
  case SC_DTYPE_INT32:
  case SC_DTYPE_INT64:
  case SC_DTYPE_UINT32:
  case SC_DTYPE_UINT64:
    return 1;
  default:
    return 0;
  }
}

int sc_dtype_is_signed(enum sc_dtype dtype)
{
  switch (dtype) {
  case SC_DTYPE_INT8:
  case SC_DTYPE_INT16:
  case SC_DTYPE_INT32:
  case SC_DTYPE_INT64:
    return 1;
  default:
    return sc_dtype_is_float(dtype);
  }
}

static uint32_t float_bits(float f)
{
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static float bits_float(uint32_t u)
{
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

float sc_half_to_float(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;

  if (exponent == 0x1f) /* inf or NaN */
    return bits_float(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    if (mantissa == 0)
      return bits_float(sign);
    /* subnormal: value = mantissa * 2^-24 */
    float v = (float)mantissa * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

uint16_t sc_float_to_half(float f)
{
  uint32_t u = float_bits(f);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
  uint32_t abs = u & 0x7fffffffu;

  if (abs >= 0x7f800000u) /* inf or NaN: keep NaN quiet */
    return (uint16_t)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
    return (uint16_t)(sign | 0x7c00u);
  if (abs < 0x38800000u) {
    /* result is subnormal or zero: round abs * 2^24 to an integer, ties even */
    float scaled = bits_float(abs) * 16777216.0f; /* exact: power of two */
    float r = nearbyintf(scaled);
    return (uint16_t)(sign | (uint16_t)r);
  }
  /* normal: drop 13 mantissa bits with round to nearest even */
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return (uint16_t)(sign | ((rounded - 0x38000000u) >> 13));
}

#if defined(__x86_64__) && defined(__GNUC__)
/* 8 lanes per step; returns how many elements were converted (a multiple
 * of 8), the caller does the rest. Blocks holding a NaN are left to the
 * scalar code, whose NaN encoding differs from the instruction's. */
__attribute__((target("avx,f16c"))) static int64_t
half_to_float_f16c(const uint16_t *src, float *dst, int64_t n)
{
  int64_t i, k;
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 f = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
    if (_mm256_movemask_ps(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)))
      for (k = i; k < i + 8; k++)
        dst[k] = sc_half_to_float(src[k]);
    else
      _mm256_storeu_ps(dst + i, f);
  }
  return i;
}

__attribute__((target("avx,f16c"))) static int64_t
float_to_half_f16c(const float *src, uint16_t *dst, int64_t n)
{
  int64_t i, k;
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 f = _mm256_loadu_ps(src + i);
    if (_mm256_movemask_ps(_mm256_cmp_ps(f, f, _CMP_UNORD_Q)))
      for (k = i; k < i + 8; k++)
        dst[k] = sc_float_to_half(src[k]);
    else
      _mm_storeu_si128(
          (__m128i *)(dst + i),
          _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  return i;
}

static int has_f16c(void)
{
  return __builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c");
}
#else
static int64_t half_to_float_f16c(const uint16_t *src, float *dst, int64_t n)
{
  (void)src;
  (void)dst;
  (void)n;
  return 0;
}

static int64_t float_to_half_f16c(const float *src, uint16_t *dst, int64_t n)
{
  (void)src;
  (void)dst;
  (void)n;
  return 0;
}

static int has_f16c(void)
{
  return 0;
}
#endif

void sc_half_to_float_n(const uint16_t *src, float *dst, int64_t n)
{
  int64_t i = has_f16c() ? half_to_float_f16c(src, dst, n) : 0;
  for (; i < n; i++)
    dst[i] = sc_half_to_float(src[i]);
}

void sc_float_to_half_n(const float *src, uint16_t *dst, int64_t n)
{
  int64_t i = has_f16c() ? float_to_half_f16c(src, dst, n) : 0;
  for (; i < n; i++)
    dst[i] = sc_float_to_half(src[i]);
}

float sc_bfloat16_to_float(uint16_t b)
{
  return bits_float((uint32_t)b << 16);
}

uint16_t sc_float_to_bfloat16(float f)
{
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it a quiet NaN */
    return (uint16_t)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

double sc_dtype_load(enum sc_dtype dtype, const void *data, int64_t i)
{
  switch (dtype) {
  case SC_DTYPE_FLOAT:
    return ((const float *)data)[i];
  case SC_DTYPE_DOUBLE:
    return ((const double *)data)[i];
  case SC_DTYPE_FLOAT16:
    return sc_half_to_float(((const uint16_t *)data)[i]);
  case SC_DTYPE_BFLOAT16:
    return sc_bfloat16_to_float(((const uint16_t *)data)[i]);
  case SC_DTYPE_UINT8:
  case SC_DTYPE_BOOL:
    return ((const uint8_t *)data)[i];
  case SC_DTYPE_INT8:
    return ((const int8_t *)data)[i];
  case SC_DTYPE_UINT16:
    return ((const uint16_t *)data)[i];
  case SC_DTYPE_INT16:
    return ((const int16_t *)data)[i];
  case SC_DTYPE_INT32:
    return ((const int32_t *)data)[i];
  case SC_DTYPE_UINT32:
    return ((const uint32_t *)data)[i];
  case SC_DTYPE_INT64:
    return (double)((const int64_t *)data)[i];
  case SC_DTYPE_UINT64:
    return (double)((const uint64_t *)data)[i];
  default:
    return 0.0;
  }
}

/* Truncates toward zero and saturates into [lo, hi]; NaN gives 0. */
static double clamp_trunc(double v, double lo, double hi)
{
  if (isnan(v))
    return 0.0;
  v = trunc(v);
  if (v < lo)
    return lo;
  if (v > hi)
    return hi;
  return v;
}

void sc_dtype_store(enum sc_dtype dtype, void *data, int64_t i, double v)
{
  switch (dtype) {
  case SC_DTYPE_FLOAT:
    ((float *)data)[i] = (float)v;
    break;
  case SC_DTYPE_DOUBLE:
    ((double *)data)[i] = v;
    break;
  case SC_DTYPE_FLOAT16:
    ((uint16_t *)data)[i] = sc_float_to_half((float)v);
    break;
  case SC_DTYPE_BFLOAT16:
    ((uint16_t *)data)[i] = sc_float_to_bfloat16((float)v);
    break;
  case SC_DTYPE_BOOL:
    ((uint8_t *)data)[i] = v != 0.0;
    break;
  case SC_DTYPE_UINT8:
    ((uint8_t *)data)[i] = (uint8_t)clamp_trunc(v, 0, 255);
    break;
  case SC_DTYPE_INT8:
    ((int8_t *)data)[i] = (int8_t)clamp_trunc(v, -128, 127);
    break;
  case SC_DTYPE_UINT16:
    ((uint16_t *)data)[i] = (uint16_t)clamp_trunc(v, 0, 65535);
    break;
  case SC_DTYPE_INT16:
    ((int16_t *)data)[i] = (int16_t)clamp_trunc(v, -32768, 32767);
    break;
  case SC_DTYPE_INT32:
    ((int32_t *)data)[i] = (int32_t)clamp_trunc(v, -2147483648.0, 2147483647.0);
    break;
  case SC_DTYPE_UINT32:
    ((uint32_t *)data)[i] = (uint32_t)clamp_trunc(v, 0, 4294967295.0);
    break;
  case SC_DTYPE_INT64:
    ((int64_t *)data)[i] =
        (int64_t)clamp_trunc(v, -9223372036854775808.0, 9223372036854774784.0);
    break;
  case SC_DTYPE_UINT64:
    ((uint64_t *)data)[i] = (uint64_t)clamp_trunc(v, 0, 18446744073709549568.0);
    break;
  default:
    break;
  }
}

int64_t sc_dtype_load_i64(enum sc_dtype dtype, const void *data, int64_t i)
{
  switch (dtype) {
  case SC_DTYPE_INT64:
    return ((const int64_t *)data)[i];
  case SC_DTYPE_UINT64:
    return (int64_t)((const uint64_t *)data)[i];
  case SC_DTYPE_INT32:
    return ((const int32_t *)data)[i];
  case SC_DTYPE_UINT32:
    return ((const uint32_t *)data)[i];
  case SC_DTYPE_INT16:
    return ((const int16_t *)data)[i];
  case SC_DTYPE_UINT16:
    return ((const uint16_t *)data)[i];
  case SC_DTYPE_INT8:
    return ((const int8_t *)data)[i];
  case SC_DTYPE_UINT8:
  case SC_DTYPE_BOOL:
    return ((const uint8_t *)data)[i];
  default:
    return (int64_t)clamp_trunc(sc_dtype_load(dtype, data, i),
                                -9223372036854775808.0, 9223372036854774784.0);
  }
}

void sc_dtype_store_i64(enum sc_dtype dtype, void *data, int64_t i, int64_t v)
{
  switch (dtype) {
  case SC_DTYPE_INT64:
    ((int64_t *)data)[i] = v;
    break;
  case SC_DTYPE_UINT64:
    ((uint64_t *)data)[i] = (uint64_t)v;
    break;
  case SC_DTYPE_INT32:
    ((int32_t *)data)[i] = (int32_t)v;
    break;
  case SC_DTYPE_UINT32:
    ((uint32_t *)data)[i] = (uint32_t)v;
    break;
  case SC_DTYPE_INT16:
    ((int16_t *)data)[i] = (int16_t)v;
    break;
  case SC_DTYPE_UINT16:
    ((uint16_t *)data)[i] = (uint16_t)v;
    break;
  case SC_DTYPE_INT8:
    ((int8_t *)data)[i] = (int8_t)v;
    break;
  case SC_DTYPE_UINT8:
    ((uint8_t *)data)[i] = (uint8_t)v;
    break;
  case SC_DTYPE_BOOL:
    ((uint8_t *)data)[i] = v != 0;
    break;
  default:
    sc_dtype_store(dtype, data, i, (double)v);
    break;
  }
}
