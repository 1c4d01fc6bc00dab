/* The executor: topological order, static shapes, the observer, memory
 * recycling, node subsets, input checks and the float16-via-float path.
 * Graphs are built by hand with the builder API from Add and Relu. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/conv_kernels.h"
#include "runtime/plan.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

static struct sc_graph *new_graph(void)
{
  struct sc_graph *g = NULL;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "", 13, NULL), SC_OK);
  return g;
}

static void add_node(struct sc_graph *g, const char *name, const char *op,
                     const char *in0, const char *in1, const char *out)
{
  const char *ins[2] = {in0, in1};
  const char *outs[1] = {out};
  assert_int_equal(
      sc_graph_add_node(g, name, op, "", in1 ? 2 : 1, ins, 1, outs, NULL, NULL),
      SC_OK);
}

/* relu chain x -> r0 -> r1 -> ... -> r{n-1}; nodes added in reverse */
static struct sc_graph *relu_chain(int n, int64_t size)
{
  struct sc_graph *g = new_graph();
  int64_t dims[1] = {size};
  char in[32], out[32], name[32];
  int i;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  for (i = n - 1; i >= 0; i--) {
    snprintf(in, sizeof in, i ? "r%d" : "x", i - 1);
    snprintf(out, sizeof out, "r%d", i);
    snprintf(name, sizeof name, "relu%d", i);
    add_node(g, name, "Relu", in, NULL, out);
  }
  snprintf(out, sizeof out, "r%d", n - 1);
  assert_int_equal(sc_graph_add_output(g, out, NULL), SC_OK);
  return g;
}

struct trace {
  int order[64];
  int n;
  struct sc_tensor *kept;
  int keep_index;
  sc_status fail_with;
};

static sc_status record(void *user, const struct sc_graph *g, int node_index,
                        struct sc_tensor *const *outputs, struct sc_error *err)
{
  struct trace *t = user;
  assert_non_null(outputs[0]);
  assert_non_null(outputs[0]->data);
  t->order[t->n++] = node_index;
  if (node_index == t->keep_index)
    assert_int_equal(sc_tensor_ref(outputs[0], &t->kept, err), SC_OK);
  if (t->fail_with)
    return sc_fail(err, t->fail_with, "observer stops at %s",
                   g->nodes[node_index].name);
  return SC_OK;
}

static void test_nodes_run_in_topological_order(void **state)
{
  struct sc_graph *g = relu_chain(5, 4);
  struct trace t;
  struct sc_run_options opt;
  struct sc_error err;
  float xv[4] = {-1, 2, -3, 4};
  int64_t dims[1] = {4};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  struct sc_feed feed = {"x", x};
  int i;
  (void)state;

  memset(&t, 0, sizeof t);
  t.keep_index = -1;
  memset(&opt, 0, sizeof opt);
  opt.observer = record;
  opt.observer_user = &t;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, &opt, &err), SC_OK);
  assert_int_equal(t.n, 5);
  for (i = 0; i < 5; i++) {
    char want[16];
    snprintf(want, sizeof want, "relu%d", i);
    assert_string_equal(g->nodes[t.order[i]].name, want);
    assert_int_equal(t.order[i], i);
  }
  sc_tensor_free(x);
  sc_graph_free(g);
}

static void test_static_shapes_known_after_prepare(void **state)
{
  struct sc_graph *g = new_graph();
  int64_t a[2] = {3, 1}, b[1] = {4};
  int v;
  (void)state;
  assert_int_equal(sc_graph_add_input(g, "a", SC_DTYPE_FLOAT, 2, a, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_input(g, "b", SC_DTYPE_FLOAT, 1, b, NULL),
                   SC_OK);
  add_node(g, "add", "Add", "a", "b", "c");
  assert_int_equal(sc_graph_add_output(g, "c", NULL), SC_OK);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  v = sc_graph_find_value(g, "c");
  assert_int_equal(g->values[v].dtype, SC_DTYPE_FLOAT);
  assert_int_equal(g->values[v].rank, 2);
  assert_int_equal(g->values[v].dims[0], 3);
  assert_int_equal(g->values[v].dims[1], 4);
  sc_graph_free(g);
}

static void test_broadcast_mismatch_fails_at_prepare_naming_node(void **state)
{
  struct sc_graph *g = new_graph();
  int64_t a[1] = {3}, b[1] = {4};
  struct sc_error err;
  (void)state;
  sc_graph_add_input(g, "a", SC_DTYPE_FLOAT, 1, a, NULL);
  sc_graph_add_input(g, "b", SC_DTYPE_FLOAT, 1, b, NULL);
  add_node(g, "bad_add", "Add", "a", "b", "c");
  sc_graph_add_output(g, "c", NULL);
  assert_int_equal(sc_graph_prepare(g, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, "bad_add"));
  sc_graph_free(g);
}

static void test_intermediate_memory_is_recycled(void **state)
{
  const int64_t size = 1 << 16; /* 256 KiB per tensor */
  struct sc_graph *g = relu_chain(12, size);
  struct sc_tensor *x, *out[1] = {NULL};
  struct sc_feed feed;
  struct sc_error err;
  int64_t dims[1] = {size};
  size_t bytes = (size_t)size * sizeof(float);
  (void)state;

  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, dims, &x, NULL), SC_OK);
  feed.name = "x";
  feed.tensor = x;
  assert_int_equal(sc_graph_run(g, 1, &feed, out, NULL, &err), SC_OK);
  /* a chain needs at most two live activations, not twelve */
  assert_true(sc_pool_peak_bytes(g->pool) <= 2 * bytes + 4096);
  sc_tensor_free(out[0]);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* x -> d0 = x + x -> d1 = d0 + d0 -> ... -> d{n-1} (the output): every
 * value differs from the one before, so a reused buffer shows. */
static struct sc_graph *doubling_chain(int n, int64_t size)
{
  struct sc_graph *g = new_graph();
  int64_t dims[1] = {size};
  char in[32], out[32], name[32];
  int i;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  for (i = 0; i < n; i++) {
    snprintf(in, sizeof in, i ? "d%d" : "x", i - 1);
    snprintf(out, sizeof out, "d%d", i);
    snprintf(name, sizeof name, "add%d", i);
    add_node(g, name, "Add", in, in, out);
  }
  assert_int_equal(sc_graph_add_output(g, out, NULL), SC_OK);
  return g;
}

