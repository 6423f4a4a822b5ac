/* hydranet-cli runs — the runs in a folder of run folders, as one JSON object: each run's
 * run.json (engine/train/runinfo.h) with its folder, and the folders that are not runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "export.h"
#include "runfolder.h"
#include "runinfo.h"

static const char help[] =
  "Usage: hydranet-cli runs [--dir DIR]\n"
  "       hydranet-cli runs import PROJECT [--dir DIR]\n"
  "\n"
  "Lists the runs in DIR (default: the studio's, $XDG_DATA_HOME/hydranet-studio/runs) as\n"
  "{\"runs\": [...], \"skipped\": [...]}: each run's run.json — name, parent, settings, and a\n"
  "summary with the state, the final and best validation and the epoch checkpoints — with its\n"
  "\"folder\" and \"model\", oldest first; and each folder that is not a run, with the reason.\n"
  "\n"
  "runs import brings what a project from hydranet-cli export-pytorch trained (its output/\n"
  "folder, or any run folder) into DIR as a new run, and prints its run.json.\n";

/* The studio's runs folder, or dir when given (which must then be there unless `create`). */
static char *
runs_dir (const char *dir, bool create, HnError *err)
{
  if (dir == NULL)
    return run_folder_default_parent (err);
  if (!create && access (dir, F_OK) != 0)
    return hn_error_set (err, "%s: no such folder", dir), NULL;
  return strdup (dir);
}

static int
import_run (const char *project, const char *dir)
{
  HnError err;
  char *into = runs_dir (dir, true, &err), *folder = NULL;
  if (into == NULL)
    return cli_fail ("%s", err.message);
  bool ok = import_pytorch_run (project, into, "hydranet-cli " HYDRA_VERSION, &folder, &err);
  free (into);
  if (!ok)
    return cli_fail ("%s", err.message);
  HnRunInfo info;
  ok = run_info_read (folder, &info, &err);
  cJSON *o = ok ? run_info_to_cjson (&info) : NULL;
  run_info_clear (&info);
  free (folder);
  if (o == NULL)
    return cli_fail ("%s", ok ? "out of memory" : err.message);
  cli_print_json (o);
  return EXIT_OK;
}

int
cli_runs (int argc, char **argv)
{
  static const struct option options[] = {
    { "dir", required_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { 0 },
  };
  const char *dir = NULL;
  int opt;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    switch (opt)
      {
      case 'd': dir = optarg; break;
      case 'h': fputs (help, stdout); return EXIT_OK;
      default: return cli_usage_error ("runs", "unknown option");
      }
  if (optind < argc && strcmp (argv[optind], "import") == 0)
    {
      if (optind + 2 != argc)
        return cli_usage_error ("runs", "runs import takes one project folder");
      return import_run (argv[optind + 1], dir);
    }
  if (optind < argc)
    return cli_usage_error ("runs", "unexpected argument '%s'", argv[optind]);

  HnError err;
  /* a folder given that is not there is a mistake; the studio's before any run is empty */
  char *folder = runs_dir (dir, false, &err);
  if (folder == NULL)
    return cli_fail ("%s", err.message);
  HnRunList list;
  bool ok = run_list_read (folder, &list, &err);
  free (folder);
  if (!ok)
    return cli_fail ("%s", err.message);

  cJSON *o = cJSON_CreateObject ();
  cJSON *runs = cJSON_AddArrayToObject (o, "runs");
  for (int i = 0; i < list.n_runs; i++)
    {
      cJSON *run = run_info_to_cjson (&list.runs[i]);
      if (run == NULL)
        {
          cJSON_Delete (o);
          run_list_clear (&list);
          return cli_fail ("out of memory");
        }
      cJSON_AddItemToArray (runs, run);
    }
  cJSON *skipped = cJSON_AddArrayToObject (o, "skipped");
  for (int i = 0; i < list.n_skipped; i++)
    {
      cJSON *s = cJSON_CreateObject ();
      cJSON_AddItemToObject (s, "folder", cli_json_string (list.skipped[i].folder));
      cJSON_AddStringToObject (s, "reason", list.skipped[i].reason);
      cJSON_AddItemToArray (skipped, s);
    }
  run_list_clear (&list);
  cli_print_json (o);
  return EXIT_OK;
}
