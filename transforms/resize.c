/* Resizing transformers: ResizeTransformer (skimage or OpenCV),
 * PILResizeTransformer, ShortLongResizeTransformer,
 * ShortSideResizeTransformer (spec/transforms.md 2.10-2.12, 2.14) and the
 * snake_case `resize` step, which keeps the input dtype. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "transforms/internal.h"

/* --- parameter checks --------------------------------------------------- */

static int is_inter_cubic(const char *s)
{
  return strcmp(s, "INTER_CUBIC") == 0 || strcmp(s, "cv2.INTER_CUBIC") == 0;
}

sc_status check_resize_transformer(const struct sc_transform *t,
                                   struct sc_error *err)
{
  const char *interp = param_text(t, "interpolation");
  if (interp[0] && !is_inter_cubic(interp))
    return param_fail(t, "interpolation", err,
                      "must be empty (INTER_LINEAR) or INTER_CUBIC, got '%s'",
                      interp);
  return SC_OK;
}

/* OpenCV interpolation of the `resize` step from "linear", "INTER_AREA",
 * "cv2.INTER_CUBIC" ... Returns 0 on success. */
static int cv_inter_from_name(const char *name, enum sc_cv_inter *out)
{
  static const struct {
    const char *name;
    enum sc_cv_inter inter;
  } names[] = {{"nearest", SC_CV_INTER_NEAREST}, {"linear", SC_CV_INTER_LINEAR},
               {"bilinear", SC_CV_INTER_LINEAR}, {"cubic", SC_CV_INTER_CUBIC},
               {"bicubic", SC_CV_INTER_CUBIC},   {"area", SC_CV_INTER_AREA}};
  const char *p = name;
  size_t i;
  if (!p[0]) {
    *out = SC_CV_INTER_LINEAR;
    return 0;
  }
  if (strncasecmp(p, "cv2.", 4) == 0)
    p += 4;
  if (strncasecmp(p, "INTER_", 6) == 0)
    p += 6;
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(p, names[i].name) == 0) {
      *out = names[i].inter;
      return 0;
    }
  return -1;
}

/* Spline order of the skimage `resize` mode from its name. */
static int skimage_order_from_name(const char *name, int *order)
{
  static const char *const names[] = {"nearest", "linear",  "quadratic",
                                      "cubic",   "quartic", "quintic"};
  int i;
  if (!name[0]) {
    *order = 1;
    return 0;
  }
  for (i = 0; i < 6; i++)
    if (strcasecmp(name, names[i]) == 0 ||
        (strncasecmp(name, "bi", 2) == 0 &&
         strcasecmp(name + 2, names[i]) == 0)) {
      *order = i;
      return 0;
    }
  return -1;
}

sc_status check_resize_step(const struct sc_transform *t, struct sc_error *err)
{
  const char *interp = param_text(t, "interpolation");
  sc_status st = check_height_width(t, err);
  if (st)
    return st;
  if (param_given(t, "order") && !param_is(t, "mode", "skimage"))
    return param_fail(t, "order", err, "only applies to mode skimage");
  if (param_is(t, "mode", "opencv")) {
    enum sc_cv_inter inter;
    if (cv_inter_from_name(interp, &inter))
      return param_fail(t, "interpolation", err,
                        "expected nearest, linear, cubic or area for mode "
                        "opencv, got '%s'",
                        interp);
  } else if (param_is(t, "mode", "pil")) {
    enum sc_pil_filter f;
    if (interp[0] && pil_filter_from_name(interp, &f))
      return param_fail(t, "interpolation", err,
                        "expected nearest, bilinear, bicubic, lanczos, box or "
                        "hamming for mode pil, got '%s'",
                        interp);
  } else {
    int order;
    if (param_given(t, "order") && interp[0])
      return param_fail(t, "order", err, "give either order or interpolation");
    if (skimage_order_from_name(interp, &order))
      return param_fail(
          t, "interpolation", err,
          "expected nearest, linear, quadratic, cubic, quartic or "
          "quintic for mode skimage, got '%s'",
          interp);
  }
  return SC_OK;
}

/* --- shared pieces ------------------------------------------------------ */

static sc_status to_dtype(struct sc_tensor *t, enum sc_dtype dtype,
                          struct sc_tensor **out, struct sc_error *err)
{
  sc_status st;
  if (t->dtype == dtype) {
    *out = t;
    return SC_OK;
  }
  st = cast_tensor(t, dtype, out, err);
  sc_tensor_free(t);
  return st;
}

static enum sc_dtype data_type_of(const struct sc_transform *t)
{
  return param_is(t, "data_type", "uint8") ? SC_DTYPE_UINT8 : SC_DTYPE_FLOAT;
}

static sc_status check_cv_input(const struct sc_tensor *in,
                                struct sc_error *err)
{
  return check_image(in, DT_U8 | DT_F32, err);
}

