/* Sliding-window geometry shared by convolution and pooling (see
 * conv_window.h). */
#include "runtime/ops/conv_window.h"

#include <string.h>

#include "runtime/op.h"

sc_status sc_window_read_ints(const struct sc_node *node, const char *name,
                              int max, int64_t min, int *n, int64_t *values,
                              struct sc_error *err)
{
  const int64_t *v;
  int64_t count, i;
  sc_status st = sc_node_attr_ints(node, name, &count, &v, err);
  if (st)
    return st;
  *n = -1;
  if (count < 0)
    return SC_OK;
  if (count > max)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' has %lld values, at most %d are "
                        "supported",
                        name, (long long)count, max);
  for (i = 0; i < count; i++) {
    if (v[i] < min || v[i] >= SC_WINDOW_MAX_VALUE)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute '%s' has value %lld at index %lld, "
                          "expected %lld to %lld",
                          name, (long long)v[i], (long long)i, (long long)min,
                          (long long)(SC_WINDOW_MAX_VALUE - 1));
    values[i] = v[i];
  }
  *n = (int)count;
  return SC_OK;
}

sc_status sc_window_parse(const struct sc_node *node, int with_ceil_mode,
                          struct sc_window_attrs *out, struct sc_error *err)
{
  const char *auto_pad;
  int64_t ceil_mode = 0;
  sc_status st;

  memset(out, 0, sizeof *out);
  st = sc_window_read_ints(node, "kernel_shape", SC_WINDOW_MAX_DIMS, 1,
                           &out->n_kernel, out->kernel, err);
  if (!st)
    st = sc_window_read_ints(node, "strides", SC_WINDOW_MAX_DIMS, 1,
                             &out->n_strides, out->strides, err);
  if (!st)
    st = sc_window_read_ints(node, "dilations", SC_WINDOW_MAX_DIMS, 1,
                             &out->n_dilations, out->dilations, err);
  if (!st)
    st = sc_window_read_ints(node, "pads", 2 * SC_WINDOW_MAX_DIMS, 0,
                             &out->n_pads, out->pads, err);
  if (!st)
    st = sc_node_attr_string(node, "auto_pad", "NOTSET", &auto_pad, err);
  if (!st && with_ceil_mode)
    st = sc_node_attr_int(node, "ceil_mode", 0, &ceil_mode, err);
  if (st)
    return st;

  /* some exporters write an empty string for the default */
  if (strcmp(auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
    out->auto_pad = SC_AUTO_PAD_NOTSET;
  else if (strcmp(auto_pad, "SAME_UPPER") == 0)
    out->auto_pad = SC_AUTO_PAD_SAME_UPPER;
  else if (strcmp(auto_pad, "SAME_LOWER") == 0)
    out->auto_pad = SC_AUTO_PAD_SAME_LOWER;
  else if (strcmp(auto_pad, "VALID") == 0)
    out->auto_pad = SC_AUTO_PAD_VALID;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'auto_pad' is '%s', expected NOTSET, "
                        "SAME_UPPER, SAME_LOWER or VALID",
                        auto_pad);
  if (ceil_mode != 0 && ceil_mode != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'ceil_mode' is %lld, expected 0 or 1",
                        (long long)ceil_mode);
  out->ceil_mode = (int)ceil_mode;
  return SC_OK;
}

static sc_status check_length(const struct sc_node *node, const char *name,
                              int n, int expected, struct sc_error *err)
{
  if (n >= 0 && n != expected)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute '%s' has %d values, expected %d", name, n,
                        expected);
  return SC_OK;
}

int64_t sc_window_extent(const struct sc_window *w, int i)
{
  return (w->kernel[i] - 1) * w->dilation[i] + 1;
}

/* Output size along one dim with explicit pads; 0 when the padded input is
 * shorter than the window. */
