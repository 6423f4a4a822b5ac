/* hydra-chart-axis.c — tick steps, tick positions and tick labels. */

#include "hydra-chart-axis.h"

#include <math.h>
#include <string.h>

double
hydra_chart_nice_step (double span, double max_ticks)
{
  double raw = span / MAX (max_ticks, 1.0);
  double mag, norm;

  if (!(raw > 0))
    return 1;
  mag = pow (10, floor (log10 (raw)));
  norm = raw / mag;
  if (norm <= 1.0)
    return mag;
  if (norm <= 2.0)
    return 2 * mag;
  if (norm <= 5.0)
    return 5 * mag;
  return 10 * mag;
}

void
hydra_chart_steps_init (HydraChartSteps *it, double lo, double hi, double step)
{
  it->k = ceil (lo / step - 1e-9);
  it->step = step;
  it->hi = hi;
}

gboolean
hydra_chart_steps_next (HydraChartSteps *it, double *v)
{
  double x = it->k * it->step;

  if (!(x <= it->hi + it->step * 1e-9))
    return FALSE;
  *v = fabs (x) < it->step * 1e-9 ? 0 : x;
  it->k++;
  return TRUE;
}

static void
append_superscript (GString *s, int e)
{
  static const char *digits[] = { "⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹" };
  char buf[16];

  if (e < 0)
    g_string_append (s, "⁻");
  g_snprintf (buf, sizeof buf, "%d", ABS (e));
  for (const char *c = buf; *c; c++)
    g_string_append (s, digits[*c - '0']);
}

void
hydra_chart_format_number (char *buf, gsize size, double v, int decimals)
{
  g_autoptr (GString) s = g_string_new (NULL);
  double a = fabs (v);

  if (isnan (v))
    {
      g_strlcpy (buf, "NaN", size);
      return;
    }
  if (v < 0)
    g_string_append (s, "−");
  if (isinf (v))
    g_string_append (s, "∞");
  else if (a != 0 && (a >= 1e5 || a < 1e-3))
    {
      int e = (int) floor (log10 (a));
      double m = a / pow (10, e);

      if (m >= 9.995)
        m /= 10, e++;
      if (fabs (m - 1.0) < 0.005)
        g_string_append (s, "10");
      else
        g_string_append_printf (s, "%.2f×10", m);
      append_superscript (s, e);
    }
  else
    {
      if (decimals < 0)
        decimals = a == 0 ? 0 : CLAMP (3 - (int) floor (log10 (a)), 0, 6);
      g_string_append_printf (s, "%.*f", decimals, a);
    }
  g_strlcpy (buf, s->str, size);
}

void
hydra_chart_format_rate (char *buf, gsize size, double v, int digits)
{
  double scale = pow (10, MAX (digits, 1) - 1), m;
  int e, n;

  if (!isfinite (v) || v <= 0)
    {
      hydra_chart_format_number (buf, size, v, -1);
      return;
    }
  e = (int) floor (log10 (v));
  m = round (v / pow (10, e) * scale) / scale;
  if (m >= 10)
    m /= 10, e++;
  n = g_snprintf (buf, size, "%.*f", MAX (digits, 1) - 1, m);
  /* trailing zeros, then a bare decimal separator (the locale's), go */
  if (buf[strspn (buf, "0123456789")] != '\0')
    {
      while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
      if (n > 0 && !g_ascii_isdigit (buf[n - 1]))
        buf[--n] = '\0';
    }
  g_snprintf (buf + n, size - n, "e%d", e);
}

guint
hydra_chart_linear_ticks (double lo, double hi, double max_ticks, gboolean integer,
                          HydraChartTick *ticks)
{
  double step = hydra_chart_nice_step (hi - lo, max_ticks);
  HydraChartSteps it;
  int decimals;
  double v;
  guint n = 0;

  if (integer)
    step = MAX (step, 1.0);
  decimals = MAX (0, -(int) floor (log10 (step) + 1e-9));
  for (hydra_chart_steps_init (&it, lo, hi, step);
       n < HYDRA_CHART_MAX_TICKS && hydra_chart_steps_next (&it, &v);)
    {
      ticks[n].v = v;
      ticks[n].major = TRUE;
      hydra_chart_format_number (ticks[n].label, sizeof ticks[n].label, v, decimals);
      n++;
    }
  return n;
}

/* m × 10^e: plainly near 1, as a power of ten beyond. */
static void
format_log_tick (char *buf, gsize size, double m, int e)
{
  if (e >= -3 && e <= 4)
    hydra_chart_format_number (buf, size, m * pow (10, e), MAX (0, -e));
  else
    {
      g_autoptr (GString) s = g_string_new (NULL);

      if (m != 1)
        g_string_append_printf (s, "%g×", m);
      g_string_append (s, "10");
      append_superscript (s, e);
      g_strlcpy (buf, s->str, size);
    }
}

guint
hydra_chart_log_ticks (double llo, double lhi, double max_ticks, HydraChartTick *ticks)
{
  double span = lhi - llo;
  int d0 = (int) floor (llo), d1 = (int) ceil (lhi);
  int every = MAX (1, (int) ceil (span / MAX (max_ticks, 1.0)));
  gboolean label_2_5 = span * 3 <= max_ticks;
  guint n = 0;

  if (span < 0.6)
    {
      HydraChartTick lin[HYDRA_CHART_MAX_TICKS];
      guint m = hydra_chart_linear_ticks (pow (10, llo), pow (10, lhi), max_ticks, FALSE, lin);

      for (guint i = 0; i < m; i++)
        if (lin[i].v > 0)
          {
            ticks[n] = lin[i];
            ticks[n++].v = log10 (lin[i].v);
          }
      return n;
    }
  for (int d = d0; d <= d1 && n < HYDRA_CHART_MAX_TICKS; d++)
    for (int k = 1; k <= 9 && n < HYDRA_CHART_MAX_TICKS; k++)
      {
        double v = d + log10 (k);
        gboolean major = (k == 1 && d % every == 0) || (label_2_5 && (k == 2 || k == 5));

        if (v < llo - 1e-9 || v > lhi + 1e-9)
          continue;
        if (k != 1 && span > 5.0)
          continue;
        ticks[n].v = v;
        ticks[n].major = major;
        ticks[n].label[0] = '\0';
        if (major)
          format_log_tick (ticks[n].label, sizeof ticks[n].label, k, d);
        n++;
      }
  return n;
}
