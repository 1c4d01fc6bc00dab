/* Oracle cases for the transforms tests: fixtures/transforms/cases.txt
 * lists "id input step key=value ..." lines written by
 * fixtures/transforms/gen_transforms.py, whose expected outputs come from
 * OpenCV, PIL, scikit-image, scipy and numpy. A test runs every case whose
 * id starts with a prefix and compares the step's output with
 * expected/<id>.npy, bit for bit or within a stated tolerance.
 *
 * Included by the tests/transforms/test_*.c files (one translation unit
 * each), hence the static functions. */
#ifndef SC_TESTS_TRANSFORMS_ORACLE_CASES_H
#define SC_TESTS_TRANSFORMS_ORACLE_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/tensor_file.h"
#include "tests/support/assertions.h"
#include "transforms/transform.h"

#define ORACLE_MAX_PARAMS 8

struct oracle_case {
  char id[96];
  char input[64];
  char step[64];
  int n_params;
  struct sc_transform_param params[ORACLE_MAX_PARAMS];
  char keys[ORACLE_MAX_PARAMS][32];
  char strings[ORACLE_MAX_PARAMS][64];
  double lists[ORACLE_MAX_PARAMS][SC_TRANSFORM_MAX_LIST];
};

/* Largest error seen by oracle_run over a set of cases. */
struct oracle_error {
  int n_cases;
  int64_t n_elements;
  int64_t n_different; /* elements not bit-identical */
  double max_abs;
  double max_rel; /* |a - e| / max(|e|, 1e-30) over nonzero errors */
};

static inline void oracle_parse_value(struct oracle_case *c, int i,
                                      const char *text)
{
  struct sc_transform_param *p = &c->params[i];
  char *end;
  p->line = 0;
  if (text[0] == '[') {
    const char *s = text + 1;
    p->type = SC_PARAM_LIST;
    p->n_list = 0;
    p->list = c->lists[i];
    while (*s && *s != ']' && p->n_list < SC_TRANSFORM_MAX_LIST) {
      c->lists[i][p->n_list++] = strtod(s, &end);
      s = end;
      while (*s == ',')
        s++;
    }
    return;
  }
  if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
    p->type = SC_PARAM_BOOL;
    p->number = text[0] == 't';
    return;
  }
  p->number = strtod(text, &end);
  if (end != text && *end == '\0') {
    p->type = SC_PARAM_NUMBER;
    return;
  }
  p->type = SC_PARAM_STRING;
  snprintf(c->strings[i], sizeof c->strings[i], "%s", text);
  p->string = c->strings[i];
}

/* Parses one line of cases.txt; returns 0 on success. */
static inline int oracle_parse_line(char *line, struct oracle_case *c)
{
  char *tok, *save = NULL;
  memset(c, 0, sizeof *c);
  tok = strtok_r(line, " \n", &save);
  if (!tok || tok[0] == '#')
    return -1;
  snprintf(c->id, sizeof c->id, "%s", tok);
  tok = strtok_r(NULL, " \n", &save);
  if (!tok)
    return -1;
  snprintf(c->input, sizeof c->input, "%s", tok);
  tok = strtok_r(NULL, " \n", &save);
  if (!tok)
    return -1;
  snprintf(c->step, sizeof c->step, "%s", tok);
  while ((tok = strtok_r(NULL, " \n", &save)) &&
         c->n_params < ORACLE_MAX_PARAMS) {
    char *eq = strchr(tok, '=');
    if (!eq)
      return -1;
    *eq = '\0';
    snprintf(c->keys[c->n_params], sizeof c->keys[0], "%s", tok);
    c->params[c->n_params].key = c->keys[c->n_params];
    oracle_parse_value(c, c->n_params, eq + 1);
    c->n_params++;
  }
  return 0;
}

