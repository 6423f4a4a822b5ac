/* test-panes.c — the data set loader, the data set pane and the metrics view, under Xvfb.
 *
 * The loader runs the engine's real loaders on real (synthetic) faces: a folder written by
 * synth_write_folder with a junk file and a conflicting copy in it, a synthetic set, a load
 * cancelled half-way, a missing folder. The pane and the view are shown in a window, checked
 * against the data set's own counts, and photographed to $HYDRANET_TEST_ARTIFACTS (light
 * and dark) so a person can look at them.
 */

#include <cairo.h>
#include <gtk/gtk.h>
#include <locale.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hydra-dataset-loader.h"
#include "hydra-dataset-pane.h"
#include "hydra-metrics-view.h"
#include "hydra-series.h"
#include "input.h"
#include "synth.h"
#include "test-util.h"
#include "ui-test-util.h"

static char *cache_dir;

/* ---------------------------------------------------------------------------------------
 * Helpers
 */


typedef struct
{
  gboolean done;
  HnDataset *ds;
  GError *error;
  gint64 finished_at;
  /* "fraction" as seen by a progress bar, and whether "loading" was TRUE in the callback */
  GArray *fractions;
  gboolean loading_in_callback;
} Load;

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Load *load = user_data;

  load->ds = hydra_dataset_loader_load_finish (HYDRA_DATASET_LOADER (source), result, &load->error);
  load->loading_in_callback = hydra_dataset_loader_get_loading (HYDRA_DATASET_LOADER (source));
  load->finished_at = g_get_monotonic_time ();
  load->done = TRUE;
}

static void
on_fraction (HydraDatasetLoader *loader, GParamSpec *pspec, Load *load)
{
  double f = hydra_dataset_loader_get_fraction (loader);

  if (load->fractions != NULL)
    g_array_append_val (load->fractions, f);
}

/* Runs the main loop until the load is done, failing after timeout_s. */
static void
wait_load (Load *load, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) (timeout_s * G_USEC_PER_SEC);

  while (!load->done && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  ck_assert_msg (load->done, "the load did not finish within %.0f s", timeout_s);
}

static void
load_clear (Load *load)
{
  g_clear_pointer (&load->ds, dataset_free);
  g_clear_error (&load->error);
  g_clear_pointer (&load->fractions, g_array_unref);
}

/* A UTKFace-style folder: n synthetic faces, a junk file, and a byte-identical copy of the
 * first face under a name that disagrees on its age (a conflicting duplicate group). */
static char *
make_folder (int n)
{
  char *dir = test_tmpdir ();
  HnError err;
  g_autofree char *junk = test_path (dir, "notes.txt");
  g_autofree char *first = NULL;
  g_autofree char *copy = test_path (dir, "99_0_0_20990101000000000.jpg.chip.jpg");
  g_autofree char *bytes = NULL;
  gsize len;
  HnFaceLabels labels;
  char name[64];

  ck_assert_msg (synth_write_folder (dir, n, 7, 48, SYNTH_JPEG, 0, NULL, &err), "%s", err.message);
  test_write_file (junk, "not an image\n", 13);

  synth_labels (7, 0, &labels);
  synth_file_name (&labels, 0, SYNTH_JPEG, name, sizeof name);
  first = test_path (dir, name);
  ck_assert (g_file_get_contents (first, &bytes, &len, NULL));
  ck_assert_int_ne (labels.age, 99);
  test_write_file (copy, bytes, len);
  return dir;
}

static GtkWindow *
show_in_window (GtkWidget *child, int width, int height)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());

  gtk_window_set_default_size (window, width, height);
  gtk_window_set_child (window, child);
  gtk_window_present (window);
  ui_spin (0.3);
  return window;
}

static void
screenshot (GtkWidget *widget, const char *name)
{
  ui_screenshot (widget, name);
}

static void
check_min_width (GtkWidget *widget, int most)
{
  int min = 0;

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
  ck_assert_msg (min <= most, "%s needs %d px, more than %d", G_OBJECT_TYPE_NAME (widget), min,
                 most);
}

static void
set_dark (gboolean dark)
{
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", dark, NULL);
}

/* ---------------------------------------------------------------------------------------
 * The loader
 */

START_TEST (test_loader_synthetic)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  Load load = { 0 };

  hydra_dataset_loader_load_synthetic_async (loader, 96, 3, 32, NULL, on_loaded, &load);
  ck_assert (hydra_dataset_loader_get_loading (loader));
  wait_load (&load, 60);

  ck_assert_msg (load.ds != NULL, "%s", load.error->message);
  ck_assert_int_eq (load.ds->n, 96);
  ck_assert_int_eq (load.ds->size, 32);
  ck_assert_int_eq (load.ds->n_skipped, 0);
  /* The state is settled before the caller hears of the result. */
  ck_assert (!load.loading_in_callback);
  ck_assert (!hydra_dataset_loader_get_loading (loader));
  ck_assert_str_eq (hydra_dataset_loader_get_text (loader), "");
  load_clear (&load);
}
END_TEST

