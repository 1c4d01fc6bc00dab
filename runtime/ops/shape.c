/* Operator family: shape — operators that change a tensor's shape without
 * moving its bytes (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
 * Dropout in inference), report a shape (Shape, Size), or create tensors
 * (Constant, ConstantOfShape, Range, EyeLike), and Trilu.
 *
 * Layout operators (Transpose, Slice, Concat, Pad ...) live in
 * shape_layout.c and indexing operators (Gather, Scatter, Unique ...) in
 * shape_index.c; the helpers they share are in shape_common.h. */
#include <math.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/ops/shape_common.h"

/* Output 0 receives the bytes of input 0 (same element count). */
static sc_status copy_input_run(struct sc_node *node, struct sc_error *err)
{
  sc_shape_copy_bytes(node->out[0]->data, node->in[0]->data,
                      sc_tensor_size(node->in[0]), sc_node_threads(node));
  return SC_OK;
}

/* Common prepare of the one-input shape operators: arity, a storable
 * dtype, output dtype = input dtype. */
static sc_status same_type_prepare(struct sc_node *node, int min_in, int max_in,
                                   struct sc_error *err)
{
  sc_status st = sc_check_arity(node, min_in, max_in, 1, 1, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Multiplies dims[0..n) into *product; fails naming the node on overflow
 * past the largest tensor the runtime accepts. */
static sc_status checked_product(const struct sc_node *node, int n,
                                 const int64_t *dims, int64_t *product,
                                 struct sc_error *err)
{
  int64_t p = 1;
  int i;
  for (i = 0; i < n; i++) {
    if (dims[i] != 0 && p > (int64_t)SC_MAX_TENSOR_SIZE / dims[i])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the output shape is too large (hostile size)");
    p *= dims[i];
  }
  *product = p;
  return SC_OK;
}

/* --- Reshape ----------------------------------------------------------- */

struct reshape_state {
  int from_attribute; /* opset < 5: the `shape` attribute */
  int allowzero;
  int64_t n_shape;
  int64_t shape[SC_MAX_RANK];
};

/* Opset 1-4 read the target from the `shape` attribute, later ones from
 * input 1; opset 14 adds `allowzero`. */
static sc_status reshape_prepare_common(struct sc_node *node,
                                        int from_attribute, int has_allowzero,
                                        struct sc_error *err)
{
  struct reshape_state *s;
  int64_t allowzero = 0;
  sc_status st = same_type_prepare(node, from_attribute ? 1 : 2,
                                   from_attribute ? 1 : 2, err);
  if (st)
    return st;
  if (!from_attribute) {
    st = sc_shape_check_index_dtype(node, 1, 0, err);
    if (!st && has_allowzero)
      st = sc_node_attr_int(node, "allowzero", 0, &allowzero, err);
    if (st)
      return st;
  }
  st = sc_shape_state_alloc(node, sizeof *s, err);
  if (st)
    return st;
  s = node->state;
  s->from_attribute = from_attribute;
  s->allowzero = allowzero != 0;
  if (from_attribute) {
    const int64_t *shape;
    st = sc_node_attr_ints(node, "shape", &s->n_shape, &shape, err);
    if (st)
      return st;
    if (s->n_shape < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the 'shape' attribute is missing");
    if (s->n_shape > SC_MAX_RANK)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "target rank %lld is above the supported %d",
                          (long long)s->n_shape, SC_MAX_RANK);
    memcpy(s->shape, shape, (size_t)s->n_shape * sizeof *shape);
  }
  return SC_OK;
}

static sc_status reshape_prepare_v1(struct sc_node *node, struct sc_error *err)
{
  return reshape_prepare_common(node, 1, 0, err);
}

static sc_status reshape_prepare_v5(struct sc_node *node, struct sc_error *err)
{
  return reshape_prepare_common(node, 0, 0, err);
}

static sc_status reshape_prepare_v14(struct sc_node *node, struct sc_error *err)
{
  return reshape_prepare_common(node, 0, 1, err);
}

/* Resolves 0 (copy the input dim unless allowzero) and -1 (inferred) in a
 * requested shape, checking the element count; writes out_dims. */
static sc_status resolve_target_shape(const struct sc_node *node,
                                      const struct sc_tensor *in, int n,
                                      const int64_t *requested, int allowzero,
                                      int64_t *out_dims, struct sc_error *err)
{
  int infer = -1, i, has_zero = 0;
  int64_t known = 1;
  char want[256], have[256];
  sc_status st;

  for (i = 0; i < n; i++) {
    int64_t v = requested[i];
    if (v == -1) {
      if (infer >= 0)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "the target shape %s has more than one -1",
                            sc_shape_format(n, requested, want, sizeof want));
      infer = i;
      out_dims[i] = 1;
    } else if (v < -1) {
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the target shape %s has the invalid value %lld",
                          sc_shape_format(n, requested, want, sizeof want),
                          (long long)v);
    } else if (v == 0 && !allowzero) {
      if (i >= in->rank)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "the target shape %s copies dim %d with 0, but "
                            "the input has rank %d",
                            sc_shape_format(n, requested, want, sizeof want), i,
                            in->rank);
      out_dims[i] = in->dims[i];
    } else {
      has_zero |= v == 0;
      out_dims[i] = v;
    }
  }
  if (has_zero && infer >= 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the target shape %s has both 0 (allowzero) and -1",
                        sc_shape_format(n, requested, want, sizeof want));
  st = checked_product(node, n, out_dims, &known, err);
  if (st)
    return st;
  if (infer >= 0) {
    if (known == 0 || in->n_elements % known != 0)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT, "cannot reshape %s (%lld elements) to %s",
          sc_shape_format(in->rank, in->dims, have, sizeof have),
          (long long)in->n_elements,
          sc_shape_format(n, requested, want, sizeof want));
    out_dims[infer] = in->n_elements / known;
  } else if (known != in->n_elements) {
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "cannot reshape %s (%lld elements) to %s",
                        sc_shape_format(in->rank, in->dims, have, sizeof have),
                        (long long)in->n_elements,
                        sc_shape_format(n, requested, want, sizeof want));
  }
  return SC_OK;
}

