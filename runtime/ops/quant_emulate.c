/* Kernels of the private domain "stagecheck.emulate" (the emulated integer
 * accelerator, runtime/emulate.h) and the fixed-point primitives they
 * share. The arithmetic is specified at the top of runtime/emulate.c and in
 * docs/internals/EMULATION.md; this file implements exactly that.
 *
 * Every node is self-describing: the quantization parameters of its
 * operands and result are attributes (x_scale, x_zero_point, ...,
 * y_scale, y_zero_point, y_dtype, rounding), written by sc_graph_emulate;
 * fixed-point multipliers are derived from them in prepare/reshape, as an
 * accelerator's compiler derives them offline. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/emulate.h"
#include "runtime/ops/quant_common.h"
#include "runtime/ops/quant_kernels.h"
#include "runtime/ops/quant_linear.h"

/* --- fixed-point primitives ------------------------------------------- */

int sc_emulate_quantize_multiplier(double real, int32_t *multiplier, int *shift)
{
  double q;
  int e;
  long long fixed;

  *multiplier = 0;
  *shift = 0;
  if (!(real >= 0.0) || isinf(real))
    return -1;
  if (real == 0.0)
    return 0;
  q = frexp(real, &e); /* real = q * 2^e, q in [0.5, 1) */
  fixed = llround(q * 2147483648.0);
  if (fixed == 2147483648LL) {
    fixed /= 2;
    e++;
  }
  if (e < -31)
    return 0; /* below 2^-32: the product rounds to 0 anyway */
  if (e > 30) {
    e = 30;
    fixed = 2147483647LL;
  }
  *multiplier = (int32_t)fixed;
  *shift = e;
  return 0;
}

int32_t sc_emulate_srdhm(int32_t a, int32_t b)
{
  int64_t ab, nudge;
  if (a == INT32_MIN && b == INT32_MIN)
    return INT32_MAX;
  ab = (int64_t)a * (int64_t)b;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31)); /* truncates */
}

int32_t sc_emulate_rounding_divide_by_pot(int32_t x, int exponent)
{
  int64_t mask, remainder, threshold;
  if (exponent <= 0)
    return x;
  mask = ((int64_t)1 << exponent) - 1;
  remainder = (int64_t)x & mask;
  threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (int32_t)(((int64_t)x >> exponent) + (remainder > threshold ? 1 : 0));
}

