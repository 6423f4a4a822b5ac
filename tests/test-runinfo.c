/* test-runinfo.c — a run folder (runfolder.h) and its run.json (runinfo.h): every key written
 * and read back, a rename and a summary rewrite that keep what the other wrote, a hostile
 * run.json refused with a message naming the key, a folder of runs listed with the folders
 * that are not runs skipped, and a real (tiny) run laying out its folder.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "runfolder.h"
#include "runinfo.h"
#include "test-runs.h"
#include "test-util.h"

/* Settings with no value at its default, so a key that does not travel shows. */
static HnTrainConfig
unusual_config (void)
{
  HnTrainConfig c = train_preset_quick ();
  c.backbone = BACKBONE_RESNET34;
  c.size = 64;
  c.batch = 48;
  c.epochs = 7;
  c.val_percent = 15;
  c.seed = (1ull << 60) + 3; /* above 2^53: written as a string */
  c.augment = (HnAugment) { .flip = true, .crop = 0.123456789f, .aspect = 0.2f, .rotate = 7.5f,
                            .brightness = 0.1f, .contrast = 0.3f, .saturation = 0.05f };
  c.optimizer.momentum = 0.3f;
  c.optimizer.nesterov = true;
  c.optimizer.beta2 = 0.98f;
  c.schedule = schedule_defaults (SCHEDULE_COSINE);
  c.schedule.warmup = 0.25f;
  c.ema_decay = 0.999f;
  c.val_every = VAL_AT_END;
  c.time_budget = 90.5;
  c.loss.balance = BALANCE_FAMO;
  c.source = "test-runinfo";
  c.data_folder = "/nonexistent/UTKFace";
  return c;
}

static void
assert_same_settings (const HnTrainConfig *a, const HnTrainConfig *b, const HnLossConfig *loss,
                      float lr)
{
  ck_assert_int_eq (a->backbone, b->backbone);
  ck_assert_int_eq (a->size, b->size);
  ck_assert_int_eq (a->batch, b->batch);
  ck_assert_int_eq (a->epochs, b->epochs);
  ck_assert_int_eq (a->val_percent, b->val_percent);
  ck_assert (a->seed == b->seed);
  ck_assert (memcmp (&a->augment, &b->augment, sizeof a->augment) == 0);
  ck_assert_int_eq (a->optimizer.kind, b->optimizer.kind);
  ck_assert (b->optimizer.lr == lr);
  ck_assert (a->optimizer.momentum == b->optimizer.momentum);
  ck_assert (a->optimizer.nesterov == b->optimizer.nesterov);
  ck_assert (a->optimizer.weight_decay == b->optimizer.weight_decay);
  ck_assert (a->optimizer.decay_all == b->optimizer.decay_all);
  ck_assert (a->optimizer.beta1 == b->optimizer.beta1);
  ck_assert (a->optimizer.beta2 == b->optimizer.beta2);
  ck_assert (a->optimizer.eps == b->optimizer.eps);
  ck_assert (memcmp (&a->schedule, &b->schedule, sizeof a->schedule) == 0);
  ck_assert (a->ema_decay == b->ema_decay);
  ck_assert (a->tta == b->tta);
  ck_assert_int_eq (a->val_every, b->val_every);
  ck_assert (a->standardize_age == b->standardize_age);
  ck_assert (a->time_budget == b->time_budget);
  ck_assert_int_eq (b->loss.age_loss, loss->age_loss);
  for (int h = 0; h < N_HEADS; h++)
    ck_assert (b->loss.weight[h] == loss->weight[h]);
  ck_assert (b->loss.smoothing == loss->smoothing);
  ck_assert_int_eq (b->loss.balance, loss->balance);
  ck_assert_str_eq (a->preset, b->preset);
  ck_assert_str_eq (a->source, b->source);
}

static HnEvalResult
validation (double mae)
{
  HnEvalResult v = { .n = 25, .age_mae = mae, .age_rmse = mae * 1.3, .gender_acc = 0.75,
                     .race_acc = 0.5, .loss = { mae, 0.6, NAN } };
  for (int i = 0; i < N_RACES; i++)
    v.race_confusion[i][(i + 1) % N_RACES] = 5;
  return v;
}

