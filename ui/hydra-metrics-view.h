/* hydra-metrics-view.h — the validation metrics of a run, per epoch.
 *
 * Three small multiples (age MAE in years, gender accuracy, race accuracy; chance drawn as a
 * faint line) above the race confusion matrix of one epoch — the latest unless the user
 * picks another. Reads a HydraSeries and redraws when it changes. Signal "refused"
 * (message): an epoch typed that the picker does not take, which it keeps unchanged.
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

/* Comparison: other runs' validation figures drawn with the series', each run in its colour
 * (hydra_chart_run_colors: the series' is the first, as in the loss plot's overlay), their
 * names along the top of the first chart. The confusion matrix, the values and the tooltips
 * stay the series'. Up to 7; n = 0 ends it. */
void hydra_metrics_view_set_overlay (HydraMetricsView *self, HydraSeries *const *series,
                                     const char *const *names, guint n);
void hydra_metrics_view_set_primary_name (HydraMetricsView *self, const char *name);

/* The epoch (1-based, hydra_epoch_point_number) whose matrix and values are shown, or 0
 * when there is none yet. Setting it stops the view from following new epochs until the
 * latest is picked again. Property "epoch". */
int hydra_metrics_view_get_epoch (HydraMetricsView *self);
void hydra_metrics_view_set_epoch (HydraMetricsView *self, int epoch);

G_END_DECLS