static int32_t saturate32(int64_t v)
{
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

int32_t sc_emulate_multiply(int32_t x, int32_t multiplier, int shift,
                            enum sc_emulate_rounding rounding)
{
  if (rounding == SC_EMULATE_HALF_AWAY_FROM_ZERO) {
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t shifted = saturate32((int64_t)x * ((int64_t)1 << left));
    return sc_emulate_rounding_divide_by_pot(
        sc_emulate_srdhm(shifted, multiplier), right);
  } else {
    int t = 31 - shift; /* in [1, 62] */
    int64_t prod = (int64_t)x * (int64_t)multiplier;
    int64_t q = prod >> t; /* floor */
    int64_t r = prod - q * ((int64_t)1 << t);
    int64_t half = (int64_t)1 << (t - 1);
    if (r > half || (r == half && (q & 1)))
      q++;
    return saturate32(q);
  }
}

double sc_emulate_round(double v, enum sc_emulate_rounding rounding)
{
  return rounding == SC_EMULATE_HALF_EVEN ? nearbyint(v) : round(v);
}

int sc_emulate_rounding_from_name(const char *name,
                                  enum sc_emulate_rounding *out)
{
  if (strcmp(name, "half_away_from_zero") == 0)
    *out = SC_EMULATE_HALF_AWAY_FROM_ZERO;
  else if (strcmp(name, "half_even") == 0)
    *out = SC_EMULATE_HALF_EVEN;
  else
    return -1;
  return 0;
}

const char *sc_emulate_rounding_name(enum sc_emulate_rounding rounding)
{
  return rounding == SC_EMULATE_HALF_EVEN ? "half_even" : "half_away_from_zero";
}

/* --- shared kernel state ---------------------------------------------- */

struct requant {
  int32_t multiplier;
  int shift;
};

struct emu_state {
  enum sc_emulate_rounding rounding;
  enum sc_dtype y_dtype;
  float y_scale;
  int32_t y_zp, qmin, qmax;
  /* first / second operand */
  float a_scale, b_scale;
  int32_t a_zp, b_zp;
  /* per-channel or per-operand parameters */
  int64_t n_params;
  float *scales;
  int32_t *zero_points;
  struct requant *requant; /* n_params entries */
  uint8_t *copy;           /* Concat: operand copied unchanged */
  struct requant out_requant;
  struct sc_tensor *a_zp_tensor, *w_zp_tensor; /* for the linear cores */
  struct sc_qconv conv;
  struct sc_qmatmul mm;
  int64_t axis_attr;
  int axis;
  uint8_t table[256];
};

void sc_qk_emu_release(struct sc_node *node)
{
  struct emu_state *s = node->state;
  if (!s)
    return;
  free(s->scales);
  free(s->zero_points);
  free(s->requant);
  free(s->copy);
  sc_tensor_free(s->a_zp_tensor);
  sc_tensor_free(s->w_zp_tensor);
  sc_qconv_release(&s->conv);
  sc_qmatmul_release(&s->mm);
  free(s);
  node->state = NULL;
}

static sc_status float_attr(const struct sc_node *node, const char *name,
                            float *out, struct sc_error *err)
{
  sc_status st;
  if (!sc_node_attr(node, name))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the '%s' attribute is missing", name);
  st = sc_node_attr_float(node, name, 0.0f, out, err);
  if (!st && !(*out > 0.0f && isfinite(*out)))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' = %g is not a positive scale", name,
                        (double)*out);
  return st;
}

static sc_status zp_attr(const struct sc_node *node, const char *name,
                         int32_t *out, struct sc_error *err)
{
  int64_t v;
  sc_status st = sc_node_attr_int(node, name, 0, &v, err);
  if (st)
    return st;
  if (v < -32768 || v > 65535)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' = %lld is not a zero point", name,
                        (long long)v);
  *out = (int32_t)v;
  return SC_OK;
}

/* Creates node->state with the attributes every kernel has: rounding,
 * y_scale, y_zero_point, y_dtype; sets the output dtype. */
static sc_status emu_common(struct sc_node *node, struct emu_state **out,
                            struct sc_error *err)
{
  struct emu_state *s;
  const char *rounding;
  int64_t y_dtype;
  sc_status st;

  *out = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return sc_fail_nomem(err, "emulated kernel state");
  node->state = s;
  st = sc_node_attr_string(node, "rounding", "half_away_from_zero", &rounding,
                           err);
  if (st)
    return st;
  if (sc_emulate_rounding_from_name(rounding, &s->rounding) != 0)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "rounding '%s' is not half_away_from_zero or "
                        "half_even",
                        rounding);
  st = float_attr(node, "y_scale", &s->y_scale, err);
  if (!st)
    st = zp_attr(node, "y_zero_point", &s->y_zp, err);
  if (!st)
    st = sc_node_attr_int(node, "y_dtype", SC_DTYPE_UINT8, &y_dtype, err);
  if (st)
    return st;
  s->y_dtype = (enum sc_dtype)y_dtype;
  if (!sc_quant_is_int(s->y_dtype) ||
      sc_quant_range(s->y_dtype, &s->qmin, &s->qmax) != 0 ||
      s->y_zp < s->qmin || s->y_zp > s->qmax)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "output type %lld with zero point %d is not a "
                        "supported integer quantization",
                        (long long)y_dtype, (int)s->y_zp);
  node->out[0]->dtype = s->y_dtype;
  *out = s;
  return SC_OK;
}

static const enum sc_dtype eight_bit[] = {SC_DTYPE_UINT8, SC_DTYPE_INT8};

