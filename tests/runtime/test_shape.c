/* The shape, layout and indexing operator families (runtime/ops/shape*.c):
 * the strided copy engine against its element-by-element reference, the
 * large-tensor fast paths (threads, memcpy blocks, tiled transposes) against
 * plain loops written here, the opset variants the ONNX backend cases do
 * not cover, dtypes by element size, value-dependent shapes, and error
 * paths (status and node name).
 *
 * Expected values are hand calculations (explained next to each) or numpy
 * results quoted in comments (np.pad, np.unique, slicing). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/executor.h"
#include "runtime/graph.h"
#include "runtime/ops/shape_common.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

#define NODE_NAME "node_under_test"
#define MAX_IO 6

/* One node in a graph of its own: inputs x0.. (graph inputs, or
 * initializers when constant[i]), outputs y0... */
struct op_case {
  struct sc_graph *g;
  struct sc_node *node;
  struct sc_tensor *in[MAX_IO]; /* owned; NULL = omitted input */
  int constant[MAX_IO];
  int n_in, n_out;
  struct sc_tensor *out[MAX_IO];
  struct sc_error err;
};

/* Builds the graph; the caller sets attributes on c->node afterwards. */
static void case_build(struct op_case *c, int opset, const char *op_type)
{
  char in_names[MAX_IO][8], out_names[MAX_IO][8];
  const char *ins[MAX_IO], *outs[MAX_IO];
  int i;
  assert_int_equal(sc_graph_create(&c->g, NULL), SC_OK);
  assert_int_equal(sc_graph_set_opset(c->g, "", opset, NULL), SC_OK);
  for (i = 0; i < c->n_in; i++) {
    struct sc_tensor *t = c->in[i];
    snprintf(in_names[i], sizeof in_names[i], "x%d", i);
    ins[i] = t ? in_names[i] : "";
    if (!t)
      continue;
    if (c->constant[i]) {
      struct sc_tensor *copy = NULL;
      assert_int_equal(sc_tensor_clone(t, &copy, NULL), SC_OK);
      assert_int_equal(sc_graph_add_initializer(c->g, ins[i], copy, NULL),
                       SC_OK);
    } else {
      assert_int_equal(
          sc_graph_add_input(c->g, ins[i], t->dtype, t->rank, t->dims, NULL),
          SC_OK);
    }
  }
  for (i = 0; i < c->n_out; i++) {
    snprintf(out_names[i], sizeof out_names[i], "y%d", i);
    outs[i] = out_names[i];
  }
  assert_int_equal(sc_graph_add_node(c->g, NODE_NAME, op_type, "", c->n_in, ins,
                                     c->n_out, outs, &c->node, NULL),
                   SC_OK);
  for (i = 0; i < c->n_out; i++)
    assert_int_equal(sc_graph_add_output(c->g, outs[i], NULL), SC_OK);
}

/* Prepares and runs; outputs land in c->out. */
static sc_status case_run(struct op_case *c, struct sc_threadpool *threads)
{
  struct sc_feed feeds[MAX_IO];
  struct sc_run_options opt;
  char names[MAX_IO][8];
  int i, n = 0;
  sc_status st;
  sc_error_clear(&c->err);
  st = sc_graph_prepare(c->g, &c->err);
  if (st)
    return st;
  for (i = 0; i < c->n_in; i++)
    if (c->in[i] && !c->constant[i]) {
      snprintf(names[i], sizeof names[i], "x%d", i);
      feeds[n].name = names[i];
      feeds[n].tensor = c->in[i];
      n++;
    }
  memset(&opt, 0, sizeof opt);
  opt.threads = threads;
  return sc_graph_run(c->g, n, feeds, c->out, &opt, &c->err);
}

static void case_free(struct op_case *c)
{
  int i;
  for (i = 0; i < MAX_IO; i++) {
    sc_tensor_free(c->in[i]);
    sc_tensor_free(c->out[i]);
  }
  sc_graph_free(c->g);
}

/* Asserts a failure with `status` whose message names the node. */
static void assert_fails_naming_node(const struct op_case *c, sc_status got,
                                     sc_status status)
{
  assert_int_equal(got, status);
  if (!strstr(c->err.message, NODE_NAME))
    fail_msg("message does not name the node: %s", c->err.message);
}

static struct sc_tensor *tensor(enum sc_dtype dtype, int rank,
                                const int64_t *dims, const double *values)
{
  return sc_test_tensor(dtype, rank, dims, values);
}

static struct sc_tensor *ints(int64_t n, const int64_t *values)
{
  struct sc_tensor *t = NULL;
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 1, &n, &t, NULL), SC_OK);
  if (n)
    memcpy(t->data, values, (size_t)n * sizeof *values);
  return t;
}

static struct sc_tensor *scalar(enum sc_dtype dtype, double v)
{
  return sc_test_tensor(dtype, 0, NULL, &v);
}

/* 0, 1, 2 ... of the given dtype and shape. */
static struct sc_tensor *iota(enum sc_dtype dtype, int rank,
                              const int64_t *dims)
{
  struct sc_tensor *t = NULL;
  int64_t i;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &t, NULL), SC_OK);
  for (i = 0; i < t->n_elements; i++)
    sc_dtype_store(dtype, t->data, i, (double)i);
  return t;
}

static void assert_exact(const struct sc_tensor *actual, enum sc_dtype dtype,
                         int rank, const int64_t *dims, const double *values)
{
  struct sc_tensor *want = tensor(dtype, rank, dims, values);
  assert_tensor_close(actual, want, 0.0, 0.0);
  sc_tensor_free(want);
}

static uint64_t lcg_state = 12345;

static uint64_t lcg(void)
{
  lcg_state = lcg_state * 6364136223846793005ull + 1442695040888963407ull;
  return lcg_state >> 33;
}

static struct sc_threadpool *two_threads(void)
{
  struct sc_threadpool *pool = NULL;
  assert_int_equal(sc_threadpool_create(2, &pool, NULL), SC_OK);
  return pool;
}

/* --- the copy engine ----------------------------------------------------- */

/* Random permutations, slices with negative steps, broadcasts and strided
 * destinations, for every element size, large enough to take the tiled and
 * threaded paths: the fast path must write exactly what the reference
 * writes. */
