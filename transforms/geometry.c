/* Geometric transformers: the crops (CenterCrop, PILCenterCrop,
 * LongSideCrop, PaddedCenterCrop, crop, center_crop), the pads (pad,
 * PadResize, pad_resize, Pad) and WarpAffine (spec/transforms.md 2.6-2.9,
 * 2.13, 2.15, 2.22). Class-name transformers return float32 unless their
 * data_type says uint8; snake_case steps keep the input dtype. */
#include <math.h>
#include <string.h>

#include "transforms/internal.h"

#define V_STEP 1

/* Copies rows [top, top+h) and columns [left, left+w) of an HWC or CHW
 * image into a new tensor; the rectangle must lie inside the image. */
static sc_status crop_layout(const struct sc_tensor *in, enum sc_layout lay,
                             int64_t top, int64_t left, int64_t h, int64_t w,
                             struct sc_tensor **out, struct sc_error *err)
{
  size_t esize = sc_dtype_size(in->dtype);
  int64_t y, c;
  sc_status st;

  if (lay == SC_LAYOUT_CHW) {
    int64_t C = in->dims[0], H = in->dims[1], W = in->dims[2];
    st = new_tensor3(in->dtype, C, h, w, out, err);
    if (st)
      return st;
    for (c = 0; c < C; c++)
      for (y = 0; y < h; y++)
        memcpy((uint8_t *)(*out)->data + (size_t)((c * h + y) * w) * esize,
               (const uint8_t *)in->data +
                   (size_t)((c * H + top + y) * W + left) * esize,
               (size_t)w * esize);
    return SC_OK;
  }
  {
    int64_t W = in->dims[1], C = in->dims[2];
    size_t row = (size_t)(w * C) * esize;
    st = new_tensor3(in->dtype, h, w, C, out, err);
    if (st)
      return st;
    for (y = 0; y < h; y++)
      memcpy((uint8_t *)(*out)->data + (size_t)y * row,
             (const uint8_t *)in->data +
                 (size_t)(((top + y) * W + left) * C) * esize,
             row);
  }
  return SC_OK;
}

sc_status crop_tensor(const struct sc_tensor *in, int64_t top, int64_t left,
                      int64_t h, int64_t w, struct sc_tensor **out,
                      struct sc_error *err)
{
  return crop_layout(in, SC_LAYOUT_HWC, top, left, h, w, out, err);
}

/* Height and width of an HWC/CHW image. */
static void image_hw(const struct sc_tensor *in, enum sc_layout lay, int64_t *h,
                     int64_t *w)
{
  *h = lay == SC_LAYOUT_CHW ? in->dims[1] : in->dims[0];
  *w = lay == SC_LAYOUT_CHW ? in->dims[2] : in->dims[1];
}

static sc_status check_fits(int64_t top, int64_t left, int64_t h, int64_t w,
                            int64_t H, int64_t W, struct sc_error *err)
{
  if (top < 0 || left < 0 || h < 1 || w < 1 || top + h > H || left + w > W)
    return sc_fail(err, SC_ERR_CONFIG,
                   "crop of %lldx%lld at (%lld, %lld) does not fit the "
                   "%lldx%lld image (height x width)",
                   (long long)h, (long long)w, (long long)top, (long long)left,
                   (long long)H, (long long)W);
  return SC_OK;
}

/* Converts `t` (consumed) to float32 (or uint8 when to_u8) as numpy astype
 * does; *out receives the result. */
static sc_status finish_dtype(struct sc_tensor *t, int to_u8,
                              struct sc_tensor **out, struct sc_error *err)
{
  enum sc_dtype want = to_u8 ? SC_DTYPE_UINT8 : SC_DTYPE_FLOAT;
  sc_status st;
  if (t->dtype == want) {
    *out = t;
    return SC_OK;
  }
  st = cast_tensor(t, want, out, err);
  sc_tensor_free(t);
  return st;
}

/* CenterCropTransformer (HWC, square, float32 or uint8) and center_crop
 * (height/width or size, keeps dtype, HWC or CHW). Both use numpy's
 * up = H // 2 - h // 2, left = W // 2 - w // 2. */
