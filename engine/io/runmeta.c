#include "runmeta.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocale.h"

/* The value of key, or of its name before this schema; NULL when absent or empty. */
static const char *
lookup (const HnSafetensors *st, const char *key, const char *old_key)
{
  const char *s = safetensors_meta (st, key);
  if (s == NULL && old_key != NULL)
    s = safetensors_meta (st, old_key);
  return s != NULL && *s != '\0' ? s : NULL;
}

/* Each reader: false with a message when the key is there but malformed; *present says
 * whether it was there at all. */
static bool
read_i64 (const HnSafetensors *st, const char *key, int64_t lo, int64_t hi, int64_t *out,
          bool *present, HnError *err)
{
  const char *s = lookup (st, key, NULL);
  *present = s != NULL;
  if (s == NULL)
    return true;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi)
    return hn_error_set (err, "metadata %s is missing or out of range", key);
  *out = v;
  return true;
}

static bool
read_double (const HnSafetensors *st, const char *key, const char *old_key, double lo, double hi,
             double *out, bool *present, HnError *err)
{
  const char *s = lookup (st, key, old_key);
  *present = s != NULL;
  if (s == NULL)
    return true;
  char *end;
  double v = strtod (s, &end);
  if (end == s || *end || !isfinite (v) || v < lo || v > hi)
    return hn_error_set (err, "metadata %s is missing or not a number", key);
  *out = v;
  return true;
}

static bool
read_float (const HnSafetensors *st, const char *key, const char *old_key, float *out,
            bool *present, HnError *err)
{
  double v = 0;
  if (!read_double (st, key, old_key, 0, HUGE_VAL, &v, present, err))
    return false;
  if (*present)
    *out = (float) v;
  return true;
}

static bool
read_progress (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  int64_t epoch = 0, batch = 0, seed = 0;
  bool p_step, p_epoch, p_batch, p_seed;
  if (!read_i64 (st, "train.step", 0, INT64_MAX / 2, &m->step, &p_step, err)
      || !read_i64 (st, "train.epoch", 0, 1 << 20, &epoch, &p_epoch, err)
      || !read_i64 (st, "train.batch_index", 0, 1 << 30, &batch, &p_batch, err))
    return false;
  /* a seed is a u64: strtoull, as the writer prints it */
  const char *s = lookup (st, "train.seed", NULL);
  p_seed = s != NULL;
  if (p_seed)
    {
      char *end;
      errno = 0;
      unsigned long long v = strtoull (s, &end, 10);
      if (errno || end == s || *end || s[0] == '-')
        return hn_error_set (err, "metadata train.seed is missing or out of range");
      seed = (int64_t) v;
    }
  m->epoch = (int) epoch;
  m->batch_index = (int) batch;
  m->seed = (uint64_t) seed;
  m->has_progress = p_step && p_epoch && p_batch;
  m->history = lookup (st, "train.history", NULL);
  return true;
}

static bool
read_loss (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  static const char *const keys[N_HEADS][2] = {
    { "loss.w_age", "train.w_age" },
    { "loss.w_gender", "train.w_gender" },
    { "loss.w_race", "train.w_race" },
  };
  bool all = true, present;
  for (int h = 0; h < N_HEADS; h++)
    {
      /* a gradient method may weigh a head below zero (IMTL-G does) */
      double w = 0;
      if (!read_double (st, keys[h][0], keys[h][1], -1e30, 1e30, &w, &present, err))
        return false;
      if (present)
        m->loss.weight[h] = (float) w;
      all &= present;
    }
  const char *kind = lookup (st, "loss.age_loss", "train.age_loss");
  if (kind != NULL && !age_loss_from_name (kind, &m->loss.age_loss))
    return hn_error_set (err, "metadata loss.age_loss is \"%.40s\", not l1, mse or huber", kind);
  double smoothing = 0;
  if (!read_double (st, "loss.smoothing", NULL, 0, 0.99, &smoothing, &present, err))
    return false;
  m->loss.smoothing = (float) smoothing;
  const char *balance = lookup (st, "loss.balance", NULL);
  m->loss.balance = BALANCE_MANUAL;
  if (balance != NULL && !balance_from_name (balance, &m->loss.balance))
    return hn_error_set (err, "metadata loss.balance is \"%.40s\", not a balancing method "
                              "this version knows", balance);
  m->has_loss = all && kind != NULL;
  return true;
}

