/* PIL Image.resize on 8-bit images as Pillow 9.4 computes it
 * (src/libImaging/Resample.c; spec/transforms.md 3.8): separable
 * convolution with double coefficients normalised and converted to 22-bit
 * fixed point, horizontal pass first (rounded to uint8), then vertical;
 * NEAREST is the affine nearest-neighbour with an accumulated coordinate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "transforms/internal.h"

#define PRECISION_BITS (32 - 8 - 2)

static double box_filter(double x)
{
  if (x > -0.5 && x <= 0.5)
    return 1.0;
  return 0.0;
}

static double bilinear_filter(double x)
{
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return 1.0 - x;
  return 0.0;
}

static double hamming_filter(double x)
{
  if (x < 0.0)
    x = -x;
  if (x == 0.0)
    return 1.0;
  if (x >= 1.0)
    return 0.0;
  x = x * M_PI;
  return sin(x) / x * (0.54f + 0.46f * cos(x));
}

static double bicubic_filter(double x)
{
  const double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static double sinc_filter(double x)
{
  if (x == 0.0)
    return 1.0;
  x = x * M_PI;
  return sin(x) / x;
}

static double lanczos_filter(double x)
{
  if (-3.0 <= x && x < 3.0)
    return sinc_filter(x) * sinc_filter(x / 3);
  return 0.0;
}

struct pil_filter {
  double (*filter)(double);
  double support;
};

static struct pil_filter filter_of(enum sc_pil_filter f)
{
  struct pil_filter r;
  switch (f) {
  case SC_PIL_BOX:
    r.filter = box_filter;
    r.support = 0.5;
    break;
  case SC_PIL_HAMMING:
    r.filter = hamming_filter;
    r.support = 1.0;
    break;
  case SC_PIL_BICUBIC:
    r.filter = bicubic_filter;
    r.support = 2.0;
    break;
  case SC_PIL_LANCZOS:
    r.filter = lanczos_filter;
    r.support = 3.0;
    break;
  default:
    r.filter = bilinear_filter;
    r.support = 1.0;
    break;
  }
  return r;
}

/* precompute_coeffs + normalize_coeffs_8bpc for one axis. kk holds ksize
 * fixed-point coefficients per output index; bounds holds (xmin, count). */
