#include "trainer.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "clock.h"
#include "parallel.h"

#define STEP_RING 4096  /* ~15 min of steps at 5 steps/s before the oldest are dropped */
#define OTHER_RING 1024 /* epochs, settings, states: a few per minute */
#define GUARD_WARMUP 5      /* steps after a change before the explosion test applies */
#define GUARD_EXPLODE 100.0 /* a loss this many times its recent average has exploded */
#define GUARD_UPDATE 1.0    /* an update as large as all the weights is not a step */

/* ---- presets ---- */

HnTrainConfig
train_preset_tutorial (void)
{
  HnOptimizerConfig sgd = optimizer_defaults (OPTIMIZER_SGD, 1e-4f);
  sgd.momentum = 0.09f; /* as printed in the article (0.9 was probably meant) */
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 50, .val_percent = 20,
    .optimizer = sgd, .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } },
  };
}

HnTrainConfig
train_preset_studio (void)
{
  return (HnTrainConfig) {
    .backbone = BACKBONE_RESNET18, .size = 32, .batch = 64, .epochs = 10, .val_percent = 20,
    .augment = { .flip = true }, .optimizer = optimizer_defaults (OPTIMIZER_ADAM, 1e-3f),
    .loss = { AGE_LOSS_L1, { 1.0f, 1.0f, 1.0f } },
  };
}

bool
train_preset_from_name (const char *name, HnTrainConfig *config)
{
  if (strcmp (name, "tutorial") == 0)
    *config = train_preset_tutorial ();
  else if (strcmp (name, "studio") == 0)
    *config = train_preset_studio ();
  else
    return false;
  return true;
}

static const char *const setting_names[N_SETTINGS] = {
  "w_age", "w_gender", "w_race", "age_loss", "lr", "pause", "resume", "rollback",
};

const char *
setting_name (HnSettingKind kind)
{
  HN_ASSERT (kind >= 0 && kind < N_SETTINGS);
  return setting_names[kind];
}

const char *
trainer_state_name (HnTrainerState state)
{
  static const char *const names[] = { "running", "paused", "diverged",
                                        "finished", "stopped", "failed" };
  return names[state];
}

/* ---- the event channel: two bounded rings, merged by sequence number ---- */

typedef struct
{
  HnEvent *items;
  int capacity, head, count;
  uint64_t dropped;
} Ring;

static void
ring_push (Ring *r, const HnEvent *e)
{
  if (r->count == r->capacity) /* full: the oldest goes */
    {
      r->head = (r->head + 1) % r->capacity;
      r->count--;
      r->dropped++;
    }
  r->items[(r->head + r->count) % r->capacity] = *e;
  r->count++;
}

static const HnEvent *
ring_peek (const Ring *r)
{
  return r->count ? &r->items[r->head] : NULL;
}

static void
ring_pop (Ring *r)
{
  r->head = (r->head + 1) % r->capacity;
  r->count--;
}

typedef struct
{
  int64_t step;
  HnSettingKind what;
  double value;
} HistoryEntry;

struct HnTrainer
{
  HnTrainConfig config;
  char *checkpoint_path;
  const HnDataset *ds;
  HnModel *model;
  HnOptimizer *opt;
  HnBatcher *train, *val;

  pthread_t thread;
  bool started;

  /* `lock` guards the control state, the settings and the channel below. */
  pthread_mutex_t lock;
  pthread_cond_t control; /* pause, resume, stop, rollback */
  pthread_cond_t events;  /* an event was pushed */
  bool stop, pause, rollback;
  bool pending[N_SETTINGS];
  double pending_value[N_SETTINGS];
  HnTrainerState state;
  Ring steps, others;
  uint64_t seq;

  /* `model_lock` is held by the trainer thread whenever it touches the model; others take it
   * to snapshot or save. They announce themselves in `waiters`, and the trainer yields to
   * them between steps. */
  pthread_mutex_t model_lock;
  pthread_cond_t yielded;
  atomic_int waiters;

  /* owned by the trainer thread (read by others only under model_lock) */
  HnLossConfig loss;
  int64_t step;
  int epoch, batch_index;
  HistoryEntry *history;
  int n_history, cap_history;
  double loss_avg;
  int steps_since_change;
  float *saved_buffers; /* running statistics before the current step */
  int64_t *saved_counts;
};

