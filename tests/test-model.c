/* test-model.c — the whole HydraNet against PyTorch.
 *
 * tests/golden/hydranet-r18-b4.safetensors was written by tests/golden/make_golden.py with
 * Debian's python3-torch from the reference model (run by hand, not by this suite). Both
 * sides fill the weights from the same counter-based splitmix64 stream (rng.h), so the file
 * holds only the input batch, the outputs, the losses, every gradient and the parameters
 * after 3 steps of SGD-momentum, Adam and AdamW — large tensors sampled at 1024 fixed
 * indices, with the L2 norm of each full gradient.
 *
 * Tolerances, and why (make_golden.py measured PyTorch's own float32 against float64 on the
 * same weights; our float32 differs from PyTorch's float32 by the same kind of round-off in
 * a different summation order — OpenBLAS against oneDNN):
 *  - outputs and losses: |Δ| ≤ 1e-4·max|y| + 1e-4·|y|, the ~1e-4 relative the issue expects;
 *  - gradients: |Δ| ≤ 2e-3·rms(golden sample) + 2e-3·|g|. Train-mode BN over a batch of 4
 *    divides by standard deviations of 4 values at the 1×1 layer4 stage, amplifying
 *    round-off by ~10× over the outputs; the L2 norm of each full gradient within 1e-3;
 *  - optimizer runs (3 steps from the golden weights, SGD lr 1e-3 / Adam(W) lr 1e-4 — rates
 *    at which PyTorch's own float32 and float64 trajectories agree, see make_golden.py)
 *    compare each tensor's update p₃ − p₀ as a whole: relative L2 error ≤ 0.02 for SGD
 *    (measured 0.0064) and ≤ 0.25 for Adam and AdamW (measured 0.13: Adam turns every
 *    coordinate into a ±lr-sized step, so coordinates whose gradient is round-off-sized
 *    take steps of either sign on either side); the running statistics after the three
 *    forwards within 2e-3 of their scale;
 *  - the update rules alone, on fixed gradients, within 1e-6 relative (float round-off).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "conv2d.h"
#include "model.h"
#include "optimizer.h"
#include "parallel.h"
#include "rng.h"
#include "safetensors.h"
#include "test-util.h"

#define GOLDEN_SEED 20261128u
#define BATCH 4
#define SIZE 32

static const HnLossConfig golden_losses = { AGE_LOSS_L1, { 0.7f, 1.3f, 0.9f } };

static HnSafetensors *golden;

static void
load_golden (void)
{
  golden = test_read_golden ("golden/hydranet-r18-b4.safetensors");
}

static void
free_golden (void)
{
  safetensors_free (golden);
  golden = NULL;
}

/* A golden tensor's values as floats (F32 copied out, I64 converted); the caller frees. */
static float *
golden_floats (const char *name, size_t *n)
{
  const StTensor *t = safetensors_find (golden, name);
  ck_assert_msg (t != NULL, "golden file lacks %s", name);
  *n = (size_t) st_numel (t);
  float *v = malloc ((*n + 1) * sizeof *v);
  for (size_t i = 0; i < *n; i++)
    {
      if (t->dtype == ST_I64)
        {
          int64_t x;
          memcpy (&x, (const char *) t->data + i * 8, 8);
          v[i] = (float) x;
        }
      else
        memcpy (&v[i], (const char *) t->data + i * 4, 4);
    }
  return v;
}

