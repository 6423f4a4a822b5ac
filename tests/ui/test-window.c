/* test-window.c — the studio's window, driven through its own actions under Xvfb.
 *
 * One window for the whole suite (CK_FORK=no): it loads a small synthetic data set, trains
 * from win.start-pause, takes a weight change and an L1 → MSE switch while running (both
 * must reach the trainer at the next step and appear as markers), pauses, resumes, stops,
 * exports, saves and reloads the model, diverges on purpose and rolls back; then the recipe:
 * a preset and a time budget through the panel, and an augmentation list that cannot start a
 * run. Screenshots of each state go to $HYDRANET_TEST_ARTIFACTS.
 */

#include <cairo.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "augment.h"
#include "hydra-application.h"
#include "hydra-settings-panel.h"
#include "hydra-window.h"
#include "image.h"
#include "records.h"
#include "runinfo.h"
#include "synth.h"
#include "test-util.h"
#include "ui-test-util.h"

static HydraApplication *app;
static HydraWindow *window;
static char *tmpdir;

static HydraTrainer *
trainer (void)
{
  return hydra_window_get_trainer (window);
}

static HydraSeries *
series (void)
{
  return hydra_trainer_get_series (trainer ());
}

static void
screenshot (const char *name)
{
  ui_screenshot (GTK_WIDGET (window), name);
}

static gboolean
dataset_ready (void)
{
  return hydra_window_get_dataset (window) != NULL;
}

static HydraRunState
state (void)
{
  return hydra_trainer_get_state (trainer ());
}

static gboolean
is_running (void)
{
  return state () == HYDRA_RUN_RUNNING && hydra_series_get_n_steps (series ()) >= 3;
}

static gboolean
is_paused (void)
{
  return state () == HYDRA_RUN_PAUSED;
}

static gboolean
is_stopped (void)
{
  return state () == HYDRA_RUN_STOPPED;
}

static gboolean
is_diverged (void)
{
  return state () == HYDRA_RUN_DIVERGED || state () == HYDRA_RUN_FINISHED;
}

static const HydraMarker *
find_marker (const char *prefix)
{
  for (guint i = 0; i < hydra_series_get_n_markers (series ()); i++)
    {
      const HydraMarker *m = hydra_series_get_marker (series (), i);
      if (g_str_has_prefix (m->label, prefix))
        return m;
    }
  return NULL;
}

static gboolean
has_weight_and_loss_markers (void)
{
  return find_marker ("w_age") != NULL && find_marker ("age L1") != NULL
         && hydra_series_get_n_steps (series ()) > 0
         && hydra_series_get_step (series (), hydra_series_get_n_steps (series ()) - 1)->step
                > find_marker ("age L1")->step + 2;
}

static void
activate (const char *action, GVariant *param)
{
  ck_assert_msg (gtk_widget_activate_action_variant (GTK_WIDGET (window), action, param),
                 "action %s is missing", action);
}

/* ---- tests, in order: one window, one run ---- */

START_TEST (test_opens_on_synthetic_faces)
{
  ck_assert (ui_wait_until (dataset_ready, 60));
  const HnDataset *ds = hydra_dataset_get (hydra_window_get_dataset (window));
  ck_assert_int_eq (ds->n, 400);
  ck_assert_int_eq (ds->size, 32);
  ck_assert_str_eq (hydra_dataset_get_title (hydra_window_get_dataset (window)), "Synthetic faces");
  ck_assert_int_eq (state (), HYDRA_RUN_IDLE);
  ck_assert (!hydra_trainer_get_has_model (trainer ()));
  screenshot ("window-ready");
}
END_TEST

START_TEST (test_live_settings_reach_the_next_step)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);

  activate ("win.start-pause", NULL);
  ck_assert_msg (ui_wait_until (is_running, 120), "training did not start: %s",
                 hydra_trainer_get_message (trainer ()));
  ui_stall_meter_start ();

  /* what the weight spin button does, through its GSettings binding */
  g_settings_set_double (settings, "w-age", 0.25);
  activate ("win.age-loss", g_variant_new_string ("mse"));
  ck_assert (ui_wait_until (has_weight_and_loss_markers, 60));

  const HydraMarker *w = find_marker ("w_age");
  const HydraMarker *l = find_marker ("age L1");
  ck_assert_str_eq (w->label, "w_age 1 → 0.25");
  ck_assert_str_eq (l->label, "age L1 → MSE");
  ck_assert_int_eq (hydra_series_get_age_loss (series ()), AGE_LOSS_MSE);

  /* the step after each marker is the first with the new setting; the one at it, the last
   * with the old */
  guint i = hydra_series_find_step (series (), w->step);
  const HydraStepPoint *before = hydra_series_get_step (series (), i);
  const HydraStepPoint *after = hydra_series_get_step (series (), i + 1);
  ck_assert_int_eq (before->step, w->step);
  ck_assert_int_eq (after->step, w->step + 1);
  ck_assert (
      is_close (before->loss[HYDRA_CURVE_AGE_WEIGHTED], before->loss[HYDRA_CURVE_AGE], 0, 1e-5));
  ck_assert (is_close (after->loss[HYDRA_CURVE_AGE_WEIGHTED], 0.25 * after->loss[HYDRA_CURVE_AGE],
                       0, 1e-5));

  /* MSE in years² is far above L1 in years on the same model */
  i = hydra_series_find_step (series (), l->step);
  const HydraStepPoint *l1 = hydra_series_get_step (series (), i);
  const HydraStepPoint *mse = hydra_series_get_step (series (), i + 1);
  ck_assert_int_eq (mse->step, l->step + 1);
  ck_assert_msg (mse->loss[HYDRA_CURVE_AGE] > 4 * l1->loss[HYDRA_CURVE_AGE], "MSE %g vs L1 %g",
                 mse->loss[HYDRA_CURVE_AGE], l1->loss[HYDRA_CURVE_AGE]);

  ui_spin (1.0);
  printf ("# longest main-loop stall while training: %.1f ms\n", ui_stall_meter_stop ());
  screenshot ("window-training");
  g_object_unref (settings);
}
END_TEST

