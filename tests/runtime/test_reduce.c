/* The reduce family (runtime/ops/reduce.c): ReduceX edge cases (empty
 * axes, noop_with_empty_axes, keepdims = 0, negative axes, empty sets,
 * strided and blocked layouts), ArgMax/ArgMin ties, CumSum, TopK ties,
 * Softmax's legacy 2-D coercion, Hardmax, determinism across thread counts
 * and the error paths. Expected values are hand calculations (closed forms
 * noted beside each). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"
#include "tests/support/one_node.h"

static struct sc_tensor *axes_tensor(int n, const int64_t *axes)
{
  int64_t dims[1];
  dims[0] = n;
  return sc_test_tensor_i64(1, dims, axes);
}

/* x = [[1, 2, 3], [4, 5, 6]] */
static struct sc_tensor *x_2x3(void)
{
  static const float v[6] = {1, 2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  return sc_test_tensor_f32(2, dims, v);
}

/* Runs op on x with optional axes (as an input when opset is at least
 * `input_axes_since`, else as the attribute) and returns out0. */
static struct sc_tensor *reduce(const char *op, int64_t opset,
                                struct sc_tensor *x, int n_axes,
                                const int64_t *axes, int keepdims, int noop,
                                int axes_constant)
{
  int input_axes = strcmp(op, "ReduceSum") == 0 ? opset >= 13 : opset >= 18;
  struct sc_tensor *inputs[2] = {x, NULL}, *out = NULL;
  struct sc_test_node t;
  struct sc_error err;

  if (input_axes && n_axes >= 0)
    inputs[1] = axes_tensor(n_axes, axes);
  sc_test_node_init(&t, op, opset, inputs[1] ? 2 : 1, inputs,
                    axes_constant ? 2u : 0u, 1);
  if (!input_axes && n_axes >= 0)
    assert_int_equal(sc_node_set_attr_ints(t.node, "axes", n_axes, axes, NULL),
                     SC_OK);
  assert_int_equal(sc_node_set_attr_int(t.node, "keepdims", keepdims, NULL),
                   SC_OK);
  if (noop)
    assert_int_equal(
        sc_node_set_attr_int(t.node, "noop_with_empty_axes", 1, NULL), SC_OK);
  if (sc_test_node_run(&t, NULL, &out, &err) != SC_OK)
    fail_msg("%s: %s", op, err.message);
  sc_test_node_free(&t);
  return out;
}

/* ---------------------------------------------------------------------- */

static void test_reduce_sum_keepdims_along_last_axis(void **state)
{
  int64_t axes[1] = {1}, dims[2] = {2, 1};
  float want[2] = {6, 15}; /* 1+2+3, 4+5+6 */
  (void)state;
  assert_result_f32(reduce("ReduceSum", 13, x_2x3(), 1, axes, 1, 0, 1), 2, dims,
                    want, 1e-6);
}

static void test_reduce_sum_negative_axis_without_keepdims(void **state)
{
  int64_t axes[1] = {-1}, dims[1] = {2};
  float want[2] = {6, 15};
  (void)state;
  /* axes fed at run time: the static pass defers the shape */
  assert_result_f32(reduce("ReduceSum", 13, x_2x3(), 1, axes, 0, 0, 0), 1, dims,
                    want, 1e-6);
}

static void test_reduce_sum_empty_axes_reduce_everything(void **state)
{
  int64_t dims[2] = {1, 1};
  float want[1] = {21};
  (void)state;
  assert_result_f32(reduce("ReduceSum", 13, x_2x3(), 0, NULL, 1, 0, 1), 2, dims,
                    want, 1e-6);
  /* omitted axes input: the same */
  assert_result_f32(reduce("ReduceSum", 13, x_2x3(), -1, NULL, 1, 0, 0), 2,
                    dims, want, 1e-6);
}

static void test_reduce_sum_empty_axes_with_noop_is_identity(void **state)
{
  int64_t dims[2] = {2, 3};
  float want[6] = {1, 2, 3, 4, 5, 6};
  (void)state;
  assert_result_f32(reduce("ReduceSum", 13, x_2x3(), 0, NULL, 1, 1, 0), 2, dims,
                    want, 1e-6);
}

static void test_reduce_mean_attribute_axes_before_opset_18(void **state)
{
  int64_t axes[1] = {0}, dims[1] = {3};
  float want[3] = {2.5f, 3.5f, 4.5f};
  (void)state;
  assert_result_f32(reduce("ReduceMean", 11, x_2x3(), 1, axes, 0, 0, 0), 1,
                    dims, want, 1e-6);
}

static void test_reduce_mean_axes_input_from_opset_18(void **state)
{
  int64_t axes[1] = {0}, dims[2] = {1, 3};
  float want[3] = {2.5f, 3.5f, 4.5f};
  (void)state;
  assert_result_f32(reduce("ReduceMean", 18, x_2x3(), 1, axes, 1, 0, 1), 2,
                    dims, want, 1e-6);
}

static void test_reduce_kinds_over_all_axes(void **state)
{
  static const struct {
    const char *op;
    float want;
  } cases[] = {
      {"ReduceMax", 6},
      {"ReduceMin", 1},
      {"ReduceProd", 720},
      {"ReduceL1", 21},
      {"ReduceL2", 9.539392f},        /* sqrt(91) */
      {"ReduceSumSquare", 91},        /* 1+4+9+16+25+36 */
      {"ReduceLogSum", 3.044522f},    /* ln 21 */
      {"ReduceLogSumExp", 6.456193f}, /* ln(e + ... + e^6) */
  };
  int64_t dims[2] = {1, 1};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_result_f32(reduce(cases[i].op, 13, x_2x3(), -1, NULL, 1, 0, 0), 2,
                      dims, &cases[i].want, 1e-6);
}

static void test_reduce_log_sum_exp_is_stable_for_large_values(void **state)
{
  float v[2] = {1000, 1000}, want[1] = {1000.693147f}; /* 1000 + ln 2 */
  int64_t dims[1] = {2}, out_dims[1] = {1};
  (void)state;
  assert_result_f32(reduce("ReduceLogSumExp", 13,
                           sc_test_tensor_f32(1, dims, v), -1, NULL, 1, 0, 0),
                    1, out_dims, want, 1e-6);
}

static void test_reduce_max_propagates_nan(void **state)
{
  float v[3] = {1, NAN, 3}, want[1] = {NAN};
  int64_t dims[1] = {3}, out_dims[1] = {1};
  (void)state;
  assert_result_f32(reduce("ReduceMax", 13, sc_test_tensor_f32(1, dims, v), -1,
                           NULL, 1, 0, 0),
                    1, out_dims, want, 1e-6);
}

static void test_reduce_over_empty_set_gives_identity_values(void **state)
{
  static const struct {
    const char *op;
    float want;
  } cases[] = {
      {"ReduceSum", 0},
      {"ReduceProd", 1},
      {"ReduceMax", -INFINITY},
      {"ReduceMin", INFINITY},
      {"ReduceL1", 0},
      {"ReduceL2", 0},
      {"ReduceSumSquare", 0},
      {"ReduceLogSum", -INFINITY},
      {"ReduceLogSumExp", -INFINITY},
      {"ReduceMean", NAN},
  };
  int64_t dims[2] = {2, 0}, axes[1] = {1}, out_dims[1] = {2};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    float want[2];
    want[0] = want[1] = cases[i].want;
    assert_result_f32(reduce(cases[i].op, 13, sc_test_tensor_f32(2, dims, NULL),
                             1, axes, 0, 0, 0),
                      1, out_dims, want, 1e-6);
  }
}