/* A graph prepared for plain runs gives Identity's output its input's
 * buffer; that buffer must then stay out of the plan until the last
 * reader of the alias. Here a = x + x, v = Identity(a), then c = -x and
 * d = c + c come before y = v + d: the plan must not give a's slot to c
 * or d (a slot whose buffer is still held takes a new one, so the values
 * would survive; the test checks the plan itself). y = 2x - 2x = 0, with
 * and without an observer (which makes the Identity copy). */
static sc_status count_nodes(void *user, const struct sc_graph *g,
                             int node_index, struct sc_tensor *const *outputs,
                             struct sc_error *err)
{
  (void)g;
  (void)node_index;
  (void)outputs;
  (void)err;
  ++*(int *)user;
  return SC_OK;
}

static void test_plain_runs_share_buffers_of_identity(void **state)
{
  struct sc_graph *g = new_graph();
  float xv[4] = {1, -2, 3, 0.5f}, zero[4] = {0, 0, 0, 0};
  int64_t dims[1] = {4};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv), *out[1] = {NULL};
  struct sc_tensor *want = sc_test_tensor_f32(1, dims, zero);
  struct sc_feed feed = {"x", x};
  struct sc_run_options opt;
  const struct sc_plan *plan;
  int run, n_seen = 0;
  (void)state;

  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  add_node(g, "a", "Add", "x", "x", "a");
  add_node(g, "v", "Identity", "a", NULL, "v");
  add_node(g, "c", "Neg", "x", NULL, "c");
  add_node(g, "d", "Add", "c", "c", "d");
  add_node(g, "y", "Add", "v", "d", "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  g->plain_runs = 1;
  /* the plan: v has no slot of its own, and a's slot is nobody else's
   * until y has read v (the nodes keep the order they were added in) */
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  plan = g->plan;
  assert_true(plan->nodes[1].alias);
  assert_int_equal(plan->nodes[1].out_slot[0], -1);
  assert_true(plan->nodes[0].out_slot[0] >= 0);
  assert_int_not_equal(plan->nodes[0].out_slot[0], plan->nodes[2].out_slot[0]);
  assert_int_not_equal(plan->nodes[0].out_slot[0], plan->nodes[3].out_slot[0]);
  for (run = 0; run < 2; run++) {
    assert_int_equal(sc_graph_run(g, 1, &feed, out, NULL, NULL), SC_OK);
    assert_tensor_close(out[0], want, 0, 0);
    sc_tensor_free(out[0]);
    out[0] = NULL;
  }
  memset(&opt, 0, sizeof opt);
  opt.observer = count_nodes;
  opt.observer_user = &n_seen;
  assert_int_equal(sc_graph_run(g, 1, &feed, out, &opt, NULL), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  assert_int_equal(n_seen, 5);
  sc_tensor_free(out[0]);
  sc_tensor_free(want);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* x [1, 3, 6, 60] -> Conv "conv" (8 channels, 3x3, pad 1, W the constant
 * "w" whose 8 x 27 values it writes to wv) -> y, not yet prepared. */
static struct sc_graph *conv_graph(const char *y, float *wv)
{
  struct sc_graph *g = new_graph();
  int64_t xd[4] = {1, 3, 6, 60}, wd[4] = {8, 3, 3, 3}, pads[4] = {1, 1, 1, 1};
  const char *conv_in[2] = {"x", "w"}, *conv_out[1] = {y};
  struct sc_node *conv = NULL;
  int i;
  for (i = 0; i < 8 * 27; i++)
    wv[i] = (float)((i * 5) % 13) / 6.0f - 1.0f;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 4, xd, NULL),
                   SC_OK);
  assert_int_equal(
      sc_graph_add_initializer(g, "w", sc_test_tensor_f32(4, wd, wv), NULL),
      SC_OK);
  assert_int_equal(sc_graph_add_node(g, "conv", "Conv", "", 2, conv_in, 1,
                                     conv_out, &conv, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_ints(conv, "pads", 4, pads, NULL), SC_OK);
  return g;
}

/* x [1, 3, 6, 60] -> conv_graph's Conv -> c;
 * r = Relu(c), y = -r; with `also_add`, s = c + c reads c as well. */
static struct sc_graph *conv_relu_graph(int also_add, int plain)
{
  float wv[8 * 27];
  struct sc_graph *g = conv_graph("c", wv);
  add_node(g, "relu", "Relu", "c", NULL, "r");
  add_node(g, "neg", "Neg", "r", NULL, "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  if (also_add) {
    add_node(g, "add", "Add", "c", "c", "s");
    assert_int_equal(sc_graph_add_output(g, "s", NULL), SC_OK);
  }
  g->plain_runs = plain;
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  return g;
}

/* A Relu that is a float Conv's only reader is applied by the Conv in a
 * graph prepared for plain runs, and takes the Conv output's buffer: the
 * same bits as the two nodes run apart (and as the same graph run with an
 * observer, which turns the fusion off). A Conv output that another node
 * also reads is left alone. */
static void test_plain_runs_fuse_relu_into_conv(void **state)
{
  float xv[3 * 6 * 60];
  int64_t xd[4] = {1, 3, 6, 60};
  struct sc_tensor *x, *apart[1] = {NULL}, *fused[1] = {NULL};
  struct sc_tensor *observed[1] = {NULL}, *pair[2] = {NULL, NULL};
  struct sc_graph *g_apart = conv_relu_graph(0, 0);
  struct sc_graph *g_fused = conv_relu_graph(0, 1);
  struct sc_graph *g_shared = conv_relu_graph(1, 1);
  const struct sc_plan *plan;
  struct sc_run_options opt;
  struct sc_feed feed;
  int i, n_seen = 0, negative = 0;
  (void)state;

  for (i = 0; i < 3 * 6 * 60; i++)
    xv[i] = (float)((i * 13) % 17) / 8.0f - 1.0f;
  x = sc_test_tensor_f32(4, xd, xv);
  feed.name = "x";
  feed.tensor = x;

  plan = g_apart->plan;
  assert_false(plan->nodes[0].fuse_relu);
  assert_false(plan->nodes[1].alias);
  plan = g_fused->plan;
  assert_true(plan->nodes[0].fuse_relu);
  assert_true(plan->nodes[1].alias);
  plan = g_shared->plan;
  assert_false(plan->nodes[0].fuse_relu);
  assert_false(plan->nodes[1].alias);

  assert_int_equal(sc_graph_run(g_apart, 1, &feed, apart, NULL, NULL), SC_OK);
  assert_int_equal(sc_graph_run(g_fused, 1, &feed, fused, NULL, NULL), SC_OK);
  assert_int_equal(apart[0]->n_elements, 8 * 6 * 60);
  assert_memory_equal(fused[0]->data, apart[0]->data, sc_tensor_size(apart[0]));
  memset(&opt, 0, sizeof opt);
  opt.observer = count_nodes;
  opt.observer_user = &n_seen;
  assert_int_equal(sc_graph_run(g_fused, 1, &feed, observed, &opt, NULL),
                   SC_OK);
  assert_int_equal(n_seen, 3);
  assert_memory_equal(observed[0]->data, apart[0]->data,
                      sc_tensor_size(apart[0]));
  /* c + c must see c before the Relu: negative sums stay negative */
  assert_int_equal(sc_graph_run(g_shared, 1, &feed, pair, NULL, NULL), SC_OK);
  assert_memory_equal(pair[0]->data, apart[0]->data, sc_tensor_size(apart[0]));
  for (i = 0; i < pair[1]->n_elements; i++)
    negative += ((float *)pair[1]->data)[i] < 0;
  assert_true(negative > 0);

  sc_tensor_free(apart[0]);
  sc_tensor_free(fused[0]);
  sc_tensor_free(observed[0]);
  sc_tensor_free(pair[0]);
  sc_tensor_free(pair[1]);
  sc_tensor_free(x);
  sc_graph_free(g_apart);
  sc_graph_free(g_fused);
  sc_graph_free(g_shared);
}

/* conv_graph's Conv -> y, a graph output. w_reader: 0, the Conv alone reads W;
 * 1, an Identity also reads it (output "w2"); 2, W is a graph output too. */
static struct sc_graph *conv_weights_graph(int w_reader, float *wv)
{
  struct sc_graph *g = conv_graph("y", wv);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  if (w_reader == 1) {
    add_node(g, "copy", "Identity", "w", NULL, "w2");
    assert_int_equal(sc_graph_add_output(g, "w2", NULL), SC_OK);
  } else if (w_reader == 2) {
    assert_int_equal(sc_graph_add_output(g, "w", NULL), SC_OK);
  }
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  return g;
}

/* The convolution of conv_weights_graph written out, in double. */
static double conv_at(const float *x, const float *w, int m, int row, int col)
{
  double sum = 0;
  int c, ky, kx;
  for (c = 0; c < 3; c++)
    for (ky = 0; ky < 3; ky++)
      for (kx = 0; kx < 3; kx++) {
        int iy = row + ky - 1, ix = col + kx - 1;
        if (iy >= 0 && iy < 6 && ix >= 0 && ix < 60)
          sum += (double)x[(c * 6 + iy) * 60 + ix] *
                 w[((m * 3 + c) * 3 + ky) * 3 + kx];
      }
  return sum;
}

/* Conv weights packed at prepare time are not held twice: the initializer's
 * data is freed when the Conv is its only reader and kept when another
 * node reads it or it is a graph output; the results are the same bits
 * either way, also when the portable micro-kernel is forced after
 * prepare (the node must not fall back to a path that reads W). */
static void test_packed_conv_weights_are_not_held_twice(void **state)
{
  float wv[8 * 27], xv[3 * 6 * 60];
  int64_t xd[4] = {1, 3, 6, 60};
  struct sc_graph *g_alone = conv_weights_graph(0, wv);
  struct sc_graph *g_read = conv_weights_graph(1, wv);
  struct sc_graph *g_output = conv_weights_graph(2, wv);
  struct sc_tensor *x, *alone[1] = {NULL}, *read[2] = {NULL, NULL};
  struct sc_tensor *output[2] = {NULL, NULL}, *portable[1] = {NULL};
  struct sc_feed feed;
  int w, i, m, row, col;
  (void)state;

  w = sc_graph_find_value(g_alone, "w");
  assert_true(w >= 0);
  if (sc_conv_packed_fast())
    assert_null(g_alone->values[w].initializer->data);
  else /* no packed weights: W is read by every run */
    assert_non_null(g_alone->values[w].initializer->data);
  assert_non_null(
      g_read->values[sc_graph_find_value(g_read, "w")].initializer->data);
  assert_non_null(
      g_output->values[sc_graph_find_value(g_output, "w")].initializer->data);

  for (i = 0; i < 3 * 6 * 60; i++)
    xv[i] = (float)((i * 11) % 19) / 9.0f - 1.0f;
  x = sc_test_tensor_f32(4, xd, xv);
  feed.name = "x";
  feed.tensor = x;
  assert_int_equal(sc_graph_run(g_alone, 1, &feed, alone, NULL, NULL), SC_OK);
  assert_int_equal(sc_graph_run(g_read, 1, &feed, read, NULL, NULL), SC_OK);
  assert_int_equal(sc_graph_run(g_output, 1, &feed, output, NULL, NULL), SC_OK);
  assert_memory_equal(read[1]->data, wv, sizeof wv);
  assert_memory_equal(output[1]->data, wv, sizeof wv);
  assert_int_equal(alone[0]->n_elements, 8 * 6 * 60);
  assert_memory_equal(read[0]->data, alone[0]->data, sc_tensor_size(alone[0]));
  assert_memory_equal(output[0]->data, alone[0]->data,
                      sc_tensor_size(alone[0]));
  for (m = 0; m < 8; m++)
    for (row = 0; row < 6; row++)
      for (col = 0; col < 60; col++) {
        double want = conv_at(xv, wv, m, row, col);
        float got = ((float *)alone[0]->data)[(m * 6 + row) * 60 + col];
        assert_true(fabs(got - want) <= 1e-5 * (1 + fabs(want)));
      }

  sc_conv_packed_force_portable(1);
  assert_int_equal(sc_graph_run(g_alone, 1, &feed, portable, NULL, NULL),
                   SC_OK);
  sc_conv_packed_force_portable(0);
  for (i = 0; i < portable[0]->n_elements; i++) {
    float want = ((float *)alone[0]->data)[i];
    assert_true(fabsf(((float *)portable[0]->data)[i] - want) <=
                1e-5f * (1 + fabsf(want)));
  }

  sc_tensor_free(alone[0]);
  sc_tensor_free(read[0]);
  sc_tensor_free(read[1]);
  sc_tensor_free(output[0]);
  sc_tensor_free(output[1]);
  sc_tensor_free(portable[0]);
  sc_tensor_free(x);
  sc_graph_free(g_alone);
  sc_graph_free(g_read);
  sc_graph_free(g_output);
}

/* The same for ConvInteger, whose weights are packed whatever the CPU:
 * x uint8 [1, 2, 4, 5], W uint8 [3, 2, 2, 2] (zero points 0), valid
 * padding; y int32, checked against the sums written out. */
static void test_packed_conv_integer_weights_are_not_held_twice(void **state)
{
  int64_t xd[4] = {1, 2, 4, 5}, wd[4] = {3, 2, 2, 2};
  const char *ins[2] = {"x", "w"}, *outs[1] = {"y"};
  uint8_t xv[2 * 4 * 5], wv[3 * 2 * 2 * 2];
  struct sc_graph *g = new_graph();
  struct sc_tensor *x = NULL, *w = NULL, *y[1] = {NULL};
  struct sc_feed feed;
  int i, m, row, col, c, ky, kx;
  (void)state;

  for (i = 0; i < 40; i++)
    xv[i] = (uint8_t)(i * 37 % 251);
  for (i = 0; i < 24; i++)
    wv[i] = (uint8_t)(i * 53 % 255);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 4, xd, &x, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 4, wd, &w, NULL), SC_OK);
  memcpy(x->data, xv, sizeof xv);
  memcpy(w->data, wv, sizeof wv);
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_UINT8, 4, xd, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "w", w, NULL), SC_OK);
  assert_int_equal(sc_graph_add_node(g, "conv", "ConvInteger", "", 2, ins, 1,
                                     outs, NULL, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  assert_null(g->values[sc_graph_find_value(g, "w")].initializer->data);

  feed.name = "x";
  feed.tensor = x;
  assert_int_equal(sc_graph_run(g, 1, &feed, y, NULL, NULL), SC_OK);
  assert_int_equal(y[0]->n_elements, 3 * 3 * 4);
  for (m = 0; m < 3; m++)
    for (row = 0; row < 3; row++)
      for (col = 0; col < 4; col++) {
        int32_t want = 0;
        for (c = 0; c < 2; c++)
          for (ky = 0; ky < 2; ky++)
            for (kx = 0; kx < 2; kx++)
              want += xv[(c * 4 + row + ky) * 5 + col + kx] *
                      wv[((m * 2 + c) * 2 + ky) * 2 + kx];
        assert_int_equal(((int32_t *)y[0]->data)[(m * 3 + row) * 4 + col],
                         want);
      }
  sc_tensor_free(y[0]);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* MatMulInteger and QLinearMatMul pack a constant B (sc_qmatmul_reshape):
 * the same. A is unsigned, B signed, with zero points 3 and -2; the sums
 * are written out here. */
static void test_packed_matmul_integer_weights_are_not_held_twice(void **state)
{
  int64_t ad[2] = {3, 4}, bd[2] = {4, 5}, one[1] = {1};
  const char *ins[4] = {"a", "b", "a_zp", "b_zp"}, *outs[1] = {"y"};
  uint8_t av[3 * 4];
  int8_t bv[4 * 5];
  struct sc_graph *g = new_graph();
  struct sc_tensor *a = NULL, *b = NULL, *a_zp = NULL, *b_zp = NULL;
  struct sc_tensor *y[1] = {NULL};
  struct sc_feed feed;
  int i, j, k;
  (void)state;

  for (i = 0; i < 12; i++)
    av[i] = (uint8_t)(i * 41 % 251);
  for (i = 0; i < 20; i++)
    bv[i] = (int8_t)(i * 29 % 255 - 127);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 2, ad, &a, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT8, 2, bd, &b, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 1, one, &a_zp, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT8, 1, one, &b_zp, NULL), SC_OK);
  memcpy(a->data, av, sizeof av);
  memcpy(b->data, bv, sizeof bv);
  *(uint8_t *)a_zp->data = 3;
  *(int8_t *)b_zp->data = -2;
  assert_int_equal(sc_graph_add_input(g, "a", SC_DTYPE_UINT8, 2, ad, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "b", b, NULL), SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "a_zp", a_zp, NULL), SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "b_zp", b_zp, NULL), SC_OK);
  assert_int_equal(sc_graph_add_node(g, "mm", "MatMulInteger", "", 4, ins, 1,
                                     outs, NULL, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  assert_null(g->values[sc_graph_find_value(g, "b")].initializer->data);
  /* the zero points are read at run time: kept */
  assert_non_null(g->values[sc_graph_find_value(g, "b_zp")].initializer->data);

  feed.name = "a";
  feed.tensor = a;
  assert_int_equal(sc_graph_run(g, 1, &feed, y, NULL, NULL), SC_OK);
  assert_int_equal(y[0]->dtype, SC_DTYPE_INT32);
  assert_int_equal(y[0]->n_elements, 3 * 5);
  for (i = 0; i < 3; i++)
    for (j = 0; j < 5; j++) {
      int32_t want = 0;
      for (k = 0; k < 4; k++)
        want += (av[i * 4 + k] - 3) * (bv[k * 5 + j] + 2);
      assert_int_equal(((int32_t *)y[0]->data)[i * 5 + j], want);
    }
  sc_tensor_free(y[0]);
  sc_tensor_free(a);
  sc_graph_free(g);
}

struct pointers {
  const void *data[16];
  int keep; /* node whose output the observer keeps, -1 none */
  struct sc_tensor *kept;
};

static sc_status note_pointer(void *user, const struct sc_graph *g,
                              int node_index, struct sc_tensor *const *outputs,
                              struct sc_error *err)
{
  struct pointers *p = user;
  (void)g;
  p->data[node_index] = outputs[0]->data;
  if (node_index == p->keep)
    return sc_tensor_ref(outputs[0], &p->kept, err);
  return SC_OK;
}

static int distinct(const void *const *data, int n)
{
  int i, j, count = 0;
  for (i = 0; i < n; i++) {
    for (j = 0; j < i && data[j] != data[i]; j++)
      ;
    count += j == i;
  }
  return count;
}

/* The memory plan: the intermediates of a chain take turns in two
 * buffers, run after run; a tensor the observer keeps is not overwritten
 * (its buffer is replaced in the plan instead). */
static void
test_memory_plan_reuses_buffers_and_respects_kept_tensors(void **state)
{
  struct sc_graph *g = doubling_chain(8, 4);
  struct pointers p;
  struct sc_run_options opt;
  float xv[4] = {1, -2, 3, 0.5f}, kept_v[4];
  int64_t dims[1] = {4};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv), *want;
  struct sc_feed feed = {"x", x};
  int run, i;
  (void)state;

  for (i = 0; i < 4; i++)
    kept_v[i] = xv[i] * 4; /* d1 = 4x */
  want = sc_test_tensor_f32(1, dims, kept_v);
  memset(&opt, 0, sizeof opt);
  opt.observer = note_pointer;
  opt.observer_user = &p;
  for (run = 0; run < 2; run++) {
    memset(&p, 0, sizeof p);
    p.keep = -1;
    assert_int_equal(sc_graph_run(g, 1, &feed, NULL, &opt, NULL), SC_OK);
    /* seven intermediates (d7 is the output), two buffers */
    assert_int_equal(distinct(p.data, 7), 2);
  }
  memset(&p, 0, sizeof p);
  p.keep = 1;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, &opt, NULL), SC_OK);
  assert_non_null(p.kept);
  assert_tensor_close(p.kept, want, 0, 0);
  assert_int_equal(distinct(p.data, 7), 3);
  sc_tensor_free(p.kept);
  sc_tensor_free(want);
  sc_tensor_free(x);
  sc_graph_free(g);
}

