/* hydra-predictor.c — decoding and inference for the prediction pane, on a worker thread. */

#include "hydra-predictor.h"

#include <math.h>
#include <string.h>

#include "image.h"

/* Images per forward pass, as in `hydranet-cli predict`. */
#define PREDICT_BATCH 16
#define READ_CHUNK (64 * 1024)

#define NO_MODEL_MESSAGE "No model yet — start training or open a saved model"

/* ---------------------------------------------------------------------------------------- */
/* HydraPredictItem                                                                          */

struct _HydraPredictItem
{
  GObject parent_instance;

  /* owned */
  GFile *file;         /* the image's source: a file … */
  GdkTexture *texture; /* … or a pasted picture */
  char *name;
  GdkTexture *thumbnail;
  char *error;
  HnPrediction prediction;
  double age_mae;
  HydraPredictState state;
  gboolean needs_model;
  /* Bumped whenever the item is queued again or cancelled, so results of an older request
   * that arrive late are recognised and dropped. */
  guint generation;
};

G_DEFINE_FINAL_TYPE (HydraPredictItem, hydra_predict_item, G_TYPE_OBJECT)

enum
{
  ITEM_PROP_0,
  ITEM_PROP_NAME,
  ITEM_PROP_STATE,
  ITEM_PROP_THUMBNAIL,
  ITEM_PROP_ERROR,
  ITEM_PROP_AGE_MAE,
  ITEM_N_PROPS
};

static GParamSpec *item_props[ITEM_N_PROPS];

static void
hydra_predict_item_finalize (GObject *object)
{
  HydraPredictItem *self = HYDRA_PREDICT_ITEM (object);

  g_clear_object (&self->file);
  g_clear_object (&self->texture);
  g_clear_object (&self->thumbnail);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->error, g_free);

  G_OBJECT_CLASS (hydra_predict_item_parent_class)->finalize (object);
}

static void
hydra_predict_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraPredictItem *self = HYDRA_PREDICT_ITEM (object);

  switch (prop_id)
    {
    case ITEM_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case ITEM_PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case ITEM_PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    case ITEM_PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case ITEM_PROP_AGE_MAE:
      g_value_set_double (value, self->age_mae);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_item_class_init (HydraPredictItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hydra_predict_item_finalize;
  object_class->get_property = hydra_predict_item_get_property;

  item_props[ITEM_PROP_NAME]
      = g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_STATE] = g_param_spec_int (
      "state", NULL, NULL, HYDRA_PREDICT_PENDING, HYDRA_PREDICT_FAILED, HYDRA_PREDICT_PENDING,
      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_THUMBNAIL]
      = g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_ERROR]
      = g_param_spec_string ("error", NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_AGE_MAE]
      = g_param_spec_double ("age-mae", NULL, NULL, -1, G_MAXDOUBLE, -1,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_props);
}

static void
hydra_predict_item_init (HydraPredictItem *self)
{
  self->age_mae = -1;
}

HydraPredictItem *
hydra_predict_item_new_for_file (GFile *file)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  HydraPredictItem *self = g_object_new (HYDRA_TYPE_PREDICT_ITEM, NULL);
  g_autofree char *basename = g_file_get_basename (file);
  self->file = g_object_ref (file);
  self->name = basename != NULL ? g_filename_display_name (basename) : g_file_get_parse_name (file);
  return self;
}

HydraPredictItem *
hydra_predict_item_new_for_texture (GdkTexture *texture, const char *name)
{
  g_return_val_if_fail (GDK_IS_TEXTURE (texture), NULL);

  HydraPredictItem *self = g_object_new (HYDRA_TYPE_PREDICT_ITEM, NULL);
  int w = gdk_texture_get_width (texture), h = gdk_texture_get_height (texture);

  self->name = g_strdup (name != NULL ? name : "Pasted image");
  /* The worker encodes the pixels as PNG, which only a memory texture may do off the main
   * thread (a GL texture needs its context): copy any other kind here, unless too large to
   * be predicted anyway. */
  if (GDK_IS_MEMORY_TEXTURE (texture) || !image_check_size (w, h, NULL))
    self->texture = g_object_ref (texture);
  else
    {
      gsize stride = (gsize) w * 4;
      g_autofree guchar *pixels = g_malloc (stride * h);
      g_autoptr (GBytes) bytes = NULL;

      gdk_texture_download (texture, pixels, stride);
      bytes = g_bytes_new_take (g_steal_pointer (&pixels), stride * h);
      self->texture = gdk_memory_texture_new (w, h, GDK_MEMORY_DEFAULT, bytes, stride);
    }
  return self;
}

