/* stagecheck compare DIR_A DIR_B [options]: two dump directories (a run's
 * --dump, a device's tensors) layer by layer, A being the reference. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loaders/file.h"
#include "verifier/cli.h"
#include "verifier/verify.h"

static const char usage[] =
    "Usage: stagecheck compare DIR_A DIR_B [options]\n\n"
    "  --threshold METRIC=VALUE  a bound (repeatable; default cosine=0.99):\n"
    "                            lower bound for cosine, sqnr_db, "
    "exact_ratio,\n"
    "                            top1_agree; upper bound for the others\n"
    "  --report-dir DIR          default ./stagecheck-report/\n"
    "  --format LIST             text,json,html,junit,csv (default text,json)\n"
    "  --fail-on fail|warn|never verdict that makes the exit status 1\n"
    "  --quiet\n";

int sc_cmd_compare(int argc, char **argv)
{
  static const struct option options[] = {
      {"threshold", required_argument, NULL, 't'},
      {"report-dir", required_argument, NULL, 'r'},
      {"format", required_argument, NULL, 'f'},
      {"fail-on", required_argument, NULL, 'F'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  struct sc_compare_options co;
  const char *report_dir = "stagecheck-report", *formats = "text,json";
  const char *fail_on = "fail";
  struct sc_report *report = NULL;
  struct sc_error err;
  int quiet = 0, c, code = SC_EXIT_OK;
  sc_status st;

  memset(&co, 0, sizeof co);
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (c) {
    case 't': {
      char name[64];
      double v;
      char *eq = strchr(optarg, '='), *end;
      enum sc_metric_id id;
      if (!eq || (size_t)(eq - optarg) >= sizeof name)
        return sc_cli_usage_error("compare",
                                  "--threshold is METRIC=VALUE, "
                                  "not '%s'",
                                  optarg);
      snprintf(name, sizeof name, "%.*s", (int)(eq - optarg), optarg);
      v = strtod(eq + 1, &end);
      /* a NaN bound would pass every comparison: refused, as in YAML */
      if (sc_metric_from_name(name, &id) != 0 || !eq[1] || *end || isnan(v))
        return sc_cli_usage_error("compare",
                                  "--threshold: unknown metric or "
                                  "value in '%s'",
                                  optarg);
      co.thresholds.set |= 1u << id;
      co.thresholds.bound[id] = v;
      break;
    }
    case 'r':
      if (!optarg[0])
        return sc_cli_usage_error("compare", "--report-dir needs a directory");
      report_dir = optarg;
      break;
    case 'f':
      formats = optarg;
      break;
    case 'F':
      if (strcmp(optarg, "fail") && strcmp(optarg, "warn") &&
          strcmp(optarg, "never"))
        return sc_cli_usage_error("compare", "--fail-on must be fail, warn "
                                             "or never");
      fail_on = optarg;
      break;
    case 'q':
      quiet = 1;
      break;
    case 'h':
      fputs(usage, stdout);
      return SC_EXIT_OK;
    default:
      return sc_cli_usage_error("compare", "unknown option '%s'",
                                argv[optind - 1]);
    }
  }
  if (argc - optind != 2)
    return sc_cli_usage_error("compare", "expected DIR_A DIR_B");
  co.reference_dir = argv[optind];
  co.target_dir = argv[optind + 1];
  sc_error_clear(&err);
  st = sc_compare_dumps(&co, &report, &err);
  if (!st)
    st = sc_report_write_all(report, report_dir, formats, &err);
  if (st) {
    sc_report_free(report);
    return sc_cli_fail(&err);
  }
  if (!quiet) {
    char *text = NULL;
    if (sc_report_text(report, isatty(STDOUT_FILENO) ? SC_TEXT_COLOUR : 0u,
                       &text, &err) == SC_OK)
      fputs(text, stdout);
    free(text);
  }
  if ((!strcmp(fail_on, "fail") && report->status == SC_VERDICT_FAIL) ||
      (!strcmp(fail_on, "warn") && report->status != SC_VERDICT_PASS)) {
    code = SC_EXIT_GATE;
    sc_cli_gate_line(co.target_dir, report);
  }
  sc_report_free(report);
  return code;
}