START_TEST (test_pause_resume_stop)
{
  activate ("win.start-pause", NULL);
  ck_assert (ui_wait_until (is_paused, 30));
  gint64 step;
  g_object_get (trainer (), "step", &step, NULL);
  ui_spin (0.5);
  gint64 later;
  g_object_get (trainer (), "step", &later, NULL);
  ck_assert_int_eq (step, later);
  ck_assert_ptr_nonnull (find_marker ("paused"));
  screenshot ("window-paused");

  activate ("win.start-pause", NULL);
  ck_assert (ui_wait_until (is_running, 30));
  ui_spin (0.5);
  ck_assert_ptr_nonnull (find_marker ("resumed"));

  activate ("win.stop", NULL);
  ck_assert (ui_wait_until (is_stopped, 30));
  ck_assert (hydra_trainer_get_has_model (trainer ()));
  ck_assert_ptr_nonnull (find_marker ("stopped"));
}
END_TEST

static void
check_png (const char *path, int width, int height)
{
  cairo_surface_t *s = cairo_image_surface_create_from_png (path);
  ck_assert_int_eq (cairo_surface_status (s), CAIRO_STATUS_SUCCESS);
  ck_assert_int_eq (cairo_image_surface_get_width (s), width);
  ck_assert_int_eq (cairo_image_surface_get_height (s), height);
  cairo_surface_destroy (s);
}

