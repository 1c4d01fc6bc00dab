#include "runtime/executor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/op.h"
#include "runtime/plan.h"
#include "runtime/quant.h"
#include "runtime/threadpool.h"

/* Outputs of constant subgraphs at most this many elements are evaluated
 * during prepare, so that shape computations (Shape -> Gather -> Concat ->
 * Reshape) give static shapes. */
#define FOLD_MAX_ELEMENTS 65536

const char *sc_node_describe(const struct sc_node *node, char *buf, size_t size)
{
  snprintf(buf, size, "%s%s%s '%s'", node->domain[0] ? node->domain : "",
           node->domain[0] ? "." : "", node->op_type, node->name);
  return buf;
}

/* Frees the memory plan's slots and the nodes' slot indices (a slot's
 * buffer still held lives on with its holders), leaving an empty plan. */
static void release_memory_plan(struct sc_graph *g, struct sc_plan *plan)
{
  int i;
  for (i = 0; i < g->n_nodes && plan->nodes; i++) {
    struct sc_node_plan *np = &plan->nodes[i];
    free(np->out_slot);
    free(np->in_shadow_slot);
    free(np->out_shadow_slot);
    np->out_slot = np->in_shadow_slot = np->out_shadow_slot = NULL;
  }
  for (i = 0; i < plan->n_slots; i++)
    sc_slot_release(&plan->slots[i]);
  free(plan->slots);
  plan->slots = NULL;
  plan->n_slots = 0;
}

void sc_plan_free(struct sc_graph *g)
{
  struct sc_plan *plan = g->plan;
  if (!plan)
    return;
  release_memory_plan(g, plan);
  free(plan->nodes);
  free(plan);
  g->plan = NULL;
}

/* Checks that every node input is produced somewhere, that no value has two
 * producers, and orders the nodes topologically (stable: among ready nodes
 * the earliest in the file first). */
sc_status sc_graph_sort(struct sc_graph *g, struct sc_error *err)
{
  int n = g->n_nodes;
  int *pending = NULL, *order = NULL, *ready = NULL;
  int *consumer_start = NULL, *consumer_list = NULL;
  int i, j, n_ready = 0, n_done = 0, n_edges = 0;
  struct sc_node *sorted = NULL;
  sc_status st = SC_OK;

  for (i = 0; i < g->n_values; i++) {
    g->values[i].producer = -1;
    g->values[i].n_consumers = 0;
  }
  for (i = 0; i < n; i++) {
    struct sc_node *node = &g->nodes[i];
    for (j = 0; j < node->n_outputs; j++) {
      int v = node->outputs[j];
      if (v < 0)
        continue;
      if (g->values[v].producer >= 0)
        return sc_fail(err, SC_ERR_FORMAT,
                       "tensor '%s' is produced by two nodes ('%s' and '%s')",
                       g->values[v].name, g->nodes[g->values[v].producer].name,
                       node->name);
      if (g->values[v].initializer || g->values[v].is_input)
        return sc_fail(err, SC_ERR_FORMAT,
                       "node '%s' writes tensor '%s', which is a graph input "
                       "or initializer",
                       node->name, g->values[v].name);
      g->values[v].producer = i;
    }
  }
  for (i = 0; i < n; i++) {
    struct sc_node *node = &g->nodes[i];
    for (j = 0; j < node->n_inputs; j++) {
      int v = node->inputs[j];
      if (v < 0)
        continue;
      if (g->values[v].producer < 0 && !g->values[v].initializer &&
          !g->values[v].is_input)
        return sc_fail(err, SC_ERR_FORMAT,
                       "node '%s' (%s) reads tensor '%s', which no node "
                       "produces and is neither a graph input nor an "
                       "initializer",
                       node->name, node->op_type, g->values[v].name);
      g->values[v].n_consumers++;
      if (g->values[v].producer >= 0)
        n_edges++;
    }
  }
  for (i = 0; i < g->n_outputs; i++) {
    struct sc_value *v = &g->values[g->outputs[i]];
    if (v->producer < 0 && !v->initializer && !v->is_input)
      return sc_fail(err, SC_ERR_FORMAT,
                     "graph output '%s' is produced by no node", v->name);
  }

  pending = calloc((size_t)n + 1, sizeof *pending);
  order = calloc((size_t)n + 1, sizeof *order);
  ready = calloc((size_t)n + 1, sizeof *ready);
  consumer_start = calloc((size_t)n + 2, sizeof *consumer_start);
  consumer_list = calloc((size_t)n_edges + 1, sizeof *consumer_list);
  if (!pending || !order || !ready || !consumer_start || !consumer_list) {
    st = sc_fail_nomem(err, "topological sort");
    goto cleanup;
  }
  /* edges producer -> consumer, in CSR form */
  for (i = 0; i < n; i++)
    for (j = 0; j < g->nodes[i].n_inputs; j++) {
      int v = g->nodes[i].inputs[j];
      if (v >= 0 && g->values[v].producer >= 0) {
        consumer_start[g->values[v].producer + 1]++;
        pending[i]++;
      }
    }
  for (i = 0; i < n; i++)
    consumer_start[i + 1] += consumer_start[i];
  {
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!fill) {
      st = sc_fail_nomem(err, "topological sort");
      goto cleanup;
    }
    for (i = 0; i < n; i++)
      for (j = 0; j < g->nodes[i].n_inputs; j++) {
        int v = g->nodes[i].inputs[j];
        if (v >= 0 && g->values[v].producer >= 0) {
          int p = g->values[v].producer;
          consumer_list[consumer_start[p] + fill[p]++] = i;
        }
      }
    free(fill);
  }
  /* Kahn's algorithm with a min-heap on the original index */
  for (i = 0; i < n; i++)
    if (pending[i] == 0) {
      int k = n_ready++;
      ready[k] = i;
      while (k > 0 && ready[(k - 1) / 2] > ready[k]) {
        int t = ready[k];
        ready[k] = ready[(k - 1) / 2];
        ready[(k - 1) / 2] = t;
        k = (k - 1) / 2;
      }
    }
  while (n_ready > 0) {
    int top = ready[0], k = 0;
    ready[0] = ready[--n_ready];
    for (;;) { /* sift down */
      int l = 2 * k + 1, r = l + 1, m = k;
      if (l < n_ready && ready[l] < ready[m])
        m = l;
      if (r < n_ready && ready[r] < ready[m])
        m = r;
      if (m == k)
        break;
      int t = ready[k];
      ready[k] = ready[m];
      ready[m] = t;
      k = m;
    }
    order[n_done++] = top;
    for (j = consumer_start[top]; j < consumer_start[top + 1]; j++) {
      int c = consumer_list[j];
      if (--pending[c] == 0) {
        k = n_ready++;
        ready[k] = c;
        while (k > 0 && ready[(k - 1) / 2] > ready[k]) {
          int t = ready[k];
          ready[k] = ready[(k - 1) / 2];
          ready[(k - 1) / 2] = t;
          k = (k - 1) / 2;
        }
      }
    }
  }
  if (n_done < n) {
    for (i = 0; i < n; i++)
      if (pending[i] > 0)
        break;
    st = sc_fail(err, SC_ERR_FORMAT,
                 "the graph has a cycle through node '%s' (%s)",
                 g->nodes[i].name, g->nodes[i].op_type);
    goto cleanup;
  }
  sorted = malloc((size_t)n * sizeof *sorted + 1);
  if (!sorted) {
    st = sc_fail_nomem(err, "topological sort");
    goto cleanup;
  }
  for (i = 0; i < n; i++)
    sorted[i] = g->nodes[order[i]];
  memcpy(g->nodes, sorted, (size_t)n * sizeof *sorted);
  free(sorted);
  for (i = 0; i < n; i++)
    for (j = 0; j < g->nodes[i].n_outputs; j++)
      if (g->nodes[i].outputs[j] >= 0)
        g->values[g->nodes[i].outputs[j]].producer = i;

cleanup:
  free(pending);
  free(order);
  free(ready);
  free(consumer_start);
  free(consumer_list);
  return st;
}

