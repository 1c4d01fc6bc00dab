#include "loaders/dump.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loaders/file.h"
#include "loaders/onnx.h"
#include "loaders/tensor_file.h"
#include "runtime/quant.h"

/* Longest stem kept whole: with ".npy" and a "_k" suffix a file name
 * stays well under the 255 bytes of Linux file systems. */
#define MAX_STEM 200
#define KEPT_PREFIX 183 /* + '_' + 16 hex digits = MAX_STEM */

char *sc_dump_stem(const char *tensor_name)
{
  size_t len = strlen(tensor_name);
  char *stem = malloc(len < MAX_STEM ? len + 1 : MAX_STEM + 1);
  size_t i;
  if (!stem)
    return NULL;
  for (i = 0; i < len && i < MAX_STEM; i++) {
    char c = tensor_name[i];
    stem[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'
                  ? c
                  : '_';
  }
  stem[i] = '\0';
  if (len > MAX_STEM) { /* a prefix and a hash (FNV-1a) of the whole name */
    uint64_t h = 0xcbf29ce484222325u;
    for (i = 0; i < len; i++)
      h = (h ^ (uint8_t)tensor_name[i]) * 0x100000001b3u;
    snprintf(stem + KEPT_PREFIX, MAX_STEM + 1 - KEPT_PREFIX, "_%016llx",
             (unsigned long long)h);
  }
  return stem;
}

/* What the manifest of a dump `stagecheck run` wrote says, so that the
 * next run may replace that dump and nothing else. */
#define PRODUCER "stagecheck run"

struct sc_dump_writer {
  char *dir;            /* where the dump ends up */
  char *work;           /* a new sibling of dir the files go into first */
  json_object *tensors; /* array of manifest entries */
  json_object *stems;   /* set of file stems already used */
  int placed;           /* work was renamed to dir */
};

static json_object *parse_json_file(const char *path, struct sc_error *err);

/* dir without trailing slashes (malloc'ed; "/" stays "/"). */
static char *trimmed(const char *dir)
{
  char *s = strdup(dir);
  size_t n = s ? strlen(s) : 0;
  while (n > 1 && s[n - 1] == '/')
    s[--n] = '\0';
  return s;
}

/* The "tensors" array of a manifest, else NULL. */
static json_object *manifest_tensors(json_object *root)
{
  json_object *tensors;
  return root && json_object_object_get_ex(root, "tensors", &tensors) &&
                 json_object_is_type(tensors, json_type_array)
             ? tensors
             : NULL;
}

/* The "file" of entry i of a "tensors" array, else NULL. */
static const char *entry_file(json_object *tensors, size_t i)
{
  json_object *t = json_object_array_get_idx(tensors, i), *file;
  return json_object_is_type(t, json_type_object) &&
                 json_object_object_get_ex(t, "file", &file) &&
                 json_object_is_type(file, json_type_string)
             ? json_object_get_string(file)
             : NULL;
}

/* Is `name` the manifest or a file the "tensors" array lists? */
static int listed(json_object *tensors, const char *name)
{
  size_t i, n = tensors ? json_object_array_length(tensors) : 0;
  if (strcmp(name, "manifest.json") == 0)
    return 1;
  for (i = 0; i < n; i++) {
    const char *file = entry_file(tensors, i);
    if (file && strcmp(file, name) == 0)
      return 1;
  }
  return 0;
}

/* The manifest of a dump this writer made in dir, else NULL. */
static json_object *own_manifest(const char *dir)
{
  char *path = sc_path_join(dir, "manifest.json");
  json_object *root = NULL, *producer;
  if (path && sc_path_is_file(path))
    root = parse_json_file(path, NULL);
  free(path);
  if (root && !(json_object_object_get_ex(root, "producer", &producer) &&
                json_object_is_type(producer, json_type_string) &&
                strcmp(json_object_get_string(producer), PRODUCER) == 0)) {
    json_object_put(root);
    root = NULL;
  }
  return root;
}

/* 1 when dir (an existing directory) may be replaced: it is empty, or it
 * holds a dump this writer made and nothing else (regular files the
 * manifest lists). */
static int replaceable(const char *dir)
{
  json_object *root = own_manifest(dir);
  DIR *d = opendir(dir);
  struct dirent *e;
  int ok = d != NULL;
  while (ok && (e = readdir(d)) != NULL) {
    char *path;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    path = sc_path_join(dir, e->d_name);
    ok = root && path && listed(manifest_tensors(root), e->d_name) &&
         sc_path_is_file(path);
    free(path);
  }
  if (d)
    closedir(d);
  json_object_put(root);
  return ok;
}

/* Removes a dump this writer made (or was making) in dir: the files the
 * "tensors" array lists (may be NULL), the manifest, then the directory
 * if that left it empty. */
static void remove_dump(const char *dir, json_object *tensors)
{
  size_t i, n = tensors ? json_object_array_length(tensors) : 0;
  char *path;
  for (i = 0; i < n; i++) {
    const char *file = entry_file(tensors, i);
    if (file && !strchr(file, '/') && (path = sc_path_join(dir, file))) {
      unlink(path);
      free(path);
    }
  }
  if ((path = sc_path_join(dir, "manifest.json"))) {
    unlink(path);
    free(path);
  }
  rmdir(dir);
}

/* A new empty directory beside `dir` (same parent, so a rename moves it
 * into place): "<parent>/.<name>.<what>-<pid>-<k>", malloc'ed. */
static char *new_sibling(const char *dir, const char *what,
                         struct sc_error *err)
{
  char *parent = sc_path_dirname(dir);
  const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
  size_t len = (parent ? strlen(parent) : 0) + strlen(name) + 64;
  char *path = parent ? malloc(len) : NULL;
  int k;
  if (!path) {
    free(parent);
    sc_fail_nomem(err, dir);
    return NULL;
  }
  for (k = 0; k < 1000; k++) {
    snprintf(path, len, "%s/.%s.%s-%ld-%d", parent, name, what, (long)getpid(),
             k);
    if (mkdir(path, 0777) == 0) {
      free(parent);
      return path;
    }
    if (errno != EEXIST)
      break;
  }
  sc_fail(err, SC_ERR_IO, "%s: cannot create a directory beside it: %s", dir,
          strerror(errno));
  free(parent);
  free(path);
  return NULL;
}

sc_status sc_dump_writer_create(const char *dir, struct sc_dump_writer **out,
                                struct sc_error *err)
{
  struct sc_dump_writer *w;
  char *parent, *cwd;
  struct stat sb;
  int exists;
  sc_status st;

  *out = NULL;
  if (!dir[0])
    return sc_fail(err, SC_ERR_USAGE, "empty directory name");
  w = calloc(1, sizeof *w);
  if (!w)
    return sc_fail_nomem(err, dir);
  exists = lstat(dir, &sb) == 0;
  w->dir = exists ? realpath(dir, NULL) : trimmed(dir);
  if (!w->dir) {
    st = sc_fail(err, errno == ENOMEM ? SC_ERR_NOMEM : SC_ERR_USAGE, "%s: %s",
                 dir, strerror(errno));
    sc_dump_writer_free(w);
    return st;
  }
  if (exists) {
    cwd = getcwd(NULL, 0);
    if (!sc_path_is_dir(w->dir))
      st = sc_fail(err, SC_ERR_USAGE, "%s: exists and is not a directory", dir);
    else if (cwd && sc_path_inside(cwd, w->dir))
      st = sc_fail(err, SC_ERR_USAGE,
                   "%s: holds the current directory; a dump needs a "
                   "directory of its own",
                   dir);
    else if (!replaceable(w->dir))
      st = sc_fail(err, SC_ERR_USAGE,
                   "%s: not empty and not a dump of stagecheck run (--dump "
                   "replaces only its own dumps, never other files)",
                   dir);
    else
      st = SC_OK;
    free(cwd);
    if (st) {
      sc_dump_writer_free(w);
      return st;
    }
  }
  parent = sc_path_dirname(w->dir);
  st = parent ? sc_mkdir_p(parent, err) : sc_fail_nomem(err, dir);
  free(parent);
  if (!st && !(w->work = new_sibling(w->dir, "partial", err)))
    st = err ? err->status : SC_ERR_IO;
  w->tensors = json_object_new_array();
  w->stems = json_object_new_object();
  if (!st && (!w->tensors || !w->stems))
    st = sc_fail_nomem(err, dir);
  if (st) {
    sc_dump_writer_free(w);
    return st;
  }
  *out = w;
  return SC_OK;
}

/* A stem not used yet: the sanitized name, or name_1, name_2 ... */
static char *unique_stem(struct sc_dump_writer *w, const char *name)
{
  char *stem = sc_dump_stem(name);
  char *candidate;
  size_t len;
  int k;

  if (!stem)
    return NULL;
  if (!stem[0] || strcmp(stem, "manifest.json") == 0 ||
      strcmp(stem, ".") == 0 || strcmp(stem, "..") == 0) {
    free(stem);
    stem = strdup("tensor");
    if (!stem)
      return NULL;
  }
  if (!json_object_object_get_ex(w->stems, stem, NULL))
    return stem;
  len = strlen(stem) + 16;
  candidate = malloc(len);
  if (!candidate) {
    free(stem);
    return NULL;
  }
  for (k = 1;; k++) {
    snprintf(candidate, len, "%s_%d", stem, k);
    if (!json_object_object_get_ex(w->stems, candidate, NULL))
      break;
  }
  free(stem);
  return candidate;
}

sc_status sc_dump_writer_add(struct sc_dump_writer *w, const char *name,
                             const struct sc_tensor *t, const char *node,
                             const char *op, const struct sc_quant *quant,
                             struct sc_error *err)
{
  char *stem = unique_stem(w, name);
  char *file = NULL, *path = NULL;
  json_object *entry = NULL, *shape;
  int i;
  sc_status st;

  if (!stem)
    return sc_fail_nomem(err, name);
  file = malloc(strlen(stem) + 5);
  if (!file) {
    free(stem);
    return sc_fail_nomem(err, name);
  }
  sprintf(file, "%s.npy", stem);
  path = sc_path_join(w->work, file);
  if (!path) {
    st = sc_fail_nomem(err, name);
    goto done;
  }
  st = sc_npy_save(path, t, err);
  if (st)
    goto done;
  json_object_object_add(w->stems, stem, NULL);
  entry = json_object_new_object();
  json_object_object_add(entry, "name", json_object_new_string(name));
  json_object_object_add(entry, "file", json_object_new_string(file));
  json_object_object_add(entry, "dtype",
                         json_object_new_string(t->dtype == SC_DTYPE_BFLOAT16
                                                    ? "float32"
                                                    : sc_dtype_name(t->dtype)));
  shape = json_object_new_array();
  for (i = 0; i < t->rank; i++)
    json_object_array_add(shape, json_object_new_int64(t->dims[i]));
  json_object_object_add(entry, "shape", shape);
  if (node)
    json_object_object_add(entry, "node", json_object_new_string(node));
  if (op)
    json_object_object_add(entry, "op", json_object_new_string(op));
  if (quant && quant->n_params > 0) {
    if (quant->axis < 0) {
      json_object_object_add(entry, "scale",
                             json_object_new_double(quant->scale[0]));
      json_object_object_add(entry, "zero_point",
                             json_object_new_int64(quant->zero_point[0]));
    } else {
      json_object *scales = json_object_new_array();
      json_object *zps = json_object_new_array();
      int64_t k;
      for (k = 0; k < quant->n_params; k++) {
        json_object_array_add(scales, json_object_new_double(quant->scale[k]));
        json_object_array_add(zps, json_object_new_int64(quant->zero_point[k]));
      }
      json_object_object_add(entry, "scale", scales);
      json_object_object_add(entry, "zero_point", zps);
      json_object_object_add(entry, "axis", json_object_new_int(quant->axis));
    }
    json_object_object_add(entry, "quant_dtype",
                           json_object_new_string(sc_dtype_name(quant->dtype)));
  }
  json_object_array_add(w->tensors, entry);

done:
  free(stem);
  free(file);
  free(path);
  return st;
}

sc_status sc_dump_writer_finish(struct sc_dump_writer *w, struct sc_error *err)
{
  json_object *root = json_object_new_object();
  const char *text;
  char *path, *old = NULL;
  sc_status st;

  if (!root)
    return sc_fail_nomem(err, "manifest");
  json_object_object_add(root, "producer", json_object_new_string(PRODUCER));
  json_object_object_add(root, "tensors", json_object_get(w->tensors));
  text = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  path = sc_path_join(w->work, "manifest.json");
  if (!path) {
    json_object_put(root);
    return sc_fail_nomem(err, "manifest");
  }
  st = sc_file_write_atomic(path, text, strlen(text), err);
  free(path);
  json_object_put(root);
  if (st)
    return st;
  /* the old dump (or empty directory) steps aside into a new empty
   * sibling, the new one takes its name, then the old one goes */
  if (sc_path_is_dir(w->dir)) {
    old = new_sibling(w->dir, "old", err);
    if (!old)
      return err ? err->status : SC_ERR_IO;
    if (rename(w->dir, old) != 0) {
      st = sc_fail(err, SC_ERR_IO, "%s: cannot replace: %s", w->dir,
                   strerror(errno));
      rmdir(old);
      free(old);
      return st;
    }
  }
  if (rename(w->work, w->dir) != 0) {
    st = sc_fail(err, SC_ERR_IO, "%s: cannot move the dump into place: %s",
                 w->dir, strerror(errno));
    if (old && rename(old, w->dir) != 0)
      st = sc_fail(err, SC_ERR_IO,
                   "%s: cannot move the dump into place; "
                   "the previous dump is in %s",
                   w->dir, old);
    free(old);
    return st;
  }
  w->placed = 1;
  if (old) {
    json_object *previous = own_manifest(old);
    remove_dump(old, manifest_tensors(previous));
    json_object_put(previous);
  }
  free(old);
  return SC_OK;
}

void sc_dump_writer_free(struct sc_dump_writer *w)
{
  if (!w)
    return;
  if (w->work && !w->placed) /* unfinished: leaves nothing */
    remove_dump(w->work, w->tensors);
  free(w->dir);
  free(w->work);
  json_object_put(w->tensors);
  json_object_put(w->stems);
  free(w);
}

/* --- reading ---------------------------------------------------------- */

void sc_dump_free(struct sc_dump *d)
{
  int i;
  if (!d)
    return;
  for (i = 0; i < d->n_entries; i++) {
    free(d->entries[i].name);
    free(d->entries[i].path);
    sc_quant_free(d->entries[i].quant);
  }
  free(d->entries);
  free(d->dir);
  free(d);
}

static int has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* dtype and shape of a tensor file, from its header (.npy) or by loading
 * it (.pb). */
static sc_status peek_file(const char *path, struct sc_dump_entry *e,
                           struct sc_error *err)
{
  struct sc_tensor *t = NULL;
  sc_status st;
  if (has_suffix(path, ".npy")) {
    uint8_t *data;
    size_t size;
    /* the header is at most 64 KiB: read it and parse without data */
    st = sc_file_read(path, SC_MAX_TENSOR_SIZE + 65536, &data, &size, err);
    if (st)
      return st;
    st = sc_npy_parse(data, size, path, &t, err);
    free(data);
  } else if (has_suffix(path, ".pb")) {
    st = sc_onnx_load_tensor(path, &t, NULL, err);
  } else {
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: unknown tensor file type (expected .npy, .pb, or .bin "
                   "with dtype and shape in manifest.json)",
                   path);
  }
  if (st)
    return st;
  e->dtype = t->dtype;
  e->rank = t->rank;
  memcpy(e->dims, t->dims, sizeof e->dims);
  sc_tensor_free(t);
  return SC_OK;
}

static int compare_entries(const void *a, const void *b)
{
  return strcmp(((const struct sc_dump_entry *)a)->name,
                ((const struct sc_dump_entry *)b)->name);
}

static sc_status list_files(struct sc_dump *d, struct sc_error *err)
{
  DIR *dir = opendir(d->dir);
  struct dirent *ent;
  sc_status st = SC_OK;
  int cap = 0;

  if (!dir)
    return sc_fail(err, SC_ERR_FORMAT, "%s: cannot open the dump directory",
                   d->dir);
  while ((ent = readdir(dir)) != NULL) {
    struct sc_dump_entry *e;
    size_t len = strlen(ent->d_name);
    if (!has_suffix(ent->d_name, ".npy") && !has_suffix(ent->d_name, ".pb"))
      continue;
    if (d->n_entries == cap) {
      struct sc_dump_entry *grown;
      cap = cap ? cap * 2 : 64;
      grown = realloc(d->entries, (size_t)cap * sizeof *grown);
      if (!grown) {
        st = sc_fail_nomem(err, d->dir);
        break;
      }
      d->entries = grown;
    }
    e = &d->entries[d->n_entries];
    memset(e, 0, sizeof *e);
    e->name =
        strndup(ent->d_name, len - (has_suffix(ent->d_name, ".pb") ? 3 : 4));
    e->path = sc_path_join(d->dir, ent->d_name);
    d->n_entries++;
    if (!e->name || !e->path) {
      st = sc_fail_nomem(err, d->dir);
      break;
    }
  }
  closedir(dir);
  if (st)
    return st;
  if (d->n_entries > 1)
    qsort(d->entries, (size_t)d->n_entries, sizeof *d->entries,
          compare_entries);
  return SC_OK;
}

static sc_status manifest_quant(const char *mpath, const char *name,
                                json_object *entry, struct sc_dump_entry *e,
                                struct sc_error *err)
{
  json_object *scale = NULL, *zp = NULL, *axis = NULL;
  struct sc_quant *q;
  size_t n, i;
  int32_t qmin, qmax;

  if (!json_object_object_get_ex(entry, "scale", &scale) || !scale)
    return SC_OK;
  json_object_object_get_ex(entry, "zero_point", &zp);
  json_object_object_get_ex(entry, "axis", &axis);
  n = json_object_is_type(scale, json_type_array)
          ? json_object_array_length(scale)
          : 1;
  if (n == 0 || n > 1000000 ||
      !(json_object_is_type(scale, json_type_array) ||
        json_object_is_type(scale, json_type_double) ||
        json_object_is_type(scale, json_type_int)))
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: tensor '%s': scale must be a number or a list", mpath,
                   name);
  if (zp && !json_object_is_type(zp, json_type_null) &&
      (json_object_is_type(zp, json_type_array)
           ? json_object_array_length(zp) != n
           : n != 1 || !json_object_is_type(zp, json_type_int)))
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: tensor '%s': zero_point must match scale", mpath, name);
  if (sc_quant_create(e->dtype,
                      axis && json_object_is_type(axis, json_type_int)
                          ? json_object_get_int(axis)
                      : n > 1 ? 1
                              : -1,
                      (int64_t)n, &q, NULL))
    return sc_fail_nomem(err, mpath);
  e->quant = q;
  for (i = 0; i < n; i++) {
    json_object *s = json_object_is_type(scale, json_type_array)
                         ? json_object_array_get_idx(scale, i)
                         : scale;
    json_object *z = !zp || json_object_is_type(zp, json_type_null) ? NULL
                     : json_object_is_type(zp, json_type_array)
                         ? json_object_array_get_idx(zp, i)
                         : zp;
    double sv = json_object_get_double(s);
    if (!(sv > 0) || (z && !json_object_is_type(z, json_type_int)))
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: tensor '%s': scales must be positive numbers and "
                     "zero points integers",
                     mpath, name);
    q->scale[i] = (float)sv;
    q->zero_point[i] = z ? json_object_get_int64(z) : 0;
    if (sc_quant_range(e->dtype, &qmin, &qmax) == 0 &&
        (q->zero_point[i] < qmin || q->zero_point[i] > qmax))
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: tensor '%s': zero point %lld is outside %s's "
                     "range [%d, %d]",
                     mpath, name, (long long)q->zero_point[i],
                     sc_dtype_name(e->dtype), (int)qmin, (int)qmax);
  }
  if (n > 1 &&
      (q->axis < 0 || q->axis >= e->rank || e->dims[q->axis] != (int64_t)n))
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: tensor '%s': %zu scales do not match axis %d of its "
                   "shape",
                   mpath, name, n, q->axis);
  return SC_OK;
}

