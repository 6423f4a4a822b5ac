/* seeds.c — each target's starting corpus, written with the engine's own writers from
 * synthetic faces and made-up runs (never from real photos): fuzz_write_seeds (fuzz.h). */
#include "fuzz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image_write.h>

#include "checkpoint.h"
#include "config.h"
#include "dataset-private.h"
#include "fileio.h"
#include "records.h"
#include "runinfo.h"
#include "runmeta.h"
#include "synth.h"

/* ---- files ---- */

static bool
put (const char *dir, const char *name, const void *data, size_t len)
{
  char *path;
  HnError err;
  if (asprintf (&path, "%s/%s", dir, name) < 0)
    abort ();
  bool ok = file_replace (path, &(HnChunk){ data, len }, 1, false, NULL, &err);
  if (!ok)
    fprintf (stderr, "%s\n", err.message);
  free (path);
  return ok;
}

static bool
put_str (const char *dir, const char *name, const char *text)
{
  return put (dir, name, text, strlen (text));
}

/* The bytes of dir/name (malloc'd, NUL-terminated), or NULL. */
static char *
slurp (const char *path)
{
  HnBytes b = { 0 };
  HnError err;
  if (!file_read (AT_FDCWD, path, 1u << 26, "a seed", &b, &err))
    {
      fprintf (stderr, "%s: %s\n", path, err.message);
      bytes_clear (&b);
      return NULL;
    }
  b.data[b.len] = '\0';
  return (char *) b.data;
}

static char *
join (const char *a, const char *b)
{
  char *path;
  if (asprintf (&path, "%s/%s", a, b) < 0)
    abort ();
  return path;
}

/* ---- safetensors ---- */

static bool
safetensors_seed (const char *dir, const char *name, const StMeta *meta, int n_meta, bool resnet34)
{
  static const float w[6] = { 0.5f, -1.0f, 2.0f, 0.25f, 0.0f, 1e-3f }, b[2] = { 1, -1 };
  static const int64_t count = 7;
  static const uint16_t half[4] = { 0x3c00, 0xc000, 0x7c00, 0x0001 };
  static const uint8_t bytes[3] = { 0, 1, 255 };
  StTensor t[] = {
    { "net.fc1.weight", ST_F32, 2, { 2, 3 }, w, sizeof w },
    { "net.fc1.bias", ST_F32, 1, { 2 }, b, sizeof b },
    { "net.bn1.num_batches_tracked", ST_I64, 0, { 0 }, &count, sizeof count },
    { "net.fc2.weight", ST_F16, 2, { 2, 2 }, half, sizeof half },
    { "net.fc3.bias", ST_BF16, 1, { 4 }, half, sizeof half },
    { "optim.mask", ST_BOOL, 1, { 3 }, bytes, sizeof bytes },
    { resnet34 ? "net.layer1.2.conv1.weight" : "net.conv1.weight", ST_U8, 3, { 1, 3, 1 }, bytes,
      sizeof bytes },
  };
  char *path = join (dir, name);
  HnError err;
  bool ok = safetensors_write (path, t, sizeof t / sizeof *t, meta, n_meta, &err);
  if (!ok)
    fprintf (stderr, "%s\n", err.message);
  free (path);
  return ok;
}

static bool
seeds_safetensors (const char *dir)
{
  HnTrainConfig config = train_preset_studio ();
  HnRunMeta meta = {
    .source = "hydranet-cli 0.1.0",
    .has_progress = true, .step = 120, .epoch = 2, .batch_index = 5, .seed = 7,
    .history = "[{\"step\":3,\"setting\":\"w_age\",\"value\":0.5},"
               "{\"step\":9,\"setting\":\"pause\",\"value\":0}]",
    .has_loss = true, .loss = config.loss,
    .has_optimizer = true, .optimizer = config.optimizer, .optimizer_step = 120,
    .has_schedule = true, .schedule = config.schedule, .lr_scale = 0.5f, .schedule_done = 0.25f,
    .ema_decay = 0.999f,
    .val_n = 40, .val_age_mae = 9.5, .val_gender_acc = 0.75, .val_race_acc = 0.5,
  };
  HnMetaList list;
  run_meta_format (&meta, &list);
  StMeta all[RUN_META_MAX + 8] = {
    { "format", CHECKPOINT_FORMAT }, { "backbone", "resnet18" }, { "input_size", "32" },
    { "mean", "[0.485, 0.456, 0.406]" }, { "std", "[0.229, 0.224, 0.225]" },
    { "age_mean", "33.25" }, { "age_std", "19.5" },
  };
  memcpy (all + 7, list.items, sizeof *list.items * (size_t) list.n);
  /* what the studio wrote before the one schema (test-records.c) */
  const StMeta old[] = {
    { "source", "HydraNet Studio 0.1.0" }, { "train.w_age", "0.25" }, { "train.w_gender", "1" },
    { "train.w_race", "2" },               { "train.age_loss", "huber" }, { "train.step", "40" },
    { "val.age_mae", "" },
  };
  return safetensors_seed (dir, "checkpoint.safetensors", all, 7 + list.n, false)
         && safetensors_seed (dir, "bare-resnet34.safetensors", NULL, 0, true)
         && safetensors_seed (dir, "old-studio.safetensors", old, 7, false);
}

