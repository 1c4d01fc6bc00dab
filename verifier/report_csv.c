/* CSV: one line per row of every pair, accumulated and isolated metrics. */
#include <math.h>

#include "verifier/report.h"
#include "verifier/textbuf.h"

static void cell(struct sc_textbuf *b, double v)
{
  sc_textbuf_append(b, ",");
  if (!isnan(v))
    sc_textbuf_json_number(b, v);
}

sc_status sc_report_csv(const struct sc_report *r, char **text,
                        struct sc_error *err)
{
  struct sc_textbuf b;
  int i, k;
  sc_textbuf_init(&b);
  sc_textbuf_append(&b, "reference,target,row,tensor,reference_tensor,node,"
                        "op,status,cosine,max_abs,mean_abs,rmse,sqnr_db,"
                        "rel_l2,max_rel,max_abs_lsb,saturation,"
                        "isolated_cosine,isolated_max_abs,isolated_sqnr_db,"
                        "worst_input\n");
  for (i = 0; i < r->n_pairs; i++) {
    const struct sc_pair_result *p = &r->pairs[i];
    for (k = 0; k < p->n_rows; k++) {
      const struct sc_row_result *row = &p->rows[k];
      const struct sc_metrics *a = &row->accumulated, *s = &row->isolated;
      int acc = row->has_accumulated, iso = row->has_isolated;
      sc_textbuf_csv(&b, p->reference);
      sc_textbuf_append(&b, ",");
      sc_textbuf_csv(&b, p->target);
      sc_textbuf_printf(&b, ",%d,", row->row);
      sc_textbuf_csv(&b, row->tensor);
      sc_textbuf_append(&b, ",");
      sc_textbuf_csv(&b, row->reference_tensor);
      sc_textbuf_append(&b, ",");
      sc_textbuf_csv(&b, row->node);
      sc_textbuf_append(&b, ",");
      sc_textbuf_csv(&b, row->op);
      sc_textbuf_printf(&b, ",%s", sc_verdict_name(row->status));
      cell(&b, acc ? a->cosine : NAN);
      cell(&b, acc ? a->max_abs : NAN);
      cell(&b, acc ? a->mean_abs : NAN);
      cell(&b, acc ? a->rmse : NAN);
      cell(&b, acc && isfinite(a->sqnr_db) ? a->sqnr_db : NAN);
      cell(&b, acc ? a->rel_l2 : NAN);
      cell(&b, acc ? a->max_rel : NAN);
      cell(&b, acc && a->has_lsb ? a->max_abs_lsb : NAN);
      cell(&b, acc && a->has_lsb ? a->saturation : NAN);
      cell(&b, iso ? s->cosine : NAN);
      cell(&b, iso ? s->max_abs : NAN);
      cell(&b, iso && isfinite(s->sqnr_db) ? s->sqnr_db : NAN);
      sc_textbuf_append(&b, ",");
      sc_textbuf_csv(&b, row->worst_input ? row->worst_input : "");
      sc_textbuf_append(&b, "\n");
    }
  }
  return sc_textbuf_finish(&b, text, err);
}
