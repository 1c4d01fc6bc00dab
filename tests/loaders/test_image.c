/* Image loading against cv2.imread / cv2.cvtColor: every PNG and JPEG
 * under fixtures/transforms/images has its cv2.imread(path,
 * IMREAD_COLOR) pixels beside it as <file>.npy (written by
 * fixtures/transforms/gen_transforms.py); the loader must reproduce them
 * bit for bit. Every error path is exercised with a corrupt or hostile
 * file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/image.h"
#include "loaders/tensor_file.h"
#include "tests/support/assertions.h"

static void image_path(const char *name, char *path, size_t size)
{
  snprintf(path, size, "%s/transforms/images/%s", sc_test_fixtures_dir(), name);
}

/* Loads images/<name> and compares with images/<name>.npy bit for bit. */
static void expect_like_cv2(const char *name)
{
  char path[512], npy[600];
  struct sc_tensor *img = NULL, *expected = NULL;
  struct sc_error err;
  image_path(name, path, sizeof path);
  snprintf(npy, sizeof npy, "%s.npy", path);
  if (sc_image_load(path, &img, &err) != SC_OK)
    fail_msg("%s: %s", name, err.message);
  assert_int_equal(sc_npy_load(npy, &expected, &err), SC_OK);
  assert_int_equal(img->dtype, SC_DTYPE_UINT8);
  if (!sc_tensor_same_shape(img, expected))
    fail_msg("%s: shape [%lld,%lld,%lld], cv2 [%lld,%lld,%lld]", name,
             (long long)img->dims[0], (long long)img->dims[1],
             (long long)img->dims[2], (long long)expected->dims[0],
             (long long)expected->dims[1], (long long)expected->dims[2]);
  if (memcmp(img->data, expected->data, sc_tensor_size(img)) != 0)
    assert_tensor_close(img, expected, 0, 0); /* prints the first mismatch */
  sc_tensor_free(img);
  sc_tensor_free(expected);
}

/* sc_image_load must fail with `status` and a message naming the file. */
static void expect_load_error(const char *name, sc_status status,
                              const char *needle)
{
  char path[512];
  struct sc_tensor *img = NULL;
  struct sc_error err;
  sc_status st;
  image_path(name, path, sizeof path);
  st = sc_image_load(path, &img, &err);
  if (st != status)
    fail_msg("%s: expected status %d, got %d (%s)", name, (int)status, (int)st,
             st ? err.message : "loaded");
  assert_null(img);
  if (!strstr(err.message, path))
    fail_msg("%s: message '%s' does not name the file", name, err.message);
  if (needle && !strstr(err.message, needle))
    fail_msg("%s: message '%s' lacks '%s'", name, err.message, needle);
}

static void test_png_every_format_matches_cv2_imread(void **state)
{
  static const char *const files[] = {"gray1.png",
                                      "gray2.png",
                                      "gray4.png",
                                      "gray8.png",
                                      "gray16.png",
                                      "gray8_trns.png",
                                      "gray_alpha8.png",
                                      "gray_alpha16.png",
                                      "rgb8.png",
                                      "rgb16.png",
                                      "rgb8_trns.png",
                                      "rgba8.png",
                                      "rgba16.png",
                                      "palette8.png",
                                      "palette4.png",
                                      "rgb8_interlaced.png",
                                      "gray16_interlaced.png",
                                      "gray2_interlaced.png",
                                      "one_pixel.png",
                                      "cv_bgr.png",
                                      "cv_bgra16.png"};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof files / sizeof files[0]; i++)
    expect_like_cv2(files[i]);
}

static void test_jpeg_every_format_matches_cv2_imread(void **state)
{
  static const char *const files[] = {
      "gray.jpg",        "ycc444.jpg",       "ycc422.jpg", "ycc420.jpg",
      "progressive.jpg", "restart.jpg",      "cmyk.jpg",   "one_pixel.jpg",
      "cv.jpg",          "chelsea_61x37.jpg"};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof files / sizeof files[0]; i++)
    expect_like_cv2(files[i]);
}

static void test_exif_orientation_applied_like_cv2(void **state)
{
  char name[32];
  int o;
  (void)state;
  for (o = 1; o <= 8; o++) {
    snprintf(name, sizeof name, "exif%d.jpg", o);
    expect_like_cv2(name);
    snprintf(name, sizeof name, "exif%d.png", o);
    expect_like_cv2(name);
  }
  expect_like_cv2("exif6_motorola.jpg");
  expect_like_cv2("exif6_after_idat.png");
}

