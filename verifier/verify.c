/* The verify run (see verifier/verify.h for the outline). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare/align.h"
#include "compare/metrics.h"
#include "loaders/file.h"
#include "runtime/executor.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"
#include "verifier/cli.h"
#include "verifier/verify_internal.h"

/* Thresholds when the configuration gives none. */
#define DEFAULT_COSINE 0.99

struct row_state {
  int target, reference; /* view tensor indices */
  int match_row;         /* index in the pair's match, -1 for input rows */
  int input_index;       /* graph input for input rows, else -1 */
  int is_output;
  enum sc_layout_fix fix;
  struct sc_segment *segment;
  const char *segment_reason;
  int has_acc, has_iso;
  struct sc_metrics acc, iso;
  int acc_input, iso_input; /* set index of the worst cosine */
  char *note;
  char *iso_note;
  int n_channels;
  struct sc_channel_error channels[SC_REPORT_WORST_CHANNELS];
  double channels_cosine; /* cosine of the input the channels come from */
};

struct pair_state {
  int ref, tgt;
  struct sc_match *match;
  int n_rows;
  struct row_state *rows;
  int *row_of_target; /* target view tensor -> row, or -1 */
  struct sc_thresholds thr, thr_in, thr_out;
  int accumulated, isolated;
  char *note;
};

struct run {
  const struct sc_verify_options *o;
  struct stages *s;
  int n_pairs;
  struct pair_state *pairs;
  struct sc_store *store;
  int n_keys;
  int *uses; /* per store key, per input */
  /* per store key: parameters computed by the current input's run
   * (DynamicQuantizeLinear outputs), else NULL */
  struct sc_quant **dynamic;
  uint8_t *produced; /* per store key: seen in the current input */
  struct sc_threadpool *threads;
  int set;                   /* current input set */
  struct sc_tensor ***feeds; /* per stage: the current set's inputs */
  int *n_feeds;
};

/* --- planning --------------------------------------------------------- */

static void thresholds_from_config(const struct sc_config_threshold *c,
                                   struct sc_thresholds *t)
{
  int id;
  memset(t, 0, sizeof *t);
  if (!c) {
    t->set = 1u << SC_METRIC_COSINE;
    t->bound[SC_METRIC_COSINE] = DEFAULT_COSINE;
    return;
  }
  t->set = c->set;
  for (id = 0; id < SC_N_METRICS; id++)
    t->bound[id] = c->bound[id];
}

static const struct sc_config_threshold *
pair_thresholds(const struct sc_config *c, const char *ref, const char *tgt)
{
  char key[512];
  const struct sc_config_threshold *t;
  snprintf(key, sizeof key, "%s->%s", ref, tgt);
  t = sc_config_threshold(c, key);
  return t ? t : sc_config_threshold(c, "default");
}

static sc_status add_pair(struct run *r, int ref, int tgt, struct sc_error *err)
{
  struct pair_state *grown, *p;
  int i;
  for (i = 0; i < r->n_pairs; i++)
    if (r->pairs[i].ref == ref && r->pairs[i].tgt == tgt)
      return SC_OK;
  grown = realloc(r->pairs, (size_t)(r->n_pairs + 1) * sizeof *grown);
  if (!grown)
    return sc_fail_nomem(err, "pairs");
  r->pairs = grown;
  p = &r->pairs[r->n_pairs++];
  memset(p, 0, sizeof *p);
  p->ref = ref;
  p->tgt = tgt;
  return SC_OK;
}

static sc_status plan_pairs(struct run *r, struct sc_error *err)
{
  const struct sc_config *c = r->s->config;
  struct stage *st = r->s->stages;
  int i;
  sc_status status = SC_OK;

  if (!c->pairs_chain) {
    for (i = 0; i < c->n_pairs && !status; i++) {
      int a = sc_config_stage_index(c, c->pairs[i].reference);
      int b = sc_config_stage_index(c, c->pairs[i].target);
      int ia = -1, ib = -1, k;
      for (k = 0; k < r->s->n_stages; k++) {
        if (strcmp(st[k].name, c->stages[a].name) == 0)
          ia = k;
        if (strcmp(st[k].name, c->stages[b].name) == 0)
          ib = k;
      }
      if (ia < 0 || ib < 0)
        continue; /* not among --stages */
      if (ia >= ib)
        return sc_fail(err, SC_ERR_CONFIG,
                       "%s:%d: pair %s->%s: the reference stage must come "
                       "before the target",
                       c->path, c->pairs[i].line, c->pairs[i].reference,
                       c->pairs[i].target);
      status = add_pair(r, ia, ib, err);
    }
    return status;
  }
  /* chain: each stage against the previous one and against the first,
   * skipping stages that cannot be read here */
  {
    int prev = -1, first = -1;
    for (i = 0; i < r->s->n_stages && !status; i++) {
      if (st[i].kind == STAGE_BINARY)
        continue;
      if (prev >= 0)
        status = add_pair(r, prev, i, err);
      if (!status && first >= 0 && first != prev)
        status = add_pair(r, first, i, err);
      if (first < 0)
        first = i;
      prev = i;
    }
  }
  return status;
}

/* DIR/<stem of input set k's id> (malloc'ed). */
static char *input_dump_dir(const struct stages *s, const struct stage *st,
                            int k)
{
  char stem[1024];
  const char *dot;
  snprintf(stem, sizeof stem, "%s", s->sets[k].id);
  dot = strrchr(stem, '.');
  if (dot)
    stem[dot - stem] = '\0';
  return sc_path_join(st->path, stem);
}

/* Opens the dump of stage st for input set k: DIR/<id stem>/ when the dump
 * holds one directory per input, else DIR itself. When the directories of
 * other inputs are there and this one's is not, the dump lacks the input:
 * an error, not a silent comparison of nothing. */
static sc_status open_dump(struct stages *s, struct stage *st, int k,
                           struct sc_error *err)
{
  char *sub;
  sc_status status;
  int j, per_input = 0;
  sc_dump_free(st->dump);
  st->dump = NULL;
  sub = input_dump_dir(s, st, k);
  if (!sub)
    return sc_fail_nomem(err, st->path);
  for (j = 0; j < s->n_sets && !per_input && !sc_path_is_dir(sub); j++) {
    char *other = j == k ? NULL : input_dump_dir(s, st, j);
    per_input = other && sc_path_is_dir(other);
    free(other);
  }
  if (per_input) {
    status = sc_fail(err, SC_ERR_FORMAT,
                     "%s: no dump for input '%s' (the directory holds one "
                     "subdirectory per input)",
                     sub, s->sets[k].id);
    free(sub);
    sc_error_prefix(err, "stage '%s': ", st->name);
    return status;
  }
  status = sc_dump_open(sc_path_is_dir(sub) ? sub : st->path, &st->dump, err);
  free(sub);
  if (status)
    sc_error_prefix(err, "stage '%s': ", st->name);
  return status;
}

/* A dump stage's view: its entries as listed for the first input. */
static sc_status dump_view(struct stages *s, struct stage *st,
                           struct sc_error *err)
{
  struct sc_view_tensor *entries;
  int i;
  sc_status status = open_dump(s, st, 0, err);
  if (status)
    return status;
  st->view_dump = st->dump; /* kept for the whole run */
  st->dump = NULL;
  entries = calloc((size_t)st->view_dump->n_entries + 1, sizeof *entries);
  if (!entries)
    return sc_fail_nomem(err, "dump");
  for (i = 0; i < st->view_dump->n_entries; i++) {
    const struct sc_dump_entry *e = &st->view_dump->entries[i];
    entries[i].name = e->name;
    entries[i].dtype = e->dtype;
    entries[i].rank = e->rank;
    memcpy(entries[i].dims, e->dims, sizeof e->dims);
    entries[i].layout_nhwc = e->layout_nhwc;
    entries[i].quant = e->quant;
  }
  status = sc_view_from_list(entries, st->view_dump->n_entries, &st->view, err);
  free(entries);
  return status;
}

