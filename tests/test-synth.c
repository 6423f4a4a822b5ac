/* test-synth.c — the built-in synthetic faces.
 *
 * What must hold: a face is a pure function of (seed, index, size); the labels have
 * UTKFace's rough distribution; the labels can be learned from the pixels (a ridge
 * regression on 8×8 thumbnails beats guessing for every head, which it could not if the
 * drawing ignored the labels) but not perfectly; folders hold decodable images under
 * UTKFace names; errors and cancelling are reported; the in-memory data set is
 * consistent with synth_face.
 */
#include "test-util.h"

#include "dataset.h"
#include "image.h"
#include "synth.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t *
face (uint64_t seed, uint32_t index, int size, HnFaceLabels *labels)
{
  uint8_t *rgb = malloc ((size_t) size * size * 3);
  HnFaceLabels scratch;
  HnError err;
  ck_assert_msg (synth_face (seed, index, size, rgb, labels ? labels : &scratch, &err), "%s",
                 err.message);
  return rgb;
}

static bool
same_labels (const HnFaceLabels *a, const HnFaceLabels *b)
{
  return a->age == b->age && a->gender == b->gender && a->race == b->race
         && a->never_val == b->never_val && a->split_key == b->split_key;
}

START_TEST (test_deterministic)
{
  HnFaceLabels l1, l2, l3;
  size_t n = 32 * 32 * 3;
  uint8_t *a = face (42, 7, 32, &l1), *b = face (42, 7, 32, &l2);
  ck_assert_msg (memcmp (a, b, n) == 0, "same (seed, index, size) gave different pixels");
  ck_assert (same_labels (&l1, &l2));

  uint8_t *c = face (43, 7, 32, NULL), *d = face (42, 8, 32, NULL);
  ck_assert_msg (memcmp (a, c, n) != 0, "another seed gave the same face");
  ck_assert_msg (memcmp (a, d, n) != 0, "another index gave the same face");

  /* Labels (and the split key) depend on (seed, index) only. */
  synth_labels (42, 7, &l3);
  ck_assert (same_labels (&l1, &l3));
  uint8_t *e = face (42, 7, 64, &l3);
  ck_assert (same_labels (&l1, &l3));
  ck_assert_uint_eq (l1.never_val, false);
  free (a), free (b), free (c), free (d), free (e);
}
END_TEST

/* Every size draws a face: not flat, and not a scaled copy of noise. */
START_TEST (test_sizes)
{
  static const int sizes[] = { SYNTH_MIN_SIZE, 32, 50, 64, 128, SYNTH_MAX_SIZE };
  int size = sizes[_i];
  uint8_t *rgb = face (3, 11, size, NULL);
  size_t n = (size_t) size * size * 3;
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < n; i++)
    sum += rgb[i], sum2 += (double) rgb[i] * rgb[i];
  double mean = sum / n, sd = sqrt (sum2 / n - mean * mean);
  ck_assert_msg (mean > 30 && mean < 225 && sd > 15, "size %d: mean %.1f sd %.1f", size, mean, sd);

  /* The same face at 32 and at this size, brought to 8×8, looks alike (the drawing is
   * resolution-independent; only noise and rounding differ). */
  uint8_t *small = face (3, 11, 32, NULL);
  HnImage big = { size, size, rgb }, ref = { 32, 32, small };
  uint8_t t1[8 * 8 * 3], t2[8 * 8 * 3];
  ck_assert (image_crop_resize (&big, 8, t1, NULL));
  ck_assert (image_crop_resize (&ref, 8, t2, NULL));
  double diff = 0;
  for (int i = 0; i < 8 * 8 * 3; i++)
    diff += abs (t1[i] - t2[i]);
  diff /= 8 * 8 * 3;
  ck_assert_msg (diff < (size == SYNTH_MIN_SIZE ? 20.0 : 8.0),
                 "size %d vs 32: mean |Δ| %.1f on 8×8", size, diff);
  free (rgb), free (small);
}
END_TEST

