/* Operator family: recurrent layers — RNN, GRU and LSTM (opsets 1-13 and
 * 14.. which adds `layout`).
 *
 * One kernel serves the three operators. For each direction the input
 * projection of every time step is one matrix product X * W^T (sc_sgemm),
 * then each step multiplies the previous hidden state by R^T (sc_sgemm)
 * and applies the gate equations of the ONNX specification per batch row.
 * Float only (float16 and bfloat16 through float); double is refused.
 *
 * Semantics the specification leaves open, following ONNX Runtime:
 *   - `clip` bounds every gate pre-activation and, for LSTM, the cell state
 *     given to h();
 *   - LSTM input_forget couples the gates as f = 1 - i;
 *   - sequence_lens[b] = L processes steps 0..L-1 (reverse direction:
 *     L-1..0); Y is zero beyond L; Y_h / Y_c hold the state after the last
 *     processed step, or zeros when L = 0;
 *   - activation_alpha / activation_beta are consumed in order by the
 *     activations that take them (Affine, LeakyRelu, ThresholdedRelu,
 *     ScaledTanh, HardSigmoid, Elu); missing ones take the defaults of the
 *     corresponding ONNX operators. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/gemm.h"
#include "runtime/ops/families.h"

enum rnn_kind { KIND_RNN, KIND_GRU, KIND_LSTM };

enum act_kind {
  ACT_RELU,
  ACT_TANH,
  ACT_SIGMOID,
  ACT_AFFINE,
  ACT_LEAKY_RELU,
  ACT_THRESHOLDED_RELU,
  ACT_SCALED_TANH,
  ACT_HARD_SIGMOID,
  ACT_ELU,
  ACT_SOFTSIGN,
  ACT_SOFTPLUS
};

struct activation {
  enum act_kind kind;
  float alpha, beta;
};

/* Description of an activation name: how many of alpha / beta it takes and
 * their defaults. */
struct act_info {
  const char *name;
  enum act_kind kind;
  int n_alpha, n_beta;
  float alpha, beta;
};

static const struct act_info act_table[] = {
    {"Relu", ACT_RELU, 0, 0, 0, 0},
    {"Tanh", ACT_TANH, 0, 0, 0, 0},
    {"Sigmoid", ACT_SIGMOID, 0, 0, 0, 0},
    {"Affine", ACT_AFFINE, 1, 1, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKY_RELU, 1, 0, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDED_RELU, 1, 0, 1.0f, 0},
    {"ScaledTanh", ACT_SCALED_TANH, 1, 1, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARD_SIGMOID, 1, 1, 0.2f, 0.5f},
    {"Elu", ACT_ELU, 1, 0, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, 0, 0, 0, 0},
    {"Softplus", ACT_SOFTPLUS, 0, 0, 0, 0}};

#define N_ACT_INFO ((int)(sizeof act_table / sizeof act_table[0]))

/* node->state, filled by prepare. */
struct rnn_state {
  enum rnn_kind kind;
  int64_t hidden; /* hidden_size, or -1 to take it from R */
  int n_dirs;
  int reverse; /* direction "reverse" (one direction, processed backwards) */
  int layout;
  float clip; /* INFINITY when not clipping */
  int input_forget;
  int linear_before_reset;
  int n_gates; /* RNN 1, GRU 3, LSTM 4 */
  int n_acts;  /* activations per direction: RNN 1, GRU 2, LSTM 3 */
  struct activation act[2][3];
};

static enum rnn_kind kind_of(const struct sc_node *node)
{
  if (strcmp(node->op_type, "LSTM") == 0)
    return KIND_LSTM;
  if (strcmp(node->op_type, "GRU") == 0)
    return KIND_GRU;
  return KIND_RNN;
}

static double act_apply(const struct activation *a, double x)
{
  switch (a->kind) {
  case ACT_RELU:
    return x > 0 ? x : 0;
  case ACT_TANH:
    return tanh(x);
  case ACT_SIGMOID:
    return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
  case ACT_AFFINE:
    return a->alpha * x + a->beta;
  case ACT_LEAKY_RELU:
    return x >= 0 ? x : a->alpha * x;
  case ACT_THRESHOLDED_RELU:
    return x >= a->alpha ? x : 0;
  case ACT_SCALED_TANH:
    return a->alpha * tanh(a->beta * x);
  case ACT_HARD_SIGMOID: {
    double v = a->alpha * x + a->beta;
    return v < 0 ? 0 : (v > 1 ? 1 : v);
  }
  case ACT_ELU:
    return x >= 0 ? x : a->alpha * (exp(x) - 1);
  case ACT_SOFTSIGN:
    return x / (1 + fabs(x));
  case ACT_SOFTPLUS:
  default:
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
  }
}

