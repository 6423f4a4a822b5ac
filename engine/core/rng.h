/* rng.h — counter-based random numbers (splitmix64).
 *
 * Value number c of stream `seed` is a pure function of (seed, c), so the C engine and the
 * Python golden-file generator (tests/golden/make_golden.py) can fill the same tensors with
 * the same numbers, and a training run can be replayed from its seed.
 */
#pragma once

#include <stdint.h>

typedef struct
{
  uint64_t seed;
  uint64_t counter; /* number of values drawn so far */
} HnRng;

uint64_t rng_splitmix64 (uint64_t seed, uint64_t counter);

/* The next value in [0, 1), a multiple of 2^-24 (exact in float). */
double rng_uniform (HnRng *rng);

/* The next standard normal value (Box–Muller, two uniforms per value). */
double rng_normal (HnRng *rng);

/* Uniform integer in [0, n). */
uint32_t rng_below (HnRng *rng, uint32_t n);
