/* The pooling family (runtime/ops/pool.c): MaxPool values and Indices in
 * both storage orders, ties and NaN, the ceil_mode rule, AveragePool with
 * and without count_include_pad (also past the padded edge), LpPool, the
 * Global* pools, int8/uint8/double MaxPool, MaxUnpool, MaxRoiPool,
 * thread-count independence and the error paths. Expected values are hand
 * calculations written out beside each case. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"
#include "tests/support/one_node.h"

/* --- MaxPool ------------------------------------------------------------ */

/* Two channels: x0 = [[1,5,2],[7,3,8],[4,9,6]] and x1 = x0 + 10, 2x2 window
 * stride 1. Windows of x0: {1,5,7,3} -> 7 at (1,0); {5,2,3,8} -> 8 at
 * (1,2); {7,3,4,9} -> 9 at (2,1); {3,8,9,6} -> 9 at (2,1). Row-major
 * indices h*3+w = 3, 5, 7, 7; column-major h+w*3 = 1, 7, 5, 5; channel 1
 * adds 9. */
static void check_maxpool_indices(int storage_order, const int64_t *indices)
{
  float xv[18] = {1, 5, 2, 7, 3, 8, 4, 9, 6};
  static const float yv[8] = {7, 8, 9, 9, 17, 18, 19, 19};
  int64_t xd[4] = {1, 2, 3, 3}, yd[4] = {1, 2, 2, 2}, kernel[2] = {2, 2};
  struct sc_tensor *inputs[1], *out[2] = {NULL, NULL};
  struct sc_test_node t;
  struct sc_error err;
  int i;
  for (i = 0; i < 9; i++)
    xv[9 + i] = xv[i] + 10;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  sc_test_node_init(&t, "MaxPool", 12, 1, inputs, 0, 2);
  sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
  sc_test_node_set_int(&t, "storage_order", storage_order);
  assert_int_equal(sc_test_node_run(&t, NULL, out, &err), SC_OK);
  assert_result_f32(out[0], 4, yd, yv, 1e-6);
  assert_result_i64(out[1], 4, yd, indices);
  sc_test_node_free(&t);
}

static void test_maxpool_indices_in_both_storage_orders(void **state)
{
  static const int64_t row_major[8] = {3, 5, 7, 7, 12, 14, 16, 16};
  static const int64_t column_major[8] = {1, 7, 5, 5, 10, 16, 14, 14};
  (void)state;
  check_maxpool_indices(0, row_major);
  check_maxpool_indices(1, column_major);
}

/* 1-D helper: x of n floats as 1 x 1 x n, kernel k, stride s, pads
 * (begin, end); returns out0. */
static struct sc_tensor *pool_1d(const char *op, int64_t opset, const float *xv,
                                 int64_t n, int64_t k, int64_t s,
                                 int64_t pad_begin, int64_t pad_end,
                                 int ceil_mode, int count_include_pad)
{
  int64_t xd[3] = {1, 1, 0}, kernel[1], strides[1], pads[2];
  struct sc_tensor *inputs[1], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  xd[2] = n;
  kernel[0] = k;
  strides[0] = s;
  pads[0] = pad_begin;
  pads[1] = pad_end;
  inputs[0] = sc_test_tensor_f32(3, xd, xv);
  sc_test_node_init(&t, op, opset, 1, inputs, 0, 1);
  sc_test_node_set_ints(&t, "kernel_shape", 1, kernel);
  sc_test_node_set_ints(&t, "strides", 1, strides);
  sc_test_node_set_ints(&t, "pads", 2, pads);
  if (ceil_mode)
    sc_test_node_set_int(&t, "ceil_mode", 1);
  if (count_include_pad)
    sc_test_node_set_int(&t, "count_include_pad", 1);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  sc_test_node_free(&t);
  return out;
}

