#include "residual.h"

#include "parallel.h"
#include "relu.h"

typedef struct
{
  float *y;
  const float *shortcut;
} ResidualJob;

static void
forward_part (void *ctx, size_t begin, size_t end)
{
  const ResidualJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    {
      float v = j->y[i] + j->shortcut[i];
      j->y[i] = v > 0.0f ? v : 0.0f;
    }
}

/* Elementwise, so each thread takes a contiguous range (parallel.h). */
void
residual_add_relu_forward (float *y, const float *shortcut, size_t n)
{
  ResidualJob j = { y, shortcut };
  parallel_for (n, parallel_grain (1), forward_part, &j);
}

void
residual_add_relu_backward (float *dy, const float *y, size_t n)
{
  relu_backward (dy, dy, y, n);
}
