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
  if (st)
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
  return st;
}

static inline int32_t load8(const void *data, int64_t i, int is_signed)
{
  return is_signed ? ((const int8_t *)data)[i] : ((const uint8_t *)data)[i];
}

/* One im2col job: the (x - x_zp) patches of channels [c0, c0 + channels)
 * of image n, written either as a row-major K x P matrix `col` or, when
 * `packed` is set, straight into sc_qgemm's packed layout (one pass over
 * memory fewer than im2col followed by packing). */
struct im2col_job {
  const struct sc_qconv *conv;
  const struct sc_tensor *x;
  int32_t x_zp;
  int64_t n, c0, k;
  int16_t *col;    /* row-major, or NULL */
  int16_t *packed; /* sc_qgemm layout, or NULL */
};

/* Where one row r of the patch matrix goes. */
struct col_row {
  int16_t *base;   /* column 0 of the row (packed: of its panel 0 pair) */
  int64_t pstride; /* packed: values per panel; 0 for row-major */
};

/* Writes columns [j0, j0 + out_size) of a row: src[iw0 + ow * stride] - zp
 * for the in-range iw, 0 elsewhere (the padding is x_zp, contributing 0). */
static void im2col_row(const struct col_row *row, int64_t j0, const void *src,
                       int is_signed, int32_t zp, int64_t iw0, int64_t stride,
                       int64_t in_size, int64_t out_size)
{
  int64_t lo = 0, hi = out_size, ow, iw;
  /* first and last ow whose iw = iw0 + ow * stride lies in [0, in_size) */
  if (iw0 < 0)
    lo = (-iw0 + stride - 1) / stride;
  if (iw0 + (out_size - 1) * stride >= in_size)
    hi = iw0 >= in_size ? 0 : (in_size - 1 - iw0) / stride + 1;
  if (lo > hi)
    lo = hi;
  if (!row->pstride) { /* row-major: contiguous writes */
    int16_t *dst = row->base + j0;
    for (ow = 0; ow < lo; ow++)
      dst[ow] = 0;
    iw = iw0 + lo * stride;
    if (is_signed)
      for (ow = lo; ow < hi; ow++, iw += stride)
        dst[ow] = (int16_t)(((const int8_t *)src)[iw] - zp);
    else
      for (ow = lo; ow < hi; ow++, iw += stride)
        dst[ow] = (int16_t)(((const uint8_t *)src)[iw] - zp);
    for (ow = hi; ow < out_size; ow++)
      dst[ow] = 0;
    return;
  }
  {
    /* packed: column j at panel j / 32, lane j % 32, walked incrementally */
    int16_t *panel = row->base + (j0 / SC_QGEMM_PANEL) * row->pstride;
    int64_t lane = j0 % SC_QGEMM_PANEL;
#define PUT(v)                                                                 \
  do {                                                                         \
    panel[2 * lane] = (int16_t)(v);                                            \
    if (++lane == SC_QGEMM_PANEL) {                                            \
      lane = 0;                                                                \
      panel += row->pstride;                                                   \
    }                                                                          \
  } while (0)
    for (ow = 0; ow < lo; ow++)
      PUT(0);
    iw = iw0 + lo * stride;
    if (is_signed)
      for (ow = lo; ow < hi; ow++, iw += stride)
        PUT(((const int8_t *)src)[iw] - zp);
    else
      for (ow = lo; ow < hi; ow++, iw += stride)
        PUT(((const uint8_t *)src)[iw] - zp);
    for (ow = hi; ow < out_size; ow++)
      PUT(0);
#undef PUT
  }
}

/* Fills the patch rows of channels [begin, end) (relative to job->c0). */
static void im2col_range(void *ctx, int64_t begin, int64_t end)
{
  const struct im2col_job *job = ctx;
  const struct sc_qconv *conv = job->conv;
  int ns = conv->n_spatial, last = ns - 1, d;
  int is_signed = job->x->dtype == SC_DTYPE_INT8;
  size_t elem = is_signed ? sizeof(int8_t) : sizeof(uint8_t);
  int64_t in_pixels = 1, in_stride[SC_MAX_RANK];
  int64_t out_last = conv->out_size[last], in_size_last = conv->in_size[last];
  int64_t outer = conv->out_pixels / out_last;
  int64_t c, kidx, o;

  for (d = ns - 1; d >= 0; d--) {
    in_stride[d] = in_pixels;
    in_pixels *= conv->in_size[d];
  }
  for (c = begin; c < end; c++) {
    int64_t x_base = (job->n * conv->in_channels + job->c0 + c) * in_pixels;
    for (kidx = 0; kidx < conv->kernel_elements; kidx++) {
      int64_t ko[SC_MAX_RANK], rem = kidx, r = c * conv->kernel_elements + kidx;
      struct col_row row;
      if (job->packed) {
        row.base = job->packed + sc_qgemm_packed_offset(r, 0, job->k);
        row.pstride = (job->k + 1) / 2 * 2 * SC_QGEMM_PANEL;
      } else {
        row.base = job->col + r * conv->out_pixels;
        row.pstride = 0;
      }
      for (d = ns - 1; d >= 0; d--) {
        ko[d] = rem % conv->kernel[d];
        rem /= conv->kernel[d];
      }
      for (o = 0; o < outer; o++) {
        int64_t off = x_base, orem = o, j0 = o * out_last;
        int valid = 1;
        for (d = last - 1; d >= 0; d--) {
          int64_t od = orem % conv->out_size[d], id;
          orem /= conv->out_size[d];
          id = od * conv->stride[d] - conv->pad_begin[d] +
               ko[d] * conv->dilation[d];
          if (id < 0 || id >= conv->in_size[d])
            valid = 0;
          off += id * in_stride[d];
        }
        if (!valid) { /* the whole output row reads padding */
          im2col_row(&row, j0, job->x->data, is_signed, 0, in_size_last, 1,
                     in_size_last, out_last);
          continue;
        }
        im2col_row(&row, j0, (const char *)job->x->data + (size_t)off * elem,
                   is_signed, job->x_zp,
                   ko[last] * conv->dilation[last] - conv->pad_begin[last],
                   conv->stride[last], conv->in_size[last], out_last);
      }
    }
  }
}

