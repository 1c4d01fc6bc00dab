/* The transformer registry: every documented transformer (class name) and
 * every snake_case step of spec/cli.md, its parameters, and the generic
 * parameter parsing and checking shared by all of them. */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transforms/internal.h"

/* --- parameter tables ------------------------------------------------- */

#define BIG 1e300
#define SIDE_MAX ((double)SC_IMAGE_MAX_SIDE)
#define N(spec) ((int)(sizeof(spec) / sizeof((spec)[0])))

/* The shorthand below: P_INT(key, required, default, min, max) ... */
#define P_INT(k, req, def, lo, hi)                                             \
  {                                                                            \
    k, PARAM_INT, req, def, lo, hi, NULL, 1                                    \
  }
#define P_NUM(k, req, def, lo, hi)                                             \
  {                                                                            \
    k, PARAM_NUMBER, req, def, lo, hi, NULL, 1                                 \
  }
#define P_NUMS(k, req, def, lo, hi)                                            \
  {                                                                            \
    k, PARAM_NUMBERS, req, def, lo, hi, NULL, SC_TRANSFORM_MAX_LIST            \
  }
#define P_SIZE(k, req, def)                                                    \
  {                                                                            \
    k, PARAM_SIZE, req, def, 1, SIDE_MAX, NULL, 2                              \
  }
#define P_CHOICE(k, req, def, choices)                                         \
  {                                                                            \
    k, PARAM_CHOICE, req, def, 0, 0, choices, 1                                \
  }
#define P_STR(k, req, def)                                                     \
  {                                                                            \
    k, PARAM_STRING, req, def, 0, 0, NULL, 1                                   \
  }
#define P_BOOL(k, req, def)                                                    \
  {                                                                            \
    k, PARAM_BOOL, req, def, 0, 1, NULL, 1                                     \
  }

#define DATA_FORMAT_CHW P_CHOICE("data_format", 0, "CHW", "CHW|HWC")
#define DATA_TYPE P_CHOICE("data_type", 0, "float", "float|float32|uint8")

static const struct param_spec no_params[1] = {
    {NULL, PARAM_INT, 0, "", 0, 0, NULL, 0}};

static const struct param_spec add_params[] = {
    P_NUMS("value", 1, "", -BIG, BIG)};
static const struct param_spec mean_params[] = {
    P_NUMS("means", 1, "", -BIG, BIG), DATA_FORMAT_CHW};
static const struct param_spec scale_params[] = {
    P_NUMS("scale_value", 1, "", -BIG, BIG)};
static const struct param_spec normalize_params[] = {
    P_NUMS("std", 1, "", -BIG, BIG)};
static const struct param_spec transpose_params[] = {
    {"order", PARAM_NUMBERS, 1, "", 0, SC_MAX_RANK - 1, NULL, SC_MAX_RANK}};
static const struct param_spec center_crop_params[] = {
    P_INT("crop_size", 1, "", 1, SIDE_MAX), DATA_TYPE};
static const struct param_spec pil_center_crop_params[] = {
    P_SIZE("size", 1, "")};
static const struct param_spec pad_resize_params[] = {
    P_SIZE("target_size", 1, ""), P_NUM("pad_value", 0, "127", -BIG, BIG),
    P_CHOICE("pad_position", 0, "boundary", "boundary|bottom_right")};
static const struct param_spec resize_params[] = {
    P_SIZE("target_size", 1, ""),
    P_CHOICE("mode", 0, "skimage", "skimage|opencv"),
    P_INT("method", 0, "1", 0, 5), DATA_TYPE, P_STR("interpolation", 0, "")};
static const struct param_spec pil_resize_params[] = {
    P_SIZE("size", 1, ""), P_STR("interpolation", 0, "BILINEAR")};
static const struct param_spec short_long_params[] = {
    P_INT("short_size", 1, "", 1, SIDE_MAX),
    P_INT("long_size", 1, "", 1, SIDE_MAX), P_BOOL("include_im", 0, "true")};
static const struct param_spec pad_divisor_params[] = {
    P_INT("size_divisor", 0, "128", 1, SIDE_MAX),
    P_INT("target_size", 0, "512", 1, SIDE_MAX)};
static const struct param_spec short_side_params[] = {
    P_INT("short_size", 1, "", 1, SIDE_MAX), DATA_TYPE,
    P_STR("interpolation", 0, "")};
static const struct param_spec padded_center_crop_params[] = {
    P_INT("image_size", 0, "224", 1, SIDE_MAX),
    P_INT("crop_pad", 0, "32", 0, SIDE_MAX)};
static const struct param_spec data_format_params[] = {DATA_FORMAT_CHW};
static const struct param_spec yuv_params[] = {
    P_CHOICE("color_sequence", 1, "", "BGR|RGB")};
