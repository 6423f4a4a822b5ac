/* hydra-trainer.c — the engine's trainer thread, seen from the GTK main thread.
 *
 * Three kinds of thread touch this object:
 *  - the main thread owns it: properties, the series, the poll timer;
 *  - GTask workers build a run (trainer_new writes the first checkpoint), save and load
 *    models, and copy the model for prediction (hydra-trainer-models.c);
 *  - the engine's own trainer thread, which it only ever talks to through trainer.h.
 */

#include "hydra-trainer-private.h"
#include "hydra-application.h"

#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "clock.h"
#include "runmeta.h"
#include "runfolder.h"

/* Ten times a second: the status keeps up with the steps, and the window does not wake the
 * cores training shares with it for more (the plot redraws at most four times a second). */
#define POLL_INTERVAL_MS 100
#define POLL_BATCH 512

G_DEFINE_ENUM_TYPE (HydraRunState, hydra_run_state, G_DEFINE_ENUM_VALUE (HYDRA_RUN_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_DIVERGED, "diverged"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_FINISHED, "finished"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_FAILED, "failed"))

static gboolean
set_str (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

G_DEFINE_FINAL_TYPE (HydraTrainer, hydra_trainer, G_TYPE_OBJECT)

static GParamSpec *properties[N_PROPS];

void
hydra_trainer_notify (HydraTrainer *self, int prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_state (HydraTrainer *self, HydraRunState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
set_message (HydraTrainer *self, const char *message)
{
  if (set_str (&self->message, message))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

static void
set_double (HydraTrainer *self, double *field, double value, int prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
hydra_trainer_set_message (HydraTrainer *self, const char *message)
{
  set_message (self, message);
}

void
hydra_trainer_set_val_mae (HydraTrainer *self, double val_mae)
{
  set_double (self, &self->val_mae, val_mae, PROP_VAL_MAE);
}

/* ---- turning engine events into the series and the properties ---- */

static HydraRunState
run_state_from_engine (HnTrainerState state)
{
  switch (state)
    {
    case TRAINER_RUNNING:
      return HYDRA_RUN_RUNNING;
    case TRAINER_PAUSED:
      return HYDRA_RUN_PAUSED;
    case TRAINER_DIVERGED:
      return HYDRA_RUN_DIVERGED;
    case TRAINER_FINISHED:
      return HYDRA_RUN_FINISHED;
    case TRAINER_STOPPED:
      return HYDRA_RUN_STOPPED;
    case TRAINER_FAILED:
    default:
      return HYDRA_RUN_FAILED;
    }
}

static void
update_eta (HydraTrainer *self)
{
  double eta = self->state == HYDRA_RUN_RUNNING ? progress_eta (&self->progress) : -1;

  set_double (self, &self->eta, eta, PROP_ETA);
}

static void
save_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraTrainer) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!hydra_trainer_save_finish (self, result, &error))
    {
      g_autofree char *text
          = g_strdup_printf ("The model could not be saved into the run folder: %s", error->message);
      set_message (self, text);
    }
  if (--self->saving == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVING]);
}

/* At the end of a run, the final weights beside the epoch checkpoints and the record the
 * engine wrote: nothing a run made is lost when the app goes away. */
static void
save_run_model (HydraTrainer *self)
{
  g_autofree char *path = g_build_filename (self->run_folder, RUN_MODEL, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);

  if (self->saving++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVING]);
  hydra_trainer_save_async (self, file, NULL, save_done, g_object_ref (self));
}

static void
handle_state (HydraTrainer *self, const HnEvent *e)
{
  HydraRunState state = run_state_from_engine (e->state.state);
  gboolean ends = state != self->state
                  && (state == HYDRA_RUN_FINISHED || state == HYDRA_RUN_STOPPED);

  if (e->state.error || state == HYDRA_RUN_DIVERGED || state == HYDRA_RUN_FAILED)
    set_message (self, e->state.message);
  else if (state == HYDRA_RUN_RUNNING)
    set_message (self, NULL);
  set_state (self, state);
  /* once: an error after the end (the record's close) repeats the final state */
  if (ends)
    save_run_model (self);
}

