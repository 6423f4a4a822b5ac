/* folder.c — opening a UTKFace folder: list, pick, decode on every core, fold, keep.
 *
 * Opening a folder goes: list it (hidden files ignored), sort the names (byte order, as the
 * reference's sorted()), parse each name strictly (names.h), then on every core read each
 * candidate file, hash its bytes (SHA-1: duplicates and split key) and decode, crop and
 * resize it (decode.c) into the next slot of one pixel block that grows with the images
 * decoded. Byte-identical copies are then folded onto the first by name (duplicates.c); the
 * rest of the copies, and every file that failed, become `skipped` entries with a reason, so
 * usable + skipped = the folder's (non-hidden) entries; the images are put in name order.
 *
 * The result is kept in a cache file (cache.c), so the next open of an unchanged folder
 * reads one file instead of decoding thousands.
 */
#include "dataset-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"

/* The folder being opened. */
typedef struct
{
  const char *dir; /* as the caller named it, for messages */
  const HnLoadProgress *progress; /* its cancel is heeded while listing too */
  int dfd;
  FolderEntry *entries; /* (n) the non-hidden entries, in name order */
  struct stat *st;      /* (n) their stat; zero where it failed */
  int n, n_hidden;
  char *cache_folder;             /* NULL: no cache */
  char *cache_file;               /* NULL: no cache, or the folder's real path is unknown */
  uint8_t key[SHA1_DIGEST_BYTES]; /* what the cache must hold, when cache_file is set */
} Folder;

static bool
cancelled (const HnLoadProgress *progress)
{
  return progress != NULL && atomic_load (&progress->cancel);
}

/* ---- listing ---- */