static int64_t explicit_out(int64_t in, int64_t pad_begin, int64_t pad_end,
                            int64_t extent, int64_t stride, int ceil_mode)
{
  int64_t span = in + pad_begin + pad_end - extent, out;
  if (span < 0)
    return 0;
  out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  /* ceil mode: the last window must start inside the input or the
   * begin padding (PyTorch's rule, adopted by later ONNX versions) */
  if (ceil_mode && (out - 1) * stride >= in + pad_begin)
    out--;
  return out;
}

sc_status sc_window_resolve(const struct sc_node *node,
                            const struct sc_window_attrs *attrs, int n_dims,
                            const int64_t *in, const int64_t *kernel,
                            struct sc_window *out, struct sc_error *err)
{
  int i;
  sc_status st;

  if (n_dims < 1 || n_dims > SC_WINDOW_MAX_DIMS)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input has %d spatial dimensions, expected 1 to %d",
                        n_dims, SC_WINDOW_MAX_DIMS);
  st = check_length(node, "kernel_shape", attrs->n_kernel, n_dims, err);
  if (!st)
    st = check_length(node, "strides", attrs->n_strides, n_dims, err);
  if (!st)
    st = check_length(node, "dilations", attrs->n_dilations, n_dims, err);
  if (!st)
    st = check_length(node, "pads", attrs->n_pads, 2 * n_dims, err);
  if (st)
    return st;
  if (!kernel && attrs->n_kernel < 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'kernel_shape' is required");

  memset(out, 0, sizeof *out);
  out->n_dims = n_dims;
  for (i = 0; i < n_dims; i++) {
    int64_t extent;
    if (kernel && attrs->n_kernel >= 0 && attrs->kernel[i] != kernel[i])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "kernel_shape[%d] is %lld but the weights have %lld",
                          i, (long long)attrs->kernel[i], (long long)kernel[i]);
    out->in[i] = in[i];
    out->kernel[i] = kernel ? kernel[i] : attrs->kernel[i];
    if (out->kernel[i] < 1 || out->kernel[i] >= SC_WINDOW_MAX_VALUE)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "kernel size %lld along spatial axis %d is out of "
                          "range",
                          (long long)out->kernel[i], i);
    out->stride[i] = attrs->n_strides >= 0 ? attrs->strides[i] : 1;
    out->dilation[i] = attrs->n_dilations >= 0 ? attrs->dilations[i] : 1;
    extent = sc_window_extent(out, i);

    switch (attrs->auto_pad) {
    case SC_AUTO_PAD_NOTSET:
      if (attrs->n_pads >= 0) {
        out->pad_begin[i] = attrs->pads[i];
        out->pad_end[i] = attrs->pads[i + n_dims];
      }
      out->out[i] = explicit_out(in[i], out->pad_begin[i], out->pad_end[i],
                                 extent, out->stride[i], attrs->ceil_mode);
      break;
    case SC_AUTO_PAD_VALID:
      out->out[i] =
          explicit_out(in[i], 0, 0, extent, out->stride[i], attrs->ceil_mode);
      break;
    case SC_AUTO_PAD_SAME_UPPER:
    case SC_AUTO_PAD_SAME_LOWER: {
      int64_t total;
      out->out[i] = (in[i] + out->stride[i] - 1) / out->stride[i];
      total = (out->out[i] - 1) * out->stride[i] + extent - in[i];
      if (total < 0)
        total = 0;
      /* the odd pixel goes at the end for SAME_UPPER */
      out->pad_begin[i] = attrs->auto_pad == SC_AUTO_PAD_SAME_UPPER
                              ? total / 2
                              : total - total / 2;
      out->pad_end[i] = total - out->pad_begin[i];
      break;
    }
    }
    if (out->out[i] < 1)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT,
          "window of extent %lld does not fit the padded "
          "input of size %lld along spatial axis %d",
          (long long)extent,
          (long long)(in[i] + out->pad_begin[i] + out->pad_end[i]), i);
  }
  return SC_OK;
}
