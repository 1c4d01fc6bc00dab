#include "runtime/threadpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* One job at a time: the caller publishes (fn, ctx, n, chunk), bumps the
 * generation, and every thread (workers and caller) claims chunks from an
 * atomic counter until none is left. */
struct sc_threadpool {
  int n_threads;
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  uint64_t generation;
  int stopping;
  int busy;            /* a parallel_for is in progress */
  uint64_t n_finished; /* workers finished with the current generation */

  sc_range_fn fn;
  void *ctx;
  int64_t n;
  int64_t chunk;
  int64_t next; /* atomic: next unclaimed item */
};

static void run_chunks(struct sc_threadpool *p)
{
  for (;;) {
    int64_t begin = __atomic_fetch_add(&p->next, p->chunk, __ATOMIC_RELAXED);
    int64_t end;
    if (begin >= p->n)
      return;
    end = begin + p->chunk < p->n ? begin + p->chunk : p->n;
    p->fn(p->ctx, begin, end);
  }
}

/* A thread about to sleep on a condition variable first polls for up to
 * SPIN_ROUNDS pause instructions (some tens of microseconds): a model's
 * parallel loops follow each other closely, and a thread woken from its
 * sleep takes about as long to start. */
#define SPIN_ROUNDS 2000

static void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static void *worker_main(void *arg)
{
  struct sc_threadpool *p = arg;
  uint64_t seen = 0;

  for (;;) {
    int i;
    for (i = 0; i < SPIN_ROUNDS &&
                __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE) == seen;
         i++)
      spin_pause();
    pthread_mutex_lock(&p->lock);
    while (!p->stopping && p->generation == seen)
      pthread_cond_wait(&p->wake, &p->lock);
    if (p->stopping)
      break;
    seen = p->generation;
    pthread_mutex_unlock(&p->lock);
    run_chunks(p);
    pthread_mutex_lock(&p->lock);
    if (__atomic_add_fetch(&p->n_finished, 1, __ATOMIC_RELEASE) ==
        (uint64_t)p->n_threads - 1)
      pthread_cond_signal(&p->done);
    pthread_mutex_unlock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

sc_status sc_threadpool_create(int n_threads, struct sc_threadpool **out,
                               struct sc_error *err)
{
  struct sc_threadpool *p;
  int i;

  *out = NULL;
  if (n_threads < 1)
    n_threads = 1;
  p = calloc(1, sizeof *p);
  if (!p)
    return sc_fail_nomem(err, "thread pool");
  p->n_threads = n_threads;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  if (n_threads > 1) {
    p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
    if (!p->workers) {
      sc_threadpool_free(p);
      return sc_fail_nomem(err, "thread pool");
    }
    for (i = 0; i < n_threads - 1; i++) {
      if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
        p->n_threads = i + 1; /* only i workers exist */
        sc_threadpool_free(p);
        return sc_fail(err, SC_ERR_INTERNAL, "cannot start worker thread %d",
                       i + 1);
      }
    }
  }
  *out = p;
  return SC_OK;
}

void sc_threadpool_free(struct sc_threadpool *p)
{
  int i;
  if (!p)
    return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  if (p->workers)
    for (i = 0; i < p->n_threads - 1; i++)
      pthread_join(p->workers[i], NULL);
  free(p->workers);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  pthread_mutex_destroy(&p->lock);
  free(p);
}

int sc_threadpool_size(const struct sc_threadpool *p)
{
  return p ? p->n_threads : 1;
}

void sc_parallel_for(struct sc_threadpool *p, int64_t n, int64_t grain,
                     sc_range_fn fn, void *ctx)
{
  int64_t chunk, n_chunks;
  int nested, i;

  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  if (!p || p->n_threads == 1 || n <= grain) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&p->lock);
  nested = p->busy;
  if (!nested)
    p->busy = 1;
  pthread_mutex_unlock(&p->lock);
  if (nested) {
    fn(ctx, 0, n);
    return;
  }

  /* about 4 chunks per thread for balance, never below grain */
  n_chunks = (int64_t)p->n_threads * 4;
  chunk = (n + n_chunks - 1) / n_chunks;
  if (chunk < grain)
    chunk = grain;

  pthread_mutex_lock(&p->lock);
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->chunk = chunk;
  p->next = 0;
  p->n_finished = 0;
  __atomic_add_fetch(&p->generation, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);

  run_chunks(p);

  for (i = 0;
       i < SPIN_ROUNDS && __atomic_load_n(&p->n_finished, __ATOMIC_ACQUIRE) <
                              (uint64_t)p->n_threads - 1;
       i++)
    spin_pause();
  pthread_mutex_lock(&p->lock);
  while (p->n_finished < (uint64_t)p->n_threads - 1)
    pthread_cond_wait(&p->done, &p->lock);
  p->busy = 0;
  pthread_mutex_unlock(&p->lock);
}

/* The calling thread's kept scratch block, and whether it is taken. */
static __thread struct {
  void *data;
  size_t size;
  int taken;
} scratch;
static pthread_key_t scratch_key; /* its value: the block, freed at exit */
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_key_create(void)
{
  (void)pthread_key_create(&scratch_key, free);
}

void *sc_scratch_take(size_t size)
{
  size = (size + 63) / 64 * 64;
  if (size == 0)
    size = 64;
  if (scratch.taken || size > SC_SCRATCH_KEPT)
    return aligned_alloc(64, size);
  if (size > scratch.size) {
    void *data = aligned_alloc(64, size);
    if (!data)
      return NULL;
    pthread_once(&scratch_once, scratch_key_create);
    free(scratch.data);
    scratch.data = data;
    scratch.size = size;
    (void)pthread_setspecific(scratch_key, data); /* else kept till exit */
  }
  scratch.taken = 1;
  return scratch.data;
}

void sc_scratch_give(void *block)
{
  if (block && block == scratch.data)
    scratch.taken = 0;
  else
    free(block);
}

int sc_cpu_count(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (int)n;
}
