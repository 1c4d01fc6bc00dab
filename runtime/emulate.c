/* The emulated integer accelerator: rewriting a QDQ graph into integer
 * islands (runtime/emulate.h).
 *
 * EXACT ARITHMETIC (also docs/internals/EMULATION.md)
 *
 * Notation: q a stored integer, z its zero point, s its float32 scale;
 * "multiply(x, M)" is the fixed-point product below; saturate() clamps to
 * the output type's range (int8 [-128, 127] or uint8 [0, 255]).
 *
 * 1. Multipliers. A real multiplier M > 0 is quantized once, when the
 *    kernel is prepared, as TFLite's QuantizeMultiplier does:
 *      M = m * 2^(e - 31),  m = round_half_away(frac(M) * 2^31) in
 *      [2^30, 2^31)  (frexp; m = 2^31 is halved and e incremented),
 *    M < 2^-32 gives m = 0; e is clamped to 30 (m = 2^31 - 1).
 *
 * 2. multiply(x, m, e) for an int32 x:
 *    - rounding half_away_from_zero (gemmlowp / TFLite reference,
 *      MultiplyByQuantizedMultiplier), two roundings:
 *        t = SaturatingRoundingDoublingHighMul(x * 2^max(e, 0), m)
 *          = x' * m / 2^31 rounded to nearest, ties toward +infinity
 *            (x' = x * 2^max(e, 0) saturated to int32)
 *        r = RoundingDivideByPOT(t, max(-e, 0))
 *          = t / 2^max(-e, 0) rounded to nearest, ties away from zero
 *      With a right shift (e < 0, every multiplier below 1/2) an exact tie
 *      of x * M reaches the second step intact and goes away from zero; a
 *      value within 2^(e - 1) of a tie can be pushed onto it by the first
 *      step (the double rounding of the reference code).
 *    - rounding half_even, one rounding of the exact 64-bit product:
 *        r = round_half_even(x * m / 2^(31 - e))
 *    r is saturated to int32.
 *
 * 3. Conv, MatMul, Gemm (weights constant, per-tensor or per-output-
 *    channel scales; Gemm's transB is applied to the weights offline):
 *      acc = sum (q_x - z_x) * (q_w - z_w[c])   exact, int32 (wrapping)
 *      acc += bias_int32[c]
 *      y = saturate(z_y + multiply(acc, M[c])),
 *      M[c] = (double)(s_x * s_w[c]) / (double)s_y   (float product, as
 *      TFLite). The int32 bias is the QDQ graph's int32 initializer when
 *      its DequantizeLinear scale equals s_x * s_w[c] (bitwise); otherwise
 *      (a float bias, or another scale) it is requantized offline to
 *      round_half_even(bias_real / (double)(s_x * s_w[c])), saturated.
 * 4. Add (TFLite's int8 Add):
 *      T = 2 * max(s_a, s_b); M_a = s_a / T, M_b = s_b / T,
 *      M_y = T / (2^20 * s_y)                                  (double)
 *      y = saturate(z_y + multiply(multiply((q_a - z_a) * 2^20, M_a)
 *                                  + multiply((q_b - z_b) * 2^20, M_b),
 *                                  M_y))
 *    Mul (TFLite's int8 Mul):
 *      y = saturate(z_y + multiply((q_a - z_a) * (q_b - z_b),
 *                                  s_a * s_b / s_y))          (double)
 * 5. Concat: an operand whose scale, zero point and type equal the
 *    output's is copied; any other is rescaled
 *      y = saturate(z_y + multiply((q - z) * 2^20, s / (s_y * 2^20))).
 * 6. GlobalAveragePool (N, C, spatial...):
 *      acc = sum over the image of (q - z_x)                   (int32)
 *      y = saturate(z_y + multiply(acc, s_x / (s_y * image_size))).
 * 7. Sigmoid, Tanh, HardSigmoid, Relu, LeakyRelu, Clip, HardSwish on 8-bit
 *    tensors: a 256-entry table computed offline in double precision,
 *      table[q] = saturate(z_y + round(f(s_x * (q - z_x)) / s_y))
 *    with round half away from zero or half to even as configured.
 *
 * Everything outside such islands -- QuantizeLinear of the model input,
 * the DequantizeLinear nodes, operators with no integer form above --
 * keeps ONNX reference semantics (round half to even in QuantizeLinear).
 *
 * THE REWRITE
 *
 * An island is a float operator F whose float operands all come from
 * DequantizeLinear nodes with constant per-tensor parameters (weights and
 * biases: constant integer tensors, per-axis allowed), whose single output
 * feeds exactly one QuantizeLinear with constant per-tensor parameters and
 * nothing else (not a graph output). F and that QuantizeLinear are replaced
 * by one node "stagecheck.emulate".<F> (named like F) reading the integer
 * tensors and writing the QuantizeLinear's output under its name. The
 * graph is rebuilt and swapped into place so that no runtime structure is
 * shared; attributes, initializers and annotations are moved, not copied. */
#include "runtime/emulate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/quant.h"

#define EMULATE_DOMAIN "stagecheck.emulate"

/* --- reading the QDQ graph -------------------------------------------- */

struct graph_index {
  const struct sc_graph *g;
  int *producer; /* node index per value, -1 */
  int *n_consumers;
  int *consumer; /* a consuming node (the only one when n_consumers == 1) */
  uint8_t *is_output;
  int64_t default_opset;
};

