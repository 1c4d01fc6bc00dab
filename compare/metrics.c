#include "compare/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/quant.h"

/* How one side's elements are read: as plain numbers, or dequantized. */
struct side {
  const struct sc_tensor *t;
  const struct sc_quant *quant; /* applies when t is an integer tensor */
  int dequantize;
  int64_t inner; /* elements per step of the quant axis */
  int64_t axis_dim;
};

static void side_init(struct side *s, const struct sc_tensor *t,
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

static int64_t param_index(const struct side *s, int64_t i)
{
  if (!s->quant || s->quant->axis < 0 || s->quant->n_params <= 1)
    return 0;
  return (i / s->inner) % s->axis_dim;
}

static double side_value(const struct side *s, int64_t i)
{
  double v = sc_dtype_load(s->t->dtype, s->t->data, i);
  if (s->dequantize) {
    int64_t c = param_index(s, i);
    if (c >= s->quant->n_params)
      c = s->quant->n_params - 1;
    return (v - (double)s->quant->zero_point[c]) * (double)s->quant->scale[c];
  }
  return v;
}

/* The integer range of a quantized dtype as doubles (int32's when the
 * annotation's dtype is not one sc_quant_range knows). */
static void quant_range(enum sc_dtype d, double *lo, double *hi)
{
  int32_t qmin = INT32_MIN, qmax = INT32_MAX;
  sc_quant_range(d, &qmin, &qmax);
  *lo = qmin;
  *hi = qmax;
}

/* The value of element i on the quantization grid `grid` (from `grid_side`
 * for per-axis parameters): the raw integer when this side is that integer
 * tensor, else round-half-even(x / scale) + zero_point, saturated. */
static double on_grid(const struct side *s, const struct side *grid_side,
                      int64_t i, double x)
{
  const struct sc_quant *q = grid_side->quant;
  int64_t c = param_index(grid_side, i);
  double lo, hi, v;
  if (s->dequantize && s->quant == q)
    return sc_dtype_load(s->t->dtype, s->t->data, i);
  if (c >= q->n_params)
    c = q->n_params - 1;
  v = nearbyint(x / (double)q->scale[c]) + (double)q->zero_point[c];
  quant_range(q->dtype, &lo, &hi);
  return v < lo ? lo : v > hi ? hi : v;
}

static int readable(const struct sc_tensor *t)
{
  return sc_dtype_size(t->dtype) > 0 && t->dtype != SC_DTYPE_STRING;
}

/* Shared by the whole-tensor and per-channel entry points: accumulates
 * over the elements i where select(i) holds (all when axis < 0). */
static void accumulate(const struct side *r, const struct side *t,
                       const struct side *grid, int axis, int64_t inner,
                       int64_t axis_dim, int64_t channel, struct sc_metrics *m)
{
  double dot = 0, nr2 = 0, nt2 = 0, nd2 = 0, sum_abs = 0, max_abs = 0;
  double max_ref = 0, max_lsb = 0, lo = 0, hi = 0;
  int64_t i, n = 0, exact = 0, saturated = 0, n_grid = 0;
  int64_t total = r->t->n_elements;

  memset(m, 0, sizeof *m);
  if (grid)
    quant_range(grid->quant->dtype, &lo, &hi);
  for (i = 0; i < total; i++) {
    double a, b, d;
    if (axis >= 0 && (i / inner) % axis_dim != channel)
      continue;
    a = side_value(r, i);
    b = side_value(t, i);
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
      double qa = on_grid(r, grid, i, a), qb = on_grid(t, grid, i, b);
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
  if (m->cosine > 1.0) /* rounding can push it a hair past 1 */
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

  /* max_rel needs max|r| first: a second pass */
  {
    double floor_ref = 1e-12 * max_ref, max_rel = 0;
    for (i = 0; i < total; i++) {
      double a, b, denom, rel;
      if (axis >= 0 && (i / inner) % axis_dim != channel)
        continue;
      a = side_value(r, i);
      b = side_value(t, i);
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

/* Share of positions (all axes but `axis`) whose argmax along axis agree. */
static double top1_agreement(const struct side *r, const struct side *t,
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
        double a = side_value(r, i), b = side_value(t, i);
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

static sc_status check_pair(const struct sc_tensor *reference,
                            const struct sc_tensor *target,
                            struct sc_error *err)
{
  char sa[160], sb[160];
  if (!readable(reference) || !readable(target))
    return sc_fail(err, SC_ERR_CONFIG, "cannot compare %s with %s",
                   sc_dtype_name(reference->dtype),
                   sc_dtype_name(target->dtype));
  if (!sc_tensor_same_shape(reference, target))
    return sc_fail(
        err, SC_ERR_CONFIG, "shapes differ: %s vs %s",
        sc_shape_format(reference->rank, reference->dims, sa, sizeof sa),
        sc_shape_format(target->rank, target->dims, sb, sizeof sb));
  return SC_OK;
}

/* The side whose quantization defines the LSB grid, or NULL. */
static const struct side *grid_side(const struct side *r, const struct side *t)
{
  if (t->quant && t->quant->n_params > 0)
    return t;
  if (r->quant && r->quant->n_params > 0)
    return r;
  return NULL;
}

sc_status sc_metrics_compute(const struct sc_tensor *reference,
                             const struct sc_tensor *target,
                             const struct sc_metrics_options *options,
                             struct sc_metrics *out, struct sc_error *err)
{
  struct side r, t;
  sc_status st = check_pair(reference, target, err);

  if (st)
    return st;
  side_init(&r, reference, options ? options->reference_quant : NULL);
  side_init(&t, target, options ? options->target_quant : NULL);
  accumulate(&r, &t, grid_side(&r, &t), -1, 1, 1, 0, out);
  if (options && options->top1_axis >= 0 &&
      options->top1_axis < reference->rank) {
    out->has_top1 = 1;
    out->top1_agree = top1_agreement(&r, &t, options->top1_axis);
  }
  return SC_OK;
}

sc_status sc_metrics_per_channel(const struct sc_tensor *reference,
                                 const struct sc_tensor *target,
                                 const struct sc_metrics_options *options,
                                 int axis, struct sc_metrics *out,
                                 struct sc_error *err)
{
  struct side r, t;
  int64_t inner = 1, c;
  int k;
  sc_status st = check_pair(reference, target, err);

  if (st)
    return st;
  if (axis < 0 || axis >= reference->rank)
    return sc_fail(err, SC_ERR_CONFIG, "channel axis %d out of range", axis);
  side_init(&r, reference, options ? options->reference_quant : NULL);
  side_init(&t, target, options ? options->target_quant : NULL);
  for (k = axis + 1; k < reference->rank; k++)
    inner *= reference->dims[k];
  for (c = 0; c < reference->dims[axis]; c++)
    accumulate(&r, &t, grid_side(&r, &t), axis, inner, reference->dims[axis], c,
               &out[c]);
  return SC_OK;
}

static const struct {
  const char *name;
  int lower_bound;
} metric_table[SC_N_METRICS] = {
    [SC_METRIC_COSINE] = {"cosine", 1},
    [SC_METRIC_MAX_ABS] = {"max_abs", 0},
    [SC_METRIC_MEAN_ABS] = {"mean_abs", 0},
    [SC_METRIC_RMSE] = {"rmse", 0},
    [SC_METRIC_SQNR_DB] = {"sqnr_db", 1},
    [SC_METRIC_REL_L2] = {"rel_l2", 0},
    [SC_METRIC_MAX_REL] = {"max_rel", 0},
    [SC_METRIC_MAX_ABS_LSB] = {"max_abs_lsb", 0},
    [SC_METRIC_EXACT_RATIO] = {"exact_ratio", 1},
    [SC_METRIC_SATURATION] = {"saturation", 0},
    [SC_METRIC_TOP1_AGREE] = {"top1_agree", 1},
};

const char *sc_metric_name(enum sc_metric_id id)
{
  return (unsigned)id < SC_N_METRICS ? metric_table[id].name : "unknown";
}

int sc_metric_from_name(const char *name, enum sc_metric_id *out)
{
  int i;
  for (i = 0; i < SC_N_METRICS; i++)
    if (strcmp(metric_table[i].name, name) == 0) {
      *out = (enum sc_metric_id)i;
      return 0;
    }
  return -1;
}

int sc_metric_is_lower_bound(enum sc_metric_id id)
{
  return (unsigned)id < SC_N_METRICS && metric_table[id].lower_bound;
}

double sc_metric_value(const struct sc_metrics *m, enum sc_metric_id id)
{
  switch (id) {
  case SC_METRIC_COSINE:
    return m->cosine;
  case SC_METRIC_MAX_ABS:
    return m->max_abs;
  case SC_METRIC_MEAN_ABS:
    return m->mean_abs;
  case SC_METRIC_RMSE:
    return m->rmse;
  case SC_METRIC_SQNR_DB:
    return m->sqnr_db;
  case SC_METRIC_REL_L2:
    return m->rel_l2;
  case SC_METRIC_MAX_REL:
    return m->max_rel;
  case SC_METRIC_MAX_ABS_LSB:
    return m->has_lsb ? m->max_abs_lsb : NAN;
  case SC_METRIC_EXACT_RATIO:
    return m->exact_ratio;
  case SC_METRIC_SATURATION:
    return m->has_lsb ? m->saturation : NAN;
  case SC_METRIC_TOP1_AGREE:
    return m->has_top1 ? m->top1_agree : NAN;
  default:
    return NAN;
  }
}

int sc_metric_worse(enum sc_metric_id id, double a, double b)
{
  if (isnan(a) || isnan(b))
    return 0;
  return sc_metric_is_lower_bound(id) ? a < b : a > b;
}

void sc_metrics_keep_worst(struct sc_metrics *into, const struct sc_metrics *m)
{
#define MAX_OF(f)                                                              \
  if (m->f > into->f)                                                          \
    into->f = m->f;
#define MIN_OF(f)                                                              \
  if (m->f < into->f)                                                          \
    into->f = m->f;
  MIN_OF(cosine)
  MAX_OF(max_abs)
  MAX_OF(mean_abs)
  MAX_OF(rmse)
  MIN_OF(sqnr_db)
  MAX_OF(rel_l2)
  MAX_OF(max_rel)
  MIN_OF(exact_ratio)
  MAX_OF(nan_ref)
  MAX_OF(nan_tgt)
  MAX_OF(inf_ref)
  MAX_OF(inf_tgt)
  MAX_OF(max_abs_lsb)
  MAX_OF(saturation)
  MIN_OF(top1_agree)
  MAX_OF(n_elements)
#undef MAX_OF
#undef MIN_OF
  into->has_lsb |= m->has_lsb;
  into->has_top1 |= m->has_top1;
}
