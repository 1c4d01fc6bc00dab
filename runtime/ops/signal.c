/* Operator family: signal processing (opset 17) — DFT, STFT, HannWindow,
 * HammingWindow, BlackmanWindow and MelWeightMatrix.
 *
 * Complex values are carried as a trailing dimension of 2 (real,
 * imaginary), real signals as a trailing dimension of 1, as in ONNX. Every
 * transform is computed in double: a radix-2 FFT when the length is a power
 * of two, otherwise the direct O(n^2) sum over a table of twiddle factors.
 * The inverse transform is scaled by 1/n. `onesided` keeps the first
 * floor(n/2) + 1 bins of the full transform (for complex input too, like
 * the ONNX reference).
 *
 * The window and mel operators produce `output_datatype` whatever their
 * inputs; MelWeightMatrix reads its float16 / bfloat16 inputs itself rather
 * than through SC_OP_F16_VIA_FLOAT, which would round a float output to the
 * inputs' type. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const struct sc_tensor *input_at(const struct sc_node *node, int i)
{
  return i < node->n_inputs ? node->in[i] : NULL;
}

/* sc_tensor_set_shape on output i, naming the node in the message when
 * the shape is refused (overflow, hostile size). */
static sc_status set_output_shape(const struct sc_node *node, int i, int rank,
                                  const int64_t *dims, struct sc_error *err)
{
  sc_status s = sc_tensor_set_shape(node->out[i], rank, dims, err);
  if (s)
    sc_error_prefix(err, "node '%s' (%s): output %d: ", node->name,
                    node->op_type, i);
  return s;
}

static const enum sc_dtype real_types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
static const enum sc_dtype index_types[] = {SC_DTYPE_INT32, SC_DTYPE_INT64};

/* Value of the one-element integer input i into *v; *known = 0 when its
 * data is not known yet. Fails naming the node when it has more or fewer
 * than one element. */
static sc_status scalar_int(const struct sc_node *node, int i, int64_t *v,
                            int *known, struct sc_error *err)
{
  const struct sc_tensor *t = node->in[i];
  if (t->n_elements != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input %d ('%s') must hold one value, not %lld", i,
                        sc_node_input_name(node, i), (long long)t->n_elements);
  if (!t->data) {
    *known = 0;
    return SC_OK;
  }
  *v = sc_dtype_load_i64(t->dtype, t->data, 0);
  return SC_OK;
}

/* ===================================================================== */
/* Discrete Fourier transform of one line                                 */
/* ===================================================================== */

/* Lengths up to this use the direct sum when they are not a power of two;
 * longer ones use Bluestein's algorithm (O(n log n)). */
#define DFT_DIRECT_MAX 64

enum dft_method { DFT_RADIX2, DFT_DIRECT, DFT_BLUESTEIN };

/* A forward transform of length n and its scratch, created once per run.
 * The inverse is computed as conj(DFT(conj(x))) / n. */
struct dft_plan {
  int64_t n;
  enum dft_method method;
  double *tw;   /* radix-2 / direct: n twiddles e^(-2 pi i m / n) */
  double *line; /* n complex values being transformed */
  double *work; /* direct: n values; Bluestein: m values */
  /* Bluestein: the chirp e^(-pi i j^2 / n) (n values), the power of two
   * m >= 2n - 1, its twiddles, and the transform of the conjugated chirp
   * laid out for a circular convolution (m values). */
  int64_t m;
  double *chirp, *tw_m, *kernel;
};

static void dft_plan_free(struct dft_plan *p)
{
  free(p->tw);
  free(p->line);
  free(p->work);
  free(p->chirp);
  free(p->tw_m);
  free(p->kernel);
  memset(p, 0, sizeof *p);
}

/* n complex doubles, or NULL (with *st set) when the size is hostile or
 * memory is short. */