static void
touch (const char *folder, const char *file)
{
  char *path = test_path (folder, file);
  char *dir = strdup (path);
  *strrchr (dir, '/') = '\0';
  HnError err;
  ck_assert_msg (file_make_dirs (dir, 0755, &err), "%s", err.message);
  test_write_file (path, "x", 1);
  free (dir);
  free (path);
}

/* The whole of a text file, NUL-terminated (free it). */
static char *
read_text (const char *path)
{
  HnBytes bytes = { 0 };
  HnError err;
  ck_assert_msg (file_read (AT_FDCWD, path, RUN_INFO_MAX, "run.json", &bytes, &err), "%s",
                 err.message);
  char *text = strndup ((const char *) bytes.data, bytes.len);
  bytes_clear (&bytes);
  return text;
}

/* A run.json as the trainer writes it: begun, then its summary. */
static void
write_run (const char *folder, const HnTrainConfig *c, const HnRunParent *parent,
           const HnRunSummary *s)
{
  HnError err;
  char *start = run_info_begin (folder, c, &c->loss, c->optimizer.lr, parent, &err);
  ck_assert_msg (start != NULL, "%s", err.message);
  ck_assert_msg (run_info_write_summary (folder, start, s, &err), "%s", err.message);
  free (start);
}

START_TEST (test_round_trip)
{
  char *dir = test_tmpdir ();
  char *folder = test_path (dir, "2026-12-07-064512");
  ck_assert_int_eq (mkdir (folder, 0755), 0);
  HnTrainConfig c = unusual_config ();
  HnLossConfig loss = { AGE_LOSS_HUBER, { 0.3f, 2.0f, 1.5f }, 0.1f, BALANCE_MGDA_UB };
  const float lr = 2.5e-4f;
  HnRunParent parent = { "/runs/parent", "/runs/parent/checkpoints/epoch-001.safetensors", 12, 1 };

  HnRunSummary s = { .state = TRAINER_STOPPED, .steps = 40, .epochs = 3, .batch = 2,
                     .images = 1234 };
  HnEvent e = { .kind = EVENT_EPOCH, .step = 20, .epoch = 2, .val = validation (7.5) };
  run_summary_observe (&s, &e);
  e.step = 30, e.epoch = 3, e.val = validation (8.25);
  run_summary_observe (&s, &e);
  ck_assert (run_summary_add_checkpoint (&s, "checkpoints/epoch-000.safetensors", 0, 0, 0));
  ck_assert (run_summary_add_checkpoint (&s, "checkpoints/epoch-001.safetensors", 1, 0, 10));
  ck_assert (run_summary_add_checkpoint (&s, "checkpoints/gone.safetensors", 2, 0, 20));
  ck_assert (run_summary_add_checkpoint (&s, "checkpoints/epoch-001.safetensors", 1, 0, 11));
  ck_assert_int_eq (s.n_checkpoints, 3); /* written again after a rollback: one entry */
  touch (folder, "checkpoints/epoch-000.safetensors");
  touch (folder, "checkpoints/epoch-001.safetensors");
  touch (folder, RUN_MODEL);

  HnError err;
  char *start = run_info_begin (folder, &c, &loss, lr, &parent, &err);
  ck_assert_msg (start != NULL, "%s", err.message);
  ck_assert_msg (run_info_write_summary (folder, start, &s, &err), "%s", err.message);

  HnRunInfo info;
  ck_assert_msg (run_info_read (folder, &info, &err), "%s", err.message);
  ck_assert_str_eq (info.name, "2026-12-07-064512");
  ck_assert_int_eq ((int) strlen (info.created), 24); /* 2026-12-07T06:45:12.345Z */
  ck_assert (info.created[10] == 'T' && info.created[23] == 'Z');
  ck_assert_str_eq (info.data_folder, "/nonexistent/UTKFace");
  ck_assert_str_eq (info.settings.data_folder, "/nonexistent/UTKFace");
  assert_same_settings (&c, &info.settings, &loss, lr);
  ck_assert (info.has_parent);
  ck_assert_str_eq (info.parent.folder, parent.folder);
  ck_assert_str_eq (info.parent.checkpoint, parent.checkpoint);
  ck_assert_int_eq (info.parent.step, 12);
  ck_assert_int_eq (info.parent.epoch, 1);
  ck_assert (info.has_model);

  const HnRunSummary *r = &info.summary;
  ck_assert_int_eq (r->state, TRAINER_STOPPED);
  ck_assert_int_eq (r->steps, 40);
  ck_assert_int_eq (r->epochs, 3);
  ck_assert_int_eq (r->batch, 2);
  ck_assert_int_eq (r->images, 1234);
  /* the last validation, and the best by age MAE, each with when it was taken */
  ck_assert_int_eq (r->final.epoch, 3);
  ck_assert_int_eq (r->final.step, 30);
  ck_assert (r->final.val.age_mae == 8.25);
  ck_assert_int_eq (r->best.epoch, 2);
  ck_assert (r->best.val.age_mae == 7.5);
  const HnEvalResult want = validation (7.5);
  ck_assert_int_eq (r->best.val.n, want.n);
  ck_assert (r->best.val.age_rmse == want.age_rmse);
  ck_assert (r->best.val.gender_acc == want.gender_acc && r->best.val.race_acc == want.race_acc);
  ck_assert (r->best.val.loss[0] == want.loss[0] && r->best.val.loss[1] == want.loss[1]);
  ck_assert (isnan (r->best.val.loss[2])); /* a figure that was not finite comes back unknown */
  ck_assert (memcmp (r->best.val.race_confusion, want.race_confusion, sizeof want.race_confusion)
             == 0);
  /* the checkpoints whose files are there, the newest entry for each */
  ck_assert_int_eq (r->n_checkpoints, 2);
  ck_assert_str_eq (r->checkpoints[1].file, "checkpoints/epoch-001.safetensors");
  ck_assert_int_eq (r->checkpoints[1].step, 11);

  /* the listing's JSON is run.json's, with the folder and the model */
  cJSON *o = run_info_to_cjson (&info);
  ck_assert_ptr_nonnull (o);
  ck_assert_str_eq (cJSON_GetObjectItem (o, "folder")->valuestring, info.folder);
  ck_assert (strstr (cJSON_GetObjectItem (o, "model")->valuestring, RUN_MODEL) != NULL);
  ck_assert_str_eq (cJSON_GetObjectItem (cJSON_GetObjectItem (o, "settings"), "seed")->valuestring,
                    "1152921504606846979");
  cJSON_Delete (o);
  run_info_clear (&info);

  /* a rename and a later summary keep each other's, and keys this version does not know */
  char *path = test_path (folder, RUN_INFO);
  char *text = read_text (path);
  cJSON *root = cJSON_Parse (text);
  cJSON_AddStringToObject (root, "notes", "kept");
  char *edited = cJSON_Print (root);
  test_write_file (path, edited, strlen (edited));
  cJSON_Delete (root);
  free (edited);
  free (text);
  ck_assert_msg (run_info_rename (folder, "lower age weight", &err), "%s", err.message);
  s.state = TRAINER_FINISHED;
  ck_assert_msg (run_info_write_summary (folder, start, &s, &err), "%s", err.message);
  ck_assert_msg (run_info_read (folder, &info, &err), "%s", err.message);
  ck_assert_str_eq (info.name, "lower age weight");
  ck_assert_int_eq (info.summary.state, TRAINER_FINISHED);
  run_info_clear (&info);
  text = read_text (path);
  ck_assert (strstr (text, "\"notes\"") != NULL);
  free (text);
  ck_assert (!run_info_rename (folder, "", &err));
  ck_assert (!run_info_rename (folder, "two\nlines", &err));

  /* a run.json deleted under a running run is written again from the start */
  unlink (path);
  ck_assert_msg (run_info_write_summary (folder, start, &s, &err), "%s", err.message);
  ck_assert_msg (run_info_read (folder, &info, &err), "%s", err.message);
  ck_assert_int_eq (info.settings.batch, 48);
  run_info_clear (&info);

  run_summary_clear (&s);
  free (start);
  free (path);
  test_rmtree (dir);
  free (folder);
  free (dir);
}
END_TEST

