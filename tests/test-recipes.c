/* test-recipes.c — what the training recipes are made of: schedules, weight decay by group,
 * Nesterov momentum, label smoothing, the standardised age, test-time flips, the moving
 * average of the weights, augmentation, and a run sized by a time budget.
 *
 * Each against a hand-computed expectation or a property that a mistake breaks; the trainer
 * runs on a tiny in-memory data set as in test-trainer.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "budget.h"
#include "checkpoint.h"
#include "clock.h"
#include "ema.h"
#include "image.h"
#include "losses.h"
#include "rng.h"
#include "schedule.h"
#include "test-runs.h"
#include "test-util.h"
#include "trainer.h"

#define SIZE 32

/* ---- schedules ---- */

START_TEST (test_schedules)
{
  HnSchedule s = schedule_defaults (SCHEDULE_CONSTANT);
  ck_assert_double_eq (schedule_factor (&s, 0.0), 1.0);
  ck_assert_double_eq (schedule_factor (&s, 0.9), 1.0);

  s = schedule_defaults (SCHEDULE_STEP);
  ck_assert_double_eq (schedule_factor (&s, 0.49), 1.0);
  ck_assert (is_close (schedule_factor (&s, 0.5), 0.1, 1e-7, 0));
  ck_assert (is_close (schedule_factor (&s, 0.8), 0.01, 1e-8, 0));

  s = schedule_defaults (SCHEDULE_COSINE);
  s.warmup = 0.1f;
  ck_assert (is_close (schedule_factor (&s, 0.05), 0.5, 1e-6, 0)); /* halfway up */
  ck_assert (is_close (schedule_factor (&s, 0.1), 1.0, 1e-6, 0));  /* the top */
  ck_assert (is_close (schedule_factor (&s, 0.55), 0.5, 1e-6, 0)); /* halfway down */
  ck_assert (is_close (schedule_factor (&s, 1.0), 0.0, 1e-9, 0));
  ck_assert (is_close (schedule_factor (&s, 7.0), 0.0, 1e-9, 0)); /* clamped */

  /* PyTorch's OneCycleLR: from max/25 up to max over 30%, then down to max/25/1e4 */
  s = schedule_defaults (SCHEDULE_ONECYCLE);
  ck_assert (is_close (schedule_factor (&s, 0.0), 1.0 / 25, 1e-7, 0));
  ck_assert (is_close (schedule_factor (&s, 0.3), 1.0, 1e-7, 0));
  ck_assert (is_close (schedule_factor (&s, 0.15), (1.0 + 1.0 / 25) / 2, 1e-6, 0));
  ck_assert (is_close (schedule_factor (&s, 1.0), 1.0 / 25 / 1e4, 1e-12, 0));
  for (double p = 0.31; p < 1; p += 0.01) /* falls all the way down */
    ck_assert (schedule_factor (&s, p) < schedule_factor (&s, p - 0.01));

  HnScheduleKind kind;
  ck_assert (schedule_from_name ("onecycle", &kind) && kind == SCHEDULE_ONECYCLE);
  ck_assert (!schedule_from_name ("cyclic", &kind));
}
END_TEST

/* ---- the optimizer's parameter groups and Nesterov momentum ---- */

START_TEST (test_decay_on_weights_only)
{
  HnModel *model = model_new (BACKBONE_RESNET18, 1);
  const HnParamTable *table = model_params (model);
  const size_t n = table->n_params;
  HnOptimizerConfig cfg = optimizer_defaults (OPTIMIZER_ADAMW, 0.1f);
  cfg.weight_decay = 0.5f;
  HnOptimizer *opt = optimizer_new (&cfg, n);
  ck_assert (optimizer_decay_weights_only (opt, table));
  float *p = model_param_data (model), *before = malloc (n * sizeof *before);
  float *zero = calloc (n, sizeof *zero);
  memcpy (before, p, n * sizeof *before);
  /* with no gradient, AdamW only decays: weights shrink by 1 − lr·wd, the rest stay */
  optimizer_step (opt, p, zero);
  int weights = 0, others = 0;
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      if (tensor_role_kind (t->role) != TENSOR_PARAM)
        continue;
      bool decayed = t->role == ROLE_CONV_WEIGHT || t->role == ROLE_LINEAR_WEIGHT;
      for (size_t j = t->offset; j < t->offset + t->numel; j++)
        ck_assert_msg (p[j] == (decayed ? before[j] * (1.0f - 0.1f * 0.5f) : before[j]),
                       "%s[%zu]", t->name, j - t->offset);
      decayed ? weights++ : others++;
    }
  ck_assert_int_eq (weights, 20 + 6);      /* ResNet-18's convolutions and six linears */
  ck_assert_int_eq (others, 2 * 20 + 6);   /* its batch-norms' γ and β, and six biases */
  optimizer_free (opt);
  model_free (model);
  free (before), free (zero);
}
END_TEST

