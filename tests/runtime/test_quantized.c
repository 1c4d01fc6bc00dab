/* The quantized operator family (runtime/ops/quantized.c, quant_*.c).
 *
 * Expected values: hand calculation (QuantizeLinear ties, saturation,
 * per-axis, DequantizeLinear, DynamicQuantizeLinear) and the numpy
 * reference of tests/data/quant/generate.py (every case under
 * tests/data/quant/cases/: the com.microsoft operators and the integer ONNX
 * operators in configurations the ONNX backend data lacks). The backend
 * cases themselves run in tests/conformance. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/quant_common.h"
#include "runtime/ops/quant_gemm.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

#define QUANT_DATA SC_SOURCE_DIR "/tests/data/quant"

/* --- helpers ---------------------------------------------------------- */

static struct sc_graph *new_graph(int64_t opset)
{
  struct sc_graph *g = NULL;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "", opset, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "com.microsoft", 1, NULL), SC_OK);
  return g;
}

static void add_init(struct sc_graph *g, const char *name, enum sc_dtype dtype,
                     int rank, const int64_t *dims, const double *values)
{
  assert_int_equal(
      sc_graph_add_initializer(g, name,
                               sc_test_tensor(dtype, rank, dims, values), NULL),
      SC_OK);
}

static void add_scalar(struct sc_graph *g, const char *name,
                       enum sc_dtype dtype, double value)
{
  add_init(g, name, dtype, 0, NULL, &value);
}

static struct sc_node *add_node(struct sc_graph *g, const char *name,
                                const char *op, const char *domain, int n_in,
                                const char *const *ins, const char *out)
{
  struct sc_node *node = NULL;
  const char *outs[1];
  outs[0] = out;
  assert_int_equal(
      sc_graph_add_node(g, name, op, domain, n_in, ins, 1, outs, &node, NULL),
      SC_OK);
  return node;
}

/* Runs g on one input tensor named `input`; returns output 0. */
static struct sc_tensor *run1(struct sc_graph *g, const char *input,
                              const struct sc_tensor *x)
{
  struct sc_feed feed;
  struct sc_tensor *out[4] = {NULL, NULL, NULL, NULL};
  struct sc_error err;
  sc_status st;
  int i;
  feed.name = input;
  feed.tensor = x;
  st = sc_graph_run(g, x ? 1 : 0, &feed, out, NULL, &err);
  if (st)
    fail_msg("run failed: %s", err.message);
  for (i = 1; i < g->n_outputs && i < 4; i++)
    sc_tensor_free(out[i]);
  return out[0];
}

/* Expects sc_graph_prepare to fail with `status` and a message naming
 * `node`. */
static void expect_prepare_failure(struct sc_graph *g, sc_status status,
                                   const char *node)
{
  struct sc_error err;
  sc_error_clear(&err);
  assert_int_equal(sc_graph_prepare(g, &err), status);
  if (!strstr(err.message, node))
    fail_msg("message '%s' does not name '%s'", err.message, node);
}

