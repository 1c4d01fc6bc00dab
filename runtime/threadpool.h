/* A fixed pool of worker threads running parallel-for loops.
 *
 * Work is partitioned, never reduced across threads: a kernel computes each
 * output element the same way whatever the thread count, so results are
 * bit-identical for 1 or N threads. */
#ifndef SC_RUNTIME_THREADPOOL_H
#define SC_RUNTIME_THREADPOOL_H

#include <stdint.h>

#include "runtime/error.h"

struct sc_threadpool;

/* Processes items [begin, end) of a parallel loop. */
typedef void (*sc_range_fn)(void *ctx, int64_t begin, int64_t end);

/* n_threads counts the calling thread: 1 creates no worker. */
sc_status sc_threadpool_create(int n_threads, struct sc_threadpool **out,
                               struct sc_error *err);
void sc_threadpool_free(struct sc_threadpool *pool);
int sc_threadpool_size(const struct sc_threadpool *pool); /* 1 for NULL */

/* Runs fn over [0, n) split into contiguous ranges of at least `grain`
 * items, on the pool's threads and the caller's. Returns when all ranges
 * are done. pool may be NULL (serial). Not re-entrant: a range function
 * must not call sc_parallel_for on the same pool (it runs serially then). */
void sc_parallel_for(struct sc_threadpool *pool, int64_t n, int64_t grain,
                     sc_range_fn fn, void *ctx);

/* Scratch memory for a range function: size bytes on a 64-byte boundary,
 * NULL when out of memory; give it back with sc_scratch_give. Each thread
 * keeps the block it gave back last (up to SC_SCRATCH_KEPT bytes) for its
 * next take, freed when the thread ends: kernels that take scratch per
 * range would otherwise get freshly mapped pages, which the system clears,
 * every time. A take while the thread's block is out gets a block of its
 * own. */
#define SC_SCRATCH_KEPT ((size_t)16 << 20)
void *sc_scratch_take(size_t size);
void sc_scratch_give(void *block);

/* Number of online CPUs (at least 1). */
int sc_cpu_count(void);

#endif
