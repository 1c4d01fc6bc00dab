/* PILResizeTransformer and `resize` mode pil against Pillow 9.4
 * Image.resize (NEAREST, BILINEAR, BICUBIC, LANCZOS, BOX, HAMMING; "L" and
 * "RGB"; int and (height, width) sizes). All bit-exact. */
#include "tests/transforms/oracle_cases.h"

static void test_pil_resize_transformer_matches_pil(void **state)
{
  (void)state;
  oracle_exact("pil_resize_");
}

static void test_resize_step_pil_matches_pil(void **state)
{
  (void)state;
  oracle_exact("resize_snake_pil_");
}

static void test_pil_resize_rejects_bad_params(void **state)
{
  double three[3] = {4, 5, 6};
  struct sc_transform_param p[2];
  (void)state;
  p[0] = p_num("size", 8);
  p[1] = p_str("interpolation", "Image.FANCY");
  expect_create_error("PILResizeTransformer", p, 2, "interpolation");
  p[1] = p_num("interpolation", 9);
  expect_create_error("PILResizeTransformer", p, 2, "interpolation");
  p[0] = p_list("size", 3, three);
  expect_create_error("PILResizeTransformer", p, 1, "size");
  expect_create_error("PILResizeTransformer", NULL, 0, "size");
}

static void test_pil_needs_uint8_rgb_or_gray(void **state)
{
  struct sc_transform_param p[3];
  struct sc_tensor *c4 = pattern_image(SC_DTYPE_UINT8, 6, 6, 4);
  struct sc_tensor *f = pattern_image(SC_DTYPE_FLOAT, 6, 6, 3);
  (void)state;
  p[0] = p_num("size", 4);
  expect_apply_error("PILResizeTransformer", p, 1, c4, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  p[1] = p_str("mode", "pil");
  expect_apply_error("resize", p, 2, f, SC_LAYOUT_HWC, SC_ERR_CONFIG, "uint8");
  expect_apply_error("resize", p, 2, c4, SC_LAYOUT_HWC, SC_ERR_CONFIG,
                     "channels");
  sc_tensor_free(c4);
  sc_tensor_free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pil_resize_transformer_matches_pil),
      cmocka_unit_test(test_resize_step_pil_matches_pil),
      cmocka_unit_test(test_pil_resize_rejects_bad_params),
      cmocka_unit_test(test_pil_needs_uint8_rgb_or_gray),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