/* ResizeTransformer's skimage mode: min/max normalisation, skimage resize,
 * de-normalisation in the same precision (float32 for float32 input,
 * double otherwise), then `dtype`. A constant image gives a float32 image
 * filled with its value, whatever `dtype` says. Channels other than 1 and 3
 * go through scipy.ndimage.zoom(order=1) on the raw image. */
static sc_status skimage_resize_tr(const struct sc_tensor *in, int64_t th,
                                   int64_t tw, int order, enum sc_dtype dtype,
                                   struct sc_tensor **out, struct sc_error *err)
{
  enum sc_dtype work =
      in->dtype == SC_DTYPE_FLOAT ? SC_DTYPE_FLOAT : SC_DTYPE_DOUBLE;
  struct sc_tensor *s = NULL, *r = NULL;
  double mn, mx;
  int64_t i;
  sc_status st;

  st = check_image(in, DT_U8 | DT_F32 | DT_F64, err);
  if (st)
    return st;
  if (in->dims[2] != 1 && in->dims[2] != 3) {
    st = sc_scipy_zoom_linear(in, th, tw, &r, err);
    if (st)
      return st;
    return to_dtype(r, dtype, out, err);
  }
  mn = mx = sc_dtype_load(in->dtype, in->data, 0);
  for (i = 1; i < in->n_elements; i++) {
    double v = sc_dtype_load(in->dtype, in->data, i);
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  if (!(mx > mn)) {
    st = new_tensor3(SC_DTYPE_FLOAT, th, tw, in->dims[2], out, err);
    if (!st)
      for (i = 0; i < (*out)->n_elements; i++)
        ((float *)(*out)->data)[i] = (float)mn;
    return st;
  }
  st = sc_tensor_create_pooled(NULL, work, 3, in->dims, &s, err);
  if (st)
    return st;
  for (i = 0; i < in->n_elements; i++) {
    double v = sc_dtype_load(in->dtype, in->data, i);
    if (work == SC_DTYPE_FLOAT)
      ((float *)s->data)[i] = ((float)v - (float)mn) / ((float)mx - (float)mn);
    else
      ((double *)s->data)[i] = (v - mn) / (mx - mn);
  }
  st = sc_skimage_resize(s, th, tw, order, &r, err);
  sc_tensor_free(s);
  if (st)
    return st;
  for (i = 0; i < r->n_elements; i++) {
    if (work == SC_DTYPE_FLOAT) {
      float *p = (float *)r->data + i;
      *p = *p * ((float)mx - (float)mn) + (float)mn;
    } else {
      double *p = (double *)r->data + i;
      *p = *p * (mx - mn) + mn;
    }
  }
  return to_dtype(r, dtype, out, err);
}

static void target_of(const struct param_value *v, int64_t *h, int64_t *w)
{
  *h = (int64_t)v->list[0];
  *w = (int64_t)v->list[v->n > 1 ? 1 : 0];
}

/* --- transformers -------------------------------------------------------- */

/* ResizeTransformer: [N] semantics, target_size = (height, width). */
sc_status apply_resize_transformer(const struct sc_transform *t,
                                   const struct sc_tensor *in,
                                   enum sc_layout *layout,
                                   struct sc_tensor **out, struct sc_error *err)
{
  int64_t th, tw;
  struct sc_tensor *r = NULL;
  sc_status st;

  target_of(param_get(t, "target_size"), &th, &tw);
  if (param_is(t, "mode", "skimage"))
    return skimage_resize_tr(in, th, tw, (int)param_int(t, "method"),
                             data_type_of(t), out, err);
  st = check_cv_input(in, err);
  if (!st)
    st = sc_cv_resize(in, th, tw,
                      is_inter_cubic(param_text(t, "interpolation"))
                          ? SC_CV_INTER_CUBIC
                          : SC_CV_INTER_LINEAR,
                      &r, err);
  if (st)
    return st;
  return to_dtype(r, data_type_of(t), out, err);
}

/* `resize`: keeps the dtype. */
sc_status apply_resize_step(const struct sc_transform *t,
                            const struct sc_tensor *in, enum sc_layout *layout,
                            struct sc_tensor **out, struct sc_error *err)
{
  const struct param_value *size = param_get(t, "size");
  const char *interp = param_text(t, "interpolation");
  int64_t th, tw;
  sc_status st;

