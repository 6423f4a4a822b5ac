/* dataset.c — the data set itself: what it owns, its cache's fate, and its split.
 *
 * A data set comes from a UTKFace folder (folder.c, with names.c, decode.c, duplicates.c and
 * cache.c) or from the synthetic faces (synth/).
 */
#include "dataset-private.h"

#include <stdlib.h>

void
dataset_private_free (HnDatasetPrivate *priv)
{
  if (priv == NULL)
    return;
  free (priv->cache_file);
  free (priv->cache_status);
  free (priv);
}

void
dataset_free (HnDataset *ds)
{
  if (ds == NULL)
    return;
  free ((void *) ds->pixels);
  free (ds->labels);
  for (int i = 0; ds->names != NULL && i < ds->n; i++)
    free (ds->names[i]);
  free (ds->names);
  for (int i = 0; i < ds->n_skipped; i++)
    {
      free (ds->skipped[i].file);
      free (ds->skipped[i].reason);
    }
  free (ds->skipped);
  for (int i = 0; i < ds->n_duplicates; i++)
    {
      for (int j = 0; j < ds->duplicates[i].n_files; j++)
        free (ds->duplicates[i].files[j]);
      free (ds->duplicates[i].files);
    }
  free (ds->duplicates);
  dataset_private_free (ds->priv);
  free (ds);
}

const char *
dataset_cache_file (const HnDataset *ds)
{
  return ds->priv != NULL ? ds->priv->cache_file : NULL;
}

const char *
dataset_cache_status (const HnDataset *ds)
{
  return ds->priv != NULL && ds->priv->cache_status != NULL ? ds->priv->cache_status : "disabled";
}

void
dataset_split (const HnDataset *ds, int val_percent, int *train, int *n_train, int *val, int *n_val)
{
  int nt = 0, nv = 0;
  for (int i = 0; i < ds->n; i++)
    {
      if (dataset_is_val (ds, i, val_percent))
        {
          if (val != NULL)
            val[nv] = i;
          nv++;
        }
      else
        {
          if (train != NULL)
            train[nt] = i;
          nt++;
        }
    }
  *n_train = nt;
  *n_val = nv;
}