/* Reading folder's run.json holding text must fail with a message holding `needle`. */
static void
refuses (const char *folder, const char *text, size_t len, const char *needle)
{
  char *path = test_path (folder, RUN_INFO);
  test_write_file (path, text, len);
  HnRunInfo info;
  HnError err = { "" };
  bool ok = run_info_read (folder, &info, &err);
  run_info_clear (&info);
  ck_assert_msg (!ok, "accepted: %.200s", text);
  ck_assert_msg (strstr (err.message, needle) != NULL, "wanted \"%s\" in \"%s\" for %.200s", needle,
                 err.message, text);
  free (path);
}

/* run.json with the value at a dotted path replaced by `value` (JSON text). */
static char *
with_value (const char *json, const char *dotted, const char *value)
{
  cJSON *root = cJSON_Parse (json), *o = root;
  char *keys = strdup (dotted), *save = NULL;
  char *key = strtok_r (keys, ".", &save), *next;
  while ((next = strtok_r (NULL, ".", &save)) != NULL)
    {
      o = cJSON_GetObjectItem (o, key);
      ck_assert_msg (o != NULL, "%s", dotted);
      key = next;
    }
  cJSON *v = cJSON_Parse (value);
  ck_assert_ptr_nonnull (v);
  if (cJSON_GetObjectItem (o, key) != NULL)
    cJSON_ReplaceItemInObject (o, key, v);
  else
    cJSON_AddItemToObject (o, key, v);
  char *text = cJSON_PrintUnformatted (root);
  cJSON_Delete (root);
  free (keys);
  return text;
}

