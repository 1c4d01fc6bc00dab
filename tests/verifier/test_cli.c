/* End-to-end: the stagecheck binary on the fixture model directories and on
 * broken inputs. Asserts exit codes (spec/cli.md), the one-line stderr
 * message naming the file, the JSON report against every fixture's
 * expected.json, determinism across thread counts, and that no model
 * directory is modified. */
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compare/view.h"
#include "loaders/file.h"
#include "loaders/tensor_file.h"
#include "tests/support/assertions.h"
#include "tests/support/model_builder.h"

#define MAX_ARGS 32

struct result {
  int code;
  char *out; /* stdout */
  char *err; /* stderr */
};

static const char *stagecheck(void)
{
  const char *p = getenv("SC_STAGECHECK");
  return p ? p : SC_BINARY_DIR "/stagecheck";
}

static char *slurp(const char *path)
{
  uint8_t *data = NULL;
  size_t size;
  if (sc_file_read(path, 64 << 20, &data, &size, NULL) != SC_OK)
    return strdup("");
  return (char *)data;
}

/* Runs stagecheck with the NULL-terminated arguments. */
static struct result run_cli(const char *first, ...)
{
  const char *argv[MAX_ARGS];
  char out_path[] = "/tmp/stagecheck-out-XXXXXX";
  char err_path[] = "/tmp/stagecheck-err-XXXXXX";
  int fd_out = mkstemp(out_path), fd_err = mkstemp(err_path), n = 0, status;
  struct result r;
  va_list ap;
  pid_t pid;

