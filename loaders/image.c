/* PNG, JPEG, raw YUV and .npy image loading (loaders/image.h).
 *
 * The PNG and JPEG decoders make the same library calls as OpenCV 4.6's
 * PngDecoder / JpegDecoder::readData, so the pixels are the libraries' own.
 * setjmp is used only inside png_run / jpeg_run; every object that outlives
 * a longjmp lives in a context struct owned by the caller of those. */
#include "loaders/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

#include "loaders/file.h"
#include "loaders/tensor_file.h"

/* --- shared ----------------------------------------------------------------
 */

/* Rejects sizes before any pixel memory is allocated. */
static sc_status check_dims(const char *name, uint64_t width, uint64_t height,
                            struct sc_error *err)
{
  if (width == 0 || height == 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: image has no pixels (%llux%llu)",
                   name, (unsigned long long)width, (unsigned long long)height);
  if (width > (uint64_t)SC_IMAGE_MAX_SIDE ||
      height > (uint64_t)SC_IMAGE_MAX_SIDE ||
      width * height > (uint64_t)SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: image of %llux%llu pixels exceeds the limit (%lld "
                   "pixels, sides up to %lld)",
                   name, (unsigned long long)width, (unsigned long long)height,
                   (long long)SC_IMAGE_MAX_PIXELS,
                   (long long)SC_IMAGE_MAX_SIDE);
  return SC_OK;
}

/* --- EXIF (OpenCV ExifReader) ---------------------------------------- */

struct exif_reader {
  const uint8_t *d;
  size_t n;
  int intel;
  int failed; /* an ExifParsingError was thrown */
};

static uint32_t exif_u16(struct exif_reader *r, size_t off)
{
  if (r->failed || off + 1 >= r->n) {
    r->failed = 1;
    return 0;
  }
  if (r->intel)
    return (uint32_t)r->d[off] | (uint32_t)r->d[off + 1] << 8;
  return (uint32_t)r->d[off] << 8 | r->d[off + 1];
}

static uint32_t exif_u32(struct exif_reader *r, size_t off)
{
  if (r->failed || off + 3 >= r->n) {
    r->failed = 1;
    return 0;
  }
  if (r->intel)
    return (uint32_t)r->d[off] | (uint32_t)r->d[off + 1] << 8 |
           (uint32_t)r->d[off + 2] << 16 | (uint32_t)r->d[off + 3] << 24;
  return (uint32_t)r->d[off] << 24 | (uint32_t)r->d[off + 1] << 16 |
         (uint32_t)r->d[off + 2] << 8 | r->d[off + 3];
}

/* Reads `count` rationals at the offset stored in the entry (the checks of
 * getResolution / getWhitePoint / getRefBW ...). */
static void exif_rationals(struct exif_reader *r, size_t entry, int count)
{
  uint32_t ro = exif_u32(r, entry + 8);
  int i;
  for (i = 0; i < count && !r->failed; i++) {
    exif_u32(r, ro);
    exif_u32(r, (size_t)ro + 4);
    ro += 8;
  }
}

/* getString: the data must lie inside the block. */
static void exif_string(struct exif_reader *r, size_t entry)
{
  size_t size = exif_u32(r, entry + 4), data_offset = 8;
  if (size > 4)
    data_offset = exif_u32(r, entry + 8);
  if (!r->failed && (data_offset > r->n || data_offset + size > r->n))
    r->failed = 1;
}

int sc_exif_orientation(const uint8_t *data, size_t size)
{
  struct exif_reader r;
  uint32_t offset, n_entries, e;
  int orientation = 0, have = 0;

  if (!data || size == 0)
    return 0;
  r.d = data;
  r.n = size;
  r.failed = 0;
  /* getFormat: "II" Intel, "MM" Motorola, anything else read big-endian */
  r.intel = !(size > 1 && data[0] != data[1]) && data[0] == 'I';
  if (exif_u16(&r, 2) != 0x2A)
    return 0;
  offset = exif_u32(&r, 4);
  n_entries = exif_u16(&r, offset);
  offset += 2;
  for (e = 0; e < n_entries && !r.failed; e++) {
    uint32_t tag = exif_u16(&r, offset);
    if (r.failed)
      break;
    switch (tag) {
    case 0x010E: /* image description */
    case 0x010F: /* make */
    case 0x0110: /* model */
    case 0x0131: /* software */
    case 0x0132: /* date time */
    case 0x8298: /* copyright */
      exif_string(&r, offset);
      break;
    case 0x0112: { /* orientation */
      uint32_t v = exif_u16(&r, (size_t)offset + 8);
      if (!r.failed && !have) {
        orientation = (int)v;
        have = 1;
      }
      break;
    }
    case 0x011A: /* x resolution */
    case 0x011B: /* y resolution */
      exif_rationals(&r, offset, 1);
      break;
    case 0x013E: /* white point */
      exif_rationals(&r, offset, 2);
      break;
    case 0x013F: /* primary chromaticities */
    case 0x0214: /* reference black white */
      exif_rationals(&r, offset, 6);
      break;
    case 0x0211: /* YCbCr coefficients */
      exif_rationals(&r, offset, 3);
      break;
    case 0x0128: /* resolution unit */
    case 0x0213: /* YCbCr positioning */
      exif_u16(&r, (size_t)offset + 8);
      break;
    default:
      break;
    }
    offset += 12;
  }
  return have && orientation >= 1 && orientation <= 8 ? orientation : 0;
}

/* Applies an EXIF orientation as OpenCV's ExifTransform (flip / transpose
 * combinations). Replaces *img on success. */
static sc_status apply_orientation(struct sc_tensor **img, int orientation,
                                   struct sc_error *err)
{
  const struct sc_tensor *in = *img;
  int64_t H = in->dims[0], W = in->dims[1], dims[3], r, c;
  int transposed = orientation >= 5;
  const uint8_t *s = in->data;
  struct sc_tensor *out;
  uint8_t *d;
  sc_status st;

