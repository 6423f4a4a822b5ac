/* recipe-dump.c — what the engine's recipe pieces compute on fixed, varied inputs, as one JSON
 * object on stdout, inputs beside outputs: tests/export/recipe_test.py holds the exported
 * project's recipe.py to it.
 *
 *   balance_loss      balance_loss_step over a sequence of losses, each loss-based method
 *   balance_gradient  balance_gradient_weights on Gram matrices, degenerate ones too
 *   schedule          schedule_factor at many p, each kind, non-default parameters
 *   losses            the three losses and their gradients (losses.c), and model_loss on a
 *                     real forward (smoothing, a standardised age)
 *   optimizer         optimizer_step on a tiny problem; which ResNet-18 tensors decay
 *   ema               ema_update / ema_swap on a real model's tensors
 *   augment           augment_image, and augment_seed
 *   step_draws        rlw's and pcgrad's draws of a step
 *
 * Non-finite numbers are written NaN / Infinity, as Python's json reads them.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "balance.h"
#include "ema.h"
#include "input.h"
#include "losses.h"
#include "model.h"
#include "optimizer.h"
#include "params.h"
#include "rng.h"
#include "schedule.h"

/* ---- JSON ---- */

static void
put_double (double x)
{
  if (isnan (x))
    fputs ("NaN", stdout);
  else if (isinf (x))
    fputs (x > 0 ? "Infinity" : "-Infinity", stdout);
  else
    printf ("%.17g", x);
}

static void
put_float (float x)
{
  if (isfinite (x))
    printf ("%.17g", (double) x); /* the float's exact value, as a Python float reads it */
  else
    put_double (x);
}

static void
put_floats (const float *x, size_t n)
{
  putchar ('[');
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        putchar (',');
      put_float (x[i]);
    }
  putchar (']');
}

static void
put_doubles (const double *x, size_t n)
{
  putchar ('[');
  for (size_t i = 0; i < n; i++)
    {
      if (i)
        putchar (',');
      put_double (x[i]);
    }
  putchar (']');
}

