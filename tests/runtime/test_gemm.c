/* sc_sgemm (OpenBLAS with our core type) against the reference triple
 * loop, the core-type choice, and thread-count independence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm.h"
#include "runtime/threadpool.h"
#include "tests/support/assertions.h"

static float *random_matrix(int64_t n, unsigned seed)
{
  float *m = malloc((size_t)n * sizeof *m + 1);
  int64_t i;
  assert_non_null(m);
  for (i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    m[i] = (float)((seed >> 8) % 2001) / 1000.0f - 1.0f;
  }
  return m;
}

static void check_case(int ta, int tb, int64_t m, int64_t n, int64_t k,
                       float alpha, float beta)
{
  int64_t lda = ta ? m : k, ldb = tb ? k : n, ldc = n, i;
  float *a = random_matrix(m * k, 1), *b = random_matrix(k * n, 2);
  float *c_fast = random_matrix(m * n, 3), *c_ref = malloc((size_t)(m * n) * 4);
  memcpy(c_ref, c_fast, (size_t)(m * n) * 4);
  sc_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_fast, ldc, NULL);
  sc_sgemm_reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c_ref, ldc);
  for (i = 0; i < m * n; i++) {
    /* float accumulation vs double: error grows like sqrt(k) * eps */
    double tol = 1e-5 * sqrt((double)k + 1) * 4 + 1e-6;
    if (fabs(c_fast[i] - c_ref[i]) > tol * (1 + fabs(c_ref[i])))
      fail_msg("ta=%d tb=%d m=%lld n=%lld k=%lld: element %lld %.9g vs %.9g",
               ta, tb, (long long)m, (long long)n, (long long)k, (long long)i,
               c_fast[i], c_ref[i]);
  }
  free(a);
  free(b);
  free(c_fast);
  free(c_ref);
}

static void test_sgemm_matches_reference(void **state)
{
  static const int64_t sizes[][3] = {{1, 1, 1},    {3, 5, 7},   {17, 33, 65},
                                     {64, 64, 64}, {1, 300, 9}, {130, 1, 257},
                                     {96, 200, 3}};
  size_t s;
  int ta, tb;
  (void)state;
  for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (ta = 0; ta < 2; ta++)
      for (tb = 0; tb < 2; tb++) {
        check_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, 0.0f);
        check_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], 0.5f, 2.0f);
      }
}

static void test_sgemm_zero_k_scales_c(void **state)
{
  float c[4] = {1, 2, 3, 4};
  (void)state;
  sc_sgemm(0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.5f, c, 2, NULL);
  assert_true(c[0] == 0.5f && c[3] == 2.0f);
  sc_sgemm(0, 0, 2, 2, 0, 1.0f, NULL, 1, NULL, 2, 0.0f, c, 2, NULL);
  assert_true(c[0] == 0.0f && c[3] == 0.0f);
}

static void test_openblas_uses_the_cores_we_pick(void **state)
{
  const char *pick = sc_blas_pick_coretype();
  const char *name = sc_blas_name();
  (void)state;
  print_message("BLAS: %s (picked %s)\n", name, pick ? pick : "none");
  /* OpenBLAS is installed by scripts/install-deps.sh: it must be loaded */
  assert_non_null(strstr(name, "OpenBLAS"));
  if (pick && !getenv("STAGECHECK_OPENBLAS_CORETYPE"))
    assert_non_null(strstr(name, pick));
}

static void test_sgemm_same_bits_for_one_and_two_threads(void **state)
{
  int64_t m = 200, n = 3000, k = 150; /* several tiles */
  float *a = random_matrix(m * k, 4), *b = random_matrix(k * n, 5);
  float *c1 = calloc((size_t)(m * n), 4), *c2 = calloc((size_t)(m * n), 4);
  struct sc_threadpool *p1, *p2;
  (void)state;
  sc_threadpool_create(1, &p1, NULL);
  sc_threadpool_create(2, &p2, NULL);
  sc_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n, p1);
  sc_sgemm(0, 0, m, n, k, 1.0f, a, k, b, n, 0.0f, c2, n, p2);
  assert_memory_equal(c1, c2, (size_t)(m * n) * 4);
  sc_threadpool_free(p1);
  sc_threadpool_free(p2);
  free(a);
  free(b);
  free(c1);
  free(c2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sgemm_matches_reference),
      cmocka_unit_test(test_sgemm_zero_k_scales_c),
      cmocka_unit_test(test_openblas_uses_the_cores_we_pick),
      cmocka_unit_test(test_sgemm_same_bits_for_one_and_two_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
