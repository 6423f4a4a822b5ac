/* test-runs-view.c — the Runs view over real run folders, in the studio's window under Xvfb.
 *
 * Three short runs made with the engine (synthetic faces, a run folder each: two weighed by
 * hand with different age weights, one under FAMO) and a folder that is not a run, in a
 * temporary XDG_DATA_HOME. The view must list them with the figures their run.json holds,
 * sort them, hide the settings they share, show Δ against a pinned baseline, rename, trash,
 * draw one dot per run at its figures — and fork a run from its first epoch's checkpoint
 * into a new folder whose run.json names its parent.
 */

#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "balance.h"
#include "hydra-application.h"
#include "hydra-runs-view.h"
#include "hydra-window.h"
#include "runfolder.h"
#include "runinfo.h"
#include "synth.h"
#include "test-util.h"
#include "runs-test-util.h"
#include "ui-test-util.h"

#define N_FACES 200
#define N_RUNS 3

static HydraApplication *app;
static HydraWindow *window;
static HydraRunsView *view;
static char *tmpdir, *runs_dir;
static char *run_folders[N_RUNS];

/* ---- making the runs (before the suite: a failure ends the program) ---- */

#define REQUIRE(cond, ...)                                                                         \
  do                                                                                               \
    if (!(cond))                                                                                   \
      g_error (__VA_ARGS__);                                                                       \
  while (0)

static char *
make_run_seeded (const HnDataset *ds, float w_age, HnBalance balance, uint64_t seed,
                 float live_w_age)
{
  HnTrainConfig c = train_preset_studio ();
  HnError err;
  c.batch = 16;
  c.epochs = 2;
  c.val_percent = 20; /* the window's split */
  c.seed = seed;
  c.synthetic = N_FACES;
  c.synthetic_seed = seed; /* 1: the window's faces */
  c.augment = (HnAugment){ 0 };
  c.loss.weight[0] = w_age;
  c.loss.balance = balance;
  c.source = "test-runs-view";
  char *folder = run_folder_create (runs_dir, &err);
  REQUIRE (folder != NULL, "%s", err.message);
  c.run_dir = folder;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  if (t != NULL && live_w_age > 0)
    trainer_pause (t);
  REQUIRE (t != NULL && trainer_start (t, &err), "%s", err.message);
  if (live_w_age > 0)
    {
      /* the age weight changed live before the first step: run.json keeps w_age, the
       * checkpoints' history live_w_age */
      gboolean paused = FALSE;
      while (!paused)
        {
          HnEvent e[16];
          trainer_wait_event (t, 100);
          int n = trainer_poll (t, e, 16, NULL);
          for (int i = 0; i < n; i++)
            paused |= e[i].kind == EVENT_STATE && e[i].state.state == TRAINER_PAUSED;
        }
      trainer_set_weight (t, 0, live_w_age);
      trainer_resume_training (t);
    }
  trainer_join (t);
  REQUIRE (trainer_state (t) == TRAINER_FINISHED, "the run ended %d", trainer_state (t));
  trainer_free (t);
  return folder;
}

static char *
make_run (const HnDataset *ds, float w_age, HnBalance balance)
{
  return make_run_seeded (ds, w_age, balance, 1, 0);
}

static void
make_runs (void)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (N_FACES, 1, 32, 1, NULL, &err);
  REQUIRE (ds != NULL, "%s", err.message);
  run_folders[0] = make_run (ds, 1.0f, BALANCE_MANUAL);
  g_usleep (1100 * 1000); /* folders are named after the second */
  run_folders[1] = make_run (ds, 0.25f, BALANCE_MANUAL);
  g_usleep (1100 * 1000);
  run_folders[2] = make_run (ds, 1.0f, BALANCE_FAMO);
  dataset_free (ds);
  g_autofree char *junk = g_build_filename (runs_dir, "junk", NULL);
  g_autofree char *file = g_build_filename (junk, "notes.txt", NULL);
  g_mkdir_with_parents (junk, 0700);
  g_file_set_contents (file, "not a run", -1, NULL);
}

/* ---- helpers ---- */