static void
put_ints (const int *x, size_t n)
{
  putchar ('[');
  for (size_t i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", x[i]);
  putchar (']');
}

static void
key (const char *name)
{
  printf ("\"%s\":", name);
}

/* ---- balance_loss_step ---- */

#define LOSS_STEPS 16

/* Losses that fall at each head's own pace, with noise, one tiny and one jump. */
static void
losses_at (int k, float loss[3])
{
  static const float start[3] = { 12.0f, 0.69f, 1.6f };
  for (int h = 0; h < 3; h++)
    loss[h] = (float) (start[h] * exp (-0.08 * k * (h + 1)) * (1 + 0.3 * sin (1.7 * k + h)));
  if (k == 5)
    loss[1] = 1e-9f;
  if (k == 11)
    loss[0] = 40.0f;
}

static void
dump_loss_case (HnBalance method, const float start[3], int forget_at, uint64_t seed)
{
  HnBalanceState s;
  HnRng rng = { .seed = seed };
  balance_start (&s, method, start);
  printf ("{\"method\":\"%s\",", balance_name (method));
  key ("start");
  put_floats (start, 3);
  printf (",\"steps\":[");
  for (int k = 0; k < LOSS_STEPS; k++)
    {
      float loss[3], normal[3], weight[3];
      const float lr = (float) (1e-3 * (0.2 + 0.4 * (k % 5)));
      const bool forget = k == forget_at;
      losses_at (k, loss);
      for (int h = 0; h < 3; h++)
        normal[h] = (float) rng_normal (&rng);
      if (forget)
        s.has_prev = false; /* as trainer.c does when the age loss changes */
      balance_loss_step (method, &s, loss, lr, normal, weight);
      printf ("%s{\"forget\":%s,", k ? "," : "", forget ? "true" : "false");
      key ("loss");
      put_floats (loss, 3);
      printf (",\"lr\":");
      put_float (lr);
      printf (",\"normal\":");
      put_floats (normal, 3);
      printf (",\"weight\":");
      put_floats (weight, 3);
      putchar ('}');
    }
  float packed[BALANCE_PACKED];
  balance_pack (&s, packed);
  printf ("],\"packed\":");
  put_floats (packed, BALANCE_PACKED);
  putchar ('}');
}

static void
dump_balance_loss (void)
{
  static const float w1[3] = { 2.0f, 0.5f, 1.0f }, w2[3] = { 3.0f, 1.0f, 0.25f },
                     w3[3] = { 1.0f, 0.0f, 2.0f }, ones[3] = { 1.0f, 1.0f, 1.0f };
  key ("balance_loss");
  putchar ('[');
  dump_loss_case (BALANCE_SCALE_INVARIANT, w1, -1, 1);
  putchar (',');
  dump_loss_case (BALANCE_UNCERTAINTY, w2, -1, 2);
  putchar (',');
  dump_loss_case (BALANCE_UNCERTAINTY, w3, -1, 3);
  putchar (',');
  dump_loss_case (BALANCE_FAMO, w3, 7, 4);
  putchar (',');
  dump_loss_case (BALANCE_FAMO, ones, -1, 5);
  putchar (',');
  dump_loss_case (BALANCE_RLW, ones, -1, 6);
  putchar (']');
}

/* ---- balance_gradient_weights ---- */

#define DIM 4

static void
gram_of (const double g[3][DIM], double gram[3][3])
{
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      {
        gram[i][j] = 0;
        for (int d = 0; d < DIM; d++)
          gram[i][j] += g[i][d] * g[j][d];
      }
}

static void
dump_gradient_case (const double gram[3][3], bool *first)
{
  static const HnBalance methods[] = { BALANCE_MGDA_UB, BALANCE_IMTL_G, BALANCE_PCGRAD };
  static const int orders[4][3][3] = {
    { { 0, 1, 2 }, { 0, 1, 2 }, { 0, 1, 2 } },
    { { 2, 1, 0 }, { 2, 1, 0 }, { 2, 1, 0 } },
    { { 1, 2, 0 }, { 2, 0, 1 }, { 0, 2, 1 } },
    { { 2, 0, 1 }, { 1, 0, 2 }, { 1, 2, 0 } },
  };
  static const float in[3] = { 0.7f, 1.3f, 2.1f };
  for (int m = 0; m < 3; m++)
    for (int o = 0; o < (methods[m] == BALANCE_PCGRAD ? 4 : 1); o++)
      {
        float weight[3] = { in[0], in[1], in[2] };
        balance_gradient_weights (methods[m], gram, orders[o], weight);
        printf ("%s{\"method\":\"%s\",\"gram\":[", *first ? "" : ",", balance_name (methods[m]));
        for (int i = 0; i < 3; i++)
          {
            if (i)
              putchar (',');
            put_doubles (gram[i], 3);
          }
        printf ("],\"order\":[");
        for (int i = 0; i < 3; i++)
          {
            if (i)
              putchar (',');
            put_ints (orders[o][i], 3);
          }
        printf ("],\"weight_in\":");
        put_floats (in, 3);
        printf (",\"weight\":");
        put_floats (weight, 3);
        putchar ('}');
        *first = false;
      }
}

static void
dump_balance_gradient (void)
{
  /* three gradients in R^4 per case */
  static const double fixed[][3][DIM] = {
    { { 1, 0, 0, 0 }, { -0.8, 0.6, 0, 0 }, { 0.1, -0.9, 0.2, 0 } },                /* conflicting */
    { { 1, 2, 0, 0 }, { 0, 0, 0, 0 }, { 0.5, -1, 3, 0 } },                         /* one zero */
    { { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 0 } },                            /* all zero */
    { { 1, -2, 0.5, 1 }, { 2, -4, 1, 2 }, { -1, 2, -0.5, -1 } },                   /* parallel */
    { { 0.3, 0.1, -0.2, 0.4 }, { 0.3, 0.1, -0.2, 0.4 }, { 0.3, 0.1, -0.2, 0.4 } }, /* equal */
    { { 1, 0, 0, 0 }, { 1, 0, 0, 0 }, { 0, 1, 0, 0 } },                            /* two equal */
    { { 1e3, 2e3, 0, 1e3 }, { 1e-3, -2e-3, 1e-3, 0 }, { 0, 1, 1, -1 } }, /* unequal norms */
    { { 1, 0.001, 0, 0 }, { 1, 0, 0.001, 0 }, { 1, 0, 0, 0.001 } },      /* nearly parallel */
    { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 } },                  /* orthogonal */
    { { 3, 0, 0, 0 }, { -1, 0.1, 0, 0 }, { -1, -0.1, 0, 0 } },           /* one against two */
  };
  const int n_fixed = (int) (sizeof fixed / sizeof fixed[0]);
  bool first = true;
  double gram[3][3];
  key ("balance_gradient");
  putchar ('[');
  for (int c = 0; c < n_fixed; c++)
    {
      gram_of (fixed[c], gram);
      dump_gradient_case (gram, &first);
    }
  HnRng rng = { .seed = 77 };
  static const double scales[] = { 1, 1e-3, 1e4, 1, 1, 0.05 };
  for (int c = 0; c < 6; c++)
    {
      double g[3][DIM];
      for (int i = 0; i < 3; i++)
        for (int d = 0; d < DIM; d++)
          g[i][d] = scales[c] * (i + 1) * rng_normal (&rng);
      gram_of (g, gram);
      dump_gradient_case (gram, &first);
    }
  gram_of (fixed[0], gram);
  gram[1][2] = gram[2][1] = NAN;
  dump_gradient_case (gram, &first);
  gram_of (fixed[0], gram);
  gram[0][0] = INFINITY;
  dump_gradient_case (gram, &first);
  putchar (']');
}

