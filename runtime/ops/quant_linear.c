/* Integer convolution and matrix products: the cores of quant_linear.h and
 * the kernels ConvInteger, QLinearConv, MatMulInteger and QLinearMatMul.
 *
 * Accumulation is exact int32 (sc_qgemm). QLinearConv and QLinearMatMul
 * requantize as ONNX Runtime does on x86 (matched against
 * onnxruntime/core/providers/cpu/quantization/qlinearconv.cc,
 * qlinearmatmul.cc and MlasRequantizeOutput in core/mlas/lib/quantize.cpp):
 *   multiplier[m] = (x_scale * w_scale[m]) / y_scale        (float32)
 *   y = clamp((float)(acc + bias[m]) * multiplier[m], qmin - zp, qmax - zp)
 *       rounded half to even, + y_zero_point.
 * Unlike ORT, per-channel weight zero points may differ between channels
 * (the ONNX definition allows it; ORT rejects it). */
#include "runtime/ops/quant_linear.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/ops/quant_common.h"
#include "runtime/ops/quant_gemm.h"
#include "runtime/ops/quant_kernels.h"
#include "runtime/threadpool.h"

/* --- convolution core ------------------------------------------------- */

static sc_status read_ints(const struct sc_node *node, const char *name,
                           int64_t max_n, int64_t *n, int64_t *dst,
                           struct sc_error *err)
{
  const int64_t *v;
  int64_t i;
  sc_status st = sc_node_attr_ints(node, name, n, &v, err);
  if (st)
    return st;
  if (*n > max_n)
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "attribute '%s' has %lld values; at most %lld "
                        "spatial dimensions are supported",
                        name, (long long)*n, (long long)max_n);
  for (i = 0; i < *n; i++)
    dst[i] = v[i];
  return SC_OK;
}

sc_status sc_qconv_prepare(const struct sc_node *node, struct sc_qconv *conv,
                           struct sc_error *err)
{
  const char *auto_pad;
  int64_t i;
  sc_status st;

  memset(conv, 0, sizeof *conv);
  st = sc_node_attr_string(node, "auto_pad", "NOTSET", &auto_pad, err);
  if (!st)
    st = sc_node_attr_int(node, "group", 1, &conv->group, err);
  if (!st)
    st = read_ints(node, "kernel_shape", SC_MAX_RANK - 2, &conv->n_kernel_attr,
                   conv->kernel_attr, err);
  if (!st)
    st = read_ints(node, "strides", SC_MAX_RANK - 2, &conv->n_strides,
                   conv->strides, err);
  if (!st)
    st = read_ints(node, "dilations", SC_MAX_RANK - 2, &conv->n_dilations,
                   conv->dilations, err);
  if (!st)
    st = read_ints(node, "pads", 2 * (SC_MAX_RANK - 2), &conv->n_pads,
                   conv->pads, err);
  if (st)
    return st;
  if (strcmp(auto_pad, "NOTSET") == 0)
    conv->auto_pad = SC_QCONV_NOTSET;
  else if (strcmp(auto_pad, "SAME_UPPER") == 0)
    conv->auto_pad = SC_QCONV_SAME_UPPER;
  else if (strcmp(auto_pad, "SAME_LOWER") == 0)
    conv->auto_pad = SC_QCONV_SAME_LOWER;
  else if (strcmp(auto_pad, "VALID") == 0)
    conv->auto_pad = SC_QCONV_VALID;
  else
    return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                        "auto_pad '%s' is not one of NOTSET, SAME_UPPER, "
                        "SAME_LOWER, VALID",
                        auto_pad);
  if (conv->group < 1 || conv->group > INT32_MAX)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "group %lld is invalid",
                        (long long)conv->group);
  for (i = 0; i < conv->n_strides; i++)
    if (conv->strides[i] < 1 || conv->strides[i] > INT32_MAX)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "stride %lld is invalid",
                          (long long)conv->strides[i]);
  for (i = 0; i < conv->n_dilations; i++)
    if (conv->dilations[i] < 1 || conv->dilations[i] > INT32_MAX)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "dilation %lld is invalid",
                          (long long)conv->dilations[i]);
  for (i = 0; i < conv->n_pads; i++)
    if (conv->pads[i] < 0 || conv->pads[i] > INT32_MAX)
      return sc_node_fail(node, err, SC_ERR_FORMAT, "pad %lld is invalid",
                          (long long)conv->pads[i]);
  return SC_OK;
}

/* Output size and leading pad of one spatial dimension. */
static sc_status conv_dim(const struct sc_node *node,
                          const struct sc_qconv *conv, int d, int64_t in,
                          int64_t *out, int64_t *pad_begin,
                          struct sc_error *err)
{
  int64_t k = conv->kernel[d], s = conv->stride[d], dil = conv->dilation[d];
  int64_t extent = (k - 1) * dil + 1;
  int64_t pb = 0, pe = 0, o;

  switch (conv->auto_pad) {
  case SC_QCONV_NOTSET:
    if (conv->n_pads > 0) {
      pb = conv->pads[d];
      pe = conv->pads[d + conv->n_spatial];
    }
    o = in + pb + pe - extent;
    o = o < 0 ? -1 : o / s + 1;
    break;
  case SC_QCONV_VALID:
    o = in - extent;
    o = o < 0 ? -1 : o / s + 1;
    break;
  default: { /* SAME_UPPER / SAME_LOWER */
    int64_t total;
    o = (in + s - 1) / s;
    total = (o - 1) * s + extent - in;
    if (total < 0)
      total = 0;
    pb = conv->auto_pad == SC_QCONV_SAME_UPPER ? total / 2 : total - total / 2;
    break;
  }
  }
  if (o < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "spatial dimension %d: input size %lld is smaller "
                        "than the kernel extent %lld",
                        d, (long long)in, (long long)extent);
  *out = o;
  *pad_begin = pb;
  return SC_OK;
}

/* The index of `t` among the node's inputs when it is a constant
 * (sc_node_input_is_constant); -1 otherwise. */
static int constant_input_index(const struct sc_node *node,
                                const struct sc_tensor *t)
{
  int i;
  for (i = 0; t && i < node->n_inputs; i++)
    if (node->in[i] == t)
      return sc_node_input_is_constant(node, i) ? i : -1;
  return -1;
}

/* Packs the weights of every group (M/group rows of K = C/group x kernel
 * values) as signed bytes: group g's packed A at g * sc_qgemm_a_size(M /
 * group, K), the row sums of all M rows. Allocates both; on failure
 * neither is set. */
static sc_status pack_conv_weights(const struct sc_qconv *conv,
                                   const struct sc_tensor *w, uint8_t **packed,
                                   int32_t **row_sums, struct sc_error *err)
{
  int64_t m = conv->out_channels, mg = m / conv->group;
  int64_t k = m > 0 ? w->n_elements / m : 0, g;
  int64_t a_size = sc_qgemm_a_size(mg, k);
  uint8_t *p;
  int32_t *s;

  *packed = NULL;
  *row_sums = NULL;
  /* a_size <= 24 * ceil(mg / 6) * ceil(k / 4) < 2 * (mg + 5) * (k + 3):
   * a small multiple of the weight's checked size */
  p = malloc((size_t)(conv->group * a_size) + 1);
  s = malloc((size_t)m * sizeof *s + 1);
  if (!p || !s) {
    free(p);
    free(s);
    return sc_fail_nomem(err, "packed convolution weights");
  }
  for (g = 0; g < conv->group; g++)
    sc_qgemm_pack_a(mg, k, (const uint8_t *)w->data + g * mg * k, w->dtype, k,
                    0, p + g * a_size, s + g * mg);
  *packed = p;
  *row_sums = s;
  return SC_OK;
}