static sc_status require_8bit(const struct sc_node *node, int i,
                              struct sc_error *err)
{
  if (i >= node->n_inputs || !node->in[i])
    return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is missing", i);
  return sc_check_dtype(node, i, eight_bit, 2, err);
}

static sc_status requant_of(const struct sc_node *node, double real,
                            struct requant *r, struct sc_error *err)
{
  if (sc_emulate_quantize_multiplier(real, &r->multiplier, &r->shift) != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the requantization multiplier %g is invalid", real);
  return SC_OK;
}

/* Reads a per-channel float list `scale_name` and int list `zp_name` into
 * s->scales / s->zero_points (n_params entries; a zero-point list of one
 * entry is broadcast). */
static sc_status channel_params(const struct sc_node *node, struct emu_state *s,
                                const char *scale_name, const char *zp_name,
                                struct sc_error *err)
{
  const float *scales;
  const int64_t *zps;
  int64_t n, nz, i;
  sc_status st = sc_node_attr_floats(node, scale_name, &n, &scales, err);
  if (!st)
    st = sc_node_attr_ints(node, zp_name, &nz, &zps, err);
  if (st)
    return st;
  if (n < 1 || (nz >= 0 && nz != n && nz != 1))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "'%s' has %lld values, '%s' %lld", scale_name,
                        (long long)n, zp_name, (long long)nz);
  s->n_params = n;
  s->scales = malloc((size_t)n * sizeof *s->scales);
  s->zero_points = malloc((size_t)n * sizeof *s->zero_points);
  s->requant = calloc((size_t)n, sizeof *s->requant);
  if (!s->scales || !s->zero_points || !s->requant)
    return sc_fail_nomem(err, "emulated kernel parameters");
  for (i = 0; i < n; i++) {
    int64_t z = nz < 0 ? 0 : zps[nz == 1 ? 0 : i];
    if (!(scales[i] > 0.0f && isfinite(scales[i])) || z < -32768 || z > 65535)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "'%s'/'%s' entry %lld is invalid", scale_name,
                          zp_name, (long long)i);
    s->scales[i] = scales[i];
    s->zero_points[i] = (int32_t)z;
  }
  return SC_OK;
}

/* An int32 tensor holding zero points (the linear cores read them). */
static sc_status zp_tensor(const int32_t *values, int64_t n,
                           struct sc_tensor **out, struct sc_error *err)
{
  int64_t dims[1];
  sc_status st;
  dims[0] = n;
  st = sc_tensor_create(SC_DTYPE_INT32, 1, dims, out, err);
  if (!st)
    memcpy((*out)->data, values, (size_t)n * sizeof *values);
  return st;
}

static inline int32_t saturate_to(const struct emu_state *s, int32_t v)
{
  return v < s->qmin ? s->qmin : v > s->qmax ? s->qmax : v;
}

/* y = saturate(y_zp + multiply(acc, requant)) */
static inline int32_t requantize(const struct emu_state *s,
                                 const struct requant *r, int32_t acc)
{
  int64_t v =
      (int64_t)sc_emulate_multiply(acc, r->multiplier, r->shift, s->rounding) +
      s->y_zp;
  return saturate_to(s, (int32_t)(v > INT32_MAX   ? INT32_MAX
                                  : v < INT32_MIN ? INT32_MIN
                                                  : v));
}

/* --- Conv and MatMul: the parameters they share ----------------------- */

/* The parameters Conv and MatMul share: inputs a (8-bit), b (8-bit) and
 * an optional int32 bias; a's scale and zero point (attributes a_scale,
 * a_zp); b's per-tensor or per-channel scales and zero points. */
static sc_status linear_prepare(struct sc_node *node, const char *a_scale,
                                const char *a_zp, const char *b_scale,
                                const char *b_zp, struct emu_state **out,
                                struct sc_error *err)
{
  static const enum sc_dtype int32_only[] = {SC_DTYPE_INT32};
  struct emu_state *s = NULL;
  sc_status st = sc_check_arity(node, 2, 3, 1, 1, err);
  if (!st)
    st = require_8bit(node, 0, err);
  if (!st)
    st = require_8bit(node, 1, err);
  if (!st && node->n_inputs > 2)
    st = sc_check_dtype(node, 2, int32_only, 1, err);
  if (!st)
    st = emu_common(node, &s, err);
  if (!st)
    st = float_attr(node, a_scale, &s->a_scale, err);
  if (!st)
    st = zp_attr(node, a_zp, &s->a_zp, err);
  if (!st)
    st = channel_params(node, s, b_scale, b_zp, err);
  *out = s;
  return st;
}

