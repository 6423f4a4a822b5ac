/* export.c — writing the project (export.h). */
#include "export.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "balance.h"
#include "checkpoint.h"
#include "clocale.h"
#include "config.h"
#include "export-private.h"
#include "fileio.h"
#include "history.h"
#include "losses.h"
#include "runfolder.h"
#include "runinfo.h"
#include "runmeta.h"


/* ---- the recipe ---- */

/* f with the fewest digits that read back as f, as the record writes it (0.3f is 0.3). */
static double
shortest (float f)
{
  char buf[C_FLOAT_MAX];
  locale_t previous = c_locale_enter ();
  c_format_float (f, buf);
  double d = strtod (buf, NULL);
  c_locale_leave (previous);
  return d;
}

static cJSON *
change_to_json (const HnChange *c)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddNumberToObject (o, "step", (double) c->step);
  cJSON_AddNumberToObject (o, "images", (double) c->images);
  cJSON_AddStringToObject (o, "setting", setting_name (c->what));
  if (c->what == SETTING_AGE_LOSS)
    {
      cJSON_AddStringToObject (o, "value", age_loss_name ((HnAgeLoss) (int) c->value));
      cJSON_AddStringToObject (o, "old_value", age_loss_name ((HnAgeLoss) (int) c->old_value));
    }
  else if (c->what == SETTING_BALANCE)
    {
      cJSON_AddStringToObject (o, "value", balance_name ((HnBalance) (int) c->value));
      cJSON_AddStringToObject (o, "old_value", balance_name ((HnBalance) (int) c->old_value));
    }
  else
    {
      cJSON_AddNumberToObject (o, "value", shortest ((float) c->value));
      cJSON_AddNumberToObject (o, "old_value", shortest ((float) c->old_value));
    }
  return o;
}

/* Moves key from one object to another, replacing what was there. */
static void
move_key (cJSON *from, cJSON *to, const char *key)
{
  cJSON *item = cJSON_DetachItemFromObjectCaseSensitive (from, key);
  if (item == NULL)
    return;
  if (cJSON_GetObjectItemCaseSensitive (to, key) != NULL)
    cJSON_ReplaceItemInObjectCaseSensitive (to, key, item);
  else
    cJSON_AddItemToObject (to, key, item);
}

/* A run of the chain as train.py switches to it: where it starts, and its own settings — its
 * epochs, over which the schedule runs (those a time budget let it reach), and its
 * augmentation. The first run's settings go to *settings (NULL: not wanted). */
static bool
add_segment (cJSON *project, const HnSegment *seg, cJSON **settings, HnError *err)
{
  HnRunInfo info = { 0 };
  bool ok = run_info_read (seg->folder, &info, err);
  cJSON *json = ok ? run_info_to_cjson (&info) : NULL;
  if (ok && json == NULL)
    ok = hn_error_set (err, "out of memory");
  if (ok)
    {
      cJSON *own = cJSON_GetObjectItemCaseSensitive (json, "settings");
      int epochs = info.settings.epochs;
      const int reached = info.summary.epochs + (info.summary.batch > 0);
      if (info.settings.time_budget > 0 && reached > 0)
        {
          epochs = reached;
          char note[512];
          snprintf (note, sizeof note, "%.200s had a time budget: train.py runs the %d epochs it "
                    "reached instead, the schedule over their steps", info.name, reached);
          cJSON_AddItemToArray (cJSON_GetObjectItemCaseSensitive (project, "notes"),
                                cJSON_CreateString (note));
        }
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "folder", info.folder);
      cJSON_AddStringToObject (o, "name", info.name != NULL ? info.name : "");
      cJSON_AddNumberToObject (o, "step", (double) seg->step);
      cJSON_AddNumberToObject (o, "images", (double) seg->images);
      cJSON_AddNumberToObject (o, "epochs", epochs);
      cJSON_AddItemToObject (o, "augment", cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (own, "augment"), true));
      cJSON_AddItemToArray (cJSON_GetObjectItemCaseSensitive (project, "segments"), o);
      if (settings != NULL)
        *settings = cJSON_DetachItemFromObjectCaseSensitive (json, "settings");
    }
  cJSON_Delete (json);
  run_info_clear (&info);
  return ok;
}

