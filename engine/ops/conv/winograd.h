/* winograd.h — 3×3 stride-1 pad-1 convolution by Winograd's F(m×m, 3×3), m = 2 or 4
 * (Lavin & Gray).
 *
 * Each m×m block of output is computed from the α×α block of input around it, α = m + 2,
 * with α² multiplies per (output, input) channel pair instead of 9·m²: 16 for 4 outputs
 * (F(2×2)) or 36 for 16 (F(4×4)), against 36 and 144 directly.
 *     Y (m×m) = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,  g the 3×3 filter, d the α×α input tile
 * (tiles step by m and start at −pad; a tile past the edge reads zeros and writes only the
 * outputs inside). F(2×2) interpolates at 0, ±1, ∞ and F(4×4) at 0, ±1, ±2, ∞: its matrices
 * hold 4, 5, 8 and ⅙, so its float error is larger (docs/performance.md; conv2d.c uses it
 * for the backward only). Summed over input channels, the elementwise product is α² matrix
 * products, one per position ξ of the α×α transformed tile:
 *     M_ξ (OC, T) = U_ξ (OC, C) · V_ξ (C, T),  T = N·⌈H/m⌉·⌈W/m⌉ tiles,
 * with U = G g Gᵀ, V = Bᵀ d B, both laid out [α²][rows][cols] so every product reads
 * contiguous matrices. Backward is the same read in reverse: dM = A dY Aᵀ, then
 * dU_ξ = dM_ξ · V_ξᵀ (dw += Gᵀ dU G) and dV_ξ = U_ξᵀ · dM_ξ (dx += B dV Bᵀ, scatter-added).
 * Activations are channel-major as everywhere in the engine: x (C, N, H, W).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "conv2d.h"

/* Whether s is a shape this file computes: 3×3, stride 1, padding 1. */
bool winograd_fits (const Conv2dShape *s);

/* Floats of scratch for F(m×m, 3×3): U (α², OC, C), V (α², C, T), M (α², OC, T). */
size_t winograd_scratch_size (const Conv2dShape *s, int m);

/* x (C,N,H,W) · w (OC,3,3,C) → y (OC,N,H,W), by F(m×m, 3×3), m = 2 or 4. */
void winograd_forward (float *y, float *scratch, const float *x, const float *w,
                       const Conv2dShape *s, int m);

/* Accumulates dw (OC,3,3,C), and dx (C,N,H,W) if not NULL, from dy (OC,N,H,W), by
 * F(m×m, 3×3). V is recomputed from x. */
void winograd_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                        const float *w, const Conv2dShape *s, int m);