START_TEST (test_hostile)
{
  char *dir = test_tmpdir ();
  HnTrainConfig c = unusual_config ();
  HnRunParent parent = { "/p", "/p/checkpoints/epoch-000.safetensors", 0, 0 };
  HnRunSummary s = { .state = TRAINER_FINISHED, .steps = 5 };
  HnEvent e = { .kind = EVENT_EPOCH, .step = 5, .epoch = 1, .val = validation (9) };
  run_summary_observe (&s, &e);
  ck_assert (run_summary_add_checkpoint (&s, "checkpoints/epoch-001.safetensors", 1, 0, 5));
  write_run (dir, &c, &parent, &s);
  run_summary_clear (&s);
  char *path = test_path (dir, RUN_INFO);
  HnError err;
  char *json = read_text (path);
  const size_t json_len = strlen (json);

  /* cut short anywhere: refused, never trusted (every prefix of the file) */
  for (size_t len = 0; len < json_len - 1; len++)
    {
      char *cut = strndup (json, len);
      test_write_file (path, cut, len);
      HnRunInfo info;
      bool ok = run_info_read (dir, &info, &err);
      run_info_clear (&info);
      ck_assert_msg (!ok, "a run.json cut at %zu bytes was read", len);
      free (cut);
    }

  /* a value of the wrong type or out of range: refused, naming the key */
  static const struct
  {
    const char *key, *value;
  } wrong[] = {
    { "name", "3" },
    { "created", "[]" },
    { "data", "\"/faces\"" },
    { "data.synthetic", "-4" },
    { "settings", "[1]" },
    { "settings.batch", "\"64\"" },
    { "settings.batch", "1e300" },
    { "settings.batch", "2.5" },
    { "settings.size", "-32" },
    { "settings.epochs", "0" },
    { "settings.seed", "-1" },
    { "settings.seed", "\"12x\"" },
    { "settings.backbone", "\"resnet50\"" },
    { "settings.tta", "1" },
    { "settings.val_every", "\"sometimes\"" },
    { "settings.age_target", "\"months\"" },
    { "settings.optimizer.kind", "\"rmsprop\"" },
    { "settings.optimizer.lr", "-1" },
    { "settings.optimizer.decay", "true" },
    { "settings.schedule.warmup", "2" },
    { "settings.augment.crop", "{}" },
    { "settings.loss.w_age", "\"heavy\"" },
    { "settings.loss.balance", "\"gradnorm\"" },
    { "parent.step", "\"5\"" },
    { "parent.folder", "{}" },
    { "summary.state", "\"exploded\"" },
    { "summary.images", "-1" },
    { "summary.final", "5" },
    { "summary.final.age_mae", "\"7\"" },
    { "summary.best.race_confusion", "[[1,2],[3]]" },
    { "summary.best.loss.age", "true" },
    { "summary.checkpoints", "{}" },
    { "summary.checkpoints", "[7]" },
    { "summary.checkpoints", "[{\"file\": \"../../etc/passwd\"}]" },
    { "summary.checkpoints", "[{\"file\": \"/etc/passwd\"}]" },
    { "summary.checkpoints", "[{\"file\": \"a.safetensors\", \"step\": -2}]" },
  };
  for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
    {
      char *text = with_value (json, wrong[i].key, wrong[i].value);
      /* the last part of the key (the array's name for an entry) is in the message */
      const char *last = strrchr (wrong[i].key, '.');
      refuses (dir, text, strlen (text), last ? last + 1 : wrong[i].key);
      free (text);
    }

  /* not a run.json at all */
  refuses (dir, "[]", 2, "not a JSON object");
  refuses (dir, "\"run\"", 5, "not a JSON object");
  refuses (dir, "{\"name\": \"x\"}", 13, "no \"format\"");
  refuses (dir, "{\"format\": \"hydranet-run-9\"}", 28, "hydranet-run-9");
  refuses (dir, "{\"format\": 1}", 13, "no \"format\"");
  refuses (dir, "", 0, "not JSON");

  /* huge: refused by its size before anything is parsed */
  size_t huge = RUN_INFO_MAX + 1;
  char *big = malloc (huge);
  memset (big, ' ', huge);
  memcpy (big, "{\"format\": \"hydranet-run-1\"}", 28);
  refuses (dir, big, huge, "limit");
  free (big);

  /* deep nesting cJSON refuses rather than recursing without end */
  char *deep = malloc (200001);
  memset (deep, '[', 200000);
  deep[200000] = '\0';
  refuses (dir, deep, 200000, "not JSON");
  free (deep);

  /* keys left out take their defaults: only the format is required */
  test_write_file (path, "{\"format\": \"hydranet-run-1\"}", 28);
  HnRunInfo info;
  ck_assert_msg (run_info_read (dir, &info, &err), "%s", err.message);
  ck_assert_str_eq (info.created, "");
  ck_assert_ptr_null (info.preset);
  ck_assert_int_eq (info.settings.batch, train_preset_studio ().batch);
  ck_assert (!info.has_parent);
  ck_assert_int_eq (info.summary.state, TRAINER_RUNNING);
  ck_assert_int_eq (info.summary.final.val.n, 0);
  run_info_clear (&info);

  /* a run.json that is a folder, or missing */
  unlink (path);
  HnError why;
  ck_assert (!run_info_read (dir, &info, &why));
  run_info_clear (&info);
  ck_assert_msg (strstr (why.message, "no run.json") != NULL, "%s", why.message);
  ck_assert_int_eq (mkdir (path, 0755), 0);
  ck_assert (!run_info_read (dir, &info, &why));
  run_info_clear (&info);
  ck_assert_msg (strstr (why.message, "folder") != NULL, "%s", why.message);

  free (json);
  free (path);
  test_rmtree (dir);
  free (dir);
}
END_TEST

