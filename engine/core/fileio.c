#include "fileio.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long long write_limit = -1; /* file_set_write_limit_for_testing */

/* The process's umask, read once without changing it (umask(2) can only set it, which
 * would race with other threads creating files). */
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;
static mode_t process_umask = 022;

static void
read_umask (void)
{
  FILE *f = fopen ("/proc/self/status", "re");
  char line[128];
  unsigned mask;
  while (f != NULL && fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "Umask: %o", &mask) == 1)
      process_umask = (mode_t) mask;
  if (f != NULL)
    fclose (f);
}

void
bytes_clear (HnBytes *b)
{
  free (b->data);
  *b = (HnBytes) { 0 };
}

static bool
bytes_reserve (HnBytes *b, size_t need)
{
  if (need <= b->cap)
    return true;
  uint8_t *p = realloc (b->data, need);
  if (p == NULL)
    return false;
  b->data = p;
  b->cap = need;
  return true;
}

/* "64 MiB", "4 GiB": a limit as a person reads it. */
static void
format_limit (uint64_t bytes, char *buf, size_t len)
{
  if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
    snprintf (buf, len, "%llu GiB", (unsigned long long) (bytes >> 30));
  else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
    snprintf (buf, len, "%llu MiB", (unsigned long long) (bytes >> 20));
  else
    snprintf (buf, len, "%llu-byte", (unsigned long long) bytes);
}

bool
file_check_regular (unsigned mode, const char *what, HnError *err)
{
  if (S_ISREG (mode))
    return true;
  if (S_ISDIR (mode))
    return hn_error_set (err, "is a folder, not %s", what);
  const char *kind = S_ISFIFO (mode)                    ? "a named pipe (FIFO)"
                     : S_ISSOCK (mode)                  ? "a socket"
                     : S_ISCHR (mode) || S_ISBLK (mode) ? "a device"
                                                        : "a special file";
  return hn_error_set (err, "%s, not a regular file", kind);
}

bool
file_read (int dir_fd, const char *name, uint64_t max, const char *what, HnBytes *buf,
           HnError *err)
{
  char why[128];
  /* O_NONBLOCK: opening a FIFO (perhaps swapped in since a folder was listed) must not wait
   * for a writer; regular files ignore it. */
  int fd = openat (dir_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return hn_error_set (err, "cannot open (%s)", strerror_r (errno, why, sizeof why));
  struct stat st;
  bool ok = false;
  buf->len = 0;
  if (fstat (fd, &st) != 0)
    hn_error_set (err, "cannot read (%s)", strerror_r (errno, why, sizeof why));
  else if (!file_check_regular (st.st_mode, what, err))
    ok = false; /* a folder, a pipe, a device: err says which */
  else if ((uint64_t) st.st_size > max)
    {
      format_limit (max, why, sizeof why);
      hn_error_set (err, "%llu bytes is over the %s limit for %s",
                    (unsigned long long) st.st_size, why, what);
    }
  else if (!bytes_reserve (buf, (size_t) st.st_size + 1))
    hn_error_set (err, "out of memory reading %lld bytes", (long long) st.st_size);
  else
    ok = true;
  /* read returns less than asked at will (and at most about 2 GiB a call); a file that shrank
   * since fstat yields fewer bytes, which the caller's parser then judges */
  while (ok && buf->len < (size_t) st.st_size)
    {
      ssize_t n = read (fd, buf->data + buf->len, (size_t) st.st_size - buf->len);
      if (n > 0)
        buf->len += (size_t) n;
      else if (n == 0)
        break;
      else if (errno != EINTR)
        ok = hn_error_set (err, "cannot read (%s)", strerror_r (errno, why, sizeof why));
    }
  close (fd);
  return ok;
}

bool
file_write_all (int fd, const void *buf, size_t len)
{
  for (size_t done = 0; done < len;)
    {
      ssize_t n = write (fd, (const uint8_t *) buf + done, len - done);
      if (n > 0)
        done += (size_t) n;
      else if (n == 0)
        return errno = ENOSPC, false;
      else if (errno != EINTR)
        return false;
    }
  return true;
}

void
file_set_write_limit_for_testing (long long max_bytes)
{
  write_limit = max_bytes;
}

/* file_write_all under the test hook's budget (−1: none); at zero it fails as a full disk. */
static bool
write_budgeted (int fd, const void *buf, size_t len, long long *budget)
{
  if (*budget < 0)
    return file_write_all (fd, buf, len);
  size_t allowed = (unsigned long long) *budget < len ? (size_t) *budget : len;
  if (!file_write_all (fd, buf, allowed))
    return false;
  *budget -= (long long) allowed;
  return allowed == len || (errno = ENOSPC, false);
}

/* Makes a rename into path's folder durable. Best effort: the new file is already in place,
 * so a failure here must not tell the caller that the old one survived. */
static void
sync_folder (const char *path)
{
  const char *slash = strrchr (path, '/');
  char *dir = slash == NULL   ? strdup (".")
              : slash == path ? strdup ("/")
                              : strndup (path, (size_t) (slash - path));
  int dir_fd = dir != NULL ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dir_fd >= 0)
    {
      fsync (dir_fd);
      close (dir_fd);
    }
  free (dir);
}

