/* hydra-predict-bars.c — probabilities as rows of labelled bars, drawn in one widget. */

#include "hydra-predict-bars.h"

#include <math.h>

#include "chart/hydra-chart-draw.h"

#define COLUMN_GAP 8
#define ROW_GAP 3
#define GROUP_GAP 8
#define BAR_HEIGHT 6
#define BAR_MIN_WIDTH 32
#define BAR_NATURAL_WIDTH 90

typedef struct
{
  char *name;
  char percent[8];
  double value; /* clamped to [0, 1]; 0 for NaN */
  gboolean top;
  gboolean gap_before;
} Row;

struct _HydraPredictBars
{
  GtkWidget parent_instance;

  /* owned */
  GArray *rows; /* of Row */
  char **reserved;
  char *text;
};

G_DEFINE_FINAL_TYPE (HydraPredictBars, hydra_predict_bars, GTK_TYPE_WIDGET)

static void
row_clear (gpointer data)
{
  g_free (((Row *) data)->name);
}

/* The columns' widths and a row's height, in the widget's font. Names are measured in bold,
 * so that the columns do not move when another row becomes the top one. */
static void
measure_columns (HydraPredictBars *self, double *name_w, double *percent_w, double *row_h)
{
  g_autoptr (PangoLayout) bold = hydra_chart_layout_new (GTK_WIDGET (self), 1, TRUE);

  *name_w = *percent_w = *row_h = 0;
  /* every percentage fits in the width of the widest one */
  hydra_chart_text_grow (bold, "100%", percent_w, row_h);
  for (guint i = 0; i < self->rows->len; i++)
    hydra_chart_text_grow (bold, g_array_index (self->rows, Row, i).name, name_w, row_h);
  for (char **name = self->reserved; name != NULL && *name != NULL; name++)
    hydra_chart_text_grow (bold, *name, name_w, row_h);
}

static int
content_height (HydraPredictBars *self, double row_h)
{
  double h = 0;

  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      if (i > 0)
        h += row->gap_before ? GROUP_GAP : ROW_GAP;
      h += row_h;
    }
  return (int) ceil (h);
}

static void
hydra_predict_bars_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                            int *minimum, int *natural, int *minimum_baseline,
                            int *natural_baseline)
{
  HydraPredictBars *self = HYDRA_PREDICT_BARS (widget);
  double name_w, percent_w, row_h;

  measure_columns (self, &name_w, &percent_w, &row_h);
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      double fixed = name_w + percent_w + 2 * COLUMN_GAP;
      *minimum = (int) ceil (fixed + BAR_MIN_WIDTH);
      *natural = (int) ceil (fixed + BAR_NATURAL_WIDTH);
    }
  else
    *minimum = *natural = content_height (self, row_h);
}

static void
append_rounded_bar (GtkSnapshot *snapshot, const graphene_rect_t *rect, const GdkRGBA *color)
{
  GskRoundedRect clip;

  if (rect->size.width <= 0)
    return;
  gsk_rounded_rect_init_from_rect (&clip, rect, MIN (rect->size.height, rect->size.width) / 2);
  gtk_snapshot_push_rounded_clip (snapshot, &clip);
  gtk_snapshot_append_color (snapshot, color, rect);
  gtk_snapshot_pop (snapshot);
}

static void
append_text (GtkSnapshot *snapshot, PangoLayout *layout, const char *text, double x, double y,
             const GdkRGBA *color)
{
  pango_layout_set_text (layout, text, -1);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (round (x), round (y)));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
