/* hydra-loss-plot-render.c — one static picture of the plot: its style, its layout (legend,
 * marker strip, panels, axes) and what goes where; or the empty state before any data. */

#include "hydra-loss-plot-private.h"

#include <string.h>

#include "chart/hydra-chart-draw.h"

/* ---------------------------------------------------------------------------------------
 * Styles
 */

/* The on-screen style: the widget's text colour and font, and the theme's background. */
void
hydra_plot_style_init_widget (HydraLossPlot *self, Style *st)
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
void
hydra_plot_style_init_export (HydraLossPlot *self, Style *st, cairo_t *cr)
{
  PangoContext *widget_context = gtk_widget_get_pango_context (GTK_WIDGET (self));

  st->fg = (GdkRGBA){ 0.12, 0.12, 0.13, 1.0 };
  st->bg = (GdkRGBA){ 1, 1, 1, 1 };
  st->dark = FALSE;
  st->context = pango_cairo_create_context (cr);
  st->font = pango_font_description_copy (pango_context_get_font_description (widget_context));
}

void
hydra_plot_style_clear (Style *st, gboolean owns_context)
{
  if (owns_context)
    g_clear_object (&st->context);
  g_clear_pointer (&st->font, pango_font_description_free);
}

/* A layout in the style's font, scaled; the style's context is the widget's, or an export's
 * own. */
PangoLayout *
hydra_plot_layout_new (const Style *st, double scale, gboolean tabular)
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
    hydra_chart_layout_set_tabular (layout);
  return layout;
}

/* ---------------------------------------------------------------------------------------
 * The empty state
 */

static const char *
empty_text (HydraLossPlot *self)
{
  return self->view == HYDRA_PLOT_LOSS ? "Start training to see the losses"
                                       : "Start training to see how each head pulls on the trunk";
}