sc_status sc_qconv_reshape(struct sc_node *node, struct sc_qconv *conv,
                           const struct sc_tensor *x, const struct sc_tensor *w,
                           struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK];
  int d, ns;
  sc_status st;

  if (x->rank < 3)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input '%s' has rank %d; a convolution needs N, C "
                        "and at least one spatial dimension",
                        sc_node_input_name(node, 0), x->rank);
  if (w->rank != x->rank)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "the weight has rank %d, the input rank %d", w->rank,
                        x->rank);
  ns = x->rank - 2;
  conv->n_spatial = ns;
  conv->batch = x->dims[0];
  conv->in_channels = x->dims[1];
  conv->out_channels = w->dims[0];
  if (w->dims[1] * conv->group != x->dims[1] ||
      conv->out_channels % conv->group != 0)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "input channels %lld, weight %lld x %lld with group "
                        "%lld do not match",
                        (long long)x->dims[1], (long long)w->dims[0],
                        (long long)w->dims[1], (long long)conv->group);
  if ((conv->n_kernel_attr >= 0 && conv->n_kernel_attr != ns) ||
      (conv->n_strides >= 0 && conv->n_strides != ns) ||
      (conv->n_dilations >= 0 && conv->n_dilations != ns) ||
      (conv->n_pads >= 0 && conv->n_pads != 2 * ns))
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "kernel_shape, strides, dilations or pads do not "
                        "match the %d spatial dimensions",
                        ns);
  conv->kernel_elements = 1;
  conv->out_pixels = 1;
  for (d = 0; d < ns; d++) {
    conv->kernel[d] = w->dims[d + 2];
    if (conv->n_kernel_attr >= 0 && conv->kernel_attr[d] != conv->kernel[d])
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "kernel_shape[%d] = %lld but the weight has %lld", d,
                          (long long)conv->kernel_attr[d],
                          (long long)conv->kernel[d]);
    conv->stride[d] = conv->n_strides > 0 ? conv->strides[d] : 1;
    conv->dilation[d] = conv->n_dilations > 0 ? conv->dilations[d] : 1;
    conv->in_size[d] = x->dims[d + 2];
    if (conv->kernel[d] < 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "the weight has an empty kernel dimension");
    st = conv_dim(node, conv, d, conv->in_size[d], &conv->out_size[d],
                  &conv->pad_begin[d], err);
    if (st)
      return st;
    conv->kernel_elements *= conv->kernel[d];
    conv->out_pixels *= conv->out_size[d];
    dims[d + 2] = conv->out_size[d];
  }
  dims[0] = conv->batch;
  dims[1] = conv->out_channels;
  st = sc_tensor_set_shape(node->out[0], x->rank, dims, err);
  if (st) {
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
    return st;
  }
  if (!conv->w_packed) {
    int i = constant_input_index(node, w);
    if (i >= 0)
      st = pack_conv_weights(conv, w, &conv->w_packed, &conv->w_row_sums, err);
    if (i >= 0 && i < 32 && !st) /* sc_qconv_run reads only the panels */
      node->holds_input |= 1u << i;
  }
  return st;
}

void sc_qconv_release(struct sc_qconv *conv)
{
  if (!conv)
    return;
  free(conv->w_packed);
  free(conv->w_row_sums);
  conv->w_packed = NULL;
  conv->w_row_sums = NULL;
}

/* Everything the jobs of one run share. A job is (image, group, block of
 * output pixels, range of rows): it writes the block's patch matrix
 * straight into the packed-B layout (im2col), one panel of 64 output
 * pixels (a "chunk") at a time, then multiplies it by the group's packed
 * weights. x is read as raw bytes; sc_qgemm_pack_panel flips int8 to the
 * GEMM's unsigned domain as it stores them. Patch row r is (channel
 * r / taps of the group, kernel tap r % taps). */
struct conv_job {
  const struct sc_qconv *conv;
  const uint8_t *x;
  int64_t in_stride[SC_MAX_RANK]; /* elements per step along each dim */
  int64_t in_plane;               /* elements per channel */
  int64_t cg, mg, k, p, taps;
  const int64_t *tap;        /* taps x n_spatial: index_d * dilation_d */
  const int64_t *tap_offset; /* taps: sum_d tap_d * in_stride[d] */
  uint8_t flip;              /* 0x80 for int8 x, else 0 */
  uint8_t x_zp;              /* x's zero point as a raw byte: the padding */
  const struct sc_qgemm_block *groups; /* per group: weights and terms */
  int64_t cols_per_block, n_blocks, rows_per_job, n_row_jobs;
  int64_t block_size; /* bytes of a block's panels */
  /* when rows are split: every block's panels and column sums, written
   * once before the products (NULL: each job writes its block's) */
  uint8_t *shared_panels;
  int32_t *shared_sums;
  sc_qconv_emit_fn emit;
  void *ctx;
  int32_t *direct; /* emit NULL: the int32 output */
  int failed;      /* set (atomically) when a job could not allocate */
};

/* Per kernel tap, for one line segment of a chunk: the segment's pixels
 * [lo, hi) read x from `start` of a channel's plane on (every `step`-th
 * byte), which are the chunk's columns `present`; the others read
 * padding. */
struct tap_run {
  int64_t start;
  int lo, hi;
  uint64_t present;
};

/* 1 when the tap reaches inside x along every dimension but the last for
 * the output line whose tap-0 input coordinates are origin[]. */
static int tap_inside(const struct sc_qconv *conv, const int64_t *origin,
                      const int64_t *tap)
{
  int d;
  for (d = 0; d < conv->n_spatial - 1; d++)
    if (origin[d] + tap[d] < 0 || origin[d] + tap[d] >= conv->in_size[d])
      return 0;
  return 1;
}

/* dst[j] = src[2 j] for j < n: the rows of a stride-2 convolution, in a
 * loop the compiler vectorises. */
static void every_other_byte(uint8_t *restrict dst, const uint8_t *restrict src,
                             int64_t n)
{
  int64_t j;
  for (j = 0; j < n; j++)
    dst[j] = src[2 * j];
}

/* Describes in *rows the patch rows of the `count` (<= 64) output pixels
 * from pixel p of one image and group (image: its first channel). When
 * the pixels lie on at most SC_QGEMM_RUNS output lines, stride 1 along
 * them, every row is read in place: runs of x with padding around them,
 * one pattern entry per kernel tap (`pattern`: taps entries), repeated a
 * channel plane apart. Otherwise the rows are gathered into `gathered` (k rows
 * of 64 bytes), segment by segment. runs: `taps` entries of scratch. */
static void im2col_chunk(const struct conv_job *job, const uint8_t *image,
                         int64_t p, int64_t count, struct sc_qgemm_rows *rows,
                         struct sc_qgemm_row *pattern, uint8_t *gathered,
                         struct tap_run *runs)
{
  const struct sc_qconv *conv = job->conv;
  int ns = conv->n_spatial, last = ns - 1, d, segment;
  int64_t width = conv->out_size[last], step = conv->stride[last];
  int64_t in_last = conv->in_size[last], end = p + count, c, t;
  int64_t origin[SC_MAX_RANK];
  /* lines the chunk touches: in place when the panel can read them all */
  int64_t n_lines = 1 + (count - (width - p % width) + width - 1) / width;
  int in_place = step == 1 && n_lines <= SC_QGEMM_RUNS;

