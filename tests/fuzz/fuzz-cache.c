/* fuzz-cache.c — a data set's cache file: cache_read (engine/data/cache.c).
 *
 * The cache hashes its own parts (SHA-1 over the header and over the labels, a checksum over
 * the pixels), so random bytes never get past the hashes to the parser behind them. This
 * target makes the input's hashes right before writing it: the pixel section is as long as
 * the header says when that fits, the meta section is whatever lies between the header and
 * the pixels (so inserting or erasing bytes keeps the file consistent), and the meta hash,
 * pixel checksum and header hash are computed over them. The key expected is the file's own
 * and the size its own when it is one a data set can have, so that every input reaches the
 * section sizes and parse_meta — the parts a torn or foreign file could still get wrong. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "dataset-private.h"
#include "labels.h"

const char fuzz_target_name[] = "cache";

#define HEADER 112 /* CACHE_HEADER_BYTES */
#define WHY_LEN 64

static uint64_t
get_u64 (const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

static void
put_u64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

/* The hashes of file (size ≥ HEADER) made right, and its section sizes consistent. */
static void
fix_up (uint8_t *file, size_t size)
{
  uint64_t pixels = get_u64 (file + 56);
  if (pixels > size - HEADER)
    put_u64 (file + 56, pixels = size - HEADER);
  uint64_t meta = size - HEADER - pixels;
  put_u64 (file + 48, meta);
  sha1 (file + HEADER, meta, file + 64);
  put_u64 (file + 84, cache_pixel_hash (file + HEADER + meta, pixels));
  sha1 (file, 92, file + 92);
}

static void
check_dataset (const HnDataset *ds, int size)
{
  FUZZ_CHECK (ds->size == size && ds->n >= 0 && ds->pixels != NULL && ds->from_cache);
  for (int i = 0; i < ds->n; i++)
    FUZZ_CHECK (ds->labels[i].age <= LABEL_MAX_AGE && ds->labels[i].gender <= 1
                && ds->labels[i].race <= 4 && ds->names[i] != NULL);
  for (int i = 0; i < ds->n_skipped; i++)
    FUZZ_CHECK (ds->skipped[i].file != NULL && ds->skipped[i].reason != NULL);
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      FUZZ_CHECK (ds->duplicates[i].n_files >= 2);
      for (int j = 0; j < ds->duplicates[i].n_files; j++)
        FUZZ_CHECK (ds->duplicates[i].files[j] != NULL);
    }
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  uint8_t *file = malloc (size > 0 ? size : 1), key[SHA1_DIGEST_BYTES] = { 0 };
  char *why = malloc (WHY_LEN); /* exactly WHY_LEN on the heap, so ASan sees an overrun */
  if (file == NULL || why == NULL)
    abort ();
  memcpy (file, data, size);
  int s = 32;
  if (size >= HEADER)
    {
      fix_up (file, size);
      memcpy (key, file + 16, sizeof key);
      uint32_t declared = (uint32_t) file[12] | (uint32_t) file[13] << 8
                          | (uint32_t) file[14] << 16 | (uint32_t) file[15] << 24;
      if (declared >= 1 && declared <= 128)
        s = (int) declared;
    }
  fuzz_put ("dataset.cache", file, size);
  char *path = fuzz_path ("dataset.cache");
  HnDataset *ds = cache_read (path, key, s, why, WHY_LEN);
  if (ds != NULL)
    check_dataset (ds, s);
  else
    FUZZ_CHECK (why[0] != '\0' && memchr (why, '\0', WHY_LEN) != NULL);
  fuzz_note (ds != NULL ? "" : why);
  dataset_free (ds);
  free (path);
  free (why);
  free (file);
  return 0;
}