static void test_maxpool_ties_nan_and_ceil_mode(void **state)
{
  static const float ties[4] = {2, 2, 2, 2};
  float with_nan[4] = {1, NAN, 3, 0};
  static const float four[4] = {1, 2, 3, 4};
  static const float tie_max[2] = {2, 2}, ceil_max[2] = {2, 4};
  int64_t d2[3] = {1, 1, 2};
  struct sc_tensor *out;
  const float *v;
  (void)state;
  assert_result_f32(pool_1d("MaxPool", 12, ties, 4, 2, 2, 0, 0, 0, 0), 3, d2,
                    tie_max, 1e-6);
  /* NaN propagates: window {1, NaN} gives NaN, {3, 0} gives 3 */
  out = pool_1d("MaxPool", 12, with_nan, 4, 2, 2, 0, 0, 0, 0);
  v = out->data;
  assert_true(isnan(v[0]));
  assert_true(v[1] == 3.0f);
  sc_tensor_free(out);
  /* n = 4, k = 2, s = 2, end pad 1, ceil: ceil(3 / 2) + 1 = 3 windows, but
   * the third would start at 4, inside the end padding: dropped */
  assert_result_f32(pool_1d("MaxPool", 12, four, 4, 2, 2, 0, 1, 1, 0), 3, d2,
                    ceil_max, 1e-6);
}

/* First maximum wins: all-equal windows point at their first element. */
static void test_maxpool_tie_index_is_first(void **state)
{
  static const float xv[4] = {2, 2, 2, 2};
  static const int64_t first[2] = {0, 2};
  int64_t xd[3] = {1, 1, 4}, yd[3] = {1, 1, 2}, kernel[1] = {2},
          strides[1] = {2};
  struct sc_tensor *inputs[1], *out[2] = {NULL, NULL};
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = sc_test_tensor_f32(3, xd, xv);
  sc_test_node_init(&t, "MaxPool", 8, 1, inputs, 0, 2);
  sc_test_node_set_ints(&t, "kernel_shape", 1, kernel);
  sc_test_node_set_ints(&t, "strides", 1, strides);
  assert_int_equal(sc_test_node_run(&t, NULL, out, &err), SC_OK);
  sc_tensor_free(out[0]);
  assert_result_i64(out[1], 3, yd, first);
  sc_test_node_free(&t);
}

/* The 2 x 2, stride 2 path (U-Net downsampling) on planes of 9 x 21 and
 * 8 x 20 (ceil_mode 1 and 0: last windows of one row or column, rows of
 * 10 outputs, more than one vector of 4 and a rest), with NaN, -inf, +0
 * and -0 planted. Expected: the window maximum written out here, the
 * first of equal values kept (its sign bit checked), NaN when the window
 * holds one. */
static void check_maxpool_2x2(int64_t h, int64_t w, int ceil_mode)
{
  const int64_t oh = ceil_mode ? (h - 1) / 2 + 1 : h / 2;
  const int64_t ow = ceil_mode ? (w - 1) / 2 + 1 : w / 2;
  int64_t xd[4] = {1, 2, h, w}, kernel[2] = {2, 2}, strides[2] = {2, 2};
  float *xv = malloc((size_t)(2 * h * w) * sizeof *xv);
  struct sc_tensor *inputs[1], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  int64_t c, i, y, x, dy, dx;
  assert_non_null(xv);
  for (i = 0; i < 2 * h * w; i++)
    xv[i] = (float)((i * 37) % 23) - 11.0f; /* ties within windows */
  xv[3] = NAN;                              /* window (0, 1) */
  xv[w + 8] = -INFINITY;
  xv[2 * w + 4] = -0.0f; /* window (1, 2): -0 then +0 */
  xv[2 * w + 5] = 0.0f;
  xv[3 * w + 4] = -1.0f;
  xv[3 * w + 5] = -2.0f;
  xv[h * w + w - 1] = NAN; /* channel 1, last column */
  xv[2 * h * w - 1] = 50.0f;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  sc_test_node_init(&t, "MaxPool", 12, 1, inputs, 0, 1);
  sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
  sc_test_node_set_ints(&t, "strides", 2, strides);
  sc_test_node_set_int(&t, "ceil_mode", ceil_mode);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  assert_int_equal(out->n_elements, 2 * oh * ow);
  for (c = 0; c < 2; c++)
    for (y = 0; y < oh; y++)
      for (x = 0; x < ow; x++) {
        float best = -INFINITY,
              got = ((float *)out->data)[(c * oh + y) * ow + x];
        int nan = 0;
        for (dy = 0; dy < 2; dy++)
          for (dx = 0; dx < 2; dx++) {
            float v;
            if (2 * y + dy >= h || 2 * x + dx >= w)
              continue;
            v = xv[(c * h + 2 * y + dy) * w + 2 * x + dx];
            if (v != v)
              nan = 1;
            else if (v > best)
              best = v;
          }
        if (nan) {
          assert_true(isnan(got));
          continue;
        }
        assert_float_equal(got, best, 0.0f);
        assert_int_equal(signbit(got) != 0, signbit(best) != 0);
      }
  if (w >= 8) { /* the planted cases, by hand */
    assert_true(isnan(((float *)out->data)[1]));
    assert_true(signbit(((float *)out->data)[ow + 2]));
  }
  sc_tensor_free(out);
  sc_test_node_free(&t);
  free(xv);
}

