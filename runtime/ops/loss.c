/* Operator family: losses (NegativeLogLikelihoodLoss,
 * SoftmaxCrossEntropyLoss).
 *
 * Both see the input as [N, C, D] (D the product of the trailing dims) and
 * the target as [N, D]. Sums accumulate in double. Target values are data:
 * one outside [0, C) that is not ignore_index fails the run naming the
 * node. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"

enum loss_reduction { REDUCE_NONE, REDUCE_SUM, REDUCE_MEAN };

struct loss_state {
  int softmax; /* SoftmaxCrossEntropyLoss: log_softmax over C first */
  enum loss_reduction reduction;
  int has_ignore_index;
  int64_t ignore_index;
};

/* The problem seen as [N, C, D] with its tensors. */
struct loss_job {
  const struct loss_state *state;
  const struct sc_node *node;
  const struct sc_tensor *input, *target, *weight;
  struct sc_tensor *loss, *log_prob;
  int64_t n, c, d;
};

static void state_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* Parses reduction and ignore_index; checks dtypes. */
static sc_status loss_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype float_types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
  static const enum sc_dtype target_types[] = {SC_DTYPE_INT32, SC_DTYPE_INT64};
  struct loss_state *state;
  const char *reduction;
  enum loss_reduction kind;
  int softmax = strcmp(node->op_type, "SoftmaxCrossEntropyLoss") == 0;
  int64_t ignore_index;
  sc_status st = sc_check_arity(node, 2, 3, 1, softmax ? 2 : 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, float_types, 2, err);
  if (!st)
    st = sc_check_dtype(node, 1, target_types, 2, err);
  if (!st && node->n_inputs > 2 && node->in[2] &&
      node->in[2]->dtype != node->in[0]->dtype)
    st = sc_node_fail(
        node, err, SC_ERR_FORMAT, "weight '%s' is %s but the input is %s",
        sc_node_input_name(node, 2), sc_dtype_name(node->in[2]->dtype),
        sc_dtype_name(node->in[0]->dtype));
  if (!st)
    st = sc_node_attr_string(node, "reduction", "mean", &reduction, err);
  if (!st)
    st = sc_node_attr_int(node, "ignore_index", 0, &ignore_index, err);
  if (st)
    return st;
  if (strcmp(reduction, "none") == 0)
    kind = REDUCE_NONE;
  else if (strcmp(reduction, "sum") == 0)
    kind = REDUCE_SUM;
  else if (strcmp(reduction, "mean") == 0)
    kind = REDUCE_MEAN;
  else
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "reduction '%s' is not none, sum or mean", reduction);
  state = calloc(1, sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "loss state");
  state->softmax = softmax;
  state->reduction = kind;
  state->has_ignore_index = sc_node_attr(node, "ignore_index") != NULL;
  state->ignore_index = ignore_index;
  node->state = state;
  node->out[0]->dtype = node->in[0]->dtype;
  if (node->n_outputs > 1 && node->out[1])
    node->out[1]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Checks input [N, C, d1..dk], target [N, d1..dk], weight [C]; the loss
 * is the target's shape for reduction "none", a scalar otherwise, and
 * log_prob the input's shape. */
static sc_status loss_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct loss_state *state = node->state;
  const struct sc_tensor *input = node->in[0], *target = node->in[1];
  const struct sc_tensor *weight = node->n_inputs > 2 ? node->in[2] : NULL;
  char si[160], st_[160];
  int r, ok = input->rank >= 2 && target->rank == input->rank - 1;
  sc_status st;

  for (r = 0; ok && r < target->rank; r++)
    ok = target->dims[r] == input->dims[r == 0 ? 0 : r + 1];
  if (!ok)
    return sc_node_fail(
        node, err, SC_ERR_FORMAT,
        "input %s and target %s: expected [N, C, d...] and "
        "[N, d...]",
        sc_shape_format(input->rank, input->dims, si, sizeof si),
        sc_shape_format(target->rank, target->dims, st_, sizeof st_));
  if (weight && (weight->rank != 1 || weight->dims[0] != input->dims[1]))
    return sc_node_fail(
        node, err, SC_ERR_FORMAT, "weight %s does not match C = %lld",
        sc_shape_format(weight->rank, weight->dims, si, sizeof si),
        (long long)input->dims[1]);
  if (state->reduction == REDUCE_NONE)
    st = sc_tensor_set_shape(node->out[0], target->rank, target->dims, err);
  else
    st = sc_tensor_set_shape(node->out[0], 0, NULL, err);
  if (!st && node->n_outputs > 1 && node->out[1])
    st = sc_tensor_set_shape(node->out[1], input->rank, input->dims, err);
  return st;
}