static void test_copy_fast_path_matches_reference(void **state)
{
  static const size_t sizes[] = {1, 2, 4, 8};
  struct sc_threadpool *pool = two_threads();
  int trial;
  (void)state;
  for (trial = 0; trial < 200; trial++) {
    struct sc_shape_copy copy;
    int64_t src_dims[SC_MAX_RANK], strides[SC_MAX_RANK], total = 1;
    int64_t out_total = 1;
    int rank = 1 + (int)(lcg() % 5), perm[SC_MAX_RANK], d;
    size_t elem = sizes[lcg() % 4];
    unsigned char *src, *fast, *slow;
    int64_t offset = 0, i;
    int big = trial % 10 == 0;
    for (d = 0; d < rank; d++) {
      src_dims[d] = 1 + (int64_t)(lcg() % (big ? (rank <= 3 ? 120 : 16) : 7));
      perm[d] = d;
      total *= src_dims[d];
    }
    for (d = rank - 1; d > 0; d--) { /* Fisher-Yates */
      int k = (int)(lcg() % (uint64_t)(d + 1)), t = perm[d];
      perm[d] = perm[k];
      perm[k] = t;
    }
    sc_shape_strides(rank, src_dims, strides);
    src = malloc((size_t)total * elem);
    for (i = 0; i < total * (int64_t)elem; i++)
      src[i] = (unsigned char)lcg();
    memset(&copy, 0, sizeof copy);
    copy.rank = rank;
    for (d = 0; d < rank; d++) {
      int64_t n = src_dims[perm[d]], s = strides[perm[d]];
      int kind = (int)(lcg() % 4);
      copy.dims[d] = n;
      copy.src_strides[d] = s;
      if (kind == 1 && n > 1) { /* reversed */
        copy.src_strides[d] = -s;
        offset += (n - 1) * s;
      } else if (kind == 2 && n > 2) { /* every other element */
        copy.dims[d] = (n + 1) / 2;
        copy.src_strides[d] = 2 * s;
      } else if (kind == 3 && n > 1) { /* broadcast of index 0 */
        copy.src_strides[d] = 0;
      }
      out_total *= copy.dims[d];
    }
    /* destination: contiguous, with a padded innermost row half the time */
    {
      int64_t stride = 1, pad = trial % 2;
      for (d = rank - 1; d >= 0; d--) {
        copy.dst_strides[d] = stride;
        stride *= copy.dims[d] + (d == rank - 1 ? pad : 0);
      }
      out_total = stride;
    }
    copy.element_size = elem;
    copy.src = src + offset * (int64_t)elem;
    fast = calloc((size_t)out_total, elem);
    slow = calloc((size_t)out_total, elem);
    copy.dst = fast;
    sc_shape_copy_run(&copy, trial % 3 ? pool : NULL);
    copy.dst = slow;
    sc_shape_copy_reference(&copy);
    if (memcmp(fast, slow, (size_t)out_total * elem) != 0)
      fail_msg("trial %d (rank %d, element size %zu): fast path differs", trial,
               rank, elem);
    free(src);
    free(fast);
    free(slow);
  }
  sc_threadpool_free(pool);
}

/* --- large tensors through the kernels vs plain loops ----------------------
 */

/* NCHW -> NHWC of a 1x64x112x112 float tensor on two threads. */
static void test_transpose_large_matches_plain_loop(void **state)
{
  struct op_case c = {0};
  int64_t dims[4] = {1, 64, 112, 112}, perm[4] = {0, 2, 3, 1};
  int64_t ch, y, x;
  struct sc_threadpool *pool = two_threads();
  const float *in, *out;
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 4, dims);
  case_build(&c, 13, "Transpose");
  sc_node_set_attr_ints(c.node, "perm", 4, perm, NULL);
  assert_int_equal(case_run(&c, pool), SC_OK);
  in = c.in[0]->data;
  out = c.out[0]->data;
  assert_int_equal(c.out[0]->dims[3], 64);
  for (ch = 0; ch < 64; ch++)
    for (y = 0; y < 112; y++)
      for (x = 0; x < 112; x++)
        if (out[(y * 112 + x) * 64 + ch] != in[(ch * 112 + y) * 112 + x])
          fail_msg("mismatch at c=%lld y=%lld x=%lld", (long long)ch,
                   (long long)y, (long long)x);
  case_free(&c);
  sc_threadpool_free(pool);
}

/* Concat of [4,300,500] and [4,200,500] uint16 along axis 1, then a Slice
 * [::-1, 10:490:3] of the result, both on two threads. */
static void test_concat_and_slice_large_match_plain_loops(void **state)
{
  struct op_case c = {0}, s = {0};
  int64_t a_dims[3] = {4, 300, 500}, b_dims[3] = {4, 200, 500};
  int64_t starts[2] = {-1, 10}, ends[2] = {INT64_MIN, 490}, axes[2] = {0, 1};
  int64_t steps[2] = {-1, 3}, i, j, k;
  struct sc_threadpool *pool = two_threads();
  const uint16_t *a, *b, *cat, *sl;
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_UINT16, 3, a_dims);
  c.in[1] = iota(SC_DTYPE_UINT16, 3, b_dims);
  for (i = 0; i < c.in[1]->n_elements; i++)
    ((uint16_t *)c.in[1]->data)[i] ^= 0x5555;
  case_build(&c, 13, "Concat");
  sc_node_set_attr_int(c.node, "axis", 1, NULL);
  assert_int_equal(case_run(&c, pool), SC_OK);
  a = c.in[0]->data;
  b = c.in[1]->data;
  cat = c.out[0]->data;
  for (i = 0; i < 4; i++)
    for (j = 0; j < 500; j++)
      for (k = 0; k < 500; k++) {
        uint16_t want = j < 300 ? a[(i * 300 + j) * 500 + k]
                                : b[(i * 200 + j - 300) * 500 + k];
        if (cat[(i * 500 + j) * 500 + k] != want)
          fail_msg("concat mismatch at %lld,%lld,%lld", (long long)i,
                   (long long)j, (long long)k);
      }

  s.n_in = 5;
  s.n_out = 1;
  assert_int_equal(sc_tensor_clone(c.out[0], &s.in[0], NULL), SC_OK);
  s.in[1] = ints(2, starts);
  s.in[2] = ints(2, ends);
  s.in[3] = ints(2, axes);
  s.in[4] = ints(2, steps);
  s.constant[1] = s.constant[2] = s.constant[3] = s.constant[4] = 1;
  case_build(&s, 13, "Slice");
  assert_int_equal(case_run(&s, pool), SC_OK);
  /* rows 10, 13, ..., 487: 160 of them */
  assert_int_equal(s.out[0]->dims[0], 4);
  assert_int_equal(s.out[0]->dims[1], 160);
  assert_int_equal(s.out[0]->dims[2], 500);
  sl = s.out[0]->data;
  for (i = 0; i < 4; i++)
    for (j = 0; j < 160; j++)
      for (k = 0; k < 500; k++)
        if (sl[(i * 160 + j) * 500 + k] !=
            cat[((3 - i) * 500 + 10 + 3 * j) * 500 + k])
          fail_msg("slice mismatch at %lld,%lld,%lld", (long long)i,
                   (long long)j, (long long)k);
  case_free(&c);
  case_free(&s);
  sc_threadpool_free(pool);
}