static const struct param_spec nv12_params[] = {
    DATA_FORMAT_CHW, P_CHOICE("cvt_mode", 0, "rgb_calc", "rgb_calc|opencv")};
static const struct param_spec nv12_to_yuv444_params[] = {
    P_SIZE("target_size", 1, ""),
    P_CHOICE("yuv444_output_layout", 0, "HWC", "HWC|CHW")};
static const struct param_spec warp_affine_params[] = {
    P_SIZE("input_shape", 1, ""), P_NUM("scale", 1, "", 1e-6, 1e6)};

/* snake_case steps (spec/cli.md) */
static const struct param_spec step_resize_params[] = {
    P_INT("height", 0, "", 1, SIDE_MAX),
    P_INT("width", 0, "", 1, SIDE_MAX),
    P_SIZE("size", 0, ""),
    P_CHOICE("mode", 0, "opencv", "opencv|skimage|pil"),
    P_STR("interpolation", 0, ""),
    P_INT("order", 0, "", 0, 5)};
static const struct param_spec step_hw_params[] = {
    P_INT("height", 0, "", 1, SIDE_MAX), P_INT("width", 0, "", 1, SIDE_MAX),
    P_SIZE("size", 0, "")};
static const struct param_spec step_crop_params[] = {
    P_INT("top", 1, "", 0, SIDE_MAX), P_INT("left", 1, "", 0, SIDE_MAX),
    P_INT("height", 1, "", 1, SIDE_MAX), P_INT("width", 1, "", 1, SIDE_MAX)};
static const struct param_spec step_pad_params[] = {
    P_INT("top", 0, "0", 0, SIDE_MAX), P_INT("bottom", 0, "0", 0, SIDE_MAX),
    P_INT("left", 0, "0", 0, SIDE_MAX), P_INT("right", 0, "0", 0, SIDE_MAX),
    P_NUM("value", 0, "0", -BIG, BIG)};
static const struct param_spec step_pad_resize_params[] = {
    P_INT("height", 0, "", 1, SIDE_MAX), P_INT("width", 0, "", 1, SIDE_MAX),
    P_SIZE("size", 0, ""), P_NUM("value", 0, "127", -BIG, BIG),
    P_CHOICE("position", 0, "boundary", "boundary|bottom_right")};
static const struct param_spec step_transpose_params[] = {
    {"order", PARAM_NUMBERS, 1, "", 0, SC_MAX_RANK - 1, NULL, SC_MAX_RANK}};
static const struct param_spec step_nv12_params[] = {
    P_CHOICE("cvt_mode", 0, "rgb_calc", "rgb_calc|opencv")};
static const struct param_spec step_nv12_to_yuv444_params[] = {
    P_INT("height", 0, "", 2, SIDE_MAX), P_INT("width", 0, "", 2, SIDE_MAX),
    P_CHOICE("layout", 0, "HWC", "HWC|CHW")};
static const struct param_spec step_yuv420_params[] = {
    P_INT("height", 0, "", 2, SIDE_MAX), P_INT("width", 0, "", 2, SIDE_MAX)};
static const struct param_spec step_add_params[] = {
    P_NUMS("value", 1, "", -BIG, BIG)};
static const struct param_spec step_mean_params[] = {
    P_NUMS("mean", 1, "", -BIG, BIG)};
static const struct param_spec step_normalize_params[] = {
    P_NUMS("mean", 0, "0", -BIG, BIG), P_NUMS("std", 0, "1", -BIG, BIG)};
static const struct param_spec step_cast_params[] = {
    P_CHOICE("dtype", 1, "", "int8|uint8|float32|float")};

static sc_status check_transpose(const struct sc_transform *t,
                                 struct sc_error *err);
static sc_status check_nonzero_divisor(const struct sc_transform *t,
                                       struct sc_error *err);
static sc_status check_pil_filter(const struct sc_transform *t,
                                  struct sc_error *err);

#define ROW(name, summary, params, check, apply, variant)                      \
  {                                                                            \
    name, summary, params, N(params), check, apply, variant                    \
  }
#define ROW0(name, summary, apply, variant)                                    \
  {                                                                            \
    name, summary, no_params, 0, NULL, apply, variant                          \
  }
#define COLOR_ROW(name, params, rgb, target)                                   \
  ROW(name, "colour conversion (float32, Y U V order)", params, NULL,          \
      apply_color, COLOR_VARIANT(rgb, target))

/* variant flags of the arithmetic and layout rows */
#define V_CLASS 0
#define V_STEP 1

