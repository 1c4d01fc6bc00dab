/* cv2.getAffineTransform and cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT 0)
 * as OpenCV 4.6 computes them (spec/transforms.md 3.5): a 6x6 LU solve in
 * double, then fixed-point source coordinates on a 1/32-pixel grid and
 * bilinear weights from OpenCV's interpolation tables. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "transforms/imgproc.h"

/* hal::LU64f: Gaussian elimination with partial pivoting on A (m x m), then
 * back substitution into b. Returns 0 if A is singular. */
static int lu_solve(double *A, int m, double *b)
{
  int i, j, k;
  for (i = 0; i < m; i++) {
    double d;
    k = i;
    for (j = i + 1; j < m; j++)
      if (fabs(A[j * m + i]) > fabs(A[k * m + i]))
        k = j;
    if (fabs(A[k * m + i]) < 2.220446049250313e-16 * 100)
      return 0;
    if (k != i) {
      double tmp;
      for (j = i; j < m; j++) {
        tmp = A[i * m + j];
        A[i * m + j] = A[k * m + j];
        A[k * m + j] = tmp;
      }
      tmp = b[i];
      b[i] = b[k];
      b[k] = tmp;
    }
    d = -1 / A[i * m + i];
    for (j = i + 1; j < m; j++) {
      double alpha = A[j * m + i] * d;
      for (k = i + 1; k < m; k++)
        A[j * m + k] += alpha * A[i * m + k];
      b[j] += alpha * b[i];
    }
  }
  for (i = m - 1; i >= 0; i--) {
    double s = b[i];
    for (k = i + 1; k < m; k++)
      s -= A[i * m + k] * b[k];
    b[i] = s / A[i * m + i];
  }
  return 1;
}

void sc_cv_get_affine_transform(const float src[6], const float dst[6],
                                double m[6])
{
  double a[36], b[6];
  int i;
  for (i = 0; i < 3; i++) {
    int j = i * 12, k = i * 12 + 6;
    a[j] = a[k + 3] = src[2 * i];
    a[j + 1] = a[k + 4] = src[2 * i + 1];
    a[j + 2] = a[k + 5] = 1;
    a[j + 3] = a[j + 4] = a[j + 5] = 0;
    a[k] = a[k + 1] = a[k + 2] = 0;
    b[i * 2] = dst[2 * i];
    b[i * 2 + 1] = dst[2 * i + 1];
  }
  if (!lu_solve(a, 6, b))
    memset(b, 0, sizeof b); /* cv::solve leaves X = 0 when singular */
  memcpy(m, b, sizeof b);
}

#define AB_BITS 10
#define AB_SCALE (1 << AB_BITS)
#define INTER_BITS 5
#define INTER_TAB_SIZE (1 << INTER_BITS)
#define ROUND_DELTA (AB_SCALE / INTER_TAB_SIZE / 2)

static int sat_int(double v)
{
  double r = nearbyint(v);
  if (r > 2147483647.0)
    return 2147483647;
  if (r < -2147483648.0)
    return (int)-2147483647 - 1;
  return (int)r;
}

static int sat_short(int v)
{
  return v < -32768 ? -32768 : v > 32767 ? 32767 : v;
}

sc_status sc_cv_warp_affine(const struct sc_tensor *src, const double m_in[6],
                            int64_t height, int64_t width,
                            struct sc_tensor **out, struct sc_error *err)
{
  int64_t H, W, cn, dims[3], x, y, k;
  int *adelta, *bdelta;
  double M[6], D;
  int is_u8;
  sc_status st;

