/* model_profile: where stagecheck's runtime spends its time on one model,
 * and how much arithmetic the model needs (bench/README.md).
 *
 *   model_profile [--threads N] [--warmup N] [--runs N] [--top N] [--json]
 *                 [--plain] MODEL.onnx IN.npy
 *
 * Loads MODEL (timed), prepares it (timed), runs it --warmup times (default
 * 1) and then --runs times (default 1) with an observer that timestamps
 * every node: the
 * time between two observer calls is the time of the node in between.
 * Prints the load/prepare/run times, a table per operator type (time, share,
 * multiply-accumulates, GFLOP/s) and the --top slowest nodes (default 10).
 *
 * Multiply-accumulates (MACs) are counted from the shapes seen at run time
 * for Conv, ConvInteger, QLinearConv, ConvTranspose, MatMul, MatMulInteger,
 * QLinearMatMul and Gemm; FLOPs = 2 x MACs. Other operators count 0.
 * --json prints one JSON object instead of tables (used by run.sh).
 *
 * --plain runs as `stagecheck run` does: the graph prepared for plain runs
 * (sc_graph.plain_runs: aliases, Relu fused into Conv) and no observer, so
 * only the whole run is timed (the per-node times are 0); one more run
 * with the observer, not timed, gives the shapes for the MAC count.
 *
 * Links the project's runtime and loaders from build-bench; built by
 * bench/run.sh. Exits 0, or 1 with the runtime's message on stderr. Not part
 * of the product. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/executor.h"
#include "runtime/threadpool.h"

struct value_shape {
  int known;
  int rank;
  int64_t dims[SC_MAX_RANK];
};

struct node_stat {
  double seconds; /* summed over measured runs */
  double macs;    /* per run */
};

struct profile {
  const struct sc_graph *g;
  struct value_shape *shapes; /* one per graph value */
  struct node_stat *nodes;    /* one per node */
  int measuring;              /* 0 during the warm-up run */
  double stamp;               /* end of the previous node */
};

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void shape_set(struct value_shape *s, int rank, const int64_t *dims)
{
  s->known = 1;
  s->rank = rank;
  memcpy(s->dims, dims, (size_t)rank * sizeof *dims);
}

static double shape_elements(const struct value_shape *s)
{
  double n = 1.0;
  int i;
  for (i = 0; i < s->rank; i++)
    n *= (double)s->dims[i];
  return n;
}

/* Shape of input slot `slot` of a node, or NULL when unknown. */
static const struct value_shape *
input_shape(const struct profile *p, const struct sc_node *node, int slot)
{
  int v;
  if (slot >= node->n_inputs || (v = node->inputs[slot]) < 0)
    return NULL;
  return p->shapes[v].known ? &p->shapes[v] : NULL;
}

/* Weight elements per output channel of a convolution weight
 * [C_out, C_in/group, k...]: C_in/group * prod(k). */
static double conv_weight_fan(const struct value_shape *w)
{
  double fan = 1.0;
  int i;
  for (i = 1; i < w->rank; i++)
    fan *= (double)w->dims[i];
  return fan;
}

static int attr_int(const struct sc_node *node, const char *name, int fallback)
{
  int i;
  for (i = 0; i < node->n_attrs; i++)
    if (strcmp(node->attrs[i].name, name) == 0)
      return (int)node->attrs[i].i;
  return fallback;
}

/* MACs of one node from the shapes known after it ran (0 for operators
 * that are not matrix products or convolutions). */