static void index_free(struct graph_index *ix)
{
  free(ix->producer);
  free(ix->n_consumers);
  free(ix->consumer);
  free(ix->is_output);
}

static sc_status index_build(const struct sc_graph *g, struct graph_index *ix,
                             struct sc_error *err)
{
  size_t n = (size_t)g->n_values + 1;
  int i, j;
  memset(ix, 0, sizeof *ix);
  ix->g = g;
  ix->producer = malloc(n * sizeof *ix->producer);
  ix->n_consumers = calloc(n, sizeof *ix->n_consumers);
  ix->consumer = malloc(n * sizeof *ix->consumer);
  ix->is_output = calloc(n, 1);
  if (!ix->producer || !ix->n_consumers || !ix->consumer || !ix->is_output) {
    index_free(ix);
    return sc_fail_nomem(err, "graph index");
  }
  for (i = 0; i < g->n_values; i++)
    ix->producer[i] = ix->consumer[i] = -1;
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    for (j = 0; j < node->n_outputs; j++)
      if (node->outputs[j] >= 0)
        ix->producer[node->outputs[j]] = i;
    for (j = 0; j < node->n_inputs; j++)
      if (node->inputs[j] >= 0) {
        ix->n_consumers[node->inputs[j]]++;
        ix->consumer[node->inputs[j]] = i;
      }
  }
  for (i = 0; i < g->n_outputs; i++)
    ix->is_output[g->outputs[i]] = 1;
  ix->default_opset = sc_graph_opset(g, "");
  return SC_OK;
}

static int is_op(const struct sc_node *node, const char *op_type)
{
  return (!node->domain[0] || strcmp(node->domain, "com.microsoft") == 0) &&
         strcmp(node->op_type, op_type) == 0;
}

static int input_of(const struct sc_node *node, int i)
{
  return i < node->n_inputs ? node->inputs[i] : -1;
}

/* Constant data of value v: an initializer or a Constant node's value. */
static const struct sc_tensor *constant_of(const struct graph_index *ix, int v)
{
  const struct sc_node *p;
  const struct sc_attr *a;
  if (v < 0)
    return NULL;
  if (ix->g->values[v].initializer && !ix->g->values[v].is_input)
    return ix->g->values[v].initializer;
  if (ix->producer[v] < 0)
    return NULL;
  p = &ix->g->nodes[ix->producer[v]];
  if (p->domain[0] || strcmp(p->op_type, "Constant") != 0)
    return NULL;
  a = sc_node_attr(p, "value");
  return a && a->type == SC_ATTR_TENSOR ? a->t : NULL;
}

static float scale_at(const struct sc_tensor *t, int64_t i)
{
  if (t->dtype == SC_DTYPE_FLOAT16)
    return sc_half_to_float(((const uint16_t *)t->data)[i]);
  if (t->dtype == SC_DTYPE_BFLOAT16)
    return sc_bfloat16_to_float(((const uint16_t *)t->data)[i]);
  return ((const float *)t->data)[i];
}

/* The constant parameters of a DequantizeLinear / QuantizeLinear. */
struct qparams {
  int node;
  int value;           /* the integer tensor (DQ input / Q output) */
  enum sc_dtype dtype; /* its type (UNDEFINED if not known statically) */
  int64_t n;           /* 1 per tensor, else per axis */
  int64_t axis;        /* raw attribute */
  const struct sc_tensor *scale, *zp;
};

static int32_t zp_at(const struct qparams *p, int64_t i)
{
  return p->zp ? (int32_t)sc_dtype_load_i64(p->zp->dtype, p->zp->data,
                                            p->n == 1 ? 0 : i)
               : 0;
}

static float qscale_at(const struct qparams *p, int64_t i)
{
  return scale_at(p->scale, p->n == 1 ? 0 : i);
}

static int is_8bit(enum sc_dtype d)
{
  return d == SC_DTYPE_INT8 || d == SC_DTYPE_UINT8;
}

/* Reads the scale (input 1) and zero point (input 2) of a Q/DQ node. */
static int read_qparams(const struct graph_index *ix, int node_index,
                        struct qparams *p)
{
  const struct sc_node *node = &ix->g->nodes[node_index];
  const struct sc_attr *axis = sc_node_attr(node, "axis");
  int zv = input_of(node, 2);
  memset(p, 0, sizeof *p);
  p->node = node_index;
  p->scale = constant_of(ix, input_of(node, 1));
  p->zp = constant_of(ix, zv);
  if (!p->scale || (zv >= 0 && !p->zp) || !sc_dtype_is_float(p->scale->dtype) ||
      p->scale->dtype == SC_DTYPE_DOUBLE || p->scale->rank > 1 ||
      p->scale->n_elements < 1)
    return 0;
  p->n = p->scale->n_elements;
  if (p->zp && p->zp->n_elements != p->n)
    return 0;
  p->axis = axis && axis->type == SC_ATTR_INT ? axis->i : 1;
  return 1;
}

/* Matches a float value produced by a DequantizeLinear with constant
 * parameters; the integer input's dtype is taken from the zero point or the
 * value's static type. */
