/* test-balance.c — the balancing methods: their weights against LibMTL's formulas in PyTorch
 * (tests/golden/balance.safetensors, written by tests/golden/make_balance_golden.py), the
 * backward pass in two halves, and the methods in a run: switched live, warm-started, handed
 * back by a slider, and continued exactly from a checkpoint.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance.h"
#include "rng.h"
#include "safetensors.h"
#include "test-runs.h"
#include "test-util.h"
#include "trainer.h"

#define CASES 6
#define STEPS 8

static HnSafetensors *golden;

static void
load_golden (void)
{
  golden = test_read_golden ("golden/balance.safetensors");
}

static void
free_golden (void)
{
  safetensors_free (golden);
}

/* The n values of a golden tensor as doubles, whatever its float type. */
static void
golden_values (const char *name, double *out, size_t n)
{
  const StTensor *t = safetensors_find (golden, name);
  ck_assert_msg (t != NULL && (size_t) st_numel (t) == n, "golden %s missing or misshapen", name);
  for (size_t i = 0; i < n; i++)
    {
      if (t->dtype == ST_F64)
        memcpy (&out[i], (const char *) t->data + 8 * i, 8);
      else
        {
          ck_assert_int_eq (t->dtype, ST_F32);
          float f;
          memcpy (&f, (const char *) t->data + 4 * i, 4);
          out[i] = f;
        }
    }
}

static void
assert_weights (const char *what, int k, const float got[3], const double want[3], double rtol)
{
  for (int i = 0; i < 3; i++)
    ck_assert_msg (is_close (got[i], want[i], 1e-6, rtol), "%s %d: weight %d is %.9g, LibMTL %.9g",
                   what, k, i, got[i], want[i]);
}

/* ---- against LibMTL's formulas ---- */

START_TEST (test_gradient_methods_match_libmtl)
{
  load_golden ();
  const StTensor *first = safetensors_find (golden, "grads.0");
  ck_assert_ptr_nonnull (first);
  const size_t d = (size_t) first->shape[1];
  double *g = malloc (3 * d * sizeof *g);
  for (int k = 0; k < CASES; k++)
    {
      char name[32];
      snprintf (name, sizeof name, "grads.%d", k);
      golden_values (name, g, 3 * d);
      double gram[3][3] = { { 0 } }, order_f[9], want[3];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          for (size_t x = 0; x < d; x++)
            gram[i][j] += g[i * d + x] * g[j * d + x];
      snprintf (name, sizeof name, "order.%d", k);
      golden_values (name, order_f, 9);
      int order[3][3];
      for (int i = 0; i < 9; i++)
        order[i / 3][i % 3] = (int) order_f[i];

      static const struct { HnBalance method; const char *name; } methods[] = {
        { BALANCE_MGDA_UB, "mgda" }, { BALANCE_IMTL_G, "imtl" }, { BALANCE_PCGRAD, "pcgrad" },
      };
      for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
        {
          snprintf (name, sizeof name, "%s.%d", methods[m].name, k);
          golden_values (name, want, 3);
          float w[3] = { NAN, NAN, NAN }; /* "in force": must be replaced */
          balance_gradient_weights (methods[m].method, gram, order, w);
          assert_weights (methods[m].name, k, w, want, 1e-5);
        }
    }
  free (g);
  free_golden ();
}
END_TEST

START_TEST (test_loss_methods_match_libmtl)
{
  load_golden ();
  double losses_d[STEPS * 3], normals_d[STEPS * 3], start_d[3], lr;
  golden_values ("losses", losses_d, STEPS * 3);
  golden_values ("normals", normals_d, STEPS * 3);
  golden_values ("start", start_d, 3);
  golden_values ("lr", &lr, 1);
  const float start[3] = { (float) start_d[0], (float) start_d[1], (float) start_d[2] };

  static const struct { HnBalance method; const char *name; } methods[] = {
    { BALANCE_SCALE_INVARIANT, "si" }, { BALANCE_UNCERTAINTY, "uncertainty" },
    { BALANCE_FAMO, "famo" }, { BALANCE_RLW, "rlw" },
  };
  for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++)
    {
      double want[STEPS * 3];
      golden_values (methods[m].name, want, STEPS * 3);
      HnBalanceState s;
      balance_start (&s, methods[m].method, start);
      for (int t = 0; t < STEPS; t++)
        {
          float loss[3], normal[3], w[3];
          for (int i = 0; i < 3; i++)
            {
              loss[i] = (float) losses_d[3 * t + i];
              normal[i] = (float) normals_d[3 * t + i];
            }
          balance_loss_step (methods[m].method, &s, loss, (float) lr, normal, w);
          assert_weights (methods[m].name, t, w, want + 3 * t, 2e-5);
        }
    }
  free_golden ();
}
END_TEST