static inline struct sc_tensor *oracle_load(const char *dir, const char *name)
{
  char path[512];
  struct sc_tensor *t = NULL;
  struct sc_error err;
  snprintf(path, sizeof path, "%s/transforms/%s/%s.npy", sc_test_fixtures_dir(),
           dir, name);
  if (sc_npy_load(path, &t, &err) != SC_OK)
    fail_msg("cannot load %s: %s", path, err.message);
  return t;
}

/* Layout of a case's input, from its name. */
static inline enum sc_layout oracle_layout(const char *input)
{
  if (strstr(input, "chw"))
    return SC_LAYOUT_CHW;
  if (strncmp(input, "nv12", 4) == 0 || strncmp(input, "yuv", 3) == 0)
    return SC_LAYOUT_NV12;
  return SC_LAYOUT_HWC;
}

/* Compares; exact: dtype, shape and bytes identical; else within
 * atol + rtol * |e| (uint8/int8 compared as numbers). Updates `stats`. */
static inline void oracle_compare(const char *id,
                                  const struct sc_tensor *actual,
                                  const struct sc_tensor *expected, double atol,
                                  double rtol, struct oracle_error *stats)
{
  char sa[96], se[96];
  int64_t i;
  if (actual->dtype != expected->dtype)
    fail_msg("%s: dtype %s, expected %s", id, sc_dtype_name(actual->dtype),
             sc_dtype_name(expected->dtype));
  if (!sc_tensor_same_shape(actual, expected))
    fail_msg("%s: shape %s, expected %s", id,
             sc_shape_format(actual->rank, actual->dims, sa, sizeof sa),
             sc_shape_format(expected->rank, expected->dims, se, sizeof se));
  stats->n_cases++;
  stats->n_elements += actual->n_elements;
  for (i = 0; i < actual->n_elements; i++) {
    size_t es = sc_dtype_size(actual->dtype);
    double a, e, d;
    if (memcmp((const char *)actual->data + i * es,
               (const char *)expected->data + i * es, es) == 0)
      continue;
    stats->n_different++;
    a = sc_dtype_load(actual->dtype, actual->data, i);
    e = sc_dtype_load(expected->dtype, expected->data, i);
    d = fabs(a - e);
    if (d > stats->max_abs)
      stats->max_abs = d;
    if (d / fmax(fabs(e), 1e-30) > stats->max_rel)
      stats->max_rel = d / fmax(fabs(e), 1e-30);
    if (!(d <= atol + rtol * fabs(e)))
      fail_msg("%s: element %lld is %.9g, expected %.9g (atol %g, rtol %g)", id,
               (long long)i, a, e, atol, rtol);
  }
}

/* Runs every case whose id starts with `prefix` (at least one must exist)
 * and returns the error statistics. atol = rtol = 0: bit-exact. */
static inline struct oracle_error oracle_run(const char *prefix, double atol,
                                             double rtol)
{
  char path[512], line[1024];
  struct oracle_error stats;
  FILE *f;

  memset(&stats, 0, sizeof stats);
  snprintf(path, sizeof path, "%s/transforms/cases.txt",
           sc_test_fixtures_dir());
  f = fopen(path, "r");
  if (!f)
    fail_msg("cannot open %s", path);
  while (fgets(line, sizeof line, f)) {
    struct oracle_case c;
    struct sc_transform *t = NULL;
    struct sc_tensor *in, *expected, *out = NULL;
    enum sc_layout layout;
    struct sc_error err;
    if (oracle_parse_line(line, &c) ||
        strncmp(c.id, prefix, strlen(prefix)) != 0)
      continue;
    if (sc_transform_create(c.step, c.params, c.n_params, &t, &err) != SC_OK)
      fail_msg("%s: create %s failed: %s", c.id, c.step, err.message);
    in = oracle_load("inputs", c.input);
    expected = oracle_load("expected", c.id);
    layout = oracle_layout(c.input);
    if (sc_transform_apply(t, in, &layout, &out, &err) != SC_OK)
      fail_msg("%s: apply failed: %s", c.id, err.message);
    oracle_compare(c.id, out, expected, atol, rtol, &stats);
    sc_tensor_free(out);
    sc_tensor_free(in);
    sc_tensor_free(expected);
    sc_transform_free(t);
  }
  fclose(f);
  if (stats.n_cases == 0)
    fail_msg("no oracle case starts with '%s'", prefix);
  printf("  %-34s %3d cases, %8lld elements, %6lld differ, max abs %.3g, "
         "max rel %.3g\n",
         prefix, stats.n_cases, (long long)stats.n_elements,
         (long long)stats.n_different, stats.max_abs, stats.max_rel);
  return stats;
}

