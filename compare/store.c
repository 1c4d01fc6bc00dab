#include "compare/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct entry {
  int present;
  int uses;
  struct sc_tensor *tensor; /* in memory, or NULL when spilled */
  /* spilled copy */
  int spilled;
  enum sc_dtype dtype;
  int rank;
  int64_t dims[SC_MAX_RANK];
  off_t offset;
  size_t size;
};

struct sc_store {
  size_t budget;
  size_t in_memory;
  size_t peak;
  size_t spilled_bytes;
  char *spill_dir;
  int spill_fd; /* -1 until the first spill */
  off_t spill_end;
  struct entry *entries;
  int n_entries;
};

sc_status sc_store_create(size_t budget_bytes, const char *spill_dir,
                          struct sc_store **out, struct sc_error *err)
{
  struct sc_store *s;
  const char *dir = spill_dir;

  *out = NULL;
  if (!dir || !*dir)
    dir = getenv("TMPDIR");
  if (!dir || !*dir)
    dir = "/tmp";
  s = calloc(1, sizeof *s);
  if (!s)
    return sc_fail_nomem(err, "tensor store");
  s->budget = budget_bytes;
  s->spill_fd = -1;
  s->spill_dir = strdup(dir);
  if (!s->spill_dir) {
    free(s);
    return sc_fail_nomem(err, "tensor store");
  }
  *out = s;
  return SC_OK;
}

void sc_store_free(struct sc_store *s)
{
  int i;
  if (!s)
    return;
  for (i = 0; i < s->n_entries; i++)
    sc_tensor_free(s->entries[i].tensor);
  free(s->entries);
  if (s->spill_fd >= 0)
    close(s->spill_fd);
  free(s->spill_dir);
  free(s);
}

static sc_status grow_to(struct sc_store *s, int key, struct sc_error *err)
{
  struct entry *grown;
  int n;
  if (key < s->n_entries)
    return SC_OK;
  n = key + 1 > s->n_entries * 2 ? key + 1 : s->n_entries * 2;
  grown = realloc(s->entries, (size_t)n * sizeof *grown);
  if (!grown)
    return sc_fail_nomem(err, "tensor store");
  memset(grown + s->n_entries, 0, (size_t)(n - s->n_entries) * sizeof *grown);
  s->entries = grown;
  s->n_entries = n;
  return SC_OK;
}

static sc_status open_spill(struct sc_store *s, struct sc_error *err)
{
  char *path;
  size_t len = strlen(s->spill_dir) + 32;
  if (s->spill_fd >= 0)
    return SC_OK;
  path = malloc(len);
  if (!path)
    return sc_fail_nomem(err, "spill file");
  snprintf(path, len, "%s/stagecheck-spill-XXXXXX", s->spill_dir);
  s->spill_fd = mkstemp(path);
  if (s->spill_fd < 0) {
    sc_status st = sc_fail(err, SC_ERR_IO, "%s: cannot create spill file: %s",
                           s->spill_dir, strerror(errno));
    free(path);
    return st;
  }
  unlink(path); /* nothing left behind, whatever happens next */
  free(path);
  return SC_OK;
}

static sc_status spill(struct sc_store *s, struct entry *e,
                       const struct sc_tensor *t, struct sc_error *err)
{
  const uint8_t *p = t->data;
  size_t size = sc_tensor_size(t), done = 0;
  sc_status st = open_spill(s, err);
  if (st)
    return st;
  while (done < size) {
    ssize_t put =
        pwrite(s->spill_fd, p + done, size - done, s->spill_end + (off_t)done);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return sc_fail(err, SC_ERR_IO,
                     "%s: cannot write the spill file (disk full?): %s",
                     s->spill_dir, put < 0 ? strerror(errno) : "no progress");
    done += (size_t)put;
  }
  e->spilled = 1;
  e->dtype = t->dtype;
  e->rank = t->rank;
  memcpy(e->dims, t->dims, sizeof e->dims);
  e->offset = s->spill_end;
  e->size = size;
  s->spill_end += (off_t)size;
  s->spilled_bytes += size;
  return SC_OK;
}

