/* Combining the reports of the shards of one verify run: inputs are
 * concatenated, and every row keeps the worst value over the shards (and
 * the input it came from); verdicts and localisation are recomputed with
 * the thresholds the reports carry. A row's `jump` is the largest over the
 * shards. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verify.h"

static int worse(const struct sc_metrics *a, const struct sc_metrics *b)
{
  return a->cosine < b->cosine;
}

static void swap_str(char **a, char **b)
{
  char *t = *a;
  *a = *b;
  *b = t;
}

static void merge_row(struct sc_row_result *into, struct sc_row_result *row)
{
  if (row->has_accumulated) {
    if (!into->has_accumulated) {
      into->accumulated = row->accumulated;
      into->has_accumulated = 1;
      swap_str(&into->worst_input, &row->worst_input);
      into->n_worst_channels = row->n_worst_channels;
      memcpy(into->worst_channels, row->worst_channels,
             sizeof row->worst_channels);
    } else {
      if (worse(&row->accumulated, &into->accumulated)) {
        swap_str(&into->worst_input, &row->worst_input);
        into->n_worst_channels = row->n_worst_channels;
        memcpy(into->worst_channels, row->worst_channels,
               sizeof row->worst_channels);
      }
      sc_metrics_keep_worst(&into->accumulated, &row->accumulated);
    }
  }
  if (row->has_isolated) {
    if (!into->has_isolated) {
      into->isolated = row->isolated;
      into->has_isolated = 1;
      swap_str(&into->worst_input_isolated, &row->worst_input_isolated);
    } else {
      if (worse(&row->isolated, &into->isolated))
        swap_str(&into->worst_input_isolated, &row->worst_input_isolated);
      sc_metrics_keep_worst(&into->isolated, &row->isolated);
    }
  }
  if (!isnan(row->jump) && (isnan(into->jump) || row->jump > into->jump))
    into->jump = row->jump;
}

static enum sc_verdict verdict(const struct sc_pair_result *p,
                               const struct sc_row_result *row)
{
  const struct sc_thresholds *t = row->is_input    ? &p->input_thresholds
                                  : row->is_output ? &p->output_thresholds
                                                   : &p->thresholds;
  enum sc_verdict v = SC_VERDICT_PASS;
  if (row->has_accumulated) {
    v = sc_thresholds_check(t, &row->accumulated, NULL);
    if (row->accumulated.nan_tgt > row->accumulated.nan_ref ||
        row->accumulated.inf_tgt > row->accumulated.inf_ref)
      v = SC_VERDICT_FAIL;
  }
  if (v == SC_VERDICT_PASS && row->has_isolated &&
      sc_thresholds_check(t, &row->isolated, NULL) == SC_VERDICT_FAIL)
    v = SC_VERDICT_WARN;
  return v;
}

sc_status sc_report_merge(const char *const *paths, int n_paths,
                          struct sc_report **out, struct sc_error *err)
{
  struct sc_report *merged = NULL;
  int i, k, j;
  sc_status st;

  *out = NULL;
  if (n_paths < 1)
    return sc_fail(err, SC_ERR_USAGE, "merge needs at least one report");
  st = sc_report_read_json(paths[0], &merged, err);
  if (st)
    return st;
  for (i = 1; i < n_paths; i++) {
    struct sc_report *r = NULL;
    char **inputs;
    st = sc_report_read_json(paths[i], &r, err);
    if (st)
      break;
    if (strcmp(r->model_dir, merged->model_dir) != 0 ||
        r->n_pairs != merged->n_pairs) {
      st = sc_fail(err, SC_ERR_FORMAT,
                   "%s: not a shard of the same run as %s (model directory or "
                   "pairs differ)",
                   paths[i], paths[0]);
      sc_report_free(r);
      break;
    }
    for (k = 0; k < r->n_inputs && !st; k++) /* shards split the inputs */
      for (j = 0; j < merged->n_inputs && !st; j++)
        if (strcmp(r->inputs[k], merged->inputs[j]) == 0)
          st = sc_fail(err, SC_ERR_FORMAT,
                       "%s: input '%s' is also in an earlier shard (shards "
                       "split the inputs; a report given twice?)",
                       paths[i], r->inputs[k]);
    if (st) {
      sc_report_free(r);
      break;
    }
    inputs =
        realloc(merged->inputs,
                (size_t)(merged->n_inputs + r->n_inputs + 1) * sizeof *inputs);
    if (!inputs) {
      sc_report_free(r);
      st = sc_fail_nomem(err, "merge");
      break;
    }
    merged->inputs = inputs;
    for (k = 0; k < r->n_inputs; k++) {
      merged->inputs[merged->n_inputs++] = r->inputs[k];
      r->inputs[k] = NULL;
    }
    for (k = 0; k < merged->n_pairs && !st; k++) {
      struct sc_pair_result *into = &merged->pairs[k], *p = &r->pairs[k];
      if (strcmp(into->reference, p->reference) ||
          strcmp(into->target, p->target) || into->n_rows != p->n_rows) {
        st = sc_fail(err, SC_ERR_FORMAT,
                     "%s: pair %s->%s does not match the other shards",
                     paths[i], p->reference, p->target);
        break;
      }
      for (j = 0; j < p->n_rows; j++) {
        if (strcmp(into->rows[j].tensor, p->rows[j].tensor) != 0) {
          st = sc_fail(err, SC_ERR_FORMAT,
                       "%s: row %d of %s->%s is '%s', not '%s'", paths[i], j,
                       p->reference, p->target, p->rows[j].tensor,
                       into->rows[j].tensor);
          break;
        }
        merge_row(&into->rows[j], &p->rows[j]);
      }
    }
    sc_report_free(r);
    if (st)
      break;
  }
  if (st) {
    sc_report_free(merged);
    return st;
  }
  for (k = 0; k < merged->n_pairs; k++)
    for (j = 0; j < merged->pairs[k].n_rows; j++)
      merged->pairs[k].rows[j].status =
          verdict(&merged->pairs[k], &merged->pairs[k].rows[j]);
  sc_report_localise(merged);
  *out = merged;
  return SC_OK;
}