static HydraRunRow *
row_at (guint i)
{
  g_autoptr (HydraRunRow) row = g_list_model_get_item (hydra_runs_view_get_rows (view), i);
  return row; /* the model keeps it */
}

static int
position_of (const char *folder)
{
  for (guint i = 0; i < runs_test_n_rows (); i++)
    if (g_strcmp0 (hydra_run_row_get_folder (row_at (i)), folder) == 0)
      return i;
  return -1;
}

static void
read_info (const char *folder, HnRunInfo *info)
{
  HnError err;
  ck_assert_msg (run_info_read (folder, info, &err), "%s", err.message);
}

/* Every label's text under widget. */
static void
collect_labels (GtkWidget *widget, GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget))
    g_ptr_array_add (texts, (gpointer) gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect_labels (c, texts);
}

static gboolean
table_shows (const char *text)
{
  g_autoptr (GPtrArray) texts = g_ptr_array_new ();
  collect_labels (GTK_WIDGET (hydra_runs_view_get_column_view (view)), texts);
  for (guint i = 0; i < texts->len; i++)
    if (g_strcmp0 (texts->pdata[i], text) == 0)
      return TRUE;
  return FALSE;
}

static void
screenshot (const char *name)
{
  ui_screenshot (GTK_WIDGET (window), name);
}

/* ---- tests ---- */

START_TEST (test_lists_the_runs_with_their_figures)
{
  runs_test_reload ();
  ck_assert_uint_eq (runs_test_n_rows (), N_RUNS + 1);
  /* the folder that is not a run: last, dim, with the reader's reason */
  HydraRunRow *junk = row_at (N_RUNS);
  ck_assert_ptr_null (hydra_run_row_get_info (junk));
  ck_assert (g_str_has_suffix (hydra_run_row_get_folder (junk), "junk"));
  ck_assert (hydra_run_row_get_reason (junk) != NULL && *hydra_run_row_get_reason (junk));

  for (int r = 0; r < N_RUNS; r++)
    {
      int i = position_of (run_folders[r]);
      ck_assert_int_ge (i, 0);
      HnRunInfo info = { 0 };
      read_info (run_folders[r], &info);
      const HnEvalResult *v = &info.summary.final.val;
      ck_assert_int_gt (v->n, 0);
      g_autofree char *mae = g_strdup_printf ("%.2f", v->age_mae);
      g_autofree char *gender = g_strdup_printf ("%.1f %%", 100 * v->gender_acc);
      g_autofree char *race = g_strdup_printf ("%.1f %%", 100 * v->race_acc);
      g_autofree char *steps = g_strdup_printf ("%lld", (long long) info.summary.steps);
      g_autofree char *best = g_strdup_printf ("%.2f (epoch %d)", info.summary.best.val.age_mae,
                                               info.summary.best.epoch);
      g_autofree char *w_age = g_strdup_printf ("%.3g", info.settings.loss.weight[0]);
      struct
      {
        HydraRunColumn col;
        const char *want;
      } cells[] = {
        { HYDRA_RUN_COL_NAME, info.name },
        { HYDRA_RUN_COL_MAE, mae },
        { HYDRA_RUN_COL_GENDER, gender },
        { HYDRA_RUN_COL_RACE, race },
        { HYDRA_RUN_COL_STEPS, steps },
        { HYDRA_RUN_COL_BEST, best },
        { HYDRA_RUN_COL_W_AGE, w_age },
        { HYDRA_RUN_COL_BALANCE, balance_title (info.settings.loss.balance) },
        { HYDRA_RUN_COL_STATE, "Finished" },
      };
      for (guint c = 0; c < G_N_ELEMENTS (cells); c++)
        {
          g_autofree char *cell = hydra_runs_view_dup_cell (view, i, cells[c].col, FALSE);
          ck_assert_str_eq (cell, cells[c].want);
        }
      /* and the table draws them */
      ck_assert_msg (table_shows (mae), "no cell shows %s", mae);
      ck_assert_msg (table_shows (info.name), "no cell shows %s", info.name);
      run_info_clear (&info);
    }
  screenshot ("runs-view");
}
END_TEST

