/* Stages and inputs of a verify run: from stagecheck.yaml or by discovery
 * (spec/cli.md, "The model directory"), every path confined to the model
 * directory, inputs listed in a fixed order. */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "compare/view.h"
#include "loaders/file.h"
#include "loaders/onnx.h"
#include "runtime/emulate.h"
#include "runtime/executor.h"
#include "runtime/op.h"
#include "runtime/threadpool.h"
#include "verifier/verify_internal.h"

/* Discovery patterns, first match wins (spec/cli.md). */
static const char *const float_patterns[] = {"*_original_float_model.onnx",
                                             "float.onnx", "*_float.onnx",
                                             "model.onnx", NULL};
static const char *const optimized_patterns[] = {
    "*_optimized_float_model.onnx", "optimized.onnx", "*_optimized.onnx",
    "*_fp16.onnx", NULL};
static const char *const quantized_patterns[] = {"*_quantized_model.onnx",
                                                 "*_calibrated_model.onnx",
                                                 "quantized.onnx",
                                                 "*_qdq.onnx",
                                                 "*_int8.onnx",
                                                 "*_quant.onnx",
                                                 NULL};

static const char *const input_extensions[] = {".jpg",  ".jpeg", ".png", ".npy",
                                               ".nv12", ".bmp",  NULL};

static int has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

static int is_input_file(const char *name)
{
  const char *const *e;
  for (e = input_extensions; *e; e++)
    if (has_suffix(name, *e))
      return 1;
  return 0;
}

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files (or directories) in dir. */
static sc_status list_dir(const char *dir, int want_dirs, char ***names, int *n,
                          struct sc_error *err)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int cap = 0;
  *names = NULL;
  *n = 0;
  if (!d)
    return sc_fail(err, SC_ERR_CONFIG, "%s: cannot open directory", dir);
  while ((e = readdir(d)) != NULL) {
    char *path;
    int is_dir;
    if (e->d_name[0] == '.')
      continue;
    path = sc_path_join(dir, e->d_name);
    if (!path) {
      closedir(d);
      return sc_fail_nomem(err, dir);
    }
    is_dir = sc_path_is_dir(path);
    free(path);
    if (is_dir != want_dirs)
      continue;
    if (*n == cap) {
      char **grown;
      cap = cap ? cap * 2 : 32;
      grown = realloc(*names, (size_t)cap * sizeof *grown);
      if (!grown) {
        closedir(d);
        return sc_fail_nomem(err, dir);
      }
      *names = grown;
    }
    (*names)[*n] = strdup(e->d_name);
    if (!(*names)[*n]) {
      closedir(d);
      return sc_fail_nomem(err, dir);
    }
    (*n)++;
  }
  closedir(d);
  if (*n > 1)
    qsort(*names, (size_t)*n, sizeof **names, compare_strings);
  return SC_OK;
}

