/* report.json, schema stagecheck.report/v1 (spec/report.md): written by
 * hand so the bytes depend only on the report (fixed key order, %.10g
 * numbers, null for non-finite values), and read back with json-c for
 * `merge`. */
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/report.h"
#include "verifier/textbuf.h"

#define SCHEMA "stagecheck.report/v1"

static void key(struct sc_textbuf *b, int indent, const char *name)
{
  sc_textbuf_printf(b, "%*s", indent, "");
  sc_textbuf_json_string(b, name);
  sc_textbuf_append(b, ": ");
}

static void metric_field(struct sc_textbuf *b, int *first, const char *name,
                         double v)
{
  sc_textbuf_append(b, *first ? "" : ", ");
  *first = 0;
  sc_textbuf_json_string(b, name);
  sc_textbuf_append(b, ": ");
  sc_textbuf_json_number(b, v);
}

static void write_metrics(struct sc_textbuf *b, const struct sc_metrics *m)
{
  int first = 1;
  sc_textbuf_append(b, "{");
  metric_field(b, &first, "cosine", m->cosine);
  metric_field(b, &first, "max_abs", m->max_abs);
  metric_field(b, &first, "mean_abs", m->mean_abs);
  metric_field(b, &first, "rmse", m->rmse);
  metric_field(b, &first, "sqnr_db", m->sqnr_db);
  metric_field(b, &first, "rel_l2", m->rel_l2);
  metric_field(b, &first, "max_rel", m->max_rel);
  metric_field(b, &first, "exact_ratio", m->exact_ratio);
  if (m->has_lsb) {
    metric_field(b, &first, "max_abs_lsb", m->max_abs_lsb);
    metric_field(b, &first, "saturation", m->saturation);
  }
  if (m->has_top1)
    metric_field(b, &first, "top1_agree", m->top1_agree);
  metric_field(b, &first, "nan_ref", (double)m->nan_ref);
  metric_field(b, &first, "nan_tgt", (double)m->nan_tgt);
  metric_field(b, &first, "inf_ref", (double)m->inf_ref);
  metric_field(b, &first, "inf_tgt", (double)m->inf_tgt);
  metric_field(b, &first, "n_elements", (double)m->n_elements);
  sc_textbuf_append(b, "}");
}

static void write_thresholds(struct sc_textbuf *b,
                             const struct sc_thresholds *t)
{
  int id, first = 1;
  sc_textbuf_append(b, "{");
  for (id = 0; id < SC_N_METRICS; id++)
    if (t->set & (1u << id))
      metric_field(b, &first, sc_metric_name((enum sc_metric_id)id),
                   t->bound[id]);
  sc_textbuf_append(b, "}");
}

static void write_row_ref(struct sc_textbuf *b, const struct sc_row_ref *r,
                          int with_value)
{
  sc_textbuf_printf(b, "{\"row\": %d, \"tensor\": ", r->row);
  sc_textbuf_json_string(b, r->tensor);
  sc_textbuf_append(b, ", \"node\": ");
  sc_textbuf_json_string(b, r->node);
  if (with_value) {
    sc_textbuf_append(b, ", \"metric\": ");
    sc_textbuf_json_string(b, r->metric);
    sc_textbuf_append(b, ", \"value\": ");
    sc_textbuf_json_number(b, r->value);
  }
  sc_textbuf_append(b, "}");
}

static void write_refs(struct sc_textbuf *b, const struct sc_row_ref *refs,
                       int n)
{
  int i;
  sc_textbuf_append(b, "[");
  for (i = 0; i < n; i++) {
    sc_textbuf_append(b, i ? ", " : "");
    write_row_ref(b, &refs[i], 1);
  }
  sc_textbuf_append(b, "]");
}

static void write_names(struct sc_textbuf *b, char *const *names, int n)
{
  int i;
  sc_textbuf_append(b, "[");
  for (i = 0; i < n; i++) {
    sc_textbuf_append(b, i ? ", " : "");
    sc_textbuf_json_string(b, names[i]);
  }
  sc_textbuf_append(b, "]");
}