static double
mae_at (guint i)
{
  return hydra_run_row_get_number (row_at (i), HYDRA_RUN_COL_MAE);
}

START_TEST (test_sorting_by_mae_orders_the_rows)
{
  GtkColumnView *cv = hydra_runs_view_get_column_view (view);
  GtkColumnViewColumn *mae = hydra_runs_view_get_column (view, HYDRA_RUN_COL_MAE, FALSE);

  gtk_column_view_sort_by_column (cv, mae, GTK_SORT_ASCENDING);
  ui_spin (0.1);
  for (guint i = 1; i < N_RUNS; i++)
    ck_assert_msg (mae_at (i - 1) <= mae_at (i), "row %u: %g after %g", i, mae_at (i),
                   mae_at (i - 1));
  ck_assert_ptr_null (hydra_run_row_get_info (row_at (N_RUNS)));
  gtk_column_view_sort_by_column (cv, mae, GTK_SORT_DESCENDING);
  ui_spin (0.1);
  for (guint i = 1; i < N_RUNS; i++)
    ck_assert (mae_at (i - 1) >= mae_at (i));
  ck_assert_ptr_null (hydra_run_row_get_info (row_at (N_RUNS))); /* still last */
  ck_assert (mae_at (0) > mae_at (N_RUNS - 1));                  /* the runs' figures differ */
}
END_TEST

static gboolean
column_visible (HydraRunColumn col)
{
  return gtk_column_view_column_get_visible (hydra_runs_view_get_column (view, col, FALSE));
}

START_TEST (test_differences_only_hides_shared_settings)
{
  for (HydraRunColumn col = HYDRA_RUN_COL_FIRST_SETTING; col <= HYDRA_RUN_COL_LAST_SETTING; col++)
    ck_assert (column_visible (col));
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_settings_set_boolean (settings, "runs-differences-only", TRUE);
  ui_spin (0.1);
  /* the runs differ in the age weight and the method, and share the rest */
  ck_assert (column_visible (HYDRA_RUN_COL_W_AGE));
  ck_assert (column_visible (HYDRA_RUN_COL_BALANCE));
  ck_assert (!column_visible (HYDRA_RUN_COL_AGE_LOSS));
  ck_assert (!column_visible (HYDRA_RUN_COL_W_GENDER));
  ck_assert (!column_visible (HYDRA_RUN_COL_DATA));
  ck_assert (column_visible (HYDRA_RUN_COL_MAE)); /* figures always show */
  screenshot ("runs-differences-only");
  g_settings_set_boolean (settings, "runs-differences-only", FALSE);
  ui_spin (0.1);
  ck_assert (column_visible (HYDRA_RUN_COL_AGE_LOSS));
  g_object_unref (settings);
}
END_TEST

START_TEST (test_baseline_delta_is_the_difference)
{
  ck_assert (!gtk_column_view_column_get_visible (
      hydra_runs_view_get_column (view, HYDRA_RUN_COL_MAE, TRUE)));
  ck_assert (hydra_runs_view_select (view, run_folders[0]));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.pin-baseline", NULL));
  ck_assert_str_eq (hydra_runs_view_get_baseline (view), run_folders[0]);
  ck_assert (gtk_column_view_column_get_visible (
      hydra_runs_view_get_column (view, HYDRA_RUN_COL_MAE, TRUE)));

  HnRunInfo base = { 0 };
  read_info (run_folders[0], &base);
  for (int r = 1; r < N_RUNS; r++)
    {
      HnRunInfo info = { 0 };
      read_info (run_folders[r], &info);
      int i = position_of (run_folders[r]);
      double d_mae = info.summary.final.val.age_mae - base.summary.final.val.age_mae;
      double d_race = info.summary.final.val.race_acc - base.summary.final.val.race_acc;
      g_autofree char *want_mae = hydra_run_format_delta (HYDRA_RUN_COL_MAE, d_mae);
      g_autofree char *want_race = hydra_run_format_delta (HYDRA_RUN_COL_RACE, d_race);
      g_autofree char *mae = hydra_runs_view_dup_cell (view, i, HYDRA_RUN_COL_MAE, TRUE);
      g_autofree char *race = hydra_runs_view_dup_cell (view, i, HYDRA_RUN_COL_RACE, TRUE);
      ck_assert_str_eq (mae, want_mae);
      ck_assert_str_eq (race, want_race);
      /* as a person reads it: a signed difference at the shown precision */
      char *end;
      double shown
          = g_ascii_strtod (g_str_has_prefix (mae, "−") ? mae + strlen ("−") : mae + 1, &end);
      ck_assert (fabs ((g_str_has_prefix (mae, "−") ? -shown : shown) - d_mae) <= 0.005 + 1e-9);
      ck_assert_msg (table_shows (mae), "no cell shows %s", mae);
      run_info_clear (&info);
    }
  run_info_clear (&base);
  screenshot ("runs-baseline");
  hydra_runs_view_set_baseline (view, NULL);
}
END_TEST