/* Degenerate gradients keep the weights in force rather than produce NaN. */
START_TEST (test_degenerate_gradients_keep_weights)
{
  const double zero_head[3][3] = { { 4, 0, 2 }, { 0, 0, 0 }, { 2, 0, 9 } };
  const int order[3][3] = { { 0, 1, 2 }, { 0, 1, 2 }, { 0, 1, 2 } };
  float w[3] = { 0.5f, 2.0f, 1.5f };
  balance_gradient_weights (BALANCE_IMTL_G, zero_head, order, w);
  ck_assert (w[0] == 0.5f && w[1] == 2.0f && w[2] == 1.5f);
  /* MGDA on three equal gradients: any point of the simplex is the minimum; it stays there */
  const double same[3][3] = { { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } };
  balance_gradient_weights (BALANCE_MGDA_UB, same, order, w);
  ck_assert (isfinite (w[0]) && isfinite (w[1]) && isfinite (w[2]));
  ck_assert (is_close (w[0] + w[1] + w[2], 1.0, 1e-6, 0));
}
END_TEST

START_TEST (test_state_round_trip_and_corrupt)
{
  HnBalanceState s, back;
  balance_start (&s, BALANCE_FAMO, (const float[3]) { 3, 1, 0.5f });
  float w[3];
  balance_loss_step (BALANCE_FAMO, &s, (const float[3]) { 0.8f, 0.6f, 1.2f }, 0, NULL, w);
  balance_loss_step (BALANCE_FAMO, &s, (const float[3]) { 0.7f, 0.65f, 1.0f }, 0, NULL, w);
  float packed[BALANCE_PACKED];
  balance_pack (&s, packed);
  ck_assert (balance_unpack (&back, packed));
  ck_assert (memcmp (&s.param, &back.param, sizeof s.param) == 0 && back.t == s.t
             && back.has_prev && memcmp (&s.prev_loss, &back.prev_loss, sizeof s.prev_loss) == 0);
  float bad[BALANCE_PACKED];
  memcpy (bad, packed, sizeof bad);
  bad[4] = NAN;
  ck_assert (!balance_unpack (&back, bad));
  memcpy (bad, packed, sizeof bad);
  bad[15] = 2.5f; /* Adam's step count */
  ck_assert (!balance_unpack (&back, bad));
  memcpy (bad, packed, sizeof bad);
  bad[9] = -1; /* a second moment */
  ck_assert (!balance_unpack (&back, bad));
}
END_TEST

/* ---- the backward pass in two halves ---- */

/* Heads unweighted, then the trunk from Σ wₕ·gₕ, gives the gradients that the losses weighed
 * by w in model_loss give: the split is the same backward, only steerable. */