static int is_graph_output(const struct stage *st, int view_tensor)
{
  const struct sc_view_tensor *t = &st->view->tensors[view_tensor];
  if (!st->graph || t->value < 0)
    return 0;
  return st->graph->values[t->value].is_output;
}

/* Do two stages take the same kind of model input (dtype and shape)? */
static int same_input_space(const struct stage *a, const struct stage *b)
{
  int k, i;
  if (!a->graph || !b->graph || a->graph->n_inputs != b->graph->n_inputs)
    return 0;
  for (k = 0; k < a->graph->n_inputs; k++) {
    const struct sc_value *x = &a->graph->values[a->graph->inputs[k]];
    const struct sc_value *y = &b->graph->values[b->graph->inputs[k]];
    if (x->dtype != y->dtype || x->rank != y->rank)
      return 0;
    for (i = 0; i < x->rank; i++)
      if (x->dims[i] != y->dims[i])
        return 0;
  }
  return 1;
}

static sc_status plan_rows(struct run *r, struct pair_state *p,
                           struct sc_error *err)
{
  struct stage *ref = &r->s->stages[p->ref], *tgt = &r->s->stages[p->tgt];
  const struct sc_config *c = r->s->config;
  int n_inputs, i, k, n;
  sc_status st;

  struct sc_match_options mo;
  memset(&mo, 0, sizeof mo);
  if (r->s->names) { /* compare.match.file: before names and structure */
    mo.n_map = r->s->names->n;
    mo.map_target = (const char *const *)r->s->names->target;
    mo.map_reference = (const char *const *)r->s->names->reference;
  }
  st = sc_match_views(ref->view, tgt->view, &mo, &p->match, err);
  if (st)
    return st;
  n_inputs = tgt->graph ? tgt->graph->n_inputs : r->s->n_sources;
  if (ref->graph && ref->graph->n_inputs < n_inputs)
    n_inputs = ref->graph->n_inputs;
  n = n_inputs + p->match->n_rows;
  p->rows = calloc((size_t)n + 1, sizeof *p->rows);
  p->row_of_target = malloc(((size_t)tgt->view->n_tensors + 1) * sizeof(int));
  if (!p->rows || !p->row_of_target)
    return sc_fail_nomem(err, "rows");
  for (i = 0; i < tgt->view->n_tensors; i++)
    p->row_of_target[i] = -1;
  for (i = 0; i < n_inputs; i++) { /* row 0: the inputs as fed */
    struct row_state *row = &p->rows[p->n_rows++];
    row->match_row = -1;
    row->input_index = i;
    row->target = row->reference = -1;
  }
  for (k = 0; k < p->match->n_rows; k++) {
    const struct sc_match_row *m = &p->match->rows[k];
    struct row_state *row;
    if (tgt->view->tensors[m->target].is_input ||
        (!tgt->graph && ref->view->tensors[m->reference].is_input))
      continue; /* covered by the input rows, in the right space */
    row = &p->rows[p->n_rows];
    row->match_row = k;
    row->input_index = -1;
    row->target = m->target;
    row->reference = m->reference;
    row->fix = m->layout;
    row->is_output = is_graph_output(tgt, m->target);
    p->row_of_target[m->target] = p->n_rows;
    p->n_rows++;
    if (p->isolated) {
      st = sc_segment_build(tgt->view, p->match, k, same_input_space(ref, tgt),
                            &row->segment, &row->segment_reason, err);
      if (st)
        return st;
    }
  }
  thresholds_from_config(pair_thresholds(c, ref->name, tgt->name), &p->thr);
  if (sc_config_threshold(c, "input"))
    thresholds_from_config(sc_config_threshold(c, "input"), &p->thr_in);
  else
    p->thr_in = p->thr;
  if (sc_config_threshold(c, "outputs"))
    thresholds_from_config(sc_config_threshold(c, "outputs"), &p->thr_out);
  else
    p->thr_out = p->thr;
  return SC_OK;
}

/* A segment input that is one of the target's model inputs is fed the
 * target's own input (the same image through the target's pipeline): the
 * reference's input may live in another space (float RGB vs int8 YUV). */
static int feeds_model_input(const struct run *r, const struct pair_state *p,
                             const struct sc_segment_feed *sf)
{
  const struct stage *ts = &r->s->stages[p->tgt];
  return ts->graph && ts->graph->values[sf->value].is_input &&
         !ts->graph->values[sf->value].initializer;
}

/* Does compare_row read the row's reference tensor (one store use)? For
 * accumulated metrics, and for the isolated ones that it is measured
 * against. */
static int row_reads_reference(const struct pair_state *p,
                               const struct row_state *row)
{
  return p->accumulated || row->segment;
}

/* Store uses per key for one input: every row's reference tensor, and every
 * isolated segment's fed reference tensors. */
static sc_status count_uses(struct run *r, struct sc_error *err)
{
  int i, k, f;
  r->n_keys = 0;
  for (i = 0; i < r->s->n_stages; i++)
    if (r->s->stages[i].view)
      r->n_keys += r->s->stages[i].view->n_tensors;
  r->uses = calloc((size_t)r->n_keys + 1, sizeof *r->uses);
  r->dynamic = calloc((size_t)r->n_keys + 1, sizeof *r->dynamic);
  r->produced = calloc((size_t)r->n_keys + 1, 1);
  if (!r->uses || !r->dynamic || !r->produced)
    return sc_fail_nomem(err, "plan");
  for (i = 0; i < r->n_pairs; i++) {
    struct pair_state *p = &r->pairs[i];
    int base = r->s->stages[p->ref].key_base;
    for (k = 0; k < p->n_rows; k++) {
      struct row_state *row = &p->rows[k];
      if (row->reference >= 0 && row_reads_reference(p, row))
        r->uses[base + row->reference]++;
      if (row->segment)
        for (f = 0; f < row->segment->n_feeds; f++)
          if (!feeds_model_input(r, p, &row->segment->feeds[f]))
            r->uses[base + row->segment->feeds[f].reference]++;
    }
  }
  return SC_OK;
}

/* Tells each executed stage's graph which values nobody reads (the
 * executor may then compute them inside other kernels and hand the
 * observer something else, sc_graph_set_unobserved): read are the stage's
 * stored tensors (references and fed values of other stages' rows), its
 * rows as a target and the values its isolated re-runs are fed. Stages
 * sharing a graph share the union of what they read. */
static sc_status declare_unobserved(struct run *r, struct sc_error *err)
{
  int i, j, k, f, v;
  sc_status st = SC_OK;

  for (i = 0; !st && i < r->s->n_stages; i++) {
    struct sc_graph *g = r->s->stages[i].graph;
    unsigned char *mask;
    if (!g || !r->s->stages[i].view)
      continue;
    for (j = 0; j < i; j++)
      if (r->s->stages[j].graph == g)
        break;
    if (j < i)
      continue; /* done with the first stage of this graph */
    mask = malloc((size_t)g->n_values + 1);
    if (!mask)
      return sc_fail_nomem(err, "plan");
    memset(mask, 1, (size_t)g->n_values);
    for (j = i; j < r->s->n_stages; j++) {
      const struct stage *st_j = &r->s->stages[j];
      if (st_j->graph != g || !st_j->view)
        continue;
      for (k = 0; k < st_j->view->n_tensors; k++) {
        v = st_j->view->tensors[k].value;
        if (r->uses[st_j->key_base + k] > 0 && v >= 0)
          mask[v] = 0;
      }
      for (k = 0; k < r->n_pairs; k++) {
        const struct pair_state *p = &r->pairs[k];
        int row;
        if (p->tgt != j)
          continue;
        for (row = 0; row < p->n_rows; row++) {
          const struct row_state *rs = &p->rows[row];
          if (rs->target >= 0 && st_j->view->tensors[rs->target].value >= 0)
            mask[st_j->view->tensors[rs->target].value] = 0;
          if (rs->segment)
            for (f = 0; f < rs->segment->n_feeds; f++)
              mask[rs->segment->feeds[f].value] = 0;
        }
      }
    }
    st = sc_graph_set_unobserved(g, mask, err);
    free(mask);
  }
  return st;
}