/* Embedding-style Gather of 3000 rows of 256 floats on two threads. */
static void test_gather_large_matches_plain_loop(void **state)
{
  struct op_case c = {0};
  int64_t table_dims[2] = {1000, 256}, idx_dims[2] = {30, 100}, i, k;
  struct sc_threadpool *pool = two_threads();
  const float *table, *out;
  const int64_t *idx;
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, table_dims);
  assert_int_equal(
      sc_tensor_create(SC_DTYPE_INT64, 2, idx_dims, &c.in[1], NULL), SC_OK);
  for (i = 0; i < 3000; i++) /* negative half the time */
    ((int64_t *)c.in[1]->data)[i] =
        (int64_t)(lcg() % 1000) - (i % 2 ? 1000 : 0);
  case_build(&c, 13, "Gather");
  assert_int_equal(case_run(&c, pool), SC_OK);
  table = c.in[0]->data;
  idx = c.in[1]->data;
  out = c.out[0]->data;
  assert_int_equal(c.out[0]->rank, 3);
  for (i = 0; i < 3000; i++) {
    int64_t row = idx[i] < 0 ? idx[i] + 1000 : idx[i];
    for (k = 0; k < 256; k++)
      if (out[i * 256 + k] != table[row * 256 + k])
        fail_msg("gather mismatch at index %lld", (long long)i);
  }
  case_free(&c);
  sc_threadpool_free(pool);
}

/* --- Reshape family ----------------------------------------------------------
 */

/* opset 1 reads the `shape` attribute: [0, -1] on [2,3,4] is [2,12]. */
static void test_reshape_v1_shape_attribute(void **state)
{
  struct op_case c = {0};
  int64_t dims[3] = {2, 3, 4}, shape[2] = {0, -1}, want[2] = {2, 12};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT16, 3, dims);
  case_build(&c, 1, "Reshape");
  sc_node_set_attr_ints(c.node, "shape", 2, shape, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(c.out[0]->rank, 2);
  assert_memory_equal(c.out[0]->dims, want, sizeof want);
  assert_memory_equal(c.out[0]->data, c.in[0]->data, 24 * 2);
  case_free(&c);
}

