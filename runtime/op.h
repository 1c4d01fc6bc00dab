/* Operator registry: one row per (domain, op_type, version range) whose
 * semantics differ, in the style of libonnx's per-node lifecycle.
 *
 * A kernel is four functions, all given the node with node->in / node->out
 * bound (see runtime/graph.h):
 *
 *   prepare  once per node, before anything runs. Parses and validates
 *            attributes, checks the number of inputs and their dtypes
 *            (node->in[i]->dtype; node->in[i] == NULL for an omitted optional
 *            input), sets every output dtype (node->out[i]->dtype), and may
 *            allocate node->state. Shapes are NOT known yet. An unsupported
 *            dtype or attribute value fails with SC_ERR_UNSUPPORTED; a
 *            malformed one with SC_ERR_FORMAT. Both name the node
 *            (sc_node_fail).
 *   reshape  computes output shapes from input shapes (and, for shape-like
 *            inputs such as Reshape's `shape`, from input values) with
 *            sc_tensor_set_shape(node->out[i], ...). Called at prepare time
 *            for static shape inference, where an input's data may be NULL
 *            (value not known before running): then call sc_node_defer(node)
 *            and return SC_OK. Called again before every run with all data
 *            present. An output whose shape depends on computed values
 *            (NonZero, TopK's K ...) is left with rank -1: run allocates it
 *            with sc_node_alloc_output().
 *   run      computes. Outputs with a known shape are already allocated (not
 *            zeroed). Never validates what prepare/reshape could have.
 *   release  frees node->state (may be NULL when there is no state).
 *
 * A family file (runtime/ops/<family>.c) defines a table of rows; the
 * registry (runtime/registry.c) lists the family tables. */
#ifndef SC_RUNTIME_OP_H
#define SC_RUNTIME_OP_H

#include <limits.h>
#include <stddef.h>

#include "runtime/graph.h"

typedef sc_status (*sc_op_prepare_fn)(struct sc_node *node,
                                      struct sc_error *err);
typedef sc_status (*sc_op_reshape_fn)(struct sc_node *node,
                                      struct sc_error *err);
typedef sc_status (*sc_op_run_fn)(struct sc_node *node, struct sc_error *err);
typedef void (*sc_op_release_fn)(struct sc_node *node);

/* Row flags. */
enum {
  /* float16/bfloat16 inputs are converted to float, the float kernel runs,
   * and float outputs are rounded back to the input's type: the generic
   * reduced-precision path (the kernel itself only sees float). */
  SC_OP_F16_VIA_FLOAT = 1u << 0,
  /* the kernel reads only its inputs' shapes, never their data (Shape,
   * Size): it is evaluated during prepare as soon as the shapes are
   * known, so shape arithmetic on activations gives static shapes */
  SC_OP_SHAPE_ONLY = 1u << 1,
  /* with SC_OP_F16_VIA_FLOAT: only output 0 is rounded back to the reduced
   * type; the others stay float (LayerNormalization's Mean/InvStdDev) */
  SC_OP_F16_FIRST_OUTPUT_ONLY = 1u << 2,
  /* output 0 holds input 0's bytes unchanged (Reshape, Identity ...): the
   * executor may give it input 0's buffer instead of running the copy */
  SC_OP_OUTPUT_IS_INPUT0 = 1u << 3,
  /* with SC_OP_F16_VIA_FLOAT: when every input is float16, the kernel takes
   * them itself (prepare sees float16 inputs): it converts each stretch of
   * elements to float in registers or on the stack, computes as the float
   * kernel does and rounds back, element for element what the generic path
   * gives, without the whole-tensor float copies (element-wise rows) */
  SC_OP_F16_ROWS = 1u << 4
};

#define SC_OPSET_LATEST INT_MAX

struct sc_op {
  const char *domain; /* "" = ai.onnx, "com.microsoft", ... */
  const char *op_type;
  int since_version;
  int until_version; /* inclusive; SC_OPSET_LATEST when current */
  sc_op_prepare_fn prepare;
  sc_op_reshape_fn reshape;
  sc_op_run_fn run;
  sc_op_release_fn release;
  unsigned flags;
};

struct sc_op_family {
  const char *name;
  const struct sc_op *ops;
  size_t n_ops;
};

/* The row for op_type in domain at the given opset version, or NULL. */
const struct sc_op *sc_op_lookup(const char *domain, const char *op_type,
                                 int64_t version);

/* All family tables (for the README's operator list and `inspect`). */
const struct sc_op_family *sc_op_families(size_t *n_families);

/* For reshape: marks the node's output shapes as unknown until run time. */
sc_status sc_node_defer(struct sc_node *node);

/* For run: gives output i the shape and storage from the graph's pool. */
sc_status sc_node_alloc_output(struct sc_node *node, int i, int rank,
                               const int64_t *dims, struct sc_error *err);

/* The thread pool of the current run (may be NULL: run serially). */
struct sc_threadpool *sc_node_threads(const struct sc_node *node);

/* 1 if input i is bound to an initializer's own data: a constant of the
 * model, not a graph input nor a feed overriding it, nor a float copy of
 * a float16 constant (made again for every run). Kernels that keep what
 * they derive from such an input (packed weights) may set holds_input. */
int sc_node_input_is_constant(const struct sc_node *node, int i);

/* Shared reshape helpers for kernels. */
/* Output 0 has the shape of input 0. */
sc_status sc_reshape_like_input0(struct sc_node *node, struct sc_error *err);
/* Multidirectional (numpy) broadcast of two shapes into out_dims; fails
 * naming the node when they do not broadcast. */
sc_status sc_broadcast_shapes(const struct sc_node *node, int rank_a,
                              const int64_t *dims_a, int rank_b,
                              const int64_t *dims_b, int *rank_out,
                              int64_t *dims_out, struct sc_error *err);
/* Normalises an axis in [-rank, rank) (or [-rank-1, rank] when
 * allow_end) to [0, rank); fails naming the node otherwise. */
sc_status sc_normalize_axis(const struct sc_node *node, int64_t axis, int rank,
                            int allow_end, int *out, struct sc_error *err);
/* Checks input i's dtype against a list of accepted types; the message
 * names the node and the input. `input` may be NULL (then OK). */
sc_status sc_check_dtype(const struct sc_node *node, int i,
                         const enum sc_dtype *accepted, int n_accepted,
                         struct sc_error *err);
/* Checks the number of inputs is in [min, max] and outputs in
 * [min_out, max_out], not counting omitted trailing ones, and that none of
 * the first min_in inputs and min_out outputs is omitted (an empty name). */
sc_status sc_check_arity(const struct sc_node *node, int min_in, int max_in,
                         int min_out, int max_out, struct sc_error *err);
/* The same for an operator with optional inputs among its first min_in:
 * bit i of optional_in set when input i may be omitted. */
sc_status sc_check_arity_optional(const struct sc_node *node, int min_in,
                                  int max_in, int min_out, int max_out,
                                  uint32_t optional_in, struct sc_error *err);

#endif
