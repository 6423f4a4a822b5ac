/* hydra-dataset-pane.h — what a data set holds: counts, label distributions, split, a few
 * training images as the network sees them, and the files that were skipped or found to be
 * copies.
 *
 * The pane copies what it shows, so the data set it is given is only borrowed for the call.
 */
#pragma once

#include <gtk/gtk.h>

#include "dataset.h"
#include "hydra-augment-grid.h"

G_BEGIN_DECLS

/* The big numbers along the top, in order. */
typedef enum
{
  HYDRA_DATASET_FIGURE_USABLE,
  HYDRA_DATASET_FIGURE_TRAIN,
  HYDRA_DATASET_FIGURE_VAL,
  HYDRA_DATASET_FIGURE_SKIPPED,
  HYDRA_DATASET_FIGURE_DUPLICATES,  /* groups of byte-identical files */
  HYDRA_DATASET_FIGURE_CONFLICTING, /* … whose names disagree on a label */
  HYDRA_DATASET_N_FIGURES
} HydraDatasetFigure;

/* Ages 0…116 in 5-year bins: 0–4, 5–9, …, 115–116. */
#define HYDRA_DATASET_AGE_BINS ((LABEL_MAX_AGE / 5) + 1)

#define HYDRA_TYPE_DATASET_PANE (hydra_dataset_pane_get_type ())
G_DECLARE_FINAL_TYPE (HydraDatasetPane, hydra_dataset_pane, HYDRA, DATASET_PANE, GtkWidget)

GtkWidget *hydra_dataset_pane_new (void);

/* Shows ds (borrowed for the call; NULL shows the empty state). title: the folder's name or
 * "Synthetic faces"; val_percent: the split to count (README.md, Data). */
void hydra_dataset_pane_set_dataset (HydraDatasetPane *self, const HnDataset *ds, const char *title,
                                     int val_percent);

/* The augmentation the pane's samples show (hydra-augment-grid.h); default none. Property
 * "augment": the same in augment_from_names' syntax, for a setting to bind. */
void hydra_dataset_pane_set_augment (HydraDatasetPane *self, const HnAugment *augment);

/* The samples themselves, for tests. */
HydraAugmentGrid *hydra_dataset_pane_get_augment_grid (HydraDatasetPane *self);

/* TRUE while no data set is shown. */
gboolean hydra_dataset_pane_get_empty (HydraDatasetPane *self);

/* The text a big number shows, e.g. "20,367". */
const char *hydra_dataset_pane_get_figure_text (HydraDatasetPane *self, HydraDatasetFigure figure);

/* The images per age bin (HYDRA_DATASET_AGE_BINS of them). */
const guint *hydra_dataset_pane_get_age_histogram (HydraDatasetPane *self);

/* The skipped-files list: items with string properties "file" and "reason". */
GListModel *hydra_dataset_pane_get_skipped (HydraDatasetPane *self);

/* The duplicate groups: items with "file" (the copy kept), "copies" (the others, joined),
 * "conflict" (which labels disagree, or "") and boolean "conflicting". */
GListModel *hydra_dataset_pane_get_duplicates (HydraDatasetPane *self);

G_END_DECLS
