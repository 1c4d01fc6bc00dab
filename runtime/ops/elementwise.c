/* Operator family: element-wise arithmetic with numpy broadcasting, and
 * unary activations. (Seed of the family; extended per the foundation
 * issue.) */
#include <math.h>
#include <string.h>

#include "runtime/ops/families.h"
#include "runtime/threadpool.h"

/* --- broadcasting ---------------------------------------------------- */

/* Strides (in elements) of an input broadcast to the output shape: 0 along
 * broadcast dimensions. */
static void broadcast_strides(const struct sc_tensor *in,
                              const struct sc_tensor *out, int64_t *strides)
{
  int64_t stride = 1;
  int r, offset = out->rank - in->rank;
  for (r = out->rank - 1; r >= 0; r--) {
    int ri = r - offset;
    if (ri < 0 || in->dims[ri] == 1)
      strides[r] = 0;
    else {
      strides[r] = stride;
      stride *= in->dims[ri];
    }
  }
}

static sc_status binary_reshape(struct sc_node *node, struct sc_error *err)
{
  int64_t dims[SC_MAX_RANK];
  int rank;
  sc_status st = sc_broadcast_shapes(node, node->in[0]->rank, node->in[0]->dims,
                                     node->in[1]->rank, node->in[1]->dims,
                                     &rank, dims, err);
  if (st)
    return st;
  return sc_tensor_set_shape(node->out[0], rank, dims, err);
}

enum binary_kind { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV };

static enum binary_kind binary_kind_of(const struct sc_node *node)
{
  if (strcmp(node->op_type, "Add") == 0)
    return BIN_ADD;
  if (strcmp(node->op_type, "Sub") == 0)
    return BIN_SUB;
  if (strcmp(node->op_type, "Mul") == 0)
    return BIN_MUL;
  return BIN_DIV;
}

static const enum sc_dtype arithmetic_types[] = {
    SC_DTYPE_FLOAT,  SC_DTYPE_DOUBLE, SC_DTYPE_INT32, SC_DTYPE_INT64,
    SC_DTYPE_INT8,   SC_DTYPE_UINT8,  SC_DTYPE_INT16, SC_DTYPE_UINT16,
    SC_DTYPE_UINT32, SC_DTYPE_UINT64};

