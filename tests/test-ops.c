/* test-ops.c — every layer and loss against two oracles:
 *  - the fast float kernel against the naive double kernel beside it (forward);
 *  - the float backward against central differences of the double forward: for a random
 *    projection L = Σ r·y, dL/dθ ≈ (L(θ + h) − L(θ − h)) / 2h, in double, h = 1e-3 (the
 *    truncation error is O(h²) ≈ 1e-6 relative, far below float32 round-off of the analytic
 *    gradient, so a mismatch above ~1e-3 relative is a bug, not noise).
 * Inputs keep a margin from every kink (ReLU at 0, max-pool ties, |d| = 0 and 1 of the
 * L1 / Huber losses) larger than h, so the finite differences never straddle one.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avgpool2d.h"
#include "batchnorm2d.h"
#include "conv2d.h"
#include "gemm.h"
#include "linear.h"
#include "losses.h"
#include "maxpool2d.h"
#include "parallel.h"
#include "relu.h"
#include "residual.h"
#include "rng.h"
#include "test-util.h"
#include "tapconv.h"
#include "winograd.h"

#define H 1e-3
#define MAX_CHECKED 300 /* coordinates checked per gradient (spread evenly over the tensor) */

/* A double function of one float operand: writes y (ny) for input v (nv). */
typedef void (*RefFn) (double *y, const double *v, void *ctx);

static float *
random_floats (HnRng *rng, size_t n, double lo, double hi)
{
  float *v = malloc (n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = (float) (lo + (hi - lo) * rng_uniform (rng));
  return v;
}

/* Values at least 0.05 away from zero, either sign. */
static float *
random_away_from_zero (HnRng *rng, size_t n)
{
  float *v = random_floats (rng, n, 0.05, 1.0);
  for (size_t i = 0; i < n; i++)
    if (rng_below (rng, 2))
      v[i] = -v[i];
  return v;
}

static double *
to_double (const float *v, size_t n)
{
  double *d = malloc (n * sizeof *d);
  for (size_t i = 0; i < n; i++)
    d[i] = v[i];
  return d;
}

/* Checks analytic (nv) against central differences of Σ r·f(v). */
static void
gradcheck_some (const char *what, RefFn f, void *ctx, const float *v, size_t nv, const float *r,
                size_t ny, const float *analytic, size_t checked)
{
  double *vd = to_double (v, nv), *y = malloc (ny * sizeof *y);
  size_t step = nv > checked ? nv / checked : 1, m = 0;
  float *numeric = malloc ((nv / step + 1) * sizeof *numeric);
  float *picked = malloc ((nv / step + 1) * sizeof *picked);
  double scale = 0.0;
  for (size_t j = 0; j < nv; j += step, m++)
    {
      double l[2];
      for (int side = 0; side < 2; side++)
        {
          vd[j] = v[j] + (side ? -H : H);
          f (y, vd, ctx);
          l[side] = 0.0;
          for (size_t i = 0; i < ny; i++)
            l[side] += r[i] * y[i];
        }
      vd[j] = v[j];
      numeric[m] = (float) ((l[0] - l[1]) / (2 * H));
      picked[m] = analytic[j];
      scale = fmax (scale, fabs (numeric[m]));
    }
  assert_close (what, picked, numeric, m, 1e-3 * scale + 1e-6, 1e-3);
  free (picked);
  free (numeric);
  free (y);
  free (vd);
}

static void
gradcheck (const char *what, RefFn f, void *ctx, const float *v, size_t nv, const float *r,
           size_t ny, const float *analytic)
{
  gradcheck_some (what, f, ctx, v, nv, r, ny, analytic, MAX_CHECKED);
}

/* ---- gemm ---- */

/* gemm against gemm_ref for one shape, each operand stored with 3 floats of padding per row
 * so the leading dimensions are exercised too. */
static void
check_gemm (bool trans_a, bool trans_b, int m, int n, int k)
{
  HnRng rng = { .seed = 7 + m + n + k };
  int a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  int b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  int lda = a_cols + 3, ldb = b_cols + 3, ldc = n + 3;
  size_t na = (size_t) a_rows * lda, nb = (size_t) b_rows * ldb, nc = (size_t) m * ldc;
  float *a = random_floats (&rng, na, -1, 1), *b = random_floats (&rng, nb, -1, 1);
  float *c = random_floats (&rng, nc, -1, 1), *want = malloc (nc * sizeof *want);
  double *ad = to_double (a, na), *bd = to_double (b, nb), *cd = to_double (c, nc);
  gemm (trans_a, trans_b, m, n, k, 0.5f, a, lda, b, ldb, 2.0f, c, ldc);
  gemm_ref (trans_a, trans_b, m, n, k, 0.5, ad, lda, bd, ldb, 2.0, cd, ldc);
  for (size_t i = 0; i < nc; i++)
    want[i] = (float) cd[i];
  char what[128];
  snprintf (what, sizeof what, "gemm %s %d×%d×%d",
            trans_a ? (trans_b ? "TT" : "TN") : (trans_b ? "NT" : "NN"), m, n, k);
  assert_close (what, c, want, nc, 1e-4, 1e-4);
  free (a), free (b), free (c), free (want), free (ad), free (bd), free (cd);
}

START_TEST (test_gemm)
{
  /* few columns and a large A: the per-column sgemv path (batch-1 inference), the last in
   * two row blocks of A; then a wide product and a small one that stay on sgemm */
  static const int shapes[][3] = { { 300, 1, 260 }, { 260, 3, 300 }, { 256, 4, 576 },
                                   { 700, 2, 600 }, { 70, 40, 90 },  { 5, 2, 7 } };
  for (int i = 0; i < 6; i++)
    for (int t = 0; t < 4; t++)
      check_gemm (t & 1, t & 2, shapes[i][0], shapes[i][1], shapes[i][2]);
}
END_TEST

/* ---- conv2d ---- */

typedef struct
{
  Conv2dShape s;
  double *x, *w, *b;
  int which; /* 0 x, 1 w, 2 b */
} ConvCtx;

static void
conv_ref (double *y, const double *v, void *p)
{
  ConvCtx *c = p;
  conv2d_forward_ref (y, c->which == 0 ? v : c->x, c->which == 1 ? v : c->w,
                      c->which == 2 ? v : c->b, &c->s);
}

/* Whether tap (kh, kw) reads a real pixel at some output position, found by trying them all
 * (conv2d.c works it out per axis). */
static bool
tap_is_live (const Conv2dShape *s, int kh, int kw)
{
  for (int oh = 0; oh < s->oh; oh++)
    for (int ow = 0; ow < s->ow; ow++)
      {
        int ih = oh * s->stride - s->pad + kh, iw = ow * s->stride - s->pad + kw;
        if (ih >= 0 && ih < s->h && iw >= 0 && iw < s->w)
          return true;
      }
  return false;
}

/* Fails unless every dead tap's dw (OC, KH, KW, C) still holds exactly the value it was
 * filled with; returns the number of live taps. */
static int
check_dead_taps_untouched (const float *dw, float fill, const Conv2dShape *s)
{
  int live = 0;
  for (int kh = 0; kh < s->kh; kh++)
    for (int kw = 0; kw < s->kw; kw++)
      {
        if (tap_is_live (s, kh, kw))
          {
            live++;
            continue;
          }
        for (int o = 0; o < s->oc; o++)
          for (int c = 0; c < s->c; c++)
            {
              float v = dw[(((size_t) o * s->kh + kh) * s->kw + kw) * s->c + c];
              ck_assert_msg (v == fill,
                             "conv2d dw at dead tap (%d, %d) of filter %d, channel %d: %g, not %g",
                             kh, kw, o, c, v, fill);
            }
      }
  return live;
}

/* A convolution's forward, backward and scratch, as conv2d.h declares them. */
typedef struct
{
  void (*forward) (float *y, float *col, const float *x, const float *w, const float *b,
                   const Conv2dShape *s);
  void (*backward) (float *dx, float *dw, float *db, float *col, const float *dy,
                    const float *x, const float *w, const Conv2dShape *s);
  size_t (*scratch_size) (const Conv2dShape *s);
  bool dead_taps_exact; /* whether a dead tap's dw is left exactly as it was */
  /* the forward's absolute tolerance, besides 1e-5, as a fraction of the largest output:
   * F(4×4)'s rounding is relative to the whole tile's, not to each output (about 3·10⁻⁶ of
   * the largest here), so a near-zero output cannot hold 1e-4 of itself */
  double atol_of_max;
} ConvOps;

static const ConvOps conv2d_ops = { conv2d_forward, conv2d_backward, conv2d_scratch_size, true,
                                    0.0 };

/* Winograd F(m×m, 3×3) called directly, whatever conv2d's dispatch would choose (no bias).
 * Its dead taps (on 1-pixel-wide maps) get Gᵀ dU G, zero only up to rounding. */
static void
wino_forward (float *y, float *col, const float *x, const float *w, const float *b,
              const Conv2dShape *s, int m)
{
  ck_assert (b == NULL);
  winograd_forward (y, col, x, w, s, m);
}

static void
wino_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
               const float *w, const Conv2dShape *s, int m)
{
  ck_assert (db == NULL);
  winograd_backward (dx, dw, col, dy, x, w, s, m);
}

