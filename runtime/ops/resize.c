/* Operator family: resampling.
 *
 *   Resize      10 (scales, asymmetric), 11-12 and 13-17 (roi / scales /
 *               sizes, coordinate modes, cubic), 18.. (antialias, axes,
 *               keep_aspect_ratio_policy; half_pixel_symmetric from 19)
 *   Upsample    7-8 (scales attribute), 9 (scales input)
 *   GridSample  16-19 (bilinear / nearest / bicubic, zeros / border /
 *               reflection padding, align_corners)
 *   RoiAlign    10-15 (output_half_pixel), 16.. (half_pixel by default)
 *
 * Resize is separable: every resized axis gets a table of input indices and
 * weights per output coordinate (built from the ONNX reference semantics:
 * the n nearest input samples of the original coordinate, clamped to the
 * edge), and the reference path applies the tables one axis at a time,
 * innermost axis first, in double. Nearest mode is a gather that moves
 * elements by size, so it works for every dtype. Two fast paths sit behind
 * the same kernel (tested against the reference path in
 * tests/runtime/test_resize.c): nearest copies an output row instead of
 * gathering it again when it reads the same input row as the previous one,
 * and float linear resizing of the two innermost axes blends two input rows
 * interpolated along x once each (and reused by the next output rows). Both
 * partition output rows over the thread pool and compute every value the
 * same way whatever the partition, so results do not depend on the thread
 * count.
 *
 * Semantics chosen where the specification is silent (following ONNX
 * Runtime): Resize-10 and Upsample use asymmetric coordinates and round
 * nearest coordinates up when downsampling and down otherwise; the output
 * shape ignores roi (output = floor(input * scale)); length_resized in the
 * coordinate formulas is input * scale (the ONNX reference), or the
 * requested size when `sizes` is given; integer outputs of linear / cubic
 * resizing are truncated toward zero like the reference's astype. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/ops/resize.h"
#include "runtime/threadpool.h"

/* Largest dimension a scale may produce before the tensor checks run. */
#define RESIZE_MAX_DIM ((double)((int64_t)1 << 40))

/* Set by tests: run the reference paths only (see sc_resize_force_reference
 * below). */
static int resize_reference_only;

/* For tests comparing the fast paths with the reference paths on the same
 * inputs: 1 disables the fast paths of Resize/Upsample. Not thread-safe;
 * set it before running graphs. */
void sc_resize_force_reference(int force)
{
  resize_reference_only = force;
}

static const struct sc_tensor *input_at(const struct sc_node *node, int i)
{
  return i >= 0 && i < node->n_inputs ? node->in[i] : NULL;
}

/* sc_tensor_set_shape on output i, naming the node in the message when
 * the shape is refused (overflow, hostile size). */
static sc_status set_output_shape(const struct sc_node *node, int i, int rank,
                                  const int64_t *dims, struct sc_error *err)
{
  sc_status s = sc_tensor_set_shape(node->out[i], rank, dims, err);
  if (s)
    sc_error_prefix(err, "node '%s' (%s): output %d: ", node->name,
                    node->op_type, i);
  return s;
}

/* ===================================================================== */
/* Resize / Upsample: attributes                                          */
/* ===================================================================== */

enum resize_mode { RESIZE_NEAREST, RESIZE_LINEAR, RESIZE_CUBIC };

enum resize_coord {
  COORD_HALF_PIXEL,
  COORD_HALF_PIXEL_SYMMETRIC,
  COORD_PYTORCH_HALF_PIXEL,
  COORD_ALIGN_CORNERS,
  COORD_ASYMMETRIC,
  COORD_TF_HALF_PIXEL_FOR_NN,
  COORD_TF_CROP_AND_RESIZE
};

enum resize_nearest {
  NEAREST_ROUND_PREFER_FLOOR,
  NEAREST_ROUND_PREFER_CEIL,
  NEAREST_FLOOR,
  NEAREST_CEIL,
  NEAREST_SIMPLE /* Resize-10 / Upsample: ceil when downsampling, else floor */
};

enum resize_aspect { ASPECT_STRETCH, ASPECT_NOT_LARGER, ASPECT_NOT_SMALLER };

/* node->state of Resize and Upsample, filled by prepare. */
struct resize_state {
  enum resize_mode mode;
  enum resize_coord coord;
  enum resize_nearest nearest;
  enum resize_aspect aspect;
  double cubic_a;
  double extrapolation;
  int exclude_outside;
  int antialias;
  int n_axes; /* entries of `axes`; -1 when every axis is resized */
  int64_t axes[SC_MAX_RANK];
  int roi_input, scales_input, sizes_input; /* slots; -1 when absent */
  int n_attr_scales; /* Upsample-7: scales attribute, else -1 */
  double attr_scales[SC_MAX_RANK];
};

struct name_value {
  const char *name;
  int value;
};

/* Looks up attribute `attr` (default `def`) in a table of accepted values;
 * fails with SC_ERR_FORMAT naming the node when the value is not listed. */
static sc_status attr_choice(const struct sc_node *node, const char *attr,
                             const char *def, const struct name_value *choices,
                             int n_choices, int *out, struct sc_error *err)
{
  const char *s;
  int i;
  sc_status st = sc_node_attr_string(node, attr, def, &s, err);
  if (st)
    return st;
  for (i = 0; i < n_choices; i++)
    if (strcmp(s, choices[i].name) == 0) {
      *out = choices[i].value;
      return SC_OK;
    }
  return sc_node_fail(node, err, SC_ERR_FORMAT,
                      "attribute '%s' has invalid value '%s'", attr, s);
}

static const struct name_value resize_modes[] = {{"nearest", RESIZE_NEAREST},
                                                 {"linear", RESIZE_LINEAR},
                                                 {"cubic", RESIZE_CUBIC}};

static const struct name_value resize_coords[] = {
    {"half_pixel", COORD_HALF_PIXEL},
    {"pytorch_half_pixel", COORD_PYTORCH_HALF_PIXEL},
    {"align_corners", COORD_ALIGN_CORNERS},
    {"asymmetric", COORD_ASYMMETRIC},
    {"tf_half_pixel_for_nn", COORD_TF_HALF_PIXEL_FOR_NN},
    {"tf_crop_and_resize", COORD_TF_CROP_AND_RESIZE},
    {"half_pixel_symmetric", COORD_HALF_PIXEL_SYMMETRIC}};

static const struct name_value resize_nearest_modes[] = {
    {"round_prefer_floor", NEAREST_ROUND_PREFER_FLOOR},
    {"round_prefer_ceil", NEAREST_ROUND_PREFER_CEIL},
    {"floor", NEAREST_FLOOR},
    {"ceil", NEAREST_CEIL}};

static const struct name_value resize_aspects[] = {
    {"stretch", ASPECT_STRETCH},
    {"not_larger", ASPECT_NOT_LARGER},
    {"not_smaller", ASPECT_NOT_SMALLER}};

#define N_CHOICES(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Checks X's dtype for the interpolation mode: nearest moves elements of
 * any fixed-size type; linear and cubic need numbers. */
static sc_status resize_check_data(struct sc_node *node,
                                   const struct resize_state *st,
                                   struct sc_error *err)
{
  enum sc_dtype t = node->in[0]->dtype;
  int numeric = sc_dtype_is_float(t) || sc_dtype_is_integer(t);
  if (sc_dtype_size(t) == 0 || (t != SC_DTYPE_BOOL && !numeric))
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "input 0 ('%s') has dtype %s, which this operator "
                        "does not support",
                        sc_node_input_name(node, 0), sc_dtype_name(t));
  if (st->mode != RESIZE_NEAREST && !numeric)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "%s interpolation of %s data is not supported",
                        st->mode == RESIZE_LINEAR ? "linear" : "cubic",
                        sc_dtype_name(t));
  node->out[0]->dtype = t;
  return SC_OK;
}

static sc_status resize_check_aux_dtypes(const struct sc_node *node,
                                         const struct resize_state *st,
                                         struct sc_error *err)
{
  static const enum sc_dtype real_types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
  static const enum sc_dtype size_types[] = {SC_DTYPE_INT64};
  sc_status s = SC_OK;
  if (st->roi_input >= 0 && input_at(node, st->roi_input))
    s = sc_check_dtype(node, st->roi_input, real_types, 2, err);
  if (!s && st->scales_input >= 0 && input_at(node, st->scales_input))
    s = sc_check_dtype(node, st->scales_input, real_types, 1, err);
  if (!s && st->sizes_input >= 0 && input_at(node, st->sizes_input))
    s = sc_check_dtype(node, st->sizes_input, size_types, 1, err);
  return s;
}

