/* hydra-loss-plot-cache.c — the series as the plot reads it: one contiguous array per
 * channel, min/max summaries per block of points, the smoothed curves, and decimation to
 * pixel columns. */

#include "hydra-loss-plot-private.h"

#include <float.h>

#define BLOCK 64

G_STATIC_ASSERT (sizeof (HydraStepPoint) % sizeof (float) == 0);

/* Where a channel's value sits in a step point. */
static gsize
channel_offset (guint ch)
{
  if (ch < CH_GRAD0)
    return G_STRUCT_OFFSET (HydraStepPoint, loss) + ch * sizeof (float);
  if (ch < CH_COS0)
    return G_STRUCT_OFFSET (HydraStepPoint, grad_norm) + (ch - CH_GRAD0) * sizeof (float);
  if (ch < CH_W0)
    return G_STRUCT_OFFSET (HydraStepPoint, cosine) + (ch - CH_COS0) * sizeof (float);
  if (ch < CH_LR)
    return G_STRUCT_OFFSET (HydraStepPoint, weight) + (ch - CH_W0) * sizeof (float);
  return G_STRUCT_OFFSET (HydraStepPoint, lr);
}

void
hydra_plot_track_reset (Track *t)
{
  t->n_cached = 0;
  t->n_segments = 0;
  t->xs_images = 0;
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    t->channels[ch].n_smooth = 0;
}

void
hydra_plot_track_free (Track *t)
{
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    {
      g_clear_pointer (&t->channels[ch].raw, g_free);
      g_clear_pointer (&t->channels[ch].smooth, g_free);
      g_clear_pointer (&t->channels[ch].blocks, g_free);
    }
  g_clear_pointer (&t->xs, g_free);
  g_clear_pointer (&t->segments, g_free);
  t->capacity = 0;
  hydra_plot_track_reset (t);
}

void
hydra_plot_cache_reset (HydraLossPlot *self)
{
  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    hydra_plot_track_reset (hydra_plot_track (self, k));
}

void
hydra_plot_cache_free (HydraLossPlot *self)
{
  hydra_plot_track_free (&self->main);
}

static void
block_update (Channel *c, guint b, guint n)
{
  Block blk = { INFINITY, -INFINITY, INFINITY };
  guint end = MIN ((b + 1) * BLOCK, n);

  for (guint i = b * BLOCK; i < end; i++)
    {
      float v = c->raw[i];

      if (!isfinite (v))
        continue;
      blk.min = MIN (blk.min, v);
      blk.max = MAX (blk.max, v);
      if (v > 0)
        blk.min_pos = MIN (blk.min_pos, v);
    }
  c->blocks[b] = blk;
}

/* The images a step trained on: its own count, else the first one the series gave (a record
 * from before the images column has none: 1, so that x counts steps). */
static double
step_images (Track *t, const HydraStepPoint *p)
{
  if (p->images > 0)
    {
      if (t->xs_images == 0)
        t->xs_images = p->images;
      return p->images;
    }
  return t->xs_images > 0 ? t->xs_images : 1;
}

/* What one step adds to x: its images, or the seconds it took to train them. */
static double
step_dx (Track *t, const HydraStepPoint *p)
{
  double images = step_images (t, p);

  if (t->xs_axis == HYDRA_PLOT_X_IMAGES)
    return images;
  return p->img_per_s > 0 && isfinite (p->img_per_s) ? images / p->img_per_s : 0.0;
}

/* Point i's x on a cumulative axis (images, time). The first point of the series, and the
 * first after a rollback, continue from the step before theirs: the point of that step, or
 * (a fork's first point, whose parent's steps are not in this series) as many steps as
 * that at this one's size and speed. */
static double
cumulative_x (Track *t, const HydraStepPoint *points, guint i)
{
  const HydraStepPoint *p = &points[i];
  double dx = step_dx (t, p);

  if (i > 0 && p->step > points[i - 1].step)
    return t->xs[i - 1] + dx * (double) (p->step - points[i - 1].step);
  for (guint j = i; j-- > 0;)
    if (points[j].step < p->step)
      return t->xs[j] + dx * (double) (p->step - points[j].step);
  return dx * (double) MAX (p->step, 1);
}

