/* Operator family: layout — operators that move bytes into a new layout
 * (Transpose, DepthToSpace, SpaceToDepth, Concat, Split, Slice, Expand,
 * Tile, Pad, ReverseSequence). Every copy goes through the strided copy
 * engine of shape_common.h (memcpy of contiguous inner blocks, tiled 2-D
 * transposes, threads over outer dimensions for large tensors). */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/ops/shape_common.h"

#define L SC_OPSET_LATEST

/* Arity, a storable input 0, output dtypes = input 0's. */
static sc_status layout_prepare(struct sc_node *node, int min_in, int max_in,
                                int min_out, int max_out, struct sc_error *err)
{
  int i;
  sc_status st = sc_check_arity(node, min_in, max_in, min_out, max_out, err);
  if (!st)
    st = sc_shape_check_storable(node, 0, err);
  if (st)
    return st;
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i])
      node->out[i]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* a * b into *out, failing naming the node on overflow. */
static sc_status checked_mul(const struct sc_node *node, int64_t a, int64_t b,
                             int64_t *out, struct sc_error *err)
{
  if (__builtin_mul_overflow(a, b, out) || *out > (int64_t)SC_MAX_TENSOR_SIZE)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the output shape is too large (hostile size)");
  return SC_OK;
}

/* --- Transpose --------------------------------------------------------- */

static sc_status transpose_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t n;
  const int64_t *perm;
  sc_status st = layout_prepare(node, 1, 1, 1, 1, err);
  if (!st)
    st = sc_node_attr_ints(node, "perm", &n, &perm, err);
  return st;
}

/* The permutation for the input's rank: the `perm` attribute, checked, or
 * the reversed dims. */
static sc_status transpose_perm(const struct sc_node *node, int *perm,
                                struct sc_error *err)
{
  int rank = node->in[0]->rank, i, j;
  int64_t n;
  const int64_t *attr;
  sc_status st = sc_node_attr_ints(node, "perm", &n, &attr, err);
  if (st)
    return st;
  if (n < 0) {
    for (i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
    return SC_OK;
  }
  if (n != rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "perm has %lld entries for an input of rank %d",
                        (long long)n, rank);
  for (i = 0; i < rank; i++) {
    if (attr[i] < 0 || attr[i] >= rank)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "perm entry %lld is out of range for rank %d",
                          (long long)attr[i], rank);
    perm[i] = (int)attr[i];
    for (j = 0; j < i; j++)
      if (perm[j] == perm[i])
        return sc_node_fail(node, err, SC_ERR_FORMAT, "perm repeats axis %d",
                            perm[i]);
  }
  return SC_OK;
}

static sc_status transpose_reshape(struct sc_node *node, struct sc_error *err)
{
  int perm[SC_MAX_RANK], i;
  int64_t dims[SC_MAX_RANK];
  sc_status st = transpose_perm(node, perm, err);
  if (st)
    return st;
  for (i = 0; i < node->in[0]->rank; i++)
    dims[i] = node->in[0]->dims[perm[i]];
  return sc_shape_set_output(node, 0, node->in[0]->rank, dims, err);
}

static sc_status transpose_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  struct sc_shape_copy copy;
  int64_t in_strides[SC_MAX_RANK];
  int perm[SC_MAX_RANK], i;
  sc_status st = transpose_perm(node, perm, err);
  if (st)
    return st;
  sc_shape_strides(in->rank, in->dims, in_strides);
  sc_shape_copy_init(&copy, out->rank, out->dims, sc_dtype_size(in->dtype),
                     in->data, out->data);
  for (i = 0; i < out->rank; i++)
    copy.src_strides[i] = in_strides[perm[i]];
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

/* --- DepthToSpace / SpaceToDepth ----------------------------------------- */

/* blocksize (required, positive) and, for DepthToSpace from opset 11, mode
 * ("DCR" default or "CRD"): *crd = 1 for CRD. */
static sc_status block_attrs(const struct sc_node *node, int64_t *blocksize,
                             int *crd, struct sc_error *err)
{
  const char *mode = "DCR";
  sc_status st;
  if (!sc_node_attr(node, "blocksize"))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the 'blocksize' attribute is missing");
  st = sc_node_attr_int(node, "blocksize", 0, blocksize, err);
  if (st)
    return st;
  if (*blocksize <= 0 || *blocksize > (1 << 20))
    return sc_node_fail(node, err, SC_ERR_FORMAT, "invalid blocksize %lld",
                        (long long)*blocksize);
  *crd = 0;
  if (strcmp(node->op_type, "DepthToSpace") == 0 && node->opset >= 11) {
    st = sc_node_attr_string(node, "mode", "DCR", &mode, err);
    if (st)
      return st;
    if (strcmp(mode, "CRD") == 0)
      *crd = 1;
    else if (strcmp(mode, "DCR") != 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "mode '%s' is not DCR or CRD", mode);
  }
  return SC_OK;
}

static sc_status block_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t b;
  int crd;
  sc_status st = layout_prepare(node, 1, 1, 1, 1, err);
  if (!st)
    st = block_attrs(node, &b, &crd, err);
  return st;
}

static sc_status depth_to_space_reshape(struct sc_node *node,
                                        struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t b, dims[4];
  int crd;
  sc_status st = block_attrs(node, &b, &crd, err);
  if (st)
    return st;
  if (in->rank != 4)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must have rank 4, it has rank %d", in->rank);
  if (in->dims[1] % (b * b) != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "%lld channels are not divisible by blocksize^2 = %lld",
                        (long long)in->dims[1], (long long)(b * b));
  dims[0] = in->dims[0];
  dims[1] = in->dims[1] / (b * b);
  st = checked_mul(node, in->dims[2], b, &dims[2], err);
  if (!st)
    st = checked_mul(node, in->dims[3], b, &dims[3], err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, 4, dims, err);
}