/* The requantization per channel and the zero-point tensors the integer
 * kernels take, once the parameters are known. */
static sc_status linear_requant(struct sc_node *node, struct emu_state *s,
                                struct sc_error *err)
{
  int64_t i;
  sc_status st = SC_OK;
  for (i = 0; i < s->n_params && !st; i++)
    /* as TFLite: the float product of the scales, divided in double */
    st = requant_of(node,
                    (double)(s->a_scale * s->scales[i]) / (double)s->y_scale,
                    &s->requant[i], err);
  if (!st)
    st = zp_tensor(&s->a_zp, 1, &s->a_zp_tensor, err);
  if (!st)
    st = zp_tensor(s->zero_points, s->n_params, &s->w_zp_tensor, err);
  return st;
}

/* --- Conv ------------------------------------------------------------- */

/* Inputs x, w, bias (optional int32, one per output channel). Attributes:
 * Conv's, x_scale, x_zero_point, w_scale (floats), w_zero_point (ints),
 * y_scale, y_zero_point, y_dtype, rounding. */
sc_status sc_qk_emu_conv_prepare(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s;
  sc_status st = linear_prepare(node, "x_scale", "x_zero_point", "w_scale",
                                "w_zero_point", &s, err);
  if (!st)
    st = sc_qconv_prepare(node, &s->conv, err);
  if (!st)
    st = linear_requant(node, s, err);
  return st;
}

sc_status sc_qk_emu_conv_reshape(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  sc_status st =
      sc_qconv_reshape(node, &s->conv, node->in[0], node->in[1], err);
  if (st)
    return st;
  if (s->n_params != 1 && s->n_params != s->conv.out_channels)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "w_scale has %lld values for %lld output channels",
                        (long long)s->n_params,
                        (long long)s->conv.out_channels);
  if (node->n_inputs > 2 && node->in[2] &&
      !(node->in[2]->rank == 1 && node->in[2]->dims[0] == s->conv.out_channels))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "bias '%s' must be a 1-D tensor of %lld elements",
                        sc_node_input_name(node, 2),
                        (long long)s->conv.out_channels);
  return SC_OK;
}

static void emit_emu_conv(void *ctx, int64_t n, int64_t m, int64_t pixel0,
                          const int32_t *acc, int64_t count)
{
  const struct sc_node *node = ctx;
  const struct emu_state *s = node->state;
  const struct sc_tensor *bias = node->n_inputs > 2 ? node->in[2] : NULL;
  const struct requant *r = &s->requant[s->n_params == 1 ? 0 : m];
  struct sc_tensor *y = node->out[0];
  int32_t b = bias ? ((const int32_t *)bias->data)[m] : 0;
  int64_t base = (n * y->dims[1] + m) * s->conv.out_pixels + pixel0, p;
  for (p = 0; p < count; p++) {
    int32_t v = (int32_t)((uint32_t)acc[p] + (uint32_t)b);
    sc_quant_store(y->dtype, y->data, base + p, requantize(s, r, v));
  }
}

sc_status sc_qk_emu_conv_run(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  return sc_qconv_run(node, &s->conv, node->in[0], s->a_zp_tensor, node->in[1],
                      s->w_zp_tensor, emit_emu_conv, node, err);
}

/* --- MatMul ----------------------------------------------------------- */

/* Inputs a, b, bias (optional int32, one per column). Attributes a_scale,
 * a_zero_point, b_scale (floats: 1 or one per column), b_zero_point (ints),
 * y_scale, y_zero_point, y_dtype, rounding. */
