/* ONNX backend conformance: runs every case of Debian's libonnx-testdata
 * (node, pytorch-converted, pytorch-operator) through the loader and the
 * runtime and compares with the expected outputs shipped beside each model.
 *
 *   conformance [--data DIR] [--must-pass FILE] [--case NAME]
 *               [--list-passing] [--threads N] [--verbose]
 *
 * Tolerances (per dtype): float32/float64 |a - e| <= 1e-7 + 1e-3 |e| (the
 * ONNX backend test's own default); float16/bfloat16 1e-3 + 1e-2 |e|; NaN
 * must meet NaN; integers and bool exactly.
 *
 * A case is "tensor-only" unless it needs training, random, string,
 * sequence/optional or control-flow support; the classification reads the
 * protobuf directly, independently of the loader under test.
 *
 * Each case runs in a child process, so a crash or a sanitizer report is
 * caught, counted and fails the run whatever list the case is on. The
 * closing line is `conformance: N passed, N failed`, failed counting the
 * must-pass cases that did not pass plus any case that crashed. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loaders/file.h"
#include "loaders/onnx.h"
#include "onnx.pb-c.h"
#include "runtime/executor.h"
#include "runtime/threadpool.h"

#ifndef SC_TESTDATA_DIR
#define SC_TESTDATA_DIR "/usr/share/libonnx-testdata/data"
#endif
#ifndef SC_MUST_PASS_FILE
#define SC_MUST_PASS_FILE "must_pass.txt"
#endif

#define MAX_CASES 2048
#define MAX_TENSORS 32
#define REASON_SIZE 512

enum outcome { PASSED = 0, FAILED = 1, EXCLUDED = 2, CRASHED = 3 };

struct result { /* shared with the child through an anonymous mapping */
  int outcome;
  char reason[REASON_SIZE];
};

struct options {
  const char *data_dir;
  const char *must_pass_file;
  const char *only_case;
  int list_passing;
  int threads;
  int verbose;
};

static const char *suites[] = {"node", "pytorch-converted", "pytorch-operator"};

static int has_op(const Onnx__GraphProto *g, const char *const *ops,
                  size_t n_ops, int depth)
{
  size_t i, j, k;
  if (!g || depth > 8)
    return 0;
  for (i = 0; i < g->n_node; i++) {
    for (k = 0; k < n_ops; k++)
      if (strcmp(g->node[i]->op_type, ops[k]) == 0)
        return 1;
    for (j = 0; j < g->node[i]->n_attribute; j++)
      if (has_op(g->node[i]->attribute[j]->g, ops, n_ops, depth + 1))
        return 1;
  }
  return 0;
}

static int has_domain(const Onnx__GraphProto *g, const char *needle)
{
  size_t i;
  for (i = 0; i < g->n_node; i++)
    if (g->node[i]->domain && strstr(g->node[i]->domain, needle))
      return 1;
  return 0;
}

static int io_excluded(Onnx__ValueInfoProto **vis, size_t n, char *why,
                       size_t size)
{
  size_t i;
  for (i = 0; i < n; i++) {
    const Onnx__TypeProto *t = vis[i]->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
      snprintf(why, size, "sequence/optional value '%s'", vis[i]->name);
      return 1;
    }
    if (t->tensor_type && t->tensor_type->elem_type == 8) {
      snprintf(why, size, "string value '%s'", vis[i]->name);
      return 1;
    }
  }
  return 0;
}

