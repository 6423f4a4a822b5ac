#include "rng.h"

#include <math.h>

uint64_t
rng_splitmix64 (uint64_t seed, uint64_t counter)
{
  uint64_t z = seed + counter * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double
rng_uniform (HnRng *rng)
{
  rng->counter++;
  return (double) (rng_splitmix64 (rng->seed, rng->counter) >> 40) * (1.0 / 16777216.0);
}

double
rng_normal (HnRng *rng)
{
  /* 1 − u lies in (0, 1], so the log is finite. */
  double u1 = 1.0 - rng_uniform (rng);
  double u2 = rng_uniform (rng);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

uint32_t
rng_below (HnRng *rng, uint32_t n)
{
  rng->counter++;
  return (uint32_t) (((rng_splitmix64 (rng->seed, rng->counter) >> 32) * n) >> 32);
}
