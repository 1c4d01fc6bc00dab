/* Integer convolution and matrix product cores shared by ConvInteger,
 * QLinearConv, MatMulInteger, QLinearMatMul (runtime/ops/quant_linear.c)
 * and the emulated accelerator's Conv/MatMul/Gemm (quant_emulate.c).
 *
 * A core computes exact int32 accumulators
 *   acc = sum_k (x - x_zero_point) * (w - w_zero_point)
 * (wrapping around on overflow, as int32 hardware does) with the 8-bit
 * GEMM of quant_gemm.h and hands every piece of an output row to an `emit`
 * callback that turns it into the operator's output (requantize, ...).
 * Attributes are parsed by *_prepare into a struct owned by the kernel's
 * node->state; shapes are derived by *_reshape, which sets the output shape
 * and packs constant weights once for the GEMM; *_run computes; *_release
 * frees what reshape cached (the struct itself stays the caller's). */
#ifndef SC_RUNTIME_OPS_QUANT_LINEAR_H
#define SC_RUNTIME_OPS_QUANT_LINEAR_H

#include <stdint.h>

#include "runtime/op.h"

enum sc_qconv_auto_pad {
  SC_QCONV_NOTSET,
  SC_QCONV_SAME_UPPER,
  SC_QCONV_SAME_LOWER,
  SC_QCONV_VALID
};

struct sc_qconv {
  /* attributes (prepare) */
  enum sc_qconv_auto_pad auto_pad;
  int64_t group;
  int64_t n_kernel_attr, n_strides, n_dilations, n_pads; /* -1 if absent */
  int64_t kernel_attr[SC_MAX_RANK], strides[SC_MAX_RANK],
      dilations[SC_MAX_RANK], pads[2 * SC_MAX_RANK];
  /* geometry (reshape) */
  int n_spatial;
  int64_t batch, in_channels, out_channels;
  int64_t in_size[SC_MAX_RANK], out_size[SC_MAX_RANK], kernel[SC_MAX_RANK],
      stride[SC_MAX_RANK], dilation[SC_MAX_RANK], pad_begin[SC_MAX_RANK];
  int64_t kernel_elements; /* product of kernel[] */
  int64_t out_pixels;      /* product of out_size[] */
  /* the weights packed for the GEMM when they are a constant (reshape):
   * group g's packed A at w_packed + g * sc_qgemm_a_size(M/group, K) */
  uint8_t *w_packed;
  int32_t *w_row_sums; /* out_channels: sums of the packed values */
};

/* Receives accumulators acc[0 .. count) of output channel `m` of image `n`
 * for the output pixels [pixel0, pixel0 + count) (NCHW order: they go to
 * y[n][m][pixel0 ...]). Called from several threads at once, for disjoint
 * pieces. */
typedef void (*sc_qconv_emit_fn)(void *ctx, int64_t n, int64_t m,
                                 int64_t pixel0, const int32_t *acc,
                                 int64_t count);

/* Parses auto_pad, dilations, group, kernel_shape, pads, strides.
 * SC_ERR_FORMAT for malformed values, SC_ERR_UNSUPPORTED for an unknown
 * auto_pad; the message names the node. */
sc_status sc_qconv_prepare(const struct sc_node *node, struct sc_qconv *conv,
                           struct sc_error *err);

/* Checks x (N, C, spatial...) against w (M, C/group, kernel...), derives
 * the geometry and sets node->out[0]'s shape (N, M, out spatial...). The
 * first time it sees w as a constant (an initializer the caller cannot
 * feed), packs it into conv->w_packed. */
sc_status sc_qconv_reshape(struct sc_node *node, struct sc_qconv *conv,
                           const struct sc_tensor *x, const struct sc_tensor *w,
                           struct sc_error *err);

/* Runs the convolution: x_zp scalar (NULL = 0), w_zp scalar or one per
 * output channel (NULL = 0). Padding contributes 0 (it is x_zp). With
 * emit NULL, ctx is the int32 output (N, M, pixels) and the accumulators
 * are stored there directly. Fails only with SC_ERR_NOMEM (work
 * buffers). */
sc_status sc_qconv_run(const struct sc_node *node, const struct sc_qconv *conv,
                       const struct sc_tensor *x, const struct sc_tensor *x_zp,
                       const struct sc_tensor *w, const struct sc_tensor *w_zp,
                       sc_qconv_emit_fn emit, void *ctx, struct sc_error *err);

/* Frees the packed weights (the struct itself is the caller's). */
void sc_qconv_release(struct sc_qconv *conv);

/* Batched matrix product with numpy broadcasting of the batch dims and
 * numpy's rank-1 promotion of either operand. */
struct sc_qmatmul {
  int64_t m, n, k;
  int64_t n_batches;
  int out_rank;
  int64_t batch_dims[SC_MAX_RANK];
  int64_t a_batch_stride[SC_MAX_RANK], b_batch_stride[SC_MAX_RANK];
  int n_batch_dims;
  /* B packed for the GEMM when it is a constant (reshape): matrix t of
   * B's batch at b_packed + t * sc_qgemm_b_size(k, n) */
  uint8_t *b_packed;
  int32_t *b_col_sums; /* n per matrix */
};

/* Receives row i (n accumulators, columns 0..n) of batch matrix `batch`;
 * the output element (batch, i, j) is at ((batch * m) + i) * n + j. Called
 * from several threads at once, for different rows. */
typedef void (*sc_qmatmul_emit_fn)(void *ctx, int64_t batch, int64_t i,
                                   const int32_t *acc, int64_t n);

/* Derives the shapes of A x B and sets node->out[0]'s shape; the first
 * time it sees B as a constant, packs it into mm->b_packed. */
sc_status sc_qmatmul_reshape(struct sc_node *node, struct sc_qmatmul *mm,
                             const struct sc_tensor *a,
                             const struct sc_tensor *b, struct sc_error *err);

/* Runs it: a_zp scalar or one per row of A (m), b_zp scalar or one per
 * column of B (n); NULL = 0. With emit NULL, ctx is the int32 output and
 * the accumulators are stored there directly. Fails only with
 * SC_ERR_NOMEM. */
sc_status sc_qmatmul_run(const struct sc_node *node,
                         const struct sc_qmatmul *mm, const struct sc_tensor *a,
                         const struct sc_tensor *a_zp,
                         const struct sc_tensor *b,
                         const struct sc_tensor *b_zp, sc_qmatmul_emit_fn emit,
                         void *ctx, struct sc_error *err);

/* Frees the packed B (the struct itself is the caller's). */
void sc_qmatmul_release(struct sc_qmatmul *mm);

#endif
