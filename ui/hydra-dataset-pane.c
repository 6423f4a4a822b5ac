/* hydra-dataset-pane.c — counts, distributions and the files a data set could not use. */
#include "hydra-dataset-pane.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chart/hydra-chart-axis.h"
#include "chart/hydra-chart-draw.h"
#include "hydra-dataset-loader.h"
#include "model.h"
#include "stats.h"

/* ---------------------------------------------------------------------------------------
 * One row of the skipped-files or duplicate-groups list
 */

#define HYDRA_TYPE_DATASET_ROW (hydra_dataset_row_get_type ())
G_DECLARE_FINAL_TYPE (HydraDatasetRow, hydra_dataset_row, HYDRA, DATASET_ROW, GObject)

struct _HydraDatasetRow
{
  GObject parent_instance;

  char *file;
  char *reason;
  char *copies;
  char *conflict;
  gboolean conflicting;
};

G_DEFINE_FINAL_TYPE (HydraDatasetRow, hydra_dataset_row, G_TYPE_OBJECT)

enum
{
  ROW_PROP_0,
  ROW_PROP_FILE,
  ROW_PROP_REASON,
  ROW_PROP_COPIES,
  ROW_PROP_CONFLICT,
  ROW_PROP_CONFLICTING,
  ROW_N_PROPS
};

static GParamSpec *row_properties[ROW_N_PROPS];

static void
hydra_dataset_row_finalize (GObject *object)
{
  HydraDatasetRow *self = HYDRA_DATASET_ROW (object);

  g_free (self->file);
  g_free (self->reason);
  g_free (self->copies);
  g_free (self->conflict);

  G_OBJECT_CLASS (hydra_dataset_row_parent_class)->finalize (object);
}

