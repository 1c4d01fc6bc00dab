/* report.html (verifier/report_html.c): reports built in code — a passing
 * and a failing pair, hostile names, NaN and infinite metrics, 0, 1 and
 * 2000 rows, pairs without isolated metrics — rendered and checked for a
 * well-formed tree, the key elements (verdict, one section per pair, the
 * SVG charts, the definitions), escaping, no external resource, a size
 * bound and byte-identical output. Chart coordinates are checked against
 * values computed by hand from the chart geometry (plot 86..944 x 36..226,
 * rows in equal bands, 1 - cosine on a log scale). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/assertions.h"
#include "verifier/report.h"

/* What a value that does not apply shows: an en dash. */
#define DASH "\xe2\x80\x93"

/* ---- building reports --------------------------------------------------- */

static char *dup_text(const char *s)
{
  char *copy = strdup(s);
  assert_non_null(copy);
  return copy;
}

static void *alloc_zero(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  assert_non_null(p);
  return p;
}

static struct sc_metrics metrics_with(double cosine, double sqnr_db)
{
  struct sc_metrics m;
  memset(&m, 0, sizeof m);
  m.n_elements = 128;
  m.cosine = cosine;
  m.max_abs = 0.25;
  m.mean_abs = 0.01;
  m.rmse = 0.02;
  m.sqnr_db = sqnr_db;
  m.rel_l2 = 0.03;
  m.max_rel = 0.5;
  m.exact_ratio = 0.1;
  return m;
}

/* A row k named `tensor` (target and reference), a Conv with accumulated
 * metrics only, passing. */
static void row_init(struct sc_row_result *row, int k, const char *tensor)
{
  char node[32];
  snprintf(node, sizeof node, "node_%d", k);
  row->row = k;
  row->tensor = dup_text(tensor);
  row->reference_tensor = dup_text(tensor);
  row->node = dup_text(node);
  row->op = dup_text("Conv");
  row->match = dup_text("name");
  row->rank = 4;
  row->dims[0] = 1;
  row->dims[1] = 8;
  row->dims[2] = 4;
  row->dims[3] = 4;
  row->status = SC_VERDICT_PASS;
  row->has_accumulated = 1;
  row->accumulated = metrics_with(0.99999, 40);
  row->worst_input = dup_text("cat.jpg");
  row->jump = NAN;
}

/* A pair with n_rows rows named t0, t1, ... (mode accumulated). */
static void pair_init(struct sc_pair_result *p, const char *reference,
                      const char *target, int n_rows)
{
  char name[32];
  int k;
  p->reference = dup_text(reference);
  p->target = dup_text(target);
  p->mode = dup_text("accumulated");
  p->status = SC_VERDICT_PASS;
  p->match_ratio = 1.0;
  p->n_rows = n_rows;
  p->rows = alloc_zero((size_t)n_rows, sizeof *p->rows);
  for (k = 0; k < n_rows; k++) {
    snprintf(name, sizeof name, "t%d", k);
    row_init(&p->rows[k], k, name);
  }
}

static struct sc_report *report_create(int n_pairs)
{
  struct sc_report *r = alloc_zero(1, sizeof *r);
  r->tool_version = dup_text("0.1.0");
  r->model_dir = dup_text("models/tiny");
  r->n_stages = 2;
  r->stages = alloc_zero(2, sizeof *r->stages);
  r->stages[0].name = dup_text("float");
  r->stages[0].kind = dup_text("onnx");
  r->stages[0].source = dup_text("float.onnx");
  r->stages[1].name = dup_text("quantized");
  r->stages[1].kind = dup_text("onnx");
  r->stages[1].source = dup_text("quantized.onnx");
  r->n_inputs = 1;
  r->inputs = alloc_zero(1, sizeof(char *));
  r->inputs[0] = dup_text("cat.jpg");
  r->n_pairs = n_pairs;
  r->pairs = alloc_zero((size_t)n_pairs, sizeof *r->pairs);
  return r;
}

static void set_bound(struct sc_thresholds *t, enum sc_metric_id id,
                      double bound)
{
  t->set |= 1u << id;
  t->bound[id] = bound;
}