static bool
open_folder (Folder *f, HnError *err)
{
  char why[128];
  if ((f->dfd = open (f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    return true;
  if (errno == ENOENT)
    return hn_error_set (err, "%s: no such folder", f->dir);
  if (errno == ENOTDIR)
    return hn_error_set (err, "%s is a file, not a folder of images", f->dir);
  if (errno == EACCES)
    return hn_error_set (err, "%s: permission denied, cannot open the folder", f->dir);
  return hn_error_set (err, "%s: cannot open the folder (%s)", f->dir,
                       strerror_r (errno, why, sizeof why));
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (((const FolderEntry *) a)->name, ((const FolderEntry *) b)->name);
}

/* Appends name to f->entries. */
static bool
add_entry (Folder *f, const char *name, int *cap)
{
  if (f->n == *cap)
    {
      int more = *cap > 0 ? 2 * *cap : 1024;
      FolderEntry *e = realloc (f->entries, more * sizeof *f->entries);
      if (e == NULL)
        return false;
      f->entries = e;
      *cap = more;
    }
  f->entries[f->n] = (FolderEntry){ .name = strdup (name), .slot = -1 };
  if (f->entries[f->n].name == NULL)
    return false;
  f->n++;
  return true;
}

/* The folder's non-hidden entries, unsorted. */
static bool
read_entries (Folder *f, HnError *err)
{
  char why[128];
  int fd = dup (f->dfd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return hn_error_set (err, "%s: cannot list the folder (%s)", f->dir,
                           strerror_r (errno, why, sizeof why));
    }
  int cap = 0;
  bool ok = true;
  struct dirent *de;
  /* A listing can take minutes (a slow disk, a network share, millions of files): a
   * cancelled load stops here too. */
  for (errno = 0; ok && (de = readdir (d)) != NULL; errno = 0)
    if (cancelled (f->progress))
      ok = hn_error_set (err, "cancelled");
    else if (de->d_name[0] == '.')
      f->n_hidden += strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
    else if (!add_entry (f, de->d_name, &cap))
      ok = hn_error_set (err, "out of memory listing %s", f->dir);
  if (ok && errno != 0)
    ok = hn_error_set (err, "%s: cannot list the folder (%s)", f->dir,
                       strerror_r (errno, why, sizeof why));
  closedir (d);
  return ok;
}

/* Why entry `name` of folder dfd could not be stat'ed (errno e), for a person: stat follows
 * symbolic links, so a listed name that stat cannot find is a link to nothing, or a file
 * removed since the listing. */
static int
stat_failure (int dfd, const char *name, int e, char **reason)
{
  char buf[128];
  const char *why = strerror_r (e, buf, sizeof buf);
  struct stat link;
  bool is_link = fstatat (dfd, name, &link, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (link.st_mode);
  if (e == ELOOP)
    return asprintf (reason, "a symbolic link that loops (%s)", why);
  if (e == ENOENT && is_link)
    return asprintf (reason, "a symbolic link to nothing (%s)", why);
  if (e == ENOENT)
    return asprintf (reason, "removed while the folder was read");
  return asprintf (reason, "cannot read (%s)", why);
}

/* Sorts the entries by name and stats them; one that cannot be stat'ed gets its reason. */
static bool
list_folder (Folder *f, HnError *err)
{
  if (!read_entries (f, err))
    return false;
  if (f->n == 0)
    {
      if (f->n_hidden > 0)
        return hn_error_set (err, "%s has no images, only hidden files (names starting with '.')",
                             f->dir);
      return hn_error_set (err, "%s is empty: there are no images to read", f->dir);
    }
  if (f->n > 1)
    qsort (f->entries, f->n, sizeof *f->entries, compare_names);
  if ((f->st = calloc (f->n, sizeof *f->st)) == NULL)
    return hn_error_set (err, "out of memory listing %s", f->dir);
  for (int i = 0; i < f->n; i++)
    if (cancelled (f->progress))
      return hn_error_set (err, "cancelled");
    else if (fstatat (f->dfd, f->entries[i].name, &f->st[i], 0) != 0)
      {
        f->st[i] = (struct stat){ 0 };
        if (stat_failure (f->dfd, f->entries[i].name, errno, &f->entries[i].reason) < 0)
          return f->entries[i].reason = NULL, hn_error_set (err, "out of memory");
      }
  return true;
}

/* The cache's name and key: after the folder's real path and the size, keyed on its listing. */
static void
locate_cache (Folder *f, const char *cache_dir, int size)
{
  char *real_dir;
  if ((f->cache_folder = cache_folder (cache_dir)) == NULL
      || (real_dir = realpath (f->dir, NULL)) == NULL)
    return;
  if ((f->cache_file = cache_file_path (f->cache_folder, real_dir, size)) != NULL)
    cache_key (real_dir, size, f->entries, f->st, f->n, f->key);
  free (real_dir);
}

static void
folder_clear (Folder *f)
{
  for (int i = 0; i < f->n; i++)
    {
      free (f->entries[i].name);
      free (f->entries[i].reason);
    }
  free (f->entries);
  free (f->st);
  free (f->cache_folder);
  free (f->cache_file);
  if (f->dfd >= 0)
    close (f->dfd);
}

/* ---- decoding ---- */

/* The entries that could be faces, by name and type: their indices into todo (n entries).
 * The others get their reason. */
static bool
pick_candidates (Folder *f, int *todo, int *n_todo, HnError *err)
{
  *n_todo = 0;
  for (int i = 0; i < f->n; i++)
    {
      FolderEntry *e = &f->entries[i];
      const char *reason = NULL;
      char name_why[128];
      HnError kind;
      if (e->reason != NULL) /* stat failed */
        continue;
      if (S_ISDIR (f->st[i].st_mode))
        reason = "a folder: subfolders are not read";
      else if (!utkface_parse_name (e->name, &e->labels, name_why, sizeof name_why))
        reason = name_why;
      else if (!file_check_regular (f->st[i].st_mode, "an image file", &kind))
        reason = kind.message; /* never opened: a pipe or a device could block */
      if (reason == NULL)
        todo[(*n_todo)++] = i;
      else if ((e->reason = strdup (reason)) == NULL)
        return hn_error_set (err, "out of memory");
    }
  return true;
}

typedef struct
{
  int dfd;
  int size;
  FolderEntry *entries;
  const int *todo; /* (n_todo) entry indices, in name order */
  int n_todo;
  HnLoadProgress *progress;
  atomic_int next; /* the next todo index to take */
  atomic_bool out_of_memory;

  /* The images decoded so far, each in the slot its entry names, in the order they were
   * finished: room grows with the images, not with the candidates, so a folder of 100,000
   * junk files named like faces costs nothing for pixels. Guarded by lock. */
  pthread_mutex_t lock;
  uint8_t *pixels; /* (cap, size, size, 3) */
  int cap, n_kept;
} DecodeJob;

/* Copies decoded pixels px into the job's next slot, which becomes e's. False when out of
 * memory. */
static bool
keep_pixels (DecodeJob *job, FolderEntry *e, const uint8_t *px)
{
  size_t slot_bytes = (size_t) job->size * job->size * 3;
  bool ok = true;
  pthread_mutex_lock (&job->lock);
  if (job->n_kept == job->cap)
    {
      int more = job->cap > 0 ? 2 * job->cap : 64;
      if (more > job->n_todo)
        more = job->n_todo;
      uint8_t *p = realloc (job->pixels, more * slot_bytes);
      if (p != NULL)
        job->pixels = p, job->cap = more;
      ok = p != NULL;
    }
  if (ok)
    {
      e->slot = job->n_kept++;
      memcpy (job->pixels + e->slot * slot_bytes, px, slot_bytes);
    }
  pthread_mutex_unlock (&job->lock);
  return ok;
}

static void *
decode_worker (void *data)
{
  DecodeJob *job = data;
  DecodeScratch s;
  uint8_t *px = malloc ((size_t) job->size * job->size * 3); /* (size, size, 3) */
  if (!decode_scratch_init (&s) || px == NULL)
    atomic_store (&job->out_of_memory, true);
  while (!cancelled (job->progress) && !atomic_load (&job->out_of_memory))
    {
      int k = atomic_fetch_add (&job->next, 1);
      if (k >= job->n_todo)
        break;
      FolderEntry *e = &job->entries[job->todo[k]];
      HnError err = { 0 };
      if (decode_entry (job->dfd, e, job->size, &s, px, &err)
              ? !keep_pixels (job, e, px)
              : (e->reason = strdup (err.message)) == NULL || decode_scratch_broken (&s))
        atomic_store (&job->out_of_memory, true);
      if (job->progress != NULL)
        atomic_fetch_add (&job->progress->done, 1);
    }
  decode_scratch_clear (&s);
  free (px);
  return NULL;
}

/* Runs job on `threads` threads, this one included. */
static void
decode_all (DecodeJob *job, int threads)
{
  pthread_t tid[64];
  int started = 0;
  if (threads > 64)
    threads = 64;
  if (threads > job->n_todo)
    threads = job->n_todo;
  while (started < threads - 1 && pthread_create (&tid[started], NULL, decode_worker, job) == 0)
    started++;
  decode_worker (job); /* with fewer threads if some could not start: slower, still right */
  for (int i = 0; i < started; i++)
    pthread_join (tid[i], NULL);
}

/* Puts the usable entries' images (slots[d] for the d-th, d < n) first and in name order,
 * in place: block holds n_slots images in the order they were decoded. One image of scratch
 * besides three ints a slot; an image is copied once unless the place it goes to holds one
 * still wanted, which is then swapped there (only when threads finished out of order). */
static bool
order_images (uint8_t *block, int n_slots, const int *slots, int n, size_t slot_bytes)
{
  if (n == 0)
    return true;
  int *at = malloc (n_slots * sizeof *at);       /* at[p]: the slot whose image is at p */
  int *where = malloc (n_slots * sizeof *where); /* where[s]: where slot s's image is */
  bool *wanted = calloc (n_slots, sizeof *wanted);
  uint8_t *tmp = malloc (slot_bytes);
  bool ok = at != NULL && where != NULL && wanted != NULL && tmp != NULL;
  for (int p = 0; ok && p < n_slots; p++)
    at[p] = where[p] = p;
  for (int d = 0; ok && d < n; d++)
    wanted[slots[d]] = true;
  for (int d = 0; ok && d < n; d++)
    {
      int s = slots[d], p = where[s], t = at[d];
      if (p == d)
        continue;
      if (wanted[t]) /* t is placed later: swap it out of the way */
        {
          memcpy (tmp, block + d * slot_bytes, slot_bytes);
          memcpy (block + d * slot_bytes, block + p * slot_bytes, slot_bytes);
          memcpy (block + p * slot_bytes, tmp, slot_bytes);
        }
      else
        memcpy (block + d * slot_bytes, block + p * slot_bytes, slot_bytes);
      at[p] = t, where[t] = p;
      at[d] = s, where[s] = d;
      wanted[s] = false;
    }
  free (at);
  free (where);
  free (wanted);
  free (tmp);
  return ok;
}

/* Gives the entries' names and reasons to ds: the usable ones (no reason) with their pixels
 * from the decode block (n_slots images in decoding order), the others as skipped. Entries
 * keep only what ds did not take. */
static bool
assemble (HnDataset *ds, FolderEntry *entries, int n_entries, uint8_t *block, int n_slots,
          HnError *err)
{
  size_t slot_bytes = (size_t) ds->size * ds->size * 3;
  int n = 0, n_skipped = 0;
  for (int i = 0; i < n_entries; i++)
    entries[i].reason == NULL ? n++ : n_skipped++;
  ds->labels = calloc (n > 0 ? n : 1, sizeof *ds->labels);
  ds->names = calloc (n > 0 ? n : 1, sizeof *ds->names);
  ds->skipped = calloc (n_skipped > 0 ? n_skipped : 1, sizeof *ds->skipped);
  int *slots = malloc ((n > 0 ? n : 1) * sizeof *slots); /* (n) the usable ones', name order */
  bool ok = ds->labels != NULL && ds->names != NULL && ds->skipped != NULL && slots != NULL;
  for (int i = 0, d = 0; ok && i < n_entries; i++)
    if (entries[i].reason == NULL)
      slots[d++] = entries[i].slot;
  if (!ok || !order_images (block, n_slots, slots, n, slot_bytes))
    {
      free (slots);
      return hn_error_set (err, "out of memory");
    }
  free (slots);

  for (int i = 0; i < n_entries; i++)
    {
      FolderEntry *e = &entries[i];
      if (e->reason != NULL)
        {
          ds->skipped[ds->n_skipped++] = (HnSkippedFile){ .file = e->name, .reason = e->reason };
          e->name = e->reason = NULL;
          continue;
        }
      e->labels.split_key = sha1_prefix32 (e->digest);
      ds->labels[ds->n] = e->labels;
      ds->names[ds->n++] = e->name;
      e->name = NULL;
    }
  uint8_t *fit = realloc (block, ds->n > 0 ? ds->n * slot_bytes : 1);
  ds->pixels = fit != NULL ? fit : block;
  return true;
}

/* Decodes the candidates (todo, n_todo of them) on `threads` threads, folds the copies and
 * hands everything to ds (whose size is set). */
static bool
decode_candidates (Folder *f, int *todo, int n_todo, int threads, HnLoadProgress *progress,
                   HnDataset *ds, HnError *err)
{
  if (progress != NULL)
    {
      atomic_store (&progress->done, 0);
      atomic_store (&progress->total, n_todo);
    }
  DecodeJob job = { .dfd = f->dfd,
                    .size = ds->size,
                    .entries = f->entries,
                    .todo = todo,
                    .n_todo = n_todo,
                    .progress = progress };
  pthread_mutex_init (&job.lock, NULL);
  if (n_todo > 0)
    decode_all (&job, threads);
  pthread_mutex_destroy (&job.lock);

  bool ok = false;
  int n_ok = 0;
  if (cancelled (progress))
    hn_error_set (err, "cancelled");
  else if (atomic_load (&job.out_of_memory))
    hn_error_set (err, "out of memory after %d images of %d×%d", job.n_kept, ds->size, ds->size);
  else
    {
      for (int k = 0; k < n_todo; k++)
        if (f->entries[todo[k]].reason == NULL)
          todo[n_ok++] = todo[k];
      ok = find_duplicates (f->entries, todo, n_ok, ds, err)
           && assemble (ds, f->entries, f->n, job.pixels, job.n_kept, err);
    }
  if (!ok)
    free (job.pixels); /* assemble takes it only when it succeeds */
  return ok;
}

/* The open failed: why, for a folder whose entries were all skipped. */
static bool
nothing_usable (const char *dir, const HnDataset *ds, HnError *err)
{
  if (ds->n_skipped == 1)
    return hn_error_set (err, "%s has no usable face image: its one file, %s, was skipped (%s)",
                         dir, ds->skipped[0].file, ds->skipped[0].reason);
  return hn_error_set (err, "%s has no usable face images: all %d files were skipped (e.g. %s: %s)",
                       dir, ds->n_skipped, ds->skipped[0].file, ds->skipped[0].reason);
}

/* Everything after the listing when there is no cache to read: which entries could be
 * faces, reading and decoding those, folding copies. NULL when not one image is usable. */
static HnDataset *
decode_folder (Folder *f, int size, int threads, HnLoadProgress *progress, HnError *err)
{
  HnDataset *ds = calloc (1, sizeof *ds);
  int *todo = malloc (f->n * sizeof *todo), n_todo;
  bool ok = (ds != NULL && todo != NULL) || hn_error_set (err, "out of memory");
  if (ok)
    {
      ds->size = size;
      ok = pick_candidates (f, todo, &n_todo, err)
           && decode_candidates (f, todo, n_todo, threads, progress, ds, err)
           && (ds->n > 0 || nothing_usable (f->dir, ds, err));
    }
  free (todo);
  if (ok)
    return ds;
  dataset_free (ds);
  return NULL;
}

/* ---- the cache ---- */

static bool
set_status (HnDataset *ds, const char *fmt, const char *a)
{
  HnDatasetPrivate *priv = ds->priv;
  free (priv->cache_status);
  return asprintf (&priv->cache_status, fmt, a) >= 0 || (priv->cache_status = NULL, false);
}

/* Writes ds's cache, noting in its status how it went (stale: why the cache read failed, ""
 * when there was none). False only when the load was cancelled meanwhile; failing to write
 * is not an error (the next open decodes again). */
static bool
save_cache (HnDataset *ds, Folder *f, const char *stale, const HnLoadProgress *progress)
{
  HnError e = { 0 };
  const atomic_bool *cancel = progress != NULL ? &progress->cancel : NULL;
  if (f->cache_file == NULL)
    set_status (
        ds, f->cache_folder == NULL ? "disabled" : "not written (cannot resolve the folder)", "");
  else if (!file_make_dirs (f->cache_folder, 0700, &e))
    set_status (ds, "not written (%s)", e.message);
  else if (cache_write (ds, f->cache_file, f->key, cancel, &e))
    set_status (ds, stale[0] != '\0' ? "rebuilt (%s)" : "written", stale);
  else if (cancelled (progress))
    return false;
  else
    set_status (ds, "not written (%s)", e.message);
  return true;
}

/* ---- opening ---- */

/* The data set from the cache or, failing that, from the files; f is listed. */
static HnDataset *
load (Folder *f, int size, int threads, HnLoadProgress *progress, HnError *err)
{
  char stale[256] = "";
  HnDataset *ds = NULL;
  if (f->cache_file != NULL)
    ds = cache_read (f->cache_file, f->key, size, stale, sizeof stale);
  bool from_cache = ds != NULL;
  if (!from_cache && (ds = decode_folder (f, size, threads, progress, err)) == NULL)
    return NULL;
  if ((ds->priv = calloc (1, sizeof *ds->priv)) == NULL)
    {
      hn_error_set (err, "out of memory");
      dataset_free (ds);
      return NULL;
    }
  if (from_cache)
    {
      if (progress != NULL)
        {
          atomic_store (&progress->total, ds->n);
          atomic_store (&progress->done, ds->n);
        }
      set_status (ds, "read", "");
    }
  else if (!save_cache (ds, f, stale, progress))
    {
      hn_error_set (err, "cancelled");
      dataset_free (ds);
      return NULL;
    }
  ds->priv->cache_file = f->cache_file; /* the data set's now */
  f->cache_file = NULL;
  return ds;
}

HnDataset *
dataset_open_folder (const char *dir, int size, const char *cache_dir, int threads,
                     HnLoadProgress *progress, HnError *err)
{
  if (!dataset_size_supported (size))
    {
      hn_error_set (err, "image size %d is not offered: use 32, 64, 96 or 128", size);
      return NULL;
    }
  if (cancelled (progress))
    {
      hn_error_set (err, "cancelled");
      return NULL;
    }
  if (threads <= 0)
    {
      long online = sysconf (_SC_NPROCESSORS_ONLN);
      threads = online > 0 ? (int) online : 1;
    }

  Folder f = { .dir = dir, .progress = progress, .dfd = -1 };
  HnDataset *ds = NULL;
  if (open_folder (&f, err) && list_folder (&f, err))
    {
      locate_cache (&f, cache_dir, size);
      ds = load (&f, size, threads, progress, err);
    }
  folder_clear (&f);
  return ds;
}
