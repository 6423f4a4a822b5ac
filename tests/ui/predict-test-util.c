/* predict-test-util.c — what the prediction pane's suites share. */
#include "predict-test-util.h"

#include <math.h>

#include "labels.h"
#include "test-util.h"
#include "ui-test-util.h"

gboolean
predict_test_flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
on_loaded (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;

  ck_assert_msg (hydra_trainer_load_finish (HYDRA_TRAINER (source), result, &error),
                 "loading the model: %s", error ? error->message : "");
  *(gboolean *) data = TRUE;
}

void
predict_test_load (HydraTrainer *trainer, const char *path)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  gboolean done = FALSE;

  hydra_trainer_load_async (trainer, file, NULL, on_loaded, &done);
  ck_assert (ui_wait_for (predict_test_flag_set, &done, 60));
  ck_assert (hydra_trainer_get_has_model (trainer));
}

HydraTrainer *
predict_test_trainer (const char *path)
{
  HydraTrainer *trainer = hydra_trainer_new ();
  predict_test_load (trainer, path);
  return trainer;
}

GtkWindow *
predict_test_window (HydraPredictPane **pane, HydraTrainer *trainer, const char *title, int w,
                     int h)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());

  *pane = HYDRA_PREDICT_PANE (hydra_predict_pane_new ());
  hydra_predict_pane_set_trainer (*pane, trainer);
  gtk_window_set_title (window, title);
  gtk_window_set_default_size (window, w, h);
  gtk_window_set_child (window, GTK_WIDGET (*pane));
  gtk_window_present (window);
  ck_assert (ui_wait_for ((gboolean (*) (gpointer)) gtk_widget_get_mapped, *pane, 10));
  ui_spin (0.2);
  return window;
}

gboolean
predict_test_all_done (gpointer data)
{
  HydraPredictPane *pane = data;

  for (guint i = 0; i < hydra_predict_pane_get_n_photos (pane); i++)
    if (hydra_predict_photo_is_pending (hydra_predict_pane_get_photo (pane, i)))
      return FALSE;
  return hydra_predict_pane_get_n_photos (pane) > 0 && !hydra_predict_pane_get_busy (pane);
}

void
predict_test_assert_same (const char *what, const HnPrediction *got, const HnPrediction *want,
                          double prob_tol)
{
  ck_assert_msg (fabs (got->age - want->age) <= 1e-4, "%s: age %.6f, want %.6f", what, got->age,
                 want->age);
  ck_assert_msg (fabs (got->p_female - want->p_female) <= prob_tol, "%s: p_female %.6f, want %.6f",
                 what, got->p_female, want->p_female);
  for (int c = 0; c < N_RACES; c++)
    ck_assert_msg (fabs (got->race_probs[c] - want->race_probs[c]) <= prob_tol,
                   "%s: P(%s) %.6f, want %.6f", what, race_names[c], got->race_probs[c],
                   want->race_probs[c]);
  ck_assert_int_eq (got->race, want->race);
}