static const struct transform_kind kinds[] = {
    /* Horizon class names (spec/transforms.md section 2) */
    ROW("AddTransformer", "x + value, float32", add_params, NULL, apply_add,
        V_CLASS),
    ROW("MeanTransformer", "x - means per channel, float32", mean_params, NULL,
        apply_mean, V_CLASS),
    ROW("ScaleTransformer", "x * scale_value, float32", scale_params, NULL,
        apply_scale, V_CLASS),
    ROW("NormalizeTransformer", "x / std, float32", normalize_params,
        check_nonzero_divisor, apply_normalize, V_CLASS),
    ROW("TransposeTransformer", "numpy transpose", transpose_params,
        check_transpose, apply_transpose, 0),
    ROW0("HWC2CHWTransformer", "HWC to CHW", apply_transpose, 1),
    ROW0("CHW2HWCTransformer", "CHW to HWC", apply_transpose, 2),
    ROW("CenterCropTransformer", "square centre crop (numpy slicing)",
        center_crop_params, NULL, apply_center_crop, V_CLASS),
    ROW("PILCenterCropTransformer", "centre crop as PIL Image.crop",
        pil_center_crop_params, NULL, apply_pil_center_crop, 0),
    ROW0("LongSideCropTransformer", "crop of the long side (float32)",
         apply_long_side_crop, 0),
    ROW("PadResizeTransformer", "letterbox: resize keeping aspect, pad",
        pad_resize_params, NULL, apply_pad_resize, V_CLASS),
    ROW("ResizeTransformer", "resize with skimage or OpenCV", resize_params,
        check_resize_transformer, apply_resize_transformer, 0),
    ROW("PILResizeTransformer", "resize with PIL (uint8 out)",
        pil_resize_params, check_pil_filter, apply_pil_resize, 0),
    ROW("ShortLongResizeTransformer", "scale short side, cap long side",
        short_long_params, NULL, apply_short_long_resize, 0),
    ROW("PadTransformer", "resize long side to target_size, pad to divisor",
        pad_divisor_params, NULL, apply_pad_divisor, 0),
    ROW("ShortSideResizeTransformer", "resize short side to short_size",
        short_side_params, NULL, apply_short_side_resize, 0),
    ROW("PaddedCenterCropTransformer", "EfficientNet crop_padding centre crop",
        padded_center_crop_params, NULL, apply_padded_center_crop, 0),
    ROW("BGR2RGBTransformer", "reverse the 3 channels", data_format_params,
        NULL, apply_channel_swap, V_CLASS),
    ROW("RGB2BGRTransformer", "reverse the 3 channels", data_format_params,
        NULL, apply_channel_swap, V_CLASS),
    COLOR_ROW("RGB2GRAYTransformer", data_format_params, 1, COLOR_GRAY),
    COLOR_ROW("BGR2GRAYTransformer", data_format_params, 0, COLOR_GRAY),
    COLOR_ROW("RGB2GRAY_128Transformer", data_format_params, 1, COLOR_GRAY_128),
    COLOR_ROW("RGB2YUV444Transformer", data_format_params, 1, COLOR_YUV444),
    COLOR_ROW("BGR2YUV444Transformer", data_format_params, 0, COLOR_YUV444),
    COLOR_ROW("BGR2YUV444_128Transformer", data_format_params, 0,
              COLOR_YUV444_128),
    COLOR_ROW("RGB2YUV444_128Transformer", data_format_params, 1,
              COLOR_YUV444_128),
    COLOR_ROW("BGR2YUVBT601VIDEOTransformer", data_format_params, 0,
              COLOR_YUV_BT601_VIDEO),
    COLOR_ROW("RGB2YUVBT601VIDEOTransformer", data_format_params, 1,
              COLOR_YUV_BT601_VIDEO),
    ROW("YUVTransformer", "video-range YUV444 via OpenCV I420 (float32)",
        yuv_params, NULL, apply_yuv444_i420, 0),
    ROW("ReduceChannelTransformer", "keep the first channel",
        data_format_params, NULL, apply_reduce_channel, V_CLASS),
    ROW("BGR2NV12Transformer", "BGR to NV12 (uint8)", nv12_params, NULL,
        apply_to_nv12, 0),
    ROW("RGB2NV12Transformer", "RGB to NV12 (uint8)", nv12_params, NULL,
        apply_to_nv12, 1),
    ROW("NV12ToYUV444Transformer", "NV12 to YUV444 (uint8)",
        nv12_to_yuv444_params, NULL, apply_nv12_to_yuv444, V_CLASS),
    ROW("WarpAffineTransformer", "centred affine warp (CenterNet)",
        warp_affine_params, NULL, apply_warp_affine, 0),
    ROW0("F32ToS8Transformer", "astype(int8)", apply_cast, SC_DTYPE_INT8),
    ROW0("F32ToU8Transformer", "astype(uint8)", apply_cast, SC_DTYPE_UINT8),

    /* snake_case steps (spec/cli.md) */
    ROW("resize", "resize, keeps dtype (OpenCV, skimage or PIL)",
        step_resize_params, check_resize_step, apply_resize_step, 0),
    ROW("center_crop", "centre crop, keeps dtype", step_hw_params,
        check_height_width, apply_center_crop, V_STEP),
    ROW("crop", "crop a rectangle, keeps dtype", step_crop_params, NULL,
        apply_crop, 0),
    ROW("pad", "pad with a constant, keeps dtype", step_pad_params, NULL,
        apply_pad, 0),
    ROW("pad_resize", "letterbox, keeps dtype", step_pad_resize_params,
        check_height_width, apply_pad_resize, V_STEP),
    ROW0("bgr_to_rgb", "reverse the 3 channels", apply_channel_swap, V_STEP),
    ROW0("rgb_to_bgr", "reverse the 3 channels", apply_channel_swap, V_STEP),
    ROW0("hwc_to_chw", "HWC to CHW", apply_transpose, 1),
    ROW0("chw_to_hwc", "CHW to HWC", apply_transpose, 2),
    ROW("transpose", "numpy transpose", step_transpose_params, check_transpose,
        apply_transpose, 0),
    ROW0("reduce_channel", "keep the first channel", apply_reduce_channel,
         V_STEP),
    ROW0("bgr_to_gray", "BT.601 grey (float32)", apply_color,
         COLOR_VARIANT(0, COLOR_GRAY)),
    ROW0("rgb_to_gray", "BT.601 grey (float32)", apply_color,
         COLOR_VARIANT(1, COLOR_GRAY)),
    ROW0("rgb_to_gray_128", "BT.601 grey - 128 (float32)", apply_color,
         COLOR_VARIANT(1, COLOR_GRAY_128)),
    ROW0("bgr_to_yuv444", "full-range YUV444 (float32)", apply_color,
         COLOR_VARIANT(0, COLOR_YUV444)),
    ROW0("rgb_to_yuv444", "full-range YUV444 (float32)", apply_color,
         COLOR_VARIANT(1, COLOR_YUV444)),
    ROW0("bgr_to_yuv444_128", "full-range YUV444 - 128 (float32)", apply_color,
         COLOR_VARIANT(0, COLOR_YUV444_128)),
    ROW0("rgb_to_yuv444_128", "full-range YUV444 - 128 (float32)", apply_color,
         COLOR_VARIANT(1, COLOR_YUV444_128)),
    ROW0("bgr_to_yuv_bt601_video", "video-range YUV444 - 128 (float32)",
         apply_color, COLOR_VARIANT(0, COLOR_YUV_BT601_VIDEO)),
    ROW0("rgb_to_yuv_bt601_video", "video-range YUV444 - 128 (float32)",
         apply_color, COLOR_VARIANT(1, COLOR_YUV_BT601_VIDEO)),
    ROW("bgr_to_nv12", "BGR to NV12 (uint8)", step_nv12_params, NULL,
        apply_to_nv12, 0),
    ROW("rgb_to_nv12", "RGB to NV12 (uint8)", step_nv12_params, NULL,
        apply_to_nv12, 1),
    ROW("nv12_to_yuv444", "NV12 to YUV444 (uint8)", step_nv12_to_yuv444_params,
        NULL, apply_nv12_to_yuv444, V_STEP),
    ROW("nv12_to_bgr", "NV12 to BGR as cv2.cvtColor (uint8)",
        step_yuv420_params, NULL, apply_yuv420_to_bgr, SC_YUV420_NV12),
    ROW("nv21_to_bgr", "NV21 to BGR as cv2.cvtColor (uint8)",
        step_yuv420_params, NULL, apply_yuv420_to_bgr, SC_YUV420_NV21),
    ROW("i420_to_bgr", "I420 to BGR as cv2.cvtColor (uint8)",
        step_yuv420_params, NULL, apply_yuv420_to_bgr, SC_YUV420_I420),
    ROW("add", "x + value, float32", step_add_params, NULL, apply_add, V_STEP),
    ROW("mean", "x - mean per channel, float32", step_mean_params, NULL,
        apply_mean, V_STEP),
    ROW("scale", "x * value, float32", step_add_params, NULL, apply_scale,
        V_STEP),
    ROW("normalize", "(x - mean) / std per channel, float32",
        step_normalize_params, check_nonzero_divisor, apply_mean_std, 0),
    ROW("cast", "numpy astype (truncating)", step_cast_params, NULL, apply_cast,
        0),
};

