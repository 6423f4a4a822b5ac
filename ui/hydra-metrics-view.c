/* hydra-metrics-view.c — validation metrics per epoch and the race confusion matrix. */
#include "hydra-metrics-view.h"

#include <math.h>
#include <string.h>

#include "chart/hydra-chart-axis.h"
#include "chart/hydra-chart-draw.h"
#include "hydra-dataset-loader.h"
#include "hydra-number-input.h"
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
  HydraSeries *overlay[HYDRA_CHART_N_RUN_COLORS - 1]; /* runs compared with it */
  guint overlay_epochs[HYDRA_CHART_N_RUN_COLORS - 1];  /* the epochs drawn of each */
  char *names[HYDRA_CHART_N_RUN_COLORS];             /* the primary's, then theirs */
  guint n_overlay;

  /* What the view last showed: the series commits many times an epoch, mostly steps only */
  guint shown_epochs;
  HydraEpochPoint shown_last;

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

enum
{
  REFUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

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

/* Each metric is one head's, drawn in that head's colour (hydra_chart_head_colors, as in the
 * loss plot); the matrix takes the race head's. */
static const int metric_head[N_METRICS] = { HEAD_AGE, HEAD_GENDER, HEAD_RACE };

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

static void select_point (HydraMetricsView *self, guint pick);

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

/* A chart's geometry: the plotting area, the epochs at its left and right edges, and the
 * values at its bottom and top with their tick step. */
typedef struct
{
  HydraChartArea a;
  double e0, e1;
  double lo, hi, step;
} ChartScale;

static double
chart_x (const ChartScale *s, double e)
{
  return s->a.x0 + (e - s->e0) / (s->e1 - s->e0) * (s->a.x1 - s->a.x0);
}

/* Values beyond the range sit on its edge. */
static double
chart_y (const ChartScale *s, double v)
{
  return s->a.y1 - (CLAMP (v, s->lo, s->hi) - s->lo) / (s->hi - s->lo) * (s->a.y1 - s->a.y0);
}

/* The error from zero; accuracies zoomed to the values and chance, up to at most 100%. */
static void
chart_value_range (HydraMetricsView *self, Metric metric, double chance, ChartScale *s)
{
  double vmin = INFINITY, vmax = -INFINITY;

  for (guint r = 0; r <= self->n_overlay; r++)
    {
      HydraSeries *series = r == 0 ? self->series : self->overlay[r - 1];

      for (guint i = 0; i < hydra_series_get_n_epochs (series); i++)
        {
          double v = metric_value (hydra_series_get_epoch (series, i), metric);

          if (isfinite (v))
            vmin = MIN (vmin, v), vmax = MAX (vmax, v);
        }
    }
  if (!isfinite (vmin))
    vmin = vmax = metric == METRIC_AGE_MAE ? 0 : 50;

  if (metric == METRIC_AGE_MAE)
    {
      s->lo = 0;
      s->step = hydra_chart_nice_step (MAX (vmax * 1.1, 1), 3);
      s->hi = ceil (MAX (vmax * 1.1, 1) / s->step) * s->step;
    }
  else
    {
      double low = isfinite (chance) ? MIN (vmin, chance) : vmin;

      s->lo = MAX (0, floor ((low - 5) / 10) * 10);
      s->hi = MIN (100, ceil ((vmax + 5) / 10) * 10);
      s->step = hydra_chart_nice_step (s->hi - s->lo, 3);
      s->lo = floor (s->lo / s->step) * s->step;
      s->hi = ceil (s->hi / s->step) * s->step;
    }
}

/* The plotting rectangle, inside the widest and tallest value labels, and the epochs it
 * spans; kept in the chart for hit-testing. FALSE when there is no room to draw. */
static gboolean
chart_layout (Chart *chart, PangoLayout *small, int width, int height, ChartScale *s)
{
  HydraMetricsView *self = chart->view;
  double label_w = 0, label_h = 0, v;
  HydraChartSteps it;
  char buf[32];

  for (hydra_chart_steps_init (&it, s->lo, s->hi, s->step); hydra_chart_steps_next (&it, &v);)
    {
      format_tick (chart->metric, v, s->step, buf, sizeof buf);
      hydra_chart_text_grow (small, buf, &label_w, &label_h);
    }
  if (!hydra_chart_area_fit (&s->a, width, height, label_w, label_h, 8))
    return FALSE;

  s->e0 = hydra_series_get_epoch (self->series, 0)->at;
  s->e1 = hydra_series_get_epoch (self->series, n_epochs (self) - 1)->at;
  for (guint r = 0; r < self->n_overlay; r++)
    {
      guint n = hydra_series_get_n_epochs (self->overlay[r]);

      if (n == 0)
        continue;
      s->e0 = MIN (s->e0, hydra_series_get_epoch (self->overlay[r], 0)->at);
      s->e1 = MAX (s->e1, hydra_series_get_epoch (self->overlay[r], n - 1)->at);
    }
  if (s->e1 <= s->e0)
    s->e0 -= 0.5, s->e1 += 0.5;
  chart->x0 = s->a.x0, chart->x1 = s->a.x1, chart->first_epoch = s->e0, chart->last_epoch = s->e1;
  return TRUE;
}

static void
draw_value_axis (cairo_t *cr, PangoLayout *small, const GdkRGBA *fg, Metric metric,
                 const ChartScale *s)
{
  HydraChartSteps it;
  double v;
  char buf[32];

  cairo_set_line_width (cr, 1);
  for (hydra_chart_steps_init (&it, s->lo, s->hi, s->step); hydra_chart_steps_next (&it, &v);)
    {
      format_tick (metric, v, s->step, buf, sizeof buf);
      hydra_chart_draw_gridline (cr, small, fg, v == s->lo ? 0.3 : 0.1, s->a.x0, s->a.x1,
                                 round (chart_y (s, v)) + 0.5, buf);
    }
}

/* Epochs under the points, thinned so that they never collide. */
static void
draw_epoch_labels (cairo_t *cr, PangoLayout *small, const GdkRGBA *fg, HydraMetricsView *self,
                   const ChartScale *s)
{
  double w, room;
  int every;
  char buf[32];

  g_snprintf (buf, sizeof buf, "%d", (int) s->e1);
  hydra_chart_text_size (small, buf, &w, NULL);
  room = (s->a.x1 - s->a.x0) / MAX (1.0, s->e1 - s->e0);
  every = (int) hydra_chart_nice_step ((w + 12) / room * 3, 3);
  every = MAX (every, 1);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
  for (guint i = 0; i < n_epochs (self); i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (self->series, i);
      int e = p->epoch;

      if (p->at != e) /* a run's end inside an epoch: its dot says enough */
        continue;
      if (e % every != 0 && !(i == 0 && every > 1 && e % every > every / 2))
        continue;
      g_snprintf (buf, sizeof buf, "%d", e);
      hydra_chart_show_text (cr, small, buf, chart_x (s, e), s->a.y1 + 4, 0.5, 0.0);
    }
}

/* Chance, faint and dashed, labelled at the right. */
static void
draw_chance (cairo_t *cr, PangoLayout *small, const GdkRGBA *fg, double chance, const ChartScale *s)
{
  double y = round (chart_y (s, chance)) + 0.5;
  double dash[] = { 4, 3 };
  char buf[32];

  cairo_save (cr);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.45);
  cairo_set_dash (cr, dash, 2, 0);
  cairo_move_to (cr, s->a.x0, y);
  cairo_line_to (cr, s->a.x1, y);
  cairo_stroke (cr);
  cairo_restore (cr);
  g_snprintf (buf, sizeof buf, "chance %.0f%%", chance);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
  hydra_chart_show_text (cr, small, buf, s->a.x1, y - 2, 1.0, 1.0);
}

