/* What each stage is fed: the input file decoded (images to BGR uint8 HWC
 * as cv2.imread does, raw .nv12 converted to BGR as cv2.cvtColor does,
 * .npy as-is), the shared preprocessing and the stage's own steps applied,
 * then fitted to the model input: a leading batch dimension of 1 when the
 * model has one more dimension, float32 rounded to float16/bfloat16 or
 * widened to float64 when the model asks for it (spec/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "loaders/file.h"
#include "loaders/image.h"
#include "loaders/tensor_file.h"
#include "verifier/verify_internal.h"

static int has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

void sc_feeds_free(struct sc_tensor **feeds, int n_feeds)
{
  int i;
  if (!feeds)
    return;
  for (i = 0; i < n_feeds; i++)
    sc_tensor_free(feeds[i]);
  free(feeds);
}

/* A raw NV12 file of the configured size, converted to BGR. */
static sc_status decode_nv12(const char *path, const struct sc_config_input *ci,
                             struct sc_tensor **out, struct sc_error *err)
{
  struct sc_transform_param params[2];
  struct sc_transform *to_bgr = NULL;
  struct sc_tensor *raw = NULL;
  enum sc_layout layout = SC_LAYOUT_NV12;
  int64_t dims[2];
  sc_status st;

  *out = NULL;
  if (!ci || ci->nv12_width <= 0 || ci->nv12_height <= 0)
    return sc_fail(err, SC_ERR_CONFIG,
                   "%s: a raw .nv12 input needs its width and height in the "
                   "configuration's input entry",
                   path);
  dims[0] = (int64_t)ci->nv12_height * 3 / 2;
  dims[1] = ci->nv12_width;
  if (ci->nv12_height % 2 || ci->nv12_width % 2)
    return sc_fail(err, SC_ERR_CONFIG,
                   "%s: NV12 needs an even width and "
                   "height (%dx%d)",
                   path, ci->nv12_width, ci->nv12_height);
  st = sc_raw_load(path, SC_DTYPE_UINT8, 2, dims, &raw, err);
  if (st)
    return st;
  memset(params, 0, sizeof params);
  params[0].key = "height";
  params[0].number = ci->nv12_height;
  params[1].key = "width";
  params[1].number = ci->nv12_width;
  st = sc_transform_create("nv12_to_bgr", params, 2, &to_bgr, err);
  if (!st)
    st = sc_transform_apply(to_bgr, raw, &layout, out, err);
  if (st)
    sc_error_prefix(err, "%s: ", path);
  sc_transform_free(to_bgr);
  sc_tensor_free(raw);
  return st;
}

/* Steps for a stage with none configured: resize to the model input's
 * height and width (OpenCV bilinear), NCHW when the model takes a 4-D
 * input with 1 or 3 channels first, float32 (no normalisation). */
static sc_status default_steps(const struct sc_value *v, struct sc_pipeline *p,
                               struct sc_error *err)
{
  struct sc_transform_param hw[2], cast;
  int nchw = v && v->rank == 4 && (v->dims[1] == 3 || v->dims[1] == 1);
  int nhwc = v && v->rank == 4 && !nchw && (v->dims[3] == 3 || v->dims[3] == 1);
  sc_status st = SC_OK;
  memset(hw, 0, sizeof hw);
  memset(&cast, 0, sizeof cast);
  if (nchw || nhwc) {
    int64_t h = nchw ? v->dims[2] : v->dims[1];
    int64_t w = nchw ? v->dims[3] : v->dims[2];
    if (h > 0 && w > 0) {
      hw[0].key = "height";
      hw[0].number = (double)h;
      hw[1].key = "width";
      hw[1].number = (double)w;
      st = sc_pipeline_add(p, "resize", hw, 2, err);
    }
  }
  if (!st && nchw)
    st = sc_pipeline_add(p, "hwc_to_chw", NULL, 0, err);
  cast.key = "dtype";
  cast.type = SC_PARAM_STRING;
  cast.string = "float32";
  if (!st)
    st = sc_pipeline_add(p, "cast", &cast, 1, err);
  return st;
}

/* Decoded and preprocessed tensor of one input file for one stage. */
static sc_status prepare_one(const struct stages *s, const struct stage *stg,
                             const struct input_source *src, const char *path,
                             const struct sc_value *model_input,
                             struct sc_tensor **out, struct sc_error *err)
{
  struct sc_tensor *image = NULL;
  struct sc_pipeline *p = NULL;
  enum sc_layout layout = SC_LAYOUT_HWC;
  sc_status st;

