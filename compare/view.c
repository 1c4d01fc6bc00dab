#include "compare/view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Operators a toolchain may fold, remove or insert around a tensor without
 * changing which layer it belongs to. */
static const char *const absorbable_ops[] = {
    "Identity", "Dropout", "Cast", "CastLike", "BatchNormalization",
    "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "Reshape",
    "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Pad", "Add", "Sub", "Mul",
    "Div", "HzCalibration", "FakeQuantize", "QuantizeDequantize",
    /* a bias or scale in QOperator form (one activation input) */
    "QLinearAdd", "QLinearMul"};

/* Single-input operators that may be fused into the preceding layer: they
 * start a new stage of the group. */
static const char *const activation_ops[] = {"Relu",
                                             "LeakyRelu",
                                             "PRelu",
                                             "Clip",
                                             "Sigmoid",
                                             "HardSigmoid",
                                             "HardSwish",
                                             "Tanh",
                                             "Elu",
                                             "Selu",
                                             "Celu",
                                             "ThresholdedRelu",
                                             "Softplus",
                                             "Softsign",
                                             "Mish",
                                             "Gelu",
                                             "Erf",
                                             "Exp",
                                             "Log",
                                             "Sqrt",
                                             "Abs",
                                             "Neg",
                                             "Reciprocal",
                                             "Pow",
                                             "Softmax",
                                             "LogSoftmax",
                                             "Hardmax",
                                             "QLinearSigmoid",
                                             "QLinearLeakyRelu",
                                             "Round",
                                             "Floor",
                                             "Ceil"};

static int in_list(const char *op, const char *const *list, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (strcmp(op, list[i]) == 0)
      return 1;
  return 0;
}

const char *sc_op_class(const char *op_type)
{
  static const struct {
    const char *op, *klass;
  } classes[] = {
      {"QLinearConv", "Conv"},
      {"ConvInteger", "Conv"},
      {"FusedConv", "Conv"},
      {"NhwcConv", "Conv"},
      {"QLinearMatMul", "MatMul"},
      {"MatMulInteger", "MatMul"},
      {"Gemm", "MatMul"},
      {"FusedMatMul", "MatMul"},
      {"FusedGemm", "MatMul"},
      {"QLinearAdd", "Add"},
      {"Sum", "Add"},
      {"QLinearMul", "Mul"},
      {"QLinearConcat", "Concat"},
      {"QLinearGlobalAveragePool", "GlobalAveragePool"},
      {"QLinearAveragePool", "AveragePool"},
      {"QLinearSigmoid", "Sigmoid"},
      {"QLinearLeakyRelu", "LeakyRelu"},
      {"Upsample", "Resize"},
  };
  size_t i;
  for (i = 0; i < sizeof classes / sizeof classes[0]; i++)
    if (strcmp(op_type, classes[i].op) == 0)
      return classes[i].klass;
  return op_type;
}

static int commutative(const char *klass)
{
  return strcmp(klass, "Add") == 0 || strcmp(klass, "Mul") == 0 ||
         strcmp(klass, "Max") == 0 || strcmp(klass, "Min") == 0 ||
         strcmp(klass, "Mean") == 0;
}

void sc_canonical_name(const char *name, char *buf, size_t size)
{
  static const char *const suffixes[] = {"_DequantizeLinear_Output",
                                         "_QuantizeLinear_Output",
                                         "_QuantizeLinear_Input",
                                         "_output_quantized",
                                         "_DequantizeLinear",
                                         "_QuantizeLinear",
                                         "_quantized",
                                         "_dequantized",
                                         "_HzCalibration",
                                         "_hz_calibration",
                                         "_calibrated",
                                         "_fake_quant",
                                         "_dequant",
                                         "_quant",
                                         "_int8",
                                         "_uint8"};
  size_t len, i;
  int again = 1;

  if (size == 0)
    return;
  snprintf(buf, size, "%s", name);
  for (i = 0; buf[i]; i++) {
    char c = buf[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      buf[i] = '_';
  }
  while (again) {
    again = 0;
    len = strlen(buf);
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
      size_t ls = strlen(suffixes[i]);
      if (len > ls && strcmp(buf + len - ls, suffixes[i]) == 0) {
        buf[len - ls] = '\0';
        again = 1;
        break;
      }
    }
  }
}