static sc_status reshape_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct reshape_state *s = node->state;
  int64_t requested[SC_MAX_RANK], dims[SC_MAX_RANK], n = s->n_shape;
  sc_status st;

  if (s->from_attribute)
    memcpy(requested, s->shape, (size_t)n * sizeof *requested);
  else {
    const struct sc_tensor *shape = node->in[1];
    if (!shape->data)
      return sc_node_defer(node);
    if (shape->rank == 1 && shape->n_elements > SC_MAX_RANK)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "target rank %lld is above the supported %d",
                          (long long)shape->n_elements, SC_MAX_RANK);
    st = sc_shape_read_ints(node, 1, "the shape input", 0, SC_MAX_RANK,
                            requested, &n, err);
    if (st)
      return st;
  }
  st = resolve_target_shape(node, node->in[0], (int)n, requested, s->allowzero,
                            dims, err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, (int)n, dims, err);
}

/* --- Flatten ----------------------------------------------------------- */

static sc_status flatten_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t axis;
  sc_status st = same_type_prepare(node, 1, 1, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 1, &axis, err);
  return st;
}

static sc_status flatten_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t axis, dims[2] = {1, 1};
  int d;
  sc_status st = sc_node_attr_int(node, "axis", 1, &axis, err);
  if (st)
    return st;
  /* axis in [-rank, rank]; a negative axis counts from the end */
  if (axis < -(int64_t)in->rank || axis > in->rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "axis %lld is out of range for rank %d",
                        (long long)axis, in->rank);
  if (axis < 0)
    axis += in->rank;
  for (d = 0; d < in->rank; d++)
    dims[d < axis ? 0 : 1] *= in->dims[d];
  return sc_shape_set_output(node, 0, 2, dims, err);
}

/* --- Squeeze / Unsqueeze ---------------------------------------------- */

/* The axes of Squeeze/Unsqueeze: the attribute (opset <= 12) or input 1.
 * *known is 0 when input 1's value is not known yet; *n_axes is -1 when
 * no axes are given. */
