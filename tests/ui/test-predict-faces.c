/* test-predict-faces.c — the prediction pane's faces: photos, boxes and one card per face.
 *
 * There are no real faces here, so what is tested needs none: a photo in which no face is
 * found gets one card, marked as the whole image, whose prediction is the whole-image path's
 * (image_load_input, as before faces were looked for); with find-faces off, the same, marked
 * as not searched; a photo predicted again keeps its cards, dimmed, until the new ones come.
 * Faces are then given to an item as the predictor would (hydra_predict_item_set_result), and
 * picking a card highlights its box, picking a box its card. A face finder that cannot be
 * made (no landmark model) leaves whole images, said once. The model is a freshly
 * initialised one: the numbers only have to agree. Screenshots go to
 * $HYDRANET_TEST_ARTIFACTS/predict-faces-*.png.
 */

#include <gtk/gtk.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"
#include "hydra-predict-pane.h"
#include "hydra-trainer.h"
#include "predict-test-util.h"
#include "image.h"
#include "test-util.h"
#include "ui-test-util.h"

#define INPUT_SIZE 32

static char *tmpdir;
static char *model_path;
static char *no_face_path; /* gradients and noise: nothing a face detector takes for a face */

/* ---- the model and the engine's answer ---- */

/* What the whole-image path predicts for path: centre crop, resize, normalise, infer. */
static void
engine_predict (const char *path, HnPrediction *out)
{
  HnCheckpointInfo info;
  HnError err;
  HnModel *model = checkpoint_load (model_path, &info, &err);
  ck_assert_msg (model != NULL, "%s", err.message);
  g_autofree float *x = g_new (float, 3 * info.input_size * info.input_size);
  float age, gender, race[N_RACES];

  ck_assert_msg (image_load_input (path, info.input_size, x, &err), "%s", err.message);
  ck_assert_msg (model_plan (model, 1, info.input_size, &err), "%s", err.message);
  model_infer (model, x, 1, FALSE, NULL, &age, &gender, race);
  model_prediction_of (&age, &gender, race, 1, 0, out);
  model_free (model);
}

/* ---- the window ---- */

/* Adds path and waits until its photo is predicted. */
static HydraPredictPhoto *
add_and_predict (HydraPredictPane *pane, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);

  hydra_predict_pane_add_files (pane, &file, 1);
  ck_assert_msg (ui_wait_for (predict_test_all_done, pane, 60), "the photo was not predicted");
  HydraPredictPhoto *photo = hydra_predict_pane_get_photo (pane, 0);
  ck_assert_msg (hydra_predict_item_get_state (hydra_predict_photo_get_item (photo))
                     == HYDRA_PREDICT_DONE,
                 "failed: %s", hydra_predict_photo_get_error (photo));
  return photo;
}

static HydraPredictFace *
card_face (HydraPredictPhoto *photo, guint i)
{
  return hydra_predict_card_get_face (hydra_predict_photo_get_card (photo, i));
}

/* ---- no face found ---- */

START_TEST (test_no_face_whole)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, "hydra-predict-faces-test", 420, 760);
  HnPrediction want;

  ck_assert (hydra_predict_pane_get_find_faces (pane)); /* as the setting's default */
  HydraPredictPhoto *photo = add_and_predict (pane, no_face_path);

  /* one card, for the whole image, saying no face was found */
  ck_assert_uint_eq (hydra_predict_photo_get_n_cards (photo), 1);
  HydraPredictFace *face = card_face (photo, 0);
  ck_assert (hydra_predict_face_is_whole (face));
  ck_assert (hydra_predict_face_get_none_found (face));
  ck_assert_msg (strstr (hydra_predict_card_get_title (hydra_predict_photo_get_card (photo, 0)),
                         "No face found")
                     != NULL,
                 "title: %s",
                 hydra_predict_card_get_title (hydra_predict_photo_get_card (photo, 0)));
  ck_assert_uint_eq (hydra_photo_view_get_n_boxes (hydra_predict_photo_get_view (photo)), 0);
  ck_assert_ptr_nonnull (hydra_predict_face_get_chip (face));

  /* the prediction is the whole-image path's */
  engine_predict (no_face_path, &want);
  predict_test_assert_same ("no face found", hydra_predict_face_get_prediction (face), &want, 1e-5);

  /* the photo shows the image upright, at most HYDRA_THUMBNAIL_SIZE */
  int w, h;
  ck_assert (hydra_predict_item_get_image_size (hydra_predict_photo_get_item (photo), &w, &h));
  ck_assert_int_eq (w, 320);
  ck_assert_int_eq (h, 200);
  GdkTexture *thumbnail = hydra_predict_item_get_thumbnail (hydra_predict_photo_get_item (photo));
  ck_assert_int_eq (gdk_texture_get_width (thumbnail), HYDRA_THUMBNAIL_SIZE);
  ui_spin (0.2);
  ui_screenshot (GTK_WIDGET (window), "predict-faces-none-found");

  gtk_window_destroy (window);
}
END_TEST

