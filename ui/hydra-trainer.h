/* hydra-trainer.h — the engine's trainer, seen from the GTK main thread.
 *
 * A GObject that lives on the main thread over the engine's plain-C trainer thread
 * (engine/train/trainer.h). It forwards settings at once (they take effect at the next step),
 * drains the trainer's bounded event channel from a main-loop timer, appends what it reads to
 * a HydraSeries, and exposes the run's state as properties for the window to bind to.
 *
 * It also holds "the model" for prediction: the live trainer's weights while one exists,
 * otherwise the last model loaded from a file or left by a finished run.
 */
#pragma once

#include <gio/gio.h>

#include "hydra-dataset.h"
#include "hydra-series.h"
#include "runinfo.h"
#include "trainer.h"

G_BEGIN_DECLS

typedef enum
{
  HYDRA_RUN_IDLE,      /* no run yet (or after Reset) */
  HYDRA_RUN_STARTING,  /* the run is being built on a worker */
  HYDRA_RUN_RUNNING,
  HYDRA_RUN_PAUSED,
  HYDRA_RUN_DIVERGED,  /* paused by the guard; "message" says why; Roll back is offered */
  HYDRA_RUN_FINISHED,
  HYDRA_RUN_STOPPED,
  HYDRA_RUN_FAILED,    /* "message" says why */
} HydraRunState;

#define HYDRA_TYPE_RUN_STATE (hydra_run_state_get_type ())
GType hydra_run_state_get_type (void) G_GNUC_CONST;

#define HYDRA_TYPE_TRAINER (hydra_trainer_get_type ())
G_DECLARE_FINAL_TYPE (HydraTrainer, hydra_trainer, HYDRA, TRAINER, GObject)

HydraTrainer *hydra_trainer_new (void);

HydraSeries *hydra_trainer_get_series (HydraTrainer *self);

/* Properties (all notify on the main thread):
 *   "state"       HydraRunState
 *   "message"     string: the last error or guard message, or NULL
 *   "step"        int64: optimizer steps done
 *   "epoch"       int: epochs done;  "epochs": epochs planned
 *   "progress"    double in [0, 1]: position in the current epoch
 *   "img-per-s"   double: recent training speed
 *   "eta"         double: seconds left in the run, or -1 when unknown
 *   "val-mae"     double: the last validation age MAE in years, or -1 before the first
 *   "has-model"   boolean: a model exists to predict with
 *   "input-size"  int: the model's input side (32 when none)
 *   "run-folder"  string: where this run's checkpoints and record are kept, or NULL
 *   "saving"      boolean: the final model is being written into the run folder
 *   "busy"        boolean: a run is starting, active (running, paused, diverged), or a
 *                 model is loading — the settings that shape a run cannot change
 */
HydraRunState hydra_trainer_get_state (HydraTrainer *self);
gboolean hydra_trainer_get_busy (HydraTrainer *self);
gboolean hydra_trainer_get_saving (HydraTrainer *self);
const char *hydra_trainer_get_run_folder (HydraTrainer *self);
const char *hydra_trainer_get_message (HydraTrainer *self);
double hydra_trainer_get_val_mae (HydraTrainer *self);
gboolean hydra_trainer_get_has_model (HydraTrainer *self);
int hydra_trainer_get_input_size (HydraTrainer *self);

/* Starts a new run on ds (held by reference until the run is torn down) with config; the
 * series is cleared. The engine's trainer is built and its first checkpoint written on a
 * worker, so this returns at once; a failure shows as HYDRA_RUN_FAILED with a message.
 * Everything the run makes goes to a new folder under $XDG_DATA_HOME/hydranet-studio/runs
 * ("run-folder"), laid out as engine/train/runfolder.h says and shared with hydranet-cli
 * train --run-dir: run.json, curves.csv, checkpoints/epoch-NNN.safetensors (+ .optim) at
 * each epoch's end, all kept, and model.safetensors with the final weights when the run
 * finishes or is stopped. config->synthetic_seed names the seed of synthetic faces. */
void hydra_trainer_start (HydraTrainer *self, const HnTrainConfig *config, HydraDataset *ds);
/* Starts a fork of the run parent (run_info_read's) from checkpoint, one of its epoch
 * checkpoints (absolute), on ds — the parent's data, which the caller has checked — as
 * hydranet-cli train --fork does: a new run folder whose run.json names its parent, the
 * parent's settings, and the checkpoint's weights, optimizer state, data position and
 * schedule. It starts paused at the branch point: live settings changed before Resume take
 * effect at its first step. epochs: the fork's count of epochs (0: the parent's), as
 * --fork --epochs — above the checkpoint's, to train on from a run's end. */
void hydra_trainer_fork (HydraTrainer *self, const char *checkpoint, const HnRunInfo *parent,
                         int epochs, HydraDataset *ds);
void hydra_trainer_pause (HydraTrainer *self);
/* The live settings (loss weights, method, age loss; the peak rate) in force where the run
 * started: the config's, or a fork's at its checkpoint. FALSE while no run exists yet. */
gboolean hydra_trainer_get_start_settings (HydraTrainer *self, HnLossConfig *loss, double *lr);
void hydra_trainer_resume (HydraTrainer *self);
void hydra_trainer_stop (HydraTrainer *self);
void hydra_trainer_rollback (HydraTrainer *self);
/* Stops and forgets the run and its curves; the model stays for prediction. */
void hydra_trainer_reset (HydraTrainer *self);

void hydra_trainer_set_weight (HydraTrainer *self, int head, double weight);
void hydra_trainer_set_age_loss (HydraTrainer *self, HnAgeLoss kind);
void hydra_trainer_set_lr (HydraTrainer *self, double lr);
void hydra_trainer_set_balance (HydraTrainer *self, HnBalance method);

/* A private copy of the current model (planned for nothing) and its input size, or NULL when
 * there is none. Thread-safe, and meant for worker threads: during training it waits for the
 * trainer to finish its current step. Free with model_free. */
HnModel *hydra_trainer_dup_model (HydraTrainer *self, int *input_size);

/* Saves the current model off the main thread, with the run's metadata (runmeta.h). */
void hydra_trainer_save_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean hydra_trainer_save_finish (HydraTrainer *self, GAsyncResult *result, GError **error);

/* Loads a model for prediction off the main thread (refused while a run is active). */
void hydra_trainer_load_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
gboolean hydra_trainer_load_finish (HydraTrainer *self, GAsyncResult *result, GError **error);

/* Reads a run's record (curves.csv of a run folder, or hydranet-cli's --log) off the main
 * thread and shows it in the series, as a run that has ended (refused while a run is
 * active). */
void hydra_trainer_open_record_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean hydra_trainer_open_record_finish (HydraTrainer *self, GAsyncResult *result,
                                           GError **error);

G_END_DECLS
