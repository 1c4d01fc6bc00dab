/* Colour conversions: the Horizon colour family (_ColorConvertTransformer:
 * GRAY, YUV444, YUV_BT601_VIDEO_RANGE and their "_128" variants),
 * YUVTransformer, and the OpenCV cvtColor conversions between BGR and YUV
 * 4:2:0 they rely on (spec/transforms.md 2.17, 2.18, 3.6). */
#include <math.h>
#include <string.h>

#include "transforms/internal.h"

/* --- OpenCV cvtColor -------------------------------------------------- */

static uint8_t clamp_u8(int64_t v)
{
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

sc_status sc_cv_bgr_to_i420(const struct sc_tensor *src, int rgb,
                            struct sc_tensor **out, struct sc_error *err)
{
  const int64_t half = 1 << 19;
  int64_t H, W, dims[2], y, x;
  const uint8_t *s = src->data;
  uint8_t *Y, *U, *V;
  sc_status st;

  *out = NULL;
  if (src->rank != 3 || src->dtype != SC_DTYPE_UINT8 || src->dims[2] != 3)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.cvtColor(BGR2YUV_I420): expected a uint8 HWC image "
                   "with 3 channels");
  H = src->dims[0];
  W = src->dims[1];
  if (H < 2 || W < 2 || H % 2 || W % 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.cvtColor(BGR2YUV_I420): height and width must be even "
                   "and at least 2, got %lldx%lld",
                   (long long)H, (long long)W);
  dims[0] = H * 3 / 2;
  dims[1] = W;
  st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 2, dims, out, err);
  if (st)
    return st;
  Y = (*out)->data;
  U = Y + H * W;
  V = U + H * W / 4;
  for (y = 0; y < H; y++) {
    const uint8_t *row = s + y * W * 3;
    uint8_t *yrow = Y + y * W;
    for (x = 0; x < W; x++) {
      const uint8_t *p = row + x * 3;
      int64_t R = rgb ? p[0] : p[2], G = p[1], B = rgb ? p[2] : p[0];
      yrow[x] = clamp_u8(
          (269484 * R + 528482 * G + 102760 * B + half + (16 << 20)) >> 20);
    }
    if (y % 2)
      continue;
    /* chroma from the top-left pixel of each 2x2 block */
    for (x = 0; x < W; x += 2) {
      const uint8_t *p = row + x * 3;
      int64_t R = rgb ? p[0] : p[2], G = p[1], B = rgb ? p[2] : p[0];
      int64_t i = (y / 2) * (W / 2) + x / 2;
      U[i] = clamp_u8(
          (-155188 * R - 305135 * G + 460324 * B + half + (128 << 20)) >> 20);
      V[i] = clamp_u8(
          (460324 * R - 385875 * G - 74448 * B + half + (128 << 20)) >> 20);
    }
  }
  return SC_OK;
}

sc_status sc_cv_yuv420_to_bgr(const struct sc_tensor *yuv,
                              enum sc_yuv420_format format, int64_t height,
                              int64_t width, struct sc_tensor **out,
                              struct sc_error *err)
{
  int64_t y, x;
  const uint8_t *Y, *C;
  uint8_t *d;
  sc_status st;

  *out = NULL;
  if (yuv->dtype != SC_DTYPE_UINT8)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.cvtColor(YUV2BGR): expected uint8 data, got %s",
                   sc_dtype_name(yuv->dtype));
  if (height < 2 || width < 2 || height % 2 || width % 2 ||
      height > SC_IMAGE_MAX_SIDE || width > SC_IMAGE_MAX_SIDE ||
      height * width > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.cvtColor(YUV2BGR): height and width must be even and "
                   "at least 2, got %lldx%lld",
                   (long long)height, (long long)width);
  if (yuv->n_elements != height * width * 3 / 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.cvtColor(YUV2BGR): %lld bytes do not hold a %lldx%lld "
                   "YUV 4:2:0 image (%lld bytes)",
                   (long long)yuv->n_elements, (long long)width,
                   (long long)height, (long long)(height * width * 3 / 2));
  st = new_tensor3(SC_DTYPE_UINT8, height, width, 3, out, err);
  if (st)
    return st;
  Y = yuv->data;
  C = Y + height * width;
  d = (*out)->data;
  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++) {
      int64_t ci = (y / 2) * (width / 2) + x / 2, u, v, yy;
      if (format == SC_YUV420_I420) {
        u = C[ci];
        v = C[height * width / 4 + ci];
      } else {
        int64_t a = C[2 * ci], b = C[2 * ci + 1];
        u = format == SC_YUV420_NV12 ? a : b;
        v = format == SC_YUV420_NV12 ? b : a;
      }
      u -= 128;
      v -= 128;
      yy = Y[y * width + x] - 16;
      yy = (yy < 0 ? 0 : yy) * 1220542;
      d[(y * width + x) * 3 + 2] =
          clamp_u8((yy + (1 << 19) + 1673527 * v) >> 20);
      d[(y * width + x) * 3 + 1] =
          clamp_u8((yy + (1 << 19) - 852492 * v - 409993 * u) >> 20);
      d[(y * width + x) * 3 + 0] =
          clamp_u8((yy + (1 << 19) + 2116026 * u) >> 20);
    }
  return SC_OK;
}