static void test_maxpool_2x2_stride_2(void **state)
{
  (void)state;
  check_maxpool_2x2(9, 21, 1);
  check_maxpool_2x2(8, 20, 0);
  check_maxpool_2x2(7, 3, 1);
}

/* MaxPool in its other exact types, windows of 2 with stride 2:
 * uint8 {200, 10} {255, 3}, int8 {-128, -5} {7, -100}, double
 * {1.5, -2} {3.25, 3}; and GlobalMaxPool in double. */
static void test_maxpool_other_types(void **state)
{
  static const double u8[4] = {200, 10, 255, 3}, u8_max[2] = {200, 255};
  static const double i8[4] = {-128, -5, 7, -100}, i8_max[2] = {-5, 7};
  static const double f64[4] = {1.5, -2, 3.25, 3}, f64_max[2] = {1.5, 3.25};
  static const double f64_global[1] = {3.25};
  int64_t xd[3] = {1, 1, 4}, yd[3] = {1, 1, 2}, gd[3] = {1, 1, 1};
  int64_t kernel[1] = {2}, strides[1] = {2};
  enum sc_dtype types[4] = {SC_DTYPE_UINT8, SC_DTYPE_INT8, SC_DTYPE_DOUBLE,
                            SC_DTYPE_DOUBLE};
  const double *in[4] = {u8, i8, f64, f64};
  const double *want[4] = {u8_max, i8_max, f64_max, f64_global};
  int i;
  (void)state;
  for (i = 0; i < 4; i++) {
    struct sc_tensor *inputs[1], *out = NULL, *expected;
    struct sc_test_node t;
    struct sc_error err;
    inputs[0] = sc_test_tensor(types[i], 3, xd, in[i]);
    sc_test_node_init(&t, i < 3 ? "MaxPool" : "GlobalMaxPool", 12, 1, inputs, 0,
                      1);
    if (i < 3) {
      sc_test_node_set_ints(&t, "kernel_shape", 1, kernel);
      sc_test_node_set_ints(&t, "strides", 1, strides);
    }
    assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
    expected = sc_test_tensor(types[i], 3, i < 3 ? yd : gd, want[i]);
    assert_tensor_close(out, expected, 0, 0);
    sc_tensor_free(out);
    sc_tensor_free(expected);
    sc_test_node_free(&t);
  }
}

/* --- AveragePool / LpPool ---------------------------------------------- */

/* x = [[1,2,3],[4,5,6],[7,8,9]], 2x2 window, stride 1, pads 1 on every
 * side: 4x4 windows whose sums are
 *   1  3  5  3 /  5 12 16  9 / 11 24 28 15 /  7 15 17  9
 * divided by the number of real pixels (1 at corners, 2 on edges, 4 inside)
 * or, with count_include_pad, always by 4. */
static void check_average_2d(int count_include_pad, const float *expected)
{
  static const float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  int64_t xd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 4, 4}, kernel[2] = {2, 2};
  int64_t pads[4] = {1, 1, 1, 1};
  struct sc_tensor *inputs[1], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  sc_test_node_init(&t, "AveragePool", 11, 1, inputs, 0, 1);
  sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
  sc_test_node_set_ints(&t, "pads", 4, pads);
  sc_test_node_set_int(&t, "count_include_pad", count_include_pad);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  assert_result_f32(out, 4, yd, expected, 1e-6);
  sc_test_node_free(&t);
}

