#include "runfolder.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "runstate.h"

char *
run_folder_create (const char *parent, HnError *err)
{
  if (!file_make_dirs (parent, 0755, err))
    return NULL;
  char name[32];
  time_t now = time (NULL);
  struct tm local;
  strftime (name, sizeof name, "%Y-%m-%d-%H%M%S", localtime_r (&now, &local));
  for (int i = 1; i < 1000; i++)
    {
      char *path = NULL;
      if ((i == 1 ? asprintf (&path, "%s/%s", parent, name)
                  : asprintf (&path, "%s/%s-%d", parent, name, i)) < 0)
        break;
      if (mkdir (path, 0755) == 0)
        return path;
      int error = errno;
      free (path);
      if (error != EEXIST)
        {
          hn_error_set (err, "cannot create the run folder %s/%s: %s", parent, name,
                        strerror (error));
          return NULL;
        }
    }
  hn_error_set (err, "too many run folders named %s/%s", parent, name);
  return NULL;
}

void
run_folder_remove_unstarted (const char *folder)
{
  char *first = run_folder_checkpoint (0, 0);
  char *optim = first != NULL ? run_state_optimizer_path (first) : NULL;
  const char *names[] = { RUN_INFO, RUN_RECORD, RUN_MODEL, first, optim };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      char *path = names[i] != NULL ? run_folder_file (folder, names[i]) : NULL;
      if (path != NULL)
        unlink (path);
      free (path);
    }
  /* the folders only if that left them empty: anything else in them is not the start's */
  char *checkpoints = run_folder_file (folder, RUN_CHECKPOINTS);
  if (checkpoints != NULL)
    rmdir (checkpoints);
  rmdir (folder);
  free (checkpoints);
  free (first);
  free (optim);
}

char *
run_folder_file (const char *folder, const char *name)
{
  char *path = NULL;
  return asprintf (&path, "%s/%s", folder, name) < 0 ? NULL : path;
}

char *
run_folder_checkpoint (int epoch, int batch)
{
  char *file = NULL;
  int n = batch > 0 ? asprintf (&file, RUN_CHECKPOINTS "/epoch-%03d-batch-%04d.safetensors",
                                epoch, batch)
                    : asprintf (&file, RUN_CHECKPOINTS "/epoch-%03d.safetensors", epoch);
  return n < 0 ? NULL : file;
}

char *
run_folder_of (const char *checkpoint, HnError *err)
{
  char *path = realpath (checkpoint, NULL);
  if (path == NULL)
    {
      hn_error_set (err, "%s: %s", checkpoint, strerror (errno));
      return NULL;
    }
  /* dirname and basename (libgen's) work in place: the folder first, then its name */
  char *folder = dirname (path);
  char *copy = strdup (folder);
  char *name = copy ? basename (copy) : NULL;
  bool in_checkpoints = name != NULL && strcmp (name, RUN_CHECKPOINTS) == 0;
  char *run = in_checkpoints ? strdup (dirname (folder)) : strdup (folder);
  free (copy);
  free (path);
  if (run == NULL)
    hn_error_set (err, "out of memory");
  return run;
}

char *
run_folder_default_parent (HnError *err)
{
  /* as the XDG base directory specification says: a relative path is to be ignored */
  const char *data = getenv ("XDG_DATA_HOME");
  const char *home = getenv ("HOME");
  if (home == NULL || home[0] == '\0')
    {
      const struct passwd *pw = getpwuid (getuid ());
      home = pw != NULL ? pw->pw_dir : NULL;
    }
  char *path = NULL;
  int n;
  if (data != NULL && data[0] == '/')
    n = asprintf (&path, "%s/hydranet-studio/runs", data);
  else if (home != NULL)
    n = asprintf (&path, "%s/.local/share/hydranet-studio/runs", home);
  else
    {
      hn_error_set (err, "no home folder to keep runs in (HOME is not set)");
      return NULL;
    }
  if (n < 0)
    {
      hn_error_set (err, "out of memory");
      return NULL;
    }
  return path;
}