static int is_reduced_float(enum sc_dtype d)
{
  return d == SC_DTYPE_FLOAT16 || d == SC_DTYPE_BFLOAT16;
}

/* Binds node->in/out to the per-value headers in `vt`. For a node run via
 * float, reduced-precision inputs are presented to the kernel as float
 * headers from `scratch` (2 * (n_in + n_out) headers). */
static void bind_node(struct sc_node *node, struct sc_tensor *vt)
{
  int i;
  for (i = 0; i < node->n_inputs; i++)
    node->in[i] = node->inputs[i] >= 0 ? &vt[node->inputs[i]] : NULL;
  for (i = 0; i < node->n_outputs; i++)
    node->out[i] = node->outputs[i] >= 0 ? &vt[node->outputs[i]] : NULL;
}

static int append_text(char *buf, size_t size, size_t *used, const char *text)
{
  size_t len = strlen(text);
  if (*used + len + 1 >= size)
    return -1;
  memcpy(buf + *used, text, len + 1);
  *used += len;
  return 0;
}

/* Conversions between float and float16/bfloat16, split over the pool in
 * chunks (element-wise: the bits do not depend on the split). */
#define CONVERT_CHUNK ((int64_t)1 << 16)

struct convert_job {
  const void *src;
  void *dst;
  enum sc_dtype reduced;
  int widen; /* reduced -> float, else float -> reduced */
  int64_t n;
};

static void convert_range(void *ctx, int64_t begin, int64_t end)
{
  const struct convert_job *c = ctx;
  int64_t lo = begin * CONVERT_CHUNK;
  int64_t hi = end * CONVERT_CHUNK < c->n ? end * CONVERT_CHUNK : c->n, i;
  const uint16_t *h = c->src;
  const float *f = c->src;
  uint16_t *hd = c->dst;
  float *fd = c->dst;

  if (c->reduced == SC_DTYPE_FLOAT16) {
    if (c->widen)
      sc_half_to_float_n(h + lo, fd + lo, hi - lo);
    else
      sc_float_to_half_n(f + lo, hd + lo, hi - lo);
  } else if (c->widen) {
    for (i = lo; i < hi; i++)
      fd[i] = sc_bfloat16_to_float(h[i]);
  } else {
    for (i = lo; i < hi; i++)
      hd[i] = sc_float_to_bfloat16(f[i]);
  }
}

static void convert(const void *src, void *dst, enum sc_dtype reduced,
                    int widen, int64_t n, struct sc_threadpool *threads)
{
  struct convert_job c = {src, dst, reduced, widen, n};
  sc_parallel_for(threads, (n + CONVERT_CHUNK - 1) / CONVERT_CHUNK, 1,
                  convert_range, &c);
}

struct run_storage;
static sc_status alloc_planned(int k, struct sc_tensor *t, struct sc_pool *pool,
                               const struct run_storage *rs,
                               struct sc_error *err);

/* Converts a reduced-float tensor into a float tensor (same shape), its
 * storage planned in slot k (alloc_planned). */
static sc_status widen(const struct sc_tensor *src, struct sc_tensor *dst,
                       struct sc_pool *pool, int k,
                       const struct run_storage *rs,
                       struct sc_threadpool *threads, struct sc_error *err)
{
  sc_status st;

  dst->dtype = SC_DTYPE_FLOAT;
  st = sc_tensor_set_shape(dst, src->rank, src->dims, err);
  if (st)
    return st;
  if (!src->data) { /* static inference: shape only */
    dst->data = NULL;
    return SC_OK;
  }
  st = alloc_planned(k, dst, pool, rs, err);
  if (st)
    return st;
  convert(src->data, dst->data, src->dtype, 1, src->n_elements, threads);
  return SC_OK;
}

static void narrow(const struct sc_tensor *src, struct sc_tensor *dst,
                   struct sc_threadpool *threads)
{
  convert(src->data, dst->data, dst->dtype, 0, src->n_elements, threads);
}

/* Where a run's tensors get storage. A full run puts each in its slot of
 * the memory plan. A run of a node subset (an isolated re-run, usually
 * started by an observer while a full run of the same graph is under way)
 * borrows the slots that are idle at that moment, the tightest that fits,
 * and gives them back as its tensors are released. Anything else comes
 * from the pool. */
struct run_storage {
  struct sc_slot *slots;
  int n_slots;
  int borrow;       /* a node subset: borrow idle slots */
  int keep_outputs; /* graph outputs outlive the run: never in a slot */
  /* alias nodes share input 0's buffer (sc_graph.plain_runs): not with
   * an observer, which may keep the output and with it the input's whole
   * slot buffer */
  int share;
  /* quantized tails (mark_quant_tails): the run's value headers, its node
   * mask (NULL: all), and per node whether a ConvInteger computed its
   * tail */
  struct sc_tensor *vt;
  const uint8_t *mask;
  uint8_t *fused;
};

/* Storage for t: slot k of the memory plan (k >= 0, t fits), an idle slot
 * when borrowing, else the pool. */
static sc_status alloc_planned(int k, struct sc_tensor *t, struct sc_pool *pool,
                               const struct run_storage *rs,
                               struct sc_error *err)
{
  size_t size = sc_tensor_size(t);
  if (rs && rs->borrow) {
    int i, best = -1;
    for (i = 0; i < rs->n_slots; i++)
      if (rs->slots[i].capacity >= size && sc_slot_idle(&rs->slots[i]) &&
          (best < 0 || rs->slots[i].capacity < rs->slots[best].capacity))
        best = i;
    k = best;
  }
  if (rs && k >= 0 && size <= rs->slots[k].capacity)
    return sc_tensor_alloc_in_slot(t, &rs->slots[k], err);
  return sc_tensor_alloc(t, pool, err);
}

/* Storage for output j of a node (its planned slot, else the pool). A
 * graph output the run hands out would hold its slot's buffer, sized for
 * the largest tensor of the slot, past the run: it comes from the pool. */
static sc_status alloc_output(const struct sc_node_plan *np, int j,
                              struct sc_tensor *t, struct sc_pool *pool,
                              const struct run_storage *rs,
                              struct sc_error *err)
{
  int k = np->out_slot ? np->out_slot[j] : -1;
  if (rs && rs->keep_outputs && j < 64 && (np->graph_outputs >> j & 1))
    k = -1;
  return alloc_planned(k, t, pool, rs, err);
}

/* Runs one phase (prepare / reshape / run) of a node whose kernel computes
 * in float on reduced-precision tensors: the kernel sees float headers in
 * `shadow` (n_inputs + n_outputs of them) for every reduced input/output. */
enum phase { PHASE_PREPARE, PHASE_RESHAPE, PHASE_RUN };

static sc_status call_via_float(struct sc_node *node, struct sc_node_plan *np,
                                enum phase phase, struct sc_pool *pool,
                                const struct run_storage *rs,
                                struct sc_error *err)
{
  struct sc_tensor *real_in[64], *real_out[64];
  struct sc_tensor shadow[128];
  int i;
  sc_status st = SC_OK;

