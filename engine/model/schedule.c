#include "schedule.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "nametable.h"

static const char *const names[N_SCHEDULES] = { "constant", "step", "cosine", "onecycle" };

HnSchedule
schedule_defaults (HnScheduleKind kind)
{
  return (HnSchedule) {
    .kind = kind,
    .warmup = kind == SCHEDULE_ONECYCLE ? 0.3f : kind == SCHEDULE_COSINE ? 0.05f : 0.0f,
    .gamma = 0.1f,
    .div = 25.0f,
    .final_div = 1e4f,
  };
}

const char *
schedule_name (HnScheduleKind kind)
{
  HN_ASSERT (kind >= 0 && kind < N_SCHEDULES);
  return names[kind];
}

bool
schedule_from_name (const char *name, HnScheduleKind *kind)
{
  int k = name_index (names, N_SCHEDULES, name);
  if (k >= 0)
    *kind = (HnScheduleKind) k;
  return k >= 0;
}

/* From a to b along half a cosine, as t goes from 0 to 1 (PyTorch's annealing). */
static double
cos_anneal (double a, double b, double t)
{
  return b + (a - b) * (1.0 + cos (M_PI * t)) / 2.0;
}

double
schedule_factor (const HnSchedule *s, double p)
{
  p = p < 0 ? 0 : p > 1 ? 1 : p;
  const double w = s->warmup;
  switch (s->kind)
    {
    case SCHEDULE_CONSTANT:
      return 1.0;
    case SCHEDULE_STEP:
      return p < 0.5 ? 1.0 : p < 0.75 ? s->gamma : (double) s->gamma * s->gamma;
    case SCHEDULE_COSINE:
      if (p < w)
        return p / w;
      return cos_anneal (1.0, 0.0, w < 1 ? (p - w) / (1 - w) : 1.0);
    case SCHEDULE_ONECYCLE:
      {
        const double start = 1.0 / s->div, end = start / s->final_div;
        if (p < w)
          return cos_anneal (start, 1.0, p / w);
        return cos_anneal (1.0, end, w < 1 ? (p - w) / (1 - w) : 1.0);
      }
    default:
      HN_ASSERT (!"a schedule kind");
      return 1.0;
    }
}
