/* Arithmetic transformers: Add, Mean, Scale, Normalize (class names and
 * snake_case steps) and the numpy-style casts (cast, F32ToS8, F32ToU8).
 *
 * Precision follows numpy (spec/transforms.md 1.2): a Python scalar applied
 * to a float32 array is computed in float32 with the scalar rounded to
 * float first; a scalar applied to an integer array, and any list (a
 * float64 ndarray), is computed in double and then rounded to float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/internal.h"

/* variant of the rows in registry.c */
#define V_STEP 1

static double load(const struct sc_tensor *t, int64_t i)
{
  switch (t->dtype) {
  case SC_DTYPE_UINT8:
    return ((const uint8_t *)t->data)[i];
  case SC_DTYPE_INT8:
    return ((const int8_t *)t->data)[i];
  case SC_DTYPE_FLOAT:
    return ((const float *)t->data)[i];
  case SC_DTYPE_DOUBLE:
    return ((const double *)t->data)[i];
  default:
    return sc_dtype_load(t->dtype, t->data, i);
  }
}

/* Which element of a per-channel list applies to element i:
 * (i / inner) % count. count 1: a scalar. */
struct channel_map {
  int64_t inner;
  int64_t count;
};

static sc_status check_numeric(const struct sc_tensor *in, struct sc_error *err)
{
  if (!dtype_in_mask(in->dtype, DT_ANY_NUMERIC))
    return sc_fail(err, SC_ERR_CONFIG,
                   "input dtype %s is not supported (uint8, int8, float32, "
                   "float64)",
                   sc_dtype_name(in->dtype));
  return SC_OK;
}

/* The channel map of a list of n values: numpy broadcasting over the last
 * axis (by_layout 0), or over the channel axis of the tracked HWC/CHW
 * layout (by_layout 1). */
static sc_status channel_map_for(const struct sc_transform *t, const char *key,
                                 const struct sc_tensor *in,
                                 enum sc_layout layout, int by_layout,
                                 struct channel_map *map, struct sc_error *err)
{
  const struct param_value *v = param_get(t, key);
  int64_t count;

  map->inner = 1;
  map->count = 1;
  if (v->n <= 1)
    return SC_OK;
  if (in->rank < 1)
    return sc_fail(err, SC_ERR_CONFIG,
                   "a list '%s' needs an input with a channel axis", key);
  if (by_layout && in->rank == 3 && layout == SC_LAYOUT_CHW) {
    count = in->dims[0];
    map->inner = in->dims[1] * in->dims[2];
  } else {
    count = in->dims[in->rank - 1];
  }
  if (count != v->n)
    return param_fail(t, key, err,
                      "has %d values but the input has %lld channels", v->n,
                      (long long)count);
  map->count = count;
  return SC_OK;
}

static double list_at(const struct param_value *v,
                      const struct channel_map *map, int64_t i)
{
  if (map->count == 1)
    return v->list[0];
  return v->list[(i / map->inner) % map->count];
}

static sc_status new_like(const struct sc_tensor *in, enum sc_dtype dtype,
                          struct sc_tensor **out, struct sc_error *err)
{
  return sc_tensor_create_pooled(NULL, dtype, in->rank, in->dims, out, err);
}

enum arith_op { OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static float apply_f32(enum arith_op op, float x, float v)
{
  switch (op) {
  case OP_ADD:
    return x + v;
  case OP_SUB:
    return x - v;
  case OP_MUL:
    return x * v;
  case OP_DIV:
    return x / v;
  }
  return x;
}

static double apply_f64(enum arith_op op, double x, double v)
{
  switch (op) {
  case OP_ADD:
    return x + v;
  case OP_SUB:
    return x - v;
  case OP_MUL:
    return x * v;
  case OP_DIV:
    return x / v;
  }
  return x;
}

/* out = float32(x OP value) with numpy's precision rules. `f32_scalar`: a
 * scalar value on a float32 input is applied in float32. `to_f32_first`:
 * AddTransformer converts the input to float32 before adding. */
static sc_status arith(const struct sc_transform *t, const char *key,
                       enum arith_op op, const struct sc_tensor *in,
                       enum sc_layout layout, int by_layout, int to_f32_first,
                       struct sc_tensor **out, struct sc_error *err)
{
  const struct param_value *v = param_get(t, key);
  struct channel_map map;
  float *y;
  int64_t i;
  sc_status st;