static sc_status read_axes(const struct sc_node *node, int64_t *axes,
                           int64_t *n_axes, int *known, struct sc_error *err)
{
  *known = 1;
  *n_axes = -1;
  if (node->opset <= 12) {
    const int64_t *v;
    sc_status st = sc_node_attr_ints(node, "axes", n_axes, &v, err);
    if (st)
      return st;
    if (*n_axes > 2 * SC_MAX_RANK)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "too many axes (%lld)",
                          (long long)*n_axes);
    if (*n_axes > 0)
      memcpy(axes, v, (size_t)*n_axes * sizeof *v);
    return SC_OK;
  }
  if (!sc_shape_has_input(node, 1))
    return SC_OK;
  if (!node->in[1]->data) {
    *known = 0;
    return SC_OK;
  }
  return sc_shape_read_ints(node, 1, "the axes input", 0, 2 * SC_MAX_RANK, axes,
                            n_axes, err);
}

static sc_status squeeze_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = same_type_prepare(node, 1, node->opset <= 12 ? 1 : 2, err);
  if (!st && sc_shape_has_input(node, 1))
    st = sc_shape_check_index_dtype(node, 1, 0, err);
  return st;
}

static sc_status squeeze_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t axes[2 * SC_MAX_RANK], n_axes, dims[SC_MAX_RANK];
  int norm[2 * SC_MAX_RANK], drop[SC_MAX_RANK] = {0};
  int known, d, rank = 0;
  int64_t k;
  sc_status st = read_axes(node, axes, &n_axes, &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  if (n_axes <= 0) { /* no axes, or an empty list (as ONNX Runtime) */
    for (d = 0; d < in->rank; d++)
      drop[d] = in->dims[d] == 1;
  } else {
    st = sc_shape_normalize_axes(node, n_axes, axes, in->rank, norm, err);
    if (st)
      return st;
    for (k = 0; k < n_axes; k++) {
      if (in->dims[norm[k]] != 1)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "cannot squeeze axis %d of size %lld", norm[k],
                            (long long)in->dims[norm[k]]);
      drop[norm[k]] = 1;
    }
  }
  for (d = 0; d < in->rank; d++)
    if (!drop[d])
      dims[rank++] = in->dims[d];
  return sc_shape_set_output(node, 0, rank, dims, err);
}

static sc_status unsqueeze_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = same_type_prepare(node, node->opset <= 12 ? 1 : 2,
                                   node->opset <= 12 ? 1 : 2, err);
  if (!st && node->opset > 12)
    st = sc_shape_check_index_dtype(node, 1, 0, err);
  if (!st && node->opset <= 12 && !sc_node_attr(node, "axes"))
    st = sc_node_fail(node, err, SC_ERR_FORMAT,
                      "the 'axes' attribute is missing");
  return st;
}

static sc_status unsqueeze_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t axes[2 * SC_MAX_RANK], n_axes, dims[SC_MAX_RANK];
  int norm[2 * SC_MAX_RANK], inserted[2 * SC_MAX_RANK] = {0};
  int known, d, rank, next = 0;
  sc_status st = read_axes(node, axes, &n_axes, &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  if (n_axes < 0)
    n_axes = 0;
  rank = in->rank + (int)n_axes;
  if (rank > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "the output would have rank %d; at most %d is "
                        "supported",
                        rank, SC_MAX_RANK);
  st = sc_shape_normalize_axes(node, n_axes, axes, rank, norm, err);
  if (st)
    return st;
  for (d = 0; d < n_axes; d++)
    inserted[norm[d]] = 1;
  for (d = 0; d < rank; d++)
    dims[d] = inserted[d] ? 1 : in->dims[next++];
  return sc_shape_set_output(node, 0, rank, dims, err);
}

/* --- Identity ---------------------------------------------------------- */

static sc_status identity_prepare(struct sc_node *node, struct sc_error *err)
{
  return same_type_prepare(node, 1, 1, err);
}

/* --- Dropout (inference) ----------------------------------------------- */

/* Output 0 is the input; the optional mask output (1) is all ones of the
 * input's type before opset 10, all true after. From opset 12 the
 * training_mode input may ask for random dropping, which is unsupported
 * unless the ratio is 0. */
