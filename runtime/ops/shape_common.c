/* Helpers shared by the shape, layout and indexing families: the strided
 * copy engine and small-input readers (see shape_common.h). */
#include "runtime/ops/shape_common.h"

#include <stdlib.h>
#include <string.h>

/* Copies smaller than this run on the calling thread only. */
#define PARALLEL_MIN_BYTES ((size_t)1 << 20)
/* Each parallel chunk moves at least this much. */
#define CHUNK_BYTES ((int64_t)1 << 18)
/* Side of the square tiles of the 2-D transpose path, in elements: 64
 * measured best on NCHW <-> NHWC float transposes (about twice 32). */
#define TILE 64

void sc_shape_strides(int rank, const int64_t *dims, int64_t *strides)
{
  int64_t stride = 1;
  int d;
  for (d = rank - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= dims[d];
  }
}

void sc_shape_copy_init(struct sc_shape_copy *copy, int rank,
                        const int64_t *dims, size_t element_size,
                        const void *src, void *dst)
{
  memset(copy, 0, sizeof *copy);
  copy->rank = rank;
  if (rank > 0)
    memcpy(copy->dims, dims, (size_t)rank * sizeof *dims);
  sc_shape_strides(rank, dims, copy->src_strides);
  sc_shape_strides(rank, dims, copy->dst_strides);
  copy->element_size = element_size;
  copy->src = src;
  copy->dst = dst;
}

/* --- the fast path ----------------------------------------------------- */

enum inner_kind {
  INNER_CONTIGUOUS, /* memcpy of a row */
  INNER_FILL,       /* one source element repeated along the row */
  INNER_TILED,      /* 2-D transpose of dims (tile_dim, last) */
  INNER_STRIDED     /* element by element */
};

struct copy_job {
  int rank; /* of the simplified copy */
  int64_t dims[SC_SHAPE_COPY_MAX_RANK];
  int64_t ss[SC_SHAPE_COPY_MAX_RANK]; /* source strides */
  int64_t ds[SC_SHAPE_COPY_MAX_RANK]; /* destination strides */
  int n_outer;                        /* dims iterated as rows */
  int outer[SC_SHAPE_COPY_MAX_RANK];
  enum inner_kind kind;
  int tile_dim; /* INNER_TILED: the dim read contiguously */
  size_t elem;
  const char *src;
  char *dst;
};

/* Drops unit dims and merges neighbours that are contiguous in both source
 * and destination. Returns 0 when the copy is empty. */
static int simplify(const struct sc_shape_copy *copy, struct copy_job *job)
{
  int d;
  job->rank = 0;
  for (d = 0; d < copy->rank; d++) {
    int64_t n = copy->dims[d];
    int k = job->rank - 1;
    if (n == 0)
      return 0;
    if (n == 1)
      continue;
    if (k >= 0 && job->ss[k] == copy->src_strides[d] * n &&
        job->ds[k] == copy->dst_strides[d] * n) {
      job->dims[k] *= n;
      job->ss[k] = copy->src_strides[d];
      job->ds[k] = copy->dst_strides[d];
      continue;
    }
    job->dims[job->rank] = n;
    job->ss[job->rank] = copy->src_strides[d];
    job->ds[job->rank] = copy->dst_strides[d];
    job->rank++;
  }
  return 1;
}

/* Chooses the inner kernel and the dims iterated as rows. */
static void choose_inner(struct copy_job *job)
{
  int last = job->rank - 1, d;
  job->kind = INNER_STRIDED;
  job->tile_dim = -1;
  if (job->ds[last] == 1 && job->ss[last] == 1)
    job->kind = INNER_CONTIGUOUS;
  else if (job->ds[last] == 1 && job->ss[last] == 0)
    job->kind = INNER_FILL;
  else if (job->ds[last] == 1 && job->dims[last] >= 4)
    for (d = last - 1; d >= 0; d--)
      if (job->ss[d] == 1 && job->dims[d] >= 4) {
        job->kind = INNER_TILED;
        job->tile_dim = d;
        break;
      }
  job->n_outer = 0;
  for (d = 0; d < last; d++)
    if (d != job->tile_dim)
      job->outer[job->n_outer++] = d;
}

#define STRIDED_LOOP(T)                                                        \
  do {                                                                         \
    const T *s = (const T *)src;                                               \
    T *t = (T *)dst;                                                           \
    for (i = 0; i < n; i++)                                                    \
      t[i * dstride] = s[i * sstride];                                         \
  } while (0)

