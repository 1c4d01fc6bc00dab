/* Sliding-window geometry shared by the convolution and pooling kernels:
 * parsing of the ONNX attributes kernel_shape, strides, dilations, pads,
 * auto_pad and ceil_mode, and the output size of a window sliding over the
 * spatial dimensions of an N x C x D1 x ... x Dn input.
 *
 * Parsing happens in a kernel's prepare (shapes unknown); resolving against
 * the input's spatial dimensions happens in reshape. Both fail naming the
 * node (SC_ERR_FORMAT for malformed attributes). Nothing here allocates. */
#ifndef SC_RUNTIME_OPS_CONV_WINDOW_H
#define SC_RUNTIME_OPS_CONV_WINDOW_H

#include <stdint.h>

#include "runtime/graph.h"

/* Spatial dimensions a window can have (N and C excluded). */
#define SC_WINDOW_MAX_DIMS (SC_MAX_RANK - 2)

/* Attribute values are bounded so that every product of two stays far
 * below INT64_MAX. */
#define SC_WINDOW_MAX_VALUE ((int64_t)1 << 31)

enum sc_auto_pad {
  SC_AUTO_PAD_NOTSET = 0,
  SC_AUTO_PAD_SAME_UPPER,
  SC_AUTO_PAD_SAME_LOWER,
  SC_AUTO_PAD_VALID
};

/* The attributes as written in the model; n_* is -1 when absent. */
struct sc_window_attrs {
  enum sc_auto_pad auto_pad;
  int ceil_mode;
  int n_kernel, n_strides, n_dilations, n_pads;
  int64_t kernel[SC_WINDOW_MAX_DIMS];
  int64_t strides[SC_WINDOW_MAX_DIMS];
  int64_t dilations[SC_WINDOW_MAX_DIMS];
  int64_t pads[2 * SC_WINDOW_MAX_DIMS]; /* begins, then ends */
};

/* A window resolved against concrete input dims. */
struct sc_window {
  int n_dims;
  int64_t in[SC_WINDOW_MAX_DIMS];
  int64_t out[SC_WINDOW_MAX_DIMS];
  int64_t kernel[SC_WINDOW_MAX_DIMS];
  int64_t stride[SC_WINDOW_MAX_DIMS];
  int64_t dilation[SC_WINDOW_MAX_DIMS];
  int64_t pad_begin[SC_WINDOW_MAX_DIMS];
  int64_t pad_end[SC_WINDOW_MAX_DIMS];
};

/* Copies the optional INTS attribute `name` into `values` (at most `max`
 * of them), checking every value is in [min, SC_WINDOW_MAX_VALUE); *n is
 * -1 when the attribute is absent. Fails with SC_ERR_FORMAT naming the
 * node and the attribute otherwise. */
sc_status sc_window_read_ints(const struct sc_node *node, const char *name,
                              int max, int64_t min, int *n, int64_t *values,
                              struct sc_error *err);

/* Reads kernel_shape, strides, dilations, pads and auto_pad (and ceil_mode
 * when `with_ceil_mode`) from node. Fails with SC_ERR_FORMAT naming the node
 * on a wrong attribute type, an unknown auto_pad, a list longer than
 * SC_WINDOW_MAX_DIMS, a non-positive kernel/stride/dilation, a negative pad
 * or a value >= SC_WINDOW_MAX_VALUE. */
sc_status sc_window_parse(const struct sc_node *node, int with_ceil_mode,
                          struct sc_window_attrs *out, struct sc_error *err);

/* Resolves the window over n_dims spatial input dims `in`. `kernel` gives
 * the kernel from a weight tensor (then a kernel_shape attribute must match
 * it) or is NULL (then kernel_shape is required). Output sizes follow the
 * ONNX Conv/pool formulas: explicit pads with floor (or ceil with
 * ceil_mode, dropping a last window that would start in the end padding),
 * SAME_UPPER/SAME_LOWER with out = ceil(in / stride), VALID without pads.
 * Fails with SC_ERR_FORMAT naming the node when a list has the wrong length
 * or an output size would be below 1. */
sc_status sc_window_resolve(const struct sc_node *node,
                            const struct sc_window_attrs *attrs, int n_dims,
                            const int64_t *in, const int64_t *kernel,
                            struct sc_window *out, struct sc_error *err);

/* (kernel - 1) * dilation + 1 for dimension i. */
int64_t sc_window_extent(const struct sc_window *w, int i);

#endif
