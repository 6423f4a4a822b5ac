/* hydra-loss-plot-axes.c — the grid, the tick labels and the axis titles. */

#include "hydra-loss-plot-private.h"

#include "chart/hydra-chart-draw.h"

/* Steps and images read "20k" once the axis reaches 10,000, and "12M" past ten million —
 * every label alike, so "9000" never sits beside "10k". */
static void
format_x (HydraLossPlot *self, double v, double step, double axis_max, char *buf, gsize size)
{
  gboolean counts = self->x_axis == HYDRA_PLOT_X_STEPS || self->x_axis == HYDRA_PLOT_X_IMAGES;

  if (counts && axis_max >= 1e7 && step >= 1e5)
    {
      g_autoptr (GString) s = g_string_new (NULL);

      g_string_printf (s, "%.*fM", step >= 1e6 ? 0 : 1, fabs (v) / 1e6);
      if (v < 0)
        g_string_prepend (s, "−");
      g_strlcpy (buf, v == 0 ? "0" : s->str, size);
      return;
    }
  if (counts)
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
        hydra_chart_format_number (buf, size, v, 0);
      return;
    }
  hydra_chart_format_number (buf, size, v, MAX (0, -(int) floor (log10 (step) + 1e-9)));
}

/* long if it fits the panel's height, else short */
static const char *
fitting_title (Draw *d, guint p, const char *long_title, const char *short_title)
{
  double w;

  hydra_chart_text_size (d->small, long_title, &w, NULL);
  return w <= d->frame->panels[p].area.size.height ? long_title : short_title;
}

/* The y title; the learning rate's strip says "lr" where "learning rate" would not fit, the
 * weights' panel "weight" for "loss weight". */
static const char *
panel_title (Draw *d, guint p)
{
  HydraLossPlot *self = d->self;

  if (hydra_plot_panel_is_lr (self, p))
    return fitting_title (d, p, "learning rate", "lr");
  if (hydra_plot_panel_is_cosine (self, p))
    return "cosine";
  if (hydra_plot_panel_is_weight (self, p))
    return self->log_scale ? fitting_title (d, p, "loss weight (log)", "weight (log)")
                           : fitting_title (d, p, "loss weight", "weight");
  if (self->view == HYDRA_PLOT_BALANCE)
    return self->log_scale ? "gradient norm (log)" : "gradient norm";
  return self->log_scale ? "loss (log)" : "loss";
}

/* The panel's y title, rotated, centred on the panel, ellipsised to its height. */
static void
draw_y_title (Draw *d, const Panel *p, const char *title)
{
  cairo_t *cr = d->cr;

  cairo_save (cr);
  cairo_translate (cr, PAD, p->area.origin.y + p->area.size.height / 2);
  cairo_rotate (cr, -G_PI / 2);
  set_fg (cr, d->st, 0.75);
  pango_layout_set_width (d->small, (int) (MAX (p->area.size.height, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_END);
  hydra_chart_show_text (cr, d->small, title, 0, 0, 0.5, 0.0);
  pango_layout_set_width (d->small, -1);
  pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_NONE);
  cairo_restore (cr);
}

/* Panel pi's grid lines and tick labels, its title and its baseline. */
void
hydra_plot_draw_y_axis (Draw *d, guint pi, const HydraChartTick *ticks, guint n_ticks)
{
  cairo_t *cr = d->cr;
  const Panel *p = &d->frame->panels[pi];
  double left = p->area.origin.x, right = left + p->area.size.width;

  for (guint i = 0; i < n_ticks; i++)
    {
      double y = map_y (p, ticks[i].v);

      if (y < p->area.origin.y - 0.5 || y > p->area.origin.y + p->area.size.height + 0.5)
        continue;
      y = snap (y);
      set_fg (cr, d->st, ticks[i].major ? 0.10 : 0.05);
      if (hydra_plot_panel_is_cosine (d->self, pi) && fabs (ticks[i].v) < 1e-9)
        set_fg (cr, d->st, 0.45);
      cairo_set_line_width (cr, 1.0);
      cairo_move_to (cr, left, y);
      cairo_line_to (cr, right, y);
      cairo_stroke (cr);
      if (!ticks[i].major)
        continue;
      set_fg (cr, d->st, 0.6);
      hydra_chart_show_text (cr, d->small, ticks[i].label, left - 8, y, 1.0, 0.5);
    }

  draw_y_title (d, p, panel_title (d, pi));

  set_fg (cr, d->st, 0.3);
  cairo_move_to (cr, left, snap (p->area.origin.y + p->area.size.height - 1));
  cairo_line_to (cr, right, snap (p->area.origin.y + p->area.size.height - 1));
  cairo_stroke (cr);
}

/* The x grid through every panel, ticks and labels under the bottom one (a label that would
 * collide with the previous one is skipped), and the title. */
void
hydra_plot_draw_x_axis (Draw *d)
{
  HydraLossPlot *self = d->self;
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
  const Panel *bottom = &f->panels[f->n_panels - 1];
  double y_axis = bottom->area.origin.y + bottom->area.size.height;
  double widest, th, step, v, right_edge = -INFINITY;
  HydraChartSteps it;
  char buf[48];

  const char *title;
  double unit = hydra_plot_x_unit (self, f->x0, f->x1, &title);
  double u0 = f->x0 / unit, u1 = f->x1 / unit;
  gboolean counts = self->x_axis == HYDRA_PLOT_X_STEPS || self->x_axis == HYDRA_PLOT_X_IMAGES;

  format_x (self, u1, 1, 0, buf, sizeof buf);
  hydra_chart_text_size (d->small, buf, &widest, &th);
  step = hydra_chart_nice_step (u1 - u0, bottom->area.size.width / MAX (widest + 32, 60));
  if (counts)
    step = MAX (step, 1.0);

  /* v in the axis' unit; x where it sits */
  for (hydra_chart_steps_init (&it, u0, u1, step); hydra_chart_steps_next (&it, &v);)
    {
      double x = snap (map_x (f, bottom, v * unit));
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

      format_x (self, v, step, MAX (fabs (u0), fabs (u1)), buf, sizeof buf);
      hydra_chart_text_size (d->small, buf, &w, NULL);
      if (x - w / 2 < right_edge + 8 || x + w / 2 > d->width - 2)
        continue;
      set_fg (cr, d->st, 0.6);
      hydra_chart_show_text (cr, d->small, buf, x, y_axis + 6, 0.5, 0.0);
      right_edge = x + w / 2;
    }

  set_fg (cr, d->st, 0.75);
  hydra_chart_show_text (cr, d->small, title,
                         bottom->area.origin.x + bottom->area.size.width / 2, y_axis + 6 + th + 2,
                         0.5, 0.0);
}
