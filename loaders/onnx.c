#include "loaders/onnx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "onnx.pb-c.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error                                                                         \
    "stagecheck assumes a little-endian host (ONNX raw_data is little-endian)"
#endif

/* Nesting of subgraphs accepted (If/Loop bodies inside bodies ...). */
#define MAX_GRAPH_DEPTH 32
/* Nesting of protobuf messages accepted: a subgraph level is three
 * (GraphProto, NodeProto, AttributeProto), a type a few more. protobuf-c
 * unpacks nested messages recursively, so a hostile file nested a hundred
 * thousand levels deep would overflow the stack: it is refused first. */
#define MAX_MESSAGE_DEPTH (3 * MAX_GRAPH_DEPTH + 64)

struct load_ctx {
  const char *name;     /* file name for messages */
  const char *base_dir; /* for external data; NULL refuses it */
};

static sc_status load_graph(const struct load_ctx *ctx,
                            const Onnx__GraphProto *gp, int depth,
                            struct sc_graph *g, struct sc_error *err);

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

/* Reads the external data of tensor `tp` into dst (expected bytes). */
static sc_status read_external(const struct load_ctx *ctx,
                               const Onnx__TensorProto *tp, void *dst,
                               size_t expected, struct sc_error *err)
{
  const char *location = NULL;
  int64_t offset = 0, length = -1;
  char what[512];
  char *path = NULL;
  uint8_t *bytes = NULL;
  size_t n_bytes = 0;
  size_t i;
  sc_status st;

  snprintf(what, sizeof what, "%s: tensor '%s' external data", ctx->name,
           or_empty(tp->name));
  for (i = 0; i < tp->n_external_data; i++) {
    const char *key = or_empty(tp->external_data[i]->key);
    const char *value = or_empty(tp->external_data[i]->value);
    char *end = NULL;
    if (strcmp(key, "location") == 0)
      location = value;
    else if (strcmp(key, "offset") == 0) {
      offset = strtoll(value, &end, 10);
      if (!*value || *end || offset < 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: bad offset '%s'", what, value);
    } else if (strcmp(key, "length") == 0) {
      length = strtoll(value, &end, 10);
      if (!*value || *end || length < 0)
        return sc_fail(err, SC_ERR_FORMAT, "%s: bad length '%s'", what, value);
    }
  }
  if (!location)
    return sc_fail(err, SC_ERR_FORMAT, "%s: no location", what);
  if (!ctx->base_dir)
    return sc_fail(err, SC_ERR_FORMAT, "%s: external data needs a model file",
                   what);
  st = sc_path_confine(ctx->base_dir, location, what, &path, err);
  if (st)
    return st;
  if (length >= 0 && (uint64_t)length != expected) {
    free(path);
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: length %lld does not match the %zu bytes of its dims",
                   what, (long long)length, expected);
  }
  /* Reading the whole file is simple and bounded by the tensor size limit;
   * files holding many tensors are read once per tensor. */
  st = sc_file_read(path, SC_MAX_TENSOR_SIZE * 4, &bytes, &n_bytes, err);
  free(path);
  if (st) {
    sc_error_prefix(err, "%s: ", what);
    return st;
  }
  if ((uint64_t)offset > n_bytes || n_bytes - (size_t)offset < expected) {
    free(bytes);
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: file '%s' holds %zu bytes, %lld + %zu needed", what,
                   location, n_bytes, (long long)offset, expected);
  }
  if (expected)
    memcpy(dst, bytes + offset, expected);
  free(bytes);
  return SC_OK;
}

/* TensorProto -> sc_tensor. `label` names it ("initializer 'w'",
 * "attribute 'value' of node 'c'"). */
static sc_status tensor_from_proto(const struct load_ctx *ctx,
                                   const Onnx__TensorProto *tp,
                                   const char *label, struct sc_tensor **out,
                                   struct sc_error *err)
{
  enum sc_dtype dtype = (enum sc_dtype)tp->data_type;
  int64_t dims[SC_MAX_RANK];
  size_t elem, bytes, i, n_given = 0;
  int64_t n;
  struct sc_tensor *t = NULL;
  sc_status st;