static double *complex_alloc(int64_t n, const struct sc_node *node,
                             sc_status *st, struct sc_error *err)
{
  int64_t count;
  double *v;
  *st = sc_shape_count(2, (int64_t[2]){n, 2}, sizeof(double), &count,
                       node->name, err);
  if (*st)
    return NULL;
  v = malloc((size_t)count * sizeof *v);
  if (!v)
    *st = sc_fail_nomem(err, "DFT tables");
  return v;
}

/* twiddles e^(-2 pi i k / n), k < n */
static void twiddles(double *tw, int64_t n)
{
  int64_t k;
  for (k = 0; k < n; k++) {
    double angle = 2.0 * M_PI * (double)k / (double)n;
    tw[2 * k] = cos(angle);
    tw[2 * k + 1] = -sin(angle);
  }
}

/* In-place iterative radix-2 forward FFT of n (a power of two) complex
 * values with the twiddles of length n. */
static void fft_radix2(double *x, int64_t n, const double *tw)
{
  int64_t i, j, len, k;
  for (i = 1, j = 0; i < n; i++) { /* bit-reversal permutation */
    int64_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j) {
      double re = x[2 * i], im = x[2 * i + 1];
      x[2 * i] = x[2 * j];
      x[2 * i + 1] = x[2 * j + 1];
      x[2 * j] = re;
      x[2 * j + 1] = im;
    }
  }
  for (len = 2; len <= n; len <<= 1) {
    int64_t step = n / len;
    for (i = 0; i < n; i += len)
      for (k = 0; k < len / 2; k++) {
        const double *w = tw + 2 * k * step;
        double *a = x + 2 * (i + k), *b = x + 2 * (i + k + len / 2);
        double re = b[0] * w[0] - b[1] * w[1];
        double im = b[0] * w[1] + b[1] * w[0];
        b[0] = a[0] - re;
        b[1] = a[1] - im;
        a[0] += re;
        a[1] += im;
      }
  }
}

static void conjugate(double *x, int64_t n)
{
  int64_t k;
  for (k = 0; k < n; k++)
    x[2 * k + 1] = -x[2 * k + 1];
}

/* Bluestein tables: chirp, twiddles of m and the kernel's transform. */
static void bluestein_init(struct dft_plan *p)
{
  int64_t n = p->n, m = p->m, j, sq = 0; /* sq = j^2 mod 2n */
  for (j = 0; j < n; j++) {
    double angle = M_PI * (double)sq / (double)n;
    p->chirp[2 * j] = cos(angle);
    p->chirp[2 * j + 1] = -sin(angle);
    sq += 2 * j + 1;
    while (sq >= 2 * n)
      sq -= 2 * n;
  }
  twiddles(p->tw_m, m);
  memset(p->kernel, 0, (size_t)(2 * m) * sizeof *p->kernel);
  for (j = 0; j < n; j++) { /* conj(chirp) at j and at -j (mod m) */
    p->kernel[2 * j] = p->chirp[2 * j];
    p->kernel[2 * j + 1] = -p->chirp[2 * j + 1];
    if (j > 0) {
      p->kernel[2 * (m - j)] = p->kernel[2 * j];
      p->kernel[2 * (m - j) + 1] = p->kernel[2 * j + 1];
    }
  }
  fft_radix2(p->kernel, m, p->tw_m);
}

/* Fills p for length n (>= 1). On failure the caller still calls
 * dft_plan_free. */
static sc_status dft_plan_init(struct dft_plan *p, int64_t n,
                               const struct sc_node *node, struct sc_error *err)
{
  sc_status st = SC_OK;
  memset(p, 0, sizeof *p);
  p->n = n;
  if ((n & (n - 1)) == 0)
    p->method = DFT_RADIX2;
  else if (n <= DFT_DIRECT_MAX)
    p->method = DFT_DIRECT;
  else
    p->method = DFT_BLUESTEIN;
  p->line = complex_alloc(n, node, &st, err);
  if (st)
    return st;
  if (p->method != DFT_BLUESTEIN) {
    p->tw = complex_alloc(n, node, &st, err);
    if (!st && p->method == DFT_DIRECT)
      p->work = complex_alloc(n, node, &st, err);
    if (!st)
      twiddles(p->tw, n);
    return st;
  }
  for (p->m = 1; p->m < 2 * n - 1; p->m <<= 1)
    ;
  p->chirp = complex_alloc(n, node, &st, err);
  if (!st)
    p->tw_m = complex_alloc(p->m, node, &st, err);
  if (!st)
    p->kernel = complex_alloc(p->m, node, &st, err);
  if (!st)
    p->work = complex_alloc(p->m, node, &st, err);
  if (!st)
    bluestein_init(p);
  return st;
}

