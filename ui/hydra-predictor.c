/* hydra-predictor.c — decoding and inference for the prediction pane, on a worker thread. */

#include "hydra-predictor.h"

#include <math.h>
#include <string.h>

#include "faces.h"
#include "image.h"

/* Faces (or whole images) per forward pass, as in `hydranet-cli predict`. */
#define PREDICT_BATCH 16
#define READ_CHUNK (64 * 1024)

/* Applying a result builds widgets (a photo's face cards): the main thread applies results
 * this long at most at a time, so that frames come between them when many arrive at once
 * (tests/ui/bench-stall). */
#define APPLY_BUDGET_US 6000

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
  GListStore *faces; /* HydraPredictFace */
  int width, height; /* the upright image's, once decoded */
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
  g_clear_object (&self->faces);
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
  self->faces = g_list_store_new (HYDRA_TYPE_PREDICT_FACE);
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

GListModel *
hydra_predict_item_get_faces (HydraPredictItem *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), NULL);
  return G_LIST_MODEL (self->faces);
}

gboolean
hydra_predict_item_get_image_size (HydraPredictItem *self, int *width, int *height)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (self), FALSE);

  if (width != NULL)
    *width = self->width;
  if (height != NULL)
    *height = self->height;
  return self->width > 0;
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

static void
item_set_faces (HydraPredictItem *self, HydraPredictFace *const *faces, guint n)
{
  guint old = g_list_model_get_n_items (G_LIST_MODEL (self->faces));

  if (old > 0 || n > 0)
    g_list_store_splice (self->faces, 0, old, (gpointer *) faces, n);
}

void
hydra_predict_item_set_result (HydraPredictItem *self, int width, int height,
                               HydraPredictFace *const *faces, guint n_faces, double age_mae)
{
  g_return_if_fail (HYDRA_IS_PREDICT_ITEM (self));
  g_return_if_fail (width > 0 && height > 0);
  g_return_if_fail (n_faces > 0 && faces != NULL);

  g_object_freeze_notify (G_OBJECT (self));
  self->width = width;
  self->height = height;
  self->needs_model = FALSE;
  item_set_age_mae (self, age_mae);
  item_set_error (self, NULL);
  item_set_faces (self, faces, n_faces);
  item_set_state (self, HYDRA_PREDICT_DONE);
  g_object_thaw_notify (G_OBJECT (self));
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
  int width, height;     /* UPDATE_THUMBNAIL and UPDATE_DONE: the upright image's */
  GPtrArray *faces;      /* UPDATE_DONE: HydraPredictFace, owned */
  char *error;           /* UPDATE_FAILED, owned */
  gboolean needs_model;
} Update;

typedef struct
{
  HydraPredictor *predictor; /* owned, until the last result is applied */
  HydraTrainer *trainer;     /* owned, or NULL; released on the main thread */
  gboolean flip;             /* test-time flip */
  gboolean find_faces;
  /* The predictor's face finder, lent to the worker (which makes it if NULL and faces are
   * wanted) and taken back when the job is done; or why it could not be made. */
  HnFaceFinder *finder;
  char *finder_error;
  char *landmarks_path; /* or NULL for the default */
  JobEntry *entries;
  guint n;

  GMutex lock;
  GQueue outbox; /* of Update *, under lock */
  guint idle_id; /* the hand-over to the main thread, under lock: there while outbox is not empty */
  gboolean finished; /* main thread: the worker has returned */
} Job;

static void
update_free (gpointer data)
{
  Update *u = data;

  g_clear_object (&u->thumbnail);
  g_clear_pointer (&u->faces, g_ptr_array_unref);
  g_clear_pointer (&u->error, g_free);
  g_free (u);
}

static Job *
job_new (HydraPredictor *predictor, HydraTrainer *trainer, gboolean flip, gboolean find_faces,
         GPtrArray *items)
{
  Job *job = g_new0 (Job, 1);

  job->predictor = g_object_ref (predictor);
  job->trainer = trainer != NULL ? g_object_ref (trainer) : NULL;
  job->flip = flip;
  job->find_faces = find_faces;
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
  g_queue_init (&job->outbox);
  return job;
}

