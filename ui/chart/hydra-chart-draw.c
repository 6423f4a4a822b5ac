/* hydra-chart-draw.c — chart labels, rounded shapes and the heads' colours. */

#include "hydra-chart-draw.h"

#include <math.h>

const GdkRGBA hydra_chart_head_colors[N_HEADS] = {
  { 0x1c / 255., 0x71 / 255., 0xd8 / 255., 1.0 }, /* age: blue */
  { 0xe6 / 255., 0x61 / 255., 0x00 / 255., 1.0 }, /* gender: orange */
  { 0xa3 / 255., 0x47 / 255., 0xba / 255., 1.0 }, /* race: purple */
};

const GdkRGBA hydra_chart_run_colors[HYDRA_CHART_N_RUN_COLORS] = {
  { 0x12 / 255., 0x87 / 255., 0x7c / 255., 1.0 }, /* teal */
  { 0xd0 / 255., 0x1b / 255., 0x24 / 255., 1.0 }, /* red */
  { 0xb8 / 255., 0x85 / 255., 0x00 / 255., 1.0 }, /* ochre */
  { 0x86 / 255., 0x5e / 255., 0x3c / 255., 1.0 }, /* brown */
  { 0xe0 / 255., 0x48 / 255., 0x8f / 255., 1.0 }, /* pink */
  { 0x6a / 255., 0x8a / 255., 0x1f / 255., 1.0 }, /* olive */
  { 0x0a / 255., 0x6d / 255., 0x8f / 255., 1.0 }, /* petrol */
  { 0x5e / 255., 0x5c / 255., 0x64 / 255., 1.0 }, /* grey */
};

void
hydra_chart_get_foreground (GtkWidget *widget, GdkRGBA *fg)
{
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), fg);
}

PangoLayout *
hydra_chart_layout_new (GtkWidget *widget, double scale, gboolean bold)
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

void
hydra_chart_layout_set_tabular (PangoLayout *layout)
{
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_font_features_new ("tnum=1"));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
}

void
hydra_chart_text_size (PangoLayout *layout, const char *text, double *width, double *height)
{
  int pw, ph;

  pango_layout_set_text (layout, text, -1);
  pango_layout_get_pixel_size (layout, &pw, &ph);
  if (width)
    *width = pw;
  if (height)
    *height = ph;
}

void
hydra_chart_text_grow (PangoLayout *layout, const char *text, double *max_w, double *max_h)
{
  double w, h;

  hydra_chart_text_size (layout, text, &w, &h);
  *max_w = MAX (*max_w, w);
  *max_h = MAX (*max_h, h);
}

void
hydra_chart_show_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y,
                       double xalign, double yalign)
{
  double w, h;

  hydra_chart_text_size (layout, text, &w, &h);
  cairo_move_to (cr, round (x - xalign * w), round (y - yalign * h));
  pango_cairo_show_layout (cr, layout);
}

gboolean
hydra_chart_area_fit (HydraChartArea *area, int width, int height, double label_w, double label_h,
                      double right_margin)
{
  area->x0 = label_w + 10;
  area->x1 = width - right_margin;
  area->y0 = label_h / 2.0 + 2;
  area->y1 = height - label_h - 8;
  return area->x1 - area->x0 >= 20 && area->y1 - area->y0 >= 20;
}

void
hydra_chart_draw_gridline (cairo_t *cr, PangoLayout *layout, const GdkRGBA *fg, double alpha,
                           double x0, double x1, double y, const char *label)
{
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, alpha);
  cairo_move_to (cr, x0, y);
  cairo_line_to (cr, x1, y);
  cairo_stroke (cr);
  cairo_set_source_rgba (cr, fg->red, fg->green, fg->blue, 0.6);
  hydra_chart_show_text (cr, layout, label, x0 - 8, y, 1.0, 0.5);
}

void
hydra_chart_rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}
