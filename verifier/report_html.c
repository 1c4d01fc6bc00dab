/* report.html: one self-contained HTML5 file. Inline CSS and inline SVG
 * charts drawn here; no script, no font, image or style fetched from
 * anywhere. It shows the verdict, the stages and inputs, then one section
 * per pair: the localisation (first divergence, top isolated losses, top
 * jumps), the accumulated and isolated cosine and SQNR along the rows, the
 * layers ranked by loss, the worst layers' per-channel error, the full row
 * table and the unmatched tensors; the metric definitions close the page.
 *
 * Deterministic: the bytes depend only on the report (no clock, fixed
 * number formats). Every string taken from the report is escaped. Charts
 * stay small for thousands of rows: one path per series, coordinates with
 * one decimal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/report.h"
#include "verifier/textbuf.h"

#define RANKED_BARS 15     /* bars of the "layers ranked by loss" chart */
#define CHANNEL_LAYERS 4   /* layers whose per-channel error is drawn */
#define LABEL_BYTES 44     /* longest tensor name drawn inside a chart */
#define DOT_ROWS 80        /* up to this many rows every point gets a dot */
#define DENSE_ROWS 300     /* beyond this many rows lines get thin */
#define LOSS_FLOOR (-12.0) /* 1 - cosine below 1e-12 is drawn at 1e-12 */
#define OPEN_LIST 20       /* name lists longer than this start collapsed */

/* Line charts (cosine and SQNR along the rows), in SVG user units. */
#define LINE_W 960.0
#define LINE_H 270.0
#define PLOT_L 86.0
#define PLOT_R 944.0
#define PLOT_T 36.0
#define PLOT_B 226.0

#define DASH "\xe2\x80\x93" /* en dash: a value that does not apply */
#define TIMES "\xc3\x97"    /* multiplication sign between dims */

/* ---- numbers -------------------------------------------------------- */

/* v printed with fmt; a dash for NaN, an infinity sign for infinities,
 * never "-0". */
static void fmt_value(char *out, size_t size, double v, const char *fmt)
{
  if (isnan(v))
    snprintf(out, size, DASH);
  else if (isinf(v))
    snprintf(out, size, v > 0 ? "&infin;" : "&#8722;&infin;");
  else
    snprintf(out, size, fmt, v == 0 ? 0.0 : v);
}

/* Cosines near 1 get the digits that show how near: 0.99999998 is
 * "0.9999999800", not "1.000000"; exactly 1 is "1". */
static void fmt_cosine(char *out, size_t size, double c)
{
  int digits = 6;
  if (!isfinite(c) || c == 1) {
    fmt_value(out, size, c, "%g");
    return;
  }
  if (c > 0.999999 && c < 1) {
    digits = (int)ceil(-log10(1 - c)) + 2;
    if (digits > 15)
      digits = 15;
  }
  snprintf(out, size, "%.*f", digits, c);
}

/* LSB errors are whole steps in practice; other values keep 3 digits. */
static void fmt_lsb(char *out, size_t size, double v)
{
  fmt_value(out, size, v, v == floor(v) && fabs(v) < 1e9 ? "%.0f" : "%.3g");
}

static void put_cosine(struct sc_textbuf *b, double c)
{
  char text[48];
  fmt_cosine(text, sizeof text, c);
  sc_textbuf_append(b, text);
}

static void put_value(struct sc_textbuf *b, double v, const char *fmt)
{
  char text[48];
  fmt_value(text, sizeof text, v, fmt);
  sc_textbuf_append(b, text);
}

/* A metric for display: cosines as fmt_cosine, the rest with 4 digits. */
static void put_metric(struct sc_textbuf *b, const char *metric, double v)
{
  if (metric && strcmp(metric, "cosine") == 0)
    put_cosine(b, v);
  else
    put_value(b, v, "%.4g");
}

/* ---- report lookups ------------------------------------------------- */

/* The thresholds that apply to a row: the input's for the model input, the
 * outputs' for a model output, the layers' otherwise. */
static const struct sc_thresholds *
row_thresholds(const struct sc_pair_result *p, const struct sc_row_result *r)
{
  if (r->is_input)
    return &p->input_thresholds;
  if (r->is_output)
    return &p->output_thresholds;
  return &p->thresholds;
}

/* The bound on metric `id` that applies to a row, NAN when there is none. */
static double row_bound(const struct sc_pair_result *p,
                        const struct sc_row_result *r, enum sc_metric_id id)
{
  const struct sc_thresholds *t = row_thresholds(p, r);
  return t->set & (1u << id) ? t->bound[id] : NAN;
}

/* Index of the row whose number is `row`, or -1. */
static int row_index(const struct sc_pair_result *p, int row)
{
  int i;
  for (i = 0; i < p->n_rows; i++)
    if (p->rows[i].row == row)
      return i;
  return -1;
}

static int pair_has_isolated(const struct sc_pair_result *p)
{
  int i;
  for (i = 0; i < p->n_rows; i++)
    if (p->rows[i].has_isolated)
      return 1;
  return 0;
}

static int count_status(const struct sc_pair_result *p, enum sc_verdict v)
{
  int i, n = 0;
  for (i = 0; i < p->n_rows; i++)
    n += p->rows[i].status == v;
  return n;
}

/* 1 - cosine of a row's accumulated or isolated metrics; NAN when absent. */
static double row_loss(const struct sc_row_result *r, int isolated)
{
  if (isolated)
    return r->has_isolated ? 1.0 - r->isolated.cosine : NAN;
  return r->has_accumulated ? 1.0 - r->accumulated.cosine : NAN;
}

/* ---- text pieces ---------------------------------------------------- */

/* A name for a chart label: at most LABEL_BYTES bytes, keeping the tail
 * ("...layer3/conv/Conv_output_0"), cut on a UTF-8 character boundary;
 * written escaped. */
static void put_label(struct sc_textbuf *b, const char *name)
{
  const char *tail;
  size_t len;
  if (!name)
    name = "";
  len = strlen(name);
  if (len <= LABEL_BYTES) {
    sc_textbuf_xml(b, name);
    return;
  }
  tail = name + len - (LABEL_BYTES - 1);
  while (((unsigned char)*tail & 0xC0u) == 0x80u)
    tail++;
  sc_textbuf_append(b, "&#8230;");
  sc_textbuf_xml(b, tail);
}

static void put_thresholds(struct sc_textbuf *b, const struct sc_thresholds *t)
{
  int id, first = 1;
  for (id = 0; id < SC_N_METRICS; id++) {
    if (!(t->set & (1u << id)))
      continue;
    sc_textbuf_printf(b, "%s<code>%s</code> %s %.10g", first ? "" : ", ",
                      sc_metric_name((enum sc_metric_id)id),
                      sc_metric_is_lower_bound((enum sc_metric_id)id) ? "&ge;"
                                                                      : "&le;",
                      t->bound[id]);
    first = 0;
  }
  if (first)
    sc_textbuf_append(b, "<span class=\"dim\">none</span>");
}

static void put_badge(struct sc_textbuf *b, enum sc_verdict v)
{
  sc_textbuf_printf(b, "<span class=\"badge %s\">%s</span>", sc_verdict_name(v),
                    sc_verdict_name(v));
}

static void put_row_link(struct sc_textbuf *b, int pair, int row)
{
  sc_textbuf_printf(b, "<a href=\"#p%d-r%d\">%d</a>", pair, row, row);
}

/* ---- page head ------------------------------------------------------ */

/* The style sheet, in pieces (C limits a literal to 4095 bytes): the page
 * and its tables, then the charts. */
