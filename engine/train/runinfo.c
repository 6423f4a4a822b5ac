#include "runinfo.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "clocale.h"
#include "fileio.h"
#include "labels.h"
#include "runfolder.h"

#define MAX_EXACT 9007199254740992.0 /* 2^53: the integers a JSON number holds exactly */

static const char *const head_keys[N_HEADS] = { "age", "gender", "race" };
static const char *const weight_keys[N_HEADS] = { "w_age", "w_gender", "w_race" };

/* ---- writing: the settings, the parent, the summary as JSON ---- */

/* f as the double with the fewest digits that reads back as f: 0.3f is written "0.3", not
 * "0.30000001192092896". */
static double
shortest (float f)
{
  if (!isfinite (f))
    return f;
  char buf[C_FLOAT_MAX];
  locale_t previous = c_locale_enter ();
  c_format_float (f, buf);
  double d = strtod (buf, NULL);
  c_locale_leave (previous);
  return d;
}

static void
add_float (cJSON *o, const char *key, float f)
{
  cJSON_AddNumberToObject (o, key, shortest (f));
}

/* A double that may be NaN or infinite (a diverged validation): null then. */
static void
add_metric (cJSON *o, const char *key, double d)
{
  if (isfinite (d))
    cJSON_AddNumberToObject (o, key, d);
  else
    cJSON_AddNullToObject (o, key);
}

static void
add_string_or_null (cJSON *o, const char *key, const char *s)
{
  if (s != NULL)
    cJSON_AddStringToObject (o, key, s);
  else
    cJSON_AddNullToObject (o, key);
}

/* A seed: a number while JSON holds it exactly, a decimal string above 2^53. */
static void
add_seed (cJSON *o, const char *key, uint64_t seed)
{
  if (seed <= (uint64_t) MAX_EXACT)
    cJSON_AddNumberToObject (o, key, (double) seed);
  else
    {
      char text[32];
      snprintf (text, sizeof text, "%llu", (unsigned long long) seed);
      cJSON_AddStringToObject (o, key, text);
    }
}

void
run_info_format_now (char buf[RUN_INFO_TIME])
{
  struct timespec now;
  struct tm utc;
  clock_gettime (CLOCK_REALTIME, &now);
  gmtime_r (&now.tv_sec, &utc);
  size_t n = strftime (buf, 32, "%Y-%m-%dT%H:%M:%S", &utc);
  snprintf (buf + n, 32 - n, ".%03dZ", (int) (now.tv_nsec / 1000000));
}

static cJSON *
settings_to_json (const HnTrainConfig *c, const HnLossConfig *loss, float lr)
{
  cJSON *s = cJSON_CreateObject ();
  add_string_or_null (s, "preset", c->preset);
  cJSON_AddStringToObject (s, "backbone", backbone_name (c->backbone));
  cJSON_AddNumberToObject (s, "size", c->size);
  cJSON_AddNumberToObject (s, "batch", c->batch);
  cJSON_AddNumberToObject (s, "epochs", c->epochs);

  const HnOptimizerConfig *o = &c->optimizer;
  cJSON *opt = cJSON_AddObjectToObject (s, "optimizer");
  cJSON_AddStringToObject (opt, "kind", optimizer_name (o->kind));
  add_float (opt, "lr", lr);
  add_float (opt, "momentum", o->momentum);
  cJSON_AddBoolToObject (opt, "nesterov", o->nesterov);
  add_float (opt, "weight_decay", o->weight_decay);
  cJSON_AddStringToObject (opt, "decay", o->decay_all ? "all" : "weights");
  add_float (opt, "beta1", o->beta1);
  add_float (opt, "beta2", o->beta2);
  add_float (opt, "eps", o->eps);

  cJSON *sched = cJSON_AddObjectToObject (s, "schedule");
  cJSON_AddStringToObject (sched, "kind", schedule_name (c->schedule.kind));
  add_float (sched, "warmup", c->schedule.warmup);
  add_float (sched, "gamma", c->schedule.gamma);
  add_float (sched, "div", c->schedule.div);
  add_float (sched, "final_div", c->schedule.final_div);

  const HnAugment *a = &c->augment;
  cJSON *aug = cJSON_AddObjectToObject (s, "augment");
  cJSON_AddBoolToObject (aug, "flip", a->flip);
  add_float (aug, "crop", a->crop);
  add_float (aug, "aspect", a->aspect);
  add_float (aug, "rotate", a->rotate);
  add_float (aug, "brightness", a->brightness);
  add_float (aug, "contrast", a->contrast);
  add_float (aug, "saturation", a->saturation);

  add_float (s, "ema", c->ema_decay);
  cJSON_AddBoolToObject (s, "tta", c->tta);
  cJSON_AddNumberToObject (s, "val_percent", c->val_percent);
  if (c->val_every == VAL_AT_END)
    cJSON_AddStringToObject (s, "val_every", "end");
  else
    cJSON_AddNumberToObject (s, "val_every", c->val_every);
  add_seed (s, "seed", c->seed);
  cJSON_AddStringToObject (s, "age_target", c->standardize_age ? "standardized" : "years");
  cJSON_AddNumberToObject (s, "time_budget_s", c->time_budget);

  cJSON *l = cJSON_AddObjectToObject (s, "loss");
  cJSON_AddStringToObject (l, "age_loss", age_loss_name (loss->age_loss));
  for (int h = 0; h < N_HEADS; h++)
    add_float (l, weight_keys[h], loss->weight[h]);
  add_float (l, "smoothing", loss->smoothing);
  cJSON_AddStringToObject (l, "balance", balance_name (loss->balance));
  return s;
}

