/* hydra-chart-draw.h — what the studio's Cairo charts draw alike: labels, shapes, colours.
 *
 * Used by the loss plot, the metrics view and the data-set pane, so that their labels,
 * cards and the heads' colours match.
 */
#pragma once

#include <gtk/gtk.h>

#include "model.h"

G_BEGIN_DECLS

/* Each head's colour (age blue, gender orange, race purple), readable on white and on
 * Adwaita dark; the loss plot's curves and the metrics view's charts share them. */
extern const GdkRGBA hydra_chart_head_colors[N_HEADS];

/* A comparison's runs, in order (the primary first): a qualitative palette with none of the
 * heads' colours, so that a run's colour never reads as a head. */
#define HYDRA_CHART_N_RUN_COLORS 8
extern const GdkRGBA hydra_chart_run_colors[HYDRA_CHART_N_RUN_COLORS];

/* The widget's text colour. */
void hydra_chart_get_foreground (GtkWidget *widget, GdkRGBA *fg);

/* A layout for chart labels: the widget's font scaled by `scale`, tabular figures (so that
 * numbers in a column line up), bold on request. */
PangoLayout *hydra_chart_layout_new (GtkWidget *widget, double scale, gboolean bold);

/* Sets tabular figures as the layout's only attributes. */
void hydra_chart_layout_set_tabular (PangoLayout *layout);

/* Sets text on layout and gives its size in pixels (either pointer may be NULL). */
void hydra_chart_text_size (PangoLayout *layout, const char *text, double *width, double *height);

/* Grows (*max_w, *max_h) to take in the size of text in layout. */
void hydra_chart_text_grow (PangoLayout *layout, const char *text, double *max_w, double *max_h);

/* Draws text with its box aligned at (x, y), on whole pixels: xalign, yalign = 0 left/top,
 * 0.5 centre, 1 right/bottom. */
void hydra_chart_show_text (cairo_t *cr, PangoLayout *layout, const char *text, double x, double y,
                            double xalign, double yalign);

/* The plotting area of a small chart. */
typedef struct
{
  double x0, x1, y0, y1;
} HydraChartArea;

/* Fits the plotting area into width × height: right of value labels at most label_w wide
 * (each centred on its grid line, so the top one reaches above the area), above a row of
 * labels label_h tall, right_margin px from the right. FALSE when it would be under 20 px
 * either way. */
gboolean hydra_chart_area_fit (HydraChartArea *area, int width, int height, double label_w,
                               double label_h, double right_margin);

/* A grid line across [x0, x1] at y in fg at alpha, and its label right-aligned 8 px left of
 * x0, centred on the line: the value axis of a small chart. */
void hydra_chart_draw_gridline (cairo_t *cr, PangoLayout *layout, const GdkRGBA *fg, double alpha,
                                double x0, double x1, double y, const char *label);

/* Adds a rectangle with corners of radius r (at most half its shorter side) to the path. */
void hydra_chart_rounded_rect (cairo_t *cr, double x, double y, double w, double h, double r);

G_END_DECLS
