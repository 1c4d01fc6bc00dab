/* Metrics against the numpy oracle of tests/compare/data/metrics/
 * (gen_metrics_cases.py): zero vectors, NaN/Inf, empty tensors, integer
 * tensors with per-tensor and per-axis quantization, top-1 agreement and
 * per-channel variants. Then the library's fast paths against the plain
 * element-by-element definition, bit for bit, on random tensors. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/metrics.h"
#include "loaders/tensor_file.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"
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
  assert_int_equal(sc_quant_create(SC_DTYPE_UNDEFINED,
                                   json_object_get_int(axis), (int64_t)n, &out,
                                   NULL),
                   SC_OK);
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
    sc_quant_free((struct sc_quant *)opt.reference_quant);
    sc_quant_free((struct sc_quant *)opt.target_quant);
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

/* --- The fast paths against the plain element-by-element definition ---
 *
 * plain_* below is sc_metrics_compute / sc_metrics_per_channel as first
 * written: one element at a time through sc_dtype_load, the per-axis
 * parameter from a division per element, each channel by a scan of the
 * whole tensor. Its sums are kept either in one running double (the naive
 * definition), or in the order compare/metrics.h documents (blocks of
 * SC_METRICS_BLOCK_SIZE positions, SC_METRICS_LANES lanes each, combined
 * in a fixed order). The library reads blocks of elements with loops
 * specialised for the dtype, vector instructions and threads; its results
 * must be bit for bit those of the documented order, and within rounding
 * of the naive sums. */

/* One sum in the documented order: position p of the accumulation goes to
 * lane (p % block) % lanes; at the end of each block the lanes are
 * combined and added to the total. */
struct ordered_sum {
  int ordered; /* 0: one running double */
  double lane[SC_METRICS_LANES];
  double total;
};

static void ordered_add(struct ordered_sum *s, int64_t pos, double x)
{
  if (!s->ordered)
    s->total += x;
  else
    s->lane[pos % SC_METRICS_BLOCK_SIZE % SC_METRICS_LANES] += x;
}

/* Called after position pos was visited (count positions in all). */
static void ordered_after(struct ordered_sum *s, int64_t pos, int64_t count)
{
  const double *l = s->lane;
  if (!s->ordered ||
      ((pos + 1) % SC_METRICS_BLOCK_SIZE != 0 && pos + 1 != count))
    return;
  s->total += ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
  memset(s->lane, 0, sizeof s->lane);
}

struct plain_side {
  const struct sc_tensor *t;
  const struct sc_quant *quant;
  int dequantize;
  int64_t inner;
  int64_t axis_dim;
};

static void plain_side_init(struct plain_side *s, const struct sc_tensor *t,
                            const struct sc_quant *q)
{
  int r;
  s->t = t;
  s->quant = q;
  s->dequantize = q && q->n_params > 0 && sc_dtype_is_integer(t->dtype);
  s->inner = 1;
  s->axis_dim = 1;
  if (q && q->axis >= 0 && q->axis < t->rank) {
    for (r = q->axis + 1; r < t->rank; r++)
      s->inner *= t->dims[r];
    s->axis_dim = t->dims[q->axis];
  }
}

static int64_t plain_param_index(const struct plain_side *s, int64_t i)
{
  if (!s->quant || s->quant->axis < 0 || s->quant->n_params <= 1)
    return 0;
  return (i / s->inner) % s->axis_dim;
}

static double plain_value(const struct plain_side *s, int64_t i)
{
  double v = sc_dtype_load(s->t->dtype, s->t->data, i);
  if (s->dequantize) {
    int64_t c = plain_param_index(s, i);
    if (c >= s->quant->n_params)
      c = s->quant->n_params - 1;
    return (v - (double)s->quant->zero_point[c]) * (double)s->quant->scale[c];
  }
  return v;
}

static void plain_quant_range(enum sc_dtype d, double *lo, double *hi)
{
  int32_t qmin = INT32_MIN, qmax = INT32_MAX;
  sc_quant_range(d, &qmin, &qmax);
  *lo = qmin;
  *hi = qmax;
}

static double plain_on_grid(const struct plain_side *s,
                            const struct plain_side *grid_side, int64_t i,
                            double x)
{
  const struct sc_quant *q = grid_side->quant;
  int64_t c = plain_param_index(grid_side, i);
  double lo, hi, v;
  if (s->dequantize && s->quant == q)
    return sc_dtype_load(s->t->dtype, s->t->data, i);
  if (c >= q->n_params)
    c = q->n_params - 1;
  v = nearbyint(x / (double)q->scale[c]) + (double)q->zero_point[c];
  plain_quant_range(q->dtype, &lo, &hi);
  return v < lo ? lo : v > hi ? hi : v;
}