static void write_row(struct sc_textbuf *b, const struct sc_row_result *r)
{
  int i;
  sc_textbuf_printf(b, "        {\"row\": %d, \"tensor\": ", r->row);
  sc_textbuf_json_string(b, r->tensor);
  sc_textbuf_append(b, ", \"reference_tensor\": ");
  sc_textbuf_json_string(b, r->reference_tensor);
  sc_textbuf_append(b, ", \"node\": ");
  sc_textbuf_json_string(b, r->node);
  sc_textbuf_append(b, ", \"op\": ");
  sc_textbuf_json_string(b, r->op);
  sc_textbuf_append(b, ", \"shape\": [");
  for (i = 0; i < r->rank; i++)
    sc_textbuf_printf(b, "%s%lld", i ? ", " : "", (long long)r->dims[i]);
  sc_textbuf_append(b, "], \"match\": ");
  sc_textbuf_json_string(b, r->match);
  sc_textbuf_append(b, ", \"status\": ");
  sc_textbuf_json_string(b, sc_verdict_name(r->status));
  if (r->is_input)
    sc_textbuf_append(b, ", \"is_input\": true");
  if (r->is_output)
    sc_textbuf_append(b, ", \"is_output\": true");
  sc_textbuf_append(b, ",\n         \"accumulated\": ");
  if (r->has_accumulated)
    write_metrics(b, &r->accumulated);
  else
    sc_textbuf_append(b, "null");
  sc_textbuf_append(b, ",\n         \"isolated\": ");
  if (r->has_isolated)
    write_metrics(b, &r->isolated);
  else
    sc_textbuf_append(b, "null");
  if (r->isolated_note) {
    sc_textbuf_append(b, ", \"isolated_note\": ");
    sc_textbuf_json_string(b, r->isolated_note);
  }
  sc_textbuf_append(b, ", \"worst_input\": ");
  if (r->worst_input)
    sc_textbuf_json_string(b, r->worst_input);
  else
    sc_textbuf_append(b, "null");
  if (r->worst_input_isolated) {
    sc_textbuf_append(b, ", \"worst_input_isolated\": ");
    sc_textbuf_json_string(b, r->worst_input_isolated);
  }
  sc_textbuf_append(b, ", \"jump\": ");
  sc_textbuf_json_number(b, r->jump);
  if (r->n_worst_channels) {
    sc_textbuf_append(b, ", \"worst_channels\": [");
    for (i = 0; i < r->n_worst_channels; i++) {
      const struct sc_channel_error *c = &r->worst_channels[i];
      sc_textbuf_printf(b, "%s{\"channel\": %lld, \"cosine\": ", i ? ", " : "",
                        (long long)c->channel);
      sc_textbuf_json_number(b, c->cosine);
      sc_textbuf_append(b, ", \"max_abs\": ");
      sc_textbuf_json_number(b, c->max_abs);
      sc_textbuf_append(b, ", \"sqnr_db\": ");
      sc_textbuf_json_number(b, c->sqnr_db);
      sc_textbuf_append(b, "}");
    }
    sc_textbuf_append(b, "]");
  }
  if (r->note) {
    sc_textbuf_append(b, ", \"note\": ");
    sc_textbuf_json_string(b, r->note);
  }
  sc_textbuf_append(b, "}");
}

