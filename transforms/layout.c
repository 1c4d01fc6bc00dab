/* Layout transformers: transposes (Transpose, HWC2CHW, CHW2HWC and their
 * snake_case steps), ReduceChannel and the BGR <-> RGB channel swap. They
 * move elements only, so every dtype is accepted and kept. */
#include <string.h>

#include "transforms/internal.h"

/* Walks the output in order, keeping the source offset incrementally; T is
 * an unsigned type of the element size. */
#define TRANSPOSE_LOOP(T)                                                      \
  do {                                                                         \
    const T *s = (const T *)src;                                               \
    T *d = (T *)dst;                                                           \
    int64_t offset = 0, inner = dims[rank - 1];                                \
    int64_t inner_stride = in_strides[order[rank - 1]];                        \
    for (i = 0; i < in->n_elements; i += inner) {                              \
      int64_t j;                                                               \
      for (j = 0; j < inner; j++)                                              \
        d[i + j] = s[offset + j * inner_stride];                               \
      for (r = rank - 2; r >= 0; r--) {                                        \
        idx[r]++;                                                              \
        offset += in_strides[order[r]];                                        \
        if (idx[r] < dims[r])                                                  \
          break;                                                               \
        offset -= in_strides[order[r]] * dims[r];                              \
        idx[r] = 0;                                                            \
      }                                                                        \
    }                                                                          \
  } while (0)

sc_status transpose_tensor(const struct sc_tensor *in, const int *order,
                           struct sc_tensor **out, struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK], in_strides[SC_MAX_RANK], idx[SC_MAX_RANK];
  int64_t i, stride = 1;
  size_t esize = sc_dtype_size(in->dtype);
  const uint8_t *src = in->data;
  uint8_t *dst;
  int r, rank = in->rank;
  sc_status st;

  *out = NULL;
  for (r = rank - 1; r >= 0; r--) {
    in_strides[r] = stride;
    stride *= in->dims[r];
  }
  for (r = 0; r < rank; r++) {
    dims[r] = in->dims[order[r]];
    idx[r] = 0;
  }
  st = sc_tensor_create_pooled(NULL, in->dtype, rank, dims, out, err);
  if (st || in->n_elements == 0)
    return st;
  dst = (*out)->data;
  switch (esize) {
  case 1:
    TRANSPOSE_LOOP(uint8_t);
    break;
  case 2:
    TRANSPOSE_LOOP(uint16_t);
    break;
  case 4:
    TRANSPOSE_LOOP(uint32_t);
    break;
  default:
    TRANSPOSE_LOOP(uint64_t);
    break;
  }
  return SC_OK;
}

/* Layout after permuting a rank-3 image whose channel axis is known. */
static enum sc_layout permuted_layout(enum sc_layout in, const int *order,
                                      int rank)
{
  int channel, p;
  if (rank != 3 || (in != SC_LAYOUT_HWC && in != SC_LAYOUT_CHW))
    return SC_LAYOUT_OTHER;
  channel = in == SC_LAYOUT_HWC ? 2 : 0;
  for (p = 0; p < 3; p++)
    if (order[p] == channel)
      return p == 2 ? SC_LAYOUT_HWC : p == 0 ? SC_LAYOUT_CHW : SC_LAYOUT_OTHER;
  return SC_LAYOUT_OTHER;
}

/* variant 0: `order` parameter; 1: HWC -> CHW (2,0,1); 2: CHW -> HWC
 * (1,2,0). */
sc_status apply_transpose(const struct sc_transform *t,
                          const struct sc_tensor *in, enum sc_layout *layout,
                          struct sc_tensor **out, struct sc_error *err)
{
  static const int to_chw[3] = {2, 0, 1}, to_hwc[3] = {1, 2, 0};
  int order[SC_MAX_RANK], n, i;
  char shape[96];
  sc_status st;