  argv[n++] = stagecheck();
  argv[n++] = first;
  va_start(ap, first);
  while (n < MAX_ARGS - 1 && (argv[n] = va_arg(ap, const char *)) != NULL)
    n++;
  va_end(ap);
  argv[n] = NULL;
  pid = fork();
  if (pid == 0) {
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  close(fd_out);
  close(fd_err);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  unlink(out_path);
  unlink(err_path);
  return r;
}

static void result_free(struct result *r)
{
  free(r->out);
  free(r->err);
}

/* Exit code and one stderr line mentioning `mention`. */
static void expect_failure(struct result *r, int code, const char *mention)
{
  char *nl;
  if (r->code != code)
    fail_msg("exit %d, expected %d; stderr: %s", r->code, code, r->err);
  nl = strchr(r->err, '\n');
  if (!nl || nl[1] != '\0')
    fail_msg("stderr is not exactly one line: \"%s\"", r->err);
  if (mention && !strstr(r->err, mention))
    fail_msg("stderr \"%s\" does not mention \"%s\"", r->err, mention);
}

static char *fixture(const char *name)
{
  return sc_path_join(SC_SOURCE_DIR "/fixtures/models", name);
}

/* --- every fixture against its expected.json --------------------------- */

static json_object *pair_of(json_object *report, const char *ref,
                            const char *tgt)
{
  json_object *pairs;
  size_t i;
  json_object_object_get_ex(report, "pairs", &pairs);
  for (i = 0; pairs && i < json_object_array_length(pairs); i++) {
    json_object *p = json_object_array_get_idx(pairs, i), *a, *b;
    json_object_object_get_ex(p, "reference", &a);
    json_object_object_get_ex(p, "target", &b);
    if (!strcmp(json_object_get_string(a), ref) &&
        !strcmp(json_object_get_string(b), tgt))
      return p;
  }
  return NULL;
}

static int same_tensor(const char *a, const char *b)
{
  char ca[1024], cb[1024];
  sc_canonical_name(a, ca, sizeof ca);
  sc_canonical_name(b, cb, sizeof cb);
  return strcmp(ca, cb) == 0;
}

/* top_isolated lists the lowest cosines first, as the report writes
 * them; rows whose written cosines are equal come in row order. */
static void check_ranking(const char *name, json_object *top)
{
  size_t i;
  for (i = 1; i < json_object_array_length(top); i++) {
    json_object *a = json_object_array_get_idx(top, i - 1);
    json_object *b = json_object_array_get_idx(top, i), *v;
    double va, vb;
    int ra, rb;
    json_object_object_get_ex(a, "value", &v);
    va = json_object_get_double(v);
    json_object_object_get_ex(b, "value", &v);
    vb = json_object_get_double(v);
    json_object_object_get_ex(a, "row", &v);
    ra = json_object_get_int(v);
    json_object_object_get_ex(b, "row", &v);
    rb = json_object_get_int(v);
    if (va > vb || (va == vb && ra > rb))
      fail_msg("%s: top_isolated entry %zu (row %d, cosine %.10g) comes "
               "after row %d, cosine %.10g",
               name, i, rb, vb, ra, va);
  }
}

/* Isolated mode names the faulty layer first, and the next layer's isolated
 * error stays within the pair's threshold (a fault is not smeared over its
 * neighbours). Input faults and dump targets have no isolated values. */
static void check_isolated(const char *name, json_object *pair,
                           const char *want_tensor)
{
  json_object *top, *mode, *thr, *cos, *first, *v, *rows, *row, *rt;
  const char *first_tensor;
  int row_index;
  json_object_object_get_ex(pair, "mode", &mode);
  if (strcmp(want_tensor, "input") == 0 ||
      strcmp(json_object_get_string(mode), "accumulated") == 0)
    return;
  json_object_object_get_ex(pair, "top_isolated", &top);
  if (json_object_array_length(top) < 1)
    fail_msg("%s: no isolated losses reported", name);
  first = json_object_array_get_idx(top, 0);
  json_object_object_get_ex(first, "row", &v);
  row_index = json_object_get_int(v);
  json_object_object_get_ex(pair, "rows", &rows);
  row = json_object_array_get_idx(rows, (size_t)row_index);
  json_object_object_get_ex(row, "reference_tensor", &rt);
  json_object_object_get_ex(first, "tensor", &v);
  first_tensor = json_object_get_string(v);
  if (!same_tensor(first_tensor, want_tensor) &&
      !same_tensor(json_object_get_string(rt), want_tensor))
    fail_msg("%s: largest isolated loss at %s, expected %s", name, first_tensor,
             want_tensor);
  print_message("  %s: isolated mode names %s first\n", name, first_tensor);
  json_object_object_get_ex(pair, "thresholds", &thr);
  if (json_object_array_length(top) > 1 &&
      json_object_object_get_ex(thr, "cosine", &cos)) {
    json_object_object_get_ex(json_object_array_get_idx(top, 1), "value", &v);
    if (json_object_get_double(v) < json_object_get_double(cos))
      fail_msg("%s: the second isolated loss (cosine %g) breaches the "
               "threshold %g too",
               name, json_object_get_double(v), json_object_get_double(cos));
  }
}

static void check_fixture(const char *name)
{
  char *dir = fixture(name), *expected_path, *report_dir, *json_path;
  json_object *expected, *report, *v;
  const char *want_status;
  struct result r;

  expected_path = sc_path_join(dir, "expected.json");
  expected = json_object_from_file(expected_path);
  if (!expected)
    fail_msg("%s: no expected.json", name);
  report_dir = sc_test_tmpdir();
  r = run_cli("verify", dir, "--report-dir", report_dir, "--format",
              "json,text", "--no-progress", "--quiet", NULL);
  json_object_object_get_ex(expected, "status", &v);
  want_status = json_object_get_string(v);
  if (r.code != (strcmp(want_status, "pass") == 0 ? 0 : 1))
    fail_msg("%s: exit %d (expected status %s); stderr: %s", name, r.code,
             want_status, r.err);
  json_path = sc_path_join(report_dir, "report.json");
  report = json_object_from_file(json_path);
  if (!report)
    fail_msg("%s: no report.json", name);
  json_object_object_get_ex(report, "status", &v);
  if (strcmp(json_object_get_string(v), want_status) != 0 &&
      !(strcmp(want_status, "pass") == 0 &&
        strcmp(json_object_get_string(v), "warn") == 0))
    fail_msg("%s: report status %s, expected %s", name,
             json_object_get_string(v), want_status);
  {
    json_object *pairs, *top;
    size_t i;
    json_object_object_get_ex(report, "pairs", &pairs);
    for (i = 0; i < json_object_array_length(pairs); i++)
      if (json_object_object_get_ex(json_object_array_get_idx(pairs, i),
                                    "top_isolated", &top))
        check_ranking(name, top);
  }
  if (strcmp(want_status, "fail") == 0) {
    json_object *pair, *ep, *er, *et, *fd, *rows, *row, *rt, *tt;
    const char *want_tensor;
    int n;
    json_object_object_get_ex(expected, "pair", &ep);
    json_object_object_get_ex(ep, "reference", &er);
    json_object_object_get_ex(ep, "target", &et);
    json_object_object_get_ex(expected, "tensor", &v);
    want_tensor = json_object_get_string(v);
    pair =
        pair_of(report, json_object_get_string(er), json_object_get_string(et));
    if (!pair)
      fail_msg("%s: no pair %s->%s in the report", name,
               json_object_get_string(er), json_object_get_string(et));
    json_object_object_get_ex(pair, "first_divergence", &fd);
    if (!fd || json_object_is_type(fd, json_type_null))
      fail_msg("%s: pair %s->%s has no first divergence (expected %s)", name,
               json_object_get_string(er), json_object_get_string(et),
               want_tensor);
    json_object_object_get_ex(fd, "row", &v);
    n = json_object_get_int(v);
    json_object_object_get_ex(pair, "rows", &rows);
    row = json_object_array_get_idx(rows, (size_t)n);
    json_object_object_get_ex(row, "reference_tensor", &rt);
    json_object_object_get_ex(row, "tensor", &tt);
    if (!same_tensor(json_object_get_string(rt), want_tensor) &&
        !same_tensor(json_object_get_string(tt), want_tensor))
      fail_msg("%s: first divergence at row %d (%s / %s), expected %s", name, n,
               json_object_get_string(tt), json_object_get_string(rt),
               want_tensor);
    check_isolated(name, pair, want_tensor);
  }
  json_object_put(report);
  json_object_put(expected);
  result_free(&r);
  sc_test_rmtree(report_dir);
  free(report_dir);
  free(json_path);
  free(expected_path);
  free(dir);
}

static void test_verify_every_fixture_matches_expected(void **state)
{
  DIR *d = opendir(SC_SOURCE_DIR "/fixtures/models");
  struct dirent *e;
  char *names[64];
  int n = 0, i;
  (void)state;
  assert_non_null(d);
  while ((e = readdir(d)) != NULL && n < 64) {
    char *path, *expected;
    if (e->d_name[0] == '.')
      continue;
    path = fixture(e->d_name);
    expected = sc_path_join(path, "expected.json");
    if (sc_path_is_file(expected))
      names[n++] = strdup(e->d_name);
    free(path);
    free(expected);
  }
  closedir(d);
  assert_true(n >= 5);
  for (i = 0; i < n; i++) {
    print_message("verify %s\n", names[i]);
    check_fixture(names[i]);
    free(names[i]);
  }
}

/* --- determinism and no writes into the model directory -------------- */

static char *tree_listing(const char *dir)
{
  char cmd[2048];
  FILE *p;
  char *buf = calloc(1, 1 << 20);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && find . -type f -exec md5sum {} + | sort", dir);
  p = popen(cmd, "r");
  if (p) {
    size_t n = fread(buf, 1, (1 << 20) - 1, p);
    buf[n] = '\0';
    pclose(p);
  }
  return buf;
}

/* Two verify runs of one fixture, each with its own report directory
 * (a, b) and report.json path (pa, pb), for the tests that compare them. */
struct two_runs {
  char *dir, *a, *b, *pa, *pb;
  struct result r1, r2;
};

static void two_runs_init(struct two_runs *t, const char *name)
{
  memset(t, 0, sizeof *t);
  t->dir = fixture(name);
  t->a = sc_test_tmpdir();
  t->b = sc_test_tmpdir();
  t->pa = sc_path_join(t->a, "report.json");
  t->pb = sc_path_join(t->b, "report.json");
}

static void two_runs_free(struct two_runs *t)
{
  free(t->pa);
  free(t->pb);
  result_free(&t->r1);
  result_free(&t->r2);
  sc_test_rmtree(t->a);
  sc_test_rmtree(t->b);
  free(t->a);
  free(t->b);
  free(t->dir);
}

static void test_verify_json_identical_across_thread_counts(void **state)
{
  struct two_runs t;
  char *ja, *jb, *before, *after;
  (void)state;
  two_runs_init(&t, "tiny_cls_weight_per_tensor");
  before = tree_listing(t.dir);
  t.r1 = run_cli("verify", t.dir, "--threads", "1", "--report-dir", t.a,
                 "--format", "json", "--quiet", NULL);
  t.r2 = run_cli("verify", t.dir, "--threads", "2", "--report-dir", t.b,
                 "--format", "json", "--quiet", NULL);
  assert_true(t.r1.code == 0 || t.r1.code == 1);
  assert_int_equal(t.r1.code, t.r2.code);
  ja = slurp(t.pa);
  jb = slurp(t.pb);
  assert_true(strlen(ja) > 100);
  assert_string_equal(ja, jb);
  after = tree_listing(t.dir);
  assert_string_equal(before, after); /* the model directory is untouched */
  free(before);
  free(after);
  free(ja);
  free(jb);
  two_runs_free(&t);
}

static void test_verify_small_budget_spills_same_report(void **state)
{
  struct two_runs t;
  char *ja, *jb, *spilled;
  const char *peak;
  (void)state;
  two_runs_init(&t, "tiny_cls");
  t.r1 = run_cli("verify", t.dir, "--report-dir", t.a, "--format", "json",
                 "--quiet", "--verbose", "--memory-budget", "4K", NULL);
  t.r2 = run_cli("verify", t.dir, "--report-dir", t.b, "--format", "json",
                 "--quiet", NULL);
  assert_int_equal(t.r1.code, t.r2.code);
  /* the spill file was used, and the peak stayed within the budget */
  spilled = strstr(t.r1.err, "bytes in memory, ");
  if (!spilled || atol(spilled + strlen("bytes in memory, ")) <= 0)
    fail_msg("no spill reported: %s", t.r1.err);
  peak = strstr(t.r1.err, "peak ");
  assert_non_null(peak);
  assert_true(atol(peak + 5) <= 4096);
  ja = slurp(t.pa);
  jb = slurp(t.pb);
  assert_true(strlen(ja) > 100);
  assert_string_equal(ja, jb);
  free(ja);
  free(jb);
  two_runs_free(&t);
}

/* Each row's isolated metrics are the same whether or not the run also
 * measures accumulated ones: --mode isolated re-runs the same segments on
 * the same reference values as --mode both (it once lost the rows whose
 * reference tensor fed no other segment: the graph outputs). */
static void isolated_rows_agree(const char *name)
{
  struct two_runs t;
  json_object *ja, *jb, *pairs_a, *pairs_b;
  size_t i, k;
  int compared = 0, outputs = 0;

  two_runs_init(&t, name);
  t.r1 = run_cli("verify", t.dir, "--report-dir", t.a, "--format", "json",
                 "--quiet", "--mode", "both", "--fail-on", "never", NULL);
  t.r2 = run_cli("verify", t.dir, "--report-dir", t.b, "--format", "json",
                 "--quiet", "--mode", "isolated", "--fail-on", "never", NULL);
  if (t.r1.code != 0 || t.r2.code != 0)
    fail_msg("%s: exit %d and %d: %s%s", name, t.r1.code, t.r2.code, t.r1.err,
             t.r2.err);
  ja = json_object_from_file(t.pa);
  jb = json_object_from_file(t.pb);
  assert_non_null(ja);
  assert_non_null(jb);
  json_object_object_get_ex(ja, "pairs", &pairs_a);
  json_object_object_get_ex(jb, "pairs", &pairs_b);
  assert_int_equal(json_object_array_length(pairs_a),
                   json_object_array_length(pairs_b));
  for (i = 0; i < json_object_array_length(pairs_a); i++) {
    json_object *rows_a, *rows_b;
    json_object_object_get_ex(json_object_array_get_idx(pairs_a, i), "rows",
                              &rows_a);
    json_object_object_get_ex(json_object_array_get_idx(pairs_b, i), "rows",
                              &rows_b);
    assert_int_equal(json_object_array_length(rows_a),
                     json_object_array_length(rows_b));
    for (k = 0; k < json_object_array_length(rows_a); k++) {
      json_object *ra = json_object_array_get_idx(rows_a, k);
      json_object *rb = json_object_array_get_idx(rows_b, k), *ia, *ib, *v;
      const char *sa, *sb;
      int has_a = json_object_object_get_ex(ra, "isolated", &ia) &&
                  !json_object_is_type(ia, json_type_null);
      int has_b = json_object_object_get_ex(rb, "isolated", &ib) &&
                  !json_object_is_type(ib, json_type_null);
      if (has_a != has_b)
        fail_msg("%s: pair %zu row %zu: isolated metrics %s in mode both, "
                 "%s in mode isolated",
                 name, i, k, has_a ? "present" : "absent",
                 has_b ? "present" : "absent");
      if (!has_a)
        continue; /* input rows, dump targets */
      if (json_object_object_get_ex(rb, "accumulated", &v) &&
          !json_object_is_type(v, json_type_null))
        fail_msg("%s: pair %zu row %zu has accumulated metrics in isolated "
                 "mode",
                 name, i, k);
      sa = json_object_to_json_string_ext(ia, JSON_C_TO_STRING_PLAIN);
      sb = json_object_to_json_string_ext(ib, JSON_C_TO_STRING_PLAIN);
      if (strcmp(sa, sb) != 0)
        fail_msg("%s: pair %zu row %zu: isolated %s in mode both, %s in "
                 "mode isolated",
                 name, i, k, sa, sb);
      compared++;
      if (json_object_object_get_ex(ra, "is_output", &v) &&
          json_object_get_boolean(v))
        outputs++;
    }
  }
  print_message("  %s: %d isolated rows agree, %d of them graph outputs\n",
                name, compared, outputs);
  assert_true(compared > 0);
  json_object_put(ja);
  json_object_put(jb);
  two_runs_free(&t);
}

static void test_verify_isolated_mode_same_isolated_rows(void **state)
{
  (void)state;
  isolated_rows_agree("tiny_det");
  isolated_rows_agree("tiny_attn");
  isolated_rows_agree("tiny_cls_dynamic");
}

/* Shards merged give the full run's verdict, localisation and worst rows. */
static void test_merge_of_shards_matches_full_run(void **state)
{
  char *dir = fixture("tiny_cls_weight_per_tensor");
  char *full = sc_test_tmpdir(), *s0 = sc_test_tmpdir(), *s1 = sc_test_tmpdir();
  char *pf = sc_path_join(full, "report.json");
  char *p0 = sc_path_join(s0, "report.json"),
       *p1 = sc_path_join(s1, "report.json");
  char *pm = sc_path_join(full, "merged.json");
  json_object *jf, *jm, *pairs_f, *pairs_m;
  struct result r;
  size_t i, k;
  (void)state;
  r = run_cli("verify", dir, "--report-dir", full, "--format", "json",
              "--quiet", NULL);
  result_free(&r);
  r = run_cli("verify", dir, "--report-dir", s0, "--format", "json", "--quiet",
              "--shard", "0/2", NULL);
  result_free(&r);
  r = run_cli("verify", dir, "--report-dir", s1, "--format", "json", "--quiet",
              "--shard", "1/2", NULL);
  result_free(&r);
  r = run_cli("merge", p0, p1, "-o", pm, NULL);
  assert_true(r.code == 0 || r.code == 1);
  result_free(&r);
  /* the same shard twice is not a merge of shards */
  r = run_cli("merge", p0, p1, p0, "-o", pm, NULL);
  expect_failure(&r, 3, "also in an earlier shard");
  result_free(&r);
  jf = json_object_from_file(pf);
  jm = json_object_from_file(pm);
  assert_non_null(jf);
  assert_non_null(jm);
  {
    json_object *a, *b;
    json_object_object_get_ex(jf, "status", &a);
    json_object_object_get_ex(jm, "status", &b);
    assert_string_equal(json_object_get_string(a), json_object_get_string(b));
    json_object_object_get_ex(jm, "inputs", &b);
    assert_int_equal(json_object_array_length(b), 3);
  }
  json_object_object_get_ex(jf, "pairs", &pairs_f);
  json_object_object_get_ex(jm, "pairs", &pairs_m);
  assert_int_equal(json_object_array_length(pairs_f),
                   json_object_array_length(pairs_m));
  for (i = 0; i < json_object_array_length(pairs_f); i++) {
    json_object *pf_ = json_object_array_get_idx(pairs_f, i);
    json_object *pm_ = json_object_array_get_idx(pairs_m, i);
    json_object *fd_f, *fd_m, *rows_f, *rows_m;
    json_object_object_get_ex(pf_, "first_divergence", &fd_f);
    json_object_object_get_ex(pm_, "first_divergence", &fd_m);
    assert_string_equal(json_object_to_json_string(fd_f),
                        json_object_to_json_string(fd_m));
    json_object_object_get_ex(pf_, "rows", &rows_f);
    json_object_object_get_ex(pm_, "rows", &rows_m);
    for (k = 0; k < json_object_array_length(rows_f); k++) {
      json_object *af, *am, *cf, *cm;
      json_object_object_get_ex(json_object_array_get_idx(rows_f, k),
                                "accumulated", &af);
      json_object_object_get_ex(json_object_array_get_idx(rows_m, k),
                                "accumulated", &am);
      if (!af || json_object_is_type(af, json_type_null))
        continue;
      json_object_object_get_ex(af, "cosine", &cf);
      json_object_object_get_ex(am, "cosine", &cm);
      assert_true(json_object_get_double(cf) == json_object_get_double(cm));
    }
  }
  json_object_put(jf);
  json_object_put(jm);
  free(pf);
  free(p0);
  free(p1);
  free(pm);
  sc_test_rmtree(full);
  sc_test_rmtree(s0);
  sc_test_rmtree(s1);
  free(full);
  free(s0);
  free(s1);
  free(dir);
}

/* --- transform, run --dump and compare ------------------------------- */

/* `transform` of `img` for `stage` into a new tensor. */
static struct sc_tensor *transform_to(const char *img, const char *cfg,
                                      const char *stage, const char *out)
{
  struct sc_tensor *t = NULL;
  struct result r = run_cli("transform", img, "--config", cfg, "--stage", stage,
                            "-o", out, NULL);
  if (r.code != 0)
    fail_msg("transform %s --stage %s: %s", img, stage, r.err);
  result_free(&r);
  assert_int_equal(sc_npy_load(out, &t, NULL), SC_OK);
  return t;
}

static int close_to(const struct sc_tensor *a, const struct sc_tensor *b,
                    double tol)
{
  int64_t i;
  if (a->dtype != b->dtype || !sc_tensor_same_shape(a, b))
    return 0;
  for (i = 0; i < a->n_elements; i++)
    if (fabs(sc_dtype_load(a->dtype, a->data, i) -
             sc_dtype_load(b->dtype, b->data, i)) > tol)
      return 0;
  return 1;
}

/* `transform` against the fixture generator's own numpy preprocessing of
 * its first photograph (inputs_npy/<dtype>.npy): float32 within 1e-6 (the
 * generator normalises in float32, `normalize` in double as numpy does with
 * float64 mean/std), and the int8 NV12/YUV444 bytes of the same photograph
 * exactly where the family has an int8 stage. */
static void test_transform_matches_generator_preprocessing(void **state)
{
  static const char *const families[] = {"tiny_det", "tiny_cls", "tiny_attn"};
  size_t f;
  (void)state;
  for (f = 0; f < 3; f++) {
    char *dir = fixture(families[f]),
         *cfg = sc_path_join(dir, "stagecheck.yaml");
    char *inputs = sc_path_join(dir, "inputs"), *tmp = sc_test_tmpdir();
    char *out = sc_path_join(tmp, "t.npy");
    char *f32_path = sc_path_join(dir, "inputs_npy/float32.npy");
    char *i8_path = sc_path_join(dir, "inputs_npy/int8.npy");
    struct sc_tensor *want_f32 = NULL;
    int matched = 0;
    DIR *d = opendir(inputs);
    struct dirent *e;
    assert_non_null(d);
    assert_int_equal(sc_npy_load(f32_path, &want_f32, NULL), SC_OK);
    while ((e = readdir(d)) != NULL && !matched) {
      char *img;
      struct sc_tensor *got;
      if (e->d_name[0] == '.')
        continue;
      img = sc_path_join(inputs, e->d_name);
      got = transform_to(img, cfg, "float", out);
      if (close_to(got, want_f32, 1e-6)) {
        matched = 1; /* the generator's first photograph */
        if (sc_path_is_file(i8_path)) {
          struct sc_tensor *q = transform_to(img, cfg, "quantized", out), *w;
          assert_int_equal(sc_npy_load(i8_path, &w, NULL), SC_OK);
          assert_tensor_close(q, w, 0, 0);
          sc_tensor_free(q);
          sc_tensor_free(w);
        }
      }
      sc_tensor_free(got);
      free(img);
    }
    closedir(d);
    if (!matched)
      fail_msg("%s: no input transforms to the generator's tensor",
               families[f]);
    print_message("  %s: transform matches the generator\n", families[f]);
    sc_tensor_free(want_f32);
    sc_test_rmtree(tmp);
    free(tmp);
    free(out);
    free(f32_path);
    free(i8_path);
    free(inputs);
    free(cfg);
    free(dir);
  }
}

/* Writes dir/identity.onnx: y = Identity(x), x float [2, 70001]; returns
 * the malloc'ed path. */
static char *write_identity_model(const char *dir)
{
  static char *in[1] = {"x"}, *out[1] = {"y"};
  int64_t dims[2] = {2, 70001};
  struct sc_test_model b;
  sc_test_model_init(&b, 17);
  sc_test_model_add_input(&b, "x", 2, dims);
  sc_test_model_add_output(&b, "y");
  sc_test_model_add_node(&b, "Identity", "copy", in, 1, out, 1);
  return sc_test_model_write(dir, "identity.onnx", &b.model);
}

/* run without --dump prints each output's range, mean and non-finite
 * count, over blocks that threads share: 140002 values (three blocks of
 * 65536 and a rest, not a multiple of 8) of (i % 1000) / 2 - 100 with a
 * NaN, +inf and -inf in the second block. Every value is a multiple of 1/2
 * below 400 in magnitude, so the sum is exact in any order: the expected
 * line is computed here from the definition. The same line for 1 and 2
 * threads. */
static void test_run_prints_output_summary(void **state)
{
  char *dir = sc_test_tmpdir(), *model = write_identity_model(dir);
  char *input = sc_path_join(dir, "x.npy"), expected[256];
  int64_t dims[2] = {2, 70001}, i, n = 140002, n_finite = 0;
  struct sc_tensor *x = NULL;
  double sum = 0.0;
  struct result r;
  float *v;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, dims, &x, NULL), SC_OK);
  v = x->data;
  for (i = 0; i < n; i++)
    v[i] = (float)(i % 1000) / 2.0f - 100.0f;
  v[70000] = NAN;
  v[70003] = INFINITY;
  v[100000] = -INFINITY;
  for (i = 0; i < n; i++)
    if (isfinite(v[i])) {
      sum += v[i];
      n_finite++;
    }
  assert_int_equal(sc_npy_save(input, x, NULL), SC_OK);
  snprintf(expected, sizeof expected,
           "y: float32 [2,70001]  min -100  max 399.5  mean %.6g  "
           "non-finite 3\n  [-100, -99.5, -99, -98.5, -98, -97.5, -97, "
           "-96.5, ...]\n",
           sum / (double)n_finite);
  r = run_cli("run", model, "--input", input, "--threads", "1", NULL);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, expected);
  result_free(&r);
  r = run_cli("run", model, "--input", input, "--threads", "2", NULL);
  assert_int_equal(r.code, 0);
  assert_string_equal(r.out, expected);
  result_free(&r);
  sc_tensor_free(x);
  sc_test_rmtree(dir);
  free(dir);
  free(model);
  free(input);
}