START_TEST (test_export)
{
  HydraLossPlot *plot = hydra_window_get_loss_plot (window);
  g_autofree char *png = test_path (tmpdir, "plot.png");
  g_autofree char *svg = test_path (tmpdir, "plot.svg");
  g_autofree char *csv = test_path (tmpdir, "plot.csv");
  g_autoptr (GError) error = NULL;

  ck_assert (hydra_loss_plot_export (plot, png, 1200, 700, &error));
  check_png (png, 1200, 700);
  ck_assert (hydra_loss_plot_export (plot, svg, 1200, 700, &error));
  g_autofree char *svg_text = NULL;
  ck_assert (g_file_get_contents (svg, &svg_text, NULL, NULL));
  ck_assert_ptr_nonnull (strstr (svg_text, "<svg"));
  ck_assert_ptr_nonnull (strstr (svg_text, "</svg>"));

  ck_assert (hydra_loss_plot_export (plot, csv, 0, 0, &error));
  g_autofree char *csv_text = NULL;
  ck_assert (g_file_get_contents (csv, &csv_text, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (csv_text, "\n", -1);
  guint steps = 0, markers = 0;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      steps += g_str_has_prefix (lines[i], "step,");
      /* a marker for each setting changed, and for a stop or a divergence */
      markers += g_str_has_prefix (lines[i], "setting,")
                 || (g_str_has_prefix (lines[i], "state,")
                     && (strstr (lines[i], ",stopped,") || strstr (lines[i], ",diverged,")));
    }
  ck_assert_uint_eq (steps, hydra_series_get_n_steps (series ()));
  ck_assert_uint_eq (markers, hydra_series_get_n_markers (series ()));
  ck_assert_ptr_nonnull (strstr (csv_text, "w_age 1 → 0.25"));

  g_autofree char *bad = test_path (tmpdir, "missing/plot.png");
  ck_assert (!hydra_loss_plot_export (plot, bad, 100, 100, &error) && error != NULL);
}
END_TEST

/* Predictions for a few synthetic faces from whatever model the trainer holds now. */
static void
predict_faces (HnPrediction out[4])
{
  int size = 0;
  HnModel *model = hydra_trainer_dup_model (trainer (), &size);
  ck_assert_ptr_nonnull (model);
  ck_assert_int_eq (size, 32);
  HnError err;
  ck_assert (model_plan (model, 4, size, &err));
  float *x = g_new (float, 4 * 3 * size * size);
  uint8_t *rgb = g_new (uint8_t, size * size * 3);
  for (int i = 0; i < 4; i++)
    {
      HnFaceLabels labels;
      ck_assert (synth_face (12345, i, size, rgb, &labels, &err));
      image_normalize (rgb, size, x + (size_t) i * 3 * size * size); /* x (N, 3, S, S) */
    }
  model_forward (model, x, 4, false);
  for (int i = 0; i < 4; i++)
    model_prediction (model, i, &out[i]);
  g_free (x);
  g_free (rgb);
  model_free (model);
}

static GAsyncResult *async_result;

static void
store_result (GObject *source, GAsyncResult *result, gpointer data)
{
  async_result = g_object_ref (result);
}

static gboolean
have_result (void)
{
  return async_result != NULL;
}

START_TEST (test_save_then_load_predicts_the_same)
{
  HnPrediction before[4], after[4];
  g_autofree char *path = test_path (tmpdir, "model.safetensors");
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  predict_faces (before);
  hydra_trainer_save_async (trainer (), file, NULL, store_result, NULL);
  ck_assert (ui_wait_until (have_result, 60));
  ck_assert_msg (hydra_trainer_save_finish (trainer (), async_result, &error), "%s",
                 error ? error->message : "");
  g_clear_object (&async_result);

  hydra_trainer_load_async (trainer (), file, NULL, store_result, NULL);
  ck_assert (ui_wait_until (have_result, 60));
  ck_assert_msg (hydra_trainer_load_finish (trainer (), async_result, &error), "%s",
                 error ? error->message : "");
  g_clear_object (&async_result);
  predict_faces (after);
  ck_assert_int_eq (memcmp (before, after, sizeof before), 0);

  /* a broken file is refused with a message, and the model stays */
  g_autofree char *broken = test_path (tmpdir, "broken.safetensors");
  test_write_file (broken, "\x10\0\0\0\0\0\0\0{\"a\":", 13);
  g_autoptr (GFile) broken_file = g_file_new_for_path (broken);
  hydra_trainer_load_async (trainer (), broken_file, NULL, store_result, NULL);
  ck_assert (ui_wait_until (have_result, 60));
  ck_assert (!hydra_trainer_load_finish (trainer (), async_result, &error));
  ck_assert_ptr_nonnull (error);
  g_clear_object (&async_result);
  predict_faces (after);
  ck_assert_int_eq (memcmp (before, after, sizeof before), 0);
}
END_TEST

static gboolean
synthetic_loaded (void)
{
  HydraDataset *ds = hydra_window_get_dataset (window);
  return ds != NULL && hydra_dataset_get_folder (ds) == NULL;
}

static gboolean
retraced (void)
{
  return hydra_series_get_n_segments (series ()) >= 2
         && hydra_series_get_n_steps (series ())
                > hydra_series_get_segment_start (series (), 1) + 2;
}

START_TEST (test_divergence_shows_the_guard_message_and_rolls_back)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);

  /* the 400 synthetic faces: 11 steps an epoch, so the last checkpoint is the run's first */
  activate ("win.use-synthetic", NULL);
  ck_assert (ui_wait_until (synthetic_loaded, 60));
  g_settings_set_enum (settings, "optimizer", OPTIMIZER_SGD);
  g_settings_set_double (settings, "learning-rate", 1e-4);
  g_settings_set_int (settings, "epochs", 50);
  activate ("win.start-pause", NULL);
  ck_assert (ui_wait_until (is_running, 120));

  /* then, live, a learning rate no network survives */
  g_settings_set_double (settings, "w-age", 10);
  g_settings_set_double (settings, "learning-rate", 1.0);
  ck_assert (ui_wait_until (is_diverged, 180));
  ck_assert_int_eq (state (), HYDRA_RUN_DIVERGED);
  const char *banner = hydra_window_get_banner_text (window);
  ck_assert_ptr_nonnull (banner);
  /* the guard's own words, as a sentence */
  ck_assert_str_eq (banner + 1, hydra_trainer_get_message (trainer ()) + 1);
  ck_assert_ptr_nonnull (strstr (banner, "learning rate"));
  ck_assert_ptr_nonnull (find_marker ("diverged"));
  gint64 diverged_at;
  g_object_get (trainer (), "step", &diverged_at, NULL);
  ck_assert_int_gt (diverged_at, 0);
  screenshot ("window-diverged");

  activate ("win.rollback", NULL);
  ck_assert (ui_wait_until (is_paused, 60));
  const HydraMarker *rollback = find_marker ("rolled back");
  ck_assert_ptr_nonnull (rollback);
  gint64 back_at;
  g_object_get (trainer (), "step", &back_at, NULL);
  ck_assert_int_lt (back_at, diverged_at);
  ck_assert_int_eq (rollback->step, back_at);

  /* training again from there: the abandoned steps stay in the series as a segment */
  g_settings_set_double (settings, "learning-rate", 1e-4);
  activate ("win.start-pause", NULL);
  ck_assert (ui_wait_until (retraced, 120));
  ck_assert_int_eq (state (), HYDRA_RUN_RUNNING);
  ck_assert_ptr_nonnull (find_marker ("resumed"));
  const HydraStepPoint *first
      = hydra_series_get_step (series (), hydra_series_get_segment_start (series (), 1));
  ck_assert_int_eq (first->step, back_at + 1);
  screenshot ("window-rolled-back");
  activate ("win.stop", NULL);
  ck_assert (ui_wait_until (is_stopped, 30));
  g_object_unref (settings);
}
END_TEST

static gboolean
folder_loaded (void)
{
  HydraDataset *ds = hydra_window_get_dataset (window);
  return ds != NULL && hydra_dataset_get_folder (ds) != NULL;
}