static double node_macs(const struct profile *p, const struct sc_node *node)
{
  const char *op = node->op_type;
  const struct value_shape *out, *a, *w;

  if (node->n_outputs < 1 || node->outputs[0] < 0 ||
      !p->shapes[node->outputs[0]].known)
    return 0.0;
  out = &p->shapes[node->outputs[0]];
  if (!strcmp(op, "Conv") || !strcmp(op, "ConvInteger")) {
    w = input_shape(p, node, 1);
    return w ? shape_elements(out) * conv_weight_fan(w) : 0.0;
  }
  if (!strcmp(op, "QLinearConv")) {
    w = input_shape(p, node, 3);
    return w ? shape_elements(out) * conv_weight_fan(w) : 0.0;
  }
  if (!strcmp(op, "ConvTranspose")) {
    /* every input element meets C_out/group * prod(k) weights */
    a = input_shape(p, node, 0);
    w = input_shape(p, node, 1);
    return a && w ? shape_elements(a) * conv_weight_fan(w) : 0.0;
  }
  if (!strcmp(op, "MatMul") || !strcmp(op, "MatMulInteger") ||
      !strcmp(op, "QLinearMatMul")) {
    a = input_shape(p, node, 0);
    return a && a->rank >= 1 ? shape_elements(out) * a->dims[a->rank - 1] : 0.0;
  }
  if (!strcmp(op, "Gemm")) {
    a = input_shape(p, node, 0);
    if (!a || a->rank != 2)
      return 0.0;
    return shape_elements(out) * a->dims[attr_int(node, "transA", 0) ? 0 : 1];
  }
  return 0.0;
}

/* Observer: charges the time since the previous node to this one, records
 * its output shapes and MACs. Never fails. */
static sc_status profile_observe(void *user, const struct sc_graph *g,
                                 int node_index,
                                 struct sc_tensor *const *outputs,
                                 struct sc_error *err)
{
  struct profile *p = user;
  const struct sc_node *node = &g->nodes[node_index];
  double t = now_seconds();
  int i;

  if (p->measuring)
    p->nodes[node_index].seconds += t - p->stamp;
  for (i = 0; i < node->n_outputs; i++)
    if (node->outputs[i] >= 0 && outputs[i])
      shape_set(&p->shapes[node->outputs[i]], outputs[i]->rank,
                outputs[i]->dims);
  p->nodes[node_index].macs = node_macs(p, node);
  p->stamp = now_seconds();
  return SC_OK;
}

struct op_row {
  const char *op_type;
  double seconds, macs;
  int count;
};

static int by_seconds_desc(const void *x, const void *y)
{
  const struct op_row *a = x, *b = y;
  return (a->seconds < b->seconds) - (a->seconds > b->seconds);
}

struct node_row {
  int index;
  double seconds;
};

static int node_by_seconds_desc(const void *x, const void *y)
{
  const struct node_row *a = x, *b = y;
  return (a->seconds < b->seconds) - (a->seconds > b->seconds);
}

/* Groups node times by operator type into rows (caller frees). */
static struct op_row *group_by_op(const struct profile *p, int *n_rows)
{
  const struct sc_graph *g = p->g;
  struct op_row *rows = calloc((size_t)g->n_nodes + 1, sizeof *rows);
  int i, j, n = 0;

  if (!rows)
    return NULL;
  for (i = 0; i < g->n_nodes; i++) {
    for (j = 0; j < n; j++)
      if (strcmp(rows[j].op_type, g->nodes[i].op_type) == 0)
        break;
    if (j == n)
      rows[n++].op_type = g->nodes[i].op_type;
    rows[j].seconds += p->nodes[i].seconds;
    rows[j].macs += p->nodes[i].macs;
    rows[j].count++;
  }
  qsort(rows, (size_t)n, sizeof *rows, by_seconds_desc);
  *n_rows = n;
  return rows;
}

static void json_string(const char *s)
{
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      printf("\\u%04x", *s);
    else
      putchar(*s);
  }
  putchar('"');
}

struct timings {
  double load, prepare, run; /* seconds; run is the mean of measured runs */
  int runs, threads;
};

