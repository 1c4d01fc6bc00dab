/* The graph executor: prepare once, run many times, observe every node.
 *
 * sc_graph_prepare sorts the nodes topologically (failing on cycles and on
 * inputs nobody produces), looks up a kernel for every node and prepares it
 * (listing every unsupported node in one SC_ERR_UNSUPPORTED message before
 * anything runs), and infers static shapes, evaluating small constant
 * subgraphs (Shape -> Gather -> Concat ...) so that Reshape targets are
 * known.
 *
 * sc_graph_run executes the nodes in order. After each node the observer
 * (if any) is called with the node's output tensors; it may keep any of them
 * with sc_tensor_ref(). A tensor is recycled as soon as its last consumer
 * has run, unless it is a graph output or the observer kept it.
 *
 * The observer may run the same graph again (a node subset, for isolated
 * re-runs): the outer run resumes unaffected. Such a nested run rebinds the
 * nodes, so the observer must copy the `outputs` pointers it needs before
 * starting it. A graph is not run from two threads at once. */
#ifndef SC_RUNTIME_EXECUTOR_H
#define SC_RUNTIME_EXECUTOR_H

#include <stdint.h>

#include "runtime/graph.h"

/* Called after node `node_index` has run. Returning non-OK aborts the run
 * with that status (the observer records the reason in err). */
typedef sc_status (*sc_observer_fn)(void *user, const struct sc_graph *g,
                                    int node_index,
                                    struct sc_tensor *const *outputs,
                                    struct sc_error *err);

struct sc_run_options {
  struct sc_threadpool *threads; /* NULL: single-threaded */
  sc_observer_fn observer;
  void *observer_user;
  /* Optional subset of nodes to execute (1 = run), indexed like
   * g->nodes. NULL runs every node. Used for isolated re-runs. */
  const uint8_t *node_mask;
  /* The graph outputs are released after their last consumer like any
   * tensor (the observer has seen them); sc_run_finish then has none to
   * give and sc_graph_run must get outputs == NULL. */
  int discard_outputs;
};

/* A tensor bound to a value by name, for feeding inputs of a run: graph
 * inputs, or any intermediate value when running a node subset. */
struct sc_feed {
  const char *name;
  const struct sc_tensor *tensor;
};

/* Structural checks and topological order only (no kernels): every input
 * produced somewhere, no value produced twice, no cycle; sets each value's
 * producer and consumer count. Part of sc_graph_prepare; usable alone on
 * graphs that will not run. */
sc_status sc_graph_sort(struct sc_graph *g, struct sc_error *err);

/* Prepares g for running. Idempotent. On failure the graph cannot run. */
sc_status sc_graph_prepare(struct sc_graph *g, struct sc_error *err);

/* Declares the values no observer of any later run reads (mask[v] != 0;
 * graph outputs are always read). The executor may then compute them
 * inside another kernel and hand the observer a tensor holding something
 * else: a ConvInteger computes the Cast to float, the Mul by a scalar and
 * the per-channel bias Add after it when their intermediate values are
 * unobserved (ONNX Runtime's dynamic quantization writes that chain for
 * every Conv). Call before the first run; on a prepared graph it plans the
 * memory again. */
sc_status sc_graph_set_unobserved(struct sc_graph *g, const unsigned char *mask,
                                  struct sc_error *err);

/* Runs g. `feeds` must cover every graph input (g->inputs) unless a node
 * mask is given, in which case it must cover every value the selected nodes
 * read that no selected node produces and that is not an initializer.
 * On success outputs[i] (caller-allocated array of g->n_outputs pointers)
 * receives a tensor the caller frees; outputs may be NULL to discard them.
 * Input dtypes and shapes are checked against the graph's declarations. */
sc_status sc_graph_run(struct sc_graph *g, int n_feeds,
                       const struct sc_feed *feeds, struct sc_tensor **outputs,
                       const struct sc_run_options *options,
                       struct sc_error *err);

/* The same run taken one node at a time, so that the runs of several
 * graphs can be interleaved (verify runs its stages in lockstep so that a
 * reference tensor is compared soon after it is produced).
 *
 * sc_run_start checks the feeds as sc_graph_run does; each sc_run_step
 * runs the next node (of the mask) and calls the observer, setting *done
 * once no node is left; sc_run_finish hands out the graph outputs like
 * sc_graph_run (outputs may be NULL); sc_run_free releases everything,
 * finished or not. A failed step ends the run (free it). The feeds must
 * outlive the run. A graph has one run in progress at a time, except for
 * runs nested inside its observer (started and freed there). */
struct sc_run;

sc_status sc_run_start(struct sc_graph *g, int n_feeds,
                       const struct sc_feed *feeds,
                       const struct sc_run_options *options,
                       struct sc_run **out, struct sc_error *err);
sc_status sc_run_step(struct sc_run *run, int *done, struct sc_error *err);
/* The node the next step runs, or -1 when the run is over. */
int sc_run_next_node(const struct sc_run *run);
/* Runs node i now, ahead of its turn (steps skip it afterwards), for a
 * caller that needs one value early: every node producing its inputs must
 * have run. A node already run, or outside the mask, is left alone. */
sc_status sc_run_node(struct sc_run *run, int i, struct sc_error *err);
/* 1 when node i is selected and has not run yet. */
int sc_run_node_pending(const struct sc_run *run, int i);
sc_status sc_run_finish(struct sc_run *run, struct sc_tensor **outputs,
                        struct sc_error *err);
void sc_run_free(struct sc_run *run);

/* Human-readable one-line description of a node for messages:
 * "Conv 'conv1'". Written into buf. */
const char *sc_node_describe(const struct sc_node *node, char *buf,
                             size_t size);

#endif
