/* Operator family: convolution (Conv, ConvTranspose, and ONNX Runtime's
 * com.microsoft.FusedConv), float32, float16 and bfloat16 through float.
 *
 * prepare parses the attributes into the node's state; reshape validates the
 * shapes against them and resolves the canonical 3-D geometry that run hands
 * to the kernels in conv_kernels.h (1-D, 2-D and 3-D convolutions; more
 * spatial dims are unsupported).
 *
 * Opset history: Conv 1 and 11 and ConvTranspose 1 and 11 differ only in
 * documentation (defaults spelled out, kernel_shape inferred from W), so one
 * row each covers every version. ConvTranspose's rule for splitting an odd
 * total padding when output_shape or SAME_* auto_pad is given is written
 * inconsistently across the ONNX versions; the rule used here puts the odd
 * pixel at the end except for SAME_LOWER, which matches the backend cases,
 * the ONNX 1.13+ reference for SAME_UPPER and ONNX Runtime for NOTSET. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/activation.h"
#include "runtime/ops/conv_kernels.h"
#include "runtime/ops/conv_window.h"
#include "runtime/ops/families.h"

/* Spatial dims the kernels handle (canonical 3-D geometry). */
#define CONV_MAX_SPATIAL 3

struct conv_state {
  int transpose; /* ConvTranspose */
  int64_t group;
  struct sc_window_attrs window;
  /* ConvTranspose only; n_* is -1 when absent */
  int n_output_padding, n_output_shape;
  int64_t output_padding[SC_WINDOW_MAX_DIMS];
  int64_t output_shape[SC_WINDOW_MAX_DIMS + 2];
  struct sc_conv_geometry geometry; /* resolved by reshape */
  /* Conv: W packed for the packed path, made once when W is a constant
   * of the model; NULL until then or when W is not constant */
  struct sc_conv_weights *packed;
  /* com.microsoft.FusedConv: the activation (NULL: none) */
  struct sc_activation *activation;
};

static void conv_release(struct sc_node *node)
{
  struct conv_state *state = node->state;
  if (state) {
    sc_conv_weights_free(state->packed);
    sc_activation_free(state->activation);
  }
  free(node->state);
  node->state = NULL;
}

/* Shared by Conv, FusedConv and ConvTranspose: X, W and the optional B
 * (and FusedConv's Z) are float (the executor presents float16/bfloat16 as
 * float) of one dtype. */
static sc_status conv_prepare_common(struct sc_node *node, int transpose,
                                     int max_inputs, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT};
  struct conv_state *state;
  int64_t group;
  int i;
  sc_status st = sc_check_arity(node, 2, max_inputs, 1, 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, types, 1, err);
  if (st)
    return st;
  for (i = 1; i < node->n_inputs; i++)
    if (node->in[i] && node->in[i]->dtype != node->in[0]->dtype)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d ('%s') has dtype %s, expected %s like X", i,
                          sc_node_input_name(node, i),
                          sc_dtype_name(node->in[i]->dtype),
                          sc_dtype_name(node->in[0]->dtype));
  st = sc_node_attr_int(node, "group", 1, &group, err);
  if (st)
    return st;
  if (group < 1 || group >= SC_WINDOW_MAX_VALUE)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'group' is %lld, expected a positive count",
                        (long long)group);

  state = calloc(1, sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "Conv state");
  node->state = state;
  state->transpose = transpose;
  state->group = group;
  st = sc_window_parse(node, 0, &state->window, err);
  if (!st && transpose)
    st = sc_window_read_ints(node, "output_padding", SC_WINDOW_MAX_DIMS, 0,
                             &state->n_output_padding, state->output_padding,
                             err);
  if (!st && transpose)
    st = sc_window_read_ints(node, "output_shape", SC_WINDOW_MAX_DIMS + 2, 1,
                             &state->n_output_shape, state->output_shape, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static sc_status conv_prepare(struct sc_node *node, struct sc_error *err)
{
  return conv_prepare_common(node, 0, 3, err);
}

static sc_status conv_transpose_prepare(struct sc_node *node,
                                        struct sc_error *err)
{
  return conv_prepare_common(node, 1, 3, err);
}

/* com.microsoft.FusedConv (ONNX Runtime's Conv + Add + activation fusion):
 * Conv's inputs and attributes, an optional fourth input Z of the output's
 * shape added to the convolution, then the activation named by the
 * `activation` attribute with `activation_params` (none: the identity):
 * Y = activation(Conv(X, W, B) + Z), each step rounded as the operators it
 * replaces round them. */
static sc_status fused_conv_prepare(struct sc_node *node, struct sc_error *err)
{
  struct conv_state *state;
  const char *name;
  const float *params;
  int64_t n_params;
  sc_status st = conv_prepare_common(node, 0, 4, err);
  if (!st)
    st = sc_node_attr_string(node, "activation", NULL, &name, err);
  if (!st)
    st =
        sc_node_attr_floats(node, "activation_params", &n_params, &params, err);
  if (st || !name)
    return st;
  state = node->state;
  return sc_activation_create(node, name, params, n_params < 0 ? 0 : n_params,
                              &state->activation, err);
}

static sc_status conv_reshape(struct sc_node *node, struct sc_error *err);

static sc_status fused_conv_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *z = node->n_inputs > 3 ? node->in[3] : NULL;
  sc_status st = conv_reshape(node, err);
  char shape[160], want[160];
  if (st || !z)
    return st;
  if (z->rank != node->out[0]->rank ||
      memcmp(z->dims, node->out[0]->dims, (size_t)z->rank * sizeof z->dims[0]))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input Z ('%s') has shape %s, expected the output's %s",
                        sc_node_input_name(node, 3),
                        sc_shape_format(z->rank, z->dims, shape, sizeof shape),
                        sc_shape_format(node->out[0]->rank, node->out[0]->dims,
                                        want, sizeof want));
  return SC_OK;
}

