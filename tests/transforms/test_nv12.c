/* NV12 transformers: BGR2NV12 / RGB2NV12 (rgb_calc against numpy in
 * float32 and float64, every grey level included; opencv against
 * cv2.cvtColor), NV12ToYUV444 (against numpy/PIL), and the YUV 4:2:0 to
 * BGR steps (against cv2.cvtColor). All bit-exact. */
#include "tests/transforms/oracle_cases.h"

static void test_bgr_to_nv12_matches_numpy_and_cv2(void **state)
{
  (void)state;
  oracle_exact("nv12_rgb_calc_");
  oracle_exact("nv12_opencv_");
  oracle_exact("nv12_snake");
  oracle_exact("snake_rgb_to_nv12_chw");
  oracle_exact("snake_bgr_to_nv12_opencv");
}

static void test_nv12_to_yuv444_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("nv12_to_yuv444_");
  oracle_exact("snake_nv12_to_yuv444_chw");
}

static void test_yuv420_to_bgr_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("nv12_to_bgr");
  oracle_exact("nv21_to_bgr");
  oracle_exact("i420_to_bgr");
}

static void test_nv12_rejects_bad_params(void **state)
{
  struct sc_transform_param p[2];
  (void)state;
  p[0] = p_str("cvt_mode", "fast");
  expect_create_error("BGR2NV12Transformer", p, 1, "cvt_mode");
  expect_create_error("rgb_to_nv12", p, 1, "cvt_mode");
  expect_create_error("NV12ToYUV444Transformer", NULL, 0, "target_size");
  p[0] = p_num("target_size", 4);
  p[1] = p_str("yuv444_output_layout", "NHWC");
  expect_create_error("NV12ToYUV444Transformer", p, 2, "yuv444_output_layout");
  p[0] = p_num("height", 1);
  expect_create_error("nv12_to_yuv444", p, 1, "height");
  p[0] = p_num("width", 0);
  expect_create_error("nv12_to_bgr", p, 1, "width");
}

static void test_nv12_rejects_odd_sizes(void **state)
{
  struct sc_transform_param p[2];
  struct sc_tensor *odd_w = pattern_image(SC_DTYPE_UINT8, 4, 5, 3);
  struct sc_tensor *odd_both = pattern_image(SC_DTYPE_UINT8, 3, 5, 3);
  struct sc_tensor *odd_h = pattern_image(SC_DTYPE_UINT8, 3, 4, 3);
  (void)state;
  p[0] = p_str("data_format", "HWC");
  expect_apply_error("BGR2NV12Transformer", p, 1, odd_w, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "even width");
  expect_apply_error("bgr_to_nv12", NULL, 0, odd_both, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "even number of pixels");
  p[1] = p_str("cvt_mode", "opencv");
  expect_apply_error("RGB2NV12Transformer", p, 2, odd_h, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "even");
  sc_tensor_free(odd_w);
  sc_tensor_free(odd_both);
  sc_tensor_free(odd_h);
}

static void test_nv12_inputs_must_fit_their_size(void **state)
{
  struct sc_transform_param p[2];
  int64_t dims[1] = {36 * 32}, fdims[2] = {6, 4};
  struct sc_tensor *flat = NULL, *f = NULL;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 1, dims, &flat, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, fdims, &f, NULL), SC_OK);
  p[0] = p_num("target_size", 24);
  expect_apply_error("NV12ToYUV444Transformer", p, 1, flat, SC_LAYOUT_NV12,
                     SC_ERR_CONFIG, "bytes");
  expect_apply_error("nv12_to_yuv444", NULL, 0, flat, SC_LAYOUT_NV12,
                     SC_ERR_CONFIG, "height and width");
  p[0] = p_num("height", 24);
  expect_apply_error("nv21_to_bgr", p, 1, flat, SC_LAYOUT_NV12, SC_ERR_CONFIG,
                     "width");
  p[1] = p_num("width", 30);
  expect_apply_error("i420_to_bgr", p, 2, flat, SC_LAYOUT_NV12, SC_ERR_CONFIG,
                     "bytes");
  expect_apply_error("nv12_to_bgr", NULL, 0, f, SC_LAYOUT_NV12, SC_ERR_CONFIG,
                     "uint8");
  sc_tensor_free(flat);
  sc_tensor_free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bgr_to_nv12_matches_numpy_and_cv2),
      cmocka_unit_test(test_nv12_to_yuv444_matches_numpy),
      cmocka_unit_test(test_yuv420_to_bgr_matches_cv2),
      cmocka_unit_test(test_nv12_rejects_bad_params),
      cmocka_unit_test(test_nv12_rejects_odd_sizes),
      cmocka_unit_test(test_nv12_inputs_must_fit_their_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
