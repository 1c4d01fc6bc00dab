/* End-to-end: quantized and reduced-precision models of
 * tests/data/quant/generate.py, and the quantization annotations of
 * runtime/quant.h.
 *
 *   - the QOperator net reproduces numpy's ONNX Runtime arithmetic exactly
 *     on every quantized tensor;
 *   - the QDQ net and its QOperator twin agree within 1 LSB on every
 *     element of every quantized tensor;
 *   - the float16 net (float16 initializers and Constant, Cast in and out,
 *     a bfloat16 round trip) matches numpy's per-operator float16 rounding
 *     and stays close to its float32 twin.
 * These runs need the float operator families (Conv, Add, Sigmoid, Concat,
 * pools, MatMul, Reshape, Cast ...). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/quant.h"
#include "tests/support/assertions.h"
#include "tests/support/capture.h"

#define QUANT_DATA SC_SOURCE_DIR "/tests/data/quant"

/* --- running and capturing -------------------------------------------- */

static struct sc_graph *load_model(const char *path)
{
  struct sc_graph *g = NULL;
  struct sc_error err;
  if (sc_onnx_load(path, &g, &err) != SC_OK)
    fail_msg("%s", err.message);
  return g;
}

static struct sc_tensor *load_npy(const char *path)
{
  struct sc_tensor *t = NULL;
  struct sc_error err;
  if (sc_npy_load(path, &t, &err) != SC_OK)
    fail_msg("%s", err.message);
  return t;
}

/* The quantized tensors both forms of the net produce. */
static const char *const quantized_names[] = {
    "x_q",   "c1_q",   "c2_q",  "lr_q",  "add_q",  "sig_q",
    "mul_q", "pool_q", "cat_q", "gap_q", "flat_q", "mm_q"};
#define N_QUANTIZED (sizeof quantized_names / sizeof quantized_names[0])

/* --- QOperator net vs numpy ------------------------------------------- */

static void test_qoperator_net_matches_numpy(void **s)
{
  struct sc_graph *g = load_model(QUANT_DATA "/qop_net.onnx");
  struct sc_tensor *x = load_npy(QUANT_DATA "/net_input.npy");
  struct sc_test_capture c;
  size_t i;
  (void)s;
  sc_test_capture_run(g, x, &c, NULL);
  for (i = 0; i < N_QUANTIZED; i++) {
    char path[512];
    struct sc_tensor *want;
    const struct sc_tensor *got;
    int64_t k;
    if (strcmp(quantized_names[i], "flat_q") == 0)
      continue; /* a reshape of gap_q */
    snprintf(path, sizeof path, QUANT_DATA "/qop_%s.npy", quantized_names[i]);
    want = load_npy(path);
    got = sc_test_captured(&c, quantized_names[i]);
    assert_int_equal(got->dtype, want->dtype);
    assert_int_equal(got->n_elements, want->n_elements);
    for (k = 0; k < want->n_elements; k++) {
      int64_t a = sc_dtype_load_i64(got->dtype, got->data, k);
      int64_t e = sc_dtype_load_i64(want->dtype, want->data, k);
      if (a != e)
        fail_msg("%s element %lld: %lld, numpy (ORT arithmetic) %lld",
                 quantized_names[i], (long long)k, (long long)a, (long long)e);
    }
    sc_tensor_free(want);
  }
  sc_test_capture_free(&c);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* --- quantized tails computed by ConvInteger ---------------------------- */

#define DYNAMIC_DIR SC_SOURCE_DIR "/fixtures/models/tiny_cls_dynamic"

/* Every value a run produced, by value index (references). */
struct kept_values {
  struct sc_tensor **t;
};

static sc_status keep_values(void *user, const struct sc_graph *g,
                             int node_index, struct sc_tensor *const *outputs,
                             struct sc_error *err)
{
  struct kept_values *k = user;
  const struct sc_node *node = &g->nodes[node_index];
  int j;
  for (j = 0; j < node->n_outputs; j++) {
    int v = node->outputs[j];
    if (v >= 0 && outputs[j] && !k->t[v]) {
      sc_status st = sc_tensor_ref(outputs[j], &k->t[v], err);
      if (st)
        return st;
    }
  }
  return SC_OK;
}

/* Runs g (node_mask may be NULL) keeping every value; `first`, when not
 * negative, is run before anything else (out of order). */
static void run_keeping(struct sc_graph *g, int n_feeds,
                        const struct sc_feed *feeds, const uint8_t *node_mask,
                        int first, struct kept_values *k)
{
  struct sc_run_options opt;
  struct sc_run *run = NULL;
  struct sc_error err;
  int done = 0;
  k->t = calloc((size_t)g->n_values, sizeof *k->t);
  assert_non_null(k->t);
  memset(&opt, 0, sizeof opt);
  opt.observer = keep_values;
  opt.observer_user = k;
  opt.node_mask = node_mask;
  opt.discard_outputs = 1;
  if (sc_run_start(g, n_feeds, feeds, &opt, &run, &err) != SC_OK)
    fail_msg("%s", err.message);
  if (first >= 0 && sc_run_node(run, first, &err) != SC_OK)
    fail_msg("%s", err.message);
  while (!done)
    if (sc_run_step(run, &done, &err) != SC_OK)
      fail_msg("%s", err.message);
  sc_run_free(run);
}

static void kept_free(const struct sc_graph *g, struct kept_values *k)
{
  int v;
  for (v = 0; v < g->n_values; v++)
    sc_tensor_free(k->t[v]);
  free(k->t);
}

static int same_bits(const struct sc_tensor *a, const struct sc_tensor *b)
{
  return a && b && a->dtype == b->dtype && a->n_elements == b->n_elements &&
         memcmp(a->data, b->data, sc_tensor_size(a)) == 0;
}

static int find_node(const struct sc_graph *g, const char *op_type, int nth)
{
  int i;
  for (i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].op_type, op_type) == 0 && nth-- == 0)
      return i;
  return -1;
}

