/* `stagecheck verify`: every stage of a model directory, layer by layer.
 *
 * The run, in order:
 *   1. stages: stagecheck.yaml, else discovery by file names (spec/cli.md),
 *      with an hb_mapper YAML supplying input pipelines; ONNX stages are
 *      loaded and prepared, dump directories listed, binaries noted;
 *   2. pairs: as configured (default: each stage against the previous one
 *      and against the first), each matched once (compare/match.h), with an
 *      isolated segment per row (compare/segment.h);
 *   3. inputs: for each input, the stages advance in lockstep, driven by
 *      the last: before a stage computes a tensor, its reference stages run
 *      just the nodes that tensor's comparison needs (dumps are read up to
 *      it). ONNX stages run with an observer that stores the tensors later
 *      pairs need as reference (compare/store.h) and compares the tensors
 *      this stage produces as target, re-running each row's segment on the
 *      reference's values (isolated mode);
 *   4. verdicts: the worst value over inputs per row against the
 *      thresholds, localisation, and the report.
 * The store holds a reference tensor from its production to its last use
 * and spills beyond the memory budget. */
#ifndef SC_VERIFIER_VERIFY_H
#define SC_VERIFIER_VERIFY_H

#include <stddef.h>

#include "verifier/report.h"

enum sc_verify_mode { SC_MODE_BOTH = 0, SC_MODE_ACCUMULATED, SC_MODE_ISOLATED };

struct sc_verify_options {
  const char *model_dir;
  const char *config_path; /* NULL: MODEL_DIR/stagecheck.yaml, else discovery */
  int n_inputs;            /* --input overrides (files, dirs, globs) */
  const char *const *inputs;
  const char *stages; /* "a,b,c" or NULL */
  enum sc_verify_mode mode;
  int threads;
  int max_images;               /* 0: all */
  int shard_index, shard_count; /* --shard K/N; count 0: no sharding */
  size_t memory_budget;
  int progress; /* draw a progress bar on stderr */
  int verbose;
  /* filled in by the run when not NULL (not part of the report, which
   * stays independent of budgets and thread counts) */
  struct sc_verify_stats *stats;
};

struct sc_verify_stats {
  size_t store_peak_bytes;    /* most reference data held in memory */
  size_t store_spilled_bytes; /* written to the spill file */
  size_t store_budget_bytes;
};

/* Runs verify. On success *out is the report (caller frees). Failures are
 * statuses with one-line messages naming the file (SC_ERR_CONFIG for
 * configuration and missing stage files, SC_ERR_FORMAT for malformed
 * inputs, SC_ERR_UNSUPPORTED for models the runtime cannot execute). */
sc_status sc_verify_run(const struct sc_verify_options *options,
                        struct sc_report **out, struct sc_error *err);

/* `stagecheck compare DIR_A DIR_B`: two dump directories, A the reference. */
struct sc_compare_options {
  const char *reference_dir, *target_dir;
  const char *map_file; /* explicit map (YAML), or NULL */
  struct sc_thresholds thresholds;
};
sc_status sc_compare_dumps(const struct sc_compare_options *options,
                           struct sc_report **out, struct sc_error *err);

/* `stagecheck merge`: combines shard reports of one verify run. */
sc_status sc_report_merge(const char *const *paths, int n_paths,
                          struct sc_report **out, struct sc_error *err);

#endif