static gboolean
model_opened (void)
{
  return hydra_window_get_banner_text (window) != NULL
         && g_str_has_prefix (hydra_window_get_banner_text (window), "Model opened");
}

/* `hydranet FOLDER MODEL.safetensors`: what the application hands the window */
START_TEST (test_open_files_from_the_command_line)
{
  g_autofree char *folder = test_path (tmpdir, "faces");
  g_autofree char *model = test_path (tmpdir, "model.safetensors");
  HnError err;

  ck_assert (synth_write_folder (folder, 60, 3, 64, SYNTH_JPEG, 0, NULL, &err));
  GFile *files[2] = { g_file_new_for_path (folder), g_file_new_for_path (model) };
  hydra_window_open_files (window, files, 2);
  ck_assert (ui_wait_until (folder_loaded, 60));
  ck_assert (ui_wait_until (model_opened, 60));
  HydraDataset *ds = hydra_window_get_dataset (window);
  ck_assert_str_eq (hydra_dataset_get_folder (ds), folder);
  ck_assert_int_eq (hydra_dataset_get (ds)->n, 60);
  ck_assert_str_eq (hydra_dataset_get_title (ds), "UTKFace folder “faces”");
  ck_assert (hydra_trainer_get_has_model (trainer ()));

  /* remembered for the next start */
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_autofree char *last = g_settings_get_string (settings, "last-folder");
  g_autofree char *last_path = g_filename_from_uri (last, NULL, NULL);
  ck_assert_str_eq (last_path, folder);
  g_object_unref (settings);
  g_object_unref (files[0]);
  g_object_unref (files[1]);
}
END_TEST

static gboolean
banner_starts (const char *prefix)
{
  const char *text = hydra_window_get_banner_text (window);
  return text != NULL && g_str_has_prefix (text, prefix);
}

static gboolean
record_opened (void)
{
  return banner_starts ("Record opened") && !hydra_trainer_get_busy (trainer ());
}

static gboolean
record_refused (void)
{
  return banner_starts ("The record could not be opened");
}

typedef struct
{
  guint steps, markers, validations;
} Counted;

static bool
count_event (const HnEvent *e, void *data)
{
  Counted *c = data;
  c->steps += e->kind == EVENT_STEP;
  c->validations += e->kind == EVENT_EPOCH && e->val.n > 0;
  c->markers += e->kind == EVENT_SETTING
                || (e->kind == EVENT_STATE
                    && (e->state.state == TRAINER_STOPPED || e->state.state == TRAINER_DIVERGED));
  return true;
}

/* The record the engine wrote into the last run's folder (the format of the CLI's --log too)
 * opens from the command line as that run's curves; a file that is not a record is refused
 * and leaves them as they were. */
START_TEST (test_open_a_run_record)
{
  g_autofree char *record = g_build_filename (hydra_trainer_get_run_folder (trainer ()),
                                              "curves.csv", NULL);
  Counted c = { 0 };
  HnError err;

  ck_assert (!hydra_trainer_get_busy (trainer ()));
  ck_assert_msg (records_read (record, count_event, &c, NULL, &err), "%s", err.message);
  ck_assert_uint_gt (c.steps, 0);
  /* the folder is the engine's, as hydranet-cli train --run-dir makes it: run.json reads */
  HnRunInfo info;
  ck_assert_msg (run_info_read (hydra_trainer_get_run_folder (trainer ()), &info, &err), "%s",
                 err.message);
  ck_assert (g_str_has_prefix (info.source, "HydraNet Studio"));
  ck_assert (info.settings.data_folder != NULL
             || (info.settings.synthetic > 0 && info.settings.synthetic_seed == 1));
  ck_assert_int_gt (info.summary.n_checkpoints, 0);
  run_info_clear (&info);
  hydra_trainer_reset (trainer ());
  ck_assert_uint_eq (hydra_series_get_n_steps (series ()), 0);

  GFile *file = g_file_new_for_path (record);
  hydra_window_open_files (window, &file, 1);
  ck_assert (ui_wait_until (record_opened, 60));
  g_object_unref (file);
  ck_assert_uint_eq (hydra_series_get_n_steps (series ()), c.steps);
  ck_assert_uint_eq (hydra_series_get_n_markers (series ()), c.markers);
  ck_assert_uint_eq (hydra_series_get_n_epochs (series ()), c.validations);
  screenshot ("window-record-opened");

  g_autofree char *junk = test_path (tmpdir, "junk.csv");
  test_write_file (junk, "name,size\nface.jpg,12\n", 22);
  file = g_file_new_for_path (junk);
  hydra_window_open_files (window, &file, 1);
  ck_assert (ui_wait_until (record_refused, 60));
  g_object_unref (file);
  ck_assert_ptr_nonnull (strstr (hydra_window_get_banner_text (window), "not a record header"));
  ck_assert_uint_eq (hydra_series_get_n_steps (series ()), c.steps);
}
END_TEST

