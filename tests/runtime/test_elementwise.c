/* The element-wise and cast families (runtime/ops/elementwise.c, cast.c,
 * broadcast.c).
 *
 * - Fast paths against the reference path: every broadcasting pattern the
 *   row walker special-cases (same shape, scalar, per-channel, trailing and
 *   interleaved broadcasts, rank 0, empty tensors), for arithmetic,
 *   comparisons, variadic ops, Where, PRelu, Clip and activations, on
 *   tensors large enough to be split between 3 threads, must give the same
 *   bytes as the serial element-by-element walk (sc_broadcast_force_
 *   reference).
 * - Semantics the ONNX backend cases do not cover, against hand
 *   calculations (or the numpy expression quoted beside them): legacy
 *   broadcast attributes, per-channel PRelu of opset 6, integer division,
 *   Mod and shift edge cases, NaN propagation, opset 18 operators, float16
 *   through float, Pow's mixed types, Cast rounding and saturation.
 * - ONNX Runtime's Gelu family (com.microsoft Gelu, BiasGelu, FastGelu,
 *   QuickGelu) against the float operators that compute it, bit for bit,
 *   and against values from its definition.
 * - Error paths: each asserts the status and that the message names the
 *   node (and the input where one is at fault). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/broadcast.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"
#include "tests/support/one_node.h"

/* Runs op once and returns its output (fails the test on an error). */
static struct sc_tensor *run_ok(const char *op, int64_t opset, int n_inputs,
                                struct sc_tensor *const *inputs)
{
  struct sc_test_node t;
  struct sc_tensor *out = NULL;
  struct sc_error err;
  sc_test_node_init(&t, op, opset, n_inputs, inputs, 0, 1);
  if (sc_test_node_run(&t, NULL, &out, &err) != SC_OK)
    fail_msg("%s: %s", op, err.message);
  sc_test_node_free_graph(&t);
  return out;
}

/* Runs op expecting failure with `status`; checks the message names the
 * node and contains `needle` (may be NULL). */
static void run_fails(struct sc_test_node *t, sc_status status,
                      const char *needle)
{
  struct sc_tensor *out = NULL;
  struct sc_error err;
  sc_error_clear(&err);
  assert_int_equal(sc_test_node_run(t, NULL, &out, &err), status);
  assert_null(out);
  if (!strstr(err.message, SC_TEST_NODE_NAME))
    fail_msg("message does not name the node: %s", err.message);
  if (needle && !strstr(err.message, needle))
    fail_msg("message lacks '%s': %s", needle, err.message);
  sc_test_node_free_graph(t);
}

static struct sc_tensor *vec(enum sc_dtype dtype, int64_t n,
                             const double *values)
{
  return sc_test_tensor(dtype, 1, &n, values);
}

static void free_all(int n, struct sc_tensor **tensors)
{
  int i;
  for (i = 0; i < n; i++)
    sc_tensor_free(tensors[i]);
}

/* Expects `out` to hold exactly the given values (as doubles). */
static void assert_values(struct sc_tensor *out, enum sc_dtype dtype, int64_t n,
                          const double *values)
{
  struct sc_tensor *expected = sc_test_tensor(dtype, 1, &n, values);
  assert_int_equal(out->n_elements, n);
  out->rank = 1; /* compare values, shapes are checked by the callers */
  out->dims[0] = n;
  assert_tensor_close(out, expected, 0, 0);
  sc_tensor_free(expected);
  sc_tensor_free(out);
}

/* --- fast paths against the reference path -------------------------------- */

static uint32_t next_random(uint32_t *seed)
{
  *seed = *seed * 1664525u + 1013904223u;
  return *seed >> 8;
}

/* Values in [-4, 4) in steps of 1/64 (and some exact zeros), integers in
 * [-20, 20) (unsigned: [0, 40)), bools. */
static struct sc_tensor *random_tensor(enum sc_dtype dtype, int rank,
                                       const int64_t *dims, uint32_t *seed)
{
  struct sc_tensor *t = NULL;
  int64_t i;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &t, NULL), SC_OK);
  for (i = 0; i < t->n_elements; i++) {
    uint32_t r = next_random(seed);
    double v;
    if (dtype == SC_DTYPE_BOOL)
      v = r & 1;
    else if (sc_dtype_is_float(dtype))
      v = r % 17 == 0 ? 0.0 : ((double)(r % 512) - 256.0) / 64.0;
    else if (sc_dtype_is_signed(dtype))
      v = (double)(r % 40) - 20.0;
    else
      v = r % 40;
    sc_dtype_store(dtype, t->data, i, v);
  }
  return t;
}

struct path_case {
  const char *op;
  int64_t opset;
  int n_inputs;
  enum sc_dtype dtypes[3];
  int ranks[3];
  int64_t dims[3][5];
};

/* Runs a case on the fast path with 3 threads and on the reference path,
 * and requires identical bytes. */
static void check_paths_agree(const struct path_case *c,
                              struct sc_threadpool *threads, uint32_t seed)
{
  struct sc_tensor *inputs[3], *fast = NULL, *reference = NULL;
  struct sc_test_node t;
  struct sc_error err;
  int i;

  for (i = 0; i < c->n_inputs; i++)
    inputs[i] = random_tensor(c->dtypes[i], c->ranks[i], c->dims[i], &seed);
  if (strcmp(c->op, "Clip") == 0 && c->n_inputs == 3) { /* min < max */
    sc_dtype_store(c->dtypes[1], inputs[1]->data, 0, -1.5);
    sc_dtype_store(c->dtypes[2], inputs[2]->data, 0, 2.25);
  }

  sc_test_node_init(&t, c->op, c->opset, c->n_inputs, inputs, 0, 1);
  if (strcmp(c->op, "LeakyRelu") == 0)
    sc_node_set_attr_float(t.node, "alpha", 0.125f, NULL);
  if (sc_test_node_run(&t, threads, &fast, &err) != SC_OK)
    fail_msg("%s: %s", c->op, err.message);
  sc_test_node_free_graph(&t);

  sc_broadcast_force_reference(1);
  sc_test_node_init(&t, c->op, c->opset, c->n_inputs, inputs, 0, 1);
  if (strcmp(c->op, "LeakyRelu") == 0)
    sc_node_set_attr_float(t.node, "alpha", 0.125f, NULL);
  if (sc_test_node_run(&t, NULL, &reference, &err) != SC_OK)
    fail_msg("%s: %s", c->op, err.message);
  sc_broadcast_force_reference(0);
  sc_test_node_free_graph(&t);

  assert_int_equal(fast->dtype, reference->dtype);
  assert_true(sc_tensor_same_shape(fast, reference));
  if (fast->n_elements &&
      memcmp(fast->data, reference->data, sc_tensor_size(fast)) != 0) {
    int64_t k;
    size_t size = sc_dtype_size(fast->dtype);
    for (k = 0; k < fast->n_elements; k++)
      if (memcmp((char *)fast->data + k * size,
                 (char *)reference->data + k * size, size) != 0)
        break;
    fail_msg("%s (%s): fast path differs from the reference at element "
             "%lld: %.9g vs %.9g",
             c->op, sc_dtype_name(c->dtypes[0]), (long long)k,
             sc_dtype_load(fast->dtype, fast->data, k),
             sc_dtype_load(reference->dtype, reference->data, k));
  }
  sc_tensor_free(fast);
  sc_tensor_free(reference);
  free_all(c->n_inputs, inputs);
}

/* Broadcast patterns (A, B): each becomes a different row layout. */
static const struct {
  int ranks[2];
  int64_t dims[2][5];
} patterns[] = {
    {{4, 4}, {{2, 16, 64, 67}, {2, 16, 64, 67}}}, /* same shape, one row */
    {{4, 0}, {{2, 16, 64, 67}, {0}}},             /* scalar */
    {{0, 4}, {{0}, {2, 16, 64, 67}}},             /* scalar on the left */
    {{4, 3}, {{2, 16, 64, 67}, {16, 1, 1}}},      /* per channel */
    {{4, 4}, {{2, 16, 64, 67}, {1, 16, 1, 1}}},   /* per channel */
    {{4, 1}, {{2, 16, 64, 67}, {67}}},            /* trailing vector */
    {{4, 4}, {{2, 16, 64, 1}, {2, 16, 64, 67}}},  /* per row on the left */
    {{4, 4}, {{2, 1, 64, 67}, {1, 16, 1, 67}}},   /* interleaved */
    {{5, 4}, {{3, 1, 5, 1, 7}, {4, 5, 1, 1}}},    /* both broadcast */
    {{2, 2}, {{1, 1}, {1, 1}}},                   /* one element */
    {{0, 0}, {{0}, {0}}},                         /* rank 0 */
    {{3, 1}, {{4, 0, 3}, {3}}},                   /* empty */
};