/* --- comparing ---------------------------------------------------------- */

static void aggregate(struct sc_metrics *worst, int *has, int *worst_input,
                      const struct sc_metrics *m, int input)
{
  if (!*has) {
    *worst = *m;
    *has = 1;
    *worst_input = input;
    return;
  }
  if (m->cosine < worst->cosine)
    *worst_input = input;
  sc_metrics_keep_worst(worst, m);
}

static const struct sc_thresholds *row_thresholds(const struct pair_state *p,
                                                  const struct row_state *row)
{
  if (row->input_index >= 0)
    return &p->thr_in;
  if (row->is_output)
    return &p->thr_out;
  return &p->thr;
}

/* Worst channels (axis 1) of a breaching row, kept for the worst input. */
static void channel_errors(struct row_state *row, const struct sc_tensor *ref,
                           const struct sc_tensor *tgt,
                           const struct sc_metrics_options *opt, double cosine)
{
  struct sc_metrics *per;
  int64_t c, n;
  int k, j;
  if (ref->rank < 2 || (row->n_channels && cosine >= row->channels_cosine))
    return;
  n = ref->dims[1];
  if (n <= 0 || n > 1 << 20)
    return;
  per = calloc((size_t)n, sizeof *per);
  if (!per)
    return;
  if (sc_metrics_per_channel(ref, tgt, opt, 1, per, NULL) == SC_OK) {
    row->n_channels = 0;
    row->channels_cosine = cosine;
    for (c = 0; c < n; c++) { /* insertion into the worst few */
      struct sc_channel_error e = {c, per[c].cosine, per[c].max_abs,
                                   per[c].sqnr_db};
      for (k = 0; k < row->n_channels; k++)
        if (e.cosine < row->channels[k].cosine)
          break;
      if (k >= SC_REPORT_WORST_CHANNELS)
        continue;
      if (row->n_channels < SC_REPORT_WORST_CHANNELS)
        row->n_channels++;
      for (j = row->n_channels - 1; j > k; j--)
        row->channels[j] = row->channels[j - 1];
      row->channels[k] = e;
    }
  }
  free(per);
}

static void set_note(char **slot, const char *text)
{
  if (*slot)
    return; /* the first reason stays */
  *slot = strdup(text);
}

/* The quantization parameters of view tensor t of stage s: known before
 * running, or computed by the current input's run. */
static const struct sc_quant *quant_of(const struct run *r, int s, int t)
{
  const struct stage *st = &r->s->stages[s];
  if (t < 0)
    return NULL;
  if (st->view->tensors[t].quant)
    return st->view->tensors[t].quant;
  return r->dynamic[st->key_base + t];
}

/* Metrics of one pair of tensors, aligned; records into acc or iso.
 * `tgt_quant`: the target's parameters when they are not its view
 * tensor's (an isolated run computes its own), else NULL. */
static sc_status measure(struct run *r, struct pair_state *p,
                         struct row_state *row, const struct sc_tensor *ref,
                         const struct sc_tensor *tgt,
                         const struct sc_quant *tgt_quant, int isolated,
                         struct sc_error *err)
{
  struct sc_metrics_options opt;
  struct sc_metrics m;
  struct sc_tensor *aligned = NULL;
  struct sc_error local;
  sc_status st;

  memset(&opt, 0, sizeof opt);
  opt.top1_axis = -1;
  opt.threads = r->threads; /* the results do not depend on it */
  opt.reference_quant = quant_of(r, p->ref, row->reference);
  opt.target_quant = tgt_quant ? tgt_quant : quant_of(r, p->tgt, row->target);
  if (row->is_output)
    opt.top1_axis = ref->rank >= 2 ? 1 : 0;
  st = sc_align_for_compare(tgt, row->fix, ref->rank, ref->dims, &aligned,
                            &local);
  if (!st)
    st = sc_metrics_compute(ref, aligned, &opt, &m, &local);
  if (st == SC_ERR_CONFIG) { /* not comparable: a note, not an error */
    char note[SC_ERROR_MESSAGE_SIZE + 32];
    snprintf(note, sizeof note, "not comparable: %s", local.message);
    set_note(isolated ? &row->iso_note : &row->note, note);
    sc_tensor_free(aligned);
    return SC_OK;
  }
  if (st) {
    sc_tensor_free(aligned);
    *err = local;
    return st;
  }
  if (isolated) {
    aggregate(&row->iso, &row->has_iso, &row->iso_input, &m, r->set);
  } else {
    aggregate(&row->acc, &row->has_acc, &row->acc_input, &m, r->set);
    if (sc_thresholds_check(row_thresholds(p, row), &m, NULL) ==
        SC_VERDICT_FAIL)
      channel_errors(row, ref, aligned, &opt, m.cosine);
  }
  sc_tensor_free(aligned);
  return SC_OK;
}

struct capture {
  int value;
  struct sc_tensor *tensor;
  struct sc_quant *quant; /* computed by the run, or NULL */
};

static sc_status capture_value(void *user, const struct sc_graph *g,
                               int node_index, struct sc_tensor *const *outputs,
                               struct sc_error *err)
{
  struct capture *c = user;
  const struct sc_node *node = &g->nodes[node_index];
  int j;
  for (j = 0; j < node->n_outputs; j++)
    if (node->outputs[j] == c->value && outputs[j] && !c->tensor) {
      sc_status st =
          j == 0 ? sc_quant_from_run(node, outputs, &c->quant, err) : SC_OK;
      return st ? st : sc_tensor_ref(outputs[j], &c->tensor, err);
    }
  return SC_OK;
}

/* Isolated mode: the row's segment re-run on the reference's values. */
static sc_status isolated_row(struct run *r, struct pair_state *p,
                              struct row_state *row,
                              const struct sc_tensor *ref, struct sc_error *err)
{
  struct stage *ts = &r->s->stages[p->tgt], *rs = &r->s->stages[p->ref];
  const struct sc_segment *seg = row->segment;
  struct sc_feed *feeds;
  struct sc_tensor **owned;
  struct capture cap;
  struct sc_run_options opt;
  struct sc_error local;
  int f;
  sc_status st = SC_OK;

  feeds = calloc((size_t)seg->n_feeds + 1, sizeof *feeds);
  owned = calloc((size_t)seg->n_feeds + 1, sizeof *owned);
  if (!feeds || !owned) {
    free(feeds);
    free(owned);
    return sc_fail_nomem(err, "isolated run");
  }
  for (f = 0; f < seg->n_feeds && !st; f++) {
    const struct sc_segment_feed *sf = &seg->feeds[f];
    const struct sc_value *v = &ts->graph->values[sf->value];
    int key = rs->key_base + sf->reference;
    struct sc_tensor *rt = NULL;
    int rank = v->rank;
    const int64_t *dims = v->dims;
    if (feeds_model_input(r, p, sf)) {
      int k;
      for (k = 0; k < ts->graph->n_inputs; k++)
        if (ts->graph->inputs[k] == sf->value && k < r->n_feeds[p->tgt]) {
          feeds[f].name = v->name;
          feeds[f].tensor = r->feeds[p->tgt][k];
        }
      continue;
    }
    st = sc_store_get(r->store, key, &rt, err);
    if (st)
      break;
    if (rank < 0) {
      rank = rt->rank;
      dims = rt->dims;
    }
    st = sc_align_for_feed(rt, quant_of(r, p->ref, sf->reference), v->dtype,
                           v->quant, rank, dims, p->match->rows[sf->row].layout,
                           r->threads, &owned[f], &local);
    sc_tensor_free(rt);
    if (st == SC_ERR_CONFIG) {
      char note[SC_ERROR_MESSAGE_SIZE + 64];
      snprintf(note, sizeof note, "cannot feed '%s': %s", v->name,
               local.message);
      set_note(&row->iso_note, note);
      st = SC_OK;
      goto release;
    }
    if (st) {
      *err = local;
      goto release;
    }
    feeds[f].name = v->name;
    feeds[f].tensor = owned[f];
  }
  if (st)
    goto release;
  memset(&cap, 0, sizeof cap);
  cap.value = ts->view->tensors[row->target].value;
  memset(&opt, 0, sizeof opt);
  opt.threads = r->threads;
  opt.node_mask = seg->node_mask;
  opt.observer = capture_value;
  opt.observer_user = &cap;
  st = sc_graph_run(ts->graph, seg->n_feeds, feeds, NULL, &opt, &local);
  if (st == SC_OK && cap.tensor)
    st = measure(r, p, row, ref, cap.tensor, cap.quant, 1, err);
  else if (st == SC_ERR_NOMEM) {
    *err = local;
  } else {
    char note[SC_ERROR_MESSAGE_SIZE + 32];
    snprintf(note, sizeof note, "isolated run failed: %s",
             st ? local.message : "the tensor was not produced");
    set_note(&row->iso_note, note);
    st = SC_OK;
  }
  sc_tensor_free(cap.tensor);
  sc_quant_free(cap.quant);
release:
  for (f = 0; f < seg->n_feeds; f++) {
    if (!feeds_model_input(r, p, &seg->feeds[f]))
      sc_store_release(r->store, rs->key_base + seg->feeds[f].reference);
    sc_tensor_free(owned[f]);
  }
  free(feeds);
  free(owned);
  return st;
}

