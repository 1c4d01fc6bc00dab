/* dtype sizes, names and the float16/bfloat16 conversions against bit
 * patterns worked out by hand from IEEE 754 binary16 / bfloat16. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dtype.h"
#include "tests/support/assertions.h"

static void test_dtype_numbers_match_onnx(void **state)
{
  (void)state;
  assert_int_equal(SC_DTYPE_FLOAT, 1);
  assert_int_equal(SC_DTYPE_INT64, 7);
  assert_int_equal(SC_DTYPE_FLOAT16, 10);
  assert_int_equal(SC_DTYPE_BFLOAT16, 16);
  assert_int_equal(sc_dtype_size(SC_DTYPE_FLOAT16), 2);
  assert_int_equal(sc_dtype_size(SC_DTYPE_STRING), 0);
  assert_int_equal(sc_dtype_size(SC_DTYPE_COMPLEX64), 0);
}

static void test_dtype_names_round_trip(void **state)
{
  enum sc_dtype d;
  (void)state;
  assert_string_equal(sc_dtype_name(SC_DTYPE_FLOAT), "float32");
  assert_int_equal(sc_dtype_from_name("float32", &d), 0);
  assert_int_equal(d, SC_DTYPE_FLOAT);
  assert_int_equal(sc_dtype_from_name("FLOAT", &d), 0);
  assert_int_equal(d, SC_DTYPE_FLOAT);
  assert_int_equal(sc_dtype_from_name("int8", &d), 0);
  assert_int_equal(d, SC_DTYPE_INT8);
  assert_int_equal(sc_dtype_from_name("fp16", &d), 0);
  assert_int_equal(d, SC_DTYPE_FLOAT16);
  assert_int_equal(sc_dtype_from_name("int4", &d), -1);
}

/* The bulk converters (F16C where present) agree bit for bit with the
 * scalar ones: every half, and a sweep of float bit patterns with the
 * rounding boundaries, NaNs and odd lengths/offsets. */
static void test_bulk_half_conversions_match_scalar(void **state)
{
  static const uint32_t edges[] = {
      0x477fefffu, 0x477ff000u, 0x477ff001u, 0x38800000u, 0x387fffffu,
      0x33000000u, 0x33000001u, 0x32ffffffu, 0x7f800000u, 0x7f800001u,
      0x7fc00000u, 0x7fffffffu, 0x00000001u, 0x3f800fffu, 0x3f801000u,
      0x3f801001u, 0x3f802000u, 0x3f803000u, 0x80000000u, 0xffc00001u};
  const int64_t n = 65536 + 8 * 131072 + 64;
  uint16_t *h = malloc((size_t)n * sizeof *h);
  float *f = malloc((size_t)n * sizeof *f);
  int64_t i, start;
  (void)state;
  assert_non_null(h);
  assert_non_null(f);
  for (i = 0; i < 65536; i++)
    h[i] = (uint16_t)i;
  sc_half_to_float_n(h, f, 65536);
  for (i = 0; i < 65536; i++) {
    float want = sc_half_to_float(h[i]);
    assert_memory_equal(&f[i], &want, sizeof want);
  }
  for (i = 0; i < n; i++) {
    uint32_t u = i < (int64_t)(sizeof edges / sizeof edges[0])
                     ? edges[i]
                     : (uint32_t)((uint64_t)i * 4099u * 1031u);
    if (i % 3 == 0 && i >= 64) /* also near the edges, both signs */
      u = edges[i % 20] + (uint32_t)(i % 7) - 3u +
          ((uint32_t)i & 1u) * 0x80000000u;
    memcpy(&f[i], &u, sizeof u);
  }
  for (start = 0; start < 3; start++) { /* offsets and ragged tails */
    sc_float_to_half_n(f + start, h, n - start - start);
    for (i = 0; i < n - start - start; i++)
      if (h[i] != sc_float_to_half(f[start + i])) {
        uint32_t bits;
        memcpy(&bits, &f[start + i], sizeof bits);
        fail_msg("float bits 0x%08x: bulk 0x%04x, scalar 0x%04x", bits, h[i],
                 sc_float_to_half(f[start + i]));
      }
  }
  free(h);
  free(f);
}

