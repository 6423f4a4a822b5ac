#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
hn_error_set (HnError *err, const char *fmt, ...)
{
  if (err == NULL)
    return false;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (err->message, sizeof err->message, fmt, ap);
  va_end (ap);
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
  snprintf (err->message, sizeof err->message, "%.200s: %.300s", prefix, old);
  return false;
}

void
hn_assert_fail (const char *file, int line, const char *expr)
{
  /* The one place the engine writes to stderr: a bug, reported as it dies. */
  fprintf (stderr, "hydranet engine: %s:%d: assertion failed: %s\n", file, line, expr);
  fflush (stderr);
  abort ();
}