  *out = NULL;
  if (tp->segment)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "%s: %s is segmented", ctx->name,
                   label);
  if (tp->n_dims > SC_MAX_RANK)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s has rank %zu, more than the supported %d", ctx->name,
                   label, tp->n_dims, SC_MAX_RANK);
  for (i = 0; i < tp->n_dims; i++)
    dims[i] = tp->dims[i];
  if (dtype == SC_DTYPE_STRING)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s is a string tensor (not supported)", ctx->name,
                   label);
  elem = sc_dtype_size(dtype);
  if (elem == 0)
    return sc_fail(err,
                   dtype == SC_DTYPE_COMPLEX64 || dtype == SC_DTYPE_COMPLEX128
                       ? SC_ERR_UNSUPPORTED
                       : SC_ERR_FORMAT,
                   "%s: %s has data type %d, which the runtime cannot hold",
                   ctx->name, label, tp->data_type);
  st = sc_shape_count((int)tp->n_dims, dims, elem, &n, label, err);
  if (st) {
    sc_error_prefix(err, "%s: ", ctx->name);
    return st;
  }
  bytes = (size_t)n * elem;

  /* check the amount of data before allocating */
  if (tp->has_data_location &&
      tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    n_given = (size_t)n;
  } else if (tp->has_raw_data) {
    if (tp->raw_data.len != bytes)
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: %s has %zu bytes of raw data, its dims need %zu",
                     ctx->name, label, tp->raw_data.len, bytes);
    n_given = (size_t)n;
  } else {
    switch (dtype) {
    case SC_DTYPE_FLOAT:
      n_given = tp->n_float_data;
      break;
    case SC_DTYPE_INT32:
    case SC_DTYPE_INT16:
    case SC_DTYPE_INT8:
    case SC_DTYPE_UINT16:
    case SC_DTYPE_UINT8:
    case SC_DTYPE_BOOL:
    case SC_DTYPE_FLOAT16:
    case SC_DTYPE_BFLOAT16:
      n_given = tp->n_int32_data;
      break;
    case SC_DTYPE_INT64:
      n_given = tp->n_int64_data;
      break;
    case SC_DTYPE_DOUBLE:
      n_given = tp->n_double_data;
      break;
    case SC_DTYPE_UINT32:
    case SC_DTYPE_UINT64:
      n_given = tp->n_uint64_data;
      break;
    default:
      n_given = 0;
      break;
    }
    if (n_given != (size_t)n)
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: %s has %zu values, its dims %s need %lld", ctx->name,
                     label, n_given, "", (long long)n);
  }

  /* raw data fills every byte: no need to clear them first */
  st =
      tp->has_raw_data && !(tp->has_data_location &&
                            tp->data_location ==
                                ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
          ? sc_tensor_create_pooled(NULL, dtype, (int)tp->n_dims, dims, &t, err)
          : sc_tensor_create(dtype, (int)tp->n_dims, dims, &t, err);
  if (st) {
    sc_error_prefix(err, "%s: %s: ", ctx->name, label);
    return st;
  }
  if (tp->has_data_location &&
      tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    st = read_external(ctx, tp, t->data, bytes, err);
    if (st) {
      sc_tensor_free(t);
      return st;
    }
  } else if (tp->has_raw_data) {
    if (bytes)
      memcpy(t->data, tp->raw_data.data, bytes);
  } else {
    for (i = 0; i < (size_t)n; i++) {
      switch (dtype) {
      case SC_DTYPE_FLOAT:
        ((float *)t->data)[i] = tp->float_data[i];
        break;
      case SC_DTYPE_INT32:
        ((int32_t *)t->data)[i] = tp->int32_data[i];
        break;
      case SC_DTYPE_INT16:
        ((int16_t *)t->data)[i] = (int16_t)tp->int32_data[i];
        break;
      case SC_DTYPE_INT8:
        ((int8_t *)t->data)[i] = (int8_t)tp->int32_data[i];
        break;
      case SC_DTYPE_UINT16:
      case SC_DTYPE_FLOAT16:
      case SC_DTYPE_BFLOAT16:
        ((uint16_t *)t->data)[i] = (uint16_t)tp->int32_data[i];
        break;
      case SC_DTYPE_UINT8:
        ((uint8_t *)t->data)[i] = (uint8_t)tp->int32_data[i];
        break;
      case SC_DTYPE_BOOL:
        ((uint8_t *)t->data)[i] = tp->int32_data[i] != 0;
        break;
      case SC_DTYPE_INT64:
        ((int64_t *)t->data)[i] = tp->int64_data[i];
        break;
      case SC_DTYPE_DOUBLE:
        ((double *)t->data)[i] = tp->double_data[i];
        break;
      case SC_DTYPE_UINT32:
        ((uint32_t *)t->data)[i] = (uint32_t)tp->uint64_data[i];
        break;
      case SC_DTYPE_UINT64:
        ((uint64_t *)t->data)[i] = tp->uint64_data[i];
        break;
      default:
        break;
      }
    }
  }
  *out = t;
  return SC_OK;
}