/* The output, viewed as [N, C', H, b, W, b], reads the input viewed as
 * [N, b, b, C', H, W] (DCR) or [N, C', b, b, H, W] (CRD). */
static sc_status depth_to_space_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_shape_copy copy;
  int64_t b, n = in->dims[0], c = in->dims[1], h = in->dims[2];
  int64_t w = in->dims[3], cb, hw;
  int crd;
  block_attrs(node, &b, &crd, err);
  cb = c / (b * b);
  hw = h * w;
  {
    int64_t dims[6] = {n, cb, h, b, w, b};
    sc_shape_copy_init(&copy, 6, dims, sc_dtype_size(in->dtype), in->data,
                       node->out[0]->data);
  }
  copy.src_strides[0] = c * hw;
  copy.src_strides[2] = w;
  copy.src_strides[4] = 1;
  if (crd) {
    copy.src_strides[1] = b * b * hw;
    copy.src_strides[3] = b * hw;
    copy.src_strides[5] = hw;
  } else {
    copy.src_strides[1] = hw;
    copy.src_strides[3] = b * cb * hw;
    copy.src_strides[5] = cb * hw;
  }
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

static sc_status space_to_depth_reshape(struct sc_node *node,
                                        struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t b, dims[4];
  int crd;
  sc_status st = block_attrs(node, &b, &crd, err);
  if (st)
    return st;
  if (in->rank != 4)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must have rank 4, it has rank %d", in->rank);
  if (in->dims[2] % b != 0 || in->dims[3] % b != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "height %lld and width %lld must be divisible by "
                        "blocksize %lld",
                        (long long)in->dims[2], (long long)in->dims[3],
                        (long long)b);
  dims[0] = in->dims[0];
  st = checked_mul(node, in->dims[1], b * b, &dims[1], err);
  if (st)
    return st;
  dims[2] = in->dims[2] / b;
  dims[3] = in->dims[3] / b;
  return sc_shape_set_output(node, 0, 4, dims, err);
}

/* The output, viewed as [N, b, b, C, H', W'], reads the input viewed as
 * [N, C, H', b, W', b]. */
static sc_status space_to_depth_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_shape_copy copy;
  int64_t b, n = in->dims[0], c = in->dims[1], h = in->dims[2];
  int64_t w = in->dims[3];
  int crd;
  block_attrs(node, &b, &crd, err);
  {
    int64_t dims[6] = {n, b, b, c, h / b, w / b};
    sc_shape_copy_init(&copy, 6, dims, sc_dtype_size(in->dtype), in->data,
                       node->out[0]->data);
  }
  copy.src_strides[0] = c * h * w;
  copy.src_strides[1] = w;
  copy.src_strides[2] = 1;
  copy.src_strides[3] = h * w;
  copy.src_strides[4] = b * w;
  copy.src_strides[5] = b;
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

/* --- Concat ------------------------------------------------------------- */

/* The concatenation axis for inputs of rank `rank` (default 1 before
 * opset 4, required after: checked by prepare). */
static sc_status concat_axis(const struct sc_node *node, int rank, int *axis,
                             struct sc_error *err)
{
  int64_t a;
  sc_status st = sc_node_attr_int(node, "axis", 1, &a, err);
  if (st)
    return st;
  return sc_normalize_axis(node, a, rank, 0, axis, err);
}

static sc_status concat_prepare(struct sc_node *node, struct sc_error *err)
{
  int64_t axis;
  int i;
  sc_status st = layout_prepare(node, 1, INT32_MAX, 1, 1, err);
  if (st)
    return st;
  for (i = 0; i < node->n_inputs; i++) {
    if (!node->in[i])
      return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is empty", i);
    if (node->in[i]->dtype != node->in[0]->dtype)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d ('%s') has dtype %s, input 0 has %s", i,
                          sc_node_input_name(node, i),
                          sc_dtype_name(node->in[i]->dtype),
                          sc_dtype_name(node->in[0]->dtype));
  }
  if (node->opset >= 4 && !sc_node_attr(node, "axis"))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the 'axis' attribute is missing");
  return sc_node_attr_int(node, "axis", 1, &axis, err);
}

static sc_status concat_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *first = node->in[0];
  int64_t dims[SC_MAX_RANK], total = 0;
  int i, d, axis;
  char a[160], b[160];
  sc_status st;
  if (first->rank == 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "scalars cannot be concatenated");
  st = concat_axis(node, first->rank, &axis, err);
  if (st)
    return st;
  for (i = 0; i < node->n_inputs; i++) {
    const struct sc_tensor *t = node->in[i];
    int same = t->rank == first->rank;
    for (d = 0; same && d < t->rank; d++)
      same = d == axis || t->dims[d] == first->dims[d];
    if (!same)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT,
          "input %d ('%s') has shape %s, which does not fit "
          "input 0's %s along axis %d",
          i, sc_node_input_name(node, i),
          sc_shape_format(t->rank, t->dims, a, sizeof a),
          sc_shape_format(first->rank, first->dims, b, sizeof b), axis);
    total += t->dims[axis];
    if (total > (int64_t)SC_MAX_TENSOR_SIZE)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the output is too large (hostile size)");
  }
  memcpy(dims, first->dims, sizeof dims);
  dims[axis] = total;
  return sc_shape_set_output(node, 0, first->rank, dims, err);
}

