/* Resampling kernels: Resize (10, 11, 13, 18), Upsample (7, 9), GridSample
 * and RoiAlign.
 *
 * - The fast paths of Resize (nearest row copies, float bilinear rows) are
 *   run against the reference path (sc_resize_force_reference) on the same
 *   inputs: odd sizes, up- and downscaling, every coordinate mode and
 *   nearest mode, 1 and 3 threads (fast paths must be bit-identical across
 *   thread counts).
 * - Golden values beyond the ONNX backend cases come from the script below
 *   (Debian's /usr/bin/python3: onnx 1.12's numpy reference of Resize,
 *   Pillow 9.4 for antialiasing, OpenCV 4.6 remap for GridSample), or are
 *   computed by hand in the test that uses them.
 * - Every error path asserts the status and that the message names the
 *   node.
 *
 * Generator (prints the arrays between "generated" markers):
 *
 *   import numpy as np
 *   from PIL import Image
 *   from onnx.backend.test.case.node.resize import (interpolate_nd,
 *       interpolate_nd_with_x, linear_coeffs, cubic_coeffs, nearest_coeffs)
 *
 *   def c(name, a):
 *       a = np.asarray(a, dtype=np.float64).ravel()
 *       text = ["%.8g" % v for v in a]
 *       text = [t if "." in t or "e" in t else t + ".0" for t in text]
 *       print("static const float %s[%d] = {%s};" % (name, a.size,
 *             ", ".join(t + "f" for t in text)))
 *
 *   # tf_crop_and_resize with extrapolation_value (an ONNX backend case)
 *   x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
 *   roi = np.array([0, 0, 0.4, 0.6, 1, 1, 1.2, 1.7], dtype=np.float32)
 *   c("crop_expected", interpolate_nd(x, linear_coeffs,
 *     output_size=[1, 1, 3, 3], roi=roi,
 *     coordinate_transformation_mode="tf_crop_and_resize",
 *     extrapolation_value=10.0))
 *
 *   # antialias (opset 18) against Pillow on float images: half_pixel,
 *   # exclude_outside=1; Pillow's bicubic uses a = -0.5
 *   img = ((np.arange(48) * 7) % 23).astype(np.float32).reshape(6, 8)
 *   c("aa_input", img)
 *   c("aa_linear_expected", np.asarray(Image.fromarray(img, "F").resize(
 *     (3, 4), Image.BILINEAR)))
 *   c("aa_cubic_expected", np.asarray(Image.fromarray(img, "F").resize(
 *     (5, 2), Image.BICUBIC)))
 *
 *   # keep_aspect_ratio_policy on axes [2, 3]: sizes [3, 3] of a 4x6 input
 *   x = np.arange(24, dtype=np.float32).reshape(1, 1, 4, 6)
 *   def resize_at(x, scales, out_shape, coeffs):
 *       y = np.zeros(out_shape)
 *       for idx in np.ndindex(*out_shape):
 *           y[idx] = interpolate_nd_with_x(x, 4, scales, idx, coeffs)
 *       return y
 *   c("not_larger_expected", resize_at(x, [1, 1, 0.5, 0.5], (1, 1, 2, 3),
 *     linear_coeffs))
 *   c("not_smaller_expected", resize_at(x, [1, 1, 0.75, 0.75], (1, 1, 3, 5),
 *     linear_coeffs))
 *
 *   # cubic over three axes of a 5-D tensor
 *   x = ((np.arange(60) * 5) % 13).astype(np.float32).reshape(1, 1, 3, 4, 5)
 *   c("cubic3d_input", x)
 *   c("cubic3d_expected", interpolate_nd(x, cubic_coeffs,
 *     scale_factors=np.array([1, 1, 1.5, 0.75, 1.4], dtype=np.float32)))
 *
 *   # linear on uint8 (the reference truncates with astype)
 *   x = np.array([[10, 200, 37], [255, 0, 90]], dtype=np.uint8)
 *   c("u8_expected", interpolate_nd(x, linear_coeffs,
 *     scale_factors=np.array([1.5, 2.0], dtype=np.float32)).astype(np.uint8))
 *
 *   # GridSample against OpenCV's remap (cubic a = -0.75; per-tap borders,
 *   # which is PyTorch's bicubic padding and, for zeros / border, its bilinear
 *   # padding). Pixel coordinates are multiples of 1/8 so that remap's 1/32
 *   # interpolation tables are exact; grids are chosen so that unnormalizing
 *   # them is exact in float.
 *   import cv2
 *   def remap(x, px, py, interp, border):
 *       return np.stack([cv2.remap(ch, px, py, interp, borderMode=border,
 *                                  borderValue=0.0) for ch in x[0]])[None]
 *   xa = np.stack([(np.arange(15) * 7) % 11, (np.arange(15) * 3) % 7 - 3]
 *                 ).astype(np.float32).reshape(1, 2, 3, 5)
 *   px = np.array([-1.75, -0.5, 0.125, 1.375, 2.5, 3.875, 4.25, 5.5],
 *                 dtype=np.float32).reshape(2, 4)
 *   py = np.array([-1.25, 0.375, 1.5, 2.0, 2.625, 3.25, -0.125, 1.125],
 *                 dtype=np.float32).reshape(2, 4)
 *   c("grid_a_input", xa)
 *   # align_corners=1
 *   c("grid_a_grid", np.stack([px / 2 - 1, py - 1], -1))
 *   for name, interp in (("linear", cv2.INTER_LINEAR),
 *                        ("cubic", cv2.INTER_CUBIC)):
 *       for pad, border in (("zeros", cv2.BORDER_CONSTANT),
 *                           ("border", cv2.BORDER_REPLICATE),
 *                           ("reflection", cv2.BORDER_REFLECT_101)):
 *           if name == "linear" and pad == "reflection":
 *               continue
 *           c("grid_a_%s_%s" % (name, pad), remap(xa, px, py, interp, border))
 *   xb = np.stack([(np.arange(8) * 5) % 9, (np.arange(8) * 3) % 4]
 *                 ).astype(np.float32).reshape(1, 2, 2, 4)
 *   c("grid_b_input", xb)
 *   # align_corners=0
 *   c("grid_b_grid", np.stack([(px - 1.5) / 2, py - 0.5], -1))
 *   for pad, border in (("zeros", cv2.BORDER_CONSTANT),
 *                       ("border", cv2.BORDER_REPLICATE),
 *                       ("reflection", cv2.BORDER_REFLECT)):
 *       c("grid_b_cubic_%s" % pad, remap(xb, px, py, cv2.INTER_CUBIC, border))
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/resize.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

/* --- generated by the script above --- */
static const float crop_expected[9] = {
    7.6000001f, 10.0f, 10.0f, 12.400001f, 10.0f, 10.0f, 10.0f, 10.0f, 10.0f};
static const float aa_input[48] = {
    0.0f, 7.0f,  14.0f, 21.0f, 5.0f, 12.0f, 19.0f, 3.0f, 10.0f, 17.0f,
    1.0f, 8.0f,  15.0f, 22.0f, 6.0f, 13.0f, 20.0f, 4.0f, 11.0f, 18.0f,
    2.0f, 9.0f,  16.0f, 0.0f,  7.0f, 14.0f, 21.0f, 5.0f, 12.0f, 19.0f,
    3.0f, 10.0f, 17.0f, 1.0f,  8.0f, 15.0f, 22.0f, 6.0f, 13.0f, 20.0f,
    4.0f, 11.0f, 18.0f, 2.0f,  9.0f, 16.0f, 0.0f,  7.0f};
static const float aa_linear_expected[12] = {
    8.7631578f, 12.4375f,   11.950658f, 11.25731f,  10.759259f, 10.01462f,
    11.24269f,  12.669312f, 10.941521f, 9.3486843f, 11.127975f, 9.3585529f};
