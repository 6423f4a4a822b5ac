#include "linear.h"

#include <stddef.h>

#include "gemm.h"

void
linear_forward (float *y, const float *x, const float *w, const float *b, int in, int out, int n)
{
  for (int o = 0; o < out; o++)
    for (int j = 0; j < n; j++)
      y[(size_t) o * n + j] = b[o];
  /* y (OUT, N) += w (OUT, IN) · x (IN, N) */
  gemm (false, false, out, n, in, 1.0f, w, in, x, n, 1.0f, y, n);
}

void
linear_backward (float *dx, float *dw, float *db, const float *dy, const float *x,
                 const float *w, int in, int out, int n)
{
  /* dw (OUT, IN) += dy (OUT, N) · xᵀ (N, IN) */
  gemm (false, true, out, in, n, 1.0f, dy, n, x, n, 1.0f, dw, in);
  for (int o = 0; o < out; o++)
    {
      float sum = 0.0f;
      for (int j = 0; j < n; j++)
        sum += dy[(size_t) o * n + j];
      db[o] += sum;
    }
  /* dx (IN, N) += wᵀ (IN, OUT) · dy (OUT, N) */
  if (dx != NULL)
    gemm (true, false, in, n, out, 1.0f, w, in, dy, n, 1.0f, dx, n);
}

void
linear_forward_ref (double *y, const double *x, const double *w, const double *b, int in,
                    int out, int n)
{
  for (int o = 0; o < out; o++)
    for (int j = 0; j < n; j++)
      {
        double sum = b[o];
        for (int i = 0; i < in; i++)
          sum += w[(size_t) o * in + i] * x[(size_t) i * n + j];
        y[(size_t) o * n + j] = sum;
      }
}