  if (node->n_inputs > 64 || node->n_outputs > 64)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "too many inputs or outputs for float16 execution");
  memset(shadow, 0, sizeof shadow);
  /* all of them first: a failure below restores every one */
  for (i = 0; i < node->n_inputs; i++)
    real_in[i] = node->in[i];
  for (i = 0; i < node->n_outputs; i++)
    real_out[i] = node->out[i];
  for (i = 0; i < node->n_inputs; i++) {
    if (node->in[i] && is_reduced_float(node->in[i]->dtype)) {
      struct sc_tensor *s = &shadow[i];
      if (phase != PHASE_RUN) { /* shapes only */
        s->dtype = SC_DTYPE_FLOAT;
        s->rank = node->in[i]->rank;
        memcpy(s->dims, node->in[i]->dims, sizeof s->dims);
        s->n_elements = node->in[i]->n_elements;
      } else {
        st = widen(node->in[i], s, pool,
                   np->in_shadow_slot ? np->in_shadow_slot[i] : -1, rs,
                   node->graph->threads, err);
        if (st)
          goto cleanup;
      }
      node->in[i] = s;
    }
  }
  for (i = 0; i < node->n_outputs; i++) {
    if (node->out[i] && phase != PHASE_PREPARE &&
        (np->narrow_outputs >> i & 1)) {
      struct sc_tensor *s = &shadow[64 + i];
      s->dtype = SC_DTYPE_FLOAT;
      s->rank = node->out[i]->rank;
      memcpy(s->dims, node->out[i]->dims, sizeof s->dims);
      s->n_elements = node->out[i]->n_elements;
      node->out[i] = s;
    }
  }

  if (phase == PHASE_PREPARE) {
    st = node->op->prepare ? node->op->prepare(node, err) : SC_OK;
    if (!st && np->reduced != SC_DTYPE_UNDEFINED)
      for (i = 0; i < node->n_outputs && i < 64; i++)
        if (node->out[i] && node->out[i]->dtype == SC_DTYPE_FLOAT &&
            !(i > 0 && (node->op->flags & SC_OP_F16_FIRST_OUTPUT_ONLY))) {
          node->out[i]->dtype = np->reduced;
          np->narrow_outputs |= 1ull << i;
        }
  } else if (phase == PHASE_RESHAPE) {
    st = node->op->reshape ? node->op->reshape(node, err) : SC_OK;
    for (i = 0; i < node->n_outputs; i++)
      if (node->out[i] != real_out[i]) {
        real_out[i]->rank = node->out[i]->rank;
        memcpy(real_out[i]->dims, node->out[i]->dims, sizeof real_out[i]->dims);
        real_out[i]->n_elements = node->out[i]->n_elements;
      }
  } else {
    for (i = 0; i < node->n_outputs && !st; i++)
      if (node->out[i] && node->out[i]->rank >= 0)
        st = node->out[i] == real_out[i]
                 ? alloc_output(np, i, node->out[i], pool, rs, err)
                 : alloc_planned(np->out_shadow_slot ? np->out_shadow_slot[i]
                                                     : -1,
                                 node->out[i], pool, rs, err);
    if (!st)
      st = node->op->run(node, err);
    for (i = 0; i < node->n_outputs && !st; i++)
      if (node->out[i] != real_out[i]) {
        if (real_out[i]->rank < 0 || !real_out[i]->data) {
          /* data-dependent shape: allocated by the kernel on the shadow */
          st = sc_tensor_set_shape(real_out[i], node->out[i]->rank,
                                   node->out[i]->dims, err);
          if (!st)
            st = alloc_output(np, i, real_out[i], pool, rs, err);
        }
        if (!st)
          narrow(node->out[i], real_out[i], node->graph->threads);
      }
  }

cleanup:
  for (i = 0; i < node->n_inputs; i++)
    node->in[i] = real_in[i];
  for (i = 0; i < node->n_outputs; i++)
    node->out[i] = real_out[i];
  for (i = 0; i < 128; i++)
    sc_tensor_release_data(&shadow[i]);
  return st;
}

/* Makes sure a failure message names the node. */
static sc_status name_node(const struct sc_node *node, sc_status st,
                           struct sc_error *err)
{
  char tag[512];
  if (!st || !err)
    return st;
  snprintf(tag, sizeof tag, "'%s'", node->name);
  if (!strstr(err->message, tag))
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
  return st;
}

static sc_status node_phase_raw(struct sc_node *node, struct sc_node_plan *np,
                                enum phase phase, struct sc_pool *pool,
                                const struct run_storage *rs,
                                struct sc_error *err);

/* `rs`: the memory plan's storage for a full run; NULL takes every
 * output from `pool`. */
static sc_status node_phase(struct sc_node *node, struct sc_node_plan *np,
                            enum phase phase, struct sc_pool *pool,
                            const struct run_storage *rs, struct sc_error *err)
{
  return name_node(node, node_phase_raw(node, np, phase, pool, rs, err), err);
}

/* Output 0 of an alias node takes input 0's buffer: 1 when done, 0 when
 * input 0's data is not held by a buffer (a feed) or the types or sizes differ,
 * and the node must copy. */
static int share_input0(struct sc_node *node)
{
  const struct sc_tensor *in = node->in[0];
  struct sc_tensor *out = node->out[0];
  if (!in || !out || !in->buffer || out->rank < 0 || in->dtype != out->dtype ||
      sc_tensor_size(in) != sc_tensor_size(out))
    return 0;
  sc_tensor_share_data(out, in);
  return 1;
}

/* For a ConvInteger with a quantized tail: points node->tail_scale and
 * tail_bias at the values the kernel applies, when the run executes the
 * whole tail and they have their data (a run pulling nodes out of order
 * may not have computed them yet); else the ConvInteger runs plainly. */
static void bind_quant_tail(struct sc_node *node, const struct sc_node_plan *np,
                            const struct run_storage *rs)
{
  const struct sc_tensor *scale, *bias;
  int k;
  if (np->n_tail_members == 0 || !rs || !rs->fused)
    return;
  for (k = 0; k < np->n_tail_members; k++)
    if (rs->mask && !rs->mask[np->tail_members[k]])
      return;
  scale = &rs->vt[np->tail_scale];
  bias = np->tail_bias >= 0 ? &rs->vt[np->tail_bias] : NULL;
  if (scale->rank >= 0 && scale->data && scale->n_elements == 1 &&
      (!bias || (bias->rank >= 0 && bias->data &&
                 bias->n_elements == node->out[0]->dims[1]))) {
    node->tail_scale = scale;
    node->tail_bias = bias;
  }
}

static sc_status node_phase_raw(struct sc_node *node, struct sc_node_plan *np,
                                enum phase phase, struct sc_pool *pool,
                                const struct run_storage *rs,
                                struct sc_error *err)
{
  if (np->via_float)
    return call_via_float(node, np, phase, pool, rs, err);
  switch (phase) {
  case PHASE_PREPARE:
    return node->op->prepare ? node->op->prepare(node, err) : SC_OK;
  case PHASE_RESHAPE:
    return node->op->reshape ? node->op->reshape(node, err) : SC_OK;
  case PHASE_RUN: {
    int i;
    sc_status st;
    if (np->tail_head >= 0) { /* computed by the ConvInteger, or not */
      if (rs && rs->fused && rs->fused[np->tail_head]) {
        sc_tensor_share_data(node->out[0], node->in[0]);
        return SC_OK;
      }
    } else if (np->alias && rs && rs->share && share_input0(node)) {
      return SC_OK;
    }
    for (i = 0; i < node->n_outputs; i++)
      if (node->out[i] && node->out[i]->rank >= 0) {
        st = alloc_output(np, i, node->out[i], pool, rs, err);
        if (st)
          return st;
      }
    node->fused_relu = np->fuse_relu && rs && rs->share;
    bind_quant_tail(node, np, rs);
    st = node->op->run(node, err);
    if (np->n_tail_members > 0 && rs && rs->fused)
      rs->fused[node - node->graph->nodes] = !st && node->tail_scale;
    node->fused_relu = 0;
    node->tail_scale = node->tail_bias = NULL;
    return st;
  }
  }
  return SC_OK;
}

static int inputs_known(const struct sc_node *node, int need_data)
{
  int i;
  for (i = 0; i < node->n_inputs; i++)
    if (node->in[i]) {
      if (node->in[i]->rank < 0)
        return 0;
      if (need_data && !node->in[i]->data)
        return 0;
    }
  return 1;
}

/* Static pass: kernel prepare and shape inference for every node, small
 * constant subgraphs evaluated. `vt` holds one header per value. */
static sc_status static_pass(struct sc_graph *g, struct sc_tensor *vt,
                             struct sc_error *err)
{
  struct sc_plan *plan = g->plan;
  char unsupported[SC_ERROR_MESSAGE_SIZE - 256];
  size_t used = 0;
  int n_unsupported = 0, truncated = 0;
  int i, j;
  sc_status st;