/* Called with lock held. */
static void
emit (HnTrainer *t, HnEvent *e)
{
  e->seq = t->seq++;
  e->step = t->step;
  e->epoch = t->epoch;
  ring_push (e->kind == EVENT_STEP ? &t->steps : &t->others, e);
  pthread_cond_broadcast (&t->events);
}

static void
emit_state (HnTrainer *t, HnTrainerState state, bool error, const char *fmt, ...)
  __attribute__ ((format (printf, 4, 5)));

static void
emit_state (HnTrainer *t, HnTrainerState state, bool error, const char *fmt, ...)
{
  HnEvent e = { .kind = EVENT_STATE };
  e.state.state = t->state = state;
  e.state.error = error;
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (e.state.message, sizeof e.state.message, fmt, ap);
  va_end (ap);
  emit (t, &e);
}

/* Appends to the settings history and, when announce, tells the consumer. */
static void
record (HnTrainer *t, HnSettingKind what, double value, double old_value, bool announce)
{
  if (t->n_history == t->cap_history)
    {
      int cap = t->cap_history ? 2 * t->cap_history : 64;
      HistoryEntry *h = realloc (t->history, sizeof *h * cap);
      if (h == NULL)
        return; /* the history is a record, not a control path: losing an entry is survivable */
      t->history = h;
      t->cap_history = cap;
    }
  t->history[t->n_history++] = (HistoryEntry) { t->step, what, value };
  if (!announce)
    return;
  HnEvent e = { .kind = EVENT_SETTING };
  e.setting.what = what;
  e.setting.value = value;
  e.setting.old_value = old_value;
  emit (t, &e);
}

/* ---- checkpoints with optimizer state and history ---- */

static char *
history_json (const HnTrainer *t)
{
  cJSON *a = cJSON_CreateArray ();
  for (int i = 0; i < t->n_history; i++)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "step", (double) t->history[i].step);
      cJSON_AddStringToObject (o, "setting", setting_name (t->history[i].what));
      cJSON_AddNumberToObject (o, "value", t->history[i].value);
      cJSON_AddItemToArray (a, o);
    }
  char *s = cJSON_PrintUnformatted (a);
  cJSON_Delete (a);
  return s;
}

/* Where the optimizer state of checkpoint `path` lives: a sibling file, so that the
 * checkpoint itself holds only the model and loads with a plain, strict load_state_dict in
 * PyTorch. Caller frees. */
static char *
optimizer_path (const char *path)
{
  char *p = NULL;
  return asprintf (&p, "%s.optim", path) < 0 ? NULL : p;
}

/* Writes the optimizer state next to path, then the model with all the training metadata:
 * each write is atomic, and both carry the step, so a crash between the two leaves a pair
 * that resume recognises as mismatched rather than one it would trust. Called with
 * model_lock held. */