/* The node reading value v (the first). */
static int reader_of(const struct sc_graph *g, int v)
{
  int i, j;
  for (i = 0; i < g->n_nodes; i++)
    for (j = 0; j < g->nodes[i].n_inputs; j++)
      if (g->nodes[i].inputs[j] == v)
        return i;
  return -1;
}

/* ONNX Runtime's dynamic quantization of every Conv: ConvInteger -> Cast
 * -> Mul by X_scale * W_scale -> Add of the reshaped bias. With the
 * intermediate values declared unobserved the ConvInteger computes the
 * tail and the Cast, Mul and Add outputs share its buffer; every other
 * value, the tails' ends and the logits included, keeps the bits of the
 * plain run (whose arithmetic the fixture tests check against numpy):
 * after the graph is prepared (the memory planned again), for plain runs,
 * for a run of one tail alone, and when a run computes the ConvInteger
 * before the scale (then without its tail). An observed Cast output is
 * left to the Cast. */
static void test_dynamic_tails_computed_by_conv_integer(void **s)
{
  struct sc_graph *a = load_model(DYNAMIC_DIR "/dynamic.onnx");
  struct sc_graph *b = load_model(DYNAMIC_DIR "/dynamic.onnx");
  struct sc_tensor *x = load_npy(DYNAMIC_DIR "/inputs_npy/float32.npy");
  struct sc_tensor *outputs[1] = {NULL}, *plain[1] = {NULL};
  struct kept_values base, fused, one, early, watched;
  struct sc_feed feed, tail_feeds[4];
  struct sc_error err;
  unsigned char *mask;
  uint8_t *node_mask;
  int i, j, n_conv = 0, n_fused = 0, conv, cast, mul, add, dql;
  (void)s;

  feed.name = a->values[a->inputs[0]].name;
  feed.tensor = x;
  run_keeping(a, 1, &feed, NULL, -1, &base);
  assert_int_equal(sc_graph_prepare(b, &err), SC_OK);
  mask = malloc((size_t)b->n_values);
  assert_non_null(mask);
  memset(mask, 1, (size_t)b->n_values);
  assert_int_equal(sc_graph_set_unobserved(b, mask, &err), SC_OK);
  run_keeping(b, 1, &feed, NULL, -1, &fused);
  for (i = 0; i < b->n_nodes; i++) {
    int y;
    if (strcmp(b->nodes[i].op_type, "ConvInteger") != 0)
      continue;
    n_conv++;
    cast = reader_of(b, b->nodes[i].outputs[0]);
    mul = reader_of(b, b->nodes[cast].outputs[0]);
    add = reader_of(b, b->nodes[mul].outputs[0]);
    assert_string_equal(b->nodes[add].op_type, "Add");
    y = b->nodes[add].outputs[0];
    if (fused.t[b->nodes[cast].outputs[0]]->data == fused.t[y]->data)
      n_fused++;
  }
  assert_int_equal(n_conv, 12);
  assert_int_equal(n_fused, n_conv);
  for (i = 0; i < b->n_values; i++) {
    int p = b->values[i].producer;
    const char *op = p >= 0 ? b->nodes[p].op_type : "";
    if (strcmp(op, "ConvInteger") == 0 || strcmp(op, "Cast") == 0 ||
        (strcmp(op, "Mul") == 0 && b->values[i].rank == 4))
      continue; /* a tail's intermediate values */
    if (base.t[i] && !same_bits(base.t[i], fused.t[i]))
      fail_msg("'%s' differs when the tails are fused", b->values[i].name);
  }

  /* the first tail alone, fed from the plain run */
  conv = find_node(b, "ConvInteger", 0);
  cast = reader_of(b, b->nodes[conv].outputs[0]);
  mul = reader_of(b, b->nodes[cast].outputs[0]);
  add = reader_of(b, b->nodes[mul].outputs[0]);
  node_mask = calloc((size_t)b->n_nodes, 1);
  assert_non_null(node_mask);
  node_mask[conv] = node_mask[cast] = node_mask[mul] = node_mask[add] = 1;
  j = 0;
  for (i = 0; i < b->nodes[conv].n_inputs; i++) {
    int v = b->nodes[conv].inputs[i];
    if (v >= 0 && !b->values[v].initializer) {
      tail_feeds[j].name = b->values[v].name;
      tail_feeds[j++].tensor = base.t[v];
    }
  }
  tail_feeds[j].name = b->values[b->nodes[mul].inputs[1]].name;
  tail_feeds[j++].tensor = base.t[b->nodes[mul].inputs[1]];
  tail_feeds[j].name = b->values[b->nodes[add].inputs[1]].name;
  tail_feeds[j++].tensor = base.t[b->nodes[add].inputs[1]];
  run_keeping(b, j, tail_feeds, node_mask, -1, &one);
  assert_true(same_bits(one.t[b->nodes[add].outputs[0]],
                        base.t[b->nodes[add].outputs[0]]));
  assert_ptr_equal(one.t[b->nodes[cast].outputs[0]]->data,
                   one.t[b->nodes[add].outputs[0]]->data);
  kept_free(b, &one);

  /* the ConvInteger before its scale exists: the plain ConvInteger */
  dql = b->values[b->nodes[conv].inputs[0]].producer;
  assert_true(dql >= 0 && dql < b->values[b->nodes[mul].inputs[1]].producer);
  {
    struct sc_run_options opt;
    struct sc_run *run = NULL;
    int done = 0;
    early.t = calloc((size_t)b->n_values, sizeof *early.t);
    assert_non_null(early.t);
    memset(&opt, 0, sizeof opt);
    opt.observer = keep_values;
    opt.observer_user = &early;
    opt.discard_outputs = 1;
    assert_int_equal(sc_run_start(b, 1, &feed, &opt, &run, &err), SC_OK);
    assert_int_equal(sc_run_node(run, dql, &err), SC_OK);
    assert_int_equal(sc_run_node(run, conv, &err), SC_OK);
    while (!done)
      assert_int_equal(sc_run_step(run, &done, &err), SC_OK);
    sc_run_free(run);
  }
  assert_true(same_bits(early.t[b->nodes[cast].outputs[0]],
                        base.t[b->nodes[cast].outputs[0]]));
  assert_true(same_bits(early.t[b->nodes[add].outputs[0]],
                        base.t[b->nodes[add].outputs[0]]));
  kept_free(b, &early);

  /* an observed Cast output: that tail is left alone */
  mask[b->nodes[cast].outputs[0]] = 0;
  assert_int_equal(sc_graph_set_unobserved(b, mask, &err), SC_OK);
  run_keeping(b, 1, &feed, NULL, -1, &watched);
  assert_true(same_bits(watched.t[b->nodes[cast].outputs[0]],
                        base.t[b->nodes[cast].outputs[0]]));
  assert_true(same_bits(watched.t[b->nodes[add].outputs[0]],
                        base.t[b->nodes[add].outputs[0]]));
  kept_free(b, &watched);
  sc_graph_free(b);

  /* plain runs (no observer at all) */
  b = load_model(DYNAMIC_DIR "/dynamic.onnx");
  b->plain_runs = 1;
  assert_int_equal(sc_graph_run(b, 1, &feed, plain, NULL, &err), SC_OK);
  assert_int_equal(sc_graph_run(a, 1, &feed, outputs, NULL, &err), SC_OK);
  assert_true(same_bits(plain[0], outputs[0]));
  sc_tensor_free(plain[0]);
  sc_tensor_free(outputs[0]);

  kept_free(a, &base);
  kept_free(a, &fused);
  free(mask);
  free(node_mask);
  sc_tensor_free(x);
  sc_graph_free(a);
  sc_graph_free(b);
}

