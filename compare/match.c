#include "compare/match.h"

#include <stdlib.h>
#include <string.h>

#define NAME_SIZE 1024

struct named {
  char *canonical;
  int tensor;
};

struct matcher {
  const struct sc_view *ref, *tgt;
  int *partner; /* target tensor -> reference tensor, or -1 */
  enum sc_match_how *how;
  enum sc_layout_fix *fix;
  int *ref_taken; /* reference tensor matched (count) */
  int *group_map; /* target group -> reference group, or -1 */
  int *ref_group_taken;
  struct named *index; /* reference canonical names, sorted */
  int n_index;
};

const char *sc_match_how_name(enum sc_match_how how)
{
  switch (how) {
  case SC_MATCH_INPUT:
    return "input";
  case SC_MATCH_MAP:
    return "map";
  case SC_MATCH_NAME:
    return "name";
  case SC_MATCH_CANONICAL:
    return "canonical name";
  case SC_MATCH_STRUCTURE:
    return "structure";
  }
  return "unknown";
}

static int64_t count(const struct sc_view_tensor *t)
{
  int64_t n = 1;
  int i;
  for (i = 0; i < t->rank; i++)
    n *= t->dims[i];
  return n;
}

/* dims without the size-1 entries */
static int squeeze(const struct sc_view_tensor *t, int64_t *dims)
{
  int i, n = 0;
  for (i = 0; i < t->rank; i++)
    if (t->dims[i] != 1)
      dims[n++] = t->dims[i];
  return n;
}

