#include "runfolder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"

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

char *
run_folder_file (const char *folder, const char *name)
{
  char *path = NULL;
  return asprintf (&path, "%s/%s", folder, name) < 0 ? NULL : path;
}