sc_status sc_qk_emu_matmul_prepare(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s;
  sc_status st = linear_prepare(node, "a_scale", "a_zero_point", "b_scale",
                                "b_zero_point", &s, err);
  if (!st)
    st = linear_requant(node, s, err);
  return st;
}

sc_status sc_qk_emu_matmul_reshape(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  sc_status st =
      sc_qmatmul_reshape(node, &s->mm, node->in[0], node->in[1], err);
  if (st)
    return st;
  if (s->n_params != 1 && s->n_params != s->mm.n)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "b_scale has %lld values for %lld columns",
                        (long long)s->n_params, (long long)s->mm.n);
  if (node->n_inputs > 2 && node->in[2] && node->in[2]->n_elements != s->mm.n)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "bias '%s' must have %lld elements",
                        sc_node_input_name(node, 2), (long long)s->mm.n);
  return SC_OK;
}

static void emit_emu_matmul(void *ctx, int64_t batch, int64_t i,
                            const int32_t *acc, int64_t n)
{
  const struct sc_node *node = ctx;
  const struct emu_state *s = node->state;
  const struct sc_tensor *bias = node->n_inputs > 2 ? node->in[2] : NULL;
  struct sc_tensor *y = node->out[0];
  int64_t base = (batch * s->mm.m + i) * n, j;
  for (j = 0; j < n; j++) {
    int32_t b = bias ? ((const int32_t *)bias->data)[j] : 0;
    int32_t v = (int32_t)((uint32_t)acc[j] + (uint32_t)b);
    sc_quant_store(y->dtype, y->data, base + j,
                   requantize(s, &s->requant[s->n_params == 1 ? 0 : j], v));
  }
}

sc_status sc_qk_emu_matmul_run(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  return sc_qmatmul_run(node, &s->mm, node->in[0], s->a_zp_tensor, node->in[1],
                        s->w_zp_tensor, emit_emu_matmul, node, err);
}

/* --- Add / Mul -------------------------------------------------------- */

/* Inputs a, b (numpy broadcasting). Attributes a_scale, a_zero_point,
 * b_scale, b_zero_point, y_scale, y_zero_point, y_dtype, rounding. Add is
 * TFLite's int8 Add: both operands shifted left by 20 bits, rescaled to
 * twice the larger input scale, summed, rescaled to the output; Mul is
 * TFLite's int8 Mul: the product of the differences, rescaled once. */
#define ADD_LEFT_SHIFT 20

sc_status sc_qk_emu_add_prepare(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s;
  sc_status st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!st)
    st = require_8bit(node, 0, err);
  if (!st)
    st = require_8bit(node, 1, err);
  if (!st)
    st = emu_common(node, &s, err);
  if (!st)
    st = float_attr(node, "a_scale", &s->a_scale, err);
  if (!st)
    st = zp_attr(node, "a_zero_point", &s->a_zp, err);
  if (!st)
    st = float_attr(node, "b_scale", &s->b_scale, err);
  if (!st)
    st = zp_attr(node, "b_zero_point", &s->b_zp, err);
  if (st)
    return st;
  s->requant = calloc(2, sizeof *s->requant);
  if (!s->requant)
    return sc_fail_nomem(err, "emulated kernel parameters");
  if (strcmp(node->op_type, "Add") == 0) {
    double twice_max =
        2.0 * (double)(s->a_scale > s->b_scale ? s->a_scale : s->b_scale);
    st = requant_of(node, (double)s->a_scale / twice_max, &s->requant[0], err);
    if (!st)
      st =
          requant_of(node, (double)s->b_scale / twice_max, &s->requant[1], err);
    if (!st)
      st = requant_of(node,
                      twice_max /
                          ((double)(1 << ADD_LEFT_SHIFT) * (double)s->y_scale),
                      &s->out_requant, err);
  } else {
    st = requant_of(
        node, (double)s->a_scale * (double)s->b_scale / (double)s->y_scale,
        &s->out_requant, err);
  }
  return st;
}