/* --- QDQ vs QOperator -------------------------------------------------- */

static void test_qdq_and_qoperator_agree_within_one_lsb(void **s)
{
  struct sc_graph *qdq = load_model(QUANT_DATA "/qdq_net.onnx");
  struct sc_graph *qop = load_model(QUANT_DATA "/qop_net.onnx");
  struct sc_tensor *x = load_npy(QUANT_DATA "/net_input.npy");
  struct sc_tensor *out_qdq[1] = {NULL}, *out_qop[1] = {NULL};
  struct sc_test_capture a, b;
  size_t i;
  (void)s;
  sc_test_capture_run(qdq, x, &a, out_qdq);
  sc_test_capture_run(qop, x, &b, out_qop);
  for (i = 0; i < N_QUANTIZED; i++) {
    const struct sc_tensor *ta = sc_test_captured(&a, quantized_names[i]);
    const struct sc_tensor *tb = sc_test_captured(&b, quantized_names[i]);
    int64_t k, n_diff = 0, worst = 0;
    assert_int_equal(ta->dtype, tb->dtype);
    assert_true(sc_tensor_same_shape(ta, tb));
    for (k = 0; k < ta->n_elements; k++) {
      int64_t d = sc_dtype_load_i64(ta->dtype, ta->data, k) -
                  sc_dtype_load_i64(tb->dtype, tb->data, k);
      d = d < 0 ? -d : d;
      if (d) {
        n_diff++;
        worst = d > worst ? d : worst;
      }
    }
    print_message("%-7s %5lld elements, %lld differ (max %lld LSB)\n",
                  quantized_names[i], (long long)ta->n_elements,
                  (long long)n_diff, (long long)worst);
    if (worst > 1)
      fail_msg("%s: QDQ and QOperator differ by %lld LSB", quantized_names[i],
               (long long)worst);
  }
  /* the dequantized outputs: within one output step */
  assert_tensor_close(out_qdq[0], out_qop[0], 0.0493 * 1.0001, 0);
  sc_tensor_free(out_qdq[0]);
  sc_tensor_free(out_qop[0]);
  sc_test_capture_free(&a);
  sc_test_capture_free(&b);
  sc_tensor_free(x);
  sc_graph_free(qdq);
  sc_graph_free(qop);
}

