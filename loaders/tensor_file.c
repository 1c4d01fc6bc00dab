#include "loaders/tensor_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "loaders/onnx.h"

/* Largest .npy header accepted (numpy itself limits v1 headers to 64 KiB). */
#define NPY_MAX_HEADER 65536

static const char *skip_space(const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* Finds the value of 'key' in a numpy header dict; returns a pointer just
 * after "'key':" (spaces skipped) or NULL. */
static const char *find_key(const char *h, const char *end, const char *key)
{
  size_t klen = strlen(key);
  const char *p;
  for (p = h; p + klen + 2 < end; p++) {
    if ((*p == '\'' || *p == '"') && p[klen + 1] == *p &&
        memcmp(p + 1, key, klen) == 0) {
      const char *q = skip_space(p + klen + 2, end);
      if (q < end && *q == ':')
        return skip_space(q + 1, end);
    }
  }
  return NULL;
}

static int parse_descr(const char *d, size_t len, enum sc_dtype *dtype,
                       int *swap)
{
  static const struct {
    char kind;
    int size;
    enum sc_dtype dtype;
  } table[] = {
      {'f', 2, SC_DTYPE_FLOAT16}, {'f', 4, SC_DTYPE_FLOAT},
      {'f', 8, SC_DTYPE_DOUBLE},  {'i', 1, SC_DTYPE_INT8},
      {'i', 2, SC_DTYPE_INT16},   {'i', 4, SC_DTYPE_INT32},
      {'i', 8, SC_DTYPE_INT64},   {'u', 1, SC_DTYPE_UINT8},
      {'u', 2, SC_DTYPE_UINT16},  {'u', 4, SC_DTYPE_UINT32},
      {'u', 8, SC_DTYPE_UINT64},  {'b', 1, SC_DTYPE_BOOL},
  };
  size_t i;
  int size;
  char kind;

  if (len < 3 || len > 4)
    return -1;
  if (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '=')
    return -1;
  kind = d[1];
  if (d[2] < '1' || d[2] > '8' || (len == 4))
    return -1;
  size = d[2] - '0';
  for (i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].kind == kind && table[i].size == size) {
      *dtype = table[i].dtype;
      *swap = d[0] == '>' && size > 1;
      return 0;
    }
  return -1;
}

static void byteswap(uint8_t *data, int64_t n, size_t elem)
{
  int64_t i;
  size_t a, b;
  for (i = 0; i < n; i++) {
    uint8_t *e = data + (size_t)i * elem;
    for (a = 0, b = elem - 1; a < b; a++, b--) {
      uint8_t t = e[a];
      e[a] = e[b];
      e[b] = t;
    }
  }
}

/* Converts a Fortran-ordered buffer into C order in place (via a copy). */
static int fortran_to_c(struct sc_tensor *t)
{
  size_t elem = sc_dtype_size(t->dtype), size = sc_tensor_size(t);
  uint8_t *src = malloc(size + 1);
  int64_t idx[SC_MAX_RANK] = {0};
  int64_t i;
  int r;

  if (!src)
    return -1;
  memcpy(src, t->data, size);
  for (i = 0; i < t->n_elements; i++) {
    int64_t off = 0, stride = 1; /* Fortran offset of the C index idx */
    for (r = 0; r < t->rank; r++) {
      off += idx[r] * stride;
      stride *= t->dims[r];
    }
    memcpy((uint8_t *)t->data + (size_t)i * elem, src + (size_t)off * elem,
           elem);
    for (r = t->rank - 1; r >= 0; r--) { /* next C index */
      if (++idx[r] < t->dims[r])
        break;
      idx[r] = 0;
    }
  }
  free(src);
  return 0;
}

sc_status sc_npy_parse(const uint8_t *data, size_t size, const char *name,
                       struct sc_tensor **out, struct sc_error *err)
{
  size_t header_len, offset;
  const char *h, *end, *p;
  enum sc_dtype dtype;
  int swap = 0, fortran = 0, rank = 0;
  int64_t dims[SC_MAX_RANK];
  int64_t n;
  struct sc_tensor *t;
  sc_status st;