/* ordered: the sums in the documented order, else naive */
static void plain_accumulate(const struct plain_side *r,
                             const struct plain_side *t,
                             const struct plain_side *grid, int axis,
                             int64_t inner, int64_t axis_dim, int64_t channel,
                             int ordered, struct sc_metrics *m)
{
  struct ordered_sum sums[5]; /* dot, nr2, nt2, nd2, sum_abs */
  double dot, nr2, nt2, nd2, sum_abs, max_abs = 0;
  double max_ref = 0, max_lsb = 0, lo = 0, hi = 0;
  int64_t i, n = 0, exact = 0, saturated = 0, n_grid = 0, pos = 0, count;
  int64_t total = r->t->n_elements;
  int k;

  memset(m, 0, sizeof *m);
  memset(sums, 0, sizeof sums);
  for (k = 0; k < 5; k++)
    sums[k].ordered = ordered;
  count = axis >= 0 && axis_dim > 0 ? total / axis_dim : total;
  if (grid)
    plain_quant_range(grid->quant->dtype, &lo, &hi);
  for (i = 0; i < total; i++) {
    double a, b, d;
    if (axis >= 0 && (i / inner) % axis_dim != channel)
      continue;
    pos++;
    for (k = 0; k < 5 && pos >= 2; k++)
      ordered_after(&sums[k], pos - 2, count); /* the previous position */
    a = plain_value(r, i);
    b = plain_value(t, i);
    if (isnan(a))
      m->nan_ref++;
    else if (isinf(a))
      m->inf_ref++;
    if (isnan(b))
      m->nan_tgt++;
    else if (isinf(b))
      m->inf_tgt++;
    if (!isfinite(a) || !isfinite(b))
      continue;
    n++;
    d = b - a;
    ordered_add(&sums[0], pos - 1, a * b);
    ordered_add(&sums[1], pos - 1, a * a);
    ordered_add(&sums[2], pos - 1, b * b);
    ordered_add(&sums[3], pos - 1, d * d);
    ordered_add(&sums[4], pos - 1, fabs(d));
    if (fabs(d) > max_abs)
      max_abs = fabs(d);
    if (fabs(a) > max_ref)
      max_ref = fabs(a);
    if (a == b)
      exact++;
    if (grid) {
      double qa = plain_on_grid(r, grid, i, a),
             qb = plain_on_grid(t, grid, i, b);
      if (fabs(qb - qa) > max_lsb)
        max_lsb = fabs(qb - qa);
      if (qb <= lo || qb >= hi)
        saturated++;
      n_grid++;
    }
  }
  for (k = 0; k < 5 && pos > 0; k++)
    ordered_after(&sums[k], pos - 1, count);
  dot = sums[0].total;
  nr2 = sums[1].total;
  nt2 = sums[2].total;
  nd2 = sums[3].total;
  sum_abs = sums[4].total;
  m->n_elements = n;
  if (nr2 == 0 && nt2 == 0)
    m->cosine = 1.0;
  else if (nr2 == 0 || nt2 == 0)
    m->cosine = 0.0;
  else
    m->cosine = dot / sqrt(nr2 * nt2);
  if (m->cosine > 1.0)
    m->cosine = 1.0;
  m->max_abs = max_abs;
  m->mean_abs = n ? sum_abs / (double)n : 0.0;
  m->rmse = n ? sqrt(nd2 / (double)n) : 0.0;
  m->sqnr_db = nd2 == 0   ? INFINITY
               : nr2 == 0 ? -INFINITY
                          : 10.0 * log10(nr2 / nd2);
  m->rel_l2 = nd2 == 0 ? 0.0 : nr2 == 0 ? INFINITY : sqrt(nd2 / nr2);
  m->exact_ratio = n ? (double)exact / (double)n : 1.0;
  if (grid) {
    m->has_lsb = 1;
    m->max_abs_lsb = max_lsb;
    m->saturation = n_grid ? (double)saturated / (double)n_grid : 0.0;
  }
  {
    double floor_ref = 1e-12 * max_ref, max_rel = 0;
    for (i = 0; i < total; i++) {
      double a, b, denom, rel;
      if (axis >= 0 && (i / inner) % axis_dim != channel)
        continue;
      a = plain_value(r, i);
      b = plain_value(t, i);
      if (!isfinite(a) || !isfinite(b) || a == b)
        continue;
      denom = fabs(a) > floor_ref ? fabs(a) : floor_ref;
      rel = denom > 0 ? fabs(b - a) / denom : INFINITY;
      if (rel > max_rel)
        max_rel = rel;
    }
    m->max_rel = max_rel;
  }
}

static double plain_top1(const struct plain_side *r, const struct plain_side *t,
                         int axis)
{
  const struct sc_tensor *x = r->t;
  int64_t inner = 1, outer = 1, c, o, in, agree = 0;
  int64_t dim = x->dims[axis];
  int k;

  for (k = axis + 1; k < x->rank; k++)
    inner *= x->dims[k];
  for (k = 0; k < axis; k++)
    outer *= x->dims[k];
  if (dim == 0 || outer * inner == 0)
    return 1.0;
  for (o = 0; o < outer; o++)
    for (in = 0; in < inner; in++) {
      int64_t best_r = 0, best_t = 0;
      double vr = -INFINITY, vt = -INFINITY;
      for (c = 0; c < dim; c++) {
        int64_t i = (o * dim + c) * inner + in;
        double a = plain_value(r, i), b = plain_value(t, i);
        if (a > vr) {
          vr = a;
          best_r = c;
        }
        if (b > vt) {
          vt = b;
          best_t = c;
        }
      }
      agree += best_r == best_t;
    }
  return (double)agree / (double)(outer * inner);
}

static const struct plain_side *plain_grid(const struct plain_side *r,
                                           const struct plain_side *t)
{
  if (t->quant && t->quant->n_params > 0)
    return t;
  if (r->quant && r->quant->n_params > 0)
    return r;
  return NULL;
}

/* axis < 0: the whole tensor (with top-1 when options ask for it);
 * ordered: sums in the documented order, else naive */
static void plain_metrics_in(const struct sc_tensor *reference,
                             const struct sc_tensor *target,
                             const struct sc_metrics_options *options, int axis,
                             int64_t channel, int ordered,
                             struct sc_metrics *out)
{
  struct plain_side r, t;
  int64_t inner = 1;
  int k;

  plain_side_init(&r, reference, options->reference_quant);
  plain_side_init(&t, target, options->target_quant);
  if (axis < 0) {
    plain_accumulate(&r, &t, plain_grid(&r, &t), -1, 1, 1, 0, ordered, out);
    if (options->top1_axis >= 0 && options->top1_axis < reference->rank) {
      out->has_top1 = 1;
      out->top1_agree = plain_top1(&r, &t, options->top1_axis);
    }
    return;
  }
  for (k = axis + 1; k < reference->rank; k++)
    inner *= reference->dims[k];
  plain_accumulate(&r, &t, plain_grid(&r, &t), axis, inner,
                   reference->dims[axis], channel, ordered, out);
}

/* The documented order: the library's bits. */
static void plain_metrics(const struct sc_tensor *reference,
                          const struct sc_tensor *target,
                          const struct sc_metrics_options *options, int axis,
                          int64_t channel, struct sc_metrics *out)
{
  plain_metrics_in(reference, target, options, axis, channel, 1, out);
}

