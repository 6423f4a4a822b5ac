/* jobs.c — many synthetic faces on many threads, into memory or into a folder of files.
 *
 * Workers take FACES_PER_TAKE indices at a time from a shared counter; since each face is a
 * pure function of its index, which thread draws it changes nothing.
 */
#include "synth.h"
#include "synth-private.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "fileio.h"

#define JPEG_QUALITY 90
#define FACES_PER_TAKE 8

typedef struct
{
  uint64_t seed;
  int count, size;
  /* in memory: */
  uint8_t *pixels;      /* (count, size, size, 3) */
  HnFaceLabels *labels; /* (count) */
  /* or into a folder: */
  const char *dir;
  HnSynthFormat format;

  HnLoadProgress *progress;
  atomic_int next;
  atomic_bool stop;     /* a worker failed or the caller cancelled */
  pthread_mutex_t lock; /* guards err and failed */
  bool failed;
  HnError err;
} Job;

static void
job_fail (Job *job, const HnError *err)
{
  pthread_mutex_lock (&job->lock);
  if (!job->failed)
    job->err = *err, job->failed = true;
  pthread_mutex_unlock (&job->lock);
  atomic_store (&job->stop, true);
}

void
synth_file_name (const HnFaceLabels *labels, uint32_t index, HnSynthFormat format, char *name,
                 int len)
{
  time_t t = (time_t) 1483228800 + (time_t) index; /* 2017-01-01 00:00:00 UTC */
  struct tm tm;
  gmtime_r (&t, &tm);
  snprintf (name, (size_t) len, "%d_%d_%d_%04d%02d%02d%02d%02d%02d%03u%s", labels->age,
            labels->gender, labels->race, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, index % 1000u, format == SYNTH_PNG ? ".png" : ".jpg.chip.jpg");
}

/* A face file being encoded, grown by stb_image_write's callback. */
typedef struct
{
  HnBytes bytes;
  bool oom;
} Encoded;

static void
encoded_append (void *context, void *data, int len)
{
  Encoded *e = context;
  HnBytes *b = &e->bytes;
  if (e->oom || len <= 0)
    return;
  if (b->len + (size_t) len > b->cap)
    {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + (size_t) len)
        cap *= 2;
      uint8_t *grown = realloc (b->data, cap);
      if (grown == NULL)
        {
          e->oom = true;
          return;
        }
      b->data = grown, b->cap = cap;
    }
  memcpy (b->data + b->len, data, (size_t) len);
  b->len += (size_t) len;
}

/* Encodes a face and writes it into the job's folder under its UTKFace name. Each file is
 * replaced whole (file_replace), so a failed write or a killed process never leaves half a
 * face; no fsync, since any face can be drawn again from the seed. */
static bool
save_face (const Job *job, uint32_t index, const uint8_t *rgb, const HnFaceLabels *labels,
           Encoded *buf, HnError *err)
{
  char name[64], *path = NULL;
  synth_file_name (labels, index, job->format, name, sizeof name);
  buf->bytes.len = 0;
  int s = job->size;
  int ok = job->format == SYNTH_PNG
               ? stbi_write_png_to_func (encoded_append, buf, s, s, 3, rgb, s * 3)
               : stbi_write_jpg_to_func (encoded_append, buf, s, s, 3, rgb, JPEG_QUALITY);
  if (!ok || buf->oom)
    return hn_error_set (err, "cannot encode %s (out of memory)", name);
  if (asprintf (&path, "%s/%s", job->dir, name) < 0)
    return hn_error_set (err, "out of memory");
  HnChunk all = { buf->bytes.data, buf->bytes.len };
  bool written = file_replace (path, &all, 1, false, NULL, err);
  free (path);
  return written;
}

