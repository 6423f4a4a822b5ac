#include "clocale.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void
make_c_locale (void)
{
  c_locale = newlocale (LC_ALL_MASK, "C", (locale_t) 0);
}

locale_t
c_locale_enter (void)
{
  pthread_once (&once, make_c_locale);
  /* without the locale object (out of memory) the thread's own stays: still right for the
   * CLI and the tests, which run in "C" */
  return c_locale != (locale_t) 0 ? uselocale (c_locale) : (locale_t) 0;
}

void
c_locale_leave (locale_t previous)
{
  if (previous != (locale_t) 0)
    uselocale (previous);
}

void
c_format_float (float f, char buf[C_FLOAT_MAX])
{
  if (!isfinite (f))
    {
      snprintf (buf, C_FLOAT_MAX, "%s", isnan (f) ? "nan" : f > 0 ? "inf" : "-inf");
      return;
    }
  for (int digits = 6; digits <= 9; digits++)
    {
      snprintf (buf, C_FLOAT_MAX, "%.*g", digits, (double) f);
      if (strtof (buf, NULL) == f)
        return;
    }
}