/* The fill of make_golden.py: one counter over state_dict order, per-role formulas. */
static HnModel *
golden_model (void)
{
  HnModel *m = model_new (BACKBONE_RESNET18, 0);
  ck_assert_ptr_nonnull (m);
  HnRng rng = { .seed = GOLDEN_SEED };
  const HnParamTable *table = model_params (m);
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      float *p = tensor_role_kind (t->role) == TENSOR_BUFFER ? model_buffer_data (m) + t->offset
                                                             : model_param_data (m) + t->offset;
      if (t->role == ROLE_BN_COUNT)
        {
          model_count_data (m)[t->offset] = 7;
          continue;
        }
      for (size_t j = 0; j < t->numel; j++)
        {
          double u = rng_uniform (&rng);
          switch (t->role)
            {
            case ROLE_CONV_WEIGHT:
              p[j] = (float) ((2 * u - 1) * sqrt (6.0 / (t->shape[1] * t->shape[2] * t->shape[3])));
              break;
            case ROLE_BN_WEIGHT:
              p[j] = (float) (0.5 + u);
              break;
            case ROLE_BN_BIAS:
            case ROLE_BN_MEAN:
              p[j] = (float) (0.4 * (u - 0.5));
              break;
            case ROLE_BN_VAR:
              p[j] = (float) (0.5 + 1.5 * u);
              break;
            default: /* linear weight and bias: every fan_in here is 512 */
              p[j] = (float) ((2 * u - 1) / sqrt (512.0));
              break;
            }
        }
    }
  /* filled in PyTorch's layout, as make_golden.py fills the state_dict; stored in the
   * engine's */
  float *torch = malloc (table->n_params * sizeof *torch);
  memcpy (torch, model_param_data (m), table->n_params * sizeof *torch);
  params_from_torch (table, model_param_data (m), torch);
  free (torch);
  HnError err;
  ck_assert_msg (model_plan (m, BATCH, SIZE, &err), "%s", err.message);
  return m;
}

/* The golden sampling rule: all of a small tensor, else flat[k·n/1024] for k < 1024. */
static size_t
sample (const float *full, size_t n, float *out)
{
  if (n <= 4096)
    {
      memcpy (out, full, n * sizeof *out);
      return n;
    }
  for (size_t k = 0; k < 1024; k++)
    out[k] = full[k * n / 1024];
  return 1024;
}

/* Tensor t of an engine-side block (parameters, gradients, buffers), in PyTorch's layout
 * (params.h), sampled. */
static size_t
sample_tensor (const HnTensorInfo *t, const float *block, float *out)
{
  float *torch = malloc (t->numel * sizeof *torch);
  tensor_to_torch (t, torch, block + t->offset);
  size_t n = sample (torch, t->numel, out);
  free (torch);
  return n;
}

/* Values of table entry t in the model (params, buffers or counts as floats), sampled. */
static size_t
sample_entry (HnModel *m, const HnTensorInfo *t, float *out)
{
  if (t->role == ROLE_BN_COUNT)
    {
      out[0] = (float) model_count_data (m)[t->offset];
      return 1;
    }
  const float *base = tensor_role_kind (t->role) == TENSOR_BUFFER ? model_buffer_data (m)
                                                                  : model_param_data (m);
  return sample_tensor (t, base, out);
}

static double
rms (const float *v, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) v[i] * v[i];
  return sqrt (s / (n ? n : 1));
}

static double
max_abs (const float *v, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s = fmax (s, fabs (v[i]));
  return s;
}

static HnTargets
golden_targets (float **age, float **gender, int32_t *race)
{
  size_t n;
  *age = golden_floats ("target.age", &n);
  *gender = golden_floats ("target.gender", &n);
  float *r = golden_floats ("target.race", &n);
  for (size_t i = 0; i < n; i++)
    race[i] = (int32_t) r[i];
  free (r);
  return (HnTargets) { *age, *gender, race };
}

/* The model's outputs (class-major, batch n) for images first… first + BATCH − 1 against the
 * golden (N, K) ones. */
static void
check_outputs_at (HnModel *m, const char *prefix, int n_batch, int first)
{
  static const char *names[N_HEADS] = { "age", "gender", "race" };
  for (int h = 0; h < N_HEADS; h++)
    {
      char key[64];
      size_t n;
      snprintf (key, sizeof key, "%s.%s", prefix, names[h]);
      float *want = golden_floats (key, &n);
      int k = (int) (n / BATCH);
      float got[BATCH * N_RACES];
      for (int i = 0; i < BATCH; i++)
        for (int c = 0; c < k; c++)
          got[i * k + c] = model_output (m, h)[c * n_batch + first + i];
      assert_close (key, got, want, n, 1e-4 * max_abs (want, n), 1e-4);
      free (want);
    }
}

static void
check_outputs (HnModel *m, const char *prefix)
{
  check_outputs_at (m, prefix, BATCH, 0);
}