/* Parses `activations`, `activation_alpha` and `activation_beta` into
 * st->act; fails naming the node on unknown names or a wrong count. */
static sc_status parse_activations(const struct sc_node *node,
                                   struct rnn_state *st, struct sc_error *err)
{
  static const enum act_kind defaults[3][3] = {
      {ACT_TANH}, {ACT_SIGMOID, ACT_TANH}, {ACT_SIGMOID, ACT_TANH, ACT_TANH}};
  const struct sc_attr *names = sc_node_attr(node, "activations");
  const float *alphas, *betas;
  int64_t n_alphas, n_betas, n_names, i, next_alpha = 0, next_beta = 0;
  sc_status s =
      sc_node_attr_floats(node, "activation_alpha", &n_alphas, &alphas, err);
  if (!s)
    s = sc_node_attr_floats(node, "activation_beta", &n_betas, &betas, err);
  if (s)
    return s;
  if (!names) {
    for (i = 0; i < st->n_dirs * st->n_acts; i++) {
      struct activation *a = &st->act[i / st->n_acts][i % st->n_acts];
      a->kind = defaults[st->kind][i % st->n_acts];
    }
    return SC_OK;
  }
  if (names->type != SC_ATTR_STRINGS)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'activations' must be a list of strings");
  n_names = names->n;
  if (n_names != st->n_acts * st->n_dirs &&
      !(st->n_dirs == 2 && n_names == st->n_acts))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'activations' has %lld names, expected %d",
                        (long long)n_names, st->n_acts * st->n_dirs);
  for (i = 0; i < st->n_dirs * st->n_acts; i++) {
    const char *name = names->strings[i % n_names];
    struct activation *a = &st->act[i / st->n_acts][i % st->n_acts];
    int k;
    for (k = 0; k < N_ACT_INFO; k++)
      if (strcasecmp(name, act_table[k].name) == 0)
        break;
    if (k == N_ACT_INFO)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "activation '%s' is not supported", name);
    a->kind = act_table[k].kind;
    a->alpha = act_table[k].alpha;
    a->beta = act_table[k].beta;
    if (i >= n_names) /* bidirectional given one set: reuse its values */
      *a = st->act[0][i % st->n_acts];
    else {
      if (act_table[k].n_alpha && next_alpha < n_alphas)
        a->alpha = alphas[next_alpha++];
      if (act_table[k].n_beta && next_beta < n_betas)
        a->beta = betas[next_beta++];
    }
  }
  return SC_OK;
}

/* Parses direction, hidden_size, clip, layout and the operator-specific
 * flags into st. */
static sc_status parse_attributes(const struct sc_node *node,
                                  struct rnn_state *st, struct sc_error *err)
{
  const char *direction;
  int64_t hidden, layout = 0, input_forget = 0, lbr = 0;
  float clip;
  sc_status s =
      sc_node_attr_string(node, "direction", "forward", &direction, err);
  if (!s)
    s = sc_node_attr_int(node, "hidden_size", -1, &hidden, err);
  if (!s)
    s = sc_node_attr_float(node, "clip", INFINITY, &clip, err);
  if (!s && node->opset >= 14)
    s = sc_node_attr_int(node, "layout", 0, &layout, err);
  if (!s && st->kind == KIND_LSTM)
    s = sc_node_attr_int(node, "input_forget", 0, &input_forget, err);
  if (!s && st->kind == KIND_GRU)
    s = sc_node_attr_int(node, "linear_before_reset", 0, &lbr, err);
  if (s)
    return s;
  if (strcmp(direction, "forward") == 0 || strcmp(direction, "reverse") == 0)
    st->n_dirs = 1;
  else if (strcmp(direction, "bidirectional") == 0)
    st->n_dirs = 2;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'direction' has invalid value '%s'",
                        direction);
  st->reverse = strcmp(direction, "reverse") == 0;
  if (hidden != -1 && (hidden < 1 || hidden > ((int64_t)1 << 24)))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "hidden_size %lld is out of range", (long long)hidden);
  if (!(clip > 0))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "clip must be positive, not %g", clip);
  if ((layout != 0 && layout != 1) || (input_forget != 0 && input_forget != 1))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "layout and input_forget must be 0 or 1");
  st->hidden = hidden;
  st->clip = clip;
  st->layout = (int)layout;
  st->input_forget = (int)input_forget;
  st->linear_before_reset = lbr != 0;
  return SC_OK;
}

