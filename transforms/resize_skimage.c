/* skimage.transform.resize (scikit-image 0.19) and scipy.ndimage.zoom
 * (scipy 1.10), spec/transforms.md 3.7 and 2.10.
 *
 * skimage.transform.resize(image, (h, w), order) on an HWC float image:
 *   1. anti-aliasing when any axis shrinks: gaussian_filter with
 *      sigma = max(0, (in/out - 1) / 2) per axis, mode 'mirror', truncate 4
 *      (numpy kernel exp(-0.5/sigma^2 * x^2) / sum, scipy's symmetric
 *      correlate1d, result stored in the image dtype after each axis);
 *   2. for order > 1 the B-spline prefilter of every axis (float64);
 *   3. ndi.zoom with grid_mode=True, mode 'mirror': the source coordinate of
 *      output index k is (k + 0.5) * in/out - 0.5, weights from scipy's
 *      spline formulas, summed over the taps of all three axes in
 *      row-major order exactly as NI_ZoomShift does;
 *   4. clip to [min, max] of the input.
 * The channel axis is part of the computation (zoom factor 1) as in scipy.
 * Remaining differences are in the last bits of the Gaussian weights (numpy
 * evaluates exp with its own SIMD code); docs/transforms-accuracy.md gives
 * the measured bounds. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/imgproc.h"

/* --- numpy helpers ------------------------------------------------------ */

/* numpy's pairwise summation of a contiguous float64 array (as used by
 * ndarray.sum for n <= 128 and recursively above). */
static double pairwise_sum(const double *a, int64_t n)
{
  if (n < 8) {
    double res = 0.;
    int64_t i;
    for (i = 0; i < n; i++)
      res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8], res;
    int64_t i;
    int j;
    for (j = 0; j < 8; j++)
      r[j] = a[j];
    for (i = 8; i < n - (n % 8); i += 8)
      for (j = 0; j < 8; j++)
        r[j] += a[i + j];
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++)
      res += a[i];
    return res;
  } else {
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
  }
}

/* --- strided 3-D views --------------------------------------------------- */

struct volume {
  int64_t dims[3];
  double *data; /* float64 working copy, C order */
};

static int64_t mirror_index(int64_t i, int64_t n)
{
  int64_t period;
  if (n <= 1)
    return 0;
  period = 2 * n - 2;
  i %= period;
  if (i < 0)
    i += period;
  return i >= n ? period - i : i;
}

/* Strides in elements of a C-order 3-D array. */
static void strides_of(const int64_t *dims, int64_t *strides)
{
  strides[2] = 1;
  strides[1] = dims[2];
  strides[0] = dims[1] * dims[2];
}

/* Stores a double into an element of the image dtype (float32 rounds). */
static double to_dtype(double v, enum sc_dtype dtype)
{
  return dtype == SC_DTYPE_FLOAT ? (double)(float)v : v;
}

/* --- Gaussian anti-aliasing (scipy.ndimage.gaussian_filter1d) ----------- */

/* Filters `v` along `axis` in place; values are rounded to `dtype` after
 * the pass, as scipy stores each axis' result in the output array. */
static sc_status gaussian_axis(struct volume *v, int axis, double sigma,
                               enum sc_dtype dtype, struct sc_error *err)
{
  int64_t radius = (int64_t)(4.0 * sigma + 0.5);
  int64_t n = v->dims[axis], strides[3], lines, line, i, j;
  double sigma2 = sigma * sigma, sum, *w, *buf;
  int a0 = axis == 0 ? 1 : 0, a1 = axis == 2 ? 1 : 2;

