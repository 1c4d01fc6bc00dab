/* Isolated re-runs: the minimal target segment that produces a row's
 * tensor from matched inputs (spec/report.md, "Layer rows").
 *
 * Walking back from the row's tensor, the segment takes every producing
 * node until it reaches tensors of another matched stage: those are fed
 * with the reference stage's values. In a QDQ graph the boundary is the
 * previous layer's DequantizeLinear output, so a layer's isolated error is
 * its own weights' quantization and its own output's quantization; its
 * input's quantization belongs to the layer that produced the input (the
 * model input's quantization has a row of its own). Integer tensors of a
 * QOperator graph can only be fed quantized: the reference value is
 * quantized onto the target's grid ("quantized first"). Constant subgraphs
 * (weights behind a DequantizeLinear) are part of the segment. */
#ifndef SC_COMPARE_SEGMENT_H
#define SC_COMPARE_SEGMENT_H

#include <stdint.h>

#include "compare/match.h"

struct sc_segment_feed {
  int value;     /* target graph value fed */
  int reference; /* reference view tensor whose value is fed */
  int row;       /* match row of that reference tensor */
};

struct sc_segment {
  uint8_t *node_mask; /* indexed like target->graph->nodes */
  int n_nodes;
  struct sc_segment_feed *feeds;
  int n_feeds;
};

/* Builds the segment of match row `row`. When the row cannot be isolated
 * (target is a dump, the row is a graph input, or an input of the segment
 * belongs to an unmatched stage) *out is NULL and *reason says why. */
/* `same_input_space`: the two stages take the same kind of model input
 * (dtype and shape), so tensors derived from the target's input may be fed
 * the reference's values; otherwise segments reaching the model input start
 * from the target's own input (fed as it was). */
sc_status sc_segment_build(const struct sc_view *target,
                           const struct sc_match *m, int row,
                           int same_input_space, struct sc_segment **out,
                           const char **reason, struct sc_error *err);
void sc_segment_free(struct sc_segment *s);

#endif