/* A graph y = QuantizeLinear(x, scale, zp) with the given parameters. */
static struct sc_graph *quantize_graph(int64_t opset, int rank,
                                       const int64_t *dims, int n_params,
                                       const double *scales, const double *zps,
                                       enum sc_dtype zp_dtype, int64_t axis)
{
  struct sc_graph *g = new_graph(opset);
  const char *ins[3] = {"x", "scale", "zp"};
  int64_t pdims[1];
  struct sc_node *node;
  pdims[0] = n_params;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, rank, dims, NULL),
                   SC_OK);
  add_init(g, "scale", SC_DTYPE_FLOAT, n_params > 1, pdims, scales);
  if (zps)
    add_init(g, "zp", zp_dtype, n_params > 1, pdims, zps);
  node = add_node(g, "quantize", "QuantizeLinear", "", zps ? 3 : 2, ins, "y");
  if (axis != 1)
    assert_int_equal(sc_node_set_attr_int(node, "axis", axis, NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  return g;
}

/* --- QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear -------- */

static void test_quantize_linear_rounds_half_to_even_and_saturates(void **s)
{
  int64_t dims[1] = {12};
  double scale = 1.0, zp = 0;
  float x[12] = {0.5f,  1.5f,   2.5f,   -0.5f,   -1.5f,  -2.5f,
                 3.49f, 127.5f, 128.0f, -128.5f, 300.0f, -300.0f};
  double want[12] = {0, 2, 2, 0, -2, -2, 3, 127, 127, -128, 127, -128};
  struct sc_graph *g =
      quantize_graph(13, 1, dims, 1, &scale, &zp, SC_DTYPE_INT8, 1);
  struct sc_tensor *in = sc_test_tensor_f32(1, dims, x);
  struct sc_tensor *y = run1(g, "x", in);
  struct sc_tensor *e = sc_test_tensor(SC_DTYPE_INT8, 1, dims, want);
  (void)s;
  assert_tensor_close(y, e, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(e);
  sc_tensor_free(in);
  sc_graph_free(g);
}

static void test_quantize_linear_default_uint8_nan_and_infinity(void **s)
{
  int64_t dims[1] = {6};
  double scale = 0.5;
  float x[6] = {NAN, INFINITY, -INFINITY, 0.25f, 0.75f, 127.5f};
  /* 0.25/0.5 = 0.5 -> 0, 0.75/0.5 = 1.5 -> 2, 255 */
  double want[6] = {0, 255, 0, 0, 2, 255};
  struct sc_graph *g =
      quantize_graph(10, 1, dims, 1, &scale, NULL, SC_DTYPE_UINT8, 1);
  struct sc_tensor *in = sc_test_tensor_f32(1, dims, x);
  struct sc_tensor *y = run1(g, "x", in);
  struct sc_tensor *e = sc_test_tensor(SC_DTYPE_UINT8, 1, dims, want);
  (void)s;
  assert_tensor_close(y, e, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(e);
  sc_tensor_free(in);
  sc_graph_free(g);
}

static void test_quantize_linear_per_axis(void **s)
{
  int64_t dims[2] = {2, 3};
  double scales[3] = {1.0, 2.0, 4.0}, zps[3] = {0, 10, -10};
  float x[6] = {1.5f, 3.0f, 10.0f, -7.0f, 300.0f, -600.0f};
  /* column 0: 1.5 -> 2, -7; column 1: 1.5 -> 2 + 10, 150 + 10 -> 127;
   * column 2: 2.5 -> 2 - 10, -150 - 10 -> -128 */
  double want[6] = {2, 12, -8, -7, 127, -128};
  struct sc_graph *g =
      quantize_graph(13, 2, dims, 3, scales, zps, SC_DTYPE_INT8, -1);
  struct sc_tensor *in = sc_test_tensor_f32(2, dims, x);
  struct sc_tensor *y = run1(g, "x", in);
  struct sc_tensor *e = sc_test_tensor(SC_DTYPE_INT8, 2, dims, want);
  (void)s;
  assert_tensor_close(y, e, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(e);
  sc_tensor_free(in);
  sc_graph_free(g);
}

static void test_dequantize_linear_per_axis_and_int32(void **s)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[2] = {2, 2}, two[1] = {2}, four[1] = {4};
  double scales[2] = {0.5, 0.25}, zps[2] = {-1, 3};
  double xv[4] = {-128, 127, 3, 0}, bias[4] = {-2147483647.0, 1000, 0, 7};
  const char *ins[3] = {"x", "scale", "zp"}, *ins32[2] = {"b", "bscale"};
  struct sc_node *node;
  struct sc_tensor *x = sc_test_tensor(SC_DTYPE_INT8, 2, dims, xv);
  struct sc_tensor *out[2] = {NULL, NULL}, *e;
  struct sc_feed feed = {"x", NULL};
  double want[4] = {-63.5, 64.0, 0.0, -0.75};
  double want32[4] = {-2147483647.0 * 0.5, 500, 0, 3.5};
  (void)s;
  feed.tensor = x;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_INT8, 2, dims, NULL),
                   SC_OK);
  add_init(g, "scale", SC_DTYPE_FLOAT, 1, two, scales);
  add_init(g, "zp", SC_DTYPE_INT8, 1, two, zps);
  add_init(g, "b", SC_DTYPE_INT32, 1, four, bias);
  add_scalar(g, "bscale", SC_DTYPE_FLOAT, 0.5);
  node = add_node(g, "dq", "DequantizeLinear", "", 3, ins, "y");
  assert_int_equal(sc_node_set_attr_int(node, "axis", 0, NULL), SC_OK);
  add_node(g, "dq32", "DequantizeLinear", "", 2, ins32, "y32");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y32", NULL), SC_OK);
  assert_int_equal(sc_graph_run(g, 1, &feed, out, NULL, NULL), SC_OK);
  e = sc_test_tensor(SC_DTYPE_FLOAT, 2, dims, want);
  assert_tensor_close(out[0], e, 0, 0);
  sc_tensor_free(e);
  e = sc_test_tensor(SC_DTYPE_FLOAT, 1, four, want32);
  assert_tensor_close(out[1], e, 0, 0);
  sc_tensor_free(e);
  sc_tensor_free(out[0]);
  sc_tensor_free(out[1]);
  sc_tensor_free(x);
  sc_graph_free(g);
}

static void dynamic_case(const float *x, int64_t n, float want_scale,
                         int want_zp, const double *want_y)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[1];
  const char *ins[1] = {"x"}, *outs[3] = {"y", "s", "z"};
  struct sc_tensor *in, *out[3] = {NULL, NULL, NULL}, *e;
  struct sc_feed feed = {"x", NULL};
  struct sc_error err;
  dims[0] = n;
  in = sc_test_tensor_f32(1, dims, x);
  feed.tensor = in;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_FLOAT, 1, dims, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_node(g, "dyn", "DynamicQuantizeLinear", "", 1,
                                     ins, 3, outs, NULL, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "s", NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "z", NULL), SC_OK);
  if (sc_graph_run(g, 1, &feed, out, NULL, &err) != SC_OK)
    fail_msg("%s", err.message);
  assert_int_equal(out[1]->rank, 0);
  assert_true(*(float *)out[1]->data == want_scale);
  assert_int_equal(*(uint8_t *)out[2]->data, want_zp);
  e = sc_test_tensor(SC_DTYPE_UINT8, 1, dims, want_y);
  assert_tensor_close(out[0], e, 0, 0);
  sc_tensor_free(e);
  sc_tensor_free(out[0]);
  sc_tensor_free(out[1]);
  sc_tensor_free(out[2]);
  sc_tensor_free(in);
  sc_graph_free(g);
}

