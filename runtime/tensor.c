#include "runtime/tensor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct sc_buffer {
  int refs; /* guarded by atomics */
  size_t capacity;
  size_t touched; /* the most bytes a tensor has used of it (recycled ones) */
  void *data;
  struct sc_pool *pool; /* holds a pool reference while set */
};

/* Cached buffers are kept sorted by capacity in `free_list`. */
struct sc_pool {
  pthread_mutex_t lock;
  int refs; /* 1 for the owner + 1 per live buffer */
  struct sc_buffer **free_list;
  size_t n_free;
  size_t free_capacity;
  size_t bytes_in_use;
  size_t peak_bytes;
};

static void pool_unref(struct sc_pool *pool);

/* Storage of HUGE_BUFFER bytes and more starts on a 2 MiB boundary and is
 * offered transparent huge pages (where the system gives them on request,
 * /sys/kernel/mm/transparent_hugepage/enabled = madvise): filling a new
 * buffer then takes one page fault per 2 MiB instead of one per 4 KiB.
 * glibc maps such a buffer on its own when it is above the mmap threshold
 * (stagecheck's main() sets 1 MiB), and the advice ends with it; a buffer
 * inside the heap leaves its range open to huge pages, which is harmless. */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_BUFFER ((size_t)4 << 20)

static void advise_huge_pages(void *data, size_t capacity)
{
#ifdef MADV_HUGEPAGE
  size_t length = capacity / HUGE_PAGE * HUGE_PAGE;
  if (length)
    (void)madvise(data, length, MADV_HUGEPAGE); /* advice: may be refused */
#else
  (void)data;
  (void)capacity;
#endif
}

void *sc_storage_alloc(size_t size)
{
  void *p = NULL;
  if (posix_memalign(&p, size >= HUGE_BUFFER ? HUGE_PAGE : SC_TENSOR_ALIGN,
                     size ? size : 1) != 0)
    return NULL;
  if (size >= HUGE_BUFFER)
    advise_huge_pages(p, size);
  return p;
}

sc_status sc_shape_count(int rank, const int64_t *dims, size_t element_size,
                         int64_t *n_elements, const char *what,
                         struct sc_error *err)
{
  int64_t n = 1;
  int i;

  if (rank < 0 || rank > SC_MAX_RANK)
    return sc_fail(err, SC_ERR_UNSUPPORTED,
                   "%s: rank %d is outside the supported range 0..%d",
                   what ? what : "tensor", rank, SC_MAX_RANK);
  for (i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return sc_fail(err, SC_ERR_FORMAT, "%s: negative dimension %lld",
                     what ? what : "tensor", (long long)dims[i]);
    if (dims[i] != 0 && n > (int64_t)(SC_MAX_TENSOR_SIZE / (size_t)dims[i]))
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: shape overflows (more than %zu elements)",
                     what ? what : "tensor", SC_MAX_TENSOR_SIZE);
    n *= dims[i];
  }
  if (element_size > 0 && (size_t)n > SC_MAX_TENSOR_SIZE / element_size)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: %lld elements exceed the %zu-byte tensor limit",
                   what ? what : "tensor", (long long)n, SC_MAX_TENSOR_SIZE);
  *n_elements = n;
  return SC_OK;
}

/* Large storage is recycled. A freed buffer of RECYCLE_MIN bytes and more
 * (stagecheck's mmap threshold: smaller ones come from the heap, whose
 * freed space stays resident anyway) is kept for a later allocation
 * instead of going back to the system, which would hand that allocation
 * fresh pages for the kernel to clear:
 * in an isolated verification of the ISNet chain, 13 GB of them (an
 * observer keeps a slot's tensor, the slot takes a new buffer, the kept
 * one is freed after its comparison).
 *
 * Keeping must not raise the peak memory. A buffer's resident part is
 * taken to be the most bytes a tensor has used of it (`touched`: the pages
 * a tensor wrote). The recycler counts the touched bytes of the buffers in
 * use and of those kept, and keeps their sum at or under the most the
 * buffers in use have ever touched at once: when a tensor touches more
 * than before, the oldest kept buffers are freed until the sum fits. A
 * request takes the kept buffer of the smallest capacity that fits it.
 * When that buffer has touched more than an eighth beyond the request's
 * first tensor, its pages past that tensor (from the next 2 MiB boundary)
 * go back to the system first (MADV_DONTNEED: the rest stays, already
 * cleared, and the tensor's share of memory is no larger than a fresh
 * buffer's). Without that advice, such a buffer is not taken.
 * Process-wide, thread-safe; sc_storage_trim() frees what is kept. */
