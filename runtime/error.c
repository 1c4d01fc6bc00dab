#include "runtime/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

sc_status sc_fail(struct sc_error *err, sc_status status, const char *fmt, ...)
{
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->status = status;
  }
  return status;
}

void sc_error_prefix(struct sc_error *err, const char *fmt, ...)
{
  char joined[SC_ERROR_MESSAGE_SIZE];
  size_t used, rest;
  va_list ap;
  int n;

  if (!err)
    return;
  va_start(ap, fmt);
  n = vsnprintf(joined, sizeof joined, fmt, ap);
  va_end(ap);
  used = n < 0 ? 0 : (size_t)n;
  if (used >= sizeof joined)
    used = sizeof joined - 1;
  rest = strlen(err->message);
  if (rest > sizeof joined - 1 - used)
    rest = sizeof joined - 1 - used;
  memcpy(joined + used, err->message, rest);
  joined[used + rest] = '\0';
  memcpy(err->message, joined, used + rest + 1);
}

void sc_error_clear(struct sc_error *err)
{
  if (err) {
    err->status = SC_OK;
    err->message[0] = '\0';
  }
}

const char *sc_status_name(sc_status status)
{
  switch (status) {
  case SC_OK:
    return "ok";
  case SC_ERR_USAGE:
    return "usage error";
  case SC_ERR_CONFIG:
    return "configuration error";
  case SC_ERR_FORMAT:
    return "malformed input";
  case SC_ERR_UNSUPPORTED:
    return "unsupported";
  case SC_ERR_NOMEM:
    return "out of memory";
  case SC_ERR_IO:
    return "i/o error";
  case SC_ERR_INTERNAL:
    return "internal error";
  }
  return "unknown status";
}

int sc_status_exit_code(sc_status status)
{
  switch (status) {
  case SC_OK:
    return 0;
  case SC_ERR_USAGE:
  case SC_ERR_CONFIG:
    return 2;
  case SC_ERR_FORMAT:
    return 3;
  case SC_ERR_UNSUPPORTED:
    return 4;
  case SC_ERR_NOMEM:
  case SC_ERR_IO:
  case SC_ERR_INTERNAL:
    return 5;
  }
  return 5;
}

sc_status sc_fail_nomem(struct sc_error *err, const char *what)
{
  return sc_fail(err, SC_ERR_NOMEM, "out of memory (%s)", what);
}