static void
hydra_dataset_row_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraDatasetRow *self = HYDRA_DATASET_ROW (object);

  switch (prop_id)
    {
    case ROW_PROP_FILE:
      g_value_set_string (value, self->file);
      break;

    case ROW_PROP_REASON:
      g_value_set_string (value, self->reason);
      break;

    case ROW_PROP_COPIES:
      g_value_set_string (value, self->copies);
      break;

    case ROW_PROP_CONFLICT:
      g_value_set_string (value, self->conflict);
      break;

    case ROW_PROP_CONFLICTING:
      g_value_set_boolean (value, self->conflicting);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_dataset_row_class_init (HydraDatasetRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hydra_dataset_row_finalize;
  object_class->get_property = hydra_dataset_row_get_property;

  row_properties[ROW_PROP_FILE]
      = g_param_spec_string ("file", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  row_properties[ROW_PROP_REASON]
      = g_param_spec_string ("reason", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  row_properties[ROW_PROP_COPIES]
      = g_param_spec_string ("copies", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  row_properties[ROW_PROP_CONFLICT] = g_param_spec_string (
      "conflict", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  row_properties[ROW_PROP_CONFLICTING] = g_param_spec_boolean (
      "conflicting", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, ROW_N_PROPS, row_properties);
}

static void
hydra_dataset_row_init (HydraDatasetRow *self)
{
}

/* ---------------------------------------------------------------------------------------
 * The pane
 */

typedef struct
{
  GtkWidget *box;
  GtkLabel *value;
  GtkLabel *caption;
  GtkLabel *detail;
} Figure;

typedef struct
{
  GtkLevelBar *bar;
  GtkLabel *count;
  GtkLabel *percent;
} Bar;

struct _HydraDatasetPane
{
  GtkWidget parent_instance;

  /* Template widgets */
  GtkStack *stack;
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkFlowBox *figure_box;
  GtkFlowBox *charts_box;
  GtkLabel *age_summary_label;
  GtkDrawingArea *age_area;
  GtkGrid *gender_grid;
  GtkGrid *race_grid;
  GtkStack *list_stack;
  GtkStack *skipped_stack;
  GtkStack *duplicates_stack;
  GtkColumnView *skipped_view;
  GtkColumnView *duplicates_view;
  HydraAugmentGrid *augment_grid;

  /* Built in init */
  Figure figures[HYDRA_DATASET_N_FIGURES];
  Bar gender_bars[2];
  Bar race_bars[N_RACES];

  /* Owned */
  GListStore *skipped;
  GListStore *duplicates;

  /* What the histogram draws: images per bin, split */
  guint age_train[HYDRA_DATASET_AGE_BINS];
  guint age_val[HYDRA_DATASET_AGE_BINS];
  guint age_total[HYDRA_DATASET_AGE_BINS];
  int hover_bin;
  /* The bars' geometry at the last draw, for hit-testing the pointer */
  double plot_x0;
  double bin_width;
  double plot_y1;

  guint empty : 1;
};

G_DEFINE_FINAL_TYPE (HydraDatasetPane, hydra_dataset_pane, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_AUGMENT, /* the samples' own property, passed through */
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Each big number's caption, and what it counts for a person hovering it. */
static const struct
{
  const char *caption;
  const char *tooltip;
} figure_text[HYDRA_DATASET_N_FIGURES] = {
  { "Usable images", "Images whose names parse and whose pixels decode" },
  { "Training", "Images the model learns from" },
  { "Validation", "Images held out to measure the model; chosen by content, so copies never "
                  "straddle the split" },
  { "Skipped files", "Files that are not used: names that do not parse, labels out of range, "
                     "copies of other files, files that are not images" },
  { "Duplicate groups",
    "Sets of byte-identical files under different names; the first of each is kept" },
  { "Conflicting labels", "Duplicate groups whose names disagree on age, gender or race; the "
                          "kept copy is used for training only, never for validation" },
};


/* Train and validation in the histogram: GNOME blue 3 and blue 1, clear in light and dark. */
static const GdkRGBA train_color = { 0x35 / 255., 0x84 / 255., 0xe4 / 255., 1.0 };
static const GdkRGBA val_color = { 0x99 / 255., 0xc1 / 255., 0xf1 / 255., 1.0 };

static char *
format_percent (double part, double whole)
{
  if (whole <= 0)
    return g_strdup ("–");
  return g_strdup_printf ("%.1f%%", 100.0 * part / whole);
}

/* A bar with rounded top corners from (x, y) down to y + h. */
static void
bar_path (cairo_t *cr, double x, double y, double w, double h, double r)
{
  r = MIN (r, MIN (w / 2, h));
  cairo_new_sub_path (cr);
  cairo_move_to (cr, x, y + h);
  cairo_line_to (cr, x, y + r);
  cairo_arc (cr, x + r, y + r, r, G_PI, 1.5 * G_PI);
  cairo_line_to (cr, x + w - r, y);
  cairo_arc (cr, x + w - r, y + r, r, 1.5 * G_PI, 2 * G_PI);
  cairo_line_to (cr, x + w, y + h);
  cairo_close_path (cr);
}

/* The histogram's geometry: the bars' rectangle, the width of a bin and the gap between
 * bars, and the count axis' tick step and the count at its top. */
typedef struct
{
  HydraChartArea a;
  double bw, gap;
  double step, top;
} Histogram;

/* Scales the counts to about 4 ticks and fits the bars right of the widest count label;
 * keeps the geometry for hit-testing. FALSE when there is no room to draw. */
static gboolean
histogram_layout (HydraDatasetPane *self, PangoLayout *layout, int width, int height, Histogram *h)
{
  guint max = 0;
  double label_w = 0, label_h = 0, v;
  HydraChartSteps it;

  for (int b = 0; b < HYDRA_DATASET_AGE_BINS; b++)
    max = MAX (max, self->age_total[b]);
  h->step = hydra_chart_nice_step (MAX (max, 1), 4);
  h->top = ceil (MAX (max, 1) / h->step) * h->step;

  for (hydra_chart_steps_init (&it, 0, h->top, h->step); hydra_chart_steps_next (&it, &v);)
    {
      g_autofree char *text = hydra_format_count ((gint64) v);

      hydra_chart_text_grow (layout, text, &label_w, &label_h);
    }
  if (!hydra_chart_area_fit (&h->a, width, height, label_w, label_h, 2))
    return FALSE;
  h->bw = (h->a.x1 - h->a.x0) / HYDRA_DATASET_AGE_BINS;
  h->gap = MAX (1.0, round (h->bw * 0.16));
  self->plot_x0 = h->a.x0;
  self->bin_width = h->bw;
  self->plot_y1 = h->a.y1;
  return TRUE;
}

static void
draw_count_axis (cairo_t *cr, PangoLayout *layout, const GdkRGBA *fg, const Histogram *h)
{
  HydraChartSteps it;
  double v;

  cairo_set_line_width (cr, 1);
  for (hydra_chart_steps_init (&it, 0, h->top, h->step); hydra_chart_steps_next (&it, &v);)
    {
      g_autofree char *text = hydra_format_count ((gint64) v);

      hydra_chart_draw_gridline (cr, layout, fg, v == 0 ? 0.35 : 0.1, h->a.x0, h->a.x1,
                                 round (h->a.y1 - (h->a.y1 - h->a.y0) * v / h->top) + 0.5, text);
    }
}

/* Bars: training below, validation stacked on top; the hovered bin's column behind its bar,
 * the other bars dimmed. */
static void
draw_bars (HydraDatasetPane *self, cairo_t *cr, const GdkRGBA *fg, const Histogram *h)
{
  if (self->hover_bin >= 0)
    {
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.06);
      cairo_rectangle (cr, round (h->a.x0 + self->hover_bin * h->bw), h->a.y0, round (h->bw),
                       h->a.y1 - h->a.y0);
      cairo_fill (cr);
    }

  for (int b = 0; b < HYDRA_DATASET_AGE_BINS; b++)
    {
      double bx = round (h->a.x0 + b * h->bw + h->gap / 2);
      double bwidth = MAX (1.0, round (h->a.x0 + (b + 1) * h->bw - h->gap / 2) - bx);
      double h_total = (h->a.y1 - h->a.y0) * self->age_total[b] / h->top;
      double h_train = (h->a.y1 - h->a.y0) * self->age_train[b] / h->top;
      double alpha = self->hover_bin < 0 || self->hover_bin == b ? 1.0 : 0.75;

      if (self->age_total[b] == 0)
        continue;
      cairo_save (cr);
      bar_path (cr, bx, h->a.y1 - h_total, bwidth, h_total, 3);
      cairo_clip (cr);
      cairo_set_source_rgba (cr, val_color.red, val_color.green, val_color.blue, alpha);
      cairo_rectangle (cr, bx, h->a.y1 - h_total, bwidth, h_total - h_train);
      cairo_fill (cr);
      cairo_set_source_rgba (cr, train_color.red, train_color.green, train_color.blue, alpha);
      cairo_rectangle (cr, bx, h->a.y1 - h_train, bwidth, h_train);
      cairo_fill (cr);
      cairo_restore (cr);
    }
}

/* Ages every 10 years, ticked under the bins' left edges. */
static void
draw_age_axis (cairo_t *cr, PangoLayout *layout, const GdkRGBA *fg, const Histogram *h)
{
  for (int b = 0; b < HYDRA_DATASET_AGE_BINS; b += 2)
    {
      char text[16];
      double x = round (h->a.x0 + b * h->bw) + 0.5;

      g_snprintf (text, sizeof text, "%d", b * 5);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.35);
      cairo_move_to (cr, x, h->a.y1);
      cairo_line_to (cr, x, h->a.y1 + 4);
      cairo_stroke (cr);
      cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
      hydra_chart_show_text (cr, layout, text, x, h->a.y1 + 5, 0.5, 0.0);
    }
}

static void
draw_age_histogram (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  HydraDatasetPane *self = user_data;
  GtkWidget *widget = GTK_WIDGET (area);
  g_autoptr (PangoLayout) layout = hydra_chart_layout_new (widget, 0.83, FALSE);
  Histogram h;
  GdkRGBA fg;

  hydra_chart_get_foreground (widget, &fg);
  if (!histogram_layout (self, layout, width, height, &h))
    return;
  draw_count_axis (cr, layout, &fg, &h);
  draw_bars (self, cr, &fg, &h);
  draw_age_axis (cr, layout, &fg, &h);
}

static int
age_bin_at (HydraDatasetPane *self, double x, double y)
{
  int b;

  if (self->bin_width <= 0 || x < self->plot_x0 || y > self->plot_y1)
    return -1;
  b = (int) floor ((x - self->plot_x0) / self->bin_width);
  return b >= 0 && b < HYDRA_DATASET_AGE_BINS ? b : -1;
}

static void
on_age_motion (GtkEventControllerMotion *motion, double x, double y, HydraDatasetPane *self)
{
  int b = age_bin_at (self, x, y);

  if (b != self->hover_bin)
    {
      self->hover_bin = b;
      gtk_widget_queue_draw (GTK_WIDGET (self->age_area));
    }
}

static void
on_age_leave (GtkEventControllerMotion *motion, HydraDatasetPane *self)
{
  if (self->hover_bin != -1)
    {
      self->hover_bin = -1;
      gtk_widget_queue_draw (GTK_WIDGET (self->age_area));
    }
}

static gboolean
on_age_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard_mode, GtkTooltip *tooltip,
                      HydraDatasetPane *self)
{
  int b = age_bin_at (self, x, y);
  g_autofree char *total = NULL;
  g_autofree char *train = NULL;
  g_autofree char *val = NULL;
  g_autofree char *markup = NULL;
  int first, last;

  if (b < 0)
    return FALSE;
  first = b * 5;
  last = MIN (first + 4, LABEL_MAX_AGE);
  total = hydra_format_count (self->age_total[b]);
  train = hydra_format_count (self->age_train[b]);
  val = hydra_format_count (self->age_val[b]);
  markup = g_strdup_printf ("<b>Ages %d–%d</b>\n%s images\n%s training · %s validation", first,
                            last, total, train, val);
  gtk_tooltip_set_markup (tooltip, markup);
  return TRUE;
}

static void
set_figure (HydraDatasetPane *self, HydraDatasetFigure figure, gint64 value, const char *detail)
{
  g_autofree char *text = hydra_format_count (value);

  gtk_label_set_text (self->figures[figure].value, text);
  gtk_label_set_text (self->figures[figure].detail, detail != NULL ? detail : "");
}

static void
set_bar (Bar *bar, int count, int total)
{
  g_autofree char *text = hydra_format_count (count);
  g_autofree char *percent = format_percent (count, total);

  gtk_level_bar_set_value (bar->bar, total > 0 ? (double) count / total : 0.0);
  gtk_label_set_text (bar->count, text);
  gtk_label_set_text (bar->percent, percent);
}

/* The histogram's bins (HYDRA_DATASET_AGE_BINS of them), as dataset_stats counts them. */
#define AGE_BIN_YEARS 5
G_STATIC_ASSERT (LABEL_MAX_AGE / AGE_BIN_YEARS + 1 == HYDRA_DATASET_AGE_BINS);

/* "age 26 / 80, race asian / white": which labels the copies' names disagree on. */
static char *
describe_conflict (const HnDuplicateStats *group)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  if (group->age_differs)
    g_ptr_array_add (parts, g_strdup_printf ("age %d / %d", group->labels.age, group->other.age));
  if (group->gender_differs)
    g_ptr_array_add (parts, g_strdup_printf ("gender %s / %s", gender_names[group->labels.gender],
                                             gender_names[group->other.gender]));
  if (group->race_differs)
    g_ptr_array_add (parts, g_strdup_printf ("race %s / %s", race_names[group->labels.race],
                                             race_names[group->other.race]));
  if (parts->len == 0)
    g_ptr_array_add (parts, g_strdup ("labels differ"));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (", ", (char **) parts->pdata);
}

/* Every file of the group but the kept one, comma-separated (files is not NULL-terminated). */
static char *
join_copies (const HnDuplicateGroup *group)
{
  GString *text = g_string_new (NULL);

  for (int i = 1; i < group->n_files; i++)
    {
      if (i > 1)
        g_string_append (text, ", ");
      g_autofree char *name = g_filename_display_name (group->files[i]);
      g_string_append (text, name);
    }
  return g_string_free (text, FALSE);
}

static void
fill_lists (HydraDatasetPane *self, const HnDataset *ds, int val_percent)
{
  guint n_skipped = ds != NULL ? (guint) ds->n_skipped : 0;
  guint n_dups = ds != NULL ? (guint) ds->n_duplicates : 0;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *skipped_title = NULL;
  g_autofree char *dups_title = NULL;
  g_autofree char *n_text = NULL;

  for (guint i = 0; i < n_skipped; i++)
    {
      HydraDatasetRow *row = g_object_new (HYDRA_TYPE_DATASET_ROW, NULL);

      /* names are bytes; what a label shows must be UTF-8 */
      row->file = g_filename_display_name (ds->skipped[i].file);
      row->reason = g_utf8_make_valid (ds->skipped[i].reason, -1);
      g_ptr_array_add (rows, row);
    }
  /* One items-changed for the whole list, so 20,000 rows cost one relayout. */
  g_list_store_splice (self->skipped, 0, g_list_model_get_n_items (G_LIST_MODEL (self->skipped)),
                       rows->pdata, rows->len);
  g_ptr_array_set_size (rows, 0);

  for (guint i = 0; i < n_dups; i++)
    {
      const HnDuplicateGroup *group = &ds->duplicates[i];
      HydraDatasetRow *row = g_object_new (HYDRA_TYPE_DATASET_ROW, NULL);
      HnDuplicateStats stats;

      dataset_duplicate_stats (ds, i, val_percent, &stats);
      row->file = g_filename_display_name (group->n_files > 0 ? group->files[0] : "");
      row->copies = join_copies (group);
      row->conflicting = group->conflicting;
      row->conflict = group->conflicting ? describe_conflict (&stats) : g_strdup ("same labels");
      g_ptr_array_add (rows, row);
    }
  g_list_store_splice (self->duplicates, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->duplicates)), rows->pdata,
                       rows->len);

  n_text = hydra_format_count (n_skipped);
  skipped_title = n_skipped > 0 ? g_strdup_printf ("Skipped (%s)", n_text) : g_strdup ("Skipped");
  g_free (n_text);
  n_text = hydra_format_count (n_dups);
  dups_title = n_dups > 0 ? g_strdup_printf ("Duplicates (%s)", n_text) : g_strdup ("Duplicates");
  gtk_stack_page_set_title (gtk_stack_get_page (self->list_stack, GTK_WIDGET (self->skipped_stack)),
                            skipped_title);
  gtk_stack_page_set_title (
      gtk_stack_get_page (self->list_stack, GTK_WIDGET (self->duplicates_stack)), dups_title);
  gtk_stack_set_visible_child_name (self->skipped_stack, n_skipped > 0 ? "list" : "none");
  gtk_stack_set_visible_child_name (self->duplicates_stack, n_dups > 0 ? "list" : "none");
}

