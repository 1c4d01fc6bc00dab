/* Configuration: stagecheck.yaml (spec/cli.md) and Horizon hb_mapper YAML.
 *
 * The loader validates structure and types and records every YAML line it
 * read, so that any later error can name "FILE:LINE". Unknown keys, wrong
 * types, unknown metrics and malformed thresholds fail here with
 * SC_ERR_CONFIG; transformer names and parameters are checked when a
 * pipeline is built (sc_config_pipeline), with the step's line.
 *
 * Ownership: struct sc_config owns every string, list and step. */
#ifndef SC_LOADERS_CONFIG_H
#define SC_LOADERS_CONFIG_H

#include <stdint.h>

#include "compare/metrics.h"
#include "runtime/error.h"
#include "transforms/transform.h"

struct sc_config_step {
  char *name;
  int line;
  int n_params;
  struct sc_transform_param *params; /* strings and lists owned here */
};

struct sc_config_steps {
  int n_steps;
  struct sc_config_step *steps;
  int present; /* the key was given (an empty list counts) */
};

struct sc_config_input {
  char *name;   /* model input name, NULL for "the" input */
  char *source; /* file, directory or glob, relative to the config */
  int line;
  int nv12_width, nv12_height; /* for raw .nv12 sources (0: unknown) */
  struct sc_config_steps preprocess;
};

enum sc_rounding { SC_ROUND_HALF_AWAY_FROM_ZERO, SC_ROUND_HALF_EVEN };

struct sc_config_stage {
  char *name;
  char *model;  /* ONNX file, or NULL */
  char *dump;   /* dump directory, or NULL */
  char *binary; /* a compiled binary (.bin/.hbm) without dump, or NULL */
  int line;
  struct sc_config_steps input; /* steps after the shared ones */
  int emulate;                  /* run as an integer accelerator */
  enum sc_rounding rounding;
};

/* Bounds of one threshold entry: bound[m] applies when bit m of `set` is
 * set (lower bound for cosine/sqnr_db/exact_ratio/top1_agree, upper bound
 * otherwise). */
struct sc_config_threshold {
  char *key; /* "default", "input", "outputs", "REF->TARGET" */
  int line;
  uint32_t set;
  double bound[SC_N_METRICS];
};

struct sc_config_pair {
  char *reference, *target;
  int line;
};

struct sc_config {
  char *path; /* the YAML file ("" when derived) */
  char *dir;  /* directory relative paths resolve against */
  char *name;
  int n_inputs;
  struct sc_config_input *inputs;
  int n_stages;
  struct sc_config_stage *stages;
  int pairs_chain; /* compare.pairs: chain (default) */
  int n_pairs;     /* explicit pairs otherwise */
  struct sc_config_pair *pairs;
  char *match_file;
  int n_thresholds;
  struct sc_config_threshold *thresholds;
};

/* Loads and validates a stagecheck.yaml. */
sc_status sc_config_load(const char *path, struct sc_config **out,
                         struct sc_error *err);

/* An empty configuration for `dir` (stages are then discovered). */
sc_status sc_config_new(const char *dir, struct sc_config **out,
                        struct sc_error *err);

void sc_config_free(struct sc_config *c);

/* An explicit tensor map (compare.match.file): a YAML mapping of target
 * tensor names to reference tensor names, applied to every pair. */
struct sc_names {
  int n;
  char **target, **reference;
};

/* Loads the map at `path`: a mapping of non-empty strings to non-empty
 * strings, each target once; SC_ERR_CONFIG naming the file and line. */
sc_status sc_names_load(const char *path, struct sc_names **out,
                        struct sc_error *err);
void sc_names_free(struct sc_names *names);

/* Reads a Horizon hb_mapper YAML (model_parameters, input_parameters) and
 * derives the input steps of the float stages (input_type_train,
 * input_layout_train, norm_type, mean_value, scale_value) and of the
 * quantized/compiled stages (input_type_rt, input_layout_rt: the data
 * minus 128 as int8), into *float_steps / *quant_steps. Fields it does not
 * know are ignored (a real hb_mapper file has many); wrong types are
 * SC_ERR_CONFIG with the line. `input_shape` ("1x3x224x224") gives the
 * resize target when present. */
sc_status sc_config_load_hb_mapper(const char *path,
                                   struct sc_config_steps *float_steps,
                                   struct sc_config_steps *quant_steps,
                                   struct sc_error *err);

/* Does `path` look like an hb_mapper YAML (has model_parameters or
 * input_parameters at the top)? */
int sc_config_is_hb_mapper(const char *path);

void sc_config_steps_clear(struct sc_config_steps *s);

/* Builds the pipeline of a stage: the input's shared steps, then the
 * stage's own. Transformer errors carry "FILE:LINE: ". */
sc_status sc_config_pipeline(const struct sc_config *c,
                             const struct sc_config_input *input,
                             const struct sc_config_stage *stage,
                             struct sc_pipeline **out, struct sc_error *err);

/* The threshold entry for a pair ("REF->TARGET", else "default"), for the
 * input row ("input") or the outputs ("outputs"); NULL when none. */
const struct sc_config_threshold *sc_config_threshold(const struct sc_config *c,
                                                      const char *key);

/* Index of the stage with this name, or -1. */
int sc_config_stage_index(const struct sc_config *c, const char *name);

#endif