static bool
save (HnTrainer *t, const char *path, HnError *err)
{
  const size_t n = t->opt->n;
  /* the moments in PyTorch's layout, as the model's own tensors are written (params.h) */
  const HnParamTable *table = model_params (t->model);
  float *m = malloc (n * sizeof *m), *v = t->opt->v ? malloc (n * sizeof *v) : NULL;
  if (m == NULL || (t->opt->v != NULL && v == NULL))
    {
      free (m);
      free (v);
      return hn_error_set (err, "%s: out of memory", path);
    }
  params_to_torch (table, m, t->opt->m);
  if (v != NULL)
    params_to_torch (table, v, t->opt->v);
  StTensor tensors[2] = {
    { .name = "optim.m", .dtype = ST_F32, .ndim = 1, .shape = { (int64_t) n }, .data = m,
      .nbytes = n * sizeof (float) },
    { .name = "optim.v", .dtype = ST_F32, .ndim = 1, .shape = { (int64_t) n }, .data = v,
      .nbytes = n * sizeof (float) },
  };
  char step[32], epoch[16], batch[16], opt_step[32], lr[32], momentum[32], wd[32], seed[32];
  char w[N_HEADS][32];
  for (int h = 0; h < N_HEADS; h++)
    snprintf (w[h], sizeof w[h], "%.9g", t->loss.weight[h]);
  snprintf (step, sizeof step, "%lld", (long long) t->step);
  snprintf (epoch, sizeof epoch, "%d", t->epoch);
  snprintf (batch, sizeof batch, "%d", t->batch_index);
  snprintf (opt_step, sizeof opt_step, "%lld", (long long) t->opt->step);
  snprintf (lr, sizeof lr, "%.9g", t->opt->config.lr);
  snprintf (momentum, sizeof momentum, "%.9g", t->opt->config.momentum);
  snprintf (wd, sizeof wd, "%.9g", t->opt->config.weight_decay);
  snprintf (seed, sizeof seed, "%llu", (unsigned long long) t->config.seed);
  char *history = history_json (t);
  StMeta meta[] = {
    { "train.step", step },
    { "train.epoch", epoch },
    { "train.batch_index", batch },
    { "train.seed", seed },
    { "train.history", history ? history : "[]" },
    { "loss.age_loss", age_loss_name (t->loss.age_loss) },
    { "loss.w_age", w[HEAD_AGE] },
    { "loss.w_gender", w[HEAD_GENDER] },
    { "loss.w_race", w[HEAD_RACE] },
    { "optim.kind", optimizer_name (t->opt->config.kind) },
    { "optim.step", opt_step },
    { "optim.lr", lr },
    { "optim.momentum", momentum },
    { "optim.weight_decay", wd },
  };
  char *optim = optimizer_path (path);
  bool ok = optim != NULL || hn_error_set (err, "out of memory");
  ok = ok && safetensors_write (optim, tensors, t->opt->v ? 2 : 1, meta, 1, err);
  free (m); /* before checkpoint_save makes its own copy of the parameters */
  free (v);
  ok = ok && checkpoint_save (t->model, t->config.size, path, meta,
                              (int) (sizeof meta / sizeof meta[0]), err);
  free (optim);
  cJSON_free (history);
  return ok;
}

static bool
meta_i64 (const HnSafetensors *st, const char *key, int64_t lo, int64_t hi, int64_t *out,
          HnError *err)
{
  const char *s = safetensors_meta (st, key);
  char *end;
  errno = 0;
  long long v = s ? strtoll (s, &end, 10) : 0;
  if (s == NULL || errno || end == s || *end || v < lo || v > hi)
    return hn_error_set (err, "metadata %s is missing or out of range", key);
  *out = v;
  return true;
}

static bool
meta_float (const HnSafetensors *st, const char *key, float *out, HnError *err)
{
  const char *s = safetensors_meta (st, key);
  char *end;
  double v = s ? strtod (s, &end) : NAN;
  if (s == NULL || end == s || *end || !isfinite (v) || v < 0)
    return hn_error_set (err, "metadata %s is missing or not a number", key);
  *out = (float) v;
  return true;
}

/* Restores optimizer state (from the sibling of `path`), progress and settings history (from
 * st, the checkpoint at `path`) into t; the model weights are applied by the caller. */
