#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

bool
hn_error_set (HnError *err, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  /* Messages quote file names, which are bytes: made valid UTF-8 here, once for every
   * caller, and never cut inside a character. */
  char raw[sizeof err->message];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (raw, sizeof raw, fmt, ap);
  va_end (ap);
  utf8_copy_valid (err->message, sizeof err->message, raw);
  return false;
}

bool
hn_error_prefix (HnError *err, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  char prefix[256];
  char old[sizeof err->message];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (prefix, sizeof prefix, fmt, ap);
  va_end (ap);
  memcpy (old, err->message, sizeof old);
  return hn_error_set (err, "%.200s: %.300s", prefix, old);
}

void
hn_assert_fail (const char *file, int line, const char *expr)
{
  /* The one place the engine writes to stderr: a bug, reported as it dies. */
  fprintf (stderr, "hydranet engine: %s:%d: assertion failed: %s\n", file, line, expr);
  fflush (stderr);
  abort ();
}
