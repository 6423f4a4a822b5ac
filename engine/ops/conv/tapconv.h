/* tapconv.h — a stride-1 "same" convolution on small maps as a sum over the kernel's taps.
 *
 * Tap (kh, kw) connects output position (oh, ow) to input position (oh + kh − pad,
 * ow + kw − pad) wherever both are inside the map, with the same (OC, C) slice of the weights
 * for every position. With the activations laid out position-major,
 *     xt (C, H·W·N), column (ih·W + iw)·N + n,
 * the positions a tap connects are runs of consecutive columns, so the convolution is one
 * GEMM per tap and run:
 *     yt[:, run] += w_tap (OC, C) · xt[:, run + shift],   shift = (kh − pad)·W + kw − pad,
 * and only the multiplies that read a real pixel are done. On a 2×2 map that is 16 per
 * position and channel pair, as Winograd F(2×2, 3×3) does with its one tile per image, but
 * with no arithmetic transform: the activations are only transposed to position-major and
 * back, and each tap's weights are read in place from w (OC, KH, KW, C). The
 * backward is the same read in reverse: dw_tap += dyt[:, run] · xt[:, run + shift]ᵀ and
 * dxt[:, run + shift] += w_tapᵀ · dyt[:, run].
 * Activations are channel-major as everywhere in the engine: x (C, N, H, W).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conv2d.h"

/* Whether s is a shape this file computes: stride 1, an odd square kernel, "same" padding. */
bool tapconv_fits (const Conv2dShape *s);

/* Floats of scratch: xt (C, H·W·N), yt (OC, H·W·N), dxt (C, H·W·N). */
size_t tapconv_scratch_size (const Conv2dShape *s);

/* x (C,N,H,W) · w (OC,KH,KW,C) → y (OC,N,H,W). */
void tapconv_forward (float *y, float *scratch, const float *x, const float *w,
                      const Conv2dShape *s);

/* Accumulates dw (OC,KH,KW,C), and dx (C,N,H,W) if not NULL, from dy (OC,N,H,W). */
void tapconv_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                       const float *w, const Conv2dShape *s);