static void set_ref(struct sc_row_ref *ref, const struct sc_row_result *row,
                    const char *metric, double value)
{
  ref->row = row->row;
  ref->tensor = dup_text(row->tensor);
  ref->node = dup_text(row->node);
  ref->metric = dup_text(metric);
  ref->value = value;
}

static char *render(const struct sc_report *r)
{
  struct sc_error err;
  char *html = NULL;
  memset(&err, 0, sizeof err);
  assert_int_equal(sc_report_html(r, &html, &err), SC_OK);
  assert_non_null(html);
  return html;
}

/* ---- checking the page ----------------------------------------------------
 */

static int count(const char *text, const char *pattern)
{
  int n = 0;
  size_t len = strlen(pattern);
  for (text = strstr(text, pattern); text; text = strstr(text + len, pattern))
    n++;
  return n;
}

/* Fails unless `pattern` occurs in `html`; shows a short haystack (a chart,
 * a row) in the message. */
static void assert_contains(const char *html, const char *pattern)
{
  if (!strstr(html, pattern))
    fail_msg("the page lacks: %s%s%s", pattern,
             strlen(html) < 6000 ? "\nin: " : "",
             strlen(html) < 6000 ? html : "");
}

static void assert_lacks(const char *html, const char *pattern)
{
  const char *at = strstr(html, pattern);
  if (at)
    fail_msg("the page has '%s' at offset %ld: %.60s", pattern,
             (long)(at - html), at);
}

/* The text between the first `start` and the next `end` after it (a copy,
 * caller frees). Fails when either is missing. */
static char *slice(const char *html, const char *start, const char *end)
{
  const char *a = strstr(html, start), *b;
  char *out;
  if (!a)
    fail_msg("the page lacks: %s", start);
  b = strstr(a, end);
  if (!b)
    fail_msg("the page lacks '%s' after '%s'", end, start);
  out = alloc_zero((size_t)(b - a) + 1, 1);
  memcpy(out, a, (size_t)(b - a));
  return out;
}

/* p points at '&': an entity is &name; or &#digits; within 10 bytes. */
static void check_entity(const char *html, const char *p)
{
  const char *q = p + 1;
  if (*q == '#')
    q++;
  while (isalnum((unsigned char)*q) && q - p < 10)
    q++;
  if (*q != ';' || q == p + 1)
    fail_msg("a raw '&' at offset %ld: %.40s", (long)(p - html), p);
}

static int is_void_element(const char *name, size_t len)
{
  static const char *const names[] = {"meta", "input", "br", "hr",
                                      "img",  "link",  "wbr"};
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
      return 1;
  return 0;
}

/* Parses one tag's attributes from q (after its name): name="value" pairs
 * with no '<' and only entities in values. Returns the byte after '>' and
 * sets *self_closing for "/>". */
static const char *parse_attributes(const char *html, const char *q,
                                    int *self_closing)
{
  *self_closing = 0;
  for (;;) {
    while (*q == ' ' || *q == '\n')
      q++;
    if (*q == '>')
      return q + 1;
    if (q[0] == '/' && q[1] == '>') {
      *self_closing = 1;
      return q + 2;
    }
    if (!isalpha((unsigned char)*q))
      fail_msg("a bad attribute at offset %ld: %.40s", (long)(q - html), q);
    while (isalnum((unsigned char)*q) || *q == '-' || *q == ':' || *q == '_')
      q++;
    if (*q != '=')
      continue;
    if (q[1] != '"')
      fail_msg("an unquoted attribute at offset %ld", (long)(q - html));
    for (q += 2; *q != '"'; q++) {
      if (*q == '\0' || *q == '<')
        fail_msg("an unterminated attribute at offset %ld", (long)(q - html));
      if (*q == '&')
        check_entity(html, q);
    }
    q++;
  }
}

/* The page is one well-formed tree: a doctype, every element closed in
 * order (void HTML elements and "/>" SVG elements excepted), quoted
 * attributes, no raw '<' or '&' in text, nothing after </html>. */