static void test_binary_fast_paths_match_reference(void **state)
{
  static const struct {
    const char *op;
    int64_t opset;
    enum sc_dtype dtype;
  } ops[] = {
      {"Add", 14, SC_DTYPE_FLOAT},
      {"Sub", 14, SC_DTYPE_FLOAT},
      {"Mul", 14, SC_DTYPE_FLOAT},
      {"Div", 14, SC_DTYPE_FLOAT},
      {"Add", 14, SC_DTYPE_DOUBLE},
      {"Mul", 14, SC_DTYPE_INT32},
      {"Div", 14, SC_DTYPE_INT64},
      {"Sub", 14, SC_DTYPE_UINT8},
      {"Pow", 15, SC_DTYPE_FLOAT},
      {"Mod", 13, SC_DTYPE_INT16},
      {"Equal", 13, SC_DTYPE_FLOAT},
      {"Less", 13, SC_DTYPE_INT32},
      {"GreaterOrEqual", 16, SC_DTYPE_FLOAT},
      {"Max", 13, SC_DTYPE_FLOAT},
      {"Min", 13, SC_DTYPE_INT8},
      {"Sum", 13, SC_DTYPE_FLOAT},
      {"Mean", 13, SC_DTYPE_DOUBLE},
      {"And", 7, SC_DTYPE_BOOL},
  };
  struct sc_threadpool *threads;
  size_t o, p;
  (void)state;
  assert_int_equal(sc_threadpool_create(3, &threads, NULL), SC_OK);
  for (o = 0; o < sizeof ops / sizeof ops[0]; o++)
    for (p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
      struct path_case c;
      memset(&c, 0, sizeof c);
      c.op = ops[o].op;
      c.opset = ops[o].opset;
      c.n_inputs = 2;
      c.dtypes[0] = c.dtypes[1] = ops[o].dtype;
      c.ranks[0] = patterns[p].ranks[0];
      c.ranks[1] = patterns[p].ranks[1];
      memcpy(c.dims, patterns[p].dims, sizeof patterns[p].dims);
      check_paths_agree(&c, threads, (uint32_t)(o * 131 + p));
    }
  sc_threadpool_free(threads);
}

static void test_other_fast_paths_match_reference(void **state)
{
  static const struct path_case cases[] = {
      /* unidirectional: the slope broadcasts to X */
      {"PRelu",
       16,
       2,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 3},
       {{2, 16, 64, 67}, {16, 1, 1}}},
      {"PRelu",
       16,
       2,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 4},
       {{2, 16, 64, 67}, {2, 16, 64, 67}}},
      /* three-way broadcasts */
      {"Where",
       16,
       3,
       {SC_DTYPE_BOOL, SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 4, 0},
       {{2, 16, 64, 67}, {1, 16, 1, 67}, {0}}},
      {"Where",
       16,
       3,
       {SC_DTYPE_BOOL, SC_DTYPE_INT64, SC_DTYPE_INT64},
       {4, 4, 4},
       {{2, 16, 64, 67}, {2, 16, 64, 67}, {2, 16, 64, 67}}},
      {"Where",
       16,
       3,
       {SC_DTYPE_BOOL, SC_DTYPE_UINT8, SC_DTYPE_UINT8},
       {2, 3, 1},
       {{1, 67}, {3, 64, 1}, {67}}},
      {"Max",
       13,
       3,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 1, 3},
       {{2, 1, 64, 67}, {67}, {16, 1, 1}}},
      {"Sum",
       13,
       3,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 4, 0},
       {{2, 16, 64, 67}, {2, 16, 64, 67}, {0}}},
      {"Mean",
       13,
       3,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {1, 2, 4},
       {{67}, {64, 1}, {2, 16, 1, 1}}},
      /* unary: contiguous, threads only */
      {"Relu", 14, 1, {SC_DTYPE_FLOAT}, {4}, {{2, 16, 64, 67}}},
      {"Relu", 14, 1, {SC_DTYPE_INT8}, {4}, {{2, 16, 64, 67}}},
      {"LeakyRelu", 16, 1, {SC_DTYPE_FLOAT}, {4}, {{2, 16, 64, 67}}},
      {"HardSwish", 14, 1, {SC_DTYPE_FLOAT}, {4}, {{2, 16, 64, 67}}},
      {"Sigmoid", 13, 1, {SC_DTYPE_FLOAT}, {4}, {{2, 16, 64, 67}}},
      {"Abs", 13, 1, {SC_DTYPE_INT32}, {4}, {{2, 16, 64, 67}}},
      {"Clip",
       13,
       3,
       {SC_DTYPE_FLOAT, SC_DTYPE_FLOAT, SC_DTYPE_FLOAT},
       {4, 0, 0},
       {{2, 16, 64, 67}, {0}, {0}}},
  };
  struct sc_threadpool *threads;
  size_t i;
  (void)state;
  assert_int_equal(sc_threadpool_create(3, &threads, NULL), SC_OK);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_paths_agree(&cases[i], threads, (uint32_t)i);
  sc_threadpool_free(threads);
}

/* The plan merges dims so that a per-channel operation is rows of H*W with
 * the channel's value fixed, and a same-shape one is a single row. */
static void test_broadcast_plan_merges_dims(void **state)
{
  struct sc_tensor *a = NULL, *b = NULL;
  const struct sc_tensor *ins[2];
  struct sc_broadcast_plan plan;
  int64_t da[4] = {2, 3, 4, 5}, db[3] = {3, 1, 1};
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 4, da, &a, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 3, db, &b, NULL), SC_OK);
  ins[0] = a;
  ins[1] = b;
  sc_broadcast_plan_init(&plan, 4, da, 2, ins, 1);
  assert_int_equal(plan.rank, 3);
  assert_int_equal(plan.dims[0], 2);
  assert_int_equal(plan.dims[1], 3);
  assert_int_equal(plan.dims[2], 20);
  assert_int_equal(plan.strides[0][2], 1);
  assert_int_equal(plan.strides[1][2], 0);
  assert_int_equal(plan.strides[1][1], 1);
  assert_int_equal(plan.strides[1][0], 0);

  ins[1] = a;
  sc_broadcast_plan_init(&plan, 4, da, 2, ins, 1);
  assert_int_equal(plan.rank, 1);
  assert_int_equal(plan.dims[0], 120);

  sc_broadcast_plan_init(&plan, 4, da, 2, ins, 0); /* reference: unmerged */
  assert_int_equal(plan.rank, 4);
  sc_tensor_free(a);
  sc_tensor_free(b);
}

/* --- semantics ------------------------------------------------------------ */

/* Opset 6 Add with broadcast=1: B's dims are placed at `axis` of A (size-1
 * dims broadcast, as PyTorch's exporter relies on); suffix without axis. */
