/* hydra-metrics-view.c — validation metrics per epoch and the race confusion matrix. */
#include "hydra-metrics-view.h"

#include <math.h>

#include "hydra-dataset-loader.h"
#include "model.h"

typedef enum
{
  METRIC_AGE_MAE,
  METRIC_GENDER_ACC,
  METRIC_RACE_ACC,
  N_METRICS
} Metric;

typedef struct
{
  HydraMetricsView *view; /* back pointer for the callbacks */
  Metric metric;
  GtkWidget *card;
  GtkLabel *value;
  GtkLabel *detail;
  GtkDrawingArea *area;
  int hover; /* epoch point index under the pointer, or -1 */
  /* Geometry at the last draw, for hit-testing */
  double x0, x1;
  double first_epoch, last_epoch;
} Chart;

struct _HydraMetricsView
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkStack *stack;
  GtkFlowBox *chart_box;
  GtkLabel *matrix_subtitle;
  GtkSpinButton *epoch_spin;
  GtkAdjustment *epoch_adjustment;
  GtkDrawingArea *matrix_area;

  /* Built in init */
  Chart charts[N_METRICS];

  /* Owned */
  HydraSeries *series;
  gulong changed_id;

  /* The epoch point shown (index into the series), and whether it tracks the latest */
  guint selected;
  gboolean follow;
  gboolean updating_spin;

  /* The matrix's geometry at the last draw */
  double cell_x0, cell_y0, cell_size;
  int hover_row, hover_col;
};

G_DEFINE_FINAL_TYPE (HydraMetricsView, hydra_metrics_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_SERIES,
  PROP_EPOCH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *const metric_titles[N_METRICS] = {
  "Age Error",
  "Gender Accuracy",
  "Race Accuracy",
};

static const char *const metric_tooltips[N_METRICS] = {
  "Mean absolute error of the predicted age on the validation images, in years: lower is better",
  "Share of validation images whose gender is predicted right; the faint line is a coin toss",
  "Share of validation images whose race class is predicted right; the faint line is always "
  "answering the most common class",
};

/* Each head in its colour of the loss plot (hydra-loss-plot.c: age blue, gender orange, race
 * purple), readable on light and dark backgrounds. The matrix takes the race head's. */
static const GdkRGBA metric_colors[N_METRICS] = {
  { 0x1c / 255., 0x71 / 255., 0xd8 / 255., 1.0 },
  { 0xe6 / 255., 0x61 / 255., 0x00 / 255., 1.0 },
  { 0xa3 / 255., 0x47 / 255., 0xba / 255., 1.0 },
};

static double
metric_value (const HydraEpochPoint *p, Metric metric)
{
  switch (metric)
    {
    case METRIC_AGE_MAE:
      return p->eval.age_mae;
    case METRIC_GENDER_ACC:
      return 100.0 * p->eval.gender_acc;
    case METRIC_RACE_ACC:
      return 100.0 * p->eval.race_acc;
    case N_METRICS:
    default:
      g_assert_not_reached ();
    }
}

static guint
n_epochs (HydraMetricsView *self)
{
  return self->series != NULL ? hydra_series_get_n_epochs (self->series) : 0;
}

static const HydraEpochPoint *
selected_point (HydraMetricsView *self)
{
  guint n = n_epochs (self);

  if (n == 0)
    return NULL;
  return hydra_series_get_epoch (self->series, MIN (self->selected, n - 1));
}

/* Chance for a head, in percent: a coin toss for gender, always answering the most common
 * class for race (from the confusion matrix's row sums: the true classes). NAN for age. */
static double
metric_chance (HydraMetricsView *self, Metric metric)
{
  const HydraEpochPoint *last;
  int total = 0, most = 0;

  if (metric == METRIC_GENDER_ACC)
    return 50.0;
  if (metric != METRIC_RACE_ACC || n_epochs (self) == 0)
    return NAN;
  last = hydra_series_get_epoch (self->series, n_epochs (self) - 1);
  for (int t = 0; t < N_RACES; t++)
    {
      int row = 0;

      for (int p = 0; p < N_RACES; p++)
        row += last->eval.race_confusion[t][p];
      total += row;
      most = MAX (most, row);
    }
  return total > 0 ? 100.0 * most / total : NAN;
}

static double
nice_step (double range, int ticks)
{
  double raw = range / ticks;
  double mag, norm;

  if (!(raw > 0))
    return 1;
  mag = pow (10, floor (log10 (raw)));
  norm = raw / mag;
  if (norm <= 1)
    return mag;
  if (norm <= 2)
    return 2 * mag;
  if (norm <= 5)
    return 5 * mag;
  return 10 * mag;
}

static PangoLayout *
create_layout (GtkWidget *widget, double scale, gboolean bold)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, NULL);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_scale_new (scale));
  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  if (bold)
    pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static void