static char *
describe_cache (const HnDataset *ds)
{
  const char *status = dataset_cache_status (ds);

  if (ds->names == NULL || g_str_equal (status, "disabled"))
    return NULL;
  if (g_str_equal (status, "read"))
    return g_strdup ("loaded from the cache");
  if (g_str_equal (status, "written"))
    return g_strdup ("cached for next time");
  if (g_str_has_prefix (status, "rebuilt"))
    return g_strdup ("cache rebuilt");
  return g_strdup ("not cached");
}

/* "400 files  ·  64 × 64 pixels  ·  20% held out for validation  ·  cached for next time" */
static void
set_subtitle (HydraDatasetPane *self, const HnDataset *ds, int val_percent)
{
  g_autoptr (GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *count = hydra_format_count (ds->n + ds->n_skipped);
  g_autofree char *cache = describe_cache (ds);
  g_autofree char *subtitle = NULL;

  g_ptr_array_add (parts,
                   g_strdup_printf (ds->names != NULL ? "%s files" : "%s generated faces", count));
  g_ptr_array_add (parts, g_strdup_printf ("%d × %d pixels", ds->size, ds->size));
  g_ptr_array_add (parts, g_strdup_printf ("%d%% held out for validation", val_percent));
  if (cache != NULL)
    g_ptr_array_add (parts, g_steal_pointer (&cache));
  g_ptr_array_add (parts, NULL);
  subtitle = g_strjoinv ("  ·  ", (char **) parts->pdata);
  gtk_label_set_text (self->subtitle_label, subtitle);
}

static void
set_figures (HydraDatasetPane *self, const HnDataset *ds, const HnDatasetStats *st)
{
  g_autofree char *train = NULL;
  g_autofree char *val = NULL;

  set_figure (self, HYDRA_DATASET_FIGURE_USABLE, ds->n,
              ds->names != NULL ? "decoded and labelled" : "drawn with their labels");
  train = g_strdup_printf ("%.1f%% of usable", ds->n > 0 ? 100.0 * st->n_train / ds->n : 0.0);
  set_figure (self, HYDRA_DATASET_FIGURE_TRAIN, st->n_train, train);
  val = g_strdup_printf ("%.1f%% of usable", ds->n > 0 ? 100.0 * st->n_val / ds->n : 0.0);
  set_figure (self, HYDRA_DATASET_FIGURE_VAL, st->n_val, val);
  set_figure (self, HYDRA_DATASET_FIGURE_SKIPPED, ds->n_skipped,
              ds->n_skipped > 0 ? "listed below" : "none");
  set_figure (self, HYDRA_DATASET_FIGURE_DUPLICATES, ds->n_duplicates, "byte-identical files");
  set_figure (self, HYDRA_DATASET_FIGURE_CONFLICTING, st->n_conflicting,
              st->n_conflicting > 0 ? "kept out of validation" : "none");
  /* Synthetic faces have no files to skip or to find copies of. */
  for (int f = HYDRA_DATASET_FIGURE_SKIPPED; f <= HYDRA_DATASET_FIGURE_CONFLICTING; f++)
    gtk_widget_set_visible (gtk_widget_get_parent (self->figures[f].box), ds->names != NULL);
}

void
hydra_dataset_pane_set_dataset (HydraDatasetPane *self, const HnDataset *ds, const char *title,
                                int val_percent)
{
  HnDatasetStats st;
  g_autofree char *summary = NULL;

  g_return_if_fail (HYDRA_IS_DATASET_PANE (self));

  memset (self->age_train, 0, sizeof self->age_train);
  memset (self->age_val, 0, sizeof self->age_val);
  memset (self->age_total, 0, sizeof self->age_total);
  self->hover_bin = -1;
  self->empty = ds == NULL;

  fill_lists (self, ds, val_percent);
  hydra_augment_grid_set_dataset (self->augment_grid, ds, val_percent);
  gtk_widget_queue_draw (GTK_WIDGET (self->age_area));

  if (ds == NULL)
    {
      for (int f = 0; f < HYDRA_DATASET_N_FIGURES; f++)
        {
          gtk_label_set_text (self->figures[f].value, "–");
          gtk_label_set_text (self->figures[f].detail, "");
        }
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  dataset_stats (ds, val_percent, AGE_BIN_YEARS, &st);
  for (int b = 0; b < HYDRA_DATASET_AGE_BINS; b++)
    {
      self->age_train[b] = st.age_train[b];
      self->age_val[b] = st.age_val[b];
      self->age_total[b] = st.age_train[b] + st.age_val[b];
    }

  gtk_label_set_text (self->title_label, title != NULL ? title : "Data set");
  set_subtitle (self, ds, val_percent);
  set_figures (self, ds, &st);

  /* Age summary: mean, median, range */
  if (ds->n > 0)
    summary = g_strdup_printf ("mean %.1f  ·  median %d  ·  %d to %d years", st.age_mean,
                               st.age_median, st.age_min, st.age_max);
  gtk_label_set_text (self->age_summary_label, summary != NULL ? summary : "");

  /* Label bars */
  for (int g = 0; g < N_GENDERS; g++)
    set_bar (&self->gender_bars[g], st.gender[g], ds->n);
  for (int r = 0; r < N_RACES; r++)
    set_bar (&self->race_bars[r], st.race[r], ds->n);

  gtk_widget_set_visible (gtk_widget_get_parent (GTK_WIDGET (self->list_stack)), ds->names != NULL);
  gtk_stack_set_visible_child_name (self->stack, "content");
}

void
hydra_dataset_pane_set_augment (HydraDatasetPane *self, const HnAugment *augment)
{
  g_return_if_fail (HYDRA_IS_DATASET_PANE (self));

  hydra_augment_grid_set_augment (self->augment_grid, augment);
}

HydraAugmentGrid *
hydra_dataset_pane_get_augment_grid (HydraDatasetPane *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), NULL);

  return self->augment_grid;
}