/* run --dump writes the dump format; compare reads two of them. */
static void test_run_dump_then_compare(void **state)
{
  char *dir = fixture("tiny_cls"), *a = sc_test_tmpdir(), *b = sc_test_tmpdir();
  char *model = sc_path_join(dir, "float.onnx"),
       *opt = sc_path_join(dir, "optimized.onnx");
  char *input = sc_path_join(dir, "inputs_npy/float32.npy");
  char *rd = sc_test_tmpdir(), *manifest = sc_path_join(a, "manifest.json");
  struct result r;
  (void)state;
  /* options after the operands, as spec/cli.md writes them, even when the
   * environment asks getopt for POSIX order */
  setenv("POSIXLY_CORRECT", "1", 1);
  r = run_cli("run", model, "--input", input, "--dump", a, NULL);
  unsetenv("POSIXLY_CORRECT");
  assert_int_equal(r.code, 0);
  result_free(&r);
  assert_true(sc_path_is_file(manifest));
  r = run_cli("run", opt, "--input", input, "--dump", b, NULL);
  assert_int_equal(r.code, 0);
  result_free(&r);
  /* identical dumps pass; float vs optimized pass with a loose bound */
  r = run_cli("compare", a, a, "--report-dir", rd, "--quiet", NULL);
  assert_int_equal(r.code, 0);
  result_free(&r);
  r = run_cli("compare", a, b, "--report-dir", rd, "--quiet", "--threshold",
              "cosine=0.9999", NULL);
  assert_int_equal(r.code, 0);
  result_free(&r);
  /* an impossible bound fails the gate with one line naming the target */
  r = run_cli("compare", a, b, "--report-dir", rd, "--quiet", "--threshold",
              "max_abs=0", NULL);
  expect_failure(&r, 1, b);
  result_free(&r);
  r = run_cli("inspect", a, NULL);
  assert_int_equal(r.code, 0);
  assert_non_null(strstr(r.out, "tensors:"));
  result_free(&r);
  sc_test_rmtree(a);
  sc_test_rmtree(b);
  sc_test_rmtree(rd);
  free(a);
  free(b);
  free(rd);
  free(manifest);
  free(model);
  free(opt);
  free(input);
  free(dir);
}

