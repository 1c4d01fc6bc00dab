/* NV12 transformers: BGR2NV12 / RGB2NV12 (rgb_calc and opencv modes),
 * NV12ToYUV444, and the YUV 4:2:0 -> BGR steps (spec/transforms.md 2.20,
 * 2.21, 3.6). */
#include <string.h>

#include "transforms/internal.h"

#define V_STEP 1

/* The HWC view of the input: the input itself or (class transformers with
 * data_format CHW) a transposed copy in *owned. */
static sc_status as_hwc(const struct sc_transform *t,
                        const struct sc_tensor *in, enum sc_layout *layout,
                        const struct sc_tensor **hwc, struct sc_tensor **owned,
                        struct sc_error *err)
{
  static const int to_hwc[3] = {1, 2, 0};
  enum sc_layout lay;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  *owned = NULL;
  *hwc = in;
  if (lay == SC_LAYOUT_CHW) {
    st = transpose_tensor(in, to_hwc, owned, err);
    *hwc = *owned;
  }
  if (!st && (*hwc)->dims[2] != 3)
    st = sc_fail(err, SC_ERR_CONFIG, "expected 3 channels, got %lld",
                 (long long)(*hwc)->dims[2]);
  return st;
}

/* The loop of nv12_rgb_calc for element type T computed in type W; F is
 * the literal suffix (f for float constants). */
#define NV12_LOOP(T, W, F)                                                     \
  do {                                                                         \
    const T *s = img->data;                                                    \
    for (y = 0; y < H; y++)                                                    \
      for (x = 0; x < W_; x++) {                                               \
        const T *p = s + (y * W_ + x) * 3;                                     \
        W r = (W)(rgb ? p[0] : p[2]), g = (W)p[1], b = (W)(rgb ? p[2] : p[0]); \
        Y[y * W_ + x] =                                                        \
            numpy_to_u8(0.299##F * r + 0.587##F * g + 0.114##F * b);           \
        if (y % 2 == 0 && x % 2 == 0) {                                        \
          int64_t c = (y / 2) * W_ + x;                                        \
          UV[c] = numpy_to_u8(-0.169##F * r - 0.331##F * g + 0.5##F * b +      \
                              128.0##F);                                       \
          UV[c + 1] = numpy_to_u8(0.5##F * r - 0.419##F * g - 0.081##F * b +   \
                                  128.0##F);                                   \
        }                                                                      \
      }                                                                        \
  } while (0)

/* rgb_calc: full-range BT.601 in float32 (float32 input) or double (other
 * inputs), chroma of the top-left pixel of each 2x2 block, truncated to
 * uint8; output (H + ceil(H/2), W). */
static sc_status nv12_rgb_calc(const struct sc_tensor *img, int rgb,
                               struct sc_tensor **out, struct sc_error *err)
{
  int64_t H = img->dims[0], W_ = img->dims[1], dims[2], y, x;
  uint8_t *Y, *UV;
  sc_status st;

  if (W_ % 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "rgb_calc NV12 needs an even width, got %lld (numpy "
                   "vstack fails)",
                   (long long)W_);
  dims[0] = H + (H + 1) / 2;
  dims[1] = W_;
  st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 2, dims, out, err);
  if (st)
    return st;
  Y = (*out)->data;
  UV = Y + H * W_;
  switch (img->dtype) {
  case SC_DTYPE_FLOAT:
    NV12_LOOP(float, float, f);
    break;
  case SC_DTYPE_UINT8:
    NV12_LOOP(uint8_t, double, );
    break;
  case SC_DTYPE_INT8:
    NV12_LOOP(int8_t, double, );
    break;
  default:
    NV12_LOOP(double, double, );
    break;
  }
  return SC_OK;
}

/* opencv: uint8(image), cv2 BGR/RGB2YUV_I420, U and V planes interleaved;
 * 1-D output of H*W*3/2 bytes. */
static sc_status nv12_opencv(const struct sc_tensor *img, int rgb,
                             struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *u8 = NULL, *i420 = NULL;
  int64_t H = img->dims[0], W = img->dims[1], n, i;
  const uint8_t *U, *V;
  uint8_t *d;
  sc_status st = cast_tensor(img, SC_DTYPE_UINT8, &u8, err);
  if (!st)
    st = sc_cv_bgr_to_i420(u8, rgb, &i420, err);
  sc_tensor_free(u8);
  if (!st) {
    n = H * W * 3 / 2;
    st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 1, &n, out, err);
  }
  if (st) {
    sc_tensor_free(i420);
    return st;
  }
  d = (*out)->data;
  memcpy(d, i420->data, (size_t)(H * W));
  U = (const uint8_t *)i420->data + H * W;
  V = U + H * W / 4;
  for (i = 0; i < H * W / 4; i++) {
    d[H * W + 2 * i] = U[i];
    d[H * W + 2 * i + 1] = V[i];
  }
  sc_tensor_free(i420);
  return SC_OK;
}

/* BGR2NV12Transformer / RGB2NV12Transformer (variant 1 = RGB) and the
 * bgr_to_nv12 / rgb_to_nv12 steps. */
sc_status apply_to_nv12(const struct sc_transform *t,
                        const struct sc_tensor *in, enum sc_layout *layout,
                        struct sc_tensor **out, struct sc_error *err)
{
  const struct sc_tensor *hwc;
  struct sc_tensor *owned = NULL;
  int rgb = t->kind->variant == 1;
  sc_status st = as_hwc(t, in, layout, &hwc, &owned, err);
  if (!st && (hwc->dims[0] * hwc->dims[1]) % 2)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "NV12 needs an even number of pixels, got %lldx%lld",
                 (long long)hwc->dims[0], (long long)hwc->dims[1]);
  if (!st) {
    if (param_is(t, "cvt_mode", "opencv"))
      st = nv12_opencv(hwc, rgb, out, err);
    else
      st = nv12_rgb_calc(hwc, rgb, out, err);
  }
  sc_tensor_free(owned);
  if (!st)
    *layout = SC_LAYOUT_NV12;
  return st;
}