get_fg (GtkWidget *widget, GdkRGBA *fg)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), fg);
}

static void
show_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y, double xalign,
           double yalign)
{
  int w, h;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &w, &h);
  cairo_move_to (cr, round (x - xalign * w), round (y - yalign * h));
  pango_cairo_show_layout (cr, layout);
}

static void
format_tick (Metric metric, double v, double step, char *buf, gsize len)
{
  if (metric == METRIC_AGE_MAE)
    g_snprintf (buf, len, step < 1 ? "%.1f" : "%.0f", v);
  else
    g_snprintf (buf, len, step < 1 ? "%.1f%%" : "%.0f%%", v);
}

/* ---------------------------------------------------------------------------------------
 * The small multiples
 */

static void
draw_chart (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  Chart *chart = user_data;
  HydraMetricsView *self = chart->view;
  GtkWidget *widget = GTK_WIDGET (area);
  g_autoptr (PangoLayout) small = create_layout (widget, 0.83, FALSE);
  guint n = n_epochs (self);
  double lo, hi, step, chance, vmin = INFINITY, vmax = -INFINITY;
  double x0, x1, y0, y1, e0, e1;
  int label_w = 0, label_h = 0;
  const GdkRGBA accent = metric_colors[chart->metric];
  GdkRGBA fg;
  char buf[32];

  if (n == 0)
    return;
  get_fg (widget, &fg);
  chance = metric_chance (self, chart->metric);

  for (guint i = 0; i < n; i++)
    {
      double v = metric_value (hydra_series_get_epoch (self->series, i), chart->metric);

      if (isfinite (v))
        vmin = MIN (vmin, v), vmax = MAX (vmax, v);
    }
  if (!isfinite (vmin))
    vmin = vmax = chart->metric == METRIC_AGE_MAE ? 0 : 50;

  /* The error from zero; accuracies zoomed to the values and chance, up to at most 100%. */
  if (chart->metric == METRIC_AGE_MAE)
    {
      lo = 0;
      step = nice_step (MAX (vmax * 1.1, 1), 3);
      hi = ceil (MAX (vmax * 1.1, 1) / step) * step;
    }
  else
    {
      double low = isfinite (chance) ? MIN (vmin, chance) : vmin;

      lo = MAX (0, floor ((low - 5) / 10) * 10);
      hi = MIN (100, ceil ((vmax + 5) / 10) * 10);
      step = nice_step (hi - lo, 3);
      lo = floor (lo / step) * step;
      hi = ceil (hi / step) * step;
    }

  for (double v = lo; v <= hi + step / 2; v += step)
    {
      int w, h;

      format_tick (chart->metric, v, step, buf, sizeof buf);
      pango_layout_set_text (small, buf, -1);
      pango_layout_get_pixel_size (small, &w, &h);
      label_w = MAX (label_w, w);
      label_h = MAX (label_h, h);
    }

  x0 = label_w + 10;
  x1 = width - 8;
  y0 = label_h / 2.0 + 2;
  y1 = height - label_h - 8;
  if (x1 - x0 < 20 || y1 - y0 < 20)
    return;

  e0 = hydra_series_get_epoch (self->series, 0)->epoch;
  e1 = hydra_series_get_epoch (self->series, n - 1)->epoch;
  if (e1 <= e0)
    e0 -= 0.5, e1 += 0.5;
  chart->x0 = x0, chart->x1 = x1, chart->first_epoch = e0, chart->last_epoch = e1;

#define X(e) (x0 + ((e) -e0) / (e1 - e0) * (x1 - x0))
#define Y(v) (y1 - ((CLAMP ((v), lo, hi)) - lo) / (hi - lo) * (y1 - y0))

  cairo_set_line_width (cr, 1);
  for (double v = lo; v <= hi + step / 2; v += step)
    {
      double y = round (Y (v)) + 0.5;

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, v == lo ? 0.3 : 0.1);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x1, y);
      cairo_stroke (cr);
      format_tick (chart->metric, v, step, buf, sizeof buf);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
      show_text (cr, small, buf, x0 - 8, y, 1.0, 0.5);
    }

  /* x labels: epochs, thinned so that they never collide */
  {
    int w, h, every;
    double room;

    g_snprintf (buf, sizeof buf, "%d", (int) e1);
    pango_layout_set_text (small, buf, -1);
    pango_layout_get_pixel_size (small, &w, &h);
    room = (x1 - x0) / MAX (1.0, e1 - e0);
    every = (int) nice_step ((w + 12) / room * 3, 3);
    every = MAX (every, 1);
    cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
    for (guint i = 0; i < n; i++)
      {
        int e = hydra_series_get_epoch (self->series, i)->epoch;

        if (e % every != 0 && !(i == 0 && every > 1 && e % every > every / 2))
          continue;
        g_snprintf (buf, sizeof buf, "%d", e);
        show_text (cr, small, buf, X (e), y1 + 4, 0.5, 0.0);
      }
  }

  /* Chance, faint and dashed, labelled at the right */
  if (isfinite (chance))
    {
      double y = round (Y (chance)) + 0.5;
      double dash[] = { 4, 3 };

      cairo_save (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.45);
      cairo_set_dash (cr, dash, 2, 0);
      cairo_move_to (cr, x0, y);
      cairo_line_to (cr, x1, y);
      cairo_stroke (cr);
      cairo_restore (cr);
      g_snprintf (buf, sizeof buf, "chance %.0f%%", chance);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
      show_text (cr, small, buf, x1, y - 2, 1.0, 1.0);
    }

  /* The selected (or hovered) epoch as a faint vertical guide */
  {
    guint mark = chart->hover >= 0 ? (guint) chart->hover : MIN (self->selected, n - 1);
    double x = round (X (hydra_series_get_epoch (self->series, mark)->epoch)) + 0.5;

    cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.15);
    cairo_move_to (cr, x, y0);
    cairo_line_to (cr, x, y1);
    cairo_stroke (cr);
  }

  /* Area (when every value is finite), line and points; a NaN leaves a gap */
  {
    gboolean all_finite = TRUE, pen = FALSE;

    for (guint i = 0; i < n; i++)
      all_finite
          &= isfinite (metric_value (hydra_series_get_epoch (self->series, i), chart->metric));
    if (n > 1 && all_finite)
      {
        cairo_new_path (cr);
        for (guint i = 0; i < n; i++)
          {
            const HydraEpochPoint *p = hydra_series_get_epoch (self->series, i);

            cairo_line_to (cr, X (p->epoch), Y (metric_value (p, chart->metric)));
          }
        cairo_line_to (cr, X (e1), y1);
        cairo_line_to (cr, X (e0), y1);
        cairo_close_path (cr);
        cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 0.12);
        cairo_fill (cr);
      }

    cairo_new_path (cr);
    for (guint i = 0; i < n; i++)
      {
        const HydraEpochPoint *p = hydra_series_get_epoch (self->series, i);
        double v = metric_value (p, chart->metric);

        if (!isfinite (v))
          pen = FALSE;
        else if (pen)
          cairo_line_to (cr, X (p->epoch), Y (v));
        else
          cairo_move_to (cr, X (p->epoch), Y (v)), pen = TRUE;
      }
    cairo_set_line_width (cr, 2);
    cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 1);
    cairo_stroke (cr);
  }
  for (guint i = 0; i < n; i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (self->series, i);
      gboolean big = i == MIN (self->selected, n - 1) || (int) i == chart->hover;
      double v = metric_value (p, chart->metric);
      double x = X (p->epoch), y = Y (v);

      if (!isfinite (v))
        continue;
      cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, 1);
      cairo_arc (cr, x, y, big ? 5 : 3, 0, 2 * G_PI);
      cairo_fill (cr);
      if (big)
        {
          cairo_set_source_rgba (cr, 1, 1, 1, 1);
          cairo_arc (cr, x, y, 2, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
#undef X
#undef Y
}

static int
chart_point_at (Chart *chart, double x)
{
  HydraMetricsView *self = chart->view;
  guint n = n_epochs (self);
  int best = -1;
  double best_d = 24; /* px: how far from a point still counts as on it */

  if (n == 0 || chart->x1 <= chart->x0)
    return -1;
  for (guint i = 0; i < n; i++)
    {
      int e = hydra_series_get_epoch (self->series, i)->epoch;
      double px = chart->x0
                  + (e - chart->first_epoch) / (chart->last_epoch - chart->first_epoch)
                        * (chart->x1 - chart->x0);
      double d = fabs (px - x);

      if (d < best_d)
        best_d = d, best = (int) i;
    }
  return best;
}

static void
on_chart_motion (GtkEventControllerMotion *motion, double x, double y, Chart *chart)
{
  int hover = chart_point_at (chart, x);

  if (hover != chart->hover)
    {
      chart->hover = hover;
      gtk_widget_queue_draw (GTK_WIDGET (chart->area));
    }
}

static void
on_chart_leave (GtkEventControllerMotion *motion, Chart *chart)
{
  if (chart->hover != -1)
    {
      chart->hover = -1;
      gtk_widget_queue_draw (GTK_WIDGET (chart->area));
    }
}

static void
on_chart_pressed (GtkGestureClick *gesture, int n_press, double x, double y, Chart *chart)
{
  int i = chart_point_at (chart, x);

  if (i >= 0)
    hydra_metrics_view_set_epoch (chart->view,
                                  hydra_series_get_epoch (chart->view->series, i)->epoch);
}

static char *
format_value (Metric metric, double v, gboolean markup)
{
  if (!isfinite (v))
    return g_strdup ("–");
  if (metric == METRIC_AGE_MAE)
    return g_strdup_printf (
        markup ? "%.2f<span size=\"50%%\" weight=\"normal\"> years</span>" : "%.2f years", v);
  return g_strdup_printf ("%.1f%%", v);
}

static gboolean
on_chart_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                        GtkTooltip *tooltip, Chart *chart)
{
  int i = keyboard_mode ? -1 : chart_point_at (chart, x);
  const HydraEpochPoint *p;
  g_autofree char *value = NULL;
  g_autofree char *markup = NULL;

  if (i < 0)
    {
      gtk_tooltip_set_text (tooltip, metric_tooltips[chart->metric]);
      return TRUE;
    }
  p = hydra_series_get_epoch (chart->view->series, i);
  value = format_value (chart->metric, metric_value (p, chart->metric), FALSE);
  markup = g_strdup_printf ("<b>Epoch %d</b>\n%s", p->epoch, value);
  gtk_tooltip_set_markup (tooltip, markup);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------
 * The confusion matrix
 */

static void
draw_matrix (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  HydraMetricsView *self = user_data;
  GtkWidget *widget = GTK_WIDGET (area);
  const HydraEpochPoint *p = selected_point (self);
  g_autoptr (PangoLayout) small = create_layout (widget, 0.83, FALSE);
  g_autoptr (PangoLayout) label = create_layout (widget, 1.0, FALSE);
  g_autoptr (PangoLayout) count = create_layout (widget, 1.0, TRUE);
  int row_sum[N_RACES] = { 0 };
  int names_w = 0, names_h = 0, small_h = 0, recall_w = 0;
  double left, top, cell, gap = 3, grid_w, x_start;
  const GdkRGBA accent = metric_colors[METRIC_RACE_ACC];
  GdkRGBA fg;

  if (p == NULL)
    return;
  get_fg (widget, &fg);

  for (int t = 0; t < N_RACES; t++)
    {
      int w, h;

      for (int q = 0; q < N_RACES; q++)
        row_sum[t] += p->eval.race_confusion[t][q];
      pango_layout_set_text (label, race_names[t], -1);
      pango_layout_get_pixel_size (label, &w, &h);
      names_w = MAX (names_w, w);
      names_h = MAX (names_h, h);
    }
  pango_layout_set_text (small, "Recall", -1);
  pango_layout_get_pixel_size (small, &recall_w, &small_h);
  recall_w = MAX (recall_w, 48);

  /* [True|names] [5 × 5 cells] [recall] under [Predicted] [names] */
  left = small_h + 8 + names_w + 10;
  top = small_h + 4 + names_h + 6;
  cell = MIN ((width - left - recall_w - 16) / N_RACES, (height - top - 2) / N_RACES);
  cell = floor (MIN (cell, 72));
  if (cell < 16)
    return;
  grid_w = left + N_RACES * cell + 16 + recall_w;
  x_start = floor (MAX (0, (width - grid_w) / 2));
  left += x_start;
  self->cell_x0 = left, self->cell_y0 = top, self->cell_size = cell;

  /* Axis captions */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
  show_text (cr, small, "Predicted", left + N_RACES * cell / 2, 0, 0.5, 0.0);
  show_text (cr, small, "Recall", left + N_RACES * cell + 16 + recall_w, 0, 1.0, 0.0);
  cairo_save (cr);
  cairo_translate (cr, x_start, top + N_RACES * cell / 2);
  cairo_rotate (cr, -G_PI / 2);
  show_text (cr, small, "True", 0, 0, 0.5, 0.0);
  cairo_restore (cr);

  for (int q = 0; q < N_RACES; q++)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
      show_text (cr, label, race_names[q], left + (q + 0.5) * cell, small_h + 4, 0.5, 0.0);
    }

  for (int t = 0; t < N_RACES; t++)
    {
      double y = top + t * cell;
      char buf[32];

      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
      show_text (cr, label, race_names[t], left - 10, y + cell / 2, 1.0, 0.5);

      for (int q = 0; q < N_RACES; q++)
        {
          int c = p->eval.race_confusion[t][q];
          double share = row_sum[t] > 0 ? (double) c / row_sum[t] : 0;
          double alpha = 0.06 + 0.94 * share;
          double x = left + q * cell;
          g_autofree char *text = hydra_format_count (c);
          gboolean on_fill = alpha > 0.5;
          gboolean hovered = t == self->hover_row && q == self->hover_col;

          cairo_new_sub_path (cr);
          cairo_arc (cr, x + gap / 2 + 4, y + gap / 2 + 4, 4, G_PI, 1.5 * G_PI);
          cairo_arc (cr, x + cell - gap / 2 - 4, y + gap / 2 + 4, 4, 1.5 * G_PI, 2 * G_PI);
          cairo_arc (cr, x + cell - gap / 2 - 4, y + cell - gap / 2 - 4, 4, 0, 0.5 * G_PI);
          cairo_arc (cr, x + gap / 2 + 4, y + cell - gap / 2 - 4, 4, 0.5 * G_PI, G_PI);
          cairo_close_path (cr);
          cairo_set_source_rgba (cr, accent.red, accent.green, accent.blue, alpha);
          if (hovered)
            {
              cairo_fill_preserve (cr);
              cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
              cairo_set_line_width (cr, 2);
              cairo_stroke (cr);
            }
          else
            cairo_fill (cr);

          if (on_fill)
            cairo_set_source_rgba (cr, 1, 1, 1, 1);
          else
            cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, c == 0 ? 0.45 : 0.9);
          if (cell >= 44)
            {
              int ch, sh;
              double cy = y + cell / 2;

              pango_layout_set_text (count, text, -1);
              pango_layout_get_pixel_size (count, NULL, &ch);
              pango_layout_set_text (small, "0", -1);
              pango_layout_get_pixel_size (small, NULL, &sh);
              show_text (cr, count, text, x + cell / 2, cy - (ch + sh) / 2.0, 0.5, 0.0);
              g_snprintf (buf, sizeof buf, "%.0f%%", 100 * share);
              if (on_fill)
                cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
              else
                cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.55);
              show_text (cr, small, buf, x + cell / 2, cy - (ch + sh) / 2.0 + ch, 0.5, 0.0);
            }
          else
            show_text (cr, small, text, x + cell / 2, y + cell / 2, 0.5, 0.5);
        }

      /* Recall: the diagonal's share of the row */
      if (row_sum[t] > 0)
        g_snprintf (buf, sizeof buf, "%.1f%%", 100.0 * p->eval.race_confusion[t][t] / row_sum[t]);
      else
        g_snprintf (buf, sizeof buf, "–");
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
      show_text (cr, label, buf, left + N_RACES * cell + 16 + recall_w, y + cell / 2, 1.0, 0.5);
    }
}

