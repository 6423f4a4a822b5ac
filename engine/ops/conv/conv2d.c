#include "conv2d.h"

#include <string.h>

#include "error.h"
#include "gemm.h"
#include "parallel.h"
#include "tapconv.h"
#include "winograd.h"

Conv2dShape
conv2d_shape (int n, int c, int h, int w, int oc, int k, int stride, int pad)
{
  HN_ASSERT (n > 0 && c > 0 && h > 0 && w > 0 && oc > 0 && k > 0 && stride > 0 && pad >= 0);
  Conv2dShape s = { .n = n, .c = c, .h = h, .w = w, .oc = oc, .kh = k, .kw = k,
                    .stride = stride, .pad = pad };
  s.oh = (h + 2 * pad - k) / stride + 1;
  s.ow = (w + 2 * pad - k) / stride + 1;
  HN_ASSERT (s.oh > 0 && s.ow > 0);
  return s;
}

static bool
is_pointwise (const Conv2dShape *s)
{
  return s->kh == 1 && s->kw == 1 && s->stride == 1 && s->pad == 0;
}

/* The kernel taps kh ∈ [kh0, kh1), kw ∈ [kw0, kw1) that im2col lays out. */
typedef struct
{
  int kh0, kh1, kw0, kw1;
} Taps;

/* The taps [*k0, *k1) of one axis that read a real pixel at some output position o:
 * 0 ≤ o·stride − pad + k < size, i.e. k ∈ [pad − o·stride, size + pad − o·stride) ∩ [0, K).
 * The range is the hull of these over all o. Each o's range is size taps wide and the next
 * one starts stride taps lower, so the live taps have no gap unless stride > size; a dead tap
 * inside the hull still reads only zeros. An axis with no live tap keeps one, so that the
 * GEMM's K stays at least 1 (it multiplies zeros). */
static void
live_axis (int *k0, int *k1, int k, int size, int out, int stride, int pad)
{
  *k0 = k;
  *k1 = 0;
  for (int o = 0; o < out; o++)
    {
      int lo = pad - o * stride, hi = size + pad - o * stride;
      lo = lo > 0 ? lo : 0;
      hi = hi < k ? hi : k;
      if (lo >= hi)
        continue;
      *k0 = lo < *k0 ? lo : *k0;
      *k1 = hi > *k1 ? hi : *k1;
    }
  if (*k0 >= *k1)
    *k0 = 0, *k1 = 1;
}

static int
taps_count (const Taps *t)
{
  return (t->kh1 - t->kh0) * (t->kw1 - t->kw0);
}

/* Leaving dead taps out is not free: each pass copies the live taps of w to scratch (and
 * backward adds dw_live back), OC·C·L floats, while the product drops OC·C·(KH·KW − L)·cols
 * multiply–adds. It is done once 40 are dropped per float copied, where it measured faster
 * (docs/performance.md): from batch 5 for a 3×3 on a 1×1 map (L = 1), from batch 32 for
 * 2×2 → 1×1 at stride 2 (L = 4). Batch-1 inference keeps the full product: a matrix–vector
 * product that reads w once anyway. */
static bool
dead_taps_pay (const Conv2dShape *s, const Taps *live)
{
  const long cols = (long) s->n * s->oh * s->ow, l = taps_count (live);
  return cols * (s->kh * s->kw - l) >= 40 * l;
}

/* The taps im2col lays out: the live ones when leaving the others out pays, else all. Rows
 * and columns are independent: the live taps are live rows × live columns. */
static Taps
conv_taps (const Conv2dShape *s)
{
  Taps t;
  live_axis (&t.kh0, &t.kh1, s->kh, s->h, s->oh, s->stride, s->pad);
  live_axis (&t.kw0, &t.kw1, s->kw, s->w, s->ow, s->stride, s->pad);
  if (!dead_taps_pay (s, &t))
    t = (Taps) { 0, s->kh, 0, s->kw };
  return t;
}

static bool
taps_all (const Taps *t, const Conv2dShape *s)
{
  return taps_count (t) == s->kh * s->kw;
}