/* Direct O(n^2) forward transform of p->line. */
static void dft_direct(struct dft_plan *p)
{
  int64_t n = p->n, k, j;
  for (k = 0; k < n; k++) {
    double re = 0, im = 0;
    int64_t m = 0; /* (j * k) mod n */
    for (j = 0; j < n; j++) {
      const double *w = p->tw + 2 * m, *x = p->line + 2 * j;
      re += x[0] * w[0] - x[1] * w[1];
      im += x[0] * w[1] + x[1] * w[0];
      m += k;
      if (m >= n)
        m -= n;
    }
    p->work[2 * k] = re;
    p->work[2 * k + 1] = im;
  }
  memcpy(p->line, p->work, (size_t)(2 * n) * sizeof *p->line);
}

/* Bluestein's forward transform of p->line: X[k] = chirp[k] *
 * sum_j (x[j] chirp[j]) conj(chirp[k - j]), the sum a circular
 * convolution of length m done with radix-2 FFTs. */
static void dft_bluestein(struct dft_plan *p)
{
  int64_t n = p->n, m = p->m, k;
  double *a = p->work;
  memset(a, 0, (size_t)(2 * m) * sizeof *a);
  for (k = 0; k < n; k++) {
    const double *x = p->line + 2 * k, *c = p->chirp + 2 * k;
    a[2 * k] = x[0] * c[0] - x[1] * c[1];
    a[2 * k + 1] = x[0] * c[1] + x[1] * c[0];
  }
  fft_radix2(a, m, p->tw_m);
  for (k = 0; k < m; k++) {
    const double *b = p->kernel + 2 * k;
    double re = a[2 * k] * b[0] - a[2 * k + 1] * b[1];
    double im = a[2 * k] * b[1] + a[2 * k + 1] * b[0];
    a[2 * k] = re;
    a[2 * k + 1] = -im; /* conjugated: the inverse FFT by conjugation */
  }
  fft_radix2(a, m, p->tw_m);
  for (k = 0; k < n; k++) {
    double re = a[2 * k] / (double)m, im = -a[2 * k + 1] / (double)m;
    const double *c = p->chirp + 2 * k;
    p->line[2 * k] = re * c[0] - im * c[1];
    p->line[2 * k + 1] = re * c[1] + im * c[0];
  }
}

/* Transforms p->line (n complex values) in place; the inverse transform
 * is scaled by 1/n. */
static void dft_line(struct dft_plan *p, int inverse)
{
  int64_t k;
  if (inverse)
    conjugate(p->line, p->n);
  switch (p->method) {
  case DFT_RADIX2:
    fft_radix2(p->line, p->n, p->tw);
    break;
  case DFT_DIRECT:
    dft_direct(p);
    break;
  case DFT_BLUESTEIN:
    dft_bluestein(p);
    break;
  }
  if (inverse) {
    conjugate(p->line, p->n);
    for (k = 0; k < 2 * p->n; k++)
      p->line[k] /= (double)p->n;
  }
}

/* ===================================================================== */
/* DFT                                                                    */
/* ===================================================================== */

struct dft_state {
  int64_t axis;
  int inverse, onesided;
};

