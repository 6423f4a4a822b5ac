/* conv2d.h — 2-D convolution over a whole batch as one GEMM.
 *
 * Activations are channel-major, x (C, N, H, W): every channel's values for the whole batch
 * are contiguous. im2col then lays the receptive fields of all N images side by side,
 * col (KH·KW·C, N·OH·OW), and the convolution is a single product
 *     y (OC, N·OH·OW) = w (OC, KH·KW·C) · col
 * — one large GEMM per layer instead of N small ones. At 32×32 inputs the last ResNet
 * stages are 2×2 and 1×1 per image; per-image GEMMs there would be (512 × 4608) · (4608 × 1)
 * matrix–vector products that starve the FMA units. The output is again channel-major, ready
 * for the next layer and for batch-norm, which wants each channel contiguous.
 *
 * Dead taps. On small maps some kernel taps (kh, kw) read only padding at every output
 * position: a 3×3 pad-1 convolution on a 1×1 map reads a pixel with its centre tap alone.
 * A tap is live iff some output row oh has 0 ≤ oh·stride − pad + kh < H and some output column
 * ow has 0 ≤ ow·stride − pad + kw < W; rows and columns are independent, so the live taps
 * span a rectangle of L = live rows × live columns. When taps are dead, im2col lays out only
 * that rectangle, col (L·C, N·OH·OW), and the GEMM uses w's live columns gathered into scratch,
 * w_live (OC, L·C): with w laid out (OC, KH, KW, C), one run of LW·C floats per live kernel
 * row of each filter. Backward adds dw_live back at the live taps and leaves the dead taps'
 * dw as it was (their gradient is exactly zero). At 32×32 input this drops 8/9 of layer4's
 * K dimension. The copies cost OC·L·C floats each way, so this is done only when the product
 * is wide enough to repay them (a training batch, not batch-1 inference); with every tap live
 * (all of a 64×64 input) nothing changes.
 *
 * Winograd. A 3×3 stride-1 pad-1 convolution over enough output tiles goes through
 * Winograd F(2×2, 3×3) instead (winograd.h): 16 multiplies per 2×2 tile and channel pair
 * instead of 36, as 16 GEMMs over transformed tiles; on wide enough maps its backward goes
 * through F(4×4, 3×3): 36 multiplies per 4×4 tile instead of 144, as 36 GEMMs.
 * conv2d_winograd_tile() says when, and which.
 *
 * Taps. On a 2×2 map (ResNet's layer3 at a 32×32 input, layer4 at 64×64) the same layers go
 * through a sum over the kernel's taps instead (tapconv.h): one GEMM per tap over the
 * positions it connects, the 16 live multiplies per image and channel pair with no
 * transform. conv2d_uses_taps() says when.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  int n, c, h, w;    /* input (C, N, H, W) */
  int oc, kh, kw;    /* weight (OC, KH, KW, C): the engine's layout (params.h) */
  int stride, pad;
  int oh, ow;        /* output (OC, N, OH, OW) */
} Conv2dShape;

Conv2dShape conv2d_shape (int n, int c, int h, int w, int oc, int k, int stride, int pad);

/* Kernel taps the GEMM multiplies per input channel: KH·KW, or L when dead taps are left
 * out. */
int conv2d_taps (const Conv2dShape *s);

/* The m of the Winograd F(m×m, 3×3) (winograd.h) the forward (backward false) or the
 * backward of s goes through, for a 3×3 stride-1 pad-1 convolution with every tap live that
 * is wide enough to repay the transforms; 0 for the GEMM. The backward takes F(4×4) where it
 * measured faster than F(2×2); the forward stays on F(2×2), whose float error is smaller
 * (conv2d.c says why). */
int conv2d_winograd_tile (const Conv2dShape *s, bool backward);

/* Whether s goes through a sum over its kernel's taps instead (tapconv.h): a 3×3 "same"
 * convolution on a 2×2 map, wide enough that F(2×2) would have paid; then
 * conv2d_winograd_tile() is 0. */
bool conv2d_uses_taps (const Conv2dShape *s);

/* Floats of scratch the forward and backward need: the im2col buffer (L·C, N·OH·OW), plus
 * w_live (OC, L·C) when dead taps are left out, but never less than the full im2col buffer
 * (KH·KW·C, N·OH·OW), so that scratch planned for a batch serves every smaller one; 0 for a
 * 1×1 stride-1 convolution, which multiplies x directly. When s goes through Winograd, the
 * largest of that, F(2×2)'s winograd_scratch_size() and, when its backward takes F(4×4),
 * F(4×4)'s (all grow with N, and as N grows a layer goes from the GEMM to F(2×2) to F(4×4),
 * never back). */
size_t conv2d_scratch_size (const Conv2dShape *s);

/* x (C,N,H,W) · w (OC,KH,KW,C) [+ b (OC)] → y (OC,N,OH,OW). b may be NULL. */
void conv2d_forward (float *y,
                     float *col,
                     const float *x,
                     const float *w,
                     const float *b,
                     const Conv2dShape *s);

/* Accumulates dw (OC,KH,KW,C), db (OC) if not NULL, and dx (C,N,H,W) if not NULL, from
 * dy (OC,N,OH,OW). Recomputes im2col from x rather than keeping it from the forward pass. */
void conv2d_backward (float *dx,
                      float *dw,
                      float *db,
                      float *col,
                      const float *dy,
                      const float *x,
                      const float *w,
                      const Conv2dShape *s);

/* Naive direct convolution in double: the oracle the tests check the fast path against. */
void conv2d_forward_ref (double *y, const double *x, const double *w, const double *b,
                         const Conv2dShape *s);
