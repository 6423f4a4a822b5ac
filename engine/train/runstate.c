#include "runstate.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fileio.h"
#include "runmeta.h"

void
run_state_record (HnRunState *s, HnSettingKind what, double value)
{
  if (s->n_history == s->cap_history)
    {
      int cap = s->cap_history ? 2 * s->cap_history : 64;
      HnHistoryEntry *h = realloc (s->history, sizeof *h * (size_t) cap);
      if (h == NULL)
        return;
      s->history = h;
      s->cap_history = cap;
    }
  s->history[s->n_history++] = (HnHistoryEntry) { s->step, what, value };
}

void
run_state_clear (HnRunState *s)
{
  free (s->history);
  s->history = NULL;
  s->n_history = s->cap_history = 0;
}

/* ---- the history as JSON: [{"step": S, "setting": "w_age", "value": V}, …] ---- */

static char *
history_to_json (const HnRunState *s)
{
  cJSON *a = cJSON_CreateArray ();
  for (int i = 0; i < s->n_history; i++)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddNumberToObject (o, "step", (double) s->history[i].step);
      cJSON_AddStringToObject (o, "setting", setting_name (s->history[i].what));
      cJSON_AddNumberToObject (o, "value", s->history[i].value);
      cJSON_AddItemToArray (a, o);
    }
  char *text = cJSON_PrintUnformatted (a);
  cJSON_Delete (a);
  return text;
}

/* Entries that are not well formed, or name a setting this version does not know, are
 * skipped: the history is for the plots, not for control. */
static void
history_from_json (HnRunState *s, const char *text)
{
  cJSON *a = text ? cJSON_Parse (text) : NULL;
  const cJSON *e;
  const int64_t now = s->step;
  cJSON_ArrayForEach (e, a)
  {
    const cJSON *step = cJSON_GetObjectItemCaseSensitive (e, "step");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive (e, "setting");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive (e, "value");
    HnSettingKind what;
    if (cJSON_IsNumber (step) && cJSON_IsString (name) && cJSON_IsNumber (value)
        && setting_from_name (name->valuestring, &what))
      {
        s->step = (int64_t) step->valuedouble;
        run_state_record (s, what, value->valuedouble);
      }
  }
  s->step = now;
  cJSON_Delete (a);
}

/* ---- saving ---- */

/* A sibling file, so that the checkpoint itself holds only the model and loads with a plain,
 * strict load_state_dict in PyTorch. */
char *
run_state_optimizer_path (const char *path)
{
  char *p = NULL;
  return asprintf (&p, "%s.optim", path) < 0 ? NULL : p;
}

/* Where the sidecar waits, whole, until the checkpoint beside it is written: ".NAME.pending"
 * in the same folder. Caller frees. */
static char *
pending_path (const char *file)
{
  const char *slash = strrchr (file, '/');
  int dir_len = slash != NULL ? (int) (slash - file) + 1 : 0;
  char *p = NULL;
  return asprintf (&p, "%.*s.%s.pending", dir_len, file, file + dir_len) < 0 ? NULL : p;
}

/* A failure to write the pending sidecar, told with the name the user knows: "cannot write
 * PENDING: reason" (fileio.h) becomes "cannot write OPTIM: reason". */
static void
name_sidecar (HnError *err, const char *pending, const char *optim)
{
  char *prefix = NULL;
  if (asprintf (&prefix, "cannot write %s: ", pending) < 0)
    return;
  const size_t n = strlen (prefix);
  if (strncmp (err->message, prefix, n) == 0)
    {
      char reason[sizeof err->message];
      snprintf (reason, sizeof reason, "%s", err->message + n);
      hn_error_set (err, "cannot write %s: %s", optim, reason);
    }
  free (prefix);
}

/* Up to five vectors of the sidecar, each in PyTorch's layout where it follows the parameter
 * table (params.h), owned until freed. */
typedef struct
{
  StTensor tensors[5];
  float *owned[5];
  int n;
} Sidecar;

static bool
sidecar_add (Sidecar *sc, const char *name, const float *src, size_t n, const HnParamTable *table)
{
  float *copy = malloc ((n ? n : 1) * sizeof *copy);
  if (copy == NULL)
    return false;
  if (table != NULL)
    params_to_torch (table, copy, src);
  else
    memcpy (copy, src, n * sizeof *copy);
  sc->owned[sc->n] = copy;
  sc->tensors[sc->n++] = (StTensor) { .name = name, .dtype = ST_F32, .ndim = 1,
                                      .shape = { (int64_t) n }, .data = copy,
                                      .nbytes = n * sizeof (float) };
  return true;
}

