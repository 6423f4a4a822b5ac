/* bench-plot.c — how long the loss plot takes to draw a long run.
 *
 *   xvfb-run -a build/tests/ui/bench-plot [points-per-curve] [width] [height]
 *
 * Fills a series with N step points (7 loss curves, 3 gradient norms, 3 cosines, noisy and
 * decaying), shows every loss curve, and times hydra_loss_plot_render into an image surface:
 * the first draw (which also smooths every curve), the median of 20 redraws, a redraw after
 * appending 100 points (the EMA is extended, not recomputed), the same without smoothing (no
 * faint raw curves behind), and the balance view. Wall and CPU milliseconds, as JSON.
 */

#include <gtk/gtk.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

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

/* CPU time of this thread: on a shared two-core machine, wall time mostly measures the
 * neighbours. Both are reported. */
static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct
{
  double wall, cpu;
} Timing;

static Timing
draw_ms (HydraLossPlot *plot, cairo_surface_t *surface, int width, int height)
{
  cairo_t *cr = cairo_create (surface);
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_ms ();
  Timing t;

  hydra_loss_plot_render (plot, cr, width, height);
  cairo_surface_flush (surface);
  cairo_destroy (cr);
  t.cpu = cpu_ms () - c0;
  t.wall = (g_get_monotonic_time () - t0) / 1000.0;
  return t;
}

static Timing
median_ms (HydraLossPlot *plot, cairo_surface_t *surface, int width, int height, int runs)
{
  double wall[64], cpu[64];

  runs = MIN (runs, 64);
  for (int i = 0; i < runs; i++)
    {
      Timing t = draw_ms (plot, surface, width, height);

      wall[i] = t.wall;
      cpu[i] = t.cpu;
    }
  qsort (wall, runs, sizeof wall[0], compare_doubles);
  qsort (cpu, runs, sizeof cpu[0], compare_doubles);
  return (Timing){ wall[runs / 2], cpu[runs / 2] };
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
  Timing first, warm, append_ms, raw_only, balance;

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

  g_print (
      "{\"points_per_curve\": %u, \"curves\": %d, \"width\": %d, \"height\": %d,\n"
      " \"wall_ms\": {\"first_draw\": %.2f, \"redraw_median\": %.2f, \"after_append_100\": %.2f,"
      " \"unsmoothed_median\": %.2f, \"balance_median\": %.2f},\n"
      " \"cpu_ms\": {\"first_draw\": %.2f, \"redraw_median\": %.2f, \"after_append_100\": %.2f,"
      " \"unsmoothed_median\": %.2f, \"balance_median\": %.2f}}\n",
      n, HYDRA_N_CURVES, width, height, first.wall, warm.wall, append_ms.wall, raw_only.wall,
      balance.wall, first.cpu, warm.cpu, append_ms.cpu, raw_only.cpu, balance.cpu);
  cairo_surface_destroy (surface);
  g_object_unref (widget);
  return 0;
}