static const struct sc_tensor *input_at(const struct sc_node *node, int i)
{
  return i < node->n_inputs ? node->in[i] : NULL;
}

/* sc_tensor_set_shape on output i, naming the node in the message when
 * the shape is refused (overflow, hostile size). */
static sc_status set_output_shape(const struct sc_node *node, int i, int rank,
                                  const int64_t *dims, struct sc_error *err)
{
  sc_status s = sc_tensor_set_shape(node->out[i], rank, dims, err);
  if (s)
    sc_error_prefix(err, "node '%s' (%s): output %d: ", node->name,
                    node->op_type, i);
  return s;
}

/* Prepare of RNN / GRU / LSTM: allocates node->state (freed by
 * rnn_release). */
static sc_status rnn_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype real[] = {SC_DTYPE_FLOAT};
  static const enum sc_dtype lens[] = {SC_DTYPE_INT32};
  enum rnn_kind kind = kind_of(node);
  struct rnn_state *st;
  int i;
  sc_status s = sc_check_arity(node, 3, kind == KIND_LSTM ? 8 : 6, 0,
                               kind == KIND_LSTM ? 3 : 2, err);
  sc_blas_load();
  if (!s)
    s = sc_check_dtype(node, 0, real, 1, err);
  if (!s)
    s = sc_check_dtype(node, 4, lens, 1, err);
  for (i = 1; !s && i < node->n_inputs; i++)
    if (i != 4 && node->in[i] && node->in[i]->dtype != node->in[0]->dtype)
      s = sc_node_fail(
          node, err, SC_ERR_FORMAT, "input %d ('%s') has dtype %s, X has %s", i,
          sc_node_input_name(node, i), sc_dtype_name(node->in[i]->dtype),
          sc_dtype_name(node->in[0]->dtype));
  if (s)
    return s;
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "RNN state");
  node->state = st;
  st->kind = kind;
  st->n_gates = kind == KIND_LSTM ? 4 : (kind == KIND_GRU ? 3 : 1);
  st->n_acts = kind == KIND_LSTM ? 3 : (kind == KIND_GRU ? 2 : 1);
  s = parse_attributes(node, st, err);
  if (!s)
    s = parse_activations(node, st, err);
  if (s)
    return s;
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i])
      node->out[i]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static void rnn_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Sizes of one node's run. */
struct rnn_dims {
  int64_t seq, batch, input, hidden, dirs, gates;
};

static sc_status check_shape(const struct sc_node *node, int i, int rank,
                             const int64_t *want, struct sc_error *err)
{
  const struct sc_tensor *t = input_at(node, i);
  char have[160], exp[160];
  int d;
  if (!t)
    return SC_OK;
  if (t->rank == rank) {
    for (d = 0; d < rank && t->dims[d] == want[d]; d++)
      ;
    if (d == rank)
      return SC_OK;
  }
  return sc_node_fail(node, err, SC_ERR_FORMAT,
                      "input %d ('%s') has shape %s, expected %s", i,
                      sc_node_input_name(node, i),
                      sc_shape_format(t->rank, t->dims, have, sizeof have),
                      sc_shape_format(rank, want, exp, sizeof exp));
}