const char *
hydra_predict_item_get_name (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), NULL);
  return self->name;
}

GFile *
hydra_predict_item_get_file (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), NULL);
  return self->file;
}

HydraPredictState
hydra_predict_item_get_state (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), HYDRA_PREDICT_FAILED);
  return self->state;
}

GdkTexture *
hydra_predict_item_get_thumbnail (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), NULL);
  return self->thumbnail;
}

const char *
hydra_predict_item_get_error (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), NULL);
  return self->error;
}

double
hydra_predict_item_get_age_mae (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), -1);
  return self->age_mae;
}

gboolean
hydra_predict_item_get_prediction (HydraPredictItem *self, HnPrediction *out)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (self->state != HYDRA_PREDICT_DONE)
    return FALSE;
  *out = self->prediction;
  return TRUE;
}

gboolean
hydra_predict_item_get_needs_model (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), FALSE);
  return self->state == HYDRA_PREDICT_FAILED && self->needs_model;
}

static void
item_set_state (HydraPredictItem *self, HydraPredictState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_STATE]);
}

static void
item_set_error (HydraPredictItem *self, const char *error)
{
  if (g_strcmp0 (self->error, error) == 0)
    return;
  g_free (self->error);
  self->error = g_strdup (error);
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_ERROR]);
}

static void
item_set_thumbnail (HydraPredictItem *self, GdkTexture *thumbnail)
{
  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_THUMBNAIL]);
}

static void
item_set_age_mae (HydraPredictItem *self, double mae)
{
  if (self->age_mae == mae)
    return;
  self->age_mae = mae;
  g_object_notify_by_pspec (G_OBJECT (self), item_props[ITEM_PROP_AGE_MAE]);
}

/* ---------------------------------------------------------------------------------------- */
/* A batch of work: what the worker reads, and what it hands back.                           */

typedef struct
{
  HydraPredictItem *item; /* main thread only */
  guint generation;       /* the item's when queued */
  GFile *file;            /* the worker's copies of the source */
  GdkTexture *texture;
} JobEntry;

typedef enum
{
  UPDATE_THUMBNAIL,
  UPDATE_DONE,
  UPDATE_FAILED,
} UpdateKind;

typedef struct
{
  guint index;
  UpdateKind kind;
  GdkTexture *thumbnail; /* UPDATE_THUMBNAIL, owned */
  HnPrediction prediction;
  char *error; /* UPDATE_FAILED, owned */
  gboolean needs_model;
} Update;

typedef struct
{
  HydraPredictor *predictor; /* borrowed: the GTask holds it */
  HydraTrainer *trainer;     /* owned, or NULL; released on the main thread */
  gboolean flip;             /* test-time flip */
  JobEntry *entries;
  guint n;

  GMutex lock;
  GArray *outbox; /* of Update, under lock */
  guint idle_id;  /* the one pending hand-over to the main thread, under lock */
} Job;

static void
update_clear (gpointer data)
{
  Update *u = data;

  g_clear_object (&u->thumbnail);
  g_clear_pointer (&u->error, g_free);
}

static Job *
job_new (HydraPredictor *predictor, HydraTrainer *trainer, gboolean flip, GPtrArray *items)
{
  Job *job = g_new0 (Job, 1);

  job->predictor = predictor;
  job->trainer = trainer != NULL ? g_object_ref (trainer) : NULL;
  job->flip = flip;
  job->n = items->len;
  job->entries = g_new0 (JobEntry, job->n);
  for (guint i = 0; i < job->n; i++)
    {
      HydraPredictItem *item = g_ptr_array_index (items, i);
      job->entries[i].item = g_object_ref (item);
      job->entries[i].generation = item->generation;
      job->entries[i].file = item->file != NULL ? g_object_ref (item->file) : NULL;
      job->entries[i].texture = item->texture != NULL ? g_object_ref (item->texture) : NULL;
    }
  g_mutex_init (&job->lock);
  job->outbox = g_array_new (FALSE, TRUE, sizeof (Update));
  g_array_set_clear_func (job->outbox, update_clear);
  return job;
}