  if (orientation <= 1 || orientation > 8)
    return SC_OK;
  dims[0] = transposed ? W : H;
  dims[1] = transposed ? H : W;
  dims[2] = 3;
  st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 3, dims, &out, err);
  if (st)
    return st;
  d = out->data;
  for (r = 0; r < dims[0]; r++)
    for (c = 0; c < dims[1]; c++) {
      int64_t sy, sx;
      switch (orientation) {
      case 2: /* flip horizontally */
        sy = r;
        sx = W - 1 - c;
        break;
      case 3: /* rotate 180 */
        sy = H - 1 - r;
        sx = W - 1 - c;
        break;
      case 4: /* flip vertically */
        sy = H - 1 - r;
        sx = c;
        break;
      case 5: /* transpose */
        sy = c;
        sx = r;
        break;
      case 6: /* transpose, flip horizontally: rotate 90 clockwise */
        sy = H - 1 - c;
        sx = r;
        break;
      case 7: /* transpose, flip both */
        sy = H - 1 - c;
        sx = W - 1 - r;
        break;
      default: /* 8: transpose, flip vertically */
        sy = c;
        sx = W - 1 - r;
        break;
      }
      memcpy(d + (r * dims[1] + c) * 3, s + (sy * W + sx) * 3, 3);
    }
  sc_tensor_free(*img);
  *img = out;
  return SC_OK;
}

/* --- PNG ------------------------------------------------------------- */

struct png_ctx {
  const uint8_t *data;
  size_t size, pos;
  const char *name;
  char message[256];
  png_structp png;
  png_infop info, end_info;
  png_bytep *rows;
  struct sc_tensor *img;
  int orientation;
  sc_status status; /* set by the body before a longjmp-free exit */
  struct sc_error *err;
};

static void png_read_mem(png_structp png, png_bytep out, size_t n)
{
  struct png_ctx *c = png_get_io_ptr(png);
  if (n > c->size - c->pos)
    png_error(png, "unexpected end of file (truncated)");
  memcpy(out, c->data + c->pos, n);
  c->pos += n;
}

static void png_error_handler(png_structp png, png_const_charp msg)
{
  struct png_ctx *c = png_get_error_ptr(png);
  snprintf(c->message, sizeof c->message, "%s", msg);
  png_longjmp(png, 1);
}