/* A preset sets the run's settings in one go, and the window keeps writing settings after */
START_TEST (test_preset_then_settings_still_saved)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);

  g_settings_set_enum (settings, "preset", 1); /* tutorial: what the drop-down writes */
  ui_spin (0.2);
  ck_assert_int_eq (g_settings_get_enum (settings, "optimizer"), OPTIMIZER_SGD);
  ck_assert (is_close (g_settings_get_double (settings, "learning-rate"), 1e-4, 0, 1e-6));
  ck_assert_int_eq (g_settings_get_enum (settings, "age-loss"), AGE_LOSS_L1);

  /* the window's own settings object still writes through */
  activate ("win.age-loss", g_variant_new_string ("huber"));
  ui_spin (0.1);
  ck_assert_int_eq (g_settings_get_enum (settings, "age-loss"), AGE_LOSS_HUBER);
  g_object_unref (settings);
}
END_TEST

/* ---- the recipe: presets and the settings folded under it ---- */

typedef gboolean (*Match) (GtkWidget *widget, gconstpointer data);

/* The first widget under widget (itself included) that matches, depth first. */
static GtkWidget *
find (GtkWidget *widget, Match match, gconstpointer data)
{
  if (match (widget, data))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find (child, match, data);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_of_type (GtkWidget *widget, gconstpointer type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

static GtkWidget *
find_widget (GtkWidget *widget, GType type)
{
  return find (widget, is_of_type, GSIZE_TO_POINTER (type));
}

static gboolean
is_label_reading (GtkWidget *widget, gconstpointer text)
{
  return GTK_IS_LABEL (widget) && g_str_equal (gtk_label_get_text (GTK_LABEL (widget)), text);
}

/* The control beside the label reading text, found as a user finds it. */
static GtkWidget *
control_of (const char *text)
{
  GtkWidget *label = find (GTK_WIDGET (window), is_label_reading, text);
  ck_assert_msg (label != NULL, "no “%s” in the window", text);
  GtkGrid *grid = GTK_GRID (gtk_widget_get_parent (label));
  int column, row;
  gtk_grid_query_child (grid, label, &column, &row, NULL, NULL);
  return gtk_grid_get_child_at (grid, column + 1, row);
}

/* A head's weight spin button, right of its slider. */
static GtkSpinButton *
weight_spin (const char *head)
{
  GtkWidget *scale = control_of (head);
  GtkGrid *grid = GTK_GRID (gtk_widget_get_parent (scale));
  int column, row;
  gtk_grid_query_child (grid, scale, &column, &row, NULL, NULL);
  return GTK_SPIN_BUTTON (gtk_grid_get_child_at (grid, column + 1, row));
}

static const HydraStepPoint *
last_step (void)
{
  guint n = hydra_series_get_n_steps (series ());
  return n > 0 ? hydra_series_get_step (series (), n - 1) : NULL;
}

static gboolean
famo_has_run (void)
{
  const HydraMarker *m = find_marker ("balance Manual → FAMO");
  return m != NULL && last_step () != NULL && last_step ()->step > m->step + 3;
}

/* The last marker whose label starts with prefix, or NULL. */
static const HydraMarker *
find_last_marker (const char *prefix)
{
  for (guint i = hydra_series_get_n_markers (series ()); i-- > 0;)
    {
      const HydraMarker *m = hydra_series_get_marker (series (), i);
      if (g_str_has_prefix (m->label, prefix))
        return m;
    }
  return NULL;
}

static int
count_markers (const char *prefix)
{
  int n = 0;
  for (guint i = 0; i < hydra_series_get_n_markers (series ()); i++)
    n += g_str_has_prefix (hydra_series_get_marker (series (), i)->label, prefix);
  return n;
}

static gboolean
famo_handed_back (void)
{
  const HydraMarker *m = find_last_marker ("balance FAMO → Manual");
  return m != NULL && last_step () != NULL && last_step ()->step > m->step + 1
         && last_step ()->balance == BALANCE_MANUAL;
}

static gboolean
famo_runs_again (void)
{
  const HydraMarker *m = find_last_marker ("balance Manual → FAMO");
  return count_markers ("balance Manual → FAMO") == 2 && last_step () != NULL
         && last_step ()->step > m->step + 1;
}

static gboolean
handed_back (void)
{
  return count_markers ("balance FAMO → Manual") == 2 && famo_handed_back ();
}

/* A method chosen while the run trains takes over at the next step; the sliders show its
 * weights and the user's stay in their keys; moving one hands the weights back. */
START_TEST (test_balance_method_switches_live)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  const double w_age = g_settings_get_double (settings, "w-age");

  /* the schema's names are the engine's, in its order */
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (settings, "settings-schema", &schema, NULL);
  g_autoptr (GSettingsSchemaKey) key = g_settings_schema_get_key (schema, "balance");
  g_autoptr (GVariant) range = g_settings_schema_key_get_range (key);
  g_autoptr (GVariant) nicks = NULL;
  g_variant_get (range, "(&sv)", NULL, &nicks);
  ck_assert_int_eq (g_variant_n_children (nicks), N_BALANCE);
  for (int i = 0; i < N_BALANCE; i++)
    {
      g_autoptr (GVariant) nick = g_variant_get_child_value (nicks, i);
      ck_assert_str_eq (g_variant_get_string (nick, NULL), balance_name ((HnBalance) i));
    }

  g_settings_set_enum (settings, "balance", BALANCE_FAMO); /* what the drop-down writes */
  ck_assert (ui_wait_until (famo_has_run, 60));
  const HydraStepPoint *p = last_step ();
  ck_assert_int_eq (p->balance, BALANCE_FAMO);
  ck_assert (is_close (p->weight[0] + p->weight[1] + p->weight[2], 1.0, 1e-5, 0));
  static const char *const heads[] = { "Age", "Gender", "Race" };
  for (int h = 0; h < N_HEADS; h++)
    ck_assert_msg (gtk_spin_button_get_value (weight_spin (heads[h])) == p->weight[h],
                   "%s shows %g, FAMO chose %g", heads[h],
                   gtk_spin_button_get_value (weight_spin (heads[h])), p->weight[h]);
  ck_assert (g_settings_get_double (settings, "w-age") == w_age);
  screenshot ("window-balance-famo");
  /* a spin button reading its rounded text back (as on losing focus) is not a move */
  gtk_spin_button_update (weight_spin ("Age"));
  ck_assert_int_eq (g_settings_get_enum (settings, "balance"), BALANCE_FAMO);

  /* the slider takes the weights back too, with the value it was moved to */
  gtk_range_set_value (GTK_RANGE (control_of ("Race")), sqrt (0.4 / 10));
  ck_assert_int_eq (g_settings_get_enum (settings, "balance"), BALANCE_MANUAL);
  ck_assert (is_close (g_settings_get_double (settings, "w-race"), 0.4, 1e-9, 0));
  ck_assert (ui_wait_until (famo_handed_back, 60));
  ck_assert (is_close (last_step ()->weight[HEAD_RACE], 0.4, 1e-6, 0));

  g_settings_set_enum (settings, "balance", BALANCE_FAMO);
  ck_assert (ui_wait_until (famo_runs_again, 60));
  gtk_spin_button_set_value (weight_spin ("Gender"), 0.5); /* as a click would */
  ck_assert_int_eq (g_settings_get_enum (settings, "balance"), BALANCE_MANUAL);
  ck_assert (ui_wait_until (handed_back, 60));
  p = last_step ();
  ck_assert_int_eq (p->balance, BALANCE_MANUAL);
  ck_assert_float_eq (p->weight[HEAD_GENDER], 0.5f);
  ck_assert (g_settings_get_double (settings, "w-gender") == 0.5);
  g_object_unref (settings);
}
END_TEST

static gboolean
banner_names_the_augmentation (void)
{
  const char *text = hydra_window_get_banner_text (window);
  return text != NULL && strstr (text, "“rotat” is not an augmentation") != NULL;
}

START_TEST (test_quick_preset_and_time_budget_reach_the_config)
{
  HydraSettingsPanel *panel
      = HYDRA_SETTINGS_PANEL (find_widget (GTK_WIDGET (window), HYDRA_TYPE_SETTINGS_PANEL));
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  HnTrainConfig c, quick = train_preset_quick ();
  g_autoptr (GError) error = NULL;

  ck_assert (!hydra_settings_panel_get_busy (panel));
  GtkDropDown *preset = GTK_DROP_DOWN (control_of ("Preset"));
  for (guint i = 0; train_preset_names[i] != NULL; i++)
    if (g_str_equal (train_preset_names[i], "quick"))
      gtk_drop_down_set_selected (preset, i);
  ui_spin (0.2);
  g_autofree char *nick = g_settings_get_string (settings, "preset");
  ck_assert_str_eq (nick, "quick");
  GtkStringObject *shown = gtk_drop_down_get_selected_item (preset);
  ck_assert (g_str_has_prefix (gtk_string_object_get_string (shown), "Quick"));
  GtkWidget *list = find_widget (GTK_WIDGET (preset), GTK_TYPE_POPOVER);
  gtk_popover_popup (GTK_POPOVER (list));
  ui_spin (0.3);
  ui_screenshot (list, "window-preset-list");
  gtk_popover_popdown (GTK_POPOVER (list));

  ck_assert (hydra_settings_panel_get_config (panel, &c, NULL));
  ck_assert_int_eq (c.schedule.kind, SCHEDULE_ONECYCLE);
  ck_assert (c.standardize_age);
  ck_assert (is_close (c.loss.smoothing, 0.1, 1e-6, 0));
  ck_assert_int_eq (c.optimizer.kind, OPTIMIZER_ADAMW);
  ck_assert (!c.optimizer.decay_all); /* none on batch-norm parameters and biases */
  ck_assert (is_close (c.optimizer.weight_decay, quick.optimizer.weight_decay, 1e-7, 0));
  ck_assert (c.optimizer.weight_decay > 0);
  ck_assert (is_close (c.optimizer.lr, quick.optimizer.lr, 0, 1e-6));
  ck_assert_int_eq (c.size, quick.size);
  ck_assert_int_eq (c.epochs, quick.epochs);
  ck_assert_int_eq (c.batch, quick.batch);
  ck_assert (c.augment.flip && c.augment.crop == 0);
  ck_assert (c.ema_decay == 0 && c.time_budget == 0);
  ck_assert (c.tta == quick.tta);
  ck_assert (is_close (c.schedule.warmup, quick.schedule.warmup, 0, 1e-6));
  for (int h = 0; h < N_HEADS; h++)
    ck_assert (is_close (c.loss.weight[h], quick.loss.weight[h], 0, 1e-6));

  /* a time budget typed in, in minutes, reaches the config in seconds */
  GtkWidget *expander = find_widget (GTK_WIDGET (panel), GTK_TYPE_EXPANDER);
  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
  GtkSpinButton *budget = GTK_SPIN_BUTTON (control_of ("Time budget"));
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (budget)), "None");
  gtk_editable_set_text (GTK_EDITABLE (budget), "90 min");
  gtk_spin_button_update (budget);
  ui_spin (0.1);
  ck_assert (is_close (g_settings_get_double (settings, "time-budget"), 90, 0, 1e-9));
  ck_assert (hydra_settings_panel_get_config (panel, &c, NULL));
  ck_assert (is_close (c.time_budget, 90 * 60, 0, 1e-9));
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (budget)), "90 min");
  /* the sidebar scrolled to its end, where the recipe unfolded */
  GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (panel), GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
  ui_spin (0.2);
  gtk_adjustment_set_value (v, gtk_adjustment_get_upper (v));
  screenshot ("window-recipe");
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  screenshot ("window-recipe-dark");
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);
  /* as a run would have it: the recipe still opens, its controls locked */
  hydra_settings_panel_set_busy (panel, TRUE);
  ck_assert (!gtk_widget_is_sensitive (GTK_WIDGET (budget)));
  ck_assert (gtk_widget_is_sensitive (expander));
  screenshot ("window-recipe-locked");
  hydra_settings_panel_set_busy (panel, FALSE);

  /* a list the engine cannot read shows as an error, and no run starts with it */
  GtkWidget *augment = control_of ("Augment");
  gtk_editable_set_text (GTK_EDITABLE (augment), "flip, rotat");
  ui_spin (0.1);
  ck_assert (gtk_widget_has_css_class (augment, "error"));
  ck_assert (!hydra_settings_panel_get_config (panel, &c, &error));
  ck_assert_ptr_nonnull (strstr (error->message, "“rotat” is not an augmentation"));
  gtk_expander_set_expanded (GTK_EXPANDER (expander), FALSE);
  activate ("win.start-pause", NULL);
  ck_assert (ui_wait_until (banner_names_the_augmentation, 10));
  ck_assert (gtk_expander_get_expanded (GTK_EXPANDER (expander)));
  ck_assert (gtk_widget_has_focus (augment)
             || gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (window)), augment));
  ui_spin (0.3);
  ck_assert (!hydra_trainer_get_busy (trainer ()));
  screenshot ("window-recipe-error");

  /* spaces are allowed; the engine's defaults fill in what has no value */
  gtk_editable_set_text (GTK_EDITABLE (augment), "flip, rotate");
  ui_spin (0.1);
  ck_assert (!gtk_widget_has_css_class (augment, "error"));
  ck_assert (hydra_settings_panel_get_config (panel, &c, NULL));
  HnAugment want;
  ck_assert (augment_from_names ("flip,rotate", &want));
  ck_assert (memcmp (&c.augment, &want, sizeof want) == 0);
  g_object_unref (settings);
}
END_TEST