/* Main thread, once the worker is done. */
static void
job_free (Job *job)
{
  for (guint i = 0; i < job->n; i++)
    {
      g_clear_object (&job->entries[i].item);
      g_clear_object (&job->entries[i].file);
      g_clear_object (&job->entries[i].texture);
    }
  g_free (job->entries);
  g_clear_object (&job->trainer);
  g_array_unref (job->outbox);
  g_mutex_clear (&job->lock);
  g_free (job);
}

/* Main thread: hands what the worker published to the items it still concerns. */
static void
job_apply (Job *job, GArray *updates)
{
  double mae = job->trainer != NULL ? hydra_trainer_get_val_mae (job->trainer) : -1;

  for (guint i = 0; i < updates->len; i++)
    {
      Update *u = &g_array_index (updates, Update, i);
      JobEntry *entry = &job->entries[u->index];
      HydraPredictItem *item = entry->item;

      if (item->generation != entry->generation)
        continue;
      g_object_freeze_notify (G_OBJECT (item));
      switch (u->kind)
        {
        case UPDATE_THUMBNAIL:
          item_set_thumbnail (item, u->thumbnail);
          break;
        case UPDATE_DONE:
          item->prediction = u->prediction;
          item->needs_model = FALSE;
          item_set_age_mae (item, mae);
          item_set_error (item, NULL);
          item_set_state (item, HYDRA_PREDICT_DONE);
          break;
        case UPDATE_FAILED:
          item->needs_model = u->needs_model;
          item_set_error (item, u->error);
          item_set_state (item, HYDRA_PREDICT_FAILED);
          break;
        default:
          g_assert_not_reached ();
        }
      g_object_thaw_notify (G_OBJECT (item));
    }
}

static GArray *
job_take_outbox (Job *job)
{
  GArray *updates;

  g_mutex_lock (&job->lock);
  updates = job->outbox;
  job->outbox = g_array_new (FALSE, TRUE, sizeof (Update));
  g_array_set_clear_func (job->outbox, update_clear);
  g_clear_handle_id (&job->idle_id, g_source_remove);
  g_mutex_unlock (&job->lock);
  return updates;
}

static gboolean
job_apply_idle (gpointer data)
{
  Job *job = data;
  GArray *updates;

  g_mutex_lock (&job->lock);
  job->idle_id = 0; /* this source ends now; job_take_outbox must not remove it again */
  g_mutex_unlock (&job->lock);

  updates = job_take_outbox (job);
  job_apply (job, updates);
  g_array_unref (updates);
  return G_SOURCE_REMOVE;
}

/* Worker: queues an update, and the hand-over to the main thread unless one is pending. */
static void
job_publish (Job *job, const Update *update)
{
  g_mutex_lock (&job->lock);
  g_array_append_vals (job->outbox, update, 1);
  if (job->idle_id == 0)
    job->idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, job_apply_idle, job, NULL);
  g_mutex_unlock (&job->lock);
}

static void
job_fail (Job *job, guint index, const char *message, gboolean needs_model)
{
  Update u = { .index = index, .kind = UPDATE_FAILED, .needs_model = needs_model };

  /* The engine's messages start in lower case, to be prefixed; a card shows them alone. */
  u.error = g_strdup (message);
  if (u.error[0] != '\0' && g_ascii_islower (u.error[0]))
    u.error[0] = g_ascii_toupper (u.error[0]);
  job_publish (job, &u);
}

/* ---------------------------------------------------------------------------------------- */
/* The worker                                                                                */

/* Reads a whole file, refusing folders, special files and anything over the image size cap
 * (checked while reading too, in case the file grows). */