static cJSON *
data_to_json (const HnTrainConfig *c)
{
  cJSON *d = cJSON_CreateObject ();
  if (c->data_folder != NULL)
    cJSON_AddStringToObject (d, "folder", c->data_folder);
  else
    {
      cJSON_AddNumberToObject (d, "synthetic", c->synthetic);
      add_seed (d, "seed", c->synthetic_seed);
    }
  return d;
}

static cJSON *
parent_to_json (const HnRunParent *p)
{
  if (p == NULL)
    return cJSON_CreateNull ();
  cJSON *o = cJSON_CreateObject ();
  add_string_or_null (o, "folder", p->folder);
  add_string_or_null (o, "checkpoint", p->checkpoint);
  cJSON_AddNumberToObject (o, "step", (double) p->step);
  cJSON_AddNumberToObject (o, "epoch", p->epoch);
  return o;
}

static cJSON *
validation_to_json (const HnRunValidation *v)
{
  if (v->val.n <= 0)
    return cJSON_CreateNull ();
  const HnEvalResult *r = &v->val;
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "epoch", v->epoch);
  cJSON_AddNumberToObject (o, "step", (double) v->step);
  cJSON_AddNumberToObject (o, "n", r->n);
  add_metric (o, "age_mae", r->age_mae);
  add_metric (o, "age_rmse", r->age_rmse);
  add_metric (o, "gender_acc", r->gender_acc);
  add_metric (o, "race_acc", r->race_acc);
  cJSON *loss = cJSON_AddObjectToObject (o, "loss");
  for (int h = 0; h < N_HEADS; h++)
    add_metric (loss, head_keys[h], r->loss[h]);
  cJSON *confusion = cJSON_AddArrayToObject (o, "race_confusion");
  for (int i = 0; i < N_RACES; i++)
    cJSON_AddItemToArray (confusion, cJSON_CreateIntArray (r->race_confusion[i], N_RACES));
  return o;
}

static cJSON *
summary_to_json (const HnRunSummary *s)
{
  cJSON *o = cJSON_CreateObject ();
  char now[RUN_INFO_TIME];
  run_info_format_now (now);
  cJSON_AddStringToObject (o, "state", trainer_state_name (s->state));
  cJSON_AddStringToObject (o, "updated", now);
  cJSON_AddNumberToObject (o, "steps", (double) s->steps);
  cJSON_AddNumberToObject (o, "epochs", s->epochs);
  cJSON_AddNumberToObject (o, "batch", s->batch);
  cJSON_AddNumberToObject (o, "images", (double) s->images);
  cJSON_AddItemToObject (o, "final", validation_to_json (&s->final));
  cJSON_AddItemToObject (o, "best", validation_to_json (&s->best));
  cJSON *list = cJSON_AddArrayToObject (o, "checkpoints");
  for (int i = 0; i < s->n_checkpoints; i++)
    {
      const HnRunCheckpoint *c = &s->checkpoints[i];
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddStringToObject (e, "file", c->file);
      cJSON_AddNumberToObject (e, "epoch", c->epoch);
      cJSON_AddNumberToObject (e, "batch", c->batch);
      cJSON_AddNumberToObject (e, "step", (double) c->step);
      cJSON_AddItemToArray (list, e);
    }
  return o;
}

/* A folder's last part, "2026-12-07-064512" of "/…/runs/2026-12-07-064512/". */
static char *
folder_name (const char *folder)
{
  size_t end = strlen (folder);
  while (end > 1 && folder[end - 1] == '/')
    end--;
  size_t start = end;
  while (start > 0 && folder[start - 1] != '/')
    start--;
  return strndup (folder + start, end - start);
}

char *
run_info_begin (const char *folder, const HnTrainConfig *config, const HnLossConfig *loss,
                float lr, const HnRunParent *parent, HnError *err)
{
  char now[RUN_INFO_TIME], *name = folder_name (folder), *data_folder = NULL;
  run_info_format_now (now);
  HnTrainConfig c = *config;
  if (c.data_folder != NULL && (data_folder = realpath (c.data_folder, NULL)) != NULL)
    c.data_folder = data_folder;
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "format", RUN_INFO_FORMAT);
  cJSON_AddStringToObject (o, "name", name ? name : "");
  cJSON_AddStringToObject (o, "created", now);
  add_string_or_null (o, "source", c.source);
  cJSON_AddItemToObject (o, "data", data_to_json (&c));
  cJSON_AddItemToObject (o, "settings", settings_to_json (&c, loss, lr));
  cJSON_AddItemToObject (o, "parent", parent_to_json (parent));
  char *text = name != NULL ? cJSON_Print (o) : NULL;
  cJSON_Delete (o);
  free (name);
  free (data_folder);
  if (text == NULL)
    hn_error_set (err, "out of memory");
  return text;
}