/* Fails unless every field of got has the bits of want's. */
static void assert_metrics_identical(const char *what,
                                     const struct sc_metrics *got,
                                     const struct sc_metrics *want)
{
#define SAME_DOUBLE(f)                                                         \
  if (memcmp(&got->f, &want->f, sizeof got->f) != 0)                           \
    fail_msg("%s: " #f " is %.17g, the plain definition gives %.17g", what,    \
             got->f, want->f);
#define SAME_INT(f)                                                            \
  if (got->f != want->f)                                                       \
    fail_msg("%s: " #f " is %lld, the plain definition gives %lld", what,      \
             (long long)got->f, (long long)want->f);
  SAME_INT(n_elements)
  SAME_DOUBLE(cosine)
  SAME_DOUBLE(max_abs)
  SAME_DOUBLE(mean_abs)
  SAME_DOUBLE(rmse)
  SAME_DOUBLE(sqnr_db)
  SAME_DOUBLE(rel_l2)
  SAME_DOUBLE(max_rel)
  SAME_DOUBLE(exact_ratio)
  SAME_INT(nan_ref)
  SAME_INT(nan_tgt)
  SAME_INT(inf_ref)
  SAME_INT(inf_tgt)
  SAME_INT(has_lsb)
  SAME_DOUBLE(max_abs_lsb)
  SAME_DOUBLE(saturation)
  SAME_INT(has_top1)
  SAME_DOUBLE(top1_agree)
#undef SAME_DOUBLE
#undef SAME_INT
}

/* the same data on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(void)
{
  return sc_test_uniform(&rng_state);
}

/* How a test tensor's values are drawn. */
enum values_kind {
  VALUES_MIXED,   /* zeros, tiny values, NaN, infinities, normal values */
  VALUES_GROWING, /* magnitudes growing along the tensor, tiny ones early */
  VALUES_HUGE,    /* up to 1.6e308: squares and differences overflow */
  VALUES_FINITE   /* VALUES_MIXED without NaN and infinities: the loops'
                     all-finite paths */
};

static double draw_value(enum values_kind kind, int64_t i, int64_t n)
{
  double u = uniform(), v = (uniform() * 2 - 1) * 4;
  if (kind == VALUES_HUGE)
    return u < 0.1 ? 0.0 : v * 4e307;
  if (kind == VALUES_GROWING)
    return u < 0.1 ? (uniform() - 0.5) * 1e-14
                   : v * pow(10.0, -4.0 + 8.0 * (double)i / (double)n);
  if (u < 0.15)
    return 0.0;
  if (u < 0.2)
    return (uniform() - 0.5) * 1e-13;
  if (u < 0.22)
    return kind == VALUES_FINITE ? 0.0 : NAN;
  if (u < 0.23)
    return kind == VALUES_FINITE ? -v : uniform() < 0.5 ? INFINITY : -INFINITY;
  if (u < 0.28) /* half way between steps of 1/8 (make_quant): ties */
    return (floor(v * 8) + 0.5) / 8;
  return v;
}

/* The parameter of element i of a tensor with these dims (the plain
 * definition's rule). */
static int64_t quant_param(const struct sc_quant *q, const struct sc_tensor *t,
                           int64_t i)
{
  int64_t inner = 1, c;
  int r;
  if (!q || q->axis < 0 || q->n_params <= 1 || q->axis >= t->rank)
    return 0;
  for (r = q->axis + 1; r < t->rank; r++)
    inner *= t->dims[r];
  c = (i / inner) % t->dims[q->axis];
  return c >= q->n_params ? q->n_params - 1 : c;
}

/* Stores real value v as element i: quantized on q for an integer dtype
 * with parameters, else converted (integers saturate). */
static void store_value(struct sc_tensor *t, const struct sc_quant *q,
                        int64_t i, double v)
{
  if (sc_dtype_is_integer(t->dtype) && q && q->n_params > 0 && isfinite(v)) {
    int64_t c = quant_param(q, t, i);
    if (q->scale[c] != 0)
      v = nearbyint(v / q->scale[c]) + (double)q->zero_point[c];
    if (uniform() < 0.05) /* at the ends of the range: saturation */
      v = uniform() < 0.5 ? -1e30 : 1e30;
  }
  sc_dtype_store(t->dtype, t->data, i, v);
}

/* Fills reference and target: the target equal to the reference for about
 * a quarter of the elements, zero for some, a perturbed copy for the
 * rest. */
static void fill_pair(struct sc_tensor *ref, const struct sc_quant *ref_quant,
                      struct sc_tensor *tgt, const struct sc_quant *tgt_quant,
                      enum values_kind kind)
{
  int64_t i, n = ref->n_elements;
  for (i = 0; i < n; i++) {
    double r = draw_value(kind, i, n), u = uniform(), t;
    store_value(ref, ref_quant, i, r);
    if (u < 0.25)
      t = r;
    else if (u < 0.3)
      t = 0.0;
    else if (u < 0.32)
      t = draw_value(kind == VALUES_FINITE ? kind : VALUES_MIXED, i,
                     n); /* NaN and Inf of its own */
    else if (u < 0.34)
      t = -r; /* with huge values, a difference that overflows */
    else
      t = r + (uniform() - 0.5) * 0.05 * (fabs(r) + 1e-3);
    store_value(tgt, tgt_quant, i, t);
  }
}

/* Quantization parameters: per-tensor when n_params is 1, along `axis`
 * otherwise (of any length, even shorter than the axis); every other
 * scale 1/8, on which draw_value makes rounding ties; a zero scale when
 * zero_scale. */
static struct sc_quant *make_quant(enum sc_dtype dtype, int axis,
                                   int64_t n_params, int zero_scale)
{
  struct sc_quant *q = NULL;
  int64_t c;
  assert_int_equal(sc_quant_create(dtype, axis, n_params, &q, NULL), SC_OK);
  for (c = 0; c < n_params; c++) {
    q->scale[c] = c % 2 ? (float)(0.01 + 0.1 * uniform()) : 0.125f;
    q->zero_point[c] = dtype == SC_DTYPE_UINT8 ? 100 + c % 50 : (c % 7) - 3;
  }
  if (zero_scale)
    q->scale[n_params - 1] = 0.0f;
  return q;
}

/* One comparison of the table below. */
struct fast_case {
  const char *name;
  enum sc_dtype ref_dtype, tgt_dtype;
  int rank;
  int64_t dims[4];
  /* quantization of each side: n_params 0 for none */
  enum sc_dtype ref_qdtype, tgt_qdtype;
  int ref_axis, tgt_axis;
  int64_t ref_params, tgt_params;
  int same_quant; /* both sides share the reference's parameters */
  int zero_scale;
  enum values_kind kind;
};