START_TEST (test_nesterov)
{
  /* torch.optim.SGD(nesterov=True), two steps by hand: b1 = g1; p1 = p0 − lr·(g1 + μ·b1);
   * b2 = μ·b1 + g2; p2 = p1 − lr·(g2 + μ·b2) */
  HnOptimizerConfig cfg = optimizer_defaults (OPTIMIZER_SGD, 0.1f);
  cfg.momentum = 0.9f;
  cfg.nesterov = true;
  HnOptimizer *opt = optimizer_new (&cfg, 3);
  float p[3] = { 1, -2, 0.5f }, g1[3] = { 0.5f, 1, -1 }, g2[3] = { -0.25f, 2, 0 };
  double want[3];
  for (int i = 0; i < 3; i++)
    {
      double b1 = g1[i], p1 = p[i] - 0.1 * (g1[i] + 0.9 * b1);
      double b2 = 0.9 * b1 + g2[i];
      want[i] = p1 - 0.1 * (g2[i] + 0.9 * b2);
    }
  optimizer_step (opt, p, g1);
  optimizer_step (opt, p, g2);
  for (int i = 0; i < 3; i++)
    ck_assert_msg (is_close (p[i], want[i], 1e-6, 1e-6), "p[%d] = %g, want %g", i, p[i], want[i]);
  optimizer_free (opt);
}
END_TEST

/* ---- losses ---- */

START_TEST (test_label_smoothing)
{
  /* K = 5, N = 3, class-major */
  const int k = 5, n = 3;
  float logits[15];
  HnRng rng = { 7 };
  for (int i = 0; i < 15; i++)
    logits[i] = (float) rng_normal (&rng);
  const int32_t target[3] = { 0, 3, 4 };
  /* eps 0 is the plain loss, bit for bit */
  ck_assert_float_eq (cross_entropy_smoothed_forward (logits, target, k, n, 0.0f),
                      cross_entropy_forward (logits, target, k, n));
  /* by hand: (1 − eps)·CE + eps·mean_c(−log p_c) */
  const float eps = 0.1f;
  double want = 0;
  for (int j = 0; j < n; j++)
    {
      double lse = 0;
      for (int c = 0; c < k; c++)
        lse += exp (logits[c * n + j]);
      lse = log (lse);
      double nll = lse - logits[target[j] * n + j], uniform = 0;
      for (int c = 0; c < k; c++)
        uniform += (lse - logits[c * n + j]) / k;
      want += ((1 - eps) * nll + eps * uniform) / n;
    }
  ck_assert (is_close (cross_entropy_smoothed_forward (logits, target, k, n, eps), want, 1e-6, 1e-6));
  /* its gradient against central differences */
  float grad[15] = { 0 };
  cross_entropy_smoothed_backward (grad, logits, target, k, n, eps, 2.0f);
  for (int i = 0; i < 15; i++)
    {
      float saved = logits[i];
      logits[i] = saved + 1e-3f;
      double up = cross_entropy_smoothed_forward (logits, target, k, n, eps);
      logits[i] = saved - 1e-3f;
      double down = cross_entropy_smoothed_forward (logits, target, k, n, eps);
      logits[i] = saved;
      ck_assert_msg (is_close (grad[i], 2.0 * (up - down) / 2e-3, 2e-3, 2e-2), "d[%d]", i);
    }
}
END_TEST

/* ---- the standardised age, and test-time flips ---- */

static float *
random_images (int n, uint64_t seed)
{
  float *x = malloc (sizeof (float) * 3 * SIZE * SIZE * n);
  HnRng rng = { seed };
  for (int i = 0; i < 3 * SIZE * SIZE * n; i++)
    x[i] = (float) rng_normal (&rng);
  return x;
}