#define RECYCLE_MIN ((size_t)1 << 20)
#define RECYCLE_ENTRIES 256

struct recycled {
  void *data;
  size_t capacity, touched;
};

static struct {
  pthread_mutex_t lock;
  struct recycled kept[RECYCLE_ENTRIES]; /* oldest first */
  int n_kept;
  size_t kept_bytes; /* touched bytes of the kept buffers */
  size_t in_use;     /* touched bytes of the buffers in use */
  size_t peak;       /* the most in_use has been */
} recycler = {PTHREAD_MUTEX_INITIALIZER, {{NULL, 0, 0}}, 0, 0, 0, 0};

/* Removes kept[i] (lock held). */
static struct recycled recycler_remove(int i)
{
  struct recycled r = recycler.kept[i];
  memmove(&recycler.kept[i], &recycler.kept[i + 1],
          (size_t)(recycler.n_kept - i - 1) * sizeof r);
  recycler.n_kept--;
  recycler.kept_bytes -= r.touched;
  return r;
}

/* r's pages from the first 2 MiB boundary at or past `size` bytes to its
 * touched end back to the system: r->touched becomes at most that
 * boundary. 0 when the system cannot do it (r unchanged). */
static int recycled_trim(struct recycled *r, size_t size)
{
#ifdef MADV_DONTNEED
  size_t from = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
  size_t to = r->touched / 4096 * 4096; /* whole pages of the buffer */
  if (to > from &&
      madvise((char *)r->data + from, to - from, MADV_DONTNEED) != 0)
    return 0;
  if (r->touched > from)
    r->touched = from;
  return 1;
#else
  (void)r;
  (void)size;
  return 0;
#endif
}

/* Storage for a buffer of b->capacity bytes that a tensor of `size` bytes
 * will use first: a kept buffer that fits (b->capacity and b->touched
 * become its own), else a new one. NULL when out of memory. */
static void *storage_take(struct sc_buffer *b, size_t size)
{
  struct recycled r = {NULL, 0, 0};
  void *p;
  int i, best = -1;

  b->touched = 0;
  if (b->capacity < RECYCLE_MIN)
    return sc_storage_alloc(b->capacity);
  pthread_mutex_lock(&recycler.lock);
  for (i = 0; i < recycler.n_kept; i++)
    if (recycler.kept[i].capacity >= b->capacity &&
        (best < 0 || recycler.kept[i].capacity < recycler.kept[best].capacity))
      best = i;
  /* its touched bytes leave the count with it, and come back as the
   * buffer's in use once trimmed (outside the lock) */
  if (best >= 0)
    r = recycler_remove(best);
  pthread_mutex_unlock(&recycler.lock);
  if (r.data) {
    if (r.touched <= size + size / 8 || recycled_trim(&r, size)) {
      pthread_mutex_lock(&recycler.lock);
      recycler.in_use += r.touched;
      pthread_mutex_unlock(&recycler.lock);
      b->capacity = r.capacity;
      b->touched = r.touched;
      return r.data;
    }
    free(r.data);
  }
  p = sc_storage_alloc(b->capacity);
  if (!p) {
    sc_storage_trim(); /* what is kept may be what the system lacks */
    p = sc_storage_alloc(b->capacity);
  }
  return p;
}

/* A tensor of `size` bytes is placed in b: counts what it touches beyond
 * what b's earlier tensors did, and frees the oldest kept buffers while
 * the bound does not hold. */
static void storage_touch(struct sc_buffer *b, size_t size)
{
  void *evicted[RECYCLE_ENTRIES];
  int n_evicted = 0, i;

  if (b->capacity < RECYCLE_MIN)
    return;
  if (size > b->capacity)
    size = b->capacity;
  pthread_mutex_lock(&recycler.lock);
  if (size <= b->touched) {
    pthread_mutex_unlock(&recycler.lock);
    return;
  }
  recycler.in_use += size - b->touched;
  b->touched = size;
  if (recycler.in_use > recycler.peak)
    recycler.peak = recycler.in_use;
  while (recycler.n_kept > 0 &&
         recycler.in_use + recycler.kept_bytes > recycler.peak)
    evicted[n_evicted++] = recycler_remove(0).data;
  pthread_mutex_unlock(&recycler.lock);
  for (i = 0; i < n_evicted; i++)
    free(evicted[i]);
}

