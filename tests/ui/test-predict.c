/* test-predict.c — the prediction pane, fed by a real drag and drop under Xvfb.
 *
 * One model for the suite: hydranet-cli trains a small one on synthetic faces, and the test
 * re-saves it with a validation MAE in its metadata (so cards show a ±). A HydraTrainer loads
 * it; a window holding only the pane sits at the screen's top left. The drag and drop is
 * real: tests/ui/drag-source (a separate GTK process) offers a file, xdotool presses on it,
 * moves onto the pane and releases, and the photo must show what `hydranet-cli predict` says
 * for the same file and model. Also: a text file, a truncated PNG, a folder, a huge image,
 * a pasted picture, no model at all, and 40 files at once (the main loop's longest stall is
 * printed, not asserted). Screenshots go to $HYDRANET_TEST_ARTIFACTS/predict-*.png.
 */

#include <cJSON.h>
#include <gtk/gtk.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "hydra-predict-pane.h"
#include "dataset.h"
#include "hydra-trainer.h"
#include "predict-test-util.h"
#include "image.h"
#include "synth.h"
#include "test-util.h"
#include "ui-test-util.h"

#define WINDOW_TITLE "hydra-predict-test"
#define WINDOW_W 760
#define WINDOW_H 720
/* Where the drag source's window is moved, clear of the test window. */
#define SOURCE_X 1000
#define SOURCE_Y 120
#define VAL_MAE "6.8"

static char *tmpdir;
static char *faces_dir;
static char *model_path; /* the model the trainer loads and the CLI reads */
static char *cli_path;
static char *drag_source_path;
static GPtrArray *faces; /* paths of synthetic face PNGs */

/* ---- main loop helpers ---- */

typedef gboolean (*Condition) (gpointer data);

static gboolean
wait_for (Condition cond, gpointer data, double timeout_s)
{
  return ui_wait_for (cond, data, timeout_s);
}

static gboolean
subprocess_done (gpointer data)
{
  return *(gboolean *) data;
}

static void
on_subprocess_exit (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) data = TRUE;
}

/* Runs argv to its end while the main loop keeps running (the pane must answer the drag
 * protocol while xdotool moves the pointer). Returns the exit status; stdout into *out. */
static int
run (const char *const *argv, char **out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GOutputStream) sink = NULL;
  gboolean done = FALSE;

  proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  ck_assert_msg (proc != NULL, "cannot run %s: %s", argv[0], error ? error->message : "");
  /* Collected after exit: these commands print a few lines at most, well under a pipe. */
  g_subprocess_wait_async (proc, NULL, on_subprocess_exit, &done);
  ck_assert_msg (wait_for (subprocess_done, &done, 120), "%s did not finish", argv[0]);

  stream = g_object_ref (g_subprocess_get_stdout_pipe (proc));
  sink = g_memory_output_stream_new_resizable ();
  g_output_stream_splice (sink, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, NULL);
  if (out != NULL)
    {
      gsize len = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (sink));
      *out = g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (sink)), len);
    }
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
}

/* Larger outputs (hydranet-cli predict on many files): plain synchronous spawn. */
static int
run_sync (const char *const *argv, char **out)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  ck_assert_msg (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, NULL,
                               &status, &error),
                 "cannot run %s: %s", argv[0], error ? error->message : "");
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

/* ---- the model and the CLI's answers ---- */

/* The CLI's prediction for one file, parsed from its JSON line. */
static gboolean
cli_predict (const char *file, HnPrediction *p, char **error)
{
  const char *argv[] = { cli_path, "predict", "--model", model_path, file, NULL };
  g_autofree char *out = NULL;

  run_sync (argv, &out);
  cJSON *o = cJSON_Parse (out);
  ck_assert_msg (o != NULL, "hydranet-cli predict printed no JSON: %s", out);
  cJSON *err = cJSON_GetObjectItem (o, "error");
  if (err != NULL)
    {
      if (error != NULL)
        *error = g_strdup (cJSON_GetStringValue (err));
      cJSON_Delete (o);
      return FALSE;
    }
  p->age = cJSON_GetNumberValue (cJSON_GetObjectItem (o, "age"));
  p->p_female = cJSON_GetNumberValue (cJSON_GetObjectItem (o, "p_female"));
  cJSON *probs = cJSON_GetObjectItem (o, "race_probs");
  const char *race = cJSON_GetStringValue (cJSON_GetObjectItem (o, "race"));
  for (int c = 0; c < N_RACES; c++)
    {
      p->race_probs[c] = cJSON_GetNumberValue (cJSON_GetObjectItem (probs, race_names[c]));
      if (g_strcmp0 (race, race_names[c]) == 0)
        p->race = c;
    }
  cJSON_Delete (o);
  return TRUE;
}

static void
close_window (GtkWindow *window)
{
  gtk_window_destroy (window);
  ui_spin (0.1);
}

static void
add_path (HydraPredictPane *pane, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  hydra_predict_pane_add_files (pane, &file, 1);
}

