/* dataset.c — a UTKFace folder: strict names, content hashes, parallel decoding, a cache.
 *
 * Opening a folder goes: list it (hidden files ignored), sort the names (byte order, as the
 * reference's sorted()), parse each name strictly, then on every core read each candidate
 * file, hash its bytes (SHA-1: duplicates and split key) and decode, crop and resize it
 * into its slot of one pixel block. Byte-identical copies are then folded onto the first
 * by name; the rest of the copies, and every file that failed, become `skipped` entries with
 * a reason, so usable + skipped = the folder's (non-hidden) entries.
 *
 * Copies whose names disagree on the labels (259 of UTKFace's 375 groups: 205 on age, half
 * of those by 5 years or less, 70 on race, 40 on gender): at least one name is wrong and
 * nothing tells which. The first copy stays,
 * with its own name's labels, but marked never_val: training shrugs off a little label
 * noise and keeps the face, while validation would score a right answer wrong. `dataset`
 * shows such groups with "conflicting": true, the copy kept and "kept_in": "train".
 *
 * JPEGs are decoded by libjpeg-turbo (jpeg.h) at full scale, as Pillow decodes them, with one
 * decoder per thread (decoding plus resizing through stb_image would take 1.4× as long).
 * Every other format, and CMYK JPEGs, go through image.c (stb).
 *
 * The preprocessed pixels are kept in a cache file, so the next open of an unchanged folder
 * reads one file instead of decoding thousands (format below, at CACHE_VERSION).
 */
#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "jpeg.h"
#include "sha1.h"

struct HnDatasetPrivate
{
  char *cache_file;   /* NULL when there is no cache */
  char *cache_status; /* "read", "written", … (see dataset.h) */
};

/* One non-hidden entry of the folder, in name order. */
typedef struct
{
  char *name;
  char *reason;        /* why it is not used (owned); NULL while it may be */
  HnFaceLabels labels; /* from the name; split_key and never_val later */
  uint8_t digest[SHA1_DIGEST_BYTES];
  int slot; /* its pixels' index in the decode block, or -1 if never decoded */
} Entry;

/* ---- names ---- */

/* Digits from *p on: how many, and the pointer past them. */
static int
digit_run (const char **p)
{
  int n = 0;
  while (**p >= '0' && **p <= '9')
    (*p)++, n++;
  return n;
}

/* ASCII case-insensitive, as the reference's re.I on these words: does s start with the
 * lower-case word w? Then skip it. */
static bool
skip_word (const char **s, const char *w)
{
  size_t n = strlen (w);
  for (size_t i = 0; i < n; i++)
    {
      char c = (*s)[i];
      if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != w[i]) /* stops at the NUL too */
        return false;
    }
  *s += n;
  return true;
}

/* The reference's NAME regex, ^(\d{1,3})_([01])_([0-4])_(\d+)\.(jpg|jpeg|png)(\.chip\.jpg)?$
 * case-insensitive, plus age ≤ LABEL_MAX_AGE. It is checked in two steps so that a name
 * of the right shape with a label out of range says which label (the regex alone would
 * only say "no match"). Digits are ASCII only; Python's \d would also take other scripts'
 * digits, which no UTKFace name has. False with a reason for a person. */
static bool
parse_name (const char *name, HnFaceLabels *labels, char *why, size_t why_len)
{
  const char *p = name, *field[3];
  int digits[3];
  for (int i = 0; i < 3; i++)
    {
      field[i] = p;
      digits[i] = digit_run (&p);
      if (digits[i] == 0 || *p++ != '_')
        goto shape;
    }
  if (digit_run (&p) == 0 || *p++ != '.')
    goto shape;
  if (!skip_word (&p, "jpeg") && !skip_word (&p, "jpg") && !skip_word (&p, "png"))
    goto shape;
  if (*p != '\0' && (!skip_word (&p, ".chip.jpg") || *p != '\0'))
    goto shape;

  int age = digits[0] <= 3 ? atoi (field[0]) : INT_MAX;
  if (age > LABEL_MAX_AGE)
    {
      snprintf (why, why_len, "age %.*s is out of range (0 to %d)", digits[0] > 12 ? 12 : digits[0],
                field[0], LABEL_MAX_AGE);
      return false;
    }
  if (digits[1] != 1 || field[1][0] > '1')
    {
      snprintf (why, why_len, "gender %.*s is out of range (0 male, 1 female)",
                digits[1] > 12 ? 12 : digits[1], field[1]);
      return false;
    }
  if (digits[2] != 1 || field[2][0] > '4')
    {
      snprintf (why, why_len, "race %.*s is out of range (0 to 4)", digits[2] > 12 ? 12 : digits[2],
                field[2]);
      return false;
    }
  *labels = (HnFaceLabels){ .age = (uint8_t) age,
                            .gender = (uint8_t) (field[1][0] - '0'),
                            .race = (uint8_t) (field[2][0] - '0') };
  return true;

shape:
  snprintf (why, why_len,
            "name is not AGE_GENDER_RACE_DATETIME.jpg (nor .jpeg, .png, .jpg.chip.jpg)");
  return false;
}

/* ---- decoding one file ---- */

/* What one decoding thread keeps between files. */
typedef struct
{
  HnJpeg jpeg;
  uint8_t *bytes; /* the file (cap) */
  size_t bytes_cap;
  uint8_t *rgb; /* a decoded JPEG (cap) */
  size_t rgb_cap;
} Scratch;

static bool
grow (uint8_t **buf, size_t *cap, size_t need)
{
  if (need <= *cap)
    return true;
  uint8_t *p = realloc (*buf, need);
  if (p == NULL)
    return false;
  *buf = p;
  *cap = need;
  return true;
}