gboolean
hydra_dataset_pane_get_empty (HydraDatasetPane *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), TRUE);

  return self->empty;
}

const char *
hydra_dataset_pane_get_figure_text (HydraDatasetPane *self, HydraDatasetFigure figure)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), NULL);
  g_return_val_if_fail (figure < HYDRA_DATASET_N_FIGURES, NULL);

  return gtk_label_get_text (self->figures[figure].value);
}

const guint *
hydra_dataset_pane_get_age_histogram (HydraDatasetPane *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), NULL);

  return self->age_total;
}

GListModel *
hydra_dataset_pane_get_skipped (HydraDatasetPane *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), NULL);

  return G_LIST_MODEL (self->skipped);
}

GListModel *
hydra_dataset_pane_get_duplicates (HydraDatasetPane *self)
{
  g_return_val_if_fail (HYDRA_IS_DATASET_PANE (self), NULL);

  return G_LIST_MODEL (self->duplicates);
}

/* ---------------------------------------------------------------------------------------
 * Building the parts the template cannot describe
 */

static void
build_figures (HydraDatasetPane *self)
{
  for (int f = 0; f < HYDRA_DATASET_N_FIGURES; f++)
    {
      Figure *fig = &self->figures[f];

      fig->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      gtk_widget_add_css_class (fig->box, "hydra-card");
      gtk_widget_add_css_class (fig->box, "hydra-figure");
      gtk_widget_set_tooltip_text (fig->box, figure_text[f].tooltip);

      fig->value = GTK_LABEL (gtk_label_new ("–"));
      gtk_label_set_xalign (fig->value, 0);
      gtk_widget_add_css_class (GTK_WIDGET (fig->value), "hydra-figure-value");

      fig->caption = GTK_LABEL (gtk_label_new (figure_text[f].caption));
      gtk_label_set_xalign (fig->caption, 0);
      gtk_label_set_ellipsize (fig->caption, PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (GTK_WIDGET (fig->caption), "heading");

      fig->detail = GTK_LABEL (gtk_label_new (""));
      gtk_label_set_xalign (fig->detail, 0);
      gtk_label_set_ellipsize (fig->detail, PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (GTK_WIDGET (fig->detail), "caption");
      gtk_widget_add_css_class (GTK_WIDGET (fig->detail), "dim-label");

      gtk_box_append (GTK_BOX (fig->box), GTK_WIDGET (fig->value));
      gtk_box_append (GTK_BOX (fig->box), GTK_WIDGET (fig->caption));
      gtk_box_append (GTK_BOX (fig->box), GTK_WIDGET (fig->detail));
      gtk_flow_box_append (self->figure_box, fig->box);
    }
  gtk_widget_add_css_class (self->figures[HYDRA_DATASET_FIGURE_CONFLICTING].box, "conflicting");
}

/* names and counts share size groups, so the gender and race bars line up */
static void
build_bar (GtkGrid *grid, int row, const char *name, GtkSizeGroup *names, GtkSizeGroup *counts,
           Bar *bar)
{
  GtkWidget *label = gtk_label_new (name);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_size_group_add_widget (names, label);
  gtk_grid_attach (grid, label, 0, row, 1, 1);

  bar->bar = GTK_LEVEL_BAR (gtk_level_bar_new_for_interval (0, 1));
  /* One colour for every share: the default offsets would paint small shares as warnings. */
  gtk_level_bar_remove_offset_value (bar->bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (bar->bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (bar->bar, GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_set_hexpand (GTK_WIDGET (bar->bar), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (bar->bar), GTK_ALIGN_CENTER);
  gtk_grid_attach (grid, GTK_WIDGET (bar->bar), 1, row, 1, 1);

  bar->count = GTK_LABEL (gtk_label_new ("0"));
  gtk_label_set_xalign (bar->count, 1);
  gtk_widget_add_css_class (GTK_WIDGET (bar->count), "hydra-numeric");
  gtk_size_group_add_widget (counts, GTK_WIDGET (bar->count));
  gtk_grid_attach (grid, GTK_WIDGET (bar->count), 2, row, 1, 1);

  bar->percent = GTK_LABEL (gtk_label_new (""));
  gtk_label_set_xalign (bar->percent, 1);
  gtk_label_set_width_chars (bar->percent, 6);
  gtk_widget_add_css_class (GTK_WIDGET (bar->percent), "hydra-numeric");
  gtk_widget_add_css_class (GTK_WIDGET (bar->percent), "dim-label");
  gtk_grid_attach (grid, GTK_WIDGET (bar->percent), 3, row, 1, 1);
}

/* The full text of a cell, when it does not fit. Asked for on hover only: setting a tooltip
 * text on every bind costs an X round trip per cell in GTK 4.8. */
static gboolean
on_cell_query_tooltip (GtkWidget *label, int x, int y, gboolean keyboard_mode, GtkTooltip *tooltip,
                       gpointer user_data)
{
  if (!pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (label))))
    return FALSE;
  gtk_tooltip_set_text (tooltip, gtk_label_get_text (GTK_LABEL (label)));
  return TRUE;
}

/* Columns show one string property of HydraDatasetRow; the factory's data names it. */
static void
setup_text_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  const char *property = user_data;
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), g_str_equal (property, "file")
                                                  ? PANGO_ELLIPSIZE_MIDDLE
                                                  : PANGO_ELLIPSIZE_END);
  gtk_widget_set_has_tooltip (label, TRUE);
  g_signal_connect (label, "query-tooltip", G_CALLBACK (on_cell_query_tooltip), NULL);
  gtk_list_item_set_child (item, label);
}

