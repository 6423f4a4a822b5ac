/* hydra-dataset-loader.h — a data set loaded off the main thread, with progress.
 *
 * Wraps the engine's dataset_open_folder / dataset_new_synthetic in an _async/_finish pair.
 * While a load runs, one main-loop timer polls the engine's progress counters and publishes
 * them as properties a progress bar can bind to:
 *   "loading"   boolean
 *   "fraction"  double in [0, 1]
 *   "text"      string, e.g. "Reading 1,234 of 20,762 images…" ("" when idle)
 * One load at a time: starting a new one cancels the one running, which then finishes with
 * G_IO_ERROR_CANCELLED. Decoding uses every core, so do not load while training.
 */
#pragma once

#include <gio/gio.h>

#include "dataset.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_DATASET_LOADER (hydra_dataset_loader_get_type ())
G_DECLARE_FINAL_TYPE (HydraDatasetLoader, hydra_dataset_loader, HYDRA, DATASET_LOADER, GObject)

HydraDatasetLoader *hydra_dataset_loader_new (void);

/* A UTKFace folder preprocessed to size×size (32, 64, 96 or 128), through the engine's
 * cache ($XDG_CACHE_HOME/hydranet-studio). Errors: G_IO_ERROR_NOT_FOUND (no such folder),
 * G_IO_ERROR_NOT_DIRECTORY, G_IO_ERROR_INVALID_ARGUMENT (size), G_IO_ERROR_CANCELLED,
 * G_IO_ERROR_FAILED (anything else: empty, unreadable, nothing usable), each with a message
 * for a person. */
void hydra_dataset_loader_load_folder_async (HydraDatasetLoader *self, const char *dir, int size,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);

/* count synthetic faces (synth.h) of the stream seed, at size×size. */
void hydra_dataset_loader_load_synthetic_async (HydraDatasetLoader *self, int count, guint64 seed,
                                                int size, GCancellable *cancellable,
                                                GAsyncReadyCallback callback, gpointer user_data);

/* Either load's result: transfer full, free with dataset_free. */
HnDataset *hydra_dataset_loader_load_finish (HydraDatasetLoader *self, GAsyncResult *result,
                                             GError **error);

/* Cancels the load running, if any (its callback still runs, with G_IO_ERROR_CANCELLED). */
void hydra_dataset_loader_cancel (HydraDatasetLoader *self);

gboolean hydra_dataset_loader_get_loading (HydraDatasetLoader *self);
double hydra_dataset_loader_get_fraction (HydraDatasetLoader *self);
const char *hydra_dataset_loader_get_text (HydraDatasetLoader *self);

/* n with thousands separators ("20,762"; the locale's separator when it has one). */
char *hydra_format_count (gint64 n);

G_END_DECLS
