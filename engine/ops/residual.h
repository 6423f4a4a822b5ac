/* residual.h — the skip connection of a BasicBlock: out = relu(main + shortcut). */
#pragma once

#include <stddef.h>

/* y += shortcut, then y = max(y, 0): the block's sum and its final ReLU in one pass. */
void residual_add_relu_forward (float *y, const float *shortcut, size_t n);

/* The sum's backward is the identity for both branches, so only the ReLU needs undoing:
 * dy is masked in place by the forward's output y, and both branches then read it. */
void residual_add_relu_backward (float *dy, const float *y, size_t n);