static void write_pair(struct sc_textbuf *b, const struct sc_pair_result *p)
{
  int i;
  sc_textbuf_append(b, "    {\"reference\": ");
  sc_textbuf_json_string(b, p->reference);
  sc_textbuf_append(b, ", \"target\": ");
  sc_textbuf_json_string(b, p->target);
  sc_textbuf_append(b, ", \"status\": ");
  sc_textbuf_json_string(b, sc_verdict_name(p->status));
  sc_textbuf_append(b, ", \"mode\": ");
  sc_textbuf_json_string(b, p->mode ? p->mode : "accumulated");
  if (p->note) {
    sc_textbuf_append(b, ", \"note\": ");
    sc_textbuf_json_string(b, p->note);
  }
  sc_textbuf_append(b, ",\n");
  key(b, 6, "thresholds");
  write_thresholds(b, &p->thresholds);
  sc_textbuf_append(b, ", \"input_thresholds\": ");
  write_thresholds(b, &p->input_thresholds);
  sc_textbuf_append(b, ", \"output_thresholds\": ");
  write_thresholds(b, &p->output_thresholds);
  sc_textbuf_append(b, ",\n");
  key(b, 6, "match_ratio");
  sc_textbuf_json_number(b, p->match_ratio);
  sc_textbuf_append(b, ",\n");
  key(b, 6, "first_divergence");
  if (p->has_first_divergence)
    write_row_ref(b, &p->first_divergence, 0);
  else
    sc_textbuf_append(b, "null");
  sc_textbuf_append(b, ",\n");
  key(b, 6, "top_isolated");
  write_refs(b, p->top_isolated, p->n_top_isolated);
  sc_textbuf_append(b, ",\n");
  key(b, 6, "top_jumps");
  write_refs(b, p->top_jumps, p->n_top_jumps);
  sc_textbuf_append(b, ",\n");
  key(b, 6, "rows");
  sc_textbuf_append(b, "[\n");
  for (i = 0; i < p->n_rows; i++) {
    write_row(b, &p->rows[i]);
    sc_textbuf_append(b, i + 1 < p->n_rows ? ",\n" : "\n");
  }
  sc_textbuf_append(b, "      ],\n");
  key(b, 6, "unmatched");
  sc_textbuf_append(b, "{\"reference\": ");
  write_names(b, p->unmatched_reference, p->n_unmatched_reference);
  sc_textbuf_append(b, ", \"target\": ");
  write_names(b, p->unmatched_target, p->n_unmatched_target);
  sc_textbuf_append(b, "}}");
}

sc_status sc_report_json(const struct sc_report *r, char **text,
                         struct sc_error *err)
{
  struct sc_textbuf b;
  int i;

  sc_textbuf_init(&b);
  sc_textbuf_append(&b, "{\n");
  key(&b, 2, "schema");
  sc_textbuf_json_string(&b, SCHEMA);
  sc_textbuf_append(&b, ",\n");
  key(&b, 2, "tool");
  sc_textbuf_append(&b, "{\"name\": \"stagecheck\", \"version\": ");
  sc_textbuf_json_string(&b, r->tool_version);
  sc_textbuf_append(&b, "},\n");
  key(&b, 2, "model_dir");
  sc_textbuf_json_string(&b, r->model_dir);
  sc_textbuf_append(&b, ",\n");
  key(&b, 2, "status");
  sc_textbuf_json_string(&b, sc_verdict_name(r->status));
  sc_textbuf_append(&b, ",\n");
  key(&b, 2, "stages");
  sc_textbuf_append(&b, "[\n");
  for (i = 0; i < r->n_stages; i++) {
    const struct sc_stage_result *s = &r->stages[i];
    sc_textbuf_append(&b, "    {\"name\": ");
    sc_textbuf_json_string(&b, s->name);
    sc_textbuf_append(&b, ", \"kind\": ");
    sc_textbuf_json_string(&b, s->kind);
    sc_textbuf_append(&b, ", \"source\": ");
    sc_textbuf_json_string(&b, s->source);
    if (s->note) {
      sc_textbuf_append(&b, ", \"note\": ");
      sc_textbuf_json_string(&b, s->note);
    }
    sc_textbuf_append(&b, i + 1 < r->n_stages ? "},\n" : "}\n");
  }
  sc_textbuf_append(&b, "  ],\n");
  key(&b, 2, "inputs");
  sc_textbuf_append(&b, "[");
  for (i = 0; i < r->n_inputs; i++) {
    sc_textbuf_append(&b, i ? ", {\"id\": " : "{\"id\": ");
    sc_textbuf_json_string(&b, r->inputs[i]);
    sc_textbuf_append(&b, "}");
  }
  sc_textbuf_append(&b, "],\n");
  key(&b, 2, "pairs");
  sc_textbuf_append(&b, "[\n");
  for (i = 0; i < r->n_pairs; i++) {
    write_pair(&b, &r->pairs[i]);
    sc_textbuf_append(&b, i + 1 < r->n_pairs ? ",\n" : "\n");
  }
  sc_textbuf_append(&b, "  ]\n}\n");
  return sc_textbuf_finish(&b, text, err);
}