/* The prediction pane's flip toggle is a setting: remembered, and the pane follows the key */
START_TEST (test_predict_flip_is_a_setting)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  HydraPredictPane *pane = hydra_window_get_predict_pane (window);

  ck_assert (!hydra_predict_pane_get_flip (pane));
  g_settings_set_boolean (settings, "predict-tta", TRUE);
  ck_assert (hydra_predict_pane_get_flip (pane));
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.flip", NULL);
  ck_assert (!g_settings_get_boolean (settings, "predict-tta"));
  g_object_unref (settings);
}
END_TEST

/* The x axis is a setting with four values, a window action (the status bar's menu) and the
 * old epochs toggle, which still works. */
START_TEST (test_x_axis_action)
{
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  HydraLossPlot *plot = hydra_window_get_loss_plot (window);

  ck_assert_int_eq (hydra_loss_plot_get_x_axis (plot), HYDRA_PLOT_X_STEPS);
  activate ("win.x-axis", g_variant_new_string ("images"));
  ck_assert_int_eq (g_settings_get_enum (settings, "x-axis"), HYDRA_PLOT_X_IMAGES);
  ck_assert_int_eq (hydra_loss_plot_get_x_axis (plot), HYDRA_PLOT_X_IMAGES);
  activate ("win.x-axis", g_variant_new_string ("time"));
  ck_assert_int_eq (hydra_loss_plot_get_x_axis (plot), HYDRA_PLOT_X_TIME);
  activate ("win.x-epochs", NULL);
  ck_assert_int_eq (hydra_loss_plot_get_x_axis (plot), HYDRA_PLOT_X_EPOCHS);
  activate ("win.x-epochs", NULL);
  ck_assert_int_eq (hydra_loss_plot_get_x_axis (plot), HYDRA_PLOT_X_STEPS);
  g_object_unref (settings);
}
END_TEST

