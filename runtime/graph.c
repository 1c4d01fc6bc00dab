#include "runtime/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"
#include "runtime/plan.h"
#include "runtime/quant.h"

/* Open-addressing hash table from value name to value index. */
struct name_index {
  size_t capacity; /* power of two */
  int *slots;      /* value index, or -1 */
};

static uint64_t hash_name(const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  while (*s) {
    h ^= (unsigned char)*s++;
    h *= 1099511628211ull;
  }
  return h;
}

static int index_grow(struct sc_graph *g)
{
  struct name_index *idx = g->name_index;
  size_t capacity = idx->capacity ? idx->capacity * 2 : 64;
  int *slots = malloc(capacity * sizeof *slots);
  size_t i;
  int v;

  if (!slots)
    return -1;
  for (i = 0; i < capacity; i++)
    slots[i] = -1;
  for (v = 0; v < g->n_values; v++) {
    size_t h = (size_t)hash_name(g->values[v].name) & (capacity - 1);
    while (slots[h] >= 0)
      h = (h + 1) & (capacity - 1);
    slots[h] = v;
  }
  free(idx->slots);
  idx->slots = slots;
  idx->capacity = capacity;
  return 0;
}

int sc_graph_find_value(const struct sc_graph *g, const char *name)
{
  const struct name_index *idx = g->name_index;
  size_t h;

  if (!idx->capacity)
    return -1;
  h = (size_t)hash_name(name) & (idx->capacity - 1);
  while (idx->slots[h] >= 0) {
    if (strcmp(g->values[idx->slots[h]].name, name) == 0)
      return idx->slots[h];
    h = (h + 1) & (idx->capacity - 1);
  }
  return -1;
}

sc_status sc_graph_create(struct sc_graph **out, struct sc_error *err)
{
  struct sc_graph *g;

  *out = NULL;
  g = calloc(1, sizeof *g);
  if (!g)
    return sc_fail_nomem(err, "graph");
  g->name_index = calloc(1, sizeof(struct name_index));
  g->name = strdup("");
  g->source = strdup("");
  if (!g->name_index || !g->name || !g->source) {
    sc_graph_free(g);
    return sc_fail_nomem(err, "graph");
  }
  *out = g;
  return SC_OK;
}

static void attr_clear(struct sc_attr *a)
{
  int64_t i;
  free(a->name);
  free(a->s);
  sc_tensor_free(a->t);
  free(a->floats);
  free(a->ints);
  if (a->strings)
    for (i = 0; i < a->n; i++)
      free(a->strings[i]);
  free(a->strings);
  if (a->tensors)
    for (i = 0; i < a->n; i++)
      sc_tensor_free(a->tensors[i]);
  free(a->tensors);
  sc_graph_free(a->g);
  memset(a, 0, sizeof *a);
}

void sc_graph_free(struct sc_graph *g)
{
  int i, j;

  if (!g)
    return;
  for (i = 0; i < g->n_nodes; i++) {
    struct sc_node *node = &g->nodes[i];
    if (node->op && node->op->release)
      node->op->release(node);
    free(node->name);
    free(node->op_type);
    free(node->domain);
    free(node->inputs);
    free(node->outputs);
    for (j = 0; j < node->n_attrs; j++)
      attr_clear(&node->attrs[j]);
    free(node->attrs);
    free(node->in);
    free(node->out);
  }
  free(g->nodes);
  for (i = 0; i < g->n_values; i++) {
    free(g->values[i].name);
    sc_tensor_free(g->values[i].initializer);
    sc_quant_free(g->values[i].quant);
  }
  free(g->values);
  free(g->inputs);
  free(g->outputs);
  for (i = 0; i < g->n_opsets; i++)
    free(g->opsets[i].domain);
  free(g->opsets);
  free(g->unobserved);
  free(g->name);
  free(g->source);
  free(g->producer_name);
  free(g->producer_version);
  if (g->name_index) {
    free(((struct name_index *)g->name_index)->slots);
    free(g->name_index);
  }
  sc_plan_free(g);
  sc_pool_free(g->pool);
  free(g);
}

static int is_default_domain(const char *domain)
{
  return !domain || !*domain || strcmp(domain, "ai.onnx") == 0;
}

