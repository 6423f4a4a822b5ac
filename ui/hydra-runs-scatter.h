/* hydra-runs-scatter.h — the trade-off between the heads across runs, one dot per run.
 *
 * x: the final validation's age MAE (lower is better), y: its race accuracy. Each balancing
 * method has its colour (a legend names those shown); runs weighed by hand (manual) with the
 * weights they started with are their own series (a run whose weights, method or age loss
 * changed live is a faint dot of its own), with their Pareto frontier — the runs no other manual run beats on both
 * figures — drawn as a step line, so a method's dot above and left of it beats every static
 * choice of weights tried. Hovering names a run and its figures; clicking a dot emits
 * "run-activated". Reads HydraRunRow items from a list model and redraws when it changes.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-run-row.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_RUNS_SCATTER (hydra_runs_scatter_get_type ())
G_DECLARE_FINAL_TYPE (HydraRunsScatter, hydra_runs_scatter, HYDRA, RUNS_SCATTER, GtkWidget)

GtkWidget *hydra_runs_scatter_new (void);

/* A list of HydraRunRow; runs without a final validation are left out. */
void hydra_runs_scatter_set_model (HydraRunsScatter *self, GListModel *rows);
/* The dot drawn larger and ringed (NULL: none). */
void hydra_runs_scatter_set_selected (HydraRunsScatter *self, const char *folder);

/* The dots drawn: how many, and each one's run and place (x = age MAE, y = race accuracy in
 * [0, 1]; px, py in the widget's pixels at the last draw), for tests and tooltips. */
typedef struct
{
  HydraRunRow *row; /* borrowed from the model */
  double x, y;
  double px, py;
  gboolean manual;
  gboolean frontier; /* manual, and on the frontier */
} HydraScatterDot;

guint hydra_runs_scatter_get_n_dots (HydraRunsScatter *self);
const HydraScatterDot *hydra_runs_scatter_get_dot (HydraRunsScatter *self, guint i);
/* The dot within a few pixels of (x, y), or -1. */
int hydra_runs_scatter_pick (HydraRunsScatter *self, double x, double y);

/* Signal "run-activated" (const char *folder): a dot was clicked. */

G_END_DECLS
