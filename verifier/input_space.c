/* Row 0 across different input spaces: maps what a stage is fed back into
 * the space of the decoded image after the shared steps (HWC, BGR, values
 * 0..255 as float), by inverting the stage's own steps in reverse order.
 *
 * Invertible steps: layout changes (hwc_to_chw, chw_to_hwc and their class
 * names), channel swaps, add, mean, scale, normalize, casts (values kept),
 * and the BT.601 full-range colour conversions of spec/transforms.md
 * (bgr_to_yuv444, bgr_to_nv12 followed by nv12_to_yuv444: the inverse
 * matrix recovers BGR; NV12's chroma subsampling is a real loss and shows
 * in the comparison). Anything else makes the row "not comparable". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/verify_internal.h"

enum { HWC, CHW };

/* A parameter's numbers: by key, else the first positional parameter. */
static int param_numbers(const struct sc_config_step *s, const char *key,
                         const char *alt, double *out, int max)
{
  int i, k;
  for (i = 0; i < s->n_params; i++) {
    const struct sc_transform_param *p = &s->params[i];
    if (p->key && p->key[0] && strcmp(p->key, key) != 0 &&
        (!alt || strcmp(p->key, alt) != 0))
      continue;
    if (p->type == SC_PARAM_NUMBER) {
      out[0] = p->number;
      return 1;
    }
    if (p->type == SC_PARAM_LIST) {
      for (k = 0; k < p->n_list && k < max; k++)
        out[k] = p->list[k];
      return k;
    }
    return 0;
  }
  return 0;
}

static int is(const char *name, const char *a, const char *b)
{
  return strcmp(name, a) == 0 || (b && strcmp(name, b) == 0);
}

/* The layout a step leaves (HWC/CHW), given the one it receives. */
static int layout_after(const struct sc_config_step *s, int layout)
{
  if (is(s->name, "hwc_to_chw", "HWC2CHWTransformer"))
    return CHW;
  if (is(s->name, "chw_to_hwc", "CHW2HWCTransformer"))
    return HWC;
  return layout;
}

struct image {
  int layout;
  int64_t h, w, c;
  double *v; /* h*w*c values */
};

static double *at(struct image *im, int64_t y, int64_t x, int64_t ch)
{
  return im->layout == HWC ? &im->v[(y * im->w + x) * im->c + ch]
                           : &im->v[(ch * im->h + y) * im->w + x];
}

static int relayout(struct image *im, int to)
{
  double *nv;
  int64_t y, x, ch, n = im->h * im->w * im->c;
  int from = im->layout;
  if (from == to)
    return 0;
  nv = malloc((size_t)n * sizeof *nv + 1);
  if (!nv)
    return -1;
  for (y = 0; y < im->h; y++)
    for (x = 0; x < im->w; x++)
      for (ch = 0; ch < im->c; ch++) {
        double v = *at(im, y, x, ch);
        int64_t i = to == HWC ? (y * im->w + x) * im->c + ch
                              : (ch * im->h + y) * im->w + x;
        nv[i] = v;
      }
  free(im->v);
  im->v = nv;
  im->layout = to;
  return 0;
}