  w = malloc((size_t)(2 * radius + 1) * sizeof *w);
  buf = malloc((size_t)(n + 2 * radius) * sizeof *buf);
  if (!w || !buf) {
    free(w);
    free(buf);
    return sc_fail_nomem(err, "gaussian_filter kernel");
  }
  for (i = -radius; i <= radius; i++)
    w[i + radius] = exp(-0.5 / sigma2 * (double)(i * i));
  sum = 0.0 + pairwise_sum(w, 2 * radius + 1);
  for (i = 0; i < 2 * radius + 1; i++)
    w[i] = w[i] / sum;
  strides_of(v->dims, strides);
  lines = v->dims[a0] * v->dims[a1];
  for (line = 0; line < lines; line++) {
    int64_t base =
        (line / v->dims[a1]) * strides[a0] + (line % v->dims[a1]) * strides[a1];
    double *p = v->data + base;
    double *ext = buf + radius; /* ext[-radius .. n + radius) */
    for (i = -radius; i < n + radius; i++)
      ext[i] = p[mirror_index(i, n) * strides[axis]];
    for (i = 0; i < n; i++) {
      double o = ext[i] * w[radius];
      for (j = -radius; j < 0; j++)
        o += (ext[i + j] + ext[i - j]) * w[radius + j];
      p[i * strides[axis]] = to_dtype(o, dtype);
    }
  }
  free(w);
  free(buf);
  return SC_OK;
}

/* --- B-spline prefilter (scipy ni_splines.c, mirror boundary) ---------- */

static int spline_poles(int order, double *poles)
{
  switch (order) {
  case 2:
    poles[0] = -0.171572875253809902396622551580603843;
    return 1;
  case 3:
    poles[0] = -0.267949192431122706472553658494127633;
    return 1;
  case 4:
    poles[0] = -0.361341225900220177092212841325675255;
    poles[1] = -0.013725429297339121360331226939128204;
    return 2;
  case 5:
    poles[0] = -0.430575347099973791851434783493520110;
    poles[1] = -0.043096288203264653822712376822550182;
    return 2;
  }
  return 0;
}

static void filter_line(double *c, int64_t n, const double *poles, int npoles)
{
  double gain = 1.0;
  int64_t i;
  int p;
  for (p = 0; p < npoles; p++)
    gain *= (1.0 - poles[p]) * (1.0 - 1.0 / poles[p]);
  for (i = 0; i < n; i++)
    c[i] *= gain;
  for (p = 0; p < npoles; p++) {
    double z = poles[p], z_i = z, z_n_1 = pow(z, (double)(n - 1));
    /* causal initialisation (mirror) */
    c[0] = c[0] + z_n_1 * c[n - 1];
    for (i = 1; i < n - 1; ++i) {
      c[0] += z_i * (c[i] + z_n_1 * c[n - 1 - i]);
      z_i *= z;
    }
    c[0] /= 1 - z_n_1 * z_n_1;
    for (i = 1; i < n; ++i)
      c[i] += z * c[i - 1];
    /* anti-causal initialisation (mirror) */
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1);
    for (i = n - 2; i >= 0; --i)
      c[i] = z * (c[i + 1] - c[i]);
  }
}

static sc_status spline_filter(struct volume *v, int order,
                               struct sc_error *err)
{
  double poles[2];
  int npoles = spline_poles(order, poles), axis;
  int64_t strides[3];
  strides_of(v->dims, strides);
  for (axis = 0; axis < 3; axis++) {
    int64_t n = v->dims[axis], lines, line, i;
    int a0 = axis == 0 ? 1 : 0, a1 = axis == 2 ? 1 : 2;
    double *buf;
    if (n <= 1)
      continue;
    buf = malloc((size_t)n * sizeof *buf);
    if (!buf)
      return sc_fail_nomem(err, "spline_filter line");
    lines = v->dims[a0] * v->dims[a1];
    for (line = 0; line < lines; line++) {
      double *p = v->data + (line / v->dims[a1]) * strides[a0] +
                  (line % v->dims[a1]) * strides[a1];
      for (i = 0; i < n; i++)
        buf[i] = p[i * strides[axis]];
      filter_line(buf, n, poles, npoles);
      for (i = 0; i < n; i++)
        p[i * strides[axis]] = buf[i];
    }
    free(buf);
  }
  return SC_OK;
}

/* --- zoom (scipy NI_ZoomShift) ------------------------------------------ */