static const char STYLE_PAGE[] =
    ":root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--acc:#0969da;"
    "--iso:#e16f24;--dim:#59636e;--line:#d1d9e0}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:#f6f8fa;color:#1f2328;font:14px/1.45 "
    "system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,"
    "sans-serif}\n"
    "main{max-width:1240px;margin:0 auto;padding:16px 24px 40px}\n"
    "h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:0 0 10px}\n"
    "h3{font-size:15px;margin:20px 0 6px}\n"
    "header,section{background:#fff;border:1px solid var(--line);"
    "border-radius:6px;padding:14px 20px;margin:14px 0}\n"
    "a{color:var(--acc)}code{font-size:12.5px}\n"
    ".tag{font-size:11px;border:1px solid var(--line);border-radius:8px;"
    "padding:0 5px;color:var(--dim);white-space:nowrap}\n"
    ".dim{color:var(--dim)}.meta{color:var(--dim);margin:0 0 10px}\n"
    "#verdict{display:flex;gap:16px;align-items:baseline;color:#fff;"
    "border-radius:6px;padding:10px 18px;margin:10px 0;font-size:15px}\n"
    "#verdict b{font-size:26px;letter-spacing:.05em;text-transform:uppercase}\n"
    "#verdict.pass{background:var(--pass)}#verdict.warn{background:var(--warn)}"
    "#verdict.fail{background:var(--fail)}\n"
    ".badge{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;"
    "font-size:12px;font-weight:600;text-transform:uppercase;"
    "vertical-align:middle}\n"
    ".badge.pass{background:var(--pass)}.badge.warn{background:var(--warn)}"
    ".badge.fail{background:var(--fail)}\n"
    "table{border-collapse:collapse;font-size:12.5px}\n"
    "th,td{border-bottom:1px solid #e6eaef;padding:3px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#f6f8fa;font-weight:600;white-space:nowrap}\n"
    "td.n{text-align:right;white-space:nowrap;font-variant-numeric:"
    "tabular-nums}\n"
    ".name{word-break:break-all;min-width:10em;max-width:24em}\n"
    ".rows td:first-child,.rows td:nth-child(n+8):nth-child(-n+13)"
    "{text-align:right;white-space:nowrap;font-variant-numeric:"
    "tabular-nums}\n"
    ".rows td:nth-child(2),.rows td:nth-child(3){word-break:break-all;"
    "min-width:20em;max-width:28em}\n"
    ".rows td:nth-child(14){word-break:break-all;max-width:14em}"
    ".rows td:nth-child(15){min-width:18em;max-width:32em}\n"
    ".rows td:nth-child(7){font-weight:600}"
    "tr.pass td:nth-child(7){color:var(--pass)}"
    "tr.warn td:nth-child(7){color:var(--warn)}"
    "tr.fail td:nth-child(7){color:var(--fail)}\n"
    ".rows i{font-style:normal;color:var(--dim)}\n"
    "tr.fail td{background:#ffebe9}tr.warn td{background:#fff8c5}\n"
    ".rows th{position:sticky;top:0;z-index:1}\n"
    ".rows th.acc{border-top:3px solid var(--acc)}"
    ".rows th.iso{border-top:3px solid var(--iso)}\n"
    ".scroll{overflow:auto;max-height:85vh;border:1px solid var(--line);"
    "margin-top:6px}\n"
    ".only:checked~.scroll tr.pass{display:none}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;"
    "gap:2px 16px;margin:0 0 8px}\n"
    "dl.facts dt{color:var(--dim)}dl.facts dd{margin:0}\n"
    ".callout{border-left:4px solid var(--fail);background:#fff5f5;"
    "padding:6px 12px;margin:8px 0}\n"
    ".callout.ok{border-color:var(--pass);background:#f3fbf5}\n"
    ".cols{display:flex;flex-wrap:wrap;gap:8px 32px}\n"
    ".cols>div{flex:1 1 420px;min-width:0}\n";

static const char STYLE_CHARTS[] =
    "figure{margin:4px 0 10px}figcaption{color:var(--dim);font-size:12.5px}\n"
    ".chart{display:block;width:100%;height:auto}\n"
    ".small{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(440px,1fr));gap:8px 20px}\n"
    "svg text{font-family:system-ui,sans-serif;font-size:11px;"
    "fill:#1f2328}\n"
    "svg .axis{fill:var(--dim)}svg .title{font-size:12px;font-weight:600}\n"
    ".frame{fill:none;stroke:var(--line)}.grid{stroke:#eef1f4}\n"
    ".line{fill:none;stroke-width:1.6;stroke-linejoin:round}\n"
    ".dots{fill:none;stroke-width:5;stroke-linecap:round}\n"
    ".cap{fill:#fff;stroke-width:1.4}\n"
    ".acc{stroke:var(--acc)}.iso{stroke:var(--iso)}"
    ".line.acc{stroke-width:2.6}.line.iso{stroke-width:1.4}"
    ".line.dense{stroke-width:1}\n"
    ".thr{fill:none;stroke:var(--fail);stroke-width:1.3;"
    "stroke-dasharray:6 4}\n"
    ".div{stroke:#6e7781;stroke-width:1.2;stroke-dasharray:3 3}\n"
    ".bar.pass{fill:#4ac26b}.bar.warn{fill:#d4a72c}.bar.fail{fill:#e5534b}"
    ".bar.none{fill:#8c959f}\n"
    "ul.names{columns:2 320px;margin:4px 0;padding-left:20px;"
    "word-break:break-all;font-size:12.5px}\n"
    "#definitions dt{font-weight:600;margin-top:6px}"
    "#definitions dd{margin-left:20px}\n"
    "@media print{body{background:#fff}.scroll{max-height:none;"
    "overflow:visible}.only,.only+label{display:none}}\n";

static void page_head(struct sc_textbuf *b, const struct sc_report *r)
{
  sc_textbuf_append(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                       "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
                       "content=\"width=device-width, initial-scale=1\">\n"
                       "<meta name=\"generator\" content=\"stagecheck ");
  sc_textbuf_xml(b, r->tool_version);
  sc_textbuf_printf(b, "\">\n<title>stagecheck: %s &#8211; ",
                    sc_verdict_name(r->status));
  sc_textbuf_xml(b, r->model_dir);
  sc_textbuf_append(b, "</title>\n<style>\n");
  sc_textbuf_append(b, STYLE_PAGE);
  sc_textbuf_append(b, STYLE_CHARTS);
  sc_textbuf_append(b, "</style>\n</head>\n<body>\n<main>\n");
}

/* ---- summary, stages, inputs ----------------------------------------- */

static void first_divergence_cell(struct sc_textbuf *b,
                                  const struct sc_pair_result *p, int pi)
{
  if (!p->has_first_divergence) {
    sc_textbuf_append(b, "<span class=\"dim\">none</span>");
    return;
  }
  sc_textbuf_append(b, "row ");
  put_row_link(b, pi, p->first_divergence.row);
  sc_textbuf_append(b, " <span class=\"name\">");
  sc_textbuf_xml(b, p->first_divergence.tensor);
  sc_textbuf_append(b, "</span>");
}

static void summary(struct sc_textbuf *b, const struct sc_report *r)
{
  int i, n[3] = {0, 0, 0};
  for (i = 0; i < r->n_pairs; i++)
    if ((unsigned)r->pairs[i].status < 3)
      n[r->pairs[i].status]++;
  sc_textbuf_append(b, "<header>\n<h1>stagecheck report</h1>\n"
                       "<p class=\"meta\">model directory <code>");
  sc_textbuf_xml(b, r->model_dir);
  sc_textbuf_append(b, "</code> &middot; stagecheck ");
  sc_textbuf_xml(b, r->tool_version);
  sc_textbuf_append(b, " &middot; <a href=\"#definitions\">metric "
                       "definitions</a></p>\n");
  sc_textbuf_printf(b,
                    "<div id=\"verdict\" class=\"%s\"><b>%s</b>"
                    "<span>%d pair%s: %d failed, %d warned, %d passed"
                    "</span></div>\n",
                    sc_verdict_name(r->status), sc_verdict_name(r->status),
                    r->n_pairs, r->n_pairs == 1 ? "" : "s", n[SC_VERDICT_FAIL],
                    n[SC_VERDICT_WARN], n[SC_VERDICT_PASS]);
  if (r->n_pairs == 0) {
    sc_textbuf_append(b, "<p>No pair of stages was compared.</p>\n"
                         "</header>\n");
    return;
  }
  sc_textbuf_append(b, "<table class=\"pairs\"><thead><tr><th>pair</th>"
                       "<th>verdict</th><th>rows</th><th>failing</th>"
                       "<th>matched</th><th>first divergence</th></tr>"
                       "</thead><tbody>\n");
  for (i = 0; i < r->n_pairs; i++) {
    const struct sc_pair_result *p = &r->pairs[i];
    sc_textbuf_printf(b, "<tr><td><a href=\"#pair-%d\">", i);
    sc_textbuf_xml(b, p->reference);
    sc_textbuf_append(b, " &rarr; ");
    sc_textbuf_xml(b, p->target);
    sc_textbuf_append(b, "</a></td><td>");
    put_badge(b, p->status);
    sc_textbuf_printf(b,
                      "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                      "<td class=\"n\">",
                      p->n_rows, count_status(p, SC_VERDICT_FAIL));
    put_value(b, 100.0 * p->match_ratio, "%.1f%%");
    sc_textbuf_append(b, "</td><td>");
    first_divergence_cell(b, p, i);
    sc_textbuf_append(b, "</td></tr>\n");
  }
  sc_textbuf_append(b, "</tbody></table>\n</header>\n");
}

