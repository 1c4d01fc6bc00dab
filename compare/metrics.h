/* Metrics of one matched tensor pair (spec/report.md, "Metrics").
 *
 * `reference` and `target` are converted to double (integer tensors
 * dequantized with their struct sc_quant), d = t - r, and every metric is
 * accumulated in double precision over the pairs where both values are
 * finite. Non-finite values are counted, never dropped silently.
 *
 * The elements of an accumulation (the tensor, or one channel) are summed
 * in fixed blocks, each in a fixed order, and the blocks' sums are added in
 * block order: the results are the same for any thread count and any
 * instruction set. (They may differ from a sequential sum in the last
 * bits; maxima, minima, counts and ratios of counts are exact.)
 *
 * Conventions: cosine is 1 when both norms are 0 and 0 when exactly one is;
 * sqnr_db is +inf when sum(d^2) = 0 (written as null in JSON); rel_l2 is
 * +inf when |r| = 0 < |d|; an empty pair (no finite element) has cosine 1
 * and zero errors. */
#ifndef SC_COMPARE_METRICS_H
#define SC_COMPARE_METRICS_H

#include <stdint.h>

#include "runtime/graph.h"
#include "runtime/tensor.h"
#include "runtime/threadpool.h"

struct sc_metrics {
  int64_t n_elements; /* compared (finite pairs) */
  double cosine;
  double max_abs;
  double mean_abs;
  double rmse;
  double sqnr_db;
  double rel_l2;
  double max_rel;
  double exact_ratio;
  int64_t nan_ref, nan_tgt, inf_ref, inf_tgt;
  int has_lsb; /* max_abs_lsb / saturation are meaningful */
  double max_abs_lsb;
  double saturation; /* share of target elements at qmin or qmax */
  int has_top1;
  double top1_agree; /* share of positions whose channel argmax agrees */
};

struct sc_metrics_options {
  /* Quantization of each side: dequantizes integer tensors, and gives the
   * grid for LSB errors (the target's, else the reference's). NULL: none. */
  const struct sc_quant *reference_quant;
  const struct sc_quant *target_quant;
  /* Compute top1_agree over this axis (-1: not an output). */
  int top1_axis;
  /* Threads to share the work among (NULL: the calling thread only); the
   * results do not depend on it. */
  struct sc_threadpool *threads;
};

/* The summation order, for tests that reproduce it: position p of an
 * accumulation (its elements in increasing index order) goes to block
 * p / SC_METRICS_BLOCK_SIZE and, within it, to lane
 * (p % SC_METRICS_BLOCK_SIZE) % SC_METRICS_LANES, added in order from 0;
 * a block's sum is ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), and
 * the accumulation's sum is 0 plus its blocks' sums in block order.
 * Non-finite pairs are left out (they add 0). */
#define SC_METRICS_BLOCK_SIZE 16384
#define SC_METRICS_LANES 8

/* Which copy of the vector loops runs (they give the same bits). */
enum sc_metrics_path {
  SC_METRICS_PATH_AUTO,     /* the widest the CPU has (the default) */
  SC_METRICS_PATH_PORTABLE, /* the baseline instruction set */
  SC_METRICS_PATH_AVX2,
  SC_METRICS_PATH_AVX512
};

/* Test hook: the path of the calls that follow (process-wide; set it
 * while no metrics are being computed). -1, changing nothing, when this
 * CPU or build does not have it. */
int sc_metrics_force_path(enum sc_metrics_path path);

/* Compares two tensors of the same shape (dtypes may differ). SC_ERR_CONFIG
 * when the shapes differ or a dtype cannot be read as numbers; SC_ERR_NOMEM
 * when the partial results of the blocks cannot be allocated. */
sc_status sc_metrics_compute(const struct sc_tensor *reference,
                             const struct sc_tensor *target,
                             const struct sc_metrics_options *options,
                             struct sc_metrics *out, struct sc_error *err);

/* Folds m into *into keeping, metric by metric, the worse value (the
 * lower cosine, SQNR, exact ratio and top-1 agreement; the higher of the
 * rest); the has_ flags are or-ed. For the worst over several inputs or
 * shards. */
void sc_metrics_keep_worst(struct sc_metrics *into, const struct sc_metrics *m);

/* Per-channel metrics along `axis`: out[c] for c in [0, dims[axis]).
 * `out` must hold that many entries. */
sc_status sc_metrics_per_channel(const struct sc_tensor *reference,
                                 const struct sc_tensor *target,
                                 const struct sc_metrics_options *options,
                                 int axis, struct sc_metrics *out,
                                 struct sc_error *err);

/* Names of the metrics usable in thresholds, and whether each is a lower
 * bound (cosine, sqnr_db, exact_ratio, top1_agree) or an upper bound. */
enum sc_metric_id {
  SC_METRIC_COSINE,
  SC_METRIC_MAX_ABS,
  SC_METRIC_MEAN_ABS,
  SC_METRIC_RMSE,
  SC_METRIC_SQNR_DB,
  SC_METRIC_REL_L2,
  SC_METRIC_MAX_REL,
  SC_METRIC_MAX_ABS_LSB,
  SC_METRIC_EXACT_RATIO,
  SC_METRIC_SATURATION,
  SC_METRIC_TOP1_AGREE,
  SC_N_METRICS
};

const char *sc_metric_name(enum sc_metric_id id);
int sc_metric_from_name(const char *name, enum sc_metric_id *out);
int sc_metric_is_lower_bound(enum sc_metric_id id);
/* The value of a metric; NAN when it does not apply (LSB without
 * quantization, top1 of a non-output). */
double sc_metric_value(const struct sc_metrics *m, enum sc_metric_id id);

/* 1 when `a` is worse than `b` for this metric (lower for lower bounds,
 * higher for upper bounds; NAN is never worse). */
int sc_metric_worse(enum sc_metric_id id, double a, double b);

#endif
