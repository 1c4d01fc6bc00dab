#include "tests/support/assertions.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_test_tensor_close(const struct sc_tensor *actual,
                          const struct sc_tensor *expected, double atol,
                          double rtol, const char *file, int line)
{
  char sa[160], se[160];
  int64_t i;

  if (!actual || !expected) {
    fail_msg("%s:%d: tensor is NULL", file, line);
    return;
  }
  if (actual->dtype != expected->dtype)
    fail_msg("%s:%d: dtype %s, expected %s", file, line,
             sc_dtype_name(actual->dtype), sc_dtype_name(expected->dtype));
  if (!sc_tensor_same_shape(actual, expected))
    fail_msg("%s:%d: shape %s, expected %s", file, line,
             sc_shape_format(actual->rank, actual->dims, sa, sizeof sa),
             sc_shape_format(expected->rank, expected->dims, se, sizeof se));
  for (i = 0; i < actual->n_elements; i++) {
    double a = sc_dtype_load(actual->dtype, actual->data, i);
    double e = sc_dtype_load(expected->dtype, expected->data, i);
    int ok;
    if (isnan(e))
      ok = isnan(a);
    else if (isinf(e))
      ok = a == e;
    else
      ok = fabs(a - e) <= atol + rtol * fabs(e);
    if (!ok)
      fail_msg("%s:%d: element %lld is %.9g, expected %.9g (atol %g, rtol "
               "%g)",
               file, line, (long long)i, a, e, atol, rtol);
  }
}

void sc_test_result_f32(struct sc_tensor *actual, int rank, const int64_t *dims,
                        const float *values, double tolerance, const char *file,
                        int line)
{
  struct sc_tensor *want = sc_test_tensor_f32(rank, dims, values);
  sc_test_tensor_close(actual, want, tolerance, tolerance, file, line);
  sc_tensor_free(want);
  sc_tensor_free(actual);
}

void sc_test_result_i64(struct sc_tensor *actual, int rank, const int64_t *dims,
                        const int64_t *values, const char *file, int line)
{
  char sa[160], se[160];
  int same_shape, d;
  int64_t i;

  if (!actual) {
    fail_msg("%s:%d: tensor is NULL", file, line);
    return;
  }
  if (actual->dtype != SC_DTYPE_INT64)
    fail_msg("%s:%d: dtype %s, expected %s", file, line,
             sc_dtype_name(actual->dtype), sc_dtype_name(SC_DTYPE_INT64));
  same_shape = actual->rank == rank;
  for (d = 0; same_shape && d < rank; d++)
    same_shape = actual->dims[d] == dims[d];
  if (!same_shape)
    fail_msg("%s:%d: shape %s, expected %s", file, line,
             sc_shape_format(actual->rank, actual->dims, sa, sizeof sa),
             sc_shape_format(rank, dims, se, sizeof se));
  for (i = 0; i < actual->n_elements; i++) {
    int64_t a = ((const int64_t *)actual->data)[i];
    if (a != values[i])
      fail_msg("%s:%d: element %lld is %lld, expected %lld", file, line,
               (long long)i, (long long)a, (long long)values[i]);
  }
  sc_tensor_free(actual);
}

/* A tensor of `dtype` holding a copy of the elements at `values`. */
static struct sc_tensor *tensor_of(enum sc_dtype dtype, int rank,
                                   const int64_t *dims, const void *values)
{
  struct sc_tensor *t = NULL;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &t, NULL), SC_OK);
  if (t->n_elements)
    memcpy(t->data, values, sc_tensor_size(t));
  return t;
}

struct sc_tensor *sc_test_tensor_f32(int rank, const int64_t *dims,
                                     const float *values)
{
  return tensor_of(SC_DTYPE_FLOAT, rank, dims, values);
}

struct sc_tensor *sc_test_tensor_i64(int rank, const int64_t *dims,
                                     const int64_t *values)
{
  return tensor_of(SC_DTYPE_INT64, rank, dims, values);
}

struct sc_tensor *sc_test_tensor(enum sc_dtype dtype, int rank,
                                 const int64_t *dims, const double *values)
{
  struct sc_tensor *t = NULL;
  int64_t i;
  assert_int_equal(sc_tensor_create(dtype, rank, dims, &t, NULL), SC_OK);
  for (i = 0; i < t->n_elements; i++)
    sc_dtype_store(dtype, t->data, i, values[i]);
  return t;
}

const char *sc_test_fixtures_dir(void)
{
  const char *env = getenv("SC_FIXTURES_DIR");
  return env ? env : SC_SOURCE_DIR "/fixtures";
}

char *sc_test_tmpdir(void)
{
  char *path = strdup("/tmp/stagecheck-test-XXXXXX");
  assert_non_null(path);
  assert_non_null(mkdtemp(path));
  return path;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

void sc_test_rmtree(const char *path)
{
  if (path)
    nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

double sc_test_uniform(uint64_t *state)
{
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}