static void
wino2_forward (float *y, float *col, const float *x, const float *w, const float *b,
               const Conv2dShape *s)
{
  wino_forward (y, col, x, w, b, s, 2);
}

static void
wino2_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
                const float *w, const Conv2dShape *s)
{
  wino_backward (dx, dw, db, col, dy, x, w, s, 2);
}

static size_t
wino2_scratch_size (const Conv2dShape *s)
{
  return winograd_scratch_size (s, 2);
}

static void
wino4_forward (float *y, float *col, const float *x, const float *w, const float *b,
               const Conv2dShape *s)
{
  wino_forward (y, col, x, w, b, s, 4);
}

static void
wino4_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
                const float *w, const Conv2dShape *s)
{
  wino_backward (dx, dw, db, col, dy, x, w, s, 4);
}

static size_t
wino4_scratch_size (const Conv2dShape *s)
{
  return winograd_scratch_size (s, 4);
}

static const ConvOps wino2_ops = { wino2_forward, wino2_backward, wino2_scratch_size, false,
                                   0.0 };
static const ConvOps wino4_ops = { wino4_forward, wino4_backward, wino4_scratch_size, false,
                                   1e-5 };

/* The sum over taps called directly, whatever conv2d's dispatch would choose (no bias). A
 * tap with no run adds an exact zero to its dw. */
static void
taps_forward (float *y, float *col, const float *x, const float *w, const float *b,
              const Conv2dShape *s)
{
  ck_assert (b == NULL);
  tapconv_forward (y, col, x, w, s);
}

static void
taps_backward (float *dx, float *dw, float *db, float *col, const float *dy, const float *x,
               const float *w, const Conv2dShape *s)
{
  ck_assert (db == NULL);
  tapconv_backward (dx, dw, col, dy, x, w, s);
}

static const ConvOps taps_ops = { taps_forward, taps_backward, tapconv_scratch_size, true, 0.0 };

/* Checks one shape through ops; returns its number of live taps. */
static int
check_conv_with (const ConvOps *ops, int n, int ci, int h, int w, int oc, int k, int stride,
                 int pad, bool bias)
{
  HnRng rng = { .seed = 100 + k * 10 + stride };
  ConvCtx c = { .s = conv2d_shape (n, ci, h, w, oc, k, stride, pad) };
  const Conv2dShape *s = &c.s;
  size_t nx = (size_t) ci * n * h * w, nw = (size_t) oc * ci * k * k;
  size_t ny = (size_t) oc * n * s->oh * s->ow;
  float *x = random_floats (&rng, nx, -1, 1), *wt = random_floats (&rng, nw, -1, 1);
  float *b = bias ? random_floats (&rng, oc, -1, 1) : NULL;
  float *y = malloc (ny * sizeof *y), *col = malloc ((ops->scratch_size (s) + 1) * sizeof *col);
  c.x = to_double (x, nx);
  c.w = to_double (wt, nw);
  c.b = b ? to_double (b, oc) : NULL;

  /* fast forward against the naive one */
  ops->forward (y, col, x, wt, b, s);
  double *yd = malloc (ny * sizeof *yd);
  conv2d_forward_ref (yd, c.x, c.w, c.b, s);
  float *yref = malloc (ny * sizeof *yref);
  for (size_t i = 0; i < ny; i++)
    yref[i] = (float) yd[i];
  char what[128];
  snprintf (what, sizeof what, "conv2d forward n%d c%d %d×%d k%d s%d p%d", n, ci, h, w, k,
            stride, pad);
  double ymax = 0.0;
  for (size_t i = 0; i < ny; i++)
    ymax = fmax (ymax, fabs (yd[i]));
  assert_close (what, y, yref, ny, 1e-5 + ops->atol_of_max * ymax, 1e-4);

  /* backward against central differences, for each operand */
  float *r = random_floats (&rng, ny, -1, 1);
  float *dx = malloc (nx * sizeof *dx), *dw = malloc (nw * sizeof *dw);
  float *db = bias ? malloc (oc * sizeof *db) : NULL;
  /* backward accumulates: start every gradient from a known non-zero value */
  for (size_t i = 0; i < nx; i++)
    dx[i] = 0.25f;
  for (size_t i = 0; i < nw; i++)
    dw[i] = 0.5f;
  for (int i = 0; bias && i < oc; i++)
    db[i] = -0.5f;
  ops->backward (dx, dw, db, col, r, x, wt, s);
  int live = ops->dead_taps_exact ? check_dead_taps_untouched (dw, 0.5f, s) : -1;
  /* without dx (the stem's backward), dw is the same to the bit: it is done before dx */
  float *dw_only = malloc (nw * sizeof *dw_only);
  for (size_t i = 0; i < nw; i++)
    dw_only[i] = 0.5f;
  ops->backward (NULL, dw_only, NULL, col, r, x, wt, s);
  ck_assert_msg (memcmp (dw_only, dw, nw * sizeof *dw) == 0, "conv2d dw without dx differs");
  free (dw_only);
  for (size_t i = 0; i < nx; i++)
    dx[i] -= 0.25f;
  for (size_t i = 0; i < nw; i++)
    dw[i] -= 0.5f;
  for (int i = 0; bias && i < oc; i++)
    db[i] += 0.5f;
  snprintf (what, sizeof what, "conv2d dx n%d c%d %d×%d k%d s%d p%d", n, ci, h, w, k, stride,
            pad);
  /* each coordinate checked costs two naive forwards: on the shapes wide enough to be cut
   * between threads, fewer of them (still spread over every thread's part) keep the suite
   * quick under the sanitizers, whose unoptimised build runs the naive loops many times slower
   * (test_winograd: 15 → 1.8 s at -O2; over Check's 120 s → 28 s under the sanitizers) */
  const double forward_cost = (double) ny * ci * k * k;
  const size_t checked = (size_t) fmax (30.0, fmin (MAX_CHECKED, 5e7 / forward_cost));
  c.which = 0;
  gradcheck_some (what, conv_ref, &c, x, nx, r, ny, dx, checked);
  snprintf (what, sizeof what, "conv2d dw n%d c%d %d×%d k%d s%d p%d", n, ci, h, w, k, stride,
            pad);
  c.which = 1;
  gradcheck_some (what, conv_ref, &c, wt, nw, r, ny, dw, checked);
  if (bias)
    {
      c.which = 2;
      gradcheck ("conv2d db", conv_ref, &c, b, oc, r, ny, db);
    }
  free (x), free (wt), free (b), free (y), free (col), free (yd), free (yref), free (r);
  free (dx), free (dw), free (db), free (c.x), free (c.w), free (c.b);
  return live;
}