static sc_status dropout_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype float_types[] = {
      SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE, SC_DTYPE_FLOAT16, SC_DTYPE_BFLOAT16};
  static const enum sc_dtype bool_type[] = {SC_DTYPE_BOOL};
  sc_status st = sc_check_arity(node, 1, node->opset >= 12 ? 3 : 1, 1, 2, err);
  if (!st && !node->out[0])
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "output 0 is missing");
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (!st && node->opset >= 12) {
    st = sc_check_dtype(node, 1, float_types, 4, err);
    if (!st)
      st = sc_check_dtype(node, 2, bool_type, 1, err);
  }
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  if (node->n_outputs > 1 && node->out[1])
    node->out[1]->dtype =
        node->opset >= 10 ? SC_DTYPE_BOOL : node->in[0]->dtype;
  return SC_OK;
}

static sc_status dropout_reshape(struct sc_node *node, struct sc_error *err)
{
  if (node->opset >= 12 && sc_shape_has_input(node, 2) && node->in[2]->data) {
    const struct sc_tensor *mode = node->in[2];
    double ratio = 0.5;
    if (mode->n_elements != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "training_mode must hold one value, it has %lld",
                          (long long)mode->n_elements);
    if (sc_shape_has_input(node, 1)) {
      const struct sc_tensor *r = node->in[1];
      if (!r->data)
        return sc_reshape_like_input0(node, err); /* checked at run time */
      if (r->n_elements != 1)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "ratio must hold one value, it has %lld",
                            (long long)r->n_elements);
      ratio = sc_dtype_load(r->dtype, r->data, 0);
    }
    if (((const uint8_t *)mode->data)[0] && ratio != 0.0)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "training mode with ratio %g drops values at "
                          "random, which is not supported",
                          ratio);
  }
  return sc_reshape_like_input0(node, err);
}

static sc_status dropout_run(struct sc_node *node, struct sc_error *err)
{
  copy_input_run(node, err);
  if (node->n_outputs > 1 && node->out[1]) {
    struct sc_tensor *mask = node->out[1];
    int64_t i;
    if (mask->dtype == SC_DTYPE_BOOL)
      memset(mask->data, 1, (size_t)mask->n_elements);
    else
      for (i = 0; i < mask->n_elements; i++)
        sc_dtype_store(mask->dtype, mask->data, i, 1.0);
  }
  return SC_OK;
}

/* --- Shape, Size -------------------------------------------------------- */

static sc_status shape_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t start, end;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st && !sc_shape_has_input(node, 0))
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "input 0 is missing");
  if (!st && node->opset >= 15) {
    st = sc_node_attr_int(node, "start", 0, &start, err);
    if (!st)
      st = sc_node_attr_int(node, "end", INT64_MAX, &end, err);
  }
  if (st)
    return st;
  node->out[0]->dtype = SC_DTYPE_INT64;
  return SC_OK;
}

/* The [start, end) range of dims Shape reports (opset 15 clamps both). */
static void shape_range(const struct sc_node *node, int rank, int64_t *start,
                        int64_t *end)
{
  *start = 0;
  *end = rank;
  if (node->opset >= 15) {
    sc_node_attr_int(node, "start", 0, start, NULL);
    sc_node_attr_int(node, "end", INT64_MAX, end, NULL);
    if (*start < 0)
      *start += rank;
    if (*end < 0)
      *end += rank;
    *start = *start < 0 ? 0 : *start > rank ? rank : *start;
    *end = *end < 0 ? 0 : *end > rank ? rank : *end;
    if (*end < *start)
      *end = *start;
  }
}

static sc_status shape_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t start, end, n;
  shape_range(node, node->in[0]->rank, &start, &end);
  n = end - start;
  return sc_shape_set_output(node, 0, 1, &n, err);
}

static sc_status shape_run(struct sc_node *node, struct sc_error *err)
{
  int64_t start, end, i;
  int64_t *out = node->out[0]->data;
  shape_range(node, node->in[0]->rank, &start, &end);
  for (i = start; i < end; i++)
    out[i - start] = node->in[0]->dims[i];
  return SC_OK;
}

static sc_status size_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st && !sc_shape_has_input(node, 0))
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "input 0 is missing");
  if (st)
    return st;
  node->out[0]->dtype = SC_DTYPE_INT64;
  return SC_OK;
}

