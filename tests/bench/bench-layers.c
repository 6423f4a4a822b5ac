/* bench-layers — where a training step's time goes, layer by layer (a measurement, not a test).
 *
 *   build/tests/bench-layers [--size 32] [--batch 64] [--threads 2] [--reps 20]
 *
 * Runs each convolution of the ResNet-18 trunk alone, at the shapes a training step gives it,
 * forward and backward (dx and dw, as model_backward does), and the other per-step passes
 * (batch-norm, max-pooling, the optimizer: SGD with momentum, as `hydranet-cli bench`), then a
 * whole step of the real model for comparison. Prints medians in milliseconds and each row's share of the whole step; the
 * remainder is everything not listed (heads, losses, ReLU, residual adds, clearing buffers).
 * Alternating with the whole step, the same step under a gradient balancing method (IMTL-G:
 * the backward in two halves, the heads' Gram matrix, the 3×3 problem), and what it costs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchnorm2d.h"
#include "clock.h"
#include "conv2d.h"
#include "gemm.h"
#include "balance.h"
#include "maxpool2d.h"
#include "model.h"
#include "optimizer.h"
#include "parallel.h"
#include "rng.h"

static int reps = 20;

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median_ms (double *t, int n)
{
  qsort (t, n, sizeof *t, compare_double);
  return 1e3 * (n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]));
}

static float *
filled (HnRng *rng, size_t n)
{
  float *v = malloc (n * sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = (float) rng_normal (rng);
  return v;
}

typedef struct
{
  char name[96];
  int count; /* how many layers of a step have this shape */
  double forward_ms, backward_ms;
} Row;

static void
time_conv (Row *row, int n, int c, int size, int oc, int k, int stride, int pad)
{
  HnRng rng = { .seed = 7 };
  Conv2dShape s = conv2d_shape (n, c, size, size, oc, k, stride, pad);
  const size_t nx = (size_t) c * n * size * size, ny = (size_t) oc * n * s.oh * s.ow;
  const size_t nw = (size_t) oc * c * k * k;
  float *x = filled (&rng, nx), *w = filled (&rng, nw), *dy = filled (&rng, ny);
  float *y = malloc (ny * sizeof *y), *dx = calloc (nx, sizeof *dx), *dw = calloc (nw, sizeof *dw);
  float *col = malloc ((conv2d_scratch_size (&s) + 1) * sizeof *col);
  double *t = malloc (reps * sizeof *t), *u = malloc (reps * sizeof *u);
  for (int r = -2; r < reps; r++)
    {
      double t0 = hn_seconds ();
      conv2d_forward (y, col, x, w, NULL, &s);
      double t1 = hn_seconds ();
      conv2d_backward (c == 3 ? NULL : dx, dw, NULL, col, dy, x, w, &s);
      double t2 = hn_seconds ();
      if (r >= 0)
        t[r] = t1 - t0, u[r] = t2 - t1;
    }
  row->forward_ms = median_ms (t, reps);
  row->backward_ms = median_ms (u, reps);
  free (x), free (w), free (dy), free (y), free (dx), free (dw), free (col), free (t), free (u);
}

static void
time_batchnorm (Row *row, int c, size_t m)
{
  HnRng rng = { .seed = 8 };
  float *x = filled (&rng, c * m), *dy = filled (&rng, c * m), *y = malloc (c * m * sizeof *y);
  float *dx = calloc (c * m, sizeof *dx), *stats = calloc (8 * (size_t) c, sizeof *stats);
  float *gamma = stats, *beta = stats + c, *mean = stats + 2 * c, *invstd = stats + 3 * c;
  float *rmean = stats + 4 * c, *rvar = stats + 5 * c, *dgamma = stats + 6 * c;
  float *dbeta = stats + 7 * c;
  double *t = malloc (reps * sizeof *t), *u = malloc (reps * sizeof *u);
  for (int r = -2; r < reps; r++)
    {
      double t0 = hn_seconds ();
      batchnorm2d_forward_train (y, mean, invstd, rmean, rvar, x, gamma, beta, c, m);
      double t1 = hn_seconds ();
      batchnorm2d_backward (dx, dgamma, dbeta, dy, x, mean, invstd, gamma, c, m);
      double t2 = hn_seconds ();
      if (r >= 0)
        t[r] = t1 - t0, u[r] = t2 - t1;
    }
  row->forward_ms = median_ms (t, reps);
  row->backward_ms = median_ms (u, reps);
  free (x), free (dy), free (y), free (dx), free (stats), free (t), free (u);
}

