#include "loaders/config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "loaders/file.h"

#define MAX_CONFIG_SIZE ((size_t)1 << 20)

/* Parsing context: the document, the file name, and the first error. */
struct yctx {
  yaml_document_t doc;
  const char *path;
  struct sc_error *err;
};

static yaml_node_t *node_at(struct yctx *y, int id)
{
  return yaml_document_get_node(&y->doc, id);
}

static int line_of(const yaml_node_t *n)
{
  return n ? (int)n->start_mark.line + 1 : 0;
}

static sc_status fail_at(struct yctx *y, const yaml_node_t *n, const char *fmt,
                         ...) __attribute__((format(printf, 3, 4)));

static sc_status fail_at(struct yctx *y, const yaml_node_t *n, const char *fmt,
                         ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sc_fail(y->err, SC_ERR_CONFIG, "%s:%d: %s", y->path, line_of(n), msg);
}

static const char *scalar(const yaml_node_t *n)
{
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                          : NULL;
}

static int quoted(const yaml_node_t *n)
{
  return n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
         n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

static const char *type_name(const yaml_node_t *n)
{
  switch (n->type) {
  case YAML_SCALAR_NODE:
    return "a value";
  case YAML_SEQUENCE_NODE:
    return "a list";
  case YAML_MAPPING_NODE:
    return "a mapping";
  default:
    return "nothing";
  }
}

static sc_status expect(struct yctx *y, const yaml_node_t *n,
                        yaml_node_type_t type, const char *what)
{
  static const char *wanted[] = {"", "a value", "a list", "a mapping"};
  if (n->type != type)
    return fail_at(y, n, "%s must be %s, not %s", what, wanted[type],
                   type_name(n));
  return SC_OK;
}

static int parse_number(const char *s, double *out)
{
  char *end;
  if (!s || !*s)
    return -1;
  *out = strtod(s, &end);
  /* strtod takes "nan" and "inf": a NaN bound would pass every check */
  return *end || !isfinite(*out) ? -1 : 0;
}

static sc_status get_string(struct yctx *y, yaml_node_t *n, const char *what,
                            char **out)
{
  sc_status st = expect(y, n, YAML_SCALAR_NODE, what);
  if (st)
    return st;
  free(*out);
  *out = strdup(scalar(n));
  if (!*out)
    return sc_fail_nomem(y->err, what);
  return SC_OK;
}

static sc_status get_number(struct yctx *y, yaml_node_t *n, const char *what,
                            double *out)
{
  sc_status st = expect(y, n, YAML_SCALAR_NODE, what);
  if (st)
    return st;
  if (parse_number(scalar(n), out) != 0)
    return fail_at(y, n, "%s must be a number, not '%s'", what, scalar(n));
  return SC_OK;
}

/* --- transformer steps ------------------------------------------------ */

static void step_clear(struct sc_config_step *s)
{
  int i;
  for (i = 0; i < s->n_params; i++) {
    free((char *)s->params[i].key);
    free((char *)s->params[i].string);
    free((double *)s->params[i].list);
  }
  free(s->params);
  free(s->name);
  memset(s, 0, sizeof *s);
}

void sc_config_steps_clear(struct sc_config_steps *s)
{
  int i;
  for (i = 0; i < s->n_steps; i++)
    step_clear(&s->steps[i]);
  free(s->steps);
  memset(s, 0, sizeof *s);
}

/* One parameter value: a scalar (number, bool or string) or a list of
 * numbers (nested lists are flattened: [[224, 224]] -> 224, 224). */
static sc_status parse_param(struct yctx *y, const char *step, const char *key,
                             yaml_node_t *v, struct sc_transform_param *p)
{
  memset(p, 0, sizeof *p);
  p->line = line_of(v);
  if (key) {
    p->key = strdup(key);
    if (!p->key)
      return sc_fail_nomem(y->err, "config");
  }
  if (v->type == YAML_SCALAR_NODE) {
    const char *s = scalar(v);
    double num;
    if (!quoted(v) && parse_number(s, &num) == 0) {
      p->type = SC_PARAM_NUMBER;
      p->number = num;
    } else if (!quoted(v) &&
               (strcasecmp(s, "true") == 0 || strcasecmp(s, "false") == 0)) {
      p->type = SC_PARAM_BOOL;
      p->number = strcasecmp(s, "true") == 0;
    } else {
      p->type = SC_PARAM_STRING;
      p->string = strdup(s);
      if (!p->string)
        return sc_fail_nomem(y->err, "config");
    }
    return SC_OK;
  }
  if (v->type == YAML_SEQUENCE_NODE) {
    double *list = calloc(SC_TRANSFORM_MAX_LIST, sizeof *list);
    yaml_node_item_t *it;
    int n = 0;
    if (!list)
      return sc_fail_nomem(y->err, "config");
    p->type = SC_PARAM_LIST;
    p->list = list;
    for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
      yaml_node_t *item = node_at(y, *it);
      yaml_node_item_t *inner;
      if (item->type == YAML_SEQUENCE_NODE) {
        for (inner = item->data.sequence.items.start;
             inner < item->data.sequence.items.top; inner++) {
          yaml_node_t *x = node_at(y, *inner);
          if (n >= SC_TRANSFORM_MAX_LIST)
            return fail_at(y, x, "%s: parameter '%s' has more than %d values",
                           step, key ? key : "", SC_TRANSFORM_MAX_LIST);
          if (x->type != YAML_SCALAR_NODE ||
              parse_number(scalar(x), &list[n]) != 0)
            return fail_at(y, x,
                           "%s: parameter '%s' must be a list of "
                           "numbers",
                           step, key ? key : "");
          n++;
        }
        continue;
      }
      if (n >= SC_TRANSFORM_MAX_LIST)
        return fail_at(y, item, "%s: parameter '%s' has more than %d values",
                       step, key ? key : "", SC_TRANSFORM_MAX_LIST);
      if (item->type != YAML_SCALAR_NODE ||
          parse_number(scalar(item), &list[n]) != 0)
        return fail_at(y, item,
                       "%s: parameter '%s' must be a list of "
                       "numbers",
                       step, key ? key : "");
      n++;
    }
    p->n_list = n;
    return SC_OK;
  }
  return fail_at(y, v, "%s: parameter '%s' must be a value or a list, not %s",
                 step, key ? key : "", type_name(v));
}

