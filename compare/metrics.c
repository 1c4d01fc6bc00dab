#include "compare/metrics.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/quant.h"

/* How the work is cut, and the order of the sums.
 *
 * An accumulation (the whole tensor, or one channel) visits its elements
 * in increasing index order. They are cut into blocks of BLOCK_SIZE
 * elements counted from the accumulation's first one, a cut that depends
 * on the tensor only, and the blocks are shared among the threads. A block
 * is read CHUNK_SIZE elements at a time, converted to double, and each of
 * its sums is kept as LANES partial sums: element k of the block goes to
 * lane k % LANES, in order. At the end of the block the lanes are added in
 * a fixed order, and the sums of an accumulation are its blocks' sums added
 * in block order. The same doubles are thus added in the same order
 * whatever the number of threads, and whatever instruction set the loops
 * are compiled for (struct kernels).
 * Maxima, minima and counts do not depend on the order. */
#define BLOCK_SIZE SC_METRICS_BLOCK_SIZE
#define CHUNK_SIZE 512
#define LANES SC_METRICS_LANES
/* elements a thread takes at the least (waking one costs microseconds) */
#define MIN_ELEMENTS_PER_TASK 65536
/* elements of an accumulation sampled for a first estimate of max |r| */
#define SAMPLES 64

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

/* Vectors of LANES numbers (GCC/Clang vector extensions). The loops that
 * use them (KERNEL functions) are compiled once per instruction set --
 * AVX-512, AVX2 and the baseline's (SSE2 on x86-64) -- and one copy is
 * picked per call (struct kernels below). Every copy does the same IEEE
 * operation on each lane (no fused multiply-add: -ffp-contract=off), so
 * the copies give the same bits; tests/compare/test_metrics.c checks it
 * through sc_metrics_force_path. As in runtime/ops/conv_vector.h, they are
 * typedefs: a vector extension type can only be named that way. Lanes of
 * the narrower types are read with memcpy (any alignment). */
typedef double lanes_f64 __attribute__((vector_size(8 * LANES), aligned(8)));
typedef float lanes_f32 __attribute__((vector_size(4 * LANES)));
typedef int32_t lanes_i32 __attribute__((vector_size(4 * LANES)));
typedef uint32_t lanes_u32 __attribute__((vector_size(4 * LANES)));
typedef int16_t lanes_i16 __attribute__((vector_size(2 * LANES)));
typedef uint16_t lanes_u16 __attribute__((vector_size(2 * LANES)));
typedef int8_t lanes_i8 __attribute__((vector_size(LANES)));
typedef uint8_t lanes_u8 __attribute__((vector_size(LANES)));

/* The body of a loop that is compiled once per instruction set: inlined
 * into each copy (instantiate_kernels), it takes that copy's target. */
#define KERNEL static inline __attribute__((always_inline))

/* Macros rather than functions: a function taking vectors by value has a
 * different ABI in each instruction set. */
#define LANES_SPLAT(x)                                                         \
  {                                                                            \
    x, x, x, x, x, x, x, x                                                     \
  }
#define LANES_LOAD(v, p) memcpy(&(v), (p), sizeof(v))
#define LANES_STORE(p, v) memcpy((p), &(v), sizeof(v))
_Static_assert(LANES == 8, "LANES_SPLAT and lanes_total name 8 lanes");

/* Integer or float elements x[0..n) into out as double, dequantized when
 * `dequantize`: (v - zero_point) * scale, the same double operations as
 * one element at a time. */
#define LOAD_LANES(type, lanes_type)                                           \
  do {                                                                         \
    const type *x = (const type *)s->t->data + i;                              \
    for (k = 0; k + LANES <= n; k += LANES) {                                  \
      lanes_type v;                                                            \
      lanes_f64 w;                                                             \
      LANES_LOAD(v, x + k);                                                    \
      w = __builtin_convertvector(v, lanes_f64);                               \
      if (dequantize)                                                          \
        w = (w - zero_points) * scales;                                        \
      LANES_STORE(out + k, w);                                                 \
    }                                                                          \
    for (; k < n; k++)                                                         \
      out[k] =                                                                 \
          dequantize ? ((double)x[k] - zero_point) * scale : (double)x[k];     \
  } while (0)

/* out[k] = element i + k of s for k < n <= CHUNK_SIZE, as sc_dtype_load
 * reads it, then (v - zero_point) * scale with parameter c when
 * `dequantize`. */