START_TEST (test_split_backward_is_weighted_backward)
{
  const int n = 4, size = 32;
  HnModel *m = model_new (BACKBONE_RESNET18, 7);
  HnError err;
  ck_assert (model_plan (m, n, size, &err));
  float *x = malloc (sizeof (float) * n * 3 * size * size);
  HnRng rng = { .seed = 11 };
  for (int i = 0; i < n * 3 * size * size; i++)
    x[i] = (float) rng_normal (&rng);
  const float age[4] = { 20, 35, 50, 8 }, gender[4] = { 0, 1, 1, 0 };
  const int32_t race[4] = { 0, 1, 2, 4 };
  HnTargets targets = { age, gender, race };
  const float w[3] = { 0.3f, 1.7f, 0.6f };
  const size_t np = model_params (m)->n_params;

  HnLossConfig weighted = { AGE_LOSS_L1, { w[0], w[1], w[2] } };
  model_zero_grad (m);
  model_forward (m, x, n, true);
  model_loss (m, &targets, &weighted);
  model_backward (m);
  float *want = malloc (np * sizeof (float));
  memcpy (want, model_grad_data (m), np * sizeof (float));

  HnLossConfig unit = { AGE_LOSS_L1, { 1, 1, 1 } };
  model_zero_grad (m);
  model_forward (m, x, n, true);
  model_loss (m, &targets, &unit);
  model_backward_heads (m);
  model_backward_trunk (m, w, true);
  /* the weights meet the gradients at another point of the chain, so the float rounding
   * differs; train-mode BN over four images magnifies it where the sums cancel */
  double rms = 0;
  for (size_t i = 0; i < np; i++)
    rms += (double) want[i] * want[i];
  rms = sqrt (rms / np);
  assert_close ("split backward", model_grad_data (m), want, np, 2e-3 * rms, 2e-3);

  /* a gradient method weighs the trunk only: the heads' own gradients stay unweighted */
  float *unit_grads = malloc (np * sizeof (float));
  model_zero_grad (m);
  model_forward (m, x, n, true);
  model_loss (m, &targets, &unit);
  model_backward (m);
  memcpy (unit_grads, model_grad_data (m), np * sizeof (float));
  model_zero_grad (m);
  model_forward (m, x, n, true);
  model_loss (m, &targets, &unit);
  model_backward_heads (m);
  model_backward_trunk (m, w, false);
  const HnParamTable *table = model_params (m);
  int heads = 0;
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *ti = &table->items[i];
      if (tensor_role_kind (ti->role) != TENSOR_PARAM)
        continue;
      const bool head = strncmp (ti->name, "net.fc", 6) == 0;
      heads += head;
      assert_close (ti->name, model_grad_data (m) + ti->offset,
                    (head ? unit_grads : want) + ti->offset, ti->numel, 2e-3 * rms, 2e-3);
    }
  ck_assert_int_eq (heads, 12); /* three heads of two linear layers, weight and bias */
  free (unit_grads);
  free (want);
  free (x);
  model_free (m);
}
END_TEST

/* ---- in a run ---- */

START_TEST (test_switch_live_warm_start_and_slider)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 3;
  c.loss.weight[HEAD_AGE] = 3.0f;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (trainer_start (t, &err));
  HnEvent e[64];
  int phase = 0, steps_in[3] = { 0 };
  HnTrainerState end = TRAINER_RUNNING;
  while (end == TRAINER_RUNNING || end == TRAINER_PAUSED)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_STEP)
            {
              if (phase == 0 && steps_in[0] == 0)
                trainer_set_balance (t, BALANCE_UNCERTAINTY);
              if (phase == 1 && steps_in[1] == 1) /* chosen again: goes on, no marker */
                trainer_set_balance (t, BALANCE_UNCERTAINTY);
              if (phase == 1 && steps_in[1] == 2)
                trainer_set_weight (t, HEAD_RACE, 0.25f);
              if (phase == 1 && steps_in[1] == 0)
                {
                  /* warm: the first step under the method keeps the weights in force */
                  ck_assert (is_close (e[i].loss.weight[HEAD_AGE], 3.0, 1e-5, 1e-5));
                  ck_assert (is_close (e[i].loss.weight[HEAD_GENDER], 1.0, 1e-5, 1e-5));
                }
              ck_assert_int_eq (e[i].loss.balance, phase == 1 ? BALANCE_UNCERTAINTY : BALANCE_MANUAL);
              /* the weighted losses are the chosen weights times the losses trained on */
              ck_assert (is_close (e[i].train.weighted[HEAD_GENDER],
                                   e[i].loss.weight[HEAD_GENDER] * e[i].train.raw[HEAD_GENDER],
                                   1e-6, 1e-5));
              steps_in[phase]++;
            }
          if (e[i].kind == EVENT_SETTING && e[i].setting.what == SETTING_BALANCE)
            {
              ck_assert_int_eq ((int) e[i].setting.value,
                                phase == 0 ? BALANCE_UNCERTAINTY : BALANCE_MANUAL);
              phase++;
            }
          if (e[i].kind == EVENT_SETTING && e[i].setting.what == SETTING_W_RACE)
            ck_assert_int_eq (phase, 2); /* the method was handed back first */
          if (e[i].kind == EVENT_STATE)
            end = e[i].state.state;
        }
    }
  ck_assert_int_eq (end, TRAINER_FINISHED);
  ck_assert_int_eq (phase, 2);
  ck_assert_int_ge (steps_in[1], 3); /* the trainer may run ahead of the poll */
  ck_assert_int_gt (steps_in[2], 0);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