START_TEST (test_table_matches_state_dict)
{
  HnModel *m = golden_model ();
  const HnParamTable *t = model_params (m);
  ck_assert_int_eq (t->n, 132);
  /* every entry exists in the golden init.* set with the same (sampled) values: the fill and
   * the names and their order are PyTorch's */
  float *got = malloc (4096 * sizeof *got);
  for (int i = 0; i < t->n; i++)
    {
      char key[96];
      size_t n;
      snprintf (key, sizeof key, "init.%s", t->items[i].name);
      float *want = golden_floats (key, &n);
      ck_assert_uint_eq (sample_entry (m, &t->items[i], got), n);
      ck_assert_msg (memcmp (got, want, n * sizeof *got) == 0, "%s differs", key);
      free (want);
    }
  free (got);
  model_free (m);

  HnModel *r34 = model_new (BACKBONE_RESNET34, 0);
  ck_assert_int_eq (model_params (r34)->n, 228);
  ck_assert_ptr_nonnull (param_table_find (model_params (r34), "net.layer3.5.bn2.running_var"));
  model_free (r34);
}
END_TEST

START_TEST (test_eval_forward)
{
  HnModel *m = golden_model ();
  size_t n;
  float *x = golden_floats ("input.x", &n);
  ck_assert_uint_eq (n, (size_t) BATCH * 3 * SIZE * SIZE);
  model_forward (m, x, BATCH, false);
  check_outputs (m, "eval");
  /* eval mode leaves the running statistics alone */
  ck_assert_int_eq (model_count_data (m)[0], 7);
  free (x);
  model_free (m);
}
END_TEST

/* In eval mode an image's outputs do not depend on the rest of the batch. The golden batch
 * repeated 8 times is wide enough that layer4's 3×3 convolutions (2×2 → 1×1, 1×1 → 1×1)
 * leave their dead taps out (conv2d.h), which at batch 4 they keep, and layer1's and layer2's
 * 3×3 stride-1 convolutions go through Winograd F(2×2, 3×3): every copy still matches. */
START_TEST (test_eval_forward_wide_batch)
{
  engine_set_threads (_i + 1);
  const int copies = 8, wide = copies * BATCH;
  HnModel *m = golden_model ();
  HnError err;
  ck_assert_msg (model_plan (m, wide, SIZE, &err), "%s", err.message);
  size_t n;
  float *x = golden_floats ("input.x", &n), *xs = malloc (copies * n * sizeof *xs);
  for (int i = 0; i < copies; i++)
    memcpy (xs + i * n, x, n * sizeof *x);
  model_forward (m, xs, wide, false);
  for (int i = 0; i < copies; i++)
    check_outputs_at (m, "eval", wide, i * BATCH);
  free (xs);
  free (x);
  model_free (m);
}
END_TEST

/* Every parameter's gradient against PyTorch's, sampled, and the L2 norm of each. */
static void
check_gradients (HnModel *m)
{
  const HnParamTable *t = model_params (m);
  const float *grads = model_grad_data (m);
  float *got = malloc (4096 * sizeof *got);
  size_t n;
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      if (tensor_role_kind (e->role) != TENSOR_PARAM)
        continue;
      char key[96];
      snprintf (key, sizeof key, "grad.%s", e->name);
      float *want = golden_floats (key, &n);
      ck_assert_uint_eq (sample_tensor (e, grads, got), n);
      assert_close (key, got, want, n, 2e-3 * rms (want, n), 2e-3);
      free (want);

      snprintf (key, sizeof key, "gradnorm.%s", e->name);
      const StTensor *norm = safetensors_find (golden, key);
      ck_assert_ptr_nonnull (norm);
      double want_norm, sum = 0;
      memcpy (&want_norm, norm->data, 8);
      for (size_t j = 0; j < e->numel; j++)
        sum += (double) grads[e->offset + j] * grads[e->offset + j];
      ck_assert_msg (is_close (sqrt (sum), want_norm, 1e-9, 1e-3), "%s: %g vs %g", key,
                     sqrt (sum), want_norm);
    }
  free (got);
}