sc_status sc_store_put(struct sc_store *s, int key, const struct sc_tensor *t,
                       int n_uses, struct sc_error *err)
{
  struct entry *e;
  size_t size = sc_tensor_size(t);
  sc_status st;

  if (key < 0)
    return sc_fail(err, SC_ERR_INTERNAL, "tensor store: negative key");
  st = grow_to(s, key, err);
  if (st)
    return st;
  e = &s->entries[key];
  if (e->present)
    return sc_fail(err, SC_ERR_INTERNAL, "tensor store: key %d put twice", key);
  if (n_uses <= 0)
    return SC_OK;
  memset(e, 0, sizeof *e);
  if (s->in_memory + size > s->budget) {
    st = spill(s, e, t, err);
    if (st)
      return st;
  } else {
    st = sc_tensor_ref(t, &e->tensor, err);
    if (st)
      return st;
    s->in_memory += size;
    if (s->in_memory > s->peak)
      s->peak = s->in_memory;
  }
  e->present = 1;
  e->uses = n_uses;
  return SC_OK;
}

int sc_store_has(const struct sc_store *s, int key)
{
  return key >= 0 && key < s->n_entries && s->entries[key].present;
}

sc_status sc_store_get(struct sc_store *s, int key, struct sc_tensor **out,
                       struct sc_error *err)
{
  struct entry *e;
  size_t done = 0;
  sc_status st;

  *out = NULL;
  if (!sc_store_has(s, key))
    return sc_fail(err, SC_ERR_INTERNAL, "tensor store: no tensor %d", key);
  e = &s->entries[key];
  if (e->tensor)
    return sc_tensor_ref(e->tensor, out, err);
  st = sc_tensor_create_pooled(NULL, e->dtype, e->rank, e->dims, out, err);
  if (st)
    return st;
  while (done < e->size) {
    ssize_t got = pread(s->spill_fd, (uint8_t *)(*out)->data + done,
                        e->size - done, e->offset + (off_t)done);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      sc_tensor_free(*out);
      *out = NULL;
      return sc_fail(err, SC_ERR_IO, "cannot read back the spill file: %s",
                     got < 0 ? strerror(errno) : "short file");
    }
    done += (size_t)got;
  }
  return SC_OK;
}

void sc_store_release(struct sc_store *s, int key)
{
  struct entry *e;
  if (!sc_store_has(s, key))
    return;
  e = &s->entries[key];
  if (--e->uses > 0)
    return;
  if (e->tensor) {
    s->in_memory -= sc_tensor_size(e->tensor);
    sc_tensor_free(e->tensor);
  }
  memset(e, 0, sizeof *e);
}

size_t sc_store_bytes_in_memory(const struct sc_store *s)
{
  return s->in_memory;
}

size_t sc_store_peak_bytes(const struct sc_store *s)
{
  return s->peak;
}

size_t sc_store_bytes_spilled(const struct sc_store *s)
{
  return s->spilled_bytes;
}

size_t sc_store_default_budget(void)
{
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return (size_t)1 << 30;
  return (size_t)pages * (size_t)page / 4;
}

int sc_parse_size(const char *text, size_t *out)
{
  char *end;
  double v = strtod(text, &end);
  double unit = 1;
  if (end == text || v < 0)
    return -1;
  switch (*end) {
  case 'k':
  case 'K':
    unit = 1024.0;
    end++;
    break;
  case 'm':
  case 'M':
    unit = 1024.0 * 1024;
    end++;
    break;
  case 'g':
  case 'G':
    unit = 1024.0 * 1024 * 1024;
    end++;
    break;
  case 't':
  case 'T':
    unit = 1024.0 * 1024 * 1024 * 1024;
    end++;
    break;
  default:
    break;
  }
  if (*end == 'i' || *end == 'B' || *end == 'b') /* "MiB", "MB" */
    end += (*end == 'i') ? 1 : 0;
  if (*end == 'B' || *end == 'b')
    end++;
  if (*end || v * unit > 1e18)
    return -1;
  *out = (size_t)(v * unit);
  return 0;
}