/* ---- schedule_factor ---- */

static void
dump_schedule (void)
{
  HnSchedule cases[] = {
    schedule_defaults (SCHEDULE_CONSTANT), schedule_defaults (SCHEDULE_STEP),
    schedule_defaults (SCHEDULE_COSINE),   schedule_defaults (SCHEDULE_ONECYCLE),
    schedule_defaults (SCHEDULE_STEP),     schedule_defaults (SCHEDULE_COSINE),
    schedule_defaults (SCHEDULE_COSINE),   schedule_defaults (SCHEDULE_COSINE),
    schedule_defaults (SCHEDULE_ONECYCLE), schedule_defaults (SCHEDULE_ONECYCLE),
    schedule_defaults (SCHEDULE_ONECYCLE),
  };
  cases[4].gamma = 0.3f;
  cases[5].warmup = 0.2f;
  cases[6].warmup = 0.0f;
  cases[7].warmup = 1.0f;
  cases[8].warmup = 0.25f, cases[8].div = 10.0f, cases[8].final_div = 100.0f;
  cases[9].warmup = 0.0f;
  cases[10].warmup = 1.0f, cases[10].div = 3.0f;
  static const double extra[] = { -0.1, 0.0,         0.05,      0.15,      0.2,   0.25, 0.3, 0.5,
                                  0.75, 0.123456789, 0.4999999, 0.7500001, 0.999, 1.0,  1.5 };
  double p[40 + 15];
  int np = 0;
  for (int k = 1; k < 40; k++)
    p[np++] = k / 40.0;
  for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++)
    p[np++] = extra[k];
  const float peak = 3e-3f;
  key ("schedule");
  printf ("{\"p\":");
  put_doubles (p, np);
  printf (",\"peak\":");
  put_float (peak);
  printf (",\"cases\":[");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    {
      const HnSchedule *s = &cases[c];
      double f[40 + 15];
      float lr[40 + 15];
      for (int k = 0; k < np; k++)
        {
          f[k] = schedule_factor (s, p[k]);
          lr[k] = (float) (peak * 1.0f * f[k]); /* trainer.c scheduled_lr, lr_scale 1 */
        }
      printf ("%s{\"kind\":\"%s\",\"warmup\":", c ? "," : "", schedule_name (s->kind));
      put_float (s->warmup);
      printf (",\"gamma\":");
      put_float (s->gamma);
      printf (",\"div\":");
      put_float (s->div);
      printf (",\"final_div\":");
      put_float (s->final_div);
      printf (",\"factor\":");
      put_doubles (f, np);
      printf (",\"lr\":");
      put_floats (lr, np);
      putchar ('}');
    }
  printf ("]}");
}

