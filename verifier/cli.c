#include "verifier/cli.h"

#include <stdarg.h>

#include "verifier/report.h"
#include <stdlib.h>
#include <string.h>

/* Sorted by name. */
static const struct sc_command commands[] = {
    {"compare", sc_cmd_compare, "two dump directories, layer by layer",
     "stagecheck compare DIR_A DIR_B [options]"},
    {"inspect", sc_cmd_inspect,
     "inputs, outputs, operators and quantization of a model",
     "stagecheck inspect MODEL.onnx|DUMP_DIR"},
    {"merge", sc_cmd_merge, "combine the reports of shards of one verify run",
     "stagecheck merge REPORT.json... -o OUT.json"},
    {"run", sc_cmd_run, "run one model and print or dump its tensors",
     "stagecheck run MODEL.onnx --input [NAME=]FILE... [--dump DIR] "
     "[--threads N]"},
    {"transform", sc_cmd_transform, "the exact tensor a stage is fed",
     "stagecheck transform IMAGE --config FILE [--stage NAME] -o OUT.npy"},
    {"verify", sc_cmd_verify, "the main job: all stages, layer by layer",
     "stagecheck verify MODEL_DIR [options]"},
};

static void print_help(FILE *out)
{
  size_t i;
  fprintf(out,
          "stagecheck %s: accuracy consistency of a network across its "
          "deployment stages\n\nUsage:\n",
          SC_VERSION);
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %s\n", commands[i].usage);
  fprintf(out, "  stagecheck --version | --help | COMMAND --help\n\n"
               "Commands:\n");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nExit status: 0 pass, 1 gate failed, 2 usage or "
               "configuration error,\n3 malformed input, 4 unsupported "
               "operator or type, 5 resource or internal failure.\n");
}

int sc_cli_fail(const struct sc_error *err)
{
  char line[SC_ERROR_MESSAGE_SIZE];
  size_t i;
  snprintf(line, sizeof line, "%s",
           err->message[0] ? err->message : sc_status_name(err->status));
  for (i = 0; line[i]; i++) /* one line, whatever the message holds */
    if (line[i] == '\n' || line[i] == '\r')
      line[i] = ' ';
  fprintf(stderr, "stagecheck: %s\n", line);
  return sc_status_exit_code(err->status ? err->status : SC_ERR_INTERNAL);
}

int sc_cli_usage_error(const char *command, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "stagecheck%s%s: %s (see 'stagecheck %s%s--help')\n",
          command ? " " : "", command ? command : "", msg,
          command ? command : "", command ? " " : "");
  return SC_EXIT_USAGE;
}

void sc_cli_gate_line(const char *subject, const struct sc_report *report)
{
  int i;
  for (i = 0; i < report->n_pairs; i++) {
    const struct sc_pair_result *p = &report->pairs[i];
    if (p->status < report->status)
      continue;
    if (p->has_first_divergence)
      fprintf(stderr,
              "stagecheck: %s: %s: %s -> %s first diverges at row %d, %s\n",
              subject, sc_verdict_name(report->status), p->reference, p->target,
              p->first_divergence.row, p->first_divergence.tensor);
    else
      fprintf(stderr, "stagecheck: %s: %s: %s -> %s%s%s\n", subject,
              sc_verdict_name(report->status), p->reference, p->target,
              p->note ? ": " : "", p->note ? p->note : "");
    return;
  }
  fprintf(stderr, "stagecheck: %s: %s\n", subject,
          sc_verdict_name(report->status));
}

int sc_cli_parse_threads(const char *text)
{
  char *end;
  long v = strtol(text, &end, 10);
  if (!*text || *end || v < 1 || v > 1024)
    return 0;
  return (int)v;
}

int sc_cli_main(int argc, char **argv)
{
  size_t i;
  if (argc < 2) {
    print_help(stderr);
    return SC_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    print_help(stdout);
    return SC_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("stagecheck %s\n", SC_VERSION);
    return SC_EXIT_OK;
  }
  /* spec/cli.md writes options after the operands ("run MODEL.onnx
   * --input X"): keep getopt's argument permutation even where the
   * environment asks for POSIX order */
  unsetenv("POSIXLY_CORRECT");
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  return sc_cli_usage_error(NULL, "unknown command '%s'", argv[1]);
}