static void
handle_event (HydraTrainer *self, const HnEvent *e)
{
  hydra_series_add_event (self->series, e);
  switch (e->kind)
    {
    case EVENT_STEP:
      progress_step (&self->progress, e);
      break;
    case EVENT_EPOCH:
      if (e->val.n > 0)
        set_double (self, &self->val_mae, e->val.age_mae, PROP_VAL_MAE);
      progress_epoch (&self->progress, e->epoch);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EPOCH]);
      break;
    case EVENT_SETTING:
      /* after a rollback the trainer counts from an earlier step again */
      if (e->setting.what == SETTING_ROLLBACK)
        self->progress.step = e->step; /* poll_cb notifies */
      break;
    case EVENT_STATE:
      handle_state (self, e);
      break;
    case EVENT_CHECKPOINT:
      if (e->state.error)
        {
          g_autofree char *text
              = g_strdup_printf ("The checkpoint could not be written: %s", e->state.message);
          set_message (self, text);
        }
      break;
    }
}

static gboolean
poll_cb (gpointer data)
{
  HydraTrainer *self = data;
  HnTrainer *trainer = self->run ? self->run->trainer : NULL;

  if (trainer == NULL)
    {
      self->poll_id = 0;
      return G_SOURCE_REMOVE;
    }

  g_object_freeze_notify (G_OBJECT (self));
  int64_t step_before = self->progress.step;
  double progress_before = self->progress.fraction;
  /* bounded work per tick: a burst after a stall is spread over a few frames */
  for (int round = 0; round < 8; round++)
    {
      int n = trainer_poll (trainer, self->events, POLL_BATCH, NULL);
      for (int i = 0; i < n; i++)
        handle_event (self, &self->events[i]);
      if (n < POLL_BATCH)
        break;
    }
  hydra_series_commit (self->series);
  if (self->progress.step != step_before)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  if (self->progress.fraction != progress_before)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMG_PER_S]);
  update_eta (self);
  g_object_thaw_notify (G_OBJECT (self));

  /* polled until the thread has ended: what fails after the final state still reaches the
   * user */
  gboolean over = self->state == HYDRA_RUN_FINISHED || self->state == HYDRA_RUN_STOPPED
                  || self->state == HYDRA_RUN_FAILED;
  if (over && trainer_ended (trainer) && !trainer_wait_event (trainer, 0))
    {
      self->poll_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* ---- starting a run ---- */

typedef struct
{
  HnTrainConfig config;
  HydraDataset *ds;
  char *folder;
  /* a fork's: the checkpoint it branches from, and the strings its config points to */
  char *fork_of, *preset;
  /* the live settings in force where the run starts: a fork's, its checkpoint's */
  HnLossConfig loss;
  double lr;
} StartData;

static void
start_data_free (gpointer data)
{
  StartData *d = data;

  hydra_dataset_unref (d->ds);
  g_free (d->folder);
  g_free (d->fork_of);
  g_free (d->preset);
  g_free (d);
}

/* A fork's live settings are those its checkpoint's history left in force (the parent may
 * have changed them after its start, which run.json holds). Read from the checkpoint's
 * metadata; run.json's stay where it has none. */
static void
read_settings_in_force (StartData *d)
{
  HnError err;
  HnCheckpoint *c = checkpoint_open (d->fork_of, CHECKPOINT_HEADER, &err);
  HnRunMeta meta;

  if (c != NULL && run_meta_read (c->st, &meta, &err))
    {
      if (meta.has_loss)
        d->loss = meta.loss;
      d->lr = (meta.has_optimizer ? meta.optimizer.lr : d->config.optimizer.lr) * meta.lr_scale;
    }
  checkpoint_close (c);
}

static void
start_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  StartData *d = task_data;
  const char *data_folder = hydra_dataset_get_folder (d->ds);
  HnError err;

  /* the engine keeps the run in its folder, as hydranet-cli train --run-dir does */
  d->config.run_dir = d->folder;
  d->config.checkpoint_path = NULL;
  d->config.records_path = NULL;
  d->config.data_folder = data_folder;
  d->config.synthetic = data_folder == NULL ? hydra_dataset_get (d->ds)->n : 0;
  d->config.source = HYDRA_SOURCE;
  d->config.fork_of = d->fork_of;
  /* a fork goes on from its checkpoint as hydranet-cli train --fork does, and waits at its
   * branch point: live settings changed there take effect at its first step */
  HnTrainer *trainer
      = d->fork_of ? trainer_resume (d->fork_of, &d->config, hydra_dataset_get (d->ds), &err)
                   : trainer_new (&d->config, hydra_dataset_get (d->ds), NULL, NULL, &err);
  if (trainer != NULL && d->fork_of != NULL)
    {
      trainer_pause (trainer);
      read_settings_in_force (d);
    }
  if (trainer == NULL || !trainer_start (trainer, &err))
    {
      trainer_free (trainer);
      run_folder_remove_unstarted (d->folder); /* a folder that is not a run, not listed */
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  HydraRun *run = g_new0 (HydraRun, 1);
  g_atomic_ref_count_init (&run->ref);
  run->trainer = trainer;
  run->ds = hydra_dataset_ref (d->ds);
  run->backbone = d->config.backbone;
  run->size = d->config.size;
  g_task_return_pointer (task, run, (GDestroyNotify) hydra_run_release);
}

static void
clear_pending (HydraTrainer *self)
{
  for (int h = 0; h < N_HEADS; h++)
    self->pending_weight[h] = NAN;
  self->pending_age_loss = -1;
  self->pending_balance = -1;
  self->pending_lr = NAN;
}

static void
apply_pending (HydraTrainer *self, HnTrainer *trainer)
{
  for (int h = 0; h < N_HEADS; h++)
    if (!isnan (self->pending_weight[h]))
      trainer_set_weight (trainer, h, (float) self->pending_weight[h]);
  if (self->pending_age_loss >= 0)
    trainer_set_age_loss (trainer, (HnAgeLoss) self->pending_age_loss);
  if (self->pending_balance >= 0)
    trainer_set_balance (trainer, (HnBalance) self->pending_balance);
  if (!isnan (self->pending_lr))
    trainer_set_lr (trainer, (float) self->pending_lr);
  clear_pending (self);
}

static void
start_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraTrainer *self = HYDRA_TRAINER (source);
  g_autoptr (GError) error = NULL;
  HydraRun *run = g_task_propagate_pointer (G_TASK (result), &error);

  if (run == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      set_message (self, error->message);
      set_state (self, HYDRA_RUN_FAILED);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
      return;
    }
  g_clear_object (&self->start_cancellable);
  StartData *d = g_task_get_task_data (G_TASK (result));
  self->start_loss = d->loss;
  self->start_lr = d->lr;

  hydra_trainer_drop_loaded (self);
  hydra_trainer_replace_run (self, run);
  apply_pending (self, run->trainer);
  set_state (self, HYDRA_RUN_RUNNING);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MODEL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_SIZE]);
  if (self->stop_requested)
    trainer_stop (run->trainer);
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
}