static sc_status size_reshape(struct sc_node *node, struct sc_error *err)
{
  return sc_shape_set_output(node, 0, 0, NULL, err);
}

static sc_status size_run(struct sc_node *node, struct sc_error *err)
{
  *(int64_t *)node->out[0]->data = node->in[0]->n_elements;
  return SC_OK;
}

/* --- Constant ---------------------------------------------------------- */

/* The attribute holding a Constant's value, exactly one of value,
 * sparse_value (densified by the loader), value_float(s), value_int(s). */
static sc_status constant_attr(const struct sc_node *node,
                               const struct sc_attr **out, struct sc_error *err)
{
  static const char *const names[] = {
      "value",     "sparse_value", "value_float",  "value_floats",
      "value_int", "value_ints",   "value_string", "value_strings"};
  static const enum sc_attr_type types[] = {
      SC_ATTR_TENSOR, SC_ATTR_SPARSE_TENSOR, SC_ATTR_FLOAT,  SC_ATTR_FLOATS,
      SC_ATTR_INT,    SC_ATTR_INTS,          SC_ATTR_STRING, SC_ATTR_STRINGS};
  const struct sc_attr *found = NULL;
  int i;
  *out = NULL;
  for (i = 0; i < 8; i++) {
    const struct sc_attr *a = sc_node_attr(node, names[i]);
    if (!a)
      continue;
    if (found)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "has both '%s' and '%s'; exactly one value "
                          "attribute is allowed",
                          found->name, a->name);
    if (i >= 6)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "string constants ('%s') are not supported", a->name);
    if (a->type != types[i] || ((i == 0 || i == 1) && !a->t))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute '%s' has the wrong type", a->name);
    found = a;
  }
  if (!found)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "has no value attribute");
  *out = found;
  return SC_OK;
}

static sc_status constant_prepare(struct sc_node *node, struct sc_error *err)
{
  const struct sc_attr *a;
  sc_status st = sc_check_arity(node, 0, 0, 1, 1, err);
  if (!st)
    st = constant_attr(node, &a, err);
  if (st)
    return st;
  switch (a->type) {
  case SC_ATTR_FLOAT:
  case SC_ATTR_FLOATS:
    node->out[0]->dtype = SC_DTYPE_FLOAT;
    break;
  case SC_ATTR_INT:
  case SC_ATTR_INTS:
    node->out[0]->dtype = SC_DTYPE_INT64;
    break;
  default:
    if (sc_dtype_size(a->t->dtype) == 0)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "constants of dtype %s are not supported",
                          sc_dtype_name(a->t->dtype));
    node->out[0]->dtype = a->t->dtype;
    break;
  }
  return SC_OK;
}

static sc_status constant_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_attr *a;
  sc_status st = constant_attr(node, &a, err);
  if (st)
    return st;
  switch (a->type) {
  case SC_ATTR_FLOAT:
  case SC_ATTR_INT:
    return sc_shape_set_output(node, 0, 0, NULL, err);
  case SC_ATTR_FLOATS:
  case SC_ATTR_INTS:
    return sc_shape_set_output(node, 0, 1, &a->n, err);
  default:
    return sc_shape_set_output(node, 0, a->t->rank, a->t->dims, err);
  }
}

static sc_status constant_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_attr *a;
  struct sc_tensor *out = node->out[0];
  int64_t i;
  sc_status st = constant_attr(node, &a, err);
  if (st)
    return st;
  switch (a->type) {
  case SC_ATTR_FLOAT:
    *(float *)out->data = a->f;
    break;
  case SC_ATTR_INT:
    *(int64_t *)out->data = a->i;
    break;
  case SC_ATTR_FLOATS:
    for (i = 0; i < a->n; i++)
      ((float *)out->data)[i] = a->floats[i];
    break;
  case SC_ATTR_INTS:
    for (i = 0; i < a->n; i++)
      ((int64_t *)out->data)[i] = a->ints[i];
    break;
  default:
    if (sc_tensor_size(a->t) > 0)
      memcpy(out->data, a->t->data, sc_tensor_size(a->t));
    break;
  }
  return SC_OK;
}

/* --- ConstantOfShape ----------------------------------------------------- */

