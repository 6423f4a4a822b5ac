#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "checkpoint.h"
#include "clock.h"
#include "ema.h"
#include "fileio.h"
#include "guard.h"
#include "parallel.h"
#include "records.h"
#include "rng.h"
#include "runfolder.h"
#include "runinfo.h"
#include "runmeta.h"
#include "runstate.h"

#define STEP_RING 4096        /* ~15 min of steps at 5 steps/s before the oldest are dropped */
#define RECORDS_FLUSH_S 2.0   /* the record reaches the disk at least this often */

struct HnTrainer
{
  HnTrainConfig config;
  char *checkpoint_path, *records_path; /* in a run folder: the newest checkpoint, curves.csv */
  char *strings[4];                     /* config's run_dir, fork_of, preset and data_folder */
  const HnDataset *ds;
  HnModel *model;
  HnOptimizer *opt;
  HnBatcher *train, *val;
  HnEventChannel events;

  pthread_t thread;
  bool started;

  /* `lock` guards the control state below, and nothing else: it is never held while the
   * trainer computes or writes a file, so a caller setting a weight never waits on a step. */
  pthread_mutex_t lock;
  pthread_cond_t control; /* pause, resume, stop, rollback, a setting */
  bool stop, pause, rollback;
  bool pending[N_SETTINGS];
  double pending_value[N_SETTINGS];
  HnTrainerState state;

  /* `model_lock` is held by the trainer thread whenever it touches the model; others take it
   * to snapshot or save. They announce themselves in `waiters`, and the trainer yields to
   * them between steps. */
  pthread_mutex_t model_lock;
  pthread_cond_t yielded;
  atomic_int waiters;
  atomic_bool ended; /* trainer_main has returned: every event it will send is sent */

  /* owned by the trainer thread (read by others only under model_lock) */
  HnRunState run;
  HnGuard guard;
  HnEma ema;              /* ema.decay > 0 when the weights are averaged */
  HnBudget budget;        /* budget.deadline > 0 when the run has a time budget */
  double schedule_from;   /* the schedule's share done when the budget started */
  double cycle_start;     /* when the current step cycle began, for the budget */
  int64_t total_steps;    /* epochs × batches: the schedule's length without a budget */
  int64_t val_step;       /* the step of the last validation; -1: none yet */
  bool resumed;
  FILE *records;
  double records_flushed; /* when, in hn_seconds */
  char *run_info;         /* run.json as the run started (runinfo.h), in a run folder */
  HnRunSummary summary;
  float *saved_buffers;   /* running statistics before the current step */
  int64_t *saved_counts;
};

/* ---- events, and the record of them ---- */

/* Tells the consumer that rows of the record were lost, and why (strerror's words). */
static void
report_records (HnTrainer *t, const char *why, const char *after)
{
  HnEvent e = { .kind = EVENT_STATE };
  e.state.state = trainer_state (t); /* under `lock`: a resume may move it */
  e.state.error = true;
  snprintf (e.state.message, sizeof e.state.message, "the record %.100s could not be written "
            "(%.60s)%s", t->records_path, why, after);
  e.step = t->run.step;
  e.epoch = t->run.epoch;
  e.loss = t->run.loss;
  event_channel_push (&t->events, &e);
}

static void
close_records (HnTrainer *t, const char *why)
{
  fclose (t->records);
  t->records = NULL;
  report_records (t, why, "; training goes on without it");
}

/* At the run's end. Closing can fail too: some file systems (NFS) report a failed write only
 * then. */
static void
end_records (HnTrainer *t)
{
  if (t->records == NULL)
    return;
  FILE *f = t->records;
  t->records = NULL;
  if (fclose (f) != 0)
    report_records (t, strerror (errno), "");
}

static void
flush_records (HnTrainer *t)
{
  if (t->records != NULL && fflush (t->records) != 0)
    close_records (t, strerror (errno));
  t->records_flushed = hn_seconds ();
}

/* Stamps e with where the run stands, tells the consumer, and appends it to the record.
 * Trainer thread, without `lock`. */
static void
emit (HnTrainer *t, HnEvent *e)
{
  e->step = t->run.step;
  e->epoch = t->run.epoch;
  e->loss = t->run.loss;
  event_channel_push (&t->events, e);
  run_summary_observe (&t->summary, e);
  if (t->records == NULL)
    return;
  char row[RECORDS_MAX_ROW];
  int n = records_format (e, row, sizeof row);
  if (fwrite (row, 1, (size_t) n, t->records) != (size_t) n)
    close_records (t, strerror (errno));
  else if (e->kind != EVENT_STEP || hn_seconds () - t->records_flushed >= RECORDS_FLUSH_S)
    flush_records (t);
}

