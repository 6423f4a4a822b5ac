/* hydra-dataset.h — a data set shared by the window, its panes and a training run.
 *
 * The engine's HnDataset is a plain C struct that the trainer borrows: it must outlive every
 * thread reading it. The window may open another data set while a stopped run is still
 * being torn down on a worker, so the UI holds data sets by reference and the last holder
 * frees them.
 */
#pragma once

#include <glib-object.h>

#include "dataset.h"

G_BEGIN_DECLS

typedef struct _HydraDataset HydraDataset;

#define HYDRA_TYPE_DATASET (hydra_dataset_get_type ())
GType hydra_dataset_get_type (void) G_GNUC_CONST;

/* Takes ownership of ds. title: what to call it ("Synthetic faces", a folder's name). */
HydraDataset *hydra_dataset_new (HnDataset *ds, const char *title, const char *folder);
HydraDataset *hydra_dataset_ref (HydraDataset *self);
void hydra_dataset_unref (HydraDataset *self);

const HnDataset *hydra_dataset_get (HydraDataset *self);
const char *hydra_dataset_get_title (HydraDataset *self);
const char *hydra_dataset_get_folder (HydraDataset *self); /* NULL for synthetic faces */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HydraDataset, hydra_dataset_unref)

G_END_DECLS
