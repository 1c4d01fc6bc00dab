/* Tensors: checked shapes, ownership through references, and the pool. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/tensor.h"
#include "tests/support/assertions.h"

static void test_shape_count_rejects_hostile_shapes(void **state)
{
  int64_t n;
  struct sc_error err;
  int64_t neg[2] = {3, -1};
  int64_t huge[3] = {INT64_C(1) << 30, INT64_C(1) << 30, 16};
  int64_t ok[3] = {2, 0, 5};
  (void)state;
  assert_int_equal(sc_shape_count(2, neg, 4, &n, "w", &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, "w: negative"));
  assert_int_equal(sc_shape_count(3, huge, 4, &n, "big", &err), SC_ERR_FORMAT);
  assert_non_null(strstr(err.message, "big"));
  assert_int_equal(sc_shape_count(9, ok, 4, &n, "r", &err), SC_ERR_UNSUPPORTED);
  assert_int_equal(sc_shape_count(3, ok, 4, &n, "z", &err), SC_OK);
  assert_int_equal(n, 0);
  assert_int_equal(sc_shape_count(0, ok, 4, &n, "scalar", &err), SC_OK);
  assert_int_equal(n, 1);
}

static void test_create_zeroes_and_empty_tensors_have_storage(void **state)
{
  int64_t dims[2] = {3, 0};
  struct sc_tensor *t;
  (void)state;
  assert_int_equal(sc_tensor_create(SC_DTYPE_FLOAT, 2, dims, &t, NULL), SC_OK);
  assert_int_equal(t->n_elements, 0);
  assert_non_null(t->data);
  sc_tensor_free(t);
  dims[1] = 2;
  assert_int_equal(sc_tensor_create(SC_DTYPE_INT64, 2, dims, &t, NULL), SC_OK);
  assert_int_equal(((int64_t *)t->data)[5], 0);
  assert_int_equal((uintptr_t)t->data % SC_TENSOR_ALIGN, 0);
  sc_tensor_free(t);
  sc_tensor_free(NULL);
}

static void test_ref_shares_storage_and_outlives_original(void **state)
{
  int64_t dims[1] = {4};
  float v[4] = {1, 2, 3, 4};
  struct sc_tensor *t = sc_test_tensor_f32(1, dims, v), *r = NULL, *c = NULL;
  (void)state;
  assert_int_equal(sc_tensor_ref(t, &r, NULL), SC_OK);
  assert_ptr_equal(r->data, t->data);
  assert_int_equal(sc_tensor_clone(t, &c, NULL), SC_OK);
  assert_ptr_not_equal(c->data, t->data);
  sc_tensor_free(t);
  assert_true(((float *)r->data)[3] == 4.0f); /* still alive */
  sc_tensor_free(r);
  sc_tensor_free(c);
}

static void test_ref_of_borrowed_tensor_copies(void **state)
{
  int64_t dims[1] = {2};
  float v[2] = {5, 6};
  struct sc_tensor *w = NULL, *r = NULL;
  (void)state;
  assert_int_equal(sc_tensor_wrap(SC_DTYPE_FLOAT, 1, dims, v, &w, NULL), SC_OK);
  assert_int_equal(sc_tensor_ref(w, &r, NULL), SC_OK);
  assert_ptr_not_equal(r->data, v);
  v[0] = 99;
  assert_true(((float *)r->data)[0] == 5.0f);
  sc_tensor_free(w);
  sc_tensor_free(r);
}

static void test_pool_reuses_released_storage(void **state)
{
  struct sc_pool *pool;
  int64_t dims[1] = {1000};
  struct sc_tensor *a, *b;
  void *first;
  (void)state;
  assert_int_equal(sc_pool_create(&pool, NULL), SC_OK);
  assert_int_equal(
      sc_tensor_create_pooled(pool, SC_DTYPE_FLOAT, 1, dims, &a, NULL), SC_OK);
  first = a->data;
  assert_true(sc_pool_bytes_in_use(pool) >= 4000);
  sc_tensor_free(a);
  assert_int_equal(sc_pool_bytes_in_use(pool), 0);
  dims[0] = 900; /* fits in the cached block */
  assert_int_equal(
      sc_tensor_create_pooled(pool, SC_DTYPE_FLOAT, 1, dims, &b, NULL), SC_OK);
  assert_ptr_equal(b->data, first);
  /* the pool may be freed while a tensor still lives */
  sc_pool_free(pool);
  ((float *)b->data)[899] = 1.0f;
  sc_tensor_free(b);
}

/* MiB-sized float tensors for the recycler cases */
static struct sc_tensor *mib_tensor(int64_t mib)
{
  int64_t dims[1] = {mib << 18};
  struct sc_tensor *t = NULL;
  assert_int_equal(
      sc_tensor_create_pooled(NULL, SC_DTYPE_FLOAT, 1, dims, &t, NULL), SC_OK);
  memset(t->data, 1, sc_tensor_size(t)); /* touch every page */
  return t;
}