  unsupported[0] = '\0';
  for (i = 0; i < g->n_nodes; i++) {
    struct sc_node *node = &g->nodes[i];
    struct sc_node_plan *np = &plan->nodes[i];
    int blocked = 0;
    struct sc_error node_err;

    bind_node(node, vt);
    node->shape_deferred = 0;
    for (j = 0; j < node->n_inputs; j++)
      if (node->in[j] && node->in[j]->dtype == SC_DTYPE_UNDEFINED)
        blocked = 1; /* an upstream node is unsupported */

    sc_error_clear(&node_err);
    if (!node->op) {
      char item[512];
      int64_t version = sc_graph_opset(g, node->domain);
      snprintf(item, sizeof item, "%s%s%s%s '%s' (opset %lld)",
               n_unsupported ? "; " : "", node->domain[0] ? node->domain : "",
               node->domain[0] ? "." : "", node->op_type, node->name,
               (long long)version);
      n_unsupported++;
      if (!truncated &&
          append_text(unsupported, sizeof unsupported, &used, item) != 0)
        truncated = 1;
      continue;
    }
    if (blocked)
      continue;
    /* Reduced-precision inputs are widened for the kernel; its float
     * outputs are rounded back to the data type, which is input 0's (a
     * float16 roi or grid beside float data leaves the output float). When
     * input 0 is not a float (Where's condition), the first reduced input
     * gives the type. */
    np->via_float = 0;
    np->reduced = SC_DTYPE_UNDEFINED;
    if (node->op->flags & SC_OP_F16_VIA_FLOAT) {
      int all_half = 1;
      for (j = 0; j < node->n_inputs; j++)
        if (node->in[j]) {
          if (is_reduced_float(node->in[j]->dtype))
            np->via_float = 1;
          if (node->in[j]->dtype != SC_DTYPE_FLOAT16)
            all_half = 0;
        }
      if ((node->op->flags & SC_OP_F16_ROWS) && all_half)
        np->via_float = 0; /* the kernel's own float16 rows */
    }
    if (np->via_float && node->n_inputs > 0 && node->in[0]) {
      if (is_reduced_float(node->in[0]->dtype))
        np->reduced = node->in[0]->dtype;
      else if (!sc_dtype_is_float(node->in[0]->dtype))
        for (j = 1; j < node->n_inputs; j++)
          if (node->in[j] && is_reduced_float(node->in[j]->dtype)) {
            np->reduced = node->in[j]->dtype;
            break;
          }
    }
    st = node_phase(node, np, PHASE_PREPARE, NULL, NULL, &node_err);
    if (st == SC_ERR_UNSUPPORTED) {
      char item[768];
      snprintf(item, sizeof item, "%s%s", n_unsupported ? "; " : "",
               node_err.message);
      n_unsupported++;
      if (!truncated &&
          append_text(unsupported, sizeof unsupported, &used, item) != 0)
        truncated = 1;
      for (j = 0; j < node->n_outputs; j++)
        if (node->out[j])
          node->out[j]->dtype = SC_DTYPE_UNDEFINED;
      continue;
    }
    if (st) {
      *err = node_err;
      return st;
    }
    np->prepared = 1;
    for (j = 0; j < node->n_outputs; j++)
      if (node->out[j] && node->out[j]->dtype == SC_DTYPE_UNDEFINED)
        return sc_node_fail(node, err, SC_ERR_INTERNAL,
                            "kernel did not set the dtype of output %d", j);
    if (n_unsupported)
      continue; /* keep listing; no shapes needed any more */

    for (j = 0; j < node->n_outputs; j++)
      if (node->out[j])
        node->out[j]->rank = -1;
    if (inputs_known(node, 0)) {
      st = node_phase(node, np, PHASE_RESHAPE, NULL, NULL, err);
      if (st)
        return st;
      if (node->shape_deferred)
        for (j = 0; j < node->n_outputs; j++)
          if (node->out[j])
            node->out[j]->rank = -1;
    }
    /* evaluate small constant subgraphs (and shape-only operators) */
    if (inputs_known(node, !(node->op->flags & SC_OP_SHAPE_ONLY)) &&
        !node->shape_deferred) {
      int64_t total = 0;
      int foldable = 1;
      for (j = 0; j < node->n_outputs; j++)
        if (node->out[j]) {
          if (node->out[j]->rank < 0)
            foldable = 0;
          else
            total += node->out[j]->n_elements;
        }
      if (foldable && total <= FOLD_MAX_ELEMENTS) {
        st = node_phase(node, np, PHASE_RUN, NULL, NULL, err);
        if (st)
          return st;
      }
    }
    for (j = 0; j < node->n_outputs; j++)
      if (node->out[j]) {
        struct sc_value *v = &g->values[node->outputs[j]];
        v->dtype = node->out[j]->dtype;
        v->rank = node->out[j]->rank;
        if (v->rank >= 0)
          memcpy(v->dims, node->out[j]->dims, sizeof v->dims);
      }
  }
  if (n_unsupported)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "%d unsupported node%s: %s%s",
                   n_unsupported, n_unsupported == 1 ? "" : "s", unsupported,
                   truncated ? "; ..." : "");
  return SC_OK;
}

/* Initialises the header of value v for a pass: initializers are borrowed,
 * everything else starts with its static dtype and unknown shape. */
static void init_value_header(const struct sc_graph *g, int v,
                              struct sc_tensor *t)
{
  const struct sc_value *val = &g->values[v];
  memset(t, 0, sizeof *t);
  if (val->initializer) {
    *t = *val->initializer;
    t->buffer = NULL; /* borrowed */
    return;
  }
  t->dtype = val->dtype;
  t->rank = -1;
}

/* Bytes of value v when its dtype and shape are known before running,
 * else 0. */
static size_t static_size(const struct sc_graph *g, int v)
{
  const struct sc_value *val = &g->values[v];
  size_t n = sc_dtype_size(val->dtype);
  int i;
  if (val->rank < 0 || val->dtype == SC_DTYPE_STRING)
    return 0;
  for (i = 0; i < val->rank; i++) {
    if (val->dims[i] < 0 ||
        (val->dims[i] > 0 && n > SC_MAX_TENSOR_SIZE / (size_t)val->dims[i]))
      return 0;
    n *= (size_t)val->dims[i];
  }
  return n;
}

static int is_graph_output(const struct sc_graph *g, int v)
{
  int k;
  for (k = 0; v >= 0 && k < g->n_outputs; k++)
    if (g->outputs[k] == v)
      return 1;
  return 0;
}

/* One tensor of the memory plan: `size` bytes held from node `first` to
 * node `last` (inclusive), and where its slot index goes. */
struct plan_item {
  size_t size;
  int first, last;
  int *slot;
};