static const float aa_cubic_expected[10] = {
    9.9919205f, 10.540981f, 11.354746f, 13.586185f, 8.6892738f,
    9.777607f,  11.603708f, 11.674207f, 11.305864f, 9.5694218f};
static const float not_larger_expected[6] = {3.5f,  5.5f,  7.5f,
                                             15.5f, 17.5f, 19.5f};
static const float not_smaller_expected[15] = {
    1.1666667f, 2.5f,  3.8333333f, 5.1666667f, 6.0f,
    9.1666667f, 10.5f, 11.833333f, 13.166667f, 14.0f,
    17.166667f, 18.5f, 19.833333f, 21.166667f, 22.0f};
static const float cubic3d_input[60] = {
    0.0f,  5.0f,  10.0f, 2.0f,  7.0f,  12.0f, 4.0f,  9.0f,  1.0f,  6.0f,
    11.0f, 3.0f,  8.0f,  0.0f,  5.0f,  10.0f, 2.0f,  7.0f,  12.0f, 4.0f,
    9.0f,  1.0f,  6.0f,  11.0f, 3.0f,  8.0f,  0.0f,  5.0f,  10.0f, 2.0f,
    7.0f,  12.0f, 4.0f,  9.0f,  1.0f,  6.0f,  11.0f, 3.0f,  8.0f,  0.0f,
    5.0f,  10.0f, 2.0f,  7.0f,  12.0f, 4.0f,  9.0f,  1.0f,  6.0f,  11.0f,
    3.0f,  8.0f,  0.0f,  5.0f,  10.0f, 2.0f,  7.0f,  12.0f, 4.0f,  9.0f};
static const float cubic3d_expected[72] = {
    0.7959463f, 2.9880982f, 7.4044111f, 10.221065f,    3.0489044f, 2.707389f,
    13.950184f, 6.8505424f, 4.1270952f, 8.8472221f,    0.5807165f, 0.42605996f,
    11.19349f,  4.5206244f, 1.817336f,  7.4733799f,    10.583259f, 8.2503212f,
    5.9797069f, 2.8186258f, 3.2239685f, 8.2488427f,    7.7196718f, 5.4500086f,
    10.954218f, 6.7618325f, 4.6129724f, 6.9892578f,    5.6911199f, 3.6466721f,
    8.6086846f, 7.9896984f, 6.0557638f, 4.4573207f,    9.0085508f, 6.6260943f,
    9.4947734f, 4.3245493f, 1.4209252f, 4.9525466f,    10.404439f, 8.6751627f,
    6.4648094f, 6.8655332f, 5.469843f,  3.4037906f,    8.7887976f, 7.3921613f,
    4.7056865f, 9.6966811f, 10.040584f, 3.8028334f,    6.7761959f, 5.0975705f,
    5.3431297f, 7.8969965f, 6.9565219f, 2.3784722f,    5.64071f,   9.3737247f,
    3.6527691f, 7.2840053f, 6.1989709f, -0.039207238f, 3.9163744f, 8.1239359f,
    2.2165768f, 5.549926f,  9.001264f,  9.1670738f,    5.5681249f, 5.4927085f};
static const float u8_expected[18] = {
    10.0f, 57.0f, 152.0f, 159.0f, 77.0f,  37.0f, 132.0f, 124.0f, 108.0f,
    90.0f, 72.0f, 63.0f,  255.0f, 191.0f, 63.0f, 22.0f,  67.0f,  90.0f};
static const float grid_a_input[30] = {
    0.0f,  7.0f, 3.0f,  10.0f, 6.0f,  2.0f,  9.0f, 5.0f,  1.0f,  8.0f,
    4.0f,  0.0f, 7.0f,  3.0f,  10.0f, -3.0f, 0.0f, 3.0f,  -1.0f, 2.0f,
    -2.0f, 1.0f, -3.0f, 0.0f,  3.0f,  -1.0f, 2.0f, -2.0f, 1.0f,  -3.0f};
static const float grid_a_grid[16] = {
    -1.875f, -2.25f, -1.25f,  -0.625f, -0.9375f, 0.5f,    -0.3125f, 1.0f,
    0.25f,   1.625f, 0.9375f, 2.25f,   1.125f,   -1.125f, 1.75f,    0.125f};
static const float grid_a_linear_zeros[16] = {
    0.0f, 0.375f,   3.1875f, 2.625f, 1.875f,   0.0f, 3.9375f, 0.0f,
    0.0f, -1.3125f, -1.125f, 0.5f,   -0.1875f, 0.0f, 1.3125f, 0.0f};
static const float grid_a_linear_border[16] = {
    0.0f,  0.75f,   3.1875f, 2.625f, 5.0f,  9.125f, 6.0f, 8.25f,
    -3.0f, -2.625f, -1.125f, 0.5f,   -0.5f, -2.5f,  2.0f, 2.25f};
static const float grid_a_cubic_zeros[16] = {
    0.0f,          -0.50189209f, 3.9136505f,  2.3466797f,
    2.0015717f,    -1.0489197f,  3.5836201f,  -0.79266357f,
    -0.011123657f, -1.8297272f,  -1.2132111f, 0.69042969f,
    -0.070999146f, 0.29179001f,  1.6130676f,  -0.22631836f};
static const float grid_a_cubic_border[16] = {
    0.0f,         -0.13536072f, 3.3288574f,  2.3466797f,
    5.1998138f,   9.2275391f,   5.3512974f,  8.3525391f,
    -3.0f,        -2.9868164f,  -1.0450287f, 0.69042969f,
    -0.39082336f, -2.5512695f,  2.2446289f,  2.4448242f};
static const float grid_a_cubic_reflection[16] = {
    6.6774902f,  3.9504395f, 3.3643799f, 2.3466797f,  2.7630615f,  7.1193085f,
    6.719162f,   1.991333f,  -2.58638f,  -1.7135468f, -1.1666107f, 0.69042969f,
    -1.7969971f, 3.2607727f, 1.5896912f, -2.192749f};
static const float grid_b_input[16] = {0.0f, 5.0f, 1.0f, 6.0f, 2.0f, 7.0f,
                                       3.0f, 8.0f, 0.0f, 3.0f, 2.0f, 1.0f,
                                       0.0f, 3.0f, 2.0f, 1.0f};
static const float grid_b_grid[16] = {
    -1.625f, -1.75f, -1.0f,   -0.125f, -0.6875f, 1.0f,    -0.0625f, 1.5f,
    0.5f,    2.125f, 1.1875f, 2.75f,   1.375f,   -0.625f, 2.0f,     0.625f};
static const float grid_b_cubic_zeros[16] = {
    0.0f,          -0.12487793f, 1.5544739f,   0.0f,         -0.38726807f, 0.0f,
    -0.551548f,    0.0f,         0.0f,         -0.33068848f, 0.16186523f,  0.0f,
    -0.098876953f, 0.0f,         -0.09444809f, 0.0f};
static const float grid_b_cubic_border[16] = {
    0.0f,       0.25195312f, 2.7509766f, 5.7783203f, 5.125f,      8.0512695f,
    5.8564453f, 8.1435547f,  0.0f,       -0.28125f,  0.32373047f, 3.0351562f,
    1.40625f,   0.98974609f, 1.0f,       1.0f};
static const float grid_b_cubic_reflection[16] = {
    4.7421875f, -0.21679688f, 2.9384766f, 5.7783203f, 3.8457031f,  6.1289062f,
    4.5625f,    5.1640625f,   2.4257812f, -0.5625f,   0.32373047f, 3.0351562f,
    1.40625f,   0.91796875f,  1.1914062f, 2.875f};
/* --- end of generated values --- */

