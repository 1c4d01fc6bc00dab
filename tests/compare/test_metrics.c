/* Metrics against the numpy oracle of tests/compare/data/metrics/
 * (gen_metrics_cases.py): zero vectors, NaN/Inf, empty tensors, integer
 * tensors with per-tensor and per-axis quantization, top-1 agreement and
 * per-channel variants. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/metrics.h"
#include "loaders/tensor_file.h"
#include "tests/support/assertions.h"

#define DATA SC_SOURCE_DIR "/tests/compare/data/metrics"

static double expected_number(json_object *exp, const char *key)
{
  json_object *v;
  if (!json_object_object_get_ex(exp, key, &v))
    fail_msg("expected value '%s' missing", key);
  if (json_object_is_type(v, json_type_null))
    return INFINITY; /* sqnr_db: null means +inf */
  if (json_object_is_type(v, json_type_string))
    return strcmp(json_object_get_string(v), "-inf") == 0 ? -INFINITY
                                                          : INFINITY;
  return json_object_get_double(v);
}

static void check_value(const char *case_name, const char *key, double got,
                        double want)
{
  if (isinf(want)) {
    if (got != want)
      fail_msg("%s: %s is %.17g, expected %g", case_name, key, got, want);
    return;
  }
  if (fabs(got - want) > 1e-9 + 1e-9 * fabs(want))
    fail_msg("%s: %s is %.17g, expected %.17g", case_name, key, got, want);
}

static struct sc_quant *parse_quant(json_object *q)
{
  struct sc_quant *out;
  json_object *scale, *zp, *axis, *dtype;
  size_t i, n;
  if (!q || json_object_is_type(q, json_type_null))
    return NULL;
  json_object_object_get_ex(q, "scale", &scale);
  json_object_object_get_ex(q, "zero_point", &zp);
  json_object_object_get_ex(q, "axis", &axis);
  json_object_object_get_ex(q, "dtype", &dtype);
  n = json_object_array_length(scale);
  out = calloc(1, sizeof *out);
  out->scale = calloc(n, sizeof *out->scale);
  out->zero_point = calloc(n, sizeof *out->zero_point);
  out->n_params = (int64_t)n;
  out->axis = json_object_get_int(axis);
  assert_int_equal(
      sc_dtype_from_name(json_object_get_string(dtype), &out->dtype), 0);
  for (i = 0; i < n; i++) {
    out->scale[i] =
        (float)json_object_get_double(json_object_array_get_idx(scale, i));
    out->zero_point[i] =
        json_object_get_int64(json_object_array_get_idx(zp, i));
  }
  return out;
}

static void quant_free(struct sc_quant *q)
{
  if (!q)
    return;
  free(q->scale);
  free(q->zero_point);
  free(q);
}

static void check_metrics(const char *name, json_object *exp,
                          const struct sc_metrics *m)
{
  json_object *v;
  check_value(name, "cosine", m->cosine, expected_number(exp, "cosine"));
  check_value(name, "max_abs", m->max_abs, expected_number(exp, "max_abs"));
  check_value(name, "mean_abs", m->mean_abs, expected_number(exp, "mean_abs"));
  check_value(name, "rmse", m->rmse, expected_number(exp, "rmse"));
  check_value(name, "sqnr_db", m->sqnr_db, expected_number(exp, "sqnr_db"));
  check_value(name, "rel_l2", m->rel_l2, expected_number(exp, "rel_l2"));
  check_value(name, "max_rel", m->max_rel, expected_number(exp, "max_rel"));
  check_value(name, "exact_ratio", m->exact_ratio,
              expected_number(exp, "exact_ratio"));
  assert_int_equal(m->n_elements, (int64_t)expected_number(exp, "n_elements"));
  assert_int_equal(m->nan_ref, (int64_t)expected_number(exp, "nan_ref"));
  assert_int_equal(m->nan_tgt, (int64_t)expected_number(exp, "nan_tgt"));
  assert_int_equal(m->inf_ref, (int64_t)expected_number(exp, "inf_ref"));
  assert_int_equal(m->inf_tgt, (int64_t)expected_number(exp, "inf_tgt"));
  if (json_object_object_get_ex(exp, "max_abs_lsb", &v)) {
    assert_true(m->has_lsb);
    check_value(name, "max_abs_lsb", m->max_abs_lsb,
                expected_number(exp, "max_abs_lsb"));
    check_value(name, "saturation", m->saturation,
                expected_number(exp, "saturation"));
  } else {
    assert_false(m->has_lsb);
  }
  if (json_object_object_get_ex(exp, "top1_agree", &v)) {
    assert_true(m->has_top1);
    check_value(name, "top1_agree", m->top1_agree,
                expected_number(exp, "top1_agree"));
  }
}