/* Main thread, once the worker is done and its results applied. */
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
  g_clear_pointer (&job->finder, face_finder_free);
  g_clear_pointer (&job->finder_error, g_free);
  g_clear_pointer (&job->landmarks_path, g_free);
  g_queue_clear_full (&job->outbox, update_free);
  g_mutex_clear (&job->lock);
  g_clear_object (&job->predictor);
  g_free (job);
}

/* Main thread: hands one result to the item, if it still concerns it. */
static void
job_apply (Job *job, const Update *u, double mae)
{
  JobEntry *entry = &job->entries[u->index];
  HydraPredictItem *item = entry->item;

  if (item->generation != entry->generation)
    return;
  g_object_freeze_notify (G_OBJECT (item));
  switch (u->kind)
    {
    case UPDATE_THUMBNAIL:
      item->width = u->width;
      item->height = u->height;
      item_set_thumbnail (item, u->thumbnail);
      break;
    case UPDATE_DONE:
      hydra_predict_item_set_result (item, u->width, u->height,
                                     (HydraPredictFace **) u->faces->pdata, u->faces->len, mae);
      break;
    case UPDATE_FAILED:
      item->needs_model = u->needs_model;
      item_set_error (item, u->error);
      item_set_faces (item, NULL, 0);
      item_set_state (item, HYDRA_PREDICT_FAILED);
      break;
    default:
      g_assert_not_reached ();
    }
  g_object_thaw_notify (G_OBJECT (item));
}

static void job_finish (Job *job);

/* Main thread: applies what the worker published, for at most APPLY_BUDGET_US at a time;
 * ends the job once the worker has returned and everything is applied. */
static gboolean
job_apply_idle (gpointer data)
{
  Job *job = data;
  gint64 end = g_get_monotonic_time () + APPLY_BUDGET_US;
  double mae = job->trainer != NULL ? hydra_trainer_get_val_mae (job->trainer) : -1;

  for (;;)
    {
      Update *u;

      g_mutex_lock (&job->lock);
      u = g_queue_pop_head (&job->outbox);
      if (u == NULL)
        job->idle_id = 0; /* the worker adds a new one for its next result */
      g_mutex_unlock (&job->lock);
      if (u == NULL)
        break;
      job_apply (job, u, mae);
      update_free (u);
      if (g_get_monotonic_time () >= end)
        return G_SOURCE_CONTINUE;
    }
  if (job->finished)
    job_finish (job);
  return G_SOURCE_REMOVE;
}