static void assert_well_formed(const char *html)
{
  char stack[64][16];
  int depth = 0, self_closing;
  const char *p = html;
  if (strncmp(html, "<!DOCTYPE html>\n", 16) != 0)
    fail_msg("the page does not start with <!DOCTYPE html>");
  p += 16;
  while (*p) {
    const char *name;
    size_t len;
    int closing;
    if (*p == '&')
      check_entity(html, p);
    if (*p != '<') {
      p++;
      continue;
    }
    closing = p[1] == '/';
    name = p + 1 + closing;
    for (len = 0; isalnum((unsigned char)name[len]); len++)
      ;
    if (len == 0 || len >= sizeof stack[0])
      fail_msg("a raw '<' at offset %ld: %.40s", (long)(p - html), p);
    p = parse_attributes(html, name + len, &self_closing);
    if (closing) {
      if (depth == 0 || strlen(stack[depth - 1]) != len ||
          strncmp(stack[depth - 1], name, len) != 0)
        fail_msg("</%.*s> at offset %ld closes <%s>", (int)len, name,
                 (long)(name - html), depth ? stack[depth - 1] : "nothing");
      depth--;
      if (depth == 0) {
        assert_string_equal(p, "\n"); /* </html> ends the page */
        return;
      }
    } else if (!self_closing && !is_void_element(name, len)) {
      if (depth == 64)
        fail_msg("elements nested too deep at offset %ld", (long)(p - html));
      memcpy(stack[depth], name, len);
      stack[depth++][len] = '\0';
      if (len == 5 && strncmp(name, "style", 5) == 0) {
        const char *end = strstr(p, "</style>");
        assert_non_null(end);
        if (memchr(p, '<', (size_t)(end - p)))
          fail_msg("a '<' inside <style>");
        p = end;
      }
    }
  }
  fail_msg("the page ends inside <%s>", depth ? stack[depth - 1] : "?");
}

/* Every byte sequence is valid UTF-8 (names are cut only between
 * characters). */
static void assert_utf8(const char *html)
{
  const unsigned char *p = (const unsigned char *)html;
  while (*p) {
    int n = *p < 0x80             ? 0
            : (*p & 0xE0) == 0xC0 ? 1
            : (*p & 0xF0) == 0xE0 ? 2
            : (*p & 0xF8) == 0xF0 ? 3
                                  : -1;
    int i;
    if (n < 0)
      fail_msg("invalid UTF-8 at offset %ld",
               (long)(p - (const unsigned char *)html));
    for (i = 1; i <= n; i++)
      if ((p[i] & 0xC0) != 0x80)
        fail_msg("a UTF-8 character cut at offset %ld",
                 (long)(p - (const unsigned char *)html));
    p += n + 1;
  }
}

/* Geometry attributes and path data hold finite numbers only (no "nan",
 * "inf" from a non-finite metric). */
static void assert_finite_geometry(const char *html)
{
  static const char *const attributes[] = {" d=\"",  " x=\"",     " y=\"",
                                           " x1=\"", " y1=\"",    " x2=\"",
                                           " y2=\"", " width=\"", " height=\""};
  size_t i;
  for (i = 0; i < sizeof attributes / sizeof attributes[0]; i++) {
    const char *p;
    for (p = strstr(html, attributes[i]); p; p = strstr(p + 1, attributes[i])) {
      const char *v = p + strlen(attributes[i]);
      for (; *v != '"'; v++)
        if (!strchr("0123456789.,-MLHVhlz ", *v))
          fail_msg("geometry %s...: '%c' at offset %ld: %.50s", attributes[i],
                   *v, (long)(v - html), p);
    }
  }
}

/* ---- the reports under test ------------------------------------------------
 */

/* Pair 0 passes (float -> optimized, isolated metrics, every row exact);
 * pair 1 fails at row 2 with per-channel errors (optimized -> quantized). */
