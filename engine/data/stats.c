/* stats.c — a data set's counts and distributions, and what its copies disagree on. */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "names.h"

/* The lower median, min and max of per-year counts of n ages. */
static void
age_order_stats (const int *per_year, int n, HnDatasetStats *st)
{
  int half = (n + 1) / 2;
  st->age_min = -1;
  for (int a = 0, seen = 0; a <= LABEL_MAX_AGE; a++)
    {
      if (per_year[a] == 0)
        continue;
      if (st->age_min < 0)
        st->age_min = a;
      st->age_max = a;
      if (seen < half && seen + per_year[a] >= half)
        st->age_median = a;
      seen += per_year[a];
    }
  if (st->age_min < 0)
    st->age_min = 0;
}

void
dataset_stats (const HnDataset *ds, int val_percent, int age_bin_years, HnDatasetStats *st)
{
  HN_ASSERT (age_bin_years >= 1);
  int per_year[LABEL_MAX_AGE + 1] = { 0 };
  long long age_sum = 0;
  *st = (HnDatasetStats){ .n_age_bins = LABEL_MAX_AGE / age_bin_years + 1 };
  for (int i = 0; i < ds->n; i++)
    {
      const HnFaceLabels *l = &ds->labels[i];
      HN_ASSERT (l->age <= LABEL_MAX_AGE && l->gender < N_GENDERS && l->race < N_RACES);
      bool val = dataset_is_val (ds, i, val_percent);
      val ? st->n_val++ : st->n_train++;
      (val ? st->age_val : st->age_train)[l->age / age_bin_years]++;
      st->n_never_val += l->never_val;
      st->gender[l->gender]++;
      st->race[l->race]++;
      per_year[l->age]++;
      age_sum += l->age;
    }
  for (int g = 0; g < ds->n_duplicates; g++)
    st->n_conflicting += ds->duplicates[g].conflicting;
  if (ds->n > 0)
    {
      st->age_mean = (double) age_sum / ds->n;
      age_order_stats (per_year, ds->n, st);
    }
}

static int
compare_name (const void *key, const void *name)
{
  return strcmp (key, *(char *const *) name);
}

void
dataset_duplicate_stats (const HnDataset *ds, int group, int val_percent, HnDuplicateStats *out)
{
  HN_ASSERT (group >= 0 && group < ds->n_duplicates);
  const HnDuplicateGroup *g = &ds->duplicates[group];
  char why[128];
  *out = (HnDuplicateStats){ .kept = -1 };

  /* names are in byte order, as the folder was listed */
  char **at = ds->names != NULL
                  ? bsearch (g->files[0], ds->names, ds->n, sizeof *ds->names, compare_name)
                  : NULL;
  if (at != NULL)
    {
      out->kept = (int) (at - ds->names);
      out->kept_in_val = dataset_is_val (ds, out->kept, val_percent);
    }

  if (!utkface_parse_name (g->files[0], &out->labels, why, sizeof why))
    return;
  for (int i = 1; i < g->n_files; i++)
    {
      HnFaceLabels l;
      if (!utkface_parse_name (g->files[i], &l, why, sizeof why))
        continue;
      if (l.age != out->labels.age && !out->age_differs)
        out->age_differs = true, out->other.age = l.age;
      if (l.gender != out->labels.gender && !out->gender_differs)
        out->gender_differs = true, out->other.gender = l.gender;
      if (l.race != out->labels.race && !out->race_differs)
        out->race_differs = true, out->other.race = l.race;
    }
}