/* Checks the ranks of X and W and the bias length; *n_spatial on success. */
static sc_status check_operands(const struct sc_node *node, int64_t m,
                                int *n_spatial, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *w = node->in[1];
  const struct sc_tensor *b = node->n_inputs > 2 ? node->in[2] : NULL;
  *n_spatial = 0;
  if (x->rank < 3)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input X has rank %d, expected N x C x D1 x ... "
                        "(rank 3 or more)",
                        x->rank);
  if (x->rank - 2 > CONV_MAX_SPATIAL)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "input X has %d spatial dimensions, at most %d are "
                        "supported",
                        x->rank - 2, CONV_MAX_SPATIAL);
  if (w->rank != x->rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have rank %d but X has rank %d", w->rank,
                        x->rank);
  if (b && (b->rank != 1 || b->dims[0] != m))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "bias B must be 1-D with %lld values (output "
                        "channels)",
                        (long long)m);
  *n_spatial = x->rank - 2;
  return SC_OK;
}

/* Fills the canonical 3-D geometry: spatial dims are right-aligned, the
 * missing leading ones are size 1 with unit stride/dilation and no pad. */
static void geometry_fill(struct sc_conv_geometry *g, int n_spatial,
                          const int64_t *in, const int64_t *out,
                          const int64_t *kernel, const int64_t *stride,
                          const int64_t *dilation, const int64_t *pad)
{
  int i, lead = CONV_MAX_SPATIAL - n_spatial;
  for (i = 0; i < CONV_MAX_SPATIAL; i++) {
    int s = i - lead;
    g->in[i] = s >= 0 ? in[s] : 1;
    g->out[i] = s >= 0 ? out[s] : 1;
    g->kernel[i] = s >= 0 ? kernel[s] : 1;
    g->stride[i] = s >= 0 ? stride[s] : 1;
    g->dilation[i] = s >= 0 ? dilation[s] : 1;
    g->pad[i] = s >= 0 ? pad[s] : 0;
  }
}

/* A stride along an axis with one output position (a transposed
 * convolution: one input position) moves nothing: it is made 1, so that
 * a hostile stride (2^31 - 1) cannot size buffers or loops. */
static void unit_stride_where_single(struct sc_conv_geometry *g, int transpose)
{
  int i;
  for (i = 0; i < CONV_MAX_SPATIAL; i++)
    if ((transpose ? g->in[i] : g->out[i]) == 1)
      g->stride[i] = 1;
}

static sc_status set_output_shape(struct sc_node *node, int n_spatial,
                                  int64_t m, const int64_t *spatial,
                                  struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK];
  int i;
  dims[0] = node->in[0]->dims[0];
  dims[1] = m;
  for (i = 0; i < n_spatial; i++)
    dims[2 + i] = spatial[i];
  return sc_tensor_set_shape(node->out[0], n_spatial + 2, dims, err);
}

/* Packs W once for the packed or the Winograd path (whichever AUTO
 * chooses) when it is a constant of the model: at prepare time when
 * reshape sees the initializer, else at the first run. Other weights are
 * packed by every run (sc_conv_forward). Once packed, the node needs no
 * more of W than its shape (holds_input), and runs through the path it
 * was packed for whatever the geometry (conv_run; both paths' conditions
 * hold for every input size once they hold for one). */
static sc_status pack_constant_weights(struct sc_node *node,
                                       struct sc_error *err)
{
  struct conv_state *state = node->state;
  enum sc_conv_path path = sc_conv_path_choose(&state->geometry);
  sc_status st;
  if (state->packed || !sc_node_input_is_constant(node, 1) ||
      (path != SC_CONV_PATH_PACKED && path != SC_CONV_PATH_WINOGRAD))
    return SC_OK;
  st = sc_conv_weights_pack_for(&state->geometry, path, node->in[1]->data,
                                &state->packed, err);
  if (!st)
    node->holds_input |= 1u << 1;
  return st;
}