/* A run, with its chain of forks: the first run's settings as it started them (the history
 * changes them from there), the whole chain's epochs, each run's own part (segments), and
 * every change along the way. */
static bool
add_run (cJSON *project, const char *folder, HnError *err)
{
  HnRunInfo leaf = { 0 };
  HnHistory h = { 0 };
  cJSON *settings = NULL;
  cJSON_AddArrayToObject (project, "segments");
  bool ok = run_info_read (folder, &leaf, err) && run_history_read (folder, &h, err);
  for (int i = 0; ok && i < h.n_segments; i++)
    ok = add_segment (project, &h.segments[i], i == 0 ? &settings : NULL, err);
  if (ok)
    {
      cJSON *segments = cJSON_GetObjectItemCaseSensitive (project, "segments");
      cJSON *last = cJSON_GetArrayItem (segments, cJSON_GetArraySize (segments) - 1);
      cJSON_ReplaceItemInObjectCaseSensitive (
        settings, "epochs", cJSON_Duplicate (cJSON_GetObjectItemCaseSensitive (last, "epochs"), true));
      cJSON_AddStringToObject (project, "name", leaf.name != NULL ? leaf.name : "");
      cJSON *from = cJSON_AddObjectToObject (project, "from");
      cJSON_AddStringToObject (from, "folder", leaf.folder);
      cJSON_AddNumberToObject (from, "steps", (double) leaf.summary.steps);
      cJSON_AddNumberToObject (from, "images", (double) leaf.summary.images);
      cJSON *json = run_info_to_cjson (&leaf);
      ok = json != NULL || hn_error_set (err, "out of memory");
      if (ok)
        move_key (json, project, "data");
      cJSON_Delete (json);
      cJSON_AddItemToObject (project, "settings", settings);
      settings = NULL;
      cJSON *history = cJSON_AddArrayToObject (project, "history");
      for (int i = 0; i < h.n; i++)
        cJSON_AddItemToArray (history, change_to_json (&h.items[i]));
    }
  cJSON_Delete (settings);
  run_info_clear (&leaf);
  run_history_clear (&h);
  return ok;
}

/* A model alone: the recipe in force when it was saved, over the studio preset's defaults. */
static bool
add_model_recipe (cJSON *project, const char *model, HnError *err)
{
  HnCheckpoint *c = checkpoint_open (model, CHECKPOINT_HEADER, err);
  if (c == NULL)
    return false;
  HnRunMeta meta;
  if (!run_meta_read (c->st, &meta, err))
    {
      checkpoint_close (c);
      return hn_error_prefix (err, "%s", model);
    }
  HnTrainConfig config = train_preset_studio ();
  config.preset = NULL;
  config.source = meta.source;
  config.backbone = c->info.backbone;
  config.size = c->info.input_size;
  config.standardize_age = c->info.age_mean != 0.0f || c->info.age_std != 1.0f;
  config.ema_decay = meta.ema_decay;
  if (meta.has_optimizer)
    config.optimizer = meta.optimizer;
  if (meta.has_schedule)
    config.schedule = meta.schedule;
  if (meta.has_progress)
    config.seed = meta.seed;
  HnLossConfig loss = meta.has_loss ? meta.loss : config.loss;
  char *text = run_info_begin (model, &config, &loss, config.optimizer.lr * meta.lr_scale, NULL, err);
  checkpoint_close (c);
  cJSON *start = text != NULL ? cJSON_Parse (text) : NULL;
  free (text);
  if (start == NULL)
    return hn_error_set (err, "out of memory");
  move_key (start, project, "name");
  cJSON *from = cJSON_AddObjectToObject (project, "from");
  cJSON_AddNullToObject (from, "folder");
  cJSON_AddNumberToObject (from, "steps", meta.has_progress ? (double) meta.step : 0);
  cJSON_AddNullToObject (from, "images");
  cJSON_AddNullToObject (project, "data"); /* train.py --data says which */
  move_key (start, project, "settings");
  cJSON_AddArrayToObject (project, "history");
  cJSON *notes = cJSON_GetObjectItemCaseSensitive (project, "notes");
  cJSON_AddItemToArray (notes, cJSON_CreateString (
    "exported from a model alone: no live changes to replay, and the batch, epochs, "
    "augmentation and split are the studio preset's"));
  if (!meta.has_optimizer)
    cJSON_AddItemToArray (notes, cJSON_CreateString (
      "the model does not say which optimizer trained it: the studio preset's is used"));
  cJSON_Delete (start);
  return true;
}