/* Returns 1 (and the reason) when the case is outside the tensor-only set. */
static int classify(const char *model_path, char *why, size_t size)
{
  static const char *const random_ops[] = {"Bernoulli",         "RandomUniform",
                                           "RandomUniformLike", "RandomNormal",
                                           "RandomNormalLike",  "Multinomial"};
  static const char *const control_ops[] = {"If", "Loop", "Scan",
                                            "SequenceMap"};
  uint8_t *data;
  size_t n;
  Onnx__ModelProto *m;
  int excluded = 0;

  if (sc_file_read(model_path, (size_t)1 << 30, &data, &n, NULL) != SC_OK)
    return 0;
  m = onnx__model_proto__unpack(NULL, n, data);
  free(data);
  if (!m || !m->graph) {
    if (m)
      onnx__model_proto__free_unpacked(m, NULL);
    return 0;
  }
  if (io_excluded(m->graph->input, m->graph->n_input, why, size) ||
      io_excluded(m->graph->output, m->graph->n_output, why, size))
    excluded = 1;
  else if (has_domain(m->graph, "training")) {
    snprintf(why, size, "training operator");
    excluded = 1;
  } else if (has_op(m->graph, random_ops, 6, 0)) {
    snprintf(why, size, "random operator");
    excluded = 1;
  } else if (has_op(m->graph, control_ops, 4, 0)) {
    snprintf(why, size, "control-flow operator");
    excluded = 1;
  }
  onnx__model_proto__free_unpacked(m, NULL);
  return excluded;
}

static int close_enough(enum sc_dtype dtype, double a, double e)
{
  double atol = 1e-7, rtol = 1e-3;
  if (isnan(e))
    return isnan(a);
  if (isinf(e))
    return a == e;
  if (dtype == SC_DTYPE_FLOAT16 || dtype == SC_DTYPE_BFLOAT16) {
    atol = 1e-3;
    rtol = 1e-2;
  }
  return fabs(a - e) <= atol + rtol * fabs(e);
}

/* Compares one output; writes the first difference into reason. */
static int compare_output(const char *name, const struct sc_tensor *actual,
                          const struct sc_tensor *expected, char *reason)
{
  char sa[128], se[128];
  int64_t i;

  if (actual->dtype != expected->dtype) {
    snprintf(reason, REASON_SIZE, "output '%s': dtype %s, expected %s", name,
             sc_dtype_name(actual->dtype), sc_dtype_name(expected->dtype));
    return 0;
  }
  if (!sc_tensor_same_shape(actual, expected)) {
    snprintf(reason, REASON_SIZE, "output '%s': shape %s, expected %s", name,
             sc_shape_format(actual->rank, actual->dims, sa, sizeof sa),
             sc_shape_format(expected->rank, expected->dims, se, sizeof se));
    return 0;
  }
  for (i = 0; i < actual->n_elements; i++) {
    if (sc_dtype_is_float(actual->dtype)) {
      double a = sc_dtype_load(actual->dtype, actual->data, i);
      double e = sc_dtype_load(expected->dtype, expected->data, i);
      if (!close_enough(actual->dtype, a, e)) {
        snprintf(reason, REASON_SIZE,
                 "output '%s' element %lld: %.9g, expected %.9g", name,
                 (long long)i, a, e);
        return 0;
      }
    } else {
      int64_t a = sc_dtype_load_i64(actual->dtype, actual->data, i);
      int64_t e = sc_dtype_load_i64(expected->dtype, expected->data, i);
      if (a != e) {
        snprintf(reason, REASON_SIZE,
                 "output '%s' element %lld: %lld, expected %lld", name,
                 (long long)i, (long long)a, (long long)e);
        return 0;
      }
    }
  }
  return 1;
}

/* Loads input_K.pb / output_K.pb for K = 0.. in order. */
static int load_set(const char *set_dir, const char *prefix,
                    struct sc_tensor **tensors, char **names, int *n,
                    char *reason)
{
  int k;
  *n = 0;
  for (k = 0; k < MAX_TENSORS; k++) {
    char path[4096];
    struct sc_error err;
    snprintf(path, sizeof path, "%s/%s_%d.pb", set_dir, prefix, k);
    if (!sc_path_is_file(path))
      break;
    if (sc_onnx_load_tensor(path, &tensors[k], &names[k], &err) != SC_OK) {
      snprintf(reason, REASON_SIZE, "cannot load %s_%d.pb: %s", prefix, k,
               err.message);
      return -1;
    }
    (*n)++;
  }
  return 0;
}