START_TEST (test_loader_folder)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  g_autofree char *dir = make_folder (12);
  Load load = { 0 };
  gboolean junk_skipped = FALSE;

  hydra_dataset_loader_load_folder_async (loader, dir, 32, NULL, on_loaded, &load);
  wait_load (&load, 60);

  ck_assert_msg (load.ds != NULL, "%s", load.error->message);
  ck_assert_int_eq (load.ds->size, 32);
  ck_assert_int_eq (load.ds->n, 12); /* the copy is not used twice */
  ck_assert_int_eq (load.ds->n_skipped, 2);
  for (int i = 0; i < load.ds->n_skipped; i++)
    if (g_str_equal (load.ds->skipped[i].file, "notes.txt"))
      {
        junk_skipped = TRUE;
        ck_assert (load.ds->skipped[i].reason != NULL && load.ds->skipped[i].reason[0] != '\0');
      }
  ck_assert_msg (junk_skipped, "notes.txt is not among the skipped files");
  ck_assert_int_eq (load.ds->n_duplicates, 1);
  ck_assert (load.ds->duplicates[0].conflicting);
  load_clear (&load);
  test_rmtree (dir);
}
END_TEST

START_TEST (test_loader_missing_folder)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  g_autofree char *dir = test_tmpdir ();
  g_autofree char *missing = test_path (dir, "no-such-folder");
  g_autofree char *file = test_path (dir, "a-file.jpg");
  Load load = { 0 };

  hydra_dataset_loader_load_folder_async (loader, missing, 32, NULL, on_loaded, &load);
  wait_load (&load, 10);
  ck_assert_ptr_null (load.ds);
  ck_assert (g_error_matches (load.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
  ck_assert_msg (strstr (load.error->message, "no-such-folder") != NULL, "message: %s",
                 load.error->message);
  load_clear (&load);

  test_write_file (file, "x", 1);
  memset (&load, 0, sizeof load);
  hydra_dataset_loader_load_folder_async (loader, file, 32, NULL, on_loaded, &load);
  wait_load (&load, 10);
  ck_assert (g_error_matches (load.error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY));
  load_clear (&load);

  memset (&load, 0, sizeof load);
  hydra_dataset_loader_load_folder_async (loader, dir, 33, NULL, on_loaded, &load);
  wait_load (&load, 10);
  ck_assert (g_error_matches (load.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
  load_clear (&load);

  ck_assert (!hydra_dataset_loader_get_loading (loader));
  test_rmtree (dir);
}
END_TEST

static gboolean
cancel_soon (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static gboolean
has_progress (gpointer loader)
{
  return hydra_dataset_loader_get_fraction (loader) > 0.0;
}

START_TEST (test_loader_cancel)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Load load = { 0 };
  gint64 cancelled_at;

  /* 20,000 faces at 64 px take tens of seconds: a cancel must cut that short. The first
   * progress is awaited rather than assumed after a fixed time, which a loaded machine
   * can exceed. */
  hydra_dataset_loader_load_synthetic_async (loader, 20000, 1, 64, cancellable, on_loaded, &load);
  ui_wait_for (has_progress, loader, 20);
  ck_assert (!load.done);
  ck_assert (hydra_dataset_loader_get_loading (loader));
  ck_assert_double_gt (hydra_dataset_loader_get_fraction (loader), 0.0);
  ck_assert_double_lt (hydra_dataset_loader_get_fraction (loader), 1.0);

  cancelled_at = g_get_monotonic_time ();
  g_idle_add (cancel_soon, cancellable);
  wait_load (&load, 10);
  ck_assert_ptr_null (load.ds);
  ck_assert (g_error_matches (load.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  /* The whole load takes tens of seconds; a cancel is seen within one face per thread. */
  ck_assert_msg (load.finished_at - cancelled_at < 2 * G_USEC_PER_SEC, "cancelling took %.3f s",
                 (load.finished_at - cancelled_at) / 1e6);
  ck_assert (!hydra_dataset_loader_get_loading (loader));
  load_clear (&load);

  /* A cancellable cancelled before the start: no data set, same error. */
  memset (&load, 0, sizeof load);
  hydra_dataset_loader_load_synthetic_async (loader, 20000, 1, 64, cancellable, on_loaded, &load);
  wait_load (&load, 10);
  ck_assert (g_error_matches (load.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  load_clear (&load);
}
END_TEST

START_TEST (test_loader_supersede)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  Load first = { 0 }, second = { 0 };

  hydra_dataset_loader_load_synthetic_async (loader, 20000, 1, 64, NULL, on_loaded, &first);
  ui_spin (0.1);
  hydra_dataset_loader_load_synthetic_async (loader, 40, 2, 32, NULL, on_loaded, &second);
  wait_load (&first, 10);
  wait_load (&second, 30);

  ck_assert (g_error_matches (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  ck_assert_msg (second.ds != NULL, "%s", second.error->message);
  ck_assert_int_eq (second.ds->n, 40);
  ck_assert (!hydra_dataset_loader_get_loading (loader));
  load_clear (&first);
  load_clear (&second);
}
END_TEST

START_TEST (test_loader_progress)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  Load load = { 0 };
  guint rising = 0;
  gboolean saw_text = FALSE;

  load.fractions = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect (loader, "notify::fraction", G_CALLBACK (on_fraction), &load);
  hydra_dataset_loader_load_synthetic_async (loader, 4000, 5, 64, NULL, on_loaded, &load);
  while (!load.done)
    {
      const char *text = hydra_dataset_loader_get_text (loader);

      if (g_str_has_prefix (text, "Drawing ") && strstr (text, " of 4,000 ") != NULL)
        saw_text = TRUE;
      g_main_context_iteration (NULL, TRUE);
    }
  ck_assert_msg (load.ds != NULL, "%s", load.error->message);

  /* It went up, never down, while the load ran (the last notify resets it to 0 at the end). */
  for (guint i = 1; i + 1 < load.fractions->len; i++)
    {
      double a = g_array_index (load.fractions, double, i - 1);
      double b = g_array_index (load.fractions, double, i);

      ck_assert_msg (b >= a, "fraction went down: %g → %g", a, b);
      rising += b > a;
    }
  ck_assert_msg (rising >= 2, "fraction rose only %u times over %u notifications", rising,
                 load.fractions->len);
  ck_assert (saw_text);
  ck_assert_double_eq (hydra_dataset_loader_get_fraction (loader), 0.0);
  load_clear (&load);
}
END_TEST

START_TEST (test_format_count)
{
  g_autofree char *a = hydra_format_count (0);
  g_autofree char *b = hydra_format_count (999);
  g_autofree char *c = hydra_format_count (20762);
  g_autofree char *d = hydra_format_count (-1234567);

  ck_assert_str_eq (a, "0");
  ck_assert_str_eq (b, "999");
  ck_assert_str_eq (c, "20,762"); /* the test runs in the C locale */
  ck_assert_str_eq (d, "-1,234,567");
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * The data set pane
 */

static void
check_figure (HydraDatasetPane *pane, HydraDatasetFigure figure, gint64 want)
{
  g_autofree char *text = hydra_format_count (want);

  ck_assert_str_eq (hydra_dataset_pane_get_figure_text (pane, figure), text);
}

static void
check_pane_matches (HydraDatasetPane *pane, const HnDataset *ds, int val_percent)
{
  int n_train, n_val, n_conflicting = 0;
  const guint *hist = hydra_dataset_pane_get_age_histogram (pane);
  guint sum = 0, young = 0;

  dataset_split (ds, val_percent, NULL, &n_train, NULL, &n_val);
  for (int i = 0; i < ds->n_duplicates; i++)
    n_conflicting += ds->duplicates[i].conflicting;

  ck_assert (!hydra_dataset_pane_get_empty (pane));
  check_figure (pane, HYDRA_DATASET_FIGURE_USABLE, ds->n);
  check_figure (pane, HYDRA_DATASET_FIGURE_TRAIN, n_train);
  check_figure (pane, HYDRA_DATASET_FIGURE_VAL, n_val);
  check_figure (pane, HYDRA_DATASET_FIGURE_SKIPPED, ds->n_skipped);
  check_figure (pane, HYDRA_DATASET_FIGURE_DUPLICATES, ds->n_duplicates);
  check_figure (pane, HYDRA_DATASET_FIGURE_CONFLICTING, n_conflicting);

  for (int b = 0; b < HYDRA_DATASET_AGE_BINS; b++)
    sum += hist[b];
  for (int i = 0; i < ds->n; i++)
    young += ds->labels[i].age < 5;
  ck_assert_uint_eq (sum, ds->n);
  ck_assert_uint_eq (hist[0], young);

  ck_assert_uint_eq (g_list_model_get_n_items (hydra_dataset_pane_get_skipped (pane)),
                     ds->n_skipped);
  ck_assert_uint_eq (g_list_model_get_n_items (hydra_dataset_pane_get_duplicates (pane)),
                     ds->n_duplicates);
}

START_TEST (test_pane_folder)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  g_autofree char *dir = make_folder (400);
  GtkWidget *pane = hydra_dataset_pane_new ();
  GtkWindow *window;
  Load load = { 0 };
  g_autoptr (GObject) row = NULL;
  g_autofree char *file = NULL;
  g_autofree char *conflict = NULL;
  gboolean conflicting = FALSE;

  hydra_dataset_loader_load_folder_async (loader, dir, 64, NULL, on_loaded, &load);
  wait_load (&load, 120);
  ck_assert_msg (load.ds != NULL, "%s", load.error->message);

  window = show_in_window (pane, 1280, 1000);
  ck_assert (hydra_dataset_pane_get_empty (HYDRA_DATASET_PANE (pane)));

  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), load.ds, "utkface-sample", 20);
  check_pane_matches (HYDRA_DATASET_PANE (pane), load.ds, 20);

  /* The duplicate row names the kept file and says which label disagrees. */
  row = g_list_model_get_item (hydra_dataset_pane_get_duplicates (HYDRA_DATASET_PANE (pane)), 0);
  g_object_get (row, "file", &file, "conflict", &conflict, "conflicting", &conflicting, NULL);
  ck_assert (conflicting);
  ck_assert_ptr_nonnull (strstr (conflict, "age"));
  ck_assert_ptr_nonnull (strstr (conflict, "99"));

  /* Another split: the pane recounts. */
  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), load.ds, "utkface-sample", 50);
  check_pane_matches (HYDRA_DATASET_PANE (pane), load.ds, 50);
  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), load.ds, "utkface-sample", 20);

  screenshot (GTK_WIDGET (window), "dataset-pane");
  set_dark (TRUE);
  screenshot (GTK_WIDGET (window), "dataset-pane-dark");
  set_dark (FALSE);

  /* It fits the window's narrowest centre column (420 px) by wrapping, not by clipping. */
  check_min_width (pane, 420);
  gtk_window_set_default_size (window, 560, 1000);
  screenshot (GTK_WIDGET (window), "dataset-pane-narrow");

  /* The pane keeps nothing of the data set: it may be freed at once. */
  load_clear (&load);
  ui_spin (0.1);
  gtk_window_destroy (window);
  test_rmtree (dir);
}
END_TEST

START_TEST (test_pane_synthetic_and_empty)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (600, 11, 32, 0, NULL, &err);
  GtkWidget *pane = hydra_dataset_pane_new ();
  GtkWindow *window;

  ck_assert_msg (ds != NULL, "%s", err.message);
  window = show_in_window (pane, 1280, 900);
  screenshot (GTK_WIDGET (window), "dataset-pane-empty");

  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), ds, "Synthetic faces", 20);
  check_pane_matches (HYDRA_DATASET_PANE (pane), ds, 20);
  screenshot (GTK_WIDGET (window), "dataset-pane-synthetic");

  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), NULL, NULL, 20);
  ck_assert (hydra_dataset_pane_get_empty (HYDRA_DATASET_PANE (pane)));
  ck_assert_str_eq (
      hydra_dataset_pane_get_figure_text (HYDRA_DATASET_PANE (pane), HYDRA_DATASET_FIGURE_USABLE),
      "–");
  ck_assert_uint_eq (
      g_list_model_get_n_items (hydra_dataset_pane_get_skipped (HYDRA_DATASET_PANE (pane))), 0);

  dataset_free (ds);
  gtk_window_destroy (window);
}
END_TEST