  for (segment = 0; p < end; segment++) {
    int64_t line = p / width, ow = p % width, offset = 0;
    int64_t col = count - (end - p);
    int64_t len = width - ow < end - p ? width - ow : end - p;
    int64_t first = ow * step - conv->pad_begin[last];
    for (d = last - 1; d >= 0; d--) {
      origin[d] =
          line % conv->out_size[d] * conv->stride[d] - conv->pad_begin[d];
      line /= conv->out_size[d];
      offset += origin[d] * job->in_stride[d];
    }
    for (t = 0; t < job->taps; t++) {
      /* pixels j in [lo, hi) of the segment read column iw + j * step,
       * inside x; present: their columns in the chunk */
      const int64_t *tap = job->tap + t * ns;
      int64_t iw = first + tap[last], lo = 0, hi = len;
      if (!tap_inside(conv, origin, tap)) {
        hi = 0;
      } else {
        if (iw < 0)
          lo = (-iw + step - 1) / step;
        if (iw + (len - 1) * step >= in_last)
          hi = iw >= in_last ? 0 : (in_last - 1 - iw) / step + 1;
      }
      if (lo >= hi) {
        runs[t].start = 0;
        runs[t].lo = runs[t].hi = 0;
        runs[t].present = 0;
        continue;
      }
      runs[t].start = offset + job->tap_offset[t] + first + lo * step;
      runs[t].lo = (int)lo;
      runs[t].hi = (int)hi;
      runs[t].present =
          (col + hi >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << (col + hi)) - 1) &
          ~(((uint64_t)1 << (col + lo)) - 1);
    }
    if (in_place) {
      for (t = 0; t < job->taps; t++) {
        /* the address column 0 would have in channel 0: only the present
         * columns, inside x, are read */
        uintptr_t from = (uintptr_t)image;
        if (runs[t].present)
          from += (uintptr_t)runs[t].start - (uintptr_t)(col + runs[t].lo);
        if (segment == 0) {
          int run;
          for (run = 1; run < SC_QGEMM_RUNS; run++) {
            pattern[t].from[run] = from;
            pattern[t].present[run] = 0;
          }
        }
        pattern[t].from[segment] = from;
        pattern[t].present[segment] = runs[t].present;
      }
    } else {
      for (c = 0; c < job->cg; c++)
        for (t = 0; t < job->taps; t++) {
          uint8_t *dst = gathered + (c * job->taps + t) * SC_QGEMM_PANEL + col;
          const uint8_t *src = image + (c * job->in_plane + runs[t].start);
          int64_t j;
          memset(dst, job->x_zp, (size_t)runs[t].lo);
          if (step == 1)
            memcpy(dst + runs[t].lo, src, (size_t)(runs[t].hi - runs[t].lo));
          else if (step == 2)
            every_other_byte(dst + runs[t].lo, src, runs[t].hi - runs[t].lo);
          else
            for (j = runs[t].lo; j < runs[t].hi; j++)
              dst[j] = src[(j - runs[t].lo) * step];
          memset(dst + runs[t].hi, job->x_zp, (size_t)(len - runs[t].hi));
        }
    }
    p += len;
  }
  rows->pattern = pattern;
  if (in_place) {
    rows->period = job->taps;
    rows->stride = job->in_plane;
    rows->n_runs = segment;
    return;
  }
  /* the gathered rows, 64 bytes apart */
  memset(&pattern[0], 0, sizeof pattern[0]);
  pattern[0].from[0] = (uintptr_t)gathered;
  pattern[0].present[0] =
      count >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << count) - 1;
  rows->period = 1;
  rows->stride = SC_QGEMM_PANEL;
  rows->n_runs = 1;
}

/* Scratch of one range of jobs. */
struct conv_scratch {
  uint8_t *gathered;            /* k rows of 64 bytes */
  struct sc_qgemm_row *pattern; /* taps */
  struct tap_run *runs;         /* taps */
};

static int scratch_init(struct conv_scratch *sc, const struct conv_job *job)
{
  sc->gathered = malloc((size_t)(job->k * SC_QGEMM_PANEL) + 1);
  sc->pattern = malloc((size_t)job->taps * sizeof *sc->pattern + 1);
  sc->runs = malloc((size_t)job->taps * sizeof *sc->runs + 1);
  return sc->gathered && sc->pattern && sc->runs;
}

static void scratch_free(struct conv_scratch *sc)
{
  free(sc->gathered);
  free(sc->pattern);
  free(sc->runs);
}

/* The geometry of job `block` (image n, group g, output pixels [p0, p0 +
 * n_cols)) in the order image, group, block. */
static void block_place(const struct conv_job *job, int64_t block, int64_t *n,
                        int64_t *g, int64_t *p0, int64_t *n_cols)
{
  int64_t rest = block / job->n_blocks;
  *p0 = block % job->n_blocks * job->cols_per_block;
  *n_cols =
      job->p - *p0 < job->cols_per_block ? job->p - *p0 : job->cols_per_block;
  *g = rest % job->conv->group;
  *n = rest / job->conv->group;
}

/* im2col of one block: its panels, and their column sums when the group's
 * terms need them. */
static void block_patches(const struct conv_job *job, struct conv_scratch *sc,
                          int64_t block, uint8_t *panels, int32_t *col_sums)
{
  int64_t panel_size = sc_qgemm_b_panel_size(job->k), n, g, p0, n_cols, c;
  const uint8_t *image;
  block_place(job, block, &n, &g, &p0, &n_cols);
  image = job->x + (n * job->conv->in_channels + g * job->cg) * job->in_plane;
  for (c = 0; c * SC_QGEMM_PANEL < n_cols; c++) {
    int64_t count = n_cols - c * SC_QGEMM_PANEL < SC_QGEMM_PANEL
                        ? n_cols - c * SC_QGEMM_PANEL
                        : SC_QGEMM_PANEL;
    struct sc_qgemm_rows rows;
    im2col_chunk(job, image, p0 + c * SC_QGEMM_PANEL, count, &rows, sc->pattern,
                 sc->gathered, sc->runs);
    sc_qgemm_pack_panel(
        &rows, job->k, count, job->x_zp, job->flip, 1, panels + c * panel_size,
        job->groups[g].row_u ? col_sums + c * SC_QGEMM_PANEL : NULL);
  }
}

/* Phase 1 when rows are split: every block's patches, once. */
static void patches_range(void *ctx, int64_t begin, int64_t end)
{
  struct conv_job *job = ctx;
  struct conv_scratch sc;
  int64_t block;
  if (!scratch_init(&sc, job)) {
    __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
    goto cleanup;
  }
  for (block = begin; block < end; block++)
    block_patches(job, &sc, block, job->shared_panels + block * job->block_size,
                  job->shared_sums + block * job->cols_per_block);

cleanup:
  scratch_free(&sc);
}

/* Jobs [begin, end): a block's patches (unless shared) times a range of
 * the group's weight rows. */