/* SparseTensorProto -> dense tensor (indices either [NNZ] linear or
 * [NNZ, rank] coordinates). */
static sc_status sparse_from_proto(const struct load_ctx *ctx,
                                   const Onnx__SparseTensorProto *sp,
                                   const char *label, struct sc_tensor **out,
                                   struct sc_error *err)
{
  struct sc_tensor *values = NULL, *indices = NULL, *dense = NULL;
  int64_t dims[SC_MAX_RANK], n_dense, nnz, k;
  size_t elem;
  int rank = (int)sp->n_dims, r;
  sc_status st;

  *out = NULL;
  if (!sp->values || !sp->indices)
    return sc_fail(err, SC_ERR_FORMAT, "%s: sparse %s lacks values or indices",
                   ctx->name, label);
  if (sp->n_dims > SC_MAX_RANK)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "%s: sparse %s: rank too large",
                   ctx->name, label);
  for (r = 0; r < rank; r++)
    dims[r] = sp->dims[r];
  st = tensor_from_proto(ctx, sp->values, label, &values, err);
  if (!st)
    st = tensor_from_proto(ctx, sp->indices, label, &indices, err);
  if (st)
    goto done;
  elem = sc_dtype_size(values->dtype);
  st = sc_shape_count(rank, dims, elem, &n_dense, label, err);
  if (st)
    goto done;
  if (values->rank != 1 || indices->dtype != SC_DTYPE_INT64 ||
      !(indices->rank == 1 ||
        (indices->rank == 2 && indices->dims[1] == rank)) ||
      indices->dims[0] != values->dims[0]) {
    st = sc_fail(err, SC_ERR_FORMAT,
                 "%s: sparse %s: values/indices shapes are inconsistent",
                 ctx->name, label);
    goto done;
  }
  nnz = values->dims[0];
  st = sc_tensor_create(values->dtype, rank, dims, &dense, err);
  if (st)
    goto done;
  for (k = 0; k < nnz; k++) {
    const int64_t *ix = (const int64_t *)indices->data;
    int64_t linear = 0;
    if (indices->rank == 1)
      linear = ix[k];
    else
      for (r = 0; r < rank; r++) {
        int64_t c = ix[k * rank + r];
        if (c < 0 || c >= dims[r]) {
          linear = -1;
          break;
        }
        linear = linear * dims[r] + c;
      }
    if (linear < 0 || linear >= n_dense) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: sparse %s: index out of range",
                   ctx->name, label);
      goto done;
    }
    memcpy((uint8_t *)dense->data + (size_t)linear * elem,
           (uint8_t *)values->data + (size_t)k * elem, elem);
  }
  *out = dense;
  dense = NULL;
done:
  sc_tensor_free(values);
  sc_tensor_free(indices);
  sc_tensor_free(dense);
  return st;
}

