/* bench-stall.c — how long the studio's main loop stalls while it trains at full speed and
 * while a batch of dropped images is predicted. Not a test: a measurement to run by hand,
 *
 *   xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/ui/bench-stall [SECONDS] [IMAGES] [FOLDER]
 *
 * It opens the real window on 2,000 synthetic faces with the default settings (OpenBLAS's own
 * thread count), presses Train, and samples a 5 ms timer: a gap between two ticks is a stall.
 * Then, still training, it hands IMAGES face files to the prediction pane as a drop would:
 * synthetic ones, or the first IMAGES (by name) of FOLDER, for instance real UTKFace photos. Prints
 * one JSON object: the longest gap, the 99th percentile and the tick count for each phase, how long
 * the drop's own call took (its first photos are built there, so it counts as the drop phase's
 * first gap) and how many photos and face cards exist at the end.
 */

#include <gtk/gtk.h>
#include <stdlib.h>
#include <string.h>

#include "hydra-application.h"
#include "hydra-predict-photo.h"
#include "hydra-window.h"
#include "synth.h"

typedef struct
{
  GArray *gaps; /* gint64 µs */
  gint64 last;
} Ticks;

static Ticks ticks;

static gboolean
tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (ticks.last != 0)
    {
      gint64 gap = now - ticks.last;
      g_array_append_val (ticks.gaps, gap);
    }
  ticks.last = now;
  return G_SOURCE_CONTINUE;
}

/* The widgets of type under widget: what the drop made the main loop build and lay out. */
static guint
count_widgets (GtkWidget *widget, GType type)
{
  guint n = G_TYPE_CHECK_INSTANCE_TYPE (widget, type);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_widgets (child, type);
  return n;
}

static void
run_for (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
}

static int
cmp_gap (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return (x > y) - (x < y);
}

static int
cmp_name (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Starts a phase; returns its summary as JSON when called again with the next name. */
static char *
phase_summary (void)
{
  if (ticks.gaps->len == 0)
    return g_strdup ("null");
  g_array_sort (ticks.gaps, cmp_gap);
  gint64 *g = (gint64 *) ticks.gaps->data;
  guint n = ticks.gaps->len;
  char *json = g_strdup_printf (
      "{\"longest_ms\":%.1f,\"p99_ms\":%.1f,\"median_ms\":%.1f,\"ticks\":%u}", g[n - 1] / 1000.0,
      g[(guint) (0.99 * (n - 1))] / 1000.0, g[n / 2] / 1000.0, n);
  g_array_set_size (ticks.gaps, 0);
  ticks.last = 0;
  return json;
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? atof (argv[1]) : 20;
  int n_images = argc > 2 ? atoi (argv[2]) : 40;
  const char *folder = argc > 3 ? argv[3] : NULL;
  g_autofree char *tmp = g_dir_make_tmp ("hydranet-stall-XXXXXX", NULL);

  g_setenv ("GSETTINGS_SCHEMA_DIR", HYDRA_SCHEMA_DIR, FALSE); /* the build tree's, unless set */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("XDG_DATA_HOME", tmp, TRUE);
  gtk_init ();
  HydraApplication *app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  HydraWindow *window = hydra_window_new (app);
  gtk_window_present (GTK_WINDOW (window));
  HydraTrainer *trainer = hydra_window_get_trainer (window);

  while (hydra_window_get_dataset (window) == NULL)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-pause", NULL);
  while (hydra_trainer_get_state (trainer) != HYDRA_RUN_RUNNING)
    g_main_context_iteration (NULL, TRUE);
  run_for (3); /* past the first frames and the first steps */

  ticks.gaps = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_timeout_add (5, tick, NULL);
  run_for (seconds);
  g_autofree char *training = phase_summary ();

  /* a drop of face files while training goes on */
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *faces
      = folder != NULL ? g_strdup (folder) : g_build_filename (tmp, "faces", NULL);
  HnError err;
  if (folder == NULL && !synth_write_folder (faces, n_images, 7, 128, SYNTH_PNG, 0, NULL, &err))
    {
      g_printerr ("cannot write faces: %s\n", err.message);
      return 1;
    }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (faces, 0, NULL);
  if (dir == NULL)
    {
      g_printerr ("cannot read %s\n", faces);
      return 1;
    }
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, cmp_name);
  for (guint i = 0; i < names->len && files->len < (guint) n_images; i++)
    g_ptr_array_add (files, g_file_new_build_filename (faces, g_ptr_array_index (names, i), NULL));
  HydraPredictPane *pane = hydra_window_get_predict_pane (window);
  /* the drop itself is a main-loop callback: its own time is the first gap */
  gint64 t0 = g_get_monotonic_time ();
  ticks.last = t0;
  hydra_predict_pane_add_files (pane, (GFile **) files->pdata, files->len);
  double add_ms = (g_get_monotonic_time () - t0) / 1e3;
  do
    g_main_context_iteration (NULL, TRUE);
  while (hydra_predict_pane_get_busy (pane));
  double drop_s = (g_get_monotonic_time () - t0) / 1e6;
  run_for (0.5); /* the frames that lay out and draw the last results */
  guint photos = count_widgets (GTK_WIDGET (window), HYDRA_TYPE_PREDICT_PHOTO);
  guint cards = count_widgets (GTK_WIDGET (window), HYDRA_TYPE_PREDICT_CARD);
  g_autofree char *dropping = phase_summary ();

  printf ("{\"renderer\":\"%s\",\"img_per_s\":%.0f,\"training\":%s,\"drop\":%s,"
          "\"drop_images\":%u,\"drop_seconds\":%.2f,\"add_ms\":%.1f,\"photos_built\":%u,"
          "\"cards_built\":%u}\n",
          g_getenv ("GSK_RENDERER") ? g_getenv ("GSK_RENDERER") : "default", ({
            double v;
            g_object_get (trainer, "img-per-s", &v, NULL);
            v;
          }),
          training, dropping, files->len, drop_s, add_ms, photos, cards);

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (app);
  return 0;
}
