/* Executor bookkeeping per node, private to runtime/. */
#ifndef SC_RUNTIME_PLAN_H
#define SC_RUNTIME_PLAN_H

#include <stdint.h>

#include "runtime/graph.h"

struct sc_node_plan {
  int prepared;            /* kernel prepare succeeded */
  int via_float;           /* float16/bfloat16 inputs computed in float */
  enum sc_dtype reduced;   /* the reduced type when via_float */
  uint64_t narrow_outputs; /* outputs rounded back to `reduced` */
  int *out_slot;           /* per output: its slot of the memory plan, or -1 */
  /* via_float: per input / output, the slot of its float copy, or -1 */
  int *in_shadow_slot, *out_shadow_slot;
  uint64_t graph_outputs; /* outputs (bit j) that are graph outputs */
  /* output 0 takes input 0's buffer (SC_OP_OUTPUT_IS_INPUT0, a Cast to
   * the input's own type, or a Relu fused into the Conv before it), has no
   * slot, and keeps input 0's slot busy */
  int alias;
  int fuse_relu; /* a Conv that applies the Relu reading its output */
  /* a quantized tail (mark_quant_tails): on the ConvInteger, the values of
   * the scale and the per-channel bias it applies (bias -1 when there is
   * no Add) and its members; on the Cast, Mul and Add after it, the
   * ConvInteger's index (tail_head; -1 elsewhere) */
  int tail_scale, tail_bias;
  int tail_members[3], n_tail_members;
  int tail_head;
};

struct sc_plan {
  struct sc_node_plan *nodes; /* indexed like graph->nodes */
  /* the memory plan of full runs (runtime/executor.c, plan_memory) */
  struct sc_slot *slots;
  int n_slots;
};

void sc_plan_free(struct sc_graph *g);

#endif
