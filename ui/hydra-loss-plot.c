/* hydra-loss-plot.c — the live loss and balance charts, drawn with Cairo.
 *
 * Data path: the series' step points are copied into one contiguous float array per
 * "channel" (7 losses, 3 gradient norms, 3 cosines) as they arrive, with a min/max summary
 * per block of 64 points (autoscale in O(n/64)) and an EMA that is extended, not recomputed,
 * on append. A frame reduces each visible curve to a min/max envelope per pixel column, so
 * drawing costs O(width) whatever the length of the run. The static picture is kept as a
 * render node: hovering and the zoom box redraw only an overlay.
 */

#include "hydra-loss-plot.h"

#include <cairo-svg.h>
#include <float.h>
#include <math.h>
#include <string.h>

#define BLOCK 64
#define PAD 12.0
#define ZOOM_STEP 1.2
#define DRAG_THRESHOLD 5.0

enum
{
  CH_GRAD0 = HYDRA_N_CURVES,
  CH_COS0 = CH_GRAD0 + N_HEADS,
  N_CHANNELS = CH_COS0 + 3,
};

G_STATIC_ASSERT (sizeof (HydraStepPoint) % sizeof (float) == 0);

typedef struct
{
  float min, max; /* over finite values; min > max when there is none */
  float min_pos;  /* smallest value > 0, for log scales; +inf when none */
} Block;

typedef struct
{
  float *raw;    /* the series' values, contiguous */
  float *smooth; /* EMA of raw, restarted at each segment; valid below n_smooth */
  Block *blocks;
  guint n_smooth;
  double smooth_weight;
  HydraEma ema;
} Channel;

typedef struct
{
  graphene_rect_t area; /* the plotting rectangle, in widget coordinates */
  double ty0, ty1;      /* y range in transformed units (log10 y on a log scale) */
  gboolean log;
  guint ch_first, ch_end;
} Panel;

/* The geometry of the last on-screen picture, for mapping pointer events. */
typedef struct
{
  gboolean valid, empty;
  int width, height;
  double x0, x1;
  guint n_panels;
  Panel panels[2];
} Frame;

typedef enum
{
  HIT_LOSS,
  HIT_BALANCE,
  HIT_VALIDATION,
} HitKind;

typedef struct
{
  graphene_rect_t rect;
  HitKind kind;
  guint index;
} LegendHit;

typedef struct
{
  GdkRGBA fg;
  GdkRGBA bg;
  gboolean dark;
  PangoContext *context;      /* borrowed */
  PangoFontDescription *font; /* owned */
} Style;

typedef enum
{
  DRAG_NONE,
  DRAG_BOX,
  DRAG_PAN,
} DragMode;

struct _HydraLossPlot
{
  GtkWidget parent_instance;

  /* owned */
  HydraSeries *series;
  GskRenderNode *static_node;
  GArray *legend_hits; /* LegendHit, from the last on-screen picture */
  Channel channels[N_CHANNELS];
  double *xs;      /* each step point's x: step or epoch */
  guint *segments; /* first point of each segment (copied from the series) */
  guint n_segments;
  guint n_cached, capacity;
  gboolean xs_epochs;

  /* settings */
  HydraPlotView view;
  double smoothing;
  gboolean log_scale;
  gboolean x_epochs;
  gboolean show_training;
  gboolean show_validation;
  gboolean curve_visible[HYDRA_N_CURVES];
  gboolean balance_visible[HYDRA_N_BALANCE_CURVES];

  /* the view: autoscaled, or fixed by zoom and pan */
  gboolean x_auto;
  double vx0, vx1;
  gboolean y_auto[2];
  double vy0[2], vy1[2];
  Frame frame;

  /* interaction */
  gboolean hovering;
  double hover_x, hover_y;
  DragMode drag_mode;
  int drag_panel;
  double drag_x, drag_y, drag_dx, drag_dy;
  double drag_vx0, drag_vx1, drag_vy0, drag_vy1;
  gboolean drag_moved_y;
};

G_DEFINE_FINAL_TYPE (HydraLossPlot, hydra_loss_plot, GTK_TYPE_WIDGET)

G_DEFINE_ENUM_TYPE (HydraPlotView, hydra_plot_view, G_DEFINE_ENUM_VALUE (HYDRA_PLOT_LOSS, "loss"),
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_BALANCE, "balance"))

enum
{
  PROP_0,
  PROP_SERIES,
  PROP_VIEW,
  PROP_SMOOTHING,
  PROP_LOG_SCALE,
  PROP_X_EPOCHS,
  PROP_SHOW_TRAINING,
  PROP_SHOW_VALIDATION,
  PROP_ZOOMED,
  N_PROPS
};

enum
{
  CURVE_TOGGLED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Colours: one hue per head (blue, orange, purple), readable on white and on Adwaita dark;
 * the cosines get three more. The total takes the text colour, the strongest neutral. */
typedef struct
{
  double r, g, b;
} Rgb;

static const Rgb palette[] = {
  { 0x1c / 255.0, 0x71 / 255.0, 0xd8 / 255.0 }, /* age: blue */
  { 0xe6 / 255.0, 0x61 / 255.0, 0x00 / 255.0 }, /* gender: orange */
  { 0xa3 / 255.0, 0x47 / 255.0, 0xba / 255.0 }, /* race: purple */
  { 0x26 / 255.0, 0xa2 / 255.0, 0x69 / 255.0 }, /* age·gender: green */
  { 0xc8 / 255.0, 0x88 / 255.0, 0x00 / 255.0 }, /* age·race: gold */
  { 0xe0 / 255.0, 0x1b / 255.0, 0x24 / 255.0 }, /* gender·race: red */
};
static const Rgb accent = { 0x35 / 255.0, 0x84 / 255.0, 0xe4 / 255.0 };
static const Rgb rollback_rgb = { 0xe0 / 255.0, 0x1b / 255.0, 0x24 / 255.0 };

static const double dash_weighted[] = { 6.0, 4.0 };
static const double dash_validation[] = { 4.0, 3.0 };
static const double dash_marker[] = { 3.0, 3.0 };

/* ---------------------------------------------------------------------------------------
 * Channels
 */

static gsize
channel_offset (guint ch)
{
  if (ch < CH_GRAD0)
    return G_STRUCT_OFFSET (HydraStepPoint, loss) + ch * sizeof (float);
  if (ch < CH_COS0)
    return G_STRUCT_OFFSET (HydraStepPoint, grad_norm) + (ch - CH_GRAD0) * sizeof (float);
  return G_STRUCT_OFFSET (HydraStepPoint, cosine) + (ch - CH_COS0) * sizeof (float);
}

static gboolean
channel_is_weighted (guint ch)
{
  return ch >= HYDRA_CURVE_AGE_WEIGHTED && ch <= HYDRA_CURVE_RACE_WEIGHTED;
}

static void
channel_color (guint ch, const Style *st, double alpha, cairo_t *cr)
{
  const Rgb *c;

  if (ch == HYDRA_CURVE_TOTAL)
    {
      cairo_set_source_rgba (cr, st->fg.red, st->fg.green, st->fg.blue, alpha);
      return;
    }
  if (ch < CH_GRAD0)
    c = &palette[ch % N_HEADS];
  else if (ch < CH_COS0)
    c = &palette[ch - CH_GRAD0];
  else
    c = &palette[3 + ch - CH_COS0];
  cairo_set_source_rgba (cr, c->r, c->g, c->b, alpha);
}

static void
channel_name (HydraLossPlot *self, guint ch, char *buf, gsize size)
{
  static const char *balance[] = {
    "age", "gender", "race", "age·gender", "age·race", "gender·race",
  };

  if (ch == HYDRA_CURVE_AGE || ch == HYDRA_CURVE_AGE_WEIGHTED)
    g_snprintf (
        buf, size, "%s (%s)", hydra_curve_name (ch),
        age_loss_title (self->series ? hydra_series_get_age_loss (self->series) : AGE_LOSS_L1));
  else if (ch < CH_GRAD0)
    g_strlcpy (buf, hydra_curve_name (ch), size);
  else
    g_strlcpy (buf, balance[ch - CH_GRAD0], size);
}

static gboolean
channel_visible (HydraLossPlot *self, guint ch)
{
  if (ch < CH_GRAD0)
    return self->view == HYDRA_PLOT_LOSS && self->curve_visible[ch];
  return self->view == HYDRA_PLOT_BALANCE && self->balance_visible[ch - CH_GRAD0];
}

/* ---------------------------------------------------------------------------------------
 * The cache: contiguous copies of the series, block summaries, smoothing
 */

static void
cache_reset (HydraLossPlot *self)
{
  self->n_cached = 0;
  self->n_segments = 0;
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    self->channels[ch].n_smooth = 0;
}

static void
cache_free (HydraLossPlot *self)
{
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    {
      g_clear_pointer (&self->channels[ch].raw, g_free);
      g_clear_pointer (&self->channels[ch].smooth, g_free);
      g_clear_pointer (&self->channels[ch].blocks, g_free);
    }
  g_clear_pointer (&self->xs, g_free);
  g_clear_pointer (&self->segments, g_free);
  self->capacity = 0;
  cache_reset (self);
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

static void
cache_sync (HydraLossPlot *self)
{
  guint n = self->series ? hydra_series_get_n_steps (self->series) : 0;
  const HydraStepPoint *points;
  guint from;

  if (n < self->n_cached || self->xs_epochs != self->x_epochs)
    {
      cache_reset (self);
      self->xs_epochs = self->x_epochs;
    }
  if (self->series != NULL)
    {
      self->n_segments = hydra_series_get_n_segments (self->series);
      self->segments = g_renew (guint, self->segments, MAX (self->n_segments, 1));
      for (guint s = 0; s < self->n_segments; s++)
        self->segments[s] = hydra_series_get_segment_start (self->series, s);
    }
  if (n == self->n_cached)
    return;

  if (n > self->capacity)
    {
      guint cap = MAX (n, MAX (1024, self->capacity * 2));

      for (guint ch = 0; ch < N_CHANNELS; ch++)
        {
          self->channels[ch].raw = g_renew (float, self->channels[ch].raw, cap);
          self->channels[ch].smooth = g_renew (float, self->channels[ch].smooth, cap);
          self->channels[ch].blocks
              = g_renew (Block, self->channels[ch].blocks, (cap + BLOCK - 1) / BLOCK);
        }
      self->xs = g_renew (double, self->xs, cap);
      self->capacity = cap;
    }

  points = hydra_series_get_step (self->series, 0);
  from = self->n_cached;
  for (guint i = from; i < n; i++)
    self->xs[i] = self->x_epochs ? points[i].epoch : (double) points[i].step;
  for (guint ch = 0; ch < N_CHANNELS; ch++)
    {
      Channel *c = &self->channels[ch];
      gsize off = channel_offset (ch);

      for (guint i = from; i < n; i++)
        c->raw[i] = *(const float *) ((const char *) &points[i] + off);
      for (guint b = from / BLOCK; b * BLOCK < n; b++)
        block_update (c, b, n);
    }
  self->n_cached = n;
}

/* The EMA, extended from where it stopped; a new segment (after a rollback) restarts it. */
static const float *
channel_smooth (HydraLossPlot *self, guint ch)
{
  Channel *c = &self->channels[ch];
  guint next = 0; /* the first segment that starts at or after n_smooth */

  if (self->smoothing <= 0.0)
    return c->raw;
  if (c->smooth_weight != self->smoothing)
    {
      c->smooth_weight = self->smoothing;
      c->n_smooth = 0;
    }
  if (c->n_smooth == 0)
    c->ema = HYDRA_EMA_INIT;
  while (next < self->n_segments && self->segments[next] < c->n_smooth)
    next++;
  for (guint i = c->n_smooth; i < self->n_cached; i++)
    {
      if (next < self->n_segments && self->segments[next] == i)
        {
          c->ema = HYDRA_EMA_INIT;
          next++;
        }
      c->smooth[i] = hydra_ema_push (&c->ema, self->smoothing, c->raw[i]);
    }
  c->n_smooth = self->n_cached;
  return c->smooth;
}

static guint
segment_end (HydraLossPlot *self, guint s)
{
  return s + 1 < self->n_segments ? self->segments[s + 1] : self->n_cached;
}

/* First index in [lo, hi) with xs[i] ≥ x (hi when none). */
static guint
lower_bound (const double *xs, guint lo, guint hi, double x)
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
static guint
upper_bound (const double *xs, guint lo, guint hi, double x)
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

static void
range_minmax (const Channel *c, guint i0, guint i1, gboolean log, double *lo, double *hi)
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

static void
decimate_columns (const float *y, const guint *bounds, guint n_columns, gboolean positive_only,
                  HydraPlotColumn *out)
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
static void
column_bounds (const double *x, guint lo, guint hi, double x0, double x1, guint n_columns,
               guint *bounds)
{
  double w = (x1 - x0) / n_columns;

  bounds[0] = lower_bound (x, lo, hi, x0);
  for (guint c = 1; c < n_columns; c++)
    bounds[c] = lower_bound (x, bounds[c - 1], hi, x0 + c * w);
  bounds[n_columns] = upper_bound (x, bounds[n_columns - 1], hi, x1);
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
  column_bounds (x, 0, n, x0, x1, n_columns, bounds);
  decimate_columns (y, bounds, n_columns, positive_only, columns);
  for (guint c = 0; c < n_columns; c++)
    filled += columns[c].count > 0;
  return filled;
}

/* ---------------------------------------------------------------------------------------
 * Numbers and ticks
 */

static void
append_superscript (GString *s, int e)
{
  static const char *digits[] = { "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" };
  char buf[16];

  if (e < 0)
    g_string_append (s, "⁻");
  g_snprintf (buf, sizeof buf, "%d", ABS (e));
  for (const char *c = buf; *c; c++)
    g_string_append (s, digits[*c - '0']);
}

/* Human numbers: a real minus sign, 4 significant digits, powers of ten when huge or tiny. */
static void
format_number (char *buf, gsize size, double v, int decimals)
{
  g_autoptr (GString) s = g_string_new (NULL);
  double a = fabs (v);

  if (isnan (v))
    {
      g_strlcpy (buf, "NaN", size);
      return;
    }
  if (v < 0)
    g_string_append (s, "−");
  if (isinf (v))
    g_string_append (s, "∞");
  else if (a != 0 && (a >= 1e5 || a < 1e-3))
    {
      int e = (int) floor (log10 (a));
      double m = a / pow (10, e);

      if (m >= 9.995)
        m /= 10, e++;
      if (fabs (m - 1.0) < 0.005)
        g_string_append (s, "10");
      else
        g_string_append_printf (s, "%.2f×10", m);
      append_superscript (s, e);
    }
  else
    {
      if (decimals < 0)
        decimals = a == 0 ? 0 : CLAMP (3 - (int) floor (log10 (a)), 0, 6);
      g_string_append_printf (s, "%.*f", decimals, a);
    }
  g_strlcpy (buf, s->str, size);
}

static double
nice_step (double span, double max_ticks)
{
  double raw = span / MAX (max_ticks, 1.0);
  double mag = pow (10, floor (log10 (raw)));
  double norm = raw / mag;

  if (norm <= 1.0)
    return mag;
  if (norm <= 2.0)
    return 2 * mag;
  if (norm <= 5.0)
    return 5 * mag;
  return 10 * mag;
}

#define MAX_TICKS 96

typedef struct
{
  double v;       /* transformed units */
  gboolean major; /* labelled and gridded; minor ones only gridded faintly */
  char label[48];
} Tick;

static guint
linear_ticks (double lo, double hi, double max_ticks, gboolean integer, Tick *ticks)
{
  double step = nice_step (hi - lo, max_ticks);
  int decimals;
  guint n = 0;

  if (integer)
    step = MAX (step, 1.0);
  decimals = MAX (0, -(int) floor (log10 (step) + 1e-9));
  for (double k = ceil (lo / step - 1e-9); k * step <= hi + step * 1e-9 && n < MAX_TICKS; k++)
    {
      double v = k * step;

      if (fabs (v) < step * 1e-9)
        v = 0;
      ticks[n].v = v;
      ticks[n].major = TRUE;
      format_number (ticks[n].label, sizeof ticks[n].label, v, decimals);
      n++;
    }
  return n;
}

static void
format_log_tick (char *buf, gsize size, double m, int e)
{
  if (e >= -3 && e <= 4)
    format_number (buf, size, m * pow (10, e), MAX (0, -e));
  else
    {
      g_autoptr (GString) s = g_string_new (NULL);

      if (m != 1)
        g_string_append_printf (s, "%g×", m);
      g_string_append (s, "10");
      append_superscript (s, e);
      g_strlcpy (buf, s->str, size);
    }
}

/* Decades labelled, and 2 and 5 too when there is room; the rest minor. */
static guint
log_ticks (double llo, double lhi, double max_ticks, Tick *ticks)
{
  double span = lhi - llo;
  int d0 = (int) floor (llo), d1 = (int) ceil (lhi);
  int every = MAX (1, (int) ceil (span / MAX (max_ticks, 1.0)));
  gboolean label_2_5 = span * 3 <= max_ticks;
  guint n = 0;

  if (span < 0.6)
    {
      /* too narrow for decades: linear ticks on the values, placed logarithmically */
      Tick lin[MAX_TICKS];
      guint m = linear_ticks (pow (10, llo), pow (10, lhi), max_ticks, FALSE, lin);

      for (guint i = 0; i < m; i++)
        if (lin[i].v > 0)
          {
            ticks[n] = lin[i];
            ticks[n++].v = log10 (lin[i].v);
          }
      return n;
    }
  for (int d = d0; d <= d1 && n < MAX_TICKS; d++)
    for (int k = 1; k <= 9 && n < MAX_TICKS; k++)
      {
        double v = d + log10 (k);
        gboolean major = (k == 1 && d % every == 0) || (label_2_5 && (k == 2 || k == 5));

        if (v < llo - 1e-9 || v > lhi + 1e-9)
          continue;
        if (k != 1 && span > 5.0)
          continue;
        ticks[n].v = v;
        ticks[n].major = major;
        ticks[n].label[0] = '\0';
        if (major)
          format_log_tick (ticks[n].label, sizeof ticks[n].label, k, d);
        n++;
      }
  return n;
}

/* Steps read "20k" once the axis reaches 10,000 — every label alike, so "9000" never sits
 * beside "10k". */
static void
format_x (HydraLossPlot *self, double v, double step, double axis_max, char *buf, gsize size)
{
  if (!self->x_epochs)
    {
      if (axis_max >= 10000 && step >= 100)
        {
          g_autoptr (GString) s = g_string_new (NULL);

          g_string_printf (s, "%.*fk", step >= 1000 ? 0 : 1, fabs (v) / 1000);
          if (v < 0)
            g_string_prepend (s, "−");
          g_strlcpy (buf, v == 0 ? "0" : s->str, size);
        }
      else
        format_number (buf, size, v, 0);
      return;
    }
  format_number (buf, size, v, MAX (0, -(int) floor (log10 (step) + 1e-9)));
}

/* ---------------------------------------------------------------------------------------
 * Text
 */

static PangoLayout *
make_layout (const Style *st, double scale, gboolean tabular)
{
  PangoLayout *layout = pango_layout_new (st->context);
  PangoFontDescription *font = pango_font_description_copy (st->font);
  gint size = pango_font_description_get_size (font);

  if (size <= 0)
    size = 10 * PANGO_SCALE;
  if (pango_font_description_get_size_is_absolute (font))
    pango_font_description_set_absolute_size (font, size * scale);
  else
    pango_font_description_set_size (font, (gint) (size * scale));
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  if (tabular)
    {
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
      pango_layout_set_attributes (layout, attrs);
      pango_attr_list_unref (attrs);
    }
  return layout;
}

static void
text_extent (PangoLayout *layout, const char *text, double *w, double *h)
{
  int pw, ph;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &pw, &ph);
  if (w)
    *w = pw;
  if (h)
    *h = ph;
}

/* Draws text with its box aligned at (x, y): ax, ay = 0 left/top, 0.5 centre, 1 right/bottom. */
static void
draw_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double ax,
           double ay)
{
  double w, h;

  text_extent (layout, text, &w, &h);
  cairo_move_to (cr, round (x - ax * w), round (y - ay * h));
  pango_cairo_show_layout (cr, layout);
}

