/* hydra-loss-plot-hover.c — the overlay over the static picture: the guide, dots and tooltip
 * for what is under the pointer, or the zoom box being dragged. */

#include "hydra-loss-plot-private.h"

#include "chart/hydra-chart-draw.h"

#define MAX_TIP_ROWS 40
#define TIP_PAD 10.0
#define TIP_SWATCH 10.0

/* The zoom box: GNOME blue 3. */
static const GdkRGBA accent = { 0x35 / 255., 0x84 / 255., 0xe4 / 255., 1.0 };

/* The panel whose area, grown by slack px, holds (x, y) in the last picture; or -1. */
int
hydra_plot_panel_at (HydraLossPlot *self, double x, double y, double slack)
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
nearest_point (const Track *t, double x, guint *index)
{
  double best_dist = INFINITY;
  const double *xs = t->xs;

  for (guint s = t->n_segments; s-- > 0;)
    {
      guint a = t->segments[s], b = hydra_plot_track_segment_end (t, s), i;

      if (b <= a)
        continue;
      if (x < xs[a] || x > xs[b - 1])
        {
          double da = fabs (xs[a] - x), db = fabs (xs[b - 1] - x);

          if (MIN (da, db) < best_dist)
            {
              best_dist = MIN (da, db);
              *index = da < db ? a : b - 1;
            }
          continue;
        }
      i = hydra_plot_lower_bound (xs, a, b, x);
      if (i > a && x - xs[i - 1] < xs[i] - x)
        i--;
      *index = i;
      return TRUE;
    }
  return isfinite (best_dist);
}

typedef struct
{
  guint ch; /* or G_MAXUINT for a plain text row */
  char name[80];
  char value[32];
  char raw[32];
  gboolean heading;
  const Track *track; /* in an overlay, the run whose colour the swatch is */
} TipRow;

/* The tooltip card's geometry. */
typedef struct
{
  double x, y, w, h;
  double row_h;
  double value_right; /* where values end: left of the raw column when there is one */
} TipBox;

/* Sizes the card to its columns (swatch, name, value, raw) and places it right of the
 * pointer, or left when there is no room, inside the widget. */
static void
tip_box (Draw *d, const TipRow *rows, guint n_rows, double px, double py, TipBox *box)
{
  double name_w = 0, value_w = 0, raw_w = 0;

  hydra_chart_text_size (d->small, "Ag", NULL, &box->row_h);
  box->row_h += 3;
  for (guint i = 0; i < n_rows; i++)
    {
      double tw;

      hydra_chart_text_size (d->small, rows[i].name, &tw, NULL);
      if (rows[i].ch == G_MAXUINT)
        tw -= TIP_SWATCH + 6;
      name_w = MAX (name_w, tw);
      hydra_chart_text_size (d->small, rows[i].value, &tw, NULL);
      value_w = MAX (value_w, tw);
      hydra_chart_text_size (d->small, rows[i].raw, &tw, NULL);
      raw_w = MAX (raw_w, tw);
    }
  box->w
      = TIP_PAD + TIP_SWATCH + 6 + name_w + 16 + value_w + (raw_w > 0 ? 12 + raw_w : 0) + TIP_PAD;
  box->h = TIP_PAD * 2 + n_rows * box->row_h - 3;
  box->x = px + 18;
  if (box->x + box->w > d->width - 4)
    box->x = px - 18 - box->w;
  box->x = round (MAX (4, box->x));
  box->y = round (CLAMP (py - box->h / 2, 4, MAX (4, d->height - box->h - 4)));
  box->value_right = box->x + box->w - TIP_PAD - (raw_w > 0 ? raw_w + 12 : 0);
}

/* A soft shadow, then the card. */
static void
draw_card (cairo_t *cr, const Style *st, const TipBox *box)
{
  double x = box->x, y = box->y, w = box->w, h = box->h;

  for (int k = 3; k >= 1; k--)
    {
      hydra_chart_rounded_rect (cr, x - k + 0.5, y - k + 1.5 + 1, w + 2 * k, h + 2 * k, 8 + k);
      cairo_set_source_rgba (cr, 0, 0, 0, st->dark ? 0.10 : 0.04);
      cairo_fill (cr);
    }
  hydra_chart_rounded_rect (cr, x + 0.5, y + 0.5, w - 1, h - 1, 8);
  if (st->dark)
    cairo_set_source_rgba (cr, 0.22, 0.22, 0.24, 0.97);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.97);
  cairo_fill_preserve (cr);
  set_fg (cr, st, 0.15);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);
}

