/* make-seeds.c — fuzz-make-seeds OUT [TARGET…]: each target's seeds into OUT/TARGET (every
 * target when none is named), for tests/fuzz/run to copy into a scratch corpus. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

const char fuzz_target_name[] = "make-seeds";

static const char *const targets[] = { "safetensors", "image", "names", "cache", "records",
                                       "runinfo", "history", "import", NULL };

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s OUT [TARGET…]\n", argv[0]);
      return 2;
    }
  const char *const *names = argc > 2 ? (const char *const *) argv + 2 : targets;
  for (int i = 0; names[i] != NULL; i++)
    {
      char *dir;
      if (asprintf (&dir, "%s/%s", argv[1], names[i]) < 0)
        return 1;
      bool ok = fuzz_write_seeds (names[i], dir);
      free (dir);
      if (!ok)
        return 1;
    }
  return 0;
}
