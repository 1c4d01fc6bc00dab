/* Operator family: indexing — operators driven by index or mask data
 * (Gather, GatherElements, GatherND, Scatter, ScatterElements, ScatterND,
 * Compress, OneHot, NonZero, Unique, TfIdfVectorizer).
 *
 * Indices are data: they are checked as they are read in `run`, and an
 * index out of range fails with SC_ERR_FORMAT naming the node; nothing is
 * ever read or written out of bounds. Outputs whose shape depends on the
 * data (NonZero, Unique, Compress) are allocated in `run`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/ops/shape_common.h"

#define L SC_OPSET_LATEST

/* Gathers smaller than this many bytes run on one thread. */
#define PARALLEL_MIN_BYTES ((int64_t)1 << 20)

/* Reads index i of an int32/int64 tensor. */
static int64_t load_index(const struct sc_tensor *t, int64_t i)
{
  if (t->dtype == SC_DTYPE_INT32)
    return ((const int32_t *)t->data)[i];
  return ((const int64_t *)t->data)[i];
}

/* Normalises index v for an axis of size dim (negative counts from the
 * end); fails naming the node when it is outside [-dim, dim). */
static sc_status check_index(const struct sc_node *node, int64_t *v,
                             int64_t dim, const char *what,
                             struct sc_error *err)
{
  if (*v < -dim || *v >= dim)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "%s %lld is out of range for a dimension of size %lld",
                        what, (long long)*v, (long long)dim);
  if (*v < 0)
    *v += dim;
  return SC_OK;
}

/* When the indices are known (constants, or any reshape before a run),
 * checks them all so that a bad constant index fails preparation: entry i
 * indexes dims[i % period] (period 1 for Gather-like operators, the tuple
 * length for the ND ones). */
static sc_status check_known_indices(const struct sc_node *node,
                                     const struct sc_tensor *idx,
                                     const int64_t *dims, int64_t period,
                                     struct sc_error *err)
{
  int64_t i;
  if (!idx->data)
    return SC_OK;
  for (i = 0; i < idx->n_elements; i++) {
    int64_t v = load_index(idx, i);
    sc_status st = check_index(node, &v, dims[i % period], "index", err);
    if (st)
      return st;
  }
  return SC_OK;
}

static sc_status require_inputs(const struct sc_node *node, int n,
                                struct sc_error *err)
{
  int i;
  for (i = 0; i < n; i++)
    if (!sc_shape_has_input(node, i))
      return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is missing", i);
  return SC_OK;
}

/* Product of dims[from..to). */
static int64_t span(const int64_t *dims, int from, int to)
{
  int64_t p = 1;
  int d;
  for (d = from; d < to; d++)
    p *= dims[d];
  return p;
}

/* Arity, storable data (input 0), index input `index_input` of int32/int64,
 * output 0 dtype = data's. */
