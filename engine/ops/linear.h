/* linear.h — fully connected layer on feature-major activations.
 *
 * x (IN, N) → y (OUT, N) = w (OUT, IN) · x + b: the batch is the GEMM's wide dimension,
 * matching the channel-major layout of the trunk. w has PyTorch's (out, in) shape.
 */
#pragma once

void linear_forward (float *y, const float *x, const float *w, const float *b, int in, int out,
                     int n);

/* Accumulates dw (OUT, IN), db (OUT) and, if not NULL, dx (IN, N), from dy (OUT, N). */
void linear_backward (float *dx, float *dw, float *db, const float *dy, const float *x,
                      const float *w, int in, int out, int n);

/* Naive double forward: the oracle for the GEMM path. */
void linear_forward_ref (double *y, const double *x, const double *w, const double *b, int in,
                         int out, int n);