/* Height and width of the NV12 input: from the parameters when given,
 * else from a 2-D (H*3/2, W) shape. */
static sc_status nv12_size(const struct sc_transform *t,
                           const struct sc_tensor *in, int64_t *h, int64_t *w,
                           struct sc_error *err)
{
  char shape[96];
  if (t->kind->variant == V_STEP) {
    if (param_given(t, "height") && param_given(t, "width")) {
      *h = param_int(t, "height");
      *w = param_int(t, "width");
      return SC_OK;
    }
    if (param_given(t, "height") || param_given(t, "width"))
      return param_fail(t, param_given(t, "height") ? "width" : "height", err,
                        "missing (give both height and width)");
    if (in->rank == 2 && in->dims[0] % 3 == 0) {
      *h = in->dims[0] / 3 * 2;
      *w = in->dims[1];
      return SC_OK;
    }
    return sc_fail(err, SC_ERR_CONFIG,
                   "cannot infer the image size from shape %s: give height "
                   "and width",
                   sc_shape_format(in->rank, in->dims, shape, sizeof shape));
  }
  {
    const struct param_value *v = param_get(t, "target_size");
    *h = (int64_t)v->list[0];
    *w = (int64_t)v->list[v->n > 1 ? 1 : 0];
  }
  return SC_OK;
}

/* NV12ToYUV444Transformer / nv12_to_yuv444: Y plus chroma repeated 2x2
 * (PIL NEAREST to twice the size), uint8 HWC or CHW. The legacy [L]
 * version cast the result to int8; this follows the newer [N] and the
 * mmcv port (uint8), spec/transforms.md 5.1. */
sc_status apply_nv12_to_yuv444(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err)
{
  int step = t->kind->variant == V_STEP;
  int chw = param_is(t, step ? "layout" : "yuv444_output_layout", "CHW");
  int64_t h = 0, w = 0, y, x;
  const uint8_t *Y, *UV;
  uint8_t *d;
  sc_status st;

  if (in->dtype != SC_DTYPE_UINT8)
    return sc_fail(err, SC_ERR_CONFIG, "expected uint8 NV12 data, got %s",
                   sc_dtype_name(in->dtype));
  st = nv12_size(t, in, &h, &w, err);
  if (st)
    return st;
  if (h % 2 || w % 2 || h < 2 || w < 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "NV12 height and width must be even, got %lldx%lld",
                   (long long)h, (long long)w);
  if (in->n_elements != h * w * 3 / 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "%lld bytes are not a %lldx%lld NV12 image (%lld bytes)",
                   (long long)in->n_elements, (long long)h, (long long)w,
                   (long long)(h * w * 3 / 2));
  st = chw ? new_tensor3(SC_DTYPE_UINT8, 3, h, w, out, err)
           : new_tensor3(SC_DTYPE_UINT8, h, w, 3, out, err);
  if (st)
    return st;
  Y = in->data;
  UV = Y + h * w;
  d = (*out)->data;
  for (y = 0; y < h; y++)
    for (x = 0; x < w; x++) {
      int64_t c = (y / 2) * w + (x / 2) * 2, p = y * w + x;
      if (chw) {
        d[p] = Y[p];
        d[h * w + p] = UV[c];
        d[2 * h * w + p] = UV[c + 1];
      } else {
        d[p * 3] = Y[p];
        d[p * 3 + 1] = UV[c];
        d[p * 3 + 2] = UV[c + 1];
      }
    }
  *layout = chw ? SC_LAYOUT_CHW : SC_LAYOUT_HWC;
  return SC_OK;
}

/* nv12_to_bgr / nv21_to_bgr / i420_to_bgr: cv2.cvtColor to BGR. */
sc_status apply_yuv420_to_bgr(const struct sc_transform *t,
                              const struct sc_tensor *in,
                              enum sc_layout *layout, struct sc_tensor **out,
                              struct sc_error *err)
{
  int64_t h, w;
  sc_status st;
  char shape[96];
  if (param_given(t, "height") != param_given(t, "width"))
    return param_fail(t, param_given(t, "height") ? "width" : "height", err,
                      "missing (give both height and width)");
  if (param_given(t, "height")) {
    h = param_int(t, "height");
    w = param_int(t, "width");
  } else if (in->rank == 2 && in->dims[0] % 3 == 0) {
    h = in->dims[0] / 3 * 2;
    w = in->dims[1];
  } else {
    return sc_fail(err, SC_ERR_CONFIG,
                   "cannot infer the image size from shape %s: give height "
                   "and width",
                   sc_shape_format(in->rank, in->dims, shape, sizeof shape));
  }
  st = sc_cv_yuv420_to_bgr(in, (enum sc_yuv420_format)t->kind->variant, h, w,
                           out, err);
  if (!st)
    *layout = SC_LAYOUT_HWC;
  return st;
}