static enum sc_attr_type infer_attr_type(const Onnx__AttributeProto *ap)
{
  if (ap->has_type &&
      ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
    return (enum sc_attr_type)ap->type;
  /* IR version < 0.0.2 models may omit the type */
  if (ap->has_f)
    return SC_ATTR_FLOAT;
  if (ap->has_i)
    return SC_ATTR_INT;
  if (ap->has_s)
    return SC_ATTR_STRING;
  if (ap->t)
    return SC_ATTR_TENSOR;
  if (ap->g)
    return SC_ATTR_GRAPH;
  if (ap->n_floats)
    return SC_ATTR_FLOATS;
  if (ap->n_ints)
    return SC_ATTR_INTS;
  if (ap->n_strings)
    return SC_ATTR_STRINGS;
  if (ap->n_tensors)
    return SC_ATTR_TENSORS;
  if (ap->n_graphs)
    return SC_ATTR_GRAPHS;
  return SC_ATTR_UNDEFINED;
}

static sc_status load_attr(const struct load_ctx *ctx,
                           const Onnx__AttributeProto *ap, int depth,
                           struct sc_node *node, struct sc_error *err)
{
  struct sc_attr a;
  char label[512];
  size_t i;
  sc_status st = SC_OK;

  memset(&a, 0, sizeof a);
  if (!ap->name || !ap->name[0])
    return sc_fail(err, SC_ERR_FORMAT, "%s: node '%s' has an unnamed attribute",
                   ctx->name, node->name);
  snprintf(label, sizeof label, "attribute '%s' of node '%s'", ap->name,
           node->name);
  a.name = strdup(ap->name);
  if (!a.name)
    return sc_fail_nomem(err, label);
  a.type = infer_attr_type(ap);
  switch (a.type) {
  case SC_ATTR_FLOAT:
    a.f = ap->f;
    break;
  case SC_ATTR_INT:
    a.i = ap->i;
    break;
  case SC_ATTR_STRING:
    a.s = malloc(ap->s.len + 1);
    if (!a.s) {
      st = sc_fail_nomem(err, label);
      break;
    }
    if (ap->s.len)
      memcpy(a.s, ap->s.data, ap->s.len);
    a.s[ap->s.len] = '\0';
    a.s_size = ap->s.len;
    break;
  case SC_ATTR_TENSOR:
    if (!ap->t) {
      st =
          sc_fail(err, SC_ERR_FORMAT, "%s: %s has no tensor", ctx->name, label);
      break;
    }
    st = tensor_from_proto(ctx, ap->t, label, &a.t, err);
    break;
  case SC_ATTR_SPARSE_TENSOR:
    if (!ap->sparse_tensor) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: %s has no sparse tensor", ctx->name,
                   label);
      break;
    }
    st = sparse_from_proto(ctx, ap->sparse_tensor, label, &a.t, err);
    a.type = SC_ATTR_SPARSE_TENSOR; /* dense copy in a.t */
    break;
  case SC_ATTR_GRAPH:
    if (!ap->g) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: %s has no graph", ctx->name, label);
      break;
    }
    st = sc_graph_create(&a.g, err);
    if (!st)
      st = load_graph(ctx, ap->g, depth + 1, a.g, err);
    break;
  case SC_ATTR_FLOATS:
    a.n = (int64_t)ap->n_floats;
    a.floats = malloc((ap->n_floats + 1) * sizeof *a.floats);
    if (!a.floats) {
      st = sc_fail_nomem(err, label);
      break;
    }
    for (i = 0; i < ap->n_floats; i++)
      a.floats[i] = ap->floats[i];
    break;
  case SC_ATTR_INTS:
    a.n = (int64_t)ap->n_ints;
    a.ints = malloc((ap->n_ints + 1) * sizeof *a.ints);
    if (!a.ints) {
      st = sc_fail_nomem(err, label);
      break;
    }
    for (i = 0; i < ap->n_ints; i++)
      a.ints[i] = ap->ints[i];
    break;
  case SC_ATTR_STRINGS:
    a.strings = calloc(ap->n_strings + 1, sizeof *a.strings);
    if (!a.strings) {
      st = sc_fail_nomem(err, label);
      break;
    }
    for (i = 0; i < ap->n_strings; i++) {
      a.strings[i] = malloc(ap->strings[i].len + 1);
      if (!a.strings[i]) {
        st = sc_fail_nomem(err, label);
        break;
      }
      a.n = (int64_t)i + 1;
      if (ap->strings[i].len)
        memcpy(a.strings[i], ap->strings[i].data, ap->strings[i].len);
      a.strings[i][ap->strings[i].len] = '\0';
    }
    break;
  case SC_ATTR_TENSORS:
  case SC_ATTR_SPARSE_TENSORS: {
    size_t count =
        a.type == SC_ATTR_TENSORS ? ap->n_tensors : ap->n_sparse_tensors;
    a.tensors = calloc(count + 1, sizeof *a.tensors);
    if (!a.tensors) {
      st = sc_fail_nomem(err, label);
      break;
    }
    for (i = 0; i < count && !st; i++) {
      st = a.type == SC_ATTR_TENSORS
               ? tensor_from_proto(ctx, ap->tensors[i], label, &a.tensors[i],
                                   err)
               : sparse_from_proto(ctx, ap->sparse_tensors[i], label,
                                   &a.tensors[i], err);
      if (!st)
        a.n = (int64_t)i + 1;
    }
    break;
  }
  case SC_ATTR_GRAPHS:
    /* kept by count only: no supported operator takes a list of graphs */
    a.n = (int64_t)ap->n_graphs;
    break;
  case SC_ATTR_TYPE_PROTO:
  case SC_ATTR_TYPE_PROTOS:
    a.n = (int64_t)ap->n_type_protos;
    break;
  default:
    st = sc_fail(err, SC_ERR_FORMAT, "%s: %s has unknown type %d", ctx->name,
                 label, (int)ap->type);
    break;
  }
  if (st) {
    sc_node_add_attr(node, &a, NULL); /* frees a; the error above stands */
    return st;
  }
  return sc_node_add_attr(node, &a, err);
}

