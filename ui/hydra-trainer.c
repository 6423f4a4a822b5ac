/* hydra-trainer.c — the engine's trainer thread, seen from the GTK main thread.
 *
 * Three kinds of thread touch this object:
 *  - the main thread owns it: properties, the series, the poll timer;
 *  - GTask workers build a run (trainer_new writes the first checkpoint), save and load
 *    models, and copy the model for prediction;
 *  - the engine's own trainer thread, which it only ever talks to through trainer.h.
 * `lock` guards the two model sources (the live run and a loaded model) against the workers;
 * a run is reference-counted so a worker copying its weights keeps it alive, and the last
 * reference tears it down on a thread of its own (trainer_free joins, which can take a step).
 */

#include "hydra-trainer.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "checkpoint.h"

#define POLL_INTERVAL_MS 33 /* about one frame: curves move smoothly, the loop stays idle */
#define POLL_BATCH 512

G_DEFINE_ENUM_TYPE (HydraRunState, hydra_run_state, G_DEFINE_ENUM_VALUE (HYDRA_RUN_IDLE, "idle"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_STARTING, "starting"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_DIVERGED, "diverged"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_FINISHED, "finished"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_STOPPED, "stopped"),
                    G_DEFINE_ENUM_VALUE (HYDRA_RUN_FAILED, "failed"))

/* One engine run and what it borrows. */
typedef struct
{
  gatomicrefcount ref;
  HnTrainer *trainer;
  HydraDataset *ds;
  HnBackbone backbone;
  int size;
} Run;

static gpointer
run_free (gpointer data)
{
  Run *run = data;

  trainer_free (run->trainer);
  hydra_dataset_unref (run->ds);
  g_free (run);
  return NULL;
}

static Run *
run_acquire (Run *run)
{
  g_atomic_ref_count_inc (&run->ref);
  return run;
}

/* Tearing a run down joins the trainer thread, which can take a step: the main thread hands
 * the last reference to a short-lived thread instead of waiting. */
static void
run_release (Run *run)
{
  if (run == NULL || !g_atomic_ref_count_dec (&run->ref))
    return;
  if (g_main_context_is_owner (g_main_context_default ()))
    g_thread_unref (g_thread_new ("hydra-run-free", run_free, run));
  else
    run_free (run);
}

/* A model loaded from a file: shared with the workers that copy it, freed by the last. */
typedef struct
{
  HnModel *model;
  int size;
} Loaded;

static void
loaded_clear (gpointer data)
{
  model_free (((Loaded *) data)->model);
}

static void
loaded_release (Loaded *loaded)
{
  if (loaded != NULL)
    g_atomic_rc_box_release_full (loaded, loaded_clear);
}

