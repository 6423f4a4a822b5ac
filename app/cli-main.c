/* hydranet-cli — the HydraNet engine without a window. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "cli.h"
#include "utf8.h"

static const struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *synopsis;
  bool own_help; /* prints a longer --help of its own */
} commands[] = {
  { "predict", cli_predict, "predict --model M [--faces auto|whole] [--tta none|flip] IMAGE...  each face's age, gender, race" },
  { "faces", cli_faces, "faces [--landmarks] [--chips DIR] IMAGE...  the faces found, aligned as chips" },
  { "info", cli_info, "info --model M.safetensors                what a checkpoint holds" },
  { "init", cli_init, "init --out M.safetensors [--seed S] [--backbone resnet18|resnet34] [--size 32]" },
  { "train", cli_train, "train [--data DIR | --synthetic N] [OPTIONS]  (train --help lists them)", true },
  { "runs", cli_runs, "runs [import PROJECT] [--dir DIR]        the runs in DIR (the studio's), as JSON", true },
  { "export-pytorch", cli_export, "export-pytorch (--run DIR | --model M) --out DIR  a PyTorch project for torchrun", true },
  { "eval", cli_eval, "eval --model M --data DIR [--split val|all] [--val-percent 20] [--tta none|flip]" },
  { "dataset", cli_dataset, "dataset DIR [--size 32]                  statistics and skipped files", true },
  { "synth", cli_synth, "synth --out DIR [--count N] [--seed S]   write synthetic faces", true },
  { "bench", cli_bench, "bench [--size 32] [--batch 64] [--threads T] [--steps 20] [--runs 5] [--backbone B]" },
};

static void
print_help (FILE *out)
{
  fprintf (out, "Usage: hydranet-cli COMMAND [OPTIONS]\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf (out, "  %s\n", commands[i].synopsis);
  fprintf (out, "\nMachine output is JSON on stdout; messages go to stderr.\n"
                "Exit status: 0 success, 1 the work failed, 2 usage error.\n");
}

int
cli_usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "hydranet-cli %s: ", cmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'hydranet-cli --help'.\n");
  return EXIT_USAGE;
}

bool
cli_parse_tta (const char *s, bool *flip)
{
  *flip = strcmp (s, "flip") == 0;
  return *flip || strcmp (s, "none") == 0;
}

int
cli_bad_value (const char *cmd, const struct option *options, int opt, const char *value)
{
  for (const struct option *o = options; o->name != NULL; o++)
    if (o->val == opt)
      return cli_usage_error (cmd, "bad value '%s' for --%s", value, o->name);
  return cli_usage_error (cmd, "unknown option");
}

int
cli_fail (const char *fmt, ...)
{
  /* as the engine's messages: valid UTF-8 even when a path given is not */
  char raw[1024], text[3 * sizeof raw];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (raw, sizeof raw, fmt, ap);
  va_end (ap);
  utf8_copy_valid (text, sizeof text, raw);
  fprintf (stderr, "hydranet-cli: %s\n", text);
  return EXIT_FAILED;
}

bool
cli_parse_int (const char *s, int lo, int hi, int *out)
{
  char *end;
  errno = 0;
  long v = strtol (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
    return false;
  *out = (int) v;
  return true;
}

bool
cli_parse_u64 (const char *s, unsigned long long *out)
{
  char *end;
  errno = 0;
  if (*s == '-')
    return false;
  unsigned long long v = strtoull (s, &end, 10);
  if (errno != 0 || end == s || *end != '\0')
    return false;
  *out = v;
  return true;
}

cJSON *
cli_json_string (const char *s)
{
  size_t cap = 3 * strlen (s) + 1;
  char *clean = malloc (cap);
  if (clean != NULL)
    utf8_copy_valid (clean, cap, s);
  cJSON *item = cJSON_CreateString (clean != NULL ? clean : "");
  free (clean);
  return item;
}

cJSON *
cli_file_error_json (const char *file, const char *message)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddItemToObject (o, "file", cli_json_string (file));
  cJSON_AddItemToObject (o, "error", cli_json_string (message));
  return o;
}

void
cli_print_json (cJSON *object)
{
  char *text = cJSON_PrintUnformatted (object);
  if (text != NULL)
    {
      puts (text);
      fflush (stdout);
      cJSON_free (text);
    }
  cJSON_Delete (object);
}

int
cli_default_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int) n : 1;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      print_help (stderr);
      return EXIT_USAGE;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0
      || strcmp (argv[1], "help") == 0)
    {
      print_help (stdout);
      return EXIT_OK;
    }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        if (!commands[i].own_help && argc == 3 && strcmp (argv[2], "--help") == 0)
          {
            printf ("Usage: hydranet-cli %s\n", commands[i].synopsis);
            return EXIT_OK;
          }
        return commands[i].run (argc - 1, argv + 1);
      }
  fprintf (stderr, "hydranet-cli: unknown command '%s'\n", argv[1]);
  print_help (stderr);
  return EXIT_USAGE;
}