  *out = NULL;
  if (src->rank != 3 || src->n_elements == 0 ||
      (src->dtype != SC_DTYPE_UINT8 && src->dtype != SC_DTYPE_FLOAT))
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.warpAffine: expected a uint8 or float32 HWC image");
  if (height < 1 || width < 1 || height > SC_IMAGE_MAX_SIDE ||
      width > SC_IMAGE_MAX_SIDE || height * width > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "cv2.warpAffine: output size %lldx%lld out of range",
                   (long long)width, (long long)height);
  H = src->dims[0];
  W = src->dims[1];
  cn = src->dims[2];
  is_u8 = src->dtype == SC_DTYPE_UINT8;
  dims[0] = height;
  dims[1] = width;
  dims[2] = cn;
  st = sc_tensor_create_pooled(NULL, src->dtype, 3, dims, out, err);
  if (st)
    return st;
  adelta = malloc((size_t)width * sizeof *adelta);
  bdelta = malloc((size_t)width * sizeof *bdelta);
  if (!adelta || !bdelta) {
    free(adelta);
    free(bdelta);
    sc_tensor_free(*out);
    *out = NULL;
    return sc_fail_nomem(err, "cv2.warpAffine tables");
  }
  /* invert the matrix (no WARP_INVERSE_MAP) */
  memcpy(M, m_in, sizeof M);
  D = M[0] * M[4] - M[1] * M[3];
  D = D != 0 ? 1. / D : 0;
  {
    double A11 = M[4] * D, A22 = M[0] * D, b1, b2;
    M[0] = A11;
    M[1] *= -D;
    M[3] *= -D;
    M[4] = A22;
    b1 = -M[0] * M[2] - M[1] * M[5];
    b2 = -M[3] * M[2] - M[4] * M[5];
    M[2] = b1;
    M[5] = b2;
  }
  for (x = 0; x < width; x++) {
    adelta[x] = sat_int(M[0] * (double)x * AB_SCALE);
    bdelta[x] = sat_int(M[3] * (double)x * AB_SCALE);
  }
  for (y = 0; y < height; y++) {
    /* int64: a saturated INT_MAX + ROUND_DELTA would overflow an int */
    int64_t X0 =
        (int64_t)sat_int((M[1] * (double)y + M[2]) * AB_SCALE) + ROUND_DELTA;
    int64_t Y0 =
        (int64_t)sat_int((M[4] * (double)y + M[5]) * AB_SCALE) + ROUND_DELTA;
    for (x = 0; x < width; x++) {
      int X = (int)((X0 + adelta[x]) >> (AB_BITS - INTER_BITS));
      int Y = (int)((Y0 + bdelta[x]) >> (AB_BITS - INTER_BITS));
      int64_t sx = sat_short(X >> INTER_BITS), sy = sat_short(Y >> INTER_BITS);
      int a = X & (INTER_TAB_SIZE - 1), b = Y & (INTER_TAB_SIZE - 1);
      int64_t o = (y * width + x) * cn;
      int inside = sx >= 0 && sx < W - 1 && sy >= 0 && sy < H - 1;
      int outside = sx >= W || sx + 1 < 0 || sy >= H || sy + 1 < 0;
      for (k = 0; k < cn; k++) {
        double v[4];
        int t;
        for (t = 0; t < 4; t++) {
          int64_t px = sx + (t & 1), py = sy + (t >> 1);
          int ok = inside || (px >= 0 && px < W && py >= 0 && py < H);
          v[t] = outside || !ok ? 0.0
                                : sc_dtype_load(src->dtype, src->data,
                                                (py * W + px) * cn + k);
        }
        if (outside) {
          sc_dtype_store(src->dtype, (*out)->data, o + k, 0.0);
        } else if (is_u8) {
          int64_t w00 = (32 - a) * (32 - b) * 32, w01 = a * (32 - b) * 32;
          int64_t w10 = (32 - a) * b * 32, w11 = a * b * 32;
          int64_t s = (int64_t)v[0] * w00 + (int64_t)v[1] * w01 +
                      (int64_t)v[2] * w10 + (int64_t)v[3] * w11;
          int64_t r = (s + (1 << 14)) >> 15;
          ((uint8_t *)(*out)->data)[o + k] = (uint8_t)(r < 0     ? 0
                                                       : r > 255 ? 255
                                                                 : r);
        } else {
          float fx = (float)a * (1.f / INTER_TAB_SIZE);
          float fy = (float)b * (1.f / INTER_TAB_SIZE);
          float w0 = (1.f - fy) * (1.f - fx), w1 = (1.f - fy) * fx;
          float w2 = fy * (1.f - fx), w3 = fy * fx;
          ((float *)(*out)->data)[o + k] = (float)v[0] * w0 + (float)v[1] * w1 +
                                           (float)v[2] * w2 + (float)v[3] * w3;
        }
      }
    }
  }
  free(adelta);
  free(bdelta);
  return SC_OK;
}