/* Largest first; among equals, earliest first (a stable, total order). */
static int by_size(const void *a, const void *b)
{
  const struct plan_item *x = a, *y = b;
  if (x->size != y->size)
    return x->size < y->size ? 1 : -1;
  if (x->first != y->first)
    return x->first < y->first ? -1 : 1;
  return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* -1 filled array of n slot indices; NULL when out of memory. */
static int *no_slots(int n)
{
  int *a = malloc(((size_t)n + 1) * sizeof *a), i;
  for (i = 0; a && i < n; i++)
    a[i] = -1;
  return a;
}

/* Lists the tensors of node i that get a slot: its outputs of known size
 * and, for a node computed in float on float16 tensors, the float copies
 * of its float16 inputs and outputs (held while the node runs). */
static sc_status node_items(const struct sc_graph *g, int i, const int *last,
                            struct plan_item **items, int *n, int *capacity,
                            struct sc_error *err)
{
  const struct sc_node *node = &g->nodes[i];
  struct sc_node_plan *np = &((struct sc_plan *)g->plan)->nodes[i];
  int j, pass;

  np->out_slot = no_slots(node->n_outputs);
  if (np->via_float) {
    np->in_shadow_slot = no_slots(node->n_inputs);
    np->out_shadow_slot = no_slots(node->n_outputs);
  }
  if (!np->out_slot ||
      (np->via_float && (!np->in_shadow_slot || !np->out_shadow_slot)))
    return sc_fail_nomem(err, "memory plan");
  for (j = 0; j < node->n_outputs && j < 64; j++)
    if (is_graph_output(g, node->outputs[j]))
      np->graph_outputs |= 1ull << j;
  for (pass = 0; pass < 3; pass++) {
    int count = pass == 1 ? node->n_inputs : node->n_outputs;
    if (pass > 0 && !np->via_float)
      break;
    for (j = 0; j < count; j++) {
      int v = pass == 1 ? node->inputs[j] : node->outputs[j];
      size_t size = v >= 0 ? static_size(g, v) : 0;
      struct plan_item *it;
      if (size == 0 || (pass == 0 && j == 0 && np->alias))
        continue;
      if (pass == 1 && !is_reduced_float(g->values[v].dtype))
        continue;
      if (pass == 2 && (j >= 64 || !(np->narrow_outputs >> j & 1)))
        continue;
      if (*n == *capacity) {
        struct plan_item *grown =
            realloc(*items, (size_t)(*capacity * 2 + 16) * sizeof *grown);
        if (!grown)
          return sc_fail_nomem(err, "memory plan");
        *items = grown;
        *capacity = *capacity * 2 + 16;
      }
      it = &(*items)[(*n)++];
      it->first = i;
      if (pass == 0) {
        it->size = size;
        it->last = last[v] > i ? last[v] : i;
        it->slot = &np->out_slot[j];
      } else { /* float copies: twice the bytes of float16 */
        it->size = 2 * size;
        it->last = i;
        it->slot = pass == 1 ? &np->in_shadow_slot[j] : &np->out_shadow_slot[j];
      }
      it->size =
          (it->size + SC_TENSOR_ALIGN - 1) / SC_TENSOR_ALIGN * SC_TENSOR_ALIGN;
    }
  }
  return SC_OK;
}

/* Output 0 of node i may take input 0's buffer (graphs prepared for
 * plain runs only): an operator that only relabels its input's bytes
 * (SC_OP_OUTPUT_IS_INPUT0, or Cast to the type the input already has),
 * computed directly (not via float), whose output 0 is not a graph output
 * (a run hands those out past its end) and has the input's byte size. */
static int may_alias(const struct sc_graph *g, int i)
{
  const struct sc_node *node = &g->nodes[i];
  const struct sc_node_plan *np = &((struct sc_plan *)g->plan)->nodes[i];
  int in, out;
  if (!g->plain_runs || !node->op || np->via_float || node->n_inputs < 1 ||
      node->n_outputs < 1)
    return 0;
  in = node->inputs[0];
  out = node->outputs[0];
  if (in < 0 || out < 0 || g->values[in].dtype == SC_DTYPE_UNDEFINED ||
      g->values[in].dtype != g->values[out].dtype)
    return 0;
  if (!(node->op->flags & SC_OP_OUTPUT_IS_INPUT0) &&
      !(strcmp(node->op_type, "Cast") == 0 && node->domain[0] == '\0'))
    return 0;
  return !is_graph_output(g, out) && static_size(g, in) == static_size(g, out);
}

/* The Conv whose output node i, a Relu, is the only reader of and may be
 * fused into (graphs prepared for plain runs only): a float Conv computed
 * directly, neither tensor a graph output, both of one byte size. -1 when
 * there is none. */
static int fusable_conv(const struct sc_graph *g, int i)
{
  const struct sc_node *node = &g->nodes[i];
  const struct sc_plan *plan = g->plan;
  int x, y, p;
  if (!g->plain_runs || strcmp(node->op_type, "Relu") != 0 ||
      node->domain[0] != '\0' || node->n_inputs != 1 || node->n_outputs != 1)
    return -1;
  x = node->inputs[0];
  y = node->outputs[0];
  if (x < 0 || y < 0 || g->values[x].dtype != SC_DTYPE_FLOAT ||
      g->values[y].dtype != SC_DTYPE_FLOAT || g->values[x].n_consumers != 1)
    return -1;
  p = g->values[x].producer;
  if (p < 0 || strcmp(g->nodes[p].op_type, "Conv") != 0 ||
      g->nodes[p].domain[0] != '\0' || g->nodes[p].outputs[0] != x ||
      plan->nodes[p].via_float || is_graph_output(g, x) ||
      is_graph_output(g, y))
    return -1;
  return static_size(g, x) == static_size(g, y) ? p : -1;
}

/* 1 when no observer reads value v: a graph output never, the others
 * when the graph runs plainly or the caller said so. */
static int unobserved(const struct sc_graph *g, int v)
{
  return v >= 0 && !is_graph_output(g, v) &&
         (g->plain_runs || (g->unobserved && g->unobserved[v]));
}

/* A float value of known shape holding n elements, whose data exists
 * before node `before` runs: an initializer, or produced earlier. */
static int float_before(const struct sc_graph *g, int v, int before, int64_t n)
{
  const struct sc_value *val;
  int64_t count = 1;
  int i;
  if (v < 0)
    return 0;
  val = &g->values[v];
  if (val->dtype != SC_DTYPE_FLOAT || val->rank < 0 ||
      (val->producer >= before && !val->initializer))
    return 0;
  for (i = 0; i < val->rank; i++)
    count *= val->dims[i];
  return count == n;
}

/* 1 when bias value v, [1, M, 1 ...] or [M, 1 ...] against an output of
 * `rank` [N, M, ...], adds bias[m] to channel m. */
static int per_channel(const struct sc_value *v, int rank, int64_t m)
{
  int i, at = v->rank == rank ? 1 : v->rank == rank - 1 ? 0 : -1;
  if (at < 0 || (at == 1 && v->dims[0] != 1) || v->dims[at] != m)
    return 0;
  for (i = at + 1; i < v->rank; i++)
    if (v->dims[i] != 1)
      return 0;
  return 1;
}

/* The only node reading value v, as its input `j`, an op_type node with
 * an output 0, else -1; reader[v] is the last node reading v. */
static int only_reader(const struct sc_graph *g, const int *reader, int v,
                       int j, const char *op_type)
{
  int i = v >= 0 ? reader[v] : -1;
  if (i < 0 || g->values[v].n_consumers != 1 ||
      strcmp(g->nodes[i].op_type, op_type) != 0 ||
      g->nodes[i].domain[0] != '\0' || g->nodes[i].inputs[j] != v ||
      g->nodes[i].n_outputs < 1 || g->nodes[i].outputs[0] < 0)
    return -1;
  return i;
}

/* Finds ONNX Runtime's dynamically quantized convolutions whose tail the
 * ConvInteger can compute: ConvInteger -> Cast to float -> Mul by a float
 * scalar -> (Add of a per-channel float bias), each intermediate value
 * unobserved and read by the next node only (as its input 0), the scalar
 * and the bias ready before the ConvInteger runs. The Cast, Mul and Add
 * then become aliases of the ConvInteger's output (its buffer lives until
 * the last reader of the tail's end); a run computes them in the
 * ConvInteger (node_phase_raw) when it runs all of them. */
static void mark_quant_tails(struct sc_graph *g, const int *reader)
{
  struct sc_plan *plan = g->plan;
  int i;

  for (i = 0; i < g->n_nodes; i++) {
    struct sc_node_plan *np = &plan->nodes[i];
    np->tail_scale = np->tail_bias = np->tail_head = -1;
    np->n_tail_members = 0;
  }
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *c = &g->nodes[i];
    const struct sc_value *out;
    struct sc_node_plan *np = &plan->nodes[i];
    int cast, mul, add, y, k;
    if (strcmp(c->op_type, "ConvInteger") != 0 || c->domain[0] ||
        c->n_outputs != 1 || !unobserved(g, c->outputs[0]) ||
        g->values[c->outputs[0]].rank < 3 || np->via_float)
      continue;
    out = &g->values[c->outputs[0]];
    cast = only_reader(g, reader, c->outputs[0], 0, "Cast");
    if (cast < 0 ||
        g->values[g->nodes[cast].outputs[0]].dtype != SC_DTYPE_FLOAT ||
        !unobserved(g, g->nodes[cast].outputs[0]))
      continue;
    mul = only_reader(g, reader, g->nodes[cast].outputs[0], 0, "Mul");
    if (mul < 0 || g->nodes[mul].n_inputs != 2 ||
        !float_before(g, g->nodes[mul].inputs[1], i, 1) ||
        is_graph_output(g, g->nodes[mul].outputs[0]))
      continue;
    y = g->nodes[mul].outputs[0];
    add = unobserved(g, y) ? only_reader(g, reader, y, 0, "Add") : -1;
    if (add >= 0 &&
        (g->nodes[add].n_inputs != 2 ||
         !float_before(g, g->nodes[add].inputs[1], i, out->dims[1]) ||
         !per_channel(&g->values[g->nodes[add].inputs[1]], out->rank,
                      out->dims[1]) ||
         is_graph_output(g, g->nodes[add].outputs[0])))
      add = -1;
    np->tail_scale = g->nodes[mul].inputs[1];
    np->tail_bias = add >= 0 ? g->nodes[add].inputs[1] : -1;
    np->tail_members[0] = cast;
    np->tail_members[1] = mul;
    np->tail_members[2] = add;
    np->n_tail_members = add >= 0 ? 3 : 2;
    for (k = 0; k < np->n_tail_members; k++)
      plan->nodes[np->tail_members[k]].tail_head = i;
  }
}