/* The prediction a photo shows: its first card's. The suite's faces are synthetic, and a
 * photo in which none is found has one card, for the whole image, as the CLI has one line. */
static gboolean
photo_prediction (HydraPredictPhoto *photo, HnPrediction *out)
{
  HydraPredictItem *item = hydra_predict_photo_get_item (photo);

  if (hydra_predict_item_get_state (item) != HYDRA_PREDICT_DONE)
    return FALSE;
  ck_assert_uint_ge (hydra_predict_photo_get_n_cards (photo), 1);
  *out = *hydra_predict_face_get_prediction (
      hydra_predict_card_get_face (hydra_predict_photo_get_card (photo, 0)));
  return TRUE;
}

/* Its first card's age line, once predicted. */
static const char *
photo_age_text (HydraPredictPhoto *photo)
{
  if (hydra_predict_item_get_state (hydra_predict_photo_get_item (photo)) != HYDRA_PREDICT_DONE)
    return NULL;
  return hydra_predict_card_get_age_text (hydra_predict_photo_get_card (photo, 0));
}

/* The predicted photo 0 (the newest), after it finished. */
static HydraPredictPhoto *
newest_photo (HydraPredictPane *pane)
{
  ck_assert_msg (wait_for (predict_test_all_done, pane, 60), "the cards did not finish");
  return hydra_predict_pane_get_photo (pane, 0);
}

/* Is a label showing text (mapped, so really on screen) somewhere under widget? */
static gboolean
shows_text (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_mapped (widget)
      && strstr (gtk_label_get_label (GTK_LABEL (widget)), text) != NULL)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_text (child, text))
      return TRUE;
  return FALSE;
}

static void
screenshot (GtkWindow *window, const char *name)
{
  g_autofree char *file = g_strdup_printf ("predict-%s", name);

  ui_screenshot (GTK_WIDGET (window), file);
}

/* ---- the real drag and drop ---- */

typedef struct
{
  GSubprocess *proc;
  char *title;
  char *window_id;
} DragSource;

static gboolean
find_window (const char *title, char **id)
{
  const char *argv[] = { "xdotool", "search", "--onlyvisible", "--name", title, NULL };
  g_autofree char *out = NULL;

  if (run (argv, &out) != 0 || out == NULL || out[0] == '\0')
    return FALSE;
  *id = g_strdup (g_strstrip (out)); /* the first line; one window has this title */
  char *nl = strchr (*id, '\n');
  if (nl != NULL)
    *nl = '\0';
  return TRUE;
}

static void
drag_source_start (DragSource *source, const char *file)
{
  static int serial;
  g_autoptr (GError) error = NULL;

  source->title = g_strdup_printf ("hydra-drag-source-%d-%d", getpid (), ++serial);
  const char *argv[] = { drag_source_path, "--title", source->title, file, NULL };
  source->proc = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  ck_assert_msg (source->proc != NULL, "drag-source: %s", error ? error->message : "");

  /* Wait until it is mapped, then move it beside the test window (no window manager: both
   * open at 0,0). */
  gint64 end = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (!find_window (source->title, &source->window_id))
    {
      ck_assert_msg (g_get_monotonic_time () < end, "the drag source's window never showed");
      ui_spin (0.1);
    }
  g_autofree char *x = g_strdup_printf ("%d", SOURCE_X);
  g_autofree char *y = g_strdup_printf ("%d", SOURCE_Y);
  const char *move[] = { "xdotool", "windowmove", "--sync", source->window_id, x, y, NULL };
  ck_assert_int_eq (run (move, NULL), 0);
  ui_spin (0.3);
}

static void
drag_source_stop (DragSource *source)
{
  g_subprocess_force_exit (source->proc);
  g_subprocess_wait (source->proc, NULL, NULL);
  g_clear_object (&source->proc);
  g_clear_pointer (&source->title, g_free);
  g_clear_pointer (&source->window_id, g_free);
}

static gboolean
has_drop_hover (gpointer pane)
{
  return gtk_widget_has_css_class (GTK_WIDGET (pane), "drop-hover");
}

typedef struct
{
  HydraPredictPane *pane;
  guint n;
} CardCount;

static gboolean
has_cards (gpointer data)
{
  CardCount *c = data;
  return hydra_predict_pane_get_n_photos (c->pane) >= c->n;
}

/* Drags from the source's label to the middle of the pane and releases. The pointer goes
 * down, past the drag threshold in small steps (GtkDragSource starts the drag only after
 * seeing motion beyond it), then over the pane in steps with pauses so both processes see
 * XdndEnter/XdndPosition and answer before the release. Returns whether a photo came. */
static gboolean
drag_once (HydraPredictPane *pane, guint want_cards, gboolean *hovered)
{
  int sx = SOURCE_X + 150, sy = SOURCE_Y + 100;
  int tx = WINDOW_W / 2, ty = WINDOW_H / 2;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup ("xdotool"));