/* ---- images ---- */

typedef struct
{
  uint8_t *data;
  size_t len;
} Mem;

static void
to_mem (void *ctx, void *data, int len)
{
  Mem *m = ctx;
  uint8_t *p = realloc (m->data, m->len + (size_t) len);
  if (p == NULL)
    abort ();
  memcpy (p + m->len, data, (size_t) len);
  m->data = p;
  m->len += (size_t) len;
}

/* A JPEG with an APP1 Exif segment giving orientation o (big- or little-endian TIFF) put
 * right after its SOI. */
static bool
put_exif_jpeg (const char *dir, const char *name, const Mem *jpeg, int o, bool big)
{
  uint8_t app1[] = {
    0xFF, 0xE1, 0, 34, 'E', 'x', 'i', 'f', 0, 0,
    'I', 'I', 42, 0, 8, 0, 0, 0,                  /* TIFF header, IFD0 at 8 */
    1, 0,                                         /* one entry */
    0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t) o, 0, 0, 0, /* 0x0112 SHORT ×1 = o */
    0, 0, 0, 0,                                   /* no next IFD */
  };
  if (big)
    {
      static const uint8_t mm[] = { 'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0,
                                    1 };
      memcpy (app1 + 10, mm, sizeof mm);
      app1[28] = 0;
      app1[29] = (uint8_t) o;
    }
  size_t len = jpeg->len + sizeof app1;
  uint8_t *file = malloc (len);
  memcpy (file, jpeg->data, 2);
  memcpy (file + 2, app1, sizeof app1);
  memcpy (file + 2 + sizeof app1, jpeg->data + 2, jpeg->len - 2);
  bool ok = put (dir, name, file, len);
  free (file);
  return ok;
}

static bool
seeds_image (const char *dir)
{
  enum { W = 24, H = 20 };
  uint8_t face[W * W * 3], rgb[W * H * 3], grey[W * H], rgba[W * H * 4];
  HnFaceLabels labels;
  HnError err;
  if (!synth_face (1, 3, W, face, &labels, &err))
    return false;
  memcpy (rgb, face, sizeof rgb); /* not square: the crop has work to do */
  for (int i = 0; i < W * H; i++)
    {
      grey[i] = rgb[3 * i + 1];
      memcpy (rgba + 4 * i, rgb + 3 * i, 3);
      rgba[4 * i + 3] = (uint8_t) (i * 7);
    }
  Mem png = { 0 }, jpg = { 0 }, bmp = { 0 }, gpng = { 0 }, apng = { 0 }, gjpg = { 0 };
  stbi_write_png_to_func (to_mem, &png, W, H, 3, rgb, W * 3);
  stbi_write_png_to_func (to_mem, &gpng, W, H, 1, grey, W);
  stbi_write_png_to_func (to_mem, &apng, W, H, 4, rgba, W * 4);
  stbi_write_jpg_to_func (to_mem, &jpg, W, H, 3, rgb, 90);
  stbi_write_jpg_to_func (to_mem, &gjpg, W, H, 1, grey, 75);
  stbi_write_bmp_to_func (to_mem, &bmp, W, H, 3, rgb);
  /* a 1×1 GIF: stb_image reads GIF but does not write it */
  static const uint8_t gif[] = { 'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
                                 0xFF, 0x00, 0x00, 0, 0, 0, ',', 0, 0, 0, 0, 1, 0, 1, 0, 0,
                                 2, 2, 'D', 1, 0, ';' };
  bool ok = put (dir, "face.png", png.data, png.len) && put (dir, "grey.png", gpng.data, gpng.len)
            && put (dir, "alpha.png", apng.data, apng.len) && put (dir, "face.jpg", jpg.data, jpg.len)
            && put (dir, "grey.jpg", gjpg.data, gjpg.len) && put (dir, "face.bmp", bmp.data, bmp.len)
            && put (dir, "dot.gif", gif, sizeof gif)
            && put_exif_jpeg (dir, "exif-6.jpg", &jpg, 6, false)
            && put_exif_jpeg (dir, "exif-3-mm.jpg", &jpg, 3, true);
  free (png.data);
  free (gpng.data);
  free (apng.data);
  free (jpg.data);
  free (gjpg.data);
  free (bmp.data);
  return ok;
}

