/* test-runs-export.c — Export as PyTorch Project and Import Run in the Runs view, under Xvfb.
 *
 * One short run made with the engine (synthetic faces, a run folder with its model) in a
 * temporary XDG_DATA_HOME. Exporting it through the view's worker must write a project whose
 * run.json names the run, into the folder picked when it is new and into a folder named after
 * the run when the one picked is not empty; importing a project that was trained (its output/
 * made here from the run's own files) must add a run that the table selects; importing one
 * that was not must say so in the window's banner. Import Run… from the main menu goes through
 * the file chooser itself (GTK's own dialog: no portal here).
 */

#include <cjson/cJSON.h>
#include <gtk/gtk.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "hydra-application.h"
#include "hydra-runs-view.h"
#include "hydra-window.h"
#include "runfolder.h"
#include "runinfo.h"
#include "synth.h"
#include "test-util.h"
#include "runs-test-util.h"
#include "ui-test-util.h"

#define N_FACES 200 /* the fewest the window loads */

static HydraApplication *app;
static HydraWindow *window;
static HydraRunsView *view;
static char *tmpdir, *runs_dir, *run_folder;

/* ---- making the run (before the suite: a failure ends the program) ---- */

#define REQUIRE(cond, ...)                                                                         \
  do                                                                                               \
    if (!(cond))                                                                                   \
      g_error (__VA_ARGS__);                                                                       \
  while (0)

/* One epoch on synthetic faces, with model.safetensors as the studio leaves it at the end:
 * the last checkpoint's weights. */
static void
make_run (void)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (N_FACES, 1, 32, 1, NULL, &err);
  REQUIRE (ds != NULL, "%s", err.message);
  HnTrainConfig c = train_preset_studio ();
  c.batch = 16;
  c.epochs = 1;
  c.val_percent = 20;
  c.seed = 1;
  c.synthetic = N_FACES;
  c.synthetic_seed = 1;
  c.augment = (HnAugment){ 0 };
  c.source = "test-runs-export";
  run_folder = run_folder_create (runs_dir, &err);
  REQUIRE (run_folder != NULL, "%s", err.message);
  c.run_dir = run_folder;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  REQUIRE (t != NULL && trainer_start (t, &err), "%s", err.message);
  trainer_join (t);
  REQUIRE (trainer_state (t) == TRAINER_FINISHED, "the run ended %d", trainer_state (t));
  trainer_free (t);
  dataset_free (ds);

  HnRunInfo info = { 0 };
  REQUIRE (run_info_read (run_folder, &info, &err), "%s", err.message);
  REQUIRE (info.summary.n_checkpoints > 0, "no checkpoint");
  g_autofree char *last = g_build_filename (
      run_folder, info.summary.checkpoints[info.summary.n_checkpoints - 1].file, NULL);
  g_autofree char *model = g_build_filename (run_folder, RUN_MODEL, NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  REQUIRE (g_file_get_contents (last, &bytes, &len, NULL), "cannot read %s", last);
  REQUIRE (g_file_set_contents (model, bytes, (gssize) len, NULL), "cannot write %s", model);
  run_info_clear (&info);
}

/* ---- helpers ---- */

static const char *wanted_text;

static gboolean
banner_says (void)
{
  const char *text = hydra_window_get_banner_text (window);
  return text != NULL && strstr (text, wanted_text) != NULL;
}

/* Waits for the window's banner to hold text. */
static void
wait_for_banner (const char *text)
{
  wanted_text = text;
  ck_assert_msg (ui_wait_until (banner_says, 60), "the banner says “%s”, not “%s”",
                 hydra_window_get_banner_text (window), text);
}

static void
screenshot (const char *name)
{
  ui_screenshot (GTK_WIDGET (window), name);
}