#define ADD(...) g_ptr_array_add (argv, g_strdup_printf (__VA_ARGS__))
  ADD ("mousemove");
  ADD ("--sync");
  ADD ("%d", sx);
  ADD ("%d", sy);
  ADD ("sleep");
  ADD ("0.2");
  ADD ("mousedown");
  ADD ("1");
  for (int i = 1; i <= 4; i++)
    {
      ADD ("sleep");
      ADD ("0.05");
      ADD ("mousemove");
      ADD ("%d", sx - 6 * i);
      ADD ("%d", sy + 3 * i);
    }
  for (int i = 1; i <= 10; i++)
    {
      ADD ("sleep");
      ADD ("0.05");
      ADD ("mousemove");
      ADD ("%d", sx - 24 + (tx - sx + 24) * i / 10);
      ADD ("%d", sy + 12 + (ty - sy - 12) * i / 10);
    }
  for (int i = 1; i <= 3; i++)
    {
      ADD ("sleep");
      ADD ("0.1");
      ADD ("mousemove");
      ADD ("%d", tx + 2 * i);
      ADD ("%d", ty + i);
    }
#undef ADD
  g_ptr_array_add (argv, NULL);
  ck_assert_int_eq (run ((const char *const *) argv->pdata, NULL), 0);

  /* Hovering: the pane must say it would take the drop. */
  *hovered = wait_for (has_drop_hover, pane, 3);
  if (*hovered)
    screenshot (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (pane))),
                want_cards == 1 ? "drop-hover" : "drop-hover-cards");

  const char *release[] = { "xdotool", "sleep", "0.1", "mouseup", "1", NULL };
  ck_assert_int_eq (run (release, NULL), 0);
  CardCount count = { pane, want_cards };
  return wait_for (has_cards, &count, 5);
}

/* A real drag of file onto the pane, retried if the drop did not arrive. */
static void
drag_file_onto_pane (HydraPredictPane *pane, const char *file)
{
  DragSource source = { 0 };
  guint want = hydra_predict_pane_get_n_photos (pane) + 1;
  gboolean dropped = FALSE, hovered = FALSE;

  drag_source_start (&source, file);
  for (int attempt = 1; attempt <= 3 && !dropped; attempt++)
    {
      dropped = drag_once (pane, want, &hovered);
      if (!dropped)
        {
          g_printerr ("test-predict: drop %d of %s did not arrive (hover seen: %s); retrying\n",
                      attempt, file, hovered ? "yes" : "no");
          /* a half-finished drag is cancelled by Escape */
          const char *escape[] = { "xdotool", "key", "Escape", NULL };
          run (escape, NULL);
          ui_spin (0.5);
        }
    }
  drag_source_stop (&source);
  ck_assert_msg (dropped, "the drop of %s never reached the pane", file);
  ck_assert_msg (hovered, "the pane was not highlighted while the drag hovered over it");
  ck_assert_msg (!has_drop_hover (pane), "the highlight stayed after the drop");
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), want);
}

START_TEST (test_real_drag_and_drop)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autofree char *id = NULL;
  HnPrediction got, want;
  g_autofree char *text_file = test_path (tmpdir, "notes.txt");
  static const char text[] = "This is not a face.\n";

  /* Pin the test window to the top left, where the drag ends. */
  ck_assert (find_window (WINDOW_TITLE, &id));
  const char *move[] = { "xdotool", "windowmove", "--sync", id, "0", "0", NULL };
  ck_assert_int_eq (run (move, NULL), 0);
  ui_spin (0.2);

  const char *face = g_ptr_array_index (faces, 0);
  drag_file_onto_pane (pane, face);
  HydraPredictPhoto *photo = newest_photo (pane);
  ck_assert_msg (photo_prediction (photo, &got), "the dropped face failed: %s",
                 hydra_predict_photo_get_error (photo));
  ck_assert (cli_predict (face, &want, NULL));
  predict_test_assert_same ("dropped PNG", &got, &want, 1e-4);
  g_autofree char *age = g_strdup_printf ("%ld ± %ld years", lround (want.age),
                                          lround (g_ascii_strtod (VAL_MAE, NULL)));
  ck_assert_str_eq (photo_age_text (photo), age);

  test_write_file (text_file, text, sizeof text - 1);
  drag_file_onto_pane (pane, text_file);
  photo = newest_photo (pane);
  ck_assert (!photo_prediction (photo, &got));
  ck_assert_ptr_nonnull (hydra_predict_photo_get_error (photo));
  ck_assert_msg (strstr (hydra_predict_photo_get_error (photo), "PNG") != NULL,
                 "unexpected message for a text file: %s", hydra_predict_photo_get_error (photo));
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 2);

  close_window (window);
}
END_TEST

/* ---- files that are not faces ---- */