/* A second run's record, written with the engine's records_format: the first run's rows with
 * the step losses halved. */
typedef struct
{
  GString *out;
} Rewrite;

static bool
rewrite_row (const HnEvent *e, void *data)
{
  Rewrite *rw = data;
  HnEvent copy = *e;
  char row[RECORDS_MAX_ROW];

  if (copy.kind == EVENT_STEP)
    {
      for (int h = 0; h < N_HEADS; h++)
        {
          copy.train.raw[h] *= 0.5f;
          copy.train.weighted[h] *= 0.5f;
        }
      copy.train.total *= 0.5f;
    }
  g_string_append_len (rw->out, row, records_format (&copy, row, sizeof row));
  return true;
}

static gboolean
comparing_two (void)
{
  return hydra_window_get_comparison_text (window) != NULL
         && hydra_loss_plot_get_n_overlay (hydra_window_get_loss_plot (window)) == 2;
}

static gboolean
not_comparing (void)
{
  return hydra_window_get_comparison_text (window) == NULL;
}

/* win.compare-runs with three folders, one whose record is not a record: the two others are
 * drawn in every view and named in the comparison bar, the broken one is named in the
 * banner; win.clear-comparison ends it. */
START_TEST (test_compare_runs)
{
  const char *first = hydra_trainer_get_run_folder (trainer ());
  g_autofree char *record = g_build_filename (first, "curves.csv", NULL);
  g_autofree char *second = test_path (tmpdir, "run-halved");
  g_autofree char *second_record = g_build_filename (second, "curves.csv", NULL);
  g_autofree char *broken = test_path (tmpdir, "run-broken");
  g_autofree char *broken_record = g_build_filename (broken, "curves.csv", NULL);
  g_autofree char *first_name = g_path_get_basename (first);
  Rewrite rw = { g_string_new (records_header ()) };
  HnError err;

  ck_assert_int_eq (g_mkdir_with_parents (second, 0755), 0);
  ck_assert_int_eq (g_mkdir_with_parents (broken, 0755), 0);
  ck_assert_msg (records_read (record, rewrite_row, &rw, NULL, &err), "%s", err.message);
  test_write_file (second_record, rw.out->str, rw.out->len);
  g_string_free (rw.out, TRUE);
  test_write_file (broken_record, "name,size\nface.jpg,12\n", 22);

  const char *paths[] = { first, second, broken };
  activate ("win.compare-runs", g_variant_new_strv (paths, 3));
  ck_assert (ui_wait_until (comparing_two, 60));
  ck_assert_msg (strstr (hydra_window_get_comparison_text (window), first_name) != NULL, "%s",
                 hydra_window_get_comparison_text (window));
  ck_assert (strstr (hydra_window_get_comparison_text (window), "run-halved") != NULL);
  ck_assert_ptr_nonnull (hydra_window_get_banner_text (window));
  ck_assert_msg (strstr (hydra_window_get_banner_text (window), "“run-broken” could not be read")
                     != NULL,
                 "%s", hydra_window_get_banner_text (window));
  activate ("win.view", g_variant_new_string ("loss"));
  screenshot ("window-compare");
  activate ("win.view", g_variant_new_string ("metrics"));
  screenshot ("window-compare-metrics");
  activate ("win.view", g_variant_new_string ("loss"));

  activate ("win.clear-comparison", NULL);
  ck_assert (ui_wait_until (not_comparing, 5));
  ck_assert_uint_eq (hydra_loss_plot_get_n_overlay (hydra_window_get_loss_plot (window)), 0);
}
END_TEST

