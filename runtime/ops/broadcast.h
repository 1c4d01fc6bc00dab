/* Walking an output tensor and the inputs broadcast to it (numpy rules),
 * for element-wise kernels of any family.
 *
 * A job describes one element-wise computation: an output, up to
 * SC_BROADCAST_MAX_INPUTS inputs whose shapes broadcast to it (each input
 * dim, aligned right, equals the output's or is 1), and a row function
 * that computes a run of consecutive output elements. sc_broadcast_run()
 * calls the row function over the whole output:
 *
 *   fast path   adjacent dims are merged wherever every input is either
 *               contiguous across them or broadcast along both, so that a
 *               same-shape or scalar operation becomes one long row and a
 *               per-channel one ([N,C,H,W] with [C,1,1]) rows of H*W
 *               elements with the channel value fixed. Within a row every
 *               input advances by 1 (step 1) or stays put (step 0). The
 *               output is split between threads by element ranges, so
 *               every element is computed the same way for any thread
 *               count.
 *   reference   every output element on its own (n = 1, all steps 0),
 *               offsets computed from the unmerged shape by division;
 *               serial. Taken when sc_broadcast_force_reference(1) is in
 *               effect: tests run both paths on the same inputs.
 *
 * Nothing here allocates or fails: shapes are validated by the kernel's
 * reshape before a job is built. */
#ifndef SC_RUNTIME_OPS_BROADCAST_H
#define SC_RUNTIME_OPS_BROADCAST_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"

struct sc_threadpool;

#define SC_BROADCAST_MAX_INPUTS 3

/* Computes out[0..n) from the inputs. in[k] points at the element of input
 * k that goes with out[0]; step[k] is 1 when input k advances with the
 * output, 0 when it is broadcast along the row. `ctx` is the job's. */
typedef void (*sc_broadcast_row_fn)(const void *ctx, const void *const *in,
                                    const int64_t *step, void *out, int64_t n);

/* Dims of the (possibly merged) output and the element strides of each
 * input in it (0 along broadcast dims). rank >= 1: a scalar is [1]. */
struct sc_broadcast_plan {
  int n_inputs;
  int rank;
  int64_t dims[SC_MAX_RANK];
  int64_t strides[SC_BROADCAST_MAX_INPUTS][SC_MAX_RANK];
};

struct sc_broadcast_job {
  int n_inputs;
  const char *in[SC_BROADCAST_MAX_INPUTS]; /* borrowed input data */
  size_t in_size[SC_BROADCAST_MAX_INPUTS]; /* element sizes in bytes */
  char *out;                               /* borrowed output data */
  size_t out_size;
  int64_t n_elements; /* of the output */
  struct sc_broadcast_plan plan;
  sc_broadcast_row_fn row;
  const void *ctx; /* passed to row, borrowed */
};

/* Fills `plan` for an output of shape (rank, dims) and n_inputs input
 * shapes; merge = 0 keeps the output dims as they are. Precondition: the
 * inputs broadcast to the output (checked by the caller's reshape). */
void sc_broadcast_plan_init(struct sc_broadcast_plan *plan, int rank,
                            const int64_t *dims, int n_inputs,
                            const struct sc_tensor *const *inputs, int merge);

/* Prepares a job over `out` (shape set, data allocated) and the inputs
 * (data present); element sizes come from the dtypes. The tensors must
 * outlive the job. */
void sc_broadcast_job_init(struct sc_broadcast_job *job,
                           const struct sc_tensor *out, int n_inputs,
                           const struct sc_tensor *const *inputs,
                           sc_broadcast_row_fn row, const void *ctx);

/* Runs the job over the whole output: split over `threads` (may be NULL)
 * in ranges of at least `grain` elements on the fast path, element by
 * element on the reference path. */
void sc_broadcast_run(const struct sc_broadcast_job *job,
                      struct sc_threadpool *threads, int64_t grain);

/* Makes every later sc_broadcast_run take the reference path (on != 0) or
 * the fast path (0, the default). For tests comparing the two. */
void sc_broadcast_force_reference(int on);

#endif