/* Starts a run (fork_of NULL) or a fork; d holds config and ds. */
static void
begin_run (HydraTrainer *self, StartData *d)
{
  const HnTrainConfig *config = &d->config;
  g_autofree char *runs = g_build_filename (g_get_user_data_dir (), "hydranet-studio", "runs", NULL);
  HnError err;
  char *folder = run_folder_create (runs, &err); /* a mkdir or two: cheap enough here */
  if (folder == NULL)
    {
      set_message (self, err.message);
      set_state (self, HYDRA_RUN_FAILED);
      start_data_free (d);
      return;
    }
  d->folder = g_strdup (folder);
  free (folder);

  set_str (&self->run_folder, d->folder);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUN_FOLDER]);

  /* the old run keeps serving predictions until the new one exists */
  if (self->run != NULL)
    trainer_stop (self->run->trainer);
  g_clear_handle_id (&self->poll_id, g_source_remove);

  hydra_series_clear (self->series);
  hydra_series_set_age_loss (self->series, config->loss.age_loss);
  self->stop_requested = FALSE;
  clear_pending (self);
  progress_init (&self->progress, config->epochs, config->batch);
  progress_set_budget (&self->progress, config->clock_start, config->time_budget);
  self->val_mae = -1;

  g_object_freeze_notify (G_OBJECT (self));
  for (int p = PROP_STEP; p <= PROP_VAL_MAE; p++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[p]);
  set_message (self, NULL);
  set_state (self, HYDRA_RUN_STARTING);
  g_object_thaw_notify (G_OBJECT (self));

  g_clear_object (&self->start_cancellable);
  self->start_cancellable = g_cancellable_new ();
  g_autoptr (GTask) task = g_task_new (self, self->start_cancellable, start_done, NULL);
  g_task_set_source_tag (task, hydra_trainer_start);
  g_task_set_task_data (task, d, start_data_free);
  g_task_run_in_thread (task, start_thread);
}