#define N_KINDS N(kinds)

/* --- lookup ------------------------------------------------------------- */

static const struct transform_kind *find_kind(const char *name)
{
  int i;
  for (i = 0; i < N_KINDS; i++)
    if (strcmp(kinds[i].name, name) == 0)
      return &kinds[i];
  return NULL;
}

static int find_param(const struct transform_kind *k, const char *key)
{
  int i;
  for (i = 0; i < k->n_params; i++)
    if (strcmp(k->params[i].key, key) == 0)
      return i;
  return -1;
}

/* --- value parsing ---------------------------------------------------- */

struct parse_ctx {
  const struct transform_kind *kind;
  const struct param_spec *spec;
  const struct sc_transform_param *given;
  struct sc_error *err;
};

static sc_status bad_value(const struct parse_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static sc_status bad_value(const struct parse_ctx *c, const char *fmt, ...)
{
  char detail[512], where[32] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (c->given && c->given->line > 0)
    snprintf(where, sizeof where, " (line %d)", c->given->line);
  return sc_fail(c->err, SC_ERR_CONFIG, "parameter '%s'%s: %s", c->spec->key,
                 where, detail);
}

/* Parses the numbers in text ("1.5", "1 2 3", "1,2,3", "[1, 2]") into
 * list. Returns the count, -1 if text holds anything else or too many. */
static int parse_number_text(const char *text, double *list, int max)
{
  int n = 0;
  const char *p = text;
  while (*p) {
    char *end;
    double v;
    while (*p == ' ' || *p == ',' || *p == '\t' || *p == '[' || *p == ']' ||
           *p == '(' || *p == ')')
      p++;
    if (!*p)
      break;
    v = strtod(p, &end);
    if (end == p || n >= max)
      return -1;
    list[n++] = v;
    p = end;
  }
  return n;
}

static const char *type_name(enum sc_param_type type)
{
  switch (type) {
  case SC_PARAM_NUMBER:
    return "a number";
  case SC_PARAM_STRING:
    return "a string";
  case SC_PARAM_LIST:
    return "a list";
  case SC_PARAM_BOOL:
    return "a boolean";
  }
  return "a value";
}

/* Reads the given value as numbers (scalar, list or numeric text). */
static sc_status read_numbers(const struct parse_ctx *c, struct param_value *v)
{
  const struct sc_transform_param *g = c->given;
  int i, max = c->spec->max_count;

  v->is_list = 0;
  if (g->type == SC_PARAM_NUMBER) {
    v->n = 1;
    v->list[0] = g->number;
  } else if (g->type == SC_PARAM_LIST) {
    if (g->n_list < 1 || g->n_list > max || (g->n_list > 0 && !g->list))
      return bad_value(c, "expected 1 to %d numbers, got a list of %d", max,
                       g->n_list);
    v->n = g->n_list;
    v->is_list = 1;
    for (i = 0; i < g->n_list; i++)
      v->list[i] = g->list[i];
  } else if (g->type == SC_PARAM_STRING && g->string) {
    int n = parse_number_text(g->string, v->list, max);
    if (n < 1)
      return bad_value(c, "expected %s, got '%.60s'",
                       max > 1 ? "a number or a list of numbers" : "a number",
                       g->string);
    v->n = n;
    v->is_list = n > 1 || strchr(g->string, '[') != NULL;
  } else {
    return bad_value(c, "expected a number, got %s", type_name(g->type));
  }
  if (v->is_list && max == 1)
    return bad_value(c, "expected a single number, got a list");
  for (i = 0; i < v->n; i++) {
    double x = v->list[i];
    if (!isfinite(x) || x < c->spec->min || x > c->spec->max)
      return bad_value(c, "%.17g is out of range [%g, %g]", x, c->spec->min,
                       c->spec->max);
  }
  return SC_OK;
}

static sc_status check_integral(const struct parse_ctx *c,
                                const struct param_value *v)
{
  int i;
  for (i = 0; i < v->n; i++)
    if (v->list[i] != floor(v->list[i]))
      return bad_value(c, "expected an integer, got %.17g", v->list[i]);
  return SC_OK;
}

/* Matches text against "a|b|c" case-insensitively; copies the canonical
 * spelling. Returns 0 on a match. */
static int match_choice(const char *choices, const char *text, char *out,
                        size_t size)
{
  const char *p = choices;
  size_t len = strlen(text);
  while (*p) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n == len && strncasecmp(p, text, n) == 0 && n < size) {
      memcpy(out, p, n);
      out[n] = '\0';
      return 0;
    }
    if (!bar)
      break;
    p = bar + 1;
  }
  return -1;
}