/* The whole of regular file `name` in dfd, at most IMAGE_MAX_FILE_BYTES, into s->bytes. */
static bool
read_entry (int dfd, const char *name, Scratch *s, size_t *len, HnError *err)
{
  char why[128];
  /* O_NONBLOCK: a FIFO swapped in since the listing must not hang the load. */
  int fd = openat (dfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return hn_error_set (err, "cannot open (%s)", strerror_r (errno, why, sizeof why));
  struct stat st;
  bool ok = false;
  size_t got = 0;
  if (fstat (fd, &st) != 0)
    hn_error_set (err, "cannot read (%s)", strerror_r (errno, why, sizeof why));
  else if (!S_ISREG (st.st_mode))
    hn_error_set (err, "not a regular file");
  else if ((unsigned long long) st.st_size > IMAGE_MAX_FILE_BYTES)
    hn_error_set (err, "%lld bytes is over the %u MiB limit for an image file",
                  (long long) st.st_size, IMAGE_MAX_FILE_BYTES >> 20);
  else if (!grow (&s->bytes, &s->bytes_cap, (size_t) st.st_size + 1))
    hn_error_set (err, "out of memory reading %lld bytes", (long long) st.st_size);
  else
    {
      ok = true;
      /* Stops early if the file shrank meanwhile; the decoder judges what is there. */
      while (ok && got < (size_t) st.st_size)
        {
          ssize_t n = read (fd, s->bytes + got, (size_t) st.st_size - got);
          if (n > 0)
            got += (size_t) n;
          else if (n == 0)
            break;
          else if (errno != EINTR)
            ok = hn_error_set (err, "cannot read (%s)", strerror_r (errno, why, sizeof why));
        }
    }
  close (fd);
  *len = got;
  return ok;
}

/* Everything but JPEG, and the JPEGs TurboJPEG cannot turn into RGB: stb through image.c. */
static bool
decode_other (const uint8_t *buf, size_t len, int size, uint8_t *dst, HnError *err)
{
  HnImage img;
  if (!image_decode_memory (buf, len, &img, err))
    return false;
  bool ok = image_crop_resize (&img, size, dst, err);
  image_clear (&img);
  return ok;
}

static bool
decode_jpeg (Scratch *s, const uint8_t *buf, size_t len, int size, uint8_t *dst, HnError *err)
{
  int w, h;
  bool cmyk;
  if (!jpeg_read_header (&s->jpeg, buf, len, &w, &h, &cmyk, err))
    return false;
  if (cmyk)
    return decode_other (buf, len, size, dst, err);
  if (!image_check_size (w, h, err))
    return false;
  if (!grow (&s->rgb, &s->rgb_cap, (size_t) w * h * 3))
    return hn_error_set (err, "out of memory decoding a %d×%d image", w, h);
  if (!jpeg_read_pixels (&s->jpeg, buf, len, s->rgb, w, h, err))
    return false;
  HnImage img = { .w = w, .h = h, .rgb = s->rgb };
  return image_crop_resize (&img, size, dst, err);
}

/* Reads, hashes and preprocesses one file into dst (size, size, 3). */
static bool
load_entry (int dfd, Entry *e, int size, Scratch *s, uint8_t *dst, HnError *err)
{
  size_t len = 0;
  if (!read_entry (dfd, e->name, s, &len, err))
    return false;
  sha1 (s->bytes, len, e->digest);
  if (len == 0)
    return hn_error_set (err, "empty file");
  if (len >= 3 && s->bytes[0] == 0xFF && s->bytes[1] == 0xD8 && s->bytes[2] == 0xFF)
    return decode_jpeg (s, s->bytes, len, size, dst, err);
  return decode_other (s->bytes, len, size, dst, err);
}

/* ---- decoding all files ---- */

typedef struct
{
  int dfd;
  int size;
  Entry *entries;
  const int *todo; /* (n_todo) entry indices; entry todo[k] decodes into slot k */
  int n_todo;
  uint8_t *pixels; /* (n_todo, size, size, 3) */
  HnLoadProgress *progress;
  atomic_int next; /* the next todo index to take */
  atomic_bool out_of_memory;
} DecodeJob;

static bool
cancelled (const HnLoadProgress *progress)
{
  return progress != NULL && atomic_load (&progress->cancel);
}

static void *
decode_worker (void *data)
{
  DecodeJob *job = data;
  Scratch s = { 0 };
  if (!jpeg_open (&s.jpeg, NULL))
    atomic_store (&job->out_of_memory, true);
  size_t slot_bytes = (size_t) job->size * job->size * 3;
  while (s.jpeg.tj != NULL && !cancelled (job->progress) && !atomic_load (&job->out_of_memory))
    {
      int k = atomic_fetch_add (&job->next, 1);
      if (k >= job->n_todo)
        break;
      Entry *e = &job->entries[job->todo[k]];
      HnError err = { 0 };
      e->slot = k;
      if (!load_entry (job->dfd, e, job->size, &s, job->pixels + k * slot_bytes, &err)
          && ((e->reason = strdup (err.message)) == NULL || s.jpeg.tj == NULL))
        atomic_store (&job->out_of_memory, true);
      if (job->progress != NULL)
        atomic_fetch_add (&job->progress->done, 1);
    }
  jpeg_close (&s.jpeg);
  free (s.bytes);
  free (s.rgb);
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

/* ---- duplicates ---- */

static int
compare_by_digest (const void *a, const void *b, void *entries)
{
  const Entry *e = entries;
  int i = *(const int *) a, j = *(const int *) b;
  int c = memcmp (e[i].digest, e[j].digest, SHA1_DIGEST_BYTES);
  return c != 0 ? c : (i > j) - (i < j);
}

static int
compare_groups (const void *a, const void *b)
{
  return strcmp (((const HnDuplicateGroup *) a)->files[0],
                 ((const HnDuplicateGroup *) b)->files[0]);
}

static bool
same_labels (const HnFaceLabels *a, const HnFaceLabels *b)
{
  return a->age == b->age && a->gender == b->gender && a->race == b->race;
}

static bool
set_reason (Entry *e, const char *fmt, const char *a)
{
  return asprintf (&e->reason, fmt, a) >= 0 || (e->reason = NULL, false);
}

/* Folds byte-identical decoded files (ok: entry indices, in name order) onto their first
 * copy: the others get a reason, the first never_val if any label disagrees. Fills
 * ds->duplicates in the order of their first copies. */
static bool
find_duplicates (Entry *entries, int *ok, int n_ok, HnDataset *ds, HnError *err)
{
  qsort_r (ok, n_ok, sizeof *ok, compare_by_digest, entries);
  int n_groups = 0;
  for (int a = 0, b; a < n_ok; a = b)
    {
      for (b = a + 1;
           b < n_ok
           && memcmp (entries[ok[a]].digest, entries[ok[b]].digest, SHA1_DIGEST_BYTES) == 0;)
        b++;
      n_groups += b - a > 1;
    }
  if (n_groups == 0)
    return true;
  if ((ds->duplicates = calloc (n_groups, sizeof *ds->duplicates)) == NULL)
    return hn_error_set (err, "out of memory");

  for (int a = 0, b; a < n_ok; a = b)
    {
      for (b = a + 1;
           b < n_ok
           && memcmp (entries[ok[a]].digest, entries[ok[b]].digest, SHA1_DIGEST_BYTES) == 0;)
        b++;
      if (b - a == 1)
        continue;
      /* Sorted by (digest, index), so ok[a] is the group's first name. */
      Entry *first = &entries[ok[a]];
      HnDuplicateGroup *g = &ds->duplicates[ds->n_duplicates++];
      if ((g->files = calloc (b - a, sizeof *g->files)) == NULL)
        return hn_error_set (err, "out of memory");
      for (int i = a; i < b; i++)
        {
          if ((g->files[g->n_files++] = strdup (entries[ok[i]].name)) == NULL)
            return hn_error_set (err, "out of memory");
          g->conflicting |= !same_labels (&entries[ok[i]].labels, &first->labels);
        }
      first->labels.never_val = g->conflicting;
      for (int i = a + 1; i < b; i++)
        if (!set_reason (&entries[ok[i]],
                         g->conflicting ? "same bytes as %s, whose name gives other labels; that "
                                          "copy is used, for training only"
                                        : "same bytes as %s, which is used",
                         first->name))
          return hn_error_set (err, "out of memory");
    }
  /* Groups in the order of their first names, as everything else in the data set. */
  qsort (ds->duplicates, ds->n_duplicates, sizeof *ds->duplicates, compare_groups);
  return true;
}

/* ---- the cache file ----
 *
 * One file per (folder, size): dataset-<first 16 hex of SHA-1(real path)>-<S>.cache, so a
 * changed folder replaces its old cache instead of piling up new ones. Little-endian:
 *
 *   offset  bytes
 *        0      8  magic "HNDSCACH"
 *        8      4  CACHE_VERSION
 *       12      4  S
 *       16     20  key: SHA-1 of the format, S, the folder's real path and, for every
 *                  non-hidden entry in name order, name, type, size, mtime and ctime (ns)
 *       36      4  n usable, n skipped, n duplicate groups (4 bytes each)
 *       48      8  meta bytes M
 *       56      8  pixel bytes P = n·S·S·3
 *       64     20  SHA-1 of the meta section
 *       84      8  payload_hash of the pixels
 *       92     20  SHA-1 of bytes 0…91
 *      112      M  meta: n × (age, gender, race, never_val, split_key u32); n names;
 *                  n_skipped × (file, reason); per group (u32 count, u8 conflicting, names).
 *                  Strings are NUL-terminated.
 *    112+M      P  pixels (n, S, S, 3)
 *
 * The file is used only if every check passes: magic, version, size, key, header hash, the
 * file length 112 + M + P exactly, P = n·S·S·3, the meta hash, a strict parse of the meta
 * that ends exactly at M, and the pixel hash. Anything else is stale or broken, and the
 * folder is decoded again. ctime is in the key because no tool can set it: a file swapped
 * for another of the same size and mtime (cp -p, rsync) still changes it. Files are written
 * to a temporary name and renamed, so a reader sees an old cache or a whole new one; there
 * is no fsync, as a cache torn by a crash fails its hashes and is rebuilt.
 *
 * Bump CACHE_VERSION whenever the pixels (decoder, resampler) or the labels (name rules)
 * could come out differently for the same files. */
#define CACHE_MAGIC "HNDSCACH"
#define CACHE_VERSION 1u
#define CACHE_HEADER_BYTES 112
#define CACHE_DECODER "turbojpeg-2.1 islow fancy + stb-2.27 + pillow-9.4 bilinear"

static void
put_u32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
put_u64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
get_u64 (const uint8_t *p)
{
  return get_u32 (p) | (uint64_t) get_u32 (p + 4) << 32;
}

static inline uint64_t
rotl64 (uint64_t x, int n)
{
  return x << n | x >> (64 - n);
}

/* A fast 64-bit checksum of the pixels (xxHash64's round and mixing on four lanes, several
 * GB/s): SHA-1 would take 2 s over the 1 GiB of a 128×128 cache. It guards against a torn or
 * rotten file, not against someone who can write to the user's cache anyway. */
static uint64_t
payload_hash (const uint8_t *p, size_t len)
{
  const uint64_t p1 = 0x9E3779B185EBCA87ull, p2 = 0xC2B2AE3D27D4EB4Full;
  uint64_t acc[4] = { p1 + p2, p2, 0, -p1 };
  size_t i = 0;
  for (; i + 32 <= len; i += 32)
    for (int l = 0; l < 4; l++)
      acc[l] = rotl64 (acc[l] + get_u64 (p + i + 8 * l) * p2, 31) * p1;
  uint64_t h = len;
  for (int l = 0; l < 4; l++)
    h = rotl64 (h ^ rotl64 (acc[l] * p2, 31) * p1, 27) * p1 + 0x85EBCA77C2B2AE63ull;
  for (; i < len; i++)
    h = rotl64 (h ^ p[i] * 0x27D4EB2F165667C5ull, 11) * p1;
  h ^= h >> 33;
  h *= p2;
  h ^= h >> 29;
  return h;
}

/* A growing byte buffer for the meta section; ok turns false on the first failed allocation. */
typedef struct
{
  uint8_t *data;
  size_t len, cap;
  bool ok;
} Buf;

static void
buf_add (Buf *b, const void *data, size_t len)
{
  if (!b->ok || !(b->ok = grow (&b->data, &b->cap, b->len + len + (b->cap > len ? b->cap : len))))
    return;
  memcpy (b->data + b->len, data, len);
  b->len += len;
}

static void
buf_add_str (Buf *b, const char *s)
{
  buf_add (b, s, strlen (s) + 1);
}

/* Reads meta strictly: every read within [p, end), every value in range. */
typedef struct
{
  const uint8_t *p, *end;
  bool ok;
} Cursor;

static const uint8_t *
take (Cursor *c, size_t n)
{
  if (!c->ok || (size_t) (c->end - c->p) < n)
    return c->ok = false, NULL;
  const uint8_t *at = c->p;
  c->p += n;
  return at;
}

/* A copy of the NUL-terminated string at the cursor (NULL, ok false, when none). */
static char *
take_str (Cursor *c)
{
  const uint8_t *nul = c->ok ? memchr (c->p, 0, c->end - c->p) : NULL;
  char *s = nul != NULL ? strdup ((const char *) c->p) : NULL;
  if (s == NULL)
    return c->ok = false, NULL;
  c->p = nul + 1;
  return s;
}

/* The key (see above) over the listing; st of entries that could not be stat'ed is zero. */
static void
cache_key (const char *real_dir, int size, Entry *entries, const struct stat *st, int n,
           uint8_t key[SHA1_DIGEST_BYTES])
{
  HnSha1 ctx;
  uint8_t num[8 * 6];
  sha1_init (&ctx);
  sha1_update (&ctx, CACHE_MAGIC CACHE_DECODER, sizeof CACHE_MAGIC CACHE_DECODER);
  put_u32 (num, CACHE_VERSION);
  put_u32 (num + 4, (uint32_t) size);
  sha1_update (&ctx, num, 8);
  sha1_update (&ctx, real_dir, strlen (real_dir) + 1);
  for (int i = 0; i < n; i++)
    {
      sha1_update (&ctx, entries[i].name, strlen (entries[i].name) + 1);
      put_u64 (num, (uint64_t) (st[i].st_mode & S_IFMT));
      put_u64 (num + 8, (uint64_t) st[i].st_size);
      put_u64 (num + 16, (uint64_t) st[i].st_mtim.tv_sec);
      put_u64 (num + 24, (uint64_t) st[i].st_mtim.tv_nsec);
      put_u64 (num + 32, (uint64_t) st[i].st_ctim.tv_sec);
      put_u64 (num + 40, (uint64_t) st[i].st_ctim.tv_nsec);
      sha1_update (&ctx, num, sizeof num);
    }
  sha1_final (&ctx, key);
}

static bool
digest_matches (const void *data, size_t len, const uint8_t *want)
{
  uint8_t digest[SHA1_DIGEST_BYTES];
  sha1 (data, len, digest);
  return memcmp (digest, want, SHA1_DIGEST_BYTES) == 0;
}

static bool
read_exactly (int fd, void *buf, size_t len, off_t at)
{
  for (size_t got = 0; got < len;)
    {
      ssize_t n = pread (fd, (uint8_t *) buf + got, len - got, at + (off_t) got);
      if (n > 0)
        got += (size_t) n;
      else if (n == 0 || errno != EINTR)
        return false;
    }
  return true;
}

static bool
write_all (int fd, const void *buf, size_t len)
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

/* Fills ds from the meta section; false if anything in it is out of place. */
static bool
parse_meta (HnDataset *ds, const uint8_t *meta, size_t len, uint32_t n_skipped, uint32_t n_dups)
{
  Cursor c = { meta, meta + len, true };
  /* Each record takes at least one byte, so counts beyond len are lies: refuse them before
   * allocating. */
  if ((uint64_t) ds->n * 9 + (uint64_t) n_skipped * 2 + (uint64_t) n_dups * 7 > len)
    return false;
  ds->labels = calloc (ds->n > 0 ? ds->n : 1, sizeof *ds->labels);
  ds->names = calloc (ds->n > 0 ? ds->n : 1, sizeof *ds->names);
  ds->skipped = calloc (n_skipped > 0 ? n_skipped : 1, sizeof *ds->skipped);
  ds->duplicates = calloc (n_dups > 0 ? n_dups : 1, sizeof *ds->duplicates);
  if (ds->labels == NULL || ds->names == NULL || ds->skipped == NULL || ds->duplicates == NULL)
    return false;

  for (int i = 0; i < ds->n && c.ok; i++)
    {
      const uint8_t *l = take (&c, 8);
      if (l == NULL || l[0] > LABEL_MAX_AGE || l[1] > 1 || l[2] > 4 || l[3] > 1)
        return false;
      ds->labels[i] = (HnFaceLabels){
        .age = l[0], .gender = l[1], .race = l[2], .never_val = l[3], .split_key = get_u32 (l + 4)
      };
    }
  for (int i = 0; i < ds->n && c.ok; i++)
    ds->names[i] = take_str (&c);
  for (; ds->n_skipped < (int) n_skipped && c.ok; ds->n_skipped++)
    {
      ds->skipped[ds->n_skipped].file = take_str (&c);
      ds->skipped[ds->n_skipped].reason = take_str (&c);
    }
  for (; ds->n_duplicates < (int) n_dups && c.ok; ds->n_duplicates++)
    {
      const uint8_t *h = take (&c, 5);
      HnDuplicateGroup *g = &ds->duplicates[ds->n_duplicates];
      uint32_t count = h != NULL ? get_u32 (h) : 0;
      if (h == NULL || count < 2 || count > (size_t) (c.end - c.p) / 2 || h[4] > 1
          || (g->files = calloc (count, sizeof *g->files)) == NULL)
        return false;
      g->conflicting = h[4];
      for (; g->n_files < (int) count && c.ok; g->n_files++)
        g->files[g->n_files] = take_str (&c);
    }
  return c.ok && c.p == c.end;
}

/* The data set in cache file `path` if it holds exactly what key describes; NULL (and a
 * reason in why, empty when there was no file at all) otherwise. */
static HnDataset *
cache_read (const char *path, const uint8_t key[SHA1_DIGEST_BYTES], int size, char *why,
            size_t why_len)
{
  why[0] = '\0';
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      if (errno != ENOENT)
        {
          char e[128];
          snprintf (why, why_len, "cannot open the cache: %s", strerror_r (errno, e, sizeof e));
        }
      return NULL;
    }
  const char *bad = NULL;
  uint8_t h[CACHE_HEADER_BYTES];
  uint8_t *meta = NULL;
  HnDataset *ds = calloc (1, sizeof *ds);
  struct stat st;
  uint64_t meta_bytes = 0, pixel_bytes = 0;
  if (ds == NULL)
    bad = "out of memory";
  else if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    bad = "the cache is not a regular file";
  else if (!read_exactly (fd, h, sizeof h, 0))
    bad = "cache file too short";
  else if (memcmp (h, CACHE_MAGIC, 8) != 0)
    bad = "not a HydraNet cache file";
  else if (get_u32 (h + 8) != CACHE_VERSION)
    bad = "cache from another version";
  else if (get_u32 (h + 12) != (uint32_t) size)
    bad = "cache for another size";
  else if (!digest_matches (h, 92, h + 92))
    bad = "damaged cache header";
  else if (memcmp (h + 16, key, SHA1_DIGEST_BYTES) != 0)
    bad = "the folder changed";
  else if (get_u32 (h + 36) > INT_MAX / 2 || get_u32 (h + 40) > INT_MAX / 2
           || get_u32 (h + 44) > INT_MAX / 2)
    bad = "damaged cache header";
  else if ((ds->n = (int) get_u32 (h + 36), meta_bytes = get_u64 (h + 48),
            pixel_bytes = get_u64 (h + 56),
            pixel_bytes != (uint64_t) ds->n * size * size * 3 || meta_bytes > (uint64_t) st.st_size
                || pixel_bytes > (uint64_t) st.st_size
                || (uint64_t) st.st_size != CACHE_HEADER_BYTES + meta_bytes + pixel_bytes))
    bad = "truncated or padded cache";
  else if ((meta = malloc (meta_bytes + 1)) == NULL
           || (ds->pixels = malloc (pixel_bytes + 1)) == NULL)
    bad = "out of memory";
  else if (!read_exactly (fd, meta, meta_bytes, CACHE_HEADER_BYTES)
           || !read_exactly (fd, (uint8_t *) ds->pixels, pixel_bytes,
                             (off_t) (CACHE_HEADER_BYTES + meta_bytes)))
    bad = "cannot read the cache";
  else if (!digest_matches (meta, meta_bytes, h + 64))
    bad = "damaged cache labels";
  else if (payload_hash (ds->pixels, pixel_bytes) != get_u64 (h + 84))
    bad = "damaged cache pixels";
  else if (!parse_meta (ds, meta, meta_bytes, get_u32 (h + 40), get_u32 (h + 44)))
    bad = "damaged cache labels";
  close (fd);
  free (meta);
  if (bad != NULL)
    {
      snprintf (why, why_len, "%s", bad);
      dataset_free (ds);
      return NULL;
    }
  ds->size = size;
  ds->from_cache = true;
  return ds;
}

/* mkdir -p, with the XDG base directory's 0700 for what it creates. */
static bool
make_dirs (const char *dir)
{
  char *p = strdup (dir);
  if (p == NULL)
    return false;
  /* Failures on the way are not errors yet (the parent may exist, or not be ours to
   * create): whether dir is a folder at the end decides. */
  for (char *s = strchr (p + 1, '/'); s != NULL; s = strchr (s + 1, '/'))
    {
      *s = '\0';
      mkdir (p, 0700);
      *s = '/';
    }
  mkdir (p, 0700);
  free (p);
  struct stat st;
  return stat (dir, &st) == 0 && S_ISDIR (st.st_mode);
}

/* Writes ds to path atomically. False with why on failure (nothing left behind); a
 * cancellation seen before the rename also fails, with "cancelled". */
static bool
cache_write (const HnDataset *ds, const char *path, const uint8_t key[SHA1_DIGEST_BYTES],
             const HnLoadProgress *progress, char *why, size_t why_len)
{
  Buf meta = { .ok = true };
  for (int i = 0; i < ds->n; i++)
    {
      uint8_t l[8] = { ds->labels[i].age, ds->labels[i].gender, ds->labels[i].race,
                       ds->labels[i].never_val };
      put_u32 (l + 4, ds->labels[i].split_key);
      buf_add (&meta, l, sizeof l);
    }
  for (int i = 0; i < ds->n; i++)
    buf_add_str (&meta, ds->names[i]);
  for (int i = 0; i < ds->n_skipped; i++)
    {
      buf_add_str (&meta, ds->skipped[i].file);
      buf_add_str (&meta, ds->skipped[i].reason);
    }
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      uint8_t g[5] = { [4] = ds->duplicates[i].conflicting };
      put_u32 (g, (uint32_t) ds->duplicates[i].n_files);
      buf_add (&meta, g, sizeof g);
      for (int j = 0; j < ds->duplicates[i].n_files; j++)
        buf_add_str (&meta, ds->duplicates[i].files[j]);
    }
  if (!meta.ok)
    {
      free (meta.data);
      snprintf (why, why_len, "out of memory");
      return false;
    }

  size_t pixel_bytes = (size_t) ds->n * ds->size * ds->size * 3;
  uint8_t h[CACHE_HEADER_BYTES] = { 0 };
  memcpy (h, CACHE_MAGIC, 8);
  put_u32 (h + 8, CACHE_VERSION);
  put_u32 (h + 12, (uint32_t) ds->size);
  memcpy (h + 16, key, SHA1_DIGEST_BYTES);
  put_u32 (h + 36, (uint32_t) ds->n);
  put_u32 (h + 40, (uint32_t) ds->n_skipped);
  put_u32 (h + 44, (uint32_t) ds->n_duplicates);
  put_u64 (h + 48, meta.len);
  put_u64 (h + 56, pixel_bytes);
  sha1 (meta.data, meta.len, h + 64);
  put_u64 (h + 84, payload_hash (ds->pixels, pixel_bytes));
  sha1 (h, 92, h + 92);

  /* A temporary file beside the cache, renamed over it once whole. */
  char *tmp = NULL, e[128];
  int fd, error = 0;
  bool stop = false;
  if (asprintf (&tmp, "%s.XXXXXX", path) < 0)
    tmp = NULL, error = ENOMEM;
  else if ((fd = mkostemp (tmp, O_CLOEXEC)) < 0)
    error = errno;
  else
    {
      if (!write_all (fd, h, sizeof h) || !write_all (fd, meta.data, meta.len)
          || !write_all (fd, ds->pixels, pixel_bytes))
        error = errno;
      if (close (fd) != 0 && error == 0)
        error = errno;
      stop = cancelled (progress);
      if (error == 0 && !stop && rename (tmp, path) != 0)
        error = errno;
      if (error != 0 || stop)
        unlink (tmp);
    }
  bool ok = error == 0 && !stop;
  if (stop)
    snprintf (why, why_len, "cancelled");
  else if (!ok)
    snprintf (why, why_len, "%s", strerror_r (error, e, sizeof e));
  free (tmp);
  free (meta.data);
  return ok;
}

