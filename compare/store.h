/* The reference tensor store: holds the reference stage's matched tensors
 * only while a comparison still needs them, within a memory budget.
 *
 * Each entry is put with the number of times it will be used; every
 * sc_store_release() counts one use down and the entry is dropped after its
 * last use. When keeping an entry in memory would exceed the budget, its
 * data is written to a temporary spill file (created with mkstemp in the
 * spill directory and unlinked at once, so nothing is left behind even
 * after a crash) and read back on demand. Entries are produced in
 * topological order and consumed in about the same order, so the newest
 * entry is the one needed last: it is the one spilled.
 *
 * Not thread-safe: one stage runs at a time. */
#ifndef SC_COMPARE_STORE_H
#define SC_COMPARE_STORE_H

#include <stddef.h>

#include "runtime/tensor.h"

struct sc_store;

/* spill_dir NULL: $TMPDIR or /tmp. */
sc_status sc_store_create(size_t budget_bytes, const char *spill_dir,
                          struct sc_store **out, struct sc_error *err);
void sc_store_free(struct sc_store *s);

/* Keeps t (by reference, or spilled) under `key` for n_uses uses. key is
 * any non-negative integer chosen by the caller; a key may be put once. */
sc_status sc_store_put(struct sc_store *s, int key, const struct sc_tensor *t,
                       int n_uses, struct sc_error *err);

/* 1 if the key holds a tensor. */
int sc_store_has(const struct sc_store *s, int key);

/* A tensor for key (a new reference or a copy read back from the spill
 * file) that the caller frees. SC_ERR_INTERNAL for an unknown key,
 * SC_ERR_IO when the spill file cannot be read. */
sc_status sc_store_get(struct sc_store *s, int key, struct sc_tensor **out,
                       struct sc_error *err);

/* Counts one use of key down; drops the entry after the last one. */
void sc_store_release(struct sc_store *s, int key);

size_t sc_store_bytes_in_memory(const struct sc_store *s);
size_t sc_store_peak_bytes(const struct sc_store *s);
size_t sc_store_bytes_spilled(const struct sc_store *s);

/* Default budget: a quarter of physical memory. */
size_t sc_store_default_budget(void);

/* Parses "512M", "2G", "1.5G", "100000" (bytes) into a size. -1 if bad. */
int sc_parse_size(const char *text, size_t *out);

#endif