static sc_status concat_run(struct sc_node *node, struct sc_error *err)
{
  struct sc_tensor *out = node->out[0];
  size_t elem = sc_dtype_size(out->dtype);
  int64_t out_strides[SC_MAX_RANK], offset = 0;
  int i, axis;
  concat_axis(node, out->rank, &axis, err);
  sc_shape_strides(out->rank, out->dims, out_strides);
  for (i = 0; i < node->n_inputs; i++) {
    const struct sc_tensor *t = node->in[i];
    struct sc_shape_copy copy;
    sc_shape_copy_init(&copy, t->rank, t->dims, elem, t->data,
                       (char *)out->data +
                           (size_t)(offset * out_strides[axis]) * elem);
    memcpy(copy.dst_strides, out_strides, sizeof out_strides);
    sc_shape_copy_run(&copy, sc_node_threads(node));
    offset += t->dims[axis];
  }
  return SC_OK;
}

/* --- Split --------------------------------------------------------------- */

/* Sizes of the parts along the axis, recomputed by reshape. */
struct split_state {
  int axis;
  int64_t *sizes; /* n_outputs entries */
};

static void split_release(struct sc_node *node)
{
  struct split_state *s = node->state;
  if (s)
    free(s->sizes);
  sc_shape_state_free(node);
}

static sc_status split_prepare(struct sc_node *node, struct sc_error *err)
{
  struct split_state *s;
  int64_t axis, n_outputs;
  int max_in = node->opset == 1 || node->opset >= 13 ? 2 : 1;
  sc_status st = layout_prepare(node, 1, max_in, 1, INT32_MAX, err);
  if (!st && sc_shape_has_input(node, 1))
    st = node->opset == 1 ? SC_OK : sc_shape_check_index_dtype(node, 1, 0, err);
  if (!st)
    st = sc_node_attr_int(node, "axis", 0, &axis, err);
  if (!st && node->opset >= 18) {
    st = sc_node_attr_int(node, "num_outputs", 0, &n_outputs, err);
    if (!st && sc_node_attr(node, "num_outputs") &&
        n_outputs != node->n_outputs)
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "num_outputs is %lld but the node has %d outputs",
                        (long long)n_outputs, node->n_outputs);
    if (!st && sc_node_attr(node, "num_outputs") == NULL &&
        !sc_shape_has_input(node, 1))
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "needs either the 'split' input or 'num_outputs'");
    if (!st && sc_node_attr(node, "num_outputs") && sc_shape_has_input(node, 1))
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "has both the 'split' input and 'num_outputs'");
  }
  if (st)
    return st;
  st = sc_shape_state_alloc(node, sizeof *s, err);
  if (st)
    return st;
  s = node->state;
  s->sizes = calloc((size_t)node->n_outputs, sizeof *s->sizes);
  if (!s->sizes)
    return sc_fail_nomem(err, "split sizes");
  return SC_OK;
}

/* Fills s->sizes from the `split` attribute (opset <= 12) or input, from
 * num_outputs (opset 18: the last part is smaller), or as equal parts.
 * *known = 0 when the split input's value is not known yet. */
static sc_status split_sizes(struct sc_node *node, int64_t dim, int *known,
                             struct sc_error *err)
{
  struct split_state *s = node->state;
  int64_t n_out = node->n_outputs, n = -1, total = 0, i;
  sc_status st;
  *known = 1;
  if (sc_shape_has_input(node, 1)) {
    if (!node->in[1]->data) {
      *known = 0;
      return SC_OK;
    }
    st = sc_shape_read_ints(node, 1, "the split input", 0, n_out, s->sizes, &n,
                            err);
    if (!st && n != n_out)
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "split has %lld sizes for %lld outputs", (long long)n,
                        (long long)n_out);
    if (st)
      return st;
  } else if (node->opset <= 12 && sc_node_attr(node, "split")) {
    const int64_t *v;
    st = sc_node_attr_ints(node, "split", &n, &v, err);
    if (st)
      return st;
    if (n != n_out)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "split has %lld sizes for %lld outputs", (long long)n,
                          (long long)n_out);
    memcpy(s->sizes, v, (size_t)n * sizeof *v);
  } else if (node->opset >= 18) {
    int64_t part = (dim + n_out - 1) / n_out;
    for (i = 0; i < n_out; i++)
      s->sizes[i] = i + 1 < n_out ? part : dim - part * (n_out - 1);
  } else {
    if (dim % n_out != 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "cannot split %lld into %lld equal parts",
                          (long long)dim, (long long)n_out);
    for (i = 0; i < n_out; i++)
      s->sizes[i] = dim / n_out;
  }
  for (i = 0; i < n_out; i++) {
    if (s->sizes[i] < 0 || s->sizes[i] > dim)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "part %lld would have the invalid size %lld",
                          (long long)i, (long long)s->sizes[i]);
    total += s->sizes[i];
  }
  if (total != dim)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the parts sum to %lld, the axis has %lld",
                        (long long)total, (long long)dim);
  return SC_OK;
}