/* Each QOperator node, fed the QDQ net's quantized tensors, reproduces the
 * QDQ net's quantized result within 1 LSB: the per-operator statement,
 * free of differences accumulated upstream. */
static void test_qoperator_nodes_agree_with_qdq_in_isolation(void **s)
{
  static const char *const nodes[][2] = {
      {"conv1", "c1_q"},  {"conv2", "c2_q"},    {"lrelu", "lr_q"},
      {"add", "add_q"},   {"sigmoid", "sig_q"}, {"mul", "mul_q"},
      {"pool", "pool_q"}, {"concat", "cat_q"},  {"gap", "gap_q"},
      {"matmul", "mm_q"}};
  struct sc_graph *qdq = load_model(QUANT_DATA "/qdq_net.onnx");
  struct sc_graph *qop = load_model(QUANT_DATA "/qop_net.onnx");
  struct sc_tensor *x = load_npy(QUANT_DATA "/net_input.npy");
  struct sc_test_capture a;
  size_t i;
  (void)s;
  sc_test_capture_run(qdq, x, &a, NULL);
  for (i = 0; i < sizeof nodes / sizeof nodes[0]; i++) {
    struct sc_tensor *got = sc_test_capture_run_node(qop, nodes[i][0], &a);
    const struct sc_tensor *want = sc_test_captured(&a, nodes[i][1]);
    int64_t k;
    assert_int_equal(got->dtype, want->dtype);
    assert_true(sc_tensor_same_shape(got, want));
    for (k = 0; k < got->n_elements; k++) {
      int64_t d = sc_dtype_load_i64(got->dtype, got->data, k) -
                  sc_dtype_load_i64(want->dtype, want->data, k);
      if (d > 1 || d < -1)
        fail_msg("%s element %lld: QOperator and QDQ differ by %lld LSB",
                 nodes[i][0], (long long)k, (long long)d);
    }
    sc_tensor_free(got);
  }
  sc_test_capture_free(&a);
  sc_tensor_free(x);
  sc_graph_free(qdq);
  sc_graph_free(qop);
}