/* ---- rewriting: summary and name, under the folder's lock ---- */

/* Locks the run folder against another writer of its run.json (this process's threads or
 * another's): flock on the folder itself, so no lock file lies about. Returns the fd to
 * unlock, or −1 and err. */
static int
lock_folder (const char *folder, HnError *err)
{
  int fd = open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      hn_error_set (err, "cannot open the run folder %s: %s", folder, strerror (errno));
      return -1;
    }
  while (flock (fd, LOCK_EX) != 0)
    if (errno != EINTR)
      {
        hn_error_set (err, "cannot lock the run folder %s: %s", folder, strerror (errno));
        close (fd);
        return -1;
      }
  return fd;
}

static void
unlock_folder (int fd)
{
  close (fd); /* releases the lock */
}

/* FOLDER/run.json parsed, if it is a JSON object of this format; NULL otherwise (err says
 * why, when err is not NULL). */
static cJSON *
load_json (const char *folder, HnError *err)
{
  char *path = run_folder_file (folder, RUN_INFO);
  HnBytes buf = { 0 };
  HnError why;
  cJSON *root = NULL;
  struct stat st;
  if (path == NULL)
    hn_error_set (err, "out of memory");
  else if (lstat (path, &st) != 0 && errno == ENOENT)
    hn_error_set (err, "no %s: not a run folder", RUN_INFO);
  else if (!file_read (AT_FDCWD, path, RUN_INFO_MAX, "a run.json", &buf, &why))
    hn_error_set (err, "%s: %s", RUN_INFO, why.message);
  else if ((root = cJSON_ParseWithLength ((const char *) buf.data, buf.len)) == NULL)
    hn_error_set (err, "%s is not JSON (or is cut short)", RUN_INFO);
  bytes_clear (&buf);
  free (path);
  const cJSON *format
      = cJSON_IsObject (root) ? cJSON_GetObjectItemCaseSensitive (root, "format") : NULL;
  if (root == NULL)
    return NULL;
  if (!cJSON_IsObject (root))
    hn_error_set (err, "%s is not a JSON object", RUN_INFO);
  else if (!cJSON_IsString (format))
    hn_error_set (err, "%s has no \"format\": not a run's", RUN_INFO);
  else if (strcmp (format->valuestring, RUN_INFO_FORMAT) != 0)
    hn_error_set (err, "%s is in format \"%.60s\"; this version reads \"" RUN_INFO_FORMAT "\"",
                  RUN_INFO, format->valuestring);
  else
    return root;
  cJSON_Delete (root);
  return NULL;
}

static bool
store_json (const char *folder, const cJSON *root, HnError *err)
{
  char *text = cJSON_Print (root);
  char *path = run_folder_file (folder, RUN_INFO);
  bool ok;
  if (text == NULL || path == NULL)
    ok = hn_error_set (err, "out of memory");
  else
    {
      size_t len = strlen (text);
      text[len] = '\n'; /* a text file ends with a newline; the NUL is not written */
      HnChunk chunk = { text, len + 1 };
      ok = file_replace (path, &chunk, 1, true, NULL, err);
    }
  cJSON_free (text);
  free (path);
  return ok;
}

static void
replace_key (cJSON *root, const char *key, cJSON *value)
{
  if (cJSON_GetObjectItemCaseSensitive (root, key) != NULL)
    cJSON_ReplaceItemInObjectCaseSensitive (root, key, value);
  else
    cJSON_AddItemToObject (root, key, value);
}

bool
run_info_write_summary (const char *folder, const char *start, const HnRunSummary *s,
                        HnError *err)
{
  int lock = lock_folder (folder, err);
  if (lock < 0)
    return false;
  cJSON *root = load_json (folder, NULL);
  if (root == NULL && start != NULL)
    root = cJSON_Parse (start);
  bool ok;
  if (root == NULL)
    ok = hn_error_set (err, "%s/%s: not a run's, and nothing to write it again from", folder,
                       RUN_INFO);
  else
    {
      replace_key (root, "summary", summary_to_json (s));
      ok = store_json (folder, root, err);
    }
  cJSON_Delete (root);
  unlock_folder (lock);
  return ok;
}

bool
run_info_rename (const char *folder, const char *name, HnError *err)
{
  size_t len = strlen (name);
  if (len == 0 || len > 200)
    return hn_error_set (err, "a run's name is 1 to 200 bytes long");
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) name[i] < 0x20 || name[i] == 0x7f)
      return hn_error_set (err, "a run's name cannot hold control characters");
  int lock = lock_folder (folder, err);
  if (lock < 0)
    return false;
  cJSON *root = load_json (folder, err);
  bool ok = root != NULL;
  if (ok)
    {
      replace_key (root, "name", cJSON_CreateString (name));
      ok = store_json (folder, root, err);
    }
  else
    hn_error_prefix (err, "%s", folder);
  cJSON_Delete (root);
  unlock_folder (lock);
  return ok;
}