/* Runs one case in the current process; fills r. */
static void run_case(const char *case_dir, const struct options *opt,
                     struct result *r)
{
  char model_path[4096], why[REASON_SIZE];
  struct sc_graph *g = NULL;
  struct sc_threadpool *threads = NULL;
  struct sc_error err;
  DIR *dir;
  struct dirent *d;
  int n_sets = 0;

  snprintf(model_path, sizeof model_path, "%s/model.onnx", case_dir);
  if (classify(model_path, why, sizeof why)) {
    r->outcome = EXCLUDED;
    snprintf(r->reason, REASON_SIZE, "%s", why);
    return;
  }
  r->outcome = FAILED;
  if (sc_onnx_load(model_path, &g, &err) != SC_OK ||
      sc_graph_prepare(g, &err) != SC_OK) {
    snprintf(r->reason, REASON_SIZE, "%s: %s", sc_status_name(err.status),
             err.message);
    sc_graph_free(g);
    return;
  }
  if (opt->threads > 1 &&
      sc_threadpool_create(opt->threads, &threads, &err) != SC_OK) {
    snprintf(r->reason, REASON_SIZE, "%s", err.message);
    sc_graph_free(g);
    return;
  }
  dir = opendir(case_dir);
  while (dir && (d = readdir(dir)) != NULL) {
    char set_dir[4096];
    struct sc_tensor *inputs[MAX_TENSORS] = {0}, *expected[MAX_TENSORS] = {0};
    struct sc_tensor *actual[MAX_TENSORS] = {0};
    char *in_names[MAX_TENSORS] = {0}, *out_names[MAX_TENSORS] = {0};
    struct sc_feed feeds[MAX_TENSORS];
    struct sc_run_options ro;
    int n_in, n_out, i, ok = 1;

    if (strncmp(d->d_name, "test_data_set_", 14) != 0)
      continue;
    snprintf(set_dir, sizeof set_dir, "%s/%s", case_dir, d->d_name);
    n_sets++;
    if (load_set(set_dir, "input", inputs, in_names, &n_in, r->reason) != 0 ||
        load_set(set_dir, "output", expected, out_names, &n_out, r->reason) !=
            0)
      ok = 0;
    if (ok && (n_in != g->n_inputs || n_out != g->n_outputs)) {
      snprintf(r->reason, REASON_SIZE,
               "data set has %d inputs / %d outputs, model %d / %d", n_in,
               n_out, g->n_inputs, g->n_outputs);
      ok = 0;
    }
    /* ONNX 1.12's data files store bfloat16 tensors as uint16 */
    for (i = 0; ok && i < n_in; i++)
      if (inputs[i]->dtype == SC_DTYPE_UINT16 &&
          g->values[g->inputs[i]].dtype == SC_DTYPE_BFLOAT16)
        inputs[i]->dtype = SC_DTYPE_BFLOAT16;
    for (i = 0; ok && i < n_out; i++)
      if (expected[i]->dtype == SC_DTYPE_UINT16 &&
          g->values[g->outputs[i]].dtype == SC_DTYPE_BFLOAT16)
        expected[i]->dtype = SC_DTYPE_BFLOAT16;
    for (i = 0; ok && i < n_in; i++) {
      feeds[i].name = g->values[g->inputs[i]].name;
      feeds[i].tensor = inputs[i];
    }
    memset(&ro, 0, sizeof ro);
    ro.threads = threads;
    if (ok && sc_graph_run(g, n_in, feeds, actual, &ro, &err) != SC_OK) {
      snprintf(r->reason, REASON_SIZE, "run: %s: %s",
               sc_status_name(err.status), err.message);
      ok = 0;
    }
    for (i = 0; ok && i < n_out; i++)
      ok = compare_output(g->values[g->outputs[i]].name, actual[i], expected[i],
                          r->reason);
    for (i = 0; i < MAX_TENSORS; i++) {
      sc_tensor_free(inputs[i]);
      sc_tensor_free(expected[i]);
      sc_tensor_free(actual[i]);
      free(in_names[i]);
      free(out_names[i]);
    }
    if (!ok) {
      closedir(dir);
      sc_threadpool_free(threads);
      sc_graph_free(g);
      return;
    }
  }
  if (dir)
    closedir(dir);
  sc_threadpool_free(threads);
  sc_graph_free(g);
  if (n_sets == 0) {
    snprintf(r->reason, REASON_SIZE, "no test_data_set directory");
    return;
  }
  r->outcome = PASSED;
  r->reason[0] = '\0';
}