static void conv_range(void *ctx, int64_t begin, int64_t end)
{
  struct conv_job *job = ctx;
  struct conv_scratch sc = {NULL, NULL, NULL};
  uint8_t *own_panels = NULL;
  int32_t *own_sums = NULL, *tile = NULL;
  int64_t id, i;

  if (!job->shared_panels) {
    own_panels = malloc((size_t)job->block_size + 1);
    own_sums = malloc((size_t)job->cols_per_block * sizeof *own_sums);
    if (!own_panels || !own_sums || !scratch_init(&sc, job))
      goto failed;
  }
  if (job->emit) {
    tile = malloc((size_t)(job->rows_per_job * job->cols_per_block) *
                  sizeof *tile);
    if (!tile)
      goto failed;
  }
  for (id = begin; id < end; id++) {
    int64_t block = id / job->n_row_jobs, n, g, p0, n_cols;
    int64_t r0 = id % job->n_row_jobs * job->rows_per_job;
    struct sc_qgemm_block blk;
    uint8_t *panels = own_panels;
    int32_t *col_sums = own_sums;
    block_place(job, block, &n, &g, &p0, &n_cols);
    if (job->shared_panels) {
      panels = job->shared_panels + block * job->block_size;
      col_sums = job->shared_sums + block * job->cols_per_block;
    } else {
      block_patches(job, &sc, block, panels, col_sums);
    }
    blk = job->groups[g];
    blk.row0 = r0;
    blk.n_rows =
        job->mg - r0 < job->rows_per_job ? job->mg - r0 : job->rows_per_job;
    blk.b = panels;
    blk.n_cols = n_cols;
    if (blk.row_u)
      blk.col_u = col_sums;
    if (job->emit) {
      blk.c = tile;
      blk.ldc = n_cols;
    } else {
      blk.c = job->direct +
              ((n * job->conv->out_channels + g * job->mg + r0) * job->p + p0);
      blk.ldc = job->p;
    }
    sc_qgemm_compute(&blk);
    if (job->emit)
      for (i = 0; i < blk.n_rows; i++)
        job->emit(job->ctx, n, g * job->mg + r0 + i, p0, tile + i * n_cols,
                  n_cols);
  }
  goto cleanup;

failed:
  __atomic_store_n(&job->failed, 1, __ATOMIC_RELAXED);
cleanup:
  scratch_free(&sc);
  free(own_panels);
  free(own_sums);
  free(tile);
}

/* Picks the blocks: a block's patch matrix (k x cols) within ~256 KiB of
 * L2, and its accumulators too when they go through a buffer; rows split
 * when there are fewer than 8 jobs. Depends on the shapes only, never on
 * the thread count. */
static void conv_plan(struct conv_job *job)
{
  int64_t n_panels = (job->p + SC_QGEMM_PANEL - 1) / SC_QGEMM_PANEL;
  int64_t per_block = 256 * 1024 / (sc_qgemm_b_panel_size(job->k) + 1);
  int64_t n_tiles = (job->mg + SC_QGEMM_TILE_ROWS - 1) / SC_QGEMM_TILE_ROWS;
  int64_t images = job->conv->batch * job->conv->group, row_jobs;

  if (job->emit && per_block > 256 * 1024 / (job->mg * SC_QGEMM_PANEL * 4))
    per_block = 256 * 1024 / (job->mg * SC_QGEMM_PANEL * 4);
  if (per_block > 16)
    per_block = 16;
  if (per_block < 1)
    per_block = 1;
  if (per_block > n_panels)
    per_block = n_panels;
  job->cols_per_block = per_block * SC_QGEMM_PANEL;
  job->n_blocks = (n_panels + per_block - 1) / per_block;
  row_jobs = 1;
  if (images * job->n_blocks < 8)
    row_jobs = (8 + images * job->n_blocks - 1) / (images * job->n_blocks);
  if (row_jobs > n_tiles)
    row_jobs = n_tiles;
  job->rows_per_job = (n_tiles + row_jobs - 1) / row_jobs * SC_QGEMM_TILE_ROWS;
  job->n_row_jobs = (job->mg + job->rows_per_job - 1) / job->rows_per_job;
}

sc_status sc_qconv_run(const struct sc_node *node, const struct sc_qconv *conv,
                       const struct sc_tensor *x, const struct sc_tensor *x_zp,
                       const struct sc_tensor *w, const struct sc_tensor *w_zp,
                       sc_qconv_emit_fn emit, void *ctx, struct sc_error *err)
{
  int ns = conv->n_spatial, d;
  int64_t m = conv->out_channels, g, i, n_blocks;
  struct sc_threadpool *threads = sc_node_threads(node);
  int32_t x_zp_raw = sc_quant_zero_point(x_zp, 0);
  int32_t zx = x_zp_raw + sc_qgemm_shift(x->dtype, 1);
  int32_t w_shift = sc_qgemm_shift(w->dtype, 0);
  const uint8_t *w_packed = conv->w_packed;
  const int32_t *w_row_sums = conv->w_row_sums;
  uint8_t *own_packed = NULL;
  int32_t *own_row_sums = NULL, *ints = NULL;
  int64_t *tap_offset = NULL;
  struct sc_qgemm_block *groups = NULL;
  struct conv_job job;
  sc_status st = SC_OK;

  if (conv->batch <= 0 || m <= 0 || conv->out_pixels <= 0)
    return SC_OK;
  memset(&job, 0, sizeof job);
  job.conv = conv;
  job.x = x->data;
  job.cg = conv->in_channels / conv->group;
  job.mg = m / conv->group;
  job.k = job.cg * conv->kernel_elements;
  job.p = conv->out_pixels;
  job.taps = conv->kernel_elements;
  job.flip = x->dtype == SC_DTYPE_INT8 ? 0x80 : 0;
  job.x_zp = (uint8_t)x_zp_raw;
  job.emit = emit;
  job.ctx = ctx;
  job.direct = emit ? NULL : ctx;
  job.in_stride[ns - 1] = 1;
  for (d = ns - 2; d >= 0; d--)
    job.in_stride[d] = job.in_stride[d + 1] * conv->in_size[d + 1];
  job.in_plane = job.in_stride[0] * conv->in_size[0];
  if (!w_packed) {
    st = pack_conv_weights(conv, w, &own_packed, &own_row_sums, err);
    if (st)
      return st;
    w_packed = own_packed;
    w_row_sums = own_row_sums;
  }
  ints = malloc((size_t)(4 * m) * sizeof *ints); /* zw, 3 rows of terms */
  groups = malloc((size_t)conv->group * sizeof *groups);
  /* the taps' offsets, then their coordinates (taps x ns) */
  tap_offset = malloc((size_t)(job.taps * (1 + ns)) * sizeof *tap_offset + 1);
  if (!ints || !groups || !tap_offset) {
    st = sc_fail_nomem(err, "convolution buffers");
    goto cleanup;
  }
  for (i = 0; i < job.taps; i++) {
    int64_t rem = i, *tap = tap_offset + job.taps + i * ns;
    tap_offset[i] = 0;
    for (d = ns - 1; d >= 0; d--) {
      tap[d] = rem % conv->kernel[d] * conv->dilation[d];
      rem /= conv->kernel[d];
      tap_offset[i] += tap[d] * job.in_stride[d];
    }
  }
  job.tap_offset = tap_offset;
  job.tap = tap_offset + job.taps;
  for (i = 0; i < m; i++)
    ints[i] =
        (w_zp ? sc_quant_zero_point(w_zp, w_zp->n_elements == 1 ? 0 : i) : 0) +
        w_shift;
  for (g = 0; g < conv->group; g++) {
    struct sc_qgemm_block *blk = &groups[g];
    memset(blk, 0, sizeof *blk);
    blk->a = w_packed + g * sc_qgemm_a_size(job.mg, job.k);
    blk->k = job.k;
    blk->a_unsigned = 0;
    sc_qgemm_zero_point_terms(blk, job.mg, 1, ints + g * job.mg,
                              w_row_sums + g * job.mg, &zx, NULL,
                              ints + m + 3 * g * job.mg);
  }
  job.groups = groups;
  conv_plan(&job);
  n_blocks = conv->batch * conv->group * job.n_blocks;
  job.block_size =
      job.cols_per_block / SC_QGEMM_PANEL * sc_qgemm_b_panel_size(job.k);
  if (job.n_row_jobs > 1) {
    /* few blocks (fewer than 8 jobs without splitting rows): at most 7
     * blocks of ~256 KiB */
    job.shared_panels = malloc((size_t)(n_blocks * job.block_size) + 1);
    job.shared_sums = malloc((size_t)(n_blocks * job.cols_per_block) *
                             sizeof *job.shared_sums);
    if (!job.shared_panels || !job.shared_sums) {
      st = sc_fail_nomem(err, "convolution patches");
      goto cleanup;
    }
    sc_parallel_for(threads, n_blocks, 1, patches_range, &job);
  }
  if (!job.failed)
    sc_parallel_for(threads, n_blocks * job.n_row_jobs, 1, conv_range, &job);
  if (job.failed)
    st = sc_fail_nomem(err, "convolution work buffers");

cleanup:
  free(job.shared_panels);
  free(job.shared_sums);
  free(own_packed);
  free(own_row_sums);
  free(ints);
  free(groups);
  free(tap_offset);
  return st;
}