static sc_status dft_prepare(struct sc_node *node, struct sc_error *err)
{
  struct dft_state *st;
  int64_t axis, inverse, onesided;
  sc_status s = sc_check_arity(node, 1, 2, 1, 1, err);
  if (!s)
    s = sc_check_dtype(node, 0, real_types, 2, err);
  if (!s)
    s = sc_check_dtype(node, 1, index_types, 2, err);
  if (!s)
    s = sc_node_attr_int(node, "axis", 1, &axis, err);
  if (!s)
    s = sc_node_attr_int(node, "inverse", 0, &inverse, err);
  if (!s)
    s = sc_node_attr_int(node, "onesided", 0, &onesided, err);
  if (s)
    return s;
  if ((inverse != 0 && inverse != 1) || (onesided != 0 && onesided != 1))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "inverse and onesided must be 0 or 1");
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "DFT state");
  st->axis = axis;
  st->inverse = (int)inverse;
  st->onesided = (int)onesided;
  node->state = st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static void state_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Checks a signal's trailing dimension (1: real, 2: complex). */
static sc_status check_complex_dim(const struct sc_node *node,
                                   const struct sc_tensor *t, int min_rank,
                                   struct sc_error *err)
{
  char buf[160];
  if (t->rank < min_rank ||
      (t->dims[t->rank - 1] != 1 && t->dims[t->rank - 1] != 2))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input 0 has shape %s: expected rank >= %d and a last "
                        "dimension of 1 (real) or 2 (complex)",
                        sc_shape_format(t->rank, t->dims, buf, sizeof buf),
                        min_rank);
  return SC_OK;
}

/* The transform axis and length; *known = 0 when dft_length's value is
 * not known yet. */
static sc_status dft_geometry(const struct sc_node *node, int *axis, int64_t *n,
                              int *known, struct sc_error *err)
{
  const struct dft_state *st = node->state;
  const struct sc_tensor *x = node->in[0];
  sc_status s = check_complex_dim(node, x, 2, err);
  if (s)
    return s;
  if (st->axis < -x->rank || st->axis >= x->rank - 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "axis %lld is not a signal axis of rank %d",
                        (long long)st->axis, x->rank);
  *axis = (int)(st->axis < 0 ? st->axis + x->rank : st->axis);
  if (*axis == x->rank - 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "axis %lld is the complex dimension",
                        (long long)st->axis);
  *known = 1;
  *n = x->dims[*axis];
  if (input_at(node, 1)) {
    s = scalar_int(node, 1, n, known, err);
    if (s || !*known)
      return s;
  }
  if (*n < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "dft_length %lld must be positive", (long long)*n);
  return SC_OK;
}

static sc_status dft_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct dft_state *st = node->state;
  int64_t dims[SC_MAX_RANK], n = 0;
  int axis = 0, known = 0;
  sc_status s = dft_geometry(node, &axis, &n, &known, err);
  if (s)
    return s;
  if (!known)
    return sc_node_defer(node);
  memcpy(dims, node->in[0]->dims, sizeof dims);
  dims[axis] = st->onesided ? n / 2 + 1 : n;
  dims[node->in[0]->rank - 1] = 2;
  return set_output_shape(node, 0, node->in[0]->rank, dims, err);
}

/* Run of DFT: every line along the axis, one at a time. Fails only on
 * allocation. */
