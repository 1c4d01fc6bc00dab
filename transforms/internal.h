/* Private to transforms/: the step structure, the parameter table each
 * transformer declares, and the apply functions of every module.
 *
 * A transformer is a row of the registry (registry.c): its name, its
 * documented parameters (struct param_spec), an optional cross-parameter
 * check run at creation, and an apply function. Parsed parameter values
 * live in the step; apply functions read them by key (param_*). Messages
 * written by apply functions need not name the transformer:
 * sc_transform_apply prefixes every failure with it. */
#ifndef SC_TRANSFORMS_INTERNAL_H
#define SC_TRANSFORMS_INTERNAL_H

#include "transforms/imgproc.h"
#include "transforms/transform.h"

#define MAX_PARAMS 8

enum param_kind {
  PARAM_INT,     /* integral number */
  PARAM_NUMBER,  /* any finite number */
  PARAM_NUMBERS, /* number or list of numbers (max_count elements) */
  PARAM_SIZE,    /* integer or [a, b] list of integers */
  PARAM_CHOICE,  /* one of `choices` ("a|b|c", case-insensitive) */
  PARAM_STRING,  /* free text */
  PARAM_BOOL
};

struct param_spec {
  const char *key;
  enum param_kind kind;
  int required;
  const char *default_text; /* for docs and defaults ("" none) */
  double min, max;          /* numbers and list elements */
  const char *choices;      /* PARAM_CHOICE */
  int max_count;            /* PARAM_NUMBERS: most elements */
};

struct param_value {
  int given; /* set by the user (not a default) */
  int is_list;
  int n;                              /* elements in list */
  double list[SC_TRANSFORM_MAX_LIST]; /* numbers; list[0] for scalars */
  char text[64];                      /* choices and strings */
};

struct sc_transform;
typedef sc_status (*transform_check_fn)(const struct sc_transform *t,
                                        struct sc_error *err);
typedef sc_status (*transform_apply_fn)(const struct sc_transform *t,
                                        const struct sc_tensor *in,
                                        enum sc_layout *layout,
                                        struct sc_tensor **out,
                                        struct sc_error *err);

struct transform_kind {
  const char *name;
  const char *summary;
  const struct param_spec *params;
  int n_params;
  transform_check_fn check; /* may be NULL */
  transform_apply_fn apply;
  int variant; /* distinguishes rows sharing an apply function */
};

struct sc_transform {
  const struct transform_kind *kind;
  struct param_value values[MAX_PARAMS];
  int lines[MAX_PARAMS]; /* configuration line of each given parameter */
};

/* PIL filter from "BILINEAR", "Image.LANCZOS", "2" ... (resize_pil.c).
 * Returns 0 on success, -1 if the name is unknown. */
int pil_filter_from_name(const char *name, enum sc_pil_filter *out);

/* --- parameter access (registry.c) ----------------------------------- */

/* The value of parameter `key` (declared by the transformer; a missing
 * declaration is a bug and aborts in debug builds). */
const struct param_value *param_get(const struct sc_transform *t,
                                    const char *key);