static void test_averagepool_count_include_pad(void **state)
{
  static const float excluded[16] = {1,   1.5, 2.5, 3,   2.5, 3,   4,   4.5,
                                     5.5, 6,   7,   7.5, 7,   7.5, 8.5, 9};
  static const float included[16] = {0.25, 0.75, 1.25, 0.75, 1.25, 3,
                                     4,    2.25, 2.75, 6,    7,    3.75,
                                     1.75, 3.75, 4.25, 2.25};
  (void)state;
  check_average_2d(0, excluded);
  check_average_2d(1, included);
}

/* x = [1, 2, 3, 4, 5], k = 3, s = 2, pads (1, 0), ceil: windows start at
 * -1, 1 and 3. The first holds the pad and 1, 2; the last holds 4, 5 and a
 * position past the padded input, which never counts. */
static void test_averagepool_ceil_mode_past_the_padding(void **state)
{
  static const float xv[5] = {1, 2, 3, 4, 5};
  static const float included[3] = {1, 3, 4.5};   /* 3/3, 9/3, 9/2 */
  static const float excluded[3] = {1.5, 3, 4.5}; /* 3/2, 9/3, 9/2 */
  int64_t yd[3] = {1, 1, 3};
  (void)state;
  assert_result_f32(pool_1d("AveragePool", 10, xv, 5, 3, 2, 1, 0, 1, 1), 3, yd,
                    included, 1e-6);
  assert_result_f32(pool_1d("AveragePool", 10, xv, 5, 3, 2, 1, 0, 1, 0), 3, yd,
                    excluded, 1e-6);
}

static struct sc_tensor *lp_pool(const char *op, int64_t opset, int64_t p,
                                 const float *xv)
{
  int64_t xd[3] = {1, 1, 4}, kernel[1] = {2}, strides[1] = {2};
  struct sc_tensor *inputs[1], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  inputs[0] = sc_test_tensor_f32(3, xd, xv);
  sc_test_node_init(&t, op, opset, 1, inputs, 0, 1);
  if (strcmp(op, "LpPool") == 0) {
    sc_test_node_set_ints(&t, "kernel_shape", 1, kernel);
    sc_test_node_set_ints(&t, "strides", 1, strides);
  }
  if (opset >= 2)
    sc_test_node_set_int(&t, "p", p);
  else
    assert_int_equal(sc_node_set_attr_float(t.node, "p", (float)p, NULL),
                     SC_OK);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  sc_test_node_free(&t);
  return out;
}

static void test_lppool_norms(void **state)
{
  static const float xv[4] = {3, -4, 1, 0};
  static const float p2[2] = {5, 1};            /* sqrt(9 + 16), sqrt(1) */
  static const float p1[2] = {7, 1};            /* 3 + 4, 1 */
  static const float p3[2] = {4.4979415f, 1};   /* (27 + 64)^(1/3) */
  static const float global2[1] = {5.0990195f}; /* sqrt(9 + 16 + 1) */
  int64_t yd[3] = {1, 1, 2}, gd[3] = {1, 1, 1};
  (void)state;
  assert_result_f32(lp_pool("LpPool", 11, 2, xv), 3, yd, p2, 1e-6);
  assert_result_f32(lp_pool("LpPool", 11, 1, xv), 3, yd, p1, 1e-6);
  assert_result_f32(lp_pool("LpPool", 11, 3, xv), 3, yd, p3, 1e-6);
  assert_result_f32(lp_pool("LpPool", 1, 2, xv), 3, yd, p2,
                    1e-6); /* p as a float */
  assert_result_f32(lp_pool("GlobalLpPool", 2, 2, xv), 3, gd, global2, 1e-6);
}