/* The fill value: the one-element `value` attribute, or float 0. */
static sc_status constant_of_shape_value(const struct sc_node *node,
                                         const struct sc_tensor **value,
                                         struct sc_error *err)
{
  const struct sc_attr *a = sc_node_attr(node, "value");
  *value = NULL;
  if (!a)
    return SC_OK;
  if (a->type != SC_ATTR_TENSOR || !a->t)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'value' must be a tensor");
  if (a->t->n_elements != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'value' must hold one element, it has "
                        "%lld",
                        (long long)a->t->n_elements);
  if (sc_dtype_size(a->t->dtype) == 0)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "attribute 'value' has dtype %s, which is not "
                        "supported",
                        sc_dtype_name(a->t->dtype));
  *value = a->t;
  return SC_OK;
}

static sc_status constant_of_shape_prepare(struct sc_node *node,
                                           struct sc_error *err)
{
  const struct sc_tensor *value;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = sc_shape_check_index_dtype(node, 0, 0, err);
  if (!st)
    st = constant_of_shape_value(node, &value, err);
  if (st)
    return st;
  node->out[0]->dtype = value ? value->dtype : SC_DTYPE_FLOAT;
  return SC_OK;
}

static sc_status constant_of_shape_reshape(struct sc_node *node,
                                           struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK], n;
  sc_status st;
  if (!node->in[0]->data)
    return sc_node_defer(node);
  if (node->in[0]->rank == 1 && node->in[0]->n_elements > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "output rank %lld is above the supported %d",
                        (long long)node->in[0]->n_elements, SC_MAX_RANK);
  st = sc_shape_read_ints(node, 0, "the shape input", 0, SC_MAX_RANK, dims, &n,
                          err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, (int)n, dims, err);
}

static sc_status constant_of_shape_run(struct sc_node *node,
                                       struct sc_error *err)
{
  const struct sc_tensor *value;
  struct sc_tensor *out = node->out[0];
  struct sc_shape_copy fill;
  static const float zero = 0.0f;
  sc_status st = constant_of_shape_value(node, &value, err);
  if (st)
    return st;
  sc_shape_copy_init(&fill, 1, &out->n_elements, sc_dtype_size(out->dtype),
                     value ? value->data : (const void *)&zero, out->data);
  fill.src_strides[0] = 0;
  sc_shape_copy_run(&fill, sc_node_threads(node));
  return SC_OK;
}

/* --- Range --------------------------------------------------------------- */

static sc_status range_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE,
                                        SC_DTYPE_INT16, SC_DTYPE_INT32,
                                        SC_DTYPE_INT64};
  int i;
  sc_status st = sc_check_arity(node, 3, 3, 1, 1, err);
  for (i = 0; !st && i < 3; i++)
    if (!sc_shape_has_input(node, i))
      st = sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is missing", i);
  if (!st)
    st = sc_check_dtype(node, 0, types, 5, err);
  if (st)
    return st;
  for (i = 1; i < 3; i++)
    if (node->in[i]->dtype != node->in[0]->dtype)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "start, limit and delta must have the same dtype "
                          "(%s and %s)",
                          sc_dtype_name(node->in[0]->dtype),
                          sc_dtype_name(node->in[i]->dtype));
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Number of Range elements: max(ceil((limit - start) / delta), 0), computed
 * in the inputs' type; fails naming the node for delta = 0, non-finite or
 * too large counts. */
static sc_status range_count(const struct sc_node *node, int64_t *count,
                             struct sc_error *err)
{
  enum sc_dtype t = node->in[0]->dtype;
  double n;
  if (t == SC_DTYPE_FLOAT || t == SC_DTYPE_DOUBLE) {
    double start = sc_dtype_load(t, node->in[0]->data, 0);
    double limit = sc_dtype_load(t, node->in[1]->data, 0);
    double delta = sc_dtype_load(t, node->in[2]->data, 0);
    if (delta == 0.0)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "delta is 0");
    if (t == SC_DTYPE_FLOAT)
      n = ceil((double)(((float)limit - (float)start) / (float)delta));
    else
      n = ceil((limit - start) / delta);
  } else {
    int64_t start = sc_dtype_load_i64(t, node->in[0]->data, 0);
    int64_t limit = sc_dtype_load_i64(t, node->in[1]->data, 0);
    int64_t delta = sc_dtype_load_i64(t, node->in[2]->data, 0);
    int64_t diff;
    if (delta == 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "delta is 0");
    if (__builtin_sub_overflow(limit, start, &diff) ||
        (diff == INT64_MIN && delta == -1))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the range is too large (hostile size)");
    /* ceil(diff / delta) without overflow */
    n = (double)(diff / delta +
                 (diff % delta != 0 && (diff > 0) == (delta > 0)));
  }
  if (isnan(n) || n > (double)SC_MAX_TENSOR_SIZE)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the range has too many elements (hostile size)");
  *count = n > 0 ? (int64_t)n : 0;
  return SC_OK;
}