/* Marks the alias nodes (and the Conv nodes that apply the Relu after
 * them) and makes each alias's readers keep the buffer's first owner
 * alive: the value whose buffer it is (its root, through chains of
 * aliases) lives until the last reader of any alias of it. */
static void mark_aliases(struct sc_graph *g, int *last)
{
  struct sc_plan *plan = g->plan;
  int i;
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    int root, out, conv = fusable_conv(g, i);
    if (conv >= 0)
      plan->nodes[conv].fuse_relu = 1;
    plan->nodes[i].alias =
        conv >= 0 || may_alias(g, i) || plan->nodes[i].tail_head >= 0;
    if (!plan->nodes[i].alias)
      continue;
    out = node->outputs[0];
    root = node->inputs[0];
    while (g->values[root].producer >= 0 &&
           plan->nodes[g->values[root].producer].alias)
      root = g->nodes[g->values[root].producer].inputs[0];
    if (last[out] > last[root])
      last[root] = last[out];
  }
}

/* The memory plan of full runs, made once the static shapes are known
 * (DESIGN.md: an arena plan at prepare time). Every tensor of known size
 * a node computes gets a slot, one buffer kept across runs; so do the
 * float copies a float16 node computes in. Largest first, each tensor
 * takes the first slot none of whose tensors is alive while it is (a
 * tensor is alive from its producer to its last consumer), else a new
 * slot of its size: big tensors share big buffers, small ones fill the
 * gaps, and the slots add up to little more than the most bytes alive at
 * once. A run after the first allocates nothing for them. A tensor still
 * held when its slot comes round again (a graph output the run keeps, a
 * tensor an observer keeps, a node run out of order) makes the slot take
 * a new buffer instead (sc_tensor_alloc_in_slot). Tensors of unknown size
 * and the runs of a node subset use the pool. */
static sc_status plan_memory(struct sc_graph *g, struct sc_error *err)
{
  struct sc_plan *plan = g->plan;
  int *last = calloc((size_t)g->n_values + 1, sizeof *last);
  struct plan_item *items = NULL;
  struct plan_item **members = NULL; /* per slot: its items, in a list */
  int *n_members = NULL, n_items = 0, items_capacity = 0, i, j, k;
  sc_status st = SC_OK;

  if (!last)
    return sc_fail_nomem(err, "memory plan");
  for (i = 0; i < g->n_values; i++)
    last[i] = -1;
  for (i = 0; i < g->n_nodes; i++)
    for (j = 0; j < g->nodes[i].n_inputs; j++)
      if (g->nodes[i].inputs[j] >= 0)
        last[g->nodes[i].inputs[j]] = i;
  mark_quant_tails(g, last); /* before mark_aliases extends `last` */
  mark_aliases(g, last);
  for (i = 0; i < g->n_nodes && !st; i++)
    st = node_items(g, i, last, &items, &n_items, &items_capacity, err);
  if (!st && n_items > 0) {
    qsort(items, (size_t)n_items, sizeof *items, by_size);
    members = calloc((size_t)n_items, sizeof *members);
    n_members = calloc((size_t)n_items, sizeof *n_members);
    plan->slots = calloc((size_t)n_items, sizeof *plan->slots);
    if (!members || !n_members || !plan->slots)
      st = sc_fail_nomem(err, "memory plan");
  }
  for (i = 0; i < n_items && !st; i++) {
    struct plan_item *it = &items[i];
    for (k = 0; k < plan->n_slots; k++) {
      for (j = 0; j < n_members[k]; j++)
        if (members[k][j].first <= it->last && it->first <= members[k][j].last)
          break;
      if (j == n_members[k])
        break;
    }
    if (k == plan->n_slots) {
      plan->slots[k].capacity = it->size;
      plan->n_slots++;
    }
    if ((n_members[k] & (n_members[k] - 1)) == 0) { /* 0, 1, 2, 4 ...: grow */
      struct plan_item *grown =
          realloc(members[k], (size_t)(n_members[k] ? 2 * n_members[k] : 1) *
                                  sizeof *grown);
      if (!grown) {
        st = sc_fail_nomem(err, "memory plan");
        break;
      }
      members[k] = grown;
    }
    members[k][n_members[k]++] = *it;
    *it->slot = k;
  }
  for (k = 0; members && k < plan->n_slots; k++)
    free(members[k]);
  free(members);
  free(n_members);
  free(items);
  free(last);
  return st;
}

/* Frees the data of initializers that every reader keeps in its own state
 * (sc_node.holds_input: packed Conv weights), so that a model's weights
 * are not held twice. Graph inputs and outputs keep theirs. */
static void drop_held_initializers(struct sc_graph *g)
{
  /* per value: 1 while every reader seen holds it, -1 once one does not */
  signed char *held = calloc((size_t)g->n_values + 1, 1);
  int i, j;
  if (!held)
    return; /* keeping the data is always correct */
  for (i = 0; i < g->n_nodes; i++) {
    const struct sc_node *node = &g->nodes[i];
    for (j = 0; j < node->n_inputs; j++) {
      int v = node->inputs[j];
      if (v < 0)
        continue;
      if (j < 32 && (node->holds_input >> j & 1u))
        held[v] = held[v] < 0 ? -1 : 1;
      else
        held[v] = -1;
    }
  }
  for (i = 0; i < g->n_values; i++) {
    struct sc_value *v = &g->values[i];
    if (held[i] == 1 && v->initializer && !v->is_input &&
        !is_graph_output(g, i))
      sc_tensor_release_data(v->initializer);
  }
  free(held);
}

static sc_status prepare_graph(struct sc_graph *g, struct sc_error *err);

sc_status sc_graph_set_unobserved(struct sc_graph *g, const unsigned char *mask,
                                  struct sc_error *err)
{
  struct sc_plan *plan = g->plan;
  unsigned char *copy = NULL;
  int i;

  if (mask) {
    copy = malloc((size_t)g->n_values + 1);
    if (!copy)
      return sc_fail_nomem(err, "unobserved values");
    memcpy(copy, mask, (size_t)g->n_values);
  }
  free(g->unobserved);
  g->unobserved = copy;
  if (!g->prepared || !plan)
    return SC_OK;
  release_memory_plan(g, plan); /* and plan it again */
  for (i = 0; i < g->n_nodes; i++) {
    plan->nodes[i].graph_outputs = 0;
    plan->nodes[i].alias = plan->nodes[i].fuse_relu = 0;
  }
  return plan_memory(g, err);
}

/* Errors name the model file (g->source) they come from. */
sc_status sc_graph_prepare(struct sc_graph *g, struct sc_error *err)
{
  sc_status st = prepare_graph(g, err);
  if (st && err && g->source && g->source[0] &&
      !strstr(err->message, g->source))
    sc_error_prefix(err, "%s: ", g->source);
  return st;
}