/* allowzero=1 keeps a literal 0: [0,3] reshaped to [3,0]. */
static void test_reshape_allowzero_keeps_zero(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {0, 3}, shape[2] = {3, 0};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(2, shape);
  case_build(&c, 14, "Reshape");
  sc_node_set_attr_int(c.node, "allowzero", 1, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(c.out[0]->dims[0], 3);
  assert_int_equal(c.out[0]->dims[1], 0);
  case_free(&c);
}

static void test_reshape_wrong_count_fails_naming_node(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {4, 6}, shape[2] = {5, 5};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(2, shape);
  c.constant[1] = 1;
  case_build(&c, 13, "Reshape");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

static void test_reshape_two_inferred_dims_fail_naming_node(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {4, 6}, shape[3] = {-1, 2, -1};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(3, shape); /* a graph input: detected at run time */
  case_build(&c, 13, "Reshape");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  assert_non_null(strstr(c.err.message, "-1"));
  case_free(&c);
}

/* A constant shape gives a static output shape; a fed one defers. */
static void test_reshape_static_shape_only_when_value_known(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[2] = {4, 6}, shape[1] = {24};
  int v;
  (void)state;
  c.n_in = d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(1, shape);
  c.constant[1] = 1;
  d.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  d.in[1] = ints(1, shape);
  case_build(&c, 13, "Reshape");
  case_build(&d, 13, "Reshape");
  assert_int_equal(sc_graph_prepare(c.g, NULL), SC_OK);
  assert_int_equal(sc_graph_prepare(d.g, NULL), SC_OK);
  v = sc_graph_find_value(c.g, "y0");
  assert_int_equal(c.g->values[v].rank, 1);
  assert_int_equal(c.g->values[v].dims[0], 24);
  v = sc_graph_find_value(d.g, "y0");
  assert_int_equal(d.g->values[v].rank, -1);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_int_equal(d.out[0]->dims[0], 24);
  case_free(&c);
  case_free(&d);
}

static void test_flatten_axis_out_of_range_fails_naming_node(void **state)
{
  struct op_case c = {0};
  int64_t dims[3] = {2, 3, 4};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 3, dims);
  case_build(&c, 13, "Flatten");
  sc_node_set_attr_int(c.node, "axis", 4, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* Squeeze-1 takes the axes attribute; Squeeze-13 without axes drops every
 * unit dim. */
static void test_squeeze_attribute_and_default_axes(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[4] = {1, 3, 1, 2}, axes[1] = {2};
  (void)state;
  c.n_in = d.n_in = 1;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_INT8, 4, dims);
  d.in[0] = iota(SC_DTYPE_INT8, 4, dims);
  case_build(&c, 1, "Squeeze");
  sc_node_set_attr_ints(c.node, "axes", 1, axes, NULL);
  case_build(&d, 13, "Squeeze");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_int_equal(c.out[0]->rank, 3); /* [1,3,2] */
  assert_int_equal(c.out[0]->dims[0], 1);
  assert_int_equal(d.out[0]->rank, 2); /* [3,2] */
  assert_int_equal(d.out[0]->dims[1], 2);
  assert_memory_equal(d.out[0]->data, d.in[0]->data, 6);
  case_free(&c);
  case_free(&d);
}

static void test_squeeze_non_unit_axis_fails_naming_node(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {1, 3}, axes[1] = {1};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(1, axes);
  c.constant[1] = 1;
  case_build(&c, 13, "Squeeze");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* Unsqueeze-11: negative axes count in the output rank: [3] with -1 is
 * [3,1]; a repeated axis fails. */
static void test_unsqueeze_v11_negative_axis_and_repeat(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[1] = {3}, axes[1] = {-1}, twice[2] = {0, 0};
  (void)state;
  c.n_in = d.n_in = 1;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_BOOL, 1, dims);
  d.in[0] = iota(SC_DTYPE_BOOL, 1, dims);
  case_build(&c, 11, "Unsqueeze");
  sc_node_set_attr_ints(c.node, "axes", 1, axes, NULL);
  case_build(&d, 11, "Unsqueeze");
  sc_node_set_attr_ints(d.node, "axes", 2, twice, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(c.out[0]->rank, 2);
  assert_int_equal(c.out[0]->dims[0], 3);
  assert_int_equal(c.out[0]->dims[1], 1);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* --- Dropout
 * ------------------------------------------------------------------ */

/* Opset 7: the mask has the data's type (ones); opset 10: bool (true). */
static void test_dropout_masks_by_opset(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[1] = {3};
  double ones[3] = {1, 1, 1};
  (void)state;
  c.n_in = d.n_in = 1;
  c.n_out = d.n_out = 2;
  c.in[0] = iota(SC_DTYPE_FLOAT, 1, dims);
  d.in[0] = iota(SC_DTYPE_FLOAT, 1, dims);
  case_build(&c, 7, "Dropout");
  sc_node_set_attr_float(c.node, "ratio", 0.3f, NULL);
  case_build(&d, 10, "Dropout");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_tensor_close(c.out[0], c.in[0], 0, 0);
  assert_exact(c.out[1], SC_DTYPE_FLOAT, 1, dims, ones);
  assert_exact(d.out[1], SC_DTYPE_BOOL, 1, dims, ones);
  case_free(&c);
  case_free(&d);
}

/* Opset 12+: training with ratio 0 is the identity; with ratio 0.5 it is
 * random and refused before running. */
static void test_dropout_training_mode(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[1] = {4};
  double ones[4] = {1, 1, 1, 1};
  (void)state;
  c.n_in = d.n_in = 3;
  c.n_out = d.n_out = 2;
  c.in[0] = iota(SC_DTYPE_FLOAT, 1, dims);
  c.in[1] = scalar(SC_DTYPE_FLOAT, 0.0);
  c.in[2] = scalar(SC_DTYPE_BOOL, 1.0);
  d.in[0] = iota(SC_DTYPE_FLOAT, 1, dims);
  d.in[1] = scalar(SC_DTYPE_FLOAT, 0.5);
  d.in[2] = scalar(SC_DTYPE_BOOL, 1.0);
  d.constant[1] = d.constant[2] = 1;
  case_build(&c, 13, "Dropout");
  case_build(&d, 13, "Dropout");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_tensor_close(c.out[0], c.in[0], 0, 0);
  assert_exact(c.out[1], SC_DTYPE_BOOL, 1, dims, ones);
  assert_fails_naming_node(&d, sc_graph_prepare(d.g, &d.err),
                           SC_ERR_UNSUPPORTED);
  case_free(&c);
  case_free(&d);
}

/* --- Shape, Size, Constant, ConstantOfShape, Range, EyeLike ----------------
 */

/* Shape-15 of [2,3,4,5] with start -3, end -1 is [3,4]; Size is 120. */
static void test_shape_start_end_and_size(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[4] = {2, 3, 4, 5}, two = 2;
  double want[2] = {3, 4}, size = 120;
  (void)state;
  c.n_in = d.n_in = 1;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_UINT8, 4, dims);
  d.in[0] = iota(SC_DTYPE_UINT8, 4, dims);
  case_build(&c, 15, "Shape");
  sc_node_set_attr_int(c.node, "start", -3, NULL);
  sc_node_set_attr_int(c.node, "end", -1, NULL);
  case_build(&d, 13, "Size");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT64, 1, &two, want);
  assert_exact(d.out[0], SC_DTYPE_INT64, 0, NULL, &size);
  case_free(&c);
  case_free(&d);
}

static void test_constant_value_attributes(void **state)
{
  struct op_case c = {0}, d = {0}, e = {0};
  float floats[3] = {1.5f, -2.0f, 0.25f};
  double want_floats[3] = {1.5, -2.0, 0.25}, want_int = -7;
  int64_t three = 3, half_dims[2] = {1, 2};
  double halves[2] = {0.5, -1.0};
  (void)state;
  c.n_out = d.n_out = e.n_out = 1;
  case_build(&c, 13, "Constant");
  sc_node_set_attr_floats(c.node, "value_floats", 3, floats, NULL);
  case_build(&d, 13, "Constant");
  sc_node_set_attr_int(d.node, "value_int", -7, NULL);
  case_build(&e, 13, "Constant");
  sc_node_set_attr_tensor(e.node, "value",
                          tensor(SC_DTYPE_FLOAT16, 2, half_dims, halves), NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_int_equal(case_run(&e, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 1, &three, want_floats);
  assert_exact(d.out[0], SC_DTYPE_INT64, 0, NULL, &want_int);
  assert_exact(e.out[0], SC_DTYPE_FLOAT16, 2, half_dims, halves);
  case_free(&c);
  case_free(&d);
  case_free(&e);
}

/* sparse_value arrives densified by the loader in attr->t. */
static void test_constant_sparse_value_uses_dense_copy(void **state)
{
  struct op_case c = {0};
  struct sc_attr a;
  int64_t four = 4;
  double dense[4] = {0, 3, 0, 1};
  (void)state;
  c.n_out = 1;
  case_build(&c, 13, "Constant");
  memset(&a, 0, sizeof a);
  a.name = strdup("sparse_value");
  a.type = SC_ATTR_SPARSE_TENSOR;
  a.t = tensor(SC_DTYPE_INT32, 1, &four, dense);
  assert_int_equal(sc_node_add_attr(c.node, &a, NULL), SC_OK);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT32, 1, &four, dense);
  case_free(&c);
}

static void test_constant_without_or_with_two_values_fails(void **state)
{
  struct op_case c = {0}, d = {0};
  (void)state;
  c.n_out = d.n_out = 1;
  case_build(&c, 13, "Constant");
  case_build(&d, 13, "Constant");
  sc_node_set_attr_int(d.node, "value_int", 1, NULL);
  sc_node_set_attr_float(d.node, "value_float", 1.0f, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* Default value is float 0; an int32 value 7 fills [2,2]; a negative dim
 * fails. */
static void test_constant_of_shape(void **state)
{
  struct op_case c = {0}, d = {0}, e = {0};
  int64_t shape[2] = {2, 2}, bad[2] = {2, -1}, one = 1;
  double zeros[4] = {0, 0, 0, 0}, sevens[4] = {7, 7, 7, 7}, seven = 7;
  (void)state;
  c.n_in = d.n_in = e.n_in = 1;
  c.n_out = d.n_out = e.n_out = 1;
  c.in[0] = ints(2, shape);
  d.in[0] = ints(2, shape);
  e.in[0] = ints(2, bad);
  case_build(&c, 9, "ConstantOfShape");
  case_build(&d, 9, "ConstantOfShape");
  sc_node_set_attr_tensor(d.node, "value",
                          tensor(SC_DTYPE_INT32, 1, &one, &seven), NULL);
  case_build(&e, 9, "ConstantOfShape");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 2, shape, zeros);
  assert_exact(d.out[0], SC_DTYPE_INT32, 2, shape, sevens);
  assert_fails_naming_node(&e, case_run(&e, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
  case_free(&e);
}

/* Range(10, 4, -3) in int16 is [10, 7]; delta 0 fails; an absurd count is
 * refused, not allocated. */
static void test_range_values_and_errors(void **state)
{
  struct op_case c = {0}, d = {0}, e = {0};
  int64_t two = 2;
  double want[2] = {10, 7};
  (void)state;
  c.n_in = d.n_in = e.n_in = 3;
  c.n_out = d.n_out = e.n_out = 1;
  c.in[0] = scalar(SC_DTYPE_INT16, 10);
  c.in[1] = scalar(SC_DTYPE_INT16, 4);
  c.in[2] = scalar(SC_DTYPE_INT16, -3);
  d.in[0] = scalar(SC_DTYPE_FLOAT, 0);
  d.in[1] = scalar(SC_DTYPE_FLOAT, 1);
  d.in[2] = scalar(SC_DTYPE_FLOAT, 0);
  e.in[0] = scalar(SC_DTYPE_INT64, 0);
  e.in[1] = scalar(SC_DTYPE_INT64, 9e18);
  e.in[2] = scalar(SC_DTYPE_INT64, 1);
  case_build(&c, 11, "Range");
  case_build(&d, 11, "Range");
  case_build(&e, 11, "Range");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT16, 1, &two, want);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  assert_fails_naming_node(&e, case_run(&e, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
  case_free(&e);
}

/* EyeLike of a 3x3 float with dtype int32 and k = -1: ones below the
 * diagonal. */
static void test_eye_like_below_diagonal(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {3, 3};
  double want[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  case_build(&c, 9, "EyeLike");
  sc_node_set_attr_int(c.node, "dtype", SC_DTYPE_INT32, NULL);
  sc_node_set_attr_int(c.node, "k", -1, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT32, 2, dims, want);
  case_free(&c);
}

/* Trilu lower with k = 0 on a bool 2x3 of ones. */
static void test_trilu_lower_bool(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3};
  double all[6] = {1, 1, 1, 1, 1, 1}, want[6] = {1, 0, 0, 1, 1, 0};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_BOOL, 2, dims, all);
  case_build(&c, 14, "Trilu");
  sc_node_set_attr_int(c.node, "upper", 0, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_BOOL, 2, dims, want);
  case_free(&c);
}

/* --- layout ----------------------------------------------------------------
 */

static void test_transpose_bad_perm_fails_naming_node(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3}, perm[2] = {0, 0};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  case_build(&c, 13, "Transpose");
  sc_node_set_attr_ints(c.node, "perm", 2, perm, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* Default perm reverses the dims; float16 bytes move unchanged. */
static void test_transpose_default_perm_float16(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3}, out_dims[2] = {3, 2};
  double v[6] = {0.5, 1, 2, 3, 4, 65504}, want[6] = {0.5, 3, 1, 4, 2, 65504};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT16, 2, dims, v);
  case_build(&c, 13, "Transpose");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT16, 2, out_dims, want);
  case_free(&c);
}

static void test_depth_to_space_indivisible_channels_fail(void **state)
{
  struct op_case c = {0};
  int64_t dims[4] = {1, 6, 2, 2};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 4, dims);
  case_build(&c, 13, "DepthToSpace");
  sc_node_set_attr_int(c.node, "blocksize", 2, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* Concat-1 defaults to axis 1; mismatched dims fail. */
static void test_concat_v1_default_axis_and_mismatch(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t a[2] = {2, 1}, b[2] = {2, 2}, bad[2] = {3, 2}, out[2] = {2, 3};
  double want[6] = {0, 0, 1, 1, 2, 3};
  (void)state;
  c.n_in = d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_DOUBLE, 2, a);
  c.in[1] = iota(SC_DTYPE_DOUBLE, 2, b);
  d.in[0] = iota(SC_DTYPE_DOUBLE, 2, a);
  d.in[1] = iota(SC_DTYPE_DOUBLE, 2, bad);
  case_build(&c, 1, "Concat");
  case_build(&d, 13, "Concat");
  sc_node_set_attr_int(d.node, "axis", 1, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  /* row 0: a[0]=0, b[0,:]=0,1; row 1: a[1]=1, b[1,:]=2,3 */
  assert_exact(c.out[0], SC_DTYPE_DOUBLE, 2, out, want);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* Split-2 sizes from the attribute; Split-18 num_outputs 3 on 7 gives
 * 3, 3, 1; Split-13 into 2 equal parts of 7 fails. */
static void test_split_variants(void **state)
{
  struct op_case c = {0}, d = {0}, e = {0};
  int64_t dims[1] = {7}, split[2] = {2, 5}, two = 2, five = 5, three = 3;
  int64_t one = 1;
  double first[2] = {0, 1}, second[5] = {2, 3, 4, 5, 6};
  double p0[3] = {0, 1, 2}, p2[1] = {6};
  (void)state;
  c.n_in = d.n_in = e.n_in = 1;
  c.n_out = 2;
  d.n_out = 3;
  e.n_out = 2;
  c.in[0] = iota(SC_DTYPE_INT32, 1, dims);
  d.in[0] = iota(SC_DTYPE_INT32, 1, dims);
  e.in[0] = iota(SC_DTYPE_INT32, 1, dims);
  case_build(&c, 2, "Split");
  sc_node_set_attr_ints(c.node, "split", 2, split, NULL);
  case_build(&d, 18, "Split");
  sc_node_set_attr_int(d.node, "num_outputs", 3, NULL);
  case_build(&e, 13, "Split");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT32, 1, &two, first);
  assert_exact(c.out[1], SC_DTYPE_INT32, 1, &five, second);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_exact(d.out[0], SC_DTYPE_INT32, 1, &three, p0);
  assert_exact(d.out[2], SC_DTYPE_INT32, 1, &one, p2);
  assert_fails_naming_node(&e, case_run(&e, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
  case_free(&e);
}

/* Slice-1 reads attributes and clamps: starts [1, -100], ends [1000, 2]
 * on a 3x4 iota gives rows 1..2, columns 0..1. */
static void test_slice_v1_attributes_clamp(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {3, 4}, starts[2] = {1, -100}, ends[2] = {1000, 2};
  int64_t out[2] = {2, 2};
  double want[4] = {4, 5, 8, 9};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  case_build(&c, 1, "Slice");
  sc_node_set_attr_ints(c.node, "starts", 2, starts, NULL);
  sc_node_set_attr_ints(c.node, "ends", 2, ends, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 2, out, want);
  case_free(&c);
}

/* numpy: np.arange(10)[-1:-2**63:-3] == [9, 6, 3, 0]; int32 parameters. */
static void test_slice_negative_step_to_int64_min(void **state)
{
  struct op_case c = {0};
  int64_t dims[1] = {10}, one = 1, four = 4;
  double start = -1, end = -2147483648.0, step = -3;
  double want[4] = {9, 6, 3, 0};
  (void)state;
  c.n_in = 5;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_INT64, 1, dims);
  c.in[1] = tensor(SC_DTYPE_INT32, 1, &one, &start);
  c.in[2] = tensor(SC_DTYPE_INT32, 1, &one, &end);
  c.in[4] = tensor(SC_DTYPE_INT32, 1, &one, &step);
  case_build(&c, 13, "Slice");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT64, 1, &four, want);
  case_free(&c);
}

static void test_slice_zero_step_and_repeated_axis_fail(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[2] = {3, 4}, zero[1] = {0}, one[1] = {1}, two[2] = {0, 0};
  int64_t axes[2] = {1, -1}, ends[2] = {2, 2};
  (void)state;
  c.n_in = 5;
  d.n_in = 4;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(1, zero);
  c.in[2] = ints(1, one);
  c.in[4] = ints(1, zero);
  d.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  d.in[1] = ints(2, two);
  d.in[2] = ints(2, ends);
  d.in[3] = ints(2, axes);
  case_build(&c, 13, "Slice");
  case_build(&d, 13, "Slice");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* Expand bool [3,1] to [2,1,4]: output [2,3,4], rows repeated. */
static void test_expand_bool_and_negative_dim(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[2] = {3, 1}, shape[3] = {2, 1, 4}, bad[2] = {-1, 1};
  double v[3] = {1, 0, 1};
  int64_t i;
  (void)state;
  c.n_in = d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_BOOL, 2, dims, v);
  c.in[1] = ints(3, shape);
  d.in[0] = tensor(SC_DTYPE_BOOL, 2, dims, v);
  d.in[1] = ints(2, bad);
  case_build(&c, 13, "Expand");
  case_build(&d, 13, "Expand");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(c.out[0]->rank, 3);
  assert_int_equal(c.out[0]->n_elements, 24);
  for (i = 0; i < 24; i++)
    assert_int_equal(((uint8_t *)c.out[0]->data)[i], (uint8_t)v[(i / 4) % 3]);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* Tile-1 repeats along one axis (tiles 2, axis 1 on [2,2] -> [2,4]);
 * Tile-6 with a hostile repeat count fails before allocating. */
static void test_tile_v1_and_hostile_repeats(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[2] = {2, 2}, out[2] = {2, 4}, huge[2] = {1, INT64_MAX / 2};
  double want[8] = {0, 1, 0, 1, 2, 3, 2, 3};
  (void)state;
  c.n_in = 3;
  d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_UINT8, 2, dims);
  c.in[1] = scalar(SC_DTYPE_INT64, 2);
  c.in[2] = scalar(SC_DTYPE_INT64, 1);
  d.in[0] = iota(SC_DTYPE_UINT8, 2, dims);
  d.in[1] = ints(2, huge);
  case_build(&c, 1, "Tile");
  case_build(&d, 13, "Tile");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_UINT8, 2, out, want);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* numpy: np.pad([[1,2,3],[4,5,6]], ((1,0),(2,1)), 'reflect') ==
 * [[6,5,4,5,6,5],[3,2,1,2,3,2],[6,5,4,5,6,5]] (Pad-2, pads attribute). */
static void test_pad_v2_reflect(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3}, pads[4] = {1, 2, 0, 1}, out[2] = {3, 6};
  double v[6] = {1, 2, 3, 4, 5, 6};
  double want[18] = {6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 2, dims, v);
  case_build(&c, 2, "Pad");
  sc_node_set_attr_ints(c.node, "pads", 4, pads, NULL);
  sc_node_set_attr_string(c.node, "mode", "reflect", 7, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 2, out, want);
  case_free(&c);
}

/* numpy: np.pad([1,2,3], 4, 'reflect') == [1,2,3,2,1,2,3,2,1,2,3]: pads
 * longer than the axis reflect repeatedly. */
static void test_pad_reflect_beyond_axis_length(void **state)
{
  struct op_case c = {0};
  int64_t dims[1] = {3}, pads[2] = {4, 4}, out = 11;
  double v[3] = {1, 2, 3}, want[11] = {1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_INT16, 1, dims, v);
  c.in[1] = ints(2, pads);
  case_build(&c, 13, "Pad");
  sc_node_set_attr_string(c.node, "mode", "reflect", 7, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT16, 1, &out, want);
  case_free(&c);
}

/* Pad-18 with axes [-1], edge mode, a negative (cropping) begin:
 * [[1,2,3],[4,5,6]] with pads (-1, 2) on the last axis gives
 * [[2,3,3,3],[5,6,6,6]]. */
static void test_pad_v18_axes_edge_with_crop(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3}, pads[2] = {-1, 2}, axes[1] = {-1}, out[2] = {2, 4};
  double v[6] = {1, 2, 3, 4, 5, 6}, want[8] = {2, 3, 3, 3, 5, 6, 6, 6};
  (void)state;
  c.n_in = 4;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 2, dims, v);
  c.in[1] = ints(2, pads);
  c.in[3] = ints(1, axes);
  case_build(&c, 18, "Pad");
  sc_node_set_attr_string(c.node, "mode", "edge", 4, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 2, out, want);
  case_free(&c);
}

/* Pad-11 constant_value 9 in uint8; bad pad count fails. */
static void test_pad_constant_value_and_bad_count(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[1] = {2}, pads[2] = {1, 2}, bad[3] = {1, 1, 1}, out = 5;
  double want[5] = {9, 0, 1, 9, 9};
  (void)state;
  c.n_in = 3;
  d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = iota(SC_DTYPE_UINT8, 1, dims);
  c.in[1] = ints(2, pads);
  c.in[2] = scalar(SC_DTYPE_UINT8, 9);
  d.in[0] = iota(SC_DTYPE_UINT8, 1, dims);
  d.in[1] = ints(3, bad);
  case_build(&c, 11, "Pad");
  case_build(&d, 11, "Pad");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_UINT8, 1, &out, want);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

static void test_reverse_sequence_too_long_fails(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {3, 2}, lens[2] = {1, 4};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(2, lens);
  case_build(&c, 10, "ReverseSequence");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* --- indexing --------------------------------------------------------------
 */

/* An index found out of range while running fails naming the node. */
static void test_gather_index_out_of_range_fails_in_run(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {3, 2}, idx[2] = {0, 3};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(2, idx);
  case_build(&c, 13, "Gather");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  assert_non_null(strstr(c.err.message, "3"));
  case_free(&c);
}

/* A constant out-of-range index fails preparation, before anything runs. */
static void test_gather_constant_bad_index_fails_at_prepare(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {3, 2}, idx[1] = {-4};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(1, idx);
  c.constant[1] = 1;
  case_build(&c, 13, "Gather");
  assert_fails_naming_node(&c, sc_graph_prepare(c.g, &c.err), SC_ERR_FORMAT);
  case_free(&c);
}

/* Gather on axis 1 of bfloat16 with int32 indices [[-1],[0]]:
 * [[0,1,2],[3,4,5]] -> [[[2],[0]],[[5],[3]]]. */
static void test_gather_axis1_bfloat16_int32_indices(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 3}, idx_dims[2] = {2, 1}, out[3] = {2, 2, 1};
  double idx[2] = {-1, 0}, want[4] = {2, 0, 5, 3};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_BFLOAT16, 2, dims);
  c.in[1] = tensor(SC_DTYPE_INT32, 2, idx_dims, idx);
  case_build(&c, 13, "Gather");
  sc_node_set_attr_int(c.node, "axis", 1, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_BFLOAT16, 3, out, want);
  case_free(&c);
}

static void test_gather_elements_index_out_of_range_fails(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 2}, idx[4] = {0, 1, -3, 0};
  (void)state;
  c.n_in = 2;
  c.n_out = 1;
  c.in[0] = iota(SC_DTYPE_FLOAT, 2, dims);
  c.in[1] = ints(4, idx);
  c.in[1]->rank = 2;
  c.in[1]->dims[0] = c.in[1]->dims[1] = 2;
  case_build(&c, 13, "GatherElements");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* ScatterElements-18 max and min: data [1,5,3], indices [0,0,2],
 * updates [4,2,1] -> max [4,5,3], min [1,5,1]. */
static void test_scatter_elements_max_min(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t three = 3, idx[3] = {0, 0, 2};
  double data[3] = {1, 5, 3}, upd[3] = {4, 2, 1};
  double want_max[3] = {4, 5, 3}, want_min[3] = {1, 5, 1};
  (void)state;
  c.n_in = d.n_in = 3;
  c.n_out = d.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 1, &three, data);
  c.in[1] = ints(3, idx);
  c.in[2] = tensor(SC_DTYPE_FLOAT, 1, &three, upd);
  d.in[0] = tensor(SC_DTYPE_FLOAT, 1, &three, data);
  d.in[1] = ints(3, idx);
  d.in[2] = tensor(SC_DTYPE_FLOAT, 1, &three, upd);
  case_build(&c, 18, "ScatterElements");
  sc_node_set_attr_string(c.node, "reduction", "max", 3, NULL);
  case_build(&d, 18, "ScatterElements");
  sc_node_set_attr_string(d.node, "reduction", "min", 3, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 1, &three, want_max);
  assert_exact(d.out[0], SC_DTYPE_FLOAT, 1, &three, want_min);
  case_free(&c);
  case_free(&d);
}