START_TEST (test_broken_files)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autofree char *truncated = test_path (tmpdir, "truncated.png");
  g_autofree char *huge = test_path (tmpdir, "huge.png");
  g_autofree char *giant = test_path (tmpdir, "giant.jpg");
  g_autofree char *missing = test_path (tmpdir, "missing.png");
  g_autofree char *png = NULL;
  gsize len;
  HnPrediction p;

  /* The first half of a real PNG. */
  ck_assert (g_file_get_contents (g_ptr_array_index (faces, 1), &png, &len, NULL));
  test_write_file (truncated, png, len / 2);
  add_path (pane, truncated);
  HydraPredictPhoto *photo = newest_photo (pane);
  ck_assert (!photo_prediction (photo, &p));
  ck_assert_msg (strstr (hydra_predict_photo_get_error (photo), "truncated") != NULL, "message: %s",
                 hydra_predict_photo_get_error (photo));

  /* A PNG header claiming 100000 × 100000 pixels: refused before anything is allocated. */
  guint8 header[33];
  memcpy (header, png, sizeof header);
  const guint8 side[4] = { 0x00, 0x01, 0x86, 0xa0 };
  memcpy (header + 16, side, 4);
  memcpy (header + 20, side, 4);
  test_write_file (huge, header, sizeof header);
  add_path (pane, huge);
  photo = newest_photo (pane);
  ck_assert_msg (hydra_predict_photo_get_error (photo) != NULL
                     && strstr (hydra_predict_photo_get_error (photo), "100000") != NULL,
                 "message: %s", hydra_predict_photo_get_error (photo));

  /* 65 MiB (sparse): refused by size without being read. */
  FILE *f = fopen (giant, "wb");
  ck_assert (f != NULL);
  ck_assert_int_eq (ftruncate (fileno (f), 65 << 20), 0);
  fclose (f);
  add_path (pane, giant);
  photo = newest_photo (pane);
  ck_assert_msg (hydra_predict_photo_get_error (photo) != NULL
                     && strstr (hydra_predict_photo_get_error (photo), "Too large") != NULL,
                 "message: %s", hydra_predict_photo_get_error (photo));

  /* A folder, and a file that is gone. */
  add_path (pane, faces_dir);
  photo = newest_photo (pane);
  ck_assert_msg (hydra_predict_photo_get_error (photo) != NULL
                     && strstr (hydra_predict_photo_get_error (photo), "folder") != NULL,
                 "message: %s", hydra_predict_photo_get_error (photo));
  add_path (pane, missing);
  photo = newest_photo (pane);
  ck_assert_msg (hydra_predict_photo_get_error (photo) != NULL
                     && strstr (hydra_predict_photo_get_error (photo), "no longer exists") != NULL,
                 "message: %s", hydra_predict_photo_get_error (photo));

  /* The broken ones did not stop a good one. */
  add_path (pane, g_ptr_array_index (faces, 2));
  photo = newest_photo (pane);
  ck_assert (photo_prediction (photo, &p));
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 6);

  hydra_predict_pane_clear (pane);
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 0);
  close_window (window);
}
END_TEST

/* ---- before any model ---- */

START_TEST (test_no_model)
{
  g_autoptr (HydraTrainer) trainer = hydra_trainer_new ();
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  HnPrediction got, want;

  ck_assert (!hydra_trainer_get_has_model (trainer));
  ck_assert_msg (shows_text (GTK_WIDGET (pane), "No model yet"), "the pane does not say so");
  ck_assert (shows_text (GTK_WIDGET (pane), "Drop face photos here"));
  screenshot (window, "no-model");

  /* An image given now gets its thumbnail, says it waits for a model … */
  const char *face = g_ptr_array_index (faces, 3);
  add_path (pane, face);
  HydraPredictPhoto *photo = newest_photo (pane);
  ck_assert (!photo_prediction (photo, &got));
  ck_assert_msg (strstr (hydra_predict_photo_get_error (photo), "No model") != NULL, "message: %s",
                 hydra_predict_photo_get_error (photo));
  ck_assert_ptr_nonnull (hydra_predict_item_get_thumbnail (hydra_predict_photo_get_item (photo)));

  /* … and is predicted as soon as a model is loaded. */
  predict_test_load (trainer, model_path);
  ui_spin (0.1);
  photo = newest_photo (pane);
  ck_assert_msg (photo_prediction (photo, &got), "still: %s",
                 hydra_predict_photo_get_error (photo));
  ck_assert (cli_predict (face, &want, NULL));
  predict_test_assert_same ("predicted once a model came", &got, &want, 1e-4);
  ck_assert_msg (!shows_text (GTK_WIDGET (pane), "No model yet"), "the banner stayed");

  /* Predict Again: pending at once, then the same numbers (the model did not change). */
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.again", NULL);
  ck_assert (hydra_predict_photo_is_pending (hydra_predict_pane_get_photo (pane, 0)));
  photo = newest_photo (pane);
  ck_assert (photo_prediction (photo, &got));
  predict_test_assert_same ("predicted again", &got, &want, 1e-4);

  close_window (window);
}
END_TEST

/* ---- pasting ---- */

