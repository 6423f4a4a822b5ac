/* hydra-loss-plot-curves.c — the curves: each channel's look, its points as lines (or, where
 * they are denser than the pixels, as per-column envelopes), and the validation points. */

#include "hydra-loss-plot-private.h"

#include "chart/hydra-chart-draw.h"
#include "hydra-plot-pen.h"

/* The cosines' colours, after the heads' (hydra_chart_head_colors). The total takes the text
 * colour, the strongest neutral. */
static const GdkRGBA cosine_colors[] = {
  { 0x26 / 255., 0xa2 / 255., 0x69 / 255., 1.0 }, /* age·gender: green */
  { 0xc8 / 255., 0x88 / 255., 0x00 / 255., 1.0 }, /* age·race: gold */
  { 0xe0 / 255., 0x1b / 255., 0x24 / 255., 1.0 }, /* gender·race: red */
};

/* The learning rate: GNOME green 5, a colour no loss curve uses. */
static const GdkRGBA lr_color = { 0x26 / 255., 0xa2 / 255., 0x69 / 255., 1.0 };

static const double dash_weighted[] = { 6.0, 4.0 };
const double hydra_plot_dash_validation[] = { 4.0, 3.0 };

G_STATIC_ASSERT (MAX_RUNS == HYDRA_CHART_N_RUN_COLORS);

/* An overlay's heads: age solid, gender dashed, race dotted (round caps make the dots). */
static const double dash_gender[] = { 9.0, 5.0 };
static const double dash_race[] = { 0.5, 4.5 };

/* ---------------------------------------------------------------------------------------
 * Channels
 */

/* The weighted losses are drawn dashed. */
gboolean
hydra_plot_channel_is_weighted (guint ch)
{
  return ch >= HYDRA_CURVE_AGE_WEIGHTED && ch <= HYDRA_CURVE_RACE_WEIGHTED;
}

gboolean
hydra_plot_channel_visible (HydraLossPlot *self, guint ch)
{
  if (ch == CH_LR)
    return self->view == HYDRA_PLOT_LOSS && self->show_lr;
  if (ch < CH_GRAD0)
    return self->view == HYDRA_PLOT_LOSS && self->curve_visible[ch];
  return self->view == HYDRA_PLOT_BALANCE && self->balance_visible[ch - CH_GRAD0];
}

/* Sets the source to the channel's colour at alpha. */
void
hydra_plot_channel_color (guint ch, const Style *st, double alpha, cairo_t *cr)
{
  const GdkRGBA *c;

  if (ch == HYDRA_CURVE_TOTAL)
    {
      cairo_set_source_rgba (cr, st->fg.red, st->fg.green, st->fg.blue, alpha);
      return;
    }
  if (ch < CH_GRAD0)
    c = &hydra_chart_head_colors[ch % N_HEADS];
  else if (ch < CH_COS0)
    c = &hydra_chart_head_colors[ch - CH_GRAD0];
  else if (ch < CH_W0)
    c = &cosine_colors[ch - CH_COS0];
  else if (ch < CH_LR)
    c = &hydra_chart_head_colors[ch - CH_W0];
  else
    c = &lr_color;
  cairo_set_source_rgba (cr, c->red, c->green, c->blue, alpha);
}

void
hydra_plot_run_color (guint run, const Style *st, double alpha, cairo_t *cr)
{
  const GdkRGBA *c = &hydra_chart_run_colors[run % MAX_RUNS];

  cairo_set_source_rgba (cr, c->red, c->green, c->blue, alpha);
}

/* In an overlay, the channel's line style: its head's (the cosines by their pair, in the
 * same order); the total and the rate are solid. NULL for solid. */
const double *
hydra_plot_channel_dash (guint ch, guint *n_dash)
{
  guint k;

  *n_dash = 2;
  if (ch == HYDRA_CURVE_TOTAL || ch == CH_LR)
    return NULL;
  if (ch < CH_GRAD0)
    k = ch % N_HEADS;
  else if (ch < CH_COS0)
    k = ch - CH_GRAD0;
  else if (ch < CH_W0)
    k = ch - CH_COS0;
  else
    k = ch - CH_W0;
  return k == 0 ? NULL : k == 1 ? dash_gender : dash_race;
}

/* A curve's colour: its channel's, or in an overlay its run's. */
void
hydra_plot_curve_color (HydraLossPlot *self, const Track *t, guint ch, const Style *st,
                        double alpha, cairo_t *cr)
{
  if (hydra_plot_overlaid (self))
    hydra_plot_run_color (t->run, st, alpha, cr);
  else
    hydra_plot_channel_color (ch, st, alpha, cr);
}