START_TEST (test_train_forward_losses_gradients)
{
  engine_set_threads (_i + 1); /* looped: serially, then with the pool's helpers */
  HnModel *m = golden_model ();
  size_t n;
  float *x = golden_floats ("input.x", &n), *age, *gender;
  int32_t race[BATCH];
  HnTargets targets = golden_targets (&age, &gender, race);

  model_zero_grad (m);
  model_forward (m, x, BATCH, true);
  check_outputs (m, "train");

  /* every loss kind on the same outputs, and the weighted total */
  static const struct
  {
    const char *name;
    HnAgeLoss kind;
  } age_kinds[] = { { "loss.l1", AGE_LOSS_L1 }, { "loss.mse", AGE_LOSS_MSE },
                    { "loss.huber", AGE_LOSS_HUBER } };
  for (int i = 2; i >= 0; i--) /* L1 last: its gradients are the ones compared */
    {
      HnLossConfig cfg = golden_losses;
      cfg.age_loss = age_kinds[i].kind;
      HnLossReport r = model_loss (m, &targets, &cfg);
      float *want = golden_floats (age_kinds[i].name, &n);
      ck_assert_msg (is_close (r.raw[HEAD_AGE], want[0], 0, 1e-4), "%s: %g vs %g",
                     age_kinds[i].name, r.raw[HEAD_AGE], want[0]);
      free (want);
    }
  HnLossReport r = model_loss (m, &targets, &golden_losses);
  float *bce = golden_floats ("loss.bce", &n), *ce = golden_floats ("loss.ce", &n);
  float *total = golden_floats ("loss.total", &n);
  ck_assert (is_close (r.raw[HEAD_GENDER], bce[0], 0, 1e-4));
  ck_assert (is_close (r.raw[HEAD_RACE], ce[0], 0, 1e-4));
  ck_assert (is_close (r.total, total[0], 0, 1e-4));
  for (int h = 0; h < N_HEADS; h++)
    ck_assert_float_eq (r.weighted[h], golden_losses.weight[h] * r.raw[h]);
  free (bce), free (ce), free (total);

  /* running statistics after one train-mode forward */
  const HnParamTable *t = model_params (m);
  float *got = malloc (4096 * sizeof *got);
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      if (tensor_role_kind (e->role) == TENSOR_PARAM)
        continue;
      char key[96];
      snprintf (key, sizeof key, "bn_after_train.%s", e->name);
      float *want = golden_floats (key, &n);
      ck_assert_uint_eq (sample_entry (m, e, got), n);
      assert_close (key, got, want, n, 1e-4 * max_abs (want, n), 1e-4);
      free (want);
    }

  /* every parameter's gradient */
  model_backward (m);
  check_gradients (m);
  free (got), free (x), free (age), free (gender);
  model_free (m);
}
END_TEST

/* Training on the golden batch repeated 16 times gives the golden gradients: each copy's
 * outputs are the same (train-mode batch-norm sees the same mean and biased variance), and
 * every loss is a mean over the batch, so each image's share of the gradient is the same.
 * At batch 64 the 3×3 stride-1 convolutions of layer1 and layer2 go through Winograd F(2×2,
 * 3×3) forward and F(4×4, 3×3) backward, and layer3's (2×2 maps) through a sum over taps
 * (conv2d.h), which at the golden batch of 4 they do not. */