sc_status apply_center_crop(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err)
{
  int step = t->kind->variant == V_STEP;
  enum sc_layout lay = SC_LAYOUT_HWC;
  int64_t H, W, h, w, top, left;
  struct sc_tensor *crop;
  sc_status st;

  st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st && step)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  image_hw(in, lay, &H, &W);
  if (step) {
    const struct param_value *size = param_get(t, "size");
    if (size->given) {
      h = (int64_t)size->list[0];
      w = (int64_t)size->list[size->n > 1 ? 1 : 0];
    } else {
      h = param_int(t, "height");
      w = param_int(t, "width");
    }
  } else {
    h = w = param_int(t, "crop_size");
  }
  top = H / 2 - h / 2;
  left = W / 2 - w / 2;
  st = check_fits(top, left, h, w, H, W, err);
  if (!st)
    st = crop_layout(in, lay, top, left, h, w, &crop, err);
  if (st)
    return st;
  if (step) {
    *out = crop;
    return SC_OK;
  }
  return finish_dtype(crop, param_is(t, "data_type", "uint8"), out, err);
}

/* `crop`: an explicit rectangle, keeps dtype. */
sc_status apply_crop(const struct sc_transform *t, const struct sc_tensor *in,
                     enum sc_layout *layout, struct sc_tensor **out,
                     struct sc_error *err)
{
  enum sc_layout lay;
  int64_t H, W;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  image_hw(in, lay, &H, &W);
  st = check_fits(param_int(t, "top"), param_int(t, "left"),
                  param_int(t, "height"), param_int(t, "width"), H, W, err);
  if (st)
    return st;
  return crop_layout(in, lay, param_int(t, "top"), param_int(t, "left"),
                     param_int(t, "height"), param_int(t, "width"), out, err);
}

/* Python round(): half to even on the double. */
static double py_round(double x)
{
  return nearbyint(x);
}

/* PILCenterCropTransformer: PIL crop of the uint8-cast RGB image, pixels
 * outside the image are 0, output float32. */
sc_status apply_pil_center_crop(const struct sc_transform *t,
                                const struct sc_tensor *in,
                                enum sc_layout *layout, struct sc_tensor **out,
                                struct sc_error *err)
{
  const struct param_value *size = param_get(t, "size");
  int64_t H, W, ch, cw, top, left, y, x, c;
  struct sc_tensor *u8 = NULL;
  float *dst;
  sc_status st;

  st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st && in->dims[2] != 3)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "expected an HWC image with 3 channels (PIL RGB), got %lld",
                 (long long)in->dims[2]);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  ch = (int64_t)size->list[0];
  cw = (int64_t)size->list[size->n > 1 ? 1 : 0];
  top = (int64_t)py_round((double)(H - ch) / 2.0);
  left = (int64_t)py_round((double)(W - cw) / 2.0);
  st = cast_tensor(in, SC_DTYPE_UINT8, &u8, err);
  if (!st)
    st = new_tensor3(SC_DTYPE_FLOAT, ch, cw, 3, out, err);
  if (st) {
    sc_tensor_free(u8);
    return st;
  }
  dst = (*out)->data;
  for (y = 0; y < ch; y++)
    for (x = 0; x < cw; x++)
      for (c = 0; c < 3; c++) {
        int64_t sy = top + y, sx = left + x;
        dst[(y * cw + x) * 3 + c] =
            sy >= 0 && sy < H && sx >= 0 && sx < W
                ? (float)((const uint8_t *)u8->data)[(sy * W + sx) * 3 + c]
                : 0.0f;
      }
  sc_tensor_free(u8);
  return SC_OK;
}

/* LongSideCropTransformer: H < W: image[:, off:off+H]; else
 * image[off:off+H, :] with off = (H - W) // 2 (the source's use of H, not
 * W, keeps H - off rows). Output float32. */
sc_status apply_long_side_crop(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err)
{
  int64_t H, W, off;
  struct sc_tensor *crop;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  if (H < W) {
    off = (W - H) / 2;
    st = crop_tensor(in, 0, off, H, H, &crop, err);
  } else {
    off = (H - W) / 2;
    st = crop_tensor(in, off, 0, H - off, W, &crop, err);
  }
  if (st)
    return st;
  return finish_dtype(crop, 0, out, err);
}

