/* Whole-file reading with size limits, atomic writing, and path checks
 * shared by the loaders and the report writers. */
#ifndef SC_LOADERS_FILE_H
#define SC_LOADERS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"

/* Reads a whole regular file (at most max_size bytes) into a malloc'ed
 * buffer with a terminating NUL (not counted in *size). SC_ERR_FORMAT when
 * it cannot be read or is too large; the message names the path. */
sc_status sc_file_read(const char *path, size_t max_size, uint8_t **data,
                       size_t *size, struct sc_error *err);

/* Maps a whole regular file (at most max_size bytes) read-only, its pages
 * read in at once: a large model is parsed from the page cache with no
 * copy into fresh memory. Same checks and errors as sc_file_read; no NUL
 * terminator. Release with sc_file_unmap. A file cut short by another
 * process while it is mapped stops this one (SIGBUS) where sc_file_read
 * would report "file shrank". */
sc_status sc_file_map(const char *path, size_t max_size, const uint8_t **data,
                      size_t *size, struct sc_error *err);
void sc_file_unmap(const uint8_t *data, size_t size);

/* Writes data to path atomically: a temporary file in the same directory,
 * then rename. SC_ERR_IO naming the path on failure. */
sc_status sc_file_write_atomic(const char *path, const void *data, size_t size,
                               struct sc_error *err);

/* Directory part of path ("." when none), malloc'ed. NULL on OOM. */
char *sc_path_dirname(const char *path);

/* base + "/" + rel, malloc'ed. NULL on OOM. */
char *sc_path_join(const char *base, const char *rel);

/* Resolves `rel` inside `dir` and checks that the result stays inside dir:
 * rejects absolute paths, ".." components and symlinks leading outside.
 * On success *resolved (malloc'ed) is the real path of the file. `what`
 * names the referring object in messages (SC_ERR_FORMAT). */
sc_status sc_path_confine(const char *dir, const char *rel, const char *what,
                          char **resolved, struct sc_error *err);

/* Creates a directory and its parents (mode 0777 & umask). SC_ERR_IO. */
sc_status sc_mkdir_p(const char *path, struct sc_error *err);

/* 1 if path names an existing directory / regular file. */
int sc_path_is_dir(const char *path);

/* 1 when `path` is `target` or lies inside the directory `target`, links
 * resolved; a path that does not exist yet is judged by its nearest
 * existing ancestor. 0 otherwise, or when either cannot be resolved. */
int sc_path_inside(const char *path, const char *target);
int sc_path_is_file(const char *path);

#endif