static const struct fast_case fast_cases[] = {
    {.name = "float32",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {2, 5, 7, 9}},
    {.name = "float32 long runs",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {1, 3, 40, 33}},
    {.name = "float32 growing",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {1, 4, 30, 31},
     .kind = VALUES_GROWING},
    {.name = "float32 rank 2",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 2,
     .dims = {3, 701}},
    {.name = "float32 rank 1",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 1,
     .dims = {517}},
    {.name = "float32 empty",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {2, 3, 0, 5}},
    {.name = "float64 huge",
     .ref_dtype = SC_DTYPE_DOUBLE,
     .tgt_dtype = SC_DTYPE_DOUBLE,
     .rank = 3,
     .dims = {4, 9, 13},
     .kind = VALUES_HUGE},
    {.name = "float16 vs float32",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT16,
     .rank = 4,
     .dims = {2, 6, 11, 5}},
    /* the pairs of float sides that skip the chunk of doubles (direct
     * kernels): whole lanes, then a short rest */
    {.name = "float32 vs float16, long rows",
     .ref_dtype = SC_DTYPE_FLOAT16,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 2,
     .dims = {3, 1203}},
    {.name = "float16 vs float16",
     .ref_dtype = SC_DTYPE_FLOAT16,
     .tgt_dtype = SC_DTYPE_FLOAT16,
     .rank = 3,
     .dims = {2, 5, 613}},
    {.name = "float64 vs float32, huge",
     .ref_dtype = SC_DTYPE_DOUBLE,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 2,
     .dims = {2, 1029},
     .kind = VALUES_HUGE},
    {.name = "bfloat16 vs float16",
     .ref_dtype = SC_DTYPE_BFLOAT16,
     .tgt_dtype = SC_DTYPE_FLOAT16,
     .rank = 3,
     .dims = {3, 5, 77}},
    {.name = "int8 per-tensor",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 5, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = -1,
     .tgt_params = 1},
    /* 8-bit targets on their own grid with one parameter pair: sums and
     * grid in one pass where the CPU has AVX-512 */
    {.name = "uint8 per-tensor vs float16, long rows",
     .ref_dtype = SC_DTYPE_FLOAT16,
     .tgt_dtype = SC_DTYPE_UINT8,
     .rank = 2,
     .dims = {3, 1203},
     .tgt_qdtype = SC_DTYPE_UINT8,
     .tgt_axis = -1,
     .tgt_params = 1},
    {.name = "uint8 per-tensor, zero scale",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_UINT8,
     .rank = 2,
     .dims = {2, 517},
     .tgt_qdtype = SC_DTYPE_UINT8,
     .tgt_axis = -1,
     .tgt_params = 1,
     .zero_scale = 1},
    {.name = "uint8 per-tensor vs float16, long rows, finite",
     .ref_dtype = SC_DTYPE_FLOAT16,
     .tgt_dtype = SC_DTYPE_UINT8,
     .rank = 2,
     .dims = {3, 1203},
     .tgt_qdtype = SC_DTYPE_UINT8,
     .tgt_axis = -1,
     .tgt_params = 1,
     .kind = VALUES_FINITE},
    {.name = "int8 per-tensor, zero scale, finite",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 2,
     .dims = {2, 1517},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = -1,
     .tgt_params = 1,
     .zero_scale = 1,
     .kind = VALUES_FINITE},
    {.name = "int8 along an axis of one, float64 reference",
     .ref_dtype = SC_DTYPE_DOUBLE,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 3,
     .dims = {2, 1, 611},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = 1,
     .tgt_params = 3},
    {.name = "uint8 per-axis 1",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_UINT8,
     .rank = 4,
     .dims = {2, 5, 21, 13},
     .tgt_qdtype = SC_DTYPE_UINT8,
     .tgt_axis = 1,
     .tgt_params = 5},
    {.name = "int8 per-axis last, short",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 3, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = 3,
     .tgt_params = 6},
    {.name = "int8 both, same parameters",
     .ref_dtype = SC_DTYPE_INT8,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 4, 9, 9},
     .ref_qdtype = SC_DTYPE_INT8,
     .ref_axis = 1,
     .ref_params = 4,
     .same_quant = 1,
     .zero_scale = 1},
    {.name = "int8 reference per-axis 0, uint8 target",
     .ref_dtype = SC_DTYPE_INT8,
     .tgt_dtype = SC_DTYPE_UINT8,
     .rank = 4,
     .dims = {3, 4, 8, 11},
     .ref_qdtype = SC_DTYPE_INT8,
     .ref_axis = 0,
     .ref_params = 3,
     .tgt_qdtype = SC_DTYPE_UINT8,
     .tgt_axis = -1,
     .tgt_params = 1},
    {.name = "uint8 reference, float target",
     .ref_dtype = SC_DTYPE_UINT8,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {1, 6, 17, 19},
     .ref_qdtype = SC_DTYPE_UINT8,
     .ref_axis = 1,
     .ref_params = 6},
    {.name = "float with a quantized view",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_FLOAT,
     .rank = 4,
     .dims = {2, 5, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = 1,
     .tgt_params = 5},
    {.name = "int16 and uint16",
     .ref_dtype = SC_DTYPE_INT16,
     .tgt_dtype = SC_DTYPE_UINT16,
     .rank = 3,
     .dims = {4, 7, 29},
     .ref_qdtype = SC_DTYPE_INT16,
     .ref_axis = 2,
     .ref_params = 29,
     .tgt_qdtype = SC_DTYPE_UINT16,
     .tgt_axis = -1,
     .tgt_params = 1},
    {.name = "int32 and int64 (generic)",
     .ref_dtype = SC_DTYPE_INT32,
     .tgt_dtype = SC_DTYPE_INT64,
     .rank = 3,
     .dims = {4, 7, 29},
     .ref_qdtype = SC_DTYPE_INT32,
     .ref_axis = -1,
     .ref_params = 1,
     .tgt_qdtype = SC_DTYPE_INT32,
     .tgt_axis = 1,
     .tgt_params = 7},
    {.name = "uint32 (generic) per-tensor",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_UINT32,
     .rank = 2,
     .dims = {9, 300},
     .tgt_qdtype = SC_DTYPE_INT32,
     .tgt_axis = 0,
     .tgt_params = 1},
    {.name = "axis -1 with several parameters",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 3, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = -1,
     .tgt_params = 3},
    {.name = "axis past the rank",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 3, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = 5,
     .tgt_params = 3},
    {.name = "zero scale",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_INT8,
     .rank = 4,
     .dims = {2, 4, 7, 9},
     .tgt_qdtype = SC_DTYPE_INT8,
     .tgt_axis = 1,
     .tgt_params = 4,
     .zero_scale = 1},
    {.name = "bool target",
     .ref_dtype = SC_DTYPE_FLOAT,
     .tgt_dtype = SC_DTYPE_BOOL,
     .rank = 2,
     .dims = {5, 61}},
};