/* --- float16 / float32 twins ------------------------------------------ */

static void test_float16_net_matches_its_float32_twin(void **s)
{
  struct sc_graph *g32 = load_model(QUANT_DATA "/fp32_net.onnx");
  struct sc_graph *g16 = load_model(QUANT_DATA "/fp16_net.onnx");
  struct sc_tensor *x = load_npy(QUANT_DATA "/fp_input.npy");
  struct sc_tensor *e32 = load_npy(QUANT_DATA "/fp32_expected.npy");
  struct sc_tensor *e16 = load_npy(QUANT_DATA "/fp16_expected.npy");
  struct sc_tensor *ebf = load_npy(QUANT_DATA "/bf16_expected.npy");
  struct sc_tensor *y32[1] = {NULL}, *y16[2] = {NULL, NULL};
  struct sc_test_capture c32, c16;
  (void)s;
  sc_test_capture_run(g32, x, &c32, y32);
  sc_test_capture_run(g16, x, &c16, y16);
  /* intermediate tensors really are float16 */
  assert_int_equal(sc_test_captured(&c16, "c1")->dtype, SC_DTYPE_FLOAT16);
  assert_int_equal(sc_test_captured(&c16, "sig")->dtype, SC_DTYPE_FLOAT16);
  assert_int_equal(sc_test_captured(&c16, "out_bf16")->dtype,
                   SC_DTYPE_BFLOAT16);
  assert_int_equal(y16[0]->dtype, SC_DTYPE_FLOAT);
  /* float32: numpy in double precision */
  assert_tensor_close(y32[0], e32, 1e-5, 1e-4);
  /* float16: numpy rounding to float16 after every operator; a few
   * float16 steps of slack for float32 vs double inside operators */
  assert_tensor_close(y16[0], e16, 2e-3, 4e-3);
  /* bfloat16 round trip of the float16 result */
  assert_tensor_close(y16[1], ebf, 8e-3, 8e-3);
  /* the twins: float16 storage costs about 1e-3 relative */
  assert_tensor_close(y16[0], y32[0], 1e-2, 1e-2);
  sc_tensor_free(y32[0]);
  sc_tensor_free(y16[0]);
  sc_tensor_free(y16[1]);
  sc_test_capture_free(&c32);
  sc_test_capture_free(&c16);
  sc_tensor_free(x);
  sc_tensor_free(e32);
  sc_tensor_free(e16);
  sc_tensor_free(ebf);
  sc_graph_free(g32);
  sc_graph_free(g16);
}

