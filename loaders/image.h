/* Image files as the deployed pipeline reads them.
 *
 * PNG (libpng) and JPEG (libjpeg-turbo) are decoded to BGR uint8 HWC
 * tensors with exactly the pixels of cv2.imread(path, cv2.IMREAD_COLOR) in
 * OpenCV 4.6 on the same libraries: the same libpng transformations (16-bit
 * stripped to the high byte, alpha dropped, palette and grey expanded),
 * libjpeg's colour conversion (CMYK converted as OpenCV does), and the EXIF
 * orientation applied as OpenCV's ExifTransform (first APP1 segment of a
 * JPEG, eXIf chunk of a PNG). Raw YUV 4:2:0 files (NV12, NV21, I420) need
 * their width and height; .npy files are returned as stored.
 *
 * Differences from cv2.imread, on purpose: a file cv2 would return as an
 * empty image, or (JPEG) as a partly grey image after "Premature end of
 * JPEG file" / corrupt-entropy-data warnings, fails with SC_ERR_FORMAT
 * naming the file; images over SC_IMAGE_MAX_PIXELS (cv2 allows 2^30) are
 * rejected before any pixel memory is allocated.
 *
 * Errors: SC_ERR_FORMAT (exit code 3) naming the file for unreadable,
 * truncated, corrupt, unknown or oversized files; SC_ERR_CONFIG for invalid
 * raw YUV sizes given by the caller; SC_ERR_NOMEM. Results are new tensors
 * owned by the caller; *out is NULL on failure. */
#ifndef SC_LOADERS_IMAGE_H
#define SC_LOADERS_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"
#include "transforms/imgproc.h"

/* Largest image file read (bytes). */
#define SC_IMAGE_MAX_FILE_SIZE ((size_t)1 << 30)

/* Decodes PNG or JPEG bytes (recognised by their signature) to BGR uint8
 * HWC. `name` labels messages (usually the path). */
sc_status sc_image_decode(const uint8_t *data, size_t size, const char *name,
                          struct sc_tensor **out, struct sc_error *err);

/* Loads an image file: .npy (by extension) as stored; PNG or JPEG (by
 * content) decoded as sc_image_decode. */
sc_status sc_image_load(const char *path, struct sc_tensor **out,
                        struct sc_error *err);

/* Reads a raw YUV 4:2:0 file of the given size: uint8 tensor (H*3/2, W)
 * holding the file's bytes (Y plane, then the chroma as the format lays it
 * out). Width and height must be even and positive (SC_ERR_CONFIG); the
 * file must hold exactly W*H*3/2 bytes (SC_ERR_FORMAT). */
sc_status sc_yuv_load(const char *path, enum sc_yuv420_format format,
                      int64_t width, int64_t height, struct sc_tensor **out,
                      struct sc_error *err);

/* sc_yuv_load, then converted to BGR uint8 HWC as
 * cv2.cvtColor(..., COLOR_YUV2BGR_NV12 / _NV21 / _I420). */
sc_status sc_image_load_yuv(const char *path, enum sc_yuv420_format format,
                            int64_t width, int64_t height,
                            struct sc_tensor **out, struct sc_error *err);

/* EXIF orientation (1..8) that OpenCV 4.6 reads from a TIFF-structured
 * EXIF block (the bytes after "Exif\0\0"), or 0 when it finds none --
 * including OpenCV's quirks: parsing stops at the first tag whose data lies
 * outside the block, the first of duplicate tags wins. */
int sc_exif_orientation(const uint8_t *data, size_t size);

#endif
