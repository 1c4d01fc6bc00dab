#include "verifier/textbuf.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sc_textbuf_init(struct sc_textbuf *b)
{
  memset(b, 0, sizeof *b);
}

static int reserve(struct sc_textbuf *b, size_t more)
{
  size_t cap;
  char *grown;
  if (b->failed)
    return -1;
  if (b->len + more + 1 <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 1024;
  while (cap < b->len + more + 1)
    cap *= 2;
  grown = realloc(b->data, cap);
  if (!grown) {
    b->failed = 1;
    return -1;
  }
  b->data = grown;
  b->cap = cap;
  return 0;
}

static void append_n(struct sc_textbuf *b, const char *s, size_t n)
{
  if (reserve(b, n) != 0)
    return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sc_textbuf_append(struct sc_textbuf *b, const char *text)
{
  append_n(b, text, strlen(text));
}

void sc_textbuf_printf(struct sc_textbuf *b, const char *fmt, ...)
{
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || reserve(b, (size_t)n) != 0)
    return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void sc_textbuf_json_string(struct sc_textbuf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  append_n(b, "\"", 1);
  for (; *p; p++) {
    switch (*p) {
    case '"':
      append_n(b, "\\\"", 2);
      break;
    case '\\':
      append_n(b, "\\\\", 2);
      break;
    case '\n':
      append_n(b, "\\n", 2);
      break;
    case '\r':
      append_n(b, "\\r", 2);
      break;
    case '\t':
      append_n(b, "\\t", 2);
      break;
    default:
      if (*p < 0x20)
        sc_textbuf_printf(b, "\\u%04x", *p);
      else
        append_n(b, (const char *)p, 1);
    }
  }
  append_n(b, "\"", 1);
}

void sc_textbuf_json_number(struct sc_textbuf *b, double v)
{
  if (!isfinite(v))
    sc_textbuf_append(b, "null");
  else if (v == 0)
    sc_textbuf_append(b, "0"); /* no "-0" */
  else
    sc_textbuf_printf(b, "%.10g", v);
}

void sc_textbuf_xml(struct sc_textbuf *b, const char *s)
{
  const char *p;
  for (p = s ? s : ""; *p; p++) {
    switch (*p) {
    case '<':
      sc_textbuf_append(b, "&lt;");
      break;
    case '>':
      sc_textbuf_append(b, "&gt;");
      break;
    case '&':
      sc_textbuf_append(b, "&amp;");
      break;
    case '"':
      sc_textbuf_append(b, "&quot;");
      break;
    case '\'':
      sc_textbuf_append(b, "&#39;");
      break;
    default:
      if ((unsigned char)*p < 0x20 && *p != '\n' && *p != '\t')
        sc_textbuf_append(b, " "); /* not allowed in XML 1.0 */
      else
        append_n(b, p, 1);
    }
  }
}

void sc_textbuf_csv(struct sc_textbuf *b, const char *s)
{
  const char *p;
  if (!s)
    s = "";
  if (!strpbrk(s, ",\"\n\r")) {
    sc_textbuf_append(b, s);
    return;
  }
  append_n(b, "\"", 1);
  for (p = s; *p; p++) {
    if (*p == '"')
      append_n(b, "\"", 1);
    append_n(b, p, 1);
  }
  append_n(b, "\"", 1);
}

sc_status sc_textbuf_finish(struct sc_textbuf *b, char **text,
                            struct sc_error *err)
{
  *text = NULL;
  if (b->failed || reserve(b, 0) != 0) {
    free(b->data);
    memset(b, 0, sizeof *b);
    return sc_fail_nomem(err, "report text");
  }
  *text = b->data;
  memset(b, 0, sizeof *b);
  return SC_OK;
}
