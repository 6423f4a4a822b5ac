/* hydra-plot-pen.h — strokes long polylines fast: simplified, and in short pieces.
 *
 * Cairo's stroker spends time on every vertex, so points that lie within a quarter pixel of
 * the chord that would replace them are dropped; and it rasterises each stroke through a
 * mask as large as the stroke's extents, so one stroke across the whole plot costs the
 * plot's area however thin the line, where short pieces cost about what they cover. A dash
 * pattern runs on across pieces. The line's colour, width, caps and joins are the cairo_t's.
 */
#pragma once

#include <cairo.h>
#include <glib.h>

G_BEGIN_DECLS

#define HYDRA_PLOT_PEN_BUFFER 32

typedef struct
{
  cairo_t *cr;
  const double *dash; /* NULL: solid */
  int n_dash;
  gboolean down; /* the next point continues the line */
  double ax, ay; /* the last point emitted */
  double bx[HYDRA_PLOT_PEN_BUFFER], by[HYDRA_PLOT_PEN_BUFFER]; /* points since, not yet emitted */
  guint n_buf;
  double x0;          /* where the current piece started */
  guint n;            /* points in the current piece */
  double length;      /* stroked so far, for the dash offset */
  double piece_start; /* the length where the current piece started */
} HydraPlotPen;

/* Starts a new path on cr; dash: the pattern, or NULL for a solid line. */
void hydra_plot_pen_init (HydraPlotPen *pen, cairo_t *cr, const double *dash, int n_dash);
/* The line continues to (x, y), or starts there after a lift. */
void hydra_plot_pen_to (HydraPlotPen *pen, double x, double y);
/* Ends the current line: the next point starts a new one. */
void hydra_plot_pen_lift (HydraPlotPen *pen);
/* Strokes what is left. */
void hydra_plot_pen_flush (HydraPlotPen *pen);

G_END_DECLS