/* --- reading back -------------------------------------------------- */

struct reader {
  const char *path;
  struct sc_error *err;
};

static json_object *field(json_object *o, const char *name)
{
  json_object *v = NULL;
  if (!o || !json_object_object_get_ex(o, name, &v))
    return NULL;
  return v;
}

static sc_status need(struct reader *rd, json_object *o, const char *name,
                      json_type type, const char *where, json_object **out)
{
  json_object *v = field(o, name);
  *out = v;
  if (!v || !json_object_is_type(v, type))
    return sc_fail(rd->err, SC_ERR_FORMAT,
                   "%s: %s: field '%s' is missing or has the wrong type",
                   rd->path, where, name);
  return SC_OK;
}

static char *dup_string(json_object *v)
{
  return strdup(v && json_object_is_type(v, json_type_string)
                    ? json_object_get_string(v)
                    : "");
}

static char *dup_optional(json_object *v)
{
  return v && json_object_is_type(v, json_type_string)
             ? strdup(json_object_get_string(v))
             : NULL;
}

static double number_or(json_object *v, double when_null)
{
  if (!v || json_object_is_type(v, json_type_null))
    return when_null;
  return json_object_get_double(v);
}

static enum sc_verdict verdict_of(json_object *v)
{
  const char *s = v ? json_object_get_string(v) : "fail";
  if (s && strcmp(s, "pass") == 0)
    return SC_VERDICT_PASS;
  if (s && strcmp(s, "warn") == 0)
    return SC_VERDICT_WARN;
  return SC_VERDICT_FAIL;
}

static void read_metrics(json_object *o, struct sc_metrics *m)
{
  memset(m, 0, sizeof *m);
  m->cosine = number_or(field(o, "cosine"), NAN);
  m->max_abs = number_or(field(o, "max_abs"), INFINITY);
  m->mean_abs = number_or(field(o, "mean_abs"), INFINITY);
  m->rmse = number_or(field(o, "rmse"), INFINITY);
  m->sqnr_db = number_or(field(o, "sqnr_db"), INFINITY);
  m->rel_l2 = number_or(field(o, "rel_l2"), INFINITY);
  m->max_rel = number_or(field(o, "max_rel"), INFINITY);
  m->exact_ratio = number_or(field(o, "exact_ratio"), NAN);
  if (field(o, "max_abs_lsb")) {
    m->has_lsb = 1;
    m->max_abs_lsb = number_or(field(o, "max_abs_lsb"), INFINITY);
    m->saturation = number_or(field(o, "saturation"), NAN);
  }
  if (field(o, "top1_agree")) {
    m->has_top1 = 1;
    m->top1_agree = number_or(field(o, "top1_agree"), NAN);
  }
  m->nan_ref = (int64_t)number_or(field(o, "nan_ref"), 0);
  m->nan_tgt = (int64_t)number_or(field(o, "nan_tgt"), 0);
  m->inf_ref = (int64_t)number_or(field(o, "inf_ref"), 0);
  m->inf_tgt = (int64_t)number_or(field(o, "inf_tgt"), 0);
  m->n_elements = (int64_t)number_or(field(o, "n_elements"), 0);
}

static void read_thresholds(json_object *o, struct sc_thresholds *t)
{
  int id;
  memset(t, 0, sizeof *t);
  for (id = 0; id < SC_N_METRICS; id++) {
    json_object *v = field(o, sc_metric_name((enum sc_metric_id)id));
    if (v) {
      t->set |= 1u << id;
      t->bound[id] = number_or(v, NAN);
    }
  }
}

