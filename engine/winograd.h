/* winograd.h — 3×3 stride-1 pad-1 convolution by Winograd's F(2×2, 3×3) (Lavin & Gray).
 *
 * Each 2×2 block of output is computed from the 4×4 block of input around it with 16
 * multiplies per (output, input) channel pair instead of 36:
 *     Y (2×2) = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,  g the 3×3 filter, d the 4×4 input tile
 * (tiles step by 2 and start at −pad; a tile past the edge reads zeros and writes only the
 * outputs inside). Summed over input channels, the elementwise product is 16 matrix products,
 * one per position ξ of the 4×4 transformed tile:
 *     M_ξ (OC, T) = U_ξ (OC, C) · V_ξ (C, T),  T = N·⌈H/2⌉·⌈W/2⌉ tiles,
 * with U = G g Gᵀ, V = Bᵀ d B, both laid out [16][rows][cols] so every product reads
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

/* Floats of scratch: U (16, OC, C), V (16, C, T), M (16, OC, T). */
size_t winograd_scratch_size (const Conv2dShape *s);

/* x (C,N,H,W) · w (OC,C,3,3) → y (OC,N,H,W). */
void winograd_forward (float *y, float *scratch, const float *x, const float *w,
                       const Conv2dShape *s);

/* Accumulates dw (OC,C,3,3), and dx (C,N,H,W) if not NULL, from dy (OC,N,H,W). V is
 * recomputed from x. */
void winograd_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                        const float *w, const Conv2dShape *s);
