/* hydra-loss-plot-markers.c — what the user (or the guard) did, as dashed vertical lines with a
 * flag and a label in the strip above the panels: settings changes, pauses, rollbacks. */

#include "hydra-loss-plot-private.h"

#include "chart/hydra-chart-draw.h"

static const GdkRGBA rollback_color = { 0xe0 / 255., 0x1b / 255., 0x24 / 255., 1.0 };
static const double dash_marker[] = { 3.0, 3.0 };

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

      if (!hydra_plot_marker_x (self, mk->step, &x) || x < f->x0 || x > f->x1)
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
    cairo_set_source_rgba (cr, rollback_color.red, rollback_color.green, rollback_color.blue,
                           alpha);
  else
    set_fg (cr, st, (kind == HYDRA_MARKER_SETTING ? 0.55 : 0.35) * alpha);
}

/* Each group's dashed line from the strip down to the bottom panel's baseline, with a small
 * flag at its top. */
static void
draw_marker_lines (Draw *d, GArray *groups, double strip_y)
{
  cairo_t *cr = d->cr;
  const Frame *f = d->frame;
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
      cairo_move_to (cr, g->x - 0.5, strip_y + 2);
      cairo_line_to (cr, g->x + 4.5, strip_y + 2);
      cairo_line_to (cr, g->x - 0.5, strip_y + 7);
      cairo_close_path (cr);
      cairo_fill (cr);
    }
}

/* Labels right of their line, ellipsised to the room before the next one, or skipped. */
static void
draw_marker_labels (Draw *d, GArray *groups, double strip_y, double strip_h)
{
  cairo_t *cr = d->cr;

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
      hydra_chart_text_size (d->small, g->label->str, &tw, &th);
      marker_color (cr, d->st, g->kind, g->kind == HYDRA_MARKER_ROLLBACK ? 1.0 : 1.4);
      cairo_move_to (cr, round (g->x + 6), round (strip_y + (strip_h - th) / 2));
      pango_cairo_show_layout (cr, d->small);
      pango_layout_set_width (d->small, -1);
      pango_layout_set_ellipsize (d->small, PANGO_ELLIPSIZE_NONE);
    }
}

void
hydra_plot_draw_markers (Draw *d, double strip_y, double strip_h)
{
  g_autoptr (GArray) groups = marker_groups (d);

  draw_marker_lines (d, groups, strip_y);
  draw_marker_labels (d, groups, strip_y, strip_h);
}