/* --- matrix product core ---------------------------------------------- */

/* Packs every matrix of B (n_mats of k x n) as signed bytes, with their
 * column sums. Allocates both; on failure neither is set. */
static sc_status pack_matmul_b(const struct sc_qmatmul *mm,
                               const struct sc_tensor *b, int64_t n_mats,
                               uint8_t **packed, int32_t **col_sums,
                               struct sc_error *err)
{
  int64_t b_size = sc_qgemm_b_size(mm->k, mm->n), t;
  uint8_t *p;
  int32_t *s;

  *packed = NULL;
  *col_sums = NULL;
  /* b_size < 4 * (k + 3) * (n + 63): a small multiple of B's checked
   * size */
  p = malloc((size_t)(n_mats * b_size) + 1);
  s = malloc((size_t)(n_mats * mm->n) * sizeof *s + 1);
  if (!p || !s) {
    free(p);
    free(s);
    return sc_fail_nomem(err, "packed matrix product operand");
  }
  for (t = 0; t < n_mats; t++)
    sc_qgemm_pack_b(mm->k, mm->n, (const uint8_t *)b->data + t * mm->k * mm->n,
                    b->dtype, mm->n, 0, p + t * b_size, s + t * mm->n);
  *packed = p;
  *col_sums = s;
  return SC_OK;
}

sc_status sc_qmatmul_reshape(struct sc_node *node, struct sc_qmatmul *mm,
                             const struct sc_tensor *a,
                             const struct sc_tensor *b, struct sc_error *err)
{
  int64_t out[SC_MAX_RANK];
  int a_batch = a->rank > 2 ? a->rank - 2 : 0;
  int b_batch = b->rank > 2 ? b->rank - 2 : 0;
  int nb = a_batch > b_batch ? a_batch : b_batch;
  int64_t ka, kb, sa = 1, sb = 1;
  int r, rank = 0;
  sc_status st;

  if (a->rank < 1 || b->rank < 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT, "matrix product of a scalar");
  mm->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
  ka = a->dims[a->rank - 1];
  kb = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0];
  mm->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  if (ka != kb)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "inner dimensions differ (%lld and %lld)",
                        (long long)ka, (long long)kb);
  mm->k = ka;
  mm->n_batch_dims = nb;
  mm->n_batches = 1;
  for (r = nb - 1; r >= 0; r--) {
    int ra = r - (nb - a_batch), rb = r - (nb - b_batch);
    int64_t da = ra >= 0 ? a->dims[ra] : 1, db = rb >= 0 ? b->dims[rb] : 1;
    if (da != db && da != 1 && db != 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "batch dimensions %lld and %lld do not broadcast",
                          (long long)da, (long long)db);
    mm->batch_dims[r] = da == 1 ? db : da;
    mm->a_batch_stride[r] = da == 1 ? 0 : sa;
    mm->b_batch_stride[r] = db == 1 ? 0 : sb;
    sa *= da;
    sb *= db;
    mm->n_batches *= mm->batch_dims[r];
  }
  for (r = 0; r < nb; r++)
    out[rank++] = mm->batch_dims[r];
  if (a->rank >= 2)
    out[rank++] = mm->m;
  if (b->rank >= 2)
    out[rank++] = mm->n;
  mm->out_rank = rank;
  st = sc_tensor_set_shape(node->out[0], rank, out, err);
  if (st) {
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
    return st;
  }
  if (!mm->b_packed && mm->k * mm->n > 0) {
    int i = constant_input_index(node, b);
    if (i >= 0)
      st = pack_matmul_b(mm, b, b->n_elements / (mm->k * mm->n), &mm->b_packed,
                         &mm->b_col_sums, err);
    if (i >= 0 && i < 32 && !st) /* sc_qmatmul_run reads only the panels */
      node->holds_input |= 1u << i;
  }
  return st;
}

struct matmul_emit_job {
  sc_qmatmul_emit_fn emit;
  void *ctx;
  int64_t batch, n;
  const int32_t *acc;
};

static void matmul_emit_rows(void *ctx, int64_t begin, int64_t end)
{
  const struct matmul_emit_job *job = ctx;
  int64_t i;
  for (i = begin; i < end; i++)
    job->emit(job->ctx, job->batch, i, job->acc + i * job->n, job->n);
}

void sc_qmatmul_release(struct sc_qmatmul *mm)
{
  if (!mm)
    return;
  free(mm->b_packed);
  free(mm->b_col_sums);
  mm->b_packed = NULL;
  mm->b_col_sums = NULL;
}

sc_status sc_qmatmul_run(const struct sc_node *node,
                         const struct sc_qmatmul *mm, const struct sc_tensor *a,
                         const struct sc_tensor *a_zp,
                         const struct sc_tensor *b,
                         const struct sc_tensor *b_zp, sc_qmatmul_emit_fn emit,
                         void *ctx, struct sc_error *err)
{
  int64_t m = mm->m, n = mm->n, k = mm->k, batch, i;
  int64_t b_size = sc_qgemm_b_size(k, n);
  int32_t a_shift = sc_qgemm_shift(a->dtype, 1);
  int32_t b_shift = sc_qgemm_shift(b->dtype, 0);
  struct sc_threadpool *threads = sc_node_threads(node);
  uint8_t *pa, *pb = NULL;
  int32_t *ints, *acc = NULL, *b_sums = NULL;
  sc_status st = SC_OK;

  if (m <= 0 || n <= 0 || mm->n_batches <= 0)
    return SC_OK;
  pa = malloc((size_t)sc_qgemm_a_size(m, k) + 1);
  /* A's row sums, za, zb, 3 rows of terms */
  ints = malloc((size_t)(5 * m + n) * sizeof *ints);
  if (!mm->b_packed) {
    pb = malloc((size_t)b_size + 1);
    b_sums = malloc((size_t)n * sizeof *b_sums);
  }
  if (emit)
    acc = malloc((size_t)(m * n) * sizeof *acc);
  if (!pa || !ints || (!mm->b_packed && (!pb || !b_sums)) || (emit && !acc)) {
    st = sc_fail_nomem(err, "matrix product buffers");
    goto cleanup;
  }
  {
    int32_t *row_sums = ints, *za = ints + m, *zb = ints + 2 * m;
    int32_t *rows = zb + n;
    for (i = 0; i < m; i++)
      za[i] = sc_quant_zero_point(a_zp, a_zp && a_zp->n_elements > 1 ? i : 0) +
              a_shift;
    for (i = 0; i < n; i++)
      zb[i] = sc_quant_zero_point(b_zp, b_zp && b_zp->n_elements > 1 ? i : 0) +
              b_shift;
    for (batch = 0; batch < mm->n_batches; batch++) {
      int64_t ia = 0, ib = 0, rem = batch;
      struct sc_qgemm_block blk;
      const uint8_t *b_packed;
      const int32_t *col_sums;
      int r;
      for (r = mm->n_batch_dims - 1; r >= 0; r--) {
        int64_t c = rem % mm->batch_dims[r];
        rem /= mm->batch_dims[r];
        ia += c * mm->a_batch_stride[r];
        ib += c * mm->b_batch_stride[r];
      }
      sc_qgemm_pack_a(m, k, (const uint8_t *)a->data + ia * m * k, a->dtype, k,
                      1, pa, row_sums);
      if (mm->b_packed) {
        b_packed = mm->b_packed + ib * b_size;
        col_sums = mm->b_col_sums + ib * n;
      } else {
        sc_qgemm_pack_b(k, n, (const uint8_t *)b->data + ib * k * n, b->dtype,
                        n, 0, pb, b_sums);
        b_packed = pb;
        col_sums = b_sums;
      }
      memset(&blk, 0, sizeof blk);
      blk.a = pa;
      blk.k = k;
      blk.a_unsigned = 1;
      blk.b = b_packed;
      blk.c = emit ? acc : (int32_t *)ctx + batch * m * n;
      blk.ldc = n;
      sc_qgemm_zero_point_terms(&blk, m, n, za, row_sums, zb, col_sums, rows);
      sc_qgemm_run(&blk, m, n, threads);
      if (emit) {
        struct matmul_emit_job ej;
        ej.emit = emit;
        ej.ctx = ctx;
        ej.batch = batch;
        ej.n = n;
        ej.acc = acc;
        sc_parallel_for(threads, m, 1, matmul_emit_rows, &ej);
      }
    }
  }

cleanup:
  free(pa);
  free(pb);
  free(ints);
  free(acc);
  free(b_sums);
  return st;
}