static void write_text(const char *dir, const char *name, const char *text);

/* A stage `emulate: int8` runs the QDQ model as an integer accelerator; it
 * agrees with the QOperator stage (ONNX Runtime's x86 integer arithmetic)
 * within the rounding differences EMULATION.md documents. */
static void test_verify_emulated_stage(void **state)
{
  char *dir = sc_test_tmpdir(), *rd = sc_test_tmpdir(), cmd[2048];
  char *json_path = sc_path_join(rd, "report.json");
  json_object *report, *pair, *status, *rows;
  struct result r;
  size_t k;
  (void)state;
  snprintf(cmd, sizeof cmd, "cp -r '%s/fixtures/models/tiny_det/.' '%s/'",
           SC_SOURCE_DIR, dir);
  assert_int_equal(system(cmd), 0);
  write_text(dir, "stagecheck.yaml",
             "inputs:\n  - name: input\n    source: inputs/\n"
             "    preprocess: [{resize: {height: 64, width: 64}}]\n"
             "stages:\n"
             "  - name: float\n    model: float.onnx\n"
             "    input: [bgr_to_rgb, hwc_to_chw, {normalize: {mean: "
             "[123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375]}}]\n"
             "  - name: compiled\n    model: compiled.onnx\n"
             "    input: &int8 [bgr_to_nv12, nv12_to_yuv444, hwc_to_chw, "
             "{add: {value: -128}}, {cast: {dtype: int8}}]\n"
             "  - name: emulated\n    model: quantized.onnx\n"
             "    emulate: {type: int8, rounding: half_away_from_zero}\n"
             "    input: *int8\n"
             "compare:\n  thresholds:\n    default: {cosine: 0.99}\n"
             "    input: {cosine: 0.98}\n"
             "    compiled->emulated: {cosine: 0.999, max_abs_lsb: 2}\n");
  r = run_cli("verify", dir, "--report-dir", rd, "--format", "json", "--quiet",
              NULL);
  if (r.code != 0)
    fail_msg("exit %d: %s", r.code, r.err);
  result_free(&r);
  report = json_object_from_file(json_path);
  assert_non_null(report);
  pair = pair_of(report, "compiled", "emulated");
  assert_non_null(pair);
  json_object_object_get_ex(pair, "status", &status);
  assert_string_equal(json_object_get_string(status), "pass");
  json_object_object_get_ex(pair, "rows", &rows);
  assert_true(json_object_array_length(rows) > 5);
  for (k = 1; k < json_object_array_length(rows); k++) {
    json_object *acc, *lsb;
    json_object_object_get_ex(json_object_array_get_idx(rows, k), "accumulated",
                              &acc);
    if (acc && json_object_object_get_ex(acc, "max_abs_lsb", &lsb))
      assert_true(json_object_get_double(lsb) <= 2);
  }
  json_object_put(report);
  free(json_path);
  sc_test_rmtree(dir);
  sc_test_rmtree(rd);
  free(dir);
  free(rd);
}