static sc_status split_reshape(struct sc_node *node, struct sc_error *err)
{
  struct split_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  int64_t axis_attr, dims[SC_MAX_RANK];
  int known, i;
  sc_status st = sc_node_attr_int(node, "axis", 0, &axis_attr, err);
  if (!st)
    st = sc_normalize_axis(node, axis_attr, in->rank, 0, &s->axis, err);
  if (!st)
    st = split_sizes(node, in->dims[s->axis], &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  memcpy(dims, in->dims, sizeof dims);
  for (i = 0; i < node->n_outputs; i++) {
    dims[s->axis] = s->sizes[i];
    st = sc_shape_set_output(node, i, in->rank, dims, err);
    if (st)
      return st;
  }
  return SC_OK;
}

static sc_status split_run(struct sc_node *node, struct sc_error *err)
{
  const struct split_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  size_t elem = sc_dtype_size(in->dtype);
  int64_t in_strides[SC_MAX_RANK], offset = 0;
  int i;
  sc_shape_strides(in->rank, in->dims, in_strides);
  for (i = 0; i < node->n_outputs; i++) {
    struct sc_tensor *t = node->out[i];
    if (t) {
      struct sc_shape_copy copy;
      sc_shape_copy_init(&copy, t->rank, t->dims, elem,
                         (const char *)in->data +
                             (size_t)(offset * in_strides[s->axis]) * elem,
                         t->data);
      memcpy(copy.src_strides, in_strides, sizeof in_strides);
      sc_shape_copy_run(&copy, sc_node_threads(node));
    }
    offset += s->sizes[i];
  }
  return SC_OK;
}

/* --- Slice ---------------------------------------------------------------- */

/* Per input dim: first index and step of the slice (step 1, start 0 for
 * dims not sliced). */
struct slice_state {
  int64_t start[SC_MAX_RANK];
  int64_t step[SC_MAX_RANK];
};

static sc_status slice_prepare(struct sc_node *node, struct sc_error *err)
{
  int i;
  sc_status st;
  if (node->opset < 10) {
    st = layout_prepare(node, 1, 1, 1, 1, err);
    if (!st && (!sc_node_attr(node, "starts") || !sc_node_attr(node, "ends")))
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the 'starts' and 'ends' attributes are required");
  } else {
    st = layout_prepare(node, 3, 5, 1, 1, err);
    for (i = 1; !st && i < 5; i++)
      if (sc_shape_has_input(node, i))
        st = sc_shape_check_index_dtype(node, i, 0, err);
  }
  if (st)
    return st;
  return sc_shape_state_alloc(node, sizeof(struct slice_state), err);
}

/* Reads starts/ends/axes/steps into the arrays (SC_MAX_RANK entries each)
 * from the attributes (opset < 10) or inputs 1-4. *n is their length;
 * *known = 0 when an input's value is not known yet. */
static sc_status slice_params(const struct sc_node *node, int64_t *starts,
                              int64_t *ends, int64_t *axes, int64_t *steps,
                              int64_t *n, int *known, struct sc_error *err)
{
  static const char *const names[] = {"starts", "ends", "axes", "steps"};
  int64_t *arrays[4];
  int64_t counts[4] = {-1, -1, -1, -1}, k;
  int i;
  sc_status st;
  arrays[0] = starts;
  arrays[1] = ends;
  arrays[2] = axes;
  arrays[3] = steps;
  *known = 1;
  for (i = 0; i < 4; i++) {
    if (node->opset < 10) {
      const int64_t *v;
      if (i == 3)
        break;
      st = sc_node_attr_ints(node, names[i], &counts[i], &v, err);
      if (st)
        return st;
      if (counts[i] > SC_MAX_RANK)
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "'%s' has %lld values, at most %d are allowed",
                            names[i], (long long)counts[i], SC_MAX_RANK);
      if (counts[i] > 0)
        memcpy(arrays[i], v, (size_t)counts[i] * sizeof *v);
    } else if (sc_shape_has_input(node, i + 1)) {
      if (!node->in[i + 1]->data) {
        *known = 0;
        return SC_OK;
      }
      st = sc_shape_read_ints(node, i + 1, names[i], 0, SC_MAX_RANK, arrays[i],
                              &counts[i], err);
      if (st)
        return st;
    }
  }
  *n = counts[0];
  if (counts[1] != *n || (counts[2] >= 0 && counts[2] != *n) ||
      (counts[3] >= 0 && counts[3] != *n))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "starts, ends, axes and steps have different lengths "
                        "(%lld, %lld, %lld, %lld)",
                        (long long)counts[0], (long long)counts[1],
                        (long long)counts[2], (long long)counts[3]);
  for (k = 0; k < *n; k++) {
    if (counts[2] < 0)
      axes[k] = k;
    if (counts[3] < 0)
      steps[k] = 1;
  }
  return SC_OK;
}

/* Clamps start/end of one axis of size dim for step and returns the number
 * of elements taken (ONNX Slice rules). */
static int64_t slice_axis(int64_t dim, int64_t step, int64_t *start,
                          int64_t end)
{
  int64_t s = *start, e = end, span;
  if (s < 0)
    s += dim;
  if (e < 0)
    e += dim;
  if (step > 0) {
    s = s < 0 ? 0 : s > dim ? dim : s;
    e = e < 0 ? 0 : e > dim ? dim : e;
    span = e - s;
    *start = s;
    return span <= 0 ? 0 : (span - 1) / step + 1;
  }
  s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
  e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
  span = s - e;
  *start = s;
  if (span <= 0)
    return 0;
  /* -step may overflow for INT64_MIN; any step beyond span takes one */
  return step < -span ? 1 : (span - 1) / -step + 1;
}

