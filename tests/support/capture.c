#include "tests/support/capture.h"

#include <stdlib.h>
#include <string.h>

#include "tests/support/assertions.h"

sc_status sc_test_capture_outputs(void *user, const struct sc_graph *g,
                                  int node_index,
                                  struct sc_tensor *const *outputs,
                                  struct sc_error *err)
{
  struct sc_test_capture *c = user;
  const struct sc_node *node = &g->nodes[node_index];
  int j;
  for (j = 0; j < node->n_outputs; j++) {
    sc_status st;
    if (!outputs[j] || c->n >= SC_TEST_MAX_CAPTURED)
      continue;
    c->names[c->n] = strdup(g->values[node->outputs[j]].name);
    st = sc_tensor_ref(outputs[j], &c->tensors[c->n], err);
    if (st)
      return st;
    c->n++;
  }
  return SC_OK;
}

void sc_test_capture_run(struct sc_graph *g, const struct sc_tensor *input,
                         struct sc_test_capture *c, struct sc_tensor **outputs)
{
  struct sc_feed feed;
  struct sc_run_options opt;
  struct sc_error err;
  memset(&opt, 0, sizeof opt);
  memset(c, 0, sizeof *c);
  opt.observer = sc_test_capture_outputs;
  opt.observer_user = c;
  feed.name = g->values[g->inputs[0]].name;
  feed.tensor = input;
  if (sc_graph_run(g, 1, &feed, outputs, &opt, &err) != SC_OK)
    fail_msg("%s", err.message);
}

const struct sc_tensor *sc_test_captured(const struct sc_test_capture *c,
                                         const char *name)
{
  int i;
  for (i = 0; i < c->n; i++)
    if (strcmp(c->names[i], name) == 0)
      return c->tensors[i];
  fail_msg("tensor '%s' was not captured", name);
  return NULL;
}

struct sc_tensor *sc_test_capture_run_node(struct sc_graph *g,
                                           const char *node_name,
                                           const struct sc_test_capture *src)
{
  struct sc_feed feeds[16];
  struct sc_run_options opt;
  struct sc_test_capture out;
  struct sc_error err;
  struct sc_tensor *result;
  uint8_t *mask;
  int i, j, n_feeds = 0, index = -1;

  if (sc_graph_prepare(g, &err) != SC_OK)
    fail_msg("%s", err.message);
  for (i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].name, node_name) == 0)
      index = i;
  if (index < 0)
    fail_msg("no node '%s'", node_name);
  mask = calloc((size_t)g->n_nodes, 1);
  assert_non_null(mask);
  mask[index] = 1;
  for (j = 0; j < g->nodes[index].n_inputs; j++) {
    int v = g->nodes[index].inputs[j];
    if (v < 0 || g->values[v].initializer)
      continue;
    if (n_feeds == 16)
      fail_msg("node '%s' has more than 16 inputs to feed", node_name);
    feeds[n_feeds].name = g->values[v].name;
    feeds[n_feeds].tensor = sc_test_captured(src, g->values[v].name);
    n_feeds++;
  }
  memset(&opt, 0, sizeof opt);
  memset(&out, 0, sizeof out);
  opt.node_mask = mask;
  opt.observer = sc_test_capture_outputs;
  opt.observer_user = &out;
  if (sc_graph_run(g, n_feeds, feeds, NULL, &opt, &err) != SC_OK)
    fail_msg("%s: %s", node_name, err.message);
  assert_int_equal(out.n, 1);
  result = out.tensors[0];
  free(out.names[0]);
  free(mask);
  return result;
}

void sc_test_capture_free(struct sc_test_capture *c)
{
  int i;
  for (i = 0; i < c->n; i++) {
    free(c->names[i]);
    sc_tensor_free(c->tensors[i]);
  }
  c->n = 0;
}
