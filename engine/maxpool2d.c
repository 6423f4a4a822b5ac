#include "maxpool2d.h"

#include <math.h>
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

/* The clipped window of output (oh, ow): rows [h0, h1), columns [w0, w1). */
#define WINDOW(s, oh, ow)                                                                          \
  int h0 = (oh) * (s)->stride - (s)->pad, w0 = (ow) * (s)->stride - (s)->pad;                      \
  int h1 = h0 + (s)->k < (s)->h ? h0 + (s)->k : (s)->h;                                            \
  int w1 = w0 + (s)->k < (s)->w ? w0 + (s)->k : (s)->w;                                            \
  h0 = h0 > 0 ? h0 : 0;                                                                            \
  w0 = w0 > 0 ? w0 : 0

typedef struct
{
  float *y, *dx;
  int32_t *argmax_out;
  const int32_t *argmax;
  const float *x, *dy;
  const MaxPool2dShape *s;
} PoolJob;

static void
forward_part (void *ctx, size_t begin, size_t end)
{
  const PoolJob *j = ctx;
  const MaxPool2dShape *s = j->s;
  float *y = j->y;
  int32_t *argmax = j->argmax_out;
  const size_t in_plane = (size_t) s->h * s->w, out_plane = (size_t) s->oh * s->ow;
  for (size_t p = begin; p < end; p++)
    {
      const float *xp = j->x + p * in_plane;
      for (int oh = 0; oh < s->oh; oh++)
        for (int ow = 0; ow < s->ow; ow++)
          {
            WINDOW (s, oh, ow);
            int best = h0 * s->w + w0;
            float best_value = -INFINITY;
            for (int ih = h0; ih < h1; ih++)
              for (int iw = w0; iw < w1; iw++)
                {
                  float v = xp[ih * s->w + iw];
                  if (v > best_value || isnan (v))
                    best_value = v, best = ih * s->w + iw;
                }
            size_t o = p * out_plane + (size_t) oh * s->ow + ow;
            y[o] = best_value;
            argmax[o] = best;
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
          WINDOW (s, oh, ow);
          double best = -INFINITY;
          for (int ih = h0; ih < h1; ih++)
            for (int iw = w0; iw < w1; iw++)
              best = fmax (best, x[((size_t) p * s->h + ih) * s->w + iw]);
          y[((size_t) p * s->oh + oh) * s->ow + ow] = best;
        }
}