static sc_status parse_step(struct yctx *y, yaml_node_t *n,
                            struct sc_config_step *s)
{
  yaml_node_t *value;
  yaml_node_pair_t *pair;
  int n_params = 0, i;
  sc_status st;

  memset(s, 0, sizeof *s);
  s->line = line_of(n);
  if (n->type == YAML_SCALAR_NODE) { /* - bgr_to_rgb */
    s->name = strdup(scalar(n));
    return s->name ? SC_OK : sc_fail_nomem(y->err, "config");
  }
  if (n->type != YAML_MAPPING_NODE ||
      n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
    return fail_at(y, n,
                   "a step is a name (- bgr_to_rgb) or a one-key "
                   "mapping (- resize: {height: 224, width: 224})");
  pair = n->data.mapping.pairs.start;
  if (!scalar(node_at(y, pair->key)))
    return fail_at(y, n, "a step's name must be a plain value");
  s->name = strdup(scalar(node_at(y, pair->key)));
  if (!s->name)
    return sc_fail_nomem(y->err, "config");
  value = node_at(y, pair->value);

  if (value->type == YAML_MAPPING_NODE) /* keyword parameters */
    n_params =
        (int)(value->data.mapping.pairs.top - value->data.mapping.pairs.start);
  else if (value->type == YAML_SEQUENCE_NODE) /* positional parameters */
    n_params = (int)(value->data.sequence.items.top -
                     value->data.sequence.items.start);
  else if (value->type == YAML_SCALAR_NODE &&
           scalar(value)[0] != '\0') /* - add: -128 */
    n_params = 1;
  if (n_params > 64)
    return fail_at(y, value, "%s: too many parameters", s->name);
  s->params = calloc((size_t)n_params + 1, sizeof *s->params);
  if (!s->params)
    return sc_fail_nomem(y->err, "config");
  for (i = 0; i < n_params; i++) {
    if (value->type == YAML_MAPPING_NODE) {
      yaml_node_pair_t *kv = value->data.mapping.pairs.start + i;
      yaml_node_t *k = node_at(y, kv->key);
      if (!scalar(k))
        return fail_at(y, k, "%s: parameter names must be plain values",
                       s->name);
      st = parse_param(y, s->name, scalar(k), node_at(y, kv->value),
                       &s->params[i]);
    } else if (value->type == YAML_SEQUENCE_NODE) {
      st = parse_param(y, s->name, NULL,
                       node_at(y, value->data.sequence.items.start[i]),
                       &s->params[i]);
    } else {
      st = parse_param(y, s->name, NULL, value, &s->params[i]);
    }
    s->n_params = i + 1;
    if (st)
      return st;
  }
  return SC_OK;
}

static sc_status parse_steps(struct yctx *y, yaml_node_t *n, const char *what,
                             struct sc_config_steps *out)
{
  yaml_node_item_t *it;
  sc_status st;
  int count;

  sc_config_steps_clear(out);
  out->present = 1;
  if (n->type == YAML_SCALAR_NODE && scalar(n)[0] == '\0')
    return SC_OK; /* "input:" with nothing: no steps */
  st = expect(y, n, YAML_SEQUENCE_NODE, what);
  if (st)
    return st;
  count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
  out->steps = calloc((size_t)count + 1, sizeof *out->steps);
  if (!out->steps)
    return sc_fail_nomem(y->err, "config");
  for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
       it++) {
    st = parse_step(y, node_at(y, *it), &out->steps[out->n_steps]);
    out->n_steps++;
    if (st)
      return st;
  }
  return SC_OK;
}

/* --- sections ------------------------------------------------------- */

/* Fails on a key not in `allowed` (NULL-terminated). */
static sc_status check_keys(struct yctx *y, yaml_node_t *map, const char *what,
                            const char *const *allowed)
{
  yaml_node_pair_t *p;
  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    yaml_node_t *k = node_at(y, p->key);
    const char *name = scalar(k);
    const char *const *a;
    if (!name)
      return fail_at(y, k, "%s: keys must be plain values", what);
    for (a = allowed; *a; a++)
      if (strcmp(*a, name) == 0)
        break;
    if (!*a) {
      char list[512] = "";
      for (a = allowed; *a; a++) {
        strcat(list, a == allowed ? "" : ", ");
        strcat(list, *a);
      }
      return fail_at(y, k, "unknown key '%s' in %s (known: %s)", name, what,
                     list);
    }
  }
  return SC_OK;
}

static yaml_node_t *map_get(struct yctx *y, yaml_node_t *map, const char *key)
{
  yaml_node_pair_t *p;
  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    const char *name = scalar(node_at(y, p->key));
    if (name && strcmp(name, key) == 0)
      return node_at(y, p->value);
  }
  return NULL;
}

