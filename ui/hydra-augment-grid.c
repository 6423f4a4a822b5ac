/* hydra-augment-grid.c — a few training images as the network sees them, and Shuffle. */

#include "hydra-augment-grid.h"

#include <math.h>
#include <string.h>

#include "hydra-augment-tiles.h"
#include "input.h"
#include "labels.h"

/* The seeds' stream: augment_seed (GRID_SEED, shuffles, image), as a run's are
 * augment_seed (its seed, epoch, image). */
#define GRID_SEED 0x6772696455ULL

struct _HydraAugmentGrid
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkLabel *caption_label;
  HydraAugmentTiles *tiles;

  /* owned */
  GBytes *source; /* (n, size, size, 3): the images as the data set holds them */
  GStrv tips;     /* n, NULL-terminated: labels and file name */
  int images[HYDRA_AUGMENT_GRID_TILES];
  guint n;
  int size;
  HnAugment augment;
  guint shuffles; /* Shuffle presses: the seeds' "epoch" */
  GCancellable *cancellable;
  guint generation; /* of the latest render asked for; a result of an older one is dropped */

  /* what the tiles show, once the latest render is done */
  guint8 *shown; /* (n_shown, shown_size, shown_size, 3) */
  int shown_size;
  int shown_images[HYDRA_AUGMENT_GRID_TILES];
  guint64 seeds[HYDRA_AUGMENT_GRID_TILES];
  guint n_shown;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (HydraAugmentGrid, hydra_augment_grid, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_AUGMENT,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* A network input (3, size, size) back to colours (size, size, 3): input.h's normalisation
 * undone, clamped to what a pixel holds. */
static void
denormalize (const float *x, int size, guint8 *rgb)
{
  gsize plane = (gsize) size * size;

  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = x[c * plane + i] * input_std[c] + input_mean[c];

        rgb[i * 3 + c] = (guint8) lrintf (CLAMP (v, 0.0f, 1.0f) * 255.0f);
      }
}

/* "64 × 64 pixels  ·  flip  ·  crop 0.3  ·  rotate 10°": a line breaks after a dot, never
 * before one. */
static void
update_caption (HydraAugmentGrid *self)
{
  static const char *dot = "\u00a0\u00a0·  ";
  char names[160];
  g_autoptr (GString) text = g_string_new (NULL);
  g_auto (GStrv) parts = NULL;

  if (self->n > 0)
    g_string_append_printf (text, "%d × %d pixels%s", self->size, self->size, dot);
  if (augment_is_none (&self->augment))
    g_string_append (text, "no augmentation");
  augment_to_names (&self->augment, names, sizeof names);
  parts = g_strsplit (augment_is_none (&self->augment) ? "" : names, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto (GStrv) kv = g_strsplit (parts[i], "=", 2);

      if (i > 0)
        g_string_append (text, dot);
      g_string_append (text, kv[0]);
      if (kv[1] != NULL)
        g_string_append_printf (text, " %s%s", kv[1], g_str_equal (kv[0], "rotate") ? "°" : "");
    }
  gtk_label_set_text (self->caption_label, text->str);
}

static void
set_busy (HydraAugmentGrid *self, gboolean busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

/* ---------------------------------------------------------------------------------------
 * Rendering: augmenting 12 images of up to 128 px takes longer than a frame, so a worker
 * does it
 */

typedef struct
{
  GBytes *source; /* (n, size, size, 3) */
  guint n;
  int size;
  HnAugment augment;
  int images[HYDRA_AUGMENT_GRID_TILES];
  guint64 seeds[HYDRA_AUGMENT_GRID_TILES];
  guint generation;
  guint8 *shown; /* the result, (n, size, size, 3) */
} RenderJob;

static void
render_job_free (RenderJob *job)
{
  g_clear_pointer (&job->source, g_bytes_unref);
  g_free (job->shown);
  g_free (job);
}

/* Each image augmented with its seed, as training would, then back to colours. */
static void
render_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  RenderJob *job = task_data;
  gsize pixels = (gsize) job->size * job->size * 3;
  const guint8 *source = g_bytes_get_data (job->source, NULL);
  g_autofree float *input = g_new (float, pixels);

  job->shown = g_new (guint8, job->n * pixels);
  for (guint i = 0; i < job->n && !g_cancellable_is_cancelled (cancellable); i++)
    {
      augment_image (source + i * pixels, job->size, &job->augment, job->seeds[i], input);
      denormalize (input, job->size, job->shown + i * pixels);
    }
  g_task_return_boolean (task, TRUE);
}