static void
bind_text_cell (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  const char *property = user_data;
  GtkWidget *label = gtk_list_item_get_child (item);
  HydraDatasetRow *row = gtk_list_item_get_item (item);
  g_autofree char *text = NULL;

  g_object_get (row, property, &text, NULL);
  gtk_label_set_text (GTK_LABEL (label), text);
  if (g_str_equal (property, "conflict"))
    {
      if (row->conflicting)
        {
          gtk_widget_add_css_class (label, "hydra-conflict");
          gtk_widget_remove_css_class (label, "dim-label");
        }
      else
        {
          gtk_widget_remove_css_class (label, "hydra-conflict");
          gtk_widget_add_css_class (label, "dim-label");
        }
    }
}

static GtkColumnViewColumn *
add_column (GtkColumnView *view, const char *title, const char *property, GtkSorter *sorter,
            int fixed_width)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_signal_connect (factory, "setup", G_CALLBACK (setup_text_cell), (gpointer) property);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_text_cell), (gpointer) property);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_resizable (column, TRUE);
  if (fixed_width > 0)
    gtk_column_view_column_set_fixed_width (column, fixed_width);
  else
    gtk_column_view_column_set_expand (column, TRUE);
  if (sorter != NULL)
    gtk_column_view_column_set_sorter (column, sorter);
  gtk_column_view_append_column (view, column);
  g_clear_object (&sorter);
  g_object_unref (column);
  return column;
}

