/* The runtime graph: values (named edges), nodes, attributes, opsets.
 *
 * A graph is built by a loader (loaders/onnx.c) or by hand (tests) with the
 * sc_graph_* builder functions, then prepared once (runtime/executor.h):
 * topological sort, kernel lookup for every node, kernel prepare and static
 * shape inference. The runtime never sees protobuf.
 *
 * Ownership: the graph owns its values, nodes, attributes, initializers and
 * the kernels' private state. Names are copied. */
#ifndef SC_RUNTIME_GRAPH_H
#define SC_RUNTIME_GRAPH_H

#include <stdint.h>

#include "runtime/error.h"
#include "runtime/tensor.h"

struct sc_op;
struct sc_graph;
struct sc_threadpool;

/* Attribute types, numbered as ONNX's AttributeProto.AttributeType. */
enum sc_attr_type {
  SC_ATTR_UNDEFINED = 0,
  SC_ATTR_FLOAT = 1,
  SC_ATTR_INT = 2,
  SC_ATTR_STRING = 3,
  SC_ATTR_TENSOR = 4,
  SC_ATTR_GRAPH = 5,
  SC_ATTR_FLOATS = 6,
  SC_ATTR_INTS = 7,
  SC_ATTR_STRINGS = 8,
  SC_ATTR_TENSORS = 9,
  SC_ATTR_GRAPHS = 10,
  SC_ATTR_SPARSE_TENSOR = 11,
  SC_ATTR_SPARSE_TENSORS = 12,
  SC_ATTR_TYPE_PROTO = 13,
  SC_ATTR_TYPE_PROTOS = 14
};

struct sc_attr {
  char *name;
  enum sc_attr_type type;
  float f;
  int64_t i;
  char *s; /* NUL-terminated copy; s_size excludes the NUL */
  size_t s_size;
  struct sc_tensor *t;
  int64_t n; /* element count of floats / ints / strings / tensors */
  float *floats;
  int64_t *ints;
  char **strings;
  struct sc_tensor **tensors;
  struct sc_graph
      *g; /* subgraph (GRAPH); kernels that need it are unsupported */
};

/* Quantization parameters attached to a value (per tensor or per axis),
 * exposed so that compare/ can report errors in LSB (issue: quantized
 * stages). `scale` and `zero_point` have n_params entries. */
struct sc_quant {
  enum sc_dtype dtype; /* the integer type: int8, uint8, int32 ... */
  int axis;            /* -1 for per-tensor */
  int64_t n_params;
  float *scale;
  int64_t *zero_point;
};

/* A named edge: a graph input, an initializer, or a node output. */
struct sc_value {
  char *name;
  enum sc_dtype dtype;           /* static dtype; UNDEFINED until known */
  int rank;                      /* static shape: rank -1 while unknown */
  int64_t dims[SC_MAX_RANK];     /* -1 for a symbolic or unknown dim */
  struct sc_tensor *initializer; /* constant data, or NULL */
  int producer;                  /* index of the producing node, or -1 */
  int n_consumers;               /* nodes reading this value */
  int is_input;                  /* a graph input fed by the caller */
  int is_output;                 /* a graph output */
  struct sc_quant *quant;        /* NULL unless the value is quantized */
};

struct sc_node {
  char *name; /* never NULL: the loader names anonymous nodes */
  char *op_type;
  char *domain;  /* "" for the default ONNX domain */
  int64_t opset; /* version of the node's domain in the model */
  int n_inputs;
  int *inputs; /* value indices; -1 for an omitted optional input */
  int n_outputs;
  int *outputs; /* value indices; -1 for an omitted optional output */
  int n_attrs;
  struct sc_attr *attrs;

  /* Set by prepare. */
  const struct sc_op *op;
  void *state; /* kernel private state, released by op->release */
  struct sc_graph *graph;

  /* Bound by the executor around prepare/reshape/run: one tensor per
   * input/output slot; NULL for omitted ones. During static shape inference
   * an input's data is NULL when its value is not a known constant. */
  struct sc_tensor **in;
  struct sc_tensor **out;
  int shape_deferred; /* set via sc_node_defer(): outputs' shapes unknown */
  /* set by the executor while a Conv runs whose only reader is a Relu it
   * fused (sc_graph.plain_runs): output 0 is stored through Relu */
  int fused_relu;
  /* set by the executor while a ConvInteger runs that computes the Cast,
   * the Mul by a scalar and the per-channel Add after it (a quantized tail
   * nobody observes, sc_graph.unobserved): output 0 receives
   * (float)acc * scale (+ bias[m]), float bits in the int32 tensor, which
   * the tail's outputs then share. NULL when not fused. */
  const struct sc_tensor *tail_scale, *tail_bias;
  /* set by reshape: bit i when the node's state keeps everything it needs
   * of input i's constant data (Conv: W packed), so that sc_graph_prepare
   * may free an initializer that every one of its readers keeps */
  uint32_t holds_input;
};

struct sc_opset {
  char *domain;
  int64_t version;
};

struct sc_graph {
  char *name;
  char *source; /* file the graph came from, for messages ("" if none) */
  int n_values;
  struct sc_value *values;
  int n_nodes;
  struct sc_node *nodes; /* topologically ordered once prepared */
  int n_inputs;
  int *inputs; /* graph inputs the caller feeds, in model order */
  int n_outputs;
  int *outputs;
  int n_opsets;
  struct sc_opset *opsets;
  int64_t ir_version;
  char *producer_name;
  char *producer_version;