static sc_status parse_inputs(struct yctx *y, yaml_node_t *n,
                              struct sc_config *c)
{
  static const char *const keys[] = {"name",  "source", "preprocess",
                                     "width", "height", NULL};
  yaml_node_item_t *it;
  sc_status st = expect(y, n, YAML_SEQUENCE_NODE, "inputs");
  int count;
  if (st)
    return st;
  count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
  c->inputs = calloc((size_t)count + 1, sizeof *c->inputs);
  if (!c->inputs)
    return sc_fail_nomem(y->err, "config");
  for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
       it++) {
    yaml_node_t *m = node_at(y, *it), *v;
    struct sc_config_input *in = &c->inputs[c->n_inputs++];
    double num;
    st = expect(y, m, YAML_MAPPING_NODE, "an entry of inputs");
    if (!st)
      st = check_keys(y, m, "an input", keys);
    if (st)
      return st;
    in->line = line_of(m);
    if ((v = map_get(y, m, "name")) &&
        (st = get_string(y, v, "name", &in->name)))
      return st;
    if ((v = map_get(y, m, "source")) &&
        (st = get_string(y, v, "source", &in->source)))
      return st;
    if ((v = map_get(y, m, "preprocess")) &&
        (st = parse_steps(y, v, "preprocess", &in->preprocess)))
      return st;
    if ((v = map_get(y, m, "width"))) {
      if ((st = get_number(y, v, "width", &num)))
        return st;
      if (!(num >= 1 && num <= 65536) || num != (double)(int)num)
        return fail_at(y, v, "width must be a whole number in 1..65536");
      in->nv12_width = (int)num;
    }
    if ((v = map_get(y, m, "height"))) {
      if ((st = get_number(y, v, "height", &num)))
        return st;
      if (!(num >= 1 && num <= 65536) || num != (double)(int)num)
        return fail_at(y, v, "height must be a whole number in 1..65536");
      in->nv12_height = (int)num;
    }
  }
  return SC_OK;
}

static sc_status parse_emulate(struct yctx *y, yaml_node_t *n,
                               struct sc_config_stage *s)
{
  static const char *const keys[] = {"type", "rounding", NULL};
  const char *type = NULL;
  yaml_node_t *v;
  sc_status st;

  s->emulate = 1;
  s->rounding = SC_ROUND_HALF_AWAY_FROM_ZERO;
  if (n->type == YAML_SCALAR_NODE) {
    type = scalar(n);
  } else {
    st = expect(y, n, YAML_MAPPING_NODE, "emulate");
    if (!st)
      st = check_keys(y, n, "emulate", keys);
    if (st)
      return st;
    if ((v = map_get(y, n, "type"))) {
      if ((st = expect(y, v, YAML_SCALAR_NODE, "emulate.type")))
        return st;
      type = scalar(v);
    }
    if ((v = map_get(y, n, "rounding"))) {
      const char *r = scalar(v);
      if (r && strcmp(r, "half_away_from_zero") == 0)
        s->rounding = SC_ROUND_HALF_AWAY_FROM_ZERO;
      else if (r &&
               (strcmp(r, "half_even") == 0 || strcmp(r, "half_to_even") == 0))
        s->rounding = SC_ROUND_HALF_EVEN;
      else
        return fail_at(y, v,
                       "emulate.rounding must be half_away_from_zero "
                       "or half_even");
    }
  }
  if (type && strcmp(type, "int8") != 0)
    return fail_at(y, n, "emulate.type '%s' is not supported (int8)", type);
  return SC_OK;
}

static sc_status parse_stages(struct yctx *y, yaml_node_t *n,
                              struct sc_config *c)
{
  static const char *const keys[] = {"name",  "model",   "dump", "binary",
                                     "input", "emulate", NULL};
  yaml_node_item_t *it;
  sc_status st = expect(y, n, YAML_SEQUENCE_NODE, "stages");
  int count, i;
  if (st)
    return st;
  count = (int)(n->data.sequence.items.top - n->data.sequence.items.start);
  c->stages = calloc((size_t)count + 1, sizeof *c->stages);
  if (!c->stages)
    return sc_fail_nomem(y->err, "config");
  for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
       it++) {
    yaml_node_t *m = node_at(y, *it), *v;
    struct sc_config_stage *s = &c->stages[c->n_stages++];
    int sources = 0;
    st = expect(y, m, YAML_MAPPING_NODE, "an entry of stages");
    if (!st)
      st = check_keys(y, m, "a stage", keys);
    if (st)
      return st;
    s->line = line_of(m);
    if (!(v = map_get(y, m, "name")))
      return fail_at(y, m, "a stage needs a name");
    if ((st = get_string(y, v, "name", &s->name)))
      return st;
    if (!s->name[0] || strstr(s->name, "->"))
      return fail_at(y, v,
                     "stage name '%s' must be non-empty and not "
                     "contain '->'",
                     s->name);
    for (i = 0; i < c->n_stages - 1; i++)
      if (strcmp(c->stages[i].name, s->name) == 0)
        return fail_at(y, v, "stage '%s' is defined twice", s->name);
    if ((v = map_get(y, m, "model"))) {
      if ((st = get_string(y, v, "model", &s->model)))
        return st;
      sources++;
    }
    if ((v = map_get(y, m, "dump"))) {
      if ((st = get_string(y, v, "dump", &s->dump)))
        return st;
      sources++;
    }
    if ((v = map_get(y, m, "binary"))) {
      if ((st = get_string(y, v, "binary", &s->binary)))
        return st;
      sources++;
    }
    if (sources != 1)
      return fail_at(y, m,
                     "stage '%s' needs exactly one of model, dump or "
                     "binary",
                     s->name);
    if ((v = map_get(y, m, "input")) &&
        (st = parse_steps(y, v, "input", &s->input)))
      return st;
    if ((v = map_get(y, m, "emulate"))) {
      if (!s->model)
        return fail_at(y, v, "emulate needs a model to run");
      if ((st = parse_emulate(y, v, s)))
        return st;
    }
  }
  return SC_OK;
}

