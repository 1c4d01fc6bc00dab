/* Matching target tensors to reference tensors, on small graphs built here:
 * exact names, ONNX Runtime QDQ and QOperator naming, folded
 * BatchNormalization, fused activations, removed Identity/Dropout, NHWC
 * dumps, an explicit map, unmatched tensors, and isolated segments.
 *
 * Graphs are not run: values get the dtype and shape a prepare would
 * infer, set by hand, so only the matcher is under test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare/match.h"
#include "compare/segment.h"
#include "runtime/executor.h"
#include "tests/support/assertions.h"

#define F SC_DTYPE_FLOAT
#define I8 SC_DTYPE_INT8
#define U8 SC_DTYPE_UINT8

static struct sc_graph *graph_new(void)
{
  struct sc_graph *g;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  sc_graph_set_opset(g, "", 13, NULL);
  return g;
}

/* node(g, "Conv", "conv1", "x,w", "y"): comma-separated names */
static void node(struct sc_graph *g, const char *op, const char *name,
                 const char *ins, const char *outs)
{
  char buf_in[512], buf_out[512], *save, *tok;
  const char *in[16], *out[16];
  int n_in = 0, n_out = 0;
  snprintf(buf_in, sizeof buf_in, "%s", ins);
  snprintf(buf_out, sizeof buf_out, "%s", outs);
  for (tok = strtok_r(buf_in, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save))
    in[n_in++] = tok;
  for (tok = strtok_r(buf_out, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save))
    out[n_out++] = tok;
  assert_int_equal(
      sc_graph_add_node(g, name, op, "", n_in, in, n_out, out, NULL, NULL),
      SC_OK);
}

static void shape4(struct sc_graph *g, const char *name, enum sc_dtype d,
                   int64_t n, int64_t c, int64_t h, int64_t w)
{
  int v = sc_graph_find_value(g, name);
  if (v < 0)
    fail_msg("no value %s", name);
  g->values[v].dtype = d;
  g->values[v].rank = 4;
  g->values[v].dims[0] = n;
  g->values[v].dims[1] = c;
  g->values[v].dims[2] = h;
  g->values[v].dims[3] = w;
}

static void input4(struct sc_graph *g, const char *name, int64_t c, int64_t h,
                   int64_t w)
{
  int64_t dims[4] = {1, c, h, w};
  assert_int_equal(sc_graph_add_input(g, name, F, 4, dims, NULL), SC_OK);
}

static void weight(struct sc_graph *g, const char *name, enum sc_dtype d)
{
  int64_t dims[1] = {4};
  struct sc_tensor *t;
  assert_int_equal(sc_tensor_create(d, 1, dims, &t, NULL), SC_OK);
  assert_int_equal(sc_graph_add_initializer(g, name, t, NULL), SC_OK);
}

static void finish(struct sc_graph *g, const char *output)
{
  struct sc_error err;
  assert_int_equal(sc_graph_add_output(g, output, NULL), SC_OK);
  if (sc_graph_sort(g, &err) != SC_OK)
    fail_msg("%s", err.message);
}

struct pair_view {
  struct sc_view *ref, *tgt;
  struct sc_match *m;
};

static void match_graphs(struct sc_graph *ref, struct sc_graph *tgt,
                         struct pair_view *p,
                         const struct sc_match_options *options)
{
  struct sc_error err;
  assert_int_equal(sc_view_from_graph(ref, &p->ref, &err), SC_OK);
  assert_int_equal(sc_view_from_graph(tgt, &p->tgt, &err), SC_OK);
  assert_int_equal(sc_match_views(p->ref, p->tgt, options, &p->m, &err), SC_OK);
}

static void pair_view_free(struct pair_view *p)
{
  sc_match_free(p->m);
  sc_view_free(p->ref);
  sc_view_free(p->tgt);
}

/* Asserts row i pairs target name t with reference name r. */
static void assert_row(const struct pair_view *p, int i, const char *t,
                       const char *r)
{
  if (i >= p->m->n_rows)
    fail_msg("row %d missing (have %d) for %s", i, p->m->n_rows, t);
  if (strcmp(p->tgt->tensors[p->m->rows[i].target].name, t) != 0 ||
      strcmp(p->ref->tensors[p->m->rows[i].reference].name, r) != 0)
    fail_msg("row %d is %s <- %s, expected %s <- %s", i,
             p->tgt->tensors[p->m->rows[i].target].name,
             p->ref->tensors[p->m->rows[i].reference].name, t, r);
}