static void test_observer_can_keep_a_tensor(void **state)
{
  struct sc_graph *g = relu_chain(4, 3);
  struct trace t;
  struct sc_run_options opt;
  float xv[3] = {-1, 5, 7};
  int64_t dims[1] = {3};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  float want_v[3] = {0, 5, 7};
  struct sc_tensor *want = sc_test_tensor_f32(1, dims, want_v);
  struct sc_feed feed = {"x", x};
  (void)state;

  memset(&t, 0, sizeof t);
  t.keep_index = 1;
  memset(&opt, 0, sizeof opt);
  opt.observer = record;
  opt.observer_user = &t;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, &opt, NULL), SC_OK);
  /* r1 was recycled by the executor, but the observer's reference holds */
  assert_non_null(t.kept);
  assert_tensor_close(t.kept, want, 0, 0);
  sc_tensor_free(t.kept);
  sc_tensor_free(want);
  sc_tensor_free(x);
  sc_graph_free(g);
}

static void test_observer_failure_aborts_run(void **state)
{
  struct sc_graph *g = relu_chain(3, 2);
  struct trace t;
  struct sc_run_options opt;
  struct sc_error err;
  float xv[2] = {1, 2};
  int64_t dims[1] = {2};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  struct sc_tensor *out[1] = {NULL};
  struct sc_feed feed = {"x", x};
  (void)state;

  memset(&t, 0, sizeof t);
  t.keep_index = -1;
  t.fail_with = SC_ERR_IO;
  memset(&opt, 0, sizeof opt);
  opt.observer = record;
  opt.observer_user = &t;
  assert_int_equal(sc_graph_run(g, 1, &feed, out, &opt, &err), SC_ERR_IO);
  assert_int_equal(t.n, 1);
  assert_null(out[0]);
  assert_non_null(strstr(err.message, "relu0"));
  sc_tensor_free(x);
  sc_graph_free(g);
}