/* dtype and shape of a ValueInfoProto; non-tensor types are unsupported. */
static sc_status value_info_type(const struct load_ctx *ctx,
                                 const Onnx__ValueInfoProto *vi,
                                 const char *what, enum sc_dtype *dtype,
                                 int *rank, int64_t *dims, struct sc_error *err)
{
  const Onnx__TypeProto__Tensor *tt;
  size_t i;

  *dtype = SC_DTYPE_UNDEFINED;
  *rank = -1;
  if (!vi->type)
    return SC_OK;
  if (vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s '%s' is not a tensor (sequence, map, optional and "
                   "sparse values are not supported)",
                   ctx->name, what, or_empty(vi->name));
  tt = vi->type->tensor_type;
  if (!tt)
    return SC_OK;
  if (tt->has_elem_type)
    *dtype = (enum sc_dtype)tt->elem_type;
  if (*dtype == SC_DTYPE_STRING)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s '%s' is a string tensor (not supported)", ctx->name,
                   what, or_empty(vi->name));
  if (*dtype != SC_DTYPE_UNDEFINED && sc_dtype_size(*dtype) == 0)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s '%s' has data type %d, which the runtime cannot "
                   "hold",
                   ctx->name, what, or_empty(vi->name), (int)*dtype);
  if (!tt->shape)
    return SC_OK;
  if (tt->shape->n_dim > SC_MAX_RANK)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: %s '%s' has rank %zu, more than the supported %d",
                   ctx->name, what, or_empty(vi->name), tt->shape->n_dim,
                   SC_MAX_RANK);
  for (i = 0; i < tt->shape->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    dims[i] = -1;
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value < 0)
        return sc_fail(err, SC_ERR_FORMAT,
                       "%s: %s '%s' has negative dimension %lld", ctx->name,
                       what, or_empty(vi->name), (long long)d->dim_value);
      dims[i] = d->dim_value;
    }
  }
  *rank = (int)tt->shape->n_dim;
  return SC_OK;
}

static sc_status load_graph(const struct load_ctx *ctx,
                            const Onnx__GraphProto *gp, int depth,
                            struct sc_graph *g, struct sc_error *err)
{
  size_t i, j;
  sc_status st;

  if (depth > MAX_GRAPH_DEPTH)
    return sc_fail(err, SC_ERR_FORMAT, "%s: subgraphs nested too deeply",
                   ctx->name);
  free(g->name);
  g->name = strdup(or_empty(gp->name));
  if (!g->name)
    return sc_fail_nomem(err, "graph name");