START_TEST (test_standardised_age)
{
  const int n = 4;
  HnModel *plain = model_new (BACKBONE_RESNET18, 3), *scaled = model_new (BACKBONE_RESNET18, 3);
  HnError err;
  ck_assert (model_plan (plain, n, SIZE, &err) && model_plan (scaled, n, SIZE, &err));
  model_set_age_scale (scaled, 33.0f, 19.5f);
  float *x = random_images (n, 5);
  const float age[4] = { 1, 25, 60, 90 }, gender[4] = { 0, 1, 1, 0 };
  const int32_t race[4] = { 0, 1, 2, 4 };
  const HnTargets targets = { age, gender, race };
  const HnLossConfig cfg = { AGE_LOSS_L1, { 2.0f, 1.0f, 1.0f } };
  model_forward (plain, x, n, true);
  model_forward (scaled, x, n, true);
  /* the head's own output z becomes 33 + 19.5·z years */
  for (int i = 0; i < n; i++)
    ck_assert (is_close (model_output (scaled, HEAD_AGE)[i],
                         33.0 + 19.5 * model_output (plain, HEAD_AGE)[i], 1e-4, 1e-5));
  HnLossReport p = model_loss (plain, &targets, &cfg), s = model_loss (scaled, &targets, &cfg);
  /* the loss is reported in years, and trained on in standard deviations: L1 / 19.5 */
  double years = 0;
  for (int i = 0; i < n; i++)
    years += fabs (model_output (scaled, HEAD_AGE)[i] - age[i]) / n;
  ck_assert (is_close (s.raw[HEAD_AGE], years, 1e-4, 1e-5));
  ck_assert (is_close (s.weighted[HEAD_AGE], 2.0 * years / 19.5, 1e-5, 1e-4));
  ck_assert (is_close (p.weighted[HEAD_AGE], 2.0 * p.raw[HEAD_AGE], 1e-6, 1e-6));
  ck_assert_float_eq (s.raw[HEAD_RACE], p.raw[HEAD_RACE]);
  /* smoothing moves the gender targets to y·(1 − eps) + eps/2, as PyTorch users write it */
  HnLossConfig smooth = cfg;
  smooth.smoothing = 0.2f;
  HnLossReport g = model_loss (plain, &targets, &smooth);
  double bce = 0;
  for (int i = 0; i < n; i++)
    {
      const double z = model_output (plain, HEAD_GENDER)[i], y = gender[i] * 0.8 + 0.1;
      bce += (log1p (exp (-fabs (z))) + fmax (z, 0) - y * z) / n;
    }
  ck_assert_msg (is_close (g.raw[HEAD_GENDER], bce, 1e-5, 1e-5), "%g against %g",
                 g.raw[HEAD_GENDER], bce);
  /* a checkpoint keeps the scale */
  char *dir = test_tmpdir (), *path = test_path (dir, "m.safetensors");
  ck_assert_msg (checkpoint_save (scaled, SIZE, path, NULL, 0, &err), "%s", err.message);
  HnCheckpointInfo info;
  HnModel *back = checkpoint_load (path, &info, &err);
  ck_assert_msg (back != NULL, "%s", err.message);
  float mean, std;
  model_get_age_scale (back, &mean, &std);
  ck_assert_float_eq (mean, 33.0f);
  ck_assert_float_eq (std, 19.5f);
  model_free (back);
  test_rmtree (dir);
  free (path), free (dir), free (x);
  model_free (plain), model_free (scaled);
}
END_TEST