static GBytes *
read_file_capped (GFile *file, GCancellable *cancellable, char **message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GByteArray) data = NULL;
  g_autofree char *limit = g_format_size (IMAGE_MAX_FILE_BYTES);

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, &error);
  if (info == NULL)
    goto failed;
  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_DIRECTORY:
      *message = g_strdup ("This is a folder — open it as a data set instead");
      return NULL;
    case G_FILE_TYPE_REGULAR:
      break;
    default:
      *message = g_strdup ("Not a regular file");
      return NULL;
    }
  if ((guint64) g_file_info_get_size (info) > IMAGE_MAX_FILE_BYTES)
    {
      g_autofree char *size = g_format_size (g_file_info_get_size (info));
      *message
          = g_strdup_printf ("Too large to be a face photo: %s (the limit is %s)", size, limit);
      return NULL;
    }

  stream = g_file_read (file, cancellable, &error);
  if (stream == NULL)
    goto failed;
  data = g_byte_array_sized_new (MAX (g_file_info_get_size (info), 1));
  for (;;)
    {
      guint8 chunk[READ_CHUNK];
      gssize got
          = g_input_stream_read (G_INPUT_STREAM (stream), chunk, sizeof chunk, cancellable, &error);
      if (got < 0)
        goto failed;
      if (got == 0)
        break;
      if (data->len + (gsize) got > IMAGE_MAX_FILE_BYTES)
        {
          *message = g_strdup_printf ("Too large to be a face photo (the limit is %s)", limit);
          return NULL;
        }
      g_byte_array_append (data, chunk, got);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));

failed:
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    *message = g_strdup ("The file no longer exists");
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    *message = g_strdup ("Permission denied: the file cannot be read");
  else
    *message = g_strdup (error->message);
  return NULL;
}

static gboolean
entry_decode (JobEntry *entry, GCancellable *cancellable, HnImage *img, char **message)
{
  g_autoptr (GBytes) bytes = NULL;
  HnError err;

  /* A pasted picture goes through PNG, so it meets the same decoder as a file. */
  if (entry->texture != NULL)
    {
      if (!image_check_size (gdk_texture_get_width (entry->texture),
                             gdk_texture_get_height (entry->texture), &err))
        {
          *message = g_strdup (err.message);
          return FALSE;
        }
      bytes = gdk_texture_save_to_png_bytes (entry->texture);
    }
  else
    bytes = read_file_capped (entry->file, cancellable, message);
  if (bytes == NULL)
    return FALSE;

  gsize len;
  const guint8 *buf = g_bytes_get_data (bytes, &len);
  if (!image_decode_memory (buf, len, img, &err))
    {
      *message = g_strdup (err.message);
      return FALSE;
    }
  return TRUE;
}

/* ≤ HYDRA_THUMBNAIL_SIZE on its longer side, aspect kept. */
static GdkTexture *
make_thumbnail (const HnImage *img)
{
  double scale = MIN (1.0, (double) HYDRA_THUMBNAIL_SIZE / MAX (img->w, img->h));
  int tw = MAX (1, (int) lround (img->w * scale));
  int th = MAX (1, (int) lround (img->h * scale));
  g_autoptr (GdkPixbuf) source = NULL;
  g_autoptr (GdkPixbuf) small = NULL;

  source = gdk_pixbuf_new_from_data (img->rgb, GDK_COLORSPACE_RGB, FALSE, 8, img->w, img->h,
                                     img->w * 3, NULL, NULL);
  if (tw == img->w && th == img->h)
    small = gdk_pixbuf_copy (source);
  else
    small = gdk_pixbuf_scale_simple (source, tw, th, GDK_INTERP_BILINEAR);
  if (small == NULL)
    return NULL;
  return gdk_texture_new_for_pixbuf (small);
}

/* The worker's buffers, in one block: the batch's images, their mirrors (with flip) and what
 * model_infer gives back for them. */
typedef struct
{
  float *x;                   /* (capacity, 3, S, S) */
  float *mirrored;            /* (capacity, 3, S, S), or NULL without flip */
  float *age, *gender, *race; /* (capacity), (capacity), (5, capacity) */
} Batch;

