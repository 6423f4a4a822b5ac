/* test-trainer.c — the trainer thread: live settings, pause/resume, checkpoints, the guard.
 *
 * Runs on a tiny in-memory data set (a dozen random 32×32 images) so that every step is a
 * real ResNet-18 step but a test takes seconds. Suites run with OPENBLAS_NUM_THREADS=1, so
 * two runs of the same steps give bit-identical weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fileio.h"
#include "test-runs.h"
#include "test-util.h"
#include "trainer.h"

static HnModel *
run_to_end (const HnTrainConfig *c, const HnDataset *ds, HnModel *init)
{
  HnError err;
  HnTrainer *t = trainer_new (c, ds, init, NULL, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert_msg (trainer_start (t, &err), "%s", err.message);
  ck_assert_int_eq (collect_steps (t, NULL, NULL, 0), TRAINER_FINISHED);
  trainer_join (t);
  ck_assert (trainer_ended (t)); /* the studio polls until then */
  HnModel *out = model_new (c->backbone, 0);
  trainer_snapshot (t, out);
  trainer_free (t);
  return out;
}

static bool
same_weights (HnModel *a, HnModel *b)
{
  const HnParamTable *t = model_params (a);
  return memcmp (model_param_data (a), model_param_data (b), t->n_params * 4) == 0
         && memcmp (model_buffer_data (a), model_buffer_data (b), t->n_buffers * 4) == 0
         && memcmp (model_count_data (a), model_count_data (b), t->n_counts * 8) == 0;
}

START_TEST (test_zero_weight_head_is_inert)
{
  /* w_race = 0: the race head must not move, and the trunk's update must not depend on it —
   * two runs whose race heads start differently end with identical trunks */
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.loss.weight[HEAD_RACE] = 0.0f;
  HnModel *a0 = model_new (c.backbone, c.seed), *b0 = model_new (c.backbone, c.seed);
  const HnTensorInfo *race_w = param_table_find (model_params (b0), "net.fc3.linear.weight");
  const HnTensorInfo *race_end = param_table_find (model_params (b0), "net.fc3.final.bias");
  const size_t race_first = race_w->offset, race_last = race_end->offset + race_end->numel;
  for (size_t i = race_first; i < race_last; i++)
    model_param_data (b0)[i] *= -1.5f;
  float *race_before = malloc ((race_last - race_first) * 4);
  memcpy (race_before, model_param_data (b0) + race_first, (race_last - race_first) * 4);

  HnModel *a = run_to_end (&c, ds, a0), *b = run_to_end (&c, ds, b0);
  ck_assert_msg (memcmp (model_param_data (b) + race_first, race_before, (race_last - race_first) * 4) == 0,
                 "the race head moved with w_race = 0");
  ck_assert_msg (memcmp (model_param_data (a), model_param_data (b), race_first * 4) == 0,
                 "the trunk's update depends on a head whose weight is 0");
  /* and with w_race > 0 it does depend on it (the test above can fail) */
  c.loss.weight[HEAD_RACE] = 1.0f;
  HnModel *c0 = model_new (c.backbone, c.seed), *d0 = model_new (c.backbone, c.seed);
  for (size_t i = race_first; i < race_last; i++)
    model_param_data (d0)[i] *= -1.5f;
  HnModel *cc = run_to_end (&c, ds, c0), *dd = run_to_end (&c, ds, d0);
  ck_assert (memcmp (model_param_data (cc), model_param_data (dd), race_first * 4) != 0);
  model_free (a), model_free (b), model_free (cc), model_free (dd);
  free (race_before);
  free_tiny (ds);
}
END_TEST

START_TEST (test_setting_reaches_next_step)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 4;
  c.optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-4f); /* calm under MSE on years */
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (trainer_start (t, &err));
  /* change the gender weight and the age loss as soon as the first step is reported */
  HnEvent e[64];
  bool changed = false, seen_setting = false;
  int steps_after = 0;
  HnTrainerState end = TRAINER_RUNNING;
  while (end == TRAINER_RUNNING || end == TRAINER_PAUSED)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_STEP && !changed)
            {
              trainer_set_weight (t, HEAD_GENDER, 5.0f);
              trainer_set_age_loss (t, AGE_LOSS_MSE);
              changed = true;
            }
          if (e[i].kind == EVENT_SETTING && e[i].setting.what == SETTING_W_GENDER)
            {
              seen_setting = true;
              ck_assert_float_eq (e[i].setting.value, 5.0);
              ck_assert_float_eq (e[i].setting.old_value, 1.0);
              ck_assert_int_ge (e[i].step, 1);
            }
          if (e[i].kind == EVENT_STEP)
            {
              /* every step before the setting event has the old settings, every step after it
               * the new ones — the change took effect at the very next step */
              ck_assert_float_eq (e[i].loss.weight[HEAD_GENDER], seen_setting ? 5.0f : 1.0f);
              ck_assert_int_eq (e[i].loss.age_loss, seen_setting ? AGE_LOSS_MSE : AGE_LOSS_L1);
              ck_assert (is_close (e[i].train.weighted[HEAD_GENDER],
                                   e[i].loss.weight[HEAD_GENDER] * e[i].train.raw[HEAD_GENDER],
                                   1e-6, 1e-6));
              steps_after += seen_setting;
            }
          if (e[i].kind == EVENT_STATE)
            end = e[i].state.state;
        }
    }
  ck_assert_int_eq (end, TRAINER_FINISHED);
  ck_assert (seen_setting);
  ck_assert_int_gt (steps_after, 0);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