static sc_status read_names(json_object *arr, char ***out, int *n)
{
  size_t i, len = arr && json_object_is_type(arr, json_type_array)
                      ? json_object_array_length(arr)
                      : 0;
  *out = calloc(len + 1, sizeof **out);
  *n = 0;
  if (!*out)
    return SC_ERR_NOMEM;
  for (i = 0; i < len; i++) {
    (*out)[i] = dup_string(json_object_array_get_idx(arr, i));
    if (!(*out)[i])
      return SC_ERR_NOMEM;
    *n = (int)i + 1;
  }
  return SC_OK;
}

static sc_status read_row(struct reader *rd, json_object *o,
                          struct sc_row_result *row)
{
  json_object *v;
  size_t i;
  sc_status st = need(rd, o, "row", json_type_int, "a row", &v);
  if (st)
    return st;
  row->row = json_object_get_int(v);
  row->tensor = dup_string(field(o, "tensor"));
  row->reference_tensor = dup_string(field(o, "reference_tensor"));
  row->node = dup_string(field(o, "node"));
  row->op = dup_string(field(o, "op"));
  row->match = dup_string(field(o, "match"));
  row->status = verdict_of(field(o, "status"));
  row->is_input = field(o, "is_input") != NULL;
  row->is_output = field(o, "is_output") != NULL;
  v = field(o, "shape");
  if (v && json_object_is_type(v, json_type_array)) {
    row->rank = (int)json_object_array_length(v);
    if (row->rank > 8)
      row->rank = 8;
    for (i = 0; i < (size_t)row->rank; i++)
      row->dims[i] = json_object_get_int64(json_object_array_get_idx(v, i));
  }
  v = field(o, "accumulated");
  if (v && json_object_is_type(v, json_type_object)) {
    row->has_accumulated = 1;
    read_metrics(v, &row->accumulated);
  }
  v = field(o, "isolated");
  if (v && json_object_is_type(v, json_type_object)) {
    row->has_isolated = 1;
    read_metrics(v, &row->isolated);
  }
  row->isolated_note = dup_optional(field(o, "isolated_note"));
  row->worst_input = dup_optional(field(o, "worst_input"));
  row->worst_input_isolated = dup_optional(field(o, "worst_input_isolated"));
  row->note = dup_optional(field(o, "note"));
  row->jump = number_or(field(o, "jump"), NAN);
  v = field(o, "worst_channels");
  if (v && json_object_is_type(v, json_type_array)) {
    size_t n = json_object_array_length(v);
    for (i = 0; i < n && i < SC_REPORT_WORST_CHANNELS; i++) {
      json_object *c = json_object_array_get_idx(v, i);
      row->worst_channels[i].channel =
          (int64_t)number_or(field(c, "channel"), -1);
      row->worst_channels[i].cosine = number_or(field(c, "cosine"), NAN);
      row->worst_channels[i].max_abs = number_or(field(c, "max_abs"), NAN);
      row->worst_channels[i].sqnr_db = number_or(field(c, "sqnr_db"), NAN);
      row->n_worst_channels = (int)i + 1;
    }
  }
  if (!row->tensor || !row->reference_tensor || !row->node || !row->op ||
      !row->match)
    return sc_fail_nomem(rd->err, rd->path);
  return SC_OK;
}

static sc_status read_pair(struct reader *rd, json_object *o,
                           struct sc_pair_result *p)
{
  json_object *v, *rows, *unmatched;
  size_t i, n;
  sc_status st;