/* Parses the attributes of Resize-11 and later into st. */
static sc_status resize_parse_attrs(const struct sc_node *node,
                                    struct resize_state *st,
                                    struct sc_error *err)
{
  int mode = 0, coord = 0, nearest = 0, aspect = ASPECT_STRETCH;
  int64_t exclude = 0, antialias = 0, n_axes;
  const int64_t *axes;
  float a, extrapolation;
  sc_status s;

  s = attr_choice(node, "mode", "nearest", resize_modes,
                  N_CHOICES(resize_modes), &mode, err);
  if (!s)
    s = attr_choice(node, "coordinate_transformation_mode", "half_pixel",
                    resize_coords, N_CHOICES(resize_coords), &coord, err);
  if (!s)
    s = attr_choice(node, "nearest_mode", "round_prefer_floor",
                    resize_nearest_modes, N_CHOICES(resize_nearest_modes),
                    &nearest, err);
  if (!s)
    s = sc_node_attr_float(node, "cubic_coeff_a", -0.75f, &a, err);
  if (!s)
    s = sc_node_attr_float(node, "extrapolation_value", 0.0f, &extrapolation,
                           err);
  if (!s)
    s = sc_node_attr_int(node, "exclude_outside", 0, &exclude, err);
  if (s)
    return s;
  if (coord == COORD_HALF_PIXEL_SYMMETRIC && node->opset < 19)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "coordinate_transformation_mode "
                        "'half_pixel_symmetric' needs opset 19 (model has "
                        "%lld)",
                        (long long)node->opset);
  if (!isfinite(a) || !isfinite(extrapolation))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "cubic_coeff_a and extrapolation_value must be finite");
  if (exclude != 0 && exclude != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "exclude_outside must be 0 or 1, not %lld",
                        (long long)exclude);
  st->n_axes = -1;
  if (node->opset >= 18) {
    s = sc_node_attr_int(node, "antialias", 0, &antialias, err);
    if (!s)
      s = attr_choice(node, "keep_aspect_ratio_policy", "stretch",
                      resize_aspects, N_CHOICES(resize_aspects), &aspect, err);
    if (!s)
      s = sc_node_attr_ints(node, "axes", &n_axes, &axes, err);
    if (s)
      return s;
    if (antialias != 0 && antialias != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "antialias must be 0 or 1, not %lld",
                          (long long)antialias);
    if (n_axes > SC_MAX_RANK || n_axes == 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "attribute 'axes' has %lld entries",
                          (long long)n_axes);
    if (n_axes > 0) {
      st->n_axes = (int)n_axes;
      memcpy(st->axes, axes, (size_t)n_axes * sizeof *axes);
    }
  }
  st->mode = (enum resize_mode)mode;
  st->coord = (enum resize_coord)coord;
  st->nearest = (enum resize_nearest)nearest;
  st->aspect = (enum resize_aspect)aspect;
  st->cubic_a = a;
  st->extrapolation = extrapolation;
  st->exclude_outside = (int)exclude;
  st->antialias = (int)antialias;
  return SC_OK;
}

/* Parses the attribute `mode` of Resize-10 and Upsample (nearest or
 * linear; asymmetric coordinates). */
static sc_status resize_parse_legacy(const struct sc_node *node,
                                     struct resize_state *st,
                                     struct sc_error *err)
{
  int mode = 0;
  sc_status s =
      attr_choice(node, "mode", "nearest", resize_modes, 2, &mode, err);
  if (s)
    return s;
  st->mode = (enum resize_mode)mode;
  st->coord = COORD_ASYMMETRIC;
  st->nearest = NEAREST_SIMPLE;
  st->aspect = ASPECT_STRETCH;
  st->cubic_a = -0.75;
  st->n_axes = -1;
  return SC_OK;
}

/* Reads the `scales` attribute of Upsample-7 into st. */
static sc_status parse_upsample_scales(const struct sc_node *node,
                                       struct resize_state *st,
                                       struct sc_error *err)
{
  int64_t n, i;
  const float *scales;
  sc_status s = sc_node_attr_floats(node, "scales", &n, &scales, err);
  if (s)
    return s;
  if (n < 1 || n > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'scales' is missing or has %lld entries",
                        (long long)n);
  for (i = 0; i < n; i++)
    st->attr_scales[i] = scales[i];
  st->n_attr_scales = (int)n;
  return SC_OK;
}

/* Prepare of every Resize / Upsample row: allocates node->state (freed by
 * resize_release) and validates attributes and dtypes. */
static sc_status resize_prepare(struct sc_node *node, struct sc_error *err)
{
  struct resize_state *st;
  int upsample = strcmp(node->op_type, "Upsample") == 0;
  sc_status s;

  if (upsample)
    s = sc_check_arity(node, node->opset >= 9 ? 2 : 1, node->opset >= 9 ? 2 : 1,
                       1, 1, err);
  else
    s = sc_check_arity(node, node->opset >= 11 ? 1 : 2,
                       node->opset >= 11 ? 4 : 2, 1, 1, err);
  if (s)
    return s;
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "Resize state");
  node->state = st;
  st->roi_input = st->scales_input = st->sizes_input = -1;
  st->n_attr_scales = -1;
  if (upsample || node->opset < 11) {
    s = resize_parse_legacy(node, st, err);
    if (!s && upsample && node->opset < 9)
      s = parse_upsample_scales(node, st, err);
    else
      st->scales_input = 1;
  } else {
    s = resize_parse_attrs(node, st, err);
    st->roi_input = 1;
    st->scales_input = 2;
    st->sizes_input = 3;
  }
  if (!s)
    s = resize_check_data(node, st, err);
  if (!s)
    s = resize_check_aux_dtypes(node, st, err);
  return s;
}

static void resize_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

/* ===================================================================== */
/* Resize: output geometry                                                */
/* ===================================================================== */

struct resize_geometry {
  int rank;
  int64_t in[SC_MAX_RANK], out[SC_MAX_RANK];
  double scale[SC_MAX_RANK];          /* used by the coordinate formulas */
  double length_resized[SC_MAX_RANK]; /* length_resized of the formulas */
  double roi_start[SC_MAX_RANK], roi_end[SC_MAX_RANK];
};

/* The axes that roi / scales / sizes refer to, normalized and checked for
 * repeats, in *axes; their count in *n. */
static sc_status resize_axes(const struct sc_node *node,
                             const struct resize_state *st, int rank, int *axes,
                             int *n, struct sc_error *err)
{
  int i, j;
  if (st->n_axes < 0) {
    for (i = 0; i < rank; i++)
      axes[i] = i;
    *n = rank;
    return SC_OK;
  }
  for (i = 0; i < st->n_axes; i++) {
    sc_status s = sc_normalize_axis(node, st->axes[i], rank, 0, &axes[i], err);
    if (s)
      return s;
    for (j = 0; j < i; j++)
      if (axes[j] == axes[i])
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "axis %d is repeated in attribute 'axes'", axes[i]);
  }
  *n = st->n_axes;
  return SC_OK;
}

/* A present optional input with at least one element, else NULL (Resize-11
 * passes empty tensors for unused roi / scales). */
static const struct sc_tensor *nonempty_input(const struct sc_node *node,
                                              int slot)
{
  const struct sc_tensor *t = input_at(node, slot);
  return t && t->n_elements > 0 ? t : NULL;
}

/* Output dims and per-axis scales from a scale per resized axis. */
static sc_status geometry_from_scales(const struct sc_node *node,
                                      const double *scales, const int *axes,
                                      int n_axes, struct resize_geometry *g,
                                      struct sc_error *err)
{
  int i;
  for (i = 0; i < n_axes; i++) {
    int d = axes[i];
    double s = scales[i], len = s * (double)g->in[d];
    int upsample = strcmp(node->op_type, "Upsample") == 0;
    if (!isfinite(s) || s <= 0 || (upsample && s < 1))
      return sc_node_fail(
          node, err, SC_ERR_FORMAT, "scale %g for axis %d is not %s", s, d,
          upsample ? "a finite number >= 1" : "a finite number > 0");
    if (len >= RESIZE_MAX_DIM)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "scale %g makes axis %d of length %lld too large", s,
                          d, (long long)g->in[d]);
    g->scale[d] = s;
    g->out[d] = (int64_t)floor(len);
    g->length_resized[d] = len;
  }
  return SC_OK;
}

