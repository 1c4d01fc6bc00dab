/* Tensors: a dtype, int64 dims and a contiguous row-major data block.
 *
 * Ownership: the element storage lives in a reference-counted struct
 * sc_buffer. A tensor header holds one reference to its buffer (or none,
 * when it borrows memory it does not own). sc_tensor_ref() makes a second
 * header sharing the same storage, which is how an observer keeps a tensor
 * the executor would otherwise recycle. Buffers that came from a pool go
 * back to it when their last reference is dropped.
 *
 * Sizes are hostile until checked: every constructor checks rank, negative
 * dims and the products for overflow before allocating. */
#ifndef SC_RUNTIME_TENSOR_H
#define SC_RUNTIME_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/dtype.h"
#include "runtime/error.h"

#define SC_MAX_RANK 8

/* Largest tensor the runtime accepts, in bytes (and elements). Larger
 * shapes are malformed (SC_ERR_FORMAT) and refused before any allocation;
 * an allocation that fails below this limit is SC_ERR_NOMEM. */
#define SC_MAX_TENSOR_SIZE ((size_t)1 << 38)

/* Alignment of every buffer the runtime allocates. */
#define SC_TENSOR_ALIGN 64

struct sc_pool;
struct sc_buffer;

struct sc_tensor {
  enum sc_dtype dtype;
  int rank;
  int64_t dims[SC_MAX_RANK];
  int64_t n_elements;
  void *data; /* element 0; NULL for an empty or unallocated tensor */
  struct sc_buffer
      *buffer; /* owning reference, or NULL when data is borrowed */
};

/* Element count of a shape, checked: rank within [0, SC_MAX_RANK], no
 * negative dim, no overflow, and elements * element_size within
 * SC_MAX_TENSOR_SIZE. `what` names the tensor in the message. */
sc_status sc_shape_count(int rank, const int64_t *dims, size_t element_size,
                         int64_t *n_elements, const char *what,
                         struct sc_error *err);

/* A new tensor with zeroed storage. Owns one buffer reference. */
sc_status sc_tensor_create(enum sc_dtype dtype, int rank, const int64_t *dims,
                           struct sc_tensor **out, struct sc_error *err);

/* A new tensor whose storage comes from `pool` (may be NULL: plain malloc).
 * Storage is not zeroed. */
sc_status sc_tensor_create_pooled(struct sc_pool *pool, enum sc_dtype dtype,
                                  int rank, const int64_t *dims,
                                  struct sc_tensor **out, struct sc_error *err);

/* A new header borrowing `data` (not freed by sc_tensor_free). */
sc_status sc_tensor_wrap(enum sc_dtype dtype, int rank, const int64_t *dims,
                         void *data, struct sc_tensor **out,
                         struct sc_error *err);

/* A deep copy with its own storage. */
sc_status sc_tensor_clone(const struct sc_tensor *src, struct sc_tensor **out,
                          struct sc_error *err);

/* A new header sharing src's storage (one more buffer reference). A
 * borrowed src is deep-copied instead, since its memory may vanish. */
sc_status sc_tensor_ref(const struct sc_tensor *src, struct sc_tensor **out,
                        struct sc_error *err);

/* Releases the header and its buffer reference. NULL is a no-op. */
void sc_tensor_free(struct sc_tensor *t);

/* Initialises an embedded header (no storage) to the given dtype/shape
 * after checking it. Used by the executor and kernels for output headers. */
sc_status sc_tensor_set_shape(struct sc_tensor *t, int rank,
                              const int64_t *dims, struct sc_error *err);

/* Gives an embedded header (shape already set) storage from pool;
 * releases any storage it had. */
sc_status sc_tensor_alloc(struct sc_tensor *t, struct sc_pool *pool,
                          struct sc_error *err);

/* Drops the storage of an embedded header (keeps dtype and shape). */
void sc_tensor_release_data(struct sc_tensor *t);

size_t sc_tensor_size(const struct sc_tensor *t); /* bytes of data */

/* 1 if both have the same rank and dims. */
int sc_tensor_same_shape(const struct sc_tensor *a, const struct sc_tensor *b);

/* "[1,3,224,224]" into buf (always terminated). Returns buf. */
char *sc_shape_format(int rank, const int64_t *dims, char *buf, size_t size);

/* Buffer pool: recycles storage of released tensors by size, caching at
 * most as many bytes as it ever had in use at once. Thread-safe.
 * The pool is reference counted: each live buffer holds a reference, so
 * sc_pool_free() may be called while observers still hold tensors. */
sc_status sc_pool_create(struct sc_pool **out, struct sc_error *err);
void sc_pool_free(struct sc_pool *pool);
size_t sc_pool_bytes_in_use(const struct sc_pool *pool);
size_t sc_pool_peak_bytes(const struct sc_pool *pool);
/* Frees all cached (unused) storage. */
void sc_pool_trim(struct sc_pool *pool);

/* A slot of a memory plan (runtime/executor.c): one buffer, kept across
 * runs, for the tensors whose lifetimes the plan lines up in it one after
 * the other. */
struct sc_slot {
  struct sc_buffer *buffer; /* the slot's reference; NULL until first use */
  size_t capacity;          /* bytes, from the plan */
};

/* Gives an embedded header (shape set, at most slot->capacity bytes) the
 * slot's buffer when nothing else holds it any more; when something does
 * (an observer kept the previous tensor), a new buffer that becomes the
 * slot's, the old one living on with its holders. */
sc_status sc_tensor_alloc_in_slot(struct sc_tensor *t, struct sc_slot *slot,
                                  struct sc_error *err);

/* dst's data becomes src's, dst holding a reference to src's buffer
 * (src->buffer must not be NULL); dst keeps its dtype and shape, which
 * the caller has checked cover the same bytes. */
void sc_tensor_share_data(struct sc_tensor *dst, const struct sc_tensor *src);

/* Drops the slot's reference to its buffer. */
void sc_slot_release(struct sc_slot *slot);

/* Allocates the slot's buffer now if it has none. */
sc_status sc_slot_reserve(struct sc_slot *slot, struct sc_error *err);

/* 1 when the slot has a buffer that nothing but the slot holds: a tensor
 * may use it for a while (sc_tensor_alloc_in_slot) and give it back. */
int sc_slot_idle(const struct sc_slot *slot);

/* size bytes aligned like tensor storage, large ones (4 MiB and more) on
 * a 2 MiB boundary with the huge-page advice: for kernels' own long-lived
 * arrays (packed convolution weights). NULL when out of memory; free()
 * releases it. */
void *sc_storage_alloc(size_t size);

/* Tensor buffers of 1 MiB and more are recycled process-wide: kept when
 * freed, for a later allocation they fit, without raising the peak memory
 * (runtime/tensor.c says how). sc_storage_trim() frees the kept ones;
 * sc_storage_kept_bytes() counts what they hold. */
void sc_storage_trim(void);
size_t sc_storage_kept_bytes(void);

#endif