static void
render_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraAugmentGrid *self = HYDRA_AUGMENT_GRID (source);
  RenderJob *job = g_task_get_task_data (G_TASK (result));

  if (!g_task_propagate_boolean (G_TASK (result), NULL) || job->generation != self->generation)
    return;
  g_free (self->shown);
  self->shown = g_steal_pointer (&job->shown);
  self->n_shown = job->n;
  self->shown_size = job->size;
  memcpy (self->shown_images, job->images, sizeof job->images);
  memcpy (self->seeds, job->seeds, sizeof job->seeds);
  hydra_augment_tiles_set (self->tiles, self->n_shown, self->shown_size, self->shown,
                           (const char *const *) self->tips);
  set_busy (self, FALSE);
}

/* Asks for the tiles of the images, augmentation and seeds now in force. */
static void
render (HydraAugmentGrid *self)
{
  g_autoptr (GTask) task = NULL;
  RenderJob *job;

  self->generation++;
  update_caption (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "augment.shuffle",
                                 self->n > 0 && !augment_is_none (&self->augment));
  if (self->n == 0)
    {
      g_clear_pointer (&self->shown, g_free);
      self->n_shown = 0;
      hydra_augment_tiles_set (self->tiles, 0, 0, NULL, NULL);
      set_busy (self, FALSE);
      return;
    }
  job = g_new0 (RenderJob, 1);
  job->source = g_bytes_ref (self->source);
  job->n = self->n;
  job->size = self->size;
  job->augment = self->augment;
  job->generation = self->generation;
  memcpy (job->images, self->images, sizeof self->images);
  for (guint i = 0; i < self->n; i++)
    job->seeds[i] = augment_seed (GRID_SEED, (int) self->shuffles, self->images[i]);
  task = g_task_new (self, self->cancellable, render_done, NULL);
  g_task_set_source_tag (task, render);
  g_task_set_task_data (task, job, (GDestroyNotify) render_job_free);
  g_task_run_in_thread (task, render_thread);
  set_busy (self, TRUE);
}

/* "26 · female · asian", and the file's name on a line of its own. */
static char *
describe_image (const HnDataset *ds, int i)
{
  const HnFaceLabels *l = &ds->labels[i];
  g_autofree char *name = ds->names != NULL ? g_filename_display_name (ds->names[i]) : NULL;

  if (name != NULL)
    return g_strdup_printf ("%d · %s · %s\n%s", l->age, gender_names[l->gender],
                            race_names[l->race], name);
  return g_strdup_printf ("%d · %s · %s", l->age, gender_names[l->gender], race_names[l->race]);
}

void
hydra_augment_grid_set_dataset (HydraAugmentGrid *self, const HnDataset *ds, int val_percent)
{
  g_autofree int *train = NULL;
  g_autofree guint8 *source = NULL;
  int n_train = 0, n_val = 0;
  gsize pixels;

  g_return_if_fail (HYDRA_IS_AUGMENT_GRID (self));

  g_clear_pointer (&self->source, g_bytes_unref);
  g_clear_pointer (&self->tips, g_strfreev);
  self->n = 0;
  self->shuffles = 0;
  if (ds != NULL && ds->n > 0)
    {
      /* augmentation is what training images get: show those, unless there are none */
      train = g_new (int, ds->n);
      dataset_split (ds, val_percent, train, &n_train, NULL, &n_val);
      if (n_train == 0)
        for (int i = 0; i < ds->n; i++)
          train[n_train++] = i;
      self->n = MIN (HYDRA_AUGMENT_GRID_TILES, n_train);
      self->size = ds->size;
      pixels = (gsize) ds->size * ds->size * 3;
      source = g_new (guint8, self->n * pixels);
      self->tips = g_new0 (char *, self->n + 1);
      for (guint k = 0; k < self->n; k++)
        {
          self->images[k] = train[(gint64) k * n_train / self->n];
          memcpy (source + k * pixels, ds->pixels + (gsize) self->images[k] * pixels, pixels);
          self->tips[k] = describe_image (ds, self->images[k]);
        }
      self->source = g_bytes_new_take (g_steal_pointer (&source), self->n * pixels);
    }
  render (self);
}

void
hydra_augment_grid_set_augment (HydraAugmentGrid *self, const HnAugment *augment)
{
  g_return_if_fail (HYDRA_IS_AUGMENT_GRID (self));
  g_return_if_fail (augment != NULL);

  if (memcmp (&self->augment, augment, sizeof *augment) == 0)
    return;
  self->augment = *augment;
  render (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUGMENT]);
}