static int match_dq(const struct graph_index *ix, int v, struct qparams *p)
{
  int n;
  if (v < 0 || ix->producer[v] < 0)
    return 0;
  n = ix->producer[v];
  if (!is_op(&ix->g->nodes[n], "DequantizeLinear") || !read_qparams(ix, n, p))
    return 0;
  p->value = input_of(&ix->g->nodes[n], 0);
  if (p->value < 0)
    return 0;
  p->dtype = p->zp ? p->zp->dtype : ix->g->values[p->value].dtype;
  return 1;
}

/* A per-tensor 8-bit activation operand. */
static int match_activation(const struct graph_index *ix, int v,
                            struct qparams *p)
{
  return match_dq(ix, v, p) && p->n == 1 && is_8bit(p->dtype);
}

/* Matches the single QuantizeLinear consuming float value y (constant
 * per-tensor 8-bit parameters; y is not a graph output). */
static int match_q_after(const struct graph_index *ix, int y, struct qparams *p)
{
  const struct sc_node *q;
  if (y < 0 || ix->n_consumers[y] != 1 || ix->is_output[y])
    return 0;
  q = &ix->g->nodes[ix->consumer[y]];
  if (!is_op(q, "QuantizeLinear") || input_of(q, 0) != y ||
      !read_qparams(ix, ix->consumer[y], p) || p->n != 1 || q->n_outputs < 1 ||
      q->outputs[0] < 0)
    return 0;
  p->value = q->outputs[0];
  if (p->zp)
    p->dtype = p->zp->dtype;
  else {
    const struct sc_attr *a = sc_node_attr(q, "output_dtype");
    p->dtype = a && a->type == SC_ATTR_INT && a->i ? (enum sc_dtype)a->i
                                                   : SC_DTYPE_UINT8;
  }
  return is_8bit(p->dtype);
}

/* --- islands ---------------------------------------------------------- */

/* One rewrite: the emulated node that replaces node `node` and the
 * QuantizeLinear `q.node`. */
struct island {
  int node;
  const char *op_type; /* in the emulate domain */
  int n_inputs;
  const char **inputs; /* value names (old graph's, or new_names[]) */
  struct qparams y;
  /* operands: a (x), b (w); per-channel parameters of b in w_* */
  struct qparams a, b;
  int64_t n_w;
  float *w_scales;
  int64_t *w_zps;
  /* Concat: per operand */
  int64_t n_ops;
  float *op_scales;
  int64_t *op_zps;
  /* Lut */
  const char *function;
  float alpha, beta, lo, hi;
  /* initializers created by the rewrite (moved into the new graph) */
  char *new_names[2];
  struct sc_tensor *new_tensors[2];
  int n_new;
};

static void island_free(struct island *is)
{
  int i;
  free(is->inputs);
  free(is->w_scales);
  free(is->w_zps);
  free(is->op_scales);
  free(is->op_zps);
  for (i = 0; i < is->n_new; i++) {
    free(is->new_names[i]);
    sc_tensor_free(is->new_tensors[i]);
  }
}

static sc_status set_inputs(struct island *is, int n, struct sc_error *err)
{
  is->inputs = calloc((size_t)n + 1, sizeof *is->inputs);
  if (!is->inputs)
    return sc_fail_nomem(err, "emulation rewrite");
  is->n_inputs = n;
  return SC_OK;
}

static const char *value_name(const struct graph_index *ix, int v)
{
  return ix->g->values[v].name;
}

/* A name for a new initializer of node `node`, unused in g. */
static sc_status new_name(const struct graph_index *ix, const char *node,
                          const char *what, char **out, struct sc_error *err)
{
  size_t size = strlen(node) + strlen(what) + 32;
  char *name = malloc(size);
  int k = 0;
  if (!name)
    return sc_fail_nomem(err, "emulation rewrite");
  snprintf(name, size, "%s_%s", node, what);
  while (sc_graph_find_value(ix->g, name) >= 0)
    snprintf(name, size, "%s_%s_%d", node, what, ++k);
  *out = name;
  return SC_OK;
}

/* Copies per-channel parameters of p (count n) into the island's w_*. */
static sc_status take_channel_params(struct island *is, const struct qparams *p,
                                     struct sc_error *err)
{
  int64_t i;
  is->n_w = p->n;
  is->w_scales = malloc((size_t)p->n * sizeof *is->w_scales);
  is->w_zps = malloc((size_t)p->n * sizeof *is->w_zps);
  if (!is->w_scales || !is->w_zps)
    return sc_fail_nomem(err, "emulation rewrite");
  for (i = 0; i < p->n; i++) {
    is->w_scales[i] = qscale_at(p, i);
    is->w_zps[i] = zp_at(p, i);
  }
  return SC_OK;
}

/* The normalised per-axis axis of p for a tensor of rank `rank`, or -1. */
static int64_t norm_axis(const struct qparams *p, int rank)
{
  int64_t a = p->axis < 0 ? p->axis + rank : p->axis;
  return a >= 0 && a < rank ? a : -1;
}

/* Matches a constant 8-bit weight (rank `rank`) behind a DequantizeLinear,
 * per tensor or per axis `axis` (of `channels` entries). */
static int match_weight(const struct graph_index *ix, int v, int rank,
                        int64_t axis, struct qparams *p,
                        const struct sc_tensor **w)
{
  if (!match_dq(ix, v, p))
    return 0;
  *w = constant_of(ix, p->value);
  if (!*w || !is_8bit((*w)->dtype) || (*w)->rank != rank)
    return 0;
  p->dtype = (*w)->dtype;
  if (p->zp && p->zp->dtype != p->dtype)
    return 0;
  if (p->n == 1)
    return 1;
  return norm_axis(p, rank) == axis && (*w)->dims[axis] == p->n;
}

