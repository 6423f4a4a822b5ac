/* hydra-loss-plot-export.c — the plot as a file: a PNG or SVG picture in the light style, or
 * the series as CSV; synchronously, or with the file written on a worker thread. */

#include "hydra-loss-plot-private.h"

#include <cairo-svg.h>

void
hydra_loss_plot_render (HydraLossPlot *self, cairo_t *cr, int width, int height)
{
  Style st;
  Frame frame;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (cr != NULL);

  hydra_plot_style_init_export (self, &st, cr);
  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  hydra_plot_draw_static (self, cr, width, height, &st, &frame, NULL);
  cairo_restore (cr);
  hydra_plot_style_clear (&st, TRUE);
}

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

typedef enum
{
  FORMAT_PNG,
  FORMAT_SVG,
  FORMAT_CSV,
} ExportFormat;

static gboolean
export_format (const char *path, ExportFormat *format, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".png"))
    *format = FORMAT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = FORMAT_SVG;
  else if (g_str_has_suffix (lower, ".csv"))
    *format = FORMAT_CSV;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "Cannot export to “%s”: the name must end in .png, .svg or .csv", path);
      return FALSE;
    }
  return TRUE;
}

/* Draws the picture into memory, in the file's format. */
static GBytes *
render_image (HydraLossPlot *self, ExportFormat format, int width, int height, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  if (width < 16 || height < 16 || width > 16384 || height > 16384)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot export a %d × %d picture: each side must be 16 to 16384", width, height);
      return NULL;
    }
  if (format == FORMAT_SVG)
    surface = cairo_svg_surface_create_for_stream (append_bytes, bytes, width, height);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  hydra_loss_plot_render (self, cr, width, height);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS && format == FORMAT_PNG)
    status = cairo_surface_write_to_png_stream (surface, append_bytes, bytes);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not draw the plot: %s",
                   cairo_status_to_string (status));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static gboolean
write_bytes (const char *path, GBytes *bytes, GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  return g_file_set_contents (path, data, size, error);
}

/* The runs a CSV holds: the primary, then an overlay's. */
static guint
export_runs (HydraLossPlot *self, HydraSeries **series, const char **names)
{
  guint n = 0;

  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    {
      Track *t = hydra_plot_track (self, k);
      HydraSeries *s = k == 0 ? self->series : t->series;

      if (s == NULL)
        continue;
      series[n] = s;
      names[n++] = t->name;
    }
  return n;
}

gboolean
hydra_loss_plot_export (HydraLossPlot *self, const char *path, int width, int height,
                        GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  ExportFormat format;

  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!export_format (path, &format, error))
    return FALSE;
  if (format == FORMAT_CSV)
    {
      HydraSeries *series[MAX_RUNS];
      const char *names[MAX_RUNS];
      guint n = export_runs (self, series, names);

      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "There is nothing to export");
          return FALSE;
        }
      if (!hydra_plot_overlaid (self))
        return hydra_series_write_csv (self->series, path, error);
      return hydra_series_write_csv_many (series, names, n, path, error);
    }
  bytes = render_image (self, format, width, height, error);
  return bytes != NULL && write_bytes (path, bytes, error);
}

typedef struct
{
  char *path;
  GBytes *bytes;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_free (job->path);
  g_clear_pointer (&job->bytes, g_bytes_unref);
  g_free (job);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportJob *job = task_data;
  GError *error = NULL;

  if (write_bytes (job->path, job->bytes, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_csv_many_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (hydra_series_write_csv_many_finish (result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_csv_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (hydra_series_write_csv_finish (HYDRA_SERIES (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
hydra_loss_plot_export_async (HydraLossPlot *self, const char *path, int width, int height,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;
  ExportFormat format;
  ExportJob *job;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_loss_plot_export_async);
  if (!export_format (path, &format, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (format == FORMAT_CSV)
    {
      HydraSeries *series[MAX_RUNS];
      const char *names[MAX_RUNS];
      guint n = export_runs (self, series, names);

      if (n == 0)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "There is nothing to export");
      else if (!hydra_plot_overlaid (self))
        hydra_series_write_csv_async (self->series, path, cancellable, export_csv_done,
                                      g_steal_pointer (&task));
      else
        hydra_series_write_csv_many_async (series, names, n, path, cancellable,
                                           export_csv_many_done, g_steal_pointer (&task));
      return;
    }
  job = g_new0 (ExportJob, 1);
  job->path = g_strdup (path);
  job->bytes = render_image (self, format, width, height, &error);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  if (job->bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_run_in_thread (task, export_thread);
}

gboolean
hydra_loss_plot_export_finish (HydraLossPlot *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