/* The selected (or hovered) epoch as a faint vertical guide. */
static void
draw_guide (cairo_t *cr, const GdkRGBA *fg, Chart *chart, const ChartScale *s)
{
  HydraMetricsView *self = chart->view;
  guint mark = chart->hover >= 0 ? (guint) chart->hover : MIN (self->selected, n_epochs (self) - 1);
  double x = round (chart_x (s, hydra_series_get_epoch (self->series, mark)->at)) + 0.5;

  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.15);
  cairo_move_to (cr, x, s->a.y0);
  cairo_line_to (cr, x, s->a.y1);
  cairo_stroke (cr);
}

/* The area under the line, when every value is finite. */
static void
draw_area (cairo_t *cr, const GdkRGBA *accent, Chart *chart, const ChartScale *s)
{
  HydraMetricsView *self = chart->view;
  guint n = n_epochs (self);
  gboolean all_finite = TRUE;

  for (guint i = 0; i < n; i++)
    all_finite &= isfinite (metric_value (hydra_series_get_epoch (self->series, i), chart->metric));
  if (n <= 1 || !all_finite)
    return;
  cairo_new_path (cr);
  for (guint i = 0; i < n; i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (self->series, i);

      cairo_line_to (cr, chart_x (s, p->at), chart_y (s, metric_value (p, chart->metric)));
    }
  cairo_line_to (cr, chart_x (s, s->e1), s->a.y1);
  cairo_line_to (cr, chart_x (s, s->e0), s->a.y1);
  cairo_close_path (cr);
  cairo_set_source_rgba (cr, accent->red, accent->green, accent->blue, 0.12);
  cairo_fill (cr);
}