static sc_status index_prepare(struct sc_node *node, int n_in, int index_input,
                               struct sc_error *err)
{
  sc_status st = sc_check_arity(node, n_in, n_in, 1, 1, err);
  if (!st)
    st = require_inputs(node, n_in, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (!st)
    st = sc_shape_check_index_dtype(node, index_input, 0, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static sc_status axis_attr(const struct sc_node *node, int rank, int *axis,
                           struct sc_error *err)
{
  int64_t a;
  sc_status st = sc_node_attr_int(node, "axis", 0, &a, err);
  if (st)
    return st;
  return sc_normalize_axis(node, a, rank, 0, axis, err);
}

/* --- Gather -------------------------------------------------------------- */

static sc_status gather_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t axis;
  sc_status st = index_prepare(node, 2, 1, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &axis, err);
  return st;
}

static sc_status gather_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  int64_t dims[SC_MAX_RANK];
  int axis, rank = 0, d;
  sc_status st;
  if (data->rank == 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the data must have rank 1 or more");
  st = axis_attr(node, data->rank, &axis, err);
  if (st)
    return st;
  if (data->rank - 1 + idx->rank > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "the output would have rank %d; at most %d is "
                        "supported",
                        data->rank - 1 + idx->rank, SC_MAX_RANK);
  st = check_known_indices(node, idx, &data->dims[axis], 1, err);
  if (st)
    return st;
  for (d = 0; d < axis; d++)
    dims[rank++] = data->dims[d];
  for (d = 0; d < idx->rank; d++)
    dims[rank++] = idx->dims[d];
  for (d = axis + 1; d < data->rank; d++)
    dims[rank++] = data->dims[d];
  return sc_shape_set_output(node, 0, rank, dims, err);
}

struct gather_job {
  const char *src;
  char *dst;
  const struct sc_tensor *indices;
  int64_t n_indices, axis_dim;
  size_t block; /* bytes per gathered slice */
};

/* Items [begin, end) = (outer, index) pairs; indices already checked. */
static void gather_range(void *ctx, int64_t begin, int64_t end)
{
  const struct gather_job *job = ctx;
  int64_t item;
  for (item = begin; item < end; item++) {
    int64_t outer = item / job->n_indices, j = item % job->n_indices;
    int64_t v = load_index(job->indices, j);
    if (v < 0)
      v += job->axis_dim;
    memcpy(job->dst + (size_t)item * job->block,
           job->src + (size_t)(outer * job->axis_dim + v) * job->block,
           job->block);
  }
}

static sc_status gather_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  struct gather_job job;
  int64_t outer, inner, j, grain;
  int axis;
  sc_status st = axis_attr(node, data->rank, &axis, err);
  if (st)
    return st;
  outer = span(data->dims, 0, axis);
  inner = span(data->dims, axis + 1, data->rank);
  job.axis_dim = data->dims[axis];
  for (j = 0; j < idx->n_elements; j++) {
    int64_t v = load_index(idx, j);
    st = check_index(node, &v, job.axis_dim, "index", err);
    if (st)
      return st;
  }
  job.src = data->data;
  job.dst = node->out[0]->data;
  job.indices = idx;
  job.n_indices = idx->n_elements;
  job.block = (size_t)inner * sc_dtype_size(data->dtype);
  if (job.block == 0 || outer * job.n_indices == 0)
    return SC_OK;
  grain = PARALLEL_MIN_BYTES / 4 / (int64_t)job.block;
  sc_parallel_for(sc_tensor_size(node->out[0]) >= (size_t)PARALLEL_MIN_BYTES
                      ? sc_node_threads(node)
                      : NULL,
                  outer * job.n_indices, grain > 0 ? grain : 1, gather_range,
                  &job);
  return SC_OK;
}

/* --- GatherElements --------------------------------------------------------
 */

/* Checks that indices (and updates, for scatters) have data's rank and fit
 * inside data on every axis but `axis`. */
static sc_status elements_shapes(const struct sc_node *node,
                                 const struct sc_tensor *data,
                                 const struct sc_tensor *indices, int axis,
                                 struct sc_error *err)
{
  char a[160], b[160];
  int d;
  for (d = 0; d < data->rank && indices->rank == data->rank; d++)
    if (d != axis && indices->dims[d] > data->dims[d])
      break;
  if (indices->rank != data->rank || d < data->rank)
    return sc_node_fail(
        node, err, SC_ERR_FORMAT,
        "indices of shape %s do not fit data of shape %s",
        sc_shape_format(indices->rank, indices->dims, a, sizeof a),
        sc_shape_format(data->rank, data->dims, b, sizeof b));
  return SC_OK;
}

static sc_status gather_elements_reshape(struct sc_node *node,
                                         struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  int axis;
  sc_status st;
  if (data->rank == 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the data must have rank 1 or more");
  st = axis_attr(node, data->rank, &axis, err);
  if (!st)
    st = elements_shapes(node, data, idx, axis, err);
  if (!st)
    st = check_known_indices(node, idx, &data->dims[axis], 1, err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, idx->rank, idx->dims, err);
}

/* Offset in data of the element at `pos` (an index position) with the axis
 * coordinate replaced by v. */
static int64_t element_offset(const int64_t *pos, const int64_t *strides,
                              int rank, int axis, int64_t v)
{
  int64_t off = 0;
  int d;
  for (d = 0; d < rank; d++)
    off += (d == axis ? v : pos[d]) * strides[d];
  return off;
}

/* Advances an odometer over dims; returns 0 after the last position. */
static int next_position(int64_t *pos, const int64_t *dims, int rank)
{
  int d;
  for (d = rank - 1; d >= 0; d--) {
    if (++pos[d] < dims[d])
      return 1;
    pos[d] = 0;
  }
  return 0;
}

static sc_status gather_elements_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  size_t elem = sc_dtype_size(data->dtype);
  int64_t strides[SC_MAX_RANK], pos[SC_MAX_RANK] = {0}, i;
  char *dst = node->out[0]->data;
  int axis;
  sc_status st = axis_attr(node, data->rank, &axis, err);
  if (st)
    return st;
  sc_shape_strides(data->rank, data->dims, strides);
  for (i = 0; i < idx->n_elements; i++) {
    int64_t v = load_index(idx, i);
    st = check_index(node, &v, data->dims[axis], "index", err);
    if (st)
      return st;
    memcpy(dst + (size_t)i * elem,
           (const char *)data->data +
               (size_t)element_offset(pos, strides, data->rank, axis, v) * elem,
           elem);
    next_position(pos, idx->dims, idx->rank);
  }
  return SC_OK;
}

/* --- GatherND ------------------------------------------------------------ */

static sc_status gather_nd_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t b;
  sc_status st = index_prepare(node, 2, 1, err);
  if (!st && node->opset >= 12)
    st = sc_node_attr_int(node, "batch_dims", 0, &b, err);
  return st;
}

/* batch_dims (0 before opset 12) and the index tuple length k, checked
 * against data (rank r) and indices (rank q): b < min(q, r), 1 <= k <= r - b,
 * equal batch dims. */
static sc_status nd_layout(const struct sc_node *node,
                           const struct sc_tensor *data,
                           const struct sc_tensor *idx, int *batch, int *k,
                           struct sc_error *err)
{
  int64_t b = 0, kk;
  int d;
  sc_status st;
  if (node->opset >= 12 && strcmp(node->op_type, "GatherND") == 0) {
    st = sc_node_attr_int(node, "batch_dims", 0, &b, err);
    if (st)
      return st;
  }
  if (data->rank < 1 || idx->rank < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "data and indices must have rank 1 or more");
  if (b < 0 || b >= idx->rank || b >= data->rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "batch_dims %lld is out of range", (long long)b);
  kk = idx->dims[idx->rank - 1];
  if (kk < 1 || kk > data->rank - b)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "index tuples of length %lld do not fit data of rank "
                        "%d",
                        (long long)kk, data->rank);
  for (d = 0; d < b; d++)
    if (data->dims[d] != idx->dims[d])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "batch dim %d differs between data (%lld) and "
                          "indices (%lld)",
                          d, (long long)data->dims[d], (long long)idx->dims[d]);
  *batch = (int)b;
  *k = (int)kk;
  return SC_OK;
}

static sc_status gather_nd_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  int64_t dims[SC_MAX_RANK];
  int b = 0, k = 0, rank = 0, d;
  sc_status st = nd_layout(node, data, idx, &b, &k, err);
  if (!st)
    st = check_known_indices(node, idx, &data->dims[b], k, err);
  if (st)
    return st;
  if (idx->rank - 1 + data->rank - b - k > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "the output rank is above the supported %d",
                        SC_MAX_RANK);
  for (d = 0; d < idx->rank - 1; d++)
    dims[rank++] = idx->dims[d];
  for (d = b + k; d < data->rank; d++)
    dims[rank++] = data->dims[d];
  return sc_shape_set_output(node, 0, rank, dims, err);
}

/* Offset (in elements, within one batch of data) of index tuple `tuple`;
 * fails naming the node on an out-of-range index. */
