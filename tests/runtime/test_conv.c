/* The convolution family (runtime/ops/conv.c and the kernels in
 * runtime/ops/conv_*.c).
 *
 * Kernel level: every fast path (im2col + sgemm, pointwise sgemm,
 * depthwise, ConvTranspose sgemm + col2im) against the plain direct
 * reference on the same random inputs, over odd sizes, padding, strides,
 * dilations, groups and 1-D/2-D/3-D; results bit-identical for 1 and 2
 * threads; bounded scratch memory on large images.
 *
 * Operator level: graphs of one Conv/ConvTranspose node with hand-computed
 * expected values (sums written out beside each), auto_pad, float16, and
 * the error paths (status and a message naming the node). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dtype.h"
#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/conv_kernels.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"
#include "tests/support/one_node.h"

/* --- kernel level ------------------------------------------------------ */

/* A convolution case in ONNX terms: n_dims spatial dims, pads split into
 * begin and end. The output size follows the ONNX formula. */
struct conv_case {
  int64_t batch, channels, maps, group;
  int n_dims;
  int64_t in[3], kernel[3], stride[3], dilation[3], pad_begin[3], pad_end[3];
  int bias;
};

static uint32_t rng_state = 12345;

static float random_value(void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((rng_state >> 8) / 16777216.0 * 2.0 - 1.0);
}

static float *random_array(int64_t n)
{
  float *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
  int64_t i;
  assert_non_null(a);
  for (i = 0; i < n; i++)
    a[i] = random_value();
  return a;
}

/* Canonical geometry of a case (leading dims of size 1). */
static struct sc_conv_geometry geometry_of(const struct conv_case *cc,
                                           int transpose)
{
  struct sc_conv_geometry g;
  int i, lead = 3 - cc->n_dims;
  memset(&g, 0, sizeof g);
  g.batch = cc->batch;
  g.in_channels = cc->channels;
  g.out_channels = cc->maps;
  g.group = cc->group;
  for (i = 0; i < 3; i++) {
    int s = i - lead;
    int64_t extent;
    g.in[i] = s >= 0 ? cc->in[s] : 1;
    g.kernel[i] = s >= 0 ? cc->kernel[s] : 1;
    g.stride[i] = s >= 0 ? cc->stride[s] : 1;
    g.dilation[i] = s >= 0 ? cc->dilation[s] : 1;
    g.pad[i] = s >= 0 ? cc->pad_begin[s] : 0;
    extent = (g.kernel[i] - 1) * g.dilation[i] + 1;
    if (transpose)
      g.out[i] = s >= 0 ? g.stride[i] * (g.in[i] - 1) + extent -
                              cc->pad_begin[s] - cc->pad_end[s]
                        : 1;
    else
      g.out[i] = s >= 0
                     ? (g.in[i] + cc->pad_begin[s] + cc->pad_end[s] - extent) /
                               g.stride[i] +
                           1
                     : 1;
  }
  return g;
}

static int64_t volume(const int64_t *v)
{
  return v[0] * v[1] * v[2];
}

/* Random operands of a geometry: x, W and (with bias) B, and the number
 * of output elements. */
struct operands {
  int64_t x_size, y_size;
  float *x, *w, *b;
};

static void operands_make(struct operands *o, const struct sc_conv_geometry *g,
                          int bias)
{
  o->x_size = g->batch * g->in_channels * volume(g->in);
  o->y_size = g->batch * g->out_channels * volume(g->out);
  o->x = random_array(o->x_size);
  o->w = random_array(g->out_channels * (g->in_channels / g->group) *
                      volume(g->kernel));
  o->b = bias ? random_array(g->out_channels) : NULL;
}

static void operands_free(struct operands *o)
{
  free(o->x);
  free(o->w);
  free(o->b);
}

/* The Winograd path's error bound, a fraction of the sum of the
 * magnitudes of an output's products (and bias). The transforms of
 * F(4x4, 3x3) scale values by up to 5 (B^T) and 8 (A^T) along each axis
 * before the products and the sum over channels are rounded, so the
 * error of an output grows to some tens of float roundings (2^-24 each)
 * of that magnitude where the direct sum stays within a few: measured at
 * most 3.0e-6 over the cases below (up to 300 channels), bounded here
 * with some room. */
#define WINOGRAD_TOLERANCE 1e-5

/* |got - want| <= WINOGRAD_TOLERANCE * (|b| + sum |x| |w|) for every
 * output, the magnitudes from the reference on |x|, |w| and |b|; also
 * reports the largest ratio seen (the figure above). */
static void assert_within_winograd_bound(const struct sc_conv_geometry *g,
                                         const struct operands *o,
                                         const float *got, const float *want)
{
  int64_t nx = g->batch * g->in_channels * volume(g->in);
  int64_t nw =
      g->out_channels * (g->in_channels / g->group) * volume(g->kernel);
  float *ax = malloc((size_t)nx * sizeof(float));
  float *aw = malloc((size_t)nw * sizeof(float));
  float *ab = o->b ? malloc((size_t)g->out_channels * sizeof(float)) : NULL;
  float *magnitude = malloc((size_t)o->y_size * sizeof(float));
  double worst = 0;
  int64_t i;
  assert_true(ax && aw && magnitude && (ab || !o->b));
  for (i = 0; i < nx; i++)
    ax[i] = fabsf(o->x[i]);
  for (i = 0; i < nw; i++)
    aw[i] = fabsf(o->w[i]);
  for (i = 0; ab && i < g->out_channels; i++)
    ab[i] = fabsf(o->b[i]);
  sc_conv_reference(g, ax, aw, ab, magnitude);
  for (i = 0; i < o->y_size; i++) {
    double diff = fabs((double)got[i] - want[i]);
    if (magnitude[i] > 0 && diff / magnitude[i] > worst)
      worst = diff / magnitude[i];
    if (!(diff <= WINOGRAD_TOLERANCE * magnitude[i]))
      fail_msg("output %lld: Winograd %.9g, reference %.9g, bound %.3g",
               (long long)i, got[i], want[i],
               WINOGRAD_TOLERANCE * magnitude[i]);
  }
  if (getenv("SC_TEST_VERBOSE"))
    printf("winograd: largest error %.3g of the magnitude\n", worst);
  free(ax);
  free(aw);
  free(ab);
  free(magnitude);
}

/* Runs `path` and the reference on the same random inputs and compares
 * them; with `threads`, also checks the result is bit-identical to the
 * single-threaded one on that pool. */
static void check_against_reference(const struct conv_case *cc, int transpose,
                                    enum sc_conv_path path,
                                    struct sc_threadpool *threads)
{
  struct sc_conv_geometry g = geometry_of(cc, transpose);
  struct operands o;
  int64_t y_dims[1];
  struct sc_tensor *fast = NULL, *slow = NULL, *parallel = NULL;
  struct sc_error err;

  operands_make(&o, &g, cc->bias);
  y_dims[0] = o.y_size;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, y_dims, &fast, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, y_dims, &slow, NULL),
                   SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, y_dims, &parallel, NULL),
                   SC_OK);
  if (transpose) {
    assert_int_equal(sc_conv_transpose_forward(&g, SC_CONV_PATH_REFERENCE, o.x,
                                               o.w, o.b, slow->data, NULL,
                                               &err),
                     SC_OK);
    assert_int_equal(sc_conv_transpose_forward(&g, path, o.x, o.w, o.b,
                                               fast->data, NULL, &err),
                     SC_OK);
  } else {
    assert_true(sc_conv_path_applies(&g, path));
    assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_REFERENCE, o.x, o.w, NULL,
                                     o.b, slow->data, NULL, &err),
                     SC_OK);
    assert_int_equal(
        sc_conv_forward(&g, path, o.x, o.w, NULL, o.b, fast->data, NULL, &err),
        SC_OK);
  }
  if (path == SC_CONV_PATH_WINOGRAD)
    assert_within_winograd_bound(&g, &o, fast->data, slow->data);
  else /* float sums of up to a few hundred products of values in [-1, 1) */
    assert_tensor_close(fast, slow, 2e-5, 1e-4);

  if (threads) {
    if (transpose)
      assert_int_equal(sc_conv_transpose_forward(&g, path, o.x, o.w, o.b,
                                                 parallel->data, threads, &err),
                       SC_OK);
    else
      assert_int_equal(sc_conv_forward(&g, path, o.x, o.w, NULL, o.b,
                                       parallel->data, threads, &err),
                       SC_OK);
    assert_memory_equal(parallel->data, fast->data,
                        (size_t)o.y_size * sizeof(float));
  }
  sc_tensor_free(fast);
  sc_tensor_free(slow);
  sc_tensor_free(parallel);
  operands_free(&o);
}

/* 2-D case helper: square stride/dilation, pads (top, left, bottom,
 * right). */
static struct conv_case case_2d(int64_t batch, int64_t channels, int64_t maps,
                                int64_t group, int64_t h, int64_t w, int64_t kh,
                                int64_t kw, int64_t stride, int64_t dilation,
                                int64_t pt, int64_t pl, int64_t pb, int64_t pr,
                                int bias)
{
  struct conv_case cc;
  memset(&cc, 0, sizeof cc);
  cc.batch = batch;
  cc.channels = channels;
  cc.maps = maps;
  cc.group = group;
  cc.n_dims = 2;
  cc.in[0] = h;
  cc.in[1] = w;
  cc.kernel[0] = kh;
  cc.kernel[1] = kw;
  cc.stride[0] = cc.stride[1] = stride;
  cc.dilation[0] = cc.dilation[1] = dilation;
  cc.pad_begin[0] = pt;
  cc.pad_begin[1] = pl;
  cc.pad_end[0] = pb;
  cc.pad_end[1] = pr;
  cc.bias = bias;
  return cc;
}

