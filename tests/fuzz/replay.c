/* replay.c — a target without libFuzzer: its seeds (--seeds) and then every file named, or
 * in a folder named, fed to fuzz_target once. What the default `meson test` runs, so that
 * each crash kept in regressions/ stays fixed, and the seeds keep reaching the readers. */
#include "fuzz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

static int replayed;

static void
replay_file (const char *path)
{
  HnBytes buf = { 0 };
  HnError err;
  if (!file_read (AT_FDCWD, path, 1u << 30, "an input", &buf, &err))
    {
      fprintf (stderr, "%s: %s\n", path, err.message);
      exit (1);
    }
  fuzz_target (buf.data, buf.len);
  bytes_clear (&buf);
  replayed++;
}

static int
by_name (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

static void
replay (const char *path)
{
  struct stat st;
  if (stat (path, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      replay_file (path);
      return;
    }
  struct dirent **names;
  int n = scandir (path, &names, NULL, by_name);
  for (int i = 0; i < n; i++)
    {
      if (names[i]->d_name[0] != '.')
        {
          char *file;
          if (asprintf (&file, "%s/%s", path, names[i]->d_name) < 0)
            abort ();
          replay_file (file);
          free (file);
        }
      free (names[i]);
    }
  free (names);
}

int
main (int argc, char **argv)
{
  int first = 1;
  if (argc > 1 && strcmp (argv[1], "--seeds") == 0)
    {
      char *seeds = fuzz_path ("seeds");
      if (!fuzz_write_seeds (fuzz_target_name, seeds))
        return 1;
      replay (seeds);
      free (seeds);
      first = 2;
    }
  for (int i = first; i < argc; i++)
    replay (argv[i]);
  printf ("%s: %d inputs replayed\n", fuzz_target_name, replayed);
  return replayed > 0 ? 0 : 1;
}
