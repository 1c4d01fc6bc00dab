/* The reference tensor store: uses counted down, the budget respected,
 * the spill path taken beyond it and read back intact. */
#include <string.h>

#include "compare/store.h"
#include "tests/support/assertions.h"

static struct sc_tensor *filled(int64_t n, float base)
{
  int64_t dims[1] = {n}, i;
  struct sc_tensor *t;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 1, dims, &t, NULL), SC_OK);
  for (i = 0; i < n; i++)
    ((float *)t->data)[i] = base + (float)i;
  return t;
}

static void test_store_keeps_until_last_use(void **state)
{
  struct sc_store *s;
  struct sc_tensor *t = filled(10, 1), *got;
  (void)state;
  assert_int_equal(sc_store_create(1 << 20, NULL, &s, NULL), SC_OK);
  assert_int_equal(sc_store_put(s, 3, t, 2, NULL), SC_OK);
  sc_tensor_free(t); /* the store holds its own reference */
  assert_true(sc_store_has(s, 3));
  assert_int_equal(sc_store_get(s, 3, &got, NULL), SC_OK);
  assert_true(((float *)got->data)[9] == 10.0f);
  sc_tensor_free(got);
  sc_store_release(s, 3);
  assert_true(sc_store_has(s, 3));
  sc_store_release(s, 3);
  assert_false(sc_store_has(s, 3));
  assert_int_equal(sc_store_bytes_in_memory(s), 0);
  sc_store_free(s);
}

static void test_store_spills_beyond_budget(void **state)
{
  struct sc_store *s;
  struct sc_error err;
  int k;
  (void)state;
  /* budget for two 4 KiB tensors; put eight */
  assert_int_equal(sc_store_create(8192, NULL, &s, &err), SC_OK);
  for (k = 0; k < 8; k++) {
    struct sc_tensor *t = filled(1024, (float)(k * 10000));
    assert_int_equal(sc_store_put(s, k, t, 1, &err), SC_OK);
    sc_tensor_free(t);
    assert_true(sc_store_bytes_in_memory(s) <= 8192);
  }
  assert_int_equal(sc_store_bytes_spilled(s), 6 * 4096);
  assert_true(sc_store_peak_bytes(s) <= 8192);
  for (k = 0; k < 8; k++) {
    struct sc_tensor *got = NULL;
    struct sc_tensor *want = filled(1024, (float)(k * 10000));
    assert_int_equal(sc_store_get(s, k, &got, &err), SC_OK);
    assert_tensor_close(got, want, 0, 0);
    sc_tensor_free(got);
    sc_tensor_free(want);
    sc_store_release(s, k);
    assert_false(sc_store_has(s, k));
  }
  sc_store_free(s);
}

static void test_store_spill_dir_unwritable_is_io_error(void **state)
{
  struct sc_store *s;
  struct sc_error err;
  struct sc_tensor *t = filled(100, 0);
  (void)state;
  assert_int_equal(sc_store_create(0, "/nonexistent-dir", &s, &err), SC_OK);
  assert_int_equal(sc_store_put(s, 0, t, 1, &err), SC_ERR_IO);
  assert_non_null(strstr(err.message, "/nonexistent-dir"));
  sc_tensor_free(t);
  sc_store_free(s);
}

static void test_parse_size(void **state)
{
  size_t v;
  (void)state;
  assert_int_equal(sc_parse_size("512M", &v), 0);
  assert_true(v == (size_t)512 << 20);
  assert_int_equal(sc_parse_size("1.5G", &v), 0);
  assert_true(v == (size_t)3 << 29);
  assert_int_equal(sc_parse_size("2GiB", &v), 0);
  assert_true(v == (size_t)2 << 30);
  assert_int_equal(sc_parse_size("100000", &v), 0);
  assert_true(v == 100000);
  assert_int_equal(sc_parse_size("lots", &v), -1);
  assert_int_equal(sc_parse_size("-1G", &v), -1);
  assert_int_equal(sc_parse_size("5X", &v), -1);
  assert_true(sc_store_default_budget() > 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_keeps_until_last_use),
      cmocka_unit_test(test_store_spills_beyond_budget),
      cmocka_unit_test(test_store_spill_dir_unwritable_is_io_error),
      cmocka_unit_test(test_parse_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