/* PaddedCenterCropTransformer: size = int(image_size / (image_size +
 * crop_pad) * min(H, W)), offsets ((H - size) + 1) // 2. float32. */
sc_status apply_padded_center_crop(const struct sc_transform *t,
                                   const struct sc_tensor *in,
                                   enum sc_layout *layout,
                                   struct sc_tensor **out, struct sc_error *err)
{
  double image_size = (double)param_int(t, "image_size");
  double crop_pad = (double)param_int(t, "crop_pad");
  int64_t H, W, size;
  struct sc_tensor *crop;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  size = (int64_t)((image_size / (image_size + crop_pad)) *
                   (double)(H < W ? H : W));
  if (size < 1)
    return sc_fail(err, SC_ERR_CONFIG, "crop size is 0 for a %lldx%lld image",
                   (long long)H, (long long)W);
  st = crop_tensor(in, (H - size + 1) / 2, (W - size + 1) / 2, size, size,
                   &crop, err);
  if (st)
    return st;
  return finish_dtype(crop, 0, out, err);
}

/* Fill value of dtype for `value`; SC_ERR_CONFIG naming `key` if an integer
 * image cannot hold it exactly. */
static sc_status fill_value(const struct sc_transform *t, const char *key,
                            enum sc_dtype dtype, double value, double *out,
                            struct sc_error *err)
{
  double lo = 0, hi = 0;
  if (dtype == SC_DTYPE_FLOAT) {
    *out = (float)value;
    return SC_OK;
  }
  if (dtype == SC_DTYPE_DOUBLE) {
    *out = value;
    return SC_OK;
  }
  if (dtype == SC_DTYPE_UINT8) {
    lo = 0;
    hi = 255;
  } else {
    lo = -128;
    hi = 127;
  }
  if (value != floor(value) || value < lo || value > hi)
    return param_fail(t, key, err, "%g does not fit a %s image", value,
                      sc_dtype_name(dtype));
  *out = value;
  return SC_OK;
}

/* A new image (HWC or CHW) of dtype filled with `value`. */
static sc_status filled(enum sc_dtype dtype, enum sc_layout lay, int64_t h,
                        int64_t w, int64_t c, double value,
                        struct sc_tensor **out, struct sc_error *err)
{
  int64_t i;
  sc_status st = lay == SC_LAYOUT_CHW ? new_tensor3(dtype, c, h, w, out, err)
                                      : new_tensor3(dtype, h, w, c, out, err);
  if (st)
    return st;
  for (i = 0; i < (*out)->n_elements; i++)
    sc_dtype_store(dtype, (*out)->data, i, value);
  return SC_OK;
}

/* Copies `src` (same dtype and layout as dst) into dst at (top, left). */
static void paste(struct sc_tensor *dst, const struct sc_tensor *src,
                  enum sc_layout lay, int64_t top, int64_t left)
{
  size_t esize = sc_dtype_size(dst->dtype);
  int64_t y, c;
  if (lay == SC_LAYOUT_CHW) {
    int64_t C = src->dims[0], h = src->dims[1], w = src->dims[2];
    int64_t H = dst->dims[1], W = dst->dims[2];
    for (c = 0; c < C; c++)
      for (y = 0; y < h; y++)
        memcpy((uint8_t *)dst->data +
                   (size_t)((c * H + top + y) * W + left) * esize,
               (const uint8_t *)src->data + (size_t)((c * h + y) * w) * esize,
               (size_t)w * esize);
    return;
  }
  {
    int64_t h = src->dims[0], w = src->dims[1], C = src->dims[2];
    int64_t W = dst->dims[1];
    for (y = 0; y < h; y++)
      memcpy((uint8_t *)dst->data +
                 (size_t)(((top + y) * W + left) * C) * esize,
             (const uint8_t *)src->data + (size_t)(y * w * C) * esize,
             (size_t)(w * C) * esize);
  }
}

