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
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