/* A row of text from the card's left edge: a heading in bold, or plain. */
static void
draw_text_row (Draw *d, const TipRow *r, const TipBox *box, double ry)
{
  cairo_t *cr = d->cr;

  set_fg (cr, d->st, r->heading ? 0.9 : 0.65);
  if (r->heading)
    {
      g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", r->name);

      pango_layout_set_markup (d->small, markup, -1);
      cairo_move_to (cr, box->x + TIP_PAD, ry);
      pango_cairo_show_layout (cr, d->small);
      hydra_chart_layout_set_tabular (d->small);
    }
  else
    hydra_chart_show_text (cr, d->small, r->name, box->x + TIP_PAD, ry, 0, 0);
  if (r->value[0])
    hydra_chart_show_text (cr, d->small, r->value, box->value_right, ry, 1, 0);
  if (r->raw[0])
    hydra_chart_show_text (cr, d->small, r->raw, box->x + box->w - TIP_PAD, ry, 1, 0);
}

/* A curve's row: its colour, name, value and raw value (dimmer). */
static void
draw_curve_row (Draw *d, const TipRow *r, const TipBox *box, double ry)
{
  cairo_t *cr = d->cr;
  double mid = ry + (box->row_h - 3) / 2;

  if (r->track != NULL)
    hydra_plot_curve_color (d->self, r->track, r->ch, d->st, 1.0, cr);
  else
    hydra_plot_channel_color (r->ch, d->st, 1.0, cr);
  hydra_chart_rounded_rect (cr, box->x + TIP_PAD, round (mid - 4), TIP_SWATCH, 8, 2);
  cairo_fill (cr);
  set_fg (cr, d->st, 0.85);
  hydra_chart_show_text (cr, d->small, r->name, box->x + TIP_PAD + TIP_SWATCH + 6, ry, 0, 0);
  hydra_chart_show_text (cr, d->small, r->value, box->value_right, ry, 1, 0);
  if (r->raw[0])
    {
      set_fg (cr, d->st, 0.5);
      hydra_chart_show_text (cr, d->small, r->raw, box->x + box->w - TIP_PAD, ry, 1, 0);
    }
}

static void
draw_tooltip (Draw *d, const TipRow *rows, guint n_rows, double px, double py)
{
  TipBox box;

  tip_box (d, rows, n_rows, px, py, &box);
  draw_card (d->cr, d->st, &box);
  for (guint i = 0; i < n_rows; i++)
    {
      double ry = box.y + TIP_PAD + i * box.row_h;

      if (rows[i].ch == G_MAXUINT)
        draw_text_row (d, &rows[i], &box, ry);
      else
        draw_curve_row (d, &rows[i], &box, ry);
    }
}

/* ---------------------------------------------------------------------------------------
 * What the tooltip says
 */

/* What the pointer is over. */
typedef struct
{
  gboolean have_point;        /* a step point, whose guide is inside the plot */
  guint i;                    /* that point */
  const HydraEpochPoint *val; /* a validation pass within 9 px, or NULL */
  double gx;                  /* the guide's x */
} HoverTarget;

static gboolean
hover_target (Draw *d, HoverTarget *t)
{
  HydraLossPlot *self = d->self;
  const Frame *f = d->frame;
  const Panel *p0 = &f->panels[0];
  double xdata = unmap_x (f, p0, self->hover_x);
  double val_dist = 9;

  t->have_point = FALSE;
  t->i = 0;
  t->val = NULL;
  t->gx = -1;
  if ((self->show_training || self->view == HYDRA_PLOT_BALANCE)
      && nearest_point (&self->main, xdata, &t->i))
    {
      t->gx = map_x (f, p0, self->main.xs[t->i]);
      t->have_point = t->gx >= p0->area.origin.x - 0.5
                      && t->gx <= p0->area.origin.x + p0->area.size.width + 0.5;
    }
  if (self->view == HYDRA_PLOT_LOSS && self->show_validation)
    for (guint e = 0; e < hydra_series_get_n_epochs (self->series); e++)
      {
        const HydraEpochPoint *ep = hydra_series_get_epoch (self->series, e);
        double dist = fabs (map_x (f, p0, hydra_plot_epoch_x (self, ep)) - self->hover_x);

        if (dist <= val_dist)
          t->val = ep, val_dist = dist;
      }
  if (!t->have_point && t->val == NULL)
    return FALSE;
  if (!t->have_point)
    t->gx = map_x (f, p0, hydra_plot_epoch_x (self, t->val));
  return TRUE;
}