/* channel 0 = [1, 2, 3, 4], channel 1 = [-1, -5, 0, 2] as 2x2 planes */
static void test_global_pools(void **state)
{
  static const float xv[8] = {1, 2, 3, 4, -1, -5, 0, 2};
  static const float avg[2] = {2.5, -1}, max[2] = {4, 2};
  int64_t xd[4] = {1, 2, 2, 2}, yd[4] = {1, 2, 1, 1};
  const char *ops[2] = {"GlobalAveragePool", "GlobalMaxPool"};
  const float *want[2] = {avg, max};
  int i;
  (void)state;
  for (i = 0; i < 2; i++) {
    struct sc_tensor *inputs[1], *out = NULL;
    struct sc_test_node t;
    struct sc_error err;
    inputs[0] = sc_test_tensor_f32(4, xd, xv);
    sc_test_node_init(&t, ops[i], 1, 1, inputs, 0, 1);
    assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
    assert_result_f32(out, 4, yd, want[i], 1e-6);
    sc_test_node_free(&t);
  }
}

/* Random planes through MaxPool (with Indices) and AveragePool on 1 and 2
 * threads: identical bits. */
static void test_pools_identical_across_thread_counts(void **state)
{
  const char *ops[2] = {"MaxPool", "AveragePool"};
  int64_t xd[4] = {2, 8, 33, 31}, kernel[2] = {3, 3}, strides[2] = {2, 2};
  int64_t pads[4] = {1, 1, 1, 1};
  struct sc_threadpool *pool = NULL;
  struct sc_tensor *x;
  uint32_t seed = 7;
  float *v;
  int64_t i;
  int k;
  (void)state;
  assert_int_equal(sc_threadpool_create(2, &pool, NULL), SC_OK);
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 4, xd, &x, NULL), SC_OK);
  v = x->data;
  for (i = 0; i < x->n_elements; i++) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = (float)(seed >> 8) / 16777216.0f;
  }
  for (k = 0; k < 2; k++) {
    struct sc_tensor *result[2][2] = {{NULL, NULL}, {NULL, NULL}};
    int run, n_out = k == 0 ? 2 : 1, o;
    for (run = 0; run < 2; run++) {
      struct sc_tensor *inputs[1];
      struct sc_test_node t;
      struct sc_error err;
      assert_int_equal(sc_tensor_clone(x, &inputs[0], NULL), SC_OK);
      sc_test_node_init(&t, ops[k], 12, 1, inputs, 0, n_out);
      sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
      sc_test_node_set_ints(&t, "strides", 2, strides);
      sc_test_node_set_ints(&t, "pads", 4, pads);
      assert_int_equal(
          sc_test_node_run(&t, run ? pool : NULL, result[run], &err), SC_OK);
      sc_test_node_free(&t);
    }
    for (o = 0; o < n_out; o++) {
      assert_int_equal(result[0][o]->n_elements, result[1][o]->n_elements);
      assert_memory_equal(result[0][o]->data, result[1][o]->data,
                          sc_tensor_size(result[0][o]));
      sc_tensor_free(result[0][o]);
      sc_tensor_free(result[1][o]);
    }
  }
  sc_tensor_free(x);
  sc_threadpool_free(pool);
}

/* --- MaxUnpool / MaxRoiPool ---------------------------------------------- */

/* x = [[5, 6], [7, 8]] at indices 5, 7, 13, 15 of the 4x4 unpooled plane
 * (kernel 2, stride 2): rows 1 and 3, columns 1 and 3. With output_shape
 * 5x5 the plane keeps its origin and gains a zero row and column. */
static void test_maxunpool_places_values(void **state)
{
  static const float xv[4] = {5, 6, 7, 8};
  static const int64_t iv[4] = {5, 7, 13, 15}, shape[4] = {1, 1, 5, 5};
  static const float y4[16] = {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8};
  static const float y5[25] = {0, 0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0,
                               0, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0};
  int64_t xd[4] = {1, 1, 2, 2}, d4[4] = {1, 1, 4, 4}, d5[4] = {1, 1, 5, 5};
  int64_t sd[1] = {4}, kernel[2] = {2, 2}, strides[2] = {2, 2};
  int with_shape;
  (void)state;
  for (with_shape = 0; with_shape < 2; with_shape++) {
    struct sc_tensor *inputs[3], *out = NULL;
    struct sc_test_node t;
    struct sc_error err;
    inputs[0] = sc_test_tensor_f32(4, xd, xv);
    inputs[1] = sc_test_tensor_i64(4, xd, iv);
    inputs[2] = sc_test_tensor_i64(1, sd, shape);
    sc_test_node_init(&t, "MaxUnpool", 11, with_shape ? 3 : 2, inputs, 0, 1);
    if (!with_shape)
      sc_tensor_free(inputs[2]);
    sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
    sc_test_node_set_ints(&t, "strides", 2, strides);
    assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
    if (with_shape)
      assert_result_f32(out, 4, d5, y5, 1e-6);
    else
      assert_result_f32(out, 4, d4, y4, 1e-6);
    sc_test_node_free(&t);
  }
}