KERNEL void side_load_body(const struct side *s, int64_t i, int64_t n,
                           int64_t c, int dequantize, double *out)
{
  double zero_point = 0.0, scale = 1.0;
  int64_t k;

  if (dequantize) {
    c = clamp_param(s->quant, c);
    zero_point = (double)s->quant->zero_point[c];
    scale = (double)s->quant->scale[c];
  }
  const lanes_f64 zero_points = LANES_SPLAT(zero_point);
  const lanes_f64 scales = LANES_SPLAT(scale);
  switch (s->t->dtype) {
  case SC_DTYPE_FLOAT: /* floats are never dequantized */
    LOAD_LANES(float, lanes_f32);
    return;
  case SC_DTYPE_DOUBLE:
    memcpy(out, (const double *)s->t->data + i, (size_t)n * sizeof *out);
    return;
  case SC_DTYPE_FLOAT16: { /* F16C where the CPU has it */
    float wide[CHUNK_SIZE];
    sc_half_to_float_n((const uint16_t *)s->t->data + i, wide, n);
    for (k = 0; k + LANES <= n; k += LANES) {
      lanes_f32 v;
      lanes_f64 w;
      LANES_LOAD(v, wide + k);
      w = __builtin_convertvector(v, lanes_f64);
      LANES_STORE(out + k, w);
    }
    for (; k < n; k++)
      out[k] = wide[k];
    return;
  }
  case SC_DTYPE_BFLOAT16: { /* the upper half of a float's bits */
    const uint16_t *x = (const uint16_t *)s->t->data + i;
    for (k = 0; k + LANES <= n; k += LANES) {
      lanes_u16 v;
      lanes_f64 w;
      LANES_LOAD(v, x + k);
      w = __builtin_convertvector(
          (lanes_f32)(__builtin_convertvector(v, lanes_u32) << 16), lanes_f64);
      LANES_STORE(out + k, w);
    }
    for (; k < n; k++)
      out[k] = sc_bfloat16_to_float(x[k]);
    return;
  }
  case SC_DTYPE_INT8:
    LOAD_LANES(int8_t, lanes_i8);
    return;
  case SC_DTYPE_UINT8:
  case SC_DTYPE_BOOL: /* never dequantized: not an integer type */
    LOAD_LANES(uint8_t, lanes_u8);
    return;
  case SC_DTYPE_INT16:
    LOAD_LANES(int16_t, lanes_i16);
    return;
  case SC_DTYPE_UINT16:
    LOAD_LANES(uint16_t, lanes_u16);
    return;
  case SC_DTYPE_INT32:
    LOAD_LANES(int32_t, lanes_i32);
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

#undef LOAD_LANES

/* The elements one accumulation visits, in increasing index order:
 * n_runs runs of run_size elements, run_stride apart. Position p of the
 * accumulation is element first + (p / run_size) * run_stride +
 * p % run_size. */
struct selection {
  int64_t first, n_runs, run_size, run_stride;
};

static int64_t selection_count(const struct selection *sel)
{
  return sel->n_runs * sel->run_size;
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

struct block_lanes;
struct sums;

/* How a direct kernel reads a side's elements: the float types (never
 * dequantized), or 8-bit integers dequantized with one parameter pair. */
enum direct_kind {
  DIRECT_DOUBLE,
  DIRECT_FLOAT,
  DIRECT_HALF,
  DIRECT_UINT8,
  DIRECT_INT8,
  N_DIRECT_KINDS
};

/* The target's parameters and grid for an 8-bit target. */
struct direct_params {
  double scale, zero_point; /* as double, the way side_load_body takes them */
  double lo, hi;            /* the grid's range */
};

/* `add` reading both sides straight from the tensors: element k at
 * r + k and t + k (in their types), n a multiple of LANES; with an 8-bit
 * target, also `grid_add` into *s (the target is on the grid, read raw;
 * the reference is quantized onto it). */
typedef int (*direct_add_fn)(struct block_lanes *l, struct sums *s,
                             const struct direct_params *dp, const void *r,
                             const void *t, int64_t n);

/* The loops compiled per instruction set (the KERNEL functions below).
 * `direct` (NULL where a copy has none) gives the same bits as `load`
 * then `add`: it skips the chunk of doubles in between. */
struct kernels {
  void (*load)(const struct side *s, int64_t i, int64_t n, int64_t c,
               int dequantize, double *out);
  int (*add)(struct block_lanes *l, const double *ra, const double *ta,
             int64_t n);
  void (*grid_add)(struct sums *s, const struct grid *g, const double *ra,
                   const double *ta, const double *raw_r, const double *raw_t,
                   int64_t n, double scale, double zero_point);
  direct_add_fn direct[N_DIRECT_KINDS][N_DIRECT_KINDS];
};

/* Both sides of a comparison, its grid (NULL: no LSB metrics), the
 * kernels of the call and, where one applies (direct_init), its direct
 * kernel and parameters (else NULL). */
struct pair {
  struct side r, t;
  const struct grid *grid;
  const struct kernels *kernels;
  direct_add_fn direct;
  struct direct_params direct_params;
};

/* A stretch of a chunk: consecutive elements over which each side's
 * quantization parameter stays the same. */
struct stretch {
  int64_t at, n; /* where in the chunk, how many */
  int64_t index; /* the tensor index of the first */
  int64_t param_r, param_t;
};

/* Up to CHUNK_SIZE consecutive elements of an accumulation as doubles,
 * followed by pairs of zeros up to a multiple of LANES. */
struct chunk {
  _Alignas(64) double r[CHUNK_SIZE];
  _Alignas(64) double t[CHUNK_SIZE];
  int64_t n;
  int64_t n_stretches;
  struct stretch stretches[CHUNK_SIZE];
};

/* Loads positions [pos, pos + n) of sel, n <= CHUNK_SIZE. */
static void chunk_load(const struct pair *p, const struct selection *sel,
                       int64_t pos, int64_t n, struct chunk *ch)
{
  int64_t k = 0;

  ch->n_stretches = 0;
  while (k < n) {
    struct stretch *st = &ch->stretches[ch->n_stretches++];
    int64_t run = (pos + k) / sel->run_size, offset = (pos + k) % sel->run_size;
    int64_t index = sel->first + run * sel->run_stride + offset;
    int64_t len = n - k, end_r, end_t;
    if (len > sel->run_size - offset)
      len = sel->run_size - offset;
    st->param_r = param_index(&p->r, index, &end_r);
    st->param_t = param_index(&p->t, index, &end_t);
    if (len > end_r - index)
      len = end_r - index;
    if (len > end_t - index)
      len = end_t - index;
    st->at = k;
    st->n = len;
    st->index = index;
    p->kernels->load(&p->r, index, len, st->param_r, p->r.dequantize,
                     ch->r + k);
    p->kernels->load(&p->t, index, len, st->param_t, p->t.dequantize,
                     ch->t + k);
    k += len;
  }
  ch->n = n;
  for (; k % LANES; k++)
    ch->r[k] = ch->t[k] = 0.0;
}

/* What a block, then an accumulation, adds up.
 *
 * max_rel = max |d| / max(|r|, floor) with floor = 1e-12 * max|r| needs
 * max|r| before it can start. Elements with |r| > floor contribute
 * |d| / |r| whatever the floor is, the others |d| / floor. Each element
 * is classified against a floor taken from a lower bound of max|r| (a
 * sample of the accumulation, and the elements of its lane so far), never
 * above the final floor, which puts every element of the second kind in
 * the right class; the elements taken for the first kind are confirmed
 * when the smallest such |r| of their block ends up above the final
 * floor. A block where that fails (rarely: tiny values early in a block)
 * is read again and its max_rel computed the plain way. Either way max_rel
 * is the maximum of the same correctly rounded quotients (division by the
 * floor is monotonic, so the largest |d| gives the largest quotient of the
 * second kind). */
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

/* The running values of a block, lane by lane (lane k % LANES holds
 * element k of the block). */
struct block_lanes {
  double dot[LANES], nr2[LANES], nt2[LANES], nd2[LANES], sum_abs[LANES];
  double max_abs[LANES], max_ref[LANES];
  double max_quotient[LANES], min_quotient_ref[LANES], max_small_diff[LANES];
  int64_t exact[LANES], n_small[LANES];
};

static void block_lanes_init(struct block_lanes *l, double max_ref)
{
  int j;
  memset(l, 0, sizeof *l);
  for (j = 0; j < LANES; j++) {
    l->max_ref[j] = max_ref;
    l->min_quotient_ref[j] = INFINITY;
  }
}

/* The sum of a block's lanes, in a fixed order. */
static double lanes_total(const double *x)
{
  return ((x[0] + x[4]) + (x[2] + x[6])) + ((x[1] + x[5]) + (x[3] + x[7]));
}

/* Adds a chunk's pairs to the lanes, n a multiple of LANES (chunk_load
 * pads with pairs of zeros: they add nothing to the sums and maxima, and
 * count as exact pairs, which the caller takes back). A pair with a
 * non-finite value adds nothing; returns 1 when there was one, for the
 * caller to count them.
 *
 * Plain C over arrays of LANES, branch-free, which the compiler
 * vectorises across the lanes in each instruction set's copy: every lane
 * sees the same IEEE operations in the same order in every copy. (GCC's
 * vector extension types wider than the hardware's vectors had their
 * comparisons compiled one element at a time, three times slower.)
 *
 * The quotients of max_rel cost a division, which is slow: a chunk's are
 * computed only when one of its pairs may beat its lane's largest
 * quotient so far m, taken at the start of the chunk: with
 * bound = m * (1 - 2^-50) (m >= 2^-1021), |d| <= |r| * bound (a normal
 * product) proves |d| / |r| < m, as the two roundings stay within
 * (1 + 2^-53)^2. Either way max_quotient is the largest quotient of the
 * first kind. */
KERNEL int lanes_add_body(struct block_lanes *l, const double *ra,
                          const double *ta, int64_t n)
{
  struct block_lanes v = *l; /* a local copy: no aliasing with ra, ta */
  double bound[LANES];
  int64_t unbounded[LANES], first_kind[CHUNK_SIZE];
  int64_t k, j, need[LANES] = {0}, nonfinite[LANES] = {0};

  for (j = 0; j < LANES; j++) {
    double m = v.max_quotient[j];
    unbounded[j] = m == INFINITY;
    bound[j] = m >= 0x1p-1021 ? m * (1.0 - 0x1p-50) : 0.0;
  }
  for (k = 0; k < n; k += LANES) {
    const double *rk = ra + k, *tk = ta + k;
    int64_t *first_k = first_kind + k;
    for (j = 0; j < LANES; j++) {
      double a = rk[j], b = tk[j], d, abs_a, abs_d, product;
      int64_t finite = (fabs(a) <= DBL_MAX) & (fabs(b) <= DBL_MAX);
      int64_t differ, big, first, second;
      a = finite ? a : 0.0;
      b = finite ? b : 0.0;
      nonfinite[j] |= finite ^ 1;
      d = b - a;
      abs_a = fabs(a);
      abs_d = fabs(d);
      v.dot[j] += a * b;
      v.nr2[j] += a * a;
      v.nt2[j] += b * b;
      v.nd2[j] += d * d;
      v.sum_abs[j] += abs_d;
      v.max_abs[j] = abs_d > v.max_abs[j] ? abs_d : v.max_abs[j];
      v.max_ref[j] = abs_a > v.max_ref[j] ? abs_a : v.max_ref[j];
      differ = a != b;
      v.exact[j] += finite & (differ ^ 1);
      big = abs_a > v.max_ref[j] * 1e-12;
      first = big & differ;
      second = (big ^ 1) & differ;
      v.min_quotient_ref[j] = first & (abs_a < v.min_quotient_ref[j])
                                  ? abs_a
                                  : v.min_quotient_ref[j];
      v.max_small_diff[j] =
          second & (abs_d > v.max_small_diff[j]) ? abs_d : v.max_small_diff[j];
      v.n_small[j] += second;
      product = abs_a * bound[j];
      need[j] |=
          first & (unbounded[j] ^ 1) &
          (((abs_d <= product) & (product >= DBL_MIN) & (product <= DBL_MAX)) ^
           1);
      first_k[j] = first;
    }
  }
  for (j = 1; j < LANES; j++) {
    need[0] |= need[j];
    nonfinite[0] |= nonfinite[j];
  }
  if (need[0]) /* the pairs of the first kind are finite */
    for (k = 0; k < n; k++)
      if (first_kind[k]) {
        double quotient = fabs(ta[k] - ra[k]) / fabs(ra[k]);
        j = k % LANES;
        if (quotient > v.max_quotient[j])
          v.max_quotient[j] = quotient;
      }
  *l = v;
  return nonfinite[0] != 0;
}

/* Counts the non-finite values of a chunk, and its finite pairs. */
static void count_nonfinite(struct sums *s, const struct chunk *ch)
{
  int64_t k;
  for (k = 0; k < ch->n; k++) {
    double a = ch->r[k], b = ch->t[k];
    if (isfinite(a) && isfinite(b)) {
      s->n++;
      continue;
    }
    if (isnan(a))
      s->nan_ref++;
    else if (isinf(a))
      s->inf_ref++;
    if (isnan(b))
      s->nan_tgt++;
    else if (isinf(b))
      s->inf_tgt++;
  }
}

/* Adds the LSB errors and saturation of the finite pairs of a stretch of
 * n elements whose grid parameters are scale and zero_point: ra/ta the
 * values, raw_r/raw_t the integers of a side on the grid (else NULL). A
 * side off the grid is quantized: round-half-even(v / scale) +
 * zero_point, saturated to [lo, hi]. */
KERNEL void grid_add_body(struct sums *s, const struct grid *g,
                          const double *ra, const double *ta,
                          const double *raw_r, const double *raw_t, int64_t n,
                          double scale, double zero_point)
{
  double max_lsb = s->max_lsb, lo = g->lo, hi = g->hi;
  int64_t k, saturated = 0;

  for (k = 0; k < n; k++) {
    double a = ra[k], b = ta[k], qa, qb, lsb;
    int64_t finite = (fabs(a) <= DBL_MAX) & (fabs(b) <= DBL_MAX);
    if (raw_r) {
      qa = raw_r[k];
    } else {
      qa = sc_round_half_even(a / scale) + zero_point;
      qa = qa < lo ? lo : qa > hi ? hi : qa;
    }
    if (raw_t) {
      qb = raw_t[k];
    } else {
      qb = sc_round_half_even(b / scale) + zero_point;
      qb = qb < lo ? lo : qb > hi ? hi : qb;
    }
    lsb = fabs(qb - qa); /* NaN with a zero scale: never the max */
    max_lsb = finite & (lsb > max_lsb) ? lsb : max_lsb;
    saturated += finite & ((qb <= lo) | (qb >= hi));
  }
  s->max_lsb = max_lsb;
  s->saturated += saturated;
}

/* One copy of the KERNEL functions per instruction set: name_suffix
 * compiled with `target` (an attribute, or nothing for the baseline);
 * lanes_add_##suffix and grid_add_##suffix come first (PLAIN_KERNELS, or
 * written with intrinsics). Called through struct kernels, the copies stay
 * functions of their own, never inlined into the loops that call them: inlined,
 * they would lose their accumulators to the stack (the register allocation of
 * the caller's loops). */
#define PLAIN_KERNELS(suffix, target)                                          \
  target static int lanes_add_##suffix(                                        \
      struct block_lanes *l, const double *ra, const double *ta, int64_t n)    \
  {                                                                            \
    return lanes_add_body(l, ra, ta, n);                                       \
  }                                                                            \
  target static void grid_add_##suffix(                                        \
      struct sums *s, const struct grid *g, const double *ra,                  \
      const double *ta, const double *raw_r, const double *raw_t, int64_t n,   \
      double scale, double zero_point)                                         \
  {                                                                            \
    grid_add_body(s, g, ra, ta, raw_r, raw_t, n, scale, zero_point);           \
  }
#define INSTANTIATE_KERNELS(suffix, target, direct)                            \
  target static void side_load_##suffix(const struct side *s, int64_t i,       \
                                        int64_t n, int64_t c, int dequantize,  \
                                        double *out)                           \
  {                                                                            \
    side_load_body(s, i, n, c, dequantize, out);                               \
  }                                                                            \
  static const struct kernels kernels_##suffix = {                             \
      side_load_##suffix, lanes_add_##suffix, grid_add_##suffix, direct}