START_TEST (test_flip_tta)
{
  const int n = 3;
  HnModel *m = model_new (BACKBONE_RESNET18, 9);
  HnError err;
  ck_assert (model_plan (m, n, SIZE, &err));
  float *x = random_images (n, 11), *mirrored = malloc (sizeof (float) * 3 * SIZE * SIZE * n);
  float age[3], gender[3], race[15], age_f[3], gender_f[3], race_f[15];
  /* the flip average of x is that of its mirror image */
  model_infer (m, x, n, true, mirrored, age, gender, race);
  float *x2 = malloc (sizeof (float) * 3 * SIZE * SIZE * n);
  for (size_t row = 0; row < (size_t) n * 3 * SIZE; row++)
    for (int col = 0; col < SIZE; col++)
      x2[row * SIZE + col] = x[row * SIZE + SIZE - 1 - col];
  model_infer (m, x2, n, true, mirrored, age_f, gender_f, race_f);
  for (int i = 0; i < n; i++)
    {
      ck_assert (is_close (age[i], age_f[i], 1e-5, 1e-5));
      ck_assert (is_close (gender[i], gender_f[i], 1e-5, 1e-4));
    }
  /* and it is the average of the two passes */
  float a1[3], g1[3], r1[15], a2[3], g2[3], r2[15];
  model_infer (m, x, n, false, NULL, a1, g1, r1);
  model_infer (m, x2, n, false, NULL, a2, g2, r2);
  for (int i = 0; i < n; i++)
    {
      ck_assert (is_close (age[i], (a1[i] + a2[i]) / 2, 1e-5, 1e-5));
      double p = (1 / (1 + exp (-g1[i])) + 1 / (1 + exp (-g2[i]))) / 2;
      ck_assert (is_close (gender[i], log (p / (1 - p)), 1e-4, 1e-4));
    }
  free (x), free (x2), free (mirrored);
  model_free (m);
}
END_TEST

/* ---- the moving average ---- */

START_TEST (test_ema)
{
  HnModel *m = model_new (BACKBONE_RESNET18, 2);
  const size_t n = model_params (m)->n_params;
  HnEma ema;
  ck_assert (ema_init (&ema, 0.99f, m));
  float *p = model_param_data (m), w0 = p[100];
  /* three updates with the weight at 1: d = min(0.99, (1 + k)/(10 + k)) = 0.1, 2/11, 3/12 */
  p[100] = 1.0f;
  double avg = w0;
  for (int k = 0; k < 3; k++)
    {
      ema_update (&ema, m);
      double d = (1.0 + k) / (10.0 + k);
      avg = d * avg + (1 - d) * 1.0;
    }
  ck_assert (is_close (ema.params[100], avg, 1e-6, 1e-5));
  /* swapped in and out again: everything as it was */
  float *copy = malloc (n * sizeof *copy);
  memcpy (copy, p, n * sizeof *copy);
  ema_swap (&ema, m);
  ck_assert (is_close (p[100], avg, 1e-6, 1e-5));
  ema_swap (&ema, m);
  ck_assert_int_eq (memcmp (copy, p, n * sizeof *copy), 0);
  free (copy);
  ema_clear (&ema);
  model_free (m);
}
END_TEST

/* ---- augmentation ---- */

static uint8_t *
random_rgb (int size, uint64_t seed)
{
  uint8_t *rgb = malloc ((size_t) size * size * 3);
  HnRng rng = { seed };
  for (int i = 0; i < size * size * 3; i++)
    rgb[i] = (uint8_t) rng_below (&rng, 256);
  return rgb;
}

