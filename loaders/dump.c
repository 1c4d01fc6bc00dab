#include "loaders/dump.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "loaders/tensor_file.h"

char *sc_dump_stem(const char *tensor_name)
{
  char *stem = strdup(tensor_name);
  char *p;
  if (!stem)
    return NULL;
  for (p = stem; *p; p++) {
    char c = *p;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      *p = '_';
  }
  return stem;
}

struct sc_dump_writer {
  char *dir;
  json_object *tensors; /* array of manifest entries */
  json_object *stems;   /* set of file stems already used */
};

sc_status sc_dump_writer_create(const char *dir, struct sc_dump_writer **out,
                                struct sc_error *err)
{
  struct sc_dump_writer *w;
  sc_status st;

  *out = NULL;
  st = sc_mkdir_p(dir, err);
  if (st)
    return st;
  w = calloc(1, sizeof *w);
  if (!w)
    return sc_fail_nomem(err, dir);
  w->dir = strdup(dir);
  w->tensors = json_object_new_array();
  w->stems = json_object_new_object();
  if (!w->dir || !w->tensors || !w->stems) {
    sc_dump_writer_free(w);
    return sc_fail_nomem(err, dir);
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
  path = sc_path_join(w->dir, file);
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
  char *path;
  sc_status st;

  if (!root)
    return sc_fail_nomem(err, "manifest");
  json_object_object_add(root, "tensors", json_object_get(w->tensors));
  text = json_object_to_json_string_ext(
      root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
  path = sc_path_join(w->dir, "manifest.json");
  if (!path) {
    json_object_put(root);
    return sc_fail_nomem(err, "manifest");
  }
  st = sc_file_write_atomic(path, text, strlen(text), err);
  free(path);
  json_object_put(root);
  return st;
}

void sc_dump_writer_free(struct sc_dump_writer *w)
{
  if (!w)
    return;
  free(w->dir);
  json_object_put(w->tensors);
  json_object_put(w->stems);
  free(w);
}