/* `pad`: constant padding, keeps dtype. */
sc_status apply_pad(const struct sc_transform *t, const struct sc_tensor *in,
                    enum sc_layout *layout, struct sc_tensor **out,
                    struct sc_error *err)
{
  enum sc_layout lay;
  int64_t H, W, C, top = param_int(t, "top"), left = param_int(t, "left");
  int64_t oh, ow;
  double value = 0;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (!st)
    st = fill_value(t, "value", in->dtype, param_number(t, "value"), &value,
                    err);
  if (st)
    return st;
  image_hw(in, lay, &H, &W);
  C = lay == SC_LAYOUT_CHW ? in->dims[0] : in->dims[2];
  oh = H + top + param_int(t, "bottom");
  ow = W + left + param_int(t, "right");
  if (oh > SC_IMAGE_MAX_SIDE || ow > SC_IMAGE_MAX_SIDE)
    return sc_fail(err, SC_ERR_CONFIG, "padded size %lldx%lld is too large",
                   (long long)oh, (long long)ow);
  st = filled(in->dtype, lay, oh, ow, C, value, out, err);
  if (!st)
    paste(*out, in, lay, top, left);
  return st;
}

/* Resizes an HWC image with cv2.resize INTER_LINEAR; the input must be
 * uint8 or float32 (what cv2 accepts). */
static sc_status cv_linear(const struct sc_tensor *in, int64_t h, int64_t w,
                           struct sc_tensor **out, struct sc_error *err)
{
  if (h < 1 || w < 1)
    return sc_fail(err, SC_ERR_CONFIG,
                   "the resized image would be empty (%lldx%lld)", (long long)h,
                   (long long)w);
  return sc_cv_resize(in, h, w, SC_CV_INTER_LINEAR, out, err);
}

/* PadResizeTransformer (float32 out, 3 channels) and pad_resize (keeps
 * dtype): scale = min(tw / W, th / H), nh = int(scale * H), nw = int(scale
 * * W), cv2.resize, paste centred ('boundary') or top-left. */
sc_status apply_pad_resize(const struct sc_transform *t,
                           const struct sc_tensor *in, enum sc_layout *layout,
                           struct sc_tensor **out, struct sc_error *err)
{
  int step = t->kind->variant == V_STEP;
  int64_t th, tw, H, W, nh, nw, dh = 0, dw = 0;
  double scale, value = 0;
  struct sc_tensor *r = NULL, *rf = NULL;
  int boundary;
  sc_status st;

  st = check_image(in, DT_U8 | DT_F32, err);
  if (!st && step && *layout != SC_LAYOUT_HWC)
    st = sc_fail(err, SC_ERR_CONFIG, "expected an HWC image");
  if (!st && !step && in->dims[2] != 3)
    st = sc_fail(err, SC_ERR_CONFIG, "expected 3 channels, got %lld",
                 (long long)in->dims[2]);
  if (st)
    return st;
  if (step) {
    const struct param_value *size = param_get(t, "size");
    th = size->given ? (int64_t)size->list[0] : param_int(t, "height");
    tw = size->given ? (int64_t)size->list[size->n > 1 ? 1 : 0]
                     : param_int(t, "width");
    boundary = param_is(t, "position", "boundary");
    st = fill_value(t, "value", in->dtype, param_number(t, "value"), &value,
                    err);
  } else {
    const struct param_value *size = param_get(t, "target_size");
    th = (int64_t)size->list[0];
    tw = (int64_t)size->list[size->n > 1 ? 1 : 0];
    boundary = param_is(t, "pad_position", "boundary");
    value = (float)param_number(t, "pad_value");
  }
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  scale = fmin((double)tw / (double)W, (double)th / (double)H);
  nh = (int64_t)(scale * (double)H);
  nw = (int64_t)(scale * (double)W);
  st = cv_linear(in, nh, nw, &r, err);
  if (!st && !step)
    st = cast_tensor(r, SC_DTYPE_FLOAT, &rf, err);
  if (!st)
    st = filled(step ? in->dtype : SC_DTYPE_FLOAT, SC_LAYOUT_HWC, th, tw,
                in->dims[2], value, out, err);
  if (!st) {
    if (boundary) {
      dh = (th - nh) / 2;
      dw = (tw - nw) / 2;
    }
    paste(*out, step ? r : rf, SC_LAYOUT_HWC, dh, dw);
  }
  sc_tensor_free(r);
  sc_tensor_free(rf);
  return st;
}

