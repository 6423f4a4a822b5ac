/* bench-plot.c — how long the loss plot takes to draw a long run.
 *
 *   xvfb-run -a build/tests/ui/bench-plot [points-per-curve] [width] [height]
 *
 * Fills a series with N step points (7 loss curves, 3 gradient norms, 3 cosines, noisy and
 * decaying), shows every loss curve, and times hydra_loss_plot_render into an image surface:
 * the first draw (which also smooths every curve), the median of 20 redraws, a redraw after
 * appending 100 points (the EMA is extended, not recomputed), and the balance view.
 */

#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>

#include "hydra-loss-plot.h"

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
append (HydraSeries *series, GRand *rand, guint from, guint n, guint total)
{
  for (guint i = from; i < from + n; i++)
    {
      HydraStepPoint p = { 0 };
      double decay = exp (-4.0 * i / total);

      p.step = i + 1;
      p.epoch = i / 1000.0;
      for (guint h = 0; h < N_HEADS; h++)
        {
          double scale = h == HEAD_AGE ? 400 : h == HEAD_GENDER ? 0.7 : 1.6;

          p.loss[h] = scale * (0.3 + decay) * (1 + 0.4 * (g_rand_double (rand) - 0.5));
          p.loss[N_HEADS + h] = p.loss[h];
          p.loss[HYDRA_CURVE_TOTAL] += p.loss[h];
          p.grad_norm[h] = scale * 0.01 * (0.5 + decay) * (1 + 0.5 * g_rand_double (rand));
          p.cosine[h] = 0.3 * (g_rand_double (rand) - 0.5);
        }
      p.lr = 1e-3;
      hydra_series_add_step (series, &p);
    }
  hydra_series_commit (series);
}

static double
draw_ms (HydraLossPlot *plot, cairo_surface_t *surface, int width, int height)
{
  cairo_t *cr = cairo_create (surface);
  gint64 t0 = g_get_monotonic_time ();

  hydra_loss_plot_render (plot, cr, width, height);
  cairo_surface_flush (surface);
  cairo_destroy (cr);
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static double
median_ms (HydraLossPlot *plot, cairo_surface_t *surface, int width, int height, int runs)
{
  double t[64];

  runs = MIN (runs, 64);
  for (int i = 0; i < runs; i++)
    t[i] = draw_ms (plot, surface, width, height);
  qsort (t, runs, sizeof t[0], compare_doubles);
  return t[runs / 2];
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 100000;
  int width = argc > 2 ? atoi (argv[2]) : 1200;
  int height = argc > 3 ? atoi (argv[3]) : 600;
  g_autoptr (HydraSeries) series = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  GtkWidget *widget;
  HydraLossPlot *plot;
  cairo_surface_t *surface;
  double first, warm, append_ms, raw_only, balance;

  gtk_init ();
  if (n == 0 || width < 16 || height < 16)
    {
      g_printerr ("usage: bench-plot [points-per-curve] [width] [height]\n");
      return 2;
    }
  series = hydra_series_new ();
  append (series, rand, 0, n, n);
  widget = g_object_ref_sink (hydra_loss_plot_new ());
  plot = HYDRA_LOSS_PLOT (widget);
  hydra_loss_plot_set_series (plot, series);
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    hydra_loss_plot_set_curve_visible (plot, c, TRUE);
  hydra_loss_plot_set_log_scale (plot, TRUE);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);

  first = draw_ms (plot, surface, width, height);
  warm = median_ms (plot, surface, width, height, 20);
  append (series, rand, n, 100, n);
  append_ms = draw_ms (plot, surface, width, height);
  hydra_loss_plot_set_smoothing (plot, 0);
  raw_only = median_ms (plot, surface, width, height, 20);
  hydra_loss_plot_set_smoothing (plot, 0.6);
  hydra_loss_plot_set_view (plot, HYDRA_PLOT_BALANCE);
  balance = median_ms (plot, surface, width, height, 20);

  g_print ("{\"points_per_curve\": %u, \"curves\": %d, \"width\": %d, \"height\": %d,\n"
           " \"first_draw_ms\": %.2f, \"redraw_median_ms\": %.2f, \"after_append_100_ms\": %.2f,\n"
           " \"unsmoothed_median_ms\": %.2f, \"balance_median_ms\": %.2f}\n",
           n, HYDRA_N_CURVES, width, height, first, warm, append_ms, raw_only, balance);
  cairo_surface_destroy (surface);
  g_object_unref (widget);
  return 0;
}