  for (i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    struct sc_tensor *t;
    char label[512];
    if (!tp->name || !tp->name[0])
      return sc_fail(err, SC_ERR_FORMAT, "%s: initializer %zu has no name",
                     ctx->name, i);
    snprintf(label, sizeof label, "initializer '%s'", tp->name);
    st = tensor_from_proto(ctx, tp, label, &t, err);
    if (st)
      return st;
    st = sc_graph_add_initializer(g, tp->name, t, err);
    if (st) {
      sc_error_prefix(err, "%s: ", ctx->name);
      return st;
    }
  }
  for (i = 0; i < gp->n_sparse_initializer; i++) {
    const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
    struct sc_tensor *t;
    char label[512];
    const char *name = sp->values ? or_empty(sp->values->name) : "";
    snprintf(label, sizeof label, "sparse initializer '%s'", name);
    if (!name[0])
      return sc_fail(err, SC_ERR_FORMAT, "%s: %s has no name", ctx->name,
                     label);
    st = sparse_from_proto(ctx, sp, label, &t, err);
    if (st)
      return st;
    st = sc_graph_add_initializer(g, name, t, err);
    if (st)
      return st;
  }

  for (i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    enum sc_dtype dtype;
    int rank, v;
    int64_t dims[SC_MAX_RANK];
    if (!vi->name || !vi->name[0])
      return sc_fail(err, SC_ERR_FORMAT, "%s: graph input %zu has no name",
                     ctx->name, i);
    v = sc_graph_find_value(g, vi->name);
    if (v >= 0 && g->values[v].initializer)
      continue; /* a constant with a default value: not fed by the caller */
    st = value_info_type(ctx, vi, "graph input", &dtype, &rank, dims, err);
    if (st)
      return st;
    if (dtype == SC_DTYPE_UNDEFINED)
      return sc_fail(err, SC_ERR_FORMAT, "%s: graph input '%s' has no type",
                     ctx->name, vi->name);
    st = sc_graph_add_input(g, vi->name, dtype, rank, dims, err);
    if (st) {
      sc_error_prefix(err, "%s: ", ctx->name);
      return st;
    }
  }

  for (i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *np = gp->node[i];
    struct sc_node *node;
    const char **names;
    if (!np->op_type || !np->op_type[0])
      return sc_fail(err, SC_ERR_FORMAT, "%s: node %zu ('%s') has no op_type",
                     ctx->name, i, or_empty(np->name));
    names = calloc(np->n_input + np->n_output + 1, sizeof *names);
    if (!names)
      return sc_fail_nomem(err, "node");
    for (j = 0; j < np->n_input; j++)
      names[j] = np->input[j];
    for (j = 0; j < np->n_output; j++)
      names[np->n_input + j] = np->output[j];
    st = sc_graph_add_node(g, np->name, np->op_type, np->domain,
                           (int)np->n_input, names, (int)np->n_output,
                           names + np->n_input, &node, err);
    free(names);
    if (st) {
      sc_error_prefix(err, "%s: ", ctx->name);
      return st;
    }
    for (j = 0; j < np->n_attribute; j++) {
      st = load_attr(ctx, np->attribute[j], depth, node, err);
      if (st)
        return st;
    }
  }

  for (i = 0; i < gp->n_value_info; i++) {
    enum sc_dtype dtype;
    int rank;
    int64_t dims[SC_MAX_RANK];
    st = value_info_type(ctx, gp->value_info[i], "value_info", &dtype, &rank,
                         dims, err);
    if (st)
      return st;
  }
  for (i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    enum sc_dtype dtype;
    int rank;
    int64_t dims[SC_MAX_RANK];
    if (!vi->name || !vi->name[0])
      return sc_fail(err, SC_ERR_FORMAT, "%s: graph output %zu has no name",
                     ctx->name, i);
    st = value_info_type(ctx, vi, "graph output", &dtype, &rank, dims, err);
    if (!st)
      st = sc_graph_add_output(g, vi->name, err);
    if (st)
      return st;
  }
  return SC_OK;
}

