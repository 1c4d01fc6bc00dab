/* Report model: verdicts, localisation, freeing and writing all formats. */
#include "verifier/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"

#define TOP_N 5

const char *sc_verdict_name(enum sc_verdict v)
{
  switch (v) {
  case SC_VERDICT_PASS:
    return "pass";
  case SC_VERDICT_WARN:
    return "warn";
  case SC_VERDICT_FAIL:
    return "fail";
  }
  return "fail";
}

enum sc_verdict sc_thresholds_check(const struct sc_thresholds *t,
                                    const struct sc_metrics *m,
                                    enum sc_metric_id *breached)
{
  int id;
  for (id = 0; id < SC_N_METRICS; id++) {
    double v, bound;
    if (!(t->set & (1u << id)))
      continue;
    v = sc_metric_value(m, (enum sc_metric_id)id);
    bound = t->bound[id];
    if (isnan(v))
      continue;
    if (sc_metric_is_lower_bound((enum sc_metric_id)id) ? v < bound
                                                        : v > bound) {
      if (breached)
        *breached = (enum sc_metric_id)id;
      return SC_VERDICT_FAIL;
    }
  }
  return SC_VERDICT_PASS;
}

static void row_ref_free(struct sc_row_ref *r)
{
  free(r->tensor);
  free(r->node);
  free(r->metric);
  memset(r, 0, sizeof *r);
}

static void row_free(struct sc_row_result *r)
{
  free(r->tensor);
  free(r->reference_tensor);
  free(r->node);
  free(r->op);
  free(r->match);
  free(r->worst_input);
  free(r->worst_input_isolated);
  free(r->isolated_note);
  free(r->note);
}