static Suite *
window_suite (void)
{
  Suite *s = suite_create ("window");
  TCase *tc = tcase_create ("window");

  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_opens_on_synthetic_faces);
  tcase_add_test (tc, test_live_settings_reach_the_next_step);
  tcase_add_test (tc, test_balance_method_switches_live);
  tcase_add_test (tc, test_pause_resume_stop);
  tcase_add_test (tc, test_export);
  tcase_add_test (tc, test_save_then_load_predicts_the_same);
  tcase_add_test (tc, test_open_files_from_the_command_line);
  tcase_add_test (tc, test_preset_then_settings_still_saved);
  tcase_add_test (tc, test_divergence_shows_the_guard_message_and_rolls_back);
  tcase_add_test (tc, test_open_a_run_record);
  tcase_add_test (tc, test_quick_preset_and_time_budget_reach_the_config);
  tcase_add_test (tc, test_predict_flip_is_a_setting);
  tcase_add_test (tc, test_x_axis_action);
  tcase_add_test (tc, test_compare_runs);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  /* a fresh settings store, a small data set, checkpoints inside the test's folder */
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  tmpdir = g_dir_make_tmp ("hydranet-window-XXXXXX", NULL);
  if (tmpdir == NULL)
    return 1;
  g_setenv ("XDG_DATA_HOME", tmpdir, TRUE);
  g_setenv ("XDG_CACHE_HOME", tmpdir, TRUE);

  gtk_init ();
  app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_settings_set_int (settings, "synthetic-count", 400);
  g_settings_set_int (settings, "batch-size", 32);
  g_settings_set_int (settings, "epochs", 50);
  g_object_unref (settings);

  window = hydra_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1400, 860);
  gtk_window_present (GTK_WINDOW (window));

  int status = test_run_suite (window_suite ());

  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (0.2);
  g_object_unref (app);
  test_rmtree (tmpdir);
  g_free (tmpdir);
  return status;
}