/* What augment_image gives for image `image` with `seed`, back in colours as the grid
 * shows them: the normalisation of input.h undone. */
static void
expected_tile (const HnDataset *ds, int image, const HnAugment *augment, guint64 seed, guint8 *rgb)
{
  gsize plane = (gsize) ds->size * ds->size;
  g_autofree float *x = g_new (float, 3 * plane);

  augment_image (ds->pixels + (gsize) image * plane * 3, ds->size, augment, seed, x);
  for (gsize i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      rgb[i * 3 + c] = (guint8) CLAMP (
          round ((x[c * plane + i] * input_std[c] + input_mean[c]) * 255.0), 0, 255);
}

/* The largest difference between two (size, size, 3) pictures, and how many bytes differ. */
static int
max_difference (const guint8 *a, const guint8 *b, int size, guint *n_differ)
{
  int most = 0;

  *n_differ = 0;
  for (gsize i = 0; i < (gsize) size * size * 3; i++)
    {
      most = MAX (most, ABS (a[i] - b[i]));
      *n_differ += a[i] != b[i];
    }
  return most;
}

static void
count_notify (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static gboolean
grid_settled (gpointer grid)
{
  return !hydra_augment_grid_get_busy (grid);
}

/* The tiles are drawn on a worker: waits for them. */
static void
wait_grid (HydraAugmentGrid *grid)
{
  ck_assert_msg (ui_wait_for (grid_settled, grid, 10), "the samples were not ready in 10 s");
}

/* The samples are the network's inputs: unaugmented, the images themselves; augmented, what
 * augment_image makes of them with each tile's seed; Shuffle draws other seeds. */
START_TEST (test_pane_augment_grid)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (600, 11, 64, 0, NULL, &err);
  GtkWidget *pane = hydra_dataset_pane_new ();
  HydraAugmentGrid *grid = hydra_dataset_pane_get_augment_grid (HYDRA_DATASET_PANE (pane));
  GtkWindow *window;
  HnAugment augment;
  g_autofree guint8 *want = NULL;
  g_autofree guint8 *before = NULL;
  g_autofree char *names = NULL;
  guint64 seed;
  guint n_differ, notified = 0;
  int image;

  ck_assert_msg (ds != NULL, "%s", err.message);
  window = show_in_window (pane, 1280, 1000);
  ck_assert_uint_eq (hydra_augment_grid_get_n_tiles (grid), 0);
  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), ds, "Synthetic faces", 20);
  wait_grid (grid);
  ck_assert_uint_eq (hydra_augment_grid_get_n_tiles (grid), HYDRA_AUGMENT_GRID_TILES);
  ck_assert_int_eq (hydra_augment_grid_get_size (grid), 64);
  want = g_new (guint8, 64 * 64 * 3);
  before = g_new (guint8, 64 * 64 * 3);

  /* no augmentation: each tile is its (training) image, as the network takes it */
  for (guint i = 0; i < HYDRA_AUGMENT_GRID_TILES; i++)
    {
      image = hydra_augment_grid_get_image (grid, i);
      ck_assert (!dataset_is_val (ds, image, 20));
      ck_assert_int_le (max_difference (hydra_augment_grid_get_pixels (grid, i),
                                        ds->pixels + (gsize) image * 64 * 64 * 3, 64, &n_differ),
                        1);
    }

  /* the studio's setting, as a string through the pane */
  g_signal_connect (pane, "notify::augment", G_CALLBACK (count_notify), &notified);
  g_object_set (pane, "augment", "flip,crop=0.3,rotate=10,color=0.2", NULL);
  ck_assert_uint_eq (notified, 1);
  wait_grid (grid);
  g_object_get (pane, "augment", &names, NULL);
  ck_assert_str_eq (names, "flip,crop=0.3,rotate=10,brightness=0.2,contrast=0.2,saturation=0.2");
  ck_assert (augment_from_names (names, &augment));

  image = hydra_augment_grid_get_image (grid, 0);
  seed = hydra_augment_grid_get_seed (grid, 0);
  expected_tile (ds, image, &augment, seed, want);
  ck_assert_int_le (max_difference (hydra_augment_grid_get_pixels (grid, 0), want, 64, &n_differ),
                    1);
  /* … and that is not the image itself */
  max_difference (want, ds->pixels + (gsize) image * 64 * 64 * 3, 64, &n_differ);
  ck_assert_uint_gt (n_differ, 64 * 64);
  screenshot (GTK_WIDGET (window), "dataset-pane-augment");

  /* Shuffle: new seeds, new pictures, still augment_image's */
  memcpy (before, hydra_augment_grid_get_pixels (grid, 0), 64 * 64 * 3);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (grid), "augment.shuffle", NULL));
  ck_assert (hydra_augment_grid_get_busy (grid));
  wait_grid (grid);
  ck_assert_int_eq (hydra_augment_grid_get_image (grid, 0), image);
  ck_assert (hydra_augment_grid_get_seed (grid, 0) != seed);
  max_difference (hydra_augment_grid_get_pixels (grid, 0), before, 64, &n_differ);
  ck_assert_uint_gt (n_differ, 64 * 64);
  expected_tile (ds, image, &augment, hydra_augment_grid_get_seed (grid, 0), want);
  ck_assert_int_le (max_difference (hydra_augment_grid_get_pixels (grid, 0), want, 64, &n_differ),
                    1);
  set_dark (TRUE);
  screenshot (GTK_WIDGET (window), "dataset-pane-augment-dark");
  set_dark (FALSE);
  gtk_window_set_default_size (window, 560, 1000);
  screenshot (GTK_WIDGET (window), "dataset-pane-augment-narrow");

  /* the pane keeps its own copies: the data set may go; a window closed while the worker
   * runs is no trouble */
  dataset_free (ds);
  ck_assert (gtk_widget_activate_action (GTK_WIDGET (grid), "augment.shuffle", NULL));
  gtk_window_destroy (window);
  ui_spin (0.2);
}
END_TEST