static void free_names(char **names, int n)
{
  int i;
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

static const char *first_match(char *const *names, int n,
                               const char *const *patterns)
{
  const char *const *p;
  int i;
  for (p = patterns; *p; p++)
    for (i = 0; i < n; i++)
      if (fnmatch(*p, names[i], 0) == 0)
        return names[i];
  return NULL;
}

void sc_stages_free(struct stages *s)
{
  int i, k;
  if (!s)
    return;
  sc_names_free(s->names);
  for (i = 0; i < s->n_stages; i++) {
    struct stage *st = &s->stages[i];
    free(st->name);
    free(st->path);
    free(st->source);
    free(st->note);
    sc_config_steps_clear(&st->steps);
    sc_view_free(st->view);
    sc_graph_free(st->graph);
    sc_dump_free(st->dump);
    sc_dump_free(st->view_dump);
  }
  free(s->stages);
  for (i = 0; i < s->n_sources; i++) {
    free(s->sources[i].name);
    free_names(s->sources[i].files, s->sources[i].n_files);
  }
  free(s->sources);
  for (i = 0; i < s->n_sets; i++) {
    free(s->sets[i].id);
    for (k = 0; k < s->sets[i].n_files; k++)
      free(s->sets[i].files[k]);
    free(s->sets[i].files);
  }
  free(s->sets);
  sc_config_free(s->config);
  free(s->model_dir);
  free(s);
}

/* Deep copy of a step list (stages keep their own). */
static sc_status copy_steps(const struct sc_config_steps *from,
                            struct sc_config_steps *to, struct sc_error *err)
{
  int i, k;
  memset(to, 0, sizeof *to);
  to->present = from->present;
  if (!from->n_steps)
    return SC_OK;
  to->steps = calloc((size_t)from->n_steps, sizeof *to->steps);
  if (!to->steps)
    return sc_fail_nomem(err, "steps");
  for (i = 0; i < from->n_steps; i++) {
    const struct sc_config_step *a = &from->steps[i];
    struct sc_config_step *b = &to->steps[i];
    to->n_steps = i + 1;
    b->name = strdup(a->name);
    b->line = a->line;
    b->params = calloc((size_t)a->n_params + 1, sizeof *b->params);
    if (!b->name || !b->params)
      return sc_fail_nomem(err, "steps");
    for (k = 0; k < a->n_params; k++) {
      b->params[k] = a->params[k];
      b->params[k].key = a->params[k].key ? strdup(a->params[k].key) : NULL;
      b->params[k].string =
          a->params[k].string ? strdup(a->params[k].string) : NULL;
      if (a->params[k].list) {
        double *l = calloc(SC_TRANSFORM_MAX_LIST, sizeof *l);
        if (!l)
          return sc_fail_nomem(err, "steps");
        memcpy(l, a->params[k].list, (size_t)a->params[k].n_list * sizeof *l);
        b->params[k].list = l;
      }
      b->n_params = k + 1;
    }
  }
  return SC_OK;
}

static sc_status add_stage(struct stages *s, const char *name,
                           enum stage_kind kind, const char *source,
                           struct sc_error *err)
{
  struct stage *grown =
      realloc(s->stages, (size_t)(s->n_stages + 1) * sizeof *grown);
  struct stage *st;
  if (!grown)
    return sc_fail_nomem(err, "stages");
  s->stages = grown;
  st = &s->stages[s->n_stages++];
  memset(st, 0, sizeof *st);
  st->name = strdup(name);
  st->kind = kind;
  st->source = strdup(source);
  if (!st->name || !st->source)
    return sc_fail_nomem(err, "stages");
  return SC_OK;
}

/* Resolves a stage file inside the model directory: missing or outside is a
 * configuration error naming the stage and the file. */
static sc_status resolve_stage_path(const char *model_dir, struct stage *st,
                                    struct sc_error *err)
{
  char what[512];
  sc_status status;
  snprintf(what, sizeof what, "stage '%s'", st->name);
  status = sc_path_confine(model_dir, st->source, what, &st->path, err);
  if (status) {
    char msg[SC_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "%s", err->message);
    return sc_fail(err, SC_ERR_CONFIG, "%s/%s: %s", model_dir, st->source, msg);
  }
  return SC_OK;
}

static sc_status stages_from_config(struct stages *s, struct sc_error *err)
{
  const struct sc_config *c = s->config;
  int i;
  for (i = 0; i < c->n_stages; i++) {
    const struct sc_config_stage *cs = &c->stages[i];
    enum stage_kind kind = cs->model  ? STAGE_ONNX
                           : cs->dump ? STAGE_DUMP
                                      : STAGE_BINARY;
    const char *src = cs->model ? cs->model : cs->dump ? cs->dump : cs->binary;
    struct stage *st;
    sc_status status = add_stage(s, cs->name, kind, src, err);
    if (status)
      return status;
    st = &s->stages[s->n_stages - 1];
    st->config = cs;
    st->emulate = cs->emulate;
    st->rounding = cs->rounding;
    status = copy_steps(&cs->input, &st->steps, err);
    if (!status)
      status = resolve_stage_path(s->model_dir, st, err);
    if (status)
      return status;
    if (kind == STAGE_DUMP && !sc_path_is_dir(st->path))
      return sc_fail(err, SC_ERR_CONFIG,
                     "%s: stage '%s': dump '%s' is not a "
                     "directory",
                     c->path, st->name, st->source);
    if (kind == STAGE_BINARY) {
      st->note = strdup("present, not executable here: supply a dump");
      if (!st->note)
        return sc_fail_nomem(err, "stages");
    }
  }
  return SC_OK;
}

/* Discovery by file names, with hb_mapper YAML pipelines when present. */
static sc_status discover(struct stages *s, struct sc_error *err)
{
  char **files = NULL, **dirs = NULL;
  int n_files = 0, n_dirs = 0, i;
  struct sc_config_steps float_steps = {0}, quant_steps = {0};
  const struct sc_config_steps *qs;
  const char *f, *o, *q, *binary = NULL;
  int compiled_dir = 0;
  sc_status st = list_dir(s->model_dir, 0, &files, &n_files, err);

  if (!st)
    st = list_dir(s->model_dir, 1, &dirs, &n_dirs, err);
  if (st)
    goto done;
  for (i = 0; i < n_files; i++)
    if ((has_suffix(files[i], ".yaml") || has_suffix(files[i], ".yml")) &&
        strcmp(files[i], "stagecheck.yaml") != 0) {
      char *path = sc_path_join(s->model_dir, files[i]);
      if (!path) {
        st = sc_fail_nomem(err, "discovery");
        goto done;
      }
      if (sc_config_is_hb_mapper(path))
        st = sc_config_load_hb_mapper(path, &float_steps, &quant_steps, err);
      free(path);
      if (st)
        goto done;
      if (float_steps.present)
        break;
    }
  f = first_match(files, n_files, float_patterns);
  o = first_match(files, n_files, optimized_patterns);
  q = first_match(files, n_files, quantized_patterns);
  for (i = 0; i < n_dirs; i++)
    if (strcmp(dirs[i], "compiled") == 0)
      compiled_dir = 1;
  for (i = 0; i < n_files; i++)
    if (has_suffix(files[i], ".bin") || has_suffix(files[i], ".hbm"))
      binary = files[i];

#define DISCOVERED(name, kind, file, step_list)                                \
  do {                                                                         \
    st = add_stage(s, name, kind, file, err);                                  \
    if (!st)                                                                   \
      st = copy_steps((step_list), &s->stages[s->n_stages - 1].steps, err);    \
    if (!st)                                                                   \
      st = resolve_stage_path(s->model_dir, &s->stages[s->n_stages - 1], err); \
    if (st)                                                                    \
      goto done;                                                               \
  } while (0)

  /* integer stages take the runtime input when hb_mapper gives one */
  qs = quant_steps.present ? &quant_steps : &float_steps;
  if (f)
    DISCOVERED("float", STAGE_ONNX, f, &float_steps);
  if (o)
    DISCOVERED("optimized", STAGE_ONNX, o, &float_steps);
  if (q)
    DISCOVERED("quantized", STAGE_ONNX, q, qs);
  for (i = 0; i < n_files; i++)
    if (strcmp(files[i], "compiled.onnx") == 0)
      break;
  if (i < n_files)
    DISCOVERED("compiled", STAGE_ONNX, "compiled.onnx", qs);
  else if (compiled_dir)
    DISCOVERED("compiled", STAGE_DUMP, "compiled", qs);
  else if (binary) {
    DISCOVERED("compiled", STAGE_BINARY, binary, qs);
    s->stages[s->n_stages - 1].note =
        strdup("present, not executable here: supply a dump");
  }
#undef DISCOVERED
  if (s->n_stages == 0)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "%s: no stagecheck.yaml and no stage file found (float.onnx, "
                 "*_quantized_model.onnx, compiled/ ...: see spec/cli.md)",
                 s->model_dir);
done:
  free_names(files, n_files);
  free_names(dirs, n_dirs);
  sc_config_steps_clear(&float_steps);
  sc_config_steps_clear(&quant_steps);
  return st;
}