/* The line through a series' values, width px wide; a NaN leaves a gap. */
static void
draw_line (cairo_t *cr, const GdkRGBA *color, HydraSeries *series, Metric metric,
           const ChartScale *s, double width)
{
  gboolean pen = FALSE;

  cairo_new_path (cr);
  for (guint i = 0; i < hydra_series_get_n_epochs (series); i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (series, i);
      double v = metric_value (p, metric);

      if (!isfinite (v))
        pen = FALSE;
      else if (pen)
        cairo_line_to (cr, chart_x (s, p->at), chart_y (s, v));
      else
        cairo_move_to (cr, chart_x (s, p->at), chart_y (s, v)), pen = TRUE;
    }
  cairo_set_line_width (cr, width);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, 1);
  cairo_stroke (cr);
}

/* A dot of radius px per value; the points big_a and big_b (−1: none) larger, with a white
 * centre: the selected and the hovered one. */
static void
draw_points (cairo_t *cr, const GdkRGBA *color, HydraSeries *series, Metric metric,
             const ChartScale *s, double radius, int big_a, int big_b)
{
  for (guint i = 0; i < hydra_series_get_n_epochs (series); i++)
    {
      const HydraEpochPoint *p = hydra_series_get_epoch (series, i);
      gboolean big = (int) i == big_a || (int) i == big_b;
      double v = metric_value (p, metric);
      double x = chart_x (s, p->at), y = chart_y (s, v);

      if (!isfinite (v))
        continue;
      cairo_set_source_rgba (cr, color->red, color->green, color->blue, 1);
      cairo_arc (cr, x, y, big ? 5 : radius, 0, 2 * G_PI);
      cairo_fill (cr);
      if (big)
        {
          cairo_set_source_rgba (cr, 1, 1, 1, 1);
          cairo_arc (cr, x, y, 2, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
}

/* The runs' names in their colours, along the top of the first chart. */
static void
draw_run_names (cairo_t *cr, PangoLayout *small, HydraMetricsView *self, const ChartScale *s)
{
  double x = s->a.x0 + 4, w;

  for (guint r = 0; r <= self->n_overlay; r++)
    {
      const GdkRGBA *c = &hydra_chart_run_colors[r];
      const char *name = self->names[r] != NULL ? self->names[r] : "this run";

      hydra_chart_text_size (small, name, &w, NULL);
      if (x + 14 + w > s->a.x1)
        break;
      cairo_set_source_rgba (cr, c->red, c->green, c->blue, 1);
      cairo_rectangle (cr, x, s->a.y0 + 4, 10, 6);
      cairo_fill (cr);
      hydra_chart_show_text (cr, small, name, x + 14, s->a.y0 + 7, 0.0, 0.5);
      x += 14 + w + 12;
    }
}

static void
draw_chart (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  Chart *chart = user_data;
  HydraMetricsView *self = chart->view;
  GtkWidget *widget = GTK_WIDGET (area);
  g_autoptr (PangoLayout) small = hydra_chart_layout_new (widget, 0.83, FALSE);
  const GdkRGBA *accent = &hydra_chart_head_colors[metric_head[chart->metric]];
  double chance;
  ChartScale s;
  GdkRGBA fg;

  if (n_epochs (self) == 0)
    return;
  hydra_chart_get_foreground (widget, &fg);
  chance = metric_chance (self, chart->metric);
  chart_value_range (self, chart->metric, chance, &s);
  if (!chart_layout (chart, small, width, height, &s))
    return;

  draw_value_axis (cr, small, &fg, chart->metric, &s);
  draw_epoch_labels (cr, small, &fg, self, &s);
  if (isfinite (chance))
    draw_chance (cr, small, &fg, chance, &s);
  draw_guide (cr, &fg, chart, &s);
  if (self->n_overlay > 0)
    {
      /* a comparison: each run's line in its colour, the primary's on top, no area */
      for (guint r = self->n_overlay; r > 0; r--)
        {
          HydraSeries *run = self->overlay[r - 1];
          draw_line (cr, &hydra_chart_run_colors[r], run, chart->metric, &s, 1.5);
          draw_points (cr, &hydra_chart_run_colors[r], run, chart->metric, &s, 2.5, -1, -1);
        }
      accent = &hydra_chart_run_colors[0];
      if (chart->metric == METRIC_AGE_MAE)
        draw_run_names (cr, small, self, &s);
    }
  else
    draw_area (cr, accent, chart, &s);
  const guint n = n_epochs (self);
  draw_line (cr, accent, self->series, chart->metric, &s, 2);
  draw_points (cr, accent, self->series, chart->metric, &s, 3, (int) MIN (self->selected, n - 1),
               chart->hover);
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
      double e = hydra_series_get_epoch (self->series, i)->at;
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
    select_point (chart->view, (guint) i);
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
  char epoch[16];

  if (i < 0)
    {
      gtk_tooltip_set_text (tooltip, metric_tooltips[chart->metric]);
      return TRUE;
    }
  p = hydra_series_get_epoch (chart->view->series, i);
  value = format_value (chart->metric, metric_value (p, chart->metric), FALSE);
  hydra_epoch_point_label (p, epoch, sizeof epoch);
  markup = g_strdup_printf ("<b>Epoch %s</b>\n%s", epoch, value);
  gtk_tooltip_set_markup (tooltip, markup);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------
 * The confusion matrix
 */

/* The matrix's picture: its layouts, colours and geometry ([True|names] [5 × 5 cells]
 * [recall] under [Predicted] [names]). */
typedef struct
{
  cairo_t *cr;
  PangoLayout *small, *label, *count;
  GdkRGBA fg;
  const GdkRGBA *accent;
  double left, top, cell; /* the cells' top left corner, and their size */
  double x_start;         /* the left of the whole, centred in the area */
  double small_h, recall_w;
} Matrix;

/* Fits the cells (at most 72 px) between the names and the recall column; FALSE when they
 * would be smaller than 16 px. */
static gboolean
matrix_layout (Matrix *m, int width, int height)
{
  double names_w = 0, names_h = 0, grid_w;

  for (int t = 0; t < N_RACES; t++)
    hydra_chart_text_grow (m->label, race_names[t], &names_w, &names_h);
  hydra_chart_text_size (m->small, "Recall", &m->recall_w, &m->small_h);
  m->recall_w = MAX (m->recall_w, 48);

  m->left = m->small_h + 8 + names_w + 10;
  m->top = m->small_h + 4 + names_h + 6;
  m->cell = MIN ((width - m->left - m->recall_w - 16) / N_RACES, (height - m->top - 2) / N_RACES);
  m->cell = floor (MIN (m->cell, 72));
  if (m->cell < 16)
    return FALSE;
  grid_w = m->left + N_RACES * m->cell + 16 + m->recall_w;
  m->x_start = floor (MAX (0, (width - grid_w) / 2));
  m->left += m->x_start;
  return TRUE;
}

/* "Predicted" over the predicted classes' names, "True" up the left, "Recall" at the right. */
static void
draw_matrix_captions (const Matrix *m)
{
  cairo_t *cr = m->cr;

  cairo_set_source_rgba (cr, m->fg.red, m->fg.green, m->fg.blue, 0.6);
  hydra_chart_show_text (cr, m->small, "Predicted", m->left + N_RACES * m->cell / 2, 0, 0.5, 0.0);
  hydra_chart_show_text (cr, m->small, "Recall", m->left + N_RACES * m->cell + 16 + m->recall_w, 0,
                         1.0, 0.0);
  cairo_save (cr);
  cairo_translate (cr, m->x_start, m->top + N_RACES * m->cell / 2);
  cairo_rotate (cr, -G_PI / 2);
  hydra_chart_show_text (cr, m->small, "True", 0, 0, 0.5, 0.0);
  cairo_restore (cr);

  for (int q = 0; q < N_RACES; q++)
    {
      cairo_set_source_rgba (cr, m->fg.red, m->fg.green, m->fg.blue, 0.8);
      hydra_chart_show_text (cr, m->label, race_names[q], m->left + (q + 0.5) * m->cell,
                             m->small_h + 4, 0.5, 0.0);
    }
}

/* A cell at (x, y): a rounded square shaded by its share of the row (outlined when hovered),
 * with its count, and the share under it when there is room. */
static void
draw_cell (const Matrix *m, double x, double y, int count, double share, gboolean hovered)
{
  cairo_t *cr = m->cr;
  const GdkRGBA *fg = &m->fg;
  double gap = 3, cell = m->cell;
  double alpha = 0.06 + 0.94 * share;
  gboolean on_fill = alpha > 0.5;
  g_autofree char *text = hydra_format_count (count);

  hydra_chart_rounded_rect (cr, x + gap / 2, y + gap / 2, cell - gap, cell - gap, 4);
  cairo_set_source_rgba (cr, m->accent->red, m->accent->green, m->accent->blue, alpha);
  if (hovered)
    {
      cairo_fill_preserve (cr);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.7);
      cairo_set_line_width (cr, 2);
      cairo_stroke (cr);
    }
  else
    cairo_fill (cr);

  if (on_fill)
    cairo_set_source_rgba (cr, 1, 1, 1, 1);
  else
    cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, count == 0 ? 0.45 : 0.9);
  if (cell >= 44)
    {
      double ch, sh, cy = y + cell / 2;
      char buf[32];

      hydra_chart_text_size (m->count, text, NULL, &ch);
      hydra_chart_text_size (m->small, "0", NULL, &sh);
      hydra_chart_show_text (cr, m->count, text, x + cell / 2, cy - (ch + sh) / 2.0, 0.5, 0.0);
      g_snprintf (buf, sizeof buf, "%.0f%%", 100 * share);
      if (on_fill)
        cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
      else
        cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.55);
      hydra_chart_show_text (cr, m->small, buf, x + cell / 2, cy - (ch + sh) / 2.0 + ch, 0.5, 0.0);
    }
  else
    hydra_chart_show_text (cr, m->small, text, x + cell / 2, y + cell / 2, 0.5, 0.5);
}

/* True class t's row: its name, its cells, and its recall (the diagonal's share). */
static void
draw_matrix_row (HydraMetricsView *self, const Matrix *m, const HydraEpochPoint *p, int t)
{
  cairo_t *cr = m->cr;
  double y = m->top + t * m->cell;
  int row_sum = 0;
  char buf[32];

  for (int q = 0; q < N_RACES; q++)
    row_sum += p->eval.race_confusion[t][q];
  cairo_set_source_rgba (cr, m->fg.red, m->fg.green, m->fg.blue, 0.8);
  hydra_chart_show_text (cr, m->label, race_names[t], m->left - 10, y + m->cell / 2, 1.0, 0.5);

  for (int q = 0; q < N_RACES; q++)
    {
      int c = p->eval.race_confusion[t][q];

      draw_cell (m, m->left + q * m->cell, y, c, row_sum > 0 ? (double) c / row_sum : 0,
                 t == self->hover_row && q == self->hover_col);
    }

  if (row_sum > 0)
    g_snprintf (buf, sizeof buf, "%.1f%%", 100.0 * p->eval.race_confusion[t][t] / row_sum);
  else
    g_snprintf (buf, sizeof buf, "–");
  cairo_set_source_rgba (cr, m->fg.red, m->fg.green, m->fg.blue, 0.8);
  hydra_chart_show_text (cr, m->label, buf, m->left + N_RACES * m->cell + 16 + m->recall_w,
                         y + m->cell / 2, 1.0, 0.5);
}

static void
draw_matrix (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  HydraMetricsView *self = user_data;
  GtkWidget *widget = GTK_WIDGET (area);
  const HydraEpochPoint *p = selected_point (self);
  g_autoptr (PangoLayout) small = hydra_chart_layout_new (widget, 0.83, FALSE);
  g_autoptr (PangoLayout) label = hydra_chart_layout_new (widget, 1.0, FALSE);
  g_autoptr (PangoLayout) count = hydra_chart_layout_new (widget, 1.0, TRUE);
  Matrix m = { cr, small, label, count };

  if (p == NULL)
    return;
  hydra_chart_get_foreground (widget, &m.fg);
  m.accent = &hydra_chart_head_colors[metric_head[METRIC_RACE_ACC]];
  if (!matrix_layout (&m, width, height))
    return;
  self->cell_x0 = m.left, self->cell_y0 = m.top, self->cell_size = m.cell;

  draw_matrix_captions (&m);
  for (int t = 0; t < N_RACES; t++)
    draw_matrix_row (self, &m, p, t);
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
  char at[16], before[16], last[16];

  if (p == NULL)
    return;
  i = MIN (self->selected, n - 1);
  hydra_epoch_point_label (p, at, sizeof at);
  hydra_epoch_point_label (hydra_series_get_epoch (self->series, n - 1), last, sizeof last);

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

          hydra_epoch_point_label (prev, before, sizeof before);
          if (!isfinite (d))
            detail = g_strdup_printf ("at epoch %s", at);
          else if (fabs (d) < (m == METRIC_AGE_MAE ? 0.005 : 0.05))
            detail = g_strdup_printf ("as at epoch %s", before);
          else if (m == METRIC_AGE_MAE)
            detail = g_strdup_printf ("%s%.2f since epoch %s", d < 0 ? "−" : "+", fabs (d),
                                      before);
          else
            detail = g_strdup_printf ("%s%.1f since epoch %s", d < 0 ? "−" : "+", fabs (d),
                                      before);
        }
      else
        detail = g_strdup_printf ("at epoch %s", at);
      gtk_label_set_text (chart->detail, detail);
    }

  {
    g_autofree char *images = hydra_format_count (p->eval.n);
    g_autofree char *subtitle = NULL;

    subtitle
        = g_strdup_printf ("Epoch %s of %s  ·  %s validation images  ·  shaded by the share of "
                           "each true race",
                           at, last, images);
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
  gtk_adjustment_configure (self->epoch_adjustment, hydra_epoch_point_number (p),
                            hydra_epoch_point_number (hydra_series_get_epoch (self->series, 0)),
                            hydra_epoch_point_number (hydra_series_get_epoch (self->series, n - 1)),
                            1, 5, 0);
  self->updating_spin = FALSE;
}