/* A folder with names that are not UTF-8, a named pipe and a link loop: the loader does not
 * wait on the pipe, the pane lists every entry in text GTK takes (G_DEBUG=fatal-warnings
 * turns Pango's "invalid UTF-8" into a failure), and so does the banner's message when such
 * a folder has nothing usable. */
START_TEST (test_pane_hostile_folder)
{
  g_autoptr (HydraDatasetLoader) loader = hydra_dataset_loader_new ();
  g_autofree char *dir = make_folder (6);
  g_autofree char *latin1 = test_path (dir, "caf\xE9.jpg");
  g_autofree char *fifo = test_path (dir, "7_0_0_1.jpg");
  g_autofree char *loop = test_path (dir, "8_0_0_1.jpg");
  g_autofree char *odd = test_path (dir, "odd \xFF");
  g_autofree char *junk = test_path (odd, "\xFE.jpg");
  GtkWidget *pane = hydra_dataset_pane_new ();
  GtkWidget *banner = gtk_label_new ("");
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWindow *window;
  GListModel *skipped;
  Load load = { 0 };
  int odd_rows = 0;

  test_write_file (latin1, "x", 1);
  ck_assert_int_eq (mkfifo (fifo, 0644), 0);
  ck_assert_int_eq (symlink ("8_0_0_1.jpg", loop), 0);
  hydra_dataset_loader_load_folder_async (loader, dir, 32, NULL, on_loaded, &load);
  wait_load (&load, 60);
  ck_assert_msg (load.ds != NULL, "%s", load.error->message);
  ck_assert_int_eq (load.ds->n, 6);
  ck_assert_int_eq (load.ds->n_skipped, 5); /* notes.txt, the copy, and the three above */

  gtk_box_append (GTK_BOX (box), banner);
  gtk_box_append (GTK_BOX (box), pane);
  window = show_in_window (box, 1280, 900);
  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), load.ds, "hostile", 20);
  skipped = hydra_dataset_pane_get_skipped (HYDRA_DATASET_PANE (pane));
  ck_assert_uint_eq (g_list_model_get_n_items (skipped), 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr (GObject) row = g_list_model_get_item (skipped, i);
      g_autofree char *file = NULL;
      g_autofree char *reason = NULL;

      g_object_get (row, "file", &file, "reason", &reason, NULL);
      ck_assert_msg (g_utf8_validate (file, -1, NULL), "row %u: file is not UTF-8", i);
      ck_assert_msg (g_utf8_validate (reason, -1, NULL), "row %u: reason is not UTF-8", i);
      odd_rows += g_str_equal (file, "caf\uFFFD.jpg");
    }
  ck_assert_int_eq (odd_rows, 1);
  ui_spin (0.2); /* the rows drawn */
  load_clear (&load);

  ck_assert_int_eq (mkdir (odd, 0755), 0);
  test_write_file (junk, "x", 1);
  memset (&load, 0, sizeof load);
  hydra_dataset_loader_load_folder_async (loader, odd, 32, NULL, on_loaded, &load);
  wait_load (&load, 10);
  ck_assert_ptr_null (load.ds);
  ck_assert_msg (g_utf8_validate (load.error->message, -1, NULL), "the message is not UTF-8");
  ck_assert_ptr_nonnull (strstr (load.error->message, "odd \uFFFD has no usable face image"));
  gtk_label_set_text (GTK_LABEL (banner), load.error->message); /* as the window's banner */
  ui_spin (0.2);
  load_clear (&load);

  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), NULL, NULL, 20);
  gtk_window_destroy (window);
  test_rmtree (dir);
}
END_TEST