/* log_softmax over C of position (i, j) into lp (C values, stride 1). */
static void log_softmax_column(const struct loss_job *job, int64_t i, int64_t j,
                               double *lp)
{
  const struct sc_tensor *x = job->input;
  int64_t base = i * job->c * job->d + j, k;
  double max = -INFINITY, sum = 0.0, log_sum;
  for (k = 0; k < job->c; k++) {
    lp[k] = sc_dtype_load(x->dtype, x->data, base + k * job->d);
    if (lp[k] > max || isnan(lp[k]))
      max = isnan(max) ? max : lp[k];
  }
  for (k = 0; k < job->c; k++)
    sum += exp(lp[k] - max);
  log_sum = log(sum);
  for (k = 0; k < job->c; k++)
    lp[k] = lp[k] - max - log_sum;
}

/* Computes the per-position losses (stored into the "none" output when
 * there is one) and their weighted sum and weight total. Fails on a target
 * outside [0, C) that is not ignore_index. */
static sc_status loss_compute(const struct loss_job *job, double *lp,
                              double *sum, double *weight_sum,
                              struct sc_error *err)
{
  const struct loss_state *state = job->state;
  const struct sc_tensor *x = job->input, *t = job->target;
  int64_t i, j, k;
  *sum = 0.0;
  *weight_sum = 0.0;
  for (i = 0; i < job->n; i++)
    for (j = 0; j < job->d; j++) {
      int64_t at = i * job->d + j;
      int64_t target = sc_dtype_load_i64(t->dtype, t->data, at);
      double value = 0.0, w = 0.0;
      if (state->softmax) {
        log_softmax_column(job, i, j, lp);
        if (job->log_prob)
          for (k = 0; k < job->c; k++)
            sc_dtype_store(x->dtype, job->log_prob->data,
                           (i * job->c + k) * job->d + j, lp[k]);
      }
      if (!state->has_ignore_index || target != state->ignore_index) {
        if (target < 0 || target >= job->c)
          return sc_node_fail(job->node, err, SC_ERR_FORMAT,
                              "target '%s' element %lld is %lld, outside "
                              "[0, %lld)",
                              sc_node_input_name(job->node, 1), (long long)at,
                              (long long)target, (long long)job->c);
        w = job->weight
                ? sc_dtype_load(job->weight->dtype, job->weight->data, target)
                : 1.0;
        value = -w * (state->softmax
                          ? lp[target]
                          : sc_dtype_load(x->dtype, x->data,
                                          (i * job->c + target) * job->d + j));
      }
      if (state->reduction == REDUCE_NONE)
        sc_dtype_store(x->dtype, job->loss->data, at, value);
      *sum += value;
      *weight_sum += w;
    }
  return SC_OK;
}

static sc_status loss_run(struct sc_node *node, struct sc_error *err)
{
  const struct loss_state *state = node->state;
  struct loss_job job;
  double sum, weight_sum, *lp = NULL;
  sc_status st;
  int r;

  memset(&job, 0, sizeof job);
  job.state = state;
  job.node = node;
  job.input = node->in[0];
  job.target = node->in[1];
  job.weight = node->n_inputs > 2 ? node->in[2] : NULL;
  job.loss = node->out[0];
  job.log_prob = node->n_outputs > 1 ? node->out[1] : NULL;
  job.n = job.input->dims[0];
  job.c = job.input->dims[1];
  job.d = 1;
  for (r = 2; r < job.input->rank; r++)
    job.d *= job.input->dims[r];
  if (state->softmax) {
    lp = malloc((size_t)(job.c + 1) * sizeof *lp);
    if (!lp)
      return sc_node_fail(node, err, SC_ERR_NOMEM,
                          "out of memory for %lld classes", (long long)job.c);
  }
  st = loss_compute(&job, lp, &sum, &weight_sum, err);
  free(lp);
  if (st || state->reduction == REDUCE_NONE)
    return st;
  /* mean divides by the total weight of the counted positions (their
   * number without weights): 0/0 = NaN when every target is ignored */
  sc_dtype_store(job.loss->dtype, job.loss->data, 0,
                 state->reduction == REDUCE_SUM ? sum : sum / weight_sum);
  return SC_OK;
}

const struct sc_op sc_ops_loss[] = {
    {"", "NegativeLogLikelihoodLoss", 12, SC_OPSET_LATEST, loss_prepare,
     loss_reshape, loss_run, state_release, SC_OP_F16_VIA_FLOAT},
    {"", "SoftmaxCrossEntropyLoss", 12, SC_OPSET_LATEST, loss_prepare,
     loss_reshape, loss_run, state_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
