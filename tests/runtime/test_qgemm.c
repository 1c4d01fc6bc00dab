/* com.microsoft QGemm against values worked out by hand (see each case). */
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "tests/support/assertions.h"

static struct sc_graph *qgemm_graph(enum sc_dtype y_type, int with_y)
{
  struct sc_graph *g;
  const char *ins[9] = {"A", "as", "az", "B", "bs", "bz", "C", "ys", "yz"};
  const char *outs[1] = {"Y"};
  int64_t d22[2] = {2, 2}, d2[1] = {2}, d0[1] = {1};
  double b[4] = {1, -1, 2, 0}, c[2] = {10, -3};
  double as[1] = {0.5}, az[1] = {1}, bs[2] = {0.25, 0.5}, bz[2] = {0, 0};
  double ys[1] = {0.1}, yz[1] = {5};
  struct sc_node *n;

  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  sc_graph_set_opset(g, "", 13, NULL);
  sc_graph_set_opset(g, "com.microsoft", 1, NULL);
  sc_graph_add_input(g, "A", SC_DTYPE_UINT8, 2, d22, NULL);
  sc_graph_add_initializer(g, "as", sc_test_tensor(SC_DTYPE_FLOAT, 0, d0, as),
                           NULL);
  sc_graph_add_initializer(g, "az", sc_test_tensor(SC_DTYPE_UINT8, 0, d0, az),
                           NULL);
  sc_graph_add_initializer(g, "B", sc_test_tensor(SC_DTYPE_INT8, 2, d22, b),
                           NULL);
  sc_graph_add_initializer(g, "bs", sc_test_tensor(SC_DTYPE_FLOAT, 1, d2, bs),
                           NULL);
  sc_graph_add_initializer(g, "bz", sc_test_tensor(SC_DTYPE_INT8, 1, d2, bz),
                           NULL);
  sc_graph_add_initializer(g, "C", sc_test_tensor(SC_DTYPE_INT32, 1, d2, c),
                           NULL);
  sc_graph_add_initializer(g, "ys", sc_test_tensor(SC_DTYPE_FLOAT, 0, d0, ys),
                           NULL);
  sc_graph_add_initializer(g, "yz", sc_test_tensor(y_type, 0, d0, yz), NULL);
  assert_int_equal(sc_graph_add_node(g, "fc", "QGemm", "com.microsoft",
                                     with_y ? 9 : 7, ins, 1, outs, &n, NULL),
                   SC_OK);
  sc_graph_add_output(g, "Y", NULL);
  return g;
}

static struct sc_tensor *run_on_a(struct sc_graph *g, const double *a)
{
  int64_t d22[2] = {2, 2};
  struct sc_tensor *x = sc_test_tensor(SC_DTYPE_UINT8, 2, d22, a), *out[1];
  struct sc_feed feed = {"A", x};
  struct sc_error err;
  if (sc_graph_run(g, 1, &feed, out, NULL, &err) != SC_OK)
    fail_msg("%s", err.message);
  sc_tensor_free(x);
  return out[0];
}

/* acc = (A - 1) x B + C = [[12, -3], [18, -5]]; multipliers, in float32,
 * 0.5*0.25/0.1 = 1.25 and 0.5*0.5/0.1 = 2.5:
 * [[15, -7.5], [22.5, -12.5]] -> half to even [[15, -8], [22, -12]],
 * + zero point 5 = [[20, -3], [27, -7]]. */
static void test_qgemm_int8_output_rounds_half_even(void **state)
{
  struct sc_graph *g = qgemm_graph(SC_DTYPE_INT8, 1);
  double a[4] = {1, 2, 3, 4}, want_v[4] = {20, -3, 27, -7};
  int64_t d22[2] = {2, 2};
  struct sc_tensor *y = run_on_a(g, a);
  struct sc_tensor *want = sc_test_tensor(SC_DTYPE_INT8, 2, d22, want_v);
  (void)state;
  assert_tensor_close(y, want, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(want);
  sc_graph_free(g);
}

/* uint8 output saturates at 0 and 255: A = [[255, 255], [1, 1]] gives
 * acc row 0 = [254*1 + 254*2 + 10, 254*-1 + 0 - 3] = [772, -257]
 * -> [965 + 5, -642.5 + 5] -> [255, 0]; row 1 = [10, -3] ->
 * [12.5 -> 12 (even) + 5, -7.5 -> -8 + 5 = -3 -> 0]. */
static void test_qgemm_uint8_output_saturates(void **state)
{
  struct sc_graph *g = qgemm_graph(SC_DTYPE_UINT8, 1);
  double a[4] = {255, 255, 1, 1}, want_v[4] = {255, 0, 17, 0};
  int64_t d22[2] = {2, 2};
  struct sc_tensor *y = run_on_a(g, a);
  struct sc_tensor *want = sc_test_tensor(SC_DTYPE_UINT8, 2, d22, want_v);
  (void)state;
  assert_tensor_close(y, want, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(want);
  sc_graph_free(g);
}

/* Without y_scale the output is float: acc * a_scale * b_scale[n]:
 * [[12*0.125, -3*0.25], [18*0.125, -5*0.25]]. */
static void test_qgemm_float_output(void **state)
{
  struct sc_graph *g = qgemm_graph(SC_DTYPE_INT8, 0);
  double a[4] = {1, 2, 3, 4}, want_v[4] = {1.5, -0.75, 2.25, -1.25};
  int64_t d22[2] = {2, 2};
  struct sc_tensor *y = run_on_a(g, a);
  struct sc_tensor *want = sc_test_tensor(SC_DTYPE_FLOAT, 2, d22, want_v);
  (void)state;
  assert_tensor_close(y, want, 0, 0);
  sc_tensor_free(y);
  sc_tensor_free(want);
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_qgemm_int8_output_rounds_half_even),
      cmocka_unit_test(test_qgemm_uint8_output_saturates),
      cmocka_unit_test(test_qgemm_float_output),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