int
conv2d_taps (const Conv2dShape *s)
{
  const Taps t = conv_taps (s);
  return taps_count (&t);
}

/* Winograd F(2×2, 3×3) (winograd.h) multiplies 16 times per 2×2 output tile and channel
 * pair where the GEMM multiplies 36, but pays for its transforms: U (16, OC, C) on every pass
 * whatever the batch, and V and M per tile and channel. So it needs enough tiles,
 * T = N·⌈H/2⌉·⌈W/2⌉, to repay U, and more of them the fewer the channels: at least 40 tiles
 * and C·T ≥ 2¹³, where it measured faster than the GEMM (docs/performance.md). Batch-1
 * inference at 32×32 and 64×64 (at most 64 tiles, at C = 64) keeps the GEMM. A 1-pixel-wide
 * map has dead taps and is left to the GEMM (the dead-taps path, or a 16-for-9 loss). */
static bool
f2_pays (const Conv2dShape *s)
{
  const long tiles = (long) s->n * ((s->h + 1) / 2) * ((s->w + 1) / 2);
  return s->h >= 2 && s->w >= 2 && tiles >= 40 && tiles * s->c >= (1 << 13);
}

/* F(4×4, 3×3) multiplies 36 times per 4×4 tile where F(2×2) multiplies 64 (4 tiles of 16),
 * but its U has 36 planes instead of 16, and a map that is not a multiple of 4 wastes more of
 * its tiles: a 2×2 map is one 4×4 tile per image, 36 multiplies for 4 outputs against 16.
 * Its time follows the transformed values, 36·T₄ against 16·T₂, once U's cost is repaid,
 * from about 32 tiles of 4×4 whatever C (docs/performance.md). So: where F(2×2) pays, at
 * least 32 tiles, T₄ = N·⌈H/4⌉·⌈W/4⌉, and at most ⅞ of F(2×2)'s transformed values. At
 * batch 64 that is every ResNet-18 stage with maps of 4×4 or more; 2×2 maps stay off it, and
 * batch 1 on the GEMM. */
static bool
f4_pays (const Conv2dShape *s)
{
  const long t2 = (long) s->n * ((s->h + 1) / 2) * ((s->w + 1) / 2);
  const long t4 = (long) s->n * ((s->h + 3) / 4) * ((s->w + 3) / 4);
  return t4 >= 32 && 8 * 36 * t4 <= 7 * 16 * t2;
}

/* Only the backward goes through F(4×4). Its float error is several times F(2×2)'s
 * (docs/performance.md), and a forward error compounds through every later layer, amplified
 * by train-mode batch-norm over a narrow batch: F(4×4) forwards put the heads' outputs on
 * the golden batch repeated to 64 (tests/test-model.c) outside PyTorch's tolerance. The
 * backward's error stays in the gradients, which match as closely as with F(2×2).
 *
 * F(4×4) is taken only where F(2×2) would be, and both conditions grow true with N: as the
 * batch grows a layer goes from the GEMM to F(2×2) to F(4×4), never back. */
int
conv2d_winograd_tile (const Conv2dShape *s, bool backward)
{
  if (!winograd_fits (s) || !f2_pays (s) || conv2d_uses_taps (s))
    return 0;
  return backward && f4_pays (s) ? 4 : 2;
}

/* On a 2×2 map F(2×2) is one tile per image: its 16 multiplies per image and channel pair are
 * the live ones a sum over taps does too (tapconv.h), but it transforms the weights into 16
 * planes of OC·C on every pass, and the inputs and outputs besides. So the taps take every
 * 2×2 map F(2×2) would, and batch 1 keeps the GEMM. On 4×4 maps a tap's product covers
 * fewer positions, and the taps measured slower than Winograd (docs/performance.md). */
bool
conv2d_uses_taps (const Conv2dShape *s)
{
  return tapconv_fits (s) && winograd_fits (s) && s->h == 2 && s->w == 2 && f2_pays (s);
}