/* Output dims and per-axis scales from requested sizes, honouring
 * keep_aspect_ratio_policy. */
static sc_status
geometry_from_sizes(const struct sc_node *node, const struct resize_state *st,
                    const struct sc_tensor *sizes, const int *axes, int n_axes,
                    struct resize_geometry *g, struct sc_error *err)
{
  double common = 0;
  int i;
  for (i = 0; i < n_axes; i++) {
    int d = axes[i];
    int64_t size = ((const int64_t *)sizes->data)[i];
    if (size < 0 || (double)size >= RESIZE_MAX_DIM)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "size %lld for axis %d is out of range",
                          (long long)size, d);
    if (g->in[d] == 0 && size != 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "axis %d is empty and cannot be resized to %lld", d,
                          (long long)size);
    g->out[d] = size;
    g->scale[d] = g->in[d] ? (double)size / (double)g->in[d] : 1.0;
    g->length_resized[d] = (double)size;
    if (i == 0 || (st->aspect == ASPECT_NOT_LARGER && g->scale[d] < common) ||
        (st->aspect == ASPECT_NOT_SMALLER && g->scale[d] > common))
      common = g->scale[d];
  }
  if (st->aspect == ASPECT_STRETCH)
    return SC_OK;
  for (i = 0; i < n_axes; i++) {
    int d = axes[i];
    double len = common * (double)g->in[d];
    if (common <= 0 || len >= RESIZE_MAX_DIM)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "keep_aspect_ratio_policy gives scale %g, which "
                          "cannot resize axis %d",
                          common, d);
    g->scale[d] = common;
    g->out[d] = (int64_t)(len + 0.5); /* round half up */
    g->length_resized[d] = len;
  }
  return SC_OK;
}

/* Reads roi (tf_crop_and_resize only) into g. The roi tensor's size was
 * checked by resize_geometry; its data must be present. */
static void geometry_read_roi(const struct sc_tensor *roi, const int *axes,
                              int n_axes, struct resize_geometry *g)
{
  int i;
  for (i = 0; i < n_axes; i++) {
    g->roi_start[axes[i]] = sc_dtype_load(roi->dtype, roi->data, i);
    g->roi_end[axes[i]] = sc_dtype_load(roi->dtype, roi->data, n_axes + i);
  }
}

/* Computes the output geometry of a Resize / Upsample node from its input
 * shapes and the values of scales / sizes (and roi when `need_roi`).
 * *known = 0 (and SC_OK) when a needed value is not known yet (static
 * shape inference). Fails naming the node on malformed inputs. */
static sc_status resize_geometry(const struct sc_node *node,
                                 const struct resize_state *st, int need_roi,
                                 struct resize_geometry *g, int *known,
                                 struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *scales = NULL, *sizes = NULL;
  const struct sc_tensor *roi = NULL;
  double scale_values[SC_MAX_RANK];
  int axes[SC_MAX_RANK], n_axes = 0, d, i;
  sc_status s;

  *known = 0;
  if (x->rank < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input 0 must have rank >= 1, not %d", x->rank);
  memset(g, 0, sizeof *g);
  g->rank = x->rank;
  for (d = 0; d < x->rank; d++) {
    g->in[d] = g->out[d] = x->dims[d];
    g->scale[d] = 1.0;
    g->length_resized[d] = (double)x->dims[d];
    g->roi_end[d] = 1.0;
  }
  s = resize_axes(node, st, x->rank, axes, &n_axes, err);
  if (s)
    return s;

  if (st->n_attr_scales < 0) {
    scales = nonempty_input(node, st->scales_input);
    sizes = nonempty_input(node, st->sizes_input);
    if (scales && sizes)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "both 'scales' and 'sizes' are given");
    if (!scales && !sizes)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "one of 'scales' and 'sizes' must be given");
    if ((scales ? scales : sizes)->n_elements != n_axes)
      return sc_node_fail(
          node, err, SC_ERR_FORMAT, "'%s' has %lld values for %d axes",
          scales ? "scales" : "sizes",
          (long long)(scales ? scales : sizes)->n_elements, n_axes);
  } else if (st->n_attr_scales != n_axes)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "attribute 'scales' has %d values for rank %d",
                        st->n_attr_scales, n_axes);
  if (st->coord == COORD_TF_CROP_AND_RESIZE) {
    roi = nonempty_input(node, st->roi_input);
    if (!roi)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "tf_crop_and_resize needs the input 'roi'");
    if (roi->n_elements != 2 * n_axes)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "'roi' has %lld values, expected %d",
                          (long long)roi->n_elements, 2 * n_axes);
  }

  if ((scales && !scales->data) || (sizes && !sizes->data) ||
      (need_roi && roi && !roi->data))
    return SC_OK; /* values unknown before running */
  if (sizes)
    s = geometry_from_sizes(node, st, sizes, axes, n_axes, g, err);
  else {
    for (i = 0; i < n_axes; i++)
      scale_values[i] = scales ? sc_dtype_load(scales->dtype, scales->data, i)
                               : st->attr_scales[i];
    s = geometry_from_scales(node, scale_values, axes, n_axes, g, err);
  }
  if (s)
    return s;
  if (need_roi && roi)
    geometry_read_roi(roi, axes, n_axes, g);
  *known = 1;
  return SC_OK;
}

static sc_status resize_reshape(struct sc_node *node, struct sc_error *err)
{
  struct resize_geometry g;
  int known;
  sc_status s = resize_geometry(node, node->state, 0, &g, &known, err);
  if (s)
    return s;
  if (!known)
    return sc_node_defer(node);
  return set_output_shape(node, 0, g.rank, g.out, err);
}

/* ===================================================================== */
/* Resize: per-axis interpolation tables                                  */
/* ===================================================================== */

/* Output coordinate o of axis d mapped into the input (may be outside). */
static double resize_coordinate(const struct resize_state *st,
                                const struct resize_geometry *g, int d,
                                int64_t o)
{
  double x = (double)o, scale = g->scale[d];
  double in = (double)g->in[d], len = g->length_resized[d];
  switch (st->coord) {
  case COORD_ASYMMETRIC:
    return x / scale;
  case COORD_PYTORCH_HALF_PIXEL:
    return len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  case COORD_TF_HALF_PIXEL_FOR_NN:
    return (x + 0.5) / scale;
  case COORD_ALIGN_CORNERS:
    return len == 1 ? 0.0 : x * (in - 1) / (len - 1);
  case COORD_TF_CROP_AND_RESIZE: {
    double start = g->roi_start[d], end = g->roi_end[d];
    if (len > 1)
      return start * (in - 1) + x * (end - start) * (in - 1) / (len - 1);
    return 0.5 * (start + end) * (in - 1);
  }
  case COORD_HALF_PIXEL_SYMMETRIC: {
    double adjustment = (double)g->out[d] / len;
    double offset = in / 2 * (1 - adjustment);
    return offset + (x + 0.5) / scale - 0.5;
  }
  case COORD_HALF_PIXEL:
  default:
    return (x + 0.5) / scale - 0.5;
  }
}

/* Index v clamped to [0, n - 1] (edge padding); NaN gives 0. */
static int64_t clamp_index(double v, int64_t n)
{
  if (!(v >= 0))
    return 0;
  if (v >= (double)(n - 1))
    return n - 1;
  return (int64_t)v;
}

static double nearest_round(enum resize_nearest mode, double x, int downsample)
{
  double f = floor(x);
  switch (mode) {
  case NEAREST_ROUND_PREFER_FLOOR:
    return x - f <= 0.5 ? f : f + 1;
  case NEAREST_ROUND_PREFER_CEIL:
    return x - f < 0.5 ? f : f + 1;
  case NEAREST_FLOOR:
    return f;
  case NEAREST_CEIL:
    return ceil(x);
  case NEAREST_SIMPLE:
  default:
    return downsample ? ceil(x) : trunc(x);
  }
}