static sc_status parse_threshold(struct yctx *y, const char *key,
                                 yaml_node_t *n, struct sc_config *c)
{
  struct sc_config_threshold *t = &c->thresholds[c->n_thresholds];
  yaml_node_pair_t *p;
  sc_status st = expect(y, n, YAML_MAPPING_NODE, "a threshold");
  if (st)
    return st;
  memset(t, 0, sizeof *t);
  t->line = line_of(n);
  t->key = strdup(key);
  if (!t->key)
    return sc_fail_nomem(y->err, "config");
  c->n_thresholds++;
  for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = node_at(y, p->key), *v = node_at(y, p->value);
    enum sc_metric_id id;
    double bound;
    if (!scalar(k) || sc_metric_from_name(scalar(k), &id) != 0)
      return fail_at(y, k,
                     "unknown metric '%s' in threshold '%s' (metrics: cosine, "
                     "max_abs, mean_abs, rmse, sqnr_db, rel_l2, max_rel, "
                     "max_abs_lsb, exact_ratio, saturation, top1_agree)",
                     scalar(k) ? scalar(k) : "?", key);
    if ((st = get_number(y, v, scalar(k), &bound)))
      return st;
    t->set |= 1u << id;
    t->bound[id] = bound;
  }
  return SC_OK;
}

static sc_status parse_compare(struct yctx *y, yaml_node_t *n,
                               struct sc_config *c)
{
  static const char *const keys[] = {"pairs", "match", "thresholds", NULL};
  yaml_node_t *v;
  sc_status st = expect(y, n, YAML_MAPPING_NODE, "compare");
  if (!st)
    st = check_keys(y, n, "compare", keys);
  if (st)
    return st;
  if ((v = map_get(y, n, "pairs"))) {
    if (v->type == YAML_SCALAR_NODE) {
      if (strcmp(scalar(v), "chain") != 0)
        return fail_at(y, v,
                       "pairs must be 'chain' or a list of "
                       "\"REFERENCE->TARGET\"");
      c->pairs_chain = 1;
    } else {
      yaml_node_item_t *it;
      int count;
      if ((st = expect(y, v, YAML_SEQUENCE_NODE, "pairs")))
        return st;
      c->pairs_chain = 0;
      count = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
      c->pairs = calloc((size_t)count + 1, sizeof *c->pairs);
      if (!c->pairs)
        return sc_fail_nomem(y->err, "config");
      for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
           it++) {
        yaml_node_t *item = node_at(y, *it);
        const char *s = scalar(item), *arrow = s ? strstr(s, "->") : NULL;
        struct sc_config_pair *pr = &c->pairs[c->n_pairs];
        if (!arrow || arrow == s || !arrow[2])
          return fail_at(y, item, "a pair is written \"REFERENCE->TARGET\"");
        pr->reference = strndup(s, (size_t)(arrow - s));
        pr->target = strdup(arrow + 2);
        pr->line = line_of(item);
        c->n_pairs++;
        if (!pr->reference || !pr->target)
          return sc_fail_nomem(y->err, "config");
      }
    }
  }
  if ((v = map_get(y, n, "match"))) {
    static const char *const match_keys[] = {"file", NULL};
    yaml_node_t *f;
    if ((st = expect(y, v, YAML_MAPPING_NODE, "match")) ||
        (st = check_keys(y, v, "match", match_keys)))
      return st;
    if ((f = map_get(y, v, "file")) &&
        (st = get_string(y, f, "match.file", &c->match_file)))
      return st;
  }
  if ((v = map_get(y, n, "thresholds"))) {
    yaml_node_pair_t *p;
    int count;
    if ((st = expect(y, v, YAML_MAPPING_NODE, "thresholds")))
      return st;
    count = (int)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    c->thresholds = calloc((size_t)count + 1, sizeof *c->thresholds);
    if (!c->thresholds)
      return sc_fail_nomem(y->err, "config");
    for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
      yaml_node_t *k = node_at(y, p->key);
      const char *key = scalar(k);
      if (!key)
        return fail_at(y, k, "threshold names must be plain values");
      if (strcmp(key, "default") != 0 && strcmp(key, "input") != 0 &&
          strcmp(key, "outputs") != 0 && !strstr(key, "->"))
        return fail_at(y, k,
                       "unknown threshold '%s' (default, input, outputs or "
                       "\"REFERENCE->TARGET\")",
                       key);
      if ((st = parse_threshold(y, key, node_at(y, p->value), c)))
        return st;
    }
  }
  return SC_OK;
}

/* Cross-checks after parsing: pairs and thresholds name known stages. */
static sc_status check_references(struct yctx *y, struct sc_config *c)
{
  int i;
  for (i = 0; i < c->n_pairs; i++) {
    if (sc_config_stage_index(c, c->pairs[i].reference) < 0 ||
        sc_config_stage_index(c, c->pairs[i].target) < 0)
      return sc_fail(y->err, SC_ERR_CONFIG,
                     "%s:%d: pair \"%s->%s\" names a stage that is not "
                     "defined",
                     y->path, c->pairs[i].line, c->pairs[i].reference,
                     c->pairs[i].target);
  }
  for (i = 0; i < c->n_thresholds; i++) {
    const char *key = c->thresholds[i].key, *arrow = strstr(key, "->");
    char ref[256];
    if (!arrow || c->n_stages == 0)
      continue;
    snprintf(ref, sizeof ref, "%.*s", (int)(arrow - key), key);
    if (sc_config_stage_index(c, ref) < 0 ||
        sc_config_stage_index(c, arrow + 2) < 0)
      return sc_fail(y->err, SC_ERR_CONFIG,
                     "%s:%d: threshold \"%s\" names a stage that is not "
                     "defined",
                     y->path, c->thresholds[i].line, key);
  }
  return SC_OK;
}

/* Collections nested deeper than this are refused: configurations nest
 * about six deep, and libyaml's scanner costs time quadratic in the depth
 * (a 200 KB file of 100 000 '[' ran for minutes). */
