/* vecops.h — clearing, adding and scaling float vectors, cut between the engine's threads.
 *
 * A training step clears and sums activation-sized buffers between its layers (and clears
 * 45 MB of gradients before it starts). Each is a pass over memory, faster on two cores than
 * on one, and on one it would leave the other core waiting.
 */
#pragma once

#include <stddef.h>

/* x[0 … n) = 0 */
void vec_zero (float *x, size_t n);

/* y += x, n floats */
void vec_add (float *y, const float *x, size_t n);

/* x *= a, n floats */
void vec_scale (float *x, float a, size_t n);