/* 20,000 skipped files (as a folder of non-images would give) stay responsive: the list is
 * virtual, so filling it and drawing a frame are quick. */
START_TEST (test_pane_many_skipped)
{
  HnError err;
  HnDataset *ds = dataset_new_synthetic (50, 11, 32, 0, NULL, &err);
  GtkWidget *pane = hydra_dataset_pane_new ();
  GtkWindow *window;
  HnSkippedFile *skipped = g_new (HnSkippedFile, 20000);
  char **names = g_new0 (char *, 50);
  gint64 start, took;

  ck_assert_msg (ds != NULL, "%s", err.message);
  for (int i = 0; i < 20000; i++)
    {
      skipped[i].file = g_strdup_printf ("IMG_%05d.heic", i);
      skipped[i].reason = g_strdup ("name is not AGE_GENDER_RACE_DATETIME.jpg");
    }
  for (int i = 0; i < 50; i++)
    names[i] = g_strdup_printf ("%d_0_0_2017.jpg", i);
  ds->skipped = skipped;
  ds->n_skipped = 20000;
  ds->names = names; /* so the pane treats it as a folder */

  window = show_in_window (pane, 1280, 900);
  start = g_get_monotonic_time ();
  hydra_dataset_pane_set_dataset (HYDRA_DATASET_PANE (pane), ds, "many-skipped", 20);
  ui_spin (0.2);
  took = g_get_monotonic_time () - start - 200000;
  check_figure (HYDRA_DATASET_PANE (pane), HYDRA_DATASET_FIGURE_SKIPPED, 20000);
  ck_assert_uint_eq (
      g_list_model_get_n_items (hydra_dataset_pane_get_skipped (HYDRA_DATASET_PANE (pane))), 20000);
  /* Not a benchmark, a guard against a list that builds 20,000 widgets (seconds). */
  ck_assert_msg (took < G_USEC_PER_SEC, "showing 20,000 skipped files took %.3f s", took / 1e6);

  for (int i = 0; i < 50; i++)
    g_free (names[i]);
  g_free (names);
  ds->names = NULL;
  for (int i = 0; i < 20000; i++)
    {
      g_free (skipped[i].file);
      g_free (skipped[i].reason);
    }
  g_free (skipped);
  ds->skipped = NULL;
  ds->n_skipped = 0;
  dataset_free (ds);
  gtk_window_destroy (window);
}
END_TEST

