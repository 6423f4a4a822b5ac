/* hydra-dataset-loader.c — the engine's data set loaders on a worker thread.
 *
 * Each load is two tasks: the caller's (not threaded; it carries the result) and an inner
 * one that runs the engine on a worker thread. The inner task's callback runs on the main
 * thread, so "loading" is already FALSE when the caller's callback sees the result.
 */
#include "hydra-dataset-loader.h"

#include <locale.h>
#include <stdatomic.h>
#include <string.h>

#include "synth.h"

typedef enum
{
  LOAD_FOLDER,
  LOAD_SYNTHETIC,
} LoadKind;

typedef struct
{
  LoadKind kind;
  char *dir;
  int count;
  guint64 seed;
  int size;

  /* Shared with the worker and with the cancellable's handler (any thread). */
  HnLoadProgress progress;

  GCancellable *cancellable;
  gulong cancelled_id;

  /* Written by the worker, read after it returned. */
  HnDataset *dataset;
  GError *error;
} LoadJob;

struct _HydraDatasetLoader
{
  GObject parent_instance;

  /* Borrowed: the job of the load running, kept alive by its task. */
  LoadJob *current;

  guint poll_id;
  gboolean loading;
  double fraction;
  char *text;
};

G_DEFINE_FINAL_TYPE (HydraDatasetLoader, hydra_dataset_loader, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_LOADING,
  PROP_FRACTION,
  PROP_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

#define POLL_INTERVAL_MS 50

static void
load_job_free (gpointer data)
{
  LoadJob *job = data;

  if (job->cancellable != NULL)
    g_cancellable_disconnect (job->cancellable, job->cancelled_id);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->dataset, dataset_free);
  g_clear_error (&job->error);
  g_free (job->dir);
  g_free (job);
}

/* May run on any thread: the one that cancels. */
static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  LoadJob *job = user_data;

  atomic_store (&job->progress.cancel, true);
}

char *
hydra_format_count (gint64 n)
{
  const struct lconv *lc = localeconv ();
  const char *sep
      = lc->thousands_sep != NULL && lc->thousands_sep[0] != '\0' ? lc->thousands_sep : ",";
  /* -(n + 1) + 1 rather than -n, which overflows for G_MININT64 */
  guint64 magnitude = n < 0 ? (guint64) (-(n + 1)) + 1 : (guint64) n;
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, magnitude);
  GString *out = g_string_new (n < 0 ? "-" : "");
  gsize len = strlen (digits);

  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append (out, sep);
      g_string_append_c (out, digits[i]);
    }
  return g_string_free (out, FALSE);
}

static void
set_state (HydraDatasetLoader *self, gboolean loading, double fraction, const char *text)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->loading != loading)
    {
      self->loading = loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
    }
  if (self->fraction != fraction)
    {
      self->fraction = fraction;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
    }
  if (g_strcmp0 (self->text, text) != 0)
    {
      g_free (self->text);
      self->text = g_strdup (text);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
publish_progress (HydraDatasetLoader *self, LoadJob *job)
{
  int done = atomic_load (&job->progress.done);
  int total = atomic_load (&job->progress.total);
  g_autofree char *text = NULL;
  double fraction = 0.0;

  if (total > 0)
    fraction = CLAMP ((double) done / total, 0.0, 1.0);

  if (total <= 0)
    text = g_strdup (job->kind == LOAD_FOLDER ? "Listing the folder…" : "Preparing…");
  else if (done >= total)
    text = g_strdup ("Finishing…");
  else
    {
      g_autofree char *d = hydra_format_count (done);
      g_autofree char *t = hydra_format_count (total);

      if (job->kind == LOAD_FOLDER)
        text = g_strdup_printf ("Reading %s of %s images…", d, t);
      else
        text = g_strdup_printf ("Drawing %s of %s synthetic faces…", d, t);
    }

  set_state (self, TRUE, fraction, text);
}

static gboolean
on_poll (gpointer user_data)
{
  HydraDatasetLoader *self = user_data;

  if (self->current != NULL)
    publish_progress (self, self->current);
  return G_SOURCE_CONTINUE;
}

static GError *
error_from_engine (const LoadJob *job, const HnError *err)
{
  if (atomic_load (&job->progress.cancel))
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Loading was cancelled");

  if (job->kind == LOAD_FOLDER)
    {
      if (!dataset_size_supported (job->size))
        return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, err->message);
      if (!g_file_test (job->dir, G_FILE_TEST_EXISTS))
        return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, err->message);
      if (!g_file_test (job->dir, G_FILE_TEST_IS_DIR))
        return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, err->message);
    }
  else if (job->count < 1 || job->size < SYNTH_MIN_SIZE || job->size > SYNTH_MAX_SIZE)
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, err->message);

  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, err->message);
}

static void
load_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  LoadJob *job = task_data;
  HnError err = { { 0 } };

  /* threads = 0: every core; the window does not load while it trains. */
  if (job->kind == LOAD_FOLDER)
    job->dataset = dataset_open_folder (job->dir, job->size, NULL, 0, &job->progress, &err);
  else
    job->dataset
        = dataset_new_synthetic (job->count, job->seed, job->size, 0, &job->progress, &err);

  if (job->dataset == NULL)
    job->error = error_from_engine (job, &err);

  g_task_return_boolean (task, TRUE);
}