/* Gives back b's storage (storage_take's). */
static void storage_give(struct sc_buffer *b)
{
  int kept = 0;

  if (b->capacity >= RECYCLE_MIN) {
    pthread_mutex_lock(&recycler.lock);
    recycler.in_use -= b->touched;
    if (recycler.n_kept < RECYCLE_ENTRIES) { /* the sum is unchanged */
      struct recycled *r = &recycler.kept[recycler.n_kept++];
      r->data = b->data;
      r->capacity = b->capacity;
      r->touched = b->touched;
      recycler.kept_bytes += b->touched;
      kept = 1;
    }
    pthread_mutex_unlock(&recycler.lock);
  }
  if (!kept)
    free(b->data);
}

void sc_storage_trim(void)
{
  void *evicted[RECYCLE_ENTRIES];
  int n, i;

  pthread_mutex_lock(&recycler.lock);
  n = recycler.n_kept;
  for (i = 0; i < n; i++)
    evicted[i] = recycler.kept[i].data;
  recycler.n_kept = 0;
  recycler.kept_bytes = 0;
  pthread_mutex_unlock(&recycler.lock);
  for (i = 0; i < n; i++)
    free(evicted[i]);
}

size_t sc_storage_kept_bytes(void)
{
  size_t n;
  pthread_mutex_lock(&recycler.lock);
  n = recycler.kept_bytes;
  pthread_mutex_unlock(&recycler.lock);
  return n;
}

static size_t round_capacity(size_t size)
{
  /* at least one alignment unit, so that data is never NULL */
  size_t unit = SC_TENSOR_ALIGN;
  if (size == 0)
    return unit;
  return (size + unit - 1) / unit * unit;
}

/* Takes a cached buffer of capacity in [size, 2*size] (smallest first), or
 * allocates a new one, for a first tensor of `first` bytes. Returns NULL
 * when out of memory. */
static struct sc_buffer *buffer_acquire(struct sc_pool *pool, size_t size,
                                        size_t first)
{
  size_t capacity = round_capacity(size);
  struct sc_buffer *b = NULL;

  if (pool) {
    size_t lo = 0, hi, i;
    pthread_mutex_lock(&pool->lock);
    hi = pool->n_free;
    while (lo < hi) { /* first with capacity >= wanted */
      size_t mid = (lo + hi) / 2;
      if (pool->free_list[mid]->capacity < capacity)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < pool->n_free && pool->free_list[lo]->capacity / 2 <= capacity) {
      b = pool->free_list[lo];
      for (i = lo; i + 1 < pool->n_free; i++)
        pool->free_list[i] = pool->free_list[i + 1];
      pool->n_free--;
      pool->free_capacity -= b->capacity;
    }
    if (b) {
      pool->bytes_in_use += b->capacity;
      if (pool->bytes_in_use > pool->peak_bytes)
        pool->peak_bytes = pool->bytes_in_use;
      pool->refs++;
    }
    pthread_mutex_unlock(&pool->lock);
    if (b) {
      b->refs = 1;
      b->pool = pool;
      storage_touch(b, first);
      return b;
    }
  }

  b = malloc(sizeof *b);
  if (!b)
    return NULL;
  b->capacity = capacity;
  b->data = storage_take(b, first);
  if (!b->data) {
    free(b);
    return NULL;
  }
  storage_touch(b, first);
  b->refs = 1;
  b->pool = pool;
  if (pool) {
    pthread_mutex_lock(&pool->lock);
    pool->bytes_in_use += b->capacity;
    if (pool->bytes_in_use > pool->peak_bytes)
      pool->peak_bytes = pool->bytes_in_use;
    pool->refs++;
    pthread_mutex_unlock(&pool->lock);
  }
  return b;
}