static float *
batch_alloc (Batch *b, int capacity, int size, gboolean flip)
{
  gsize image = (gsize) 3 * size * size, n = capacity;
  float *block = g_try_malloc (sizeof (float) * n * (image * (flip ? 2 : 1) + 2 + N_RACES));

  if (block == NULL)
    return NULL;
  b->x = block;
  b->mirrored = flip ? b->x + n * image : NULL;
  b->age = b->x + n * image * (flip ? 2 : 1);
  b->gender = b->age + n;
  b->race = b->gender + n;
  return block;
}

static void
predict_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  HnModel *model = NULL;
  Batch batch = { 0 };
  g_autofree float *block = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autofree char *no_model = NULL;
  guint slot[PREDICT_BATCH];
  int size = 0;
  HnError err;

  if (job->trainer != NULL)
    model = hydra_trainer_dup_model (job->trainer, &size);
  if (model != NULL)
    {
      int capacity = MIN (job->n, PREDICT_BATCH);
      block = batch_alloc (&batch, capacity, size, job->flip);
      rgb = g_try_malloc ((gsize) 3 * size * size);
      if (block == NULL || rgb == NULL)
        no_model = g_strdup ("Out of memory for the model's input");
      else if (!model_plan (model, capacity, size, &err))
        no_model = g_strdup (err.message);
      if (no_model != NULL)
        g_clear_pointer (&model, model_free);
    }

  for (guint start = 0; start < job->n; start += PREDICT_BATCH)
    {
      guint count = MIN (job->n - start, PREDICT_BATCH), n = 0;

      for (guint i = start; i < start + count; i++)
        {
          g_autofree char *message = NULL;
          HnImage img;

          if (g_cancellable_is_cancelled (cancellable))
            break;
          if (!entry_decode (&job->entries[i], cancellable, &img, &message))
            {
              job_fail (job, i, message, FALSE);
              continue;
            }

          Update thumb
              = { .index = i, .kind = UPDATE_THUMBNAIL, .thumbnail = make_thumbnail (&img) };
          job_publish (job, &thumb);

          if (model == NULL)
            job_fail (job, i, no_model != NULL ? no_model : NO_MODEL_MESSAGE, no_model == NULL);
          else if (!image_crop_resize (&img, size, rgb, &err))
            job_fail (job, i, err.message, FALSE);
          else
            {
              image_normalize (rgb, size, batch.x + (gsize) 3 * size * size * n);
              slot[n++] = i;
            }
          image_clear (&img);
        }

      if (n == 0 || g_cancellable_is_cancelled (cancellable))
        continue;
      model_infer (model, batch.x, n, job->flip, batch.mirrored, batch.age, batch.gender,
                   batch.race);
      for (guint k = 0; k < n; k++)
        {
          Update done = { .index = slot[k], .kind = UPDATE_DONE };
          model_prediction_of (batch.age, batch.gender, batch.race, n, k, &done.prediction);
          job_publish (job, &done);
        }
    }

  g_clear_pointer (&model, model_free);
  g_task_return_boolean (task, TRUE);
}

/* ---------------------------------------------------------------------------------------- */
/* HydraPredictor                                                                            */

struct _HydraPredictor
{
  GObject parent_instance;

  /* owned */
  HydraTrainer *trainer;
  gboolean flip;
  GPtrArray *queue;          /* HydraPredictItem, waiting for the next batch */
  Job *job;                  /* the running batch, or NULL */
  GCancellable *cancellable; /* the running batch's */
};

