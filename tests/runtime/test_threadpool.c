/* The thread pool covers every index exactly once, for any size and grain,
 * serially, in parallel and when nested; scratch blocks are kept per
 * thread. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

struct coverage {
  int *hits;
  struct sc_threadpool *pool;
};

static void mark(void *ctx, int64_t begin, int64_t end)
{
  struct coverage *c = ctx;
  int64_t i;
  for (i = begin; i < end; i++)
    __atomic_add_fetch(&c->hits[i], 1, __ATOMIC_RELAXED);
}

static void nested(void *ctx, int64_t begin, int64_t end)
{
  struct coverage *c = ctx;
  /* a nested loop on the same pool runs serially instead of deadlocking */
  sc_parallel_for(c->pool, end - begin, 1, mark, ctx);
}

static void check_all_once(int *hits, int64_t n)
{
  int64_t i;
  for (i = 0; i < n; i++)
    if (hits[i] != 1)
      fail_msg("index %lld visited %d times", (long long)i, hits[i]);
}

static void test_parallel_for_covers_each_index_once(void **state)
{
  static const int64_t sizes[] = {0, 1, 2, 7, 64, 1000, 100003};
  static const int64_t grains[] = {1, 3, 1000};
  int threads;
  size_t s, gi;
  (void)state;
  for (threads = 1; threads <= 3; threads++) {
    struct sc_threadpool *pool;
    assert_int_equal(sc_threadpool_create(threads, &pool, NULL), SC_OK);
    assert_int_equal(sc_threadpool_size(pool), threads);
    for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      for (gi = 0; gi < 3; gi++) {
        struct coverage c;
        c.hits = calloc((size_t)sizes[s] + 1, sizeof *c.hits);
        c.pool = pool;
        sc_parallel_for(pool, sizes[s], grains[gi], mark, &c);
        check_all_once(c.hits, sizes[s]);
        free(c.hits);
      }
    sc_threadpool_free(pool);
  }
}

static void test_parallel_for_null_pool_runs_serially(void **state)
{
  struct coverage c;
  (void)state;
  c.hits = calloc(50, sizeof *c.hits);
  c.pool = NULL;
  sc_parallel_for(NULL, 50, 1, mark, &c);
  check_all_once(c.hits, 50);
  free(c.hits);
}

static void test_nested_parallel_for_does_not_deadlock(void **state)
{
  struct sc_threadpool *pool;
  struct coverage c;
  (void)state;
  sc_threadpool_create(2, &pool, NULL);
  c.hits = calloc(1, sizeof *c.hits);
  c.pool = pool;
  /* the inner loops mark [0, end-begin): index 0 once per chunk; just
   * check it terminates and marks something */
  sc_parallel_for(pool, 8, 1, nested, &c);
  assert_true(c.hits[0] >= 1);
  free(c.hits);
  sc_threadpool_free(pool);
}

/* A thread's scratch block: 64-byte aligned, writable over its size,
 * kept for the thread's next take when given back, not while it is out,
 * and not beyond SC_SCRATCH_KEPT. */
static void test_scratch_is_kept_per_thread(void **state)
{
  unsigned char *a, *b, *c, *big, *bigger;
  (void)state;
  a = sc_scratch_take(1000);
  assert_non_null(a);
  assert_int_equal((uintptr_t)a % 64, 0);
  memset(a, 1, 1000);
  b = sc_scratch_take(1000); /* a is out: a block of its own */
  assert_non_null(b);
  assert_true(b != a);
  assert_int_equal((uintptr_t)b % 64, 0);
  memset(b, 2, 1000);
  sc_scratch_give(b);
  sc_scratch_give(a);
  c = sc_scratch_take(600); /* a again, smaller fits */
  assert_ptr_equal(c, a);
  sc_scratch_give(c);
  big = sc_scratch_take(3 << 20); /* grows: a new block, written whole */
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 64, 0);
  memset(big, 3, 3 << 20);
  sc_scratch_give(big);
  assert_ptr_equal(sc_scratch_take(100), big);
  sc_scratch_give(big);
  bigger = sc_scratch_take(SC_SCRATCH_KEPT + 64); /* never kept */
  assert_non_null(bigger);
  assert_true(bigger != big);
  sc_scratch_give(bigger);
  assert_ptr_equal(sc_scratch_take(100), big);
  sc_scratch_give(big);
  sc_scratch_give(NULL);
}

/* Worker threads take scratch and end with the pool: their kept blocks
 * go with them (LeakSanitizer checks it in the sanitizer build). */
static void take_scratch(void *ctx, int64_t begin, int64_t end)
{
  int64_t i;
  (void)ctx;
  for (i = begin; i < end; i++) {
    unsigned char *p = sc_scratch_take((size_t)(i + 1) * 4096);
    assert_non_null(p);
    memset(p, (int)i, (size_t)(i + 1) * 4096);
    sc_scratch_give(p);
  }
}

static void test_workers_scratch_ends_with_them(void **state)
{
  struct sc_threadpool *pool;
  (void)state;
  assert_int_equal(sc_threadpool_create(3, &pool, NULL), SC_OK);
  sc_parallel_for(pool, 64, 1, take_scratch, NULL);
  sc_threadpool_free(pool);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parallel_for_covers_each_index_once),
      cmocka_unit_test(test_parallel_for_null_pool_runs_serially),
      cmocka_unit_test(test_nested_parallel_for_does_not_deadlock),
      cmocka_unit_test(test_scratch_is_kept_per_thread),
      cmocka_unit_test(test_workers_scratch_ends_with_them),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