static void
set_fg (cairo_t *cr, const Style *st, double alpha)
{
  cairo_set_source_rgba (cr, st->fg.red, st->fg.green, st->fg.blue, st->fg.alpha * alpha);
}

static void
set_bg (cairo_t *cr, const Style *st, double alpha)
{
  cairo_set_source_rgba (cr, st->bg.red, st->bg.green, st->bg.blue, alpha);
}

static double
snap (double v)
{
  return floor (v) + 0.5;
}

static void
rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* ---------------------------------------------------------------------------------------
 * Geometry
 */

static double
epoch_x (HydraLossPlot *self, const HydraEpochPoint *ep)
{
  return self->x_epochs ? ep->epoch : (double) ep->step;
}

/* A marker's x: its step, or the epoch at that step (interpolated between step points). */
static gboolean
marker_x (HydraLossPlot *self, int64_t step, double *x)
{
  guint i;
  const HydraStepPoint *p, *q;

  if (!self->x_epochs)
    {
      *x = step;
      return TRUE;
    }
  if (self->n_cached == 0)
    return FALSE;
  i = hydra_series_find_step (self->series, step);
  p = hydra_series_get_step (self->series, i);
  if (i + 1 < self->n_cached)
    {
      q = hydra_series_get_step (self->series, i + 1);
      if (q->step > p->step)
        {
          *x = p->epoch + (q->epoch - p->epoch) * (double) (step - p->step) / (q->step - p->step);
          return TRUE;
        }
    }
  if (i > 0)
    {
      q = hydra_series_get_step (self->series, i - 1);
      if (q->step < p->step)
        {
          *x = p->epoch + (p->epoch - q->epoch) * (double) (step - p->step) / (p->step - q->step);
          return TRUE;
        }
    }
  *x = p->epoch;
  return TRUE;
}

static gboolean
data_x_extent (HydraLossPlot *self, double *lo, double *hi)
{
  *lo = INFINITY;
  *hi = -INFINITY;
  for (guint s = 0; s < self->n_segments; s++)
    {
      guint a = self->segments[s], b = segment_end (self, s);

      if (b <= a)
        continue;
      *lo = MIN (*lo, self->xs[a]);
      *hi = MAX (*hi, self->xs[b - 1]);
    }
  if (self->series == NULL)
    return FALSE;
  if (self->view == HYDRA_PLOT_LOSS)
    for (guint e = 0; e < hydra_series_get_n_epochs (self->series); e++)
      {
        double x = epoch_x (self, hydra_series_get_epoch (self->series, e));

        *lo = MIN (*lo, x);
        *hi = MAX (*hi, x);
      }
  for (guint m = 0; m < hydra_series_get_n_markers (self->series); m++)
    {
      double x;

      if (marker_x (self, hydra_series_get_marker (self->series, m)->step, &x))
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
  return self->x_epochs ? 0.02 : 4.0;
}

static void
x_range (HydraLossPlot *self, double *x0, double *x1)
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

static gboolean
panel_is_cosine (HydraLossPlot *self, guint p)
{
  return self->view == HYDRA_PLOT_BALANCE && p == 1;
}

/* The y range of what is visible in [x0, x1], in transformed units. */
static void
y_auto_range (HydraLossPlot *self, guint p, Panel *panel, double x0, double x1, double max_ticks)
{
  double lo = INFINITY, hi = -INFINITY;

  if (panel_is_cosine (self, p))
    {
      panel->ty0 = -1.0;
      panel->ty1 = 1.0;
      return;
    }
  if (self->show_training || self->view == HYDRA_PLOT_BALANCE)
    for (guint ch = panel->ch_first; ch < panel->ch_end; ch++)
      {
        if (!channel_visible (self, ch))
          continue;
        for (guint s = 0; s < self->n_segments; s++)
          {
            guint a = self->segments[s], b = segment_end (self, s);
            guint i0 = lower_bound (self->xs, a, b, x0);
            guint i1 = upper_bound (self->xs, i0, b, x1);

            range_minmax (&self->channels[ch], i0, i1, panel->log, &lo, &hi);
          }
      }
  if (self->view == HYDRA_PLOT_LOSS && self->show_validation && self->series != NULL)
    for (guint e = 0; e < hydra_series_get_n_epochs (self->series); e++)
      {
        const HydraEpochPoint *ep = hydra_series_get_epoch (self->series, e);
        double x = epoch_x (self, ep);

        if (x < x0 || x > x1)
          continue;
        for (guint c = 0; c < HYDRA_N_CURVES; c++)
          {
            float v = ep->loss[c];

            if (!self->curve_visible[c] || !isfinite (v) || (panel->log && v <= 0))
              continue;
            lo = MIN (lo, v);
            hi = MAX (hi, v);
          }
      }

  if (lo > hi)
    {
      lo = panel->log ? 0.1 : 0.0;
      hi = panel->log ? 10.0 : 1.0;
    }
  if (panel->log)
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
      return;
    }
  else
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
      step = nice_step (hi - lo, max_ticks);
      panel->ty0 = floor (lo / step + 1e-9) * step;
      panel->ty1 = ceil (hi / step - 1e-9) * step;
    }
}

static double
map_x (const Frame *f, const Panel *p, double x)
{
  return p->area.origin.x + (x - f->x0) / (f->x1 - f->x0) * p->area.size.width;
}

static double
map_y (const Panel *p, double ty)
{
  return p->area.origin.y + p->area.size.height
         - (ty - p->ty0) / (p->ty1 - p->ty0) * p->area.size.height;
}

static double
unmap_x (const Frame *f, const Panel *p, double px)
{
  return f->x0 + (px - p->area.origin.x) / p->area.size.width * (f->x1 - f->x0);
}