static int
check_conv (int n, int ci, int h, int w, int oc, int k, int stride, int pad, bool bias)
{
  return check_conv_with (&conv2d_ops, n, ci, h, w, oc, k, stride, pad, bias);
}

START_TEST (test_conv2d)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  check_conv (2, 3, 9, 7, 4, 3, 1, 1, false);  /* ResNet 3×3 */
  check_conv (3, 4, 8, 8, 5, 3, 2, 1, false);  /* 3×3 stride 2 */
  check_conv (2, 3, 11, 10, 4, 7, 2, 3, false); /* the stem, odd size */
  check_conv (2, 6, 5, 5, 3, 1, 2, 0, false);  /* 1×1 downsample */
  check_conv (2, 6, 4, 3, 5, 1, 1, 0, true);   /* pointwise path, with bias */
  check_conv (1, 2, 1, 1, 3, 3, 1, 1, true);   /* 1×1 spatial, all padding */
  check_conv (2, 2, 6, 5, 3, 2, 3, 0, true);   /* even kernel, uneven stride */
  /* batch 1 at 2×2: a GEMM with four columns, done as matrix–vector products */
  check_conv (1, 64, 2, 2, 128, 3, 1, 1, false);
  /* wide enough that im2col and col2im are cut between threads on the pool ("same" padding,
   * then strided), the second also its GEMMs (over 2²⁰ multiply-adds) */
  check_conv (4, 16, 8, 8, 8, 3, 1, 1, false);
  check_conv (4, 32, 16, 16, 32, 3, 2, 1, false);
  check_conv (2, 3, 6, 7, 4, 5, 1, 2, false); /* "same" padding two deep */
}
END_TEST

/* 3×3 stride-1 pad-1 convolutions with enough tiles (T₂ ≥ 40, C·T₂ ≥ 2¹³) go through Winograd
 * F(2×2, 3×3); their backward through F(4×4, 3×3) once there are 32 tiles of 4×4 that cost at
 * most ⅞ of F(2×2)'s transformed values. Narrower ones, 1-pixel-wide maps and batch-1 ResNet
 * layers keep the GEMM. (test_winograd covers the transforms cut between threads.) */
START_TEST (test_conv2d_winograd)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  static const struct
  {
    int n, c, h, w, oc;
    bool bias;
    int forward, backward; /* the tiles conv2d takes, 0 for the GEMM */
  } cases[] = {
    { 3, 128, 9, 11, 2, true, 2, 2 },   /* odd × odd, batch 3: 90 tiles, 27 of 4×4, with bias */
    { 4, 128, 8, 10, 2, false, 2, 2 },  /* even × even, batch 4: 80 tiles, 24 of 4×4 */
    { 7, 128, 8, 8, 2, false, 2, 2 },   /* 28 tiles of 4×4: one batch short of F(4×4) */
    { 8, 64, 8, 8, 2, false, 2, 4 },    /* 32 tiles of 4×4: backward by F(4×4) */
    { 8, 64, 9, 11, 2, true, 2, 4 },    /* odd × odd: F(4×4)'s tiles hang off both edges */
    { 40, 32, 6, 6, 2, false, 2, 2 },   /* 6×6 maps: as many transformed values either way */
    { 48, 176, 2, 2, 2, false, 0, 0 },  /* 2×2 maps: a sum over taps (test_tapconv) */
    { 2, 3, 9, 7, 4, false, 0, 0 },     /* too few channels × tiles */
    { 1, 64, 2, 2, 128, false, 0, 0 },  /* batch 1 at 2×2: one tile */
    { 48, 8, 1, 1, 4, false, 0, 0 },    /* 1×1 maps: dead taps */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      Conv2dShape s = conv2d_shape (cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].oc,
                                    3, 1, 1);
      ck_assert_msg (conv2d_winograd_tile (&s, false) == cases[i].forward,
                     "case %zu: forward tile %d", i, conv2d_winograd_tile (&s, false));
      ck_assert_msg (conv2d_winograd_tile (&s, true) == cases[i].backward,
                     "case %zu: backward tile %d", i, conv2d_winograd_tile (&s, true));
      ck_assert_msg (conv2d_uses_taps (&s) == (cases[i].h == 2 && cases[i].n > 1),
                     "case %zu: taps %d", i, conv2d_uses_taps (&s));
      check_conv (cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].oc, 3, 1, 1,
                  cases[i].bias);
    }

  /* ResNet-18's 3×3 stride-1 layers: every stage with maps of 4×4 or more at batch 64 by
   * F(2×2) forward and F(4×4) backward, 2×2 maps by a sum over taps; none at batch 1 */
  static const struct
  {
    int c, size;
  } resnet[] = { { 64, 16 }, { 128, 8 }, { 256, 4 }, { 512, 2 }, { 64, 8 }, { 128, 4 },
                 { 256, 2 } };
  for (size_t i = 0; i < sizeof resnet / sizeof resnet[0]; i++)
    {
      const int c = resnet[i].c, size = resnet[i].size;
      Conv2dShape s = conv2d_shape (64, c, size, size, c, 3, 1, 1);
      ck_assert_msg (conv2d_winograd_tile (&s, false) == (size >= 4 ? 2 : 0), "batch 64, %d × %d²",
                     c, size);
      ck_assert_msg (conv2d_winograd_tile (&s, true) == (size >= 4 ? 4 : 0), "batch 64, %d × %d²",
                     c, size);
      ck_assert_msg (conv2d_uses_taps (&s) == (size == 2), "batch 64, %d × %d²", c, size);
      s = conv2d_shape (1, c, size, size, c, 3, 1, 1);
      ck_assert_msg (conv2d_winograd_tile (&s, false) == 0, "batch 1, %d × %d²", c, size);
      ck_assert_msg (conv2d_winograd_tile (&s, true) == 0, "batch 1, %d × %d²", c, size);
      ck_assert_msg (!conv2d_uses_taps (&s), "batch 1, %d × %d²", c, size);
    }

  /* the scratch covers U, V and M of every tile the layer takes (or the taps' layouts), and
   * grows with the batch across every switch: 512 × 2² goes from the GEMM to the taps, 128 ×
   * 4² from the GEMM to F(2×2) (batch 16) to F(4×4) backward (batch 32) */
  static const int widths[][2] = { { 512, 2 }, { 128, 4 } };
  for (int i = 0; i < 2; i++)
    {
      size_t prev = 0;
      int seen = 0;
      for (int n = 1; n <= 80; n++)
        {
          Conv2dShape s = conv2d_shape (n, widths[i][0], widths[i][1], widths[i][1],
                                        widths[i][0], 3, 1, 1);
          const size_t size = conv2d_scratch_size (&s);
          const int forward = conv2d_winograd_tile (&s, false);
          const int backward = conv2d_winograd_tile (&s, true);
          ck_assert_uint_ge (size, prev);
          if (forward != 0)
            ck_assert_uint_ge (size, winograd_scratch_size (&s, forward));
          if (backward != 0)
            ck_assert_uint_ge (size, winograd_scratch_size (&s, backward));
          if (conv2d_uses_taps (&s))
            ck_assert_uint_ge (size, tapconv_scratch_size (&s));
          seen |= 1 << backward | conv2d_uses_taps (&s) << 8;
          prev = size;
        }
      ck_assert_int_eq (seen, i == 0 ? (1 | 256) : (1 | 4 | 16));
    }
}
END_TEST