#define MAX_YAML_DEPTH 64

/* An event pass before loading: returns 0 when data nests collections at
 * most MAX_YAML_DEPTH deep, else the line (from 1) where it goes deeper;
 * *second_doc is the line where a second document starts, or 0. Syntax
 * errors are left to the loader. The pass stops at the first event too
 * deep, so its cost is bounded. */
static int yaml_precheck(const uint8_t *data, size_t size, int *second_doc)
{
  yaml_parser_t parser;
  yaml_event_t event;
  int depth = 0, line = 0, done = 0, documents = 0;
  *second_doc = 0;
  if (!yaml_parser_initialize(&parser))
    return 0;
  yaml_parser_set_input_string(&parser, data, size);
  while (!done && !line && yaml_parser_parse(&parser, &event)) {
    if (event.type == YAML_SEQUENCE_START_EVENT ||
        event.type == YAML_MAPPING_START_EVENT) {
      if (++depth > MAX_YAML_DEPTH)
        line = (int)event.start_mark.line + 1;
    } else if (event.type == YAML_SEQUENCE_END_EVENT ||
               event.type == YAML_MAPPING_END_EVENT) {
      depth--;
    } else if (event.type == YAML_DOCUMENT_START_EVENT && ++documents == 2) {
      *second_doc = (int)event.start_mark.line + 1;
    }
    done = event.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&event);
  }
  yaml_parser_delete(&parser);
  return line;
}

static int compare_key_nodes(const void *a, const void *b)
{
  const yaml_node_t *x = *(const yaml_node_t *const *)a;
  const yaml_node_t *y = *(const yaml_node_t *const *)b;
  int c = strcmp((const char *)x->data.scalar.value,
                 (const char *)y->data.scalar.value);
  return c ? c
           : (x->start_mark.index > y->start_mark.index) -
                 (x->start_mark.index < y->start_mark.index);
}

/* The first scalar holding a NUL ("\\0" in a quoted string), else NULL:
 * the text would end there for every reader. */
static const yaml_node_t *scalar_with_nul(struct yctx *y)
{
  yaml_node_t *n;
  for (n = y->doc.nodes.start; n < y->doc.nodes.top; n++)
    if (n->type == YAML_SCALAR_NODE &&
        strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
      return n;
  return NULL;
}

/* The later of two equal scalar keys of one mapping anywhere in the
 * document, else NULL (libyaml keeps both; lookups saw the first). *nomem
 * set when the check could not run. */
static const yaml_node_t *duplicate_key(struct yctx *y, int *nomem)
{
  yaml_node_t *n;
  const yaml_node_t *found = NULL;
  *nomem = 0;
  for (n = y->doc.nodes.start; n < y->doc.nodes.top && !found; n++) {
    yaml_node_pair_t *p;
    const yaml_node_t **keys;
    size_t count = 0, k;
    if (n->type != YAML_MAPPING_NODE)
      continue;
    keys = malloc(
        ((size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) +
         1) *
        sizeof *keys);
    if (!keys) {
      *nomem = 1;
      return NULL;
    }
    for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      const yaml_node_t *key = node_at(y, p->key);
      if (scalar(key))
        keys[count++] = key;
    }
    qsort(keys, count, sizeof *keys, compare_key_nodes);
    for (k = 1; k < count && !found; k++)
      if (strcmp((const char *)keys[k - 1]->data.scalar.value,
                 (const char *)keys[k]->data.scalar.value) == 0)
        found = keys[k];
    free(keys);
  }
  return found;
}

/* Loads a YAML file into y->doc; SC_ERR_CONFIG with the line on a syntax
 * error. */
static sc_status load_document(struct yctx *y, const char *path,
                               yaml_node_t **root)
{
  yaml_parser_t parser;
  uint8_t *data;
  size_t size;
  int line, second;
  sc_status st = sc_file_read(path, MAX_CONFIG_SIZE, &data, &size, y->err);

  *root = NULL;
  if (st) {
    /* a missing or unreadable configuration is a configuration error */
    y->err->status = SC_ERR_CONFIG;
    return SC_ERR_CONFIG;
  }
  if ((line = yaml_precheck(data, size, &second)) > 0) {
    free(data);
    return sc_fail(y->err, SC_ERR_CONFIG,
                   "%s:%d: collections nested more than %d deep", path, line,
                   MAX_YAML_DEPTH);
  }
  if (second > 0) {
    free(data);
    return sc_fail(y->err, SC_ERR_CONFIG,
                   "%s:%d: a second YAML document (the file holds one)", path,
                   second);
  }
  if (!yaml_parser_initialize(&parser)) {
    free(data);
    return sc_fail_nomem(y->err, "YAML parser");
  }
  yaml_parser_set_input_string(&parser, data, size);
  if (!yaml_parser_load(&parser, &y->doc)) {
    st = sc_fail(y->err, SC_ERR_CONFIG, "%s:%d: invalid YAML: %s", path,
                 (int)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "syntax error");
    yaml_parser_delete(&parser);
    free(data);
    memset(&y->doc, 0, sizeof y->doc);
    return st;
  }
  yaml_parser_delete(&parser);
  free(data);
  *root = yaml_document_get_root_node(&y->doc);
  if (!*root) {
    yaml_document_delete(&y->doc);
    memset(&y->doc, 0, sizeof y->doc);
    return sc_fail(y->err, SC_ERR_CONFIG, "%s: the file is empty", path);
  }
  {
    int nomem = 0;
    const yaml_node_t *nul = scalar_with_nul(y), *dup = NULL;
    if (nul)
      st = fail_at(y, nul, "a value holds a NUL character");
    else if ((dup = duplicate_key(y, &nomem)) != NULL)
      st = fail_at(y, dup, "key '%s' given twice",
                   (const char *)dup->data.scalar.value);
    else if (nomem)
      st = sc_fail_nomem(y->err, path);
  }
  if (st) {
    yaml_document_delete(&y->doc);
    memset(&y->doc, 0, sizeof y->doc);
    *root = NULL;
  }
  return st;
}