static sc_status range_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t count;
  int i;
  sc_status st;
  for (i = 0; i < 3; i++) {
    if (!node->in[i]->data)
      return sc_node_defer(node);
    if (node->in[i]->n_elements != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d ('%s') must be a scalar, it has %lld "
                          "elements",
                          i, sc_node_input_name(node, i),
                          (long long)node->in[i]->n_elements);
  }
  st = range_count(node, &count, err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, 1, &count, err);
}

#define RANGE_LOOP(T)                                                          \
  do {                                                                         \
    T start = *(const T *)node->in[0]->data;                                   \
    T delta = *(const T *)node->in[2]->data;                                   \
    T *y = out->data;                                                          \
    for (i = 0; i < out->n_elements; i++)                                      \
      y[i] = (T)(start + (T)i * delta);                                        \
  } while (0)

static sc_status range_run(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor *out = node->out[0];
  int64_t i;
  switch (out->dtype) {
  case SC_DTYPE_FLOAT:
    RANGE_LOOP(float);
    break;
  case SC_DTYPE_DOUBLE:
    RANGE_LOOP(double);
    break;
  case SC_DTYPE_INT16:
    RANGE_LOOP(int16_t);
    break;
  case SC_DTYPE_INT32:
    RANGE_LOOP(int32_t);
    break;
  default:
    RANGE_LOOP(int64_t);
    break;
  }
  return SC_OK;
}

/* --- EyeLike ------------------------------------------------------------ */

static sc_status eye_like_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t dtype, k;
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = sc_node_attr_int(node, "dtype", node->in[0]->dtype, &dtype, err);
  if (!st)
    st = sc_node_attr_int(node, "k", 0, &k, err);
  if (st)
    return st;
  if (dtype <= 0 || dtype > SC_DTYPE_BFLOAT16 ||
      sc_dtype_size((enum sc_dtype)dtype) == 0)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "output dtype %lld is not supported", (long long)dtype);
  node->out[0]->dtype = (enum sc_dtype)dtype;
  return SC_OK;
}

static sc_status eye_like_reshape(struct sc_node *node, struct sc_error *err)
{
  if (node->in[0]->rank != 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must have rank 2, it has rank %d",
                        node->in[0]->rank);
  return sc_reshape_like_input0(node, err);
}

static sc_status eye_like_run(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor *out = node->out[0];
  int64_t k = 0, rows = out->dims[0], cols = out->dims[1], r;
  sc_node_attr_int(node, "k", 0, &k, NULL);
  memset(out->data, 0, sc_tensor_size(out));
  for (r = 0; r < rows; r++) {
    /* column r + k, skipped when outside [0, cols) */
    if (k >= cols - r || k < -r)
      continue;
    sc_dtype_store(out->dtype, out->data, r * cols + r + k, 1.0);
  }
  return SC_OK;
}

/* --- Trilu --------------------------------------------------------------- */

static sc_status trilu_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t upper;
  sc_status st = same_type_prepare(node, 1, 2, err);
  if (!st && sc_shape_has_input(node, 1))
    st = sc_shape_check_index_dtype(node, 1, 0, err);
  if (!st)
    st = sc_node_attr_int(node, "upper", 1, &upper, err);
  return st;
}

static sc_status trilu_reshape(struct sc_node *node, struct sc_error *err)
{
  if (node->in[0]->rank < 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must have rank 2 or more, it has rank %d",
                        node->in[0]->rank);
  if (sc_shape_has_input(node, 1) && node->in[1]->n_elements != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "k must hold one value, it has %lld",
                        (long long)node->in[1]->n_elements);
  return sc_reshape_like_input0(node, err);
}

