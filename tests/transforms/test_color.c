/* Colour transformers against numpy (the Horizon formulas on float32 and
 * uint8 data) and cv2.cvtColor (YUVTransformer's BGR2YUV_I420): the nine
 * _ColorConvertTransformer wrappers in CHW and HWC, their snake_case
 * steps, YUVTransformer. All bit-exact. */
#include "tests/transforms/oracle_cases.h"

static void test_color_family_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("color_");
}

static void test_color_steps_follow_tracked_layout(void **state)
{
  (void)state;
  oracle_exact("snake_rgb_to_gray");
  oracle_exact("snake_rgb_to_yuv444");
  oracle_exact("snake_bgr_to_yuv444_128");
  oracle_exact("snake_rgb_to_yuv444_128");
  oracle_exact("snake_bgr_to_yuv_bt601_video");
  oracle_exact("snake_rgb_to_yuv_bt601_video");
}

static void test_yuv_transformer_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("yuv_");
}

static void test_color_rejects_bad_params_and_inputs(void **state)
{
  struct sc_transform_param p = p_str("data_format", "hwc3");
  struct sc_tensor *c4 = pattern_image(SC_DTYPE_FLOAT, 4, 4, 4);
  (void)state;
  expect_create_error("BGR2YUVBT601VIDEOTransformer", &p, 1, "data_format");
  expect_create_error("RGB2GRAYTransformer", &p, 1, "data_format");
  p = p_str("data_format", "HWC");
  expect_create_error("bgr_to_yuv444", &p, 1, "data_format"); /* tracked */
  expect_apply_error("BGR2YUV444Transformer", &p, 1, c4, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  expect_apply_error("rgb_to_gray", NULL, 0, c4, SC_LAYOUT_NV12, SC_ERR_CONFIG,
                     "NV12");
  sc_tensor_free(c4);
}

static void test_yuv_transformer_rejects_bad_params_and_inputs(void **state)
{
  struct sc_transform_param p = p_str("color_sequence", "GBR");
  struct sc_tensor *odd = pattern_image(SC_DTYPE_UINT8, 5, 4, 3);
  struct sc_tensor *big = pattern_image(SC_DTYPE_FLOAT, 4, 4, 3);
  (void)state;
  expect_create_error("YUVTransformer", &p, 1, "color_sequence");
  expect_create_error("YUVTransformer", NULL, 0, "color_sequence");
  p = p_str("color_sequence", "BGR");
  expect_apply_error("YUVTransformer", &p, 1, odd, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "even");
  ((float *)big->data)[5] = 256.0f;
  expect_apply_error("YUVTransformer", &p, 1, big, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "[0, 256)");
  sc_tensor_free(odd);
  sc_tensor_free(big);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_color_family_matches_numpy),
      cmocka_unit_test(test_color_steps_follow_tracked_layout),
      cmocka_unit_test(test_yuv_transformer_matches_cv2),
      cmocka_unit_test(test_color_rejects_bad_params_and_inputs),
      cmocka_unit_test(test_yuv_transformer_rejects_bad_params_and_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