/* "max" is not a reduction before opset 18. */
static void test_scatter_elements_max_before_18_fails(void **state)
{
  struct op_case c = {0};
  int64_t one = 1, idx[1] = {0};
  double v = 1;
  (void)state;
  c.n_in = 3;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 1, &one, &v);
  c.in[1] = ints(1, idx);
  c.in[2] = tensor(SC_DTYPE_FLOAT, 1, &one, &v);
  case_build(&c, 16, "ScatterElements");
  sc_node_set_attr_string(c.node, "reduction", "max", 3, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* ScatterND-16 add on float16: data [1,2,3,4], indices [[1],[1],[3]],
 * updates [0.5, 0.25, 1] -> [1, 2.75, 3, 5]. */
static void test_scatter_nd_add_float16(void **state)
{
  struct op_case c = {0};
  int64_t four = 4, three = 3, idx[3] = {1, 1, 3};
  double data[4] = {1, 2, 3, 4}, upd[3] = {0.5, 0.25, 1};
  double want[4] = {1, 2.75, 3, 5};
  (void)state;
  c.n_in = 3;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT16, 1, &four, data);
  c.in[1] = ints(3, idx);
  c.in[1]->rank = 2;
  c.in[1]->dims[0] = 3;
  c.in[1]->dims[1] = 1;
  c.in[2] = tensor(SC_DTYPE_FLOAT16, 1, &three, upd);
  case_build(&c, 16, "ScatterND");
  sc_node_set_attr_string(c.node, "reduction", "add", 3, NULL);
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT16, 1, &four, want);
  case_free(&c);
}