/* --- annotations ------------------------------------------------------- */

static const struct sc_quant *quant_of(const struct sc_graph *g,
                                       const char *name)
{
  int v = sc_graph_find_value(g, name);
  if (v < 0)
    fail_msg("no tensor '%s'", name);
  return g->values[v].quant;
}

static void expect_per_tensor(const struct sc_graph *g, const char *name,
                              enum sc_dtype dtype, float scale, int64_t zp)
{
  const struct sc_quant *q = quant_of(g, name);
  if (!q)
    fail_msg("'%s' is not annotated", name);
  assert_int_equal(q->dtype, dtype);
  assert_int_equal(q->axis, -1);
  assert_int_equal(q->n_params, 1);
  assert_true(q->scale[0] == scale);
  assert_int_equal(q->zero_point[0], zp);
}

static void test_annotations_of_the_qdq_net(void **s)
{
  struct sc_graph *g = load_model(QUANT_DATA "/qdq_net.onnx");
  const struct sc_quant *w, *again;
  (void)s;
  assert_int_equal(sc_graph_annotate_quant(g, NULL), SC_OK);
  /* the quantized tensor, the float tensor it quantizes, its DQ output */
  expect_per_tensor(g, "c1_q", SC_DTYPE_UINT8, 0.0297f, 120);
  expect_per_tensor(g, "c1", SC_DTYPE_UINT8, 0.0297f, 120);
  expect_per_tensor(g, "c1_dq", SC_DTYPE_UINT8, 0.0297f, 120);
  expect_per_tensor(g, "input", SC_DTYPE_UINT8, 0.0198f, 128);
  expect_per_tensor(g, "sig", SC_DTYPE_UINT8, 1.0f / 255, 0);
  /* per-channel weights keep their axis */
  w = quant_of(g, "w1_q");
  assert_non_null(w);
  assert_int_equal(w->dtype, SC_DTYPE_INT8);
  assert_int_equal(w->axis, 0);
  assert_int_equal(w->n_params, 8);
  assert_non_null(quant_of(g, "w1_dq"));
  assert_int_equal(quant_of(g, "b1_q")->dtype, SC_DTYPE_INT32);
  /* idempotent: a second pass keeps the same annotations */
  assert_int_equal(sc_graph_annotate_quant(g, NULL), SC_OK);
  again = quant_of(g, "w1_q");
  assert_ptr_equal(again, w);
  /* the annotated graph still runs */
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  sc_graph_free(g);
}

static void test_annotations_of_the_qoperator_net(void **s)
{
  struct sc_graph *g = load_model(QUANT_DATA "/qop_net.onnx");
  const struct sc_quant *w;
  (void)s;
  assert_int_equal(sc_graph_annotate_quant(g, NULL), SC_OK);
  expect_per_tensor(g, "x_q", SC_DTYPE_UINT8, 0.0198f, 128);
  expect_per_tensor(g, "c1_q", SC_DTYPE_UINT8, 0.0297f, 120);  /* QLinearConv */
  expect_per_tensor(g, "add_q", SC_DTYPE_UINT8, 0.0417f, 125); /* QLinearAdd */
  expect_per_tensor(g, "cat_q", SC_DTYPE_UINT8, 0.0306f, 110);
  /* an input only a consumer describes: QLinearMatMul's a */
  expect_per_tensor(g, "flat_q", SC_DTYPE_UINT8, 0.0121f, 105);
  w = quant_of(g, "w2_q");
  assert_non_null(w);
  assert_int_equal(w->axis, 0);
  assert_int_equal(w->n_params, 8);
  /* the dequantized output */
  expect_per_tensor(g, "output", SC_DTYPE_UINT8, 0.0493f, 127);
  sc_graph_free(g);
}