static sc_status slice_reshape(struct sc_node *node, struct sc_error *err)
{
  struct slice_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  int64_t starts[SC_MAX_RANK], ends[SC_MAX_RANK], axes[SC_MAX_RANK];
  int64_t steps[SC_MAX_RANK], dims[SC_MAX_RANK], n = 0, k;
  int norm[SC_MAX_RANK], known, d;
  sc_status st = slice_params(node, starts, ends, axes, steps, &n, &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  st = sc_shape_normalize_axes(node, n, axes, in->rank, norm, err);
  if (st)
    return st;
  for (d = 0; d < in->rank; d++) {
    s->start[d] = 0;
    s->step[d] = 1;
    dims[d] = in->dims[d];
  }
  for (k = 0; k < n; k++) {
    d = norm[k];
    if (steps[k] == 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "step %lld is 0",
                          (long long)k);
    s->start[d] = starts[k];
    dims[d] = slice_axis(in->dims[d], steps[k], &s->start[d], ends[k]);
    /* with at most one element the step is never applied */
    s->step[d] = dims[d] > 1 ? steps[k] : 1;
    if (dims[d] == 0)
      s->start[d] = 0;
  }
  return sc_shape_set_output(node, 0, in->rank, dims, err);
}

static sc_status slice_run(struct sc_node *node, struct sc_error *err)
{
  const struct slice_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  struct sc_shape_copy copy;
  int64_t in_strides[SC_MAX_RANK], offset = 0;
  size_t elem = sc_dtype_size(in->dtype);
  int d;
  if (out->n_elements == 0)
    return SC_OK;
  sc_shape_strides(in->rank, in->dims, in_strides);
  for (d = 0; d < in->rank; d++)
    offset += s->start[d] * in_strides[d];
  sc_shape_copy_init(&copy, out->rank, out->dims, elem,
                     (const char *)in->data + (size_t)offset * elem, out->data);
  for (d = 0; d < in->rank; d++)
    copy.src_strides[d] = in_strides[d] * s->step[d];
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

/* --- Expand -------------------------------------------------------------- */

static sc_status expand_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = layout_prepare(node, 2, 2, 1, 1, err);
  if (!st)
    st = sc_shape_check_index_dtype(node, 1, 0, err);
  return st;
}

static sc_status expand_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t shape[SC_MAX_RANK], dims[SC_MAX_RANK], n, k;
  int rank;
  sc_status st;
  if (!node->in[1]->data)
    return sc_node_defer(node);
  if (node->in[1]->n_elements > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "target rank %lld is above the supported %d",
                        (long long)node->in[1]->n_elements, SC_MAX_RANK);
  st = sc_shape_read_ints(node, 1, "the shape input", 0, SC_MAX_RANK, shape, &n,
                          err);
  if (st)
    return st;
  for (k = 0; k < n; k++)
    if (shape[k] < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the shape input has the negative value %lld",
                          (long long)shape[k]);
  st = sc_broadcast_shapes(node, in->rank, in->dims, (int)n, shape, &rank, dims,
                           err);
  if (st)
    return st;
  return sc_shape_set_output(node, 0, rank, dims, err);
}

/* Source strides of `in` read as a tensor of the output's shape (numpy
 * broadcasting: stride 0 along broadcast dims). */
static void broadcast_src_strides(const struct sc_tensor *in,
                                  const struct sc_tensor *out, int64_t *strides)
{
  int64_t in_strides[SC_MAX_RANK];
  int offset = out->rank - in->rank, d;
  sc_shape_strides(in->rank, in->dims, in_strides);
  for (d = 0; d < out->rank; d++) {
    int di = d - offset;
    strides[d] = di < 0 || in->dims[di] == 1 ? 0 : in_strides[di];
  }
}

static sc_status expand_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  struct sc_shape_copy copy;
  sc_shape_copy_init(&copy, out->rank, out->dims, sc_dtype_size(in->dtype),
                     in->data, out->data);
  broadcast_src_strides(in, out, copy.src_strides);
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

/* --- Tile ----------------------------------------------------------------- */

static sc_status tile_prepare(struct sc_node *node, struct sc_error *err)
{
  int i;
  sc_status st = layout_prepare(node, node->opset < 6 ? 3 : 2,
                                node->opset < 6 ? 3 : 2, 1, 1, err);
  for (i = 1; !st && i < node->n_inputs; i++)
    st = sc_shape_check_index_dtype(node, i, 0, err);
  return st;
}

/* Repeats per input dim: the `repeats` input (opset >= 6), or `tiles`
 * along `axis` (opset 1). *known = 0 when the values are not known yet. */
static sc_status tile_repeats(const struct sc_node *node, int64_t *repeats,
                              int *known, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t n, k;
  int d;
  sc_status st;
  *known = 0;
  if (node->opset < 6) {
    int64_t tiles, axis_value;
    int axis;
    if (!node->in[1]->data || !node->in[2]->data)
      return SC_OK;
    if (node->in[1]->n_elements != 1 || node->in[2]->n_elements != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "tiles and axis must be scalars");
    tiles = sc_dtype_load_i64(node->in[1]->dtype, node->in[1]->data, 0);
    axis_value = sc_dtype_load_i64(node->in[2]->dtype, node->in[2]->data, 0);
    st = sc_normalize_axis(node, axis_value, in->rank, 0, &axis, err);
    if (st)
      return st;
    for (d = 0; d < in->rank; d++)
      repeats[d] = d == axis ? tiles : 1;
    n = in->rank;
  } else {
    if (!node->in[1]->data)
      return SC_OK;
    st = sc_shape_read_ints(node, 1, "the repeats input", 0, SC_MAX_RANK,
                            repeats, &n, err);
    if (st)
      return st;
    if (n != in->rank)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "repeats has %lld values for an input of rank %d",
                          (long long)n, in->rank);
  }
  for (k = 0; k < n; k++)
    if (repeats[k] < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "negative repeat count %lld", (long long)repeats[k]);
  *known = 1;
  return SC_OK;
}

static sc_status tile_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  int64_t repeats[SC_MAX_RANK], dims[SC_MAX_RANK];
  int known, d;
  sc_status st = tile_repeats(node, repeats, &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  for (d = 0; d < in->rank; d++) {
    st = checked_mul(node, in->dims[d], repeats[d], &dims[d], err);
    if (st)
      return st;
  }
  return sc_shape_set_output(node, 0, in->rank, dims, err);
}

/* The output viewed as [r0, d0, r1, d1, ...]: repeat index k of dim d reads
 * the input with stride 0. */