  *out = NULL;
  if (has_suffix(path, ".npy"))
    return sc_npy_load(path, out, err); /* fed as-is */
  if (has_suffix(path, ".nv12"))
    st = decode_nv12(path, src->config, &image, err);
  else
    st = sc_image_load(path, &image, err);
  if (st)
    return st;
  /* the input's shared steps, then the stage's own */
  if (src->config)
    st = sc_config_pipeline(s->config, src->config, NULL, &p, err);
  else
    st = sc_pipeline_create(&p, err);
  if (!st && !stg->steps.present &&
      !(src->config && src->config->preprocess.present))
    st = default_steps(model_input, p, err);
  {
    int i;
    for (i = 0; !st && i < stg->steps.n_steps; i++) {
      const struct sc_config_step *step = &stg->steps.steps[i];
      st = sc_pipeline_add(p, step->name, step->params, step->n_params, err);
      if (st && s->config->path[0])
        sc_error_prefix(err, "%s:%d: ", s->config->path, step->line);
    }
  }
  if (!st)
    st = sc_pipeline_run(p, image, &layout, out, err);
  if (st)
    sc_error_prefix(err, "stage '%s', input %s: ", stg->name, path);
  sc_pipeline_free(p);
  sc_tensor_free(image);
  return st;
}

/* Fits t to graph input value v: batch dimension and float conversions. */
static sc_status fit(const struct stage *stg, const struct sc_value *v,
                     struct sc_tensor **t, struct sc_error *err)
{
  struct sc_tensor *in = *t, *conv = NULL;
  int i;
  char want[128], got[128];

  if (v->rank == in->rank + 1 && in->rank < SC_MAX_RANK) {
    for (i = in->rank; i > 0; i--)
      in->dims[i] = in->dims[i - 1];
    in->dims[0] = 1;
    in->rank++;
  }
  if (v->dtype != in->dtype) {
    int widen_ok =
        in->dtype == SC_DTYPE_FLOAT &&
        (v->dtype == SC_DTYPE_FLOAT16 || v->dtype == SC_DTYPE_BFLOAT16 ||
         v->dtype == SC_DTYPE_DOUBLE);
    int64_t k;
    sc_status st;
    if (!widen_ok)
      return sc_fail(err, SC_ERR_CONFIG,
                     "stage '%s': input '%s' expects %s, its preprocessing "
                     "gives %s (add a cast step)",
                     stg->name, v->name, sc_dtype_name(v->dtype),
                     sc_dtype_name(in->dtype));
    st = sc_tensor_create(v->dtype, in->rank, in->dims, &conv, err);
    if (st)
      return st;
    for (k = 0; k < in->n_elements; k++)
      sc_dtype_store(v->dtype, conv->data, k, ((float *)in->data)[k]);
    sc_tensor_free(in);
    *t = in = conv;
  }
  if (v->rank >= 0) {
    int ok = v->rank == in->rank;
    for (i = 0; ok && i < v->rank; i++)
      if (v->dims[i] >= 0 && v->dims[i] != in->dims[i])
        ok = 0;
    if (!ok)
      return sc_fail(err, SC_ERR_CONFIG,
                     "stage '%s': input '%s' expects shape %s, its "
                     "preprocessing gives %s",
                     stg->name, v->name,
                     sc_shape_format(v->rank, v->dims, want, sizeof want),
                     sc_shape_format(in->rank, in->dims, got, sizeof got));
  }
  return SC_OK;
}

sc_status sc_feeds_make(const struct stages *s, int stage, int set,
                        struct sc_tensor ***feeds, int *n_feeds,
                        struct sc_error *err)
{
  const struct stage *stg = &s->stages[stage];
  const struct input_set *is = &s->sets[set];
  const struct sc_graph *g = stg->graph;
  int n = g ? g->n_inputs : s->n_sources, i, k;
  struct sc_tensor **out;
  sc_status st = SC_OK;

  *feeds = NULL;
  *n_feeds = 0;
  out = calloc((size_t)n + 1, sizeof *out);
  if (!out)
    return sc_fail_nomem(err, "inputs");
  for (i = 0; i < n && !st; i++) {
    int src = i;
    if (g) { /* named sources bind by name, the others in order */
      const char *name = g->values[g->inputs[i]].name;
      src = -1;
      for (k = 0; k < s->n_sources; k++)
        if (s->sources[k].name && strcmp(s->sources[k].name, name) == 0)
          src = k;
      if (src < 0) {
        int unnamed = 0;
        for (k = 0; k < s->n_sources; k++)
          if (!s->sources[k].name && unnamed++ == i)
            src = k;
      }
      if (src < 0) {
        st = sc_fail(err, SC_ERR_CONFIG,
                     "stage '%s': no input source feeds model input '%s' "
                     "(%d source%s configured)",
                     stg->name, name, s->n_sources,
                     s->n_sources == 1 ? "" : "s");
        break;
      }
    }
    st = prepare_one(s, stg, &s->sources[src], is->files[src],
                     g ? &g->values[g->inputs[i]] : NULL, &out[i], err);
    if (!st && g)
      st = fit(stg, &g->values[g->inputs[i]], &out[i], err);
  }
  if (st) {
    sc_feeds_free(out, n);
    return st;
  }
  *feeds = out;
  *n_feeds = n;
  return SC_OK;
}