static struct sc_report *pass_and_fail_report(void)
{
  struct sc_report *r = report_create(2);
  struct sc_pair_result *p = &r->pairs[0], *q = &r->pairs[1];
  int k, c;
  pair_init(p, "float", "optimized", 4);
  free(p->mode);
  p->mode = dup_text("both");
  set_bound(&p->thresholds, SC_METRIC_COSINE, 0.99999);
  for (k = 0; k < 4; k++) {
    p->rows[k].accumulated = metrics_with(1.0, INFINITY);
    p->rows[k].has_isolated = 1;
    p->rows[k].isolated = metrics_with(1.0, INFINITY);
  }
  pair_init(q, "optimized", "quantized", 5);
  free(q->mode);
  q->mode = dup_text("both");
  q->status = SC_VERDICT_FAIL;
  q->match_ratio = 0.8;
  set_bound(&q->thresholds, SC_METRIC_COSINE, 0.99);
  set_bound(&q->thresholds, SC_METRIC_SQNR_DB, 20);
  for (k = 0; k < 5; k++) {
    struct sc_row_result *row = &q->rows[k];
    row->accumulated = metrics_with(k < 2 ? 0.999 : 0.95, k < 2 ? 30 : 12);
    row->has_isolated = 1;
    row->isolated = metrics_with(k == 2 ? 0.96 : 0.9995, k == 2 ? 13 : 33);
    row->status = k < 2 ? SC_VERDICT_PASS : SC_VERDICT_FAIL;
  }
  q->rows[2].n_worst_channels = 3;
  for (c = 0; c < 3; c++) {
    q->rows[2].worst_channels[c].channel = 5 - c;
    q->rows[2].worst_channels[c].cosine = 0.9 + 0.02 * c;
    q->rows[2].worst_channels[c].max_abs = 1.0 / (1 + c);
    q->rows[2].worst_channels[c].sqnr_db = 10 + c;
  }
  q->has_first_divergence = 1;
  set_ref(&q->first_divergence, &q->rows[2], "cosine", 0.95);
  q->n_top_isolated = 1;
  q->top_isolated = alloc_zero(1, sizeof *q->top_isolated);
  set_ref(&q->top_isolated[0], &q->rows[2], "cosine", 0.96);
  q->n_unmatched_target = 1;
  q->unmatched_target = alloc_zero(1, sizeof(char *));
  q->unmatched_target[0] = dup_text("orphan_tensor");
  r->status = SC_VERDICT_FAIL;
  return r;
}

/* ---- tests
 * ------------------------------------------------------------------- */