static cJSON *
read_json (const char *path)
{
  g_autofree char *text = NULL;
  ck_assert_msg (g_file_get_contents (path, &text, NULL, NULL), "cannot read %s", path);
  cJSON *root = cJSON_Parse (text);
  ck_assert_msg (root != NULL, "%s is not JSON", path);
  return root;
}

/* project is an exported project of the run: train.py, the weights, and run.json's
 * "from"."folder" is the run. */
static void
assert_project_of_the_run (const char *project)
{
  static const char *files[] = { "train.py", "README.md", PROJECT_INIT, "run.json" };
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (project, files[i], NULL);
      ck_assert_msg (g_file_test (path, G_FILE_TEST_IS_REGULAR), "no %s", path);
    }
  g_autofree char *json = g_build_filename (project, "run.json", NULL);
  cJSON *root = read_json (json);
  cJSON *from = cJSON_GetObjectItemCaseSensitive (root, "from");
  const char *folder = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (from, "folder"));
  char *want = realpath (run_folder, NULL);
  ck_assert_pstr_eq (folder, want);
  free (want);
  ck_assert_str_eq (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (root, "format")),
                    PROJECT_FORMAT);
  const char *exporter = cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (root, "exporter"));
  ck_assert_msg (g_str_has_prefix (exporter, "HydraNet Studio "), "exporter %s", exporter);
  cJSON_Delete (root);
}

static char *
run_name (void)
{
  HnRunInfo info = { 0 };
  HnError err;
  ck_assert_msg (run_info_read (run_folder, &info, &err), "%s", err.message);
  char *name = g_strdup (info.name);
  run_info_clear (&info);
  return name;
}

static void
copy_file (const char *from_dir, const char *to_dir, const char *name)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);
  g_autofree char *bytes = NULL;
  gsize len;
  ck_assert_msg (g_file_get_contents (from, &bytes, &len, NULL), "cannot read %s", from);
  ck_assert_msg (g_file_set_contents (to, bytes, (gssize) len, NULL), "cannot write %s", to);
}

/* A project as train.py leaves it: output/ holds a run folder, here the run's own files. */
static char *
make_trained_project (const char *name)
{
  char *project = g_build_filename (tmpdir, name, NULL);
  g_autofree char *output = g_build_filename (project, PROJECT_OUTPUT, NULL);
  ck_assert_int_eq (g_mkdir_with_parents (output, 0700), 0);
  copy_file (run_folder, output, RUN_INFO);
  copy_file (run_folder, output, RUN_RECORD);
  copy_file (run_folder, output, RUN_MODEL);
  /* a run of its own, as train.py names one (the run itself is in the folder already) */
  HnError err;
  g_autofree char *title = g_strdup_printf ("%s · torchrun 2×gloo", name);
  ck_assert_msg (run_info_rename (output, title, &err), "%s", err.message);
  return project;
}

static guint rows_before;

static gboolean
imported_run_selected (void)
{
  const char *selected = hydra_runs_view_get_selected (view);
  return !hydra_runs_view_get_loading (view) && runs_test_n_rows () == rows_before + 1 && selected != NULL
         && g_strcmp0 (selected, run_folder) != 0;
}

/* The run selected is one imported from project. */
static void
assert_imported (const char *project)
{
  const char *folder = hydra_runs_view_get_selected (view);
  g_autofree char *parent = g_path_get_dirname (folder);
  ck_assert_str_eq (parent, runs_dir);
  g_autofree char *model = g_build_filename (folder, RUN_MODEL, NULL);
  ck_assert (g_file_test (model, G_FILE_TEST_IS_REGULAR));
  g_autofree char *json = g_build_filename (folder, RUN_INFO, NULL);
  cJSON *root = read_json (json);
  cJSON *imported = cJSON_GetObjectItemCaseSensitive (root, "imported");
  char *want = realpath (project, NULL);
  ck_assert_pstr_eq (cJSON_GetStringValue (cJSON_GetObjectItemCaseSensitive (imported, "project")),
                     want);
  free (want);
  cJSON_Delete (root);
}