/* Largest manifest.json read. */
#define MAX_MANIFEST_SIZE ((size_t)64 << 20)

/* The JSON document of the file at path, nothing but white space after it;
 * NULL with the error set otherwise. */
static json_object *parse_json_file(const char *path, struct sc_error *err)
{
  uint8_t *data = NULL;
  size_t size = 0, end;
  json_tokener *tok;
  json_object *root = NULL;
  if (sc_file_read(path, MAX_MANIFEST_SIZE, &data, &size, err) != SC_OK)
    return NULL;
  tok = json_tokener_new();
  if (!tok) {
    free(data);
    sc_fail_nomem(err, path);
    return NULL;
  }
  root = size <= INT32_MAX
             ? json_tokener_parse_ex(tok, (const char *)data, (int)size)
             : NULL;
  end = root ? json_tokener_get_parse_end(tok) : 0;
  while (root && end < size &&
         (data[end] == ' ' || data[end] == '\t' || data[end] == '\n' ||
          data[end] == '\r'))
    end++;
  if (!root)
    sc_fail(err, SC_ERR_FORMAT, "%s: not valid JSON (%s)", path,
            json_tokener_error_desc(json_tokener_get_error(tok)));
  else if (end < size) {
    sc_fail(err, SC_ERR_FORMAT, "%s: text after the JSON document (byte %zu)",
            path, end);
    json_object_put(root);
    root = NULL;
  }
  json_tokener_free(tok);
  free(data);
  return root;
}