static void test_legacy_broadcast_places_b_at_axis(void **state)
{
  static const double av[6] = {1, 2, 3, 4, 5, 6}, bv[2] = {10, 20};
  /* A [2,3] + B [2] at axis 0: rows get 10 and 20 */
  static const double expected[6] = {11, 12, 13, 24, 25, 26};
  static const double b3[3] = {100, 200, 300};
  static const double expected_suffix[6] = {101, 202, 303, 104, 205, 306};
  int64_t da[2] = {2, 3};
  struct sc_tensor *in[2], *out;
  struct sc_test_node t;
  (void)state;

  in[0] = sc_test_tensor(SC_DTYPE_FLOAT, 2, da, av);
  in[1] = vec(SC_DTYPE_FLOAT, 2, bv);
  sc_test_node_init(&t, "Add", 6, 2, in, 0, 1);
  sc_node_set_attr_int(t.node, "broadcast", 1, NULL);
  sc_node_set_attr_int(t.node, "axis", 0, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_int_equal(out->rank, 2);
  assert_values(out, SC_DTYPE_FLOAT, 6, expected);
  sc_test_node_free_graph(&t);
  sc_tensor_free(in[1]);

  in[1] = vec(SC_DTYPE_FLOAT, 3, b3);
  sc_test_node_init(&t, "Add", 6, 2, in, 0, 1);
  sc_node_set_attr_int(t.node, "broadcast", 1, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_FLOAT, 6, expected_suffix);
  sc_test_node_free_graph(&t);
  free_all(2, in);
}

static void test_legacy_broadcast_errors_name_the_node(void **state)
{
  static const double v[6] = {0};
  int64_t da[2] = {2, 3};
  struct sc_tensor *in[2];
  struct sc_test_node t;
  (void)state;

  in[0] = sc_test_tensor(SC_DTYPE_FLOAT, 2, da, v);
  in[1] = vec(SC_DTYPE_FLOAT, 3, v);
  sc_test_node_init(&t, "Mul", 6, 2, in, 0,
                    1); /* broadcast=0: shapes must match */
  run_fails(&t, SC_ERR_FORMAT, "broadcast=0");

  sc_test_node_init(&t, "Mul", 6, 2, in, 0, 1); /* axis 0: 3 does not fit 2 */
  sc_node_set_attr_int(t.node, "broadcast", 1, NULL);
  sc_node_set_attr_int(t.node, "axis", 0, NULL);
  run_fails(&t, SC_ERR_FORMAT, "does not broadcast");

  sc_test_node_init(&t, "Sub", 6, 2, in, 0, 1);
  sc_node_set_attr_int(t.node, "broadcast", 1, NULL);
  sc_node_set_attr_int(t.node, "axis", 2, NULL);
  run_fails(&t, SC_ERR_FORMAT, "axis");
  free_all(2, in);
}

/* Opset 6 PRelu takes one slope per channel (dim 1), as PyTorch exports
 * it: X [1,2,2] with slope [2] scales channel 0 by 0.5, channel 1 by 2. */
static void test_prelu_opset6_slope_per_channel(void **state)
{
  static const double xv[4] = {-4, 4, -4, 4}, sv[2] = {0.5, 2};
  static const double expected[4] = {-2, 4, -8, 4};
  int64_t dx[3] = {1, 2, 2};
  struct sc_tensor *in[2];
  (void)state;
  in[0] = sc_test_tensor(SC_DTYPE_FLOAT, 3, dx, xv);
  in[1] = vec(SC_DTYPE_FLOAT, 2, sv);
  assert_values(run_ok("PRelu", 6, 2, in), SC_DTYPE_FLOAT, 4, expected);
  free_all(2, in);
}

/* Non-finite slopes take the exact row: x >= 0 stays x. */
static void test_prelu_nonfinite_slope_keeps_positive_inputs(void **state)
{
  static const double xv[4] = {3, -1, 0, -2};
  double sv[4], expected[4];
  struct sc_tensor *in[2];
  (void)state;
  sv[0] = INFINITY, sv[1] = INFINITY, sv[2] = NAN, sv[3] = 2;
  expected[0] = 3, expected[1] = -INFINITY, expected[2] = 0, expected[3] = -4;
  in[0] = vec(SC_DTYPE_FLOAT, 4, xv);
  in[1] = vec(SC_DTYPE_FLOAT, 4, sv);
  assert_values(run_ok("PRelu", 16, 2, in), SC_DTYPE_FLOAT, 4, expected);
  free_all(2, in);
}

static void test_prelu_slope_must_broadcast_to_x(void **state)
{
  static const double v[6] = {0};
  int64_t ds[2] = {2, 1};
  struct sc_tensor *in[2];
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 3, v);
  in[1] = sc_test_tensor(SC_DTYPE_FLOAT, 2, ds, v); /* would grow X */
  sc_test_node_init(&t, "PRelu", 16, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "does not broadcast");
  free_all(2, in);
}

/* Integer Div truncates toward zero, x / 0 gives 0 and INT32_MIN / -1
 * wraps to INT32_MIN. */
static void test_integer_div_truncates_and_defines_edges(void **state)
{
  static const double av[6] = {-7, 7, -7, 7, 5, -2147483648.0};
  static const double bv[6] = {2, 2, -2, -2, 0, -1};
  static const double expected[6] = {-3, 3, 3, -3, 0, -2147483648.0};
  struct sc_tensor *in[2];
  (void)state;
  in[0] = vec(SC_DTYPE_INT32, 6, av);
  in[1] = vec(SC_DTYPE_INT32, 6, bv);
  assert_values(run_ok("Div", 14, 2, in), SC_DTYPE_INT32, 6, expected);
  free_all(2, in);
}

/* int8 arithmetic wraps: 127 + 1 = -128, -128 + -1 = 127,
 * -128 * -1 = -128. */
static void test_integer_arithmetic_wraps(void **state)
{
  static const double av[2] = {127, -128}, bv[2] = {1, -1};
  static const double sum[2] = {-128, 127}, product[2] = {127, -128};
  struct sc_tensor *in[2];
  (void)state;
  in[0] = vec(SC_DTYPE_INT8, 2, av);
  in[1] = vec(SC_DTYPE_INT8, 2, bv);
  assert_values(run_ok("Add", 14, 2, in), SC_DTYPE_INT8, 2, sum);
  assert_values(run_ok("Mul", 14, 2, in), SC_DTYPE_INT8, 2, product);
  free_all(2, in);
}

/* numpy: np.mod([-7,7,-7,7,5], [3,3,-3,-3,0]) -> [2,1,-1,-2,0] (x % 0
 * defined as 0 here); np.fmod -> [-1,1,-1,1,0]. */
static void test_mod_sign_rules(void **state)
{
  static const double av[5] = {-7, 7, -7, 7, 5}, bv[5] = {3, 3, -3, -3, 0};
  static const double python[5] = {2, 1, -1, -2, 0};
  static const double c_rule[5] = {-1, 1, -1, 1, 0};
  struct sc_tensor *in[2], *out;
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_INT64, 5, av);
  in[1] = vec(SC_DTYPE_INT64, 5, bv);
  assert_values(run_ok("Mod", 13, 2, in), SC_DTYPE_INT64, 5, python);
  sc_test_node_init(&t, "Mod", 13, 2, in, 0, 1);
  sc_node_set_attr_int(t.node, "fmod", 1, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_INT64, 5, c_rule);
  sc_test_node_free_graph(&t);
  free_all(2, in);
}

static void test_mod_float_requires_fmod(void **state)
{
  static const double v[2] = {1, 2};
  struct sc_tensor *in[2];
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 2, v);
  in[1] = vec(SC_DTYPE_FLOAT, 2, v);
  sc_test_node_init(&t, "Mod", 13, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "fmod");
  free_all(2, in);
}

/* Shifts by the bit width or more give 0. */
static void test_bitshift_edges_and_direction(void **state)
{
  static const double av[3] = {1, 255, 128}, bv[3] = {7, 8, 200};
  static const double left[3] = {128, 0, 0}, right[3] = {0, 0, 0};
  static const double av2[2] = {0x80000000u, 6}, bv2[2] = {31, 1};
  static const double right2[2] = {1, 3};
  struct sc_tensor *in[2], *out;
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_UINT8, 3, av);
  in[1] = vec(SC_DTYPE_UINT8, 3, bv);
  sc_test_node_init(&t, "BitShift", 11, 2, in, 0, 1);
  sc_node_set_attr_string(t.node, "direction", "LEFT", 4, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_UINT8, 3, left);
  sc_test_node_free_graph(&t);
  sc_test_node_init(&t, "BitShift", 11, 2, in, 0, 1);
  sc_node_set_attr_string(t.node, "direction", "RIGHT", 5, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_UINT8, 3, right);
  sc_test_node_free_graph(&t);
  sc_test_node_init(&t, "BitShift", 11, 2, in, 0, 1);
  sc_node_set_attr_string(t.node, "direction", "UP", 2, NULL);
  run_fails(&t, SC_ERR_FORMAT, "direction");
  sc_test_node_init(&t, "BitShift", 11, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "direction");
  free_all(2, in);

  in[0] = vec(SC_DTYPE_UINT32, 2, av2);
  in[1] = vec(SC_DTYPE_UINT32, 2, bv2);
  sc_test_node_init(&t, "BitShift", 11, 2, in, 0, 1);
  sc_node_set_attr_string(t.node, "direction", "RIGHT", 5, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_UINT32, 2, right2);
  sc_test_node_free_graph(&t);
  free_all(2, in);
}