PLAIN_KERNELS(portable, )
/* the table of a copy without direct kernels */
#define NO_DIRECT_KERNELS                                                      \
  {                                                                            \
    {NULL}, {NULL}, {NULL}, {NULL},                                            \
    {                                                                          \
      NULL                                                                     \
    }                                                                          \
  }

INSTANTIATE_KERNELS(portable, , NO_DIRECT_KERNELS);
#if defined(__x86_64__) && defined(__GNUC__)
#define SC_METRICS_X86 1
#include <immintrin.h>
PLAIN_KERNELS(avx2, __attribute__((target("avx2"))))
INSTANTIATE_KERNELS(avx2, __attribute__((target("avx2"))), NO_DIRECT_KERNELS);

/* lanes_add_avx512_from and the direct kernels: lanes_add_body with
 * AVX-512F intrinsics (GCC does not vectorise the plain loop): the same IEEE
 * operations in the same order per lane (separate multiplies and adds, no fused
 * ones; `x > m ? x : m` is vmaxpd(x, m)), so the bits are the portable copy's
 * (tests/compare/test_metrics.c runs every path). */
/* Eight elements from k on of a side as doubles (integers raw): exact
 * conversions, as side_load_body makes them. (A NaN float16 may come out with
 * another payload than sc_half_to_float gives it; the sums take no NaN, and
 * count_nonfinite reads the chunk.) */
__attribute__((target("avx512f"))) static inline __m512d
raw_lanes_avx512(const void *x, enum direct_kind kind, int64_t k)
{
  switch (kind) {
  case DIRECT_UINT8:
    return _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(
        _mm_loadl_epi64((const __m128i *)((const uint8_t *)x + k))));
  case DIRECT_INT8:
    return _mm512_cvtepi32_pd(_mm256_cvtepi8_epi32(
        _mm_loadl_epi64((const __m128i *)((const int8_t *)x + k))));
  case DIRECT_FLOAT:
    return _mm512_cvtps_pd(_mm256_loadu_ps((const float *)x + k));
  case DIRECT_HALF:
    return _mm512_cvtps_pd(
        _mm512_castps512_ps256(_mm512_cvtph_ps(_mm256_zextsi128_si256(
            _mm_loadu_si128((const __m128i *)((const uint16_t *)x + k))))));
  default:
    return _mm512_loadu_pd((const double *)x + k);
  }
}

/* The same, 8-bit integers dequantized: (v - zero_point) * scale. */
__attribute__((target("avx512f"))) static inline __m512d
load_lanes_avx512(const void *x, enum direct_kind kind, int64_t k,
                  __m512d zero_points, __m512d scales)
{
  __m512d v = raw_lanes_avx512(x, kind, k);
  if (kind == DIRECT_UINT8 || kind == DIRECT_INT8)
    v = _mm512_mul_pd(_mm512_sub_pd(v, zero_points), scales);
  return v;
}

/* struct block_lanes in registers, for the loops below. */
struct lanes_avx512 {
  __m512d dot, nr2, nt2, nd2, sum_abs, max_abs, max_ref;
  __m512d min_qref, max_small;
  __m512i exact, n_small;
};

__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) struct lanes_avx512
    lanes_load_avx512(const struct block_lanes *l)
{
  struct lanes_avx512 v;
  v.dot = _mm512_loadu_pd(l->dot);
  v.nr2 = _mm512_loadu_pd(l->nr2);
  v.nt2 = _mm512_loadu_pd(l->nt2);
  v.nd2 = _mm512_loadu_pd(l->nd2);
  v.sum_abs = _mm512_loadu_pd(l->sum_abs);
  v.max_abs = _mm512_loadu_pd(l->max_abs);
  v.max_ref = _mm512_loadu_pd(l->max_ref);
  v.min_qref = _mm512_loadu_pd(l->min_quotient_ref);
  v.max_small = _mm512_loadu_pd(l->max_small_diff);
  v.exact = _mm512_loadu_si512(l->exact);
  v.n_small = _mm512_loadu_si512(l->n_small);
  return v;
}

/* Everything but max_quotient, which quotients_avx512 keeps. */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) void
    lanes_store_avx512(struct block_lanes *l, const struct lanes_avx512 *v)
{
  _mm512_storeu_pd(l->dot, v->dot);
  _mm512_storeu_pd(l->nr2, v->nr2);
  _mm512_storeu_pd(l->nt2, v->nt2);
  _mm512_storeu_pd(l->nd2, v->nd2);
  _mm512_storeu_pd(l->sum_abs, v->sum_abs);
  _mm512_storeu_pd(l->max_abs, v->max_abs);
  _mm512_storeu_pd(l->max_ref, v->max_ref);
  _mm512_storeu_pd(l->min_quotient_ref, v->min_qref);
  _mm512_storeu_pd(l->max_small_diff, v->max_small);
  _mm512_storeu_si512(l->exact, v->exact);
  _mm512_storeu_si512(l->n_small, v->n_small);
}

/* 1 when a side of this kind holds values with at most 24 significant
 * bits (float and float16): the product of two of them is exact in double,
 * so adding it with a fused multiply-add rounds once, as the product's add
 * does, and gives the same bits. */
static inline int narrow_kind(enum direct_kind kind)
{
  return kind == DIRECT_FLOAT || kind == DIRECT_HALF;
}

