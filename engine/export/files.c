/* files.c — the files an export and an import write and take away (export-private.h). */
#include "export-private.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"
#include "runfolder.h"

bool
folder_has (const char *folder, const char *name)
{
  char *path = run_folder_file (folder, name);
  bool there = path != NULL && access (path, F_OK) == 0;
  free (path);
  return there;
}

bool
write_into (const char *dir, const char *name, const void *data, size_t len, HnError *err)
{
  char *path = run_folder_file (dir, name);
  bool ok = path != NULL ? file_replace (path, &(HnChunk) { data, len }, 1, true, NULL, err)
                         : hn_error_set (err, "out of memory");
  free (path);
  return ok;
}

bool
copy_into (const char *from, const char *dir, const char *name, uint64_t max, const char *what,
           HnError *err)
{
  HnBytes bytes = { 0 };
  bool ok = file_read (AT_FDCWD, from, max, what, &bytes, err) || hn_error_prefix (err, "%s", from);
  ok = ok && write_into (dir, name, bytes.data, bytes.len, err);
  bytes_clear (&bytes);
  return ok;
}

void
remove_from (const char *dir, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    {
      char *path = run_folder_file (dir, names[i]);
      if (path != NULL)
        unlink (path);
      free (path);
    }
}