static void stages_and_inputs(struct sc_textbuf *b, const struct sc_report *r)
{
  int i;
  sc_textbuf_append(b, "<section id=\"stages\">\n<div class=\"cols\"><div>\n"
                       "<h2>Stages</h2>\n<table><thead><tr><th>stage</th>"
                       "<th>kind</th><th>source</th><th>note</th></tr>"
                       "</thead><tbody>\n");
  for (i = 0; i < r->n_stages; i++) {
    const struct sc_stage_result *s = &r->stages[i];
    sc_textbuf_append(b, "<tr><td>");
    sc_textbuf_xml(b, s->name);
    sc_textbuf_append(b, "</td><td>");
    sc_textbuf_xml(b, s->kind);
    sc_textbuf_append(b, "</td><td class=\"name\"><code>");
    sc_textbuf_xml(b, s->source);
    sc_textbuf_append(b, "</code></td><td>");
    sc_textbuf_xml(b, s->note);
    sc_textbuf_append(b, "</td></tr>\n");
  }
  sc_textbuf_append(b, "</tbody></table>\n</div><div id=\"inputs\">\n"
                       "<h2>Inputs</h2>\n");
  sc_textbuf_printf(b,
                    "<details%s><summary>%d input%s</summary>\n<ul "
                    "class=\"names\">\n",
                    r->n_inputs <= OPEN_LIST ? " open" : "", r->n_inputs,
                    r->n_inputs == 1 ? "" : "s");
  for (i = 0; i < r->n_inputs; i++) {
    sc_textbuf_append(b, "<li>");
    sc_textbuf_xml(b, r->inputs[i]);
    sc_textbuf_append(b, "</li>\n");
  }
  sc_textbuf_append(b, "</ul></details>\n</div></div>\n</section>\n");
}

/* ---- SVG primitives --------------------------------------------------- */

static void svg_open(struct sc_textbuf *b, double w, double h, const char *kind,
                     const char *label)
{
  sc_textbuf_printf(b,
                    "<svg class=\"chart %s\" width=\"%.0f\" height=\"%.0f\" "
                    "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">"
                    "\n",
                    kind, w, h, w, h, label);
}

static void svg_text(struct sc_textbuf *b, double x, double y,
                     const char *anchor, const char *cls, const char *text)
{
  sc_textbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
  if (anchor)
    sc_textbuf_printf(b, " text-anchor=\"%s\"", anchor);
  if (cls)
    sc_textbuf_printf(b, " class=\"%s\"", cls);
  sc_textbuf_printf(b, ">%s</text>\n", text);
}

static void svg_hline(struct sc_textbuf *b, double x0, double x1, double y,
                      const char *cls)
{
  sc_textbuf_printf(b,
                    "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\"/>\n",
                    cls, x0, y, x1, y);
}

/* Characters a text shows: an entity ("&infin;") is one. */
static double visible_length(const char *text)
{
  double n = 0;
  for (; *text; text++, n++)
    if (*text == '&' && strchr(text, ';'))
      text = strchr(text, ';');
  return n;
}

/* Legend entries, left to right from *x at height y. `kind` is 'l' for a
 * line, 'd' for a dashed threshold, 'm' for a hollow marker. */
static void legend_item(struct sc_textbuf *b, double *x, double y, char kind,
                        const char *cls, const char *label)
{
  if (kind == 'm')
    sc_textbuf_printf(b,
                      "<path class=\"key cap %s\" d=\"M%.1f,%.1fl4,7h-8z\"/>\n",
                      cls, *x + 9, y - 8);
  else
    sc_textbuf_printf(b, "<path class=\"key %s %s\" d=\"M%.1f,%.1fh18\"/>\n",
                      kind == 'd' ? "thr" : "line", cls, *x, y - 4);
  svg_text(b, *x + 23, y, NULL, NULL, label);
  *x += 23 + 6.2 * visible_length(label) + 18;
}

/* The decade of log10(x), forgiving the rounding of 1 - cosine in double:
 * 1 - 0.99999 is 9.99999999995e-06, and belongs to the decade of 1e-5. */
static double decade_floor(double u)
{
  return floor(u + 1e-9);
}

static double decade_ceil(double u)
{
  return ceil(u - 1e-9);
}

/* A "nice" tick step (1, 2 or 5 times a power of ten) near span / n. */
static double nice_step(double span, int n)
{
  double raw = span / n, p = pow(10, floor(log10(raw)));
  if (raw <= p)
    return p;
  if (raw <= 2 * p)
    return 2 * p;
  if (raw <= 5 * p)
    return 5 * p;
  return 10 * p;
}

/* ---- line charts along the rows --------------------------------------- */

enum chart_kind { CHART_COSINE, CHART_SQNR };
enum point_kind { POINT_GAP, POINT_VALUE, POINT_CAP_GOOD, POINT_CAP_BAD };

/* The y axis of a line chart, in axis units: log10(1 - cosine) with the
 * good end (cosine 1) at the top, or dB. Values at the good extreme (cosine
 * exactly 1, SQNR +inf) are drawn in a band at the top, `cap`. */
struct y_axis {
  enum chart_kind kind;
  double lo, hi; /* axis units covered; lo is the good end for cosine */
  double cap;    /* axis units of the top band (the good extreme) */
  int has_cap;
};

/* A metric in axis units; *kind says whether it is a gap (NAN), an
 * extreme value drawn capped, or an ordinary value. */
static double axis_units(enum chart_kind chart, double v, enum point_kind *kind)
{
  *kind = POINT_VALUE;
  if (isnan(v)) {
    *kind = POINT_GAP;
    return NAN;
  }
  if (chart == CHART_COSINE) {
    double loss = 1.0 - v;
    if (!(loss > 0)) {
      *kind = POINT_CAP_GOOD;
      return NAN;
    }
    return log10(loss);
  }
  if (isinf(v)) {
    *kind = v > 0 ? POINT_CAP_GOOD : POINT_CAP_BAD;
    return NAN;
  }
  return v;
}

static double row_metric(const struct sc_row_result *r, int isolated,
                         enum chart_kind chart)
{
  const struct sc_metrics *m;
  if (isolated ? !r->has_isolated : !r->has_accumulated)
    return NAN;
  m = isolated ? &r->isolated : &r->accumulated;
  return chart == CHART_COSINE ? m->cosine : m->sqnr_db;
}

static enum sc_metric_id chart_metric(enum chart_kind chart)
{
  return chart == CHART_COSINE ? SC_METRIC_COSINE : SC_METRIC_SQNR_DB;
}

/* Extends [*lo, *hi] by the ordinary values and bounds of a pair's rows;
 * sets *extreme when a value sits at the good extreme. */
static void data_range(const struct sc_pair_result *p, enum chart_kind chart,
                       double *lo, double *hi, int *extreme)
{
  int i, iso;
  for (i = 0; i < p->n_rows; i++) {
    const struct sc_row_result *r = &p->rows[i];
    for (iso = 0; iso < 3; iso++) { /* accumulated, isolated, bound */
      enum point_kind kind;
      double v = iso < 2 ? row_metric(r, iso, chart)
                         : row_bound(p, r, chart_metric(chart));
      double u = axis_units(chart, v, &kind);
      if (kind == POINT_VALUE) {
        *lo = fmin(*lo, u);
        *hi = fmax(*hi, u);
      } else if (kind == POINT_CAP_GOOD && iso < 2) {
        *extreme = 1;
      }
    }
  }
}

/* Fits the axis to the data: whole decades of 1 - cosine (at least three,
 * none below 1e-12, none above 1 - cosine = 2), or dB in round tens from
 * 0 or below. The top band holds the extreme values. */
static void axis_fit(struct y_axis *ax, const struct sc_pair_result *p,
                     enum chart_kind chart)
{
  double lo = INFINITY, hi = -INFINITY;
  int extreme = 0;
  memset(ax, 0, sizeof *ax);
  ax->kind = chart;
  data_range(p, chart, &lo, &hi, &extreme);
  if (chart == CHART_COSINE) {
    /* lo is the good end (small loss), hi the bad end */
    if (!(lo <= hi)) {
      lo = -6;
      hi = -3;
    }
    lo = fmax(decade_floor(lo), LOSS_FLOOR);
    hi = fmin(decade_ceil(hi), log10(2.0));
    if (hi < lo) /* every value below the floor */
      hi = lo;
    if (hi < 0 && hi - lo < 3) /* one decade of room on the bad side */
      hi = fmin(hi + 1, 0);
    if (hi - lo < 3) /* the rest on the good side, above the floor */
      lo = hi - 3;
    if (lo < LOSS_FLOOR) {
      lo = LOSS_FLOOR;
      hi = lo + 3;
    }
    ax->lo = lo;
    ax->hi = hi;
    ax->cap = lo - 1;
  } else {
    double top, step;
    if (!(lo <= hi)) {
      lo = 0;
      hi = 40;
    }
    lo = fmax(fmin(0, floor(lo / 10) * 10), -200);
    top = fmin(ceil(hi / 10) * 10, 400);
    if (top < lo + 20)
      top = lo + 20;
    step = nice_step(top - lo, 6);
    ax->lo = lo;
    ax->hi = top;
    ax->cap = top + step;
  }
  ax->has_cap = extreme;
}