static void
validation_heading (TipRow *r, const HydraEpochPoint *val)
{
  char epoch[16];

  *r = (TipRow){ G_MAXUINT, "", "", "", TRUE };
  hydra_epoch_point_label (val, epoch, sizeof epoch);
  g_snprintf (r->name, sizeof r->name, "Validation after epoch %s", epoch);
}

/* A dot where the guide crosses curve ch at value v, if that is inside the panel. */
static void
draw_hover_dot (Draw *d, const Track *t, const Panel *panel, guint ch, double gx, float v)
{
  cairo_t *cr = d->cr;
  double y;

  if (!value_ok (panel, v))
    return;
  y = map_y (panel, transform (panel, v));
  if (y < panel->area.origin.y - 1 || y > panel->area.origin.y + panel->area.size.height + 1)
    return;
  cairo_new_path (cr);
  cairo_arc (cr, gx, y, 5.5, 0, 2 * G_PI);
  set_bg (cr, d->st, 1.0);
  cairo_fill (cr);
  cairo_arc (cr, gx, y, 4.0, 0, 2 * G_PI);
  hydra_plot_curve_color (d->self, t, ch, d->st, 1.0, cr);
  cairo_fill (cr);
}

/* Step point i's rows, panel by panel: a sub-heading when there are columns or panels to
 * name, then each visible curve's smoothed and raw value (the learning rate has only the
 * one); each curve gets its dot. */