/* A run whose settings change before its first step (the gender weight, the age loss, and
 * the learning rate doubled), paused and resumed after each of its first `pauses` steps. */
static HnModel *
run_with_history (const HnTrainConfig *c, const HnDataset *ds, int pauses)
{
  HnError err;
  HnTrainer *t = trainer_new (c, ds, NULL, NULL, &err);
  trainer_pause (t);
  ck_assert (trainer_start (t, &err));
  trainer_set_weight (t, HEAD_GENDER, 2.5f);
  trainer_set_age_loss (t, AGE_LOSS_HUBER);
  trainer_set_lr (t, 2 * c->optimizer.lr);
  trainer_resume_training (t);
  HnEvent e[64];
  int paused = 0;
  HnTrainerState end = TRAINER_RUNNING;
  while (end == TRAINER_RUNNING || end == TRAINER_PAUSED)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_STEP && paused < pauses)
            {
              trainer_pause (t);
              paused++;
            }
          if (e[i].kind == EVENT_STATE)
            {
              end = e[i].state.state;
              if (end == TRAINER_PAUSED)
                {
                  usleep (20000);
                  trainer_resume_training (t);
                }
            }
        }
    }
  ck_assert_int_eq (end, TRAINER_FINISHED);
  ck_assert_int_eq (paused, pauses);
  HnModel *out = model_new (c->backbone, 0);
  trainer_snapshot (t, out);
  trainer_free (t);
  return out;
}

START_TEST (test_pause_resume_is_invisible)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  HnModel *straight = run_with_history (&c, ds, 0);
  HnModel *paused = run_with_history (&c, ds, 3);
  ck_assert_msg (same_weights (straight, paused), "pausing changed the result");
  /* and the settings mattered: without them the weights differ */
  HnModel *plain = run_to_end (&c, ds, NULL);
  ck_assert (!same_weights (straight, plain));
  model_free (straight);
  model_free (paused);
  model_free (plain);
  free_tiny (ds);
}
END_TEST

START_TEST (test_resume_from_checkpoint_is_invisible)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = NULL;
  ck_assert (asprintf (&path, "%s/run.safetensors", dir) > 0);
  HnTrainConfig c = tiny_config ();
  c.optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f); /* state that must survive */
  c.epochs = 3;
  c.loss.weight[HEAD_AGE] = 0.5f;
  HnModel *straight = run_with_history (&c, ds, 0);

  /* the same run in two pieces: 1 epoch, then resumed for the rest, which must pick up the
   * weights, the optimizer state and the settings changed along the way */
  HnTrainConfig first = c;
  first.epochs = 1;
  first.checkpoint_path = path;
  model_free (run_with_history (&first, ds, 0));
  HnError err;
  HnTrainConfig rest = tiny_config (); /* settings come back from the checkpoint */
  rest.epochs = 3;
  rest.checkpoint_path = path;
  HnTrainer *t = trainer_resume (path, &rest, ds, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert (trainer_start (t, &err));
  ck_assert_int_eq (collect_steps (t, NULL, NULL, 0), TRAINER_FINISHED);
  trainer_join (t);
  HnModel *resumed = model_new (c.backbone, 0);
  trainer_snapshot (t, resumed);
  ck_assert_int_eq (trainer_step (t), 9);
  trainer_free (t);
  ck_assert_msg (same_weights (straight, resumed), "resuming changed the result");
  /* the history travelled through both checkpoints, for the plot's markers */
  HnSafetensors *st = safetensors_read (path, &err);
  ck_assert_ptr_nonnull (st);
  const char *history = safetensors_meta (st, "train.history");
  ck_assert_ptr_nonnull (history);
  for (const char *needle = "w_gender\0age_loss\0lr\0"; *needle; needle += strlen (needle) + 1)
    ck_assert_msg (strstr (history, needle) != NULL, "history lacks %s: %s", needle, history);
  safetensors_free (st);

  /* optimizer state from another step than the model (a save cut short between the two
   * files) is refused, not trusted */
  char *optim = NULL;
  ck_assert (asprintf (&optim, "%s.optim", path) > 0);
  float zero = 0;
  StTensor m = { .name = "optim.m", .dtype = ST_F32, .ndim = 1, .shape = { 1 }, .data = &zero,
                 .nbytes = 4 };
  StMeta other_step = { "train.step", "2" };
  ck_assert (safetensors_write (optim, &m, 1, &other_step, 1, &err));
  ck_assert (trainer_resume (path, &rest, ds, &err) == NULL);
  ck_assert_msg (strstr (err.message, "another step") != NULL, "%s", err.message);
  free (optim);

  /* a plain model file is not a training checkpoint */
  char *plain = NULL;
  ck_assert (asprintf (&plain, "%s/plain.safetensors", dir) > 0);
  ck_assert (checkpoint_save (straight, TINY_SIZE, plain, NULL, 0, &err));
  ck_assert (trainer_resume (plain, &rest, ds, &err) == NULL);
  ck_assert_msg (strstr (err.message, "--init") != NULL, "%s", err.message);
  model_free (straight);
  model_free (resumed);
  test_rmtree (dir);
  free (dir), free (path), free (plain);
  free_tiny (ds);
}
END_TEST