/* A target tensor of a matched row arrived: accumulated, then isolated.
 * `tgt` is NULL when the target is walked (plain_run_needed), which
 * happens only without accumulated metrics. */
static sc_status compare_row(struct run *r, struct pair_state *p, int ri,
                             const struct sc_tensor *tgt, struct sc_error *err)
{
  struct row_state *row = &p->rows[ri];
  struct stage *rs = &r->s->stages[p->ref];
  int key = rs->key_base + row->reference;
  struct sc_tensor *ref = NULL;
  sc_status st;

  if (!sc_store_has(r->store, key)) {
    set_note(&row->note, "the reference stage did not produce this tensor");
    if (row->segment) { /* its feeds' uses still count down */
      int f;
      for (f = 0; f < row->segment->n_feeds; f++)
        if (!feeds_model_input(r, p, &row->segment->feeds[f]))
          sc_store_release(r->store,
                           rs->key_base + row->segment->feeds[f].reference);
    }
    return SC_OK;
  }
  st = sc_store_get(r->store, key, &ref, err);
  if (st)
    return st;
  if (row_reads_reference(p, row))
    sc_store_release(r->store, key);
  if (p->accumulated)
    st = measure(r, p, row, ref, tgt, NULL, 0, err);
  if (!st && row->segment)
    st = isolated_row(r, p, row, ref, err);
  sc_tensor_free(ref);
  return st;
}

/* The stage produced (or a dump holds) view tensor `t` of stage `s`.
 * `value` is NULL when the stage is walked (plain_run_needed): no pair
 * stores its tensors or measures them, only their rows' re-runs run. */
static sc_status on_tensor(struct run *r, int s, int t,
                           const struct sc_tensor *value, struct sc_error *err)
{
  struct stage *st = &r->s->stages[s];
  int key = st->key_base + t, i;
  sc_status status;

  r->produced[key] = 1;
  if (r->uses[key] > 0 && !sc_store_has(r->store, key)) {
    status = sc_store_put(r->store, key, value, r->uses[key], err);
    if (status)
      return status;
  }
  for (i = 0; i < r->n_pairs; i++) {
    struct pair_state *p = &r->pairs[i];
    if (p->tgt == s && p->row_of_target[t] >= 0) {
      status = compare_row(r, p, p->row_of_target[t], value, err);
      if (status)
        return status;
    }
  }
  return SC_OK;
}

struct stage_observer {
  struct run *r;
  int stage;
};

static sc_status observe(void *user, const struct sc_graph *g, int node_index,
                         struct sc_tensor *const *outputs, struct sc_error *err)
{
  struct stage_observer *so = user;
  const struct sc_node *node = &g->nodes[node_index];
  const struct sc_view *v = so->r->s->stages[so->stage].view;
  struct sc_tensor *outs[64];
  int values[64], j, n = node->n_outputs < 64 ? node->n_outputs : 64;

  /* isolated re-runs rebind the node: keep our own copies first */
  for (j = 0; j < n; j++) {
    values[j] = node->outputs[j];
    outs[j] = outputs[j];
  }
  if (n > 0 && values[0] >= 0) { /* parameters computed by this node */
    struct sc_quant *q = NULL;
    int t = sc_view_find_value(v, values[0]);
    sc_status st = sc_quant_from_run(node, outputs, &q, err);
    if (st)
      return st;
    if (q && t >= 0) {
      int key = so->r->s->stages[so->stage].key_base + t;
      sc_quant_free(so->r->dynamic[key]);
      so->r->dynamic[key] = q;
    } else {
      sc_quant_free(q);
    }
  }
  for (j = 0; j < n; j++) {
    int t;
    sc_status st;
    if (values[j] < 0 || !outs[j])
      continue;
    t = sc_view_find_value(v, values[j]);
    if (t < 0)
      continue;
    st = on_tensor(so->r, so->stage, t, outs[j], err);
    if (st)
      return st;
  }
  return SC_OK;
}

/* Row 0 of one model input: reference fed `a`, target input `b` (as fed,
 * or as the device dumped it). Same dtype and shape: compared directly;
 * otherwise both mapped into the decoded image's space by inverting each
 * stage's own steps (`b_steps` NULL: the target's cannot be inverted). */
static sc_status
compare_input_row(struct run *r, struct pair_state *p, struct row_state *row,
                  const struct sc_tensor *a, const struct sc_tensor *b,
                  const struct sc_config_steps *b_steps, struct sc_error *err)
{
  struct sc_tensor *ma = NULL, *mb = NULL;
  const char *why_a = NULL, *why_b = NULL;
  sc_status st;

  if (a->dtype == b->dtype && sc_tensor_same_shape(a, b))
    return measure(r, p, row, a, b, NULL, 0, err);
  if (!b_steps)
    why_b = "the dump stage has no input steps to map its input back";
  st =
      sc_input_to_image_space(a, &r->s->stages[p->ref].steps, &ma, &why_a, err);
  if (!st && b_steps)
    st = sc_input_to_image_space(b, b_steps, &mb, &why_b, err);
  if (!st && ma && mb)
    st = measure(r, p, row, ma, mb, NULL, 0, err);
  else if (!st) {
    char note[512];
    snprintf(note, sizeof note,
             "not comparable: the stages' inputs differ and %s",
             why_a   ? why_a
             : why_b ? why_b
                     : "cannot be mapped to one space");
    set_note(&row->note, note);
  }
  sc_tensor_free(ma);
  sc_tensor_free(mb);
  return st;
}

/* Row 0: the inputs as fed, in one space (spec/report.md, DESIGN.md). A
 * dump target without input steps of its own waits for the input tensor
 * in its dump (compare_dump_input). */
static sc_status compare_inputs(struct run *r, struct pair_state *p,
                                struct sc_error *err)
{
  const struct stage *ts = &r->s->stages[p->tgt];
  int k;
  if (ts->kind == STAGE_DUMP && !ts->steps.present)
    return SC_OK;
  for (k = 0; k < p->n_rows; k++) {
    struct row_state *row = &p->rows[k];
    sc_status st;
    if (row->input_index < 0)
      continue;
    if (row->input_index >= r->n_feeds[p->ref] ||
        row->input_index >= r->n_feeds[p->tgt])
      continue;
    st = compare_input_row(r, p, row, r->feeds[p->ref][row->input_index],
                           r->feeds[p->tgt][row->input_index], &ts->steps, err);
    if (st)
      return st;
  }
  return SC_OK;
}