/* --- shared dtype checks ---------------------------------------------- */

static const enum sc_dtype eight_bit[] = {SC_DTYPE_UINT8, SC_DTYPE_INT8};

static sc_status check_8bit(const struct sc_node *node, int i,
                            struct sc_error *err)
{
  if (i >= node->n_inputs || !node->in[i])
    return sc_node_fail(node, err, SC_ERR_FORMAT, "input %d is missing", i);
  return sc_check_dtype(node, i, eight_bit, 2, err);
}

/* --- ConvInteger ------------------------------------------------------ */

sc_status sc_qk_conv_integer_prepare(struct sc_node *node, struct sc_error *err)
{
  struct sc_qconv *conv;
  sc_status st = sc_check_arity(node, 2, 4, 1, 1, err);
  if (!st)
    st = check_8bit(node, 0, err);
  if (!st)
    st = check_8bit(node, 1, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 2, node->in[0]->dtype, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 3, node->in[1]->dtype, err);
  if (st)
    return st;
  conv = calloc(1, sizeof *conv);
  if (!conv)
    return sc_fail_nomem(err, "ConvInteger state");
  node->state = conv;
  st = sc_qconv_prepare(node, conv, err);
  if (st)
    return st;
  node->out[0]->dtype = SC_DTYPE_INT32;
  return SC_OK;
}

sc_status sc_qk_conv_integer_reshape(struct sc_node *node, struct sc_error *err)
{
  struct sc_qconv *conv = node->state;
  sc_status st = sc_qconv_reshape(node, conv, node->in[0], node->in[1], err);
  if (!st)
    st = sc_quant_check_scalar(node, 2, "x_zero_point", err);
  if (!st && node->n_inputs > 3)
    st =
        sc_quant_check_vector(node, 3, "w_zero_point", conv->out_channels, err);
  return st;
}

/* The quantized tail the executor has ConvInteger compute (sc_node
 * tail_scale): what Cast to float, Mul by the scale and Add of the
 * channel's bias give, the same float operations in the same order. */
struct conv_tail_emit {
  float *y;
  int64_t channels, pixels;
  float scale;
  const float *bias; /* one per channel, or NULL */
};

static void emit_conv_tail(void *ctx, int64_t n, int64_t m, int64_t pixel0,
                           const int32_t *acc, int64_t count)
{
  const struct conv_tail_emit *e = ctx;
  float *y = e->y + (n * e->channels + m) * e->pixels + pixel0;
  const float scale = e->scale;
  int64_t k;
  if (e->bias) {
    const float b = e->bias[m];
    for (k = 0; k < count; k++) {
      float scaled = (float)acc[k] * scale;
      y[k] = scaled + b;
    }
  } else {
    for (k = 0; k < count; k++)
      y[k] = (float)acc[k] * scale;
  }
}

sc_status sc_qk_conv_integer_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x_zp = node->n_inputs > 2 ? node->in[2] : NULL;
  const struct sc_tensor *w_zp = node->n_inputs > 3 ? node->in[3] : NULL;
  const struct sc_qconv *conv = node->state;
  struct conv_tail_emit e;
  if (!node->tail_scale) /* no emitter: the accumulators are the output */
    return sc_qconv_run(node, node->state, node->in[0], x_zp, node->in[1], w_zp,
                        NULL, node->out[0]->data, err);
  e.y = node->out[0]->data; /* float bits in the int32 tensor */
  e.channels = node->out[0]->dims[1];
  e.pixels = conv->out_pixels;
  e.scale = ((const float *)node->tail_scale->data)[0];
  e.bias = node->tail_bias ? node->tail_bias->data : NULL;
  return sc_qconv_run(node, node->state, node->in[0], x_zp, node->in[1], w_zp,
                      emit_conv_tail, &e, err);
}

void sc_qk_conv_release(struct sc_node *node)
{
  sc_qconv_release(node->state);
  free(node->state);
  node->state = NULL;
}

/* --- QLinearConv ------------------------------------------------------ */

/* Inputs: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
 * y_zero_point, B (optional int32 bias). */
struct qlinear_conv_emit {
  const struct sc_node *node;
  float x_scale, y_scale;
  int32_t y_zp, qmin, qmax;
};

static void emit_qlinear_conv(void *ctx, int64_t n, int64_t m, int64_t pixel0,
                              const int32_t *acc, int64_t count)
{
  const struct qlinear_conv_emit *e = ctx;
  const struct sc_node *node = e->node;
  const struct sc_tensor *y = node->out[0], *w_scale = node->in[4];
  const struct sc_tensor *bias = node->n_inputs > 8 ? node->in[8] : NULL;
  float multiplier =
      e->x_scale *
      sc_quant_load_float(w_scale, w_scale->n_elements == 1 ? 0 : m) /
      e->y_scale;
  const struct sc_qconv *conv = node->state;
  int32_t b = bias ? ((const int32_t *)bias->data)[m] : 0;
  sc_quant_requantize_row(acc, count, b, multiplier, e->y_zp, y->dtype, y->data,
                          (n * y->dims[1] + m) * conv->out_pixels + pixel0);
}