START_TEST (test_paste_texture)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  const char *face = g_ptr_array_index (faces, 4);
  g_autoptr (GError) error = NULL;
  HnPrediction got, want;

  /* A picture on the clipboard (as from an image viewer's Copy): predicted from its pixels,
   * which are the PNG's, so the numbers equal the CLI's for the file. */
  g_autoptr (GdkTexture) texture = gdk_texture_new_from_filename (face, &error);
  ck_assert_msg (texture != NULL, "%s", error ? error->message : "");
  gdk_clipboard_set_texture (gtk_widget_get_clipboard (GTK_WIDGET (pane)), texture);
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.paste", NULL);
  CardCount count = { pane, 1 };
  ck_assert (wait_for (has_cards, &count, 10));
  HydraPredictPhoto *photo = newest_photo (pane);
  ck_assert_msg (photo_prediction (photo, &got), "%s", hydra_predict_photo_get_error (photo));
  ck_assert (cli_predict (face, &want, NULL));
  predict_test_assert_same ("pasted picture", &got, &want, 1e-4);
  ck_assert_str_eq (hydra_predict_item_get_name (hydra_predict_photo_get_item (photo)),
                    "Pasted image");

  /* Files on the clipboard (as from a file manager's Copy). */
  g_autoptr (GFile) file = g_file_new_for_path (g_ptr_array_index (faces, 5));
  gdk_clipboard_set (gtk_widget_get_clipboard (GTK_WIDGET (pane)), G_TYPE_FILE, file);
  hydra_predict_pane_paste (pane);
  count.n = 2;
  ck_assert (wait_for (has_cards, &count, 10));
  photo = newest_photo (pane);
  ck_assert (photo_prediction (photo, &got));
  ck_assert (cli_predict (g_ptr_array_index (faces, 5), &want, NULL));
  predict_test_assert_same ("pasted file", &got, &want, 1e-4);

  close_window (window);
}
END_TEST

/* ---- Open Image… ---- */

static GtkWidget *
find_file_chooser (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) window = g_list_model_get_item (toplevels, i);
      if (GTK_IS_FILE_CHOOSER (window) && gtk_widget_get_mapped (GTK_WIDGET (window)))
        return GTK_WIDGET (window);
    }
  return NULL;
}

static gboolean
chooser_shown (gpointer data)
{
  return find_file_chooser () != NULL;
}

START_TEST (test_open_images)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autoptr (GFile) file = g_file_new_for_path (g_ptr_array_index (faces, 6));
  HnPrediction got, want;

  /* Without a portal here, GtkFileChooserNative shows a GtkFileChooserDialog. */
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.open", NULL);
  ck_assert_msg (wait_for (chooser_shown, NULL, 10), "no file chooser appeared");
  GtkWidget *chooser = find_file_chooser ();
  ck_assert (gtk_file_chooser_get_select_multiple (GTK_FILE_CHOOSER (chooser)));
  ck_assert (gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), file, NULL));
  ui_spin (0.5); /* the folder loads before the file can be selected */
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  CardCount count = { pane, 1 };
  ck_assert_msg (wait_for (has_cards, &count, 10), "choosing a file added no photo");
  HydraPredictPhoto *photo = newest_photo (pane);
  ck_assert (photo_prediction (photo, &got));
  ck_assert (cli_predict (g_ptr_array_index (faces, 6), &want, NULL));
  predict_test_assert_same ("opened file", &got, &want, 1e-4);
  ck_assert (find_file_chooser () == NULL);
  close_window (window);
}
END_TEST

/* ---- many at once ---- */

START_TEST (test_many_files)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;

  ck_assert_uint_ge (faces->len, 40);
  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (files, g_file_new_for_path (g_ptr_array_index (faces, i)));

  ui_stall_meter_start ();
  gint64 start = g_get_monotonic_time ();
  hydra_predict_pane_add_files (pane, (GFile **) files->pdata, files->len);
  gint64 adding = g_get_monotonic_time () - start;
  /* the cards go in a few per frame, the first few at once */
  ck_assert_uint_gt (hydra_predict_pane_get_n_photos (pane), 0);
  ck_assert_uint_lt (hydra_predict_pane_get_n_photos (pane), 40);
  ck_assert (hydra_predict_pane_get_busy (pane));
  ck_assert_msg (wait_for (predict_test_all_done, pane, 120), "40 files did not finish");
  gint64 elapsed = g_get_monotonic_time () - start;
  ui_spin (0.1); /* the last thumbnails' redraw */
  double longest_stall = ui_stall_meter_stop ();
  printf ("test-predict: 40 files predicted in %.0f ms (adding their 40 cards took %.1f ms); the "
          "main loop's longest stall was %.1f ms\n",
          elapsed / 1000.0, adding / 1000.0, longest_stall);
  fflush (stdout);
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 40);

  /* Every photo against the CLI, in one run of it: cards are newest first, and files given
   * together keep their order. */
  g_ptr_array_add (argv, cli_path);
  g_ptr_array_add (argv, "predict");
  g_ptr_array_add (argv, "--model");
  g_ptr_array_add (argv, model_path);
  for (guint i = 0; i < 40; i++)
    g_ptr_array_add (argv, g_ptr_array_index (faces, i));
  g_ptr_array_add (argv, NULL);
  ck_assert_int_eq (run_sync ((const char *const *) argv->pdata, &out), 0);
  g_auto (GStrv) lines = g_strsplit (g_strstrip (out), "\n", -1);
  ck_assert_uint_eq (g_strv_length (lines), 40);
  for (guint i = 0; i < 40; i++)
    {
      HydraPredictPhoto *photo = hydra_predict_pane_get_photo (pane, i);
      HnPrediction got, want = { 0 };
      cJSON *o = cJSON_Parse (lines[i]);
      ck_assert (o != NULL);
      want.age = cJSON_GetNumberValue (cJSON_GetObjectItem (o, "age"));
      want.p_female = cJSON_GetNumberValue (cJSON_GetObjectItem (o, "p_female"));
      for (int c = 0; c < N_RACES; c++)
        {
          want.race_probs[c] = cJSON_GetNumberValue (
              cJSON_GetObjectItem (cJSON_GetObjectItem (o, "race_probs"), race_names[c]));
          if (g_strcmp0 (cJSON_GetStringValue (cJSON_GetObjectItem (o, "race")), race_names[c])
              == 0)
            want.race = c;
        }
      cJSON_Delete (o);
      ck_assert_msg (photo_prediction (photo, &got), "photo %u: %s", i,
                     hydra_predict_photo_get_error (photo));
      predict_test_assert_same (g_ptr_array_index (faces, i), &got, &want, 1e-4);
    }

  close_window (window);
}
END_TEST

