/* Status codes and error detail shared by every stagecheck library.
 *
 * Every fallible function returns an sc_status. The reason is recorded at
 * the point of detection with sc_fail(), naming the file, node or tensor;
 * callers that add context (the file being read, say) use sc_error_prefix().
 * Only verifier/ maps a status to an exit code (sc_status_exit_code). */
#ifndef SC_RUNTIME_ERROR_H
#define SC_RUNTIME_ERROR_H

#include <stddef.h>

enum sc_status_code {
  SC_OK = 0,
  SC_ERR_USAGE,  /* bad command-line use: exit 2 */
  SC_ERR_CONFIG, /* invalid configuration, parameter or stage file: exit 2 */
  SC_ERR_FORMAT, /* unreadable or malformed input: exit 3 */
  SC_ERR_UNSUPPORTED, /* operator, attribute or dtype not implemented: exit 4 */
  SC_ERR_NOMEM,       /* out of memory: exit 5 */
  SC_ERR_IO,          /* cannot write output (disk full, permissions): exit 5 */
  SC_ERR_INTERNAL     /* a bug: exit 5 */
};
typedef enum sc_status_code sc_status;

#define SC_ERROR_MESSAGE_SIZE 2048

struct sc_error {
  sc_status status;
  char message[SC_ERROR_MESSAGE_SIZE];
};

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so that `return sc_fail(err, ...)` reads naturally. */
sc_status sc_fail(struct sc_error *err, sc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends a printf-style prefix to the message already in err. */
void sc_error_prefix(struct sc_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sc_error_clear(struct sc_error *err);

/* Short name of a status ("malformed input", ...). */
const char *sc_status_name(sc_status status);

/* The documented exit code of a failure status (spec/cli.md). */
int sc_status_exit_code(sc_status status);

/* Shorthand for allocation failures: records "out of memory (what)". */
sc_status sc_fail_nomem(struct sc_error *err, const char *what);

#endif