static sc_status dft_run(struct sc_node *node, struct sc_error *err)
{
  const struct dft_state *st = node->state;
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  struct dft_plan plan;
  int64_t n = 0, outer = 1, inner = 1, o, j, k, n_in, n_out, comp;
  int axis = 0, known = 0, d;
  sc_status s = dft_geometry(node, &axis, &n, &known, err);
  if (s)
    return s;
  if (y->n_elements == 0)
    return SC_OK;
  s = dft_plan_init(&plan, n, node, err);
  if (s) {
    dft_plan_free(&plan);
    return s;
  }
  for (d = 0; d < axis; d++)
    outer *= x->dims[d];
  for (d = axis + 1; d < x->rank - 1; d++)
    inner *= x->dims[d];
  comp = x->dims[x->rank - 1];
  n_in = x->dims[axis] < n ? x->dims[axis] : n;
  n_out = y->dims[axis];
  for (o = 0; o < outer; o++)
    for (j = 0; j < inner; j++) {
      memset(plan.line, 0, (size_t)(2 * n) * sizeof *plan.line);
      for (k = 0; k < n_in; k++) {
        int64_t at = ((o * x->dims[axis] + k) * inner + j) * comp;
        plan.line[2 * k] = sc_dtype_load(x->dtype, x->data, at);
        if (comp == 2)
          plan.line[2 * k + 1] = sc_dtype_load(x->dtype, x->data, at + 1);
      }
      dft_line(&plan, st->inverse);
      for (k = 0; k < n_out; k++) {
        int64_t at = ((o * n_out + k) * inner + j) * 2;
        sc_dtype_store(y->dtype, y->data, at, plan.line[2 * k]);
        sc_dtype_store(y->dtype, y->data, at + 1, plan.line[2 * k + 1]);
      }
    }
  dft_plan_free(&plan);
  return SC_OK;
}

/* ===================================================================== */
/* STFT                                                                   */
/* ===================================================================== */

static sc_status stft_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t onesided;
  int *state;
  sc_status s = sc_check_arity(node, 2, 4, 1, 1, err);
  if (!s)
    s = sc_check_dtype(node, 0, real_types, 2, err);
  if (!s)
    s = sc_check_dtype(node, 1, index_types, 2, err);
  if (!s)
    s = sc_check_dtype(node, 3, index_types, 2, err);
  if (!s && input_at(node, 2) && node->in[2]->dtype != node->in[0]->dtype)
    s = sc_node_fail(
        node, err, SC_ERR_FORMAT, "window has dtype %s, signal has %s",
        sc_dtype_name(node->in[2]->dtype), sc_dtype_name(node->in[0]->dtype));
  if (!s)
    s = sc_node_attr_int(node, "onesided", 1, &onesided, err);
  if (s)
    return s;
  if (onesided != 0 && onesided != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "onesided must be 0 or 1, not %lld",
                        (long long)onesided);
  state = malloc(sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "STFT state");
  *state = (int)onesided;
  node->state = state;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

struct stft_geometry {
  int64_t step, frame_length, n_frames, n_bins;
};

/* Frame step, frame length (from frame_length or the window's length) and
 * frame count; *known = 0 when a needed value is not known yet. */
static sc_status stft_geometry(const struct sc_node *node,
                               struct stft_geometry *g, int *known,
                               struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *window = input_at(node, 2);
  const struct sc_tensor *length = input_at(node, 3);
  int onesided = *(const int *)node->state;
  sc_status s = check_complex_dim(node, x, 3, err);
  if (!s && x->rank != 3)
    s = sc_node_fail(node, err, SC_ERR_FORMAT,
                     "signal must be [batch, length, 1 or 2], rank %d given",
                     x->rank);
  if (!s && window && window->rank != 1)
    s = sc_node_fail(node, err, SC_ERR_FORMAT,
                     "window must have rank 1, not %d", window->rank);
  if (!s && !window && !length)
    s = sc_node_fail(node, err, SC_ERR_FORMAT,
                     "needs a window or a frame_length");
  *known = 1;
  if (!s)
    s = scalar_int(node, 1, &g->step, known, err);
  g->frame_length = window ? window->dims[0] : 0;
  if (!s && length)
    s = scalar_int(node, 3, &g->frame_length, known, err);
  if (s || !*known)
    return s;
  if (window && window->dims[0] != g->frame_length)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "window has %lld values but frame_length is %lld",
                        (long long)window->dims[0], (long long)g->frame_length);
  if (g->step < 1 || g->frame_length < 1 || g->frame_length > x->dims[1])
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "frame_step %lld and frame_length %lld must be "
                        "positive, and frames no longer than the signal "
                        "(%lld)",
                        (long long)g->step, (long long)g->frame_length,
                        (long long)x->dims[1]);
  g->n_frames = (x->dims[1] - g->frame_length) / g->step + 1;
  g->n_bins = onesided ? g->frame_length / 2 + 1 : g->frame_length;
  return SC_OK;
}

