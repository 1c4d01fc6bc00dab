/* Re-implementations of the library calls the transformers are built on,
 * reproducing the reference libraries' arithmetic (spec/transforms.md
 * section 3; docs/transforms-accuracy.md lists what is bit-exact):
 *
 *   sc_cv_*       OpenCV 4.6 (x86-64 CPU path): resize, warpAffine,
 *                 getAffineTransform, cvtColor between BGR and YUV 4:2:0
 *   sc_pil_*      Pillow 9.4 Image.resize on 8-bit images
 *   sc_skimage_*  scikit-image 0.19 transform.resize (with scipy 1.10's
 *                 gaussian_filter and zoom underneath)
 *   sc_scipy_*    scipy.ndimage.zoom
 *
 * Images are HWC tensors (rank 3). Every function returns a new tensor in
 * *out (NULL on failure) and never modifies its input. Failures are
 * SC_ERR_CONFIG for arguments the call does not accept (wrong dtype,
 * channel count, size) and SC_ERR_NOMEM; messages name the function. */
#ifndef SC_TRANSFORMS_IMGPROC_H
#define SC_TRANSFORMS_IMGPROC_H

#include "runtime/tensor.h"

/* Largest image side any step produces or accepts (OpenCV's
 * CV_IO_MAX_IMAGE_WIDTH); larger requests fail before allocating. */
#define SC_IMAGE_MAX_SIDE ((int64_t)1 << 20)

/* Largest image (height x width) any step produces or a loader decodes:
 * 256 Mpixel (768 MiB as 8-bit BGR). Larger requests fail with
 * SC_ERR_CONFIG (steps) or SC_ERR_FORMAT (files) before allocating. */
#define SC_IMAGE_MAX_PIXELS ((int64_t)1 << 28)

enum sc_cv_inter {
  SC_CV_INTER_NEAREST = 0,
  SC_CV_INTER_LINEAR = 1,
  SC_CV_INTER_CUBIC = 2,
  SC_CV_INTER_AREA = 3
};

/* cv2.resize(src, (width, height), interpolation=inter): uint8 or float32,
 * any channel count. */
sc_status sc_cv_resize(const struct sc_tensor *src, int64_t height,
                       int64_t width, enum sc_cv_inter inter,
                       struct sc_tensor **out, struct sc_error *err);

/* cv2.resize(src, None, fx=fx, fy=fy, interpolation=inter): the size is
 * (cvRound(W*fx), cvRound(H*fy)) and the coefficients use 1/fx, 1/fy. */
sc_status sc_cv_resize_scale(const struct sc_tensor *src, double fx, double fy,
                             enum sc_cv_inter inter, struct sc_tensor **out,
                             struct sc_error *err);

/* cv2.getAffineTransform(src, dst): src and dst are three (x, y) points as
 * float32; m receives the 2x3 matrix row by row. */
void sc_cv_get_affine_transform(const float src[6], const float dst[6],
                                double m[6]);

/* cv2.warpAffine(src, m, (width, height), flags=INTER_LINEAR) with a
 * constant 0 border: uint8 or float32, any channel count. */
sc_status sc_cv_warp_affine(const struct sc_tensor *src, const double m[6],
                            int64_t height, int64_t width,
                            struct sc_tensor **out, struct sc_error *err);

/* cv2.cvtColor(src, COLOR_BGR2YUV_I420) (rgb = 0) or COLOR_RGB2YUV_I420
 * (rgb = 1): uint8 HWC with 3 channels and even H, W; *out is uint8
 * (H*3/2, W): the Y plane, then the U plane, then the V plane. */
sc_status sc_cv_bgr_to_i420(const struct sc_tensor *src, int rgb,
                            struct sc_tensor **out, struct sc_error *err);

enum sc_yuv420_format { SC_YUV420_NV12, SC_YUV420_NV21, SC_YUV420_I420 };

/* cv2.cvtColor(yuv, COLOR_YUV2BGR_NV12 / _NV21 / _I420): `yuv` holds
 * height*width*3/2 uint8 bytes (any shape); even height and width. *out is
 * uint8 HWC BGR. */
sc_status sc_cv_yuv420_to_bgr(const struct sc_tensor *yuv,
                              enum sc_yuv420_format format, int64_t height,
                              int64_t width, struct sc_tensor **out,
                              struct sc_error *err);

enum sc_pil_filter {
  SC_PIL_NEAREST = 0,
  SC_PIL_LANCZOS = 1,
  SC_PIL_BILINEAR = 2,
  SC_PIL_BICUBIC = 3,
  SC_PIL_BOX = 4,
  SC_PIL_HAMMING = 5
};

/* Image.fromarray(src).resize((width, height), filter) for uint8 HWC with 1
 * ("L") or 3 ("RGB") channels. */
sc_status sc_pil_resize(const struct sc_tensor *src, int64_t height,
                        int64_t width, enum sc_pil_filter filter,
                        struct sc_tensor **out, struct sc_error *err);

/* skimage.transform.resize(src, (height, width), order) with the default
 * arguments (mode='reflect', anti_aliasing when shrinking, clip=True) on a
 * float32 or float64 HWC image; the output keeps the dtype. order 0..5. */
sc_status sc_skimage_resize(const struct sc_tensor *src, int64_t height,
                            int64_t width, int order, struct sc_tensor **out,
                            struct sc_error *err);

/* scipy.ndimage.zoom(src, (height/H, width/W, 1), order=1) with its
 * defaults (mode='constant', grid_mode=False): uint8 (rounded half up),
 * float32 or float64, any channel count. */
sc_status sc_scipy_zoom_linear(const struct sc_tensor *src, int64_t height,
                               int64_t width, struct sc_tensor **out,
                               struct sc_error *err);

#endif