sc_status sc_qk_emu_add_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK];
  int rank;
  sc_status st = sc_broadcast_shapes(node, node->in[0]->rank, node->in[0]->dims,
                                     node->in[1]->rank, node->in[1]->dims,
                                     &rank, dims, err);
  if (!st)
    st = sc_tensor_set_shape(node->out[0], rank, dims, err);
  return st;
}

sc_status sc_qk_emu_add_run(struct sc_node *node, struct sc_error *err)
{
  const struct emu_state *s = node->state;
  const struct sc_tensor *a = node->in[0], *b = node->in[1];
  struct sc_tensor *y = node->out[0];
  struct sc_quant_broadcast bc;
  int is_add = strcmp(node->op_type, "Add") == 0;
  int64_t i;

  sc_quant_broadcast_init(a, b, y, &bc);
  for (i = 0; i < y->n_elements; i++) {
    int64_t ia, ib;
    int32_t da, db, v;
    sc_quant_broadcast_offsets(&bc, i, &ia, &ib);
    da = sc_quant_load(a->dtype, a->data, ia) - s->a_zp;
    db = sc_quant_load(b->dtype, b->data, ib) - s->b_zp;
    if (is_add) {
      int32_t sa = sc_emulate_multiply(da * (1 << ADD_LEFT_SHIFT),
                                       s->requant[0].multiplier,
                                       s->requant[0].shift, s->rounding);
      int32_t sb = sc_emulate_multiply(db * (1 << ADD_LEFT_SHIFT),
                                       s->requant[1].multiplier,
                                       s->requant[1].shift, s->rounding);
      v = requantize(s, &s->out_requant, sa + sb);
    } else {
      v = requantize(s, &s->out_requant, da * db);
    }
    sc_quant_store(y->dtype, y->data, i, v);
  }
  return SC_OK;
}

/* --- Concat ----------------------------------------------------------- */

/* Inputs x0 .. xn-1. Attributes axis, scales (floats), zero_points (ints),
 * y_scale, y_zero_point, y_dtype, rounding. An operand with the output's
 * parameters and type is copied; any other is rescaled with the 20-bit
 * headroom TFLite's Add gives its operands:
 *   y = saturate(y_zp + multiply((x - x_zp) * 2^20, s_x / (s_y * 2^20))). */
sc_status sc_qk_emu_concat_prepare(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s;
  int64_t i;
  int k;
  sc_status st = sc_check_arity(node, 1, node->n_inputs, 1, 1, err);
  for (k = 0; k < node->n_inputs && !st; k++)
    st = require_8bit(node, k, err);
  if (!st)
    st = emu_common(node, &s, err);
  if (!st)
    st = channel_params(node, s, "scales", "zero_points", err);
  if (!st && s->n_params != node->n_inputs)
    st = sc_node_fail(node, err, SC_ERR_FORMAT,
                      "'scales' has %lld values for %d operands",
                      (long long)s->n_params, node->n_inputs);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &s->axis_attr, err);
  if (st)
    return st;
  s->copy = calloc((size_t)s->n_params, 1);
  if (!s->copy)
    return sc_fail_nomem(err, "emulated kernel parameters");
  for (i = 0; i < s->n_params && !st; i++) {
    s->copy[i] = s->scales[i] == s->y_scale && s->zero_points[i] == s->y_zp &&
                 node->in[i]->dtype == s->y_dtype;
    st = requant_of(node,
                    (double)s->scales[i] /
                        ((double)s->y_scale * (double)(1 << ADD_LEFT_SHIFT)),
                    &s->requant[i], err);
  }
  return st;
}

sc_status sc_qk_emu_concat_reshape(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  const struct sc_tensor *first = node->in[0];
  int64_t dims[SC_MAX_RANK];
  int k, r;
  sc_status st =
      sc_normalize_axis(node, s->axis_attr, first->rank, 0, &s->axis, err);
  if (st)
    return st;
  memcpy(dims, first->dims, sizeof dims);
  for (k = 1; k < node->n_inputs; k++) {
    const struct sc_tensor *x = node->in[k];
    int ok = x->rank == first->rank;
    for (r = 0; ok && r < x->rank; r++)
      if (r != s->axis && x->dims[r] != first->dims[r])
        ok = 0;
    if (!ok)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "operand '%s' cannot be concatenated along axis %d",
                          sc_node_input_name(node, k), s->axis);
    dims[s->axis] += x->dims[s->axis];
  }
  return sc_tensor_set_shape(node->out[0], first->rank, dims, err);
}