static void free_strings(char **list, int n)
{
  int i;
  for (i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

static void pair_free(struct sc_pair_result *p)
{
  int i;
  free(p->reference);
  free(p->target);
  free(p->mode);
  free(p->note);
  for (i = 0; i < p->n_rows; i++)
    row_free(&p->rows[i]);
  free(p->rows);
  row_ref_free(&p->first_divergence);
  for (i = 0; i < p->n_top_isolated; i++)
    row_ref_free(&p->top_isolated[i]);
  free(p->top_isolated);
  for (i = 0; i < p->n_top_jumps; i++)
    row_ref_free(&p->top_jumps[i]);
  free(p->top_jumps);
  free_strings(p->unmatched_reference, p->n_unmatched_reference);
  free_strings(p->unmatched_target, p->n_unmatched_target);
}

void sc_report_free(struct sc_report *r)
{
  int i;
  if (!r)
    return;
  free(r->tool_version);
  free(r->model_dir);
  for (i = 0; i < r->n_stages; i++) {
    free(r->stages[i].name);
    free(r->stages[i].kind);
    free(r->stages[i].source);
    free(r->stages[i].note);
  }
  free(r->stages);
  free_strings(r->inputs, r->n_inputs);
  for (i = 0; i < r->n_pairs; i++)
    pair_free(&r->pairs[i]);
  free(r->pairs);
  free(r);
}

static int set_ref(struct sc_row_ref *ref, const struct sc_row_result *row,
                   const char *metric, double value)
{
  row_ref_free(ref);
  ref->row = row->row;
  ref->tensor = strdup(row->tensor ? row->tensor : "");
  ref->node = strdup(row->node ? row->node : "");
  ref->metric = strdup(metric);
  ref->value = value;
  return ref->tensor && ref->node && ref->metric ? 0 : -1;
}

/* x as the reports write it (10 significant digits): rows ranked by it,
 * ties by row number, come out in an order a reader can follow. */
static double as_written(double x)
{
  char text[32];
  snprintf(text, sizeof text, "%.10g", x);
  return strtod(text, NULL);
}

struct ranked {
  int index;
  double key;
  int row;
};

static int by_key_desc(const void *x, const void *y)
{
  const struct ranked *a = x, *b = y;
  if (a->key != b->key)
    return a->key < b->key ? 1 : -1;
  return a->row - b->row;
}

/* The `n` largest keys (> 0) of a pair's rows, as row references. */
static void top_rows(const struct sc_pair_result *p, int isolated,
                     struct sc_row_ref **out, int *n_out)
{
  struct ranked *r = calloc((size_t)p->n_rows + 1, sizeof *r);
  int i, n = 0;
  *out = NULL;
  *n_out = 0;
  if (!r)
    return;
  for (i = 0; i < p->n_rows; i++) {
    const struct sc_row_result *row = &p->rows[i];
    double key;
    if (isolated) {
      if (!row->has_isolated)
        continue;
      key = 1.0 - row->isolated.cosine;
    } else {
      key = row->jump;
    }
    if (!(key > 0))
      continue;
    r[n].index = i;
    r[n].key = as_written(isolated ? row->isolated.cosine : key);
    if (isolated)
      r[n].key = -r[n].key; /* the lowest cosine first */
    r[n].row = row->row;
    n++;
  }
  qsort(r, (size_t)n, sizeof *r, by_key_desc);
  if (n > TOP_N)
    n = TOP_N;
  *out = calloc((size_t)n + 1, sizeof **out);
  if (*out) {
    for (i = 0; i < n; i++) {
      const struct sc_row_result *row = &p->rows[r[i].index];
      set_ref(&(*out)[i], row, isolated ? "cosine" : "cosine_drop",
              isolated ? row->isolated.cosine : row->jump);
    }
    *n_out = n;
  }
  free(r);
}

void sc_report_localise(struct sc_report *r)
{
  int i, k;
  r->status = SC_VERDICT_PASS;
  for (i = 0; i < r->n_pairs; i++) {
    struct sc_pair_result *p = &r->pairs[i];
    int measured = 0;
    p->status = SC_VERDICT_PASS;
    p->has_first_divergence = 0;
    row_ref_free(&p->first_divergence);
    for (k = 0; k < p->n_rows; k++) {
      const struct sc_row_result *row = &p->rows[k];
      measured += !row->is_input && (row->has_accumulated || row->has_isolated);
      if (row->status > p->status)
        p->status = row->status;
      if (row->status == SC_VERDICT_FAIL && !p->has_first_divergence) {
        p->has_first_divergence = 1;
        set_ref(&p->first_divergence, row, "cosine", row->accumulated.cosine);
      }
    }
    for (k = 0; k < p->n_top_isolated; k++)
      row_ref_free(&p->top_isolated[k]);
    free(p->top_isolated);
    for (k = 0; k < p->n_top_jumps; k++)
      row_ref_free(&p->top_jumps[k]);
    free(p->top_jumps);
    top_rows(p, 1, &p->top_isolated, &p->n_top_isolated);
    top_rows(p, 0, &p->top_jumps, &p->n_top_jumps);
    /* a pair that measured no tensor proves nothing: it fails, so that a
     * gate never passes on an empty comparison (a dump directory named
     * differently, a dump of other tensors) */
    if (!measured) {
      static const char nothing[] = "nothing compared: no tensor of the "
                                    "target was measured against the "
                                    "reference";
      p->status = SC_VERDICT_FAIL;
      if (!p->note || !strstr(p->note, nothing)) {
        size_t n = (p->note ? strlen(p->note) + 2 : 0) + sizeof nothing;
        char *note = malloc(n);
        if (note) { /* without memory the status alone tells */
          snprintf(note, n, "%s%s%s", p->note ? p->note : "",
                   p->note ? "; " : "", nothing);
          free(p->note);
          p->note = note;
        }
      }
    }
    if (p->status > r->status)
      r->status = p->status;
  }
}

struct format {
  const char *name;
  const char *file;
  sc_status (*write)(const struct sc_report *r, char **text,
                     struct sc_error *err);
};

static sc_status text_plain(const struct sc_report *r, char **text,
                            struct sc_error *err)
{
  return sc_report_text(r, 0u, text, err);
}

sc_status sc_report_write_all(const struct sc_report *r, const char *dir,
                              const char *formats, struct sc_error *err)
{
  static const struct format all[] = {
      {"text", "report.txt", text_plain},
      {"json", "report.json", sc_report_json},
      {"html", "report.html", sc_report_html},
      {"junit", "report.junit.xml", sc_report_junit},
      {"csv", "report.csv", sc_report_csv},
  };
  size_t i;
  sc_status st = sc_mkdir_p(dir, err);
  if (st)
    return st;
  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    char *text = NULL, *path;
    const char *p = formats;
    size_t len = strlen(all[i].name);
    int wanted = 0;
    while (p && *p) { /* is all[i].name in the comma list? */
      const char *comma = strchr(p, ',');
      size_t n = comma ? (size_t)(comma - p) : strlen(p);
      if (n == len && strncmp(p, all[i].name, len) == 0)
        wanted = 1;
      p = comma ? comma + 1 : NULL;
    }
    if (!wanted)
      continue;
    st = all[i].write(r, &text, err);
    if (st)
      return st;
    path = sc_path_join(dir, all[i].file);
    if (!path) {
      free(text);
      return sc_fail_nomem(err, dir);
    }
    st = sc_file_write_atomic(path, text, strlen(text), err);
    free(path);
    free(text);
    if (st)
      return st;
  }
  return SC_OK;
}