/* ---- names ---- */

static bool
seeds_names (const char *dir)
{
  static const char *const names[] = {
    "25_0_2_20170116174525125.jpg.chip.jpg", "1_1_4_20170103.png", "116_0_0_1.jpeg",
    "117_0_0_1.jpg", "25_0_2.jpg", "25_0_5_20170116174525125.jpg", "025_1_3_1.JPG.CHIP.JPG",
    "7_1_1_20170109.jpg.chip.png",
  };
  char file[16];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    {
      snprintf (file, sizeof file, "name-%zu", i);
      if (!put_str (dir, file, names[i]))
        return false;
    }
  return true;
}

/* ---- cache ---- */

/* A cache by hand, at size 2, with a skipped file and a group of copies. */
static bool
small_cache (const char *dir)
{
  uint8_t pixels[2 * 2 * 2 * 3], key[SHA1_DIGEST_BYTES] = { 1, 2, 3 };
  for (size_t i = 0; i < sizeof pixels; i++)
    pixels[i] = (uint8_t) (i * 37);
  HnFaceLabels labels[2] = { { 25, 0, 2, false, 0x1234 }, { 116, 1, 4, true, 0xffffffffu } };
  char *names[2] = { "25_0_2_1.jpg", "116_1_4_2.png" };
  char *copies[3] = { "116_1_4_2.png", "116_1_3_3.png", "116_0_4_4.png" };
  HnSkippedFile skipped[1] = { { "README.md", "not a UTKFace name" } };
  HnDuplicateGroup dups[1] = { { copies, 3, true } };
  HnDataset ds = { .size = 2, .n = 2, .pixels = pixels, .labels = labels, .names = names,
                   .skipped = skipped, .n_skipped = 1, .duplicates = dups, .n_duplicates = 1 };
  char *path = join (dir, "small.cache");
  HnError err;
  bool ok = cache_write (&ds, path, key, NULL, &err);
  if (!ok)
    fprintf (stderr, "%s\n", err.message);
  free (path);
  return ok;
}

/* The cache dataset_open_folder writes for 20 synthetic faces at 32, with a file that is not
 * a face and a copy under another name. */
static bool
folder_cache (const char *dir)
{
  char *faces = join (dir, ".faces"), *cache = join (dir, ".cache");
  HnError err;
  bool ok = synth_write_folder (faces, 20, 5, 32, SYNTH_PNG, 1, NULL, &err)
            && put_str (faces, "notes.txt", "not a face");
  char first[64];
  HnFaceLabels labels;
  synth_labels (5, 0, &labels);
  synth_file_name (&labels, 0, SYNTH_PNG, first, sizeof first);
  char *from = join (faces, first), *bytes = ok ? slurp (from) : NULL;
  struct stat st;
  ok = ok && bytes != NULL && stat (from, &st) == 0
       && put (faces, "1_0_0_20990101000000000.png", bytes, (size_t) st.st_size);
  HnDataset *ds = ok ? dataset_open_folder (faces, 32, cache, 1, NULL, &err) : NULL;
  const char *file = ds != NULL ? dataset_cache_file (ds) : NULL;
  char *data = file != NULL ? slurp (file) : NULL;
  if (data != NULL && stat (file, &st) == 0)
    ok = put (dir, "folder.cache", data, (size_t) st.st_size);
  else
    ok = ok && (fprintf (stderr, "fuzz seeds: no data set cache: %s\n", err.message), false);
  free (data);
  dataset_free (ds);
  free (bytes);
  free (from);
  fuzz_remove_tree (faces);
  fuzz_remove_tree (cache);
  free (faces);
  free (cache);
  return ok;
}

static bool
seeds_cache (const char *dir)
{
  return small_cache (dir) && folder_cache (dir);
}

/* ---- records ---- */

/* A record: steps first..last of 4 batches an epoch, a change of w_age at change_step,
 * a validation and checkpoint at each epoch's end, then a state. */