sc_status sc_qk_emu_concat_run(struct sc_node *node, struct sc_error *err)
{
  const struct emu_state *s = node->state;
  struct sc_tensor *y = node->out[0];
  int64_t outer = 1, inner = 1, out_block, offset = 0, o, j;
  int k, r;

  for (r = 0; r < s->axis; r++)
    outer *= y->dims[r];
  for (r = s->axis + 1; r < y->rank; r++)
    inner *= y->dims[r];
  out_block = y->dims[s->axis] * inner;
  for (k = 0; k < node->n_inputs; k++) {
    const struct sc_tensor *x = node->in[k];
    int64_t block = x->dims[s->axis] * inner;
    for (o = 0; o < outer; o++)
      for (j = 0; j < block; j++) {
        int32_t v = sc_quant_load(x->dtype, x->data, o * block + j);
        if (!s->copy[k])
          v = requantize(s, &s->requant[k],
                         (v - s->zero_points[k]) * (1 << ADD_LEFT_SHIFT));
        sc_quant_store(y->dtype, y->data, o * out_block + offset + j, v);
      }
    offset += block;
  }
  return SC_OK;
}

/* --- GlobalAveragePool ------------------------------------------------ */

/* Input x (N, C, spatial...). Attributes x_scale, x_zero_point, y_scale,
 * y_zero_point, y_dtype, rounding. acc = sum(x - x_zp) in int32, y = y_zp +
 * multiply(acc, x_scale / (y_scale * image_size)); the multiplier is
 * derived in reshape, once the image size is known. */
sc_status sc_qk_emu_gap_prepare(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = require_8bit(node, 0, err);
  if (!st)
    st = emu_common(node, &s, err);
  if (!st)
    st = float_attr(node, "x_scale", &s->a_scale, err);
  if (!st)
    st = zp_attr(node, "x_zero_point", &s->a_zp, err);
  return st;
}

sc_status sc_qk_emu_gap_reshape(struct sc_node *node, struct sc_error *err)
{
  struct emu_state *s = node->state;
  const struct sc_tensor *x = node->in[0];
  int64_t dims[SC_MAX_RANK], image = 1;
  int r;
  sc_status st;
  if (x->rank < 3)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input '%s' has rank %d; at least 3 is needed",
                        sc_node_input_name(node, 0), x->rank);
  for (r = 0; r < x->rank; r++) {
    dims[r] = r < 2 ? x->dims[r] : 1;
    if (r >= 2)
      image *= x->dims[r];
  }
  if (image < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "the image is empty");
  st = requant_of(node,
                  (double)s->a_scale / ((double)s->y_scale * (double)image),
                  &s->out_requant, err);
  if (!st)
    st = sc_tensor_set_shape(node->out[0], x->rank, dims, err);
  return st;
}

sc_status sc_qk_emu_gap_run(struct sc_node *node, struct sc_error *err)
{
  const struct emu_state *s = node->state;
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  int64_t planes = x->dims[0] * x->dims[1], image, plane, p;
  if (planes == 0)
    return SC_OK;
  image = x->n_elements / planes;
  for (plane = 0; plane < planes; plane++) {
    uint32_t acc = 0;
    for (p = 0; p < image; p++)
      acc += (uint32_t)(sc_quant_load(x->dtype, x->data, plane * image + p) -
                        s->a_zp);
    sc_quant_store(y->dtype, y->data, plane,
                   requantize(s, &s->out_requant, (int32_t)acc));
  }
  return SC_OK;
}

/* --- lookup-table activations ----------------------------------------- */

