/* A pipeline: steps applied in order, the layout tracked between them. */
#include <stdlib.h>

#include "transforms/internal.h"

struct sc_pipeline {
  struct sc_transform **steps;
  int n_steps;
  int capacity;
};

sc_status sc_pipeline_create(struct sc_pipeline **out, struct sc_error *err)
{
  *out = calloc(1, sizeof **out);
  if (!*out)
    return sc_fail_nomem(err, "pipeline");
  return SC_OK;
}

void sc_pipeline_free(struct sc_pipeline *p)
{
  int i;
  if (!p)
    return;
  for (i = 0; i < p->n_steps; i++)
    sc_transform_free(p->steps[i]);
  free(p->steps);
  free(p);
}

sc_status sc_pipeline_append(struct sc_pipeline *p, struct sc_transform *t,
                             struct sc_error *err)
{
  if (p->n_steps == p->capacity) {
    int capacity = p->capacity ? p->capacity * 2 : 8;
    struct sc_transform **steps =
        realloc(p->steps, (size_t)capacity * sizeof *steps);
    if (!steps) {
      sc_transform_free(t);
      return sc_fail_nomem(err, "pipeline step");
    }
    p->steps = steps;
    p->capacity = capacity;
  }
  p->steps[p->n_steps++] = t;
  return SC_OK;
}

sc_status sc_pipeline_add(struct sc_pipeline *p, const char *name,
                          const struct sc_transform_param *params, int n_params,
                          struct sc_error *err)
{
  struct sc_transform *t;
  sc_status st = sc_transform_create(name, params, n_params, &t, err);
  if (st)
    return st;
  return sc_pipeline_append(p, t, err);
}

int sc_pipeline_length(const struct sc_pipeline *p)
{
  return p->n_steps;
}

const struct sc_transform *sc_pipeline_step(const struct sc_pipeline *p, int i)
{
  return i >= 0 && i < p->n_steps ? p->steps[i] : NULL;
}

sc_status sc_pipeline_run(const struct sc_pipeline *p,
                          const struct sc_tensor *input, enum sc_layout *layout,
                          struct sc_tensor **output, struct sc_error *err)
{
  enum sc_layout lay = layout ? *layout : SC_LAYOUT_HWC;
  struct sc_tensor *cur = NULL;
  int i;

  *output = NULL;
  if (!input)
    return sc_fail(err, SC_ERR_INTERNAL, "pipeline run without an input");
  if (p->n_steps == 0)
    return sc_tensor_clone(input, output, err);
  for (i = 0; i < p->n_steps; i++) {
    struct sc_tensor *next = NULL;
    sc_status st =
        sc_transform_apply(p->steps[i], cur ? cur : input, &lay, &next, err);
    sc_tensor_free(cur);
    if (st) {
      sc_error_prefix(err, "step %d (%s): ", i + 1,
                      sc_transform_name(p->steps[i]));
      return st;
    }
    cur = next;
  }
  *output = cur;
  if (layout)
    *layout = lay;
  return SC_OK;
}
