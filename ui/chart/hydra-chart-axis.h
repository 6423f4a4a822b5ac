/* hydra-chart-axis.h — ticks and numbers on the studio's chart axes.
 *
 * One home for how an axis is cut (a step of 1, 2 or 5 × 10^k, ticks at its multiples) and
 * how its numbers read. The loss plot, the metrics view's charts and the data-set pane's
 * histogram all use it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A step of 1, 2 or 5 × 10^k that cuts span into at most about max_ticks intervals
 * (max_ticks below 1 counts as 1); 1 when span is not positive. */
double hydra_chart_nice_step (double span, double max_ticks);

/* The multiples k · step in [lo, hi], edges included up to rounding, −0 read as 0:
 *
 *   HydraChartSteps it;
 *   double v;
 *   for (hydra_chart_steps_init (&it, lo, hi, step); hydra_chart_steps_next (&it, &v);)
 */
typedef struct
{
  double k, step, hi;
} HydraChartSteps;

void hydra_chart_steps_init (HydraChartSteps *it, double lo, double hi, double step);
gboolean hydra_chart_steps_next (HydraChartSteps *it, double *v);

/* Human numbers: a real minus sign, 4 significant digits (or `decimals`, when ≥ 0), powers
 * of ten when huge or tiny ("1.50×10⁻⁴"). */
void hydra_chart_format_number (char *buf, gsize size, double v, int decimals);

/* A learning rate as training code writes one: "1e-3", "2.5e-4", with at most `digits`
 * significant digits; non-positive and non-finite values as hydra_chart_format_number. */
void hydra_chart_format_rate (char *buf, gsize size, double v, int digits);

#define HYDRA_CHART_MAX_TICKS 96

typedef struct
{
  double v;       /* in the axis' units: log10 of the value on a log axis */
  gboolean major; /* labelled and gridded; minor ones only gridded faintly */
  char label[48];
} HydraChartTick;

/* Labelled ticks at a nice step over [lo, hi], about max_ticks of them; integer: the step
 * is at least 1. Returns how many were written (at most HYDRA_CHART_MAX_TICKS). */
guint hydra_chart_linear_ticks (double lo, double hi, double max_ticks, gboolean integer,
                                HydraChartTick *ticks);

/* Ticks of a log axis over [10^llo, 10^lhi]: decades labelled, and 2 and 5 too when there
 * is room, the rest minor; a range too narrow for decades gets linear ticks placed
 * logarithmically. */
guint hydra_chart_log_ticks (double llo, double lhi, double max_ticks, HydraChartTick *ticks);

G_END_DECLS
