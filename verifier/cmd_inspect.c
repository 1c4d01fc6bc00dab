/* stagecheck inspect MODEL.onnx
 *
 * Prints a model's inputs and outputs, its operator histogram, its
 * quantization parameters and the operators the runtime does not support
 * (which `run` and `verify` would refuse with exit code 4). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/dump.h"
#include "loaders/file.h"
#include "loaders/onnx.h"
#include "runtime/executor.h"
#include "runtime/op.h"
#include "verifier/cli.h"

struct op_count {
  const char *domain;
  const char *op_type;
  int count;
  int supported;
};

static int compare_counts(const void *a, const void *b)
{
  const struct op_count *x = a, *y = b;
  if (x->count != y->count)
    return y->count - x->count;
  return strcmp(x->op_type, y->op_type);
}

static void print_value(const struct sc_graph *g, int v)
{
  const struct sc_value *val = &g->values[v];
  int i;
  printf("  %s: %s [", val->name, sc_dtype_name(val->dtype));
  if (val->rank < 0)
    printf("?");
  for (i = 0; i < val->rank; i++) {
    if (val->dims[i] < 0)
      printf("%s?", i ? "," : "");
    else
      printf("%s%lld", i ? "," : "", (long long)val->dims[i]);
  }
  printf("]\n");
}

/* Prints scale/zero point initializers of Q/DQ and QLinear nodes. */
static void print_quantization(const struct sc_graph *g)
{
  int i, n_q = 0, n_dq = 0, n_qlinear = 0, n_per_axis = 0;
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    if (strcmp(node->op_type, "QuantizeLinear") == 0)
      n_q++;
    else if (strcmp(node->op_type, "DequantizeLinear") == 0)
      n_dq++;
    else if (strncmp(node->op_type, "QLinear", 7) == 0 ||
             strstr(node->op_type, "Integer"))
      n_qlinear++;
    else
      continue;
    if (node->n_inputs > 1 && node->inputs[1] >= 0) {
      const struct sc_tensor *scale = g->values[node->inputs[1]].initializer;
      if (scale && scale->n_elements > 1)
        n_per_axis++;
    }
  }
  if (!n_q && !n_dq && !n_qlinear) {
    printf("quantization: none (float model)\n");
    return;
  }
  printf("quantization: %d QuantizeLinear, %d DequantizeLinear, %d integer "
         "operators; %d with per-axis scales\n",
         n_q, n_dq, n_qlinear, n_per_axis);
}

static int inspect_model(const char *path)
{
  struct sc_error err, prep_err;
  struct sc_graph *g = NULL;
  struct op_count *counts = NULL;
  int n_counts = 0, i, j;
  sc_status st, prep;

  sc_error_clear(&err);
  st = sc_onnx_load(path, &g, &err);
  if (st)
    return sc_cli_fail(&err);
  sc_error_clear(&prep_err);
  prep = sc_graph_prepare(g, &prep_err);
  if (prep && prep != SC_ERR_UNSUPPORTED) {
    sc_graph_free(g);
    return sc_cli_fail(&prep_err);
  }

  printf("model: %s\n", path);
  printf("producer: %s %s, IR version %lld\n",
         g->producer_name[0] ? g->producer_name : "(unknown)",
         g->producer_version, (long long)g->ir_version);
  printf("opsets:");
  for (i = 0; i < g->n_opsets; i++)
    printf(" %s=%lld", g->opsets[i].domain[0] ? g->opsets[i].domain : "ai.onnx",
           (long long)g->opsets[i].version);
  printf("\ninputs:\n");
  for (i = 0; i < g->n_inputs; i++)
    print_value(g, g->inputs[i]);
  printf("outputs:\n");
  for (i = 0; i < g->n_outputs; i++)
    print_value(g, g->outputs[i]);

  counts = calloc((size_t)g->n_nodes + 1, sizeof *counts);
  if (!counts) {
    sc_graph_free(g);
    sc_fail_nomem(&err, "inspect");
    return sc_cli_fail(&err);
  }
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    for (j = 0; j < n_counts; j++)
      if (strcmp(counts[j].op_type, node->op_type) == 0 &&
          strcmp(counts[j].domain, node->domain) == 0)
        break;
    if (j == n_counts) {
      counts[n_counts].domain = node->domain;
      counts[n_counts].op_type = node->op_type;
      counts[n_counts].supported =
          sc_op_lookup(node->domain, node->op_type,
                       sc_graph_opset(g, node->domain)) != NULL;
      n_counts++;
    }
    counts[j].count++;
  }
  qsort(counts, (size_t)n_counts, sizeof *counts, compare_counts);
  printf("operators (%d nodes):\n", g->n_nodes);
  for (i = 0; i < n_counts; i++)
    printf("  %5d  %s%s%s%s\n", counts[i].count, counts[i].domain,
           counts[i].domain[0] ? "." : "", counts[i].op_type,
           counts[i].supported ? "" : "  (unsupported)");
  print_quantization(g);
  if (prep == SC_ERR_UNSUPPORTED)
    printf("unsupported: %s\n", prep_err.message);
  else
    printf("unsupported: none\n");
  free(counts);
  sc_graph_free(g);
  return SC_EXIT_OK;
}

/* A dump directory: its tensors with dtype, shape, layout and scales. */
static int inspect_dump(const char *dir)
{
  struct sc_dump *d = NULL;
  struct sc_error err;
  int i, n_quant = 0;
  sc_error_clear(&err);
  if (sc_dump_open(dir, &d, &err) != SC_OK)
    return sc_cli_fail(&err);
  printf("dump: %s\ntensors: %d\n", dir, d->n_entries);
  for (i = 0; i < d->n_entries; i++) {
    const struct sc_dump_entry *e = &d->entries[i];
    char shape[256];
    printf("  %s: %s %s%s", e->name, sc_dtype_name(e->dtype),
           sc_shape_format(e->rank, e->dims, shape, sizeof shape),
           e->layout_nhwc ? " NHWC" : "");
    if (e->quant) {
      n_quant++;
      if (e->quant->n_params == 1)
        printf("  scale %.9g zero_point %lld", e->quant->scale[0],
               (long long)e->quant->zero_point[0]);
      else
        printf("  %lld scales on axis %d", (long long)e->quant->n_params,
               e->quant->axis);
    }
    printf("\n");
  }
  printf("quantization: %d of %d tensors carry scales\n", n_quant,
         d->n_entries);
  sc_dump_free(d);
  return SC_EXIT_OK;
}

int sc_cmd_inspect(int argc, char **argv)
{
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("Usage: stagecheck inspect MODEL.onnx|DUMP_DIR\n");
    return SC_EXIT_OK;
  }
  if (argc != 2)
    return sc_cli_usage_error("inspect", "expected one MODEL.onnx or "
                                         "DUMP_DIR");
  if (argv[1][0] == '-')
    return sc_cli_usage_error("inspect", "unknown option '%s'", argv[1]);
  if (sc_path_is_dir(argv[1]))
    return inspect_dump(argv[1]);
  return inspect_model(argv[1]);
}
