/* cache.c — a folder's preprocessed data set in one file, so that the next open of an
 * unchanged folder reads one file instead of decoding thousands.
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
 *       84      8  cache_pixel_hash of the pixels
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
 * for another of the same size and mtime (cp -p, rsync) still changes it. The file is
 * replaced atomically (core/fileio.h) but not synced: a cache torn by a crash fails its
 * hashes and is rebuilt.
 *
 * Bump CACHE_VERSION whenever the pixels (decoder, resampler) or the labels (name rules)
 * could come out differently for the same files.
 */
#include "dataset-private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A fast 64-bit checksum of the pixels (xxHash64's round and mixing on four lanes): SHA-1
 * would be too slow over the 1 GiB of a 128×128 cache. It guards against a torn or rotten
 * file, not against someone who can write to the user's cache anyway. */
uint64_t
cache_pixel_hash (const uint8_t *p, size_t len)
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

static bool
digest_matches (const void *data, size_t len, const uint8_t *want)
{
  uint8_t digest[SHA1_DIGEST_BYTES];
  sha1 (data, len, digest);
  return memcmp (digest, want, SHA1_DIGEST_BYTES) == 0;
}

/* ---- where ---- */

char *
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

char *
cache_file_path (const char *folder, const char *real_dir, int size)
{
  uint8_t digest[SHA1_DIGEST_BYTES];
  char hex[2 * SHA1_DIGEST_BYTES + 1], *path = NULL;
  sha1 (real_dir, strlen (real_dir), digest);
  sha1_hex (digest, hex);
  return asprintf (&path, "%s/dataset-%.16s-%d.cache", folder, hex, size) >= 0 ? path : NULL;
}

void
cache_key (const char *real_dir, int size, const FolderEntry *entries, const struct stat *st, int n,
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

/* ---- reading ---- */

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

/* What is wrong with header h of a file_bytes long cache, for this key and size, or NULL. */
static const char *
header_problem (const uint8_t *h, const uint8_t *key, int size, uint64_t file_bytes)
{
  if (memcmp (h, CACHE_MAGIC, 8) != 0)
    return "not a HydraNet cache file";
  if (get_u32 (h + 8) != CACHE_VERSION)
    return "cache from another version";
  if (get_u32 (h + 12) != (uint32_t) size)
    return "cache for another size";
  if (!digest_matches (h, 92, h + 92))
    return "damaged cache header";
  if (memcmp (h + 16, key, SHA1_DIGEST_BYTES) != 0)
    return "the folder changed";
  if (get_u32 (h + 36) > INT_MAX / 2 || get_u32 (h + 40) > INT_MAX / 2
      || get_u32 (h + 44) > INT_MAX / 2)
    return "damaged cache header";
  uint64_t n = get_u32 (h + 36), meta_bytes = get_u64 (h + 48), pixel_bytes = get_u64 (h + 56);
  if (pixel_bytes != n * size * size * 3 || meta_bytes > file_bytes || pixel_bytes > file_bytes
      || file_bytes != CACHE_HEADER_BYTES + meta_bytes + pixel_bytes)
    return "truncated or padded cache";
  return NULL;
}

/* Reads the sections after a sound header h into ds and checks them; what is wrong, or NULL. */
static const char *
read_sections (int fd, const uint8_t *h, HnDataset *ds)
{
  uint64_t meta_bytes = get_u64 (h + 48), pixel_bytes = get_u64 (h + 56);
  uint8_t *meta = malloc (meta_bytes + 1);
  const char *bad = NULL;
  ds->n = (int) get_u32 (h + 36);
  if (meta == NULL || (ds->pixels = malloc (pixel_bytes + 1)) == NULL)
    bad = "out of memory";
  else if (!read_exactly (fd, meta, meta_bytes, CACHE_HEADER_BYTES)
           || !read_exactly (fd, (uint8_t *) ds->pixels, pixel_bytes,
                             (off_t) (CACHE_HEADER_BYTES + meta_bytes)))
    bad = "cannot read the cache";
  else if (!digest_matches (meta, meta_bytes, h + 64))
    bad = "damaged cache labels";
  else if (cache_pixel_hash (ds->pixels, pixel_bytes) != get_u64 (h + 84))
    bad = "damaged cache pixels";
  else if (!parse_meta (ds, meta, meta_bytes, get_u32 (h + 40), get_u32 (h + 44)))
    bad = "damaged cache labels";
  free (meta);
  return bad;
}

HnDataset *
cache_read (const char *path, const uint8_t key[SHA1_DIGEST_BYTES], int size, char *why,
            size_t why_len)
{
  why[0] = '\0';
  /* O_NONBLOCK: a named pipe in the cache's place must not wait for a writer (fstat below
   * refuses it); regular files ignore the flag. */
  int fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
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
  HnDataset *ds = calloc (1, sizeof *ds);
  struct stat st;
  if (ds == NULL)
    bad = "out of memory";
  else if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    bad = "the cache is not a regular file";
  else if (!read_exactly (fd, h, sizeof h, 0))
    bad = "cache file too short";
  else if ((bad = header_problem (h, key, size, (uint64_t) st.st_size)) == NULL)
    bad = read_sections (fd, h, ds);
  close (fd);
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

/* ---- writing ---- */

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
  if (!b->ok)
    return;
  if (b->len + len > b->cap)
    {
      size_t cap = b->len + len + (b->cap > len ? b->cap : len);
      uint8_t *p = realloc (b->data, cap);
      if ((b->ok = p != NULL) == false)
        return;
      b->data = p;
      b->cap = cap;
    }
  memcpy (b->data + b->len, data, len);
  b->len += len;
}

static void
buf_add_str (Buf *b, const char *s)
{
  buf_add (b, s, strlen (s) + 1);
}

/* The meta section of ds (layout above). */
static bool
encode_meta (const HnDataset *ds, Buf *meta)
{
  for (int i = 0; i < ds->n; i++)
    {
      uint8_t l[8] = { ds->labels[i].age, ds->labels[i].gender, ds->labels[i].race,
                       ds->labels[i].never_val };
      put_u32 (l + 4, ds->labels[i].split_key);
      buf_add (meta, l, sizeof l);
    }
  for (int i = 0; i < ds->n; i++)
    buf_add_str (meta, ds->names[i]);
  for (int i = 0; i < ds->n_skipped; i++)
    {
      buf_add_str (meta, ds->skipped[i].file);
      buf_add_str (meta, ds->skipped[i].reason);
    }
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      uint8_t g[5] = { [4] = ds->duplicates[i].conflicting };
      put_u32 (g, (uint32_t) ds->duplicates[i].n_files);
      buf_add (meta, g, sizeof g);
      for (int j = 0; j < ds->duplicates[i].n_files; j++)
        buf_add_str (meta, ds->duplicates[i].files[j]);
    }
  return meta->ok;
}