static void
on_series_changed (HydraMetricsView *self)
{
  guint n = n_epochs (self);
  int old_epoch = hydra_metrics_view_get_epoch (self);
  const HydraEpochPoint *last = n > 0 ? hydra_series_get_epoch (self->series, n - 1) : NULL;

  /* new steps alone change nothing here (and leave a hovered point alone) */
  if (n == self->shown_epochs
      && (last == NULL || memcmp (last, &self->shown_last, sizeof *last) == 0))
    return;
  self->shown_epochs = n;
  if (last != NULL)
    memcpy (&self->shown_last, last, sizeof *last); /* padding too, for the memcmp above */

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
  return p != NULL ? hydra_epoch_point_number (p) : 0;
}

/* Shows validation pass `pick` (an index). */
static void
select_point (HydraMetricsView *self, guint pick)
{
  guint n = n_epochs (self);

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
hydra_metrics_view_set_epoch (HydraMetricsView *self, int epoch)
{
  guint n;
  guint pick;
  gboolean up;

  g_return_if_fail (HYDRA_IS_METRICS_VIEW (self));

  n = n_epochs (self);
  if (n == 0)
    return;
  /* Numbers increase, with gaps where epochs were not validated: going up, the first pass
   * at or after `epoch` (so that + never sticks in a gap); going down, the last at or before
   * it. */
  up = epoch > hydra_metrics_view_get_epoch (self);
  pick = up ? n - 1 : 0;
  for (guint i = 0; i < n; i++)
    {
      int number = hydra_epoch_point_number (hydra_series_get_epoch (self->series, i));

      if (up && number >= epoch)
        {
          pick = i;
          break;
        }
      if (!up && number <= epoch)
        pick = i;
    }
  select_point (self, pick);
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
  self->shown_epochs = G_MAXUINT; /* whatever it holds, shown anew */
  on_series_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIES]);
}

