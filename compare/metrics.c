#include "compare/metrics.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/quant.h"

/* Elements are read in runs: index ranges, at most RUN_SIZE long, over
 * which each side's quantization parameter stays the same. A loop
 * specialised for the dtype converts a run into doubles (no call and no
 * division per element) and the run is then accumulated in index order, so
 * that every sum sees the same double operations in the same order as an
 * element-by-element loop over the tensor. */
#define RUN_SIZE 256
/* max_rel takes 4 elements at a time (sums_add_max_rel) */
#define LANES 4

/* How one side's elements are read: as plain numbers, or dequantized. */
struct side {
  const struct sc_tensor *t;
  const struct sc_quant *quant; /* applies when t is an integer tensor */
  int dequantize;
  int per_axis;  /* the parameter index changes along the tensor */
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
  s->per_axis = q && q->axis >= 0 && q->n_params > 1 && s->axis_dim > 1;
}

/* The index of element i's quantization parameter (not yet clamped to
 * n_params), and in *run_end the first index where it may change. */
static int64_t param_index(const struct side *s, int64_t i, int64_t *run_end)
{
  int64_t step;
  if (!s->per_axis) {
    *run_end = INT64_MAX;
    return 0;
  }
  step = i / s->inner;
  *run_end = (step + 1) * s->inner;
  return step % s->axis_dim;
}

/* Parameters past the end of a short list repeat the last one. */
static int64_t clamp_param(const struct sc_quant *q, int64_t c)
{
  return c >= q->n_params ? q->n_params - 1 : c;
}

/* sc_half_to_float, here so that the loop over a run inlines it. */
static float half_to_float(uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  uint32_t bits;
  float f;

  if (exponent == 0x1f) { /* inf or NaN */
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent == 0) {
    if (mantissa != 0) { /* subnormal: value = mantissa * 2^-24 */
      f = (float)mantissa * 5.9604644775390625e-8f;
      return sign ? -f : f;
    }
    bits = sign;
  } else {
    bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
  }
  memcpy(&f, &bits, sizeof f);
  return f;
}