/* ---- find-faces off ---- */

START_TEST (test_find_faces_off)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, "hydra-predict-faces-test", 420, 760);
  HnPrediction want;

  HydraPredictPhoto *photo = add_and_predict (pane, no_face_path);
  ck_assert (hydra_predict_face_get_none_found (card_face (photo, 0)));

  /* the action turns it off and predicts the photo again; its card stays, dimmed, meanwhile */
  gtk_widget_activate_action (GTK_WIDGET (pane), "predict.find-faces", NULL);
  ck_assert (!hydra_predict_pane_get_find_faces (pane));
  ck_assert (hydra_predict_photo_is_pending (photo));
  ck_assert_uint_eq (hydra_predict_photo_get_n_cards (photo), 1);
  ck_assert (gtk_widget_has_css_class (GTK_WIDGET (photo), "pending"));
  ck_assert (ui_wait_for (predict_test_all_done, pane, 60));
  ck_assert (!gtk_widget_has_css_class (GTK_WIDGET (photo), "pending"));

  /* the whole image, not searched */
  ck_assert_uint_eq (hydra_predict_photo_get_n_cards (photo), 1);
  HydraPredictFace *face = card_face (photo, 0);
  ck_assert (hydra_predict_face_is_whole (face));
  ck_assert (!hydra_predict_face_get_none_found (face));
  ck_assert_str_eq (hydra_predict_card_get_title (hydra_predict_photo_get_card (photo, 0)),
                    "Whole image");
  engine_predict (no_face_path, &want);
  predict_test_assert_same ("find-faces off", hydra_predict_face_get_prediction (face), &want, 1e-5);

  /* and on again */
  hydra_predict_pane_set_find_faces (pane, TRUE);
  ck_assert (ui_wait_for (predict_test_all_done, pane, 60));
  ck_assert (hydra_predict_face_get_none_found (card_face (photo, 0)));

  gtk_window_destroy (window);
}
END_TEST

/* ---- picking a face ---- */

static GdkTexture *
plain_chip (guint8 r, guint8 g, guint8 b)
{
  const int side = 16;
  g_autofree guint8 *rgb = g_new (guint8, side * side * 3);

  for (int i = 0; i < side * side; i++)
    {
      rgb[3 * i] = r;
      rgb[3 * i + 1] = g;
      rgb[3 * i + 2] = b;
    }
  g_autoptr (GBytes) bytes = g_bytes_new (rgb, side * side * 3);
  return gdk_memory_texture_new (side, side, GDK_MEMORY_R8G8B8, bytes, side * 3);
}

/* The faces an item would have if three were found in the 320 × 200 gradient. */
static void
give_three_faces (HydraPredictItem *item)
{
  const GdkRectangle boxes[3] = { { 20, 40, 60, 70 }, { 130, 30, 80, 90 }, { 250, 90, 50, 60 } };
  HydraPredictFace *faces[3];

  for (int i = 0; i < 3; i++)
    {
      HnPrediction p = { .age = 20 + 15 * i, .p_female = 0.3f * i, .race = i };
      g_autoptr (GdkTexture) chip = plain_chip (80 * i, 120, 200 - 60 * i);

      for (int c = 0; c < N_RACES; c++)
        p.race_probs[c] = c == i ? 0.6f : 0.1f;
      faces[i] = hydra_predict_face_new (&boxes[i], chip, &p);
    }
  hydra_predict_item_set_result (item, 320, 200, faces, 3, 5.5);
  for (int i = 0; i < 3; i++)
    g_object_unref (faces[i]);
}

