#include "vecops.h"

#include <string.h>

#include "parallel.h"

typedef struct
{
  float *y;
  const float *x;
  float a;
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

static void
scale_part (void *ctx, size_t begin, size_t end)
{
  const VecJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    j->y[i] *= j->a;
}

void
vec_scale (float *x, float a, size_t n)
{
  VecJob j = { .y = x, .a = a };
  parallel_for (n, parallel_grain (1), scale_part, &j);
}
