/* stagecheck run MODEL.onnx --input [NAME=]FILE... [--dump DIR] [--threads N]
 *
 * Runs one model on the given inputs. Without --dump it prints a summary of
 * each output; with --dump every tensor the graph computes (and its inputs)
 * is written as .npy with a manifest.json, the format `compare` reads. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/dump.h"
#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/executor.h"
#include "runtime/threadpool.h"
#include "verifier/cli.h"

#define MAX_INPUTS 64

struct run_args {
  const char *model;
  const char *inputs[MAX_INPUTS];
  int n_inputs;
  const char *dump_dir;
  int threads;
};

struct dump_observer {
  struct sc_dump_writer *writer;
};

static sc_status dump_node_outputs(void *user, const struct sc_graph *g,
                                   int node_index,
                                   struct sc_tensor *const *outputs,
                                   struct sc_error *err)
{
  struct dump_observer *obs = user;
  const struct sc_node *node = &g->nodes[node_index];
  int i;
  for (i = 0; i < node->n_outputs; i++) {
    const struct sc_value *v;
    sc_status st;
    if (node->outputs[i] < 0 || !outputs[i])
      continue;
    v = &g->values[node->outputs[i]];
    st = sc_dump_writer_add(obs->writer, v->name, outputs[i], node->name,
                            node->op_type, v->quant, err);
    if (st)
      return st;
  }
  return SC_OK;
}

/* Range, sum and finite count of a tensor, computed in blocks of
 * SUMMARY_BLOCK elements that the pool's threads share; the blocks are then
 * combined in order, so the figures do not depend on the thread count. */
#define SUMMARY_BLOCK 65536

struct summary_part {
  double lo, hi, sum;
  int64_t n_finite;
};

struct summary_job {
  const struct sc_tensor *t;
  struct summary_part *parts;
};

/* Eight sums side by side (a chain of dependent additions would take
 * 4 cycles an element), added up in a fixed order at the end. */