static sc_status stft_reshape(struct sc_node *node, struct sc_error *err)
{
  struct stft_geometry g;
  int64_t dims[4];
  int known;
  sc_status s = stft_geometry(node, &g, &known, err);
  if (s)
    return s;
  if (!known)
    return sc_node_defer(node);
  dims[0] = node->in[0]->dims[0];
  dims[1] = g.n_frames;
  dims[2] = g.n_bins;
  dims[3] = 2;
  return set_output_shape(node, 0, 4, dims, err);
}

/* Run of STFT: one transform per (batch, frame). Fails only on
 * allocation. */
static sc_status stft_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *window = input_at(node, 2);
  struct sc_tensor *y = node->out[0];
  struct stft_geometry g;
  struct dft_plan plan;
  int64_t b, f, k, comp = x->dims[2], length = x->dims[1];
  int known;
  sc_status s = stft_geometry(node, &g, &known, err);
  if (s)
    return s;
  if (y->n_elements == 0)
    return SC_OK;
  s = dft_plan_init(&plan, g.frame_length, node, err);
  if (s) {
    dft_plan_free(&plan);
    return s;
  }
  for (b = 0; b < x->dims[0]; b++)
    for (f = 0; f < g.n_frames; f++) {
      for (k = 0; k < g.frame_length; k++) {
        int64_t at = (b * length + f * g.step + k) * comp;
        double w = window ? sc_dtype_load(window->dtype, window->data, k) : 1;
        plan.line[2 * k] = w * sc_dtype_load(x->dtype, x->data, at);
        plan.line[2 * k + 1] =
            comp == 2 ? w * sc_dtype_load(x->dtype, x->data, at + 1) : 0;
      }
      dft_line(&plan, 0);
      for (k = 0; k < g.n_bins; k++) {
        int64_t at = ((b * g.n_frames + f) * g.n_bins + k) * 2;
        sc_dtype_store(y->dtype, y->data, at, plan.line[2 * k]);
        sc_dtype_store(y->dtype, y->data, at + 1, plan.line[2 * k + 1]);
      }
    }
  dft_plan_free(&plan);
  return SC_OK;
}

/* ===================================================================== */
/* Window functions                                                       */
/* ===================================================================== */

/* Reads `output_datatype` (default float) and checks it names a numeric
 * type; sets output 0's dtype. */
static sc_status output_datatype(struct sc_node *node, struct sc_error *err)
{
  int64_t t;
  sc_status s =
      sc_node_attr_int(node, "output_datatype", SC_DTYPE_FLOAT, &t, err);
  if (s)
    return s;
  if (t < 0 || t > SC_DTYPE_BFLOAT16 || t == SC_DTYPE_BOOL ||
      !(sc_dtype_is_float((enum sc_dtype)t) ||
        sc_dtype_is_integer((enum sc_dtype)t)))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "output_datatype %lld is not a numeric type",
                        (long long)t);
  node->out[0]->dtype = (enum sc_dtype)t;
  return SC_OK;
}

enum window_kind { WINDOW_HANN, WINDOW_HAMMING, WINDOW_BLACKMAN };

struct window_state {
  enum window_kind kind;
  int periodic;
};

static sc_status window_prepare(struct sc_node *node, struct sc_error *err)
{
  struct window_state *st;
  int64_t periodic;
  sc_status s = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!s)
    s = sc_check_dtype(node, 0, index_types, 2, err);
  if (!s)
    s = sc_node_attr_int(node, "periodic", 1, &periodic, err);
  if (!s)
    s = output_datatype(node, err);
  if (s)
    return s;
  if (periodic != 0 && periodic != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "periodic must be 0 or 1, not %lld",
                        (long long)periodic);
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "window state");
  st->kind = strcmp(node->op_type, "HannWindow") == 0      ? WINDOW_HANN
             : strcmp(node->op_type, "HammingWindow") == 0 ? WINDOW_HAMMING
                                                           : WINDOW_BLACKMAN;
  st->periodic = (int)periodic;
  node->state = st;
  return SC_OK;
}