/* The sums and maxima of 8 finite pairs a, b (d = b - a) that both loops
 * take in the same order; a product of two narrow_kind sides is added by a
 * fused multiply-add (one instruction fewer, the same bits). */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) void
    lanes_sums_avx512(struct lanes_avx512 *v, __m512d a, __m512d b, __m512d d,
                      __m512d abs_a, __m512d abs_d, enum direct_kind r_kind,
                      enum direct_kind t_kind)
{
  v->dot = narrow_kind(r_kind) && narrow_kind(t_kind)
               ? _mm512_fmadd_pd(a, b, v->dot)
               : _mm512_add_pd(v->dot, _mm512_mul_pd(a, b));
  v->nr2 = narrow_kind(r_kind) ? _mm512_fmadd_pd(a, a, v->nr2)
                               : _mm512_add_pd(v->nr2, _mm512_mul_pd(a, a));
  v->nt2 = narrow_kind(t_kind) ? _mm512_fmadd_pd(b, b, v->nt2)
                               : _mm512_add_pd(v->nt2, _mm512_mul_pd(b, b));
  v->nd2 = _mm512_add_pd(v->nd2, _mm512_mul_pd(d, d));
  v->sum_abs = _mm512_add_pd(v->sum_abs, abs_d);
  v->max_abs = _mm512_max_pd(abs_d, v->max_abs);
  v->max_ref = _mm512_max_pd(abs_a, v->max_ref);
}

/* The quotients |d| / |r| of the pairs of the first kind (first_kind[i]:
 * the lanes of elements 8i to 8i + 7, all finite with r != 0) into the
 * lanes' max_quotient. */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) void
    quotients_avx512(struct block_lanes *l, const void *ra,
                     enum direct_kind r_kind, const void *ta,
                     enum direct_kind t_kind, int64_t n, __m512d zero_points,
                     __m512d scales, const __mmask8 *first_kind)
{
  __m512d max_q = _mm512_loadu_pd(l->max_quotient);
  int64_t k;

  for (k = 0; k < n; k += LANES) {
    __mmask8 first = first_kind[k / LANES];
    __m512d a, quotient;
    if (!first)
      continue;
    a = load_lanes_avx512(ra, r_kind, k, zero_points, scales);
    quotient = _mm512_maskz_div_pd(
        first,
        _mm512_abs_pd(_mm512_sub_pd(
            load_lanes_avx512(ta, t_kind, k, zero_points, scales), a)),
        _mm512_abs_pd(a));
    max_q = _mm512_mask_mov_pd(
        max_q, first & _mm512_cmp_pd_mask(quotient, max_q, _CMP_GT_OQ),
        quotient);
  }
  _mm512_storeu_pd(l->max_quotient, max_q);
}

/* The pairs of `first` (finite, |r| > 0) whose quotient |d| / |r| is not
 * proved no larger than m, the lane's record: |r| * m - |d| with one
 * rounding (a fused multiply-add) keeps the sign of the exact difference,
 * and is +0 only when that is zero or positive (round to nearest takes a
 * negative difference to -0 at most), so a clear sign bit proves
 * |d| <= |r| * m, hence |d| / |r| <= m in real numbers and, rounding
 * being monotonic and m a double, for the rounded quotient too. m = 0
 * proves nothing; m = infinity needs no proof (no quotient exceeds it),
 * so the NaN of infinity - infinity (b - a overflowed) may go either
 * way. */
__attribute__((target("avx512f"))) static inline __attribute__((always_inline))
__mmask8
quotients_unproved_avx512(__mmask8 first, __m512d abs_a, __m512d m,
                          __m512d abs_d)
{
  return _mm512_mask_test_epi64_mask(
      first, _mm512_castpd_si512(_mm512_fmsub_pd(abs_a, m, abs_d)),
      _mm512_set1_epi64(INT64_MIN));
}

/* lanes_add_body with AVX-512F intrinsics, the 8 lanes in one register,
 * reading sides of the given kinds (constants where it is inlined); its
 * quotient test is quotients_unproved_avx512's instead of the bound. */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) int
    lanes_add_careful_avx512(struct block_lanes *l, const void *ra,
                             enum direct_kind r_kind, const void *ta,
                             enum direct_kind t_kind, int64_t n,
                             __m512d zero_points, __m512d scales)
{
  const __m512d big_value = _mm512_set1_pd(DBL_MAX);
  const __m512d tiny = _mm512_set1_pd(1e-12);
  const __m512i one = _mm512_set1_epi64(1);
  struct lanes_avx512 v = lanes_load_avx512(l);
  __m512d max_q = _mm512_loadu_pd(l->max_quotient);
  __mmask8 need = 0, nonfinite = 0;
  __mmask8 first_kind[CHUNK_SIZE / LANES];
  int64_t k;

  for (k = 0; k < n; k += LANES) {
    __m512d a = load_lanes_avx512(ra, r_kind, k, zero_points, scales);
    __m512d b = load_lanes_avx512(ta, t_kind, k, zero_points, scales);
    __m512d d, abs_a, abs_d;
    __mmask8 finite, differ, big, first, second;
    finite = _mm512_cmp_pd_mask(_mm512_abs_pd(a), big_value, _CMP_LE_OQ) &
             _mm512_cmp_pd_mask(_mm512_abs_pd(b), big_value, _CMP_LE_OQ);
    a = _mm512_maskz_mov_pd(finite, a);
    b = _mm512_maskz_mov_pd(finite, b);
    nonfinite |= (__mmask8)~finite;
    d = _mm512_sub_pd(b, a);
    abs_a = _mm512_abs_pd(a);
    abs_d = _mm512_abs_pd(d);
    lanes_sums_avx512(&v, a, b, d, abs_a, abs_d, r_kind, t_kind);
    differ = _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ);
    v.exact = _mm512_mask_add_epi64(v.exact, finite & (__mmask8)~differ,
                                    v.exact, one);
    big = _mm512_cmp_pd_mask(abs_a, _mm512_mul_pd(v.max_ref, tiny), _CMP_GT_OQ);
    first = big & differ;
    second = (__mmask8)~big & differ;
    v.min_qref = _mm512_mask_mov_pd(
        v.min_qref, first & _mm512_cmp_pd_mask(abs_a, v.min_qref, _CMP_LT_OQ),
        abs_a);
    v.max_small = _mm512_mask_mov_pd(
        v.max_small,
        second & _mm512_cmp_pd_mask(abs_d, v.max_small, _CMP_GT_OQ), abs_d);
    v.n_small = _mm512_mask_add_epi64(v.n_small, second, v.n_small, one);
    need |= quotients_unproved_avx512(first, abs_a, max_q, abs_d);
    first_kind[k / LANES] = first;
  }
  lanes_store_avx512(l, &v);
  if (need) /* the pairs of the first kind are finite, |r| > 0 */
    quotients_avx512(l, ra, r_kind, ta, t_kind, n, zero_points, scales,
                     first_kind);
  return nonfinite != 0;
}

/* grid_add_body with AVX-512F intrinsics: the same quotients, roundings
 * (vrndscalepd to nearest even is sc_round_half_even, infinities and NaN
 * included) and clamps per element; the maximum and the count do not
 * depend on the order. */
/* sc_round_half_even(x / scale) + zero_point, clamped to [lo, hi];
 * inverses holds 1 / scale (rounded).
 *
 * Dividing costs as much as the rest of a step, so the quotient is first
 * taken as y = x * (1 / scale): two roundings from x / scale, one from
 * the correctly rounded quotient, together under 2^-50 |y|. Where y lies
 * closer than 0.5 - 2^-50 |y| to its nearest integer, that integer is
 * also the one nearest the correctly rounded quotient; elsewhere (near a
 * tie, beyond 2^50, infinite or NaN) the quotient is computed. */
__attribute__((target("avx512f"))) static inline __m512d
quantize_avx512(__m512d x, __m512d scales, __m512d inverses,
                __m512d zero_points, __m512d lo, __m512d hi)
{
  const int nearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  __m512d y = _mm512_mul_pd(x, inverses);
  __m512d q = _mm512_roundscale_pd(y, nearest);
  __m512d margin =
      _mm512_sub_pd(_mm512_set1_pd(0.5),
                    _mm512_mul_pd(_mm512_abs_pd(y), _mm512_set1_pd(0x1p-50)));
  __mmask8 unsure = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(y, q)),
                                       margin, _CMP_NLT_UQ);
  if (unsure)
    q = _mm512_mask_roundscale_pd(
        q, unsure, _mm512_maskz_div_pd(unsure, x, scales), nearest);
  /* vmaxpd and vminpd give their second operand when one is NaN: a NaN
   * q (a zero scale) stays NaN, as the compare-and-move of the plain
   * clamp leaves it */
  q = _mm512_add_pd(q, zero_points);
  return _mm512_min_pd(hi, _mm512_max_pd(lo, q));
}

/* The LSB error and saturation of 8 quantized pairs qa, qb (lanes of
 * `finite` only) into the running max_lsb and count. */
__attribute__((target("avx512f"))) static inline void
grid_step_avx512(__m512d *max_lsb, int64_t *saturated, __mmask8 finite,
                 __m512d qa, __m512d qb, __m512d lo, __m512d hi)
{
  __m512d lsb = _mm512_abs_pd(_mm512_sub_pd(qb, qa));
  *max_lsb = _mm512_mask_mov_pd(
      *max_lsb, finite & _mm512_cmp_pd_mask(lsb, *max_lsb, _CMP_GT_OQ), lsb);
  *saturated +=
      __builtin_popcount(finite & (_mm512_cmp_pd_mask(qb, lo, _CMP_LE_OQ) |
                                   _mm512_cmp_pd_mask(qb, hi, _CMP_GE_OQ)));
}