/* The cache folder for cache_dir (see dataset_open_folder), or NULL for none. */
static char *
cache_folder (const char *cache_dir)
{
  char *dir = NULL;
  const char *xdg = getenv ("XDG_CACHE_HOME"), *home = getenv ("HOME");
  if (cache_dir != NULL)
    return cache_dir[0] != '\0' ? strdup (cache_dir) : NULL;
  /* The XDG spec ignores a relative XDG_CACHE_HOME. */
  if (xdg != NULL && xdg[0] == '/')
    return asprintf (&dir, "%s/hydranet-studio", xdg) >= 0 ? dir : NULL;
  if (home != NULL && home[0] == '/')
    return asprintf (&dir, "%s/.cache/hydranet-studio", home) >= 0 ? dir : NULL;
  return NULL;
}

static bool
set_status (HnDatasetPrivate *priv, const char *fmt, const char *a)
{
  free (priv->cache_status);
  return asprintf (&priv->cache_status, fmt, a) >= 0 || (priv->cache_status = NULL, false);
}

/* ---- opening a folder ---- */

static int
compare_names (const void *a, const void *b)
{
  return strcmp (((const Entry *) a)->name, ((const Entry *) b)->name);
}

/* The folder's non-hidden entries, sorted by name, with their stat (zero where it failed).
 * The arrays are the caller's, even on failure. */