static sc_status window_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t size = 0;
  int known = 1;
  sc_status s = scalar_int(node, 0, &size, &known, err);
  if (s)
    return s;
  if (!known)
    return sc_node_defer(node);
  if (size < 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "window size %lld is negative", (long long)size);
  return set_output_shape(node, 0, 1, &size, err);
}

/* Generalized cosine windows: a0 - a1 cos(2 pi k / N) + a2 cos(4 pi k / N)
 * with N = size (periodic) or size - 1 (symmetric). A symmetric window of
 * one sample is [1] (as numpy and PyTorch). */
static sc_status window_run(struct sc_node *node, struct sc_error *err)
{
  const struct window_state *st = node->state;
  struct sc_tensor *y = node->out[0];
  int64_t k, size = y->dims[0];
  double a0, a1, a2 = 0, n = st->periodic ? (double)size : (double)(size - 1);
  (void)err;
  switch (st->kind) {
  case WINDOW_HANN:
    a0 = a1 = 0.5;
    break;
  case WINDOW_HAMMING:
    a0 = 25.0 / 46.0;
    a1 = 1 - a0;
    break;
  case WINDOW_BLACKMAN:
  default:
    a0 = 0.42;
    a1 = 0.5;
    a2 = 0.08;
    break;
  }
  for (k = 0; k < size; k++) {
    double v = 1.0, phase = n > 0 ? 2.0 * M_PI * (double)k / n : 0;
    if (n > 0)
      v = a0 - a1 * cos(phase) + a2 * cos(2 * phase);
    sc_dtype_store(y->dtype, y->data, k, v);
  }
  return SC_OK;
}

/* ===================================================================== */
/* MelWeightMatrix                                                        */
/* ===================================================================== */

static sc_status mel_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype hertz_types[] = {
      SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE, SC_DTYPE_FLOAT16, SC_DTYPE_BFLOAT16};
  int i;
  sc_status s = sc_check_arity(node, 5, 5, 1, 1, err);
  for (i = 0; !s && i < 3; i++)
    s = sc_check_dtype(node, i, index_types, 2, err);
  for (i = 3; !s && i < 5; i++)
    s = sc_check_dtype(node, i, hertz_types, 4, err);
  if (!s)
    s = output_datatype(node, err);
  return s;
}

struct mel_params {
  int64_t n_mel, dft_length, sample_rate;
  double lower, upper;
};

/* Reads and checks the five scalar inputs; *known = 0 when the values
 * setting the shape are not known yet. Edge frequencies are checked only
 * when known. */
static sc_status mel_params_of(const struct sc_node *node, struct mel_params *p,
                               int *known, struct sc_error *err)
{
  int i;
  sc_status s = SC_OK;
  *known = 1;
  s = scalar_int(node, 0, &p->n_mel, known, err);
  if (!s)
    s = scalar_int(node, 1, &p->dft_length, known, err);
  if (!s)
    s = scalar_int(node, 2, &p->sample_rate, known, err);
  for (i = 3; !s && i < 5; i++)
    if (node->in[i]->n_elements != 1)
      s = sc_node_fail(node, err, SC_ERR_FORMAT,
                       "input %d ('%s') must hold one value", i,
                       sc_node_input_name(node, i));
  if (s || !*known)
    return s;
  if (p->n_mel < 1 || p->dft_length < 1 || p->sample_rate < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "num_mel_bins %lld, dft_length %lld and sample_rate "
                        "%lld must be positive",
                        (long long)p->n_mel, (long long)p->dft_length,
                        (long long)p->sample_rate);
  if (!node->in[3]->data || !node->in[4]->data) {
    p->lower = p->upper = -1; /* checked again before running */
    return SC_OK;
  }
  p->lower = sc_dtype_load(node->in[3]->dtype, node->in[3]->data, 0);
  p->upper = sc_dtype_load(node->in[4]->dtype, node->in[4]->data, 0);
  if (!(p->lower >= 0 && p->upper >= p->lower && isfinite(p->upper)))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "edge frequencies %g and %g must satisfy 0 <= lower "
                        "<= upper",
                        p->lower, p->upper);
  return SC_OK;
}