static GtkSorter *
string_sorter (const char *property)
{
  return GTK_SORTER (
      gtk_string_sorter_new (gtk_property_expression_new (HYDRA_TYPE_DATASET_ROW, NULL, property)));
}

static void
set_view_model (GtkColumnView *view, GListStore *store)
{
  GtkSortListModel *sorted;
  g_autoptr (GtkNoSelection) selection = NULL;

  /* Both constructors take ownership of their arguments. */
  sorted = gtk_sort_list_model_new (G_LIST_MODEL (g_object_ref (store)),
                                    g_object_ref (gtk_column_view_get_sorter (view)));
  selection = gtk_no_selection_new (G_LIST_MODEL (sorted));
  gtk_column_view_set_model (view, GTK_SELECTION_MODEL (selection));
}

static void
build_lists (HydraDatasetPane *self)
{
  GtkColumnViewColumn *conflict;

  add_column (self->skipped_view, "File", "file", string_sorter ("file"), 0);
  add_column (self->skipped_view, "Reason", "reason", string_sorter ("reason"), 0);
  set_view_model (self->skipped_view, self->skipped);

  add_column (self->duplicates_view, "Kept", "file", string_sorter ("file"), 0);
  add_column (self->duplicates_view, "Copies", "copies", string_sorter ("copies"), 0);
  conflict = add_column (self->duplicates_view, "Labels", "conflict",
                         GTK_SORTER (gtk_numeric_sorter_new (gtk_property_expression_new (
                             HYDRA_TYPE_DATASET_ROW, NULL, "conflicting"))),
                         260);
  set_view_model (self->duplicates_view, self->duplicates);
  /* Conflicts first: they are the ones that change what the model learns. */
  gtk_column_view_sort_by_column (self->duplicates_view, conflict, GTK_SORT_DESCENDING);
}