static double cubic_kernel(double a, double x)
{
  x = fabs(x);
  if (x <= 1)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/* Interpolation along one axis: output coordinate o reads n_taps input
 * indices index[o * n_taps + k] (clamped) with weights weight[...].
 * outside[o] marks tf_crop_and_resize coordinates outside the input. */
struct resize_axis {
  int64_t n_out, n_in;
  int64_t n_taps;
  int64_t *index;
  double *weight;
  uint8_t *outside; /* NULL when no coordinate is outside */
  int identity;     /* output o is input o for every o */
};

static void resize_axis_free(struct resize_axis *ax)
{
  free(ax->index);
  free(ax->weight);
  free(ax->outside);
  memset(ax, 0, sizeof *ax);
}

/* First tap offset (relative to the sample left of the coordinate) and tap
 * count for the mode and scale. */
static void resize_taps(const struct resize_state *st, double scale,
                        int64_t *start, int64_t *n_taps)
{
  double s = scale < 1 ? scale : 1;
  if (st->mode == RESIZE_NEAREST) {
    *start = 0;
    *n_taps = 1;
  } else if (!st->antialias) {
    *start = st->mode == RESIZE_LINEAR ? 0 : -1;
    *n_taps = st->mode == RESIZE_LINEAR ? 2 : 4;
  } else {
    *start = (int64_t)floor((st->mode == RESIZE_LINEAR ? -1 : -2) / s) + 1;
    *n_taps = 2 - 2 * *start;
  }
}

/* Weights of the taps of one output coordinate whose original coordinate
 * is base + ratio (ratio in (0, 1]); first tap at base + start. */
static void resize_weights(const struct resize_state *st, double scale,
                           double ratio, int64_t start, int64_t n_taps,
                           double *w)
{
  double s = scale < 1 ? scale : 1, sum = 0;
  int64_t k;
  if (st->mode == RESIZE_LINEAR && !st->antialias) {
    w[0] = 1 - ratio;
    w[1] = ratio;
    return;
  }
  if (st->mode == RESIZE_CUBIC && !st->antialias) {
    for (k = 0; k < 4; k++)
      w[k] = cubic_kernel(st->cubic_a, (double)(k - 1) - ratio);
    return;
  }
  for (k = 0; k < n_taps; k++) {
    double arg = ((double)(start + k) - ratio) * s;
    if (st->mode == RESIZE_LINEAR)
      w[k] = fabs(arg) < 1 ? 1 - fabs(arg) : 0;
    else
      w[k] = cubic_kernel(st->cubic_a, arg);
    sum += w[k];
  }
  if (sum != 0)
    for (k = 0; k < n_taps; k++)
      w[k] /= sum;
}

/* Fills the taps of output coordinate o of axis d. */
static void resize_axis_entry(const struct resize_state *st,
                              const struct resize_geometry *g, int d,
                              int64_t start, struct resize_axis *ax, int64_t o)
{
  double x = resize_coordinate(st, g, d, o);
  int64_t *index = ax->index + o * ax->n_taps;
  double *w = ax->weight + o * ax->n_taps;
  double base, ratio, sum = 0;
  int64_t k;

  if (ax->outside && (!(x >= 0) || x > (double)(g->in[d] - 1)))
    ax->outside[o] = 1;
  if (st->mode == RESIZE_NEAREST) {
    index[0] =
        clamp_index(nearest_round(st->nearest, x, g->scale[d] < 1), g->in[d]);
    w[0] = 1;
    return;
  }
  if (!isfinite(x))
    x = 0; /* only for tf_crop_and_resize with a non-finite roi: outside */
  base = floor(x);
  ratio = x - base;
  if (ratio == 0) { /* prefer the sample on the left: ratio in (0, 1] */
    ratio = 1;
    base -= 1;
  }
  resize_weights(st, g->scale[d], ratio, start, ax->n_taps, w);
  for (k = 0; k < ax->n_taps; k++) {
    double at = base + (double)(start + k);
    index[k] = clamp_index(at, g->in[d]);
    if (st->exclude_outside && (at < 0 || at > (double)(g->in[d] - 1)))
      w[k] = 0;
    sum += w[k];
  }
  if (st->exclude_outside && sum != 0)
    for (k = 0; k < ax->n_taps; k++)
      w[k] /= sum;
}

/* 1 when output coordinate o takes input o unchanged for every o. */
static int resize_axis_is_identity(const struct resize_axis *ax)
{
  int64_t o, k;
  if (ax->n_out != ax->n_in || ax->outside)
    return 0;
  for (o = 0; o < ax->n_out; o++) {
    double on_o = 0;
    for (k = 0; k < ax->n_taps; k++) {
      int64_t i = o * ax->n_taps + k;
      if (ax->index[i] == o)
        on_o += ax->weight[i];
      else if (ax->weight[i] != 0)
        return 0;
    }
    if (on_o != 1)
      return 0;
  }
  return 1;
}

/* Builds the table of axis d. The caller frees it with resize_axis_free
 * (also after a failure). */
static sc_status resize_axis_build(const struct sc_node *node,
                                   const struct resize_state *st,
                                   const struct resize_geometry *g, int d,
                                   struct resize_axis *ax, struct sc_error *err)
{
  int64_t start, o, n_entries;
  sc_status s;

  memset(ax, 0, sizeof *ax);
  ax->n_out = g->out[d];
  ax->n_in = g->in[d];
  resize_taps(st, g->scale[d], &start, &ax->n_taps);
  s = sc_shape_count(2, (int64_t[2]){ax->n_out, ax->n_taps}, sizeof(double),
                     &n_entries, node->name, err);
  if (s)
    return s;
  ax->index = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *ax->index);
  ax->weight = malloc((size_t)(n_entries ? n_entries : 1) * sizeof *ax->weight);
  if (st->coord == COORD_TF_CROP_AND_RESIZE)
    ax->outside = calloc((size_t)(ax->n_out ? ax->n_out : 1), 1);
  if (!ax->index || !ax->weight ||
      (st->coord == COORD_TF_CROP_AND_RESIZE && !ax->outside))
    return sc_fail_nomem(err, "Resize tables");
  for (o = 0; o < ax->n_out; o++)
    resize_axis_entry(st, g, d, start, ax, o);
  if (ax->outside) {
    for (o = 0; o < ax->n_out && !ax->outside[o]; o++)
      ;
    if (o == ax->n_out) {
      free(ax->outside);
      ax->outside = NULL;
    }
  }
  ax->identity = resize_axis_is_identity(ax);
  return SC_OK;
}

static void resize_axes_free(struct resize_axis *axes, int rank)
{
  int d;
  for (d = 0; d < rank; d++)
    resize_axis_free(&axes[d]);
}

/* ===================================================================== */
/* Resize: nearest (a gather, any dtype)                                  */
/* ===================================================================== */

struct nearest_job {
  const struct resize_axis *axes;
  int rank;
  const uint8_t *src;
  uint8_t *dst;
  size_t esize;
  int64_t in_stride[SC_MAX_RANK];
  int64_t n_last;               /* output length of the last axis */
  const uint8_t *extrapolation; /* one element of the output's dtype */
  int copy_rows; /* fast path: reuse the previous row when it matches */
};

static void copy_element(uint8_t *dst, const uint8_t *src, size_t esize)
{
  switch (esize) {
  case 1:
    *dst = *src;
    break;
  case 2:
    memcpy(dst, src, 2);
    break;
  case 4:
    memcpy(dst, src, 4);
    break;
  default:
    memcpy(dst, src, 8);
    break;
  }
}

/* Output rows [begin, end): one row = all of the last axis. */
static void nearest_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct nearest_job *job = ctx;
  const struct resize_axis *last = &job->axes[job->rank - 1];
  size_t esize = job->esize;
  int64_t r, prev_offset = -1;
  int prev_outside = -1;

  for (r = begin; r < end; r++) {
    uint8_t *row = job->dst + (size_t)(r * job->n_last) * esize;
    int64_t rem = r, offset = 0, x;
    int outside = 0, d;
    for (d = job->rank - 2; d >= 0; d--) {
      const struct resize_axis *ax = &job->axes[d];
      int64_t c = rem % ax->n_out;
      rem /= ax->n_out;
      offset += ax->index[c] * job->in_stride[d];
      if (ax->outside && ax->outside[c])
        outside = 1;
    }
    if (job->copy_rows && r > begin && offset == prev_offset &&
        outside == prev_outside) {
      memcpy(row, row - (size_t)job->n_last * esize,
             (size_t)job->n_last * esize);
      continue;
    }
    prev_offset = offset;
    prev_outside = outside;
    for (x = 0; x < job->n_last; x++) {
      const uint8_t *from =
          outside || (last->outside && last->outside[x])
              ? job->extrapolation
              : job->src + (size_t)(offset + last->index[x]) * esize;
      copy_element(row + (size_t)x * esize, from, esize);
    }
  }
}