START_TEST (test_augmentation)
{
  const int s = 24;
  const size_t floats = (size_t) 3 * s * s;
  uint8_t *rgb = random_rgb (s, 4);
  float *a = malloc (floats * sizeof *a), *b = malloc (floats * sizeof *b);
  /* none: the plain preprocessing, bit for bit */
  HnAugment none = { 0 };
  augment_image (rgb, s, &none, 1, a);
  image_normalize (rgb, s, b);
  ck_assert_int_eq (memcmp (a, b, floats * sizeof *a), 0);
  /* the same seed, the same image; another seed, another */
  HnAugment all;
  ck_assert (augment_from_names ("flip,crop,aspect,rotate,color", &all));
  augment_image (rgb, s, &all, 99, a);
  augment_image (rgb, s, &all, 99, b);
  ck_assert_int_eq (memcmp (a, b, floats * sizeof *a), 0);
  augment_image (rgb, s, &all, 100, b);
  ck_assert_int_ne (memcmp (a, b, floats * sizeof *a), 0);
  /* a flip alone mirrors the plain preprocessing exactly, whenever it is drawn */
  HnAugment flip = { .flip = true };
  float *plain = malloc (floats * sizeof *plain);
  image_normalize (rgb, s, plain);
  int flipped = 0;
  for (uint64_t seed = 0; seed < 20; seed++)
    {
      augment_image (rgb, s, &flip, seed, a);
      bool mirrored = true, same = memcmp (a, plain, floats * sizeof *a) == 0;
      for (size_t row = 0; row < (size_t) 3 * s; row++)
        for (int col = 0; col < s; col++)
          mirrored &= a[row * s + col] == plain[row * s + s - 1 - col];
      ck_assert (mirrored || same);
      flipped += mirrored;
    }
  ck_assert (flipped > 3 && flipped < 17);
  /* names */
  HnAugment parsed;
  char text[160];
  ck_assert (augment_from_names ("flip,crop=0.5,rotate=15,color=0.1", &parsed));
  ck_assert (parsed.flip && parsed.crop == 0.5f && parsed.rotate == 15.0f);
  ck_assert (parsed.brightness == 0.1f && parsed.saturation == 0.1f);
  augment_to_names (&parsed, text, sizeof text);
  ck_assert_str_eq (text, "flip,crop=0.5,rotate=15,brightness=0.1,contrast=0.1,saturation=0.1");
  for (const char *bad = "shear\0crop=2\0flip=1\0rotate=x\0color=-1\0"; *bad; bad += strlen (bad) + 1)
    ck_assert_msg (!augment_from_names (bad, &parsed), "%s accepted", bad);
  free (a), free (b), free (plain), free (rgb);
}
END_TEST

/* ---- the budget ---- */

START_TEST (test_budget_progress)
{
  /* 100 s, epochs of 10 steps of 1 s; an end guessed at 2 s until one is measured */
  HnBudget b;
  budget_start (&b, 100.0, 0.0, 10, 0.2);
  ck_assert_double_eq (budget_progress (&b), 0.0);
  double p = 0;
  for (int s = 0; s < 10; s++)
    {
      budget_step (&b, 1.0);
      ck_assert (budget_progress (&b) > p);
      p = budget_progress (&b);
    }
  /* left: R + 2·R/10 = 100 − 10 − 2 */
  ck_assert (is_close (p, 10 / (10 + 88.0 / 1.2), 1e-9, 1e-9));
  budget_epoch_end (&b, 8.0, true); /* a slower end than guessed: less training fits */
  ck_assert (is_close (budget_progress (&b), 10 / (10 + 74.0 / 1.8), 1e-9, 1e-9));
  for (int s = 0; s < 10; s++)
    budget_step (&b, 1.0);
  budget_epoch_end (&b, 2.0, true); /* fast again: the slow one is still spent */
  ck_assert (is_close (budget_progress (&b), 20 / (20 + 68.0 / 1.2), 1e-9, 1e-9));
  /* to the end: training stops where one more end still fits, most of the time used */
  int steps = 20;
  double spent = 20 + 8 + 2;
  while (budget_progress (&b) < 1.0)
    {
      budget_step (&b, 1.0);
      spent += 1;
      if (++steps % 10 == 0)
        {
          budget_epoch_end (&b, 2.0, true);
          spent += 2;
        }
    }
  ck_assert_msg (spent + 2 <= 100 + 1 && spent + 2 >= 95, "ends at %g s of 100", spent + 2);

  /* an end without validation (a checkpoint alone) tops up the guess until one validates */
  budget_start (&b, 100.0, 0.0, 10, 0.2);
  for (int s = 0; s < 10; s++)
    budget_step (&b, 1.0);
  budget_epoch_end (&b, 1.0, false);
  ck_assert (is_close (budget_progress (&b), 10 / (10 + 86.0 / 1.3), 1e-9, 1e-9));
}
END_TEST

/* ---- runs ---- */