static void test_scatter_nd_index_out_of_range_fails_in_run(void **state)
{
  struct op_case c = {0};
  int64_t four = 4, one = 1, idx[1] = {4};
  double data[4] = {1, 2, 3, 4}, upd = 9;
  (void)state;
  c.n_in = 3;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 1, &four, data);
  c.in[1] = ints(1, idx);
  c.in[1]->rank = 2;
  c.in[1]->dims[0] = 1;
  c.in[1]->dims[1] = 1;
  c.in[2] = tensor(SC_DTYPE_FLOAT, 1, &one, &upd);
  case_build(&c, 13, "ScatterND");
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_FORMAT);
  case_free(&c);
}

/* Compress without axis flattens: [[1,2],[3,4]] with [0,1,1] -> [2,3]; a
 * true entry beyond the data fails. */
static void test_compress_flattened_and_overlong_condition(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t dims[2] = {2, 2}, three = 3, five = 5, two = 2;
  double v[4] = {1, 2, 3, 4}, cond[3] = {0, 1, 1};
  double overlong[5] = {0, 0, 0, 0, 1}, want[2] = {2, 3};
  (void)state;
  c.n_in = d.n_in = 2;
  c.n_out = d.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_INT64, 2, dims, v);
  c.in[1] = tensor(SC_DTYPE_BOOL, 1, &three, cond);
  d.in[0] = tensor(SC_DTYPE_INT64, 2, dims, v);
  d.in[1] = tensor(SC_DTYPE_BOOL, 1, &five, overlong);
  case_build(&c, 11, "Compress");
  case_build(&d, 11, "Compress");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT64, 1, &two, want);
  assert_fails_naming_node(&d, case_run(&d, NULL), SC_ERR_FORMAT);
  case_free(&c);
  case_free(&d);
}