/* A compared run that is still training commits at every poll; only a new validation
 * changes what this view draws of it. */
static void
on_overlay_changed (HydraMetricsView *self, HydraSeries *series)
{
  for (guint r = 0; r < self->n_overlay; r++)
    if (self->overlay[r] == series
        && hydra_series_get_n_epochs (series) != self->overlay_epochs[r])
      {
        self->overlay_epochs[r] = hydra_series_get_n_epochs (series);
        queue_draw_all (self);
      }
}

void
hydra_metrics_view_set_overlay (HydraMetricsView *self, HydraSeries *const *series,
                                const char *const *names, guint n)
{
  g_return_if_fail (HYDRA_IS_METRICS_VIEW (self));
  g_return_if_fail (n == 0 || (series != NULL && names != NULL));

  n = MIN (n, G_N_ELEMENTS (self->overlay));
  for (guint r = 0; r < self->n_overlay; r++)
    {
      g_signal_handlers_disconnect_by_data (self->overlay[r], self);
      g_clear_object (&self->overlay[r]);
      g_clear_pointer (&self->names[r + 1], g_free);
    }
  self->n_overlay = 0;
  for (guint r = 0; r < n; r++)
    {
      self->overlay[r] = g_object_ref (series[r]);
      self->overlay_epochs[r] = hydra_series_get_n_epochs (series[r]);
      self->names[r + 1] = g_strdup (names[r] != NULL ? names[r] : "");
      g_signal_connect_swapped (series[r], "changed", G_CALLBACK (on_overlay_changed), self);
      self->n_overlay++;
    }
  queue_draw_all (self);
}

void
hydra_metrics_view_set_primary_name (HydraMetricsView *self, const char *name)
{
  g_return_if_fail (HYDRA_IS_METRICS_VIEW (self));

  g_free (self->names[0]);
  self->names[0] = g_strdup (name);
  queue_draw_all (self);
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
  hydra_metrics_view_set_overlay (self, NULL, NULL, 0);
  g_clear_pointer (&self->names[0], g_free);
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
  /* a typed epoch the picker does not take: why, for the window to say */
  signals[REFUSED] = g_signal_new ("refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

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
epoch_refused (const char *message, gpointer self)
{
  g_signal_emit (self, signals[REFUSED], 0, message);
}

static void
hydra_metrics_view_init (HydraMetricsView *self)
{
  GtkEventController *motion;

  gtk_widget_init_template (GTK_WIDGET (self));
  hydra_number_input_attach (self->epoch_spin, "Epoch", "an epoch with a validation pass",
                             hydra_number_read_whole, epoch_refused, self);

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
