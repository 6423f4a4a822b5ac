/* duplicates.c — byte-identical files under different names, folded onto the first.
 *
 * Copies whose names disagree on the labels (259 of UTKFace's 375 groups: 205 on age, half
 * of those by 5 years or less, 70 on race, 40 on gender): at least one name is wrong and
 * nothing tells which. The first copy stays, with its own name's labels, but marked
 * never_val: training shrugs off a little label noise and keeps the face, while validation
 * would score a right answer wrong. `dataset` shows such groups with "conflicting": true,
 * the copy kept and "kept_in": "train".
 */
#include "dataset-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
compare_by_digest (const void *a, const void *b, void *entries)
{
  const FolderEntry *e = entries;
  int i = *(const int *) a, j = *(const int *) b;
  int c = memcmp (e[i].digest, e[j].digest, SHA1_DIGEST_BYTES);
  return c != 0 ? c : (i > j) - (i < j);
}

static int
compare_groups (const void *a, const void *b)
{
  return strcmp (((const HnDuplicateGroup *) a)->files[0],
                 ((const HnDuplicateGroup *) b)->files[0]);
}

static bool
same_labels (const HnFaceLabels *a, const HnFaceLabels *b)
{
  return a->age == b->age && a->gender == b->gender && a->race == b->race;
}

static bool
set_reason (FolderEntry *e, const char *fmt, const char *a)
{
  return asprintf (&e->reason, fmt, a) >= 0 || (e->reason = NULL, false);
}

/* The end of the run of equal digests that starts at ok[a]. */
static int
run_end (const FolderEntry *entries, const int *ok, int n_ok, int a)
{
  int b = a + 1;
  while (b < n_ok && memcmp (entries[ok[a]].digest, entries[ok[b]].digest, SHA1_DIGEST_BYTES) == 0)
    b++;
  return b;
}

/* Group g from the copies ok[a…b), the first of which is kept. */
static bool
fold_group (FolderEntry *entries, const int *ok, int a, int b, HnDuplicateGroup *g)
{
  FolderEntry *first = &entries[ok[a]];
  if ((g->files = calloc (b - a, sizeof *g->files)) == NULL)
    return false;
  for (int i = a; i < b; i++)
    {
      if ((g->files[g->n_files++] = strdup (entries[ok[i]].name)) == NULL)
        return false;
      g->conflicting |= !same_labels (&entries[ok[i]].labels, &first->labels);
    }
  first->labels.never_val = g->conflicting;
  for (int i = a + 1; i < b; i++)
    if (!set_reason (&entries[ok[i]],
                     g->conflicting ? "same bytes as %s, whose name gives other labels; that "
                                      "copy is used, for training only"
                                    : "same bytes as %s, which is used",
                     first->name))
      return false;
  return true;
}

bool
find_duplicates (FolderEntry *entries, int *ok, int n_ok, HnDataset *ds, HnError *err)
{
  qsort_r (ok, n_ok, sizeof *ok, compare_by_digest, entries);
  int n_groups = 0;
  for (int a = 0, b; a < n_ok; a = b)
    n_groups += (b = run_end (entries, ok, n_ok, a)) - a > 1;
  if (n_groups == 0)
    return true;
  if ((ds->duplicates = calloc (n_groups, sizeof *ds->duplicates)) == NULL)
    return hn_error_set (err, "out of memory");

  /* Sorted by (digest, index), so each run's first entry is the group's first name. */
  for (int a = 0, b; a < n_ok; a = b)
    if ((b = run_end (entries, ok, n_ok, a)) - a > 1
        && !fold_group (entries, ok, a, b, &ds->duplicates[ds->n_duplicates++]))
      return hn_error_set (err, "out of memory");
  /* Groups in the order of their first names, as everything else in the data set. */
  qsort (ds->duplicates, ds->n_duplicates, sizeof *ds->duplicates, compare_groups);
  return true;
}