/* Reads the dimensions from X, W and R and checks every input's shape. */
static sc_status rnn_dims_of(const struct sc_node *node,
                             const struct rnn_state *st, struct rnn_dims *d,
                             struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *r = node->in[2];
  int64_t want[3];
  sc_status s;
  if (x->rank != 3 || r->rank != 3)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "X and R must have rank 3 (ranks %d and %d)", x->rank,
                        r->rank);
  d->seq = x->dims[st->layout ? 1 : 0];
  d->batch = x->dims[st->layout ? 0 : 1];
  d->input = x->dims[2];
  d->hidden = st->hidden > 0 ? st->hidden : r->dims[2];
  if (d->hidden < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "hidden size is 0");
  d->dirs = st->n_dirs;
  d->gates = st->n_gates;
  want[0] = d->dirs;
  want[1] = d->gates * d->hidden;
  want[2] = d->input;
  s = check_shape(node, 1, 3, want, err);
  want[2] = d->hidden;
  if (!s)
    s = check_shape(node, 2, 3, want, err);
  want[1] = 2 * d->gates * d->hidden;
  if (!s)
    s = check_shape(node, 3, 2, want, err);
  want[0] = d->batch;
  if (!s)
    s = check_shape(node, 4, 1, want, err);
  want[0] = st->layout ? d->batch : d->dirs;
  want[1] = st->layout ? d->dirs : d->batch;
  want[2] = d->hidden;
  if (!s)
    s = check_shape(node, 5, 3, want, err);
  if (!s && st->kind == KIND_LSTM)
    s = check_shape(node, 6, 3, want, err);
  want[0] = d->dirs;
  want[1] = 3 * d->hidden;
  if (!s && st->kind == KIND_LSTM)
    s = check_shape(node, 7, 2, want, err);
  return s;
}

static sc_status rnn_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct rnn_state *st = node->state;
  const struct sc_tensor *lens = input_at(node, 4);
  struct rnn_dims d;
  int64_t y[4], state[3], b;
  int i;
  sc_status s = rnn_dims_of(node, st, &d, err);
  if (s)
    return s;
  for (b = 0; lens && lens->data && b < d.batch; b++) {
    int32_t len = ((const int32_t *)lens->data)[b];
    if (len < 0 || len > d.seq)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "sequence_lens[%lld] = %d is outside [0, %lld]",
                          (long long)b, (int)len, (long long)d.seq);
  }
  if (st->layout) {
    y[0] = d.batch, y[1] = d.seq, y[2] = d.dirs, y[3] = d.hidden;
    state[0] = d.batch, state[1] = d.dirs, state[2] = d.hidden;
  } else {
    y[0] = d.seq, y[1] = d.dirs, y[2] = d.batch, y[3] = d.hidden;
    state[0] = d.dirs, state[1] = d.batch, state[2] = d.hidden;
  }
  for (i = 0; i < node->n_outputs; i++)
    if (node->out[i]) {
      s = i == 0 ? set_output_shape(node, i, 4, y, err)
                 : set_output_shape(node, i, 3, state, err);
      if (s)
        return s;
    }
  return SC_OK;
}

/* Working memory and views of one direction. */
struct rnn_work {
  const struct sc_node *node;
  const struct rnn_state *st;
  struct rnn_dims d;
  int dir;       /* 0 or 1 */
  int backwards; /* this direction runs from the end of each sequence */
  const float *w, *r, *wb, *rb, *p; /* this direction's parameters */
  float *xw;    /* [seq * batch, gates * hidden]: X * W^T, rows as in X */
  float *hr;    /* [batch, gates * hidden]: H * R^T */
  float *h, *c; /* [batch, hidden] states */
  float *rh;    /* GRU: [2 * batch, hidden]: r (.) H, then times Rh^T */
  const int32_t *lens;
};

static int64_t seq_len_of(const struct rnn_work *w, int64_t b)
{
  return w->lens ? w->lens[b] : w->d.seq;
}

/* Row of X (and of xw) holding time t of batch b. */
static int64_t x_row(const struct rnn_work *w, int64_t t, int64_t b)
{
  return w->st->layout ? b * w->d.seq + t : t * w->d.batch + b;
}

/* Offset of Y[t, dir, b, :] (layout 0) or Y[b, t, dir, :] (layout 1). */
static int64_t y_offset(const struct rnn_work *w, int64_t t, int64_t b)
{
  const struct rnn_dims *d = &w->d;
  if (w->st->layout)
    return ((b * d->seq + t) * d->dirs + w->dir) * d->hidden;
  return ((t * d->dirs + w->dir) * d->batch + b) * d->hidden;
}

/* Offset of a [dirs, batch, hidden] (or [batch, dirs, hidden]) state row. */
static int64_t state_offset(const struct rnn_work *w, int64_t b)
{
  const struct rnn_dims *d = &w->d;
  if (w->st->layout)
    return (b * d->dirs + w->dir) * d->hidden;
  return (w->dir * d->batch + b) * d->hidden;
}

static double clip_value(const struct rnn_state *st, double x)
{
  return x < -st->clip ? -st->clip : (x > st->clip ? st->clip : x);
}

