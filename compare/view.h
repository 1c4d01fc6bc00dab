/* The matcher's view of one stage: which tensors can be rows, and how a
 * graph's tensors group into what a toolchain may fuse.
 *
 * A graph is read as fusion groups. A group starts at an essential node
 * (Conv, MatMul, Concat, an Add of two activations ... : something no
 * toolchain removes) and continues through the nodes that consume a single
 * activation of the group: absorbable ones (BatchNormalization, Identity,
 * Dropout, Cast, Q/DQ, Reshape, Transpose, Pad, Add/Mul/Div by a constant)
 * and activations (Relu, Clip, Sigmoid, HardSwish ...). Activations split a
 * group into stages; the representative of a stage is its last tensor with
 * the head's element count. Two graphs of the same network then agree on
 * groups and stages whether BatchNormalization was folded, an activation
 * fused, Identity/Dropout removed, or Q/DQ pairs inserted: in a QDQ graph the
 * representative of a stage is the DequantizeLinear output, its quantized
 * view (spec/report.md).
 *
 * A dump is a flat list of tensors, each its own representative.
 *
 * Ownership: a view borrows the graph (which must outlive it and be
 * prepared, for static shapes) and owns everything else. */
#ifndef SC_COMPARE_VIEW_H
#define SC_COMPARE_VIEW_H

#include <stdint.h>

#include "runtime/graph.h"

/* One tensor of a stage, graph value or dump entry. */
struct sc_view_tensor {
  char *name;
  enum sc_dtype dtype;
  int rank; /* -1 when unknown */
  int64_t dims[SC_MAX_RANK];
  int value; /* graph value index, -1 for dump entries */
  int node;  /* producing node, -1 for graph inputs and dump entries */
  int order; /* row order within the view */
  int is_input;
  int layout_nhwc;              /* dump manifest says NHWC */
  const struct sc_quant *quant; /* borrowed */
  /* grouping (graphs; dumps: each entry its own group and stage) */
  int group;  /* index of the group */
  int stage;  /* stage within the group */
  int is_rep; /* the stage's representative */
};

struct sc_view_group {
  int head;         /* tensor index of the head */
  const char *kind; /* class of the head op ("Conv", "MatMul", "Input" ...) */
  int n_inputs;     /* activation inputs: heads of other groups */
  int *inputs;      /* group indices, sorted for commutative kinds */
  int n_stages;
  int *stage_rep;        /* tensor index of each stage's representative */
  const char **stage_op; /* op starting each stage (head kind for stage 0) */
};

struct sc_view {
  const struct sc_graph *graph; /* NULL for a dump */
  struct sc_view_tensor *tensors;
  int n_tensors;
  struct sc_view_group *groups;
  int n_groups;
  int *tensor_of_value; /* graph value -> tensor index, or -1 */
  int *by_name;         /* tensor indices ordered by name, then index */
};

/* Builds the view of a prepared graph. */
sc_status sc_view_from_graph(const struct sc_graph *g, struct sc_view **out,
                             struct sc_error *err);

/* Builds the view of a dump: entries are copied (names duplicated). */
sc_status sc_view_from_list(const struct sc_view_tensor *entries, int n,
                            struct sc_view **out, struct sc_error *err);

void sc_view_free(struct sc_view *v);

/* The tensor index of a graph value in the view, or -1. */
int sc_view_find_value(const struct sc_view *v, int value);
/* The tensor index with this exact name, or -1. */
int sc_view_find_name(const struct sc_view *v, const char *name);

/* Class of an operator for matching ("QLinearConv" -> "Conv" ...). */
const char *sc_op_class(const char *op_type);

/* Writes the canonical form of a tensor name into buf: every character
 * outside [A-Za-z0-9._-] replaced by '_' (the dump file-stem rule), then
 * the quantization suffixes of common toolchains stripped repeatedly
 * ("_DequantizeLinear_Output", "_QuantizeLinear_Output", "_quantized",
 * "_output_quantized", "_HzCalibration" ...). */
void sc_canonical_name(const char *name, char *buf, size_t size);

#endif