/* ---- losses ---- */

#define NL 8 /* age and gender samples */
#define NR 6 /* race samples */

static void
dump_losses (void)
{
  static const float pred[NL] = { 0, 1.5f, -2, 0.3f, 10, -0.999f, 5, 2 };
  static const float target[NL] = { 0, 0.5f, 1, 0.3f, 7.5f, 0, 5.5f, 3 };
  static const float logit[NL] = { -20, -3, -0.5f, 0, 0.5f, 3, 20, 1e-4f };
  static const float gender[NL] = { 0, 1, 1, 0, 0, 1, 0, 1 };
  static const float smoothing[3] = { 0.0f, 0.1f, 0.25f };
  /* (K, N) class-major, one row a class */
  static const float race_logits[N_RACES * NR] = {
    0.1f,  15,  -2,   0, 1,       0.5f, /* white */
    -0.3f, -15, 2,    0, 1,       0.4f, /* black */
    0.2f,  3,   0.1f, 0, 1,       0.3f, /* asian */
    1.5f,  0,   -1,   0, 1,       0.2f, /* indian */
    -1,    7,   0.5f, 0, 1.0001f, 0.1f, /* other */
  };
  static const int32_t race[NR] = { 0, 1, 2, 3, 4, 4 };
  float d[N_RACES * NR];

  key ("losses");
  printf ("{\"pred\":");
  put_floats (pred, NL);
  printf (",\"target\":");
  put_floats (target, NL);
  printf (",\"age\":[");
  for (int kind = AGE_LOSS_L1; kind <= AGE_LOSS_HUBER; kind++)
    {
      memset (d, 0, sizeof d);
      const float v = age_loss_forward ((HnAgeLoss) kind, pred, target, NL);
      age_loss_backward ((HnAgeLoss) kind, d, pred, target, NL, 1.0f);
      printf ("%s{\"kind\":\"%s\",\"value\":", kind ? "," : "", age_loss_name ((HnAgeLoss) kind));
      put_float (v);
      printf (",\"grad\":");
      put_floats (d, NL);
      putchar ('}');
    }
  printf ("],\"logit\":");
  put_floats (logit, NL);
  printf (",\"gender\":");
  put_floats (gender, NL);
  printf (",\"bce\":[");
  for (int s = 0; s < 3; s++)
    {
      float soft[NL];
      const float eps = smoothing[s];
      for (int i = 0; i < NL; i++) /* model.c gender_loss: y(1 − eps) + eps/2 */
        soft[i] = eps > 0 ? gender[i] * (1 - eps) + 0.5f * eps : gender[i];
      memset (d, 0, sizeof d);
      const float v = bce_logits_forward (logit, soft, NL);
      bce_logits_backward (d, logit, soft, NL, 1.0f);
      printf ("%s{\"smoothing\":", s ? "," : "");
      put_float (smoothing[s]);
      printf (",\"value\":");
      put_float (v);
      printf (",\"grad\":");
      put_floats (d, NL);
      putchar ('}');
    }
  printf ("],\"race_logits\":");
  put_floats (race_logits, N_RACES * NR);
  printf (",\"race\":");
  put_ints (race, NR);
  printf (",\"ce\":[");
  for (int s = 0; s < 3; s++)
    {
      memset (d, 0, sizeof d);
      const float v = cross_entropy_smoothed_forward (race_logits, race, N_RACES, NR, smoothing[s]);
      cross_entropy_smoothed_backward (d, race_logits, race, N_RACES, NR, smoothing[s], 1.0f);
      printf ("%s{\"smoothing\":", s ? "," : "");
      put_float (smoothing[s]);
      printf (",\"value\":");
      put_float (v);
      printf (",\"grad\":");
      put_floats (d, N_RACES * NR);
      putchar ('}');
    }
  printf ("]}");
}