static sc_status read_text(const struct parse_ctx *c, struct param_value *v)
{
  const struct sc_transform_param *g = c->given;
  if (g->type == SC_PARAM_STRING && g->string) {
    if (strlen(g->string) >= sizeof v->text)
      return bad_value(c, "value is too long (%zu characters)",
                       strlen(g->string));
    strcpy(v->text, g->string);
    return SC_OK;
  }
  if (g->type == SC_PARAM_NUMBER && c->spec->kind == PARAM_STRING) {
    snprintf(v->text, sizeof v->text, "%.17g", g->number);
    return SC_OK;
  }
  return bad_value(c, "expected a string, got %s", type_name(g->type));
}

static sc_status read_value(const struct parse_ctx *c, struct param_value *v)
{
  const struct param_spec *s = c->spec;
  const struct sc_transform_param *g = c->given;
  sc_status st;

  switch (s->kind) {
  case PARAM_INT:
  case PARAM_NUMBER:
  case PARAM_NUMBERS:
    st = read_numbers(c, v);
    if (!st && s->kind == PARAM_INT)
      st = check_integral(c, v);
    return st;
  case PARAM_SIZE:
    st = read_numbers(c, v);
    if (!st)
      st = check_integral(c, v);
    if (!st && v->n > 2)
      st = bad_value(c,
                     "expected an integer or [height, width], got %d "
                     "numbers",
                     v->n);
    return st;
  case PARAM_CHOICE:
    if (g->type != SC_PARAM_STRING || !g->string)
      return bad_value(c, "expected one of %s, got %s", s->choices,
                       type_name(g->type));
    if (match_choice(s->choices, g->string, v->text, sizeof v->text))
      return bad_value(c, "expected one of %s, got '%.60s'", s->choices,
                       g->string);
    return SC_OK;
  case PARAM_STRING:
    return read_text(c, v);
  case PARAM_BOOL:
    if (g->type == SC_PARAM_BOOL || g->type == SC_PARAM_NUMBER) {
      if (g->number != 0 && g->number != 1)
        return bad_value(c, "expected true or false, got %g", g->number);
      v->list[0] = g->number;
    } else if (g->type == SC_PARAM_STRING && g->string &&
               (strcasecmp(g->string, "true") == 0 ||
                strcasecmp(g->string, "false") == 0)) {
      v->list[0] = strcasecmp(g->string, "true") == 0;
    } else {
      return bad_value(c, "expected true or false");
    }
    v->n = 1;
    return SC_OK;
  }
  return bad_value(c, "unsupported parameter kind");
}

