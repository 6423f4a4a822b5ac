#include "tapconv.h"

#include "error.h"
#include "gemm.h"
#include "parallel.h"

bool
tapconv_fits (const Conv2dShape *s)
{
  return s->stride == 1 && s->kh == s->kw && s->kh % 2 == 1 && s->pad == s->kh / 2;
}

size_t
tapconv_scratch_size (const Conv2dShape *s)
{
  const size_t cols = (size_t) s->h * s->w * s->n;
  return (size_t) (2 * s->c + s->oc) * cols;
}

/* ---- the runs of positions a tap connects ---- */

/* Run r of tap (kh, kw): output positions [*first, *first + *count), each reading the input
 * position *shift further on. A tap whose column offset is 0 connects whole rows, one run
 * for all of them; another connects a run per output row. False past the last run (a tap
 * that reads only padding has none). */
static bool
tap_run (const Conv2dShape *s, int kh, int kw, int r, int *first, int *count, int *shift)
{
  const int dh = kh - s->pad, dw = kw - s->pad;
  const int oh0 = dh < 0 ? -dh : 0, oh1 = dh > 0 ? s->h - dh : s->h;
  const int ow0 = dw < 0 ? -dw : 0, ow1 = dw > 0 ? s->w - dw : s->w;
  if (oh0 >= oh1 || ow0 >= ow1)
    return false;
  *shift = dh * s->w + dw;
  if (dw == 0)
    {
      *first = oh0 * s->w;
      *count = (oh1 - oh0) * s->w;
      return r == 0;
    }
  if (r >= oh1 - oh0)
    return false;
  *first = (oh0 + r) * s->w + ow0;
  *count = ow1 - ow0;
  return true;
}

/* ---- layouts: channel-major (rows, N, P) ↔ position-major (rows, P, N), P = H·W ---- */

/* Both directions are one transpose of each row's (A, B) matrix into (B, A): A = N, B = P
 * to positions, A = P, B = N back. */
typedef struct
{
  float *out;
  const float *in;
  int a, b; /* each row of in is (a, b) */
} LayoutJob;

static void
transpose_part (void *ctx, size_t r0, size_t r1)
{
  const LayoutJob *j = ctx;
  const size_t plane = (size_t) j->a * j->b;
  for (size_t r = r0; r < r1; r++)
    for (int a = 0; a < j->a; a++)
      for (int b = 0; b < j->b; b++)
        j->out[r * plane + (size_t) b * j->a + a] = j->in[r * plane + (size_t) a * j->b + b];
}

/* The same, accumulating: the adjoint of the transpose the other way. */
static void
transpose_add_part (void *ctx, size_t r0, size_t r1)
{
  const LayoutJob *j = ctx;
  const size_t plane = (size_t) j->a * j->b;
  for (size_t r = r0; r < r1; r++)
    for (int a = 0; a < j->a; a++)
      for (int b = 0; b < j->b; b++)
        j->out[r * plane + (size_t) b * j->a + a] += j->in[r * plane + (size_t) a * j->b + b];
}

/* out (rows, P·N) = in (rows, N, P), position-major */
static void
to_positions (float *out, const float *in, int rows, const Conv2dShape *s)
{
  LayoutJob j = { .out = out, .in = in, .a = s->n, .b = s->h * s->w };
  parallel_for ((size_t) rows, parallel_grain ((size_t) j.a * j.b), transpose_part, &j);
}

/* out (rows, N, P) = in (rows, P·N), or += when add */
static void
from_positions (float *out, const float *in, int rows, const Conv2dShape *s, bool add)
{
  LayoutJob j = { .out = out, .in = in, .a = s->h * s->w, .b = s->n };
  parallel_for ((size_t) rows, parallel_grain ((size_t) j.a * j.b),
                add ? transpose_add_part : transpose_part, &j);
}

/* ---- forward and backward ---- */

/* The centre tap comes first: it connects every position to itself, so its product can set
 * the output (β = 0) that the other taps then add to. Tap i of the order below. */
static int
tap_in_order (const Conv2dShape *s, int i)
{
  const int centre = s->pad * s->kw + s->pad;
  return i == 0 ? centre : i <= centre ? i - 1 : i;
}

/* Tap t's (OC, C) matrix of w (OC, KH, KW, C) is w + t·C with a row stride of KH·KW·C. */
void
tapconv_forward (float *y, float *scratch, const float *x, const float *w, const Conv2dShape *s)
{
  HN_ASSERT (tapconv_fits (s) && s->oh == s->h && s->ow == s->w);
  const int n = s->n, cols = s->h * s->w * n, taps = s->kh * s->kw, ldw = taps * s->c;
  float *xt = scratch, *yt = xt + (size_t) s->c * cols;
  to_positions (xt, x, s->c, s);
  for (int i = 0; i < taps; i++)
    {
      const int t = tap_in_order (s, i);
      int first, count, shift;
      for (int r = 0; tap_run (s, t / s->kw, t % s->kw, r, &first, &count, &shift); r++)
        /* yt[:, run] (OC, count·N) += w_t (OC, C) · xt[:, run + shift] (C, count·N) */
        gemm (false, false, s->oc, count * n, s->c, 1.0f, w + (size_t) t * s->c, ldw,
              xt + (size_t) (first + shift) * n, cols, i == 0 ? 0.0f : 1.0f,
              yt + (size_t) first * n, cols);
    }
  from_positions (y, yt, s->oc, s, false);
}

/* Scratch: xt, dyt in yt's place, dxt. */
void
tapconv_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                  const float *w, const Conv2dShape *s)
{
  HN_ASSERT (tapconv_fits (s) && s->oh == s->h && s->ow == s->w);
  const int n = s->n, cols = s->h * s->w * n, taps = s->kh * s->kw, ldw = taps * s->c;
  float *xt = scratch, *dyt = xt + (size_t) s->c * cols, *dxt = dyt + (size_t) s->oc * cols;
  to_positions (xt, x, s->c, s);
  to_positions (dyt, dy, s->oc, s);

  /* dw_t (OC, C) += Σ over its runs of dyt[:, run] (OC, count·N) · xt[:, run + shift]ᵀ; a tap
   * with no run leaves its dw as it was (its gradient is zero) */
  for (int t = 0; t < taps; t++)
    {
      int first, count, shift;
      for (int r = 0; tap_run (s, t / s->kw, t % s->kw, r, &first, &count, &shift); r++)
        gemm (false, true, s->oc, s->c, count * n, 1.0f, dyt + (size_t) first * n, cols,
              xt + (size_t) (first + shift) * n, cols, 1.0f, dw + (size_t) t * s->c, ldw);
    }
  if (dx == NULL)
    return;

  /* dxt[:, run + shift] (C, count·N) += w_tᵀ (C, OC) · dyt[:, run] (OC, count·N), the centre
   * tap setting every position first */
  for (int i = 0; i < taps; i++)
    {
      const int t = tap_in_order (s, i);
      int first, count, shift;
      for (int r = 0; tap_run (s, t / s->kw, t % s->kw, r, &first, &count, &shift); r++)
        gemm (true, false, s->c, count * n, s->oc, 1.0f, w + (size_t) t * s->c, ldw,
              dyt + (size_t) first * n, cols, i == 0 ? 0.0f : 1.0f,
              dxt + (size_t) (first + shift) * n, cols);
    }
  from_positions (dx, dxt, s->c, s, true);
}
