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

struct sc_tensor *sc_test_tensor_f32(int rank, const int64_t *dims,
                                     const float *values)
{
  struct sc_tensor *t = NULL;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, rank, dims, &t, NULL),
                   SC_OK);
  if (t->n_elements)
    memcpy(t->data, values, sc_tensor_size(t));
  return t;
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