static void print_tables(const struct profile *p, const struct timings *t,
                         int top, int as_json)
{
  const struct sc_graph *g = p->g;
  struct op_row *rows;
  struct node_row *nodes = calloc((size_t)g->n_nodes + 1, sizeof *nodes);
  double total_macs = 0.0, node_seconds = 0.0;
  int i, n_rows = 0;

  rows = group_by_op(p, &n_rows);
  if (!rows || !nodes) {
    fprintf(stderr, "model_profile: out of memory\n");
    free(rows);
    free(nodes);
    return;
  }
  for (i = 0; i < g->n_nodes; i++) {
    nodes[i].index = i;
    nodes[i].seconds = p->nodes[i].seconds / t->runs;
    total_macs += p->nodes[i].macs;
    node_seconds += nodes[i].seconds;
  }
  qsort(nodes, (size_t)g->n_nodes, sizeof *nodes, node_by_seconds_desc);
  if (top > g->n_nodes)
    top = g->n_nodes;

  if (as_json) {
    printf("{\"load_s\":%.6f,\"prepare_s\":%.6f,\"run_s\":%.6f,"
           "\"node_s\":%.6f,\"gmacs\":%.6f,\"threads\":%d,\"ops\":[",
           t->load, t->prepare, t->run, node_seconds, total_macs * 1e-9,
           t->threads);
    for (i = 0; i < n_rows; i++) {
      printf(i ? ",{\"op\":" : "{\"op\":");
      json_string(rows[i].op_type);
      printf(",\"count\":%d,\"s\":%.6f,\"gmacs\":%.6f}", rows[i].count,
             rows[i].seconds / t->runs, rows[i].macs * 1e-9);
    }
    printf("],\"nodes\":[");
    for (i = 0; i < top; i++) {
      const struct sc_node *node = &g->nodes[nodes[i].index];
      printf(i ? ",{\"name\":" : "{\"name\":");
      json_string(node->name);
      printf(",\"op\":");
      json_string(node->op_type);
      printf(",\"s\":%.6f,\"gmacs\":%.6f}", nodes[i].seconds,
             p->nodes[nodes[i].index].macs * 1e-9);
    }
    printf("]}\n");
    goto done;
  }

  printf("load %.3f s, prepare %.3f s, run %.3f s (mean of %d, %d threads; "
         "nodes %.3f s)\n",
         t->load, t->prepare, t->run, t->runs, t->threads, node_seconds);
  printf("%.3f GMAC = %.3f GFLOP per run; %.2f GFLOP/s\n\n", total_macs * 1e-9,
         2e-9 * total_macs, t->run > 0 ? 2e-9 * total_macs / t->run : 0.0);
  printf("%-24s %6s %10s %7s %10s %9s\n", "operator", "nodes", "ms", "share",
         "GFLOP", "GFLOP/s");
  for (i = 0; i < n_rows; i++) {
    double ms = 1e3 * rows[i].seconds / t->runs;
    printf("%-24s %6d %10.2f %6.1f%% %10.3f", rows[i].op_type, rows[i].count,
           ms, node_seconds > 0 ? 100.0 * ms * 1e-3 / node_seconds : 0.0,
           2e-9 * rows[i].macs);
    if (rows[i].macs > 0 && ms > 0)
      printf(" %9.2f\n", 2e-9 * rows[i].macs / (ms * 1e-3));
    else
      printf(" %9s\n", "-");
  }
  printf("\ntop %d nodes by time:\n", top);
  for (i = 0; i < top; i++) {
    const struct sc_node *node = &g->nodes[nodes[i].index];
    const struct value_shape *out = node->n_outputs > 0 && node->outputs[0] >= 0
                                        ? &p->shapes[node->outputs[0]]
                                        : NULL;
    char shape[128] = "?";
    if (out && out->known)
      sc_shape_format(out->rank, out->dims, shape, sizeof shape);
    printf("%8.2f ms %5.1f%%  %-14s %-40s -> %s", 1e3 * nodes[i].seconds,
           node_seconds > 0 ? 100.0 * nodes[i].seconds / node_seconds : 0.0,
           node->op_type, node->name, shape);
    if (p->nodes[nodes[i].index].macs > 0 && nodes[i].seconds > 0)
      printf("  %.2f GFLOP/s",
             2e-9 * p->nodes[nodes[i].index].macs / nodes[i].seconds);
    putchar('\n');
  }
done:
  free(rows);
  free(nodes);
}

