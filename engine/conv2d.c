#include "conv2d.h"

#include <string.h>

#include "error.h"
#include "gemm.h"

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

size_t
conv2d_scratch_size (const Conv2dShape *s)
{
  if (is_pointwise (s))
    return 0;
  return (size_t) s->c * s->kh * s->kw * s->n * s->oh * s->ow;
}

/* x (C, N, H, W) → col (C·KH·KW, N·OH·OW); row (c, kh, kw), column (n, oh, ow).
 * Padding reads as zero. */
static void
im2col (float *col, const float *x, const Conv2dShape *s)
{
  const size_t plane = (size_t) s->h * s->w;
  const size_t cols = (size_t) s->n * s->oh * s->ow;
  for (int c = 0; c < s->c; c++)
    for (int kh = 0; kh < s->kh; kh++)
      for (int kw = 0; kw < s->kw; kw++)
        {
          float *row = col + ((size_t) (c * s->kh + kh) * s->kw + kw) * cols;
          for (int n = 0; n < s->n; n++)
            {
              const float *xp = x + ((size_t) c * s->n + n) * plane;
              for (int oh = 0; oh < s->oh; oh++)
                {
                  int ih = oh * s->stride - s->pad + kh;
                  float *out = row + ((size_t) n * s->oh + oh) * s->ow;
                  if (ih < 0 || ih >= s->h)
                    {
                      memset (out, 0, sizeof (float) * s->ow);
                      continue;
                    }
                  const float *xrow = xp + (size_t) ih * s->w;
                  for (int ow = 0; ow < s->ow; ow++)
                    {
                      int iw = ow * s->stride - s->pad + kw;
                      out[ow] = (iw >= 0 && iw < s->w) ? xrow[iw] : 0.0f;
                    }
                }
            }
        }
}

/* The adjoint of im2col: dx (C, N, H, W) += scatter of dcol (C·KH·KW, N·OH·OW). */
static void
col2im_add (float *dx, const float *dcol, const Conv2dShape *s)
{
  const size_t plane = (size_t) s->h * s->w;
  const size_t cols = (size_t) s->n * s->oh * s->ow;
  for (int c = 0; c < s->c; c++)
    for (int kh = 0; kh < s->kh; kh++)
      for (int kw = 0; kw < s->kw; kw++)
        {
          const float *row = dcol + ((size_t) (c * s->kh + kh) * s->kw + kw) * cols;
          for (int n = 0; n < s->n; n++)
            {
              float *xp = dx + ((size_t) c * s->n + n) * plane;
              for (int oh = 0; oh < s->oh; oh++)
                {
                  int ih = oh * s->stride - s->pad + kh;
                  if (ih < 0 || ih >= s->h)
                    continue;
                  const float *in = row + ((size_t) n * s->oh + oh) * s->ow;
                  float *xrow = xp + (size_t) ih * s->w;
                  for (int ow = 0; ow < s->ow; ow++)
                    {
                      int iw = ow * s->stride - s->pad + kw;
                      if (iw >= 0 && iw < s->w)
                        xrow[iw] += in[ow];
                    }
                }
            }
        }
}

void
conv2d_forward (float *y, float *col, const float *x, const float *w, const float *b,
                const Conv2dShape *s)
{
  const int k = s->c * s->kh * s->kw;
  const int cols = s->n * s->oh * s->ow;
  const float *in = x;
  if (!is_pointwise (s))
    {
      im2col (col, x, s);
      in = col;
    }
  /* y (OC, cols) = w (OC, K) · in (K, cols) */
  gemm (false, false, s->oc, cols, k, 1.0f, w, k, in, cols, 0.0f, y, cols);
  if (b != NULL)
    for (int o = 0; o < s->oc; o++)
      for (int j = 0; j < cols; j++)
        y[(size_t) o * cols + j] += b[o];
}

void
conv2d_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
                 const float *w, const Conv2dShape *s)
{
  const int k = s->c * s->kh * s->kw;
  const int cols = s->n * s->oh * s->ow;
  const bool pointwise = is_pointwise (s);
  const float *in = x;
  if (!pointwise)
    {
      im2col (col, x, s);
      in = col;
    }
  /* dw (OC, K) += dy (OC, cols) · inᵀ (cols, K) */
  gemm (false, true, s->oc, k, cols, 1.0f, dy, cols, in, cols, 1.0f, dw, k);
  if (db != NULL)
    for (int o = 0; o < s->oc; o++)
      {
        float sum = 0.0f;
        for (int j = 0; j < cols; j++)
          sum += dy[(size_t) o * cols + j];
        db[o] += sum;
      }
  if (dx == NULL)
    return;
  /* dcol (K, cols) = wᵀ (K, OC) · dy (OC, cols), scattered back onto dx. */
  if (pointwise)
    {
      gemm (true, false, k, cols, s->oc, 1.0f, w, k, dy, cols, 1.0f, dx, cols);
      return;
    }
  gemm (true, false, k, cols, s->oc, 1.0f, w, k, dy, cols, 0.0f, col, cols);
  col2im_add (dx, col, s);
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
                           * w[(((size_t) o * s->c + c) * s->kh + kh) * s->kw + kw];
                  }
            y[(((size_t) o * s->n + n) * s->oh + oh) * s->ow + ow] = sum;
          }
}
