/* hydra-window.h — the studio's main window: controls, plots, data set and prediction. */
#pragma once

#include <gtk/gtk.h>

#include "hydra-application.h"
#include "hydra-dataset.h"
#include "hydra-loss-plot.h"
#include "hydra-predict-pane.h"
#include "hydra-runs-view.h"
#include "hydra-trainer.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_WINDOW (hydra_window_get_type ())
G_DECLARE_FINAL_TYPE (HydraWindow, hydra_window, HYDRA, WINDOW, GtkApplicationWindow)

HydraWindow *hydra_window_new (HydraApplication *app);

/* Folders open as data sets, .safetensors files as models, anything else is predicted. */
void hydra_window_open_files (HydraWindow *self, GFile **files, int n_files);

/* For tests and the application. */
HydraTrainer *hydra_window_get_trainer (HydraWindow *self);
HydraDataset *hydra_window_get_dataset (HydraWindow *self); /* NULL while none is loaded */
HydraLossPlot *hydra_window_get_loss_plot (HydraWindow *self);
HydraPredictPane *hydra_window_get_predict_pane (HydraWindow *self);
/* The comparison bar's text ("Comparing this session with 2 runs: …"), or NULL when no runs
 * are compared (win.compare-runs, win.clear-comparison). */
const char *hydra_window_get_comparison_text (HydraWindow *self);
HydraRunsView *hydra_window_get_runs_view (HydraWindow *self);
/* The text of the message banner, or NULL when it is hidden. */
const char *hydra_window_get_banner_text (HydraWindow *self);

G_END_DECLS
