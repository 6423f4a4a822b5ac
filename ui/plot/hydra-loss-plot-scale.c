/* hydra-loss-plot-scale.c — which part of the data a picture shows: x follows the data or
 * a zoomed view, y fits what is visible in x (or is zoomed too), markers find their x. */

#include "hydra-loss-plot-private.h"

/* A marker's x: its step, or the x of that step on the other axes (interpolated between step
 * points by step). */
gboolean
hydra_plot_track_marker_x (HydraLossPlot *self, Track *t, int64_t step, double *x)
{
  guint i;
  const HydraStepPoint *p, *q;

  if (self->x_axis == HYDRA_PLOT_X_STEPS)
    {
      *x = step;
      return TRUE;
    }
  if (t->n_cached == 0)
    return FALSE;
  i = hydra_series_find_step (t->series, step);
  p = hydra_series_get_step (t->series, i);
  if (i + 1 < t->n_cached)
    {
      q = hydra_series_get_step (t->series, i + 1);
      if (q->step > p->step)
        {
          *x = t->xs[i] + (t->xs[i + 1] - t->xs[i]) * (double) (step - p->step) / (q->step - p->step);
          return TRUE;
        }
    }
  if (i > 0)
    {
      q = hydra_series_get_step (t->series, i - 1);
      if (q->step < p->step)
        {
          *x = t->xs[i] + (t->xs[i] - t->xs[i - 1]) * (double) (step - p->step) / (p->step - q->step);
          return TRUE;
        }
    }
  *x = t->xs[i];
  return TRUE;
}

gboolean
hydra_plot_marker_x (HydraLossPlot *self, int64_t step, double *x)
{
  return hydra_plot_track_marker_x (self, &self->main, step, x);
}

/* A validation pass's x: its step, its epoch (exact, where a step point's is fractional), or
 * the x of its step. */
double
hydra_plot_track_epoch_x (HydraLossPlot *self, Track *t, const HydraEpochPoint *ep)
{
  double x;

  if (self->x_axis == HYDRA_PLOT_X_EPOCHS)
    return ep->at;
  if (self->x_axis == HYDRA_PLOT_X_STEPS || !hydra_plot_track_marker_x (self, t, ep->step, &x))
    return (double) ep->step;
  return x;
}

double
hydra_plot_epoch_x (HydraLossPlot *self, const HydraEpochPoint *ep)
{
  return hydra_plot_track_epoch_x (self, &self->main, ep);
}

/* How the x axis labels its values: x / unit, with its title ("time (min)"). Time is shown in
 * seconds, minutes or hours, whichever the larger end of [x0, x1] reads best in. */
double
hydra_plot_x_unit (HydraLossPlot *self, double x0, double x1, const char **title)
{
  double m = MAX (fabs (x0), fabs (x1));
  const char *t;
  double unit = 1.0;

  switch (self->x_axis)
    {
    case HYDRA_PLOT_X_EPOCHS:
      t = "epoch";
      break;
    case HYDRA_PLOT_X_IMAGES:
      t = "images seen";
      break;
    case HYDRA_PLOT_X_TIME:
      if (m >= 2 * 3600)
        unit = 3600, t = "training time (h)";
      else if (m >= 120)
        unit = 60, t = "training time (min)";
      else
        t = "training time (s)";
      break;
    case HYDRA_PLOT_X_STEPS:
    default:
      t = "step";
    }
  if (title != NULL)
    *title = t;
  return unit;
}

static gboolean
data_x_extent (HydraLossPlot *self, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    {
      Track *t = hydra_plot_track (self, k);

      for (guint s = 0; s < t->n_segments; s++)
        {
          guint a = t->segments[s], b = hydra_plot_track_segment_end (t, s);

          if (b <= a)
            continue;
          *lo = MIN (*lo, t->xs[a]);
          *hi = MAX (*hi, t->xs[b - 1]);
        }
      if (self->view == HYDRA_PLOT_LOSS && t->series != NULL)
        for (guint e = 0; e < hydra_series_get_n_epochs (t->series); e++)
          {
            double x = hydra_plot_track_epoch_x (self, t, hydra_series_get_epoch (t->series, e));

            *lo = MIN (*lo, x);
            *hi = MAX (*hi, x);
          }
    }
  if (self->series == NULL)
    return *lo <= *hi;
  for (guint m = 0; m < hydra_series_get_n_markers (self->series); m++)
    {
      double x;

      if (hydra_plot_marker_x (self, hydra_series_get_marker (self->series, m)->step, &x))
        {
          *lo = MIN (*lo, x);
          *hi = MAX (*hi, x);
        }
    }
  return *lo <= *hi;
}

static double
min_x_span (HydraLossPlot *self)
{
  static const double span[] = {
    [HYDRA_PLOT_X_STEPS] = 4.0,  [HYDRA_PLOT_X_EPOCHS] = 0.02,
    [HYDRA_PLOT_X_IMAGES] = 4.0, [HYDRA_PLOT_X_TIME] = 0.1, /* s */
  };

  return span[self->x_axis];
}

