/* fuzz-util.c — the scratch folder and the files a target writes its input to (fuzz.h). */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

static char *scratch;

void
fuzz_fail (const char *file, int line, const char *expr)
{
  fprintf (stderr, "%s:%d: fuzz %s: expected %s\n", file, line, fuzz_target_name, expr);
  abort ();
}

void
fuzz_note (const char *outcome)
{
  static int verbose = -1;
  if (verbose < 0)
    verbose = getenv ("FUZZ_VERBOSE") != NULL;
  if (verbose)
    fprintf (stderr, "%s: %s\n", fuzz_target_name, outcome[0] != '\0' ? outcome : "read");
}

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) flag;
  (void) ftw;
  remove (path);
  return 0;
}

void
fuzz_remove_tree (const char *path)
{
  nftw (path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
remove_scratch (void)
{
  fuzz_remove_tree (scratch);
}

const char *
fuzz_dir (void)
{
  if (scratch == NULL)
    {
      const char *tmp = getenv ("TMPDIR");
      if (asprintf (&scratch, "%s/hn-fuzz-XXXXXX", tmp != NULL && tmp[0] == '/' ? tmp : "/tmp") < 0
          || mkdtemp (scratch) == NULL)
        {
          perror ("fuzz: cannot make a scratch folder");
          abort ();
        }
      atexit (remove_scratch);
    }
  return scratch;
}

char *
fuzz_path (const char *rel)
{
  char *path;
  if (asprintf (&path, "%s/%s", fuzz_dir (), rel) < 0)
    abort ();
  return path;
}

void
fuzz_put (const char *rel, const void *data, size_t len)
{
  if (data == NULL)
    {
      char *gone = fuzz_path (rel);
      unlink (gone);
      free (gone);
      return;
    }
  char *path = fuzz_path (rel);
  char *dir = strdup (path);
  HnError err;
  bool ok = dir != NULL && (*strrchr (dir, '/') = '\0', file_make_dirs (dir, 0700, &err));
  free (dir);
  /* written in place, not through file_replace: it must be fast, and nothing reads it
   * while it is written */
  int fd = ok ? open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
  if (fd < 0 || !file_write_all (fd, data, len) || close (fd) != 0)
    {
      fprintf (stderr, "fuzz: cannot write %s: %s\n", path, ok ? strerror (errno) : err.message);
      abort ();
    }
  free (path);
}

int
fuzz_split (const uint8_t *data, size_t size, const uint8_t **parts, size_t *len, int max)
{
  const size_t sep = strlen (FUZZ_SPLIT);
  int n = 0;
  while (n < max)
    {
      const uint8_t *at = memmem (data, size, FUZZ_SPLIT, sep);
      parts[n] = data;
      len[n++] = at != NULL ? (size_t) (at - data) : size;
      if (at == NULL)
        break;
      size -= (size_t) (at - data) + sep;
      data = at + sep;
    }
  return n;
}

char *
fuzz_expand (const uint8_t *text, size_t len, size_t *out_len)
{
  const char *dir = fuzz_dir ();
  const size_t dir_len = strlen (dir), mark = strlen ("@DIR@");
  size_t marks = 0;
  for (const uint8_t *at = text; (at = memmem (at, len - (size_t) (at - text), "@DIR@", mark));
       at += mark)
    marks++;
  char *out = malloc (len + marks * dir_len + 1), *o = out;
  if (out == NULL)
    abort ();
  for (size_t i = 0; i < len;)
    if (i + mark <= len && memcmp (text + i, "@DIR@", mark) == 0)
      {
        memcpy (o, dir, dir_len);
        o += dir_len;
        i += mark;
      }
    else
      *o++ = (char) text[i++];
  *o = '\0';
  *out_len = (size_t) (o - out);
  return out;
}

void
fuzz_put_runs (const uint8_t *data, size_t size)
{
  static const char *const files[] = { "runs/a/run.json", "runs/a/curves.csv", "runs/b/run.json",
                                       "runs/b/curves.csv" };
  const uint8_t *part[4];
  size_t len[4];
  int n = fuzz_split (data, size, part, len, 4);
  fuzz_put ("runs/b/.made", "", 0); /* both folders there, whatever the input holds */
  for (int i = 0; i < 4; i++)
    {
      size_t text_len = 0;
      char *text = i < n ? fuzz_expand (part[i], len[i], &text_len) : NULL;
      fuzz_put (files[i], text, text_len);
      free (text);
    }
}