static sc_status prepare_graph(struct sc_graph *g, struct sc_error *err)
{
  struct sc_tensor *vt = NULL;
  struct sc_plan *plan;
  int i, j;
  sc_status st;

  if (g->prepared)
    return SC_OK;
  st = sc_graph_sort(g, err);
  if (st)
    return st;
  if (!g->pool) {
    st = sc_pool_create(&g->pool, err);
    if (st)
      return st;
  }
  sc_plan_free(g);
  plan = calloc(1, sizeof *plan);
  if (!plan)
    return sc_fail_nomem(err, "execution plan");
  g->plan = plan;
  plan->nodes = calloc((size_t)g->n_nodes + 1, sizeof *plan->nodes);
  vt = calloc((size_t)g->n_values + 1, sizeof *vt);
  if (!plan->nodes || !vt) {
    free(vt);
    return sc_fail_nomem(err, "execution plan");
  }
  for (i = 0; i < g->n_nodes; i++) {
    struct sc_node *node = &g->nodes[i];
    int64_t version = sc_graph_opset(g, node->domain);
    plan->nodes[i].tail_head = -1; /* mark_quant_tails sets the tails */
    plan->nodes[i].tail_scale = plan->nodes[i].tail_bias = -1;
    if (version < 0)
      version = node->domain[0] ? 1 : 1; /* not imported: oldest */
    node->opset = version;
    node->graph = g;
    node->op = sc_op_lookup(node->domain, node->op_type, version);
    free(node->in);
    free(node->out);
    node->in = calloc((size_t)node->n_inputs + 1, sizeof *node->in);
    node->out = calloc((size_t)node->n_outputs + 1, sizeof *node->out);
    if (!node->in || !node->out) {
      free(vt);
      return sc_fail_nomem(err, "node bindings");
    }
  }
  for (i = 0; i < g->n_values; i++) {
    init_value_header(g, i, &vt[i]);
    if (g->values[i].is_input && !g->values[i].initializer) {
      int known = g->values[i].rank >= 0;
      for (j = 0; j < g->values[i].rank; j++)
        if (g->values[i].dims[j] < 0)
          known = 0;
      if (known) {
        st = sc_tensor_set_shape(&vt[i], g->values[i].rank, g->values[i].dims,
                                 err);
        if (st) {
          sc_error_prefix(err, "graph input '%s': ", g->values[i].name);
          free(vt);
          return st;
        }
      }
    }
  }
  st = static_pass(g, vt, err);
  for (i = 0; i < g->n_values; i++)
    if (!g->values[i].initializer)
      sc_tensor_release_data(&vt[i]);
  free(vt);
  for (i = 0; i < g->n_nodes; i++) {
    for (j = 0; j < g->nodes[i].n_inputs; j++)
      g->nodes[i].in[j] = NULL;
    for (j = 0; j < g->nodes[i].n_outputs; j++)
      g->nodes[i].out[j] = NULL;
  }
  if (st)
    return st;
  /* scales and zero points of quantized tensors, for LSB errors; after the
   * static pass, when ranks are known (per-axis parameters need them) */
  st = sc_graph_annotate_quant(g, err);
  if (!st)
    st = plan_memory(g, err);
  if (st)
    return st;
  drop_held_initializers(g);
  g->prepared = 1;
  return SC_OK;
}

static int shape_matches(const struct sc_value *v, const struct sc_tensor *t)
{
  int i;
  if (v->rank < 0)
    return 1;
  if (v->rank != t->rank)
    return 0;
  for (i = 0; i < t->rank; i++)
    if (v->dims[i] >= 0 && v->dims[i] != t->dims[i])
      return 0;
  return 1;
}

/* A run in progress (sc_run_start ... sc_run_free). */
struct sc_run {
  struct sc_graph *g;
  struct sc_run_options opt;
  struct sc_tensor *vt; /* one header per value */
  int *remaining;       /* consumers still to run, per value */
  uint8_t *borrowed;    /* data not ours: initializers and feeds */
  uint8_t *keep;        /* graph outputs */
  uint8_t *ran;         /* per node: has run (sc_run_node runs out of order) */
  uint8_t *fused;       /* per node: a ConvInteger computed its tail */
  int next;             /* the node the next step runs, g->n_nodes when done */
  int failed;           /* a step failed: the run cannot go on */
};

/* The first node at or after i that the run executes and has not run. */
static int next_selected(const struct sc_run *run, int i)
{
  while (i < run->g->n_nodes &&
         ((run->opt.node_mask && !run->opt.node_mask[i]) || run->ran[i]))
    i++;
  return i;
}

static sc_status bind_feeds(struct sc_run *run, int n_feeds,
                            const struct sc_feed *feeds, struct sc_error *err)
{
  struct sc_graph *g = run->g;
  int i;
  for (i = 0; i < n_feeds; i++) {
    int v = sc_graph_find_value(g, feeds[i].name);
    const struct sc_tensor *t = feeds[i].tensor;
    char want[128], got[128];
    if (v < 0)
      return sc_fail(err, SC_ERR_CONFIG, "the model has no tensor named '%s'",
                     feeds[i].name);
    if (g->values[v].dtype != SC_DTYPE_UNDEFINED &&
        g->values[v].dtype != t->dtype)
      return sc_fail(err, SC_ERR_CONFIG,
                     "input '%s': the model expects %s, the input is %s",
                     feeds[i].name, sc_dtype_name(g->values[v].dtype),
                     sc_dtype_name(t->dtype));
    if (!shape_matches(&g->values[v], t))
      return sc_fail(err, SC_ERR_CONFIG,
                     "input '%s': the model expects shape %s, the input has %s",
                     feeds[i].name,
                     sc_shape_format(g->values[v].rank, g->values[v].dims, want,
                                     sizeof want),
                     sc_shape_format(t->rank, t->dims, got, sizeof got));
    run->vt[v] = *t;
    run->vt[v].buffer = NULL;
    run->borrowed[v] = 1;
  }
  if (!run->opt.node_mask)
    for (i = 0; i < g->n_inputs; i++)
      if (run->vt[g->inputs[i]].rank == -2)
        return sc_fail(err, SC_ERR_CONFIG, "no tensor given for input '%s'",
                       g->values[g->inputs[i]].name);
  return SC_OK;
}

sc_status sc_run_start(struct sc_graph *g, int n_feeds,
                       const struct sc_feed *feeds,
                       const struct sc_run_options *options,
                       struct sc_run **out, struct sc_error *err)
{
  struct sc_run *run;
  int i, j;
  sc_status st;

  *out = NULL;
  st = sc_graph_prepare(g, err);
  if (st)
    return st;
  run = calloc(1, sizeof *run);
  if (!run)
    return sc_fail_nomem(err, "run state");
  run->g = g;
  if (options)
    run->opt = *options;
  run->vt = calloc((size_t)g->n_values + 1, sizeof *run->vt);
  run->remaining = calloc((size_t)g->n_values + 1, sizeof *run->remaining);
  run->borrowed = calloc((size_t)g->n_values + 1, 1);
  run->keep = calloc((size_t)g->n_values + 1, 1);
  run->ran = calloc((size_t)g->n_nodes + 1, 1);
  run->fused = calloc((size_t)g->n_nodes + 1, 1);
  if (!run->vt || !run->remaining || !run->borrowed || !run->keep ||
      !run->ran || !run->fused) {
    sc_run_free(run);
    return sc_fail_nomem(err, "run state");
  }
  for (i = 0; i < g->n_values; i++) {
    init_value_header(g, i, &run->vt[i]);
    if (g->values[i].initializer)
      run->borrowed[i] = 1;
    else
      run->vt[i].rank = -2; /* not available yet */
  }
  for (i = 0; i < g->n_outputs && !run->opt.discard_outputs; i++)
    run->keep[g->outputs[i]] = 1;
  st = bind_feeds(run, n_feeds, feeds, err);
  if (st) {
    sc_run_free(run);
    return st;
  }
  for (i = 0; i < g->n_nodes; i++) {
    if (run->opt.node_mask && !run->opt.node_mask[i])
      continue;
    for (j = 0; j < g->nodes[i].n_inputs; j++)
      if (g->nodes[i].inputs[j] >= 0)
        run->remaining[g->nodes[i].inputs[j]]++;
  }
  /* a full run uses every slot: all at once, so that runs of node subsets
   * started meanwhile (isolated re-runs) find idle ones to borrow */
  for (i = 0; !run->opt.node_mask && i < ((struct sc_plan *)g->plan)->n_slots;
       i++) {
    st = sc_slot_reserve(&((struct sc_plan *)g->plan)->slots[i], err);
    if (st) {
      sc_run_free(run);
      return st;
    }
  }
  run->next = next_selected(run, 0);
  *out = run;
  return SC_OK;
}