void sc_names_free(struct sc_names *names)
{
  int i;
  if (!names)
    return;
  for (i = 0; i < names->n; i++) {
    free(names->target[i]);
    free(names->reference[i]);
  }
  free(names->target);
  free(names->reference);
  free(names);
}

sc_status sc_names_load(const char *path, struct sc_names **out,
                        struct sc_error *err)
{
  struct yctx y;
  struct sc_names *names;
  yaml_node_t *root;
  yaml_node_pair_t *p;
  size_t n;
  int i;
  sc_status st;

  *out = NULL;
  memset(&y, 0, sizeof y);
  y.path = path;
  y.err = err;
  st = load_document(&y, path, &root);
  if (st)
    return st;
  st = expect(&y, root, YAML_MAPPING_NODE, "the tensor map");
  n = st ? 0
         : (size_t)(root->data.mapping.pairs.top -
                    root->data.mapping.pairs.start);
  names = calloc(1, sizeof *names);
  if (!st && names) {
    names->target = calloc(n + 1, sizeof *names->target);
    names->reference = calloc(n + 1, sizeof *names->reference);
  }
  if (!st && (!names || !names->target || !names->reference))
    st = sc_fail_nomem(err, path);
  for (p = st ? NULL : root->data.mapping.pairs.start;
       p && p < root->data.mapping.pairs.top && !st; p++) {
    yaml_node_t *k = node_at(&y, p->key), *v = node_at(&y, p->value);
    if (!scalar(k) || !scalar(k)[0] || !scalar(v) || !scalar(v)[0]) {
      st = fail_at(&y, scalar(k) ? v : k,
                   "the tensor map takes target name: reference name, "
                   "both non-empty text");
      break;
    }
    for (i = 0; i < names->n; i++)
      if (strcmp(names->target[i], scalar(k)) == 0)
        st = fail_at(&y, k, "target tensor '%s' is mapped twice", scalar(k));
    if (st)
      break;
    names->target[names->n] = strdup(scalar(k));
    names->reference[names->n] = strdup(scalar(v));
    if (!names->target[names->n] || !names->reference[names->n])
      st = sc_fail_nomem(err, path);
    names->n++;
  }
  yaml_document_delete(&y.doc);
  if (st) {
    sc_names_free(names);
    return st;
  }
  *out = names;
  return SC_OK;
}

sc_status sc_config_new(const char *dir, struct sc_config **out,
                        struct sc_error *err)
{
  struct sc_config *c = calloc(1, sizeof *c);
  *out = NULL;
  if (!c)
    return sc_fail_nomem(err, "config");
  c->path = strdup("");
  c->dir = strdup(dir);
  c->pairs_chain = 1;
  if (!c->path || !c->dir) {
    sc_config_free(c);
    return sc_fail_nomem(err, "config");
  }
  *out = c;
  return SC_OK;
}

sc_status sc_config_load(const char *path, struct sc_config **out,
                         struct sc_error *err)
{
  static const char *const keys[] = {"name", "inputs", "stages", "compare",
                                     NULL};
  struct yctx y;
  struct sc_config *c = NULL;
  yaml_node_t *root, *v;
  char *dir = sc_path_dirname(path);
  sc_status st;

  *out = NULL;
  memset(&y, 0, sizeof y);
  y.path = path;
  y.err = err;
  if (!dir)
    return sc_fail_nomem(err, path);
  st = sc_config_new(dir, &c, err);
  free(dir);
  if (st)
    return st;
  free(c->path);
  c->path = strdup(path);
  if (!c->path) {
    sc_config_free(c);
    return sc_fail_nomem(err, path);
  }
  st = load_document(&y, path, &root);
  if (st) {
    sc_config_free(c);
    return st;
  }
  st = expect(&y, root, YAML_MAPPING_NODE, "the configuration");
  if (!st)
    st = check_keys(&y, root, "the configuration", keys);
  if (!st && (v = map_get(&y, root, "name")))
    st = get_string(&y, v, "name", &c->name);
  if (!st && (v = map_get(&y, root, "inputs")))
    st = parse_inputs(&y, v, c);
  if (!st && (v = map_get(&y, root, "stages")))
    st = parse_stages(&y, v, c);
  if (!st && (v = map_get(&y, root, "compare")))
    st = parse_compare(&y, v, c);
  if (!st)
    st = check_references(&y, c);
  yaml_document_delete(&y.doc);
  if (st) {
    sc_config_free(c);
    return st;
  }
  *out = c;
  return SC_OK;
}

void sc_config_free(struct sc_config *c)
{
  int i;
  if (!c)
    return;
  for (i = 0; i < c->n_inputs; i++) {
    free(c->inputs[i].name);
    free(c->inputs[i].source);
    sc_config_steps_clear(&c->inputs[i].preprocess);
  }
  free(c->inputs);
  for (i = 0; i < c->n_stages; i++) {
    free(c->stages[i].name);
    free(c->stages[i].model);
    free(c->stages[i].dump);
    free(c->stages[i].binary);
    sc_config_steps_clear(&c->stages[i].input);
  }
  free(c->stages);
  for (i = 0; i < c->n_pairs; i++) {
    free(c->pairs[i].reference);
    free(c->pairs[i].target);
  }
  free(c->pairs);
  for (i = 0; i < c->n_thresholds; i++)
    free(c->thresholds[i].key);
  free(c->thresholds);
  free(c->match_file);
  free(c->name);
  free(c->path);
  free(c->dir);
  free(c);
}

