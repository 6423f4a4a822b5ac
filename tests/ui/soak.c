/* soak.c — the studio driven as a restless user would drive it, for a long time, while what
 * matters to a session that lasts hours is measured. Run by tests/ui/soak (the script) or:
 *
 *   xvfb-run -a -s "-screen 0 1600x1000x24" build/tests/ui/soak [--seconds S] [--folder DIR]
 *       [--out DIR] [--seed N]
 *
 * It opens the real window on DIR (UTKFace photos; without it, 2,000 synthetic faces), presses
 * Train and then, until S seconds have passed:
 *   every 2–5 s    one live change: a head's weight, the age loss, the learning rate or the
 *                  balancing method, written to the settings as the panel's controls write them
 *   every 20–40 s  Pause, and Resume 1–3 s later
 *   every 10–20 s  a drop of 1–40 photos on the prediction pane (Clear first past 80 photos,
 *                  as a user tidies up: what the pane shows is kept on purpose)
 *   every 3–8 s    another view
 * A run that diverges is rolled back and resumed; one that ends is started again.
 *
 * Every 10 s it samples the resident memory, the main loop's longest stall (the longest gap
 * between two ticks of a 5 ms timer) and the training rate, into DIR/soak.csv, and at the end
 * draws them into DIR/soak.png and prints a JSON summary. It exits 1 when memory after the
 * warm-up (the first fifth of the run, at least a minute; the median of the next quarter
 * against that of the last) grew more than 5%, a stall exceeded 100 ms, GLib or GTK printed
 * a warning or critical, or training stopped moving. With --figures-not-judged, as in the test
 * suite, memory and stalls are only reported: on a shared machine they measure the neighbours
 * as much as the studio.
 */

#include <gtk/gtk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hydra-application.h"
#include "hydra-chart-axis.h"
#include "hydra-predict-pane.h"
#include "hydra-window.h"
#include "synth.h"

#define SAMPLE_S 10
#define MAX_STALL_MS 100.0
#define MAX_GROWTH 0.05
#define MAX_PHOTOS 80

static const char *const views[] = { "loss", "balance", "metrics", "dataset", "runs" };

typedef struct
{
  double t, rss_mb, stall_ms, img_per_s;
} Sample;

typedef struct
{
  HydraWindow *window;
  HydraTrainer *trainer;
  GSettings *settings;
  GRand *rand;
  GPtrArray *photos;  /* char *, the files drops pick from */
  GStrv age_losses;   /* the schema's choices */
  GStrv balances;

  gint64 t0, last_tick, longest_gap; /* µs */
  GArray *samples;                   /* Sample */
  guint warnings;
  guint changes, pauses, drops, dropped, views, rollbacks, restarts;
  guint sample_id;
  gboolean done;
} Soak;

static Soak soak;

/* ---- what is measured ---- */

