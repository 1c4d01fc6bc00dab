/* stagecheck verify MODEL_DIR [options] (spec/cli.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare/store.h"
#include "loaders/file.h"
#include "verifier/cli.h"
#include "verifier/verify.h"

#define MAX_INPUT_ARGS 256

static const char usage[] =
    "Usage: stagecheck verify MODEL_DIR [options]\n\n"
    "  --config FILE          configuration (default "
    "MODEL_DIR/stagecheck.yaml,\n"
    "                         else stages are discovered by file name)\n"
    "  --input PATH           image file, directory or glob; repeatable\n"
    "  --stages a,b,c         which stages, in chain order\n"
    "  --mode accumulated|isolated|both   (default both)\n"
    "  --report-dir DIR       default MODEL_DIR/stagecheck-report/\n"
    "  --format LIST          text,json,html,junit,csv (default "
    "text,json,html)\n"
    "  --threads N            worker threads (default: online CPUs)\n"
    "  --max-images N         stop after N inputs\n"
    "  --shard K/N            only inputs whose index mod N is K (see merge)\n"
    "  --fail-on fail|warn|never  verdict that makes the exit status 1\n"
    "  --memory-budget SIZE   reference tensors held in memory (default: a\n"
    "                         quarter of RAM), beyond it spilled to a file\n"
    "  --quiet, --verbose, --no-progress\n";

enum fail_on { FAIL_ON_FAIL, FAIL_ON_WARN, FAIL_ON_NEVER };

static int check_formats(const char *list)
{
  static const char *const known[] = {"text", "json", "html", "junit", "csv"};
  const char *p = list;
  while (*p) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p), i;
    int ok = 0;
    for (i = 0; i < 5; i++)
      if (strlen(known[i]) == n && strncmp(p, known[i], n) == 0)
        ok = 1;
    if (!ok)
      return -1;
    if (!comma)
      break;
    p = comma + 1;
  }
  return 0;
}

/* The dump stage whose directory holds `dir`, else NULL: reports never go
 * into a stage's files (spec/cli.md). */
static const char *dump_holding(const char *dir, const char *model_dir,
                                const struct sc_report *rep)
{
  const char *found = NULL;
  int i;
  for (i = 0; !found && i < rep->n_stages; i++) {
    const struct sc_stage_result *st = &rep->stages[i];
    char *path;
    if (strcmp(st->kind, "dump") != 0 || !st->source)
      continue;
    path = st->source[0] == '/' ? strdup(st->source)
                                : sc_path_join(model_dir, st->source);
    if (path && sc_path_inside(dir, path))
      found = st->name;
    free(path);
  }
  return found;
}