/* The run a model alone belongs to: the folder holding its checkpoints/, or its own, when that
 * is a run (has a run.json); NULL otherwise. */
static char *
run_of_model (const char *model)
{
  char *folder = run_folder_of (model, NULL);
  if (folder != NULL && !folder_has (folder, RUN_INFO))
    {
      free (folder);
      return NULL;
    }
  return folder;
}

/* ---- the folder ---- */

static bool
folder_is_empty (const char *dir, HnError *err)
{
  DIR *d = opendir (dir);
  if (d == NULL)
    return errno == ENOENT || hn_error_set (err, "%s: %s", dir, strerror (errno));
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir (d)) != NULL)
    empty = strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0;
  closedir (d);
  return empty || hn_error_set (err, "%s is not empty: export into a new or an empty folder", dir);
}

/* s as one word of a POSIX shell, for a command to paste: 'it'\''s' (free it). */
static char *
shell_quote (const char *s)
{
  char *out = malloc (4 * strlen (s) + 3), *o = out;
  if (out == NULL)
    return NULL;
  *o++ = '\'';
  for (; *s; s++)
    if (*s == '\'')
      o = stpcpy (o, "'\\''"); /* close, an escaped quote, open again */
    else
      *o++ = *s;
  *o++ = '\'';
  *o = '\0';
  return out;
}

/* The README with @NAME@ and @DATA@ filled in (free it); NULL when out of memory. */
static char *
fill_readme (const HnProjectFile *f, const char *name, const char *data)
{
  const char *const keys[] = { "@NAME@", "@DATA@" }, *values[] = { name, data };
  size_t cap = f->len + 1;
  for (size_t i = 0; i < f->len; i++)
    if (f->data[i] == '@') /* room for either value wherever a key could start */
      cap += strlen (name) + strlen (data);
  char *out = malloc (cap), *o = out;
  for (size_t i = 0; out != NULL && i < f->len;)
    {
      int k = 0;
      while (k < 2 && (f->len - i < strlen (keys[k]) || memcmp (f->data + i, keys[k], strlen (keys[k]))))
        k++;
      if (k < 2)
        {
          o = stpcpy (o, values[k]);
          i += strlen (keys[k]);
        }
      else
        *o++ = (char) f->data[i++];
    }
  if (out != NULL)
    *o = '\0';
  return out;
}

/* A copy of the weights to start from, read as a model of the recipe's backbone and size
 * first. */
static bool
copy_init (const char *model, const cJSON *settings, const char *dir, HnError *err)
{
  HnCheckpoint *c = checkpoint_open (model, CHECKPOINT_MODEL, err);
  if (c == NULL)
    return false;
  const cJSON *backbone = cJSON_GetObjectItemCaseSensitive (settings, "backbone");
  const cJSON *size = cJSON_GetObjectItemCaseSensitive (settings, "size");
  const bool fits = cJSON_IsString (backbone) && strcmp (backbone->valuestring, backbone_name (c->info.backbone)) == 0
                    && cJSON_IsNumber (size) && size->valueint == c->info.input_size;
  if (!fits)
    hn_error_set (err, "%s is a %s at %d×%d, but the run trains a %s at %d×%d", model,
                  backbone_name (c->info.backbone), c->info.input_size, c->info.input_size,
                  cJSON_IsString (backbone) ? backbone->valuestring : "?", size ? size->valueint : 0,
                  size ? size->valueint : 0);
  checkpoint_close (c);
  if (!fits)
    return false;
  return copy_into (model, dir, PROJECT_INIT, MODEL_MAX, "a model", err);
}