/* The learning rate of each step follows the schedule; a live change scales the rest of it. */
START_TEST (test_schedule_in_a_run)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config (); /* three steps an epoch, SGD lr 0.01 */
  c.epochs = 4;
  c.schedule = schedule_defaults (SCHEDULE_COSINE);
  c.schedule.warmup = 0.25f;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert (trainer_start (t, &err));
  HnEvent steps[12];
  int n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 12), TRAINER_FINISHED);
  ck_assert_int_eq (n, 12);
  for (int i = 0; i < 12; i++)
    ck_assert_msg (is_close (steps[i].train.lr, 0.01 * schedule_factor (&c.schedule, (i + 1) / 12.0),
                             1e-9, 1e-6),
                   "step %d: lr %g", i + 1, steps[i].train.lr);
  trainer_free (t);

  /* the live control sets the peak: the whole schedule doubles, warm-up included */
  t = trainer_new (&c, ds, NULL, NULL, &err);
  trainer_pause (t);
  ck_assert (trainer_start (t, &err));
  trainer_set_lr (t, 0.02f);
  trainer_resume_training (t);
  n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 12), TRAINER_FINISHED);
  for (int i = 0; i < 12; i++)
    ck_assert_msg (is_close (steps[i].train.lr, 0.02 * schedule_factor (&c.schedule, (i + 1) / 12.0),
                             1e-9, 1e-6),
                   "step %d after the peak doubled: lr %g", i + 1, steps[i].train.lr);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

/* A run with a time budget ends by its deadline, validation included, having trained for
 * most of it. */
START_TEST (test_time_budget)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 100000;
  c.val_percent = 30;
  c.optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f);
  c.schedule = schedule_defaults (SCHEDULE_ONECYCLE);
  c.time_budget = 8.0;
  c.clock_start = hn_seconds ();
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert (trainer_start (t, &err));
  static HnEvent steps[4096];
  int n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 4096), TRAINER_FINISHED);
  double took = hn_seconds () - c.clock_start;
  ck_assert_msg (took <= 8.0 && took > 4.0, "the run took %.2f s of its 8", took);
  /* the schedule went up near its peak and came down to its end within the time, however
   * many steps this machine fitted in (a sanitizer build on a busy one: under 10) */
  ck_assert_int_ge (n, 3);
  int at = 0;
  for (int i = 0; i < n; i++)
    if (steps[i].train.lr > steps[at].train.lr)
      at = i;
  float top = steps[at].train.lr;
  ck_assert_msg (at > 0 && at < n - 1 && top > 0.5e-3f && top <= 1.0001e-3f,
                 "peak %g at step %d of %d", top, at + 1, n);
  ck_assert (steps[n - 1].train.lr < 0.05f * top);
  trainer_free (t);

  /* when the epochs run out long before the budget, the schedule still comes down */
  c.epochs = 2;
  c.val_percent = 0;
  c.schedule = schedule_defaults (SCHEDULE_COSINE);
  c.schedule.warmup = 0;
  c.time_budget = 3600;
  c.clock_start = hn_seconds ();
  t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 4096), TRAINER_FINISHED);
  ck_assert_int_eq (n, 6);
  ck_assert_msg (steps[n - 1].train.lr < 0.05f * c.optimizer.lr, "the last step's lr is %g",
                 steps[n - 1].train.lr);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

/* A run with a time budget, stopped and resumed, goes on down its schedule from where it
 * stood rather than starting it again. */
START_TEST (test_budget_resume)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = test_path (dir, "budget.safetensors");
  HnTrainConfig c = tiny_config ();
  c.epochs = 100000;
  c.schedule = schedule_defaults (SCHEDULE_COSINE); /* falls from the first step on */
  c.schedule.warmup = 0;
  c.time_budget = 30.0;
  c.clock_start = hn_seconds ();
  c.checkpoint_path = path;
  HnError err;

  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  float last_lr = 0;
  HnEvent e[64];
  for (bool stopped = false; !stopped;)
    {
      trainer_wait_event (t, 100);
      int k = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < k && !stopped; i++)
        if (e[i].kind == EVENT_STEP)
          last_lr = e[i].train.lr;
        else if (e[i].kind == EVENT_CHECKPOINT && e[i].epoch >= 2)
          {
            trainer_pause (t);
            stopped = true;
          }
        else
          ck_assert (e[i].kind != EVENT_STATE || e[i].state.state != TRAINER_FINISHED);
    }
  trainer_free (t);
  ck_assert (last_lr < 0.01f); /* into the schedule */

  c.time_budget = 2.0; /* what is left, say */
  c.clock_start = hn_seconds ();
  t = trainer_resume (path, &c, ds, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert (trainer_start (t, &err));
  HnEvent steps[1];
  int n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 1), TRAINER_FINISHED);
  ck_assert_msg (steps[0].train.lr <= last_lr * 1.0001f,
                 "resumed at lr %g after %g: the schedule started again", steps[0].train.lr,
                 last_lr);
  trainer_free (t);
  test_rmtree (dir);
  free (path), free (dir);
  free_tiny (ds);
}
END_TEST