/* The legend's and tooltip's name: "age (L1)", "w·gender", "age·race", "w_race"… (a loss
 * weight is named as its setting and its markers name it). */
void
hydra_plot_channel_name (HydraLossPlot *self, guint ch, char *buf, gsize size)
{
  static const char *balance[HYDRA_N_BALANCE_CURVES] = {
    "age", "gender", "race", "age·gender", "age·race", "gender·race", "w_age", "w_gender", "w_race",
  };

  if (ch == HYDRA_CURVE_AGE || ch == HYDRA_CURVE_AGE_WEIGHTED)
    g_snprintf (
        buf, size, "%s (%s)", hydra_curve_name (ch),
        age_loss_title (self->series ? hydra_series_get_age_loss (self->series) : AGE_LOSS_L1));
  else if (ch < CH_GRAD0)
    g_strlcpy (buf, hydra_curve_name (ch), size);
  else if (ch < CH_LR)
    g_strlcpy (buf, balance[ch - CH_GRAD0], size);
  else
    g_strlcpy (buf, "learning rate", size);
}

/* ---------------------------------------------------------------------------------------
 * Training curves
 */

/* What a frame draws of one segment (or of the part of it a rollback replaced). */
typedef struct
{
  const double *xs; /* its track's */
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

  v->xs = xs;
  v->a = a;
  v->b = b;
  v->faded = faded;
  v->i0 = hydra_plot_lower_bound (xs, a, b, frame->x0);
  v->i1 = hydra_plot_upper_bound (xs, v->i0, b, frame->x1);
  v->bounds = NULL;
  v->n_columns = 0;
  v->dense_faint = v->i1 - v->i0 > n_columns / 2;
  v->dense = v->i1 - v->i0 > 2 * n_columns;
  if (v->dense_faint)
    {
      v->n_columns = n_columns;
      v->bounds = g_new (guint, n_columns + 1);
      hydra_plot_column_bounds (xs, v->i0, v->i1, frame->x0, frame->x1, n_columns, v->bounds);
    }
}

/* One segment's points drawn one by one: few enough to stroke as they are. */
static void
sparse_path (Draw *d, const Panel *p, const SegmentView *v, const float *y, HydraPlotPen *pen,
             GArray *dots)
{
  const double *xs = v->xs;
  guint j0 = v->i0 > v->a ? v->i0 - 1 : v->i0;
  guint j1 = v->i1 < v->b ? v->i1 + 1 : v->i1;
  guint run = 0;
  double last_x = 0, last_y = 0;

  hydra_plot_pen_lift (pen);
  for (guint i = j0; i <= j1; i++)
    {
      if (i == j1 || !value_ok (p, y[i]))
        {
          if (run == 1)
            {
              graphene_point_t pt = GRAPHENE_POINT_INIT (last_x, last_y);

              g_array_append_val (dots, pt);
            }
          hydra_plot_pen_lift (pen);
          run = 0;
          continue;
        }
      last_x = map_x (d->frame, p, xs[i]);
      last_y = map_y (p, transform (p, y[i]));
      hydra_plot_pen_to (pen, last_x, last_y);
      run++;
    }
}

/* A column of a decimated segment, in pixels. */
typedef struct
{
  double top, bottom; /* its envelope; widened to the previous column's last value */
  double mid;         /* the middle of the envelope before widening: the line's point */
  gboolean boxed;     /* count 0, or taller than the line is wide */
  gboolean swept;     /* the line across it covers its envelope */
  gboolean on_line;
} ColumnPx;

/* Whether the line through the columns' middles, running from halfway to the left one's to
 * halfway to the right one's, covers column c's envelope: then a box there would only be a
 * notch on a smooth curve. */
static gboolean
column_swept (const ColumnPx *px, const HydraPlotColumn *cols, guint c, guint n, double half_width)
{
  double m = px[c].mid, e0 = m, e1 = m;

  if (c > 0 && cols[c - 1].count > 0)
    e0 = (px[c - 1].mid + m) / 2;
  if (c + 1 < n && cols[c + 1].count > 0)
    e1 = (m + px[c + 1].mid) / 2;
  return px[c].top >= MIN (m, MIN (e0, e1)) - half_width - 0.5
         && px[c].bottom <= MAX (m, MAX (e0, e1)) + half_width + 0.5;
}