void
hydra_plot_x_range (HydraLossPlot *self, double *x0, double *x1)
{
  double lo, hi, min_span = min_x_span (self);

  if (!self->x_auto)
    {
      *x0 = self->vx0;
      *x1 = self->vx1;
      return;
    }
  if (!data_x_extent (self, &lo, &hi))
    lo = 0, hi = 1;
  if (hi - lo < min_span)
    {
      double mid = (lo + hi) / 2;

      lo = mid - min_span / 2;
      hi = mid + min_span / 2;
    }
  *x0 = lo;
  *x1 = hi;
}

gboolean
hydra_plot_panel_is_cosine (HydraLossPlot *self, guint p)
{
  return self->view == HYDRA_PLOT_BALANCE && p == PANEL_COS;
}

/* Whether any step has a rate to draw (a record from before rates were kept has none). */
gboolean
hydra_plot_has_lr (HydraLossPlot *self)
{
  double lo = INFINITY, hi = -INFINITY;

  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    {
      Track *t = hydra_plot_track (self, k);

      hydra_plot_range_minmax (&t->channels[CH_LR], 0, t->n_cached, TRUE, &lo, &hi);
    }
  return lo <= hi;
}

/* The loss view draws the rate in a strip under the losses, unless it was hidden. */
gboolean
hydra_plot_has_lr_strip (HydraLossPlot *self)
{
  return self->view == HYDRA_PLOT_LOSS && self->show_lr && hydra_plot_has_lr (self);
}

gboolean
hydra_plot_panel_is_lr (HydraLossPlot *self, guint p)
{
  return self->view == HYDRA_PLOT_LOSS && p == 1;
}

/* Whether a loss weight changed during the session: a method chose them, or the user moved a
 * slider. Constant weights would be flat lines the sliders already show. */
gboolean
hydra_plot_has_weights (HydraLossPlot *self)
{
  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    for (guint h = 0; h < N_HEADS; h++)
      {
        Track *t = hydra_plot_track (self, k);
        double lo = INFINITY, hi = -INFINITY;

        hydra_plot_range_minmax (&t->channels[CH_W0 + h], 0, t->n_cached, FALSE, &lo, &hi);
        if (lo < hi)
          return TRUE;
      }
  return FALSE;
}

/* The balance view draws the weights in a panel of their own under the cosines, when they
 * changed and one of their curves is shown (and the picture is tall enough: render.c). */
gboolean
hydra_plot_has_weight_panel (HydraLossPlot *self)
{
  if (self->view != HYDRA_PLOT_BALANCE || !hydra_plot_has_weights (self))
    return FALSE;
  for (guint h = 0; h < N_HEADS; h++)
    if (self->balance_visible[HYDRA_BALANCE_WEIGHT_AGE + h])
      return TRUE;
  return FALSE;
}

gboolean
hydra_plot_panel_is_weight (HydraLossPlot *self, guint p)
{
  return self->view == HYDRA_PLOT_BALANCE && p == PANEL_WEIGHT;
}

/* The extent of the visible training curves' points in [x0, x1]. */
static void
steps_extent (HydraLossPlot *self, const Panel *panel, double x0, double x1, double *lo, double *hi)
{
  for (guint ch = panel->ch_first; ch < panel->ch_end; ch++)
    {
      if (!hydra_plot_channel_visible (self, ch))
        continue;
      for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
        {
          Track *t = hydra_plot_track (self, k);

          for (guint s = 0; s < t->n_segments; s++)
            {
              guint a = t->segments[s], b = hydra_plot_track_segment_end (t, s);
              guint i0 = hydra_plot_lower_bound (t->xs, a, b, x0);
              guint i1 = hydra_plot_upper_bound (t->xs, i0, b, x1);

              hydra_plot_range_minmax (&t->channels[ch], i0, i1, panel->log, lo, hi);
            }
        }
    }
}

/* The extent of the visible curves' validation points in [x0, x1]. */
static void
validation_extent (HydraLossPlot *self, const Panel *panel, double x0, double x1, double *lo,
                   double *hi)
{
  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    {
      Track *t = hydra_plot_track (self, k);

      for (guint e = 0; t->series != NULL && e < hydra_series_get_n_epochs (t->series); e++)
        {
          const HydraEpochPoint *ep = hydra_series_get_epoch (t->series, e);
          double x = hydra_plot_track_epoch_x (self, t, ep);

          if (x < x0 || x > x1)
            continue;
          for (guint c = 0; c < HYDRA_N_CURVES; c++)
            {
              float v = ep->loss[c];

              if (!self->curve_visible[c] || !isfinite (v) || (panel->log && v <= 0))
                continue;
              *lo = MIN (*lo, v);
              *hi = MAX (*hi, v);
            }
        }
    }
}