int sc_run_next_node(const struct sc_run *run)
{
  return run->failed || run->next >= run->g->n_nodes ? -1 : run->next;
}

/* Runs node i of the run's graph and recycles what nobody needs any more. */
static sc_status run_node(struct sc_run *run, int i, struct sc_error *err)
{
  struct sc_graph *g = run->g;
  struct sc_node *node = &g->nodes[i];
  struct sc_plan *plan = g->plan;
  struct sc_node_plan *np = &plan->nodes[i];
  struct run_storage storage = {plan->slots,
                                plan->n_slots,
                                run->opt.node_mask != NULL,
                                !run->opt.discard_outputs,
                                run->opt.observer == NULL,
                                run->vt,
                                run->opt.node_mask,
                                run->fused};
  const struct run_storage *rs = &storage;
  struct sc_tensor *vt = run->vt;
  int j;
  sc_status st;

  bind_node(node, vt);
  for (j = 0; j < node->n_inputs; j++)
    if (node->in[j] && node->in[j]->rank == -2)
      return sc_node_fail(node, err, SC_ERR_CONFIG,
                          "input '%s' has no value in this run",
                          g->values[node->inputs[j]].name);
  for (j = 0; j < node->n_outputs; j++)
    if (node->out[j]) {
      sc_tensor_release_data(node->out[j]);
      node->out[j]->dtype = g->values[node->outputs[j]].dtype;
      node->out[j]->rank = -1;
    }
  node->shape_deferred = 0;
  st = node_phase(node, np, PHASE_RESHAPE, g->pool, rs, err);
  if (!st && node->shape_deferred)
    st = sc_node_fail(node, err, SC_ERR_INTERNAL,
                      "shape still unknown with all inputs computed");
  if (!st)
    st = node_phase(node, np, PHASE_RUN, g->pool, rs, err);
  if (st)
    return st;
  for (j = 0; j < node->n_outputs; j++)
    if (node->out[j] && !node->out[j]->data)
      return sc_node_fail(node, err, SC_ERR_INTERNAL,
                          "output %d was not produced", j);
  if (run->opt.observer) {
    st = run->opt.observer(run->opt.observer_user, g, i, node->out, err);
    if (st)
      return st;
  }
  for (j = 0; j < node->n_inputs; j++) {
    int v = node->inputs[j];
    if (v >= 0 && --run->remaining[v] == 0 && !run->keep[v] &&
        !run->borrowed[v])
      sc_tensor_release_data(&vt[v]);
  }
  for (j = 0; j < node->n_outputs; j++) {
    int v = node->outputs[j];
    if (v >= 0 && run->remaining[v] == 0 && !run->keep[v])
      sc_tensor_release_data(&vt[v]);
  }
  return SC_OK;
}

/* Runs node i (selected, not run yet) on the run's threads. */
static sc_status run_one(struct sc_run *run, int i, struct sc_error *err)
{
  struct sc_graph *g = run->g;
  struct sc_threadpool *outer = g->threads;
  sc_status st;

  g->threads = run->opt.threads;
  st = run_node(run, i, err);
  g->threads = outer; /* runs of other graphs may come in between */
  if (st) {
    run->failed = 1;
    return st;
  }
  run->ran[i] = 1;
  run->next = next_selected(run, run->next);
  return SC_OK;
}

sc_status sc_run_step(struct sc_run *run, int *done, struct sc_error *err)
{
  sc_status st;

  *done = 0;
  if (run->failed)
    return sc_fail(err, SC_ERR_INTERNAL, "stepping a run that failed");
  if (run->next >= run->g->n_nodes) {
    *done = 1;
    return SC_OK;
  }
  st = run_one(run, run->next, err);
  *done = !st && run->next >= run->g->n_nodes;
  return st;
}

int sc_run_node_pending(const struct sc_run *run, int i)
{
  return !run->failed && i >= 0 && i < run->g->n_nodes && !run->ran[i] &&
         (!run->opt.node_mask || run->opt.node_mask[i]);
}

sc_status sc_run_node(struct sc_run *run, int i, struct sc_error *err)
{
  const struct sc_node *node;
  int j;

  if (run->failed)
    return sc_fail(err, SC_ERR_INTERNAL, "stepping a run that failed");
  if (!sc_run_node_pending(run, i))
    return SC_OK;
  node = &run->g->nodes[i];
  for (j = 0; j < node->n_inputs; j++) {
    int v = node->inputs[j];
    if (v >= 0 && run->vt[v].rank == -2 && run->g->values[v].producer >= 0 &&
        sc_run_node_pending(run, run->g->values[v].producer))
      return sc_fail(err, SC_ERR_INTERNAL,
                     "node %d run before the producer of its input '%s'", i,
                     run->g->values[v].name);
  }
  return run_one(run, i, err);
}

sc_status sc_run_finish(struct sc_run *run, struct sc_tensor **outputs,
                        struct sc_error *err)
{
  struct sc_graph *g = run->g;
  int i;
  sc_status st = SC_OK;

  if (!outputs)
    return SC_OK;
  for (i = 0; i < g->n_outputs; i++)
    outputs[i] = NULL;
  if (run->failed || run->next < g->n_nodes)
    return sc_fail(err, SC_ERR_INTERNAL, "the run has not finished");
  if (run->opt.discard_outputs)
    return sc_fail(err, SC_ERR_INTERNAL, "the run discarded its outputs");
  for (i = 0; i < g->n_outputs && !st; i++) {
    int v = g->outputs[i];
    if (run->vt[v].rank == -2) {
      if (run->opt.node_mask)
        continue; /* not computed by this subset */
      st = sc_fail(err, SC_ERR_INTERNAL, "graph output '%s' not computed",
                   g->values[v].name);
    } else {
      st = sc_tensor_ref(&run->vt[v], &outputs[i], err);
    }
  }
  if (st)
    for (i = 0; i < g->n_outputs; i++) {
      sc_tensor_free(outputs[i]);
      outputs[i] = NULL;
    }
  return st;
}

void sc_run_free(struct sc_run *run)
{
  struct sc_graph *g;
  int i, j;
  if (!run)
    return;
  g = run->g;
  if (run->vt && run->borrowed)
    for (i = 0; i < g->n_values; i++)
      if (!run->borrowed[i])
        sc_tensor_release_data(&run->vt[i]);
  for (i = 0; i < g->n_nodes; i++) {
    for (j = 0; j < g->nodes[i].n_inputs; j++)
      g->nodes[i].in[j] = NULL;
    for (j = 0; j < g->nodes[i].n_outputs; j++)
      g->nodes[i].out[j] = NULL;
  }
  free(run->vt);
  free(run->remaining);
  free(run->borrowed);
  free(run->keep);
  free(run->ran);
  free(run->fused);
  free(run);
}

sc_status sc_graph_run(struct sc_graph *g, int n_feeds,
                       const struct sc_feed *feeds, struct sc_tensor **outputs,
                       const struct sc_run_options *options,
                       struct sc_error *err)
{
  struct sc_run *run;
  int done = 0, i;
  sc_status st;

  if (outputs)
    for (i = 0; i < g->n_outputs; i++)
      outputs[i] = NULL;
  st = sc_run_start(g, n_feeds, feeds, options, &run, err);
  while (!st && !done)
    st = sc_run_step(run, &done, err);
  if (!st)
    st = sc_run_finish(run, outputs, err);
  sc_run_free(run);
  return st;
}
