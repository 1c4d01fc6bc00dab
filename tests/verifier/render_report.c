/* Writes the HTML report of a sample verify run built in code, for the
 * headless browser test (test_html_chromium.sh):
 *
 *   render_report OUT.html [N_ROWS]
 *
 * N_ROWS (default 48, at least 2) sets the rows of each pair, to look at
 * large reports by hand.
 * The sample has two pairs: float -> optimized, which passes (most rows
 * exact, so SQNR is infinite), and optimized -> quantized, which fails at a
 * known layer, with per-channel errors, thresholds on the input and the
 * outputs, unmatched tensors and a name that needs escaping. Exit status 0
 * when the file is written, 1 otherwise (the reason on stderr). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verifier/report.h"

static int rows_per_pair = 48;
#define BAD_ROW                                                                \
  (rows_per_pair / 2 - 1) /* loses precision in the quantized pair */

static char *dup_text(const char *s)
{
  char *copy = strdup(s);
  if (!copy) {
    fprintf(stderr, "render_report: out of memory\n");
    exit(1);
  }
  return copy;
}

static void *alloc_zero(size_t n, size_t size)
{
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fprintf(stderr, "render_report: out of memory\n");
    exit(1);
  }
  return p;
}

/* Metrics with the given cosine; the SQNR follows from it the way it does
 * for small noise (SQNR ~ -10 log10(2 (1 - cosine))), infinite when the
 * cosine is exactly 1. */
static struct sc_metrics metrics_for(double cosine, double scale)
{
  struct sc_metrics m;
  double loss = 1.0 - cosine;
  memset(&m, 0, sizeof m);
  m.n_elements = 16 * 28 * 28;
  m.cosine = cosine;
  m.max_abs = loss > 0 ? scale * sqrt(loss) * 4 : 0;
  m.mean_abs = m.max_abs / 8;
  m.rmse = m.max_abs / 5;
  m.sqnr_db = loss > 0 ? -10 * log10(2 * loss) : INFINITY;
  m.rel_l2 = sqrt(2 * loss);
  m.max_rel = m.rel_l2 * 3;
  m.exact_ratio = loss > 0 ? 0.1 : 1;
  return m;
}

static void set_thresholds(struct sc_thresholds *t, enum sc_metric_id id,
                           double bound)
{
  t->set |= 1u << id;
  t->bound[id] = bound;
}

static const char *const OPS[] = {"Conv",    "Relu", "Add",
                                  "MaxPool", "Conv", "BatchNormalization"};

/* Names, ops and shapes shared by both pairs' rows. */
static void row_identity(struct sc_row_result *row, int k, int renamed)
{
  char name[96];
  row->row = k;
  if (k == 0) {
    row->tensor = dup_text("images");
    row->reference_tensor = dup_text("images");
    row->node = dup_text("");
    row->op = dup_text("");
    row->match = dup_text("input");
    row->is_input = 1;
    row->rank = 4;
    row->dims[0] = 1;
    row->dims[1] = 3;
    row->dims[2] = 224;
    row->dims[3] = 224;
    return;
  }
  if (k == 17)
    snprintf(name, sizeof name, "/stage2/block<1>/conv \"a&b\"_output_0");
  else
    snprintf(name, sizeof name, "/stage%d/block%d/%s_output_0", 1 + k / 12,
             k % 12, OPS[k % 6]);
  row->reference_tensor = dup_text(name);
  if (renamed && k % 5 == 0)
    strcat(name, "_DequantizeLinear_Output");
  row->tensor = dup_text(name);
  snprintf(name, sizeof name, "node_%d", k);
  row->node = dup_text(name);
  row->op = dup_text(OPS[k % 6]);
  row->match = dup_text(renamed && k % 5 == 0 ? "canonical name" : "name");
  row->is_output = k == rows_per_pair - 1;
  row->rank = 4;
  row->dims[0] = 1;
  row->dims[1] = 16 << (k / 12 % 4);
  row->dims[2] = 112 >> (k / 12 % 4);
  row->dims[3] = 112 >> (k / 12 % 4);
}

/* float -> optimized: exact but for a few fused layers. */
static void optimized_pair(struct sc_pair_result *p)
{
  int k;
  p->reference = dup_text("float");
  p->target = dup_text("optimized");
  p->mode = dup_text("both");
  p->match_ratio = 1.0;
  set_thresholds(&p->thresholds, SC_METRIC_COSINE, 0.99999);
  set_thresholds(&p->thresholds, SC_METRIC_MAX_ABS, 1e-4);
  p->input_thresholds = p->thresholds;
  p->output_thresholds = p->thresholds;
  p->n_rows = rows_per_pair;
  p->rows = alloc_zero((size_t)rows_per_pair, sizeof *p->rows);
  for (k = 0; k < rows_per_pair; k++) {
    struct sc_row_result *row = &p->rows[k];
    double cosine = k % 7 == 3 ? 1 - 2e-8 * (1 + k % 3) : 1.0;
    row_identity(row, k, 0);
    row->status = SC_VERDICT_PASS;
    row->has_accumulated = 1;
    row->accumulated = metrics_for(cosine, 1e-2);
    row->worst_input = dup_text("cat.jpg");
    row->has_isolated = k > 0;
    row->isolated = metrics_for(cosine, 1e-2);
    if (k == 0)
      row->isolated_note = dup_text("the model input has no isolated value");
    row->jump = 1 - cosine;
  }
}

/* optimized -> quantized: error grows along the rows and layer BAD_ROW
 * loses precision on its own. */