/* float reference: x -> Conv -> y -> Relu -> r */
static struct sc_graph *float_conv_relu(void)
{
  struct sc_graph *g = graph_new();
  input4(g, "x", 3, 8, 8);
  weight(g, "w", F);
  node(g, "Conv", "conv", "x,w", "y");
  node(g, "Relu", "relu", "y", "r");
  shape4(g, "y", F, 1, 4, 8, 8);
  shape4(g, "r", F, 1, 4, 8, 8);
  finish(g, "r");
  return g;
}

/* The same network as ONNX Runtime's QDQ quantizer writes it. */
static struct sc_graph *qdq_conv_relu(void)
{
  struct sc_graph *g = graph_new();
  input4(g, "x", 3, 8, 8);
  weight(g, "x_scale", F);
  weight(g, "x_zero_point", I8);
  weight(g, "w_quantized", I8);
  weight(g, "w_scale", F);
  node(g, "QuantizeLinear", "x_QuantizeLinear", "x,x_scale,x_zero_point",
       "x_QuantizeLinear_Output");
  node(g, "DequantizeLinear", "x_DequantizeLinear",
       "x_QuantizeLinear_Output,x_scale,x_zero_point",
       "x_DequantizeLinear_Output");
  node(g, "DequantizeLinear", "w_DequantizeLinear", "w_quantized,w_scale",
       "w_DequantizeLinear_Output");
  node(g, "Conv", "conv", "x_DequantizeLinear_Output,w_DequantizeLinear_Output",
       "y");
  node(g, "QuantizeLinear", "y_QuantizeLinear", "y,x_scale,x_zero_point",
       "y_QuantizeLinear_Output");
  node(g, "DequantizeLinear", "y_DequantizeLinear",
       "y_QuantizeLinear_Output,x_scale,x_zero_point",
       "y_DequantizeLinear_Output");
  node(g, "Relu", "relu", "y_DequantizeLinear_Output", "r");
  node(g, "QuantizeLinear", "r_QuantizeLinear", "r,x_scale,x_zero_point",
       "r_QuantizeLinear_Output");
  node(g, "DequantizeLinear", "r_DequantizeLinear",
       "r_QuantizeLinear_Output,x_scale,x_zero_point",
       "r_DequantizeLinear_Output");
  shape4(g, "x_QuantizeLinear_Output", I8, 1, 3, 8, 8);
  shape4(g, "x_DequantizeLinear_Output", F, 1, 3, 8, 8);
  shape4(g, "w_DequantizeLinear_Output", F, 1, 4, 1, 1);
  shape4(g, "y", F, 1, 4, 8, 8);
  shape4(g, "y_QuantizeLinear_Output", I8, 1, 4, 8, 8);
  shape4(g, "y_DequantizeLinear_Output", F, 1, 4, 8, 8);
  shape4(g, "r", F, 1, 4, 8, 8);
  shape4(g, "r_QuantizeLinear_Output", I8, 1, 4, 8, 8);
  shape4(g, "r_DequantizeLinear_Output", F, 1, 4, 8, 8);
  finish(g, "r_DequantizeLinear_Output");
  return g;
}

static void test_match_identical_names(void **state)
{
  struct sc_graph *a = float_conv_relu(), *b = float_conv_relu();
  struct pair_view p;
  (void)state;
  match_graphs(a, b, &p, NULL);
  assert_int_equal(p.m->n_rows, 3);
  assert_row(&p, 0, "x", "x");
  assert_row(&p, 1, "y", "y");
  assert_row(&p, 2, "r", "r");
  assert_int_equal(p.m->rows[1].how, SC_MATCH_NAME);
  assert_int_equal(p.m->n_unmatched_target, 0);
  assert_int_equal(p.m->n_unmatched_reference, 0);
  assert_true(sc_match_ratio(p.m) == 1.0);
  pair_view_free(&p);
  sc_graph_free(a);
  sc_graph_free(b);
}

