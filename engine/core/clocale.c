#include "clocale.h"

#include <pthread.h>

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