static void test_dynamic_quantize_linear_zero_range_and_positive(void **s)
{
  float zeros[3] = {0, 0, 0};
  double zeros_q[3] = {0, 0, 0};
  /* range [0, 2.55]: scale 2.55f / 255 in float, zero point 0 */
  float pos[4] = {0.0f, 2.55f, 1.0f, 0.01f};
  double pos_q[4] = {0, 255, 100, 1};
  /* range [-1.02, 0]: scale 1.02f / 255, zero point 255, -0.2 -> -50 */
  float neg[2] = {-1.02f, -0.2f};
  double neg_q[2] = {0, 205};
  (void)s;
  dynamic_case(zeros, 3, 1.0f, 0, zeros_q);
  dynamic_case(pos, 4, 2.55f / 255.0f, 0, pos_q);
  dynamic_case(neg, 2, 1.02f / 255.0f, 255, neg_q);
}

/* QuantizeLinear of int32 x (divided in double, as the ONNX reference) and
 * the opset-19 float16 forms: float16 x and scale, float16 output of
 * DequantizeLinear. */
static void test_quantize_int32_and_float16_forms(void **s)
{
  struct sc_graph *g = new_graph(19);
  int64_t dims[1] = {4};
  double xi[4] = {3, -3, 5, 1000}, want_q[4] = {2, -2, 2, 127};
  double xh[4] = {0.75, -0.25, 100.0, 1.0}, want_h[4] = {3, -1, 127, 4};
  double want_dq[4] = {0.5, -0.5, 0.5, 31.75};
  const char *q32[3] = {"xi", "s2", "z8"}, *q16[3] = {"xh", "s16", "z8"};
  const char *dq16[3] = {"qi", "s16", "z8"};
  struct sc_tensor *in32 = sc_test_tensor(SC_DTYPE_INT32, 1, dims, xi);
  struct sc_tensor *in16 = sc_test_tensor(SC_DTYPE_FLOAT16, 1, dims, xh);
  struct sc_tensor *out[3] = {NULL, NULL, NULL}, *e;
  struct sc_feed feeds[2] = {{"xi", NULL}, {"xh", NULL}};
  struct sc_error err;
  (void)s;
  feeds[0].tensor = in32;
  feeds[1].tensor = in16;
  assert_int_equal(sc_graph_add_input(g, "xi", SC_DTYPE_INT32, 1, dims, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_input(g, "xh", SC_DTYPE_FLOAT16, 1, dims, NULL),
                   SC_OK);
  add_scalar(g, "s2", SC_DTYPE_FLOAT, 2.0);
  add_scalar(g, "s16", SC_DTYPE_FLOAT16, 0.25);
  add_scalar(g, "z8", SC_DTYPE_INT8, 0);
  add_node(g, "q32", "QuantizeLinear", "", 3, q32, "qi");
  add_node(g, "q16", "QuantizeLinear", "", 3, q16, "qh");
  add_node(g, "dq16", "DequantizeLinear", "", 3, dq16, "dh");
  assert_int_equal(sc_graph_add_output(g, "qi", NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "qh", NULL), SC_OK);
  assert_int_equal(sc_graph_add_output(g, "dh", NULL), SC_OK);
  if (sc_graph_run(g, 2, feeds, out, NULL, &err) != SC_OK)
    fail_msg("%s", err.message);
  e = sc_test_tensor(SC_DTYPE_INT8, 1, dims, want_q);
  assert_tensor_close(out[0], e, 0, 0);
  sc_tensor_free(e);
  e = sc_test_tensor(SC_DTYPE_INT8, 1, dims, want_h);
  assert_tensor_close(out[1], e, 0, 0);
  sc_tensor_free(e);
  e = sc_test_tensor(SC_DTYPE_FLOAT16, 1, dims, want_dq);
  assert_tensor_close(out[2], e, 0, 0);
  sc_tensor_free(e);
  sc_tensor_free(out[0]);
  sc_tensor_free(out[1]);
  sc_tensor_free(out[2]);
  sc_tensor_free(in32);
  sc_tensor_free(in16);
  sc_graph_free(g);
}

/* --- error paths ------------------------------------------------------ */

static void test_quantize_linear_rejects_scale_of_wrong_length(void **s)
{
  int64_t dims[2] = {2, 3};
  double scales[2] = {1, 2}, zps[2] = {0, 0};
  struct sc_graph *g =
      quantize_graph(13, 2, dims, 2, scales, zps, SC_DTYPE_INT8, 1);
  (void)s;
  expect_prepare_failure(g, SC_ERR_FORMAT, "quantize");
  sc_graph_free(g);
}

static void test_quantize_linear_rejects_float_zero_point(void **s)
{
  int64_t dims[1] = {4};
  double scale = 1, zp = 0;
  struct sc_graph *g =
      quantize_graph(13, 1, dims, 1, &scale, &zp, SC_DTYPE_FLOAT, 1);
  (void)s;
  expect_prepare_failure(g, SC_ERR_UNSUPPORTED, "quantize");
  sc_graph_free(g);
}

static void test_quantize_linear_rejects_blocked_quantization(void **s)
{
  int64_t dims[1] = {4};
  double scale = 1, zp = 0;
  struct sc_graph *g =
      quantize_graph(21, 1, dims, 1, &scale, &zp, SC_DTYPE_INT8, 1);
  (void)s;
  assert_int_equal(sc_node_set_attr_int(&g->nodes[0], "block_size", 2, NULL),
                   SC_OK);
  expect_prepare_failure(g, SC_ERR_UNSUPPORTED, "quantize");
  sc_graph_free(g);
}

/* QLinearConv x [1, C, 4, 4] (uint8) with a weight of `wc` input channels
 * and the given strides. */
static struct sc_graph *qlinear_conv_graph(int64_t c, int64_t wc,
                                           int64_t stride)
{
  struct sc_graph *g = new_graph(13);
  int64_t xd[4] = {1, 0, 4, 4}, wd[4] = {2, 0, 1, 1}, strides[2];
  double w[64] = {0};
  const char *ins[8] = {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"};
  struct sc_node *node;
  xd[1] = c;
  wd[1] = wc;
  strides[0] = strides[1] = stride;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_UINT8, 4, xd, NULL),
                   SC_OK);
  add_scalar(g, "xs", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "xz", SC_DTYPE_UINT8, 128);
  add_init(g, "w", SC_DTYPE_INT8, 4, wd, w);
  add_scalar(g, "ws", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "wz", SC_DTYPE_INT8, 0);
  add_scalar(g, "ys", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "yz", SC_DTYPE_UINT8, 128);
  node = add_node(g, "qconv", "QLinearConv", "", 8, ins, "y");
  assert_int_equal(sc_node_set_attr_ints(node, "strides", 2, strides, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  return g;
}

static void test_qlinear_conv_rejects_channel_mismatch(void **s)
{
  struct sc_graph *g = qlinear_conv_graph(3, 2, 1);
  (void)s;
  expect_prepare_failure(g, SC_ERR_FORMAT, "qconv");
  sc_graph_free(g);
}

static void test_qlinear_conv_rejects_zero_stride(void **s)
{
  struct sc_graph *g = qlinear_conv_graph(2, 2, 0);
  (void)s;
  expect_prepare_failure(g, SC_ERR_FORMAT, "qconv");
  sc_graph_free(g);
}

static void test_qlinear_add_rejects_mixed_types(void **s)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[1] = {4};
  const char *ins[8] = {"a", "s", "za", "b", "s", "zb", "s", "za"};
  (void)s;
  assert_int_equal(sc_graph_add_input(g, "a", SC_DTYPE_UINT8, 1, dims, NULL),
                   SC_OK);
  assert_int_equal(sc_graph_add_input(g, "b", SC_DTYPE_INT8, 1, dims, NULL),
                   SC_OK);
  add_scalar(g, "s", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "za", SC_DTYPE_UINT8, 0);
  add_scalar(g, "zb", SC_DTYPE_INT8, 0);
  add_node(g, "qadd", "QLinearAdd", "com.microsoft", 8, ins, "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  expect_prepare_failure(g, SC_ERR_FORMAT, "qadd");
  sc_graph_free(g);
}

static void test_qlinear_concat_requires_axis(void **s)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[1] = {4};
  const char *ins[5] = {"s", "z", "a", "s", "z"};
  (void)s;
  assert_int_equal(sc_graph_add_input(g, "a", SC_DTYPE_UINT8, 1, dims, NULL),
                   SC_OK);
  add_scalar(g, "s", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "z", SC_DTYPE_UINT8, 0);
  add_node(g, "qcat", "QLinearConcat", "com.microsoft", 5, ins, "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  expect_prepare_failure(g, SC_ERR_FORMAT, "qcat");
  sc_graph_free(g);
}

static void test_qlinear_average_pool_requires_kernel_shape(void **s)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[4] = {1, 1, 4, 4};
  const char *ins[5] = {"x", "s", "z", "s", "z"};
  (void)s;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_UINT8, 4, dims, NULL),
                   SC_OK);
  add_scalar(g, "s", SC_DTYPE_FLOAT, 0.1);
  add_scalar(g, "z", SC_DTYPE_UINT8, 0);
  add_node(g, "qpool", "QLinearAveragePool", "com.microsoft", 5, ins, "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  expect_prepare_failure(g, SC_ERR_FORMAT, "qpool");
  sc_graph_free(g);
}

