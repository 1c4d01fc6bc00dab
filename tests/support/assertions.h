/* Shared helpers for the cmocka tests. */
#ifndef SC_TESTS_SUPPORT_ASSERTIONS_H
#define SC_TESTS_SUPPORT_ASSERTIONS_H

/* cmocka needs these before its header */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/tensor.h"

/* xorshift64: advances *state (never 0) and returns a double in [0, 1)
 * from its top 53 bits; the same sequence on every run. */
double sc_test_uniform(uint64_t *state);

/* Fails the test unless actual and expected have the same dtype and shape
 * and every element satisfies |a - e| <= atol + rtol * |e| (NaN matches
 * NaN). Prints the first bad index, both values and the tolerance. */
#define assert_tensor_close(actual, expected, atol, rtol)                      \
  sc_test_tensor_close((actual), (expected), (atol), (rtol), __FILE__, __LINE__)
void sc_test_tensor_close(const struct sc_tensor *actual,
                          const struct sc_tensor *expected, double atol,
                          double rtol, const char *file, int line);

/* Checks a result the test hands over, then frees it: fails the test
 * unless actual is a float tensor of the given dims whose elements are
 * close to values (assert_tensor_close with atol = rtol = tolerance). */
#define assert_result_f32(actual, rank, dims, values, tolerance)               \
  sc_test_result_f32((actual), (rank), (dims), (values), (tolerance),          \
                     __FILE__, __LINE__)
void sc_test_result_f32(struct sc_tensor *actual, int rank, const int64_t *dims,
                        const float *values, double tolerance, const char *file,
                        int line);
/* The same for an int64 result, compared exactly (as int64, not through
 * double). */
#define assert_result_i64(actual, rank, dims, values)                          \
  sc_test_result_i64((actual), (rank), (dims), (values), __FILE__, __LINE__)
void sc_test_result_i64(struct sc_tensor *actual, int rank, const int64_t *dims,
                        const int64_t *values, const char *file, int line);

/* A float tensor from a literal array (test-owned, free with
 * sc_tensor_free). */
struct sc_tensor *sc_test_tensor_f32(int rank, const int64_t *dims,
                                     const float *values);
/* An int64 tensor from a literal array (test-owned). */
struct sc_tensor *sc_test_tensor_i64(int rank, const int64_t *dims,
                                     const int64_t *values);
/* Any dtype, values given as doubles (converted with sc_dtype_store). */
struct sc_tensor *sc_test_tensor(enum sc_dtype dtype, int rank,
                                 const int64_t *dims, const double *values);

/* Directory of committed test fixtures (the repository's fixtures/). */
const char *sc_test_fixtures_dir(void);

/* A fresh temporary directory (removed by sc_test_rmtree). */
char *sc_test_tmpdir(void);
void sc_test_rmtree(const char *path);

#endif