static sc_status nd_tuple_offset(const struct sc_node *node,
                                 const struct sc_tensor *data,
                                 const struct sc_tensor *idx, int b, int k,
                                 int64_t tuple, const int64_t *strides,
                                 int64_t *offset, struct sc_error *err)
{
  int j;
  *offset = 0;
  for (j = 0; j < k; j++) {
    int64_t v = load_index(idx, tuple * k + j);
    sc_status st = check_index(node, &v, data->dims[b + j], "index", err);
    if (st)
      return st;
    *offset += v * strides[b + j];
  }
  return SC_OK;
}

static sc_status gather_nd_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  size_t elem = sc_dtype_size(data->dtype);
  int64_t strides[SC_MAX_RANK], n_batch, per_batch, slice, t;
  char *dst = node->out[0]->data;
  int b, k;
  sc_status st = nd_layout(node, data, idx, &b, &k, err);
  if (st)
    return st;
  sc_shape_strides(data->rank, data->dims, strides);
  n_batch = span(data->dims, 0, b);
  per_batch = n_batch ? idx->n_elements / k / n_batch : 0;
  slice = span(data->dims, b + k, data->rank);
  for (t = 0; t < n_batch * per_batch; t++) {
    int64_t batch = t / per_batch, offset;
    st = nd_tuple_offset(node, data, idx, b, k, t, strides, &offset, err);
    if (st)
      return st;
    offset += batch * (b > 0 ? strides[b - 1] : 0);
    memcpy(dst + (size_t)(t * slice) * elem,
           (const char *)data->data + (size_t)offset * elem,
           (size_t)slice * elem);
  }
  return SC_OK;
}

/* --- Scatter reductions -------------------------------------------------- */

enum reduction { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

/* The `reduction` attribute: none before opset 16, none/add/mul from 16,
 * max/min from 18. */
static sc_status reduction_attr(const struct sc_node *node, enum reduction *red,
                                struct sc_error *err)
{
  const char *name = "none";
  sc_status st;
  *red = RED_NONE;
  if (node->opset < 16 || strcmp(node->op_type, "Scatter") == 0)
    return SC_OK;
  st = sc_node_attr_string(node, "reduction", "none", &name, err);
  if (st)
    return st;
  if (strcmp(name, "none") == 0)
    *red = RED_NONE;
  else if (strcmp(name, "add") == 0)
    *red = RED_ADD;
  else if (strcmp(name, "mul") == 0)
    *red = RED_MUL;
  else if (strcmp(name, "max") == 0 && node->opset >= 18)
    *red = RED_MAX;
  else if (strcmp(name, "min") == 0 && node->opset >= 18)
    *red = RED_MIN;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "reduction '%s' is not valid at opset %lld", name,
                        (long long)node->opset);
  return SC_OK;
}

#define REDUCE_AS(T)                                                           \
  do {                                                                         \
    T a, b;                                                                    \
    memcpy(&a, dst, sizeof a);                                                 \
    memcpy(&b, src, sizeof b);                                                 \
    switch (red) {                                                             \
    case RED_ADD:                                                              \
      a = (T)(a + b);                                                          \
      break;                                                                   \
    case RED_MUL:                                                              \
      a = (T)(a * b);                                                          \
      break;                                                                   \
    case RED_MAX:                                                              \
      a = b > a ? b : a;                                                       \
      break;                                                                   \
    default:                                                                   \
      a = b < a ? b : a;                                                       \
      break;                                                                   \
    }                                                                          \
    memcpy(dst, &a, sizeof a);                                                 \
  } while (0)

/* *dst = reduce(*dst, *src) for one element of the given dtype; RED_NONE
 * copies. Unsigned and bool arithmetic wraps like C's; float16/bfloat16
 * compute in float and round back. */
static void reduce_element(enum sc_dtype dtype, enum reduction red, void *dst,
                           const void *src)
{
  switch (red == RED_NONE ? SC_DTYPE_UNDEFINED : dtype) {
  case SC_DTYPE_UNDEFINED:
    memcpy(dst, src, sc_dtype_size(dtype));
    break;
  case SC_DTYPE_FLOAT:
    REDUCE_AS(float);
    break;
  case SC_DTYPE_DOUBLE:
    REDUCE_AS(double);
    break;
  case SC_DTYPE_INT8:
    REDUCE_AS(int8_t);
    break;
  case SC_DTYPE_UINT8:
    REDUCE_AS(uint8_t);
    break;
  case SC_DTYPE_INT16:
    REDUCE_AS(int16_t);
    break;
  case SC_DTYPE_UINT16:
    REDUCE_AS(uint16_t);
    break;
  case SC_DTYPE_INT32:
    REDUCE_AS(int32_t);
    break;
  case SC_DTYPE_UINT32:
    REDUCE_AS(uint32_t);
    break;
  case SC_DTYPE_INT64:
    REDUCE_AS(int64_t);
    break;
  case SC_DTYPE_UINT64:
    REDUCE_AS(uint64_t);
    break;
  case SC_DTYPE_BOOL: {
    uint8_t a = *(uint8_t *)dst != 0, b = *(const uint8_t *)src != 0;
    /* add and max are "or", mul and min are "and" */
    *(uint8_t *)dst = red == RED_ADD || red == RED_MAX ? (a | b) : (a & b);
    break;
  }
  default: { /* float16, bfloat16 */
    float a = (float)sc_dtype_load(dtype, dst, 0);
    float b = (float)sc_dtype_load(dtype, src, 0);
    float r = red == RED_ADD   ? a + b
              : red == RED_MUL ? a * b
              : red == RED_MAX ? (b > a ? b : a)
                               : (b < a ? b : a);
    sc_dtype_store(dtype, dst, 0, r);
    break;
  }
  }
}

/* --- Scatter, ScatterElements ------------------------------------------- */

static sc_status scatter_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t axis;
  enum reduction red;
  sc_status st = index_prepare(node, 3, 1, err);
  if (!st && node->in[2]->dtype != node->in[0]->dtype)
    st = sc_node_fail(
        node, err, SC_ERR_FORMAT, "updates have dtype %s, the data %s",
        sc_dtype_name(node->in[2]->dtype), sc_dtype_name(node->in[0]->dtype));
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &axis, err);
  if (!st)
    st = reduction_attr(node, &red, err);
  return st;
}