__attribute__((target("avx512f"))) static void
grid_finish_avx512(struct sums *s, __m512d max_lsb, int64_t saturated)
{
  double lanes[LANES];
  int j;
  _mm512_storeu_pd(lanes, max_lsb);
  for (j = 0; j < LANES; j++)
    if (lanes[j] > s->max_lsb)
      s->max_lsb = lanes[j];
  s->saturated += saturated;
}

/* lanes_add_careful_avx512 for chunks whose values are all finite, with
 * fewer instructions per element; returns 0 with *l updated as the careful
 * loop would update it, or -1 with *l untouched when the chunk may hold a
 * non-finite value (the careful loop must take it). With an 8-bit target
 * it also adds what grid_direct_avx512 would to *s (dp: the target's
 * parameters), from the raw target it reads anyway: one pass over the
 * chunk instead of two, and no finiteness masks; on -1, *s is untouched
 * too. s and dp are not read for other targets.
 *
 * - No finiteness test per element: a non-finite a or b makes a * a or
 *   b * b, hence a lane of nr2 or nt2, non-finite (as does a finite
 *   square that overflows, also sent to the careful loop), and for finite
 *   pairs masking them out changes nothing.
 * - Masked minimum and maximum instead of compare-and-move (the same
 *   values: no NaN and, |r| and |d| being non-negative, no -0), masked
 *   compares instead of compare-and-and, and a count of the differing
 *   pairs from which the exact ones follow.
 * - The quotient test compares with the largest quotient m of all lanes,
 *   not the lane's own: a pair that cannot beat it cannot change the
 *   block's max_quotient (the largest of its lanes', all that is read of
 *   them), and a quotient rarely beats eight lanes' record. Lanes may then
 *   hold less than their own largest quotient, which the careful loop's
 *   test allows (it proves a quotient no larger than the lane's value).
 * - The test (quotients_unproved_avx512, as in the careful loop) is
 *   exact and lets a quotient equal to m pass: an 8-bit target's pairs
 *   whose reference rounds to the zero point all have quotient 1. When a
 *   pair fails it the chunk's quotients are all computed, as in the
 *   careful loop. */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) int
    lanes_add_fast_avx512(struct block_lanes *l, struct sums *s,
                          const struct direct_params *dp, const void *ra,
                          enum direct_kind r_kind, const void *ta,
                          enum direct_kind t_kind, int64_t n,
                          __m512d zero_points, __m512d scales)
{
  const int grid = t_kind == DIRECT_UINT8 || t_kind == DIRECT_INT8;
  const __m512d tiny = _mm512_set1_pd(1e-12);
  const __m512i one = _mm512_set1_epi64(1);
  struct lanes_avx512 v = lanes_load_avx512(l);
  __m512i differing = _mm512_setzero_si512();
  __m512d max_q = _mm512_loadu_pd(l->max_quotient), largest;
  __m512d lo, hi, inverses, max_lsb = _mm512_setzero_pd();
  __m512i saturated = _mm512_setzero_si512();
  __mmask8 beyond = 0, finite;
  __mmask8 first_kind[CHUNK_SIZE / LANES];
  int64_t k;

  if (grid) {
    lo = _mm512_set1_pd(dp->lo);
    hi = _mm512_set1_pd(dp->hi);
    inverses = _mm512_set1_pd(1.0 / dp->scale);
  }
  largest = _mm512_set1_pd(_mm512_reduce_max_pd(max_q));
  for (k = 0; k < n; k += LANES) {
    __m512d a = load_lanes_avx512(ra, r_kind, k, zero_points, scales);
    __m512d b = raw_lanes_avx512(ta, t_kind, k);
    __m512d d;
    if (grid) { /* b raw is on the grid: grid_direct_avx512's step */
      __m512d qa = quantize_avx512(a, scales, inverses, zero_points, lo, hi);
      /* a NaN (zero scale) difference never wins: vmaxpd gives its
       * second operand then */
      max_lsb = _mm512_max_pd(_mm512_abs_pd(_mm512_sub_pd(b, qa)), max_lsb);
      saturated =
          _mm512_mask_add_epi64(saturated,
                                _mm512_cmp_pd_mask(b, lo, _CMP_LE_OQ) |
                                    _mm512_cmp_pd_mask(b, hi, _CMP_GE_OQ),
                                saturated, one);
      b = _mm512_mul_pd(_mm512_sub_pd(b, zero_points), scales);
    }
    d = _mm512_sub_pd(b, a);
    __m512d abs_a = _mm512_abs_pd(a), abs_d = _mm512_abs_pd(d);
    __mmask8 differ, first;
    lanes_sums_avx512(&v, a, b, d, abs_a, abs_d, r_kind, t_kind);
    differ = _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ);
    differing = _mm512_mask_add_epi64(differing, differ, differing, one);
    first = _mm512_mask_cmp_pd_mask(differ, abs_a,
                                    _mm512_mul_pd(v.max_ref, tiny), _CMP_GT_OQ);
    v.min_qref = _mm512_mask_min_pd(v.min_qref, first, v.min_qref, abs_a);
    v.max_small = _mm512_mask_max_pd(v.max_small, differ & (__mmask8)~first,
                                     v.max_small, abs_d);
    v.n_small = _mm512_mask_add_epi64(v.n_small, differ & (__mmask8)~first,
                                      v.n_small, one);
    beyond |= quotients_unproved_avx512(first, abs_a, largest, abs_d);
    first_kind[k / LANES] = first;
  }
  finite = _mm512_cmp_pd_mask(v.nr2, _mm512_set1_pd(DBL_MAX), _CMP_LE_OQ) &
           _mm512_cmp_pd_mask(v.nt2, _mm512_set1_pd(DBL_MAX), _CMP_LE_OQ);
  if (finite != 0xFF)
    return -1;
  v.exact = _mm512_add_epi64(
      v.exact, _mm512_sub_epi64(_mm512_set1_epi64(n / LANES), differing));
  lanes_store_avx512(l, &v);
  if (grid)
    grid_finish_avx512(s, max_lsb, _mm512_reduce_add_epi64(saturated));
  if (beyond)
    quotients_avx512(l, ra, r_kind, ta, t_kind, n, zero_points, scales,
                     first_kind);
  return 0;
}

/* The fast loop, else the careful one (no grid). */
__attribute__((target("avx512f"))) static int
lanes_add_avx512(struct block_lanes *l, const double *ra, const double *ta,
                 int64_t n)
{
  const __m512d unused = _mm512_setzero_pd();
  if (lanes_add_fast_avx512(l, NULL, NULL, ra, DIRECT_DOUBLE, ta, DIRECT_DOUBLE,
                            n, unused, unused) == 0)
    return 0;
  return lanes_add_careful_avx512(l, ra, DIRECT_DOUBLE, ta, DIRECT_DOUBLE, n,
                                  unused, unused);
}

__attribute__((target("avx512f"))) static void
grid_add_avx512(struct sums *s, const struct grid *g, const double *ra,
                const double *ta, const double *raw_r, const double *raw_t,
                int64_t n, double scale, double zero_point)
{
  const __m512d big_value = _mm512_set1_pd(DBL_MAX);
  const __m512d lo = _mm512_set1_pd(g->lo), hi = _mm512_set1_pd(g->hi);
  const __m512d scales = _mm512_set1_pd(scale);
  const __m512d inverses = _mm512_set1_pd(1.0 / scale);
  const __m512d zero_points = _mm512_set1_pd(zero_point);
  __m512d max_lsb = _mm512_setzero_pd();
  int64_t k, saturated = 0;

  for (k = 0; k < n; k += LANES) {
    __mmask8 in = n - k >= LANES ? 0xFF : (__mmask8)((1u << (n - k)) - 1);
    __m512d a = _mm512_maskz_loadu_pd(in, ra + k);
    __m512d b = _mm512_maskz_loadu_pd(in, ta + k);
    __m512d qa, qb;
    __mmask8 finite =
        in & _mm512_cmp_pd_mask(_mm512_abs_pd(a), big_value, _CMP_LE_OQ) &
        _mm512_cmp_pd_mask(_mm512_abs_pd(b), big_value, _CMP_LE_OQ);
    qa = raw_r ? _mm512_maskz_loadu_pd(in, raw_r + k)
               : quantize_avx512(a, scales, inverses, zero_points, lo, hi);
    qb = raw_t ? _mm512_maskz_loadu_pd(in, raw_t + k)
               : quantize_avx512(b, scales, inverses, zero_points, lo, hi);
    grid_step_avx512(&max_lsb, &saturated, finite, qa, qb, lo, hi);
  }
  grid_finish_avx512(s, max_lsb, saturated);
}

/* grid_add for an 8-bit target read raw (on the grid) from tb, the
 * reference quantized onto it, n a multiple of LANES: after the careful
 * loop (the fast one does the same itself). */
