#include "residual.h"

#include "relu.h"

void
residual_add_relu_forward (float *y, const float *shortcut, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float v = y[i] + shortcut[i];
      y[i] = v > 0.0f ? v : 0.0f;
    }
}

void
residual_add_relu_backward (float *dy, const float *y, size_t n)
{
  relu_backward (dy, dy, y, n);
}
