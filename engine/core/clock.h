/* clock.h — monotonic seconds, for rates and progress (never for results). */
#pragma once

#include <time.h>

static inline double
hn_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec * 1e-9;
}