/* ---------------------------------------------------------------------------------------
 * The metrics view
 */

/* An epoch whose numbers improve with e, with a plausible race confusion matrix. */
static void
fill_epoch (HydraEpochPoint *p, int e)
{
  static const int class_n[N_RACES] = { 1700, 780, 600, 680, 290 };

  memset (p, 0, sizeof *p);
  p->epoch = e;
  p->step = 250 * e;
  p->eval.n = 0;
  p->eval.age_mae = 11.5 / (1 + 0.35 * e);
  p->eval.age_rmse = p->eval.age_mae * 1.35;
  p->eval.gender_acc = 0.72 + 0.06 * e - 0.004 * e * e;
  for (int t = 0; t < N_RACES; t++)
    {
      double right = MIN (0.92, 0.35 + 0.12 * e + (t == 0 ? 0.2 : 0) - (t == 4 ? 0.25 : 0));
      int correct = (int) (class_n[t] * MAX (right, 0.05));
      int rest = class_n[t] - correct;

      for (int q = 0; q < N_RACES; q++)
        p->eval.race_confusion[t][q] = q == t ? correct : 0;
      /* Most mistakes go to white, the majority class. */
      p->eval.race_confusion[t][t == 0 ? 2 : 0] += rest * 6 / 10;
      p->eval.race_confusion[t][t == 3 ? 2 : 3] += rest - rest * 6 / 10;
      p->eval.n += class_n[t];
    }
  {
    int right = 0;

    for (int t = 0; t < N_RACES; t++)
      right += p->eval.race_confusion[t][t];
    p->eval.race_acc = (double) right / p->eval.n;
  }
  for (int h = 0; h < HYDRA_N_CURVES; h++)
    p->loss[h] = 1.0f / e;
}

/* Pixels within 12 of an opaque colour. */
static guint
count_rgb (cairo_surface_t *surface, int r, int g, int b)
{
  int w = cairo_image_surface_get_width (surface), h = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  const guint8 *data;
  guint n = 0;

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guint32 px = *(const guint32 *) (data + y * stride + x * 4);

        n += ABS ((int) ((px >> 16) & 0xff) - r) <= 12 && ABS ((int) ((px >> 8) & 0xff) - g) <= 12
             && ABS ((int) (px & 0xff) - b) <= 12;
      }
  return n;
}