static void test_metrics_fast_paths_match_plain_definition(void **state)
{
  size_t k;
  (void)state;
  for (k = 0; k < sizeof fast_cases / sizeof fast_cases[0]; k++) {
    const struct fast_case *fc = &fast_cases[k];
    struct sc_tensor *ref, *tgt;
    struct sc_quant *rq = NULL, *tq = NULL;
    struct sc_metrics_options opt;
    struct sc_metrics got, want, *per;
    struct sc_error err;
    char what[160];
    int axis;
    int64_t c;

    assert_int_equal(
        sc_tensor_create(fc->ref_dtype, fc->rank, fc->dims, &ref, &err), SC_OK);
    assert_int_equal(
        sc_tensor_create(fc->tgt_dtype, fc->rank, fc->dims, &tgt, &err), SC_OK);
    if (fc->ref_params)
      rq = make_quant(fc->ref_qdtype, fc->ref_axis, fc->ref_params,
                      fc->zero_scale);
    if (fc->tgt_params)
      tq = make_quant(fc->tgt_qdtype, fc->tgt_axis, fc->tgt_params,
                      fc->zero_scale);
    memset(&opt, 0, sizeof opt);
    opt.reference_quant = rq;
    opt.target_quant = fc->same_quant ? rq : tq;
    opt.top1_axis = fc->rank > 1 ? 1 : 0;
    fill_pair(ref, rq, tgt, opt.target_quant, fc->kind);

    assert_int_equal(sc_metrics_compute(ref, tgt, &opt, &got, &err), SC_OK);
    plain_metrics(ref, tgt, &opt, -1, 0, &want);
    snprintf(what, sizeof what, "%s, whole tensor", fc->name);
    assert_metrics_identical(what, &got, &want);

    for (axis = 0; axis < fc->rank; axis++) {
      int64_t n = fc->dims[axis];
      per = calloc((size_t)(n ? n : 1), sizeof *per);
      assert_non_null(per);
      assert_int_equal(sc_metrics_per_channel(ref, tgt, &opt, axis, per, &err),
                       SC_OK);
      for (c = 0; c < n; c++) {
        plain_metrics(ref, tgt, &opt, axis, c, &want);
        snprintf(what, sizeof what, "%s, axis %d channel %lld", fc->name, axis,
                 (long long)c);
        assert_metrics_identical(what, &per[c], &want);
      }
      free(per);
    }
    sc_quant_free(rq);
    sc_quant_free(tq);
    sc_tensor_free(ref);
    sc_tensor_free(tgt);
  }
}

/* Every float16 and bfloat16 bit pattern is read as sc_dtype_load reads
 * it (the library converts them inline): one element at a time, against
 * a float32 value, every metric identical. */
static void test_metrics_every_16_bit_float_reads_as_dtype_load(void **state)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT16, SC_DTYPE_BFLOAT16};
  int64_t dims[1] = {1};
  struct sc_metrics_options opt;
  struct sc_metrics got, want;
  struct sc_error err;
  size_t k;
  uint32_t bits;
  (void)state;

  memset(&opt, 0, sizeof opt);
  opt.top1_axis = -1;
  for (k = 0; k < 2; k++) {
    struct sc_tensor *half, *other;
    assert_int_equal(sc_tensor_create(types[k], 1, dims, &half, &err), SC_OK);
    assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, dims, &other, &err),
                     SC_OK);
    *(float *)other->data = 0.75f;
    for (bits = 0; bits <= 0xffffu; bits++) {
      char what[64];
      *(uint16_t *)half->data = (uint16_t)bits;
      snprintf(what, sizeof what, "%s 0x%04x", sc_dtype_name(types[k]),
               (unsigned)bits);
      assert_int_equal(sc_metrics_compute(half, other, &opt, &got, &err),
                       SC_OK);
      plain_metrics(half, other, &opt, -1, 0, &want);
      assert_metrics_identical(what, &got, &want);
      assert_int_equal(sc_metrics_compute(other, half, &opt, &got, &err),
                       SC_OK);
      plain_metrics(other, half, &opt, -1, 0, &want);
      assert_metrics_identical(what, &got, &want);
    }
    sc_tensor_free(half);
    sc_tensor_free(other);
  }
}

/* --- Threads, instruction sets and awkward sizes --- */

/* A tensor pair of the tests below, with its quantization. */
struct big_case {
  const char *name;
  enum sc_dtype ref_dtype, tgt_dtype;
  int rank;
  int64_t dims[4];
  enum sc_dtype tgt_qdtype;
  int tgt_axis;
  int64_t tgt_params; /* 0: no quantization */
  enum values_kind kind;
};

struct made_pair {
  struct sc_tensor *ref, *tgt;
  struct sc_quant *tq;
  struct sc_metrics_options opt;
};

static void make_pair(const struct big_case *bc, struct made_pair *mp)
{
  struct sc_error err;
  assert_int_equal(
      sc_tensor_create(bc->ref_dtype, bc->rank, bc->dims, &mp->ref, &err),
      SC_OK);
  assert_int_equal(
      sc_tensor_create(bc->tgt_dtype, bc->rank, bc->dims, &mp->tgt, &err),
      SC_OK);
  mp->tq = bc->tgt_params
               ? make_quant(bc->tgt_qdtype, bc->tgt_axis, bc->tgt_params, 0)
               : NULL;
  memset(&mp->opt, 0, sizeof mp->opt);
  mp->opt.target_quant = mp->tq;
  mp->opt.top1_axis = bc->rank > 1 ? 1 : 0;
  fill_pair(mp->ref, NULL, mp->tgt, mp->tq, bc->kind);
}

static void free_pair(struct made_pair *mp)
{
  sc_quant_free(mp->tq);
  sc_tensor_free(mp->ref);
  sc_tensor_free(mp->tgt);
}

/* Tensors of several blocks, large enough for the work to be shared
 * (the library gives a thread 65536 elements at the least). */