static gboolean
matrix_cell_at (HydraMetricsView *self, double x, double y, int *row, int *col)
{
  if (self->cell_size <= 0 || x < self->cell_x0 || y < self->cell_y0)
    return FALSE;
  *col = (int) floor ((x - self->cell_x0) / self->cell_size);
  *row = (int) floor ((y - self->cell_y0) / self->cell_size);
  return *row >= 0 && *row < N_RACES && *col >= 0 && *col < N_RACES;
}

static void
on_matrix_motion (GtkEventControllerMotion *motion, double x, double y, HydraMetricsView *self)
{
  int row = -1, col = -1;

  if (!matrix_cell_at (self, x, y, &row, &col))
    row = col = -1;
  if (row != self->hover_row || col != self->hover_col)
    {
      self->hover_row = row, self->hover_col = col;
      gtk_widget_queue_draw (GTK_WIDGET (self->matrix_area));
    }
}

static void
on_matrix_leave (GtkEventControllerMotion *motion, HydraMetricsView *self)
{
  if (self->hover_row != -1)
    {
      self->hover_row = self->hover_col = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self->matrix_area));
    }
}

static gboolean
on_matrix_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                         GtkTooltip *tooltip, HydraMetricsView *self)
{
  const HydraEpochPoint *p = selected_point (self);
  int row, col, sum = 0;
  g_autofree char *c = NULL;
  g_autofree char *s = NULL;
  g_autofree char *markup = NULL;

  if (p == NULL || keyboard_mode || !matrix_cell_at (self, x, y, &row, &col))
    return FALSE;
  for (int q = 0; q < N_RACES; q++)
    sum += p->eval.race_confusion[row][q];
  c = hydra_format_count (p->eval.race_confusion[row][col]);
  s = hydra_format_count (sum);
  markup = g_strdup_printf ("<b>True %s, predicted %s</b>\n%s of %s images (%.1f%%)",
                            race_names[row], race_names[col], c, s,
                            sum > 0 ? 100.0 * p->eval.race_confusion[row][col] / sum : 0.0);
  gtk_tooltip_set_markup (tooltip, markup);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------
 * Keeping up with the series
 */

static void
update_labels (HydraMetricsView *self)
{
  const HydraEpochPoint *p = selected_point (self);
  guint n = n_epochs (self);
  guint i;

  if (p == NULL)
    return;
  i = MIN (self->selected, n - 1);

  for (int m = 0; m < N_METRICS; m++)
    {
      Chart *chart = &self->charts[m];
      double v = metric_value (p, m);
      g_autofree char *value = format_value (m, v, TRUE);
      g_autofree char *detail = NULL;

      gtk_label_set_markup (chart->value, value);
      if (i > 0)
        {
          const HydraEpochPoint *prev = hydra_series_get_epoch (self->series, i - 1);
          double d = v - metric_value (prev, m);

          if (!isfinite (d))
            detail = g_strdup_printf ("at epoch %d", p->epoch);
          else if (fabs (d) < (m == METRIC_AGE_MAE ? 0.005 : 0.05))
            detail = g_strdup_printf ("as at epoch %d", prev->epoch);
          else if (m == METRIC_AGE_MAE)
            detail = g_strdup_printf ("%s%.2f since epoch %d", d < 0 ? "−" : "+", fabs (d),
                                      prev->epoch);
          else
            detail = g_strdup_printf ("%s%.1f since epoch %d", d < 0 ? "−" : "+", fabs (d),
                                      prev->epoch);
        }
      else
        detail = g_strdup_printf ("at epoch %d", p->epoch);
      gtk_label_set_text (chart->detail, detail);
    }

  {
    g_autofree char *images = hydra_format_count (p->eval.n);
    g_autofree char *subtitle = NULL;

    subtitle
        = g_strdup_printf ("Epoch %d of %d  ·  %s validation images  ·  shaded by the share of "
                           "each true race",
                           p->epoch, hydra_series_get_epoch (self->series, n - 1)->epoch, images);
    gtk_label_set_text (self->matrix_subtitle, subtitle);
  }
}

static void
queue_draw_all (HydraMetricsView *self)
{
  for (int m = 0; m < N_METRICS; m++)
    gtk_widget_queue_draw (GTK_WIDGET (self->charts[m].area));
  gtk_widget_queue_draw (GTK_WIDGET (self->matrix_area));
}

static void
sync_spin (HydraMetricsView *self)
{
  const HydraEpochPoint *p = selected_point (self);
  guint n = n_epochs (self);

  if (p == NULL)
    return;
  self->updating_spin = TRUE;
  gtk_adjustment_configure (self->epoch_adjustment, p->epoch,
                            hydra_series_get_epoch (self->series, 0)->epoch,
                            hydra_series_get_epoch (self->series, n - 1)->epoch, 1, 5, 0);
  self->updating_spin = FALSE;
}

static void
on_series_changed (HydraMetricsView *self)
{
  guint n = n_epochs (self);
  int old_epoch = hydra_metrics_view_get_epoch (self);

  if (n == 0)
    {
      self->selected = 0;
      self->follow = TRUE;
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
  else
    {
      if (self->follow || self->selected >= n)
        self->selected = n - 1;
      sync_spin (self);
      update_labels (self);
      gtk_stack_set_visible_child_name (self->stack, "content");
    }
  for (int m = 0; m < N_METRICS; m++)
    self->charts[m].hover = -1;
  queue_draw_all (self);
  if (old_epoch != hydra_metrics_view_get_epoch (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EPOCH]);
}

static void
on_epoch_value_changed (GtkAdjustment *adjustment, HydraMetricsView *self)
{
  if (self->updating_spin)
    return;
  hydra_metrics_view_set_epoch (self, (int) gtk_adjustment_get_value (adjustment));
}

int
hydra_metrics_view_get_epoch (HydraMetricsView *self)
{
  const HydraEpochPoint *p;

  g_return_val_if_fail (HYDRA_IS_METRICS_VIEW (self), 0);

  p = selected_point (self);
  return p != NULL ? p->epoch : 0;
}

void
hydra_metrics_view_set_epoch (HydraMetricsView *self, int epoch)
{
  guint n;
  guint pick = 0;

  g_return_if_fail (HYDRA_IS_METRICS_VIEW (self));

  n = n_epochs (self);
  if (n == 0)
    return;
  /* The last point at or before `epoch` (epochs are increasing; a resumed run starts late). */
  for (guint i = 0; i < n; i++)
    if (hydra_series_get_epoch (self->series, i)->epoch <= epoch)
      pick = i;
  self->follow = pick == n - 1;
  if (pick == MIN (self->selected, n - 1))
    {
      sync_spin (self);
      return;
    }
  self->selected = pick;
  sync_spin (self);
  update_labels (self);
  queue_draw_all (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EPOCH]);
}

void
hydra_metrics_view_set_series (HydraMetricsView *self, HydraSeries *series)
{
  g_return_if_fail (HYDRA_IS_METRICS_VIEW (self));
  g_return_if_fail (series == NULL || HYDRA_IS_SERIES (series));

  if (self->series == series)
    return;
  if (self->series != NULL)
    g_clear_signal_handler (&self->changed_id, self->series);
  g_set_object (&self->series, series);
  if (series != NULL)
    self->changed_id
        = g_signal_connect_swapped (series, "changed", G_CALLBACK (on_series_changed), self);
  self->follow = TRUE;
  self->selected = 0;
  on_series_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIES]);
}