static void test_maxunpool_rejects_index_outside_output(void **state)
{
  static const float xv[4] = {5, 6, 7, 8};
  static const int64_t iv[4] = {5, 7, 13, 16};
  int64_t xd[4] = {1, 1, 2, 2}, kernel[2] = {2, 2}, strides[2] = {2, 2};
  struct sc_tensor *inputs[2], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  inputs[1] = sc_test_tensor_i64(4, xd, iv);
  sc_test_node_init(&t, "MaxUnpool", 11, 2, inputs, 0, 1);
  sc_test_node_set_ints(&t, "kernel_shape", 2, kernel);
  sc_test_node_set_ints(&t, "strides", 2, strides);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "index 16"));
  sc_test_node_free(&t);
}

/* x = 0..15 as 4x4. RoI (0, 0, 0, 3, 3) covers the whole plane in 2x2 bins
 * of 2x2 pixels: maxima 5, 7, 13, 15. RoI (0, 1, 1, 2, 2) is 2x2 pixels in
 * 1x1 bins: 5, 6, 9, 10. */
static void test_maxroipool_bins(void **state)
{
  static const float rois[10] = {0, 0, 0, 3, 3, 0, 1, 1, 2, 2};
  static const float yv[8] = {5, 7, 13, 15, 5, 6, 9, 10};
  float xv[16];
  int64_t xd[4] = {1, 1, 4, 4}, rd[2] = {2, 5}, yd[4] = {2, 1, 2, 2};
  int64_t pooled[2] = {2, 2};
  struct sc_tensor *inputs[2], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  int i;
  (void)state;
  for (i = 0; i < 16; i++)
    xv[i] = (float)i;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  inputs[1] = sc_test_tensor_f32(2, rd, rois);
  sc_test_node_init(&t, "MaxRoiPool", 1, 2, inputs, 0, 1);
  sc_test_node_set_ints(&t, "pooled_shape", 2, pooled);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_OK);
  assert_result_f32(out, 4, yd, yv, 1e-6);
  sc_test_node_free(&t);
}

static void test_maxroipool_rejects_bad_batch_index(void **state)
{
  static const float rois[5] = {1, 0, 0, 3, 3};
  float xv[16] = {0};
  int64_t xd[4] = {1, 1, 4, 4}, rd[2] = {1, 5}, pooled[2] = {2, 2};
  struct sc_tensor *inputs[2], *out = NULL;
  struct sc_test_node t;
  struct sc_error err;
  (void)state;
  inputs[0] = sc_test_tensor_f32(4, xd, xv);
  inputs[1] = sc_test_tensor_f32(2, rd, rois);
  sc_test_node_init(&t, "MaxRoiPool", 1, 2, inputs, 0, 1);
  sc_test_node_set_ints(&t, "pooled_shape", 2, pooled);
  assert_int_equal(sc_test_node_run(&t, NULL, &out, &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, SC_TEST_NODE_NAME));
  assert_non_null(strstr(err.message, "batch index"));
  sc_test_node_free(&t);
}

/* --- error paths ----------------------------------------------------- */

/* Builds `op` at `opset` on an x of the given dtype/dims with n_outputs,
 * lets `setup` add attributes and checks preparing fails with `status` and
 * a message naming the node and containing `needle`. */