/* Scratch: col (L·C, N·OH·OW) for the L taps laid out, then, when dead taps are left out,
 * w_live (OC, L·C): the live taps of w (forward) or of dw (backward). Never less than the
 * full im2col buffer, so that the size grows with N across the switch between the two: a
 * narrow batch that keeps every tap can need more than a wider one that leaves most out
 * (when OC < 40), and the model runs smaller batches in the scratch planned for its largest. */
size_t
conv2d_scratch_size (const Conv2dShape *s)
{
  if (is_pointwise (s))
    return 0;
  const Taps t = conv_taps (s);
  const size_t cols = (size_t) s->n * s->oh * s->ow;
  const size_t full = (size_t) s->c * s->kh * s->kw * cols;
  const size_t k = (size_t) s->c * taps_count (&t);
  const size_t reduced = k * cols + (size_t) s->oc * k;
  const size_t gemm_path = taps_all (&t, s) || reduced < full ? full : reduced;
  if (conv2d_uses_taps (s))
    {
      const size_t taps = tapconv_scratch_size (s);
      return taps > gemm_path ? taps : gemm_path;
    }
  const int m = conv2d_winograd_tile (s, true);
  if (m == 0)
    return gemm_path;
  /* F(2×2)'s also under F(4×4): the forward and smaller batches of the layer take F(2×2) */
  size_t wino = winograd_scratch_size (s, 2);
  if (m == 4 && winograd_scratch_size (s, 4) > wino)
    wino = winograd_scratch_size (s, 4);
  return wino > gemm_path ? wino : gemm_path;
}

/* The output columns [*lo, *hi) whose input column iw = ow·stride − pad + kw lies inside a
 * row of width W; the others read padding. */
static void
inside_columns (const Conv2dShape *s, int kw, int *lo, int *hi)
{
  const int first = s->pad - kw, last = s->w - 1 + s->pad - kw; /* ow·stride ∈ [first, last] */
  *hi = last < 0 ? 0 : last / s->stride + 1;
  *hi = *hi < s->ow ? *hi : s->ow;
  *lo = first <= 0 ? 0 : (first + s->stride - 1) / s->stride;
  *lo = *lo < *hi ? *lo : *hi;
}

typedef struct
{
  float *col, *dx, *dcol;
  const float *x;
  const Conv2dShape *s;
  const Taps *t;
} ColJob;

/* out[ow] = in[(ow − lo)·stride] for ow ∈ [lo, hi); inlined with stride 2 below, where GCC
 * vectorizes it (the stride-2 convolutions: the stem and the first of each stage). */
static inline void
strided_copy (float *out, const float *in, int lo, int hi, int stride)
{
  for (int ow = lo; ow < hi; ow++)
    out[ow] = in[(ow - lo) * stride];
}

/* The row of col that holds channel c's values at tap (kh, kw): rows go tap by tap, the C
 * channels of each tap together, as the weights' columns do, w (OC, KH, KW, C) (params.h). */
static size_t
col_row (const Conv2dShape *s, const Taps *t, size_t c, int kh, int kw)
{
  const int lw = t->kw1 - t->kw0;
  return ((size_t) (kh - t->kh0) * lw + (kw - t->kw0)) * s->c + c;
}

/* x (C, N, H, W) → col (L·C, N·OH·OW) over the taps t; row (kh − kh0, kw − kw0, c), column
 * (n, oh, ow). Padding reads as zero. With all taps laid out, L = KH·KW. Cut by kernel rows
 * (c, kh), [u0, u1) of them, each writing its own rows of col: the stem has only 3 channels,
 * which split 2 : 1 between two threads. */
