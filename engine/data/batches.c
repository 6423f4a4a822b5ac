#include "batches.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* Streams of the seed, kept apart so that changing one use never shifts another. */
#define STREAM_PERMUTATION 0x5045524dULL /* "PERM" */

typedef struct
{
  HnBatch batch;
  int epoch, index; /* what it holds, −1 when nothing */
  bool ready;
} Slot;

struct HnBatcher
{
  const HnDataset *ds;
  int *indices; /* (n) data-set indices this batcher draws from */
  int n, batch_size, batches;
  uint64_t seed;
  bool shuffle;
  HnAugment augment;

  /* owned by the worker thread */
  int *order; /* (n) the permutation of perm_epoch */
  int perm_epoch;

  pthread_t worker;
  pthread_mutex_t lock;
  pthread_cond_t changed;
  Slot slots[2];
  int job_slot;         /* slot the worker should fill next, −1 none */
  int job_epoch, job_index;
  bool quit;
};

static bool
alloc_batch (HnBatch *b, int n, int size)
{
  b->x = malloc (sizeof (float) * 3 * size * size * n);
  b->age = malloc (sizeof (float) * n);
  b->gender = malloc (sizeof (float) * n);
  b->race = malloc (sizeof (int32_t) * n);
  return b->x && b->age && b->gender && b->race;
}

static void
free_batch (HnBatch *b)
{
  free (b->x);
  free (b->age);
  free (b->gender);
  free (b->race);
}

/* The worker's permutation for an epoch: Fisher–Yates from the seed's permutation stream. */
static const int *
epoch_order (HnBatcher *b, int epoch)
{
  if (b->perm_epoch == epoch)
    return b->order;
  for (int i = 0; i < b->n; i++)
    b->order[i] = i;
  if (b->shuffle)
    {
      HnRng rng = { .seed = rng_splitmix64 (b->seed ^ STREAM_PERMUTATION, (uint64_t) epoch) };
      for (int i = b->n - 1; i > 0; i--)
        {
          int j = (int) rng_below (&rng, (uint32_t) i + 1);
          int t = b->order[i];
          b->order[i] = b->order[j];
          b->order[j] = t;
        }
    }
  b->perm_epoch = epoch;
  return b->order;
}

static void
build (HnBatcher *b, HnBatch *out, int epoch, int index)
{
  const int *order = epoch_order (b, epoch);
  const int first = index * b->batch_size;
  const int n = first + b->batch_size <= b->n ? b->batch_size : b->n - first;
  const int size = b->ds->size;
  const size_t pixels = (size_t) size * size * 3;
  out->n = n;
  for (int i = 0; i < n; i++)
    {
      const int position = first + i, item = b->indices[order[position]];
      const HnFaceLabels *l = &b->ds->labels[item];
      augment_image (b->ds->pixels + pixels * item, size, &b->augment,
                     augment_seed (b->seed, epoch, item), out->x + (size_t) i * pixels);
      out->age[i] = l->age;
      out->gender[i] = l->gender;
      out->race[i] = l->race;
    }
}

static void *
worker_main (void *data)
{
  HnBatcher *b = data;
  pthread_mutex_lock (&b->lock);
  for (;;)
    {
      while (!b->quit && b->job_slot < 0)
        pthread_cond_wait (&b->changed, &b->lock);
      if (b->quit)
        break;
      Slot *s = &b->slots[b->job_slot];
      int epoch = b->job_epoch, index = b->job_index;
      b->job_slot = -1;
      pthread_mutex_unlock (&b->lock);
      build (b, &s->batch, epoch, index);
      pthread_mutex_lock (&b->lock);
      s->ready = true;
      pthread_cond_broadcast (&b->changed);
    }
  pthread_mutex_unlock (&b->lock);
  return NULL;
}

/* Frees what batcher_new allocated (the thread is not running). */
static void
release (HnBatcher *b)
{
  for (int i = 0; i < 2; i++)
    free_batch (&b->slots[i].batch);
  free (b->indices);
  free (b->order);
  free (b);
}

