/* predict-test-util.h — what the prediction pane's suites (predict, predict-faces) share: a
 * trainer holding a model, a window around the pane, waiting for its photos, and comparing
 * predictions. */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predict-pane.h"
#include "hydra-trainer.h"
#include "model.h"

/* For ui_wait_for: the gboolean data points at. */
gboolean predict_test_flag_set (gpointer data);

/* Loads the model at path into trainer, waiting for it (fails the test otherwise). */
void predict_test_load (HydraTrainer *trainer, const char *path);

/* A new trainer with the model at path loaded. */
HydraTrainer *predict_test_trainer (const char *path);

/* A window of w × h titled title around a new pane predicting with trainer, mapped. */
GtkWindow *predict_test_window (HydraPredictPane **pane, HydraTrainer *trainer, const char *title,
                                int w, int h);

/* For ui_wait_for: the pane (data) has photos and none of them is pending any more. */
gboolean predict_test_all_done (gpointer data);

/* Fails unless got's age is within 1e-4 of want's and each probability within prob_tol. */
void predict_test_assert_same (const char *what, const HnPrediction *got, const HnPrediction *want,
                               double prob_tol);