  if (t->kind->variant == 1 || t->kind->variant == 2) {
    n = 3;
    memcpy(order, t->kind->variant == 1 ? to_chw : to_hwc, sizeof to_chw);
  } else {
    const struct param_value *v = param_get(t, "order");
    n = v->n;
    for (i = 0; i < n; i++)
      order[i] = (int)v->list[i];
  }
  if (in->rank != n)
    return sc_fail(err, SC_ERR_CONFIG,
                   "expected a rank-%d input for axis order of %d axes, got "
                   "shape %s",
                   n, n,
                   sc_shape_format(in->rank, in->dims, shape, sizeof shape));
  st = transpose_tensor(in, order, out, err);
  if (!st)
    *layout = permuted_layout(*layout, order, n);
  return st;
}

/* ReduceChannel: image[:1] (CHW) or image[..., :1] (HWC). */
sc_status apply_reduce_channel(const struct sc_transform *t,
                               const struct sc_tensor *in,
                               enum sc_layout *layout, struct sc_tensor **out,
                               struct sc_error *err)
{
  enum sc_layout lay;
  size_t esize = sc_dtype_size(in->dtype);
  sc_status st;
  int64_t i, n;

  st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  if (lay == SC_LAYOUT_CHW) {
    st = new_tensor3(in->dtype, 1, in->dims[1], in->dims[2], out, err);
    if (!st)
      memcpy((*out)->data, in->data, sc_tensor_size(*out));
    return st;
  }
  st = new_tensor3(in->dtype, in->dims[0], in->dims[1], 1, out, err);
  if (st)
    return st;
  n = in->dims[0] * in->dims[1];
  for (i = 0; i < n; i++)
    memcpy((uint8_t *)(*out)->data + (size_t)i * esize,
           (const uint8_t *)in->data + (size_t)(i * in->dims[2]) * esize,
           esize);
  return SC_OK;
}

#define SWAP_LOOP(T)                                                           \
  do {                                                                         \
    const T *s = (const T *)src;                                               \
    T *d = (T *)dst;                                                           \
    for (i = 0; i < n; i++) {                                                  \
      d[3 * i] = s[3 * i + 2];                                                 \
      d[3 * i + 1] = s[3 * i + 1];                                             \
      d[3 * i + 2] = s[3 * i];                                                 \
    }                                                                          \
  } while (0)

/* BGR2RGB / RGB2BGR and their steps: channels [2, 1, 0]. */
sc_status apply_channel_swap(const struct sc_transform *t,
                             const struct sc_tensor *in, enum sc_layout *layout,
                             struct sc_tensor **out, struct sc_error *err)
{
  enum sc_layout lay;
  size_t esize = sc_dtype_size(in->dtype);
  const uint8_t *src = in->data;
  uint8_t *dst;
  int64_t c_dim, i, n;
  sc_status st;

  st = check_image(in, DT_ANY_NUMERIC, err);
  if (!st)
    st = resolve_layout(t, layout, &lay, err);
  if (st)
    return st;
  c_dim = lay == SC_LAYOUT_CHW ? in->dims[0] : in->dims[2];
  if (c_dim != 3)
    return sc_fail(err, SC_ERR_CONFIG, "expected 3 channels (%s), got %lld",
                   lay == SC_LAYOUT_CHW ? "CHW" : "HWC", (long long)c_dim);
  st = sc_tensor_create_pooled(NULL, in->dtype, 3, in->dims, out, err);
  if (st)
    return st;
  dst = (*out)->data;
  if (lay == SC_LAYOUT_CHW) {
    size_t plane = (size_t)(in->dims[1] * in->dims[2]) * esize;
    for (i = 0; i < 3; i++)
      memcpy(dst + (size_t)i * plane, src + (size_t)(2 - i) * plane, plane);
    return SC_OK;
  }
  n = in->dims[0] * in->dims[1];
  switch (esize) {
  case 1:
    SWAP_LOOP(uint8_t);
    break;
  case 2:
    SWAP_LOOP(uint16_t);
    break;
  case 4:
    SWAP_LOOP(uint32_t);
    break;
  default:
    SWAP_LOOP(uint64_t);
    break;
  }
  return SC_OK;
}