int sc_config_stage_index(const struct sc_config *c, const char *name)
{
  int i;
  for (i = 0; i < c->n_stages; i++)
    if (strcmp(c->stages[i].name, name) == 0)
      return i;
  return -1;
}

const struct sc_config_threshold *sc_config_threshold(const struct sc_config *c,
                                                      const char *key)
{
  int i;
  for (i = 0; i < c->n_thresholds; i++)
    if (strcmp(c->thresholds[i].key, key) == 0)
      return &c->thresholds[i];
  return NULL;
}

static sc_status append_steps(const struct sc_config *c,
                              const struct sc_config_steps *steps,
                              struct sc_pipeline *p, struct sc_error *err)
{
  int i;
  for (i = 0; i < steps->n_steps; i++) {
    const struct sc_config_step *s = &steps->steps[i];
    sc_status st = sc_pipeline_add(p, s->name, s->params, s->n_params, err);
    if (st) {
      if (c->path && c->path[0])
        sc_error_prefix(err, "%s:%d: ", c->path, s->line);
      return st;
    }
  }
  return SC_OK;
}

sc_status sc_config_pipeline(const struct sc_config *c,
                             const struct sc_config_input *input,
                             const struct sc_config_stage *stage,
                             struct sc_pipeline **out, struct sc_error *err)
{
  struct sc_pipeline *p;
  sc_status st;

  *out = NULL;
  st = sc_pipeline_create(&p, err);
  if (st)
    return st;
  if (input)
    st = append_steps(c, &input->preprocess, p, err);
  if (!st && stage)
    st = append_steps(c, &stage->input, p, err);
  if (st) {
    sc_pipeline_free(p);
    return st;
  }
  *out = p;
  return SC_OK;
}

/* --- hb_mapper ------------------------------------------------------ */

int sc_config_is_hb_mapper(const char *path)
{
  struct sc_error err;
  struct yctx y;
  yaml_node_t *root;
  int yes = 0;
  memset(&y, 0, sizeof y);
  y.path = path;
  y.err = &err;
  if (load_document(&y, path, &root) != SC_OK)
    return 0;
  if (root->type == YAML_MAPPING_NODE &&
      (map_get(&y, root, "model_parameters") ||
       map_get(&y, root, "input_parameters")))
    yes = 1;
  yaml_document_delete(&y.doc);
  return yes;
}

static sc_status add_step(struct sc_config_steps *s, const char *name, int line,
                          const char *key, int n_list, const double *list,
                          struct sc_error *err)
{
  struct sc_config_step *grown =
      realloc(s->steps, (size_t)(s->n_steps + 1) * sizeof *grown);
  struct sc_config_step *step;
  if (!grown)
    return sc_fail_nomem(err, "config");
  s->steps = grown;
  step = &s->steps[s->n_steps++];
  memset(step, 0, sizeof *step);
  step->name = strdup(name);
  step->line = line;
  if (!step->name)
    return sc_fail_nomem(err, "config");
  if (key) {
    double *copy = calloc(SC_TRANSFORM_MAX_LIST, sizeof *copy);
    step->params = calloc(1, sizeof *step->params);
    if (!copy || !step->params) {
      free(copy);
      return sc_fail_nomem(err, "config");
    }
    memcpy(copy, list, (size_t)n_list * sizeof *list);
    step->params[0].key = strdup(key);
    step->params[0].type = n_list == 1 ? SC_PARAM_NUMBER : SC_PARAM_LIST;
    step->params[0].number = list[0];
    step->params[0].n_list = n_list;
    step->params[0].list = copy;
    step->params[0].line = line;
    step->n_params = 1;
  }
  s->present = 1;
  return SC_OK;
}

/* "123.675 116.28 103.53" (or a YAML list) into numbers. */
static sc_status hb_numbers(struct yctx *y, yaml_node_t *n, const char *what,
                            double *out, int *count)
{
  *count = 0;
  if (n->type == YAML_SEQUENCE_NODE) {
    yaml_node_item_t *it;
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
      yaml_node_t *x = node_at(y, *it);
      if (*count >= 4 || x->type != YAML_SCALAR_NODE ||
          parse_number(scalar(x), &out[*count]) != 0)
        return fail_at(y, x, "%s must be 1 to 4 numbers", what);
      (*count)++;
    }
    return SC_OK;
  }
  if (n->type == YAML_SCALAR_NODE) {
    char buf[256], *tok, *save;
    snprintf(buf, sizeof buf, "%s", scalar(n));
    for (tok = strtok_r(buf, " ,;", &save); tok;
         tok = strtok_r(NULL, " ,;", &save)) {
      if (*count >= 4 || parse_number(tok, &out[*count]) != 0)
        return fail_at(y, n, "%s must be 1 to 4 numbers", what);
      (*count)++;
    }
    if (*count)
      return SC_OK;
  }
  return fail_at(y, n, "%s must be 1 to 4 numbers", what);
}

/* Steps from the BGR HWC image to `type` ("rgb", "bgr", "yuv444", "gray",
 * "nv12", "featuremap") in `layout` ("NCHW" / "NHWC"). */