/* Builds the int32 bias of `channels` entries for input scale s_a and
 * weight parameters w: reuses the QDQ int32 initializer when its scale is
 * exactly s_a * s_w[c], else requantizes (see the top of this file).
 * *name receives the input name to use. */
static sc_status make_bias(const struct graph_index *ix, struct island *is,
                           int v, int64_t channels, float s_a,
                           const struct sc_node *node, const char **name,
                           int *ok, struct sc_error *err)
{
  struct qparams bp;
  const struct sc_tensor *b = NULL;
  int from_dq = match_dq(ix, v, &bp), reuse = 1;
  struct sc_tensor *t;
  int64_t c, dims[1];
  sc_status st;

  *ok = 0;
  if (from_dq) {
    b = constant_of(ix, bp.value);
    if (!b || b->dtype != SC_DTYPE_INT32 || bp.zp ||
        (bp.n != 1 && bp.n != channels))
      return SC_OK;
  } else {
    b = constant_of(ix, v);
    if (!b || (b->dtype != SC_DTYPE_FLOAT && b->dtype != SC_DTYPE_FLOAT16))
      return SC_OK;
    reuse = 0;
  }
  if (b->n_elements != channels)
    return SC_OK;
  for (c = 0; c < channels && reuse; c++)
    if (qscale_at(&bp, c) != s_a * is->w_scales[is->n_w == 1 ? 0 : c])
      reuse = 0;
  *ok = 1;
  if (reuse) {
    *name = value_name(ix, bp.value);
    return SC_OK;
  }
  dims[0] = channels;
  st = sc_tensor_create(SC_DTYPE_INT32, 1, dims, &t, err);
  if (st)
    return st;
  for (c = 0; c < channels; c++) {
    double real = from_dq ? (double)qscale_at(&bp, c) *
                                (double)((const int32_t *)b->data)[c]
                          : sc_dtype_load(b->dtype, b->data, c);
    double q =
        nearbyint(real / (double)(s_a * is->w_scales[is->n_w == 1 ? 0 : c]));
    ((int32_t *)t->data)[c] = q > 2147483647.0    ? INT32_MAX
                              : q < -2147483648.0 ? INT32_MIN
                                                  : (int32_t)q;
  }
  is->new_tensors[is->n_new] = t;
  st = new_name(ix, node->name, "bias_int32", &is->new_names[is->n_new], err);
  if (st)
    return st;
  *name = is->new_names[is->n_new++];
  return SC_OK;
}

/* Conv: DQ(x), DQ(constant w), optional bias -> Q. */
static sc_status match_conv(const struct graph_index *ix,
                            const struct sc_node *node, struct island *is,
                            int *ok, struct sc_error *err)
{
  const struct sc_tensor *w;
  const char *bias = NULL;
  int rank;
  sc_status st;

  *ok = 0;
  if (node->n_inputs < 2 || !match_activation(ix, input_of(node, 0), &is->a))
    return SC_OK;
  if (!match_dq(ix, input_of(node, 1), &is->b))
    return SC_OK;
  w = constant_of(ix, is->b.value);
  rank = w ? w->rank : 0;
  if (!w || rank < 3 ||
      !match_weight(ix, input_of(node, 1), rank, 0, &is->b, &w) ||
      !match_q_after(ix, node->n_outputs > 0 ? node->outputs[0] : -1, &is->y))
    return SC_OK;
  st = take_channel_params(is, &is->b, err);
  if (st)
    return st;
  if (input_of(node, 2) >= 0) {
    st = make_bias(ix, is, input_of(node, 2), w->dims[0], qscale_at(&is->a, 0),
                   node, &bias, ok, err);
    if (st || !*ok)
      return st;
  }
  st = set_inputs(is, bias ? 3 : 2, err);
  if (st)
    return st;
  is->inputs[0] = value_name(ix, is->a.value);
  is->inputs[1] = value_name(ix, is->b.value);
  if (bias)
    is->inputs[2] = bias;
  is->op_type = "Conv";
  *ok = 1;
  return SC_OK;
}

/* MatMul: DQ(a), DQ(constant 2-D b) -> Q; Gemm likewise with alpha = 1,
 * beta = 1, transA = 0, an optional bias and transB applied offline. */
static sc_status match_matmul(const struct graph_index *ix,
                              const struct sc_node *node, int is_gemm,
                              struct island *is, int *ok, struct sc_error *err)
{
  const struct sc_tensor *w;
  const char *bias = NULL, *weight;
  int64_t trans_b = 0, n;
  sc_status st;