static struct conv_case case_1d(int64_t channels, int64_t maps, int64_t group,
                                int64_t w, int64_t k, int64_t stride,
                                int64_t dilation, int64_t pl, int64_t pr)
{
  struct conv_case cc;
  memset(&cc, 0, sizeof cc);
  cc.batch = 2;
  cc.channels = channels;
  cc.maps = maps;
  cc.group = group;
  cc.n_dims = 1;
  cc.in[0] = w;
  cc.kernel[0] = k;
  cc.stride[0] = stride;
  cc.dilation[0] = dilation;
  cc.pad_begin[0] = pl;
  cc.pad_end[0] = pr;
  cc.bias = 1;
  return cc;
}

static struct conv_case case_3d(int64_t channels, int64_t maps, int64_t group,
                                int64_t d, int64_t k, int64_t stride,
                                int64_t dilation, int64_t pad)
{
  struct conv_case cc;
  int i;
  memset(&cc, 0, sizeof cc);
  cc.batch = 1;
  cc.channels = channels;
  cc.maps = maps;
  cc.group = group;
  cc.n_dims = 3;
  for (i = 0; i < 3; i++) {
    cc.in[i] = d + i; /* 5 x 6 x 7 style: every dim different */
    cc.kernel[i] = k;
    cc.stride[i] = stride;
    cc.dilation[i] = dilation;
    cc.pad_begin[i] = pad;
    cc.pad_end[i] = i == 1 ? 0 : pad;
  }
  cc.bias = 1;
  return cc;
}

static void test_im2col_matches_reference_2d(void **state)
{
  const struct conv_case cases[] = {
      /* odd sizes, 3x3, symmetric pad 1 */
      case_2d(1, 3, 5, 1, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* stride 2 with asymmetric pads */
      case_2d(2, 4, 6, 1, 11, 8, 3, 3, 2, 1, 0, 1, 2, 0, 1),
      /* dilation 2, no bias */
      case_2d(1, 3, 4, 1, 12, 10, 3, 3, 1, 2, 2, 2, 2, 2, 0),
      /* groups: 6 input and 4 output channels in 2 groups */
      case_2d(2, 6, 4, 2, 9, 7, 3, 2, 1, 1, 1, 0, 1, 1, 1),
      /* rectangular 5x1 kernel, stride 3, big pads */
      case_2d(1, 2, 3, 1, 13, 6, 5, 1, 3, 1, 4, 0, 4, 0, 1),
      /* kernel as large as the padded input */
      case_2d(1, 2, 2, 1, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1),
      /* pads larger than the kernel */
      case_2d(1, 1, 2, 1, 4, 5, 2, 2, 1, 1, 3, 3, 3, 3, 1),
      /* 1x1 with stride 2 is not pointwise */
      case_2d(1, 4, 3, 1, 9, 9, 1, 1, 2, 1, 0, 0, 0, 0, 1),
      /* a small image with many output channels: the channels are split
       * over items sharing one im2col matrix */
      case_2d(1, 8, 70, 1, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 6, 40, 2, 5, 5, 3, 3, 2, 1, 1, 1, 1, 1, 0),
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_IM2COL, NULL);
}

static void test_im2col_matches_reference_1d_and_3d(void **state)
{
  const struct conv_case cases[] = {
      case_1d(4, 5, 1, 10, 3, 1, 1, 1, 1), case_1d(4, 6, 2, 17, 5, 2, 1, 2, 1),
      case_1d(3, 3, 1, 20, 3, 1, 3, 0, 0), case_3d(3, 4, 1, 5, 3, 1, 1, 1),
      case_3d(4, 4, 2, 5, 2, 2, 1, 1),     case_3d(2, 3, 1, 6, 2, 1, 2, 0),
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_IM2COL, NULL);
}

/* The packed path on shapes that are not multiples of its tiles (8
 * output channels by 48 positions, K blocks of about 192 rows): odd M, N
 * and K, several K blocks, groups, strides, dilations, padding, bias or
 * not, batch 2, 1-D, 2-D and 3-D, pointwise. */
#define MAX_PACKED_CASES 64

/* Copies the cases into `out` (room for MAX_PACKED_CASES); their count. */
static size_t packed_cases(struct conv_case *out)
{
  const struct conv_case cases[] = {
      /* M = 5 (one partial panel), N = 63, K = 27 */
      case_2d(1, 3, 5, 1, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* M = 13 (a full and a partial panel), stride 2, asymmetric pads */
      case_2d(2, 4, 13, 1, 11, 8, 3, 3, 2, 1, 0, 1, 2, 0, 1),
      /* dilation 2, no bias, M = 8 exactly */
      case_2d(1, 3, 8, 1, 12, 10, 3, 3, 1, 2, 2, 2, 2, 2, 0),
      /* groups: 6 input and 4 output channels in 2 groups, 3x2 kernel */
      case_2d(2, 6, 4, 2, 9, 7, 3, 2, 1, 1, 1, 0, 1, 1, 1),
      /* 4 groups of 5 input and 9 output channels */
      case_2d(1, 20, 36, 4, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* K = 50 * 9 = 450: three K blocks; N = 23 x 21 = 483, M = 17 */
      case_2d(1, 50, 17, 1, 23, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* M = 40 (more than 32: K block by K block), K = 48 * 9 = 432 over
       * 3 blocks, then 2 groups of 36 */
      case_2d(1, 48, 40, 1, 13, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 60, 72, 2, 9, 11, 3, 3, 1, 1, 0, 1, 2, 1, 0),
      /* K = 70 * 9 = 630 over 4 blocks, stride 2 with dilation 2, no bias */
      case_2d(2, 70, 12, 1, 19, 17, 3, 3, 2, 2, 2, 1, 2, 1, 0),
      /* rectangular 5x1 kernel, stride 3, big pads */
      case_2d(1, 2, 3, 1, 13, 6, 5, 1, 3, 1, 4, 0, 4, 0, 1),
      /* kernel as large as the padded input; pads larger than the kernel */
      case_2d(1, 2, 2, 1, 3, 3, 5, 5, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 1, 2, 1, 4, 5, 2, 2, 1, 1, 3, 3, 3, 3, 1),
      /* 1x1 with stride 2 and a padded 1x1 (not pointwise) */
      case_2d(1, 4, 3, 1, 9, 9, 1, 1, 2, 1, 0, 0, 0, 0, 1),
      case_2d(1, 5, 9, 1, 6, 7, 1, 1, 1, 1, 1, 1, 1, 1, 0),
      /* stride 4: neither the contiguous nor the stride-2 copy */
      case_2d(1, 3, 10, 1, 17, 19, 3, 3, 4, 1, 1, 1, 1, 1, 1),
      /* a small image with many output channels: channel blocks */
      case_2d(1, 8, 70, 1, 9, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 6, 40, 2, 5, 5, 3, 3, 2, 1, 1, 1, 1, 1, 0),
      /* column panels within output rows (rows of 80, 200, 81, 96
       * positions): read in place, partial last panels, padding copied,
       * stride 2 copied, dilation 2 */
      case_2d(1, 8, 20, 1, 6, 80, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 24, 40, 1, 5, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 5, 11, 1, 9, 161, 3, 3, 2, 1, 1, 1, 1, 1, 1),
      case_2d(2, 25, 36, 1, 8, 100, 3, 3, 1, 2, 0, 0, 0, 0, 0),
      /* several column tiles: 100 x 100 positions, M = 24 */
      case_2d(1, 16, 24, 1, 100, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* pointwise: whole panels, a partial one, groups, more than 4096 */
      case_2d(2, 8, 5, 1, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1),
      case_2d(1, 6, 4, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 0),
      case_2d(1, 200, 33, 1, 70, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1),
      /* 1-D, 3-D */
      case_1d(4, 5, 1, 10, 3, 1, 1, 1, 1),
      case_1d(4, 6, 2, 17, 5, 2, 1, 2, 1),
      case_1d(3, 3, 1, 20, 3, 1, 3, 0, 0),
      case_1d(40, 9, 1, 100, 7, 1, 1, 3, 3),
      case_1d(6, 10, 1, 130, 3, 1, 1, 1, 1),
      case_3d(3, 4, 1, 5, 3, 1, 1, 1),
      case_3d(4, 4, 2, 5, 2, 2, 1, 1),
      case_3d(2, 3, 1, 6, 2, 1, 2, 0),
      case_3d(10, 11, 1, 6, 3, 1, 1, 1),
      case_3d(3, 5, 1, 4, 1, 1, 1, 0),
  };
  size_t n = sizeof cases / sizeof cases[0];
  assert_true(n <= MAX_PACKED_CASES);
  memcpy(out, cases, sizeof cases);
  return n;
}

/* Every case through the packed path, with the AVX-512 micro-kernel when
 * the CPU has it and with the portable one. */
static void test_packed_matches_reference(void **state)
{
  struct conv_case cases[MAX_PACKED_CASES];
  size_t i, n = packed_cases(cases);
  int portable;
  (void)state;
  for (portable = 0; portable <= 1; portable++) {
    sc_conv_packed_force_portable(portable);
    for (i = 0; i < n; i++)
      check_against_reference(&cases[i], 0, SC_CONV_PATH_PACKED, NULL);
  }
  sc_conv_packed_force_portable(0);
}

/* Column panels read in place (at most 32 output channels per group,
 * stride 1 along the rows, panels of 48 positions inside one output row
 * with every tap inside the image) against the reference, and bit for bit
 * against the same convolution with every panel filled: 1 output channel
 * over 3 K blocks, 16 channels at dilation 2, groups, batch 2, 1-D and a
 * 3-D kernel over rows of 60. Only where the CPU has AVX-512F (the
 * portable path fills every panel). */
static void test_packed_direct_matches_filled(void **state)
{
  struct conv_case cases[] = {
      case_2d(1, 50, 1, 1, 6, 120, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 64, 16, 1, 5, 100, 3, 3, 1, 2, 2, 2, 2, 2, 0),
      case_2d(1, 24, 30, 2, 4, 150, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 8, 32, 1, 3, 97, 1, 5, 1, 1, 0, 2, 0, 2, 1),
      case_1d(40, 9, 1, 100, 7, 1, 1, 3, 3),
      case_3d(6, 7, 1, 4, 3, 1, 1, 1),
  };
  size_t i;
  (void)state;
  cases[5].in[2] = 60;
  if (!sc_conv_packed_fast()) {
    printf("skipped: no AVX-512F on this CPU, panels are always filled\n");
    return;
  }
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sc_conv_geometry g = geometry_of(&cases[i], 0);
    struct operands o;
    float *direct, *filled;
    operands_make(&o, &g, 1);
    direct = malloc((size_t)o.y_size * sizeof(float));
    filled = malloc((size_t)o.y_size * sizeof(float));
    assert_non_null(direct);
    assert_non_null(filled);
    check_against_reference(&cases[i], 0, SC_CONV_PATH_PACKED, NULL);
    assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_PACKED, o.x, o.w, NULL,
                                     o.b, direct, NULL, NULL),
                     SC_OK);
    sc_conv_packed_disable_direct(1);
    assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_PACKED, o.x, o.w, NULL,
                                     o.b, filled, NULL, NULL),
                     SC_OK);
    sc_conv_packed_disable_direct(0);
    assert_memory_equal(direct, filled, (size_t)o.y_size * sizeof(float));
    operands_free(&o);
    free(direct);
    free(filled);
  }
}