static void test_half_to_float_known_values(void **state)
{
  (void)state;
  assert_true(sc_half_to_float(0x3c00) == 1.0f);
  assert_true(sc_half_to_float(0xc000) == -2.0f);
  assert_true(sc_half_to_float(0x7bff) == 65504.0f);
  assert_true(sc_half_to_float(0x0001) == ldexpf(1.0f, -24)); /* subnormal */
  assert_true(sc_half_to_float(0x0400) == ldexpf(1.0f, -14));
  assert_true(sc_half_to_float(0x8000) == 0.0f &&
              signbit(sc_half_to_float(0x8000)));
  assert_true(isinf(sc_half_to_float(0x7c00)));
  assert_true(isnan(sc_half_to_float(0x7e00)));
}

static void test_float_to_half_rounds_to_nearest_even(void **state)
{
  (void)state;
  assert_int_equal(sc_float_to_half(1.0f), 0x3c00);
  assert_int_equal(sc_float_to_half(0.1f), 0x2e66); /* 0.0999755859375 */
  /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (down) */
  assert_int_equal(sc_float_to_half(1.0f + ldexpf(1.0f, -11)), 0x3c00);
  /* 1 + 3*2^-11 is halfway between 0x3c01 and 0x3c02: up to even */
  assert_int_equal(sc_float_to_half(1.0f + 3 * ldexpf(1.0f, -11)), 0x3c02);
  assert_int_equal(sc_float_to_half(65504.0f), 0x7bff);
  assert_int_equal(sc_float_to_half(65519.0f), 0x7bff);
  assert_int_equal(sc_float_to_half(65520.0f), 0x7c00); /* overflow */
  assert_int_equal(sc_float_to_half(-1e10f), 0xfc00);
  assert_int_equal(sc_float_to_half(ldexpf(1.0f, -24)), 0x0001);
  assert_int_equal(sc_float_to_half(ldexpf(1.0f, -25)), 0x0000); /* tie */
  assert_int_equal(sc_float_to_half(ldexpf(3.0f, -25)), 0x0002); /* tie up */
  assert_int_equal(sc_float_to_half(ldexpf(1.0f, -14)), 0x0400);
  assert_true((sc_float_to_half(NAN) & 0x7c00) == 0x7c00 &&
              (sc_float_to_half(NAN) & 0x03ff) != 0);
}

static void test_float_to_half_exhaustive_round_trip(void **state)
{
  uint32_t h;
  (void)state;
  /* every finite half survives half -> float -> half */
  for (h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) == 0x7c00)
      continue;
    assert_int_equal(sc_float_to_half(sc_half_to_float((uint16_t)h)), h);
  }
}

static void test_bfloat16_known_values(void **state)
{
  (void)state;
  assert_int_equal(sc_float_to_bfloat16(1.0f), 0x3f80);
  assert_true(sc_bfloat16_to_float(0x3f80) == 1.0f);
  assert_true(sc_bfloat16_to_float(0xc0a0) == -5.0f);
  /* 1 + 2^-8 is halfway between 0x3f80 and 0x3f81: to even (down) */
  assert_int_equal(sc_float_to_bfloat16(1.0f + ldexpf(1.0f, -8)), 0x3f80);
  assert_int_equal(sc_float_to_bfloat16(1.0f + 3 * ldexpf(1.0f, -8)), 0x3f82);
  assert_true(isnan(sc_bfloat16_to_float(sc_float_to_bfloat16(NAN))));
}

static void test_store_saturates_and_truncates(void **state)
{
  int8_t i8[3];
  uint8_t u8[2];
  (void)state;
  sc_dtype_store(SC_DTYPE_INT8, i8, 0, 300.0);
  sc_dtype_store(SC_DTYPE_INT8, i8, 1, -2.9);
  sc_dtype_store(SC_DTYPE_INT8, i8, 2, NAN);
  assert_int_equal(i8[0], 127);
  assert_int_equal(i8[1], -2);
  assert_int_equal(i8[2], 0);
  sc_dtype_store(SC_DTYPE_UINT8, u8, 0, -1.0);
  sc_dtype_store(SC_DTYPE_BOOL, u8, 1, 0.5);
  assert_int_equal(u8[0], 0);
  assert_int_equal(u8[1], 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dtype_numbers_match_onnx),
      cmocka_unit_test(test_dtype_names_round_trip),
      cmocka_unit_test(test_half_to_float_known_values),
      cmocka_unit_test(test_bulk_half_conversions_match_scalar),
      cmocka_unit_test(test_float_to_half_rounds_to_nearest_even),
      cmocka_unit_test(test_float_to_half_exhaustive_round_trip),
      cmocka_unit_test(test_bfloat16_known_values),
      cmocka_unit_test(test_store_saturates_and_truncates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
