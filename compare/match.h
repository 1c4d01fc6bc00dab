/* Matching target tensors to reference tensors (spec/report.md,
 * "Matching").
 *
 * 1. An explicit map (target name -> reference name) wins.
 * 2. Names: exact, then canonical (sc_canonical_name: the dump stem rule and
 *    the quantization suffixes of common toolchains), looked up among every
 *    tensor of a reference stage and resolved to the stage representative.
 * 3. Structure, for graphs: from the inputs forward, a target group is
 *    aligned with the unmatched reference group whose head has the same
 *    operator class and whose input groups are the counterparts of the
 *    target's; ties are broken by output shape, then by order. Within
 *    aligned groups the stages are paired by operator, the last with the
 *    last (an activation fused into the layer before it lands there).
 * Only representatives are rows. A pair must be comparable: same element
 * count, with dims equal, equal up to size-1 dims, or an NHWC permutation of
 * NCHW. A target tensor that matches nothing is listed as unmatched, never
 * guessed.
 *
 * Rows follow the target's order, or the reference's when the target is a
 * dump. Graph inputs are paired first (by name, else by position). */
#ifndef SC_COMPARE_MATCH_H
#define SC_COMPARE_MATCH_H

#include "compare/view.h"

enum sc_match_how {
  SC_MATCH_INPUT,     /* graph inputs */
  SC_MATCH_MAP,       /* explicit map */
  SC_MATCH_NAME,      /* identical names */
  SC_MATCH_CANONICAL, /* names equal after canonicalisation */
  SC_MATCH_STRUCTURE  /* structural alignment */
};

enum sc_layout_fix {
  SC_LAYOUT_SAME,        /* dims equal (or equal up to size-1 dims) */
  SC_LAYOUT_NHWC_TO_NCHW /* target is NHWC, reference NCHW */
};

struct sc_match_row {
  int target;    /* tensor index in the target view */
  int reference; /* tensor index in the reference view */
  enum sc_match_how how;
  enum sc_layout_fix layout;
};

struct sc_match {
  struct sc_match_row *rows;
  int n_rows;
  int *unmatched_target; /* representatives left without a partner */
  int n_unmatched_target;
  int *unmatched_reference;
  int n_unmatched_reference;
};

struct sc_match_options {
  /* explicit map: n_map pairs of (target name, reference name) */
  int n_map;
  const char *const *map_target;
  const char *const *map_reference;
};

sc_status sc_match_views(const struct sc_view *reference,
                         const struct sc_view *target,
                         const struct sc_match_options *options,
                         struct sc_match **out, struct sc_error *err);
void sc_match_free(struct sc_match *m);

/* Share of the target's representatives that were matched, in [0, 1]. */
double sc_match_ratio(const struct sc_match *m);

/* 1 if the two tensors can be compared, with the layout fix to apply. */
int sc_match_comparable(const struct sc_view_tensor *reference,
                        const struct sc_view_tensor *target,
                        enum sc_layout_fix *fix);

const char *sc_match_how_name(enum sc_match_how how);

#endif