/* Taps that read only padding at every output position are left out of the GEMM when the
 * product is wide enough (cols·(KH·KW − L) ≥ 40·L); the result must not change either way.
 * ResNet's layer4 at a 32×32 input is the case that matters. */
START_TEST (test_conv2d_dead_taps)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  static const struct
  {
    int n, c, h, w, oc, k, stride, pad;
    bool bias;
    int live, laid_out; /* taps live (found by trying every position), taps im2col lays out */
  } cases[] = {
    { 3, 2, 1, 1, 3, 3, 1, 1, true, 1, 9 },      /* layer4 3×3 on 1×1, too narrow to pay */
    { 8, 2, 1, 1, 3, 3, 1, 1, true, 1, 1 },      /* the same, wide enough: centre tap only */
    { 5, 8, 1, 1, 16, 3, 1, 1, false, 1, 1 },    /* at the threshold */
    { 8, 3, 2, 2, 4, 3, 2, 1, false, 4, 9 },     /* layer4 2×2 → 1×1, too narrow */
    { 32, 3, 2, 2, 4, 3, 2, 1, true, 4, 4 },     /* the same, wide enough */
    { 2, 3, 3, 3, 4, 3, 2, 1, false, 9, 9 },     /* 3×3 stride 2 on 3×3: all live */
    { 5, 2, 1, 4, 3, 3, 1, 1, true, 3, 3 },      /* only rows dead */
    { 7, 2, 5, 1, 3, 3, 2, 1, false, 3, 3 },     /* only columns dead */
    { 18, 2, 1, 1, 3, 5, 3, 4, false, 4, 16 },   /* live {1, 4} per axis: dead taps inside */
    { 2, 2, 1, 1, 3, 3, 4, 3, true, 0, 1 },      /* nothing live: the output is the bias */
    { 1, 128, 2, 2, 256, 3, 2, 1, false, 4, 9 }, /* batch 1: full product, by columns */
    { 8, 256, 1, 1, 256, 3, 1, 1, false, 1, 1 }, /* live taps copied by two threads */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      const int n = cases[i].n, c = cases[i].c, h = cases[i].h, w = cases[i].w;
      const int oc = cases[i].oc, k = cases[i].k, l = cases[i].laid_out;
      Conv2dShape s = conv2d_shape (n, c, h, w, oc, k, cases[i].stride, cases[i].pad);
      ck_assert_msg (conv2d_taps (&s) == l, "case %zu: %d taps laid out, want %d", i,
                     conv2d_taps (&s), l);
      int live = check_conv (n, c, h, w, oc, k, cases[i].stride, cases[i].pad, cases[i].bias);
      ck_assert_int_eq (live, cases[i].live);
    }

  /* layer4 at 32×32: a training batch leaves 8 of 9 taps out, batch-1 inference keeps them;
   * the scratch holds col (L·C, N) and w_live (OC, L·C) */
  Conv2dShape s = conv2d_shape (32, 512, 1, 1, 512, 3, 1, 1);
  ck_assert_int_eq (conv2d_taps (&s), 1);
  ck_assert_uint_eq (conv2d_scratch_size (&s), 512 * 32 + 512 * 512);
  s = conv2d_shape (1, 512, 1, 1, 512, 3, 1, 1);
  ck_assert_int_eq (conv2d_taps (&s), 9);
  ck_assert_uint_eq (conv2d_scratch_size (&s), 512 * 9);
  s = conv2d_shape (64, 256, 2, 2, 512, 3, 2, 1); /* 2×2 → 1×1 */
  ck_assert_int_eq (conv2d_taps (&s), 4);
  ck_assert_uint_eq (conv2d_scratch_size (&s), 256 * 4 * 64 + 512 * 256 * 4);

  /* scratch planned for a batch serves every smaller one, also where a smaller batch keeps
   * the taps that a larger one leaves out (few output channels: w_live is small) */
  size_t prev = 0;
  for (int n = 1; n <= 40; n++)
    {
      s = conv2d_shape (n, 2, 1, 1, 3, 3, 1, 1);
      const int l = conv2d_taps (&s);
      const size_t need = (size_t) 2 * l * n + (l < 9 ? 3 * 2 * l : 0); /* col, w_live */
      ck_assert_uint_ge (conv2d_scratch_size (&s), need);
      ck_assert_uint_ge (conv2d_scratch_size (&s), prev);
      prev = conv2d_scratch_size (&s);
    }
}
END_TEST

/* Winograd F(2×2, 3×3) and F(4×4, 3×3) called directly, on shapes conv2d would not send them
 * (too narrow) as well as those it would: sizes that are not a multiple of the tile, whose
 * last tile reads zeros past the edge and writes only its outputs inside; 1×1 and 1-row maps,
 * where most of each tile is padding. Each shape goes through both, with dx and without. */
