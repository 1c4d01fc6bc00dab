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
 * replaced by '_' (malloc'ed; NULL on OOM). */
char *sc_dump_stem(const char *tensor_name);

struct sc_dump_writer;

/* Creates dir (and parents) if needed. Files are written atomically. */
sc_status sc_dump_writer_create(const char *dir, struct sc_dump_writer **out,
                                struct sc_error *err);
/* Writes one tensor as <stem>.npy (a numbered stem if two names collide)
 * and records it for the manifest. node/op/quant may be NULL. */
sc_status sc_dump_writer_add(struct sc_dump_writer *w, const char *name,
                             const struct sc_tensor *t, const char *node,
                             const char *op, const struct sc_quant *quant,
                             struct sc_error *err);
/* Writes manifest.json. */
sc_status sc_dump_writer_finish(struct sc_dump_writer *w, struct sc_error *err);
void sc_dump_writer_free(struct sc_dump_writer *w);

#endif
