/* Checks that a screenshot shows a rendered page, not a blank one:
 *
 *   png_check FILE.png MIN_COLOURS
 *
 * Reads the PNG with libpng's simplified API as 8-bit RGBA, counts its
 * distinct colours and the share of pixels that differ from the most common
 * colour (the background). Passes (exit 0) when there are at least
 * MIN_COLOURS colours and at least 1% of the pixels are not background;
 * prints the figures either way. Exit 1 when the check fails or the file
 * cannot be read (the reason on stderr). */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS (64u * 1024u * 1024u) /* larger screenshots are refused */

static int by_value(const void *x, const void *y)
{
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

/* Sorts the pixels and counts distinct values and the longest run (the
 * most common colour). */
static void count_colours(uint32_t *pixels, size_t n, size_t *distinct,
                          size_t *most_common)
{
  size_t i, run = 0;
  qsort(pixels, n, sizeof *pixels, by_value);
  *distinct = 0;
  *most_common = 0;
  for (i = 0; i < n; i++) {
    if (i == 0 || pixels[i] != pixels[i - 1]) {
      (*distinct)++;
      run = 0;
    }
    run++;
    if (run > *most_common)
      *most_common = run;
  }
}

/* Reads `path` as RGBA into *pixels (caller frees). Returns 0, or -1 with
 * the reason printed. */
static int read_rgba(const char *path, uint32_t **pixels, size_t *n,
                     unsigned *width, unsigned *height)
{
  png_image image;
  memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  *pixels = NULL;
  if (!png_image_begin_read_from_file(&image, path)) {
    fprintf(stderr, "png_check: %s: %s\n", path, image.message);
    return -1;
  }
  image.format = PNG_FORMAT_RGBA;
  if (image.width == 0 || image.height == 0 ||
      image.width > MAX_PIXELS / image.height) {
    fprintf(stderr, "png_check: %s: unusable size %ux%u\n", path, image.width,
            image.height);
    png_image_free(&image);
    return -1;
  }
  *n = (size_t)image.width * image.height;
  *pixels = malloc(*n * sizeof **pixels);
  if (!*pixels) {
    fprintf(stderr, "png_check: %s: out of memory\n", path);
    png_image_free(&image);
    return -1;
  }
  if (!png_image_finish_read(&image, NULL, *pixels, 0, NULL)) {
    fprintf(stderr, "png_check: %s: %s\n", path, image.message);
    free(*pixels);
    *pixels = NULL;
    return -1;
  }
  *width = image.width;
  *height = image.height;
  return 0;
}

int main(int argc, char **argv)
{
  uint32_t *pixels;
  size_t n, distinct, most_common;
  unsigned width, height;
  long min_colours;
  double foreground;
  int ok;
  if (argc != 3 || (min_colours = strtol(argv[2], NULL, 10)) <= 0) {
    fprintf(stderr, "usage: png_check FILE.png MIN_COLOURS\n");
    return 1;
  }
  if (read_rgba(argv[1], &pixels, &n, &width, &height) != 0)
    return 1;
  count_colours(pixels, n, &distinct, &most_common);
  free(pixels);
  foreground = 1.0 - (double)most_common / (double)n;
  ok = distinct >= (size_t)min_colours && foreground >= 0.01;
  printf("%s: %ux%u, %zu distinct colours (need %ld), %.1f%% of the pixels "
         "not background (need 1%%): %s\n",
         argv[1], width, height, distinct, min_colours, 100.0 * foreground,
         ok ? "ok" : "FAIL");
  return ok ? 0 : 1;
}