/* Runs a case in a child so that crashes are contained. */
static void run_case_isolated(const char *case_dir, const struct options *opt,
                              struct result *shared)
{
  pid_t pid;
  int status;

  shared->outcome = CRASHED;
  snprintf(shared->reason, REASON_SIZE, "no result");
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid == 0) {
    run_case(case_dir, opt, shared);
    _exit(0);
  }
  if (pid < 0) {
    run_case(case_dir, opt, shared);
    return;
  }
  while (waitpid(pid, &status, 0) < 0)
    ;
  if (WIFSIGNALED(status)) {
    shared->outcome = CRASHED;
    snprintf(shared->reason, REASON_SIZE, "crashed with signal %d",
             WTERMSIG(status));
  } else if (WEXITSTATUS(status) != 0) {
    shared->outcome = CRASHED;
    snprintf(shared->reason, REASON_SIZE,
             "exited with status %d (sanitizer report above?)",
             WEXITSTATUS(status));
  }
}

struct must_pass {
  char **names;
  int n;
};

static int must_pass_load(const char *path, struct must_pass *mp)
{
  FILE *f = fopen(path, "r");
  char line[512];
  mp->names = NULL;
  mp->n = 0;
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f)) {
    char *p = line, **grown;
    size_t len;
    while (*p == ' ' || *p == '\t')
      p++;
    len = strcspn(p, " \t\r\n#");
    if (len == 0)
      continue;
    p[len] = '\0';
    grown = realloc(mp->names, (size_t)(mp->n + 1) * sizeof *grown);
    if (!grown)
      break;
    mp->names = grown;
    mp->names[mp->n++] = strdup(p);
  }
  fclose(f);
  return 0;
}