static gboolean
set_str (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

struct _HydraTrainer
{
  GObject parent_instance;

  HydraSeries *series;

  /* model sources, shared with workers */
  GMutex lock;
  Run *run;       /* the live or last run; NULL after a model is loaded */
  Loaded *loaded; /* a model loaded from a file, used when run is NULL */

  /* the run as the main thread sees it */
  HydraRunState state;
  char *message;
  char *run_folder;
  gboolean stop_requested; /* Stop pressed while the run was still starting */
  /* live settings changed while the run was starting: sent once it exists (NaN / -1: none) */
  double pending_weight[N_HEADS];
  int pending_age_loss;
  double pending_lr;
  gboolean loading;
  int saving; /* autosaves in flight */
  guint poll_id;
  HnEvent *events; /* (POLL_BATCH) poll buffer */
  GCancellable *start_cancellable;

  int64_t step; /* optimizer steps done, as the trainer counts them */
  int epoch, epochs;
  int batches, batch_size;
  double progress;
  double img_per_s;
  double eta;
  double val_mae;
  float weight[N_HEADS];
  HnAgeLoss age_loss;
};

G_DEFINE_FINAL_TYPE (HydraTrainer, hydra_trainer, G_TYPE_OBJECT)

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

static GParamSpec *properties[N_PROPS];

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

/* ---- turning engine events into series points and markers ---- */

static void
add_setting_marker (HydraTrainer *self, const HnEvent *e, int64_t step)
{
  g_autofree char *label = NULL;
  HydraMarkerKind kind = HYDRA_MARKER_SETTING;

  switch (e->setting.what)
    {
    case SETTING_W_AGE:
    case SETTING_W_GENDER:
    case SETTING_W_RACE:
      self->weight[e->setting.what - SETTING_W_AGE] = (float) e->setting.value;
      label = g_strdup_printf ("%s %g → %g", setting_name (e->setting.what), e->setting.old_value,
                               e->setting.value);
      break;
    case SETTING_AGE_LOSS:
      self->age_loss = (HnAgeLoss) e->setting.value;
      hydra_series_set_age_loss (self->series, self->age_loss);
      label = g_strdup_printf ("age %s → %s", age_loss_title ((HnAgeLoss) e->setting.old_value),
                               age_loss_title (self->age_loss));
      break;
    case SETTING_LR:
      label = g_strdup_printf ("lr %g → %g", e->setting.old_value, e->setting.value);
      break;
    case SETTING_PAUSE:
      kind = HYDRA_MARKER_STATE;
      label = g_strdup ("paused");
      break;
    case SETTING_RESUME:
      kind = HYDRA_MARKER_STATE;
      label = g_strdup ("resumed");
      break;
    case SETTING_ROLLBACK:
      kind = HYDRA_MARKER_ROLLBACK;
      label = g_strdup_printf ("rolled back to step %lld", (long long) e->setting.value);
      break;
    default:
      return;
    }
  hydra_series_add_marker (self->series, step, kind, label);
}

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
  if (self->img_per_s <= 0 || self->batches <= 0 || self->state != HYDRA_RUN_RUNNING)
    {
      set_double (self, &self->eta, -1, PROP_ETA);
      return;
    }
  double steps_left = (self->epochs - self->epoch - self->progress) * self->batches;
  set_double (self, &self->eta, MAX (0, steps_left) * self->batch_size / self->img_per_s, PROP_ETA);
}

/* ---- the run folder: nothing a run made is lost when the app goes away ---- */

static void
autosave_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraTrainer) self = user_data;
  g_autoptr (GError) error = NULL;
  gboolean ok = HYDRA_IS_SERIES (source)
                    ? hydra_series_write_csv_finish (HYDRA_SERIES (source), result, &error)
                    : hydra_trainer_save_finish (self, result, &error);

  if (!ok)
    {
      g_autofree char *text
          = g_strdup_printf ("Autosave into the run folder failed: %s", error->message);
      set_message (self, text);
    }
  if (--self->saving == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVING]);
}

static void
autosave_curves (HydraTrainer *self)
{
  g_autofree char *path = g_build_filename (self->run_folder, "curves.csv", NULL);

  if (self->saving++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVING]);
  hydra_series_write_csv_async (self->series, path, NULL, autosave_done, g_object_ref (self));
}

/* At the end of a run: the final weights beside the epoch checkpoints, and the curves. */
static void
autosave_run (HydraTrainer *self)
{
  g_autofree char *path = g_build_filename (self->run_folder, "model.safetensors", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);

  autosave_curves (self);
  self->saving++;
  hydra_trainer_save_async (self, file, NULL, autosave_done, g_object_ref (self));
}

