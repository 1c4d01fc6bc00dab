/* stagecheck.yaml and hb_mapper YAML: the spec's own example loads, and
 * every kind of mistake is refused with the file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/config.h"
#include "loaders/file.h"
#include "tests/support/assertions.h"

static const char spec_example[] =
    "name: tiny_resnet\n"
    "inputs:\n"
    "  - name: input\n"
    "    source: inputs/\n"
    "    preprocess:\n"
    "      - resize: {height: 256, width: 256, mode: opencv, interpolation: "
    "linear}\n"
    "      - center_crop: {height: 224, width: 224}\n"
    "stages:\n"
    "  - name: float\n"
    "    model: float.onnx\n"
    "    input: &float_in\n"
    "      - bgr_to_rgb\n"
    "      - hwc_to_chw\n"
    "      - normalize: {mean: [123.675, 116.28, 103.53], std: [58.395, "
    "57.12, 57.375]}\n"
    "  - name: optimized\n"
    "    model: optimized.onnx\n"
    "    input: *float_in\n"
    "  - name: quantized\n"
    "    model: quantized.onnx\n"
    "    input: [bgr_to_nv12, nv12_to_yuv444, hwc_to_chw, {add: {value: "
    "-128}}, {cast: {dtype: int8}}]\n"
    "  - name: compiled\n"
    "    dump: compiled/\n"
    "  - name: emulated\n"
    "    model: quantized.onnx\n"
    "    emulate: {type: int8, rounding: half_even}\n"
    "compare:\n"
    "  pairs: chain\n"
    "  match: {file: names.yaml}\n"
    "  thresholds:\n"
    "    default:   {cosine: 0.999}\n"
    "    float->optimized: {cosine: 0.99999, max_abs: 1.0e-4}\n"
    "    optimized->quantized: {cosine: 0.99, sqnr_db: 20}\n"
    "    quantized->compiled: {max_abs_lsb: 1}\n"
    "    input:     {cosine: 0.9999}\n"
    "    outputs:   {cosine: 0.995}\n";

static char *write_config(const char *dir, const char *name, const char *text)
{
  char *path = sc_path_join(dir, name);
  assert_int_equal(sc_file_write_atomic(path, text, strlen(text), NULL), SC_OK);
  return path;
}

static void test_config_spec_example_loads(void **state)
{
  char *dir = sc_test_tmpdir(),
       *path = write_config(dir, "s.yaml", spec_example);
  struct sc_config *c = NULL;
  struct sc_error err;
  const struct sc_config_threshold *t;
  struct sc_pipeline *p;
  (void)state;

  if (sc_config_load(path, &c, &err) != SC_OK)
    fail_msg("%s", err.message);
  assert_string_equal(c->name, "tiny_resnet");
  assert_int_equal(c->n_inputs, 1);
  assert_string_equal(c->inputs[0].source, "inputs/");
  assert_int_equal(c->inputs[0].preprocess.n_steps, 2);
  assert_string_equal(c->inputs[0].preprocess.steps[0].name, "resize");
  assert_int_equal(c->inputs[0].preprocess.steps[0].n_params, 4);
  assert_int_equal(c->n_stages, 5);
  /* the alias *float_in gives the optimized stage the same steps */
  assert_int_equal(c->stages[1].input.n_steps, 3);
  assert_string_equal(c->stages[1].input.steps[2].name, "normalize");
  assert_int_equal(c->stages[1].input.steps[2].params[0].type, SC_PARAM_LIST);
  assert_int_equal(c->stages[1].input.steps[2].params[0].n_list, 3);
  assert_int_equal(c->stages[2].input.n_steps, 5);
  assert_true(c->stages[2].input.steps[3].params[0].number == -128);
  assert_string_equal(c->stages[3].dump, "compiled/");
  assert_true(c->stages[4].emulate);
  assert_int_equal(c->stages[4].rounding, SC_ROUND_HALF_EVEN);
  assert_true(c->pairs_chain);
  assert_string_equal(c->match_file, "names.yaml");
  t = sc_config_threshold(c, "float->optimized");
  assert_non_null(t);
  assert_true(t->set & (1u << SC_METRIC_MAX_ABS));
  assert_true(t->bound[SC_METRIC_MAX_ABS] == 1.0e-4);
  assert_non_null(sc_config_threshold(c, "outputs"));
  assert_null(sc_config_threshold(c, "nothing"));
  /* the steps build real pipelines */
  if (sc_config_pipeline(c, &c->inputs[0], &c->stages[2], &p, &err) != SC_OK)
    fail_msg("%s", err.message);
  assert_int_equal(sc_pipeline_length(p), 7);
  sc_pipeline_free(p);
  sc_config_free(c);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