static void summarize_float(const float *x, int64_t n, struct summary_part *p)
{
  double sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  float lo = INFINITY, hi = -INFINITY;
  int64_t i = 0, j;
  for (; i + 8 <= n; i += 8) {
    float check = 0.0f;
    for (j = 0; j < 8; j++)
      check += x[i + j] * 0.0f; /* NaN when one is NaN or infinite */
    if (check != check)
      break;
    for (j = 0; j < 8; j++) {
      float v = x[i + j];
      sums[j] += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    p->n_finite += 8;
  }
  for (; i < n; i++) { /* the rest, from the first non-finite group on */
    float v = x[i];
    if (!isfinite(v))
      continue;
    p->n_finite++;
    sums[i % 8] += v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  for (j = 0; j < 8; j++)
    p->sum += sums[j];
  if (lo < p->lo)
    p->lo = lo;
  if (hi > p->hi)
    p->hi = hi;
}

static void summarize_blocks(void *ctx, int64_t begin, int64_t end)
{
  struct summary_job *job = ctx;
  const struct sc_tensor *t = job->t;
  int64_t b, i;

  for (b = begin; b < end; b++) {
    struct summary_part *p = &job->parts[b];
    int64_t lo = b * SUMMARY_BLOCK, hi = lo + SUMMARY_BLOCK;
    if (hi > t->n_elements)
      hi = t->n_elements;
    p->lo = INFINITY;
    p->hi = -INFINITY;
    p->sum = 0.0;
    p->n_finite = 0;
    if (t->dtype == SC_DTYPE_FLOAT) {
      summarize_float((const float *)t->data + lo, hi - lo, p);
      continue;
    }
    for (i = lo; i < hi; i++) {
      double v = sc_dtype_load(t->dtype, t->data, i);
      if (!isfinite(v))
        continue;
      p->n_finite++;
      p->sum += v;
      if (v < p->lo)
        p->lo = v;
      if (v > p->hi)
        p->hi = v;
    }
  }
}

/* Prints dtype, shape, range and the first values of a tensor. */
static sc_status print_summary(const char *name, const struct sc_tensor *t,
                               struct sc_threadpool *threads,
                               struct sc_error *err)
{
  char shape[256];
  struct summary_job job;
  struct summary_part all = {INFINITY, -INFINITY, 0.0, 0};
  int64_t i, n_blocks, shown;

  n_blocks = (t->n_elements + SUMMARY_BLOCK - 1) / SUMMARY_BLOCK;
  job.t = t;
  job.parts = malloc((size_t)(n_blocks ? n_blocks : 1) * sizeof *job.parts);
  if (!job.parts)
    return sc_fail_nomem(err, "output summary");
  sc_parallel_for(threads, n_blocks, 1, summarize_blocks, &job);
  for (i = 0; i < n_blocks; i++) {
    const struct summary_part *p = &job.parts[i];
    all.n_finite += p->n_finite;
    all.sum += p->sum;
    if (p->lo < all.lo)
      all.lo = p->lo;
    if (p->hi > all.hi)
      all.hi = p->hi;
  }
  free(job.parts);

  printf("%s: %s %s", name, sc_dtype_name(t->dtype),
         sc_shape_format(t->rank, t->dims, shape, sizeof shape));
  if (all.n_finite)
    printf("  min %.6g  max %.6g  mean %.6g", all.lo, all.hi,
           all.sum / (double)all.n_finite);
  if (all.n_finite < t->n_elements)
    printf("  non-finite %lld", (long long)(t->n_elements - all.n_finite));
  printf("\n  [");
  shown = t->n_elements < 8 ? t->n_elements : 8;
  for (i = 0; i < shown; i++)
    printf("%s%.6g", i ? ", " : "", sc_dtype_load(t->dtype, t->data, i));
  printf("%s]\n", t->n_elements > shown ? ", ..." : "");
  return SC_OK;
}

static int parse_args(int argc, char **argv, struct run_args *a)
{
  static const struct option options[] = {
      {"input", required_argument, NULL, 'i'},
      {"dump", required_argument, NULL, 'd'},
      {"threads", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  memset(a, 0, sizeof *a);
  a->threads = sc_cpu_count();
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "i:d:t:h", options, NULL)) != -1) {
    switch (c) {
    case 'i':
      if (a->n_inputs >= MAX_INPUTS)
        return sc_cli_usage_error("run", "too many --input files");
      a->inputs[a->n_inputs++] = optarg;
      break; /* "--input A B C": B and C arrive as plain arguments */
    case 'd':
      if (!optarg[0])
        return sc_cli_usage_error("run", "--dump needs a directory");
      a->dump_dir = optarg;
      break;
    case 't':
      a->threads = sc_cli_parse_threads(optarg);
      if (!a->threads)
        return sc_cli_usage_error("run",
                                  "--threads needs a number from 1 "
                                  "to 1024, not '%s'",
                                  optarg);
      break;
    case 'h':
      printf("Usage: stagecheck run MODEL.onnx --input [NAME=]FILE... "
             "[--dump DIR] [--threads N]\n\n"
             "  --input [NAME=]FILE  a .npy or ONNX TensorProto .pb tensor "
             "per model input;\n"
             "                       without NAME= they bind to the inputs "
             "in order\n"
             "  --dump DIR           write every tensor as DIR/<name>.npy "
             "plus manifest.json\n"
             "  --threads N          worker threads (default: online "
             "CPUs)\n");
      return -1;
    default:
      return sc_cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind >= argc)
    return sc_cli_usage_error("run", "missing MODEL.onnx");
  a->model = argv[optind++];
  while (optind < argc) { /* positional inputs after the model */
    if (a->n_inputs >= MAX_INPUTS)
      return sc_cli_usage_error("run", "too many inputs");
    a->inputs[a->n_inputs++] = argv[optind++];
  }
  return 0;
}

/* Decides which graph input each --input binds to: "NAME=FILE" by name
 * when NAME is a graph input, the others in order to the inputs left. */
static sc_status bind_inputs(const struct sc_graph *g, const struct run_args *a,
                             char **names, const char **files,
                             struct sc_error *err)
{
  int bound[MAX_INPUTS] = {0};
  int i, k, next = 0;

  for (i = 0; i < a->n_inputs; i++) {
    const char *eq = strchr(a->inputs[i], '=');
    files[i] = a->inputs[i];
    if (!eq)
      continue;
    for (k = 0; k < g->n_inputs; k++) {
      const char *name = g->values[g->inputs[k]].name;
      if (strlen(name) == (size_t)(eq - a->inputs[i]) &&
          strncmp(name, a->inputs[i], (size_t)(eq - a->inputs[i])) == 0)
        break;
    }
    if (k == g->n_inputs)
      continue; /* '=' is part of a file name */
    if (bound[k])
      return sc_fail(err, SC_ERR_USAGE, "input '%s' is given twice",
                     g->values[g->inputs[k]].name);
    bound[k] = 1;
    files[i] = eq + 1;
    names[i] = strdup(g->values[g->inputs[k]].name);
    if (!names[i])
      return sc_fail_nomem(err, "input names");
  }
  for (i = 0; i < a->n_inputs; i++) {
    if (names[i])
      continue;
    while (next < g->n_inputs && bound[next])
      next++;
    if (next >= g->n_inputs)
      return sc_fail(err, SC_ERR_USAGE, "more inputs given than the model has");
    bound[next] = 1;
    names[i] = strdup(g->values[g->inputs[next]].name);
    if (!names[i])
      return sc_fail_nomem(err, "input names");
  }
  return SC_OK;
}

int sc_cmd_run(int argc, char **argv)
{
  struct run_args a;
  struct sc_error err;
  struct sc_graph *g = NULL;
  struct sc_tensor *inputs[MAX_INPUTS] = {0};
  struct sc_feed feeds[MAX_INPUTS];
  struct sc_tensor **outputs = NULL;
  struct sc_threadpool *threads = NULL;
  struct sc_run_options options;
  struct dump_observer obs = {NULL};
  char *names[MAX_INPUTS] = {0};
  const char *files[MAX_INPUTS] = {0};
  int i, rc, code = SC_EXIT_OK;
  sc_status st;

  rc = parse_args(argc, argv, &a);
  if (rc)
    return rc < 0 ? SC_EXIT_OK : rc;
  sc_error_clear(&err);

  st = sc_onnx_load(a.model, &g, &err);
  if (!st) {
    g->plain_runs = !a.dump_dir; /* --dump observes every node */
    st = sc_graph_prepare(g, &err);
  }
  if (st)
    goto fail;
  if (a.n_inputs != g->n_inputs) {
    code = sc_cli_usage_error("run", "%s has %d input%s, %d given", a.model,
                              g->n_inputs, g->n_inputs == 1 ? "" : "s",
                              a.n_inputs);
    goto cleanup;
  }
  st = bind_inputs(g, &a, names, files, &err);
  if (st)
    goto fail;
  for (i = 0; i < a.n_inputs; i++) {
    st = sc_tensor_file_load(files[i], &inputs[i], &err);
    if (st)
      goto fail;
    feeds[i].name = names[i];
    feeds[i].tensor = inputs[i];
  }

  st = sc_threadpool_create(a.threads, &threads, &err);
  if (st)
    goto fail;
  memset(&options, 0, sizeof options);
  options.threads = threads;
  if (a.dump_dir) {
    st = sc_dump_writer_create(a.dump_dir, &obs.writer, &err);
    if (st)
      goto fail;
    for (i = 0; i < a.n_inputs && !st; i++)
      st = sc_dump_writer_add(obs.writer, feeds[i].name, inputs[i], NULL, NULL,
                              NULL, &err);
    if (st)
      goto fail;
    options.observer = dump_node_outputs;
    options.observer_user = &obs;
  }
  outputs = calloc((size_t)g->n_outputs + 1, sizeof *outputs);
  if (!outputs) {
    st = sc_fail_nomem(&err, "outputs");
    goto fail;
  }
  st = sc_graph_run(g, a.n_inputs, feeds, outputs, &options, &err);
  if (st)
    goto fail;
  if (obs.writer) {
    st = sc_dump_writer_finish(obs.writer, &err);
    if (st)
      goto fail;
    printf("dumped %s\n", a.dump_dir);
  } else {
    for (i = 0; i < g->n_outputs && !st; i++)
      st = print_summary(g->values[g->outputs[i]].name, outputs[i], threads,
                         &err);
    if (st)
      goto fail;
  }
  goto cleanup;

fail:
  code = sc_cli_fail(&err);
cleanup:
  if (outputs)
    for (i = 0; i < g->n_outputs; i++)
      sc_tensor_free(outputs[i]);
  free(outputs);
  for (i = 0; i < MAX_INPUTS; i++) {
    sc_tensor_free(inputs[i]);
    free(names[i]);
  }
  sc_dump_writer_free(obs.writer);
  sc_threadpool_free(threads);
  sc_graph_free(g);
  return code;
}