/* Undo one step; returns NULL or the reason it cannot be undone. */
static const char *invert(const struct sc_config_step *s, struct image *im,
                          int before)
{
  int64_t y, x, ch;
  double a[SC_TRANSFORM_MAX_LIST], b[SC_TRANSFORM_MAX_LIST];
  int na, nb;

  if (is(s->name, "hwc_to_chw", "HWC2CHWTransformer") ||
      is(s->name, "chw_to_hwc", "CHW2HWCTransformer"))
    return relayout(im, before) ? "out of memory" : NULL;
  if (is(s->name, "cast", "F32ToS8Transformer") ||
      is(s->name, "F32ToU8Transformer", NULL))
    return NULL; /* values are kept (truncation is the step's loss) */
  if (is(s->name, "bgr_to_rgb", "rgb_to_bgr") ||
      is(s->name, "BGR2RGBTransformer", "RGB2BGRTransformer")) {
    if (im->c != 3)
      return "a channel swap on a tensor without 3 channels";
    for (y = 0; y < im->h; y++)
      for (x = 0; x < im->w; x++) {
        double t = *at(im, y, x, 0);
        *at(im, y, x, 0) = *at(im, y, x, 2);
        *at(im, y, x, 2) = t;
      }
    return NULL;
  }
  if (is(s->name, "add", "AddTransformer")) {
    if (param_numbers(s, "value", NULL, a, 1) != 1)
      return "add without a single value";
    for (y = 0; y < im->h * im->w * im->c; y++)
      im->v[y] -= a[0];
    return NULL;
  }
  if (is(s->name, "scale", "ScaleTransformer")) {
    if (param_numbers(s, "value", "scale_value", a, 1) != 1 || a[0] == 0)
      return "scale without a non-zero value";
    for (y = 0; y < im->h * im->w * im->c; y++)
      im->v[y] /= a[0];
    return NULL;
  }
  if (is(s->name, "mean", "MeanTransformer") ||
      is(s->name, "normalize", NULL)) {
    na = param_numbers(s, "mean", "means", a, SC_TRANSFORM_MAX_LIST);
    nb = param_numbers(s, "std", NULL, b, SC_TRANSFORM_MAX_LIST);
    if (strcmp(s->name, "normalize") != 0)
      nb = 0;
    if (na == 0)
      a[0] = 0, na = 1;
    if (nb == 0)
      b[0] = 1, nb = 1;
    for (y = 0; y < im->h; y++)
      for (x = 0; x < im->w; x++)
        for (ch = 0; ch < im->c; ch++) {
          double *v = at(im, y, x, ch);
          double m = a[na == 1 ? 0 : ch % na], sd = b[nb == 1 ? 0 : ch % nb];
          *v = *v * sd + m;
        }
    return NULL;
  }
  if (is(s->name, "nv12_to_yuv444", "NV12ToYUV444Transformer"))
    return NULL; /* undone together with the bgr_to_nv12 before it */
  if (is(s->name, "bgr_to_nv12", "BGR2NV12Transformer") ||
      is(s->name, "bgr_to_yuv444", "BGR2YUV444Transformer") ||
      is(s->name, "rgb_to_nv12", "RGB2NV12Transformer") ||
      is(s->name, "rgb_to_yuv444", "RGB2YUV444Transformer")) {
    /* the inverse of y = .299r+.587g+.114b, u = -.169r-.331g+.5b+128,
     * v = .5r-.419g-.081b+128 (spec/transforms.md 2.17, 2.20) */
    static const double m[3][3] = {
        {0.299, 0.587, 0.114}, {-0.169, -0.331, 0.5}, {0.5, -0.419, -0.081}};
    double inv[3][3], det;
    int rgb = s->name[0] == 'r' || s->name[0] == 'R';
    if (im->c != 3)
      return "a YUV tensor without 3 channels";
    det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
          m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
          m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    for (y = 0; y < im->h; y++)
      for (x = 0; x < im->w; x++) {
        double yy = *at(im, y, x, 0), u = *at(im, y, x, 1) - 128,
               vv = *at(im, y, x, 2) - 128;
        double r = inv[0][0] * yy + inv[0][1] * u + inv[0][2] * vv;
        double g = inv[1][0] * yy + inv[1][1] * u + inv[1][2] * vv;
        double bl = inv[2][0] * yy + inv[2][1] * u + inv[2][2] * vv;
        *at(im, y, x, 0) = rgb ? r : bl;
        *at(im, y, x, 1) = g;
        *at(im, y, x, 2) = rgb ? bl : r;
      }
    return NULL;
  }
  return "a step without an inverse";
}

sc_status sc_input_to_image_space(const struct sc_tensor *fed,
                                  const struct sc_config_steps *steps,
                                  struct sc_tensor **out, const char **reason,
                                  struct sc_error *err)
{
  struct image im;
  int *layouts = NULL, layout = HWC, i;
  int64_t k, dims[3];
  int rank = fed->rank;
  const int64_t *d = fed->dims;
  sc_status st;

  *out = NULL;
  *reason = NULL;
  if (rank == 4 && d[0] == 1) { /* the batch dimension added when fed */
    rank = 3;
    d++;
  }
  if (rank != 3) {
    *reason = "the input is not an image";
    return SC_OK;
  }
  layouts = calloc((size_t)steps->n_steps + 2, sizeof *layouts);
  if (!layouts)
    return sc_fail_nomem(err, "input space");
  for (i = 0; i < steps->n_steps; i++) {
    layouts[i] = layout; /* layout the step receives */
    layout = layout_after(&steps->steps[i], layout);
  }
  im.layout = layout;
  im.h = layout == HWC ? d[0] : d[1];
  im.w = layout == HWC ? d[1] : d[2];
  im.c = layout == HWC ? d[2] : d[0];
  im.v = malloc((size_t)fed->n_elements * sizeof *im.v + 1);
  if (!im.v) {
    free(layouts);
    return sc_fail_nomem(err, "input space");
  }
  for (k = 0; k < fed->n_elements; k++)
    im.v[k] = sc_dtype_load(fed->dtype, fed->data, k);
  for (i = steps->n_steps - 1; i >= 0 && !*reason; i--)
    *reason = invert(&steps->steps[i], &im, layouts[i]);
  free(layouts);
  if (*reason || relayout(&im, HWC) != 0) {
    if (!*reason)
      *reason = "out of memory";
    free(im.v);
    return SC_OK;
  }
  dims[0] = im.h;
  dims[1] = im.w;
  dims[2] = im.c;
  st = sc_tensor_create(SC_DTYPE_FLOAT, 3, dims, out, err);
  if (!st)
    for (k = 0; k < (*out)->n_elements; k++)
      ((float *)(*out)->data)[k] = (float)im.v[k];
  free(im.v);
  return st;
}
