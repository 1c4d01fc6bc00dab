/* Command-line front end: the command table, shared option helpers and the
 * single place where a failure becomes a stderr line and an exit code. */
#ifndef SC_VERIFIER_CLI_H
#define SC_VERIFIER_CLI_H

#include <stdio.h>

#include "runtime/error.h"

#define SC_VERSION "0.1.0"

/* Exit codes of spec/cli.md that are not failures of a status. */
enum { SC_EXIT_OK = 0, SC_EXIT_GATE = 1, SC_EXIT_USAGE = 2 };

/* A subcommand: returns the process exit code. */
typedef int (*sc_command_fn)(int argc, char **argv);

struct sc_command {
  const char *name;
  sc_command_fn run;
  const char *summary;
  const char *usage;
};

int sc_cli_main(int argc, char **argv);

/* Prints "stagecheck: <message>" on one line to stderr and returns the exit
 * code of err->status. */
int sc_cli_fail(const struct sc_error *err);

/* Usage error: prints one line and returns 2. */
int sc_cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The one stderr line of a failed gate (exit 1): the subject, the verdict,
 * the first failing pair and its first divergent layer. */
struct sc_report;
void sc_cli_gate_line(const char *subject, const struct sc_report *report);

/* Parses a positive thread count ("--threads N"); 0 on error. */
int sc_cli_parse_threads(const char *text);

int sc_cmd_compare(int argc, char **argv);
int sc_cmd_inspect(int argc, char **argv);
int sc_cmd_merge(int argc, char **argv);
int sc_cmd_run(int argc, char **argv);
int sc_cmd_transform(int argc, char **argv);
int sc_cmd_verify(int argc, char **argv);

#endif