static void png_warning_handler(png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg; /* cv2.imread decodes despite libpng warnings: so do we */
}

/* Total length of the IDAT chunks (scanning chunk headers only). */
static uint64_t png_idat_bytes(const uint8_t *d, size_t n)
{
  uint64_t total = 0;
  size_t off = 8;
  while (off + 8 <= n) {
    uint64_t len = (uint64_t)d[off] << 24 | (uint64_t)d[off + 1] << 16 |
                   (uint64_t)d[off + 2] << 8 | d[off + 3];
    if (memcmp(d + off + 4, "IDAT", 4) == 0)
      total += len;
    if (len > n - off - 8)
      break;
    off += 12 + (size_t)len;
  }
  return total;
}

/* Everything that may longjmp; returns 0 on success, with c->status set
 * when it fails for a reason of ours. */
static int png_body(struct png_ctx *c)
{
  png_uint_32 width, height, y;
  int bit_depth, color_type;
  uint64_t raw, idat;
  int64_t dims[3];
  png_uint_32 num_exif = 0;
  png_bytep exif = NULL;

  png_set_read_fn(c->png, c, png_read_mem);
  png_read_info(c->png, c->info);
  png_get_IHDR(c->png, c->info, &width, &height, &bit_depth, &color_type, NULL,
               NULL, NULL);
  c->status = check_dims(c->name, width, height, c->err);
  if (c->status)
    return -1;
  /* deflate cannot expand more than 1032:1: a file whose compressed data
   * cannot hold the declared image is truncated; reject it before
   * allocating the pixels */
  raw = (uint64_t)height *
        (((uint64_t)width * png_get_channels(c->png, c->info) * bit_depth + 7) /
             8 +
         1);
  idat = png_idat_bytes(c->data, c->size);
  if (raw / 1100 > idat + 64) {
    c->status = sc_fail(c->err, SC_ERR_FORMAT,
                        "%s: truncated or corrupt PNG: %llu bytes of image "
                        "data cannot hold %ux%u pixels",
                        c->name, (unsigned long long)idat, (unsigned)width,
                        (unsigned)height);
    return -1;
  }
  /* the transformations of OpenCV's PngDecoder::readData for 8-bit BGR */
  if (bit_depth == 16)
    png_set_strip_16(c->png);
  png_set_strip_alpha(c->png);
  if (color_type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(c->png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8)
    png_set_expand_gray_1_2_4_to_8(c->png);
  if (color_type & PNG_COLOR_MASK_COLOR)
    png_set_bgr(c->png);
  else
    png_set_gray_to_rgb(c->png);
  png_set_interlace_handling(c->png);
  png_read_update_info(c->png, c->info);
  if (png_get_rowbytes(c->png, c->info) != (size_t)width * 3) {
    c->status =
        sc_fail(c->err, SC_ERR_FORMAT,
                "%s: unexpected PNG row layout after conversion", c->name);
    return -1;
  }
  dims[0] = height;
  dims[1] = width;
  dims[2] = 3;
  c->status =
      sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 3, dims, &c->img, c->err);
  if (c->status)
    return -1;
  c->rows = malloc((size_t)height * sizeof *c->rows);
  if (!c->rows) {
    c->status = sc_fail_nomem(c->err, "PNG rows");
    return -1;
  }
  for (y = 0; y < height; y++)
    c->rows[y] = (png_bytep)c->img->data + (size_t)y * width * 3;
  png_read_image(c->png, c->rows);
  png_read_end(c->png, c->end_info);
  if (png_get_valid(c->png, c->info, PNG_INFO_eXIf))
    png_get_eXIf_1(c->png, c->info, &num_exif, &exif);
  else if (png_get_valid(c->png, c->end_info, PNG_INFO_eXIf))
    png_get_eXIf_1(c->png, c->end_info, &num_exif, &exif);
  if (exif && num_exif > 0)
    c->orientation = sc_exif_orientation(exif, num_exif);
  return 0;
}

static int png_run(struct png_ctx *c)
{
  if (setjmp(png_jmpbuf(c->png)))
    return -1;
  return png_body(c);
}