START_TEST (test_list)
{
  char *dir = test_tmpdir ();
  HnTrainConfig c = unusual_config ();
  HnRunSummary s = { .state = TRAINER_FINISHED };
  /* created in an order that is neither their names' nor, most likely, the folder's; two at
   * the same moment go by folder */
  const char *names[] = { "e", "a", "d", "b", "c" };
  const char *created[] = { "\"2026-01-03T00:00:00.000Z\"", "\"2026-01-05T00:00:00.000Z\"",
                            "\"2026-01-01T00:00:00.000Z\"", "\"2026-01-03T00:00:00.000Z\"",
                            "\"2026-01-02T00:00:00.000Z\"" };
  for (int i = 0; i < 5; i++)
    {
      char *folder = test_path (dir, names[i]), *path = test_path (folder, RUN_INFO);
      ck_assert_int_eq (mkdir (folder, 0755), 0);
      write_run (folder, &c, NULL, &s);
      char *text = read_text (path);
      char *edited = with_value (text, "created", created[i]);
      test_write_file (path, edited, strlen (edited));
      free (edited);
      free (text);
      free (folder);
      free (path);
    }
  /* folders that are not runs, and what is not a folder */
  char *junk = test_path (dir, "junk"), *broken = test_path (dir, "broken");
  char *hidden = test_path (dir, ".trash"), *file = test_path (dir, "notes.txt");
  char *broken_json = test_path (broken, RUN_INFO);
  ck_assert_int_eq (mkdir (junk, 0755), 0);
  ck_assert_int_eq (mkdir (broken, 0755), 0);
  ck_assert_int_eq (mkdir (hidden, 0755), 0);
  const char *cut = "{\"format\": \"hydranet-run-1\", \"settings\": {\"batch\": 64";
  test_write_file (broken_json, cut, strlen (cut));
  test_write_file (file, "hi", 2);

  HnRunList list;
  HnError err;
  ck_assert_msg (run_list_read (dir, &list, &err), "%s", err.message);
  ck_assert_int_eq (list.n_runs, 5);
  const char *order = "dcbea";
  for (int i = 0; i < 5; i++)
    ck_assert_msg (list.runs[i].name[0] == order[i], "run %d is %s, not %c", i, list.runs[i].name,
                   order[i]);
  ck_assert_int_eq (list.n_skipped, 2);
  ck_assert (strstr (list.skipped[0].folder, "/broken") != NULL);
  ck_assert_msg (strstr (list.skipped[0].reason, "JSON") != NULL, "%s", list.skipped[0].reason);
  ck_assert (strstr (list.skipped[1].folder, "/junk") != NULL);
  ck_assert_msg (strstr (list.skipped[1].reason, "no run.json") != NULL, "%s",
                 list.skipped[1].reason);
  run_list_clear (&list);

  /* a folder that does not exist holds no runs; a file is not a folder of runs */
  char *missing = test_path (dir, "missing");
  ck_assert (run_list_read (missing, &list, &err));
  ck_assert_int_eq (list.n_runs + list.n_skipped, 0);
  ck_assert (!run_list_read (file, &list, &err));

  test_rmtree (dir);
  free (dir), free (junk), free (broken), free (hidden), free (file), free (broken_json);
  free (missing);
}
END_TEST