static sc_status conv_reshape(struct sc_node *node, struct sc_error *err)
{
  struct conv_state *state = node->state;
  const struct sc_tensor *x = node->in[0], *w = node->in[1];
  struct sc_conv_geometry *g = &state->geometry;
  struct sc_window win;
  int64_t c, m;
  int n_spatial;
  sc_status st;

  if (w->rank < 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have rank %d, expected M x C/group x k...",
                        w->rank);
  m = w->dims[0];
  st = check_operands(node, m, &n_spatial, err);
  if (st)
    return st;
  c = x->dims[1];
  if (c % state->group != 0 || m % state->group != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "group %lld does not divide the %lld input and %lld "
                        "output channels",
                        (long long)state->group, (long long)c, (long long)m);
  if (w->dims[1] != c / state->group)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have %lld input channels per group, "
                        "expected %lld (C %lld / group %lld)",
                        (long long)w->dims[1], (long long)(c / state->group),
                        (long long)c, (long long)state->group);
  st = sc_window_resolve(node, &state->window, n_spatial, x->dims + 2,
                         w->dims + 2, &win, err);
  if (st)
    return st;

  g->batch = x->dims[0];
  g->in_channels = c;
  g->out_channels = m;
  g->group = state->group;
  geometry_fill(g, n_spatial, win.in, win.out, win.kernel, win.stride,
                win.dilation, win.pad_begin);
  unit_stride_where_single(g, 0);
  st = set_output_shape(node, n_spatial, m, win.out, err);
  if (!st)
    st = pack_constant_weights(node, err);
  return st;
}

/* Output size and begin padding of ConvTranspose along spatial dim i. */
static sc_status transpose_dim(const struct sc_node *node,
                               const struct conv_state *state, int n_spatial,
                               int i, int64_t in, int64_t kernel, int64_t *out,
                               int64_t *pad, struct sc_error *err)
{
  const struct sc_window_attrs *a = &state->window;
  int64_t stride = a->n_strides >= 0 ? a->strides[i] : 1;
  int64_t dilation = a->n_dilations >= 0 ? a->dilations[i] : 1;
  int64_t adj = state->n_output_padding >= 0 ? state->output_padding[i] : 0;
  int64_t full;

  if (in > ((int64_t)1 << 62) / stride)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "output size along spatial axis %d overflows", i);
  full = stride * (in - 1) + adj + (kernel - 1) * dilation + 1;
  if (adj >= stride && adj >= dilation)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "output_padding[%d] is %lld, expected less than the "
                        "stride (%lld) or the dilation (%lld)",
                        i, (long long)adj, (long long)stride,
                        (long long)dilation);
  if (state->n_output_shape >= 0 || a->auto_pad == SC_AUTO_PAD_SAME_UPPER ||
      a->auto_pad == SC_AUTO_PAD_SAME_LOWER) {
    int64_t total;
    if (state->n_output_shape >= 0)
      *out = state->output_shape[state->n_output_shape - n_spatial + i];
    else
      *out = in * stride;
    total = full - *out;
    if (total < 0) /* positions past the full output only get the bias */
      total = 0;
    *pad =
        a->auto_pad == SC_AUTO_PAD_SAME_LOWER ? total - total / 2 : total / 2;
  } else if (a->auto_pad == SC_AUTO_PAD_VALID || a->n_pads < 0) {
    *out = full;
    *pad = 0;
  } else {
    *pad = a->pads[i];
    *out = full - a->pads[i] - a->pads[i + n_spatial];
  }
  if (*out < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "output size along spatial axis %d would be %lld", i,
                        (long long)*out);
  return SC_OK;
}

/* Attribute list lengths of ConvTranspose for n spatial dims (-1: absent;
 * output_shape may also list N and C). */
static sc_status transpose_check_lengths(const struct sc_node *node,
                                         const struct conv_state *state, int n,
                                         struct sc_error *err)
{
  const struct sc_window_attrs *a = &state->window;
  const struct {
    const char *name;
    int got, want;
  } lists[] = {{"kernel_shape", a->n_kernel, n},
               {"strides", a->n_strides, n},
               {"dilations", a->n_dilations, n},
               {"pads", a->n_pads, 2 * n},
               {"output_padding", state->n_output_padding, n},
               {"output_shape", state->n_output_shape, n}};
  size_t i;
  for (i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    int got = lists[i].got;
    if (got < 0 || got == lists[i].want ||
        (strcmp(lists[i].name, "output_shape") == 0 && got == n + 2))
      continue;
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' has %d values, expected %d",
                        lists[i].name, got, lists[i].want);
  }
  return SC_OK;
}