static void
emit_state (HnTrainer *t, HnTrainerState state, bool error, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

/* Moves to state and tells the consumer. Without `lock`. */
static void
emit_state (HnTrainer *t, HnTrainerState state, bool error, const char *fmt, ...)
{
  HnEvent e = { .kind = EVENT_STATE };
  pthread_mutex_lock (&t->lock);
  e.state.state = t->state = state;
  pthread_mutex_unlock (&t->lock);
  e.state.error = error;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (e.state.message, sizeof e.state.message, fmt, ap);
  va_end (ap);
  emit (t, &e);
}

/* Appends to the settings history and tells the consumer. */
static void
record (HnTrainer *t, HnSettingKind what, double value, double old_value)
{
  run_state_record (&t->run, what, value);
  HnEvent e = { .kind = EVENT_SETTING };
  e.setting.what = what;
  e.setting.value = value;
  e.setting.old_value = old_value;
  emit (t, &e);
}

/* ---- the learning rate: the schedule, scaled by the live control ---- */

static HnEma *
average (HnTrainer *t)
{
  return t->ema.decay > 0 ? &t->ema : NULL;
}

/* The share of the run done once the next step is taken: of its steps, or of its time
 * budget (as measured before the step) if that ends the run sooner. A budget counts from
 * where the schedule stood when this process took the run up (a resumed run goes on). */
static double
progress (const HnTrainer *t)
{
  const double steps = (double) (t->run.step + 1) / (double) t->total_steps;
  if (t->budget.deadline > 0)
    {
      const double clock = t->schedule_from + (1 - t->schedule_from) * budget_progress (&t->budget);
      return clock > steps ? clock : steps;
    }
  return steps;
}

static float
scheduled_lr (HnTrainer *t)
{
  t->run.schedule_done = progress (t);
  return (float) (t->config.optimizer.lr * t->run.lr_scale
                  * schedule_factor (&t->config.schedule, t->run.schedule_done));
}

/* ---- settings ---- */

/* Applies a setting now, records it and tells the consumer. Trainer thread. */
static void
apply_setting (HnTrainer *t, HnSettingKind what, double value)
{
  double old = 0;
  switch (what)
    {
    case SETTING_W_AGE:
    case SETTING_W_GENDER:
    case SETTING_W_RACE:
      /* a weight set by hand takes the weights back from a method (one equal to the weight
       * in force changes nothing, as below) */
      if (t->run.loss.balance != BALANCE_MANUAL
          && (float) value != t->run.loss.weight[what - SETTING_W_AGE])
        apply_setting (t, SETTING_BALANCE, BALANCE_MANUAL);
      old = t->run.loss.weight[what - SETTING_W_AGE];
      t->run.loss.weight[what - SETTING_W_AGE] = (float) value;
      break;
    case SETTING_AGE_LOSS:
      old = t->run.loss.age_loss;
      t->run.loss.age_loss = (HnAgeLoss) (int) value;
      t->run.balance.has_prev = false; /* FAMO: the losses before are of another loss */
      break;
    case SETTING_BALANCE:
      old = t->run.loss.balance;
      t->run.loss.balance = (HnBalance) (int) value;
      if (old != value) /* the method in force chosen again goes on as it was */
        balance_start (&t->run.balance, t->run.loss.balance, t->run.loss.weight);
      break;
    case SETTING_LR:
      /* the schedule's peak, as the run's settings give it: the schedule goes on from here,
       * scaled to the new one */
      old = (double) t->config.optimizer.lr * t->run.lr_scale;
      if (t->config.optimizer.lr > 0)
        t->run.lr_scale = (float) (value / t->config.optimizer.lr);
      t->opt->config.lr = scheduled_lr (t);
      break;
    default:
      break;
    }
  /* compared as stored (floats): setting what is already in force changes nothing, and a
   * marker saying "lr 0.0001 → 0.0001" would only confuse */
  bool same = what == SETTING_AGE_LOSS || what == SETTING_BALANCE ? old == value
                                                                  : (float) old == (float) value;
  if (what <= SETTING_BALANCE && same)
    return;
  guard_reset (&t->guard); /* the loss scale may jump legitimately */
  record (t, what, value, old);
}

static void
request (HnTrainer *t, HnSettingKind what, double value)
{
  pthread_mutex_lock (&t->lock);
  t->pending[what] = true;
  t->pending_value[what] = value;
  pthread_cond_broadcast (&t->control);
  pthread_mutex_unlock (&t->lock);
}

void
trainer_set_weight (HnTrainer *t, int head, float weight)
{
  HN_ASSERT (head >= 0 && head < N_HEADS);
  request (t, (HnSettingKind) (SETTING_W_AGE + head), weight);
}

void
trainer_set_age_loss (HnTrainer *t, HnAgeLoss kind)
{
  request (t, SETTING_AGE_LOSS, kind);
}

void
trainer_set_lr (HnTrainer *t, float lr)
{
  request (t, SETTING_LR, lr);
}

void
trainer_set_balance (HnTrainer *t, HnBalance method)
{
  HN_ASSERT (method >= 0 && method < N_BALANCE);
  request (t, SETTING_BALANCE, method);
}

/* ---- the step ---- */

static double
dot (const float *a, const float *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

/* gram[i][j] = gᵢ·gⱼ, the heads' gradients at the shared feature (512, n) in the last
 * backward. */
static void
feature_gram (const HnModel *model, int n, double gram[N_HEADS][N_HEADS])
{
  const size_t nf = (size_t) FEATURES * n;
  for (int i = 0; i < N_HEADS; i++)
    for (int j = i; j < N_HEADS; j++)
      gram[i][j] = gram[j][i] = dot (model_head_feature_grad (model, i),
                                     model_head_feature_grad (model, j), nf);
}

/* The balance diagnostics: each weighted head's gradient at the shared feature, its norm and
 * the cosines between them, from the Gram matrix of the gradients before weight (NULL: gram
 * is of the weighted ones already). Returns the sum of the norms. */
static double
measure_balance (const double gram[N_HEADS][N_HEADS], const float *weight, HnStepEvent *ev)
{
  static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };
  double g[N_HEADS][N_HEADS], sum_norms = 0;
  for (int i = 0; i < N_HEADS; i++)
    for (int j = 0; j < N_HEADS; j++)
      g[i][j] = weight ? (double) weight[i] * weight[j] * gram[i][j] : gram[i][j];
  for (int h = 0; h < N_HEADS; h++)
    {
      ev->grad_norm[h] = (float) sqrt (g[h][h]);
      sum_norms += ev->grad_norm[h]; /* as floats: one past FLT_MAX is an infinite gradient */
    }
  for (int p = 0; p < 3; p++)
    {
      const int a = pairs[p][0], b = pairs[p][1];
      const double norms = sqrt (g[a][a]) * sqrt (g[b][b]);
      ev->cosine[p] = norms > 0 ? (float) (g[a][b] / norms) : 0.0f;
    }
  return sum_norms;
}

/* The step's random numbers, a pure function of the seed and the step, so that a resumed or
 * forked run draws what the uninterrupted one would: rlw's normal draws, and for each head
 * the order in which pcgrad projects its gradient. */
static void
step_draws (const HnTrainer *t, int64_t step, float normal[N_HEADS], int order[N_HEADS][N_HEADS])
{
  HnRng rng = { .seed = rng_splitmix64 (t->config.seed, 0xBA1A4CE), .counter = (uint64_t) step * 32 };
  for (int h = 0; h < N_HEADS; h++)
    normal[h] = (float) rng_normal (&rng);
  for (int i = 0; i < N_HEADS; i++)
    {
      for (int k = 0; k < N_HEADS; k++)
        order[i][k] = k;
      for (int k = N_HEADS - 1; k > 0; k--) /* Fisher–Yates */
        {
          int j = (int) rng_below (&rng, (uint32_t) k + 1), tmp = order[i][k];
          order[i][k] = order[i][j];
          order[i][j] = tmp;
        }
    }
}

/* A method's weights that overflowed (uncertainty's e^{−s} can) refuse the step as a
 * non-finite loss does. */
static bool
weights_finite (HnBalance method, const float weight[N_HEADS], int64_t step, char *why, int len)
{
  for (int h = 0; h < N_HEADS; h++)
    if (!isfinite (weight[h]))
      {
        snprintf (why, (size_t) len, "the weights %s chose at step %lld are not finite",
                  balance_title (method), (long long) step);
        return false;
      }
  return true;
}

/* The report of losses trained on, weighed by weight. */
static void
reweigh (HnLossReport *r, const float trained[N_HEADS], const float weight[N_HEADS])
{
  r->total = 0;
  for (int h = 0; h < N_HEADS; h++)
    r->total += r->weighted[h] = weight[h] * trained[h];
}

static void
save_buffers (HnTrainer *t)
{
  const HnParamTable *table = model_params (t->model);
  memcpy (t->saved_buffers, model_buffer_data (t->model), table->n_buffers * sizeof (float));
  memcpy (t->saved_counts, model_count_data (t->model), table->n_counts * sizeof (int64_t));
}

static void
restore_buffers (HnTrainer *t)
{
  const HnParamTable *table = model_params (t->model);
  memcpy (model_buffer_data (t->model), t->saved_buffers, table->n_buffers * sizeof (float));
  memcpy (model_count_data (t->model), t->saved_counts, table->n_counts * sizeof (int64_t));
}

/* One optimizer step on the run's next batch, with model_lock held. Fills ev. Returns
 * false — having changed nothing — when the guard refuses the step; *why says why. */
static bool
train_step (HnTrainer *t, HnStepEvent *ev, char *why, int why_len)
{
  const double t0 = hn_seconds ();
  const int64_t step = t->run.step + 1;
  const HnBatch *b = batcher_get (t->train, t->run.epoch, t->run.batch_index);
  t->opt->config.lr = scheduled_lr (t);

  /* under a method, the losses are taken unweighted and the method weighs them: from the
   * losses before the backward, or from the heads' gradients between its two halves */
  const HnBalance method = t->run.loss.balance;
  HnLossConfig loss = t->run.loss;
  float weight[N_HEADS], trained[N_HEADS], normal[N_HEADS];
  int order[N_HEADS][N_HEADS];
  HnBalanceState balance = t->run.balance; /* kept only if the step is applied */
  memcpy (weight, loss.weight, sizeof weight);
  if (method != BALANCE_MANUAL)
    {
      for (int h = 0; h < N_HEADS; h++)
        loss.weight[h] = 1.0f;
      step_draws (t, step, normal, order);
    }

  save_buffers (t);
  model_zero_grad (t->model);
  model_forward (t->model, b->x, b->n, true);
  HnTargets targets = { b->age, b->gender, b->race };
  HnLossReport r = model_loss (t->model, &targets, &loss);
  /* under a method the guard watches the losses unweighted: weights that scale each loss by
   * its inverse (scale-invariant, FAMO) would hide one that explodes */
  const HnLossReport watched = r;
  memcpy (trained, r.weighted, sizeof trained);
  if (method != BALANCE_MANUAL && !balance_uses_gradients (method))
    balance_loss_step (method, &balance, trained, t->opt->config.lr, normal, weight);
  if (method != BALANCE_MANUAL)
    reweigh (&r, trained, weight); /* a gradient method's: those in force, for now */
  if (!guard_check_loss (&t->guard, &watched, step, why, why_len)
      || !weights_finite (method, weight, step, why, why_len))
    {
      restore_buffers (t);
      return false;
    }

  double gram[N_HEADS][N_HEADS], sum_norms;
  if (method == BALANCE_MANUAL)
    {
      model_backward (t->model);
      feature_gram (t->model, b->n, gram);
      sum_norms = measure_balance (gram, NULL, ev);
    }
  else
    {
      model_backward_heads (t->model);
      feature_gram (t->model, b->n, gram);
      if (balance_uses_gradients (method))
        {
          balance_gradient_weights (method, gram, order, weight);
          reweigh (&r, trained, weight);
        }
      model_backward_trunk (t->model, weight, !balance_uses_gradients (method));
      sum_norms = measure_balance (gram, weight, ev);
    }
  double ratio = optimizer_update_ratio (t->opt, model_param_data (t->model),
                                         model_grad_data (t->model));
  if (!guard_check_update (ratio, sum_norms, t->opt->config.lr, step, why, why_len))
    {
      restore_buffers (t);
      return false;
    }
  t->run.balance = balance;
  memcpy (t->run.loss.weight, weight, sizeof weight);
  optimizer_step (t->opt, model_param_data (t->model), model_grad_data (t->model));
  guard_observe (&t->guard, &watched);
  if (average (t) != NULL)
    ema_update (&t->ema, t->model);

  memcpy (ev->raw, r.raw, sizeof ev->raw);
  memcpy (ev->weighted, r.weighted, sizeof ev->weighted);
  ev->total = r.total;
  ev->images = b->n;
  ev->lr = t->opt->config.lr;
  ev->img_per_s = (float) (b->n / (hn_seconds () - t0));
  return true;
}

/* Between steps: let snapshot and save callers in. */
static void
yield_model (HnTrainer *t)
{
  while (atomic_load (&t->waiters) > 0)
    pthread_cond_wait (&t->yielded, &t->model_lock);
}

static void
do_rollback (HnTrainer *t)
{
  HnError err;
  HnSafetensors *st = NULL;
  bool ok;
  if (t->checkpoint_path == NULL)
    ok = hn_error_set (&err, "there is no checkpoint to roll back to (no checkpoint file was set)");
  else
    ok = (st = safetensors_read (t->checkpoint_path, &err)) != NULL
         && checkpoint_apply (t->model, st, &err)
         && run_state_restore (&t->run, &t->opt, &t->ema, t->model, &t->config, st,
                               t->checkpoint_path, &err);
  safetensors_free (st);
  /* paused before anyone can hear of it, so a resume sent on that news is not undone */
  pthread_mutex_lock (&t->lock);
  t->pause = true;
  pthread_mutex_unlock (&t->lock);
  if (ok)
    {
      record (t, SETTING_ROLLBACK, (double) t->run.step, 0);
      emit_state (t, TRAINER_PAUSED, false, "rolled back to step %lld (epoch %d)",
                  (long long) t->run.step, t->run.epoch);
    }
  else
    emit_state (t, TRAINER_PAUSED, true, "rollback failed: %s", err.message);
}

/* Validation, with the averaged weights when there are: those are the model to use. */
static void
validate (HnTrainer *t, HnEvent *e)
{
  if (t->val == NULL)
    return;
  if (average (t) != NULL)
    ema_swap (&t->ema, t->model);
  if (!evaluate (t->model, t->val, t->run.loss.age_loss, t->config.tta, &e->val))
    e->val.n = 0; /* out of memory: no figures rather than wrong ones */
  if (average (t) != NULL)
    ema_swap (&t->ema, t->model);
}

/* ---- the run folder (runfolder.h) ---- */

/* Images the weights have seen: the epochs done and the batches since (all full ones). */
static uint64_t
images_seen (const HnTrainer *t)
{
  int per_epoch = batcher_images (t->train);
  if (per_epoch % t->config.batch == 1)
    per_epoch--; /* a last batch of one image is dropped */
  return (uint64_t) t->run.epoch * (uint64_t) per_epoch
         + (uint64_t) t->run.batch_index * (uint64_t) t->config.batch;
}

/* Rewrites run.json's summary with where the run stands. */
static bool
store_summary (HnTrainer *t, HnError *err)
{
  HnRunSummary *s = &t->summary;
  s->steps = t->run.step;
  s->epochs = t->run.epoch;
  s->batch = t->run.batch_index;
  s->images = images_seen (t);
  return run_info_write_summary (t->config.run_dir, t->run_info, s, err);
}

/* The same during the run: a failure is reported and training goes on. */
static void
write_summary (HnTrainer *t)
{
  HnError err;
  if (t->run_info == NULL || store_summary (t, &err))
    return;
  HnEvent e = { .kind = EVENT_STATE };
  e.state.state = trainer_state (t);
  e.state.error = true;
  snprintf (e.state.message, sizeof e.state.message, "%.200s; training goes on", err.message);
  emit (t, &e);
}

/* Writes where the run stands: to checkpoint_path, or in the run folder as
 * checkpoints/epoch-NNN.safetensors, which then becomes the one rollback returns to. */
static bool
write_checkpoint (HnTrainer *t, HnError *err)
{
  const char *dir = t->config.run_dir;
  if (dir == NULL)
    return t->checkpoint_path == NULL
           || run_state_save (&t->run, t->model, t->opt, average (t), &t->config,
                              t->checkpoint_path, err);
  char *file = run_folder_checkpoint (t->run.epoch, t->run.batch_index);
  char *path = file != NULL ? run_folder_file (dir, file) : NULL;
  bool ok = (path != NULL || hn_error_set (err, "out of memory"))
            && run_state_save (&t->run, t->model, t->opt, average (t), &t->config, path, err)
            && (run_summary_add_checkpoint (&t->summary, file, t->run.epoch, t->run.batch_index,
                                            t->run.step)
                || hn_error_set (err, "out of memory"));
  if (ok)
    {
      free (t->checkpoint_path);
      t->checkpoint_path = path;
      path = NULL;
    }
  free (file);
  free (path);
  return ok;
}

/* The folder's run.json as the run starts: its settings, with the loss settings and rate in
 * force (a fork's, changed), its parent, and a first summary. */
static bool
begin_run_info (HnTrainer *t, HnError *err)
{
  HnRunParent parent = { .step = t->run.step, .epoch = t->run.epoch };
  if (t->config.fork_of != NULL)
    {
      parent.checkpoint = realpath (t->config.fork_of, NULL);
      parent.folder = run_folder_of (t->config.fork_of, err);
      if (parent.checkpoint == NULL || parent.folder == NULL)
        {
          free (parent.checkpoint);
          free (parent.folder);
          return hn_error_prefix (err, "the checkpoint forked from");
        }
    }
  const float lr = t->config.optimizer.lr * t->run.lr_scale;
  t->run_info = run_info_begin (t->config.run_dir, &t->config, &t->run.loss, lr,
                                t->config.fork_of != NULL ? &parent : NULL, err);
  free (parent.checkpoint);
  free (parent.folder);
  if (t->run_info == NULL)
    return false;
  return store_summary (t, err);
}

static void
save_checkpoint (HnTrainer *t)
{
  if (t->checkpoint_path == NULL && t->config.run_dir == NULL)
    return;
  HnError err;
  bool ok = write_checkpoint (t, &err);
  HnEvent c = { .kind = EVENT_CHECKPOINT };
  c.state.error = !ok;
  snprintf (c.state.message, sizeof c.state.message, "%.250s", ok ? t->checkpoint_path : err.message);
  emit (t, &c);
}

/* At an epoch's end, or when the time budget ends the run inside one: a validation (every
 * val_every epochs, and always at the run's end) and a checkpoint, whose time the budget
 * counts apart from training's. */
static void
end_of_epoch (HnTrainer *t, bool whole)
{
  const double t0 = hn_seconds ();
  const int every = t->config.val_every > 1 ? t->config.val_every : 1, done = t->run.epoch + 1;
  const bool last = done >= t->config.epochs
                    || (t->budget.deadline > 0 && budget_progress (&t->budget) >= 1.0);
  const bool validating = !whole || done % every == 0 || last;
  HnEvent e = { .kind = EVENT_EPOCH };
  if (validating)
    {
      validate (t, &e);
      t->val_step = t->run.step;
    }
  if (whole)
    {
      t->run.epoch++;
      t->run.batch_index = 0;
    }
  if (e.val.n > 0)
    t->run.val = e.val;
  else if (!validating)
    t->run.val.n = 0; /* the checkpoint's weights have no figures of their own */
  emit (t, &e);
  save_checkpoint (t);
  write_summary (t);
  budget_epoch_end (&t->budget, hn_seconds () - t0, validating);
  t->cycle_start = hn_seconds ();
}

/* The run is over: its epochs done, or its time budget spent (a last validation then, if the
 * run stopped inside an epoch). */
static bool
run_over (HnTrainer *t)
{
  if (t->run.epoch >= t->config.epochs)
    {
      emit_state (t, TRAINER_FINISHED, false, "finished %d epochs", t->run.epoch);
      return true;
    }
  if (t->budget.deadline > 0 && budget_progress (&t->budget) >= 1.0)
    {
      /* inside an epoch, or after one left unvalidated; nothing to do before a first step */
      if (t->budget.steps > 0 && t->val_step != t->run.step
          && (t->run.batch_index > 0 || t->val != NULL))
        end_of_epoch (t, false);
      emit_state (t, TRAINER_FINISHED, false, "the time budget is spent: %d epochs and %d "
                                              "steps done", t->run.epoch, t->run.batch_index);
      return true;
    }
  return false;
}

/* ---- the thread ---- */

/* Applies what was asked since the last step: settings, then a rollback. */
static void
take_requests (HnTrainer *t)
{
  bool pending[N_SETTINGS];
  double value[N_SETTINGS];
  pthread_mutex_lock (&t->lock);
  memcpy (pending, t->pending, sizeof pending);
  memcpy (value, t->pending_value, sizeof value);
  memset (t->pending, 0, sizeof t->pending);
  bool rollback = t->rollback;
  t->rollback = false;
  pthread_mutex_unlock (&t->lock);
  for (int k = 0; k < N_SETTINGS; k++)
    if (pending[k])
      apply_setting (t, (HnSettingKind) k, value[k]);
  if (rollback)
    do_rollback (t);
}

/* Waits while paused (or stopped by the guard), with the model free so that snapshots and
 * saves need not wait for us. Returns false when the run is over. */
static bool
wait_to_run (HnTrainer *t)
{
  for (;;)
    {
      take_requests (t);
      pthread_mutex_lock (&t->lock);
      bool stop = t->stop, held = t->pause || t->state == TRAINER_DIVERGED;
      bool announce = held && t->state == TRAINER_RUNNING;
      bool leaving = !held && t->state != TRAINER_RUNNING;
      pthread_mutex_unlock (&t->lock);
      if (stop)
        {
          emit_state (t, TRAINER_STOPPED, false, "stopped at step %lld", (long long) t->run.step);
          return false;
        }
      if (run_over (t))
        return false;
      if (leaving)
        {
          /* here rather than after the wait below: a resume can arrive before the thread
           * ever waits (just after a rollback, say) */
          record (t, SETTING_RESUME, 1, 0);
          emit_state (t, TRAINER_RUNNING, false, "resumed at step %lld", (long long) t->run.step);
        }
      if (!held)
        return true;
      if (announce)
        {
          record (t, SETTING_PAUSE, 1, 0);
          emit_state (t, TRAINER_PAUSED, false, "paused at step %lld", (long long) t->run.step);
        }
      flush_records (t);
      pthread_mutex_lock (&t->lock);
      if ((t->pause || t->state == TRAINER_DIVERGED) && !t->stop && !t->rollback
          && !memchr (t->pending, true, sizeof t->pending))
        {
          pthread_mutex_unlock (&t->model_lock);
          pthread_cond_wait (&t->control, &t->lock);
          pthread_mutex_unlock (&t->lock);
          pthread_mutex_lock (&t->model_lock);
        }
      else
        pthread_mutex_unlock (&t->lock);
    }
}

/* The deadline keeps back what saving the model at the very end takes: half a second and a
 * hundredth of the budget. */
static void
start_budget (HnTrainer *t)
{
  const double now = hn_seconds ();
  t->cycle_start = now;
  if (t->config.time_budget <= 0)
    return;
  t->schedule_from = t->run.schedule_done;
  const double margin = 0.5 + t->config.time_budget / 100;
  /* before one is measured, an epoch's end is guessed: an eval forward costs about a third
   * of a training step, twice with test-time flips */
  const int passes = t->config.tta ? 2 : 1;
  const double ratio = t->val ? (double) batcher_images (t->val) * passes / 3.0
                                    / batcher_images (t->train)
                              : 0.0;
  budget_start (&t->budget, t->config.clock_start + t->config.time_budget - margin, now,
                batcher_batches_per_epoch (t->train), ratio);
}

static void *
trainer_main (void *data)
{
  HnTrainer *t = data;
  engine_adopt_nice ();
  pthread_mutex_lock (&t->model_lock);
  emit_state (t, TRAINER_RUNNING, false, "training from step %lld", (long long) t->run.step);
  start_budget (t);
  while (wait_to_run (t))
    {
      HnEvent e = { .kind = EVENT_STEP };
      char why[200];
      if (!train_step (t, &e.train, why, sizeof why))
        {
          emit_state (t, TRAINER_DIVERGED, true, "%s — paused; roll back to the last "
                                                 "checkpoint or lower the learning rate", why);
          continue;
        }
      t->run.step++;
      e.train.batch_index = t->run.batch_index;
      e.train.batches = batcher_batches_per_epoch (t->train);
      emit (t, &e);
      budget_step (&t->budget, hn_seconds () - t->cycle_start);
      t->cycle_start = hn_seconds ();
      if (++t->run.batch_index == batcher_batches_per_epoch (t->train))
        end_of_epoch (t, true);
      yield_model (t);
    }
  flush_records (t);
  end_records (t);
  write_summary (t);
  pthread_mutex_unlock (&t->model_lock);
  atomic_store (&t->ended, true);
  return NULL;
}

bool
trainer_ended (HnTrainer *t)
{
  return atomic_load (&t->ended);
}

/* ---- life cycle ---- */

static void
free_parts (HnTrainer *t)
{
  batcher_free (t->train);
  batcher_free (t->val);
  model_free (t->model);
  optimizer_free (t->opt);
  free (t->checkpoint_path);
  free (t->records_path);
  for (int i = 0; i < 4; i++)
    free (t->strings[i]);
  free (t->run_info);
  run_summary_clear (&t->summary);
  free (t->saved_buffers);
  free (t->saved_counts);
  event_channel_clear (&t->events);
  run_state_clear (&t->run);
  ema_clear (&t->ema);
  free (t);
}

static bool
strdup_or_null (const char *s, char **out)
{
  *out = s != NULL ? strdup (s) : NULL;
  return s == NULL || *out != NULL;
}

/* The training and validation batches of ds's split. */
static bool
make_batchers (HnTrainer *t, HnError *err)
{
  const HnDataset *ds = t->ds;
  const HnTrainConfig *c = &t->config;
  int *train = malloc (sizeof (int) * (ds->n + 1)), *val = malloc (sizeof (int) * (ds->n + 1));
  int n_train = 0, n_val = 0;
  bool ok = train != NULL && val != NULL;
  if (!ok)
    hn_error_set (err, "out of memory");
  else
    {
      dataset_split (ds, c->val_percent, train, &n_train, val, &n_val);
      t->train = batcher_new (ds, train, n_train, c->batch, c->seed, true, c->augment, err);
      if (t->train != NULL && n_val >= 2)
        t->val = batcher_new (ds, val, n_val, c->batch, c->seed, false, (HnAugment) { 0 }, err);
      ok = t->train != NULL && (n_val < 2 || t->val != NULL);
    }
  free (train);
  free (val);
  return ok;
}

/* The mean and spread of the training split's ages, for a standardised age head. */
static void
standardize_age (HnTrainer *t)
{
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int i = 0; i < t->ds->n; i++)
    if (!dataset_is_val (t->ds, i, t->config.val_percent))
      {
        double a = t->ds->labels[i].age;
        sum += a;
        sum2 += a * a;
        n++;
      }
  double mean = n ? sum / n : 0, var = n ? sum2 / n - mean * mean : 0;
  model_set_age_scale (t->model, (float) mean, var > 1e-6 ? (float) sqrt (var) : 1.0f);
}