/* SC_OK when the manifest's optional "shape" of an entry read from a
 * .npy/.pb header agrees with that header. */
static sc_status check_listed_shape(json_object *t,
                                    const struct sc_dump_entry *e,
                                    const char *what, struct sc_error *err)
{
  json_object *shape;
  size_t k;
  if (!json_object_object_get_ex(t, "shape", &shape) || !shape)
    return SC_OK;
  if (!json_object_is_type(shape, json_type_array) ||
      json_object_array_length(shape) != (size_t)e->rank)
    return sc_fail(err, SC_ERR_FORMAT,
                   "%s: \"shape\" does not match the file's rank %d", what,
                   e->rank);
  for (k = 0; k < (size_t)e->rank; k++) {
    json_object *dim = json_object_array_get_idx(shape, k);
    if (!json_object_is_type(dim, json_type_int) ||
        json_object_get_int64(dim) != e->dims[k])
      return sc_fail(err, SC_ERR_FORMAT,
                     "%s: \"shape\" dimension %zu does not match the file's "
                     "%lld",
                     what, k, (long long)e->dims[k]);
  }
  return SC_OK;
}

static sc_status read_manifest(struct sc_dump *d, const char *mpath,
                               struct sc_error *err)
{
  json_object *root = parse_json_file(mpath, err), *tensors = NULL;
  json_object *seen = NULL;
  size_t i, n;
  sc_status st = SC_OK;