/* One row of n elements with the given strides. */
static void copy_strided(const char *src, char *dst, int64_t n, int64_t sstride,
                         int64_t dstride, size_t elem)
{
  int64_t i;
  switch (elem) {
  case 1:
    STRIDED_LOOP(uint8_t);
    break;
  case 2:
    STRIDED_LOOP(uint16_t);
    break;
  case 4:
    STRIDED_LOOP(uint32_t);
    break;
  case 8:
    STRIDED_LOOP(uint64_t);
    break;
  default:
    for (i = 0; i < n; i++)
      memcpy(dst + i * dstride * (int64_t)elem,
             src + i * sstride * (int64_t)elem, elem);
    break;
  }
}

#define FILL_LOOP(T)                                                           \
  do {                                                                         \
    T v;                                                                       \
    T *t = (T *)dst;                                                           \
    memcpy(&v, src, sizeof v);                                                 \
    for (i = 0; i < n; i++)                                                    \
      t[i] = v;                                                                \
  } while (0)

/* n contiguous copies of the element at src. */
static void fill_row(const char *src, char *dst, int64_t n, size_t elem)
{
  int64_t i;
  switch (elem) {
  case 1:
    memset(dst, *(const unsigned char *)src, (size_t)n);
    break;
  case 2:
    FILL_LOOP(uint16_t);
    break;
  case 4:
    FILL_LOOP(uint32_t);
    break;
  case 8:
    FILL_LOOP(uint64_t);
    break;
  default:
    for (i = 0; i < n; i++)
      memcpy(dst + i * (int64_t)elem, src, elem);
    break;
  }
}

#define TILED_LOOP(T)                                                          \
  do {                                                                         \
    const T *s = (const T *)src;                                               \
    T *t = (T *)dst;                                                           \
    for (i0 = 0; i0 < na; i0 += TILE)                                          \
      for (j0 = 0; j0 < nb; j0 += TILE) {                                      \
        int64_t i1 = i0 + TILE < na ? i0 + TILE : na;                          \
        int64_t j1 = j0 + TILE < nb ? j0 + TILE : nb;                          \
        for (i = i0; i < i1; i++)                                              \
          for (j = j0; j < j1; j++)                                            \
            t[i * da + j] = s[i + j * sb];                                     \
      }                                                                        \
  } while (0)

/* 2-D block: source stride 1 along a, destination stride 1 along b. */
static void copy_tiled(const char *src, char *dst, int64_t na, int64_t da,
                       int64_t nb, int64_t sb, size_t elem)
{
  int64_t i0, j0, i, j;
  switch (elem) {
  case 1:
    TILED_LOOP(uint8_t);
    break;
  case 2:
    TILED_LOOP(uint16_t);
    break;
  case 4:
    TILED_LOOP(uint32_t);
    break;
  case 8:
    TILED_LOOP(uint64_t);
    break;
  default:
    for (i = 0; i < na; i++)
      copy_strided(src + i * (int64_t)elem, dst + i * da * (int64_t)elem, nb,
                   sb, 1, elem);
    break;
  }
}

static void copy_inner(const struct copy_job *job, const char *src, char *dst)
{
  int last = job->rank - 1;
  int64_t n = job->dims[last];
  switch (job->kind) {
  case INNER_CONTIGUOUS:
    memcpy(dst, src, (size_t)n * job->elem);
    break;
  case INNER_FILL:
    fill_row(src, dst, n, job->elem);
    break;
  case INNER_TILED: {
    int a = job->tile_dim;
    copy_tiled(src, dst, job->dims[a], job->ds[a], n, job->ss[last], job->elem);
    break;
  }
  case INNER_STRIDED:
    copy_strided(src, dst, n, job->ss[last], job->ds[last], job->elem);
    break;
  }
}

/* Offsets (in elements) of outer row `row`. */
static void row_offsets(const struct copy_job *job, int64_t row, int64_t *so,
                        int64_t *dof)
{
  int j;
  *so = 0;
  *dof = 0;
  for (j = job->n_outer - 1; j >= 0; j--) {
    int d = job->outer[j];
    int64_t c = row % job->dims[d];
    row /= job->dims[d];
    *so += c * job->ss[d];
    *dof += c * job->ds[d];
  }
}

/* Items [begin, end) of a tiled copy: item = row * n_bands + band, a band
 * being TILE consecutive indices of the tile dim. */