START_TEST (test_scatter_has_a_dot_per_run)
{
  HydraRunsScatter *scatter = hydra_runs_view_get_scatter (view);
  gtk_widget_queue_draw (GTK_WIDGET (scatter));
  ui_spin (0.3);
  ck_assert_uint_eq (hydra_runs_scatter_get_n_dots (scatter), N_RUNS);
  for (int r = 0; r < N_RUNS; r++)
    {
      HnRunInfo info = { 0 };
      read_info (run_folders[r], &info);
      gboolean found = FALSE;
      for (guint i = 0; i < N_RUNS; i++)
        {
          const HydraScatterDot *d = hydra_runs_scatter_get_dot (scatter, i);
          if (g_strcmp0 (hydra_run_row_get_folder (d->row), run_folders[r]) != 0)
            continue;
          found = TRUE;
          ck_assert_double_eq (d->x, info.summary.final.val.age_mae);
          ck_assert_double_eq (d->y, info.summary.final.val.race_acc);
          ck_assert (d->manual == (info.settings.loss.balance == BALANCE_MANUAL));
          /* nothing was changed live: FAMO's own weights are no change */
          ck_assert_msg (!hydra_run_row_get_changed_live (d->row), "%s changed live?",
                         balance_title (info.settings.loss.balance));
          /* the dot is where the pointer finds it, and the run it names is selected */
          ck_assert (isfinite (d->px) && isfinite (d->py));
          ck_assert_int_eq (hydra_runs_scatter_pick (scatter, d->px, d->py), (int) i);
          g_signal_emit_by_name (scatter, "run-activated", hydra_run_row_get_folder (d->row));
          ck_assert_str_eq (hydra_runs_view_get_selected (view), run_folders[r]);
        }
      ck_assert_msg (found, "no dot for %s", run_folders[r]);
      run_info_clear (&info);
    }
}
END_TEST