/* OneHot: index 5 is out of range for depth 3 (all "off"), -1 is 2. */
static void test_one_hot_out_of_range_is_all_off(void **state)
{
  struct op_case c = {0};
  int64_t two = 2, out[2] = {2, 3}, idx[2] = {5, -1};
  double values[2] = {0, 7}, want[6] = {0, 0, 0, 0, 0, 7};
  (void)state;
  c.n_in = 3;
  c.n_out = 1;
  c.in[0] = ints(2, idx);
  c.in[1] = scalar(SC_DTYPE_INT64, 3);
  c.in[2] = tensor(SC_DTYPE_INT8, 1, &two, values);
  case_build(&c, 11, "OneHot");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_INT8, 2, out, want);
  case_free(&c);
}

/* NonZero compares floats by value: -0 is zero, NaN is not. */
static void test_non_zero_float_values(void **state)
{
  struct op_case c = {0};
  int64_t dims[2] = {2, 2}, out[2] = {2, 2};
  double v[4] = {-0.0, NAN, 0.0, 2.5}, want[4] = {0, 1, 1, 1};
  (void)state;
  c.n_in = 1;
  c.n_out = 1;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 2, dims, v);
  case_build(&c, 13, "NonZero");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  /* nonzero at (0,1) and (1,1): rows [0,1] and [1,1] */
  assert_exact(c.out[0], SC_DTYPE_INT64, 2, out, want);
  case_free(&c);
}