  st = check_numeric(in, err);
  if (!st)
    st = channel_map_for(t, key, in, layout, by_layout, &map, err);
  if (!st)
    st = new_like(in, SC_DTYPE_FLOAT, out, err);
  if (st)
    return st;
  y = (*out)->data;
  if (!v->is_list && (in->dtype == SC_DTYPE_FLOAT || to_f32_first)) {
    float s = (float)v->list[0];
    for (i = 0; i < in->n_elements; i++)
      y[i] = apply_f32(op, (float)load(in, i), s);
  } else {
    for (i = 0; i < in->n_elements; i++) {
      double x = load(in, i);
      if (to_f32_first)
        x = (float)x;
      y[i] = (float)apply_f64(op, x, list_at(v, &map, i));
    }
  }
  return SC_OK;
}

/* AddTransformer ([N]: out = float32(x); out += value) and `add`. */
sc_status apply_add(const struct sc_transform *t, const struct sc_tensor *in,
                    enum sc_layout *layout, struct sc_tensor **out,
                    struct sc_error *err)
{
  return arith(t, "value", OP_ADD, in, *layout, t->kind->variant == V_STEP, 1,
               out, err);
}

/* ScaleTransformer (x * scale_value) and `scale` (x * value). */
sc_status apply_scale(const struct sc_transform *t, const struct sc_tensor *in,
                      enum sc_layout *layout, struct sc_tensor **out,
                      struct sc_error *err)
{
  int step = t->kind->variant == V_STEP;
  return arith(t, step ? "value" : "scale_value", OP_MUL, in, *layout, step, 0,
               out, err);
}

/* NormalizeTransformer: x / std. */
sc_status apply_normalize(const struct sc_transform *t,
                          const struct sc_tensor *in, enum sc_layout *layout,
                          struct sc_tensor **out, struct sc_error *err)
{
  return arith(t, "std", OP_DIV, in, *layout, 0, 0, out, err);
}

/* MeanTransformer: (x - means).astype(float32) with means a float64 array,
 * broadcast over the channel axis of data_format (HWC: last axis, CHW:
 * means[:, None, None]); `mean` does the same on the tracked layout. The
 * subtraction is always in double. */
sc_status apply_mean(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err)
{
  int step = t->kind->variant == V_STEP;
  const char *key = step ? "mean" : "means";
  const struct param_value *v = param_get(t, key);
  enum sc_layout lay;
  struct channel_map map;
  float *y;
  int64_t i;
  sc_status st;

  st = check_numeric(in, err);
  if (st)
    return st;
  lay = *layout;
  if (v->n > 1) {
    st = resolve_layout(t, layout, &lay, err);
    if (!st && lay == SC_LAYOUT_CHW && in->rank != 3)
      st = sc_fail(err, SC_ERR_CONFIG,
                   "CHW means need a rank-3 input, got rank %d", in->rank);
    if (st)
      return st;
  }
  st = channel_map_for(t, key, in, lay, 1, &map, err);
  if (!st)
    st = new_like(in, SC_DTYPE_FLOAT, out, err);
  if (st)
    return st;
  y = (*out)->data;
  for (i = 0; i < in->n_elements; i++)
    y[i] = (float)(load(in, i) - list_at(v, &map, i));
  return SC_OK;
}

/* Channels the tables of mean_std_channels cover; more take the plain
 * loop. */
#define MEAN_STD_CHANNELS 16

/* `normalize` walking the channels instead of dividing each element's
 * index, the same expression as the plain loop. An 8-bit image takes
 * each result from a per-channel table of the 256 possible ones, computed
 * with that expression: the same bits at a fraction of the cost (through
 * load() and list_at(), a 1024x1024 image took 27 ns per element). */
static void mean_std_channels(const struct sc_tensor *in,
                              const struct param_value *mean,
                              const struct param_value *std, int64_t inner,
                              int64_t count, float *y)
{
  float(*table)[256] = NULL;
  double m[MEAN_STD_CHANNELS], sd[MEAN_STD_CHANNELS];
  int64_t n = in->n_elements, i, c = 0, left = inner;

  for (i = 0; i < count; i++) {
    m[i] = mean->list[mean->n > 1 ? i : 0];
    sd[i] = std->list[std->n > 1 ? i : 0];
  }
  if (in->dtype == SC_DTYPE_UINT8)
    table = malloc((size_t)count * sizeof *table);
  if (table) {
    const uint8_t *x = in->data;
    int v;
    for (i = 0; i < count; i++)
      for (v = 0; v < 256; v++)
        table[i][v] = (float)(((double)v - m[i]) / sd[i]);
    for (i = 0; i < n; i++) {
      y[i] = table[c][x[i]];
      if (--left == 0) {
        left = inner;
        c = c + 1 == count ? 0 : c + 1;
      }
    }
    free(table);
    return;
  }
  for (i = 0; i < n; i++) {
    double x = in->dtype == SC_DTYPE_FLOAT ? ((const float *)in->data)[i]
                                           : load(in, i);
    y[i] = (float)((x - m[c]) / sd[c]);
    if (--left == 0) {
      left = inner;
      c = c + 1 == count ? 0 : c + 1;
    }
  }
}

/* `normalize`: float32((x - mean) / std) per channel of the tracked
 * layout, in double (numpy with float64 mean/std arrays). */
sc_status apply_mean_std(const struct sc_transform *t,
                         const struct sc_tensor *in, enum sc_layout *layout,
                         struct sc_tensor **out, struct sc_error *err)
{
  const struct param_value *mean = param_get(t, "mean");
  const struct param_value *std = param_get(t, "std");
  struct channel_map mmap, smap;
  float *y;
  int64_t i;
  sc_status st;