static sc_status decode_png(const uint8_t *data, size_t size, const char *name,
                            struct sc_tensor **out, struct sc_error *err)
{
  struct png_ctx c;
  sc_status st = SC_OK;

  memset(&c, 0, sizeof c);
  c.data = data;
  c.size = size;
  c.name = name;
  c.err = err;
  c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, png_error_handler,
                                 png_warning_handler);
  if (c.png) {
    c.info = png_create_info_struct(c.png);
    c.end_info = png_create_info_struct(c.png);
  }
  if (!c.png || !c.info || !c.end_info) {
    png_destroy_read_struct(&c.png, &c.info, &c.end_info);
    return sc_fail_nomem(err, "libpng structures");
  }
  if (png_run(&c)) {
    st = c.status ? c.status
                  : sc_fail(err, SC_ERR_FORMAT, "%s: corrupt PNG (libpng: %s)",
                            name, c.message);
    sc_tensor_free(c.img);
    c.img = NULL;
  }
  png_destroy_read_struct(&c.png, &c.info, &c.end_info);
  free(c.rows);
  if (!st && c.orientation > 1)
    st = apply_orientation(&c.img, c.orientation, err);
  if (st) {
    sc_tensor_free(c.img);
    return st;
  }
  *out = c.img;
  return SC_OK;
}

/* --- JPEG -------------------------------------------------------------- */

struct jpeg_ctx {
  struct jpeg_error_mgr pub; /* first: libjpeg casts to it */
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char warning[JMSG_LENGTH_MAX]; /* first data-loss warning */
  struct jpeg_decompress_struct cinfo;
  struct jpeg_progress_mgr progress;
  const uint8_t *data;
  size_t size;
  const char *name;
  uint8_t *row;
  struct sc_tensor *img;
  int orientation;
  sc_status status;
  struct sc_error *err;
};

static void jpeg_error_exit_handler(j_common_ptr cinfo)
{
  struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, c->message);
  longjmp(c->jump, 1);
}

/* Warnings (level -1) that mean pixels were lost: the file is truncated or
 * its entropy-coded data corrupt. Others (extraneous bytes, unknown JFIF
 * revision ...) leave the pixels intact and are ignored, as by cv2. */
static void jpeg_emit_message_handler(j_common_ptr cinfo, int level)
{
  struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
  int code = cinfo->err->msg_code;
  const char *text = "";
  if (level != -1)
    return;
  if (code > 0 && code <= cinfo->err->last_jpeg_message)
    text = cinfo->err->jpeg_message_table[code];
  /* "Premature end of JPEG file" and the "Corrupt JPEG data: ..." family
   * (bad Huffman/arithmetic code, premature end of data segment, missing
   * RST marker), except extraneous bytes and bad ICC markers */
  if ((code == JWRN_JPEG_EOF ||
       (strncmp(text, "Corrupt JPEG data", 17) == 0 &&
        code != JWRN_EXTRANEOUS_DATA && code != JWRN_BOGUS_ICC)) &&
      !c->warning[0])
    (*cinfo->err->format_message)(cinfo, c->warning);
  cinfo->err->num_warnings++;
}

/* Scans of a progressive JPEG accepted. Each scan decodes the whole image
 * again: a 200 KB file of 5000 scans of a 4096x4096 image took 24 s. Real
 * encoders write about ten; libjpeg sets no limit (nor does cv2). */
#define MAX_JPEG_SCANS 500

static void jpeg_progress_handler(j_common_ptr cinfo)
{
  struct jpeg_ctx *c = (struct jpeg_ctx *)cinfo->err;
  if (cinfo->is_decompressor &&
      ((j_decompress_ptr)cinfo)->input_scan_number > MAX_JPEG_SCANS) {
    c->status = sc_fail(c->err, SC_ERR_FORMAT,
                        "%s: JPEG has more than %d scans (hostile file)",
                        c->name, MAX_JPEG_SCANS);
    longjmp(c->jump, 1);
  }
}

static void jpeg_output_message_handler(j_common_ptr cinfo)
{
  (void)cinfo; /* library folders never print */
}