static float bfloat16_to_float(uint16_t b)
{
  uint32_t bits = (uint32_t)b << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Integer elements, as double, dequantized or not. */
#define LOAD_INTEGERS(type)                                                    \
  do {                                                                         \
    const type *x = (const type *)s->t->data + i;                              \
    if (dequantize)                                                            \
      for (k = 0; k < n; k++)                                                  \
        out[k] = ((double)x[k] - zero_point) * scale;                          \
    else                                                                       \
      for (k = 0; k < n; k++)                                                  \
        out[k] = (double)x[k];                                                 \
  } while (0)

/* out[k] = element i + k of s for k < n, as sc_dtype_load reads it, then
 * (v - zero_point) * scale with parameter c when `dequantize`. */
static void side_load(const struct side *s, int64_t i, int64_t n, int64_t c,
                      int dequantize, double *out)
{
  double zero_point = 0.0, scale = 1.0;
  int64_t k;

  if (dequantize) {
    c = clamp_param(s->quant, c);
    zero_point = (double)s->quant->zero_point[c];
    scale = (double)s->quant->scale[c];
  }
  switch (s->t->dtype) {
  case SC_DTYPE_FLOAT: { /* floats are never dequantized */
    const float *x = (const float *)s->t->data + i;
    for (k = 0; k < n; k++)
      out[k] = x[k];
    return;
  }
  case SC_DTYPE_DOUBLE:
    memcpy(out, (const double *)s->t->data + i, (size_t)n * sizeof *out);
    return;
  case SC_DTYPE_FLOAT16: {
    const uint16_t *x = (const uint16_t *)s->t->data + i;
    for (k = 0; k < n; k++)
      out[k] = half_to_float(x[k]);
    return;
  }
  case SC_DTYPE_BFLOAT16: {
    const uint16_t *x = (const uint16_t *)s->t->data + i;
    for (k = 0; k < n; k++)
      out[k] = bfloat16_to_float(x[k]);
    return;
  }
  case SC_DTYPE_INT8:
    LOAD_INTEGERS(int8_t);
    return;
  case SC_DTYPE_UINT8:
  case SC_DTYPE_BOOL: /* never dequantized: not an integer type */
    LOAD_INTEGERS(uint8_t);
    return;
  case SC_DTYPE_INT16:
    LOAD_INTEGERS(int16_t);
    return;
  case SC_DTYPE_UINT16:
    LOAD_INTEGERS(uint16_t);
    return;
  case SC_DTYPE_INT32:
    LOAD_INTEGERS(int32_t);
    return;
  default: /* the generic path */
    for (k = 0; k < n; k++)
      out[k] = sc_dtype_load(s->t->dtype, s->t->data, i + k);
    if (dequantize)
      for (k = 0; k < n; k++)
        out[k] = (out[k] - zero_point) * scale;
    return;
  }
}

#undef LOAD_INTEGERS

/* One run of both sides: elements [begin, begin + n) as doubles, and the
 * index of each side's quantization parameter over the run. */
struct run {
  int64_t begin, n;
  int64_t param_r, param_t;
  double r[RUN_SIZE], t[RUN_SIZE];
};

/* Loads the run starting at `begin` and ending at `end` at the latest. */
static void run_load(const struct side *r, const struct side *t, int64_t begin,
                     int64_t end, struct run *run)
{
  int64_t end_r, end_t, k;
  int64_t stop = end - begin > RUN_SIZE ? begin + RUN_SIZE : end;

  run->param_r = param_index(r, begin, &end_r);
  run->param_t = param_index(t, begin, &end_t);
  if (end_r < stop)
    stop = end_r;
  if (end_t < stop)
    stop = end_t;
  run->begin = begin;
  run->n = stop - begin;
  side_load(r, begin, run->n, run->param_r, r->dequantize, run->r);
  side_load(t, begin, run->n, run->param_t, t->dequantize, run->t);
  for (k = run->n; k % LANES; k++)
    run->r[k] = run->t[k] = 0.0;
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

/* nearbyint() in the default rounding mode (half to even) without the
 * library call: adding and subtracting 2^52 rounds a magnitude below 2^52
 * to an integer; larger magnitudes are integers already and infinities and
 * NaN are returned as they are, as nearbyint does. */
static double round_half_even(double x)
{
  const double two_52 = 4503599627370496.0;
  double m = fabs(x);
  if (!(m < two_52))
    return x;
  return copysign((m + two_52) - two_52, x);
}

/* The quantization grid of LSB errors: the target's, else the
 * reference's. A side whose integers are on that grid is read raw; the
 * other is quantized: round-half-even(x / scale) + zero_point, saturated. */
struct grid {
  const struct side *side; /* whose parameters define it */
  double lo, hi;
  int raw_r, raw_t;
};

/* Whether *g is defined: set from the side whose quantization applies. */
static int grid_init(struct grid *g, const struct side *r, const struct side *t)
{
  if (t->quant && t->quant->n_params > 0)
    g->side = t;
  else if (r->quant && r->quant->n_params > 0)
    g->side = r;
  else
    return 0;
  quant_range(g->side->quant->dtype, &g->lo, &g->hi);
  g->raw_r = r->dequantize && r->quant == g->side->quant;
  g->raw_t = t->dequantize && t->quant == g->side->quant;
  return 1;
}

/* The loops over a run stay functions of their own: inlined into their
 * caller, they lose their accumulators to the stack (the register
 * allocation of the caller's loops), and each spilled running maximum
 * costs a store-to-load round trip per element. */
#define NOINLINE __attribute__((noinline))

/* Running sums of one accumulation (the whole tensor, or one channel).
 *
 * max_rel = max |d| / max(|r|, floor) with floor = 1e-12 * max|r| needs
 * max|r| before it can start. Elements with |r| > floor contribute
 * |d| / |r| whatever the floor is, the others |d| / floor. Each run is
 * classified against the floor of max|r| so far (never above the final
 * one), which puts every element of the second kind in the right class;
 * the elements taken for the first kind are confirmed when the smallest
 * such |r| ends up above the final floor. Otherwise (rarely: tiny values
 * before larger ones) a second pass recomputes max_rel the plain way.
 * Either way max_rel is the maximum of the same correctly rounded
 * quotients (division by the floor is monotonic, so the largest |d| gives
 * the largest quotient of the second kind). */
struct sums {
  double dot, nr2, nt2, nd2, sum_abs, max_abs, max_ref;
  int64_t n, exact, nan_ref, nan_tgt, inf_ref, inf_tgt;
  double max_quotient;     /* max |d| / |r| over the first kind */
  double min_quotient_ref; /* min |r| over the first kind with r != t */
  double max_small_diff;   /* max |d| over the second kind */
  int64_t n_small;         /* elements of the second kind with r != t */
  double max_lsb;
  int64_t saturated;
};

static void sums_init(struct sums *s)
{
  memset(s, 0, sizeof *s);
  s->min_quotient_ref = INFINITY;
}

/* Adds a run: the non-finite counts of every element, the sums of the
 * finite pairs, in index order. */
NOINLINE static void sums_add(struct sums *s, const double *ra,
                              const double *ta, int64_t n)
{
  double dot = s->dot, nr2 = s->nr2, nt2 = s->nt2, nd2 = s->nd2;
  double sum_abs = s->sum_abs, max_abs = s->max_abs, max_ref = s->max_ref;
  int64_t k, count = 0, exact = 0;

  for (k = 0; k < n; k++) {
    double a = ra[k], b = ta[k], d;
    if (!isfinite(a) || !isfinite(b)) {
      if (isnan(a))
        s->nan_ref++;
      else if (isinf(a))
        s->inf_ref++;
      if (isnan(b))
        s->nan_tgt++;
      else if (isinf(b))
        s->inf_tgt++;
      continue;
    }
    count++;
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
    exact += a == b;
  }
  s->dot = dot;
  s->nr2 = nr2;
  s->nt2 = nt2;
  s->nd2 = nd2;
  s->sum_abs = sum_abs;
  s->max_abs = max_abs;
  s->max_ref = max_ref;
  s->n += count;
  s->exact += exact;
}

/* max_rel's terms are maxima, a minimum and a count, which do not depend
 * on the order of the elements: they are taken over lanes of 4 elements
 * at a time (GCC/Clang vector extensions; AVX2 where the CPU has it, SSE2
 * pairs otherwise) and combined at the end of the run. Classes are chosen
 * with lane masks, not branches, as they are unpredictable (zeros, equal
 * pairs). The vector types are typedefs although STYLE.md keeps typedefs
 * for function pointers: a vector extension type can only be named that
 * way. */
typedef double lanes_f64 __attribute__((vector_size(32), aligned(8)));
typedef int64_t lanes_mask __attribute__((vector_size(32), aligned(8)));

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define LANES_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef LANES_CLONES
#define LANES_CLONES
#endif

/* x where m is true, else y; |x| (macros: a function taking 32-byte
 * vectors by value has a different ABI with and without AVX) */
#define LANES_SELECT(m, x, y)                                                  \
  ((lanes_f64)(((lanes_mask)(x) & (m)) | ((lanes_mask)(y) & ~(m))))
#define LANES_ABS(x) ((lanes_f64)(magnitude & (lanes_mask)(x)))

/* Adds a run's terms of max_rel (after sums_add, for max|r| so far); n is
 * a multiple of LANES (run_load pads a run with pairs of zeros, which add
 * nothing). A pair with a == b adds a quotient of 0, which cannot change
 * max_rel (it starts at 0), and is kept out of the minimum and the
 * count. */
LANES_CLONES NOINLINE static void
sums_add_max_rel(struct sums *s, const double *ra, const double *ta, int64_t n)
{
  const double f = 1e-12 * s->max_ref;
  const lanes_f64 floor_ref = {f, f, f, f}, zero = {0, 0, 0, 0};
  const lanes_f64 largest = {DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX};
  const lanes_f64 inf = {INFINITY, INFINITY, INFINITY, INFINITY};
  const lanes_mask magnitude = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
  lanes_f64 max_quotient = zero, max_small_diff = zero, min_quotient_ref = inf;
  lanes_mask n_small = {0, 0, 0, 0};
  int64_t k, j;

  for (k = 0; k < n; k += LANES) {
    lanes_f64 a, b, abs_a, abs_d, quotient;
    lanes_mask finite, differ, first_kind, second_kind;
    memcpy(&a, ra + k, sizeof a);
    memcpy(&b, ta + k, sizeof b);
    abs_a = LANES_ABS(a);
    abs_d = LANES_ABS(b - a);
    finite = (abs_a <= largest) & (LANES_ABS(b) <= largest);
    differ = a != b;
    first_kind = finite & (abs_a > floor_ref);
    second_kind = finite & ~(abs_a > floor_ref) & differ;
    quotient = LANES_SELECT(first_kind, abs_d / abs_a, zero);
    max_quotient =
        LANES_SELECT(quotient > max_quotient, quotient, max_quotient);
    min_quotient_ref =
        LANES_SELECT(first_kind & differ & (abs_a < min_quotient_ref), abs_a,
                     min_quotient_ref);
    max_small_diff = LANES_SELECT(second_kind & (abs_d > max_small_diff), abs_d,
                                  max_small_diff);
    n_small -= second_kind; /* a true mask is -1 */
  }
  for (j = 0; j < LANES; j++) {
    if (max_quotient[j] > s->max_quotient)
      s->max_quotient = max_quotient[j];
    if (min_quotient_ref[j] < s->min_quotient_ref)
      s->min_quotient_ref = min_quotient_ref[j];
    if (max_small_diff[j] > s->max_small_diff)
      s->max_small_diff = max_small_diff[j];
    s->n_small += n_small[j];
  }
}

/* Adds the LSB errors and saturation of a run's finite pairs. */
NOINLINE static void sums_add_grid(struct sums *s, const struct grid *g,
                                   const struct side *r, const struct side *t,
                                   const struct run *run)
{
  double raw_r[RUN_SIZE], raw_t[RUN_SIZE];
  const struct sc_quant *q = g->side->quant;
  int64_t c = clamp_param(q, g->side == r ? run->param_r : run->param_t);
  double scale = (double)q->scale[c], zero_point = (double)q->zero_point[c];
  double max_lsb = s->max_lsb;
  int64_t k, saturated = 0;

  if (g->raw_r)
    side_load(r, run->begin, run->n, 0, 0, raw_r);
  if (g->raw_t)
    side_load(t, run->begin, run->n, 0, 0, raw_t);
  for (k = 0; k < run->n; k++) {
    double a = run->r[k], b = run->t[k], qa, qb;
    if (!isfinite(a) || !isfinite(b))
      continue;
    if (g->raw_r) {
      qa = raw_r[k];
    } else {
      qa = round_half_even(a / scale) + zero_point;
      qa = qa < g->lo ? g->lo : qa > g->hi ? g->hi : qa;
    }
    if (g->raw_t) {
      qb = raw_t[k];
    } else {
      qb = round_half_even(b / scale) + zero_point;
      qb = qb < g->lo ? g->lo : qb > g->hi ? g->hi : qb;
    }
    if (fabs(qb - qa) > max_lsb)
      max_lsb = fabs(qb - qa);
    if (qb <= g->lo || qb >= g->hi)
      saturated++;
  }
  s->max_lsb = max_lsb;
  s->saturated += saturated;
}

/* The elements one accumulation visits, in increasing index order:
 * n_blocks blocks of block_size elements, block_stride apart. */
struct selection {
  int64_t first, n_blocks, block_size, block_stride;
};

/* Both sides of a comparison and its grid (NULL: no LSB metrics). */
struct pair {
  struct side r, t;
  const struct grid *grid;
};

/* max_rel the plain way, once max|r| is known. */
static double max_rel_pass(const struct pair *p, const struct selection *sel,
                           double floor_ref)
{
  struct run run;
  double max_rel = 0;
  int64_t j, i, k;

  for (j = 0; j < sel->n_blocks; j++) {
    int64_t begin = sel->first + j * sel->block_stride;
    int64_t end = begin + sel->block_size;
    for (i = begin; i < end; i += run.n) {
      run_load(&p->r, &p->t, i, end, &run);
      for (k = 0; k < run.n; k++) {
        double a = run.r[k], b = run.t[k], denom, rel;
        if (!isfinite(a) || !isfinite(b) || a == b)
          continue;
        denom = fabs(a) > floor_ref ? fabs(a) : floor_ref;
        rel = denom > 0 ? fabs(b - a) / denom : INFINITY;
        if (rel > max_rel)
          max_rel = rel;
      }
    }
  }
  return max_rel;
}

/* The metrics of the selected elements into *m (top-1 aside). */
static void accumulate(const struct pair *p, const struct selection *sel,
                       struct sc_metrics *m)
{
  struct sums s;
  struct run run;
  int64_t j, i, n;
  double floor_ref;

  sums_init(&s);
  for (j = 0; j < sel->n_blocks; j++) {
    int64_t begin = sel->first + j * sel->block_stride;
    int64_t end = begin + sel->block_size;
    for (i = begin; i < end; i += run.n) {
      run_load(&p->r, &p->t, i, end, &run);
      sums_add(&s, run.r, run.t, run.n);
      sums_add_max_rel(&s, run.r, run.t, (run.n + LANES - 1) / LANES * LANES);
      if (p->grid)
        sums_add_grid(&s, p->grid, &p->r, &p->t, &run);
    }
  }

  memset(m, 0, sizeof *m);
  n = s.n;
  m->n_elements = n;
  m->nan_ref = s.nan_ref;
  m->nan_tgt = s.nan_tgt;
  m->inf_ref = s.inf_ref;
  m->inf_tgt = s.inf_tgt;
  if (s.nr2 == 0 && s.nt2 == 0)
    m->cosine = 1.0;
  else if (s.nr2 == 0 || s.nt2 == 0)
    m->cosine = 0.0;
  else
    m->cosine = s.dot / sqrt(s.nr2 * s.nt2);
  if (m->cosine > 1.0) /* rounding can push it a hair past 1 */
    m->cosine = 1.0;
  m->max_abs = s.max_abs;
  m->mean_abs = n ? s.sum_abs / (double)n : 0.0;
  m->rmse = n ? sqrt(s.nd2 / (double)n) : 0.0;
  m->sqnr_db = s.nd2 == 0   ? INFINITY
               : s.nr2 == 0 ? -INFINITY
                            : 10.0 * log10(s.nr2 / s.nd2);
  m->rel_l2 = s.nd2 == 0 ? 0.0 : s.nr2 == 0 ? INFINITY : sqrt(s.nd2 / s.nr2);
  m->exact_ratio = n ? (double)s.exact / (double)n : 1.0;
  if (p->grid) {
    m->has_lsb = 1;
    m->max_abs_lsb = s.max_lsb;
    m->saturation = n ? (double)s.saturated / (double)n : 0.0;
  }

  floor_ref = 1e-12 * s.max_ref;
  if (s.min_quotient_ref > floor_ref) {
    m->max_rel = s.max_quotient;
    if (s.n_small) {
      double small = floor_ref > 0 ? s.max_small_diff / floor_ref : INFINITY;
      if (small > m->max_rel)
        m->max_rel = small;
    }
  } else {
    m->max_rel = max_rel_pass(p, sel, floor_ref);
  }
}

/* Share of positions (all axes but `axis`) whose argmax along axis agree;
 * positions are taken RUN_SIZE at a time, channel after channel. */
static double top1_agreement(const struct pair *p, int axis)
{
  const struct sc_tensor *x = p->r.t;
  double value_r[RUN_SIZE], value_t[RUN_SIZE];
  int64_t best_r[RUN_SIZE], best_t[RUN_SIZE];
  int64_t inner = 1, outer = 1, c, o, in, i, k, agree = 0;
  int64_t dim = x->dims[axis];
  struct run run;
  int a;

  for (a = axis + 1; a < x->rank; a++)
    inner *= x->dims[a];
  for (a = 0; a < axis; a++)
    outer *= x->dims[a];
  if (dim == 0 || outer * inner == 0)
    return 1.0;
  for (o = 0; o < outer; o++)
    for (in = 0; in < inner; in += RUN_SIZE) {
      int64_t n = inner - in < RUN_SIZE ? inner - in : RUN_SIZE;
      for (k = 0; k < n; k++) {
        value_r[k] = value_t[k] = -INFINITY;
        best_r[k] = best_t[k] = 0;
      }
      for (c = 0; c < dim; c++) {
        int64_t begin = (o * dim + c) * inner + in, end = begin + n;
        for (i = begin; i < end; i += run.n) {
          run_load(&p->r, &p->t, i, end, &run);
          for (k = 0; k < run.n; k++) {
            int64_t at = i - begin + k;
            if (run.r[k] > value_r[at]) {
              value_r[at] = run.r[k];
              best_r[at] = c;
            }
            if (run.t[k] > value_t[at]) {
              value_t[at] = run.t[k];
              best_t[at] = c;
            }
          }
        }
      }
      for (k = 0; k < n; k++)
        agree += best_r[k] == best_t[k];
    }
  return (double)agree / (double)(outer * inner);
}

static int readable(const struct sc_tensor *t)
{
  return sc_dtype_size(t->dtype) > 0 && t->dtype != SC_DTYPE_STRING;
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

static void pair_init(struct pair *p, struct grid *grid,
                      const struct sc_tensor *reference,
                      const struct sc_tensor *target,
                      const struct sc_metrics_options *options)
{
  side_init(&p->r, reference, options ? options->reference_quant : NULL);
  side_init(&p->t, target, options ? options->target_quant : NULL);
  p->grid = grid_init(grid, &p->r, &p->t) ? grid : NULL;
}

sc_status sc_metrics_compute(const struct sc_tensor *reference,
                             const struct sc_tensor *target,
                             const struct sc_metrics_options *options,
                             struct sc_metrics *out, struct sc_error *err)
{
  struct pair p;
  struct grid grid;
  struct selection all;
  sc_status st = check_pair(reference, target, err);

  if (st)
    return st;
  pair_init(&p, &grid, reference, target, options);
  all.first = 0;
  all.n_blocks = 1;
  all.block_size = reference->n_elements;
  all.block_stride = 0;
  accumulate(&p, &all, out);
  if (options && options->top1_axis >= 0 &&
      options->top1_axis < reference->rank) {
    out->has_top1 = 1;
    out->top1_agree = top1_agreement(&p, options->top1_axis);
  }
  return SC_OK;
}

sc_status sc_metrics_per_channel(const struct sc_tensor *reference,
                                 const struct sc_tensor *target,
                                 const struct sc_metrics_options *options,
                                 int axis, struct sc_metrics *out,
                                 struct sc_error *err)
{
  struct pair p;
  struct grid grid;
  struct selection channel;
  int64_t inner = 1, outer = 1, c;
  int k;
  sc_status st = check_pair(reference, target, err);

  if (st)
    return st;
  if (axis < 0 || axis >= reference->rank)
    return sc_fail(err, SC_ERR_CONFIG, "channel axis %d out of range", axis);
  pair_init(&p, &grid, reference, target, options);
  for (k = axis + 1; k < reference->rank; k++)
    inner *= reference->dims[k];
  for (k = 0; k < axis; k++)
    outer *= reference->dims[k];
  /* channel c: the blocks of `inner` elements at c, c + dim, c + 2 dim... */
  channel.n_blocks = outer;
  channel.block_size = inner;
  channel.block_stride = reference->dims[axis] * inner;
  for (c = 0; c < reference->dims[axis]; c++) {
    channel.first = c * inner;
    accumulate(&p, &channel, &out[c]);
  }
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
