/* OpenCV resize paths against cv2.resize 4.6 (x86-64): nearest, linear
 * (fixed point on uint8, incl. the 2x2 area shortcut), cubic (incl. the
 * SIMD/scalar rounding split), area (integer factors, general, up-scaling)
 * on uint8 and float32 with 1, 3 and 4 channels; ResizeTransformer
 * (mode opencv), ShortLongResize, ShortSideResize. All bit-exact. */
#include <time.h>

#include "tests/transforms/oracle_cases.h"

static void test_resize_transformer_opencv_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("resize_cv_");
}

static void test_resize_nearest_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("resize_snake_cv_nearest_");
}

static void test_resize_linear_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("resize_snake_cv_linear_");
}

static void test_resize_cubic_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("resize_snake_cv_cubic_");
}

static void test_resize_area_matches_cv2(void **state)
{
  (void)state;
  oracle_exact("resize_snake_cv_area_");
}

static void test_short_side_resizers_match_cv2(void **state)
{
  (void)state;
  oracle_exact("short_long_");
  oracle_exact("short_side_");
}

static void test_resize_transformer_rejects_bad_params(void **state)
{
  double zero[2] = {0, 5};
  struct sc_transform_param p[3];
  (void)state;
  p[0] = p_num("target_size", 16);
  p[1] = p_str("mode", "opencv");
  p[2] = p_str("interpolation", "INTER_AREA");
  expect_create_error("ResizeTransformer", p, 3, "interpolation");
  p[1] = p_str("mode", "torch");
  expect_create_error("ResizeTransformer", p, 2, "mode");
  p[1] = p_num("method", 6);
  expect_create_error("ResizeTransformer", p, 2, "method");
  p[0] = p_list("target_size", 2, zero);
  expect_create_error("ResizeTransformer", p, 1, "target_size");
  expect_create_error("ResizeTransformer", NULL, 0, "target_size");
}

static void test_resize_step_rejects_bad_params(void **state)
{
  struct sc_transform_param p[4];
  (void)state;
  p[0] = p_num("height", 8);
  p[1] = p_num("width", 8);
  p[2] = p_str("interpolation", "lanczos");
  expect_create_error("resize", p, 3, "interpolation");
  p[2] = p_num("order", 3);
  expect_create_error("resize", p, 3, "order");
  expect_create_error("resize", p, 1, "width");
  p[2] = p_num("size", 8);
  expect_create_error("resize", p, 3, "size");
  p[0] = p_num("height", 1 << 21);
  expect_create_error("resize", p, 2, "height");
}

static void test_resize_step_needs_hwc_and_cv_dtypes(void **state)
{
  struct sc_transform_param p[2];
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 3, 8, 8);
  struct sc_tensor *f64 = pattern_image(SC_DTYPE_DOUBLE, 8, 8, 3);
  (void)state;
  p[0] = p_num("height", 4);
  p[1] = p_num("width", 4);
  expect_apply_error("resize", p, 2, img, SC_LAYOUT_CHW, SC_ERR_CONFIG, "HWC");
  expect_apply_error("resize", p, 2, f64, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "float64");
  sc_tensor_free(img);
  sc_tensor_free(f64);
}

/* Output sizes are bounded before allocating (100000 x 100000 x 3 would
 * be 30 GB). */
static void test_huge_output_sizes_fail_cleanly(void **state)
{
  struct sc_transform_param p[3];
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 4, 4, 3);
  (void)state;
  p[0] = p_num("height", 100000);
  p[1] = p_num("width", 100000);
  expect_apply_error("resize", p, 2, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "pixels");
  p[2] = p_str("mode", "skimage");
  expect_apply_error("resize", p, 3, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "out of range");
  p[2] = p_str("mode", "pil");
  expect_apply_error("resize", p, 3, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "out of range");
  p[0] = p_num("top", 100000);
  p[1] = p_num("bottom", 100000);
  p[2] = p_num("left", 100000);
  expect_apply_error("pad", p, 3, img, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "too large");
  sc_tensor_free(img);
}