static double
point_x (Track *t, const HydraStepPoint *points, guint i)
{
  switch (t->xs_axis)
    {
    case HYDRA_PLOT_X_EPOCHS:
      return points[i].epoch;
    case HYDRA_PLOT_X_IMAGES:
    case HYDRA_PLOT_X_TIME:
      return cumulative_x (t, points, i);
    case HYDRA_PLOT_X_STEPS:
    default:
      return (double) points[i].step;
    }
}

static void
track_sync (HydraLossPlot *self, Track *t)
{
  guint n = t->series ? hydra_series_get_n_steps (t->series) : 0;
  const HydraStepPoint *points;
  guint from;

  if (n < t->n_cached || t->xs_axis != self->x_axis)
    {
      hydra_plot_track_reset (t);
      t->xs_axis = self->x_axis;
    }
  if (t->series != NULL)
    {
      t->n_segments = hydra_series_get_n_segments (t->series);
      t->segments = g_renew (guint, t->segments, MAX (t->n_segments, 1));
      for (guint s = 0; s < t->n_segments; s++)
        t->segments[s] = hydra_series_get_segment_start (t->series, s);
    }
  if (n == t->n_cached)
    return;

  if (n > t->capacity)
    {
      guint cap = MAX (n, MAX (1024, t->capacity * 2));

      for (guint ch = 0; ch < N_CHANNELS; ch++)
        {
          t->channels[ch].raw = g_renew (float, t->channels[ch].raw, cap);
          t->channels[ch].smooth = g_renew (float, t->channels[ch].smooth, cap);
          t->channels[ch].blocks
              = g_renew (Block, t->channels[ch].blocks, (cap + BLOCK - 1) / BLOCK);
        }
      t->xs = g_renew (double, t->xs, cap);
      t->capacity = cap;
    }

  points = hydra_series_get_step (t->series, 0);
  from = t->n_cached;
  for (guint i = from; i < n; i++)
    t->xs[i] = point_x (t, points, i);
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    {
      Channel *c = &t->channels[ch];
      gsize off = channel_offset (ch);

      for (guint i = from; i < n; i++)
        c->raw[i] = *(const float *) ((const char *) &points[i] + off);
      for (guint b = from / BLOCK; b * BLOCK < n; b++)
        block_update (c, b, n);
    }
  t->n_cached = n;
}

void
hydra_plot_cache_sync (HydraLossPlot *self)
{
  self->main.series = self->series;
  for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
    track_sync (self, hydra_plot_track (self, k));
}

/* The EMA, extended from where it stopped; a new segment (after a rollback) restarts it. The
 * learning rate is what was set, not a noisy measurement: it is never smoothed. */
const float *
hydra_plot_track_smooth (HydraLossPlot *self, Track *t, guint ch)
{
  Channel *c = &t->channels[ch];
  guint next = 0; /* the first segment that starts at or after n_smooth */

  if (self->smoothing <= 0.0 || ch == CH_LR)
    return c->raw;
  if (c->smooth_weight != self->smoothing)
    {
      c->smooth_weight = self->smoothing;
      c->n_smooth = 0;
    }
  if (c->n_smooth == 0)
    c->ema = HYDRA_EMA_INIT;
  while (next < t->n_segments && t->segments[next] < c->n_smooth)
    next++;
  for (guint i = c->n_smooth; i < t->n_cached; i++)
    {
      if (next < t->n_segments && t->segments[next] == i)
        {
          c->ema = HYDRA_EMA_INIT;
          next++;
        }
      c->smooth[i] = hydra_ema_push (&c->ema, self->smoothing, c->raw[i]);
    }
  c->n_smooth = t->n_cached;
  return c->smooth;
}

const float *
hydra_plot_channel_smooth (HydraLossPlot *self, guint ch)
{
  return hydra_plot_track_smooth (self, &self->main, ch);
}

guint
hydra_plot_track_segment_end (const Track *t, guint s)
{
  return s + 1 < t->n_segments ? t->segments[s + 1] : t->n_cached;
}

guint
hydra_plot_segment_end (HydraLossPlot *self, guint s)
{
  return hydra_plot_track_segment_end (&self->main, s);
}

