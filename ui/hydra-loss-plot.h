/* hydra-loss-plot.h — the live chart of a training session: losses, or the heads' balance.
 *
 * Draws a HydraSeries with Cairo and redraws when it changes. Two views:
 *  - HYDRA_PLOT_LOSS: each head's raw and weighted loss and the total, per training step
 *    (EMA-smoothed, the raw curve faint behind) and per validation pass (dots joined by a
 *    dashed line), with a vertical marker at every settings change; under them, in a slim
 *    strip on a log axis of its own, the learning rate of each step (the schedule, and the
 *    jumps of the live control at their markers);
 *  - HYDRA_PLOT_BALANCE: each head's gradient norm on the shared trunk (upper panel, the
 *    largest), the pairwise cosines between those gradients (middle, −1…1) and, once the
 *    loss weights have changed (a balancing method chooses them at every step, or a slider
 *    moved), each head's loss weight (lower panel, log with the gradient norms); a picture
 *    too short for three readable panels leaves the weights out.
 *
 * Interaction: the wheel zooms x about the pointer (Ctrl+wheel zooms y), a left drag draws a
 * zoom box, a middle drag or Shift+drag pans, a double click returns to autoscale; a click
 * on a legend entry toggles its curve. While zoomed, new data does not move the view.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-series.h"

G_BEGIN_DECLS

typedef enum
{
  HYDRA_PLOT_LOSS,
  HYDRA_PLOT_BALANCE,
} HydraPlotView;

#define HYDRA_TYPE_PLOT_VIEW (hydra_plot_view_get_type ())
GType hydra_plot_view_get_type (void) G_GNUC_CONST;

/* What x measures (nicks, as the "x-axis" setting spells them: steps, epochs, images, time).
 *  - STEPS:  optimizer steps done (a fork's record continues its parent's count);
 *  - EPOCHS: epochs done, fractional inside one;
 *  - IMAGES: images trained on, the sum of each step's batch (a record without the images
 *            column counts its first known batch size per step, or plots steps);
 *  - TIME:   training time in seconds, the sum of each step's images / img_per_s — time
 *            spent paused, validating or checkpointing is not in it.
 * A series that starts past step 1 (a fork) starts at its branch point on every axis: the
 * steps before it are counted at its first step's batch size and speed. */
typedef enum
{
  HYDRA_PLOT_X_STEPS,
  HYDRA_PLOT_X_EPOCHS,
  HYDRA_PLOT_X_IMAGES,
  HYDRA_PLOT_X_TIME,
} HydraPlotXAxis;

#define HYDRA_TYPE_PLOT_X_AXIS (hydra_plot_x_axis_get_type ())
GType hydra_plot_x_axis_get_type (void) G_GNUC_CONST;

/* The balance view's curves, in legend order. */
typedef enum
{
  HYDRA_BALANCE_GRAD_AGE, /* ‖∂(w·L_h)/∂feature‖ of each head */
  HYDRA_BALANCE_GRAD_GENDER,
  HYDRA_BALANCE_GRAD_RACE,
  HYDRA_BALANCE_COS_AGE_GENDER, /* cosine between two heads' gradients */
  HYDRA_BALANCE_COS_AGE_RACE,
  HYDRA_BALANCE_COS_GENDER_RACE,
  HYDRA_BALANCE_WEIGHT_AGE, /* the loss weight of each head, as each step trained with */
  HYDRA_BALANCE_WEIGHT_GENDER,
  HYDRA_BALANCE_WEIGHT_RACE,
  HYDRA_N_BALANCE_CURVES
} HydraBalanceCurve;

#define HYDRA_TYPE_LOSS_PLOT (hydra_loss_plot_get_type ())
G_DECLARE_FINAL_TYPE (HydraLossPlot, hydra_loss_plot, HYDRA, LOSS_PLOT, GtkWidget)

GtkWidget *hydra_loss_plot_new (void);

/* Properties:
 *   "series"           HydraSeries (the plot holds a reference)
 *   "view"             HydraPlotView, default HYDRA_PLOT_LOSS
 *   "smoothing"        double in [0, 0.999], default 0.6 (TensorBoard's slider)
 *   "log-scale"        boolean: log y for the losses, or for the gradient norms and weights
 *   "x-axis"           HydraPlotXAxis, default HYDRA_PLOT_X_STEPS
 *   "x-epochs"         boolean, deprecated: "x-axis" is epochs (setting FALSE picks steps)
 *   "show-training"    boolean, default TRUE: the per-step curves
 *   "show-validation"  boolean, default TRUE: the per-epoch validation points
 *   "show-learning-rate"  boolean, default TRUE: the learning rate's strip (loss view)
 *   "zoomed"           boolean, read-only: the view is not autoscaled
 * Signal "curve-toggled" (HydraPlotView view, guint curve, gboolean visible): a curve's
 * visibility changed, from the API or from a click on the legend.
 */