static int activation_dtype(enum sc_dtype d)
{
  switch (d) {
  case SC_DTYPE_FLOAT:
  case SC_DTYPE_DOUBLE:
  case SC_DTYPE_FLOAT16:
  case SC_DTYPE_BFLOAT16:
  case SC_DTYPE_INT8:
  case SC_DTYPE_UINT8:
  case SC_DTYPE_INT16:
  case SC_DTYPE_UINT16:
  case SC_DTYPE_INT32:
    return 1;
  default:
    return 0;
  }
}

static int64_t elements(const struct sc_value *v)
{
  int64_t n = 1;
  int i;
  if (v->rank < 0)
    return -1;
  for (i = 0; i < v->rank; i++) {
    if (v->dims[i] < 0)
      return -1;
    n *= v->dims[i];
  }
  return n;
}

static int64_t tensor_elements(const struct sc_view_tensor *t)
{
  int64_t n = 1;
  int i;
  if (t->rank < 0)
    return -1;
  for (i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0)
      return -1;
    n *= t->dims[i];
  }
  return n;
}

void sc_view_free(struct sc_view *v)
{
  int i;
  if (!v)
    return;
  for (i = 0; i < v->n_tensors; i++)
    free(v->tensors[i].name);
  free(v->tensors);
  for (i = 0; i < v->n_groups; i++) {
    free(v->groups[i].inputs);
    free(v->groups[i].stage_rep);
    free(v->groups[i].stage_op);
  }
  free(v->groups);
  free(v->tensor_of_value);
  free(v->by_name);
  free(v);
}

static int by_name_order(const void *a, const void *b, void *ctx)
{
  const struct sc_view *v = ctx;
  int i = *(const int *)a, j = *(const int *)b;
  int c = strcmp(v->tensors[i].name, v->tensors[j].name);
  return c ? c : (i > j) - (i < j);
}

/* The name index sc_view_find_name searches (a dump may list 20 000
 * tensors: matching looked each name up by a linear scan). */
static sc_status index_names(struct sc_view *v, struct sc_error *err)
{
  int i;
  v->by_name = malloc(((size_t)v->n_tensors + 1) * sizeof *v->by_name);
  if (!v->by_name)
    return sc_fail_nomem(err, "view");
  for (i = 0; i < v->n_tensors; i++)
    v->by_name[i] = i;
  qsort_r(v->by_name, (size_t)v->n_tensors, sizeof *v->by_name, by_name_order,
          v);
  return SC_OK;
}

static sc_status add_group(struct sc_view *v, int head, const char *kind,
                           struct sc_error *err)
{
  struct sc_view_group *grown =
      realloc(v->groups, (size_t)(v->n_groups + 1) * sizeof *grown);
  struct sc_view_group *grp;
  if (!grown)
    return sc_fail_nomem(err, "view");
  v->groups = grown;
  grp = &v->groups[v->n_groups];
  memset(grp, 0, sizeof *grp);
  grp->head = head;
  grp->kind = kind;
  grp->n_stages = 1;
  grp->stage_rep = malloc(sizeof *grp->stage_rep);
  grp->stage_op = malloc(sizeof *grp->stage_op);
  if (!grp->stage_rep || !grp->stage_op)
    return sc_fail_nomem(err, "view");
  grp->stage_rep[0] = head;
  grp->stage_op[0] = kind;
  v->tensors[head].group = v->n_groups;
  v->tensors[head].stage = 0;
  v->n_groups++;
  return SC_OK;
}

static sc_status add_stage(struct sc_view_group *grp, const char *op,
                           int tensor, struct sc_error *err)
{
  int *reps =
      realloc(grp->stage_rep, (size_t)(grp->n_stages + 1) * sizeof *reps);
  const char **ops;
  if (!reps)
    return sc_fail_nomem(err, "view");
  grp->stage_rep = reps;
  ops = realloc(grp->stage_op, (size_t)(grp->n_stages + 1) * sizeof *ops);
  if (!ops)
    return sc_fail_nomem(err, "view");
  grp->stage_op = ops;
  grp->stage_rep[grp->n_stages] = tensor;
  grp->stage_op[grp->n_stages] = op;
  grp->n_stages++;
  return SC_OK;
}

static int compare_ints(const void *a, const void *b)
{
  return *(const int *)a - *(const int *)b;
}

/* Marks values computed from initializers only (weights behind a
 * DequantizeLinear, Constant nodes, folded shape arithmetic). */
