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

/* --- The fast paths against the plain element-by-element definition ---
 *
 * plain_* below is sc_metrics_compute / sc_metrics_per_channel as first
 * written: one element at a time through sc_dtype_load, the per-axis
 * parameter from a division per element, each channel by a scan of the
 * whole tensor. The library reads runs of elements with loops
 * specialised for the dtype; its results must be bit for bit the same. */

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

static void plain_accumulate(const struct plain_side *r,
                             const struct plain_side *t,
                             const struct plain_side *grid, int axis,
                             int64_t inner, int64_t axis_dim, int64_t channel,
                             struct sc_metrics *m)
{
  double dot = 0, nr2 = 0, nt2 = 0, nd2 = 0, sum_abs = 0, max_abs = 0;
  double max_ref = 0, max_lsb = 0, lo = 0, hi = 0;
  int64_t i, n = 0, exact = 0, saturated = 0, n_grid = 0;
  int64_t total = r->t->n_elements;

  memset(m, 0, sizeof *m);
  if (grid)
    plain_quant_range(grid->quant->dtype, &lo, &hi);
  for (i = 0; i < total; i++) {
    double a, b, d;
    if (axis >= 0 && (i / inner) % axis_dim != channel)
      continue;
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
    dot += a * b;
    nr2 += a * a;
    nt2 += b * b;
    nd2 += d * d;
    sum_abs += fabs(d);
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

/* axis < 0: the whole tensor (with top-1 when options ask for it) */
static void plain_metrics(const struct sc_tensor *reference,
                          const struct sc_tensor *target,
                          const struct sc_metrics_options *options, int axis,
                          int64_t channel, struct sc_metrics *out)
{
  struct plain_side r, t;
  int64_t inner = 1;
  int k;

  plain_side_init(&r, reference, options->reference_quant);
  plain_side_init(&t, target, options->target_quant);
  if (axis < 0) {
    plain_accumulate(&r, &t, plain_grid(&r, &t), -1, 1, 1, 0, out);
    if (options->top1_axis >= 0 && options->top1_axis < reference->rank) {
      out->has_top1 = 1;
      out->top1_agree = plain_top1(&r, &t, options->top1_axis);
    }
    return;
  }
  for (k = axis + 1; k < reference->rank; k++)
    inner *= reference->dims[k];
  plain_accumulate(&r, &t, plain_grid(&r, &t), axis, inner,
                   reference->dims[axis], channel, out);
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

/* xorshift64: the same data on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static double uniform(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

/* How a test tensor's values are drawn. */
enum values_kind {
  VALUES_MIXED,   /* zeros, tiny values, NaN, infinities, normal values */
  VALUES_GROWING, /* magnitudes growing along the tensor, tiny ones early */
  VALUES_HUGE     /* up to 1.6e308: squares and differences overflow */
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
    return NAN;
  if (u < 0.23)
    return uniform() < 0.5 ? INFINITY : -INFINITY;
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
      t = draw_value(VALUES_MIXED, i, n); /* NaN and Inf of its own */
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
  struct sc_quant *q = calloc(1, sizeof *q);
  int64_t c;
  assert_non_null(q);
  q->dtype = dtype;
  q->axis = axis;
  q->n_params = n_params;
  q->scale = calloc((size_t)n_params, sizeof *q->scale);
  q->zero_point = calloc((size_t)n_params, sizeof *q->zero_point);
  assert_non_null(q->scale);
  assert_non_null(q->zero_point);
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
    quant_free(rq);
    quant_free(tq);
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

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_metrics_match_numpy_oracle),
      cmocka_unit_test(test_metrics_shape_mismatch_is_an_error),
      cmocka_unit_test(test_metric_names_and_bounds),
      cmocka_unit_test(test_metrics_fast_paths_match_plain_definition),
      cmocka_unit_test(test_metrics_every_16_bit_float_reads_as_dtype_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