/* ---- the summary, as a run goes ---- */

void
run_summary_observe (HnRunSummary *s, const HnEvent *e)
{
  if (e->kind == EVENT_STATE)
    {
      /* the CLI stops a run that diverged: it ended as diverged */
      if (!(e->state.state == TRAINER_STOPPED && s->state == TRAINER_DIVERGED))
        s->state = e->state.state;
    }
  else if (e->kind == EVENT_EPOCH && e->val.n > 0)
    {
      s->final = (HnRunValidation) { e->epoch, e->step, e->val };
      if (s->best.val.n == 0 || e->val.age_mae < s->best.val.age_mae)
        s->best = s->final;
    }
}

/* Makes room for one more `size`-byte item in *items, which holds n of *cap. */
static bool
grow (void **items, int n, int *cap, size_t size)
{
  if (n < *cap)
    return true;
  int more = *cap ? 2 * *cap : 8;
  void *grown = realloc (*items, size * (size_t) more);
  if (grown == NULL)
    return false;
  *items = grown;
  *cap = more;
  return true;
}

bool
run_summary_add_checkpoint (HnRunSummary *s, const char *file, int epoch, int batch, int64_t step)
{
  HnRunCheckpoint *c = NULL;
  for (int i = 0; i < s->n_checkpoints && c == NULL; i++)
    if (strcmp (s->checkpoints[i].file, file) == 0)
      c = &s->checkpoints[i];
  if (c == NULL)
    {
      char *copy = strdup (file);
      if (copy == NULL)
        return false;
      if (!grow ((void **) &s->checkpoints, s->n_checkpoints, &s->cap_checkpoints,
                 sizeof *s->checkpoints))
        {
          free (copy);
          return false;
        }
      c = &s->checkpoints[s->n_checkpoints++];
      c->file = copy;
    }
  c->epoch = epoch;
  c->batch = batch;
  c->step = step;
  return true;
}

void
run_summary_clear (HnRunSummary *s)
{
  for (int i = 0; i < s->n_checkpoints; i++)
    free (s->checkpoints[i].file);
  free (s->checkpoints);
  s->checkpoints = NULL;
  s->n_checkpoints = s->cap_checkpoints = 0;
}

/* ---- reading ---- */

/* Where in the hostile file a reader stands ("settings.optimizer"), for its messages. Each
 * getter leaves *out as it is when the key is missing or null, and fails naming the key when
 * the value is of the wrong type or out of range. */
typedef struct
{
  HnError *err;
  char where[96];
} Reader;

static Reader
nested (const Reader *r, const char *key)
{
  Reader n = { .err = r->err };
  snprintf (n.where, sizeof n.where, "%.60s%s%.30s", r->where, r->where[0] ? "." : "", key);
  return n;
}

static bool
bad (const Reader *r, const char *key, const char *what)
{
  return hn_error_set (r->err, "%s: %s%s%s %s", RUN_INFO, r->where, r->where[0] ? "." : "", key,
                       what);
}

static const cJSON *
item (const cJSON *o, const char *key)
{
  const cJSON *v = o != NULL ? cJSON_GetObjectItemCaseSensitive (o, key) : NULL;
  return cJSON_IsNull (v) ? NULL : v;
}

/* An object, or NULL when missing. */
static bool
get_object (const Reader *r, const cJSON *o, const char *key, const cJSON **out)
{
  *out = item (o, key);
  return *out == NULL || cJSON_IsObject (*out) || bad (r, key, "is not an object");
}

/* A string that stays in the file's tree, or NULL when missing. */
static bool
get_word (const Reader *r, const cJSON *o, const char *key, const char **out)
{
  const cJSON *v = item (o, key);
  *out = cJSON_IsString (v) ? v->valuestring : NULL;
  return v == NULL || *out != NULL || bad (r, key, "is not a string");
}

static bool
get_string (const Reader *r, const cJSON *o, const char *key, char **out)
{
  const char *word;
  if (!get_word (r, o, key, &word))
    return false;
  if (word == NULL)
    return true;
  char *copy = strdup (word);
  if (copy == NULL)
    return hn_error_set (r->err, "out of memory");
  free (*out);
  *out = copy;
  return true;
}

static bool
get_int (const Reader *r, const cJSON *o, const char *key, double lo, double hi, int64_t *out)
{
  const cJSON *v = item (o, key);
  if (v == NULL)
    return true;
  double d = cJSON_IsNumber (v) ? v->valuedouble : NAN;
  if (!(d >= lo && d <= hi) || d != floor (d))
    {
      char what[96];
      snprintf (what, sizeof what, "is not a whole number in [%.0f, %.0f]", lo, hi);
      return bad (r, key, what);
    }
  *out = (int64_t) d;
  return true;
}