static uint8_t *constant_values(const struct sc_graph *g)
{
  uint8_t *c = calloc((size_t)g->n_values + 1, 1);
  int i, j;
  if (!c)
    return NULL;
  for (i = 0; i < g->n_values; i++)
    c[i] = g->values[i].initializer != NULL && !g->values[i].is_input;
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *n = &g->nodes[i];
    int all = 1;
    for (j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] >= 0 && !c[n->inputs[j]])
        all = 0;
    for (j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0)
        c[n->outputs[j]] = (uint8_t)all;
  }
  return c;
}

sc_status sc_view_from_graph(const struct sc_graph *g, struct sc_view **out,
                             struct sc_error *err)
{
  struct sc_view *v;
  uint8_t *constant = NULL, *act = NULL;
  int i, j, k;
  sc_status st = SC_OK;

  *out = NULL;
  v = calloc(1, sizeof *v);
  if (!v)
    return sc_fail_nomem(err, "view");
  v->graph = g;
  v->tensors = calloc((size_t)g->n_values + 1, sizeof *v->tensors);
  v->tensor_of_value = malloc(((size_t)g->n_values + 1) * sizeof(int));
  constant = constant_values(g);
  act = calloc((size_t)g->n_values + 1, 1);
  if (!v->tensors || !v->tensor_of_value || !constant || !act) {
    st = sc_fail_nomem(err, "view");
    goto done;
  }
  for (i = 0; i < g->n_values; i++) {
    const struct sc_value *val = &g->values[i];
    int64_t n = elements(val);
    v->tensor_of_value[i] = -1;
    act[i] = !constant[i] && activation_dtype(val->dtype) &&
             (n != 0 && n != 1 ? 1 : val->is_input || val->is_output);
  }

  /* tensors: graph inputs first, then node outputs in topological order */
#define ADD_TENSOR(value_index, node_index)                                    \
  do {                                                                         \
    const struct sc_value *val_ = &g->values[(value_index)];                   \
    struct sc_view_tensor *t_ = &v->tensors[v->n_tensors];                     \
    t_->name = strdup(val_->name);                                             \
    if (!t_->name) {                                                           \
      st = sc_fail_nomem(err, "view");                                         \
      goto done;                                                               \
    }                                                                          \
    t_->dtype = val_->dtype;                                                   \
    t_->rank = val_->rank;                                                     \
    memcpy(t_->dims, val_->dims, sizeof t_->dims);                             \
    t_->value = (value_index);                                                 \
    t_->node = (node_index);                                                   \
    t_->order = v->n_tensors;                                                  \
    t_->is_input = val_->is_input && !val_->initializer;                       \
    t_->quant = val_->quant;                                                   \
    t_->group = -1;                                                            \
    v->tensor_of_value[(value_index)] = v->n_tensors++;                        \
  } while (0)

  for (i = 0; i < g->n_inputs; i++)
    if (act[g->inputs[i]]) {
      ADD_TENSOR(g->inputs[i], -1);
      st = add_group(v, v->n_tensors - 1, "Input", err);
      if (st)
        goto done;
    }

  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *n = &g->nodes[i];
    int n_act = 0, act_input = -1, first_out = v->n_tensors;
    int absorbable, activation;

    for (j = 0; j < n->n_inputs; j++)
      if (n->inputs[j] >= 0 && act[n->inputs[j]] &&
          v->tensor_of_value[n->inputs[j]] >= 0) {
        if (act_input != n->inputs[j])
          n_act++;
        act_input = n->inputs[j];
      }
    for (j = 0; j < n->n_outputs; j++)
      if (n->outputs[j] >= 0 && act[n->outputs[j]])
        ADD_TENSOR(n->outputs[j], i);
    if (v->n_tensors == first_out)
      continue;

    absorbable = in_list(n->op_type, absorbable_ops,
                         sizeof absorbable_ops / sizeof absorbable_ops[0]);
    activation = in_list(n->op_type, activation_ops,
                         sizeof activation_ops / sizeof activation_ops[0]);
    if (n_act == 1 && (absorbable || activation)) {
      int src = v->tensor_of_value[act_input];
      int grp = v->tensors[src].group;
      struct sc_view_group *gp = &v->groups[grp];
      /* a QuantizeLinear right after a graph input starts a stage: the
       * input's quantized view is a row of its own */
      int new_stage = activation || (strcmp(gp->kind, "Input") == 0 &&
                                     strcmp(n->op_type, "QuantizeLinear") == 0);
      for (k = first_out; k < v->n_tensors; k++) {
        v->tensors[k].group = grp;
        if (new_stage && k == first_out) {
          st = add_stage(gp, sc_op_class(n->op_type), k, err);
          if (st)
            goto done;
          v->tensors[k].stage = gp->n_stages - 1;
        } else {
          v->tensors[k].stage =
              new_stage ? gp->n_stages - 1 : v->tensors[src].stage;
        }
      }
      continue;
    }