/* A real run in a run folder: the layout runfolder.h promises. */
START_TEST (test_trainer_run_folder)
{
  HnDataset *ds = tiny_dataset ();
  char *dir = test_tmpdir ();
  HnError err;
  char *folder = run_folder_create (dir, &err);
  ck_assert_msg (folder != NULL, "%s", err.message);
  HnTrainConfig c = tiny_config ();
  c.val_percent = 30; /* a few images to validate on */
  c.run_dir = folder;
  c.checkpoint_path = "/nonexistent/ignored.safetensors"; /* a run folder names its own */
  c.synthetic = TINY_IMAGES;
  c.synthetic_seed = 77;
  c.source = "test-runinfo";
  HnTrainer *t = trainer_new (&c, ds, NULL, NULL, &err);
  ck_assert_msg (t != NULL, "%s", err.message);
  ck_assert_msg (trainer_start (t, &err), "%s", err.message);
  ck_assert_int_eq (collect_steps (t, NULL, NULL, 0), TRAINER_FINISHED);
  trainer_join (t);
  const int64_t steps = trainer_step (t);
  trainer_free (t);

  HnRunInfo info;
  ck_assert_msg (run_info_read (folder, &info, &err), "%s", err.message);
  ck_assert_int_eq (info.summary.state, TRAINER_FINISHED);
  ck_assert_int_eq (info.summary.steps, steps);
  ck_assert_int_eq (info.summary.epochs, 2);
  ck_assert_int_eq (info.settings.synthetic, TINY_IMAGES);
  ck_assert_int_eq (info.settings.synthetic_seed, 77);
  ck_assert_str_eq (info.settings.preset, "studio");
  ck_assert (!info.has_parent);
  ck_assert_int_eq (info.summary.final.epoch, 2);
  ck_assert_int_gt (info.summary.final.val.n, 0);
  ck_assert_int_gt (info.summary.best.val.n, 0);
  ck_assert (info.summary.best.val.age_mae <= info.summary.final.val.age_mae);
  /* every image of the training split, each epoch (batches of 4; none dropped here) */
  const int n_train = (int) info.summary.images / 2;
  ck_assert_int_eq (info.summary.images, 2 * n_train);
  ck_assert_int_eq (steps, 2 * ((n_train + 3) / 4));
  /* its start and each epoch's end, all kept */
  ck_assert_int_eq (info.summary.n_checkpoints, 3);
  for (int i = 0; i < 3; i++)
    {
      char want[64];
      snprintf (want, sizeof want, "checkpoints/epoch-%03d.safetensors", i);
      ck_assert_str_eq (info.summary.checkpoints[i].file, want);
      ck_assert_int_eq (info.summary.checkpoints[i].epoch, i);
      char *optim = NULL;
      ck_assert (asprintf (&optim, "%s/%s.optim", folder, want) > 0);
      ck_assert_int_eq (access (optim, R_OK), 0);
      free (optim);
    }
  char *record = test_path (folder, RUN_RECORD);
  ck_assert_int_eq (access (record, R_OK), 0);
  ck_assert_int_ne (access ("/nonexistent/ignored.safetensors", F_OK), 0);
  run_info_clear (&info);

  free (record);
  test_rmtree (dir);
  free (folder);
  free (dir);
  free_tiny (ds);
}
END_TEST

