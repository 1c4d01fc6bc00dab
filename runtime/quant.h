/* Quantization metadata of a graph's tensors, for the comparison.
 *
 * sc_graph_annotate_quant fills struct sc_value.quant (runtime/graph.h) for
 * every tensor whose quantization parameters are known before running,
 * so that compare/ can express errors in LSB, count saturated elements and
 * report per-channel scales:
 *
 *   QuantizeLinear      its integer output and the float tensor it
 *                       quantizes (the latter's "quantized view");
 *   DequantizeLinear    its integer input and its float output;
 *   QLinearConv, QLinearMatMul, QGemm, QLinearAdd, QLinearMul, QLinearSigmoid,
 *   QLinearLeakyRelu, QLinearConcat, QLinearGlobalAveragePool,
 *   QLinearAveragePool  every quantized input and the output.
 *
 * (A graph rewritten by sc_graph_emulate keeps the annotations its QDQ
 * form had: the rewrite annotates first and carries them over.)
 *
 * Parameters are read only from constants (initializers, or Constant
 * nodes with a `value` tensor); a tensor whose scale is computed at run
 * time (DynamicQuantizeLinear, ConvInteger/MatMulInteger chains of dynamic
 * quantization) is left unannotated. Per-axis parameters keep their axis
 * (normalised with the tensor's static rank; left unannotated when that
 * rank is unknown and the axis negative).
 *
 * When several nodes describe one tensor, the first one in node order
 * wins, except that the node producing a tensor takes precedence over its
 * consumers; an existing annotation is never replaced, so the pass is
 * idempotent and may run before or after sc_graph_prepare. */
#ifndef SC_RUNTIME_QUANT_H
#define SC_RUNTIME_QUANT_H

#include <math.h>

#include "runtime/graph.h"

/* Annotates g's values as described above. Fails only with SC_ERR_NOMEM;
 * malformed parameters are skipped (graph preparation reports them). */
sc_status sc_graph_annotate_quant(struct sc_graph *g, struct sc_error *err);

/* New parameters of `dtype` along `axis` (-1: per tensor): n_params
 * scales and zero points, all 0 for the caller to fill. */
sc_status sc_quant_create(enum sc_dtype dtype, int axis, int64_t n_params,
                          struct sc_quant **out, struct sc_error *err);

/* A deep copy of q (NULL gives NULL with SC_OK). */
sc_status sc_quant_clone(const struct sc_quant *q, struct sc_quant **out,
                         struct sc_error *err);

/* Frees an annotation created by this module. NULL is a no-op. */
void sc_quant_free(struct sc_quant *q);

/* The parameters a node computed at run time for its output 0:
 * DynamicQuantizeLinear's y, from its y_scale and y_zero_point outputs
 * (`outputs` as an executor observer receives them). *out is NULL for any
 * other node or when those outputs are missing. */
sc_status sc_quant_from_run(const struct sc_node *node,
                            struct sc_tensor *const *outputs,
                            struct sc_quant **out, struct sc_error *err);

/* The representable range of an integer quantization type. Returns 0 for
 * int8, uint8, int16, uint16 and int32; -1 for any other dtype, leaving
 * *qmin and *qmax untouched. */
int sc_quant_range(enum sc_dtype dtype, int32_t *qmin, int32_t *qmax);

/* nearbyint() in the default rounding mode (half to even) without the
 * library call: adding and subtracting 2^52 rounds a magnitude below 2^52
 * to an integer; larger magnitudes are integers already, and infinities
 * and NaN are returned as they are, as nearbyint returns them. */
static inline double sc_round_half_even(double x)
{
  const double two_52 = 4503599627370496.0;
  double m = fabs(x);
  if (!(m < two_52))
    return x;
  return copysign((m + two_52) - two_52, x);
}

#endif