static bool
get_int32 (const Reader *r, const cJSON *o, const char *key, int lo, int hi, int *out)
{
  int64_t v = *out;
  bool ok = get_int (r, o, key, lo, hi, &v);
  *out = (int) v;
  return ok;
}

static bool
get_float (const Reader *r, const cJSON *o, const char *key, double lo, double hi, float *out)
{
  const cJSON *v = item (o, key);
  if (v == NULL)
    return true;
  double d = cJSON_IsNumber (v) ? v->valuedouble : NAN;
  if (!(d >= lo && d <= hi))
    {
      char what[96];
      snprintf (what, sizeof what, "is not a number in [%g, %g]", lo, hi);
      return bad (r, key, what);
    }
  *out = (float) d;
  return true;
}

/* A figure that may be unknown: null (or missing) is NaN. */
static bool
get_metric (const Reader *r, const cJSON *o, const char *key, double *out)
{
  const cJSON *v = item (o, key);
  *out = cJSON_IsNumber (v) ? v->valuedouble : NAN;
  return v == NULL || cJSON_IsNumber (v) || bad (r, key, "is not a number");
}

static bool
get_bool (const Reader *r, const cJSON *o, const char *key, bool *out)
{
  const cJSON *v = item (o, key);
  if (v != NULL && !cJSON_IsBool (v))
    return bad (r, key, "is not true or false");
  if (v != NULL)
    *out = cJSON_IsTrue (v);
  return true;
}

/* One of two words: *out is whether it is `yes` (left as it is when missing). */
static bool
get_choice (const Reader *r, const cJSON *o, const char *key, const char *yes, const char *no,
            bool *out)
{
  const char *word;
  if (!get_word (r, o, key, &word))
    return false;
  if (word != NULL && strcmp (word, yes) != 0 && strcmp (word, no) != 0)
    {
      char what[96];
      snprintf (what, sizeof what, "is not \"%s\" or \"%s\"", yes, no);
      return bad (r, key, what);
    }
  if (word != NULL)
    *out = strcmp (word, yes) == 0;
  return true;
}

static bool
unknown (const Reader *r, const char *key)
{
  return bad (r, key, "names nothing this version knows");
}

static bool
get_seed (const Reader *r, const cJSON *o, const char *key, uint64_t *out)
{
  const cJSON *v = item (o, key);
  if (cJSON_IsString (v))
    {
      char *end;
      errno = 0;
      unsigned long long s = strtoull (v->valuestring, &end, 10);
      if (errno != 0 || end == v->valuestring || *end != '\0' || v->valuestring[0] == '-')
        return bad (r, key, "is not a whole number");
      *out = s;
      return true;
    }
  int64_t s = (int64_t) *out;
  if (!get_int (r, o, key, 0, MAX_EXACT, &s))
    return false;
  *out = (uint64_t) s;
  return true;
}

static bool
read_optimizer (const Reader *r, const cJSON *o, HnOptimizerConfig *opt)
{
  const char *kind_name;
  HnOptimizerKind kind;
  if (!get_word (r, o, "kind", &kind_name))
    return false;
  if (kind_name != NULL && !optimizer_from_name (kind_name, &kind))
    return unknown (r, "kind");
  if (kind_name != NULL && kind != opt->kind) /* another kind's defaults under the file's */
    *opt = optimizer_defaults (kind, opt->lr);
  return get_float (r, o, "lr", 1e-12, 100, &opt->lr)
         && get_float (r, o, "momentum", 0, 1, &opt->momentum)
         && get_bool (r, o, "nesterov", &opt->nesterov)
         && get_float (r, o, "weight_decay", 0, 10, &opt->weight_decay)
         && get_choice (r, o, "decay", "all", "weights", &opt->decay_all)
         && get_float (r, o, "beta1", 0, 1, &opt->beta1)
         && get_float (r, o, "beta2", 0, 1, &opt->beta2)
         && get_float (r, o, "eps", 0, 1, &opt->eps);
}

static bool
read_schedule (const Reader *r, const cJSON *o, HnSchedule *s)
{
  const char *kind_name;
  HnScheduleKind kind;
  if (!get_word (r, o, "kind", &kind_name))
    return false;
  if (kind_name != NULL && !schedule_from_name (kind_name, &kind))
    return unknown (r, "kind");
  if (kind_name != NULL && kind != s->kind)
    *s = schedule_defaults (kind);
  return get_float (r, o, "warmup", 0, 1, &s->warmup)
         && get_float (r, o, "gamma", 0, 1e6, &s->gamma)
         && get_float (r, o, "div", 1e-6, 1e12, &s->div)
         && get_float (r, o, "final_div", 1e-6, 1e12, &s->final_div);
}