static void
im2col_part (void *ctx, size_t u0, size_t u1)
{
  const ColJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const size_t plane = (size_t) s->h * s->w;
  const size_t cols = (size_t) s->n * s->oh * s->ow;
  const int lh = t->kh1 - t->kh0;
  for (size_t u = u0; u < u1; u++)
    {
      const size_t c = u / lh;
      const int kh = t->kh0 + (int) (u % lh);
      for (int kw = t->kw0; kw < t->kw1; kw++)
        {
          float *row = j->col + col_row (s, t, c, kh, kw) * cols;
          int lo, hi;
          inside_columns (s, kw, &lo, &hi);
          const int iw0 = lo * s->stride - s->pad + kw;
          for (int n = 0; n < s->n; n++)
            {
              const float *xp = j->x + (c * s->n + n) * plane;
              for (int oh = 0; oh < s->oh; oh++)
                {
                  const int ih = oh * s->stride - s->pad + kh;
                  float *out = row + ((size_t) n * s->oh + oh) * s->ow;
                  if (ih < 0 || ih >= s->h)
                    {
                      memset (out, 0, sizeof (float) * s->ow);
                      continue;
                    }
                  const float *in = xp + (size_t) ih * s->w + iw0;
                  memset (out, 0, sizeof (float) * lo);
                  if (s->stride == 1)
                    memcpy (out + lo, in, sizeof (float) * (hi - lo));
                  else if (s->stride == 2)
                    strided_copy (out, in, lo, hi, 2);
                  else
                    strided_copy (out, in, lo, hi, s->stride);
                  memset (out + hi, 0, sizeof (float) * (s->ow - hi));
                }
            }
        }
    }
}

/* The adjoint of im2col, channels [c0, c1): dx (C, N, H, W) += scatter of dcol (L·C, N·OH·OW). */
static void
col2im_add_part (void *ctx, size_t c0, size_t c1)
{
  const ColJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const size_t plane = (size_t) s->h * s->w;
  const size_t cols = (size_t) s->n * s->oh * s->ow;
  for (size_t c = c0; c < c1; c++)
    for (int kh = t->kh0; kh < t->kh1; kh++)
      for (int kw = t->kw0; kw < t->kw1; kw++)
        {
          const float *row = j->dcol + col_row (s, t, c, kh, kw) * cols;
          int lo, hi;
          inside_columns (s, kw, &lo, &hi);
          const int iw0 = lo * s->stride - s->pad + kw;
          for (int n = 0; n < s->n; n++)
            {
              float *xp = j->dx + (c * s->n + n) * plane;
              for (int oh = 0; oh < s->oh; oh++)
                {
                  const int ih = oh * s->stride - s->pad + kh;
                  if (ih < 0 || ih >= s->h)
                    continue;
                  const float *in = row + ((size_t) n * s->oh + oh) * s->ow;
                  float *out = xp + (size_t) ih * s->w + iw0;
                  for (int ow = lo; ow < hi; ow++)
                    out[(ow - lo) * s->stride] += in[ow];
                }
            }
        }
}

/* A stride-1 convolution whose output is the size of its input ("same" padding, every 3×3
 * of ResNet but the first of a stage): row (kh, kw, c) of col is channel c's N·H·W values,
 * contiguous in x, shifted by d = (kh − pad)·W + (kw − pad), except where the shift carries a
 * position across the top or bottom of its plane or the side of its row: there the tap reads
 * padding. So a row is one copy plus those positions, instead of a copy per image row. */
static bool
is_same (const Conv2dShape *s)
{
  return s->stride == 1 && s->oh == s->h && s->ow == s->w;
}

static ptrdiff_t
same_shift (const Conv2dShape *s, int kh, int kw)
{
  return (ptrdiff_t) (kh - s->pad) * s->w + (kw - s->pad);
}

/* Sets the positions of a col row (N, H, W) where tap (kh, kw) reads padding to zero. */
static void
zero_padding_reads (float *row, const Conv2dShape *s, int kh, int kw)
{
  const int dh = kh - s->pad, dw = kw - s->pad;
  if (dh == 0 && dw == 0)
    return; /* the centre tap never leaves the plane */
  /* rows [top, bottom) and columns [left, right) read inside the plane; clamped, since with
   * pad ≥ H or W (a 5×5 on a 1-wide map) a tap can miss the plane altogether */
  const int top = dh < 0 ? (-dh < s->h ? -dh : s->h) : 0;
  const int bottom = dh > 0 ? (s->h - dh > 0 ? s->h - dh : 0) : s->h;
  const int left = dw < 0 ? (-dw < s->w ? -dw : s->w) : 0;
  const int right = dw > 0 ? (s->w - dw > 0 ? s->w - dw : 0) : s->w;
  for (int n = 0; n < s->n; n++)
    {
      float *plane = row + (size_t) n * s->h * s->w;
      for (int oh = 0; oh < s->h; oh++)
        {
          float *r = plane + (size_t) oh * s->w;
          if (oh < top || oh >= bottom)
            {
              memset (r, 0, sizeof (float) * s->w);
              continue;
            }
          for (int ow = 0; ow < left; ow++)
            r[ow] = 0.0f;
          for (int ow = right; ow < s->w; ow++)
            r[ow] = 0.0f;
        }
    }
}

