/* Arithmetic transformers against numpy (fixtures/transforms/cases.txt):
 * Add, Mean, Scale, Normalize, normalize, cast, F32ToS8, F32ToU8. All are
 * bit-exact: numpy does the same float32/float64 operations. */
#include "tests/transforms/oracle_cases.h"

static void test_add_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("add_");
  oracle_exact("chain_add_int8"); /* uint8 CHW YUV444 - 128 */
}

static void test_mean_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("mean_");
  oracle_exact("snake_mean_chw"); /* channel axis from the tracked layout */
}

static void test_scale_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("scale_");
}

static void test_normalize_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("normalize_");
  oracle_exact("snake_normalize_chw");
}

static void test_casts_match_numpy_x86(void **state)
{
  (void)state;
  oracle_exact("f32_to_");
  oracle_exact("cast_");
  oracle_exact("snake_cast_f32");
}

/* AddTransformer's float32 rule: a Python scalar is rounded to float32 and
 * added in float32. Hand-checked: (float)1.00000005 == 1.0f, so 2^24 + 1.0f
 * ties to even (2^24), while the double sum would round up to 2^24 + 2. */
static void test_add_scalar_is_float32_arithmetic(void **state)
{
  int64_t dims[1] = {2};
  float in_v[2] = {1.0f, 16777216.0f};
  struct sc_tensor *in = sc_test_tensor_f32(1, dims, in_v), *out = NULL;
  struct sc_transform_param p = p_num("value", 1.00000005);
  struct sc_transform *t = NULL;
  struct sc_error err;
  (void)state;
  assert_int_equal(sc_transform_create("add", &p, 1, &t, &err), SC_OK);
  assert_int_equal(sc_transform_apply(t, in, NULL, &out, &err), SC_OK);
  /* 2^24 + 1 is not representable in float32: stays 2^24 */
  assert_true(((float *)out->data)[0] == 2.0f);
  assert_true(((float *)out->data)[1] == 16777216.0f);
  sc_tensor_free(out);
  sc_tensor_free(in);
  sc_transform_free(t);
}

static void test_add_rejects_bad_values(void **state)
{
  struct sc_transform_param p;
  double too_many[SC_TRANSFORM_MAX_LIST + 1] = {0};
  (void)state;
  p = p_str("value", "abc");
  expect_create_error("AddTransformer", &p, 1, "value");
  p = p_list("value", SC_TRANSFORM_MAX_LIST + 1, too_many);
  expect_create_error("add", &p, 1, "value");
  p = p_num("value", NAN);
  expect_create_error("AddTransformer", &p, 1, "value");
  expect_create_error("AddTransformer", NULL, 0, "value"); /* missing */
  p = p_num("offset", 1);
  expect_create_error("add", &p, 1, "offset"); /* unknown */
}

static void test_add_list_must_match_channels(void **state)
{
  double v[2] = {1, 2};
  struct sc_transform_param p = p_list("value", 2, v);
  struct sc_tensor *img = pattern_image(SC_DTYPE_FLOAT, 4, 5, 3);
  (void)state;
  expect_apply_error("AddTransformer", &p, 1, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "value");
  sc_tensor_free(img);
}

static void test_mean_rejects_bad_params(void **state)
{
  double m[3] = {1, 2, 3};
  struct sc_transform_param p[2];
  (void)state;
  p[0] = p_list("means", 3, m);
  p[1] = p_str("data_format", "NHWC");
  expect_create_error("MeanTransformer", p, 2, "data_format");
  p[0] = p_str("mean", "x");
  expect_create_error("mean", p, 1, "mean");
  expect_create_error("MeanTransformer", NULL, 0, "means");
}

static void test_mean_chw_needs_matching_channels(void **state)
{
  double m[3] = {1, 2, 3};
  struct sc_transform_param p = p_list("means", 3, m);
  struct sc_tensor *img = pattern_image(SC_DTYPE_FLOAT, 4, 5, 3);
  (void)state;
  /* default data_format CHW: the first axis (4) is the channel axis */
  expect_apply_error("MeanTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "channels");
  sc_tensor_free(img);
}

static void test_scale_and_normalize_reject_bad_params(void **state)
{
  struct sc_transform_param p;
  (void)state;
  p = p_str("scale_value", "");
  expect_create_error("ScaleTransformer", &p, 1, "scale_value");
  p = p_num("value", INFINITY);
  expect_create_error("scale", &p, 1, "value");
  p = p_num("std", 0);
  expect_create_error("NormalizeTransformer", &p, 1, "std");
  p = p_num("std", 0);
  expect_create_error("normalize", &p, 1, "std");
  p = p_str("mean", "1 2 x");
  expect_create_error("normalize", &p, 1, "mean");
}

static void test_cast_rejects_bad_params(void **state)
{
  struct sc_transform_param p;
  (void)state;
  p = p_str("dtype", "int4");
  expect_create_error("cast", &p, 1, "dtype");
  expect_create_error("cast", NULL, 0, "dtype");
  p = p_num("scale", 1);
  expect_create_error("F32ToS8Transformer", &p, 1, "scale");
}

static void test_arith_rejects_unsupported_dtype(void **state)
{
  int64_t dims[1] = {3};
  struct sc_tensor *in = NULL;
  struct sc_transform_param p = p_num("value", 1);
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 1, dims, &in, NULL), SC_OK);
  expect_apply_error("add", &p, 1, in, SC_LAYOUT_OTHER, SC_ERR_CONFIG, "int64");
  sc_tensor_free(in);
}

static void test_string_numbers_are_accepted(void **state)
{
  /* hb_mapper style "103.94 116.78 123.68" */
  struct sc_transform_param p[2];
  struct sc_transform *t = NULL;
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 2, 3, 3), *out = NULL;
  struct sc_error err;
  (void)state;
  p[0] = p_str("means", "103.94 116.78 123.68");
  p[1] = p_str("data_format", "hwc");
  assert_int_equal(sc_transform_create("MeanTransformer", p, 2, &t, &err),
                   SC_OK);
  assert_int_equal(sc_transform_apply(t, img, NULL, &out, &err), SC_OK);
  assert_true(((float *)out->data)[1] ==
              (float)(((uint8_t *)img->data)[1] - 116.78));
  sc_tensor_free(out);
  sc_tensor_free(img);
  sc_transform_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_matches_numpy),
      cmocka_unit_test(test_mean_matches_numpy),
      cmocka_unit_test(test_scale_matches_numpy),
      cmocka_unit_test(test_normalize_matches_numpy),
      cmocka_unit_test(test_casts_match_numpy_x86),
      cmocka_unit_test(test_add_scalar_is_float32_arithmetic),
      cmocka_unit_test(test_add_rejects_bad_values),
      cmocka_unit_test(test_add_list_must_match_channels),
      cmocka_unit_test(test_mean_rejects_bad_params),
      cmocka_unit_test(test_mean_chw_needs_matching_channels),
      cmocka_unit_test(test_scale_and_normalize_reject_bad_params),
      cmocka_unit_test(test_cast_rejects_bad_params),
      cmocka_unit_test(test_arith_rejects_unsupported_dtype),
      cmocka_unit_test(test_string_numbers_are_accepted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