  st = check_numeric(in, err);
  if (!st && (mean->n > 1 || std->n > 1) && *layout != SC_LAYOUT_HWC &&
      *layout != SC_LAYOUT_CHW && in->rank == 3)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "per-channel mean/std need an HWC or CHW image");
  if (!st)
    st = channel_map_for(t, "mean", in, *layout, 1, &mmap, err);
  if (!st)
    st = channel_map_for(t, "std", in, *layout, 1, &smap, err);
  if (!st)
    st = new_like(in, SC_DTYPE_FLOAT, out, err);
  if (st)
    return st;
  y = (*out)->data;
  {
    /* two lists map the same layout: the same channels */
    const struct channel_map *by = mmap.count > 1 ? &mmap : &smap;
    if (by->count <= MEAN_STD_CHANNELS) {
      mean_std_channels(in, mean, std, by->inner, by->count, y);
      return SC_OK;
    }
  }
  for (i = 0; i < in->n_elements; i++)
    y[i] = (float)((load(in, i) - list_at(mean, &mmap, i)) /
                   list_at(std, &smap, i));
  return SC_OK;
}

/* numpy float -> int8/uint8 on x86-64: truncate toward zero to int32, keep
 * the low 8 bits; NaN and values outside the int32 range give the "integer
 * indefinite" 0x80000000, whose low byte is 0. */
static int32_t float_to_i32_x86(double x)
{
  if (!(x > -2147483649.0 && x < 2147483648.0))
    return INT32_MIN;
  return (int32_t)x;
}

uint8_t numpy_to_u8(double x)
{
  return (uint8_t)(uint32_t)float_to_i32_x86(x);
}

static int64_t int_value(const struct sc_tensor *in, int64_t i)
{
  return sc_dtype_load_i64(in->dtype, in->data, i);
}