static double
unmap_y (const Panel *p, double py)
{
  return p->ty0
         + (p->area.origin.y + p->area.size.height - py) / p->area.size.height * (p->ty1 - p->ty0);
}

static gboolean
value_ok (const Panel *p, float v)
{
  return isfinite (v) && (!p->log || v > 0);
}

static double
transform (const Panel *p, double v)
{
  return p->log ? log10 (v) : v;
}

/* ---------------------------------------------------------------------------------------
 * Drawing
 */

typedef struct
{
  HydraLossPlot *self;
  cairo_t *cr;
  const Style *st;
  Frame *frame;
  int width, height;
  PangoLayout *small; /* tick labels, legend, markers, tooltip */
  GArray *hits;       /* LegendHit, or NULL */
} Draw;

typedef struct
{
  guint a, b;    /* the segment's points */
  guint i0, i1;  /* those inside [x0, x1] */
  guint *bounds; /* column bounds when decimating, else NULL */
  guint n_columns;
  gboolean faded;       /* replaced by a later segment (a rollback) */
  gboolean dense;       /* more than 2 points a pixel: draw the main curve by columns */
  gboolean dense_faint; /* more than 1 point in 2 pixels: the faint raw curve by columns */
} SegmentView;

static void
add_segment_view (SegmentView *v, const double *xs, guint a, guint b, gboolean faded,
                  const Frame *frame)
{
  guint n_columns = (guint) MAX (1.0, ceil (frame->panels[0].area.size.width));

  v->a = a;
  v->b = b;
  v->faded = faded;
  v->i0 = lower_bound (xs, a, b, frame->x0);
  v->i1 = upper_bound (xs, v->i0, b, frame->x1);
  v->bounds = NULL;
  v->n_columns = 0;
  v->dense_faint = v->i1 - v->i0 > n_columns / 2;
  v->dense = v->i1 - v->i0 > 2 * n_columns;
  if (v->dense_faint)
    {
      v->n_columns = n_columns;
      v->bounds = g_new (guint, n_columns + 1);
      column_bounds (xs, v->i0, v->i1, frame->x0, frame->x1, n_columns, v->bounds);
    }
}

/* Strokes a polyline, simplified and in short pieces. Cairo's stroker costs about a
 * microsecond a vertex, so points that lie within a quarter pixel of the chord that would
 * replace them are dropped (a smooth curve keeps a few dozen of its 1,000 column points); and
 * it rasterises each stroke through a mask as large as its extents, so one stroke across
 * the whole plot costs the plot's area, however thin the line: pieces cost about what they
 * cover. The dash pattern runs on across pieces. */
#define PEN_TOLERANCE 0.25
#define PEN_BUFFER 32
#define PIECE_POINTS 48
#define PIECE_WIDTH 96.0

typedef struct
{
  cairo_t *cr;
  const double *dash; /* NULL: solid */
  int n_dash;
  gboolean down;                         /* the next point continues the line */
  double ax, ay;                         /* the last point emitted */
  double bx[PEN_BUFFER], by[PEN_BUFFER]; /* points since, not yet emitted */
  guint n_buf;
  double x0;          /* where the current piece started */
  guint n;            /* points in the current piece */
  double length;      /* stroked so far, for the dash offset */
  double piece_start; /* the length where the current piece started */
} Pen;

static void
pen_init (Pen *pen, cairo_t *cr, const double *dash, int n_dash)
{
  memset (pen, 0, sizeof *pen);
  pen->cr = cr;
  pen->dash = dash;
  pen->n_dash = n_dash;
  cairo_new_path (cr);
}

static void
pen_stroke_piece (Pen *pen)
{
  if (pen->dash != NULL)
    cairo_set_dash (pen->cr, pen->dash, pen->n_dash, pen->piece_start);
  cairo_stroke (pen->cr);
  if (pen->dash != NULL)
    cairo_set_dash (pen->cr, NULL, 0, 0);
  pen->n = 0;
  pen->piece_start = pen->length;
}

/* Emits the newest buffered point, which becomes the anchor. */
static void
pen_emit (Pen *pen)
{
  double x = pen->bx[pen->n_buf - 1], y = pen->by[pen->n_buf - 1];

  cairo_line_to (pen->cr, x, y);
  if (pen->dash != NULL)
    pen->length += hypot (x - pen->ax, y - pen->ay);
  pen->ax = x;
  pen->ay = y;
  pen->n_buf = 0;
  if (++pen->n >= PIECE_POINTS || fabs (x - pen->x0) >= PIECE_WIDTH)
    {
      pen_stroke_piece (pen);
      cairo_move_to (pen->cr, x, y);
      pen->x0 = x;
      pen->n = 1;
    }
}

static gboolean
pen_chord_holds (const Pen *pen, double x, double y)
{
  double dx = x - pen->ax, dy = y - pen->ay, len = hypot (dx, dy);

  if (pen->n_buf >= PEN_BUFFER)
    return FALSE;
  for (guint i = 0; i < pen->n_buf; i++)
    {
      double qx = pen->bx[i] - pen->ax, qy = pen->by[i] - pen->ay;
      double dist = len > 1e-9 ? fabs (qx * dy - qy * dx) / len : hypot (qx, qy);

      /* and not behind either end: a line that turns back is not a chord */
      if (dist > PEN_TOLERANCE || qx * dx + qy * dy < 0 || qx * dx + qy * dy > len * len)
        return FALSE;
    }
  return TRUE;
}

static void
pen_to (Pen *pen, double x, double y)
{
  if (!pen->down)
    {
      cairo_move_to (pen->cr, x, y);
      pen->ax = pen->x0 = x;
      pen->ay = y;
      pen->n_buf = 0;
      pen->n++;
      pen->down = TRUE;
      return;
    }
  if (!pen_chord_holds (pen, x, y))
    pen_emit (pen);
  pen->bx[pen->n_buf] = x;
  pen->by[pen->n_buf] = y;
  pen->n_buf++;
}

static void
pen_lift (Pen *pen)
{
  if (pen->down && pen->n_buf > 0)
    pen_emit (pen);
  pen->down = FALSE;
}

static void
pen_flush (Pen *pen)
{
  pen_lift (pen);
  pen_stroke_piece (pen);
}

/* One segment's points drawn one by one: few enough to stroke as they are. */
static void
sparse_path (Draw *d, const Panel *p, const SegmentView *v, const float *y, Pen *pen, GArray *dots)
{
  const double *xs = d->self->xs;
  guint j0 = v->i0 > v->a ? v->i0 - 1 : v->i0;
  guint j1 = v->i1 < v->b ? v->i1 + 1 : v->i1;
  guint run = 0;
  double last_x = 0, last_y = 0;

  pen_lift (pen);
  for (guint i = j0; i <= j1; i++)
    {
      if (i == j1 || !value_ok (p, y[i]))
        {
          if (run == 1)
            {
              graphene_point_t pt = GRAPHENE_POINT_INIT (last_x, last_y);

              g_array_append_val (dots, pt);
            }
          pen_lift (pen);
          run = 0;
          continue;
        }
      last_x = map_x (d->frame, p, xs[i]);
      last_y = map_y (p, transform (p, y[i]));
      pen_to (pen, last_x, last_y);
      run++;
    }
}

/* A decimated segment: the envelope of each pixel column as a pixel-aligned box (Cairo fills
 * those fast, where stroking thousands of vertical zigzags is slow), joined by a line through
 * the columns' middles, stroked with antialiasing, which is all that shows where the curve
 * is smooth. Boxes reach from each column's min to its max, widened to take in the previous
 * column's last value so that a step between columns stays connected. */
static void
dense_path (Draw *d, const Panel *p, const SegmentView *v, const float *y, HydraPlotColumn *cols,
            Pen *pen, double half_width, gboolean wide_boxes, GArray *boxes)
{
  const double *xs = d->self->xs;
  double col_w = p->area.size.width / v->n_columns;
  double prev_last = NAN;
  gboolean line = pen != NULL;
  gboolean boxed_prev = TRUE, boxed = TRUE, boxed_next = TRUE;
  guint next = 0, first_box = boxes->len;

  decimate_columns (y, v->bounds, v->n_columns, p->log, cols);
  if (line)
    pen_lift (pen);
  if (line && v->i0 > v->a && value_ok (p, y[v->i0 - 1]))
    pen_to (pen, map_x (d->frame, p, xs[v->i0 - 1]), map_y (p, transform (p, y[v->i0 - 1])));

#define COLUMN_TOP(c) map_y (p, transform (p, cols[c].max))
#define COLUMN_BOTTOM(c) map_y (p, transform (p, cols[c].min))
#define IS_BOXED(c) (cols[c].count == 0 || COLUMN_BOTTOM (c) - COLUMN_TOP (c) > 2 * half_width)
  /* a column's middle joins the line unless it and both neighbours are boxes anyway */
  if (v->n_columns > 0)
    boxed_next = IS_BOXED (0);
  for (guint c = 0; c < v->n_columns; c++)
    {
      const HydraPlotColumn *col = &cols[c];
      double x = p->area.origin.x + c * col_w;
      double top, bottom;

      boxed_prev = boxed;
      boxed = boxed_next;
      next = c + 1;
      boxed_next = next < v->n_columns ? IS_BOXED (next) : TRUE;
      if (col->count == 0)
        continue;
      top = map_y (p, transform (p, col->max));
      bottom = map_y (p, transform (p, col->min));
      if (line)
        {
          if (!boxed || !boxed_prev || !boxed_next)
            pen_to (pen, x + col_w / 2, (top + bottom) / 2);
          else
            pen_lift (pen);
        }
      if (!isnan (prev_last))
        {
          top = MIN (top, prev_last);
          bottom = MAX (bottom, prev_last);
        }
      prev_last = map_y (p, transform (p, col->last));
      if (!line || bottom - top > 1.0)
        {
          double y0 = floor (top - half_width), y1 = ceil (bottom + half_width);
          graphene_rect_t r = GRAPHENE_RECT_INIT (x, y0, col_w, y1 - y0);

          /* as wide as the line, so that a jump looks like the rest of the curve; opaque
           * boxes may overlap, translucent ones (wide_boxes FALSE) must not */
          if (line && wide_boxes)
            {
              double x0 = floor (x + col_w / 2 - half_width);

              r.origin.x = x0;
              r.size.width = ceil (x + col_w / 2 + half_width) - x0;
            }

          /* without a line, a box reaches to the next one: a staircase, not a comb */
          if (!line && boxes->len > first_box)
            {
              graphene_rect_t *prev = &g_array_index (boxes, graphene_rect_t, boxes->len - 1);

              prev->size.width = MIN (x - prev->origin.x, 4 * col_w);
            }
          g_array_append_val (boxes, r);
        }
    }
#undef IS_BOXED
#undef COLUMN_TOP
#undef COLUMN_BOTTOM
  if (line && v->i1 < v->b && value_ok (p, y[v->i1]))
    pen_to (pen, map_x (d->frame, p, xs[v->i1]), map_y (p, transform (p, y[v->i1])));
}

static void
draw_dots (cairo_t *cr, GArray *dots, double r)
{
  for (guint i = 0; i < dots->len; i++)
    {
      const graphene_point_t *pt = &g_array_index (dots, graphene_point_t, i);

      cairo_new_sub_path (cr);
      cairo_arc (cr, pt->x, pt->y, r, 0, 2 * G_PI);
    }
  cairo_fill (cr);
}