static GtkSpinButton *
find_spin (GtkWidget *w)
{
  if (GTK_IS_SPIN_BUTTON (w))
    return GTK_SPIN_BUTTON (w);
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkSpinButton *spin = find_spin (c);
      if (spin != NULL)
        return spin;
    }
  return NULL;
}

static void
keep_message (HydraMetricsView *view, const char *message, char **said)
{
  g_free (*said);
  *said = g_strdup (message);
}

/* Compared runs: each run's figures in its colour (teal, then red), the primary's no longer
 * in the heads' colours; ending the comparison brings those back. */
START_TEST (test_metrics_overlay)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  g_autoptr (HydraSeries) other = hydra_series_new ();
  g_autoptr (HydraSeries) third = hydra_series_new ();
  HydraSeries *overlay[] = { other, third };
  const char *names[] = { "famo", "uncertainty" };
  GtkWidget *view = hydra_metrics_view_new ();
  HydraMetricsView *mv = HYDRA_METRICS_VIEW (view);
  GtkWindow *window;
  cairo_surface_t *surface;
  HydraEpochPoint p;

  for (int e = 1; e <= 8; e++)
    {
      fill_epoch (&p, e);
      hydra_series_add_epoch (series, &p);
      fill_epoch (&p, e + 2);
      p.epoch = e;
      p.step = 250 * e;
      hydra_series_add_epoch (other, &p);
      if (e > 5)
        continue;
      fill_epoch (&p, e);
      p.eval.age_mae *= 1.3;
      p.eval.gender_acc *= 0.95;
      hydra_series_add_epoch (third, &p);
    }
  hydra_series_commit (series);
  hydra_series_commit (other);
  hydra_series_commit (third);
  window = show_in_window (view, 1280, 820);
  hydra_metrics_view_set_series (mv, series);
  hydra_metrics_view_set_primary_name (mv, "this run");
  hydra_metrics_view_set_overlay (mv, overlay, names, 2);
  ui_spin (0.3);
  screenshot (GTK_WIDGET (window), "metrics-overlay");
  surface = ui_grab (GTK_WIDGET (window));
  ck_assert_uint_gt (count_rgb (surface, 0x12, 0x87, 0x7c), 300);
  ck_assert_uint_gt (count_rgb (surface, 0xd0, 0x1b, 0x24), 300);
  ck_assert_uint_gt (count_rgb (surface, 0xb8, 0x85, 0x00), 200);
  ck_assert_uint_lt (count_rgb (surface, 0x1c, 0x71, 0xd8), 50);
  cairo_surface_destroy (surface);

  hydra_metrics_view_set_overlay (mv, NULL, NULL, 0);
  ui_spin (0.3);
  surface = ui_grab (GTK_WIDGET (window));
  ck_assert_uint_eq (count_rgb (surface, 0xd0, 0x1b, 0x24), 0);
  ck_assert_uint_gt (count_rgb (surface, 0x1c, 0x71, 0xd8), 300);
  cairo_surface_destroy (surface);
  gtk_window_destroy (window);
}
END_TEST