/* compare.match.file: an explicit map wins over names and structure. In
 * tiny_cls, optimized's 'input.4' matches float's stem Relu by structure;
 * mapped to the depthwise Relu (same shape), its row takes that reference
 * with match "map". A map file outside the model directory is refused. */
static void test_verify_explicit_tensor_map(void **state)
{
  char *dir = sc_test_tmpdir(), *rd = sc_test_tmpdir(), cmd[2048];
  char *json_path = sc_path_join(rd, "report.json");
  static const char *const config =
      "inputs:\n  - name: input\n    source: inputs/\n"
      "    preprocess: [{resize: {height: 64, width: 64}}]\n"
      "stages:\n"
      "  - name: float\n    model: float.onnx\n"
      "    input: &f [bgr_to_rgb, hwc_to_chw, {cast: {dtype: float32}}]\n"
      "  - name: optimized\n    model: optimized.onnx\n    input: *f\n"
      "compare:\n  match: {file: %s}\n";
  char text[1024];
  json_object *report, *pair, *rows;
  struct result r;
  size_t k;
  int found = 0;
  (void)state;
  snprintf(cmd, sizeof cmd, "cp -r '%s/fixtures/models/tiny_cls/.' '%s/'",
           SC_SOURCE_DIR, dir);
  assert_int_equal(system(cmd), 0);
  snprintf(text, sizeof text, config, "names.yaml");
  write_text(dir, "stagecheck.yaml", text);
  write_text(dir, "names.yaml",
             "input.4: /blocks/blocks.0/dw/act/Relu_output_0\n");
  r = run_cli("verify", dir, "--report-dir", rd, "--format", "json", "--quiet",
              NULL);
  if (r.code != 0 && r.code != 1)
    fail_msg("exit %d: %s", r.code, r.err);
  result_free(&r);
  report = json_object_from_file(json_path);
  assert_non_null(report);
  pair = pair_of(report, "float", "optimized");
  assert_non_null(pair);
  json_object_object_get_ex(pair, "rows", &rows);
  for (k = 0; k < json_object_array_length(rows); k++) {
    json_object *row = json_object_array_get_idx(rows, k), *t, *ref, *match;
    json_object_object_get_ex(row, "tensor", &t);
    if (strcmp(json_object_get_string(t), "input.4") != 0)
      continue;
    json_object_object_get_ex(row, "reference_tensor", &ref);
    json_object_object_get_ex(row, "match", &match);
    assert_string_equal(json_object_get_string(ref),
                        "/blocks/blocks.0/dw/act/Relu_output_0");
    assert_string_equal(json_object_get_string(match), "map");
    found = 1;
  }
  assert_true(found);
  json_object_put(report);

  snprintf(text, sizeof text, config, "../names.yaml");
  write_text(dir, "stagecheck.yaml", text);
  r = run_cli("verify", dir, "--report-dir", rd, "--quiet", NULL);
  expect_failure(&r, 2, "match.file");
  result_free(&r);
  snprintf(text, sizeof text, config, "absent.yaml");
  write_text(dir, "stagecheck.yaml", text);
  r = run_cli("verify", dir, "--report-dir", rd, "--quiet", NULL);
  expect_failure(&r, 2, "absent.yaml");
  result_free(&r);
  snprintf(text, sizeof text, config, "names.yaml");
  write_text(dir, "stagecheck.yaml", text);
  write_text(dir, "names.yaml", "[a, b]\n");
  r = run_cli("verify", dir, "--report-dir", rd, "--quiet", NULL);
  expect_failure(&r, 2, "names.yaml:1:");
  result_free(&r);
  free(json_path);
  sc_test_rmtree(dir);
  sc_test_rmtree(rd);
  free(dir);
  free(rd);
}

