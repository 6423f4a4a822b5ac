/* runfolder.h — a folder per run, where everything the run makes is kept side by side.
 *
 *   RUN/run.json                        what the run is and how it went (runinfo.h)
 *   RUN/curves.csv                      every event, as it happens (records.h)
 *   RUN/checkpoints/epoch-NNN.safetensors   (+ .optim) where the run stood after NNN epochs:
 *                                       000 its start, one per epoch's end, all kept — the
 *                                       branch points of a fork; the newest is where rollback
 *                                       returns. A time budget that ends a run inside an
 *                                       epoch leaves epoch-NNN-batch-BBBB.safetensors.
 *   RUN/model.safetensors               the weights when the run ended
 *
 * The trainer writes the first three when HnTrainConfig.run_dir is set; the studio and
 * hydranet-cli train --run-dir save the model at the end.
 */
#pragma once

#include "error.h"

#define RUN_INFO "run.json"
#define RUN_RECORD "curves.csv"
#define RUN_CHECKPOINTS "checkpoints"
#define RUN_MODEL "model.safetensors"

/* Makes a new folder for a run under parent (created if missing), named after the local
 * time, "2026-12-07-064512", with "-2", "-3"… when two runs start within a second, so that
 * no run ever writes into another's. Returns its path (free it), or NULL and err. */
char *run_folder_create (const char *parent, HnError *err);

/* Takes away a run folder whose run could not start: what a start writes (run.json, the
 * record, the first checkpoint) and the folder, when that leaves it empty; best effort. */
void run_folder_remove_unstarted (const char *folder);

/* FOLDER/NAME (free it); NULL when out of memory. */
char *run_folder_file (const char *folder, const char *name);

/* The checkpoint of a run that has done `epoch` epochs and `batch` batches of the next,
 * relative to its folder: "checkpoints/epoch-003.safetensors", or with batch > 0
 * "checkpoints/epoch-003-batch-0042.safetensors" (free it); NULL when out of memory. */
char *run_folder_checkpoint (int epoch, int batch);

/* The run folder a checkpoint belongs to, as an absolute path (free it): the folder that
 * holds its checkpoints/ folder, or the checkpoint's own folder when it lies elsewhere.
 * NULL and err when the checkpoint cannot be found. Does not look for run.json. */
char *run_folder_of (const char *checkpoint, HnError *err);

/* Where the studio keeps its runs, and hydranet-cli runs looks by default:
 * $XDG_DATA_HOME/hydranet-studio/runs, or ~/.local/share/hydranet-studio/runs when that is
 * unset or not an absolute path (free it); NULL and err when there is no home either. */
char *run_folder_default_parent (HnError *err);