static bool
read_augment (const Reader *r, const cJSON *o, HnAugment *a)
{
  /* the ranges augment_from_names takes */
  return get_bool (r, o, "flip", &a->flip) && get_float (r, o, "crop", 0, 0.95, &a->crop)
         && get_float (r, o, "aspect", 0, 3, &a->aspect)
         && get_float (r, o, "rotate", 0, 45, &a->rotate)
         && get_float (r, o, "brightness", 0, 0.95, &a->brightness)
         && get_float (r, o, "contrast", 0, 0.95, &a->contrast)
         && get_float (r, o, "saturation", 0, 0.95, &a->saturation);
}

static bool
read_loss (const Reader *r, const cJSON *o, HnLossConfig *l)
{
  const char *age, *balance;
  if (!get_word (r, o, "age_loss", &age) || !get_word (r, o, "balance", &balance))
    return false;
  if (age != NULL && !age_loss_from_name (age, &l->age_loss))
    return unknown (r, "age_loss");
  if (balance != NULL && !balance_from_name (balance, &l->balance))
    return unknown (r, "balance");
  bool ok = get_float (r, o, "smoothing", 0, 0.99, &l->smoothing);
  for (int h = 0; ok && h < N_HEADS; h++)
    ok = get_float (r, o, weight_keys[h], -1e6, 1e6, &l->weight[h]); /* IMTL-G's may be < 0 */
  return ok;
}

/* The settings start from their preset's (the studio's without one), so that a key left out
 * takes the value the run most likely had. */
static bool
read_settings (const Reader *r, const cJSON *s, HnRunInfo *info)
{
  HnTrainConfig *c = &info->settings;
  if (!get_string (r, s, "preset", &info->preset))
    return false;
  if (info->preset == NULL || !train_preset_from_name (info->preset, c))
    *c = train_preset_studio ();
  c->preset = info->preset;

  const char *backbone;
  if (!get_word (r, s, "backbone", &backbone))
    return false;
  if (backbone != NULL && !backbone_from_name (backbone, &c->backbone))
    return unknown (r, "backbone");
  const cJSON *every = item (s, "val_every");
  if (cJSON_IsString (every) && strcmp (every->valuestring, "end") == 0)
    c->val_every = VAL_AT_END;
  else if (!get_int32 (r, s, "val_every", 0, 10000000, &c->val_every))
    return false;
  float budget = (float) c->time_budget;
  const cJSON *optimizer, *schedule, *augment, *loss;
  bool ok = get_int32 (r, s, "size", 8, 1024, &c->size)
            && get_int32 (r, s, "batch", 2, 65536, &c->batch)
            && get_int32 (r, s, "epochs", 1, 10000000, &c->epochs)
            && get_float (r, s, "ema", 0, 0.999999, &c->ema_decay)
            && get_bool (r, s, "tta", &c->tta)
            && get_int32 (r, s, "val_percent", 0, 90, &c->val_percent)
            && get_seed (r, s, "seed", &c->seed)
            && get_choice (r, s, "age_target", "standardized", "years", &c->standardize_age)
            && get_float (r, s, "time_budget_s", 0, 1e9, &budget)
            && get_object (r, s, "optimizer", &optimizer)
            && get_object (r, s, "schedule", &schedule)
            && get_object (r, s, "augment", &augment) && get_object (r, s, "loss", &loss);
  c->time_budget = budget;
  Reader ro = nested (r, "optimizer"), rs = nested (r, "schedule"), ra = nested (r, "augment"),
         rl = nested (r, "loss");
  return ok && read_optimizer (&ro, optimizer, &c->optimizer)
         && read_schedule (&rs, schedule, &c->schedule) && read_augment (&ra, augment, &c->augment)
         && read_loss (&rl, loss, &c->loss);
}

static bool
read_confusion (const Reader *r, const cJSON *confusion, int counts[N_RACES][N_RACES])
{
  if (confusion == NULL)
    return true;
  bool shaped = cJSON_IsArray (confusion) && cJSON_GetArraySize (confusion) == N_RACES;
  for (int i = 0; shaped && i < N_RACES; i++)
    {
      const cJSON *row = cJSON_GetArrayItem (confusion, i);
      shaped = cJSON_IsArray (row) && cJSON_GetArraySize (row) == N_RACES;
      for (int j = 0; shaped && j < N_RACES; j++)
        {
          const cJSON *x = cJSON_GetArrayItem (row, j);
          double d = cJSON_IsNumber (x) ? x->valuedouble : -1;
          shaped = d >= 0 && d <= 1e9 && d == floor (d);
          counts[i][j] = shaped ? (int) d : 0;
        }
    }
  return shaped || bad (r, "race_confusion", "is not 5 rows of 5 counts");
}