static void test_match_qdq_target_uses_quantized_view(void **state)
{
  struct sc_graph *ref = float_conv_relu(), *tgt = qdq_conv_relu();
  struct pair_view p;
  (void)state;
  match_graphs(ref, tgt, &p, NULL);
  /* the input, its quantized view, then each layer's DequantizeLinear
   * output; the pre-quantization y and r are not rows of their own */
  assert_int_equal(p.m->n_rows, 4);
  assert_row(&p, 0, "x", "x");
  assert_row(&p, 1, "x_DequantizeLinear_Output", "x");
  assert_row(&p, 2, "y_DequantizeLinear_Output", "y");
  assert_int_equal(p.m->rows[2].how, SC_MATCH_CANONICAL);
  assert_row(&p, 3, "r_DequantizeLinear_Output", "r");
  assert_int_equal(p.m->n_unmatched_target, 0);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_match_qoperator_integer_tensor_to_quantized_view(void **state)
{
  struct sc_graph *ref = qdq_conv_relu(), *tgt = graph_new();
  struct pair_view p;
  (void)state;
  input4(tgt, "x", 3, 8, 8);
  weight(tgt, "s", F);
  weight(tgt, "z", U8);
  weight(tgt, "w_quantized", I8);
  node(tgt, "QuantizeLinear", "q", "x,s,z", "x_quantized");
  node(tgt, "QLinearConv", "conv_quant", "x_quantized,s,z,w_quantized,s,z,s,z",
       "y_quantized");
  node(tgt, "QLinearLeakyRelu", "relu_quant", "y_quantized,s,z,s,z",
       "r_quantized");
  node(tgt, "DequantizeLinear", "out", "r_quantized,s,z", "r_out");
  shape4(tgt, "x_quantized", U8, 1, 3, 8, 8);
  shape4(tgt, "y_quantized", U8, 1, 4, 8, 8);
  shape4(tgt, "r_quantized", U8, 1, 4, 8, 8);
  shape4(tgt, "r_out", F, 1, 4, 8, 8);
  finish(tgt, "r_out");
  match_graphs(ref, tgt, &p, NULL);
  /* integer tensors pair with the reference's quantized views */
  assert_row(&p, 0, "x", "x");
  assert_row(&p, 1, "x_quantized", "x_DequantizeLinear_Output");
  assert_row(&p, 2, "y_quantized", "y_DequantizeLinear_Output");
  assert_row(&p, 3, "r_out", "r_DequantizeLinear_Output");
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

/* x -> Conv -> c -> BatchNormalization -> b -> Relu -> r -> Conv -> o */
static struct sc_graph *conv_bn_relu_conv(void)
{
  struct sc_graph *g = graph_new();
  input4(g, "x", 3, 8, 8);
  weight(g, "w1", F);
  weight(g, "w2", F);
  weight(g, "bn_scale", F);
  node(g, "Conv", "conv1", "x,w1", "c");
  node(g, "BatchNormalization", "bn", "c,bn_scale,bn_scale,bn_scale,bn_scale",
       "b");
  node(g, "Relu", "relu", "b", "r");
  node(g, "Conv", "conv2", "r,w2", "o");
  shape4(g, "c", F, 1, 4, 8, 8);
  shape4(g, "b", F, 1, 4, 8, 8);
  shape4(g, "r", F, 1, 4, 8, 8);
  shape4(g, "o", F, 1, 2, 4, 4);
  finish(g, "o");
  return g;
}

static void test_match_folded_batchnorm_by_structure(void **state)
{
  struct sc_graph *ref = conv_bn_relu_conv(), *tgt = graph_new();
  struct pair_view p;
  (void)state;
  input4(tgt, "x", 3, 8, 8);
  weight(tgt, "fw1", F);
  weight(tgt, "fw2", F);
  node(tgt, "Conv", "fused_0", "x,fw1", "t1");
  node(tgt, "Relu", "act_1", "t1", "t2");
  node(tgt, "Conv", "fused_2", "t2,fw2", "t3");
  shape4(tgt, "t1", F, 1, 4, 8, 8);
  shape4(tgt, "t2", F, 1, 4, 8, 8);
  shape4(tgt, "t3", F, 1, 2, 4, 4);
  finish(tgt, "t3");
  match_graphs(ref, tgt, &p, NULL);
  assert_int_equal(p.m->n_rows, 4);
  assert_row(&p, 1, "t1", "b"); /* the folded conv is the BN output */
  assert_int_equal(p.m->rows[1].how, SC_MATCH_STRUCTURE);
  assert_row(&p, 2, "t2", "r");
  assert_row(&p, 3, "t3", "o");
  assert_int_equal(p.m->n_unmatched_reference, 0);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_match_fused_activation_lands_on_its_output(void **state)
{
  struct sc_graph *ref = conv_bn_relu_conv(), *tgt = graph_new();
  struct pair_view p;
  (void)state;
  input4(tgt, "x", 3, 8, 8);
  weight(tgt, "fw1", F);
  weight(tgt, "fw2", F);
  node(tgt, "Conv", "conv_bn_relu", "x,fw1", "f"); /* Relu fused in */
  node(tgt, "Conv", "conv_b", "f,fw2", "o2");
  shape4(tgt, "f", F, 1, 4, 8, 8);
  shape4(tgt, "o2", F, 1, 2, 4, 4);
  finish(tgt, "o2");
  match_graphs(ref, tgt, &p, NULL);
  assert_int_equal(p.m->n_rows, 3);
  assert_row(&p, 1, "f", "r");
  assert_row(&p, 2, "o2", "o");
  /* the reference's pre-activation output has no counterpart */
  assert_int_equal(p.m->n_unmatched_reference, 1);
  assert_string_equal(p.ref->tensors[p.m->unmatched_reference[0]].name, "b");
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_match_removed_identity_dropout_cast(void **state)
{
  struct sc_graph *ref = graph_new(), *tgt = float_conv_relu();
  struct pair_view p;
  (void)state;
  input4(ref, "x", 3, 8, 8);
  weight(ref, "w", F);
  node(ref, "Conv", "conv0", "x,w", "c");
  node(ref, "Identity", "id", "c", "i");
  node(ref, "Dropout", "drop", "i", "d");
  node(ref, "Cast", "cast", "d", "k");
  node(ref, "Relu", "act", "k", "a");
  shape4(ref, "c", F, 1, 4, 8, 8);
  shape4(ref, "i", F, 1, 4, 8, 8);
  shape4(ref, "d", F, 1, 4, 8, 8);
  shape4(ref, "k", F, 1, 4, 8, 8);
  shape4(ref, "a", F, 1, 4, 8, 8);
  finish(ref, "a");
  match_graphs(ref, tgt, &p, NULL);
  assert_int_equal(p.m->n_rows, 3);
  assert_row(&p, 1, "y", "k");
  assert_row(&p, 2, "r", "a");
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_match_dump_by_name_with_nhwc_layout(void **state)
{
  struct sc_graph *ref = qdq_conv_relu();
  struct sc_view *rv, *dv;
  struct sc_match *m;
  struct sc_view_tensor entries[2];
  struct sc_error err;
  (void)state;
  memset(entries, 0, sizeof entries);
  /* a device dump: stems of the names, int8, one of them NHWC */
  entries[0].name = "r_DequantizeLinear_Output";
  entries[0].dtype = I8;
  entries[0].rank = 4;
  entries[0].dims[0] = 1, entries[0].dims[1] = 4, entries[0].dims[2] = 8,
  entries[0].dims[3] = 8;
  entries[1].name = "y";
  entries[1].dtype = I8;
  entries[1].rank = 4;
  entries[1].dims[0] = 1, entries[1].dims[1] = 8, entries[1].dims[2] = 8,
  entries[1].dims[3] = 4;
  entries[1].layout_nhwc = 1;
  assert_int_equal(sc_view_from_graph(ref, &rv, &err), SC_OK);
  assert_int_equal(sc_view_from_list(entries, 2, &dv, &err), SC_OK);
  assert_int_equal(sc_match_views(rv, dv, NULL, &m, &err), SC_OK);
  assert_int_equal(m->n_rows, 2);
  /* rows follow the reference's order: y before r */
  assert_string_equal(dv->tensors[m->rows[0].target].name, "y");
  assert_string_equal(rv->tensors[m->rows[0].reference].name,
                      "y_DequantizeLinear_Output");
  assert_int_equal(m->rows[0].layout, SC_LAYOUT_NHWC_TO_NCHW);
  assert_string_equal(rv->tensors[m->rows[1].reference].name,
                      "r_DequantizeLinear_Output");
  sc_match_free(m);
  sc_view_free(rv);
  sc_view_free(dv);
  sc_graph_free(ref);
}

static void test_match_explicit_map_and_unmatched(void **state)
{
  struct sc_graph *ref = float_conv_relu(), *tgt = graph_new();
  struct pair_view p;
  static const char *const map_t[] = {"mystery"};
  static const char *const map_r[] = {"y"};
  struct sc_match_options opt = {1, map_t, map_r};
  (void)state;
  /* a target whose first layer is a different operator: no structure */
  input4(tgt, "x", 3, 8, 8);
  node(tgt, "MaxPool", "pool", "x", "mystery");
  node(tgt, "Sigmoid", "side", "mystery", "extra");
  shape4(tgt, "mystery", F, 1, 4, 8, 8);
  shape4(tgt, "extra", F, 1, 4, 8, 8);
  finish(tgt, "extra");
  match_graphs(ref, tgt, &p, &opt);
  assert_row(&p, 1, "mystery", "y");
  assert_int_equal(p.m->rows[1].how, SC_MATCH_MAP);
  /* nothing is guessed for the rest */
  assert_int_equal(p.m->n_unmatched_target, 1);
  assert_string_equal(p.tgt->tensors[p.m->unmatched_target[0]].name, "extra");
  assert_int_equal(p.m->n_unmatched_reference, 1);
  assert_string_equal(p.ref->tensors[p.m->unmatched_reference[0]].name, "r");
  assert_true(sc_match_ratio(p.m) < 1.0);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_match_incompatible_shapes_are_not_paired(void **state)
{
  struct sc_graph *ref = float_conv_relu(), *tgt = float_conv_relu();
  struct pair_view p;
  int v = sc_graph_find_value(tgt, "r");
  (void)state;
  tgt->values[v].dims[1] = 5; /* same name, other shape */
  match_graphs(ref, tgt, &p, NULL);
  assert_int_equal(p.m->n_rows, 2);
  assert_int_equal(p.m->n_unmatched_target, 1);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_segment_of_qdq_layer_starts_at_its_input(void **state)
{
  struct sc_graph *ref = float_conv_relu(), *tgt = qdq_conv_relu();
  struct pair_view p;
  struct sc_segment *s;
  const char *reason;
  struct sc_error err;
  int i, n_ops = 0;
  char ops[256] = "";
  (void)state;
  match_graphs(ref, tgt, &p, NULL);
  /* row 3: r_DequantizeLinear_Output = DQ(Q(Relu(y_dq))), y_dq fed with
   * the reference's y: the error of this layer alone (its input's
   * quantization is the previous row's) */
  assert_int_equal(sc_segment_build(p.tgt, p.m, 3, 1, &s, &reason, &err),
                   SC_OK);
  assert_non_null(s);
  for (i = 0; i < tgt->n_nodes; i++)
    if (s->node_mask[i]) {
      n_ops++;
      strcat(ops, tgt->nodes[i].name);
      strcat(ops, " ");
    }
  assert_int_equal(s->n_feeds, 1);
  assert_string_equal(tgt->values[s->feeds[0].value].name,
                      "y_DequantizeLinear_Output");
  assert_string_equal(p.ref->tensors[s->feeds[0].reference].name, "y");
  if (n_ops != 3)
    fail_msg("segment nodes: %s", ops);
  assert_non_null(strstr(ops, "r_QuantizeLinear"));
  assert_non_null(strstr(ops, "relu"));
  assert_null(strstr(ops, "y_QuantizeLinear"));
  assert_null(strstr(ops, "conv"));
  sc_segment_free(s);

  /* the input row cannot be isolated */
  assert_int_equal(sc_segment_build(p.tgt, p.m, 0, 1, &s, &reason, &err),
                   SC_OK);
  assert_null(s);
  assert_non_null(reason);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_segment_includes_weight_dequantization(void **state)
{
  struct sc_graph *ref = float_conv_relu(), *tgt = qdq_conv_relu();
  struct pair_view p;
  struct sc_segment *s;
  const char *reason;
  struct sc_error err;
  int w = -1, i;
  (void)state;
  match_graphs(ref, tgt, &p, NULL);
  assert_int_equal(sc_segment_build(p.tgt, p.m, 2, 1, &s, &reason, &err),
                   SC_OK);
  assert_non_null(s);
  for (i = 0; i < tgt->n_nodes; i++)
    if (strcmp(tgt->nodes[i].name, "w_DequantizeLinear") == 0)
      w = i;
  assert_true(w >= 0 && s->node_mask[w]);
  assert_int_equal(s->n_feeds, 1);
  sc_segment_free(s);
  pair_view_free(&p);
  sc_graph_free(ref);
  sc_graph_free(tgt);
}

static void test_canonical_names(void **state)
{
  char buf[128];
  (void)state;
  sc_canonical_name("conv1_out_DequantizeLinear_Output", buf, sizeof buf);
  assert_string_equal(buf, "conv1_out");
  sc_canonical_name("/stage1/conv/Conv_output_0_quantized", buf, sizeof buf);
  assert_string_equal(buf, "_stage1_conv_Conv_output_0");
  sc_canonical_name("x_QuantizeLinear_Output", buf, sizeof buf);
  assert_string_equal(buf, "x");
  assert_string_equal(sc_op_class("QLinearConv"), "Conv");
  assert_string_equal(sc_op_class("Gemm"), "MatMul");
}

/* Name lookup through the view's sorted index: the lowest index of a name
 * given twice, -1 for an absent one, over a dump of 5 000 names. */
static void test_view_find_name_index(void **state)
{
  enum { N = 5000 };
  struct sc_view_tensor *entries = calloc(N, sizeof *entries);
  char(*names)[16] = calloc(N, sizeof *names);
  struct sc_view *v = NULL;
  struct sc_error err;
  int i;
  (void)state;
  assert_non_null(entries);
  assert_non_null(names);
  for (i = 0; i < N; i++) { /* t4999 ... t0, then t7 again at the end */
    snprintf(names[i], sizeof names[i], "t%d", i < N - 1 ? N - 2 - i : 7);
    entries[i].name = names[i];
    entries[i].dtype = SC_DTYPE_FLOAT;
    entries[i].rank = 1;
    entries[i].dims[0] = 1;
  }
  assert_int_equal(sc_view_from_list(entries, N, &v, &err), SC_OK);
  for (i = 0; i < N - 1; i++) {
    char name[16];
    snprintf(name, sizeof name, "t%d", i);
    assert_int_equal(sc_view_find_name(v, name), N - 2 - i);
  }
  assert_int_equal(sc_view_find_name(v, "t7"), N - 2 - 7); /* not N - 1 */
  assert_int_equal(sc_view_find_name(v, "t"), -1);
  assert_int_equal(sc_view_find_name(v, "u0"), -1);
  assert_int_equal(sc_view_find_name(v, ""), -1);
  sc_view_free(v);
  free(entries);
  free(names);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_view_find_name_index),
      cmocka_unit_test(test_match_identical_names),
      cmocka_unit_test(test_match_qdq_target_uses_quantized_view),
      cmocka_unit_test(test_match_qoperator_integer_tensor_to_quantized_view),
      cmocka_unit_test(test_match_folded_batchnorm_by_structure),
      cmocka_unit_test(test_match_fused_activation_lands_on_its_output),
      cmocka_unit_test(test_match_removed_identity_dropout_cast),
      cmocka_unit_test(test_match_dump_by_name_with_nhwc_layout),
      cmocka_unit_test(test_match_explicit_map_and_unmatched),
      cmocka_unit_test(test_match_incompatible_shapes_are_not_paired),
      cmocka_unit_test(test_segment_of_qdq_layer_starts_at_its_input),
      cmocka_unit_test(test_segment_includes_weight_dequantization),
      cmocka_unit_test(test_canonical_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