/* Opset 18: BitwiseAnd/Or/Xor/Not on int8: 0b0110 op 0b0011, -1. */
static void test_bitwise_ops_opset18(void **state)
{
  static const double av[2] = {6, -1}, bv[2] = {3, 5};
  static const double and_v[2] = {2, 5}, or_v[2] = {7, -1}, xor_v[2] = {5, -6};
  static const double not_v[2] = {-7, 0};
  struct sc_tensor *in[2];
  (void)state;
  in[0] = vec(SC_DTYPE_INT8, 2, av);
  in[1] = vec(SC_DTYPE_INT8, 2, bv);
  assert_values(run_ok("BitwiseAnd", 18, 2, in), SC_DTYPE_INT8, 2, and_v);
  assert_values(run_ok("BitwiseOr", 18, 2, in), SC_DTYPE_INT8, 2, or_v);
  assert_values(run_ok("BitwiseXor", 18, 2, in), SC_DTYPE_INT8, 2, xor_v);
  assert_values(run_ok("BitwiseNot", 18, 1, in), SC_DTYPE_INT8, 2, not_v);
  free_all(2, in);
}

/* Mish(x) = x * tanh(softplus(x)); numpy:
 * x * np.tanh(np.log1p(np.exp(x))) for x = [-2, -0.5, 0, 1, 3]. */
static void test_mish_opset18(void **state)
{
  static const double xv[5] = {-2, -0.5, 0, 1, 3};
  static const double expected[5] = {-0.25250148, -0.22074377, 0, 0.86509839,
                                     2.986535};
  struct sc_tensor *in[1], *out, *want;
  int64_t n = 5;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 5, xv);
  out = run_ok("Mish", 18, 1, in);
  want = sc_test_tensor(SC_DTYPE_FLOAT, 1, &n, expected);
  assert_tensor_close(out, want, 1e-6, 1e-6);
  free_all(1, in);
  sc_tensor_free(out);
  sc_tensor_free(want);
}

/* HardSwish = x * max(0, min(1, x/6 + 1/2)); numpy gives
 * [-1/3, -0.20833333, 0, 2/3, 3] for [-2, -0.5, 0, 1, 3], 0 for x <= -3. */
static void test_hardswish_values(void **state)
{
  static const double xv[6] = {-2, -0.5, 0, 1, 3, -4};
  static const double expected[6] = {-1.0 / 3, -0.208333333, 0, 2.0 / 3, 3, 0};
  struct sc_tensor *in[1], *out, *want;
  int64_t n = 6;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 6, xv);
  out = run_ok("HardSwish", 14, 1, in);
  want = sc_test_tensor(SC_DTYPE_FLOAT, 1, &n, expected);
  assert_tensor_close(out, want, 1e-7, 1e-6);
  free_all(1, in);
  sc_tensor_free(out);
  sc_tensor_free(want);
}

/* Max/Min/Relu/Clip propagate NaN like numpy's maximum/clip. */
static void test_nan_propagates(void **state)
{
  double av[3], bv[3], expected[3];
  struct sc_tensor *in[3];
  (void)state;
  av[0] = NAN, av[1] = 1, av[2] = -1;
  bv[0] = 0, bv[1] = NAN, bv[2] = -2;
  expected[0] = NAN, expected[1] = NAN, expected[2] = -1;
  in[0] = vec(SC_DTYPE_FLOAT, 3, av);
  in[1] = vec(SC_DTYPE_FLOAT, 3, bv);
  assert_values(run_ok("Max", 13, 2, in), SC_DTYPE_FLOAT, 3, expected);
  expected[2] = -2;
  assert_values(run_ok("Min", 13, 2, in), SC_DTYPE_FLOAT, 3, expected);
  expected[0] = NAN, expected[1] = 1, expected[2] = 0;
  assert_values(run_ok("Relu", 14, 1, in), SC_DTYPE_FLOAT, 3, expected);
  sc_tensor_free(in[1]);
  bv[0] = 0;
  in[1] = vec(SC_DTYPE_FLOAT, 1, bv);
  in[2] = NULL;
  expected[0] = NAN, expected[1] = 1, expected[2] = 0;
  assert_values(run_ok("Clip", 13, 2, in), SC_DTYPE_FLOAT, 3, expected);
  free_all(2, in);
}

/* Clip: min > max gives max everywhere (numpy.clip); int8 bounds; the
 * opset 6 attribute form; a non-scalar bound is an error. */
static void test_clip_bounds(void **state)
{
  static const double xv[4] = {-5, 0, 3, 9}, lo[1] = {4}, hi[1] = {2};
  static const double all_max[4] = {2, 2, 2, 2};
  static const double int_clip[4] = {-5, 0, 2, 2};
  static const double attr_clip[4] = {-1, 0, 3, 3.5};
  struct sc_tensor *in[3], *out;
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 4, xv);
  in[1] = vec(SC_DTYPE_FLOAT, 1, lo);
  in[2] = vec(SC_DTYPE_FLOAT, 1, hi);
  assert_values(run_ok("Clip", 13, 3, in), SC_DTYPE_FLOAT, 4, all_max);
  free_all(3, in);

  in[0] = vec(SC_DTYPE_INT8, 4, xv);
  in[1] = NULL;
  in[2] = vec(SC_DTYPE_INT8, 1, hi);
  assert_values(run_ok("Clip", 13, 3, in), SC_DTYPE_INT8, 4, int_clip);
  free_all(3, in);

  in[0] = vec(SC_DTYPE_FLOAT, 4, xv);
  sc_test_node_init(&t, "Clip", 6, 1, in, 0, 1);
  sc_node_set_attr_float(t.node, "min", -1.0f, NULL);
  sc_node_set_attr_float(t.node, "max", 3.5f, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_FLOAT, 4, attr_clip);
  sc_test_node_free_graph(&t);

  in[1] = vec(SC_DTYPE_FLOAT, 4, xv);
  sc_test_node_init(&t, "Clip", 13, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "must be a scalar");
  free_all(2, in);
}

/* IsInf's detect_negative / detect_positive. */
static void test_isinf_detect_flags(void **state)
{
  double xv[4];
  static const double both[4] = {1, 1, 0, 0}, positive[4] = {1, 0, 0, 0};
  struct sc_tensor *in[1], *out;
  struct sc_test_node t;
  (void)state;
  xv[0] = INFINITY, xv[1] = -INFINITY, xv[2] = NAN, xv[3] = 1e30;
  in[0] = vec(SC_DTYPE_DOUBLE, 4, xv);
  assert_values(run_ok("IsInf", 10, 1, in), SC_DTYPE_BOOL, 4, both);
  sc_test_node_init(&t, "IsInf", 10, 1, in, 0, 1);
  sc_node_set_attr_int(t.node, "detect_negative", 0, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_BOOL, 4, positive);
  sc_test_node_free_graph(&t);
  free_all(1, in);
}

/* Variadic ops broadcast all inputs (opset 8+); Mean divides the sum. Before
 * opset 8 the shapes must be equal. */
static void test_variadic_broadcast_and_legacy_shapes(void **state)
{
  static const double av[2] = {1, 2}, bv[1] = {10},
                      cv[4] = {100, 200, 300, 400};
  static const double sum[4] = {111, 212, 311, 412};
  static const double mean[4] = {37, 212.0 / 3, 311.0 / 3, 412.0 / 3};
  int64_t dc[2] = {2, 2};
  struct sc_tensor *in[3], *out, *want;
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_DOUBLE, 2, av);
  in[1] = vec(SC_DTYPE_DOUBLE, 1, bv);
  in[2] = sc_test_tensor(SC_DTYPE_DOUBLE, 2, dc, cv);
  out = run_ok("Sum", 13, 3, in);
  assert_int_equal(out->rank, 2);
  assert_values(out, SC_DTYPE_DOUBLE, 4, sum);
  out = run_ok("Mean", 13, 3, in);
  want = sc_test_tensor(SC_DTYPE_DOUBLE, 2, dc, mean);
  assert_tensor_close(out, want, 0, 1e-15);
  sc_tensor_free(out);
  sc_tensor_free(want);
  sc_test_node_init(&t, "Max", 6, 3, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "opset 8");
  free_all(3, in);
}