/* y of a value in axis units, clamped into the plot (cap band included). */
static double axis_y(const struct y_axis *ax, double u)
{
  double good, bad, t;
  if (ax->kind == CHART_COSINE) {
    good = ax->has_cap ? ax->cap : ax->lo;
    bad = ax->hi;
  } else {
    good = ax->has_cap ? ax->cap : ax->hi;
    bad = ax->lo;
  }
  t = (u - bad) / (good - bad); /* 0 at the bottom, 1 at the top */
  if (!(t >= 0))
    t = 0;
  if (t > 1)
    t = 1;
  return PLOT_B - t * (PLOT_B - PLOT_T);
}

/* y of a point: ordinary values on the scale, extremes at the top band or
 * the bottom edge. */
static double point_y(const struct y_axis *ax, enum point_kind kind, double u)
{
  if (kind == POINT_CAP_GOOD)
    return PLOT_T;
  if (kind == POINT_CAP_BAD)
    return PLOT_B;
  return axis_y(ax, u);
}

static double row_x(int i, int n)
{
  return PLOT_L + (i + 0.5) * (PLOT_R - PLOT_L) / n;
}

/* The tick label of decade k of 1 - cosine, as a cosine: 0.999 for -3,
 * "1-1e-7" beyond six nines (too many to count at a glance). */
static void cosine_tick_label(char *out, size_t size, int k)
{
  if (k >= 0) {
    snprintf(out, size, "%s", k == 0 ? "0" : "&#8722;1");
  } else if (k >= -6) {
    snprintf(out, size, "0.%.*s", -k, "999999");
  } else {
    snprintf(out, size, "1&#8722;1e%d", k);
  }
}

static void y_ticks(struct sc_textbuf *b, const struct y_axis *ax)
{
  char label[48];
  double u, y;
  if (ax->kind == CHART_COSINE) {
    int k, n = (int)(floor(ax->hi) - ceil(ax->lo)) + 1;
    int every = n > 8 ? 2 : 1;
    for (k = (int)ceil(ax->lo); k <= (int)floor(ax->hi); k++) {
      y = axis_y(ax, k);
      svg_hline(b, PLOT_L, PLOT_R, y, "grid");
      if ((k - (int)ceil(ax->lo)) % every != 0)
        continue;
      cosine_tick_label(label, sizeof label, k);
      svg_text(b, PLOT_L - 6, y + 4, "end", "axis", label);
    }
    if (ax->has_cap)
      svg_text(b, PLOT_L - 6, axis_y(ax, ax->cap) + 4, "end", "axis",
               "exactly 1");
  } else {
    double step = nice_step(ax->hi - ax->lo, 6);
    for (u = ax->lo; u <= ax->hi + 1e-9; u += step) {
      y = axis_y(ax, u);
      svg_hline(b, PLOT_L, PLOT_R, y, "grid");
      fmt_value(label, sizeof label, u, "%.0f");
      svg_text(b, PLOT_L - 6, y + 4, "end", "axis", label);
    }
    if (ax->has_cap)
      svg_text(b, PLOT_L - 6, axis_y(ax, ax->cap) + 4, "end", "axis",
               "&infin; (exact)");
  }
}

static void x_ticks(struct sc_textbuf *b, const struct sc_pair_result *p)
{
  char label[32];
  int i, step = (int)nice_step(p->n_rows > 1 ? p->n_rows : 1, 10);
  if (step < 1)
    step = 1;
  for (i = 0; i < p->n_rows; i += step) {
    double x = row_x(i, p->n_rows);
    sc_textbuf_printf(b,
                      "<line class=\"frame\" x1=\"%.1f\" y1=\"%.1f\" "
                      "x2=\"%.1f\" y2=\"%.1f\"/>\n",
                      x, PLOT_B, x, PLOT_B + 4);
    snprintf(label, sizeof label, "%d", p->rows[i].row);
    svg_text(b, x, PLOT_B + 16, "middle", "axis", label);
  }
  svg_text(b, (PLOT_L + PLOT_R) / 2, LINE_H - 6, "middle", "axis",
           "row (target graph order)");
}

/* One series as a path (gaps where the metric is absent) and, where rows
 * are few or a point stands alone, a dot at each point or a hollow
 * triangle at an extreme. */
static void series(struct sc_textbuf *b, const struct sc_pair_result *p,
                   const struct y_axis *ax, int isolated, const char *cls)
{
  int i, pen = 0, open = 0, n = p->n_rows;
  struct sc_textbuf dots, caps;
  sc_textbuf_init(&dots);
  sc_textbuf_init(&caps);
  for (i = 0; i < n; i++) {
    enum point_kind kind, prev = POINT_GAP, next = POINT_GAP;
    double u = axis_units(ax->kind, row_metric(&p->rows[i], isolated, ax->kind),
                          &kind);
    double x = row_x(i, n), y;
    if (kind == POINT_GAP) {
      pen = 0;
      continue;
    }
    y = point_y(ax, kind, u);
    if (!open) {
      sc_textbuf_printf(b, "<path class=\"line %s%s\" d=\"", cls,
                        n > DENSE_ROWS ? " dense" : "");
      open = 1;
    }
    sc_textbuf_printf(b, "%c%.1f,%.1f", pen ? 'L' : 'M', x, y);
    pen = 1;
    if (i > 0)
      axis_units(ax->kind, row_metric(&p->rows[i - 1], isolated, ax->kind),
                 &prev);
    if (i + 1 < n)
      axis_units(ax->kind, row_metric(&p->rows[i + 1], isolated, ax->kind),
                 &next);
    if (n > DOT_ROWS && (prev != POINT_GAP || next != POINT_GAP))
      continue; /* many rows: the line alone, markers would pile up */
    if (kind == POINT_CAP_GOOD || kind == POINT_CAP_BAD)
      sc_textbuf_printf(&caps, "M%.1f,%.1fl4,7h-8z", x,
                        kind == POINT_CAP_GOOD ? y - 3 : y - 6);
    else
      sc_textbuf_printf(&dots, "M%.1f,%.1fh0", x, y);
  }
  if (open)
    sc_textbuf_append(b, "\"/>\n");
  if (dots.len)
    sc_textbuf_printf(b, "<path class=\"dots %s\" d=\"%s\"/>\n", cls,
                      dots.data);
  if (caps.len)
    sc_textbuf_printf(b, "<path class=\"cap %s\" d=\"%s\"/>\n", cls, caps.data);
  if (dots.failed || caps.failed)
    b->failed = 1;
  free(dots.data);
  free(caps.data);
}

/* The bound that applies to each row, as horizontal segments (input and
 * output rows may have bounds of their own). */
static void threshold_path(struct sc_textbuf *b, const struct sc_pair_result *p,
                           const struct y_axis *ax)
{
  int i, start = -1, any = 0, n = p->n_rows;
  double bound = NAN, w = (PLOT_R - PLOT_L) / (n ? n : 1);
  enum sc_metric_id id = chart_metric(ax->kind);
  for (i = 0; i <= n; i++) {
    double v = i < n ? row_bound(p, &p->rows[i], id) : NAN;
    if (start >= 0 && !(v == bound)) {
      enum point_kind kind;
      double u = axis_units(ax->kind, bound, &kind);
      if (!any)
        sc_textbuf_append(b, "<path class=\"thr\" d=\"");
      any = 1;
      sc_textbuf_printf(b, "M%.1f,%.1fH%.1f", PLOT_L + start * w,
                        point_y(ax, kind, u), PLOT_L + i * w);
      start = -1;
    }
    if (i < n && !isnan(v) && start < 0) {
      start = i;
      bound = v;
    }
  }
  if (any)
    sc_textbuf_append(b, "\"/>\n");
}

/* The legend of the threshold line: it names the layers' bound. */
static void threshold_legend(char *out, size_t size,
                             const struct sc_pair_result *p,
                             enum sc_metric_id id)
{
  if (p->thresholds.set & (1u << id))
    snprintf(out, size, "threshold: layers %s &#8805; %.10g",
             sc_metric_name(id), p->thresholds.bound[id]);
  else
    snprintf(out, size, "threshold");
}

static void divergence_marker(struct sc_textbuf *b,
                              const struct sc_pair_result *p)
{
  char label[64];
  int k = p->has_first_divergence ? row_index(p, p->first_divergence.row) : -1;
  double x;
  if (k < 0)
    return;
  x = row_x(k, p->n_rows);
  sc_textbuf_printf(b,
                    "<line class=\"div\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                    "y2=\"%.1f\"/>\n",
                    x, PLOT_T, x, PLOT_B);
  snprintf(label, sizeof label, "first divergence: row %d",
           p->first_divergence.row);
  svg_text(b, x + (x > (PLOT_L + PLOT_R) / 2 ? -4 : 4), PLOT_T + 12,
           x > (PLOT_L + PLOT_R) / 2 ? "end" : "start", "axis", label);
}