START_TEST (test_train_wide_batch_gradients)
{
  engine_set_threads (_i + 1);
  const int copies = 16, wide = copies * BATCH;
  Conv2dShape layer1 = conv2d_shape (BATCH, 64, SIZE / 4, SIZE / 4, 64, 3, 1, 1);
  ck_assert (conv2d_winograd_tile (&layer1, false) == 0);
  ck_assert (conv2d_winograd_tile (&layer1, true) == 0);
  /* { C, map, the backward's Winograd tile, or 0 for a sum over taps } */
  static const int stages[][3] = { { 64, SIZE / 4, 4 },
                                   { 128, SIZE / 8, 4 },
                                   { 256, SIZE / 16, 0 } };
  for (int i = 0; i < 3; i++)
    {
      Conv2dShape s = conv2d_shape (wide, stages[i][0], stages[i][1], stages[i][1], stages[i][0],
                                    3, 1, 1);
      const int tile = stages[i][2]; /* 0: a sum over taps (2×2 maps) */
      ck_assert_msg (conv2d_winograd_tile (&s, false) == (tile ? 2 : 0), "layer%d at batch %d",
                     i + 1, wide);
      ck_assert_msg (conv2d_winograd_tile (&s, true) == tile, "layer%d at batch %d", i + 1, wide);
      ck_assert_msg (conv2d_uses_taps (&s) == (tile == 0), "layer%d at batch %d", i + 1, wide);
    }

  HnModel *m = golden_model ();
  HnError err;
  ck_assert_msg (model_plan (m, wide, SIZE, &err), "%s", err.message);
  size_t n;
  float *x = golden_floats ("input.x", &n), *age, *gender;
  int32_t race[BATCH];
  golden_targets (&age, &gender, race);
  float *xs = malloc (copies * n * sizeof *xs), ages[16 * BATCH], genders[16 * BATCH];
  int32_t races[16 * BATCH];
  for (int i = 0; i < copies; i++)
    {
      memcpy (xs + i * n, x, n * sizeof *x);
      memcpy (ages + i * BATCH, age, sizeof (float) * BATCH);
      memcpy (genders + i * BATCH, gender, sizeof (float) * BATCH);
      memcpy (races + i * BATCH, race, sizeof race);
    }
  HnTargets targets = { ages, genders, races };

  model_zero_grad (m);
  model_forward (m, xs, wide, true);
  for (int i = 0; i < copies; i++)
    check_outputs_at (m, "train", wide, i * BATCH);
  HnLossReport r = model_loss (m, &targets, &golden_losses);
  float *total = golden_floats ("loss.total", &n);
  ck_assert_msg (is_close (r.total, total[0], 0, 1e-4), "%g vs %g", r.total, total[0]);
  model_backward (m);
  check_gradients (m);

  /* the same model at the golden batch: its layers leave Winograd for im2col and the GEMM,
   * in the scratch planned for the wide batch */
  model_zero_grad (m);
  model_forward (m, x, BATCH, true);
  check_outputs_at (m, "train", BATCH, 0);
  HnTargets narrow = { age, gender, race };
  model_loss (m, &narrow, &golden_losses);
  model_backward (m);
  check_gradients (m);
  free (total), free (xs), free (x), free (age), free (gender);
  model_free (m);
}
END_TEST

/* Three steps of an optimizer from the golden weights. Each tensor's update p₃ − p₀ is
 * compared as a whole: ‖Δ − Δ_torch‖ ≤ tol · ‖Δ_torch‖ (the update, not p₃, whose magnitude
 * would hide it). The batch-norm running statistics, which integrate the three forwards, are
 * compared elementwise. */
static void
check_optimizer (const char *prefix, HnOptimizerConfig cfg, double tol)
{
  HnModel *m = golden_model ();
  const HnParamTable *t = model_params (m);
  size_t n;
  float *x = golden_floats ("input.x", &n), *age, *gender;
  int32_t race[BATCH];
  HnTargets targets = golden_targets (&age, &gender, race);
  HnOptimizer *opt = optimizer_new (&cfg, t->n_params);

  float *p0 = malloc (t->n_params * sizeof *p0);
  memcpy (p0, model_param_data (m), t->n_params * sizeof *p0);
  for (int step = 0; step < 3; step++)
    {
      model_zero_grad (m);
      model_forward (m, x, BATCH, true);
      model_loss (m, &targets, &golden_losses);
      model_backward (m);
      optimizer_step (opt, model_param_data (m), model_grad_data (m));
    }

  float *got = malloc (4096 * sizeof *got), *start = malloc (4096 * sizeof *start);
  double worst = 0;
  const char *worst_name = "";
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      char key[96];
      snprintf (key, sizeof key, "%s.%s", prefix, e->name);
      float *want = golden_floats (key, &n);
      ck_assert_uint_eq (sample_entry (m, e, got), n);
      switch (tensor_role_kind (e->role))
        {
        case TENSOR_COUNT:
          ck_assert_float_eq (got[0], want[0]);
          break;
        case TENSOR_BUFFER:
          assert_close (key, got, want, n, 2e-3 * max_abs (want, n), 2e-3);
          break;
        case TENSOR_PARAM:
          sample_tensor (e, p0, start);
          double diff = 0, norm = 0;
          for (size_t j = 0; j < n; j++)
            {
              double dg = got[j] - start[j], dw = want[j] - start[j];
              diff += (dg - dw) * (dg - dw);
              norm += dw * dw;
            }
          double rel = sqrt (diff / norm);
          if (rel > worst)
            worst = rel, worst_name = e->name;
          break;
        }
      free (want);
    }
  printf ("%s: worst relative update error %.3g (%s)\n", prefix, worst, worst_name);
  ck_assert_msg (worst <= tol, "%s: update of %s off by %.3g of its norm (allowed %.3g)", prefix,
                 worst_name, worst, tol);
  free (got), free (start), free (p0), free (x), free (age), free (gender);
  optimizer_free (opt);
  model_free (m);
}