/* Fills the default of parameter i (not given by the user). */
static void set_default(const struct param_spec *s, struct param_value *v)
{
  memset(v, 0, sizeof *v);
  if (!s->default_text || !s->default_text[0])
    return;
  switch (s->kind) {
  case PARAM_CHOICE:
  case PARAM_STRING:
    snprintf(v->text, sizeof v->text, "%s", s->default_text);
    break;
  case PARAM_BOOL:
    v->list[0] = strcmp(s->default_text, "true") == 0;
    v->n = 1;
    break;
  default:
    v->n = parse_number_text(s->default_text, v->list, SC_TRANSFORM_MAX_LIST);
    if (v->n < 0)
      v->n = 0;
    break;
  }
}

static sc_status parse_params(struct sc_transform *t,
                              const struct sc_transform_param *params,
                              int n_params, struct sc_error *err)
{
  const struct transform_kind *k = t->kind;
  int i, next_positional = 0;

  if (n_params < 0 || (n_params > 0 && !params))
    return sc_fail(err, SC_ERR_CONFIG, "invalid parameter list");
  for (i = 0; i < k->n_params; i++)
    set_default(&k->params[i], &t->values[i]);
  for (i = 0; i < n_params; i++) {
    const struct sc_transform_param *g = &params[i];
    struct parse_ctx c;
    int idx;
    sc_status st;

    if (!g->key || !g->key[0]) {
      if (next_positional >= k->n_params)
        return sc_fail(err, SC_ERR_CONFIG, "too many parameters (takes %d)",
                       k->n_params);
      idx = next_positional++;
    } else {
      idx = find_param(k, g->key);
      if (idx < 0) {
        char known[256] = "";
        int j;
        for (j = 0; j < k->n_params; j++) {
          size_t len = strlen(known);
          snprintf(known + len, sizeof known - len, "%s%s", j ? ", " : "",
                   k->params[j].key);
        }
        if (g->line > 0)
          return sc_fail(err, SC_ERR_CONFIG,
                         "unknown parameter '%.60s' (line %d); known: %s",
                         g->key, g->line, k->n_params ? known : "none");
        return sc_fail(err, SC_ERR_CONFIG,
                       "unknown parameter '%.60s'; known: %s", g->key,
                       k->n_params ? known : "none");
      }
      next_positional = idx + 1;
    }
    c.kind = k;
    c.spec = &k->params[idx];
    c.given = g;
    c.err = err;
    if (t->values[idx].given)
      return bad_value(&c, "given twice");
    memset(&t->values[idx], 0, sizeof t->values[idx]);
    st = read_value(&c, &t->values[idx]);
    if (st)
      return st;
    t->values[idx].given = 1;
    t->lines[idx] = g->line;
  }
  for (i = 0; i < k->n_params; i++)
    if (k->params[i].required && !t->values[i].given)
      return sc_fail(err, SC_ERR_CONFIG, "missing parameter '%s'",
                     k->params[i].key);
  return SC_OK;
}

/* --- public API --------------------------------------------------------- */