static sc_status tile_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  struct sc_shape_copy copy;
  int64_t in_strides[SC_MAX_RANK], out_strides[SC_MAX_RANK];
  int d;
  sc_shape_strides(in->rank, in->dims, in_strides);
  sc_shape_strides(out->rank, out->dims, out_strides);
  memset(&copy, 0, sizeof copy);
  copy.rank = 2 * in->rank;
  for (d = 0; d < in->rank; d++) {
    int64_t repeats = in->dims[d] ? out->dims[d] / in->dims[d] : 0;
    copy.dims[2 * d] = repeats;
    copy.src_strides[2 * d] = 0;
    copy.dst_strides[2 * d] = in->dims[d] * out_strides[d];
    copy.dims[2 * d + 1] = in->dims[d];
    copy.src_strides[2 * d + 1] = in_strides[d];
    copy.dst_strides[2 * d + 1] = out_strides[d];
  }
  copy.element_size = sc_dtype_size(in->dtype);
  copy.src = in->data;
  copy.dst = out->data;
  sc_shape_copy_run(&copy, sc_node_threads(node));
  return SC_OK;
}

/* --- Pad ------------------------------------------------------------------ */

enum pad_mode { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE };

struct pad_state {
  enum pad_mode mode;
  int64_t begin[SC_MAX_RANK]; /* pads per dim, negative = crop */
  int64_t end[SC_MAX_RANK];
};

static sc_status pad_mode(const struct sc_node *node, enum pad_mode *mode,
                          struct sc_error *err)
{
  const char *name;
  sc_status st = sc_node_attr_string(node, "mode", "constant", &name, err);
  if (st)
    return st;
  if (strcmp(name, "constant") == 0)
    *mode = PAD_CONSTANT;
  else if (strcmp(name, "reflect") == 0)
    *mode = PAD_REFLECT;
  else if (strcmp(name, "edge") == 0)
    *mode = PAD_EDGE;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "mode '%s' is not constant, reflect or edge", name);
  return SC_OK;
}

static sc_status pad_prepare(struct sc_node *node, struct sc_error *err)
{
  struct pad_state *s;
  float value;
  sc_status st;
  if (node->opset < 11) {
    const char *pads_name = node->opset < 2 ? "paddings" : "pads";
    st = layout_prepare(node, 1, 1, 1, 1, err);
    if (!st && !sc_node_attr(node, pads_name))
      st = sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the '%s' attribute is missing", pads_name);
    if (!st)
      st = sc_node_attr_float(node, "value", 0.0f, &value, err);
  } else {
    st = layout_prepare(node, 2, node->opset >= 18 ? 4 : 3, 1, 1, err);
    if (!st)
      st = sc_shape_check_index_dtype(node, 1, 0, err);
    if (!st && sc_shape_has_input(node, 2) &&
        node->in[2]->dtype != node->in[0]->dtype)
      st = sc_node_fail(
          node, err, SC_ERR_FORMAT, "constant_value has dtype %s, the data %s",
          sc_dtype_name(node->in[2]->dtype), sc_dtype_name(node->in[0]->dtype));
    if (!st && sc_shape_has_input(node, 3))
      st = sc_shape_check_index_dtype(node, 3, 0, err);
  }
  if (st)
    return st;
  st = sc_shape_state_alloc(node, sizeof *s, err);
  if (st)
    return st;
  s = node->state;
  return pad_mode(node, &s->mode, err);
}

/* Reads the pads (attribute before opset 11, input 1 after, restricted to
 * input 3's axes from opset 18) into s->begin/end. *known = 0 when an
 * input's value is not known yet. */
static sc_status pad_amounts(struct sc_node *node, int *known,
                             struct sc_error *err)
{
  struct pad_state *s = node->state;
  int rank = node->in[0]->rank, norm[SC_MAX_RANK], d;
  int64_t pads[2 * SC_MAX_RANK], axes[SC_MAX_RANK], n_pads, n_axes = rank, k;
  sc_status st;
  *known = 0;
  if (node->opset < 11) {
    const int64_t *v;
    st = sc_node_attr_ints(node, node->opset < 2 ? "paddings" : "pads", &n_pads,
                           &v, err);
    if (st)
      return st;
    if (n_pads > 2 * SC_MAX_RANK)
      n_pads = 2 * SC_MAX_RANK + 1; /* reported below */
    else
      memcpy(pads, v, (size_t)n_pads * sizeof *v);
  } else {
    if (!node->in[1]->data ||
        (sc_shape_has_input(node, 3) && !node->in[3]->data))
      return SC_OK;
    st = sc_shape_read_ints(node, 1, "the pads input", 0, 2 * SC_MAX_RANK, pads,
                            &n_pads, err);
    if (!st && sc_shape_has_input(node, 3))
      st = sc_shape_read_ints(node, 3, "the axes input", 0, SC_MAX_RANK, axes,
                              &n_axes, err);
    if (st)
      return st;
  }
  if (!sc_shape_has_input(node, 3))
    for (k = 0; k < rank; k++)
      axes[k] = k;
  if (n_pads != 2 * n_axes)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "%lld pads for %lld axes (expected twice as many)",
                        (long long)n_pads, (long long)n_axes);
  st = sc_shape_normalize_axes(node, n_axes, axes, rank, norm, err);
  if (st)
    return st;
  for (d = 0; d < rank; d++)
    s->begin[d] = s->end[d] = 0;
  for (k = 0; k < n_axes; k++) {
    s->begin[norm[k]] = pads[k];
    s->end[norm[k]] = pads[n_axes + k];
  }
  *known = 1;
  return SC_OK;
}

