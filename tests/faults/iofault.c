/* iofault.c — an LD_PRELOAD shim that makes the Nth open, write, fsync, rename or mkdir fail.
 *
 *   HN_FAULT=KIND:N:ERRNO[:sticky]   KIND open|write|fsync|rename|mkdir, N from 1, ERRNO
 *                                    ENOSPC|EIO|EACCES|…; the Nth call of KIND fails once (a
 *                                    passing error), or with :sticky that one and every later
 *                                    one (a full disk). Unset: nothing fails, calls are counted.
 *   HN_FAULT_DIR=DIR                 count only calls on paths under DIR and on fds opened
 *                                    there (default: every path), so that the loader's and
 *                                    the fonts' opens do not shift N
 *   HN_FAULT_REPORT=FILE             at exit, "open=… write=… fsync=… rename=… mkdir=…" is
 *                                    appended to FILE; each failure made is appended as it is
 *                                    made, "fault KIND N ERRNO folder|file PATH", so it is
 *                                    there even if the process dies
 *
 * What counts as each kind, as the app calls it: glibc's own calls inside fopen, mkostemp or
 * fflush do not go through the PLT, so those are intercepted themselves.
 *   open    open/open64/openat/openat64/creat/fopen/mkostemp/mkstemp… that create or write
 *           (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND; fopen "w"/"a"/"+"), and folders
 *           opened (O_DIRECTORY) to fsync or lock them; plain reads are not counted
 *   write   write/pwrite/pwrite64 on a counted fd; fwrite/fputs/fflush/fclose on a counted
 *           stream (fclose flushes)
 *   fsync   fsync/fdatasync on a counted fd
 *   rename  rename/renameat/renameat2 with either path under DIR
 *   mkdir   mkdir/mkdirat/mkdtemp under DIR
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum
{
  K_OPEN, K_WRITE, K_FSYNC, K_RENAME, K_MKDIR, N_KINDS
};

static const char *const kind_names[N_KINDS] = { "open", "write", "fsync", "rename", "mkdir" };

#define MAX_FDS 4096

static struct
{
  int kind;            /* -1: no fault */
  long n;
  int error;
  int sticky;
  char dir[PATH_MAX];  /* "" : every path */
  size_t dir_len;
  const char *report;
  long count[N_KINDS];
  char *fd_path[MAX_FDS]; /* the counted fds, with the path they were opened as */
  pthread_mutex_t lock;
} S = { .kind = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

static void *
real (const char *name)
{
  void *f = dlsym (RTLD_NEXT, name);
  if (f == NULL)
    abort ();
  return f;
}

#define REAL(ret, name, ...) \
  static ret (*real_##name) (__VA_ARGS__); \
  if (real_##name == NULL) \
    real_##name = (ret (*) (__VA_ARGS__)) real (#name)

static int
errno_from_name (const char *s)
{
  static const struct { const char *name; int value; } names[] = {
    { "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EACCES", EACCES }, { "EPERM", EPERM },
    { "EDQUOT", EDQUOT }, { "EROFS", EROFS }, { "EMFILE", EMFILE }, { "EINTR", EINTR },
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp (s, names[i].name) == 0)
      return names[i].value;
  return atoi (s);
}

static const char *
errno_name (int e)
{
  switch (e)
    {
    case ENOSPC: return "ENOSPC";
    case EIO: return "EIO";
    case EACCES: return "EACCES";
    default: return "errno";
    }
}

/* Appends a line to the report with the real write, so that it is never counted itself. */
static void
report_line (const char *line)
{
  if (S.report == NULL)
    return;
  REAL (int, open, const char *, int, ...);
  REAL (ssize_t, write, int, const void *, size_t);
  REAL (int, close, int);
  int fd = real_open (S.report, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  real_write (fd, line, strlen (line));
  real_close (fd);
}

__attribute__ ((constructor)) static void
setup (void)
{
  const char *dir = getenv ("HN_FAULT_DIR");
  if (dir != NULL && dir[0] != '\0')
    {
      /* canonical, as the app's own paths are after realpath; the folder may not be there yet */
      if (realpath (dir, S.dir) == NULL)
        snprintf (S.dir, sizeof S.dir, "%s", dir);
      S.dir_len = strlen (S.dir);
      while (S.dir_len > 1 && S.dir[S.dir_len - 1] == '/')
        S.dir[--S.dir_len] = '\0';
    }
  S.report = getenv ("HN_FAULT_REPORT");
  const char *spec = getenv ("HN_FAULT");
  if (spec == NULL || spec[0] == '\0')
    return;
  char kind[16], error[32], mode[16] = "";
  long n;
  if (sscanf (spec, "%15[a-z]:%ld:%31[A-Z0-9]:%15s", kind, &n, error, mode) < 3)
    {
      fprintf (stderr, "iofault: HN_FAULT=%s is not KIND:N:ERRNO[:sticky]\n", spec);
      abort ();
    }
  for (int k = 0; k < N_KINDS; k++)
    if (strcmp (kind, kind_names[k]) == 0)
      S.kind = k;
  if (S.kind < 0)
    {
      fprintf (stderr, "iofault: no kind of call is named %s\n", kind);
      abort ();
    }
  S.n = n;
  S.error = errno_from_name (error);
  S.sticky = strcmp (mode, "sticky") == 0;
}

__attribute__ ((destructor)) static void
finish (void)
{
  char line[256];
  pthread_mutex_lock (&S.lock);
  snprintf (line, sizeof line, "open=%ld write=%ld fsync=%ld rename=%ld mkdir=%ld\n",
            S.count[K_OPEN], S.count[K_WRITE], S.count[K_FSYNC], S.count[K_RENAME],
            S.count[K_MKDIR]);
  pthread_mutex_unlock (&S.lock);
  report_line (line);
}

/* path made absolute against dir_fd (AT_FDCWD: the working folder), without resolving it */
static void
absolute (int dir_fd, const char *path, char *out, size_t len)
{
  char base[PATH_MAX] = "";
  if (path[0] == '/')
    {
      snprintf (out, len, "%s", path);
      return;
    }
  if (dir_fd == AT_FDCWD)
    {
      if (getcwd (base, sizeof base) == NULL)
        base[0] = '\0';
    }
  else
    {
      char link[64];
      snprintf (link, sizeof link, "/proc/self/fd/%d", dir_fd);
      ssize_t n = readlink (link, base, sizeof base - 1);
      base[n > 0 ? n : 0] = '\0';
    }
  snprintf (out, len, "%s/%s", base, path);
}

static int
under_dir (const char *abs)
{
  if (S.dir_len == 0)
    return 1;
  return strncmp (abs, S.dir, S.dir_len) == 0 && (abs[S.dir_len] == '/' || abs[S.dir_len] == '\0');
}

/* Counts a call of kind on path; true when it is to fail (errno is then set). */
static int
fault (int kind, const char *path)
{
  pthread_mutex_lock (&S.lock);
  long n = ++S.count[kind];
  int fail = kind == S.kind && (n == S.n || (S.sticky && n > S.n));
  pthread_mutex_unlock (&S.lock);
  if (!fail)
    return 0;
  /* a folder's own open or fsync (to make a rename durable, or to lock it) is marked, since
   * some of those are best effort by design */
  struct stat st;
  int folder = kind != K_MKDIR && kind != K_RENAME && stat (path, &st) == 0 && S_ISDIR (st.st_mode);
  char line[PATH_MAX + 64];
  snprintf (line, sizeof line, "fault %s %ld %s %s %s\n", kind_names[kind], n,
            errno_name (S.error), folder ? "folder" : "file", path);
  report_line (line);
  errno = S.error;
  return 1;
}

/* The same for a call on fd, counted when fd was opened under DIR. */
static int
fd_fault (int kind, int fd)
{
  char path[PATH_MAX] = "";
  pthread_mutex_lock (&S.lock);
  if (fd >= 0 && fd < MAX_FDS && S.fd_path[fd] != NULL)
    snprintf (path, sizeof path, "%s", S.fd_path[fd]);
  pthread_mutex_unlock (&S.lock);
  return path[0] != '\0' && fault (kind, path);
}

static void
track (int fd, const char *path)
{
  if (fd < 0 || fd >= MAX_FDS)
    return;
  char *copy = path != NULL ? strdup (path) : NULL;
  pthread_mutex_lock (&S.lock);
  free (S.fd_path[fd]);
  S.fd_path[fd] = copy;
  pthread_mutex_unlock (&S.lock);
}

static int
counted_open (int flags)
{
  return (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_DIRECTORY)) != 0;
}

/* The open family: counted (and perhaps failed) before the real call, tracked after it. */
static int
open_at (int dir_fd, const char *path, int flags, mode_t mode)
{
  char abs[PATH_MAX];
  absolute (dir_fd, path, abs, sizeof abs);
  int counted = counted_open (flags) && under_dir (abs);
  if (counted && fault (K_OPEN, abs))
    return -1;
  REAL (int, openat, int, const char *, int, ...);
  int fd = real_openat (dir_fd, path, flags, mode);
  track (fd, counted ? abs : NULL);
  return fd;
}

static mode_t
mode_arg (int flags, va_list ap)
{
  return (flags & (O_CREAT | O_TMPFILE)) ? va_arg (ap, mode_t) : 0;
}

int
open (const char *path, int flags, ...)
{
  va_list ap;
  va_start (ap, flags);
  mode_t mode = mode_arg (flags, ap);
  va_end (ap);
  return open_at (AT_FDCWD, path, flags, mode);
}

int
open64 (const char *path, int flags, ...)
{
  va_list ap;
  va_start (ap, flags);
  mode_t mode = mode_arg (flags, ap);
  va_end (ap);
  return open_at (AT_FDCWD, path, flags, mode);
}

int
openat (int dir_fd, const char *path, int flags, ...)
{
  va_list ap;
  va_start (ap, flags);
  mode_t mode = mode_arg (flags, ap);
  va_end (ap);
  return open_at (dir_fd, path, flags, mode);
}

int
openat64 (int dir_fd, const char *path, int flags, ...)
{
  va_list ap;
  va_start (ap, flags);
  mode_t mode = mode_arg (flags, ap);
  va_end (ap);
  return open_at (dir_fd, path, flags, mode);
}

/* _FORTIFY_SOURCE's checked forms */
int __open_2 (const char *path, int flags);
int __open64_2 (const char *path, int flags);
int __openat_2 (int dir_fd, const char *path, int flags);

int
__open_2 (const char *path, int flags)
{
  return open_at (AT_FDCWD, path, flags, 0);
}

int
__open64_2 (const char *path, int flags)
{
  return open_at (AT_FDCWD, path, flags, 0);
}

int
__openat_2 (int dir_fd, const char *path, int flags)
{
  return open_at (dir_fd, path, flags, 0);
}

int
creat (const char *path, mode_t mode)
{
  return open_at (AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int
creat64 (const char *path, mode_t mode)
{
  return open_at (AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

static FILE *
fopen_counted (const char *path, const char *mode, FILE *(*real_fn) (const char *, const char *))
{
  char abs[PATH_MAX];
  absolute (AT_FDCWD, path, abs, sizeof abs);
  int counted = strpbrk (mode, "wa+") != NULL && under_dir (abs);
  if (counted && fault (K_OPEN, abs))
    return NULL;
  FILE *f = real_fn (path, mode);
  if (f != NULL)
    track (fileno (f), counted ? abs : NULL);
  return f;
}

FILE *
fopen (const char *path, const char *mode)
{
  REAL (FILE *, fopen, const char *, const char *);
  return fopen_counted (path, mode, real_fopen);
}

FILE *
fopen64 (const char *path, const char *mode)
{
  REAL (FILE *, fopen64, const char *, const char *);
  return fopen_counted (path, mode, real_fopen64);
}

/* mkstemp and kin: the template is the path; counted as an open */
static int
mktemp_counted (char *tmpl, int (*make) (char *, int), int flags)
{
  char abs[PATH_MAX];
  absolute (AT_FDCWD, tmpl, abs, sizeof abs);
  int counted = under_dir (abs);
  if (counted && fault (K_OPEN, abs))
    return -1;
  int fd = make (tmpl, flags);
  if (fd >= 0 && counted)
    {
      absolute (AT_FDCWD, tmpl, abs, sizeof abs); /* with the X's filled in */
      track (fd, abs);
    }
  else if (fd >= 0)
    track (fd, NULL);
  return fd;
}

int
mkostemp (char *tmpl, int flags)
{
  REAL (int, mkostemp, char *, int);
  return mktemp_counted (tmpl, real_mkostemp, flags);
}

int
mkostemp64 (char *tmpl, int flags)
{
  REAL (int, mkostemp64, char *, int);
  return mktemp_counted (tmpl, real_mkostemp64, flags);
}

static int
plain_mkstemp (char *tmpl, int flags)
{
  (void) flags;
  REAL (int, mkstemp, char *);
  return real_mkstemp (tmpl);
}

int
mkstemp (char *tmpl)
{
  return mktemp_counted (tmpl, plain_mkstemp, 0);
}

int
close (int fd)
{
  REAL (int, close, int);
  track (fd, NULL);
  return real_close (fd);
}

int
fclose (FILE *f)
{
  REAL (int, fclose, FILE *);
  int fd = fileno (f);
  /* fclose flushes what is buffered: a write like any other (the stream is closed anyway,
   * as close(2) closes the fd even when it reports an error) */
  if (fd_fault (K_WRITE, fd))
    {
      int e = errno;
      track (fd, NULL);
      real_fclose (f);
      errno = e;
      return EOF;
    }
  track (fd, NULL);
  return real_fclose (f);
}

ssize_t
write (int fd, const void *buf, size_t len)
{
  REAL (ssize_t, write, int, const void *, size_t);
  if (fd_fault (K_WRITE, fd))
    return -1;
  return real_write (fd, buf, len);
}

ssize_t
pwrite (int fd, const void *buf, size_t len, off_t at)
{
  REAL (ssize_t, pwrite, int, const void *, size_t, off_t);
  if (fd_fault (K_WRITE, fd))
    return -1;
  return real_pwrite (fd, buf, len, at);
}

ssize_t
pwrite64 (int fd, const void *buf, size_t len, off_t at)
{
  REAL (ssize_t, pwrite64, int, const void *, size_t, off_t);
  if (fd_fault (K_WRITE, fd))
    return -1;
  return real_pwrite64 (fd, buf, len, at);
}

size_t
fwrite (const void *buf, size_t size, size_t n, FILE *f)
{
  REAL (size_t, fwrite, const void *, size_t, size_t, FILE *);
  if (fd_fault (K_WRITE, fileno (f)))
    return 0;
  return real_fwrite (buf, size, n, f);
}

int
fputs (const char *s, FILE *f)
{
  REAL (int, fputs, const char *, FILE *);
  if (fd_fault (K_WRITE, fileno (f)))
    return EOF;
  return real_fputs (s, f);
}

int
fflush (FILE *f)
{
  REAL (int, fflush, FILE *);
  if (f != NULL && fd_fault (K_WRITE, fileno (f)))
    return EOF;
  return real_fflush (f);
}

int
fsync (int fd)
{
  REAL (int, fsync, int);
  if (fd_fault (K_FSYNC, fd))
    return -1;
  return real_fsync (fd);
}

int
fdatasync (int fd)
{
  REAL (int, fdatasync, int);
  if (fd_fault (K_FSYNC, fd))
    return -1;
  return real_fdatasync (fd);
}

/* rename's kind: counted when either end is under DIR; the report names the target */
static int
rename_fault (int from_fd, const char *from, int to_fd, const char *to)
{
  char a[PATH_MAX], b[PATH_MAX];
  absolute (from_fd, from, a, sizeof a);
  absolute (to_fd, to, b, sizeof b);
  return (under_dir (a) || under_dir (b)) && fault (K_RENAME, b);
}

int
rename (const char *from, const char *to)
{
  REAL (int, rename, const char *, const char *);
  if (rename_fault (AT_FDCWD, from, AT_FDCWD, to))
    return -1;
  return real_rename (from, to);
}

int
renameat (int from_fd, const char *from, int to_fd, const char *to)
{
  REAL (int, renameat, int, const char *, int, const char *);
  if (rename_fault (from_fd, from, to_fd, to))
    return -1;
  return real_renameat (from_fd, from, to_fd, to);
}

int
renameat2 (int from_fd, const char *from, int to_fd, const char *to, unsigned flags)
{
  REAL (int, renameat2, int, const char *, int, const char *, unsigned);
  if (rename_fault (from_fd, from, to_fd, to))
    return -1;
  return real_renameat2 (from_fd, from, to_fd, to, flags);
}

static int
mkdir_fault (int dir_fd, const char *path)
{
  char abs[PATH_MAX];
  absolute (dir_fd, path, abs, sizeof abs);
  return under_dir (abs) && fault (K_MKDIR, abs);
}

int
mkdir (const char *path, mode_t mode)
{
  REAL (int, mkdir, const char *, mode_t);
  if (mkdir_fault (AT_FDCWD, path))
    return -1;
  return real_mkdir (path, mode);
}

int
mkdirat (int dir_fd, const char *path, mode_t mode)
{
  REAL (int, mkdirat, int, const char *, mode_t);
  if (mkdir_fault (dir_fd, path))
    return -1;
  return real_mkdirat (dir_fd, path, mode);
}

char *
mkdtemp (char *tmpl)
{
  REAL (char *, mkdtemp, char *);
  if (mkdir_fault (AT_FDCWD, tmpl))
    return NULL;
  return real_mkdtemp (tmpl);
}
