#include "compare/segment.h"

#include <stdlib.h>
#include <string.h>

/* The match row whose target is tensor index t, or -1. */
static int row_of_target(const struct sc_match *m, int t)
{
  int i;
  for (i = 0; i < m->n_rows; i++)
    if (m->rows[i].target == t)
      return i;
  return -1;
}

void sc_segment_free(struct sc_segment *s)
{
  if (!s)
    return;
  free(s->node_mask);
  free(s->feeds);
  free(s);
}

static sc_status add_feed(struct sc_segment *s, int value, int reference,
                          int row, struct sc_error *err)
{
  int i;
  struct sc_segment_feed *grown;
  for (i = 0; i < s->n_feeds; i++)
    if (s->feeds[i].value == value)
      return SC_OK;
  grown = realloc(s->feeds, (size_t)(s->n_feeds + 1) * sizeof *grown);
  if (!grown)
    return sc_fail_nomem(err, "segment");
  s->feeds = grown;
  s->feeds[s->n_feeds].value = value;
  s->feeds[s->n_feeds].reference = reference;
  s->feeds[s->n_feeds].row = row;
  s->n_feeds++;
  return SC_OK;
}

sc_status sc_segment_build(const struct sc_view *target,
                           const struct sc_match *m, int row,
                           int same_input_space, struct sc_segment **out,
                           const char **reason, struct sc_error *err)
{
  const struct sc_graph *g = target->graph;
  const struct sc_view_tensor *t;
  struct sc_segment *s = NULL;
  int *stack = NULL, n_stack = 0, i;
  uint8_t *seen = NULL;
  sc_status st = SC_OK;

  *out = NULL;
  *reason = NULL;
  if (!g) {
    *reason = "the target is a dump: accumulated mode only";
    return SC_OK;
  }
  t = &target->tensors[m->rows[row].target];
  if (t->is_input || t->node < 0) {
    *reason = "a model input";
    return SC_OK;
  }
  s = calloc(1, sizeof *s);
  stack = malloc(((size_t)g->n_values + 1) * sizeof *stack);
  seen = calloc((size_t)g->n_values + 1, 1);
  if (s)
    s->node_mask = calloc((size_t)g->n_nodes + 1, 1);
  if (!s || !stack || !seen || !s->node_mask) {
    st = sc_fail_nomem(err, "segment");
    goto done;
  }

  stack[n_stack++] = t->value;
  seen[t->value] = 1;
  while (n_stack > 0) {
    int v = stack[--n_stack];
    int vt = sc_view_find_value(target, v);
    int producer = g->values[v].producer, j;
    const struct sc_node *node;

    if (g->values[v].initializer)
      continue;
    if (vt >= 0 && v != t->value) {
      const struct sc_view_tensor *x = &target->tensors[vt];
      int rep = x->is_input ? vt : target->groups[x->group].stage_rep[x->stage];
      int rep_row = row_of_target(m, rep);
      int other_stage =
          x->is_input || x->group != t->group || x->stage != t->stage;
      /* tensors computed from the target's model input live in the target's
       * input space: fed from the reference only when the spaces agree */
      int input_space = !x->is_input && x->group >= 0 &&
                        strcmp(target->groups[x->group].kind, "Input") == 0;
      if (input_space && !same_input_space)
        rep_row = -1;
      if (other_stage && rep_row >= 0) {
        /* boundary: fed with the reference's value of its stage */
        st = add_feed(s, v, m->rows[rep_row].reference, rep_row, err);
        if (st)
          goto done;
        continue;
      }
      if (other_stage && producer < 0) {
        *reason = "an input of the segment has no counterpart";
        sc_segment_free(s);
        s = NULL;
        goto done;
      }
    }
    if (producer < 0) {
      if (g->values[v].is_input) {
        *reason = "an input of the segment has no counterpart";
        sc_segment_free(s);
        s = NULL;
        goto done;
      }
      continue;
    }
    if (s->node_mask[producer])
      continue;
    s->node_mask[producer] = 1;
    s->n_nodes++;
    node = &g->nodes[producer];
    for (j = 0; j < node->n_inputs; j++) {
      int in = node->inputs[j];
      if (in >= 0 && !seen[in]) {
        seen[in] = 1;
        stack[n_stack++] = in;
      }
    }
  }
  /* values produced inside the segment need no feed */
  for (i = 0; i < s->n_feeds;) {
    int p = g->values[s->feeds[i].value].producer;
    if (p >= 0 && s->node_mask[p]) {
      s->feeds[i] = s->feeds[--s->n_feeds];
      continue;
    }
    i++;
  }

done:
  free(stack);
  free(seen);
  if (st) {
    sc_segment_free(s);
    return st;
  }
  *out = s;
  return SC_OK;
}