/* model_loss on a real forward: the losses as the trainer takes them, smoothing and a
 * standardised age included. */
static void
dump_model_loss (HnModel *m)
{
#define N 4
#define S 32
  static float x[N * 3 * S * S];
  static const float age[N] = { 25, 3, 60, 41 }, gender[N] = { 0, 1, 1, 0 };
  static const int32_t race[N] = { 0, 4, 2, 1 };
  HnRng rng = { .seed = 9 };
  HnError err;
  if (!model_plan (m, N, S, &err))
    {
      fprintf (stderr, "recipe-dump: %s\n", err.message);
      exit (1);
    }
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = (float) rng_normal (&rng);
  const HnTargets targets = { age, gender, race };
  static const struct
  {
    HnAgeLoss kind;
    float smoothing, mean, std;
  } cases[] = {
    { AGE_LOSS_HUBER, 0.1f, 0.0f, 1.0f },
    { AGE_LOSS_L1, 0.0f, 33.5f, 17.25f },
    { AGE_LOSS_MSE, 0.3f, 30.0f, 0.5f },
  };
  key ("model_loss");
  putchar ('[');
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    {
      model_set_age_scale (m, cases[c].mean, cases[c].std);
      model_forward (m, x, N, true);
      HnLossConfig cfg = { .age_loss = cases[c].kind,
                           .weight = { 1.0f, 1.0f, 1.0f },
                           .smoothing = cases[c].smoothing,
                           .balance = BALANCE_MANUAL };
      HnLossReport r = model_loss (m, &targets, &cfg);
      printf ("%s{\"age_loss\":\"%s\",\"smoothing\":", c ? "," : "", age_loss_name (cases[c].kind));
      put_float (cases[c].smoothing);
      printf (",\"age_mean\":");
      put_float (cases[c].mean);
      printf (",\"age_std\":");
      put_float (cases[c].std);
      printf (",\"age\":");
      put_floats (age, N);
      printf (",\"gender\":");
      put_floats (gender, N);
      printf (",\"race\":");
      put_ints (race, N);
      printf (",\"out_age\":");
      put_floats (model_output (m, HEAD_AGE), N);
      printf (",\"out_gender\":");
      put_floats (model_output (m, HEAD_GENDER), N);
      printf (",\"out_race\":");
      put_floats (model_output (m, HEAD_RACE), 5 * N);
      printf (",\"trained\":");
      put_floats (r.weighted, 3);
      putchar ('}');
    }
  model_set_age_scale (m, 0.0f, 1.0f);
  printf ("]");
}
#undef N
#undef S

/* ---- the optimizer ---- */

/* A tiny network's parameters in torch's order: conv (2,1,3,3) no bias, batch norm (2) weight
 * and bias, linear (3,2) weight and bias. */
#define NP 31
#define OPT_STEPS 6
static const HnDecayRange tiny_weights[] = {
  { 0, 18, true },
  { 18, 22, false },
  { 22, 28, true },
  { 28, 31, false },
};