/* Nearest resizing. Fails only on allocation. */
static sc_status resize_nearest(const struct sc_node *node,
                                const struct resize_state *st,
                                const struct resize_axis *axes,
                                struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  struct nearest_job job;
  void *extrapolation = malloc(sizeof(double)); /* widest element */
  int d;

  if (!extrapolation)
    return sc_fail_nomem(err, "Resize extrapolation value");
  memset(&job, 0, sizeof job);
  job.axes = axes;
  job.rank = x->rank;
  job.src = x->data;
  job.dst = y->data;
  job.esize = sc_dtype_size(x->dtype);
  job.in_stride[x->rank - 1] = 1;
  for (d = x->rank - 2; d >= 0; d--)
    job.in_stride[d] = job.in_stride[d + 1] * x->dims[d + 1];
  job.n_last = y->dims[y->rank - 1];
  sc_dtype_store(y->dtype, extrapolation, 0, st->extrapolation);
  job.extrapolation = extrapolation;
  job.copy_rows = !resize_reference_only;
  sc_parallel_for(sc_node_threads(node), y->n_elements / job.n_last,
                  1 + 4096 / (job.n_last + 1), nearest_rows, &job);
  free(extrapolation);
  return SC_OK;
}

/* ===================================================================== */
/* Resize: linear / cubic, reference path (separable, double)             */
/* ===================================================================== */

struct pass_job {
  const struct resize_axis *ax;
  const double *src;
  double *dst;
  int64_t inner; /* elements after the axis */
};

/* Items [begin, end) of one pass: item = (outer, o), writing `inner`
 * consecutive values. */
static void pass_items(void *ctx, int64_t begin, int64_t end)
{
  const struct pass_job *job = ctx;
  const struct resize_axis *ax = job->ax;
  int64_t item, j, k, inner = job->inner;
  for (item = begin; item < end; item++) {
    int64_t outer = item / ax->n_out, o = item % ax->n_out;
    const double *src = job->src + outer * ax->n_in * inner;
    double *dst = job->dst + item * inner;
    const int64_t *index = ax->index + o * ax->n_taps;
    const double *w = ax->weight + o * ax->n_taps;
    for (j = 0; j < inner; j++)
      dst[j] = 0;
    for (k = 0; k < ax->n_taps; k++) {
      const double *row = src + index[k] * inner;
      double wk = w[k];
      if (wk == 0)
        continue;
      for (j = 0; j < inner; j++)
        dst[j] += wk * row[j];
    }
  }
}

/* Sets output elements whose coordinate is outside the input on any axis
 * (tf_crop_and_resize) to the extrapolation value. */
static void resize_extrapolate(const struct sc_node *node,
                               const struct resize_state *st,
                               const struct resize_axis *axes)
{
  struct sc_tensor *y = node->out[0];
  int64_t i;
  int d, any = 0;
  for (d = 0; d < y->rank; d++)
    any |= axes[d].outside != NULL;
  if (!any)
    return;
  for (i = 0; i < y->n_elements; i++) {
    int64_t rem = i;
    int outside = 0;
    for (d = y->rank - 1; d >= 0; d--) {
      int64_t c = rem % y->dims[d];
      rem /= y->dims[d];
      if (axes[d].outside && axes[d].outside[c])
        outside = 1;
    }
    if (outside)
      sc_dtype_store(y->dtype, y->data, i, st->extrapolation);
  }
}

/* Linear / cubic resizing in double, one axis at a time from the last one
 * (the order of the ONNX reference). Fails only on allocation. */
static sc_status resize_separable(const struct sc_node *node,
                                  const struct resize_state *st,
                                  const struct resize_axis *axes,
                                  struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  int64_t dims[SC_MAX_RANK], largest = x->n_elements, i;
  double *cur = NULL, *next = NULL;
  int d;
  sc_status s = SC_OK;

  memcpy(dims, x->dims, sizeof dims);
  for (d = x->rank - 1; d >= 0; d--) { /* largest intermediate */
    int64_t n;
    if (axes[d].identity)
      continue;
    dims[d] = axes[d].n_out;
    s = sc_shape_count(x->rank, dims, sizeof(double), &n, node->name, err);
    if (s)
      return s;
    if (n > largest)
      largest = n;
  }
  cur = malloc((size_t)(largest ? largest : 1) * sizeof *cur);
  next = malloc((size_t)(largest ? largest : 1) * sizeof *next);
  if (!cur || !next) {
    s = sc_fail_nomem(err, "Resize buffers");
    goto cleanup;
  }
  for (i = 0; i < x->n_elements; i++)
    cur[i] = sc_dtype_load(x->dtype, x->data, i);
  memcpy(dims, x->dims, sizeof dims);
  for (d = x->rank - 1; d >= 0; d--) {
    struct pass_job job;
    int64_t outer = 1, inner = 1;
    int e;
    double *swap;
    if (axes[d].identity)
      continue;
    for (e = 0; e < d; e++)
      outer *= dims[e];
    for (e = d + 1; e < x->rank; e++)
      inner *= dims[e];
    job.ax = &axes[d];
    job.src = cur;
    job.dst = next;
    job.inner = inner;
    sc_parallel_for(sc_node_threads(node), outer * axes[d].n_out,
                    1 + 4096 / (inner * axes[d].n_taps + 1), pass_items, &job);
    dims[d] = axes[d].n_out;
    swap = cur;
    cur = next;
    next = swap;
  }
  for (i = 0; i < y->n_elements; i++)
    sc_dtype_store(y->dtype, y->data, i, cur[i]);
  resize_extrapolate(node, st, axes);

cleanup:
  free(cur);
  free(next);
  return s;
}

/* ===================================================================== */
/* Resize: float linear fast path over the two innermost axes             */
/* ===================================================================== */

struct bilinear_job {
  const float *src;
  float *dst;
  int64_t in_h, in_w, out_h, out_w;
  const int64_t *iy, *ix; /* 2 taps per output coordinate */
  const float *wy, *wx;
  const uint8_t *outside_y, *outside_x; /* may be NULL */
  float extrapolation;
};

/* Input row `key` (plane * in_h + y) interpolated along x into out_w
 * values. */
static void bilinear_hrow(const struct bilinear_job *job, int64_t key, float *h)
{
  const float *src = job->src + key * job->in_w;
  int64_t ox;
  for (ox = 0; ox < job->out_w; ox++)
    h[ox] = job->wx[2 * ox] * src[job->ix[2 * ox]] +
            job->wx[2 * ox + 1] * src[job->ix[2 * ox + 1]];
}

/* Two horizontally interpolated input rows, reused by consecutive output
 * rows (each input row is interpolated once per range, not once per
 * output row that reads it). */
struct row_cache {
  float *row[2];
  int64_t key[2];
};

/* The cached row for `key`, computing it into the slot not holding
 * `keep`. */
static const float *row_cache_get(const struct bilinear_job *job,
                                  struct row_cache *c, int64_t key,
                                  int64_t keep)
{
  int s;
  for (s = 0; s < 2; s++)
    if (c->key[s] == key)
      return c->row[s];
  s = c->key[0] == keep ? 1 : 0;
  bilinear_hrow(job, key, c->row[s]);
  c->key[s] = key;
  return c->row[s];
}

/* Output rows [begin, end) over all planes: row = (plane, oy). Each value
 * is wy0 * (wx0 a + wx1 b) + wy1 * (wx0 c + wx1 d) evaluated in this order
 * whether the horizontal part comes from the row cache or not (the build
 * uses -ffp-contract=off), so results do not depend on how rows are split
 * over threads. Without memory for the cache it computes directly. */
static void bilinear_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct bilinear_job *job = ctx;
  struct row_cache cache;
  float *block = malloc((size_t)(2 * job->out_w) * sizeof *block);
  int64_t r, ox;
  cache.row[0] = block;
  cache.row[1] = block ? block + job->out_w : NULL;
  cache.key[0] = cache.key[1] = -1;
  for (r = begin; r < end; r++) {
    int64_t plane = r / job->out_h, oy = r % job->out_h;
    int64_t k0 = plane * job->in_h + job->iy[2 * oy];
    int64_t k1 = plane * job->in_h + job->iy[2 * oy + 1];
    float wy0 = job->wy[2 * oy], wy1 = job->wy[2 * oy + 1];
    float *dst = job->dst + r * job->out_w;
    if (job->outside_y && job->outside_y[oy]) {
      for (ox = 0; ox < job->out_w; ox++)
        dst[ox] = job->extrapolation;
      continue;
    }
    if (block) {
      const float *h0 = row_cache_get(job, &cache, k0, k1);
      const float *h1 = row_cache_get(job, &cache, k1, k0);
      for (ox = 0; ox < job->out_w; ox++)
        dst[ox] = wy0 * h0[ox] + wy1 * h1[ox];
    } else {
      const float *r0 = job->src + k0 * job->in_w;
      const float *r1 = job->src + k1 * job->in_w;
      for (ox = 0; ox < job->out_w; ox++) {
        int64_t x0 = job->ix[2 * ox], x1 = job->ix[2 * ox + 1];
        float wx0 = job->wx[2 * ox], wx1 = job->wx[2 * ox + 1];
        dst[ox] = wy0 * (wx0 * r0[x0] + wx1 * r0[x1]) +
                  wy1 * (wx0 * r1[x0] + wx1 * r1[x1]);
      }
    }
    if (job->outside_x)
      for (ox = 0; ox < job->out_w; ox++)
        if (job->outside_x[ox])
          dst[ox] = job->extrapolation;
  }
  free(block);
}

