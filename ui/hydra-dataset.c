/* hydra-dataset.c — reference-counted data sets for the UI. */

#include "hydra-dataset.h"

struct _HydraDataset
{
  HnDataset *ds;
  char *title;
  char *folder;
};

G_DEFINE_BOXED_TYPE (HydraDataset, hydra_dataset, hydra_dataset_ref, hydra_dataset_unref)

HydraDataset *
hydra_dataset_new (HnDataset *ds, const char *title, const char *folder)
{
  g_return_val_if_fail (ds != NULL, NULL);

  HydraDataset *self = g_atomic_rc_box_new0 (HydraDataset);
  self->ds = ds;
  self->title = g_strdup (title);
  self->folder = g_strdup (folder);
  return self;
}

HydraDataset *
hydra_dataset_ref (HydraDataset *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
hydra_dataset_clear (gpointer data)
{
  HydraDataset *self = data;

  dataset_free (self->ds);
  g_free (self->title);
  g_free (self->folder);
}

void
hydra_dataset_unref (HydraDataset *self)
{
  g_atomic_rc_box_release_full (self, hydra_dataset_clear);
}

const HnDataset *
hydra_dataset_get (HydraDataset *self)
{
  return self->ds;
}

const char *
hydra_dataset_get_title (HydraDataset *self)
{
  return self->title;
}

const char *
hydra_dataset_get_folder (HydraDataset *self)
{
  return self->folder;
}