/* Reads a varint at *pos (< end); 0 when it is cut short or too long. */
static int read_varint(const uint8_t *p, size_t *pos, size_t end,
                       uint64_t *value)
{
  int shift;
  *value = 0;
  for (shift = 0; shift < 64 && *pos < end; shift += 7) {
    uint8_t b = p[(*pos)++];
    *value |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return 1;
  }
  return 0;
}

/* 1 when the message of type `desc` in data[0..size) nests messages more
 * than max_depth deep. Walks the wire format without recursion, entering
 * the length-delimited fields the descriptor says are messages. Anything
 * malformed stops the walk with 0: the unpacking that follows rejects it. */
static int nested_too_deep(const ProtobufCMessageDescriptor *desc,
                           const uint8_t *data, size_t size, int max_depth)
{
  struct level {
    const ProtobufCMessageDescriptor *desc;
    size_t end;
  } *stack = malloc((size_t)(max_depth + 1) * sizeof *stack);
  size_t pos = 0;
  int top = 0, too_deep = 0;

  if (!stack)
    return 0;
  stack[0].desc = desc;
  stack[0].end = size;
  while (!too_deep) {
    const ProtobufCFieldDescriptor *f;
    uint64_t tag, length;
    while (top > 0 && pos >= stack[top].end)
      top--;
    if (pos >= stack[top].end || !read_varint(data, &pos, stack[top].end, &tag))
      break;
    switch (tag & 7) {
    case 0: /* varint */
      if (!read_varint(data, &pos, stack[top].end, &length))
        goto done;
      continue;
    case 1: /* 64-bit */
    case 5: /* 32-bit */
      pos += (tag & 7) == 1 ? 8 : 4;
      continue;
    case 2: /* length-delimited */
      if (!read_varint(data, &pos, stack[top].end, &length) ||
          length > stack[top].end - pos)
        goto done;
      f = tag >> 3 <= 0xffffffffu ? protobuf_c_message_descriptor_get_field(
                                        stack[top].desc, (unsigned)(tag >> 3))
                                  : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (top == max_depth) {
          too_deep = 1;
          break;
        }
        top++;
        stack[top].desc = f->descriptor;
        stack[top].end = pos + (size_t)length;
      } else {
        pos += (size_t)length;
      }
      continue;
    default: /* groups: protobuf-c refuses them */
      goto done;
    }
  }
done:
  free(stack);
  return too_deep;
}

sc_status sc_onnx_load_buffer(const void *data, size_t size,
                              const char *base_dir, const char *name,
                              struct sc_graph **out, struct sc_error *err)
{
  Onnx__ModelProto *mp;
  struct sc_graph *g = NULL;
  struct load_ctx ctx;
  size_t i;
  sc_status st;

