/* import.c — what an exported project trained, brought in as a run (export.h). */
#include "export.h"
#include "export-private.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fileio.h"
#include "records.h"
#include "runfolder.h"
#include "runinfo.h"

#define RECORD_MAX (1ull << 32) /* a record grows by about 300 bytes a step */

static bool
count_row (const HnEvent *e, void *ctx)
{
  (void) e;
  (void) ctx;
  return true;
}

/* The run folder a project's result is in: PROJECT/output, or the folder itself. */
static char *
result_folder (const char *project)
{
  char *output = run_folder_file (project, PROJECT_OUTPUT);
  if (output != NULL && folder_has (output, RUN_INFO))
    return output;
  free (output);
  return strdup (project);
}

static bool
same_string (const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

/* Refuses a run runs_dir holds already: the same name, start and trainer, as far along. One
 * imported while it trained (its steps fewer) is no reason to refuse it once it has ended. */
static bool
check_not_imported (const HnRunInfo *info, const char *runs_dir, HnError *err)
{
  HnRunList list;
  if (!run_list_read (runs_dir, &list, err))
    return false;
  bool ok = true;
  for (int i = 0; ok && i < list.n_runs; i++)
    {
      const HnRunInfo *r = &list.runs[i];
      if (same_string (r->created, info->created) && same_string (r->name, info->name)
          && same_string (r->source, info->source) && r->summary.steps >= info->summary.steps)
        ok = hn_error_set (err, "this run is already imported, as %s", r->folder);
    }
  run_list_clear (&list);
  return ok;
}

/* Reads every file of the run as hostile: run.json, the record, the model; and makes sure it
 * is not in runs_dir already. (train.py replaces run.json and the model atomically and only
 * appends to the record, so what is copied after this is as whole as what was read.) */
static bool
check_run (const char *folder, const char *runs_dir, HnError *err)
{
  HnRunInfo info;
  bool ok = run_info_read (folder, &info, err);
  bool imported = ok && !check_not_imported (&info, runs_dir, err);
  run_info_clear (&info);
  if (imported)
    return false;
  if (!ok)
    {
      /* an exported project not trained yet is the likely mistake: say so */
      if (folder_has (folder, "train.py"))
        return hn_error_set (err, "%s has not been trained: it has no %s/%s yet (run train.py "
                                  "as its README.md says)", folder, PROJECT_OUTPUT, RUN_INFO);
      return hn_error_prefix (err, "%s is not an exported project or a run", folder);
    }
  char *record = run_folder_file (folder, RUN_RECORD);
  char *model = run_folder_file (folder, RUN_MODEL);
  ok = record != NULL && model != NULL;
  if (!ok)
    hn_error_set (err, "out of memory");
  int64_t rows = 0;
  ok = ok && records_read (record, count_row, NULL, &rows, err);
  if (ok && rows == 0)
    ok = hn_error_set (err, "%s holds no rows: did the training start?", record);
  if (ok && access (model, F_OK) != 0)
    ok = hn_error_set (err, "%s is missing: did the training end?", model);
  if (ok)
    {
      HnCheckpoint *c = checkpoint_open (model, CHECKPOINT_MODEL, err);
      ok = c != NULL;
      checkpoint_close (c);
    }
  free (record);
  free (model);
  return ok;
}

/* FROM_DIR/NAME copied into to_dir. */
static bool
copy_file (const char *from_dir, const char *to_dir, const char *name, uint64_t max,
           const char *what, HnError *err)
{
  char *from = run_folder_file (from_dir, name);
  bool ok = from != NULL ? copy_into (from, to_dir, name, max, what, err)
                         : hn_error_set (err, "out of memory");
  free (from);
  return ok;
}

/* run.json with "imported" {project, at, by} added. */
static bool
copy_info (const char *from_dir, const char *to_dir, const char *project, const char *importer,
           HnError *err)
{
  char *from = run_folder_file (from_dir, RUN_INFO);
  HnBytes bytes = { 0 };
  bool ok = from != NULL || hn_error_set (err, "out of memory");
  ok = ok && file_read (AT_FDCWD, from, RUN_INFO_MAX, "a run.json", &bytes, err);
  cJSON *root = ok ? cJSON_ParseWithLength ((const char *) bytes.data, bytes.len) : NULL;
  ok = ok && (root != NULL || hn_error_set (err, "%s is not JSON", from));
  char *text = NULL;
  if (ok)
    {
      char *abs = realpath (project, NULL);
      cJSON *imported = cJSON_CreateObject ();
      cJSON_AddStringToObject (imported, "project", abs != NULL ? abs : project);
      cJSON_AddStringToObject (imported, "by", importer != NULL ? importer : "");
      free (abs);
      cJSON_DeleteItemFromObjectCaseSensitive (root, "imported");
      cJSON_AddItemToObject (root, "imported", imported);
      text = cJSON_Print (root);
      ok = text != NULL || hn_error_set (err, "out of memory");
    }
  ok = ok && write_into (to_dir, RUN_INFO, text, strlen (text), err);
  free (text);
  cJSON_Delete (root);
  bytes_clear (&bytes);
  free (from);
  return ok;
}

static void
remove_run (const char *dir)
{
  remove_from (dir, (const char *const[]) { RUN_INFO, RUN_RECORD, RUN_MODEL }, 3);
  rmdir (dir);
}

bool
import_pytorch_run (const char *project, const char *runs_dir, const char *importer,
                    char **run_folder, HnError *err)
{
  *run_folder = NULL;
  char *from = result_folder (project);
  if (from == NULL)
    return hn_error_set (err, "out of memory");
  if (!check_run (from, runs_dir, err))
    {
      free (from);
      return false;
    }
  /* copied under a hidden name (which run_list_read skips), then renamed into place */
  char *hidden = run_folder_file (runs_dir, ".import-XXXXXX");
  bool ok = hidden != NULL || hn_error_set (err, "out of memory");
  ok = ok && file_make_dirs (runs_dir, 0777, err);
  ok = ok && (mkdtemp (hidden) != NULL
              || hn_error_set (err, "cannot make a folder in %s: %s", runs_dir, strerror (errno)));
  bool made = ok;
  ok = ok && copy_info (from, hidden, project, importer, err)
       && copy_file (from, hidden, RUN_RECORD, RECORD_MAX, "a run's record", err)
       && copy_file (from, hidden, RUN_MODEL, MODEL_MAX, "a model", err);
  char *folder = ok ? run_folder_create (runs_dir, err) : NULL;
  ok = ok && folder != NULL;
  if (ok && rename (hidden, folder) != 0)
    {
      ok = hn_error_set (err, "cannot move the run into %s: %s", folder, strerror (errno));
      rmdir (folder);
    }
  if (!ok && made)
    remove_run (hidden);
  if (ok)
    *run_folder = folder;
  else
    free (folder);
  free (hidden);
  free (from);
  return ok;
}