/* scipy get_spline_interpolation_weights. */
static void spline_weights(double x, int order, double *w)
{
  double y, z, t;
  int i;
  x -= floor((order & 1) ? x : x + 0.5);
  y = x;
  z = 1.0 - x;
  switch (order) {
  case 1:
    w[0] = 1.0 - x;
    break;
  case 2:
    w[1] = 0.75 - x * x;
    y = 0.5 - x;
    w[0] = 0.5 * y * y;
    break;
  case 3:
    w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
    w[2] = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
    w[0] = z * z * z / 6.0;
    break;
  case 4:
    t = x * x;
    w[2] = t * (t * 0.25 - 0.625) + 115.0 / 192.0;
    y = 1.0 + x;
    w[1] = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
    w[3] = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
    y = 0.5 - x;
    t = y * y;
    w[0] = t * t / 24.0;
    break;
  case 5:
    t = y * y;
    w[2] = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55;
    t = z * z;
    w[3] = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55;
    y += 1.0;
    w[1] =
        y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
    z += 1.0;
    w[4] =
        z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
    y = 1.0 - x;
    t = y * y;
    w[0] = y * t * t / 120.0;
    break;
  default:
    break;
  }
  w[order] = 1.0;
  for (i = 0; i < order; ++i)
    w[order] -= w[i];
}

/* map_coordinate for 'mirror' (NI_EXTEND_MIRROR). */
static double map_mirror(double in, int64_t len)
{
  if (in < 0) {
    if (len <= 1) {
      in = 0;
    } else {
      int64_t sz2 = 2 * len - 2;
      in = (double)sz2 * (double)(int64_t)(-in / (double)sz2) + in;
      in = in <= 1 - len ? in + (double)sz2 : -in;
    }
  } else if (in > len - 1) {
    if (len <= 1) {
      in = 0;
    } else {
      int64_t sz2 = 2 * len - 2;
      in -= (double)sz2 * (double)(int64_t)(in / (double)sz2);
      if (in >= len)
        in = (double)sz2 - in;
    }
  }
  return in;
}

/* Per-axis taps: (order + 1) source indices and weights per output index;
 * `outside` marks output indices that read cval (constant mode). */
struct zoom_axis {
  int64_t *idx;
  double *w;
  uint8_t *outside;
};

static int zoom_axis_plan(int64_t in, int64_t out, double zoom, int grid_mode,
                          int constant, int order, struct zoom_axis *a)
{
  int64_t k;
  int taps = order + 1, h;
  a->idx = malloc((size_t)(out * taps) * sizeof *a->idx);
  a->w = malloc((size_t)(out * taps) * sizeof *a->w);
  a->outside = calloc((size_t)out, 1);
  if (!a->idx || !a->w || !a->outside)
    return -1;
  for (k = 0; k < out; k++) {
    double cc = (double)k;
    int64_t start;
    if (grid_mode) {
      cc += 0.5;
      cc *= zoom;
      cc -= 0.5;
    } else {
      cc *= zoom;
    }
    if (constant) {
      if (cc < 0 || cc > in - 1) {
        a->outside[k] = 1;
        continue;
      }
    } else {
      cc = map_mirror(cc, in);
    }
    if (order & 1)
      start = (int64_t)floor(cc) - order / 2;
    else
      start = (int64_t)floor(cc + 0.5) - order / 2;
    for (h = 0; h < taps; h++) {
      int64_t i = start + h;
      if (constant)
        i = i < 0 ? 0 : i >= in ? in - 1 : i; /* weight 0 there */
      else
        i = mirror_index(i, in);
      a->idx[k * taps + h] = i;
    }
    if (order > 0)
      spline_weights(cc, order, a->w + k * taps);
    else
      a->w[k * taps] = 1.0;
  }
  return 0;
}

static void zoom_axis_free(struct zoom_axis *a)
{
  free(a->idx);
  free(a->w);
  free(a->outside);
}