/* --- exit codes --------------------------------------------------------- */

/* A scratch model directory: a copy of a fixture's float and optimized
 * stages + inputs (two stages: one alone has nothing to compare). */
static char *scratch_dir(void)
{
  char *dir = sc_test_tmpdir(), cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cp -r '%s/fixtures/models/tiny_cls/inputs' '%s/' && cp "
           "'%s/fixtures/models/tiny_cls/float.onnx' "
           "'%s/fixtures/models/tiny_cls/optimized.onnx' '%s/'",
           SC_SOURCE_DIR, dir, SC_SOURCE_DIR, SC_SOURCE_DIR, dir);
  assert_int_equal(system(cmd), 0);
  return dir;
}

static void write_text(const char *dir, const char *name, const char *text)
{
  char *path = sc_path_join(dir, name);
  assert_int_equal(sc_file_write_atomic(path, text, strlen(text), NULL), SC_OK);
  free(path);
}

static void test_exit_2_usage_and_configuration(void **state)
{
  char *dir = scratch_dir(), cmd[2048];
  struct result r;
  (void)state;
  r = run_cli("verify", dir, "--mode", "sideways", NULL);
  expect_failure(&r, 2, "--mode");
  result_free(&r);
  r = run_cli("frobnicate", NULL);
  expect_failure(&r, 2, "frobnicate");
  result_free(&r);
  { /* reports never go into a dump stage's directory */
    char *dir2 = sc_test_tmpdir(), *inside, *written;
    snprintf(cmd, sizeof cmd, "cp -r '%s/fixtures/models/tiny_cls/.' '%s/'",
             SC_SOURCE_DIR, dir2);
    assert_int_equal(system(cmd), 0);
    inside = sc_path_join(dir2, "compiled/astronaut");
    written = sc_path_join(inside, "report.json");
    r = run_cli("verify", dir2, "--quiet", "--report-dir", inside, NULL);
    expect_failure(&r, 2, "inside the dump of stage");
    result_free(&r);
    assert_false(sc_path_is_file(written));
    { /* nor does transform write over a stage's model */
      char *config = sc_path_join(dir2, "stagecheck.yaml");
      char *model = sc_path_join(dir2, "float.onnx");
      char *image = sc_path_join(dir2, "inputs/coffee.png");
      uint8_t *before = NULL, *after = NULL;
      size_t n_before = 0, n_after = 0;
      assert_int_equal(sc_file_read(model, 1 << 24, &before, &n_before, NULL),
                       SC_OK);
      r = run_cli("transform", image, "--config", config, "--stage", "float",
                  "-o", model, NULL);
      expect_failure(&r, 2, "a file of stage 'float'");
      result_free(&r);
      assert_int_equal(sc_file_read(model, 1 << 24, &after, &n_after, NULL),
                       SC_OK);
      assert_int_equal(n_before, n_after);
      assert_memory_equal(before, after, n_before);
      free(before);
      free(after);
      free(image);
      free(model);
      free(config);
    }
    { /* nor does run --dump write over a stage's dump */
      char *model = sc_path_join(dir2, "float.onnx");
      char *input = sc_path_join(dir2, "inputs_npy/float32.npy");
      char *before = tree_listing(dir2), *after;
      r = run_cli("run", model, "--input", input, "--dump", inside, NULL);
      expect_failure(&r, 2, "not a dump of stagecheck run");
      result_free(&r);
      after = tree_listing(dir2);
      assert_string_equal(before, after);
      free(before);
      free(after);
      free(input);
      free(model);
    }
    free(written);
    free(inside);
    sc_test_rmtree(dir2);
    free(dir2);
  }
  { /* one stage: nothing to compare */
    snprintf(cmd, sizeof cmd, "rm '%s/optimized.onnx'", dir);
    assert_int_equal(system(cmd), 0);
    r = run_cli("verify", dir, "--quiet", NULL);
    expect_failure(&r, 2, "no pair of stages");
    result_free(&r);
    snprintf(cmd, sizeof cmd,
             "cp '%s/fixtures/models/tiny_cls/optimized.onnx' '%s/'",
             SC_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
  }
  /* an empty directory name: refused before any work, nothing written */
  r = run_cli("verify", dir, "--report-dir", "", NULL);
  expect_failure(&r, 2, "--report-dir");
  result_free(&r);
  r = run_cli("compare", dir, dir, "--report-dir", "", NULL);
  expect_failure(&r, 2, "--report-dir");
  result_free(&r);
  r = run_cli("run", "--dump", "", dir, NULL);
  expect_failure(&r, 2, "--dump needs a directory");
  result_free(&r);
  /* a NaN bound would pass every comparison */
  r = run_cli("compare", dir, dir, "--threshold", "cosine=nan", NULL);
  expect_failure(&r, 2, "cosine=nan");
  result_free(&r);
  {
    char *report = sc_path_join(dir, "stagecheck-report");
    assert_false(sc_path_is_dir(report));
    free(report);
  }

  write_text(dir, "stagecheck.yaml", "stages:\n  - name: f\n    model: [\n");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "stagecheck.yaml:");
  result_free(&r);

  write_text(dir, "stagecheck.yaml",
             "stages:\n  - name: f\n    model: float.onnx\n    input:\n"
             "      - sharpen: {amount: 3}\n"
             "  - name: o\n    model: optimized.onnx\n");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "sharpen");
  result_free(&r);

  write_text(dir, "stagecheck.yaml",
             "stages:\n  - name: f\n    model: float.onnx\n"
             "  - name: q\n    model: missing.onnx\n");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "missing.onnx");
  result_free(&r);

  { /* an input file that is a link to a file outside */
    char *dir2 = scratch_dir();
    snprintf(cmd, sizeof cmd,
             "cd '%s/inputs' && for f in *; do rm \"$f\" && ln -s "
             "'%s/fixtures/images/coffee_64x64.png' \"$f\"; done",
             dir2, SC_SOURCE_DIR);
    assert_int_equal(system(cmd), 0);
    r = run_cli("verify", dir2, "--quiet", NULL);
    expect_failure(&r, 2, "outside the model directory");
    result_free(&r);
    sc_test_rmtree(dir2);
    free(dir2);
  }

  write_text(dir, "stagecheck.yaml",
             "stages:\n  - name: f\n    model: ../outside.onnx\n");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "outside.onnx");
  result_free(&r);

  write_text(dir, "stagecheck.yaml",
             "inputs:\n  - source: empty/\nstages:\n  - name: f\n"
             "    model: float.onnx\n");
  {
    char *empty = sc_path_join(dir, "empty");
    assert_int_equal(mkdir(empty, 0777), 0);
    free(empty);
  }
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "empty");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_exit_3_malformed_inputs(void **state)
{
  char *dir = scratch_dir(), cmd[2048];
  struct result r;
  (void)state;
  /* a truncated model */
  snprintf(cmd, sizeof cmd,
           "head -c 300 '%s/float.onnx' > '%s/f2.onnx' && mv '%s/f2.onnx' "
           "'%s/float.onnx'",
           dir, dir, dir, dir);
  assert_int_equal(system(cmd), 0);
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "float.onnx");
  result_free(&r);
  /* both stages broken: the stages load side by side, and the error is
   * still the first stage's, every time */
  snprintf(cmd, sizeof cmd,
           "head -c 200 '%s/optimized.onnx' > '%s/o2.onnx' "
           "&& mv '%s/o2.onnx' '%s/optimized.onnx'",
           dir, dir, dir, dir);
  assert_int_equal(system(cmd), 0);
  {
    int k;
    for (k = 0; k < 8; k++) {
      r = run_cli("verify", dir, "--quiet", "--threads", "2", NULL);
      expect_failure(&r, 3, "float.onnx");
      if (strstr(r.err, "optimized"))
        fail_msg("the second stage's error was reported: %s", r.err);
      result_free(&r);
    }
  }
  sc_test_rmtree(dir);
  free(dir);

  /* a garbage image */
  dir = scratch_dir();
  snprintf(cmd, sizeof cmd,
           "rm -f '%s'/inputs/* && printf 'not a png at all' > "
           "'%s/inputs/broken.png'",
           dir, dir);
  assert_int_equal(system(cmd), 0);
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "broken.png");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);

  /* a dump with one directory per input, one input's missing */
  dir = sc_test_tmpdir();
  snprintf(cmd, sizeof cmd,
           "cp -r '%s/fixtures/models/tiny_cls/.' '%s/' && rm -r "
           "'%s/compiled/coffee'",
           SC_SOURCE_DIR, dir, dir);
  assert_int_equal(system(cmd), 0);
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "no dump for input 'coffee");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);

  /* a manifest pointing outside the dump directory */
  dir = scratch_dir();
  snprintf(cmd, sizeof cmd, "mkdir '%s/compiled'", dir);
  assert_int_equal(system(cmd), 0);
  write_text(dir, "compiled/manifest.json",
             "{\"tensors\": [{\"name\": \"x\", \"file\": \"../float.onnx\"}]}");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "manifest.json");
  result_free(&r);
  write_text(dir, "compiled/manifest.json", "{\"tensors\": [");
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "manifest.json");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);

  r = run_cli("run", SC_SOURCE_DIR "/README.md", NULL);
  expect_failure(&r, 3, "README.md");
  result_free(&r);

  /* a FIFO as the model: refused, where opening it waited for a writer */
  dir = scratch_dir();
  snprintf(cmd, sizeof cmd, "rm '%s/float.onnx' && mkfifo '%s/float.onnx'", dir,
           dir);
  assert_int_equal(system(cmd), 0);
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 3, "not a regular file");
  result_free(&r);
  /* a stagecheck.yaml that is not a file: refused, not ignored */
  snprintf(cmd, sizeof cmd,
           "rm '%s/float.onnx' && cp '%s/fixtures/models/tiny_cls/float.onnx' "
           "'%s/' && mkdir '%s/stagecheck.yaml'",
           dir, SC_SOURCE_DIR, dir, dir);
  assert_int_equal(system(cmd), 0);
  r = run_cli("verify", dir, "--quiet", NULL);
  expect_failure(&r, 2, "stagecheck.yaml");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_exit_4_unsupported_operator(void **state)
{
  struct result r;
  (void)state;
  /* a Loop (control flow) model from the ONNX backend data */
  r = run_cli("run", SC_TESTDATA_DIR "/node/test_loop11/model.onnx", "--input",
              "a.npy", NULL);
  expect_failure(&r, 4, "Loop");
  result_free(&r);
}