int sc_match_comparable(const struct sc_view_tensor *r,
                        const struct sc_view_tensor *t, enum sc_layout_fix *fix)
{
  int64_t a[SC_MAX_RANK], b[SC_MAX_RANK];
  int na, nb, i, nhwc;

  *fix = SC_LAYOUT_SAME;
  if (r->rank < 0 || t->rank < 0)
    return 1; /* shapes known only at run time: checked then */
  for (i = 0; i < r->rank; i++)
    if (r->dims[i] < 0)
      return 1;
  for (i = 0; i < t->rank; i++)
    if (t->dims[i] < 0)
      return 1;
  if (count(r) != count(t))
    return 0;
  nhwc = r->rank == 4 && t->rank == 4 && t->dims[0] == r->dims[0] &&
         t->dims[1] == r->dims[2] && t->dims[2] == r->dims[3] &&
         t->dims[3] == r->dims[1];
  if (nhwc && (t->layout_nhwc ||
               memcmp(r->dims, t->dims, 4 * sizeof r->dims[0]) != 0)) {
    *fix = SC_LAYOUT_NHWC_TO_NCHW;
    return 1;
  }
  na = squeeze(r, a);
  nb = squeeze(t, b);
  if (na != nb)
    return 0;
  for (i = 0; i < na; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

static int compare_named(const void *x, const void *y)
{
  const struct named *a = x, *b = y;
  int c = strcmp(a->canonical, b->canonical);
  return c ? c : a->tensor - b->tensor;
}

/* Reference tensor for a canonical name: the first tensor carrying it, or
 * -2 when tensors of different stages carry it (ambiguous), -1 if none. */
static int lookup_canonical(const struct matcher *m, const char *canonical)
{
  int lo = 0, hi = m->n_index, first = -1, i;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (strcmp(m->index[mid].canonical, canonical) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (i = lo; i < m->n_index && strcmp(m->index[i].canonical, canonical) == 0;
       i++) {
    const struct sc_view_tensor *t = &m->ref->tensors[m->index[i].tensor];
    if (first < 0)
      first = m->index[i].tensor;
    else {
      const struct sc_view_tensor *f = &m->ref->tensors[first];
      if (f->group != t->group || f->stage != t->stage)
        return -2;
    }
  }
  return first;
}

/* The representative of the stage holding reference tensor i. */
static int ref_rep(const struct matcher *m, int i)
{
  const struct sc_view_tensor *t = &m->ref->tensors[i];
  if (t->is_input)
    return i;
  return m->ref->groups[t->group].stage_rep[t->stage];
}

static void pair(struct matcher *m, int target, int reference,
                 enum sc_match_how how, enum sc_layout_fix fix)
{
  const struct sc_view_tensor *t = &m->tgt->tensors[target];
  const struct sc_view_tensor *r = &m->ref->tensors[reference];
  m->partner[target] = reference;
  m->how[target] = how;
  m->fix[target] = fix;
  m->ref_taken[reference]++;
  if (t->group >= 0 && r->group >= 0 && m->group_map[t->group] < 0 &&
      !m->ref_group_taken[r->group]) {
    m->group_map[t->group] = r->group;
    m->ref_group_taken[r->group] = 1;
  }
}

static void match_inputs(struct matcher *m)
{
  int i, k, n_t = 0, n_r = 0;
  int t_inputs[256], r_inputs[256];
  for (i = 0; i < m->tgt->n_tensors && n_t < 256; i++)
    if (m->tgt->tensors[i].is_input)
      t_inputs[n_t++] = i;
  for (i = 0; i < m->ref->n_tensors && n_r < 256; i++)
    if (m->ref->tensors[i].is_input)
      r_inputs[n_r++] = i;
  for (i = 0; i < n_t; i++) {
    int found = -1;
    enum sc_layout_fix fix;
    for (k = 0; k < n_r; k++)
      if (strcmp(m->tgt->tensors[t_inputs[i]].name,
                 m->ref->tensors[r_inputs[k]].name) == 0)
        found = r_inputs[k];
    if (found < 0 && n_t == n_r)
      found = r_inputs[i]; /* renamed inputs: by position */
    if (found >= 0 && !m->ref_taken[found] &&
        sc_match_comparable(&m->ref->tensors[found],
                            &m->tgt->tensors[t_inputs[i]], &fix))
      pair(m, t_inputs[i], found, SC_MATCH_INPUT, fix);
  }
}

static void match_map(struct matcher *m, const struct sc_match_options *o)
{
  int i;
  if (!o)
    return;
  for (i = 0; i < o->n_map; i++) {
    int t = sc_view_find_name(m->tgt, o->map_target[i]);
    int r = sc_view_find_name(m->ref, o->map_reference[i]);
    enum sc_layout_fix fix;
    if (t < 0 || r < 0 || m->partner[t] >= 0)
      continue;
    if (sc_match_comparable(&m->ref->tensors[r], &m->tgt->tensors[t], &fix))
      pair(m, t, r, SC_MATCH_MAP, fix);
  }
}

/* Target representative t by name: its own name, then the names of the other
 * tensors of its stage (last first). */
static void match_by_name(struct matcher *m, int t)
{
  const struct sc_view_tensor *tt = &m->tgt->tensors[t];
  char canonical[NAME_SIZE];
  int k, r;
  enum sc_layout_fix fix;

  r = sc_view_find_name(m->ref, tt->name);
  if (r >= 0) {
    r = ref_rep(m, r);
    if (!m->ref_taken[r] &&
        sc_match_comparable(&m->ref->tensors[r], tt, &fix)) {
      pair(m, t, r, SC_MATCH_NAME, fix);
      return;
    }
  }
  for (k = t; k >= 0; k--) {
    const struct sc_view_tensor *member = &m->tgt->tensors[k];
    if (k != t && (member->group != tt->group || member->stage != tt->stage ||
                   tt->group < 0))
      continue;
    sc_canonical_name(member->name, canonical, sizeof canonical);
    r = lookup_canonical(m, canonical);
    if (r < 0)
      continue;
    r = ref_rep(m, r);
    if (!m->ref_taken[r] &&
        sc_match_comparable(&m->ref->tensors[r], tt, &fix)) {
      pair(m, t, r, SC_MATCH_CANONICAL, fix);
      return;
    }
    if (tt->group < 0)
      break;
  }
}

/* Aligns the unmatched groups of the target with those of the reference,
 * from the inputs forward (groups are in topological order). */
static void match_groups(struct matcher *m)
{
  const struct sc_view *tv = m->tgt, *rv = m->ref;
  int g, k, i;
  int mapped[64];

  for (g = 0; g < tv->n_groups; g++) {
    const struct sc_view_group *tg = &tv->groups[g];
    int best = -1, best_shape_ok = 0, n_in = tg->n_inputs, ok = 1;
    if (m->group_map[g] >= 0 || strcmp(tg->kind, "Input") == 0 ||
        strcmp(tg->kind, "Dump") == 0 || n_in > 64)
      continue;
    for (i = 0; i < n_in; i++) {
      mapped[i] = m->group_map[tg->inputs[i]];
      if (mapped[i] < 0)
        ok = 0;
    }
    if (!ok)
      continue;
    if (!strcmp(tg->kind, "Add") || !strcmp(tg->kind, "Mul") ||
        !strcmp(tg->kind, "Max") || !strcmp(tg->kind, "Min") ||
        !strcmp(tg->kind, "Mean")) {
      int a, b; /* insertion sort: tiny lists */
      for (a = 1; a < n_in; a++)
        for (b = a; b > 0 && mapped[b - 1] > mapped[b]; b--) {
          int x = mapped[b];
          mapped[b] = mapped[b - 1];
          mapped[b - 1] = x;
        }
    }
    for (k = 0; k < rv->n_groups; k++) {
      const struct sc_view_group *rg = &rv->groups[k];
      enum sc_layout_fix fix;
      int shape_ok;
      if (m->ref_group_taken[k] || rg->n_inputs != n_in ||
          strcmp(rg->kind, tg->kind) != 0)
        continue;
      for (i = 0; i < n_in; i++)
        if (rg->inputs[i] != mapped[i])
          break;
      if (i < n_in)
        continue;
      shape_ok = sc_match_comparable(
          &rv->tensors[rg->stage_rep[rg->n_stages - 1]],
          &tv->tensors[tg->stage_rep[tg->n_stages - 1]], &fix);
      if (best < 0 || (shape_ok && !best_shape_ok)) {
        best = k;
        best_shape_ok = shape_ok;
      }
    }
    if (best >= 0) {
      m->group_map[g] = best;
      m->ref_group_taken[best] = 1;
    }
  }
}

static void try_pair_stage(struct matcher *m, int t, int r)
{
  enum sc_layout_fix fix;
  if (m->partner[t] >= 0 || (m->ref_taken[r] && !m->ref->tensors[r].is_input))
    return;
  if (sc_match_comparable(&m->ref->tensors[r], &m->tgt->tensors[t], &fix))
    pair(m, t, r, SC_MATCH_STRUCTURE, fix);
}

/* Pairs the stages of aligned groups: stage 0 with stage 0, then stages
 * with the same activation in order, and the last with the last. */
static void match_stages(struct matcher *m)
{
  int g;
  for (g = 0; g < m->tgt->n_groups; g++) {
    const struct sc_view_group *tg = &m->tgt->groups[g], *rg;
    int p, q, i, j = 0;
    if (m->group_map[g] < 0)
      continue;
    rg = &m->ref->groups[m->group_map[g]];
    p = tg->n_stages - 1;
    q = rg->n_stages - 1;
    if (strcmp(tg->kind, "Input") == 0) {
      /* the input and its quantized view both compare with the input */
      for (i = 0; i <= p; i++)
        try_pair_stage(m, tg->stage_rep[i], rg->stage_rep[q]);
      continue;
    }
    /* the last stages pair when they end with the same operator, or when
     * the target's group is a lone layer (activations fused into it) */
    if (p == 0 || strcmp(tg->stage_op[p], rg->stage_op[q]) == 0)
      try_pair_stage(m, tg->stage_rep[p], rg->stage_rep[q]);
    else
      p++; /* align every stage by operator below */
    for (i = 0; i < p; i++) {
      int jj;
      int last = p == tg->n_stages ? q + 1 : q; /* exclusive bound */
      for (jj = j; jj < last; jj++)
        if (i == 0 ? jj == 0 : strcmp(tg->stage_op[i], rg->stage_op[jj]) == 0)
          break;
      if (jj >= last)
        continue;
      try_pair_stage(m, tg->stage_rep[i], rg->stage_rep[jj]);
      j = jj + 1;
    }
  }
}

static int row_order(const void *x, const void *y, void *ctx)
{
  const struct sc_match_row *a = x, *b = y;
  const struct matcher *m = ctx;
  int by_reference = m->tgt->graph == NULL;
  int ka = by_reference ? m->ref->tensors[a->reference].order
                        : m->tgt->tensors[a->target].order;
  int kb = by_reference ? m->ref->tensors[b->reference].order
                        : m->tgt->tensors[b->target].order;
  int ia = m->tgt->tensors[a->target].is_input;
  int ib = m->tgt->tensors[b->target].is_input;
  if (ia != ib)
    return ib - ia; /* inputs first */
  if (ka != kb)
    return ka - kb;
  return a->target - b->target;
}

static void matcher_free(struct matcher *m)
{
  int i;
  free(m->partner);
  free(m->how);
  free(m->fix);
  free(m->ref_taken);
  free(m->group_map);
  free(m->ref_group_taken);
  for (i = 0; i < m->n_index; i++)
    free(m->index[i].canonical);
  free(m->index);
}

sc_status sc_match_views(const struct sc_view *reference,
                         const struct sc_view *target,
                         const struct sc_match_options *options,
                         struct sc_match **out, struct sc_error *err)
{
  struct matcher m;
  struct sc_match *res = NULL;
  int i, nt = target->n_tensors, nr = reference->n_tensors;
  sc_status st = SC_OK;

  *out = NULL;
  memset(&m, 0, sizeof m);
  m.ref = reference;
  m.tgt = target;
  m.partner = malloc(((size_t)nt + 1) * sizeof *m.partner);
  m.how = calloc((size_t)nt + 1, sizeof *m.how);
  m.fix = calloc((size_t)nt + 1, sizeof *m.fix);
  m.ref_taken = calloc((size_t)nr + 1, sizeof *m.ref_taken);
  m.group_map = malloc(((size_t)target->n_groups + 1) * sizeof(int));
  m.ref_group_taken = calloc((size_t)reference->n_groups + 1, sizeof(int));
  m.index = calloc((size_t)nr + 1, sizeof *m.index);
  res = calloc(1, sizeof *res);
  if (!m.partner || !m.how || !m.fix || !m.ref_taken || !m.group_map ||
      !m.ref_group_taken || !m.index || !res) {
    st = sc_fail_nomem(err, "matching");
    goto done;
  }
  for (i = 0; i < nt; i++)
    m.partner[i] = -1;
  for (i = 0; i < target->n_groups; i++)
    m.group_map[i] = -1;
  for (i = 0; i < nr; i++) {
    char canonical[NAME_SIZE];
    sc_canonical_name(reference->tensors[i].name, canonical, sizeof canonical);
    m.index[i].canonical = strdup(canonical);
    m.index[i].tensor = i;
    m.n_index = i + 1;
    if (!m.index[i].canonical) {
      st = sc_fail_nomem(err, "matching");
      goto done;
    }
  }
  qsort(m.index, (size_t)m.n_index, sizeof *m.index, compare_named);

  match_inputs(&m);
  match_map(&m, options);
  for (i = 0; i < nt; i++)
    if (target->tensors[i].is_rep && m.partner[i] < 0)
      match_by_name(&m, i);
  if (target->graph && reference->graph) {
    match_groups(&m);
    match_stages(&m);
  }

  res->rows = calloc((size_t)nt + 1, sizeof *res->rows);
  res->unmatched_target = calloc((size_t)nt + 1, sizeof(int));
  res->unmatched_reference = calloc((size_t)nr + 1, sizeof(int));
  if (!res->rows || !res->unmatched_target || !res->unmatched_reference) {
    st = sc_fail_nomem(err, "matching");
    goto done;
  }
  for (i = 0; i < nt; i++) {
    if (m.partner[i] >= 0) {
      struct sc_match_row *row = &res->rows[res->n_rows++];
      row->target = i;
      row->reference = m.partner[i];
      row->how = m.how[i];
      row->layout = m.fix[i];
    } else if (target->tensors[i].is_rep) {
      res->unmatched_target[res->n_unmatched_target++] = i;
    }
  }
  for (i = 0; i < nr; i++)
    if (reference->tensors[i].is_rep && !m.ref_taken[i])
      res->unmatched_reference[res->n_unmatched_reference++] = i;
  qsort_r(res->rows, (size_t)res->n_rows, sizeof *res->rows, row_order, &m);

done:
  matcher_free(&m);
  if (st) {
    sc_match_free(res);
    return st;
  }
  *out = res;
  return SC_OK;
}

void sc_match_free(struct sc_match *m)
{
  if (!m)
    return;
  free(m->rows);
  free(m->unmatched_target);
  free(m->unmatched_reference);
  free(m);
}

double sc_match_ratio(const struct sc_match *m)
{
  int total = m->n_rows + m->n_unmatched_target;
  return total ? (double)m->n_rows / (double)total : 1.0;
}