__attribute__((target("avx512f"))) static inline
    __attribute__((always_inline)) void
    grid_direct_avx512(struct sums *s, const struct direct_params *dp,
                       const void *ra, enum direct_kind r_kind, const void *tb,
                       enum direct_kind t_kind, int64_t n)
{
  const __m512d big_value = _mm512_set1_pd(DBL_MAX);
  const __m512d lo = _mm512_set1_pd(dp->lo), hi = _mm512_set1_pd(dp->hi);
  const __m512d scales = _mm512_set1_pd(dp->scale);
  const __m512d inverses = _mm512_set1_pd(1.0 / dp->scale);
  const __m512d zero_points = _mm512_set1_pd(dp->zero_point);
  __m512d max_lsb = _mm512_setzero_pd();
  int64_t k, saturated = 0;

  for (k = 0; k < n; k += LANES) {
    __m512d a = raw_lanes_avx512(ra, r_kind, k);
    __m512d b = load_lanes_avx512(tb, t_kind, k, zero_points, scales);
    __mmask8 finite = /* b too: a scale can be infinite */
        _mm512_cmp_pd_mask(_mm512_abs_pd(a), big_value, _CMP_LE_OQ) &
        _mm512_cmp_pd_mask(_mm512_abs_pd(b), big_value, _CMP_LE_OQ);
    grid_step_avx512(&max_lsb, &saturated, finite,
                     quantize_avx512(a, scales, inverses, zero_points, lo, hi),
                     raw_lanes_avx512(tb, t_kind, k), lo, hi);
  }
  grid_finish_avx512(s, max_lsb, saturated);
}

/* The direct kernels of every pair of kinds they take: the reference a
 * float type, the target a float type or 8-bit. */
#define DIRECT_KERNEL(r_name, r_kind, t_name, t_kind)                          \
  __attribute__((target("avx512f"))) static int direct_##r_name##_##t_name(    \
      struct block_lanes *l, struct sums *s, const struct direct_params *dp,   \
      const void *r, const void *t, int64_t n)                                 \
  {                                                                            \
    const __m512d zero_points = _mm512_set1_pd(dp->zero_point);                \
    const __m512d scales = _mm512_set1_pd(dp->scale);                          \
    int nonfinite;                                                             \
    if (lanes_add_fast_avx512(l, s, dp, r, r_kind, t, t_kind, n, zero_points,  \
                              scales) == 0)                                    \
      return 0;                                                                \
    nonfinite = lanes_add_careful_avx512(l, r, r_kind, t, t_kind, n,           \
                                         zero_points, scales);                 \
    if (t_kind == DIRECT_UINT8 || t_kind == DIRECT_INT8)                       \
      grid_direct_avx512(s, dp, r, r_kind, t, t_kind, n);                      \
    return nonfinite;                                                          \
  }
#define DIRECT_KERNELS(r_name, r_kind)                                         \
  DIRECT_KERNEL(r_name, r_kind, f64, DIRECT_DOUBLE)                            \
  DIRECT_KERNEL(r_name, r_kind, f32, DIRECT_FLOAT)                             \
  DIRECT_KERNEL(r_name, r_kind, f16, DIRECT_HALF)                              \
  DIRECT_KERNEL(r_name, r_kind, u8, DIRECT_UINT8)                              \
  DIRECT_KERNEL(r_name, r_kind, i8, DIRECT_INT8)
DIRECT_KERNELS(f64, DIRECT_DOUBLE)
DIRECT_KERNELS(f32, DIRECT_FLOAT)
DIRECT_KERNELS(f16, DIRECT_HALF)
#define DIRECT_ROW(r_name)                                                     \
  {                                                                            \
    direct_##r_name##_f64, direct_##r_name##_f32, direct_##r_name##_f16,       \
        direct_##r_name##_u8, direct_##r_name##_i8                             \
  }

#define AVX512_DIRECT_KERNELS                                                  \
  {                                                                            \
    DIRECT_ROW(f64), DIRECT_ROW(f32), DIRECT_ROW(f16), {NULL},                 \
    {                                                                          \
      NULL                                                                     \
    }                                                                          \
  }
INSTANTIATE_KERNELS(avx512, __attribute__((target("avx512f"))),
                    AVX512_DIRECT_KERNELS);
#endif

static enum sc_metrics_path forced_path = SC_METRICS_PATH_AUTO;

/* Whether the CPU (and the OS, which __builtin_cpu_supports checks too)
 * runs a path's instructions. */
static int path_available(enum sc_metrics_path path)
{
  switch (path) {
  case SC_METRICS_PATH_AUTO:
  case SC_METRICS_PATH_PORTABLE:
    return 1;
#ifdef SC_METRICS_X86
  case SC_METRICS_PATH_AVX2:
    return __builtin_cpu_supports("avx2");
  case SC_METRICS_PATH_AVX512:
    return __builtin_cpu_supports("avx512f");
#endif
  default:
    return 0;
  }
}

int sc_metrics_force_path(enum sc_metrics_path path)
{
  if (!path_available(path))
    return -1;
  forced_path = path;
  return 0;
}

/* The kernels of a call: the forced path, else the widest available. */
static const struct kernels *kernels_pick(void)
{
  enum sc_metrics_path path = forced_path;
  if (path == SC_METRICS_PATH_AUTO)
    path = path_available(SC_METRICS_PATH_AVX512) ? SC_METRICS_PATH_AVX512
           : path_available(SC_METRICS_PATH_AVX2) ? SC_METRICS_PATH_AVX2
                                                  : SC_METRICS_PATH_PORTABLE;
  switch (path) {
#ifdef SC_METRICS_X86
  case SC_METRICS_PATH_AVX512:
    return &kernels_avx512;
  case SC_METRICS_PATH_AVX2:
    return &kernels_avx2;
#endif
  default:
    return &kernels_portable;
  }
}

/* Adds the grid's terms of a chunk, stretch by stretch. */
static void chunk_add_grid(struct sums *s, const struct pair *p,
                           const struct chunk *ch)
{
  double raw_r[CHUNK_SIZE], raw_t[CHUNK_SIZE];
  const struct grid *g = p->grid;
  const struct sc_quant *q = g->side->quant;
  int64_t j;

  for (j = 0; j < ch->n_stretches; j++) {
    const struct stretch *st = &ch->stretches[j];
    int64_t c = clamp_param(q, g->side == &p->r ? st->param_r : st->param_t);
    if (g->raw_r)
      p->kernels->load(&p->r, st->index, st->n, 0, 0, raw_r + st->at);
    if (g->raw_t)
      p->kernels->load(&p->t, st->index, st->n, 0, 0, raw_t + st->at);
    p->kernels->grid_add(s, g, ch->r + st->at, ch->t + st->at,
                         g->raw_r ? raw_r + st->at : NULL,
                         g->raw_t ? raw_t + st->at : NULL, st->n,
                         (double)q->scale[c], (double)q->zero_point[c]);
  }
}

/* The element index of position pos of sel when positions [pos, pos + n)
 * are consecutive elements (within one run), else -1. */
static int64_t run_index(const struct selection *sel, int64_t pos, int64_t n)
{
  int64_t run = pos / sel->run_size, offset = pos % sel->run_size;
  if (offset + n > sel->run_size)
    return -1;
  return sel->first + run * sel->run_stride + offset;
}

/* Where element i of a side is. */
static const void *side_at(const struct side *s, int64_t i)
{
  return (const char *)s->t->data + i * (int64_t)sc_dtype_size(s->t->dtype);
}

/* The sums of block `block` of sel into *s; max_ref_bound is a lower
 * bound of the accumulation's max |r| (its sample). */
static void block_accumulate(const struct pair *p, const struct selection *sel,
                             int64_t block, double max_ref_bound,
                             struct sums *s)
{
  struct chunk ch;
  struct block_lanes l;
  int64_t begin = block * BLOCK_SIZE, end = begin + BLOCK_SIZE, pos, n, j;