static bool
list_folder (const char *dir, int dfd, Entry **entries, struct stat **st, int *n, int *n_hidden,
             HnError *err)
{
  char why[128];
  int fd = dup (dfd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return hn_error_set (err, "%s: cannot list the folder (%s)", dir,
                           strerror_r (errno, why, sizeof why));
    }
  int cap = 0;
  bool ok = true;
  struct dirent *de;
  for (errno = 0; ok && (de = readdir (d)) != NULL; errno = 0)
    {
      if (de->d_name[0] == '.')
        {
          *n_hidden += strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0;
          continue;
        }
      if (*n == cap)
        {
          cap = cap > 0 ? 2 * cap : 1024;
          Entry *e = realloc (*entries, cap * sizeof **entries);
          if (e == NULL)
            {
              ok = hn_error_set (err, "out of memory listing %s", dir);
              break;
            }
          *entries = e;
        }
      (*entries)[*n] = (Entry){ .name = strdup (de->d_name), .slot = -1 };
      if ((*entries)[*n].name == NULL)
        ok = hn_error_set (err, "out of memory listing %s", dir);
      else
        (*n)++;
    }
  if (ok && errno != 0)
    ok = hn_error_set (err, "%s: cannot list the folder (%s)", dir,
                       strerror_r (errno, why, sizeof why));
  closedir (d);
  if (!ok)
    return false;

  if (*n > 1)
    qsort (*entries, *n, sizeof **entries, compare_names);
  if ((*st = calloc (*n > 0 ? *n : 1, sizeof **st)) == NULL)
    return hn_error_set (err, "out of memory listing %s", dir);
  for (int i = 0; i < *n; i++)
    if (fstatat (dfd, (*entries)[i].name, &(*st)[i], 0) != 0)
      {
        (*st)[i] = (struct stat){ 0 };
        if (asprintf (&(*entries)[i].reason, "cannot read (%s)",
                      strerror_r (errno, why, sizeof why))
            < 0)
          return (*entries)[i].reason = NULL, hn_error_set (err, "out of memory");
      }
  return true;
}