/* Shapes known before running: initializers and fully static values. */
static void shapes_seed(struct profile *p)
{
  const struct sc_graph *g = p->g;
  int i, j;
  for (i = 0; i < g->n_values; i++) {
    const struct sc_value *v = &g->values[i];
    int known = v->rank >= 0;
    if (v->initializer) {
      shape_set(&p->shapes[i], v->initializer->rank, v->initializer->dims);
      continue;
    }
    for (j = 0; known && j < v->rank; j++)
      known = v->dims[j] >= 0;
    if (known)
      shape_set(&p->shapes[i], v->rank, v->dims);
  }
}

static int usage(void)
{
  fprintf(stderr, "usage: model_profile [--threads N] [--warmup N] [--runs N] "
                  "[--top N] [--json] [--plain] MODEL.onnx IN.npy\n");
  return 1;
}

int main(int argc, char **argv)
{
  struct sc_error err = {0};
  struct sc_graph *g = NULL;
  struct sc_tensor *input = NULL;
  struct sc_threadpool *threads = NULL;
  struct profile p = {0};
  struct timings t = {0};
  struct sc_run_options options = {0};
  struct sc_feed feed;
  const char *model = NULL, *input_path = NULL;
  double t0;
  int i, top = 10, warmup = 1, as_json = 0, plain = 0, rc = 1;

  t.runs = 1;
  t.threads = 2;
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      t.threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
      t.runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc)
      warmup = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--top") && i + 1 < argc)
      top = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--json"))
      as_json = 1;
    else if (!strcmp(argv[i], "--plain"))
      plain = 1;
    else if (!model)
      model = argv[i];
    else if (!input_path)
      input_path = argv[i];
    else
      return usage();
  }
  if (!model || !input_path || t.threads < 1 || t.runs < 1 || warmup < 0 ||
      top < 0)
    return usage();

  t0 = now_seconds();
  if (sc_onnx_load(model, &g, &err))
    goto fail;
  t.load = now_seconds() - t0;
  g->plain_runs = plain;
  t0 = now_seconds();
  if (sc_graph_prepare(g, &err))
    goto fail;
  t.prepare = now_seconds() - t0;
  if (g->n_inputs != 1) {
    fprintf(stderr, "model_profile: %s: %d inputs; one is handled\n", model,
            g->n_inputs);
    goto done;
  }
  if (sc_npy_load(input_path, &input, &err) ||
      sc_threadpool_create(t.threads, &threads, &err))
    goto fail;

  p.g = g;
  p.shapes = calloc((size_t)g->n_values + 1, sizeof *p.shapes);
  p.nodes = calloc((size_t)g->n_nodes + 1, sizeof *p.nodes);
  if (!p.shapes || !p.nodes) {
    fprintf(stderr, "model_profile: out of memory\n");
    goto done;
  }
  shapes_seed(&p);
  shape_set(&p.shapes[g->inputs[0]], input->rank, input->dims);
  feed.name = g->values[g->inputs[0]].name;
  feed.tensor = input;
  options.threads = threads;
  if (!plain) {
    options.observer = profile_observe;
    options.observer_user = &p;
  }
  for (i = 0; i < warmup + t.runs; i++) {
    p.measuring = i >= warmup;
    t0 = now_seconds();
    p.stamp = t0;
    if (sc_graph_run(g, 1, &feed, NULL, &options, &err))
      goto fail;
    if (p.measuring)
      t.run += (now_seconds() - t0) / t.runs;
  }
  if (plain) { /* one more run, untimed, observed for the shapes */
    options.observer = profile_observe;
    options.observer_user = &p;
    p.measuring = 0;
    if (sc_graph_run(g, 1, &feed, NULL, &options, &err))
      goto fail;
  }
  print_tables(&p, &t, top, as_json);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "model_profile: %s\n", err.message);
done:
  free(p.shapes);
  free(p.nodes);
  sc_tensor_free(input);
  sc_threadpool_free(threads);
  sc_graph_free(g);
  return rc;
}