static void test_reduce_middle_axis_of_3d(void **state)
{
  /* x[i][j][k] = 12i + 4j + k; sum over j = 36i + 3k + 12 */
  float v[24], want[8];
  int64_t dims[3] = {2, 3, 4}, axes[1] = {1}, out_dims[2] = {2, 4};
  int i, k;
  (void)state;
  for (i = 0; i < 24; i++)
    v[i] = (float)i;
  for (i = 0; i < 2; i++)
    for (k = 0; k < 4; k++)
      want[i * 4 + k] = (float)(36 * i + 3 * k + 12);
  assert_result_f32(
      reduce("ReduceSum", 13, sc_test_tensor_f32(3, dims, v), 1, axes, 0, 0, 1),
      2, out_dims, want, 1e-6);
}

static void test_reduce_first_axis_of_wide_tensor_in_blocks(void **state)
{
  /* [3, 150] reduced over axis 0: more columns than one block of 64;
   * x[i][j] = 150i + j, sum = 3j + 450 */
  float v[450], want[150];
  int64_t dims[2] = {3, 150}, axes[1] = {0}, out_dims[1] = {150};
  int i;
  (void)state;
  for (i = 0; i < 450; i++)
    v[i] = (float)i;
  for (i = 0; i < 150; i++)
    want[i] = (float)(3 * i + 450);
  assert_result_f32(
      reduce("ReduceSum", 13, sc_test_tensor_f32(2, dims, v), 1, axes, 0, 0, 1),
      1, out_dims, want, 1e-6);
}