sc_status sc_graph_set_opset(struct sc_graph *g, const char *domain,
                             int64_t version, struct sc_error *err)
{
  struct sc_opset *grown;
  const char *d = is_default_domain(domain) ? "" : domain;
  int i;

  for (i = 0; i < g->n_opsets; i++)
    if (strcmp(g->opsets[i].domain, d) == 0) {
      g->opsets[i].version = version;
      return SC_OK;
    }
  grown = realloc(g->opsets, ((size_t)g->n_opsets + 1) * sizeof *grown);
  if (!grown)
    return sc_fail_nomem(err, "opset list");
  g->opsets = grown;
  g->opsets[g->n_opsets].domain = strdup(d);
  if (!g->opsets[g->n_opsets].domain)
    return sc_fail_nomem(err, "opset list");
  g->opsets[g->n_opsets].version = version;
  g->n_opsets++;
  return SC_OK;
}

int64_t sc_graph_opset(const struct sc_graph *g, const char *domain)
{
  const char *d = is_default_domain(domain) ? "" : domain;
  int i;
  for (i = 0; i < g->n_opsets; i++)
    if (strcmp(g->opsets[i].domain, d) == 0)
      return g->opsets[i].version;
  return -1;
}

sc_status sc_graph_value(struct sc_graph *g, const char *name, int *index,
                         struct sc_error *err)
{
  struct name_index *idx = g->name_index;
  struct sc_value *v;
  int found = sc_graph_find_value(g, name);
  size_t h;

  if (found >= 0) {
    *index = found;
    return SC_OK;
  }
  if (g->n_values >= 0x3fffffff)
    return sc_fail(err, SC_ERR_NOMEM, "too many values in graph");
  if ((size_t)(g->n_values + 1) * 2 > idx->capacity && index_grow(g) != 0)
    return sc_fail_nomem(err, "value index");
  v = realloc(g->values, ((size_t)g->n_values + 1) * sizeof *v);
  if (!v)
    return sc_fail_nomem(err, "value list");
  g->values = v;
  v = &g->values[g->n_values];
  memset(v, 0, sizeof *v);
  v->name = strdup(name);
  if (!v->name)
    return sc_fail_nomem(err, "value name");
  v->rank = -1;
  v->producer = -1;
  h = (size_t)hash_name(name) & (idx->capacity - 1);
  while (idx->slots[h] >= 0)
    h = (h + 1) & (idx->capacity - 1);
  idx->slots[h] = g->n_values;
  *index = g->n_values++;
  return SC_OK;
}

static sc_status append_index(int **list, int *n, int v, struct sc_error *err)
{
  int *grown = realloc(*list, ((size_t)*n + 1) * sizeof *grown);
  if (!grown)
    return sc_fail_nomem(err, "index list");
  grown[(*n)++] = v;
  *list = grown;
  return SC_OK;
}

sc_status sc_graph_add_input(struct sc_graph *g, const char *name,
                             enum sc_dtype dtype, int rank, const int64_t *dims,
                             struct sc_error *err)
{
  int v, i;
  sc_status st = sc_graph_value(g, name, &v, err);

  if (st)
    return st;
  if (rank > SC_MAX_RANK)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "graph input '%s': rank %d exceeds the supported %d", name,
                   rank, SC_MAX_RANK);
  for (i = 0; i < g->n_inputs; i++)
    if (g->inputs[i] == v)
      return sc_fail(err, SC_ERR_FORMAT, "graph input '%s' is declared twice",
                     name);
  g->values[v].dtype = dtype;
  g->values[v].rank = rank;
  for (i = 0; i < rank && i < SC_MAX_RANK; i++) {
    if (dims[i] < -1)
      return sc_fail(err, SC_ERR_FORMAT,
                     "graph input '%s': negative dimension %lld", name,
                     (long long)dims[i]);
    g->values[v].dims[i] = dims[i];
  }
  g->values[v].is_input = 1;
  return append_index(&g->inputs, &g->n_inputs, v, err);
}

sc_status sc_graph_add_output(struct sc_graph *g, const char *name,
                              struct sc_error *err)
{
  int v;
  sc_status st = sc_graph_value(g, name, &v, err);
  if (st)
    return st;
  g->values[v].is_output = 1;
  return append_index(&g->outputs, &g->n_outputs, v, err);
}

sc_status sc_graph_add_initializer(struct sc_graph *g, const char *name,
                                   struct sc_tensor *t, struct sc_error *err)
{
  int v;
  sc_status st = sc_graph_value(g, name, &v, err);

  if (st) {
    sc_tensor_free(t);
    return st;
  }
  if (g->values[v].initializer) {
    sc_tensor_free(t);
    return sc_fail(err, SC_ERR_FORMAT, "initializer '%s' is defined twice",
                   name);
  }
  g->values[v].initializer = t;
  g->values[v].dtype = t->dtype;
  g->values[v].rank = t->rank;
  memcpy(g->values[v].dims, t->dims, sizeof t->dims);
  return SC_OK;
}