HydraSeries *
hydra_metrics_view_get_series (HydraMetricsView *self)
{
  g_return_val_if_fail (HYDRA_IS_METRICS_VIEW (self), NULL);

  return self->series;
}

/* ---------------------------------------------------------------------------------------
 * Construction
 */

static void
build_chart (HydraMetricsView *self, Metric metric)
{
  Chart *chart = &self->charts[metric];
  GtkWidget *title;
  GtkEventController *motion;
  GtkGesture *click;

  chart->view = self;
  chart->metric = metric;
  chart->hover = -1;

  chart->card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_add_css_class (chart->card, "hydra-card");
  gtk_widget_add_css_class (chart->card, "hydra-figure");

  title = gtk_label_new (metric_titles[metric]);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_widget_set_tooltip_text (title, metric_tooltips[metric]);

  chart->value = GTK_LABEL (gtk_label_new ("–"));
  gtk_label_set_xalign (chart->value, 0);
  gtk_widget_add_css_class (GTK_WIDGET (chart->value), "hydra-figure-value");

  chart->detail = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (chart->detail, 0);
  gtk_label_set_ellipsize (chart->detail, PANGO_ELLIPSIZE_END);
  /* A small natural width lets the flow box keep the three charts in one row down to about
   * 520 px; wider cards show the whole text. */
  gtk_label_set_max_width_chars (chart->detail, 16);
  gtk_widget_add_css_class (GTK_WIDGET (chart->detail), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (chart->detail), "dim-label");

  chart->area = GTK_DRAWING_AREA (gtk_drawing_area_new ());
  gtk_drawing_area_set_content_height (chart->area, 150);
  gtk_widget_set_margin_top (GTK_WIDGET (chart->area), 10);
  gtk_widget_set_has_tooltip (GTK_WIDGET (chart->area), TRUE);
  gtk_drawing_area_set_draw_func (chart->area, draw_chart, chart, NULL);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_chart_motion), chart);
  g_signal_connect (motion, "leave", G_CALLBACK (on_chart_leave), chart);
  gtk_widget_add_controller (GTK_WIDGET (chart->area), motion);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (on_chart_pressed), chart);
  gtk_widget_add_controller (GTK_WIDGET (chart->area), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (chart->area, "query-tooltip", G_CALLBACK (on_chart_query_tooltip), chart);

  gtk_box_append (GTK_BOX (chart->card), title);
  gtk_box_append (GTK_BOX (chart->card), GTK_WIDGET (chart->value));
  gtk_box_append (GTK_BOX (chart->card), GTK_WIDGET (chart->detail));
  gtk_box_append (GTK_BOX (chart->card), GTK_WIDGET (chart->area));
  gtk_flow_box_append (self->chart_box, chart->card);
  /* The flow box only wraps: its children are not items to focus. */
  gtk_widget_set_focusable (gtk_widget_get_parent (chart->card), FALSE);
}