  if (end > selection_count(sel))
    end = selection_count(sel);
  sums_init(s);
  block_lanes_init(&l, max_ref_bound);
  for (pos = begin; pos < end; pos += n) {
    int64_t padded, index;
    n = end - pos < CHUNK_SIZE ? end - pos : CHUNK_SIZE;
    if (p->direct && n >= LANES &&
        (index = run_index(sel, pos, n - n % LANES)) >= 0) {
      /* whole lanes straight from the tensors; a short rest, last in the
       * block, comes next time round */
      n -= n % LANES;
      if (p->direct(&l, s, &p->direct_params, side_at(&p->r, index),
                    side_at(&p->t, index), n)) {
        chunk_load(p, sel, pos, n, &ch);
        count_nonfinite(s, &ch);
      } else {
        s->n += n;
      }
      continue;
    }
    padded = (n + LANES - 1) / LANES * LANES;
    chunk_load(p, sel, pos, n, &ch);
    if (p->kernels->add(&l, ch.r, ch.t, padded))
      count_nonfinite(s, &ch);
    else
      s->n += n;
    s->exact -= padded - n; /* the padding's pairs of zeros */
    if (p->grid)
      chunk_add_grid(s, p, &ch);
  }
  s->dot = lanes_total(l.dot);
  s->nr2 = lanes_total(l.nr2);
  s->nt2 = lanes_total(l.nt2);
  s->nd2 = lanes_total(l.nd2);
  s->sum_abs = lanes_total(l.sum_abs);
  for (j = 0; j < LANES; j++) {
    if (l.max_abs[j] > s->max_abs)
      s->max_abs = l.max_abs[j];
    if (l.max_ref[j] > s->max_ref)
      s->max_ref = l.max_ref[j];
    if (l.max_quotient[j] > s->max_quotient)
      s->max_quotient = l.max_quotient[j];
    if (l.min_quotient_ref[j] < s->min_quotient_ref)
      s->min_quotient_ref = l.min_quotient_ref[j];
    if (l.max_small_diff[j] > s->max_small_diff)
      s->max_small_diff = l.max_small_diff[j];
    s->exact += l.exact[j];
    s->n_small += l.n_small[j];
  }
}

/* max_rel of block `block` of sel the plain way, once the floor is
 * known. */
static double block_max_rel(const struct pair *p, const struct selection *sel,
                            int64_t block, double floor_ref)
{
  struct chunk ch;
  double max_rel = 0;
  int64_t begin = block * BLOCK_SIZE, end = begin + BLOCK_SIZE, pos, k;

  if (end > selection_count(sel))
    end = selection_count(sel);
  for (pos = begin; pos < end; pos += ch.n) {
    chunk_load(p, sel, pos, end - pos < CHUNK_SIZE ? end - pos : CHUNK_SIZE,
               &ch);
    for (k = 0; k < ch.n; k++) {
      double a = ch.r[k], b = ch.t[k], denom, rel;
      if (!isfinite(a) || !isfinite(b) || a == b)
        continue;
      denom = fabs(a) > floor_ref ? fabs(a) : floor_ref;
      rel = denom > 0 ? fabs(b - a) / denom : INFINITY;
      if (rel > max_rel)
        max_rel = rel;
    }
  }
  return max_rel;
}

/* A lower bound of an accumulation's max |r| over its finite pairs: the
 * largest at SAMPLES positions spread over it. */
static double sample_max_ref(const struct pair *p, const struct selection *sel)
{
  int64_t count = selection_count(sel), k;
  double max_ref = 0;

  for (k = 0; k < SAMPLES && k < count; k++) {
    int64_t pos = count <= SAMPLES ? k : k * (count / SAMPLES);
    int64_t index = sel->first + pos / sel->run_size * sel->run_stride +
                    pos % sel->run_size;
    int64_t end;
    double a, b;
    p->kernels->load(&p->r, index, 1, param_index(&p->r, index, &end),
                     p->r.dequantize, &a);
    p->kernels->load(&p->t, index, 1, param_index(&p->t, index, &end),
                     p->t.dequantize, &b);
    if (isfinite(a) && isfinite(b) && fabs(a) > max_ref)
      max_ref = fabs(a);
  }
  return max_ref;
}

/* The accumulations of one call: n_accumulations selections like sel,
 * accumulation a starting a * step elements after it, each cut into
 * n_blocks blocks; item i of the parallel loops is block i % n_blocks of
 * accumulation i / n_blocks. */
struct accumulation_job {
  const struct pair *p;
  struct selection sel;
  int64_t step, n_blocks;
  const double *max_ref_bounds; /* per accumulation */
  struct sums *blocks;          /* per item */
  /* blocks whose max_rel is recomputed, and their floor */
  const int64_t *redo;
  const double *redo_floor;
  double *redo_max_rel;
};

static struct selection job_selection(const struct accumulation_job *job,
                                      int64_t a)
{
  struct selection sel = job->sel;
  sel.first += a * job->step;
  return sel;
}

static void blocks_range(void *ctx, int64_t begin, int64_t end)
{
  const struct accumulation_job *job = ctx;
  int64_t i;
  for (i = begin; i < end; i++) {
    int64_t a = i / job->n_blocks;
    struct selection sel = job_selection(job, a);
    block_accumulate(job->p, &sel, i % job->n_blocks, job->max_ref_bounds[a],
                     &job->blocks[i]);
  }
}

static void redo_range(void *ctx, int64_t begin, int64_t end)
{
  const struct accumulation_job *job = ctx;
  int64_t i;
  for (i = begin; i < end; i++) {
    int64_t item = job->redo[i], a = item / job->n_blocks;
    struct selection sel = job_selection(job, a);
    job->redo_max_rel[i] =
        block_max_rel(job->p, &sel, item % job->n_blocks, job->redo_floor[i]);
  }
}

/* Items of grain per task so that a task has MIN_ELEMENTS_PER_TASK
 * elements of size_each at the least. */
static int64_t grain_of(int64_t size_each)
{
  return size_each > 0 ? (MIN_ELEMENTS_PER_TASK + size_each - 1) / size_each
                       : 1;
}

/* The metrics of the sums s of an accumulation (max_rel and top-1
 * aside). */
static void metrics_from_sums(const struct sums *s, int grid,
                              struct sc_metrics *m)
{
  int64_t n = s->n;
  memset(m, 0, sizeof *m);
  m->n_elements = n;
  m->nan_ref = s->nan_ref;
  m->nan_tgt = s->nan_tgt;
  m->inf_ref = s->inf_ref;
  m->inf_tgt = s->inf_tgt;
  if (s->nr2 == 0 && s->nt2 == 0)
    m->cosine = 1.0;
  else if (s->nr2 == 0 || s->nt2 == 0)
    m->cosine = 0.0;
  else
    m->cosine = s->dot / sqrt(s->nr2 * s->nt2);
  if (m->cosine > 1.0) /* rounding can push it a hair past 1 */
    m->cosine = 1.0;
  m->max_abs = s->max_abs;
  m->mean_abs = n ? s->sum_abs / (double)n : 0.0;
  m->rmse = n ? sqrt(s->nd2 / (double)n) : 0.0;
  m->sqnr_db = s->nd2 == 0   ? INFINITY
               : s->nr2 == 0 ? -INFINITY
                             : 10.0 * log10(s->nr2 / s->nd2);
  m->rel_l2 = s->nd2 == 0   ? 0.0
              : s->nr2 == 0 ? INFINITY
                            : sqrt(s->nd2 / s->nr2);
  m->exact_ratio = n ? (double)s->exact / (double)n : 1.0;
  if (grid) {
    m->has_lsb = 1;
    m->max_abs_lsb = s->max_lsb;
    m->saturation = n ? (double)s->saturated / (double)n : 0.0;
  }
}

/* Adds block b's sums to *s, in block order. */
static void sums_add_block(struct sums *s, const struct sums *b)
{
  s->dot += b->dot;
  s->nr2 += b->nr2;
  s->nt2 += b->nt2;
  s->nd2 += b->nd2;
  s->sum_abs += b->sum_abs;
  if (b->max_abs > s->max_abs)
    s->max_abs = b->max_abs;
  if (b->max_ref > s->max_ref)
    s->max_ref = b->max_ref;
  s->n += b->n;
  s->exact += b->exact;
  s->nan_ref += b->nan_ref;
  s->nan_tgt += b->nan_tgt;
  s->inf_ref += b->inf_ref;
  s->inf_tgt += b->inf_tgt;
  if (b->max_lsb > s->max_lsb)
    s->max_lsb = b->max_lsb;
  s->saturated += b->saturated;
}

/* The metrics of n_accumulations accumulations into out[0..) (top-1
 * aside), on `threads`. */
static sc_status accumulate(const struct pair *p, const struct selection *sel,
                            int64_t step, int64_t n_accumulations,
                            struct sc_threadpool *threads,
                            struct sc_metrics *out, struct sc_error *err)
{
  struct accumulation_job job;
  double *bounds = NULL, *floors = NULL, *redo_floor = NULL, *redo_rel = NULL;
  int64_t *redo = NULL;
  int64_t count = selection_count(sel), n_items, n_redo = 0, a, b;
  sc_status st = SC_OK;

  memset(&job, 0, sizeof job);
  job.p = p;
  job.sel = *sel;
  job.step = step;
  job.n_blocks = (count + BLOCK_SIZE - 1) / BLOCK_SIZE;
  n_items = n_accumulations * job.n_blocks;
  bounds = calloc((size_t)n_accumulations + 1, sizeof *bounds);
  floors = calloc((size_t)n_accumulations + 1, sizeof *floors);
  job.blocks = calloc((size_t)n_items + 1, sizeof *job.blocks);
  redo = calloc((size_t)n_items + 1, sizeof *redo);
  redo_floor = calloc((size_t)n_items + 1, sizeof *redo_floor);
  redo_rel = calloc((size_t)n_items + 1, sizeof *redo_rel);
  if (!bounds || !floors || !job.blocks || !redo || !redo_floor || !redo_rel) {
    st = sc_fail_nomem(err, "metrics");
    goto done;
  }
  for (a = 0; a < n_accumulations; a++) {
    struct selection s = job_selection(&job, a);
    bounds[a] = sample_max_ref(p, &s);
  }
  job.max_ref_bounds = bounds;
  sc_parallel_for(threads, n_items,
                  grain_of(count < BLOCK_SIZE ? count : BLOCK_SIZE),
                  blocks_range, &job);