static void test_qlinear_lookup_rejects_vector_scale(void **s)
{
  struct sc_graph *g = new_graph(13);
  int64_t dims[1] = {4}, two[1] = {2};
  double scales[2] = {0.1, 0.2};
  const char *ins[5] = {"x", "xs", "", "ys", ""};
  (void)s;
  assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_UINT8, 1, dims, NULL),
                   SC_OK);
  add_init(g, "xs", SC_DTYPE_FLOAT, 1, two, scales);
  add_scalar(g, "ys", SC_DTYPE_FLOAT, 0.1);
  add_node(g, "qsig", "QLinearSigmoid", "com.microsoft", 5, ins, "y");
  assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
  expect_prepare_failure(g, SC_ERR_UNSUPPORTED, "qsig");
  sc_graph_free(g);
}

/* --- the numpy cases --------------------------------------------------- */

/* Runs one case directory: model.onnx, input_K.npy -> output_K.npy,
 * compared exactly; a failure message names the case. */
static void run_case(const char *dir)
{
  char path[4096];
  struct sc_graph *g = NULL;
  struct sc_tensor *inputs[8] = {NULL}, *outputs[8] = {NULL};
  struct sc_feed feeds[8];
  struct sc_error err;
  int k, n_in = 0;

  snprintf(path, sizeof path, "%s/model.onnx", dir);
  if (sc_onnx_load(path, &g, &err) != SC_OK)
    fail_msg("%s: %s", dir, err.message);
  for (k = 0; k < g->n_inputs && k < 8; k++) {
    snprintf(path, sizeof path, "%s/input_%d.npy", dir, k);
    if (sc_npy_load(path, &inputs[k], &err) != SC_OK)
      fail_msg("%s: %s", dir, err.message);
    feeds[k].name = g->values[g->inputs[k]].name;
    feeds[k].tensor = inputs[k];
    n_in++;
  }
  if (sc_graph_run(g, n_in, feeds, outputs, NULL, &err) != SC_OK)
    fail_msg("%s: %s", dir, err.message);
  for (k = 0; k < g->n_outputs && k < 8; k++) {
    struct sc_tensor *want = NULL;
    int64_t i;
    snprintf(path, sizeof path, "%s/output_%d.npy", dir, k);
    assert_int_equal(sc_npy_load(path, &want, NULL), SC_OK);
    if (want->dtype != outputs[k]->dtype ||
        !sc_tensor_same_shape(want, outputs[k]))
      fail_msg("%s: output %d has the wrong dtype or shape", dir, k);
    for (i = 0; i < want->n_elements; i++) {
      int64_t a = sc_dtype_load_i64(want->dtype, outputs[k]->data, i);
      int64_t e = sc_dtype_load_i64(want->dtype, want->data, i);
      if (a != e)
        fail_msg("%s: output %d element %lld is %lld, numpy says %lld", dir, k,
                 (long long)i, (long long)a, (long long)e);
    }
    sc_tensor_free(want);
    sc_tensor_free(outputs[k]);
  }
  for (k = 0; k < n_in; k++)
    sc_tensor_free(inputs[k]);
  sc_graph_free(g);
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_operator_cases_match_numpy(void **s)
{
  const char *root = QUANT_DATA "/cases";
  DIR *dir = opendir(root);
  struct dirent *d;
  char *names[256];
  int n = 0, i;
  (void)s;
  assert_non_null(dir);
  while ((d = readdir(dir)) != NULL && n < 256)
    if (d->d_name[0] != '.')
      names[n++] = strdup(d->d_name);
  closedir(dir);
  qsort(names, (size_t)n, sizeof names[0], compare_names);
  assert_true(n >= 26);
  for (i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, names[i]);
    run_case(path);
    free(names[i]);
  }
}