static bool
write_project (cJSON *project, const char *model, const char *dir, HnError *err)
{
  const cJSON *name = cJSON_GetObjectItemCaseSensitive (project, "name");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive (project, "data");
  const cJSON *folder = cJSON_GetObjectItemCaseSensitive (data, "folder");
  char *quoted = cJSON_IsString (folder) ? shell_quote (folder->valuestring) : strdup ("DIR");
  if (quoted == NULL)
    return hn_error_set (err, "out of memory");
  const char *data_arg = quoted;
  bool ok = true;
  for (const HnProjectFile *f = project_files; ok && f->name != NULL; f++)
    if (strcmp (f->name, "README.md") == 0)
      {
        char *text = fill_readme (f, cJSON_IsString (name) ? name->valuestring : "", data_arg);
        ok = text != NULL ? write_into (dir, f->name, text, strlen (text), err)
                          : hn_error_set (err, "out of memory");
        free (text);
      }
    else
      ok = write_into (dir, f->name, f->data, f->len, err);
  ok = ok && (model == NULL
              || copy_init (model, cJSON_GetObjectItemCaseSensitive (project, "settings"), dir, err));
  char *text = ok ? cJSON_Print (project) : NULL;
  if (ok && text == NULL)
    ok = hn_error_set (err, "out of memory");
  ok = ok && write_into (dir, RUN_INFO, text, strlen (text), err);
  free (text);
  free (quoted);
  return ok;
}

/* Removes what write_project wrote into dir (and dir, when this made it). */
static void
undo (const char *dir, bool made)
{
  for (const HnProjectFile *f = project_files; f->name != NULL; f++)
    remove_from (dir, &f->name, 1);
  remove_from (dir, (const char *const[]) { PROJECT_INIT, RUN_INFO }, 2);
  if (made)
    rmdir (dir);
}

bool
export_pytorch_project (const HnExport *what, const char *out_dir, HnProjectSummary *summary,
                        HnError *err)
{
  char *run = what->run != NULL ? realpath (what->run, NULL) : NULL;
  if (what->run != NULL && run == NULL)
    return hn_error_set (err, "%s: %s", what->run, strerror (errno));
  if (run == NULL && what->model == NULL)
    return hn_error_set (err, "nothing to export: give a run or a model");
  if (run == NULL)
    run = run_of_model (what->model);

  char *model = NULL;
  if (what->model != NULL)
    model = strdup (what->model);
  else
    {
      model = run_folder_file (run, RUN_MODEL);
      if (model != NULL && access (model, F_OK) != 0)
        {
          free (model);
          model = NULL;
        }
    }

  char when[RUN_INFO_TIME];
  run_info_format_now (when);
  cJSON *project = cJSON_CreateObject ();
  cJSON_AddStringToObject (project, "format", PROJECT_FORMAT);
  cJSON_AddStringToObject (project, "exported", when);
  cJSON_AddStringToObject (project, "exporter", what->exporter != NULL ? what->exporter : "");
  cJSON_AddArrayToObject (project, "notes"); /* what the export could not carry over */
  bool ok = run != NULL ? add_run (project, run, err) : add_model_recipe (project, what->model, err);
  if (ok)
    {
      cJSON *from = cJSON_GetObjectItemCaseSensitive (project, "from");
      char *abs = model != NULL ? realpath (model, NULL) : NULL;
      if (abs != NULL)
        cJSON_AddStringToObject (from, "model", abs);
      else
        cJSON_AddNullToObject (from, "model");
      free (abs);
      if (model != NULL)
        cJSON_AddStringToObject (project, "init", PROJECT_INIT);
      else
        cJSON_AddNullToObject (project, "init");
    }

  struct stat st;
  const bool made = stat (out_dir, &st) != 0;
  ok = ok && folder_is_empty (out_dir, err) && file_make_dirs (out_dir, 0777, err);
  if (ok && !write_project (project, model, out_dir, err))
    {
      undo (out_dir, made);
      ok = false;
    }
  if (ok && summary != NULL)
    {
      summary->folder = realpath (out_dir, NULL);
      summary->changes = cJSON_GetArraySize (cJSON_GetObjectItemCaseSensitive (project, "history"));
      summary->has_init = model != NULL;
    }
  cJSON_Delete (project);
  free (model);
  free (run);
  return ok;
}