/* Gives the entries' names and reasons to ds: the usable ones (no reason) with their pixels
 * from the decode block, the others as skipped. Entries keep only what ds did not take. */
static bool
assemble (HnDataset *ds, Entry *entries, int n_entries, uint8_t *block, HnError *err)
{
  size_t slot_bytes = (size_t) ds->size * ds->size * 3;
  int n = 0, n_skipped = 0;
  for (int i = 0; i < n_entries; i++)
    entries[i].reason == NULL ? n++ : n_skipped++;
  ds->labels = calloc (n > 0 ? n : 1, sizeof *ds->labels);
  ds->names = calloc (n > 0 ? n : 1, sizeof *ds->names);
  ds->skipped = calloc (n_skipped > 0 ? n_skipped : 1, sizeof *ds->skipped);
  if (ds->labels == NULL || ds->names == NULL || ds->skipped == NULL)
    return hn_error_set (err, "out of memory");

  /* Slots grow with name order, so moving each usable image down to its index never
   * overwrites one still to be moved. */
  for (int i = 0; i < n_entries; i++)
    {
      Entry *e = &entries[i];
      if (e->reason != NULL)
        {
          ds->skipped[ds->n_skipped++] = (HnSkippedFile){ .file = e->name, .reason = e->reason };
          e->name = e->reason = NULL;
          continue;
        }
      memmove (block + ds->n * slot_bytes, block + e->slot * slot_bytes, slot_bytes);
      e->labels.split_key = sha1_prefix32 (e->digest);
      ds->labels[ds->n] = e->labels;
      ds->names[ds->n++] = e->name;
      e->name = NULL;
    }
  uint8_t *fit = realloc (block, ds->n > 0 ? ds->n * slot_bytes : 1);
  ds->pixels = fit != NULL ? fit : block;
  return true;
}