int sc_cmd_verify(int argc, char **argv)
{
  static const struct option options[] = {
      {"config", required_argument, NULL, 'c'},
      {"input", required_argument, NULL, 'i'},
      {"stages", required_argument, NULL, 's'},
      {"mode", required_argument, NULL, 'm'},
      {"report-dir", required_argument, NULL, 'r'},
      {"format", required_argument, NULL, 'f'},
      {"threads", required_argument, NULL, 't'},
      {"max-images", required_argument, NULL, 'n'},
      {"shard", required_argument, NULL, 'k'},
      {"fail-on", required_argument, NULL, 'F'},
      {"memory-budget", required_argument, NULL, 'b'},
      {"quiet", no_argument, NULL, 'q'},
      {"verbose", no_argument, NULL, 'v'},
      {"no-progress", no_argument, NULL, 'P'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct sc_verify_options o;
  struct sc_verify_stats stats;
  const char *inputs[MAX_INPUT_ARGS];
  const char *report_dir = NULL, *formats = "text,json,html", *holder;
  enum fail_on fail_on = FAIL_ON_FAIL;
  int quiet = 0, no_progress = 0, c, code;
  struct sc_report *report = NULL;
  struct sc_error err;
  char *default_dir = NULL;
  sc_status st;

  memset(&o, 0, sizeof o);
  memset(&stats, 0, sizeof stats);
  o.inputs = inputs;
  o.stats = &stats;
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    char *end;
    long v;
    switch (c) {
    case 'c':
      o.config_path = optarg;
      break;
    case 'i':
      if (o.n_inputs >= MAX_INPUT_ARGS)
        return sc_cli_usage_error("verify", "too many --input arguments");
      inputs[o.n_inputs++] = optarg;
      break;
    case 's':
      o.stages = optarg;
      break;
    case 'm':
      if (strcmp(optarg, "both") == 0)
        o.mode = SC_MODE_BOTH;
      else if (strcmp(optarg, "accumulated") == 0)
        o.mode = SC_MODE_ACCUMULATED;
      else if (strcmp(optarg, "isolated") == 0)
        o.mode = SC_MODE_ISOLATED;
      else
        return sc_cli_usage_error("verify",
                                  "--mode must be accumulated, "
                                  "isolated or both, not '%s'",
                                  optarg);
      break;
    case 'r':
      if (!optarg[0])
        return sc_cli_usage_error("verify", "--report-dir needs a directory");
      report_dir = optarg;
      break;
    case 'f':
      if (check_formats(optarg) != 0)
        return sc_cli_usage_error("verify",
                                  "--format takes text, json, "
                                  "html, junit, csv; not '%s'",
                                  optarg);
      formats = optarg;
      break;
    case 't':
      o.threads = sc_cli_parse_threads(optarg);
      if (!o.threads)
        return sc_cli_usage_error("verify",
                                  "--threads needs a number from 1 "
                                  "to 1024, not '%s'",
                                  optarg);
      break;
    case 'n':
      v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 1 || v > 100000000)
        return sc_cli_usage_error("verify",
                                  "--max-images needs a positive "
                                  "number, not '%s'",
                                  optarg);
      o.max_images = (int)v;
      break;
    case 'k': {
      int k, n;
      char extra;
      if (sscanf(optarg, "%d/%d%c", &k, &n, &extra) != 2 || n < 1 ||
          n > 100000 || k < 0 || k >= n)
        return sc_cli_usage_error("verify",
                                  "--shard is K/N with 0 <= K < N, "
                                  "not '%s'",
                                  optarg);
      o.shard_index = k;
      o.shard_count = n;
      break;
    }
    case 'F':
      if (strcmp(optarg, "fail") == 0)
        fail_on = FAIL_ON_FAIL;
      else if (strcmp(optarg, "warn") == 0)
        fail_on = FAIL_ON_WARN;
      else if (strcmp(optarg, "never") == 0)
        fail_on = FAIL_ON_NEVER;
      else
        return sc_cli_usage_error("verify",
                                  "--fail-on must be fail, warn or "
                                  "never, not '%s'",
                                  optarg);
      break;
    case 'b':
      if (sc_parse_size(optarg, &o.memory_budget) != 0)
        return sc_cli_usage_error("verify",
                                  "--memory-budget takes a size "
                                  "such as 512M or 2G, not '%s'",
                                  optarg);
      break;
    case 'q':
      quiet = 1;
      break;
    case 'v':
      o.verbose = 1;
      break;
    case 'P':
      no_progress = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return SC_EXIT_OK;
    default:
      return sc_cli_usage_error("verify", "unknown option '%s'",
                                argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return sc_cli_usage_error("verify", optind >= argc
                                            ? "missing MODEL_DIR"
                                            : "more than one MODEL_DIR");
  o.model_dir = argv[optind];
  o.progress = !quiet && !no_progress && isatty(STDERR_FILENO);
  if (!report_dir) {
    default_dir = sc_path_join(o.model_dir, "stagecheck-report");
    if (!default_dir) {
      sc_fail_nomem(&err, "report directory");
      return sc_cli_fail(&err);
    }
    report_dir = default_dir;
  }

  sc_error_clear(&err);
  st = sc_verify_run(&o, &report, &err);
  if (!st && (holder = dump_holding(report_dir, o.model_dir, report)))
    st = sc_fail(&err, SC_ERR_USAGE,
                 "--report-dir %s: inside the dump of stage '%s' (reports "
                 "never go into a stage's files)",
                 report_dir, holder);
  if (!st)
    st = sc_report_write_all(report, report_dir, formats, &err);
  if (st) {
    free(default_dir);
    sc_report_free(report);
    return sc_cli_fail(&err);
  }
  if (o.verbose)
    fprintf(stderr,
            "stagecheck: reference tensors: peak %zu bytes in memory, %zu "
            "bytes spilled (budget %zu)\n",
            stats.store_peak_bytes, stats.store_spilled_bytes,
            stats.store_budget_bytes);
  if (!quiet) {
    char *text = NULL;
    unsigned flags = o.verbose ? 0u : SC_TEXT_COMPACT;
    if (isatty(STDOUT_FILENO))
      flags |= SC_TEXT_COLOUR;
    if (sc_report_text(report, flags, &text, &err) == SC_OK) {
      fputs(text, stdout);
      printf("reports: %s/\n", report_dir);
    }
    free(text);
  }
  code = SC_EXIT_OK;
  if ((fail_on == FAIL_ON_FAIL && report->status == SC_VERDICT_FAIL) ||
      (fail_on == FAIL_ON_WARN && report->status != SC_VERDICT_PASS)) {
    code = SC_EXIT_GATE;
    sc_cli_gate_line(o.model_dir, report);
  }
  free(default_dir);
  sc_report_free(report);
  return code;
}