static void
sidecar_free (Sidecar *sc)
{
  for (int i = 0; i < sc->n; i++)
    free (sc->owned[i]);
}

/* The moments, the balancing method's state, and with an average the weights trained on,
 * with the step they belong to. */
static bool
save_sidecar (const HnOptimizer *opt, const HnBalanceState *balance, HnModel *model,
              bool with_weights, int64_t step, const char *file, HnError *err)
{
  const HnParamTable *table = model_params (model);
  Sidecar sc = { 0 };
  float packed[BALANCE_PACKED];
  balance_pack (balance, packed);
  bool ok = sidecar_add (&sc, "optim.m", opt->m, opt->n, table)
            && sidecar_add (&sc, "balance.state", packed, BALANCE_PACKED, NULL)
            && (opt->v == NULL || sidecar_add (&sc, "optim.v", opt->v, opt->n, table))
            && (!with_weights
                || (sidecar_add (&sc, "train.params", model_param_data (model), table->n_params,
                                 table)
                    && sidecar_add (&sc, "train.buffers", model_buffer_data (model),
                                    table->n_buffers, NULL)));
  if (!ok)
    hn_error_set (err, "%s: out of memory", file);
  else
    {
      char text[32];
      snprintf (text, sizeof text, "%lld", (long long) step);
      StMeta meta = { "train.step", text };
      ok = safetensors_write (file, sc.tensors, sc.n, &meta, 1, err);
    }
  sidecar_free (&sc);
  return ok;
}

bool
run_state_save (const HnRunState *s, HnModel *model, const HnOptimizer *opt, HnEma *ema,
                const HnTrainConfig *config, const char *path, HnError *err)
{
  char *history = history_to_json (s);
  HnRunMeta meta = {
    .source = config->source,
    .has_progress = true, .step = s->step, .epoch = s->epoch, .batch_index = s->batch_index,
    .seed = config->seed, .history = history,
    .has_loss = true, .loss = s->loss,
    .has_schedule = true, .schedule = config->schedule, .lr_scale = s->lr_scale,
    .schedule_done = (float) s->schedule_done,
    .ema_decay = ema != NULL ? ema->decay : 0.0f,
    .val_n = s->val.n,
    .val_age_mae = s->val.n > 0 ? s->val.age_mae : NAN,
    .val_gender_acc = s->val.n > 0 ? s->val.gender_acc : NAN,
    .val_race_acc = s->val.n > 0 ? s->val.race_acc : NAN,
  };
  if (opt != NULL)
    {
      meta.has_optimizer = true;
      meta.optimizer = opt->config;
      meta.optimizer.lr = config->optimizer.lr; /* the base rate; the step's is scheduled */
      meta.optimizer_step = opt->step;
    }
  HnMetaList list;
  run_meta_format (&meta, &list);
  /* The sidecar first, freed before checkpoint_save makes its own copy of the parameters; it
   * waits under another name until the checkpoint is in place, so that a full disk leaves the
   * old pair, one a run can still resume from. */
  char *optim = opt != NULL ? run_state_optimizer_path (path) : NULL;
  char *pending = optim != NULL ? pending_path (optim) : NULL;
  bool ok = opt == NULL || pending != NULL || hn_error_set (err, "%s: out of memory", path);
  if (ok && opt != NULL
      && !save_sidecar (opt, &s->balance, model, ema != NULL, s->step, pending, err))
    {
      name_sidecar (err, pending, optim);
      ok = false;
    }
  if (ema != NULL)
    ema_swap (ema, model); /* the file is the model to use: the average */
  ok = ok && checkpoint_save (model, config->size, path, list.items, list.n, err);
  if (ema != NULL)
    ema_swap (ema, model);
  /* renamed last: between the two renames, the pair's steps differ, which resuming refuses */
  ok = ok && (opt == NULL || file_rename (pending, optim, true, err));
  if (!ok && pending != NULL)
    unlink (pending);
  free (pending);
  free (optim);
  cJSON_free (history);
  return ok;
}

/* ---- restoring ---- */

/* A vector of n floats named name in the sidecar, or NULL. */
static const StTensor *
sidecar_find (const HnSafetensors *os, const char *name, size_t n)
{
  const StTensor *t = safetensors_find (os, name);
  return t != NULL && t->dtype == ST_F32 && st_numel (t) == (int64_t) n ? t : NULL;
}

static bool
unpack_balance (HnBalanceState *balance, const StTensor *t)
{
  float packed[BALANCE_PACKED];
  memcpy (packed, t->data, sizeof packed); /* tensor data may be unaligned */
  return balance_unpack (balance, packed);
}

/* The optimizer of kind and settings cfg, with its moments and step count from the sidecar of
 * path, which must belong to `step`; with an average, the weights trained on too, into model
 * (the average the caller applied moves to ema). NULL and err otherwise, nothing changed. */