/* --- Horizon colour family ---------------------------------------------- */

/* y, u, v of one pixel in float32 (float32 input) or double (others), with
 * Python's left-to-right evaluation of the documented expressions. */
static void convert_f32(enum color_target target, float r, float g, float b,
                        float *o)
{
  switch (target) {
  case COLOR_GRAY:
  case COLOR_GRAY_128:
    o[0] = 0.299f * r + 0.587f * g + 0.114f * b;
    if (target == COLOR_GRAY_128)
      o[0] += -128.0f;
    break;
  case COLOR_YUV_BT601_VIDEO:
    o[0] = 0.257f * r + 0.504f * g + 0.098f * b + 16.0f;
    o[1] = -0.148f * r - 0.291f * g + 0.439f * b + 128.0f;
    o[2] = 0.439f * r - 0.368f * g - 0.071f * b + 128.0f;
    o[0] += -128.0f;
    o[1] += -128.0f;
    o[2] += -128.0f;
    break;
  default:
    o[0] = 0.299f * r + 0.587f * g + 0.114f * b;
    o[1] = -0.169f * r - 0.331f * g + 0.5f * b + 128.0f;
    o[2] = 0.5f * r - 0.419f * g - 0.081f * b + 128.0f;
    if (target == COLOR_YUV444_128) {
      o[0] += -128.0f;
      o[1] += -128.0f;
      o[2] += -128.0f;
    }
    break;
  }
}

static void convert_f64(enum color_target target, double r, double g, double b,
                        double *o)
{
  switch (target) {
  case COLOR_GRAY:
  case COLOR_GRAY_128:
    o[0] = 0.299 * r + 0.587 * g + 0.114 * b;
    if (target == COLOR_GRAY_128)
      o[0] += -128.0;
    break;
  case COLOR_YUV_BT601_VIDEO:
    o[0] = 0.257 * r + 0.504 * g + 0.098 * b + 16.0;
    o[1] = -0.148 * r - 0.291 * g + 0.439 * b + 128.0;
    o[2] = 0.439 * r - 0.368 * g - 0.071 * b + 128.0;
    o[0] += -128.0;
    o[1] += -128.0;
    o[2] += -128.0;
    break;
  default:
    o[0] = 0.299 * r + 0.587 * g + 0.114 * b;
    o[1] = -0.169 * r - 0.331 * g + 0.5 * b + 128.0;
    o[2] = 0.5 * r - 0.419 * g - 0.081 * b + 128.0;
    if (target == COLOR_YUV444_128) {
      o[0] += -128.0;
      o[1] += -128.0;
      o[2] += -128.0;
    }
    break;
  }
}

/* The per-pixel loop of apply_color for input element type T, computed in
 * type W (float for float32 input, double otherwise). */
#define COLOR_LOOP(T, W, convert)                                              \
  do {                                                                         \
    const T *s = in->data;                                                     \
    int64_t i, k, cs = lay == SC_LAYOUT_CHW ? n : 1;                           \
    int64_t ps = lay == SC_LAYOUT_CHW ? 1 : 3;                                 \
    int64_t os = lay == SC_LAYOUT_CHW ? n : 1,                                 \
            ob = lay == SC_LAYOUT_CHW ? 1 : n_out;                             \
    for (i = 0; i < n; i++) {                                                  \
      W o[3];                                                                  \
      W c0 = (W)s[i * ps], c1 = (W)s[i * ps + cs], c2 = (W)s[i * ps + 2 * cs]; \
      convert(target, rgb ? c0 : c2, c1, rgb ? c2 : c0, o);                    \
      for (k = 0; k < n_out; k++)                                              \
        y[i * ob + k * os] = (float)o[k];                                      \
    }                                                                          \
  } while (0)