static void expect_failure(const char *op, int64_t opset, enum sc_dtype dtype,
                           int rank, const int64_t *dims, int n_outputs,
                           void (*setup)(struct sc_test_node *t),
                           sc_status status, const char *needle)
{
  struct sc_tensor *inputs[1];
  struct sc_test_node t;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &inputs[0], NULL),
                   SC_OK);
  sc_test_node_init(&t, op, opset, 1, inputs, 0, n_outputs);
  if (setup)
    setup(&t);
  sc_test_node_prepare_fails(&t, status, needle);
  sc_test_node_free(&t);
}

static void set_kernel_2x2(struct sc_test_node *t)
{
  static const int64_t k[2] = {2, 2};
  sc_test_node_set_ints(t, "kernel_shape", 2, k);
}

static void set_kernel_4d(struct sc_test_node *t)
{
  static const int64_t k[4] = {2, 2, 2, 2};
  sc_test_node_set_ints(t, "kernel_shape", 4, k);
}

static void set_storage_order_2(struct sc_test_node *t)
{
  set_kernel_2x2(t);
  sc_test_node_set_int(t, "storage_order", 2);
}

static void set_p_0(struct sc_test_node *t)
{
  set_kernel_2x2(t);
  sc_test_node_set_int(t, "p", 0);
}

static void set_kernel_9x9(struct sc_test_node *t)
{
  static const int64_t k[2] = {9, 9};
  sc_test_node_set_ints(t, "kernel_shape", 2, k);
}

static void test_pool_errors_name_the_node(void **state)
{
  int64_t d4[4] = {1, 2, 5, 5}, d6[6] = {1, 1, 3, 3, 3, 3}, d2[2] = {2, 5};
  (void)state;
  expect_failure("MaxPool", 12, SC_DTYPE_FLOAT, 4, d4, 1, NULL, SC_ERR_FORMAT,
                 "kernel_shape' is required");
  expect_failure("MaxPool", 12, SC_DTYPE_FLOAT, 4, d4, 1, set_storage_order_2,
                 SC_ERR_FORMAT, "storage_order");
  expect_failure("MaxPool", 12, SC_DTYPE_FLOAT, 4, d4, 1, set_kernel_9x9,
                 SC_ERR_FORMAT, "does not fit");
  expect_failure("MaxPool", 12, SC_DTYPE_FLOAT, 6, d6, 1, set_kernel_4d,
                 SC_ERR_UNSUPPORTED, "4 spatial dimensions");
  expect_failure("MaxPool", 12, SC_DTYPE_FLOAT, 2, d2, 1, set_kernel_2x2,
                 SC_ERR_FORMAT, "rank 2");
  /* int8 only from opset 12, Indices only from opset 8 */
  expect_failure("MaxPool", 11, SC_DTYPE_INT8, 4, d4, 1, set_kernel_2x2,
                 SC_ERR_UNSUPPORTED, "int8");
  expect_failure("MaxPool", 7, SC_DTYPE_FLOAT, 4, d4, 2, set_kernel_2x2,
                 SC_ERR_FORMAT, "outputs");
  expect_failure("AveragePool", 11, SC_DTYPE_INT8, 4, d4, 1, set_kernel_2x2,
                 SC_ERR_UNSUPPORTED, "int8");
  expect_failure("LpPool", 11, SC_DTYPE_FLOAT, 4, d4, 1, set_p_0, SC_ERR_FORMAT,
                 "'p'");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_maxpool_indices_in_both_storage_orders),
      cmocka_unit_test(test_maxpool_ties_nan_and_ceil_mode),
      cmocka_unit_test(test_maxpool_tie_index_is_first),
      cmocka_unit_test(test_maxpool_2x2_stride_2),
      cmocka_unit_test(test_maxpool_other_types),
      cmocka_unit_test(test_averagepool_count_include_pad),
      cmocka_unit_test(test_averagepool_ceil_mode_past_the_padding),
      cmocka_unit_test(test_lppool_norms),
      cmocka_unit_test(test_global_pools),
      cmocka_unit_test(test_pools_identical_across_thread_counts),
      cmocka_unit_test(test_maxunpool_places_values),
      cmocka_unit_test(test_maxunpool_rejects_index_outside_output),
      cmocka_unit_test(test_maxroipool_bins),
      cmocka_unit_test(test_maxroipool_rejects_bad_batch_index),
      cmocka_unit_test(test_pool_errors_name_the_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