/* Clear while a batch runs: the batch is cancelled, its late results go nowhere, and the
 * pane works on. */
static gboolean
pane_idle (gpointer pane)
{
  return !hydra_predict_pane_get_busy (pane);
}

START_TEST (test_clear_while_busy)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  HnPrediction p;

  for (guint i = 0; i < 32; i++)
    g_ptr_array_add (files, g_file_new_for_path (g_ptr_array_index (faces, i)));
  hydra_predict_pane_add_files (pane, (GFile **) files->pdata, files->len);
  ui_spin (0.05);
  screenshot (window, "pending");
  ck_assert (hydra_predict_pane_get_busy (pane));
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.clear", NULL);
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 0);
  ck_assert (shows_text (GTK_WIDGET (pane), "Drop face photos here"));
  ck_assert (wait_for (pane_idle, pane, 60));
  ui_spin (0.1);
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 0);

  /* cleared before most of its cards were in: none comes in later */
  hydra_predict_pane_add_files (pane, (GFile **) files->pdata, files->len);
  ck_assert_uint_lt (hydra_predict_pane_get_n_photos (pane), files->len);
  hydra_predict_pane_clear (pane);
  ck_assert (wait_for (pane_idle, pane, 60));
  ui_spin (0.2);
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 0);

  add_path (pane, g_ptr_array_index (faces, 0));
  ck_assert (photo_prediction (newest_photo (pane), &p));
  close_window (window);
}
END_TEST

/* ---- during training ---- */

static gint64
run_step (HydraTrainer *trainer)
{
  gint64 step = 0;
  g_object_get (trainer, "step", &step, NULL);
  return step;
}

static gboolean
is_training (gpointer trainer)
{
  return hydra_trainer_get_state (trainer) == HYDRA_RUN_RUNNING && run_step (trainer) >= 2;
}

typedef struct
{
  HydraTrainer *trainer;
  gint64 step;
} StepWait;

static gboolean
stepped_past (gpointer data)
{
  StepWait *w = data;
  return run_step (w->trainer) > w->step;
}

static gboolean
not_busy (gpointer trainer)
{
  return !hydra_trainer_get_busy (trainer);
}

START_TEST (test_during_training)
{
  g_autoptr (HydraTrainer) trainer = hydra_trainer_new ();
  HnError err;
  HydraPredictPane *pane;

  HnDataset *ds = dataset_new_synthetic (640, 11, 32, 1, NULL, &err);
  ck_assert_msg (ds != NULL, "%s", err.message);
  g_autoptr (HydraDataset) data = hydra_dataset_new (ds, "Synthetic faces", NULL);
  HnTrainConfig config = train_preset_studio ();
  config.epochs = 100;
  hydra_trainer_start (trainer, &config, data);
  ck_assert_msg (wait_for (is_training, trainer, 120), "training did not start: %s",
                 hydra_trainer_get_message (trainer));
  ck_assert (hydra_trainer_get_has_model (trainer));

  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  ui_stall_meter_start ();
  gint64 start = g_get_monotonic_time ();
  for (guint i = 11; i < 19; i++)
    add_path (pane, g_ptr_array_index (faces, i));
  ck_assert_msg (wait_for (predict_test_all_done, pane, 120), "predictions during training did not finish");
  gint64 elapsed = g_get_monotonic_time () - start;
  double longest_stall = ui_stall_meter_stop ();
  printf ("test-predict: 8 files predicted during training in %.0f ms; the main loop's longest "
          "stall was %.1f ms\n",
          elapsed / 1000.0, longest_stall);
  fflush (stdout);

  for (guint i = 0; i < 8; i++)
    {
      HydraPredictPhoto *photo = hydra_predict_pane_get_photo (pane, i);
      HnPrediction p;
      float sum = 0;

      ck_assert_msg (photo_prediction (photo, &p), "photo %u: %s", i,
                     hydra_predict_photo_get_error (photo));
      ck_assert (isfinite (p.age) && p.p_female >= 0 && p.p_female <= 1);
      for (int c = 0; c < N_RACES; c++)
        sum += p.race_probs[c];
      ck_assert_msg (fabsf (sum - 1) < 1e-4, "race probabilities sum to %g", sum);
    }

  /* Training was not held up: it still runs, and takes further steps. */
  ck_assert_int_eq (hydra_trainer_get_state (trainer), HYDRA_RUN_RUNNING);
  StepWait w = { trainer, run_step (trainer) };
  ck_assert_msg (wait_for (stepped_past, &w, 30), "training stopped stepping");

  hydra_trainer_stop (trainer);
  ck_assert (wait_for (not_busy, trainer, 60));
  close_window (window);
}
END_TEST

