/* Image transformers: the steps that turn a decoded image into the tensor a
 * stage is fed, exactly as the deployed pipeline computes it.
 *
 * A step is created from a name -- a Horizon class name such as
 * "ResizeTransformer" or a snake_case alias of spec/cli.md such as "resize"
 * -- and a list of parameters that does not depend on YAML, so that any
 * configuration reader can build it (and pass line numbers through for the
 * messages). spec/transforms.md defines every step exactly; each one is a
 * pure function tensor -> new tensor that never modifies its input.
 *
 * Layout: rank-3 images are HWC or CHW. The class-name transformers take it
 * from their documented `data_format` parameter (default as documented,
 * often "CHW"); the snake_case steps take it from the layout the pipeline
 * tracks (the decoded image is HWC; hwc_to_chw makes it CHW ...).
 *
 * Ownership: sc_transform_create copies the parameters it needs (strings
 * and lists included); the caller keeps its own. Outputs are new tensors
 * owned by the caller. A pipeline owns the steps appended to it.
 *
 * Errors: creation fails with SC_ERR_CONFIG naming the transformer and the
 * parameter (and "line N" when the parameter carries a line) for unknown
 * names, unknown, missing, ill-typed or out-of-range parameters. Applying a
 * step fails with SC_ERR_CONFIG naming the transformer when the input does
 * not fit it (wrong rank, layout, dtype, channel count, an odd size for
 * NV12, a crop larger than the image ...), SC_ERR_NOMEM on allocation
 * failure. */
#ifndef SC_TRANSFORMS_TRANSFORM_H
#define SC_TRANSFORMS_TRANSFORM_H

#include "runtime/tensor.h"

/* Longest list parameter (target_size, means, order ...). */
#define SC_TRANSFORM_MAX_LIST 16

enum sc_param_type {
  SC_PARAM_NUMBER, /* number */
  SC_PARAM_STRING, /* string (may hold a number's text: parsed if needed) */
  SC_PARAM_LIST,   /* list of numbers */
  SC_PARAM_BOOL    /* true/false, in number (0 or 1) */
};

/* One parameter as written in the configuration. `key` NULL or "" binds
 * positionally to the step's next documented parameter. `line` is the
 * configuration line (0: unknown), used only in messages. */
struct sc_transform_param {
  const char *key;
  enum sc_param_type type;
  double number;
  const char *string;
  int n_list;
  const double *list;
  int line;
};

/* Layout of the tensor flowing through a pipeline. */
enum sc_layout {
  SC_LAYOUT_HWC = 0, /* rank 3, channels last (decoded images) */
  SC_LAYOUT_CHW,     /* rank 3, channels first */
  SC_LAYOUT_NV12,    /* NV12 bytes: 2-D (H*3/2, W) or 1-D */
  SC_LAYOUT_OTHER    /* anything else (after an arbitrary transpose) */
};

struct sc_transform;

/* Creates a step. `name` is a class name or snake_case alias (exact
 * spelling). On success *out is a new step (free with sc_transform_free). */
sc_status sc_transform_create(const char *name,
                              const struct sc_transform_param *params,
                              int n_params, struct sc_transform **out,
                              struct sc_error *err);

/* NULL is a no-op. */
void sc_transform_free(struct sc_transform *t);

/* The name the step was created with. */
const char *sc_transform_name(const struct sc_transform *t);

/* Applies the step to `input`. `layout` (may be NULL: HWC input) is the
 * input's layout on entry and the output's on success. *output is a new
 * tensor; `input` is never modified. */
sc_status sc_transform_apply(const struct sc_transform *t,
                             const struct sc_tensor *input,
                             enum sc_layout *layout, struct sc_tensor **output,
                             struct sc_error *err);

/* The known transformers, for documentation and --help. */
struct sc_transform_info {
  const char *name;    /* "ResizeTransformer", "resize" ... */
  const char *params;  /* "target_size, mode=skimage, method=1, ..." */
  const char *summary; /* one line */
};
int sc_transform_count(void);
const struct sc_transform_info *sc_transform_info_at(int i);

/* A sequence of steps applied in order. */
struct sc_pipeline;

sc_status sc_pipeline_create(struct sc_pipeline **out, struct sc_error *err);

/* NULL is a no-op; frees every step. */
void sc_pipeline_free(struct sc_pipeline *p);

/* Appends a step; the pipeline owns it from now on, also when appending
 * fails (it is then freed). */
sc_status sc_pipeline_append(struct sc_pipeline *p, struct sc_transform *t,
                             struct sc_error *err);

/* sc_transform_create + sc_pipeline_append. */
sc_status sc_pipeline_add(struct sc_pipeline *p, const char *name,
                          const struct sc_transform_param *params, int n_params,
                          struct sc_error *err);

int sc_pipeline_length(const struct sc_pipeline *p);
const struct sc_transform *sc_pipeline_step(const struct sc_pipeline *p, int i);

/* Runs every step on `input` (layout as for sc_transform_apply; NULL: HWC
 * in). *output is a new tensor (a copy of input for an empty pipeline).
 * A failing step's message is prefixed with "step N (name): ". */
sc_status sc_pipeline_run(const struct sc_pipeline *p,
                          const struct sc_tensor *input, enum sc_layout *layout,
                          struct sc_tensor **output, struct sc_error *err);

#endif