  if (*layout != SC_LAYOUT_HWC)
    return sc_fail(err, SC_ERR_CONFIG,
                   "expected an HWC image (resize before hwc_to_chw)");
  if (size->given) {
    target_of(size, &th, &tw);
  } else {
    th = param_int(t, "height");
    tw = param_int(t, "width");
  }
  if (param_is(t, "mode", "opencv")) {
    enum sc_cv_inter inter = SC_CV_INTER_LINEAR;
    cv_inter_from_name(interp, &inter);
    st = check_cv_input(in, err);
    if (st)
      return st;
    return sc_cv_resize(in, th, tw, inter, out, err);
  }
  if (param_is(t, "mode", "pil")) {
    enum sc_pil_filter f = SC_PIL_BILINEAR;
    if (interp[0])
      pil_filter_from_name(interp, &f);
    st = check_image(in, DT_U8, err);
    if (st)
      return sc_fail(err, SC_ERR_CONFIG,
                     "mode pil needs a uint8 HWC image, got %s rank %d",
                     sc_dtype_name(in->dtype), in->rank);
    return sc_pil_resize(in, th, tw, f, out, err);
  }
  {
    int order = 1;
    if (param_given(t, "order"))
      order = (int)param_int(t, "order");
    else
      skimage_order_from_name(interp, &order);
    return skimage_resize_tr(in, th, tw, order, in->dtype, out, err);
  }
}

/* PILResizeTransformer: uint8 RGB output; an int size scales the short side
 * (keeping the image when it already has that size). */
sc_status apply_pil_resize(const struct sc_transform *t,
                           const struct sc_tensor *in, enum sc_layout *layout,
                           struct sc_tensor **out, struct sc_error *err)
{
  const struct param_value *size = param_get(t, "size");
  enum sc_pil_filter f = SC_PIL_BILINEAR;
  struct sc_tensor *u8 = NULL;
  int64_t oh, ow;
  sc_status st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st && in->dims[2] != 3)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "expected an HWC image with 3 channels (PIL RGB), got %lld",
                 (long long)in->dims[2]);
  if (!st)
    st = cast_tensor(in, SC_DTYPE_UINT8, &u8, err);
  if (st)
    return st;
  pil_filter_from_name(param_text(t, "interpolation"), &f);
  if (!size->is_list) {
    int64_t s = (int64_t)size->list[0], w = in->dims[1], h = in->dims[0];
    if ((w <= h && w == s) || (h <= w && h == s)) {
      *out = u8;
      return SC_OK;
    }
    if (w < h) {
      ow = s;
      oh = (int64_t)((double)(s * h) / (double)w);
    } else {
      oh = s;
      ow = (int64_t)((double)(s * w) / (double)h);
    }
  } else {
    target_of(size, &oh, &ow);
  }
  st = sc_pil_resize(u8, oh, ow, f, out, err);
  sc_tensor_free(u8);
  return st;
}

/* ShortLongResizeTransformer: scale = short_size / min(H, W), capped so
 * that round(scale * max(H, W)) <= long_size; cv2.resize(fx=fy=scale),
 * keeps dtype. The im_info the Python transformer appends to its data list
 * is not part of the image tensor and is not produced. */
sc_status apply_short_long_resize(const struct sc_transform *t,
                                  const struct sc_tensor *in,
                                  enum sc_layout *layout,
                                  struct sc_tensor **out, struct sc_error *err)
{
  double mn, mx, s;
  sc_status st = check_cv_input(in, err);
  if (st)
    return st;
  mn = (double)(in->dims[0] < in->dims[1] ? in->dims[0] : in->dims[1]);
  mx = (double)(in->dims[0] > in->dims[1] ? in->dims[0] : in->dims[1]);
  s = (double)param_int(t, "short_size") / mn;
  if (nearbyint(s * mx) > (double)param_int(t, "long_size"))
    s = (double)param_int(t, "long_size") / mx;
  return sc_cv_resize_scale(in, s, s, SC_CV_INTER_LINEAR, out, err);
}

/* ShortSideResizeTransformer ([N]): the short side becomes short_size, the
 * long side int(short_size * (long / short)); INTER_CUBIC only for the
 * exact string "INTER_CUBIC", else INTER_LINEAR; float32 or uint8. */
sc_status apply_short_side_resize(const struct sc_transform *t,
                                  const struct sc_tensor *in,
                                  enum sc_layout *layout,
                                  struct sc_tensor **out, struct sc_error *err)
{
  int64_t H, W, s = param_int(t, "short_size"), oh, ow;
  struct sc_tensor *r = NULL;
  sc_status st = check_cv_input(in, err);
  if (st)
    return st;
  H = in->dims[0];
  W = in->dims[1];
  if (H < W) {
    ow = (int64_t)((double)s * ((double)W / (double)H));
    oh = s;
  } else {
    ow = s;
    oh = (int64_t)((double)s * ((double)H / (double)W));
  }
  st = sc_cv_resize(in, oh, ow,
                    strcmp(param_text(t, "interpolation"), "INTER_CUBIC") == 0
                        ? SC_CV_INTER_CUBIC
                        : SC_CV_INTER_LINEAR,
                    &r, err);
  if (st)
    return st;
  return to_dtype(r, data_type_of(t), out, err);
}