/* 1 when the fast linear path applies: float data, 2-tap linear tables,
 * only the two innermost axes resized. */
static int bilinear_applies(const struct sc_node *node,
                            const struct resize_state *st,
                            const struct resize_axis *axes)
{
  const struct sc_tensor *x = node->in[0];
  int d;
  if (resize_reference_only || x->dtype != SC_DTYPE_FLOAT || x->rank < 2 ||
      st->mode != RESIZE_LINEAR || axes[x->rank - 1].n_taps != 2 ||
      axes[x->rank - 2].n_taps != 2)
    return 0;
  for (d = 0; d < x->rank - 2; d++)
    if (!axes[d].identity)
      return 0;
  return 1;
}

static sc_status resize_bilinear(const struct sc_node *node,
                                 const struct resize_state *st,
                                 const struct resize_axis *axes,
                                 struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  const struct resize_axis *ay = &axes[x->rank - 2], *ax = &axes[x->rank - 1];
  struct bilinear_job job;
  float *weights;
  int64_t i;

  weights = malloc((size_t)(2 * (ay->n_out + ax->n_out)) * sizeof *weights);
  if (!weights)
    return sc_fail_nomem(err, "Resize weights");
  for (i = 0; i < 2 * ay->n_out; i++)
    weights[i] = (float)ay->weight[i];
  for (i = 0; i < 2 * ax->n_out; i++)
    weights[2 * ay->n_out + i] = (float)ax->weight[i];
  job.src = x->data;
  job.dst = y->data;
  job.in_h = ay->n_in;
  job.in_w = ax->n_in;
  job.out_h = ay->n_out;
  job.out_w = ax->n_out;
  job.iy = ay->index;
  job.ix = ax->index;
  job.wy = weights;
  job.wx = weights + 2 * ay->n_out;
  job.outside_y = ay->outside;
  job.outside_x = ax->outside;
  job.extrapolation = (float)st->extrapolation;
  sc_parallel_for(sc_node_threads(node), y->n_elements / job.out_w,
                  1 + 4096 / (job.out_w + 1), bilinear_rows, &job);
  free(weights);
  return SC_OK;
}

/* Run of every Resize / Upsample row. Fails only on allocation. */
static sc_status resize_run(struct sc_node *node, struct sc_error *err)
{
  const struct resize_state *st = node->state;
  struct resize_axis axes[SC_MAX_RANK];
  struct resize_geometry g;
  int known, d;
  sc_status s;

  memset(axes, 0, sizeof axes);
  if (node->out[0]->n_elements == 0)
    return SC_OK;
  s = resize_geometry(node, st, 1, &g, &known, err);
  if (!s && !known) /* float16 scales under SC_OP_F16_VIA_FLOAT */
    s = sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                     "the values of 'scales' are not readable (float16 "
                     "scales are not supported)");
  for (d = 0; !s && d < g.rank; d++)
    s = resize_axis_build(node, st, &g, d, &axes[d], err);
  if (!s) {
    if (st->mode == RESIZE_NEAREST)
      s = resize_nearest(node, st, axes, err);
    else if (bilinear_applies(node, st, axes))
      s = resize_bilinear(node, st, axes, err);
    else
      s = resize_separable(node, st, axes, err);
  }
  resize_axes_free(axes, SC_MAX_RANK);
  return s;
}

/* ===================================================================== */
/* GridSample                                                             */
/* ===================================================================== */

enum grid_mode { GRID_BILINEAR, GRID_NEAREST, GRID_BICUBIC };
enum grid_padding { PAD_ZEROS, PAD_BORDER, PAD_REFLECTION };

struct grid_state {
  enum grid_mode mode;
  enum grid_padding padding;
  int align_corners;
};

static sc_status gridsample_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
  static const struct name_value modes[] = {{"bilinear", GRID_BILINEAR},
                                            {"nearest", GRID_NEAREST},
                                            {"bicubic", GRID_BICUBIC}};
  static const struct name_value paddings[] = {{"zeros", PAD_ZEROS},
                                               {"border", PAD_BORDER},
                                               {"reflection", PAD_REFLECTION}};
  struct grid_state *st;
  int mode = 0, padding = 0;
  int64_t align;
  sc_status s = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!s)
    s = sc_check_dtype(node, 0, types, 2, err);
  if (!s)
    s = sc_check_dtype(node, 1, types, 2, err);
  if (!s)
    s = attr_choice(node, "mode", "bilinear", modes, 3, &mode, err);
  if (!s)
    s = attr_choice(node, "padding_mode", "zeros", paddings, 3, &padding, err);
  if (!s)
    s = sc_node_attr_int(node, "align_corners", 0, &align, err);
  if (s)
    return s;
  if (align != 0 && align != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "align_corners must be 0 or 1, not %lld",
                        (long long)align);
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "GridSample state");
  st->mode = (enum grid_mode)mode;
  st->padding = (enum grid_padding)padding;
  st->align_corners = (int)align;
  node->state = st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static void state_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

static sc_status gridsample_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0], *grid = node->in[1];
  int64_t dims[4];
  if (x->rank != 4 || grid->rank != 4 || grid->dims[3] != 2 ||
      grid->dims[0] != x->dims[0]) {
    char sx[128], sg[128];
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "expects X [N,C,H,W] and grid [N,H_out,W_out,2], got "
                        "%s and %s",
                        sc_shape_format(x->rank, x->dims, sx, sizeof sx),
                        sc_shape_format(grid->rank, grid->dims, sg, sizeof sg));
  }
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  dims[2] = grid->dims[1];
  dims[3] = grid->dims[2];
  return set_output_shape(node, 0, 4, dims, err);
}

/* Reflects x into the span [twice_low / 2, twice_high / 2] (PyTorch's
 * reflect_coordinates). */
static double grid_reflect(double x, double twice_low, double twice_high)
{
  double lo = twice_low / 2, span = (twice_high - twice_low) / 2, extra;
  if (twice_low == twice_high)
    return 0;
  x = fabs(x - lo);
  extra = fmod(x, span);
  return fmod(floor(x / span), 2) == 0 ? extra + lo : span - extra + lo;
}

/* Applies border / reflection padding to a coordinate along an axis of
 * `size` samples; zeros padding leaves it unchanged. */
static double grid_pad(const struct grid_state *st, double x, int64_t size)
{
  double hi = (double)(size - 1);
  if (st->padding == PAD_ZEROS)
    return x;
  if (st->padding == PAD_REFLECTION) {
    if (st->align_corners)
      x = grid_reflect(x, 0, 2 * hi);
    else
      x = grid_reflect(x, -1, 2 * (double)size - 1);
  }
  return x < 0 ? 0 : (x > hi ? hi : x); /* NaN stays NaN */
}

/* Channels [c0, c0 + n) of one output pixel accumulate in a stack buffer. */
#define GRID_CHUNK 64

struct grid_job {
  const struct sc_node *node;
  const struct grid_state *st;
  int64_t n_channels, in_h, in_w, out_h, out_w;
};

struct grid_channels {
  int64_t n, c0, count; /* batch, first channel, channel count */
};

static double grid_load(enum sc_dtype t, const void *data, int64_t i)
{
  return t == SC_DTYPE_FLOAT ? ((const float *)data)[i]
                             : ((const double *)data)[i];
}

/* Adds w * X[n, c, yy, xx] for the channels of `ch` into acc when (yy, xx)
 * (whole numbers) lies in the input: zeros outside. */