static bool
check_config (const HnTrainConfig *config, const HnDataset *ds, HnError *err)
{
  if (ds->size != config->size)
    return hn_error_set (err, "the data set is prepared at %d×%d but the model wants %d×%d",
                         ds->size, ds->size, config->size, config->size);
  if (config->epochs < 1 || config->val_percent < 0 || config->val_percent > 90)
    return hn_error_set (err, "epochs must be at least 1 and the validation share 0–90%%");
  return true;
}

HnTrainer *
trainer_new (const HnTrainConfig *config, const HnDataset *ds, HnModel *model,
             HnOptimizer *optimizer, HnError *err)
{
  HnTrainer *t = check_config (config, ds, err) ? calloc (1, sizeof *t) : NULL;
  if (t == NULL)
    {
      if (check_config (config, ds, NULL))
        hn_error_set (err, "out of memory");
      model_free (model);
      optimizer_free (optimizer);
      return NULL;
    }
  t->config = *config;
  t->ds = ds;
  t->run.loss = config->loss;
  balance_start (&t->run.balance, config->loss.balance, config->loss.weight);
  t->model = model ? model : model_new (config->backbone, config->seed);
  t->opt = optimizer;
  int capacity = config->event_capacity > 0 ? config->event_capacity : STEP_RING;
  if (t->model == NULL || !event_channel_init (&t->events, capacity))
    goto oom;
  if (model_backbone (t->model) != config->backbone)
    {
      hn_error_set (err, "the initial model is a %s, the run wants a %s",
                    backbone_name (model_backbone (t->model)), backbone_name (config->backbone));
      goto fail;
    }
  const HnParamTable *table = model_params (t->model);
  if (t->opt == NULL && (t->opt = optimizer_new (&config->optimizer, table->n_params)) == NULL)
    goto oom;
  /* the strings are the trainer's own: the caller's may be gone by the time they are used */
  const char **strings[4] = { &t->config.run_dir, &t->config.fork_of, &t->config.preset,
                              &t->config.data_folder };
  for (int i = 0; i < 4; i++)
    {
      if (!strdup_or_null (*strings[i], &t->strings[i]))
        goto oom;
      *strings[i] = t->strings[i];
    }
  /* in a run folder, the checkpoints are named as they are written */
  if (config->run_dir != NULL)
    {
      if ((t->records_path = run_folder_file (config->run_dir, RUN_RECORD)) == NULL)
        goto oom;
    }
  else if (!strdup_or_null (config->checkpoint_path, &t->checkpoint_path)
           || !strdup_or_null (config->records_path, &t->records_path))
    goto oom;
  t->config.checkpoint_path = t->checkpoint_path;
  t->config.records_path = t->records_path;
  t->saved_buffers = malloc (table->n_buffers * sizeof (float));
  t->saved_counts = malloc (table->n_counts * sizeof (int64_t));
  if (!t->saved_buffers || !t->saved_counts)
    goto oom;
  if (!make_batchers (t, err) || !model_plan (t->model, config->batch, config->size, err))
    goto fail;
  t->run.lr_scale = 1.0f;
  t->total_steps = (int64_t) config->epochs * batcher_batches_per_epoch (t->train);
  t->val_step = -1;
  if (optimizer == NULL && !config->optimizer.decay_all
      && !optimizer_decay_weights_only (t->opt, table))
    goto oom;
  float age_mean, age_std;
  model_get_age_scale (t->model, &age_mean, &age_std);
  if (config->standardize_age && age_mean == 0.0f && age_std == 1.0f)
    standardize_age (t);
  if (config->ema_decay > 0 && !ema_init (&t->ema, config->ema_decay, t->model))
    goto oom;

  pthread_mutex_init (&t->lock, NULL);
  pthread_mutex_init (&t->model_lock, NULL);
  pthread_cond_init (&t->control, NULL);
  pthread_cond_init (&t->yielded, NULL);
  t->state = TRAINER_PAUSED;
  return t;

oom:
  hn_error_set (err, "out of memory");
fail:
  free_parts (t);
  return NULL;
}

