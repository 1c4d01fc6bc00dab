/* Operator family: detection post-processing (NonMaxSuppression).
 *
 * NonMaxSuppression's output size depends on the scores, so reshape leaves
 * it unknown and run allocates it (sc_node_alloc_output). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/families.h"

struct nms_state {
  int center_point_box; /* 1: [x_center, y_center, w, h]; 0: two corners */
};

/* One candidate box of a (batch, class): its score and index. */
struct nms_candidate {
  float score;
  int64_t index;
};

static void state_release(struct sc_node *node)
{
  free(node->state);
  node->state = NULL;
}

static sc_status nms_prepare(struct sc_node *node, struct sc_error *err)
{
  static const enum sc_dtype float_type[] = {SC_DTYPE_FLOAT};
  static const enum sc_dtype int64_type[] = {SC_DTYPE_INT64};
  struct nms_state *state;
  int64_t center;
  sc_status st = sc_check_arity(node, 2, 5, 1, 1, err);
  if (!st)
    st = sc_check_dtype(node, 0, float_type, 1, err);
  if (!st)
    st = sc_check_dtype(node, 1, float_type, 1, err);
  if (!st)
    st = sc_check_dtype(node, 2, int64_type, 1, err);
  if (!st)
    st = sc_check_dtype(node, 3, float_type, 1, err);
  if (!st)
    st = sc_check_dtype(node, 4, float_type, 1, err);
  if (!st)
    st = sc_node_attr_int(node, "center_point_box", 0, &center, err);
  if (st)
    return st;
  if (center != 0 && center != 1)
    return sc_node_fail(node, err, SC_ERR_FORMAT,
                        "center_point_box is %lld, expected 0 or 1",
                        (long long)center);
  state = calloc(1, sizeof *state);
  if (!state)
    return sc_fail_nomem(err, "NonMaxSuppression state");
  state->center_point_box = (int)center;
  node->state = state;
  node->out[0]->dtype = SC_DTYPE_INT64;
  return SC_OK;
}

/* Checks boxes [B, S, 4], scores [B, C, S] and that the optional inputs
 * hold at most one value. The output shape stays unknown until run. */