/* A decimated segment: the envelope of each pixel column as a pixel-aligned box (Cairo fills
 * those fast, where stroking thousands of vertical zigzags is slow), joined by a line through
 * the columns' middles, stroked with antialiasing, which is all that shows where the curve
 * is smooth. Boxes reach from each column's min to its max, widened to take in the previous
 * column's last value so that a step between columns stays connected; where the line sweeps
 * a column's envelope (a smooth curve, however steep) it has no box. */
static void
dense_path (Draw *d, const Panel *p, const SegmentView *v, const float *y, HydraPlotColumn *cols,
            HydraPlotPen *pen, double half_width, gboolean wide_boxes, GArray *boxes)
{
  const double *xs = v->xs;
  double col_w = p->area.size.width / v->n_columns;
  double prev_last = NAN;
  gboolean line = pen != NULL;
  guint n = v->n_columns, first_box = boxes->len;
  g_autofree ColumnPx *px = g_new (ColumnPx, n);

  hydra_plot_decimate_columns (y, v->bounds, n, p->log, cols);
  for (guint c = 0; c < n; c++)
    {
      px[c].boxed = TRUE;
      if (cols[c].count == 0)
        continue;
      px[c].top = map_y (p, transform (p, cols[c].max));
      px[c].bottom = map_y (p, transform (p, cols[c].min));
      px[c].mid = (px[c].top + px[c].bottom) / 2;
      px[c].boxed = px[c].bottom - px[c].top > 2 * half_width;
      if (!isnan (prev_last))
        {
          px[c].top = MIN (px[c].top, prev_last);
          px[c].bottom = MAX (px[c].bottom, prev_last);
        }
      prev_last = map_y (p, transform (p, cols[c].last));
    }
  /* a column's middle joins the line unless it and both neighbours are boxes anyway */
  for (guint c = 0; c < n; c++)
    {
      px[c].swept = line && cols[c].count > 0 && column_swept (px, cols, c, n, half_width);
      px[c].on_line = line && cols[c].count > 0
                      && (!px[c].boxed || (c > 0 && !px[c - 1].boxed)
                          || (c + 1 < n && !px[c + 1].boxed) || px[c].swept);
    }

  if (line)
    hydra_plot_pen_lift (pen);
  if (line && v->i0 > v->a && value_ok (p, y[v->i0 - 1]))
    hydra_plot_pen_to (pen, map_x (d->frame, p, xs[v->i0 - 1]),
                       map_y (p, transform (p, y[v->i0 - 1])));
  for (guint c = 0; c < n; c++)
    {
      const ColumnPx *col = &px[c];
      double x = p->area.origin.x + c * col_w;
      gboolean left_on = c == 0 || cols[c - 1].count == 0 || px[c - 1].on_line;
      gboolean right_on = c + 1 == n || cols[c + 1].count == 0 || px[c + 1].on_line;

      if (cols[c].count == 0)
        continue;
      if (line)
        {
          if (col->on_line)
            hydra_plot_pen_to (pen, x + col_w / 2, col->mid);
          else
            hydra_plot_pen_lift (pen);
        }
      if (!line || (col->bottom - col->top > 1.0 && !(col->swept && left_on && right_on)))
        {
          double y0 = floor (col->top - half_width), y1 = ceil (col->bottom + half_width);
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
  if (line && v->i1 < v->b && value_ok (p, y[v->i1]))
    hydra_plot_pen_to (pen, map_x (d->frame, p, xs[v->i1]), map_y (p, transform (p, y[v->i1])));
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
draw_channel (Draw *d, Track *t, const Panel *p, const SegmentView *sv, guint n_sv, guint ch,
              gboolean faint, HydraPlotColumn *cols)
{
  cairo_t *cr = d->cr;
  HydraLossPlot *self = d->self;
  gboolean overlaid = hydra_plot_overlaid (self);
  const float *y = faint ? t->channels[ch].raw : hydra_plot_track_smooth (self, t, ch);
  g_autoptr (GArray) dots = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
  g_autoptr (GArray) boxes = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  double width = faint ? 1.0 : ch == HYDRA_CURVE_TOTAL ? (overlaid ? 3.0 : 2.25) : 1.75;
  const double *dash = dash_weighted;
  guint n_dash = G_N_ELEMENTS (dash_weighted);
  gboolean dashed = !faint && hydra_plot_channel_is_weighted (ch);
  /* an overlay's weighted losses are their head's style, lighter */
  double weight_alpha = overlaid && hydra_plot_channel_is_weighted (ch) ? 0.5 : 1.0;

  if (overlaid && !faint)
    {
      dash = hydra_plot_channel_dash (ch, &n_dash);
      dashed = dash != NULL;
    }

  /* translucent lines overlap where pieces meet: butt caps keep that to nothing. Cairo's
   * fast antialiasing looks the same on curves and rasterises noisy ones faster. */
  cairo_set_line_cap (cr, faint ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);
  cairo_set_line_width (cr, width);
  for (int faded = 0; faded <= 1; faded++)
    {
      double alpha = (faint ? (d->st->dark ? 0.28 : 0.22) * (overlaid ? 0.6 : 1.0) : weight_alpha)
                     * (faded ? 0.35 : 1.0);
      HydraPlotPen pen;

      hydra_plot_curve_color (self, t, ch, d->st, alpha, cr);
      hydra_plot_pen_init (&pen, cr, dashed ? dash : NULL, n_dash);
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
      hydra_plot_pen_flush (&pen);
      if (boxes->len > 0)
        {
          /* a weighted curve's band is lighter, as its line is dashed */
          if (dashed)
            hydra_plot_curve_color (self, t, ch, d->st, 0.55 * alpha, cr);
          draw_boxes (cr, boxes);
        }
      if (dots->len > 0)
        {
          hydra_plot_curve_color (self, t, ch, d->st, alpha, cr);
          draw_dots (cr, dots, faint ? 1.5 : 3.0);
        }
    }
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_antialias (cr, CAIRO_ANTIALIAS_DEFAULT);
}

/* ---------------------------------------------------------------------------------------
 * Validation
 */

/* Curve c's validation points joined by a dashed line, over a halo in the background colour
 * that keeps the dashes readable across dense bands. A rollback (a step that goes back) or
 * a value the panel cannot show breaks the line. */
static void
validation_line (Draw *d, Track *t, const Panel *p, guint c, guint n)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;

  for (int pass = 0; pass < 2; pass++)
    {
      int64_t prev_step = G_MININT64;
      HydraPlotPen pen;

      if (pass == 0)
        {
          set_bg (cr, d->st, 1.0);
          cairo_set_line_width (cr, 4.0);
          hydra_plot_pen_init (&pen, cr, NULL, 0);
        }
      else
        {
          hydra_plot_curve_color (self, t, c, d->st, 1.0, cr);
          cairo_set_line_width (cr, 1.5);
          hydra_plot_pen_init (&pen, cr, hydra_plot_dash_validation,
                               G_N_ELEMENTS (hydra_plot_dash_validation));
        }
      for (guint e = 0; e < n; e++)
        {
          const HydraEpochPoint *ep = hydra_series_get_epoch (t->series, e);

          if (ep->step <= prev_step || !value_ok (p, ep->loss[c]))
            hydra_plot_pen_lift (&pen);
          prev_step = ep->step;
          if (!value_ok (p, ep->loss[c]))
            continue;
          hydra_plot_pen_to (&pen, map_x (d->frame, p, hydra_plot_track_epoch_x (self, t, ep)),
                             map_y (p, transform (p, ep->loss[c])));
        }
      hydra_plot_pen_flush (&pen);
    }
}

/* Curve c's validation points: dots, or rings for the weighted losses (their curves are
 * dashed), each on a disc of the background colour. */
static void
validation_dots (Draw *d, Track *t, const Panel *p, guint c, guint n)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;

  for (guint e = 0; e < n; e++)
    {
      const HydraEpochPoint *ep = hydra_series_get_epoch (t->series, e);
      double x, y;

      if (!value_ok (p, ep->loss[c]))
        continue;
      x = map_x (d->frame, p, hydra_plot_track_epoch_x (self, t, ep));
      y = map_y (p, transform (p, ep->loss[c]));
      cairo_new_path (cr);
      cairo_arc (cr, x, y, 5.5, 0, 2 * G_PI);
      set_bg (cr, d->st, 1.0);
      cairo_fill (cr);
      hydra_plot_curve_color (self, t, c, d->st, 1.0, cr);
      if (hydra_plot_channel_is_weighted (c))
        {
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

static void
draw_validation (Draw *d, Track *t, const Panel *p)
{
  HydraLossPlot *self = d->self;
  guint n = t->series != NULL ? hydra_series_get_n_epochs (t->series) : 0;

  if (n == 0)
    return;
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    {
      if (!self->curve_visible[c])
        continue;
      /* an overlay's dashed joins would cross every run's curves: its points stand alone */
      if (!hydra_plot_overlaid (self))
        validation_line (d, t, p, c, n);
      validation_dots (d, t, p, c, n);
    }
}

/* ---------------------------------------------------------------------------------------
 * All of them
 */

/* Each segment's views: the steps no later segment replaced, and those it did (after a
 * rollback), which are drawn faded: still there, but plainly abandoned. */
static guint
segment_views (const Track *tr, const Frame *frame, SegmentView *sv)
{
  guint n_sv = 0;

  for (guint s = 0; s < tr->n_segments; s++)
    {
      guint a = tr->segments[s], b = hydra_plot_track_segment_end (tr, s), k = b;
      double cut = INFINITY;

      for (guint t = s + 1; t < tr->n_segments; t++)
        cut = MIN (cut, tr->xs[tr->segments[t]]);
      if (isfinite (cut))
        k = hydra_plot_lower_bound (tr->xs, a, b, cut);
      if (k > a)
        add_segment_view (&sv[n_sv++], tr->xs, a, k, FALSE, frame);
      if (k < b)
        add_segment_view (&sv[n_sv++], tr->xs, k > a ? k - 1 : k, b, TRUE, frame);
    }
  return n_sv;
}

/* The panel's visible channels, in drawing order: for the losses, the weighted ones under
 * the raw ones, the total on top. */
static guint
panel_channels (HydraLossPlot *self, const Panel *panel, guint *order)
{
  static const guint loss_order[] = {
    HYDRA_CURVE_AGE_WEIGHTED, HYDRA_CURVE_GENDER_WEIGHTED, HYDRA_CURVE_RACE_WEIGHTED,
    HYDRA_CURVE_AGE,          HYDRA_CURVE_GENDER,          HYDRA_CURVE_RACE,
    HYDRA_CURVE_TOTAL,
  };
  gboolean losses = panel->ch_first == 0;
  guint n_order = 0;

  for (guint k = 0; k < (losses ? G_N_ELEMENTS (loss_order) : panel->ch_end - panel->ch_first); k++)
    {
      guint ch = losses ? loss_order[k] : panel->ch_first + k;

      if (hydra_plot_channel_visible (self, ch))
        order[n_order++] = ch;
    }
  return n_order;
}

/* The curves of every panel, each clipped to its area: the faint raw curves under the
 * smoothed ones, then the validation points. In an overlay, every run's faint curves come
 * first, then each run's curves, the primary last (on top). */
void
hydra_plot_draw_curves (Draw *d)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  const Frame *frame = d->frame;
  guint n_tracks = hydra_plot_n_tracks (self);
  SegmentView *sv[MAX_RUNS];
  guint n_sv[MAX_RUNS];
  g_autofree HydraPlotColumn *cols = NULL;

  for (guint k = 0; k < n_tracks; k++)
    {
      Track *t = hydra_plot_track (self, k);

      sv[k] = g_new0 (SegmentView, 2 * MAX (t->n_segments, 1));
      n_sv[k] = segment_views (t, frame, sv[k]);
    }
  cols = g_new (HydraPlotColumn, (gsize) ceil (frame->panels[0].area.size.width) + 1);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  for (guint p = 0; p < frame->n_panels; p++)
    {
      const Panel *panel = &frame->panels[p];
      guint order[HYDRA_N_CURVES];
      guint n_order = panel_channels (self, panel, order);

      cairo_save (cr);
      cairo_rectangle (cr, panel->area.origin.x, panel->area.origin.y - 4,
                       panel->area.size.width + 4, panel->area.size.height + 4);
      cairo_clip (cr);
      /* the rate is the schedule's, not a measurement: drawn whatever training shows */
      if (self->show_training || self->view == HYDRA_PLOT_BALANCE
          || hydra_plot_panel_is_lr (self, p))
        {
          if (self->smoothing > 0)
            for (guint k = n_tracks; k-- > 0;)
              for (guint c = 0; c < n_order; c++)
                if (order[c] != CH_LR)
                  draw_channel (d, hydra_plot_track (self, k), panel, sv[k], n_sv[k], order[c],
                                TRUE, cols);
          for (guint k = n_tracks; k-- > 0;)
            for (guint c = 0; c < n_order; c++)
              draw_channel (d, hydra_plot_track (self, k), panel, sv[k], n_sv[k], order[c], FALSE,
                            cols);
        }
      if (p == 0 && self->view == HYDRA_PLOT_LOSS && self->show_validation)
        for (guint k = n_tracks; k-- > 0;)
          draw_validation (d, hydra_plot_track (self, k), panel);
      cairo_restore (cr);
    }
  for (guint k = 0; k < n_tracks; k++)
    {
      for (guint s = 0; s < n_sv[k]; s++)
        g_free (sv[k][s].bounds);
      g_free (sv[k]);
    }
}