static int jpeg_body(struct jpeg_ctx *c)
{
  struct jpeg_decompress_struct *ci = &c->cinfo;
  jpeg_saved_marker_ptr m;
  int64_t dims[3];
  JDIMENSION y, x;
  int cmyk;

  jpeg_mem_src(ci, c->data, (unsigned long)c->size);
  jpeg_save_markers(ci, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(ci, TRUE);
  c->status = check_dims(c->name, ci->image_width, ci->image_height, c->err);
  if (c->status)
    return -1;
  /* OpenCV: BGR for 1- and 3-component files, CMYK converted by hand */
  cmyk = ci->num_components == 4;
  if (cmyk) {
    ci->out_color_space = JCS_CMYK;
    ci->out_color_components = 4;
  } else {
    ci->out_color_space = JCS_EXT_BGR;
    ci->out_color_components = 3;
  }
  /* EXIF: OpenCV parses the first APP1 segment, whatever it holds */
  for (m = ci->marker_list; m; m = m->next)
    if (m->marker == JPEG_APP0 + 1) {
      if (m->data_length > 6)
        c->orientation = sc_exif_orientation(m->data + 6, m->data_length - 6);
      break;
    }
  jpeg_start_decompress(ci);
  if (ci->output_width != ci->image_width ||
      ci->output_height != ci->image_height ||
      ci->output_components != (cmyk ? 4 : 3)) {
    c->status = sc_fail(c->err, SC_ERR_FORMAT,
                        "%s: unexpected JPEG output layout", c->name);
    return -1;
  }
  dims[0] = ci->output_height;
  dims[1] = ci->output_width;
  dims[2] = 3;
  c->status =
      sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 3, dims, &c->img, c->err);
  if (c->status)
    return -1;
  c->row = malloc((size_t)ci->output_width * 4);
  if (!c->row) {
    c->status = sc_fail_nomem(c->err, "JPEG row");
    return -1;
  }
  for (y = 0; y < ci->output_height; y++) {
    uint8_t *d = (uint8_t *)c->img->data + (size_t)y * ci->output_width * 3;
    JSAMPROW row = cmyk ? c->row : d;
    if (jpeg_read_scanlines(ci, &row, 1) != 1) {
      c->status =
          sc_fail(c->err, SC_ERR_FORMAT, "%s: JPEG ended early", c->name);
      return -1;
    }
    if (cmyk) /* icvCvt_CMYK2BGR_8u_C4C3R */
      for (x = 0; x < ci->output_width; x++) {
        int C = c->row[4 * x], M = c->row[4 * x + 1], Y = c->row[4 * x + 2];
        int K = c->row[4 * x + 3];
        d[3 * x + 2] = (uint8_t)(K - ((255 - C) * K >> 8));
        d[3 * x + 1] = (uint8_t)(K - ((255 - M) * K >> 8));
        d[3 * x] = (uint8_t)(K - ((255 - Y) * K >> 8));
      }
  }
  jpeg_finish_decompress(ci);
  return 0;
}

static int jpeg_run(struct jpeg_ctx *c)
{
  if (setjmp(c->jump))
    return -1;
  return jpeg_body(c);
}

static sc_status decode_jpeg(const uint8_t *data, size_t size, const char *name,
                             struct sc_tensor **out, struct sc_error *err)
{
  struct jpeg_ctx *c = calloc(1, sizeof *c);
  sc_status st = SC_OK;

  if (!c)
    return sc_fail_nomem(err, "libjpeg context");
  c->data = data;
  c->size = size;
  c->name = name;
  c->err = err;
  c->cinfo.err = jpeg_std_error(&c->pub);
  c->pub.error_exit = jpeg_error_exit_handler;
  c->pub.emit_message = jpeg_emit_message_handler;
  c->pub.output_message = jpeg_output_message_handler;
  if (setjmp(c->jump) == 0) {
    jpeg_create_decompress(&c->cinfo);
    c->progress.progress_monitor = jpeg_progress_handler;
    c->cinfo.progress = &c->progress;
  } else {
    free(c);
    return sc_fail_nomem(err, "libjpeg decompressor");
  }
  if (jpeg_run(c))
    st = c->status
             ? c->status
             : sc_fail(err, SC_ERR_FORMAT, "%s: corrupt JPEG (libjpeg: %s)",
                       name, c->message);
  else if (c->warning[0])
    st = sc_fail(err, SC_ERR_FORMAT,
                 "%s: truncated or corrupt JPEG data (libjpeg: %s)", name,
                 c->warning);
  jpeg_destroy_decompress(&c->cinfo);
  if (!st && c->orientation > 1)
    st = apply_orientation(&c->img, c->orientation, err);
  if (st)
    sc_tensor_free(c->img);
  else
    *out = c->img;
  free(c->row);
  free(c);
  return st;
}