/* First index in [lo, hi) with xs[i] ≥ x (hi when none). */
guint
hydra_plot_lower_bound (const double *xs, guint lo, guint hi, double x)
{
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (xs[mid] < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* First index in [lo, hi) with xs[i] > x (hi when none). */
guint
hydra_plot_upper_bound (const double *xs, guint lo, guint hi, double x)
{
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (xs[mid] <= x)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static inline void
scan_value (float v, gboolean log, double *lo, double *hi)
{
  if (isfinite (v) && (!log || v > 0))
    {
      *lo = MIN (*lo, v);
      *hi = MAX (*hi, v);
    }
}

void
hydra_plot_range_minmax (const Channel *c, guint i0, guint i1, gboolean log, double *lo, double *hi)
{
  guint i = i0;

  for (; i < i1 && i % BLOCK != 0; i++)
    scan_value (c->raw[i], log, lo, hi);
  for (; i + BLOCK <= i1; i += BLOCK)
    {
      const Block *b = &c->blocks[i / BLOCK];

      if (b->min > b->max)
        continue;
      *lo = MIN (*lo, log ? b->min_pos : b->min);
      *hi = MAX (*hi, b->max);
    }
  for (; i < i1; i++)
    scan_value (c->raw[i], log, lo, hi);
}

/* ---------------------------------------------------------------------------------------
 * Decimation
 */

void
hydra_plot_decimate_columns (const float *y, const guint *bounds, guint n_columns,
                             gboolean positive_only, HydraPlotColumn *out)
{
  /* one comparison per point rejects NaN (compares false), ±inf and, on a log scale, v ≤ 0 */
  const float lo = positive_only ? FLT_MIN : -FLT_MAX, hi = FLT_MAX;

  for (guint c = 0; c < n_columns; c++)
    {
      HydraPlotColumn col = { NAN, NAN, INFINITY, -INFINITY, 0 };
      guint i = bounds[c], end = bounds[c + 1], last = end;
      float mn, mx;
      guint count = 0;

      while (i < end && !(y[i] >= lo && y[i] <= hi))
        i++;
      if (i == end)
        {
          out[c] = col;
          continue;
        }
      while (!(y[last - 1] >= lo && y[last - 1] <= hi))
        last--;
      col.first = y[i];
      col.last = y[last - 1];
      mn = mx = y[i];
      for (; i < last; i++)
        {
          float v = y[i];
          gboolean ok = v >= lo && v <= hi;

          count += ok;
          mn = ok && v < mn ? v : mn;
          mx = ok && v > mx ? v : mx;
        }
      col.min = mn;
      col.max = mx;
      col.count = count;
      out[c] = col;
    }
}

/* bounds[c] = the first point of column c; bounds[n_columns] = one past the last point. */
void
hydra_plot_column_bounds (const double *x, guint lo, guint hi, double x0, double x1,
                          guint n_columns, guint *bounds)
{
  double w = (x1 - x0) / n_columns;

  bounds[0] = hydra_plot_lower_bound (x, lo, hi, x0);
  for (guint c = 1; c < n_columns; c++)
    bounds[c] = hydra_plot_lower_bound (x, bounds[c - 1], hi, x0 + c * w);
  bounds[n_columns] = hydra_plot_upper_bound (x, bounds[n_columns - 1], hi, x1);
}

guint
hydra_plot_decimate (const double *x, const float *y, guint n, double x0, double x1,
                     gboolean positive_only, HydraPlotColumn *columns, guint n_columns)
{
  g_autofree guint *bounds = NULL;
  guint filled = 0;

  g_return_val_if_fail (n == 0 || (x != NULL && y != NULL), 0);
  g_return_val_if_fail (columns != NULL && n_columns > 0, 0);
  g_return_val_if_fail (x1 > x0, 0);

  bounds = g_new (guint, n_columns + 1);
  hydra_plot_column_bounds (x, 0, n, x0, x1, n_columns, bounds);
  hydra_plot_decimate_columns (y, bounds, n_columns, positive_only, columns);
  for (guint c = 0; c < n_columns; c++)
    filled += columns[c].count > 0;
  return filled;
}