/* Main thread: the worker is done with job. */
static void
on_thread_done (GObject *source_object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  HydraDatasetLoader *self = g_task_get_source_object (task);
  LoadJob *job = g_task_get_task_data (task);

  if (self->current == job)
    {
      self->current = NULL;
      g_clear_handle_id (&self->poll_id, g_source_remove);
      set_state (self, FALSE, 0.0, "");
    }

  /* A load that finished just as it was cancelled is still cancelled. */
  if (job->dataset != NULL && atomic_load (&job->progress.cancel))
    {
      g_clear_pointer (&job->dataset, dataset_free);
      job->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Loading was cancelled");
    }

  if (job->dataset != NULL)
    g_task_return_pointer (task, g_steal_pointer (&job->dataset), (GDestroyNotify) dataset_free);
  else
    g_task_return_error (task, g_steal_pointer (&job->error));
}

static void
start_load (HydraDatasetLoader *self, LoadJob *job, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data, gpointer source_tag)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GTask) worker = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, job, load_job_free);

  if (cancellable != NULL)
    {
      job->cancellable = g_object_ref (cancellable);
      /* Runs on_cancelled at once when the cancellable is already cancelled. */
      job->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), job, NULL);
    }

  if (self->current != NULL)
    atomic_store (&self->current->progress.cancel, true);
  self->current = job;
  publish_progress (self, job);
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_INTERVAL_MS, on_poll, self);

  worker = g_task_new (NULL, NULL, on_thread_done, g_object_ref (task));
  g_task_set_task_data (worker, job, NULL);
  g_task_run_in_thread (worker, load_thread);
}

void
hydra_dataset_loader_load_folder_async (HydraDatasetLoader *self, const char *dir, int size,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  LoadJob *job;

  g_return_if_fail (HYDRA_IS_DATASET_LOADER (self));
  g_return_if_fail (dir != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (LoadJob, 1);
  job->kind = LOAD_FOLDER;
  job->dir = g_strdup (dir);
  job->size = size;
  start_load (self, job, cancellable, callback, user_data, hydra_dataset_loader_load_folder_async);
}

void
hydra_dataset_loader_load_synthetic_async (HydraDatasetLoader *self, int count, guint64 seed,
                                           int size, GCancellable *cancellable,
                                           GAsyncReadyCallback callback, gpointer user_data)
{
  LoadJob *job;

  g_return_if_fail (HYDRA_IS_DATASET_LOADER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = g_new0 (LoadJob, 1);
  job->kind = LOAD_SYNTHETIC;
  job->count = count;
  job->seed = seed;
  job->size = size;
  start_load (self, job, cancellable, callback, user_data,
              hydra_dataset_loader_load_synthetic_async);
}

HnDataset *
hydra_dataset_loader_load_finish (HydraDatasetLoader *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_LOADER (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
hydra_dataset_loader_cancel (HydraDatasetLoader *self)
{
  g_return_if_fail (HYDRA_IS_DATASET_LOADER (self));

  if (self->current != NULL)
    atomic_store (&self->current->progress.cancel, true);
}

gboolean
hydra_dataset_loader_get_loading (HydraDatasetLoader *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_LOADER (self), FALSE);

  return self->loading;
}

double
hydra_dataset_loader_get_fraction (HydraDatasetLoader *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_LOADER (self), 0.0);

  return self->fraction;
}

const char *
hydra_dataset_loader_get_text (HydraDatasetLoader *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_LOADER (self), NULL);

  return self->text;
}

static void
hydra_dataset_loader_dispose (GObject *object)
{
  HydraDatasetLoader *self = HYDRA_DATASET_LOADER (object);

  /* Every load's task holds a reference on us, so none is running here. */
  g_clear_handle_id (&self->poll_id, g_source_remove);

  G_OBJECT_CLASS (hydra_dataset_loader_parent_class)->dispose (object);
}

static void
hydra_dataset_loader_finalize (GObject *object)
{
  HydraDatasetLoader *self = HYDRA_DATASET_LOADER (object);

  g_free (self->text);

  G_OBJECT_CLASS (hydra_dataset_loader_parent_class)->finalize (object);
}

static void
hydra_dataset_loader_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraDatasetLoader *self = HYDRA_DATASET_LOADER (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;

    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;

    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_dataset_loader_class_init (HydraDatasetLoaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hydra_dataset_loader_dispose;
  object_class->finalize = hydra_dataset_loader_finalize;
  object_class->get_property = hydra_dataset_loader_get_property;

  properties[PROP_LOADING]
      = g_param_spec_boolean ("loading", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION]
      = g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXT] = g_param_spec_string (
      "text", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
hydra_dataset_loader_init (HydraDatasetLoader *self)
{
  self->text = g_strdup ("");
}

HydraDatasetLoader *
hydra_dataset_loader_new (void)
{
  return g_object_new (HYDRA_TYPE_DATASET_LOADER, NULL);
}