/* ---- test-time flips ---- */

/* What the engine predicts for path, with or without the flip: model_infer on the input
 * `hydranet-cli predict --tta flip` gives it. */
static void
engine_predict (const char *path, gboolean flip, HnPrediction *out)
{
  HnCheckpointInfo info;
  HnError err;
  HnModel *model = checkpoint_load (model_path, &info, &err);
  ck_assert_msg (model != NULL, "%s", err.message);
  const int size = info.input_size;
  g_autofree float *x = g_new (float, 3 * size * size);
  g_autofree float *mirrored = g_new (float, 3 * size * size);
  float age, gender, race[N_RACES];

  ck_assert_msg (image_load_input (path, size, x, &err), "%s", err.message);
  ck_assert_msg (model_plan (model, 1, size, &err), "%s", err.message);
  model_infer (model, x, 1, flip, flip ? mirrored : NULL, &age, &gender, race);
  model_prediction_of (&age, &gender, race, 1, 0, out);
  model_free (model);
}

static GtkWidget *
flip_toggle (GtkWidget *widget)
{
  if (GTK_IS_TOGGLE_BUTTON (widget)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), "predict.flip") == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = flip_toggle (child);
      if (found != NULL)
        return found;
    }
  return NULL;
}

START_TEST (test_flip_average)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  const char *face = g_ptr_array_index (faces, 20);
  GtkWidget *toggle = flip_toggle (GTK_WIDGET (pane));
  HnPrediction off, on, want_off, want_on;

  ck_assert_msg (toggle != NULL, "no flip toggle in the pane's header");
  ck_assert (!hydra_predict_pane_get_flip (pane));
  /* the whole image, as engine_predict has it: the detector finds a face in some of the
   * synthetic ones */
  hydra_predict_pane_set_find_faces (pane, FALSE);
  add_path (pane, face);
  ck_assert (photo_prediction (newest_photo (pane), &off));
  engine_predict (face, FALSE, &want_off);
  predict_test_assert_same ("flip off", &off, &want_off, 1e-4);

  /* the header's toggle: the photo is predicted again, averaged with its mirror */
  g_signal_emit_by_name (toggle, "clicked"); /* as a click does */
  ck_assert (hydra_predict_pane_get_flip (pane));
  ck_assert (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  ck_assert (hydra_predict_photo_is_pending (hydra_predict_pane_get_photo (pane, 0)));
  ck_assert (photo_prediction (newest_photo (pane), &on));
  ck_assert_uint_eq (hydra_predict_pane_get_n_photos (pane), 1);
  engine_predict (face, TRUE, &want_on);
  predict_test_assert_same ("flip on", &on, &want_on, 1e-4);
  ck_assert_msg (fabs (on.age - off.age) > 1e-3 || fabs (on.p_female - off.p_female) > 1e-4,
                 "the flip changed nothing: age %.4f, p_female %.5f both ways", on.age,
                 on.p_female);
  ui_spin (0.2);
  screenshot (window, "flip");

  /* off again: the photo comes back to the plain prediction */
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.flip", NULL);
  ck_assert (!gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (toggle)));
  ck_assert (photo_prediction (newest_photo (pane), &off));
  predict_test_assert_same ("flip off again", &off, &want_off, 1e-4);
  close_window (window);
}
END_TEST

/* ---- how it looks ---- */

