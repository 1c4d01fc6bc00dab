/* The transformer registry and pipelines: names and aliases, generic
 * parameter errors for every transformer (unknown and missing parameters,
 * line numbers, positional and duplicate parameters), and whole pipelines
 * of spec/cli.md against numpy/OpenCV (fixtures/transforms/expected/
 * pipeline_*.npy). */
#include "tests/transforms/oracle_cases.h"

static void test_unknown_transformer_fails_naming_it(void **state)
{
  struct sc_transform *t = NULL;
  struct sc_error err;
  (void)state;
  assert_int_equal(
      sc_transform_create("GaussianBlurTransformer", NULL, 0, &t, &err),
      SC_ERR_CONFIG);
  assert_null(t);
  assert_non_null(strstr(err.message, "GaussianBlurTransformer"));
  assert_int_equal(sc_transform_create(NULL, NULL, 0, &t, &err), SC_ERR_CONFIG);
  /* names are exact: the class name is not an alias of the step */
  assert_int_equal(sc_transform_create("Resize", NULL, 0, &t, &err),
                   SC_ERR_CONFIG);
}

/* Every transformer, class name or alias, rejects an unknown parameter
 * with a message naming itself and the parameter. */
static void test_every_transformer_rejects_unknown_parameter(void **state)
{
  struct sc_transform_param p = p_num("bogus_param", 1);
  int i, n = sc_transform_count();
  (void)state;
  assert_true(n >= 60);
  for (i = 0; i < n; i++)
    expect_create_error(sc_transform_info_at(i)->name, &p, 1, "bogus_param");
  assert_null(sc_transform_info_at(n));
  assert_null(sc_transform_info_at(-1));
}

/* Every required parameter (listed without "=" in the docs) is reported
 * missing by name when absent. */
static void test_every_required_parameter_is_reported_missing(void **state)
{
  int i, n = sc_transform_count(), checked = 0;
  (void)state;
  for (i = 0; i < n; i++) {
    const struct sc_transform_info *info = sc_transform_info_at(i);
    char key[64];
    const char *p = info->params;
    while (*p) {
      size_t len = strcspn(p, ",");
      if (len < sizeof key && !memchr(p, '=', len)) {
        memcpy(key, p, len);
        key[len] = '\0';
        expect_create_error(info->name, NULL, 0, key);
        checked++;
        break;
      }
      p += len;
      while (*p == ',' || *p == ' ')
        p++;
    }
  }
  assert_true(checked >= 15);
}

static void test_documented_names_are_all_known(void **state)
{
  static const char *const names[] = {
      "AddTransformer", "MeanTransformer", "ScaleTransformer",
      "NormalizeTransformer", "TransposeTransformer", "HWC2CHWTransformer",
      "CHW2HWCTransformer", "CenterCropTransformer", "PILCenterCropTransformer",
      "LongSideCropTransformer", "PadResizeTransformer", "ResizeTransformer",
      "PILResizeTransformer", "ShortLongResizeTransformer", "PadTransformer",
      "ShortSideResizeTransformer", "PaddedCenterCropTransformer",
      "BGR2RGBTransformer", "RGB2BGRTransformer", "RGB2GRAYTransformer",
      "BGR2GRAYTransformer", "RGB2GRAY_128Transformer", "RGB2YUV444Transformer",
      "BGR2YUV444Transformer", "BGR2YUV444_128Transformer",
      "RGB2YUV444_128Transformer", "BGR2YUVBT601VIDEOTransformer",
      "RGB2YUVBT601VIDEOTransformer", "YUVTransformer",
      "ReduceChannelTransformer", "BGR2NV12Transformer", "RGB2NV12Transformer",
      "NV12ToYUV444Transformer", "WarpAffineTransformer", "F32ToS8Transformer",
      "F32ToU8Transformer",
      /* spec/cli.md steps */
      "resize", "center_crop", "bgr_to_rgb", "hwc_to_chw", "normalize", "add",
      "cast", "bgr_to_nv12", "nv12_to_yuv444", "mean", "scale"};
  size_t i;
  int j, found;
  (void)state;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    found = 0;
    for (j = 0; j < sc_transform_count(); j++)
      if (strcmp(sc_transform_info_at(j)->name, names[i]) == 0)
        found = 1;
    if (!found)
      fail_msg("%s is not registered", names[i]);
  }
}

static void test_messages_carry_line_numbers(void **state)
{
  struct sc_transform_param p = p_num("crop_size", -3);
  struct sc_transform *t = NULL;
  struct sc_error err;
  (void)state;
  p.line = 12;
  assert_int_equal(
      sc_transform_create("CenterCropTransformer", &p, 1, &t, &err),
      SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "CenterCropTransformer"));
  assert_non_null(strstr(err.message, "'crop_size'"));
  assert_non_null(strstr(err.message, "line 12"));
  p = p_num("crop_sise", 3);
  p.line = 7;
  assert_int_equal(
      sc_transform_create("CenterCropTransformer", &p, 1, &t, &err),
      SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "'crop_sise' (line 7)"));
  assert_non_null(strstr(err.message, "crop_size")); /* the known ones */
}