/* One step of batch row b at time t, reading xw / hr, updating h (and c). */
static void step_rnn(struct rnn_work *w, int64_t t, int64_t b)
{
  int64_t k, n = w->d.hidden;
  const float *xw = w->xw + x_row(w, t, b) * n, *hr = w->hr + b * n;
  float *h = w->h + b * n;
  for (k = 0; k < n; k++) {
    double v = (double)xw[k] + hr[k];
    if (w->wb)
      v += (double)w->wb[k] + w->rb[k];
    h[k] = (float)act_apply(&w->st->act[w->dir][0], clip_value(w->st, v));
  }
}

static void step_lstm(struct rnn_work *w, int64_t t, int64_t b)
{
  const struct rnn_state *st = w->st;
  const struct activation *f = &st->act[w->dir][0], *g = &st->act[w->dir][1];
  const struct activation *hact = &st->act[w->dir][2];
  int64_t k, n = w->d.hidden;
  const float *xw = w->xw + x_row(w, t, b) * 4 * n, *hr = w->hr + b * 4 * n;
  float *h = w->h + b * n, *c = w->c + b * n;
  for (k = 0; k < n; k++) {
    double pre[4], i_gate, o_gate, f_gate, c_gate, cell;
    int q;
    for (q = 0; q < 4; q++) { /* i, o, f, c */
      pre[q] = (double)xw[q * n + k] + hr[q * n + k];
      if (w->wb)
        pre[q] += (double)w->wb[q * n + k] + w->rb[q * n + k];
    }
    if (w->p) {
      pre[0] += (double)w->p[k] * c[k];
      pre[2] += (double)w->p[2 * n + k] * c[k];
    }
    i_gate = act_apply(f, clip_value(st, pre[0]));
    if (st->input_forget)
      f_gate = 1 - i_gate;
    else
      f_gate = act_apply(f, clip_value(st, pre[2]));
    c_gate = act_apply(g, clip_value(st, pre[3]));
    cell = f_gate * c[k] + i_gate * c_gate;
    if (w->p)
      pre[1] += (double)w->p[n + k] * cell;
    o_gate = act_apply(f, clip_value(st, pre[1]));
    c[k] = (float)cell;
    h[k] = (float)(o_gate * act_apply(hact, clip_value(st, cell)));
  }
}

/* GRU, first half: z and r from xw / hr (hr holds H * R[z,r]^T, or all
 * three gates when linear_before_reset); leaves z in hr[z] and writes
 * r (.) H into rh unless linear_before_reset. */
static void step_gru_gates(struct rnn_work *w, int64_t t, int64_t b,
                           int64_t hr_stride)
{
  const struct rnn_state *st = w->st;
  int64_t k, n = w->d.hidden;
  const float *xw = w->xw + x_row(w, t, b) * 3 * n;
  float *hr = w->hr + b * hr_stride, *h = w->h + b * n, *rh = w->rh + b * n;
  for (k = 0; k < n; k++) {
    double z = (double)xw[k] + hr[k], r = (double)xw[n + k] + hr[n + k];
    if (w->wb) {
      z += (double)w->wb[k] + w->rb[k];
      r += (double)w->wb[n + k] + w->rb[n + k];
    }
    hr[k] = (float)act_apply(&st->act[w->dir][0], clip_value(st, z));
    hr[n + k] = (float)act_apply(&st->act[w->dir][0], clip_value(st, r));
    if (!st->linear_before_reset)
      rh[k] = hr[n + k] * h[k];
  }
}

/* GRU, second half: the hidden gate and the new state. `linear` is
 * H * Rh^T (linear_before_reset) or (r (.) H) * Rh^T. */
static void step_gru_state(struct rnn_work *w, int64_t t, int64_t b,
                           int64_t hr_stride, const float *linear)
{
  const struct rnn_state *st = w->st;
  int64_t k, n = w->d.hidden;
  const float *xw = w->xw + x_row(w, t, b) * 3 * n;
  const float *hr = w->hr + b * hr_stride;
  float *h = w->h + b * n;
  for (k = 0; k < n; k++) {
    double z = hr[k], r = hr[n + k], rb = w->wb ? w->rb[2 * n + k] : 0;
    double pre = (double)xw[2 * n + k] + (w->wb ? w->wb[2 * n + k] : 0);
    double cand;
    if (st->linear_before_reset)
      pre += r * ((double)linear[k] + rb);
    else
      pre += (double)linear[k] + rb;
    cand = act_apply(&st->act[w->dir][1], clip_value(st, pre));
    h[k] = (float)((1 - z) * cand + z * h[k]);
  }
}