/* The first widget of type under widget, depth first. */
static GtkWidget *
find_widget (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_widget (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

START_TEST (test_rename_persists_to_run_json)
{
  ck_assert (hydra_runs_view_select (view, run_folders[1]));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.rename", NULL));
  ui_spin (0.3);
  /* the popover's entry, filled with the run's name */
  GtkWidget *entry = find_widget (GTK_WIDGET (view), GTK_TYPE_ENTRY);
  ck_assert (entry != NULL && gtk_widget_get_mapped (entry));
  HnRunInfo before = { 0 };
  read_info (run_folders[1], &before);
  ck_assert_str_eq (gtk_editable_get_text (GTK_EDITABLE (entry)), before.name);
  run_info_clear (&before);
  screenshot ("runs-rename");
  gtk_editable_set_text (GTK_EDITABLE (entry), "Low age weight");
  g_signal_emit_by_name (entry, "activate");
  for (int tries = 0; tries < 100; tries++)
    {
      ui_spin (0.05);
      g_autofree char *cell = hydra_runs_view_dup_cell (view, position_of (run_folders[1]),
                                                        HYDRA_RUN_COL_NAME, FALSE);
      if (g_strcmp0 (cell, "Low age weight") == 0)
        break;
    }
  HnRunInfo info = { 0 };
  read_info (run_folders[1], &info);
  ck_assert_str_eq (info.name, "Low age weight");
  run_info_clear (&info);
  g_autofree char *cell
      = hydra_runs_view_dup_cell (view, position_of (run_folders[1]), HYDRA_RUN_COL_NAME, FALSE);
  ck_assert_str_eq (cell, "Low age weight");

  /* a rename that fails says why in the window's banner, and stays said */
  g_autofree char *json = g_build_filename (run_folders[1], "run.json", NULL);
  g_autofree char *saved = NULL;
  gsize len;
  ck_assert (g_file_get_contents (json, &saved, &len, NULL));
  ck_assert (g_file_set_contents (json, "{", 1, NULL));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.rename", NULL));
  ui_spin (0.3);
  entry = find_widget (GTK_WIDGET (view), GTK_TYPE_ENTRY);
  gtk_editable_set_text (GTK_EDITABLE (entry), "Never");
  g_signal_emit_by_name (entry, "activate");
  for (int tries = 0; tries < 100 && hydra_window_get_banner_text (window) == NULL; tries++)
    ui_spin (0.05);
  ck_assert_msg (hydra_window_get_banner_text (window) != NULL, "no message for a failed rename");
  ui_spin (0.5); /* the folder read that follows must not hide it */
  ck_assert_ptr_nonnull (hydra_window_get_banner_text (window));
  ck_assert (g_file_set_contents (json, saved, (gssize) len, NULL));
  hydra_runs_view_refresh (view);
  ui_spin (0.5);
}
END_TEST

static void
collect_checks (GtkWidget *widget, GPtrArray *checks)
{
  if (GTK_IS_CHECK_BUTTON (widget) && g_object_get_data (G_OBJECT (widget), "row") != NULL
      && gtk_widget_get_visible (widget))
    g_ptr_array_add (checks, widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect_checks (c, checks);
}

static gboolean
comparing_two (void)
{
  const char *text = hydra_window_get_comparison_text (window);
  return text != NULL && strstr (text, "with 2 runs") != NULL;
}

START_TEST (test_compare_hands_the_checked_folders_over)
{
  g_autoptr (GPtrArray) checks = g_ptr_array_new ();
  collect_checks (GTK_WIDGET (hydra_runs_view_get_column_view (view)), checks);
  ck_assert_uint_ge (checks->len, 2);
  gtk_check_button_set_active (checks->pdata[0], TRUE);
  gtk_check_button_set_active (checks->pdata[1], TRUE);

  /* the window draws the two checked runs with the session (win.compare-runs) */
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.compare", NULL));
  ck_assert (ui_wait_until (comparing_two, 30));
  ck_assert_uint_eq (hydra_loss_plot_get_n_overlay (hydra_window_get_loss_plot (window)), 2);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.clear-comparison", NULL));
  ui_spin (0.1);
  ck_assert_ptr_null (hydra_window_get_comparison_text (window));
  gtk_check_button_set_active (checks->pdata[0], FALSE);
  gtk_check_button_set_active (checks->pdata[1], FALSE);
}
END_TEST

static GtkWidget *
trash_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (g_object_get_data (w, "hydra-trash-confirmation") != NULL)
        return GTK_WIDGET (w);
    }
  return NULL;
}

static gboolean
trash_dialog_shown (void)
{
  return trash_dialog () != NULL;
}

static gboolean
junk_gone (void)
{
  return runs_test_n_rows () == N_RUNS - 1 + 1 && !hydra_runs_view_get_loading (view);
}

START_TEST (test_trash_asks_then_removes)
{
  /* the FAMO run goes: first Cancel, then Move to Trash */
  ck_assert (hydra_runs_view_select (view, run_folders[2]));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.trash", NULL));
  ck_assert (ui_wait_until (trash_dialog_shown, 5));
  screenshot ("runs-trash-confirmation");
  gtk_dialog_response (GTK_DIALOG (trash_dialog ()), GTK_RESPONSE_CANCEL);
  ui_spin (0.3);
  ck_assert (g_file_test (run_folders[2], G_FILE_TEST_IS_DIR));

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.trash", NULL));
  ck_assert (ui_wait_until (trash_dialog_shown, 5));
  gtk_dialog_response (GTK_DIALOG (trash_dialog ()), GTK_RESPONSE_ACCEPT);
  ck_assert (ui_wait_until (junk_gone, 30));
  ck_assert (!g_file_test (run_folders[2], G_FILE_TEST_EXISTS));
  ck_assert_int_lt (position_of (run_folders[2]), 0);
}
END_TEST

static gboolean
dataset_ready (void)
{
  return hydra_window_get_dataset (window) != NULL;
}

static HydraRunState
state (void)
{
  return hydra_trainer_get_state (hydra_window_get_trainer (window));
}

static gboolean
is_paused (void)
{
  return state () == HYDRA_RUN_PAUSED;
}

static gboolean
is_finished (void)
{
  return state () == HYDRA_RUN_FINISHED
         && !hydra_trainer_get_saving (hydra_window_get_trainer (window));
}

static gboolean
is_stopped (void)
{
  return state () == HYDRA_RUN_STOPPED
         && !hydra_trainer_get_saving (hydra_window_get_trainer (window));
}

static gboolean
has_steps (void)
{
  return hydra_series_get_n_steps (hydra_trainer_get_series (hydra_window_get_trainer (window)))
         > 0;
}

static GtkWidget *
find_button (GtkWidget *widget, const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);
      if (found != NULL)
        return found;
    }
  return NULL;
}

