/* Helpers shared by kernels (declared in runtime/op.h). */
#include <string.h>

#include "runtime/op.h"

sc_status sc_node_defer(struct sc_node *node)
{
  node->shape_deferred = 1;
  return SC_OK;
}

sc_status sc_node_alloc_output(struct sc_node *node, int i, int rank,
                               const int64_t *dims, struct sc_error *err)
{
  struct sc_tensor *t = node->out[i];
  sc_status st;
  if (!t)
    return SC_OK;
  st = sc_tensor_set_shape(t, rank, dims, err);
  if (st) {
    sc_error_prefix(err, "node '%s' (%s): output %d: ", node->name,
                    node->op_type, i);
    return st;
  }
  return sc_tensor_alloc(t, node->graph ? node->graph->pool : NULL, err);
}

struct sc_threadpool *sc_node_threads(const struct sc_node *node)
{
  return node->graph ? node->graph->threads : NULL;
}

int sc_node_input_is_constant(const struct sc_node *node, int i)
{
  const struct sc_value *v;
  if (!node->graph || i < 0 || i >= node->n_inputs || node->inputs[i] < 0 ||
      !node->in[i] || !node->in[i]->data)
    return 0;
  v = &node->graph->values[node->inputs[i]];
  return v->initializer && !v->is_input &&
         node->in[i]->data == v->initializer->data;
}

sc_status sc_reshape_like_input0(struct sc_node *node, struct sc_error *err)
{
  int i;
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i]) {
      sc_status st = sc_tensor_set_shape(node->out[i], node->in[0]->rank,
                                         node->in[0]->dims, err);
      if (st)
        return st;
    }
  return SC_OK;
}

sc_status sc_broadcast_shapes(const struct sc_node *node, int rank_a,
                              const int64_t *dims_a, int rank_b,
                              const int64_t *dims_b, int *rank_out,
                              int64_t *dims_out, struct sc_error *err)
{
  int rank = rank_a > rank_b ? rank_a : rank_b;
  int i;
  for (i = 0; i < rank; i++) {
    int ia = i - (rank - rank_a), ib = i - (rank - rank_b);
    int64_t a = ia >= 0 ? dims_a[ia] : 1;
    int64_t b = ib >= 0 ? dims_b[ib] : 1;
    if (a == b || b == 1)
      dims_out[i] = a;
    else if (a == 1)
      dims_out[i] = b;
    else {
      char sa[160], sb[160];
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "shapes %s and %s cannot be broadcast",
                          sc_shape_format(rank_a, dims_a, sa, sizeof sa),
                          sc_shape_format(rank_b, dims_b, sb, sizeof sb));
    }
  }
  *rank_out = rank;
  return SC_OK;
}

sc_status sc_normalize_axis(const struct sc_node *node, int64_t axis, int rank,
                            int allow_end, int *out, struct sc_error *err)
{
  int64_t hi = allow_end ? rank + 1 : rank;
  if (axis < -hi || axis >= hi)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "axis %lld is out of range for rank %d",
                        (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + hi : axis);
  return SC_OK;
}

sc_status sc_check_dtype(const struct sc_node *node, int i,
                         const enum sc_dtype *accepted, int n_accepted,
                         struct sc_error *err)
{
  int k;
  if (i >= node->n_inputs || !node->in[i])
    return SC_OK;
  for (k = 0; k < n_accepted; k++)
    if (node->in[i]->dtype == accepted[k])
      return SC_OK;
  return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                      "input %d ('%s') has dtype %s, which this operator "
                      "does not support",
                      i, sc_node_input_name(node, i),
                      sc_dtype_name(node->in[i]->dtype));
}

sc_status sc_check_arity(const struct sc_node *node, int min_in, int max_in,
                         int min_out, int max_out, struct sc_error *err)
{
  return sc_check_arity_optional(node, min_in, max_in, min_out, max_out, 0,
                                 err);
}

sc_status sc_check_arity_optional(const struct sc_node *node, int min_in,
                                  int max_in, int min_out, int max_out,
                                  uint32_t optional_in, struct sc_error *err)
{
  int n_in = node->n_inputs, n_out = node->n_outputs, i;
  /* trailing omitted slots do not count */
  while (n_in > 0 && node->inputs[n_in - 1] < 0)
    n_in--;
  while (n_out > 0 && node->outputs[n_out - 1] < 0)
    n_out--;
  if (n_in < min_in || n_in > max_in)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "has %d inputs, expected %d to %d", n_in, min_in,
                        max_in);
  if (n_out < min_out || n_out > max_out)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "has %d outputs, expected %d to %d", n_out, min_out,
                        max_out);
  /* an empty name omits an optional input or output; the first min_in and
   * min_out are not optional */
  for (i = 0; i < min_in; i++)
    if (node->inputs[i] < 0 && !(i < 32 && (optional_in >> i & 1u)))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d is required but its name is empty", i);
  for (i = 0; i < min_out; i++)
    if (node->outputs[i] < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "output %d is required but its name is empty", i);
  return SC_OK;
}