static void test_node_mask_runs_a_segment_from_fed_values(void **state)
{
  struct sc_graph *g = relu_chain(4, 2);
  struct sc_run_options opt;
  struct sc_error err;
  uint8_t mask[4] = {0, 0, 1, 1};
  float v[2] = {-3, 9};
  int64_t dims[1] = {2};
  struct sc_tensor *r1 = sc_test_tensor_f32(1, dims, v);
  float want_v[2] = {0, 9};
  struct sc_tensor *want = sc_test_tensor_f32(1, dims, want_v);
  struct sc_tensor *out[1] = {NULL};
  struct sc_feed feed = {"r1", r1};
  (void)state;

  memset(&opt, 0, sizeof opt);
  opt.node_mask = mask;
  assert_int_equal(sc_graph_run(g, 1, &feed, out, &opt, &err), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  sc_tensor_free(out[0]);
  /* without the segment's input the run names what is missing */
  assert_int_equal(sc_graph_run(g, 0, NULL, out, &opt, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "r1"));
  sc_tensor_free(r1);
  sc_tensor_free(want);
  sc_graph_free(g);
}

/* Two runs taken node by node, interleaved: each observes its own nodes
 * in order, next_node names what comes, and the outputs are those of a
 * whole run (relu of relu of x: negatives become 0). */
static void test_runs_step_interleaved(void **state)
{
  struct sc_graph *a = relu_chain(3, 2), *b = relu_chain(2, 2);
  struct trace ta, tb;
  struct sc_run_options oa, ob;
  struct sc_run *ra = NULL, *rb = NULL;
  struct sc_error err;
  float xv[2] = {-5, 7}, want_v[2] = {0, 7};
  int64_t dims[1] = {2};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  struct sc_tensor *want = sc_test_tensor_f32(1, dims, want_v);
  struct sc_tensor *out[1] = {NULL};
  struct sc_feed feed = {"x", x};
  int done_a = 0, done_b = 0, step;
  (void)state;

  memset(&ta, 0, sizeof ta);
  memset(&tb, 0, sizeof tb);
  ta.keep_index = tb.keep_index = -1;
  memset(&oa, 0, sizeof oa);
  oa.observer = record;
  oa.observer_user = &ta;
  ob = oa;
  ob.observer_user = &tb;
  assert_int_equal(sc_run_start(a, 1, &feed, &oa, &ra, &err), SC_OK);
  assert_int_equal(sc_run_start(b, 1, &feed, &ob, &rb, &err), SC_OK);
  /* unfinished: no outputs yet */
  assert_int_equal(sc_run_finish(ra, out, &err), SC_ERR_INTERNAL);
  assert_null(out[0]);
  for (step = 0; !done_a || !done_b; step++) {
    if (!done_a) {
      assert_int_equal(sc_run_next_node(ra), step);
      assert_int_equal(sc_run_step(ra, &done_a, &err), SC_OK);
    }
    if (!done_b) {
      assert_int_equal(sc_run_next_node(rb), step);
      assert_int_equal(sc_run_step(rb, &done_b, &err), SC_OK);
    }
  }
  assert_int_equal(sc_run_next_node(ra), -1);
  assert_int_equal(ta.n, 3);
  assert_int_equal(tb.n, 2);
  assert_int_equal(ta.order[2], 2);
  assert_int_equal(sc_run_finish(ra, out, &err), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  sc_tensor_free(out[0]);
  assert_int_equal(sc_run_finish(rb, out, &err), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  sc_tensor_free(out[0]);
  sc_run_free(ra);
  sc_run_free(rb);
  /* a run freed half way leaves the graph runnable */
  assert_int_equal(sc_run_start(a, 1, &feed, &oa, &ra, &err), SC_OK);
  assert_int_equal(sc_run_step(ra, &done_a, &err), SC_OK);
  assert_false(done_a);
  sc_run_free(ra);
  assert_int_equal(sc_graph_run(a, 1, &feed, out, NULL, &err), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  sc_tensor_free(out[0]);
  sc_tensor_free(x);
  sc_tensor_free(want);
  sc_graph_free(a);
  sc_graph_free(b);
}

/* x -> a = Relu(x), b = Neg(x), y = a + b: b can run before a (its turn
 * is second), the observer sees it first, the steps skip it afterwards and
 * y is as in order: x = {-2, 3} gives a = {0, 3}, b = {2, -3}, y = {2, 0}.
 * A node whose input's producer has not run is refused. With
 * discard_outputs the run gives no outputs. */
static void test_run_node_ahead_of_its_turn(void **state)
{
  struct sc_graph *g = new_graph();
  struct trace t;
  struct sc_run_options opt;
  struct sc_run *run = NULL;
  struct sc_error err;
  float xv[2] = {-2, 3}, want_v[2] = {2, 0};
  int64_t dims[1] = {2};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  struct sc_tensor *want = sc_test_tensor_f32(1, dims, want_v);
  struct sc_tensor *out[1] = {NULL};
  struct sc_feed feed = {"x", x};
  int done = 0;
  (void)state;

  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  add_node(g, "a", "Relu", "x", NULL, "ra");
  add_node(g, "b", "Neg", "x", NULL, "nb");
  add_node(g, "y", "Add", "ra", "nb", "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  memset(&t, 0, sizeof t);
  t.keep_index = -1;
  memset(&opt, 0, sizeof opt);
  opt.observer = record;
  opt.observer_user = &t;
  assert_int_equal(sc_run_start(g, 1, &feed, &opt, &run, &err), SC_OK);
  assert_int_equal(sc_run_node(run, 2, &err), SC_ERR_INTERNAL);
  assert_non_null(strstr(err.message, "ra"));
  sc_run_free(run);

  t.n = 0;
  assert_int_equal(sc_run_start(g, 1, &feed, &opt, &run, &err), SC_OK);
  assert_true(sc_run_node_pending(run, 1));
  assert_int_equal(sc_run_node(run, 1, &err), SC_OK);
  assert_false(sc_run_node_pending(run, 1));
  assert_true(sc_run_node_pending(run, 0));
  assert_int_equal(sc_run_node(run, 1, &err), SC_OK); /* already run */
  assert_int_equal(sc_run_next_node(run), 0);
  while (!done)
    assert_int_equal(sc_run_step(run, &done, &err), SC_OK);
  assert_int_equal(t.n, 3);
  assert_int_equal(t.order[0], 1);
  assert_int_equal(t.order[1], 0);
  assert_int_equal(t.order[2], 2);
  assert_int_equal(sc_run_finish(run, out, &err), SC_OK);
  assert_tensor_close(out[0], want, 0, 0);
  sc_tensor_free(out[0]);
  sc_run_free(run);

  t.n = 0;
  opt.discard_outputs = 1;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, &opt, &err), SC_OK);
  assert_int_equal(t.n, 3);
  assert_int_equal(sc_graph_run(g, 1, &feed, out, &opt, &err), SC_ERR_INTERNAL);
  assert_null(out[0]);
  sc_tensor_free(x);
  sc_tensor_free(want);
  sc_graph_free(g);
}

/* p = x + x, q = x * x, r = p + q, then d0 = r + r, d1 = d0 + d0, ...,
 * d6 (the output): three tensors live at r, two along the chain, so the
 * memory plan has three slots and one is idle while the chain runs. */
static struct sc_graph *fork_then_chain(void)
{
  struct sc_graph *g = new_graph();
  int64_t dims[1] = {4};
  char in[32], out[32];
  int i;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  add_node(g, "p", "Add", "x", "x", "p");
  add_node(g, "q", "Mul", "x", "x", "q");
  add_node(g, "r", "Add", "p", "q", "r");
  for (i = 0; i < 7; i++) {
    snprintf(in, sizeof in, i ? "d%d" : "r", i - 1);
    snprintf(out, sizeof out, "d%d", i);
    add_node(g, out, "Add", in, in, out);
  }
  assert_int_equal(sc_graph_add_output(g, "d6", NULL), SC_OK);
  return g;
}

/* An isolated re-run started by the observer of a full run of the same
 * graph, at d3 (node 6): the segment d4..d6 (nodes 7..9) fed d3 = v gives
 * d4 = 2v, d5 = 4v, d6 = 8v. d4 takes the idle slot; d5 finds none (d2
 * and d3 hold the others, d4 the third) and comes from the pool; d6 takes
 * the slot d4 gave back. The full run goes on undisturbed:
 * d6 = 128 r = 128 (2x + x^2). */
struct nested {
  struct sc_graph *g;
  const void *slots[16]; /* the plan's buffers, from an earlier run */
  int n_slots;
  struct pointers inner;
  struct sc_tensor *fed, *want_inner;
  float d6[4];
};

static sc_status check_inner(void *user, const struct sc_graph *g,
                             int node_index, struct sc_tensor *const *outputs,
                             struct sc_error *err)
{
  struct nested *n = user;
  if (node_index == 9)
    assert_tensor_close(outputs[0], n->want_inner, 0, 0);
  return note_pointer(&n->inner, g, node_index, outputs, err);
}

static sc_status start_inner_run(void *user, const struct sc_graph *g,
                                 int node_index,
                                 struct sc_tensor *const *outputs,
                                 struct sc_error *err)
{
  struct nested *n = user;
  static const uint8_t mask[10] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1};
  struct sc_run_options opt;
  struct sc_feed feed = {"d3", n->fed};
  (void)g;
  if (node_index == 9)
    memcpy(n->d6, outputs[0]->data, sizeof n->d6);
  if (node_index != 6)
    return SC_OK;
  memset(&opt, 0, sizeof opt);
  opt.node_mask = mask;
  opt.discard_outputs = 1;
  opt.observer = check_inner;
  opt.observer_user = n;
  return sc_graph_run(n->g, 1, &feed, NULL, &opt, err);
}

static int is_slot(const struct nested *n, const void *data)
{
  int i;
  for (i = 0; i < n->n_slots; i++)
    if (n->slots[i] == data)
      return 1;
  return 0;
}

static void test_isolated_run_borrows_idle_slots(void **state)
{
  struct nested n;
  struct pointers first;
  struct sc_run_options opt;
  struct sc_error err;
  float xv[4] = {1, -2, 3, 0.5f}, fed_v[4] = {-1, 4, 0.25f, 8}, want_v[4];
  int64_t dims[1] = {4};
  struct sc_tensor *x = sc_test_tensor_f32(1, dims, xv);
  struct sc_feed feed = {"x", x};
  int i, j;
  (void)state;

  memset(&n, 0, sizeof n);
  n.g = fork_then_chain();
  for (i = 0; i < 4; i++)
    want_v[i] = fed_v[i] * 8;
  n.fed = sc_test_tensor_f32(1, dims, fed_v);
  n.want_inner = sc_test_tensor_f32(1, dims, want_v);
  /* a full run that releases its outputs: every tensor in a slot */
  memset(&first, 0, sizeof first);
  first.keep = -1;
  memset(&opt, 0, sizeof opt);
  opt.observer = note_pointer;
  opt.observer_user = &first;
  opt.discard_outputs = 1;
  assert_int_equal(sc_graph_run(n.g, 1, &feed, NULL, &opt, &err), SC_OK);
  for (i = 0; i < 10; i++) {
    for (j = 0; j < n.n_slots && n.slots[j] != first.data[i]; j++)
      ;
    if (j == n.n_slots)
      n.slots[n.n_slots++] = first.data[i];
  }
  assert_int_equal(n.n_slots, 3);

  n.inner.keep = -1;
  opt.observer = start_inner_run;
  opt.observer_user = &n;
  assert_int_equal(sc_graph_run(n.g, 1, &feed, NULL, &opt, &err), SC_OK);
  assert_non_null(n.inner.data[9]);
  assert_true(is_slot(&n, n.inner.data[7]));
  assert_false(is_slot(&n, n.inner.data[8]));
  assert_true(n.inner.data[9] == n.inner.data[7]);
  for (i = 0; i < 4; i++)
    assert_true(n.d6[i] == 128 * (2 * xv[i] + xv[i] * xv[i]));
  sc_tensor_free(n.fed);
  sc_tensor_free(n.want_inner);
  sc_tensor_free(x);
  sc_graph_free(n.g);
}

/* An empty input name omits an optional input; a required one omitted
 * (here Conv's X, BatchNormalization's scale) is a format error at
 * prepare, never a NULL tensor handed to the kernel. Omitted optional
 * inputs still prepare: Conv's B. */
static void test_omitted_required_input_is_a_format_error(void **state)
{
  int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 1, 1}, cd[1] = {1};
  const char *conv_in[3] = {"", "w", NULL},
             *bn_in[5] = {"x", "", "b", "m", "v"};
  const char *outs[1] = {"y"};
  const char *names[4] = {"w", "b", "m", "v"};
  struct sc_error err;
  int which, i;
  (void)state;

  for (which = 0; which < 3; which++) {
    struct sc_graph *g = new_graph();
    assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 4, xd, NULL),
                     SC_OK);
    for (i = 0; i < 4; i++) {
      struct sc_tensor *t = NULL;
      assert_int_equal(
          sc_tensor_create(SC_DTYPE_FLOAT, i ? 1 : 4, i ? cd : wd, &t, NULL),
          SC_OK);
      ((float *)t->data)[0] = 1.0f;
      assert_int_equal(sc_graph_add_initializer(g, names[i], t, NULL), SC_OK);
    }
    if (which == 0) /* Conv(X omitted, W) */
      assert_int_equal(sc_graph_add_node(g, "conv", "Conv", "", 2, conv_in, 1,
                                         outs, NULL, NULL),
                       SC_OK);
    else if (which == 1) /* BatchNormalization(X, scale omitted, ...) */
      assert_int_equal(sc_graph_add_node(g, "bn", "BatchNormalization", "", 5,
                                         bn_in, 1, outs, NULL, NULL),
                       SC_OK);
    else { /* Conv(X, W, B omitted): fine */
      const char *ok_in[3] = {"x", "w", ""};
      assert_int_equal(sc_graph_add_node(g, "conv", "Conv", "", 3, ok_in, 1,
                                         outs, NULL, NULL),
                       SC_OK);
    }
    assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
    if (which < 2) {
      assert_int_equal(sc_graph_prepare(g, &err), SC_ERR_FORMAT);
      assert_non_null(strstr(err.message, which ? "input 1 is required"
                                                : "input 0 is required"));
    } else {
      assert_int_equal(sc_graph_prepare(g, &err), SC_OK);
    }
    sc_graph_free(g);
  }
}