/* A Relu fused into the Conv (geometry.relu) gives, on every path, the
 * bits of the same path's output put through Relu's x < 0 ? 0 : x: in the
 * packed kernels' last store (filled and in-place panels, AVX-512 and
 * portable, several K blocks) and in the pass after the other paths. A
 * NaN in x must come out NaN; some outputs must be negative. */
static void check_fused_relu(const struct conv_case *cc, enum sc_conv_path path)
{
  struct sc_conv_geometry g = geometry_of(cc, 0);
  struct operands o;
  int64_t i, negative = 0, nan_in = 0, nan_out = 0;
  float *plain, *fused;
  operands_make(&o, &g, 1);
  plain = malloc((size_t)o.y_size * sizeof(float));
  fused = malloc((size_t)o.y_size * sizeof(float));
  assert_non_null(plain);
  assert_non_null(fused);
  o.x[o.x_size / 2] = NAN;
  assert_int_equal(
      sc_conv_forward(&g, path, o.x, o.w, NULL, o.b, plain, NULL, NULL), SC_OK);
  g.relu = 1;
  assert_int_equal(
      sc_conv_forward(&g, path, o.x, o.w, NULL, o.b, fused, NULL, NULL), SC_OK);
  for (i = 0; i < o.y_size; i++) {
    float want = plain[i] < 0 ? 0 : plain[i];
    negative += plain[i] < 0;
    nan_in += isnan(plain[i]);
    nan_out += isnan(fused[i]);
    assert_memory_equal(&fused[i], &want, sizeof want);
  }
  assert_true(negative > 0);
  assert_true(nan_in > 0);
  assert_int_equal(nan_out, nan_in);
  operands_free(&o);
  free(plain);
  free(fused);
}

static void test_fused_relu_matches_relu_of_output(void **state)
{
  const struct conv_case packed[] = {
      case_2d(1, 50, 17, 1, 23, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 50, 1, 1, 6, 120, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 64, 16, 1, 5, 100, 3, 3, 1, 2, 2, 2, 2, 2, 0),
      case_2d(1, 16, 40, 1, 9, 60, 3, 3, 2, 1, 1, 1, 1, 1, 1),
  };
  const struct conv_case pointwise =
      case_2d(2, 8, 5, 1, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1);
  const struct conv_case depthwise =
      case_2d(1, 8, 8, 8, 20, 21, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  size_t i;
  int portable;
  (void)state;
  for (portable = 0; portable <= 1; portable++) {
    sc_conv_packed_force_portable(portable);
    for (i = 0; i < sizeof packed / sizeof packed[0]; i++)
      check_fused_relu(&packed[i], SC_CONV_PATH_PACKED);
  }
  sc_conv_packed_force_portable(0);
  check_fused_relu(&packed[0], SC_CONV_PATH_REFERENCE);
  check_fused_relu(&packed[0], SC_CONV_PATH_IM2COL);
  check_fused_relu(&pointwise, SC_CONV_PATH_POINTWISE);
  check_fused_relu(&depthwise, SC_CONV_PATH_DEPTHWISE);
}

/* Weights packed beforehand give the same bits as packing per call; a
 * packing for another shape is refused. */
static void test_packed_weights_reused(void **state)
{
  struct conv_case cc =
      case_2d(1, 20, 36, 4, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case other =
      case_2d(1, 20, 36, 2, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g = geometry_of(&cc, 0), go = geometry_of(&other, 0);
  struct operands o;
  float *once, *each;
  struct sc_conv_weights *packed = NULL;
  struct sc_error err;
  (void)state;
  operands_make(&o, &g, 1);
  once = random_array(o.y_size);
  each = random_array(o.y_size);
  assert_int_equal(sc_conv_weights_pack(&g, o.w, &packed, &err), SC_OK);
  assert_true(sc_conv_weights_match(packed, &g));
  assert_false(sc_conv_weights_match(packed, &go));
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_PACKED, o.x, o.w, packed,
                                   o.b, once, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_PACKED, o.x, o.w, NULL, o.b,
                                   each, NULL, &err),
                   SC_OK);
  assert_memory_equal(once, each, (size_t)o.y_size * sizeof(float));
  assert_int_equal(sc_conv_forward(&go, SC_CONV_PATH_PACKED, o.x, o.w, packed,
                                   o.b, each, NULL, &err),
                   SC_ERR_INTERNAL);
  assert_non_null(strstr(err.message, "packed"));
  sc_conv_weights_free(packed);
  sc_conv_weights_free(NULL);
  operands_free(&o);
  free(once);
  free(each);
}

static void test_pointwise_matches_reference(void **state)
{
  const struct conv_case cases[] = {
      case_2d(2, 8, 5, 1, 7, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1),
      case_2d(1, 6, 4, 2, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 0),
      /* more positions than one pointwise tile (4096) */
      case_2d(1, 3, 4, 1, 70, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1),
      case_1d(4, 6, 1, 33, 1, 1, 1, 0, 0),
      case_3d(3, 5, 1, 4, 1, 1, 1, 0),
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_POINTWISE, NULL);
}

static void test_depthwise_matches_reference(void **state)
{
  const struct conv_case cases[] = {
      case_2d(1, 4, 4, 4, 17, 19, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* stride 2 on odd sizes */
      case_2d(2, 3, 3, 3, 17, 19, 3, 3, 2, 1, 1, 1, 1, 1, 1),
      case_2d(1, 2, 2, 2, 16, 21, 5, 5, 1, 1, 2, 2, 2, 2, 0),
      case_2d(1, 2, 2, 2, 15, 15, 5, 5, 2, 1, 2, 2, 2, 2, 1),
      /* dilation, asymmetric pads, stride 3 */
      case_2d(1, 3, 3, 3, 14, 23, 3, 3, 2, 2, 0, 2, 2, 0, 1),
      case_2d(1, 2, 2, 2, 10, 20, 3, 3, 3, 1, 1, 1, 1, 1, 1),
      /* channel multiplier 2 */
      case_2d(2, 3, 6, 3, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      /* a row longer than the stack phase buffer, stride 2 */
      case_2d(1, 2, 2, 2, 3, 1030, 3, 3, 2, 1, 1, 1, 1, 1, 1),
      /* 1-D depthwise */
      case_1d(4, 4, 4, 40, 5, 2, 1, 2, 2),
      case_1d(3, 6, 3, 12, 3, 1, 2, 1, 1),
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_DEPTHWISE, NULL);
}

static void test_conv_transpose_matches_reference(void **state)
{
  const struct conv_case cases[] = {
      /* 2x2 stride 2 upsampling */
      case_2d(1, 3, 4, 1, 5, 6, 2, 2, 2, 1, 0, 0, 0, 0, 1),
      /* 3x3 stride 2 with pads, batch 2 */
      case_2d(2, 2, 3, 1, 4, 5, 3, 3, 2, 1, 1, 1, 1, 1, 1),
      /* stride 3 with a negative end pad (output_padding-like) */
      case_2d(1, 2, 2, 1, 4, 4, 3, 3, 3, 1, 1, 0, -2, -1, 0),
      /* dilation 2 */
      case_2d(1, 2, 3, 1, 5, 4, 2, 3, 1, 2, 0, 1, 0, 1, 1),
      /* groups: 4 input and 6 output channels in 2 groups */
      case_2d(1, 4, 6, 2, 4, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1),
      /* 40 output channels: several channel blocks */
      case_2d(1, 3, 40, 1, 6, 6, 2, 2, 2, 1, 0, 0, 0, 0, 1),
      /* more input positions than one sgemm tile (4096) */
      case_2d(1, 2, 16, 1, 70, 70, 2, 2, 2, 1, 0, 0, 0, 0, 1),
      case_1d(3, 4, 1, 9, 4, 2, 1, 1, 1),
      case_3d(2, 3, 1, 3, 2, 2, 1, 0),
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_against_reference(&cases[i], 1, SC_CONV_PATH_IM2COL, NULL);
}

/* Geometries for the Winograd path: output sizes that are and are not
 * multiples of the 4x4 tile, pads 0, 1, 2 and uneven ones, channel
 * counts around the 8-map panels, a batch of 2, strips of 48 and of 16
 * tiles (300 input channels), several strips per row, one channel. */
#define N_WINOGRAD_CASES 9
static void winograd_cases(struct conv_case *out)
{
  const struct conv_case cases[N_WINOGRAD_CASES] = {
      case_2d(1, 16, 16, 1, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 19, 21, 1, 13, 27, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(2, 17, 9, 1, 11, 30, 3, 3, 1, 1, 0, 0, 0, 0, 0),
      case_2d(1, 8, 12, 1, 10, 9, 3, 3, 1, 1, 2, 0, 1, 2, 1),
      case_2d(1, 8, 12, 1, 6, 200, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 300, 40, 1, 9, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 1, 1, 1, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 64, 64, 1, 36, 52, 3, 3, 1, 1, 1, 1, 1, 1, 1),
      case_2d(1, 3, 70, 1, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1),
  };
  memcpy(out, cases, sizeof cases);
}

/* The Winograd path against the reference, within its bound; where the
 * CPU lacks AVX-512F the path does not apply and AUTO never takes it. */
static void test_winograd_matches_reference(void **state)
{
  struct conv_case cases[N_WINOGRAD_CASES];
  struct conv_case strided =
      case_2d(1, 16, 16, 1, 20, 20, 3, 3, 2, 1, 1, 1, 1, 1, 1);
  struct conv_case dilated =
      case_2d(1, 16, 16, 1, 20, 20, 3, 3, 1, 2, 1, 1, 1, 1, 1);
  struct conv_case grouped =
      case_2d(1, 16, 16, 2, 20, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case five =
      case_2d(1, 16, 16, 1, 20, 20, 5, 5, 1, 1, 2, 2, 2, 2, 1);
  struct sc_conv_geometry g;
  size_t i;
  (void)state;
  winograd_cases(cases);
  g = geometry_of(&cases[0], 0);
  if (!sc_conv_winograd_available()) {
    assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
    printf("skipped: no AVX-512F on this CPU, no Winograd path\n");
    return;
  }
  for (i = 0; i < N_WINOGRAD_CASES; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_WINOGRAD, NULL);
  /* scratch: 48 tiles of 64 + 64 channels, 16 of 512 + 512 */
  g = geometry_of(&cases[7], 0);
  assert_int_equal(sc_conv_scratch_floats(&g, SC_CONV_PATH_WINOGRAD, 0),
                   6 * 80 + 36 * (64 + 64) * 48);
  g.in_channels = g.out_channels = 512;
  assert_int_equal(sc_conv_scratch_floats(&g, SC_CONV_PATH_WINOGRAD, 0),
                   6 * 80 + 36 * (512 + 512) * 16);
  g = geometry_of(&strided, 0);
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
  g = geometry_of(&dilated, 0);
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
  g = geometry_of(&grouped, 0);
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
  g = geometry_of(&five, 0);
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
  sc_conv_packed_force_portable(1);
  g = geometry_of(&cases[0], 0);
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_WINOGRAD));
  sc_conv_packed_force_portable(0);
}

/* Weights transformed beforehand give the bits of a transform per call;
 * transformed weights are refused by the packed path and for another
 * shape, packed ones by the Winograd path; a NaN input and the fused
 * Relu behave as on the other paths. */
static void test_winograd_weights_reused(void **state)
{
  struct conv_case cc =
      case_2d(1, 20, 36, 1, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case other =
      case_2d(1, 20, 28, 1, 10, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g = geometry_of(&cc, 0), go = geometry_of(&other, 0);
  struct operands o;
  float *once, *each;
  struct sc_conv_weights *wino = NULL, *packed = NULL;
  struct sc_error err;
  (void)state;
  if (!sc_conv_winograd_available()) {
    printf("skipped: no AVX-512F on this CPU, no Winograd path\n");
    return;
  }
  operands_make(&o, &g, 1);
  once = random_array(o.y_size);
  each = random_array(o.y_size);
  assert_int_equal(
      sc_conv_weights_pack_for(&g, SC_CONV_PATH_WINOGRAD, o.w, &wino, &err),
      SC_OK);
  assert_int_equal(sc_conv_weights_path(wino), SC_CONV_PATH_WINOGRAD);
  assert_int_equal(sc_conv_weights_pack(&g, o.w, &packed, &err), SC_OK);
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_WINOGRAD, o.x, o.w, wino,
                                   o.b, once, NULL, &err),
                   SC_OK);
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_WINOGRAD, o.x, o.w, NULL,
                                   o.b, each, NULL, &err),
                   SC_OK);
  assert_memory_equal(once, each, (size_t)o.y_size * sizeof(float));
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_PACKED, o.x, o.w, wino, o.b,
                                   each, NULL, &err),
                   SC_ERR_INTERNAL);
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_WINOGRAD, o.x, o.w, packed,
                                   o.b, each, NULL, &err),
                   SC_ERR_INTERNAL);
  assert_int_equal(sc_conv_forward(&go, SC_CONV_PATH_WINOGRAD, o.x, o.w, wino,
                                   o.b, each, NULL, &err),
                   SC_ERR_INTERNAL);
  sc_conv_weights_free(packed);
  assert_int_equal(
      sc_conv_weights_pack_for(&g, SC_CONV_PATH_IM2COL, o.w, &packed, &err),
      SC_ERR_INTERNAL);
  assert_null(packed);
  check_fused_relu(&cc, SC_CONV_PATH_WINOGRAD);
  sc_conv_weights_free(wino);
  operands_free(&o);
  free(once);
  free(each);
}