HydraSeries *hydra_loss_plot_get_series (HydraLossPlot *self);
void hydra_loss_plot_set_series (HydraLossPlot *self, HydraSeries *series);
HydraPlotView hydra_loss_plot_get_view (HydraLossPlot *self);
void hydra_loss_plot_set_view (HydraLossPlot *self, HydraPlotView view);
double hydra_loss_plot_get_smoothing (HydraLossPlot *self);
void hydra_loss_plot_set_smoothing (HydraLossPlot *self, double smoothing);
gboolean hydra_loss_plot_get_log_scale (HydraLossPlot *self);
void hydra_loss_plot_set_log_scale (HydraLossPlot *self, gboolean log_scale);
HydraPlotXAxis hydra_loss_plot_get_x_axis (HydraLossPlot *self);
void hydra_loss_plot_set_x_axis (HydraLossPlot *self, HydraPlotXAxis x_axis);
gboolean hydra_loss_plot_get_x_epochs (HydraLossPlot *self);
void hydra_loss_plot_set_x_epochs (HydraLossPlot *self, gboolean x_epochs);
gboolean hydra_loss_plot_get_show_training (HydraLossPlot *self);
void hydra_loss_plot_set_show_training (HydraLossPlot *self, gboolean show);
gboolean hydra_loss_plot_get_show_validation (HydraLossPlot *self);
void hydra_loss_plot_set_show_validation (HydraLossPlot *self, gboolean show);
gboolean hydra_loss_plot_get_show_learning_rate (HydraLossPlot *self);
void hydra_loss_plot_set_show_learning_rate (HydraLossPlot *self, gboolean show);
gboolean hydra_loss_plot_get_zoomed (HydraLossPlot *self);

/* Comparison: other runs drawn with the plot's series (the primary, "this run"), up to 7.
 * With an overlay, colour names the run (a qualitative palette, the primary first, none of
 * the heads' colours) and line style the head: age solid, gender dashed, race dotted, the
 * total solid and thicker (the balance view: each head's gradient norm and weight likewise,
 * the cosines age·gender solid, age·race dashed, gender·race dotted). The legend lists the
 * runs, then the curves; the tooltip names the run of each value; smoothing, autoscale and
 * zoom cover every run; export draws them all, and its CSV is the overlay's format
 * (hydra_series_write_csv_many: a "run" column first, each run's record in turn). Markers are
 * the primary's. Each series is referenced and names[] copied; n = 0 ends the comparison.
 * A run whose record starts past step 1 (a fork) starts at its branch point (see
 * HydraPlotXAxis). */
void hydra_loss_plot_set_overlay (HydraLossPlot *self, HydraSeries *const *series,
                                  const char *const *names, guint n);
guint hydra_loss_plot_get_n_overlay (HydraLossPlot *self);
/* The primary's name in an overlay's legend and tooltip; "this run" by default. */
void hydra_loss_plot_set_primary_name (HydraLossPlot *self, const char *name);

/* New plots show the raw age, gender and race losses and the total; the weighted ones
 * are hidden. Every balance curve is shown. */
gboolean hydra_loss_plot_get_curve_visible (HydraLossPlot *self, HydraCurve curve);
void hydra_loss_plot_set_curve_visible (HydraLossPlot *self, HydraCurve curve, gboolean visible);
gboolean hydra_loss_plot_get_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve);
void hydra_loss_plot_set_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve,
                                                gboolean visible);

/* Back to autoscale: x follows the data, y fits what is visible. */
void hydra_loss_plot_reset_view (HydraLossPlot *self);

/* The x range shown, in the units of "x-axis" (steps, epochs, images, seconds). Setting it zooms: the view stays put
 * as data arrives, until reset. */
void hydra_loss_plot_get_x_range (HydraLossPlot *self, double *x0, double *x1);
void hydra_loss_plot_set_x_range (HydraLossPlot *self, double x0, double x1);

/* The learning rates at the ends of the strip's log axis for the x range shown: it fits the
 * rates there, at most 3 decades under their peak. FALSE when there is no strip (the balance
 * view, hidden, or no step with a rate). */
gboolean hydra_loss_plot_get_lr_range (HydraLossPlot *self, double *lr0, double *lr1);

/* Step point i's x on the current axis (after the plot has seen the series' points: it
 * syncs its cache). For tests and for callers that place things on the plot. */
double hydra_loss_plot_get_step_x (HydraLossPlot *self, guint i);

/* Draws the current view as on screen, without hover or zoom box, in the light style on a
 * white background: the picture export writes, for any cairo context (a bench, printing). */
void hydra_loss_plot_render (HydraLossPlot *self, cairo_t *cr, int width, int height);

/* Writes the plot to path, the format chosen by its extension: .png (width × height
 * pixels), .svg (width × height points), or .csv (every series and marker; the size is
 * ignored). The file appears complete or not at all. */
gboolean hydra_loss_plot_export (HydraLossPlot *self, const char *path, int width, int height,
                                 GError **error);
/* The same, with the file written (and the CSV formatted) on a worker thread; the picture
 * is drawn before this returns. */
void hydra_loss_plot_export_async (HydraLossPlot *self, const char *path, int width, int height,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean hydra_loss_plot_export_finish (HydraLossPlot *self, GAsyncResult *result, GError **error);

/* Decimation for drawing: the envelope of the points (x[i], y[i]) that fall in each of
 * n_columns equal columns spanning [x0, x1]. x must be non-decreasing. Non-finite y (and,
 * with positive_only, y ≤ 0) are skipped. Returns how many columns hold a point. */
typedef struct
{
  float first, last; /* in x order */
  float min, max;
  guint count; /* 0: nothing in this column (the other fields are undefined) */
} HydraPlotColumn;

guint hydra_plot_decimate (const double *x, const float *y, guint n, double x0, double x1,
                           gboolean positive_only, HydraPlotColumn *columns, guint n_columns);

G_END_DECLS