static sc_status scatter_elements_reshape(struct sc_node *node,
                                          struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  int axis;
  sc_status st;
  if (data->rank == 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the data must have rank 1 or more");
  if (!sc_tensor_same_shape(idx, node->in[2]))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "indices and updates have different shapes");
  st = axis_attr(node, data->rank, &axis, err);
  if (!st)
    st = elements_shapes(node, data, idx, axis, err);
  if (!st)
    st = check_known_indices(node, idx, &data->dims[axis], 1, err);
  if (st)
    return st;
  return sc_reshape_like_input0(node, err);
}

static sc_status scatter_elements_run(struct sc_node *node,
                                      struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  const struct sc_tensor *updates = node->in[2];
  size_t elem = sc_dtype_size(data->dtype);
  int64_t strides[SC_MAX_RANK], pos[SC_MAX_RANK] = {0}, i;
  char *out = node->out[0]->data;
  enum reduction red;
  int axis;
  sc_status st = axis_attr(node, data->rank, &axis, err);
  if (!st)
    st = reduction_attr(node, &red, err);
  if (st)
    return st;
  sc_shape_copy_bytes(out, data->data, sc_tensor_size(data),
                      sc_node_threads(node));
  sc_shape_strides(data->rank, data->dims, strides);
  for (i = 0; i < idx->n_elements; i++) {
    int64_t v = load_index(idx, i);
    st = check_index(node, &v, data->dims[axis], "index", err);
    if (st)
      return st;
    reduce_element(
        data->dtype, red,
        out + (size_t)element_offset(pos, strides, data->rank, axis, v) * elem,
        (const char *)updates->data + (size_t)i * elem);
    next_position(pos, idx->dims, idx->rank);
  }
  return SC_OK;
}

/* --- ScatterND ---------------------------------------------------------- */

static sc_status scatter_nd_prepare(struct sc_node *node, struct sc_error *err)
{
  enum reduction red;
  sc_status st = index_prepare(node, 3, 1, err);
  if (!st && node->in[2]->dtype != node->in[0]->dtype)
    st = sc_node_fail(
        node, err, SC_ERR_FORMAT, "updates have dtype %s, the data %s",
        sc_dtype_name(node->in[2]->dtype), sc_dtype_name(node->in[0]->dtype));
  if (!st)
    st = reduction_attr(node, &red, err);
  return st;
}

static sc_status scatter_nd_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  const struct sc_tensor *updates = node->in[2];
  int64_t want[2 * SC_MAX_RANK];
  int b, k, rank = 0, d, same;
  char a[160], s[160];
  sc_status st = nd_layout(node, data, idx, &b, &k, err);
  if (!st)
    st = check_known_indices(node, idx, &data->dims[b], k, err);
  if (st)
    return st;
  for (d = 0; d < idx->rank - 1; d++)
    want[rank++] = idx->dims[d];
  for (d = k; d < data->rank; d++)
    want[rank++] = data->dims[d];
  same = updates->rank == rank;
  for (d = 0; same && d < rank; d++)
    same = updates->dims[d] == want[d];
  if (!same)
    return sc_node_fail(
        node, err, SC_ERR_FORMAT, "updates have shape %s, expected %s",
        sc_shape_format(updates->rank, updates->dims, a, sizeof a),
        sc_shape_format(rank, want, s, sizeof s));
  return sc_reshape_like_input0(node, err);
}

static sc_status scatter_nd_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *data = node->in[0], *idx = node->in[1];
  const struct sc_tensor *updates = node->in[2];
  size_t elem = sc_dtype_size(data->dtype);
  int64_t strides[SC_MAX_RANK], n_tuples, slice, t, e;
  char *out = node->out[0]->data;
  enum reduction red;
  int b, k;
  sc_status st = nd_layout(node, data, idx, &b, &k, err);
  if (!st)
    st = reduction_attr(node, &red, err);
  if (st)
    return st;
  sc_shape_copy_bytes(out, data->data, sc_tensor_size(data),
                      sc_node_threads(node));
  sc_shape_strides(data->rank, data->dims, strides);
  n_tuples = idx->n_elements / k;
  slice = span(data->dims, k, data->rank);
  for (t = 0; t < n_tuples; t++) {
    int64_t offset;
    const char *src = (const char *)updates->data + (size_t)(t * slice) * elem;
    st = nd_tuple_offset(node, data, idx, 0, k, t, strides, &offset, err);
    if (st)
      return st;
    if (red == RED_NONE)
      memcpy(out + (size_t)offset * elem, src, (size_t)slice * elem);
    else
      for (e = 0; e < slice; e++)
        reduce_element(data->dtype, red, out + (size_t)(offset + e) * elem,
                       src + (size_t)e * elem);
  }
  return SC_OK;
}

/* --- Compress ----------------------------------------------------------- */

static sc_status compress_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype bool_type[] = {SC_DTYPE_BOOL};
  int64_t axis;
  sc_status st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!st)
    st = require_inputs(node, 2, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (!st)
    st = sc_check_dtype(node, 1, bool_type, 1, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &axis, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* The axis, or -1 when absent (the input is flattened). */
static sc_status compress_axis(const struct sc_node *node, int *axis,
                               struct sc_error *err)
{
  *axis = -1;
  if (!sc_node_attr(node, "axis"))
    return SC_OK;
  return axis_attr(node, node->in[0]->rank, axis, err);
}

static sc_status compress_reshape(struct sc_node *node, struct sc_error *err)
{
  int axis;
  sc_status st = compress_axis(node, &axis, err);
  if (st)
    return st;
  if (node->in[1]->rank != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the condition must be 1-D, it has rank %d",
                        node->in[1]->rank);
  return SC_OK; /* the output's shape depends on the condition's values */
}

static sc_status compress_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0], *cond = node->in[1];
  const uint8_t *c = cond->data;
  size_t elem = sc_dtype_size(in->dtype);
  int64_t dims[SC_MAX_RANK], outer, inner, dim, kept = 0, i, o, slot;
  int axis, rank;
  sc_status st = compress_axis(node, &axis, err);
  if (st)
    return st;
  if (axis < 0) {
    outer = inner = 1;
    dim = in->n_elements;
    rank = 1;
  } else {
    outer = span(in->dims, 0, axis);
    inner = span(in->dims, axis + 1, in->rank);
    dim = in->dims[axis];
    rank = in->rank;
    memcpy(dims, in->dims, sizeof dims);
  }
  for (i = 0; i < cond->n_elements; i++)
    if (c[i]) {
      if (i >= dim)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "the condition selects index %lld of an axis of "
                            "size %lld",
                            (long long)i, (long long)dim);
      kept++;
    }
  dims[axis < 0 ? 0 : axis] = kept;
  st = sc_node_alloc_output(node, 0, rank, dims, err);
  if (st)
    return st;
  for (o = 0; o < outer; o++)
    for (i = 0, slot = 0; i < cond->n_elements; i++)
      if (c[i])
        memcpy((char *)node->out[0]->data +
                   (size_t)((o * kept + slot++) * inner) * elem,
               (const char *)in->data + (size_t)((o * dim + i) * inner) * elem,
               (size_t)inner * elem);
  return SC_OK;
}