/* With a moving average and a one-cycle schedule, stopping and resuming from the checkpoint
 * ends with the weights, and the average, of the run that never stopped. */
START_TEST (test_resume_with_average)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = test_path (dir, "run.safetensors");
  HnTrainConfig c = tiny_config ();
  c.epochs = 3;
  c.optimizer = optimizer_defaults (OPTIMIZER_ADAMW, 1e-3f);
  c.optimizer.decay_all = false;
  c.schedule = schedule_defaults (SCHEDULE_ONECYCLE);
  c.ema_decay = 0.9f;
  c.standardize_age = true;
  HnError err;

  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  HnEvent steps[16];
  int n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 16), TRAINER_FINISHED);
  trainer_join (t);
  HnModel *straight = model_new (c.backbone, 0);
  trainer_snapshot (t, straight);
  trainer_free (t);

  /* the same run, in two pieces: the first 1 epoch long, but planned for 3 */
  HnTrainConfig first = c;
  first.checkpoint_path = path;
  t = trainer_new (&first, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  n = 0;
  HnEvent e[64];
  for (bool stopped = false; !stopped;)
    {
      trainer_wait_event (t, 100);
      int k = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < k && !stopped; i++)
        if (e[i].kind == EVENT_CHECKPOINT && e[i].epoch == 1)
          {
            trainer_pause (t);
            stopped = true;
          }
    }
  trainer_free (t);
  HnTrainConfig rest = tiny_config (); /* SGD: the optimizer comes from the checkpoint */
  rest.epochs = 3;
  rest.checkpoint_path = path;
  t = trainer_resume (path, &rest, ds, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert (trainer_start (t, &err));
  n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 16), TRAINER_FINISHED);
  trainer_join (t);
  HnModel *resumed = model_new (c.backbone, 0);
  trainer_snapshot (t, resumed);
  trainer_free (t);
  const HnParamTable *table = model_params (straight);
  ck_assert_msg (memcmp (model_param_data (straight), model_param_data (resumed),
                         table->n_params * sizeof (float)) == 0,
                 "the averaged weights differ after resuming");
  ck_assert_msg (memcmp (model_buffer_data (straight), model_buffer_data (resumed),
                         table->n_buffers * sizeof (float)) == 0,
                 "the averaged running statistics differ after resuming");
  float m1, s1, m2, s2;
  model_get_age_scale (straight, &m1, &s1);
  model_get_age_scale (resumed, &m2, &s2);
  ck_assert (m1 == m2 && s1 == s2 && s1 != 1.0f);
  model_free (straight);
  model_free (resumed);
  test_rmtree (dir);
  free (path), free (dir);
  free_tiny (ds);
}
END_TEST

/* Validation is weighed as training is: with the age standardised, its L1 in standard
 * deviations, so that the validation total sits on the training total's scale. */
START_TEST (test_validation_weighed_as_trained)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 1;
  c.val_percent = 30;
  c.standardize_age = true;
  c.loss.weight[HEAD_AGE] = 2.0f;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  HnEvent e[64], val = { 0 };
  for (HnTrainerState end = TRAINER_RUNNING; end == TRAINER_RUNNING;)
    {
      trainer_wait_event (t, 100);
      int k = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < k; i++)
        if (e[i].kind == EVENT_EPOCH)
          val = e[i];
        else if (e[i].kind == EVENT_STATE)
          end = e[i].state.state;
    }
  ck_assert_int_gt (val.val.n, 0);
  HnModel *m = model_new (c.backbone, 0);
  trainer_snapshot (t, m);
  float mean, std;
  model_get_age_scale (m, &mean, &std);
  ck_assert (std > 1.0f);
  ck_assert (is_close (val.val.trained[HEAD_AGE], val.val.loss[HEAD_AGE] / std, 1e-5, 1e-4));
  ck_assert_double_eq (val.val.trained[HEAD_RACE], val.val.loss[HEAD_RACE]);
  float weighted[N_HEADS];
  const float total = eval_weighted (&val.val, &val.loss, weighted);
  ck_assert (is_close (weighted[HEAD_AGE], 2.0 * val.val.loss[HEAD_AGE] / std, 1e-5, 1e-4));
  ck_assert (is_close (total, weighted[0] + weighted[1] + weighted[2], 1e-6, 1e-6));
  model_free (m);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

