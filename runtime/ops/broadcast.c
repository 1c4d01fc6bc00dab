/* Broadcast walks for element-wise kernels (see broadcast.h). */
#include "runtime/ops/broadcast.h"

#include <string.h>

#include "runtime/threadpool.h"

static int reference_forced;

void sc_broadcast_force_reference(int on)
{
  __atomic_store_n(&reference_forced, on != 0, __ATOMIC_RELAXED);
}

/* Element strides of `in` laid out contiguously, seen from an output of
 * `rank` dims (right-aligned): 0 along dims the input lacks or has as 1. */
static void input_strides(const struct sc_tensor *in, int rank,
                          int64_t *strides)
{
  int64_t stride = 1;
  int r, offset = rank - in->rank;
  for (r = rank - 1; r >= 0; r--) {
    int ri = r - offset;
    if (ri < 0 || in->dims[ri] == 1)
      strides[r] = 0;
    else {
      strides[r] = stride;
      stride *= in->dims[ri];
    }
  }
}

/* 1 if output dim `inner` can be folded into the merged dim `outer` of the
 * plan: for every input, both are broadcast or they are contiguous. */
static int can_merge(const struct sc_broadcast_plan *plan, int outer,
                     int64_t (*full)[SC_MAX_RANK], int inner, int64_t inner_dim)
{
  int k;
  for (k = 0; k < plan->n_inputs; k++) {
    int64_t so = plan->strides[k][outer], si = full[k][inner];
    if (so == 0 && si == 0)
      continue;
    if (si == 0 || so != si * inner_dim)
      return 0;
  }
  return 1;
}

void sc_broadcast_plan_init(struct sc_broadcast_plan *plan, int rank,
                            const int64_t *dims, int n_inputs,
                            const struct sc_tensor *const *inputs, int merge)
{
  int64_t full[SC_BROADCAST_MAX_INPUTS][SC_MAX_RANK];
  int r, k;

  memset(plan, 0, sizeof *plan);
  plan->n_inputs = n_inputs;
  for (k = 0; k < n_inputs; k++)
    input_strides(inputs[k], rank, full[k]);

  for (r = 0; r < rank; r++) {
    int last = plan->rank - 1;
    if (merge && dims[r] == 1)
      continue; /* contributes no offset to anything */
    if (merge && last >= 0 && can_merge(plan, last, full, r, dims[r])) {
      plan->dims[last] *= dims[r];
      for (k = 0; k < n_inputs; k++)
        plan->strides[k][last] = full[k][r];
      continue;
    }
    plan->dims[plan->rank] = dims[r];
    for (k = 0; k < n_inputs; k++)
      plan->strides[k][plan->rank] = full[k][r];
    plan->rank++;
  }
  if (plan->rank == 0) { /* a scalar, or only dims of 1 */
    plan->rank = 1;
    plan->dims[0] = 1;
  }
}

void sc_broadcast_job_init(struct sc_broadcast_job *job,
                           const struct sc_tensor *out, int n_inputs,
                           const struct sc_tensor *const *inputs,
                           sc_broadcast_row_fn row, const void *ctx)
{
  int k;
  int merge = !__atomic_load_n(&reference_forced, __ATOMIC_RELAXED);

  memset(job, 0, sizeof *job);
  job->n_inputs = n_inputs;
  for (k = 0; k < n_inputs; k++) {
    job->in[k] = inputs[k]->data;
    job->in_size[k] = sc_dtype_size(inputs[k]->dtype);
  }
  job->out = out->data;
  job->out_size = sc_dtype_size(out->dtype);
  job->n_elements = out->n_elements;
  job->row = row;
  job->ctx = ctx;
  sc_broadcast_plan_init(&job->plan, out->rank, out->dims, n_inputs, inputs,
                         merge);
}

/* Fast path over output elements [begin, end): whole or partial rows. */
static void run_range(void *ctx, int64_t begin, int64_t end)
{
  const struct sc_broadcast_job *job = ctx;
  const struct sc_broadcast_plan *plan = &job->plan;
  int last = plan->rank - 1, r, k;
  int64_t row_size = plan->dims[last];
  int64_t index[SC_MAX_RANK], base[SC_BROADCAST_MAX_INPUTS];
  int64_t step[SC_BROADCAST_MAX_INPUTS];
  int64_t row = begin / row_size, col = begin % row_size, pos = begin;
  const void *ptr[SC_BROADCAST_MAX_INPUTS];

  for (k = 0; k < job->n_inputs; k++) {
    base[k] = 0;
    step[k] = plan->strides[k][last]; /* 0 or 1 by construction */
  }
  for (r = last - 1; r >= 0; r--) {
    index[r] = row % plan->dims[r];
    row /= plan->dims[r];
    for (k = 0; k < job->n_inputs; k++)
      base[k] += index[r] * plan->strides[k][r];
  }

  while (pos < end) {
    int64_t n = row_size - col < end - pos ? row_size - col : end - pos;
    for (k = 0; k < job->n_inputs; k++)
      ptr[k] = job->in[k] + (size_t)(base[k] + col * step[k]) * job->in_size[k];
    job->row(job->ctx, ptr, step, job->out + (size_t)pos * job->out_size, n);
    pos += n;
    col = 0;
    /* next row: odometer over the outer dims */
    for (r = last - 1; r >= 0; r--) {
      index[r]++;
      for (k = 0; k < job->n_inputs; k++)
        base[k] += plan->strides[k][r];
      if (index[r] < plan->dims[r])
        break;
      for (k = 0; k < job->n_inputs; k++)
        base[k] -= plan->strides[k][r] * plan->dims[r];
      index[r] = 0;
    }
  }
}

/* Reference path: one element at a time, offsets from scratch. */
static void run_reference(const struct sc_broadcast_job *job)
{
  const struct sc_broadcast_plan *plan = &job->plan;
  static const int64_t no_step[SC_BROADCAST_MAX_INPUTS];
  const void *ptr[SC_BROADCAST_MAX_INPUTS];
  int64_t i;
  int r, k;

  for (i = 0; i < job->n_elements; i++) {
    int64_t rem = i, offset[SC_BROADCAST_MAX_INPUTS] = {0};
    for (r = plan->rank - 1; r >= 0; r--) {
      int64_t c = rem % plan->dims[r];
      rem /= plan->dims[r];
      for (k = 0; k < job->n_inputs; k++)
        offset[k] += c * plan->strides[k][r];
    }
    for (k = 0; k < job->n_inputs; k++)
      ptr[k] = job->in[k] + (size_t)offset[k] * job->in_size[k];
    job->row(job->ctx, ptr, no_step, job->out + (size_t)i * job->out_size, 1);
  }
}

void sc_broadcast_run(const struct sc_broadcast_job *job,
                      struct sc_threadpool *threads, int64_t grain)
{
  if (job->n_elements <= 0)
    return;
  if (__atomic_load_n(&reference_forced, __ATOMIC_RELAXED)) {
    run_reference(job);
    return;
  }
  sc_parallel_for(threads, job->n_elements, grain, run_range, (void *)job);
}