/* --- OneHot --------------------------------------------------------------- */

static sc_status one_hot_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t axis;
  sc_status st = sc_check_arity(node, 3, 3, 1, 1, err);
  if (!st)
    st = require_inputs(node, 3, err);
  if (!st)
    st = sc_shape_check_storable(node, 2, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", -1, &axis, err);
  if (!st && (sc_dtype_size(node->in[0]->dtype) == 0 ||
              sc_dtype_size(node->in[1]->dtype) == 0 ||
              node->in[0]->dtype == SC_DTYPE_BOOL ||
              node->in[1]->dtype == SC_DTYPE_BOOL))
    st = sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                      "indices and depth must be numeric");
  if (st)
    return st;
  node->out[0]->dtype = node->in[2]->dtype;
  return SC_OK;
}

/* depth (known data), the normalised axis and the output shape. */
static sc_status one_hot_layout(const struct sc_node *node, int64_t *depth,
                                int *axis, int64_t *dims, struct sc_error *err)
{
  const struct sc_tensor *idx = node->in[0], *d = node->in[1];
  int64_t a;
  double v;
  int r, k = 0;
  sc_status st;
  if (d->n_elements != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "depth must hold one value, it has %lld",
                        (long long)d->n_elements);
  if (node->in[2]->n_elements != 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "values must hold [off, on], it has %lld elements",
                        (long long)node->in[2]->n_elements);
  v = sc_dtype_load(d->dtype, d->data, 0);
  if (!(v >= 1.0 && v <= (double)SC_MAX_TENSOR_SIZE))
    return sc_node_fail(node, err, SC_ERR_FORMAT, "invalid depth %g", v);
  *depth = sc_dtype_load_i64(d->dtype, d->data, 0);
  if (idx->rank + 1 > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "the output rank is above the supported %d",
                        SC_MAX_RANK);
  st = sc_node_attr_int(node, "axis", -1, &a, err);
  if (!st)
    st = sc_normalize_axis(node, a, idx->rank, 1, axis, err);
  if (st)
    return st;
  for (r = 0; r <= idx->rank; r++)
    dims[r] = r == *axis ? *depth : idx->dims[k++];
  return SC_OK;
}

static sc_status one_hot_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t depth, dims[SC_MAX_RANK];
  int axis;
  sc_status st;
  if (!node->in[1]->data)
    return sc_node_defer(node);
  st = one_hot_layout(node, &depth, &axis, dims, err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, node->in[0]->rank + 1, dims, err);
}

static sc_status one_hot_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *idx = node->in[0], *values = node->in[2];
  struct sc_tensor *out = node->out[0];
  size_t elem = sc_dtype_size(out->dtype);
  struct sc_shape_copy fill;
  int64_t depth = 0, dims[SC_MAX_RANK], inner, i;
  int axis;
  sc_status st = one_hot_layout(node, &depth, &axis, dims, err);
  if (st)
    return st;
  sc_shape_copy_init(&fill, 1, &out->n_elements, elem, values->data, out->data);
  fill.src_strides[0] = 0;
  sc_shape_copy_run(&fill, sc_node_threads(node));
  inner = span(idx->dims, axis, idx->rank);
  for (i = 0; i < idx->n_elements; i++) {
    int64_t v = sc_dtype_load_i64(idx->dtype, idx->data, i);
    int64_t o = i / inner, j = i % inner;
    if (v < 0)
      v += depth;
    if (v < 0 || v >= depth)
      continue; /* out of range: all "off" */
    memcpy((char *)out->data + (size_t)((o * depth + v) * inner + j) * elem,
           (const char *)values->data + elem, elem);
  }
  return SC_OK;
}

/* --- NonZero ----------------------------------------------------------------
 */

static sc_status non_zero_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = require_inputs(node, 1, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (st)
    return st;
  node->out[0]->dtype = SC_DTYPE_INT64;
  return SC_OK;
}

static sc_status no_static_shape(struct sc_node *node, struct sc_error *err)
{
  return SC_OK; /* the output's shape depends on the input's values */
}

/* 1 when element i is not zero (floats by value: -0 is zero, NaN is not). */
static int is_non_zero(const struct sc_tensor *t, int64_t i, size_t elem)
{
  const unsigned char *p = (const unsigned char *)t->data + (size_t)i * elem;
  size_t b;
  if (sc_dtype_is_float(t->dtype))
    return sc_dtype_load(t->dtype, t->data, i) != 0.0;
  for (b = 0; b < elem; b++)
    if (p[b])
      return 1;
  return 0;
}