  *ok = 0;
  if (is_gemm) {
    const struct sc_attr *alpha = sc_node_attr(node, "alpha");
    const struct sc_attr *beta = sc_node_attr(node, "beta");
    const struct sc_attr *ta = sc_node_attr(node, "transA");
    const struct sc_attr *tb = sc_node_attr(node, "transB");
    if ((alpha && (alpha->type != SC_ATTR_FLOAT || alpha->f != 1.0f)) ||
        (beta && (beta->type != SC_ATTR_FLOAT || beta->f != 1.0f)) ||
        (ta && (ta->type != SC_ATTR_INT || ta->i != 0)) ||
        (tb && (tb->type != SC_ATTR_INT || (tb->i != 0 && tb->i != 1))))
      return SC_OK;
    trans_b = tb ? tb->i : 0;
  }
  if (node->n_inputs < 2 || !match_activation(ix, input_of(node, 0), &is->a) ||
      !match_weight(ix, input_of(node, 1), 2, trans_b ? 0 : 1, &is->b, &w) ||
      !match_q_after(ix, node->n_outputs > 0 ? node->outputs[0] : -1, &is->y))
    return SC_OK;
  n = w->dims[trans_b ? 0 : 1];
  st = take_channel_params(is, &is->b, err);
  if (st)
    return st;
  weight = value_name(ix, is->b.value);
  if (trans_b) { /* the compiler stores the weight transposed */
    struct sc_tensor *t;
    int64_t dims[2], i, j, k = w->dims[1];
    dims[0] = k;
    dims[1] = n;
    st = sc_tensor_create(w->dtype, 2, dims, &t, err);
    if (st)
      return st;
    for (i = 0; i < n; i++)
      for (j = 0; j < k; j++)
        ((uint8_t *)t->data)[j * n + i] = ((const uint8_t *)w->data)[i * k + j];
    is->new_tensors[is->n_new] = t;
    st = new_name(ix, node->name, "weight_transposed",
                  &is->new_names[is->n_new], err);
    if (st)
      return st;
    weight = is->new_names[is->n_new++];
  }
  if (is_gemm && input_of(node, 2) >= 0) {
    st = make_bias(ix, is, input_of(node, 2), n, qscale_at(&is->a, 0), node,
                   &bias, ok, err);
    if (st || !*ok)
      return st;
  }
  st = set_inputs(is, bias ? 3 : 2, err);
  if (st)
    return st;
  is->inputs[0] = value_name(ix, is->a.value);
  is->inputs[1] = weight;
  if (bias)
    is->inputs[2] = bias;
  is->op_type = "MatMul";
  *ok = 1;
  return SC_OK;
}

/* Add, Mul: two DQ operands -> Q. */
static sc_status match_binary(const struct graph_index *ix,
                              const struct sc_node *node, struct island *is,
                              int *ok, struct sc_error *err)
{
  sc_status st;
  *ok = 0;
  if (node->n_inputs != 2 || !match_activation(ix, input_of(node, 0), &is->a) ||
      !match_activation(ix, input_of(node, 1), &is->b) ||
      !match_q_after(ix, node->n_outputs > 0 ? node->outputs[0] : -1, &is->y))
    return SC_OK;
  st = set_inputs(is, 2, err);
  if (st)
    return st;
  is->inputs[0] = value_name(ix, is->a.value);
  is->inputs[1] = value_name(ix, is->b.value);
  is->op_type = node->op_type; /* "Add" or "Mul" */
  *ok = 1;
  return SC_OK;
}

/* Concat: every operand from a DQ -> Q. */
static sc_status match_concat(const struct graph_index *ix,
                              const struct sc_node *node, struct island *is,
                              int *ok, struct sc_error *err)
{
  int k;
  sc_status st;
  *ok = 0;
  if (node->n_inputs < 1 ||
      !match_q_after(ix, node->n_outputs > 0 ? node->outputs[0] : -1, &is->y))
    return SC_OK;
  for (k = 0; k < node->n_inputs; k++)
    if (!match_activation(ix, input_of(node, k), &is->a))
      return SC_OK;
  st = set_inputs(is, node->n_inputs, err);
  if (st)
    return st;
  is->n_ops = node->n_inputs;
  is->op_scales = malloc((size_t)is->n_ops * sizeof *is->op_scales);
  is->op_zps = malloc((size_t)is->n_ops * sizeof *is->op_zps);
  if (!is->op_scales || !is->op_zps)
    return sc_fail_nomem(err, "emulation rewrite");
  for (k = 0; k < node->n_inputs; k++) {
    struct qparams p;
    match_activation(ix, input_of(node, k), &p);
    is->inputs[k] = value_name(ix, p.value);
    is->op_scales[k] = qscale_at(&p, 0);
    is->op_zps[k] = zp_at(&p, 0);
  }
  is->op_type = "Concat";
  *ok = 1;
  return SC_OK;
}

/* A scalar float from a constant input (Clip's min/max), or `def`. */
static int constant_scalar(const struct graph_index *ix, int v, float def,
                           float *out)
{
  const struct sc_tensor *t;
  *out = def;
  if (v < 0)
    return 1;
  t = constant_of(ix, v);
  if (!t || t->n_elements != 1 || !sc_dtype_is_float(t->dtype))
    return 0;
  *out = (float)sc_dtype_load(t->dtype, t->data, 0);
  return 1;
}

static float float_attr_or(const struct sc_node *node, const char *name,
                           float def)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  return a && a->type == SC_ATTR_FLOAT ? a->f : def;
}

