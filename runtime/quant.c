/* Quantization metadata of a graph's tensors; see runtime/quant.h. */
#include "runtime/quant.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sc_quant_free(struct sc_quant *q)
{
  if (!q)
    return;
  free(q->scale);
  free(q->zero_point);
  free(q);
}

sc_status sc_quant_create(enum sc_dtype dtype, int axis, int64_t n_params,
                          struct sc_quant **out, struct sc_error *err)
{
  struct sc_quant *q = calloc(1, sizeof *q);
  size_t n = n_params > 0 ? (size_t)n_params : 1;
  *out = NULL;
  if (q) {
    q->scale = calloc(n, sizeof *q->scale);
    q->zero_point = calloc(n, sizeof *q->zero_point);
  }
  if (!q || !q->scale || !q->zero_point) {
    sc_quant_free(q);
    return sc_fail_nomem(err, "quantization parameters");
  }
  q->dtype = dtype;
  q->axis = axis;
  q->n_params = n_params;
  *out = q;
  return SC_OK;
}

sc_status sc_quant_clone(const struct sc_quant *q, struct sc_quant **out,
                         struct sc_error *err)
{
  struct sc_quant *c;
  sc_status st;
  *out = NULL;
  if (!q)
    return SC_OK;
  st = sc_quant_create(q->dtype, q->axis, q->n_params, &c, err);
  if (st)
    return st;
  if (q->n_params) {
    memcpy(c->scale, q->scale, (size_t)q->n_params * sizeof *c->scale);
    memcpy(c->zero_point, q->zero_point,
           (size_t)q->n_params * sizeof *c->zero_point);
  }
  *out = c;
  return SC_OK;
}

/* What the pass knows about the graph: the producer of every value. */
struct annotate_ctx {
  struct sc_graph *g;
  int *producer; /* node index or -1 */
};

/* The constant data of value v (an initializer or a Constant node's
 * `value`), or NULL. */
static const struct sc_tensor *constant_of(const struct annotate_ctx *ctx,
                                           int v)
{
  const struct sc_graph *g = ctx->g;
  const struct sc_node *p;
  const struct sc_attr *a;
  if (v < 0)
    return NULL;
  if (g->values[v].initializer)
    return g->values[v].initializer;
  if (ctx->producer[v] < 0)
    return NULL;
  p = &g->nodes[ctx->producer[v]];
  if (strcmp(p->op_type, "Constant") != 0 || p->domain[0])
    return NULL;
  a = sc_node_attr(p, "value");
  return a && a->type == SC_ATTR_TENSOR ? a->t : NULL;
}

static float load_scale(const struct sc_tensor *t, int64_t i)
{
  switch (t->dtype) {
  case SC_DTYPE_FLOAT:
    return ((const float *)t->data)[i];
  case SC_DTYPE_FLOAT16:
    return sc_half_to_float(((const uint16_t *)t->data)[i]);
  case SC_DTYPE_BFLOAT16:
    return sc_bfloat16_to_float(((const uint16_t *)t->data)[i]);
  default:
    return (float)sc_dtype_load(t->dtype, t->data, i);
  }
}

/* Builds the annotation of a tensor of static rank `rank` (-1 unknown)
 * from constant scale/zero point tensors; *out stays NULL when they are
 * unusable (missing, mismatched, per-axis without a resolvable axis). */
static sc_status make_quant(const struct sc_tensor *scale,
                            const struct sc_tensor *zp, enum sc_dtype dtype,
                            int64_t axis, int rank, struct sc_quant **out,
                            struct sc_error *err)
{
  struct sc_quant *q;
  int64_t i, n;
  sc_status st;

  *out = NULL;
  if (!scale || !sc_dtype_is_float(scale->dtype) || scale->n_elements < 1 ||
      scale->rank > 1)
    return SC_OK;
  n = scale->n_elements;
  if (zp && (zp->n_elements != n || !sc_dtype_is_integer(zp->dtype)))
    return SC_OK;
  if (n > 1) {
    if (axis < 0)
      axis += rank;
    if (rank < 0 || axis < 0 || axis >= rank)
      return SC_OK;
  }
  st = sc_quant_create(zp ? zp->dtype : dtype, n > 1 ? (int)axis : -1, n, &q,
                       err);
  if (st)
    return st;
  for (i = 0; i < n; i++) {
    q->scale[i] = load_scale(scale, i);
    q->zero_point[i] = zp ? sc_dtype_load_i64(zp->dtype, zp->data, i) : 0;
  }
  *out = q;
  return SC_OK;
}