void
hydra_trainer_start (HydraTrainer *self, const HnTrainConfig *config, HydraDataset *ds)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (config != NULL && ds != NULL);
  g_return_if_fail (!hydra_trainer_get_busy (self));

  StartData *d = g_new0 (StartData, 1);
  d->config = *config;
  d->loss = config->loss;
  d->lr = config->optimizer.lr;
  d->ds = hydra_dataset_ref (ds);
  begin_run (self, d);
}

void
hydra_trainer_fork (HydraTrainer *self, const char *checkpoint, const HnRunInfo *parent,
                    int epochs, HydraDataset *ds)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (checkpoint != NULL && parent != NULL && ds != NULL);
  g_return_if_fail (!hydra_trainer_get_busy (self));

  StartData *d = g_new0 (StartData, 1);
  d->config = parent->settings;
  d->preset = g_strdup (parent->preset);
  d->fork_of = g_strdup (checkpoint);
  d->config.preset = d->preset;
  d->config.checkpoint_path = NULL;
  d->config.records_path = NULL;
  d->config.clock_start = hn_seconds (); /* a time budget counts from the fork's start */
  if (epochs > 0)
    d->config.epochs = epochs;
  d->loss = parent->settings.loss;
  d->lr = parent->settings.optimizer.lr;
  d->ds = hydra_dataset_ref (ds);
  begin_run (self, d);
}

/* ---- controls ---- */

static HnTrainer *
live_trainer (HydraTrainer *self)
{
  if (self->run == NULL || self->poll_id == 0)
    return NULL;
  return self->run->trainer;
}

void
hydra_trainer_pause (HydraTrainer *self)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_pause (t);
}

void
hydra_trainer_resume (HydraTrainer *self)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_resume_training (t);
}

void
hydra_trainer_stop (HydraTrainer *self)
{
  HnTrainer *t = live_trainer (self);

  if (self->state == HYDRA_RUN_STARTING)
    self->stop_requested = TRUE;
  else if (t != NULL)
    trainer_stop (t);
}

void
hydra_trainer_rollback (HydraTrainer *self)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_rollback (t);
}

void
hydra_trainer_reset (HydraTrainer *self)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));

  if (self->start_cancellable != NULL)
    g_cancellable_cancel (self->start_cancellable);
  g_clear_object (&self->start_cancellable);
  if (self->run != NULL)
    trainer_stop (self->run->trainer);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  hydra_series_clear (self->series);
  progress_init (&self->progress, self->progress.epochs, self->progress.batch_size);
  self->eta = -1;
  g_object_freeze_notify (G_OBJECT (self));
  for (int p = PROP_STEP; p <= PROP_ETA; p++)
    g_object_notify_by_pspec (G_OBJECT (self), properties[p]);
  set_message (self, NULL);
  set_state (self, HYDRA_RUN_IDLE);
  g_object_thaw_notify (G_OBJECT (self));
}