static void
assert_highlight (HydraPredictPhoto *photo, int index)
{
  ck_assert_int_eq (hydra_predict_photo_get_highlight (photo), index);
  ck_assert_int_eq (hydra_photo_view_get_highlight (hydra_predict_photo_get_view (photo)), index);
  for (guint i = 0; i < hydra_predict_photo_get_n_cards (photo); i++)
    {
      HydraPredictCard *card = hydra_predict_photo_get_card (photo, i);
      gboolean want = (int) i == index;
      ck_assert_msg (hydra_predict_card_get_highlighted (card) == want
                         && gtk_widget_has_css_class (GTK_WIDGET (card), "highlighted") == want,
                     "card %u is%s highlighted, face %d was picked", i,
                     hydra_predict_card_get_highlighted (card) ? "" : " not", index);
    }
}

START_TEST (test_highlight_sync)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  HydraPredictPane *pane;
  GtkWindow *window = predict_test_window (&pane, trainer, "hydra-predict-faces-test", 420, 760);

  HydraPredictPhoto *photo = add_and_predict (pane, no_face_path);
  HydraPhotoView *view = hydra_predict_photo_get_view (photo);
  give_three_faces (hydra_predict_photo_get_item (photo));
  ck_assert_uint_eq (hydra_predict_photo_get_n_cards (photo), 3);
  ck_assert_uint_eq (hydra_photo_view_get_n_boxes (view), 3);
  ck_assert_str_eq (hydra_predict_card_get_title (hydra_predict_photo_get_card (photo, 1)),
                    "Face 2");
  ck_assert_str_eq (hydra_predict_card_get_age_text (hydra_predict_photo_get_card (photo, 1)),
                    "35 ± 6 years");
  assert_highlight (photo, -1);

  /* a card picked (a click, Enter or Space activates it): its box too */
  gtk_widget_activate (GTK_WIDGET (hydra_predict_photo_get_card (photo, 1)));
  assert_highlight (photo, 1);
  ui_spin (0.2);
  ui_screenshot (GTK_WIDGET (window), "predict-faces-highlight");

  /* a box picked: its card too */
  g_signal_emit_by_name (view, "face-activated", 2);
  assert_highlight (photo, 2);
  /* the same card again: nothing picked */
  gtk_widget_activate (GTK_WIDGET (hydra_predict_photo_get_card (photo, 2)));
  assert_highlight (photo, -1);

  /* where a click lands: the photo is drawn at its thumbnail's 240 px for 320 px */
  double scale = (double) gtk_widget_get_width (GTK_WIDGET (view)) / 320;
  ck_assert_int_eq (gtk_widget_get_width (GTK_WIDGET (view)), HYDRA_THUMBNAIL_SIZE);
  ck_assert_int_eq (hydra_photo_view_face_at (view, (130 + 40) * scale, (30 + 45) * scale), 1);
  ck_assert_int_eq (hydra_photo_view_face_at (view, (20 + 30) * scale, (40 + 35) * scale), 0);
  ck_assert_int_eq (hydra_photo_view_face_at (view, 110 * scale, 180 * scale), -1);
  g_signal_emit_by_name (view, "face-activated", -1);
  assert_highlight (photo, -1);

  /* predicted again with fewer faces: the cards follow, the highlight goes */
  g_signal_emit_by_name (view, "face-activated", 2);
  hydra_predict_pane_predict_again (pane);
  ck_assert (ui_wait_for (predict_test_all_done, pane, 60));
  ck_assert_uint_eq (hydra_predict_photo_get_n_cards (photo), 1);
  ck_assert_uint_eq (hydra_photo_view_get_n_boxes (view), 0);
  assert_highlight (photo, -1);
  /* the whole image has no box to point at */
  gtk_widget_activate (GTK_WIDGET (hydra_predict_photo_get_card (photo, 0)));
  assert_highlight (photo, -1);

  gtk_window_destroy (window);
}
END_TEST

/* ---- no face finder ---- */

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(int *) data)++;
}

static gboolean
predictor_idle (gpointer predictor)
{
  return !hydra_predictor_get_busy (predictor);
}