START_TEST (test_fork_from_epoch_one)
{
  HydraTrainer *trainer = hydra_window_get_trainer (window);
  ck_assert (ui_wait_until (dataset_ready, 60));
  HnRunInfo parent = { 0 };
  read_info (run_folders[0], &parent);
  ck_assert_int_ge (parent.summary.n_checkpoints, 3);
  int pick = -1;
  for (int i = 0; i < parent.summary.n_checkpoints; i++)
    if (parent.summary.checkpoints[i].epoch == 1 && parent.summary.checkpoints[i].batch == 0)
      pick = i;
  ck_assert_int_ge (pick, 0);
  const HnRunCheckpoint *from = &parent.summary.checkpoints[pick];
  g_autofree char *checkpoint = g_build_filename (run_folders[0], from->file, NULL);

  /* Fork…: the popover offers the run's checkpoints; epoch 1 is picked and started */
  ck_assert (hydra_runs_view_select (view, run_folders[0]));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.fork", NULL));
  ui_spin (0.3);
  GtkWidget *dropdown = find_widget (GTK_WIDGET (view), GTK_TYPE_DROP_DOWN);
  ck_assert (dropdown != NULL && gtk_widget_get_mapped (dropdown));
  GListModel *offered = gtk_drop_down_get_model (GTK_DROP_DOWN (dropdown));
  ck_assert_uint_eq (g_list_model_get_n_items (offered), parent.summary.n_checkpoints);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), pick);
  screenshot ("runs-fork-popover");
  GtkWidget *start = find_button (GTK_WIDGET (view), "_Start Fork");
  ck_assert (start != NULL);
  g_signal_emit_by_name (start, "clicked");

  /* paused at its branch point, in a new folder whose run.json names its parent */
  ck_assert (ui_wait_until (is_paused, 60));
  const char *folder = hydra_trainer_get_run_folder (trainer);
  ck_assert (folder != NULL && g_strcmp0 (folder, run_folders[0]) != 0);
  HnRunInfo fork = { 0 };
  read_info (folder, &fork);
  ck_assert (fork.has_parent);
  ck_assert_str_eq (fork.parent.folder, run_folders[0]);
  ck_assert_str_eq (fork.parent.checkpoint, checkpoint);
  ck_assert_int_eq (fork.parent.step, from->step);
  ck_assert_int_eq (fork.parent.epoch, 1);
  ck_assert_int_eq (fork.settings.loss.balance, parent.settings.loss.balance);
  run_info_clear (&fork);

  /* the live run cannot be trashed */
  runs_test_reload ();
  ck_assert (hydra_runs_view_select (view, folder));
  gtk_widget_activate_action (GTK_WIDGET (view), "runs.trash", NULL);
  ui_spin (0.5);
  ck_assert (trash_dialog () == NULL);

  /* Resume: its first step follows the checkpoint's */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-pause", NULL);
  ck_assert (ui_wait_until (has_steps, 60));
  HydraSeries *series = hydra_trainer_get_series (trainer);
  ck_assert_int_eq (hydra_series_get_step (series, 0)->step, from->step + 1);
  ck_assert (ui_wait_until (is_finished, 120));
  runs_test_reload ();
  ck_assert_int_ge (position_of (folder), 0);
  run_info_clear (&parent);
}
END_TEST