/* --- the integer GEMM ------------------------------------------------- */

static void fill(int16_t *v, int64_t n, unsigned seed, int lo, int hi)
{
  int64_t i;
  for (i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    v[i] = (int16_t)(lo + (int)((seed >> 8) % (unsigned)(hi - lo + 1)));
  }
}

static void check_gemm_paths(int64_t m, int64_t n, int64_t k, int lo, int hi)
{
  int16_t *a = malloc((size_t)(m * k) * sizeof *a);
  int16_t *b = malloc((size_t)(k * n) * sizeof *b);
  int32_t *fast = malloc((size_t)(m * n) * sizeof *fast);
  int32_t *ref = malloc((size_t)(m * n) * sizeof *ref);
  struct sc_threadpool *pool = NULL;
  int64_t i;
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(fast);
  assert_non_null(ref);
  assert_int_equal(sc_threadpool_create(2, &pool, NULL), SC_OK);
  fill(a, m * k, 7, lo, hi);
  fill(b, k * n, 11, lo, hi);
  sc_qgemm_reference(m, n, k, a, k, b, n, ref, n);
  sc_qgemm_force_reference(0);
  assert_int_equal(sc_qgemm(m, n, k, a, k, b, n, fast, n, pool, NULL), SC_OK);
  for (i = 0; i < m * n; i++)
    if (fast[i] != ref[i])
      fail_msg("%lldx%lldx%lld: element %lld is %d, reference %d", (long long)m,
               (long long)n, (long long)k, (long long)i, fast[i], ref[i]);
  if (sc_qgemm_uses_packed()) { /* B written in the packed layout */
    int16_t *packed =
        malloc((size_t)sc_qgemm_packed_size(n, k) * sizeof *packed);
    int64_t r, j;
    assert_non_null(packed);
    memset(packed, 0x55, (size_t)sc_qgemm_packed_size(n, k) * sizeof *packed);
    sc_qgemm_packed_clear_padding(packed, n, k);
    for (r = 0; r < k; r++)
      for (j = 0; j < n; j++)
        packed[sc_qgemm_packed_offset(r, j, k)] = b[r * n + j];
    memset(fast, 0, (size_t)(m * n) * sizeof *fast);
    assert_int_equal(
        sc_qgemm_packed(m, n, k, a, k, packed, fast, n, pool, NULL), SC_OK);
    assert_memory_equal(fast, ref, (size_t)(m * n) * sizeof *fast);
    free(packed);
  }
  sc_qgemm_force_reference(1);
  assert_int_equal(sc_qgemm_uses_packed(), 0);
  assert_int_equal(sc_qgemm(m, n, k, a, k, b, n, fast, n, pool, NULL), SC_OK);
  sc_qgemm_force_reference(0);
  assert_memory_equal(fast, ref, (size_t)(m * n) * sizeof *fast);
  sc_threadpool_free(pool);
  free(a);
  free(b);
  free(fast);
  free(ref);
}

