#include "avgpool2d.h"

void
avgpool2d_forward (float *y, const float *x, int planes, int hw)
{
  for (int p = 0; p < planes; p++)
    {
      float sum = 0.0f;
      for (int i = 0; i < hw; i++)
        sum += x[(size_t) p * hw + i];
      y[p] = sum / (float) hw;
    }
}

void
avgpool2d_backward (float *dx, const float *dy, int planes, int hw)
{
  for (int p = 0; p < planes; p++)
    {
      float g = dy[p] / (float) hw;
      for (int i = 0; i < hw; i++)
        dx[(size_t) p * hw + i] += g;
    }
}