  *out = NULL;
  ctx.name = name ? name : "model";
  ctx.base_dir = base_dir;
  if (size == 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: empty file", ctx.name);
  if (nested_too_deep(&onnx__model_proto__descriptor, data, size,
                      MAX_MESSAGE_DEPTH))
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: messages nested more than %d deep (malformed or "
                   "hostile protobuf)",
                   ctx.name, MAX_MESSAGE_DEPTH);
  mp = onnx__model_proto__unpack(NULL, size, data);
  if (!mp)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: not a valid ONNX model (truncated or malformed "
                   "protobuf)",
                   ctx.name);
  if (!mp->graph) {
    onnx__model_proto__free_unpacked(mp, NULL);
    return sc_fail(err, SC_ERR_FORMAT, "%s: the model has no graph", ctx.name);
  }
  st = sc_graph_create(&g, err);
  if (st)
    goto done;
  free(g->source);
  g->source = strdup(ctx.name);
  g->producer_name = strdup(or_empty(mp->producer_name));
  g->producer_version = strdup(or_empty(mp->producer_version));
  if (!g->source || !g->producer_name || !g->producer_version) {
    st = sc_fail_nomem(err, "model");
    goto done;
  }
  g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
  for (i = 0; i < mp->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
    if (!os->has_version || os->version < 1)
      continue;
    st = sc_graph_set_opset(g, or_empty(os->domain), os->version, err);
    if (st)
      goto done;
  }
  if (sc_graph_opset(g, "") < 0) {
    /* IR v3 made opset_import mandatory; older models mean opset 1 */
    if (mp->n_opset_import == 0 && g->ir_version >= 3) {
      st = sc_fail(err, SC_ERR_FORMAT,
                   "%s: the model imports no opset (IR version %lld "
                   "requires opset_import)",
                   ctx.name, (long long)g->ir_version);
      goto done;
    }
    st = sc_graph_set_opset(g, "", 1, err);
    if (st)
      goto done;
  }
  st = load_graph(&ctx, mp->graph, 0, g, err);

done:
  onnx__model_proto__free_unpacked(mp, NULL);
  if (st) {
    if (err && !strstr(err->message, ctx.name)) /* every error names it */
      sc_error_prefix(err, "%s: ", ctx.name);
    sc_graph_free(g);
    return st;
  }
  *out = g;
  return SC_OK;
}

/* The file is mapped, not read: parsing copies every initializer out of
 * it anyway, and ISNet's 176 MB would otherwise pass through a buffer of
 * fresh memory first. */
sc_status sc_onnx_load(const char *path, struct sc_graph **out,
                       struct sc_error *err)
{
  const uint8_t *data;
  size_t size;
  char *dir;
  sc_status st;

  *out = NULL;
  st = sc_file_map(path, SC_ONNX_MAX_FILE_SIZE, &data, &size, err);
  if (st)
    return st;
  dir = sc_path_dirname(path);
  if (!dir) {
    sc_file_unmap(data, size);
    return sc_fail_nomem(err, path);
  }
  st = sc_onnx_load_buffer(data, size, dir, path, out, err);
  free(dir);
  sc_file_unmap(data, size);
  return st;
}

sc_status sc_onnx_load_tensor(const char *path, struct sc_tensor **out,
                              char **name, struct sc_error *err)
{
  Onnx__TensorProto *tp;
  uint8_t *data;
  size_t size;
  struct load_ctx ctx;
  char *dir;
  sc_status st;

  *out = NULL;
  if (name)
    *name = NULL;
  st = sc_file_read(path, SC_ONNX_MAX_FILE_SIZE, &data, &size, err);
  if (st)
    return st;
  tp = onnx__tensor_proto__unpack(NULL, size, data);
  free(data);
  if (!tp)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: not a valid ONNX TensorProto (truncated or malformed)",
                   path);
  dir = sc_path_dirname(path);
  ctx.name = path;
  ctx.base_dir = dir;
  if (!tp->has_data_type)
    st = sc_fail(err, SC_ERR_FORMAT, "%s: tensor has no data type", path);
  else
    st = tensor_from_proto(&ctx, tp, "tensor", out, err);
  if (!st && name) {
    *name = strdup(or_empty(tp->name));
    if (!*name) {
      sc_tensor_free(*out);
      *out = NULL;
      st = sc_fail_nomem(err, path);
    }
  }
  free(dir);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return st;
}

sc_status sc_onnx_save_tensor(const char *path, const struct sc_tensor *t,
                              const char *name, struct sc_error *err)
{
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t dims[SC_MAX_RANK];
  uint8_t *buf;
  size_t size;
  int i;
  sc_status st;

  for (i = 0; i < t->rank; i++)
    dims[i] = t->dims[i];
  tp.n_dims = (size_t)t->rank;
  tp.dims = dims;
  tp.has_data_type = 1;
  tp.data_type = (int32_t)t->dtype;
  tp.name = (char *)(name ? name : "");
  tp.has_raw_data = 1;
  tp.raw_data.len = sc_tensor_size(t);
  tp.raw_data.data = t->data;
  size = onnx__tensor_proto__get_packed_size(&tp);
  buf = malloc(size + 1);
  if (!buf)
    return sc_fail_nomem(err, path);
  onnx__tensor_proto__pack(&tp, buf);
  st = sc_file_write_atomic(path, buf, size, err);
  free(buf);
  return st;
}
