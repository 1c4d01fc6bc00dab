/* Crops, pads and warpAffine against numpy slicing, PIL Image.crop,
 * cv2.resize and cv2.warpAffine (fixtures/transforms/cases.txt). All
 * bit-exact. */
#include "tests/transforms/oracle_cases.h"

static void test_center_crops_match_numpy(void **state)
{
  (void)state;
  oracle_exact("center_crop_");
  oracle_exact("snake_center_crop_chw");
  oracle_exact("padded_center_crop");
  oracle_exact("long_side_crop_");
}

static void test_pil_center_crop_matches_pil(void **state)
{
  (void)state;
  oracle_exact("pil_center_crop_");
}

static void test_crop_and_pad_match_numpy(void **state)
{
  (void)state;
  oracle_exact("crop_snake");
  oracle_exact("snake_crop_chw");
  oracle_exact("pad_snake");
}

static void test_pad_resize_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("pad_resize_");
  oracle_exact("snake_pad_resize");
  oracle_exact("pad_16_");
  oracle_exact("pad_7_");
}

static void test_warp_affine_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("warp_affine_");
}

static void test_center_crop_rejects_bad_params(void **state)
{
  struct sc_transform_param p[2];
  (void)state;
  p[0] = p_num("crop_size", 0);
  expect_create_error("CenterCropTransformer", p, 1, "crop_size");
  p[0] = p_num("crop_size", 2.5);
  expect_create_error("CenterCropTransformer", p, 1, "crop_size");
  p[0] = p_str("crop_size", "big");
  expect_create_error("CenterCropTransformer", p, 1, "crop_size");
  expect_create_error("CenterCropTransformer", NULL, 0, "crop_size");
  p[0] = p_num("crop_size", 4);
  p[1] = p_str("data_type", "int8");
  expect_create_error("CenterCropTransformer", p, 2, "data_type");
  p[0] = p_num("height", 4);
  expect_create_error("center_crop", p, 1, "width");
  p[1] = p_num("size", 4);
  expect_create_error("center_crop", p, 2, "size");
}

static void test_crop_larger_than_image_fails(void **state)
{
  struct sc_transform_param p = p_num("crop_size", 9);
  struct sc_transform_param q[4];
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 8, 12, 3);
  (void)state;
  expect_apply_error("CenterCropTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "does not fit");
  q[0] = p_num("top", 2);
  q[1] = p_num("left", 0);
  q[2] = p_num("height", 7);
  q[3] = p_num("width", 3);
  expect_apply_error("crop", q, 4, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "does not fit");
  expect_create_error("crop", q, 3, "width"); /* missing */
  q[0] = p_num("top", -1);
  expect_create_error("crop", q, 4, "top");
  sc_tensor_free(img);
}

static void test_pil_center_crop_rejects_bad_params(void **state)
{
  double three[3] = {1, 2, 3};
  struct sc_transform_param p = p_list("size", 3, three);
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 8, 12, 4);
  (void)state;
  expect_create_error("PILCenterCropTransformer", &p, 1, "size");
  p = p_num("size", 0);
  expect_create_error("PILCenterCropTransformer", &p, 1, "size");
  p = p_num("size", 4);
  expect_apply_error("PILCenterCropTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  sc_tensor_free(img);
}