  if ((st = need(rd, o, "reference", json_type_string, "a pair", &v)))
    return st;
  p->reference = dup_string(v);
  if ((st = need(rd, o, "target", json_type_string, "a pair", &v)))
    return st;
  p->target = dup_string(v);
  p->status = verdict_of(field(o, "status"));
  p->mode = dup_string(field(o, "mode"));
  p->note = dup_optional(field(o, "note"));
  read_thresholds(field(o, "thresholds"), &p->thresholds);
  read_thresholds(field(o, "input_thresholds"), &p->input_thresholds);
  read_thresholds(field(o, "output_thresholds"), &p->output_thresholds);
  p->match_ratio = number_or(field(o, "match_ratio"), NAN);
  if ((st = need(rd, o, "rows", json_type_array, "a pair", &rows)))
    return st;
  n = json_object_array_length(rows);
  p->rows = calloc(n + 1, sizeof *p->rows);
  if (!p->rows)
    return sc_fail_nomem(rd->err, rd->path);
  for (i = 0; i < n; i++) {
    p->n_rows = (int)i + 1;
    st = read_row(rd, json_object_array_get_idx(rows, i), &p->rows[i]);
    if (st)
      return st;
  }
  unmatched = field(o, "unmatched");
  if (read_names(field(unmatched, "reference"), &p->unmatched_reference,
                 &p->n_unmatched_reference) ||
      read_names(field(unmatched, "target"), &p->unmatched_target,
                 &p->n_unmatched_target))
    return sc_fail_nomem(rd->err, rd->path);
  return SC_OK;
}

sc_status sc_report_read_json(const char *path, struct sc_report **out,
                              struct sc_error *err)
{
  struct reader rd = {path, err};
  struct sc_report *r;
  json_object *root, *v, *arr;
  size_t i, n;
  sc_status st;

  *out = NULL;
  root = json_object_from_file(path);
  if (!root)
    return sc_fail(err, SC_ERR_FORMAT, "%s: not a readable JSON file (%s)",
                   path, json_util_get_last_err());
  r = calloc(1, sizeof *r);
  if (!r) {
    json_object_put(root);
    return sc_fail_nomem(err, path);
  }
  st = need(&rd, root, "schema", json_type_string, "the report", &v);
  if (!st && strcmp(json_object_get_string(v), SCHEMA) != 0)
    st = sc_fail(err, SC_ERR_FORMAT, "%s: schema '%s' is not %s", path,
                 json_object_get_string(v), SCHEMA);
  if (st)
    goto done;
  r->tool_version = dup_string(field(field(root, "tool"), "version"));
  r->model_dir = dup_string(field(root, "model_dir"));
  r->status = verdict_of(field(root, "status"));
  if ((st = need(&rd, root, "stages", json_type_array, "the report", &arr)))
    goto done;
  n = json_object_array_length(arr);
  r->stages = calloc(n + 1, sizeof *r->stages);
  if (!r->stages) {
    st = sc_fail_nomem(err, path);
    goto done;
  }
  for (i = 0; i < n; i++) {
    json_object *s = json_object_array_get_idx(arr, i);
    r->stages[i].name = dup_string(field(s, "name"));
    r->stages[i].kind = dup_string(field(s, "kind"));
    r->stages[i].source = dup_string(field(s, "source"));
    r->stages[i].note = dup_optional(field(s, "note"));
    r->n_stages = (int)i + 1;
  }
  if ((st = need(&rd, root, "inputs", json_type_array, "the report", &arr)))
    goto done;
  n = json_object_array_length(arr);
  r->inputs = calloc(n + 1, sizeof *r->inputs);
  if (!r->inputs) {
    st = sc_fail_nomem(err, path);
    goto done;
  }
  for (i = 0; i < n; i++) {
    r->inputs[i] = dup_string(field(json_object_array_get_idx(arr, i), "id"));
    r->n_inputs = (int)i + 1;
  }
  if ((st = need(&rd, root, "pairs", json_type_array, "the report", &arr)))
    goto done;
  n = json_object_array_length(arr);
  r->pairs = calloc(n + 1, sizeof *r->pairs);
  if (!r->pairs) {
    st = sc_fail_nomem(err, path);
    goto done;
  }
  for (i = 0; i < n; i++) {
    r->n_pairs = (int)i + 1;
    st = read_pair(&rd, json_object_array_get_idx(arr, i), &r->pairs[i]);
    if (st)
      goto done;
  }
done:
  json_object_put(root);
  if (st) {
    sc_report_free(r);
    return st;
  }
  *out = r;
  return SC_OK;
}