static void test_html_shows_verdict_pairs_charts_and_definitions(void **state)
{
  struct sc_report *r = pass_and_fail_report();
  char *html = render(r), *defs, *fail_pair;
  static const char *const metrics[] = {
      "cosine",      "max_abs",    "mean_abs",  "rmse",
      "sqnr_db",     "rel_l2",     "max_rel",   "max_abs_lsb",
      "exact_ratio", "saturation", "top1_agree"};
  size_t i;
  (void)state;
  assert_well_formed(html);
  assert_int_equal(count(html, "id=\"verdict\""), 1);
  assert_contains(html, "<div id=\"verdict\" class=\"fail\">");
  assert_int_equal(count(html, "<section class=\"pair\""), 2);
  assert_contains(html, "<section class=\"pair\" id=\"pair-0\" "
                        "data-reference=\"float\" data-target=\"optimized\">");
  assert_contains(html, "<section class=\"pair\" id=\"pair-1\" "
                        "data-reference=\"optimized\" "
                        "data-target=\"quantized\">");
  assert_int_equal(count(html, "<svg class=\"chart cosine\""), 2);
  assert_int_equal(count(html, "<svg class=\"chart sqnr\""), 2);
  /* pair 0 is exact everywhere: nothing to rank; pair 1 ranks 5 rows */
  assert_int_equal(count(html, "<svg class=\"chart ranked\""), 1);
  assert_int_equal(count(html, "<svg class=\"chart channels\""), 1);
  assert_int_equal(count(html, "<svg"), count(html, "</svg>"));
  assert_contains(html, "No row loses precision");

  fail_pair = slice(html, "id=\"pair-1\"", "</section>");
  /* the first divergence names the row, the metric and the bound */
  assert_contains(fail_pair, "<b>First divergence:</b> row <a "
                             "href=\"#p1-r2\">2</a>, <code class=\"name\">t2"
                             "</code> (node <code>node_2</code>): accumulated "
                             "<code>cosine</code> 0.950000 breaches &ge; 0.99");
  assert_contains(fail_pair, "<tr id=\"p1-r2\" class=\"fail\">");
  assert_contains(fail_pair, "<tr id=\"p1-r1\" class=\"pass\">");
  assert_int_equal(count(fail_pair, "<tr id=\"p1-r"), 5);
  assert_contains(fail_pair, "Layers ranked by isolated loss");
  /* the worst isolated row (row 2, cosine 0.96) is the first, red bar */
  assert_contains(fail_pair, "<g><title>row 2: t2 (Conv), cosine 0.960000");
  assert_contains(fail_pair, "<rect class=\"bar fail\"");
  /* the layers' bound 1 - 0.99 = 1e-2 on the ranked scale 1e-5..1e-1
   * (bars 380..760): x = 380 + 3/4 * 380 = 665, over the 5 bars */
  assert_contains(fail_pair, "<path class=\"thr\" d=\"M665.0,26.0V140.0\"/>");
  /* per-channel bars of row 2: channels 5, 4, 3 (1 - cosine 0.1, 0.08,
   * 0.06); the bound on the scale 1e-3..1e-1 (166..30): y = 166 - 68 */
  assert_contains(fail_pair, ">ch 5</text>");
  assert_contains(fail_pair, ">ch 3</text>");
  assert_contains(fail_pair, "<path class=\"thr\" d=\"M56.0,98.0H450.0\"/>");
  assert_contains(fail_pair, "<li>orphan_tensor</li>");
  assert_contains(fail_pair, "<code>cosine</code> &ge; 0.99, "
                             "<code>sqnr_db</code> &ge; 20");
  assert_contains(fail_pair, "80.0% of the target");
  free(fail_pair);

  defs = slice(html, "<section id=\"definitions\">", "</section>");
  for (i = 0; i < sizeof metrics / sizeof metrics[0]; i++) {
    char dt[64];
    snprintf(dt, sizeof dt, "<dt><code>%s</code></dt>", metrics[i]);
    assert_contains(defs, dt);
  }
  assert_contains(defs, "<dt>accumulated</dt>");
  assert_contains(defs, "<dt>isolated</dt>");
  assert_contains(defs, "10&#183;log10(&#931;r&#178; / &#931;d&#178;)");
  free(defs);
  free(html);
  sc_report_free(r);
}

static void test_html_escapes_hostile_names(void **state)
{
  static const char hostile[] = "<script>alert(\"x\")</script>&'\"";
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, long_name[200];
  int i;
  (void)state;
  free(r->model_dir);
  r->model_dir = dup_text(hostile);
  free(r->stages[0].name);
  r->stages[0].name = dup_text(hostile);
  r->stages[0].note = dup_text(hostile);
  free(r->inputs[0]);
  r->inputs[0] = dup_text(hostile);
  pair_init(p, hostile, "a&b \"q\"", 3);
  p->note = dup_text(hostile);
  free(p->rows[1].tensor);
  p->rows[1].tensor = dup_text(hostile);
  p->rows[1].note = dup_text(hostile);
  free(p->rows[1].worst_input);
  p->rows[1].worst_input = dup_text(hostile);
  /* a long name of 3-byte characters: chart labels cut it */
  long_name[0] = '\0';
  for (i = 0; i < 60; i++)
    strcat(long_name, "\xe5\xb1\x82");
  free(p->rows[2].tensor);
  p->rows[2].tensor = dup_text(long_name);
  p->rows[2].accumulated = metrics_with(0.9, 10);
  p->n_unmatched_reference = 1;
  p->unmatched_reference = alloc_zero(1, sizeof(char *));
  p->unmatched_reference[0] = dup_text(hostile);
  html = render(r);
  assert_well_formed(html);
  assert_utf8(html);
  assert_lacks(html, "<script");
  assert_lacks(html, "alert(\"");
  assert_contains(html, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
                        "&amp;&#39;&quot;");
  assert_contains(html, "data-target=\"a&amp;b &quot;q&quot;\"");
  /* the ranked chart labels the long name with its tail after an ellipsis */
  assert_contains(html, "2 &#183; &#8230;\xe5\xb1\x82");
  free(html);
  sc_report_free(r);
}

