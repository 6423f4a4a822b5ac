/* error.h — how the engine reports what the world got wrong.
 *
 * Two kinds of failure, two mechanisms (as in ggml):
 *  - programmer errors (a shape mismatch, a NULL where none is allowed) abort with file and
 *    line through HN_ASSERT: they are bugs, and carrying on would compute garbage;
 *  - runtime failures (a missing file, a corrupt checkpoint, an image that does not decode)
 *    return false and fill an HnError with a message a person can act on. The engine never
 *    prints and never exits; the caller decides what to show.
 */
#pragma once

#include <stdbool.h>

typedef struct
{
  char message[512];
} HnError;

/* Formats the message into err (if err is not NULL) and returns false, so that a failing
 * path reads `return hn_error_set (err, "…", …);`. The message is always valid UTF-8 (bytes
 * that are not, say of a file's name, become U+FFFD: utf8.h). */
bool hn_error_set (HnError *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

/* Prepends "prefix: " to an existing message (for adding a file name on the way up). */
bool hn_error_prefix (HnError *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

void hn_assert_fail (const char *file, int line, const char *expr) __attribute__ ((noreturn));

#define HN_ASSERT(x)                                                                               \
  do                                                                                               \
    {                                                                                              \
      if (!(x))                                                                                    \
        hn_assert_fail (__FILE__, __LINE__, #x);                                                   \
    }                                                                                              \
  while (0)