bool
file_rename (const char *from, const char *to, bool durable, HnError *err)
{
  if (rename (from, to) != 0)
    return hn_error_set (err, "cannot write %s: %s", to, strerror (errno));
  if (durable)
    sync_folder (to);
  return true;
}

bool
file_replace (const char *path, const HnChunk *chunks, int n_chunks, bool durable,
              const atomic_bool *cancel, HnError *err)
{
  /* The temporary file sits beside the target, so that rename stays on one file system and
   * is atomic. */
  const char *slash = strrchr (path, '/');
  int dir_len = slash != NULL ? (int) (slash - path) + 1 : 0;
  char *tmp = NULL;
  if (asprintf (&tmp, "%.*s.%s.XXXXXX", dir_len, path, path + dir_len) < 0)
    return hn_error_set (err, "cannot write %s: out of memory", path);

  int fd = mkostemp (tmp, O_CLOEXEC);
  int error = fd < 0 ? errno : 0;
  /* mkostemp makes the file private (0600); the file replaced is an ordinary one, created
   * as open (path, O_CREAT, 0666) would create it */
  pthread_once (&umask_once, read_umask);
  if (fd >= 0 && fchmod (fd, 0666 & ~process_umask) != 0)
    error = errno;
  bool cancelled = false;
  if (fd >= 0)
    {
      long long budget = write_limit;
      bool ok = true;
      for (int i = 0; ok && i < n_chunks; i++)
        ok = write_budgeted (fd, chunks[i].data, chunks[i].len, &budget);
      /* without fsync before rename, a crash can leave the new name on blocks never written */
      if (!ok || (durable && fsync (fd) != 0))
        error = errno;
      /* some file systems (NFS) report write errors only at close */
      if (close (fd) != 0 && error == 0)
        error = errno;
      cancelled = error == 0 && cancel != NULL && atomic_load (cancel);
      if (error == 0 && !cancelled && rename (tmp, path) != 0)
        error = errno;
      if (error != 0 || cancelled)
        unlink (tmp);
    }
  if (error == 0 && !cancelled && durable)
    sync_folder (path);
  free (tmp);
  if (cancelled)
    return hn_error_set (err, "cancelled");
  if (error != 0)
    return hn_error_set (err, "cannot write %s: %s", path, strerror (error));
  return true;
}

bool
file_make_dirs (const char *dir, unsigned mode, HnError *err)
{
  char why[128];
  if (dir[0] == '\0')
    return hn_error_set (err, "no folder given");
  char *path = strdup (dir);
  if (path == NULL)
    return hn_error_set (err, "cannot create folder %s: out of memory", dir);
  /* each component in turn; one that exists already is fine as long as it is a folder, which
   * the next mkdir (ENOTDIR) or the final stat checks */
  bool ok = true;
  for (char *s = strchr (path + 1, '/');; s = strchr (s + 1, '/'))
    {
      if (s != NULL)
        *s = '\0';
      if (mkdir (path, (mode_t) mode) != 0 && errno != EEXIST)
        ok = hn_error_set (err, "cannot create folder %s: %s", path,
                           strerror_r (errno, why, sizeof why));
      if (s == NULL || !ok)
        break;
      *s = '/';
    }
  free (path);
  struct stat st;
  if (ok && stat (dir, &st) != 0)
    ok = hn_error_set (err, "cannot use folder %s: %s", dir, strerror_r (errno, why, sizeof why));
  else if (ok && !S_ISDIR (st.st_mode))
    ok = hn_error_set (err, "%s is a file, not a folder", dir);
  return ok;
}
