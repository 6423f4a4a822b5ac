/* test-hostile.c — folders that fight back: special files, symbolic-link loops, folders with
 * face names, files that grow while they are read, unreadable files, names that are not
 * UTF-8, a named pipe where the cache should be, and 100,000 tiny files.
 *
 * Each folder holds a few good synthetic faces beside the hostile entries: the faces must
 * load, every hostile entry must be skipped with a reason a person can read, and nothing may
 * block — every test runs under alarm(), so a hang fails it instead of stalling the suite.
 */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "synth.h"
#include "test-util.h"
#include "utf8.h"

#define SEED 7 /* the good faces; SEED + 1 for faces that must differ from them */
#define SIZE 32
#define HANG_SECONDS 30 /* any single load taking longer is a hang */

/* ---- helpers ---- */

/* Writes n good synthetic faces of stream `seed` into dir; their names into names[]. */
static void
write_faces (const char *dir, int n, uint64_t seed, char names[][64])
{
  HnError err;
  ck_assert_msg (synth_write_folder (dir, n, seed, 64, SYNTH_JPEG, 1, NULL, &err), "%s",
                 err.message);
  for (int i = 0; i < n; i++)
    {
      HnFaceLabels l;
      synth_labels (seed, (uint32_t) i, &l);
      synth_file_name (&l, (uint32_t) i, SYNTH_JPEG, names[i], 64);
    }
}

static HnDataset *
open_ok (const char *dir, const char *cache)
{
  HnError err = { 0 };
  alarm (HANG_SECONDS);
  HnDataset *ds = dataset_open_folder (dir, SIZE, cache, 2, NULL, &err);
  alarm (0);
  ck_assert_msg (ds != NULL, "dataset_open_folder (%s) failed: %s", dir, err.message);
  return ds;
}

static void
assert_faces_usable (const HnDataset *ds, int n, char names[][64])
{
  for (int i = 0; i < n; i++)
    ck_assert_msg (dataset_find (ds, names[i]) >= 0, "good face %s not usable (skipped: %s)", names[i],
                   dataset_skip_reason (ds, names[i]));
}

/* An independent check of UTF-8: shortest forms only, no surrogates, nothing past U+10FFFF. */
static bool
valid_utf8 (const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  while (*p != '\0')
    {
      int len;
      uint32_t cp;
      if (*p < 0x80)
        len = 1, cp = *p;
      else if (*p >= 0xC2 && *p <= 0xDF)
        len = 2, cp = *p & 0x1F;
      else if (*p >= 0xE0 && *p <= 0xEF)
        len = 3, cp = *p & 0x0F;
      else if (*p >= 0xF0 && *p <= 0xF4)
        len = 4, cp = *p & 0x07;
      else
        return false;
      for (int i = 1; i < len; i++)
        {
          if ((p[i] & 0xC0) != 0x80)
            return false;
          cp = cp << 6 | (p[i] & 0x3F);
        }
      if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))
          || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
      p += len;
    }
  return true;
}

/* Every skipped entry has a reason, and every reason is valid UTF-8. */
static void
assert_reasons_readable (const HnDataset *ds)
{
  for (int i = 0; i < ds->n_skipped; i++)
    {
      ck_assert_msg (ds->skipped[i].reason[0] != '\0', "%s: empty reason", ds->skipped[i].file);
      ck_assert_msg (valid_utf8 (ds->skipped[i].reason), "%s: reason is not UTF-8",
                     ds->skipped[i].file);
    }
}

/* The bytes of dir/name (at most 1 MiB); their count in *len. Caller frees. */
static char *
read_face (const char *dir, const char *name, size_t *len)
{
  char *path = test_path (dir, name), *buf = malloc (1 << 20);
  FILE *f = fopen (path, "rb");
  ck_assert_msg (f != NULL, "cannot open %s", path);
  *len = fread (buf, 1, 1 << 20, f);
  fclose (f);
  ck_assert_uint_gt (*len, 0);
  free (path);
  return buf;
}

