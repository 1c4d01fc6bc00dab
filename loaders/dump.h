/* Dump directories (spec/cli.md, "Dumps"): one file per tensor plus an
 * optional manifest.json mapping tensor names to files, dtypes, shapes,
 * layouts and quantization parameters.
 *
 * The writer is what `stagecheck run --dump` uses; the reader loads device
 * dumps and run dumps alike. */
#ifndef SC_LOADERS_DUMP_H
#define SC_LOADERS_DUMP_H

#include <stddef.h>

#include "runtime/graph.h"
#include "runtime/tensor.h"

/* File stem of a tensor name: every character outside [A-Za-z0-9._-]
 * replaced by '_'; a name longer than 200 bytes keeps its first 183 and a
 * 64-bit hash of the whole name in hex (malloc'ed; NULL on OOM). */
char *sc_dump_stem(const char *tensor_name);

struct sc_dump_writer;

/* Starts a dump that will be `dir`. dir may be missing (it and its
 * parents are created), an empty directory, or a dump an earlier writer
 * made (its manifest says "producer": "stagecheck run" and it holds only
 * the files that manifest lists); anything else is refused (SC_ERR_USAGE),
 * as is a dir that holds the current directory. The files go into a new
 * sibling directory; finish moves it into place, so a dump that fails
 * half-way (or is freed unfinished) changes nothing and leaves nothing. */
sc_status sc_dump_writer_create(const char *dir, struct sc_dump_writer **out,
                                struct sc_error *err);
/* Writes one tensor as <stem>.npy (a numbered stem if two names collide)
 * and records it for the manifest. node/op/quant may be NULL. */
sc_status sc_dump_writer_add(struct sc_dump_writer *w, const char *name,
                             const struct sc_tensor *t, const char *node,
                             const char *op, const struct sc_quant *quant,
                             struct sc_error *err);
/* Writes manifest.json and puts the dump in place of dir, removing the
 * empty directory or earlier dump that was there. */
sc_status sc_dump_writer_finish(struct sc_dump_writer *w, struct sc_error *err);
void sc_dump_writer_free(struct sc_dump_writer *w);

/* --- reading ---------------------------------------------------------- */

struct sc_dump_entry {
  char *name; /* tensor name (the file stem when there is no manifest) */
  char *path; /* resolved file path, inside the dump directory */
  enum sc_dtype dtype;
  int rank;
  int64_t dims[SC_MAX_RANK];
  int layout_nhwc;        /* manifest "layout": "NHWC" */
  struct sc_quant *quant; /* scale/zero point from the manifest, or NULL */
};

struct sc_dump {
  char *dir;
  int n_entries;
  struct sc_dump_entry *entries;
};

/* Opens a dump directory: manifest.json when present (every entry checked:
 * name and file required, files confined to the directory, dtype and shape
 * required for raw .bin files, quantization parameters well-formed), else
 * every .npy and .pb file in name order. dtypes and shapes of .npy/.pb files
 * are read from their headers. SC_ERR_FORMAT naming the manifest or file. */
sc_status sc_dump_open(const char *dir, struct sc_dump **out,
                       struct sc_error *err);

/* Loads entry i; its dtype and shape must match what open recorded. */
sc_status sc_dump_load(const struct sc_dump *d, int i, struct sc_tensor **out,
                       struct sc_error *err);

void sc_dump_free(struct sc_dump *d);

#endif