static sc_status binary_prepare(struct sc_node *node, struct sc_error *err)
{
  sc_status st = sc_check_arity(node, 2, 2, 1, 1, err);
  if (!st)
    st = sc_check_dtype(
        node, 0, arithmetic_types,
        (int)(sizeof arithmetic_types / sizeof arithmetic_types[0]), err);
  if (st)
    return st;
  if (node->in[1]->dtype != node->in[0]->dtype)
    return sc_node_fail(
        node, err, SC_ERR_FORMAT, "inputs have different dtypes (%s and %s)",
        sc_dtype_name(node->in[0]->dtype), sc_dtype_name(node->in[1]->dtype));
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

struct binary_job {
  const struct sc_node *node;
  enum binary_kind kind;
  int64_t sa[SC_MAX_RANK], sb[SC_MAX_RANK];
};

#define BINARY_LOOP(T, EXPR)                                                   \
  do {                                                                         \
    const T *a = node->in[0]->data, *b = node->in[1]->data;                    \
    T *y = out->data;                                                          \
    for (i = begin; i < end; i++) {                                            \
      int64_t rem = i, ia = 0, ib = 0;                                         \
      int r;                                                                   \
      for (r = out->rank - 1; r >= 0; r--) {                                   \
        int64_t c = rem % out->dims[r];                                        \
        rem /= out->dims[r];                                                   \
        ia += c * job->sa[r];                                                  \
        ib += c * job->sb[r];                                                  \
      }                                                                        \
      {                                                                        \
        T x1 = a[ia], x2 = b[ib];                                              \
        y[i] = (T)(EXPR);                                                      \
      }                                                                        \
    }                                                                          \
  } while (0)

#define BINARY_DISPATCH(T, DIV)                                                \
  switch (job->kind) {                                                         \
  case BIN_ADD:                                                                \
    BINARY_LOOP(T, x1 + x2);                                                   \
    break;                                                                     \
  case BIN_SUB:                                                                \
    BINARY_LOOP(T, x1 - x2);                                                   \
    break;                                                                     \
  case BIN_MUL:                                                                \
    BINARY_LOOP(T, x1 *x2);                                                    \
    break;                                                                     \
  case BIN_DIV:                                                                \
    BINARY_LOOP(T, DIV);                                                       \
    break;                                                                     \
  }

static void binary_range(void *ctx, int64_t begin, int64_t end)
{
  const struct binary_job *job = ctx;
  const struct sc_node *node = job->node;
  const struct sc_tensor *out = node->out[0];
  int64_t i;

  switch (out->dtype) {
  case SC_DTYPE_FLOAT:
    BINARY_DISPATCH(float, x1 / x2);
    break;
  case SC_DTYPE_DOUBLE:
    BINARY_DISPATCH(double, x1 / x2);
    break;
  case SC_DTYPE_INT32:
    BINARY_DISPATCH(int32_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_INT64:
    BINARY_DISPATCH(int64_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_INT8:
    BINARY_DISPATCH(int8_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_UINT8:
    BINARY_DISPATCH(uint8_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_INT16:
    BINARY_DISPATCH(int16_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_UINT16:
    BINARY_DISPATCH(uint16_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_UINT32:
    BINARY_DISPATCH(uint32_t, x2 ? x1 / x2 : 0);
    break;
  case SC_DTYPE_UINT64:
    BINARY_DISPATCH(uint64_t, x2 ? x1 / x2 : 0);
    break;
  default:
    break;
  }
}

static sc_status binary_run(struct sc_node *node, struct sc_error *err)
{
  struct binary_job job;
  job.node = node;
  job.kind = binary_kind_of(node);
  broadcast_strides(node->in[0], node->out[0], job.sa);
  broadcast_strides(node->in[1], node->out[0], job.sb);
  sc_parallel_for(sc_node_threads(node), node->out[0]->n_elements, 16384,
                  binary_range, &job);
  return SC_OK;
}

/* --- unary ------------------------------------------------------------ */

static sc_status relu_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype types[] = {SC_DTYPE_FLOAT, SC_DTYPE_DOUBLE,
                                        SC_DTYPE_INT8, SC_DTYPE_INT32,
                                        SC_DTYPE_INT64};
  sc_status st = sc_check_arity(node, 1, 1, 1, 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, types, 5, err);
  if (st)
    return st;
  node->out[0]->dtype = node->in[0]->dtype;
  return SC_OK;
}

static sc_status relu_run(struct sc_node *node, struct sc_error *err)
{
  int64_t i, n = node->in[0]->n_elements;
  switch (node->in[0]->dtype) {
  case SC_DTYPE_FLOAT: {
    const float *x = node->in[0]->data;
    float *y = node->out[0]->data;
    for (i = 0; i < n; i++)
      y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  }
  default:
    for (i = 0; i < n; i++) {
      double v = sc_dtype_load(node->in[0]->dtype, node->in[0]->data, i);
      sc_dtype_store(node->out[0]->dtype, node->out[0]->data, i, v > 0 ? v : 0);
    }
    break;
  }
  return SC_OK;
}

const struct sc_op sc_ops_elementwise[] = {
    {"", "Add", 7, SC_OPSET_LATEST, binary_prepare, binary_reshape, binary_run,
     NULL, SC_OP_F16_VIA_FLOAT},
    {"", "Sub", 7, SC_OPSET_LATEST, binary_prepare, binary_reshape, binary_run,
     NULL, SC_OP_F16_VIA_FLOAT},
    {"", "Mul", 7, SC_OPSET_LATEST, binary_prepare, binary_reshape, binary_run,
     NULL, SC_OP_F16_VIA_FLOAT},
    {"", "Div", 7, SC_OPSET_LATEST, binary_prepare, binary_reshape, binary_run,
     NULL, SC_OP_F16_VIA_FLOAT},
    {"", "Relu", 6, SC_OPSET_LATEST, relu_prepare, sc_reshape_like_input0,
     relu_run, NULL, SC_OP_F16_VIA_FLOAT},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