/* The static rank of value v, or of value `like` (a tensor of the same
 * shape) when v's is unknown; -1 if neither is known. */
static int rank_of(const struct sc_graph *g, int v, int like)
{
  if (v >= 0 && g->values[v].rank >= 0)
    return g->values[v].rank;
  return like >= 0 ? g->values[like].rank : -1;
}

/* Annotates value v (when it has no annotation yet) with the parameters
 * at inputs i_scale / i_zp of node; `like` (or -1) is a value of the same
 * shape whose rank resolves a per-axis axis when v's rank is unknown. */
static sc_status annotate(struct annotate_ctx *ctx, const struct sc_node *node,
                          int v, int like, int i_scale, int i_zp,
                          enum sc_dtype dtype, int64_t axis,
                          struct sc_error *err)
{
  struct sc_value *val;
  struct sc_quant *q;
  const struct sc_tensor *zp = NULL;
  sc_status st;

  if (v < 0 || i_scale >= node->n_inputs)
    return SC_OK;
  val = &ctx->g->values[v];
  if (val->quant)
    return SC_OK;
  if (i_zp < node->n_inputs) {
    zp = constant_of(ctx, node->inputs[i_zp]);
    if (!zp && node->inputs[i_zp] >= 0)
      return SC_OK; /* a zero point computed at run time */
  }
  st = make_quant(constant_of(ctx, node->inputs[i_scale]), zp, dtype, axis,
                  rank_of(ctx->g, v, like), &q, err);
  if (!st)
    val->quant = q;
  return st;
}

static int node_input(const struct sc_node *node, int i)
{
  return i < node->n_inputs ? node->inputs[i] : -1;
}

static int node_output(const struct sc_node *node, int i)
{
  return i < node->n_outputs ? node->outputs[i] : -1;
}

/* The integer dtype of QuantizeLinear's output when it has no zero
 * point: output_dtype (opset 21) or uint8. */
static enum sc_dtype quantize_default_dtype(const struct sc_node *node)
{
  const struct sc_attr *a = sc_node_attr(node, "output_dtype");
  return a && a->type == SC_ATTR_INT && a->i ? (enum sc_dtype)a->i
                                             : SC_DTYPE_UINT8;
}

static int64_t axis_attr(const struct sc_node *node, int64_t def)
{
  const struct sc_attr *a = sc_node_attr(node, "axis");
  return a && a->type == SC_ATTR_INT ? a->i : def;
}

/* Which inputs of a QLinear operator carry which parameters. */
struct qlinear_layout {
  const char *op_type;
  int out_scale, out_zp; /* parameter inputs of output 0 */
  int n_operands;        /* fixed operands below, or -1 for Concat */
  int operand[2], scale[2], zp[2];
};

static const struct qlinear_layout layouts[] = {
    {"QLinearConv", 6, 7, 2, {0, 3}, {1, 4}, {2, 5}},
    {"QLinearMatMul", 6, 7, 2, {0, 3}, {1, 4}, {2, 5}},
    {"QGemm", 7, 8, 2, {0, 3}, {1, 4}, {2, 5}},
    {"QLinearAdd", 6, 7, 2, {0, 3}, {1, 4}, {2, 5}},
    {"QLinearMul", 6, 7, 2, {0, 3}, {1, 4}, {2, 5}},
    {"QLinearSigmoid", 3, 4, 1, {0, 0}, {1, 0}, {2, 0}},
    {"QLinearLeakyRelu", 3, 4, 1, {0, 0}, {1, 0}, {2, 0}},
    {"QLinearGlobalAveragePool", 3, 4, 1, {0, 0}, {1, 0}, {2, 0}},
    {"QLinearAveragePool", 3, 4, 1, {0, 0}, {1, 0}, {2, 0}},
    {"QLinearConcat", 0, 1, -1, {0, 0}, {0, 0}, {0, 0}},
};