static const struct big_case big_cases[] = {
    {"float32 vs float16, 5 channels of 55493",
     SC_DTYPE_FLOAT,
     SC_DTYPE_FLOAT16,
     4,
     {1, 5, 211, 263},
     0,
     0,
     0,
     VALUES_MIXED},
    {"float32 vs int8 per-axis",
     SC_DTYPE_FLOAT,
     SC_DTYPE_INT8,
     4,
     {1, 5, 211, 263},
     SC_DTYPE_INT8,
     1,
     5,
     VALUES_MIXED},
    {"float64 growing (max_rel recomputed)",
     SC_DTYPE_DOUBLE,
     SC_DTYPE_DOUBLE,
     3,
     {3, 7, 13001},
     0,
     0,
     0,
     VALUES_GROWING},
    {"uint8 per-tensor vs float32, 3 channels of stride 3",
     SC_DTYPE_FLOAT,
     SC_DTYPE_UINT8,
     2,
     {70001, 3},
     SC_DTYPE_UINT8,
     -1,
     1,
     VALUES_MIXED},
};

static const enum sc_metrics_path all_paths[] = {
    SC_METRICS_PATH_PORTABLE, SC_METRICS_PATH_AVX2, SC_METRICS_PATH_AVX512};
static const char *const path_names[] = {"portable", "AVX2", "AVX-512"};

/* Every combination of 1, 2 or 3 threads (and none) and each instruction
 * set this CPU has gives the bits of the documented order, for the whole
 * tensor (top-1 included) and per channel. */
static void test_metrics_same_bits_for_any_threads_and_path(void **state)
{
  struct sc_threadpool *pools[4] = {NULL, NULL, NULL, NULL};
  struct sc_error err;
  size_t k, path;
  int n_paths = 0, p;
  (void)state;

  for (p = 1; p <= 3; p++)
    assert_int_equal(sc_threadpool_create(p, &pools[p], &err), SC_OK);
  for (k = 0; k < sizeof big_cases / sizeof big_cases[0]; k++) {
    const struct big_case *bc = &big_cases[k];
    struct made_pair mp;
    struct sc_metrics want, got, *want_per, *got_per;
    int64_t n_channels = bc->dims[1], c;
    char what[200];

    make_pair(bc, &mp);
    want_per = calloc((size_t)n_channels, sizeof *want_per);
    got_per = calloc((size_t)n_channels, sizeof *got_per);
    assert_non_null(want_per);
    assert_non_null(got_per);
    plain_metrics(mp.ref, mp.tgt, &mp.opt, -1, 0, &want);
    for (c = 0; c < n_channels; c++)
      plain_metrics(mp.ref, mp.tgt, &mp.opt, 1, c, &want_per[c]);
    for (path = 0; path < sizeof all_paths / sizeof all_paths[0]; path++) {
      if (sc_metrics_force_path(all_paths[path]) != 0)
        continue; /* not on this CPU */
      n_paths += k == 0;
      for (p = 0; p <= 3; p++) {
        mp.opt.threads = pools[p];
        snprintf(what, sizeof what, "%s, %s, %d threads%s", bc->name,
                 path_names[path], p ? p : 1, p ? "" : " (no pool)");
        assert_int_equal(
            sc_metrics_compute(mp.ref, mp.tgt, &mp.opt, &got, &err), SC_OK);
        assert_metrics_identical(what, &got, &want);
        assert_int_equal(
            sc_metrics_per_channel(mp.ref, mp.tgt, &mp.opt, 1, got_per, &err),
            SC_OK);
        for (c = 0; c < n_channels; c++) {
          char channel[240];
          snprintf(channel, sizeof channel, "%s, channel %lld", what,
                   (long long)c);
          assert_metrics_identical(channel, &got_per[c], &want_per[c]);
        }
      }
    }
    sc_metrics_force_path(SC_METRICS_PATH_AUTO);
    free(want_per);
    free(got_per);
    free_pair(&mp);
  }
  print_message("instruction sets compared: %d\n", n_paths);
  assert_true(n_paths >= 1);
  for (p = 1; p <= 3; p++)
    sc_threadpool_free(pools[p]);
}

/* A path the CPU lacks is refused and changes nothing; AUTO and PORTABLE
 * are always there. */
static void test_metrics_force_path_refuses_unknown_path(void **state)
{
  (void)state;
  assert_int_equal(sc_metrics_force_path(SC_METRICS_PATH_PORTABLE), 0);
  assert_int_equal(sc_metrics_force_path((enum sc_metrics_path)99), -1);
  assert_int_equal(sc_metrics_force_path(SC_METRICS_PATH_AUTO), 0);
}

/* Each instruction set this CPU has computes exactly *want. */
static void assert_every_path_gives(const struct sc_tensor *ref,
                                    const struct sc_tensor *tgt,
                                    const struct sc_metrics_options *opt,
                                    const struct sc_metrics *want)
{
  struct sc_metrics got;
  struct sc_error err;
  size_t path;

  for (path = 0; path < sizeof all_paths / sizeof all_paths[0]; path++) {
    if (sc_metrics_force_path(all_paths[path]) != 0)
      continue;
    assert_int_equal(sc_metrics_compute(ref, tgt, opt, &got, &err), SC_OK);
    assert_metrics_identical(path_names[path], &got, want);
  }
  sc_metrics_force_path(SC_METRICS_PATH_AUTO);
}

/* max_rel skips a quotient only where it is proved no larger than the
 * largest so far: by |d| <= |r| * bound with a normal product (the plain
 * and careful loops), or by the sign of |r| * m - |d| rounded once (the
 * AVX-512 fast loop), where a negative difference that underflows is -0.
 * Here every value is subnormal (the floor 1e-12 * max|r| is 0, so all
 * pairs are of the first kind): element 0 gives 300/1000 = 0.3, and
 * element 512 (the same lane, the next chunk of 512) gives 1/3 with
 * |d| = 1 unit while its product 3 * 0.3 units rounds to 1 unit, and
 * 3 * 0.3 - 1 units, about -0.1 units, rounds to -0. Every path must
 * still find 1/3 (worked out by hand; the plain definition agrees). */