/* RGB2GRAY, BGR2YUV444, ... and their snake_case steps. Output float32 in
 * the input layout (1 channel for GRAY). Note: the Python transformers add
 * a (zero) source offset in place first, which raises for uint8 input; here
 * uint8 input is computed as numpy would compute the expressions (double). */
sc_status apply_color(const struct sc_transform *t, const struct sc_tensor *in,
                      enum sc_layout *layout, struct sc_tensor **out,
                      struct sc_error *err)
{
  int rgb = t->kind->variant & 1;
  enum color_target target = (enum color_target)(t->kind->variant >> 1);
  int n_out = target == COLOR_GRAY || target == COLOR_GRAY_128 ? 1 : 3;
  enum sc_layout lay;
  int64_t H, W, C, n;
  float *y;
  sc_status st;

  st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  C = lay == SC_LAYOUT_CHW ? in->dims[0] : in->dims[2];
  H = lay == SC_LAYOUT_CHW ? in->dims[1] : in->dims[0];
  W = lay == SC_LAYOUT_CHW ? in->dims[2] : in->dims[1];
  if (C != 3)
    return sc_fail(err, SC_ERR_CONFIG, "expected 3 channels (%s), got %lld",
                   lay == SC_LAYOUT_CHW ? "CHW" : "HWC", (long long)C);
  st = lay == SC_LAYOUT_CHW
           ? new_tensor3(SC_DTYPE_FLOAT, n_out, H, W, out, err)
           : new_tensor3(SC_DTYPE_FLOAT, H, W, n_out, out, err);
  if (st)
    return st;
  y = (*out)->data;
  n = H * W;
  switch (in->dtype) {
  case SC_DTYPE_FLOAT:
    COLOR_LOOP(float, float, convert_f32);
    break;
  case SC_DTYPE_UINT8:
    COLOR_LOOP(uint8_t, double, convert_f64);
    break;
  case SC_DTYPE_INT8:
    COLOR_LOOP(int8_t, double, convert_f64);
    break;
  default:
    COLOR_LOOP(double, double, convert_f64);
    break;
  }
  *layout = lay;
  return SC_OK;
}

/* YUVTransformer: uint8(image) (RGB reversed to BGR), cv2 BGR2YUV_I420,
 * chroma repeated 2x2, float32 HWC (Y, U, V). */
sc_status apply_yuv444_i420(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *u8 = NULL, *i420 = NULL;
  int64_t H, W, i, y, x;
  const uint8_t *Y, *U, *V;
  float *d;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st && in->dims[2] != 3)
    st = sc_fail(err, SC_ERR_CONFIG, "expected an HWC image with 3 channels");
  if (st)
    return st;
  for (i = 0; i < in->n_elements; i++) {
    double v = sc_dtype_load(in->dtype, in->data, i);
    if (!(v >= 0 && v < 256))
      return sc_fail(err, SC_ERR_CONFIG,
                     "values must lie in [0, 256), element %lld is %g",
                     (long long)i, v);
  }
  st = cast_tensor(in, SC_DTYPE_UINT8, &u8, err);
  if (!st)
    st =
        sc_cv_bgr_to_i420(u8, param_is(t, "color_sequence", "RGB"), &i420, err);
  sc_tensor_free(u8);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  st = new_tensor3(SC_DTYPE_FLOAT, H, W, 3, out, err);
  if (st) {
    sc_tensor_free(i420);
    return st;
  }
  Y = i420->data;
  U = Y + H * W;
  V = U + H * W / 4;
  d = (*out)->data;
  for (y = 0; y < H; y++)
    for (x = 0; x < W; x++) {
      int64_t c = (y / 2) * (W / 2) + x / 2;
      d[(y * W + x) * 3] = Y[y * W + x];
      d[(y * W + x) * 3 + 1] = U[c];
      d[(y * W + x) * 3 + 2] = V[c];
    }
  sc_tensor_free(i420);
  *layout = SC_LAYOUT_HWC;
  return SC_OK;
}