static void quantized_pair(struct sc_pair_result *p)
{
  int k, c;
  p->reference = dup_text("optimized");
  p->target = dup_text("quantized");
  p->mode = dup_text("both");
  p->match_ratio = 0.94;
  set_thresholds(&p->thresholds, SC_METRIC_COSINE, 0.99);
  set_thresholds(&p->thresholds, SC_METRIC_SQNR_DB, 20);
  set_thresholds(&p->input_thresholds, SC_METRIC_COSINE, 0.9999);
  set_thresholds(&p->output_thresholds, SC_METRIC_COSINE, 0.995);
  p->n_rows = rows_per_pair;
  p->rows = alloc_zero((size_t)rows_per_pair, sizeof *p->rows);
  for (k = 0; k < rows_per_pair; k++) {
    struct sc_row_result *row = &p->rows[k];
    double acc = 1 - 2e-5 - 1.5e-4 * k - (k >= BAD_ROW ? 0.012 : 0);
    double iso = 1 - 1e-4 * (1 + (k * 7) % 5) - (k == BAD_ROW ? 0.03 : 0);
    row_identity(row, k, 1);
    row->has_accumulated = 1;
    row->accumulated = metrics_for(acc, 0.5);
    row->accumulated.has_lsb = 1;
    row->accumulated.max_abs_lsb = 1 + k / 10;
    row->accumulated.saturation = k == BAD_ROW ? 0.031 : 0;
    row->worst_input = dup_text(k % 2 ? "cat.jpg" : "dog <2>.png");
    row->has_isolated = k > 0 && k != 30;
    if (k == 30)
      row->isolated_note = dup_text("segment has an unsupported operator");
    row->isolated = metrics_for(iso, 0.5);
    row->worst_input_isolated = row->has_isolated ? dup_text("cat.jpg") : NULL;
    row->jump = k == BAD_ROW ? 0.012 : 1.5e-4;
    if (row->is_output) {
      row->accumulated.has_top1 = 1;
      row->accumulated.top1_agree = 0.97;
    }
    row->status = sc_thresholds_check(row->is_input    ? &p->input_thresholds
                                      : row->is_output ? &p->output_thresholds
                                                       : &p->thresholds,
                                      &row->accumulated, NULL);
    if (row->status == SC_VERDICT_FAIL) {
      row->n_worst_channels = SC_REPORT_WORST_CHANNELS;
      for (c = 0; c < SC_REPORT_WORST_CHANNELS; c++) {
        struct sc_channel_error *e = &row->worst_channels[c];
        e->channel = (c * 5 + k) % row->dims[1];
        e->cosine = acc - 0.03 / (1 + c);
        e->max_abs = 0.5 + 1.5 / (1 + c);
        e->sqnr_db = -10 * log10(2 * (1 - e->cosine));
      }
    }
  }
  p->n_unmatched_target = 2;
  p->unmatched_target = alloc_zero(2, sizeof(char *));
  p->unmatched_target[0] = dup_text("/stage1/block3/Conv_output_0_quantized");
  p->unmatched_target[1] = dup_text("scale_<inline>");
  p->n_unmatched_reference = 1;
  p->unmatched_reference = alloc_zero(1, sizeof(char *));
  p->unmatched_reference[0] = dup_text("/stage1/block3/BatchNorm_output_0");
}

static struct sc_report *sample_report(void)
{
  struct sc_report *r = alloc_zero(1, sizeof *r);
  static const char *const names[] = {"float", "optimized", "quantized"};
  static const char *const sources[] = {"float.onnx", "optimized.onnx",
                                        "quantized.onnx"};
  int i;
  r->tool_version = dup_text("0.1.0");
  r->model_dir = dup_text("fixtures/models/tiny_resnet");
  r->n_stages = 3;
  r->stages = alloc_zero(3, sizeof *r->stages);
  for (i = 0; i < 3; i++) {
    r->stages[i].name = dup_text(names[i]);
    r->stages[i].kind = dup_text("onnx");
    r->stages[i].source = dup_text(sources[i]);
  }
  r->stages[2].note = dup_text("QDQ graph");
  r->n_inputs = 2;
  r->inputs = alloc_zero(2, sizeof(char *));
  r->inputs[0] = dup_text("cat.jpg");
  r->inputs[1] = dup_text("dog <2>.png");
  r->n_pairs = 2;
  r->pairs = alloc_zero(2, sizeof *r->pairs);
  optimized_pair(&r->pairs[0]);
  quantized_pair(&r->pairs[1]);
  sc_report_localise(r);
  return r;
}

int main(int argc, char **argv)
{
  struct sc_error err;
  struct sc_report *r;
  char *html = NULL;
  FILE *f;
  int ok;
  if (argc == 3)
    rows_per_pair = atoi(argv[2]);
  if ((argc != 2 && argc != 3) || rows_per_pair < 2) {
    fprintf(stderr, "usage: render_report OUT.html [N_ROWS]\n");
    return 1;
  }
  memset(&err, 0, sizeof err);
  r = sample_report();
  if (sc_report_html(r, &html, &err) != SC_OK) {
    fprintf(stderr, "render_report: %s\n", err.message);
    sc_report_free(r);
    return 1;
  }
  sc_report_free(r);
  f = fopen(argv[1], "wb");
  ok = f && fputs(html, f) >= 0;
  if (f && fclose(f) != 0)
    ok = 0;
  free(html);
  if (!ok) {
    fprintf(stderr, "render_report: cannot write %s\n", argv[1]);
    return 1;
  }
  return 0;
}