/* Interpolates `v` (float64 coefficients) at every output index and stores
 * the result into out (float32/float64 as is, uint8 rounded half up). */
static sc_status zoom_volume(const struct volume *v, const int64_t *odims,
                             const double *zooms, int grid_mode, int constant,
                             int order, struct sc_tensor *out,
                             struct sc_error *err)
{
  struct zoom_axis ax[3];
  int64_t istr[3], y, x, c, taps = order + 1;
  int i, ok = 1;
  memset(ax, 0, sizeof ax);
  for (i = 0; i < 3; i++)
    if (zoom_axis_plan(v->dims[i], odims[i], zooms[i], grid_mode, constant,
                       order, &ax[i]))
      ok = 0;
  if (!ok) {
    for (i = 0; i < 3; i++)
      zoom_axis_free(&ax[i]);
    return sc_fail_nomem(err, "zoom tables");
  }
  strides_of(v->dims, istr);
  for (y = 0; y < odims[0]; y++)
    for (x = 0; x < odims[1]; x++)
      for (c = 0; c < odims[2]; c++) {
        int64_t o = (y * odims[1] + x) * odims[2] + c;
        double t = 0.0;
        if (!(ax[0].outside[y] || ax[1].outside[x] || ax[2].outside[c])) {
          const int64_t *iy = ax[0].idx + y * taps, *ix = ax[1].idx + x * taps;
          const int64_t *ic = ax[2].idx + c * taps;
          const double *wy = ax[0].w + y * taps, *wx = ax[1].w + x * taps;
          const double *wc = ax[2].w + c * taps;
          int64_t a, b, d;
          for (a = 0; a < taps; a++)
            for (b = 0; b < taps; b++)
              for (d = 0; d < taps; d++) {
                double coeff =
                    v->data[iy[a] * istr[0] + ix[b] * istr[1] + ic[d]];
                if (order > 0) {
                  coeff *= wy[a];
                  coeff *= wx[b];
                  coeff *= wc[d];
                }
                t += coeff;
              }
        }
        switch (out->dtype) {
        case SC_DTYPE_UINT8:
          t = t > 0 ? t + 0.5 : 0;
          t = t > 255 ? 255 : t;
          ((uint8_t *)out->data)[o] = (uint8_t)t;
          break;
        case SC_DTYPE_FLOAT:
          ((float *)out->data)[o] = (float)t;
          break;
        default:
          ((double *)out->data)[o] = t;
          break;
        }
      }
  for (i = 0; i < 3; i++)
    zoom_axis_free(&ax[i]);
  return SC_OK;
}

/* --- public functions ----------------------------------------------------- */

static sc_status to_volume(const struct sc_tensor *src, struct volume *v,
                           struct sc_error *err)
{
  int64_t i;
  memcpy(v->dims, src->dims, sizeof v->dims);
  v->data = malloc((size_t)src->n_elements * sizeof(double));
  if (!v->data)
    return sc_fail_nomem(err, "resize working copy");
  for (i = 0; i < src->n_elements; i++)
    v->data[i] = sc_dtype_load(src->dtype, src->data, i);
  return SC_OK;
}

static sc_status check_sizes(const struct sc_tensor *src, int64_t height,
                             int64_t width, const char *fn,
                             struct sc_error *err)
{
  if (src->rank != 3 || src->n_elements == 0)
    return sc_fail(err, SC_ERR_CONFIG, "%s: expected a non-empty HWC image",
                   fn);
  if (height < 1 || width < 1 || height > SC_IMAGE_MAX_SIDE ||
      width > SC_IMAGE_MAX_SIDE || height * width > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG, "%s: output size %lldx%lld out of range",
                   fn, (long long)width, (long long)height);
  return SC_OK;
}

sc_status sc_skimage_resize(const struct sc_tensor *src, int64_t height,
                            int64_t width, int order, struct sc_tensor **out,
                            struct sc_error *err)
{
  struct volume v = {{0, 0, 0}, NULL};
  int64_t odims[3], i;
  double zooms[3], lo, hi;
  int axis;
  sc_status st;