double param_number(const struct sc_transform *t, const char *key);
int64_t param_int(const struct sc_transform *t, const char *key);
int param_given(const struct sc_transform *t, const char *key);
/* 1 if the choice/string parameter equals `text` (case-insensitive). */
int param_is(const struct sc_transform *t, const char *key, const char *text);
const char *param_text(const struct sc_transform *t, const char *key);
/* Fails with SC_ERR_CONFIG: "parameter 'key' (line N): <message>". */
sc_status param_fail(const struct sc_transform *t, const char *key,
                     struct sc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Steps with height/width/size parameters: either height and width, or
 * size; SC_ERR_CONFIG naming the missing or conflicting parameter. */
sc_status check_height_width(const struct sc_transform *t,
                             struct sc_error *err);

/* --- input checks shared by the modules (registry.c) ------------------ */

/* SC_ERR_CONFIG unless `in` is rank 3 with a dtype in the mask below. */
#define DT_U8 0x1
#define DT_I8 0x2
#define DT_F32 0x4
#define DT_F64 0x8
#define DT_ANY_NUMERIC 0xF
sc_status check_image(const struct sc_tensor *in, int dtype_mask,
                      struct sc_error *err);
int dtype_in_mask(enum sc_dtype dtype, int mask);
/* Layout to use for a step with a `data_format` parameter: the parameter
 * when the transformer declares and the user (or its default) sets it,
 * otherwise the tracked layout. SC_ERR_CONFIG if neither is HWC/CHW. */
sc_status resolve_layout(const struct sc_transform *t, const enum sc_layout *in,
                         enum sc_layout *out, struct sc_error *err);

/* New HWC/CHW tensor of the given dtype (uninitialised storage). */
sc_status new_tensor3(enum sc_dtype dtype, int64_t d0, int64_t d1, int64_t d2,
                      struct sc_tensor **out, struct sc_error *err);

/* --- apply functions by module ----------------------------------------- */

/* arith.c */
sc_status apply_add(const struct sc_transform *t, const struct sc_tensor *in,
                    enum sc_layout *layout, struct sc_tensor **out,
                    struct sc_error *err);
sc_status apply_mean(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err);
sc_status apply_scale(const struct sc_transform *t, const struct sc_tensor *in,
                      enum sc_layout *layout, struct sc_tensor **out,
                      struct sc_error *err);
sc_status apply_normalize(const struct sc_transform *t,
                          const struct sc_tensor *in, enum sc_layout *layout,
                          struct sc_tensor **out, struct sc_error *err);
sc_status apply_mean_std(const struct sc_transform *t,
                         const struct sc_tensor *in, enum sc_layout *layout,
                         struct sc_tensor **out, struct sc_error *err);
sc_status apply_cast(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err);
/* numpy astype on x86-64 (spec/transforms.md 1.3): a new tensor. */
sc_status cast_tensor(const struct sc_tensor *in, enum sc_dtype dtype,
                      struct sc_tensor **out, struct sc_error *err);

/* numpy's float -> uint8 astype on x86-64 for one value (truncation to
 * int32, low 8 bits; NaN/out of int32 range -> 0). */
uint8_t numpy_to_u8(double x);

/* layout.c */
sc_status apply_transpose(const struct sc_transform *t,
                          const struct sc_tensor *in, enum sc_layout *layout,
                          struct sc_tensor **out, struct sc_error *err);
sc_status apply_reduce_channel(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err);
sc_status apply_channel_swap(const struct sc_transform *t,
                             const struct sc_tensor *in, enum sc_layout *layout,
                             struct sc_tensor **out, struct sc_error *err);
/* Permutes a tensor's axes (numpy transpose, materialised). */
sc_status transpose_tensor(const struct sc_tensor *in, const int *order,
                           struct sc_tensor **out, struct sc_error *err);

/* geometry.c */
sc_status apply_center_crop(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err);
sc_status apply_pil_center_crop(const struct sc_transform *t,
                                const struct sc_tensor *in,
                                enum sc_layout *layout, struct sc_tensor **out,
                                struct sc_error *err);
sc_status apply_long_side_crop(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err);
sc_status apply_padded_center_crop(const struct sc_transform *t,
                                   const struct sc_tensor *in,
                                   enum sc_layout *layout,
                                   struct sc_tensor **out,
                                   struct sc_error *err);
sc_status apply_crop(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err);
sc_status apply_pad(const struct sc_transform *t, const struct sc_tensor *in,
                    enum sc_layout *layout, struct sc_tensor **out,
                    struct sc_error *err);
sc_status apply_pad_resize(const struct sc_transform *t,
                           const struct sc_tensor *in, enum sc_layout *layout,
                           struct sc_tensor **out, struct sc_error *err);
sc_status apply_pad_divisor(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err);
sc_status apply_warp_affine(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err);
/* The HWC rectangle [top, top+h) x [left, left+w) of `in` (must lie inside
 * the image), copied into a new tensor of the same dtype. */
sc_status crop_tensor(const struct sc_tensor *in, int64_t top, int64_t left,
                      int64_t h, int64_t w, struct sc_tensor **out,
                      struct sc_error *err);

/* resize.c (transformer-level resizes) */
sc_status apply_resize_transformer(const struct sc_transform *t,
                                   const struct sc_tensor *in,
                                   enum sc_layout *layout,
                                   struct sc_tensor **out,
                                   struct sc_error *err);
sc_status apply_resize_step(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err);
sc_status apply_pil_resize(const struct sc_transform *t,
                           const struct sc_tensor *in, enum sc_layout *layout,
                           struct sc_tensor **out, struct sc_error *err);
sc_status apply_short_long_resize(const struct sc_transform *t,
                                  const struct sc_tensor *in,
                                  enum sc_layout *layout,
                                  struct sc_tensor **out, struct sc_error *err);
sc_status apply_short_side_resize(const struct sc_transform *t,
                                  const struct sc_tensor *in,
                                  enum sc_layout *layout,
                                  struct sc_tensor **out, struct sc_error *err);
sc_status check_resize_step(const struct sc_transform *t, struct sc_error *err);
sc_status check_resize_transformer(const struct sc_transform *t,
                                   struct sc_error *err);

/* color.c */
sc_status apply_color(const struct sc_transform *t, const struct sc_tensor *in,
                      enum sc_layout *layout, struct sc_tensor **out,
                      struct sc_error *err);
sc_status apply_yuv444_i420(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err);

/* nv12.c */
sc_status apply_to_nv12(const struct sc_transform *t,
                        const struct sc_tensor *in, enum sc_layout *layout,
                        struct sc_tensor **out, struct sc_error *err);
sc_status apply_nv12_to_yuv444(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err);
sc_status apply_yuv420_to_bgr(const struct sc_transform *t,
                              const struct sc_tensor *in,
                              enum sc_layout *layout, struct sc_tensor **out,
                              struct sc_error *err);

/* Colour-conversion variants (struct transform_kind.variant of apply_color):
 * source in bit 0 (1 = RGB), target in the bits above. */
enum color_target {
  COLOR_GRAY = 0,
  COLOR_GRAY_128,
  COLOR_YUV444,
  COLOR_YUV444_128,
  COLOR_YUV_BT601_VIDEO
};
#define COLOR_VARIANT(rgb, target) (((target) << 1) | (rgb))

#endif