static void test_html_has_no_external_resources(void **state)
{
  struct sc_report *r = pass_and_fail_report();
  char *html = render(r);
  const char *p;
  (void)state;
  assert_lacks(html, "http:");
  assert_lacks(html, "https:");
  assert_lacks(html, "src=");
  assert_lacks(html, "url(");
  assert_lacks(html, "@import");
  assert_lacks(html, "<link");
  assert_lacks(html, "<script");
  assert_lacks(html, "<iframe");
  assert_lacks(html, "<object");
  for (p = strstr(html, "href=\""); p; p = strstr(p + 1, "href=\""))
    if (p[6] != '#')
      fail_msg("a link out of the page: %.60s", p);
  free(html);
  sc_report_free(r);
}

static void test_html_draws_nonfinite_metrics_as_marks(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, *row1, *row2, *row3;
  (void)state;
  pair_init(p, "float", "quantized", 4);
  p->status = SC_VERDICT_FAIL;
  p->match_ratio = NAN;
  set_bound(&p->thresholds, SC_METRIC_SQNR_DB, 20);
  p->rows[1].accumulated = metrics_with(NAN, NAN);
  p->rows[1].accumulated.max_abs = NAN;
  p->rows[1].accumulated.nan_tgt = 3;
  p->rows[1].status = SC_VERDICT_FAIL;
  p->rows[2].accumulated = metrics_with(1.0, INFINITY);
  p->rows[3].accumulated = metrics_with(0.0, -INFINITY);
  p->rows[3].accumulated.max_abs = INFINITY;
  html = render(r);
  assert_well_formed(html);
  assert_finite_geometry(html);
  row1 = slice(html, "<tr id=\"p0-r1\"", "</tr>");
  row2 = slice(html, "<tr id=\"p0-r2\"", "</tr>");
  row3 = slice(html, "<tr id=\"p0-r3\"", "</tr>");
  /* NaN cosine and max_abs: dashes; the count is reported */
  assert_contains(row1, "<td>" DASH "</td><td>" DASH "</td><td>" DASH "</td>");
  assert_contains(row1, "non-finite: NaN 0 ref / 3 target");
  assert_contains(row2, "<td>1</td><td>0.25</td><td>&infin;</td>");
  assert_contains(row3, "<td>0.000000</td><td>&infin;</td><td>&#8722;&infin;"
                        "</td>");
  /* exact rows are drawn in the top band with a marker */
  assert_contains(html, ">&infin; (exact)</text>");
  assert_contains(html, ">exactly 1</text>");
  assert_contains(html, "<path class=\"cap acc\"");
  assert_contains(html, "<td class=\"n\">" DASH "</td><td>"); /* match */
  free(row1);
  free(row2);
  free(row3);
  free(html);
  sc_report_free(r);
}

/* Two rows with cosine 0.99 and 0.999 (1 - cosine = 1e-2 and 1e-3): the
 * axis covers decades 1e-4..1e-1 (three at least), so by hand
 * y = 226 - (u + 1) / -3 * 190 for u = log10(1 - cosine): 162.7 and 99.3,
 * and x = 86 + (i + 0.5) * 858 / 2: 300.5 and 729.5. */
static void test_html_cosine_chart_separates_decades(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, *chart;
  (void)state;
  pair_init(p, "float", "quantized", 2);
  p->rows[0].accumulated = metrics_with(0.99, 20);
  p->rows[1].accumulated = metrics_with(0.999, 30);
  html = render(r);
  chart = slice(html, "<svg class=\"chart cosine\"", "</svg>");
  assert_contains(chart, "<path class=\"line acc\" "
                         "d=\"M300.5,162.7L729.5,99.3\"/>");
  assert_contains(chart, ">0.99</text>");
  assert_contains(chart, ">0.999</text>");
  assert_contains(chart, ">0.9999</text>");
  assert_contains(chart, ">0.9</text>");
  assert_lacks(chart, "class=\"line iso\""); /* no isolated metrics */
  assert_lacks(chart, "class=\"thr\"");      /* no cosine threshold */
  free(chart);
  free(html);
  sc_report_free(r);
}