static char *
record (int64_t first, int64_t last, int64_t change_step, bool rollback)
{
  HnTrainConfig config = train_preset_studio ();
  size_t cap = 1 << 16, len = 0;
  char *text = malloc (cap);
  len += (size_t) snprintf (text, cap, "%s", records_header ());
  for (int64_t s = first; s <= last; s++)
    {
      HnEvent e = { .kind = EVENT_STEP, .step = s, .epoch = (int) ((s - 1) / 4),
                    .loss = config.loss };
      e.train = (HnStepEvent){ .raw = { 12.5f, 0.69f, 1.6f }, .weighted = { 12.5f, 0.69f, 1.6f },
                               .total = 14.79f, .lr = 1e-3f, .img_per_s = 250,
                               .grad_norm = { 1, 0.5f, 0.25f }, .cosine = { 0.1f, -0.2f, 0.3f },
                               .images = 16, .batch_index = (int) ((s - 1) % 4), .batches = 4 };
      len += (size_t) records_format (&e, text + len, (int) (cap - len));
      if (s == change_step)
        {
          HnEvent c = { .kind = EVENT_SETTING, .step = s, .epoch = e.epoch, .loss = config.loss };
          c.setting.what = SETTING_W_AGE;
          c.setting.value = 0.5;
          c.setting.old_value = 1;
          len += (size_t) records_format (&c, text + len, (int) (cap - len));
          c.setting.what = SETTING_AGE_LOSS;
          c.setting.value = AGE_LOSS_HUBER;
          c.setting.old_value = AGE_LOSS_L1;
          len += (size_t) records_format (&c, text + len, (int) (cap - len));
        }
      if (s % 4 == 0)
        {
          HnEvent v = { .kind = EVENT_EPOCH, .step = s, .epoch = (int) (s / 4), .loss = config.loss };
          v.val = (HnEvalResult){ .n = 40, .age_mae = 9.5, .age_rmse = 12.25, .gender_acc = 0.75,
                                  .race_acc = 0.5, .loss = { 9.5, 0.6, 1.2 } };
          v.val.race_confusion[1][2] = 3;
          len += (size_t) records_format (&v, text + len, (int) (cap - len));
          HnEvent k = { .kind = EVENT_CHECKPOINT, .step = s, .epoch = v.epoch, .loss = config.loss };
          snprintf (k.state.message, sizeof k.state.message, "checkpoints/epoch-%03d.safetensors",
                    v.epoch);
          len += (size_t) records_format (&k, text + len, (int) (cap - len));
        }
    }
  if (rollback)
    {
      HnEvent r = { .kind = EVENT_SETTING, .step = last, .loss = config.loss };
      r.setting.what = SETTING_ROLLBACK;
      r.setting.value = (double) (last / 4 * 4);
      r.setting.old_value = (double) last;
      len += (size_t) records_format (&r, text + len, (int) (cap - len));
    }
  HnEvent f = { .kind = EVENT_STATE, .step = last, .loss = config.loss };
  f.state.state = TRAINER_FINISHED;
  snprintf (f.state.message, sizeof f.state.message, "done, \"as asked\"");
  len += (size_t) records_format (&f, text + len, (int) (cap - len));
  return text;
}

static bool
seeds_records (const char *dir)
{
  char *a = record (1, 9, 3, false), *b = record (1, 6, 5, true);
  const char *old =
    "step,epoch,batch,age_loss,w_age,w_gender,w_race,lr,loss_age,loss_gender,loss_race,"
    "weighted_age,weighted_gender,weighted_race,total,img_per_s,gradnorm_age,gradnorm_gender,"
    "gradnorm_race,cos_age_gender,cos_age_race,cos_gender_race\n"
    "1,0,0,mse,1,2,1,0.001,400.5,0.69,1.6,400.5,1.38,1.6,403.48,812.3,9.1,0.2,0.4,0.01,-0.2,0.3\n"
    "2,0,1,mse,1,2,1,0.001,390.25,0.68,1.5,390.25,1.36,1.5,393.11,815.0,9.0,0.2,0.4,0.01,-0.2,0.3";
  bool ok = put_str (dir, "record.csv", a) && put_str (dir, "rollback.csv", b)
            && put_str (dir, "old-log.csv", old);
  free (a);
  free (b);
  return ok;
}

/* ---- run folders ---- */

/* run.json of a run in "@DIR@/runs/<name>" (parent: a fork's), with a summary, as the
 * trainer writes it. */