/* --- graph helpers --------------------------------------------------- */

#define NODE_NAME "node_under_test"

static struct sc_graph *graph_new(int64_t opset)
{
  struct sc_graph *g = NULL;
  assert_int_equal(sc_graph_create(&g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(g, "", opset, NULL), SC_OK);
  return g;
}

static void graph_input(struct sc_graph *g, const char *name,
                        enum sc_dtype dtype, int rank, const int64_t *dims)
{
  assert_int_equal(sc_graph_add_input(g, name, dtype, rank, dims, NULL), SC_OK);
}

/* A constant input; takes ownership of t. */
static void graph_const(struct sc_graph *g, const char *name,
                        struct sc_tensor *t)
{
  assert_int_equal(sc_graph_add_initializer(g, name, t, NULL), SC_OK);
}

static struct sc_tensor *ints(int n, const double *v)
{
  int64_t dims[1];
  dims[0] = n;
  return sc_test_tensor(SC_DTYPE_INT64, 1, dims, v);
}

static struct sc_tensor *floats(int n, const float *v)
{
  int64_t dims[1];
  dims[0] = n;
  return sc_test_tensor_f32(1, dims, v);
}

/* Adds the node under test with outputs "y" (and "y1", "y2"), all graph
 * outputs. Empty input names are omitted inputs. */
static struct sc_node *graph_node(struct sc_graph *g, const char *op,
                                  int n_inputs, const char *const *inputs,
                                  int n_outputs)
{
  static const char *const outputs[3] = {"y", "y1", "y2"};
  struct sc_node *node = NULL;
  int i;
  assert_int_equal(sc_graph_add_node(g, NODE_NAME, op, "", n_inputs, inputs,
                                     n_outputs, outputs, &node, NULL),
                   SC_OK);
  for (i = 0; i < n_outputs; i++)
    assert_int_equal(sc_graph_add_output(g, outputs[i], NULL), SC_OK);
  return node;
}

/* Prepares and runs g feeding x to the input "x" (if x) on `threads`
 * threads; returns output 0 (caller frees). */
static struct sc_tensor *graph_run(struct sc_graph *g,
                                   const struct sc_tensor *x, int threads)
{
  struct sc_tensor *out[3] = {NULL, NULL, NULL};
  struct sc_threadpool *pool = NULL;
  struct sc_run_options opt;
  struct sc_feed feed;
  struct sc_error err;
  int i;
  feed.name = "x";
  feed.tensor = x;
  memset(&opt, 0, sizeof opt);
  if (threads > 1)
    assert_int_equal(sc_threadpool_create(threads, &pool, NULL), SC_OK);
  opt.threads = pool;
  if (sc_graph_prepare(g, &err) != SC_OK)
    fail_msg("prepare: %s", err.message);
  if (sc_graph_run(g, x ? 1 : 0, &feed, out, &opt, &err) != SC_OK)
    fail_msg("run: %s", err.message);
  sc_threadpool_free(pool);
  for (i = 1; i < g->n_outputs && i < 3; i++)
    sc_tensor_free(out[i]);
  return out[0];
}

/* Asserts that preparing (or, when prepare succeeds, running with x) fails
 * with `status` and a message naming the node and containing `what`. */
static void expect_failure(struct sc_graph *g, const struct sc_tensor *x,
                           sc_status status, const char *what)
{
  struct sc_error err;
  struct sc_feed feed;
  sc_status st;
  feed.name = "x";
  feed.tensor = x;
  st = sc_graph_prepare(g, &err);
  if (st == SC_OK)
    st = sc_graph_run(g, x ? 1 : 0, &feed, NULL, NULL, &err);
  assert_int_equal(st, status);
  if (!strstr(err.message, NODE_NAME) || !strstr(err.message, what))
    fail_msg("message '%s' should name '%s' and say '%s'", err.message,
             NODE_NAME, what);
}

static void expect_values(const struct sc_tensor *actual, int rank,
                          const int64_t *dims, const float *values, double atol)
{
  struct sc_tensor *expected = sc_test_tensor_f32(rank, dims, values);
  assert_tensor_close(actual, expected, atol, 1e-6);
  sc_tensor_free(expected);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static struct sc_tensor *random_tensor(int rank, const int64_t *dims,
                                       unsigned seed)
{
  struct sc_tensor *t = NULL;
  float *v;
  int64_t i;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, rank, dims, &t, NULL),
                   SC_OK);
  v = t->data;
  for (i = 0; i < t->n_elements; i++) {
    seed = seed * 1103515245u + 12345u;
    v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
  return t;
}

static int bitwise_equal(const struct sc_tensor *a, const struct sc_tensor *b)
{
  return sc_tensor_same_shape(a, b) && a->dtype == b->dtype &&
         memcmp(a->data, b->data, sc_tensor_size(a)) == 0;
}

/* --- fast paths against the reference path --------------------------- */

struct resize_case {
  const char *mode, *coord, *nearest;
  int64_t in[4], out[4];
};

/* A Resize-13 graph with X fed as "x" and `sizes` (or, with roi, a
 * tf_crop_and_resize roi) constant. */
static struct sc_graph *resize13_graph(const struct resize_case *c)
{
  static const char *const ins[4] = {"x", "roi", "", "sizes"};
  static const float roi[8] = {0, 0, -0.2f, 0.1f, 1, 1, 0.9f, 1.3f};
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  double sizes[4];
  int i, crop = strcmp(c->coord, "tf_crop_and_resize") == 0;
  for (i = 0; i < 4; i++)
    sizes[i] = (double)c->out[i];
  graph_input(g, "x", SC_DTYPE_FLOAT, 4, c->in);
  graph_const(g, "roi", floats(crop ? 8 : 0, roi));
  graph_const(g, "sizes", ints(4, sizes));
  node = graph_node(g, "Resize", 4, ins, 1);
  assert_int_equal(
      sc_node_set_attr_string(node, "mode", c->mode, strlen(c->mode), NULL),
      SC_OK);
  assert_int_equal(sc_node_set_attr_string(node,
                                           "coordinate_transformation_mode",
                                           c->coord, strlen(c->coord), NULL),
                   SC_OK);
  if (crop)
    assert_int_equal(
        sc_node_set_attr_float(node, "extrapolation_value", 7.5f, NULL), SC_OK);
  if (c->nearest)
    assert_int_equal(sc_node_set_attr_string(node, "nearest_mode", c->nearest,
                                             strlen(c->nearest), NULL),
                     SC_OK);
  return g;
}

/* Runs a case on the fast path with 1 and 3 threads and on the reference
 * path; nearest must agree bit for bit, linear within float rounding. */
static void check_fast_against_reference(const struct resize_case *c,
                                         unsigned seed)
{
  struct sc_tensor *x = random_tensor(4, c->in, seed);
  struct sc_graph *g = resize13_graph(c);
  struct sc_tensor *fast1, *fast3, *reference;
  fast1 = graph_run(g, x, 1);
  fast3 = graph_run(g, x, 3);
  sc_resize_force_reference(1);
  reference = graph_run(g, x, 1);
  sc_resize_force_reference(0);
  if (!bitwise_equal(fast1, fast3))
    fail_msg("%s/%s: 1 and 3 threads differ", c->mode, c->coord);
  if (strcmp(c->mode, "nearest") == 0) {
    if (!bitwise_equal(fast1, reference))
      fail_msg("%s/%s/%s: fast path differs from reference", c->mode, c->coord,
               c->nearest ? c->nearest : "");
  } else
    assert_tensor_close(fast1, reference, 2e-6, 1e-5);
  sc_tensor_free(fast1);
  sc_tensor_free(fast3);
  sc_tensor_free(reference);
  sc_tensor_free(x);
  sc_graph_free(g);
}

static const char *const coord_modes[] = {
    "half_pixel", "pytorch_half_pixel",   "align_corners",
    "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
static const char *const nearest_modes[] = {
    "round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};

/* in -> out shapes: odd sizes, 2x up, down, mixed, and channel resizing
 * (which the bilinear fast path must leave to the reference path). */
static const int64_t shapes[][2][4] = {
    {{2, 3, 7, 9}, {2, 3, 14, 18}}, {{2, 3, 7, 9}, {2, 3, 3, 4}},
    {{1, 2, 5, 8}, {1, 2, 11, 3}},  {{1, 1, 1, 5}, {1, 1, 4, 1}},
    {{2, 3, 6, 6}, {2, 5, 6, 6}},   {{1, 4, 33, 17}, {1, 4, 64, 31}}};

static void test_resize_nearest_fast_path_matches_reference(void **state)
{
  size_t s, m, n;
  (void)state;
  for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (m = 0; m < sizeof coord_modes / sizeof coord_modes[0]; m++)
      for (n = 0; n < sizeof nearest_modes / sizeof nearest_modes[0]; n++) {
        struct resize_case c;
        c.mode = "nearest";
        c.coord = coord_modes[m];
        c.nearest = nearest_modes[n];
        memcpy(c.in, shapes[s][0], sizeof c.in);
        memcpy(c.out, shapes[s][1], sizeof c.out);
        check_fast_against_reference(&c, (unsigned)(s * 31 + m * 7 + n));
      }
}

static void test_resize_linear_fast_path_matches_reference(void **state)
{
  size_t s, m;
  (void)state;
  for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    for (m = 0; m < sizeof coord_modes / sizeof coord_modes[0]; m++) {
      struct resize_case c;
      c.mode = "linear";
      c.coord = coord_modes[m];
      c.nearest = NULL;
      memcpy(c.in, shapes[s][0], sizeof c.in);
      memcpy(c.out, shapes[s][1], sizeof c.out);
      check_fast_against_reference(&c, (unsigned)(s * 17 + m));
    }
}

/* Cubic has no fast path: its threaded passes must still be bit-identical
 * for 1 and 3 threads. */
static void test_resize_cubic_identical_across_threads(void **state)
{
  struct resize_case c = {
      "cubic", "half_pixel", NULL, {2, 3, 9, 7}, {2, 3, 20, 5}};
  struct sc_tensor *x = random_tensor(4, c.in, 99);
  struct sc_graph *g = resize13_graph(&c);
  struct sc_tensor *a = graph_run(g, x, 1), *b = graph_run(g, x, 3);
  (void)state;
  assert_true(bitwise_equal(a, b));
  sc_tensor_free(a);
  sc_tensor_free(b);
  sc_tensor_free(x);
  sc_graph_free(g);
}

/* --- Resize golden values -------------------------------------------- */

static void set_string(struct sc_node *node, const char *name,
                       const char *value)
{
  assert_int_equal(
      sc_node_set_attr_string(node, name, value, strlen(value), NULL), SC_OK);
}

static void test_resize_tf_crop_and_resize_extrapolates(void **state)
{
  static const char *const ins[4] = {"data", "roi", "", "sizes"};
  static const float roi[8] = {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f};
  static const double sizes[4] = {1, 1, 3, 3};
  int64_t dims[4] = {1, 1, 4, 4}, out[4] = {1, 1, 3, 3};
  float data[16];
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  struct sc_tensor *y;
  int i;
  (void)state;
  for (i = 0; i < 16; i++)
    data[i] = (float)(i + 1);
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  graph_const(g, "roi", floats(8, roi));
  graph_const(g, "sizes", ints(4, sizes));
  node = graph_node(g, "Resize", 4, ins, 1);
  set_string(node, "mode", "linear");
  set_string(node, "coordinate_transformation_mode", "tf_crop_and_resize");
  assert_int_equal(
      sc_node_set_attr_float(node, "extrapolation_value", 10.0f, NULL), SC_OK);
  y = graph_run(g, NULL, 1);
  expect_values(y, 4, out, crop_expected, 1e-5);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Resize-18 with antialias, axes and sizes on a 6x8 image. */
static struct sc_tensor *resize18_antialias(const char *mode, int64_t out_h,
                                            int64_t out_w, float cubic_a)
{
  static const char *const ins[4] = {"data", "", "", "sizes"};
  static const int64_t axes[2] = {-2, -1};
  int64_t dims[4] = {1, 1, 6, 8};
  double sizes[2];
  struct sc_graph *g = graph_new(18);
  struct sc_node *node;
  struct sc_tensor *y;
  sizes[0] = (double)out_h;
  sizes[1] = (double)out_w;
  graph_const(g, "data", sc_test_tensor_f32(4, dims, aa_input));
  graph_const(g, "sizes", ints(2, sizes));
  node = graph_node(g, "Resize", 4, ins, 1);
  set_string(node, "mode", mode);
  assert_int_equal(sc_node_set_attr_int(node, "antialias", 1, NULL), SC_OK);
  assert_int_equal(sc_node_set_attr_int(node, "exclude_outside", 1, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_float(node, "cubic_coeff_a", cubic_a, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_ints(node, "axes", 2, axes, NULL), SC_OK);
  y = graph_run(g, NULL, 1);
  sc_graph_free(g);
  return y;
}

static void test_resize18_antialias_linear_matches_pillow(void **state)
{
  int64_t out[4] = {1, 1, 4, 3};
  struct sc_tensor *y = resize18_antialias("linear", 4, 3, -0.75f);
  (void)state;
  expect_values(y, 4, out, aa_linear_expected, 1e-4);
  sc_tensor_free(y);
}

static void test_resize18_antialias_cubic_matches_pillow(void **state)
{
  int64_t out[4] = {1, 1, 2, 5};
  struct sc_tensor *y = resize18_antialias("cubic", 2, 5, -0.5f);
  (void)state;
  expect_values(y, 4, out, aa_cubic_expected, 1e-4);
  sc_tensor_free(y);
}

static struct sc_tensor *resize18_aspect(const char *policy)
{
  static const char *const ins[4] = {"data", "", "", "sizes"};
  static const int64_t axes[2] = {2, 3};
  static const double sizes[2] = {3, 3};
  int64_t dims[4] = {1, 1, 4, 6};
  float data[24];
  struct sc_graph *g = graph_new(18);
  struct sc_node *node;
  struct sc_tensor *y;
  int i;
  for (i = 0; i < 24; i++)
    data[i] = (float)i;
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  graph_const(g, "sizes", ints(2, sizes));
  node = graph_node(g, "Resize", 4, ins, 1);
  set_string(node, "mode", "linear");
  set_string(node, "keep_aspect_ratio_policy", policy);
  assert_int_equal(sc_node_set_attr_ints(node, "axes", 2, axes, NULL), SC_OK);
  y = graph_run(g, NULL, 1);
  sc_graph_free(g);
  return y;
}

static void test_resize18_keep_aspect_ratio_policies(void **state)
{
  int64_t larger[4] = {1, 1, 2, 3}, smaller[4] = {1, 1, 3, 5};
  struct sc_tensor *y = resize18_aspect("not_larger");
  (void)state;
  expect_values(y, 4, larger, not_larger_expected, 1e-5);
  sc_tensor_free(y);
  y = resize18_aspect("not_smaller");
  expect_values(y, 4, smaller, not_smaller_expected, 1e-5);
  sc_tensor_free(y);
}

static void test_resize_cubic_over_three_axes(void **state)
{
  static const char *const ins[3] = {"data", "", "scales"};
  static const float scales[5] = {1, 1, 1.5f, 0.75f, 1.4f};
  /* 1.4f * 5 = 6.99999.. in float: 6 columns */
  int64_t dims[5] = {1, 1, 3, 4, 5}, out[5] = {1, 1, 4, 3, 6};
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  struct sc_tensor *y;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(5, dims, cubic3d_input));
  graph_const(g, "scales", floats(5, scales));
  node = graph_node(g, "Resize", 3, ins, 1);
  set_string(node, "mode", "cubic");
  y = graph_run(g, NULL, 2);
  expect_values(y, 5, out, cubic3d_expected, 1e-4);
  sc_tensor_free(y);
  sc_graph_free(g);
}

static void test_resize_linear_uint8_truncates_like_reference(void **state)
{
  static const char *const ins[3] = {"data", "", "scales"};
  static const float scales[2] = {1.5f, 2.0f};
  static const double data[6] = {10, 200, 37, 255, 0, 90};
  int64_t dims[2] = {2, 3}, out[2] = {3, 6};
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  struct sc_tensor *y, *expected;
  double want[18];
  int i;
  (void)state;
  for (i = 0; i < 18; i++)
    want[i] = u8_expected[i];
  graph_const(g, "data", sc_test_tensor(SC_DTYPE_UINT8, 2, dims, data));
  graph_const(g, "scales", floats(2, scales));
  node = graph_node(g, "Resize", 3, ins, 1);
  set_string(node, "mode", "linear");
  y = graph_run(g, NULL, 1);
  expected = sc_test_tensor(SC_DTYPE_UINT8, 2, out, want);
  assert_tensor_close(y, expected, 0, 0);
  sc_tensor_free(expected);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Resize-10 rounds nearest coordinates up when downsampling and down when
 * upsampling (asymmetric mapping x = o / scale). By hand: 0.6 maps outputs
 * 0, 1, 2 to 0, 1.67, 3.33 -> 0, 2, 4; 2.5 maps 0..4 to 0, .4, .8, 1.2, 1.6
 * -> 0, 0, 0, 1, 1. */
static void test_resize10_nearest_rounding(void **state)
{
  static const char *const ins[2] = {"data", "scales"};
  static const float data[5] = {1, 2, 3, 4, 5}, down[3] = {1, 3, 5};
  static const float up[5] = {1, 1, 1, 2, 2};
  static const float scales_down[4] = {1, 1, 1, 0.6f};
  static const float scales_up[4] = {1, 1, 1, 2.5f};
  int64_t dims[4] = {1, 1, 1, 5}, small[4] = {1, 1, 1, 2};
  int64_t out_down[4] = {1, 1, 1, 3}, out_up[4] = {1, 1, 1, 5};
  struct sc_graph *g = graph_new(10);
  struct sc_tensor *y;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  graph_const(g, "scales", floats(4, scales_down));
  graph_node(g, "Resize", 2, ins, 1);
  y = graph_run(g, NULL, 1);
  expect_values(y, 4, out_down, down, 0);
  sc_tensor_free(y);
  sc_graph_free(g);

  g = graph_new(10);
  graph_const(g, "data", sc_test_tensor_f32(4, small, data));
  graph_const(g, "scales", floats(4, scales_up));
  graph_node(g, "Resize", 2, ins, 1);
  y = graph_run(g, NULL, 1);
  expect_values(y, 4, out_up, up, 0);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Upsample-7 linear, scales attribute, asymmetric mapping x = o / 2 with
 * the edge repeated (by hand). */
static void test_upsample7_linear_scales_attribute(void **state)
{
  static const char *const ins[1] = {"data"};
  static const float data[4] = {1, 2, 3, 4}, scales[4] = {1, 1, 2, 2};
  static const float want[16] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3,
                                 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
  int64_t dims[4] = {1, 1, 2, 2}, out[4] = {1, 1, 4, 4};
  struct sc_graph *g = graph_new(7);
  struct sc_node *node;
  struct sc_tensor *y;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  node = graph_node(g, "Upsample", 1, ins, 1);
  set_string(node, "mode", "linear");
  assert_int_equal(sc_node_set_attr_floats(node, "scales", 4, scales, NULL),
                   SC_OK);
  y = graph_run(g, NULL, 1);
  expect_values(y, 4, out, want, 0);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Upsample-9 nearest moves int64 values exactly (beyond double's 53 bits). */
static void test_upsample9_nearest_moves_int64_exactly(void **state)
{
  static const char *const ins[2] = {"data", "scales"};
  static const float scales[2] = {2, 1.5f};
  static const int rows[4] = {0, 0, 1, 1}, cols[3] = {0, 0, 1};
  int64_t dims[2] = {2, 2}, i, j;
  struct sc_tensor *data = NULL, *y;
  struct sc_graph *g = graph_new(9);
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 2, dims, &data, NULL),
                   SC_OK);
  for (i = 0; i < 4; i++)
    ((int64_t *)data->data)[i] = ((int64_t)1 << 60) + i * 3 + 1;
  graph_const(g, "data", data);
  graph_const(g, "scales", floats(2, scales));
  graph_node(g, "Upsample", 2, ins, 1);
  y = graph_run(g, NULL, 1);
  assert_int_equal(y->dtype, SC_DTYPE_INT64);
  assert_int_equal(y->dims[0], 4);
  assert_int_equal(y->dims[1], 3);
  for (i = 0; i < 4; i++)
    for (j = 0; j < 3; j++)
      assert_true(((int64_t *)y->data)[i * 3 + j] ==
                  ((int64_t)1 << 60) + (rows[i] * 2 + cols[j]) * 3 + 1);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Float16 data runs through float: 2x half_pixel linear of [[1,2],[3,4]]
 * (by hand; every value is exact in float16). */
static void test_resize_float16_linear(void **state)
{
  static const char *const ins[3] = {"data", "", "scales"};
  static const double data[4] = {1, 2, 3, 4};
  static const float scales[4] = {1, 1, 2, 2};
  static const double want[16] = {1,   1.25, 1.75, 2,   1.5, 1.75, 2.25, 2.5,
                                  2.5, 2.75, 3.25, 3.5, 3,   3.25, 3.75, 4};
  int64_t dims[4] = {1, 1, 2, 2}, out[4] = {1, 1, 4, 4};
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  struct sc_tensor *y, *expected;
  (void)state;
  graph_const(g, "data", sc_test_tensor(SC_DTYPE_FLOAT16, 4, dims, data));
  graph_const(g, "scales", floats(4, scales));
  node = graph_node(g, "Resize", 3, ins, 1);
  set_string(node, "mode", "linear");
  y = graph_run(g, NULL, 1);
  expected = sc_test_tensor(SC_DTYPE_FLOAT16, 4, out, want);
  assert_tensor_close(y, expected, 0, 0);
  sc_tensor_free(expected);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* Scales fed at run time: the static shape is deferred, the run gives
 * floor(in * scale). */
static void test_resize_scales_known_only_at_run_time(void **state)
{
  static const char *const ins[3] = {"data", "", "x"};
  static const float data[6] = {1, 2, 3, 4, 5, 6}, scales[2] = {1.5f, 0.5f};
  /* nearest, half_pixel: rows (o + .5) / 1.5 - .5 = -.17, .5, 1.17, 1.83
   * -> 0, 0 (prefer floor), 1, 2; column (0 + .5) / .5 - .5 = .5 -> 0 */
  static const float want[4] = {1, 1, 3, 5};
  int64_t dims[2] = {3, 2}, sdims[1] = {2}, out[2] = {4, 1};
  struct sc_graph *g = graph_new(13);
  struct sc_tensor *s = sc_test_tensor_f32(1, sdims, scales), *y;
  int v;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(2, dims, data));
  graph_input(g, "x", SC_DTYPE_FLOAT, 1, sdims);
  graph_node(g, "Resize", 3, ins, 1);
  assert_int_equal(sc_graph_prepare(g, NULL), SC_OK);
  v = sc_graph_find_value(g, "y");
  assert_int_equal(g->values[v].rank, -1);
  y = graph_run(g, s, 1);
  expect_values(y, 2, out, want, 0);
  sc_tensor_free(y);
  sc_tensor_free(s);
  sc_graph_free(g);
}

/* --- GridSample ------------------------------------------------------- */

static struct sc_tensor *gridsample(int64_t opset, const int64_t *xdims,
                                    const float *x, const int64_t *gdims,
                                    const float *grid, const char *mode,
                                    const char *padding, int align_corners)
{
  static const char *const ins[2] = {"data", "grid"};
  struct sc_graph *g = graph_new(opset);
  struct sc_node *node;
  struct sc_tensor *y;
  graph_const(g, "data", sc_test_tensor_f32(4, xdims, x));
  graph_const(g, "grid", sc_test_tensor_f32(4, gdims, grid));
  node = graph_node(g, "GridSample", 2, ins, 1);
  set_string(node, "mode", mode);
  set_string(node, "padding_mode", padding);
  assert_int_equal(
      sc_node_set_attr_int(node, "align_corners", align_corners, NULL), SC_OK);
  y = graph_run(g, NULL, 2);
  sc_graph_free(g);
  return y;
}

static void test_gridsample_matches_opencv_remap(void **state)
{
  static const int64_t xa[4] = {1, 2, 3, 5}, xb[4] = {1, 2, 2, 4};
  static const int64_t gdims[4] = {1, 2, 4, 2}, out[4] = {1, 2, 2, 4};
  static const struct {
    int align;
    const char *mode, *padding;
    const float *expected;
  } cases[] = {
      {1, "bilinear", "zeros", grid_a_linear_zeros},
      {1, "bilinear", "border", grid_a_linear_border},
      {1, "bicubic", "zeros", grid_a_cubic_zeros},
      {1, "bicubic", "border", grid_a_cubic_border},
      {1, "bicubic", "reflection", grid_a_cubic_reflection},
      {0, "bicubic", "zeros", grid_b_cubic_zeros},
      {0, "bicubic", "border", grid_b_cubic_border},
      {0, "bicubic", "reflection", grid_b_cubic_reflection},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sc_tensor *y =
        cases[i].align ? gridsample(16, xa, grid_a_input, gdims, grid_a_grid,
                                    cases[i].mode, cases[i].padding, 1)
                       : gridsample(16, xb, grid_b_input, gdims, grid_b_grid,
                                    cases[i].mode, cases[i].padding, 0);
    expect_values(y, 4, out, cases[i].expected, 1e-4);
    sc_tensor_free(y);
  }
}

/* Bilinear reflection reflects the coordinate, then interpolates (PyTorch),
 * by hand. align_corners=0 on [10 20 30 40]: pixels -1.25, 4, 3.25, 0.75
 * reflect about -0.5 / 3.5 to 0.25, 3, 3 (clipped), 0.75. align_corners=1
 * on [10 .. 50]: pixels -0.5, 4.5, 9, 2.25 reflect about 0 / 4 to 0.5,
 * 3.5, 1, 2.25. */
static void test_gridsample_bilinear_reflection(void **state)
{
  static const float x4[4] = {10, 20, 30, 40}, x5[5] = {10, 20, 30, 40, 50};
  static const float grid0[8] = {-1.375f, 0, 1.25f, 0, 0.875f, 0, -0.375f, 0};
  static const float grid1[8] = {-1.25f, 0, 1.25f, 0, 3.5f, 0, 0.125f, 0};
  static const float want0[4] = {12.5f, 40, 40, 17.5f};
  static const float want1[4] = {15, 45, 20, 32.5f};
  int64_t d4[4] = {1, 1, 1, 4}, d5[4] = {1, 1, 1, 5};
  int64_t gdims[4] = {1, 1, 4, 2}, out[4] = {1, 1, 1, 4};
  struct sc_tensor *y;
  (void)state;
  y = gridsample(16, d4, x4, gdims, grid0, "bilinear", "reflection", 0);
  expect_values(y, 4, out, want0, 1e-5);
  sc_tensor_free(y);
  y = gridsample(16, d5, x5, gdims, grid1, "bilinear", "reflection", 1);
  expect_values(y, 4, out, want1, 1e-5);
  sc_tensor_free(y);
}

/* Nearest rounds half to even: pixels .5, 1.5, 2.5, 3.5 -> 0, 2, 2, 4;
 * 5.25 -> 5 is outside (zeros). */
static void test_gridsample_nearest_rounds_half_to_even(void **state)
{
  static const float x5[5] = {10, 20, 30, 40, 50};
  static const float grid[10] = {-0.75f, 0,     -0.25f, 0,      0.25f,
                                 0,      0.75f, 0,      1.625f, 0};
  static const float want[5] = {10, 30, 30, 50, 0};
  int64_t d5[4] = {1, 1, 1, 5}, gdims[4] = {1, 1, 5, 2};
  int64_t out[4] = {1, 1, 1, 5};
  struct sc_tensor *y;
  (void)state;
  y = gridsample(16, d5, x5, gdims, grid, "nearest", "zeros", 1);
  expect_values(y, 4, out, want, 0);
  sc_tensor_free(y);
}

/* --- RoiAlign ----------------------------------------------------------- */

/* X[n, 0, y, x] = 100 n + 4 y + x over 2 x 1 x 4 x 4: bilinear sampling
 * of a linear function is exact, so bin averages are the function at the
 * bin centres (by hand). */
static struct sc_tensor *roialign(int64_t opset, int n_rois, const float *rois,
                                  const double *batch, int64_t out_h,
                                  int64_t out_w, int64_t ratio,
                                  const char *mode, const char *coord)
{
  static const char *const ins[3] = {"data", "rois", "index"};
  int64_t xdims[4] = {2, 1, 4, 4}, rdims[2], bdims[1];
  float x[32];
  struct sc_graph *g = graph_new(opset);
  struct sc_node *node;
  struct sc_tensor *y;
  int i;
  for (i = 0; i < 32; i++)
    x[i] = (float)(100 * (i / 16) + i % 16);
  rdims[0] = n_rois;
  rdims[1] = 4;
  bdims[0] = n_rois;
  graph_const(g, "data", sc_test_tensor_f32(4, xdims, x));
  graph_const(g, "rois", sc_test_tensor_f32(2, rdims, rois));
  graph_const(g, "index", sc_test_tensor(SC_DTYPE_INT64, 1, bdims, batch));
  node = graph_node(g, "RoiAlign", 3, ins, 1);
  assert_int_equal(sc_node_set_attr_int(node, "output_height", out_h, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_int(node, "output_width", out_w, NULL),
                   SC_OK);
  assert_int_equal(sc_node_set_attr_int(node, "sampling_ratio", ratio, NULL),
                   SC_OK);
  set_string(node, "mode", mode);
  if (coord)
    set_string(node, "coordinate_transformation_mode", coord);
  y = graph_run(g, NULL, 2);
  sc_graph_free(g);
  return y;
}

static void test_roialign_avg_coordinate_modes(void **state)
{
  static const float rois[8] = {0.5f, 0.5f, 2.5f, 2.5f, 0.5f, 0.5f, 2.5f, 2.5f};
  static const double batch[2] = {0, 1};
  /* half_pixel: roi [0, 2] -> bin centres 0.5, 1.5 */
  static const float half[8] = {2.5f,   3.5f,   6.5f,   7.5f,
                                102.5f, 103.5f, 106.5f, 107.5f};
  /* output_half_pixel (RoiAlign-10): roi [0.5, 2.5] -> centres 1, 2 */
  static const float output_half[8] = {5, 6, 9, 10, 105, 106, 109, 110};
  int64_t out[4] = {2, 1, 2, 2};
  struct sc_tensor *y;
  (void)state;
  y = roialign(16, 2, rois, batch, 2, 2, 2, "avg", NULL);
  expect_values(y, 4, out, half, 1e-5);
  sc_tensor_free(y);
  y = roialign(10, 2, rois, batch, 2, 2, 2, "avg", NULL);
  expect_values(y, 4, out, output_half, 1e-5);
  sc_tensor_free(y);
  y = roialign(16, 2, rois, batch, 2, 2, 2, "avg", "output_half_pixel");
  expect_values(y, 4, out, output_half, 1e-5);
  sc_tensor_free(y);
}

/* Max mode takes the largest weighted tap (the ONNX reference and ONNX
 * Runtime): one sample at (0.5, 0.5) has taps 0, 1, 4, 5 with weight 1/4
 * each -> 1.25 (not the interpolated 2.5). Adaptive sampling (ratio 0)
 * over the whole map takes a 4 x 4 grid at the pixel centres -> mean 7.5. */
static void test_roialign_max_and_adaptive_sampling(void **state)
{
  static const float small[4] = {0.5f, 0.5f, 1.5f, 1.5f};
  static const float whole[4] = {0, 0, 4, 4};
  static const double batch[1] = {0};
  static const float max_want[1] = {1.25f}, mean_want[1] = {7.5f};
  int64_t out[4] = {1, 1, 1, 1};
  struct sc_tensor *y;
  (void)state;
  y = roialign(16, 1, small, batch, 1, 1, 1, "max", NULL);
  expect_values(y, 4, out, max_want, 1e-6);
  sc_tensor_free(y);
  y = roialign(16, 1, whole, batch, 1, 1, 0, "avg", NULL);
  expect_values(y, 4, out, mean_want, 1e-6);
  sc_tensor_free(y);
}

/* An empty feature map gives zeros (no sampling point reads it). */
static void test_roialign_empty_map_gives_zeros(void **state)
{
  static const char *const ins[3] = {"data", "rois", "index"};
  static const float roi[4] = {0, 0, 2, 2}, zeros[4] = {0, 0, 0, 0};
  static const double index[1] = {0};
  int64_t xdims[4] = {1, 1, 0, 3}, rdims[2] = {1, 4}, bdims[1] = {1};
  int64_t out[4] = {1, 1, 2, 2};
  struct sc_graph *g = graph_new(16);
  struct sc_node *node;
  struct sc_tensor *y, *x = NULL;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 4, xdims, &x, NULL), SC_OK);
  graph_const(g, "data", x);
  graph_const(g, "rois", sc_test_tensor_f32(2, rdims, roi));
  graph_const(g, "index", sc_test_tensor(SC_DTYPE_INT64, 1, bdims, index));
  node = graph_node(g, "RoiAlign", 3, ins, 1);
  assert_int_equal(sc_node_set_attr_int(node, "output_height", 2, NULL), SC_OK);
  assert_int_equal(sc_node_set_attr_int(node, "output_width", 2, NULL), SC_OK);
  y = graph_run(g, NULL, 1);
  expect_values(y, 4, out, zeros, 0);
  sc_tensor_free(y);
  sc_graph_free(g);
}

/* --- errors ------------------------------------------------------------ */

/* A Resize-`opset` node on a constant 1x1x2x2 input with the given scales
 * (n_scales < 0: none) and sizes (n_sizes < 0: none). */
static struct sc_graph *resize_graph(int64_t opset, int n_scales,
                                     const float *scales, int n_sizes,
                                     const double *sizes, struct sc_node **node)
{
  static const char *const ins_scales[3] = {"data", "", "scales"};
  static const char *const ins_sizes[4] = {"data", "", "", "sizes"};
  static const char *const ins_both[4] = {"data", "", "scales", "sizes"};
  static const float data[4] = {1, 2, 3, 4};
  int64_t dims[4] = {1, 1, 2, 2};
  struct sc_graph *g = graph_new(opset);
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  if (n_scales >= 0)
    graph_const(g, "scales", floats(n_scales, scales));
  if (n_sizes >= 0)
    graph_const(g, "sizes", ints(n_sizes, sizes));
  if (n_scales >= 0 && n_sizes >= 0)
    *node = graph_node(g, "Resize", 4, ins_both, 1);
  else if (n_sizes >= 0)
    *node = graph_node(g, "Resize", 4, ins_sizes, 1);
  else
    *node = graph_node(g, "Resize", 3, ins_scales, 1);
  return g;
}

static void test_resize_rejects_bad_scales_and_sizes(void **state)
{
  static const float two[4] = {1, 1, 2, 2}, zero[4] = {1, 1, 0, 2};
  static const float huge[4] = {1, 1, 1e20f, 1};
  static const double sizes[4] = {1, 1, 4, 4}, negative[4] = {1, 1, -4, 4};
  struct sc_node *node;
  struct sc_graph *g;
  (void)state;
  g = resize_graph(13, 4, two, 4, sizes, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "both 'scales' and 'sizes'");
  sc_graph_free(g);
  g = resize_graph(13, 0, two, 0, sizes, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "one of 'scales' and 'sizes'");
  sc_graph_free(g);
  g = resize_graph(13, 3, two, -1, NULL, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "'scales' has 3 values");
  sc_graph_free(g);
  g = resize_graph(13, 4, zero, -1, NULL, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "scale 0");
  sc_graph_free(g);
  g = resize_graph(13, 4, huge, -1, NULL, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "too large");
  sc_graph_free(g);
  g = resize_graph(13, 0, two, 4, negative, &node);
  expect_failure(g, NULL, SC_ERR_FORMAT, "size -4");
  sc_graph_free(g);
}

static void test_resize_rejects_bad_attributes(void **state)
{
  static const float two[4] = {1, 1, 2, 2};
  static const int64_t repeated[2] = {2, -2};
  struct sc_node *node;
  struct sc_graph *g;
  (void)state;
  g = resize_graph(13, 4, two, -1, NULL, &node);
  set_string(node, "mode", "bilinear");
  expect_failure(g, NULL, SC_ERR_FORMAT, "invalid value 'bilinear'");
  sc_graph_free(g);
  g = resize_graph(13, 4, two, -1, NULL, &node);
  set_string(node, "coordinate_transformation_mode", "tf_crop_and_resize");
  expect_failure(g, NULL, SC_ERR_FORMAT, "needs the input 'roi'");
  sc_graph_free(g);
  g = resize_graph(18, 4, two, -1, NULL, &node);
  set_string(node, "coordinate_transformation_mode", "half_pixel_symmetric");
  expect_failure(g, NULL, SC_ERR_FORMAT, "needs opset 19");
  sc_graph_free(g);
  g = resize_graph(18, 2, two + 2, -1, NULL, &node);
  assert_int_equal(sc_node_set_attr_ints(node, "axes", 2, repeated, NULL),
                   SC_OK);
  expect_failure(g, NULL, SC_ERR_FORMAT, "repeated");
  sc_graph_free(g);
  g = resize_graph(18, 4, two, -1, NULL, &node);
  assert_int_equal(sc_node_set_attr_int(node, "antialias", 2, NULL), SC_OK);
  expect_failure(g, NULL, SC_ERR_FORMAT, "antialias");
  sc_graph_free(g);
}

/* A request for 2^36 x 2^36 elements fails cleanly before allocating. */
static void test_resize_rejects_hostile_sizes(void **state)
{
  static const double sizes[4] = {1, 1, 68719476736.0, 68719476736.0};
  struct sc_node *node;
  struct sc_graph *g = resize_graph(13, 0, NULL, 4, sizes, &node);
  (void)state;
  expect_failure(g, NULL, SC_ERR_FORMAT, "shape overflows");
  sc_graph_free(g);
}

static void test_resize_rejects_unsupported_data(void **state)
{
  static const char *const ins[3] = {"data", "", "scales"};
  static const float two[2] = {2, 2};
  static const double data[4] = {1, 0, 0, 1};
  int64_t dims[2] = {2, 2};
  struct sc_graph *g = graph_new(13);
  struct sc_node *node;
  (void)state;
  graph_const(g, "data", sc_test_tensor(SC_DTYPE_BOOL, 2, dims, data));
  graph_const(g, "scales", floats(2, two));
  node = graph_node(g, "Resize", 3, ins, 1);
  set_string(node, "mode", "linear");
  expect_failure(g, NULL, SC_ERR_UNSUPPORTED, "linear interpolation of bool");
  sc_graph_free(g);
}

/* Upsample requires scales >= 1; a NaN scale fed at run time fails when
 * the run reshapes. */
static void test_upsample_rejects_downscaling_and_nan(void **state)
{
  static const char *const ins[2] = {"data", "x"};
  static const float data[4] = {1, 2, 3, 4}, half[4] = {1, 1, 0.5f, 1};
  int64_t dims[4] = {1, 1, 2, 2}, sdims[1] = {4};
  float nan_scales[4] = {1, 1, 2, 2};
  struct sc_graph *g = graph_new(9);
  struct sc_tensor *s;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  graph_const(g, "x", floats(4, half));
  graph_node(g, "Upsample", 2, ins, 1);
  expect_failure(g, NULL, SC_ERR_FORMAT, ">= 1");
  sc_graph_free(g);

  nan_scales[3] = NAN;
  s = sc_test_tensor_f32(1, sdims, nan_scales);
  g = graph_new(9);
  graph_const(g, "data", sc_test_tensor_f32(4, dims, data));
  graph_input(g, "x", SC_DTYPE_FLOAT, 1, sdims);
  graph_node(g, "Upsample", 2, ins, 1);
  expect_failure(g, s, SC_ERR_FORMAT, "scale nan");
  sc_tensor_free(s);
  sc_graph_free(g);
}

static void test_gridsample_rejects_bad_shapes_and_types(void **state)
{
  static const char *const ins[2] = {"data", "grid"};
  static const float v[16] = {0};
  static const double iv[4] = {0};
  int64_t xdims[3] = {1, 2, 2}, x4[4] = {1, 1, 2, 2}, gdims[4] = {1, 2, 2, 2};
  struct sc_graph *g = graph_new(16);
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(3, xdims, v));
  graph_const(g, "grid", sc_test_tensor_f32(4, gdims, v));
  graph_node(g, "GridSample", 2, ins, 1);
  expect_failure(g, NULL, SC_ERR_FORMAT, "expects X [N,C,H,W]");
  sc_graph_free(g);
  g = graph_new(16);
  graph_const(g, "data", sc_test_tensor(SC_DTYPE_INT32, 4, x4, iv));
  graph_const(g, "grid", sc_test_tensor_f32(4, gdims, v));
  graph_node(g, "GridSample", 2, ins, 1);
  expect_failure(g, NULL, SC_ERR_UNSUPPORTED, "int32");
  sc_graph_free(g);
  g = graph_new(16);
  graph_const(g, "data", sc_test_tensor_f32(4, x4, v));
  graph_const(g, "grid", sc_test_tensor_f32(4, gdims, v));
  set_string(graph_node(g, "GridSample", 2, ins, 1), "padding_mode", "wrap");
  expect_failure(g, NULL, SC_ERR_FORMAT, "invalid value 'wrap'");
  sc_graph_free(g);
}

static void test_roialign_rejects_bad_indices_and_hostile_rois(void **state)
{
  static const char *const ins[3] = {"data", "rois", "index"};
  static const float v[16] = {0}, ok_roi[4] = {0, 0, 1, 1};
  static const float huge_roi[4] = {0, 0, 1e30f, 1e30f};
  static const double bad_index[1] = {5}, index[1] = {0};
  int64_t xdims[4] = {1, 1, 4, 4}, rdims[2] = {1, 4}, bdims[1] = {1};
  struct sc_graph *g = graph_new(16);
  struct sc_node *node;
  (void)state;
  graph_const(g, "data", sc_test_tensor_f32(4, xdims, v));
  graph_const(g, "rois", sc_test_tensor_f32(2, rdims, ok_roi));
  graph_const(g, "index", sc_test_tensor(SC_DTYPE_INT64, 1, bdims, bad_index));
  graph_node(g, "RoiAlign", 3, ins, 1);
  expect_failure(g, NULL, SC_ERR_FORMAT, "batch_indices[0] = 5");
  sc_graph_free(g);

  g = graph_new(16);
  graph_const(g, "data", sc_test_tensor_f32(4, xdims, v));
  graph_const(g, "rois", sc_test_tensor_f32(2, rdims, huge_roi));
  graph_const(g, "index", sc_test_tensor(SC_DTYPE_INT64, 1, bdims, index));
  graph_node(g, "RoiAlign", 3, ins, 1);
  expect_failure(g, NULL, SC_ERR_FORMAT, "sampling points");
  sc_graph_free(g);

  g = graph_new(16);
  graph_const(g, "data", sc_test_tensor_f32(4, xdims, v));
  graph_const(g, "rois", sc_test_tensor_f32(2, rdims, ok_roi));
  graph_const(g, "index", sc_test_tensor(SC_DTYPE_INT64, 1, bdims, index));
  node = graph_node(g, "RoiAlign", 3, ins, 1);
  assert_int_equal(sc_node_set_attr_int(node, "output_height", 0, NULL), SC_OK);
  expect_failure(g, NULL, SC_ERR_FORMAT, "output_height 0");
  sc_graph_free(g);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resize_nearest_fast_path_matches_reference),
      cmocka_unit_test(test_resize_linear_fast_path_matches_reference),
      cmocka_unit_test(test_resize_cubic_identical_across_threads),
      cmocka_unit_test(test_resize_tf_crop_and_resize_extrapolates),
      cmocka_unit_test(test_resize18_antialias_linear_matches_pillow),
      cmocka_unit_test(test_resize18_antialias_cubic_matches_pillow),
      cmocka_unit_test(test_resize18_keep_aspect_ratio_policies),
      cmocka_unit_test(test_resize_cubic_over_three_axes),
      cmocka_unit_test(test_resize_linear_uint8_truncates_like_reference),
      cmocka_unit_test(test_resize10_nearest_rounding),
      cmocka_unit_test(test_upsample7_linear_scales_attribute),
      cmocka_unit_test(test_upsample9_nearest_moves_int64_exactly),
      cmocka_unit_test(test_resize_float16_linear),
      cmocka_unit_test(test_resize_scales_known_only_at_run_time),
      cmocka_unit_test(test_gridsample_matches_opencv_remap),
      cmocka_unit_test(test_gridsample_bilinear_reflection),
      cmocka_unit_test(test_gridsample_nearest_rounds_half_to_even),
      cmocka_unit_test(test_roialign_avg_coordinate_modes),
      cmocka_unit_test(test_roialign_max_and_adaptive_sampling),
      cmocka_unit_test(test_roialign_empty_map_gives_zeros),
      cmocka_unit_test(test_resize_rejects_bad_scales_and_sizes),
      cmocka_unit_test(test_resize_rejects_bad_attributes),
      cmocka_unit_test(test_resize_rejects_hostile_sizes),
      cmocka_unit_test(test_resize_rejects_unsupported_data),
      cmocka_unit_test(test_upsample_rejects_downscaling_and_nan),
      cmocka_unit_test(test_gridsample_rejects_bad_shapes_and_types),
      cmocka_unit_test(test_roialign_rejects_bad_indices_and_hostile_rois),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
