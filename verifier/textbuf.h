/* A growable text buffer for the report writers (in the spirit of curl's
 * dynbuf). An allocation failure sticks: later appends are no-ops and
 * sc_textbuf_finish reports it, so writers check once at the end. */
#ifndef SC_VERIFIER_TEXTBUF_H
#define SC_VERIFIER_TEXTBUF_H

#include <stddef.h>

#include "runtime/error.h"

struct sc_textbuf {
  char *data;
  size_t len, cap;
  int failed;
};

void sc_textbuf_init(struct sc_textbuf *b);
void sc_textbuf_append(struct sc_textbuf *b, const char *text);
void sc_textbuf_printf(struct sc_textbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal with escapes ("...", control characters \uXXXX). */
void sc_textbuf_json_string(struct sc_textbuf *b, const char *s);
/* A JSON number: %.10g, or null when not finite. */
void sc_textbuf_json_number(struct sc_textbuf *b, double v);
/* Text with <, >, &, " and ' escaped for HTML/XML. */
void sc_textbuf_xml(struct sc_textbuf *b, const char *s);
/* A CSV field, quoted when it holds a comma, quote or newline. */
void sc_textbuf_csv(struct sc_textbuf *b, const char *s);

/* Hands the text over (*text, caller frees) or fails with SC_ERR_NOMEM. */
sc_status sc_textbuf_finish(struct sc_textbuf *b, char **text,
                            struct sc_error *err);

#endif