static char *
run_json (const char *scratch, const char *name, const HnRunParent *parent, int64_t steps)
{
  HnTrainConfig config = train_preset_studio ();
  config.synthetic = 200;
  config.synthetic_seed = 3;
  config.source = "hydranet-cli 0.1.0";
  HnError err;
  char *folder = join (scratch, name), *file = join (folder, "run.json"), *text = NULL;
  char *start = run_info_begin (folder, &config, &config.loss, config.optimizer.lr, parent, &err);
  HnRunSummary s = { .state = TRAINER_FINISHED, .steps = steps, .epochs = (int) (steps / 4),
                     .batch = (int) (steps % 4), .images = (uint64_t) steps * 16 };
  s.final = (HnRunValidation){ .epoch = s.epochs, .step = steps,
                               .val = { .n = 40, .age_mae = 9.5, .age_rmse = 12.25,
                                        .gender_acc = 0.75, .race_acc = 0.5 } };
  s.best = s.final;
  bool ok = start != NULL && file_make_dirs (folder, 0700, &err)
            && run_summary_add_checkpoint (&s, "checkpoints/epoch-001.safetensors", 1, 0, 4)
            && run_info_write_summary (folder, start, &s, &err) && (text = slurp (file)) != NULL;
  if (!ok)
    fprintf (stderr, "fuzz seeds: run.json: %s\n", err.message);
  run_summary_clear (&s);
  free (start);
  free (file);
  free (folder);
  return text;
}

/* Joins parts with FUZZ_SPLIT into dir/name (fuzz_put_runs' layout). */
static bool
put_parts (const char *dir, const char *name, const char *const *parts, int n)
{
  size_t len = 0;
  for (int i = 0; i < n; i++)
    len += strlen (parts[i]) + strlen (FUZZ_SPLIT);
  char *all = calloc (len + 1, 1);
  for (int i = 0; i < n; i++)
    {
      if (i > 0)
        strcat (all, FUZZ_SPLIT);
      strcat (all, parts[i]);
    }
  bool ok = put_str (dir, name, all);
  free (all);
  return ok;
}

/* A run of its own, and a fork of "@DIR@/runs/b" at step 4 (fork), or with a model (the
 * import's third part). The folder names in the files
 * are made under a scratch folder literally called "@DIR@", which fuzz_expand replaces. */
static bool
seeds_runs (const char *dir, bool fork)
{
  char *scratch = join (dir, ".runs"), *marked = join (scratch, "@DIR@/runs");
  HnRunParent parent = { "@DIR@/runs/b", "@DIR@/runs/b/checkpoints/epoch-001.safetensors", 4, 1 };
  char *a = run_json (marked, "a", NULL, 9), *b = run_json (marked, "b", NULL, 6);
  char *fa = run_json (marked, "a", &parent, 7);
  char *ra = record (1, 9, 3, false), *rb = record (1, 6, 5, true), *rf = record (5, 7, 6, false);
  bool ok = a != NULL && b != NULL && fa != NULL;
  if (ok)
    {
      /* the trainer writes absolute folders: make them the marker's again */
      const char *const own[] = { a, ra }, *const two[] = { a, ra, b, rb },
                        *const forked[] = { fa, rf, b, rb };
      const char *const with_model[] = { a, ra, "model" };
      ok = put_parts (dir, "run", own, 2)
           && (fork ? put_parts (dir, "two-runs", two, 4) && put_parts (dir, "fork", forked, 4)
                    : put_parts (dir, "run-and-model", with_model, 3));
    }
  free (a);
  free (b);
  free (fa);
  free (ra);
  free (rb);
  free (rf);
  fuzz_remove_tree (scratch);
  free (marked);
  free (scratch);
  return ok;
}

bool
fuzz_write_seeds (const char *target, const char *dir)
{
  HnError err;
  if (!file_make_dirs (dir, 0700, &err))
    return fprintf (stderr, "%s\n", err.message), false;
  if (strcmp (target, "safetensors") == 0)
    return seeds_safetensors (dir);
  if (strcmp (target, "image") == 0)
    return seeds_image (dir);
  if (strcmp (target, "names") == 0)
    return seeds_names (dir);
  if (strcmp (target, "cache") == 0)
    return seeds_cache (dir);
  if (strcmp (target, "records") == 0)
    return seeds_records (dir);
  if (strcmp (target, "runinfo") == 0 || strcmp (target, "history") == 0)
    return seeds_runs (dir, true);
  if (strcmp (target, "import") == 0)
    return seeds_runs (dir, false);
  fprintf (stderr, "fuzz seeds: no target %s\n", target);
  return false;
}
