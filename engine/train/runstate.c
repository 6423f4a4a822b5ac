#include "runstate.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
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

/* Where the optimizer state of checkpoint `path` lives: a sibling file, so that the
 * checkpoint itself holds only the model and loads with a plain, strict load_state_dict in
 * PyTorch. Caller frees. */
static char *
optimizer_path (const char *path)
{
  char *p = NULL;
  return asprintf (&p, "%s.optim", path) < 0 ? NULL : p;
}

/* The moments in PyTorch's layout, as the model's own tensors are written (params.h), with
 * the step they belong to. */
static bool
save_optimizer (const HnOptimizer *opt, const HnParamTable *table, int64_t step,
                const char *path, HnError *err)
{
  const size_t n = opt->n;
  float *m = malloc (n * sizeof *m), *v = opt->v ? malloc (n * sizeof *v) : NULL;
  char *file = optimizer_path (path);
  bool ok = m != NULL && (opt->v == NULL || v != NULL) && file != NULL;
  if (!ok)
    hn_error_set (err, "%s: out of memory", path);
  else
    {
      params_to_torch (table, m, opt->m);
      if (v != NULL)
        params_to_torch (table, v, opt->v);
      StTensor tensors[2] = {
        { .name = "optim.m", .dtype = ST_F32, .ndim = 1, .shape = { (int64_t) n }, .data = m,
          .nbytes = n * sizeof (float) },
        { .name = "optim.v", .dtype = ST_F32, .ndim = 1, .shape = { (int64_t) n }, .data = v,
          .nbytes = n * sizeof (float) },
      };
      char text[32];
      snprintf (text, sizeof text, "%lld", (long long) step);
      StMeta meta = { "train.step", text };
      ok = safetensors_write (file, tensors, v ? 2 : 1, &meta, 1, err);
    }
  free (m);
  free (v);
  free (file);
  return ok;
}

bool
run_state_save (const HnRunState *s, HnModel *model, const HnOptimizer *opt,
                const HnTrainConfig *config, const char *path, HnError *err)
{
  char *history = history_to_json (s);
  HnRunMeta meta = {
    .source = config->source,
    .has_progress = true, .step = s->step, .epoch = s->epoch, .batch_index = s->batch_index,
    .seed = config->seed, .history = history,
    .has_loss = true, .loss = s->loss,
    .val_n = s->val.n,
    .val_age_mae = s->val.n > 0 ? s->val.age_mae : NAN,
    .val_gender_acc = s->val.n > 0 ? s->val.gender_acc : NAN,
    .val_race_acc = s->val.n > 0 ? s->val.race_acc : NAN,
  };
  if (opt != NULL)
    {
      meta.has_optimizer = true;
      meta.optimizer = opt->config;
      meta.optimizer_step = opt->step;
    }
  HnMetaList list;
  run_meta_format (&meta, &list);
  /* the moments first, freed before checkpoint_save makes its own copy of the parameters */
  bool ok = opt == NULL || save_optimizer (opt, model_params (model), s->step, path, err);
  ok = ok && checkpoint_save (model, config->size, path, list.items, list.n, err);
  cJSON_free (history);
  return ok;
}

/* ---- restoring ---- */

/* The optimizer of kind and settings cfg, with its moments and step count from the sibling
 * of path, which must belong to `step`. NULL and err otherwise. */
static HnOptimizer *
load_optimizer (const HnOptimizerConfig *cfg, int64_t opt_step, int64_t step, const char *path,
                const HnParamTable *table, HnError *err)
{
  char *file = optimizer_path (path);
  HnSafetensors *os = file ? safetensors_read (file, err) : NULL;
  free (file);
  if (os == NULL)
    {
      hn_error_prefix (err, "the optimizer state beside the checkpoint");
      return NULL;
    }
  HnRunMeta om;
  const size_t n = table->n_params;
  const StTensor *m = safetensors_find (os, "optim.m"), *v = safetensors_find (os, "optim.v");
  const bool adam = cfg->kind != OPTIMIZER_SGD;
  HnOptimizer *opt = NULL;
  HnError ignored;
  if (!run_meta_read (os, &om, &ignored) || safetensors_meta (os, "train.step") == NULL
      || om.step != step)
    hn_error_set (err, "the optimizer state beside the checkpoint is from another step than "
                       "the model (a save was interrupted); use --init to start from the weights");
  else if (m == NULL || m->dtype != ST_F32 || st_numel (m) != (int64_t) n
           || (adam && (v == NULL || v->dtype != ST_F32 || st_numel (v) != (int64_t) n)))
    hn_error_set (err, "the optimizer state beside the checkpoint does not match the model");
  else if ((opt = optimizer_new (cfg, n)) == NULL)
    hn_error_set (err, "out of memory");
  else
    {
      params_from_torch (table, opt->m, m->data);
      if (adam)
        params_from_torch (table, opt->v, v->data);
      opt->step = opt_step;
    }
  safetensors_free (os);
  return opt;
}

bool
run_state_restore (HnRunState *s, HnOptimizer **opt, HnTrainConfig *config,
                   const HnSafetensors *st, const char *path, const HnParamTable *table,
                   HnError *err)
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
  HnOptimizer *restored = load_optimizer (&meta.optimizer, meta.optimizer_step, meta.step, path,
                                          table, err);
  if (restored == NULL)
    return false;
  optimizer_free (*opt);
  *opt = restored;
  config->optimizer = meta.optimizer;
  s->step = meta.step;
  s->epoch = meta.epoch;
  s->batch_index = meta.batch_index;
  s->loss = meta.loss;
  s->n_history = 0;
  history_from_json (s, meta.history);
  return true;
}