    /* an essential node: each activation output heads a group */
    for (k = first_out; k < v->n_tensors; k++) {
      struct sc_view_group *gp;
      int m = 0;
      st = add_group(v, k, sc_op_class(n->op_type), err);
      if (st)
        goto done;
      gp = &v->groups[v->n_groups - 1];
      gp->inputs = malloc(((size_t)n->n_inputs + 1) * sizeof *gp->inputs);
      if (!gp->inputs) {
        st = sc_fail_nomem(err, "view");
        goto done;
      }
      for (j = 0; j < n->n_inputs; j++)
        if (n->inputs[j] >= 0 && act[n->inputs[j]] &&
            v->tensor_of_value[n->inputs[j]] >= 0)
          gp->inputs[m++] = v->tensors[v->tensor_of_value[n->inputs[j]]].group;
      gp->n_inputs = m;
      if (commutative(gp->kind))
        qsort(gp->inputs, (size_t)m, sizeof *gp->inputs, compare_ints);
    }
  }
#undef ADD_TENSOR

  /* representatives: the last tensor of each stage with the element count
   * of the stage's first tensor (Pad or Slice-like members do not count);
   * an input group's first stage is the input itself */
  for (i = 0; i < v->n_groups; i++) {
    struct sc_view_group *gp = &v->groups[i];
    int s;
    for (s = 0; s < gp->n_stages; s++) {
      int first = gp->stage_rep[s], rep = first;
      int64_t want = tensor_elements(&v->tensors[first]);
      if (!(s == 0 && strcmp(gp->kind, "Input") == 0))
        for (k = first + 1; k < v->n_tensors; k++)
          if (v->tensors[k].group == i && v->tensors[k].stage == s) {
            int64_t got = tensor_elements(&v->tensors[k]);
            if (want < 0 || got < 0 || got == want)
              rep = k;
          }
      gp->stage_rep[s] = rep;
      v->tensors[rep].is_rep = 1;
    }
  }

done:
  free(constant);
  free(act);
  if (!st)
    st = index_names(v, err);
  if (st) {
    sc_view_free(v);
    return st;
  }
  *out = v;
  return SC_OK;
}

sc_status sc_view_from_list(const struct sc_view_tensor *entries, int n,
                            struct sc_view **out, struct sc_error *err)
{
  struct sc_view *v;
  int i;
  sc_status st;

  *out = NULL;
  v = calloc(1, sizeof *v);
  if (!v)
    return sc_fail_nomem(err, "view");
  v->tensors = calloc((size_t)n + 1, sizeof *v->tensors);
  if (!v->tensors) {
    free(v);
    return sc_fail_nomem(err, "view");
  }
  for (i = 0; i < n; i++) {
    v->tensors[i] = entries[i];
    v->tensors[i].name = strdup(entries[i].name);
    v->n_tensors = i + 1;
    if (!v->tensors[i].name) {
      sc_view_free(v);
      return sc_fail_nomem(err, "view");
    }
    v->tensors[i].value = -1;
    v->tensors[i].node = -1;
    v->tensors[i].order = i;
    v->tensors[i].is_rep = 1;
    st = add_group(v, i, "Dump", err);
    if (st) {
      sc_view_free(v);
      return st;
    }
  }
  st = index_names(v, err);
  if (st) {
    sc_view_free(v);
    return st;
  }
  *out = v;
  return SC_OK;
}

int sc_view_find_value(const struct sc_view *v, int value)
{
  if (!v->tensor_of_value || !v->graph || value < 0 ||
      value >= v->graph->n_values)
    return -1;
  return v->tensor_of_value[value];
}

int sc_view_find_name(const struct sc_view *v, const char *name)
{
  int lo = 0, hi = v->n_tensors, i;
  if (!v->by_name) { /* a view built elsewhere: the plain scan */
    for (i = 0; i < v->n_tensors; i++)
      if (strcmp(v->tensors[i].name, name) == 0)
        return i;
    return -1;
  }
  while (lo < hi) { /* the first entry not below name: its lowest index */
    int mid = lo + (hi - lo) / 2;
    if (strcmp(v->tensors[v->by_name[mid]].name, name) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < v->n_tensors && strcmp(v->tensors[v->by_name[lo]].name, name) == 0
             ? v->by_name[lo]
             : -1;
}