  if (!root) {
    if (err)
      err->status = SC_ERR_FORMAT;
    return SC_ERR_FORMAT;
  }
  if (!json_object_object_get_ex(root, "tensors", &tensors) ||
      !json_object_is_type(tensors, json_type_array)) {
    json_object_put(root);
    return sc_fail(err, SC_ERR_FORMAT, "%s: no \"tensors\" list", mpath);
  }
  n = json_object_array_length(tensors);
  d->entries = calloc(n + 1, sizeof *d->entries);
  seen = json_object_new_object(); /* names so far, hashed */
  if (!d->entries || !seen) {
    json_object_put(seen);
    json_object_put(root);
    return sc_fail_nomem(err, mpath);
  }
  for (i = 0; i < n && !st; i++) {
    json_object *t = json_object_array_get_idx(tensors, i), *v;
    struct sc_dump_entry *e = &d->entries[i];
    const char *name, *file, *dtype = NULL, *layout = NULL;
    char what[256];
    d->n_entries = (int)i + 1;
    if (!json_object_is_type(t, json_type_object) ||
        !json_object_object_get_ex(t, "name", &v) ||
        !json_object_is_type(v, json_type_string)) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: entry %zu has no \"name\"", mpath,
                   i);
      break;
    }
    name = json_object_get_string(v);
    if (strlen(name) != (size_t)json_object_get_string_len(v)) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: entry %zu: a NUL in \"name\"",
                   mpath, i);
      break;
    }
    if (!json_object_object_get_ex(t, "file", &v) ||
        !json_object_is_type(v, json_type_string) ||
        strlen(json_object_get_string(v)) !=
            (size_t)json_object_get_string_len(v)) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: tensor '%s' has no \"file\"", mpath,
                   name);
      break;
    }
    file = json_object_get_string(v);
    if (json_object_object_get_ex(seen, name, NULL)) {
      st = sc_fail(err, SC_ERR_FORMAT, "%s: tensor '%s' is listed twice", mpath,
                   name);
      break;
    }
    json_object_object_add(seen, name, NULL);
    e->name = strdup(name);
    if (!e->name) {
      st = sc_fail_nomem(err, mpath);
      break;
    }
    snprintf(what, sizeof what, "%s: tensor '%s'", mpath, name);
    st = sc_path_confine(d->dir, file, what, &e->path, err);
    if (st)
      break;
    if (json_object_object_get_ex(t, "dtype", &v) && v)
      dtype = json_object_get_string(v);
    if (json_object_object_get_ex(t, "layout", &v) && v)
      layout = json_object_get_string(v);
    if (layout && strcmp(layout, "NHWC") != 0 && strcmp(layout, "NCHW") != 0) {
      st = sc_fail(err, SC_ERR_FORMAT,
                   "%s: \"layout\" must be NCHW or NHWC, not '%s'", what,
                   layout);
      break;
    }
    e->layout_nhwc = layout && strcmp(layout, "NHWC") == 0;
    if (has_suffix(file, ".bin") || has_suffix(file, ".raw")) {
      json_object *shape = NULL;
      size_t k;
      if (!dtype || sc_dtype_from_name(dtype, &e->dtype) != 0 ||
          sc_dtype_size(e->dtype) == 0) {
        st = sc_fail(err, SC_ERR_FORMAT,
                     "%s: raw file '%s' needs a numeric \"dtype\"", what, file);
        break;
      }
      if (!json_object_object_get_ex(t, "shape", &shape) ||
          !json_object_is_type(shape, json_type_array) ||
          json_object_array_length(shape) > SC_MAX_RANK) {
        st = sc_fail(err, SC_ERR_FORMAT,
                     "%s: raw file '%s' needs a \"shape\" list", what, file);
        break;
      }
      e->rank = (int)json_object_array_length(shape);
      for (k = 0; k < (size_t)e->rank; k++) {
        json_object *dim = json_object_array_get_idx(shape, k);
        if (!json_object_is_type(dim, json_type_int) ||
            json_object_get_int64(dim) < 0) {
          st = sc_fail(err, SC_ERR_FORMAT,
                       "%s: shape must hold non-negative integers", what);
          break;
        }
        e->dims[k] = json_object_get_int64(dim);
      }
      if (st)
        break;
      {
        int64_t count;
        st = sc_shape_count(e->rank, e->dims, sc_dtype_size(e->dtype), &count,
                            what, err);
        if (st) {
          err->status = st = SC_ERR_FORMAT;
          break;
        }
      }
    } else {
      st = peek_file(e->path, e, err);
      if (!st)
        st = check_listed_shape(t, e, what, err);
      if (st)
        break;
      if (dtype) { /* the manifest's dtype must agree with the file */
        enum sc_dtype want;
        if (sc_dtype_from_name(dtype, &want) != 0 || want != e->dtype) {
          st = sc_fail(err, SC_ERR_FORMAT,
                       "%s: the manifest says %s, the file holds %s", what,
                       dtype, sc_dtype_name(e->dtype));
          break;
        }
      }
    }
    st = manifest_quant(mpath, name, t, e, err);
  }
  json_object_put(seen);
  json_object_put(root);
  return st;
}