static void
handle_event (HydraTrainer *self, const HnEvent *e)
{
  /* After a rollback the trainer counts from an earlier step again: the series keeps the
   * abandoned steps as a segment of their own, and the plot draws them faded. */
  int64_t step = e->step;

  switch (e->kind)
    {
    case EVENT_STEP:
      {
        const HnStepEvent *s = &e->train;
        HydraStepPoint p = { .step = step, .lr = s->lr, .img_per_s = s->img_per_s };
        p.epoch = e->epoch + (s->batch_index + 1.0) / MAX (1, s->batches);
        for (int h = 0; h < N_HEADS; h++)
          {
            p.loss[HYDRA_CURVE_AGE + h] = s->raw[h];
            p.loss[HYDRA_CURVE_AGE_WEIGHTED + h] = s->weighted[h];
            p.grad_norm[h] = s->grad_norm[h];
            self->weight[h] = s->weight[h];
          }
        p.loss[HYDRA_CURVE_TOTAL] = s->total;
        memcpy (p.cosine, s->cosine, sizeof p.cosine);
        hydra_series_add_step (self->series, &p);
        if (s->age_loss != self->age_loss)
          hydra_series_set_age_loss (self->series, self->age_loss = s->age_loss);

        self->batches = s->batches;
        self->batch_size = MAX (self->batch_size, s->images);
        self->epoch = e->epoch;
        self->step = step;
        self->progress = (s->batch_index + 1.0) / MAX (1, s->batches);
        /* a short moving average: one slow step (a snapshot, a save) should not swing the ETA */
        self->img_per_s
            = self->img_per_s > 0 ? 0.9 * self->img_per_s + 0.1 * s->img_per_s : s->img_per_s;
        break;
      }
    case EVENT_EPOCH:
      {
        HydraEpochPoint p = { .step = step, .epoch = e->epoch, .eval = e->val };
        float total = 0;
        for (int h = 0; h < N_HEADS; h++)
          {
            p.loss[HYDRA_CURVE_AGE + h] = (float) e->val.loss[h];
            p.loss[HYDRA_CURVE_AGE_WEIGHTED + h] = self->weight[h] * (float) e->val.loss[h];
            total += p.loss[HYDRA_CURVE_AGE_WEIGHTED + h];
          }
        p.loss[HYDRA_CURVE_TOTAL] = total;
        if (e->val.n > 0)
          {
            hydra_series_add_epoch (self->series, &p);
            set_double (self, &self->val_mae, e->val.age_mae, PROP_VAL_MAE);
          }
        self->epoch = e->epoch;
        self->progress = 0;
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EPOCH]);
        autosave_curves (self);
        break;
      }
    case EVENT_SETTING:
      add_setting_marker (self, e, step);
      if (e->setting.what == SETTING_ROLLBACK)
        self->step = step; /* poll_cb notifies */
      break;
    case EVENT_STATE:
      {
        HydraRunState state = run_state_from_engine (e->state.state);
        if (state == HYDRA_RUN_DIVERGED)
          hydra_series_add_marker (self->series, step, HYDRA_MARKER_STATE, "diverged");
        else if (state == HYDRA_RUN_STOPPED)
          hydra_series_add_marker (self->series, step, HYDRA_MARKER_STATE, "stopped");
        if (e->state.error || state == HYDRA_RUN_DIVERGED || state == HYDRA_RUN_FAILED)
          set_message (self, e->state.message);
        else if (state == HYDRA_RUN_RUNNING)
          set_message (self, NULL);
        set_state (self, state);
        if (state == HYDRA_RUN_FINISHED || state == HYDRA_RUN_STOPPED)
          autosave_run (self);
        break;
      }
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
  int64_t step_before = self->step;
  double progress_before = self->progress;
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
  if (self->step != step_before)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
  if (self->progress != progress_before)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMG_PER_S]);
  update_eta (self);
  g_object_thaw_notify (G_OBJECT (self));

  gboolean over = self->state == HYDRA_RUN_FINISHED || self->state == HYDRA_RUN_STOPPED
                  || self->state == HYDRA_RUN_FAILED;
  if (over)
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
} StartData;

static void
start_data_free (gpointer data)
{
  StartData *d = data;

  hydra_dataset_unref (d->ds);
  g_free (d->folder);
  g_free (d);
}