/* A dump holds tensor `t` named like the reference's model input: what the
 * device was fed; it is row 0 when the dump stage has no input steps. */
static int dump_input_index(const struct run *r, const struct pair_state *p,
                            const char *name)
{
  const struct sc_graph *g = r->s->stages[p->ref].graph;
  int k;
  if (!g || r->s->stages[p->tgt].steps.present)
    return -1;
  for (k = 0; k < g->n_inputs; k++)
    if (strcmp(g->values[g->inputs[k]].name, name) == 0)
      return k;
  return -1;
}

static sc_status compare_dump_input(struct run *r, int s, const char *name,
                                    const struct sc_tensor *value,
                                    struct sc_error *err)
{
  int i, k;
  for (i = 0; i < r->n_pairs; i++) {
    struct pair_state *p = &r->pairs[i];
    int input = p->tgt == s ? dump_input_index(r, p, name) : -1;
    if (input < 0 || input >= r->n_feeds[p->ref])
      continue;
    for (k = 0; k < p->n_rows; k++)
      if (p->rows[k].input_index == input) {
        sc_status st = compare_input_row(
            r, p, &p->rows[k], r->feeds[p->ref][input], value, NULL, err);
        if (st)
          return st;
      }
  }
  return SC_OK;
}

static void progress(const struct run *r, int stage)
{
  int width = 30, done, i;
  if (!r->o->progress)
    return;
  done = (int)((double)(r->set * r->s->n_stages + stage) /
               (double)(r->s->n_sets * r->s->n_stages) * width);
  fprintf(stderr, "\r[");
  for (i = 0; i < width; i++)
    fputc(i < done ? '#' : ' ', stderr);
  fprintf(stderr, "] input %d/%d, stage %-16.16s", r->set + 1, r->s->n_sets,
          r->s->stages[stage].name);
  fflush(stderr);
}

/* --- running the stages in lockstep ------------------------------------ */

/* One stage's progress through the current input. The stages advance
 * together, driven by the last: before a stage computes a tensor, its
 * reference stages compute every tensor the comparison (and the isolated
 * re-run) of that tensor needs, running just the nodes that tensor
 * depends on, ahead of their turn if need be (a dump is read up to it), so
 * a reference tensor is held only from its production to its comparison,
 * not for a whole run (DESIGN.md: reference tensors are kept only while
 * needed), even where the graphs order their nodes differently.
 * References always come earlier in the chain, so the pulling ends. */
struct stage_run {
  struct sc_run *run;    /* ONNX stages */
  struct sc_feed *feeds; /* ONNX stages: the graph inputs */
  struct stage_observer so;
  int next_entry; /* dump stages: the next dump entry */
  /* ONNX stages whose own values nobody compares (plain_run_needed): the
   * next node whose rows are re-run in isolation, nothing else runs */
  int walk, next_node;
  int finished;
};

struct lockstep {
  struct run *r;
  struct stage_run *stages;
};

static sc_status step_stage(struct lockstep *ls, int s, struct sc_error *err);
static sc_status run_stage_node(struct lockstep *ls, int s, int node,
                                struct sc_error *err);

/* Runs the nodes of ONNX stage s that value v depends on and that have
 * not run, in graph order. */
static sc_status run_ancestors(struct lockstep *ls, int s, int v,
                               struct sc_error *err)
{
  const struct sc_graph *g = ls->r->s->stages[s].graph;
  struct sc_run *run = ls->stages[s].run;
  uint8_t *need = calloc((size_t)g->n_nodes + 1, 1);
  int *stack = malloc(((size_t)g->n_nodes + 1) * sizeof *stack);
  int n = 0, i, j;
  sc_status st = SC_OK;

  if (!need || !stack) {
    free(need);
    free(stack);
    return sc_fail_nomem(err, "run");
  }
  if (g->values[v].producer >= 0 &&
      sc_run_node_pending(run, g->values[v].producer)) {
    need[g->values[v].producer] = 1;
    stack[n++] = g->values[v].producer;
  }
  while (n > 0) {
    const struct sc_node *node = &g->nodes[stack[--n]];
    for (j = 0; j < node->n_inputs; j++) {
      int p = node->inputs[j] >= 0 ? g->values[node->inputs[j]].producer : -1;
      if (p >= 0 && !need[p] && sc_run_node_pending(run, p)) {
        need[p] = 1;
        stack[n++] = p;
      }
    }
  }
  for (i = 0; i < g->n_nodes && !st; i++)
    if (need[i])
      st = run_stage_node(ls, s, i, err);
  free(need);
  free(stack);
  return st;
}

/* Makes stage s produce view tensor t (or reach its end). */
static sc_status pull(struct lockstep *ls, int s, int t, struct sc_error *err)
{
  const struct stage *stg = &ls->r->s->stages[s];
  int key = stg->key_base + t;
  sc_status st = SC_OK;
  if (ls->stages[s].walk) /* not a reference (plain_run_needed) */
    return sc_fail(err, SC_ERR_INTERNAL, "pulling from walked stage '%s'",
                   stg->name);
  if (stg->kind == STAGE_ONNX && !ls->r->produced[key] &&
      !ls->stages[s].finished)
    st = run_ancestors(ls, s, stg->view->tensors[t].value, err);
  while (!st && !ls->r->produced[key] && !ls->stages[s].finished)
    st = step_stage(ls, s, err);
  return st;
}

/* Pulls what comparing view tensor t of stage s needs from the reference
 * stages: each row's reference tensor and its isolated segment's feeds. */
static sc_status pull_needs(struct lockstep *ls, int s, int t,
                            struct sc_error *err)
{
  struct run *r = ls->r;
  int i, f;
  sc_status st = SC_OK;
  if (t < 0)
    return SC_OK;
  for (i = 0; i < r->n_pairs && !st; i++) {
    struct pair_state *p = &r->pairs[i];
    const struct row_state *row;
    if (p->tgt != s || p->row_of_target[t] < 0)
      continue;
    row = &p->rows[p->row_of_target[t]];
    if (row->reference >= 0)
      st = pull(ls, p->ref, row->reference, err);
    for (f = 0; row->segment && f < row->segment->n_feeds && !st; f++)
      if (!feeds_model_input(r, p, &row->segment->feeds[f]))
        st = pull(ls, p->ref, row->segment->feeds[f].reference, err);
  }
  return st;
}

/* Dump stages: is entry k wanted (a row's target, a tensor some pair
 * needs, or the input the device was fed)? */
static int dump_entry_needed(const struct run *r, int s, int t)
{
  const struct stage *stg = &r->s->stages[s];
  int i;
  if (r->uses[stg->key_base + t] > 0)
    return 1;
  for (i = 0; i < r->n_pairs; i++)
    if (r->pairs[i].tgt == s &&
        (r->pairs[i].row_of_target[t] >= 0 ||
         dump_input_index(r, &r->pairs[i], stg->view->tensors[t].name) >= 0))
      return 1;
  return 0;
}

/* Node `node` of ONNX stage s, after pulling what comparing its outputs
 * needs. */
static sc_status run_stage_node(struct lockstep *ls, int s, int node,
                                struct sc_error *err)
{
  struct run *r = ls->r;
  struct stage *stg = &r->s->stages[s];
  struct stage_run *sr = &ls->stages[s];
  int j;
  sc_status st = SC_OK;

  for (j = 0; j < stg->graph->nodes[node].n_outputs && !st; j++) {
    int v = stg->graph->nodes[node].outputs[j];
    if (v >= 0)
      st = pull_needs(ls, s, sc_view_find_value(stg->view, v), err);
  }
  if (st)
    return st;
  st = sc_run_node(sr->run, node, err);
  if (st)
    sc_error_prefix(err, "stage '%s', input %s: ", stg->name,
                    r->s->sets[r->set].id);
  sr->finished = sc_run_next_node(sr->run) < 0;
  return st;
}