/* A log panel shows [lo, hi] padded, and at least a fifth of a decade. */
static void
fit_log (Panel *panel, double lo, double hi)
{
  double llo = log10 (lo), lhi = log10 (hi), pad;

  if (lhi - llo < 0.2)
    {
      double mid = (llo + lhi) / 2;

      llo = mid - 0.1;
      lhi = mid + 0.1;
    }
  pad = (lhi - llo) * 0.04;
  panel->ty0 = llo - pad;
  panel->ty1 = lhi + pad;
}

/* A linear panel shows [lo, hi] padded (not below 0 for values that are not) and rounded out
 * to its tick step. */
static void
fit_linear (Panel *panel, double lo, double hi, double max_ticks)
{
  double step;

  if (hi - lo < 1e-12 * MAX (1.0, fabs (hi)))
    {
      double d = fabs (hi) > 0 ? fabs (hi) * 0.1 : 1.0;

      lo -= d;
      hi += d;
    }
  else
    {
      double pad = (hi - lo) * 0.04;

      lo = (lo >= 0 && lo - pad < 0) ? 0 : lo - pad;
      hi += pad;
    }
  step = hydra_chart_nice_step (hi - lo, max_ticks);
  panel->ty0 = floor (lo / step + 1e-9) * step;
  panel->ty1 = ceil (hi / step - 1e-9) * step;
}

/* Schedules that anneal to (nearly) nothing — cosine to 0, one-cycle to a ten-thousandth of
 * its start — would spend the strip on their last steps: it shows 3 decades under the peak
 * at most; and a decade at least, so that a constant rate sits mid-strip by its label. */
#define LR_DECADES 3.0

/* The y range of what is visible in [x0, x1], in transformed units. */
void
hydra_plot_y_auto_range (HydraLossPlot *self, guint p, Panel *panel, double x0, double x1,
                         double max_ticks)
{
  double lo = INFINITY, hi = -INFINITY;

  if (hydra_plot_panel_is_cosine (self, p))
    {
      panel->ty0 = -1.0;
      panel->ty1 = 1.0;
      return;
    }
  if (hydra_plot_panel_is_lr (self, p))
    {
      steps_extent (self, panel, x0, x1, &lo, &hi);
      lo = MAX (lo, hi * pow (10, -LR_DECADES));
      if (lo <= hi && hi < lo * 10)
        {
          double mid = sqrt (lo * hi);

          lo = mid / sqrt (10);
          hi = mid * sqrt (10);
        }
    }
  else if (self->show_training || self->view == HYDRA_PLOT_BALANCE)
    steps_extent (self, panel, x0, x1, &lo, &hi);
  if (p == 0 && self->view == HYDRA_PLOT_LOSS && self->show_validation && self->series != NULL)
    validation_extent (self, panel, x0, x1, &lo, &hi);
  if (lo > hi)
    {
      lo = panel->log ? 0.1 : 0.0;
      hi = panel->log ? 10.0 : 1.0;
    }
  if (panel->log)
    fit_log (panel, lo, hi);
  else
    fit_linear (panel, lo, hi, max_ticks);
}

double
hydra_plot_data_span (HydraLossPlot *self)
{
  double lo, hi;

  if (!data_x_extent (self, &lo, &hi))
    return INFINITY;
  return MAX (hi - lo, min_x_span (self));
}

void
hydra_plot_set_x_view (HydraLossPlot *self, double x0, double x1)
{
  double span = x1 - x0, min_span = min_x_span (self);

  if (!isfinite (x0) || !isfinite (x1))
    return;
  if (span < min_span)
    {
      double mid = (x0 + x1) / 2;

      x0 = mid - min_span / 2;
      x1 = mid + min_span / 2;
    }
  self->x_auto = FALSE;
  self->vx0 = x0;
  self->vx1 = x1;
}

void
hydra_plot_set_y_view (HydraLossPlot *self, guint p, double ty0, double ty1)
{
  if (!isfinite (ty0) || !isfinite (ty1) || ty1 - ty0 < 1e-9 * MAX (1.0, fabs (ty1)))
    return;
  self->y_auto[p] = FALSE;
  self->vy0[p] = ty0;
  self->vy1[p] = ty1;
}

/* The view now, which may be newer than the last picture (several wheel clicks a frame). */
void
hydra_plot_current_view (HydraLossPlot *self, guint pi, double *x0, double *x1, double *ty0,
                         double *ty1)
{
  hydra_plot_cache_sync (self);
  hydra_plot_x_range (self, x0, x1);
  if (ty0 == NULL)
    return;
  *ty0 = self->y_auto[pi] ? self->frame.panels[pi].ty0 : self->vy0[pi];
  *ty1 = self->y_auto[pi] ? self->frame.panels[pi].ty1 : self->vy1[pi];
}