static bool
read_validation (const Reader *r, const cJSON *o, HnRunValidation *v)
{
  if (o == NULL)
    return true;
  HnEvalResult *e = &v->val;
  int64_t step = 0;
  const cJSON *loss;
  bool ok = get_int32 (r, o, "epoch", 0, 10000000, &v->epoch)
            && get_int (r, o, "step", 0, MAX_EXACT, &step)
            && get_int32 (r, o, "n", 0, 1000000000, &e->n)
            && get_metric (r, o, "age_mae", &e->age_mae)
            && get_metric (r, o, "age_rmse", &e->age_rmse)
            && get_metric (r, o, "gender_acc", &e->gender_acc)
            && get_metric (r, o, "race_acc", &e->race_acc) && get_object (r, o, "loss", &loss)
            && read_confusion (r, item (o, "race_confusion"), e->race_confusion);
  v->step = step;
  Reader rl = nested (r, "loss");
  for (int h = 0; h < N_HEADS; h++)
    {
      e->trained[h] = NAN;
      ok = ok && get_metric (&rl, loss, head_keys[h], &e->loss[h]);
    }
  return ok;
}

/* A checkpoint's file must lie inside the run folder: relative, and no "..". */
static bool
inside_folder (const char *file)
{
  if (file[0] == '\0' || file[0] == '/')
    return false;
  for (const char *p = file; p != NULL; p = strchr (p, '/') ? strchr (p, '/') + 1 : NULL)
    if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0'))
      return false;
  return true;
}

static bool
is_file (const char *folder, const char *file)
{
  char *path = run_folder_file (folder, file);
  struct stat st;
  bool there = path != NULL && stat (path, &st) == 0 && S_ISREG (st.st_mode);
  free (path);
  return there;
}

static bool
read_checkpoints (const Reader *r, const cJSON *list, const char *folder, HnRunSummary *s)
{
  if (list == NULL)
    return true;
  if (!cJSON_IsArray (list))
    return bad (r, "checkpoints", "is not a list");
  const cJSON *c;
  int i = 0;
  cJSON_ArrayForEach (c, list)
  {
    char key[32];
    snprintf (key, sizeof key, "checkpoints[%d]", i++);
    const char *file = NULL;
    int epoch = 0, batch = 0;
    int64_t step = 0;
    Reader rc = nested (r, key);
    if (!cJSON_IsObject (c))
      return bad (r, key, "is not an object");
    if (!get_word (&rc, c, "file", &file))
      return false;
    if (file == NULL || !inside_folder (file))
      return bad (&rc, "file", "is not a path inside the run folder");
    if (!get_int32 (&rc, c, "epoch", 0, 10000000, &epoch)
        || !get_int32 (&rc, c, "batch", 0, 10000000, &batch)
        || !get_int (&rc, c, "step", 0, MAX_EXACT, &step))
      return false;
    if (is_file (folder, file) && !run_summary_add_checkpoint (s, file, epoch, batch, step))
      return hn_error_set (r->err, "out of memory");
  }
  return true;
}

static bool
read_summary (const Reader *r, const cJSON *o, const char *folder, HnRunSummary *s)
{
  s->state = TRAINER_RUNNING;
  if (o == NULL)
    return true;
  const char *state;
  int64_t images = 0;
  const cJSON *final, *best;
  if (!get_word (r, o, "state", &state))
    return false;
  if (state != NULL && !trainer_state_from_name (state, &s->state))
    return unknown (r, "state");
  bool ok = get_int (r, o, "steps", 0, MAX_EXACT, &s->steps)
            && get_int32 (r, o, "epochs", 0, 10000000, &s->epochs)
            && get_int32 (r, o, "batch", 0, 10000000, &s->batch)
            && get_int (r, o, "images", 0, MAX_EXACT, &images) && get_object (r, o, "final", &final)
            && get_object (r, o, "best", &best);
  s->images = (uint64_t) images;
  Reader rf = nested (r, "final"), rb = nested (r, "best");
  return ok && read_validation (&rf, final, &s->final) && read_validation (&rb, best, &s->best)
         && read_checkpoints (r, item (o, "checkpoints"), folder, s);
}

static bool
read_parent (const Reader *r, const cJSON *o, HnRunInfo *info)
{
  if (o == NULL)
    return true;
  HnRunParent *p = &info->parent;
  info->has_parent = true;
  int64_t step = 0;
  bool ok = get_string (r, o, "folder", &p->folder)
            && get_string (r, o, "checkpoint", &p->checkpoint)
            && get_int (r, o, "step", 0, MAX_EXACT, &step)
            && get_int32 (r, o, "epoch", 0, 10000000, &p->epoch);
  p->step = step;
  return ok;
}

static bool
read_data (const Reader *r, const cJSON *o, HnRunInfo *info)
{
  HnTrainConfig *c = &info->settings;
  return get_string (r, o, "folder", &info->data_folder)
         && get_int32 (r, o, "synthetic", 0, 1000000000, &c->synthetic)
         && get_seed (r, o, "seed", &c->synthetic_seed);
}

