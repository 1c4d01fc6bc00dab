/* Capturing every node output of a run, by value name, for tests that
 * compare the tensors of two graphs or feed one graph's tensors to
 * another. Every failure here fails the test. */
#ifndef SC_TESTS_SUPPORT_CAPTURE_H
#define SC_TESTS_SUPPORT_CAPTURE_H

#include "runtime/executor.h"
#include "runtime/graph.h"

#define SC_TEST_MAX_CAPTURED 128

/* The outputs seen so far (references, owned), at most
 * SC_TEST_MAX_CAPTURED. */
struct sc_test_capture {
  int n;
  char *names[SC_TEST_MAX_CAPTURED];
  struct sc_tensor *tensors[SC_TEST_MAX_CAPTURED];
};

/* An observer (struct sc_run_options) adding a node's outputs to the
 * struct sc_test_capture `user`. */
sc_status sc_test_capture_outputs(void *user, const struct sc_graph *g,
                                  int node_index,
                                  struct sc_tensor *const *outputs,
                                  struct sc_error *err);

/* Runs g on `input` (fed to the first graph input), capturing every node
 * output into *c (emptied first); outputs[] receives the graph outputs
 * (may be NULL). */
void sc_test_capture_run(struct sc_graph *g, const struct sc_tensor *input,
                         struct sc_test_capture *c, struct sc_tensor **outputs);

/* The captured tensor named `name`; fails the test when there is none. */
const struct sc_tensor *sc_test_captured(const struct sc_test_capture *c,
                                         const char *name);

/* Runs node `node_name` of g alone, fed the tensors of `src` by value
 * name (initializers stay the graph's); returns its output 0 (the caller
 * frees it). */
struct sc_tensor *sc_test_capture_run_node(struct sc_graph *g,
                                           const char *node_name,
                                           const struct sc_test_capture *src);

/* Drops every captured tensor and name. */
void sc_test_capture_free(struct sc_test_capture *c);

#endif