/* A line chart of the accumulated and isolated metric along the rows. */
static void line_chart(struct sc_textbuf *b, const struct sc_pair_result *p,
                       enum chart_kind chart, int has_isolated)
{
  struct y_axis ax;
  double lx = PLOT_L;
  char label[96];
  int i, has_bound = 0, has_accumulated = 0;
  axis_fit(&ax, p, chart);
  for (i = 0; i < p->n_rows; i++) {
    has_bound |= !isnan(row_bound(p, &p->rows[i], chart_metric(chart)));
    has_accumulated |= p->rows[i].has_accumulated;
  }
  svg_open(b, LINE_W, LINE_H, chart == CHART_COSINE ? "cosine" : "sqnr",
           chart == CHART_COSINE ? "accumulated and isolated cosine per row"
                                 : "accumulated and isolated SQNR per row");
  y_ticks(b, &ax);
  sc_textbuf_printf(b,
                    "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" "
                    "width=\"%.1f\" height=\"%.1f\"/>\n",
                    PLOT_L, PLOT_T, PLOT_R - PLOT_L, PLOT_B - PLOT_T);
  sc_textbuf_printf(b,
                    "<text class=\"axis\" transform=\"translate(14 %.1f) "
                    "rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                    (PLOT_T + PLOT_B) / 2,
                    chart == CHART_COSINE ? "cosine (log of 1 &#8722; cosine)"
                                          : "SQNR (dB)");
  x_ticks(b, p);
  if (has_accumulated)
    legend_item(b, &lx, 20, 'l', "acc", "accumulated");
  if (has_isolated)
    legend_item(b, &lx, 20, 'l', "iso", "isolated");
  threshold_legend(label, sizeof label, p, chart_metric(chart));
  if (has_bound)
    legend_item(b, &lx, 20, 'd', "", label);
  if (ax.has_cap && p->n_rows <= DOT_ROWS)
    legend_item(b, &lx, 20, 'm', has_accumulated ? "acc" : "iso",
                chart == CHART_COSINE ? "cosine exactly 1"
                                      : "exact: SQNR = &infin;");
  threshold_path(b, p, &ax);
  divergence_marker(b, p);
  series(b, p, &ax, 0, "acc");
  if (has_isolated)
    series(b, p, &ax, 1, "iso");
  sc_textbuf_append(b, "</svg>\n");
}

/* ---- layers ranked by loss ------------------------------------------- */

struct ranked_row {
  int index;
  double loss;
};

/* The rows with the largest loss (1 - cosine > 0), worst first, ties in
 * row order; at most RANKED_BARS. Returns how many. */
static int rank_rows(const struct sc_pair_result *p, int isolated,
                     struct ranked_row *out)
{
  int i, k, j, n = 0;
  for (i = 0; i < p->n_rows; i++) {
    double loss = row_loss(&p->rows[i], isolated);
    if (!(loss > 0))
      continue;
    for (k = 0; k < n && out[k].loss >= loss; k++)
      ;
    if (k >= RANKED_BARS)
      continue;
    if (n < RANKED_BARS)
      n++;
    for (j = n - 1; j > k; j--)
      out[j] = out[j - 1];
    out[k].index = i;
    out[k].loss = loss;
  }
  return n;
}

/* A log scale of 1 - cosine in whole decades over [lo, hi]. */
static void loss_decades(const double *loss, int n, double *lo, double *hi)
{
  int i;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (i = 0; i < n; i++) {
    if (!(loss[i] > 0))
      continue;
    *lo = fmin(*lo, log10(loss[i]));
    *hi = fmax(*hi, log10(loss[i]));
  }
  if (!(*lo <= *hi)) {
    *lo = -6;
    *hi = -3;
  }
  *lo = fmax(decade_floor(*lo) - 1, LOSS_FLOOR);
  *hi = fmin(decade_ceil(*hi), log10(2.0));
  if (*hi - *lo < 2)
    *lo = *hi - 2;
}

static void loss_tick_label(char *out, size_t size, int k)
{
  if (k == 0)
    snprintf(out, size, "1");
  else
    snprintf(out, size, "1e%d", k);
}

#define RANK_X0 380.0 /* where bars start */
#define RANK_X1 760.0 /* the longest bar ends here */
#define RANK_ROW 22.0
#define RANK_TOP 30.0

/* The colour of a ranked bar: fail when the metrics it ranks breach the
 * row's thresholds, pass when they do not, none without thresholds. */
static const char *bar_class(const struct sc_pair_result *p,
                             const struct sc_row_result *r, int isolated)
{
  const struct sc_thresholds *t = row_thresholds(p, r);
  if (!t->set)
    return "none";
  return sc_verdict_name(
      sc_thresholds_check(t, isolated ? &r->isolated : &r->accumulated, NULL));
}

static void ranked_chart(struct sc_textbuf *b, const struct sc_pair_result *p,
                         int pi, const struct ranked_row *top, int n,
                         int isolated)
{
  double loss[RANKED_BARS + 1], lo, hi, h = RANK_TOP + n * RANK_ROW + 30;
  double bottom = RANK_TOP + n * RANK_ROW;
  double bound = p->thresholds.set & (1u << SC_METRIC_COSINE)
                     ? 1.0 - p->thresholds.bound[SC_METRIC_COSINE]
                     : NAN;
  char label[48];
  int i, k;
  for (i = 0; i < n; i++)
    loss[i] = top[i].loss;
  loss[n] = bound; /* the scale shows the layers' bound too */
  loss_decades(loss, n + 1, &lo, &hi);
  svg_open(b, LINE_W, h, "ranked", "layers ranked by loss");
  for (k = (int)ceil(lo); k <= (int)floor(hi); k++) {
    double x = RANK_X0 + (k - lo) / (hi - lo) * (RANK_X1 - RANK_X0);
    sc_textbuf_printf(b,
                      "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" "
                      "x2=\"%.1f\" y2=\"%.1f\"/>\n",
                      x, RANK_TOP - 4, x, bottom);
    loss_tick_label(label, sizeof label, k);
    svg_text(b, x, bottom + 14, "middle", "axis", label);
  }
  if (bound > 0) {
    double x = RANK_X0 + (log10(bound) - lo) / (hi - lo) * (RANK_X1 - RANK_X0);
    sc_textbuf_printf(b, "<path class=\"thr\" d=\"M%.1f,%.1fV%.1f\"/>\n", x,
                      RANK_TOP - 4, bottom);
  }
  svg_text(b, RANK_X0, 16, NULL, "title",
           isolated ? "1 &#8722; isolated cosine (log scale): precision lost "
                      "by the layer itself"
                    : "1 &#8722; accumulated cosine (log scale)");
  for (i = 0; i < n; i++) {
    const struct sc_row_result *r = &p->rows[top[i].index];
    double y = RANK_TOP + i * RANK_ROW;
    double w = (log10(top[i].loss) - lo) / (hi - lo) * (RANK_X1 - RANK_X0);
    sc_textbuf_printf(b, "<g><title>row %d: ", r->row);
    sc_textbuf_xml(b, r->tensor);
    if (r->is_input) {
      sc_textbuf_append(b, " (model input)");
    } else if (r->op && r->op[0]) {
      sc_textbuf_append(b, " (");
      sc_textbuf_xml(b, r->op);
      sc_textbuf_append(b, ")");
    }
    sc_textbuf_append(b, ", cosine ");
    put_cosine(b, 1.0 - top[i].loss);
    sc_textbuf_printf(b,
                      "</title>\n<a href=\"#p%d-r%d\"><text x=\"%.1f\" "
                      "y=\"%.1f\" text-anchor=\"end\">",
                      pi, r->row, RANK_X0 - 8, y + 14);
    sc_textbuf_printf(b, "%d &#183; ", r->row);
    put_label(b, r->tensor);
    sc_textbuf_printf(b,
                      "</text></a>\n<rect class=\"bar %s\" x=\"%.1f\" "
                      "y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
                      bar_class(p, r, isolated), RANK_X0, y + 3, w < 2 ? 2 : w,
                      RANK_ROW - 6);
    sc_textbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\">cosine ",
                      RANK_X0 + (w < 2 ? 2 : w) + 6, y + 14);
    put_cosine(b, 1.0 - top[i].loss);
    sc_textbuf_append(b, "</text></g>\n");
  }
  sc_textbuf_append(b, "</svg>\n");
}

/* ---- per-channel error of the worst layers ---------------------------- */

/* A loss for ranking: NAN (no metric) ranks below every value. */
static double rank_key(double loss)
{
  return isnan(loss) ? -1 : loss;
}