START_TEST (test_winograd)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  static const struct
  {
    int n, c, h, w, oc;
  } cases[] = {
    { 1, 2, 1, 1, 3 },    /* 1×1: one tile, one pixel */
    { 3, 2, 2, 2, 3 },    /* 2×2: one tile per image, half of it padding under F(4×4) */
    { 2, 3, 9, 7, 4 },    /* odd × odd: both hang off the edges */
    { 2, 3, 8, 6, 4 },    /* even × even: 8 whole tiles of either, 6 only of F(2×2)'s */
    { 1, 2, 5, 4, 3 },    /* odd × even, batch 1 */
    { 3, 4, 1, 5, 2 },    /* a single row */
    { 2, 5, 3, 3, 6 },    /* a tile hanging off both edges */
    { 1, 3, 6, 10, 2 },   /* F(4×4)'s tiles hang off by two, batch 1 */
    { 2, 2, 3, 67, 3 },   /* rows of 34 tiles of F(2×2): more than one chunk of 32 */
    { 1, 2, 5, 131, 3 },  /* rows of 33 tiles of F(4×4) (and 66 of F(2×2)) */
    { 2, 16, 16, 16, 16 }, /* wide enough that every transform of F(2×2) is cut between threads */
    { 2, 32, 16, 16, 32 }  /* and of F(4×4) */
  };
  const ConvOps *ops[] = { &wino2_ops, &wino4_ops };
  for (size_t v = 0; v < 2; v++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
      check_conv_with (ops[v], cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].oc, 3,
                       1, 1, false);
  Conv2dShape s = conv2d_shape (2, 3, 9, 7, 4, 3, 1, 1);
  ck_assert (winograd_fits (&s));
  s = conv2d_shape (2, 3, 9, 7, 4, 3, 2, 1);
  ck_assert (!winograd_fits (&s));
  s = conv2d_shape (2, 3, 9, 7, 4, 5, 1, 2);
  ck_assert (!winograd_fits (&s));
}
END_TEST

/* The sum over taps, any map: the centre tap sets every output before the others add, a tap
 * connects whole rows when its column offset is 0 and a run per row otherwise, and taps that
 * read only padding have no run. */
START_TEST (test_tapconv)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  static const struct
  {
    int n, c, h, w, oc, k;
  } cases[] = {
    { 3, 2, 1, 1, 3, 3 },      /* 1×1: only the centre tap has a run */
    { 5, 3, 2, 2, 4, 3 },      /* 2×2, as ResNet's layer3 and layer4 */
    { 2, 3, 3, 5, 2, 3 },      /* odd, not square */
    { 2, 2, 4, 1, 3, 3 },      /* a single column */
    { 1, 2, 2, 3, 3, 5 },      /* a 5×5 kernel wider than the map: most taps have no run */
    { 2, 3, 6, 7, 4, 5 },      /* and on a map it fits */
    { 1, 64, 2, 2, 128, 3 },   /* batch 1: products of one to four columns (matrix–vector) */
    { 64, 32, 2, 2, 64, 3 },   /* wide enough that every product and layout is cut */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_conv_with (&taps_ops, cases[i].n, cases[i].c, cases[i].h, cases[i].w, cases[i].oc,
                     cases[i].k, 1, cases[i].k / 2, false);
  Conv2dShape s = conv2d_shape (2, 3, 9, 7, 4, 5, 1, 2);
  ck_assert (tapconv_fits (&s));
  s = conv2d_shape (2, 3, 9, 7, 4, 3, 2, 1);
  ck_assert (!tapconv_fits (&s));
  s = conv2d_shape (2, 3, 9, 7, 4, 3, 1, 0);
  ck_assert (!tapconv_fits (&s));
}
END_TEST

/* ---- batchnorm2d ---- */

typedef struct
{
  int c;
  size_t m;
  double *x, *gamma, *beta;
  int which;
} BnCtx;

static void
bn_ref (double *y, const double *v, void *p)
{
  BnCtx *b = p;
  batchnorm2d_forward_ref (y, b->which == 0 ? v : b->x, b->which == 1 ? v : b->gamma,
                           b->which == 2 ? v : b->beta, b->c, b->m);
}

START_TEST (test_batchnorm2d)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  HnRng rng = { .seed = 7 };
  const int c = 3;
  const size_t m = 2 * 5 * 4; /* N·H·W */
  float *x = random_floats (&rng, c * m, -2, 3), *gamma = random_floats (&rng, c, 0.5, 1.5);
  float *beta = random_floats (&rng, c, -0.5, 0.5), *y = malloc (c * m * sizeof *y);
  float mean[3], invstd[3], rmean[3] = { 0.1f, -0.2f, 0.3f }, rvar[3] = { 1.0f, 2.0f, 0.5f };
  batchnorm2d_forward_train (y, mean, invstd, rmean, rvar, x, gamma, beta, c, m);

  BnCtx b = { .c = c, .m = m, .x = to_double (x, c * m), .gamma = to_double (gamma, c),
              .beta = to_double (beta, c) };
  double *yd = malloc (c * m * sizeof *yd);
  bn_ref (yd, b.x, &b);
  for (size_t i = 0; i < c * m; i++)
    ck_assert_msg (is_close (y[i], yd[i], 1e-5, 1e-5), "bn forward [%zu] %g vs %g", i, y[i], yd[i]);

  /* running statistics: momentum 0.1, unbiased variance (PyTorch) */
  const float r0[3] = { 0.1f, -0.2f, 0.3f }, v0[3] = { 1.0f, 2.0f, 0.5f };
  for (int ch = 0; ch < c; ch++)
    {
      double mu = 0, ss = 0;
      for (size_t i = 0; i < m; i++)
        mu += x[ch * m + i];
      mu /= m;
      for (size_t i = 0; i < m; i++)
        ss += (x[ch * m + i] - mu) * (x[ch * m + i] - mu);
      ck_assert (is_close (rmean[ch], 0.9 * r0[ch] + 0.1 * mu, 1e-6, 1e-5));
      ck_assert (is_close (rvar[ch], 0.9 * v0[ch] + 0.1 * ss / (m - 1), 1e-6, 1e-5));
    }

  float *r = random_floats (&rng, c * m, -1, 1), *dx = calloc (c * m, sizeof *dx);
  float dgamma[3] = { 0 }, dbeta[3] = { 0 };
  batchnorm2d_backward (dx, dgamma, dbeta, r, x, mean, invstd, gamma, c, m);
  b.which = 0;
  gradcheck ("bn dx", bn_ref, &b, x, c * m, r, c * m, dx);
  b.which = 1;
  gradcheck ("bn dgamma", bn_ref, &b, gamma, c, r, c * m, dgamma);
  b.which = 2;
  gradcheck ("bn dbeta", bn_ref, &b, beta, c, r, c * m, dbeta);

  /* eval mode uses the running statistics */
  batchnorm2d_forward_eval (y, x, gamma, beta, rmean, rvar, c, m);
  for (int ch = 0; ch < c; ch++)
    for (size_t i = 0; i < m; i++)
      ck_assert (is_close (y[ch * m + i],
                           gamma[ch] * (x[ch * m + i] - rmean[ch]) / sqrt (rvar[ch] + 1e-5)
                             + beta[ch],
                           1e-5, 1e-5));
  free (x), free (gamma), free (beta), free (y), free (yd), free (r), free (dx);
  free (b.x), free (b.gamma), free (b.beta);
}
END_TEST