static void
start_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  StartData *d = task_data;
  g_autofree char *checkpoint = g_build_filename (d->folder, "checkpoint.safetensors", NULL);
  HnError err;

  if (g_mkdir_with_parents (d->folder, 0755) != 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "Cannot create the run folder %s: %s", d->folder,
                               g_strerror (saved));
      return;
    }
  d->config.checkpoint_path = checkpoint;
  HnTrainer *trainer = trainer_new (&d->config, hydra_dataset_get (d->ds), NULL, NULL, &err);
  if (trainer == NULL || !trainer_start (trainer, &err))
    {
      trainer_free (trainer);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  Run *run = g_new0 (Run, 1);
  g_atomic_ref_count_init (&run->ref);
  run->trainer = trainer;
  run->ds = hydra_dataset_ref (d->ds);
  run->backbone = d->config.backbone;
  run->size = d->config.size;
  g_task_return_pointer (task, run, (GDestroyNotify) run_release);
}

static void
clear_pending (HydraTrainer *self)
{
  for (int h = 0; h < N_HEADS; h++)
    self->pending_weight[h] = NAN;
  self->pending_age_loss = -1;
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
  if (!isnan (self->pending_lr))
    trainer_set_lr (trainer, (float) self->pending_lr);
  clear_pending (self);
}

static void
replace_run (HydraTrainer *self, Run *run)
{
  g_mutex_lock (&self->lock);
  Run *old = g_steal_pointer (&self->run);
  self->run = run;
  g_mutex_unlock (&self->lock);

  if (old != NULL)
    {
      trainer_stop (old->trainer);
      run_release (old);
    }
}

static void
start_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraTrainer *self = HYDRA_TRAINER (source);
  g_autoptr (GError) error = NULL;
  Run *run = g_task_propagate_pointer (G_TASK (result), &error);

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

  g_mutex_lock (&self->lock);
  Loaded *loaded = g_steal_pointer (&self->loaded);
  g_mutex_unlock (&self->lock);
  loaded_release (loaded);
  replace_run (self, run);
  apply_pending (self, run->trainer);
  set_state (self, HYDRA_RUN_RUNNING);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MODEL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_SIZE]);
  if (self->stop_requested)
    trainer_stop (run->trainer);
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
}

static char *
new_run_folder (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *name = g_date_time_format (now, "%Y-%m-%d-%H%M%S");

  return g_build_filename (g_get_user_data_dir (), "hydranet-studio", "runs", name, NULL);
}

/* Creates the run folder; a name already taken (two runs within a second) gets a suffix, so
 * no run ever writes into another's. Returns the path used. */
static char *
make_run_folder (const char *base, GError **error)
{
  g_autofree char *parent = g_path_get_dirname (base);

  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot create the folder %s: %s", parent, g_strerror (saved));
      return NULL;
    }
  for (int i = 1; i < 1000; i++)
    {
      char *path = i == 1 ? g_strdup (base) : g_strdup_printf ("%s-%d", base, i);
      if (g_mkdir (path, 0755) == 0)
        return path;
      int saved = errno;
      g_free (path);
      if (saved != EEXIST)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Cannot create the run folder %s: %s", base, g_strerror (saved));
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "Too many run folders named %s", base);
  return NULL;
}

