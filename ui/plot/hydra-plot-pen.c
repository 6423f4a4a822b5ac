/* hydra-plot-pen.c — a simplifying, piecewise polyline stroker for Cairo. */

#include "hydra-plot-pen.h"

#include <math.h>
#include <string.h>

#define PEN_TOLERANCE 0.25 /* px from the chord */
#define PIECE_POINTS 48
#define PIECE_WIDTH 96.0

void
hydra_plot_pen_init (HydraPlotPen *pen, cairo_t *cr, const double *dash, int n_dash)
{
  memset (pen, 0, sizeof *pen);
  pen->cr = cr;
  pen->dash = dash;
  pen->n_dash = n_dash;
  cairo_new_path (cr);
}

static void
pen_stroke_piece (HydraPlotPen *pen)
{
  if (pen->dash != NULL)
    cairo_set_dash (pen->cr, pen->dash, pen->n_dash, pen->piece_start);
  cairo_stroke (pen->cr);
  if (pen->dash != NULL)
    cairo_set_dash (pen->cr, NULL, 0, 0);
  pen->n = 0;
  pen->piece_start = pen->length;
}

/* Emits the newest buffered point, which becomes the anchor. */
static void
pen_emit (HydraPlotPen *pen)
{
  double x = pen->bx[pen->n_buf - 1], y = pen->by[pen->n_buf - 1];

  cairo_line_to (pen->cr, x, y);
  if (pen->dash != NULL)
    pen->length += hypot (x - pen->ax, y - pen->ay);
  pen->ax = x;
  pen->ay = y;
  pen->n_buf = 0;
  if (++pen->n >= PIECE_POINTS || fabs (x - pen->x0) >= PIECE_WIDTH)
    {
      pen_stroke_piece (pen);
      cairo_move_to (pen->cr, x, y);
      pen->x0 = x;
      pen->n = 1;
    }
}

static gboolean
pen_chord_holds (const HydraPlotPen *pen, double x, double y)
{
  double dx = x - pen->ax, dy = y - pen->ay, len = hypot (dx, dy);

  if (pen->n_buf >= HYDRA_PLOT_PEN_BUFFER)
    return FALSE;
  for (guint i = 0; i < pen->n_buf; i++)
    {
      double qx = pen->bx[i] - pen->ax, qy = pen->by[i] - pen->ay;
      double dist = len > 1e-9 ? fabs (qx * dy - qy * dx) / len : hypot (qx, qy);

      /* and not behind either end: a line that turns back is not a chord */
      if (dist > PEN_TOLERANCE || qx * dx + qy * dy < 0 || qx * dx + qy * dy > len * len)
        return FALSE;
    }
  return TRUE;
}

void
hydra_plot_pen_to (HydraPlotPen *pen, double x, double y)
{
  if (!pen->down)
    {
      cairo_move_to (pen->cr, x, y);
      pen->ax = pen->x0 = x;
      pen->ay = y;
      pen->n_buf = 0;
      pen->n++;
      pen->down = TRUE;
      return;
    }
  if (!pen_chord_holds (pen, x, y))
    pen_emit (pen);
  pen->bx[pen->n_buf] = x;
  pen->by[pen->n_buf] = y;
  pen->n_buf++;
}

void
hydra_plot_pen_lift (HydraPlotPen *pen)
{
  if (pen->down && pen->n_buf > 0)
    pen_emit (pen);
  pen->down = FALSE;
}

void
hydra_plot_pen_flush (HydraPlotPen *pen)
{
  hydra_plot_pen_lift (pen);
  pen_stroke_piece (pen);
}