static void test_positional_and_duplicate_parameters(void **state)
{
  struct sc_transform_param p[3];
  struct sc_transform *t = NULL;
  struct sc_error err;
  (void)state;
  p[0] = p_num(NULL, -128); /* AddTransformer(-128) */
  assert_int_equal(sc_transform_create("AddTransformer", p, 1, &t, &err),
                   SC_OK);
  sc_transform_free(t);
  p[1] = p_num(NULL, 1);
  expect_create_error("AddTransformer", p, 2, "too many");
  p[0] = p_num("value", 1);
  p[1] = p_num("value", 2);
  expect_create_error("add", p, 2, "given twice");
  /* PadResizeTransformer((512, 512), pad_position='bottom_right') */
  {
    double size[2] = {512, 512};
    p[0] = p_list(NULL, 2, size);
    p[1] = p_str("pad_position", "bottom_right");
    assert_int_equal(
        sc_transform_create("PadResizeTransformer", p, 2, &t, &err), SC_OK);
    sc_transform_free(t);
  }
}

static void test_parameter_types_are_checked(void **state)
{
  double list[2] = {1, 2};
  struct sc_transform_param p;
  (void)state;
  p = p_list("crop_size", 2, list);
  expect_create_error("CenterCropTransformer", &p, 1, "crop_size");
  p = p_num("mode", 1);
  expect_create_error("ResizeTransformer", &p, 1, "mode");
  p.type = SC_PARAM_BOOL;
  p.key = "value";
  p.number = 1;
  expect_create_error("add", &p, 1, "value");
  p = p_str("include_im", "yes");
  expect_create_error("ShortLongResizeTransformer", &p, 1, "include_im");
}

static struct sc_pipeline *make_pipeline(const char *const *names,
                                         const struct sc_transform_param *ps,
                                         const int *counts, int n)
{
  struct sc_pipeline *pl = NULL;
  struct sc_error err;
  int i, off = 0;
  assert_int_equal(sc_pipeline_create(&pl, &err), SC_OK);
  for (i = 0; i < n; i++) {
    if (sc_pipeline_add(pl, names[i], ps + off, counts[i], &err) != SC_OK)
      fail_msg("%s: %s", names[i], err.message);
    off += counts[i];
  }
  assert_int_equal(sc_pipeline_length(pl), n);
  return pl;
}

/* spec/cli.md's quantized stage: [bgr_to_nv12, nv12_to_yuv444,
 * hwc_to_chw, {add: -128}, {cast: int8}]. */
static void test_quantized_stage_pipeline_matches_numpy(void **state)
{
  static const char *const names[] = {"bgr_to_nv12", "nv12_to_yuv444",
                                      "hwc_to_chw", "add", "cast"};
  struct sc_transform_param ps[2];
  int counts[5] = {0, 0, 0, 1, 1};
  struct sc_pipeline *pl;
  struct sc_tensor *in = oracle_load("inputs", "astro"), *out = NULL;
  struct sc_tensor *expected = oracle_load("expected", "pipeline_quantized");
  enum sc_layout layout = SC_LAYOUT_HWC;
  struct sc_error err;
  (void)state;
  ps[0] = p_num("value", -128);
  ps[1] = p_str("dtype", "int8");
  pl = make_pipeline(names, ps, counts, 5);
  assert_int_equal(sc_pipeline_run(pl, in, &layout, &out, &err), SC_OK);
  assert_int_equal(layout, SC_LAYOUT_CHW);
  assert_tensor_close(out, expected, 0, 0);
  assert_int_equal(memcmp(out->data, expected->data, sc_tensor_size(out)), 0);
  sc_tensor_free(out);
  sc_tensor_free(in);
  sc_tensor_free(expected);
  sc_pipeline_free(pl);
}

/* The float stage of spec/cli.md: shared resize + center_crop, then
 * bgr_to_rgb, hwc_to_chw, normalize (per channel of the CHW tensor). */