static sc_status pad_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct pad_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  int64_t dims[SC_MAX_RANK], limit = (int64_t)SC_MAX_TENSOR_SIZE;
  int known, d;
  sc_status st = pad_amounts(node, &known, err);
  if (st)
    return st;
  if (!known)
    return sc_node_defer(node);
  for (d = 0; d < in->rank; d++) {
    int64_t b = s->begin[d], e = s->end[d];
    int64_t kept = in->dims[d] + (b < 0 ? b : 0) + (e < 0 ? e : 0);
    if (b > limit || e > limit || b < -limit || e < -limit || kept < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "pads %lld, %lld are invalid for axis %d of size "
                          "%lld",
                          (long long)b, (long long)e, d,
                          (long long)in->dims[d]);
    dims[d] = in->dims[d] + b + e;
    if (s->mode != PAD_CONSTANT && kept == 0 && dims[d] > 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "cannot pad the empty axis %d in %s mode", d,
                          s->mode == PAD_EDGE ? "edge" : "reflect");
  }
  return sc_shape_set_output(node, 0, in->rank, dims, err);
}

/* Writes the padding value into `value` (element_size bytes): the `value`
 * attribute before opset 11, the constant_value input after, else 0. */
static void pad_value(const struct sc_node *node, void *value)
{
  enum sc_dtype dtype = node->in[0]->dtype;
  memset(value, 0, sc_dtype_size(dtype));
  if (node->opset < 11) {
    float v = 0.0f;
    sc_node_attr_float(node, "value", 0.0f, &v, NULL);
    sc_dtype_store(dtype, value, 0, v);
  } else if (sc_shape_has_input(node, 2) && node->in[2]->n_elements > 0) {
    memcpy(value, node->in[2]->data, sc_dtype_size(dtype));
  }
}

/* Position in [0, n) that output position x (relative to the kept data's
 * first element) reads in reflect or edge mode. */
static int64_t pad_source(enum pad_mode mode, int64_t x, int64_t n)
{
  int64_t period, m;
  if (mode == PAD_EDGE || n == 1)
    return x < 0 ? 0 : x >= n ? n - 1 : x;
  period = 2 * (n - 1);
  m = x % period;
  if (m < 0)
    m += period;
  return m >= n ? period - m : m;
}

/* Copies, inside the output, the slab at position `from` along dim d to
 * position `to`. Dims after d (already padded) span the whole output,
 * dims before d only the kept region. */
static void pad_copy_slab(const struct sc_node *node, int d, int64_t from,
                          int64_t to, const int64_t *kept_first,
                          const int64_t *kept)
{
  struct sc_tensor *out = node->out[0];
  size_t elem = sc_dtype_size(out->dtype);
  struct sc_shape_copy copy;
  int64_t strides[SC_MAX_RANK], base = 0;
  int e;
  sc_shape_strides(out->rank, out->dims, strides);
  memset(&copy, 0, sizeof copy);
  copy.rank = out->rank;
  for (e = 0; e < out->rank; e++) {
    copy.dims[e] = e < d ? kept[e] : e == d ? 1 : out->dims[e];
    copy.src_strides[e] = copy.dst_strides[e] = strides[e];
    if (e < d)
      base += kept_first[e] * strides[e];
  }
  copy.element_size = elem;
  copy.src =
      (const char *)out->data + (size_t)(base + from * strides[d]) * elem;
  copy.dst = (char *)out->data + (size_t)(base + to * strides[d]) * elem;
  sc_shape_copy_run(&copy, sc_node_threads(node));
}

static sc_status pad_run(struct sc_node *node, struct sc_error *err)
{
  const struct pad_state *s = node->state;
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  size_t elem = sc_dtype_size(in->dtype);
  int64_t kept_first[SC_MAX_RANK], kept[SC_MAX_RANK];
  int64_t in_strides[SC_MAX_RANK], src_offset = 0, dst_offset = 0;
  int64_t out_strides[SC_MAX_RANK];
  struct sc_shape_copy copy;
  int d, empty = 0;

  if (out->n_elements == 0)
    return SC_OK;
  sc_shape_strides(in->rank, in->dims, in_strides);
  sc_shape_strides(out->rank, out->dims, out_strides);
  for (d = 0; d < in->rank; d++) {
    int64_t crop_begin = s->begin[d] < 0 ? -s->begin[d] : 0;
    int64_t crop_end = s->end[d] < 0 ? -s->end[d] : 0;
    kept_first[d] = s->begin[d] > 0 ? s->begin[d] : 0;
    kept[d] = in->dims[d] - crop_begin - crop_end;
    empty |= kept[d] == 0;
    src_offset += crop_begin * in_strides[d];
    dst_offset += kept_first[d] * out_strides[d];
  }
  if (s->mode == PAD_CONSTANT) {
    unsigned char value[16];
    struct sc_shape_copy fill;
    pad_value(node, value);
    sc_shape_copy_init(&fill, 1, &out->n_elements, elem, value, out->data);
    fill.src_strides[0] = 0;
    sc_shape_copy_run(&fill, sc_node_threads(node));
  }
  if (empty)
    return SC_OK; /* constant mode only (checked by reshape) */
  sc_shape_copy_init(&copy, in->rank, kept, elem,
                     (const char *)in->data + (size_t)src_offset * elem,
                     (char *)out->data + (size_t)dst_offset * elem);
  memcpy(copy.src_strides, in_strides, sizeof in_strides);
  memcpy(copy.dst_strides, out_strides, sizeof out_strides);
  sc_shape_copy_run(&copy, sc_node_threads(node));
  if (s->mode == PAD_CONSTANT)
    return SC_OK;
  /* innermost first, so that outer slabs copy already padded rows */
  for (d = in->rank - 1; d >= 0; d--) {
    int64_t p;
    for (p = 0; p < out->dims[d]; p++) {
      int64_t x = p - kept_first[d];
      if (x >= 0 && x < kept[d])
        continue;
      pad_copy_slab(node, d, kept_first[d] + pad_source(s->mode, x, kept[d]), p,
                    kept_first, kept);
    }
  }
  return SC_OK;
}