void
hydra_augment_grid_get_augment (HydraAugmentGrid *self, HnAugment *augment)
{
  g_return_if_fail (HYDRA_IS_AUGMENT_GRID (self));
  g_return_if_fail (augment != NULL);

  *augment = self->augment;
}

void
hydra_augment_grid_shuffle (HydraAugmentGrid *self)
{
  g_return_if_fail (HYDRA_IS_AUGMENT_GRID (self));

  self->shuffles++;
  render (self);
}

gboolean
hydra_augment_grid_get_busy (HydraAugmentGrid *self)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), FALSE);
  return self->busy;
}

guint
hydra_augment_grid_get_n_tiles (HydraAugmentGrid *self)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), 0);
  return self->n_shown;
}

int
hydra_augment_grid_get_size (HydraAugmentGrid *self)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), 0);
  return self->shown_size;
}

int
hydra_augment_grid_get_image (HydraAugmentGrid *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), -1);
  g_return_val_if_fail (i < self->n_shown, -1);
  return self->shown_images[i];
}

guint64
hydra_augment_grid_get_seed (HydraAugmentGrid *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), 0);
  g_return_val_if_fail (i < self->n_shown, 0);
  return self->seeds[i];
}

const guint8 *
hydra_augment_grid_get_pixels (HydraAugmentGrid *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_AUGMENT_GRID (self), NULL);
  g_return_val_if_fail (i < self->n_shown, NULL);
  return self->shown + (gsize) i * self->shown_size * self->shown_size * 3;
}

/* ---------------------------------------------------------------------------------------
 * The widget
 */

static void
shuffle_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  hydra_augment_grid_shuffle (HYDRA_AUGMENT_GRID (widget));
}

static void
hydra_augment_grid_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraAugmentGrid *self = HYDRA_AUGMENT_GRID (object);

  switch (prop_id)
    {
    case PROP_AUGMENT:
      {
        char names[160];

        augment_to_names (&self->augment, names, sizeof names);
        g_value_set_string (value, names);
      }
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_augment_grid_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  HydraAugmentGrid *self = HYDRA_AUGMENT_GRID (object);

  switch (prop_id)
    {
    case PROP_AUGMENT:
      {
        const char *names = g_value_get_string (value);
        HnAugment augment;

        /* a list being typed is the settings entry's to flag; the tiles keep the last one */
        if (augment_from_names (names != NULL ? names : "none", &augment))
          hydra_augment_grid_set_augment (self, &augment);
      }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_augment_grid_dispose (GObject *object)
{
  HydraAugmentGrid *self = HYDRA_AUGMENT_GRID (object);

  g_cancellable_cancel (self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (object), HYDRA_TYPE_AUGMENT_GRID);

  G_OBJECT_CLASS (hydra_augment_grid_parent_class)->dispose (object);
}

static void
hydra_augment_grid_finalize (GObject *object)
{
  HydraAugmentGrid *self = HYDRA_AUGMENT_GRID (object);

  g_clear_pointer (&self->source, g_bytes_unref);
  g_free (self->shown);
  g_strfreev (self->tips);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (hydra_augment_grid_parent_class)->finalize (object);
}

static void
hydra_augment_grid_class_init (HydraAugmentGridClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_augment_grid_dispose;
  object_class->finalize = hydra_augment_grid_finalize;
  object_class->get_property = hydra_augment_grid_get_property;
  object_class->set_property = hydra_augment_grid_set_property;

  properties[PROP_AUGMENT]
      = g_param_spec_string ("augment", NULL, NULL, "none",
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "augment.shuffle", NULL, shuffle_activated);

  g_type_ensure (HYDRA_TYPE_AUGMENT_TILES);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-augment-grid.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraAugmentGrid, caption_label);
  gtk_widget_class_bind_template_child (widget_class, HydraAugmentGrid, tiles);
  /* the root child, so that dispose_template unparents it */
  gtk_widget_class_bind_template_child_full (widget_class, "card", FALSE, 0);

  gtk_widget_class_set_css_name (widget_class, "hydra-augment-grid");
}

static void
hydra_augment_grid_init (HydraAugmentGrid *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  render (self);
}

GtkWidget *
hydra_augment_grid_new (void)
{
  return g_object_new (HYDRA_TYPE_AUGMENT_GRID, NULL);
}