START_TEST (test_stop_within_a_step)
{
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 1000;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (trainer_start (t, &err));
  while (trainer_step (t) < 2)
    trainer_wait_event (t, 100);
  int64_t at_request = trainer_step (t);
  trainer_stop (t);
  trainer_join (t);
  /* the step in flight may finish; no other starts */
  ck_assert_int_le (trainer_step (t), at_request + 1);
  ck_assert_int_eq (trainer_state (t), TRAINER_STOPPED);
  trainer_free (t);
  /* freeing a running trainer stops it too (closing the app mid-epoch) */
  t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (trainer_start (t, &err));
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

START_TEST (test_absent_consumer)
{
  /* nobody reads: training still finishes, and the channel holds at most its capacity */
  HnDataset *ds = tiny_dataset ();
  HnTrainConfig c = tiny_config ();
  c.epochs = 6; /* 18 steps */
  c.event_capacity = 4;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (trainer_start (t, &err));
  trainer_join (t); /* would hang if the trainer blocked on a full channel */
  ck_assert_int_eq (trainer_state (t), TRAINER_FINISHED);
  HnEvent e[64];
  uint64_t dropped;
  int n = trainer_poll (t, e, 64, &dropped);
  int steps = 0;
  for (int i = 0; i < n; i++)
    steps += e[i].kind == EVENT_STEP;
  ck_assert_int_eq (steps, 4);
  ck_assert_int_eq (e[n - 1].kind, EVENT_STATE); /* the end is never lost among steps */
  ck_assert_uint_ge (dropped, 14);
  for (int i = 1; i < n; i++)
    ck_assert (e[i].seq > e[i - 1].seq);
  trainer_free (t);
  free_tiny (ds);
}
END_TEST

/* Runs until the guard trips; returns the message. */
static void
expect_divergence (HnTrainer *t, char *message, size_t len)
{
  HnEvent e[64];
  for (;;)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        if (e[i].kind == EVENT_STATE)
          {
            ck_assert_msg (e[i].state.state != TRAINER_FINISHED, "the guard did not trip");
            if (e[i].state.state == TRAINER_DIVERGED)
              {
                snprintf (message, len, "%s", e[i].state.message);
                return;
              }
          }
    }
}