static void grid_tap(const struct grid_job *job, const struct grid_channels *ch,
                     double yy, double xx, double w, double *acc)
{
  const struct sc_tensor *x = job->node->in[0];
  int64_t plane = job->in_h * job->in_w, c, at;
  if (w == 0 ||
      !(yy >= 0 && yy < (double)job->in_h && xx >= 0 && xx < (double)job->in_w))
    return;
  at = (ch->n * job->n_channels + ch->c0) * plane + (int64_t)yy * job->in_w +
       (int64_t)xx;
  for (c = 0; c < ch->count; c++)
    acc[c] += w * grid_load(x->dtype, x->data, at + c * plane);
}

static void cubic_coeffs(double t, double *w)
{
  const double a = -0.75;
  w[0] = cubic_kernel(a, t + 1);
  w[1] = cubic_kernel(a, t);
  w[2] = cubic_kernel(a, 1 - t);
  w[3] = cubic_kernel(a, 2 - t);
}

/* Samples the channels of `ch` at input pixel coordinates (iy, ix) into
 * acc, with PyTorch's grid_sample semantics: bilinear and nearest pad the
 * coordinate, bicubic pads each of its 16 taps. */
static void grid_sample_point(const struct grid_job *job,
                              const struct grid_channels *ch, double iy,
                              double ix, double *acc)
{
  const struct grid_state *st = job->st;
  if (st->mode == GRID_BICUBIC) {
    double y0 = floor(iy), x0 = floor(ix), wy[4], wx[4];
    int i, j;
    if (!isfinite(y0) || !isfinite(x0))
      return;
    cubic_coeffs(iy - y0, wy);
    cubic_coeffs(ix - x0, wx);
    for (i = 0; i < 4; i++)
      for (j = 0; j < 4; j++)
        grid_tap(job, ch, grid_pad(st, y0 - 1 + i, job->in_h),
                 grid_pad(st, x0 - 1 + j, job->in_w), wy[i] * wx[j], acc);
    return;
  }
  iy = grid_pad(st, iy, job->in_h);
  ix = grid_pad(st, ix, job->in_w);
  if (st->mode == GRID_NEAREST) {
    grid_tap(job, ch, nearbyint(iy), nearbyint(ix), 1, acc);
  } else {
    double y0 = floor(iy), x0 = floor(ix), ly = iy - y0, lx = ix - x0;
    grid_tap(job, ch, y0, x0, (1 - ly) * (1 - lx), acc);
    grid_tap(job, ch, y0, x0 + 1, (1 - ly) * lx, acc);
    grid_tap(job, ch, y0 + 1, x0, ly * (1 - lx), acc);
    grid_tap(job, ch, y0 + 1, x0 + 1, ly * lx, acc);
  }
}

static double grid_unnormalize(double g, int64_t size, int align_corners)
{
  if (align_corners)
    return (g + 1) / 2 * (double)(size - 1);
  return ((g + 1) * (double)size - 1) / 2;
}

/* Output rows [begin, end), row = (n, oy). */
static void grid_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct grid_job *job = ctx;
  const struct sc_tensor *grid = job->node->in[1];
  struct sc_tensor *y = job->node->out[0];
  int64_t r, ox, c, plane = job->out_h * job->out_w;
  double acc[GRID_CHUNK];
  for (r = begin; r < end; r++) {
    int64_t oy = r % job->out_h;
    struct grid_channels ch;
    ch.n = r / job->out_h;
    for (ox = 0; ox < job->out_w; ox++) {
      int64_t g = (r * job->out_w + ox) * 2;
      double gx = grid_load(grid->dtype, grid->data, g);
      double gy = grid_load(grid->dtype, grid->data, g + 1);
      double ix = grid_unnormalize(gx, job->in_w, job->st->align_corners);
      double iy = grid_unnormalize(gy, job->in_h, job->st->align_corners);
      int64_t out0 = ch.n * job->n_channels * plane + oy * job->out_w + ox;
      for (ch.c0 = 0; ch.c0 < job->n_channels; ch.c0 += GRID_CHUNK) {
        ch.count = job->n_channels - ch.c0;
        if (ch.count > GRID_CHUNK)
          ch.count = GRID_CHUNK;
        for (c = 0; c < ch.count; c++)
          acc[c] = 0;
        grid_sample_point(job, &ch, iy, ix, acc);
        for (c = 0; c < ch.count; c++)
          sc_dtype_store(y->dtype, y->data, out0 + (ch.c0 + c) * plane, acc[c]);
      }
    }
  }
}

static sc_status gridsample_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x = node->in[0];
  struct sc_tensor *y = node->out[0];
  struct grid_job job;
  (void)err;
  if (y->n_elements == 0)
    return SC_OK;
  job.node = node;
  job.st = node->state;
  job.n_channels = x->dims[1];
  job.in_h = x->dims[2];
  job.in_w = x->dims[3];
  job.out_h = y->dims[2];
  job.out_w = y->dims[3];
  sc_parallel_for(sc_node_threads(node), y->dims[0] * job.out_h,
                  1 + 1024 / (job.out_w * job.n_channels + 1), grid_rows, &job);
  return SC_OK;
}

/* ===================================================================== */
/* RoiAlign                                                               */
/* ===================================================================== */

/* Sampling points per bin above which a RoI is refused (hostile rois with
 * sampling_ratio 0 would otherwise run for hours). */
#define ROI_MAX_SAMPLES ((int64_t)1 << 24)

struct roi_state {
  int max_mode;
  int half_pixel;
  int64_t out_h, out_w, sampling_ratio;
  double spatial_scale;
};

static sc_status roialign_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE};
  static const enum sc_dtype index_types[] = {SC_DTYPE_INT64};
  static const struct name_value modes[] = {{"avg", 0}, {"max", 1}};
  static const struct name_value coords[] = {{"half_pixel", 1},
                                             {"output_half_pixel", 0}};
  struct roi_state *st;
  int mode = 0, half_pixel = 0;
  int64_t oh, ow, ratio;
  float scale;
  sc_status s = sc_check_arity(node, 3, 3, 1, 1, err);
  if (!s)
    s = sc_check_dtype(node, 0, types, 2, err);
  if (!s)
    s = sc_check_dtype(node, 2, index_types, 1, err);
  if (!s && node->in[1]->dtype != node->in[0]->dtype)
    s = sc_node_fail(node, err, SC_ERR_FORMAT, "rois has dtype %s, X has %s",
                     sc_dtype_name(node->in[1]->dtype),
                     sc_dtype_name(node->in[0]->dtype));
  if (!s)
    s = attr_choice(node, "mode", "avg", modes, 2, &mode, err);
  if (!s && node->opset >= 16)
    s = attr_choice(node, "coordinate_transformation_mode", "half_pixel",
                    coords, 2, &half_pixel, err);
  if (!s)
    s = sc_node_attr_int(node, "output_height", 1, &oh, err);
  if (!s)
    s = sc_node_attr_int(node, "output_width", 1, &ow, err);
  if (!s)
    s = sc_node_attr_int(node, "sampling_ratio", 0, &ratio, err);
  if (!s)
    s = sc_node_attr_float(node, "spatial_scale", 1.0f, &scale, err);
  if (s)
    return s;
  if (oh < 1 || ow < 1 || oh > ((int64_t)1 << 20) || ow > ((int64_t)1 << 20))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "output_height %lld and output_width %lld must be in "
                        "[1, 2^20]",
                        (long long)oh, (long long)ow);
  if (ratio < 0 || ratio > 4096 || !isfinite(scale))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "sampling_ratio %lld must be in [0, 4096] and "
                        "spatial_scale finite",
                        (long long)ratio);
  st = calloc(1, sizeof *st);
  if (!st)
    return sc_fail_nomem(err, "RoiAlign state");
  st->max_mode = mode;
  st->half_pixel = half_pixel;
  st->out_h = oh;
  st->out_w = ow;
  st->sampling_ratio = ratio;
  st->spatial_scale = scale;
  node->state = st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

/* Geometry of one RoI in feature-map pixels. */
struct roi_box {
  double start_y, start_x, bin_h, bin_w;
  int64_t grid_h, grid_w; /* sampling points per bin and axis */
};

/* Computes the box of RoI r; returns 0 when its coordinates are not finite
 * or it needs more than ROI_MAX_SAMPLES points per bin. */