static void copy_bands(void *ctx, int64_t begin, int64_t end)
{
  const struct copy_job *job = ctx;
  int a = job->tile_dim, last = job->rank - 1;
  int64_t n_bands = (job->dims[a] + TILE - 1) / TILE;
  int64_t elem = (int64_t)job->elem, item;
  for (item = begin; item < end; item++) {
    int64_t row = item / n_bands, band = item % n_bands, so, dof;
    int64_t first = band * TILE;
    int64_t count = job->dims[a] - first < TILE ? job->dims[a] - first : TILE;
    row_offsets(job, row, &so, &dof);
    so += first * job->ss[a];
    dof += first * job->ds[a];
    copy_tiled(job->src + so * elem, job->dst + dof * elem, count, job->ds[a],
               job->dims[last], job->ss[last], job->elem);
  }
}

/* Rows [begin, end) of the outer iteration space. */
static void copy_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct copy_job *job = ctx;
  int64_t idx[SC_SHAPE_COPY_MAX_RANK];
  int64_t so, dof, rem = begin, row;
  int64_t elem = (int64_t)job->elem;
  int j;

  row_offsets(job, begin, &so, &dof);
  for (j = job->n_outer - 1; j >= 0; j--) {
    idx[j] = rem % job->dims[job->outer[j]];
    rem /= job->dims[job->outer[j]];
  }
  for (row = begin; row < end; row++) {
    copy_inner(job, job->src + so * elem, job->dst + dof * elem);
    for (j = job->n_outer - 1; j >= 0; j--) {
      int d = job->outer[j];
      so += job->ss[d];
      dof += job->ds[d];
      if (++idx[j] < job->dims[d])
        break;
      so -= job->ss[d] * job->dims[d];
      dof -= job->ds[d] * job->dims[d];
      idx[j] = 0;
    }
  }
}

void sc_shape_copy_run(const struct sc_shape_copy *copy,
                       struct sc_threadpool *threads)
{
  struct copy_job job;
  int64_t n_rows = 1, row_elements = 1, grain;
  size_t total;
  int j;

  if (!simplify(copy, &job))
    return;
  job.elem = copy->element_size;
  job.src = copy->src;
  job.dst = copy->dst;
  if (job.rank == 0) {
    memcpy(job.dst, job.src, job.elem);
    return;
  }
  choose_inner(&job);
  for (j = 0; j < job.n_outer; j++)
    n_rows *= job.dims[job.outer[j]];
  row_elements = job.dims[job.rank - 1];
  if (job.kind == INNER_TILED)
    row_elements *= job.dims[job.tile_dim];
  total = (size_t)(n_rows * row_elements) * job.elem;
  if (job.kind == INNER_CONTIGUOUS && job.n_outer == 0) {
    sc_shape_copy_bytes(job.dst, job.src, total, threads);
    return;
  }
  if (total < PARALLEL_MIN_BYTES)
    threads = NULL;
  if (job.kind == INNER_TILED) {
    int64_t n_bands = (job.dims[job.tile_dim] + TILE - 1) / TILE;
    grain = CHUNK_BYTES / (TILE * job.dims[job.rank - 1] * (int64_t)job.elem);
    sc_parallel_for(threads, n_rows * n_bands, grain > 0 ? grain : 1,
                    copy_bands, &job);
    return;
  }
  grain = CHUNK_BYTES / (row_elements * (int64_t)job.elem);
  sc_parallel_for(threads, n_rows, grain > 0 ? grain : 1, copy_rows, &job);
}

/* --- the reference path ----------------------------------------------- */

void sc_shape_copy_reference(const struct sc_shape_copy *copy)
{
  int64_t total = 1, i;
  int d;
  for (d = 0; d < copy->rank; d++)
    total *= copy->dims[d];
  for (i = 0; i < total; i++) {
    int64_t rem = i, so = 0, dof = 0;
    for (d = copy->rank - 1; d >= 0; d--) {
      int64_t c = rem % copy->dims[d];
      rem /= copy->dims[d];
      so += c * copy->src_strides[d];
      dof += c * copy->dst_strides[d];
    }
    memcpy((char *)copy->dst + dof * (int64_t)copy->element_size,
           (const char *)copy->src + so * (int64_t)copy->element_size,
           copy->element_size);
  }
}

/* --- flat copies -------------------------------------------------------- */

struct bytes_job {
  char *dst;
  const char *src;
  size_t size;
};

static void copy_chunks(void *ctx, int64_t begin, int64_t end)
{
  const struct bytes_job *job = ctx;
  size_t from = (size_t)begin * (size_t)CHUNK_BYTES;
  size_t to = (size_t)end * (size_t)CHUNK_BYTES;
  if (to > job->size)
    to = job->size;
  memcpy(job->dst + from, job->src + from, to - from);
}