static void buffer_unref(struct sc_buffer *b)
{
  struct sc_pool *pool;

  if (!b || __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  pool = b->pool;
  if (pool) {
    int cached = 0;
    pthread_mutex_lock(&pool->lock);
    pool->bytes_in_use -= b->capacity;
    /* keep the storage while the owner lives, up to as many bytes as were
     * ever in use at once: more could never be used together again */
    if (pool->refs > 1 &&
        pool->free_capacity + b->capacity <= pool->peak_bytes) {
      struct sc_buffer **grown =
          realloc(pool->free_list, (pool->n_free + 1) * sizeof *grown);
      if (grown) {
        size_t i = pool->n_free;
        pool->free_list = grown;
        while (i > 0 && pool->free_list[i - 1]->capacity > b->capacity) {
          pool->free_list[i] = pool->free_list[i - 1];
          i--;
        }
        pool->free_list[i] = b;
        pool->n_free++;
        pool->free_capacity += b->capacity;
        cached = 1;
      }
    }
    pthread_mutex_unlock(&pool->lock);
    pool_unref(pool);
    if (cached)
      return;
  }
  storage_give(b);
  free(b);
}

sc_status sc_pool_create(struct sc_pool **out, struct sc_error *err)
{
  struct sc_pool *pool;

  *out = NULL;
  pool = calloc(1, sizeof *pool);
  if (!pool)
    return sc_fail_nomem(err, "buffer pool");
  pthread_mutex_init(&pool->lock, NULL);
  pool->refs = 1;
  *out = pool;
  return SC_OK;
}

void sc_pool_trim(struct sc_pool *pool)
{
  size_t i;
  if (!pool)
    return;
  pthread_mutex_lock(&pool->lock);
  for (i = 0; i < pool->n_free; i++) {
    storage_give(pool->free_list[i]);
    free(pool->free_list[i]);
  }
  pool->n_free = 0;
  pool->free_capacity = 0;
  pthread_mutex_unlock(&pool->lock);
}

static void pool_unref(struct sc_pool *pool)
{
  int last;
  pthread_mutex_lock(&pool->lock);
  last = --pool->refs == 0;
  pthread_mutex_unlock(&pool->lock);
  if (!last)
    return;
  sc_pool_trim(pool);
  free(pool->free_list);
  pthread_mutex_destroy(&pool->lock);
  free(pool);
}

void sc_pool_free(struct sc_pool *pool)
{
  if (!pool)
    return;
  sc_pool_trim(pool);
  pool_unref(pool);
}

size_t sc_pool_bytes_in_use(const struct sc_pool *pool)
{
  return pool ? __atomic_load_n(&pool->bytes_in_use, __ATOMIC_RELAXED) : 0;
}

size_t sc_pool_peak_bytes(const struct sc_pool *pool)
{
  return pool ? __atomic_load_n(&pool->peak_bytes, __ATOMIC_RELAXED) : 0;
}

sc_status sc_tensor_set_shape(struct sc_tensor *t, int rank,
                              const int64_t *dims, struct sc_error *err)
{
  int64_t n;
  sc_status st =
      sc_shape_count(rank, dims, sc_dtype_size(t->dtype), &n, "tensor", err);
  if (st)
    return st;
  t->rank = rank;
  if (rank > 0)
    memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
  t->n_elements = n;
  return SC_OK;
}

size_t sc_tensor_size(const struct sc_tensor *t)
{
  return (size_t)t->n_elements * sc_dtype_size(t->dtype);
}

void sc_tensor_release_data(struct sc_tensor *t)
{
  buffer_unref(t->buffer);
  t->buffer = NULL;
  t->data = NULL;
}

sc_status sc_tensor_alloc(struct sc_tensor *t, struct sc_pool *pool,
                          struct sc_error *err)
{
  struct sc_buffer *b;

  if (sc_dtype_size(t->dtype) == 0)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "dtype %s cannot be stored",
                   sc_dtype_name(t->dtype));
  sc_tensor_release_data(t);
  b = buffer_acquire(pool, sc_tensor_size(t), sc_tensor_size(t));
  if (!b)
    return sc_fail(err, SC_ERR_NOMEM, "out of memory allocating %zu bytes",
                   sc_tensor_size(t));
  t->buffer = b;
  t->data = b->data;
  return SC_OK;
}

static sc_status slot_reserve(struct sc_slot *slot, size_t first,
                              struct sc_error *err);

sc_status sc_tensor_alloc_in_slot(struct sc_tensor *t, struct sc_slot *slot,
                                  struct sc_error *err)
{
  struct sc_buffer *b = slot->buffer;
  sc_status st;

  if (sc_dtype_size(t->dtype) == 0)
    return sc_fail(err, SC_ERR_UNSUPPORTED, "dtype %s cannot be stored",
                   sc_dtype_name(t->dtype));
  sc_tensor_release_data(t);
  if (sc_tensor_size(t) > slot->capacity)
    return sc_fail(err, SC_ERR_INTERNAL,
                   "memory plan: %zu bytes do not fit a %zu-byte slot",
                   sc_tensor_size(t), slot->capacity);
  if (b && __atomic_load_n(&b->refs, __ATOMIC_ACQUIRE) != 1)
    sc_slot_release(slot); /* still held: it lives on with its holders */
  st = slot_reserve(slot, sc_tensor_size(t), err);
  if (st)
    return st;
  b = slot->buffer;
  storage_touch(b, sc_tensor_size(t));
  __atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
  t->buffer = b;
  t->data = b->data;
  return SC_OK;
}

void sc_slot_release(struct sc_slot *slot)
{
  buffer_unref(slot->buffer);
  slot->buffer = NULL;
}