START_TEST (test_folder_names)
{
  char *a = run_folder_checkpoint (3, 0), *b = run_folder_checkpoint (12, 42);
  ck_assert_str_eq (a, "checkpoints/epoch-003.safetensors");
  ck_assert_str_eq (b, "checkpoints/epoch-012-batch-0042.safetensors");
  free (a), free (b);

  char *dir = test_tmpdir ();
  char *folder = test_path (dir, "run");
  touch (folder, "checkpoints/epoch-001.safetensors");
  touch (folder, "elsewhere.safetensors");
  char *in = test_path (folder, "checkpoints/epoch-001.safetensors");
  char *out = test_path (folder, "elsewhere.safetensors");
  char *missing = test_path (folder, "nothing.safetensors");
  HnError err;
  char *of_in = run_folder_of (in, &err), *of_out = run_folder_of (out, &err);
  char *real = realpath (folder, NULL);
  ck_assert_str_eq (of_in, real);
  ck_assert_str_eq (of_out, real);
  ck_assert_ptr_null (run_folder_of (missing, &err));

  setenv ("XDG_DATA_HOME", "/data", 1);
  char *runs = run_folder_default_parent (&err);
  ck_assert_str_eq (runs, "/data/hydranet-studio/runs");
  free (runs);
  setenv ("XDG_DATA_HOME", "relative", 1); /* not absolute: ignored, as the spec says */
  setenv ("HOME", "/home/h", 1);
  runs = run_folder_default_parent (&err);
  ck_assert_str_eq (runs, "/home/h/.local/share/hydranet-studio/runs");
  free (runs);

  test_rmtree (dir);
  free (dir), free (folder), free (in), free (out), free (missing), free (of_in), free (of_out);
  free (real);
}
END_TEST

static Suite *
runinfo_suite (void)
{
  Suite *s = suite_create ("runinfo");
  TCase *tc = tcase_create ("runinfo");
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_hostile);
  tcase_add_test (tc, test_list);
  tcase_add_test (tc, test_trainer_run_folder);
  tcase_add_test (tc, test_folder_names);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (runinfo_suite ());
}