static void test_qgemm_fast_path_matches_reference(void **s)
{
  (void)s;
  if (!sc_qgemm_has_vnni())
    print_message("no AVX-512 VNNI here: sc_qgemm is the portable path\n");
  check_gemm_paths(1, 1, 1, -255, 255);
  check_gemm_paths(7, 45, 33, -255, 255);
  check_gemm_paths(16, 64, 72, -128, 255);
  check_gemm_paths(5, 3000, 27, -255, 255);
}

static void test_qgemm_wraps_around_like_int32_hardware(void **s)
{
  enum { K = 40000 };
  int16_t *a = malloc(K * sizeof *a), *b = malloc(K * sizeof *b);
  int32_t c = 0, ref = 0;
  int i;
  (void)s;
  assert_non_null(a);
  assert_non_null(b);
  for (i = 0; i < K; i++)
    a[i] = b[i] = 255;
  sc_qgemm_reference(1, 1, K, a, K, b, 1, &ref, 1);
  /* 40000 * 65025 = 2601000000 wraps to 2601000000 - 2^32 */
  assert_int_equal(ref, -1693967296);
  assert_int_equal(sc_qgemm(1, 1, K, a, K, b, 1, &c, 1, NULL, NULL), SC_OK);
  assert_int_equal(c, -1693967296);
  free(a);
  free(b);
}