static sc_status non_zero_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  size_t elem = sc_dtype_size(in->dtype);
  int rank = in->rank > 0 ? in->rank : 1; /* a scalar reads as [1] */
  int64_t dims[2], pos[SC_MAX_RANK] = {0}, count = 0, i, slot = 0;
  int64_t *y;
  int d;
  sc_status st;
  for (i = 0; i < in->n_elements; i++)
    count += is_non_zero(in, i, elem);
  dims[0] = rank;
  dims[1] = count;
  st = sc_node_alloc_output(node, 0, 2, dims, err);
  if (st)
    return st;
  y = node->out[0]->data;
  for (i = 0; i < in->n_elements; i++) {
    if (is_non_zero(in, i, elem)) {
      for (d = 0; d < rank; d++)
        y[d * count + slot] = in->rank > 0 ? pos[d] : 0;
      slot++;
    }
    next_position(pos, in->dims, in->rank);
  }
  return SC_OK;
}

/* --- Unique --------------------------------------------------------------- */

static sc_status unique_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t v;
  int i;
  sc_status st = sc_check_arity(node, 1, 1, 1, 4, err);
  if (!st && !node->out[0])
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "output 0 is missing");
  if (!st)
    st = require_inputs(node, 1, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (!st)
    st = sc_node_attr_int(node, "sorted", 1, &v, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &v, err);
  if (st)
    return st;
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i])
      node->out[i]->dtype = i == 0 ? node->in[0]->dtype : SC_DTYPE_INT64;
  return SC_OK;
}

static sc_status unique_reshape(struct sc_node *node, struct sc_error *err)
{
  int axis;
  if (sc_node_attr(node, "axis"))
    return axis_attr(node, node->in[0]->rank, &axis, err);
  return SC_OK; /* the outputs' shapes depend on the input's values */
}

/* Slices compared by Unique: slice s is the elements (o, s, i) of the
 * input viewed as [outer, n, inner], ordered o-major. */
struct slices {
  const struct sc_tensor *t;
  int64_t n, outer, inner;
  size_t elem;
};

/* Three-way comparison of two elements by value (NaN above everything and
 * equal to NaN). */
static int compare_values(const struct sc_tensor *t, int64_t a, int64_t b)
{
  if (sc_dtype_is_float(t->dtype)) {
    double x = sc_dtype_load(t->dtype, t->data, a);
    double y = sc_dtype_load(t->dtype, t->data, b);
    if (isnan(x) || isnan(y))
      return isnan(x) - isnan(y);
    return (x > y) - (x < y);
  }
  if (t->dtype == SC_DTYPE_UINT64) {
    uint64_t x = ((const uint64_t *)t->data)[a];
    uint64_t y = ((const uint64_t *)t->data)[b];
    return (x > y) - (x < y);
  }
  {
    int64_t x = sc_dtype_load_i64(t->dtype, t->data, a);
    int64_t y = sc_dtype_load_i64(t->dtype, t->data, b);
    return (x > y) - (x < y);
  }
}

/* Lexicographic comparison of slices a and b. */
static int compare_slices(const struct slices *s, int64_t a, int64_t b)
{
  int64_t o, i;
  for (o = 0; o < s->outer; o++)
    for (i = 0; i < s->inner; i++) {
      int64_t base = o * s->n * s->inner + i;
      int c = compare_values(s->t, base + a * s->inner, base + b * s->inner);
      if (c)
        return c;
    }
  return 0;
}

/* Stable merge sort of order[0..n) by slice; tmp has n entries. */
static void sort_slices(const struct slices *s, int64_t *order, int64_t *tmp,
                        int64_t n)
{
  int64_t width, lo;
  for (width = 1; width < n; width *= 2) {
    for (lo = 0; lo < n; lo += 2 * width) {
      int64_t mid = lo + width < n ? lo + width : n;
      int64_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      int64_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] =
            compare_slices(s, order[j], order[i]) < 0 ? order[j++] : order[i++];
      while (i < mid)
        tmp[k++] = order[i++];
      while (j < hi)
        tmp[k++] = order[j++];
    }
    memcpy(order, tmp, (size_t)n * sizeof *order);
  }
}

/* Writes Unique's outputs from the groups: first[g] is the first
 * occurrence of group g (in output order), group_of[s] the group of slice
 * s, counts[g] its size. */
static sc_status unique_outputs(struct sc_node *node, const struct slices *s,
                                int axis, int64_t n_groups,
                                const int64_t *first, const int64_t *group_of,
                                const int64_t *counts, struct sc_error *err)
{
  const struct sc_tensor *in = s->t;
  int64_t dims[SC_MAX_RANK], g;
  int rank = 1;
  sc_status st;
  if (axis >= 0) {
    memcpy(dims, in->dims, sizeof dims);
    dims[axis] = n_groups;
    rank = in->rank;
  } else {
    dims[0] = n_groups;
  }
  st = sc_node_alloc_output(node, 0, rank, dims, err);
  for (g = 0; !st && g < n_groups; g++) {
    struct sc_shape_copy copy;
    int64_t view[2];
    view[0] = s->outer;
    view[1] = s->inner;
    sc_shape_copy_init(
        &copy, 2, view, s->elem,
        (const char *)in->data + (size_t)(first[g] * s->inner) * s->elem,
        (char *)node->out[0]->data + (size_t)(g * s->inner) * s->elem);
    copy.src_strides[0] = s->n * s->inner;
    copy.dst_strides[0] = n_groups * s->inner;
    sc_shape_copy_run(&copy, NULL);
  }
  if (!st && node->n_outputs > 1 && node->out[1]) {
    st = sc_node_alloc_output(node, 1, 1, &n_groups, err);
    if (!st)
      memcpy(node->out[1]->data, first, (size_t)n_groups * sizeof *first);
  }
  if (!st && node->n_outputs > 2 && node->out[2]) {
    st = sc_node_alloc_output(node, 2, 1, &s->n, err);
    if (!st)
      memcpy(node->out[2]->data, group_of, (size_t)s->n * sizeof *group_of);
  }
  if (!st && node->n_outputs > 3 && node->out[3]) {
    st = sc_node_alloc_output(node, 3, 1, &n_groups, err);
    if (!st)
      memcpy(node->out[3]->data, counts, (size_t)n_groups * sizeof *counts);
  }
  return st;
}

/* Groups equal slices: sorts them (stable, so each group starts with its
 * first occurrence), then orders the groups by value (sorted) or by first
 * occurrence. */