static void
draw_boxes (cairo_t *cr, GArray *boxes)
{
  for (guint i = 0; i < boxes->len; i++)
    {
      const graphene_rect_t *r = &g_array_index (boxes, graphene_rect_t, i);

      cairo_rectangle (cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
    }
  cairo_fill (cr);
}

/* The faint raw curve (behind a smoothed one) or the main one. */
static void
draw_channel (Draw *d, const Panel *p, const SegmentView *sv, guint n_sv, guint ch, gboolean faint,
              HydraPlotColumn *cols)
{
  cairo_t *cr = d->cr;
  const float *y = faint ? d->self->channels[ch].raw : channel_smooth (d->self, ch);
  g_autoptr (GArray) dots = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
  g_autoptr (GArray) boxes = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  double width = faint ? 1.0 : ch == HYDRA_CURVE_TOTAL ? 2.25 : 1.75;
  gboolean dashed = !faint && channel_is_weighted (ch);

  /* translucent lines overlap where pieces meet: butt caps keep that to nothing. Cairo's
   * fast antialiasing looks the same on curves and rasterises noisy ones 2–3× faster. */
  cairo_set_line_cap (cr, faint ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
  cairo_set_line_width (cr, width);
  for (int faded = 0; faded <= 1; faded++)
    {
      double alpha = (faint ? (d->st->dark ? 0.28 : 0.22) : 1.0) * (faded ? 0.35 : 1.0);
      Pen pen;

      channel_color (ch, d->st, alpha, cr);
      pen_init (&pen, cr, dashed ? dash_weighted : NULL, G_N_ELEMENTS (dash_weighted));
      g_array_set_size (dots, 0);
      g_array_set_size (boxes, 0);
      for (guint s = 0; s < n_sv; s++)
        {
          if (sv[s].faded != faded)
            continue;
          if (faint ? !sv[s].dense_faint : !sv[s].dense)
            sparse_path (d, p, &sv[s], y, &pen, dots);
          else
            dense_path (d, p, &sv[s], y, cols, faint ? NULL : &pen, faint ? 0 : width / 2,
                        !dashed && !faded, boxes);
        }
      pen_flush (&pen);
      if (boxes->len > 0)
        {
          /* a weighted curve's band is lighter, as its line is dashed */
          if (dashed)
            channel_color (ch, d->st, 0.55 * alpha, cr);
          draw_boxes (cr, boxes);
        }
      if (dots->len > 0)
        {
          channel_color (ch, d->st, alpha, cr);
          draw_dots (cr, dots, faint ? 1.5 : 3.0);
        }
    }
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_DEFAULT);
}

static void
draw_validation (Draw *d, const Panel *p)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  guint n = hydra_series_get_n_epochs (self->series);

  if (n == 0)
    return;
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    {
      if (!self->curve_visible[c])
        continue;
      /* a halo in the background colour keeps the dashes readable across dense bands */
      for (int pass = 0; pass < 2; pass++)
        {
          int64_t prev_step = G_MININT64;
          Pen pen;

          if (pass == 0)
            {
              set_bg (cr, d->st, 1.0);
              cairo_set_line_width (cr, 4.0);
              pen_init (&pen, cr, NULL, 0);
            }
          else
            {
              channel_color (c, d->st, 1.0, cr);
              cairo_set_line_width (cr, 1.5);
              pen_init (&pen, cr, dash_validation, G_N_ELEMENTS (dash_validation));
            }
          for (guint e = 0; e < n; e++)
            {
              const HydraEpochPoint *ep = hydra_series_get_epoch (self->series, e);

              if (ep->step <= prev_step || !value_ok (p, ep->loss[c]))
                pen_lift (&pen);
              prev_step = ep->step;
              if (!value_ok (p, ep->loss[c]))
                continue;
              pen_to (&pen, map_x (d->frame, p, epoch_x (self, ep)),
                      map_y (p, transform (p, ep->loss[c])));
            }
          pen_flush (&pen);
        }

      for (guint e = 0; e < n; e++)
        {
          const HydraEpochPoint *ep = hydra_series_get_epoch (self->series, e);
          double x, y;

          if (!value_ok (p, ep->loss[c]))
            continue;
          x = map_x (d->frame, p, epoch_x (self, ep));
          y = map_y (p, transform (p, ep->loss[c]));
          cairo_new_path (cr);
          cairo_arc (cr, x, y, 5.5, 0, 2 * G_PI);
          set_bg (cr, d->st, 1.0);
          cairo_fill (cr);
          channel_color (c, d->st, 1.0, cr);
          if (channel_is_weighted (c))
            {
              /* weighted: a ring, as their curves are dashed */
              cairo_arc (cr, x, y, 3.25, 0, 2 * G_PI);
              cairo_set_line_width (cr, 1.5);
              cairo_stroke (cr);
            }
          else
            {
              cairo_arc (cr, x, y, 4.0, 0, 2 * G_PI);
              cairo_fill (cr);
            }
        }
    }
}

static void
draw_y_axis (Draw *d, guint pi, const Tick *ticks, guint n_ticks, const char *title)
{
  cairo_t *cr = d->cr;
  const Panel *p = &d->frame->panels[pi];
  double left = p->area.origin.x, right = left + p->area.size.width;
  double th;

  for (guint i = 0; i < n_ticks; i++)
    {
      double y = map_y (p, ticks[i].v);

      if (y < p->area.origin.y - 0.5 || y > p->area.origin.y + p->area.size.height + 0.5)
        continue;
      y = snap (y);
      set_fg (cr, d->st, ticks[i].major ? 0.10 : 0.05);
      if (panel_is_cosine (d->self, pi) && fabs (ticks[i].v) < 1e-9)
        set_fg (cr, d->st, 0.45);
      cairo_set_line_width (cr, 1.0);
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, right, y);
      cairo_stroke (cr);
      if (!ticks[i].major)
        continue;
      set_fg (cr, d->st, 0.6);
      draw_text (cr, d->small, ticks[i].label, left - 8, y, 1.0, 0.5);
    }

  /* the title, rotated, centred on the panel, ellipsised to its height */
  text_extent (d->small, title, NULL, &th);
  cairo_save (cr);
  cairo_translate (cr, PAD, p->area.origin.y + p->area.size.height / 2);
  cairo_rotate (cr, -G_PI / 2);
  set_fg (cr, d->st, 0.75);
  pango_layout_set_width (d->small, (int) (MAX (p->area.size.height, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_END);
  draw_text (cr, d->small, title, 0, 0, 0.5, 0.0);
  pango_layout_set_width (d->small, -1);
  pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_NONE);
  cairo_restore (cr);

  /* the baseline */
  set_fg (cr, d->st, 0.3);
  cairo_move_to (cr, left, snap (p->area.origin.y + p->area.size.height - 1));
  cairo_line_to (cr, right, snap (p->area.origin.y + p->area.size.height - 1));
  cairo_stroke (cr);
}

static void
draw_x_axis (Draw *d)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
  const Panel *bottom = &f->panels[f->n_panels - 1];
  double y_axis = bottom->area.origin.y + bottom->area.size.height;
  double widest, th, step, right_edge = -INFINITY;
  char buf[48];

  format_x (self, f->x1, 1, 0, buf, sizeof buf);
  text_extent (d->small, buf, &widest, &th);
  step = nice_step (f->x1 - f->x0, bottom->area.size.width / MAX (widest + 32, 60));
  if (!self->x_epochs)
    step = MAX (step, 1.0);

  for (double k = ceil (f->x0 / step - 1e-9); k * step <= f->x1 + step * 1e-9; k++)
    {
      double v = fabs (k * step) < step * 1e-9 ? 0 : k * step;
      double x = snap (map_x (f, bottom, v));
      double w;

      for (guint pi = 0; pi < f->n_panels; pi++)
        {
          const Panel *p = &f->panels[pi];

          set_fg (cr, d->st, 0.05);
          cairo_move_to (cr, x, p->area.origin.y);
          cairo_line_to (cr, x, p->area.origin.y + p->area.size.height - 1);
          cairo_stroke (cr);
        }
      set_fg (cr, d->st, 0.3);
      cairo_move_to (cr, x, y_axis);
      cairo_line_to (cr, x, y_axis + 4);
      cairo_stroke (cr);

      format_x (self, v, step, MAX (fabs (f->x0), fabs (f->x1)), buf, sizeof buf);
      text_extent (d->small, buf, &w, NULL);
      if (x - w / 2 < right_edge + 8 || x + w / 2 > d->width - 2)
        continue;
      set_fg (cr, d->st, 0.6);
      draw_text (cr, d->small, buf, x, y_axis + 6, 0.5, 0.0);
      right_edge = x + w / 2;
    }

  set_fg (cr, d->st, 0.75);
  draw_text (cr, d->small, self->x_epochs ? "epoch" : "step",
             bottom->area.origin.x + bottom->area.size.width / 2, y_axis + 6 + th + 2, 0.5, 0.0);
}

/* Legend entries: every curve of the view (hidden ones dimmed; a click toggles them). */
typedef struct
{
  HitKind kind;
  guint index;
  guint ch;
  char name[48];
  gboolean visible;
} LegendItem;

static guint
legend_items (HydraLossPlot *self, LegendItem *items)
{
  guint n = 0;

  if (self->view == HYDRA_PLOT_LOSS)
    {
      for (guint c = 0; c < HYDRA_N_CURVES; c++)
        {
          items[n] = (LegendItem){ HIT_LOSS, c, c, "", self->curve_visible[c] };
          channel_name (self, c, items[n].name, sizeof items[n].name);
          n++;
        }
      if (self->series != NULL && hydra_series_get_n_epochs (self->series) > 0)
        {
          items[n] = (LegendItem){ HIT_VALIDATION, 0, 0, "validation", self->show_validation };
          n++;
        }
    }
  else
    for (guint b = 0; b < HYDRA_N_BALANCE_CURVES; b++)
      {
        items[n] = (LegendItem){ HIT_BALANCE, b, CH_GRAD0 + b, "", self->balance_visible[b] };
        channel_name (self, CH_GRAD0 + b, items[n].name, sizeof items[n].name);
        n++;
      }
  return n;
}

#define SWATCH 18.0
#define LEGEND_GAP 18.0

/* Lays the legend out in rows from (x, y) within width; draws it when draw is TRUE. Returns
 * its height. */
static double
legend (Draw *d, double x, double y, double width, gboolean draw)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  LegendItem items[HYDRA_N_CURVES + HYDRA_N_BALANCE_CURVES + 1];
  guint n = legend_items (self, items);
  double cx = x, cy = y, row_h;

  text_extent (d->small, "Ag", NULL, &row_h);
  row_h += 6;
  for (guint i = 0; i < n; i++)
    {
      double tw, item_w, mid;
      double alpha = items[i].visible ? 1.0 : 0.35;

      text_extent (d->small, items[i].name, &tw, NULL);
      item_w = SWATCH + 6 + tw;
      if (cx > x && cx + item_w > x + width)
        {
          cx = x;
          cy += row_h;
        }
      mid = cy + row_h / 2;
      if (draw)
        {
          if (items[i].kind == HIT_VALIDATION)
            {
              set_fg (cr, d->st, 0.7 * alpha);
              cairo_set_line_width (cr, 1.5);
              cairo_set_dash (cr, dash_validation, G_N_ELEMENTS (dash_validation), 0);
              cairo_move_to (cr, cx, snap (mid));
              cairo_line_to (cr, cx + SWATCH, snap (mid));
              cairo_stroke (cr);
              cairo_set_dash (cr, NULL, 0, 0);
              cairo_arc (cr, cx + SWATCH / 2, snap (mid), 3.0, 0, 2 * G_PI);
              cairo_fill (cr);
            }
          else
            {
              channel_color (items[i].ch, d->st, alpha, cr);
              cairo_set_line_width (cr, items[i].ch == HYDRA_CURVE_TOTAL ? 3.0 : 2.5);
              if (channel_is_weighted (items[i].ch))
                {
                  static const double short_dash[] = { 5.0, 3.0 };

                  cairo_set_dash (cr, short_dash, 2, 0);
                }
              cairo_move_to (cr, cx, round (mid));
              cairo_line_to (cr, cx + SWATCH, round (mid));
              cairo_stroke (cr);
              cairo_set_dash (cr, NULL, 0, 0);
            }
          set_fg (cr, d->st, items[i].visible ? 0.85 : 0.4);
          draw_text (cr, d->small, items[i].name, cx + SWATCH + 6, mid, 0.0, 0.5);
          if (d->hits != NULL)
            {
              LegendHit hit = { GRAPHENE_RECT_INIT (cx - 4, cy, item_w + 8, row_h), items[i].kind,
                                items[i].index };

              g_array_append_val (d->hits, hit);
            }
        }
      cx += item_w + LEGEND_GAP;
    }
  return cy + row_h - y;
}

typedef struct
{
  double x;
  HydraMarkerKind kind;
  GString *label;
} MarkerGroup;

static int
compare_groups (gconstpointer a, gconstpointer b)
{
  double xa = ((const MarkerGroup *) a)->x, xb = ((const MarkerGroup *) b)->x;

  return xa < xb ? -1 : xa > xb;
}

static void
clear_group (gpointer data)
{
  MarkerGroup *g = data;

  g_string_free (g->label, TRUE);
}

/* Markers at the same pixel merge: "w_age 1 → 0.1 · age L1 → MSE". */
static GArray *
marker_groups (Draw *d)
{
  HydraLossPlot *self = d->self;
  const Frame *f = d->frame;
  const Panel *p = &f->panels[0];
  GArray *groups = g_array_new (FALSE, FALSE, sizeof (MarkerGroup));
  guint n = self->series ? hydra_series_get_n_markers (self->series) : 0;

  g_array_set_clear_func (groups, clear_group);
  for (guint m = 0; m < n; m++)
    {
      const HydraMarker *mk = hydra_series_get_marker (self->series, m);
      MarkerGroup g;
      double x;

      if (!marker_x (self, mk->step, &x) || x < f->x0 || x > f->x1)
        continue;
      g.x = snap (map_x (f, p, x));
      g.kind = mk->kind;
      g.label = g_string_new (mk->label);
      g_array_append_val (groups, g);
    }
  g_array_sort (groups, compare_groups);
  for (guint i = 1; i < groups->len;)
    {
      MarkerGroup *a = &g_array_index (groups, MarkerGroup, i - 1);
      MarkerGroup *b = &g_array_index (groups, MarkerGroup, i);

      if (b->x - a->x < 1.5)
        {
          if (a->label->len > 0 && b->label->len > 0)
            g_string_append (a->label, " · ");
          g_string_append (a->label, b->label->str);
          if (b->kind == HYDRA_MARKER_ROLLBACK)
            a->kind = b->kind;
          g_array_remove_index (groups, i);
        }
      else
        i++;
    }
  return groups;
}