void
hydra_trainer_set_weight (HydraTrainer *self, int head, double weight)
{
  g_return_if_fail (head >= 0 && head < N_HEADS);
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_set_weight (t, head, (float) weight);
  else if (self->state == HYDRA_RUN_STARTING)
    self->pending_weight[head] = weight;
}

void
hydra_trainer_set_age_loss (HydraTrainer *self, HnAgeLoss kind)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_set_age_loss (t, kind);
  else if (self->state == HYDRA_RUN_STARTING)
    self->pending_age_loss = kind;
}

void
hydra_trainer_set_balance (HydraTrainer *self, HnBalance method)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_set_balance (t, method);
  else if (self->state == HYDRA_RUN_STARTING)
    self->pending_balance = method;
}

void
hydra_trainer_set_lr (HydraTrainer *self, double lr)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_set_lr (t, (float) lr);
  else if (self->state == HYDRA_RUN_STARTING)
    self->pending_lr = lr;
}

/* ---- a record opened from a file ---- */

static void
record_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  HydraTrainer *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr (HydraSeries) series = hydra_series_read_csv_finish (result, &error);

  self->loading = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  if (series == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  hydra_trainer_reset (self);
  guint n = hydra_series_get_n_steps (series), n_val = hydra_series_get_n_epochs (series);
  if (n > 0)
    self->progress.step = hydra_series_get_step (series, n - 1)->step;
  if (n_val > 0)
    set_double (self, &self->val_mae, hydra_series_get_epoch (series, n_val - 1)->eval.age_mae,
                PROP_VAL_MAE);
  hydra_series_take (self->series, series);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  g_task_return_boolean (task, TRUE);
}

void
hydra_trainer_open_record_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (G_IS_FILE (file));

  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *path = g_file_get_path (file);

  g_task_set_source_tag (task, hydra_trainer_open_record_async);
  if (path == NULL || hydra_trainer_get_busy (self))
    {
      g_task_return_new_error (task, G_IO_ERROR,
                               path ? G_IO_ERROR_BUSY : G_IO_ERROR_NOT_SUPPORTED, "%s",
                               path ? "Stop training before opening a record"
                                    : "Records can only be opened from local files");
      g_object_unref (task);
      return;
    }
  self->loading = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  hydra_series_read_csv_async (path, cancellable, record_read, task);
}