static int precompute(int64_t in_size, int64_t out_size, struct pil_filter f,
                      int32_t **kk_out, int64_t **bounds_out, int *ksize_out)
{
  double scale = (double)in_size / (double)out_size, filterscale = scale;
  double support, *pre;
  int64_t xx, *bounds;
  int32_t *kk;
  int ksize, x;

  if (filterscale < 1.0)
    filterscale = 1.0;
  support = f.support * filterscale;
  ksize = (int)ceil(support) * 2 + 1;
  pre = malloc((size_t)out_size * (size_t)ksize * sizeof *pre);
  kk = malloc((size_t)out_size * (size_t)ksize * sizeof *kk);
  bounds = malloc((size_t)out_size * 2 * sizeof *bounds);
  if (!pre || !kk || !bounds) {
    free(pre);
    free(kk);
    free(bounds);
    return -1;
  }
  for (xx = 0; xx < out_size; xx++) {
    double center = ((double)xx + 0.5) * scale, ww = 0.0;
    double ss = 1.0 / filterscale;
    double *k = &pre[xx * ksize];
    int64_t xmin = (int64_t)(center - support + 0.5);
    int64_t xmax = (int64_t)(center + support + 0.5);
    if (xmin < 0)
      xmin = 0;
    if (xmax > in_size)
      xmax = in_size;
    xmax -= xmin;
    for (x = 0; x < xmax; x++) {
      double w = f.filter(((double)(x + xmin) - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (x = 0; x < xmax; x++)
      if (ww != 0.0)
        k[x] /= ww;
    for (; x < ksize; x++)
      k[x] = 0;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  for (xx = 0; xx < out_size * ksize; xx++) {
    if (pre[xx] < 0)
      kk[xx] = (int32_t)(-0.5 + pre[xx] * (1 << PRECISION_BITS));
    else
      kk[xx] = (int32_t)(0.5 + pre[xx] * (1 << PRECISION_BITS));
  }
  free(pre);
  *kk_out = kk;
  *bounds_out = bounds;
  *ksize_out = ksize;
  return 0;
}

static uint8_t clip8(int64_t in)
{
  int64_t v = in >> PRECISION_BITS; /* arithmetic shift: floor */
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* One pass along the horizontal (axis 1) or vertical (axis 0) direction. */
static void resample_pass(const uint8_t *src, int64_t sh, int64_t sw,
                          uint8_t *dst, int64_t dh, int64_t dw, int64_t cn,
                          int horizontal, const int32_t *kk,
                          const int64_t *bounds, int ksize)
{
  int64_t y, x, c, i;
  for (y = 0; y < dh; y++) {
    for (x = 0; x < dw; x++) {
      int64_t o = horizontal ? x : y;
      const int32_t *k = &kk[o * ksize];
      int64_t lo = bounds[o * 2], n = bounds[o * 2 + 1];
      for (c = 0; c < cn; c++) {
        int64_t ss = (int64_t)1 << (PRECISION_BITS - 1);
        for (i = 0; i < n; i++) {
          int64_t sy = horizontal ? y : lo + i, sx = horizontal ? lo + i : x;
          ss += (int64_t)src[(sy * sw + sx) * cn + c] * k[i];
        }
        dst[(y * dw + x) * cn + c] = clip8(ss);
      }
    }
  }
  (void)sh;
}

/* ImagingScaleAffine with NEAREST: xo = a*0.5, then xo += a per pixel. */
static void resize_nearest(const uint8_t *src, int64_t sh, int64_t sw,
                           uint8_t *dst, int64_t dh, int64_t dw, int64_t cn,
                           int64_t *xin)
{
  double ax = (double)sw / (double)dw, ay = (double)sh / (double)dh;
  double xo = ax * 0.5, yo = ay * 0.5;
  int64_t x, y;
  for (x = 0; x < dw; x++) {
    int64_t xi = xo < 0.0 ? -1 : (int64_t)xo;
    xin[x] = xi < 0 ? 0 : xi >= sw ? sw - 1 : xi;
    xo += ax;
  }
  for (y = 0; y < dh; y++) {
    int64_t yi = yo < 0.0 ? -1 : (int64_t)yo;
    if (yi < 0)
      yi = 0;
    if (yi >= sh)
      yi = sh - 1;
    for (x = 0; x < dw; x++)
      memcpy(dst + (y * dw + x) * cn, src + (yi * sw + xin[x]) * cn,
             (size_t)cn);
    yo += ay;
  }
}

sc_status sc_pil_resize(const struct sc_tensor *src, int64_t height,
                        int64_t width, enum sc_pil_filter filter,
                        struct sc_tensor **out, struct sc_error *err)
{
  int64_t sh, sw, cn, dims[3];
  struct pil_filter f;
  sc_status st;

  *out = NULL;
  if (src->rank != 3 || src->dtype != SC_DTYPE_UINT8 ||
      (src->dims[2] != 1 && src->dims[2] != 3) || src->n_elements == 0)
    return sc_fail(err, SC_ERR_CONFIG,
                   "PIL Image.resize: expected a uint8 HWC image with 1 (L) "
                   "or 3 (RGB) channels");
  if (height < 1 || width < 1 || height > SC_IMAGE_MAX_SIDE ||
      width > SC_IMAGE_MAX_SIDE || height * width > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "PIL Image.resize: size %lldx%lld out of range",
                   (long long)width, (long long)height);
  sh = src->dims[0];
  sw = src->dims[1];
  cn = src->dims[2];
  dims[0] = height;
  dims[1] = width;
  dims[2] = cn;
  st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 3, dims, out, err);
  if (st)
    return st;
  if (height == sh && width == sw) {
    memcpy((*out)->data, src->data, sc_tensor_size(src));
    return SC_OK;
  }
  if (filter == SC_PIL_NEAREST) {
    int64_t *xin = malloc((size_t)width * sizeof *xin);
    if (!xin) {
      sc_tensor_free(*out);
      *out = NULL;
      return sc_fail_nomem(err, "PIL resize table");
    }
    resize_nearest(src->data, sh, sw, (*out)->data, height, width, cn, xin);
    free(xin);
    return SC_OK;
  }
  f = filter_of(filter);
  {
    int32_t *kh = NULL, *kv = NULL;
    int64_t *bh = NULL, *bv = NULL;
    int ksh = 0, ksv = 0;
    uint8_t *tmp = NULL;
    const uint8_t *vin = src->data;
    int need_h = width != sw, need_v = height != sh;

    if ((need_h && precompute(sw, width, f, &kh, &bh, &ksh)) ||
        (need_v && precompute(sh, height, f, &kv, &bv, &ksv)))
      goto nomem;
    if (need_h && need_v) {
      tmp = malloc((size_t)(sh * width * cn));
      if (!tmp)
        goto nomem;
      resample_pass(src->data, sh, sw, tmp, sh, width, cn, 1, kh, bh, ksh);
      vin = tmp;
    } else if (need_h) {
      resample_pass(src->data, sh, sw, (*out)->data, sh, width, cn, 1, kh, bh,
                    ksh);
    }
    if (need_v)
      resample_pass(vin, sh, width, (*out)->data, height, width, cn, 0, kv, bv,
                    ksv);
    free(kh);
    free(kv);
    free(bh);
    free(bv);
    free(tmp);
    return SC_OK;
  nomem:
    free(kh);
    free(kv);
    free(bh);
    free(bv);
    free(tmp);
    sc_tensor_free(*out);
    *out = NULL;
    return sc_fail_nomem(err, "PIL resize coefficients");
  }
}

int pil_filter_from_name(const char *name, enum sc_pil_filter *out)
{
  static const struct {
    const char *name;
    enum sc_pil_filter filter;
  } names[] = {{"NEAREST", SC_PIL_NEAREST},   {"LANCZOS", SC_PIL_LANCZOS},
               {"ANTIALIAS", SC_PIL_LANCZOS}, {"BILINEAR", SC_PIL_BILINEAR},
               {"LINEAR", SC_PIL_BILINEAR},   {"BICUBIC", SC_PIL_BICUBIC},
               {"CUBIC", SC_PIL_BICUBIC},     {"BOX", SC_PIL_BOX},
               {"HAMMING", SC_PIL_HAMMING}};
  const char *p = name;
  size_t i;
  if (strncasecmp(p, "PIL.", 4) == 0)
    p += 4;
  if (strncasecmp(p, "Image.", 6) == 0)
    p += 6;
  if (strncasecmp(p, "Resampling.", 11) == 0)
    p += 11;
  if (p[0] >= '0' && p[0] <= '5' && p[1] == '\0') {
    *out = (enum sc_pil_filter)(p[0] - '0');
    return 0;
  }
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(p, names[i].name) == 0) {
      *out = names[i].filter;
      return 0;
    }
  return -1;
}