void
hydra_trainer_start (HydraTrainer *self, const HnTrainConfig *config, HydraDataset *ds)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (config != NULL && ds != NULL);
  g_return_if_fail (!hydra_trainer_get_busy (self));

  g_autofree char *base = new_run_folder ();
  g_autoptr (GError) error = NULL;
  char *folder = make_run_folder (base, &error); /* one mkdir: cheap enough here */
  if (folder == NULL)
    {
      set_message (self, error->message);
      set_state (self, HYDRA_RUN_FAILED);
      return;
    }
  StartData *d = g_new0 (StartData, 1);
  d->config = *config;
  d->ds = hydra_dataset_ref (ds);
  d->folder = folder;

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
  self->step = 0;
  self->epoch = 0;
  self->epochs = config->epochs;
  self->batches = 0;
  self->batch_size = config->batch;
  self->progress = 0;
  self->img_per_s = 0;
  self->val_mae = -1;
  self->age_loss = config->loss.age_loss;
  memcpy (self->weight, config->loss.weight, sizeof self->weight);

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
  self->step = 0;
  self->epoch = 0;
  self->progress = 0;
  self->img_per_s = 0;
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
hydra_trainer_set_lr (HydraTrainer *self, double lr)
{
  HnTrainer *t = live_trainer (self);

  if (t != NULL)
    trainer_set_lr (t, (float) lr);
  else if (self->state == HYDRA_RUN_STARTING)
    self->pending_lr = lr;
}

/* ---- the model, for prediction and saving ---- */

HnModel *
hydra_trainer_dup_model (HydraTrainer *self, int *input_size)
{
  g_return_val_if_fail (HYDRA_IS_TRAINER (self), NULL);

  HnModel *copy = NULL;
  Run *run = NULL;
  Loaded *loaded = NULL;

  g_mutex_lock (&self->lock);
  if (self->run != NULL)
    run = run_acquire (self->run);
  else if (self->loaded != NULL)
    loaded = g_atomic_rc_box_acquire (self->loaded);
  g_mutex_unlock (&self->lock);

  /* the copies happen outside the lock: the main thread takes it too */
  if (loaded != NULL)
    {
      HnModel *src = loaded->model;
      const HnParamTable *table = model_params (src);
      copy = model_new (model_backbone (src), 0);
      if (copy != NULL)
        {
          memcpy (model_param_data (copy), model_param_data (src),
                  table->n_params * sizeof (float));
          memcpy (model_buffer_data (copy), model_buffer_data (src),
                  table->n_buffers * sizeof (float));
          memcpy (model_count_data (copy), model_count_data (src),
                  table->n_counts * sizeof (int64_t));
        }
      if (input_size != NULL)
        *input_size = loaded->size;
      loaded_release (loaded);
    }
  if (run != NULL)
    {
      /* the snapshot waits for the trainer's current step */
      copy = model_new (run->backbone, 0);
      if (copy != NULL)
        trainer_snapshot (run->trainer, copy);
      if (input_size != NULL)
        *input_size = run->size;
      run_release (run);
    }
  return copy;
}

typedef struct
{
  char *path;
  HnModel *model;
  int size;
  char *meta_values[6];
} SaveData;

static void
save_data_free (gpointer data)
{
  SaveData *d = data;

  g_free (d->path);
  model_free (d->model);
  for (guint i = 0; i < G_N_ELEMENTS (d->meta_values); i++)
    g_free (d->meta_values[i]);
  g_free (d);
}

static void
save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  HydraTrainer *self = source;
  SaveData *d = task_data;
  HnError err;

  d->model = hydra_trainer_dup_model (self, &d->size);
  if (d->model == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               "There is no model to save yet");
      return;
    }
  const StMeta meta[] = {
    { "source", "HydraNet Studio " HYDRA_VERSION }, { "train.w_age", d->meta_values[0] },
    { "train.w_gender", d->meta_values[1] },        { "train.w_race", d->meta_values[2] },
    { "train.age_loss", d->meta_values[3] },        { "train.step", d->meta_values[4] },
    { "val.age_mae", d->meta_values[5] },
  };
  if (!checkpoint_save (d->model, d->size, d->path, meta, G_N_ELEMENTS (meta), &err))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
  else
    g_task_return_boolean (task, TRUE);
}

