/* The terminal report: one table per pair, then the verdict with, for each
 * failing pair, the first divergent layer and the top isolated losses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "verifier/cli.h"
#include "verifier/report.h"
#include "verifier/textbuf.h"

#define COMPACT_ROWS 15

static const char *paint(unsigned flags, enum sc_verdict v)
{
  if (!(flags & SC_TEXT_COLOUR))
    return "";
  return v == SC_VERDICT_FAIL   ? "\033[31m"
         : v == SC_VERDICT_WARN ? "\033[33m"
                                : "\033[32m";
}

static const char *reset(unsigned flags)
{
  return flags & SC_TEXT_COLOUR ? "\033[0m" : "";
}

static void number(struct sc_textbuf *b, double v, const char *fmt, int width)
{
  char cell[64];
  if (isnan(v))
    snprintf(cell, sizeof cell, "-");
  else if (isinf(v))
    snprintf(cell, sizeof cell, v > 0 ? "inf" : "-inf");
  else
    snprintf(cell, sizeof cell, fmt, v);
  sc_textbuf_printf(b, " %*s", width, cell);
}

/* Shortens long tensor names from the left ("...layer3/conv/Conv_out"). */
static void name_cell(struct sc_textbuf *b, const char *name, int width)
{
  size_t len = strlen(name);
  if ((int)len <= width)
    sc_textbuf_printf(b, " %-*s", width, name);
  else
    sc_textbuf_printf(b, " ...%s", name + len - (size_t)(width - 3));
}

static void row_line(struct sc_textbuf *b, const struct sc_row_result *r,
                     unsigned flags)
{
  sc_textbuf_printf(b, "  %4d", r->row);
  name_cell(b, r->tensor, 40);
  sc_textbuf_printf(b, " %-14.14s", r->is_input ? "(input)" : r->op);
  number(b, r->has_accumulated ? r->accumulated.cosine : NAN, "%.6f", 9);
  number(b, r->has_accumulated ? r->accumulated.max_abs : NAN, "%.3g", 9);
  number(b, r->has_accumulated ? r->accumulated.sqnr_db : NAN, "%.1f", 7);
  number(b, r->has_isolated ? r->isolated.cosine : NAN, "%.6f", 9);
  sc_textbuf_printf(b, "  %s%s%s", paint(flags, r->status),
                    sc_verdict_name(r->status), reset(flags));
  if (r->note)
    sc_textbuf_printf(b, "  (%s)", r->note);
  sc_textbuf_append(b, "\n");
}

static void pair_table(struct sc_textbuf *b, const struct sc_pair_result *p,
                       unsigned flags)
{
  int i, shown = 0, hidden = 0;
  sc_textbuf_printf(b,
                    "\n%s -> %s  %s%s%s  (%d rows, %.0f%% of the target "
                    "matched, %s mode)\n",
                    p->reference, p->target, paint(flags, p->status),
                    sc_verdict_name(p->status), reset(flags), p->n_rows,
                    100.0 * (isnan(p->match_ratio) ? 0 : p->match_ratio),
                    p->mode ? p->mode : "accumulated");
  if (p->note)
    sc_textbuf_printf(b, "  note: %s\n", p->note);
  for (i = 0; i < p->n_rows; i++)
    if (!(flags & SC_TEXT_COMPACT) || p->rows[i].status != SC_VERDICT_PASS)
      break;
  if (i < p->n_rows) /* at least one row to show */
    sc_textbuf_printf(b, "  %4s %-40s %-14s %9s %9s %7s %9s  %s\n", "row",
                      "tensor", "op", "cosine", "max_abs", "sqnr", "iso cos",
                      "status");
  for (i = 0; i < p->n_rows; i++) {
    const struct sc_row_result *r = &p->rows[i];
    if ((flags & SC_TEXT_COMPACT) &&
        (r->status == SC_VERDICT_PASS || shown >= COMPACT_ROWS)) {
      hidden++;
      continue;
    }
    row_line(b, r, flags);
    shown++;
  }
  if (hidden)
    sc_textbuf_printf(b, "  %s%d row%s pass (all rows in report.txt)\n",
                      shown ? "... " : "", hidden, hidden == 1 ? "" : "s");
  if (p->n_unmatched_target || p->n_unmatched_reference)
    sc_textbuf_printf(b, "  unmatched: %d target, %d reference tensors\n",
                      p->n_unmatched_target, p->n_unmatched_reference);
}

sc_status sc_report_text(const struct sc_report *r, unsigned flags, char **text,
                         struct sc_error *err)
{
  struct sc_textbuf b;
  int i, k, n_failed = 0, n_warned = 0;

  sc_textbuf_init(&b);
  sc_textbuf_printf(&b, "stagecheck %s: %s\n", r->tool_version, r->model_dir);
  sc_textbuf_append(&b, "stages:");
  for (i = 0; i < r->n_stages; i++)
    sc_textbuf_printf(&b, "%s %s (%s %s%s%s)", i ? "," : "", r->stages[i].name,
                      r->stages[i].kind, r->stages[i].source,
                      r->stages[i].note ? ": " : "",
                      r->stages[i].note ? r->stages[i].note : "");
  sc_textbuf_printf(&b, "\ninputs: %d", r->n_inputs);
  for (i = 0; i < r->n_inputs && i < 5; i++)
    sc_textbuf_printf(&b, "%s%s", i ? ", " : " (", r->inputs[i]);
  sc_textbuf_append(&b, r->n_inputs > 5 ? ", ...)\n"
                        : r->n_inputs   ? ")\n"
                                        : "\n");
  for (i = 0; i < r->n_pairs; i++) {
    pair_table(&b, &r->pairs[i], flags);
    n_failed += r->pairs[i].status == SC_VERDICT_FAIL;
    n_warned += r->pairs[i].status == SC_VERDICT_WARN;
  }
  sc_textbuf_printf(&b,
                    "\nverdict: %s%s%s (%d of %d pairs failed, %d "
                    "warned)\n",
                    paint(flags, r->status), sc_verdict_name(r->status),
                    reset(flags), n_failed, r->n_pairs, n_warned);
  for (i = 0; i < r->n_pairs; i++) {
    const struct sc_pair_result *p = &r->pairs[i];
    if (p->status != SC_VERDICT_FAIL)
      continue;
    sc_textbuf_printf(&b, "  %s -> %s: ", p->reference, p->target);
    if (p->has_first_divergence)
      sc_textbuf_printf(&b, "first divergence at row %d, %s (node %s)",
                        p->first_divergence.row, p->first_divergence.tensor,
                        p->first_divergence.node[0] ? p->first_divergence.node
                                                    : "input");
    else
      sc_textbuf_append(&b, "no layer breaches its threshold");
    sc_textbuf_append(&b, "\n");
    if (p->n_top_isolated) {
      sc_textbuf_append(&b, "    precision lost at (isolated cosine):");
      for (k = 0; k < p->n_top_isolated; k++)
        sc_textbuf_printf(&b, "%s %s %.6f", k ? "," : "",
                          p->top_isolated[k].tensor, p->top_isolated[k].value);
      sc_textbuf_append(&b, "\n");
    }
  }
  return sc_textbuf_finish(&b, text, err);
}