static HnOptimizer *
load_sidecar (const HnOptimizerConfig *cfg, int64_t opt_step, int64_t step, float ema_decay,
              HnEma *ema, HnBalanceState *balance, bool *has_balance, HnModel *model,
              const char *path, HnError *err)
{
  const HnParamTable *table = model_params (model);
  char *file = run_state_optimizer_path (path);
  HnSafetensors *os = file ? safetensors_read (file, err) : NULL;
  free (file);
  if (os == NULL)
    {
      hn_error_prefix (err, "the optimizer state beside the checkpoint");
      return NULL;
    }
  HnRunMeta om;
  const size_t n = table->n_params;
  const StTensor *m = sidecar_find (os, "optim.m", n), *v = sidecar_find (os, "optim.v", n);
  const StTensor *w = sidecar_find (os, "train.params", n);
  const StTensor *b = sidecar_find (os, "train.buffers", table->n_buffers);
  const StTensor *bs = sidecar_find (os, "balance.state", BALANCE_PACKED);
  const bool adam = cfg->kind != OPTIMIZER_SGD, averaged = ema_decay > 0 && ema != NULL;
  HnOptimizer *opt = NULL;
  HnError ignored;
  if (!run_meta_read (os, &om, &ignored) || safetensors_meta (os, "train.step") == NULL
      || om.step != step)
    hn_error_set (err, "the optimizer state beside the checkpoint is from another step than "
                       "the model (a save was interrupted); use --init to start from the weights");
  else if (m == NULL || (adam && v == NULL) || (averaged && (w == NULL || b == NULL)))
    hn_error_set (err, "the optimizer state beside the checkpoint does not match the model");
  else if (bs != NULL && !(*has_balance = unpack_balance (balance, bs)))
    hn_error_set (err, "the balancing method's state beside the checkpoint is corrupt");
  else if ((opt = optimizer_new (cfg, n)) == NULL
           || (!cfg->decay_all && !optimizer_decay_weights_only (opt, table))
           || (averaged && !ema_init (ema, ema_decay, model)))
    {
      optimizer_free (opt);
      opt = NULL;
      hn_error_set (err, "out of memory");
    }
  else
    {
      params_from_torch (table, opt->m, m->data);
      if (adam)
        params_from_torch (table, opt->v, v->data);
      opt->step = opt_step;
      if (averaged)
        {
          ema->updates = opt_step;
          params_from_torch (table, model_param_data (model), w->data);
          memcpy (model_buffer_data (model), b->data, b->nbytes);
        }
    }
  safetensors_free (os);
  return opt;
}

bool
run_state_restore (HnRunState *s, HnOptimizer **opt, HnEma *ema, HnModel *model,
                   HnTrainConfig *config, const HnSafetensors *st, const char *path, HnError *err)
{
  HnRunMeta meta;
  if (!run_meta_read (st, &meta, err))
    return false;
  if (!meta.has_optimizer)
    return hn_error_set (err, "not a training checkpoint (no optimizer state); use it with "
                              "--init to start a new run from its weights");
  if (!meta.has_progress)
    return hn_error_set (err, "metadata train.step, train.epoch or train.batch_index is missing");
  if (!meta.has_loss)
    return hn_error_set (err, "the loss settings are missing from the checkpoint");
  HnEma fresh = { 0 };
  HnBalanceState balance;
  bool has_balance = false;
  HnOptimizer *restored = load_sidecar (&meta.optimizer, meta.optimizer_step, meta.step,
                                        meta.ema_decay, &fresh, &balance, &has_balance, model,
                                        path, err);
  if (restored == NULL)
    return false;
  optimizer_free (*opt);
  *opt = restored;
  if (ema != NULL)
    {
      ema_clear (ema);
      *ema = fresh;
    }
  config->optimizer = meta.optimizer;
  config->ema_decay = meta.ema_decay;
  if (meta.has_schedule)
    config->schedule = meta.schedule;
  s->step = meta.step;
  s->epoch = meta.epoch;
  s->batch_index = meta.batch_index;
  s->loss = meta.loss;
  if (has_balance)
    s->balance = balance;
  else /* written before the methods: the method starts again from the weights */
    balance_start (&s->balance, s->loss.balance, s->loss.weight);
  s->lr_scale = meta.lr_scale;
  s->schedule_done = meta.schedule_done;
  s->val = (HnEvalResult) { .n = meta.val_n, .age_mae = meta.val_age_mae,
                            .gender_acc = meta.val_gender_acc, .race_acc = meta.val_race_acc };
  s->n_history = 0;
  history_from_json (s, meta.history);
  return true;
}