static sc_status unique_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct slices s;
  int64_t *order, *tmp, *first, *group_of, *counts, *rank_of, sorted = 1;
  int64_t n_groups = 0, i, g;
  int axis = -1;
  sc_status st = SC_OK;

  sc_node_attr_int(node, "sorted", 1, &sorted, NULL);
  if (sc_node_attr(node, "axis"))
    axis_attr(node, in->rank, &axis, NULL);
  s.t = in;
  s.elem = sc_dtype_size(in->dtype);
  s.outer = axis >= 0 ? span(in->dims, 0, axis) : 1;
  s.n = axis >= 0 ? in->dims[axis] : in->n_elements;
  s.inner = axis >= 0 ? span(in->dims, axis + 1, in->rank) : 1;
  order = malloc(((size_t)s.n + 1) * sizeof *order);
  tmp = malloc(((size_t)s.n + 1) * sizeof *tmp);
  first = malloc(((size_t)s.n + 1) * sizeof *first);
  group_of = malloc(((size_t)s.n + 1) * sizeof *group_of);
  counts = calloc((size_t)s.n + 1, sizeof *counts);
  rank_of = malloc(((size_t)s.n + 1) * sizeof *rank_of);
  if (!order || !tmp || !first || !group_of || !counts || !rank_of) {
    st = sc_fail_nomem(err, "Unique");
    goto cleanup;
  }
  for (i = 0; i < s.n; i++)
    order[i] = i;
  sort_slices(&s, order, tmp, s.n);
  for (i = 0; i < s.n; i++) {
    if (i == 0 || compare_slices(&s, order[i], first[n_groups - 1]) != 0)
      first[n_groups++] = order[i];
    group_of[order[i]] = n_groups - 1;
    counts[n_groups - 1]++;
  }
  if (!sorted) {
    /* renumber the groups in order of first occurrence: tmp maps a slice
     * to the group it starts (or -1), order receives the new counts */
    int64_t u = 0;
    for (i = 0; i < s.n; i++)
      tmp[i] = -1;
    for (g = 0; g < n_groups; g++)
      tmp[first[g]] = g;
    for (i = 0; i < s.n; i++)
      if (tmp[i] >= 0) {
        rank_of[tmp[i]] = u;
        first[u] = i;
        order[u] = counts[tmp[i]];
        u++;
      }
    memcpy(counts, order, (size_t)n_groups * sizeof *counts);
    for (i = 0; i < s.n; i++)
      group_of[i] = rank_of[group_of[i]];
  }
  st = unique_outputs(node, &s, axis, n_groups, first, group_of, counts, err);
cleanup:
  free(order);
  free(tmp);
  free(first);
  free(group_of);
  free(counts);
  free(rank_of);
  return st;
}

/* --- TfIdfVectorizer (integer inputs) ---------------------------------- */

enum tfidf_mode { TFIDF_TF, TFIDF_IDF, TFIDF_TFIDF };

struct tfidf_state {
  enum tfidf_mode mode;
  int64_t min_gram, max_gram, max_skip;
  int64_t n_levels; /* entries of ngram_counts */
  const int64_t *level_start;
  int64_t n_pool;
  const int64_t *pool;
  int64_t n_ngrams; /* entries of ngram_indexes */
  const int64_t *ngram_index;
  const float *weights; /* NULL: all ones */
  int64_t n_outputs;    /* max(ngram_indexes) + 1 */
};

static sc_status tfidf_attrs(struct sc_node *node, struct tfidf_state *s,
                             struct sc_error *err)
{
  const char *mode;
  int64_t n_weights = -1, k, expected = 0;
  sc_status st = sc_node_attr_string(node, "mode", "", &mode, err);
  if (!st)
    st = sc_node_attr_int(node, "min_gram_length", 0, &s->min_gram, err);
  if (!st)
    st = sc_node_attr_int(node, "max_gram_length", 0, &s->max_gram, err);
  if (!st)
    st = sc_node_attr_int(node, "max_skip_count", 0, &s->max_skip, err);
  if (!st)
    st = sc_node_attr_ints(node, "ngram_counts", &s->n_levels, &s->level_start,
                           err);
  if (!st)
    st = sc_node_attr_ints(node, "ngram_indexes", &s->n_ngrams, &s->ngram_index,
                           err);
  if (!st)
    st = sc_node_attr_ints(node, "pool_int64s", &s->n_pool, &s->pool, err);
  if (!st)
    st = sc_node_attr_floats(node, "weights", &n_weights, &s->weights, err);
  if (st)
    return st;
  if (sc_node_attr(node, "pool_strings"))
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "string pools are not supported");
  if (strcmp(mode, "TF") == 0)
    s->mode = TFIDF_TF;
  else if (strcmp(mode, "IDF") == 0)
    s->mode = TFIDF_IDF;
  else if (strcmp(mode, "TFIDF") == 0)
    s->mode = TFIDF_TFIDF;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "mode '%s' is not TF, IDF or TFIDF", mode);
  if (s->min_gram < 1 || s->max_gram < s->min_gram ||
      s->max_gram > s->n_levels || s->max_skip < 0 || s->n_pool < 0 ||
      s->n_ngrams < 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "inconsistent n-gram attributes (min %lld, max %lld, "
                        "skip %lld, %lld levels)",
                        (long long)s->min_gram, (long long)s->max_gram,
                        (long long)s->max_skip, (long long)s->n_levels);
  /* each level starts inside the pool, in order, holds whole n-grams, and
   * there is one output coordinate per n-gram */
  for (k = 0; k < s->n_levels; k++) {
    int64_t start = s->level_start[k];
    int64_t end = k + 1 < s->n_levels ? s->level_start[k + 1] : s->n_pool;
    if (start < 0 || end < start || end > s->n_pool || (end - start) % (k + 1))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "ngram_counts entry %lld is inconsistent with the "
                          "pool",
                          (long long)k);
    expected += (end - start) / (k + 1);
  }
  if (expected != s->n_ngrams || (n_weights >= 0 && n_weights != s->n_ngrams))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the pool holds %lld n-grams but ngram_indexes / "
                        "weights have %lld / %lld entries",
                        (long long)expected, (long long)s->n_ngrams,
                        (long long)n_weights);
  s->n_outputs = 0;
  for (k = 0; k < s->n_ngrams; k++) {
    if (s->ngram_index[k] < 0 || s->ngram_index[k] >= (1 << 30))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "ngram_indexes entry %lld is invalid",
                          (long long)s->ngram_index[k]);
    if (s->ngram_index[k] + 1 > s->n_outputs)
      s->n_outputs = s->ngram_index[k] + 1;
  }
  return SC_OK;
}