sc_status sc_dump_open(const char *dir, struct sc_dump **out,
                       struct sc_error *err)
{
  struct sc_dump *d;
  char *mpath;
  sc_status st;
  int i;

  *out = NULL;
  if (!sc_path_is_dir(dir))
    return sc_fail(err, SC_ERR_FORMAT, "%s: not a dump directory", dir);
  d = calloc(1, sizeof *d);
  if (!d)
    return sc_fail_nomem(err, dir);
  d->dir = strdup(dir);
  mpath = sc_path_join(dir, "manifest.json");
  if (!d->dir || !mpath) {
    free(mpath);
    sc_dump_free(d);
    return sc_fail_nomem(err, dir);
  }
  if (sc_path_is_file(mpath))
    st = read_manifest(d, mpath, err);
  else {
    st = list_files(d, err);
    for (i = 0; !st && i < d->n_entries; i++)
      st = peek_file(d->entries[i].path, &d->entries[i], err);
  }
  free(mpath);
  if (st) {
    sc_dump_free(d);
    return st;
  }
  *out = d;
  return SC_OK;
}

sc_status sc_dump_load(const struct sc_dump *d, int i, struct sc_tensor **out,
                       struct sc_error *err)
{
  const struct sc_dump_entry *e = &d->entries[i];
  sc_status st;
  *out = NULL;
  if (has_suffix(e->path, ".npy") || has_suffix(e->path, ".pb"))
    st = sc_tensor_file_load(e->path, out, err);
  else
    st = sc_raw_load(e->path, e->dtype, e->rank, e->dims, out, err);
  if (st)
    return st;
  if ((*out)->dtype != e->dtype || (*out)->rank != e->rank ||
      memcmp((*out)->dims, e->dims, (size_t)e->rank * sizeof e->dims[0])) {
    sc_tensor_free(*out);
    *out = NULL;
    return sc_fail(err, SC_ERR_FORMAT, "%s: changed since it was listed",
                   e->path);
  }
  return SC_OK;
}
