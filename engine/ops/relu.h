/* relu.h — rectified linear unit, elementwise over any layout. */
#pragma once

#include <stddef.h>

/* y = max(x, 0). y may alias x. */
void relu_forward (float *y, const float *x, size_t n);

/* dx += dy where the forward's output y > 0 (PyTorch's threshold_backward: no gradient at
 * exactly 0). dx may alias dy, in which case the gradient is masked in place. */
void relu_backward (float *dx, const float *dy, const float *y, size_t n);