/* QGemm (com.microsoft): a per-column weight with transB = 1 is per axis
 * 0 of the [N, K] weight; the output takes y_scale / y_zero_point. */
static void test_annotations_of_qgemm(void **s)
{
  struct sc_graph *g = NULL;
  struct sc_node *node;
  struct sc_tensor *t;
  int64_t adims[2] = {1, 4}, wdims[2] = {3, 4}, three[1] = {3};
  float scales[3] = {0.1f, 0.2f, 0.3f};
  const char *ins[9] = {"a", "as", "az", "w", "ws", "wz", "", "ys", "yz"};
  const char *outs[1] = {"y"};
  const struct sc_quant *q;
  (void)s;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "com.microsoft", 1, NULL), SC_OK);
  assert_int_equal(sc_graph_add_input(g, "a", SC_DTYPE_UINT8, 2, adims, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 0, NULL, &t, NULL), SC_OK);
  *(float *)t->data = 0.5f;
  assert_int_equal(sc_graph_add_initializer(g, "as", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 0, NULL, &t, NULL), SC_OK);
  *(uint8_t *)t->data = 7;
  assert_int_equal(sc_graph_add_initializer(g, "az", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT8, 2, wdims, &t, NULL), SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "w", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, three, &t, NULL), SC_OK);
  memcpy(t->data, scales, sizeof scales);
  assert_int_equal(sc_graph_add_initializer(g, "ws", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT8, 1, three, &t, NULL), SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, "wz", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 0, NULL, &t, NULL), SC_OK);
  *(float *)t->data = 0.25f;
  assert_int_equal(sc_graph_add_initializer(g, "ys", t, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 0, NULL, &t, NULL), SC_OK);
  *(uint8_t *)t->data = 128;
  assert_int_equal(sc_graph_add_initializer(g, "yz", t, NULL), SC_OK);
  assert_int_equal(sc_graph_add_node(g, "fc", "QGemm", "com.microsoft", 9, ins,
                                     1, outs, &node, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_int(node, "transB", 1, NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_annotate_quant(g, NULL), SC_OK);
  expect_per_tensor(g, "a", SC_DTYPE_UINT8, 0.5f, 7);
  expect_per_tensor(g, "y", SC_DTYPE_UINT8, 0.25f, 128);
  q = quant_of(g, "w");
  assert_non_null(q);
  assert_int_equal(q->axis, 0);
  assert_int_equal(q->n_params, 3);
  assert_true(q->scale[2] == 0.3f);
  sc_graph_free(g);
}

static void test_annotation_skips_runtime_parameters(void **s)
{
  struct sc_graph *g = NULL;
  int64_t dims[1] = {4};
  const char *ins[3] = {"x", "scale", "zp"}, *outs[1] = {"y"};
  (void)s;
  /* the scale is a graph input: nothing can be said before running */
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "", 13, NULL), SC_OK);
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  assert_int_equal(
      sc_graph_add_input(g, "scale", SC_DTYPE_FLOAT, 0, NULL, NULL), SC_OK);
  assert_int_equal(sc_graph_add_input(g, "zp", SC_DTYPE_UINT8, 0, NULL, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_node(g, "q", "QuantizeLinear", "", 3, ins, 1,
                                     outs, NULL, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_annotate_quant(g, NULL), SC_OK);
  assert_null(quant_of(g, "y"));
  assert_null(quant_of(g, "x"));
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_annotations_of_the_qdq_net),
      cmocka_unit_test(test_annotations_of_the_qoperator_net),
      cmocka_unit_test(test_annotations_of_qgemm),
      cmocka_unit_test(test_annotation_skips_runtime_parameters),
      cmocka_unit_test(test_qoperator_net_matches_numpy),
      cmocka_unit_test(test_qdq_and_qoperator_agree_within_one_lsb),
      cmocka_unit_test(test_qoperator_nodes_agree_with_qdq_in_isolation),
      cmocka_unit_test(test_float16_net_matches_its_float32_twin),
      cmocka_unit_test(test_dynamic_tails_computed_by_conv_integer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