/* ---- tests ---- */

START_TEST (test_export_writes_the_project)
{
  runs_test_reload ();
  /* the action's state, as a button in the view (or its menus' items) shows it */
  GtkWidget *button = gtk_button_new ();
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "runs.export-pytorch");
  gtk_widget_set_parent (button, GTK_WIDGET (view));
  ck_assert_ptr_null (hydra_runs_view_get_selected (view));
  ck_assert (!gtk_widget_get_sensitive (button)); /* no run selected */
  ck_assert (hydra_runs_view_select (view, run_folder));
  ui_spin (0.05);
  ck_assert (gtk_widget_get_sensitive (button));
  gtk_widget_unparent (button);

  /* a new folder: the project goes there */
  g_autofree char *projects = g_build_filename (tmpdir, "projects", NULL);
  g_autofree char *first = g_build_filename (projects, "first", NULL);
  hydra_runs_view_export_pytorch (view, run_folder, first);
  wait_for_banner (first);
  assert_project_of_the_run (first);
  /* it says what comes next */
  ck_assert (strstr (hydra_window_get_banner_text (window), "torchrun") != NULL);
  ck_assert (strstr (hydra_window_get_banner_text (window), "Import Run") != NULL);
  screenshot ("runs-exported");

  /* a folder that is not empty: a new one in it, named after the run, then numbered */
  g_autofree char *name = run_name ();
  g_autofree char *leaf = g_strdup_printf ("%s-pytorch", name);
  g_autofree char *named = g_build_filename (projects, leaf, NULL);
  g_autofree char *named_2 = g_strdup_printf ("%s-2", named);
  hydra_runs_view_export_pytorch (view, run_folder, projects);
  wait_for_banner (named);
  assert_project_of_the_run (named);
  hydra_runs_view_export_pytorch (view, run_folder, projects);
  wait_for_banner (named_2);
  assert_project_of_the_run (named_2);
}
END_TEST

START_TEST (test_import_adds_and_selects_the_run)
{
  runs_test_reload ();
  g_autofree char *project = make_trained_project ("trained");
  rows_before = runs_test_n_rows ();
  hydra_runs_view_import_run (view, project);
  ck_assert_msg (ui_wait_until (imported_run_selected, 60), "%u rows, %s selected", runs_test_n_rows (),
                 hydra_runs_view_get_selected (view));
  assert_imported (project);
  wait_for_banner ("Imported");
  ck_assert (strstr (hydra_window_get_banner_text (window), project) != NULL);
  screenshot ("runs-imported");
}
END_TEST

START_TEST (test_import_of_an_untrained_project_says_why)
{
  g_autofree char *project = g_build_filename (tmpdir, "untrained", NULL);
  hydra_runs_view_export_pytorch (view, run_folder, project);
  wait_for_banner (project);
  runs_test_reload ();
  guint before = runs_test_n_rows ();

  hydra_runs_view_import_run (view, project);
  wait_for_banner ("has not been trained");
  ck_assert (g_str_has_prefix (hydra_window_get_banner_text (window), "The run was not imported"));
  runs_test_reload ();
  ck_assert_uint_eq (runs_test_n_rows (), before);
  screenshot ("runs-import-untrained");
}
END_TEST

static GtkWidget *
find_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (GTK_IS_FILE_CHOOSER_DIALOG (w) && gtk_widget_get_visible (GTK_WIDGET (w)))
        return GTK_WIDGET (w);
    }
  return NULL;
}

static gboolean
chooser_shown (void)
{
  return find_chooser () != NULL;
}

static GFile *chooser_file;

static gboolean
chooser_in_folder (void)
{
  GtkWidget *chooser = find_chooser ();
  g_autoptr (GFile) folder
      = chooser ? gtk_file_chooser_get_current_folder (GTK_FILE_CHOOSER (chooser)) : NULL;
  return folder != NULL && g_file_equal (folder, chooser_file);
}