static void test_reduce_sum_int64_is_exact(void **state)
{
  /* 2^53 + 1 is not a double: a double accumulator would lose it */
  int64_t v[2] = {9007199254740993LL, 1}, dims[1] = {2}, out_dims[1] = {1};
  int64_t want[1] = {9007199254740994LL};
  (void)state;
  assert_result_i64(reduce("ReduceSum", 13, sc_test_tensor_i64(1, dims, v), -1,
                           NULL, 1, 0, 0),
                    1, out_dims, want);
}

static void test_reduce_max_int64_over_empty_set_is_lowest(void **state)
{
  int64_t dims[2] = {2, 0}, axes[1] = {1}, out_dims[1] = {2};
  int64_t want[2] = {INT64_MIN, INT64_MIN};
  (void)state;
  assert_result_i64(reduce("ReduceMax", 13, sc_test_tensor_i64(2, dims, NULL),
                           1, axes, 0, 0, 0),
                    1, out_dims, want);
}

/* Runs a big float reduction with 1 and 2 threads and with the given axis;
 * the two results must be bit-identical. */
static void check_thread_invariance(int64_t rows, int64_t cols, int64_t axis)
{
  struct sc_threadpool *pool = NULL;
  struct sc_tensor *x, *inputs[1], *out1 = NULL, *out2 = NULL;
  struct sc_test_node t;
  int64_t dims[2], i;
  float *v;

  dims[0] = rows;
  dims[1] = cols;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, dims, &x, NULL), SC_OK);
  v = x->data;
  for (i = 0; i < rows * cols; i++)
    v[i] = (float)sin((double)i * 0.37) * 1000.0f;
  assert_int_equal(sc_threadpool_create(2, &pool, NULL), SC_OK);

  inputs[0] = x;
  sc_test_node_init(&t, "ReduceLogSumExp", 13, 1, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_ints(t.node, "axes", 1, &axis, NULL),
                   SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, &out1, NULL), SC_OK);
  assert_int_equal(sc_test_node_run(&t, pool, &out2, NULL), SC_OK);
  assert_int_equal(out1->n_elements, axis == 0 ? cols : rows);
  assert_memory_equal(out1->data, out2->data, sc_tensor_size(out1));
  sc_tensor_free(out1);
  sc_tensor_free(out2);
  sc_test_node_free(&t);
  sc_threadpool_free(pool);
}

static void test_reduce_float16_computes_through_float(void **state)
{
  /* 1.5 + 2.25 + 3 = 6.75, exact in float16 */
  double v[3] = {1.5, 2.25, 3}, w[1] = {6.75};
  int64_t dims[1] = {3}, out_dims[1] = {1};
  struct sc_tensor *out, *want;
  (void)state;
  out = reduce("ReduceSum", 13, sc_test_tensor(SC_DTYPE_FLOAT16, 1, dims, v),
               -1, NULL, 1, 0, 0);
  want = sc_test_tensor(SC_DTYPE_FLOAT16, 1, out_dims, w);
  assert_tensor_close(out, want, 0, 0);
  sc_tensor_free(out);
  sc_tensor_free(want);
}

static void test_reduce_is_identical_for_any_thread_count(void **state)
{
  (void)state;
  check_thread_invariance(300, 1000, 1);
  check_thread_invariance(1000, 300, 0);
}