/* Does any comparison read the values of ONNX stage s's own run? Those of
 * a reference stage, and those of a target in accumulated mode. A target
 * measured only in isolation (--mode isolated, the last stage of a chain)
 * is not run end to end: each row's segment runs on the reference's values
 * and the plain run's tensors would go unread. */
static int plain_run_needed(const struct run *r, int s)
{
  int i;
  for (i = 0; i < r->n_pairs; i++)
    if (r->pairs[i].ref == s ||
        (r->pairs[i].tgt == s && r->pairs[i].accumulated))
      return 1;
  return 0;
}

/* A walked stage's next node: the isolated re-runs of the rows its outputs
 * are, after pulling what they need from the reference stages. */
static sc_status walk_node(struct lockstep *ls, int s, struct sc_error *err)
{
  struct run *r = ls->r;
  struct stage *stg = &r->s->stages[s];
  struct stage_run *sr = &ls->stages[s];
  const struct sc_node *node = &stg->graph->nodes[sr->next_node++];
  int j;
  sc_status st = SC_OK;

  sr->finished = sr->next_node >= stg->graph->n_nodes;
  for (j = 0; j < node->n_outputs && !st; j++) {
    int t = node->outputs[j] >= 0
                ? sc_view_find_value(stg->view, node->outputs[j])
                : -1;
    if (t < 0)
      continue;
    st = pull_needs(ls, s, t, err);
    if (!st) /* no value: nothing stores it, compare_row re-runs the row */
      st = on_tensor(r, s, t, NULL, err);
  }
  return st;
}

/* One node of an ONNX stage (the next in order), or one entry of a dump
 * stage. */
static sc_status step_stage(struct lockstep *ls, int s, struct sc_error *err)
{
  struct run *r = ls->r;
  struct stage *stg = &r->s->stages[s];
  struct stage_run *sr = &ls->stages[s];
  sc_status st = SC_OK;

  if (stg->kind == STAGE_ONNX && sr->walk)
    return walk_node(ls, s, err);
  if (stg->kind == STAGE_ONNX) {
    int node = sc_run_next_node(sr->run);
    if (node < 0) {
      sr->finished = 1;
      return SC_OK;
    }
    return run_stage_node(ls, s, node, err);
  }
  if (stg->kind == STAGE_DUMP) {
    int k = sr->next_entry++, t;
    struct sc_tensor *value = NULL;
    if (k >= stg->dump->n_entries) {
      sr->finished = 1;
      return SC_OK;
    }
    sr->finished = k + 1 >= stg->dump->n_entries;
    t = sc_view_find_name(stg->view, stg->dump->entries[k].name);
    if (t < 0 || !dump_entry_needed(r, s, t))
      return SC_OK;
    st = pull_needs(ls, s, t, err);
    if (!st)
      st = sc_dump_load(stg->dump, k, &value, err);
    if (!st)
      st = on_tensor(r, s, t, value, err);
    if (!st)
      st = compare_dump_input(r, s, stg->view->tensors[t].name, value, err);
    sc_tensor_free(value);
    return st;
  }
  sr->finished = 1; /* a binary: nothing to run here */
  return SC_OK;
}

/* Starts stage s on the current input: the run (ONNX) or the dump. */
static sc_status start_stage(struct lockstep *ls, int s, struct sc_error *err)
{
  struct run *r = ls->r;
  struct stage *stg = &r->s->stages[s];
  struct stage_run *sr = &ls->stages[s];
  struct sc_run_options opt;
  int k;
  sc_status st = SC_OK;

  if (stg->kind == STAGE_DUMP)
    return open_dump(r->s, stg, r->set, err);
  if (stg->kind != STAGE_ONNX) {
    sr->finished = 1;
    return SC_OK;
  }
  if (!plain_run_needed(r, s)) {
    sr->walk = 1;
    sr->finished = stg->graph->n_nodes == 0;
    return SC_OK;
  }
  sr->feeds = calloc((size_t)r->n_feeds[s] + 1, sizeof *sr->feeds);
  if (!sr->feeds)
    return sc_fail_nomem(err, "feeds");
  for (k = 0; k < r->n_feeds[s]; k++) {
    sr->feeds[k].name = stg->graph->values[stg->graph->inputs[k]].name;
    sr->feeds[k].tensor = r->feeds[s][k];
  }
  sr->so.r = r;
  sr->so.stage = s;
  memset(&opt, 0, sizeof opt);
  opt.threads = r->threads;
  opt.observer = observe;
  opt.observer_user = &sr->so;
  opt.discard_outputs = 1; /* the observer has seen them */
  st = sc_run_start(stg->graph, r->n_feeds[s], sr->feeds, &opt, &sr->run, err);
  if (st)
    sc_error_prefix(err, "stage '%s', input %s: ", stg->name,
                    r->s->sets[r->set].id);
  return st;
}

/* The inputs are tensors of their stage too (segments start there). */
static sc_status stage_inputs(struct lockstep *ls, int s, struct sc_error *err)
{
  struct run *r = ls->r;
  struct stage *stg = &r->s->stages[s];
  int k;
  sc_status st = SC_OK;
  if (stg->kind != STAGE_ONNX)
    return SC_OK;
  for (k = 0; k < r->n_feeds[s] && !st; k++) {
    int t = sc_view_find_value(stg->view, stg->graph->inputs[k]);
    if (t < 0)
      continue;
    st = pull_needs(ls, s, t, err);
    if (!st)
      st = on_tensor(r, s, t, r->feeds[s][k], err);
  }
  return st;
}

/* One input through every stage. */
static sc_status run_set(struct run *r, struct sc_error *err)
{
  struct lockstep ls;
  int s, i, k;
  sc_status st = SC_OK;

  memset(&ls, 0, sizeof ls);
  ls.r = r;
  ls.stages = calloc((size_t)r->s->n_stages + 1, sizeof *ls.stages);
  if (!ls.stages)
    st = sc_fail_nomem(err, "run");
  for (s = 0; s < r->s->n_stages && !st; s++)
    st = sc_feeds_make(r->s, s, r->set, &r->feeds[s], &r->n_feeds[s], err);
  for (i = 0; i < r->n_pairs && !st; i++)
    st = compare_inputs(r, &r->pairs[i], err);
  for (s = 0; s < r->s->n_stages && !st; s++)
    st = start_stage(&ls, s, err);
  for (s = 0; s < r->s->n_stages && !st; s++)
    st = stage_inputs(&ls, s, err);
  /* the last stage pulls the others along; then whatever is left */
  for (s = r->s->n_stages - 1; s >= 0 && !st; s--) {
    if (!ls.stages[s].finished)
      progress(r, s);
    while (!st && !ls.stages[s].finished)
      st = step_stage(&ls, s, err);
  }

  for (s = 0; ls.stages && s < r->s->n_stages; s++) {
    sc_run_free(ls.stages[s].run);
    free(ls.stages[s].feeds);
  }
  free(ls.stages);
  /* drop what this input left behind (rows a run did not reach) */
  for (k = 0; k < r->n_keys; k++) {
    while (sc_store_has(r->store, k))
      sc_store_release(r->store, k);
    sc_quant_free(r->dynamic[k]);
    r->dynamic[k] = NULL;
    r->produced[k] = 0;
  }
  for (s = 0; s < r->s->n_stages; s++) {
    sc_feeds_free(r->feeds[s], r->n_feeds[s]);
    r->feeds[s] = NULL;
    r->n_feeds[s] = 0;
  }
  return st;
}

/* --- the report ------------------------------------------------------- */

static char *dup_or_empty(const char *s)
{
  return strdup(s ? s : "");
}

static enum sc_verdict row_verdict(const struct pair_state *p,
                                   const struct row_state *row)
{
  const struct sc_thresholds *t = row_thresholds(p, row);
  enum sc_verdict v = SC_VERDICT_PASS;
  if (row->has_acc) {
    v = sc_thresholds_check(t, &row->acc, NULL);
    if (row->acc.nan_tgt > row->acc.nan_ref ||
        row->acc.inf_tgt > row->acc.inf_ref)
      v = SC_VERDICT_FAIL; /* non-finite values the reference lacks */
  }
  if (v == SC_VERDICT_PASS && row->has_iso &&
      sc_thresholds_check(t, &row->iso, NULL) == SC_VERDICT_FAIL)
    v = SC_VERDICT_WARN; /* a local loss that later layers hide */
  return v;
}