/* Unary activations on 8-bit tensors and GlobalAveragePool: DQ -> F -> Q. */
static sc_status match_unary(const struct graph_index *ix,
                             const struct sc_node *node, struct island *is,
                             int *ok, struct sc_error *err)
{
  static const char *const lut_ops[] = {"Sigmoid",  "Tanh",      "HardSigmoid",
                                        "Relu",     "LeakyRelu", "Clip",
                                        "HardSwish"};
  size_t i;
  sc_status st;
  int gap = is_op(node, "GlobalAveragePool");

  *ok = 0;
  if (!gap) {
    for (i = 0; i < sizeof lut_ops / sizeof lut_ops[0]; i++)
      if (is_op(node, lut_ops[i]))
        break;
    if (i == sizeof lut_ops / sizeof lut_ops[0])
      return SC_OK;
    is->function = lut_ops[i];
  }
  if (node->n_inputs < 1 || !match_activation(ix, input_of(node, 0), &is->a) ||
      !match_q_after(ix, node->n_outputs > 0 ? node->outputs[0] : -1, &is->y))
    return SC_OK;
  is->lo = -INFINITY;
  is->hi = INFINITY;
  if (!gap && strcmp(is->function, "HardSigmoid") == 0) {
    is->alpha = float_attr_or(node, "alpha", 0.2f);
    is->beta = float_attr_or(node, "beta", 0.5f);
  } else if (!gap && strcmp(is->function, "LeakyRelu") == 0) {
    is->alpha = float_attr_or(node, "alpha", 0.01f);
  } else if (!gap && strcmp(is->function, "Clip") == 0) {
    if (ix->default_opset >= 11) {
      if (!constant_scalar(ix, input_of(node, 1), -INFINITY, &is->lo) ||
          !constant_scalar(ix, input_of(node, 2), INFINITY, &is->hi))
        return SC_OK;
    } else {
      is->lo = float_attr_or(node, "min", -INFINITY);
      is->hi = float_attr_or(node, "max", INFINITY);
    }
  }
  st = set_inputs(is, 1, err);
  if (st)
    return st;
  is->inputs[0] = value_name(ix, is->a.value);
  is->op_type = gap ? "GlobalAveragePool" : "Lut";
  *ok = 1;
  return SC_OK;
}

/* Tries every island pattern at node n. */
static sc_status match_island(const struct graph_index *ix, int n,
                              struct island *is, int *ok, struct sc_error *err)
{
  const struct sc_node *node = &ix->g->nodes[n];
  memset(is, 0, sizeof *is);
  is->node = n;
  *ok = 0;
  if (node->domain[0])
    return SC_OK;
  if (strcmp(node->op_type, "Conv") == 0)
    return match_conv(ix, node, is, ok, err);
  if (strcmp(node->op_type, "MatMul") == 0)
    return match_matmul(ix, node, 0, is, ok, err);
  if (strcmp(node->op_type, "Gemm") == 0)
    return match_matmul(ix, node, 1, is, ok, err);
  if (strcmp(node->op_type, "Add") == 0 || strcmp(node->op_type, "Mul") == 0)
    return match_binary(ix, node, is, ok, err);
  if (strcmp(node->op_type, "Concat") == 0)
    return match_concat(ix, node, is, ok, err);
  return match_unary(ix, node, is, ok, err);
}

/* --- building the new graph ------------------------------------------- */

static sc_status copy_conv_attrs(const struct sc_node *from, struct sc_node *to,
                                 struct sc_error *err)
{
  static const char *const names[] = {"auto_pad",     "dilations", "group",
                                      "kernel_shape", "pads",      "strides"};
  size_t i;
  sc_status st = SC_OK;
  for (i = 0; i < sizeof names / sizeof names[0] && !st; i++) {
    const struct sc_attr *a = sc_node_attr(from, names[i]);
    if (!a)
      continue;
    if (a->type == SC_ATTR_INT)
      st = sc_node_set_attr_int(to, a->name, a->i, err);
    else if (a->type == SC_ATTR_INTS)
      st = sc_node_set_attr_ints(to, a->name, a->n, a->ints, err);
    else if (a->type == SC_ATTR_STRING)
      st = sc_node_set_attr_string(to, a->name, a->s, a->s_size, err);
  }
  return st;
}

static sc_status set_param_attrs(struct sc_node *to, const char *scale_name,
                                 const char *zp_name, const struct qparams *p,
                                 struct sc_error *err)
{
  sc_status st = sc_node_set_attr_float(to, scale_name, qscale_at(p, 0), err);
  if (!st)
    st = sc_node_set_attr_int(to, zp_name, zp_at(p, 0), err);
  return st;
}

/* Adds the emulated node of island `is` to ng. */
static sc_status add_island_node(const struct graph_index *ix,
                                 const struct island *is,
                                 const struct sc_emulate_options *opt,
                                 struct sc_graph *ng, struct sc_error *err)
{
  const struct sc_node *old = &ix->g->nodes[is->node];
  const char *outputs[1];
  const char *rounding = sc_emulate_rounding_name(opt->rounding);
  struct sc_node *node;
  sc_status st;