#define MIB ((size_t)1 << 20)

/* Whether the pages of [from, to) bytes of buffer p are all resident
 * (want 1) or all not (want 0), as the system's mincore() sees them. */
static int pages_resident(const void *p, size_t from, size_t to, int want)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (to - from) / page, i;
  unsigned char *vec = malloc(n + 1);
  int ok = 1;
  assert_non_null(vec);
  assert_int_equal(mincore((char *)p + from, to - from, vec), 0);
  for (i = 0; i < n; i++)
    ok &= (vec[i] & 1) == want;
  free(vec);
  return ok;
}

/* The only case of this program that allocates 1 MiB or more: the
 * recycler's peak (process-wide) starts from nothing here. */
static void test_large_storage_is_recycled_within_the_peak(void **state)
{
  struct sc_tensor *a, *b, *c, *d, *e, *t;
  struct sc_slot slot = {NULL, 16 * MIB};
  int64_t dims[1] = {2 << 20}; /* 8 MiB of floats */
  void *p, *q[3];
  (void)state;
  sc_storage_trim();
  assert_int_equal(sc_storage_kept_bytes(), 0);

  /* from 1 MiB on, a freed buffer is kept, and serves the next tensor of
   * its size */
  a = mib_tensor(2);
  p = a->data;
  sc_tensor_free(a);
  assert_int_equal(sc_storage_kept_bytes(), 2 * MIB);
  a = mib_tensor(2);
  assert_ptr_equal(a->data, p);
  sc_tensor_free(a);
  sc_storage_trim();
  a = mib_tensor(8);
  p = a->data;
  sc_tensor_free(a);
  assert_int_equal(sc_storage_kept_bytes(), 8 * MIB);
  b = mib_tensor(8);
  assert_ptr_equal(b->data, p);
  assert_int_equal(sc_storage_kept_bytes(), 0);

  /* peak 8 MiB: a 16 MiB tensor, which no kept buffer fits, makes the
   * kept 8 MiB go, or in use + kept (24) would pass the new peak (16) */
  sc_tensor_free(b);
  assert_int_equal(sc_storage_kept_bytes(), 8 * MIB);
  c = mib_tensor(16);
  assert_int_equal(sc_storage_kept_bytes(), 0);
  sc_tensor_free(c);

  /* peak 48 MiB, three 16 MiB buffers kept */
  c = mib_tensor(16);
  d = mib_tensor(16);
  e = mib_tensor(16);
  q[0] = c->data;
  q[1] = d->data;
  q[2] = e->data;
  sc_tensor_free(c);
  sc_tensor_free(d);
  sc_tensor_free(e);
  assert_int_equal(sc_storage_kept_bytes(), 48 * MIB);

  /* a 16 MiB slot whose first tensor is 8 MiB takes a kept buffer (the
   * oldest of the smallest that fit) with 16 MiB written, and gives the
   * system back its pages past the tensor's 8 MiB: its memory counts the
   * tensor's once */
  assert_true(pages_resident(q[0], 0, 16 * MIB, 1));
  t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->dtype = SC_DTYPE_FLOAT;
  assert_int_equal(sc_tensor_set_shape(t, 1, dims, NULL), SC_OK);
  assert_int_equal(sc_tensor_alloc_in_slot(t, &slot, NULL), SC_OK);
  assert_ptr_equal(t->data, q[0]);
  assert_true(pages_resident(q[0], 0, 8 * MIB, 1));
  assert_true(pages_resident(q[0], 8 * MIB, 16 * MIB, 0));
  assert_int_equal(sc_storage_kept_bytes(), 32 * MIB);
  sc_tensor_release_data(t);
  sc_slot_release(&slot);
  free(t);
  assert_int_equal(sc_storage_kept_bytes(), 40 * MIB);

  /* a 16 MiB tensor takes the oldest of the two untouched ones */
  c = mib_tensor(16);
  assert_ptr_equal(c->data, q[1]);
  sc_tensor_free(c);
  sc_storage_trim();
  assert_int_equal(sc_storage_kept_bytes(), 0);
}

static void test_shape_format(void **state)
{
  int64_t dims[3] = {1, 3, 224};
  char buf[64];
  (void)state;
  assert_string_equal(sc_shape_format(3, dims, buf, sizeof buf), "[1,3,224]");
  assert_string_equal(sc_shape_format(0, dims, buf, sizeof buf), "[]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shape_count_rejects_hostile_shapes),
      cmocka_unit_test(test_create_zeroes_and_empty_tensors_have_storage),
      cmocka_unit_test(test_ref_shares_storage_and_outlives_original),
      cmocka_unit_test(test_ref_of_borrowed_tensor_copies),
      cmocka_unit_test(test_pool_reuses_released_storage),
      cmocka_unit_test(test_large_storage_is_recycled_within_the_peak),
      cmocka_unit_test(test_shape_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