static void test_reduce_rejects_axis_out_of_range(void **state)
{
  int64_t axes[1] = {2};
  struct sc_tensor *inputs[2];
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = x_2x3();
  inputs[1] = axes_tensor(1, axes);
  sc_test_node_init(&t, "ReduceSum", 13, 2, inputs, 2u, 1);
  assert_int_equal(sc_test_node_run(&t, NULL, NULL, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "axis 2"));
  sc_test_node_free(&t);
}

static void test_reduce_rejects_repeated_axis(void **state)
{
  int64_t axes[2] = {1, -1};
  struct sc_tensor *inputs[1];
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = x_2x3();
  sc_test_node_init(&t, "ReduceMax", 13, 1, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_ints(t.node, "axes", 2, axes, NULL), SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, NULL, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "twice"));
  sc_test_node_free(&t);
}

static void test_reduce_rejects_bool_input_as_unsupported(void **state)
{
  double v[2] = {1, 0};
  int64_t dims[1] = {2};
  struct sc_tensor *inputs[1];
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = sc_test_tensor(SC_DTYPE_BOOL, 1, dims, v);
  sc_test_node_init(&t, "ReduceSum", 13, 1, inputs, 0, 1);
  assert_int_equal(sc_test_node_run(&t, NULL, NULL, &err), SC_ERR_UNSUPPORTED);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "bool"));
  sc_test_node_free(&t);
}

/* ---------------------------------------------------------------------- */

static struct sc_tensor *arg(const char *op, struct sc_tensor *x, int64_t axis,
                             int keepdims, int select_last)
{
  struct sc_tensor *inputs[1] = {x}, *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  sc_test_node_init(&t, op, 13, 1, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_int(t.node, "axis", axis, NULL), SC_OK);
  assert_int_equal(sc_node_set_attr_int(t.node, "keepdims", keepdims, NULL),
                   SC_OK);
  assert_int_equal(
      sc_node_set_attr_int(t.node, "select_last_index", select_last, NULL),
      SC_OK);
  if (sc_test_node_run(&t, NULL, &out, &err) != SC_OK)
    fail_msg("%s", err.message);
  sc_test_node_free(&t);
  return out;
}

static struct sc_tensor *x_ties(void)
{
  static const float v[6] = {1, 3, 3, 2, 2, 1};
  int64_t dims[2] = {2, 3};
  return sc_test_tensor_f32(2, dims, v);
}

static void test_argmax_ties_take_first_or_last_index(void **state)
{
  int64_t dims[2] = {2, 1}, first[2] = {1, 0}, last[2] = {2, 1};
  (void)state;
  assert_result_i64(arg("ArgMax", x_ties(), 1, 1, 0), 2, dims, first);
  assert_result_i64(arg("ArgMax", x_ties(), -1, 1, 1), 2, dims, last);
}

static void test_argmin_along_first_axis_without_keepdims(void **state)
{
  /* columns (1, 2) -> 0, (3, 2) -> 1, (3, 1) -> 1 */
  int64_t dims[1] = {3}, want[3] = {0, 1, 1};
  (void)state;
  assert_result_i64(arg("ArgMin", x_ties(), 0, 0, 0), 1, dims, want);
}

