/* fuzz-import.c — a PyTorch project's result brought in as a run: import_pytorch_run over
 * PROJECT/output's run.json and curves.csv from the input (fuzz_put_runs' first two parts),
 * and, when the input has a third part (whatever it holds), a valid model.safetensors made
 * once per process. The model is not fuzzed here: it is a ResNet-18 of 45 MB whose container
 * fuzz-safetensors covers. Reading and copying it takes about a second under ASan, so inputs
 * without the third part stop at "model.safetensors is missing" and fuzz the run.json and
 * record checks fast, and those with it reach the copy.
 *
 * What import promises: nothing appears in the runs folder unless all of it was copied, and
 * what appears is a run that reads back. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "export.h"
#include "runinfo.h"

const char fuzz_target_name[] = "import";

/* PROJECT/output/model.safetensors: a fresh model, written once and hard-linked into place. */
static void
put_model (void)
{
  static bool made;
  char *model = fuzz_path ("model.safetensors"), *linked;
  HnModel *m = made ? NULL : model_new (BACKBONE_RESNET18, 1);
  HnError err;
  fuzz_put ("project/output/.keep", "", 0);
  linked = fuzz_path ("project/output/model.safetensors");
  if ((!made && (m == NULL || !checkpoint_save (m, 32, model, NULL, 0, &err)))
      || (link (model, linked) != 0 && errno != EEXIST))
    {
      fprintf (stderr, "fuzz import: cannot make the model\n");
      abort ();
    }
  model_free (m);
  free (linked);
  free (model);
  made = true;
}

/* Entries of dir other than . and .. (0 when it is missing). */
static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  int n = 0;
  for (struct dirent *e; d != NULL && (e = readdir (d)) != NULL;)
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  if (d != NULL)
    closedir (d);
  return n;
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  const uint8_t *part[3];
  size_t len[3];
  int n = fuzz_split (data, size, part, len, 3);
  char *linked = fuzz_path ("project/output/model.safetensors");
  if (n == 3)
    put_model ();
  else
    unlink (linked);
  free (linked);
  static const char *const files[] = { "project/output/run.json", "project/output/curves.csv" };
  for (int i = 0; i < 2; i++)
    {
      size_t text_len = 0;
      char *text = i < n ? fuzz_expand (part[i], len[i], &text_len) : NULL;
      fuzz_put (files[i], text, text_len);
      free (text);
    }

  char *project = fuzz_path ("project"), *runs = fuzz_path ("imported"), *folder = NULL;
  HnError err = { { 0 } };
  if (import_pytorch_run (project, runs, "fuzz", &folder, &err))
    {
      HnRunInfo info;
      FUZZ_CHECK (folder != NULL && count_entries (runs) == 1);
      FUZZ_CHECK (run_info_read (folder, &info, &err));
      FUZZ_CHECK (info.has_model);
      run_info_clear (&info);
      fuzz_remove_tree (folder);
    }
  else
    FUZZ_CHECK (err.message[0] != '\0' && folder == NULL && count_entries (runs) == 0);
  fuzz_note (err.message);
  free (folder);
  free (runs);
  free (project);
  return 0;
}