/* 1 when row a comes before row b among the layers whose channels are
 * drawn: the first divergence first (where the trouble starts), then the
 * larger isolated loss (where precision is lost), then the larger
 * accumulated loss. */
static int layer_before(const struct sc_pair_result *p,
                        const struct sc_row_result *a,
                        const struct sc_row_result *b)
{
  int fa = p->has_first_divergence && a->row == p->first_divergence.row;
  int fb = p->has_first_divergence && b->row == p->first_divergence.row;
  double ia = rank_key(row_loss(a, 1)), ib = rank_key(row_loss(b, 1));
  if (fa != fb)
    return fa;
  if (ia != ib)
    return ia > ib;
  return rank_key(row_loss(a, 0)) > rank_key(row_loss(b, 0));
}

/* Rows with per-channel errors in layer_before order, at most
 * CHANNEL_LAYERS, as indices into p->rows. Returns how many. */
static int worst_layers(const struct sc_pair_result *p, int *out)
{
  int i, k, j, n = 0;
  for (i = 0; i < p->n_rows; i++) {
    if (p->rows[i].n_worst_channels <= 0)
      continue;
    for (k = 0; k < n && !layer_before(p, &p->rows[i], &p->rows[out[k]]); k++)
      ;
    if (k >= CHANNEL_LAYERS)
      continue;
    if (n < CHANNEL_LAYERS)
      n++;
    for (j = n - 1; j > k; j--)
      out[j] = out[j - 1];
    out[k] = i;
  }
  return n;
}

#define CH_W 460.0
#define CH_H 226.0
#define CH_L 56.0
#define CH_R 450.0
#define CH_T 30.0
#define CH_B 166.0

static void channel_chart(struct sc_textbuf *b, const struct sc_pair_result *p,
                          const struct sc_row_result *r)
{
  double loss[SC_REPORT_WORST_CHANNELS + 1], lo, hi;
  double slot, bound = row_bound(p, r, SC_METRIC_COSINE);
  char label[64];
  int i, k, n = r->n_worst_channels, n_lossy = 0;
  if (n > SC_REPORT_WORST_CHANNELS)
    n = SC_REPORT_WORST_CHANNELS;
  for (i = 0; i < n; i++) {
    loss[i] = 1.0 - r->worst_channels[i].cosine;
    n_lossy += loss[i] > 0;
  }
  loss[n] = 1.0 - bound; /* the scale shows the row's bound too */
  loss_decades(loss, n + 1, &lo, &hi);
  slot = (CH_R - CH_L) / n;
  svg_open(b, CH_W, CH_H, "channels", "per-channel error");
  sc_textbuf_printf(b, "<text x=\"4\" y=\"16\" class=\"title\">row %d &#183; ",
                    r->row);
  put_label(b, r->tensor);
  sc_textbuf_append(b, "</text>\n");
  for (k = (int)ceil(lo); k <= (int)floor(hi); k++) {
    double y = CH_B - (k - lo) / (hi - lo) * (CH_B - CH_T);
    svg_hline(b, CH_L, CH_R, y, "grid");
    loss_tick_label(label, sizeof label, k);
    svg_text(b, CH_L - 6, y + 4, "end", "axis", label);
  }
  sc_textbuf_printf(b,
                    "<text class=\"axis\" transform=\"translate(12 %.1f) "
                    "rotate(-90)\" text-anchor=\"middle\">1 &#8722; cosine"
                    "</text>\n",
                    (CH_T + CH_B) / 2);
  if (n_lossy == 0) /* one element a channel, say: only max_abs differs */
    svg_text(b, (CH_L + CH_R) / 2, (CH_T + CH_B) / 2, "middle", "axis",
             "cosine 1 in every channel shown");
  for (i = 0; i < n; i++) {
    const struct sc_channel_error *c = &r->worst_channels[i];
    double x = CH_L + i * slot, h = 0;
    const char *cls = isnan(bound)        ? "none"
                      : c->cosine < bound ? "fail"
                                          : "pass";
    if (loss[i] > 0)
      h = (log10(loss[i]) - lo) / (hi - lo) * (CH_B - CH_T);
    if (h < 0)
      h = 0;
    sc_textbuf_printf(b, "<g><title>channel %lld: cosine ",
                      (long long)c->channel);
    put_cosine(b, c->cosine);
    sc_textbuf_append(b, ", max_abs ");
    put_value(b, c->max_abs, "%.4g");
    sc_textbuf_append(b, ", SQNR ");
    put_value(b, c->sqnr_db, "%.1f dB");
    sc_textbuf_printf(b,
                      "</title><rect class=\"bar %s\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\"/>\n",
                      cls, x + slot * 0.2, CH_B - h, slot * 0.6, h);
    snprintf(label, sizeof label, "ch %lld", (long long)c->channel);
    svg_text(b, x + slot / 2, CH_B + 14, "middle", NULL, label);
    sc_textbuf_printf(b,
                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                      "class=\"axis\">",
                      x + slot / 2, CH_B + 28);
    put_value(b, c->max_abs, "%.2g");
    sc_textbuf_append(b, "</text></g>\n");
  }
  svg_hline(b, CH_L, CH_R, CH_B, "frame");
  if (1.0 - bound > 0)
    sc_textbuf_printf(
        b, "<path class=\"thr\" d=\"M%.1f,%.1fH%.1f\"/>\n", CH_L,
        CH_B - (log10(1.0 - bound) - lo) / (hi - lo) * (CH_B - CH_T), CH_R);
  svg_text(b, CH_L, CH_H - 6, NULL, "axis",
           "channel (axis 1) with its max_abs; dashed: the cosine bound");
  sc_textbuf_append(b, "</svg>\n");
}

/* ---- localisation ----------------------------------------------------- */

static void divergence_callout(struct sc_textbuf *b,
                               const struct sc_pair_result *p, int pi)
{
  const struct sc_row_ref *f = &p->first_divergence;
  const struct sc_row_result *r;
  enum sc_metric_id id;
  int k;
  if (!p->has_first_divergence) {
    sc_textbuf_append(b, "<p class=\"callout ok\">No row breaches its "
                         "thresholds in accumulated mode.</p>\n");
    return;
  }
  sc_textbuf_append(b, "<p class=\"callout\"><b>First divergence:</b> row ");
  put_row_link(b, pi, f->row);
  sc_textbuf_append(b, ", <code class=\"name\">");
  sc_textbuf_xml(b, f->tensor);
  sc_textbuf_append(b, "</code>");
  k = row_index(p, f->row);
  r = k >= 0 ? &p->rows[k] : NULL;
  if (f->node && f->node[0]) {
    sc_textbuf_append(b, " (node <code>");
    sc_textbuf_xml(b, f->node);
    sc_textbuf_append(b, "</code>)");
  } else if (r && r->is_input) {
    sc_textbuf_append(b, " (model input)");
  }
  if (r && r->has_accumulated &&
      sc_thresholds_check(row_thresholds(p, r), &r->accumulated, &id) ==
          SC_VERDICT_FAIL) {
    sc_textbuf_printf(b, ": accumulated <code>%s</code> ", sc_metric_name(id));
    put_metric(b, sc_metric_name(id), sc_metric_value(&r->accumulated, id));
    sc_textbuf_printf(b, " breaches %s %.10g",
                      sc_metric_is_lower_bound(id) ? "&ge;" : "&le;",
                      row_thresholds(p, r)->bound[id]);
  }
  if (r && r->note) {
    sc_textbuf_append(b, " &#8212; ");
    sc_textbuf_xml(b, r->note);
  }
  sc_textbuf_append(b, ".</p>\n");
}

static void ref_table(struct sc_textbuf *b, const char *title,
                      const struct sc_row_ref *refs, int n, int pi,
                      const char *empty)
{
  int i;
  sc_textbuf_printf(b, "<div><h3>%s</h3>\n", title);
  if (n == 0) {
    sc_textbuf_printf(b, "<p class=\"dim\">%s</p></div>\n", empty);
    return;
  }
  sc_textbuf_append(b, "<table><thead><tr><th>row</th><th>tensor</th>"
                       "<th>node</th><th>metric</th><th>value</th></tr>"
                       "</thead><tbody>\n");
  for (i = 0; i < n; i++) {
    sc_textbuf_append(b, "<tr><td class=\"n\">");
    put_row_link(b, pi, refs[i].row);
    sc_textbuf_append(b, "</td><td class=\"name\">");
    sc_textbuf_xml(b, refs[i].tensor);
    sc_textbuf_append(b, "</td><td class=\"name\">");
    sc_textbuf_xml(b, refs[i].node);
    sc_textbuf_append(b, "</td><td>");
    sc_textbuf_xml(b, refs[i].metric);
    sc_textbuf_append(b, "</td><td class=\"n\">");
    put_metric(b, refs[i].metric, refs[i].value);
    sc_textbuf_append(b, "</td></tr>\n");
  }
  sc_textbuf_append(b, "</tbody></table></div>\n");
}