static void
check_guard (bool nan_weight)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = NULL;
  ck_assert (asprintf (&path, "%s/run.safetensors", dir) > 0);
  HnTrainConfig c = tiny_config ();
  c.epochs = 100;
  c.checkpoint_path = path;
  HnError err;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  trainer_pause (t);
  ck_assert (trainer_start (t, &err));
  /* the last good weights: those before the poisoned step */
  if (nan_weight)
    trainer_set_weight (t, HEAD_AGE, NAN);
  else
    trainer_set_lr (t, 1e6f);
  HnModel *good = model_new (c.backbone, 0), *now = model_new (c.backbone, 0);
  while (trainer_state (t) != TRAINER_PAUSED)
    usleep (1000);
  trainer_snapshot (t, good);
  trainer_resume_training (t);
  char message[256];
  expect_divergence (t, message, sizeof message);
  ck_assert_msg (strstr (message, nan_weight ? "NaN" : "learning rate") != NULL, "%s", message);
  trainer_snapshot (t, now);
  ck_assert_msg (same_weights (good, now), "a refused step changed the weights");
  ck_assert_int_eq (trainer_step (t), 0);
  /* on disk: the last good checkpoint, loadable and equal */
  HnCheckpointInfo info;
  HnModel *disk = checkpoint_load (path, &info, &err);
  ck_assert_msg (disk != NULL, "%s", err.message);
  ck_assert (same_weights (good, disk));
  /* rollback restores it and leaves the trainer paused, with sane settings */
  trainer_rollback (t);
  while (trainer_state (t) == TRAINER_DIVERGED)
    usleep (1000);
  ck_assert_int_eq (trainer_state (t), TRAINER_PAUSED);
  trainer_free (t);
  model_free (disk), model_free (good), model_free (now);
  test_rmtree (dir);
  free (dir), free (path);
  free_tiny (ds);
}

START_TEST (test_guard_nan)
{
  check_guard (true);
}
END_TEST

START_TEST (test_guard_absurd_lr)
{
  check_guard (false);
}
END_TEST

START_TEST (test_failed_checkpoint_write)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir (), *path = NULL, *bad = NULL;
  ck_assert (asprintf (&path, "%s/run.safetensors", dir) > 0);
  ck_assert (asprintf (&bad, "%s/missing/run.safetensors", dir) > 0);
  HnTrainConfig c = tiny_config ();
  HnError err;

  /* an unwritable place: refused before training starts, with the reason */
  c.checkpoint_path = bad;
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert (!trainer_start (t, &err));
  ck_assert_msg (strstr (err.message, "missing/run.safetensors") != NULL, "%s", err.message);
  trainer_free (t);

  /* a disk that fills up at the epoch's end: the error is reported, the old file survives */
  c.checkpoint_path = path;
  c.epochs = 1;
  t = trainer_new (&c, ds, NULL, NULL, &err);
  trainer_pause (t);
  ck_assert (trainer_start (t, &err)); /* writes the step-0 checkpoint */
  size_t len0;
  FILE *f = fopen (path, "rb");
  fseek (f, 0, SEEK_END);
  len0 = (size_t) ftell (f);
  fclose (f);
  HnCheckpointInfo info;
  HnModel *before = checkpoint_load (path, &info, &err);
  file_set_write_limit_for_testing (4096);
  trainer_resume_training (t);
  HnEvent e[64];
  bool reported = false;
  for (HnTrainerState end = TRAINER_RUNNING; end == TRAINER_RUNNING || end == TRAINER_PAUSED;)
    {
      trainer_wait_event (t, 100);
      int n = trainer_poll (t, e, 64, NULL);
      for (int i = 0; i < n; i++)
        {
          if (e[i].kind == EVENT_CHECKPOINT && e[i].state.error)
            reported = strstr (e[i].state.message, "No space left") != NULL;
          if (e[i].kind == EVENT_STATE && e[i].state.state != TRAINER_RUNNING)
            end = e[i].state.state;
          if (e[i].kind == EVENT_STATE && e[i].state.state == TRAINER_PAUSED)
            trainer_resume_training (t);
        }
    }
  file_set_write_limit_for_testing (-1);
  ck_assert (reported);
  HnModel *after = checkpoint_load (path, &info, &err);
  ck_assert_msg (after != NULL, "%s", err.message);
  ck_assert (same_weights (before, after));
  f = fopen (path, "rb");
  fseek (f, 0, SEEK_END);
  ck_assert_uint_eq ((size_t) ftell (f), len0);
  fclose (f);
  trainer_free (t);
  model_free (before), model_free (after);
  test_rmtree (dir);
  free (dir), free (path), free (bad);
  free_tiny (ds);
}
END_TEST

static Suite *
trainer_suite (void)
{
  Suite *s = suite_create ("trainer");
  TCase *tc = tcase_create ("trainer");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_zero_weight_head_is_inert);
  tcase_add_test (tc, test_setting_reaches_next_step);
  tcase_add_test (tc, test_pause_resume_is_invisible);
  tcase_add_test (tc, test_resume_from_checkpoint_is_invisible);
  tcase_add_test (tc, test_stop_within_a_step);
  tcase_add_test (tc, test_absent_consumer);
  tcase_add_test (tc, test_guard_nan);
  tcase_add_test (tc, test_guard_absurd_lr);
  tcase_add_test (tc, test_failed_checkpoint_write);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (trainer_suite ());
}