static void
dump_optimizer_case (const char *kind, float lr, float momentum, bool nesterov, float wd,
                     bool decay_all, float beta1, float beta2, float eps, bool *first)
{
  HnOptimizerKind k;
  optimizer_from_name (kind, &k);
  HnOptimizerConfig cfg = optimizer_defaults (k, lr);
  cfg.momentum = momentum, cfg.nesterov = nesterov, cfg.weight_decay = wd;
  cfg.decay_all = decay_all, cfg.beta1 = beta1, cfg.beta2 = beta2, cfg.eps = eps;
  HnOptimizer *opt = optimizer_new (&cfg, NP);
  if (opt == NULL || (!decay_all && !optimizer_set_decay_ranges (opt, tiny_weights, 4)))
    exit (1);
  float p[NP], p0[NP], g[OPT_STEPS][NP], lrs[OPT_STEPS];
  HnRng rng = { .seed = 31 };
  for (int i = 0; i < NP; i++)
    p0[i] = p[i] = (float) rng_normal (&rng);
  for (int s = 0; s < OPT_STEPS; s++)
    {
      lrs[s] = (float) (lr * (1.0 - 0.15 * s));
      for (int i = 0; i < NP; i++)
        g[s][i] = (float) (0.3 * rng_normal (&rng) + 0.05 * (s - 2));
      opt->config.lr = lrs[s];
      optimizer_step (opt, p, g[s]);
    }
  printf ("%s{\"settings\":{\"kind\":\"%s\",\"lr\":", *first ? "" : ",", kind);
  put_float (lr);
  printf (",\"momentum\":");
  put_float (momentum);
  printf (",\"nesterov\":%s,\"weight_decay\":", nesterov ? "true" : "false");
  put_float (wd);
  printf (",\"decay\":\"%s\",\"beta1\":", decay_all ? "all" : "weights");
  put_float (beta1);
  printf (",\"beta2\":");
  put_float (beta2);
  printf (",\"eps\":");
  put_float (eps);
  printf ("},\"p0\":");
  put_floats (p0, NP);
  printf (",\"lr\":");
  put_floats (lrs, OPT_STEPS);
  printf (",\"grads\":[");
  for (int s = 0; s < OPT_STEPS; s++)
    {
      if (s)
        putchar (',');
      put_floats (g[s], NP);
    }
  printf ("],\"p\":");
  put_floats (p, NP);
  putchar ('}');
  optimizer_free (opt);
  *first = false;
}

/* Which of ResNet-18's parameters decay under decay "weights", by name. */
static void
dump_decay_table (HnModel *m)
{
  const HnParamTable *t = model_params (m);
  HnOptimizerConfig cfg = optimizer_defaults (OPTIMIZER_ADAMW, 1e-3f);
  HnOptimizer *opt = optimizer_new (&cfg, t->n_params);
  if (opt == NULL || !optimizer_decay_weights_only (opt, t))
    exit (1);
  key ("decay_table");
  putchar ('[');
  bool first = true;
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      if (tensor_role_kind (e->role) != TENSOR_PARAM)
        continue;
      bool decay = false;
      for (int r = 0; r < opt->n_ranges; r++)
        if (opt->ranges[r].begin <= e->offset && e->offset < opt->ranges[r].end)
          decay = opt->ranges[r].decay;
      printf ("%s[\"%s\",%s]", first ? "" : ",", e->name, decay ? "true" : "false");
      first = false;
    }
  putchar (']');
  optimizer_free (opt);
}