HnTrainer *
trainer_resume (const char *path, const HnTrainConfig *config, const HnDataset *ds, HnError *err)
{
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_MODEL, err);
  if (c == NULL)
    return NULL;
  HnTrainConfig cfg = *config;
  cfg.backbone = c->info.backbone;
  cfg.size = c->info.input_size;
  cfg.standardize_age = false; /* the checkpoint's age head keeps the scale it was trained on */
  HnRunMeta meta;
  if (run_meta_read (c->st, &meta, err) && meta.has_progress)
    cfg.seed = meta.seed;
  HnTrainer *t = trainer_new (&cfg, ds, checkpoint_take_model (c), NULL, err);
  if (t != NULL && !run_state_restore (&t->run, &t->opt, &t->ema, t->model, &t->config, c->st,
                                       path, err))
    {
      trainer_free (t);
      t = NULL;
    }
  if (t == NULL)
    hn_error_prefix (err, "%s", path);
  else
    t->resumed = true;
  checkpoint_close (c);
  return t;
}

/* The record: appended to when the run resumes, if it is one; started afresh otherwise. */
static bool
open_records (HnTrainer *t, HnError *err)
{
  if (t->records_path == NULL)
    return true;
  const char *header = records_header ();
  FILE *f = fopen (t->records_path, t->resumed ? "a+" : "w");
  if (f == NULL)
    return hn_error_set (err, "cannot write %s: %s", t->records_path, strerror (errno));
  char first[1024] = "";
  rewind (f);
  bool empty = fgets (first, sizeof first, f) == NULL;
  if (!empty && strcmp (first, header) != 0)
    {
      fclose (f);
      return hn_error_set (err, "%s holds something else than this run's record; give "
                                "another file to write it to", t->records_path);
    }
  fseek (f, 0, SEEK_END);
  /* the header too: a record without one is not read back */
  if ((empty && fputs (header, f) == EOF) || fflush (f) != 0)
    {
      hn_error_set (err, "cannot write %s: %s", t->records_path, strerror (errno));
      fclose (f);
      return false;
    }
  t->records = f;
  t->records_flushed = hn_seconds ();
  return true;
}