  *out = NULL;
  st = check_sizes(src, height, width, "skimage.transform.resize", err);
  if (st)
    return st;
  if (src->dtype != SC_DTYPE_FLOAT && src->dtype != SC_DTYPE_DOUBLE)
    return sc_fail(err, SC_ERR_CONFIG,
                   "skimage.transform.resize: expected a float image");
  if (order < 0 || order > 5)
    return sc_fail(err, SC_ERR_CONFIG,
                   "skimage.transform.resize: order %d not in 0..5", order);
  odims[0] = height;
  odims[1] = width;
  odims[2] = src->dims[2];
  st = to_volume(src, &v, err);
  if (st)
    return st;
  lo = hi = src->n_elements > 0 ? v.data[0] : 0;
  for (i = 1; i < src->n_elements; i++) {
    if (v.data[i] < lo)
      lo = v.data[i];
    if (v.data[i] > hi)
      hi = v.data[i];
  }
  if (height < src->dims[0] || width < src->dims[1]) {
    for (axis = 0; axis < 2 && !st; axis++) {
      double factor = (double)src->dims[axis] / (double)odims[axis];
      double sigma = (factor - 1) / 2;
      if (sigma > 1e-15)
        st = gaussian_axis(&v, axis, sigma, src->dtype, err);
    }
  }
  if (!st && order > 1)
    st = spline_filter(&v, order, err);
  if (!st)
    st = sc_tensor_create_pooled(NULL, src->dtype, 3, odims, out, err);
  if (!st) {
    for (axis = 0; axis < 3; axis++)
      zooms[axis] = (double)src->dims[axis] / (double)odims[axis];
    st = zoom_volume(&v, odims, zooms, 1, 0, order, *out, err);
  }
  free(v.data);
  if (st) {
    sc_tensor_free(*out);
    *out = NULL;
    return st;
  }
  for (i = 0; i < (*out)->n_elements; i++) {
    double x = sc_dtype_load((*out)->dtype, (*out)->data, i);
    if (x < lo)
      sc_dtype_store((*out)->dtype, (*out)->data, i, lo);
    else if (x > hi)
      sc_dtype_store((*out)->dtype, (*out)->data, i, hi);
  }
  return SC_OK;
}

sc_status sc_scipy_zoom_linear(const struct sc_tensor *src, int64_t height,
                               int64_t width, struct sc_tensor **out,
                               struct sc_error *err)
{
  struct volume v = {{0, 0, 0}, NULL};
  int64_t odims[3];
  double zooms[3];
  int axis;
  sc_status st;

  *out = NULL;
  st = check_sizes(src, height, width, "scipy.ndimage.zoom", err);
  if (st)
    return st;
  if (src->dtype != SC_DTYPE_UINT8 && src->dtype != SC_DTYPE_FLOAT &&
      src->dtype != SC_DTYPE_DOUBLE)
    return sc_fail(err, SC_ERR_CONFIG,
                   "scipy.ndimage.zoom: dtype %s is not supported",
                   sc_dtype_name(src->dtype));
  /* output shape = round(in * zoom) with zoom = target / in */
  odims[0] = (int64_t)nearbyint((double)src->dims[0] *
                                ((double)height / (double)src->dims[0]));
  odims[1] = (int64_t)nearbyint((double)src->dims[1] *
                                ((double)width / (double)src->dims[1]));
  odims[2] = src->dims[2];
  for (axis = 0; axis < 3; axis++)
    zooms[axis] = odims[axis] > 1 ? (double)(src->dims[axis] - 1) /
                                        (double)(odims[axis] - 1)
                                  : 1.0;
  st = to_volume(src, &v, err);
  if (!st)
    st = sc_tensor_create_pooled(NULL, src->dtype, 3, odims, out, err);
  if (!st)
    st = zoom_volume(&v, odims, zooms, 0, 1, 1, *out, err);
  free(v.data);
  if (st) {
    sc_tensor_free(*out);
    *out = NULL;
  }
  return st;
}
