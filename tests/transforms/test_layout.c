/* Layout transformers against numpy (transpose, fancy indexing, slicing):
 * Transpose, HWC2CHW, CHW2HWC, ReduceChannel, BGR2RGB, RGB2BGR and their
 * snake_case steps. All bit-exact. */
#include "tests/transforms/oracle_cases.h"

static void test_transposes_match_numpy(void **state)
{
  (void)state;
  oracle_exact("hwc2chw");
  oracle_exact("chw2hwc");
  oracle_exact("transpose_");
  oracle_exact("hwc_to_chw_snake");
  oracle_exact("snake_chw_to_hwc");
  oracle_exact("snake_transpose");
}

static void test_reduce_channel_matches_numpy(void **state)
{
  (void)state;
  oracle_exact("reduce_channel_");
  oracle_exact("snake_reduce_channel_chw");
}

static void test_channel_swaps_match_numpy(void **state)
{
  (void)state;
  oracle_exact("bgr2rgb_");
  oracle_exact("rgb2bgr_");
  oracle_exact("bgr_to_rgb_snake");
  oracle_exact("snake_rgb_to_bgr_chw");
}

static void test_transpose_rejects_bad_order(void **state)
{
  double dup[3] = {0, 0, 1}, frac[3] = {0, 1.5, 2}, big[3] = {0, 1, 3};
  struct sc_transform_param p;
  (void)state;
  p = p_list("order", 3, dup);
  expect_create_error("TransposeTransformer", &p, 1, "order");
  p = p_list("order", 3, frac);
  expect_create_error("transpose", &p, 1, "order");
  p = p_list("order", 3, big);
  expect_create_error("TransposeTransformer", &p, 1, "order");
  expect_create_error("TransposeTransformer", NULL, 0, "order");
}

static void test_transpose_rank_must_match(void **state)
{
  double order[3] = {2, 0, 1};
  struct sc_transform_param p = p_list("order", 3, order);
  int64_t dims[2] = {4, 5};
  struct sc_tensor *in = NULL;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, dims, &in, NULL), SC_OK);
  expect_apply_error("TransposeTransformer", &p, 1, in, SC_LAYOUT_OTHER,
                     SC_ERR_CONFIG, "rank-3");
  expect_apply_error("HWC2CHWTransformer", NULL, 0, in, SC_LAYOUT_OTHER,
                     SC_ERR_CONFIG, "rank-3");
  sc_tensor_free(in);
}

static void test_channel_swap_needs_three_channels(void **state)
{
  struct sc_transform_param p = p_str("data_format", "HWC");
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 3, 4, 4);
  (void)state;
  expect_apply_error("BGR2RGBTransformer", &p, 1, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  /* the default data_format is CHW: axis 0 (3) is taken as channels */
  sc_tensor_free(img);
  img = pattern_image(SC_DTYPE_UINT8, 4, 4, 3);
  expect_apply_error("RGB2BGRTransformer", NULL, 0, img, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "3 channels");
  expect_apply_error("bgr_to_rgb", NULL, 0, img, SC_LAYOUT_NV12, SC_ERR_CONFIG,
                     "NV12");
  sc_tensor_free(img);
  p = p_str("data_format", "NCHW");
  expect_create_error("BGR2RGBTransformer", &p, 1, "data_format");
  expect_create_error("ReduceChannelTransformer", &p, 1, "data_format");
}

static void test_reduce_channel_needs_an_image(void **state)
{
  int64_t dims[2] = {4, 5};
  struct sc_tensor *in = NULL;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, dims, &in, NULL), SC_OK);
  expect_apply_error("ReduceChannelTransformer", NULL, 0, in, SC_LAYOUT_HWC,
                     SC_ERR_CONFIG, "rank 3");
  sc_tensor_free(in);
}

/* hwc_to_chw makes the tracked layout CHW, so a following bgr_to_rgb
 * swaps axis 0 (checked against the transposed swap by hand). */
static void test_layout_is_tracked_through_steps(void **state)
{
  struct sc_tensor *img = pattern_image(SC_DTYPE_UINT8, 2, 3, 3), *a = NULL;
  struct sc_tensor *b = NULL;
  struct sc_transform *t1 = NULL, *t2 = NULL;
  enum sc_layout layout = SC_LAYOUT_HWC;
  struct sc_error err;
  const uint8_t *s, *d;
  int64_t y, x, c;
  (void)state;
  assert_int_equal(sc_transform_create("hwc_to_chw", NULL, 0, &t1, &err),
                   SC_OK);
  assert_int_equal(sc_transform_create("bgr_to_rgb", NULL, 0, &t2, &err),
                   SC_OK);
  assert_int_equal(sc_transform_apply(t1, img, &layout, &a, &err), SC_OK);
  assert_int_equal(layout, SC_LAYOUT_CHW);
  assert_int_equal(sc_transform_apply(t2, a, &layout, &b, &err), SC_OK);
  assert_int_equal(layout, SC_LAYOUT_CHW);
  s = img->data;
  d = b->data;
  for (y = 0; y < 2; y++)
    for (x = 0; x < 3; x++)
      for (c = 0; c < 3; c++)
        assert_int_equal(d[(c * 2 + y) * 3 + x], s[(y * 3 + x) * 3 + 2 - c]);
  sc_tensor_free(img);
  sc_tensor_free(a);
  sc_tensor_free(b);
  sc_transform_free(t1);
  sc_transform_free(t2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transposes_match_numpy),
      cmocka_unit_test(test_reduce_channel_matches_numpy),
      cmocka_unit_test(test_channel_swaps_match_numpy),
      cmocka_unit_test(test_transpose_rejects_bad_order),
      cmocka_unit_test(test_transpose_rank_must_match),
      cmocka_unit_test(test_channel_swap_needs_three_channels),
      cmocka_unit_test(test_reduce_channel_needs_an_image),
      cmocka_unit_test(test_layout_is_tracked_through_steps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