/* Bit-exact run of every case with the prefix. */
static inline void oracle_exact(const char *prefix)
{
  struct oracle_error e = oracle_run(prefix, 0, 0);
  assert_int_equal(e.n_different, 0);
}

/* Creation with the given parameters must fail with SC_ERR_CONFIG and a
 * message naming the transformer and `needle` (the parameter). */
static inline void expect_create_error(const char *name,
                                       const struct sc_transform_param *params,
                                       int n_params, const char *needle)
{
  struct sc_transform *t = NULL;
  struct sc_error err;
  sc_status st = sc_transform_create(name, params, n_params, &t, &err);
  if (st != SC_ERR_CONFIG)
    fail_msg("%s: expected SC_ERR_CONFIG, got %d", name, (int)st);
  assert_null(t);
  if (!strstr(err.message, name) || !strstr(err.message, needle))
    fail_msg("%s: message '%s' does not name '%s'", name, err.message, needle);
  assert_int_equal(sc_status_exit_code(st), 2);
}

/* Applying must fail with `status` and a message naming the transformer
 * and `needle`. */
static inline void expect_apply_error(const char *name,
                                      const struct sc_transform_param *params,
                                      int n_params, const struct sc_tensor *in,
                                      enum sc_layout layout, sc_status status,
                                      const char *needle)
{
  struct sc_transform *t = NULL;
  struct sc_tensor *out = NULL;
  struct sc_error err;
  sc_status st;
  if (sc_transform_create(name, params, n_params, &t, &err) != SC_OK)
    fail_msg("%s: create failed: %s", name, err.message);
  st = sc_transform_apply(t, in, &layout, &out, &err);
  sc_transform_free(t);
  if (st != status)
    fail_msg("%s: expected status %d, got %d (%s)", name, (int)status, (int)st,
             st ? err.message : "ok");
  assert_null(out);
  if (!strstr(err.message, name) || !strstr(err.message, needle))
    fail_msg("%s: message '%s' does not name '%s'", name, err.message, needle);
}

/* Parameter builders. */
static inline struct sc_transform_param p_num(const char *key, double v)
{
  struct sc_transform_param p;
  memset(&p, 0, sizeof p);
  p.key = key;
  p.type = SC_PARAM_NUMBER;
  p.number = v;
  return p;
}

static inline struct sc_transform_param p_str(const char *key, const char *s)
{
  struct sc_transform_param p;
  memset(&p, 0, sizeof p);
  p.key = key;
  p.type = SC_PARAM_STRING;
  p.string = s;
  return p;
}

static inline struct sc_transform_param p_list(const char *key, int n,
                                               const double *v)
{
  struct sc_transform_param p;
  memset(&p, 0, sizeof p);
  p.key = key;
  p.type = SC_PARAM_LIST;
  p.n_list = n;
  p.list = v;
  return p;
}

/* A small uint8 HWC test image with a deterministic pattern. */
static inline struct sc_tensor *pattern_image(enum sc_dtype dtype, int64_t h,
                                              int64_t w, int64_t c)
{
  int64_t dims[3], i;
  struct sc_tensor *t = NULL;
  dims[0] = h;
  dims[1] = w;
  dims[2] = c;
  assert_int_equal(sc_tensor_create(dtype, 3, dims, &t, NULL), SC_OK);
  for (i = 0; i < t->n_elements; i++)
    sc_dtype_store(dtype, t->data, i, (double)((i * 37 + 11) % 251));
  return t;
}

#endif