static sc_status hb_type_steps(struct yctx *y, yaml_node_t *where,
                               const char *type, const char *layout,
                               struct sc_config_steps *s)
{
  int line = line_of(where);
  sc_status st = SC_OK;
  if (strcmp(type, "rgb") == 0)
    st = add_step(s, "bgr_to_rgb", line, NULL, 0, NULL, y->err);
  else if (strcmp(type, "bgr") == 0 || strcmp(type, "featuremap") == 0)
    st = SC_OK;
  else if (strcmp(type, "yuv444") == 0)
    st = add_step(s, "bgr_to_yuv444", line, NULL, 0, NULL, y->err);
  else if (strcmp(type, "gray") == 0)
    st = add_step(s, "bgr_to_gray", line, NULL, 0, NULL, y->err);
  else if (strcmp(type, "nv12") == 0) {
    st = add_step(s, "bgr_to_nv12", line, NULL, 0, NULL, y->err);
    if (!st)
      st = add_step(s, "nv12_to_yuv444", line, NULL, 0, NULL, y->err);
  } else
    return fail_at(y, where,
                   "input type '%s' is not one of nv12, rgb, bgr, "
                   "yuv444, gray, featuremap",
                   type);
  if (!st && layout && strcmp(layout, "NCHW") == 0)
    st = add_step(s, "hwc_to_chw", line, NULL, 0, NULL, y->err);
  else if (!st && layout && strcmp(layout, "NHWC") != 0)
    return fail_at(y, where, "layout '%s' is not NCHW or NHWC", layout);
  return st;
}

sc_status sc_config_load_hb_mapper(const char *path,
                                   struct sc_config_steps *float_steps,
                                   struct sc_config_steps *quant_steps,
                                   struct sc_error *err)
{
  struct yctx y;
  yaml_node_t *root, *ip, *v;
  const char *type_rt = "nv12", *type_train = "rgb";
  const char *layout_train = "NCHW", *layout_rt = NULL, *norm = "no_preprocess";
  double mean[4] = {0}, scale[4] = {1, 1, 1, 1}, minus128 = -128;
  int n_mean = 0, n_scale = 0, line = 0;
  sc_status st;

  memset(&y, 0, sizeof y);
  y.path = path;
  y.err = err;
  sc_config_steps_clear(float_steps);
  sc_config_steps_clear(quant_steps);
  st = load_document(&y, path, &root);
  if (st)
    return st;
  if (root->type != YAML_MAPPING_NODE) {
    st = fail_at(&y, root, "an hb_mapper configuration is a mapping");
    goto done;
  }
  ip = map_get(&y, root, "input_parameters");
  if (!ip) {
    st = fail_at(&y, root, "no input_parameters section");
    goto done;
  }
  if ((st = expect(&y, ip, YAML_MAPPING_NODE, "input_parameters")))
    goto done;
  line = line_of(ip);
/* an empty value ('') means "not given", as hb_mapper reads it */
#define HB_STRING(key, var)                                                    \
  if ((v = map_get(&y, ip, key))) {                                            \
    if ((st = expect(&y, v, YAML_SCALAR_NODE, key)))                           \
      goto done;                                                               \
    if (scalar(v)[0])                                                          \
      var = scalar(v);                                                         \
  }
  HB_STRING("input_type_rt", type_rt)
  HB_STRING("input_type_train", type_train)
  HB_STRING("input_layout_train", layout_train)
  HB_STRING("input_layout_rt", layout_rt)
  HB_STRING("norm_type", norm)
#undef HB_STRING
  if ((v = map_get(&y, ip, "mean_value")) &&
      (st = hb_numbers(&y, v, "mean_value", mean, &n_mean)))
    goto done;
  if ((v = map_get(&y, ip, "scale_value")) &&
      (st = hb_numbers(&y, v, "scale_value", scale, &n_scale)))
    goto done;

  /* float stages: the training input */
  st = hb_type_steps(&y, ip, type_train, NULL, float_steps);
  if (st)
    goto done;
  if (strcmp(norm, "data_mean_and_scale") == 0 ||
      strcmp(norm, "data_mean") == 0) {
    if (!n_mean) {
      st = fail_at(&y, ip, "norm_type %s needs mean_value", norm);
      goto done;
    }
    st = add_step(float_steps, "mean", line, "mean", n_mean, mean, err);
  }
  if (!st && (strcmp(norm, "data_mean_and_scale") == 0 ||
              strcmp(norm, "data_scale") == 0)) {
    if (!n_scale) {
      st = fail_at(&y, ip, "norm_type %s needs scale_value", norm);
      goto done;
    }
    st = add_step(float_steps, "scale", line, "value", n_scale, scale, err);
  } else if (!st && strcmp(norm, "no_preprocess") != 0 &&
             strcmp(norm, "data_mean") != 0) {
    st = fail_at(&y, ip,
                 "norm_type '%s' is not one of data_mean_and_scale, "
                 "data_mean, data_scale, no_preprocess",
                 norm);
  }
  if (!st && strcmp(layout_train, "NCHW") == 0)
    st = add_step(float_steps, "hwc_to_chw", line, NULL, 0, NULL, err);
  else if (!st && strcmp(layout_train, "NHWC") != 0)
    st = fail_at(&y, ip, "input_layout_train '%s' is not NCHW or NHWC",
                 layout_train);
  if (st)
    goto done;

  /* quantized/compiled stages: the runtime input, minus 128, as int8 */
  st = hb_type_steps(&y, ip, type_rt, layout_rt ? layout_rt : layout_train,
                     quant_steps);
  if (!st && strcmp(type_rt, "featuremap") != 0) {
    double i8 = 0;
    st = add_step(quant_steps, "add", line, "value", 1, &minus128, err);
    if (!st) {
      struct sc_config_step *cast;
      st = add_step(quant_steps, "cast", line, NULL, 0, &i8, err);
      if (!st) {
        cast = &quant_steps->steps[quant_steps->n_steps - 1];
        cast->params = calloc(1, sizeof *cast->params);
        if (!cast->params)
          st = sc_fail_nomem(err, "config");
        else {
          cast->params[0].key = strdup("dtype");
          cast->params[0].type = SC_PARAM_STRING;
          cast->params[0].string = strdup("int8");
          cast->params[0].line = line;
          cast->n_params = 1;
        }
      }
    }
  }
done:
  yaml_document_delete(&y.doc);
  if (st) {
    sc_config_steps_clear(float_steps);
    sc_config_steps_clear(quant_steps);
  }
  return st;
}