static void *
worker_main (void *data)
{
  Job *job = data;
  HnError err;
  Canvas cv;
  if (!canvas_init (&cv, job->size, &err))
    {
      job_fail (job, &err);
      return NULL;
    }
  uint8_t *scratch = NULL;
  HnFaceLabels scratch_labels;
  Encoded buf = { 0 };
  if (job->pixels == NULL && (scratch = malloc ((size_t) job->size * job->size * 3)) == NULL)
    {
      hn_error_set (&err, "out of memory");
      job_fail (job, &err);
      canvas_clear (&cv);
      return NULL;
    }

  size_t face_bytes = (size_t) job->size * job->size * 3;
  while (!atomic_load (&job->stop))
    {
      int first = atomic_fetch_add (&job->next, FACES_PER_TAKE);
      if (first >= job->count)
        break;
      int last = first + FACES_PER_TAKE < job->count ? first + FACES_PER_TAKE : job->count;
      for (int i = first; i < last; i++)
        {
          if (atomic_load (&job->progress->cancel))
            {
              hn_error_set (&err, "cancelled");
              job_fail (job, &err);
              break;
            }
          if (atomic_load (&job->stop))
            break;
          uint8_t *rgb = scratch ? scratch : job->pixels + (size_t) i * face_bytes;
          HnFaceLabels *labels = scratch ? &scratch_labels : job->labels + i;
          if (!face_with_canvas (job->seed, (uint32_t) i, job->size, &cv, rgb, labels, &err)
              || (scratch && !save_face (job, (uint32_t) i, rgb, labels, &buf, &err)))
            {
              job_fail (job, &err);
              break;
            }
          atomic_fetch_add (&job->progress->done, 1);
        }
    }
  bytes_clear (&buf.bytes);
  free (scratch);
  canvas_clear (&cv);
  return NULL;
}

/* Runs the job on `threads` threads (≤ 0: one per online CPU), the caller's included. */
static bool
job_run (Job *job, int threads, HnLoadProgress *progress, HnError *err)
{
  HnLoadProgress local = { 0 };
  job->progress = progress ? progress : &local;
  atomic_store (&job->progress->total, job->count);
  atomic_store (&job->progress->done, 0);
  atomic_init (&job->next, 0);
  atomic_init (&job->stop, false);
  job->failed = false;
  pthread_mutex_init (&job->lock, NULL);

  if (threads <= 0)
    {
      long online = sysconf (_SC_NPROCESSORS_ONLN);
      threads = online > 0 ? (int) online : 1;
    }
  int max_useful = (job->count + FACES_PER_TAKE - 1) / FACES_PER_TAKE;
  if (threads > max_useful)
    threads = max_useful;
  if (threads > 256)
    threads = 256;

  /* If a thread cannot be started the others simply take its share. */
  pthread_t tids[256];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create (&tids[started], NULL, worker_main, job) == 0)
      started++;
  worker_main (job);
  for (int t = 0; t < started; t++)
    pthread_join (tids[t], NULL);
  pthread_mutex_destroy (&job->lock);

  if (job->failed)
    {
      if (err)
        *err = job->err;
      return false;
    }
  return true;
}

static bool
check_request (int count, int size, HnError *err)
{
  if (count < 1)
    return hn_error_set (err, "asked for %d synthetic faces; at least 1 is needed", count);
  if (size < SYNTH_MIN_SIZE || size > SYNTH_MAX_SIZE)
    return hn_error_set (err, "synthetic faces are %d to %d pixels wide, not %d", SYNTH_MIN_SIZE,
                         SYNTH_MAX_SIZE, size);
  return true;
}

HnDataset *
dataset_new_synthetic (int count, uint64_t seed, int size, int threads, HnLoadProgress *progress,
                       HnError *err)
{
  if (!check_request (count, size, err))
    return NULL;
  size_t face_bytes = (size_t) size * size * 3;
  HnDataset *ds = calloc (1, sizeof *ds);
  uint8_t *pixels = malloc ((size_t) count * face_bytes);
  HnFaceLabels *labels = malloc ((size_t) count * sizeof *labels);
  if (ds == NULL || pixels == NULL || labels == NULL)
    {
      free (ds), free (pixels), free (labels);
      hn_error_set (err, "out of memory for %d synthetic faces of %d×%d", count, size, size);
      return NULL;
    }
  Job job = { .seed = seed, .count = count, .size = size, .pixels = pixels, .labels = labels };
  if (!job_run (&job, threads, progress, err))
    {
      free (ds), free (pixels), free (labels);
      return NULL;
    }
  /* Everything else stays NULL / 0: no names, nothing skipped, no duplicates, no priv. */
  ds->size = size;
  ds->n = count;
  ds->pixels = pixels;
  ds->labels = labels;
  return ds;
}

bool
synth_write_folder (const char *dir, int count, uint64_t seed, int size, HnSynthFormat format,
                    int threads, HnLoadProgress *progress, HnError *err)
{
  if (!check_request (count, size, err))
    return false;
  if (dir[0] == '\0')
    return hn_error_set (err, "no output folder given");
  if (!file_make_dirs (dir, 0777, err))
    return false;
  Job job = { .seed = seed, .count = count, .size = size, .dir = dir, .format = format };
  return job_run (&job, threads, progress, err);
}