static void test_cumsum_reverse_exclusive(void **state)
{
  float v[3] = {1, 2, 3}, want[3] = {5, 3, 0};
  int64_t dims[1] = {3}, axis[1] = {0};
  struct sc_tensor *inputs[2], *out = NULL;
  struct sc_test_node t;
  (void)state;
  inputs[0] = sc_test_tensor_f32(1, dims, v);
  inputs[1] = sc_test_tensor_i64(0, NULL, axis);
  sc_test_node_init(&t, "CumSum", 14, 2, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_int(t.node, "exclusive", 1, NULL), SC_OK);
  assert_int_equal(sc_node_set_attr_int(t.node, "reverse", 1, NULL), SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_result_f32(out, 1, dims, want, 1e-6);
  sc_test_node_free(&t);
}

static void test_cumsum_along_inner_axis_of_int32(void **state)
{
  double v[6] = {1, 2, 3, 4, 5, 6}, want[6] = {1, 3, 6, 4, 9, 15};
  int64_t dims[2] = {2, 3}, axis[1] = {-1};
  struct sc_tensor *inputs[2], *out = NULL, *expected;
  struct sc_test_node t;
  (void)state;
  inputs[0] = sc_test_tensor(SC_DTYPE_INT32, 2, dims, v);
  inputs[1] = sc_test_tensor_i64(1, (int64_t[]){1}, axis);
  sc_test_node_init(&t, "CumSum", 14, 2, inputs, 2u, 1);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  expected = sc_test_tensor(SC_DTYPE_INT32, 2, dims, want);
  assert_tensor_close(out, expected, 0, 0);
  sc_tensor_free(expected);
  sc_tensor_free(out);
  sc_test_node_free(&t);
}

/* TopK of x along its last axis; values and indices returned. */
static void topk(struct sc_tensor *x, int64_t k, int largest,
                 struct sc_tensor **values, struct sc_tensor **indices,
                 sc_status want_status, struct sc_error *err)
{
  struct sc_tensor *inputs[2], *outs[2] = {NULL, NULL};
  struct sc_test_node t;
  inputs[0] = x;
  inputs[1] = sc_test_tensor_i64(1, (int64_t[]){1}, &k);
  sc_test_node_init(&t, "TopK", 11, 2, inputs, 2u, 2);
  assert_int_equal(sc_node_set_attr_int(t.node, "largest", largest, NULL),
                   SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, outs, err), want_status);
  *values = outs[0];
  *indices = outs[1];
  sc_test_node_free(&t);
}

static void test_topk_ties_keep_lower_index_first(void **state)
{
  float v[4] = {3, 1, 3, 2}, big[2] = {3, 3}, small[2] = {1, 2};
  int64_t dims[1] = {4}, out_dims[1] = {2};
  int64_t big_at[2] = {0, 2}, small_at[2] = {1, 3};
  struct sc_tensor *values, *indices;
  (void)state;
  topk(sc_test_tensor_f32(1, dims, v), 2, 1, &values, &indices, SC_OK, NULL);
  assert_result_f32(values, 1, out_dims, big, 1e-6);
  assert_result_i64(indices, 1, out_dims, big_at);
  topk(sc_test_tensor_f32(1, dims, v), 2, 0, &values, &indices, SC_OK, NULL);
  assert_result_f32(values, 1, out_dims, small, 1e-6);
  assert_result_i64(indices, 1, out_dims, small_at);
}

static void test_topk_rejects_k_larger_than_axis(void **state)
{
  float v[4] = {3, 1, 3, 2};
  int64_t dims[1] = {4};
  struct sc_tensor *values, *indices;
  struct sc_error err;
  (void)state;
  topk(sc_test_tensor_f32(1, dims, v), 5, 1, &values, &indices, SC_ERR_FORMAT,
       &err);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "K = 5"));
}

/* ---------------------------------------------------------------------- */