static int must_pass_has(const struct must_pass *mp, const char *name)
{
  int i;
  for (i = 0; i < mp->n; i++)
    if (strcmp(mp->names[i], name) == 0)
      return 1;
  return 0;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
  struct options opt = {SC_TESTDATA_DIR, SC_MUST_PASS_FILE, NULL, 0, 1, 0};
  struct must_pass mp;
  struct result *shared;
  char **cases = NULL;
  int n_cases = 0, i, s;
  int n_passed = 0, n_failed_must = 0, n_failed_other = 0, n_excluded = 0;
  int n_crashed = 0, n_crashed_other = 0, n_tensor_only = 0;
  int n_node_tensor_only = 0;
  int n_node_passed = 0, n_new = 0, n_missing = 0;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
      opt.data_dir = argv[++i];
    else if (strcmp(argv[i], "--must-pass") == 0 && i + 1 < argc)
      opt.must_pass_file = argv[++i];
    else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc)
      opt.only_case = argv[++i];
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      opt.threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--list-passing") == 0)
      opt.list_passing = 1;
    else if (strcmp(argv[i], "--verbose") == 0)
      opt.verbose = 1;
    else {
      fprintf(stderr, "usage: conformance [--data DIR] [--must-pass FILE] "
                      "[--case NAME] [--threads N] [--list-passing] "
                      "[--verbose]\n");
      return 2;
    }
  }
  if (!sc_path_is_dir(opt.data_dir)) {
    printf("conformance: test data not found at %s (install Debian's "
           "libonnx-testdata: scripts/install-deps.sh)\n",
           opt.data_dir);
    return 1;
  }
  if (must_pass_load(opt.must_pass_file, &mp) != 0) {
    printf("conformance: cannot read the must-pass list %s\n",
           opt.must_pass_file);
    return 1;
  }
  shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE,
                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED)
    return 1;

  for (s = 0; s < 3; s++) {
    char suite_dir[4096];
    DIR *dir;
    struct dirent *d;
    snprintf(suite_dir, sizeof suite_dir, "%s/%s", opt.data_dir, suites[s]);
    dir = opendir(suite_dir);
    while (dir && (d = readdir(dir)) != NULL) {
      char **grown;
      char name[1024];
      if (d->d_name[0] == '.')
        continue;
      snprintf(name, sizeof name, "%s/%s", suites[s], d->d_name);
      if (opt.only_case && strcmp(opt.only_case, d->d_name) != 0 &&
          strcmp(opt.only_case, name) != 0)
        continue;
      grown = realloc(cases, (size_t)(n_cases + 1) * sizeof *grown);
      if (!grown || n_cases >= MAX_CASES)
        break;
      cases = grown;
      cases[n_cases++] = strdup(name);
    }
    if (dir)
      closedir(dir);
  }
  qsort(cases, (size_t)n_cases, sizeof *cases, compare_names);

  for (i = 0; i < n_cases; i++) {
    char case_dir[4096];
    int must = must_pass_has(&mp, cases[i]);
    int is_node = strncmp(cases[i], "node/", 5) == 0;
    snprintf(case_dir, sizeof case_dir, "%s/%s", opt.data_dir, cases[i]);
    run_case_isolated(case_dir, &opt, shared);
    switch (shared->outcome) {
    case EXCLUDED:
      n_excluded++;
      if (opt.verbose)
        printf("excluded %s: %s\n", cases[i], shared->reason);
      if (must) {
        printf("FAIL %s: on the must-pass list but excluded (%s)\n", cases[i],
               shared->reason);
        n_failed_must++;
      }
      continue;
    case PASSED:
      n_tensor_only++;
      n_passed++;
      n_node_tensor_only += is_node;
      n_node_passed += is_node;
      if (opt.list_passing)
        printf("%s\n", cases[i]);
      else if (opt.verbose)
        printf("pass %s\n", cases[i]);
      if (!must)
        n_new++;
      break;
    case CRASHED:
      n_crashed++;
      n_crashed_other += !must;
      /* fall through */
    default:
      n_tensor_only++;
      n_node_tensor_only += is_node;
      if (must)
        n_failed_must++;
      else
        n_failed_other++;
      if (!opt.list_passing)
        printf("%s %s: %s\n", must ? "FAIL" : "not yet", cases[i],
               shared->reason);
      break;
    }
  }
  if (!opt.only_case)
    for (i = 0; i < mp.n; i++) {
      char **hit = bsearch(&mp.names[i], cases, (size_t)n_cases, sizeof *cases,
                           compare_names);
      if (!hit) {
        printf("FAIL %s: on the must-pass list but not in the test data\n",
               mp.names[i]);
        n_missing++;
      }
    }
  if (opt.list_passing)
    return 0;

  printf("tensor-only cases: %d (node: %d), passing: %d (node: %d, %.1f%%), "
         "excluded: %d, crashed: %d\n",
         n_tensor_only, n_node_tensor_only, n_passed, n_node_passed,
         n_node_tensor_only ? 100.0 * n_node_passed / n_node_tensor_only : 0.0,
         n_excluded, n_crashed);
  if (n_new)
    printf("%d passing cases are not on the must-pass list yet (run with "
           "--list-passing to regenerate it)\n",
           n_new);
  /* failed: must-pass cases that did not pass, plus any crash */
  printf("conformance: %d passed, %d failed\n", n_passed,
         n_failed_must + n_missing + n_crashed_other);
  for (i = 0; i < n_cases; i++)
    free(cases[i]);
  free(cases);
  for (i = 0; i < mp.n; i++)
    free(mp.names[i]);
  free(mp.names);
  return (n_failed_must || n_missing || n_crashed) ? 1 : 0;
}