static void test_metrics_max_rel_with_subnormal_products(void **state)
{
  const double unit = 0x1p-1074; /* the smallest subnormal double */
  int64_t dims[1] = {1024};
  struct sc_tensor *ref, *tgt;
  struct sc_metrics_options opt;
  struct sc_metrics want;
  struct sc_error err;
  double *r, *t;
  (void)state;

  assert_int_equal(sc_tensor_create(SC_DTYPE_DOUBLE, 1, dims, &ref, &err),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_DOUBLE, 1, dims, &tgt, &err),
                   SC_OK);
  r = ref->data;
  t = tgt->data;
  r[0] = 1000 * unit;
  t[0] = 1300 * unit;
  r[512] = 3 * unit;
  t[512] = 4 * unit;
  memset(&opt, 0, sizeof opt);
  opt.top1_axis = -1;
  plain_metrics(ref, tgt, &opt, -1, 0, &want);
  assert_true(want.max_rel == 1.0 / 3.0);
  assert_every_path_gives(ref, tgt, &opt, &want);
  sc_tensor_free(ref);
  sc_tensor_free(tgt);
}

/* Quantizing the reference onto the target's grid rounds x / scale half
 * to even. These float32 values are exact ties (x / scale = 1.5 and
 * -13.5, correctly rounded) where x * (1 / scale) falls just short of
 * the tie and would round the other way (found by a numpy search: np.rint
 * of x / s against x * (1 / s)). Targets holding the correct integers (2,
 * and -14 + 3) must give an LSB error of 0 on every path, alone and with
 * other values around them. */
static void test_metrics_lsb_grid_rounds_ties_of_the_quotient(void **state)
{
  static const struct {
    enum sc_dtype dtype;
    float scale, x;
    int64_t zero_point, q;
  } ties[] = {
      {SC_DTYPE_UINT8, 0.012140471488237381f, 0.01821070723235607f, 0, 2},
      {SC_DTYPE_INT8, 0.17964696884155273f, -2.425234079360962f, 3, -11},
  };
  int64_t dims[1] = {64};
  size_t k;
  int64_t i;
  (void)state;

  for (k = 0; k < sizeof ties / sizeof ties[0]; k++) {
    struct sc_tensor *ref, *tgt;
    struct sc_quant *q = NULL;
    struct sc_metrics_options opt;
    struct sc_metrics want;
    struct sc_error err;
    float *r;

    assert_int_equal(sc_quant_create(ties[k].dtype, -1, 1, &q, NULL), SC_OK);
    q->scale[0] = ties[k].scale;
    q->zero_point[0] = ties[k].zero_point;
    assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, dims, &ref, &err),
                     SC_OK);
    assert_int_equal(sc_tensor_create(ties[k].dtype, 1, dims, &tgt, &err),
                     SC_OK);
    r = ref->data;
    for (i = 0; i < dims[0]; i++) {
      /* every third element the tie, the others on the grid */
      int64_t v = i % 3 ? ties[k].q + i % 5 - 2 : ties[k].q;
      r[i] = i % 3 ? (float)((double)(v - ties[k].zero_point) * ties[k].scale)
                   : ties[k].x;
      if (ties[k].dtype == SC_DTYPE_UINT8)
        ((uint8_t *)tgt->data)[i] = (uint8_t)v;
      else
        ((int8_t *)tgt->data)[i] = (int8_t)v;
    }
    memset(&opt, 0, sizeof opt);
    opt.target_quant = q;
    opt.top1_axis = -1;
    plain_metrics(ref, tgt, &opt, -1, 0, &want);
    assert_true(want.has_lsb);
    assert_true(want.max_abs_lsb == 0.0);
    assert_every_path_gives(ref, tgt, &opt, &want);
    sc_quant_free(q);
    sc_tensor_free(ref);
    sc_tensor_free(tgt);
  }
}

/* A zero scale: a nonzero reference quantizes to +-infinity, clamped to
 * qmin or qmax; a zero one to 0 / 0, NaN, whose LSB error counts for
 * nothing. Element 0 is 1.0 against a target at qmin (-128): its error
 * is |127 - (-128)| = 255, the only one defined; every other reference is
 * 0 (NaN), so the maximum must survive the NaNs that follow it in its
 * lane. All 64 targets sit at qmin: saturation 1 (worked out by hand; the
 * plain definition agrees). */
static void
test_metrics_lsb_zero_scale_nan_errors_count_for_nothing(void **state)
{
  int64_t dims[1] = {64};
  struct sc_tensor *ref, *tgt;
  struct sc_quant *q = NULL;
  struct sc_metrics_options opt;
  struct sc_metrics want;
  struct sc_error err;
  int64_t i;
  (void)state;

  assert_int_equal(sc_quant_create(SC_DTYPE_INT8, -1, 1, &q, NULL), SC_OK);
  q->scale[0] = 0.0f;
  q->zero_point[0] = 0;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, dims, &ref, &err),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT8, 1, dims, &tgt, &err), SC_OK);
  for (i = 0; i < dims[0]; i++) {
    ((float *)ref->data)[i] = i == 0 ? 1.0f : 0.0f;
    ((int8_t *)tgt->data)[i] = -128;
  }
  memset(&opt, 0, sizeof opt);
  opt.target_quant = q;
  opt.top1_axis = -1;
  plain_metrics(ref, tgt, &opt, -1, 0, &want);
  assert_true(want.has_lsb);
  assert_true(want.max_abs_lsb == 255.0);
  assert_true(want.saturation == 1.0);
  assert_every_path_gives(ref, tgt, &opt, &want);
  sc_quant_free(q);
  sc_tensor_free(ref);
  sc_tensor_free(tgt);
}

/* got within rtol of the naive sums for the metrics made of sums; counts,
 * maxima and ratios of counts exactly. */