START_TEST (test_metrics_view)
{
  g_autoptr (HydraSeries) series = hydra_series_new ();
  GtkWidget *view = hydra_metrics_view_new ();
  HydraMetricsView *mv = HYDRA_METRICS_VIEW (view);
  GtkWindow *window;
  HydraEpochPoint p;

  window = show_in_window (view, 1280, 820);
  hydra_metrics_view_set_series (mv, series);
  ck_assert_ptr_eq (hydra_metrics_view_get_series (mv), series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 0);
  screenshot (GTK_WIDGET (window), "metrics-empty");

  for (int e = 1; e <= 3; e++)
    {
      fill_epoch (&p, e);
      hydra_series_add_epoch (series, &p);
    }
  hydra_series_commit (series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 3);
  screenshot (GTK_WIDGET (window), "metrics");
  set_dark (TRUE);
  screenshot (GTK_WIDGET (window), "metrics-dark");
  set_dark (FALSE);
  check_min_width (view, 420);
  gtk_window_set_default_size (window, 560, 820);
  screenshot (GTK_WIDGET (window), "metrics-narrow");
  gtk_window_set_default_size (window, 1280, 820);

  /* An older epoch stays picked while new ones arrive… */
  hydra_metrics_view_set_epoch (mv, 2);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 2);
  fill_epoch (&p, 4);
  hydra_series_add_epoch (series, &p);
  hydra_series_commit (series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 2);
  ui_spin (0.1);

  /* …and picking the latest follows again. */
  hydra_metrics_view_set_epoch (mv, 4);
  for (int e = 5; e <= 12; e++)
    {
      fill_epoch (&p, e);
      hydra_series_add_epoch (series, &p);
    }
  hydra_series_commit (series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 12);
  screenshot (GTK_WIDGET (window), "metrics-12-epochs");

  /* An epoch typed that has no pass is refused, said, and changes nothing. */
  {
    GtkSpinButton *spin = find_spin (view);
    g_autofree char *said = NULL;
    g_signal_connect (mv, "refused", G_CALLBACK (keep_message), &said);
    hydra_metrics_view_set_epoch (mv, 5);
    const char *bad[] = { "nan", "inf", "-1", "0", "13", "2.5", "1e300", "7x" };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_clear_pointer (&said, g_free);
        gtk_editable_set_text (GTK_EDITABLE (spin), bad[i]);
        gtk_spin_button_update (spin);
        ck_assert_msg (hydra_metrics_view_get_epoch (mv) == 5, "“%s” picked %d", bad[i],
                       hydra_metrics_view_get_epoch (mv));
        ck_assert_msg (said != NULL && strstr (said, "an epoch with a validation pass") != NULL,
                       "“%s”: %s", bad[i], said ? said : "nothing said");
        ck_assert (gtk_widget_has_css_class (GTK_WIDGET (spin), "error"));
      }
    gtk_editable_set_text (GTK_EDITABLE (spin), "7");
    gtk_spin_button_update (spin);
    ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 7);
    ck_assert (!gtk_widget_has_css_class (GTK_WIDGET (spin), "error"));
    g_signal_handlers_disconnect_by_func (mv, keep_message, &said);
    hydra_metrics_view_set_epoch (mv, 12);
  }

  /* A pass that produced NaN (a diverged model) leaves a gap, not a broken drawing. */
  fill_epoch (&p, 13);
  p.eval.age_mae = NAN;
  p.eval.gender_acc = NAN;
  hydra_series_add_epoch (series, &p);
  hydra_series_commit (series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 13);
  screenshot (GTK_WIDGET (window), "metrics-nan");

  /* A time budget ends the run 201 steps into epoch 14: its last pass is numbered 14 and
   * labelled 13.8, and epoch 13 can still be picked. */
  {
    HydraStepPoint s = { .step = 13 * 250 + 201, .epochs_done = 13, .batch = 200, .batches = 250 };
    char label[16];

    s.epoch = 13 + 201.0 / 250;
    hydra_series_add_step (series, &s);
    fill_epoch (&p, 14);
    p.epoch = 13;
    p.step = s.step;
    hydra_series_add_epoch (series, &p);
    hydra_series_commit (series);
    ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 14);
    hydra_epoch_point_label (hydra_series_get_epoch (series, 13), label, sizeof label);
    ck_assert_str_eq (label, "13.8");
    hydra_epoch_point_label (hydra_series_get_epoch (series, 12), label, sizeof label);
    ck_assert_str_eq (label, "13");
    hydra_metrics_view_set_epoch (mv, 13);
    ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 13);
    hydra_metrics_view_set_epoch (mv, 14);
    screenshot (GTK_WIDGET (window), "metrics-budget-end");
  }

  /* A new run empties it. */
  hydra_series_clear (series);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 0);
  ui_spin (0.1);

  /* Validated every other epoch (and at the end): + and − step over the gaps. */
  for (int e = 2; e <= 5; e += e < 4 ? 2 : 1)
    {
      fill_epoch (&p, e);
      hydra_series_add_epoch (series, &p);
    }
  hydra_series_commit (series);
  hydra_metrics_view_set_epoch (mv, 2);
  hydra_metrics_view_set_epoch (mv, 3);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 4);
  hydra_metrics_view_set_epoch (mv, 3);
  ck_assert_int_eq (hydra_metrics_view_get_epoch (mv), 2);
  hydra_series_clear (series);

  hydra_metrics_view_set_series (mv, NULL);
  gtk_window_destroy (window);
}
END_TEST

static Suite *
panes_suite (void)
{
  Suite *s = suite_create ("panes");
  TCase *loader = tcase_create ("loader");
  TCase *pane = tcase_create ("dataset-pane");
  TCase *metrics = tcase_create ("metrics-view");

  tcase_set_timeout (loader, 240);
  tcase_add_test (loader, test_format_count);
  tcase_add_test (loader, test_loader_synthetic);
  tcase_add_test (loader, test_loader_folder);
  tcase_add_test (loader, test_loader_missing_folder);
  tcase_add_test (loader, test_loader_cancel);
  tcase_add_test (loader, test_loader_supersede);
  tcase_add_test (loader, test_loader_progress);
  suite_add_tcase (s, loader);

  tcase_set_timeout (pane, 240);
  tcase_add_test (pane, test_pane_folder);
  tcase_add_test (pane, test_pane_hostile_folder);
  tcase_add_test (pane, test_pane_synthetic_and_empty);
  tcase_add_test (pane, test_pane_many_skipped);
  tcase_add_test (pane, test_pane_augment_grid);
  suite_add_tcase (s, pane);

  tcase_set_timeout (metrics, 120);
  tcase_add_test (metrics, test_metrics_view);
  tcase_add_test (metrics, test_metrics_overlay);
  suite_add_tcase (s, metrics);
  return s;
}

int
main (void)
{
  g_autoptr (GtkCssProvider) css = NULL;
  int status;

  /* The folder loads write their cache here, not into the user's cache. */
  cache_dir = g_dir_make_tmp ("hydranet-panes-cache-XXXXXX", NULL);
  if (cache_dir == NULL)
    return 1;
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);

  gtk_init ();
  /* Counts are grouped with the locale's separator, "," when it has none (as C has). */
  setlocale (LC_NUMERIC, "C");
  /* Screenshots of the final state, not of a crossfade. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/hydranet/Studio/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  status = test_run_suite (panes_suite ());
  test_rmtree (cache_dir);
  g_free (cache_dir);
  return status;
}