/* The indices [*lo, *hi) of a row of `total` for which i + d stays inside it. */
static void
shifted_span (size_t total, ptrdiff_t d, size_t *lo, size_t *hi)
{
  const size_t shift = (size_t) (d < 0 ? -d : d);
  if (shift >= total)
    {
      *lo = *hi = 0;
      return;
    }
  *lo = d < 0 ? shift : 0;
  *hi = d > 0 ? total - shift : total;
}

static void
im2col_same_part (void *ctx, size_t c0, size_t c1)
{
  const ColJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const size_t total = (size_t) s->n * s->h * s->w; /* = cols */
  for (size_t c = c0; c < c1; c++)
    for (int kh = t->kh0; kh < t->kh1; kh++)
      for (int kw = t->kw0; kw < t->kw1; kw++)
        {
          float *row = j->col + col_row (s, t, c, kh, kw) * total;
          const float *xc = j->x + c * total;
          const ptrdiff_t d = same_shift (s, kh, kw);
          size_t lo, hi;
          shifted_span (total, d, &lo, &hi);
          memset (row, 0, sizeof (float) * lo);
          memcpy (row + lo, xc + lo + d, sizeof (float) * (hi - lo));
          memset (row + hi, 0, sizeof (float) * (total - hi));
          zero_padding_reads (row, s, kh, kw);
        }
}

/* The adjoint: the positions that read padding are cleared in dcol (scratch), then the whole
 * row is added back along the same shift. */
static void
col2im_add_same_part (void *ctx, size_t c0, size_t c1)
{
  const ColJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const size_t total = (size_t) s->n * s->h * s->w;
  for (size_t c = c0; c < c1; c++)
    for (int kh = t->kh0; kh < t->kh1; kh++)
      for (int kw = t->kw0; kw < t->kw1; kw++)
        {
          float *row = j->dcol + col_row (s, t, c, kh, kw) * total;
          float *dxc = j->dx + c * total;
          const ptrdiff_t d = same_shift (s, kh, kw);
          size_t lo, hi;
          shifted_span (total, d, &lo, &hi);
          zero_padding_reads (row, s, kh, kw);
          for (size_t i = lo; i < hi; i++)
            dxc[i + d] += row[i];
        }
}

/* Each channel's rows of col (and its plane of dx) belong to one thread. */
static size_t
channel_grain (const Conv2dShape *s, const Taps *t)
{
  return parallel_grain ((size_t) taps_count (t) * s->n * s->oh * s->ow);
}

static void
im2col (float *col, const float *x, const Conv2dShape *s, const Taps *t)
{
  ColJob j = { .col = col, .x = x, .s = s, .t = t };
  if (is_same (s))
    {
      parallel_for ((size_t) s->c, channel_grain (s, t), im2col_same_part, &j);
      return;
    }
  const size_t lh = (size_t) (t->kh1 - t->kh0), lw = (size_t) (t->kw1 - t->kw0);
  parallel_for (s->c * lh, parallel_grain (lw * s->n * s->oh * s->ow), im2col_part, &j);
}

/* dcol is scratch: the "same" path clears its padding reads in place. */
static void
col2im_add (float *dx, float *dcol, const Conv2dShape *s, const Taps *t)
{
  ColJob j = { .dx = dx, .dcol = dcol, .s = s, .t = t };
  parallel_for ((size_t) s->c, channel_grain (s, t),
                is_same (s) ? col2im_add_same_part : col2im_add_part, &j);
}