static void test_exif_quirks_match_cv2(void **state)
{
  (void)state;
  expect_like_cv2("exif6_after_xmp.jpg");     /* first APP1 only */
  expect_like_cv2("exif6_then_bad_tag.jpg");  /* parsed before the error */
  expect_like_cv2("exif_bad_tag_then_6.jpg"); /* parsing stopped */
  expect_like_cv2("exif_first_of_two.jpg");   /* first duplicate wins */
  expect_like_cv2("exif_bad_value.jpg");
  expect_like_cv2("exif_bad_ifd_offset.jpg");
  expect_like_cv2("exif_short.jpg");
}

static void test_exif_parser_hand_cases(void **state)
{
  /* big-endian TIFF header, one SHORT orientation entry = 8 */
  static const uint8_t mm[] = {'M', 'M',  0,    42, 0, 0, 0, 8, 0,
                               1,   0x01, 0x12, 0,  3, 0, 0, 0, 1,
                               0,   8,    0,    0,  0, 0, 0, 0};
  /* the same entry but the buffer ends inside the value */
  static const uint8_t cut[] = {'I',  'I',  42, 0, 8, 0, 0, 0, 1, 0,
                                0x12, 0x01, 3,  0, 1, 0, 0, 0, 6};
  static const uint8_t bad_mark[] = {'I', 'I', 43, 0, 8, 0, 0, 0};
  (void)state;
  assert_int_equal(sc_exif_orientation(mm, sizeof mm), 8);
  assert_int_equal(sc_exif_orientation(cut, sizeof cut), 0);
  assert_int_equal(sc_exif_orientation(bad_mark, sizeof bad_mark), 0);
  assert_int_equal(sc_exif_orientation(mm, 1), 0);
  assert_int_equal(sc_exif_orientation(NULL, 0), 0);
}

static void test_raw_yuv_matches_cv2_cvtcolor(void **state)
{
  static const struct {
    const char *name;
    enum sc_yuv420_format format;
  } files[] = {{"astro_32x24.nv12", SC_YUV420_NV12},
               {"astro_32x24.nv21", SC_YUV420_NV21},
               {"astro_32x24.i420", SC_YUV420_I420}};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof files / sizeof files[0]; i++) {
    char path[512], npy[600];
    struct sc_tensor *img = NULL, *raw = NULL, *expected = NULL;
    struct sc_error err;
    image_path(files[i].name, path, sizeof path);
    snprintf(npy, sizeof npy, "%s.npy", path);
    if (sc_image_load_yuv(path, files[i].format, 32, 24, &img, &err))
      fail_msg("%s: %s", path, err.message);
    assert_int_equal(sc_npy_load(npy, &expected, &err), SC_OK);
    assert_tensor_close(img, expected, 0, 0);
    assert_int_equal(sc_yuv_load(path, files[i].format, 32, 24, &raw, &err),
                     SC_OK);
    assert_int_equal(raw->rank, 2);
    assert_int_equal(raw->dims[0], 36);
    assert_int_equal(raw->dims[1], 32);
    sc_tensor_free(img);
    sc_tensor_free(raw);
    sc_tensor_free(expected);
  }
}

static void test_npy_is_returned_as_stored(void **state)
{
  char path[512];
  struct sc_tensor *img = NULL;
  struct sc_error err;
  (void)state;
  snprintf(path, sizeof path, "%s/transforms/inputs/astro_chw_f.npy",
           sc_test_fixtures_dir());
  assert_int_equal(sc_image_load(path, &img, &err), SC_OK);
  assert_int_equal(img->dtype, SC_DTYPE_FLOAT);
  assert_int_equal(img->rank, 3);
  assert_int_equal(img->dims[0], 3);
  assert_int_equal(img->dims[1], 24);
  assert_int_equal(img->dims[2], 32);
  sc_tensor_free(img);
}