void
hydra_trainer_save_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (G_IS_FILE (file));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_trainer_save_async);

  SaveData *d = g_new0 (SaveData, 1);
  d->path = g_file_get_path (file);
  for (int h = 0; h < N_HEADS; h++)
    d->meta_values[h] = g_strdup_printf ("%g", self->weight[h]);
  d->meta_values[3] = g_strdup (age_loss_name (self->age_loss));
  d->meta_values[4] = g_strdup_printf ("%lld", (long long) self->step);
  d->meta_values[5] = self->val_mae >= 0 ? g_strdup_printf ("%.3f", self->val_mae) : g_strdup ("");
  g_task_set_task_data (task, d, save_data_free);
  if (d->path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "Models can only be saved to local files");
      return;
    }
  g_task_run_in_thread (task, save_thread);
}

gboolean
hydra_trainer_save_finish (HydraTrainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  HnModel *model;
  int size;
  double val_mae;
} LoadResult;

static void
load_result_free (gpointer data)
{
  LoadResult *r = data;

  model_free (r->model);
  g_free (r);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  HnCheckpointInfo info;
  HnError err;

  HnSafetensors *st = safetensors_read (path, &err);
  HnModel *model = NULL;
  if (st == NULL || !checkpoint_info (st, &info, &err)
      || (model = model_new (info.backbone, 0)) == NULL || !checkpoint_apply (model, st, &err))
    {
      g_autofree char *name = g_path_get_basename (path);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Cannot open “%s”: %s",
                               name, model == NULL && st != NULL ? "out of memory" : err.message);
      model_free (model);
      safetensors_free (st);
      return;
    }
  LoadResult *r = g_new0 (LoadResult, 1);
  r->model = model;
  r->size = info.input_size;
  const char *mae = safetensors_meta (st, "val.age_mae");
  double v = mae != NULL && *mae != '\0' ? g_ascii_strtod (mae, NULL) : -1;
  r->val_mae = isfinite (v) && v >= 0 ? v : -1; /* a file's word, not to be trusted */
  safetensors_free (st);
  g_task_return_pointer (task, r, load_result_free);
}

void
hydra_trainer_load_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (G_IS_FILE (file));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_trainer_load_async);
  char *path = g_file_get_path (file);
  g_task_set_task_data (task, path, g_free);

  if (path == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             "Models can only be opened from local files");
  else if (hydra_trainer_get_busy (self))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY,
                             "Stop training before opening another model");
  else
    {
      self->loading = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
      g_task_run_in_thread (task, load_thread);
    }
}

gboolean
hydra_trainer_load_finish (HydraTrainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (self->loading)
    {
      self->loading = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
    }
  LoadResult *r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return FALSE;

  /* a loaded model replaces the last run as what predictions use */
  Loaded *loaded = g_atomic_rc_box_new0 (Loaded);
  loaded->model = g_steal_pointer (&r->model);
  loaded->size = r->size;
  g_mutex_lock (&self->lock);
  Loaded *old = self->loaded;
  self->loaded = loaded;
  g_mutex_unlock (&self->lock);
  loaded_release (old);
  replace_run (self, NULL);
  double val_mae = r->val_mae;
  load_result_free (r);

  hydra_trainer_reset (self);
  set_double (self, &self->val_mae, val_mae, PROP_VAL_MAE);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_MODEL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INPUT_SIZE]);
  return TRUE;
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
      g_value_set_int64 (value, self->step);
      break;
    case PROP_EPOCH:
      g_value_set_int (value, self->epoch);
      break;
    case PROP_EPOCHS:
      g_value_set_int (value, self->epochs);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_IMG_PER_S:
      g_value_set_double (value, self->img_per_s);
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
  replace_run (self, NULL);
  g_mutex_lock (&self->lock);
  Loaded *loaded = g_steal_pointer (&self->loaded);
  g_mutex_unlock (&self->lock);
  loaded_release (loaded);
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
  self->weight[0] = self->weight[1] = self->weight[2] = 1;
  clear_pending (self);
}

HydraTrainer *
hydra_trainer_new (void)
{
  return g_object_new (HYDRA_TYPE_TRAINER, NULL);
}
