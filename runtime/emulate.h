/* The emulated integer accelerator: runs a QDQ (fake-quant) graph the way
 * an int8 NPU executes it, to predict device behaviour without a device
 * (the "compiled" stage of `emulate: {type: int8, rounding: ...}` in
 * stagecheck.yaml, spec/cli.md).
 *
 * sc_graph_emulate rewrites a QDQ graph in place: every
 *   DequantizeLinear -> {Conv, MatMul, Gemm, Add, Mul, Concat,
 *                        GlobalAveragePool, Sigmoid, Tanh, HardSigmoid,
 *                        Relu, LeakyRelu, Clip, HardSwish} -> QuantizeLinear
 * island whose quantization parameters are constants becomes one integer
 * node of the private domain "stagecheck.emulate" that reads the integer
 * tensors and writes the QuantizeLinear's integer output under its
 * original name. Everything else (the DequantizeLinear nodes, whose outputs
 * are the rows the comparison matches, and operators without an integer
 * form) is kept and runs with ONNX reference semantics. The exact integer
 * arithmetic is documented at the top of runtime/emulate.c and in
 * docs/internals/EMULATION.md.
 *
 * The fixed-point primitives are exported for the kernels
 * (runtime/ops/quant_emulate.c) and for tests. */
#ifndef SC_RUNTIME_EMULATE_H
#define SC_RUNTIME_EMULATE_H

#include <stdint.h>

#include "runtime/graph.h"

enum sc_emulate_rounding {
  /* gemmlowp / TFLite reference MultiplyByQuantizedMultiplier:
   * SaturatingRoundingDoublingHighMul (ties toward +infinity) then
   * RoundingDivideByPOT (ties away from zero); with the usual right shift
   * the last rounding decides, so exact ties go away from zero */
  SC_EMULATE_HALF_AWAY_FROM_ZERO = 0,
  /* the exact product x * multiplier / 2^(31 - shift) rounded once, ties
   * to even */
  SC_EMULATE_HALF_EVEN = 1
};

struct sc_emulate_options {
  enum sc_emulate_rounding rounding;
};

/* "half_away_from_zero" / "half_even" <-> enum. from_name returns 0 on
 * success, -1 for an unknown name. */
int sc_emulate_rounding_from_name(const char *name,
                                  enum sc_emulate_rounding *out);
const char *sc_emulate_rounding_name(enum sc_emulate_rounding rounding);

/* Rewrites g in place (see above). g may be prepared or not; on success it
 * is left unprepared (sc_graph_prepare / sc_graph_run prepare it again),
 * keeps its inputs, outputs and tensor names, imports the domain
 * "stagecheck.emulate" version 1, and carries the quantization annotations
 * of runtime/quant.h. *n_rewritten (may be NULL) receives the number of
 * islands turned into integer nodes. On failure (SC_ERR_NOMEM only) g is
 * unchanged. */
sc_status sc_graph_emulate(struct sc_graph *g,
                           const struct sc_emulate_options *options,
                           int *n_rewritten, struct sc_error *err);

/* --- fixed-point arithmetic (runtime/ops/quant_emulate.c) ------------- */

/* TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31) with
 * multiplier in [2^30, 2^31) (half-away rounding of the mantissa), or
 * (0, 0) for real == 0 or real < 2^-32; shift is clamped to 30. Returns -1
 * (and (0, 0)) for a negative or non-finite real. */
int sc_emulate_quantize_multiplier(double real, int32_t *multiplier,
                                   int *shift);

/* gemmlowp's SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded to
 * nearest, ties toward +infinity (its nudge is 2^30 for a non-negative
 * product, 1 - 2^30 otherwise, then the division truncates); INT32_MAX for
 * a == b == INT32_MIN. */
int32_t sc_emulate_srdhm(int32_t a, int32_t b);

/* gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties
 * away from zero; exponent in [0, 31]. */
int32_t sc_emulate_rounding_divide_by_pot(int32_t x, int exponent);

/* x * multiplier * 2^(shift - 31) rounded to an integer as `rounding`
 * says and saturated to int32. A left shift (shift > 0) saturates x * 2^shift
 * to int32 first in the half-away mode (TFLite multiplies without a check). */
int32_t sc_emulate_multiply(int32_t x, int32_t multiplier, int shift,
                            enum sc_emulate_rounding rounding);

/* Rounds a real value to an integer with the given rounding. */
double sc_emulate_round(double v, enum sc_emulate_rounding rounding);

#endif