/* One conversion loop from source element type S to destination type D. */
#define CAST_LOOP(S, D, EXPR)                                                  \
  do {                                                                         \
    const S *s = in->data;                                                     \
    D *d = (*out)->data;                                                       \
    for (i = 0; i < in->n_elements; i++)                                       \
      d[i] = EXPR;                                                             \
  } while (0)

/* Typed fast paths of cast_tensor for the common types; 1 if handled. */
static int cast_fast(const struct sc_tensor *in, enum sc_dtype dtype,
                     struct sc_tensor **out)
{
  int64_t i;
  if (dtype == SC_DTYPE_UINT8 || dtype == SC_DTYPE_INT8) {
    switch (in->dtype) {
    case SC_DTYPE_FLOAT:
      CAST_LOOP(float, uint8_t, numpy_to_u8(s[i]));
      return 1;
    case SC_DTYPE_DOUBLE:
      CAST_LOOP(double, uint8_t, numpy_to_u8(s[i]));
      return 1;
    case SC_DTYPE_UINT8:
    case SC_DTYPE_INT8:
      memcpy((*out)->data, in->data, (size_t)in->n_elements);
      return 1;
    default:
      return 0;
    }
  }
  if (dtype == SC_DTYPE_FLOAT) {
    switch (in->dtype) {
    case SC_DTYPE_FLOAT:
      memcpy((*out)->data, in->data, sc_tensor_size(in));
      return 1;
    case SC_DTYPE_DOUBLE:
      CAST_LOOP(double, float, (float)s[i]);
      return 1;
    case SC_DTYPE_UINT8:
      CAST_LOOP(uint8_t, float, (float)s[i]);
      return 1;
    case SC_DTYPE_INT8:
      CAST_LOOP(int8_t, float, (float)s[i]);
      return 1;
    default:
      return 0;
    }
  }
  return 0;
}

sc_status cast_tensor(const struct sc_tensor *in, enum sc_dtype dtype,
                      struct sc_tensor **out, struct sc_error *err)
{
  int from_float = sc_dtype_is_float(in->dtype);
  int64_t i;
  sc_status st;

  *out = NULL;
  if (sc_dtype_size(in->dtype) == 0 || in->dtype == SC_DTYPE_BOOL ||
      in->dtype == SC_DTYPE_FLOAT16 || in->dtype == SC_DTYPE_BFLOAT16)
    return sc_fail(err, SC_ERR_CONFIG, "cannot cast from dtype %s",
                   sc_dtype_name(in->dtype));
  if (dtype != SC_DTYPE_UINT8 && dtype != SC_DTYPE_INT8 &&
      dtype != SC_DTYPE_FLOAT)
    return sc_fail(err, SC_ERR_CONFIG, "cannot cast to dtype %s",
                   sc_dtype_name(dtype));
  st = new_like(in, dtype, out, err);
  if (st || cast_fast(in, dtype, out))
    return st;
  for (i = 0; i < in->n_elements; i++) {
    if (dtype == SC_DTYPE_FLOAT)
      ((float *)(*out)->data)[i] =
          from_float ? (float)load(in, i) : (float)int_value(in, i);
    else
      ((uint8_t *)(*out)->data)[i] = from_float
                                         ? numpy_to_u8(load(in, i))
                                         : (uint8_t)(uint64_t)int_value(in, i);
  }
  return SC_OK;
}

/* `cast` (dtype parameter) and F32ToS8/F32ToU8 (dtype in the variant). */
sc_status apply_cast(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err)
{
  enum sc_dtype dtype = (enum sc_dtype)t->kind->variant;
  if (dtype == SC_DTYPE_UNDEFINED) {
    if (param_is(t, "dtype", "int8"))
      dtype = SC_DTYPE_INT8;
    else if (param_is(t, "dtype", "uint8"))
      dtype = SC_DTYPE_UINT8;
    else
      dtype = SC_DTYPE_FLOAT;
  }
  return cast_tensor(in, dtype, out, err);
}
