/* JUnit XML for CI gates: one <testsuite> per pair, one <testcase> for the
 * pair's layers and one for its output gate; a failing case's message
 * names the first divergent layer. */
#include <string.h>

#include "verifier/report.h"
#include "verifier/textbuf.h"

static void testcase(struct sc_textbuf *b, const char *suite, const char *name,
                     enum sc_verdict v, const char *message)
{
  sc_textbuf_append(b, "    <testcase classname=\"");
  sc_textbuf_xml(b, suite);
  sc_textbuf_append(b, "\" name=\"");
  sc_textbuf_xml(b, name);
  sc_textbuf_append(b, "\"");
  if (v == SC_VERDICT_FAIL) {
    sc_textbuf_append(b, ">\n      <failure message=\"");
    sc_textbuf_xml(b, message);
    sc_textbuf_append(b, "\" type=\"precision\">");
    sc_textbuf_xml(b, message);
    sc_textbuf_append(b, "</failure>\n    </testcase>\n");
  } else if (v == SC_VERDICT_WARN) {
    sc_textbuf_append(b, ">\n      <system-out>warning: ");
    sc_textbuf_xml(b, message);
    sc_textbuf_append(b, "</system-out>\n    </testcase>\n");
  } else {
    sc_textbuf_append(b, "/>\n");
  }
}

sc_status sc_report_junit(const struct sc_report *r, char **text,
                          struct sc_error *err)
{
  struct sc_textbuf b;
  int i, k, total_failures = 0;

  for (i = 0; i < r->n_pairs; i++) {
    const struct sc_pair_result *p = &r->pairs[i];
    int out_fail = 0, layer_fail = 0;
    for (k = 0; k < p->n_rows; k++)
      if (p->rows[k].status == SC_VERDICT_FAIL) {
        if (p->rows[k].is_output)
          out_fail = 1;
        else
          layer_fail = 1;
      }
    total_failures += out_fail + layer_fail;
  }
  sc_textbuf_init(&b);
  sc_textbuf_printf(&b,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<testsuites name=\"stagecheck\" tests=\"%d\" "
                    "failures=\"%d\">\n",
                    2 * r->n_pairs, total_failures);
  for (i = 0; i < r->n_pairs; i++) {
    const struct sc_pair_result *p = &r->pairs[i];
    enum sc_verdict layers = SC_VERDICT_PASS, outputs = SC_VERDICT_PASS;
    char suite[512], msg[1024];
    const struct sc_row_result *worst_out = NULL;
    int failures = 0;
    snprintf(suite, sizeof suite, "%s->%s", p->reference, p->target);
    for (k = 0; k < p->n_rows; k++) {
      const struct sc_row_result *row = &p->rows[k];
      if (row->is_output) {
        if (row->status > outputs) {
          outputs = row->status;
          worst_out = row;
        }
      } else if (row->status > layers) {
        layers = row->status;
      }
    }
    failures = (layers == SC_VERDICT_FAIL) + (outputs == SC_VERDICT_FAIL);
    sc_textbuf_append(&b, "  <testsuite name=\"");
    sc_textbuf_xml(&b, suite);
    sc_textbuf_printf(&b, "\" tests=\"2\" failures=\"%d\">\n", failures);
    if (p->has_first_divergence)
      snprintf(msg, sizeof msg,
               "first divergent layer: row %d, tensor %s (node %s), "
               "cosine %.6f",
               p->first_divergence.row, p->first_divergence.tensor,
               p->first_divergence.node, p->first_divergence.value);
    else
      snprintf(msg, sizeof msg, "%s", sc_verdict_name(layers));
    testcase(&b, suite, "layers", layers, msg);
    if (worst_out)
      snprintf(msg, sizeof msg, "output %s: cosine %.6f (worst input %s)",
               worst_out->tensor, worst_out->accumulated.cosine,
               worst_out->worst_input ? worst_out->worst_input : "-");
    else
      snprintf(msg, sizeof msg, "outputs pass");
    testcase(&b, suite, "outputs", outputs, msg);
    sc_textbuf_append(&b, "  </testsuite>\n");
  }
  sc_textbuf_append(&b, "</testsuites>\n");
  return sc_textbuf_finish(&b, text, err);
}