/* ---- relu, residual ---- */

static void
relu_ref (double *y, const double *v, void *p)
{
  size_t n = *(size_t *) p;
  for (size_t i = 0; i < n; i++)
    y[i] = v[i] > 0 ? v[i] : 0;
}

START_TEST (test_relu)
{
  HnRng rng = { .seed = 3 };
  size_t n = 200;
  float *x = random_away_from_zero (&rng, n), *y = malloc (n * sizeof *y);
  float *r = random_floats (&rng, n, -1, 1), *dx = calloc (n, sizeof *dx);
  relu_forward (y, x, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_float_eq (y[i], x[i] > 0 ? x[i] : 0);
  relu_backward (dx, r, y, n);
  gradcheck ("relu dx", relu_ref, &n, x, n, r, n, dx);
  /* in place: masks the gradient */
  memcpy (dx, r, n * sizeof *dx);
  relu_backward (dx, dx, y, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_float_eq (dx[i], y[i] > 0 ? r[i] : 0);
  free (x), free (y), free (r), free (dx);
}
END_TEST

typedef struct
{
  size_t n;
  const float *shortcut;
} ResidualCtx;

static void
residual_ref (double *y, const double *v, void *p)
{
  ResidualCtx *c = p;
  for (size_t i = 0; i < c->n; i++)
    y[i] = fmax (v[i] + c->shortcut[i], 0.0);
}

START_TEST (test_residual)
{
  HnRng rng = { .seed = 4 };
  size_t n = 150;
  float *x = random_floats (&rng, n, -1, 1), *sc = malloc (n * sizeof *sc);
  /* the sum keeps a margin from zero: shortcut = s − x with |s| ≥ 0.05 */
  float *s = random_away_from_zero (&rng, n);
  for (size_t i = 0; i < n; i++)
    sc[i] = s[i] - x[i];
  float *y = malloc (n * sizeof *y), *r = random_floats (&rng, n, -1, 1);
  memcpy (y, x, n * sizeof *y);
  residual_add_relu_forward (y, sc, n);
  float *d = malloc (n * sizeof *d);
  memcpy (d, r, n * sizeof *d);
  residual_add_relu_backward (d, y, n);
  ResidualCtx c = { n, sc };
  gradcheck ("residual d(main)", residual_ref, &c, x, n, r, n, d);
  free (x), free (sc), free (s), free (y), free (r), free (d);
}
END_TEST

/* ---- pooling ---- */

static void
maxpool_ref (double *y, const double *v, void *p)
{
  maxpool2d_forward_ref (y, v, p);
}

START_TEST (test_maxpool2d)
{
  engine_set_threads (_i + 1); /* looped: on one thread, then on the pool */
  HnRng rng = { .seed = 5 };
  /* 2 channels × 2 images of 7×6; values are a shuffled grid with steps of 0.01 (≫ h), so
   * no two window members are within h of each other. */
  MaxPool2dShape s = maxpool2d_shape (4, 7, 6, 3, 2, 1);
  size_t nx = 4 * 7 * 6, ny = (size_t) 4 * s.oh * s.ow;
  ck_assert_int_eq (s.oh, 4);
  ck_assert_int_eq (s.ow, 3);
  float *x = malloc (nx * sizeof *x);
  for (size_t i = 0; i < nx; i++)
    x[i] = 0.01f * (float) i - 0.8f;
  for (size_t i = nx - 1; i > 0; i--)
    {
      size_t j = rng_below (&rng, (uint32_t) i + 1);
      float t = x[i];
      x[i] = x[j], x[j] = t;
    }
  float *y = malloc (ny * sizeof *y), *r = random_floats (&rng, ny, -1, 1);
  int32_t *argmax = malloc (ny * sizeof *argmax);
  float *dx = calloc (nx, sizeof *dx);
  double *xd = to_double (x, nx), *yd = malloc (ny * sizeof *yd);
  maxpool2d_forward (y, argmax, x, &s);
  maxpool2d_forward_ref (yd, xd, &s);
  for (size_t i = 0; i < ny; i++)
    ck_assert_float_eq (y[i], (float) yd[i]);
  maxpool2d_backward (dx, r, argmax, &s);
  gradcheck ("maxpool dx", maxpool_ref, &s, x, nx, r, ny, dx);
  free (x), free (y), free (r), free (argmax), free (dx), free (xd), free (yd);
}
END_TEST

/* Layers wide enough to be cut between threads give the same bits on one thread and on two
 * (each channel or plane is one thread's, its sums in one order), and the cut ones still
 * agree with the naive kernels. */
START_TEST (test_wide_layers_on_the_pool)
{
  HnRng rng = { .seed = 21 };
  /* batch-norm: 4 channels of 2¹⁴ + 3 values (over the grain, and a tail past the 8 lanes) */
  const int c = 4;
  const size_t m = ((size_t) 1 << 14) + 3;
  float *x = random_floats (&rng, c * m, -2, 3), *dy = random_floats (&rng, c * m, -1, 1);
  float *gamma = random_floats (&rng, c, 0.5, 1.5), *beta = random_floats (&rng, c, -0.5, 0.5);
  float *y[2], *dx[2], stats[2][6][4];
  for (int t = 0; t < 2; t++)
    {
      engine_set_threads (t + 1);
      y[t] = malloc (c * m * sizeof (float));
      dx[t] = calloc (c * m, sizeof (float));
      memset (stats[t], 0, sizeof stats[t]);
      float *mean = stats[t][0], *invstd = stats[t][1], *rmean = stats[t][2];
      float *rvar = stats[t][3], *dgamma = stats[t][4], *dbeta = stats[t][5];
      batchnorm2d_forward_train (y[t], mean, invstd, rmean, rvar, x, gamma, beta, c, m);
      batchnorm2d_backward (dx[t], dgamma, dbeta, dy, x, mean, invstd, gamma, c, m);
    }
  ck_assert (memcmp (y[0], y[1], c * m * sizeof (float)) == 0);
  ck_assert (memcmp (dx[0], dx[1], c * m * sizeof (float)) == 0);
  ck_assert (memcmp (stats[0], stats[1], sizeof stats[0]) == 0);
  BnCtx b = { .c = c, .m = m, .x = to_double (x, c * m), .gamma = to_double (gamma, c),
              .beta = to_double (beta, c) };
  double *yd = malloc (c * m * sizeof *yd);
  bn_ref (yd, b.x, &b);
  for (size_t i = 0; i < c * m; i++)
    ck_assert_msg (is_close (y[1][i], yd[i], 1e-5, 1e-5), "bn [%zu] %g vs %g", i, y[1][i], yd[i]);

  /* max-pooling: 64 planes of 33×32, over twice the grain (2¹⁴ floats a part) */
  MaxPool2dShape ps = maxpool2d_shape (64, 33, 32, 3, 2, 1);
  const size_t nx = (size_t) 64 * 33 * 32, ny = (size_t) 64 * ps.oh * ps.ow;
  ck_assert_uint_ge (64 / parallel_grain (33 * 32), 2);
  float *px = random_floats (&rng, nx, -1, 1), *pdy = random_floats (&rng, ny, -1, 1);
  float *py[2], *pdx[2];
  int32_t *arg[2];
  for (int t = 0; t < 2; t++)
    {
      engine_set_threads (t + 1);
      py[t] = malloc (ny * sizeof (float));
      pdx[t] = calloc (nx, sizeof (float));
      arg[t] = malloc (ny * sizeof (int32_t));
      maxpool2d_forward (py[t], arg[t], px, &ps);
      maxpool2d_backward (pdx[t], pdy, arg[t], &ps);
    }
  ck_assert (memcmp (py[0], py[1], ny * sizeof (float)) == 0);
  ck_assert (memcmp (arg[0], arg[1], ny * sizeof (int32_t)) == 0);
  ck_assert (memcmp (pdx[0], pdx[1], nx * sizeof (float)) == 0);
  double *pxd = to_double (px, nx), *pyd = malloc (ny * sizeof *pyd);
  maxpool2d_forward_ref (pyd, pxd, &ps);
  for (size_t i = 0; i < ny; i++)
    ck_assert_float_eq (py[1][i], (float) pyd[i]);

  for (int t = 0; t < 2; t++)
    free (y[t]), free (dx[t]), free (py[t]), free (pdx[t]), free (arg[t]);
  free (x), free (dy), free (gamma), free (beta), free (yd), free (b.x), free (b.gamma);
  free (b.beta), free (px), free (pdy), free (pxd), free (pyd);
}
END_TEST

START_TEST (test_maxpool2d_ties)
{
  /* After a ReLU whole windows are zero; PyTorch gives the gradient to the first element of
   * the clipped window in row-major order. */
  MaxPool2dShape s = maxpool2d_shape (1, 4, 4, 3, 2, 1);
  float x[16] = { 0 }, y[4], dy[4] = { 1, 2, 3, 4 }, dx[16] = { 0 };
  int32_t argmax[4];
  maxpool2d_forward (y, argmax, x, &s);
  maxpool2d_backward (dx, dy, argmax, &s);
  /* windows: rows/cols [0,2) [1,4): first elements (0,0) (0,1) (1,0) (1,1) */
  ck_assert_int_eq (argmax[0], 0);
  ck_assert_int_eq (argmax[1], 1);
  ck_assert_int_eq (argmax[2], 4);
  ck_assert_int_eq (argmax[3], 5);
  ck_assert_float_eq (dx[5], 4.0f);

  /* A maximum repeated in one window goes to its first place in row-major order, even when
   * a later row has it in an earlier column; a NaN wins over any number, the last NaN over
   * an earlier one, and an all −∞ window names its first element. Plane 6×6, output 3×3. */
  MaxPool2dShape t = maxpool2d_shape (1, 6, 6, 3, 2, 1);
  const float inf = INFINITY, nan = NAN;
  float z[36] = {
    0, 0, 0, -inf, -inf, -inf, /* window (0,0): rows 0–1, cols 0–1, all zeros */
    0, 0, 2, -inf, -inf, -inf, /* (0,1): cols 1–3, 2 at (1,2); (0,2): cols 3–5, all −∞ */
    0, 0, 0, 5, 0, 0,          /* (1,1): rows 1–3, cols 1–3, 5 at (2,3) before (3,1) */
    0, 5, 0, 0, 0, 0,
    0, 0, 0, nan, 0, 7,        /* (2,1): rows 3–5, NaN at (4,3) and (5,1): the latter */
    0, nan, 0, 0, 0, 0,        /* (2,2): cols 3–5, the NaN at (4,3) over the 7 */
  };
  float u[9];
  int32_t a[9];
  maxpool2d_forward (u, a, z, &t);
  ck_assert_int_eq (a[0], 0);     /* all zeros: the first */
  ck_assert_int_eq (a[1], 8);     /* 2 at (1,2) */
  ck_assert_int_eq (a[2], 3);     /* all −∞: the window's first element, (0,3) */
  ck_assert (u[2] == -inf);
  ck_assert_int_eq (a[4], 15);    /* 5 at (2,3), not (3,1) */
  ck_assert_int_eq (a[7], 31);    /* the last NaN, (5,1) */
  ck_assert (isnan (u[7]));
  ck_assert_int_eq (a[8], 27);    /* NaN at (4,3) over the 7 at (4,5) */
  ck_assert (isnan (u[8]));
}
END_TEST

typedef struct
{
  int planes, hw;
} AvgCtx;

static void
avgpool_ref (double *y, const double *v, void *p)
{
  AvgCtx *c = p;
  for (int i = 0; i < c->planes; i++)
    {
      double s = 0;
      for (int j = 0; j < c->hw; j++)
        s += v[(size_t) i * c->hw + j];
      y[i] = s / c->hw;
    }
}

START_TEST (test_avgpool2d)
{
  HnRng rng = { .seed = 6 };
  AvgCtx c = { 6, 9 };
  float *x = random_floats (&rng, 54, -1, 1), y[6], *r = random_floats (&rng, 6, -1, 1);
  float *dx = calloc (54, sizeof *dx);
  double yd[6], *xd = to_double (x, 54);
  avgpool2d_forward (y, x, c.planes, c.hw);
  avgpool_ref (yd, xd, &c);
  for (int i = 0; i < 6; i++)
    ck_assert (is_close (y[i], yd[i], 1e-6, 1e-6));
  avgpool2d_backward (dx, r, c.planes, c.hw);
  gradcheck ("avgpool dx", avgpool_ref, &c, x, 54, r, 6, dx);
  free (x), free (r), free (dx), free (xd);
}
END_TEST

/* ---- linear ---- */

typedef struct
{
  int in, out, n;
  double *x, *w, *b;
  int which;
} LinearCtx;

static void
linear_ref (double *y, const double *v, void *p)
{
  LinearCtx *c = p;
  linear_forward_ref (y, c->which == 0 ? v : c->x, c->which == 1 ? v : c->w,
                      c->which == 2 ? v : c->b, c->in, c->out, c->n);
}

START_TEST (test_linear)
{
  HnRng rng = { .seed = 8 };
  LinearCtx c = { .in = 17, .out = 5, .n = 3 };
  size_t nx = 17 * 3, nw = 17 * 5, ny = 5 * 3;
  float *x = random_floats (&rng, nx, -1, 1), *w = random_floats (&rng, nw, -1, 1);
  float *b = random_floats (&rng, 5, -1, 1), y[15], yref[15], *r = random_floats (&rng, ny, -1, 1);
  c.x = to_double (x, nx), c.w = to_double (w, nw), c.b = to_double (b, 5);
  linear_forward (y, x, w, b, c.in, c.out, c.n);
  double yd[15];
  linear_forward_ref (yd, c.x, c.w, c.b, c.in, c.out, c.n);
  for (int i = 0; i < 15; i++)
    yref[i] = (float) yd[i];
  assert_close ("linear forward", y, yref, ny, 1e-5, 1e-5);
  float *dx = calloc (nx, sizeof *dx), *dw = calloc (nw, sizeof *dw), db[5] = { 0 };
  linear_backward (dx, dw, db, r, x, w, c.in, c.out, c.n);
  c.which = 0;
  gradcheck ("linear dx", linear_ref, &c, x, nx, r, ny, dx);
  c.which = 1;
  gradcheck ("linear dw", linear_ref, &c, w, nw, r, ny, dw);
  c.which = 2;
  gradcheck ("linear db", linear_ref, &c, b, 5, r, ny, db);
  free (x), free (w), free (b), free (r), free (dx), free (dw), free (c.x), free (c.w), free (c.b);
}
END_TEST

/* ---- losses: each checked against its textbook formula in double ---- */

#define N_LOSS 6

typedef struct
{
  HnAgeLoss kind;
  const float *target;
  const int32_t *classes;
} LossCtx;

static void
age_ref (double *y, const double *v, void *p)
{
  LossCtx *c = p;
  double s = 0;
  for (int i = 0; i < N_LOSS; i++)
    {
      double d = v[i] - c->target[i];
      s += c->kind == AGE_LOSS_L1    ? fabs (d)
           : c->kind == AGE_LOSS_MSE ? d * d
           : fabs (d) < 1            ? 0.5 * d * d
                                     : fabs (d) - 0.5;
    }
  y[0] = s / N_LOSS;
}

static void
bce_ref (double *y, const double *v, void *p)
{
  LossCtx *c = p;
  double s = 0;
  for (int i = 0; i < N_LOSS; i++)
    {
      double sig = 1 / (1 + exp (-v[i]));
      s += -(c->target[i] * log (sig) + (1 - c->target[i]) * log (1 - sig));
    }
  y[0] = s / N_LOSS;
}

static void
ce_ref (double *y, const double *v, void *p)
{
  LossCtx *c = p;
  double s = 0;
  for (int j = 0; j < N_LOSS; j++)
    {
      double z = 0;
      for (int k = 0; k < 5; k++)
        z += exp (v[k * N_LOSS + j]);
      s += log (z) - v[c->classes[j] * N_LOSS + j];
    }
  y[0] = s / N_LOSS;
}

START_TEST (test_age_losses)
{
  /* differences of −3.5, −0.4, 0.2, 0.7, 2.5, 12: both sides of Huber's |d| = 1, none near 0 */
  const float pred[N_LOSS] = { 20.5f, 30.6f, 41.2f, 50.7f, 2.5f, 92.0f };
  const float target[N_LOSS] = { 24, 31, 41, 50, 0, 80 };
  const float weight = 0.7f, one = 1.0f;
  for (int kind = AGE_LOSS_L1; kind <= AGE_LOSS_HUBER; kind++)
    {
      LossCtx c = { .kind = kind, .target = target };
      double want;
      double *pd = to_double (pred, N_LOSS);
      age_ref (&want, pd, &c);
      float got = age_loss_forward (kind, pred, target, N_LOSS);
      ck_assert_msg (is_close (got, want, 1e-6, 1e-6), "%s: %g vs %g", age_loss_name (kind), got,
                     want);
      float d[N_LOSS] = { 0 };
      age_loss_backward (kind, d, pred, target, N_LOSS, weight);
      for (int i = 0; i < N_LOSS; i++)
        d[i] /= weight;
      gradcheck (age_loss_name (kind), age_ref, &c, pred, N_LOSS, &one, 1, d);
      free (pd);
    }
  HnAgeLoss k;
  ck_assert (age_loss_from_name ("huber", &k) && k == AGE_LOSS_HUBER);
  ck_assert (!age_loss_from_name ("l2", &k));
}
END_TEST

START_TEST (test_bce_logits)
{
  const float logit[N_LOSS] = { -3.0f, -0.5f, 0.3f, 2.0f, 8.0f, -6.0f };
  const float target[N_LOSS] = { 0, 1, 1, 0, 1, 0 }, one = 1.0f;
  LossCtx c = { .target = target };
  double want, *ld = to_double (logit, N_LOSS);
  bce_ref (&want, ld, &c);
  ck_assert (is_close (bce_logits_forward (logit, target, N_LOSS), want, 1e-6, 1e-6));
  float d[N_LOSS] = { 0 };
  bce_logits_backward (d, logit, target, N_LOSS, 1.0f);
  gradcheck ("bce", bce_ref, &c, logit, N_LOSS, &one, 1, d);
  /* the stable form: huge logits give finite losses, where log(σ(x)) would give −∞ */
  const float huge[2] = { 200.0f, -200.0f }, wrong[2] = { 0, 1 };
  ck_assert (is_close (bce_logits_forward (huge, wrong, 2), 200.0, 1e-3, 1e-6));
  free (ld);
}
END_TEST

START_TEST (test_cross_entropy)
{
  HnRng rng = { .seed = 9 };
  float *logits = random_floats (&rng, 5 * N_LOSS, -3, 3);
  const int32_t classes[N_LOSS] = { 0, 4, 2, 3, 1, 2 };
  const float one = 1.0f;
  LossCtx c = { .classes = classes };
  double want, *ld = to_double (logits, 5 * N_LOSS);
  ce_ref (&want, ld, &c);
  ck_assert (is_close (cross_entropy_forward (logits, classes, 5, N_LOSS), want, 1e-6, 1e-6));
  float d[5 * N_LOSS] = { 0 };
  cross_entropy_backward (d, logits, classes, 5, N_LOSS, 1.0f);
  gradcheck ("cross-entropy", ce_ref, &c, logits, 5 * N_LOSS, &one, 1, d);
  /* logits of 1000 do not overflow */
  for (int i = 0; i < 5 * N_LOSS; i++)
    logits[i] *= 400.0f;
  ck_assert (isfinite (cross_entropy_forward (logits, classes, 5, N_LOSS)));
  free (logits), free (ld);
}
END_TEST

static Suite *
ops_suite (void)
{
  Suite *s = suite_create ("ops");
  TCase *tc = tcase_create ("ops");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_gemm);
  tcase_add_loop_test (tc, test_conv2d, 0, 2);
  tcase_add_loop_test (tc, test_conv2d_dead_taps, 0, 2);
  tcase_add_loop_test (tc, test_winograd, 0, 2);
  tcase_add_loop_test (tc, test_tapconv, 0, 2);
  tcase_add_loop_test (tc, test_conv2d_winograd, 0, 2);
  tcase_add_loop_test (tc, test_batchnorm2d, 0, 2);
  tcase_add_test (tc, test_relu);
  tcase_add_test (tc, test_residual);
  tcase_add_loop_test (tc, test_maxpool2d, 0, 2);
  tcase_add_test (tc, test_wide_layers_on_the_pool);
  tcase_add_test (tc, test_maxpool2d_ties);
  tcase_add_test (tc, test_avgpool2d);
  tcase_add_test (tc, test_linear);
  tcase_add_test (tc, test_age_losses);
  tcase_add_test (tc, test_bce_logits);
  tcase_add_test (tc, test_cross_entropy);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (ops_suite ());
}