/* A dim chart glyph over the sentence, centred, as a status page would. */
static void
draw_empty (Draw *d, const char *text)
{
  cairo_t *cr = d->cr;
  PangoLayout *big = hydra_plot_layout_new (d->st, 1.15, FALSE);
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

/* ---------------------------------------------------------------------------------------
 * The picture
 */

/* Which channels each panel shows, and on which scale: the losses over the learning rate's
 * strip, or the gradient norms over the cosines over the loss weights. */
static void
frame_panels (HydraLossPlot *self, Frame *frame)
{
  Panel *p = frame->panels;

  if (self->view == HYDRA_PLOT_LOSS)
    {
      frame->n_panels = hydra_plot_has_lr_strip (self) ? 2 : 1;
      p[0].ch_first = 0, p[0].ch_end = CH_GRAD0, p[0].log = self->log_scale;
      p[1].ch_first = CH_LR, p[1].ch_end = CH_LR + 1, p[1].log = TRUE;
      return;
    }
  frame->n_panels = hydra_plot_has_weight_panel (self) ? 3 : 2;
  p[PANEL_GRAD].ch_first = CH_GRAD0, p[PANEL_GRAD].ch_end = CH_COS0;
  p[PANEL_GRAD].log = self->log_scale;
  p[PANEL_COS].ch_first = CH_COS0, p[PANEL_COS].ch_end = CH_W0, p[PANEL_COS].log = FALSE;
  p[PANEL_WEIGHT].ch_first = CH_W0, p[PANEL_WEIGHT].ch_end = CH_LR;
  p[PANEL_WEIGHT].log = self->log_scale;
}

/* Below these heights (px of panels, gaps included) a plot does not share: the losses keep
 * the rate's strip's room, the gradient norms and cosines the weights'. */
#define LR_STRIP_MIN_H 200
#define WEIGHT_PANEL_MIN_H 300

/* Top to bottom: legend, marker strip (strip_h, 0 without markers), panel(s), x labels, x
 * title. The learning rate's strip is slim, as it only has a shape to show. The balance
 * view's gradient norms take 60% of the height, the cosines the rest; with the weights,
 * 46%, 25% (the cosines' −1…1 needs few ticks) and 29%. Returns the panels' top. */
static double
layout_rows (Draw *d, double th, double axis_title_w, double strip_h)
{
  Frame *frame = d->frame;
  gboolean loss = d->self->view == HYDRA_PLOT_LOSS;
  double legend_h, top, bottom, plot_h;

  legend_h = hydra_plot_legend (d, PAD + axis_title_w + 48, PAD,
                                d->width - 2 * PAD - axis_title_w - 48, FALSE);
  top = PAD + legend_h + 6 + strip_h;
  bottom = d->height - PAD - 2 * th - 8;
  plot_h = bottom - top;
  if (loss && plot_h < LR_STRIP_MIN_H)
    frame->n_panels = 1;
  if (frame->n_panels == 3 && plot_h < WEIGHT_PANEL_MIN_H)
    {
      /* and their legend entries go, which may give the others a row back */
      frame->n_panels = 2;
      frame->weights_left_out = TRUE;
      legend_h = hydra_plot_legend (d, PAD + axis_title_w + 48, PAD,
                                    d->width - 2 * PAD - axis_title_w - 48, FALSE);
      top = PAD + legend_h + 6 + strip_h;
      plot_h = bottom - top;
    }
  if (frame->n_panels == 1)
    {
      frame->panels[0].area.origin.y = top;
      frame->panels[0].area.size.height = plot_h;
    }
  else if (loss)
    {
      double gap = 16, lower = CLAMP (round (plot_h * 0.2), 72, 120);

      frame->panels[0].area.origin.y = top;
      frame->panels[0].area.size.height = plot_h - gap - lower;
      frame->panels[1].area.origin.y = bottom - lower;
      frame->panels[1].area.size.height = lower;
    }
  else
    {
      static const double share[2][MAX_PANELS] = { { 0.6, 0.4, 0 }, { 0.46, 0.25, 0.29 } };
      guint n = frame->n_panels;
      double gap = 28, h = plot_h - (n - 1) * gap, y = top;

      for (guint p = 0; p < n; p++)
        {
          /* the last panel takes what rounding left, down to the baseline */
          double ph = p + 1 < n ? round (h * share[n - 2][p]) : bottom - y;

          frame->panels[p].area.origin.y = y;
          frame->panels[p].area.size.height = ph;
          y += ph + gap;
        }
    }
  return top;
}

/* Keeps the labelled ticks of a log axis, labelled as rates ("1e-3"); returns how many. */
static guint
rate_ticks (HydraChartTick *ticks, guint n)
{
  guint kept = 0;

  for (guint i = 0; i < n; i++)
    if (ticks[i].major)
      {
        ticks[kept] = ticks[i];
        hydra_chart_format_rate (ticks[kept].label, sizeof ticks[kept].label, pow (10, ticks[i].v),
                                 2);
        kept++;
      }
  return kept;
}

/* The x range, then the y ranges of what it shows, then their ticks, whose widest label sets
 * the panels' left edge. */
static void
layout_scales (Draw *d, double th, double axis_title_w,
               HydraChartTick ticks[][HYDRA_CHART_MAX_TICKS], guint *n_ticks)
{
  HydraLossPlot *self = d->self;
  Frame *frame = d->frame;
  double left = 0;

  hydra_plot_x_range (self, &frame->x0, &frame->x1);
  for (guint p = 0; p < frame->n_panels; p++)
    {
      Panel *panel = &frame->panels[p];
      gboolean lr = hydra_plot_panel_is_lr (self, p);
      double max_ticks = MAX (2.0, panel->area.size.height / (th * (lr ? 1.6 : 2.6)));

      if (self->y_auto[p])
        hydra_plot_y_auto_range (self, p, panel, frame->x0, frame->x1, max_ticks);
      else
        {
          panel->ty0 = self->vy0[p];
          panel->ty1 = self->vy1[p];
        }
      n_ticks[p] = panel->log ? hydra_chart_log_ticks (panel->ty0, panel->ty1, max_ticks, ticks[p])
                              : hydra_chart_linear_ticks (panel->ty0, panel->ty1, max_ticks, FALSE,
                                                          ticks[p]);
      if (lr) /* a slim strip striped with minor lines reads as hatching */
        n_ticks[p] = rate_ticks (ticks[p], n_ticks[p]);
      for (guint i = 0; i < n_ticks[p]; i++)
        if (ticks[p][i].major)
          {
            double w;

            hydra_chart_text_size (d->small, ticks[p][i].label, &w, NULL);
            left = MAX (left, w);
          }
    }
  left = round (PAD + axis_title_w + 8 + left + 8);
  for (guint p = 0; p < frame->n_panels; p++)
    {
      frame->panels[p].area.origin.x = left;
      frame->panels[p].area.size.width = MAX (1, d->width - PAD - 8 - left);
    }
}

void
hydra_plot_draw_static (HydraLossPlot *self, cairo_t *cr, int width, int height, const Style *st,
                        Frame *frame, GArray *hits)
{
  Draw d = { self, cr, st, frame, width, height, NULL, hits };
  HydraChartTick ticks[MAX_PANELS][HYDRA_CHART_MAX_TICKS];
  guint n_ticks[MAX_PANELS] = { 0 };
  double th, axis_title_w, strip_h, top;
  gboolean has_markers;

  if (hits != NULL)
    g_array_set_size (hits, 0);
  memset (frame, 0, sizeof *frame);
  frame->width = width;
  frame->height = height;
  hydra_plot_cache_sync (self);

  d.small = hydra_plot_layout_new (st, 0.85, TRUE);
  hydra_chart_text_size (d.small, "0.9", NULL, &th);
  axis_title_w = th;

  frame->empty = (self->series == NULL
                  || (self->main.n_cached == 0 && hydra_series_get_n_epochs (self->series) == 0))
                 && !hydra_plot_overlaid (self);
  if (frame->empty || width < 80 || height < 60)
    {
      if (frame->empty)
        draw_empty (&d, empty_text (self));
      g_object_unref (d.small);
      frame->valid = TRUE;
      frame->empty = TRUE;
      return;
    }

  frame_panels (self, frame);
  has_markers = self->series != NULL && hydra_series_get_n_markers (self->series) > 0;
  strip_h = has_markers ? th + 6 : 0;
  top = layout_rows (&d, th, axis_title_w, strip_h);
  layout_scales (&d, th, axis_title_w, ticks, n_ticks);

  cairo_set_line_width (cr, 1.0);
  for (guint p = 0; p < frame->n_panels; p++)
    hydra_plot_draw_y_axis (&d, p, ticks[p], n_ticks[p]);
  hydra_plot_draw_x_axis (&d);
  hydra_plot_legend (&d, frame->panels[0].area.origin.x, PAD,
                     width - PAD - frame->panels[0].area.origin.x, TRUE);
  if (has_markers)
    hydra_plot_draw_markers (&d, top - strip_h, strip_h);
  hydra_plot_draw_curves (&d);

  g_object_unref (d.small);
  frame->valid = TRUE;
}