/* Keeps only the stages named in "a,b,c", in that order. */
static sc_status select_stages(struct stages *s, const char *list,
                               struct sc_error *err)
{
  struct stage *picked = calloc((size_t)s->n_stages + 1, sizeof *picked);
  uint8_t *used = calloc((size_t)s->n_stages + 1, 1);
  char *copy = strdup(list), *tok, *save;
  int n = 0, i;
  sc_status st = SC_OK;

  if (!picked || !used || !copy) {
    st = sc_fail_nomem(err, "stages");
    goto done;
  }
  for (tok = strtok_r(copy, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    for (i = 0; i < s->n_stages; i++)
      if (strcmp(s->stages[i].name, tok) == 0)
        break;
    if (i == s->n_stages) {
      st = sc_fail(err, SC_ERR_USAGE, "--stages: no stage named '%s'", tok);
      goto done;
    }
    if (used[i]) {
      st = sc_fail(err, SC_ERR_USAGE, "--stages: '%s' is listed twice", tok);
      goto done;
    }
    used[i] = 1;
    picked[n++] = s->stages[i];
  }
  for (i = 0; i < s->n_stages; i++)
    if (!used[i]) { /* not selected: release */
      struct stage *x = &s->stages[i];
      free(x->name);
      free(x->path);
      free(x->source);
      free(x->note);
      sc_config_steps_clear(&x->steps);
    }
  free(s->stages);
  s->stages = picked;
  s->n_stages = n;
  picked = NULL;
done:
  free(picked);
  free(used);
  free(copy);
  return st;
}

/* SC_OK when `file`, links resolved, lies inside `base`; else a
 * configuration error naming the file and where it leads. */
static sc_status confine_file(const char *base, const char *file,
                              struct sc_error *err)
{
  char *real_file = realpath(file, NULL);
  sc_status st = SC_OK;
  if (!real_file)
    return sc_fail(err, SC_ERR_CONFIG, "%s: cannot open input: %s", file,
                   strerror(errno));
  if (!sc_path_inside(real_file, base))
    st = sc_fail(err, SC_ERR_CONFIG,
                 "%s: input leads outside the model directory (to %s)", file,
                 real_file);
  free(real_file);
  return st;
}

/* Files of one source: a file, a directory (input files, sorted) or a glob
 * (sorted). `confine`: the source comes from the configuration and must stay
 * inside the model directory. */
static sc_status expand_source(const char *base, const char *source,
                               int confine, struct input_source *out,
                               struct sc_error *err)
{
  char *path = NULL;
  sc_status st = SC_OK;
  int i;