  *out = NULL;
  if (size < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: not a .npy file (bad magic)", name);
  if (data[6] == 1) {
    header_len = (size_t)data[8] | (size_t)data[9] << 8;
    offset = 10;
  } else if (data[6] == 2 || data[6] == 3) {
    if (size < 12)
      return sc_fail(err, SC_ERR_FORMAT, "%s: truncated .npy header", name);
    header_len = (size_t)data[8] | (size_t)data[9] << 8 |
                 (size_t)data[10] << 16 | (size_t)data[11] << 24;
    offset = 12;
  } else
    return sc_fail(err, SC_ERR_FORMAT, "%s: unknown .npy version %d.%d", name,
                   data[6], data[7]);
  if (header_len > NPY_MAX_HEADER || header_len > size - offset)
    return sc_fail(err, SC_ERR_FORMAT, "%s: truncated .npy header", name);
  h = (const char *)data + offset;
  end = h + header_len;

  p = find_key(h, end, "descr");
  if (!p || (*p != '\'' && *p != '"'))
    return sc_fail(err, SC_ERR_FORMAT, "%s: .npy header has no 'descr'", name);
  {
    const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
    if (!q)
      return sc_fail(err, SC_ERR_FORMAT, "%s: malformed .npy 'descr'", name);
    if (parse_descr(p + 1, (size_t)(q - p - 1), &dtype, &swap) != 0)
      return sc_fail(err, SC_ERR_UNSUPPORTED,
                     "%s: .npy dtype '%.*s' is not a supported numeric type",
                     name, (int)(q - p - 1), p + 1);
  }
  p = find_key(h, end, "fortran_order");
  if (!p)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: .npy header has no "
                   "'fortran_order'",
                   name);
  if ((size_t)(end - p) >= 4 && memcmp(p, "True", 4) == 0)
    fortran = 1;
  else if (!((size_t)(end - p) >= 5 && memcmp(p, "False", 5) == 0))
    return sc_fail(err, SC_ERR_FORMAT, "%s: malformed .npy 'fortran_order'",
                   name);
  p = find_key(h, end, "shape");
  if (!p || *p != '(')
    return sc_fail(err, SC_ERR_FORMAT, "%s: .npy header has no 'shape'", name);
  p++;
  for (;;) {
    long long v;
    char *stop;
    char num[32];
    size_t k = 0;
    p = skip_space(p, end);
    if (p < end && *p == ')')
      break;
    while (p + k < end && k < sizeof num - 1 && p[k] >= '0' && p[k] <= '9')
      k++;
    if (k == 0 || k > 18)
      return sc_fail(err, SC_ERR_FORMAT, "%s: malformed .npy shape", name);
    memcpy(num, p, k);
    num[k] = '\0';
    v = strtoll(num, &stop, 10);
    if (rank >= SC_MAX_RANK)
      return sc_fail(err, SC_ERR_UNSUPPORTED,
                     "%s: .npy rank exceeds the supported %d", name,
                     SC_MAX_RANK);
    dims[rank++] = v;
    p = skip_space(p + k, end);
    if (p < end && *p == ',')
      p++;
    else if (p < end && *p == ')')
      break;
    else
      return sc_fail(err, SC_ERR_FORMAT, "%s: malformed .npy shape", name);
  }
  st = sc_shape_count(rank, dims, sc_dtype_size(dtype), &n, name, err);
  if (st)
    return st;
  offset += header_len;
  if ((size_t)n * sc_dtype_size(dtype) != size - offset)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: .npy data is %zu bytes, its shape needs %zu", name,
                   size - offset, (size_t)n * sc_dtype_size(dtype));
  st = sc_tensor_create(dtype, rank, dims, &t, err);
  if (st)
    return st;
  if (sc_tensor_size(t))
    memcpy(t->data, data + offset, sc_tensor_size(t));
  if (swap)
    byteswap(t->data, t->n_elements, sc_dtype_size(dtype));
  if (dtype == SC_DTYPE_BOOL) {
    int64_t i;
    for (i = 0; i < n; i++)
      ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
  }
  if (fortran && rank > 1 && fortran_to_c(t) != 0) {
    sc_tensor_free(t);
    return sc_fail_nomem(err, name);
  }
  *out = t;
  return SC_OK;
}

sc_status sc_npy_load(const char *path, struct sc_tensor **out,
                      struct sc_error *err)
{
  uint8_t *data;
  size_t size;
  sc_status st = sc_file_read(path, SC_MAX_TENSOR_SIZE + NPY_MAX_HEADER, &data,
                              &size, err);
  *out = NULL;
  if (st)
    return st;
  st = sc_npy_parse(data, size, path, out, err);
  free(data);
  return st;
}

static const char *npy_descr(enum sc_dtype dtype)
{
  switch (dtype) {
  case SC_DTYPE_FLOAT:
    return "<f4";
  case SC_DTYPE_DOUBLE:
    return "<f8";
  case SC_DTYPE_FLOAT16:
    return "<f2";
  case SC_DTYPE_INT8:
    return "|i1";
  case SC_DTYPE_UINT8:
    return "|u1";
  case SC_DTYPE_INT16:
    return "<i2";
  case SC_DTYPE_UINT16:
    return "<u2";
  case SC_DTYPE_INT32:
    return "<i4";
  case SC_DTYPE_UINT32:
    return "<u4";
  case SC_DTYPE_INT64:
    return "<i8";
  case SC_DTYPE_UINT64:
    return "<u8";
  case SC_DTYPE_BOOL:
    return "|b1";
  default:
    return NULL;
  }
}