static bool
restore_training_state (HnTrainer *t, const HnSafetensors *st, const char *path, HnError *err)
{
  HnOptimizerKind kind;
  const char *kind_name = safetensors_meta (st, "optim.kind");
  if (kind_name == NULL || !optimizer_from_name (kind_name, &kind))
    return hn_error_set (err, "not a training checkpoint (no optimizer state); use it with "
                              "--init to start a new run from its weights");
  HnOptimizerConfig cfg = optimizer_defaults (kind, 1e-3f);
  int64_t step, epoch, batch, opt_step;
  if (!meta_float (st, "optim.lr", &cfg.lr, err) || !meta_float (st, "optim.momentum", &cfg.momentum, err)
      || !meta_float (st, "optim.weight_decay", &cfg.weight_decay, err)
      || !meta_i64 (st, "train.step", 0, INT64_MAX / 2, &step, err)
      || !meta_i64 (st, "train.epoch", 0, 1 << 20, &epoch, err)
      || !meta_i64 (st, "train.batch_index", 0, 1 << 30, &batch, err)
      || !meta_i64 (st, "optim.step", 0, INT64_MAX / 2, &opt_step, err))
    return false;
  char *optim_file = optimizer_path (path);
  HnSafetensors *os = optim_file ? safetensors_read (optim_file, err) : NULL;
  free (optim_file);
  if (os == NULL)
    return hn_error_prefix (err, "the optimizer state beside the checkpoint");
  int64_t os_step;
  const size_t n = model_params (t->model)->n_params;
  const StTensor *m = safetensors_find (os, "optim.m"), *v = safetensors_find (os, "optim.v");
  const bool adam = kind != OPTIMIZER_SGD;
  HnOptimizer *opt = NULL;
  if (!meta_i64 (os, "train.step", 0, INT64_MAX / 2, &os_step, err) || os_step != step)
    hn_error_set (err, "the optimizer state beside the checkpoint is from another step than "
                       "the model (a save was interrupted); use --init to start from the weights");
  else if (m == NULL || m->dtype != ST_F32 || st_numel (m) != (int64_t) n
           || (adam && (v == NULL || v->dtype != ST_F32 || st_numel (v) != (int64_t) n)))
    hn_error_set (err, "the optimizer state beside the checkpoint does not match the model");
  else if ((opt = optimizer_new (&cfg, n)) == NULL)
    hn_error_set (err, "out of memory");
  if (opt == NULL)
    {
      safetensors_free (os);
      return false;
    }
  params_from_torch (model_params (t->model), opt->m, m->data);
  if (adam)
    params_from_torch (model_params (t->model), opt->v, v->data);
  safetensors_free (os);
  opt->step = opt_step;
  optimizer_free (t->opt);
  t->opt = opt;
  t->step = step;
  t->epoch = (int) epoch;
  t->batch_index = (int) batch;
  t->config.optimizer = cfg;

  /* the settings in force, and the history of how they got there (for the plot) */
  const char *kind_of_age = safetensors_meta (st, "loss.age_loss");
  if (kind_of_age == NULL || !age_loss_from_name (kind_of_age, &t->loss.age_loss)
      || !meta_float (st, "loss.w_age", &t->loss.weight[HEAD_AGE], err)
      || !meta_float (st, "loss.w_gender", &t->loss.weight[HEAD_GENDER], err)
      || !meta_float (st, "loss.w_race", &t->loss.weight[HEAD_RACE], err))
    return hn_error_set (err, "the loss settings are missing from the checkpoint");
  t->n_history = 0;
  const char *h = safetensors_meta (st, "train.history");
  cJSON *a = h ? cJSON_Parse (h) : NULL;
  const cJSON *e;
  cJSON_ArrayForEach (e, a)
  {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive (e, "step");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive (e, "setting");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive (e, "value");
    if (!cJSON_IsNumber (s) || !cJSON_IsString (name) || !cJSON_IsNumber (value))
      continue;
    for (int k = 0; k < N_SETTINGS; k++)
      if (strcmp (name->valuestring, setting_names[k]) == 0)
        {
          int64_t now = t->step;
          t->step = (int64_t) s->valuedouble;
          record (t, (HnSettingKind) k, value->valuedouble, 0, false);
          t->step = now;
        }
  }
  cJSON_Delete (a);
  return true;
}

/* ---- settings ---- */