static gboolean
chooser_picked (void)
{
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (find_chooser ()));
  return file != NULL && g_file_equal (file, chooser_file);
}

/* Import Run… in the main menu: the Runs view, a chooser of folders whose button says Import,
 * and the folder picked imported. */
START_TEST (test_import_from_the_main_menu)
{
  g_autofree char *project = make_trained_project ("trained-again");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.view", "s", "loss");
  runs_test_reload ();
  rows_before = runs_test_n_rows ();

  ck_assert (gtk_widget_activate_action (GTK_WIDGET (window), "win.import-run", NULL));
  /* it opens where the last project went (test_import_of_an_untrained_project_says_why's),
   * and takes a folder set only once it is there */
  chooser_file = g_file_new_for_path (tmpdir);
  ck_assert (ui_wait_until (chooser_shown, 10));
  ck_assert (ui_wait_until (chooser_in_folder, 10));
  g_clear_object (&chooser_file);
  GtkWidget *chooser = find_chooser ();
  ck_assert_int_eq (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)),
                    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  GtkWidget *accept
      = gtk_dialog_get_widget_for_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  ck_assert (accept != NULL);
  ck_assert_str_eq (gtk_button_get_label (GTK_BUTTON (accept)), "_Import");
  g_autoptr (GFile) folder = g_file_new_for_path (project);
  ck_assert (gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL));
  chooser_file = folder;
  ck_assert (ui_wait_until (chooser_picked, 10));
  chooser_file = NULL;
  ui_screenshot (chooser, "runs-import-chooser");
  g_signal_emit_by_name (accept, "clicked");

  ck_assert_msg (ui_wait_until (imported_run_selected, 60), "%u rows, %s selected", runs_test_n_rows (),
                 hydra_runs_view_get_selected (view));
  assert_imported (project);
  ck_assert (gtk_widget_get_mapped (GTK_WIDGET (view))); /* the Runs view shows it */
}
END_TEST

static Suite *
runs_export_suite (void)
{
  Suite *s = suite_create ("runs-export");
  TCase *tc = tcase_create ("runs-export");

  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_export_writes_the_project);
  tcase_add_test (tc, test_import_adds_and_selects_the_run);
  tcase_add_test (tc, test_import_of_an_untrained_project_says_why);
  tcase_add_test (tc, test_import_from_the_main_menu);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  tmpdir = g_dir_make_tmp ("hydranet-export-XXXXXX", NULL);
  if (tmpdir == NULL)
    return 1;
  g_setenv ("XDG_DATA_HOME", tmpdir, TRUE);
  g_setenv ("XDG_CACHE_HOME", tmpdir, TRUE);
  runs_dir = g_build_filename (tmpdir, "hydranet-studio", "runs", NULL);
  make_run ();

  /* GTK's file chooser records the folder picked under the program's name, which
   * g_application_run gives the studio and this test gives itself */
  g_set_prgname ("test-ui-runs-export");
  g_set_application_name ("HydraNet Studio");
  gtk_init ();
  app = hydra_application_new ();
  g_application_register (G_APPLICATION (app), NULL, NULL);
  GSettings *settings = g_settings_new (HYDRA_APP_ID);
  g_settings_set_int (settings, "synthetic-count", N_FACES);
  g_object_unref (settings);

  window = hydra_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1500, 900);
  gtk_window_present (GTK_WINDOW (window));
  view = hydra_window_get_runs_view (window);
  runs_test_follow (view);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.view", "s", "runs");

  int status = test_run_suite (runs_export_suite ());

  gtk_window_destroy (GTK_WINDOW (window));
  ui_spin (0.2);
  g_object_unref (app);
  test_rmtree (tmpdir);
  free (run_folder);
  g_free (runs_dir);
  g_free (tmpdir);
  return status;
}
