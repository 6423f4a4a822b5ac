#include "vecops.h"

#include <string.h>

#include "parallel.h"

typedef struct
{
  float *y;
  const float *x;
} VecJob;

static void
zero_part (void *ctx, size_t begin, size_t end)
{
  const VecJob *j = ctx;
  memset (j->y + begin, 0, (end - begin) * sizeof (float));
}

void
vec_zero (float *x, size_t n)
{
  VecJob j = { .y = x };
  parallel_for (n, parallel_grain (1), zero_part, &j);
}

static void
add_part (void *ctx, size_t begin, size_t end)
{
  const VecJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    j->y[i] += j->x[i];
}

void
vec_add (float *y, const float *x, size_t n)
{
  VecJob j = { .y = y, .x = x };
  parallel_for (n, parallel_grain (1), add_part, &j);
}
