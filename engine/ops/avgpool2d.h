/* avgpool2d.h — global average pooling: the ResNet trunk's last layer. */
#pragma once

#include <stddef.h>

/* x (C, N, H·W) → y (C, N): the mean of each plane. Channel-major in and out, so y is
 * directly the (features, batch) input of the heads' linear layers. */
void avgpool2d_forward (float *y, const float *x, int planes, int hw);

/* dx (C, N, H·W) += dy (C, N) / (H·W) */
void avgpool2d_backward (float *dx, const float *dy, int planes, int hw);