static guint
step_rows (Draw *d, Track *t, guint i, double gx, TipRow *rows, guint n_rows)
{
  HydraLossPlot *self = d->self;
  const Frame *f = d->frame;
  gboolean smoothed = self->smoothing > 0;

  for (guint p = 0; p < f->n_panels; p++)
    {
      const Panel *panel = &f->panels[p];

      if ((smoothed || self->view == HYDRA_PLOT_BALANCE) && !hydra_plot_panel_is_lr (self, p)
          && n_rows < MAX_TIP_ROWS)
        {
          rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", FALSE };
          if (hydra_plot_panel_is_weight (self, p))
            {
              /* the step's weights, and who chose them */
              int32_t method = hydra_series_get_step (t->series, i)->balance;

              g_snprintf (
                  rows[n_rows].name, sizeof rows[n_rows].name, "loss weight · %s",
                  balance_title (method >= 0 && method < N_BALANCE ? method : BALANCE_MANUAL));
            }
          else if (self->view == HYDRA_PLOT_BALANCE)
            g_strlcpy (rows[n_rows].name,
                       hydra_plot_panel_is_cosine (self, p) ? "cosine" : "gradient norm",
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

          if (!hydra_plot_channel_visible (self, ch))
            continue;
          sm = hydra_plot_track_smooth (self, t, ch);
          r = &rows[n_rows++];
          r->ch = ch;
          r->heading = FALSE;
          r->track = hydra_plot_overlaid (self) ? t : NULL;
          hydra_plot_channel_name (self, ch, r->name, sizeof r->name);
          if (ch == CH_LR)
            hydra_chart_format_rate (r->value, sizeof r->value, sm[i], 3);
          else
            hydra_chart_format_number (r->value, sizeof r->value, sm[i], -1);
          r->raw[0] = '\0';
          if (smoothed && ch != CH_LR)
            hydra_chart_format_number (r->raw, sizeof r->raw, t->channels[ch].raw[i], -1);
          draw_hover_dot (d, t, panel, ch, gx, sm[i]);
        }
    }
  return n_rows;
}

/* A validation pass's rows: each visible curve's loss, then the metrics; under a heading of
 * their own when the step's rows come first. */
static guint
validation_rows (HydraLossPlot *self, const HydraEpochPoint *val, gboolean heading, TipRow *rows,
                 guint n_rows)
{
  if (heading)
    validation_heading (&rows[n_rows++], val);
  for (guint c = 0; c < HYDRA_N_CURVES && n_rows < MAX_TIP_ROWS; c++)
    {
      TipRow *r;

      if (!self->curve_visible[c])
        continue;
      r = &rows[n_rows++];
      *r = (TipRow){ c, "", "", "", FALSE };
      hydra_plot_channel_name (self, c, r->name, sizeof r->name);
      hydra_chart_format_number (r->value, sizeof r->value, val->loss[c], -1);
    }
  if (n_rows < MAX_TIP_ROWS)
    {
      TipRow *r = &rows[n_rows++];

      *r = (TipRow){ G_MAXUINT, "", "", "", FALSE };
      g_snprintf (r->name, sizeof r->name, "age MAE %.2f y · gender %.1f%% · race %.1f%%",
                  val->eval.age_mae, 100 * val->eval.gender_acc, 100 * val->eval.race_acc);
    }
  return n_rows;
}

/* The markers within 5 px of the pointer. */
static guint
marker_rows (Draw *d, TipRow *rows, guint n_rows)
{
  HydraLossPlot *self = d->self;
  const Panel *p0 = &d->frame->panels[0];

  for (guint m = 0; m < hydra_series_get_n_markers (self->series) && n_rows < MAX_TIP_ROWS; m++)
    {
      const HydraMarker *mk = hydra_series_get_marker (self->series, m);
      double mx;

      if (!hydra_plot_marker_x (self, mk->step, &mx)
          || fabs (map_x (d->frame, p0, mx) - self->hover_x) > 5)
        continue;
      rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", FALSE, NULL };
      g_snprintf (rows[n_rows].name, sizeof rows[n_rows].name, "⚑ %s (step %" G_GINT64_FORMAT ")",
                  mk->label, (gint64) mk->step);
      n_rows++;
    }
  return n_rows;
}

/* "Step 1200  ·  epoch 3.00", and where x is images or time, that too: "  ·  76.8k images",
 * "  ·  4:12 training". */
static void
step_heading (HydraLossPlot *self, const Track *t, guint i, char *buf, gsize size)
{
  const HydraStepPoint *pt = hydra_series_get_step (t->series, i);
  int n = hydra_plot_overlaid (self)
              ? g_snprintf (buf, size, "%s  ·  step %" G_GINT64_FORMAT "  ·  epoch %.2f", t->name,
                            (gint64) pt->step, pt->epoch)
              : g_snprintf (buf, size, "Step %" G_GINT64_FORMAT "  ·  epoch %.2f",
                            (gint64) pt->step, pt->epoch);
  double x = t->xs[i];

  if (n < 0 || (gsize) n >= size)
    return;
  if (self->x_axis == HYDRA_PLOT_X_IMAGES)
    {
      if (x >= 1e6)
        g_snprintf (buf + n, size - n, "  ·  %.2fM images", x / 1e6);
      else if (x >= 1e4)
        g_snprintf (buf + n, size - n, "  ·  %.1fk images", x / 1e3);
      else
        g_snprintf (buf + n, size - n, "  ·  %.0f images", x);
    }
  else if (self->x_axis == HYDRA_PLOT_X_TIME)
    {
      guint s = (guint) MAX (0.0, round (x));

      if (s >= 3600)
        g_snprintf (buf + n, size - n, "  ·  %u:%02u:%02u training", s / 3600, s / 60 % 60, s % 60);
      else
        g_snprintf (buf + n, size - n, "  ·  %u:%02u training", s / 60, s % 60);
    }
}

/* The tooltip's rows for the pointer's place, the dots drawn on the way; FALSE when there is
 * nothing under it. In an overlay, each run's point at the guide (within 12 px of it) under a
 * heading that names the run. */
static gboolean
hover_rows (Draw *d, TipRow *rows, guint *n_out, double *guide_x)
{
  HydraLossPlot *self = d->self;
  const Frame *f = d->frame;
  const Panel *p0 = &f->panels[0];
  guint n_rows = 0;
  HoverTarget t;

  if (hydra_plot_panel_at (self, self->hover_x, self->hover_y, 0) < 0 || !hover_target (d, &t))
    return FALSE;
  *guide_x = t.gx;
  if (t.have_point)
    {
      double xdata = unmap_x (f, p0, self->hover_x);

      for (guint k = 0; k < hydra_plot_n_tracks (self) && n_rows + 2 < MAX_TIP_ROWS; k++)
        {
          Track *tr = hydra_plot_track (self, k);
          guint i = t.i;
          double gx = t.gx;

          if (k > 0)
            {
              if (!nearest_point (tr, xdata, &i))
                continue;
              gx = map_x (f, p0, tr->xs[i]);
              if (fabs (gx - self->hover_x) > 12)
                continue;
            }
          rows[n_rows] = (TipRow){ G_MAXUINT, "", "", "", TRUE, NULL };
          step_heading (self, tr, i, rows[n_rows].name, sizeof rows[n_rows].name);
          n_rows++;
          n_rows = step_rows (d, tr, i, gx, rows, n_rows);
        }
    }
  else
    validation_heading (&rows[n_rows++], t.val);
  if (t.val != NULL && n_rows + 1 < MAX_TIP_ROWS)
    n_rows = validation_rows (self, t.val, t.have_point, rows, n_rows);
  n_rows = marker_rows (d, rows, n_rows);
  *n_out = n_rows;
  return TRUE;
}

/* A vertical guide at the hovered step (or validation pass), dots on the curves, and the
 * tooltip with their values. */
static void
draw_hover (Draw *d)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
  const Panel *p0 = &f->panels[0];
  const Panel *last = &f->panels[f->n_panels - 1];
  TipRow rows[MAX_TIP_ROWS];
  guint n_rows = 0;
  double gx;

  /* where the guide goes, without drawing; then the guide, and the dots over it */
  cairo_push_group (cr);
  gboolean any = hover_rows (d, rows, &n_rows, &gx);
  cairo_pattern_destroy (cairo_pop_group (cr));
  if (!any)
    return;
  set_fg (cr, d->st, 0.35);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, snap (gx), p0->area.origin.y);
  cairo_line_to (cr, snap (gx), last->area.origin.y + last->area.size.height);
  cairo_stroke (cr);
  hover_rows (d, rows, &n_rows, &gx);

  draw_tooltip (d, rows, n_rows, self->hover_x, self->hover_y);
}