  if (confine) {
    char *real;
    if (strpbrk(source, "*?[")) { /* glob: confine its directory part */
      char *dir = sc_path_dirname(source);
      if (!dir)
        return sc_fail_nomem(err, source);
      if (strcmp(dir, ".") != 0) {
        st = sc_path_confine(base, dir, "input source", &real, err);
        free(real);
      }
      free(dir);
      if (!st && (source[0] == '/' || strstr(source, "..")))
        st = sc_fail(err, SC_ERR_CONFIG,
                     "input source '%s' leaves the model directory", source);
      if (st) {
        err->status = SC_ERR_CONFIG;
        return SC_ERR_CONFIG;
      }
      path = sc_path_join(base, source);
    } else {
      st = sc_path_confine(base, source, "input source", &real, err);
      if (st) {
        err->status = SC_ERR_CONFIG;
        return SC_ERR_CONFIG;
      }
      free(real);
      path = sc_path_join(base, source);
    }
  } else {
    path = strdup(source);
  }
  if (!path)
    return sc_fail_nomem(err, source);

  if (sc_path_is_dir(path)) {
    char **names;
    int n;
    st = list_dir(path, 0, &names, &n, err);
    if (!st) {
      out->files = calloc((size_t)n + 1, sizeof *out->files);
      if (!out->files)
        st = sc_fail_nomem(err, path);
      for (i = 0; !st && i < n; i++)
        if (is_input_file(names[i])) {
          out->files[out->n_files] = sc_path_join(path, names[i]);
          if (!out->files[out->n_files++])
            st = sc_fail_nomem(err, path);
        }
      free_names(names, n);
    }
  } else if (strpbrk(source, "*?[")) {
    glob_t g;
    int rc = glob(path, 0, NULL, &g);
    if (rc == 0) {
      out->files = calloc(g.gl_pathc + 1, sizeof *out->files);
      if (!out->files)
        st = sc_fail_nomem(err, path);
      for (i = 0; !st && i < (int)g.gl_pathc; i++) {
        out->files[out->n_files] = strdup(g.gl_pathv[i]);
        if (!out->files[out->n_files++])
          st = sc_fail_nomem(err, path);
      }
    }
    globfree(&g);
  } else if (sc_path_is_file(path)) {
    out->files = calloc(2, sizeof *out->files);
    if (!out->files || !(out->files[0] = strdup(path)))
      st = sc_fail_nomem(err, path);
    else
      out->n_files = 1;
  } else {
    st = sc_fail(err, SC_ERR_CONFIG, "%s: input not found", path);
  }
  if (!st && out->n_files == 0)
    st = sc_fail(err, SC_ERR_CONFIG,
                 "%s: no input files (.jpg .png .npy "
                 ".nv12) found",
                 path);
  for (i = 0; !st && confine && i < out->n_files; i++)
    st = confine_file(base, out->files[i], err); /* links inside it */
  free(path);
  return st;
}

static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static sc_status make_sources(struct stages *s,
                              const struct sc_verify_options *o,
                              struct sc_error *err)
{
  const struct sc_config *c = s->config;
  int n = c->n_inputs > 0 ? c->n_inputs : 1, i, k, n_sets = -1, kept = 0;
  sc_status st;

