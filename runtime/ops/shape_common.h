/* Helpers shared by the shape, layout and indexing families
 * (runtime/ops/shape.c, shape_layout.c, shape_index.c): the strided copy
 * engine that moves bytes for Transpose, Slice, Concat, Split, Expand, Tile,
 * Pad, DepthToSpace ..., and the readers of small integer inputs (shapes,
 * axes, pads) that reshape functions use.
 *
 * These kernels move bytes: every fixed-size dtype is handled by element
 * size, float16/bfloat16/bool included. */
#ifndef SC_RUNTIME_OPS_SHAPE_COMMON_H
#define SC_RUNTIME_OPS_SHAPE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/threadpool.h"

/* A strided copy has at most this many dimensions (Tile views a rank-r
 * tensor as 2r dimensions). */
#define SC_SHAPE_COPY_MAX_RANK (2 * SC_MAX_RANK)

/* dst[i0*dst_strides[0] + ...] = src[i0*src_strides[0] + ...] for every
 * index (i0, ...) within dims. Strides are in elements and may be zero (a
 * broadcast source) or negative (Slice with negative steps); src and dst
 * point at element (0, ..., 0). Destination elements must be distinct
 * (no zero or aliasing destination strides) and must not overlap the
 * source elements. */
struct sc_shape_copy {
  int rank;
  int64_t dims[SC_SHAPE_COPY_MAX_RANK];
  int64_t src_strides[SC_SHAPE_COPY_MAX_RANK];
  int64_t dst_strides[SC_SHAPE_COPY_MAX_RANK];
  size_t element_size;
  const void *src;
  void *dst;
};

/* Performs the copy: drops unit dimensions, merges dimensions contiguous in
 * both source and destination, copies contiguous inner blocks with memcpy,
 * tiles 2-D transposes, and splits large copies over `threads` (may be
 * NULL). Cannot fail. */
void sc_shape_copy_run(const struct sc_shape_copy *copy,
                       struct sc_threadpool *threads);

/* The same copy one element at a time, computing every index from scratch:
 * the reference the fast path is tested against. */
void sc_shape_copy_reference(const struct sc_shape_copy *copy);

/* Fills a copy descriptor for a contiguous row-major source of the given
 * shape (src_strides from dims) and a destination with the same strides.
 * The caller then adjusts strides/pointers. */
void sc_shape_copy_init(struct sc_shape_copy *copy, int rank,
                        const int64_t *dims, size_t element_size,
                        const void *src, void *dst);

/* Copies `size` bytes, split over threads when large. */
void sc_shape_copy_bytes(void *dst, const void *src, size_t size,
                         struct sc_threadpool *threads);

/* Row-major strides (in elements) of a shape. */
void sc_shape_strides(int rank, const int64_t *dims, int64_t *strides);

/* Checks that input i is present (SC_ERR_FORMAT otherwise) and holds a
 * fixed-size dtype the runtime can store (SC_ERR_UNSUPPORTED otherwise:
 * strings); messages name the node and input. */
sc_status sc_shape_check_storable(const struct sc_node *node, int i,
                                  struct sc_error *err);

/* Checks that input i is present and an integer tensor (int32 or int64,
 * or any integer type when any_integer is set). */
sc_status sc_shape_check_index_dtype(const struct sc_node *node, int i,
                                     int any_integer, struct sc_error *err);

/* Reads input i, a 1-D (or, when allow_scalar, 0-D) integer tensor, into
 * values (capacity max_values). Its data must be present. Fails naming the
 * node and `what` when the rank is wrong or it has more than max_values
 * elements. *n_values receives the count. */
sc_status sc_shape_read_ints(const struct sc_node *node, int i,
                             const char *what, int allow_scalar,
                             int64_t max_values, int64_t *values,
                             int64_t *n_values, struct sc_error *err);

/* node->state as one zeroed block of `size` bytes (SC_ERR_NOMEM naming
 * the kernel state on failure); released by sc_shape_state_free, which
 * kernels use as their `release`. */
sc_status sc_shape_state_alloc(struct sc_node *node, size_t size,
                               struct sc_error *err);
void sc_shape_state_free(struct sc_node *node);

/* Sets output i's shape, naming the node when the shape is invalid or too
 * large. */
sc_status sc_shape_set_output(struct sc_node *node, int i, int rank,
                              const int64_t *dims, struct sc_error *err);

/* 1 when input i is bound (not an omitted optional input). */
int sc_shape_has_input(const struct sc_node *node, int i);

/* Normalises a list of axes for a tensor of rank `rank` into out (sorted
 * is not required), failing naming the node on an out-of-range or repeated
 * axis. */
sc_status sc_shape_normalize_axes(const struct sc_node *node, int64_t n_axes,
                                  const int64_t *axes, int rank, int *out,
                                  struct sc_error *err);

#endif