/* Where broadcasts the condition and moves float16 bytes unchanged. */
static void test_where_broadcasts_condition(void **state)
{
  static const double cv[2] = {1, 0}, xv[4] = {1, 2, 3, 4},
                      yv[4] = {-1, -2, -3, -4};
  static const double expected[4] = {1, -2, 3, -4};
  int64_t d[2] = {2, 2};
  struct sc_tensor *in[3];
  (void)state;
  in[0] = vec(SC_DTYPE_BOOL, 2, cv);
  in[1] = sc_test_tensor(SC_DTYPE_FLOAT16, 2, d, xv);
  in[2] = sc_test_tensor(SC_DTYPE_FLOAT16, 2, d, yv);
  assert_values(run_ok("Where", 16, 3, in), SC_DTYPE_FLOAT16, 4, expected);
  free_all(3, in);
}

/* float16 inputs are added in float and rounded once: numpy
 * np.float16(0.1) + np.float16(0.2) == 0x34cc (0.2998). */
static void test_float16_add_rounds_through_float(void **state)
{
  static const double av[1] = {0.1}, bv[1] = {0.2};
  struct sc_tensor *in[2], *out;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT16, 1, av);
  in[1] = vec(SC_DTYPE_FLOAT16, 1, bv);
  out = run_ok("Add", 14, 2, in);
  assert_int_equal(out->dtype, SC_DTYPE_FLOAT16);
  assert_int_equal(((uint16_t *)out->data)[0], 0x34cc);
  sc_tensor_free(out);
  free_all(2, in);
}

static struct sc_tensor *cast(struct sc_tensor *in, enum sc_dtype to);

/* A float16 tensor of the given shape holding `bits`. */
static struct sc_tensor *half_tensor(int rank, const int64_t *dims,
                                     const uint16_t *bits)
{
  struct sc_tensor *t;
  struct sc_error err;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT16, rank, dims, &t, &err),
                   SC_OK);
  memcpy(t->data, bits, (size_t)t->n_elements * sizeof *bits);
  return t;
}

/* Expects two float16 tensors to hold the same bits, NaN matching any
 * NaN. */
static void assert_same_halves(const char *what, const struct sc_tensor *got,
                               const struct sc_tensor *want)
{
  const uint16_t *g = got->data, *w = want->data;
  int64_t i;
  assert_int_equal(got->dtype, SC_DTYPE_FLOAT16);
  assert_int_equal(got->n_elements, want->n_elements);
  for (i = 0; i < got->n_elements; i++) {
    int g_nan = (g[i] & 0x7fff) > 0x7c00, w_nan = (w[i] & 0x7fff) > 0x7c00;
    if (g_nan != w_nan || (!g_nan && g[i] != w[i]))
      fail_msg("%s: element %lld is 0x%04x, float then rounded gives 0x%04x",
               what, (long long)i, g[i], w[i]);
  }
}

/* Float16 operands the float16 rows take themselves (SC_OP_F16_ROWS) give,
 * element for element, the float operator on the widened operands rounded
 * to float16: Cast to float, the operator, Cast back. Every float16 bit
 * pattern for the unary operators; random pairs, a per-channel and a
 * scalar operand for the binary ones, on the fast and the reference path. */
static void test_float16_rows_match_float_rounded(void **state)
{
  static const char *const unary[] = {"Relu",     "Sigmoid",  "Tanh", "Exp",
                                      "Abs",      "Neg",      "Sqrt", "Round",
                                      "Softplus", "HardSwish"};
  static const char *const binary[] = {"Add", "Sub", "Mul", "Div"};
  static const int64_t full[4] = {2, 3, 5, 7}, channel[4] = {1, 3, 1, 1},
                       one[1] = {1};
  int64_t all = 65536, i;
  uint16_t *bits = malloc((size_t)all * sizeof *bits);
  uint32_t seed = 7;
  struct sc_tensor *x, *in[2], *wide[2], *got, *want, *f;
  size_t k;
  int shape, reference;
  (void)state;

  assert_non_null(bits);
  for (i = 0; i < all; i++)
    bits[i] = (uint16_t)i;
  x = half_tensor(1, &all, bits);
  for (k = 0; k < sizeof unary / sizeof unary[0]; k++) {
    got = run_ok(unary[k], 14, 1, &x);
    wide[0] = cast(x, SC_DTYPE_FLOAT);
    f = run_ok(unary[k], 14, 1, wide);
    want = cast(f, SC_DTYPE_FLOAT16);
    assert_same_halves(unary[k], got, want);
    sc_tensor_free(got);
    sc_tensor_free(want);
    sc_tensor_free(f);
    sc_tensor_free(wide[0]);
  }
  /* Relu by hand: negative numbers become +0, -0 and NaN stay */
  got = run_ok("Relu", 14, 1, &x);
  for (i = 0; i < all; i++) {
    uint16_t h = (uint16_t)i, r = ((uint16_t *)got->data)[i];
    int nan = (h & 0x7fff) > 0x7c00;
    uint16_t expect = !nan && (h & 0x8000) && h != 0x8000 ? 0 : h;
    if (nan ? (r & 0x7fff) <= 0x7c00 : r != expect)
      fail_msg("Relu(0x%04x) is 0x%04x", h, r);
  }
  sc_tensor_free(got);
  sc_tensor_free(x);

  for (reference = 0; reference < 2; reference++)
    for (shape = 0; shape < 3; shape++)
      for (k = 0; k < sizeof binary / sizeof binary[0]; k++) {
        const int64_t *b_dims = shape == 0 ? full : shape == 1 ? channel : one;
        int b_rank = shape == 2 ? 1 : 4;
        uint16_t a_bits[210], b_bits[210];
        char what[64];
        for (i = 0; i < 210; i++) {
          a_bits[i] = (uint16_t)(next_random(&seed) >> 16);
          b_bits[i] = (uint16_t)(next_random(&seed) >> 16);
        }
        in[0] = half_tensor(4, full, a_bits);
        in[1] = half_tensor(b_rank, b_dims, b_bits);
        sc_broadcast_force_reference(reference);
        got = run_ok(binary[k], 14, 2, in);
        wide[0] = cast(in[0], SC_DTYPE_FLOAT);
        wide[1] = cast(in[1], SC_DTYPE_FLOAT);
        f = run_ok(binary[k], 14, 2, wide);
        sc_broadcast_force_reference(0);
        want = cast(f, SC_DTYPE_FLOAT16);
        snprintf(what, sizeof what, "%s, operand shape %d%s", binary[k], shape,
                 reference ? ", reference path" : "");
        assert_same_halves(what, got, want);
        sc_tensor_free(got);
        sc_tensor_free(want);
        sc_tensor_free(f);
        free_all(2, wide);
        free_all(2, in);
      }
  free(bits);
}

/* Pow: exact integer powers (3^39 needs all 62 bits), integer bases with
 * negative exponents truncate (2^-1 -> 0, (-1)^-3 -> -1), a float16 base
 * keeps its type, a float base with an int64 exponent stays float. */
static void test_pow_mixed_types(void **state)
{
  static const double base[3] = {3, 2, -1}, e[3] = {39, -1, -3};
  static const double ints[3] = {4052555153018976267.0, 0, -1};
  static const double hb[2] = {1.5, 2}, he[2] = {2, 0.5};
  static const double halves[2] = {2.25, 1.4140625}; /* sqrt 2 in float16 */
  struct sc_tensor *in[2], *out;
  (void)state;
  in[0] = vec(SC_DTYPE_INT64, 3, base);
  in[1] = vec(SC_DTYPE_INT64, 3, e);
  out = run_ok("Pow", 15, 2, in);
  assert_int_equal(((int64_t *)out->data)[0], 4052555153018976267LL);
  assert_values(out, SC_DTYPE_INT64, 3, ints);
  free_all(2, in);

  in[0] = vec(SC_DTYPE_FLOAT16, 2, hb);
  in[1] = vec(SC_DTYPE_FLOAT16, 2, he);
  assert_values(run_ok("Pow", 15, 2, in), SC_DTYPE_FLOAT16, 2, halves);
  sc_tensor_free(in[1]);
  in[1] = vec(SC_DTYPE_INT64, 2, he); /* exponents 2, 0 */
  sc_tensor_free(in[0]);
  in[0] = vec(SC_DTYPE_FLOAT, 2, hb);
  out = run_ok("Pow", 15, 2, in);
  assert_int_equal(out->dtype, SC_DTYPE_FLOAT);
  assert_float_equal(((float *)out->data)[0], 2.25f, 0);
  assert_float_equal(((float *)out->data)[1], 1.0f, 0);
  sc_tensor_free(out);
  free_all(2, in);
}