/* Input x (8-bit). Attributes function (Sigmoid, Tanh, HardSigmoid, Relu,
 * LeakyRelu, Clip, HardSwish), alpha, beta, min, max, x_scale,
 * x_zero_point, y_scale, y_zero_point, y_dtype, rounding. The 256-entry
 * table holds, for every input byte q:
 *   saturate(y_zp + round(f(x_scale * (q - x_zp)) / y_scale))
 * with f and the division in double precision and round as `rounding`. */
static double lut_function(const char *fn, double v, float alpha, float beta,
                           float lo, float hi)
{
  if (strcmp(fn, "Sigmoid") == 0)
    return 1.0 / (1.0 + exp(-v));
  if (strcmp(fn, "Tanh") == 0)
    return tanh(v);
  if (strcmp(fn, "HardSigmoid") == 0) {
    double t = (double)alpha * v + (double)beta;
    return t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
  }
  if (strcmp(fn, "Relu") == 0)
    return v > 0.0 ? v : 0.0;
  if (strcmp(fn, "LeakyRelu") == 0)
    return v >= 0.0 ? v : (double)alpha * v;
  if (strcmp(fn, "Clip") == 0)
    return v < (double)lo ? (double)lo : v > (double)hi ? (double)hi : v;
  /* HardSwish */
  {
    double t = v / 6.0 + 0.5;
    return v * (t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t);
  }
}

sc_status sc_qk_emu_lut_prepare(struct sc_node *node, struct sc_error *err)
{
  static const char *const functions[] = {
      "Sigmoid",   "Tanh", "HardSigmoid", "Relu",
      "LeakyRelu", "Clip", "HardSwish"};
  struct emu_state *s;
  const char *fn;
  float alpha, beta, lo, hi;
  size_t f;
  int b;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = require_8bit(node, 0, err);
  if (!st)
    st = emu_common(node, &s, err);
  if (!st)
    st = float_attr(node, "x_scale", &s->a_scale, err);
  if (!st)
    st = zp_attr(node, "x_zero_point", &s->a_zp, err);
  if (!st)
    st = sc_node_attr_string(node, "function", "", &fn, err);
  if (!st)
    st = sc_node_attr_float(node, "alpha", 0.0f, &alpha, err);
  if (!st)
    st = sc_node_attr_float(node, "beta", 0.0f, &beta, err);
  if (!st)
    st = sc_node_attr_float(node, "min", -INFINITY, &lo, err);
  if (!st)
    st = sc_node_attr_float(node, "max", INFINITY, &hi, err);
  if (st)
    return st;
  for (f = 0; f < sizeof functions / sizeof functions[0]; f++)
    if (strcmp(fn, functions[f]) == 0)
      break;
  if (f == sizeof functions / sizeof functions[0])
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "function '%s' has no lookup table", fn);
  if (sc_dtype_size(s->y_dtype) != 1)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "a lookup table needs an 8-bit output, not %s",
                        sc_dtype_name(s->y_dtype));
  for (b = 0; b < 256; b++) {
    int32_t q =
        node->in[0]->dtype == SC_DTYPE_INT8 ? (int32_t)(int8_t)(uint8_t)b : b;
    double x = (double)s->a_scale * (double)(q - s->a_zp);
    double v = lut_function(fn, x, alpha, beta, lo, hi) / (double)s->y_scale;
    double r = sc_emulate_round(v, s->rounding) + (double)s->y_zp;
    int32_t out = r < s->qmin ? s->qmin : r > s->qmax ? s->qmax : (int32_t)r;
    if (isnan(v))
      out = s->qmin;
    s->table[b] = (uint8_t)out;
  }
  return SC_OK;
}

sc_status sc_qk_emu_lut_run(struct sc_node *node, struct sc_error *err)
{
  const struct emu_state *s = node->state;
  const uint8_t *x = node->in[0]->data;
  uint8_t *y = node->out[0]->data;
  int64_t i;
  for (i = 0; i < node->in[0]->n_elements; i++)
    y[i] = s->table[x[i]];
  return SC_OK;
}