typedef struct
{
  float *out;
  const float *in;
  const Conv2dShape *s;
  const Taps *t;
} TapsJob;

/* w (OC, KH, KW, C) → w_live (OC, L·C): the taps t of filters [o0, o1), in im2col's row
 * order. Each live kernel row of a filter is one run of LW·C floats in both. */
static void
gather_taps_part (void *ctx, size_t o0, size_t o1)
{
  const TapsJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const int lh = t->kh1 - t->kh0, lw = t->kw1 - t->kw0;
  const size_t run = (size_t) lw * s->c;
  for (size_t o = o0; o < o1; o++)
    for (int i = 0; i < lh; i++)
      memcpy (j->out + (o * lh + i) * run,
              j->in + ((o * s->kh + t->kh0 + i) * s->kw + t->kw0) * s->c, run * sizeof (float));
}

/* The adjoint of gather_taps_part, accumulating: dw (OC, KH, KW, C) += dw_live (OC, L·C) at
 * the taps t. The taps left out are dead, with a zero gradient: their dw is left as it is. */
static void
scatter_add_taps_part (void *ctx, size_t o0, size_t o1)
{
  const TapsJob *j = ctx;
  const Conv2dShape *s = j->s;
  const Taps *t = j->t;
  const int lh = t->kh1 - t->kh0, lw = t->kw1 - t->kw0;
  const size_t run = (size_t) lw * s->c;
  for (size_t o = o0; o < o1; o++)
    for (int i = 0; i < lh; i++)
      {
        float *dw = j->out + ((o * s->kh + t->kh0 + i) * s->kw + t->kw0) * s->c;
        const float *dw_live = j->in + (o * lh + i) * run;
        for (size_t e = 0; e < run; e++)
          dw[e] += dw_live[e];
      }
}

/* Either of the two above over every filter, on the pool. */
static void
taps_relayout (ParallelFn fn, float *out, const float *in, const Conv2dShape *s, const Taps *t)
{
  TapsJob j = { .out = out, .in = in, .s = s, .t = t };
  parallel_for ((size_t) s->oc, parallel_grain ((size_t) s->c * taps_count (t)), fn, &j);
}

/* y (OC, cols) += b (OC), if b is not NULL. */
static void
bias_add (float *y, const float *b, const Conv2dShape *s)
{
  const int cols = s->n * s->oh * s->ow;
  if (b != NULL)
    for (int o = 0; o < s->oc; o++)
      for (int j = 0; j < cols; j++)
        y[(size_t) o * cols + j] += b[o];
}

/* db (OC) += the sums of dy (OC, cols) over its columns, if db is not NULL. */
static void
bias_grad_add (float *db, const float *dy, const Conv2dShape *s)
{
  const int cols = s->n * s->oh * s->ow;
  if (db != NULL)
    for (int o = 0; o < s->oc; o++)
      {
        float sum = 0.0f;
        for (int j = 0; j < cols; j++)
          sum += dy[(size_t) o * cols + j];
        db[o] += sum;
      }
}

/* When dead taps are left out, K = L·C and w_live stands in for w: w's other columns would
 * only multiply padding. */
void
conv2d_forward (float *y, float *col, const float *x, const float *w, const float *b,
                const Conv2dShape *s)
{
  if (conv2d_uses_taps (s))
    {
      tapconv_forward (y, col, x, w, s);
      bias_add (y, b, s);
      return;
    }
  const int m = conv2d_winograd_tile (s, false);
  if (m != 0)
    {
      winograd_forward (y, col, x, w, s, m);
      bias_add (y, b, s);
      return;
    }
  const Taps t = conv_taps (s);
  const int k = s->c * taps_count (&t);
  const int cols = s->n * s->oh * s->ow;
  const float *in = x;
  if (!is_pointwise (s))
    {
      im2col (col, x, s, &t);
      in = col;
    }
  if (!taps_all (&t, s))
    {
      float *w_live = col + (size_t) k * cols; /* (OC, L·C) */
      taps_relayout (gather_taps_part, w_live, w, s, &t);
      w = w_live;
    }
  /* y (OC, cols) = w (OC, K) · in (K, cols) */
  gemm (false, false, s->oc, cols, k, 1.0f, w, k, in, cols, 0.0f, y, cols);
  bias_add (y, b, s);
}