/* --- Cast ----------------------------------------------------------------- */

static struct sc_tensor *cast(struct sc_tensor *in, enum sc_dtype to)
{
  struct sc_test_node t;
  struct sc_tensor *out = NULL;
  struct sc_error err;
  sc_test_node_init(&t, "Cast", 13, 1, &in, 0, 1);
  sc_node_set_attr_int(t.node, "to", to, NULL);
  if (sc_test_node_run(&t, NULL, &out, &err) != SC_OK)
    fail_msg("Cast: %s", err.message);
  sc_test_node_free_graph(&t);
  return out;
}

/* Float to integer truncates toward zero and saturates; NaN gives 0. */
static void test_cast_float_to_int_saturates(void **state)
{
  double xv[7];
  static const double i8[7] = {127, -128, 0, -2, 2, 127, -128};
  static const double u8[7] = {255, 0, 0, 0, 2, 255, 0};
  static const int64_t i64[7] = {300, -300, 0, -2, 2, INT64_MAX, INT64_MIN};
  struct sc_tensor *in, *out;
  int i;
  (void)state;
  xv[0] = 300, xv[1] = -300, xv[2] = NAN, xv[3] = -2.9, xv[4] = 2.9,
  xv[5] = INFINITY, xv[6] = -1e30;
  in = vec(SC_DTYPE_FLOAT, 7, xv);
  assert_values(cast(in, SC_DTYPE_INT8), SC_DTYPE_INT8, 7, i8);
  assert_values(cast(in, SC_DTYPE_UINT8), SC_DTYPE_UINT8, 7, u8);
  out = cast(in, SC_DTYPE_INT64);
  for (i = 0; i < 7; i++)
    assert_int_equal(((int64_t *)out->data)[i], i64[i]);
  sc_tensor_free(out);
  sc_tensor_free(in);
}

/* Rounded once: numpy np.float64(1 + 2**-11 + 2**-40).astype(np.float16)
 * is 0x3c01 (through float32 it would tie down to 0x3c00). Likewise
 * 2^60 + 2^52 + 1 to bfloat16 is 2^60 + 2^53 (0x5d81), not 2^60. */
static void test_cast_rounds_once_to_reduced_types(void **state)
{
  struct sc_tensor *in, *out;
  int64_t n = 1;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_DOUBLE, 1, &n, &in, NULL), SC_OK);
  ((double *)in->data)[0] = 1.0 + ldexp(1, -11) + ldexp(1, -40);
  out = cast(in, SC_DTYPE_FLOAT16);
  assert_int_equal(((uint16_t *)out->data)[0], 0x3c01);
  sc_tensor_free(out);
  sc_tensor_free(in);

  assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 1, &n, &in, NULL), SC_OK);
  ((int64_t *)in->data)[0] = ((int64_t)1 << 60) + ((int64_t)1 << 52) + 1;
  out = cast(in, SC_DTYPE_BFLOAT16);
  assert_int_equal(((uint16_t *)out->data)[0], 0x5d81);
  sc_tensor_free(out);
  sc_tensor_free(in);

  assert_int_equal(sc_tensor_create(SC_DTYPE_UINT64, 1, &n, &in, NULL), SC_OK);
  ((uint64_t *)in->data)[0] = UINT64_MAX; /* 2^64 - 1 -> 2^64 */
  out = cast(in, SC_DTYPE_BFLOAT16);
  assert_int_equal(((uint16_t *)out->data)[0], 0x5f80);
  sc_tensor_free(out);
  sc_tensor_free(in);
}

/* Integer to integer wraps like numpy's astype; to bool is x != 0 (NaN
 * is true); bool to float is 0/1; int64 keeps every bit through int64. */
static void test_cast_integer_and_bool_conversions(void **state)
{
  static const double iv[3] = {300, -1, 0};
  static const double u8[3] = {44, 255, 0}, b[3] = {1, 1, 0};
  double fv[3];
  struct sc_tensor *in, *out;
  (void)state;
  in = vec(SC_DTYPE_INT32, 3, iv);
  assert_values(cast(in, SC_DTYPE_UINT8), SC_DTYPE_UINT8, 3, u8);
  assert_values(cast(in, SC_DTYPE_BOOL), SC_DTYPE_BOOL, 3, b);
  sc_tensor_free(in);
  fv[0] = NAN, fv[1] = -0.5, fv[2] = 0;
  in = vec(SC_DTYPE_FLOAT16, 3, fv);
  assert_values(cast(in, SC_DTYPE_BOOL), SC_DTYPE_BOOL, 3, b);
  sc_tensor_free(in);
  in = vec(SC_DTYPE_BOOL, 3, b);
  assert_values(cast(in, SC_DTYPE_DOUBLE), SC_DTYPE_DOUBLE, 3, b);
  sc_tensor_free(in);

  in = NULL;
  {
    int64_t n = 1;
    assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 1, &n, &in, NULL), SC_OK);
  }
  ((int64_t *)in->data)[0] = INT64_MAX - 1;
  out = cast(in, SC_DTYPE_UINT64);
  assert_true(((uint64_t *)out->data)[0] == (uint64_t)INT64_MAX - 1);
  sc_tensor_free(out);
  sc_tensor_free(in);
}

/* Opset 1 names the target type with a string. CastLike takes the type of
 * its second input. */
static void test_cast_opset1_string_target_and_castlike(void **state)
{
  static const double xv[2] = {1.75, -2.5}, like[1] = {0};
  static const double expected[2] = {1, -2};
  struct sc_tensor *in[2], *out;
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 2, xv);
  sc_test_node_init(&t, "Cast", 1, 1, in, 0, 1);
  sc_node_set_attr_string(t.node, "to", "INT32", 5, NULL);
  out = NULL;
  assert_int_equal(sc_test_node_run(&t, NULL, &out, NULL), SC_OK);
  assert_values(out, SC_DTYPE_INT32, 2, expected);
  sc_test_node_free_graph(&t);

  in[1] = vec(SC_DTYPE_INT16, 1, like);
  assert_values(run_ok("CastLike", 15, 2, in), SC_DTYPE_INT16, 2, expected);
  free_all(2, in);
}

static void test_cast_errors_name_the_node(void **state)
{
  static const double xv[1] = {1};
  struct sc_tensor *in[1];
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 1, xv);
  sc_test_node_init(&t, "Cast", 13, 1, in, 0, 1);
  sc_node_set_attr_int(t.node, "to", SC_DTYPE_STRING, NULL);
  run_fails(&t, SC_ERR_UNSUPPORTED, "string");
  sc_test_node_init(&t, "Cast", 13, 1, in, 0, 1);
  sc_node_set_attr_int(t.node, "to", 0, NULL);
  run_fails(&t, SC_ERR_FORMAT, "'to'");
  sc_test_node_init(&t, "Cast", 13, 1, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "'to' is missing");
  sc_test_node_init(&t, "Cast", 1, 1, in, 0, 1);
  sc_node_set_attr_string(t.node, "to", "FLOAT99", 7, NULL);
  run_fails(&t, SC_ERR_FORMAT, "FLOAT99");
  free_all(1, in);
}