START_TEST (test_sgd_momentum_steps)
{
  HnOptimizerConfig cfg = optimizer_defaults (OPTIMIZER_SGD, 1e-3f);
  cfg.momentum = 0.9f;
  cfg.weight_decay = 5e-4f;
  check_optimizer ("sgd", cfg, 0.02);
}
END_TEST

START_TEST (test_adam_steps)
{
  engine_set_threads (_i + 1);
  check_optimizer ("adam", optimizer_defaults (OPTIMIZER_ADAM, 1e-4f), 0.25);
}
END_TEST

START_TEST (test_adamw_steps)
{
  check_optimizer ("adamw", optimizer_defaults (OPTIMIZER_ADAMW, 1e-4f), 0.25);
}
END_TEST

/* The update rules alone, on PyTorch's own three steps with fixed gradients: these must
 * agree to float32 round-off. */
static void
check_rule (const char *name, HnOptimizerConfig cfg)
{
  char key[64];
  size_t n, ng, np;
  snprintf (key, sizeof key, "rule.%s.p0", name);
  float *p = golden_floats (key, &n);
  float *grads = golden_floats ("rule.grads", &ng);
  snprintf (key, sizeof key, "rule.%s.p", name);
  float *want = golden_floats (key, &np);
  ck_assert_uint_eq (ng, 3 * n);
  HnOptimizer *opt = optimizer_new (&cfg, n);
  for (int step = 0; step < 3; step++)
    {
      optimizer_step (opt, p, grads + step * n);
      snprintf (key, sizeof key, "rule.%s step %d", name, step + 1);
      assert_close (key, p, want + step * n, n, 1e-7, 1e-6);
    }
  optimizer_free (opt);
  free (p), free (grads), free (want);
}

START_TEST (test_optimizer_rules)
{
  HnOptimizerConfig sgd = optimizer_defaults (OPTIMIZER_SGD, 0.1f);
  sgd.momentum = 0.9f;
  sgd.weight_decay = 0.01f;
  check_rule ("sgd", sgd);
  HnOptimizerConfig adam = optimizer_defaults (OPTIMIZER_ADAM, 0.01f);
  adam.weight_decay = 0.01f;
  check_rule ("adam", adam);
  HnOptimizerConfig adamw = optimizer_defaults (OPTIMIZER_ADAMW, 0.01f);
  adamw.weight_decay = 0.1f;
  check_rule ("adamw", adamw);
}
END_TEST

/* The trainer's guard, optimizer_update_ratio, estimates ‖Δp‖ / ‖p‖ of the next step from a
 * sample of the coordinates. Against the step itself, on a million coordinates whose scale
 * varies from block to block as the model's tensors do: within 3% for every rule, before the
 * first step (SGD's buffer starts at g) and after it; the same on 1 and 2 threads; and not
 * finite when a sampled gradient is not. */
static double
actual_update_ratio (HnOptimizer *opt, const float *p, const float *grads, size_t n)
{
  float *q = malloc (n * sizeof *q);
  memcpy (q, p, n * sizeof *q);
  optimizer_step (opt, q, grads);
  double update = 0, weights = 0;
  for (size_t i = 0; i < n; i++)
    {
      update += ((double) q[i] - p[i]) * ((double) q[i] - p[i]);
      weights += (double) p[i] * p[i];
    }
  free (q);
  return sqrt (update / weights);
}