sc_status sc_transform_create(const char *name,
                              const struct sc_transform_param *params,
                              int n_params, struct sc_transform **out,
                              struct sc_error *err)
{
  const struct transform_kind *k;
  struct sc_transform *t;
  sc_status st;

  *out = NULL;
  if (!name)
    return sc_fail(err, SC_ERR_CONFIG, "transformer without a name");
  k = find_kind(name);
  if (!k)
    return sc_fail(err, SC_ERR_CONFIG,
                   "unknown transformer '%.100s' (see the list in "
                   "spec/transforms.md and spec/cli.md)",
                   name);
  t = calloc(1, sizeof *t);
  if (!t)
    return sc_fail_nomem(err, "transform step");
  t->kind = k;
  st = parse_params(t, params, n_params, err);
  if (!st && k->check)
    st = k->check(t, err);
  if (st) {
    sc_error_prefix(err, "%s: ", k->name);
    free(t);
    return st;
  }
  *out = t;
  return SC_OK;
}

void sc_transform_free(struct sc_transform *t)
{
  free(t);
}

const char *sc_transform_name(const struct sc_transform *t)
{
  return t->kind->name;
}

sc_status sc_transform_apply(const struct sc_transform *t,
                             const struct sc_tensor *input,
                             enum sc_layout *layout, struct sc_tensor **output,
                             struct sc_error *err)
{
  enum sc_layout local = SC_LAYOUT_HWC;
  sc_status st;

  *output = NULL;
  if (layout)
    local = *layout;
  if (!input)
    return sc_fail(err, SC_ERR_INTERNAL, "%s: no input tensor", t->kind->name);
  if (input->n_elements > 0 && !input->data)
    return sc_fail(err, SC_ERR_INTERNAL, "%s: input tensor has no data",
                   t->kind->name);
  st = t->kind->apply(t, input, &local, output, err);
  if (st) {
    sc_error_prefix(err, "%s: ", t->kind->name);
    sc_tensor_free(*output);
    *output = NULL;
    return st;
  }
  if (layout)
    *layout = local;
  return SC_OK;
}

static char param_docs[N_KINDS][256];
static struct sc_transform_info infos[N_KINDS];
static pthread_once_t infos_once = PTHREAD_ONCE_INIT;

/* Fills infos[] once: "key=default" for every parameter, "key" alone when
 * it is required, "key=(none)" when optional without a default. */
static void build_infos(void)
{
  int i, j;
  for (i = 0; i < N_KINDS; i++) {
    const struct transform_kind *k = &kinds[i];
    char *doc = param_docs[i];
    doc[0] = '\0';
    for (j = 0; j < k->n_params; j++) {
      size_t len = strlen(doc);
      const struct param_spec *s = &k->params[j];
      if (s->default_text && s->default_text[0])
        snprintf(doc + len, sizeof param_docs[i] - len, "%s%s=%s",
                 j ? ", " : "", s->key, s->default_text);
      else
        snprintf(doc + len, sizeof param_docs[i] - len, "%s%s%s", j ? ", " : "",
                 s->key, s->required ? "" : "=(none)");
    }
    infos[i].name = k->name;
    infos[i].params = doc;
    infos[i].summary = k->summary;
  }
}

int sc_transform_count(void)
{
  return N_KINDS;
}

const struct sc_transform_info *sc_transform_info_at(int i)
{
  if (i < 0 || i >= N_KINDS)
    return NULL;
  pthread_once(&infos_once, build_infos);
  return &infos[i];
}

/* --- parameter access ---------------------------------------------------- */

const struct param_value *param_get(const struct sc_transform *t,
                                    const char *key)
{
  int i = find_param(t->kind, key);
  assert(i >= 0);
  if (i < 0) {
    static const struct param_value none;
    return &none;
  }
  return &t->values[i];
}

double param_number(const struct sc_transform *t, const char *key)
{
  const struct param_value *v = param_get(t, key);
  return v->n > 0 ? v->list[0] : 0.0;
}

int64_t param_int(const struct sc_transform *t, const char *key)
{
  return (int64_t)param_number(t, key);
}

int param_given(const struct sc_transform *t, const char *key)
{
  return param_get(t, key)->given;
}

int param_is(const struct sc_transform *t, const char *key, const char *text)
{
  return strcasecmp(param_get(t, key)->text, text) == 0;
}

const char *param_text(const struct sc_transform *t, const char *key)
{
  return param_get(t, key)->text;
}

sc_status param_fail(const struct sc_transform *t, const char *key,
                     struct sc_error *err, const char *fmt, ...)
{
  char detail[512], where[32] = "";
  int i = find_param(t->kind, key);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (i >= 0 && t->lines[i] > 0)
    snprintf(where, sizeof where, " (line %d)", t->lines[i]);
  return sc_fail(err, SC_ERR_CONFIG, "parameter '%s'%s: %s", key, where,
                 detail);
}

/* --- cross-parameter checks ------------------------------------------ */