START_TEST (test_label_distribution)
{
  const int N = 3000;
  int gender[2] = { 0 }, race[5] = { 0 }, infants = 0, adults = 0, over80 = 0, val = 0;
  double age_sum = 0;
  for (uint32_t i = 0; i < N; i++)
    {
      HnFaceLabels l;
      synth_labels (5, i, &l);
      ck_assert_msg (l.age >= 1 && l.age <= 100, "face %u: age %d", i, l.age);
      ck_assert_int_le (l.gender, 1);
      ck_assert_int_le (l.race, 4);
      gender[l.gender]++;
      race[l.race]++;
      infants += l.age <= 5;
      adults += l.age >= 20 && l.age <= 39;
      over80 += l.age >= 80;
      val += l.split_key % 100 < 20;
      age_sum += l.age;
    }
  /* Targets: UTKFace's shares. Tolerances are several standard errors wide. */
  static const double race_share[5] = { 0.425, 0.19, 0.147, 0.166, 0.072 };
  ck_assert_msg (fabs (gender[1] / (double) N - 0.5) < 0.04, "female share %d/%d", gender[1], N);
  for (int r = 0; r < 5; r++)
    ck_assert_msg (fabs (race[r] / (double) N - race_share[r]) < 0.035, "race %d share %d/%d", r,
                   race[r], N);
  ck_assert_msg (infants > 0.07 * N && infants < 0.14 * N, "%d aged 1–5", infants);
  ck_assert_msg (adults > 0.42 * N && adults < 0.58 * N, "%d aged 20–39", adults);
  ck_assert_msg (over80 > 0.01 * N && over80 < 0.07 * N, "%d aged 80+", over80);
  ck_assert_msg (fabs (age_sum / N - 33.0) < 4.0, "mean age %.1f", age_sum / N);
  ck_assert_msg (val > 0.17 * N && val < 0.23 * N, "%d of %d in a 20%% validation split", val, N);
}
END_TEST

/* Solves (A + λI) x = b for symmetric positive definite A (n, n) by Cholesky, in place:
 * A becomes L, b becomes x. */
static void
ridge_solve (double *a, double *b, int n, double lambda)
{
  for (int i = 0; i < n; i++)
    a[i * n + i] += lambda;
  for (int j = 0; j < n; j++)
    {
      double s = a[j * n + j];
      for (int k = 0; k < j; k++)
        s -= a[j * n + k] * a[j * n + k];
      ck_assert (s > 0);
      a[j * n + j] = sqrt (s);
      for (int i = j + 1; i < n; i++)
        {
          double t = a[i * n + j];
          for (int k = 0; k < j; k++)
            t -= a[i * n + k] * a[j * n + k];
          a[i * n + j] = t / a[j * n + j];
        }
    }
  for (int i = 0; i < n; i++) /* L y = b */
    {
      for (int k = 0; k < i; k++)
        b[i] -= a[i * n + k] * b[k];
      b[i] /= a[i * n + i];
    }
  for (int i = n - 1; i >= 0; i--) /* Lᵀ x = y */
    {
      for (int k = i + 1; k < n; k++)
        b[i] -= a[k * n + i] * b[k];
      b[i] /= a[i * n + i];
    }
}

enum
{
  THUMB = 8,
  N_FEATURES = THUMB * THUMB * 3 + 1, /* + a constant */
  N_TARGETS = 1 + 1 + 5,              /* age, gender, one-vs-rest race */
};

/* Fits x → y by ridge regression on rows [0, n_train) and returns the predictions for
 * rows [n_train, n). x (n, N_FEATURES), y (n, N_TARGETS), pred (n − n_train, N_TARGETS). */