/* "1" or "0"; absent: fallback. */
static bool
read_flag (const HnSafetensors *st, const char *key, bool fallback, bool *out, HnError *err)
{
  const char *s = lookup (st, key, NULL);
  if (s != NULL && strcmp (s, "1") != 0 && strcmp (s, "0") != 0)
    return hn_error_set (err, "metadata %s is \"%.20s\", not 1 or 0", key, s);
  *out = s != NULL ? s[0] == '1' : fallback;
  return true;
}

static bool
read_schedule (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  const char *kind_name = lookup (st, "schedule.kind", NULL);
  HnScheduleKind kind = SCHEDULE_CONSTANT;
  if (kind_name != NULL && !schedule_from_name (kind_name, &kind))
    return hn_error_set (err, "metadata schedule.kind is \"%.40s\", not a schedule", kind_name);
  m->schedule = schedule_defaults (kind);
  m->has_schedule = kind_name != NULL;
  bool present;
  float scale = 1.0f, ema = 0.0f;
  if (!read_float (st, "schedule.warmup", NULL, &m->schedule.warmup, &present, err)
      || !read_float (st, "schedule.gamma", NULL, &m->schedule.gamma, &present, err)
      || !read_float (st, "schedule.div", NULL, &m->schedule.div, &present, err)
      || !read_float (st, "schedule.final_div", NULL, &m->schedule.final_div, &present, err)
      || !read_float (st, "train.lr_scale", NULL, &scale, &present, err)
      || !read_float (st, "train.schedule_done", NULL, &m->schedule_done, &present, err)
      || !read_float (st, "train.ema_decay", NULL, &ema, &present, err))
    return false;
  if (m->schedule.warmup > 1 || ema >= 1 || m->schedule_done > 1)
    return hn_error_set (err, "metadata schedule.warmup, train.schedule_done or "
                              "train.ema_decay is out of range");
  if (m->schedule.div <= 0 || m->schedule.final_div <= 0)
    return hn_error_set (err, "metadata schedule.div and schedule.final_div must be positive");
  m->lr_scale = scale;
  m->ema_decay = ema;
  return true;
}

static bool
read_optimizer (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  const char *kind_name = lookup (st, "optim.kind", NULL);
  HnOptimizerKind kind = OPTIMIZER_SGD;
  if (kind_name != NULL && !optimizer_from_name (kind_name, &kind))
    return hn_error_set (err, "metadata optim.kind is \"%.40s\", not sgd, adam or adamw",
                         kind_name);
  m->optimizer = optimizer_defaults (kind, 1e-3f);
  bool p_lr, p_momentum, p_wd, p_step;
  if (!read_float (st, "optim.lr", NULL, &m->optimizer.lr, &p_lr, err)
      || !read_float (st, "optim.momentum", NULL, &m->optimizer.momentum, &p_momentum, err)
      || !read_float (st, "optim.weight_decay", NULL, &m->optimizer.weight_decay, &p_wd, err)
      || !read_i64 (st, "optim.step", 0, INT64_MAX / 2, &m->optimizer_step, &p_step, err))
    return false;
  m->has_optimizer = kind_name != NULL && p_lr && p_momentum && p_wd && p_step;
  return read_flag (st, "optim.nesterov", false, &m->optimizer.nesterov, err)
         && read_flag (st, "optim.decay_all", true, &m->optimizer.decay_all, err);
}

static bool
read_val (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  int64_t n = 0;
  bool present;
  if (!read_i64 (st, "val.n", 0, INT32_MAX, &n, &present, err)
      || !read_double (st, "val.age_mae", NULL, 0, HUGE_VAL, &m->val_age_mae, &present, err)
      || !read_double (st, "val.gender_acc", NULL, 0, 1, &m->val_gender_acc, &present, err)
      || !read_double (st, "val.race_acc", NULL, 0, 1, &m->val_race_acc, &present, err))
    return false;
  m->val_n = (int) n;
  return true;
}

