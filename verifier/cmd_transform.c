/* stagecheck transform IMAGE --config FILE [--stage NAME] -o OUT.npy
 *
 * Writes the exact tensor `verify` feeds the stage for this image (same
 * code path: decoding, shared and per-stage steps, batch dimension and
 * dtype fit), so the same bytes can be fed to a device. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "loaders/tensor_file.h"
#include "verifier/cli.h"
#include "verifier/verify_internal.h"

/* The stage (or the configuration itself) whose files `out` would
 * overwrite or land in, else NULL: no command writes into a stage's files
 * (spec/cli.md). */
static const char *stage_file_at(const char *out, const struct stages *s,
                                 const char *config)
{
  const struct sc_config *c = s->config;
  int i, k;
  if (sc_path_inside(out, config))
    return "the configuration";
  for (i = 0; i < c->n_stages; i++) {
    const char *files[3] = {c->stages[i].model, c->stages[i].dump,
                            c->stages[i].binary};
    for (k = 0; k < 3; k++) {
      char *path;
      int inside;
      if (!files[k])
        continue;
      path = files[k][0] == '/' ? strdup(files[k])
                                : sc_path_join(s->model_dir, files[k]);
      inside = path && sc_path_inside(out, path);
      free(path);
      if (inside)
        return c->stages[i].name;
    }
  }
  return NULL;
}

int sc_cmd_transform(int argc, char **argv)
{
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"stage", required_argument, NULL, 's'},
      {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config = NULL, *stage = NULL, *output = NULL, *image, *owner;
  struct sc_verify_options o;
  struct stages *s = NULL;
  struct sc_tensor **feeds = NULL;
  struct sc_error err;
  char *dir = NULL;
  int n_feeds = 0, c, idx = 0;
  sc_status st;

  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
    switch (c) {
    case 'c':
      config = optarg;
      break;
    case 's':
      stage = optarg;
      break;
    case 'o':
      output = optarg;
      break;
    case 'h':
      printf("Usage: stagecheck transform IMAGE --config FILE [--stage NAME] "
             "-o OUT.npy\n");
      return SC_EXIT_OK;
    default:
      return sc_cli_usage_error("transform", "unknown option '%s'",
                                argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return sc_cli_usage_error("transform", "expected one IMAGE");
  if (!config || !output)
    return sc_cli_usage_error("transform", "--config FILE and -o OUT.npy are "
                                           "required");
  image = argv[optind];
  dir = sc_path_dirname(config);
  if (!dir) {
    sc_fail_nomem(&err, "transform");
    return sc_cli_fail(&err);
  }
  memset(&o, 0, sizeof o);
  o.model_dir = dir;
  o.config_path = config;
  o.n_inputs = 1;
  o.inputs = &image;
  o.stages = stage;
  sc_error_clear(&err);
  st = sc_stages_load(&o, &s, &err);
  if (!st && (owner = stage_file_at(output, s, config)))
    st = sc_fail(&err, SC_ERR_USAGE,
                 "-o %s: a file of stage '%s' (no command writes into a "
                 "stage's files)",
                 output, owner);
  if (!st && !stage && s->n_stages > 1)
    st =
        sc_fail(&err, SC_ERR_USAGE, "%s has %d stages: choose one with --stage",
                config, s->n_stages);
  if (!st)
    st = sc_feeds_make(s, idx, 0, &feeds, &n_feeds, &err);
  if (!st && n_feeds != 1)
    st = sc_fail(&err, SC_ERR_USAGE,
                 "stage '%s' has %d inputs: transform writes one",
                 s->stages[idx].name, n_feeds);
  if (!st)
    st = sc_npy_save(output, feeds[0], &err);
  sc_feeds_free(feeds, n_feeds);
  sc_stages_free(s);
  free(dir);
  if (st)
    return sc_cli_fail(&err);
  printf("wrote %s\n", output);
  return SC_EXIT_OK;
}