  s->sources = calloc((size_t)n + 1, sizeof *s->sources);
  if (!s->sources)
    return sc_fail_nomem(err, "inputs");
  s->n_sources = n;
  for (i = 0; i < n; i++) {
    struct input_source *src = &s->sources[i];
    const struct sc_config_input *ci = c->n_inputs ? &c->inputs[i] : NULL;
    src->config = ci;
    if (ci && ci->name && !(src->name = strdup(ci->name)))
      return sc_fail_nomem(err, "inputs");
    if (i == 0 && o->n_inputs > 0) { /* --input overrides the first source */
      int j;
      for (j = 0; j < o->n_inputs; j++) {
        struct input_source part;
        char **grown;
        memset(&part, 0, sizeof part);
        st = expand_source(".", o->inputs[j], 0, &part, err);
        if (st) {
          free_names(part.files, part.n_files);
          return st;
        }
        grown = realloc(src->files, (size_t)(src->n_files + part.n_files + 1) *
                                        sizeof *grown);
        if (!grown) {
          free_names(part.files, part.n_files);
          return sc_fail_nomem(err, "inputs");
        }
        src->files = grown;
        memcpy(src->files + src->n_files, part.files,
               (size_t)part.n_files * sizeof *grown);
        src->n_files += part.n_files;
        free(part.files);
      }
    } else {
      const char *source = ci && ci->source ? ci->source : "inputs";
      st = expand_source(s->model_dir, source, 1, src, err);
      if (st)
        return st;
    }
    if (n_sets >= 0 && src->n_files != n_sets)
      return sc_fail(err, SC_ERR_CONFIG,
                     "the input sources hold different numbers of files (%d "
                     "and %d)",
                     n_sets, src->n_files);
    n_sets = src->n_files;
  }

  s->sets = calloc((size_t)n_sets + 1, sizeof *s->sets);
  if (!s->sets)
    return sc_fail_nomem(err, "inputs");
  for (k = 0; k < n_sets; k++) {
    struct input_set *set;
    char id[1024] = "";
    if (o->shard_count > 0 && k % o->shard_count != o->shard_index)
      continue;
    if (o->max_images > 0 && kept >= o->max_images)
      break;
    set = &s->sets[s->n_sets++];
    kept++;
    set->files = calloc((size_t)n + 1, sizeof *set->files);
    if (!set->files)
      return sc_fail_nomem(err, "inputs");
    for (i = 0; i < n; i++) {
      set->files[i] = strdup(s->sources[i].files[k]);
      set->n_files = i + 1;
      if (!set->files[i])
        return sc_fail_nomem(err, "inputs");
      if (strlen(id) + strlen(base_name(set->files[i])) + 2 < sizeof id) {
        if (i)
          strcat(id, "+");
        strcat(id, base_name(set->files[i]));
      }
    }
    set->id = strdup(id);
    if (!set->id)
      return sc_fail_nomem(err, "inputs");
  }
  if (s->n_sets == 0)
    return sc_fail(err, SC_ERR_CONFIG,
                   "no inputs left to process (shard %d/%d, --max-images %d)",
                   o->shard_index, o->shard_count, o->max_images);
  return SC_OK;
}

/* Loads an ONNX stage: the emulated accelerator's rewrite for `emulate`
 * stages, preparation (with quantization annotations), and the matcher's
 * view. */
static sc_status load_onnx(struct stage *st, struct sc_error *err)
{
  sc_status status = sc_onnx_load(st->path, &st->graph, err);
  if (!status && st->emulate) {
    struct sc_emulate_options eo;
    eo.rounding = st->rounding == SC_ROUND_HALF_EVEN
                      ? SC_EMULATE_HALF_EVEN
                      : SC_EMULATE_HALF_AWAY_FROM_ZERO;
    status = sc_graph_emulate(st->graph, &eo, NULL, err);
  }
  if (!status) /* also annotates quantized tensors (runtime/quant.h) */
    status = sc_graph_prepare(st->graph, err);
  if (!status)
    status = sc_view_from_graph(st->graph, &st->view, err);
  if (status)
    sc_error_prefix(err, "stage '%s': ", st->name);
  return status;
}

/* The ONNX stages load side by side, on up to `threads` threads of a
 * thread pool that lives for the loading (a stage's graph is its own, and
 * the runtime's shared tables are set up once in a thread-safe way): on
 * the ISNet chain the three loads took 0.42, 0.14 and 0.16 s one after the
 * other. The pool hands out one stage at a time. A failure is reported as
 * a load in stage order would report it: the first failing stage's error. */
struct load_job {
  struct stages *s;
  sc_status *status;
  struct sc_error *errs;
};

static void load_range(void *ctx, int64_t begin, int64_t end)
{
  struct load_job *job = ctx;
  int64_t i;
  for (i = begin; i < end; i++)
    if (job->s->stages[i].kind == STAGE_ONNX)
      job->status[i] = load_onnx(&job->s->stages[i], &job->errs[i]);
}

static sc_status load_stages(struct stages *s, int threads,
                             struct sc_error *err)
{
  struct load_job job;
  struct sc_threadpool *pool = NULL;
  size_t n_families;
  int n_onnx = 0, i;
  sc_status st = SC_OK;