/* ---- the row table ---------------------------------------------------- */

/* Cells of the row table carry no class: the columns are styled by
 * position (STYLE_PAGE), which keeps a row of thousands short. */
static void num_cell(struct sc_textbuf *b, double v, const char *fmt)
{
  sc_textbuf_append(b, "<td>");
  put_value(b, v, fmt);
  sc_textbuf_append(b, "</td>");
}

static void cosine_cell(struct sc_textbuf *b, double c)
{
  sc_textbuf_append(b, "<td>");
  put_cosine(b, c);
  sc_textbuf_append(b, "</td>");
}

/* Starts the next note of a cell: "; " between notes. */
static void note_sep(struct sc_textbuf *b, int *first)
{
  if (!*first)
    sc_textbuf_append(b, "; ");
  *first = 0;
}

static void nonfinite_note(struct sc_textbuf *b, int *first,
                           const struct sc_metrics *m, const char *which)
{
  if (!(m->nan_ref || m->nan_tgt || m->inf_ref || m->inf_tgt))
    return;
  note_sep(b, first);
  sc_textbuf_printf(b,
                    "%snon-finite: NaN %lld ref / %lld target, inf %lld ref "
                    "/ %lld target",
                    which, (long long)m->nan_ref, (long long)m->nan_tgt,
                    (long long)m->inf_ref, (long long)m->inf_tgt);
}

static void notes_cell(struct sc_textbuf *b, const struct sc_row_result *r)
{
  int first = 1;
  sc_textbuf_append(b, "<td>");
  if (r->note) {
    note_sep(b, &first);
    sc_textbuf_xml(b, r->note);
  }
  if (r->isolated_note) {
    note_sep(b, &first);
    sc_textbuf_append(b, "isolated: ");
    sc_textbuf_xml(b, r->isolated_note);
  }
  if (r->has_accumulated) {
    nonfinite_note(b, &first, &r->accumulated, "");
    if (r->accumulated.has_top1) {
      note_sep(b, &first);
      put_value(b, 100.0 * r->accumulated.top1_agree, "top-1 agreement %.1f%%");
    }
    if (r->accumulated.has_lsb && r->accumulated.saturation > 0) {
      note_sep(b, &first);
      put_value(b, 100.0 * r->accumulated.saturation, "saturation %.2f%%");
    }
  }
  if (r->has_isolated)
    nonfinite_note(b, &first, &r->isolated, "isolated ");
  sc_textbuf_append(b, "</td>");
}

static void row_line(struct sc_textbuf *b, const struct sc_row_result *r,
                     int pi)
{
  const struct sc_metrics *a = &r->accumulated, *s = &r->isolated;
  int acc = r->has_accumulated, iso = r->has_isolated, i;
  char lsb[48];
  sc_textbuf_printf(b, "<tr id=\"p%d-r%d\" class=\"%s\"><td>%d</td><td>", pi,
                    r->row, sc_verdict_name(r->status), r->row);
  sc_textbuf_xml(b, r->tensor);
  if (r->is_output)
    sc_textbuf_append(b, " <span class=\"tag\">output</span>");
  sc_textbuf_append(b, "</td><td>");
  if (r->reference_tensor && r->tensor &&
      strcmp(r->reference_tensor, r->tensor) == 0)
    sc_textbuf_append(b, "<i>same</i>");
  else
    sc_textbuf_xml(b, r->reference_tensor);
  sc_textbuf_append(b, "</td><td>");
  if (r->is_input)
    sc_textbuf_append(b, "<i>input</i>");
  else
    sc_textbuf_xml(b, r->op);
  sc_textbuf_append(b, "</td><td>");
  for (i = 0; i < r->rank && i < 8; i++)
    sc_textbuf_printf(b, "%s%lld", i ? TIMES : "", (long long)r->dims[i]);
  sc_textbuf_append(b, "</td><td>");
  sc_textbuf_xml(b, r->match);
  sc_textbuf_printf(b, "</td><td>%s</td>", sc_verdict_name(r->status));
  cosine_cell(b, acc ? a->cosine : NAN);
  num_cell(b, acc ? a->max_abs : NAN, "%.3g");
  num_cell(b, acc ? a->sqnr_db : NAN, "%.1f");
  fmt_lsb(lsb, sizeof lsb, acc && a->has_lsb ? a->max_abs_lsb : NAN);
  sc_textbuf_printf(b, "<td>%s</td>", lsb);
  cosine_cell(b, iso ? s->cosine : NAN);
  num_cell(b, iso ? s->sqnr_db : NAN, "%.1f");
  sc_textbuf_append(b, "<td>");
  sc_textbuf_xml(b, r->worst_input);
  sc_textbuf_append(b, "</td>");
  notes_cell(b, r);
  sc_textbuf_append(b, "</tr>\n");
}

static void row_table(struct sc_textbuf *b, const struct sc_pair_result *p,
                      int pi)
{
  int i;
  sc_textbuf_printf(b,
                    "<h3>Rows (%d)</h3>\n<input type=\"checkbox\" "
                    "class=\"only\" id=\"p%d-only\"><label for=\"p%d-only\"> "
                    "show only rows that do not pass</label>\n"
                    "<div class=\"scroll\"><table class=\"rows\"><thead><tr>"
                    "<th>row</th><th>tensor</th><th>reference tensor</th>"
                    "<th>op</th><th>shape</th><th>match</th><th>status</th>"
                    "<th class=\"acc\">cosine</th><th class=\"acc\">max_abs"
                    "</th><th class=\"acc\">sqnr_db</th><th class=\"acc\">"
                    "max_abs_lsb</th><th class=\"iso\">isolated cosine</th>"
                    "<th class=\"iso\">isolated sqnr_db</th>"
                    "<th>worst input</th><th>notes</th></tr></thead><tbody>\n",
                    p->n_rows, pi, pi);
  for (i = 0; i < p->n_rows; i++)
    row_line(b, &p->rows[i], pi);
  sc_textbuf_append(b, "</tbody></table></div>\n");
}

static void name_list(struct sc_textbuf *b, const char *title,
                      char *const *names, int n)
{
  int i;
  sc_textbuf_printf(b,
                    "<details class=\"unmatched\"%s><summary>%s (%d)"
                    "</summary>\n<ul class=\"names\">\n",
                    n <= OPEN_LIST ? " open" : "", title, n);
  for (i = 0; i < n; i++) {
    sc_textbuf_append(b, "<li>");
    sc_textbuf_xml(b, names[i]);
    sc_textbuf_append(b, "</li>\n");
  }
  sc_textbuf_append(b, "</ul></details>\n");
}

/* ---- one pair --------------------------------------------------------- */

static void pair_facts(struct sc_textbuf *b, const struct sc_pair_result *p,
                       int has_isolated)
{
  sc_textbuf_append(b, "<dl class=\"facts\"><dt>mode</dt><dd>");
  sc_textbuf_xml(b, p->mode ? p->mode : "accumulated");
  if (!has_isolated)
    sc_textbuf_append(b, " <span class=\"dim\">(no isolated metrics)</span>");
  sc_textbuf_printf(b,
                    "</dd><dt>rows</dt><dd>%d: %d fail, %d warn, %d pass"
                    "</dd><dt>match ratio</dt><dd>",
                    p->n_rows, count_status(p, SC_VERDICT_FAIL),
                    count_status(p, SC_VERDICT_WARN),
                    count_status(p, SC_VERDICT_PASS));
  put_value(b, 100.0 * p->match_ratio, "%.1f%%");
  sc_textbuf_append(b, " of the target's tensors matched</dd>"
                       "<dt>thresholds</dt><dd>layers: ");
  put_thresholds(b, &p->thresholds);
  sc_textbuf_append(b, "; input: ");
  put_thresholds(b, &p->input_thresholds);
  sc_textbuf_append(b, "; outputs: ");
  put_thresholds(b, &p->output_thresholds);
  sc_textbuf_append(b, "</dd>");
  if (p->note) {
    sc_textbuf_append(b, "<dt>note</dt><dd>");
    sc_textbuf_xml(b, p->note);
    sc_textbuf_append(b, "</dd>");
  }
  sc_textbuf_append(b, "</dl>\n");
}