void sc_shape_copy_bytes(void *dst, const void *src, size_t size,
                         struct sc_threadpool *threads)
{
  struct bytes_job job;
  if (size == 0 || dst == src)
    return;
  if (size < PARALLEL_MIN_BYTES || sc_threadpool_size(threads) < 2) {
    memcpy(dst, src, size);
    return;
  }
  job.dst = dst;
  job.src = src;
  job.size = size;
  sc_parallel_for(threads,
                  (int64_t)((size + (size_t)CHUNK_BYTES - 1) / CHUNK_BYTES), 1,
                  copy_chunks, &job);
}

/* --- checks and readers ------------------------------------------------ */

sc_status sc_shape_state_alloc(struct sc_node *node, size_t size,
                               struct sc_error *err)
{
  node->state = calloc(1, size);
  if (!node->state)
    return sc_fail_nomem(err, "kernel state");
  return SC_OK;
}

void sc_shape_state_free(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

int sc_shape_has_input(const struct sc_node *node, int i)
{
  return i < node->n_inputs && node->in[i] != NULL;
}

static sc_status missing_input(const struct sc_node *node, int i,
                               struct sc_error *err)
{
  return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is missing", i);
}

sc_status sc_shape_check_storable(const struct sc_node *node, int i,
                                  struct sc_error *err)
{
  if (!sc_shape_has_input(node, i))
    return missing_input(node, i, err);
  if (sc_dtype_size(node->in[i]->dtype) == 0)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "input %d ('%s') has dtype %s, which this operator "
                        "does not support",
                        i, sc_node_input_name(node, i),
                        sc_dtype_name(node->in[i]->dtype));
  return SC_OK;
}

sc_status sc_shape_check_index_dtype(const struct sc_node *node, int i,
                                     int any_integer, struct sc_error *err)
{
  enum sc_dtype t;
  if (!sc_shape_has_input(node, i))
    return missing_input(node, i, err);
  t = node->in[i]->dtype;
  if (t == SC_DTYPE_INT64 || t == SC_DTYPE_INT32 ||
      (any_integer && sc_dtype_is_integer(t)))
    return SC_OK;
  return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                      "input %d ('%s') has dtype %s, expected %s", i,
                      sc_node_input_name(node, i), sc_dtype_name(t),
                      any_integer ? "an integer type" : "int32 or int64");
}

sc_status sc_shape_read_ints(const struct sc_node *node, int i,
                             const char *what, int allow_scalar,
                             int64_t max_values, int64_t *values,
                             int64_t *n_values, struct sc_error *err)
{
  const struct sc_tensor *t = node->in[i];
  int64_t k;
  if (t->rank > 1 || (t->rank == 0 && !allow_scalar))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "%s ('%s') must be a 1-D tensor, it has rank %d", what,
                        sc_node_input_name(node, i), t->rank);
  if (t->n_elements > max_values)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "%s ('%s') has %lld values, at most %lld are allowed",
                        what, sc_node_input_name(node, i),
                        (long long)t->n_elements, (long long)max_values);
  for (k = 0; k < t->n_elements; k++)
    values[k] = sc_dtype_load_i64(t->dtype, t->data, k);
  *n_values = t->n_elements;
  return SC_OK;
}

sc_status sc_shape_set_output(struct sc_node *node, int i, int rank,
                              const int64_t *dims, struct sc_error *err)
{
  sc_status st;
  char shape[256];
  int d;
  if (!node->out[i])
    return SC_OK;
  if (rank < 0 || rank > SC_MAX_RANK)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "output %d would have rank %d; at most %d is supported",
                        i, rank, SC_MAX_RANK);
  for (d = 0; d < rank; d++)
    if (dims[d] < 0)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "output %d would have the negative shape %s", i,
                          sc_shape_format(rank, dims, shape, sizeof shape));
  st = sc_tensor_set_shape(node->out[i], rank, dims, err);
  if (st)
    return sc_node_fail(node, err, st, "output %d shape %s: %s", i,
                        sc_shape_format(rank, dims, shape, sizeof shape),
                        err ? err->message : "invalid");
  return SC_OK;
}

sc_status sc_shape_normalize_axes(const struct sc_node *node, int64_t n_axes,
                                  const int64_t *axes, int rank, int *out,
                                  struct sc_error *err)
{
  int64_t k, j;
  for (k = 0; k < n_axes; k++) {
    sc_status st = sc_normalize_axis(node, axes[k], rank, 0, &out[k], err);
    if (st)
      return st;
    for (j = 0; j < k; j++)
      if (out[j] == out[k])
        return sc_node_fail(node, err, SC_ERR_FORMAT,
                            "axis %lld is given twice", (long long)axes[k]);
  }
  return SC_OK;
}