static void
ridge (const double *x, const double *y, int n, int n_train, double *pred)
{
  double *xtx = calloc (N_FEATURES * N_FEATURES, sizeof *xtx);
  double *xty = calloc (N_FEATURES * N_TARGETS, sizeof *xty);
  for (int r = 0; r < n_train; r++)
    for (int i = 0; i < N_FEATURES; i++)
      {
        for (int j = 0; j < N_FEATURES; j++)
          xtx[i * N_FEATURES + j] += x[r * N_FEATURES + i] * x[r * N_FEATURES + j];
        for (int t = 0; t < N_TARGETS; t++)
          xty[t * N_FEATURES + i] += x[r * N_FEATURES + i] * y[r * N_TARGETS + t];
      }
  double *l = malloc (N_FEATURES * N_FEATURES * sizeof *l);
  for (int t = 0; t < N_TARGETS; t++)
    {
      memcpy (l, xtx, N_FEATURES * N_FEATURES * sizeof *l);
      double *w = xty + t * N_FEATURES;
      ridge_solve (l, w, N_FEATURES, 1.0 * n_train / 100.0);
      for (int r = n_train; r < n; r++)
        {
          double s = 0;
          for (int i = 0; i < N_FEATURES; i++)
            s += x[r * N_FEATURES + i] * w[i];
          pred[(r - n_train) * N_TARGETS + t] = s;
        }
    }
  free (xtx), free (xty), free (l);
}

/* The point of the generator: labels can be read from the pixels, but not perfectly. A
 * linear model on 8×8 thumbnails (no network) must beat the best constant guess for every
 * head, and must not be perfect. */
START_TEST (test_labels_learnable)
{
  const int N = 1500, TRAIN = 1000, SIZE = 32;
  HnError err;
  HnDataset *ds = dataset_new_synthetic (N, 99, SIZE, 0, NULL, &err);
  ck_assert_msg (ds != NULL, "%s", err.message);
  double *x = malloc (sizeof (double) * N * N_FEATURES);
  double *y = malloc (sizeof (double) * N * N_TARGETS);
  double *pred = malloc (sizeof (double) * (N - TRAIN) * N_TARGETS);
  for (int i = 0; i < N; i++)
    {
      HnImage img = { SIZE, SIZE, (uint8_t *) ds->pixels + (size_t) i * SIZE * SIZE * 3 };
      uint8_t thumb[THUMB * THUMB * 3];
      ck_assert (image_crop_resize (&img, THUMB, thumb, NULL));
      for (int j = 0; j < THUMB * THUMB * 3; j++)
        x[i * N_FEATURES + j] = thumb[j] / 255.0 - 0.5;
      x[i * N_FEATURES + N_FEATURES - 1] = 1.0;
      const HnFaceLabels *l = &ds->labels[i];
      y[i * N_TARGETS + 0] = l->age;
      y[i * N_TARGETS + 1] = l->gender;
      for (int r = 0; r < 5; r++)
        y[i * N_TARGETS + 2 + r] = l->race == r;
    }
  ridge (x, y, N, TRAIN, pred);

  /* Baselines from the training rows: mean age (scored by MAE against the test rows'
   * ages), majority gender and race. */
  double mean_age = 0;
  int train_female = 0, train_race[5] = { 0 };
  for (int i = 0; i < TRAIN; i++)
    {
      mean_age += ds->labels[i].age / (double) TRAIN;
      train_female += ds->labels[i].gender;
      train_race[ds->labels[i].race]++;
    }
  int major_race = 0;
  for (int r = 1; r < 5; r++)
    if (train_race[r] > train_race[major_race])
      major_race = r;
  int major_gender = train_female * 2 > TRAIN;

  double mae = 0, mae_const = 0;
  int gender_ok = 0, gender_const = 0, race_ok = 0, race_const = 0;
  for (int i = TRAIN; i < N; i++)
    {
      const HnFaceLabels *l = &ds->labels[i];
      const double *p = pred + (i - TRAIN) * N_TARGETS;
      mae += fabs (p[0] - l->age);
      mae_const += fabs (mean_age - l->age);
      gender_ok += (p[1] > 0.5) == l->gender;
      gender_const += major_gender == l->gender;
      int best = 0;
      for (int r = 1; r < 5; r++)
        if (p[2 + r] > p[2 + best])
          best = r;
      race_ok += best == l->race;
      race_const += major_race == l->race;
    }
  int n_test = N - TRAIN;
  mae /= n_test, mae_const /= n_test;
  double gender_acc = gender_ok / (double) n_test, race_acc = race_ok / (double) n_test;
  fprintf (stderr,
           "synth ridge on 8×8: age MAE %.1f (constant %.1f), gender %.3f (constant %.3f), "
           "race %.3f (constant %.3f)\n",
           mae, mae_const, gender_acc, gender_const / (double) n_test, race_acc,
           race_const / (double) n_test);
  ck_assert_msg (mae < 0.85 * mae_const, "age MAE %.2f vs %.2f guessing", mae, mae_const);
  ck_assert_msg (gender_acc > gender_const / (double) n_test + 0.08, "gender accuracy %.3f",
                 gender_acc);
  ck_assert_msg (race_acc > race_const / (double) n_test + 0.15, "race accuracy %.3f", race_acc);
  ck_assert_msg (gender_acc < 0.99 && race_acc < 0.99, "a head is trivially predictable");
  free (x), free (y), free (pred);
  dataset_free (ds);
}
END_TEST