  for (i = 0; i < s->n_stages; i++)
    n_onnx += s->stages[i].kind == STAGE_ONNX;
  if (threads > n_onnx)
    threads = n_onnx;
  job.s = s;
  job.status = calloc((size_t)s->n_stages + 1, sizeof *job.status);
  job.errs = calloc((size_t)s->n_stages + 1, sizeof *job.errs);
  if (!job.status || !job.errs) {
    free(job.status);
    free(job.errs);
    return sc_fail_nomem(err, "stages");
  }
  (void)sc_op_families(&n_families); /* its one-time set-up, before sharing */
  /* a pool that cannot start loads the stages one after the other */
  if (threads > 1 && sc_threadpool_create(threads, &pool, NULL) != SC_OK)
    pool = NULL;
  sc_parallel_for(pool, s->n_stages, 1, load_range, &job);
  sc_threadpool_free(pool);
  for (i = 0; i < s->n_stages && !st; i++)
    if (job.status[i]) {
      st = job.status[i];
      *err = job.errs[i];
    }
  free(job.status);
  free(job.errs);
  return st;
}

sc_status sc_stages_load(const struct sc_verify_options *o, struct stages **out,
                         struct sc_error *err)
{
  struct stages *s;
  char *config_path = NULL;
  sc_status st;

  *out = NULL;
  if (!sc_path_is_dir(o->model_dir))
    return sc_fail(err, SC_ERR_CONFIG, "%s: not a model directory",
                   o->model_dir);
  s = calloc(1, sizeof *s);
  if (!s)
    return sc_fail_nomem(err, "stages");
  s->model_dir = strdup(o->model_dir);
  if (!s->model_dir) {
    free(s);
    return sc_fail_nomem(err, "stages");
  }
  if (o->config_path)
    config_path = strdup(o->config_path);
  else {
    struct stat sb;
    /* present in any form (a FIFO, a directory, a dangling link): loaded,
     * and refused by the loader with its reason */
    config_path = sc_path_join(o->model_dir, "stagecheck.yaml");
    if (config_path && lstat(config_path, &sb) != 0) {
      free(config_path);
      config_path = NULL;
    }
  }
  if (config_path) {
    st = sc_config_load(config_path, &s->config, err);
    free(config_path);
    if (!st && s->config->n_stages > 0)
      st = stages_from_config(s, err);
    else if (!st)
      st = discover(s, err);
  } else {
    st = sc_config_new(o->model_dir, &s->config, err);
    if (!st)
      st = discover(s, err);
  }
  if (!st && o->stages)
    st = select_stages(s, o->stages, err);
  if (!st && s->n_stages == 0)
    st = sc_fail(err, SC_ERR_CONFIG, "%s: no stages to verify", o->model_dir);
  if (!st && s->config->match_file) { /* inside the model directory */
    char *names_path = NULL;
    st = sc_path_confine(s->model_dir, s->config->match_file, "match.file",
                         &names_path, err);
    if (st)
      err->status = st = SC_ERR_CONFIG;
    else
      st = sc_names_load(names_path, &s->names, err);
    free(names_path);
  }
  if (!st)
    st = make_sources(s, o, err);
  if (!st)
    st = load_stages(s, o->threads > 0 ? o->threads : sc_cpu_count(), err);
  if (st) {
    sc_stages_free(s);
    return st;
  }
  *out = s;
  return SC_OK;
}