static sc_status nms_reshape(struct sc_node *node, struct sc_error *err)
{
  const struct sc_tensor *boxes = node->in[0], *scores = node->in[1];
  char sb[160], ss[160];
  int i;
  if (boxes->rank != 3 || boxes->dims[2] != 4 || scores->rank != 3 ||
      scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
    return sc_node_fail(
        node, err, SC_ERR_FORMAT,
        "boxes %s and scores %s: expected [batches, boxes, 4] and "
        "[batches, classes, boxes]",
        sc_shape_format(boxes->rank, boxes->dims, sb, sizeof sb),
        sc_shape_format(scores->rank, scores->dims, ss, sizeof ss));
  for (i = 2; i < node->n_inputs; i++)
    if (node->in[i] && node->in[i]->n_elements > 1)
      return sc_node_fail(node, err, SC_ERR_FORMAT,
                          "input %d ('%s') has %lld elements, expected one", i,
                          sc_node_input_name(node, i),
                          (long long)node->in[i]->n_elements);
  return SC_OK;
}

/* Corners (y_min, x_min, y_max, x_max) of box i. */
static void nms_corners(const float *boxes, int64_t i, int center_point_box,
                        float *c)
{
  const float *b = boxes + i * 4;
  if (center_point_box) {
    c[0] = b[1] - b[3] / 2.0f;
    c[1] = b[0] - b[2] / 2.0f;
    c[2] = b[1] + b[3] / 2.0f;
    c[3] = b[0] + b[2] / 2.0f;
  } else {
    c[0] = fminf(b[0], b[2]);
    c[1] = fminf(b[1], b[3]);
    c[2] = fmaxf(b[0], b[2]);
    c[3] = fmaxf(b[1], b[3]);
  }
}

/* 1 when boxes i and j overlap with IoU above the threshold; boxes with no
 * area never suppress each other. */
static int nms_suppresses(const float *boxes, int64_t i, int64_t j,
                          int center_point_box, float iou_threshold)
{
  float a[4], b[4], inter_h, inter_w, inter, area_a, area_b;
  nms_corners(boxes, i, center_point_box, a);
  nms_corners(boxes, j, center_point_box, b);
  area_a = (a[2] - a[0]) * (a[3] - a[1]);
  area_b = (b[2] - b[0]) * (b[3] - b[1]);
  if (area_a <= 0.0f || area_b <= 0.0f)
    return 0;
  inter_h = fminf(a[2], b[2]) - fmaxf(a[0], b[0]);
  inter_w = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
  if (inter_h <= 0.0f || inter_w <= 0.0f)
    return 0;
  inter = inter_h * inter_w;
  return inter / (area_a + area_b - inter) > iou_threshold;
}

/* Higher score first; equal scores keep the lower box index first. */
static int nms_candidate_order(const void *pa, const void *pb)
{
  const struct nms_candidate *a = pa, *b = pb;
  if (a->score != b->score)
    return a->score > b->score ? -1 : 1;
  return a->index < b->index ? -1 : a->index > b->index;
}

/* Greedy selection for one (batch, class): appends up to max_out box
 * indices to selected (in selection order) and returns their number. */
static int64_t nms_select_class(const float *boxes, const float *scores,
                                int64_t n_boxes, int center_point_box,
                                int64_t max_out, float iou_threshold,
                                int has_score_threshold, float score_threshold,
                                struct nms_candidate *candidates,
                                int64_t *selected)
{
  int64_t n = 0, n_selected = 0, i, s;
  for (i = 0; i < n_boxes; i++) {
    /* as ONNX Runtime: a score equal to the threshold is dropped; NaN too */
    if (has_score_threshold && !(scores[i] > score_threshold))
      continue;
    if (isnan(scores[i]))
      continue;
    candidates[n].score = scores[i];
    candidates[n++].index = i;
  }
  qsort(candidates, (size_t)n, sizeof *candidates, nms_candidate_order);
  for (i = 0; i < n && n_selected < max_out; i++) {
    int keep = 1;
    for (s = 0; s < n_selected && keep; s++)
      keep = !nms_suppresses(boxes, selected[s], candidates[i].index,
                             center_point_box, iou_threshold);
    if (keep)
      selected[n_selected++] = candidates[i].index;
  }
  return n_selected;
}

static sc_status nms_run(struct sc_node *node, struct sc_error *err)
{
  const struct nms_state *state = node->state;
  const struct sc_tensor *boxes = node->in[0], *scores = node->in[1];
  int64_t n_batches = boxes->dims[0], n_boxes = boxes->dims[1];
  int64_t n_classes = scores->dims[1], max_out = 0, total = 0, b, c, i;
  float iou_threshold = 0.0f, score_threshold = 0.0f;
  int has_score_threshold = 0;
  struct nms_candidate *candidates;
  int64_t *selected, *triples, dims[2];
  sc_status st;

  if (node->n_inputs > 2 && node->in[2] && node->in[2]->n_elements == 1)
    max_out = ((const int64_t *)node->in[2]->data)[0];
  if (node->n_inputs > 3 && node->in[3] && node->in[3]->n_elements == 1)
    iou_threshold = ((const float *)node->in[3]->data)[0];
  if (node->n_inputs > 4 && node->in[4] && node->in[4]->n_elements == 1) {
    has_score_threshold = 1;
    score_threshold = ((const float *)node->in[4]->data)[0];
  }
  if (max_out > n_boxes)
    max_out = n_boxes;
  if (max_out < 0)
    max_out = 0;

  candidates = malloc((size_t)(n_boxes + 1) * sizeof *candidates);
  selected = malloc((size_t)(max_out + 1) * sizeof *selected);
  /* at most n_batches * n_classes * max_out triples, each bounded by the
   * scores tensor's own element count */
  triples = malloc((size_t)(n_batches * n_classes * max_out + 1) * 3 *
                   sizeof *triples);
  if (!candidates || !selected || !triples) {
    free(candidates);
    free(selected);
    free(triples);
    return sc_node_fail(node, err, SC_ERR_NOMEM,
                        "out of memory for %lld candidate boxes",
                        (long long)n_boxes);
  }
  for (b = 0; b < n_batches; b++)
    for (c = 0; c < n_classes; c++) {
      int64_t n = nms_select_class(
          (const float *)boxes->data + b * n_boxes * 4,
          (const float *)scores->data + (b * n_classes + c) * n_boxes, n_boxes,
          state->center_point_box, max_out, iou_threshold, has_score_threshold,
          score_threshold, candidates, selected);
      for (i = 0; i < n; i++, total++) {
        triples[total * 3] = b;
        triples[total * 3 + 1] = c;
        triples[total * 3 + 2] = selected[i];
      }
    }
  dims[0] = total;
  dims[1] = 3;
  st = sc_node_alloc_output(node, 0, 2, dims, err);
  if (!st && total > 0)
    memcpy(node->out[0]->data, triples, (size_t)total * 3 * sizeof *triples);
  free(candidates);
  free(selected);
  free(triples);
  return st;
}

const struct sc_op sc_ops_detection[] = {
    {"", "NonMaxSuppression", 10, SC_OPSET_LATEST, nms_prepare, nms_reshape,
     nms_run, state_release, 0},
    {NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0},
};