static void
make_unfocusable_children (GtkWidget *box)
{
  for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gtk_widget_set_focusable (child, FALSE);
}

static void
hydra_dataset_pane_dispose (GObject *object)
{
  HydraDatasetPane *self = HYDRA_DATASET_PANE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_DATASET_PANE);
  g_clear_object (&self->skipped);
  g_clear_object (&self->duplicates);

  G_OBJECT_CLASS (hydra_dataset_pane_parent_class)->dispose (object);
}

static void
hydra_dataset_pane_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraDatasetPane *self = HYDRA_DATASET_PANE (object);

  switch (prop_id)
    {
    case PROP_AUGMENT:
      g_object_get_property (G_OBJECT (self->augment_grid), "augment", value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_dataset_pane_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  HydraDatasetPane *self = HYDRA_DATASET_PANE (object);

  switch (prop_id)
    {
    case PROP_AUGMENT:
      g_object_set_property (G_OBJECT (self->augment_grid), "augment", value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
on_augment_notify (HydraDatasetPane *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AUGMENT]);
}

static void
hydra_dataset_pane_class_init (HydraDatasetPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_dataset_pane_dispose;
  object_class->get_property = hydra_dataset_pane_get_property;
  object_class->set_property = hydra_dataset_pane_set_property;

  properties[PROP_AUGMENT]
      = g_param_spec_string ("augment", NULL, NULL, "none",
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (HYDRA_TYPE_AUGMENT_GRID);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-dataset-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, stack);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, title_label);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, figure_box);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, charts_box);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, age_summary_label);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, age_area);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, gender_grid);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, race_grid);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, list_stack);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, skipped_stack);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, duplicates_stack);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, skipped_view);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, duplicates_view);
  gtk_widget_class_bind_template_child (widget_class, HydraDatasetPane, augment_grid);

  gtk_widget_class_set_css_name (widget_class, "hydradatasetpane");
}