  outputs[0] = value_name(ix, is->y.value);
  st = sc_graph_add_node(ng, old->name, is->op_type, EMULATE_DOMAIN,
                         is->n_inputs, is->inputs, 1, outputs, &node, err);
  if (!st)
    st = sc_node_set_attr_string(node, "rounding", rounding, strlen(rounding),
                                 err);
  if (!st)
    st = set_param_attrs(node, "y_scale", "y_zero_point", &is->y, err);
  if (!st)
    st = sc_node_set_attr_int(node, "y_dtype", is->y.dtype, err);
  if (st)
    return st;
  if (strcmp(is->op_type, "Conv") == 0 || strcmp(is->op_type, "MatMul") == 0) {
    int conv = strcmp(is->op_type, "Conv") == 0;
    st = set_param_attrs(node, conv ? "x_scale" : "a_scale",
                         conv ? "x_zero_point" : "a_zero_point", &is->a, err);
    if (!st)
      st = sc_node_set_attr_floats(node, conv ? "w_scale" : "b_scale", is->n_w,
                                   is->w_scales, err);
    if (!st)
      st = sc_node_set_attr_ints(node, conv ? "w_zero_point" : "b_zero_point",
                                 is->n_w, is->w_zps, err);
    if (!st && conv)
      st = copy_conv_attrs(old, node, err);
  } else if (strcmp(is->op_type, "Add") == 0 ||
             strcmp(is->op_type, "Mul") == 0) {
    st = set_param_attrs(node, "a_scale", "a_zero_point", &is->a, err);
    if (!st)
      st = set_param_attrs(node, "b_scale", "b_zero_point", &is->b, err);
  } else if (strcmp(is->op_type, "Concat") == 0) {
    const struct sc_attr *axis = sc_node_attr(old, "axis");
    st = sc_node_set_attr_floats(node, "scales", is->n_ops, is->op_scales, err);
    if (!st)
      st = sc_node_set_attr_ints(node, "zero_points", is->n_ops, is->op_zps,
                                 err);
    if (!st)
      st = sc_node_set_attr_int(
          node, "axis", axis && axis->type == SC_ATTR_INT ? axis->i : 0, err);
  } else { /* GlobalAveragePool, Lut */
    st = set_param_attrs(node, "x_scale", "x_zero_point", &is->a, err);
    if (!st && is->function) {
      st = sc_node_set_attr_string(node, "function", is->function,
                                   strlen(is->function), err);
      if (!st)
        st = sc_node_set_attr_float(node, "alpha", is->alpha, err);
      if (!st)
        st = sc_node_set_attr_float(node, "beta", is->beta, err);
      if (!st)
        st = sc_node_set_attr_float(node, "min", is->lo, err);
      if (!st)
        st = sc_node_set_attr_float(node, "max", is->hi, err);
    }
  }
  return st;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* Graph-level fields, inputs, opsets. */
static sc_status start_graph(const struct sc_graph *g, struct sc_graph *ng,
                             struct sc_error *err)
{
  int i;
  sc_status st = SC_OK;
  free(ng->name);
  free(ng->source);
  ng->name = strdup(g->name ? g->name : "");
  ng->source = strdup(g->source ? g->source : "");
  ng->producer_name = dup_or_null(g->producer_name);
  ng->producer_version = dup_or_null(g->producer_version);
  ng->ir_version = g->ir_version;
  if (!ng->name || !ng->source || (g->producer_name && !ng->producer_name) ||
      (g->producer_version && !ng->producer_version))
    return sc_fail_nomem(err, "emulated graph");
  for (i = 0; i < g->n_opsets && !st; i++)
    st = sc_graph_set_opset(ng, g->opsets[i].domain, g->opsets[i].version, err);
  if (!st)
    st = sc_graph_set_opset(ng, EMULATE_DOMAIN, 1, err);
  for (i = 0; i < g->n_inputs && !st; i++) {
    const struct sc_value *v = &g->values[g->inputs[i]];
    st = sc_graph_add_input(ng, v->name, v->dtype, v->rank, v->dims, err);
  }
  for (i = 0; i < g->n_values && !st; i++)
    if (g->values[i].initializer) {
      int idx;
      st = sc_graph_value(ng, g->values[i].name, &idx, err);
    }
  return st;
}

/* Adds the node at old index n unchanged (its attributes are moved later). */
static sc_status add_kept_node(const struct sc_graph *g, int n,
                               struct sc_graph *ng, struct sc_error *err)
{
  const struct sc_node *old = &g->nodes[n];
  const char **ins, **outs;
  int i;
  sc_status st;