/* The header h (CACHE_HEADER_BYTES) of ds under key, with meta and pixel_bytes of pixels. */
static void
encode_header (const HnDataset *ds, const uint8_t *key, const Buf *meta, size_t pixel_bytes,
               uint8_t *h)
{
  memset (h, 0, CACHE_HEADER_BYTES);
  memcpy (h, CACHE_MAGIC, 8);
  put_u32 (h + 8, CACHE_VERSION);
  put_u32 (h + 12, (uint32_t) ds->size);
  memcpy (h + 16, key, SHA1_DIGEST_BYTES);
  put_u32 (h + 36, (uint32_t) ds->n);
  put_u32 (h + 40, (uint32_t) ds->n_skipped);
  put_u32 (h + 44, (uint32_t) ds->n_duplicates);
  put_u64 (h + 48, meta->len);
  put_u64 (h + 56, pixel_bytes);
  sha1 (meta->data, meta->len, h + 64);
  put_u64 (h + 84, cache_pixel_hash (ds->pixels, pixel_bytes));
  sha1 (h, 92, h + 92);
}

bool
cache_write (const HnDataset *ds, const char *path, const uint8_t key[SHA1_DIGEST_BYTES],
             const atomic_bool *cancel, HnError *err)
{
  Buf meta = { .ok = true };
  bool ok = encode_meta (ds, &meta) || hn_error_set (err, "out of memory");
  if (ok)
    {
      size_t pixel_bytes = (size_t) ds->n * ds->size * ds->size * 3;
      uint8_t h[CACHE_HEADER_BYTES];
      encode_header (ds, key, &meta, pixel_bytes, h);
      HnChunk chunks[] = { { h, sizeof h }, { meta.data, meta.len }, { ds->pixels, pixel_bytes } };
      ok = file_replace (path, chunks, 3, false, cancel, err);
    }
  free (meta.data);
  return ok;
}