sc_status sc_qk_qlinear_conv_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype int32_only[] = {SC_DTYPE_INT32};
  struct sc_qconv *conv;
  sc_status st = sc_check_arity(node, 8, 9, 1, 1, err);
  if (!st)
    st = check_8bit(node, 0, err);
  if (!st)
    st = check_8bit(node, 3, err);
  if (!st)
    st = check_8bit(node, 7, err);
  if (!st)
    st = sc_quant_check_scale_dtype(node, 1, err);
  if (!st)
    st = sc_quant_check_scale_dtype(node, 4, err);
  if (!st)
    st = sc_quant_check_scale_dtype(node, 6, err);
  if (!st && !node->in[2])
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "x_zero_point is missing");
  if (!st && !node->in[5])
    st = sc_node_fail(node, err, SC_ERR_FORMAT, "w_zero_point is missing");
  if (!st)
    st = sc_quant_check_zp_dtype(node, 2, node->in[0]->dtype, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 5, node->in[3]->dtype, err);
  if (!st && node->n_inputs > 8)
    st = sc_check_dtype(node, 8, int32_only, 1, err);
  if (st)
    return st;
  conv = calloc(1, sizeof *conv);
  if (!conv)
    return sc_fail_nomem(err, "QLinearConv state");
  node->state = conv;
  st = sc_qconv_prepare(node, conv, err);
  if (st)
    return st;
  if (node->domain[0]) { /* com.microsoft's variant adds channels_last */
    int64_t channels_last;
    st = sc_node_attr_int(node, "channels_last", 0, &channels_last, err);
    if (st)
      return st;
    if (channels_last)
      return sc_node_fail(node, err, SC_ERR_UNSUPPORTED,
                          "channels_last=1 (NHWC) is not supported");
  }
  node->out[0]->dtype = node->in[7]->dtype;
  return SC_OK;
}

sc_status sc_qk_qlinear_conv_reshape(struct sc_node *node, struct sc_error *err)
{
  struct sc_qconv *conv = node->state;
  int64_t m;
  sc_status st = sc_qconv_reshape(node, conv, node->in[0], node->in[3], err);
  m = conv->out_channels;
  if (!st)
    st = sc_quant_check_scalar(node, 1, "x_scale", err);
  if (!st)
    st = sc_quant_check_scalar(node, 2, "x_zero_point", err);
  if (!st)
    st = sc_quant_check_vector(node, 4, "w_scale", m, err);
  if (!st)
    st = sc_quant_check_vector(node, 5, "w_zero_point", m, err);
  if (!st)
    st = sc_quant_check_scalar(node, 6, "y_scale", err);
  if (!st)
    st = sc_quant_check_scalar(node, 7, "y_zero_point", err);
  if (!st && node->n_inputs > 8 && node->in[8] &&
      !(node->in[8]->rank == 1 && node->in[8]->dims[0] == m))
    st = sc_node_fail(node, err, SC_ERR_FORMAT,
                      "bias '%s' must be a 1-D tensor of %lld elements",
                      sc_node_input_name(node, 8), (long long)m);
  return st;
}

sc_status sc_qk_qlinear_conv_run(struct sc_node *node, struct sc_error *err)
{
  struct qlinear_conv_emit e;
  e.node = node;
  e.x_scale = sc_quant_load_float(node->in[1], 0);
  e.y_scale = sc_quant_load_float(node->in[6], 0);
  e.y_zp = sc_quant_zero_point(node->in[7], 0);
  sc_quant_range(node->out[0]->dtype, &e.qmin, &e.qmax);
  return sc_qconv_run(node, node->state, node->in[0], node->in[2], node->in[3],
                      node->in[5], emit_qlinear_conv, &e, err);
}

/* --- MatMulInteger ---------------------------------------------------- */

sc_status sc_qk_matmul_integer_prepare(struct sc_node *node,
                                       struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 2, 4, 1, 1, err);
  if (!st)
    st = check_8bit(node, 0, err);
  if (!st)
    st = check_8bit(node, 1, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 2, node->in[0]->dtype, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 3, node->in[1]->dtype, err);
  if (st)
    return st;
  node->state = calloc(1, sizeof(struct sc_qmatmul));
  if (!node->state)
    return sc_fail_nomem(err, "MatMulInteger state");
  node->out[0]->dtype = SC_DTYPE_INT32;
  return SC_OK;
}

sc_status sc_qk_matmul_integer_reshape(struct sc_node *node,
                                       struct sc_error *err)
{
  struct sc_qmatmul *mm = node->state;
  sc_status st = sc_qmatmul_reshape(node, mm, node->in[0], node->in[1], err);
  if (!st)
    st = sc_quant_check_vector(node, 2, "a_zero_point", mm->m, err);
  if (!st && node->n_inputs > 3)
    st = sc_quant_check_vector(node, 3, "b_zero_point", mm->n, err);
  return st;
}

sc_status sc_qk_matmul_integer_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *a_zp = node->n_inputs > 2 ? node->in[2] : NULL;
  const struct sc_tensor *b_zp = node->n_inputs > 3 ? node->in[3] : NULL;
  /* no emitter: the accumulators are the output */
  return sc_qmatmul_run(node, node->state, node->in[0], a_zp, node->in[1], b_zp,
                        NULL, node->out[0]->data, err);
}

void sc_qk_matmul_release(struct sc_node *node)
{
  sc_qmatmul_release(node->state);
  free(node->state);
  node->state = NULL;
}

/* --- QLinearMatMul ---------------------------------------------------- */

/* Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
 * y_zero_point. */
struct qlinear_matmul_emit {
  const struct sc_node *node;
  float y_scale;
  int32_t y_zp, qmin, qmax;
};

static void emit_qlinear_matmul(void *ctx, int64_t batch, int64_t i,
                                const int32_t *acc, int64_t n)
{
  const struct qlinear_matmul_emit *e = ctx;
  const struct sc_node *node = e->node;
  const struct sc_qmatmul *mm = node->state;
  const struct sc_tensor *y = node->out[0];
  const struct sc_tensor *a_scale = node->in[1], *b_scale = node->in[4];
  float as = sc_quant_load_float(a_scale, a_scale->n_elements == 1 ? 0 : i);
  int64_t base = (batch * mm->m + i) * n, j;
  for (j = 0; j < n; j++) {
    float bs = sc_quant_load_float(b_scale, b_scale->n_elements == 1 ? 0 : j);
    float multiplier = as * bs / e->y_scale;
    sc_quant_store(
        y->dtype, y->data, base + j,
        sc_quant_requantize(acc[j], multiplier, e->y_zp, e->qmin, e->qmax));
  }
}

sc_status sc_qk_qlinear_matmul_prepare(struct sc_node *node,
                                       struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 8, 8, 1, 1, err);
  int i;
  if (!st)
    st = check_8bit(node, 0, err);
  if (!st)
    st = check_8bit(node, 3, err);
  if (!st)
    st = check_8bit(node, 7, err);
  for (i = 1; i <= 6 && !st; i++)
    if (i == 1 || i == 4 || i == 6)
      st = sc_quant_check_scale_dtype(node, i, err);
  if (!st && (!node->in[2] || !node->in[5]))
    st = sc_node_fail(node, err, SC_ERR_FORMAT,
                      "a_zero_point and b_zero_point are required");
  if (!st)
    st = sc_quant_check_zp_dtype(node, 2, node->in[0]->dtype, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, 5, node->in[3]->dtype, err);
  if (st)
    return st;
  node->state = calloc(1, sizeof(struct sc_qmatmul));
  if (!node->state)
    return sc_fail_nomem(err, "QLinearMatMul state");
  node->out[0]->dtype = node->in[7]->dtype;
  return SC_OK;
}

sc_status sc_qk_qlinear_matmul_reshape(struct sc_node *node,
                                       struct sc_error *err)
{
  struct sc_qmatmul *mm = node->state;
  sc_status st = sc_qmatmul_reshape(node, mm, node->in[0], node->in[3], err);
  if (!st)
    st = sc_quant_check_vector(node, 1, "a_scale", mm->m, err);
  if (!st)
    st = sc_quant_check_vector(node, 2, "a_zero_point", mm->m, err);
  if (!st)
    st = sc_quant_check_vector(node, 4, "b_scale", mm->n, err);
  if (!st)
    st = sc_quant_check_vector(node, 5, "b_zero_point", mm->n, err);
  if (!st)
    st = sc_quant_check_scalar(node, 6, "y_scale", err);
  if (!st)
    st = sc_quant_check_scalar(node, 7, "y_zero_point", err);
  return st;
}