/* Loads text; expects SC_ERR_CONFIG and a message naming "FILE:LINE" and
 * every string of `mentions`. */
static void expect_refused(const char *text, int line, const char *mention)
{
  char *dir = sc_test_tmpdir(), *path = write_config(dir, "bad.yaml", text);
  char where[64];
  struct sc_config *c = NULL;
  struct sc_error err;
  sc_status st = sc_config_load(path, &c, &err);
  if (st != SC_ERR_CONFIG)
    fail_msg("status %s for:\n%s", sc_status_name(st), text);
  assert_int_equal(sc_status_exit_code(st), 2);
  snprintf(where, sizeof where, "bad.yaml:%d:", line);
  if (!strstr(err.message, where) || !strstr(err.message, mention))
    fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.message, where,
             mention);
  assert_null(c);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_config_invalid_yaml_names_line(void **state)
{
  (void)state;
  expect_refused("stages:\n  - name: a\n    model: [unclosed\n", 4,
                 "invalid YAML");
}

/* Collections nested 100 000 deep (libyaml's scanner is quadratic in the
 * depth: minutes) are refused at once; 64 levels are only refused for
 * what they contain. */
static void test_config_deep_nesting_refused(void **state)
{
  size_t depth = 100000, i;
  char *text = malloc(2 * depth + 32);
  (void)state;
  assert_non_null(text);
  strcpy(text, "name: x\nstages: ");
  i = strlen(text);
  memset(text + i, '[', depth);
  strcpy(text + i + depth, "\n");
  expect_refused(text, 2, "nested more than 64 deep");
  strcpy(text, "name: x\nstagez: ");
  i = strlen(text);
  memset(text + i, '[', 63); /* with the top mapping: 64 */
  memset(text + i + 63, ']', 63);
  strcpy(text + i + 126, "\n");
  expect_refused(text, 2, "'stagez'");
  free(text);
}

static void test_config_unknown_keys_name_line_and_key(void **state)
{
  (void)state;
  /* libyaml keeps both keys of a pair and a lookup saw the first */
  expect_refused("name: x\nname: y\n", 2, "key 'name' given twice");
  expect_refused("compare:\n  thresholds:\n    default: {cosine: 0.9, "
                 "cosine: 0.1}\n",
                 3, "key 'cosine' given twice");
  /* strtod reads "nan": a NaN bound passed every comparison */
  expect_refused("compare:\n  thresholds:\n    default: {cosine: nan}\n", 3,
                 "must be a number");
  /* an NV12 width was truncated */
  expect_refused("inputs:\n  - name: x\n    source: in.nv12\n"
                 "    width: 64.9\n    height: 64\n",
                 4, "whole number");
  /* a NUL ended the text for every reader */
  expect_refused("name: \"a\\0b\"\n", 1, "NUL");
  /* a second document was ignored */
  expect_refused("name: x\n---\nname: y\n", 2, "second YAML document");
  expect_refused("name: x\nstagez: []\n", 2, "'stagez'");
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n    modle: b\n", 4,
                 "'modle'");
  expect_refused("compare:\n  thresholds:\n    default: {cosine: 1}\n"
                 "    weird: {cosine: 1}\n",
                 4, "'weird'");
}

static void test_config_wrong_types_name_line(void **state)
{
  (void)state;
  expect_refused("stages: 3\n", 1, "stages must be a list");
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n    input: 5\n", 4,
                 "input must be a list");
  expect_refused("compare:\n  thresholds:\n    default: {cosine: high}\n", 3,
                 "cosine must be a number");
  expect_refused("inputs:\n  - source: [1, 2]\n", 2, "source must be a value");
}

static void test_config_unknown_metric_and_stage(void **state)
{
  (void)state;
  expect_refused("compare:\n  thresholds:\n    default: {accuracy: 1}\n", 3,
                 "'accuracy'");
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n"
                 "compare:\n  thresholds:\n    a->zz: {cosine: 0.9}\n",
                 6, "a->zz");
}