static void test_short_side_resizers_reject_bad_params(void **state)
{
  struct sc_transform_param p[2];
  (void)state;
  p[0] = p_num("short_size", 0);
  p[1] = p_num("long_size", 10);
  expect_create_error("ShortLongResizeTransformer", p, 2, "short_size");
  expect_create_error("ShortLongResizeTransformer", p + 1, 1, "short_size");
  p[0] = p_num("short_size", 10);
  p[1] = p_str("include_im", "maybe");
  expect_create_error("ShortLongResizeTransformer", p, 2, "include_im");
  expect_create_error("ShortSideResizeTransformer", NULL, 0, "short_size");
  p[1] = p_str("data_type", "double");
  expect_create_error("ShortSideResizeTransformer", p, 2, "data_type");
}

/* A 1920x1080 frame must take milliseconds: the bound is generous (shared
 * CI machines; measured 2-45 ms unloaded) but catches an accidentally
 * quadratic loop. Sanitizer builds run several times slower. */
#ifdef __SANITIZE_ADDRESS__
#define FRAME_SECONDS 5.0
#else
#define FRAME_SECONDS 1.0
#endif

static double seconds_of(const char *step, const struct sc_transform_param *p,
                         int n, const struct sc_tensor *img)
{
  struct sc_transform *t = NULL;
  struct sc_tensor *out = NULL;
  struct sc_error err;
  struct timespec a, b;
  assert_int_equal(sc_transform_create(step, p, n, &t, &err), SC_OK);
  clock_gettime(CLOCK_MONOTONIC, &a);
  assert_int_equal(sc_transform_apply(t, img, NULL, &out, &err), SC_OK);
  clock_gettime(CLOCK_MONOTONIC, &b);
  sc_tensor_free(out);
  sc_transform_free(t);
  return (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9;
}

static void test_full_hd_frames_take_milliseconds(void **state)
{
  static const char *const modes[] = {"linear", "nearest", "cubic", "area"};
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 1080, 1920, 3);
  struct sc_transform_param p[3];
  double s;
  int i;
  (void)state;
  p[0] = p_num("height", 640);
  p[1] = p_num("width", 640);
  for (i = 0; i < 4; i++) {
    p[2] = p_str("interpolation", modes[i]);
    s = seconds_of("resize", p, 3, img);
    printf("  resize 1920x1080 -> 640x640 %-7s %.1f ms\n", modes[i], s * 1e3);
    assert_true(s < FRAME_SECONDS);
  }
  s = seconds_of("bgr_to_nv12", NULL, 0, img);
  printf("  bgr_to_nv12 1920x1080          %.1f ms\n", s * 1e3);
  assert_true(s < FRAME_SECONDS);
  p[0] = p_str("cvt_mode", "opencv");
  s = seconds_of("bgr_to_nv12", p, 1, img);
  printf("  bgr_to_nv12 (opencv) 1920x1080 %.1f ms\n", s * 1e3);
  assert_true(s < FRAME_SECONDS);
  s = seconds_of("bgr_to_yuv444", NULL, 0, img);
  printf("  bgr_to_yuv444 1920x1080        %.1f ms\n", s * 1e3);
  assert_true(s < FRAME_SECONDS);
  sc_tensor_free(img);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resize_transformer_opencv_matches_cv2),
      cmocka_unit_test(test_resize_nearest_matches_cv2),
      cmocka_unit_test(test_resize_linear_matches_cv2),
      cmocka_unit_test(test_resize_cubic_matches_cv2),
      cmocka_unit_test(test_resize_area_matches_cv2),
      cmocka_unit_test(test_short_side_resizers_match_cv2),
      cmocka_unit_test(test_resize_transformer_rejects_bad_params),
      cmocka_unit_test(test_resize_step_rejects_bad_params),
      cmocka_unit_test(test_resize_step_needs_hwc_and_cv_dtypes),
      cmocka_unit_test(test_huge_output_sizes_fail_cleanly),
      cmocka_unit_test(test_short_side_resizers_reject_bad_params),
      cmocka_unit_test(test_full_hd_frames_take_milliseconds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