static void assert_metrics_close(const char *what, const struct sc_metrics *got,
                                 const struct sc_metrics *want, double rtol)
{
#define CLOSE(f)                                                               \
  if (!(got->f == want->f ||                                                   \
        fabs(got->f - want->f) <= rtol * fabs(want->f) + 1e-300))              \
    fail_msg("%s: " #f " is %.17g, the naive sums give %.17g (rtol %g)", what, \
             got->f, want->f, rtol);
#define EXACT_DOUBLE(f)                                                        \
  if (memcmp(&got->f, &want->f, sizeof got->f) != 0)                           \
    fail_msg("%s: " #f " is %.17g, the naive definition gives %.17g", what,    \
             got->f, want->f);
#define EXACT_INT(f)                                                           \
  if (got->f != want->f)                                                       \
    fail_msg("%s: " #f " is %lld, the naive definition gives %lld", what,      \
             (long long)got->f, (long long)want->f);
  CLOSE(cosine)
  CLOSE(mean_abs)
  CLOSE(rmse)
  CLOSE(rel_l2)
  /* sqnr_db = 10 log10(ratio): a relative error e of the ratio moves it by
   * 4.35 e dB */
  if (!(got->sqnr_db == want->sqnr_db ||
        fabs(got->sqnr_db - want->sqnr_db) <= 5 * rtol))
    fail_msg("%s: sqnr_db is %.17g, the naive sums give %.17g", what,
             got->sqnr_db, want->sqnr_db);
  EXACT_INT(n_elements)
  EXACT_DOUBLE(max_abs)
  EXACT_DOUBLE(max_rel)
  EXACT_DOUBLE(exact_ratio)
  EXACT_INT(nan_ref)
  EXACT_INT(nan_tgt)
  EXACT_INT(inf_ref)
  EXACT_INT(inf_tgt)
  EXACT_INT(has_lsb)
  EXACT_DOUBLE(max_abs_lsb)
  EXACT_DOUBLE(saturation)
  EXACT_INT(has_top1)
  EXACT_DOUBLE(top1_agree)
#undef CLOSE
#undef EXACT_DOUBLE
#undef EXACT_INT
}

/* Sizes around the block and lane boundaries, per-channel accumulations
 * of odd channel counts whose channels straddle blocks, non-finite
 * values, float16 and quantized targets: within 1e-12 of the naive sums
 * of one running double, and exact where no sum is involved. */
static void test_metrics_awkward_sizes_match_naive_sums(void **state)
{
  const int64_t B = SC_METRICS_BLOCK_SIZE;
  const int64_t sizes[] = {0,     1,         7,         8,        9,
                           511,   513,       B - 1,     B,        B + 1,
                           2 * B, 2 * B + 1, 3 * B - 1, 4 * B + 7};
  /* per-channel shapes (axis 1) */
  const int64_t shapes[][3] = {
      {2, 3, B + 1}, {1, 7, 4681}, {3, 5, 1}, {1, 1, B - 1}, {5, 3, 2731}};
  struct {
    const char *name;
    enum sc_dtype tgt_dtype, qdtype;
    int64_t params; /* along axis 1 when several */
  } kinds[] = {
      {"float32", SC_DTYPE_FLOAT, 0, 0},
      {"float16", SC_DTYPE_FLOAT16, 0, 0},
      {"int8 per-tensor", SC_DTYPE_INT8, SC_DTYPE_INT8, 1},
      {"uint8 per-axis", SC_DTYPE_UINT8, SC_DTYPE_UINT8, 3},
  };
  struct sc_threadpool *pool;
  struct sc_error err;
  size_t s, k;
  (void)state;

  assert_int_equal(sc_threadpool_create(2, &pool, &err), SC_OK);
  for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    for (s = 0;
         s < sizeof sizes / sizeof sizes[0] + sizeof shapes / sizeof shapes[0];
         s++) {
      struct big_case bc;
      struct made_pair mp;
      struct sc_metrics got, want, *per;
      char what[200];
      int64_t c;
      int rank1 = s < sizeof sizes / sizeof sizes[0];

      memset(&bc, 0, sizeof bc);
      bc.ref_dtype = SC_DTYPE_FLOAT;
      bc.tgt_dtype = kinds[k].tgt_dtype;
      if (rank1) {
        bc.rank = 1;
        bc.dims[0] = sizes[s];
      } else {
        bc.rank = 3;
        memcpy(bc.dims, shapes[s - sizeof sizes / sizeof sizes[0]],
               3 * sizeof bc.dims[0]);
      }
      bc.tgt_qdtype = kinds[k].qdtype;
      bc.tgt_params = kinds[k].params;
      bc.tgt_axis = kinds[k].params > 1 && !rank1 ? 1 : -1;
      if (bc.tgt_axis < 0 && bc.tgt_params > 1)
        bc.tgt_params = 1;
      bc.kind = VALUES_MIXED;
      make_pair(&bc, &mp);
      mp.opt.threads = pool;

      snprintf(what, sizeof what, "%s, %lld elements (rank %d)", kinds[k].name,
               (long long)mp.ref->n_elements, bc.rank);
      assert_int_equal(sc_metrics_compute(mp.ref, mp.tgt, &mp.opt, &got, &err),
                       SC_OK);
      plain_metrics_in(mp.ref, mp.tgt, &mp.opt, -1, 0, 0, &want);
      assert_metrics_close(what, &got, &want, 1e-12);
      if (!rank1) {
        per = calloc((size_t)bc.dims[1], sizeof *per);
        assert_non_null(per);
        assert_int_equal(
            sc_metrics_per_channel(mp.ref, mp.tgt, &mp.opt, 1, per, &err),
            SC_OK);
        for (c = 0; c < bc.dims[1]; c++) {
          char channel[240];
          snprintf(channel, sizeof channel, "%s, channel %lld", what,
                   (long long)c);
          plain_metrics_in(mp.ref, mp.tgt, &mp.opt, 1, c, 0, &want);
          assert_metrics_close(channel, &per[c], &want, 1e-12);
        }
        free(per);
      }
      free_pair(&mp);
    }
  }
  sc_threadpool_free(pool);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metrics_match_numpy_oracle),
      cmocka_unit_test(test_metrics_shape_mismatch_is_an_error),
      cmocka_unit_test(test_metric_names_and_bounds),
      cmocka_unit_test(test_metrics_fast_paths_match_plain_definition),
      cmocka_unit_test(test_metrics_every_16_bit_float_reads_as_dtype_load),
      cmocka_unit_test(test_metrics_same_bits_for_any_threads_and_path),
      cmocka_unit_test(test_metrics_force_path_refuses_unknown_path),
      cmocka_unit_test(test_metrics_max_rel_with_subnormal_products),
      cmocka_unit_test(test_metrics_lsb_grid_rounds_ties_of_the_quotient),
      cmocka_unit_test(
          test_metrics_lsb_zero_scale_nan_errors_count_for_nothing),
      cmocka_unit_test(test_metrics_awkward_sizes_match_naive_sums),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