  ins = calloc((size_t)old->n_inputs + 1, sizeof *ins);
  outs = calloc((size_t)old->n_outputs + 1, sizeof *outs);
  if (!ins || !outs) {
    free(ins);
    free(outs);
    return sc_fail_nomem(err, "emulated graph");
  }
  for (i = 0; i < old->n_inputs; i++)
    ins[i] = old->inputs[i] >= 0 ? g->values[old->inputs[i]].name : "";
  for (i = 0; i < old->n_outputs; i++)
    outs[i] = old->outputs[i] >= 0 ? g->values[old->outputs[i]].name : "";
  st = sc_graph_add_node(ng, old->name, old->op_type, old->domain,
                         old->n_inputs, ins, old->n_outputs, outs, NULL, err);
  free(ins);
  free(outs);
  return st;
}

/* Moves what cannot be copied (attributes of kept nodes, initializers,
 * annotations) from g to ng. Cannot fail. `new_index[n]` is the index in ng
 * of kept node n, or -1. */
static void move_contents(struct sc_graph *g, struct sc_graph *ng,
                          const int *new_index)
{
  int i;
  for (i = 0; i < g->n_nodes; i++)
    if (new_index[i] >= 0) {
      struct sc_node *to = &ng->nodes[new_index[i]];
      to->attrs = g->nodes[i].attrs;
      to->n_attrs = g->nodes[i].n_attrs;
      g->nodes[i].attrs = NULL;
      g->nodes[i].n_attrs = 0;
    }
  for (i = 0; i < ng->n_values; i++) {
    struct sc_value *nv = &ng->values[i];
    int o = sc_graph_find_value(g, nv->name);
    struct sc_value *ov;
    if (o < 0)
      continue;
    ov = &g->values[o];
    if (ov->initializer && !nv->initializer) {
      nv->initializer = ov->initializer;
      ov->initializer = NULL;
      nv->dtype = nv->initializer->dtype;
      nv->rank = nv->initializer->rank;
      memcpy(nv->dims, nv->initializer->dims, sizeof nv->dims);
    }
    if (!nv->is_input && nv->dtype == SC_DTYPE_UNDEFINED) {
      nv->dtype = ov->dtype;
      nv->rank = ov->rank;
      memcpy(nv->dims, ov->dims, sizeof nv->dims);
    }
    if (ov->quant && !nv->quant) {
      nv->quant = ov->quant;
      ov->quant = NULL;
    }
  }
}

/* Builds ng from g and the islands (drop[n]: node n is a QuantizeLinear
 * absorbed by an island; island_of[n]: index into islands or -1). */
static sc_status build(struct sc_graph *g, struct island *islands,
                       const int *island_of, const uint8_t *drop,
                       const struct graph_index *ix,
                       const struct sc_emulate_options *opt,
                       struct sc_graph **out, struct sc_error *err)
{
  struct sc_graph *ng = NULL;
  int *new_index = NULL;
  int i, k;
  sc_status st;

  *out = NULL;
  st = sc_graph_create(&ng, err);
  if (st)
    return st;
  new_index = malloc(((size_t)g->n_nodes + 1) * sizeof *new_index);
  if (!new_index)
    st = sc_fail_nomem(err, "emulated graph");
  if (!st)
    st = start_graph(g, ng, err);
  for (i = 0; i < g->n_nodes && !st; i++) {
    new_index[i] = -1;
    if (drop[i])
      continue;
    if (island_of[i] >= 0) {
      st = add_island_node(ix, &islands[island_of[i]], opt, ng, err);
      continue;
    }
    st = add_kept_node(g, i, ng, err);
    new_index[i] = ng->n_nodes - 1;
  }
  for (i = 0; i < g->n_nodes && !st; i++)
    if (island_of[i] >= 0) {
      struct island *is = &islands[island_of[i]];
      for (k = 0; k < is->n_new && !st; k++) {
        st = sc_graph_add_initializer(ng, is->new_names[k], is->new_tensors[k],
                                      err);
        is->new_tensors[k] = NULL; /* owned by ng (or freed) now */
      }
    }
  for (i = 0; i < g->n_outputs && !st; i++)
    st = sc_graph_add_output(ng, g->values[g->outputs[i]].name, err);
  if (!st) {
    move_contents(g, ng, new_index);
    *out = ng;
    ng = NULL;
  }
  free(new_index);
  sc_graph_free(ng);
  return st;
}

sc_status sc_graph_emulate(struct sc_graph *g,
                           const struct sc_emulate_options *options,
                           int *n_rewritten, struct sc_error *err)
{
  static const struct sc_emulate_options defaults = {
      SC_EMULATE_HALF_AWAY_FROM_ZERO};
  const struct sc_emulate_options *opt = options ? options : &defaults;
  struct graph_index ix;
  struct island *islands = NULL;
  int *island_of = NULL;
  uint8_t *drop = NULL;
  struct sc_graph *ng = NULL, tmp;
  int i, n_islands = 0;
  sc_status st;

  if (n_rewritten)
    *n_rewritten = 0;
  st = sc_graph_annotate_quant(g, err);
  if (!st)
    st = index_build(g, &ix, err);
  if (st)
    return st;
  islands = calloc((size_t)g->n_nodes + 1, sizeof *islands);
  island_of = malloc(((size_t)g->n_nodes + 1) * sizeof *island_of);
  drop = calloc((size_t)g->n_nodes + 1, 1);
  if (!islands || !island_of || !drop) {
    st = sc_fail_nomem(err, "emulation rewrite");
    goto cleanup;
  }
  for (i = 0; i < g->n_nodes; i++)
    island_of[i] = -1;
  for (i = 0; i < g->n_nodes && !st; i++) {
    int ok = 0;
    st = match_island(&ix, i, &islands[n_islands], &ok, err);
    if (st || !ok || drop[islands[n_islands].y.node]) {
      island_free(&islands[n_islands]);
      continue;
    }
    island_of[i] = n_islands;
    drop[islands[n_islands].y.node] = 1;
    n_islands++;
  }
  if (!st)
    st = build(g, islands, island_of, drop, &ix, opt, &ng, err);
  if (st)
    goto cleanup;

  /* swap the rebuilt graph into place and free the old contents */
  tmp = *g;
  *g = *ng;
  *ng = tmp;
  for (i = 0; i < g->n_nodes; i++)
    g->nodes[i].graph = g;
  sc_graph_free(ng);
  if (n_rewritten)
    *n_rewritten = n_islands;

cleanup:
  for (i = 0; islands && i < n_islands; i++)
    island_free(&islands[i]);
  free(islands);
  free(island_of);
  free(drop);
  index_free(&ix);
  return st;
}