/* Copies the input, then zeroes (all-zero bytes is zero in every dtype)
 * the elements outside the kept triangle of each matrix: upper keeps
 * j - i >= k, lower keeps j - i <= k. */
static sc_status trilu_run(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor *out = node->out[0];
  int rank = out->rank;
  int64_t rows = out->dims[rank - 2], cols = out->dims[rank - 1];
  int64_t n_mat = rows != 0 && cols != 0 ? out->n_elements / (rows * cols) : 0;
  int64_t upper = 1, k = 0, m, i;
  size_t elem = sc_dtype_size(out->dtype);
  char *y = out->data;

  sc_node_attr_int(node, "upper", 1, &upper, NULL);
  if (sc_shape_has_input(node, 1))
    k = sc_dtype_load_i64(node->in[1]->dtype, node->in[1]->data, 0);
  copy_input_run(node, err);
  for (m = 0; m < n_mat; m++)
    for (i = 0; i < rows; i++) {
      char *row = y + (size_t)((m * rows + i) * cols) * elem;
      /* kept columns: [lo, hi) */
      int64_t lo = 0, hi = cols;
      if (upper) {
        lo = k > cols - i ? cols : i + k < 0 ? 0 : i + k;
      } else {
        hi = k >= cols - i ? cols : i + k + 1 < 0 ? 0 : i + k + 1;
      }
      if (upper)
        memset(row, 0, (size_t)lo * elem);
      else
        memset(row + (size_t)hi * elem, 0, (size_t)(cols - hi) * elem);
    }
  return SC_OK;
}

#define L SC_OPSET_LATEST

const struct sc_op sc_ops_shape[] = {
    {"", "Reshape", 1, 4, reshape_prepare_v1, reshape_reshape, copy_input_run,
     sc_shape_state_free, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Reshape", 5, 13, reshape_prepare_v5, reshape_reshape, copy_input_run,
     sc_shape_state_free, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Reshape", 14, L, reshape_prepare_v14, reshape_reshape, copy_input_run,
     sc_shape_state_free, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Flatten", 1, L, flatten_prepare, flatten_reshape, copy_input_run,
     NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Squeeze", 1, 12, squeeze_prepare, squeeze_reshape, copy_input_run,
     NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Squeeze", 13, L, squeeze_prepare, squeeze_reshape, copy_input_run,
     NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Unsqueeze", 1, 12, unsqueeze_prepare, unsqueeze_reshape,
     copy_input_run, NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Unsqueeze", 13, L, unsqueeze_prepare, unsqueeze_reshape,
     copy_input_run, NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Identity", 1, L, identity_prepare, sc_reshape_like_input0,
     copy_input_run, NULL, SC_OP_OUTPUT_IS_INPUT0},
    {"", "Dropout", 1, 9, dropout_prepare, dropout_reshape, dropout_run, NULL,
     0},
    {"", "Dropout", 10, 11, dropout_prepare, dropout_reshape, dropout_run, NULL,
     0},
    {"", "Dropout", 12, L, dropout_prepare, dropout_reshape, dropout_run, NULL,
     0},
    {"", "Shape", 1, 14, shape_prepare, shape_reshape, shape_run, NULL,
     SC_OP_SHAPE_ONLY},
    {"", "Shape", 15, L, shape_prepare, shape_reshape, shape_run, NULL,
     SC_OP_SHAPE_ONLY},
    {"", "Size", 1, L, size_prepare, size_reshape, size_run, NULL,
     SC_OP_SHAPE_ONLY},
    {"", "Constant", 1, L, constant_prepare, constant_reshape, constant_run,
     NULL, 0},
    {"", "ConstantOfShape", 9, L, constant_of_shape_prepare,
     constant_of_shape_reshape, constant_of_shape_run, NULL, 0},
    {"", "Range", 11, L, range_prepare, range_reshape, range_run, NULL, 0},
    {"", "EyeLike", 9, L, eye_like_prepare, eye_like_reshape, eye_like_run,
     NULL, 0},
    {"", "Trilu", 14, L, trilu_prepare, trilu_reshape, trilu_run, NULL, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