static gboolean
forked_paused (void)
{
  return is_paused () && hydra_trainer_get_run_folder (hydra_window_get_trainer (window)) != NULL;
}

/* A run on faces the window has not loaded (hydranet-cli train --synthetic's seed): Fork loads
 * the parent's faces, never others, and then forks. */
START_TEST (test_fork_loads_the_parents_data)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (N_FACES, 7, 32, 1, NULL, &err);
  ck_assert_msg (ds != NULL, "%s", err.message);
  g_autofree char *parent = make_run_seeded (ds, 0.5f, BALANCE_MANUAL, 7, 0.75f);
  runs_test_reload ();
  /* its weights changed live: no static choice, so not in the manual series of the scatter */
  ck_assert (hydra_run_row_get_changed_live (row_at (position_of (parent))));
  ck_assert (!hydra_run_row_get_changed_live (row_at (position_of (run_folders[0]))));
  HydraRunsScatter *scatter = hydra_runs_view_get_scatter (view);
  for (guint i = 0; i < hydra_runs_scatter_get_n_dots (scatter); i++)
    {
      const HydraScatterDot *d = hydra_runs_scatter_get_dot (scatter, i);
      const char *folder = hydra_run_row_get_folder (d->row);
      if (g_strcmp0 (folder, parent) == 0)
        ck_assert (!d->manual);
      else if (g_strcmp0 (folder, run_folders[0]) == 0)
        ck_assert (d->manual);
    }
  ck_assert (hydra_runs_view_select (view, parent));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.fork", NULL));
  ui_spin (0.3);
  GtkWidget *dropdown = find_widget (GTK_WIDGET (view), GTK_TYPE_DROP_DOWN);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), 1); /* epoch 1 */
  g_signal_emit_by_name (find_button (GTK_WIDGET (view), "_Start Fork"), "clicked");
  ck_assert (ui_wait_until (forked_paused, 60));
  HnRunInfo fork = { 0 };
  read_info (hydra_trainer_get_run_folder (hydra_window_get_trainer (window)), &fork);
  ck_assert_str_eq (fork.parent.folder, parent);
  ck_assert_int_eq (fork.settings.synthetic, N_FACES);
  ck_assert_int_eq (fork.settings.synthetic_seed, 7);
  run_info_clear (&fork);
  const HnDataset *loaded = hydra_dataset_get (hydra_window_get_dataset (window));
  ck_assert_int_eq (loaded->n, N_FACES);
  /* the faces the parent saw, not the window's own */
  ck_assert_int_eq (loaded->size, ds->size);
  ck_assert (memcmp (loaded->pixels, ds->pixels, (size_t) N_FACES * ds->size * ds->size * 3) == 0);
  dataset_free (ds);
  /* the panel shows the fork's weights; one changed while paused reaches its first step */
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  /* the weight in force at the checkpoint, which run.json's start value (0.5) is not */
  ck_assert_double_eq (g_settings_get_double (settings, "w-age"), 0.75);
  g_settings_set_double (settings, "w-age", 2.0);
  g_object_unref (settings);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-pause", NULL);
  ck_assert (ui_wait_until (has_steps, 60));
  const HydraStepPoint *first
      = hydra_series_get_step (hydra_trainer_get_series (hydra_window_get_trainer (window)), 0);
  ck_assert_double_eq (first->weight[0], 2.0);
  screenshot ("runs-fork-resumed");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.stop", NULL);
  ck_assert (ui_wait_until (is_stopped, 60));
}
END_TEST