/* The tooltip's text at (x, y) in the last on-screen picture, a line a row, name and values
 * separated by tabs; NULL when the pointer would show none. For tests. */
char *
hydra_plot_tooltip_text (HydraLossPlot *self, double x, double y)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cairo_t *cr = cairo_create (surface);
  Style st;
  Draw d = { self, cr, &st, &self->frame, self->frame.width, self->frame.height, NULL, NULL };
  TipRow rows[MAX_TIP_ROWS];
  guint n_rows = 0;
  double gx, save_x = self->hover_x, save_y = self->hover_y;
  GString *out = NULL;

  hydra_plot_style_init_widget (self, &st);
  d.small = hydra_plot_layout_new (&st, 1.0, TRUE);
  self->hover_x = x;
  self->hover_y = y;
  if (self->frame.valid && hover_rows (&d, rows, &n_rows, &gx))
    {
      out = g_string_new (NULL);
      for (guint i = 0; i < n_rows; i++)
        g_string_append_printf (out, "%s\t%s\t%s\n", rows[i].name, rows[i].value, rows[i].raw);
    }
  self->hover_x = save_x;
  self->hover_y = save_y;
  g_object_unref (d.small);
  hydra_plot_style_clear (&st, FALSE);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return out != NULL ? g_string_free (out, FALSE) : NULL;
}

/* ---------------------------------------------------------------------------------------
 * The overlay
 */

/* The zoom box being dragged, clamped to its panel; a side shorter than DRAG_THRESHOLD spans
 * the panel, as releasing it then zooms the other axis only. */
static void
draw_zoom_box (HydraLossPlot *self, cairo_t *cr)
{
  const graphene_rect_t *a = &self->frame.panels[self->drag_panel].area;
  double x0, y0, x1, y1;

  hydra_plot_drag_box (self, self->drag_dx, self->drag_dy, &x0, &y0, &x1, &y1);
  if (fabs (x1 - x0) < DRAG_THRESHOLD)
    x0 = a->origin.x, x1 = a->origin.x + a->size.width;
  if (fabs (y1 - y0) < DRAG_THRESHOLD)
    y0 = a->origin.y, y1 = a->origin.y + a->size.height;
  cairo_rectangle (cr, snap (MIN (x0, x1)), snap (MIN (y0, y1)), round (fabs (x1 - x0)),
                   round (fabs (y1 - y0)));
  cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.12);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.8);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);
}

void
hydra_plot_draw_overlay (HydraLossPlot *self, cairo_t *cr, const Style *st)
{
  Draw d = { self, cr, st, &self->frame, self->frame.width, self->frame.height, NULL, NULL };

  if (!self->frame.valid || self->frame.empty)
    return;
  d.small = hydra_plot_layout_new (st, 0.85, TRUE);
  if (self->drag_mode == DRAG_BOX && self->drag_panel >= 0)
    draw_zoom_box (self, cr);
  else if (self->hovering && self->drag_mode == DRAG_NONE)
    draw_hover (&d);
  g_object_unref (d.small);
}