/* PadTransformer: resize the long side to target_size (Python round of the
 * scaled sides), pad bottom/right with 0 to multiples of size_divisor,
 * through a uint8 canvas, then float32. */
sc_status apply_pad_divisor(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err)
{
  double divisor = (double)param_int(t, "size_divisor");
  double s;
  int64_t H, W, h, w, hp, wp;
  struct sc_tensor *r = NULL, *r8 = NULL, *canvas = NULL;
  sc_status st = check_image(in, DT_U8 | DT_F32, err);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  s = (double)param_int(t, "target_size") / (double)(H > W ? H : W);
  st = cv_linear(in, (int64_t)py_round((double)H * s),
                 (int64_t)py_round((double)W * s), &r, err);
  if (!st)
    st = cast_tensor(r, SC_DTYPE_UINT8, &r8, err);
  if (!st) {
    h = r8->dims[0];
    w = r8->dims[1];
    hp = (int64_t)ceil((double)h / divisor) * (int64_t)divisor;
    wp = (int64_t)ceil((double)w / divisor) * (int64_t)divisor;
    if (hp > SC_IMAGE_MAX_SIDE || wp > SC_IMAGE_MAX_SIDE)
      st = sc_fail(err, SC_ERR_CONFIG, "padded size %lldx%lld is too large",
                   (long long)hp, (long long)wp);
    else
      st = filled(SC_DTYPE_UINT8, SC_LAYOUT_HWC, hp, wp, in->dims[2], 0,
                  &canvas, err);
  }
  if (!st) {
    paste(canvas, r8, SC_LAYOUT_HWC, 0, 0);
    st = cast_tensor(canvas, SC_DTYPE_FLOAT, out, err);
  }
  sc_tensor_free(r);
  sc_tensor_free(r8);
  sc_tensor_free(canvas);
  return st;
}

/* WarpAffineTransformer (CenterNet-style get_affine_transform with rot = 0
 * and output size (iw, ih)), every point stored as float32 as numpy does,
 * then cv2.getAffineTransform and cv2.warpAffine; output float32. */
sc_status apply_warp_affine(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err)
{
  const struct param_value *shape = param_get(t, "input_shape");
  double scale = param_number(t, "scale"), m[6];
  int64_t ih = (int64_t)shape->list[0];
  int64_t iw = (int64_t)shape->list[shape->n > 1 ? 1 : 0];
  int64_t H, W, nh, nw;
  float src[6], dst[6], c0, c1, s32, d0, d1;
  struct sc_tensor *warped = NULL;
  sc_status st = check_image(in, DT_U8 | DT_F32, err);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  nh = (int64_t)((double)H * scale);
  nw = (int64_t)((double)W * scale);
  c0 = (float)((double)nw / 2.0);
  c1 = (float)((double)nh / 2.0);
  s32 = (float)(double)(H > W ? H : W); /* np.array([s, s], float32) */
  /* src[0] = center; src[1] = center + (0, s * -0.5) (float64 sum of a
   * float32 and a float64 number, stored as float32) */
  src[0] = c0;
  src[1] = c1;
  src[2] = c0;
  src[3] = (float)((double)c1 + (double)s32 * -0.5);
  d0 = src[0] - src[2];
  d1 = src[1] - src[3];
  src[4] = src[2] + -d1;
  src[5] = src[3] + d0;
  dst[0] = (float)((double)iw * 0.5);
  dst[1] = (float)((double)ih * 0.5);
  dst[2] = dst[0] + 0.0f;
  dst[3] = dst[1] + (float)((double)iw * -0.5);
  d0 = dst[0] - dst[2];
  d1 = dst[1] - dst[3];
  dst[4] = dst[2] + -d1;
  dst[5] = dst[3] + d0;
  sc_cv_get_affine_transform(src, dst, m);
  st = sc_cv_warp_affine(in, m, ih, iw, &warped, err);
  if (st)
    return st;
  return finish_dtype(warped, 0, out, err);
}