static void test_feed_checks_name_dtype_and_shape(void **state)
{
  struct sc_graph *g = relu_chain(1, 3);
  struct sc_error err;
  int64_t good[1] = {3}, bad[1] = {4};
  struct sc_tensor *wrong_shape, *wrong_type;
  struct sc_feed feed;
  (void)state;

  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, bad, &wrong_shape, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT32, 1, good, &wrong_type, NULL),
                   SC_OK);
  feed.name = "x";
  feed.tensor = wrong_shape;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, NULL, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "'x'"));
  assert_non_null(strstr(err.message, "[3]"));
  feed.tensor = wrong_type;
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, NULL, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "int32"));
  feed.name = "nope";
  assert_int_equal(sc_graph_run(g, 1, &feed, NULL, NULL, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "nope"));
  assert_int_equal(sc_graph_run(g, 0, NULL, NULL, NULL, &err), SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, "'x'"));
  sc_tensor_free(wrong_shape);
  sc_tensor_free(wrong_type);
  sc_graph_free(g);
}

static void test_float16_runs_in_float_and_rounds_outputs(void **state)
{
  struct sc_graph *g = new_graph();
  int64_t dims[1] = {3};
  struct sc_tensor *a, *b, *out[1] = {NULL};
  struct sc_feed feeds[2];
  uint16_t *pa, *pb, *py;
  int i;
  (void)state;

  sc_graph_add_input(g, "a", SC_DTYPE_FLOAT16, 1, dims, NULL);
  sc_graph_add_input(g, "b", SC_DTYPE_FLOAT16, 1, dims, NULL);
  add_node(g, "add", "Add", "a", "b", "y");
  sc_graph_add_output(g, "y", NULL);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT16, 1, dims, &a, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT16, 1, dims, &b, NULL),
                   SC_OK);
  pa = a->data;
  pb = b->data;
  /* 2048 + 1 is not representable in float16: rounds to even (2048) */
  pa[0] = sc_float_to_half(2048.0f);
  pb[0] = sc_float_to_half(1.0f);
  pa[1] = sc_float_to_half(2048.0f);
  pb[1] = sc_float_to_half(3.0f); /* 2051 -> 2052 */
  pa[2] = sc_float_to_half(0.5f);
  pb[2] = sc_float_to_half(0.25f);
  feeds[0].name = "a";
  feeds[0].tensor = a;
  feeds[1].name = "b";
  feeds[1].tensor = b;
  assert_int_equal(sc_graph_run(g, 2, feeds, out, NULL, NULL), SC_OK);
  assert_int_equal(out[0]->dtype, SC_DTYPE_FLOAT16);
  py = out[0]->data;
  assert_true(sc_half_to_float(py[0]) == 2048.0f);
  assert_true(sc_half_to_float(py[1]) == 2052.0f);
  assert_true(sc_half_to_float(py[2]) == 0.75f);
  for (i = 0; i < 1; i++)
    sc_tensor_free(out[i]);
  sc_tensor_free(a);
  sc_tensor_free(b);
  sc_graph_free(g);
}

