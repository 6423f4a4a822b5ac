/* batches.h — network-ready batches from a data set, built ahead on a background thread.
 *
 * Batch k of epoch e is a pure function of (seed, e, k): the epoch's permutation comes from
 * the seed, and so does each image's augmentation. A run paused, resumed or restarted from a
 * checkpoint therefore sees exactly the batches an uninterrupted run would. While the trainer
 * works on batch k, a worker thread builds batch k + 1, so the trainer never waits on data.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "augment.h"
#include "dataset.h"
#include "error.h"

typedef struct
{
  int n;          /* images in this batch */
  float *x;       /* (n, 3, S, S) normalised */
  float *age;     /* (n) years */
  float *gender;  /* (n) 0 or 1 */
  int32_t *race;  /* (n) 0…4 */
} HnBatch;

typedef struct HnBatcher HnBatcher;

/* Batches of `batch` images over ds's images `indices` (copied). shuffle: a fresh permutation
 * per epoch; otherwise data-set order. A last batch of a single image is dropped (batch-norm
 * cannot train on one), as in the reference. */
HnBatcher *batcher_new (const HnDataset *ds, const int *indices, int n_indices, int batch,
                        uint64_t seed, bool shuffle, HnAugment augment, HnError *err);
void batcher_free (HnBatcher *b);

int batcher_batches_per_epoch (const HnBatcher *b);
int batcher_images (const HnBatcher *b);
int batcher_batch_size (const HnBatcher *b); /* images in a full batch */
int batcher_image_size (const HnBatcher *b); /* S */

/* Batch `index` of `epoch`. The pointer stays valid until the next call. Starts building
 * the following batch (the next epoch's first after the last) before returning. */
const HnBatch *batcher_get (HnBatcher *b, int epoch, int index);