  /* executor state (runtime/executor.c) */
  /* set before sc_graph_prepare when no run will have an observer: the
   * memory plan then gives the outputs of Reshape, Identity, a Cast to the
   * same type ... their input's buffer instead of a copy, and a Relu that
   * is a float Conv's only reader is applied by the Conv (a run with an
   * observer still copies, into pool storage, and runs the Relu) */
  int plain_runs;
  /* per value, set by sc_graph_set_unobserved: 1 when no run's observer
   * will read it (NULL: any may be read, unless plain_runs) */
  unsigned char *unobserved;
  int prepared;
  struct sc_pool *pool;
  struct sc_threadpool *threads; /* set for the duration of a run */
  void *name_index;              /* value name hash table */
  void *plan;                    /* executor's per-node bookkeeping */
};

/* --- building ------------------------------------------------------- */

sc_status sc_graph_create(struct sc_graph **out, struct sc_error *err);
void sc_graph_free(struct sc_graph *g);

/* Sets the version of an opset domain ("" or "ai.onnx" = default). */
sc_status sc_graph_set_opset(struct sc_graph *g, const char *domain,
                             int64_t version, struct sc_error *err);
/* Version of a domain imported by the model, or -1. */
int64_t sc_graph_opset(const struct sc_graph *g, const char *domain);

/* Index of the value with this name, creating it if absent. */
sc_status sc_graph_value(struct sc_graph *g, const char *name, int *index,
                         struct sc_error *err);
/* Index of an existing value, or -1. */
int sc_graph_find_value(const struct sc_graph *g, const char *name);

/* Declares a graph input with its dtype and shape (dims may be -1 for
 * symbolic dims). */
sc_status sc_graph_add_input(struct sc_graph *g, const char *name,
                             enum sc_dtype dtype, int rank, const int64_t *dims,
                             struct sc_error *err);
sc_status sc_graph_add_output(struct sc_graph *g, const char *name,
                              struct sc_error *err);
/* Attaches constant data to a value; takes ownership of t (even on error).
 * An initializer that is also a graph input keeps is_input (ONNX: the
 * caller may override it) unless the IR version says otherwise. */
sc_status sc_graph_add_initializer(struct sc_graph *g, const char *name,
                                   struct sc_tensor *t, struct sc_error *err);

/* Appends a node. Empty input/output names ("") are omitted slots. The
 * returned node stays valid until the next sc_graph_add_node. */
sc_status sc_graph_add_node(struct sc_graph *g, const char *name,
                            const char *op_type, const char *domain,
                            int n_inputs, const char *const *inputs,
                            int n_outputs, const char *const *outputs,
                            struct sc_node **out, struct sc_error *err);

/* Attribute setters (copy their arguments; tensors are taken over). */
sc_status sc_node_set_attr_int(struct sc_node *node, const char *name,
                               int64_t v, struct sc_error *err);
sc_status sc_node_set_attr_float(struct sc_node *node, const char *name,
                                 float v, struct sc_error *err);
sc_status sc_node_set_attr_string(struct sc_node *node, const char *name,
                                  const char *v, size_t size,
                                  struct sc_error *err);
sc_status sc_node_set_attr_ints(struct sc_node *node, const char *name,
                                int64_t n, const int64_t *v,
                                struct sc_error *err);
sc_status sc_node_set_attr_floats(struct sc_node *node, const char *name,
                                  int64_t n, const float *v,
                                  struct sc_error *err);
sc_status sc_node_set_attr_tensor(struct sc_node *node, const char *name,
                                  struct sc_tensor *t, struct sc_error *err);
/* Adds an attribute of any type already filled in by the caller (loader);
 * takes ownership of its pointers. */
sc_status sc_node_add_attr(struct sc_node *node, struct sc_attr *attr,
                           struct sc_error *err);

/* --- reading attributes (for kernels) --------------------------------- */

const struct sc_attr *sc_node_attr(const struct sc_node *node,
                                   const char *name);
/* Typed getters: an absent attribute gives the default; one of the wrong
 * type fails with SC_ERR_FORMAT naming the node and attribute. */
sc_status sc_node_attr_int(const struct sc_node *node, const char *name,
                           int64_t def, int64_t *out, struct sc_error *err);
sc_status sc_node_attr_float(const struct sc_node *node, const char *name,
                             float def, float *out, struct sc_error *err);
sc_status sc_node_attr_string(const struct sc_node *node, const char *name,
                              const char *def, const char **out,
                              struct sc_error *err);
/* INTS: *n = -1 and *v = NULL when absent. */
sc_status sc_node_attr_ints(const struct sc_node *node, const char *name,
                            int64_t *n, const int64_t **v,
                            struct sc_error *err);
sc_status sc_node_attr_floats(const struct sc_node *node, const char *name,
                              int64_t *n, const float **v,
                              struct sc_error *err);

/* Records a failure naming the node: "node 'conv1' (Conv): <message>". */
sc_status sc_node_fail(const struct sc_node *node, struct sc_error *err,
                       sc_status status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* --- queries -------------------------------------------------------- */

/* Name of a node's input/output value, or "" for an omitted slot. */
const char *sc_node_input_name(const struct sc_node *node, int i);
const char *sc_node_output_name(const struct sc_node *node, int i);

#endif