sc_status sc_qk_qlinear_matmul_run(struct sc_node *node, struct sc_error *err)
{
  struct qlinear_matmul_emit e;
  e.node = node;
  e.y_scale = sc_quant_load_float(node->in[6], 0);
  e.y_zp = sc_quant_zero_point(node->in[7], 0);
  sc_quant_range(node->out[0]->dtype, &e.qmin, &e.qmax);
  return sc_qmatmul_run(node, node->state, node->in[0], node->in[2],
                        node->in[3], node->in[5], emit_qlinear_matmul, &e, err);
}

/* --- com.microsoft.MatMulIntegerToFloat and DynamicQuantizeMatMul ------
 * ONNX Runtime's fusions of an integer matrix product with its
 * dequantization, as its quantizer's dynamic MatMul writes it:
 *   MatMulInteger(A, B, a_zero_point, b_zero_point) -> Cast to float
 *   -> Mul by Mul(a_scale, b_scale) -> Add bias,
 * with A from a DynamicQuantizeLinear of a float input in
 * DynamicQuantizeMatMul (inputs A float, B, b_scale, optional b_zero_point
 * and bias); MatMulIntegerToFloat takes A quantized (inputs A, B, a_scale,
 * b_scale, optional a_zero_point, b_zero_point and bias). Each step is
 * rounded as those operators round it: y = float(acc) * (a_scale *
 * b_scale[j]), then + bias[j]. a_scale and a_zero_point are scalars;
 * b_scale, b_zero_point and bias one value or one per column of B. */

struct to_float_inputs {
  int dynamic;                            /* DynamicQuantizeMatMul */
  int a_scale, b_scale, a_zp, b_zp, bias; /* input indices, -1: none */
};

static struct to_float_inputs to_float_inputs(const struct sc_node *node)
{
  struct to_float_inputs in;
  in.dynamic = strcmp(node->op_type, "DynamicQuantizeMatMul") == 0;
  in.a_scale = in.dynamic ? -1 : 2;
  in.b_scale = in.dynamic ? 2 : 3;
  in.a_zp = in.dynamic ? -1 : 4;
  in.b_zp = in.dynamic ? 3 : 5;
  in.bias = in.dynamic ? 4 : 6;
  return in;
}

static const struct sc_tensor *optional_input(const struct sc_node *node, int i)
{
  return i >= 0 && i < node->n_inputs ? node->in[i] : NULL;
}

sc_status sc_qk_matmul_to_float_prepare(struct sc_node *node,
                                        struct sc_error *err)
{
  static const enum sc_dtype floats[] = {SC_DTYPE_FLOAT};
  struct to_float_inputs in = to_float_inputs(node);
  sc_status st = in.dynamic ? sc_check_arity(node, 3, 5, 1, 1, err)
                            : sc_check_arity(node, 4, 7, 1, 1, err);
  if (!st)
    st = in.dynamic ? sc_check_dtype(node, 0, floats, 1, err)
                    : check_8bit(node, 0, err);
  if (!st)
    st = check_8bit(node, 1, err);
  if (!st && !in.dynamic)
    st = sc_quant_check_scale_dtype(node, in.a_scale, err);
  if (!st)
    st = sc_quant_check_scale_dtype(node, in.b_scale, err);
  if (!st && !in.dynamic)
    st = sc_quant_check_zp_dtype(node, in.a_zp, node->in[0]->dtype, err);
  if (!st)
    st = sc_quant_check_zp_dtype(node, in.b_zp, node->in[1]->dtype, err);
  if (!st && optional_input(node, in.bias))
    st = sc_check_dtype(node, in.bias, floats, 1, err);
  if (st)
    return st;
  node->state = calloc(1, sizeof(struct sc_qmatmul));
  if (!node->state)
    return sc_fail_nomem(err, "integer matrix product state");
  node->out[0]->dtype = SC_DTYPE_FLOAT;
  return SC_OK;
}

sc_status sc_qk_matmul_to_float_reshape(struct sc_node *node,
                                        struct sc_error *err)
{
  struct to_float_inputs in = to_float_inputs(node);
  struct sc_qmatmul *mm = node->state;
  sc_status st = sc_qmatmul_reshape(node, mm, node->in[0], node->in[1], err);
  if (!st && !in.dynamic)
    st = sc_quant_check_scalar(node, in.a_scale, "a_scale", err);
  if (!st && !in.dynamic)
    st = sc_quant_check_scalar(node, in.a_zp, "a_zero_point", err);
  if (!st)
    st = sc_quant_check_vector(node, in.b_scale, "b_scale", mm->n, err);
  if (!st)
    st = sc_quant_check_vector(node, in.b_zp, "b_zero_point", mm->n, err);
  if (!st)
    st = sc_quant_check_vector(node, in.bias, "bias", mm->n, err);
  return st;
}

struct to_float_emit {
  const struct sc_qmatmul *mm;
  float a_scale;
  const struct sc_tensor *b_scale, *bias;
  float *y;
};

static void emit_to_float(void *ctx, int64_t batch, int64_t i,
                          const int32_t *acc, int64_t n)
{
  const struct to_float_emit *e = ctx;
  int64_t base = (batch * e->mm->m + i) * n, j;
  int per_column = e->b_scale->n_elements > 1;
  const float *bias = e->bias ? e->bias->data : NULL;
  int bias_per_column = e->bias && e->bias->n_elements > 1;
  for (j = 0; j < n; j++) {
    float multiplier =
        e->a_scale * sc_quant_load_float(e->b_scale, per_column ? j : 0);
    float v = (float)acc[j] * multiplier;
    if (bias)
      v = v + bias[bias_per_column ? j : 0];
    e->y[base + j] = v;
  }
}

sc_status sc_qk_matmul_to_float_run(struct sc_node *node, struct sc_error *err)
{
  struct to_float_inputs in = to_float_inputs(node);
  const struct sc_tensor *a = node->in[0];
  struct sc_tensor quantized, zero_point;
  struct to_float_emit e;
  uint8_t *qa = NULL, zp_value = 0;
  sc_status st;

  e.mm = node->state;
  e.b_scale = node->in[in.b_scale];
  e.bias = optional_input(node, in.bias);
  e.y = node->out[0]->data;
  if (!in.dynamic) {
    e.a_scale = sc_quant_load_float(node->in[in.a_scale], 0);
    return sc_qmatmul_run(node, e.mm, a, optional_input(node, in.a_zp),
                          node->in[1], optional_input(node, in.b_zp),
                          emit_to_float, &e, err);
  }
  /* DynamicQuantizeLinear of A, then the same product */
  qa = malloc((size_t)a->n_elements + 1);
  if (!qa)
    return sc_fail_nomem(err, "DynamicQuantizeMatMul quantized input");
  {
    int32_t zp;
    st = sc_qk_dynamic_quantize(a->data, a->n_elements, sc_node_threads(node),
                                qa, &e.a_scale, &zp, err);
    zp_value = (uint8_t)zp;
  }
  if (!st) {
    quantized = *a;
    quantized.dtype = SC_DTYPE_UINT8;
    quantized.data = qa;
    quantized.buffer = NULL;
    memset(&zero_point, 0, sizeof zero_point);
    zero_point.dtype = SC_DTYPE_UINT8;
    zero_point.n_elements = 1;
    zero_point.data = &zp_value;
    st = sc_qmatmul_run(node, e.mm, &quantized, &zero_point, node->in[1],
                        optional_input(node, in.b_zp), emit_to_float, &e, err);
  }
  free(qa);
  return st;
}