static void test_cast_threads_match_serial(void **state)
{
  int64_t dims[2] = {300, 1001};
  uint32_t seed = 7;
  struct sc_tensor *in = random_tensor(SC_DTYPE_FLOAT, 2, dims, &seed);
  struct sc_tensor *serial, *parallel = NULL;
  struct sc_threadpool *threads;
  struct sc_test_node t;
  (void)state;
  serial = cast(in, SC_DTYPE_FLOAT16);
  assert_int_equal(sc_threadpool_create(3, &threads, NULL), SC_OK);
  sc_test_node_init(&t, "Cast", 13, 1, &in, 0, 1);
  sc_node_set_attr_int(t.node, "to", SC_DTYPE_FLOAT16, NULL);
  assert_int_equal(sc_test_node_run(&t, threads, &parallel, NULL), SC_OK);
  assert_memory_equal(serial->data, parallel->data, sc_tensor_size(serial));
  sc_test_node_free_graph(&t);
  sc_threadpool_free(threads);
  sc_tensor_free(serial);
  sc_tensor_free(parallel);
  sc_tensor_free(in);
}

/* --- error paths ---------------------------------------------------------- */

static void test_unsupported_dtype_names_node_and_input(void **state)
{
  static const double v[2] = {1, 2};
  struct sc_tensor *in[2];
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_INT32, 2, v);
  sc_test_node_init(&t, "Sin", 13, 1, in, 0, 1);
  run_fails(&t, SC_ERR_UNSUPPORTED, "input 0 ('in0')");
  sc_test_node_init(&t, "Celu", 12, 1, in, 0, 1);
  run_fails(&t, SC_ERR_UNSUPPORTED, "int32");
  sc_tensor_free(in[0]);

  in[0] = vec(SC_DTYPE_BOOL, 2, v);
  in[1] = vec(SC_DTYPE_BOOL, 2, v);
  sc_test_node_init(&t, "Add", 14, 2, in, 0, 1);
  run_fails(&t, SC_ERR_UNSUPPORTED, "input 0 ('in0') has dtype bool");
  free_all(2, in);

  in[0] = vec(SC_DTYPE_FLOAT, 2, v);
  in[1] = vec(SC_DTYPE_DOUBLE, 2, v);
  sc_test_node_init(&t, "Add", 14, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "different dtypes");
  sc_tensor_free(in[1]);
  in[1] = vec(SC_DTYPE_BOOL, 2, v);
  sc_test_node_init(&t, "Pow", 15, 2, in, 0, 1);
  run_fails(&t, SC_ERR_UNSUPPORTED, "input 1 ('in1')");
  sc_test_node_init(&t, "Where", 16, 3,
                    (struct sc_tensor *[]){in[0], in[0], in[0]}, 0, 1);
  run_fails(&t, SC_ERR_UNSUPPORTED, "input 0 ('in0')");
  free_all(2, in);
}

static void test_bad_shapes_and_attributes_name_the_node(void **state)
{
  static const double v[3] = {1, 2, 3};
  struct sc_tensor *in[2];
  struct sc_test_node t;
  (void)state;
  in[0] = vec(SC_DTYPE_FLOAT, 3, v);
  in[1] = vec(SC_DTYPE_FLOAT, 2, v);
  sc_test_node_init(&t, "Mul", 14, 2, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "cannot be broadcast");
  sc_test_node_init(&t, "Add", 14, 1, in, 0, 1);
  run_fails(&t, SC_ERR_FORMAT, "inputs");
  sc_test_node_init(&t, "LeakyRelu", 16, 1, in, 0, 1);
  sc_node_set_attr_float(t.node, "alpha", INFINITY, NULL);
  run_fails(&t, SC_ERR_FORMAT, "alpha");
  sc_test_node_init(&t, "Celu", 12, 1, in, 0, 1);
  sc_node_set_attr_float(t.node, "alpha", 0.0f, NULL);
  run_fails(&t, SC_ERR_FORMAT, "alpha");
  sc_test_node_init(&t, "Elu", 6, 1, in, 0, 1);
  sc_node_set_attr_int(t.node, "alpha", 1, NULL); /* wrong attribute type */
  run_fails(&t, SC_ERR_FORMAT, "alpha");
  free_all(2, in);
}

/* --- ONNX Runtime's Gelu family (com.microsoft) ------------------------ */

/* One step of an unfused graph: op (default domain) on a and b (b NULL:
 * unary) writing out. */
struct step {
  const char *op, *a, *b, *out;
};

/* Scalar constants the unfused graphs use. */
static const struct {
  const char *name;
  float value;
} gelu_constants[] = {
    {"one", 1.0f},
    {"half", 0.5f},
    {"inv_sqrt2", 0.70710677f},        /* (float)M_SQRT1_2 */
    {"fast_b", 0.7978845608028654f},   /* sqrt(2 / pi) */
    {"fast_c", 0.035677408136300125f}, /* 0.044715 sqrt(2 / pi) */
    {"quick_alpha", 1.25f},
};

/* The graph of X [2, 3, 1000] (and of Bias [1000] when with_bias) computing
 * Y: one node `fused` (com.microsoft), or the steps. */
static struct sc_graph *gelu_graph(const char *fused, int with_bias,
                                   const struct step *steps, int n_steps,
                                   struct sc_tensor *bias)
{
  const int64_t dx[3] = {2, 3, 1000}, none[1] = {0};
  struct sc_graph *g = NULL;
  struct sc_node *n = NULL;
  size_t k;
  int i;
  g = sc_test_graph_new(13);
  sc_graph_add_input(g, "X", SC_DTYPE_FLOAT, 3, dx, NULL);
  if (with_bias)
    sc_graph_add_initializer(g, "Bias", bias, NULL);
  else
    sc_tensor_free(bias);
  if (fused) {
    const char *ins[2] = {"X", "Bias"}, *y = "Y";
    assert_int_equal(sc_graph_add_node(g, "gelu", fused, "com.microsoft",
                                       with_bias ? 2 : 1, ins, 1, &y, &n, NULL),
                     SC_OK);
    if (strcmp(fused, "QuickGelu") == 0)
      sc_node_set_attr_float(n, "alpha", 1.25f, NULL);
  } else {
    for (k = 0; k < sizeof gelu_constants / sizeof gelu_constants[0]; k++)
      sc_graph_add_initializer(
          g, gelu_constants[k].name,
          sc_test_tensor_f32(0, none, &gelu_constants[k].value), NULL);
    for (i = 0; i < n_steps; i++) {
      const char *ins[2] = {steps[i].a, steps[i].b};
      assert_int_equal(sc_graph_add_node(g, steps[i].out, steps[i].op, "",
                                         steps[i].b ? 2 : 1, ins, 1,
                                         &steps[i].out, &n, NULL),
                       SC_OK);
    }
  }
  sc_graph_add_output(g, "Y", NULL);
  return g;
}

/* Each Gelu-family operator equals, bit for bit on two threads, the float
 * operators that compute it in ONNX Runtime's order (the bias Add first;
 * this runtime's Erf, Tanh and Sigmoid), on values over [-4, 4] (where
 * one rounding more or less in FastGelu's cubic shows after its tanh)
 * and [-12, 12], and the special ones (zeros, infinities, NaN). */
