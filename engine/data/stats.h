/* stats.h — what a data set holds, counted once for everything that shows it: the CLI's
 * `dataset` JSON and the studio's data-set pane.
 */
#pragma once

#include <stdbool.h>

#include "dataset.h"

typedef struct
{
  int n_train, n_val;    /* the split at val_percent, as dataset_split counts it */
  int n_never_val;       /* usable images kept out of validation (conflicting copies) */
  int n_conflicting;     /* duplicate groups whose names disagree on a label */
  int gender[N_GENDERS]; /* usable images per label */
  int race[N_RACES];
  /* Images per age bin on each side of the split: n_age_bins = LABEL_MAX_AGE / age_bin_years
   * + 1 bins, the last one ending at LABEL_MAX_AGE. */
  int n_age_bins;
  int age_train[LABEL_MAX_AGE + 1]; /* (n_age_bins) */
  int age_val[LABEL_MAX_AGE + 1];   /* (n_age_bins) */
  /* Over the usable images, all 0 when there are none; the median is the lower one, the
   * (n + 1) / 2-th youngest. */
  double age_mean;
  int age_median, age_min, age_max;
} HnDatasetStats;

/* Counts ds at val_percent, with ages in bins of age_bin_years (≥ 1) from 0. */
void dataset_stats (const HnDataset *ds, int val_percent, int age_bin_years, HnDatasetStats *st);

/* One duplicate group, as its copies' names give it. */
typedef struct
{
  int kept;         /* the kept copy's index in ds, or -1 when ds has no such name */
  bool kept_in_val; /* the kept copy is a validation image (at val_percent) */
  /* Which labels some copy's name disagrees on; all false when the kept copy's name does not
   * parse (a conflicting group then says only that the labels differ). */
  bool age_differs, gender_differs, race_differs;
  HnFaceLabels labels; /* the kept copy's, from its name */
  HnFaceLabels other;  /* per label that differs, the first other copy's value */
} HnDuplicateStats;

/* Describes ds->duplicates[group] at val_percent. */
void dataset_duplicate_stats (const HnDataset *ds, int group, int val_percent,
                              HnDuplicateStats *out);