static sc_status build_pair(struct run *r, struct pair_state *p,
                            struct sc_pair_result *out, struct sc_error *err)
{
  struct stage *rs = &r->s->stages[p->ref], *ts = &r->s->stages[p->tgt];
  int k, f;
  double *errs;

  out->reference = strdup(rs->name);
  out->target = strdup(ts->name);
  out->mode = strdup(p->accumulated && p->isolated ? "both"
                     : p->isolated                 ? "isolated"
                                                   : "accumulated");
  out->note = p->note ? strdup(p->note) : NULL;
  out->thresholds = p->thr;
  out->input_thresholds = p->thr_in;
  out->output_thresholds = p->thr_out;
  out->match_ratio = sc_match_ratio(p->match);
  out->rows = calloc((size_t)p->n_rows + 1, sizeof *out->rows);
  errs = calloc((size_t)p->n_rows + 1, sizeof *errs);
  if (!out->reference || !out->target || !out->mode || !out->rows || !errs) {
    free(errs);
    return sc_fail_nomem(err, "report");
  }
  for (k = 0; k < p->n_rows; k++)
    errs[k] = p->rows[k].has_acc ? 1.0 - p->rows[k].acc.cosine : NAN;
  for (k = 0; k < p->n_rows; k++) {
    const struct row_state *row = &p->rows[k];
    struct sc_row_result *o = &out->rows[out->n_rows++];
    const struct sc_view_tensor *t =
        row->target >= 0 ? &ts->view->tensors[row->target] : NULL;
    const struct sc_view_tensor *rt =
        row->reference >= 0 ? &rs->view->tensors[row->reference] : NULL;
    o->row = k;
    if (t) {
      const struct sc_node *node =
          ts->graph && t->node >= 0 ? &ts->graph->nodes[t->node] : NULL;
      o->tensor = strdup(t->name);
      o->reference_tensor = strdup(rt->name);
      o->node = dup_or_empty(node ? node->name : "");
      o->op = dup_or_empty(node ? node->op_type : "");
      o->rank = t->rank < 0 ? 0 : t->rank > 8 ? 8 : t->rank;
      memcpy(o->dims, t->dims, (size_t)o->rank * sizeof o->dims[0]);
      o->match = strdup(sc_match_how_name(p->match->rows[row->match_row].how));
    } else { /* an input row */
      const struct sc_graph *g = ts->graph ? ts->graph : rs->graph;
      const char *name =
          g ? g->values[g->inputs[row->input_index]].name : "input";
      o->tensor = strdup(name);
      o->reference_tensor = strdup(
          rs->graph && row->input_index < rs->graph->n_inputs
              ? rs->graph->values[rs->graph->inputs[row->input_index]].name
              : name);
      o->node = dup_or_empty("");
      o->op = dup_or_empty("");
      o->match = strdup("input");
      o->is_input = 1;
      if (g && row->input_index < g->n_inputs) {
        const struct sc_value *v = &g->values[g->inputs[row->input_index]];
        o->rank = v->rank < 0 ? 0 : v->rank > 8 ? 8 : v->rank;
        memcpy(o->dims, v->dims, (size_t)o->rank * sizeof o->dims[0]);
      }
    }
    o->is_output = row->is_output;
    o->has_accumulated = row->has_acc;
    o->accumulated = row->acc;
    o->worst_input =
        row->has_acc ? strdup(r->s->sets[row->acc_input].id) : NULL;
    o->has_isolated = row->has_iso;
    o->isolated = row->iso;
    o->worst_input_isolated =
        row->has_iso ? strdup(r->s->sets[row->iso_input].id) : NULL;
    if (row->iso_note)
      o->isolated_note = strdup(row->iso_note);
    else if (!row->has_iso && p->isolated && row->segment_reason)
      o->isolated_note = strdup(row->segment_reason);
    o->note = row->note ? strdup(row->note) : NULL;
    o->status = row_verdict(p, row);
    o->n_worst_channels = row->n_channels;
    memcpy(o->worst_channels, row->channels, sizeof row->channels);
    /* growth of the accumulated error over the segment's inputs */
    o->jump = NAN;
    if (row->segment && row->has_acc) {
      double in_err = 0;
      for (f = 0; f < row->segment->n_feeds; f++) {
        int fr = p->match->rows[row->segment->feeds[f].row].target;
        int src = fr >= 0 ? p->row_of_target[fr] : -1;
        double e = src >= 0 ? errs[src] : NAN;
        if (!isnan(e) && e > in_err)
          in_err = e;
      }
      o->jump = errs[k] - in_err;
    } else if (row->has_acc && row->input_index >= 0) {
      o->jump = errs[k];
    }
    if (!o->tensor || !o->reference_tensor || !o->node || !o->op || !o->match) {
      free(errs);
      return sc_fail_nomem(err, "report");
    }
  }
  free(errs);
  out->unmatched_target =
      calloc((size_t)p->match->n_unmatched_target + 1, sizeof(char *));
  out->unmatched_reference =
      calloc((size_t)p->match->n_unmatched_reference + 1, sizeof(char *));
  if (!out->unmatched_target || !out->unmatched_reference)
    return sc_fail_nomem(err, "report");
  for (k = 0; k < p->match->n_unmatched_target; k++) {
    const struct sc_view_tensor *t =
        &ts->view->tensors[p->match->unmatched_target[k]];
    if (t->is_input)
      continue;
    out->unmatched_target[out->n_unmatched_target++] = strdup(t->name);
  }
  for (k = 0; k < p->match->n_unmatched_reference; k++) {
    const struct sc_view_tensor *t =
        &rs->view->tensors[p->match->unmatched_reference[k]];
    if (t->is_input)
      continue;
    out->unmatched_reference[out->n_unmatched_reference++] = strdup(t->name);
  }
  return SC_OK;
}

static sc_status build_report(struct run *r, struct sc_report **out,
                              struct sc_error *err)
{
  struct sc_report *rep = calloc(1, sizeof *rep);
  int i;
  sc_status st = SC_OK;

  *out = NULL;
  if (!rep)
    return sc_fail_nomem(err, "report");
  rep->tool_version = strdup(SC_VERSION);
  rep->model_dir = strdup(r->o->model_dir);
  rep->stages = calloc((size_t)r->s->n_stages + 1, sizeof *rep->stages);
  rep->inputs = calloc((size_t)r->s->n_sets + 1, sizeof *rep->inputs);
  rep->pairs = calloc((size_t)r->n_pairs + 1, sizeof *rep->pairs);
  if (!rep->tool_version || !rep->model_dir || !rep->stages || !rep->inputs ||
      !rep->pairs) {
    sc_report_free(rep);
    return sc_fail_nomem(err, "report");
  }
  for (i = 0; i < r->s->n_stages; i++) {
    const struct stage *s = &r->s->stages[i];
    struct sc_stage_result *o = &rep->stages[rep->n_stages++];
    o->name = strdup(s->name);
    o->kind = strdup(s->kind == STAGE_ONNX   ? "onnx"
                     : s->kind == STAGE_DUMP ? "dump"
                                             : "binary");
    o->source = strdup(s->source);
    o->note = s->note ? strdup(s->note) : NULL;
  }
  for (i = 0; i < r->s->n_sets; i++)
    rep->inputs[rep->n_inputs++] = strdup(r->s->sets[i].id);
  for (i = 0; i < r->n_pairs && !st; i++) {
    rep->n_pairs++;
    st = build_pair(r, &r->pairs[i], &rep->pairs[i], err);
  }
  if (st) {
    sc_report_free(rep);
    return st;
  }
  sc_report_localise(rep);
  *out = rep;
  return SC_OK;
}