/* Hands rows [begin, end) of a group's accumulators to the emitter. */
struct emit_job {
  sc_qconv_emit_fn emit;
  void *ctx;
  int64_t n, m0, p;
  const int32_t *acc;
};

static void emit_range(void *ctx, int64_t begin, int64_t end)
{
  const struct emit_job *job = ctx;
  int64_t m;
  for (m = begin; m < end; m++)
    job->emit(job->ctx, job->n, job->m0 + m, job->acc + m * job->p, job->p);
}

sc_status sc_qconv_run(const struct sc_node *node, const struct sc_qconv *conv,
                       const struct sc_tensor *x, const struct sc_tensor *x_zp,
                       const struct sc_tensor *w, const struct sc_tensor *w_zp,
                       sc_qconv_emit_fn emit, void *ctx, struct sc_error *err)
{
  int64_t cg = conv->in_channels / conv->group;
  int64_t mg = conv->out_channels / conv->group;
  int64_t k = cg * conv->kernel_elements, p = conv->out_pixels;
  int64_t dims[2], count, n, g, m, i;
  int w_signed = w->dtype == SC_DTYPE_INT8;
  int packed = sc_qgemm_uses_packed() && k > 0;
  struct sc_threadpool *threads = sc_node_threads(node);
  struct im2col_job ij;
  struct emit_job ej;
  int16_t *wbuf = NULL, *col = NULL;
  int32_t *acc = NULL;
  sc_status st;

  dims[0] = k + 1;
  dims[1] = p + SC_QGEMM_PANEL;
  st = sc_shape_count(2, dims, sizeof(int16_t), &count, node->name, err);
  if (!st) {
    dims[0] = mg;
    st = sc_shape_count(2, dims, sizeof(int32_t), &count, node->name, err);
  }
  if (st)
    return st;
  wbuf = malloc((size_t)w->n_elements * sizeof *wbuf + 1);
  if (packed) /* the layout of sc_qgemm's fast path, padding zeroed once */
    col = malloc((size_t)sc_qgemm_packed_size(p, k) * sizeof *col + 1);
  else
    col = malloc((size_t)k * (size_t)p * sizeof *col + 1);
  acc = malloc((size_t)mg * (size_t)p * sizeof *acc + 1);
  if (!wbuf || !col || !acc) {
    st = sc_fail_nomem(err, "convolution buffers");
    goto cleanup;
  }
  for (m = 0; m < conv->out_channels; m++) {
    int32_t wz =
        w_zp ? sc_quant_zero_point(w_zp, w_zp->n_elements == 1 ? 0 : m) : 0;
    for (i = 0; i < k; i++)
      wbuf[m * k + i] = (int16_t)(load8(w->data, m * k + i, w_signed) - wz);
  }
  if (packed)
    sc_qgemm_packed_clear_padding(col, p, k);
  ij.conv = conv;
  ij.x = x;
  ij.x_zp = sc_quant_zero_point(x_zp, 0);
  ij.k = k;
  ij.col = packed ? NULL : col;
  ij.packed = packed ? col : NULL;
  ej.emit = emit;
  ej.ctx = ctx;
  ej.p = p;
  ej.acc = acc;
  for (n = 0; n < conv->batch; n++)
    for (g = 0; g < conv->group; g++) {
      ij.n = n;
      ij.c0 = g * cg;
      sc_parallel_for(threads, cg, 1, im2col_range, &ij);
      if (packed)
        st = sc_qgemm_packed(mg, p, k, wbuf + g * mg * k, k, col, acc, p,
                             threads, err);
      else
        st = sc_qgemm(mg, p, k, wbuf + g * mg * k, k, col, p, acc, p, threads,
                      err);
      if (st)
        goto cleanup;
      ej.n = n;
      ej.m0 = g * mg;
      sc_parallel_for(threads, mg, 1, emit_range, &ej);
    }

cleanup:
  free(wbuf);
  free(col);
  free(acc);
  return st;
}