static void
marker_color (cairo_t *cr, const Style *st, HydraMarkerKind kind, double alpha)
{
  if (kind == HYDRA_MARKER_ROLLBACK)
    cairo_set_source_rgba (cr, rollback_rgb.r, rollback_rgb.g, rollback_rgb.b, alpha);
  else
    set_fg (cr, st, (kind == HYDRA_MARKER_SETTING ? 0.55 : 0.35) * alpha);
}

static void
draw_markers (Draw *d, double strip_y, double strip_h)
{
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
  g_autoptr (GArray) groups = marker_groups (d);
  double bottom
      = f->panels[f->n_panels - 1].area.origin.y + f->panels[f->n_panels - 1].area.size.height;

  cairo_set_line_width (cr, 1.0);
  for (guint i = 0; i < groups->len; i++)
    {
      const MarkerGroup *g = &g_array_index (groups, MarkerGroup, i);

      marker_color (cr, d->st, g->kind, 1.0);
      cairo_set_dash (cr, dash_marker, G_N_ELEMENTS (dash_marker), 0);
      cairo_move_to (cr, g->x, strip_y + 2);
      cairo_line_to (cr, g->x, bottom - 1);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      /* a small flag at the top of the line */
      cairo_move_to (cr, g->x - 0.5, strip_y + 2);
      cairo_line_to (cr, g->x + 4.5, strip_y + 2);
      cairo_line_to (cr, g->x - 0.5, strip_y + 7);
      cairo_close_path (cr);
      cairo_fill (cr);
    }

  /* labels right of their line, ellipsised to the room before the next one, or skipped */
  for (guint i = 0; i < groups->len; i++)
    {
      const MarkerGroup *g = &g_array_index (groups, MarkerGroup, i);
      double next
          = i + 1 < groups->len ? g_array_index (groups, MarkerGroup, i + 1).x : d->width - PAD;
      double room = MIN (next - g->x - 10, 220);
      double tw, th;

      if (room < 28 || g->label->len == 0)
        continue;
      pango_layout_set_width (d->small, (int) (room * PANGO_SCALE));
      pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_END);
      text_extent (d->small, g->label->str, &tw, &th);
      marker_color (cr, d->st, g->kind, g->kind == HYDRA_MARKER_ROLLBACK ? 1.0 : 1.4);
      cairo_move_to (cr, round (g->x + 6), round (strip_y + (strip_h - th) / 2));
      pango_cairo_show_layout (cr, d->small);
      pango_layout_set_width (d->small, -1);
      pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_NONE);
    }
}

static const char *
empty_text (HydraLossPlot *self)
{
  return self->view == HYDRA_PLOT_LOSS ? "Start training to see the losses"
                                       : "Start training to see how each head pulls on the trunk";
}

static const char *
panel_title (HydraLossPlot *self, guint p)
{
  if (self->view == HYDRA_PLOT_BALANCE)
    return p == 0 ? (self->log_scale ? "gradient norm (log)" : "gradient norm") : "cosine";
  return self->log_scale ? "loss (log)" : "loss";
}

/* A dim chart glyph over the sentence, centred, as a status page would. */
static void
draw_empty (Draw *d, const char *text)
{
  cairo_t *cr = d->cr;
  PangoLayout *big = make_layout (d->st, 1.15, FALSE);
  double gw = 56, gh = 40, total_h, x, y;
  int pw, ph;

  pango_layout_set_width (big, (int) (MAX (d->width - 2 * PAD, 1) * PANGO_SCALE));
  pango_layout_set_alignment (big, PANGO_ALIGN_CENTER);
  pango_layout_set_wrap (big, PANGO_WRAP_WORD);
  pango_layout_set_text (big, text, -1);
  pango_layout_get_pixel_size (big, &pw, &ph);
  total_h = (d->height > 160 ? gh + 16 : 0) + ph;
  y = round ((d->height - total_h) / 2);
  if (d->height > 160)
    {
      x = round ((d->width - gw) / 2);
      set_fg (d->cr, d->st, 0.25);
      cairo_set_line_width (cr, 3.0);
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_move_to (cr, x + 1.5, y + 1.5);
      cairo_line_to (cr, x + 1.5, y + gh - 1.5);
      cairo_line_to (cr, x + gw - 1.5, y + gh - 1.5);
      cairo_stroke (cr);
      cairo_move_to (cr, x + 9, y + 8);
      cairo_curve_to (cr, x + 18, y + 28, x + 26, y + 30, x + 36, y + 27);
      cairo_curve_to (cr, x + 44, y + 25, x + 48, y + 26, x + gw - 3, y + 26);
      cairo_stroke (cr);
      y += gh + 16;
    }
  set_fg (cr, d->st, 0.55);
  cairo_move_to (cr, PAD, y);
  pango_cairo_show_layout (cr, big);
  g_object_unref (big);
}

static void
draw_static (HydraLossPlot *self, cairo_t *cr, int width, int height, const Style *st, Frame *frame,
             GArray *hits)
{
  Draw d = { self, cr, st, frame, width, height, NULL, hits };
  Tick ticks[2][MAX_TICKS];
  guint n_ticks[2] = { 0, 0 };
  double th, left, top, bottom, strip_h = 0, legend_h, plot_h, axis_title_w;
  gboolean has_markers;
  g_autofree SegmentView *sv = NULL;
  g_autofree HydraPlotColumn *cols = NULL;
  guint n_sv = 0;

  if (hits != NULL)
    g_array_set_size (hits, 0);
  memset (frame, 0, sizeof *frame);
  frame->width = width;
  frame->height = height;
  cache_sync (self);

  d.small = make_layout (st, 0.85, TRUE);
  text_extent (d.small, "0.9", NULL, &th);
  axis_title_w = th;

  frame->empty = self->series == NULL
                 || (self->n_cached == 0 && hydra_series_get_n_epochs (self->series) == 0);
  if (frame->empty || width < 80 || height < 60)
    {
      if (frame->empty)
        draw_empty (&d, empty_text (self));
      g_object_unref (d.small);
      frame->valid = TRUE;
      frame->empty = TRUE;
      return;
    }

  /* vertical layout: legend, marker strip, panel(s), x labels, x title */
  frame->n_panels = self->view == HYDRA_PLOT_BALANCE ? 2 : 1;
  frame->panels[0].ch_first = self->view == HYDRA_PLOT_LOSS ? 0 : CH_GRAD0;
  frame->panels[0].ch_end = self->view == HYDRA_PLOT_LOSS ? CH_GRAD0 : CH_COS0;
  frame->panels[0].log = self->log_scale;
  frame->panels[1].ch_first = CH_COS0;
  frame->panels[1].ch_end = N_CHANNELS;
  frame->panels[1].log = FALSE;

  legend_h = legend (&d, PAD + axis_title_w + 48, PAD, width - 2 * PAD - axis_title_w - 48, FALSE);
  has_markers = hydra_series_get_n_markers (self->series) > 0;
  if (has_markers)
    strip_h = th + 6;
  top = PAD + legend_h + 6 + strip_h;
  bottom = height - PAD - 2 * th - 8;
  plot_h = bottom - top;
  if (frame->n_panels == 1)
    {
      frame->panels[0].area.origin.y = top;
      frame->panels[0].area.size.height = plot_h;
    }
  else
    {
      double gap = 28, upper = round ((plot_h - gap) * 0.6);

      frame->panels[0].area.origin.y = top;
      frame->panels[0].area.size.height = upper;
      frame->panels[1].area.origin.y = top + upper + gap;
      frame->panels[1].area.size.height = plot_h - upper - gap;
    }

  /* x range, then the y ranges of what it shows, then tick labels: their width sets the left */
  x_range (self, &frame->x0, &frame->x1);
  left = 0;
  for (guint p = 0; p < frame->n_panels; p++)
    {
      Panel *panel = &frame->panels[p];
      double max_ticks = MAX (2.0, panel->area.size.height / (th * 2.6));

      if (self->y_auto[p])
        y_auto_range (self, p, panel, frame->x0, frame->x1, max_ticks);
      else
        {
          panel->ty0 = self->vy0[p];
          panel->ty1 = self->vy1[p];
        }
      n_ticks[p] = panel->log ? log_ticks (panel->ty0, panel->ty1, max_ticks, ticks[p])
                              : linear_ticks (panel->ty0, panel->ty1, max_ticks, FALSE, ticks[p]);
      for (guint i = 0; i < n_ticks[p]; i++)
        if (ticks[p][i].major)
          {
            double w;

            text_extent (d.small, ticks[p][i].label, &w, NULL);
            left = MAX (left, w);
          }
    }
  left = round (PAD + axis_title_w + 8 + left + 8);
  for (guint p = 0; p < frame->n_panels; p++)
    {
      frame->panels[p].area.origin.x = left;
      frame->panels[p].area.size.width = MAX (1, width - PAD - 8 - left);
    }

  /* grid, axes, legend, markers */
  cairo_set_line_width (cr, 1.0);
  for (guint p = 0; p < frame->n_panels; p++)
    draw_y_axis (&d, p, ticks[p], n_ticks[p], panel_title (self, p));
  draw_x_axis (&d);
  legend (&d, left, PAD, width - PAD - left, TRUE);
  if (has_markers)
    draw_markers (&d, top - strip_h, strip_h);

  /* the curves, each panel clipped to its area. After a rollback, the steps a later segment
   * replaced are drawn faded: still there, but plainly abandoned. */
  sv = g_new0 (SegmentView, 2 * MAX (self->n_segments, 1));
  for (guint s = 0; s < self->n_segments; s++)
    {
      guint a = self->segments[s], b = segment_end (self, s), k = b;
      double cut = INFINITY;

      for (guint t = s + 1; t < self->n_segments; t++)
        cut = MIN (cut, self->xs[self->segments[t]]);
      if (isfinite (cut))
        k = lower_bound (self->xs, a, b, cut);
      if (k > a)
        add_segment_view (&sv[n_sv++], self->xs, a, k, FALSE, frame);
      if (k < b)
        add_segment_view (&sv[n_sv++], self->xs, k > a ? k - 1 : k, b, TRUE, frame);
    }
  cols = g_new (HydraPlotColumn, (gsize) ceil (frame->panels[0].area.size.width) + 1);

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint p = 0; p < frame->n_panels; p++)
    {
      const Panel *panel = &frame->panels[p];
      static const guint loss_order[] = {
        HYDRA_CURVE_AGE_WEIGHTED, HYDRA_CURVE_GENDER_WEIGHTED, HYDRA_CURVE_RACE_WEIGHTED,
        HYDRA_CURVE_AGE,          HYDRA_CURVE_GENDER,          HYDRA_CURVE_RACE,
        HYDRA_CURVE_TOTAL,
      };
      guint order[HYDRA_N_CURVES];
      guint n_order = 0;

      for (guint k = 0; k < G_N_ELEMENTS (loss_order); k++)
        {
          guint ch = self->view == HYDRA_PLOT_LOSS ? loss_order[k] : panel->ch_first + k;

          if (ch < panel->ch_end && channel_visible (self, ch))
            order[n_order++] = ch;
        }

      cairo_save (cr);
      cairo_rectangle (cr, panel->area.origin.x, panel->area.origin.y - 4,
                       panel->area.size.width + 4, panel->area.size.height + 4);
      cairo_clip (cr);
      if (self->show_training || self->view == HYDRA_PLOT_BALANCE)
        {
          if (self->smoothing > 0)
            for (guint k = 0; k < n_order; k++)
              draw_channel (&d, panel, sv, n_sv, order[k], TRUE, cols);
          for (guint k = 0; k < n_order; k++)
            draw_channel (&d, panel, sv, n_sv, order[k], FALSE, cols);
        }
      if (self->view == HYDRA_PLOT_LOSS && self->show_validation)
        draw_validation (&d, panel);
      cairo_restore (cr);
    }

  for (guint s = 0; s < n_sv; s++)
    g_free (sv[s].bounds);
  g_object_unref (d.small);
  frame->valid = TRUE;
}

/* ---------------------------------------------------------------------------------------
 * Hover and zoom box
 */

static int
panel_at (HydraLossPlot *self, double x, double y, double slack)
{
  const Frame *f = &self->frame;

  if (!f->valid || f->empty)
    return -1;
  for (guint p = 0; p < f->n_panels; p++)
    {
      const graphene_rect_t *a = &f->panels[p].area;

      if (x >= a->origin.x - slack && x <= a->origin.x + a->size.width + slack
          && y >= a->origin.y - slack && y <= a->origin.y + a->size.height + slack)
        return p;
    }
  return -1;
}

/* The step point nearest to x: in the latest segment that covers x, else at the nearest
 * end of a segment (after a rollback, the abandoned steps stay visible and hoverable). */