/* --- ReverseSequence --------------------------------------------------- */

static sc_status reverse_axes(const struct sc_node *node, int *batch_axis,
                              int *time_axis, struct sc_error *err)
{
  int64_t b, t;
  sc_status st = sc_node_attr_int(node, "batch_axis", 1, &b, err);
  if (!st)
    st = sc_node_attr_int(node, "time_axis", 0, &t, err);
  if (st)
    return st;
  if (!((b == 0 && t == 1) || (b == 1 && t == 0)))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "batch_axis %lld and time_axis %lld must be 0 and 1",
                        (long long)b, (long long)t);
  *batch_axis = (int)b;
  *time_axis = (int)t;
  return SC_OK;
}

static sc_status reverse_sequence_prepare(struct sc_node *node,
                                          struct sc_error *err)
{
  int b, t;
  sc_status st = layout_prepare(node, 2, 2, 1, 1, err);
  if (!st)
    st = sc_shape_check_index_dtype(node, 1, 0, err);
  if (!st)
    st = reverse_axes(node, &b, &t, err);
  return st;
}

static sc_status reverse_sequence_reshape(struct sc_node *node,
                                          struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0], *lens = node->in[1];
  int b = 0, t = 0;
  int64_t i;
  sc_status st = reverse_axes(node, &b, &t, err);
  if (st)
    return st;
  if (in->rank < 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the input must have rank 2 or more, it has rank %d",
                        in->rank);
  if (lens->rank != 1 || lens->dims[0] != in->dims[b])
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "sequence_lens must have %lld values (the batch size)",
                        (long long)in->dims[b]);
  if (lens->data)
    for (i = 0; i < lens->n_elements; i++) {
      int64_t v = sc_dtype_load_i64(lens->dtype, lens->data, i);
      if (v < 0 || v > in->dims[t])
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "sequence length %lld is outside [0, %lld]",
                            (long long)v, (long long)in->dims[t]);
    }
  return sc_reshape_like_input0(node, err);
}

static sc_status reverse_sequence_run(struct sc_node *node,
                                      struct sc_error *err)
{
  const struct sc_tensor *in = node->in[0], *lens = node->in[1];
  struct sc_tensor *out = node->out[0];
  size_t elem = sc_dtype_size(in->dtype);
  int64_t strides[SC_MAX_RANK], bi, ti, block;
  int b, t;
  reverse_axes(node, &b, &t, err);
  sc_shape_strides(in->rank, in->dims, strides);
  block = strides[1] * (int64_t)elem; /* one (dim0, dim1) cell */
  sc_shape_copy_bytes(out->data, in->data, sc_tensor_size(in),
                      sc_node_threads(node));
  for (bi = 0; bi < in->dims[b]; bi++) {
    int64_t len = sc_dtype_load_i64(lens->dtype, lens->data, bi);
    for (ti = 0; ti < len; ti++) {
      int64_t src = bi * strides[b] + (len - 1 - ti) * strides[t];
      int64_t dst = bi * strides[b] + ti * strides[t];
      memcpy((char *)out->data + dst * (int64_t)elem,
             (const char *)in->data + src * (int64_t)elem, (size_t)block);
    }
  }
  return SC_OK;
}

/* --- table ------------------------------------------------------------------
 */

const struct sc_op sc_ops_shape_layout[] = {
    {"", "Transpose", 1, L, transpose_prepare, transpose_reshape, transpose_run,
     NULL, 0},
    {"", "DepthToSpace", 1, 10, block_prepare, depth_to_space_reshape,
     depth_to_space_run, NULL, 0},
    {"", "DepthToSpace", 11, L, block_prepare, depth_to_space_reshape,
     depth_to_space_run, NULL, 0},
    {"", "SpaceToDepth", 1, L, block_prepare, space_to_depth_reshape,
     space_to_depth_run, NULL, 0},
    {"", "Concat", 1, 3, concat_prepare, concat_reshape, concat_run, NULL, 0},
    {"", "Concat", 4, L, concat_prepare, concat_reshape, concat_run, NULL, 0},
    {"", "Split", 1, 1, split_prepare, split_reshape, split_run, split_release,
     0},
    {"", "Split", 2, 12, split_prepare, split_reshape, split_run, split_release,
     0},
    {"", "Split", 13, 17, split_prepare, split_reshape, split_run,
     split_release, 0},
    {"", "Split", 18, L, split_prepare, split_reshape, split_run, split_release,
     0},
    {"", "Slice", 1, 9, slice_prepare, slice_reshape, slice_run,
     sc_shape_state_free, 0},
    {"", "Slice", 10, L, slice_prepare, slice_reshape, slice_run,
     sc_shape_state_free, 0},
    {"", "Expand", 8, L, expand_prepare, expand_reshape, expand_run, NULL, 0},
    {"", "Tile", 1, 5, tile_prepare, tile_reshape, tile_run, NULL, 0},
    {"", "Tile", 6, L, tile_prepare, tile_reshape, tile_run, NULL, 0},
    {"", "Pad", 1, 1, pad_prepare, pad_reshape, pad_run, sc_shape_state_free,
     0},
    {"", "Pad", 2, 10, pad_prepare, pad_reshape, pad_run, sc_shape_state_free,
     0},
    {"", "Pad", 11, 17, pad_prepare, pad_reshape, pad_run, sc_shape_state_free,
     0},
    {"", "Pad", 18, L, pad_prepare, pad_reshape, pad_run, sc_shape_state_free,
     0},
    {"", "ReverseSequence", 10, L, reverse_sequence_prepare,
     reverse_sequence_reshape, reverse_sequence_run, NULL, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
