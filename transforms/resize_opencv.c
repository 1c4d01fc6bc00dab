/* cv2.resize as OpenCV 4.6 computes it on the x86-64 CPU path
 * (spec/transforms.md 3.1-3.4): nearest, linear (fixed point for uint8),
 * cubic, and area (fast integer factors, general down-scaling, and the
 * bilinear "area" coefficients when up-scaling), for uint8 and float32
 * images with any channel count.
 *
 * The operation order of every sum follows OpenCV's code, including the
 * split between its 128-bit SIMD loops and scalar tails where the two round
 * differently (cubic vertical pass, float 2x2 area averages). */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/imgproc.h"

#define COEF_BITS 11
#define COEF_SCALE (1 << COEF_BITS)

static int cv_round(double x)
{
  return (int)lrint(x);
}

static int cv_floor(double x)
{
  return (int)floor(x);
}

static uint8_t sat_u8(int64_t v)
{
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int16_t sat_i16_from_float(float v)
{
  long r = lrintf(v);
  return (int16_t)(r < -32768 ? -32768 : r > 32767 ? 32767 : r);
}

static sc_status check_src(const struct sc_tensor *src, const char *fn,
                           struct sc_error *err)
{
  if (src->rank != 3 || src->dims[0] < 1 || src->dims[1] < 1 ||
      src->dims[2] < 1)
    return sc_fail(err, SC_ERR_CONFIG, "%s: expected a non-empty HWC image",
                   fn);
  if (src->dtype != SC_DTYPE_UINT8 && src->dtype != SC_DTYPE_FLOAT)
    return sc_fail(err, SC_ERR_CONFIG,
                   "%s: dtype %s is not supported (uint8, float32)", fn,
                   sc_dtype_name(src->dtype));
  if (src->dims[0] > SC_IMAGE_MAX_SIDE || src->dims[1] > SC_IMAGE_MAX_SIDE)
    return sc_fail(err, SC_ERR_CONFIG, "%s: image side larger than %lld", fn,
                   (long long)SC_IMAGE_MAX_SIDE);
  return SC_OK;
}

static sc_status new_image(enum sc_dtype dtype, int64_t h, int64_t w, int64_t c,
                           struct sc_tensor **out, struct sc_error *err)
{
  int64_t dims[3];
  dims[0] = h;
  dims[1] = w;
  dims[2] = c;
  return sc_tensor_create_pooled(NULL, dtype, 3, dims, out, err);
}

/* --- nearest ----------------------------------------------------------- */

static sc_status resize_nearest(const struct sc_tensor *src,
                                struct sc_tensor *dst, double inv_scale_x,
                                double inv_scale_y, struct sc_error *err)
{
  int64_t sh = src->dims[0], sw = src->dims[1], cn = src->dims[2];
  int64_t dh = dst->dims[0], dw = dst->dims[1];
  size_t pix = (size_t)cn * sc_dtype_size(src->dtype);
  double ifx = 1. / inv_scale_x, ify = 1. / inv_scale_y;
  int64_t *xofs = malloc((size_t)dw * sizeof *xofs);
  int64_t x, y;

  if (!xofs)
    return sc_fail_nomem(err, "cv2.resize offsets");
  for (x = 0; x < dw; x++) {
    int64_t sx = cv_floor((double)x * ifx);
    xofs[x] = (sx < sw - 1 ? sx : sw - 1) * (int64_t)pix;
  }
  for (y = 0; y < dh; y++) {
    int64_t sy = cv_floor((double)y * ify);
    const uint8_t *s;
    uint8_t *d = (uint8_t *)dst->data + (size_t)(y * dw) * pix;
    if (sy > sh - 1)
      sy = sh - 1;
    s = (const uint8_t *)src->data + (size_t)(sy * sw) * pix;
    for (x = 0; x < dw; x++)
      memcpy(d + (size_t)x * pix, s + xofs[x], pix);
  }
  free(xofs);
  return SC_OK;
}

/* --- area, integer factors (resizeAreaFast) ----------------------------- */

/* Offset of tap k of an integer-factor area cell: taps run over (sy, sx)
 * in row-major order, as OpenCV's ofs table. */
static int64_t area_ofs(int64_t k, int scale_x, int64_t sstep, int64_t cn)
{
  return (k / scale_x) * sstep + (k % scale_x) * cn;
}

static void resize_area_fast(const struct sc_tensor *src, struct sc_tensor *dst,
                             int scale_x, int scale_y)
{
  int64_t sh = src->dims[0], sw = src->dims[1], cn = src->dims[2];
  int64_t dh = dst->dims[0], width = dst->dims[1] * cn;
  int64_t sstep = sw * cn;
  int64_t dwidth1 = (sw / scale_x) * cn;
  int64_t area = (int64_t)scale_x * scale_y;
  float scale = 1.f / (float)area;
  int is_u8 = src->dtype == SC_DTYPE_UINT8;
  int fast_u8 =
      is_u8 && scale_x == 2 && scale_y == 2 && (cn == 1 || cn == 3 || cn == 4);
  int fast_f32 = !is_u8 && scale_x == 2 && scale_y == 2 && (cn == 1 || cn == 4);
  int64_t dy, dx, k;

  for (dy = 0; dy < dh; dy++) {
    int64_t sy0 = dy * scale_y;
    int64_t w = sy0 + scale_y <= sh ? dwidth1 : 0;
    if (sy0 >= sh) {
      if (is_u8)
        memset((uint8_t *)dst->data + (size_t)(dy * width), 0, (size_t)width);
      else
        memset((float *)dst->data + (size_t)(dy * width), 0,
               (size_t)width * sizeof(float));
      continue;
    }
    dx = 0;
    if (is_u8) {
      const uint8_t *S = (const uint8_t *)src->data + (size_t)(sy0 * sstep);
      uint8_t *D = (uint8_t *)dst->data + (size_t)(dy * width);
      if (fast_u8) { /* 2x2 with 1, 3 or 4 channels: (sum + 2) >> 2 */
        const uint8_t *N = S + sstep;
        for (; dx < w; dx++) {
          int64_t base = (dx / cn) * 2 * cn + dx % cn;
          D[dx] =
              (uint8_t)((S[base] + S[base + cn] + N[base] + N[base + cn] + 2) >>
                        2);
        }
      }
      for (; dx < w; dx++) {
        int64_t sx = (dx / cn) * scale_x * cn + dx % cn, sum = 0;
        for (k = 0; k < area; k++)
          sum += S[sx + area_ofs(k, scale_x, sstep, cn)];
        D[dx] = sat_u8(lrintf((float)sum * scale));
      }
      for (; dx < width; dx++) { /* partial cells at the right/bottom */
        int64_t sx0 = (dx / cn) * scale_x * cn + dx % cn, sum = 0, count = 0;
        int64_t sy, sx;
        if (sx0 >= sstep) {
          D[dx] = 0;
          continue;
        }
        for (sy = 0; sy < scale_y && sy0 + sy < sh; sy++) {
          const uint8_t *row = S + sy * sstep + sx0;
          for (sx = 0; sx < scale_x * cn; sx += cn) {
            if (sx0 + sx >= sstep)
              break;
            sum += row[sx];
            count++;
          }
        }
        D[dx] = sat_u8(lrintf((float)sum / (float)count));
      }
    } else {
      const float *S = (const float *)src->data + (size_t)(sy0 * sstep);
      float *D = (float *)dst->data + (size_t)(dy * width);
      const float *N = S + sstep;
      /* SIMD: blocks of 4 outputs, ((a + b) + (c + d)) * 0.25f */
      int64_t simd_end = w / 4 * 4;
      if (fast_f32 && cn == 1) {
        for (; dx < simd_end; dx++)
          D[dx] = ((S[2 * dx] + S[2 * dx + 1]) + (N[2 * dx] + N[2 * dx + 1])) *
                  0.25f;
      } else if (fast_f32 && cn == 4) {
        for (; dx < simd_end; dx++) {
          int64_t base = (dx / 4) * 8 + dx % 4;
          D[dx] = ((S[base] + S[base + 4]) + (N[base] + N[base + 4])) * 0.25f;
        }
      }
      for (; dx < w; dx++) {
        /* groups of 4 taps are summed first, then added (unrolled loop) */
        int64_t sx = (dx / cn) * scale_x * cn + dx % cn;
        float sum = 0;
        for (k = 0; k + 4 <= area; k += 4)
          sum += S[sx + area_ofs(k, scale_x, sstep, cn)] +
                 S[sx + area_ofs(k + 1, scale_x, sstep, cn)] +
                 S[sx + area_ofs(k + 2, scale_x, sstep, cn)] +
                 S[sx + area_ofs(k + 3, scale_x, sstep, cn)];
        for (; k < area; k++)
          sum += S[sx + area_ofs(k, scale_x, sstep, cn)];
        D[dx] = sum * scale;
      }
      for (; dx < width; dx++) {
        int64_t sx0 = (dx / cn) * scale_x * cn + dx % cn, count = 0, sy, sx;
        float sum = 0;
        if (sx0 >= sstep) {
          D[dx] = 0;
          continue;
        }
        for (sy = 0; sy < scale_y && sy0 + sy < sh; sy++) {
          const float *row = S + sy * sstep + sx0;
          for (sx = 0; sx < scale_x * cn; sx += cn) {
            if (sx0 + sx >= sstep)
              break;
            sum += row[sx];
            count++;
          }
        }
        D[dx] = sum / (float)count;
      }
    }
  }
}

/* --- area, general down-scaling (resizeArea) ---------------------------- */

struct area_tap {
  int64_t di, si;
  float alpha;
};

/* computeResizeAreaTab: returns the number of taps written to tab (at most
 * 2 * ssize + 2 * dsize). */
static int64_t area_tab(int64_t ssize, int64_t dsize, int64_t cn, double scale,
                        struct area_tap *tab)
{
  int64_t k = 0, dx;
  for (dx = 0; dx < dsize; dx++) {
    double fsx1 = (double)dx * scale;
    double fsx2 = fsx1 + scale;
    double cell = fmin(scale, (double)ssize - fsx1);
    int64_t sx1 = (int64_t)ceil(fsx1), sx2 = (int64_t)floor(fsx2), sx;
    if (sx2 > ssize - 1)
      sx2 = ssize - 1;
    if (sx1 > sx2)
      sx1 = sx2;
    if ((double)sx1 - fsx1 > 1e-3) {
      tab[k].di = dx * cn;
      tab[k].si = (sx1 - 1) * cn;
      tab[k++].alpha = (float)(((double)sx1 - fsx1) / cell);
    }
    for (sx = sx1; sx < sx2; sx++) {
      tab[k].di = dx * cn;
      tab[k].si = sx * cn;
      tab[k++].alpha = (float)(1.0 / cell);
    }
    if (fsx2 - (double)sx2 > 1e-3) {
      tab[k].di = dx * cn;
      tab[k].si = sx2 * cn;
      tab[k++].alpha = (float)(fmin(fmin(fsx2 - (double)sx2, 1.), cell) / cell);
    }
  }
  return k;
}

static sc_status resize_area(const struct sc_tensor *src, struct sc_tensor *dst,
                             double scale_x, double scale_y,
                             struct sc_error *err)
{
  int64_t sh = src->dims[0], sw = src->dims[1], cn = src->dims[2];
  int64_t dh = dst->dims[0], width = dst->dims[1] * cn;
  int is_u8 = src->dtype == SC_DTYPE_UINT8;
  struct area_tap *xtab, *ytab;
  float *buf, *sum;
  int64_t nx, ny, j, k, dx, prev_dy;

  xtab = malloc((size_t)(2 * sw + 2 * dst->dims[1] + 2) * sizeof *xtab);
  ytab = malloc((size_t)(2 * sh + 2 * dh + 2) * sizeof *ytab);
  buf = malloc((size_t)width * 2 * sizeof *buf);
  if (!xtab || !ytab || !buf) {
    free(xtab);
    free(ytab);
    free(buf);
    return sc_fail_nomem(err, "cv2.resize area tables");
  }
  sum = buf + width;
  nx = area_tab(sw, dst->dims[1], cn, scale_x, xtab);
  ny = area_tab(sh, dh, 1, scale_y, ytab);
  for (dx = 0; dx < width; dx++)
    sum[dx] = 0;
  prev_dy = ny > 0 ? ytab[0].di : 0;
  for (j = 0; j < ny; j++) {
    float beta = ytab[j].alpha;
    int64_t dy = ytab[j].di, sy = ytab[j].si;
    for (dx = 0; dx < width; dx++)
      buf[dx] = 0;
    if (is_u8) {
      const uint8_t *S = (const uint8_t *)src->data + (size_t)(sy * sw * cn);
      for (k = 0; k < nx; k++) {
        int64_t c;
        for (c = 0; c < cn; c++)
          buf[xtab[k].di + c] += (float)S[xtab[k].si + c] * xtab[k].alpha;
      }
    } else {
      const float *S = (const float *)src->data + (size_t)(sy * sw * cn);
      for (k = 0; k < nx; k++) {
        int64_t c;
        for (c = 0; c < cn; c++)
          buf[xtab[k].di + c] += S[xtab[k].si + c] * xtab[k].alpha;
      }
    }
    if (dy != prev_dy) {
      for (dx = 0; dx < width; dx++) {
        if (is_u8)
          ((uint8_t *)dst->data)[prev_dy * width + dx] =
              sat_u8(lrintf(sum[dx]));
        else
          ((float *)dst->data)[prev_dy * width + dx] = sum[dx];
        sum[dx] = beta * buf[dx];
      }
      prev_dy = dy;
    } else {
      for (dx = 0; dx < width; dx++)
        sum[dx] += beta * buf[dx];
    }
  }
  for (dx = 0; dx < width; dx++) {
    if (is_u8)
      ((uint8_t *)dst->data)[prev_dy * width + dx] = sat_u8(lrintf(sum[dx]));
    else
      ((float *)dst->data)[prev_dy * width + dx] = sum[dx];
  }
  free(xtab);
  free(ytab);
  free(buf);
  return SC_OK;
}

/* --- generic separable linear / cubic ---------------------------------- */

/* cv::interpolateCubic (A = -0.75, float arithmetic). */
static void cubic_coeffs(float x, float *c)
{
  const float A = -0.75f;
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = 1.f - c[0] - c[1] - c[2];
}

struct axis_plan {
  int64_t *ofs;    /* source index (pixel) of tap 1 (cubic) or tap 0 */
  float *alpha;    /* ksize float coefficients per destination index */
  int16_t *ialpha; /* the same in fixed point (uint8) */
  int64_t limit;   /* linear x: first index using the "right border" form */
};

/* Coefficients along one axis (resize()'s loops over dx and dy). */
static void plan_axis(int64_t ssize, int64_t dsize, double scale,
                      double inv_scale, int cubic, int area_mode,
                      struct axis_plan *p, int is_x)
{
  int ksize = cubic ? 4 : 2, ksize2 = ksize / 2, k;
  int64_t d;
  p->limit = dsize;
  for (d = 0; d < dsize; d++) {
    float f, cbuf[4];
    int64_t s;
    if (!area_mode) {
      f = (float)(((double)d + 0.5) * scale - 0.5);
      s = cv_floor(f);
      f -= (float)s;
    } else {
      s = cv_floor((double)d * scale);
      f = (float)((double)(d + 1) - (double)(s + 1) * inv_scale);
      f = f <= 0 ? 0.f : f - (float)cv_floor(f);
    }
    if (is_x) {
      if (s < ksize2 - 1 && s < 0 && !cubic) {
        f = 0;
        s = 0;
      }
      if (s + ksize2 >= ssize) {
        if (p->limit > d)
          p->limit = d;
        if (s >= ssize - 1 && !cubic) {
          f = 0;
          s = ssize - 1;
        }
      }
    }
    p->ofs[d] = s;
    if (cubic) {
      cubic_coeffs(f, cbuf);
    } else {
      cbuf[0] = 1.f - f;
      cbuf[1] = f;
    }
    for (k = 0; k < ksize; k++) {
      p->alpha[d * ksize + k] = cbuf[k];
      p->ialpha[d * ksize + k] = sat_i16_from_float(cbuf[k] * COEF_SCALE);
    }
  }
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Horizontal pass of one source row into D (int32 for uint8, float for
 * float32), dwidth = dw * cn elements. */
static void hresize_row(const struct sc_tensor *src, int64_t row,
                        const struct axis_plan *px, int cubic, int64_t dw,
                        void *drow)
{
  int64_t sw = src->dims[1], cn = src->dims[2], dx, c;
  int ksize = cubic ? 4 : 2;
  if (src->dtype == SC_DTYPE_UINT8) {
    const uint8_t *S = (const uint8_t *)src->data + (size_t)(row * sw * cn);
    int32_t *D = drow;
    for (dx = 0; dx < dw; dx++) {
      const int16_t *a = px->ialpha + dx * ksize;
      int64_t sx = px->ofs[dx];
      for (c = 0; c < cn; c++) {
        int32_t v;
        if (cubic) {
          int k;
          v = 0;
          for (k = 0; k < 4; k++)
            v += S[clamp64(sx - 1 + k, 0, sw - 1) * cn + c] * a[k];
        } else if (dx >= px->limit) {
          v = S[sx * cn + c] * COEF_SCALE;
        } else {
          v = S[sx * cn + c] * a[0] + S[(sx + 1) * cn + c] * a[1];
        }
        D[dx * cn + c] = v;
      }
    }
  } else {
    const float *S = (const float *)src->data + (size_t)(row * sw * cn);
    float *D = drow;
    for (dx = 0; dx < dw; dx++) {
      const float *a = px->alpha + dx * ksize;
      int64_t sx = px->ofs[dx];
      for (c = 0; c < cn; c++) {
        float v;
        if (cubic) {
          int k;
          v = S[clamp64(sx - 1, 0, sw - 1) * cn + c] * a[0];
          for (k = 1; k < 4; k++)
            v += S[clamp64(sx - 1 + k, 0, sw - 1) * cn + c] * a[k];
        } else if (dx >= px->limit) {
          v = S[sx * cn + c];
        } else {
          v = S[sx * cn + c] * a[0] + S[(sx + 1) * cn + c] * a[1];
        }
        D[dx * cn + c] = v;
      }
    }
  }
}

/* Vertical pass of one destination row from ksize horizontal rows. */
static void vresize_row(enum sc_dtype dtype, int cubic, const void **rows,
                        const float *beta, const int16_t *ibeta, int64_t width,
                        void *dst)
{
  int64_t x;
  if (dtype == SC_DTYPE_UINT8 && !cubic) {
    const int32_t *S0 = rows[0], *S1 = rows[1];
    int b0 = ibeta[0], b1 = ibeta[1];
    uint8_t *D = dst;
    for (x = 0; x < width; x++)
      D[x] = (uint8_t)((((b0 * (S0[x] >> 4)) >> 16) +
                        ((b1 * (S1[x] >> 4)) >> 16) + 2) >>
                       2);
  } else if (dtype == SC_DTYPE_UINT8) {
    const int32_t *S0 = rows[0], *S1 = rows[1], *S2 = rows[2], *S3 = rows[3];
    const float scale = 1.f / (COEF_SCALE * COEF_SCALE);
    float bf0 = ibeta[0] * scale, bf1 = ibeta[1] * scale;
    float bf2 = ibeta[2] * scale, bf3 = ibeta[3] * scale;
    int64_t simd_end = width / 8 * 8; /* v_int16::nlanes on SSE2 */
    uint8_t *D = dst;
    for (x = 0; x < simd_end; x++) {
      float v =
          (float)S0[x] * bf0 +
          ((float)S1[x] * bf1 + ((float)S2[x] * bf2 + (float)S3[x] * bf3));
      D[x] = sat_u8(lrintf(v));
    }
    for (; x < width; x++) {
      int64_t v = (int64_t)S0[x] * ibeta[0] + (int64_t)S1[x] * ibeta[1] +
                  (int64_t)S2[x] * ibeta[2] + (int64_t)S3[x] * ibeta[3];
      D[x] = sat_u8((v + (1 << 21)) >> 22);
    }
  } else if (!cubic) {
    const float *S0 = rows[0], *S1 = rows[1];
    float *D = dst;
    for (x = 0; x < width; x++)
      D[x] = S0[x] * beta[0] + S1[x] * beta[1];
  } else {
    const float *S0 = rows[0], *S1 = rows[1], *S2 = rows[2], *S3 = rows[3];
    int64_t simd_end = width / 4 * 4; /* v_float32::nlanes on SSE2 */
    float *D = dst;
    for (x = 0; x < simd_end; x++)
      D[x] = S0[x] * beta[0] +
             (S1[x] * beta[1] + (S2[x] * beta[2] + S3[x] * beta[3]));
    for (; x < width; x++)
      D[x] =
          S0[x] * beta[0] + S1[x] * beta[1] + S2[x] * beta[2] + S3[x] * beta[3];
  }
}

static sc_status resize_generic(const struct sc_tensor *src,
                                struct sc_tensor *dst, double scale_x,
                                double scale_y, double inv_scale_x,
                                double inv_scale_y, int cubic, int area_mode,
                                struct sc_error *err)
{
  int64_t sh = src->dims[0], sw = src->dims[1], cn = src->dims[2];
  int64_t dh = dst->dims[0], dw = dst->dims[1], width = dw * cn;
  int ksize = cubic ? 4 : 2, k;
  size_t esize = src->dtype == SC_DTYPE_UINT8 ? sizeof(int32_t) : sizeof(float);
  size_t dsize_e = sc_dtype_size(dst->dtype);
  struct axis_plan px, py;
  int64_t tags[4] = {-1, -1, -1, -1}, dy;
  uint8_t *rowbuf;
  sc_status st = SC_OK;

  px.ofs = malloc((size_t)dw * sizeof *px.ofs);
  px.alpha = malloc((size_t)dw * 4 * sizeof *px.alpha);
  px.ialpha = malloc((size_t)dw * 4 * sizeof *px.ialpha);
  py.ofs = malloc((size_t)dh * sizeof *py.ofs);
  py.alpha = malloc((size_t)dh * 4 * sizeof *py.alpha);
  py.ialpha = malloc((size_t)dh * 4 * sizeof *py.ialpha);
  rowbuf = malloc((size_t)width * esize * 4);
  if (!px.ofs || !px.alpha || !px.ialpha || !py.ofs || !py.alpha ||
      !py.ialpha || !rowbuf) {
    st = sc_fail_nomem(err, "cv2.resize buffers");
    goto cleanup;
  }
  plan_axis(sw, dw, scale_x, inv_scale_x, cubic, area_mode, &px, 1);
  plan_axis(sh, dh, scale_y, inv_scale_y, cubic, area_mode, &py, 0);
  for (dy = 0; dy < dh; dy++) {
    const void *rows[4];
    for (k = 0; k < ksize; k++) {
      int64_t sy = clamp64(py.ofs[dy] - (ksize / 2 - 1) + k, 0, sh - 1);
      int slot = (int)(sy % ksize);
      uint8_t *buf = rowbuf + (size_t)slot * (size_t)width * esize;
      if (tags[slot] != sy) {
        hresize_row(src, sy, &px, cubic, dw, buf);
        tags[slot] = sy;
      }
      rows[k] = buf;
    }
    vresize_row(src->dtype, cubic, rows, py.alpha + dy * ksize,
                py.ialpha + dy * ksize, width,
                (uint8_t *)dst->data + (size_t)(dy * width) * dsize_e);
  }
cleanup:
  free(px.ofs);
  free(px.alpha);
  free(px.ialpha);
  free(py.ofs);
  free(py.alpha);
  free(py.ialpha);
  free(rowbuf);
  return st;
}

/* --- dispatch (cv::resize) --------------------------------------------- */

static sc_status resize_impl(const struct sc_tensor *src, int64_t dh,
                             int64_t dw, double inv_scale_x, double inv_scale_y,
                             enum sc_cv_inter inter, struct sc_tensor **out,
                             struct sc_error *err)
{
  double scale_x, scale_y;
  int iscale_x, iscale_y, is_area_fast;
  struct sc_tensor *dst;
  sc_status st;

  if (dh < 1 || dw < 1 || dh > SC_IMAGE_MAX_SIDE || dw > SC_IMAGE_MAX_SIDE ||
      dh * dw > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.resize: output size %lldx%lld out of range (sides 1 "
                   "to %lld, at most %lld pixels)",
                   (long long)dw, (long long)dh, (long long)SC_IMAGE_MAX_SIDE,
                   (long long)SC_IMAGE_MAX_PIXELS);
  st = new_image(src->dtype, dh, dw, src->dims[2], &dst, err);
  if (st)
    return st;
  if (dh == src->dims[0] && dw == src->dims[1]) {
    memcpy(dst->data, src->data, sc_tensor_size(src));
    *out = dst;
    return SC_OK;
  }
  if (inter == SC_CV_INTER_NEAREST) {
    st = resize_nearest(src, dst, inv_scale_x, inv_scale_y, err);
    if (st)
      sc_tensor_free(dst);
    else
      *out = dst;
    return st;
  }
  scale_x = 1. / inv_scale_x;
  scale_y = 1. / inv_scale_y;
  iscale_x = cv_round(scale_x);
  iscale_y = cv_round(scale_y);
  is_area_fast = fabs(scale_x - iscale_x) < DBL_EPSILON &&
                 fabs(scale_y - iscale_y) < DBL_EPSILON;
  if (inter == SC_CV_INTER_LINEAR && is_area_fast && iscale_x == 2 &&
      iscale_y == 2)
    inter = SC_CV_INTER_AREA;
  if (inter == SC_CV_INTER_AREA && scale_x >= 1 && scale_y >= 1) {
    if (is_area_fast)
      resize_area_fast(src, dst, iscale_x, iscale_y);
    else
      st = resize_area(src, dst, scale_x, scale_y, err);
  } else {
    st = resize_generic(src, dst, scale_x, scale_y, inv_scale_x, inv_scale_y,
                        inter == SC_CV_INTER_CUBIC, inter == SC_CV_INTER_AREA,
                        err);
  }
  if (st) {
    sc_tensor_free(dst);
    return st;
  }
  *out = dst;
  return SC_OK;
}

sc_status sc_cv_resize(const struct sc_tensor *src, int64_t height,
                       int64_t width, enum sc_cv_inter inter,
                       struct sc_tensor **out, struct sc_error *err)
{
  sc_status st;
  *out = NULL;
  st = check_src(src, "cv2.resize", err);
  if (st)
    return st;
  return resize_impl(src, height, width, (double)width / (double)src->dims[1],
                     (double)height / (double)src->dims[0], inter, out, err);
}

sc_status sc_cv_resize_scale(const struct sc_tensor *src, double fx, double fy,
                             enum sc_cv_inter inter, struct sc_tensor **out,
                             struct sc_error *err)
{
  double w, h;
  sc_status st;
  *out = NULL;
  st = check_src(src, "cv2.resize", err);
  if (st)
    return st;
  if (!(fx > 0) || !(fy > 0) || !isfinite(fx) || !isfinite(fy))
    return sc_fail(err, SC_ERR_CONFIG, "cv2.resize: scale factors %g, %g", fx,
                   fy);
  w = (double)src->dims[1] * fx;
  h = (double)src->dims[0] * fy;
  if (w > (double)SC_IMAGE_MAX_SIDE || h > (double)SC_IMAGE_MAX_SIDE)
    return sc_fail(err, SC_ERR_CONFIG, "cv2.resize: output too large");
  return resize_impl(src, (int64_t)lrint(h), (int64_t)lrint(w), fx, fy, inter,
                     out, err);
}