bool
run_meta_read (const HnSafetensors *st, HnRunMeta *m, HnError *err)
{
  *m = (HnRunMeta) { .val_age_mae = NAN, .val_gender_acc = NAN, .val_race_acc = NAN,
                     .lr_scale = 1.0f };
  m->source = lookup (st, "source", NULL);
  locale_t previous = c_locale_enter ();
  bool ok = read_progress (st, m, err) && read_loss (st, m, err) && read_optimizer (st, m, err)
            && read_schedule (st, m, err) && read_val (st, m, err);
  c_locale_leave (previous);
  return ok;
}

/* Appends key = printf (fmt, …) to out. */
static void
add (HnMetaList *out, const char *key, const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static void
add (HnMetaList *out, const char *key, const char *fmt, ...)
{
  HN_ASSERT (out->n < RUN_META_MAX);
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (out->text[out->n], sizeof out->text[out->n], fmt, ap);
  va_end (ap);
  out->items[out->n] = (StMeta) { key, out->text[out->n] };
  out->n++;
}

/* A string owned by the caller, not copied. */
static void
add_string (HnMetaList *out, const char *key, const char *value)
{
  HN_ASSERT (out->n < RUN_META_MAX);
  out->items[out->n++] = (StMeta) { key, value };
}

void
run_meta_format (const HnRunMeta *m, HnMetaList *out)
{
  locale_t previous = c_locale_enter ();
  out->n = 0;
  if (m->source != NULL)
    add_string (out, "source", m->source);
  if (m->has_progress)
    {
      add (out, "train.step", "%lld", (long long) m->step);
      add (out, "train.epoch", "%d", m->epoch);
      add (out, "train.batch_index", "%d", m->batch_index);
      add (out, "train.seed", "%llu", (unsigned long long) m->seed);
      add_string (out, "train.history", m->history != NULL ? m->history : "[]");
    }
  if (m->has_loss)
    {
      add_string (out, "loss.age_loss", age_loss_name (m->loss.age_loss));
      add (out, "loss.w_age", "%.9g", m->loss.weight[HEAD_AGE]);
      add (out, "loss.w_gender", "%.9g", m->loss.weight[HEAD_GENDER]);
      add (out, "loss.w_race", "%.9g", m->loss.weight[HEAD_RACE]);
      if (m->loss.smoothing > 0)
        add (out, "loss.smoothing", "%.9g", m->loss.smoothing);
      if (m->loss.balance != BALANCE_MANUAL)
        add_string (out, "loss.balance", balance_name (m->loss.balance));
    }
  if (m->has_optimizer)
    {
      add_string (out, "optim.kind", optimizer_name (m->optimizer.kind));
      add (out, "optim.step", "%lld", (long long) m->optimizer_step);
      add (out, "optim.lr", "%.9g", m->optimizer.lr);
      add (out, "optim.momentum", "%.9g", m->optimizer.momentum);
      add (out, "optim.weight_decay", "%.9g", m->optimizer.weight_decay);
      add (out, "optim.nesterov", "%d", m->optimizer.nesterov);
      add (out, "optim.decay_all", "%d", m->optimizer.decay_all);
    }
  if (m->has_schedule)
    {
      add_string (out, "schedule.kind", schedule_name (m->schedule.kind));
      add (out, "schedule.warmup", "%.9g", m->schedule.warmup);
      add (out, "schedule.gamma", "%.9g", m->schedule.gamma);
      add (out, "schedule.div", "%.9g", m->schedule.div);
      add (out, "schedule.final_div", "%.9g", m->schedule.final_div);
      add (out, "train.lr_scale", "%.9g", m->lr_scale);
      add (out, "train.schedule_done", "%.9g", m->schedule_done);
    }
  if (m->ema_decay > 0)
    add (out, "train.ema_decay", "%.9g", m->ema_decay);
  if (m->val_n > 0)
    add (out, "val.n", "%d", m->val_n);
  if (isfinite (m->val_age_mae))
    add (out, "val.age_mae", "%.9g", m->val_age_mae);
  if (isfinite (m->val_gender_acc))
    add (out, "val.gender_acc", "%.9g", m->val_gender_acc);
  if (isfinite (m->val_race_acc))
    add (out, "val.race_acc", "%.9g", m->val_race_acc);
  c_locale_leave (previous);
}