/* Worker: queues an update, and the hand-over to the main thread unless one is pending. */
static void
job_publish (Job *job, const Update *update)
{
  g_mutex_lock (&job->lock);
  g_queue_push_tail (&job->outbox, g_memdup2 (update, sizeof *update));
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

/* upright: as the file's EXIF orientation says, for finding faces; otherwise as stored, as
 * training and `hydranet-cli predict --faces whole` read images. */
static gboolean
entry_decode (JobEntry *entry, gboolean upright, GCancellable *cancellable, HnImage *img,
              char **message)
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
  if (!(upright ? image_decode_memory_upright (buf, len, img, &err)
                : image_decode_memory (buf, len, img, &err)))
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

/* A texture of (h, w, 3) pixels, copied. */
static GdkTexture *
rgb_texture (const guint8 *rgb, int w, int h)
{
  g_autoptr (GBytes) bytes = g_bytes_new (rgb, (gsize) w * h * 3);
  return gdk_memory_texture_new (w, h, GDK_MEMORY_R8G8B8, bytes, (gsize) w * 3);
}

/* The worker's buffers, in one block: the batch's inputs, their mirrors (with flip) and what
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

/* One photo on its way through the batches: its faces' boxes and chips, and their
 * predictions as the batches that hold them run. A photo with many faces may span batches. */
typedef struct
{
  guint index; /* the job entry's */
  int width, height;
  gboolean whole;
  gboolean searched;   /* for faces, whether or not any was found */
  GdkRectangle *boxes; /* (n), unless whole */
  GdkTexture **chips;  /* (n), owned */
  HnPrediction *predictions;
  guint n, n_done;
} Photo;

static Photo *
photo_new (guint index, const HnImage *img, guint n, gboolean whole)
{
  Photo *photo = g_new0 (Photo, 1);

  photo->index = index;
  photo->width = img->w;
  photo->height = img->h;
  photo->whole = whole;
  photo->n = n;
  photo->boxes = g_new0 (GdkRectangle, n);
  photo->chips = g_new0 (GdkTexture *, n);
  photo->predictions = g_new0 (HnPrediction, n);
  return photo;
}

static void
photo_free (Photo *photo)
{
  for (guint k = 0; k < photo->n; k++)
    g_clear_object (&photo->chips[k]);
  g_free (photo->boxes);
  g_free (photo->chips);
  g_free (photo->predictions);
  g_free (photo);
}

typedef struct
{
  Photo *photo;
  guint face;
} Row;

/* What the worker holds while it fills batches. */
typedef struct
{
  Job *job;
  HnModel *model;
  int size;
  Batch batch;
  guint8 *chip; /* (FACE_CHIP_SIZE, FACE_CHIP_SIZE, 3) */
  Row rows[PREDICT_BATCH];
  guint n_rows;
  GPtrArray *open; /* Photo, not yet fully predicted, in order */
} Worker;

/* Runs the batch, and hands every photo whose faces are now all predicted to the main
 * thread. */
static void
worker_flush (Worker *w, GCancellable *cancellable)
{
  guint n = w->n_rows;

  w->n_rows = 0;
  if (n == 0 || g_cancellable_is_cancelled (cancellable))
    return;
  model_infer (w->model, w->batch.x, n, w->job->flip, w->batch.mirrored, w->batch.age,
               w->batch.gender, w->batch.race);
  for (guint k = 0; k < n; k++)
    {
      Row *row = &w->rows[k];
      if (row->photo == NULL)
        continue;
      model_prediction_of (w->batch.age, w->batch.gender, w->batch.race, n, k,
                           &row->photo->predictions[row->face]);
      row->photo->n_done++;
    }

  while (w->open->len > 0)
    {
      Photo *photo = g_ptr_array_index (w->open, 0);
      Update done = { .index = photo->index, .kind = UPDATE_DONE };

      if (photo->n_done < photo->n)
        break;
      done.width = photo->width;
      done.height = photo->height;
      done.faces = g_ptr_array_new_full (photo->n, g_object_unref);
      for (guint k = 0; k < photo->n; k++)
        g_ptr_array_add (done.faces,
                         photo->whole ? hydra_predict_face_new_whole (
                             photo->chips[k], &photo->predictions[k], photo->searched)
                                      : hydra_predict_face_new (&photo->boxes[k], photo->chips[k],
                                                                &photo->predictions[k]));
      job_publish (w->job, &done);
      g_ptr_array_remove_index (w->open, 0); /* frees the photo */
    }
}

/* Where the next input goes: (3, S, S) in the batch. */
static float *
worker_next_input (Worker *w)
{
  return w->batch.x + (gsize) 3 * w->size * w->size * w->n_rows;
}

/* The next input, written, is the photo's face k; the batch runs when full. */
static void
worker_add_row (Worker *w, Photo *photo, guint k, GCancellable *cancellable)
{
  w->rows[w->n_rows++] = (Row){ photo, k };
  if (w->n_rows == PREDICT_BATCH)
    worker_flush (w, cancellable);
}

/* The finder, made on first use; NULL (with job->finder_error) when it cannot be. */
static HnFaceFinder *
worker_finder (Worker *w)
{
  HnError err;

  if (w->job->finder == NULL && w->job->finder_error == NULL)
    {
      w->job->finder = face_finder_new (w->job->landmarks_path, &err);
      if (w->job->finder == NULL)
        w->job->finder_error = g_strdup (err.message);
    }
  return w->job->finder;
}

/* Queues the decoded image's faces (or the whole image when none is found or looked for)
 * for the batches. FALSE with *message when the image cannot be predicted. */
static gboolean
worker_add_image (Worker *w, guint index, const HnImage *img, GCancellable *cancellable,
                  char **message)
{
  HnFaceFinder *finder = w->job->find_faces ? worker_finder (w) : NULL;
  HnFaces faces = { 0 };
  Photo *photo;
  HnError err;

  if (finder != NULL && !face_find (finder, img, &faces, &err))
    {
      *message = g_strdup (err.message);
      return FALSE;
    }

  if (faces.n == 0)
    {
      /* the whole image as today: its centre square, shown as a chip would be */
      photo = photo_new (index, img, 1, TRUE);
      photo->searched = finder != NULL;
      if (!image_crop_resize (img, FACE_CHIP_SIZE, w->chip, &err)
          || !image_input (img, w->size, worker_next_input (w), &err))
        {
          photo_free (photo);
          *message = g_strdup (err.message);
          return FALSE;
        }
      photo->chips[0] = rgb_texture (w->chip, FACE_CHIP_SIZE, FACE_CHIP_SIZE);
      g_ptr_array_add (w->open, photo);
      worker_add_row (w, photo, 0, cancellable);
      return TRUE;
    }

  /* each face as a UTKFace chip file would be: aligned to 200×200, then the usual
   * preprocessing */
  photo = photo_new (index, img, faces.n, FALSE);
  g_ptr_array_add (w->open, photo);
  for (int k = 0; k < faces.n; k++)
    {
      const HnFace *face = &faces.faces[k];

      photo->boxes[k] = (GdkRectangle){ face->x, face->y, face->w, face->h };
      if (!face_load_input (img, face, w->size, w->chip, worker_next_input (w), &err))
        {
          /* out of memory half-way: the photo fails as a whole; its rows already in the
           * batch are computed for nobody */
          for (guint r = 0; r < w->n_rows; r++)
            if (w->rows[r].photo == photo)
              w->rows[r].photo = NULL;
          g_ptr_array_remove (w->open, photo);
          faces_clear (&faces);
          *message = g_strdup (err.message);
          return FALSE;
        }
      photo->chips[k] = rgb_texture (w->chip, FACE_CHIP_SIZE, FACE_CHIP_SIZE);
      worker_add_row (w, photo, k, cancellable);
    }
  faces_clear (&faces);
  return TRUE;
}

static void
predict_worker (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  Worker w = { .job = job };
  g_autofree float *block = NULL;
  g_autofree char *no_model = NULL;
  HnError err;

  w.open = g_ptr_array_new_with_free_func ((GDestroyNotify) photo_free);
  if (job->trainer != NULL)
    w.model = hydra_trainer_dup_model (job->trainer, &w.size);
  if (w.model != NULL)
    {
      int capacity = MIN (job->n, PREDICT_BATCH);
      if (job->find_faces)
        capacity = PREDICT_BATCH; /* a photo may hold many faces */
      block = batch_alloc (&w.batch, capacity, w.size, job->flip);
      w.chip = g_try_malloc ((gsize) 3 * FACE_CHIP_SIZE * FACE_CHIP_SIZE);
      if (block == NULL || w.chip == NULL)
        no_model = g_strdup ("Out of memory for the model's input");
      else if (!model_plan (w.model, capacity, w.size, &err))
        no_model = g_strdup (err.message);
      if (no_model != NULL)
        g_clear_pointer (&w.model, model_free);
    }

  for (guint i = 0; i < job->n && !g_cancellable_is_cancelled (cancellable); i++)
    {
      g_autofree char *message = NULL;
      HnImage img;

      if (!entry_decode (&job->entries[i], job->find_faces, cancellable, &img, &message))
        {
          job_fail (job, i, message, FALSE);
          continue;
        }

      Update thumb = { .index = i,
                       .kind = UPDATE_THUMBNAIL,
                       .thumbnail = make_thumbnail (&img),
                       .width = img.w,
                       .height = img.h };
      job_publish (job, &thumb);

      if (w.model == NULL)
        job_fail (job, i, no_model != NULL ? no_model : NO_MODEL_MESSAGE, no_model == NULL);
      else if (!worker_add_image (&w, i, &img, cancellable, &message))
        job_fail (job, i, message, FALSE);
      image_clear (&img);
    }
  worker_flush (&w, cancellable);

  g_ptr_array_unref (w.open); /* what a cancel left unfinished */
  g_clear_pointer (&w.model, model_free);
  g_free (w.chip);
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
  gboolean find_faces;
  HnFaceFinder *finder;      /* made by the first job that finds faces; lent to each job */
  char *finder_error;        /* why it could not be made: faces are no longer looked for */
  char *landmarks_path;      /* for the finder, or NULL */
  GPtrArray *queue;          /* HydraPredictItem, waiting for the next batch */
  Job *job;                  /* the running batch, or NULL */
  GCancellable *cancellable; /* the running batch's */
};

G_DEFINE_FINAL_TYPE (HydraPredictor, hydra_predictor, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BUSY,
  PROP_FINDER_ERROR,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void start_next (HydraPredictor *self);

/* Main thread: the worker has returned and its results are applied. */
static void
job_finish (Job *job)
{
  g_autoptr (HydraPredictor) self = g_object_ref (job->predictor);

  g_assert (self->job == job);
  self->job = NULL;
  g_clear_object (&self->cancellable);
  self->finder = g_steal_pointer (&job->finder);
  if (job->finder_error != NULL && self->finder_error == NULL)
    {
      self->finder_error = g_steal_pointer (&job->finder_error);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_FINDER_ERROR]);
    }
  job_free (job);

  start_next (self);
  if (self->job == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

static void
on_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = g_task_get_task_data (G_TASK (result));
  gboolean applying;

  g_task_propagate_boolean (G_TASK (result), NULL);
  job->finished = TRUE;
  g_mutex_lock (&job->lock);
  applying = job->idle_id != 0; /* it ends the job once the last result is in */
  g_mutex_unlock (&job->lock);
  if (!applying)
    job_finish (job);
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
  self->job = job_new (self, self->trainer, self->flip,
                       self->find_faces && self->finder_error == NULL, items);
  self->job->finder = g_steal_pointer (&self->finder);
  self->job->landmarks_path = g_strdup (self->landmarks_path);
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

  /* A running batch holds a reference until its last result is applied, so none is here. */
  g_assert (self->job == NULL);
  g_clear_pointer (&self->queue, g_ptr_array_unref);
  g_clear_object (&self->trainer);
  g_clear_pointer (&self->finder, face_finder_free);

  G_OBJECT_CLASS (hydra_predictor_parent_class)->dispose (object);
}

static void
hydra_predictor_finalize (GObject *object)
{
  HydraPredictor *self = HYDRA_PREDICTOR (object);

  g_free (self->finder_error);
  g_free (self->landmarks_path);

  G_OBJECT_CLASS (hydra_predictor_parent_class)->finalize (object);
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
    case PROP_FINDER_ERROR:
      g_value_set_string (value, self->finder_error);
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
  object_class->finalize = hydra_predictor_finalize;
  object_class->get_property = hydra_predictor_get_property;

  props[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  props[PROP_FINDER_ERROR]
      = g_param_spec_string ("finder-error", NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
hydra_predictor_init (HydraPredictor *self)
{
  self->queue = g_ptr_array_new_with_free_func (g_object_unref);
  self->find_faces = TRUE;
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
hydra_predictor_set_find_faces (HydraPredictor *self, gboolean find_faces)
{
  g_return_if_fail (HYDRA_IS_PREDICTOR (self));

  self->find_faces = !!find_faces;
}

gboolean
hydra_predictor_get_find_faces (HydraPredictor *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICTOR (self), FALSE);
  return self->find_faces;
}

void
hydra_predictor_set_landmarks_path (HydraPredictor *self, const char *path)
{
  g_return_if_fail (HYDRA_IS_PREDICTOR (self));

  g_free (self->landmarks_path);
  self->landmarks_path = g_strdup (path);
}

const char *
hydra_predictor_get_finder_error (HydraPredictor *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICTOR (self), NULL);
  return self->finder_error;
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