START_TEST (test_screenshots)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, WINDOW_TITLE, WINDOW_W, WINDOW_H);
  g_autofree char *broken = test_path (tmpdir, "holiday-notes.txt");
  static const char text[] = "not an image";
  g_autofree char *tall = test_data_path ("golden/image-45x123.png");
  g_autofree char *wide = test_data_path ("golden/image-101x77.png");

  screenshot (window, "empty");
  test_write_file (broken, text, sizeof text - 1);
  add_path (pane, broken);
  add_path (pane, tall);
  add_path (pane, wide);
  for (guint i = 6; i < 10; i++)
    add_path (pane, g_ptr_array_index (faces, i));
  ck_assert (wait_for (predict_test_all_done, pane, 60));
  /* Odd shapes too: thumbnails keep their aspect, predictions see the centre square. */
  for (guint i = 4; i < 6; i++)
    ck_assert_msg (photo_age_text (hydra_predict_pane_get_photo (pane, i)) != NULL, "photo %u: %s",
                   i, hydra_predict_photo_get_error (hydra_predict_pane_get_photo (pane, i)));
  ui_spin (0.3);
  screenshot (window, "cards");

  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", TRUE, NULL);
  ui_spin (0.3);
  screenshot (window, "cards-dark");
  g_object_set (gtk_settings_get_default (), "gtk-application-prefer-dark-theme", FALSE, NULL);

  gtk_window_set_default_size (window, 380, WINDOW_H);
  ui_spin (0.3);
  screenshot (window, "cards-narrow");
  close_window (window);
}
END_TEST

/* ---- the suite's model and faces ---- */

/* Next to this test binary in the build tree, unless the environment says otherwise. */
static char *
find_program (const char *env, const char *relative)
{
  const char *override = g_getenv (env);
  if (override != NULL)
    return g_strdup (override);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  ck_assert (self != NULL);
  g_autofree char *dir = g_path_get_dirname (self);
  char *path = g_build_filename (dir, relative, NULL);
  char *canonical = g_canonicalize_filename (path, NULL);
  g_free (path);
  return canonical;
}

/* g_ptr_array_sort passes pointers to the elements. */
static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
suite_setup (void)
{
  HnError err;

  cli_path = find_program ("HYDRANET_CLI", "../../app/hydranet-cli");
  drag_source_path = find_program ("HYDRANET_DRAG_SOURCE", "drag-source");
  ck_assert_msg (g_file_test (cli_path, G_FILE_TEST_IS_EXECUTABLE), "no %s", cli_path);
  ck_assert_msg (g_file_test (drag_source_path, G_FILE_TEST_IS_EXECUTABLE), "no %s",
                 drag_source_path);
  g_autofree char *xdotool = g_find_program_in_path ("xdotool");
  ck_assert_msg (xdotool != NULL, "xdotool is needed for the drag and drop");

  /* Faces at 128 px, as UTKFace-like PNG files. */
  faces_dir = test_path (tmpdir, "faces");
  ck_assert_msg (synth_write_folder (faces_dir, 48, 7, 128, SYNTH_PNG, 1, NULL, &err), "%s",
                 err.message);
  faces = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = g_dir_open (faces_dir, 0, NULL);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    g_ptr_array_add (faces, g_build_filename (faces_dir, name, NULL));
  g_ptr_array_sort (faces, compare_paths);

  /* A briefly trained model, so predictions differ from face to face; re-saved with a
   * validation MAE in its metadata, which the trainer shows as the ±. */
  g_autofree char *trained = test_path (tmpdir, "trained.safetensors");
  const char *train[] = { cli_path, "train", "--synthetic", "600",   "--epochs", "2",
                          "--seed", "3",     "--out",       trained, NULL };
  gint64 start = g_get_monotonic_time ();
  ck_assert_msg (run_sync (train, NULL) == 0, "hydranet-cli train failed");
  printf ("test-predict: trained the suite's model in %.1f s\n",
          (g_get_monotonic_time () - start) / 1e6);
  HnCheckpointInfo info;
  HnModel *model = checkpoint_load (trained, &info, &err);
  ck_assert_msg (model != NULL, "%s", err.message);
  model_path = test_path (tmpdir, "model.safetensors");
  const StMeta meta[] = { { "val.age_mae", VAL_MAE } };
  ck_assert_msg (checkpoint_save (model, info.input_size, model_path, meta, 1, &err), "%s",
                 err.message);
  model_free (model);
}

static void
suite_teardown (void)
{
  test_rmtree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
  g_clear_pointer (&faces, g_ptr_array_unref);
}

int
main (void)
{
  /* Before GLib caches them: training runs keep their checkpoints under $XDG_DATA_HOME, and
   * the file chooser its recent files. */
  tmpdir = g_dir_make_tmp ("hydranet-predict-XXXXXX", NULL);
  g_assert (tmpdir != NULL);
  g_autofree char *data_home = g_build_filename (tmpdir, "data", NULL);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_set_prgname ("test-ui-predict");
  g_set_application_name ("HydraNet Studio tests");
  gtk_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  /* The studio's style sheet, as HydraApplication loads it from its resource base path. */
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/hydranet/Studio/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  Suite *s = suite_create ("predict");
  TCase *tc = tcase_create ("pane");
  tcase_set_timeout (tc, 280);
  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_test (tc, test_no_model);
  tcase_add_test (tc, test_real_drag_and_drop);
  tcase_add_test (tc, test_broken_files);
  tcase_add_test (tc, test_paste_texture);
  tcase_add_test (tc, test_open_images);
  tcase_add_test (tc, test_many_files);
  tcase_add_test (tc, test_clear_while_busy);
  tcase_add_test (tc, test_during_training);
  tcase_add_test (tc, test_flip_average);
  tcase_add_test (tc, test_screenshots);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