static void
free_entries (Entry *entries, int n)
{
  for (int i = 0; i < n; i++)
    {
      free (entries[i].name);
      free (entries[i].reason);
    }
  free (entries);
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
 * faces (by name and type), reading and decoding those on `threads` threads, folding copies,
 * and handing the result to ds (whose size is set). */
static bool
decode_folder (int dfd, Entry *entries, const struct stat *st, int n_entries, int threads,
               HnLoadProgress *progress, HnDataset *ds, HnError *err)
{
  int *todo = malloc (n_entries * sizeof *todo), n_todo = 0;
  if (todo == NULL)
    return hn_error_set (err, "out of memory");
  for (int i = 0; i < n_entries; i++)
    {
      Entry *e = &entries[i];
      const char *reason = NULL;
      char name_why[128];
      if (e->reason != NULL) /* stat failed */
        continue;
      if (S_ISDIR (st[i].st_mode))
        reason = "a folder: subfolders are not read";
      else if (!parse_name (e->name, &e->labels, name_why, sizeof name_why))
        reason = name_why;
      else if (!S_ISREG (st[i].st_mode))
        reason = "not a regular file";
      if (reason == NULL)
        todo[n_todo++] = i;
      else if ((e->reason = strdup (reason)) == NULL)
        {
          free (todo);
          return hn_error_set (err, "out of memory");
        }
    }

  size_t slot_bytes = (size_t) ds->size * ds->size * 3;
  uint8_t *block = malloc (n_todo > 0 ? n_todo * slot_bytes : 1); /* (n_todo, S, S, 3) */
  if (block == NULL)
    {
      free (todo);
      return hn_error_set (err, "out of memory for %d images of %d×%d", n_todo, ds->size, ds->size);
    }
  if (progress != NULL)
    {
      atomic_store (&progress->done, 0);
      atomic_store (&progress->total, n_todo);
    }
  DecodeJob job = { .dfd = dfd,
                    .size = ds->size,
                    .entries = entries,
                    .todo = todo,
                    .n_todo = n_todo,
                    .pixels = block,
                    .progress = progress };
  if (n_todo > 0)
    decode_all (&job, threads);

  bool ok = false;
  int n_ok = 0;
  if (cancelled (progress))
    hn_error_set (err, "cancelled");
  else if (atomic_load (&job.out_of_memory))
    hn_error_set (err, "out of memory decoding images");
  else
    {
      for (int k = 0; k < n_todo; k++)
        if (entries[todo[k]].reason == NULL)
          todo[n_ok++] = todo[k];
      ok = find_duplicates (entries, todo, n_ok, ds, err)
           && assemble (ds, entries, n_entries, block, err);
    }
  if (!ok)
    free (block); /* assemble takes it only when it succeeds */
  free (todo);
  return ok;
}

/* Writes ds's cache (see above), noting in ds->priv how it went. False only when the load
 * was cancelled meanwhile; failing to write is not an error (the next open decodes again). */
static bool
save_cache (HnDataset *ds, const char *folder, const char *file, const uint8_t *key,
            const char *stale_why, const HnLoadProgress *progress)
{
  char why[256];
  bool made = make_dirs (folder);
  if (made && cache_write (ds, file, key, progress, why, sizeof why))
    set_status (ds->priv, stale_why[0] != '\0' ? "rebuilt (%s)" : "written", stale_why);
  else if (made && cancelled (progress))
    return false;
  else if (!made)
    set_status (ds->priv, "not written (cannot create the cache folder %s)", folder);
  else
    set_status (ds->priv, "not written (%s)", why);
  return true;
}

HnDataset *
dataset_open_folder (const char *dir, int size, const char *cache_dir, int threads,
                     HnLoadProgress *progress, HnError *err)
{
  char why[256];
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

  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    {
      int e = errno;
      if (e == ENOENT)
        hn_error_set (err, "%s: no such folder", dir);
      else if (e == ENOTDIR)
        hn_error_set (err, "%s is a file, not a folder of images", dir);
      else if (e == EACCES)
        hn_error_set (err, "%s: permission denied, cannot open the folder", dir);
      else
        hn_error_set (err, "%s: cannot open the folder (%s)", dir, strerror_r (e, why, sizeof why));
      return NULL;
    }

  HnDataset *ds = NULL;
  Entry *entries = NULL;
  struct stat *st = NULL;
  int n_entries = 0, n_hidden = 0;
  char *real_dir = NULL, *folder = NULL, *cache_file = NULL;
  HnDatasetPrivate *priv = calloc (1, sizeof *priv);
  if (priv == NULL)
    {
      hn_error_set (err, "out of memory");
      goto fail;
    }
  if (!list_folder (dir, dfd, &entries, &st, &n_entries, &n_hidden, err))
    goto fail;
  if (n_entries == 0)
    {
      if (n_hidden > 0)
        hn_error_set (err, "%s has no images, only hidden files (names starting with '.')", dir);
      else
        hn_error_set (err, "%s is empty: there are no images to read", dir);
      goto fail;
    }

  /* The cache: named after the folder's real path and the size, keyed on its listing. */
  uint8_t key[SHA1_DIGEST_BYTES], dir_digest[SHA1_DIGEST_BYTES];
  char dir_hex[2 * SHA1_DIGEST_BYTES + 1];
  why[0] = '\0';
  if ((folder = cache_folder (cache_dir)) != NULL && (real_dir = realpath (dir, NULL)) != NULL)
    {
      sha1 (real_dir, strlen (real_dir), dir_digest);
      sha1_hex (dir_digest, dir_hex);
      if (asprintf (&cache_file, "%s/dataset-%.16s-%d.cache", folder, dir_hex, size) < 0)
        cache_file = NULL;
    }
  if (cache_file != NULL)
    {
      cache_key (real_dir, size, entries, st, n_entries, key);
      if ((ds = cache_read (cache_file, key, size, why, sizeof why)) != NULL)
        {
          if (progress != NULL)
            {
              atomic_store (&progress->total, ds->n);
              atomic_store (&progress->done, ds->n);
            }
          ds->priv = priv;
          set_status (priv, "read", "");
          goto done;
        }
    }

  if ((ds = calloc (1, sizeof *ds)) == NULL)
    {
      hn_error_set (err, "out of memory");
      goto fail;
    }
  ds->size = size;
  ds->priv = priv;
  if (!decode_folder (dfd, entries, st, n_entries, threads, progress, ds, err))
    goto fail;
  if (ds->n == 0)
    {
      nothing_usable (dir, ds, err);
      goto fail;
    }
  if (cache_file == NULL)
    set_status (priv, folder == NULL ? "disabled" : "not written (cannot resolve the folder)", "");
  else if (!save_cache (ds, folder, cache_file, key, why, progress))
    {
      hn_error_set (err, "cancelled");
      goto fail;
    }

done:
  priv->cache_file = cache_file;
  free_entries (entries, n_entries);
  free (st);
  free (real_dir);
  free (folder);
  close (dfd);
  return ds;

fail:
  if (ds == NULL)
    dataset_private_free (priv);
  dataset_free (ds); /* and priv with it */
  free_entries (entries, n_entries);
  free (st);
  free (real_dir);
  free (folder);
  free (cache_file);
  close (dfd);
  return NULL;
}

void
dataset_private_free (HnDatasetPrivate *priv)
{
  if (priv == NULL)
    return;
  free (priv->cache_file);
  free (priv->cache_status);
  free (priv);
}

void
dataset_free (HnDataset *ds)
{
  if (ds == NULL)
    return;
  free ((void *) ds->pixels);
  free (ds->labels);
  for (int i = 0; ds->names != NULL && i < ds->n; i++)
    free (ds->names[i]);
  free (ds->names);
  for (int i = 0; i < ds->n_skipped; i++)
    {
      free (ds->skipped[i].file);
      free (ds->skipped[i].reason);
    }
  free (ds->skipped);
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      for (int j = 0; j < ds->duplicates[i].n_files; j++)
        free (ds->duplicates[i].files[j]);
      free (ds->duplicates[i].files);
    }
  free (ds->duplicates);
  dataset_private_free (ds->priv);
  free (ds);
}

const char *
dataset_cache_file (const HnDataset *ds)
{
  return ds->priv != NULL ? ds->priv->cache_file : NULL;
}

const char *
dataset_cache_status (const HnDataset *ds)
{
  return ds->priv != NULL && ds->priv->cache_status != NULL ? ds->priv->cache_status : "disabled";
}

void
dataset_split (const HnDataset *ds, int val_percent, int *train, int *n_train, int *val, int *n_val)
{
  int nt = 0, nv = 0;
  for (int i = 0; i < ds->n; i++)
    {
      if (dataset_is_val (ds, i, val_percent))
        {
          if (val != NULL)
            val[nv] = i;
          nv++;
        }
      else
        {
          if (train != NULL)
            train[nt] = i;
          nt++;
        }
    }
  *n_train = nt;
  *n_val = nv;
}