int
main (int argc, char **argv)
{
  static const struct option options[] = {
    { "size", required_argument, NULL, 'z' },
    { "batch", required_argument, NULL, 'n' },
    { "threads", required_argument, NULL, 't' },
    { "reps", required_argument, NULL, 'r' },
    { 0 },
  };
  int size = 32, batch = 64, threads = 2, opt;
  while ((opt = getopt_long (argc, argv, "z:n:t:r:", options, NULL)) != -1)
    switch (opt)
      {
      case 'z': size = atoi (optarg); break;
      case 'n': batch = atoi (optarg); break;
      case 't': threads = atoi (optarg); break;
      case 'r': reps = atoi (optarg); break;
      default: return 2;
      }
  if (size < 32 || batch < 1 || threads < 1 || reps < 1)
    return 2;
  engine_set_threads (threads);

  Row rows[32];
  int n_rows = 0;
  /* the stem: 7×7 stride 2 (no dx: it is the input image), then 3×3 max-pooling */
  const int stem = (size + 2 * 3 - 7) / 2 + 1, pooled = (stem + 2 - 3) / 2 + 1;
  rows[n_rows] = (Row) { "stem conv 7×7/2, 3→64", 1 };
  time_conv (&rows[n_rows++], batch, 3, size, 64, 7, 2, 3);

  Row pool = { "max-pool 3×3/2", 1 };
  {
    HnRng rng = { .seed = 9 };
    MaxPool2dShape ps = maxpool2d_shape (64 * batch, stem, stem, 3, 2, 1);
    const size_t nin = (size_t) 64 * batch * stem * stem, nout = (size_t) 64 * batch * ps.oh * ps.ow;
    float *x = filled (&rng, nin), *y = malloc (nout * sizeof *y), *dx = calloc (nin, sizeof *dx);
    int32_t *arg = malloc (nout * sizeof *arg);
    double *t = malloc (reps * sizeof *t), *u = malloc (reps * sizeof *u);
    for (int r = -2; r < reps; r++)
      {
        double t0 = hn_seconds ();
        maxpool2d_forward (y, arg, x, &ps);
        double t1 = hn_seconds ();
        maxpool2d_backward (dx, y, arg, &ps);
        double t2 = hn_seconds ();
        if (r >= 0)
          t[r] = t1 - t0, u[r] = t2 - t1;
      }
    pool.forward_ms = median_ms (t, reps);
    pool.backward_ms = median_ms (u, reps);
    free (x), free (y), free (dx), free (arg), free (t), free (u);
  }

  /* the four stages of two basic blocks; the first block of stages 2–4 halves the map */
  Row norms = { "batch-norm, all 20 layers", 1 }; /* summed below */
  Row stem_bn;
  time_batchnorm (&stem_bn, 64, (size_t) batch * stem * stem);
  norms.forward_ms = stem_bn.forward_ms;
  norms.backward_ms = stem_bn.backward_ms;
  int map = pooled, c_in = 64;
  for (int stage = 0; stage < 4; stage++)
    {
      const int c = 64 << stage, stride = stage > 0 ? 2 : 1;
      const int out = (map + 2 - 3) / stride + 1;
      Row *r = &rows[n_rows++];
      *r = (Row) { "", 1 };
      snprintf (r->name, sizeof r->name, "layer%d 3×3/%d, %d→%d at %d×%d", stage + 1, stride, c_in,
                c, out, out);
      time_conv (r, batch, c_in, map, c, 3, stride, 1);
      r = &rows[n_rows++];
      *r = (Row) { "", 3 }; /* the block's second convolution, then the next block's two */
      snprintf (r->name, sizeof r->name, "layer%d 3×3, %d→%d at %d×%d (×%d)", stage + 1, c, c, out,
                out, r->count);
      time_conv (r, batch, c, out, c, 3, 1, 1);
      if (stride != 1)
        {
          r = &rows[n_rows++];
          *r = (Row) { "", 1 };
          snprintf (r->name, sizeof r->name, "layer%d downsample 1×1/2", stage + 1);
          time_conv (r, batch, c_in, map, c, 1, 2, 0);
        }
      Row bn;
      time_batchnorm (&bn, c, (size_t) batch * out * out);
      const int layers = stride == 1 ? 4 : 5;
      norms.forward_ms += layers * bn.forward_ms;
      norms.backward_ms += layers * bn.backward_ms;
      map = out, c_in = c;
    }
  rows[n_rows++] = pool;
  rows[n_rows++] = norms;

  /* the optimizer over every parameter, and a whole step of the real model */
  HnModel *model = model_new (BACKBONE_RESNET18, 0);
  HnError err;
  if (model == NULL || !model_plan (model, batch, size, &err))
    return 1;
  const size_t n_params = model_params (model)->n_params;
  HnOptimizerConfig config = optimizer_defaults (OPTIMIZER_SGD, 1e-4f); /* as `bench` */
  config.momentum = 0.9f;
  HnOptimizer *optimizer = optimizer_new (&config, n_params);
  HnRng rng = { .seed = 10 };
  float *x = filled (&rng, (size_t) batch * 3 * size * size);
  float *age = calloc (batch, sizeof *age), *gender = calloc (batch, sizeof *gender);
  int32_t *race = calloc (batch, sizeof *race);
  const HnTargets targets = { age, gender, race };
  const HnLossConfig losses = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } };
  double *t = malloc (reps * sizeof *t), *u = malloc (reps * sizeof *u);
  double *z = malloc (reps * sizeof *z), *g = malloc (reps * sizeof *g);
  const size_t nf = (size_t) FEATURES * batch;
  for (int r = -2; r < reps; r++)
    {
      double t0 = hn_seconds ();
      model_zero_grad (model);
      double tz = hn_seconds ();
      model_forward (model, x, batch, true);
      model_loss (model, &targets, &losses);
      model_backward (model);
      double t1 = hn_seconds ();
      optimizer_step (optimizer, model_param_data (model), model_grad_data (model));
      double t2 = hn_seconds ();

      /* the same step under a gradient method (IMTL-G), as the trainer takes it: the heads'
       * backward, their Gram matrix at the feature, the 3×3 problem, the trunk's backward */
      model_zero_grad (model);
      model_forward (model, x, batch, true);
      model_loss (model, &targets, &losses);
      model_backward_heads (model);
      double gram[N_HEADS][N_HEADS];
      for (int i = 0; i < N_HEADS; i++)
        for (int j = i; j < N_HEADS; j++)
          {
            const float *a = model_head_feature_grad (model, i), *b = model_head_feature_grad (model, j);
            double d = 0;
            for (size_t k = 0; k < nf; k++)
              d += (double) a[k] * b[k];
            gram[i][j] = gram[j][i] = d;
          }
      static const int order[N_HEADS][N_HEADS] = { { 0, 1, 2 }, { 0, 1, 2 }, { 0, 1, 2 } };
      float w[N_HEADS] = { 1, 1, 1 };
      balance_gradient_weights (BALANCE_IMTL_G, gram, order, w);
      model_backward_trunk (model, w, false);
      optimizer_step (optimizer, model_param_data (model), model_grad_data (model));
      if (r >= 0)
        t[r] = t2 - t0, u[r] = t2 - t1, z[r] = tz - t0, g[r] = hn_seconds () - t2;
    }
  /* the two kinds of step alternate, so they share the machine's drift */
  printf ("a step under a gradient method (IMTL-G): %.2f ms, ", median_ms (g, reps));
  const double step_ms = median_ms (t, reps);
  printf ("%+.1f%% against the plain step's %.2f ms\n\n",
          100.0 * (median_ms (g, reps) / step_ms - 1), step_ms);
  rows[n_rows++] = (Row) { "clearing the gradients", 1, median_ms (z, reps), 0.0 };
  rows[n_rows++] = (Row) { "SGD with momentum, every parameter", 1, median_ms (u, reps), 0.0 };

  printf ("ResNet-18 HydraNet, %d×%d, batch %d, %d threads, median of %d\n\n", size, size, batch,
          threads, reps);
  printf ("| layer | forward ms | backward ms | × | share of the step |\n|---|---|---|---|---|\n");
  double listed = 0.0;
  for (int i = 0; i < n_rows; i++)
    {
      const Row *r = &rows[i];
      const double total = r->count * (r->forward_ms + r->backward_ms);
      listed += total;
      printf ("| %s | %.2f | %.2f | %d | %.1f%% |\n", r->name, r->forward_ms, r->backward_ms,
              r->count, 100.0 * total / step_ms);
    }
  printf ("| everything else | | | | %.1f%% |\n", 100.0 * (step_ms - listed) / step_ms);
  printf ("\nwhole step %.2f ms = %.0f img/s\n", step_ms, batch / (step_ms / 1e3));

  /* the ceiling: one large square product on the same threads */
  const int big = 1536;
  float *a = filled (&rng, (size_t) big * big), *b = filled (&rng, (size_t) big * big);
  float *c = malloc ((size_t) big * big * sizeof *c);
  for (int r = -1; r < reps; r++)
    {
      double t0 = hn_seconds ();
      gemm (false, false, big, big, big, 1.0f, a, big, b, big, 0.0f, c, big);
      if (r >= 0)
        t[r] = hn_seconds () - t0;
    }
  printf ("sgemm ceiling: %d×%d×%d in %.2f ms = %.0f GFLOP/s\n", big, big, big,
          median_ms (t, reps), 2.0 * big * big * big / (median_ms (t, reps) / 1e3) / 1e9);
  free (a), free (b), free (c);

  free (x), free (age), free (gender), free (race), free (t), free (u), free (z), free (g);
  optimizer_free (optimizer);
  model_free (model);
  return 0;
}