static const struct qlinear_layout *layout_of(const struct sc_node *node)
{
  size_t i;
  if (node->domain[0] && strcmp(node->domain, "com.microsoft") != 0)
    return NULL;
  for (i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
    if (strcmp(node->op_type, layouts[i].op_type) == 0)
      return &layouts[i];
  return NULL;
}

static int is_onnx_op(const struct sc_node *node, const char *op_type)
{
  return (!node->domain[0] || strcmp(node->domain, "com.microsoft") == 0) &&
         strcmp(node->op_type, op_type) == 0;
}

/* The dtype a tensor of value v has, as far as is known statically. */
static enum sc_dtype value_dtype(const struct sc_graph *g, int v)
{
  return v >= 0 ? g->values[v].dtype : SC_DTYPE_UNDEFINED;
}

/* Pass 1: what producers say about their outputs. */
static sc_status annotate_outputs(struct annotate_ctx *ctx,
                                  const struct sc_node *node,
                                  struct sc_error *err)
{
  const struct qlinear_layout *l;
  int first;
  if (is_onnx_op(node, "QuantizeLinear"))
    return annotate(ctx, node, node_output(node, 0), node_input(node, 0), 1, 2,
                    quantize_default_dtype(node), axis_attr(node, 1), err);
  if (is_onnx_op(node, "DequantizeLinear")) {
    enum sc_dtype d = value_dtype(ctx->g, node_input(node, 0));
    return annotate(ctx, node, node_output(node, 0), node_input(node, 0), 1, 2,
                    d ? d : SC_DTYPE_UINT8, axis_attr(node, 1), err);
  }
  l = layout_of(node);
  if (!l)
    return SC_OK;
  first = node_input(node, l->n_operands < 0 ? 2 : l->operand[0]);
  return annotate(ctx, node, node_output(node, 0), -1, l->out_scale, l->out_zp,
                  value_dtype(ctx->g, first), -1, err);
}

/* Pass 2: what consumers say about their inputs. */
static sc_status annotate_inputs(struct annotate_ctx *ctx,
                                 const struct sc_node *node,
                                 struct sc_error *err)
{
  const struct qlinear_layout *l;
  int k;
  sc_status st = SC_OK;

  if (is_onnx_op(node, "QuantizeLinear"))
    return annotate(ctx, node, node_input(node, 0), node_output(node, 0), 1, 2,
                    quantize_default_dtype(node), axis_attr(node, 1), err);
  if (is_onnx_op(node, "DequantizeLinear")) {
    enum sc_dtype d = value_dtype(ctx->g, node_input(node, 0));
    return annotate(ctx, node, node_input(node, 0), node_output(node, 0), 1, 2,
                    d ? d : SC_DTYPE_UINT8, axis_attr(node, 1), err);
  }
  l = layout_of(node);
  if (!l)
    return SC_OK;
  if (l->n_operands < 0) { /* QLinearConcat: (X, scale, zp) triples */
    for (k = 2; k + 2 < node->n_inputs && !st; k += 3)
      st = annotate(ctx, node, node_input(node, k), -1, k + 1, k + 2,
                    value_dtype(ctx->g, node_input(node, k)), -1, err);
    return st;
  }
  for (k = 0; k < l->n_operands && !st; k++) {
    int v = node_input(node, l->operand[k]);
    int64_t axis = -1;
    if (strcmp(node->op_type, "QLinearConv") == 0 && k == 1)
      axis = 0; /* per output channel */
    else if (strcmp(node->op_type, "QLinearMatMul") == 0)
      axis = k == 0 ? -2 : -1; /* per row of a, per column of b */
    else if (strcmp(node->op_type, "QGemm") == 0 && k == 1) {
      const struct sc_attr *tb = sc_node_attr(node, "transB");
      axis = tb && tb->type == SC_ATTR_INT && tb->i ? 0 : 1; /* per column */
    }
    st = annotate(ctx, node, v, -1, l->scale[k], l->zp[k],
                  value_dtype(ctx->g, v), axis, err);
  }
  return st;
}

/* Operators that only move or select an integer tensor's bytes: their
 * output is on the input's grid (per-tensor parameters; per-axis ones would
 * need the axis followed through the layout change). */
static const char *const byte_movers[] = {
    "Reshape",  "Flatten", "Squeeze",      "Unsqueeze",    "Transpose",
    "Identity", "MaxPool", "Slice",        "Gather",       "Split",
    "Tile",     "Expand",  "DepthToSpace", "SpaceToDepth", "GlobalMaxPool"};

static sc_status propagate(struct annotate_ctx *ctx, int *changed,
                           struct sc_error *err)
{
  const struct sc_graph *g = ctx->g;
  int i, j, k;
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    const struct sc_quant *q;
    int in = node_input(node, 0), mover = 0;
    if (node->domain[0] || in < 0 || !(q = g->values[in].quant) ||
        (q->axis >= 0 && q->n_params > 1))
      continue;
    for (k = 0; k < (int)(sizeof byte_movers / sizeof byte_movers[0]); k++)
      if (strcmp(node->op_type, byte_movers[k]) == 0)
        mover = 1;
    if (!mover)
      continue;
    for (j = 0; j < node->n_outputs; j++) {
      int out = node_output(node, j);
      sc_status st;
      if (out < 0 || g->values[out].quant ||
          (g->values[out].dtype != SC_DTYPE_UNDEFINED &&
           g->values[out].dtype != g->values[in].dtype) ||
          !sc_dtype_is_integer(g->values[in].dtype))
        continue;
      st = sc_quant_clone(q, &ctx->g->values[out].quant, err);
      if (st)
        return st;
      *changed = 1;
    }
  }
  return SC_OK;
}