/* Float rounding noise only (1 - cosine = 1e-14, 2e-14: below the 1e-12
 * floor, no cosine exactly 1): the axis is 1e-12..1e-9 and both points sit
 * at its good end, y = 36 (the plot's top). */
static void test_html_cosine_chart_floors_rounding_noise(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, *chart;
  (void)state;
  pair_init(p, "float", "optimized", 2);
  p->rows[0].accumulated = metrics_with(1 - 1e-14, 140);
  p->rows[1].accumulated = metrics_with(1 - 2e-14, 137);
  html = render(r);
  assert_finite_geometry(html);
  chart = slice(html, "<svg class=\"chart cosine\"", "</svg>");
  assert_contains(chart, "<path class=\"line acc\" "
                         "d=\"M300.5,36.0L729.5,36.0\"/>");
  assert_contains(chart, ">1&#8722;1e-12</text>");
  assert_contains(chart, ">1&#8722;1e-9</text>");
  assert_lacks(chart, ">1&#8722;1e-8</text>");
  free(chart);
  free(html);
  sc_report_free(r);
}

/* Layers bound cosine >= 0.99 (1e-2), the input's 0.9999 (1e-4), the
 * outputs' 0.995: three segments; over rows 0..3 in bands of 214.5, the
 * axis 1e-5..1e-1: y = 226 - (u + 1) / -4 * 190. */
static void test_html_threshold_lines_follow_row_bounds(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, *chart;
  (void)state;
  pair_init(p, "float", "quantized", 4);
  p->rows[0].is_input = 1;
  p->rows[3].is_output = 1;
  p->rows[0].accumulated = metrics_with(0.99999, 40);
  p->rows[1].accumulated = metrics_with(0.999, 30);
  p->rows[2].accumulated = metrics_with(0.98, 10);
  p->rows[3].accumulated = metrics_with(0.97, 10);
  set_bound(&p->thresholds, SC_METRIC_COSINE, 0.99);
  set_bound(&p->input_thresholds, SC_METRIC_COSINE, 0.9999);
  set_bound(&p->output_thresholds, SC_METRIC_COSINE, 0.995);
  html = render(r);
  chart = slice(html, "<svg class=\"chart cosine\"", "</svg>");
  /* 1e-4 -> 226 - 3/4*190 = 83.5; 1e-2 -> 226 - 1/4*190 = 178.5;
   * 5e-3 -> 226 - 1.30103/4*190 = 164.2 */
  assert_contains(chart, "<path class=\"thr\" d=\"M86.0,83.5H300.5"
                         "M300.5,178.5H729.5M729.5,164.2H944.0\"/>");
  assert_contains(chart, "threshold: layers cosine &#8805; 0.99");
  free(chart);
  chart = slice(html, "<svg class=\"chart sqnr\"", "</svg>");
  assert_lacks(chart, "class=\"thr\""); /* no SQNR bound */
  free(chart);
  free(html);
  sc_report_free(r);
}

static void test_html_handles_zero_and_one_row(void **state)
{
  struct sc_report *r = report_create(2);
  char *html, *empty, *one;
  (void)state;
  pair_init(&r->pairs[0], "float", "optimized", 0);
  pair_init(&r->pairs[1], "optimized", "quantized", 1);
  r->pairs[1].rows[0].accumulated = metrics_with(0.999, 30);
  html = render(r);
  assert_well_formed(html);
  empty = slice(html, "id=\"pair-0\"", "</section>");
  assert_contains(empty, "No rows: nothing to chart.");
  assert_lacks(empty, "<svg");
  assert_contains(empty, "<h3>Rows (0)</h3>");
  one = slice(html, "id=\"pair-1\"", "</section>");
  assert_int_equal(count(one, "<svg class=\"chart "), 3); /* no channels */
  /* one row: the line is a lone point, drawn as a dot in the middle */
  assert_contains(one, "<path class=\"line acc\" d=\"M515.0,");
  assert_contains(one, "<path class=\"dots acc\" d=\"M515.0,");
  assert_int_equal(count(one, "<tr id=\"p1-r"), 1);
  free(empty);
  free(one);
  free(html);
  sc_report_free(r);
}