/* Cases big enough for several tiles, small ones with few items, and
 * small ones whose output channels are split over items: all must give the
 * single-threaded bits on two threads. */
static void check_thread_counts(struct sc_threadpool *pool)
{
  const struct conv_case big_im2col =
      case_2d(1, 16, 24, 1, 70, 66, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case small_im2col =
      case_2d(1, 8, 16, 1, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case split_im2col =
      case_2d(1, 12, 80, 1, 11, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case big_pointwise =
      case_2d(2, 16, 16, 2, 100, 90, 1, 1, 1, 1, 0, 0, 0, 0, 1);
  const struct conv_case small_pointwise =
      case_2d(1, 32, 64, 1, 12, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1);
  const struct conv_case depthwise =
      case_2d(1, 8, 8, 8, 60, 70, 3, 3, 2, 1, 1, 1, 1, 1, 1);
  const struct conv_case transpose =
      case_2d(2, 8, 32, 1, 40, 40, 2, 2, 2, 1, 0, 0, 0, 0, 1);
  const struct conv_case small_transpose =
      case_2d(1, 8, 4, 1, 9, 9, 3, 3, 2, 1, 1, 1, 1, 1, 1);
  /* packed: many column tiles and K blocks; few tiles with channel
   * blocks; groups and batch; pointwise */
  const struct conv_case big_packed =
      case_2d(1, 40, 21, 1, 70, 66, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case small_packed =
      case_2d(1, 30, 75, 1, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case grouped_packed =
      case_2d(2, 12, 18, 3, 20, 25, 3, 3, 2, 1, 1, 1, 1, 1, 0);
  const struct conv_case pointwise_packed =
      case_2d(2, 64, 40, 1, 50, 45, 1, 1, 1, 1, 0, 0, 0, 0, 1);
  struct conv_case cases[MAX_PACKED_CASES];
  size_t i, n = packed_cases(cases);
  check_against_reference(&big_im2col, 0, SC_CONV_PATH_IM2COL, pool);
  check_against_reference(&small_im2col, 0, SC_CONV_PATH_IM2COL, pool);
  check_against_reference(&split_im2col, 0, SC_CONV_PATH_IM2COL, pool);
  check_against_reference(&big_pointwise, 0, SC_CONV_PATH_POINTWISE, pool);
  check_against_reference(&small_pointwise, 0, SC_CONV_PATH_POINTWISE, pool);
  check_against_reference(&depthwise, 0, SC_CONV_PATH_DEPTHWISE, pool);
  check_against_reference(&transpose, 1, SC_CONV_PATH_IM2COL, pool);
  check_against_reference(&small_transpose, 1, SC_CONV_PATH_IM2COL, pool);
  check_against_reference(&big_packed, 0, SC_CONV_PATH_PACKED, pool);
  check_against_reference(&small_packed, 0, SC_CONV_PATH_PACKED, pool);
  check_against_reference(&grouped_packed, 0, SC_CONV_PATH_PACKED, pool);
  check_against_reference(&pointwise_packed, 0, SC_CONV_PATH_PACKED, pool);
  for (i = 0; i < n; i++)
    check_against_reference(&cases[i], 0, SC_CONV_PATH_PACKED, pool);
  if (sc_conv_winograd_available()) {
    struct conv_case wino[N_WINOGRAD_CASES];
    winograd_cases(wino);
    for (i = 0; i < N_WINOGRAD_CASES; i++)
      check_against_reference(&wino[i], 0, SC_CONV_PATH_WINOGRAD, pool);
  }
}

/* Each fast path on 2 and on 3 threads gives the single-threaded bits. */
static void test_paths_bit_identical_across_thread_counts(void **state)
{
  int n_threads;
  (void)state;
  for (n_threads = 2; n_threads <= 3; n_threads++) {
    struct sc_threadpool *pool = NULL;
    assert_int_equal(sc_threadpool_create(n_threads, &pool, NULL), SC_OK);
    check_thread_counts(pool);
    sc_threadpool_free(pool);
  }
}

/* A 1024 x 1024 layer: the im2col matrix would be 64 * 9 * 1M floats
 * (2.4 GB); one thread's tile stays within 1 MB. Also runs a multi-tile
 * image through im2col against the reference. */
static void test_im2col_scratch_is_bounded(void **state)
{
  struct conv_case big =
      case_2d(1, 64, 64, 1, 1024, 1024, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case up =
      case_2d(1, 64, 64, 1, 1024, 1024, 2, 2, 2, 1, 0, 0, 0, 0, 1);
  struct conv_case tiled =
      case_2d(1, 40, 3, 1, 40, 50, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g = geometry_of(&big, 0);
  struct sc_conv_geometry gt = geometry_of(&up, 1);
  struct sc_conv_geometry g3 = geometry_of(&tiled, 0);
  (void)state;
  assert_true(sc_conv_scratch_floats(&g, SC_CONV_PATH_IM2COL, 0) <= 256 * 1024);
  assert_true(sc_conv_scratch_floats(&gt, SC_CONV_PATH_IM2COL, 1) <=
              256 * 1024);
  assert_int_equal(sc_conv_scratch_floats(&g, SC_CONV_PATH_POINTWISE, 0), 0);
  assert_true(sc_conv_scratch_floats(&g, SC_CONV_PATH_PACKED, 0) <= 256 * 1024);
  /* K = 360: several tiles for the 2000 positions */
  assert_true(sc_conv_scratch_floats(&g3, SC_CONV_PATH_IM2COL, 0) < 360 * 2000);
  check_against_reference(&tiled, 0, SC_CONV_PATH_IM2COL, NULL);
}

static void test_auto_path_choice(void **state)
{
  struct conv_case pointwise =
      case_2d(1, 8, 4, 1, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1);
  struct conv_case padded_1x1 =
      case_2d(1, 8, 4, 1, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case depthwise =
      case_2d(1, 8, 8, 8, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case general =
      case_2d(1, 8, 8, 2, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case depthwise_3d = case_3d(4, 4, 4, 4, 3, 1, 1, 1);
  /* 128 x 128 outputs from 16 channels to 16: Winograd; fewer positions
   * or channels: packed */
  struct conv_case large =
      case_2d(1, 16, 16, 1, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct conv_case few_positions =
      case_2d(1, 16, 16, 1, 128, 127, 3, 3, 1, 1, 0, 0, 0, 0, 1);
  struct conv_case few_channels =
      case_2d(1, 15, 16, 1, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g;
  int portable;
  (void)state;
  /* with the AVX-512 kernel (when the CPU has it), then as without it */
  for (portable = 0; portable <= 1; portable++) {
    int fast;
    sc_conv_packed_force_portable(portable);
    fast = sc_conv_packed_fast();
    if (portable)
      assert_false(fast);
    g = geometry_of(&pointwise, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_POINTWISE);
    g = geometry_of(&padded_1x1, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_IM2COL);
    g = geometry_of(&depthwise, 0);
    assert_int_equal(sc_conv_path_choose(&g), SC_CONV_PATH_DEPTHWISE);
    g = geometry_of(&general, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_IM2COL);
    g = geometry_of(&depthwise_3d, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_IM2COL);
    g = geometry_of(&large, 0);
    assert_int_equal(sc_conv_path_choose(&g), !fast ? SC_CONV_PATH_IM2COL
                                              : sc_conv_winograd_available()
                                                  ? SC_CONV_PATH_WINOGRAD
                                                  : SC_CONV_PATH_PACKED);
    g = geometry_of(&few_positions, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_IM2COL);
    g = geometry_of(&few_channels, 0);
    assert_int_equal(sc_conv_path_choose(&g),
                     fast ? SC_CONV_PATH_PACKED : SC_CONV_PATH_IM2COL);
    check_against_reference(&depthwise_3d, 0, SC_CONV_PATH_AUTO, NULL);
    check_against_reference(&general, 0, SC_CONV_PATH_AUTO, NULL);
    check_against_reference(&pointwise, 0, SC_CONV_PATH_AUTO, NULL);
  }
  sc_conv_packed_force_portable(0);
}

static void test_forward_rejects_a_path_that_does_not_apply(void **state)
{
  struct conv_case cc = case_2d(1, 2, 2, 1, 5, 5, 3, 3, 1, 1, 0, 0, 0, 0, 0);
  struct sc_conv_geometry g = geometry_of(&cc, 0);
  float x[50] = {0}, w[36] = {0}, y[18];
  struct sc_error err;
  (void)state;
  assert_false(sc_conv_path_applies(&g, SC_CONV_PATH_POINTWISE));
  assert_int_equal(sc_conv_forward(&g, SC_CONV_PATH_DEPTHWISE, x, w, NULL, NULL,
                                   y, NULL, &err),
                   SC_ERR_INTERNAL);
  assert_non_null(strstr(err.message, "does not apply"));
}

/* --- operator level -------------------------------------------------- */

/* x = 1..16 as 1 x 1 x 4 x 4, w = 1 x 1 x 2 x 2 ones */
static void inputs_4x4_ones(struct sc_tensor **inputs)
{
  float xv[16], wv[4] = {1, 1, 1, 1};
  int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {1, 1, 2, 2};
  int i;
  for (i = 0; i < 16; i++)
    xv[i] = (float)(i + 1);
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  inputs[1] = sc_test_tensor_f32(4, wd, wv);
}

/* Runs Conv on the 4x4 input with the given auto_pad and compares with
 * the 4x4 `expected`. */
static void check_conv_4x4(const char *auto_pad, const float *expected)
{
  struct sc_tensor *inputs[2], *out = NULL, *want;
  struct sc_test_node t;
  struct sc_error err;
  int64_t yd[4] = {1, 1, 4, 4};
  inputs_4x4_ones(inputs);
  sc_test_node_init(&t, "Conv", 11, 2, inputs, SC_TEST_NODE_PARAMS_CONSTANT, 1);
  sc_test_node_set_string(&t, "auto_pad", auto_pad);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  want = sc_test_tensor_f32(4, yd, expected);
  assert_tensor_close(out, want, 0, 0);
  sc_tensor_free(out);
  sc_tensor_free(want);
  sc_test_node_free(&t);
}

/* x rows 1 2 3 4 / 5 6 7 8 / 9 10 11 12 / 13 14 15 16, 2x2 window sums. */
static void test_conv_auto_pad_same_upper_and_lower(void **state)
{
  /* SAME_UPPER: the missing row/column is padded at the end, so
   * y[i][j] = x[i][j] + x[i][j+1] + x[i+1][j] + x[i+1][j+1], e.g.
   * y[0][0] = 1 + 2 + 5 + 6 = 14, y[0][3] = 4 + 8 = 12, y[3][3] = 16 */
  static const float upper[16] = {14, 18, 22, 12, 30, 34, 38, 20,
                                  46, 50, 54, 28, 27, 29, 31, 16};
  /* SAME_LOWER: padded at the beginning, y[i][j] = x[i-1..i][j-1..j],
   * e.g. y[0][0] = 1, y[1][1] = 1 + 2 + 5 + 6 = 14, y[3][0] = 9 + 13 */
  static const float lower[16] = {1,  3,  5,  7,  6,  14, 18, 22,
                                  14, 30, 34, 38, 22, 46, 50, 54};
  (void)state;
  check_conv_4x4("SAME_UPPER", upper);
  check_conv_4x4("SAME_LOWER", lower);
}

/* 1 x 1 x 3 x 3 input 0..8, 2x2 ones, bias 10, no kernel_shape (taken from
 * W), strides 1: y = [0+1+3+4, 1+2+4+5, 3+4+6+7, 4+5+7+8] + 10. Run in
 * float16 so the float-via-float path is exercised too. */
static void check_conv_hand_computed(enum sc_dtype dtype)
{
  static const double xv[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  static const double wv[4] = {1, 1, 1, 1}, bv[1] = {10};
  static const double yv[4] = {18, 22, 30, 34};
  int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, bd[1] = {1};
  int64_t yd[4] = {1, 1, 2, 2};
  struct sc_tensor *inputs[3], *out = NULL, *want;
  struct sc_test_node t;
  struct sc_error err;
  inputs[0] = sc_test_tensor(dtype, 4, xd, xv);
  inputs[1] = sc_test_tensor(dtype, 4, wd, wv);
  inputs[2] = sc_test_tensor(dtype, 1, bd, bv);
  sc_test_node_init(&t, "Conv", 6, 3, inputs, 0, 1);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  want = sc_test_tensor(dtype, 4, yd, yv);
  assert_tensor_close(out, want, 0, 0);
  sc_tensor_free(out);
  sc_tensor_free(want);
  sc_test_node_free(&t);
}

static void test_conv_hand_computed_float_and_float16(void **state)
{
  (void)state;
  check_conv_hand_computed(SC_DTYPE_FLOAT);
  check_conv_hand_computed(SC_DTYPE_FLOAT16);
}

/* Strides of 2^31 - 1 (accepted by ONNX) along axes with one output
 * position: the 4x4 input 1..16, 2x2 ones with pads 0 and constant or fed
 * weights, gives y = 1 + 2 + 5 + 6 = 14 by hand; and a depthwise 2-channel
 * version. Before, the stride sized a 206 GB buffer (depthwise) or a
 * prefetch loop of 2^31 steps per tap (packed). */
static void test_conv_huge_stride_with_one_output(void **state)
{
  static const int64_t huge[2] = {2147483647, 2147483647};
  static const int64_t row_huge[2] = {1, 2147483647};
  /* strides [1, huge]: rows 0..2 of column 0, x[r][0..1] + x[r+1][0..1] */
  static const float one[1] = {14}, column[3] = {14, 30, 46};
  int64_t y1[4] = {1, 1, 1, 1}, y3[4] = {1, 1, 3, 1};
  int constant;
  (void)state;
  for (constant = 0; constant < 2; constant++) {
    int k;
    for (k = 0; k < 2; k++) {
      struct sc_tensor *inputs[2], *out = NULL, *want;
      struct sc_test_node t;
      struct sc_error err;
      inputs_4x4_ones(inputs);
      sc_test_node_init(&t, "Conv", 11, 2, inputs,
                        constant ? SC_TEST_NODE_PARAMS_CONSTANT : 0, 1);
      sc_test_node_set_ints(&t, "strides", 2, k ? row_huge : huge);
      assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
      want = k ? sc_test_tensor_f32(4, y3, column)
               : sc_test_tensor_f32(4, y1, one);
      assert_tensor_close(out, want, 0, 0);
      sc_tensor_free(out);
      sc_tensor_free(want);
      sc_test_node_free(&t);
    }
  }
  { /* depthwise: 2 channels (x and 2x), group 2 */
    float xv[32], wv[8] = {1, 1, 1, 1, 1, 1, 1, 1}, yv[2] = {14, 28};
    int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {2, 1, 2, 2}, yd[4] = {1, 2, 1, 1};
    struct sc_tensor *inputs[2], *out = NULL, *want;
    struct sc_test_node t;
    struct sc_error err;
    int i;
    for (i = 0; i < 16; i++) {
      xv[i] = (float)(i + 1);
      xv[16 + i] = 2.0f * (float)(i + 1);
    }
    inputs[0] = sc_test_tensor_f32(4, xd, xv);
    inputs[1] = sc_test_tensor_f32(4, wd, wv);
    sc_test_node_init(&t, "Conv", 11, 2, inputs, SC_TEST_NODE_PARAMS_CONSTANT,
                      1);
    sc_test_node_set_ints(&t, "strides", 2, huge);
    sc_test_node_set_int(&t, "group", 2);
    assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
    want = sc_test_tensor_f32(4, yd, yv);
    assert_tensor_close(out, want, 0, 0);
    sc_tensor_free(out);
    sc_tensor_free(want);
    sc_test_node_free(&t);
  }
}

/* Runs a 3x3 Conv node (pads 1) on x, w, b, with W and B constants of the
 * graph (packed once when the graph is prepared) or fed at each run, on
 * `threads`; *out receives the output. */
static void run_conv_node(const struct conv_case *cc, const float *x,
                          const float *w, const float *b, int constant,
                          struct sc_threadpool *threads, struct sc_tensor **out)
{
  int64_t xd[4] = {cc->batch, cc->channels, cc->in[0], cc->in[1]};
  int64_t wd[4] = {cc->maps, cc->channels / cc->group, 3, 3};
  int64_t bd[1] = {cc->maps};
  static const int64_t pads[4] = {1, 1, 1, 1};
  struct sc_tensor *inputs[3];
  struct sc_test_node t;
  struct sc_error err;
  inputs[0] = sc_test_tensor_f32(4, xd, x);
  inputs[1] = sc_test_tensor_f32(4, wd, w);
  inputs[2] = sc_test_tensor_f32(1, bd, b);
  sc_test_node_init(&t, "Conv", 11, 3, inputs,
                    constant ? SC_TEST_NODE_PARAMS_CONSTANT : 0, 1);
  sc_test_node_set_ints(&t, "pads", 4, pads);
  sc_test_node_set_int(&t, "group", cc->group);
  if (sc_test_node_run(&t, threads, out, &err) != SC_OK)
    fail_msg("%s", err.message);
  sc_test_node_free(&t);
}

/* The Conv operator on the default path: constant weights (packed at
 * prepare time and kept) and fed weights (packed per run) give the same
 * bits, on 1 and 2 threads, close to the reference. */
static void check_conv_node_constant_and_fed_weights(const struct conv_case *c)
{
  struct conv_case cc = *c;
  struct sc_conv_geometry g = geometry_of(&cc, 0);
  struct operands o;
  struct sc_tensor *want = NULL, *constant = NULL, *fed = NULL, *two = NULL;
  struct sc_threadpool *pool = NULL;
  int64_t y_dims[4] = {g.batch, g.out_channels, g.out[1], g.out[2]};
  operands_make(&o, &g, 1);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 4, y_dims, &want, NULL),
                   SC_OK);
  sc_conv_reference(&g, o.x, o.w, o.b, want->data);
  assert_int_equal(sc_threadpool_create(2, &pool, NULL), SC_OK);
  run_conv_node(&cc, o.x, o.w, o.b, 1, NULL, &constant);
  run_conv_node(&cc, o.x, o.w, o.b, 0, NULL, &fed);
  run_conv_node(&cc, o.x, o.w, o.b, 1, pool, &two);
  if (sc_conv_path_choose(&g) == SC_CONV_PATH_WINOGRAD)
    assert_within_winograd_bound(&g, &o, constant->data, want->data);
  else
    assert_tensor_close(constant, want, 2e-5, 1e-4);
  assert_memory_equal(constant->data, fed->data,
                      (size_t)o.y_size * sizeof(float));
  assert_memory_equal(constant->data, two->data,
                      (size_t)o.y_size * sizeof(float));
  sc_threadpool_free(pool);
  sc_tensor_free(want);
  sc_tensor_free(constant);
  sc_tensor_free(fed);
  sc_tensor_free(two);
  operands_free(&o);
}

/* Packed weights (groups), and on AVX-512F CPUs Winograd ones (128 x 130
 * outputs, 16 channels to 20). */
static void test_conv_node_constant_and_fed_weights(void **state)
{
  const struct conv_case packed =
      case_2d(2, 10, 26, 2, 11, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  const struct conv_case winograd =
      case_2d(1, 16, 20, 1, 128, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g = geometry_of(&winograd, 0);
  (void)state;
  check_conv_node_constant_and_fed_weights(&packed);
  assert_int_equal(sc_conv_path_choose(&g) == SC_CONV_PATH_WINOGRAD,
                   sc_conv_winograd_available());
  check_conv_node_constant_and_fed_weights(&winograd);
}

/* A float16 Conv on the Winograd path (16 channels to 16, 128 x 128):
 * W is widened and transformed by every run, constant or fed, and not
 * held (the float16 initializer stays). Both, and a second run of the
 * first, give the same bits, within a float16 rounding (and the Winograd
 * bound) of the reference on the float16 operands. */
static void test_conv_float16_winograd(void **state)
{
  const struct conv_case cc =
      case_2d(1, 16, 16, 1, 128, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1);
  struct sc_conv_geometry g = geometry_of(&cc, 0);
  int64_t xd[4] = {1, 16, 128, 128}, wd[4] = {16, 16, 3, 3}, bd[1] = {16};
  int64_t nx = 16 * 128 * 128, nw = 16 * 16 * 9, i;
  struct sc_tensor *out[3] = {NULL, NULL, NULL}, *want;
  struct operands o;
  double *xv, *wv, *bv, *yv;
  float *y;
  int constant;
  (void)state;
  if (!sc_conv_winograd_available()) {
    printf("skipped: no AVX-512F on this CPU, no Winograd path\n");
    return;
  }
  assert_int_equal(sc_conv_path_choose(&g), SC_CONV_PATH_WINOGRAD);
  operands_make(&o, &g, 1);
  for (i = 0; i < nx; i++) /* the float16 operands, as float */
    o.x[i] = sc_half_to_float(sc_float_to_half(o.x[i]));
  for (i = 0; i < nw; i++)
    o.w[i] = sc_half_to_float(sc_float_to_half(o.w[i]));
  for (i = 0; i < 16; i++)
    o.b[i] = sc_half_to_float(sc_float_to_half(o.b[i]));
  xv = malloc((size_t)nx * sizeof *xv);
  wv = malloc((size_t)nw * sizeof *wv);
  bv = malloc(16 * sizeof *bv);
  yv = malloc((size_t)o.y_size * sizeof *yv);
  y = malloc((size_t)o.y_size * sizeof *y);
  assert_true(xv && wv && bv && yv && y);
  for (i = 0; i < nx; i++)
    xv[i] = o.x[i];
  for (i = 0; i < nw; i++)
    wv[i] = o.w[i];
  for (i = 0; i < 16; i++)
    bv[i] = o.b[i];
  for (constant = 1; constant >= 0; constant--) {
    struct sc_tensor *inputs[3];
    struct sc_test_node t;
    struct sc_error err;
    static const int64_t pads[4] = {1, 1, 1, 1};
    inputs[0] = sc_test_tensor(SC_DTYPE_FLOAT16, 4, xd, xv);
    inputs[1] = sc_test_tensor(SC_DTYPE_FLOAT16, 4, wd, wv);
    inputs[2] = sc_test_tensor(SC_DTYPE_FLOAT16, 1, bd, bv);
    sc_test_node_init(&t, "Conv", 11, 3, inputs,
                      constant ? SC_TEST_NODE_PARAMS_CONSTANT : 0, 1);
    sc_test_node_set_ints(&t, "pads", 4, pads);
    assert_int_equal(sc_test_node_run(&t, NULL, &out[constant ? 0 : 2], &err),
                     SC_OK);
    assert_int_equal(t.node->holds_input, 0);
    if (constant)
      assert_int_equal(sc_test_node_run(&t, NULL, &out[1], &err), SC_OK);
    sc_test_node_free(&t);
  }
  assert_memory_equal(out[0]->data, out[1]->data, (size_t)o.y_size * 2);
  assert_memory_equal(out[0]->data, out[2]->data, (size_t)o.y_size * 2);
  /* the float result rounds to the output: compare before that rounding
   * would need the float one, so allow one float16 step on top */
  sc_conv_reference(&g, o.x, o.w, o.b, y);
  for (i = 0; i < o.y_size; i++)
    yv[i] = y[i];
  want = sc_test_tensor(SC_DTYPE_FLOAT16, 4, out[0]->dims, yv);
  assert_tensor_close(out[0], want, 1e-3, 1e-3);
  sc_tensor_free(want);
  for (i = 0; i < 3; i++)
    sc_tensor_free(out[i]);
  operands_free(&o);
  free(xv);
  free(wv);
  free(bv);
  free(yv);
  free(y);
}

/* ConvTranspose of x = [1, 2] with w = [1, 1, 1], stride 2: x0 covers
 * output 0..2 and x1 covers 2..4, so the full output is [1, 1, 3, 2, 2]. */
static void check_transpose_1d(const char *attr, int64_t n, const int64_t *v,
                               const char *auto_pad, int64_t out_size,
                               const float *expected)
{
  static const float xv[2] = {1, 2}, wv[3] = {1, 1, 1};
  int64_t xd[3] = {1, 1, 2}, wd[3] = {1, 1, 3}, yd[3] = {1, 1, 0};
  int64_t stride[1] = {2};
  struct sc_tensor *inputs[2], *out = NULL, *want;
  struct sc_test_node t;
  struct sc_error err;
  inputs[0] = sc_test_tensor_f32(3, xd, xv);
  inputs[1] = sc_test_tensor_f32(3, wd, wv);
  sc_test_node_init(&t, "ConvTranspose", 11, 2, inputs,
                    SC_TEST_NODE_PARAMS_CONSTANT, 1);
  sc_test_node_set_ints(&t, "strides", 1, stride);
  if (attr)
    sc_test_node_set_ints(&t, attr, n, v);
  if (auto_pad)
    sc_test_node_set_string(&t, "auto_pad", auto_pad);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  yd[2] = out_size;
  want = sc_test_tensor_f32(3, yd, expected);
  assert_tensor_close(out, want, 0, 0);
  sc_tensor_free(out);
  sc_tensor_free(want);
  sc_test_node_free(&t);
}

static void test_conv_transpose_output_size_rules(void **state)
{
  static const float full[5] = {1, 1, 3, 2, 2};
  static const float padded[3] = {1, 3, 2};            /* pads 1 and 1 */
  static const float extended[6] = {1, 1, 3, 2, 2, 0}; /* one more, zero */
  static const float same_upper[4] = {1, 1, 3, 2};     /* 4 = 2 * 2, crop end */
  static const float same_lower[4] = {1, 3, 2, 2};     /* crop the beginning */
  int64_t pads[2] = {1, 1}, one[1] = {1}, six[1] = {6};
  (void)state;
  check_transpose_1d(NULL, 0, NULL, NULL, 5, full);
  check_transpose_1d("pads", 2, pads, NULL, 3, padded);
  check_transpose_1d("output_padding", 1, one, NULL, 6, extended);
  check_transpose_1d("output_shape", 1, six, NULL, 6, extended);
  check_transpose_1d(NULL, 0, NULL, "SAME_UPPER", 4, same_upper);
  check_transpose_1d(NULL, 0, NULL, "SAME_LOWER", 4, same_lower);
}

/* --- error paths ----------------------------------------------------- */

/* Builds Conv (or ConvTranspose) with x of dims xd and w of dims wd (and
 * a bias of bias_len values when >= 0), lets `setup` add attributes, and
 * checks preparing fails with `status` and a message naming the node and
 * containing `needle`. */
static void expect_failure(const char *op, int rank, const int64_t *xd,
                           int w_rank, const int64_t *wd, int64_t bias_len,
                           enum sc_dtype dtype,
                           void (*setup)(struct sc_test_node *t),
                           sc_status status, const char *needle)
{
  struct sc_tensor *inputs[3];
  struct sc_test_node t;
  int64_t bd[1];
  int n = 2;
  assert_int_equal(sc_tensor_create(dtype, rank, xd, &inputs[0], NULL), SC_OK);
  assert_int_equal(sc_tensor_create(dtype, w_rank, wd, &inputs[1], NULL),
                   SC_OK);
  if (bias_len >= 0) {
    bd[0] = bias_len;
    assert_int_equal(sc_tensor_create(dtype, 1, bd, &inputs[2], NULL), SC_OK);
    n = 3;
  }
  sc_test_node_init(&t, op, 11, n, inputs, SC_TEST_NODE_PARAMS_CONSTANT, 1);
  if (setup)
    setup(&t);
  sc_test_node_prepare_fails(&t, status, needle);
  sc_test_node_free(&t);
}

static void set_group_2(struct sc_test_node *t)
{
  assert_int_equal(sc_node_set_attr_int(t->node, "group", 2, NULL), SC_OK);
}

static void set_bad_auto_pad(struct sc_test_node *t)
{
  sc_test_node_set_string(t, "auto_pad", "SAME");
}

static void set_negative_pads(struct sc_test_node *t)
{
  static const int64_t pads[4] = {0, -1, 0, 0};
  sc_test_node_set_ints(t, "pads", 4, pads);
}

static void set_zero_stride(struct sc_test_node *t)
{
  static const int64_t strides[2] = {1, 0};
  sc_test_node_set_ints(t, "strides", 2, strides);
}

static void set_kernel_shape_3x3(struct sc_test_node *t)
{
  static const int64_t kernel[2] = {3, 3};
  sc_test_node_set_ints(t, "kernel_shape", 2, kernel);
}

static void set_three_strides(struct sc_test_node *t)
{
  static const int64_t strides[3] = {1, 1, 1};
  sc_test_node_set_ints(t, "strides", 3, strides);
}

static void set_output_padding_2(struct sc_test_node *t)
{
  static const int64_t adj[2] = {2, 0};
  sc_test_node_set_ints(t, "output_padding", 2, adj);
}

static void test_conv_errors_name_the_node(void **state)
{
  int64_t x3[4] = {1, 3, 8, 8}, x4[4] = {1, 4, 8, 8}, x2[4] = {1, 2, 3, 3};
  int64_t w_3x3[4] = {4, 3, 3, 3}, w_bad_c[4] = {4, 3, 3, 3};
  int64_t w_2x2[4] = {4, 4, 2, 2}, w_5x5[4] = {2, 2, 5, 5};
  int64_t x6d[6] = {1, 1, 4, 4, 4, 4}, w6d[6] = {1, 1, 2, 2, 2, 2};
  int64_t w_rank3[3] = {4, 4, 2};
  (void)state;
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_FLOAT, set_group_2,
                 SC_ERR_FORMAT, "group 2 does not divide");
  expect_failure("Conv", 4, x4, 4, w_bad_c, -1, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_FORMAT, "input channels per group");
  expect_failure("Conv", 4, x3, 4, w_3x3, 5, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_FORMAT, "bias B");
  expect_failure("Conv", 4, x4, 4, w_2x2, -1, SC_DTYPE_FLOAT,
                 set_kernel_shape_3x3, SC_ERR_FORMAT, "kernel_shape[0]");
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_FLOAT, set_bad_auto_pad,
                 SC_ERR_FORMAT, "auto_pad");
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_FLOAT, set_negative_pads,
                 SC_ERR_FORMAT, "'pads'");
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_FLOAT, set_zero_stride,
                 SC_ERR_FORMAT, "'strides'");
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_FLOAT, set_three_strides,
                 SC_ERR_FORMAT, "'strides' has 3 values");
  expect_failure("Conv", 4, x2, 4, w_5x5, -1, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_FORMAT, "does not fit");
  expect_failure("Conv", 4, x4, 3, w_rank3, -1, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_FORMAT, "rank");
  expect_failure("Conv", 6, x6d, 6, w6d, -1, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_UNSUPPORTED, "4 spatial dimensions");
  expect_failure("Conv", 4, x3, 4, w_3x3, -1, SC_DTYPE_DOUBLE, NULL,
                 SC_ERR_UNSUPPORTED, "float64");
  expect_failure("ConvTranspose", 4, x4, 4, w_2x2, -1, SC_DTYPE_FLOAT,
                 set_output_padding_2, SC_ERR_FORMAT, "output_padding[0]");
  expect_failure("ConvTranspose", 4, x3, 4, w_2x2, -1, SC_DTYPE_FLOAT, NULL,
                 SC_ERR_FORMAT, "input channels, expected C = 3");
}

/* --- com.microsoft.FusedConv -------------------------------------------- */

struct fused_case {
  const char *activation; /* NULL: no attribute */
  int n_params;
  float params[2];
};

static const struct fused_case fused_cases[] = {
    {NULL, 0, {0}},          {"Relu", 0, {0}},
    {"Tanh", 0, {0}},        {"Sigmoid", 0, {0}},
    {"Silu", 0, {0}},        {"LeakyRelu", 1, {0.5f}},
    {"Clip", 2, {-1.5f, 2}}, {"HardSigmoid", 2, {0.25f, 0.5f}},
};

/* Y from X and Z (fed) with W [m, c, k, k], B [m] and pads (k - 1) / 2:
 * one FusedConv node, or the operators it replaces (Conv, Add, the
 * activation's own nodes). */
static struct sc_graph *fused_graph(const struct fused_case *fc, int with_z,
                                    int fused, struct sc_tensor *w,
                                    struct sc_tensor *b, const int64_t *x_dims,
                                    const int64_t *y_dims)
{
  const int64_t p = (w->dims[2] - 1) / 2, pads[4] = {p, p, p, p};
  const char *ins[4] = {"X", "W", "B", "Z"}, *y = "Y";
  struct sc_graph *g = NULL;
  struct sc_node *n = NULL;
  const char *act = fc->activation;
  const char *v;
  g = sc_test_graph_new(13);
  sc_graph_add_input(g, "X", SC_DTYPE_FLOAT, 4, x_dims, NULL);
  if (with_z)
    sc_graph_add_input(g, "Z", SC_DTYPE_FLOAT, 4, y_dims, NULL);
  sc_graph_add_initializer(g, "W", w, NULL);
  sc_graph_add_initializer(g, "B", b, NULL);
  if (fused) {
    assert_int_equal(sc_graph_add_node(g, "fused", "FusedConv", "com.microsoft",
                                       with_z ? 4 : 3, ins, 1, &y, &n, NULL),
                     SC_OK);
    sc_node_set_attr_ints(n, "pads", 4, pads, NULL);
    if (act)
      sc_node_set_attr_string(n, "activation", act, strlen(act), NULL);
    if (fc->n_params)
      sc_node_set_attr_floats(n, "activation_params", fc->n_params, fc->params,
                              NULL);
  } else {
    assert_int_equal(sc_graph_add_node(g, "conv", "Conv", "", 3, ins, 1,
                                       (const char *const[]){"c"}, &n, NULL),
                     SC_OK);
    sc_node_set_attr_ints(n, "pads", 4, pads, NULL);
    v = "c";
    if (with_z) {
      sc_test_graph_node(g, "Add", "c", "Z", "s");
      v = "s";
    }
    if (!act) {
      sc_test_graph_node(g, "Identity", v, NULL, y);
    } else if (strcmp(act, "Silu") == 0) {
      sc_test_graph_node(g, "Sigmoid", v, NULL, "sig");
      sc_test_graph_node(g, "Mul", v, "sig", y);
    } else if (strcmp(act, "Clip") == 0) {
      int64_t none[1] = {0};
      sc_graph_add_initializer(g, "lo", sc_test_tensor_f32(0, none, fc->params),
                               NULL);
      sc_graph_add_initializer(
          g, "hi", sc_test_tensor_f32(0, none, fc->params + 1), NULL);
      assert_int_equal(sc_graph_add_node(g, "clip", "Clip", "", 3,
                                         (const char *const[]){v, "lo", "hi"},
                                         1, &y, &n, NULL),
                       SC_OK);
    } else {
      n = sc_test_graph_node(g, act, v, NULL, y);
      if (fc->n_params > 0)
        sc_node_set_attr_float(n, "alpha", fc->params[0], NULL);
      if (fc->n_params > 1)
        sc_node_set_attr_float(n, "beta", fc->params[1], NULL);
    }
  }
  sc_graph_add_output(g, "Y", NULL);
  return g;
}

/* FusedConv is Conv, then Add of Z, then the activation, each rounded as
 * that operator rounds: bit for bit the output of the unfused graph, for
 * every activation, with and without Z, on two threads. */
static void test_fused_conv_matches_conv_add_activation(void **state)
{
  int64_t x_dims[4] = {1, 4, 9, 7}, y_dims[4] = {1, 5, 9, 7};
  int64_t w_dims[4] = {5, 4, 3, 3}, b_dims[1] = {5};
  float *xv = random_array(4 * 9 * 7), *zv = random_array(5 * 9 * 7);
  float *wv = random_array(5 * 4 * 3 * 3), *bv = random_array(5);
  struct sc_tensor *x = sc_test_tensor_f32(4, x_dims, xv);
  struct sc_tensor *z = sc_test_tensor_f32(4, y_dims, zv);
  struct sc_threadpool *threads = NULL;
  size_t k;
  int with_z, i;
  (void)state;
  for (i = 0; i < 4 * 9 * 7; i++) /* a range that reaches every bound */
    ((float *)x->data)[i] *= 4.0f;
  assert_int_equal(sc_threadpool_create(2, &threads, NULL), SC_OK);
  for (k = 0; k < sizeof fused_cases / sizeof fused_cases[0]; k++)
    for (with_z = 0; with_z < 2; with_z++) {
      struct sc_feed feeds[2] = {{"X", x}, {"Z", z}};
      struct sc_graph *g[2];
      char what[64];
      int fused;
      for (fused = 0; fused < 2; fused++)
        g[fused] = fused_graph(
            &fused_cases[k], with_z, fused, sc_test_tensor_f32(4, w_dims, wv),
            sc_test_tensor_f32(1, b_dims, bv), x_dims, y_dims);
      snprintf(what, sizeof what, "FusedConv, activation %s, Z %d",
               fused_cases[k].activation ? fused_cases[k].activation : "none",
               with_z);
      sc_test_assert_graphs_agree(g[1], g[0], with_z ? 2 : 1, feeds, threads,
                                  what);
    }
  sc_threadpool_free(threads);
  sc_tensor_free(x);
  sc_tensor_free(z);
  free(xv);
  free(zv);
  free(wv);
  free(bv);
}

/* Worked out by hand: a 1x1 convolution 2x + 1 of X = [-2, -0.5, 0.5, 3]
 * gives [-3, 0, 2, 7]; + Z = [1, -1, 0.5, -10] gives s = [-2, -1, 2.5,
 * -3]; then each activation of s. Sigmoid, Tanh and Silu from their
 * definitions in double, rounded once to float (the operators compute in
 * float or double and round once; 2 ulp allowed). */
static void test_fused_conv_hand_computed(void **state)
{
  static const float xs[4] = {-2, -0.5f, 0.5f, 3}, zs[4] = {1, -1, 0.5f, -10};
  static const float w1[1] = {2}, b1[1] = {1};
  static const double s[4] = {-2, -1, 2.5, -3};
  static const struct {
    struct fused_case fc;
    double y[4];
  } cases[] = {
      {{NULL, 0, {0}}, {-2, -1, 2.5, -3}},
      {{"Relu", 0, {0}}, {0, 0, 2.5, 0}},
      {{"LeakyRelu", 1, {0.5f}}, {-1, -0.5, 2.5, -1.5}},
      {{"Clip", 2, {-1.5f, 2}}, {-1.5, -1, 2, -1.5}},
      /* 0.25 s + 0.5 = [0, 0.25, 1.125, -0.25], clamped to [0, 1] */
      {{"HardSigmoid", 2, {0.25f, 0.5f}}, {0, 0.25, 1, 0}},
      {{"Sigmoid", 0, {0}}, {0}},
      {{"Tanh", 0, {0}}, {0}},
      {{"Silu", 0, {0}}, {0}},
  };
  int64_t x_dims[4] = {1, 1, 2, 2}, w_dims[4] = {1, 1, 1, 1}, b_dims[1] = {1};
  size_t k;
  int i;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const struct fused_case *fc = &cases[k].fc;
    struct sc_tensor *x = sc_test_tensor_f32(4, x_dims, xs);
    struct sc_tensor *z = sc_test_tensor_f32(4, x_dims, zs);
    struct sc_feed feeds[2] = {{"X", x}, {"Z", z}};
    struct sc_graph *g =
        fused_graph(fc, 1, 1, sc_test_tensor_f32(4, w_dims, w1),
                    sc_test_tensor_f32(1, b_dims, b1), x_dims, x_dims);
    struct sc_tensor *out[1];
    out[0] = sc_test_graph_output(g, 2, feeds, NULL);
    for (i = 0; i < 4; i++) {
      double want = cases[k].y[i], got = ((float *)out[0]->data)[i];
      const char *a = fc->activation ? fc->activation : "";
      if (strcmp(a, "Sigmoid") == 0)
        want = 1 / (1 + exp(-s[i]));
      else if (strcmp(a, "Tanh") == 0)
        want = tanh(s[i]);
      else if (strcmp(a, "Silu") == 0)
        want = s[i] / (1 + exp(-s[i]));
      want = (float)want;
      if (fabs(got - want) >
          2 * (nextafterf((float)fabs(want), INFINITY) - (float)fabs(want)))
        fail_msg("%s element %d: %.9g, expected %.9g", a, i, got, want);
    }
    sc_tensor_free(out[0]);
    sc_graph_free(g);
    sc_tensor_free(x);
    sc_tensor_free(z);
  }
}

/* An activation ONNX Runtime does not fuse is unsupported (exit 4), a
 * wrong parameter count or a Z of another shape malformed, each naming
 * the node. */
static void test_fused_conv_errors_name_the_node(void **state)
{
  static const struct {
    struct fused_case fc;
    int z_channels;
    sc_status status;
    const char *needle;
  } cases[] = {
      {{"Gelu", 0, {0}}, 2, SC_ERR_UNSUPPORTED, "activation 'Gelu'"},
      {{"LeakyRelu", 0, {0}}, 2, SC_ERR_FORMAT, "takes 1 parameter"},
      {{"Clip", 1, {0}}, 2, SC_ERR_FORMAT, "takes 2 parameters"},
      {{"LeakyRelu", 1, {INFINITY}}, 2, SC_ERR_FORMAT, "finite"},
      {{"Relu", 0, {0}}, 3, SC_ERR_FORMAT, "input Z"},
  };
  int64_t x_dims[4] = {1, 2, 3, 3}, w_dims[4] = {2, 2, 3, 3}, b_dims[1] = {2};
  float wv[36] = {0}, bv[2] = {0};
  size_t k;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    int64_t z_dims[4] = {1, cases[k].z_channels, 3, 3};
    struct sc_graph *g = NULL;
    struct sc_node *n = NULL;
    const char *ins[4] = {"X", "W", "B", "Z"}, *y = "Y";
    struct sc_error err;
    sc_status st;
    g = sc_test_graph_new(13);
    sc_graph_add_input(g, "X", SC_DTYPE_FLOAT, 4, x_dims, NULL);
    sc_graph_add_input(g, "Z", SC_DTYPE_FLOAT, 4, z_dims, NULL);
    sc_graph_add_initializer(g, "W", sc_test_tensor_f32(4, w_dims, wv), NULL);
    sc_graph_add_initializer(g, "B", sc_test_tensor_f32(1, b_dims, bv), NULL);
    assert_int_equal(sc_graph_add_node(g, "fused_node", "FusedConv",
                                       "com.microsoft", 4, ins, 1, &y, &n,
                                       NULL),
                     SC_OK);
    sc_node_set_attr_ints(n, "pads", 4, (const int64_t[]){1, 1, 1, 1}, NULL);
    sc_node_set_attr_string(n, "activation", cases[k].fc.activation,
                            strlen(cases[k].fc.activation), NULL);
    if (cases[k].fc.n_params)
      sc_node_set_attr_floats(n, "activation_params", cases[k].fc.n_params,
                              cases[k].fc.params, NULL);
    sc_graph_add_output(g, "Y", NULL);
    st = sc_graph_prepare(g, &err);
    if (st != cases[k].status || !strstr(err.message, "fused_node") ||
        !strstr(err.message, cases[k].needle))
      fail_msg("case %zu: status %d, \"%s\"", k, (int)st, err.message);
    sc_graph_free(g);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_im2col_matches_reference_2d),
      cmocka_unit_test(test_im2col_matches_reference_1d_and_3d),
      cmocka_unit_test(test_packed_matches_reference),
      cmocka_unit_test(test_packed_direct_matches_filled),
      cmocka_unit_test(test_fused_relu_matches_relu_of_output),
      cmocka_unit_test(test_packed_weights_reused),
      cmocka_unit_test(test_winograd_matches_reference),
      cmocka_unit_test(test_winograd_weights_reused),
      cmocka_unit_test(test_pointwise_matches_reference),
      cmocka_unit_test(test_depthwise_matches_reference),
      cmocka_unit_test(test_conv_transpose_matches_reference),
      cmocka_unit_test(test_paths_bit_identical_across_thread_counts),
      cmocka_unit_test(test_im2col_scratch_is_bounded),
      cmocka_unit_test(test_auto_path_choice),
      cmocka_unit_test(test_forward_rejects_a_path_that_does_not_apply),
      cmocka_unit_test(test_conv_auto_pad_same_upper_and_lower),
      cmocka_unit_test(test_conv_hand_computed_float_and_float16),
      cmocka_unit_test(test_conv_huge_stride_with_one_output),
      cmocka_unit_test(test_conv_node_constant_and_fed_weights),
      cmocka_unit_test(test_conv_float16_winograd),
      cmocka_unit_test(test_conv_transpose_output_size_rules),
      cmocka_unit_test(test_conv_errors_name_the_node),
      cmocka_unit_test(test_fused_conv_matches_conv_add_activation),
      cmocka_unit_test(test_fused_conv_hand_computed),
      cmocka_unit_test(test_fused_conv_errors_name_the_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