/* The ONNX Unique example 1 (sorted=0) and numpy's np.unique for
 * sorted=1 on [2,1,1,3,4,3]: all four outputs. */
static void test_unique_sorted_and_unsorted_outputs(void **state)
{
  struct op_case c = {0}, d = {0};
  int64_t six = 6, four = 4;
  double x[6] = {2, 1, 1, 3, 4, 3};
  double y0[4] = {2, 1, 3, 4}, i0[4] = {0, 1, 3, 4}, v0[6] = {0, 1, 1, 2, 3, 2};
  double c0[4] = {1, 2, 2, 1};
  double y1[4] = {1, 2, 3, 4}, i1[4] = {1, 0, 3, 4}, v1[6] = {1, 0, 0, 2, 3, 2};
  double c1[4] = {2, 1, 2, 1};
  (void)state;
  c.n_in = d.n_in = 1;
  c.n_out = d.n_out = 4;
  c.in[0] = tensor(SC_DTYPE_FLOAT, 1, &six, x);
  d.in[0] = tensor(SC_DTYPE_FLOAT, 1, &six, x);
  case_build(&c, 11, "Unique");
  sc_node_set_attr_int(c.node, "sorted", 0, NULL);
  case_build(&d, 11, "Unique");
  assert_int_equal(case_run(&c, NULL), SC_OK);
  assert_int_equal(case_run(&d, NULL), SC_OK);
  assert_exact(c.out[0], SC_DTYPE_FLOAT, 1, &four, y0);
  assert_exact(c.out[1], SC_DTYPE_INT64, 1, &four, i0);
  assert_exact(c.out[2], SC_DTYPE_INT64, 1, &six, v0);
  assert_exact(c.out[3], SC_DTYPE_INT64, 1, &four, c0);
  assert_exact(d.out[0], SC_DTYPE_FLOAT, 1, &four, y1);
  assert_exact(d.out[1], SC_DTYPE_INT64, 1, &four, i1);
  assert_exact(d.out[2], SC_DTYPE_INT64, 1, &six, v1);
  assert_exact(d.out[3], SC_DTYPE_INT64, 1, &four, c1);
  case_free(&c);
  case_free(&d);
}

/* String constants are refused as unsupported, naming the node. */
static void test_string_constant_is_unsupported(void **state)
{
  struct op_case c = {0};
  (void)state;
  c.n_out = 1;
  case_build(&c, 13, "Constant");
  sc_node_set_attr_string(c.node, "value_string", "abc", 3, NULL);
  assert_fails_naming_node(&c, case_run(&c, NULL), SC_ERR_UNSUPPORTED);
  case_free(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_copy_fast_path_matches_reference),
      cmocka_unit_test(test_transpose_large_matches_plain_loop),
      cmocka_unit_test(test_concat_and_slice_large_match_plain_loops),
      cmocka_unit_test(test_gather_large_matches_plain_loop),
      cmocka_unit_test(test_reshape_v1_shape_attribute),
      cmocka_unit_test(test_reshape_allowzero_keeps_zero),
      cmocka_unit_test(test_reshape_wrong_count_fails_naming_node),
      cmocka_unit_test(test_reshape_two_inferred_dims_fail_naming_node),
      cmocka_unit_test(test_reshape_static_shape_only_when_value_known),
      cmocka_unit_test(test_flatten_axis_out_of_range_fails_naming_node),
      cmocka_unit_test(test_squeeze_attribute_and_default_axes),
      cmocka_unit_test(test_squeeze_non_unit_axis_fails_naming_node),
      cmocka_unit_test(test_unsqueeze_v11_negative_axis_and_repeat),
      cmocka_unit_test(test_dropout_masks_by_opset),
      cmocka_unit_test(test_dropout_training_mode),
      cmocka_unit_test(test_shape_start_end_and_size),
      cmocka_unit_test(test_constant_value_attributes),
      cmocka_unit_test(test_constant_sparse_value_uses_dense_copy),
      cmocka_unit_test(test_constant_without_or_with_two_values_fails),
      cmocka_unit_test(test_constant_of_shape),
      cmocka_unit_test(test_range_values_and_errors),
      cmocka_unit_test(test_eye_like_below_diagonal),
      cmocka_unit_test(test_trilu_lower_bool),
      cmocka_unit_test(test_transpose_bad_perm_fails_naming_node),
      cmocka_unit_test(test_transpose_default_perm_float16),
      cmocka_unit_test(test_depth_to_space_indivisible_channels_fail),
      cmocka_unit_test(test_concat_v1_default_axis_and_mismatch),
      cmocka_unit_test(test_split_variants),
      cmocka_unit_test(test_slice_v1_attributes_clamp),
      cmocka_unit_test(test_slice_negative_step_to_int64_min),
      cmocka_unit_test(test_slice_zero_step_and_repeated_axis_fail),
      cmocka_unit_test(test_expand_bool_and_negative_dim),
      cmocka_unit_test(test_tile_v1_and_hostile_repeats),
      cmocka_unit_test(test_pad_v2_reflect),
      cmocka_unit_test(test_pad_reflect_beyond_axis_length),
      cmocka_unit_test(test_pad_v18_axes_edge_with_crop),
      cmocka_unit_test(test_pad_constant_value_and_bad_count),
      cmocka_unit_test(test_reverse_sequence_too_long_fails),
      cmocka_unit_test(test_gather_index_out_of_range_fails_in_run),
      cmocka_unit_test(test_gather_constant_bad_index_fails_at_prepare),
      cmocka_unit_test(test_gather_axis1_bfloat16_int32_indices),
      cmocka_unit_test(test_gather_elements_index_out_of_range_fails),
      cmocka_unit_test(test_scatter_elements_max_min),
      cmocka_unit_test(test_scatter_elements_max_before_18_fails),
      cmocka_unit_test(test_scatter_nd_add_float16),
      cmocka_unit_test(test_scatter_nd_index_out_of_range_fails_in_run),
      cmocka_unit_test(test_compress_flattened_and_overlong_condition),
      cmocka_unit_test(test_one_hot_out_of_range_is_all_off),
      cmocka_unit_test(test_non_zero_float_values),
      cmocka_unit_test(test_unique_sorted_and_unsorted_outputs),
      cmocka_unit_test(test_string_constant_is_unsupported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