/* Time index processed by batch row b at step s, or -1 when the row's
 * sequence has ended. */
static int64_t time_of(const struct rnn_work *w, int64_t s, int64_t b)
{
  int64_t len = seq_len_of(w, b);
  if (s >= len)
    return -1;
  return w->backwards ? len - 1 - s : s;
}

/* One time step of every active batch row. */
static void rnn_step(struct rnn_work *w, int64_t s)
{
  const struct rnn_dims *d = &w->d;
  struct sc_threadpool *threads = sc_node_threads(w->node);
  int64_t b, n = d->hidden, gn = d->gates * n;
  if (w->st->kind != KIND_GRU) {
    sc_sgemm(0, 1, d->batch, gn, n, 1.0f, w->h, n, w->r, n, 0.0f, w->hr, gn,
             threads);
    for (b = 0; b < d->batch; b++) {
      int64_t t = time_of(w, s, b);
      if (t < 0)
        continue;
      if (w->st->kind == KIND_LSTM)
        step_lstm(w, t, b);
      else
        step_rnn(w, t, b);
    }
    return;
  }
  if (w->st->linear_before_reset) {
    sc_sgemm(0, 1, d->batch, gn, n, 1.0f, w->h, n, w->r, n, 0.0f, w->hr, gn,
             threads);
    for (b = 0; b < d->batch; b++) {
      int64_t t = time_of(w, s, b);
      if (t < 0)
        continue;
      step_gru_gates(w, t, b, gn);
      step_gru_state(w, t, b, gn, w->hr + b * gn + 2 * n);
    }
    return;
  }
  /* H * R[z,r]^T, the gates and r (.) H; then (r (.) H) * Rh^T into the
   * second half of rh */
  sc_sgemm(0, 1, d->batch, 2 * n, n, 1.0f, w->h, n, w->r, n, 0.0f, w->hr, 2 * n,
           threads);
  for (b = 0; b < d->batch; b++) {
    int64_t t = time_of(w, s, b);
    if (t >= 0)
      step_gru_gates(w, t, b, 2 * n);
    else
      memset(w->rh + b * n, 0, (size_t)n * sizeof *w->rh);
  }
  sc_sgemm(0, 1, d->batch, n, n, 1.0f, w->rh, n, w->r + 2 * n * n, n, 0.0f,
           w->rh + d->batch * n, n, threads);
  for (b = 0; b < d->batch; b++) {
    int64_t t = time_of(w, s, b);
    if (t >= 0)
      step_gru_state(w, t, b, 2 * n, w->rh + d->batch * n + b * n);
  }
}

/* Copies the initial states of this direction (zeros when absent). */
static void load_initial(struct rnn_work *w)
{
  const struct sc_tensor *h0 = input_at(w->node, 5);
  const struct sc_tensor *c0 = input_at(w->node, 6);
  int64_t b, n = w->d.hidden;
  for (b = 0; b < w->d.batch; b++) {
    float *h = w->h + b * n, *c = w->c ? w->c + b * n : NULL;
    if (h0)
      memcpy(h, (const float *)h0->data + state_offset(w, b),
             (size_t)n * sizeof *h);
    else
      memset(h, 0, (size_t)n * sizeof *h);
    if (c && w->st->kind == KIND_LSTM && c0)
      memcpy(c, (const float *)c0->data + state_offset(w, b),
             (size_t)n * sizeof *c);
    else if (c)
      memset(c, 0, (size_t)n * sizeof *c);
  }
}