bool
trainer_start (HnTrainer *t, HnError *err)
{
  HN_ASSERT (!t->started);
  t->state = TRAINER_RUNNING;
  if (t->config.run_dir != NULL)
    {
      char *checkpoints = run_folder_file (t->config.run_dir, RUN_CHECKPOINTS);
      bool made = checkpoints != NULL && file_make_dirs (checkpoints, 0755, err);
      free (checkpoints);
      if (!made)
        return hn_error_prefix (err, "the run folder");
    }
  if (!open_records (t, err))
    return false;
  /* settings asked for before the start (a fork's changes) are in force from its first step,
   * recorded at it, and held by the first checkpoint */
  take_requests (t);
  /* the first "last good" checkpoint, so rollback always has somewhere to go */
  if (!write_checkpoint (t, err))
    return hn_error_prefix (err, "cannot write the first checkpoint");
  if (t->config.run_dir != NULL && !begin_run_info (t, err))
    return false;
  if (pthread_create (&t->thread, NULL, trainer_main, t) != 0)
    return hn_error_set (err, "cannot start the training thread");
  t->started = true;
  return true;
}

static void
set_flag (HnTrainer *t, bool *flag, bool value)
{
  pthread_mutex_lock (&t->lock);
  *flag = value;
  pthread_cond_broadcast (&t->control);
  pthread_mutex_unlock (&t->lock);
}