static void
dump_optimizer (void)
{
  bool first = true;
  key ("optimizer");
  putchar ('[');
  dump_optimizer_case ("sgd", 0.1f, 0.0f, false, 0.01f, false, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("sgd", 0.05f, 0.9f, false, 5e-4f, true, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("sgd", 0.05f, 0.9f, true, 1e-3f, false, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("sgd", 0.05f, 0.0f, true, 0.0f, true, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("adam", 1e-2f, 0.0f, false, 0.01f, true, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("adam", 3e-3f, 0.0f, false, 0.1f, false, 0.8f, 0.99f, 1e-6f, &first);
  dump_optimizer_case ("adamw", 3e-3f, 0.0f, false, 0.05f, false, 0.9f, 0.999f, 1e-8f, &first);
  dump_optimizer_case ("adamw", 2e-2f, 0.0f, false, 0.5f, true, 0.9f, 0.95f, 1e-8f, &first);
  putchar (']');
}

/* ---- the moving average ---- */

static const char *const ema_tensors[] = {
  "net.fc3.final.bias",
  "net.fc2.final.bias",
  "net.bn1.running_mean",
  "net.bn1.running_var",
};
#define N_EMA_TENSORS 4
#define EMA_STEPS 14

/* The tensor's values in the model (params or buffers, by its kind). */
static float *
tensor_data (HnModel *m, const HnTensorInfo *t)
{
  return (tensor_role_kind (t->role) == TENSOR_PARAM ? model_param_data (m) : model_buffer_data (m))
         + t->offset;
}

static void
set_ema_tensors (HnModel *m, int step)
{
  for (int k = 0; k < N_EMA_TENSORS; k++)
    {
      const HnTensorInfo *t = param_table_find (model_params (m), ema_tensors[k]);
      float *v = tensor_data (m, t);
      for (size_t i = 0; i < t->numel; i++)
        v[i] = (float) ((int) ((i * 37 + (size_t) step * 11 + k * 5) % 101) - 50) / 64.0f
               + (k == 3 ? 1.0f : 0.0f);
    }
}

static void
put_ema_tensors (HnModel *m, const float *params, const float *buffers)
{
  putchar ('{');
  for (int k = 0; k < N_EMA_TENSORS; k++)
    {
      const HnTensorInfo *t = param_table_find (model_params (m), ema_tensors[k]);
      const float *base = tensor_role_kind (t->role) == TENSOR_PARAM ? params : buffers;
      printf ("%s\"%s\":", k ? "," : "", ema_tensors[k]);
      put_floats (base + t->offset, t->numel);
    }
  putchar ('}');
}

static void
dump_ema (HnModel *m)
{
  const float decay = 0.5f;
  HnEma ema;
  set_ema_tensors (m, 0);
  if (!ema_init (&ema, decay, m))
    exit (1);
  for (int s = 1; s <= EMA_STEPS; s++)
    {
      set_ema_tensors (m, s);
      ema_update (&ema, m);
    }
  key ("ema");
  printf ("{\"decay\":");
  put_float (decay);
  printf (",\"steps\":%d,\"average\":", EMA_STEPS);
  put_ema_tensors (m, ema.params, ema.buffers);
  ema_swap (&ema, m);
  printf (",\"swapped\":");
  put_ema_tensors (m, model_param_data (m), model_buffer_data (m));
  putchar ('}');
  ema_swap (&ema, m);
  ema_clear (&ema);
}

/* ---- augmentation ---- */

#define AUG_SIZE 24

static void
dump_augment (void)
{
  static uint8_t rgb[AUG_SIZE * AUG_SIZE * 3];
  static float out[3 * AUG_SIZE * AUG_SIZE];
  for (int y = 0; y < AUG_SIZE; y++)
    for (int x = 0; x < AUG_SIZE; x++)
      for (int c = 0; c < 3; c++)
        {
          const uint64_t noise = rng_splitmix64 (5, (uint64_t) (y * AUG_SIZE + x) * 3 + c) >> 58;
          rgb[(y * AUG_SIZE + x) * 3 + c] = (uint8_t) ((x * 9 + y * 5 + c * 80 + noise) % 256);
        }
  static const HnAugment cases[] = {
    { .flip = true },
    { .crop = 0.3f, .aspect = 0.33f },
    { .crop = 0.5f },
    { .rotate = 15.0f },
    { .brightness = 0.4f },
    { .contrast = 0.4f },
    { .saturation = 0.6f },
    { .flip = true, .crop = 0.4f, .aspect = 0.2f, .rotate = 30.0f },
    { .flip = true,
      .crop = 0.3f,
      .aspect = 0.2f,
      .rotate = 10.0f,
      .brightness = 0.2f,
      .contrast = 0.2f,
      .saturation = 0.2f },
  };
  static const int items[][2] = { { 0, 0 }, { 3, 1234 }, { 1, 7 } };
  const uint64_t run_seed = 12345;
  key ("augment");
  printf ("{\"size\":%d,\"rgb\":[", AUG_SIZE);
  for (int i = 0; i < AUG_SIZE * AUG_SIZE * 3; i++)
    printf ("%s%d", i ? "," : "", rgb[i]);
  printf ("],\"mean\":");
  put_floats (input_mean, 3);
  printf (",\"std\":");
  put_floats (input_std, 3);
  printf (",\"cases\":[");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
    for (int k = 0; k < 3; k++)
      {
        const HnAugment *a = &cases[c];
        const uint64_t seed = augment_seed (run_seed, items[k][0], items[k][1]);
        augment_image (rgb, AUG_SIZE, a, seed, out);
        printf ("%s{\"augment\":{\"flip\":%s", c || k ? "," : "", a->flip ? "true" : "false");
        const float v[6]
            = { a->crop, a->aspect, a->rotate, a->brightness, a->contrast, a->saturation };
        static const char *const names[6]
            = { "crop", "aspect", "rotate", "brightness", "contrast", "saturation" };
        for (int j = 0; j < 6; j++)
          {
            printf (",\"%s\":", names[j]);
            put_float (v[j]);
          }
        printf ("},\"seed\":%" PRIu64 ",\"out\":", seed);
        put_floats (out, 3 * AUG_SIZE * AUG_SIZE);
        putchar ('}');
      }
  printf ("],\"seeds\":[");
  static const uint64_t seeds[] = { 0, 1, 12345, 9007199254740993ull, 18446744073709551615ull };
  static const int pairs[][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 999, 123456 } };
  for (int s = 0; s < 5; s++)
    for (int k = 0; k < 4; k++)
      printf ("%s[%" PRIu64 ",%d,%d,%" PRIu64 "]", s || k ? "," : "", seeds[s], pairs[k][0],
              pairs[k][1], augment_seed (seeds[s], pairs[k][0], pairs[k][1]));
  printf ("]}");
}

/* ---- the step's draws ---- */

/* A copy of trainer.c's step_draws (static there): keep the two the same. */
static void
step_draws (uint64_t seed, int64_t step, float normal[3], int order[3][3])
{
  HnRng rng = { .seed = rng_splitmix64 (seed, 0xBA1A4CE), .counter = (uint64_t) step * 32 };
  for (int h = 0; h < 3; h++)
    normal[h] = (float) rng_normal (&rng);
  for (int i = 0; i < 3; i++)
    {
      for (int k = 0; k < 3; k++)
        order[i][k] = k;
      for (int k = 2; k > 0; k--)
        {
          int j = (int) rng_below (&rng, (uint32_t) k + 1), tmp = order[i][k];
          order[i][k] = order[i][j];
          order[i][j] = tmp;
        }
    }
}

static void
dump_step_draws (void)
{
  static const uint64_t seeds[] = { 0, 42, 9223372036854775813ull };
  static const int64_t steps[] = { 1, 2, 17, 1000, 123456 };
  key ("step_draws");
  putchar ('[');
  for (int s = 0; s < 3; s++)
    for (int k = 0; k < 5; k++)
      {
        float normal[3];
        int order[3][3];
        step_draws (seeds[s], steps[k], normal, order);
        printf ("%s{\"seed\":%" PRIu64 ",\"step\":%" PRId64 ",\"normal\":", s || k ? "," : "",
                seeds[s], steps[k]);
        put_floats (normal, 3);
        printf (",\"order\":[");
        for (int i = 0; i < 3; i++)
          {
            if (i)
              putchar (',');
            put_ints (order[i], 3);
          }
        printf ("]}");
      }
  putchar (']');
}

int
main (void)
{
  HnModel *m = model_new (BACKBONE_RESNET18, 3);
  if (m == NULL)
    return 1;
  putchar ('{');
  dump_balance_loss ();
  putchar (',');
  dump_balance_gradient ();
  putchar (',');
  dump_schedule ();
  putchar (',');
  dump_losses ();
  putchar (',');
  dump_model_loss (m);
  putchar (',');
  dump_optimizer ();
  putchar (',');
  dump_decay_table (m);
  putchar (',');
  dump_ema (m);
  putchar (',');
  dump_augment ();
  putchar (',');
  dump_step_draws ();
  puts ("}");
  model_free (m);
  return ferror (stdout) ? 1 : 0;
}