static int roi_box_of(const struct roi_state *st, const struct sc_tensor *rois,
                      int64_t r, struct roi_box *box)
{
  double offset = st->half_pixel ? 0.5 : 0.0, c[4], roi_h, roi_w, gh, gw;
  int k;
  for (k = 0; k < 4; k++) {
    c[k] = grid_load(rois->dtype, rois->data, r * 4 + k) * st->spatial_scale -
           offset;
    if (!isfinite(c[k]))
      return 0;
  }
  roi_w = c[2] - c[0];
  roi_h = c[3] - c[1];
  if (!st->half_pixel) { /* force malformed RoIs to 1x1 */
    roi_w = roi_w > 1 ? roi_w : 1;
    roi_h = roi_h > 1 ? roi_h : 1;
  }
  box->start_x = c[0];
  box->start_y = c[1];
  box->bin_h = roi_h / (double)st->out_h;
  box->bin_w = roi_w / (double)st->out_w;
  gh = st->sampling_ratio > 0 ? (double)st->sampling_ratio : ceil(box->bin_h);
  gw = st->sampling_ratio > 0 ? (double)st->sampling_ratio : ceil(box->bin_w);
  gh = gh > 0 ? gh : 0;
  gw = gw > 0 ? gw : 0;
  if (gh * gw > (double)ROI_MAX_SAMPLES)
    return 0;
  box->grid_h = (int64_t)gh;
  box->grid_w = (int64_t)gw;
  return 1;
}

/* Shapes, and when the values are known, batch indices and RoI sizes. */
static sc_status roialign_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct roi_state *st = node->state;
  const struct sc_tensor *x = node->in[0], *rois = node->in[1];
  const struct sc_tensor *index = node->in[2];
  int64_t dims[4], r;
  if (x->rank != 4 || rois->rank != 2 || rois->dims[1] != 4 ||
      index->rank != 1 || index->dims[0] != rois->dims[0]) {
    char sx[128], sr[128], si[128];
    return sc_node_fail(
        node, err, SC_ERR_FORMAT,
        "expects X [N,C,H,W], rois [R,4] and batch_indices [R], got %s, %s "
        "and %s",
        sc_shape_format(x->rank, x->dims, sx, sizeof sx),
        sc_shape_format(rois->rank, rois->dims, sr, sizeof sr),
        sc_shape_format(index->rank, index->dims, si, sizeof si));
  }
  for (r = 0; index->data && r < index->dims[0]; r++) {
    int64_t b = ((const int64_t *)index->data)[r];
    if (b < 0 || b >= x->dims[0])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "batch_indices[%lld] = %lld is outside [0, %lld)",
                          (long long)r, (long long)b, (long long)x->dims[0]);
  }
  for (r = 0; rois->data && r < rois->dims[0]; r++) {
    struct roi_box box;
    if (!roi_box_of(st, rois, r, &box))
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "RoI %lld is not finite or needs more than %lld "
                          "sampling points per bin",
                          (long long)r, (long long)ROI_MAX_SAMPLES);
  }
  dims[0] = rois->dims[0];
  dims[1] = x->dims[1];
  dims[2] = st->out_h;
  dims[3] = st->out_w;
  return set_output_shape(node, 0, 4, dims, err);
}

/* Bilinear taps of one sampling point, as in the ONNX reference. Returns
 * 0 (no taps) for points more than one pixel outside the map, which
 * contribute 0, and for an empty map. */
static int roi_taps(double y, double x, int64_t h, int64_t w, int64_t *pos,
                    double *wt)
{
  int64_t y0, x0, y1, x1;
  double ly, lx;
  if (h < 1 || w < 1 || y < -1.0 || y > (double)h || x < -1.0 || x > (double)w)
    return 0;
  y = y > 0 ? y : 0;
  x = x > 0 ? x : 0;
  y0 = (int64_t)y;
  x0 = (int64_t)x;
  if (y0 >= h - 1) {
    y0 = y1 = h - 1;
    y = (double)y0;
  } else
    y1 = y0 + 1;
  if (x0 >= w - 1) {
    x0 = x1 = w - 1;
    x = (double)x0;
  } else
    x1 = x0 + 1;
  ly = y - (double)y0;
  lx = x - (double)x0;
  pos[0] = y0 * w + x0;
  pos[1] = y0 * w + x1;
  pos[2] = y1 * w + x0;
  pos[3] = y1 * w + x1;
  wt[0] = (1 - ly) * (1 - lx);
  wt[1] = (1 - ly) * lx;
  wt[2] = ly * (1 - lx);
  wt[3] = ly * lx;
  return 1;
}

struct roi_job {
  const struct sc_node *node;
  const struct roi_state *st;
};

/* Bins [begin, end), bin = (roi, ph, pw); each bin writes every channel.
 * Max mode keeps the reference's definition: the largest weighted tap
 * w_k * x_k over all sampling points. */
static void roi_bins(void *ctx, int64_t begin, int64_t end)
{
  const struct roi_job *job = ctx;
  const struct roi_state *st = job->st;
  const struct sc_tensor *x = job->node->in[0], *rois = job->node->in[1];
  struct sc_tensor *y = job->node->out[0];
  int64_t n_ch = x->dims[1], h = x->dims[2], w = x->dims[3], plane = h * w;
  int64_t bins = st->out_h * st->out_w, item;
  for (item = begin; item < end; item++) {
    int64_t r = item / bins, ph = item % bins / st->out_w;
    int64_t pw = item % st->out_w, b, c, iy, ix, count;
    int64_t out0 = r * n_ch * bins + ph * st->out_w + pw;
    struct roi_box box;
    roi_box_of(st, rois, r, &box); /* checked by reshape */
    b = ((const int64_t *)job->node->in[2]->data)[r];
    count = box.grid_h * box.grid_w > 0 ? box.grid_h * box.grid_w : 1;
    for (c = 0; c < n_ch; c++) {
      const int64_t base = (b * n_ch + c) * plane;
      double value = 0;
      int seen = 0;
      for (iy = 0; iy < box.grid_h; iy++) {
        double yy = box.start_y + (double)ph * box.bin_h +
                    ((double)iy + 0.5) * box.bin_h / (double)box.grid_h;
        for (ix = 0; ix < box.grid_w; ix++) {
          double xx = box.start_x + (double)pw * box.bin_w +
                      ((double)ix + 0.5) * box.bin_w / (double)box.grid_w;
          int64_t pos[4];
          double wt[4], v[4] = {0, 0, 0, 0};
          int k;
          if (roi_taps(yy, xx, h, w, pos, wt)) /* else contributes 0 */
            for (k = 0; k < 4; k++)
              v[k] = wt[k] * grid_load(x->dtype, x->data, base + pos[k]);
          if (!st->max_mode) {
            value += v[0] + v[1] + v[2] + v[3];
            continue;
          }
          for (k = 0; k < 4; k++)
            if (!seen++ || v[k] > value)
              value = v[k];
        }
      }
      if (!st->max_mode)
        value /= (double)count;
      sc_dtype_store(y->dtype, y->data, out0 + c * bins, value);
    }
  }
}

static sc_status roialign_run(struct sc_node *node, struct sc_error *err)
{
  const struct roi_state *st = node->state;
  struct roi_job job;
  (void)err;
  if (node->out[0]->n_elements == 0)
    return SC_OK;
  job.node = node;
  job.st = st;
  sc_parallel_for(sc_node_threads(node),
                  node->in[1]->dims[0] * st->out_h * st->out_w, 4, roi_bins,
                  &job);
  return SC_OK;
}

const struct sc_op sc_ops_resize[] = {
    {"", "GridSample", 16, 19, gridsample_prepare, gridsample_reshape,
     gridsample_run, state_release, SC_OP_F16_VIA_FLOAT},
    {"", "Resize", 10, 10, resize_prepare, resize_reshape, resize_run,
     resize_release, SC_OP_F16_VIA_FLOAT},
    {"", "Resize", 11, 12, resize_prepare, resize_reshape, resize_run,
     resize_release, SC_OP_F16_VIA_FLOAT},
    {"", "Resize", 13, 17, resize_prepare, resize_reshape, resize_run,
     resize_release, SC_OP_F16_VIA_FLOAT},
    {"", "Resize", 18, SC_OPSET_LATEST, resize_prepare, resize_reshape,
     resize_run, resize_release, SC_OP_F16_VIA_FLOAT},
    {"", "RoiAlign", 10, 15, roialign_prepare, roialign_reshape, roialign_run,
     state_release, SC_OP_F16_VIA_FLOAT},
    {"", "RoiAlign", 16, SC_OPSET_LATEST, roialign_prepare, roialign_reshape,
     roialign_run, state_release, SC_OP_F16_VIA_FLOAT},
    {"", "Upsample", 7, 8, resize_prepare, resize_reshape, resize_run,
     resize_release, SC_OP_F16_VIA_FLOAT},
    {"", "Upsample", 9, 9, resize_prepare, resize_reshape, resize_run,
     resize_release, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