static void test_results_identical_for_one_and_two_threads(void **state)
{
  struct sc_graph *g = new_graph();
  int64_t da[2] = {257, 1031}, db[1] = {1031};
  struct sc_tensor *a, *b, *out1[1] = {NULL}, *out2[1] = {NULL};
  struct sc_threadpool *pool1, *pool2;
  struct sc_run_options opt;
  struct sc_feed feeds[2];
  int64_t i;
  (void)state;

  sc_graph_add_input(g, "a", SC_DTYPE_FLOAT, 2, da, NULL);
  sc_graph_add_input(g, "b", SC_DTYPE_FLOAT, 1, db, NULL);
  add_node(g, "mul", "Mul", "a", "b", "y");
  sc_graph_add_output(g, "y", NULL);
  sc_tensor_create(SC_DTYPE_FLOAT, 2, da, &a, NULL);
  sc_tensor_create(SC_DTYPE_FLOAT, 1, db, &b, NULL);
  for (i = 0; i < a->n_elements; i++)
    ((float *)a->data)[i] = (float)(i % 97) * 0.37f - 11.0f;
  for (i = 0; i < b->n_elements; i++)
    ((float *)b->data)[i] = (float)(i % 13) * 1.1f;
  feeds[0].name = "a";
  feeds[0].tensor = a;
  feeds[1].name = "b";
  feeds[1].tensor = b;
  assert_int_equal(sc_threadpool_create(1, &pool1, NULL), SC_OK);
  assert_int_equal(sc_threadpool_create(2, &pool2, NULL), SC_OK);
  memset(&opt, 0, sizeof opt);
  opt.threads = pool1;
  assert_int_equal(sc_graph_run(g, 2, feeds, out1, &opt, NULL), SC_OK);
  opt.threads = pool2;
  assert_int_equal(sc_graph_run(g, 2, feeds, out2, &opt, NULL), SC_OK);
  assert_memory_equal(out1[0]->data, out2[0]->data, sc_tensor_size(out1[0]));
  sc_tensor_free(out1[0]);
  sc_tensor_free(out2[0]);
  sc_tensor_free(a);
  sc_tensor_free(b);
  sc_threadpool_free(pool1);
  sc_threadpool_free(pool2);
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nodes_run_in_topological_order),
      cmocka_unit_test(test_static_shapes_known_after_prepare),
      cmocka_unit_test(test_broadcast_mismatch_fails_at_prepare_naming_node),
      cmocka_unit_test(test_intermediate_memory_is_recycled),
      cmocka_unit_test(
          test_memory_plan_reuses_buffers_and_respects_kept_tensors),
      cmocka_unit_test(test_plain_runs_share_buffers_of_identity),
      cmocka_unit_test(test_plain_runs_fuse_relu_into_conv),
      cmocka_unit_test(test_packed_conv_weights_are_not_held_twice),
      cmocka_unit_test(test_packed_conv_integer_weights_are_not_held_twice),
      cmocka_unit_test(test_packed_matmul_integer_weights_are_not_held_twice),
      cmocka_unit_test(test_observer_can_keep_a_tensor),
      cmocka_unit_test(test_observer_failure_aborts_run),
      cmocka_unit_test(test_node_mask_runs_a_segment_from_fed_values),
      cmocka_unit_test(test_runs_step_interleaved),
      cmocka_unit_test(test_run_node_ahead_of_its_turn),
      cmocka_unit_test(test_isolated_run_borrows_idle_slots),
      cmocka_unit_test(test_omitted_required_input_is_a_format_error),
      cmocka_unit_test(test_feed_checks_name_dtype_and_shape),
      cmocka_unit_test(test_float16_runs_in_float_and_rounds_outputs),
      cmocka_unit_test(test_results_identical_for_one_and_two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