static sc_status conv_transpose_reshape(struct sc_node *node,
                                        struct sc_error *err)
{
  struct conv_state *state = node->state;
  const struct sc_tensor *x = node->in[0], *w = node->in[1];
  const struct sc_window_attrs *a = &state->window;
  struct sc_conv_geometry *g = &state->geometry;
  /* set for the n_spatial dims in use (zero: -O3's flow analysis cannot
   * tell that geometry_fill reads no others) */
  int64_t out[CONV_MAX_SPATIAL] = {0}, pad[CONV_MAX_SPATIAL] = {0};
  int64_t stride[CONV_MAX_SPATIAL] = {0}, dilation[CONV_MAX_SPATIAL] = {0};
  int64_t c, m;
  int n_spatial, i;
  sc_status st;

  if (w->rank < 2)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have rank %d, expected C x M/group x k...",
                        w->rank);
  c = x->rank >= 2 ? x->dims[1] : 0;
  if (w->dims[1] > INT64_MAX / state->group)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have too many output channels");
  m = w->dims[1] * state->group;
  st = check_operands(node, m, &n_spatial, err);
  if (!st)
    st = transpose_check_lengths(node, state, n_spatial, err);
  if (st)
    return st;
  if (w->dims[0] != c || c % state->group != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "weights W have %lld input channels, expected C = "
                        "%lld divisible by group %lld",
                        (long long)w->dims[0], (long long)c,
                        (long long)state->group);
  for (i = 0; i < n_spatial; i++) {
    int64_t k = w->dims[2 + i];
    if (k < 1 || k >= SC_WINDOW_MAX_VALUE ||
        (a->n_kernel >= 0 && a->kernel[i] != k))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "kernel size along spatial axis %d: weights have "
                          "%lld, kernel_shape says %lld",
                          i, (long long)k,
                          (long long)(a->n_kernel >= 0 ? a->kernel[i] : k));
    stride[i] = a->n_strides >= 0 ? a->strides[i] : 1;
    dilation[i] = a->n_dilations >= 0 ? a->dilations[i] : 1;
    st = transpose_dim(node, state, n_spatial, i, x->dims[2 + i], k, &out[i],
                       &pad[i], err);
    if (st)
      return st;
  }

  g->batch = x->dims[0];
  g->in_channels = c;
  g->out_channels = m;
  g->group = state->group;
  geometry_fill(g, n_spatial, x->dims + 2, out, w->dims + 2, stride, dilation,
                pad);
  unit_stride_where_single(g, 1);
  return set_output_shape(node, n_spatial, m, out, err);
}

static sc_status conv_run(struct sc_node *node, struct sc_error *err)
{
  const struct conv_state *state = node->state;
  const struct sc_tensor *b = node->n_inputs > 2 ? node->in[2] : NULL;
  struct sc_conv_geometry g = state->geometry;
  sc_status st;
  g.relu = node->fused_relu && !state->transpose;
  if (state->transpose)
    st = sc_conv_transpose_forward(&state->geometry, SC_CONV_PATH_AUTO,
                                   node->in[0]->data, node->in[1]->data,
                                   b ? b->data : NULL, node->out[0]->data,
                                   sc_node_threads(node), err);
  else if (state->packed) /* W's data may have been freed since */
    st = sc_conv_forward(&g, sc_conv_weights_path(state->packed),
                         node->in[0]->data, NULL, state->packed,
                         b ? b->data : NULL, node->out[0]->data,
                         sc_node_threads(node), err);
  else
    st = sc_conv_forward(&g, SC_CONV_PATH_AUTO, node->in[0]->data,
                         node->in[1]->data, NULL, b ? b->data : NULL,
                         node->out[0]->data, sc_node_threads(node), err);
  if (st)
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
  return st;
}

static sc_status fused_conv_run(struct sc_node *node, struct sc_error *err)
{
  const struct conv_state *state = node->state;
  const struct sc_tensor *z = node->n_inputs > 3 ? node->in[3] : NULL;
  sc_status st = conv_run(node, err);
  if (!st && (z || state->activation))
    sc_activation_apply(state->activation, z ? z->data : NULL,
                        node->out[0]->data, node->out[0]->n_elements,
                        sc_node_threads(node));
  return st;
}

const struct sc_op sc_ops_conv[] = {
    {"", "Conv", 1, SC_OPSET_LATEST, conv_prepare, conv_reshape, conv_run,
     conv_release, SC_OP_F16_VIA_FLOAT},
    {"", "ConvTranspose", 1, SC_OPSET_LATEST, conv_transpose_prepare,
     conv_transpose_reshape, conv_run, conv_release, SC_OP_F16_VIA_FLOAT},
    {"com.microsoft", "FusedConv", 1, SC_OPSET_LATEST, fused_conv_prepare,
     fused_conv_reshape, fused_conv_run, conv_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