/* sc_quant_requantize_row (AVX-512 where available) against the scalar
 * sc_quant_requantize, on ties (multiplier 0.5), saturation and a NaN
 * multiplier, for both 8-bit types and a length with a scalar tail. */
static void test_requantize_row_matches_scalar(void **s)
{
  static const float multipliers[] = {0.5f, 0.0123f, 3.0f, 1e-9f, NAN};
  int32_t acc[103];
  uint8_t out[103];
  size_t mi;
  int t, i;
  uint32_t seed = 1;
  (void)s;
  for (i = 0; i < 103; i++) {
    seed = seed * 1664525u + 1013904223u;
    acc[i] = (int32_t)(seed >> 16) - 32768;
  }
  acc[0] = INT32_MAX;
  acc[1] = INT32_MIN;
  for (t = 0; t < 2; t++) {
    enum sc_dtype dtype = t ? SC_DTYPE_INT8 : SC_DTYPE_UINT8;
    int32_t qmin = t ? -128 : 0, qmax = t ? 127 : 255, zp = t ? -3 : 130;
    for (mi = 0; mi < sizeof multipliers / sizeof multipliers[0]; mi++) {
      sc_quant_requantize_row(acc, 103, 7, multipliers[mi], zp, dtype, out, 0);
      for (i = 0; i < 103; i++) {
        int32_t v = (int32_t)((uint32_t)acc[i] + 7u);
        int32_t want = sc_quant_requantize(v, multipliers[mi], zp, qmin, qmax);
        int32_t got = t ? (int32_t)(int8_t)out[i] : (int32_t)out[i];
        if (got != want)
          fail_msg("%s multiplier %g element %d (acc %d): %d, scalar %d",
                   sc_dtype_name(dtype), (double)multipliers[mi], i, v, got,
                   want);
      }
    }
  }
}