static GLogWriterOutput
count_warnings (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  if (level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    soak.warnings++;
  return g_log_writer_default (level, fields, n_fields, data);
}

static double
rss_mb (void)
{
  long pages = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");

  if (f != NULL)
    {
      if (fscanf (f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
      fclose (f);
    }
  return resident * (double) sysconf (_SC_PAGESIZE) / (1 << 20);
}

static gboolean
tick (gpointer data)
{
  gint64 now = g_get_monotonic_time ();

  if (soak.last_tick != 0 && now - soak.last_tick > soak.longest_gap)
    soak.longest_gap = now - soak.last_tick;
  soak.last_tick = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
sample (gpointer data)
{
  Sample s = { (g_get_monotonic_time () - soak.t0) / 1e6, rss_mb (), soak.longest_gap / 1e3, 0 };
  gint64 step;

  g_object_get (soak.trainer, "img-per-s", &s.img_per_s, "step", &step, NULL);
  g_array_append_val (soak.samples, s);
  soak.longest_gap = 0;
  g_print ("%7.0f s  %7.1f MB  stall %6.1f ms  %6.0f img/s  step %" G_GINT64_FORMAT "  state %d\n",
           s.t, s.rss_mb, s.stall_ms, s.img_per_s, step, hydra_trainer_get_state (soak.trainer));
  return G_SOURCE_CONTINUE;
}

/* ---- what a user does ---- */

/* Says which of the user's acts took long in its own callback: a stall's suspect. */
static void
took (const char *what, const char *detail, gint64 since)
{
  double ms = (g_get_monotonic_time () - since) / 1e3;

  if (ms > 20)
    g_print ("%7.0f s  slow: %s %s took %.0f ms\n", (since - soak.t0) / 1e6, what,
             detail ? detail : "", ms);
}

static guint
seconds_between (double lo, double hi)
{
  return (guint) (1000 * g_rand_double_range (soak.rand, lo, hi));
}

static const char *
pick (GStrv choices)
{
  return choices[g_rand_int_range (soak.rand, 0, (gint32) g_strv_length (choices))];
}

/* The nicks an enum key of the schema takes, as its drop-down offers them. */
static GStrv
enum_choices (const char *key)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (soak.settings, "settings-schema", &schema, NULL);
  g_autoptr (GSettingsSchemaKey) k = g_settings_schema_get_key (schema, key);
  g_autoptr (GVariant) range = g_settings_schema_key_get_range (k);
  g_autoptr (GVariant) values = g_variant_get_child_value (range, 1);
  g_autoptr (GVariant) nicks = g_variant_get_variant (values);

  return g_variant_dup_strv (nicks, NULL);
}

static gboolean
live_change (gpointer data)
{
  static const char *const weights[] = { "w-age", "w-gender", "w-race" };
  gint64 t = g_get_monotonic_time ();

  switch (g_rand_int_range (soak.rand, 0, 4))
    {
    case 0: /* 0.01 … 10, as the slider spans it */
      g_settings_set_double (soak.settings, weights[g_rand_int_range (soak.rand, 0, 3)],
                             pow (10, g_rand_double_range (soak.rand, -2, 1)));
      break;
    case 1:
      g_settings_set_string (soak.settings, "age-loss", pick (soak.age_losses));
      break;
    case 2:
      g_settings_set_double (soak.settings, "learning-rate",
                             pow (10, g_rand_double_range (soak.rand, -4.5, -2.5)));
      break;
    default:
      g_settings_set_string (soak.settings, "balance", pick (soak.balances));
      break;
    }
  soak.changes++;
  took ("live change", NULL, t);
  g_timeout_add (seconds_between (2, 5), live_change, NULL);
  return G_SOURCE_REMOVE;
}

/* A pause lands between two steps: until the trainer has stopped, Resume waits, as a user
 * waits for the button to say so. */
static gboolean
resume (gpointer data)
{
  switch (hydra_trainer_get_state (soak.trainer))
    {
    case HYDRA_RUN_RUNNING:
      return G_SOURCE_CONTINUE;
    case HYDRA_RUN_PAUSED:
      gtk_widget_activate_action (GTK_WIDGET (soak.window), "win.start-pause", NULL);
      return G_SOURCE_REMOVE;
    default:
      return G_SOURCE_REMOVE;
    }
}

static gboolean
wait_then_resume (gpointer data)
{
  if (resume (NULL))
    g_timeout_add (250, resume, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
pause_resume (gpointer data)
{
  if (hydra_trainer_get_state (soak.trainer) == HYDRA_RUN_RUNNING)
    {
      gtk_widget_activate_action (GTK_WIDGET (soak.window), "win.start-pause", NULL);
      soak.pauses++;
      g_timeout_add (seconds_between (1, 3), wait_then_resume, NULL);
    }
  g_timeout_add (seconds_between (20, 40), pause_resume, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
drop_photos (gpointer data)
{
  HydraPredictPane *pane = hydra_window_get_predict_pane (soak.window);
  int n = g_rand_int_range (soak.rand, 1, 41);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);

  if (hydra_predict_pane_get_n_photos (pane) > MAX_PHOTOS)
    hydra_predict_pane_clear (pane);
  for (int i = 0; i < n; i++)
    {
      const char *path = g_ptr_array_index (
          soak.photos, g_rand_int_range (soak.rand, 0, (gint32) soak.photos->len));
      g_ptr_array_add (files, g_file_new_for_path (path));
    }
  gint64 t = g_get_monotonic_time ();
  hydra_predict_pane_add_files (pane, (GFile **) files->pdata, files->len);
  took ("drop", NULL, t);
  soak.drops++;
  soak.dropped += files->len;
  g_timeout_add (seconds_between (10, 20), drop_photos, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean
switch_view (gpointer data)
{
  const char *view = views[g_rand_int_range (soak.rand, 0, G_N_ELEMENTS (views))];

  gint64 t = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (soak.window), "win.view", "s", view);
  took ("view", view, t);
  soak.views++;
  g_timeout_add (seconds_between (3, 8), switch_view, NULL);
  return G_SOURCE_REMOVE;
}

/* A diverged run is rolled back and goes on; an ended one starts again: the soak trains. */
static void
state_changed (HydraTrainer *trainer)
{
  GtkWidget *w = GTK_WIDGET (soak.window);

  switch (hydra_trainer_get_state (trainer))
    {
    case HYDRA_RUN_DIVERGED:
      soak.rollbacks++;
      gtk_widget_activate_action (w, "win.rollback", NULL);
      break;
    case HYDRA_RUN_FINISHED:
    case HYDRA_RUN_STOPPED:
    case HYDRA_RUN_FAILED:
      if (!soak.done)
        {
          soak.restarts++;
          gtk_widget_activate_action (w, "win.start-pause", NULL);
        }
      break;
    default:
      break;
    }
}

static gboolean
stop (gpointer data)
{
  soak.done = TRUE;
  g_clear_handle_id (&soak.sample_id, g_source_remove);
  return G_SOURCE_REMOVE;
}

/* ---- the files drops pick from ---- */

static gboolean
is_photo (const char *name)
{
  return g_str_has_suffix (name, ".jpg") || g_str_has_suffix (name, ".png");
}

static gboolean
list_photos (const char *folder)
{
  GDir *dir = g_dir_open (folder, 0, NULL);

  if (dir == NULL)
    return FALSE;
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (is_photo (name))
      g_ptr_array_add (soak.photos, g_build_filename (folder, name, NULL));
  g_dir_close (dir);
  return soak.photos->len > 0;
}

/* ---- the plot ---- */

static void
draw_panel (cairo_t *cr, PangoLayout *layout, double x0, double y0, double w, double h,
            const char *title, gsize field, double limit)
{
  const Sample *s = (const Sample *) soak.samples->data;
  guint n = soak.samples->len;
  double t_max = n ? s[n - 1].t : 1, v_max = limit;
  HydraChartTick ticks[HYDRA_CHART_MAX_TICKS];

  for (guint i = 0; i < n; i++)
    v_max = MAX (v_max, G_STRUCT_MEMBER (double, &s[i], field));
  v_max = v_max > 0 ? v_max * 1.1 : 1;

  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  pango_layout_set_text (layout, title, -1);
  cairo_move_to (cr, x0, y0 - 22);
  pango_cairo_show_layout (cr, layout);

  guint n_ticks = hydra_chart_linear_ticks (0, v_max, 5, FALSE, ticks);
  for (guint i = 0; i < n_ticks; i++)
    {
      double y = y0 + h - ticks[i].v / v_max * h;
      cairo_set_source_rgba (cr, 0, 0, 0, 0.12);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x0 + w, y);
      cairo_stroke (cr);
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      pango_layout_set_text (layout, ticks[i].label, -1);
      cairo_move_to (cr, x0 - 60, y - 8);
      pango_cairo_show_layout (cr, layout);
    }
  n_ticks = hydra_chart_linear_ticks (0, t_max / 60, 10, FALSE, ticks);
  for (guint i = 0; i < n_ticks; i++)
    {
      double x = x0 + ticks[i].v * 60 / t_max * w;
      cairo_set_source_rgb (cr, 0.35, 0.35, 0.35);
      pango_layout_set_text (layout, ticks[i].label, -1);
      cairo_move_to (cr, x - 4, y0 + h + 4);
      pango_cairo_show_layout (cr, layout);
    }
  if (limit > 0)
    {
      double y = y0 + h - limit / v_max * h;
      cairo_set_source_rgb (cr, 0.8, 0.1, 0.1);
      cairo_set_dash (cr, (double[]) { 6, 4 }, 2, 0);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x0 + w, y);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  cairo_set_source_rgb (cr, 0.1, 0.35, 0.75);
  cairo_set_line_width (cr, 1.5);
  for (guint i = 0; i < n; i++)
    {
      double x = x0 + s[i].t / t_max * w;
      double y = y0 + h - G_STRUCT_MEMBER (double, &s[i], field) / v_max * h;
      if (i == 0)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  cairo_set_line_width (cr, 1);
}

static void
draw_plot (const char *path, const char *caption)
{
  const int width = 1200, height = 940;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoFontDescription *font = pango_font_description_from_string ("Sans 11");

  pango_layout_set_font_description (layout, font);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  pango_layout_set_width (layout, (width - 40) * PANGO_SCALE);
  pango_layout_set_text (layout, caption, -1);
  cairo_move_to (cr, 20, 8);
  pango_cairo_show_layout (cr, layout);
  pango_layout_set_width (layout, -1);

  draw_panel (cr, layout, 90, 80, 1080, 200, "Resident memory (MB)", G_STRUCT_OFFSET (Sample, rss_mb), 0);
  draw_panel (cr, layout, 90, 370, 1080, 200,
              "Main loop's longest stall in each 10 s (ms); dashed: the 100 ms limit",
              G_STRUCT_OFFSET (Sample, stall_ms), MAX_STALL_MS);
  draw_panel (cr, layout, 90, 660, 1080, 200, "Training rate (images/s)",
              G_STRUCT_OFFSET (Sample, img_per_s), 0);
  cairo_set_source_rgb (cr, 0.2, 0.2, 0.2);
  pango_layout_set_text (layout, "minutes", -1);
  cairo_move_to (cr, width / 2.0, height - 30);
  pango_cairo_show_layout (cr, layout);

  cairo_surface_write_to_png (surface, path);
  pango_font_description_free (font);
  g_object_unref (layout);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* ---- the verdict ---- */

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The median resident memory of the samples [from, to): the heap breathes by a tenth as
 * batches, drops and evaluations come and go, so a quarter of the run is compared with
 * another rather than one sample with one. */
static double
median_rss (guint from, guint to)
{
  g_autoptr (GArray) v = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = from; i < to; i++)
    g_array_append_val (v, g_array_index (soak.samples, Sample, i).rss_mb);
  if (v->len == 0)
    return 0;
  g_array_sort (v, compare_double);
  return g_array_index (v, double, v->len / 2);
}

int
main (int argc, char **argv)
{
  double seconds = 300;
  g_autofree char *folder = NULL, *out = NULL;
  gint64 seed = 1;
  gboolean figures_not_judged = FALSE;
  GOptionEntry entries[] = {
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to drive the studio", "S" },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, "UTKFace photos to train on", "DIR" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Where soak.csv and soak.png go", "DIR" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "The random user's seed", "N" },
    { "figures-not-judged", 0, 0, G_OPTION_ARG_NONE, &figures_not_judged,
      "Report memory and stalls without failing on them (a shared machine blurs them)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— drive the studio for a long time");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  g_autofree char *home = g_dir_make_tmp ("hydranet-soak-XXXXXX", NULL);
  if (out == NULL)
    out = g_strdup (home);
  g_mkdir_with_parents (out, 0755);

  g_setenv ("GSETTINGS_SCHEMA_DIR", HYDRA_SCHEMA_DIR, FALSE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("XDG_DATA_HOME", home, TRUE); /* its runs: soak-run removes them */
  g_log_set_writer_func (count_warnings, NULL, NULL);
  gtk_init ();

  soak.rand = g_rand_new_with_seed ((guint32) seed);
  soak.photos = g_ptr_array_new_with_free_func (g_free);
  soak.samples = g_array_new (FALSE, FALSE, sizeof (Sample));
  soak.settings = g_settings_new (HYDRA_APP_ID);
  soak.age_losses = enum_choices ("age-loss");
  soak.balances = enum_choices ("balance");

  /* the studio's own folder setting: the window opens it as it would the last folder used */
  g_settings_set_int (soak.settings, "epochs", 1000);
  if (folder != NULL)
    {
      g_autofree char *uri = g_filename_to_uri (folder, NULL, NULL);
      if (uri == NULL || !list_photos (folder))
        {
          g_printerr ("soak: no photos in %s\n", folder);
          return 2;
        }
      g_settings_set_string (soak.settings, "last-folder", uri);
    }

  HydraApplication *app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  soak.window = hydra_window_new (app);
  soak.trainer = hydra_window_get_trainer (soak.window);
  gtk_window_present (GTK_WINDOW (soak.window));
  while (hydra_window_get_dataset (soak.window) == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (folder == NULL)
    {
      /* the synthetic faces the studio trains on, written out for the drops */
      g_autofree char *faces = g_build_filename (home, "drops", NULL);
      HnError err;
      if (!synth_write_folder (faces, 200, 7, 128, SYNTH_PNG, 0, NULL, &err) || !list_photos (faces))
        {
          g_printerr ("soak: cannot write faces: %s\n", err.message);
          return 2;
        }
    }
  g_signal_connect (soak.trainer, "notify::state", G_CALLBACK (state_changed), NULL);
  gtk_widget_activate_action (GTK_WIDGET (soak.window), "win.start-pause", NULL);
  while (hydra_trainer_get_state (soak.trainer) != HYDRA_RUN_RUNNING)
    g_main_context_iteration (NULL, TRUE);

  soak.t0 = g_get_monotonic_time ();
  g_timeout_add (5, tick, NULL);
  soak.sample_id = g_timeout_add_seconds (SAMPLE_S, sample, NULL);
  g_timeout_add (seconds_between (2, 5), live_change, NULL);
  g_timeout_add (seconds_between (20, 40), pause_resume, NULL);
  g_timeout_add (seconds_between (10, 20), drop_photos, NULL);
  g_timeout_add (seconds_between (3, 8), switch_view, NULL);
  g_timeout_add ((guint) (seconds * 1000), stop, NULL);
  while (!soak.done)
    g_main_context_iteration (NULL, TRUE);
  if (soak.samples->len == 0
      || g_array_index (soak.samples, Sample, soak.samples->len - 1).t < seconds - 1)
    sample (NULL); /* the last seconds, unless the timer just took them */

  /* the verdict */
  guint n = soak.samples->len;
  const Sample *s = (const Sample *) soak.samples->data;
  double warm = MAX (60, seconds / 5), worst_stall = 0;
  guint first = 0, moving = 0;
  while (first < n && s[first].t < warm)
    first++;
  for (guint i = 0; i < n; i++)
    {
      worst_stall = MAX (worst_stall, s[i].stall_ms);
      moving += s[i].img_per_s > 0;
    }
  guint quarter = MAX (3, (n - MIN (first, n)) / 4);
  double rss_warm = median_rss (first, MIN (first + quarter, n));
  double rss_end = median_rss (n >= quarter ? n - quarter : 0, n);
  double growth = rss_warm > 0 ? rss_end / rss_warm - 1 : 0;
  gboolean figures_ok = n >= first + 2 * quarter && growth <= MAX_GROWTH
                        && worst_stall <= MAX_STALL_MS;
  gboolean ok = (figures_ok || figures_not_judged) && soak.warnings == 0 && moving * 2 > n;

  g_autofree char *csv_path = g_build_filename (out, "soak.csv", NULL);
  FILE *csv = fopen (csv_path, "w");
  if (csv != NULL)
    {
      fprintf (csv, "seconds,rss_mb,longest_stall_ms,img_per_s\n");
      for (guint i = 0; i < n; i++)
        fprintf (csv, "%.1f,%.1f,%.1f,%.1f\n", s[i].t, s[i].rss_mb, s[i].stall_ms, s[i].img_per_s);
      fclose (csv);
    }
  g_autofree char *caption = g_strdup_printf (
      "HydraNet Studio soak, %.1f min on %s: %u live changes, %u pauses, %u drops (%u photos), "
      "%u view switches, %u roll-backs, %u restarts. Memory after warm-up %+.1f%%, longest "
      "stall %.0f ms, %u warnings.",
      seconds / 60, folder != NULL ? "real photos" : "synthetic faces", soak.changes, soak.pauses,
      soak.drops, soak.dropped, soak.views, soak.rollbacks, soak.restarts, 100 * growth, worst_stall,
      soak.warnings);
  g_autofree char *png_path = g_build_filename (out, "soak.png", NULL);
  draw_plot (png_path, caption);

  printf ("{\"passed\":%s,\"figures_passed\":%s,\"seconds\":%.0f,\"samples\":%u,\"rss_after_warmup_mb\":%.1f,"
          "\"rss_end_mb\":%.1f,\"growth\":%.4f,\"longest_stall_ms\":%.1f,\"warnings\":%u,"
          "\"changes\":%u,\"pauses\":%u,\"drops\":%u,\"photos_dropped\":%u,\"views\":%u,"
          "\"rollbacks\":%u,\"restarts\":%u,\"csv\":\"%s\",\"plot\":\"%s\"}\n",
          ok ? "true" : "false", figures_ok ? "true" : "false", seconds, n, rss_warm, rss_end, growth, worst_stall, soak.warnings,
          soak.changes, soak.pauses, soak.drops, soak.dropped, soak.views, soak.rollbacks,
          soak.restarts, csv_path, png_path);

  gtk_widget_activate_action (GTK_WIDGET (soak.window), "win.stop", NULL);
  while (hydra_trainer_get_busy (soak.trainer))
    g_main_context_iteration (NULL, TRUE);
  gtk_window_destroy (GTK_WINDOW (soak.window));
  g_object_unref (app);
  return ok ? 0 : 1;
}
