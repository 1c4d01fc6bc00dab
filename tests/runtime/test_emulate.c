/* The emulated integer accelerator (runtime/emulate.h): the fixed-point
 * primitives against hand-computed values, the rewrite of a QDQ graph, and
 * the claim that the emulation differs from fake quantization only where
 * rounding differs, counted in LSB.
 *
 * tests/data/quant/emu_net.onnx uses power-of-two scales, so fake
 * quantization computes every pre-rounding value exactly in float and many
 * of them are exact ties (x.5 steps). Each emulated node is run alone on the
 * fake-quantized graph's own integer tensors, and its result compared with
 * the fake-quantized one, element by element, knowing the exact real value
 * v = Y / y_scale that both round:
 *   - half_even: identical wherever v is exact (every node but Sigmoid,
 *     whose table is computed in double while fake quantization uses a
 *     float32 sigmoid: those may differ, only next to a tie);
 *   - half_away_from_zero: at every exact tie whose even and away results
 *     differ, the emulation takes the away one (1 LSB further from zero);
 *     anywhere else it may differ only within 1/64 step of a tie (the
 *     gemmlowp double rounding). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/emulate.h"
#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/quant.h"
#include "tests/support/assertions.h"
#include "tests/support/capture.h"

#define QUANT_DATA SC_SOURCE_DIR "/tests/data/quant"

/* --- fixed-point primitives ------------------------------------------- */

