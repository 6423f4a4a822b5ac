/* hydra-augment-grid.h — a few of a data set's training images as the network sees them.
 *
 * Each tile is an image augmented as training augments it (augment.h: the same function,
 * the same kind of seed) at the data set's input size, then de-normalised back to colours
 * for the eye. "Shuffle" draws new seeds; with no augmentation the tiles are the images as
 * the network takes them. The tiles fill the width in 12, 6, 4 or 3 columns, each an
 * integer multiple of the input size when there is room, so that its pixels stay sharp.
 *
 * The grid copies the few images it shows: the data set is only borrowed for the call.
 */
#pragma once

#include <gtk/gtk.h>

#include "augment.h"
#include "dataset.h"

G_BEGIN_DECLS

#define HYDRA_AUGMENT_GRID_TILES 12

#define HYDRA_TYPE_AUGMENT_GRID (hydra_augment_grid_get_type ())
G_DECLARE_FINAL_TYPE (HydraAugmentGrid, hydra_augment_grid, HYDRA, AUGMENT_GRID, GtkWidget)

GtkWidget *hydra_augment_grid_new (void);

/* Shows up to HYDRA_AUGMENT_GRID_TILES of ds's training images (those of val_percent's split),
 * spread evenly over it; NULL shows none. */
void hydra_augment_grid_set_dataset (HydraAugmentGrid *self, const HnDataset *ds, int val_percent);

/* The augmentation the tiles show; default none. Property "augment": the same as a string
 * in augment_from_names' syntax ("none", "flip,crop=0.3"), for a setting to bind; a string
 * that does not parse is refused with a warning. */
void hydra_augment_grid_set_augment (HydraAugmentGrid *self, const HnAugment *augment);
void hydra_augment_grid_get_augment (HydraAugmentGrid *self, HnAugment *augment);

/* New seeds for every tile (what the Shuffle button does, action "augment.shuffle"). */
void hydra_augment_grid_shuffle (HydraAugmentGrid *self);

/* The tiles are augmented on a worker thread: TRUE (property "busy") from a change until they
 * show it. */
gboolean hydra_augment_grid_get_busy (HydraAugmentGrid *self);

/* What tile i shows: its image's index in the data set, the seed it was augmented with, and
 * its pixels, (size, size, 3) RGB, owned by the grid until it changes. */
guint hydra_augment_grid_get_n_tiles (HydraAugmentGrid *self);
int hydra_augment_grid_get_size (HydraAugmentGrid *self);
int hydra_augment_grid_get_image (HydraAugmentGrid *self, guint i);
guint64 hydra_augment_grid_get_seed (HydraAugmentGrid *self, guint i);
const guint8 *hydra_augment_grid_get_pixels (HydraAugmentGrid *self, guint i);

G_END_DECLS