static void pair_charts(struct sc_textbuf *b, const struct sc_pair_result *p,
                        int pi, int has_isolated)
{
  struct ranked_row top[RANKED_BARS];
  int worst[CHANNEL_LAYERS];
  int i, n, isolated = 1;
  if (p->n_rows == 0) {
    sc_textbuf_append(b, "<p class=\"dim\">No rows: nothing to chart.</p>\n");
    return;
  }
  sc_textbuf_append(b, "<h3>Cosine along the rows</h3>\n<figure>\n");
  line_chart(b, p, CHART_COSINE, has_isolated);
  sc_textbuf_append(b, "<figcaption>Higher is better. The y axis is "
                       "logarithmic in 1 &#8722; cosine, so 0.99 and 0.999 "
                       "are a decade apart; a drop marks lost precision."
                       "</figcaption></figure>\n"
                       "<h3>SQNR along the rows</h3>\n<figure>\n");
  line_chart(b, p, CHART_SQNR, has_isolated);
  sc_textbuf_append(b, "<figcaption>Signal-to-quantization-noise ratio in dB; "
                       "rows with no difference at all (SQNR = &infin;) are "
                       "drawn in the top band.</figcaption></figure>\n");
  n = rank_rows(p, 1, top);
  if (n == 0) {
    isolated = 0;
    n = rank_rows(p, 0, top);
  }
  sc_textbuf_printf(b, "<h3>Layers ranked by %s loss</h3>\n",
                    isolated ? "isolated" : "accumulated");
  if (n == 0) {
    sc_textbuf_append(b, "<p class=\"dim\">No row loses precision: every "
                         "cosine is 1.</p>\n");
  } else {
    sc_textbuf_append(b, "<figure>\n");
    ranked_chart(b, p, pi, top, n, isolated);
    sc_textbuf_printf(b,
                      "<figcaption>The %d row%s with the largest %s; a red "
                      "bar breaches the row's threshold%s.</figcaption>"
                      "</figure>\n",
                      n, n == 1 ? "" : "s",
                      isolated ? " isolated loss (the layer re-run on the "
                                 "reference's inputs)"
                               : " accumulated loss",
                      p->thresholds.set & (1u << SC_METRIC_COSINE)
                          ? ", the dashed line is the layers' cosine bound"
                          : "");
  }
  n = worst_layers(p, worst);
  if (n > 0) {
    sc_textbuf_append(b, "<h3>Per-channel error of the worst layers</h3>\n"
                         "<div class=\"small\">\n");
    for (i = 0; i < n; i++)
      channel_chart(b, p, &p->rows[worst[i]]);
    sc_textbuf_append(b, "</div>\n");
  }
}

static void pair_section(struct sc_textbuf *b, const struct sc_pair_result *p,
                         int pi)
{
  int has_isolated = pair_has_isolated(p);
  sc_textbuf_printf(b,
                    "<section class=\"pair\" id=\"pair-%d\" "
                    "data-reference=\"",
                    pi);
  sc_textbuf_xml(b, p->reference);
  sc_textbuf_append(b, "\" data-target=\"");
  sc_textbuf_xml(b, p->target);
  sc_textbuf_append(b, "\">\n<h2>");
  sc_textbuf_xml(b, p->reference);
  sc_textbuf_append(b, " &rarr; ");
  sc_textbuf_xml(b, p->target);
  sc_textbuf_append(b, " ");
  put_badge(b, p->status);
  sc_textbuf_append(b, "</h2>\n");
  pair_facts(b, p, has_isolated);
  divergence_callout(b, p, pi);
  sc_textbuf_append(b, "<div class=\"cols\">\n");
  ref_table(b, "Top isolated losses", p->top_isolated, p->n_top_isolated, pi,
            "No isolated loss.");
  ref_table(b, "Top jumps of the accumulated error", p->top_jumps,
            p->n_top_jumps, pi, "No jump.");
  sc_textbuf_append(b, "</div>\n");
  pair_charts(b, p, pi, has_isolated);
  row_table(b, p, pi);
  sc_textbuf_append(b, "<h3>Unmatched tensors</h3>\n");
  name_list(b, "Target tensors that match nothing in the reference",
            p->unmatched_target, p->n_unmatched_target);
  name_list(b, "Reference tensors that no target tensor matches",
            p->unmatched_reference, p->n_unmatched_reference);
  sc_textbuf_append(b, "</section>\n");
}

/* ---- definitions ------------------------------------------------------ */

static const char DEFINITIONS[] =
    "<section id=\"definitions\">\n<h2>Definitions</h2>\n"
    "<p>Metrics are computed in double precision over all elements of a "
    "matched tensor pair. <i>r</i> is the reference tensor, <i>t</i> the "
    "target, both converted to float (integer tensors dequantized with their "
    "scale and zero point), <i>d</i> = <i>t</i> &#8722; <i>r</i>, <i>n</i> the "
    "element count. A metric is computed over the finite pairs only; "
    "non-finite values are counted and reported, and a target with "
    "non-finite values where the reference has none fails the row.</p>\n"
    "<dl>\n"
    "<dt><code>cosine</code></dt><dd>&#931; r&#183;t / (&#8214;r&#8214;&#183;"
    "&#8214;t&#8214;); 1 when both norms are 0, 0 when exactly one is 0. A "
    "lower bound in thresholds.</dd>\n"
    "<dt><code>max_abs</code></dt><dd>max |d|.</dd>\n"
    "<dt><code>mean_abs</code></dt><dd>&#931;|d| / n.</dd>\n"
    "<dt><code>rmse</code></dt><dd>sqrt(&#931;d&#178; / n).</dd>\n"
    "<dt><code>sqnr_db</code></dt><dd>10&#183;log10(&#931;r&#178; / "
    "&#931;d&#178;); +&infin; (exact, <code>null</code> in JSON) when "
    "&#931;d&#178; = 0. A lower bound.</dd>\n"
    "<dt><code>rel_l2</code></dt><dd>&#8214;d&#8214; / &#8214;r&#8214;: the "
    "relative Euclidean distance.</dd>\n"
    "<dt><code>max_rel</code></dt><dd>max |d| / max(|r|, "
    "1e-12&#183;max|r|).</dd>\n"
    "<dt><code>max_abs_lsb</code></dt><dd>max |q(t) &#8722; q(r)| in "
    "quantization steps; integer stages only.</dd>\n"
    "<dt><code>exact_ratio</code></dt><dd>share of elements with t == r "
    "(after dequantization). A lower bound.</dd>\n"
    "<dt><code>saturation</code></dt><dd>share of a quantized tensor's "
    "elements at qmin or qmax; quantized stages.</dd>\n"
    "<dt><code>top1_agree</code></dt><dd>share of positions whose argmax "
    "over the channel axis agrees; model outputs. A lower bound.</dd>\n"
    "<dt><code>nan_ref</code>, <code>nan_tgt</code>, <code>inf_ref</code>, "
    "<code>inf_tgt</code></dt><dd>counts of non-finite values; never "
    "silently dropped.</dd>\n"
    "</dl>\n<dl>\n"
    "<dt>accumulated</dt><dd>both stages run end to end on the same input; "
    "a row's error includes everything lost before it.</dd>\n"
    "<dt>isolated</dt><dd>the target's segment that produces the tensor is "
    "re-run on the reference stage's values of its inputs, so the error is "
    "what this layer itself loses.</dd>\n"
    "<dt>row</dt><dd>one matched tensor pair, in the target graph's "
    "topological order; row 0 is the model input, so that preprocessing "
    "loss is reported apart from the model.</dd>\n"
    "<dt>thresholds</dt><dd><code>cosine</code>, <code>sqnr_db</code>, "
    "<code>exact_ratio</code> and <code>top1_agree</code> are lower bounds, "
    "the other metrics upper bounds; a row breaching one fails. The model "
    "input and the outputs may have bounds of their own.</dd>\n"
    "<dt>first divergence</dt><dd>the first row in topological order whose "
    "accumulated metrics breach the thresholds.</dd>\n"
    "<dt>top isolated losses</dt><dd>the rows with the largest isolated "
    "error (1 &#8722; isolated cosine), worst first: where precision is "
    "lost.</dd>\n"
    "<dt>top jumps</dt><dd>the rows where the accumulated error (1 &#8722; "
    "cosine) grows the most over their inputs.</dd>\n"
    "<dt>worst input</dt><dd>with several inputs, a row shows the worst "
    "value over the inputs (lowest cosine, largest errors) and names the "
    "input it came from.</dd>\n"
    "<dt>per-channel error</dt><dd>for rows that breach their thresholds, "
    "the metrics of the worst channels along axis 1.</dd>\n"
    "</dl>\n</section>\n";

sc_status sc_report_html(const struct sc_report *r, char **text,
                         struct sc_error *err)
{
  struct sc_textbuf b;
  int i;
  sc_textbuf_init(&b);
  page_head(&b, r);
  summary(&b, r);
  stages_and_inputs(&b, r);
  for (i = 0; i < r->n_pairs; i++)
    pair_section(&b, &r->pairs[i], i);
  sc_textbuf_append(&b, DEFINITIONS);
  sc_textbuf_append(&b, "</main>\n</body>\n</html>\n");
  return sc_textbuf_finish(&b, text, err);
}