static void test_metrics_match_numpy_oracle(void **state)
{
  json_object *cases = json_object_from_file(DATA "/cases.json");
  size_t i, n;
  (void)state;
  assert_non_null(cases);
  n = json_object_array_length(cases);
  assert_true(n >= 10);
  for (i = 0; i < n; i++) {
    json_object *c = json_object_array_get_idx(cases, i), *v, *exp;
    const char *name;
    char path[1024];
    struct sc_tensor *ref = NULL, *tgt = NULL;
    struct sc_metrics m;
    struct sc_metrics_options opt;
    struct sc_error err;

    json_object_object_get_ex(c, "name", &v);
    name = json_object_get_string(v);
    snprintf(path, sizeof path, DATA "/%s_ref.npy", name);
    assert_int_equal(sc_npy_load(path, &ref, &err), SC_OK);
    snprintf(path, sizeof path, DATA "/%s_tgt.npy", name);
    assert_int_equal(sc_npy_load(path, &tgt, &err), SC_OK);
    memset(&opt, 0, sizeof opt);
    json_object_object_get_ex(c, "reference_quant", &v);
    opt.reference_quant = parse_quant(v);
    json_object_object_get_ex(c, "target_quant", &v);
    opt.target_quant = parse_quant(v);
    json_object_object_get_ex(c, "top1_axis", &v);
    opt.top1_axis = json_object_get_int(v);
    assert_int_equal(sc_metrics_compute(ref, tgt, &opt, &m, &err), SC_OK);
    json_object_object_get_ex(c, "expected", &exp);
    check_metrics(name, exp, &m);

    if (json_object_object_get_ex(c, "per_channel", &v)) {
      json_object *axis;
      struct sc_metrics per[16];
      size_t k;
      json_object_object_get_ex(c, "channel_axis", &axis);
      assert_int_equal(sc_metrics_per_channel(ref, tgt, &opt,
                                              json_object_get_int(axis), per,
                                              &err),
                       SC_OK);
      for (k = 0; k < json_object_array_length(v); k++)
        check_metrics(name, json_object_array_get_idx(v, k), &per[k]);
    }
    quant_free((struct sc_quant *)opt.reference_quant);
    quant_free((struct sc_quant *)opt.target_quant);
    sc_tensor_free(ref);
    sc_tensor_free(tgt);
  }
  json_object_put(cases);
}

static void test_metrics_shape_mismatch_is_an_error(void **state)
{
  int64_t a[1] = {3}, b[1] = {4};
  struct sc_tensor *x, *y;
  struct sc_metrics m;
  struct sc_error err;
  (void)state;
  sc_tensor_create(SC_DTYPE_FLOAT, 1, a, &x, NULL);
  sc_tensor_create(SC_DTYPE_FLOAT, 1, b, &y, NULL);
  assert_int_equal(sc_metrics_compute(x, y, NULL, &m, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "[3]"));
  assert_non_null(strstr(err.message, "[4]"));
  sc_tensor_free(x);
  sc_tensor_free(y);
}

static void test_metric_names_and_bounds(void **state)
{
  enum sc_metric_id id;
  (void)state;
  assert_int_equal(sc_metric_from_name("sqnr_db", &id), 0);
  assert_int_equal(id, SC_METRIC_SQNR_DB);
  assert_true(sc_metric_is_lower_bound(SC_METRIC_COSINE));
  assert_false(sc_metric_is_lower_bound(SC_METRIC_MAX_ABS_LSB));
  assert_true(sc_metric_worse(SC_METRIC_COSINE, 0.9, 0.99));
  assert_true(sc_metric_worse(SC_METRIC_MAX_ABS, 2.0, 1.0));
  assert_false(sc_metric_worse(SC_METRIC_MAX_ABS, NAN, 1.0));
  assert_int_equal(sc_metric_from_name("accuracy", &id), -1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metrics_match_numpy_oracle),
      cmocka_unit_test(test_metrics_shape_mismatch_is_an_error),
      cmocka_unit_test(test_metric_names_and_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
