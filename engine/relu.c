#include "relu.h"

void
relu_forward (float *y, const float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
relu_backward (float *dx, const float *dy, const float *y, size_t n)
{
  if (dx == dy)
    {
      for (size_t i = 0; i < n; i++)
        dx[i] = y[i] > 0.0f ? dx[i] : 0.0f;
      return;
    }
  for (size_t i = 0; i < n; i++)
    dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}