sc_status sc_npy_encode(const struct sc_tensor *t, uint8_t **data, size_t *size,
                        struct sc_error *err)
{
  char header[512];
  size_t used, header_len, total, payload;
  const char *descr = npy_descr(t->dtype);
  int i;
  uint8_t *buf;

  *data = NULL;
  *size = 0;
  if (!descr && t->dtype != SC_DTYPE_BFLOAT16)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "cannot write %s as .npy",
                   sc_dtype_name(t->dtype));
  if (!descr)
    descr = "<f4";
  used = (size_t)snprintf(header, sizeof header,
                          "{'descr': '%s', 'fortran_order': False, 'shape': (",
                          descr);
  for (i = 0; i < t->rank; i++)
    used += (size_t)snprintf(header + used, sizeof header - used, "%lld%s",
                             (long long)t->dims[i],
                             (t->rank == 1 || i + 1 < t->rank) ? ", " : "");
  if (t->rank == 1)
    used -= 1; /* "(3,)" not "(3, )" */
  used += (size_t)snprintf(header + used, sizeof header - used, "), }");
  /* pad with spaces so that the data starts at a multiple of 64 */
  header_len = (10 + used + 1 + 63) / 64 * 64 - 10;
  payload = t->dtype == SC_DTYPE_BFLOAT16 ? (size_t)t->n_elements * 4
                                          : sc_tensor_size(t);
  total = 10 + header_len + payload;
  buf = malloc(total + 1);
  if (!buf)
    return sc_fail_nomem(err, "npy encoding");
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (uint8_t)(header_len & 0xff);
  buf[9] = (uint8_t)(header_len >> 8);
  memcpy(buf + 10, header, used);
  memset(buf + 10 + used, ' ', header_len - used - 1);
  buf[10 + header_len - 1] = '\n';
  if (t->dtype == SC_DTYPE_BFLOAT16) {
    int64_t k;
    for (k = 0; k < t->n_elements; k++) {
      float f = sc_bfloat16_to_float(((const uint16_t *)t->data)[k]);
      memcpy(buf + 10 + header_len + (size_t)k * 4, &f, 4);
    }
  } else if (payload) {
    memcpy(buf + 10 + header_len, t->data, payload);
  }
  *data = buf;
  *size = total;
  return SC_OK;
}

sc_status sc_npy_save(const char *path, const struct sc_tensor *t,
                      struct sc_error *err)
{
  uint8_t *data;
  size_t size;
  sc_status st = sc_npy_encode(t, &data, &size, err);
  if (st) {
    sc_error_prefix(err, "%s: ", path);
    return st;
  }
  st = sc_file_write_atomic(path, data, size, err);
  free(data);
  return st;
}

sc_status sc_raw_load(const char *path, enum sc_dtype dtype, int rank,
                      const int64_t *dims, struct sc_tensor **out,
                      struct sc_error *err)
{
  uint8_t *data;
  size_t size;
  int64_t n;
  sc_status st;

  *out = NULL;
  if (sc_dtype_size(dtype) == 0)
    return sc_fail(err, SC_ERR_FORMAT, "%s: dtype %s cannot be read raw", path,
                   sc_dtype_name(dtype));
  st = sc_shape_count(rank, dims, sc_dtype_size(dtype), &n, path, err);
  if (st)
    return st;
  st = sc_file_read(path, SC_MAX_TENSOR_SIZE, &data, &size, err);
  if (st)
    return st;
  if (size != (size_t)n * sc_dtype_size(dtype)) {
    free(data);
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: raw file is %zu bytes, %s of %lld elements needs %zu",
                   path, size, sc_dtype_name(dtype), (long long)n,
                   (size_t)n * sc_dtype_size(dtype));
  }
  st = sc_tensor_create(dtype, rank, dims, out, err);
  if (!st && size)
    memcpy((*out)->data, data, size);
  free(data);
  return st;
}

static int has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

sc_status sc_tensor_file_load(const char *path, struct sc_tensor **out,
                              struct sc_error *err)
{
  *out = NULL;
  if (has_suffix(path, ".npy"))
    return sc_npy_load(path, out, err);
  if (has_suffix(path, ".pb"))
    return sc_onnx_load_tensor(path, out, NULL, err);
  return sc_fail(err, SC_ERR_FORMAT,
                 "%s: unknown tensor file type (expected .npy or .pb)", path);
}
