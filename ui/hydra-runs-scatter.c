/* hydra-runs-scatter.c — age MAE against race accuracy, one dot per run. */

#include "hydra-runs-scatter.h"

#include <math.h>

#include "balance.h"
#include "chart/hydra-chart-axis.h"
#include "chart/hydra-chart-draw.h"

#define DOT_RADIUS 5.0
#define PICK_RADIUS 9.0

struct _HydraRunsScatter
{
  GtkWidget parent_instance;

  GListModel *rows; /* owned */
  char *selected;
  GArray *dots; /* HydraScatterDot, rebuilt when the rows change */
  int hover;
};

G_DEFINE_FINAL_TYPE (HydraRunsScatter, hydra_runs_scatter, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_RUN_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One colour per method, apart from the heads' blue, orange and purple; manual runs are the
 * foreground colour, the series the methods are measured against. */
static const GdkRGBA method_colors[] = {
  { 0.00, 0.00, 0.00, 1 }, /* manual: replaced by the foreground */
  { 0.16, 0.63, 0.17, 1 }, /* scale-invariant: green */
  { 0.84, 0.15, 0.16, 1 }, /* uncertainty: red */
  { 0.09, 0.75, 0.81, 1 }, /* famo: cyan */
  { 0.89, 0.47, 0.76, 1 }, /* mgda-ub: pink */
  { 0.74, 0.74, 0.13, 1 }, /* imtl-g: olive */
  { 0.55, 0.34, 0.29, 1 }, /* pcgrad: brown */
  { 0.50, 0.50, 0.50, 1 }, /* rlw: grey */
};

/* A dot's series: its balancing method, or a run whose settings changed live */
#define KIND_CHANGED ((int) G_N_ELEMENTS (method_colors))

static GdkRGBA
dot_color (GtkWidget *widget, int kind)
{
  GdkRGBA c;

  if (kind == BALANCE_MANUAL || kind >= KIND_CHANGED)
    {
      hydra_chart_get_foreground (widget, &c);
      if (kind == KIND_CHANGED)
        c.alpha *= 0.4;
    }
  else
    c = method_colors[kind];
  return c;
}

static int
dot_kind (HydraRunRow *row)
{
  HnBalance m = hydra_run_row_get_info (row)->settings.loss.balance;

  if (hydra_run_row_get_changed_live (row) || (int) m >= KIND_CHANGED)
    return KIND_CHANGED;
  return m;
}

/* ---- the dots ---- */

static int
by_x (gconstpointer a, gconstpointer b)
{
  const HydraScatterDot *p = *(HydraScatterDot *const *) a, *q = *(HydraScatterDot *const *) b;

  return (p->x > q->x) - (p->x < q->x);
}

/* The manual runs no other manual run beats on both figures: walking them by MAE, lowest
 * first, a run is on the frontier when its race accuracy beats every one before it. */
static void
mark_frontier (HydraRunsScatter *self)
{
  g_autoptr (GPtrArray) manual = g_ptr_array_new ();

  for (guint i = 0; i < self->dots->len; i++)
    {
      HydraScatterDot *d = &g_array_index (self->dots, HydraScatterDot, i);
      if (d->manual)
        g_ptr_array_add (manual, d);
    }
  g_ptr_array_sort (manual, by_x);
  double best = -INFINITY;
  for (guint i = 0; i < manual->len; i++)
    {
      HydraScatterDot *d = manual->pdata[i];
      d->frontier = d->y > best;
      best = MAX (best, d->y);
    }
}

static void
rows_changed (HydraRunsScatter *self)
{
  g_array_set_size (self->dots, 0);
  self->hover = -1;
  for (guint i = 0; self->rows != NULL && i < g_list_model_get_n_items (self->rows); i++)
    {
      g_autoptr (HydraRunRow) row = g_list_model_get_item (self->rows, i);
      double x = hydra_run_row_get_number (row, HYDRA_RUN_COL_MAE);
      double y = hydra_run_row_get_number (row, HYDRA_RUN_COL_RACE);
      if (!isfinite (x) || !isfinite (y))
        continue;
      HydraScatterDot d = { .row = row, .x = x, .y = y, .px = NAN, .py = NAN };
      d.manual = dot_kind (row) == BALANCE_MANUAL; /* static weights, by hand */
      g_array_append_val (self->dots, d);
    }
  mark_frontier (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* ---- drawing ---- */

typedef struct
{
  HydraChartArea a;
  double xlo, xhi, ylo, yhi; /* y in percent */
} Frame;

static double
to_px (const Frame *f, double x)
{
  return f->a.x0 + (x - f->xlo) / (f->xhi - f->xlo) * (f->a.x1 - f->a.x0);
}

static double
to_py (const Frame *f, double y)
{
  return f->a.y1 - (100 * y - f->ylo) / (f->yhi - f->ylo) * (f->a.y1 - f->a.y0);
}

static void
pad_range (double *lo, double *hi, double min_span)
{
  double span = MAX (*hi - *lo, min_span);
  double mid = (*lo + *hi) / 2;

  *lo = mid - span * 0.55;
  *hi = mid + span * 0.55;
}

static void
draw_empty (HydraRunsScatter *self, cairo_t *cr, int width, int height, const GdkRGBA *fg)
{
  g_autoptr (PangoLayout) layout = hydra_chart_layout_new (GTK_WIDGET (self), 1.0, FALSE);

  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.55);
  hydra_chart_show_text (cr, layout,
                         "The trade-off scatter shows runs with a validation: age MAE against "
                         "race accuracy, one dot per run",
                         width / 2.0, height / 2.0, 0.5, 0.5);
}

/* The legend, top right: the methods shown, manual first with its frontier, and runs whose
 * weights, method or age loss changed live (no one method's). */
static double
draw_legend (HydraRunsScatter *self, cairo_t *cr, PangoLayout *layout, const GdkRGBA *fg,
             double right, double top)
{
  gboolean shown[KIND_CHANGED + 1] = { FALSE };
  double x = right;

  for (guint i = 0; i < self->dots->len; i++)
    shown[dot_kind (g_array_index (self->dots, HydraScatterDot, i).row)] = TRUE;
  for (int m = KIND_CHANGED; m >= 0; m--)
    {
      if (!shown[m])
        continue;
      g_autofree char *text
          = m == KIND_CHANGED ? g_strdup ("Changed live")
            : m == BALANCE_MANUAL
                ? g_strdup_printf ("%s (static weights) and their frontier", balance_title (m))
                : g_strdup (balance_title (m));
      double w, h;
      hydra_chart_text_size (layout, text, &w, &h);
      x -= w;
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.8);
      hydra_chart_show_text (cr, layout, text, x, top, 0, 0);
      GdkRGBA c = dot_color (GTK_WIDGET (self), m);
      gdk_cairo_set_source_rgba (cr, &c);
      cairo_new_path (cr);
      cairo_arc (cr, x - 12, top + h / 2, DOT_RADIUS - 1, 0, 2 * G_PI);
      if (m == BALANCE_MANUAL)
        {
          cairo_set_line_width (cr, 1.5);
          cairo_stroke (cr);
        }
      else
        cairo_fill (cr);
      x -= 30;
    }
  return x;
}

static void
draw (HydraRunsScatter *self, cairo_t *cr, int width, int height)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GdkRGBA fg;

  hydra_chart_get_foreground (widget, &fg);
  if (self->dots->len == 0)
    {
      draw_empty (self, cr, width, height, &fg);
      return;
    }

  Frame f = { .xlo = INFINITY, .xhi = -INFINITY, .ylo = INFINITY, .yhi = -INFINITY };
  for (guint i = 0; i < self->dots->len; i++)
    {
      const HydraScatterDot *d = &g_array_index (self->dots, HydraScatterDot, i);
      f.xlo = MIN (f.xlo, d->x), f.xhi = MAX (f.xhi, d->x);
      f.ylo = MIN (f.ylo, 100 * d->y), f.yhi = MAX (f.yhi, 100 * d->y);
    }
  pad_range (&f.xlo, &f.xhi, 0.5);
  pad_range (&f.ylo, &f.yhi, 2);

  g_autoptr (PangoLayout) layout = hydra_chart_layout_new (widget, 0.9, FALSE);
  HydraChartTick xt[HYDRA_CHART_MAX_TICKS], yt[HYDRA_CHART_MAX_TICKS];
  guint nx = hydra_chart_linear_ticks (f.xlo, f.xhi, MAX (2, width / 90.0), FALSE, xt);
  guint ny = hydra_chart_linear_ticks (f.ylo, f.yhi, MAX (2, height / 50.0), FALSE, yt);
  double label_w = 0, label_h = 0;
  for (guint i = 0; i < ny; i++)
    if (yt[i].major)
      hydra_chart_text_grow (layout, yt[i].label, &label_w, &label_h);
  hydra_chart_text_grow (layout, "100 %", &label_w, &label_h);

  /* room: a title line on top (the y axis' name and the legend), the x axis' name below */
  double title_h = label_h + 10;
  if (!hydra_chart_area_fit (&f.a, width, height - title_h - label_h - 6, label_w + 24, label_h,
                             16))
    return;
  f.a.y0 += title_h, f.a.y1 += title_h;

  cairo_set_line_width (cr, 1);
  for (guint i = 0; i < ny; i++)
    {
      double y = round (f.a.y1 - (yt[i].v - f.ylo) / (f.yhi - f.ylo) * (f.a.y1 - f.a.y0)) + 0.5;
      g_autofree char *text = g_strdup_printf ("%s %%", yt[i].label);
      if (yt[i].major)
        hydra_chart_draw_gridline (cr, layout, &fg, 0.12, f.a.x0, f.a.x1, y, text);
    }
  for (guint i = 0; i < nx; i++)
    {
      if (!xt[i].major)
        continue;
      double x = round (to_px (&f, xt[i].v)) + 0.5;
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
      cairo_move_to (cr, x, f.a.y0);
      cairo_line_to (cr, x, f.a.y1);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
      hydra_chart_show_text (cr, layout, xt[i].label, x, f.a.y1 + 4, 0.5, 0);
    }

  /* the axes' names: which way is better */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.85);
  hydra_chart_show_text (cr, layout, "← better · Final age MAE (years) · lower is better",
                         (f.a.x0 + f.a.x1) / 2, height - 2, 0.5, 1);
  hydra_chart_show_text (cr, layout, "Final race accuracy · higher is better ↑", 4, 4, 0, 0);
  draw_legend (self, cr, layout, &fg, width - 16, 4);

  /* the frontier of the static weights: a staircase through its runs, best MAE first */
  g_autoptr (GPtrArray) frontier = g_ptr_array_new ();
  for (guint i = 0; i < self->dots->len; i++)
    {
      HydraScatterDot *d = &g_array_index (self->dots, HydraScatterDot, i);
      d->px = to_px (&f, d->x);
      d->py = to_py (&f, d->y);
      if (d->frontier)
        g_ptr_array_add (frontier, d);
    }
  g_ptr_array_sort (frontier, by_x);
  if (frontier->len > 0)
    {
      const HydraScatterDot *first = frontier->pdata[0];
      const HydraScatterDot *last = frontier->pdata[frontier->len - 1];
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.55);
      cairo_set_line_width (cr, 1.5);
      double dash[] = { 5, 3 };
      cairo_set_dash (cr, dash, 2, 0);
      cairo_move_to (cr, first->px, f.a.y1); /* from the axis: nothing left of it is static */
      cairo_line_to (cr, first->px, first->py);
      for (guint i = 1; i < frontier->len; i++)
        {
          const HydraScatterDot *d = frontier->pdata[i];
          const HydraScatterDot *before = frontier->pdata[i - 1];
          cairo_line_to (cr, d->px, before->py);
          cairo_line_to (cr, d->px, d->py);
        }
      cairo_line_to (cr, f.a.x1, last->py);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }

  /* the dots: methods filled, manual runs as rings; the selected and hovered ones larger */
  for (guint i = 0; i < self->dots->len; i++)
    {
      const HydraScatterDot *d = &g_array_index (self->dots, HydraScatterDot, i);
      gboolean selected = g_strcmp0 (self->selected, hydra_run_row_get_folder (d->row)) == 0;
      double r = DOT_RADIUS + (selected || (int) i == self->hover ? 2 : 0);
      GdkRGBA c = dot_color (widget, dot_kind (d->row));
      gdk_cairo_set_source_rgba (cr, &c);
      cairo_new_path (cr);
      cairo_arc (cr, d->px, d->py, r, 0, 2 * G_PI);
      if (d->manual)
        {
          cairo_set_line_width (cr, 2);
          cairo_stroke (cr);
        }
      else
        cairo_fill (cr);
      if (selected)
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.8);
          cairo_set_line_width (cr, 1.5);
          cairo_arc (cr, d->px, d->py, r + 3.5, 0, 2 * G_PI);
          cairo_stroke (cr);
          g_autofree char *name = hydra_run_row_dup_text (d->row, HYDRA_RUN_COL_NAME);
          double w;
          hydra_chart_text_size (layout, name, &w, NULL);
          gboolean left = d->px + r + 6 + w > width - 4; /* no room on the right */
          hydra_chart_show_text (cr, layout, name, left ? d->px - r - 6 : d->px + r + 6, d->py,
                                 left ? 1 : 0, 0.5);
        }
    }
}