/* A trait that follows one label, measured directly: hair greys with age, so the top of
 * the head (hair, or scalp once it recedes) is lighter in its darkest channel for people
 * of 65 and over than for people of 20 to 35, most of whom have dark hair. A mean over a
 * few hundred faces, so that the other noise averages out. */
START_TEST (test_age_traits)
{
  const int N = 1200, SIZE = 32;
  HnError err;
  HnDataset *ds = dataset_new_synthetic (N, 123, SIZE, 0, NULL, &err);
  ck_assert_msg (ds != NULL, "%s", err.message);
  double light[2] = { 0 };
  int count[2] = { 0 };
  for (int i = 0; i < N; i++)
    {
      int age = ds->labels[i].age;
      int group = age >= 20 && age <= 35 ? 0 : age >= 65 ? 1 : -1;
      if (group < 0)
        continue;
      /* Top-centre band, rows 2–5, columns 12–19: min(r, g, b), which is high for grey and
       * white and low for dark or saturated colours. */
      const uint8_t *px = ds->pixels + (size_t) i * SIZE * SIZE * 3;
      double s = 0;
      for (int y = 2; y < 6; y++)
        for (int x = 12; x < 20; x++)
          {
            const uint8_t *p = px + (y * SIZE + x) * 3;
            int lo = p[0] < p[1] ? p[0] : p[1];
            s += lo < p[2] ? lo : p[2];
          }
      light[group] += s / 32.0;
      count[group]++;
    }
  for (int g = 0; g < 2; g++)
    {
      ck_assert_int_gt (count[g], 50);
      light[g] /= count[g];
    }
  fprintf (stderr, "synth top of head, min(r, g, b): 20–35 %.1f, 65+ %.1f\n", light[0], light[1]);
  ck_assert_msg (light[1] > light[0] + 25.0, "65+ %.1f vs 20–35 %.1f", light[1], light[0]);
  dataset_free (ds);
}
END_TEST

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcmp (s + n - m, suffix) == 0;
}