sc_status sc_graph_add_node(struct sc_graph *g, const char *name,
                            const char *op_type, const char *domain,
                            int n_inputs, const char *const *inputs,
                            int n_outputs, const char *const *outputs,
                            struct sc_node **out, struct sc_error *err)
{
  struct sc_node *nodes, *node;
  char generated[64];
  int i;
  sc_status st;

  if (out)
    *out = NULL;
  if (n_inputs < 0 || n_outputs < 0 || n_inputs > 100000 || n_outputs > 100000)
    return sc_fail(err, SC_ERR_FORMAT, "node '%s': bad input/output count",
                   name ? name : "");
  nodes = realloc(g->nodes, ((size_t)g->n_nodes + 1) * sizeof *nodes);
  if (!nodes)
    return sc_fail_nomem(err, "node list");
  g->nodes = nodes;
  node = &g->nodes[g->n_nodes];
  memset(node, 0, sizeof *node);
  if (!name || !*name) {
    snprintf(generated, sizeof generated, "%s_%d", op_type ? op_type : "node",
             g->n_nodes);
    name = generated;
  }
  node->name = strdup(name);
  node->op_type = strdup(op_type ? op_type : "");
  node->domain = strdup(is_default_domain(domain) ? "" : domain);
  node->inputs = calloc((size_t)n_inputs + 1, sizeof *node->inputs);
  node->outputs = calloc((size_t)n_outputs + 1, sizeof *node->outputs);
  node->graph = g;
  g->n_nodes++; /* from here sc_graph_free releases the node */
  if (!node->name || !node->op_type || !node->domain || !node->inputs ||
      !node->outputs)
    return sc_fail_nomem(err, "node");
  node->n_inputs = n_inputs;
  node->n_outputs = n_outputs;
  for (i = 0; i < n_inputs; i++) {
    node->inputs[i] = -1;
    if (inputs[i] && *inputs[i]) {
      st = sc_graph_value(g, inputs[i], &node->inputs[i], err);
      if (st)
        return st;
    }
  }
  for (i = 0; i < n_outputs; i++) {
    node->outputs[i] = -1;
    if (outputs[i] && *outputs[i]) {
      st = sc_graph_value(g, outputs[i], &node->outputs[i], err);
      if (st)
        return st;
    }
  }
  if (out)
    *out = node;
  return SC_OK;
}

sc_status sc_node_add_attr(struct sc_node *node, struct sc_attr *attr,
                           struct sc_error *err)
{
  struct sc_attr *grown;
  int i;

  for (i = 0; i < node->n_attrs; i++)
    if (strcmp(node->attrs[i].name, attr->name) == 0) {
      sc_status st = sc_node_fail(node, err, SC_ERR_FORMAT,
                                  "attribute '%s' is given twice", attr->name);
      attr_clear(attr);
      return st;
    }
  grown = realloc(node->attrs, ((size_t)node->n_attrs + 1) * sizeof *grown);
  if (!grown) {
    attr_clear(attr);
    return sc_fail_nomem(err, "attribute");
  }
  node->attrs = grown;
  node->attrs[node->n_attrs++] = *attr;
  memset(attr, 0, sizeof *attr);
  return SC_OK;
}

static sc_status new_attr(struct sc_attr *a, const char *name,
                          enum sc_attr_type type, struct sc_error *err)
{
  memset(a, 0, sizeof *a);
  a->name = strdup(name);
  a->type = type;
  if (!a->name)
    return sc_fail_nomem(err, "attribute");
  return SC_OK;
}

sc_status sc_node_set_attr_int(struct sc_node *node, const char *name,
                               int64_t v, struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_INT, err);
  if (st)
    return st;
  a.i = v;
  return sc_node_add_attr(node, &a, err);
}

sc_status sc_node_set_attr_float(struct sc_node *node, const char *name,
                                 float v, struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_FLOAT, err);
  if (st)
    return st;
  a.f = v;
  return sc_node_add_attr(node, &a, err);
}

sc_status sc_node_set_attr_string(struct sc_node *node, const char *name,
                                  const char *v, size_t size,
                                  struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_STRING, err);
  if (st)
    return st;
  a.s = malloc(size + 1);
  if (!a.s) {
    attr_clear(&a);
    return sc_fail_nomem(err, "attribute");
  }
  if (size)
    memcpy(a.s, v, size);
  a.s[size] = '\0';
  a.s_size = size;
  return sc_node_add_attr(node, &a, err);
}