/* The slot's buffer, a new one when it has none, for a first tensor of
 * `first` bytes. */
static sc_status slot_reserve(struct sc_slot *slot, size_t first,
                              struct sc_error *err)
{
  if (slot->buffer)
    return SC_OK;
  slot->buffer = buffer_acquire(NULL, slot->capacity, first);
  if (!slot->buffer)
    return sc_fail(err, SC_ERR_NOMEM, "out of memory allocating %zu bytes",
                   slot->capacity);
  return SC_OK;
}

/* Reserved ahead of a run, a slot's buffer will hold the slot's largest
 * tensor. */
sc_status sc_slot_reserve(struct sc_slot *slot, struct sc_error *err)
{
  return slot_reserve(slot, slot->capacity, err);
}

int sc_slot_idle(const struct sc_slot *slot)
{
  return slot->buffer &&
         __atomic_load_n(&slot->buffer->refs, __ATOMIC_ACQUIRE) == 1;
}

sc_status sc_tensor_create_pooled(struct sc_pool *pool, enum sc_dtype dtype,
                                  int rank, const int64_t *dims,
                                  struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *t;
  sc_status st;

  *out = NULL;
  t = calloc(1, sizeof *t);
  if (!t)
    return sc_fail_nomem(err, "tensor header");
  t->dtype = dtype;
  st = sc_tensor_set_shape(t, rank, dims, err);
  if (!st)
    st = sc_tensor_alloc(t, pool, err);
  if (st) {
    free(t);
    return st;
  }
  *out = t;
  return SC_OK;
}

sc_status sc_tensor_create(enum sc_dtype dtype, int rank, const int64_t *dims,
                           struct sc_tensor **out, struct sc_error *err)
{
  sc_status st = sc_tensor_create_pooled(NULL, dtype, rank, dims, out, err);
  if (!st)
    memset((*out)->data, 0, sc_tensor_size(*out));
  return st;
}

sc_status sc_tensor_wrap(enum sc_dtype dtype, int rank, const int64_t *dims,
                         void *data, struct sc_tensor **out,
                         struct sc_error *err)
{
  struct sc_tensor *t;
  sc_status st;

  *out = NULL;
  t = calloc(1, sizeof *t);
  if (!t)
    return sc_fail_nomem(err, "tensor header");
  t->dtype = dtype;
  st = sc_tensor_set_shape(t, rank, dims, err);
  if (st) {
    free(t);
    return st;
  }
  t->data = data;
  *out = t;
  return SC_OK;
}

sc_status sc_tensor_clone(const struct sc_tensor *src, struct sc_tensor **out,
                          struct sc_error *err)
{
  sc_status st =
      sc_tensor_create_pooled(NULL, src->dtype, src->rank, src->dims, out, err);
  if (st)
    return st;
  if (sc_tensor_size(src) > 0)
    memcpy((*out)->data, src->data, sc_tensor_size(src));
  return SC_OK;
}

sc_status sc_tensor_ref(const struct sc_tensor *src, struct sc_tensor **out,
                        struct sc_error *err)
{
  struct sc_tensor *t;

  *out = NULL;
  if (!src->buffer)
    return sc_tensor_clone(src, out, err);
  t = malloc(sizeof *t);
  if (!t)
    return sc_fail_nomem(err, "tensor header");
  *t = *src;
  __atomic_add_fetch(&src->buffer->refs, 1, __ATOMIC_ACQ_REL);
  *out = t;
  return SC_OK;
}

void sc_tensor_share_data(struct sc_tensor *dst, const struct sc_tensor *src)
{
  __atomic_add_fetch(&src->buffer->refs, 1, __ATOMIC_ACQ_REL);
  buffer_unref(dst->buffer);
  dst->buffer = src->buffer;
  dst->data = src->data;
}

void sc_tensor_free(struct sc_tensor *t)
{
  if (!t)
    return;
  buffer_unref(t->buffer);
  free(t);
}

int sc_tensor_same_shape(const struct sc_tensor *a, const struct sc_tensor *b)
{
  int i;
  if (a->rank != b->rank)
    return 0;
  for (i = 0; i < a->rank; i++)
    if (a->dims[i] != b->dims[i])
      return 0;
  return 1;
}

char *sc_shape_format(int rank, const int64_t *dims, char *buf, size_t size)
{
  size_t used = 0;
  int i;

  if (size == 0)
    return buf;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "[");
  for (i = 0; i < rank && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                             (long long)dims[i]);
  if (used < size)
    snprintf(buf + used, size - used, "]");
  return buf;
}