/* Applies a setting now, records it and tells the consumer. Trainer thread, lock held. */
static void
apply_setting (HnTrainer *t, HnSettingKind what, double value)
{
  double old = 0;
  switch (what)
    {
    case SETTING_W_AGE:
    case SETTING_W_GENDER:
    case SETTING_W_RACE:
      old = t->loss.weight[what - SETTING_W_AGE];
      t->loss.weight[what - SETTING_W_AGE] = (float) value;
      break;
    case SETTING_AGE_LOSS:
      old = t->loss.age_loss;
      t->loss.age_loss = (HnAgeLoss) (int) value;
      break;
    case SETTING_LR:
      old = t->opt->config.lr;
      t->opt->config.lr = (float) value;
      break;
    default:
      break;
    }
  /* compared as stored (floats): setting what is already in force changes nothing, and a
   * marker saying "lr 0.0001 → 0.0001" would only confuse */
  bool same = what == SETTING_AGE_LOSS ? old == value : (float) old == (float) value;
  if (what <= SETTING_LR && same)
    return;
  t->steps_since_change = 0; /* the loss scale may jump legitimately: restart the guard */
  record (t, what, value, old, true);
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

/* ---- the step ---- */

static double
dot (const float *a, const float *b, size_t n)
{
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

static void
restore_buffers (HnTrainer *t)
{
  const HnParamTable *table = model_params (t->model);
  memcpy (model_buffer_data (t->model), t->saved_buffers, table->n_buffers * sizeof (float));
  memcpy (model_count_data (t->model), t->saved_counts, table->n_counts * sizeof (int64_t));
}

/* One optimizer step on batch (epoch, batch_index), with model_lock held. Fills ev. Returns
 * false — having changed nothing — when the guard refuses the step; *why says why. */
static bool
train_step (HnTrainer *t, const HnLossConfig *loss, HnStepEvent *ev, char *why, size_t why_len)
{
  static const char *const head_names[N_HEADS] = { "age", "gender", "race" };
  const HnParamTable *table = model_params (t->model);
  const double t0 = hn_seconds ();
  const HnBatch *b = batcher_get (t->train, t->epoch, t->batch_index);

  memcpy (t->saved_buffers, model_buffer_data (t->model), table->n_buffers * sizeof (float));
  memcpy (t->saved_counts, model_count_data (t->model), table->n_counts * sizeof (int64_t));
  model_zero_grad (t->model);
  model_forward (t->model, b->x, b->n, true);
  HnTargets targets = { b->age, b->gender, b->race };
  HnLossReport r = model_loss (t->model, &targets, loss);

  for (int h = 0; h < N_HEADS; h++)
    if (!isfinite (r.raw[h]) || !isfinite (r.weighted[h]))
      {
        float bad = isfinite (r.raw[h]) ? r.weighted[h] : r.raw[h];
        snprintf (why, why_len, "the %s%s loss became %s at step %lld", isfinite (r.raw[h]) ? "weighted " : "",
                  head_names[h], isnan (bad) ? "NaN" : "infinite", (long long) t->step + 1);
        restore_buffers (t);
        return false;
      }
  if (t->steps_since_change >= GUARD_WARMUP && r.total > GUARD_EXPLODE * t->loss_avg)
    {
      int worst = 0;
      for (int h = 1; h < N_HEADS; h++)
        if (r.weighted[h] > r.weighted[worst])
          worst = h;
      snprintf (why, why_len, "the loss exploded at step %lld: %.4g, %.0f× its recent average "
                              "(the %s loss is %.4g)", (long long) t->step + 1, r.total,
                r.total / t->loss_avg, head_names[worst], r.raw[worst]);
      restore_buffers (t);
      return false;
    }

  model_backward (t->model);

  /* balance diagnostics on the shared feature — and every gradient the trunk receives passes
   * through it, so a non-finite one shows here in full, not only in the ratio's sample */
  const size_t nf = (size_t) FEATURES * b->n;
  const float *g[N_HEADS];
  double sum_norms = 0;
  for (int h = 0; h < N_HEADS; h++)
    {
      g[h] = model_head_feature_grad (t->model, h);
      ev->grad_norm[h] = (float) sqrt (dot (g[h], g[h], nf));
      sum_norms += ev->grad_norm[h];
    }
  static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };
  for (int p = 0; p < 3; p++)
    {
      double na = ev->grad_norm[pairs[p][0]], nb = ev->grad_norm[pairs[p][1]];
      ev->cosine[p] = na > 0 && nb > 0 ? (float) (dot (g[pairs[p][0]], g[pairs[p][1]], nf) / (na * nb)) : 0.0f;
    }

  double ratio = optimizer_update_ratio (t->opt, model_param_data (t->model),
                                         model_grad_data (t->model));
  if (!isfinite (sum_norms))
    ratio = sum_norms;
  if (!(ratio <= GUARD_UPDATE)) /* also catches NaN */
    {
      if (isfinite (ratio))
        snprintf (why, why_len, "step %lld would change the weights by %.0f%% of their size "
                                "(learning rate %.3g is too high)", (long long) t->step + 1,
                  100.0 * ratio, t->opt->config.lr);
      else
        snprintf (why, why_len, "the gradient became %s at step %lld",
                  isnan (ratio) ? "NaN" : "infinite", (long long) t->step + 1);
      restore_buffers (t);
      return false;
    }
  optimizer_step (t->opt, model_param_data (t->model), model_grad_data (t->model));

  for (int h = 0; h < N_HEADS; h++)
    {
      ev->raw[h] = r.raw[h];
      ev->weighted[h] = r.weighted[h];
      ev->weight[h] = loss->weight[h];
    }
  ev->total = r.total;
  ev->images = b->n;
  ev->lr = t->opt->config.lr;
  ev->age_loss = loss->age_loss;
  ev->img_per_s = (float) (b->n / (hn_seconds () - t0));

  /* the guard's running average: a plain mean over the first steps, then an EMA */
  t->steps_since_change++;
  double k = t->steps_since_change < 20 ? 1.0 / t->steps_since_change : 0.05;
  t->loss_avg = t->steps_since_change == 1 ? r.total : (1 - k) * t->loss_avg + k * r.total;
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
         && checkpoint_apply (t->model, st, &err);
  pthread_mutex_lock (&t->lock);
  /* paused before anyone can hear of it, so a resume sent on that news is not undone */
  t->pause = true;
  if (ok)
    ok = restore_training_state (t, st, t->checkpoint_path, &err);
  if (ok)
    {
      record (t, SETTING_ROLLBACK, (double) t->step, 0, true);
      emit_state (t, TRAINER_PAUSED, false, "rolled back to step %lld (epoch %d)",
                  (long long) t->step, t->epoch);
    }
  else
    emit_state (t, TRAINER_PAUSED, true, "rollback failed: %s", err.message);
  pthread_mutex_unlock (&t->lock);
  safetensors_free (st);
}

static void
end_of_epoch (HnTrainer *t)
{
  HnEvent e = { .kind = EVENT_EPOCH };
  if (t->val != NULL)
    evaluate (t->model, t->val, t->loss.age_loss, &e.val);
  t->epoch++;
  t->batch_index = 0;
  pthread_mutex_lock (&t->lock);
  emit (t, &e);
  pthread_mutex_unlock (&t->lock);
  if (t->checkpoint_path == NULL)
    return;
  HnError err;
  bool ok = save (t, t->checkpoint_path, &err);
  HnEvent c = { .kind = EVENT_CHECKPOINT };
  c.state.error = !ok;
  snprintf (c.state.message, sizeof c.state.message, "%.250s", ok ? t->checkpoint_path : err.message);
  pthread_mutex_lock (&t->lock);
  emit (t, &c);
  pthread_mutex_unlock (&t->lock);
}

static void *
trainer_main (void *data)
{
  HnTrainer *t = data;
  engine_adopt_nice ();
  pthread_mutex_lock (&t->model_lock);
  pthread_mutex_lock (&t->lock);
  emit_state (t, TRAINER_RUNNING, false, "training from step %lld", (long long) t->step);
  for (;;)
    {
      /* the control point: settings, then rollback, stop and pause */
      for (int k = 0; k < N_SETTINGS; k++)
        if (t->pending[k])
          {
            t->pending[k] = false;
            apply_setting (t, (HnSettingKind) k, t->pending_value[k]);
          }
      if (t->rollback)
        {
          t->rollback = false;
          pthread_mutex_unlock (&t->lock);
          do_rollback (t);
          pthread_mutex_lock (&t->lock);
        }
      if (t->stop)
        {
          emit_state (t, TRAINER_STOPPED, false, "stopped at step %lld", (long long) t->step);
          break;
        }
      if (t->epoch >= t->config.epochs)
        {
          emit_state (t, TRAINER_FINISHED, false, "finished %d epochs", t->epoch);
          break;
        }
      if (t->pause || t->state == TRAINER_DIVERGED)
        {
          if (t->state == TRAINER_RUNNING)
            {
              record (t, SETTING_PAUSE, 1, 0, true);
              emit_state (t, TRAINER_PAUSED, false, "paused at step %lld", (long long) t->step);
            }
          /* wait with the model free, so snapshots and saves need not wait for us */
          pthread_mutex_unlock (&t->model_lock);
          pthread_cond_wait (&t->control, &t->lock);
          pthread_mutex_unlock (&t->lock);
          pthread_mutex_lock (&t->model_lock);
          pthread_mutex_lock (&t->lock);
          continue;
        }
      /* Leaving a pause, however it ended: here, not after the wait above, because a resume
       * can arrive before the thread ever waits (just after a rollback, say). */
      if (t->state != TRAINER_RUNNING)
        {
          record (t, SETTING_RESUME, 1, 0, true);
          emit_state (t, TRAINER_RUNNING, false, "resumed at step %lld", (long long) t->step);
        }
      HnLossConfig loss = t->loss;
      pthread_mutex_unlock (&t->lock);

      HnEvent e = { .kind = EVENT_STEP };
      char why[200];
      bool ok = train_step (t, &loss, &e.train, why, sizeof why);
      pthread_mutex_lock (&t->lock);
      if (!ok)
        {
          emit_state (t, TRAINER_DIVERGED, true, "%s — paused; roll back to the last "
                                                 "checkpoint or lower the learning rate", why);
          continue;
        }
      t->step++;
      e.train.batch_index = t->batch_index;
      e.train.batches = batcher_batches_per_epoch (t->train);
      emit (t, &e);
      pthread_mutex_unlock (&t->lock);

      if (++t->batch_index == batcher_batches_per_epoch (t->train))
        end_of_epoch (t);
      yield_model (t);
      pthread_mutex_lock (&t->lock);
    }
  pthread_mutex_unlock (&t->lock);
  pthread_mutex_unlock (&t->model_lock);
  return NULL;
}

/* ---- life cycle ---- */

HnTrainer *
trainer_new (const HnTrainConfig *config, const HnDataset *ds, HnModel *model,
             HnOptimizer *optimizer, HnError *err)
{
  if (ds->size != config->size)
    {
      hn_error_set (err, "the data set is prepared at %d×%d but the model wants %d×%d", ds->size,
                    ds->size, config->size, config->size);
      goto fail_early;
    }
  if (config->epochs < 1 || config->val_percent < 0 || config->val_percent > 90)
    {
      hn_error_set (err, "epochs must be at least 1 and the validation share 0–90%%");
      goto fail_early;
    }
  HnTrainer *t = calloc (1, sizeof *t);
  if (t == NULL)
    goto oom_early;
  t->config = *config;
  t->ds = ds;
  t->loss = config->loss;
  t->model = model ? model : model_new (config->backbone, config->seed);
  t->opt = optimizer;
  if (t->model == NULL)
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
  if (config->checkpoint_path && (t->checkpoint_path = strdup (config->checkpoint_path)) == NULL)
    goto oom;
  t->config.checkpoint_path = t->checkpoint_path;
  t->saved_buffers = malloc (table->n_buffers * sizeof (float));
  t->saved_counts = malloc (table->n_counts * sizeof (int64_t));
  t->steps.capacity = config->event_capacity > 0 ? config->event_capacity : STEP_RING;
  t->steps.items = malloc (t->steps.capacity * sizeof (HnEvent));
  t->others.items = malloc (OTHER_RING * sizeof (HnEvent));
  if (!t->saved_buffers || !t->saved_counts || !t->steps.items || !t->others.items)
    goto oom;
  t->others.capacity = OTHER_RING;

  int *train = malloc (sizeof (int) * (ds->n + 1)), *val = malloc (sizeof (int) * (ds->n + 1));
  int n_train = 0, n_val = 0;
  if (!train || !val)
    {
      free (train);
      free (val);
      goto oom;
    }
  dataset_split (ds, config->val_percent, train, &n_train, val, &n_val);
  t->train = batcher_new (ds, train, n_train, config->batch, config->seed, true, config->augment, err);
  if (t->train != NULL && n_val >= 2)
    t->val = batcher_new (ds, val, n_val, config->batch, config->seed, false, (HnAugment) { 0 }, err);
  free (train);
  free (val);
  if (t->train == NULL || (n_val >= 2 && t->val == NULL))
    goto fail;
  if (!model_plan (t->model, config->batch, config->size, err))
    goto fail;

  pthread_mutex_init (&t->lock, NULL);
  pthread_mutex_init (&t->model_lock, NULL);
  pthread_cond_init (&t->control, NULL);
  pthread_cond_init (&t->events, NULL);
  pthread_cond_init (&t->yielded, NULL);
  t->state = TRAINER_PAUSED;
  return t;

oom:
  hn_error_set (err, "out of memory");
fail:
  batcher_free (t->train);
  batcher_free (t->val);
  model_free (t->model);
  optimizer_free (t->opt);
  free (t->checkpoint_path);
  free (t->saved_buffers);
  free (t->saved_counts);
  free (t->steps.items);
  free (t->others.items);
  free (t);
  return NULL;
oom_early:
  hn_error_set (err, "out of memory");
fail_early:
  model_free (model);
  optimizer_free (optimizer);
  return NULL;
}

HnTrainer *
trainer_resume (const char *path, const HnTrainConfig *config, const HnDataset *ds, HnError *err)
{
  HnSafetensors *st = safetensors_read (path, err);
  if (st == NULL)
    return NULL;
  HnCheckpointInfo info;
  HnModel *model = NULL;
  HnTrainer *t = NULL;
  HnTrainConfig cfg = *config;
  if (!checkpoint_info (st, &info, err))
    goto fail;
  cfg.backbone = info.backbone;
  cfg.size = info.input_size;
  if ((model = model_new (info.backbone, 0)) == NULL)
    {
      hn_error_set (err, "out of memory");
      goto fail;
    }
  if (!checkpoint_apply (model, st, err))
    goto fail;
  const char *seed = safetensors_meta (st, "train.seed");
  if (seed != NULL)
    cfg.seed = strtoull (seed, NULL, 10);
  t = trainer_new (&cfg, ds, model, NULL, err);
  model = NULL; /* owned (or freed) by trainer_new */
  if (t == NULL)
    goto fail;
  t->n_history = 0;
  if (!restore_training_state (t, st, path, err))
    {
      trainer_free (t);
      t = NULL;
      goto fail;
    }
  safetensors_free (st);
  return t;

fail:
  hn_error_prefix (err, "%s", path);
  model_free (model);
  safetensors_free (st);
  return NULL;
}

bool
trainer_start (HnTrainer *t, HnError *err)
{
  HN_ASSERT (!t->started);
  t->state = TRAINER_RUNNING;
  /* the first "last good" checkpoint, so rollback always has somewhere to go */
  if (t->checkpoint_path && !save (t, t->checkpoint_path, err))
    return hn_error_prefix (err, "cannot write the first checkpoint");
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
  batcher_free (t->train);
  batcher_free (t->val);
  model_free (t->model);
  optimizer_free (t->opt);
  pthread_mutex_destroy (&t->lock);
  pthread_mutex_destroy (&t->model_lock);
  pthread_cond_destroy (&t->control);
  pthread_cond_destroy (&t->events);
  pthread_cond_destroy (&t->yielded);
  free (t->checkpoint_path);
  free (t->saved_buffers);
  free (t->saved_counts);
  free (t->steps.items);
  free (t->others.items);
  free (t->history);
  free (t);
}

/* ---- reading ---- */

int
trainer_poll (HnTrainer *t, HnEvent *out, int max, uint64_t *dropped)
{
  pthread_mutex_lock (&t->lock);
  int n = 0;
  while (n < max)
    {
      const HnEvent *a = ring_peek (&t->steps), *b = ring_peek (&t->others);
      if (a == NULL && b == NULL)
        break;
      bool take_a = a != NULL && (b == NULL || a->seq < b->seq);
      out[n++] = take_a ? *a : *b;
      ring_pop (take_a ? &t->steps : &t->others);
    }
  if (dropped)
    *dropped = t->steps.dropped + t->others.dropped;
  t->steps.dropped = t->others.dropped = 0;
  pthread_mutex_unlock (&t->lock);
  return n;
}

bool
trainer_wait_event (HnTrainer *t, int timeout_ms)
{
  struct timespec until;
  clock_gettime (CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L)
    until.tv_sec++, until.tv_nsec -= 1000000000L;
  pthread_mutex_lock (&t->lock);
  while (t->steps.count + t->others.count == 0)
    if (pthread_cond_timedwait (&t->events, &t->lock, &until) != 0)
      break;
  bool any = t->steps.count + t->others.count > 0;
  pthread_mutex_unlock (&t->lock);
  return any;
}

HnTrainerState
trainer_state (HnTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  HnTrainerState s = t->state;
  pthread_mutex_unlock (&t->lock);
  return s;
}

int64_t
trainer_step (HnTrainer *t)
{
  pthread_mutex_lock (&t->lock);
  int64_t s = t->step;
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

void
trainer_snapshot (HnTrainer *t, HnModel *dst)
{
  HN_ASSERT (model_backbone (dst) == model_backbone (t->model));
  const HnParamTable *table = model_params (t->model);
  enter_model (t);
  memcpy (model_param_data (dst), model_param_data (t->model), table->n_params * sizeof (float));
  memcpy (model_buffer_data (dst), model_buffer_data (t->model), table->n_buffers * sizeof (float));
  memcpy (model_count_data (dst), model_count_data (t->model), table->n_counts * sizeof (int64_t));
  leave_model (t);
}

bool
trainer_save (HnTrainer *t, const char *path, HnError *err)
{
  enter_model (t);
  bool ok = save (t, path, err);
  leave_model (t);
  return ok;
}
