/* hydra-trainer-private.h — what the trainer facade's two files share.
 *
 * hydra-trainer.c is the run as the main thread sees it: starting it, steering it, and
 * turning its events into the series and the properties. hydra-trainer-models.c is "the
 * model" the studio predicts with and saves: the live run's weights while one exists,
 * otherwise the last model loaded from a file or left by a finished run.
 */
#pragma once

#include "hydra-trainer.h"
#include "progress.h"

/* One engine run and what it borrows. Reference-counted, so that a worker copying its
 * weights keeps it alive; the last reference tears it down (run_release). */
typedef struct
{
  gatomicrefcount ref;
  HnTrainer *trainer;
  HydraDataset *ds;
  HnBackbone backbone;
  int size;
} HydraRun;

/* A model loaded from a file, shared with the workers that copy it; freed by the last. */
typedef struct
{
  HnModel *model;
  int size;
  double val_mae; /* from the file's metadata, or NaN */
} HydraLoaded;

struct _HydraTrainer
{
  GObject parent_instance;

  HydraSeries *series;

  /* model sources, shared with workers */
  GMutex lock;
  HydraRun *run;         /* the live or last run; NULL after a model is loaded */
  HydraLoaded *loaded;   /* a model loaded from a file, used when run is NULL */

  /* the run as the main thread sees it */
  HydraRunState state;
  char *message;
  char *run_folder;
  gboolean stop_requested; /* Stop pressed while the run was still starting */
  /* live settings changed while the run was starting: sent once it exists (NaN / -1: none) */
  double pending_weight[N_HEADS];
  int pending_age_loss;
  int pending_balance;
  double pending_lr;
  gboolean loading;
  int saving; /* saves into the run folder in flight */
  guint poll_id;
  HnEvent *events; /* (POLL_BATCH) poll buffer */
  GCancellable *start_cancellable;

  HnLossConfig start_loss; /* the live settings in force where the run started */
  double start_lr;
  HnProgress progress;
  double eta;
  double val_mae;
};

enum
{
  PROP_0,
  PROP_STATE,
  PROP_MESSAGE,
  PROP_STEP,
  PROP_EPOCH,
  PROP_EPOCHS,
  PROP_PROGRESS,
  PROP_IMG_PER_S,
  PROP_ETA,
  PROP_VAL_MAE,
  PROP_HAS_MODEL,
  PROP_INPUT_SIZE,
  PROP_RUN_FOLDER,
  PROP_BUSY,
  PROP_SAVING,
  N_PROPS
};

void hydra_trainer_notify (HydraTrainer *self, int prop);

void hydra_trainer_set_message (HydraTrainer *self, const char *message);
void hydra_trainer_set_val_mae (HydraTrainer *self, double val_mae);

/* hydra-trainer-models.c */
void hydra_run_release (HydraRun *run);
/* Makes run the model source (NULL: none), stopping and releasing the previous run. */
void hydra_trainer_replace_run (HydraTrainer *self, HydraRun *run);
/* Forgets the loaded model, if any. */
void hydra_trainer_drop_loaded (HydraTrainer *self);