sc_status sc_node_set_attr_ints(struct sc_node *node, const char *name,
                                int64_t n, const int64_t *v,
                                struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_INTS, err);
  if (st)
    return st;
  a.ints = malloc(((size_t)n + 1) * sizeof *a.ints);
  if (!a.ints) {
    attr_clear(&a);
    return sc_fail_nomem(err, "attribute");
  }
  if (n)
    memcpy(a.ints, v, (size_t)n * sizeof *v);
  a.n = n;
  return sc_node_add_attr(node, &a, err);
}

sc_status sc_node_set_attr_floats(struct sc_node *node, const char *name,
                                  int64_t n, const float *v,
                                  struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_FLOATS, err);
  if (st)
    return st;
  a.floats = malloc(((size_t)n + 1) * sizeof *a.floats);
  if (!a.floats) {
    attr_clear(&a);
    return sc_fail_nomem(err, "attribute");
  }
  if (n)
    memcpy(a.floats, v, (size_t)n * sizeof *v);
  a.n = n;
  return sc_node_add_attr(node, &a, err);
}

sc_status sc_node_set_attr_tensor(struct sc_node *node, const char *name,
                                  struct sc_tensor *t, struct sc_error *err)
{
  struct sc_attr a;
  sc_status st = new_attr(&a, name, SC_ATTR_TENSOR, err);
  if (st) {
    sc_tensor_free(t);
    return st;
  }
  a.t = t;
  return sc_node_add_attr(node, &a, err);
}

const struct sc_attr *sc_node_attr(const struct sc_node *node, const char *name)
{
  int i;
  for (i = 0; i < node->n_attrs; i++)
    if (strcmp(node->attrs[i].name, name) == 0)
      return &node->attrs[i];
  return NULL;
}

static const char *attr_type_name(enum sc_attr_type t)
{
  static const char *names[] = {"undefined",      "float",      "int",
                                "string",         "tensor",     "graph",
                                "floats",         "ints",       "strings",
                                "tensors",        "graphs",     "sparse_tensor",
                                "sparse_tensors", "type_proto", "type_protos"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static sc_status wrong_type(const struct sc_node *node, const struct sc_attr *a,
                            enum sc_attr_type want, struct sc_error *err)
{
  return sc_node_fail(node, err, SC_ERR_FORMAT,
                      "attribute '%s' has type %s, expected %s", a->name,
                      attr_type_name(a->type), attr_type_name(want));
}

sc_status sc_node_attr_int(const struct sc_node *node, const char *name,
                           int64_t def, int64_t *out, struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  *out = def;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_INT)
    return wrong_type(node, a, SC_ATTR_INT, err);
  *out = a->i;
  return SC_OK;
}

sc_status sc_node_attr_float(const struct sc_node *node, const char *name,
                             float def, float *out, struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  *out = def;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_FLOAT)
    return wrong_type(node, a, SC_ATTR_FLOAT, err);
  *out = a->f;
  return SC_OK;
}

sc_status sc_node_attr_string(const struct sc_node *node, const char *name,
                              const char *def, const char **out,
                              struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  *out = def;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_STRING)
    return wrong_type(node, a, SC_ATTR_STRING, err);
  *out = a->s;
  return SC_OK;
}

sc_status sc_node_attr_ints(const struct sc_node *node, const char *name,
                            int64_t *n, const int64_t **v, struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  *n = -1;
  *v = NULL;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_INTS)
    return wrong_type(node, a, SC_ATTR_INTS, err);
  *n = a->n;
  *v = a->ints;
  return SC_OK;
}

sc_status sc_node_attr_floats(const struct sc_node *node, const char *name,
                              int64_t *n, const float **v, struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, name);
  *n = -1;
  *v = NULL;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_FLOATS)
    return wrong_type(node, a, SC_ATTR_FLOATS, err);
  *n = a->n;
  *v = a->floats;
  return SC_OK;
}

sc_status sc_node_fail(const struct sc_node *node, struct sc_error *err,
                       sc_status status, const char *fmt, ...)
{
  char detail[SC_ERROR_MESSAGE_SIZE];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return sc_fail(err, status, "node '%s' (%s%s%s): %s", node->name,
                 node->domain[0] ? node->domain : "",
                 node->domain[0] ? "." : "", node->op_type, detail);
}

const char *sc_node_input_name(const struct sc_node *node, int i)
{
  if (i < 0 || i >= node->n_inputs || node->inputs[i] < 0)
    return "";
  return node->graph->values[node->inputs[i]].name;
}

const char *sc_node_output_name(const struct sc_node *node, int i)
{
  if (i < 0 || i >= node->n_outputs || node->outputs[i] < 0)
    return "";
  return node->graph->values[node->outputs[i]].name;
}