/* Runs one direction over the whole sequence, writing Y, Y_h and Y_c. */
static void rnn_direction(struct rnn_work *w)
{
  const struct sc_node *node = w->node;
  const struct rnn_dims *d = &w->d;
  struct sc_tensor *y = node->n_outputs > 0 ? node->out[0] : NULL;
  struct sc_tensor *yh = node->n_outputs > 1 ? node->out[1] : NULL;
  struct sc_tensor *yc = node->n_outputs > 2 ? node->out[2] : NULL;
  int64_t s, b, n = d->hidden, gn = d->gates * n;

  /* input projection of all steps at once */
  sc_sgemm(0, 1, d->seq * d->batch, gn, d->input, 1.0f, node->in[0]->data,
           d->input, w->w, d->input, 0.0f, w->xw, gn, sc_node_threads(node));
  load_initial(w);
  for (s = 0; s < d->seq; s++) {
    rnn_step(w, s);
    for (b = 0; y && b < d->batch; b++) {
      int64_t t = time_of(w, s, b);
      if (t >= 0)
        memcpy((float *)y->data + y_offset(w, t, b), w->h + b * n,
               (size_t)n * sizeof(float));
    }
  }
  for (b = 0; b < d->batch; b++) {
    int ran = seq_len_of(w, b) > 0;
    if (yh) {
      float *dst = (float *)yh->data + state_offset(w, b);
      if (ran)
        memcpy(dst, w->h + b * n, (size_t)n * sizeof *dst);
      else
        memset(dst, 0, (size_t)n * sizeof *dst);
    }
    if (yc) {
      float *dst = (float *)yc->data + state_offset(w, b);
      if (ran)
        memcpy(dst, w->c + b * n, (size_t)n * sizeof *dst);
      else
        memset(dst, 0, (size_t)n * sizeof *dst);
    }
  }
}

/* Run of RNN / GRU / LSTM. Fails only on allocation. */
static sc_status rnn_run(struct sc_node *node, struct sc_error *err)
{
  const struct rnn_state *st = node->state;
  const struct sc_tensor *bias = input_at(node, 3);
  const struct sc_tensor *lens = input_at(node, 4);
  const struct sc_tensor *peep = input_at(node, 7);
  struct rnn_work w;
  int64_t n_xw, n_state;
  float *block = NULL;
  sc_status s;
  int dir;

  memset(&w, 0, sizeof w);
  w.node = node;
  w.st = st;
  s = rnn_dims_of(node, st, &w.d, err);
  if (s)
    return s;
  s = sc_shape_count(3,
                     (int64_t[3]){w.d.seq, w.d.batch, w.d.gates * w.d.hidden},
                     sizeof(float), &n_xw, node->name, err);
  if (!s)
    s = sc_shape_count(2, (int64_t[2]){w.d.batch, w.d.hidden}, sizeof(float),
                       &n_state, node->name, err);
  if (s)
    return s;
  /* xw, hr (gates * state), h, c, rh (2 * state) */
  block =
      malloc((size_t)(n_xw + (w.d.gates + 4) * n_state + 1) * sizeof *block);
  if (!block)
    return sc_fail_nomem(err, "RNN buffers");
  w.xw = block;
  w.hr = w.xw + n_xw;
  w.h = w.hr + w.d.gates * n_state;
  w.c = w.h + n_state;
  w.rh = w.c + n_state;
  w.lens = lens ? lens->data : NULL;
  if (node->n_outputs > 0 && node->out[0])
    memset(node->out[0]->data, 0, sc_tensor_size(node->out[0]));
  for (dir = 0; dir < st->n_dirs; dir++) {
    int64_t gn = w.d.gates * w.d.hidden;
    w.dir = dir;
    w.backwards = dir == 1 || st->reverse;
    w.w = (const float *)node->in[1]->data + dir * gn * w.d.input;
    w.r = (const float *)node->in[2]->data + dir * gn * w.d.hidden;
    w.wb = bias ? (const float *)bias->data + dir * 2 * gn : NULL;
    w.rb = bias ? w.wb + gn : NULL;
    w.p = peep ? (const float *)peep->data + dir * 3 * w.d.hidden : NULL;
    rnn_direction(&w);
  }
  free(block);
  return SC_OK;
}

const struct sc_op sc_ops_rnn[] = {
    {"", "GRU", 1, 13, rnn_prepare, rnn_reshape, rnn_run, rnn_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "GRU", 14, SC_OPSET_LATEST, rnn_prepare, rnn_reshape, rnn_run,
     rnn_release, SC_OP_F16_VIA_FLOAT},
    {"", "LSTM", 1, 13, rnn_prepare, rnn_reshape, rnn_run, rnn_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "LSTM", 14, SC_OPSET_LATEST, rnn_prepare, rnn_reshape, rnn_run,
     rnn_release, SC_OP_F16_VIA_FLOAT},
    {"", "RNN", 1, 13, rnn_prepare, rnn_reshape, rnn_run, rnn_release,
     SC_OP_F16_VIA_FLOAT},
    {"", "RNN", 14, SC_OPSET_LATEST, rnn_prepare, rnn_reshape, rnn_run,
     rnn_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