static sc_status mel_reshape(struct sc_node *node, struct sc_error *err)
{
  struct mel_params p;
  int64_t dims[2];
  int known;
  sc_status s = mel_params_of(node, &p, &known, err);
  if (s)
    return s;
  if (!known)
    return sc_node_defer(node);
  dims[0] = p.dft_length / 2 + 1;
  dims[1] = p.n_mel;
  return set_output_shape(node, 0, 2, dims, err);
}

/* Bin indices are clamped here before conversion (hostile edges). */
#define MEL_MAX_BIN 4503599627370496.0 /* 2^52 */

static double hertz_to_mel(double f)
{
  return 2595.0 * log10(1.0 + f / 700.0);
}

/* Triangular filters between consecutive mel-spaced bin edges, as in the
 * ONNX reference: edge i falls in spectrogram bin
 * floor((dft_length + 1) * hz_i / sample_rate). Filter weights outside the
 * spectrogram's bins are dropped. Fails only on allocation. */
static sc_status mel_run(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor *y = node->out[0];
  struct mel_params p;
  int64_t *edge, i, j, rows;
  double low, step;
  int known;
  sc_status s = mel_params_of(node, &p, &known, err);
  if (s)
    return s;
  edge = malloc((size_t)(p.n_mel + 2) * sizeof *edge);
  if (!edge)
    return sc_fail_nomem(err, "MelWeightMatrix edges");
  rows = y->dims[0];
  low = hertz_to_mel(p.lower);
  step = (hertz_to_mel(p.upper) - low) / (double)(p.n_mel + 2);
  for (i = 0; i < p.n_mel + 2; i++) {
    double hz = 700.0 * (pow(10.0, ((double)i * step + low) / 2595.0) - 1.0);
    double bin = floor((double)(p.dft_length + 1) * hz / (double)p.sample_rate);
    edge[i] =
        bin < 0 ? 0 : (bin > MEL_MAX_BIN ? (int64_t)MEL_MAX_BIN : (int64_t)bin);
  }
  for (i = 0; i < y->n_elements; i++)
    sc_dtype_store(y->dtype, y->data, i, 0.0);
  for (i = 0; i < p.n_mel; i++) {
    int64_t lo = edge[i], center = edge[i + 1], hi = edge[i + 2];
    if (center == lo) {
      if (center < rows)
        sc_dtype_store(y->dtype, y->data, center * p.n_mel + i, 1.0);
    } else
      for (j = lo; j <= center && j < rows; j++)
        sc_dtype_store(y->dtype, y->data, j * p.n_mel + i,
                       (double)(j - lo) / (double)(center - lo));
    for (j = center; j < hi && j < rows; j++)
      sc_dtype_store(y->dtype, y->data, j * p.n_mel + i,
                     (double)(hi - j) / (double)(hi - center));
  }
  free(edge);
  return SC_OK;
}

const struct sc_op sc_ops_signal[] = {
    {"", "BlackmanWindow", 17, SC_OPSET_LATEST, window_prepare, window_reshape,
     window_run, state_release, 0},
    {"", "DFT", 17, 19, dft_prepare, dft_reshape, dft_run, state_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "HammingWindow", 17, SC_OPSET_LATEST, window_prepare, window_reshape,
     window_run, state_release, 0},
    {"", "HannWindow", 17, SC_OPSET_LATEST, window_prepare, window_reshape,
     window_run, state_release, 0},
    {"", "MelWeightMatrix", 17, SC_OPSET_LATEST, mel_prepare, mel_reshape,
     mel_run, NULL, 0},
    {"", "STFT", 17, SC_OPSET_LATEST, stft_prepare, stft_reshape, stft_run,
     state_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