static void test_corrupt_npy_fails_naming_file(void **state)
{
  char *dir = sc_test_tmpdir(), path[512];
  struct sc_tensor *img = NULL;
  struct sc_error err;
  FILE *f;
  (void)state;
  snprintf(path, sizeof path, "%s/frame.npy", dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  fputs("\x93NUMPY garbage", f);
  fclose(f);
  assert_int_equal(sc_image_load(path, &img, &err), SC_ERR_FORMAT);
  assert_null(img);
  assert_non_null(strstr(err.message, path));
  sc_test_rmtree(dir);
  free(dir);
}

static void test_corrupt_png_fails_naming_file(void **state)
{
  (void)state;
  expect_load_error("truncated.png", SC_ERR_FORMAT, "PNG");
  expect_load_error("bad_crc.png", SC_ERR_FORMAT, "CRC");
  expect_load_error("no_iend.png", SC_ERR_FORMAT, "PNG");
  expect_load_error("zero_width.png", SC_ERR_FORMAT, "PNG");
}

static void test_hostile_png_sizes_rejected_before_allocation(void **state)
{
  (void)state;
  expect_load_error("huge.png", SC_ERR_FORMAT, "exceeds the limit");
  expect_load_error("big_tiny_idat.png", SC_ERR_FORMAT, "cannot hold");
}

static void test_corrupt_jpeg_fails_naming_file(void **state)
{
  (void)state;
  /* cv2.imread returns this one with grey bottom rows */
  expect_load_error("truncated.jpg", SC_ERR_FORMAT, "Premature end");
  expect_load_error("truncated_header.jpg", SC_ERR_FORMAT, "SOS");
  expect_load_error("garbage.jpg", SC_ERR_FORMAT, "JPEG");
  expect_load_error("huge.jpg", SC_ERR_FORMAT, "exceeds the limit");
}

static void test_unknown_and_missing_files_fail(void **state)
{
  char path[512];
  struct sc_tensor *img = NULL;
  struct sc_error err;
  (void)state;
  expect_load_error("empty.png", SC_ERR_FORMAT, "empty");
  expect_load_error("text.png", SC_ERR_FORMAT, "not a PNG or JPEG");
  expect_load_error("image.gif", SC_ERR_FORMAT, "not a PNG or JPEG");
  expect_load_error("does_not_exist.png", SC_ERR_FORMAT, NULL);
  image_path("does_not_exist.png", path, sizeof path);
  assert_int_equal(sc_image_load(path, &img, &err), SC_ERR_FORMAT);
  assert_int_equal(sc_status_exit_code(SC_ERR_FORMAT), 3);
}

static void test_raw_yuv_errors(void **state)
{
  char path[512];
  struct sc_tensor *img = NULL;
  struct sc_error err;
  (void)state;
  image_path("short.nv12", path, sizeof path);
  assert_int_equal(sc_image_load_yuv(path, SC_YUV420_NV12, 32, 24, &img, &err),
                   SC_ERR_FORMAT);
  assert_null(img);
  assert_non_null(strstr(err.message, path));
  assert_non_null(strstr(err.message, "1151 bytes"));
  image_path("astro_32x24.nv12", path, sizeof path);
  assert_int_equal(sc_yuv_load(path, SC_YUV420_NV12, 31, 24, &img, &err),
                   SC_ERR_CONFIG);
  assert_non_null(strstr(err.message, path));
  assert_int_equal(sc_yuv_load(path, SC_YUV420_NV12, 0, 0, &img, &err),
                   SC_ERR_CONFIG);
  assert_int_equal(sc_yuv_load(path, SC_YUV420_NV12, 1 << 21, 2, &img, &err),
                   SC_ERR_CONFIG);
  assert_int_equal(
      sc_yuv_load(path, (enum sc_yuv420_format)7, 32, 24, &img, &err),
      SC_ERR_CONFIG);
  image_path("missing.nv12", path, sizeof path);
  assert_int_equal(sc_yuv_load(path, SC_YUV420_NV12, 32, 24, &img, &err),
                   SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, path));
  assert_null(img);
}

static void test_decode_from_memory_names_the_source(void **state)
{
  static const uint8_t junk[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                 0,    0,   0,   13,  'I',  'H',  'D',  'R'};
  struct sc_tensor *img = NULL;
  struct sc_error err;
  (void)state;
  assert_int_equal(
      sc_image_decode(junk, sizeof junk, "camera frame 7", &img, &err),
      SC_ERR_FORMAT);
  assert_null(img);
  assert_non_null(strstr(err.message, "camera frame 7"));
}

/* A progressive 8x8 grey JPEG written by hand: a DC scan, then `ac_scans`
 * scans of coefficients 1..63. One Huffman code each: DC category 0 (a
 * zero difference) and AC 0x00 (an end of band for one block), both the
 * bit 0, padded with ones: each scan's data is the byte 0x7f. Every
 * coefficient is 0, so the image is level 128. Returns the size. */