  for (a = 0; a < n_accumulations; a++) {
    struct sums total;
    sums_init(&total);
    for (b = 0; b < job.n_blocks; b++)
      sums_add_block(&total, &job.blocks[a * job.n_blocks + b]);
    metrics_from_sums(&total, p->grid != NULL, &out[a]);
    floors[a] = 1e-12 * total.max_ref;
    for (b = 0; b < job.n_blocks; b++)
      if (!(job.blocks[a * job.n_blocks + b].min_quotient_ref > floors[a])) {
        redo[n_redo] = a * job.n_blocks + b;
        redo_floor[n_redo++] = floors[a];
      }
  }
  job.redo = redo;
  job.redo_floor = redo_floor;
  job.redo_max_rel = redo_rel;
  sc_parallel_for(threads, n_redo, grain_of(BLOCK_SIZE), redo_range, &job);

  for (a = 0, n_redo = 0; a < n_accumulations; a++) {
    double max_rel = 0;
    for (b = 0; b < job.n_blocks; b++) {
      int64_t item = a * job.n_blocks + b;
      const struct sums *s = &job.blocks[item];
      if (!(s->min_quotient_ref > floors[a])) { /* recomputed, in order */
        if (redo_rel[n_redo] > max_rel)
          max_rel = redo_rel[n_redo];
        n_redo++;
        continue;
      }
      if (s->max_quotient > max_rel)
        max_rel = s->max_quotient;
      if (s->n_small) {
        double small = floors[a] > 0 ? s->max_small_diff / floors[a] : INFINITY;
        if (small > max_rel)
          max_rel = small;
      }
    }
    out[a].max_rel = max_rel;
  }
done:
  free(bounds);
  free(floors);
  free(job.blocks);
  free(redo);
  free(redo_floor);
  free(redo_rel);
  return st;
}

/* Share of positions (all axes but `axis`) whose argmax along axis agree:
 * positions are taken CHUNK_SIZE at a time (a tile), channel after
 * channel, tiles shared among the threads. */
struct top1_job {
  const struct pair *p;
  int64_t inner, dim, tiles_per_outer;
  int64_t *agree; /* per tile */
};

static void top1_range(void *ctx, int64_t begin, int64_t end)
{
  const struct top1_job *job = ctx;
  double value_r[CHUNK_SIZE], value_t[CHUNK_SIZE];
  int64_t best_r[CHUNK_SIZE], best_t[CHUNK_SIZE];
  struct chunk ch;
  int64_t tile, c, k;

  for (tile = begin; tile < end; tile++) {
    int64_t o = tile / job->tiles_per_outer;
    int64_t in = tile % job->tiles_per_outer * CHUNK_SIZE;
    int64_t n = job->inner - in < CHUNK_SIZE ? job->inner - in : CHUNK_SIZE;
    int64_t agree = 0;
    for (k = 0; k < n; k++) {
      value_r[k] = value_t[k] = -INFINITY;
      best_r[k] = best_t[k] = 0;
    }
    for (c = 0; c < job->dim; c++) {
      struct selection sel = {(o * job->dim + c) * job->inner + in, 1, n, 0};
      chunk_load(job->p, &sel, 0, n, &ch);
      for (k = 0; k < n; k++) {
        if (ch.r[k] > value_r[k]) {
          value_r[k] = ch.r[k];
          best_r[k] = c;
        }
        if (ch.t[k] > value_t[k]) {
          value_t[k] = ch.t[k];
          best_t[k] = c;
        }
      }
    }
    for (k = 0; k < n; k++)
      agree += best_r[k] == best_t[k];
    job->agree[tile] = agree;
  }
}

static sc_status top1_agreement(const struct pair *p, int axis,
                                struct sc_threadpool *threads, double *out,
                                struct sc_error *err)
{
  const struct sc_tensor *x = p->r.t;
  struct top1_job job;
  int64_t outer = 1, n_tiles, tile, agree = 0;
  int a;

  job.p = p;
  job.inner = 1;
  job.dim = x->dims[axis];
  for (a = axis + 1; a < x->rank; a++)
    job.inner *= x->dims[a];
  for (a = 0; a < axis; a++)
    outer *= x->dims[a];
  *out = 1.0;
  if (job.dim == 0 || outer * job.inner == 0)
    return SC_OK;
  job.tiles_per_outer = (job.inner + CHUNK_SIZE - 1) / CHUNK_SIZE;
  n_tiles = outer * job.tiles_per_outer;
  job.agree = calloc((size_t)n_tiles, sizeof *job.agree);
  if (!job.agree)
    return sc_fail_nomem(err, "top-1 agreement");
  sc_parallel_for(
      threads, n_tiles,
      grain_of(job.dim * (job.inner < CHUNK_SIZE ? job.inner : CHUNK_SIZE)),
      top1_range, &job);
  for (tile = 0; tile < n_tiles; tile++)
    agree += job.agree[tile];
  free(job.agree);
  *out = (double)agree / (double)(outer * job.inner);
  return SC_OK;
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

/* The direct kind of a side, or -1 when it takes side_load_body's other
 * conversions (or per-axis parameters). */
static int direct_kind_of(const struct side *s)
{
  switch (s->t->dtype) {
  case SC_DTYPE_DOUBLE:
    return DIRECT_DOUBLE;
  case SC_DTYPE_FLOAT:
    return DIRECT_FLOAT;
  case SC_DTYPE_FLOAT16:
    return DIRECT_HALF;
  case SC_DTYPE_UINT8:
    return s->dequantize && !s->per_axis ? DIRECT_UINT8 : -1;
  case SC_DTYPE_INT8:
    return s->dequantize && !s->per_axis ? DIRECT_INT8 : -1;
  default:
    return -1;
  }
}

/* The direct kernel of a pair, or NULL: both sides plain floats without a
 * grid, or a float reference against an 8-bit target with per-tensor
 * parameters that define the grid (sums and grid in one pass). */
static void direct_init(struct pair *p)
{
  int r_kind = direct_kind_of(&p->r), t_kind = direct_kind_of(&p->t);
  struct direct_params *dp = &p->direct_params;

  p->direct = NULL;
  memset(dp, 0, sizeof *dp);
  if (r_kind < 0 || t_kind < 0 || p->r.dequantize)
    return;
  if (p->t.dequantize) {
    const struct sc_quant *q = p->t.quant;
    int64_t c = clamp_param(q, 0);
    if (!p->grid || p->grid->side != &p->t || !p->grid->raw_t)
      return;
    dp->scale = (double)q->scale[c];
    dp->zero_point = (double)q->zero_point[c];
    dp->lo = p->grid->lo;
    dp->hi = p->grid->hi;
  } else if (p->grid) {
    return;
  }
  p->direct = p->kernels->direct[r_kind][t_kind];
}

static void pair_init(struct pair *p, struct grid *grid,
                      const struct sc_tensor *reference,
                      const struct sc_tensor *target,
                      const struct sc_metrics_options *options)
{
  side_init(&p->r, reference, options ? options->reference_quant : NULL);
  side_init(&p->t, target, options ? options->target_quant : NULL);
  p->grid = grid_init(grid, &p->r, &p->t) ? grid : NULL;
  p->kernels = kernels_pick();
  direct_init(p);
}

sc_status sc_metrics_compute(const struct sc_tensor *reference,
                             const struct sc_tensor *target,
                             const struct sc_metrics_options *options,
                             struct sc_metrics *out, struct sc_error *err)
{
  struct sc_threadpool *threads = options ? options->threads : NULL;
  struct pair p;
  struct grid grid;
  struct selection all = {0, 1, 0, 0};
  sc_status st = check_pair(reference, target, err);

  if (st)
    return st;
  pair_init(&p, &grid, reference, target, options);
  all.run_size = reference->n_elements;
  st = accumulate(&p, &all, 0, 1, threads, out, err);
  if (st)
    return st;
  if (options && options->top1_axis >= 0 &&
      options->top1_axis < reference->rank) {
    out->has_top1 = 1;
    return top1_agreement(&p, options->top1_axis, threads, &out->top1_agree,
                          err);
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
  int64_t inner = 1, outer = 1;
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
  /* channel c: the runs of `inner` elements at c, c + dim, c + 2 dim... */
  channel.first = 0;
  channel.n_runs = outer;
  channel.run_size = inner;
  channel.run_stride = reference->dims[axis] * inner;
  return accumulate(&p, &channel, inner, reference->dims[axis],
                    options ? options->threads : NULL, out, err);
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