void
trainer_pause (HnTrainer *t)
{
  set_flag (t, &t->pause, true);
}

void
trainer_resume_training (HnTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  t->pause = false;
  if (t->state == TRAINER_DIVERGED)
    t->state = TRAINER_PAUSED; /* the user has seen the message and chosen to go on */
  pthread_cond_broadcast (&t->control);
  pthread_mutex_unlock (&t->lock);
}

void
trainer_stop (HnTrainer *t)
{
  set_flag (t, &t->stop, true);
}

void
trainer_rollback (HnTrainer *t)
{
  set_flag (t, &t->rollback, true);
}

void
trainer_join (HnTrainer *t)
{
  if (t->started)
    pthread_join (t->thread, NULL);
  t->started = false;
}

void
trainer_free (HnTrainer *t)
{
  if (t == NULL)
    return;
  trainer_stop (t);
  trainer_join (t);
  if (t->records != NULL)
    fclose (t->records);
  pthread_mutex_destroy (&t->lock);
  pthread_mutex_destroy (&t->model_lock);
  pthread_cond_destroy (&t->control);
  pthread_cond_destroy (&t->yielded);
  free_parts (t);
}

/* ---- reading ---- */

int
trainer_poll (HnTrainer *t, HnEvent *out, int max, uint64_t *dropped)
{
  return event_channel_poll (&t->events, out, max, dropped);
}