static void
check_folder (HnSynthFormat format)
{
  const int N = 13, SIZE = 48;
  char *tmp = test_tmpdir (), *dir = NULL;
  ck_assert (asprintf (&dir, "%s/nested/faces", tmp) > 0); /* parents created too */
  HnLoadProgress progress = { 0 };
  HnError err;
  ck_assert_msg (synth_write_folder (dir, N, 77, SIZE, format, 3, &progress, &err), "%s",
                 err.message);
  ck_assert_int_eq (atomic_load (&progress.total), N);
  ck_assert_int_eq (atomic_load (&progress.done), N);

  /* Exactly the N expected names, each a valid UTKFace name, each decoding to the face. */
  int files = 0;
  DIR *d = opendir (dir);
  ck_assert_ptr_nonnull (d);
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    {
      if (e->d_name[0] == '.')
        continue;
      files++;
      int age, gender, race, used = 0;
      char stamp[32];
      ck_assert_msg (sscanf (e->d_name, "%d_%d_%d_%17[0-9]%n", &age, &gender, &race, stamp, &used)
                         == 4,
                     "bad name %s", e->d_name);
      ck_assert_uint_eq (strlen (stamp), 17);
      ck_assert_str_eq (e->d_name + used, format == SYNTH_PNG ? ".png" : ".jpg.chip.jpg");
      ck_assert (age >= 1 && age <= 100 && gender >= 0 && gender <= 1 && race >= 0 && race <= 4);
    }
  closedir (d);
  ck_assert_int_eq (files, N);

  for (uint32_t i = 0; i < N; i++)
    {
      HnFaceLabels l;
      uint8_t *want = face (77, i, SIZE, &l);
      char name[64], *path = NULL;
      synth_file_name (&l, i, format, name, sizeof name);
      ck_assert (has_suffix (name, format == SYNTH_PNG ? ".png" : ".jpg.chip.jpg"));
      ck_assert (asprintf (&path, "%s/%s", dir, name) > 0);
      HnImage img;
      ck_assert_msg (image_decode_file (path, &img, &err), "%s: %s", name, err.message);
      ck_assert_int_eq (img.w, SIZE);
      ck_assert_int_eq (img.h, SIZE);
      double diff = 0;
      for (int j = 0; j < SIZE * SIZE * 3; j++)
        diff += abs (img.rgb[j] - want[j]);
      diff /= SIZE * SIZE * 3;
      if (format == SYNTH_PNG)
        ck_assert_msg (diff == 0.0, "%s: PNG differs from synth_face", name);
      else
        ck_assert_msg (diff < 6.0, "%s: JPEG mean |Δ| %.2f", name, diff);
      image_clear (&img);
      free (path), free (want);
    }
  test_rmtree (tmp);
  free (dir), free (tmp);
}

START_TEST (test_folder_png)
{
  check_folder (SYNTH_PNG);
}
END_TEST

START_TEST (test_folder_jpeg)
{
  check_folder (SYNTH_JPEG);
}
END_TEST

/* The folder is one dataset_open_folder reads: every file used, none skipped, the labels
 * those of the faces, and the same pixels as in memory when no resize is involved. */
START_TEST (test_folder_round_trip)
{
  const int N = 40, SIZE = 32;
  char *tmp = test_tmpdir ();
  HnError err;
  ck_assert_msg (synth_write_folder (tmp, N, 5, SIZE, SYNTH_PNG, 2, NULL, &err), "%s", err.message);
  HnDataset *folder = dataset_open_folder (tmp, SIZE, "", 2, NULL, &err);
  ck_assert_msg (folder != NULL, "%s", err.message);
  ck_assert_int_eq (folder->n, N);
  ck_assert_int_eq (folder->n_skipped, 0);
  ck_assert_int_eq (folder->n_duplicates, 0);
  HnDataset *memory = dataset_new_synthetic (N, 5, SIZE, 2, NULL, &err);
  ck_assert_msg (memory != NULL, "%s", err.message);

  /* Folder order is by name, so match faces by their file names. */
  size_t bytes = (size_t) SIZE * SIZE * 3;
  for (int i = 0; i < N; i++)
    {
      char name[64];
      synth_file_name (&memory->labels[i], (uint32_t) i, SYNTH_PNG, name, sizeof name);
      int j = 0;
      while (j < N && strcmp (folder->names[j], name) != 0)
        j++;
      ck_assert_msg (j < N, "%s is missing from the folder data set", name);
      ck_assert_int_eq (folder->labels[j].age, memory->labels[i].age);
      ck_assert_int_eq (folder->labels[j].gender, memory->labels[i].gender);
      ck_assert_int_eq (folder->labels[j].race, memory->labels[i].race);
      ck_assert_msg (memcmp (folder->pixels + j * bytes, memory->pixels + i * bytes, bytes) == 0,
                     "%s: pixels differ", name);
    }
  dataset_free (folder);
  dataset_free (memory);
  test_rmtree (tmp);
  free (tmp);
}
END_TEST

