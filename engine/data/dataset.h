/* dataset.h — face images with their labels, preprocessed once and kept in memory.
 *
 * A data set is either a UTKFace folder (AGE_GENDER_RACE_DATETIME.jpg.chip.jpg, README.md)
 * or the built-in synthetic faces (synth.h). Either way it ends up as the same thing: every
 * usable image decoded, centre-cropped and resized to S×S once, as 8-bit RGB — normalisation
 * and augmentation happen per batch (batches.h) — with its labels and a split key.
 *
 * The train/validation split is by content: an image is in validation iff
 * split_key % 100 < val_percent, where split_key is the first 8 hex digits of the SHA-1 of
 * the file's bytes (the reference script's rule), so copies of one image never straddle the
 * split and the percentage can change without reloading.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "labels.h"

typedef struct
{
  uint8_t age;        /* years, 0…116 */
  uint8_t gender;     /* 0 male, 1 female */
  uint8_t race;       /* 0 white, 1 black, 2 asian, 3 indian, 4 other */
  bool never_val;     /* a copy whose labels conflict with another copy's: kept out of
                       * validation, where it would make any answer half wrong */
  uint32_t split_key; /* SHA-1 prefix of the file's bytes (synthetic: a hash of its index) */
} HnFaceLabels;

typedef struct
{
  char *file;   /* name within the folder, as the bytes on disk: not always UTF-8 (a GUI
                 * shows it through g_filename_display_name or the like) */
  char *reason; /* why it was skipped, for a person; always UTF-8 */
} HnSkippedFile;

typedef struct
{
  char **files; /* the names of byte-identical files, first one kept */
  int n_files;
  bool conflicting; /* their names disagree on age, gender or race */
} HnDuplicateGroup;

/* Shared with another thread while loading: it may read done/total for a progress bar and
 * set cancel to stop the load (which then fails with "cancelled"). */
typedef struct
{
  atomic_int done;
  atomic_int total;
  atomic_bool cancel;
} HnLoadProgress;

typedef struct HnDatasetPrivate HnDatasetPrivate;

typedef struct
{
  int size;               /* S */
  int n;                  /* usable images */
  const uint8_t *pixels;  /* (n, S, S, 3) RGB, after crop and resize */
  HnFaceLabels *labels;   /* (n) */
  char **names;           /* (n) file names within the folder; NULL for synthetic faces */
  HnSkippedFile *skipped; /* files that are not used, with their reasons */
  int n_skipped;
  HnDuplicateGroup *duplicates;
  int n_duplicates;
  bool from_cache;        /* true when the pixels came from the cache file */
  HnDatasetPrivate *priv;
} HnDataset;

/* Scans dir, parses names strictly, decodes on `threads` threads (0: all cores), and keeps
 * the pixels in a cache file under cache_dir (NULL: $XDG_CACHE_HOME/hydranet-studio or
 * ~/.cache/hydranet-studio; "": no cache). A missing, unreadable or empty folder is an
 * error; single bad files are skipped with their reasons. progress may be NULL. */
HnDataset *dataset_open_folder (const char *dir,
                                int size,
                                const char *cache_dir,
                                int threads,
                                HnLoadProgress *progress,
                                HnError *err);

/* The sizes a folder can be preprocessed to: 32, 64, 96 or 128. */
static inline bool
dataset_size_supported (int size)
{
  return size == 32 || size == 64 || size == 96 || size == 128;
}

/* Frees everything a data set owns, priv included (through dataset_private_free). NULL-safe. */
void dataset_free (HnDataset *ds);

/* What a folder's data set keeps beyond the public fields (its cache file's name and what
 * happened to it). NULL-safe, so synthetic data sets may leave priv NULL. */
void dataset_private_free (HnDatasetPrivate *priv);

/* The cache file the data set came from or was saved to (NULL when caching was off or the
 * cache folder is unknown), and one sentence on what happened to it: "read", "written",
 * "rebuilt (…)", "not written (…)", "disabled". Owned by the data set. */
const char *dataset_cache_file (const HnDataset *ds);
const char *dataset_cache_status (const HnDataset *ds);

static inline bool
dataset_is_val (const HnDataset *ds, int i, int val_percent)
{
  return !ds->labels[i].never_val && ds->labels[i].split_key % 100u < (unsigned) val_percent;
}

/* Counts the split: indices of the training and validation images, in data-set order.
 * Arrays of ds->n ints, owned by the caller; either may be NULL to count only. */
void dataset_split (const HnDataset *ds, int val_percent, int *train, int *n_train, int *val,
                    int *n_val);