/* dw (OC, KH·KW·C) += dy (OC, cols) · inᵀ (cols, K). With dead taps left out (dw_live not
 * NULL), K = L·C: the product goes to the scratch dw_live (OC, L·C), then is added into dw. */
static void
dw_add (float *dw, float *dw_live, const float *dy, const float *in, const Conv2dShape *s,
        const Taps *t)
{
  const int k = s->c * taps_count (t);
  const int cols = s->n * s->oh * s->ow;
  if (dw_live == NULL)
    {
      gemm (false, true, s->oc, k, cols, 1.0f, dy, cols, in, cols, 1.0f, dw, k);
      return;
    }
  gemm (false, true, s->oc, k, cols, 1.0f, dy, cols, in, cols, 0.0f, dw_live, k);
  taps_relayout (scatter_add_taps_part, dw, dw_live, s, t);
}

/* When dead taps are left out, over the others only (K = L·C): a dead tap's dw is zero and
 * its dcol would land only on padding. */
void
conv2d_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
                 const float *w, const Conv2dShape *s)
{
  if (conv2d_uses_taps (s))
    {
      tapconv_backward (dx, dw, col, dy, x, w, s);
      bias_grad_add (db, dy, s);
      return;
    }
  const int m = conv2d_winograd_tile (s, true);
  if (m != 0)
    {
      winograd_backward (dx, dw, col, dy, x, w, s, m);
      bias_grad_add (db, dy, s);
      return;
    }
  const Taps t = conv_taps (s);
  const int k = s->c * taps_count (&t);
  const int cols = s->n * s->oh * s->ow;
  const bool pointwise = is_pointwise (s);
  const float *in = x;
  float *w_live = NULL; /* (OC, L·C) after col, when dead taps are left out: dw's, then w's */
  if (!pointwise)
    {
      im2col (col, x, s, &t);
      in = col;
    }
  if (!taps_all (&t, s))
    w_live = col + (size_t) k * cols;
  dw_add (dw, w_live, dy, in, s, &t);
  bias_grad_add (db, dy, s);
  if (dx == NULL)
    return;
  /* dcol (K, cols) = wᵀ (K, OC) · dy (OC, cols), scattered back onto dx. */
  if (pointwise)
    {
      gemm (true, false, k, cols, s->oc, 1.0f, w, k, dy, cols, 1.0f, dx, cols);
      return;
    }
  if (w_live != NULL)
    {
      taps_relayout (gather_taps_part, w_live, w, s, &t);
      w = w_live;
    }
  gemm (true, false, k, cols, s->oc, 1.0f, w, k, dy, cols, 0.0f, col, cols);
  col2im_add (dx, col, s, &t);
}

void
conv2d_forward_ref (double *y, const double *x, const double *w, const double *b,
                    const Conv2dShape *s)
{
  for (int o = 0; o < s->oc; o++)
    for (int n = 0; n < s->n; n++)
      for (int oh = 0; oh < s->oh; oh++)
        for (int ow = 0; ow < s->ow; ow++)
          {
            double sum = b ? b[o] : 0.0;
            for (int c = 0; c < s->c; c++)
              for (int kh = 0; kh < s->kh; kh++)
                for (int kw = 0; kw < s->kw; kw++)
                  {
                    int ih = oh * s->stride - s->pad + kh;
                    int iw = ow * s->stride - s->pad + kw;
                    if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w)
                      continue;
                    sum += x[(((size_t) c * s->n + n) * s->h + ih) * s->w + iw]
                           * w[(((size_t) o * s->kh + kh) * s->kw + kw) * s->c + c];
                  }
            y[(((size_t) o * s->n + n) * s->oh + oh) * s->ow + ow] = sum;
          }
}