static size_t progressive_grey(int ac_scans, uint8_t *out)
{
  static const uint8_t head[] = {0xff, 0xd8, /* SOI */
                                 0xff, 0xdb, 0x00,
                                 0x43, 0x00}, /* DQT, table 0: 64 ones */
      sof[] = {0xff, 0xc2, 0x00, 0x0b, 0x08, 0x00, 0x08,
               0x00, 0x08, 0x01, 0x01, 0x11, 0x00}, /* SOF2 8x8, 1 component */
      dht_dc[] = {0xff, 0xc4, 0x00, 0x14, 0x00, 1, 0, 0, 0, 0, 0,
                  0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0x00},
                       dht_ac[] = {0xff, 0xc4, 0x00, 0x14, 0x10, 1,   0, 0,
                                   0,    0,    0,    0,    0,    0,   0, 0,
                                   0,    0,    0,    0,    0,    0x00},
                       sos_dc[] = {0xff, 0xda, 0x00, 0x08, 0x01, 0x01,
                                   0x00, 0x00, 0x00, 0x00, 0x7f},
                       sos_ac[] = {0xff, 0xda, 0x00, 0x08, 0x01, 0x01,
                                   0x00, 0x01, 0x3f, 0x00, 0x7f};
  size_t n = 0;
  int i;
  memcpy(out, head, sizeof head);
  n += sizeof head;
  memset(out + n, 1, 64);
  n += 64;
  memcpy(out + n, sof, sizeof sof);
  n += sizeof sof;
  memcpy(out + n, dht_dc, sizeof dht_dc);
  n += sizeof dht_dc;
  memcpy(out + n, dht_ac, sizeof dht_ac);
  n += sizeof dht_ac;
  memcpy(out + n, sos_dc, sizeof sos_dc);
  n += sizeof sos_dc;
  for (i = 0; i < ac_scans; i++) {
    memcpy(out + n, sos_ac, sizeof sos_ac);
    n += sizeof sos_ac;
  }
  out[n++] = 0xff;
  out[n++] = 0xd9; /* EOI */
  return n;
}

/* Every scan decodes the whole image again: a file of thousands of scans
 * is refused (more than 500), a normal one decodes to level 128. */
static void test_jpeg_with_too_many_scans_is_refused(void **state)
{
  uint8_t *bytes = malloc(200 + 11 * 600);
  struct sc_tensor *img = NULL;
  struct sc_error err;
  size_t n;
  int64_t i;
  (void)state;
  assert_non_null(bytes);
  n = progressive_grey(3, bytes);
  assert_int_equal(sc_image_decode(bytes, n, "few.jpg", &img, &err), SC_OK);
  assert_int_equal(img->n_elements, 8 * 8 * 3);
  for (i = 0; i < img->n_elements; i++)
    assert_int_equal(((const uint8_t *)img->data)[i], 128);
  sc_tensor_free(img);
  img = NULL;
  n = progressive_grey(600, bytes);
  assert_int_equal(sc_image_decode(bytes, n, "many.jpg", &img, &err),
                   SC_ERR_FORMAT);
  assert_null(img);
  assert_non_null(strstr(err.message, "many.jpg"));
  assert_non_null(strstr(err.message, "scans"));
  free(bytes);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_png_every_format_matches_cv2_imread),
      cmocka_unit_test(test_jpeg_every_format_matches_cv2_imread),
      cmocka_unit_test(test_exif_orientation_applied_like_cv2),
      cmocka_unit_test(test_exif_quirks_match_cv2),
      cmocka_unit_test(test_exif_parser_hand_cases),
      cmocka_unit_test(test_raw_yuv_matches_cv2_cvtcolor),
      cmocka_unit_test(test_npy_is_returned_as_stored),
      cmocka_unit_test(test_corrupt_npy_fails_naming_file),
      cmocka_unit_test(test_corrupt_png_fails_naming_file),
      cmocka_unit_test(test_hostile_png_sizes_rejected_before_allocation),
      cmocka_unit_test(test_corrupt_jpeg_fails_naming_file),
      cmocka_unit_test(test_unknown_and_missing_files_fail),
      cmocka_unit_test(test_raw_yuv_errors),
      cmocka_unit_test(test_decode_from_memory_names_the_source),
      cmocka_unit_test(test_jpeg_with_too_many_scans_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
