#include "maxpool2d.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "parallel.h"

MaxPool2dShape
maxpool2d_shape (int planes, int h, int w, int k, int stride, int pad)
{
  HN_ASSERT (planes > 0 && h > 0 && w > 0 && k > 0 && stride > 0 && pad >= 0 && 2 * pad <= k);
  MaxPool2dShape s = { .planes = planes, .h = h, .w = w, .k = k, .stride = stride, .pad = pad };
  s.oh = (h + 2 * pad - k) / stride + 1;
  s.ow = (w + 2 * pad - k) / stride + 1;
  return s;
}

/* The window of output o along one axis, clipped to the plane: [*lo, *hi). */
static void
window_axis (int *lo, int *hi, int o, int size, const MaxPool2dShape *s)
{
  const int start = o * s->stride - s->pad;
  *lo = start > 0 ? start : 0;
  *hi = start + s->k < size ? start + s->k : size;
}

typedef struct
{
  float *y, *dx;
  int32_t *argmax_out;
  const int32_t *argmax;
  const float *x, *dy;
  const MaxPool2dShape *s;
} PoolJob;

/* Columns [*ow0, *ow1) are the outputs whose window's tap kw reads a real column:
 * 0 ≤ ow·stride − pad + kw < w. */
static void
tap_outputs (int *ow0, int *ow1, const MaxPool2dShape *s, int kw)
{
  const int lo = s->pad - kw, hi = s->w + s->pad - kw; /* ow·stride ∈ [lo, hi) */
  *ow0 = lo > 0 ? (lo + s->stride - 1) / s->stride : 0;
  *ow1 = hi > 0 ? (hi + s->stride - 1) / s->stride : 0;
  *ow1 = *ow1 < s->ow ? *ow1 : s->ow;
}

/* One tap of every window along an output row: y[ow] takes x[iw], iw = ow·stride + off, when
 * it is greater or NaN, which keeps the first maximum (and the last NaN) of each window in
 * the order the taps come. Branch-free, so that it vectorizes; inlined with stride 2 below. */
static inline void
take_tap (float *y, int32_t *argmax, const float *x, int32_t row_base, int ow0, int ow1,
          int stride, int off)
{
  for (int ow = ow0; ow < ow1; ow++)
    {
      const int iw = ow * stride + off;
      const float v = x[iw];
      const bool take = v > y[ow] || isnan (v);
      y[ow] = take ? v : y[ow];
      argmax[ow] = take ? row_base + iw : argmax[ow];
    }
}

/* Each output row starts at −∞ (argmax on its windows' first real element) and takes its
 * window's rows in order, and within each row its taps in order: row-major window order, as
 * the naive loop, but a tap at a time along the whole row instead of a window at a time,
 * which was a mispredicted branch per element. */
static void
forward_part (void *ctx, size_t begin, size_t end)
{
  const PoolJob *j = ctx;
  const MaxPool2dShape *s = j->s;
  const size_t in_plane = (size_t) s->h * s->w, out_plane = (size_t) s->oh * s->ow;
  for (size_t p = begin; p < end; p++)
    {
      const float *xp = j->x + p * in_plane;
      for (int oh = 0; oh < s->oh; oh++)
        {
          float *y = j->y + p * out_plane + (size_t) oh * s->ow;
          int32_t *argmax = j->argmax_out + p * out_plane + (size_t) oh * s->ow;
          int h0, h1, w0, w1;
          window_axis (&h0, &h1, oh, s->h, s);
          for (int ow = 0; ow < s->ow; ow++)
            {
              window_axis (&w0, &w1, ow, s->w, s);
              y[ow] = -INFINITY;
              argmax[ow] = h0 * s->w + w0;
            }
          for (int ih = h0; ih < h1; ih++)
            for (int kw = 0; kw < s->k; kw++)
              {
                int ow0, ow1;
                tap_outputs (&ow0, &ow1, s, kw);
                const float *row = xp + (size_t) ih * s->w;
                const int32_t base = ih * s->w, off = kw - s->pad;
                if (s->stride == 2)
                  take_tap (y, argmax, row, base, ow0, ow1, 2, off);
                else
                  take_tap (y, argmax, row, base, ow0, ow1, s->stride, off);
              }
        }
    }
}

/* Planes are independent: one range of them per thread. */
void
maxpool2d_forward (float *y, int32_t *argmax, const float *x, const MaxPool2dShape *s)
{
  PoolJob j = { .y = y, .argmax_out = argmax, .x = x, .s = s };
  parallel_for ((size_t) s->planes, parallel_grain ((size_t) s->h * s->w), forward_part, &j);
}

static void
backward_part (void *ctx, size_t begin, size_t end)
{
  const PoolJob *j = ctx;
  const MaxPool2dShape *s = j->s;
  const size_t in_plane = (size_t) s->h * s->w, out_plane = (size_t) s->oh * s->ow;
  for (size_t p = begin; p < end; p++)
    for (size_t o = 0; o < out_plane; o++)
      j->dx[p * in_plane + j->argmax[p * out_plane + o]] += j->dy[p * out_plane + o];
}

void
maxpool2d_backward (float *dx, const float *dy, const int32_t *argmax, const MaxPool2dShape *s)
{
  PoolJob j = { .dx = dx, .dy = dy, .argmax = argmax, .s = s };
  parallel_for ((size_t) s->planes, parallel_grain ((size_t) s->h * s->w), backward_part, &j);
}

void
maxpool2d_forward_ref (double *y, const double *x, const MaxPool2dShape *s)
{
  for (int p = 0; p < s->planes; p++)
    for (int oh = 0; oh < s->oh; oh++)
      for (int ow = 0; ow < s->ow; ow++)
        {
          int h0, h1, w0, w1;
          window_axis (&h0, &h1, oh, s->h, s);
          window_axis (&w0, &w1, ow, s->w, s);
          double best = -INFINITY;
          for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
              best = fmax (best, x[((size_t) p * s->h + ih) * s->w + iw]);
          y[((size_t) p * s->oh + oh) * s->ow + ow] = best;
        }
}