/* Its one face, after the predictor is done with it. */
static HydraPredictFace *
predict_alone (HydraPredictor *predictor, HydraPredictItem *item)
{
  hydra_predictor_queue (predictor, &item, 1);
  ck_assert (ui_wait_for (predictor_idle, predictor, 60));
  ck_assert_int_eq (hydra_predict_item_get_state (item), HYDRA_PREDICT_DONE);
  GListModel *faces = hydra_predict_item_get_faces (item);
  ck_assert_uint_eq (g_list_model_get_n_items (faces), 1);
  HydraPredictFace *face = g_list_model_get_item (faces, 0);
  g_object_unref (face); /* the item holds it */
  return face;
}

START_TEST (test_finder_error)
{
  g_autoptr (HydraTrainer) trainer = predict_test_trainer (model_path);
  g_autoptr (HydraPredictor) predictor = hydra_predictor_new ();
  g_autofree char *missing = test_path (tmpdir, "no-landmarks.dat");
  g_autoptr (GFile) file = g_file_new_for_path (no_face_path);
  g_autoptr (HydraPredictItem) item = hydra_predict_item_new_for_file (file);
  int notified = 0;
  HnPrediction want;

  hydra_predictor_set_trainer (predictor, trainer);
  hydra_predictor_set_landmarks_path (predictor, missing);
  g_signal_connect (predictor, "notify::finder-error", G_CALLBACK (count_notify), &notified);
  ck_assert (hydra_predictor_get_find_faces (predictor));

  /* the finder cannot be made: the image is predicted whole, not searched, and the
   * predictor says why */
  HydraPredictFace *face = predict_alone (predictor, item);
  ck_assert (hydra_predict_face_is_whole (face));
  ck_assert (!hydra_predict_face_get_none_found (face));
  engine_predict (no_face_path, &want);
  predict_test_assert_same ("without a finder", hydra_predict_face_get_prediction (face), &want, 1e-5);
  ck_assert_int_eq (notified, 1);
  ck_assert_msg (hydra_predictor_get_finder_error (predictor) != NULL
                     && strstr (hydra_predictor_get_finder_error (predictor), "no-landmarks.dat")
                            != NULL,
                 "finder-error: %s", hydra_predictor_get_finder_error (predictor));

  /* said once: predicting again does not try again */
  face = predict_alone (predictor, item);
  ck_assert (hydra_predict_face_is_whole (face));
  ck_assert_int_eq (notified, 1);
}
END_TEST

/* ---- the suite ---- */

static void
suite_setup (void)
{
  HnError err;

  /* a fresh model: its numbers are as good as any for comparing two paths */
  HnModel *model = model_new (BACKBONE_RESNET18, 11);
  ck_assert (model != NULL);
  model_path = test_path (tmpdir, "model.safetensors");
  ck_assert_msg (checkpoint_save (model, INPUT_SIZE, model_path, NULL, 0, &err), "%s", err.message);
  model_free (model);

  /* 320 × 200: gradients, and noise in blue */
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 320, 200);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 320; x++)
      {
        guint8 *p = pixels + y * stride + 3 * x;
        guint32 h = (guint32) (x * 73856093u) ^ (guint32) (y * 19349663u);
        p[0] = x * 255 / 319;
        p[1] = y * 255 / 199;
        p[2] = (h >> 8) & 0xff; /* fine detail, so that any other preprocessing shows */
      }
  no_face_path = test_path (tmpdir, "gradient.png");
  ck_assert (gdk_pixbuf_save (pixbuf, no_face_path, "png", NULL, NULL));
}

static void
suite_teardown (void)
{
  test_rmtree (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

int
main (void)
{
  tmpdir = g_dir_make_tmp ("hydranet-predict-faces-XXXXXX", NULL);
  g_assert (tmpdir != NULL);
  g_set_prgname ("test-ui-predict-faces");
  gtk_init ();
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);
  g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
  gtk_css_provider_load_from_resource (css, "/org/hydranet/Studio/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  Suite *s = suite_create ("predict-faces");
  TCase *tc = tcase_create ("faces");
  tcase_set_timeout (tc, 280);
  tcase_add_unchecked_fixture (tc, suite_setup, suite_teardown);
  tcase_add_test (tc, test_no_face_whole);
  tcase_add_test (tc, test_find_faces_off);
  tcase_add_test (tc, test_highlight_sync);
  tcase_add_test (tc, test_finder_error);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