static void test_quantize_multiplier_hand_values(void **s)
{
  int32_t m;
  int e;
  (void)s;
  assert_int_equal(sc_emulate_quantize_multiplier(0.5, &m, &e), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(e, 0);
  assert_int_equal(sc_emulate_quantize_multiplier(1.0, &m, &e), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(e, 1);
  assert_int_equal(sc_emulate_quantize_multiplier(0.75, &m, &e), 0);
  assert_int_equal(m, 1610612736); /* 0.75 * 2^31 */
  assert_int_equal(e, 0);
  assert_int_equal(sc_emulate_quantize_multiplier(0.1, &m, &e), 0);
  assert_int_equal(m, 1717986918); /* round(0.8 * 2^31), 0.1 = 0.8 * 2^-3 */
  assert_int_equal(e, -3);
  /* mantissa rounding up to 2^31 moves to the next exponent */
  assert_int_equal(sc_emulate_quantize_multiplier(0.99999999999, &m, &e), 0);
  assert_int_equal(m, 1 << 30);
  assert_int_equal(e, 1);
  assert_int_equal(sc_emulate_quantize_multiplier(0x1p-40, &m, &e), 0);
  assert_int_equal(m, 0);
  assert_int_equal(e, 0);
  assert_int_equal(sc_emulate_quantize_multiplier(-0.5, &m, &e), -1);
  assert_int_equal(sc_emulate_quantize_multiplier(NAN, &m, &e), -1);
}

static void test_gemmlowp_primitives_round_like_the_reference(void **s)
{
  (void)s;
  /* SaturatingRoundingDoublingHighMul(a, 2^30) = a / 2, ties toward
   * +infinity: (-3 * 2^30 + 1 - 2^30) / 2^31 truncates to -1 */
  assert_int_equal(sc_emulate_srdhm(3, 1 << 30), 2);
  assert_int_equal(sc_emulate_srdhm(-3, 1 << 30), -1);
  assert_int_equal(sc_emulate_srdhm(-5, 1 << 30), -2);
  assert_int_equal(sc_emulate_srdhm(5, 1 << 30), 3);
  assert_int_equal(sc_emulate_srdhm(-7, 1 << 29), -2); /* -1.75 */
  assert_int_equal(sc_emulate_srdhm(1 << 30, 1 << 30), 1 << 29);
  assert_int_equal(sc_emulate_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
  /* RoundingDivideByPOT */
  assert_int_equal(sc_emulate_rounding_divide_by_pot(5, 1), 3);
  assert_int_equal(sc_emulate_rounding_divide_by_pot(-5, 1), -3);
  assert_int_equal(sc_emulate_rounding_divide_by_pot(7, 2), 2);
  assert_int_equal(sc_emulate_rounding_divide_by_pot(-6, 2), -2);
  assert_int_equal(sc_emulate_rounding_divide_by_pot(-7, 2), -2);
  assert_int_equal(sc_emulate_rounding_divide_by_pot(9, 0), 9);
}

static void test_multiply_rounding_modes(void **s)
{
  const int32_t half = 1 << 30; /* with shift 0: M = 0.5 */
  (void)s;
  /* 2.5, 3.5: away 3, 4; even 2, 4 */
  assert_int_equal(
      sc_emulate_multiply(5, half, 0, SC_EMULATE_HALF_AWAY_FROM_ZERO), 3);
  assert_int_equal(sc_emulate_multiply(5, half, 0, SC_EMULATE_HALF_EVEN), 2);
  assert_int_equal(
      sc_emulate_multiply(7, half, 0, SC_EMULATE_HALF_AWAY_FROM_ZERO), 4);
  assert_int_equal(sc_emulate_multiply(7, half, 0, SC_EMULATE_HALF_EVEN), 4);
  /* without a right shift only the first rounding acts: ties upward */
  assert_int_equal(
      sc_emulate_multiply(-5, half, 0, SC_EMULATE_HALF_AWAY_FROM_ZERO), -2);
  assert_int_equal(sc_emulate_multiply(-5, half, 0, SC_EMULATE_HALF_EVEN), -2);
  /* with one (M = 1/16): -40/16 = -2.5 goes away from zero */
  assert_int_equal(
      sc_emulate_multiply(-40, half, -3, SC_EMULATE_HALF_AWAY_FROM_ZERO), -3);
  assert_int_equal(sc_emulate_multiply(-40, half, -3, SC_EMULATE_HALF_EVEN),
                   -2);
  /* M = 0.5 * 2^-3 = 1/16: 24/16 = 1.5 */
  assert_int_equal(
      sc_emulate_multiply(24, half, -3, SC_EMULATE_HALF_AWAY_FROM_ZERO), 2);
  assert_int_equal(sc_emulate_multiply(24, half, -3, SC_EMULATE_HALF_EVEN), 2);
  assert_int_equal(sc_emulate_multiply(40, half, -3, SC_EMULATE_HALF_EVEN),
                   2); /* 2.5 */
  /* gemmlowp's double rounding: 1 * 1/4 is 0.25, rounded twice to 1 */
  assert_int_equal(
      sc_emulate_multiply(1, half, -1, SC_EMULATE_HALF_AWAY_FROM_ZERO), 1);
  assert_int_equal(sc_emulate_multiply(1, half, -1, SC_EMULATE_HALF_EVEN), 0);
  /* M = 2 (left shift), and saturation */
  assert_int_equal(
      sc_emulate_multiply(3, half, 2, SC_EMULATE_HALF_AWAY_FROM_ZERO), 6);
  assert_int_equal(sc_emulate_multiply(3, half, 2, SC_EMULATE_HALF_EVEN), 6);
  assert_int_equal(
      sc_emulate_multiply(INT32_MAX, INT32_MAX, 30, SC_EMULATE_HALF_EVEN),
      INT32_MAX);
}

static void test_rounding_names(void **s)
{
  enum sc_emulate_rounding r;
  (void)s;
  assert_int_equal(sc_emulate_rounding_from_name("half_even", &r), 0);
  assert_int_equal(r, SC_EMULATE_HALF_EVEN);
  assert_int_equal(sc_emulate_rounding_from_name("half_away_from_zero", &r), 0);
  assert_int_equal(r, SC_EMULATE_HALF_AWAY_FROM_ZERO);
  assert_int_equal(sc_emulate_rounding_from_name("bankers", &r), -1);
  assert_string_equal(sc_emulate_rounding_name(SC_EMULATE_HALF_EVEN),
                      "half_even");
}

/* --- running ---------------------------------------------------------- */

static struct sc_graph *load_emu_net(void)
{
  struct sc_graph *g = NULL;
  struct sc_error err;
  if (sc_onnx_load(QUANT_DATA "/emu_net.onnx", &g, &err) != SC_OK)
    fail_msg("%s", err.message);
  return g;
}

static float node_float_attr(const struct sc_graph *g, const char *node,
                             const char *attr)
{
  int i;
  for (i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].name, node) == 0) {
      const struct sc_attr *a = sc_node_attr(&g->nodes[i], attr);
      assert_non_null(a);
      return a->f;
    }
  fail_msg("no node '%s'", node);
  return 0;
}

static struct sc_graph *emulated(enum sc_emulate_rounding rounding, int *n)
{
  struct sc_graph *g = load_emu_net();
  struct sc_emulate_options opt;
  struct sc_error err;
  opt.rounding = rounding;
  if (sc_graph_emulate(g, &opt, n, &err) != SC_OK)
    fail_msg("%s", err.message);
  return g;
}

/* The islands of emu_net: emulated node, its integer output, the float
 * tensor fake quantization rounds (Y), and whether Y is exact in float. */
static const struct {
  const char *node, *q, *y;
  int exact;
} islands[] = {{"conv1", "c1_q", "c1", 1},     {"conv2", "c2_q", "c2", 1},
               {"relu", "relu_q", "relu", 1},  {"add", "add_q", "add", 1},
               {"sigmoid", "sig_q", "sig", 0}, {"mul", "mul_q", "mul", 1},
               {"concat", "cat_q", "cat", 1},  {"gap", "gap_q", "gap", 1},
               {"fc", "fc_q", "fc", 1}};
#define N_ISLANDS (int)(sizeof islands / sizeof islands[0])

/* --- the rewrite ------------------------------------------------------ */

static void test_rewrite_replaces_every_island(void **s)
{
  int n = 0, i, k, n_emulated = 0;
  struct sc_graph *g = emulated(SC_EMULATE_HALF_AWAY_FROM_ZERO, &n);
  (void)s;
  assert_int_equal(n, N_ISLANDS);
  for (i = 0; i < g->n_nodes; i++)
    if (strcmp(g->nodes[i].domain, "stagecheck.emulate") == 0)
      n_emulated++;
  assert_int_equal(n_emulated, N_ISLANDS);
  for (k = 0; k < N_ISLANDS; k++) {
    int v = sc_graph_find_value(g, islands[k].q);
    assert_true(v >= 0);
    /* the pre-quantization float tensor is gone, the integer one keeps its
     * name and its annotation */
    assert_int_equal(sc_graph_find_value(g, islands[k].y), -1);
    assert_non_null(g->values[v].quant);
  }
  /* the quantized views the comparison matches are still there */
  assert_true(sc_graph_find_value(g, "c1_dq") >= 0);
  assert_int_equal(g->n_inputs, 1);
  assert_int_equal(g->n_outputs, 1);
  assert_string_equal(g->values[g->outputs[0]].name, "output");
  assert_true(sc_graph_opset(g, "stagecheck.emulate") == 1);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  sc_graph_free(g);
}

static void test_rewrite_leaves_a_float_graph_alone(void **s)
{
  struct sc_graph *g = NULL;
  struct sc_error err;
  int n = -1, n_nodes;
  (void)s;
  if (sc_onnx_load(QUANT_DATA "/fp32_net.onnx", &g, &err) != SC_OK)
    fail_msg("%s", err.message);
  n_nodes = g->n_nodes;
  assert_int_equal(sc_graph_emulate(g, NULL, &n, NULL), SC_OK);
  assert_int_equal(n, 0);
  assert_int_equal(g->n_nodes, n_nodes);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  sc_graph_free(g);
}

/* A graph that has already run (prepared kernels, states) can be rewritten
 * and runs again, giving the fake-quantized output (half_even is exact on
 * this network). */
static void test_rewrite_of_a_prepared_graph(void **s)
{
  struct sc_graph *g = load_emu_net();
  struct sc_tensor *x = NULL, *before[1] = {NULL}, *after[1] = {NULL};
  struct sc_feed feed = {"input", NULL};
  struct sc_emulate_options opt = {SC_EMULATE_HALF_EVEN};
  struct sc_error err;
  int n = 0;
  (void)s;
  assert_int_equal(sc_npy_load(QUANT_DATA "/emu_input.npy", &x, NULL), SC_OK);
  feed.tensor = x;
  assert_int_equal(sc_graph_run(g, 1, &feed, before, NULL, NULL), SC_OK);
  assert_true(g->prepared);
  assert_int_equal(sc_graph_emulate(g, &opt, &n, &err), SC_OK);
  assert_int_equal(n, N_ISLANDS);
  assert_false(g->prepared);
  if (sc_graph_run(g, 1, &feed, after, NULL, &err) != SC_OK)
    fail_msg("%s", err.message);
  assert_tensor_close(after[0], before[0], 0, 0);
  sc_tensor_free(before[0]);
  sc_tensor_free(after[0]);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* A hand-built emulated node with a bad attribute fails preparation with
 * a message naming it. */
static void test_emulated_node_rejects_bad_rounding_and_missing_scale(void **s)
{
  int pass;
  (void)s;
  for (pass = 0; pass < 2; pass++) {
    struct sc_graph *g = NULL;
    struct sc_node *node;
    struct sc_error err;
    int64_t dims[1] = {4};
    const char *ins[1] = {"x"}, *outs[1] = {"y"};
    assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
    assert_int_equal(sc_graph_add_input(g, "x", SC_DTYPE_INT8, 1, dims, NULL),
                     SC_OK);
    assert_int_equal(sc_graph_add_node(g, "emu_sigmoid", "Lut",
                                       "stagecheck.emulate", 1, ins, 1, outs,
                                       &node, NULL),
                     SC_OK);
    assert_int_equal(
        sc_node_set_attr_string(node, "function", "Sigmoid", 7, NULL), SC_OK);
    assert_int_equal(sc_node_set_attr_float(node, "x_scale", 0.1f, NULL),
                     SC_OK);
    assert_int_equal(sc_node_set_attr_int(node, "y_dtype", SC_DTYPE_INT8, NULL),
                     SC_OK);
    if (pass == 0) {
      assert_int_equal(sc_node_set_attr_float(node, "y_scale", 0.1f, NULL),
                       SC_OK);
      assert_int_equal(
          sc_node_set_attr_string(node, "rounding", "bankers", 7, NULL), SC_OK);
    }
    assert_int_equal(sc_graph_add_output(g, "y", NULL), SC_OK);
    sc_error_clear(&err);
    assert_int_equal(sc_graph_prepare(g, &err),
                     pass == 0 ? SC_ERR_UNSUPPORTED : SC_ERR_FORMAT);
    assert_non_null(strstr(err.message, "emu_sigmoid"));
    sc_graph_free(g);
  }
}

/* --- emulation vs fake quantization ----------------------------------- */

struct tally {
  int64_t n_diff, n_ties_flipped, n_near_tie_diff;
};

/* Compares island k of the emulated graph, run alone on the fake-quantized
 * graph's tensors, with the fake-quantized result (see the top of the
 * file). */
static void compare_island(struct sc_graph *emu,
                           const struct sc_test_capture *fake, int k,
                           enum sc_emulate_rounding rounding, struct tally *t)
{
  struct sc_tensor *got = sc_test_capture_run_node(emu, islands[k].node, fake);
  const struct sc_tensor *want = sc_test_captured(fake, islands[k].q);
  const struct sc_tensor *y = sc_test_captured(fake, islands[k].y);
  float y_scale = node_float_attr(emu, islands[k].node, "y_scale");
  int64_t i, qmin = got->dtype == SC_DTYPE_INT8 ? -128 : 0;
  int64_t qmax = got->dtype == SC_DTYPE_INT8 ? 127 : 255;

  assert_int_equal(got->dtype, want->dtype);
  assert_int_equal(got->n_elements, y->n_elements);
  for (i = 0; i < got->n_elements; i++) {
    int64_t a = sc_dtype_load_i64(got->dtype, got->data, i);
    int64_t e = sc_dtype_load_i64(want->dtype, want->data, i);
    double v = sc_dtype_load(y->dtype, y->data, i) / (double)y_scale;
    double frac = fabs(v) - floor(fabs(v));
    int exact_tie = islands[k].exact && frac == 0.5;
    int flips = exact_tie && round(v) != nearbyint(v);
    if (flips && rounding == SC_EMULATE_HALF_AWAY_FROM_ZERO) {
      /* the emulation must round away (saturating like the fake) */
      int64_t expect = e + (int64_t)(round(v) - nearbyint(v));
      expect = expect < qmin ? qmin : expect > qmax ? qmax : expect;
      if (a != expect)
        fail_msg("%s element %lld: v = %.6f is a tie; emulated %lld, fake "
                 "%lld, half away from zero gives %lld",
                 islands[k].node, (long long)i, v, (long long)a, (long long)e,
                 (long long)expect);
      if (a != e)
        t->n_ties_flipped++;
      t->n_diff += a != e;
      continue;
    }
    if (a == e)
      continue;
    t->n_diff++;
    if (a - e > 1 || e - a > 1)
      fail_msg("%s element %lld: emulated %lld, fake %lld: more than 1 LSB",
               islands[k].node, (long long)i, (long long)a, (long long)e);
    if (islands[k].exact && rounding == SC_EMULATE_HALF_EVEN)
      fail_msg("%s element %lld: v = %.6f is exact, yet half_even gives "
               "%lld and fake quantization %lld",
               islands[k].node, (long long)i, v, (long long)a, (long long)e);
    if (fabs(frac - 0.5) > 1.0 / 64)
      fail_msg("%s element %lld: v = %.6f is not near a tie, yet emulated "
               "%lld differs from fake %lld",
               islands[k].node, (long long)i, v, (long long)a, (long long)e);
    t->n_near_tie_diff++;
  }
  sc_tensor_free(got);
}

static void emulation_vs_fake(enum sc_emulate_rounding rounding,
                              struct tally *total)
{
  struct sc_graph *fake = load_emu_net();
  struct sc_graph *emu = emulated(rounding, NULL);
  struct sc_tensor *x = NULL, *out_fake[1] = {NULL}, *out_emu[1] = {NULL};
  struct sc_test_capture cf, ce;
  int k;
  int64_t i, worst = 0;

  memset(total, 0, sizeof *total);
  assert_int_equal(sc_npy_load(QUANT_DATA "/emu_input.npy", &x, NULL), SC_OK);
  sc_test_capture_run(fake, x, &cf, out_fake);
  for (k = 0; k < N_ISLANDS; k++) {
    struct tally t = {0, 0, 0};
    compare_island(emu, &cf, k, rounding, &t);
    print_message("%-8s %s: %lld differ (%lld exact ties rounded away, "
                  "%lld next to a tie), each by 1 LSB\n",
                  islands[k].node, sc_emulate_rounding_name(rounding),
                  (long long)t.n_diff, (long long)t.n_ties_flipped,
                  (long long)t.n_near_tie_diff);
    total->n_diff += t.n_diff;
    total->n_ties_flipped += t.n_ties_flipped;
    total->n_near_tie_diff += t.n_near_tie_diff;
  }
  /* end to end: the accumulated difference of the model output, in LSB of
   * its scale (2^-3) */
  sc_test_capture_run(emu, x, &ce, out_emu);
  for (i = 0; i < out_fake[0]->n_elements; i++) {
    double d =
        fabs(((float *)out_emu[0]->data)[i] - ((float *)out_fake[0]->data)[i]) /
        0.125;
    worst = (int64_t)d > worst ? (int64_t)d : worst;
  }
  print_message("output   %s: at most %lld LSB from fake quantization "
                "after %d emulated layers\n",
                sc_emulate_rounding_name(rounding), (long long)worst,
                N_ISLANDS);
  sc_test_capture_free(&cf);
  sc_test_capture_free(&ce);
  sc_tensor_free(out_fake[0]);
  sc_tensor_free(out_emu[0]);
  sc_tensor_free(x);
  sc_graph_free(fake);
  sc_graph_free(emu);
}

static void test_half_even_emulation_equals_exact_fake_quantization(void **s)
{
  struct tally t;
  (void)s;
  emulation_vs_fake(SC_EMULATE_HALF_EVEN, &t);
  assert_int_equal(t.n_ties_flipped, 0);
}

static void test_half_away_emulation_differs_only_at_ties(void **s)
{
  struct tally t;
  (void)s;
  emulation_vs_fake(SC_EMULATE_HALF_AWAY_FROM_ZERO, &t);
  /* the data has ties: the test sees the rounding at work */
  assert_true(t.n_ties_flipped > 10);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantize_multiplier_hand_values),
      cmocka_unit_test(test_gemmlowp_primitives_round_like_the_reference),
      cmocka_unit_test(test_multiply_rounding_modes),
      cmocka_unit_test(test_rounding_names),
      cmocka_unit_test(test_rewrite_replaces_every_island),
      cmocka_unit_test(test_rewrite_leaves_a_float_graph_alone),
      cmocka_unit_test(test_rewrite_of_a_prepared_graph),
      cmocka_unit_test(
          test_emulated_node_rejects_bad_rounding_and_missing_scale),
      cmocka_unit_test(test_half_even_emulation_equals_exact_fake_quantization),
      cmocka_unit_test(test_half_away_emulation_differs_only_at_ties),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