bool
trainer_wait_event (HnTrainer *t, int timeout_ms)
{
  return event_channel_wait (&t->events, timeout_ms);
}

HnTrainerState
trainer_state (HnTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  HnTrainerState s = t->state;
  pthread_mutex_unlock (&t->lock);
  return s;
}

/* Takes the model from the trainer thread between two steps. */
static void
enter_model (HnTrainer *t)
{
  atomic_fetch_add (&t->waiters, 1);
  pthread_mutex_lock (&t->model_lock);
}

static void
leave_model (HnTrainer *t)
{
  atomic_fetch_sub (&t->waiters, 1);
  pthread_cond_broadcast (&t->yielded);
  pthread_mutex_unlock (&t->model_lock);
}

int64_t
trainer_step (HnTrainer *t)
{
  enter_model (t);
  int64_t s = t->run.step;
  leave_model (t);
  return s;
}

void
trainer_snapshot (HnTrainer *t, HnModel *dst)
{
  enter_model (t);
  if (average (t) != NULL)
    ema_swap (&t->ema, t->model); /* the averaged weights are the model to predict with */
  model_copy_weights (dst, t->model);
  if (average (t) != NULL)
    ema_swap (&t->ema, t->model);
  leave_model (t);
}

bool
trainer_save (HnTrainer *t, const char *path, HnError *err)
{
  enter_model (t);
  bool ok = run_state_save (&t->run, t->model, t->opt, average (t), &t->config, path, err);
  leave_model (t);
  return ok;
}

bool
trainer_save_model (HnTrainer *t, const char *path, HnError *err)
{
  enter_model (t);
  bool ok = run_state_save (&t->run, t->model, NULL, average (t), &t->config, path, err);
  leave_model (t);
  return ok;
}