static void test_gelu_family_matches_its_operators(void **state)
{
  static const struct step gelu[] = {{"Mul", "V", "inv_sqrt2", "t"},
                                     {"Erf", "t", NULL, "e"},
                                     {"Add", "e", "one", "e1"},
                                     {"Mul", "half", "V", "h"},
                                     {"Mul", "h", "e1", "Y"}};
  static const struct step fast[] = {
      {"Mul", "fast_c", "V", "c1"},  {"Mul", "c1", "V", "c2"},
      {"Add", "c2", "fast_b", "c3"}, {"Mul", "V", "c3", "t"},
      {"Tanh", "t", NULL, "r"},      {"Add", "r", "one", "r1"},
      {"Mul", "half", "V", "h"},     {"Mul", "h", "r1", "Y"}};
  static const struct step quick[] = {{"Mul", "V", "quick_alpha", "t"},
                                      {"Sigmoid", "t", NULL, "s"},
                                      {"Mul", "V", "s", "Y"}};
  static const struct {
    const char *op;
    int with_bias;
    const struct step *steps;
    int n_steps;
  } cases[] = {
      {"Gelu", 0, gelu, 5},       {"BiasGelu", 1, gelu, 5},
      {"FastGelu", 0, fast, 8},   {"FastGelu", 1, fast, 8},
      {"QuickGelu", 0, quick, 3},
  };
  const int64_t dx[3] = {2, 3, 1000}, db[1] = {1000};
  struct sc_tensor *x = NULL, *bias = NULL;
  struct sc_threadpool *threads = NULL;
  size_t k;
  int64_t i;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 3, dx, &x, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, db, &bias, NULL), SC_OK);
  for (i = 0; i < x->n_elements; i++) /* [-4, 4], then [-12, 12] */
    ((float *)x->data)[i] =
        (float)((i < 3000 ? 4.0 : 12.0) * sin(0.37 * (double)i + 0.1) *
                cos(0.011 * (double)i));
  ((float *)x->data)[0] = 0.0f;
  ((float *)x->data)[1] = -0.0f;
  ((float *)x->data)[2] = INFINITY;
  ((float *)x->data)[3] = -INFINITY;
  ((float *)x->data)[4] = NAN;
  for (i = 0; i < 1000; i++)
    ((float *)bias->data)[i] = (float)cos(1.3 * (double)i);
  assert_int_equal(sc_threadpool_create(2, &threads, NULL), SC_OK);
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    struct step steps[9];
    struct sc_feed feeds[1] = {{"X", x}};
    struct sc_tensor *b[2];
    char what[64];
    int n = 0, j;
    /* V = X + Bias, or X */
    steps[n++] = (struct step){cases[k].with_bias ? "Add" : "Identity", "X",
                               cases[k].with_bias ? "Bias" : NULL, "V"};
    for (j = 0; j < cases[k].n_steps; j++)
      steps[n++] = cases[k].steps[j];
    for (j = 0; j < 2; j++)
      assert_int_equal(sc_tensor_clone(bias, &b[j], NULL), SC_OK);
    snprintf(what, sizeof what, "%s, bias %d", cases[k].op, cases[k].with_bias);
    sc_test_assert_graphs_agree(
        gelu_graph(cases[k].op, cases[k].with_bias, NULL, 0, b[0]),
        gelu_graph(NULL, cases[k].with_bias, steps, n, b[1]), 1, feeds, threads,
        what);
  }
  sc_threadpool_free(threads);
  sc_tensor_free(x);
  sc_tensor_free(bias);
}

/* From the definitions in double, rounded once (the float steps may be 3
 * ulp away): Gelu(1) = 0.5 (1 + erf(1 / sqrt 2)) = 0.8413447461;
 * Gelu(-2) = -(1 - erf(sqrt 2)) = -0.0455002639; FastGelu(1) = 0.5 (1 +
 * tanh(sqrt(2 / pi) 1.044715)) = 0.8411919906; QuickGelu(1), alpha
 * 1.702: 1 / (1 + exp(-1.702)) = 0.8457957; BiasGelu(0.5, bias 0.5) =
 * Gelu(1). */
static void test_gelu_family_hand_computed(void **state)
{
  static const struct {
    const char *op;
    float x, bias;
    double want;
  } cases[] = {
      {"Gelu", 1.0f, 0, 0.8413447460685429},
      {"Gelu", -2.0f, 0, -0.04550026389635842},
      {"Gelu", 0.0f, 0, 0.0},
      {"FastGelu", 1.0f, 0, 0.8411919906082768},
      {"QuickGelu", 1.0f, 0, 0.8457957066522708},
      {"BiasGelu", 0.5f, 0.5f, 0.8413447460685429},
  };
  size_t k;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int64_t d[1] = {1};
    struct sc_tensor *in[2], *y = NULL;
    struct sc_test_node t;
    struct sc_error err;
    int bias = strcmp(cases[k].op, "BiasGelu") == 0;
    double got;
    in[0] = sc_test_tensor_f32(1, d, &cases[k].x);
    in[1] = sc_test_tensor_f32(1, d, &cases[k].bias);
    sc_test_node_init_domain(&t, "com.microsoft", cases[k].op, 1, 1 + bias, in,
                             0, 1);
    if (sc_test_node_run(&t, NULL, &y, &err) != SC_OK)
      fail_msg("%s: %s", cases[k].op, err.message);
    got = ((float *)y->data)[0];
    if (fabs(got - cases[k].want) > 3.0 * ldexp(1.0, -24) + 1e-300)
      fail_msg("%s(%g): %.9g, expected %.9g", cases[k].op, cases[k].x, got,
               cases[k].want);
    sc_tensor_free(y);
    sc_test_node_free(&t);
    if (!bias)
      sc_tensor_free(in[1]);
  }
}

/* A bias that is not the input's last dimension, a missing BiasGelu bias
 * and a non-finite QuickGelu alpha are refused naming the node. */
static void test_gelu_family_errors_name_the_node(void **state)
{
  static const float xv[6] = {1, 2, 3, 4, 5, 6}, bv[2] = {1, 2};
  const int64_t dx[2] = {2, 3}, db[1] = {2};
  struct sc_test_node t;
  struct sc_tensor *in[2];
  (void)state;
  in[0] = sc_test_tensor_f32(2, dx, xv);
  in[1] = sc_test_tensor_f32(1, db, bv);
  sc_test_node_init_domain(&t, "com.microsoft", "FastGelu", 1, 2, in,
                           SC_TEST_NODE_PARAMS_CONSTANT, 1);
  run_fails(&t, SC_ERR_FORMAT, "last dimension");
  sc_test_node_free(&t);

  in[0] = sc_test_tensor_f32(2, dx, xv);
  sc_test_node_init_domain(&t, "com.microsoft", "BiasGelu", 1, 1, in, 0, 1);
  sc_test_node_prepare_fails(&t, SC_ERR_FORMAT, "input");
  sc_test_node_free(&t);

  in[0] = sc_test_tensor_f32(2, dx, xv);
  sc_test_node_init_domain(&t, "com.microsoft", "QuickGelu", 1, 1, in, 0, 1);
  sc_test_node_set_float(&t, "alpha", NAN);
  sc_test_node_prepare_fails(&t, SC_ERR_FORMAT, "finite");
  sc_test_node_free(&t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_binary_fast_paths_match_reference),
      cmocka_unit_test(test_other_fast_paths_match_reference),
      cmocka_unit_test(test_broadcast_plan_merges_dims),
      cmocka_unit_test(test_legacy_broadcast_places_b_at_axis),
      cmocka_unit_test(test_legacy_broadcast_errors_name_the_node),
      cmocka_unit_test(test_prelu_opset6_slope_per_channel),
      cmocka_unit_test(test_prelu_nonfinite_slope_keeps_positive_inputs),
      cmocka_unit_test(test_prelu_slope_must_broadcast_to_x),
      cmocka_unit_test(test_integer_div_truncates_and_defines_edges),
      cmocka_unit_test(test_integer_arithmetic_wraps),
      cmocka_unit_test(test_mod_sign_rules),
      cmocka_unit_test(test_mod_float_requires_fmod),
      cmocka_unit_test(test_bitshift_edges_and_direction),
      cmocka_unit_test(test_bitwise_ops_opset18),
      cmocka_unit_test(test_mish_opset18),
      cmocka_unit_test(test_hardswish_values),
      cmocka_unit_test(test_nan_propagates),
      cmocka_unit_test(test_clip_bounds),
      cmocka_unit_test(test_isinf_detect_flags),
      cmocka_unit_test(test_variadic_broadcast_and_legacy_shapes),
      cmocka_unit_test(test_where_broadcasts_condition),
      cmocka_unit_test(test_float16_add_rounds_through_float),
      cmocka_unit_test(test_float16_rows_match_float_rounded),
      cmocka_unit_test(test_pow_mixed_types),
      cmocka_unit_test(test_cast_float_to_int_saturates),
      cmocka_unit_test(test_cast_rounds_once_to_reduced_types),
      cmocka_unit_test(test_cast_integer_and_bool_conversions),
      cmocka_unit_test(test_cast_opset1_string_target_and_castlike),
      cmocka_unit_test(test_cast_errors_name_the_node),
      cmocka_unit_test(test_cast_threads_match_serial),
      cmocka_unit_test(test_unsupported_dtype_names_node_and_input),
      cmocka_unit_test(test_bad_shapes_and_attributes_name_the_node),
      cmocka_unit_test(test_gelu_family_matches_its_operators),
      cmocka_unit_test(test_gelu_family_hand_computed),
      cmocka_unit_test(test_gelu_family_errors_name_the_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
