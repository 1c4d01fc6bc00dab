/* stagecheck merge REPORT.json... -o OUT.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loaders/file.h"
#include "verifier/cli.h"
#include "verifier/verify.h"

int sc_cmd_merge(int argc, char **argv)
{
  const char **paths = calloc((size_t)argc + 1, sizeof *paths);
  const char *out_path = NULL;
  struct sc_report *report = NULL;
  struct sc_error err;
  char *json = NULL;
  int n = 0, i, code = SC_EXIT_OK;
  sc_status st;

  if (!paths) {
    sc_fail_nomem(&err, "merge");
    return sc_cli_fail(&err);
  }
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
      if (i + 1 >= argc) {
        free(paths);
        return sc_cli_usage_error("merge", "-o needs a file name");
      }
      out_path = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("Usage: stagecheck merge REPORT.json... -o OUT.json\n");
      free(paths);
      return SC_EXIT_OK;
    } else if (argv[i][0] == '-') {
      free(paths);
      return sc_cli_usage_error("merge", "unknown option '%s'", argv[i]);
    } else {
      paths[n++] = argv[i];
    }
  }
  if (!out_path || n == 0) {
    free(paths);
    return sc_cli_usage_error("merge", "expected REPORT.json... -o OUT.json");
  }
  sc_error_clear(&err);
  st = sc_report_merge(paths, n, &report, &err);
  if (!st)
    st = sc_report_json(report, &json, &err);
  if (!st)
    st = sc_file_write_atomic(out_path, json, strlen(json), &err);
  free(json);
  free(paths);
  if (st) {
    sc_report_free(report);
    return sc_cli_fail(&err);
  }
  printf("merged %d report%s into %s: %s\n", n, n == 1 ? "" : "s", out_path,
         sc_verdict_name(report->status));
  if (report->status == SC_VERDICT_FAIL) {
    code = SC_EXIT_GATE;
    sc_cli_gate_line(out_path, report);
  }
  sc_report_free(report);
  return code;
}