/* From where a run ended, a fork trains on to the sidebar's epoch count. */
START_TEST (test_fork_from_the_end_trains_on)
{
  HydraTrainer *trainer = hydra_window_get_trainer (window);
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_settings_set_int (settings, "epochs", 3);
  g_object_unref (settings);
  HnRunInfo parent = { 0 };
  read_info (run_folders[0], &parent);
  const HnRunCheckpoint *end = &parent.summary.checkpoints[parent.summary.n_checkpoints - 1];
  ck_assert_int_eq (end->epoch, parent.settings.epochs);

  runs_test_reload ();
  ck_assert (hydra_runs_view_select (view, run_folders[0]));
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (view), "runs.fork", NULL));
  ui_spin (0.3);
  GtkWidget *dropdown = find_widget (GTK_WIDGET (view), GTK_TYPE_DROP_DOWN);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), parent.summary.n_checkpoints - 1);
  g_signal_emit_by_name (find_button (GTK_WIDGET (view), "_Start Fork"), "clicked");
  ck_assert (ui_wait_until (forked_paused, 60));
  const char *folder = hydra_trainer_get_run_folder (trainer);
  HnRunInfo fork = { 0 };
  read_info (folder, &fork);
  ck_assert_int_eq (fork.parent.epoch, end->epoch);
  ck_assert_int_eq (fork.settings.epochs, 3);
  run_info_clear (&fork);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-pause", NULL);
  ck_assert (ui_wait_until (is_finished, 120));
  read_info (folder, &fork);
  ck_assert_int_eq (fork.summary.epochs, 3);
  ck_assert_int_gt (fork.summary.steps, end->step);
  run_info_clear (&fork);
  run_info_clear (&parent);
}
END_TEST

static Suite *
runs_suite (void)
{
  Suite *s = suite_create ("runs");
  TCase *tc = tcase_create ("runs");

  tcase_set_timeout (tc, 600);
  tcase_add_test (tc, test_lists_the_runs_with_their_figures);
  tcase_add_test (tc, test_sorting_by_mae_orders_the_rows);
  tcase_add_test (tc, test_differences_only_hides_shared_settings);
  tcase_add_test (tc, test_baseline_delta_is_the_difference);
  tcase_add_test (tc, test_scatter_has_a_dot_per_run);
  tcase_add_test (tc, test_rename_persists_to_run_json);
  tcase_add_test (tc, test_compare_hands_the_checked_folders_over);
  tcase_add_test (tc, test_trash_asks_then_removes);
  tcase_add_test (tc, test_fork_from_epoch_one);
  tcase_add_test (tc, test_fork_loads_the_parents_data);
  tcase_add_test (tc, test_fork_from_the_end_trains_on);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  tmpdir = g_dir_make_tmp ("hydranet-runs-XXXXXX", NULL);
  if (tmpdir == NULL)
    return 1;
  g_setenv ("XDG_DATA_HOME", tmpdir, TRUE);
  g_setenv ("XDG_CACHE_HOME", tmpdir, TRUE);
  runs_dir = g_build_filename (tmpdir, "hydranet-studio", "runs", NULL);
  make_runs ();

  gtk_init ();
  app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_settings_set_int (settings, "synthetic-count", N_FACES);
  g_settings_set_int (settings, "batch-size", 16);
  g_object_unref (settings);

  window = hydra_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 900);
  gtk_window_present (GTK_WINDOW (window));
  view = hydra_window_get_runs_view (window);
  runs_test_follow (view);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.view", "s", "runs");

  int status = test_run_suite (runs_suite ());

  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (0.2);
  g_object_unref (app);
  test_rmtree (tmpdir);
  for (int r = 0; r < N_RUNS; r++)
    free (run_folders[r]);
  g_free (runs_dir);
  g_free (tmpdir);
  return status;
}