G_DEFINE_FINAL_TYPE (HydraPredictor, hydra_predictor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void start_next (HydraPredictor *self);

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraPredictor *self = HYDRA_PREDICTOR (source);
  Job *job = g_task_get_task_data (G_TASK (result));
  GArray *updates;

  g_task_propagate_boolean (G_TASK (result), NULL);
  updates = job_take_outbox (job);
  job_apply (job, updates);
  g_array_unref (updates);

  g_assert (self->job == job);
  self->job = NULL;
  g_clear_object (&self->cancellable);
  job_free (job);

  start_next (self);
  if (self->job == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

static void
start_next (HydraPredictor *self)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GPtrArray) items = NULL;

  if (self->job != NULL || self->queue->len == 0)
    return;

  items = g_steal_pointer (&self->queue);
  self->queue = g_ptr_array_new_with_free_func (g_object_unref);
  self->job = job_new (self, self->trainer, self->flip, items);
  self->cancellable = g_cancellable_new ();

  task = g_task_new (self, self->cancellable, on_job_done, NULL);
  g_task_set_source_tag (task, start_next);
  g_task_set_task_data (task, self->job, NULL);
  g_task_run_in_thread (task, predict_worker);
}

static void
hydra_predictor_dispose (GObject *object)
{
  HydraPredictor *self = HYDRA_PREDICTOR (object);

  /* A running batch holds a reference through its GTask, so none is running here. */
  g_assert (self->job == NULL);
  g_clear_pointer (&self->queue, g_ptr_array_unref);
  g_clear_object (&self->trainer);

  G_OBJECT_CLASS (hydra_predictor_parent_class)->dispose (object);
}

static void
hydra_predictor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraPredictor *self = HYDRA_PREDICTOR (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, hydra_predictor_get_busy (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predictor_class_init (HydraPredictorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = hydra_predictor_dispose;
  object_class->get_property = hydra_predictor_get_property;

  props[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
hydra_predictor_init (HydraPredictor *self)
{
  self->queue = g_ptr_array_new_with_free_func (g_object_unref);
}

HydraPredictor *
hydra_predictor_new (void)
{
  return g_object_new (HYDRA_TYPE_PREDICTOR, NULL);
}

void
hydra_predictor_set_trainer (HydraPredictor *self, HydraTrainer *trainer)
{
  g_return_if_fail (HYDRA_IS_PREDICTOR (self));
  g_return_if_fail (trainer == NULL || HYDRA_IS_TRAINER (trainer));

  g_set_object (&self->trainer, trainer);
}

HydraTrainer *
hydra_predictor_get_trainer (HydraPredictor *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICTOR (self), NULL);
  return self->trainer;
}

void
hydra_predictor_set_flip (HydraPredictor *self, gboolean flip)
{
  g_return_if_fail (HYDRA_IS_PREDICTOR (self));

  self->flip = !!flip;
}

gboolean
hydra_predictor_get_flip (HydraPredictor *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICTOR (self), FALSE);
  return self->flip;
}

void
hydra_predictor_queue (HydraPredictor *self, HydraPredictItem *const *items, guint n)
{
  gboolean was_busy;

  g_return_if_fail (HYDRA_IS_PREDICTOR (self));
  g_return_if_fail (n == 0 || items != NULL);

  was_busy = hydra_predictor_get_busy (self);
  for (guint i = 0; i < n; i++)
    {
      HydraPredictItem *item = items[i];

      g_return_if_fail (HYDRA_IS_PREDICT_ITEM (item));
      item->generation++;
      g_object_freeze_notify (G_OBJECT (item));
      item_set_error (item, NULL);
      item_set_state (item, HYDRA_PREDICT_PENDING);
      g_object_thaw_notify (G_OBJECT (item));
      if (!g_ptr_array_find (self->queue, item, NULL))
        g_ptr_array_add (self->queue, g_object_ref (item));
    }
  start_next (self);
  if (was_busy != hydra_predictor_get_busy (self))
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

void
hydra_predictor_cancel (HydraPredictor *self)
{
  g_return_if_fail (HYDRA_IS_PREDICTOR (self));

  for (guint i = 0; i < self->queue->len; i++)
    HYDRA_PREDICT_ITEM (g_ptr_array_index (self->queue, i))->generation++;
  g_ptr_array_set_size (self->queue, 0);
  if (self->job != NULL)
    {
      for (guint i = 0; i < self->job->n; i++)
        self->job->entries[i].item->generation++;
      g_cancellable_cancel (self->cancellable);
    }
}

gboolean
hydra_predictor_get_busy (HydraPredictor *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICTOR (self), FALSE);
  return self->job != NULL || self->queue->len > 0;
}
