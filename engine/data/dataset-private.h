/* dataset-private.h — what the parts of opening a UTKFace folder share: folder.c lists and
 * assembles, decode.c turns one file into pixels, duplicates.c folds copies, cache.c keeps
 * the result. Not for use outside engine/data.
 */
#pragma once

#include <stdatomic.h>
#include <sys/stat.h>

#include "dataset.h"
#include "fileio.h"
#include "image.h"
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
} FolderEntry;

/* ---- decode.c ---- */

/* What one decoding thread keeps between files. */
typedef struct
{
  HnBytes file;
  HnDecoder decoder;
} DecodeScratch;

/* False when out of memory. */
bool decode_scratch_init (DecodeScratch *s);
void decode_scratch_clear (DecodeScratch *s);

/* True once the scratch cannot decode any more (no memory for a new JPEG decoder). */
bool decode_scratch_broken (const DecodeScratch *s);

/* Reads entry e of folder dfd, hashes its bytes into e->digest, and decodes, crops and
 * resizes it into dst (size, size, 3). False with a reason (without the name) otherwise. */
bool decode_entry (int dfd, FolderEntry *e, int size, DecodeScratch *s, uint8_t *dst, HnError *err);

/* ---- duplicates.c ---- */

/* Folds byte-identical decoded files (ok: entry indices, in name order; reordered) onto
 * their first copy: the others get a reason, the first never_val if any label disagrees.
 * Fills ds->duplicates in the order of their first copies. */
bool find_duplicates (FolderEntry *entries, int *ok, int n_ok, HnDataset *ds, HnError *err);

/* ---- cache.c ---- */

/* The cache folder for cache_dir (see dataset_open_folder), or NULL for none. */
char *cache_folder (const char *cache_dir);

/* The cache file of the folder whose real path is real_dir, at size, in folder. */
char *cache_file_path (const char *folder, const char *real_dir, int size);

/* What the cache must have been made from: the format, the size, the folder's real path and
 * every entry's name and stat (zero where stat failed). */
void cache_key (const char *real_dir, int size, const FolderEntry *entries, const struct stat *st,
                int n, uint8_t key[SHA1_DIGEST_BYTES]);

/* The data set in cache file path if it holds exactly what key describes; NULL (and a
 * reason in why, empty when there was no file at all) otherwise. */
HnDataset *cache_read (const char *path, const uint8_t key[SHA1_DIGEST_BYTES], int size, char *why,
                       size_t why_len);

/* The checksum of the pixel section (cache.c says why not SHA-1). Here for the fuzz target,
 * which fixes up the hashes of the bytes it is given (tests/fuzz/fuzz-cache.c). */
uint64_t cache_pixel_hash (const uint8_t *p, size_t len);

/* Writes ds to path atomically; cancel (may be NULL) set before the end keeps the old file
 * and fails with "cancelled". */
bool cache_write (const HnDataset *ds, const char *path, const uint8_t key[SHA1_DIGEST_BYTES],
                  const atomic_bool *cancel, HnError *err);
