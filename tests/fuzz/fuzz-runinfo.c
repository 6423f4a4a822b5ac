/* fuzz-runinfo.c — run folders: run_info_read of one, and run_list_read of the folder of runs
 * that holds it and another (what `hydranet-cli runs` and the studio's Runs view read), each
 * run turned back into JSON as `hydranet-cli runs --json` prints it. The input is laid out by
 * fuzz_put_runs: run.json and curves.csv of runs/a, then of runs/b. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "runinfo.h"

const char fuzz_target_name[] = "runinfo";

static void
check_run (const HnRunInfo *info)
{
  FUZZ_CHECK (info->folder != NULL);
  FUZZ_CHECK (info->summary.n_checkpoints >= 0);
  for (int i = 0; i < info->summary.n_checkpoints; i++)
    FUZZ_CHECK (info->summary.checkpoints[i].file != NULL);
  cJSON *json = run_info_to_cjson (info);
  char *text = json != NULL ? cJSON_PrintUnformatted (json) : NULL;
  FUZZ_CHECK (text != NULL);
  free (text);
  cJSON_Delete (json);
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  fuzz_put_runs (data, size);
  char *run = fuzz_path ("runs/a"), *runs = fuzz_path ("runs");
  HnError err = { { 0 } };
  HnRunInfo info;
  if (run_info_read (run, &info, &err))
    check_run (&info);
  else
    FUZZ_CHECK (err.message[0] != '\0');
  fuzz_note (err.message);
  run_info_clear (&info);

  HnRunList list;
  FUZZ_CHECK (run_list_read (runs, &list, &err));
  FUZZ_CHECK (list.n_runs + list.n_skipped == 2);
  for (int i = 0; i < list.n_runs; i++)
    check_run (&list.runs[i]);
  for (int i = 0; i < list.n_skipped; i++)
    FUZZ_CHECK (list.skipped[i].folder != NULL && list.skipped[i].reason != NULL);
  run_list_clear (&list);
  free (runs);
  free (run);
  return 0;
}