/* A QLinearConv large enough for the fast path, run through the graph on
 * both paths: the outputs must be identical. */
static void test_qlinear_conv_paths_agree(void **s)
{
  struct sc_graph *g;
  struct sc_tensor *x, *y_fast, *y_ref;
  int64_t xd[4] = {1, 16, 20, 20}, i;
  uint32_t seed = 5;
  (void)s;
  g = new_graph(13);
  {
    const char *ins[8] = {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"};
    int64_t wd[4] = {24, 16, 3, 3};
    double *w = malloc(24 * 16 * 9 * sizeof *w);
    int64_t pads[4] = {1, 1, 1, 1};
    struct sc_node *node;
    assert_non_null(w);
    for (i = 0; i < 24 * 16 * 9; i++) {
      seed = seed * 1664525u + 1013904223u;
      w[i] = (double)((int)(seed >> 24) - 128);
    }
    assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_UINT8, 4, xd, NULL),
                     SC_OK);
    add_scalar(g, "xs", SC_DTYPE_FLOAT, 0.02);
    add_scalar(g, "xz", SC_DTYPE_UINT8, 120);
    add_init(g, "w", SC_DTYPE_INT8, 4, wd, w);
    add_scalar(g, "ws", SC_DTYPE_FLOAT, 0.003);
    add_scalar(g, "wz", SC_DTYPE_INT8, 3);
    add_scalar(g, "ys", SC_DTYPE_FLOAT, 0.05);
    add_scalar(g, "yz", SC_DTYPE_UINT8, 128);
    node = add_node(g, "qconv", "QLinearConv", "", 8, ins, "y");
    assert_int_equal(sc_node_set_attr_ints(node, "pads", 4, pads, NULL), SC_OK);
    assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
    free(w);
  }
  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT8, 4, xd, &x, NULL), SC_OK);
  for (i = 0; i < x->n_elements; i++) {
    seed = seed * 1664525u + 1013904223u;
    ((uint8_t *)x->data)[i] = (uint8_t)(seed >> 24);
  }
  y_fast = run1(g, "x", x);
  sc_qgemm_force_reference(1);
  y_ref = run1(g, "x", x);
  sc_qgemm_force_reference(0);
  assert_int_equal(y_fast->n_elements, 24 * 20 * 20);
  assert_memory_equal(y_fast->data, y_ref->data, (size_t)y_fast->n_elements);
  sc_tensor_free(y_fast);
  sc_tensor_free(y_ref);
  sc_tensor_free(x);
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_linear_rounds_half_to_even_and_saturates),
      cmocka_unit_test(test_quantize_linear_default_uint8_nan_and_infinity),
      cmocka_unit_test(test_quantize_linear_per_axis),
      cmocka_unit_test(test_dequantize_linear_per_axis_and_int32),
      cmocka_unit_test(test_dynamic_quantize_linear_zero_range_and_positive),
      cmocka_unit_test(test_quantize_int32_and_float16_forms),
      cmocka_unit_test(test_quantize_linear_rejects_scale_of_wrong_length),
      cmocka_unit_test(test_quantize_linear_rejects_float_zero_point),
      cmocka_unit_test(test_quantize_linear_rejects_blocked_quantization),
      cmocka_unit_test(test_qlinear_conv_rejects_channel_mismatch),
      cmocka_unit_test(test_qlinear_conv_rejects_zero_stride),
      cmocka_unit_test(test_qlinear_add_rejects_mixed_types),
      cmocka_unit_test(test_qlinear_concat_requires_axis),
      cmocka_unit_test(test_qlinear_average_pool_requires_kernel_shape),
      cmocka_unit_test(test_qlinear_lookup_rejects_vector_scale),
      cmocka_unit_test(test_operator_cases_match_numpy),
      cmocka_unit_test(test_qgemm_fast_path_matches_reference),
      cmocka_unit_test(test_qgemm_wraps_around_like_int32_hardware),
      cmocka_unit_test(test_requantize_row_matches_scalar),
      cmocka_unit_test(test_qlinear_conv_paths_agree),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