static void test_exit_5_report_cannot_be_written(void **state)
{
  char *dir = scratch_dir();
  struct result r;
  (void)state;
  r = run_cli("verify", dir, "--report-dir", "/proc/stagecheck-report",
              "--quiet", NULL);
  expect_failure(&r, 5, "/proc/stagecheck-report");
  result_free(&r);
  sc_test_rmtree(dir);
  free(dir);
}

static void test_exit_1_gate_and_fail_on(void **state)
{
  char *dir = fixture("tiny_cls_bn_fold"), *rd = sc_test_tmpdir();
  struct result r;
  (void)state;
  r = run_cli("verify", dir, "--report-dir", rd, "--quiet", NULL);
  expect_failure(&r, 1, "tiny_cls_bn_fold");
  result_free(&r);
  r = run_cli("verify", dir, "--report-dir", rd, "--quiet", "--fail-on",
              "never", NULL);
  assert_int_equal(r.code, 0);
  result_free(&r);
  { /* two empty dump directories: nothing compared is a failure */
    char *a = sc_test_tmpdir(), *b = sc_test_tmpdir();
    r = run_cli("compare", a, b, "--report-dir", rd, NULL);
    expect_failure(&r, 1, "nothing compared");
    result_free(&r);
    sc_test_rmtree(a);
    sc_test_rmtree(b);
    free(a);
    free(b);
  }
  sc_test_rmtree(rd);
  free(rd);
  free(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verify_every_fixture_matches_expected),
      cmocka_unit_test(test_verify_json_identical_across_thread_counts),
      cmocka_unit_test(test_verify_small_budget_spills_same_report),
      cmocka_unit_test(test_verify_isolated_mode_same_isolated_rows),
      cmocka_unit_test(test_merge_of_shards_matches_full_run),
      cmocka_unit_test(test_transform_matches_generator_preprocessing),
      cmocka_unit_test(test_run_prints_output_summary),
      cmocka_unit_test(test_run_dump_then_compare),
      cmocka_unit_test(test_verify_emulated_stage),
      cmocka_unit_test(test_verify_explicit_tensor_map),
      cmocka_unit_test(test_exit_1_gate_and_fail_on),
      cmocka_unit_test(test_exit_2_usage_and_configuration),
      cmocka_unit_test(test_exit_3_malformed_inputs),
      cmocka_unit_test(test_exit_4_unsupported_operator),
      cmocka_unit_test(test_exit_5_report_cannot_be_written),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
