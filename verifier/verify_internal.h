/* Internal structures shared by verifier/verify*.c, stages.c, feeds.c and
 * input_space.c. Not a public interface. */
#ifndef SC_VERIFIER_VERIFY_INTERNAL_H
#define SC_VERIFIER_VERIFY_INTERNAL_H

#include "compare/match.h"
#include "compare/segment.h"
#include "compare/store.h"
#include "loaders/config.h"
#include "loaders/dump.h"
#include "runtime/graph.h"
#include "verifier/verify.h"

enum stage_kind { STAGE_ONNX, STAGE_DUMP, STAGE_BINARY };

struct stage {
  char *name;
  enum stage_kind kind;
  char *path;   /* resolved file or directory */
  char *source; /* as written (relative to the model directory) */
  char *note;
  const struct sc_config_stage *config; /* NULL when discovered */
  struct sc_config_steps steps;         /* per-stage input steps (owned copy) */
  struct sc_graph *graph;               /* ONNX stages */
  struct sc_view *view;      /* ONNX stages; dump stages once listed */
  struct sc_dump *dump;      /* dump of the current input */
  struct sc_dump *view_dump; /* the dump the view was built from (its
                              * quantization parameters are borrowed) */
  int key_base;              /* store keys: key_base + view tensor */
  int emulate;
  enum sc_rounding rounding;
};

/* One model input's files: source i of the configuration. */
struct input_source {
  char *name; /* model input name, or NULL */
  const struct sc_config_input *config;
  int n_files;
  char **files;
};

/* One input set (the k-th file of every source). */
struct input_set {
  char *id; /* file name of the first source's file (+ the others') */
  int n_files;
  char **files; /* one per input source */
};

struct stages {
  struct sc_config *config; /* owned */
  char *model_dir;
  int n_stages;
  struct stage *stages;
  int n_sources;
  struct input_source *sources;
  int n_sets;
  struct input_set *sets;
  struct sc_names *names; /* compare.match.file, or NULL */
};

/* stages.c */
sc_status sc_stages_load(const struct sc_verify_options *o, struct stages **out,
                         struct sc_error *err);
void sc_stages_free(struct stages *s);

/* feeds.c: the tensors stage s is fed for input set k, one per graph input
 * (in graph input order), or, for a dump stage, the decoded inputs. *feeds
 * holds n_feeds new tensors. */
sc_status sc_feeds_make(const struct stages *s, int stage, int set,
                        struct sc_tensor ***feeds, int *n_feeds,
                        struct sc_error *err);
void sc_feeds_free(struct sc_tensor **feeds, int n_feeds);

/* input_space.c: maps a stage's input tensor back into the decoded image's
 * space (after the shared steps) by inverting the stage's own steps. NULL
 * *out with *reason when a step cannot be inverted. */
sc_status sc_input_to_image_space(const struct sc_tensor *fed,
                                  const struct sc_config_steps *steps,
                                  struct sc_tensor **out, const char **reason,
                                  struct sc_error *err);

#endif
