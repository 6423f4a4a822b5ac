/* schedule.h — the learning rate over a run: a factor of the base rate at each point of it.
 *
 * A schedule is a shape over the run's progress p ∈ [0, 1] (the share of its steps done, or
 * of its time when the run has a time budget and that ends it sooner), so the same settings
 * fit a run of any length.
 *
 *   constant   1
 *   step       1, then ×gamma at half the run and again at three quarters (MultiStepLR)
 *   cosine     a linear warm-up from 0 over the first `warmup` of the run, then half a cosine
 *              down to 0 (a warm-up from 0, which LinearLR cannot start at, then CosineAnnealingLR)
 *   onecycle   PyTorch's OneCycleLR without momentum cycling: from 1/div up to 1 over the
 *              first `warmup` of the run (cosine), then down to 1/(div·final_div) (cosine)
 *
 * The live learning-rate control scales the whole schedule from the step it is moved on: the
 * trainer keeps that scale beside the schedule.
 */
#pragma once

#include <stdbool.h>

typedef enum
{
  SCHEDULE_CONSTANT,
  SCHEDULE_STEP,
  SCHEDULE_COSINE,
  SCHEDULE_ONECYCLE,
  N_SCHEDULES
} HnScheduleKind;

typedef struct
{
  HnScheduleKind kind;
  float warmup;    /* cosine: the warm-up's share of the run; onecycle: the rise's (0.3) */
  float gamma;     /* step: the factor at each drop (0.1) */
  float div;       /* onecycle: the start is the peak / div (25) */
  float final_div; /* onecycle: the end is the start / final_div (1e4) */
} HnSchedule;

/* PyTorch's defaults for kind. */
HnSchedule schedule_defaults (HnScheduleKind kind);

const char *schedule_name (HnScheduleKind kind); /* "constant", "step", "cosine", "onecycle" */
bool schedule_from_name (const char *name, HnScheduleKind *kind);

/* The factor of the base learning rate at progress p (clamped to [0, 1]). */
double schedule_factor (const HnSchedule *s, double p);
