/* hydra-trainer-models.c — the model the studio predicts with and saves.
 *
 * Two sources, shared with GTask workers under the trainer's `lock`: the live (or last) run,
 * whose weights are copied between two of its steps, and a model loaded from a file. The
 * copies happen outside the lock, holding a reference to their source.
 */

#include "hydra-trainer-private.h"
#include "hydra-application.h"

#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "runmeta.h"

static gpointer
run_free (gpointer data)
{
  HydraRun *run = data;

  trainer_free (run->trainer);
  hydra_dataset_unref (run->ds);
  g_free (run);
  return NULL;
}

static HydraRun *
run_acquire (HydraRun *run)
{
  g_atomic_ref_count_inc (&run->ref);
  return run;
}

/* Tearing a run down joins the trainer thread, which can take a step: the main thread hands
 * the last reference to a short-lived thread instead of waiting. */
void
hydra_run_release (HydraRun *run)
{
  if (run == NULL || !g_atomic_ref_count_dec (&run->ref))
    return;
  if (g_main_context_is_owner (g_main_context_default ()))
    g_thread_unref (g_thread_new ("hydra-run-free", run_free, run));
  else
    run_free (run);
}

static void
loaded_clear (gpointer data)
{
  model_free (((HydraLoaded *) data)->model);
}

static void
loaded_release (HydraLoaded *loaded)
{
  if (loaded != NULL)
    g_atomic_rc_box_release_full (loaded, loaded_clear);
}

void
hydra_trainer_replace_run (HydraTrainer *self, HydraRun *run)
{
  g_mutex_lock (&self->lock);
  HydraRun *old = g_steal_pointer (&self->run);
  self->run = run;
  g_mutex_unlock (&self->lock);

  if (old != NULL)
    {
      trainer_stop (old->trainer);
      hydra_run_release (old);
    }
}

void
hydra_trainer_drop_loaded (HydraTrainer *self)
{
  g_mutex_lock (&self->lock);
  HydraLoaded *loaded = g_steal_pointer (&self->loaded);
  g_mutex_unlock (&self->lock);
  loaded_release (loaded);
}

/* ---- copies ---- */

/* A reference to whichever source is current: the run, else the loaded model, else none.
 * The copies happen outside the lock, which the main thread takes too. */
static void
acquire_source (HydraTrainer *self, HydraRun **run, HydraLoaded **loaded)
{
  *run = NULL;
  *loaded = NULL;
  g_mutex_lock (&self->lock);
  if (self->run != NULL)
    *run = run_acquire (self->run);
  else if (self->loaded != NULL)
    *loaded = g_atomic_rc_box_acquire (self->loaded);
  g_mutex_unlock (&self->lock);
}

static HnModel *
copy_model (const HnModel *src)
{
  HnModel *copy = model_new (model_backbone (src), 0);
  if (copy != NULL)
    model_copy_weights (copy, src);
  return copy;
}

HnModel *
hydra_trainer_dup_model (HydraTrainer *self, int *input_size)
{
  g_return_val_if_fail (HYDRA_IS_TRAINER (self), NULL);

  HnModel *copy = NULL;
  HydraRun *run;
  HydraLoaded *loaded;

  acquire_source (self, &run, &loaded);

  if (loaded != NULL)
    {
      copy = copy_model (loaded->model);
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
      hydra_run_release (run);
    }
  return copy;
}

/* ---- saving ---- */

/* A run's model goes out with the run's metadata (runmeta.h); a loaded one with what is
 * known of it. */
static void
save_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  HydraTrainer *self = source;
  const char *path = task_data;
  HydraRun *run;
  HydraLoaded *loaded;
  HnError err = { "There is no model to save yet" };
  gboolean ok = FALSE;

  acquire_source (self, &run, &loaded);

  if (run != NULL)
    {
      ok = trainer_save_model (run->trainer, path, &err);
      hydra_run_release (run);
    }
  if (loaded != NULL)
    {
      HnRunMeta meta = { .source = HYDRA_SOURCE, .val_age_mae = loaded->val_mae,
                         .val_gender_acc = NAN, .val_race_acc = NAN };
      HnMetaList list;
      run_meta_format (&meta, &list);
      ok = checkpoint_save (loaded->model, loaded->size, path, list.items, list.n, &err);
      loaded_release (loaded);
    }
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, G_IO_ERROR,
                             run || loaded ? G_IO_ERROR_FAILED : G_IO_ERROR_NOT_FOUND, "%s",
                             err.message);
}

void
hydra_trainer_save_async (HydraTrainer *self, GFile *file, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (HYDRA_IS_TRAINER (self));
  g_return_if_fail (G_IS_FILE (file));

  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  char *path = g_file_get_path (file);

  g_task_set_source_tag (task, hydra_trainer_save_async);
  g_task_set_task_data (task, path, g_free);
  if (path == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             "Models can only be saved to local files");
  else
    g_task_run_in_thread (task, save_thread);
}

gboolean
hydra_trainer_save_finish (HydraTrainer *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- loading ---- */

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *path = task_data;
  HnError err;
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_MODEL, &err);

  if (c == NULL)
    {
      g_autofree char *name = g_path_get_basename (path);
      /* the message starts with the path, which the window already names */
      const char *why = g_str_has_prefix (err.message, path) ? err.message + strlen (path) + 2
                                                             : err.message;
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "Cannot open “%s”: %s",
                               name, why);
      return;
    }
  HydraLoaded *loaded = g_atomic_rc_box_new0 (HydraLoaded);
  HnRunMeta meta;
  loaded->size = c->info.input_size;
  /* the file's word on its quality, not to be trusted: a malformed one is no figure at all */
  loaded->val_mae = run_meta_read (c->st, &meta, &err) ? meta.val_age_mae : NAN;
  loaded->model = checkpoint_take_model (c);
  checkpoint_close (c);
  g_task_return_pointer (task, loaded, (GDestroyNotify) loaded_release);
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
      hydra_trainer_notify (self, PROP_BUSY);
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
      hydra_trainer_notify (self, PROP_BUSY);
    }
  HydraLoaded *loaded = g_task_propagate_pointer (G_TASK (result), error);
  if (loaded == NULL)
    return FALSE;

  /* a loaded model replaces the last run as what predictions use */
  g_mutex_lock (&self->lock);
  HydraLoaded *old = self->loaded;
  self->loaded = loaded;
  g_mutex_unlock (&self->lock);
  loaded_release (old);
  hydra_trainer_replace_run (self, NULL);

  hydra_trainer_reset (self);
  hydra_trainer_set_val_mae (self, isfinite (loaded->val_mae) ? loaded->val_mae : -1);
  hydra_trainer_notify (self, PROP_HAS_MODEL);
  hydra_trainer_notify (self, PROP_INPUT_SIZE);
  return TRUE;
}