HnBatcher *
batcher_new (const HnDataset *ds, const int *indices, int n_indices, int batch, uint64_t seed,
             bool shuffle, HnAugment augment, HnError *err)
{
  if (n_indices < 2)
    {
      hn_error_set (err, "%d images are too few to train or evaluate on (at least 2 needed)",
                    n_indices);
      return NULL;
    }
  if (batch < 2)
    {
      hn_error_set (err, "batch size %d: must be at least 2", batch);
      return NULL;
    }
  HnBatcher *b = calloc (1, sizeof *b);
  if (b == NULL)
    {
      hn_error_set (err, "out of memory");
      return NULL;
    }
  b->ds = ds;
  b->n = n_indices;
  b->batch_size = batch < n_indices ? batch : n_indices;
  b->batches = (n_indices + b->batch_size - 1) / b->batch_size;
  if (n_indices % b->batch_size == 1)
    b->batches--; /* a lone last image */
  b->seed = seed;
  b->shuffle = shuffle;
  b->augment = augment;
  b->perm_epoch = -1;
  b->job_slot = -1;
  b->indices = malloc (sizeof (int) * n_indices);
  b->order = malloc (sizeof (int) * n_indices);
  bool ok = b->indices && b->order;
  for (int i = 0; i < 2; i++)
    {
      b->slots[i].epoch = b->slots[i].index = -1;
      ok = alloc_batch (&b->slots[i].batch, b->batch_size, ds->size) && ok;
    }
  if (!ok)
    {
      release (b);
      hn_error_set (err, "out of memory for batches of %d images at %d×%d", batch, ds->size,
                    ds->size);
      return NULL;
    }
  memcpy (b->indices, indices, sizeof (int) * n_indices);
  pthread_mutex_init (&b->lock, NULL);
  pthread_cond_init (&b->changed, NULL);
  if (pthread_create (&b->worker, NULL, worker_main, b) != 0)
    {
      pthread_mutex_destroy (&b->lock);
      pthread_cond_destroy (&b->changed);
      release (b);
      hn_error_set (err, "cannot start the data thread");
      return NULL;
    }
  return b;
}

void
batcher_free (HnBatcher *b)
{
  if (b == NULL)
    return;
  pthread_mutex_lock (&b->lock);
  b->quit = true;
  pthread_cond_broadcast (&b->changed);
  pthread_mutex_unlock (&b->lock);
  pthread_join (b->worker, NULL);
  pthread_mutex_destroy (&b->lock);
  pthread_cond_destroy (&b->changed);
  release (b);
}

int
batcher_batches_per_epoch (const HnBatcher *b)
{
  return b->batches;
}

int
batcher_images (const HnBatcher *b)
{
  return b->n;
}

int
batcher_batch_size (const HnBatcher *b)
{
  return b->batch_size;
}

int
batcher_image_size (const HnBatcher *b)
{
  return b->ds->size;
}

/* Called with the lock held: the worker should fill slot s with (epoch, index). The worker
 * takes one job at a time, so wait until it has taken the previous one. */
static void
post_job (HnBatcher *b, int s, int epoch, int index)
{
  while (b->job_slot >= 0)
    pthread_cond_wait (&b->changed, &b->lock);
  b->slots[s].epoch = epoch;
  b->slots[s].index = index;
  b->slots[s].ready = false;
  b->job_slot = s;
  b->job_epoch = epoch;
  b->job_index = index;
  pthread_cond_broadcast (&b->changed);
}

const HnBatch *
batcher_get (HnBatcher *b, int epoch, int index)
{
  HN_ASSERT (index >= 0 && index < b->batches && epoch >= 0);
  pthread_mutex_lock (&b->lock);
  /* the caller is done with the batch it held: both slots may be reused */
  int s = -1;
  for (int i = 0; i < 2; i++)
    if (b->slots[i].epoch == epoch && b->slots[i].index == index)
      s = i;
  if (s < 0)
    {
      /* not prefetched (a jump, or the first call): wait until the worker is idle and its
       * last slot is complete, then ask for this one */
      while (b->job_slot >= 0 || !(b->slots[0].ready || b->slots[0].epoch < 0)
             || !(b->slots[1].ready || b->slots[1].epoch < 0))
        pthread_cond_wait (&b->changed, &b->lock);
      s = 0;
      post_job (b, s, epoch, index);
    }
  while (!b->slots[s].ready)
    pthread_cond_wait (&b->changed, &b->lock);

  /* start on the following batch in the other slot */
  int next_epoch = index + 1 < b->batches ? epoch : epoch + 1;
  int next_index = index + 1 < b->batches ? index + 1 : 0;
  int other = 1 - s;
  while (!(b->slots[other].ready || b->slots[other].epoch < 0))
    pthread_cond_wait (&b->changed, &b->lock);
  if (b->slots[other].epoch != next_epoch || b->slots[other].index != next_index)
    post_job (b, other, next_epoch, next_index);
  pthread_mutex_unlock (&b->lock);
  return &b->slots[s].batch;
}