static void test_float_stage_pipeline_matches_numpy(void **state)
{
  static const char *const names[] = {"resize", "center_crop", "bgr_to_rgb",
                                      "hwc_to_chw", "normalize"};
  static const double mean[3] = {123.675, 116.28, 103.53};
  static const double std[3] = {58.395, 57.12, 57.375};
  struct sc_transform_param ps[7];
  int counts[5] = {4, 1, 0, 0, 2};
  struct sc_pipeline *pl;
  struct sc_tensor *in = oracle_load("inputs", "coffee"), *out = NULL;
  struct sc_tensor *expected = oracle_load("expected", "pipeline_float");
  struct sc_error err;
  (void)state;
  ps[0] = p_num("height", 20);
  ps[1] = p_num("width", 28);
  ps[2] = p_str("mode", "opencv");
  ps[3] = p_str("interpolation", "linear");
  ps[4] = p_num("size", 16);
  ps[5] = p_list("mean", 3, mean);
  ps[6] = p_list("std", 3, std);
  pl = make_pipeline(names, ps, counts, 5);
  assert_int_equal(sc_pipeline_run(pl, in, NULL, &out, &err), SC_OK);
  assert_int_equal(memcmp(out->data, expected->data, sc_tensor_size(out)), 0);
  assert_tensor_close(out, expected, 0, 0);
  assert_string_equal(sc_transform_name(sc_pipeline_step(pl, 4)), "normalize");
  assert_null(sc_pipeline_step(pl, 5));
  sc_tensor_free(out);
  sc_tensor_free(in);
  sc_tensor_free(expected);
  sc_pipeline_free(pl);
}

static void test_pipeline_error_names_the_step(void **state)
{
  static const char *const names[] = {"resize", "center_crop"};
  struct sc_transform_param ps[3];
  int counts[2] = {2, 1};
  struct sc_pipeline *pl;
  struct sc_tensor *in = pattern_image(SC_DTYPE_UINT8, 10, 10, 3), *out = NULL;
  struct sc_error err;
  (void)state;
  ps[0] = p_num("height", 8);
  ps[1] = p_num("width", 8);
  ps[2] = p_num("size", 9);
  pl = make_pipeline(names, ps, counts, 2);
  assert_int_equal(sc_pipeline_run(pl, in, NULL, &out, &err), SC_ERR_CONFIG);
  assert_null(out);
  assert_non_null(strstr(err.message, "step 2 (center_crop)"));
  assert_non_null(strstr(err.message, "does not fit"));
  sc_tensor_free(in);
  sc_pipeline_free(pl);
}

static void test_empty_pipeline_copies_input(void **state)
{
  struct sc_pipeline *pl = NULL;
  struct sc_tensor *in = pattern_image(SC_DTYPE_UINT8, 3, 4, 3), *out = NULL;
  struct sc_error err;
  (void)state;
  assert_int_equal(sc_pipeline_create(&pl, &err), SC_OK);
  assert_int_equal(sc_pipeline_add(pl, "nope", NULL, 0, &err), SC_ERR_CONFIG);
  assert_int_equal(sc_pipeline_length(pl), 0);
  assert_int_equal(sc_pipeline_run(pl, in, NULL, &out, &err), SC_OK);
  assert_ptr_not_equal(out->data, in->data);
  assert_tensor_close(out, in, 0, 0);
  sc_tensor_free(out);
  sc_tensor_free(in);
  sc_pipeline_free(pl);
  sc_pipeline_free(NULL);
  sc_transform_free(NULL);
}

/* Steps are pure: the input is unchanged after every oracle case of a
 * few families (spot check of ownership). */
static void test_apply_never_modifies_its_input(void **state)
{
  static const char *const steps[] = {"bgr_to_rgb", "hwc_to_chw", "bgr_to_nv12",
                                      "bgr_to_yuv444"};
  struct sc_tensor *in = pattern_image(SC_DTYPE_UINT8, 4, 6, 3), *copy = NULL;
  struct sc_error err;
  size_t i;
  (void)state;
  assert_int_equal(sc_tensor_clone(in, &copy, &err), SC_OK);
  for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    struct sc_transform *t = NULL;
    struct sc_tensor *out = NULL;
    assert_int_equal(sc_transform_create(steps[i], NULL, 0, &t, &err), SC_OK);
    assert_int_equal(sc_transform_apply(t, in, NULL, &out, &err), SC_OK);
    assert_int_equal(memcmp(in->data, copy->data, sc_tensor_size(in)), 0);
    sc_tensor_free(out);
    sc_transform_free(t);
  }
  sc_tensor_free(in);
  sc_tensor_free(copy);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_transformer_fails_naming_it),
      cmocka_unit_test(test_every_transformer_rejects_unknown_parameter),
      cmocka_unit_test(test_every_required_parameter_is_reported_missing),
      cmocka_unit_test(test_documented_names_are_all_known),
      cmocka_unit_test(test_messages_carry_line_numbers),
      cmocka_unit_test(test_positional_and_duplicate_parameters),
      cmocka_unit_test(test_parameter_types_are_checked),
      cmocka_unit_test(test_quantized_stage_pipeline_matches_numpy),
      cmocka_unit_test(test_float_stage_pipeline_matches_numpy),
      cmocka_unit_test(test_pipeline_error_names_the_step),
      cmocka_unit_test(test_empty_pipeline_copies_input),
      cmocka_unit_test(test_apply_never_modifies_its_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