START_TEST (test_optimizer_update_ratio)
{
  const size_t n = ((size_t) 1 << 20) + 37;
  float *p = malloc (n * sizeof *p), *g = malloc (2 * n * sizeof *g);
  HnRng rng = { 20261129u, 0 };
  for (size_t i = 0; i < n; i++)
    {
      const double scale = 1.0 + (double) ((i >> 12) % 7); /* blocks of 4096 */
      p[i] = (float) (0.05 * scale * rng_normal (&rng));
      g[i] = (float) (1e-3 * scale * rng_normal (&rng));
      g[n + i] = (float) (1e-3 * rng_normal (&rng));
    }
  HnOptimizerConfig configs[3] = { optimizer_defaults (OPTIMIZER_SGD, 0.1f),
                                   optimizer_defaults (OPTIMIZER_ADAM, 1e-3f),
                                   optimizer_defaults (OPTIMIZER_ADAMW, 1e-3f) };
  configs[0].momentum = 0.9f;
  configs[0].weight_decay = 0.01f;
  configs[1].weight_decay = 0.01f;
  configs[2].weight_decay = 5.0f; /* large enough that the decoupled decay shows */
  for (int k = 0; k < 3; k++)
    {
      HnOptimizer *opt = optimizer_new (&configs[k], n);
      for (int step = 0; step < 2; step++)
        {
          const float *grads = g + step * n;
          engine_set_threads (1);
          double one = optimizer_update_ratio (opt, p, grads);
          engine_set_threads (2);
          double two = optimizer_update_ratio (opt, p, grads);
          ck_assert_msg (one == two, "%s: %.17g on 1 thread, %.17g on 2",
                         optimizer_name (configs[k].kind), one, two);
          double want = actual_update_ratio (opt, p, grads, n);
          ck_assert_msg (is_close (two, want, 0, 0.03), "%s before step %d: ratio %g, step %g",
                         optimizer_name (configs[k].kind), step + 1, two, want);
          optimizer_step (opt, p, grads);
        }
      const size_t sampled = 4096 + 255; /* the last coordinate of the second run */
      float saved = g[n + sampled];
      g[n + sampled] = NAN;
      ck_assert (isnan (optimizer_update_ratio (opt, p, g + n)));
      g[n + sampled] = INFINITY;
      ck_assert (!isfinite (optimizer_update_ratio (opt, p, g + n)));
      g[n + sampled] = saved;
      optimizer_free (opt);
    }
  free (p), free (g);
}
END_TEST

START_TEST (test_smaller_batch_after_plan)
{
  /* a model planned for 4 runs 1 image as it would alone */
  HnModel *m = golden_model ();
  size_t n;
  float *x = golden_floats ("input.x", &n);
  model_forward (m, x, BATCH, false);
  float age3 = model_output (m, HEAD_AGE)[3];
  model_forward (m, x + 3 * 3 * SIZE * SIZE, 1, false);
  ck_assert (is_close (model_output (m, HEAD_AGE)[0], age3, 1e-5, 1e-5));
  HnPrediction p;
  model_prediction (m, 0, &p);
  float sum = 0;
  for (int c = 0; c < N_RACES; c++)
    sum += p.race_probs[c];
  ck_assert (is_close (sum, 1.0, 1e-6, 0));
  ck_assert (p.p_female > 0 && p.p_female < 1);
  free (x);
  model_free (m);
}
END_TEST

static Suite *
model_suite (void)
{
  Suite *s = suite_create ("model");
  TCase *tc = tcase_create ("golden");
  tcase_set_timeout (tc, 240);
  tcase_add_unchecked_fixture (tc, load_golden, free_golden);
  tcase_add_test (tc, test_table_matches_state_dict);
  tcase_add_test (tc, test_eval_forward);
  tcase_add_loop_test (tc, test_eval_forward_wide_batch, 0, 2);
  tcase_add_loop_test (tc, test_train_forward_losses_gradients, 0, 2);
  tcase_add_loop_test (tc, test_train_wide_batch_gradients, 0, 2);
  tcase_add_test (tc, test_sgd_momentum_steps);
  tcase_add_loop_test (tc, test_adam_steps, 0, 2);
  tcase_add_test (tc, test_adamw_steps);
  tcase_add_test (tc, test_optimizer_rules);
  tcase_add_test (tc, test_optimizer_update_ratio);
  tcase_add_test (tc, test_smaller_batch_after_plan);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (model_suite ());
}
