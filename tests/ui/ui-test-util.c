/* ui-test-util.c — what the studio's UI suites share. */

#include "ui-test-util.h"

#include <check.h>

void
ui_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

gboolean
ui_wait_for (gboolean (*cond) (gpointer data), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!cond (data) && g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  return cond (data);
}

typedef gboolean (*Condition) (void);

static gboolean
call_condition (gpointer cond)
{
  return ((Condition) cond) ();
}

gboolean
ui_wait_until (gboolean (*cond) (void), double timeout_s)
{
  return ui_wait_for (call_condition, (gpointer) cond, timeout_s);
}

cairo_surface_t *
ui_grab (GtkWidget *widget)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  int w = 0, h = 0;

  /* nothing to draw while a new layout is pending: let a frame pass */
  for (int attempt = 0; node == NULL && attempt < 50; attempt++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      w = gtk_widget_get_width (widget);
      h = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        ui_spin (0.02);
    }
  ck_assert_ptr_nonnull (node);

  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  return surface;
}

void
ui_save_artifact (cairo_surface_t *surface, const char *name)
{
  const char *dir = g_getenv ("HYDRANET_TEST_ARTIFACTS");
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  ck_assert_int_eq (cairo_surface_write_to_png (surface, path), CAIRO_STATUS_SUCCESS);
}

void
ui_screenshot (GtkWidget *widget, const char *name)
{
  g_autofree char *file = g_strdup_printf ("%s.png", name);

  if (g_getenv ("HYDRANET_TEST_ARTIFACTS") == NULL)
    return;
  ui_spin (0.2); /* the picture is the last frame's: let one be drawn */
  cairo_surface_t *surface = ui_grab (widget);
  ui_save_artifact (surface, file);
  cairo_surface_destroy (surface);
}

static struct
{
  guint id;
  gint64 last, longest;
} meter;

static gboolean
stall_tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (meter.last != 0 && now - meter.last > meter.longest)
    meter.longest = now - meter.last;
  meter.last = now;
  return G_SOURCE_CONTINUE;
}

void
ui_stall_meter_start (void)
{
  g_clear_handle_id (&meter.id, g_source_remove);
  meter.last = meter.longest = 0;
  meter.id = g_timeout_add (5, stall_tick, NULL);
}

double
ui_stall_meter_stop (void)
{
  g_clear_handle_id (&meter.id, g_source_remove);
  return meter.longest / 1000.0;
}
