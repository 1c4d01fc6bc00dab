/* ResizeTransformer (mode skimage) and `resize` mode skimage against
 * skimage.transform.resize 0.19.3 / scipy 1.10 (orders 0-5, anti-aliasing,
 * uint8/float32/float64 inputs, the constant-image shortcut, the
 * scipy.ndimage.zoom path for 4 channels). All bit-exact, float64 outputs
 * included. */
#include "tests/transforms/oracle_cases.h"
#include "transforms/imgproc.h"

static void test_orders_0_and_1_match_skimage(void **state)
{
  (void)state;
  oracle_exact("resize_sk_o0_");
  oracle_exact("resize_sk_o1_");
}

static void test_spline_orders_2_to_5_match_skimage(void **state)
{
  (void)state;
  oracle_exact("resize_sk_o2_");
  oracle_exact("resize_sk_o3_");
  oracle_exact("resize_sk_o4_");
  oracle_exact("resize_sk_o5_");
}

static void test_float64_output_matches_skimage(void **state)
{
  (void)state;
  oracle_exact("sk64_");
}

static void test_special_paths_match(void **state)
{
  (void)state;
  oracle_exact("resize_sk_c1");      /* one channel */
  oracle_exact("resize_sk_const");   /* constant image: float32 fill */
  oracle_exact("resize_sk_c4_zoom"); /* 4 channels: scipy zoom order 1 */
  oracle_exact("resize_sk_tiny");
  oracle_exact("resize_snake_sk_");
}

static void test_skimage_mode_rejects_bad_params(void **state)
{
  struct sc_transform_param p[4];
  (void)state;
  p[0] = p_num("target_size", 8);
  p[1] = p_num("method", -1);
  expect_create_error("ResizeTransformer", p, 2, "method");
  p[1] = p_str("method", "cubic");
  expect_create_error("ResizeTransformer", p, 2, "method");
  p[0] = p_num("size", 8);
  p[1] = p_str("mode", "skimage");
  p[2] = p_str("interpolation", "lanczos");
  expect_create_error("resize", p, 3, "interpolation");
  p[2] = p_num("order", 7);
  expect_create_error("resize", p, 3, "order");
  p[2] = p_num("order", 3);
  p[3] = p_str("interpolation", "cubic");
  expect_create_error("resize", p, 4, "order");
}

static void test_skimage_mode_rejects_int8_input(void **state)
{
  struct sc_transform_param p = p_num("target_size", 4);
  struct sc_tensor *img = pattern_image(SC_DTYPE_INT8, 8, 8, 3);
  (void)state;
  expect_apply_error("ResizeTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "int8");
  sc_tensor_free(img);
}

/* skimage's clip: the output never leaves [min, max] of the input, even
 * for the overshooting quintic spline (a step edge, checked by hand). */
static void test_spline_output_is_clipped_to_input_range(void **state)
{
  int64_t dims[3] = {1, 8, 1}, i;
  float v[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  struct sc_tensor *in = sc_test_tensor_f32(3, dims, v), *out = NULL;
  struct sc_error err;
  (void)state;
  assert_int_equal(sc_skimage_resize(in, 1, 29, 5, &out, &err), SC_OK);
  for (i = 0; i < out->n_elements; i++) {
    float x = ((float *)out->data)[i];
    assert_true(x >= 0.0f && x <= 1.0f);
  }
  sc_tensor_free(in);
  sc_tensor_free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_orders_0_and_1_match_skimage),
      cmocka_unit_test(test_spline_orders_2_to_5_match_skimage),
      cmocka_unit_test(test_float64_output_matches_skimage),
      cmocka_unit_test(test_special_paths_match),
      cmocka_unit_test(test_skimage_mode_rejects_bad_params),
      cmocka_unit_test(test_skimage_mode_rejects_int8_input),
      cmocka_unit_test(test_spline_output_is_clipped_to_input_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