static void
hydra_runs_scatter_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  int width = gtk_widget_get_width (widget), height = gtk_widget_get_height (widget);

  if (width <= 0 || height <= 0)
    return;
  cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw (HYDRA_RUNS_SCATTER (widget), cr, width, height);
  cairo_destroy (cr);
}

/* ---- pointer: hover names a run, a click selects it ---- */

int
hydra_runs_scatter_pick (HydraRunsScatter *self, double x, double y)
{
  int best = -1;
  double best_d = PICK_RADIUS * PICK_RADIUS;

  for (guint i = 0; i < self->dots->len; i++)
    {
      const HydraScatterDot *d = &g_array_index (self->dots, HydraScatterDot, i);
      double d2 = (d->px - x) * (d->px - x) + (d->py - y) * (d->py - y);
      if (d2 <= best_d)
        best = i, best_d = d2;
    }
  return best;
}

static void
motion (GtkEventControllerMotion *motion, double x, double y, HydraRunsScatter *self)
{
  int hover = hydra_runs_scatter_pick (self, x, y);

  if (hover != self->hover)
    {
      self->hover = hover;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave (GtkEventControllerMotion *motion, HydraRunsScatter *self)
{
  self->hover = -1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard, GtkTooltip *tooltip,
               gpointer data)
{
  HydraRunsScatter *self = HYDRA_RUNS_SCATTER (widget);
  int i = hydra_runs_scatter_pick (self, x, y);

  if (i < 0)
    return FALSE;
  HydraRunRow *row = g_array_index (self->dots, HydraScatterDot, i).row;
  g_autofree char *name = hydra_run_row_dup_text (row, HYDRA_RUN_COL_NAME);
  g_autofree char *method = hydra_run_row_dup_text (row, HYDRA_RUN_COL_BALANCE);
  g_autofree char *mae = hydra_run_row_dup_text (row, HYDRA_RUN_COL_MAE);
  g_autofree char *gender = hydra_run_row_dup_text (row, HYDRA_RUN_COL_GENDER);
  g_autofree char *race = hydra_run_row_dup_text (row, HYDRA_RUN_COL_RACE);
  const float *w = hydra_run_row_get_info (row)->settings.loss.weight;
  g_autofree char *markup = g_markup_printf_escaped (
      "<b>%s</b>\n%s · weights %.3g / %.3g / %.3g%s\nAge MAE %s years · gender %s · race %s", name,
      method, w[0], w[1], w[2],
      hydra_run_row_get_changed_live (row) ? " at the start, changed live" : "", mae, gender, race);
  gtk_tooltip_set_markup (tooltip, markup);
  return TRUE;
}

static void
pressed (GtkGestureClick *gesture, int n_press, double x, double y, HydraRunsScatter *self)
{
  int i = hydra_runs_scatter_pick (self, x, y);

  if (i < 0)
    return;
  g_autofree char *folder
      = g_strdup (hydra_run_row_get_folder (g_array_index (self->dots, HydraScatterDot, i).row));
  g_signal_emit (self, signals[SIGNAL_RUN_ACTIVATED], 0, folder);
}

/* ---- the object ---- */

void
hydra_runs_scatter_set_model (HydraRunsScatter *self, GListModel *rows)
{
  if (self->rows != NULL)
    g_signal_handlers_disconnect_by_data (self->rows, self);
  g_set_object (&self->rows, rows);
  if (rows != NULL)
    g_signal_connect_swapped (rows, "items-changed", G_CALLBACK (rows_changed), self);
  rows_changed (self);
}

void
hydra_runs_scatter_set_selected (HydraRunsScatter *self, const char *folder)
{
  g_free (self->selected);
  self->selected = g_strdup (folder);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
hydra_runs_scatter_get_n_dots (HydraRunsScatter *self)
{
  return self->dots->len;
}

const HydraScatterDot *
hydra_runs_scatter_get_dot (HydraRunsScatter *self, guint i)
{
  g_return_val_if_fail (i < self->dots->len, NULL);
  return &g_array_index (self->dots, HydraScatterDot, i);
}

GtkWidget *
hydra_runs_scatter_new (void)
{
  return g_object_new (HYDRA_TYPE_RUNS_SCATTER, NULL);
}

static void
hydra_runs_scatter_dispose (GObject *object)
{
  HydraRunsScatter *self = HYDRA_RUNS_SCATTER (object);

  hydra_runs_scatter_set_model (self, NULL);

  G_OBJECT_CLASS (hydra_runs_scatter_parent_class)->dispose (object);
}

static void
hydra_runs_scatter_finalize (GObject *object)
{
  HydraRunsScatter *self = HYDRA_RUNS_SCATTER (object);

  g_array_unref (self->dots);
  g_free (self->selected);

  G_OBJECT_CLASS (hydra_runs_scatter_parent_class)->finalize (object);
}

static void
hydra_runs_scatter_class_init (HydraRunsScatterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_runs_scatter_dispose;
  object_class->finalize = hydra_runs_scatter_finalize;
  widget_class->snapshot = hydra_runs_scatter_snapshot;

  signals[SIGNAL_RUN_ACTIVATED]
      = g_signal_new ("run-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_css_name (widget_class, "hydrarunsscatter");
}

static void
hydra_runs_scatter_init (HydraRunsScatter *self)
{
  self->dots = g_array_new (FALSE, TRUE, sizeof (HydraScatterDot));
  self->hover = -1;

  GtkEventController *motion_controller = gtk_event_controller_motion_new ();
  g_signal_connect (motion_controller, "motion", G_CALLBACK (motion), self);
  g_signal_connect (motion_controller, "leave", G_CALLBACK (leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion_controller);
  GtkGesture *click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  g_signal_connect (self, "query-tooltip", G_CALLBACK (query_tooltip), NULL);
}