/* --- public ----------------------------------------------------------------
 */

sc_status sc_image_decode(const uint8_t *data, size_t size, const char *name,
                          struct sc_tensor **out, struct sc_error *err)
{
  static const uint8_t png_sig[8] = {0x89, 'P',  'N',  'G',
                                     '\r', '\n', 0x1a, '\n'};
  *out = NULL;
  if (size == 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: empty file", name);
  if (size >= 8 && memcmp(data, png_sig, 8) == 0)
    return decode_png(data, size, name, out, err);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg(data, size, name, out, err);
  return sc_fail(err, SC_ERR_FORMAT,
                 "%s: not a PNG or JPEG image (unrecognised signature)", name);
}

static int has_extension(const char *path, const char *ext)
{
  size_t n = strlen(path), e = strlen(ext);
  return n >= e && strcasecmp(path + n - e, ext) == 0;
}

sc_status sc_image_load(const char *path, struct sc_tensor **out,
                        struct sc_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0;
  sc_status st;

  *out = NULL;
  if (has_extension(path, ".npy"))
    return sc_npy_load(path, out, err);
  st = sc_file_read(path, SC_IMAGE_MAX_FILE_SIZE, &data, &size, err);
  if (st)
    return st;
  st = sc_image_decode(data, size, path, out, err);
  free(data);
  return st;
}

sc_status sc_yuv_load(const char *path, enum sc_yuv420_format format,
                      int64_t width, int64_t height, struct sc_tensor **out,
                      struct sc_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0;
  int64_t dims[2];
  sc_status st;

  *out = NULL;
  if (format != SC_YUV420_NV12 && format != SC_YUV420_NV21 &&
      format != SC_YUV420_I420)
    return sc_fail(err, SC_ERR_CONFIG, "%s: unknown YUV format %d", path,
                   (int)format);
  if (width < 2 || height < 2 || width % 2 || height % 2 ||
      width > SC_IMAGE_MAX_SIDE || height > SC_IMAGE_MAX_SIDE ||
      width * height > SC_IMAGE_MAX_PIXELS)
    return sc_fail(err, SC_ERR_CONFIG,
                   "%s: YUV 4:2:0 size %lldx%lld must be even, at least 2x2 "
                   "and within the image limits",
                   path, (long long)width, (long long)height);
  st = sc_file_read(path, SC_IMAGE_MAX_FILE_SIZE, &data, &size, err);
  if (st)
    return st;
  if ((uint64_t)size != (uint64_t)(width * height * 3 / 2)) {
    free(data);
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: %zu bytes, expected %lld for a %lldx%lld YUV 4:2:0 "
                   "image",
                   path, size, (long long)(width * height * 3 / 2),
                   (long long)width, (long long)height);
  }
  dims[0] = height * 3 / 2;
  dims[1] = width;
  st = sc_tensor_create_pooled(NULL, SC_DTYPE_UINT8, 2, dims, out, err);
  if (!st)
    memcpy((*out)->data, data, size);
  free(data);
  return st;
}

sc_status sc_image_load_yuv(const char *path, enum sc_yuv420_format format,
                            int64_t width, int64_t height,
                            struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *yuv = NULL;
  sc_status st = sc_yuv_load(path, format, width, height, &yuv, err);
  *out = NULL;
  if (st)
    return st;
  st = sc_cv_yuv420_to_bgr(yuv, format, height, width, out, err);
  sc_tensor_free(yuv);
  if (st)
    sc_error_prefix(err, "%s: ", path);
  return st;
}