static gboolean
nearest_point (HydraLossPlot *self, double x, guint *index)
{
  double best_dist = INFINITY;

  for (guint s = self->n_segments; s-- > 0;)
    {
      guint a = self->segments[s], b = segment_end (self, s), i;

      if (b <= a)
        continue;
      if (x < self->xs[a] || x > self->xs[b - 1])
        {
          double da = fabs (self->xs[a] - x), db = fabs (self->xs[b - 1] - x);

          if (MIN (da, db) < best_dist)
            {
              best_dist = MIN (da, db);
              *index = da < db ? a : b - 1;
            }
          continue;
        }
      i = lower_bound (self->xs, a, b, x);
      if (i > a && x - self->xs[i - 1] < self->xs[i] - x)
        i--;
      *index = i;
      return TRUE;
    }
  return isfinite (best_dist);
}

typedef struct
{
  guint ch; /* or G_MAXUINT for a plain text row */
  char name[64];
  char value[32];
  char raw[32];
  gboolean heading;
} TipRow;

static void
draw_tooltip (Draw *d, TipRow *rows, guint n_rows, double px, double py)
{
  cairo_t *cr = d->cr;
  const Style *st = d->st;
  double name_w = 0, value_w = 0, raw_w = 0, row_h, w, h, x, y;
  double pad = 10, swatch = 10;

  text_extent (d->small, "Ag", NULL, &row_h);
  row_h += 3;
  for (guint i = 0; i < n_rows; i++)
    {
      double tw;

      text_extent (d->small, rows[i].name, &tw, NULL);
      if (rows[i].ch == G_MAXUINT)
        tw -= swatch + 6;
      name_w = MAX (name_w, tw);
      text_extent (d->small, rows[i].value, &tw, NULL);
      value_w = MAX (value_w, tw);
      text_extent (d->small, rows[i].raw, &tw, NULL);
      raw_w = MAX (raw_w, tw);
    }
  w = pad + swatch + 6 + name_w + 16 + value_w + (raw_w > 0 ? 12 + raw_w : 0) + pad;
  h = pad * 2 + n_rows * row_h - 3;
  x = px + 18;
  if (x + w > d->width - 4)
    x = px - 18 - w;
  x = round (MAX (4, x));
  y = round (CLAMP (py - h / 2, 4, MAX (4, d->height - h - 4)));

  /* a soft shadow, then the card */
  for (int k = 3; k >= 1; k--)
    {
      rounded_rect (cr, x - k + 0.5, y - k + 1.5 + 1, w + 2 * k, h + 2 * k, 8 + k);
      cairo_set_source_rgba (cr, 0, 0, 0, st->dark ? 0.10 : 0.04);
      cairo_fill (cr);
    }
  rounded_rect (cr, x + 0.5, y + 0.5, w - 1, h - 1, 8);
  if (st->dark)
    cairo_set_source_rgba (cr, 0.22, 0.22, 0.24, 0.97);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.97);
  cairo_fill_preserve (cr);
  set_fg (cr, st, 0.15);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);

  for (guint i = 0; i < n_rows; i++)
    {
      const TipRow *r = &rows[i];
      double ry = y + pad + i * row_h;
      double mid = ry + (row_h - 3) / 2;
      double nx = x + pad + swatch + 6;

      if (r->ch == G_MAXUINT)
        {
          set_fg (cr, st, r->heading ? 0.9 : 0.65);
          if (r->heading)
            {
              g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", r->name);

              pango_layout_set_markup (d->small, markup, -1);
              cairo_move_to (cr, x + pad, ry);
              pango_cairo_show_layout (cr, d->small);
              pango_layout_set_attributes (d->small, NULL);
              {
                PangoAttrList *attrs = pango_attr_list_new ();

                pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
                pango_layout_set_attributes (d->small, attrs);
                pango_attr_list_unref (attrs);
              }
            }
          else
            draw_text (cr, d->small, r->name, x + pad, ry, 0, 0);
          if (r->value[0])
            draw_text (cr, d->small, r->value, x + w - pad - (raw_w > 0 ? raw_w + 12 : 0), ry, 1,
                       0);
          if (r->raw[0])
            draw_text (cr, d->small, r->raw, x + w - pad, ry, 1, 0);
          continue;
        }
      channel_color (r->ch, st, 1.0, cr);
      rounded_rect (cr, x + pad, round (mid - 4), swatch, 8, 2);
      cairo_fill (cr);
      set_fg (cr, st, 0.85);
      draw_text (cr, d->small, r->name, nx, ry, 0, 0);
      draw_text (cr, d->small, r->value, x + w - pad - (raw_w > 0 ? raw_w + 12 : 0), ry, 1, 0);
      if (r->raw[0])
        {
          set_fg (cr, st, 0.5);
          draw_text (cr, d->small, r->raw, x + w - pad, ry, 1, 0);
        }
    }
}

#define MAX_TIP_ROWS 40

static void
draw_hover (Draw *d)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
  TipRow rows[MAX_TIP_ROWS];
  guint n_rows = 0;
  const Panel *p0 = &f->panels[0];
  const Panel *last = &f->panels[f->n_panels - 1];
  double xdata, gx = -1;
  guint i = 0;
  gboolean have_point = FALSE, smoothed = self->smoothing > 0;
  const HydraEpochPoint *val = NULL;
  double val_dist = 9;

  if (panel_at (self, self->hover_x, self->hover_y, 0) < 0)
    return;
  xdata = unmap_x (f, p0, self->hover_x);

  if ((self->show_training || self->view == HYDRA_PLOT_BALANCE) && nearest_point (self, xdata, &i))
    {
      gx = map_x (f, p0, self->xs[i]);
      have_point
          = gx >= p0->area.origin.x - 0.5 && gx <= p0->area.origin.x + p0->area.size.width + 0.5;
    }
  if (self->view == HYDRA_PLOT_LOSS && self->show_validation)
    for (guint e = 0; e < hydra_series_get_n_epochs (self->series); e++)
      {
        const HydraEpochPoint *ep = hydra_series_get_epoch (self->series, e);
        double dist = fabs (map_x (f, p0, epoch_x (self, ep)) - self->hover_x);

        if (dist <= val_dist)
          val = ep, val_dist = dist;
      }
  if (!have_point && val == NULL)
    return;
  if (!have_point)
    gx = map_x (f, p0, epoch_x (self, val));

  /* guide */
  set_fg (cr, d->st, 0.35);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, snap (gx), p0->area.origin.y);
  cairo_line_to (cr, snap (gx), last->area.origin.y + last->area.size.height);
  cairo_stroke (cr);

  /* header */
  rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", TRUE };
  if (have_point)
    {
      const HydraStepPoint *pt = hydra_series_get_step (self->series, i);

      g_snprintf (rows[n_rows].name, sizeof rows[n_rows].name,
                  "Step %" G_GINT64_FORMAT "  ·  epoch %.2f", (gint64) pt->step, pt->epoch);
    }
  else
    g_snprintf (rows[n_rows].name, sizeof rows[n_rows].name, "Validation after epoch %d",
                val->epoch);
  n_rows++;

  if (have_point)
    {
      for (guint p = 0; p < f->n_panels; p++)
        {
          const Panel *panel = &f->panels[p];

          if (smoothed || self->view == HYDRA_PLOT_BALANCE)
            {
              rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", FALSE };
              if (self->view == HYDRA_PLOT_BALANCE)
                g_strlcpy (rows[n_rows].name, p == 0 ? "gradient norm" : "cosine",
                           sizeof rows[n_rows].name);
              if (smoothed && p == 0)
                {
                  g_strlcpy (rows[n_rows].value, "smoothed", sizeof rows[n_rows].value);
                  g_strlcpy (rows[n_rows].raw, "raw", sizeof rows[n_rows].raw);
                }
              n_rows++;
            }

          for (guint ch = panel->ch_first; ch < panel->ch_end && n_rows < MAX_TIP_ROWS; ch++)
            {
              const float *sm;
              TipRow *r;

              if (!channel_visible (self, ch))
                continue;
              sm = channel_smooth (self, ch);
              r = &rows[n_rows++];
              r->ch = ch;
              r->heading = FALSE;
              channel_name (self, ch, r->name, sizeof r->name);
              format_number (r->value, sizeof r->value, sm[i], -1);
              r->raw[0] = '\0';
              if (smoothed)
                format_number (r->raw, sizeof r->raw, self->channels[ch].raw[i], -1);

              if (value_ok (panel, sm[i]))
                {
                  double y = map_y (panel, transform (panel, sm[i]));

                  if (y >= panel->area.origin.y - 1
                      && y <= panel->area.origin.y + panel->area.size.height + 1)
                    {
                      cairo_new_path (cr);
                      cairo_arc (cr, gx, y, 5.5, 0, 2 * G_PI);
                      set_bg (cr, d->st, 1.0);
                      cairo_fill (cr);
                      cairo_arc (cr, gx, y, 4.0, 0, 2 * G_PI);
                      channel_color (ch, d->st, 1.0, cr);
                      cairo_fill (cr);
                    }
                }
            }
        }
    }

  if (val != NULL && n_rows + 1 < MAX_TIP_ROWS)
    {
      if (have_point)
        {
          rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", TRUE };
          g_snprintf (rows[n_rows].name, sizeof rows[n_rows].name, "Validation after epoch %d",
                      val->epoch);
          n_rows++;
        }
      for (guint c = 0; c < HYDRA_N_CURVES && n_rows < MAX_TIP_ROWS; c++)
        {
          TipRow *r;

          if (!self->curve_visible[c])
            continue;
          r = &rows[n_rows++];
          *r = (TipRow){ c, "", "", "", FALSE };
          channel_name (self, c, r->name, sizeof r->name);
          format_number (r->value, sizeof r->value, val->loss[c], -1);
        }
      if (n_rows < MAX_TIP_ROWS)
        {
          TipRow *r = &rows[n_rows++];

          *r = (TipRow){ G_MAXUINT, "", "", "", FALSE };
          g_snprintf (r->name, sizeof r->name, "age MAE %.2f y · gender %.1f%% · race %.1f%%",
                      val->eval.age_mae, 100 * val->eval.gender_acc, 100 * val->eval.race_acc);
        }
    }

  /* markers under the pointer */
  for (guint m = 0; m < hydra_series_get_n_markers (self->series) && n_rows < MAX_TIP_ROWS; m++)
    {
      const HydraMarker *mk = hydra_series_get_marker (self->series, m);
      double mx;

      if (!marker_x (self, mk->step, &mx) || fabs (map_x (f, p0, mx) - self->hover_x) > 5)
        continue;
      rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", FALSE };
      g_snprintf (rows[n_rows].name, sizeof rows[n_rows].name, "⚑ %s (step %" G_GINT64_FORMAT ")",
                  mk->label, (gint64) mk->step);
      n_rows++;
    }

  draw_tooltip (d, rows, n_rows, self->hover_x, self->hover_y);
}

static void
draw_overlay (HydraLossPlot *self, cairo_t *cr, const Style *st)
{
  Draw d = { self, cr, st, &self->frame, self->frame.width, self->frame.height, NULL, NULL };

  if (!self->frame.valid || self->frame.empty)
    return;
  d.small = make_layout (st, 0.85, TRUE);
  if (self->drag_mode == DRAG_BOX && self->drag_panel >= 0)
    {
      const graphene_rect_t *a = &self->frame.panels[self->drag_panel].area;
      double x0 = CLAMP (self->drag_x, a->origin.x, a->origin.x + a->size.width);
      double y0 = CLAMP (self->drag_y, a->origin.y, a->origin.y + a->size.height);
      double x1 = CLAMP (self->drag_x + self->drag_dx, a->origin.x, a->origin.x + a->size.width);
      double y1 = CLAMP (self->drag_y + self->drag_dy, a->origin.y, a->origin.y + a->size.height);

      if (fabs (x1 - x0) < DRAG_THRESHOLD)
        x0 = a->origin.x, x1 = a->origin.x + a->size.width;
      if (fabs (y1 - y0) < DRAG_THRESHOLD)
        y0 = a->origin.y, y1 = a->origin.y + a->size.height;
      cairo_rectangle (cr, snap (MIN (x0, x1)), snap (MIN (y0, y1)), round (fabs (x1 - x0)),
                       round (fabs (y1 - y0)));
      cairo_set_source_rgba (cr, accent.r, accent.g, accent.b, 0.12);
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, accent.r, accent.g, accent.b, 0.8);
      cairo_set_line_width (cr, 1.0);
      cairo_stroke (cr);
    }
  else if (self->hovering && self->drag_mode == DRAG_NONE)
    draw_hover (&d);
  g_object_unref (d.small);
}

/* ---------------------------------------------------------------------------------------
 * Styles
 */