static void
hydra_metrics_view_dispose (GObject *object)
{
  HydraMetricsView *self = HYDRA_METRICS_VIEW (object);

  if (self->series != NULL)
    g_clear_signal_handler (&self->changed_id, self->series);
  g_clear_object (&self->series);
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_METRICS_VIEW);

  G_OBJECT_CLASS (hydra_metrics_view_parent_class)->dispose (object);
}

static void
hydra_metrics_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraMetricsView *self = HYDRA_METRICS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      g_value_set_object (value, self->series);
      break;

    case PROP_EPOCH:
      g_value_set_int (value, hydra_metrics_view_get_epoch (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_metrics_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  HydraMetricsView *self = HYDRA_METRICS_VIEW (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      hydra_metrics_view_set_series (self, g_value_get_object (value));
      break;

    case PROP_EPOCH:
      hydra_metrics_view_set_epoch (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_metrics_view_class_init (HydraMetricsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_metrics_view_dispose;
  object_class->get_property = hydra_metrics_view_get_property;
  object_class->set_property = hydra_metrics_view_set_property;

  properties[PROP_SERIES]
      = g_param_spec_object ("series", NULL, NULL, HYDRA_TYPE_SERIES,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EPOCH]
      = g_param_spec_int ("epoch", NULL, NULL, 0, G_MAXINT, 0,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-metrics-view.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, stack);
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, chart_box);
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, matrix_subtitle);
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, epoch_spin);
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, epoch_adjustment);
  gtk_widget_class_bind_template_child (widget_class, HydraMetricsView, matrix_area);
  gtk_widget_class_bind_template_callback (widget_class, on_epoch_value_changed);

  gtk_widget_class_set_css_name (widget_class, "hydrametricsview");
}

static void
hydra_metrics_view_init (HydraMetricsView *self)
{
  GtkEventController *motion;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->follow = TRUE;
  self->hover_row = self->hover_col = -1;

  for (int m = 0; m < N_METRICS; m++)
    build_chart (self, m);

  gtk_drawing_area_set_draw_func (self->matrix_area, draw_matrix, self, NULL);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_matrix_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_matrix_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->matrix_area), motion);
  g_signal_connect (self->matrix_area, "query-tooltip", G_CALLBACK (on_matrix_query_tooltip), self);

  gtk_stack_set_visible_child_name (self->stack, "empty");
}

GtkWidget *
hydra_metrics_view_new (void)
{
  return g_object_new (HYDRA_TYPE_METRICS_VIEW, NULL);
}