static struct sc_tensor *normalise(const char *op, int64_t opset,
                                   struct sc_tensor *x, int64_t axis)
{
  struct sc_tensor *inputs[1] = {x}, *out = NULL;
  struct sc_test_node t;
  sc_test_node_init(&t, op, opset, 1, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_int(t.node, "axis", axis, NULL), SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  sc_test_node_free(&t);
  return out;
}

/* x[b] = ln [[1, 2], [3, 4]] for b = 0, 1 */
static struct sc_tensor *x_logs(void)
{
  float v[8];
  int64_t dims[3] = {2, 2, 2};
  int i;
  for (i = 0; i < 8; i++)
    v[i] = (float)log((double)(i % 4 + 1));
  return sc_test_tensor_f32(3, dims, v);
}

static void test_softmax_before_opset_13_coerces_to_2d(void **state)
{
  /* axis 1 flattens [2,2,2] to [2,4]: e^x / sum = (1,2,3,4) / 10 */
  float want[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.1f, 0.2f, 0.3f, 0.4f};
  int64_t dims[3] = {2, 2, 2};
  (void)state;
  assert_result_f32(normalise("Softmax", 11, x_logs(), 1), 3, dims, want, 1e-6);
}

static void test_softmax_from_opset_13_is_along_axis(void **state)
{
  /* along axis 1: pairs (1,3) and (2,4) */
  float want[8] = {0.25f, 2.0f / 6, 0.75f, 4.0f / 6,
                   0.25f, 2.0f / 6, 0.75f, 4.0f / 6};
  int64_t dims[3] = {2, 2, 2};
  (void)state;
  assert_result_f32(normalise("Softmax", 13, x_logs(), 1), 3, dims, want, 1e-6);
}

static void test_log_softmax_of_large_values(void **state)
{
  /* x - max - ln(sum e^(x - max)): (0, 1) shifted by 10000 */
  float v[2] = {10000, 10001};
  float want[2] = {-1.3132617f, -0.3132617f};
  int64_t dims[1] = {2};
  (void)state;
  assert_result_f32(
      normalise("LogSoftmax", 13, sc_test_tensor_f32(1, dims, v), -1), 1, dims,
      want, 1e-6);
}

static void test_hardmax_marks_first_maximum(void **state)
{
  float v[6] = {1, 3, 3, 2, 2, 1}, want[6] = {0, 1, 0, 1, 0, 0};
  int64_t dims[2] = {2, 3};
  (void)state;
  assert_result_f32(normalise("Hardmax", 13, sc_test_tensor_f32(2, dims, v), 1),
                    2, dims, want, 1e-6);
}

static void test_softmax_rejects_axis_out_of_range(void **state)
{
  struct sc_tensor *inputs[1];
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = x_2x3();
  sc_test_node_init(&t, "Softmax", 13, 1, inputs, 0, 1);
  assert_int_equal(sc_node_set_attr_int(t.node, "axis", 2, NULL), SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, NULL, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  sc_test_node_free(&t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reduce_sum_keepdims_along_last_axis),
      cmocka_unit_test(test_reduce_sum_negative_axis_without_keepdims),
      cmocka_unit_test(test_reduce_sum_empty_axes_reduce_everything),
      cmocka_unit_test(test_reduce_sum_empty_axes_with_noop_is_identity),
      cmocka_unit_test(test_reduce_mean_attribute_axes_before_opset_18),
      cmocka_unit_test(test_reduce_mean_axes_input_from_opset_18),
      cmocka_unit_test(test_reduce_kinds_over_all_axes),
      cmocka_unit_test(test_reduce_log_sum_exp_is_stable_for_large_values),
      cmocka_unit_test(test_reduce_max_propagates_nan),
      cmocka_unit_test(test_reduce_over_empty_set_gives_identity_values),
      cmocka_unit_test(test_reduce_middle_axis_of_3d),
      cmocka_unit_test(test_reduce_first_axis_of_wide_tensor_in_blocks),
      cmocka_unit_test(test_reduce_sum_int64_is_exact),
      cmocka_unit_test(test_reduce_max_int64_over_empty_set_is_lowest),
      cmocka_unit_test(test_reduce_float16_computes_through_float),
      cmocka_unit_test(test_reduce_is_identical_for_any_thread_count),
      cmocka_unit_test(test_reduce_rejects_axis_out_of_range),
      cmocka_unit_test(test_reduce_rejects_repeated_axis),
      cmocka_unit_test(test_reduce_rejects_bool_input_as_unsupported),
      cmocka_unit_test(test_argmax_ties_take_first_or_last_index),
      cmocka_unit_test(test_argmin_along_first_axis_without_keepdims),
      cmocka_unit_test(test_cumsum_reverse_exclusive),
      cmocka_unit_test(test_cumsum_along_inner_axis_of_int32),
      cmocka_unit_test(test_topk_ties_keep_lower_index_first),
      cmocka_unit_test(test_topk_rejects_k_larger_than_axis),
      cmocka_unit_test(test_softmax_before_opset_13_coerces_to_2d),
      cmocka_unit_test(test_softmax_from_opset_13_is_along_axis),
      cmocka_unit_test(test_log_softmax_of_large_values),
      cmocka_unit_test(test_hardmax_marks_first_maximum),
      cmocka_unit_test(test_softmax_rejects_axis_out_of_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
