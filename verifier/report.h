/* The results of a verify or compare run, as every report writer sees them
 * (spec/report.md). One struct sc_report per run; it owns everything.
 *
 * Writers (verifier/report_*.c) render it; `merge` reads JSON reports back
 * into this form (sc_report_read_json) and combines them. All writers are
 * deterministic: the same report gives the same bytes. */
#ifndef SC_VERIFIER_REPORT_H
#define SC_VERIFIER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "compare/metrics.h"
#include "runtime/error.h"

enum sc_verdict {
  SC_VERDICT_PASS = 0,
  SC_VERDICT_WARN = 1,
  SC_VERDICT_FAIL = 2
};

const char *sc_verdict_name(enum sc_verdict v); /* "pass" | "warn" | "fail" */

/* Per-channel error of one channel (axis 1) of a failing row. */
struct sc_channel_error {
  int64_t channel;
  double cosine;
  double max_abs;
  double sqnr_db;
};

#define SC_REPORT_WORST_CHANNELS 8

struct sc_row_result {
  int row;                /* 0 = the model input */
  char *tensor;           /* target tensor */
  char *reference_tensor; /* reference tensor */
  char *node;             /* producing node in the target ("" for inputs) */
  char *op;               /* its operator ("" for inputs) */
  int rank;
  int64_t dims[8];
  char *match; /* how it was matched: name, canonical name, structure ... */
  int is_input;
  int is_output;
  enum sc_verdict status;
  int has_accumulated;
  struct sc_metrics accumulated; /* worst over inputs */
  char *worst_input;             /* input id of the worst accumulated value */
  int has_isolated;
  struct sc_metrics isolated;
  char *worst_input_isolated;
  char *isolated_note; /* why there is no isolated value, or NULL */
  char *note;          /* e.g. "not comparable: ..." */
  /* accumulated error growth over the row's inputs (1 - cosine), for
   * top_jumps; NAN when unknown */
  double jump;
  int n_worst_channels;
  struct sc_channel_error worst_channels[SC_REPORT_WORST_CHANNELS];
};

/* A reference to a row in the localisation lists. */
struct sc_row_ref {
  int row;
  char *tensor;
  char *node;
  char *metric; /* for top lists: "cosine", "cosine_drop" ... */
  double value;
};

struct sc_thresholds {
  uint32_t set; /* bit per enum sc_metric_id */
  double bound[SC_N_METRICS];
};

struct sc_pair_result {
  char *reference, *target;
  enum sc_verdict status;
  char *mode; /* "accumulated", "isolated" or "both" */
  char *note; /* e.g. "target is a dump: accumulated mode only" */
  struct sc_thresholds thresholds;        /* layers */
  struct sc_thresholds input_thresholds;  /* row 0 */
  struct sc_thresholds output_thresholds; /* model outputs */
  double match_ratio; /* share of the target's tensors matched */
  int n_rows;
  struct sc_row_result *rows;
  int has_first_divergence;
  struct sc_row_ref first_divergence;
  int n_top_isolated;
  struct sc_row_ref *top_isolated;
  int n_top_jumps;
  struct sc_row_ref *top_jumps;
  int n_unmatched_reference;
  char **unmatched_reference;
  int n_unmatched_target;
  char **unmatched_target;
};

struct sc_stage_result {
  char *name;
  char *kind;   /* "onnx", "dump", "binary" */
  char *source; /* path relative to the model directory */
  char *note;   /* e.g. "present, not executable here: supply a dump" */
};

struct sc_report {
  char *tool_version;
  char *model_dir;
  enum sc_verdict status;
  int n_stages;
  struct sc_stage_result *stages;
  int n_inputs;
  char **inputs; /* input ids */
  int n_pairs;
  struct sc_pair_result *pairs;
};

void sc_report_free(struct sc_report *r);

/* Verdict of one metric set against thresholds: fail when a bound is
 * breached (lower bounds for cosine, sqnr_db, exact_ratio, top1_agree;
 * upper bounds otherwise). `breached` (may be NULL) receives the first
 * breached metric. Metrics that do not apply (NAN) never breach. */
enum sc_verdict sc_thresholds_check(const struct sc_thresholds *t,
                                    const struct sc_metrics *m,
                                    enum sc_metric_id *breached);

/* Fills first_divergence, top_isolated and top_jumps of every pair and the
 * pair and report verdicts from the rows. */
void sc_report_localise(struct sc_report *r);

/* Writers: each renders the whole report into a malloc'ed buffer. */
sc_status sc_report_json(const struct sc_report *r, char **text,
                         struct sc_error *err);
enum { SC_TEXT_COLOUR = 1u << 0, SC_TEXT_COMPACT = 1u << 1 };
/* flags: SC_TEXT_COLOUR (ANSI colours), SC_TEXT_COMPACT (only rows that do
 * not pass, at most a screenful per pair). */
sc_status sc_report_text(const struct sc_report *r, unsigned flags, char **text,
                         struct sc_error *err);
sc_status sc_report_html(const struct sc_report *r, char **text,
                         struct sc_error *err);
sc_status sc_report_junit(const struct sc_report *r, char **text,
                          struct sc_error *err);
sc_status sc_report_csv(const struct sc_report *r, char **text,
                        struct sc_error *err);

/* Reads a report.json (schema stagecheck.report/v1) back. SC_ERR_FORMAT
 * naming the file and the field when it is not one. */
sc_status sc_report_read_json(const char *path, struct sc_report **out,
                              struct sc_error *err);

/* Writes the formats listed in `formats` ("text,json,html,junit,csv") into
 * dir as report.txt, report.json, report.html, report.junit.xml,
 * report.csv, each atomically. */
sc_status sc_report_write_all(const struct sc_report *r, const char *dir,
                              const char *formats, struct sc_error *err);

#endif