bool
run_info_read (const char *folder, HnRunInfo *info, HnError *err)
{
  *info = (HnRunInfo) { 0 };
  info->folder = realpath (folder, NULL);
  if (info->folder == NULL && (info->folder = strdup (folder)) == NULL)
    return hn_error_set (err, "out of memory");
  cJSON *root = load_json (folder, err);
  if (root == NULL)
    return false;
  Reader r = { .err = err };
  const cJSON *settings, *data, *parent, *summary;
  Reader rs = nested (&r, "settings"), rd = nested (&r, "data"), rp = nested (&r, "parent"),
         rm = nested (&r, "summary");
  bool ok = get_string (&r, root, "name", &info->name)
            && get_string (&r, root, "created", &info->created)
            && get_string (&r, root, "source", &info->source)
            && get_object (&r, root, "settings", &settings) && get_object (&r, root, "data", &data)
            && get_object (&r, root, "parent", &parent)
            && get_object (&r, root, "summary", &summary) && read_settings (&rs, settings, info)
            && read_data (&rd, data, info) && read_parent (&rp, parent, info)
            && read_summary (&rm, summary, info->folder, &info->summary);
  cJSON_Delete (root);
  if (!ok)
    return false;
  if (info->name == NULL && (info->name = folder_name (info->folder)) == NULL)
    return hn_error_set (err, "out of memory");
  if (info->created == NULL && (info->created = strdup ("")) == NULL)
    return hn_error_set (err, "out of memory");
  info->settings.source = info->source;
  info->settings.data_folder = info->data_folder;
  info->has_model = is_file (info->folder, RUN_MODEL);
  return true;
}

void
run_info_clear (HnRunInfo *info)
{
  free (info->folder);
  free (info->name);
  free (info->created);
  free (info->source);
  free (info->preset);
  free (info->data_folder);
  free (info->parent.folder);
  free (info->parent.checkpoint);
  run_summary_clear (&info->summary);
  *info = (HnRunInfo) { 0 };
}

cJSON *
run_info_to_cjson (const HnRunInfo *info)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "folder", info->folder);
  cJSON_AddStringToObject (o, "format", RUN_INFO_FORMAT);
  cJSON_AddStringToObject (o, "name", info->name);
  cJSON_AddStringToObject (o, "created", info->created);
  add_string_or_null (o, "source", info->source);
  cJSON_AddItemToObject (o, "data", data_to_json (&info->settings));
  cJSON_AddItemToObject (o, "settings", settings_to_json (&info->settings, &info->settings.loss,
                                                          info->settings.optimizer.lr));
  cJSON_AddItemToObject (o, "parent", parent_to_json (info->has_parent ? &info->parent : NULL));
  cJSON_AddItemToObject (o, "summary", summary_to_json (&info->summary));
  char *model = info->has_model ? run_folder_file (info->folder, RUN_MODEL) : NULL;
  add_string_or_null (o, "model", model);
  free (model);
  return o;
}

/* ---- listing ---- */

static int
by_creation (const void *a, const void *b)
{
  const HnRunInfo *x = a, *y = b;
  int c = strcmp (x->created, y->created);
  return c != 0 ? c : strcmp (x->folder, y->folder);
}

static int
by_folder (const void *a, const void *b)
{
  return strcmp (((const HnSkippedRun *) a)->folder, ((const HnSkippedRun *) b)->folder);
}

bool
run_list_read (const char *dir, HnRunList *list, HnError *err)
{
  *list = (HnRunList) { 0 };
  DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT || hn_error_set (err, "cannot read %s: %s", dir, strerror (errno));
  int cap_runs = 0, cap_skipped = 0;
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir (d)) != NULL)
    {
      if (e->d_name[0] == '.')
        continue;
      char *folder = run_folder_file (dir, e->d_name);
      struct stat st;
      HnRunInfo info;
      HnError why;
      if (folder == NULL)
        ok = false;
      else if (stat (folder, &st) != 0 || !S_ISDIR (st.st_mode))
        free (folder); /* a file beside the runs: not a folder that claims to be one */
      else if (run_info_read (folder, &info, &why))
        {
          free (folder);
          ok = grow ((void **) &list->runs, list->n_runs, &cap_runs, sizeof info);
          if (ok)
            list->runs[list->n_runs++] = info;
          else
            run_info_clear (&info);
        }
      else
        {
          run_info_clear (&info);
          char *reason = strdup (why.message);
          ok = reason != NULL
               && grow ((void **) &list->skipped, list->n_skipped, &cap_skipped,
                        sizeof (HnSkippedRun));
          if (ok)
            list->skipped[list->n_skipped++] = (HnSkippedRun) { folder, reason };
          else
            free (folder), free (reason);
        }
    }
  closedir (d);
  if (!ok)
    {
      run_list_clear (list);
      return hn_error_set (err, "out of memory");
    }
  if (list->n_runs > 1)
    qsort (list->runs, (size_t) list->n_runs, sizeof *list->runs, by_creation);
  if (list->n_skipped > 1)
    qsort (list->skipped, (size_t) list->n_skipped, sizeof *list->skipped, by_folder);
  return true;
}

void
run_list_clear (HnRunList *list)
{
  for (int i = 0; i < list->n_runs; i++)
    run_info_clear (&list->runs[i]);
  for (int i = 0; i < list->n_skipped; i++)
    free (list->skipped[i].folder), free (list->skipped[i].reason);
  free (list->runs);
  free (list->skipped);
  *list = (HnRunList) { 0 };
}