/* --- matrix product core ---------------------------------------------- */

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
  if (st)
    sc_error_prefix(err, "node '%s' (%s): ", node->name, node->op_type);
  return st;
}

sc_status sc_qmatmul_run(const struct sc_node *node,
                         const struct sc_qmatmul *mm, const struct sc_tensor *a,
                         const struct sc_tensor *a_zp,
                         const struct sc_tensor *b,
                         const struct sc_tensor *b_zp, sc_qmatmul_emit_fn emit,
                         void *ctx, struct sc_error *err)
{
  int a_signed = a->dtype == SC_DTYPE_INT8,
      b_signed = b->dtype == SC_DTYPE_INT8;
  int64_t m = mm->m, n = mm->n, k = mm->k, batch, i, j;
  int16_t *abuf, *bbuf;
  int32_t *acc;
  sc_status st = SC_OK;

  abuf = malloc((size_t)m * (size_t)k * sizeof *abuf + 1);
  bbuf = malloc((size_t)k * (size_t)n * sizeof *bbuf + 1);
  acc = malloc((size_t)m * (size_t)n * sizeof *acc + 1);
  if (!abuf || !bbuf || !acc) {
    st = sc_fail_nomem(err, "matrix product buffers");
    goto cleanup;
  }
  for (batch = 0; batch < mm->n_batches && !st; batch++) {
    int64_t ia = 0, ib = 0, rem = batch;
    int r;
    for (r = mm->n_batch_dims - 1; r >= 0; r--) {
      int64_t c = rem % mm->batch_dims[r];
      rem /= mm->batch_dims[r];
      ia += c * mm->a_batch_stride[r];
      ib += c * mm->b_batch_stride[r];
    }
    ia *= m * k;
    ib *= k * n;
    for (i = 0; i < m; i++) {
      int32_t z =
          sc_quant_zero_point(a_zp, a_zp && a_zp->n_elements > 1 ? i : 0);
      for (j = 0; j < k; j++)
        abuf[i * k + j] =
            (int16_t)(load8(a->data, ia + i * k + j, a_signed) - z);
    }
    for (i = 0; i < k; i++)
      for (j = 0; j < n; j++) {
        int32_t z =
            sc_quant_zero_point(b_zp, b_zp && b_zp->n_elements > 1 ? j : 0);
        bbuf[i * n + j] =
            (int16_t)(load8(b->data, ib + i * n + j, b_signed) - z);
      }
    st =
        sc_qgemm(m, n, k, abuf, k, bbuf, n, acc, n, sc_node_threads(node), err);
    if (!st)
      for (i = 0; i < m; i++)
        emit(ctx, batch, i, acc + i * n, n);
  }

cleanup:
  free(abuf);
  free(bbuf);
  free(acc);
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

static void emit_int32(void *ctx, int64_t n, int64_t m, const int32_t *acc,
                       int64_t n_pixels)
{
  const struct sc_node *node = ctx;
  const struct sc_tensor *y = node->out[0];
  int32_t *dst = (int32_t *)y->data + (n * y->dims[1] + m) * n_pixels;
  memcpy(dst, acc, (size_t)n_pixels * sizeof *dst);
}

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

sc_status sc_qk_conv_integer_run(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *x_zp = node->n_inputs > 2 ? node->in[2] : NULL;
  const struct sc_tensor *w_zp = node->n_inputs > 3 ? node->in[3] : NULL;
  return sc_qconv_run(node, node->state, node->in[0], x_zp, node->in[1], w_zp,
                      emit_int32, node, err);
}

void sc_qk_conv_release(struct sc_node *node)
{
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

static void emit_qlinear_conv(void *ctx, int64_t n, int64_t m,
                              const int32_t *acc, int64_t n_pixels)
{
  const struct qlinear_conv_emit *e = ctx;
  const struct sc_node *node = e->node;
  const struct sc_tensor *y = node->out[0], *w_scale = node->in[4];
  const struct sc_tensor *bias = node->n_inputs > 8 ? node->in[8] : NULL;
  float multiplier =
      e->x_scale *
      sc_quant_load_float(w_scale, w_scale->n_elements == 1 ? 0 : m) /
      e->y_scale;
  int32_t b = bias ? ((const int32_t *)bias->data)[m] : 0;
  sc_quant_requantize_row(acc, n_pixels, b, multiplier, e->y_zp, y->dtype,
                          y->data, (n * y->dims[1] + m) * n_pixels);
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

static void emit_matmul_int32(void *ctx, int64_t batch, int64_t i,
                              const int32_t *acc, int64_t n)
{
  const struct sc_node *node = ctx;
  const struct sc_qmatmul *mm = node->state;
  int32_t *dst = (int32_t *)node->out[0]->data + (batch * mm->m + i) * n;
  memcpy(dst, acc, (size_t)n * sizeof *dst);
}

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
  return sc_qmatmul_run(node, node->state, node->in[0], a_zp, node->in[1], b_zp,
                        emit_matmul_int32, node, err);
}

void sc_qk_matmul_release(struct sc_node *node)
{
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