static HnModel *
snapshot_of (HnTrainer *t, const HnTrainConfig *c)
{
  HnModel *out = model_new (c->backbone, 0);
  trainer_snapshot (t, out);
  return out;
}

static HnModel *
train_through (HnTrainConfig *c, const HnDataset *ds, const char *resume_from)
{
  HnError err;
  HnTrainer *t = resume_from ? trainer_resume (resume_from, c, ds, &err)
                             : trainer_new (c, ds, NULL, NULL, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert_msg (trainer_start (t, &err), "%s", err.message);
  ck_assert_int_eq (collect_steps (t, NULL, NULL, 0), TRAINER_FINISHED);
  trainer_join (t);
  HnModel *m = snapshot_of (t, c);
  trainer_free (t);
  return m;
}

/* Each method's state (FAMO's logits and last losses, uncertainty's sᵢ and moments, the
 * step's random draws) comes back from a checkpoint: resumed, the run ends bit for bit where
 * the uninterrupted one does — and the method mattered. */
START_TEST (test_resume_continues_method)
{
  static const HnBalance methods[] = { BALANCE_FAMO, BALANCE_UNCERTAINTY, BALANCE_PCGRAD,
                                       BALANCE_RLW, BALANCE_SCALE_INVARIANT, BALANCE_MGDA_UB,
                                       BALANCE_IMTL_G };
  const HnBalance method = methods[_i];
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = test_path (dir, "run.safetensors");
  HnTrainConfig c = tiny_config ();
  c.optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f);
  c.epochs = 3;
  c.loss.balance = method;
  HnModel *straight = train_through (&c, ds, NULL);

  HnTrainConfig first = c;
  first.epochs = 1;
  first.checkpoint_path = path;
  model_free (train_through (&first, ds, NULL));
  HnTrainConfig rest = tiny_config ();
  rest.epochs = 3;
  rest.checkpoint_path = path;
  HnModel *resumed = train_through (&rest, ds, path);

  const size_t np = model_params (straight)->n_params;
  ck_assert_msg (memcmp (model_param_data (straight), model_param_data (resumed), np * 4) == 0,
                 "%s: resuming changed the result", balance_name (method));
  HnTrainConfig manual = c;
  manual.loss.balance = BALANCE_MANUAL;
  HnModel *plain = train_through (&manual, ds, NULL);
  ck_assert_msg (memcmp (model_param_data (straight), model_param_data (plain), np * 4) != 0,
                 "%s trained as manual does", balance_name (method));
  model_free (straight);
  model_free (resumed);
  model_free (plain);
  test_rmtree (dir);
  free (dir);
  free (path);
  free_tiny (ds);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("balance");
  TCase *tc = tcase_create ("formulas");
  tcase_add_test (tc, test_gradient_methods_match_libmtl);
  tcase_add_test (tc, test_loss_methods_match_libmtl);
  tcase_add_test (tc, test_degenerate_gradients_keep_weights);
  tcase_add_test (tc, test_state_round_trip_and_corrupt);
  tcase_add_test (tc, test_split_backward_is_weighted_backward);
  suite_add_tcase (s, tc);
  TCase *run = tcase_create ("runs");
  tcase_set_timeout (run, 300);
  tcase_add_test (run, test_switch_live_warm_start_and_slider);
  tcase_add_loop_test (run, test_resume_continues_method, 0, 7);
  suite_add_tcase (s, run);
  return test_run_suite (s);
}