static sc_status tfidf_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_INT32, SC_DTYPE_INT64};
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = require_inputs(node, 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, types, 2, err);
  if (!st)
    st = sc_shape_state_alloc(node, sizeof(struct tfidf_state), err);
  if (!st)
    st = tfidf_attrs(node, node->state, err);
  if (st)
    return st;
  node->out[0]->dtype = SC_DTYPE_FLOAT;
  return SC_OK;
}

static sc_status tfidf_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct tfidf_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  int64_t dims[2];
  if (in->rank == 1) {
    dims[0] = s->n_outputs;
    return sc_shape_set_output(node, 0, 1, dims, err);
  }
  if (in->rank != 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must be 1-D or 2-D, it has rank %d",
                        in->rank);
  dims[0] = in->dims[0];
  dims[1] = s->n_outputs;
  return sc_shape_set_output(node, 0, 2, dims, err);
}

/* Index (into ngram_indexes) of the n-gram of length n whose tokens are
 * row[at], row[at + stride], ...; -1 when not in the pool. */
static int64_t tfidf_find(const struct tfidf_state *s,
                          const struct sc_tensor *in, int64_t row_base,
                          int64_t at, int64_t stride, int64_t n)
{
  int64_t start = s->level_start[n - 1];
  int64_t end = n < s->n_levels ? s->level_start[n] : s->n_pool;
  int64_t first_ngram = 0, k, g, j;
  for (k = 0; k < n - 1; k++) { /* n-grams of shorter levels */
    int64_t ks = s->level_start[k];
    int64_t ke = k + 1 < s->n_levels ? s->level_start[k + 1] : s->n_pool;
    first_ngram += (ke - ks) / (k + 1);
  }
  for (g = 0; start + g * n < end; g++) {
    for (j = 0; j < n; j++)
      if (s->pool[start + g * n + j] !=
          load_index(in, row_base + at + j * stride))
        break;
    if (j == n)
      return first_ngram + g;
  }
  return -1;
}

/* Counts every n-gram (min..max length, skips 0..max_skip; 1-grams once)
 * of each row, then weights the counts per mode. */
static sc_status tfidf_run(struct sc_node *node, struct sc_error *err)
{
  const struct tfidf_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  float *y = node->out[0]->data;
  int64_t n_rows = in->rank == 2 ? in->dims[0] : 1;
  int64_t len = in->dims[in->rank - 1], r, at, skip, n, k;
  memset(y, 0, sc_tensor_size(node->out[0]));
  for (r = 0; r < n_rows; r++) {
    float *row = y + r * s->n_outputs;
    for (at = 0; at < len; at++)
      for (n = s->min_gram; n <= s->max_gram; n++)
        for (skip = 0; skip <= (n == 1 ? 0 : s->max_skip); skip++) {
          int64_t found;
          if (at + (n - 1) * (skip + 1) >= len)
            break;
          found = tfidf_find(s, in, r * len, at, skip + 1, n);
          if (found >= 0)
            row[s->ngram_index[found]] += 1.0f;
        }
    for (k = 0; k < s->n_ngrams; k++) {
      float *v = &row[s->ngram_index[k]];
      float w = s->weights ? s->weights[k] : 1.0f;
      if (s->mode == TFIDF_IDF)
        *v = *v > 0.0f ? w : 0.0f;
      else if (s->mode == TFIDF_TFIDF)
        *v *= w;
    }
  }
  return SC_OK;
}

/* --- table ------------------------------------------------------------------
 */

const struct sc_op sc_ops_shape_index[] = {
    {"", "Gather", 1, L, gather_prepare, gather_reshape, gather_run, NULL, 0},
    {"", "GatherElements", 11, L, gather_prepare, gather_elements_reshape,
     gather_elements_run, NULL, 0},
    {"", "GatherND", 11, 11, gather_nd_prepare, gather_nd_reshape,
     gather_nd_run, NULL, 0},
    {"", "GatherND", 12, L, gather_nd_prepare, gather_nd_reshape, gather_nd_run,
     NULL, 0},
    {"", "Scatter", 9, 10, scatter_prepare, scatter_elements_reshape,
     scatter_elements_run, NULL, 0},
    {"", "ScatterElements", 11, 15, scatter_prepare, scatter_elements_reshape,
     scatter_elements_run, NULL, 0},
    {"", "ScatterElements", 16, 17, scatter_prepare, scatter_elements_reshape,
     scatter_elements_run, NULL, 0},
    {"", "ScatterElements", 18, L, scatter_prepare, scatter_elements_reshape,
     scatter_elements_run, NULL, 0},
    {"", "ScatterND", 11, 15, scatter_nd_prepare, scatter_nd_reshape,
     scatter_nd_run, NULL, 0},
    {"", "ScatterND", 16, 17, scatter_nd_prepare, scatter_nd_reshape,
     scatter_nd_run, NULL, 0},
    {"", "ScatterND", 18, L, scatter_nd_prepare, scatter_nd_reshape,
     scatter_nd_run, NULL, 0},
    {"", "Compress", 9, L, compress_prepare, compress_reshape, compress_run,
     NULL, 0},
    {"", "OneHot", 9, L, one_hot_prepare, one_hot_reshape, one_hot_run, NULL,
     0},
    {"", "NonZero", 9, L, non_zero_prepare, no_static_shape, non_zero_run, NULL,
     0},
    {"", "Unique", 11, L, unique_prepare, unique_reshape, unique_run, NULL, 0},
    {"", "TfIdfVectorizer", 9, L, tfidf_prepare, tfidf_reshape, tfidf_run,
     sc_shape_state_free, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
