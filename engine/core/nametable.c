#include "nametable.h"

#include <string.h>

int
name_index (const char *const *names, int n, const char *name)
{
  for (int k = 0; k < n; k++)
    if (strcmp (name, names[k]) == 0)
      return k;
  return -1;
}