static sc_status check_transpose(const struct sc_transform *t,
                                 struct sc_error *err)
{
  const struct param_value *v = param_get(t, "order");
  int seen[SC_MAX_RANK] = {0}, i;
  for (i = 0; i < v->n; i++) {
    int a = (int)v->list[i];
    if (v->list[i] != a || a < 0 || a >= v->n || seen[a])
      return param_fail(t, "order", err,
                        "must be a permutation of 0..%d, got %g at position %d",
                        v->n - 1, v->list[i], i);
    seen[a] = 1;
  }
  return SC_OK;
}

static sc_status check_nonzero_divisor(const struct sc_transform *t,
                                       struct sc_error *err)
{
  const struct param_value *v = param_get(t, "std");
  int i;
  for (i = 0; i < v->n; i++)
    if (v->list[i] == 0)
      return param_fail(t, "std", err, "must not be 0");
  return SC_OK;
}

/* height+width or size, not both, not neither. */
sc_status check_height_width(const struct sc_transform *t, struct sc_error *err)
{
  int h = param_given(t, "height"), w = param_given(t, "width");
  int s = param_given(t, "size");
  if (s && (h || w))
    return param_fail(t, "size", err, "give either size or height/width");
  if (!s && !(h && w))
    return param_fail(t, h ? "width" : "height", err,
                      "missing (give height and width, or size)");
  return SC_OK;
}

static sc_status check_pil_filter(const struct sc_transform *t,
                                  struct sc_error *err)
{
  enum sc_pil_filter f;
  if (pil_filter_from_name(param_text(t, "interpolation"), &f))
    return param_fail(t, "interpolation", err,
                      "expected a PIL filter (NEAREST, BILINEAR, BICUBIC, "
                      "LANCZOS, BOX, HAMMING or 0..5), got '%s'",
                      param_text(t, "interpolation"));
  return SC_OK;
}

/* --- shared input checks -------------------------------------------- */

int dtype_in_mask(enum sc_dtype dtype, int mask)
{
  switch (dtype) {
  case SC_DTYPE_UINT8:
    return (mask & DT_U8) != 0;
  case SC_DTYPE_INT8:
    return (mask & DT_I8) != 0;
  case SC_DTYPE_FLOAT:
    return (mask & DT_F32) != 0;
  case SC_DTYPE_DOUBLE:
    return (mask & DT_F64) != 0;
  default:
    return 0;
  }
}

sc_status check_image(const struct sc_tensor *in, int dtype_mask,
                      struct sc_error *err)
{
  char shape[96];
  if (in->rank != 3)
    return sc_fail(err, SC_ERR_CONFIG,
                   "expected an image (rank 3, HWC or CHW), got shape %s",
                   sc_shape_format(in->rank, in->dims, shape, sizeof shape));
  if (!dtype_in_mask(in->dtype, dtype_mask))
    return sc_fail(err, SC_ERR_CONFIG, "input dtype %s is not supported",
                   sc_dtype_name(in->dtype));
  if (in->n_elements == 0)
    return sc_fail(err, SC_ERR_CONFIG, "empty image %s",
                   sc_shape_format(in->rank, in->dims, shape, sizeof shape));
  return SC_OK;
}

sc_status resolve_layout(const struct sc_transform *t, const enum sc_layout *in,
                         enum sc_layout *out, struct sc_error *err)
{
  if (find_param(t->kind, "data_format") >= 0) {
    *out = param_is(t, "data_format", "HWC") ? SC_LAYOUT_HWC : SC_LAYOUT_CHW;
    return SC_OK;
  }
  if (*in == SC_LAYOUT_HWC || *in == SC_LAYOUT_CHW) {
    *out = *in;
    return SC_OK;
  }
  return sc_fail(err, SC_ERR_CONFIG,
                 "input is not an HWC or CHW image (layout after earlier "
                 "steps is %s)",
                 *in == SC_LAYOUT_NV12 ? "NV12" : "unknown");
}

sc_status new_tensor3(enum sc_dtype dtype, int64_t d0, int64_t d1, int64_t d2,
                      struct sc_tensor **out, struct sc_error *err)
{
  int64_t dims[3];
  *out = NULL;
  if (d0 < 0 || d1 < 0 || d2 < 0 || d0 > SC_IMAGE_MAX_SIDE ||
      d1 > SC_IMAGE_MAX_SIDE || d2 > SC_IMAGE_MAX_SIDE ||
      d0 * d1 * d2 > 4 * SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "output image %lldx%lldx%lld is too large (at most %lld "
                   "pixels)",
                   (long long)d0, (long long)d1, (long long)d2,
                   (long long)SC_IMAGE_MAX_PIXELS);
  dims[0] = d0;
  dims[1] = d1;
  dims[2] = d2;
  return sc_tensor_create_pooled(NULL, dtype, 3, dims, out, err);
}