static void run_free(struct run *r)
{
  int i, k;
  for (i = 0; i < r->n_pairs; i++) {
    struct pair_state *p = &r->pairs[i];
    for (k = 0; k < p->n_rows; k++) {
      sc_segment_free(p->rows[k].segment);
      free(p->rows[k].note);
      free(p->rows[k].iso_note);
    }
    free(p->rows);
    free(p->row_of_target);
    free(p->note);
    sc_match_free(p->match);
  }
  free(r->pairs);
  free(r->uses);
  if (r->dynamic)
    for (k = 0; k < r->n_keys; k++)
      sc_quant_free(r->dynamic[k]);
  free(r->dynamic);
  free(r->produced);
  if (r->feeds)
    for (i = 0; i < r->s->n_stages; i++)
      sc_feeds_free(r->feeds[i], r->n_feeds[i]);
  free(r->feeds);
  free(r->n_feeds);
  sc_store_free(r->store);
  sc_threadpool_free(r->threads);
  sc_stages_free(r->s);
}

/* Runs prepared stages (ONNX loaded, dumps to be listed) to a report. Takes
 * ownership of s. */
static sc_status verify_stages(const struct sc_verify_options *o,
                               struct stages *s, struct sc_report **out,
                               struct sc_error *err)
{
  struct run r;
  int i, key = 0;
  sc_status st = SC_OK;

  *out = NULL;
  memset(&r, 0, sizeof r);
  r.o = o;
  r.s = s;
  for (i = 0; !st && i < r.s->n_stages; i++)
    if (r.s->stages[i].kind == STAGE_DUMP)
      st = dump_view(r.s, &r.s->stages[i], err);
  for (i = 0; i < r.s->n_stages; i++)
    if (r.s->stages[i].view) {
      r.s->stages[i].key_base = key;
      key += r.s->stages[i].view->n_tensors;
    }
  if (!st)
    st = plan_pairs(&r, err);
  if (!st && r.n_pairs == 0) { /* a verdict on nothing would be "pass" */
    const struct stage *un = NULL;
    for (i = 0; i < r.s->n_stages && !un; i++)
      if (r.s->stages[i].kind == STAGE_BINARY)
        un = &r.s->stages[i];
    st = un ? sc_fail(err, SC_ERR_CONFIG,
                      "%s: no pair of stages to compare: stage '%s' (%s) "
                      "cannot be read here; supply a dump of its tensors",
                      r.s->model_dir, un->name, un->path ? un->path : "")
            : sc_fail(err, SC_ERR_CONFIG,
                      "%s: no pair of stages to compare (%d stage%s)",
                      r.s->model_dir, r.s->n_stages,
                      r.s->n_stages == 1 ? "" : "s");
  }
  for (i = 0; !st && i < r.n_pairs; i++) {
    struct pair_state *p = &r.pairs[i];
    struct stage *t = &r.s->stages[p->tgt];
    p->accumulated = o->mode != SC_MODE_ISOLATED;
    p->isolated = o->mode != SC_MODE_ACCUMULATED && t->kind == STAGE_ONNX;
    if (t->kind == STAGE_DUMP) {
      p->accumulated = 1;
      p->note = strdup("the target is a dump: accumulated mode only");
    }
    st = plan_rows(&r, p, err);
  }
  if (!st)
    st = count_uses(&r, err);
  if (!st)
    st = declare_unobserved(&r, err);
  if (!st)
    st = sc_store_create(o->memory_budget ? o->memory_budget
                                          : sc_store_default_budget(),
                         NULL, &r.store, err);
  if (!st)
    st = sc_threadpool_create(o->threads > 0 ? o->threads : sc_cpu_count(),
                              &r.threads, err);
  r.feeds = calloc((size_t)r.s->n_stages + 1, sizeof *r.feeds);
  r.n_feeds = calloc((size_t)r.s->n_stages + 1, sizeof *r.n_feeds);
  if (!st && (!r.feeds || !r.n_feeds))
    st = sc_fail_nomem(err, "run");
  for (r.set = 0; !st && r.set < r.s->n_sets; r.set++)
    st = run_set(&r, err);
  if (o->progress)
    fprintf(stderr, "\r%*s\r", 72, "");
  if (!st) {
    r.set = 0;
    st = build_report(&r, out, err);
  }
  if (o->stats && r.store) {
    o->stats->store_peak_bytes = sc_store_peak_bytes(r.store);
    o->stats->store_spilled_bytes = sc_store_bytes_spilled(r.store);
    o->stats->store_budget_bytes =
        o->memory_budget ? o->memory_budget : sc_store_default_budget();
  }
  run_free(&r);
  return st;
}

sc_status sc_verify_run(const struct sc_verify_options *o,
                        struct sc_report **out, struct sc_error *err)
{
  struct stages *s;
  sc_status st = sc_stages_load(o, &s, err);
  *out = NULL;
  if (st)
    return st;
  st = verify_stages(o, s, out, err);
  sc_storage_trim(); /* the run is over: no more reuse to wait for */
  return st;
}

sc_status sc_compare_dumps(const struct sc_compare_options *co,
                           struct sc_report **out, struct sc_error *err)
{
  struct sc_verify_options o;
  struct stages *s;
  const char *dirs[2] = {co->reference_dir, co->target_dir};
  const char *names[2] = {"reference", "target"};
  int i, id;
  sc_status st;

  *out = NULL;
  memset(&o, 0, sizeof o);
  o.model_dir = ".";
  o.mode = SC_MODE_ACCUMULATED;
  o.threads = 1;
  s = calloc(1, sizeof *s);
  if (!s)
    return sc_fail_nomem(err, "compare");
  s->model_dir = strdup(".");
  s->stages = calloc(2, sizeof *s->stages);
  s->sets = calloc(1, sizeof *s->sets);
  if (!s->model_dir || !s->stages || !s->sets) {
    sc_stages_free(s);
    return sc_fail_nomem(err, "compare");
  }
  st = sc_config_new(".", &s->config, err);
  for (i = 0; !st && i < 2; i++) {
    struct stage *stg = &s->stages[s->n_stages++];
    stg->kind = STAGE_DUMP;
    stg->name = strdup(names[i]);
    stg->source = strdup(dirs[i]);
    stg->path = strdup(dirs[i]);
    if (!stg->name || !stg->source || !stg->path)
      st = sc_fail_nomem(err, "compare");
    else if (!sc_path_is_dir(dirs[i]))
      st = sc_fail(err, SC_ERR_FORMAT, "%s: not a dump directory", dirs[i]);
  }
  if (!st) { /* the thresholds become the configuration's default */
    s->config->thresholds = calloc(1, sizeof *s->config->thresholds);
    if (!s->config->thresholds ||
        !(s->config->thresholds[0].key = strdup("default")))
      st = sc_fail_nomem(err, "compare");
    else {
      s->config->n_thresholds = 1;
      s->config->thresholds[0].set = co->thresholds.set;
      for (id = 0; id < SC_N_METRICS; id++)
        s->config->thresholds[0].bound[id] = co->thresholds.bound[id];
      if (!co->thresholds.set) {
        s->config->thresholds[0].set = 1u << SC_METRIC_COSINE;
        s->config->thresholds[0].bound[SC_METRIC_COSINE] = DEFAULT_COSINE;
      }
    }
  }
  if (!st) {
    s->n_sets = 1; /* one pseudo input: the dumps themselves */
    s->sets[0].id = strdup(co->target_dir);
    if (!s->sets[0].id)
      st = sc_fail_nomem(err, "compare");
  }
  if (st) {
    sc_stages_free(s);
    return st;
  }
  st = verify_stages(&o, s, out, err);
  if (!st) {
    free((*out)->model_dir);
    (*out)->model_dir = strdup(co->target_dir);
    if (!(*out)->model_dir) {
      sc_report_free(*out);
      *out = NULL;
      st = sc_fail_nomem(err, "compare");
    }
  }
  return st;
}