static void test_pads_reject_bad_params(void **state)
{
  struct sc_transform_param p[3];
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 8, 12, 3);
  (void)state;
  p[0] = p_num("left", -2);
  expect_create_error("pad", p, 1, "left");
  p[0] = p_num("value", 300);
  expect_apply_error("pad", p, 1, img, SC_LAYOUT_HWC, SC_ERR_CONFIG, "value");
  p[0] = p_num("value", 1.5);
  expect_apply_error("pad", p, 1, img, SC_LAYOUT_HWC, SC_ERR_CONFIG, "value");
  expect_create_error("PadResizeTransformer", NULL, 0, "target_size");
  p[0] = p_num("target_size", 16);
  p[1] = p_str("pad_position", "center");
  expect_create_error("PadResizeTransformer", p, 2, "pad_position");
  p[0] = p_num("size", 16);
  p[1] = p_num("value", -1);
  expect_apply_error("pad_resize", p, 2, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "value");
  p[0] = p_num("size_divisor", 0);
  expect_create_error("PadTransformer", p, 1, "size_divisor");
  p[0] = p_num("crop_pad", -1);
  expect_create_error("PaddedCenterCropTransformer", p, 1, "crop_pad");
  p[0] = p_num("image_size", 1);
  p[1] = p_num("crop_pad", 1000);
  expect_apply_error("PaddedCenterCropTransformer", p, 2, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "crop size is 0");
  sc_tensor_free(img);
}

static void test_pad_resize_needs_three_channels(void **state)
{
  struct sc_transform_param p = p_num("target_size", 16);
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 8, 12, 1);
  (void)state;
  expect_apply_error("PadResizeTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  sc_tensor_free(img);
}

static void test_warp_affine_rejects_bad_params(void **state)
{
  double shape[2] = {16, 16};
  struct sc_transform_param p[2];
  struct sc_tensor *img = pattern_image(SC_DTYPE_INT8, 8, 12, 3);
  (void)state;
  p[0] = p_list("input_shape", 2, shape);
  p[1] = p_num("scale", 0);
  expect_create_error("WarpAffineTransformer", p, 2, "scale");
  expect_create_error("WarpAffineTransformer", p, 1, "scale"); /* missing */
  p[1] = p_num("scale", 1);
  expect_apply_error("WarpAffineTransformer", p, 2, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "int8");
  sc_tensor_free(img);
}

/* The documented largest scale, 10^6: the fixed-point offsets saturate
 * at INT_MAX, and adding the rounding delta overflowed an int (undefined
 * behaviour, caught by the sanitizer build that runs this test). */
static void test_warp_affine_largest_scale_runs(void **state)
{
  double shape[2] = {4, 4};
  struct sc_transform_param p[2];
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 8, 12, 3), *out = NULL;
  struct sc_transform *t = NULL;
  enum sc_layout layout = SC_LAYOUT_HWC;
  struct sc_error err;
  (void)state;
  p[0] = p_list("input_shape", 2, shape);
  p[1] = p_num("scale", 1e6);
  assert_int_equal(sc_transform_create("WarpAffineTransformer", p, 2, &t, &err),
                   SC_OK);
  assert_int_equal(sc_transform_apply(t, img, &layout, &out, &err), SC_OK);
  assert_int_equal(out->rank, 3);
  assert_int_equal(out->dims[0], 4);
  assert_int_equal(out->dims[1], 4);
  assert_int_equal(out->dims[2], 3);
  sc_tensor_free(out);
  sc_transform_free(t);
  sc_tensor_free(img);
}

static void test_long_side_crop_takes_no_params(void **state)
{
  struct sc_transform_param p = p_num("size", 3);
  (void)state;
  expect_create_error("LongSideCropTransformer", &p, 1, "size");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_center_crops_match_numpy),
      cmocka_unit_test(test_pil_center_crop_matches_pil),
      cmocka_unit_test(test_crop_and_pad_match_numpy),
      cmocka_unit_test(test_pad_resize_matches_cv2),
      cmocka_unit_test(test_warp_affine_matches_cv2),
      cmocka_unit_test(test_center_crop_rejects_bad_params),
      cmocka_unit_test(test_crop_larger_than_image_fails),
      cmocka_unit_test(test_pil_center_crop_rejects_bad_params),
      cmocka_unit_test(test_pads_reject_bad_params),
      cmocka_unit_test(test_pad_resize_needs_three_channels),
      cmocka_unit_test(test_warp_affine_rejects_bad_params),
      cmocka_unit_test(test_warp_affine_largest_scale_runs),
      cmocka_unit_test(test_long_side_crop_takes_no_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