static void test_html_without_isolated_metrics_ranks_accumulated(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html;
  (void)state;
  pair_init(p, "quantized", "compiled", 3);
  p->note = dup_text("the target is a dump: accumulated mode only");
  p->rows[1].accumulated = metrics_with(0.98, 15);
  p->rows[1].isolated_note = dup_text("no executable segment");
  html = render(r);
  assert_well_formed(html);
  assert_lacks(html, "class=\"line iso\"");
  assert_lacks(html, ">isolated</text>"); /* not in the legends */
  assert_contains(html, "(no isolated metrics)");
  assert_contains(html, "Layers ranked by accumulated loss");
  assert_contains(html, "the target is a dump: accumulated mode only");
  assert_contains(html, "isolated: no executable segment");
  /* the worst row first: t1, cosine 0.98 */
  assert_contains(html, "<g><title>row 1: t1 (Conv), cosine 0.980000");
  free(html);
  sc_report_free(r);
}

static void test_html_2000_rows_stay_small_and_deterministic(void **state)
{
  struct sc_report *r = report_create(1);
  struct sc_pair_result *p = &r->pairs[0];
  char *html, *again, *path;
  char name[64];
  int k;
  (void)state;
  pair_init(p, "float", "quantized", 2000);
  set_bound(&p->thresholds, SC_METRIC_COSINE, 0.99);
  for (k = 0; k < 2000; k++) {
    struct sc_row_result *row = &p->rows[k];
    snprintf(name, sizeof name, "/backbone/stage%d/block%d/conv/Conv_output_0",
             k / 100, k % 100);
    free(row->tensor);
    free(row->reference_tensor);
    row->tensor = dup_text(name);
    row->reference_tensor = dup_text(name);
    row->accumulated = metrics_with(1 - 1e-5 * (1 + k % 97), 40 - k % 13);
    row->has_isolated = 1;
    row->isolated = metrics_with(1 - 1e-6 * (1 + k % 89), 50 - k % 11);
  }
  html = render(r);
  again = render(r);
  assert_well_formed(html);
  assert_string_equal(html, again);
  /* 2000 rows with 42-byte names: ~350 bytes a row, charts included */
  if (strlen(html) > 2000 * 400)
    fail_msg("2000 rows make %zu bytes of HTML, more than 400 a row",
             strlen(html));
  assert_int_equal(count(html, "<tr id=\"p0-r"), 2000);
  /* each series is one path of 2000 points, no dots for that many rows */
  path = slice(html, "<path class=\"line acc dense\" d=\"", "\"/>");
  assert_int_equal(count(path, "L"), 1999);
  free(path);
  assert_lacks(html, "class=\"dots");
  free(again);
  free(html);
  sc_report_free(r);
}

static void test_html_report_without_pairs(void **state)
{
  struct sc_report *r = report_create(0);
  char *html;
  (void)state;
  html = render(r);
  assert_well_formed(html);
  assert_contains(html, "<div id=\"verdict\" class=\"pass\">");
  assert_contains(html, "No pair of stages was compared.");
  assert_lacks(html, "<section class=\"pair\"");
  assert_contains(html, "<section id=\"definitions\">");
  free(html);
  sc_report_free(r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_html_shows_verdict_pairs_charts_and_definitions),
      cmocka_unit_test(test_html_escapes_hostile_names),
      cmocka_unit_test(test_html_has_no_external_resources),
      cmocka_unit_test(test_html_draws_nonfinite_metrics_as_marks),
      cmocka_unit_test(test_html_cosine_chart_separates_decades),
      cmocka_unit_test(test_html_cosine_chart_floors_rounding_noise),
      cmocka_unit_test(test_html_threshold_lines_follow_row_bounds),
      cmocka_unit_test(test_html_handles_zero_and_one_row),
      cmocka_unit_test(test_html_without_isolated_metrics_ranks_accumulated),
      cmocka_unit_test(test_html_2000_rows_stay_small_and_deterministic),
      cmocka_unit_test(test_html_report_without_pairs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
