/* labels.c — who each synthetic face is: its labels, drawn with UTKFace's frequencies. */
#include "synth.h"
#include "synth-private.h"

#include "labels.h"

#define LABEL_SALT 0x6C6162656C732D31ull /* "labels-1" */

/* UTKFace's ages, per mille, in bins [edge[i], edge[i+1]); uniform within a bin. */
static const int age_edges[]
    = { 1, 2, 3, 4, 6, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 101 };
static const int age_weights[]
    = { 48, 21, 13, 20, 30, 25, 39, 97, 212, 97, 95, 49, 45, 56, 40, 31, 25, 16, 14, 10, 11, 7 };

/* UTKFace's race frequencies, per mille: white, black, asian, indian, other. */
static const int race_weights[N_RACES] = { 425, 190, 147, 166, 72 };

int
pick_weighted (HnRng *r, const int *weights, int n)
{
  int total = 0;
  for (int i = 0; i < n; i++)
    total += weights[i];
  int pick = (int) rng_below (r, (uint32_t) total), i = 0;
  while (i < n - 1 && pick >= weights[i])
    pick -= weights[i++];
  return i;
}

void
synth_labels (uint64_t seed, uint32_t index, HnFaceLabels *labels)
{
  HnRng r = { rng_splitmix64 (seed ^ LABEL_SALT, index), 0 };
  int bin = pick_weighted (&r, age_weights, N_ELEMENTS (age_weights));
  int width = age_edges[bin + 1] - age_edges[bin];
  labels->age = (uint8_t) (age_edges[bin] + (int) rng_below (&r, (uint32_t) width));
  labels->gender = (uint8_t) rng_below (&r, N_GENDERS);
  labels->race = (uint8_t) pick_weighted (&r, race_weights, N_RACES);
  labels->never_val = false;
  labels->split_key = (uint32_t) (rng_splitmix64 (seed ^ SYNTH_SPLIT_SALT, index) >> 32);
}