static void
copy_face (const char *dir, const char *from, const char *to)
{
  size_t len;
  char *buf = read_face (dir, from, &len), *path = test_path (dir, to);
  test_write_file (path, buf, len);
  free (path);
  free (buf);
}

/* ---- special files ---- */

START_TEST (test_special_files_skipped)
{
  char *dir = test_tmpdir (), names[3][64];
  write_faces (dir, 3, SEED, names);
  char *p = test_path (dir, "10_0_0_1.jpg");
  ck_assert_int_eq (mkfifo (p, 0644), 0);
  free (p);
  p = test_path (dir, "pipe");
  ck_assert_int_eq (mkfifo (p, 0644), 0);
  free (p);

  /* A listening socket: connect() would succeed, open() fails with ENXIO. */
  p = test_path (dir, "11_0_0_1.jpg");
  int sock = socket (AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  ck_assert_uint_lt (strlen (p), sizeof addr.sun_path);
  strcpy (addr.sun_path, p);
  ck_assert_int_eq (bind (sock, (struct sockaddr *) &addr, sizeof addr), 0);
  ck_assert_int_eq (listen (sock, 1), 0);
  free (p);

  /* Devices through symbolic links: /dev/zero never ends, /dev/tty may block. */
  p = test_path (dir, "12_0_0_1.jpg");
  ck_assert_int_eq (symlink ("/dev/zero", p), 0);
  free (p);
  p = test_path (dir, "12_0_0_2.jpg");
  ck_assert_int_eq (symlink ("/dev/tty", p), 0);
  free (p);

  HnDataset *ds = open_ok (dir, "");
  assert_faces_usable (ds, 3, names);
  assert_dataset_skipped (ds, "10_0_0_1.jpg", "a named pipe (FIFO), not a regular file");
  assert_dataset_skipped (ds, "pipe", "name is not AGE_GENDER_RACE");
  assert_dataset_skipped (ds, "11_0_0_1.jpg", "a socket, not a regular file");
  assert_dataset_skipped (ds, "12_0_0_1.jpg", "a device, not a regular file");
  assert_dataset_skipped (ds, "12_0_0_2.jpg", "a device, not a regular file");
  ck_assert_int_eq (ds->n, 3);
  ck_assert_int_eq (ds->n_skipped, 5);
  assert_reasons_readable (ds);
  dataset_free (ds);
  close (sock);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- symbolic links and folders ---- */

START_TEST (test_symlink_loops_and_folders_skipped)
{
  char *dir = test_tmpdir (), *other = test_tmpdir (), names[2][64], far[1][64];
  write_faces (dir, 2, SEED, names);
  write_faces (other, 1, SEED + 1, far);

  static const struct
  {
    const char *name, *target;
  } links[] = {
    { "20_0_0_1.jpg", "20_0_0_2.jpg" }, /* a loop of two */
    { "20_0_0_2.jpg", "20_0_0_1.jpg" },
    { "20_0_0_3.jpg", "20_0_0_3.jpg" }, /* a link to itself */
    { "21_0_0_1.jpg", "." },            /* the folder itself: not followed into */
    { "21_0_0_2.jpg", ".." },
    { "22_0_0_1.jpg", "/nonexistent/hydranet/face.jpg" },
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    {
      char *p = test_path (dir, links[i].name);
      ck_assert_int_eq (symlink (links[i].target, p), 0);
      free (p);
    }
  /* A link to a good face elsewhere is that face. */
  char *target = test_path (other, far[0]), *p = test_path (dir, "23_1_2_1.jpg");
  ck_assert_int_eq (symlink (target, p), 0);
  free (target);
  free (p);
  /* Folders, one named like a face and one not quite. */
  p = test_path (dir, "1_0_0_x.jpg");
  ck_assert_int_eq (mkdir (p, 0755), 0);
  free (p);
  p = test_path (dir, "2_0_0_2.jpg");
  ck_assert_int_eq (mkdir (p, 0755), 0);
  free (p);

  HnDataset *ds = open_ok (dir, "");
  assert_faces_usable (ds, 2, names);
  ck_assert_int_ge (dataset_find (ds, "23_1_2_1.jpg"), 0);
  assert_dataset_skipped (ds, "20_0_0_1.jpg", "a symbolic link that loops");
  assert_dataset_skipped (ds, "20_0_0_2.jpg", "a symbolic link that loops");
  assert_dataset_skipped (ds, "20_0_0_3.jpg", "a symbolic link that loops");
  assert_dataset_skipped (ds, "21_0_0_1.jpg", "a folder: subfolders are not read");
  assert_dataset_skipped (ds, "21_0_0_2.jpg", "a folder: subfolders are not read");
  assert_dataset_skipped (ds, "22_0_0_1.jpg", "a symbolic link to nothing");
  assert_dataset_skipped (ds, "1_0_0_x.jpg", "a folder: subfolders are not read");
  assert_dataset_skipped (ds, "2_0_0_2.jpg", "a folder: subfolders are not read");
  ck_assert_int_eq (ds->n, 3);
  ck_assert_int_eq (ds->n_skipped, 8);
  assert_reasons_readable (ds);
  dataset_free (ds);
  test_rmtree (dir);
  test_rmtree (other);
  free (dir);
  free (other);
}
END_TEST

/* ---- a named pipe where the cache should be ---- */

START_TEST (test_cache_fifo_not_waited_on)
{
  char *dir = test_tmpdir (), *cache = test_tmpdir (), names[3][64];
  write_faces (dir, 3, SEED, names);
  HnDataset *ds = open_ok (dir, cache);
  ck_assert_str_eq (dataset_cache_status (ds), "written");
  char *file = strdup (dataset_cache_file (ds));
  dataset_free (ds);

  ck_assert_int_eq (unlink (file), 0);
  ck_assert_int_eq (mkfifo (file, 0600), 0);
  ds = open_ok (dir, cache); /* opening the pipe for reading would wait for a writer */
  ck_assert_str_eq (dataset_cache_status (ds), "rebuilt (the cache is not a regular file)");
  assert_faces_usable (ds, 3, names);
  dataset_free (ds);
  ds = open_ok (dir, cache);
  ck_assert_str_eq (dataset_cache_status (ds), "read");
  dataset_free (ds);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
  free (file);
}
END_TEST

/* ---- files that grow while they are read ---- */

/* The child's part: writes buf[0, len) to path in chunks of `chunk` bytes, `pause_us` apart;
 * with `gate` ≥ 0, stops after the first half until a byte arrives on gate. Then appends
 * `junk_chunks` chunks of junk. Never returns. */
static void
grow (const char *path, const char *buf, size_t len, size_t chunk, int pause_us, int gate,
      int junk_chunks)
{
  FILE *f = fopen (path, "wb");
  if (f == NULL)
    _exit (2);
  for (size_t at = 0; at < len; at += chunk)
    {
      if (gate >= 0 && at >= len / 2)
        {
          char c;
          fflush (f);
          if (read (gate, &c, 1) != 1)
            _exit (3);
          gate = -1;
        }
      fwrite (buf + at, 1, at + chunk <= len ? chunk : len - at, f);
      fflush (f);
      usleep (pause_us);
    }
  static char junk[4096];
  memset (junk, 0xA5, sizeof junk);
  for (int i = 0; i < junk_chunks; i++)
    {
      fwrite (junk, 1, sizeof junk, f);
      fflush (f);
      usleep (pause_us);
    }
  fclose (f);
  _exit (0);
}

/* name in ds is either usable with exactly the pixels px of the whole file, or skipped as
 * cut short. Returns whether it was usable. */
static bool
whole_or_skipped (const HnDataset *ds, const char *name, const uint8_t *px)
{
  int i = dataset_find (ds, name);
  if (i < 0)
    {
      const char *why = dataset_skip_reason (ds, name);
      ck_assert_msg (why != NULL, "%s neither usable nor skipped", name);
      ck_assert_msg (strstr (why, "truncated") != NULL || strstr (why, "empty file") != NULL
                         || strstr (why, "damaged") != NULL,
                     "%s skipped for '%s'", name, why);
      return false;
    }
  ck_assert_msg (memcmp (ds->pixels + (size_t) i * SIZE * SIZE * 3, px, SIZE * SIZE * 3) == 0,
                 "%s: torn pixels taken as the image", name);
  return true;
}

START_TEST (test_growing_files)
{
  char *ref = test_tmpdir (), *dir = test_tmpdir (), *cache = test_tmpdir ();
  char names[3][64], face[1][64];
  write_faces (ref, 1, SEED + 1, face);
  write_faces (dir, 3, SEED, names);
  HnDataset *whole = open_ok (ref, "");
  ck_assert_int_eq (whole->n, 1);
  size_t len;
  char *bytes = read_face (ref, face[0], &len);

  /* Two writers: one writes the face slowly, holding at half until the first load is done;
   * the other writes it whole at once and then keeps appending junk after its end. */
  const char *slow = "30_1_0_1.jpg", *tail = "31_1_0_1.jpg";
  char *slow_path = test_path (dir, slow), *tail_path = test_path (dir, tail);
  int gate[2];
  ck_assert_int_eq (pipe (gate), 0);
  pid_t slow_pid = fork ();
  if (slow_pid == 0)
    grow (slow_path, bytes, len, 97, 3000, gate[0], 0);
  pid_t tail_pid = fork ();
  if (tail_pid == 0)
    grow (tail_path, bytes, len, len, 2000, -1, 400);
  ck_assert (slow_pid > 0 && tail_pid > 0);

  /* The first load sees at most half of the slow file: never usable. */
  struct timespec wait_half = { 0, 50 * 1000 * 1000 };
  nanosleep (&wait_half, NULL);
  HnDataset *ds = open_ok (dir, cache);
  assert_faces_usable (ds, 3, names);
  ck_assert_msg (!whole_or_skipped (ds, slow, whole->pixels), "half a file loaded as whole");
  if (dataset_find (ds, tail) >= 0 || dataset_skip_reason (ds, tail) != NULL)
    whole_or_skipped (ds, tail, whole->pixels);
  dataset_free (ds);
  ck_assert_int_eq (write (gate[1], "", 1), 1);

  /* Loads while both grow: each finishes, each file whole or skipped. */
  int loads = 0, status;
  while (waitpid (slow_pid, &status, WNOHANG) == 0 || waitpid (tail_pid, &status, WNOHANG) == 0)
    {
      ds = open_ok (dir, cache);
      assert_faces_usable (ds, 3, names);
      whole_or_skipped (ds, slow, whole->pixels);
      if (dataset_find (ds, tail) >= 0 || dataset_skip_reason (ds, tail) != NULL)
        whole_or_skipped (ds, tail, whole->pixels);
      assert_reasons_readable (ds);
      dataset_free (ds);
      loads++;
    }
  waitpid (slow_pid, &status, 0);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  waitpid (tail_pid, &status, 0);
  ck_assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  ck_assert_int_gt (loads, 0);

  /* Still: whatever the cache kept from those loads describes the files as they are. */
  ds = open_ok (dir, cache);
  HnDataset *fresh = open_ok (dir, "");
  ck_assert_msg (whole_or_skipped (fresh, slow, whole->pixels), "the finished file is not usable");
  ck_assert_int_eq (ds->n, fresh->n);
  ck_assert_int_eq (ds->n_skipped, fresh->n_skipped);
  for (int i = 0; i < fresh->n; i++)
    ck_assert_str_eq (ds->names[i], fresh->names[i]);
  ck_assert_msg (memcmp (ds->pixels, fresh->pixels, (size_t) fresh->n * SIZE * SIZE * 3) == 0,
                 "the cache kept pixels the files no longer have (%s)", dataset_cache_status (ds));
  dataset_free (ds);
  dataset_free (fresh);
  dataset_free (whole);
  close (gate[0]);
  close (gate[1]);
  free (bytes);
  free (slow_path);
  free (tail_path);
  test_rmtree (ref);
  test_rmtree (dir);
  test_rmtree (cache);
  free (ref);
  free (dir);
  free (cache);
}
END_TEST

/* ---- unreadable files, as a user who cannot read them ---- */

/* In a child that has given up root (when it had it): opens dir and writes to fd one line
 * per entry, "usable NAME" or "skipped NAME\tREASON", or "error MESSAGE" for the folder
 * `locked`. Never returns. */
static void
open_as_nobody (const char *dir, const char *locked, int fd)
{
  if (geteuid () == 0 && (setgroups (0, NULL) != 0 || setgid (65534) != 0 || setuid (65534) != 0))
    _exit (77);
  FILE *out = fdopen (fd, "w");
  HnError err = { 0 };
  HnDataset *ds = dataset_open_folder (dir, SIZE, "", 1, NULL, &err);
  if (ds == NULL)
    fprintf (out, "error %s\n", err.message);
  for (int i = 0; ds != NULL && i < ds->n; i++)
    fprintf (out, "usable %s\n", ds->names[i]);
  for (int i = 0; ds != NULL && i < ds->n_skipped; i++)
    fprintf (out, "skipped %s\t%s\n", ds->skipped[i].file, ds->skipped[i].reason);
  dataset_free (ds);
  ds = dataset_open_folder (locked, SIZE, "", 1, NULL, &err);
  fprintf (out, ds == NULL ? "error %s\n" : "opened %s\n", ds == NULL ? err.message : locked);
  dataset_free (ds);
  fclose (out);
  _exit (0);
}

START_TEST (test_unreadable_as_other_user)
{
  char *dir = test_tmpdir (), *locked = test_tmpdir (), names[3][64], one[1][64];
  write_faces (dir, 3, SEED, names);
  write_faces (locked, 1, SEED, one);
  char *p = test_path (dir, "40_0_0_1.jpg");
  copy_face (dir, names[0], "40_0_0_1.jpg");
  ck_assert_int_eq (chmod (p, 0), 0);
  free (p);
  p = test_path (dir, "41_0_0_1.jpg"); /* an unreadable folder with a face's name */
  ck_assert_int_eq (mkdir (p, 0), 0);
  free (p);
  ck_assert_int_eq (chmod (dir, 0755), 0);
  ck_assert_int_eq (chmod (locked, 0711), 0); /* may pass through, may not list */

  int fds[2];
  ck_assert_int_eq (pipe (fds), 0);
  alarm (HANG_SECONDS);
  pid_t pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      open_as_nobody (dir, locked, fds[1]);
    }
  close (fds[1]);
  FILE *in = fdopen (fds[0], "r");
  char line[1024], *lines = calloc (1, 1);
  size_t total = 0;
  while (fgets (line, sizeof line, in) != NULL)
    {
      lines = realloc (lines, total + strlen (line) + 1);
      strcpy (lines + total, line);
      total += strlen (line);
    }
  fclose (in);
  int status;
  waitpid (pid, &status, 0);
  alarm (0);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      fprintf (stderr, "test_unreadable_as_other_user: cannot become uid 65534, not tested\n");
      goto done;
    }
  ck_assert_msg (WIFEXITED (status) && WEXITSTATUS (status) == 0, "the child failed: %d", status);
  for (int i = 0; i < 3; i++)
    {
      char want[256];
      snprintf (want, sizeof want, "usable %s\n", names[i]);
      ck_assert_msg (strstr (lines, want) != NULL, "%s not usable:\n%s", names[i], lines);
    }
  ck_assert_msg (strstr (lines, "skipped 40_0_0_1.jpg\tcannot open (Permission denied)\n") != NULL,
                 "the unreadable file:\n%s", lines);
  ck_assert_msg (strstr (lines, "skipped 41_0_0_1.jpg\ta folder: subfolders are not read\n")
                     != NULL,
                 "the unreadable folder:\n%s", lines);
  ck_assert_msg (strstr (lines, "permission denied, cannot open the folder") != NULL,
                 "the folder that cannot be listed:\n%s", lines);
done:
  free (lines);
  test_rmtree (dir);
  test_rmtree (locked);
  free (dir);
  free (locked);
}
END_TEST

/* ---- names that are not UTF-8 ---- */

START_TEST (test_utf8_copy_valid)
{
  static const struct
  {
    const char *in, *out;
  } cases[] = {
    { "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80" },
    { "caf\xE9", "caf\xEF\xBF\xBD" },                           /* Latin-1 */
    { "\xC3", "\xEF\xBF\xBD" },                                 /* cut short */
    { "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* overlong */
    { "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" }, /* a surrogate */
    { "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
  };
  char out[64];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      ck_assert_uint_eq (utf8_copy_valid (out, sizeof out, cases[i].in), strlen (cases[i].out));
      ck_assert_str_eq (out, cases[i].out);
    }
  /* Cut short, a copy leaves out the character that does not fit whole. */
  ck_assert_uint_eq (utf8_copy_valid (out, 5, "ab\xC3\xA9\xC3\xA9"), 4);
  ck_assert_str_eq (out, "ab\xC3\xA9");
  ck_assert_uint_eq (utf8_copy_valid (out, 4, "ab\xC3\xA9"), 2);
  ck_assert_uint_eq (utf8_copy_valid (out, 1, "ab"), 0);

  /* A message over HnError's 512 bytes is cut between characters, not inside one. */
  char long_name[1200] = "";
  for (int i = 0; i < 300; i++)
    strcat (long_name, i % 7 == 0 ? "\xE9" : "\xC3\xA9");
  HnError err;
  hn_error_set (&err, "x%s", long_name);
  ck_assert (valid_utf8 (err.message));
  ck_assert_uint_gt (strlen (err.message), 500);
  hn_error_prefix (&err, "%s", long_name);
  ck_assert (valid_utf8 (err.message));
}
END_TEST

START_TEST (test_names_not_utf8)
{
  char *dir = test_tmpdir (), names[2][64];
  write_faces (dir, 2, SEED, names);
  static const char *bad[] = {
    "50_0_0_1\xE9.jpg",       /* Latin-1 é */
    "\xFF\xFE_0_0_1.jpg",     /* not UTF-8 at all */
    "51_0_0_1.jpg\xC3",       /* cut short */
    "\xC0\xAF_0_0_1.jpg",     /* an overlong '/' */
    "\xED\xA0\x80_0_0_1.jpg", /* a surrogate */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    copy_face (dir, names[0], bad[i]);

  HnDataset *ds = open_ok (dir, "");
  assert_faces_usable (ds, 2, names);
  ck_assert_int_eq (ds->n, 2);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_dataset_skipped (ds, bad[i], "name is not AGE_GENDER_RACE_DATETIME.jpg");
  assert_reasons_readable (ds);
  dataset_free (ds);

  /* When such a name, or the folder's own, ends up in a message, the message is UTF-8. */
  char *sub = test_path (dir, "caf\xE9 \xFF");
  ck_assert_int_eq (mkdir (sub, 0755), 0);
  char *junk = test_path (sub, "\xFF\xFE.jpg");
  test_write_file (junk, "x", 1);
  HnError err = { 0 };
  alarm (HANG_SECONDS);
  ck_assert_ptr_null (dataset_open_folder (sub, SIZE, "", 1, NULL, &err));
  alarm (0);
  ck_assert_msg (strstr (err.message, "has no usable face image") != NULL, "%s", err.message);
  ck_assert_msg (valid_utf8 (err.message), "not UTF-8: %s", err.message);
  char *missing = test_path (sub, "gone \xE9");
  ck_assert_ptr_null (dataset_open_folder (missing, SIZE, "", 1, NULL, &err));
  ck_assert_msg (strstr (err.message, "no such folder") != NULL, "%s", err.message);
  ck_assert_msg (valid_utf8 (err.message), "not UTF-8: %s", err.message);
  free (missing);
  free (junk);
  free (sub);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- 100,000 tiny files ---- */

#define N_TINY 100000

/* A "Vm…:" line of /proc/self/status, in KiB: VmHWM the peak resident set, VmSize the
 * address space. */
static long
status_kib (const char *key)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256], fmt[32];
  long kib = -1;
  snprintf (fmt, sizeof fmt, "%s: %%ld kB", key);
  while (f != NULL && fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, fmt, &kib) == 1)
      break;
  if (f != NULL)
    fclose (f);
  return kib;
}

typedef struct
{
  HnLoadProgress *progress;
  atomic_bool stop;
  int changes; /* how often done was seen to move before the load ended */
} Watcher;

static void *
watch (void *data)
{
  Watcher *w = data;
  int last = 0;
  while (!atomic_load (&w->stop))
    {
      int done = atomic_load (&w->progress->done);
      if (done != last)
        w->changes++, last = done;
      usleep (200);
    }
  return NULL;
}

/* Sets the load's cancel 5 ms from now. */
static void *
cancel_soon (void *data)
{
  HnLoadProgress *progress = data;
  struct timespec t = { 0, 5 * 1000 * 1000 };
  nanosleep (&t, NULL);
  atomic_store (&progress->cancel, true);
  return NULL;
}

START_TEST (test_hundred_thousand_tiny_files)
{
  /* On tmpfs when there is one, so that the test measures the loader and not the disk. */
  char *saved = getenv ("TMPDIR") ? strdup (getenv ("TMPDIR")) : NULL;
  struct stat st;
  if (stat ("/dev/shm", &st) == 0 && S_ISDIR (st.st_mode) && access ("/dev/shm", W_OK) == 0)
    setenv ("TMPDIR", "/dev/shm", 1);
  char *dir = test_tmpdir (), *cache = test_tmpdir (), names[3][64];
  if (saved != NULL)
    setenv ("TMPDIR", saved, 1);
  else
    unsetenv ("TMPDIR");
  free (saved);
  write_faces (dir, 3, SEED, names);

  /* Half named like faces (empty, or two bytes), half junk names. */
  struct timespec t0, t1, t2;
  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < N_TINY; i++)
    {
      char name[64];
      if (i % 2 == 0)
        snprintf (name, sizeof name, "%d_%d_%d_%d.jpg", i % 100, i % 2, i % 5, i);
      else
        snprintf (name, sizeof name, "junk-%d.dat", i);
      char *p = test_path (dir, name);
      FILE *f = fopen (p, "wb");
      ck_assert_ptr_nonnull (f);
      if (i % 4 == 2)
        fputs ("hi", f);
      fclose (f);
      free (p);
    }

  /* Listing 100,000 entries takes a while (here, 0.1 s and more): a load cancelled meanwhile
   * stops there, before decoding starts (total is still 0). */
  HnLoadProgress listing = { 0 };
  pthread_t canceller;
  ck_assert_int_eq (pthread_create (&canceller, NULL, cancel_soon, &listing), 0);
  HnError err = { 0 };
  alarm (HANG_SECONDS);
  ck_assert_ptr_null (dataset_open_folder (dir, 128, cache, 2, &listing, &err));
  alarm (0);
  pthread_join (canceller, NULL);
  ck_assert_str_eq (err.message, "cancelled");
  int decoding = atomic_load (&listing.total);
  ck_assert_msg (decoding == 0, "the cancelled load went on to decode %d files", decoding);
  clock_gettime (CLOCK_MONOTONIC, &t1);

  /* Bounded memory: the peak resident set, and the address space too — reserving room for
   * every candidate's 128×128 pixels (2.3 GiB here) fails where overcommit is strict or
   * ulimit -v is set. (Not under AddressSanitizer, whose shadow memory is terabytes.) */
  long before = status_kib ("VmHWM");
#ifndef __SANITIZE_ADDRESS__
  struct rlimit was, cap;
  ck_assert_int_eq (getrlimit (RLIMIT_AS, &was), 0);
  cap = was;
  cap.rlim_cur = (rlim_t) (status_kib ("VmSize") + 1024 * 1024) * 1024;
  if (was.rlim_cur != RLIM_INFINITY && was.rlim_cur < cap.rlim_cur)
    cap.rlim_cur = was.rlim_cur;
  ck_assert_int_eq (setrlimit (RLIMIT_AS, &cap), 0);
#endif
  HnLoadProgress progress = { 0 };
  Watcher w = { .progress = &progress };
  pthread_t t;
  ck_assert_int_eq (pthread_create (&t, NULL, watch, &w), 0);
  alarm (HANG_SECONDS);
  HnDataset *ds = dataset_open_folder (dir, 128, cache, 2, &progress, &err);
  alarm (0);
  atomic_store (&w.stop, true);
  pthread_join (t, NULL);
  clock_gettime (CLOCK_MONOTONIC, &t2);
#ifndef __SANITIZE_ADDRESS__
  ck_assert_int_eq (setrlimit (RLIMIT_AS, &was), 0);
#endif
  long after = status_kib ("VmHWM");
  ck_assert_msg (ds != NULL, "%s", err.message);

  ck_assert_int_eq (ds->n, 3);
  ck_assert_int_eq (ds->n_skipped, N_TINY);
  ck_assert_str_eq (dataset_cache_status (ds), "written");
  for (int i = 0; i < 3; i++)
    ck_assert_int_ge (dataset_find (ds, names[i]), 0);
  assert_dataset_skipped (ds, "0_0_0_0.jpg", "empty file");
  assert_dataset_skipped (ds, "2_0_2_2.jpg", "not a JPEG, PNG, BMP or GIF image");
  assert_dataset_skipped (ds, "junk-1.dat", "name is not AGE_GENDER_RACE");
  ck_assert_int_eq (atomic_load (&progress.total), N_TINY / 2 + 3);
  ck_assert_int_eq (atomic_load (&progress.done), N_TINY / 2 + 3);
  /* The bar moved all along, not only at the end. */
  ck_assert_msg (w.changes >= 20, "progress moved only %d times", w.changes);
#ifndef __SANITIZE_ADDRESS__ /* whose quarantine keeps freed memory resident */
  /* Memory follows the images, not the files: 100,000 entries' names, reasons and stats
   * come to a few tens of MiB. */
  ck_assert_msg (after - before < 256 * 1024, "peak RSS grew by %ld MiB", (after - before) / 1024);
#endif
  fprintf (stderr,
           "100,000 tiny files: made (and a load cancelled) in %.2f s, opened in %.2f s, peak RSS "
           "+%ld MiB, progress "
           "seen moving %d times\n",
           (double) (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9,
           (double) (t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) * 1e-9,
           (after - before) / 1024, w.changes);
  dataset_free (ds);

  /* The second open reads the cache: the same answer. */
  alarm (HANG_SECONDS);
  ds = dataset_open_folder (dir, 128, cache, 2, NULL, &err);
  alarm (0);
  ck_assert_msg (ds != NULL, "%s", err.message);
  ck_assert_str_eq (dataset_cache_status (ds), "read");
  ck_assert_int_eq (ds->n, 3);
  ck_assert_int_eq (ds->n_skipped, N_TINY);
  dataset_free (ds);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

static Suite *
hostile_suite (void)
{
  Suite *s = suite_create ("hostile");
  TCase *entries = tcase_create ("entries");
  tcase_set_timeout (entries, 120);
  tcase_add_test (entries, test_special_files_skipped);
  tcase_add_test (entries, test_symlink_loops_and_folders_skipped);
  tcase_add_test (entries, test_cache_fifo_not_waited_on);
  tcase_add_test (entries, test_growing_files);
  tcase_add_test (entries, test_unreadable_as_other_user);
  tcase_add_test (entries, test_utf8_copy_valid);
  tcase_add_test (entries, test_names_not_utf8);
  suite_add_tcase (s, entries);

  TCase *many = tcase_create ("many");
  tcase_set_timeout (many, 180);
  tcase_add_test (many, test_hundred_thousand_tiny_files);
  suite_add_tcase (s, many);
  return s;
}

int
main (void)
{
  return test_run_suite (hostile_suite ());
}