static void
hydra_dataset_pane_init (HydraDatasetPane *self)
{
  GtkEventController *motion;
  g_autoptr (GtkSizeGroup) names = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  g_autoptr (GtkSizeGroup) counts = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->augment_grid, "notify::augment", G_CALLBACK (on_augment_notify),
                           self, G_CONNECT_SWAPPED);

  self->skipped = g_list_store_new (HYDRA_TYPE_DATASET_ROW);
  self->duplicates = g_list_store_new (HYDRA_TYPE_DATASET_ROW);
  self->hover_bin = -1;
  self->empty = TRUE;

  build_figures (self);
  for (int g = 0; g < 2; g++)
    build_bar (self->gender_grid, g, gender_names[g], names, counts, &self->gender_bars[g]);
  for (int r = 0; r < N_RACES; r++)
    build_bar (self->race_grid, r, race_names[r], names, counts, &self->race_bars[r]);
  build_lists (self);
  /* The flow boxes only wrap; their children are not items to focus or select. */
  make_unfocusable_children (GTK_WIDGET (self->figure_box));
  make_unfocusable_children (GTK_WIDGET (self->charts_box));

  gtk_drawing_area_set_draw_func (self->age_area, draw_age_histogram, self, NULL);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (on_age_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_age_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self->age_area), motion);
  g_signal_connect (self->age_area, "query-tooltip", G_CALLBACK (on_age_query_tooltip), self);

  gtk_stack_set_visible_child_name (self->stack, "empty");
}

GtkWidget *
hydra_dataset_pane_new (void)
{
  return g_object_new (HYDRA_TYPE_DATASET_PANE, NULL);
}
