/* hydra-loss-plot-legend.c — the legend: every curve of the view in rows, hidden ones dimmed;
 * on screen each entry's rectangle is kept, so that a click on it toggles the curve. */

#include "hydra-loss-plot-private.h"

#include "chart/hydra-chart-draw.h"

typedef struct
{
  HitKind kind;
  guint index;
  guint ch;
  char name[48];
  gboolean visible;
  gboolean group; /* starts a group that shares a row when it can: a panel's curves */
} LegendItem;

static guint
legend_items (Draw *d, LegendItem *items)
{
  HydraLossPlot *self = d->self;
  guint n = 0;

  /* an overlay's runs first, one group: their colours, which the curves' styles then reuse */
  if (hydra_plot_overlaid (self))
    for (guint k = 0; k < hydra_plot_n_tracks (self); k++)
      {
        items[n] = (LegendItem){ HIT_RUN, k, 0, "", TRUE, k == 0 };
        g_strlcpy (items[n].name, hydra_plot_track (self, k)->name, sizeof items[n].name);
        n++;
      }
  if (self->view == HYDRA_PLOT_LOSS)
    {
      for (guint c = 0; c < HYDRA_N_CURVES; c++)
        {
          items[n] = (LegendItem){ HIT_LOSS, c, c, "", self->curve_visible[c], c == 0 };
          hydra_plot_channel_name (self, c, items[n].name, sizeof items[n].name);
          n++;
        }
      if (self->series != NULL && hydra_series_get_n_epochs (self->series) > 0)
        {
          items[n] = (LegendItem){ HIT_VALIDATION, 0, 0, "validation", self->show_validation };
          n++;
        }
      if (hydra_plot_has_lr (self))
        {
          items[n] = (LegendItem){ HIT_LR, 0, CH_LR, "", self->show_lr };
          hydra_plot_channel_name (self, CH_LR, items[n].name, sizeof items[n].name);
          n++;
        }
    }
  else
    {
      /* the weights' entries come with their panel: once a weight has changed, and while
       * the picture has room for it */
      guint n_balance = hydra_plot_has_weights (self) && !d->frame->weights_left_out
                            ? HYDRA_N_BALANCE_CURVES
                            : HYDRA_BALANCE_WEIGHT_AGE;

      for (guint b = 0; b < n_balance; b++)
        {
          gboolean group = b == HYDRA_BALANCE_GRAD_AGE || b == HYDRA_BALANCE_COS_AGE_GENDER
                           || b == HYDRA_BALANCE_WEIGHT_AGE;

          items[n]
              = (LegendItem){ HIT_BALANCE, b, CH_GRAD0 + b, "", self->balance_visible[b], group };
          hydra_plot_channel_name (self, CH_GRAD0 + b, items[n].name, sizeof items[n].name);
          n++;
        }
    }
  return n;
}

#define SWATCH 18.0
#define LEGEND_GAP 18.0

/* A short sample of the item's line: dashed with a dot for the validation points. */
static void
draw_swatch (Draw *d, const LegendItem *item, double x, double mid, double alpha)
{
  cairo_t *cr = d->cr;

  if (item->kind == HIT_RUN)
    {
      hydra_plot_run_color (item->index, d->st, alpha, cr);
      cairo_rectangle (cr, x, round (mid) - 4, SWATCH, 8);
      cairo_fill (cr);
      return;
    }
  if (hydra_plot_overlaid (d->self) && item->kind != HIT_VALIDATION)
    {
      guint n_dash;
      const double *dash = hydra_plot_channel_dash (item->ch, &n_dash);

      set_fg (cr, d->st, (hydra_plot_channel_is_weighted (item->ch) ? 0.45 : 0.8) * alpha);
      cairo_set_line_width (cr, item->ch == HYDRA_CURVE_TOTAL ? 3.0 : 2.0);
      if (dash != NULL)
        cairo_set_dash (cr, dash, n_dash, 0);
      cairo_move_to (cr, x + 1, round (mid));
      cairo_line_to (cr, x + SWATCH - 1, round (mid));
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      return;
    }
  if (item->kind == HIT_VALIDATION && hydra_plot_overlaid (d->self))
    {
      set_fg (cr, d->st, 0.7 * alpha);
      cairo_arc (cr, x + SWATCH / 2, snap (mid), 3.5, 0, 2 * G_PI);
      cairo_fill (cr);
      return;
    }
  if (item->kind == HIT_VALIDATION)
    {
      set_fg (cr, d->st, 0.7 * alpha);
      cairo_set_line_width (cr, 1.5);
      cairo_set_dash (cr, hydra_plot_dash_validation, G_N_ELEMENTS (hydra_plot_dash_validation), 0);
      cairo_move_to (cr, x, snap (mid));
      cairo_line_to (cr, x + SWATCH, snap (mid));
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_arc (cr, x + SWATCH / 2, snap (mid), 3.0, 0, 2 * G_PI);
      cairo_fill (cr);
      return;
    }
  hydra_plot_channel_color (item->ch, d->st, alpha, cr);
  cairo_set_line_width (cr, item->ch == HYDRA_CURVE_TOTAL ? 3.0 : 2.5);
  if (hydra_plot_channel_is_weighted (item->ch))
    {
      static const double short_dash[] = { 5.0, 3.0 };

      cairo_set_dash (cr, short_dash, 2, 0);
    }
  cairo_move_to (cr, x, round (mid));
  cairo_line_to (cr, x + SWATCH, round (mid));
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

/* Lays the legend out in rows from (x, y) within width, a group on a row of its own when it
 * would not fit on the current one but fits on one; draws it when draw is TRUE. Returns its
 * height. */
double
hydra_plot_legend (Draw *d, double x, double y, double width, gboolean draw)
{
  LegendItem items[MAX_RUNS + HYDRA_N_CURVES + HYDRA_N_BALANCE_CURVES + 2];
  double item_ws[G_N_ELEMENTS (items)];
  guint n = legend_items (d, items);
  double cx = x, cy = y, row_h;

  hydra_chart_text_size (d->small, "Ag", NULL, &row_h);
  row_h += 6;
  for (guint i = 0; i < n; i++)
    {
      double tw;

      hydra_chart_text_size (d->small, items[i].name, &tw, NULL);
      item_ws[i] = SWATCH + 6 + tw;
    }
  for (guint i = 0; i < n; i++)
    {
      double item_w = item_ws[i], group_w = item_w, mid;

      for (guint j = i + 1; items[i].group && j < n && !items[j].group; j++)
        group_w += LEGEND_GAP + item_ws[j];
      if (cx > x && (cx + item_w > x + width || (cx + group_w > x + width && group_w <= width)))
        {
          cx = x;
          cy += row_h;
        }
      mid = cy + row_h / 2;
      if (draw)
        {
          draw_swatch (d, &items[i], cx, mid, items[i].visible ? 1.0 : 0.35);
          set_fg (d->cr, d->st, items[i].visible ? 0.85 : 0.4);
          hydra_chart_show_text (d->cr, d->small, items[i].name, cx + SWATCH + 6, mid, 0.0, 0.5);
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