hydra_predict_bars_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HydraPredictBars *self = HYDRA_PREDICT_BARS (widget);
  g_autoptr (PangoLayout) plain = hydra_chart_layout_new (widget, 1, FALSE);
  g_autoptr (PangoLayout) bold = hydra_chart_layout_new (widget, 1, TRUE);
  int width = gtk_widget_get_width (widget);
  double name_w, percent_w, row_h, y = 0;
  GdkRGBA fg, track, fill, accent;

  measure_columns (self, &name_w, &percent_w, &row_h);
  hydra_chart_get_foreground (widget, &fg);
  track = fill = fg;
  track.alpha *= 0.1;
  fill.alpha *= 0.3;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  if (!gtk_style_context_lookup_color (gtk_widget_get_style_context (widget),
                                       "theme_selected_bg_color", &accent))
    accent = fg;
  G_GNUC_END_IGNORE_DEPRECATIONS

  double bar_x = name_w + COLUMN_GAP;
  double bar_w = MAX (0, width - bar_x - COLUMN_GAP - percent_w);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = &g_array_index (self->rows, Row, i);
      PangoLayout *layout = row->top ? bold : plain;
      double text_w;

      if (i > 0)
        y += row->gap_before ? GROUP_GAP : ROW_GAP;
      double bar_y = round (y + (row_h - BAR_HEIGHT) / 2);
      graphene_rect_t whole = GRAPHENE_RECT_INIT (bar_x, bar_y, bar_w, BAR_HEIGHT);
      graphene_rect_t part
          = GRAPHENE_RECT_INIT (bar_x, bar_y, round (bar_w * row->value), BAR_HEIGHT);
      append_text (snapshot, layout, row->name, 0, y, &fg);
      append_rounded_bar (snapshot, &whole, &track);
      append_rounded_bar (snapshot, &part, row->top ? &accent : &fill);
      hydra_chart_text_size (layout, row->percent, &text_w, NULL);
      append_text (snapshot, layout, row->percent, width - text_w, y, &fg);
      y += row_h;
    }
}

static void
hydra_predict_bars_finalize (GObject *object)
{
  HydraPredictBars *self = HYDRA_PREDICT_BARS (object);

  g_array_unref (self->rows);
  g_strfreev (self->reserved);
  g_free (self->text);

  G_OBJECT_CLASS (hydra_predict_bars_parent_class)->finalize (object);
}

static void
hydra_predict_bars_class_init (HydraPredictBarsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = hydra_predict_bars_finalize;
  widget_class->measure = hydra_predict_bars_measure;
  widget_class->snapshot = hydra_predict_bars_snapshot;
  gtk_widget_class_set_css_name (widget_class, "hydrapredictbars");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hydra_predict_bars_init (HydraPredictBars *self)
{
  self->rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_array_set_clear_func (self->rows, row_clear);
}

GtkWidget *
hydra_predict_bars_new (void)
{
  return g_object_new (HYDRA_TYPE_PREDICT_BARS, NULL);
}

void
hydra_predict_bars_set_rows (HydraPredictBars *self, const HydraPredictBarsRow *rows, guint n)
{
  g_autoptr (GString) text = g_string_new (NULL);
  gboolean same_shape = self->rows->len == n;

  g_return_if_fail (HYDRA_IS_PREDICT_BARS (self));
  g_return_if_fail (n == 0 || rows != NULL);

  for (guint i = 0; i < n && same_shape; i++)
    {
      Row *old = &g_array_index (self->rows, Row, i);
      same_shape = g_str_equal (old->name, rows[i].name) && old->gap_before == rows[i].gap_before;
    }

  g_array_set_size (self->rows, 0);
  for (guint i = 0; i < n; i++)
    {
      Row row = { .name = g_strdup (rows[i].name),
                  .top = rows[i].top,
                  .gap_before = rows[i].gap_before && i > 0 };

      if (isfinite (rows[i].value))
        {
          row.value = CLAMP (rows[i].value, 0.0, 1.0);
          g_snprintf (row.percent, sizeof row.percent, "%ld%%", lround (100.0 * row.value));
        }
      else
        g_strlcpy (row.percent, "–", sizeof row.percent);
      g_array_append_val (self->rows, row);
      if (i > 0)
        g_string_append (text, row.gap_before ? "; " : ", ");
      g_string_append_printf (text, "%s %s", row.name, row.percent);
    }

  g_free (self->text);
  self->text = g_string_free (g_steal_pointer (&text), FALSE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), self->text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, self->text,
                                  -1);
  /* new values in the same rows only need drawing; other names, a new size */
  if (same_shape)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  else
    gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
hydra_predict_bars_reserve_names (HydraPredictBars *self, const char *const *names)
{
  g_return_if_fail (HYDRA_IS_PREDICT_BARS (self));

  g_strfreev (self->reserved);
  self->reserved = g_strdupv ((char **) names);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

const char *
hydra_predict_bars_get_text (HydraPredictBars *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_BARS (self), NULL);
  return self->text;
}