sc_status sc_graph_annotate_quant(struct sc_graph *g, struct sc_error *err)
{
  struct annotate_ctx ctx;
  int i, j;
  sc_status st = SC_OK;

  ctx.g = g;
  ctx.producer = malloc(((size_t)g->n_values + 1) * sizeof *ctx.producer);
  if (!ctx.producer)
    return sc_fail_nomem(err, "quantization annotation");
  for (i = 0; i < g->n_values; i++)
    ctx.producer[i] = -1;
  for (i = 0; i < g->n_nodes; i++)
    for (j = 0; j < g->nodes[i].n_outputs; j++)
      if (g->nodes[i].outputs[j] >= 0)
        ctx.producer[g->nodes[i].outputs[j]] = i;
  for (i = 0; i < g->n_nodes && !st; i++)
    st = annotate_outputs(&ctx, &g->nodes[i], err);
  for (i = 0; i < g->n_nodes && !st; i++)
    st = annotate_inputs(&ctx, &g->nodes[i], err);
  for (i = 0; i < g->n_nodes && !st; i++) { /* through chains of movers */
    int changed = 0;
    st = propagate(&ctx, &changed, err);
    if (!changed)
      break;
  }
  free(ctx.producer);
  return st;
}

sc_status sc_quant_from_run(const struct sc_node *node,
                            struct sc_tensor *const *outputs,
                            struct sc_quant **out, struct sc_error *err)
{
  *out = NULL;
  if (!is_onnx_op(node, "DynamicQuantizeLinear") || node->n_outputs < 3 ||
      !outputs[0] || !outputs[1] || !outputs[2] || !outputs[1]->data ||
      !outputs[2]->data)
    return SC_OK;
  return make_quant(outputs[1], outputs[2], outputs[0]->dtype, -1,
                    outputs[0]->rank, out, err);
}

int sc_quant_range(enum sc_dtype dtype, int32_t *qmin, int32_t *qmax)
{
  switch (dtype) {
  case SC_DTYPE_INT8:
    *qmin = -128;
    *qmax = 127;
    return 0;
  case SC_DTYPE_UINT8:
    *qmin = 0;
    *qmax = 255;
    return 0;
  case SC_DTYPE_INT16:
    *qmin = -32768;
    *qmax = 32767;
    return 0;
  case SC_DTYPE_UINT16:
    *qmin = 0;
    *qmax = 65535;
    return 0;
  case SC_DTYPE_INT32:
    *qmin = INT32_MIN;
    *qmax = INT32_MAX;
    return 0;
  default:
    return -1;
  }
}