static void test_config_stage_sources(void **state)
{
  (void)state;
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n    dump: d/\n", 2,
                 "exactly one");
  expect_refused("stages:\n  - model: a.onnx\n", 2, "needs a name");
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n"
                 "  - name: a\n    model: b.onnx\n",
                 4, "twice");
  expect_refused("stages:\n  - name: a\n    model: a.onnx\n"
                 "    emulate: {type: int4}\n",
                 4, "int4");
}

static void test_config_unknown_transformer_names_line(void **state)
{
  char *dir = sc_test_tmpdir();
  char *path = write_config(dir, "t.yaml",
                            "stages:\n  - name: a\n    model: a.onnx\n"
                            "    input:\n      - hwc_to_chw\n"
                            "      - sharpen: {amount: 2}\n");
  struct sc_config *c;
  struct sc_pipeline *p;
  struct sc_error err;
  (void)state;
  assert_int_equal(sc_config_load(path, &c, &err), SC_OK);
  assert_int_equal(sc_config_pipeline(c, NULL, &c->stages[0], &p, &err),
                   SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "t.yaml:6:"));
  assert_non_null(strstr(err.message, "sharpen"));
  sc_config_free(c);
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_config_missing_file_is_config_error(void **state)
{
  struct sc_config *c;
  struct sc_error err;
  (void)state;
  assert_int_equal(sc_config_load("/nonexistent/stagecheck.yaml", &c, &err),
                   SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "/nonexistent/stagecheck.yaml"));
}

static void test_hb_mapper_derives_pipelines(void **state)
{
  char *dir = sc_test_tmpdir();
  char *path = write_config(
      dir, "hb.yaml",
      "model_parameters:\n  onnx_model: model.onnx\n  march: bernoulli2\n"
      "input_parameters:\n  input_type_rt: nv12\n  input_type_train: rgb\n"
      "  input_layout_train: NCHW\n  norm_type: data_mean_and_scale\n"
      "  mean_value: 123.675 116.28 103.53\n"
      "  scale_value: 0.0171 0.0175 0.0174\n"
      "calibration_parameters:\n  cal_data_dir: ./cal\n");
  struct sc_config_steps f = {0}, q = {0};
  struct sc_error err;
  (void)state;
  assert_true(sc_config_is_hb_mapper(path));
  if (sc_config_load_hb_mapper(path, &f, &q, &err) != SC_OK)
    fail_msg("%s", err.message);
  assert_int_equal(f.n_steps, 4);
  assert_string_equal(f.steps[0].name, "bgr_to_rgb");
  assert_string_equal(f.steps[1].name, "mean");
  assert_int_equal(f.steps[1].params[0].n_list, 3);
  assert_true(f.steps[1].params[0].list[2] == 103.53);
  assert_string_equal(f.steps[2].name, "scale");
  assert_string_equal(f.steps[3].name, "hwc_to_chw");
  assert_string_equal(q.steps[0].name, "bgr_to_nv12");
  assert_string_equal(q.steps[1].name, "nv12_to_yuv444");
  assert_string_equal(q.steps[q.n_steps - 1].name, "cast");
  sc_config_steps_clear(&f);
  sc_config_steps_clear(&q);
  free(path);
  path = write_config(dir, "hb2.yaml",
                      "input_parameters:\n  input_type_rt: nv12\n"
                      "  norm_type: data_mean\n");
  assert_int_equal(sc_config_load_hb_mapper(path, &f, &q, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "mean_value"));
  assert_non_null(strstr(err.message, "hb2.yaml:2:"));
  free(path);
  path = write_config(dir, "plain.yaml", spec_example);
  assert_false(sc_config_is_hb_mapper(path));
  free(path);
  sc_test_rmtree(dir);
  free(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config_spec_example_loads),
      cmocka_unit_test(test_config_invalid_yaml_names_line),
      cmocka_unit_test(test_config_deep_nesting_refused),
      cmocka_unit_test(test_config_unknown_keys_name_line_and_key),
      cmocka_unit_test(test_config_wrong_types_name_line),
      cmocka_unit_test(test_config_unknown_metric_and_stage),
      cmocka_unit_test(test_config_stage_sources),
      cmocka_unit_test(test_config_unknown_transformer_names_line),
      cmocka_unit_test(test_config_missing_file_is_config_error),
      cmocka_unit_test(test_hb_mapper_derives_pipelines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