START_TEST (test_file_names)
{
  HnFaceLabels l = { .age = 100, .gender = 1, .race = 4 };
  char name[64];
  synth_file_name (&l, 0, SYNTH_JPEG, name, sizeof name);
  ck_assert_str_eq (name, "100_1_4_20170101000000000.jpg.chip.jpg");
  l.age = 7, l.gender = 0, l.race = 2;
  synth_file_name (&l, 86400 + 3723, SYNTH_PNG, name, sizeof name);
  ck_assert_str_eq (name, "7_0_2_20170102010203123.png");
}
END_TEST

START_TEST (test_bad_requests)
{
  char *tmp = test_tmpdir (), *file = NULL, *below_file = NULL;
  ck_assert (asprintf (&file, "%s/plain-file", tmp) > 0);
  ck_assert (asprintf (&below_file, "%s/plain-file/faces", tmp) > 0);
  test_write_file (file, "x", 1);
  HnError err;

  err.message[0] = '\0';
  ck_assert (!synth_write_folder (below_file, 3, 0, 32, SYNTH_PNG, 1, NULL, &err));
  ck_assert_msg (strstr (err.message, "cannot create folder") != NULL
                     && strstr (err.message, "plain-file") != NULL,
                 "message: %s", err.message);

  err.message[0] = '\0';
  ck_assert (!synth_write_folder (file, 3, 0, 32, SYNTH_PNG, 1, NULL, &err));
  ck_assert_msg (strstr (err.message, "is a file") != NULL, "message: %s", err.message);

  ck_assert (!synth_write_folder (tmp, 0, 0, 32, SYNTH_PNG, 1, NULL, &err));
  ck_assert_msg (strstr (err.message, "at least 1") != NULL, "message: %s", err.message);
  ck_assert (dataset_new_synthetic (10, 0, SYNTH_MAX_SIZE + 1, 1, NULL, &err) == NULL);
  ck_assert_msg (strstr (err.message, "pixels") != NULL, "message: %s", err.message);
  ck_assert (dataset_new_synthetic (-5, 0, 32, 1, NULL, &err) == NULL);

  /* Nothing but the plain file was written. */
  int entries = 0;
  DIR *d = opendir (tmp);
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    entries += e->d_name[0] != '.';
  closedir (d);
  ck_assert_int_eq (entries, 1);
  test_rmtree (tmp);
  free (file), free (below_file), free (tmp);
}
END_TEST

/* Sets cancel once `after` faces are done. */
typedef struct
{
  HnLoadProgress *progress;
  int after;
} Canceller;

static void *
cancel_later (void *data)
{
  Canceller *c = data;
  while (atomic_load (&c->progress->done) < c->after)
    usleep (1000);
  atomic_store (&c->progress->cancel, true);
  return NULL;
}

