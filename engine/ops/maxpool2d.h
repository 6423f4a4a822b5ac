/* maxpool2d.h — max pooling (ResNet's 3×3, stride 2, padding 1) over channel-major x. */
#pragma once

#include <stdint.h>

typedef struct
{
  int planes;     /* C·N: pooling treats every (channel, image) plane alike */
  int h, w;       /* input plane */
  int k, stride, pad;
  int oh, ow;     /* output plane */
} MaxPool2dShape;

MaxPool2dShape maxpool2d_shape (int planes, int h, int w, int k, int stride, int pad);

/* x (C,N,H,W) → y (C,N,OH,OW); argmax (C,N,OH,OW) caches the winning input index within its
 * plane for the backward pass. Padding never wins (it is −∞). Ties go to the first maximum
 * in row-major window order, as PyTorch's CPU kernel does — after a ReLU many windows are
 * all zeros, and the tie rule decides where their gradient goes. */
void maxpool2d_forward (float *y, int32_t *argmax, const float *x, const MaxPool2dShape *s);

/* dx (C,N,H,W) += dy routed to each window's argmax. */
void maxpool2d_backward (float *dx, const float *dy, const int32_t *argmax,
                         const MaxPool2dShape *s);

/* Naive double forward: the gradient-check oracle. */
void maxpool2d_forward_ref (double *y, const double *x, const MaxPool2dShape *s);