/* Runs c on ds; the epochs whose ends validated go into validated (up to 8), in order.
 * Returns the number of ends. */
static int
run_validations (const HnTrainConfig *c, const HnDataset *ds, int *validated, int *n_validated)
{
  HnError err;
  HnTrainer *t = trainer_new (c, ds, NULL, NULL, &err);
  ck_assert_msg (t != NULL && trainer_start (t, &err), "%s", err.message);
  HnEvent e[64];
  int ends = 0;
  *n_validated = 0;
  for (HnTrainerState end = TRAINER_RUNNING; end == TRAINER_RUNNING;)
    {
      trainer_wait_event (t, 100);
      int k = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < k; i++)
        if (e[i].kind == EVENT_EPOCH)
          {
            ends++;
            if (e[i].val.n > 0 && *n_validated < 8)
              validated[(*n_validated)++] = e[i].epoch;
          }
        else if (e[i].kind == EVENT_STATE)
          end = e[i].state.state;
    }
  trainer_free (t);
  return ends;
}

/* val_every 2 over 5 epochs validates after epochs 2, 4 and 5 (the run's end); the epochs
 * between still end, with no figures. VAL_AT_END validates the last only. */
START_TEST (test_val_every)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 5;
  c.val_percent = 30;
  c.val_every = 2;
  int validated[8], n;
  ck_assert_int_eq (run_validations (&c, ds, validated, &n), 5);
  ck_assert_int_eq (n, 3);
  ck_assert_int_eq (validated[0], 2);
  ck_assert_int_eq (validated[1], 4);
  ck_assert_int_eq (validated[2], 5);

  c.epochs = 3;
  c.val_every = VAL_AT_END;
  ck_assert_int_eq (run_validations (&c, ds, validated, &n), 3);
  ck_assert_int_eq (n, 1);
  ck_assert_int_eq (validated[0], 3);
  free_tiny (ds);
}
END_TEST

/* A run resumed with the age standardised keeps a checkpoint's age head in years: its
 * weights were trained for that scale. */
START_TEST (test_resume_keeps_age_scale)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = test_path (dir, "years.safetensors");
  HnTrainConfig c = tiny_config ();
  c.epochs = 1;
  c.checkpoint_path = path;
  HnError err;

  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (t != NULL && trainer_start (t, &err));
  HnEvent steps[8];
  int n = 0;
  ck_assert_int_eq (collect_steps (t, steps, &n, 8), TRAINER_FINISHED);
  trainer_free (t);

  c.epochs = 2;
  c.standardize_age = true;
  t = trainer_resume (path, &c, ds, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  HnModel *m = model_new (c.backbone, 0);
  trainer_snapshot (t, m);
  float mean, std;
  model_get_age_scale (m, &mean, &std);
  ck_assert (mean == 0.0f && std == 1.0f);
  model_free (m);
  trainer_free (t);
  test_rmtree (dir);
  free (path), free (dir);
  free_tiny (ds);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("recipes");
  TCase *tc = tcase_create ("recipes");
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_schedules);
  tcase_add_test (tc, test_decay_on_weights_only);
  tcase_add_test (tc, test_nesterov);
  tcase_add_test (tc, test_label_smoothing);
  tcase_add_test (tc, test_standardised_age);
  tcase_add_test (tc, test_flip_tta);
  tcase_add_test (tc, test_ema);
  tcase_add_test (tc, test_augmentation);
  tcase_add_test (tc, test_budget_progress);
  tcase_add_test (tc, test_schedule_in_a_run);
  tcase_add_test (tc, test_time_budget);
  tcase_add_test (tc, test_budget_resume);
  tcase_add_test (tc, test_resume_with_average);
  tcase_add_test (tc, test_resume_keeps_age_scale);
  tcase_add_test (tc, test_validation_weighed_as_trained);
  tcase_add_test (tc, test_val_every);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