gboolean
hydra_trainer_open_record_finish (HydraTrainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- properties ---- */

HydraSeries *
hydra_trainer_get_series (HydraTrainer *self)
{
  return self->series;
}

HydraRunState
hydra_trainer_get_state (HydraTrainer *self)
{
  return self->state;
}

gboolean
hydra_trainer_get_saving (HydraTrainer *self)
{
  return self->saving > 0;
}

gboolean
hydra_trainer_get_busy (HydraTrainer *self)
{
  return self->loading || self->state == HYDRA_RUN_STARTING || self->state == HYDRA_RUN_RUNNING
         || self->state == HYDRA_RUN_PAUSED || self->state == HYDRA_RUN_DIVERGED;
}

gboolean
hydra_trainer_get_start_settings (HydraTrainer *self, HnLossConfig *loss, double *lr)
{
  if (self->run == NULL || self->state == HYDRA_RUN_STARTING)
    return FALSE;
  *loss = self->start_loss;
  *lr = self->start_lr;
  return TRUE;
}

const char *
hydra_trainer_get_message (HydraTrainer *self)
{
  return self->message;
}

const char *
hydra_trainer_get_run_folder (HydraTrainer *self)
{
  return self->run_folder;
}

double
hydra_trainer_get_val_mae (HydraTrainer *self)
{
  return self->val_mae;
}

gboolean
hydra_trainer_get_has_model (HydraTrainer *self)
{
  return self->run != NULL || self->loaded != NULL;
}

int
hydra_trainer_get_input_size (HydraTrainer *self)
{
  if (self->run != NULL)
    return self->run->size;
  if (self->loaded != NULL)
    return self->loaded->size;
  return CHECKPOINT_DEFAULT_SIZE;
}

static void
hydra_trainer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraTrainer *self = HYDRA_TRAINER (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_STEP:
      g_value_set_int64 (value, self->progress.step);
      break;
    case PROP_EPOCH:
      g_value_set_int (value, self->progress.epoch);
      break;
    case PROP_EPOCHS:
      g_value_set_int (value, self->progress.epochs);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress.fraction);
      break;
    case PROP_IMG_PER_S:
      g_value_set_double (value, self->progress.img_per_s);
      break;
    case PROP_ETA:
      g_value_set_double (value, self->eta);
      break;
    case PROP_VAL_MAE:
      g_value_set_double (value, self->val_mae);
      break;
    case PROP_HAS_MODEL:
      g_value_set_boolean (value, hydra_trainer_get_has_model (self));
      break;
    case PROP_INPUT_SIZE:
      g_value_set_int (value, hydra_trainer_get_input_size (self));
      break;
    case PROP_RUN_FOLDER:
      g_value_set_string (value, self->run_folder);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, hydra_trainer_get_busy (self));
      break;
    case PROP_SAVING:
      g_value_set_boolean (value, self->saving > 0);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_trainer_dispose (GObject *object)
{
  HydraTrainer *self = HYDRA_TRAINER (object);

  if (self->start_cancellable != NULL)
    g_cancellable_cancel (self->start_cancellable);
  g_clear_object (&self->start_cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  hydra_trainer_replace_run (self, NULL);
  hydra_trainer_drop_loaded (self);
  g_clear_object (&self->series);

  G_OBJECT_CLASS (hydra_trainer_parent_class)->dispose (object);
}

static void
hydra_trainer_finalize (GObject *object)
{
  HydraTrainer *self = HYDRA_TRAINER (object);

  g_free (self->events);
  g_free (self->message);
  g_free (self->run_folder);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (hydra_trainer_parent_class)->finalize (object);
}

static void
hydra_trainer_class_init (HydraTrainerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->get_property = hydra_trainer_get_property;
  object_class->dispose = hydra_trainer_dispose;
  object_class->finalize = hydra_trainer_finalize;

  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, HYDRA_TYPE_RUN_STATE, HYDRA_RUN_IDLE, ro);
  properties[PROP_MESSAGE] = g_param_spec_string ("message", NULL, NULL, NULL, ro);
  properties[PROP_STEP] = g_param_spec_int64 ("step", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_EPOCH] = g_param_spec_int ("epoch", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_EPOCHS] = g_param_spec_int ("epochs", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, ro);
  properties[PROP_IMG_PER_S] = g_param_spec_double ("img-per-s", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_ETA] = g_param_spec_double ("eta", NULL, NULL, -1, G_MAXDOUBLE, -1, ro);
  properties[PROP_VAL_MAE] = g_param_spec_double ("val-mae", NULL, NULL, -1, G_MAXDOUBLE, -1, ro);
  properties[PROP_HAS_MODEL] = g_param_spec_boolean ("has-model", NULL, NULL, FALSE, ro);
  properties[PROP_INPUT_SIZE] = g_param_spec_int ("input-size", NULL, NULL, 0, G_MAXINT, 32, ro);
  properties[PROP_RUN_FOLDER] = g_param_spec_string ("run-folder", NULL, NULL, NULL, ro);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_SAVING] = g_param_spec_boolean ("saving", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hydra_trainer_init (HydraTrainer *self)
{
  g_mutex_init (&self->lock);
  self->series = hydra_series_new ();
  self->events = g_new (HnEvent, POLL_BATCH);
  self->val_mae = -1;
  self->eta = -1;
  clear_pending (self);
}

HydraTrainer *
hydra_trainer_new (void)
{
  return g_object_new (HYDRA_TYPE_TRAINER, NULL);
}