static void
style_init_widget (HydraLossPlot *self, Style *st)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkStyleContext *context = gtk_widget_get_style_context (widget);
  static const char *bg_names[] = {
    "view_bg_color",
    "window_bg_color",
    "theme_base_color",
    "theme_bg_color",
  };
  double lum;
  gboolean found = FALSE;

  gtk_style_context_get_color (context, &st->fg);
  lum = 0.2126 * st->fg.red + 0.7152 * st->fg.green + 0.0722 * st->fg.blue;
  st->dark = lum > 0.5;
  for (guint i = 0; i < G_N_ELEMENTS (bg_names) && !found; i++)
    found = gtk_style_context_lookup_color (context, bg_names[i], &st->bg);
  if (!found)
    st->bg = st->dark ? (GdkRGBA){ 0.14, 0.14, 0.14, 1 } : (GdkRGBA){ 1, 1, 1, 1 };
  st->context = gtk_widget_get_pango_context (widget);
  st->font = pango_font_description_copy (pango_context_get_font_description (st->context));
}

/* The export style: the light theme on white, whatever the screen uses. */
static void
style_init_export (HydraLossPlot *self, Style *st, cairo_t *cr)
{
  PangoContext *widget_context = gtk_widget_get_pango_context (GTK_WIDGET (self));

  st->fg = (GdkRGBA){ 0.12, 0.12, 0.13, 1.0 };
  st->bg = (GdkRGBA){ 1, 1, 1, 1 };
  st->dark = FALSE;
  st->context = pango_cairo_create_context (cr);
  st->font = pango_font_description_copy (pango_context_get_font_description (widget_context));
}

static void
style_clear (Style *st, gboolean owns_context)
{
  if (owns_context)
    g_clear_object (&st->context);
  g_clear_pointer (&st->font, pango_font_description_free);
}

/* ---------------------------------------------------------------------------------------
 * Widget
 */

static void
invalidate (HydraLossPlot *self)
{
  g_clear_pointer (&self->static_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
notify_zoomed (HydraLossPlot *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOMED]);
}

static void
on_series_changed (HydraLossPlot *self, HydraSeries *series)
{
  if (hydra_series_get_n_steps (series) < self->n_cached)
    cache_reset (self);
  invalidate (self);
}

static void
on_age_loss_changed (HydraLossPlot *self, GParamSpec *pspec, HydraSeries *series)
{
  invalidate (self);
}

static void
hydra_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, width, height);
  Style st;

  if (width <= 0 || height <= 0)
    return;
  style_init_widget (self, &st);
  if (self->static_node == NULL || self->frame.width != width || self->frame.height != height)
    {
      GtkSnapshot *s = gtk_snapshot_new ();
      cairo_t *cr = gtk_snapshot_append_cairo (s, &bounds);

      g_clear_pointer (&self->static_node, gsk_render_node_unref);
      draw_static (self, cr, width, height, &st, &self->frame, self->legend_hits);
      cairo_destroy (cr);
      self->static_node = gtk_snapshot_free_to_node (s);
    }
  if (self->static_node != NULL)
    gtk_snapshot_append_node (snapshot, self->static_node);
  if (!self->frame.empty && (self->hovering || self->drag_mode == DRAG_BOX))
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);

      draw_overlay (self, cr, &st);
      cairo_destroy (cr);
    }
  style_clear (&st, FALSE);
}

static void
hydra_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                         int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 240;
      *natural = 640;
    }
  else
    {
      *minimum = 180;
      *natural = 360;
    }
}

static void
hydra_loss_plot_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (hydra_loss_plot_parent_class)->css_changed (widget, change);
  invalidate (HYDRA_LOSS_PLOT (widget));
}

static void
hydra_loss_plot_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (widget);

  if (self->frame.width != width || self->frame.height != height)
    g_clear_pointer (&self->static_node, gsk_render_node_unref);
}

/* --- view changes --- */

static double
data_span (HydraLossPlot *self)
{
  double lo, hi;

  if (!data_x_extent (self, &lo, &hi))
    return INFINITY;
  return MAX (hi - lo, min_x_span (self));
}

static void
set_x_view (HydraLossPlot *self, double x0, double x1)
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

static void
set_y_view (HydraLossPlot *self, guint p, double ty0, double ty1)
{
  if (!isfinite (ty0) || !isfinite (ty1) || ty1 - ty0 < 1e-9 * MAX (1.0, fabs (ty1)))
    return;
  self->y_auto[p] = FALSE;
  self->vy0[p] = ty0;
  self->vy1[p] = ty1;
}

/* The view now, which may be newer than the last picture (several wheel clicks a frame). */
static void
current_view (HydraLossPlot *self, guint pi, double *x0, double *x1, double *ty0, double *ty1)
{
  cache_sync (self);
  x_range (self, x0, x1);
  if (ty0 == NULL)
    return;
  *ty0 = self->y_auto[pi] ? self->frame.panels[pi].ty0 : self->vy0[pi];
  *ty1 = self->y_auto[pi] ? self->frame.panels[pi].ty1 : self->vy1[pi];
}

static void
zoom_x (HydraLossPlot *self, double px, double factor)
{
  const graphene_rect_t *a = &self->frame.panels[0].area;
  double v0, v1, x, x0, x1;

  current_view (self, 0, &v0, &v1, NULL, NULL);
  x = v0 + CLAMP ((px - a->origin.x) / a->size.width, 0, 1) * (v1 - v0);
  x0 = x - (x - v0) * factor;
  x1 = x + (v1 - x) * factor;
  if (factor > 1 && x1 - x0 >= data_span (self))
    self->x_auto = TRUE;
  else
    set_x_view (self, x0, x1);
}

static void
zoom_y (HydraLossPlot *self, guint pi, double py, double factor)
{
  const graphene_rect_t *a = &self->frame.panels[pi].area;
  double v0, v1, ty0, ty1, ty;

  current_view (self, pi, &v0, &v1, &ty0, &ty1);
  ty = ty0 + CLAMP ((a->origin.y + a->size.height - py) / a->size.height, 0, 1) * (ty1 - ty0);
  set_y_view (self, pi, ty - (ty - ty0) * factor, ty + (ty1 - ty) * factor);
}

static gboolean
on_scroll (GtkEventControllerScroll *controller, double dx, double dy, HydraLossPlot *self)
{
  GdkModifierType mods
      = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  GdkEvent *event = gtk_event_controller_get_current_event (GTK_EVENT_CONTROLLER (controller));
  double x = self->hover_x, y = self->hover_y;
  int p;

  /* scroll events may carry no position (X11): the last motion's is the pointer's */
  if (event == NULL || !gdk_event_get_position (event, &x, &y) || isnan (x) || isnan (y))
    x = self->hover_x, y = self->hover_y;
  p = panel_at (self, x, y, 4);
  if (p < 0)
    return FALSE;
  if (mods & GDK_CONTROL_MASK)
    zoom_y (self, p, y, pow (ZOOM_STEP, dy));
  else
    {
      if (dy != 0)
        zoom_x (self, x, pow (ZOOM_STEP, dy));
      if (dx != 0)
        {
          double x0, x1, shift;

          current_view (self, 0, &x0, &x1, NULL, NULL);
          shift = dx * 0.1 * (x1 - x0);
          set_x_view (self, x0 + shift, x1 + shift);
        }
    }
  invalidate (self);
  notify_zoomed (self);
  return TRUE;
}

static void
on_motion (GtkEventControllerMotion *controller, double x, double y, HydraLossPlot *self)
{
  gboolean in_plot = panel_at (self, x, y, 0) >= 0;

  self->hovering = TRUE;
  self->hover_x = x;
  self->hover_y = y;
  if (self->drag_mode == DRAG_NONE)
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), in_plot ? "crosshair" : NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_leave (GtkEventControllerMotion *controller, HydraLossPlot *self)
{
  self->hovering = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_begin (HydraLossPlot *self, GtkGesture *gesture, double x, double y, DragMode mode)
{
  int p = panel_at (self, x, y, 0);

  if (p < 0 || self->drag_mode != DRAG_NONE)
    {
      gtk_gesture_set_state (gesture, GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  self->drag_mode = mode;
  self->drag_panel = p;
  self->drag_x = x;
  self->drag_y = y;
  self->drag_dx = self->drag_dy = 0;
  self->drag_vx0 = self->frame.x0;
  self->drag_vx1 = self->frame.x1;
  self->drag_vy0 = self->frame.panels[p].ty0;
  self->drag_vy1 = self->frame.panels[p].ty1;
  self->drag_moved_y = FALSE;
  if (mode == DRAG_PAN)
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grabbing");
}

static void
on_drag_begin (GtkGestureDrag *gesture, double x, double y, HydraLossPlot *self)
{
  GdkModifierType mods
      = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));
  DragMode mode = (button == GDK_BUTTON_MIDDLE || (mods & GDK_SHIFT_MASK)) ? DRAG_PAN : DRAG_BOX;

  if (button != GDK_BUTTON_PRIMARY && button != GDK_BUTTON_MIDDLE)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  drag_begin (self, GTK_GESTURE (gesture), x, y, mode);
}

static void
on_drag_update (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self)
{
  const Frame *f = &self->frame;
  const Panel *p;

  if (self->drag_mode == DRAG_NONE)
    return;
  self->drag_dx = dx;
  self->drag_dy = dy;
  if (self->drag_mode == DRAG_BOX)
    {
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  p = &f->panels[self->drag_panel];
  {
    double sx = -dx / p->area.size.width * (self->drag_vx1 - self->drag_vx0);

    set_x_view (self, self->drag_vx0 + sx, self->drag_vx1 + sx);
  }
  if (fabs (dy) > 3)
    self->drag_moved_y = TRUE;
  if (self->drag_moved_y)
    {
      double sy = dy / p->area.size.height * (self->drag_vy1 - self->drag_vy0);

      set_y_view (self, self->drag_panel, self->drag_vy0 + sy, self->drag_vy1 + sy);
    }
  invalidate (self);
}

static void
on_drag_end (GtkGestureDrag *gesture, double dx, double dy, HydraLossPlot *self)
{
  DragMode mode = self->drag_mode;

  if (mode == DRAG_NONE)
    return;
  self->drag_mode = DRAG_NONE;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "crosshair");
  if (mode == DRAG_BOX)
    {
      const Frame *f = &self->frame;
      const Panel *p = &f->panels[self->drag_panel];
      const graphene_rect_t *a = &p->area;
      double x0 = CLAMP (self->drag_x, a->origin.x, a->origin.x + a->size.width);
      double x1 = CLAMP (self->drag_x + dx, a->origin.x, a->origin.x + a->size.width);
      double y0 = CLAMP (self->drag_y, a->origin.y, a->origin.y + a->size.height);
      double y1 = CLAMP (self->drag_y + dy, a->origin.y, a->origin.y + a->size.height);
      gboolean zx = fabs (x1 - x0) >= DRAG_THRESHOLD, zy = fabs (y1 - y0) >= DRAG_THRESHOLD;

      if (zx)
        set_x_view (self, unmap_x (f, p, MIN (x0, x1)), unmap_x (f, p, MAX (x0, x1)));
      if (zy)
        set_y_view (self, self->drag_panel, unmap_y (p, MAX (y0, y1)), unmap_y (p, MIN (y0, y1)));
    }
  invalidate (self);
  notify_zoomed (self);
}

static void
on_drag_cancel (GtkGesture *gesture, GdkEventSequence *sequence, HydraLossPlot *self)
{
  if (self->drag_mode == DRAG_NONE)
    return;
  self->drag_mode = DRAG_NONE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_click_pressed (GtkGestureClick *gesture, int n_press, double x, double y, HydraLossPlot *self)
{
  if (n_press == 2 && panel_at (self, x, y, 0) >= 0)
    {
      hydra_loss_plot_reset_view (self);
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    }
}

static void
on_click_released (GtkGestureClick *gesture, int n_press, double x, double y, HydraLossPlot *self)
{
  if (n_press != 1)
    return;
  for (guint i = 0; i < self->legend_hits->len; i++)
    {
      const LegendHit *hit = &g_array_index (self->legend_hits, LegendHit, i);

      if (!graphene_rect_contains_point (&hit->rect, &GRAPHENE_POINT_INIT (x, y)))
        continue;
      switch (hit->kind)
        {
        case HIT_LOSS:
          hydra_loss_plot_set_curve_visible (self, hit->index, !self->curve_visible[hit->index]);
          break;
        case HIT_BALANCE:
          hydra_loss_plot_set_balance_curve_visible (self, hit->index,
                                                     !self->balance_visible[hit->index]);
          break;
        case HIT_VALIDATION:
          hydra_loss_plot_set_show_validation (self, !self->show_validation);
          break;
        default:
          break;
        }
      return;
    }
}

static void
hydra_loss_plot_dispose (GObject *object)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  hydra_loss_plot_set_series (self, NULL);
  g_clear_pointer (&self->static_node, gsk_render_node_unref);

  G_OBJECT_CLASS (hydra_loss_plot_parent_class)->dispose (object);
}

static void
hydra_loss_plot_finalize (GObject *object)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  cache_free (self);
  g_clear_pointer (&self->legend_hits, g_array_unref);

  G_OBJECT_CLASS (hydra_loss_plot_parent_class)->finalize (object);
}