START_TEST (test_cancel)
{
  HnError err;
  HnLoadProgress progress = { 0 };
  atomic_store (&progress.cancel, true);
  ck_assert (dataset_new_synthetic (50, 0, 32, 2, &progress, &err) == NULL);
  ck_assert_str_eq (err.message, "cancelled");
  ck_assert_int_eq (atomic_load (&progress.done), 0);

  char *tmp = test_tmpdir ();
  ck_assert (!synth_write_folder (tmp, 50, 0, 32, SYNTH_JPEG, 2, &progress, &err));
  ck_assert_str_eq (err.message, "cancelled");
  test_rmtree (tmp);
  free (tmp);

  /* Cancelled from another thread part-way through a long job. */
  const int N = 200000;
  HnLoadProgress running = { 0 };
  Canceller c = { &running, 20 };
  pthread_t thread;
  ck_assert_int_eq (pthread_create (&thread, NULL, cancel_later, &c), 0);
  ck_assert (dataset_new_synthetic (N, 0, 16, 2, &running, &err) == NULL);
  pthread_join (thread, NULL);
  ck_assert_str_eq (err.message, "cancelled");
  ck_assert_int_eq (atomic_load (&running.total), N);
  ck_assert_int_ge (atomic_load (&running.done), 20);
  ck_assert_int_lt (atomic_load (&running.done), N);
}
END_TEST

START_TEST (test_dataset)
{
  const int N = 150, SIZE = 32;
  HnError err;
  HnLoadProgress progress = { 0 };
  HnDataset *ds = dataset_new_synthetic (N, 2024, SIZE, 3, &progress, &err);
  ck_assert_msg (ds != NULL, "%s", err.message);
  ck_assert_int_eq (ds->n, N);
  ck_assert_int_eq (ds->size, SIZE);
  ck_assert_ptr_null (ds->names);
  ck_assert_ptr_null (ds->skipped);
  ck_assert_int_eq (ds->n_skipped, 0);
  ck_assert_ptr_null (ds->duplicates);
  ck_assert_int_eq (ds->n_duplicates, 0);
  ck_assert (!ds->from_cache);
  ck_assert_ptr_null (ds->priv);
  ck_assert_int_eq (atomic_load (&progress.total), N);
  ck_assert_int_eq (atomic_load (&progress.done), N);

  /* Every face is synth_face's, whichever thread drew it; no two are the same. */
  size_t bytes = (size_t) SIZE * SIZE * 3;
  for (uint32_t i = 0; i < N; i++)
    {
      HnFaceLabels l;
      uint8_t *want = face (2024, i, SIZE, &l);
      ck_assert_msg (memcmp (ds->pixels + i * bytes, want, bytes) == 0, "face %u differs", i);
      ck_assert_msg (same_labels (&ds->labels[i], &l), "labels of face %u differ", i);
      ck_assert (!dataset_is_val (ds, (int) i, 0));
      free (want);
      for (uint32_t j = 0; j < i; j++)
        ck_assert_msg (memcmp (ds->pixels + i * bytes, ds->pixels + j * bytes, bytes) != 0,
                       "faces %u and %u are identical", j, i);
    }

  /* One thread and all of them give the same bytes. */
  HnDataset *one = dataset_new_synthetic (N, 2024, SIZE, 1, NULL, &err);
  ck_assert_msg (one != NULL, "%s", err.message);
  ck_assert (memcmp (one->pixels, ds->pixels, N * bytes) == 0);
  dataset_free (one);
  dataset_free (ds);
}
END_TEST

static Suite *
synth_suite (void)
{
  Suite *s = suite_create ("synth");
  TCase *tc = tcase_create ("faces");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_deterministic);
  tcase_add_loop_test (tc, test_sizes, 0, 6);
  tcase_add_test (tc, test_label_distribution);
  tcase_add_test (tc, test_labels_learnable);
  tcase_add_test (tc, test_age_traits);
  suite_add_tcase (s, tc);

  tc = tcase_create ("output");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_file_names);
  tcase_add_test (tc, test_folder_png);
  tcase_add_test (tc, test_folder_jpeg);
  tcase_add_test (tc, test_folder_round_trip);
  tcase_add_test (tc, test_bad_requests);
  tcase_add_test (tc, test_cancel);
  tcase_add_test (tc, test_dataset);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (synth_suite ());
}
