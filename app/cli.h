/* cli.h — what the hydranet-cli subcommands share. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <cjson/cJSON.h>

#include "evaluate.h"

/* Exit statuses (README.md, hydranet-cli): success, the work failed, the command line was
 * wrong. */
enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2
};

/* Each subcommand: argv[0] is the subcommand's name. Returns an exit status. */
int cli_predict (int argc, char **argv);
int cli_faces (int argc, char **argv);
int cli_info (int argc, char **argv);
int cli_bench (int argc, char **argv);
int cli_init (int argc, char **argv);
int cli_train (int argc, char **argv);
int cli_runs (int argc, char **argv);
int cli_export (int argc, char **argv);
int cli_eval (int argc, char **argv);
int cli_dataset (int argc, char **argv);
int cli_synth (int argc, char **argv);

/* The usage error for a value getopt_long's option `opt` (from options) did not take:
 * "bad value 'VALUE' for --NAME". */
int cli_bad_value (const char *cmd, const struct option *options, int opt, const char *value);

/* Prints "hydranet-cli CMD: message" and the hint to stderr; returns EXIT_USAGE. */
int cli_usage_error (const char *cmd, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Prints "hydranet-cli: message" to stderr; returns EXIT_FAILED. */
int cli_fail (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* --tta none|flip: test-time augmentation, each image's prediction averaged with its
 * mirror's. */
bool cli_parse_tta (const char *s, bool *flip);

/* Strict number parsing for option values: the whole string must be a number in range. */
bool cli_parse_int (const char *s, int lo, int hi, int *out);
bool cli_parse_u64 (const char *s, unsigned long long *out);

/* A JSON string of s, whose bytes need not be UTF-8 (a file's name): those that are not
 * become U+FFFD, so that the output stays valid JSON. */
cJSON *cli_json_string (const char *s);

/* {"file": file, "error": message}: a file a command could not read, in its output. */
cJSON *cli_file_error_json (const char *file, const char *message);

/* Prints a JSON object compactly on one line of stdout and frees it. */
void cli_print_json (cJSON *object);

/* The JSON of `eval`, also the "final" of `train --json`. */
cJSON *cli_eval_json (const HnEvalResult *result);

/* Threads for OpenBLAS when --threads is not given: the machine's cores. */
int cli_default_threads (void);
