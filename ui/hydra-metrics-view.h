/* hydra-metrics-view.h — the validation metrics of a run, per epoch.
 *
 * Three small multiples (age MAE in years, gender accuracy, race accuracy; chance drawn as a
 * faint line) above the race confusion matrix of one epoch — the latest unless the user
 * picks another. Reads a HydraSeries and redraws when it changes.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-series.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_METRICS_VIEW (hydra_metrics_view_get_type ())
G_DECLARE_FINAL_TYPE (HydraMetricsView, hydra_metrics_view, HYDRA, METRICS_VIEW, GtkWidget)

GtkWidget *hydra_metrics_view_new (void);

/* Property "series". NULL shows the empty state. */
void hydra_metrics_view_set_series (HydraMetricsView *self, HydraSeries *series);
HydraSeries *hydra_metrics_view_get_series (HydraMetricsView *self);

/* The epoch (1-based, hydra_epoch_point_number) whose matrix and values are shown, or 0
 * when there is none yet. Setting it stops the view from following new epochs until the
 * latest is picked again. Property "epoch". */
int hydra_metrics_view_get_epoch (HydraMetricsView *self);
void hydra_metrics_view_set_epoch (HydraMetricsView *self, int epoch);

G_END_DECLS