static void
hydra_loss_plot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      g_value_set_object (value, self->series);
      break;
    case PROP_VIEW:
      g_value_set_enum (value, self->view);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_LOG_SCALE:
      g_value_set_boolean (value, self->log_scale);
      break;
    case PROP_X_EPOCHS:
      g_value_set_boolean (value, self->x_epochs);
      break;
    case PROP_SHOW_TRAINING:
      g_value_set_boolean (value, self->show_training);
      break;
    case PROP_SHOW_VALIDATION:
      g_value_set_boolean (value, self->show_validation);
      break;
    case PROP_ZOOMED:
      g_value_set_boolean (value, hydra_loss_plot_get_zoomed (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_loss_plot_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      hydra_loss_plot_set_series (self, g_value_get_object (value));
      break;
    case PROP_VIEW:
      hydra_loss_plot_set_view (self, g_value_get_enum (value));
      break;
    case PROP_SMOOTHING:
      hydra_loss_plot_set_smoothing (self, g_value_get_double (value));
      break;
    case PROP_LOG_SCALE:
      hydra_loss_plot_set_log_scale (self, g_value_get_boolean (value));
      break;
    case PROP_X_EPOCHS:
      hydra_loss_plot_set_x_epochs (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_TRAINING:
      hydra_loss_plot_set_show_training (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_VALIDATION:
      hydra_loss_plot_set_show_validation (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_loss_plot_class_init (HydraLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_loss_plot_dispose;
  object_class->finalize = hydra_loss_plot_finalize;
  object_class->get_property = hydra_loss_plot_get_property;
  object_class->set_property = hydra_loss_plot_set_property;

  widget_class->snapshot = hydra_loss_plot_snapshot;
  widget_class->measure = hydra_loss_plot_measure;
  widget_class->css_changed = hydra_loss_plot_css_changed;
  widget_class->size_allocate = hydra_loss_plot_size_allocate;

  properties[PROP_SERIES]
      = g_param_spec_object ("series", NULL, NULL, HYDRA_TYPE_SERIES,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VIEW]
      = g_param_spec_enum ("view", NULL, NULL, HYDRA_TYPE_PLOT_VIEW, HYDRA_PLOT_LOSS,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTHING]
      = g_param_spec_double ("smoothing", NULL, NULL, 0.0, 0.999, 0.6,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOG_SCALE]
      = g_param_spec_boolean ("log-scale", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_X_EPOCHS]
      = g_param_spec_boolean ("x-epochs", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_TRAINING]
      = g_param_spec_boolean ("show-training", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_VALIDATION]
      = g_param_spec_boolean ("show-validation", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOMED] = g_param_spec_boolean ("zoomed", NULL, NULL, FALSE,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CURVE_TOGGLED]
      = g_signal_new ("curve-toggled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, HYDRA_TYPE_PLOT_VIEW, G_TYPE_UINT, G_TYPE_BOOLEAN);

  gtk_widget_class_set_css_name (widget_class, "hydra-loss-plot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hydra_loss_plot_init (HydraLossPlot *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->legend_hits = g_array_new (FALSE, FALSE, sizeof (LegendHit));
  self->view = HYDRA_PLOT_LOSS;
  self->smoothing = 0.6;
  self->show_training = TRUE;
  self->show_validation = TRUE;
  self->curve_visible[HYDRA_CURVE_AGE] = TRUE;
  self->curve_visible[HYDRA_CURVE_GENDER] = TRUE;
  self->curve_visible[HYDRA_CURVE_RACE] = TRUE;
  self->curve_visible[HYDRA_CURVE_TOTAL] = TRUE;
  for (guint b = 0; b < HYDRA_N_BALANCE_CURVES; b++)
    self->balance_visible[b] = TRUE;
  self->x_auto = TRUE;
  self->y_auto[0] = self->y_auto[1] = TRUE;
  self->drag_panel = -1;

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), 0);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (on_drag_begin), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (on_drag_update), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (on_drag_end), self);
  g_signal_connect (gesture, "cancel", G_CALLBACK (on_drag_cancel), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect (gesture, "pressed", G_CALLBACK (on_click_pressed), self);
  g_signal_connect (gesture, "released", G_CALLBACK (on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Training losses", -1);
}

GtkWidget *
hydra_loss_plot_new (void)
{
  return g_object_new (HYDRA_TYPE_LOSS_PLOT, NULL);
}

HydraSeries *
hydra_loss_plot_get_series (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), NULL);
  return self->series;
}

void
hydra_loss_plot_set_series (HydraLossPlot *self, HydraSeries *series)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (series == NULL || HYDRA_IS_SERIES (series));

  if (self->series == series)
    return;
  if (self->series != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->series, self);
      g_clear_object (&self->series);
    }
  if (series != NULL)
    {
      self->series = g_object_ref (series);
      g_signal_connect_object (series, "changed", G_CALLBACK (on_series_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (series, "notify::age-loss", G_CALLBACK (on_age_loss_changed), self,
                               G_CONNECT_SWAPPED);
    }
  cache_reset (self);
  self->x_auto = TRUE;
  self->y_auto[0] = self->y_auto[1] = TRUE;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIES]);
  notify_zoomed (self);
}

HydraPlotView
hydra_loss_plot_get_view (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), HYDRA_PLOT_LOSS);
  return self->view;
}

void
hydra_loss_plot_set_view (HydraLossPlot *self, HydraPlotView view)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (view == HYDRA_PLOT_LOSS || view == HYDRA_PLOT_BALANCE);

  if (self->view == view)
    return;
  self->view = view;
  self->y_auto[0] = self->y_auto[1] = TRUE;
  gtk_accessible_update_property (
      GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
      view == HYDRA_PLOT_LOSS ? "Training losses" : "Gradient balance of the heads", -1);
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
  notify_zoomed (self);
}

double
hydra_loss_plot_get_smoothing (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), 0);
  return self->smoothing;
}

void
hydra_loss_plot_set_smoothing (HydraLossPlot *self, double smoothing)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  smoothing = CLAMP (smoothing, 0.0, 0.999);
  if (self->smoothing == smoothing)
    return;
  self->smoothing = smoothing;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
}

gboolean
hydra_loss_plot_get_log_scale (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->log_scale;
}

void
hydra_loss_plot_set_log_scale (HydraLossPlot *self, gboolean log_scale)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  log_scale = !!log_scale;
  if (self->log_scale == log_scale)
    return;
  self->log_scale = log_scale;
  self->y_auto[0] = TRUE;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_SCALE]);
  notify_zoomed (self);
}

gboolean
hydra_loss_plot_get_x_epochs (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->x_epochs;
}

void
hydra_loss_plot_set_x_epochs (HydraLossPlot *self, gboolean x_epochs)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  x_epochs = !!x_epochs;
  if (self->x_epochs == x_epochs)
    return;
  self->x_epochs = x_epochs;
  self->x_auto = TRUE;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_EPOCHS]);
  notify_zoomed (self);
}

gboolean
hydra_loss_plot_get_show_training (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->show_training;
}

void
hydra_loss_plot_set_show_training (HydraLossPlot *self, gboolean show)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  show = !!show;
  if (self->show_training == show)
    return;
  self->show_training = show;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_TRAINING]);
}

gboolean
hydra_loss_plot_get_show_validation (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->show_validation;
}

void
hydra_loss_plot_set_show_validation (HydraLossPlot *self, gboolean show)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  show = !!show;
  if (self->show_validation == show)
    return;
  self->show_validation = show;
  invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_VALIDATION]);
}

gboolean
hydra_loss_plot_get_zoomed (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return !self->x_auto || !self->y_auto[0]
         || (self->view == HYDRA_PLOT_BALANCE && !self->y_auto[1]);
}

gboolean
hydra_loss_plot_get_curve_visible (HydraLossPlot *self, HydraCurve curve)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (curve < HYDRA_N_CURVES, FALSE);
  return self->curve_visible[curve];
}

void
hydra_loss_plot_set_curve_visible (HydraLossPlot *self, HydraCurve curve, gboolean visible)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (curve < HYDRA_N_CURVES);

  visible = !!visible;
  if (self->curve_visible[curve] == visible)
    return;
  self->curve_visible[curve] = visible;
  invalidate (self);
  g_signal_emit (self, signals[CURVE_TOGGLED], 0, HYDRA_PLOT_LOSS, (guint) curve, visible);
}

gboolean
hydra_loss_plot_get_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (curve < HYDRA_N_BALANCE_CURVES, FALSE);
  return self->balance_visible[curve];
}

void
hydra_loss_plot_set_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve,
                                           gboolean visible)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (curve < HYDRA_N_BALANCE_CURVES);

  visible = !!visible;
  if (self->balance_visible[curve] == visible)
    return;
  self->balance_visible[curve] = visible;
  invalidate (self);
  g_signal_emit (self, signals[CURVE_TOGGLED], 0, HYDRA_PLOT_BALANCE, (guint) curve, visible);
}

void
hydra_loss_plot_reset_view (HydraLossPlot *self)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  self->x_auto = TRUE;
  self->y_auto[0] = self->y_auto[1] = TRUE;
  invalidate (self);
  notify_zoomed (self);
}

void
hydra_loss_plot_get_x_range (HydraLossPlot *self, double *x0, double *x1)
{
  double lo, hi;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  cache_sync (self);
  x_range (self, &lo, &hi);
  if (x0 != NULL)
    *x0 = lo;
  if (x1 != NULL)
    *x1 = hi;
}

void
hydra_loss_plot_set_x_range (HydraLossPlot *self, double x0, double x1)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (isfinite (x0) && isfinite (x1) && x1 > x0);

  set_x_view (self, x0, x1);
  invalidate (self);
  notify_zoomed (self);
}

void
hydra_loss_plot_render (HydraLossPlot *self, cairo_t *cr, int width, int height)
{
  Style st;
  Frame frame;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (cr != NULL);

  style_init_export (self, &st, cr);
  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  draw_static (self, cr, width, height, &st, &frame, NULL);
  cairo_restore (cr);
  style_clear (&st, TRUE);
}

/* ---------------------------------------------------------------------------------------
 * Export
 */

static cairo_status_t
append_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

typedef enum
{
  FORMAT_PNG,
  FORMAT_SVG,
  FORMAT_CSV,
} ExportFormat;

static gboolean
export_format (const char *path, ExportFormat *format, GError **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".png"))
    *format = FORMAT_PNG;
  else if (g_str_has_suffix (lower, ".svg"))
    *format = FORMAT_SVG;
  else if (g_str_has_suffix (lower, ".csv"))
    *format = FORMAT_CSV;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "Cannot export to “%s”: the name must end in .png, .svg or .csv", path);
      return FALSE;
    }
  return TRUE;
}

/* Draws the picture into memory, in the file's format. */
static GBytes *
render_image (HydraLossPlot *self, ExportFormat format, int width, int height, GError **error)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;

  if (width < 16 || height < 16 || width > 16384 || height > 16384)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot export a %d × %d picture: each side must be 16 to 16384", width, height);
      return NULL;
    }
  if (format == FORMAT_SVG)
    surface = cairo_svg_surface_create_for_stream (append_bytes, bytes, width, height);
  else
    surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  hydra_loss_plot_render (self, cr, width, height);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS && format == FORMAT_PNG)
    status = cairo_surface_write_to_png_stream (surface, append_bytes, bytes);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not draw the plot: %s",
                   cairo_status_to_string (status));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

static gboolean
write_bytes (const char *path, GBytes *bytes, GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  return g_file_set_contents (path, data, size, error);
}

gboolean
hydra_loss_plot_export (HydraLossPlot *self, const char *path, int width, int height,
                        GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  ExportFormat format;

  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!export_format (path, &format, error))
    return FALSE;
  if (format == FORMAT_CSV)
    {
      if (self->series == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "There is nothing to export");
          return FALSE;
        }
      return hydra_series_write_csv (self->series, path, error);
    }
  bytes = render_image (self, format, width, height, error);
  return bytes != NULL && write_bytes (path, bytes, error);
}

typedef struct
{
  char *path;
  GBytes *bytes;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_free (job->path);
  g_clear_pointer (&job->bytes, g_bytes_unref);
  g_free (job);
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportJob *job = task_data;
  GError *error = NULL;

  if (write_bytes (job->path, job->bytes, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_csv_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (hydra_series_write_csv_finish (HYDRA_SERIES (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
hydra_loss_plot_export_async (HydraLossPlot *self, const char *path, int width, int height,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;
  ExportFormat format;
  ExportJob *job;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_loss_plot_export_async);
  if (!export_format (path, &format, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (format == FORMAT_CSV)
    {
      if (self->series == NULL)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "There is nothing to export");
      else
        hydra_series_write_csv_async (self->series, path, cancellable, export_csv_done,
                                      g_steal_pointer (&task));
      return;
    }
  job = g_new0 (ExportJob, 1);
  job->path = g_strdup (path);
  job->bytes = render_image (self, format, width, height, &error);
  g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
  if (job->bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_run_in_thread (task, export_thread);
}

gboolean
hydra_loss_plot_export_finish (HydraLossPlot *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
