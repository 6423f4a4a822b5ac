/* hydranet-cli train — the trainer without a window: progress on stderr, a CSV of every
 * step, a JSON summary, and Ctrl-C that saves before it leaves. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "clock.h"
#include "parallel.h"
#include "synth.h"
#include "trainer.h"

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

/* The columns of --log, one row per step. */
static const char csv_header[] =
  "step,epoch,batch,age_loss,w_age,w_gender,w_race,lr,"
  "loss_age,loss_gender,loss_race,weighted_age,weighted_gender,weighted_race,total,img_per_s,"
  "gradnorm_age,gradnorm_gender,gradnorm_race,cos_age_gender,cos_age_race,cos_gender_race\n";

static void
csv_row (FILE *f, const HnEvent *e)
{
  const HnStepEvent *s = &e->train;
  fprintf (f, "%lld,%d,%d,%s,%g,%g,%g,%g,%.7g,%.7g,%.7g,%.7g,%.7g,%.7g,%.7g,%.1f,%.6g,%.6g,%.6g,"
              "%.4f,%.4f,%.4f\n",
           (long long) e->step, e->epoch, s->batch_index, age_loss_name (s->age_loss),
           s->weight[0], s->weight[1], s->weight[2], s->lr, s->raw[0], s->raw[1], s->raw[2],
           s->weighted[0], s->weighted[1], s->weighted[2], s->total, s->img_per_s,
           s->grad_norm[0], s->grad_norm[1], s->grad_norm[2], s->cosine[0], s->cosine[1],
           s->cosine[2]);
}

typedef struct
{
  bool tty;
  int epochs;
  double started, rate; /* smoothed images/s */
  int64_t last_line_step;
} Progress;

static void
format_eta (char *buf, size_t len, double seconds)
{
  if (!isfinite (seconds) || seconds < 0)
    snprintf (buf, len, "--:--");
  else if (seconds >= 3600)
    snprintf (buf, len, "%d:%02d:%02d", (int) seconds / 3600, (int) seconds / 60 % 60,
              (int) seconds % 60);
  else
    snprintf (buf, len, "%d:%02d", (int) seconds / 60, (int) seconds % 60);
}

static void
show_step (Progress *p, const HnEvent *e, int batch_size)
{
  const HnStepEvent *s = &e->train;
  p->rate = p->rate > 0 ? 0.9 * p->rate + 0.1 * s->img_per_s : s->img_per_s;
  int done = e->epoch * s->batches + s->batch_index + 1, total = p->epochs * s->batches;
  char eta[32];
  format_eta (eta, sizeof eta, (double) (total - done) * batch_size / p->rate);
  if (p->tty)
    {
      char bar[21];
      int filled = (s->batch_index + 1) * 20 / s->batches;
      for (int i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
      bar[20] = '\0';
      fprintf (stderr, "\r\033[Kepoch %d/%d [%s] %d/%d  age %.3g  gender %.3f  race %.3f  "
                       "total %.4g  %.0f img/s  ETA %s",
               e->epoch + 1, p->epochs, bar, s->batch_index + 1, s->batches, s->raw[0], s->raw[1],
               s->raw[2], s->total, p->rate, eta);
      return;
    }
  /* plain lines: about ten per epoch */
  int every = s->batches >= 10 ? s->batches / 10 : 1;
  if ((s->batch_index + 1) % every == 0 || s->batch_index + 1 == s->batches)
    fprintf (stderr, "epoch %d/%d step %lld batch %d/%d: age %.4g gender %.4f race %.4f total "
                     "%.4g, %.0f img/s, ETA %s\n",
             e->epoch + 1, p->epochs, (long long) e->step, s->batch_index + 1, s->batches,
             s->raw[0], s->raw[1], s->raw[2], s->total, p->rate, eta);
}

static void
end_line (Progress *p)
{
  if (p->tty)
    fputc ('\n', stderr);
}

enum
{
  OPT_DATA = 256, OPT_SYNTHETIC, OPT_SIZE, OPT_BACKBONE, OPT_EPOCHS, OPT_BATCH, OPT_OPTIMIZER,
  OPT_LR, OPT_MOMENTUM, OPT_WD, OPT_AGE_LOSS, OPT_W_AGE, OPT_W_GENDER, OPT_W_RACE, OPT_VAL,
  OPT_SEED, OPT_THREADS, OPT_PRESET, OPT_INIT, OPT_RESUME, OPT_OUT, OPT_LOG, OPT_JSON,
  OPT_AUGMENT, OPT_CACHE_DIR,
};

static const struct option options[] = {
  { "data", required_argument, NULL, OPT_DATA },
  { "synthetic", required_argument, NULL, OPT_SYNTHETIC },
  { "size", required_argument, NULL, OPT_SIZE },
  { "backbone", required_argument, NULL, OPT_BACKBONE },
  { "epochs", required_argument, NULL, OPT_EPOCHS },
  { "batch", required_argument, NULL, OPT_BATCH },
  { "optimizer", required_argument, NULL, OPT_OPTIMIZER },
  { "lr", required_argument, NULL, OPT_LR },
  { "momentum", required_argument, NULL, OPT_MOMENTUM },
  { "weight-decay", required_argument, NULL, OPT_WD },
  { "age-loss", required_argument, NULL, OPT_AGE_LOSS },
  { "w-age", required_argument, NULL, OPT_W_AGE },
  { "w-gender", required_argument, NULL, OPT_W_GENDER },
  { "w-race", required_argument, NULL, OPT_W_RACE },
  { "val-percent", required_argument, NULL, OPT_VAL },
  { "seed", required_argument, NULL, OPT_SEED },
  { "threads", required_argument, NULL, OPT_THREADS },
  { "preset", required_argument, NULL, OPT_PRESET },
  { "init", required_argument, NULL, OPT_INIT },
  { "resume", required_argument, NULL, OPT_RESUME },
  { "out", required_argument, NULL, OPT_OUT },
  { "log", required_argument, NULL, OPT_LOG },
  { "json", no_argument, NULL, OPT_JSON },
  { "augment", required_argument, NULL, OPT_AUGMENT },
  { "cache-dir", required_argument, NULL, OPT_CACHE_DIR },
  { "help", no_argument, NULL, 'h' },
  { 0 },
};

static const char help[] =
  "Usage: hydranet-cli train [--data DIR | --synthetic N] [OPTIONS]\n"
  "\n"
  "Data:      --data DIR (a UTKFace folder) or --synthetic N (built-in synthetic faces)\n"
  "           --size 32|64|96|128  --val-percent 20  --cache-dir DIR\n"
  "Model:     --backbone resnet18|resnet34  --init M.safetensors (start from its weights)\n"
  "           --resume CKPT (continue a run saved by train, with its optimizer and settings)\n"
  "Training:  --preset studio|tutorial (applied first; other options override it)\n"
  "           --epochs E  --batch 64  --optimizer sgd|adam|adamw  --lr LR  --momentum M\n"
  "           --weight-decay WD  --augment none|flip,crop,color  --seed S  --threads T\n"
  "Losses:    --age-loss l1|mse|huber  --w-age A  --w-gender G  --w-race R\n"
  "Output:    --out M.safetensors (default hydranet.safetensors; saved at every epoch's end)\n"
  "           --log steps.csv (one row per step)  --json (a summary object on stdout)\n"
  "\n"
  "Presets: studio = Adam lr 1e-3, batch 64, 10 epochs, flips; tutorial = the article's\n"
  "SGD lr 1e-4 momentum 0.09 (as printed), batch 64, 50 epochs. Both ResNet-18 at 32x32,\n"
  "L1 + BCE + CE with weights 1/1/1.\n"
  "\n"
  "Ctrl-C stops after the current step, saves --out and exits with status 130.\n"
  "A diverging run (NaN or exploding loss) stops with status 1 and keeps the last good\n"
  "checkpoint.\n";

static bool
parse_float (const char *s, double lo, double hi, float *out)
{
  char *end;
  double v = strtod (s, &end);
  if (end == s || *end != '\0' || !(v >= lo && v <= hi))
    return false;
  *out = (float) v;
  return true;
}

static bool
parse_augment (const char *s, HnAugment *a)
{
  *a = (HnAugment) { 0 };
  if (strcmp (s, "none") == 0)
    return true;
  char copy[64];
  snprintf (copy, sizeof copy, "%s", s);
  for (char *save, *tok = strtok_r (copy, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strcmp (tok, "flip") == 0)
        a->flip = true;
      else if (strcmp (tok, "crop") == 0)
        a->crop = true;
      else if (strcmp (tok, "color") == 0)
        a->color = true;
      else
        return false;
    }
  return true;
}

typedef struct
{
  HnTrainConfig config;
  const char *data, *init, *resume, *out, *log, *cache_dir;
  int synthetic, threads;
  bool json;
} TrainArgs;

static int
parse (int argc, char **argv, TrainArgs *a)
{
  /* the preset first, so that every other option overrides it wherever it stands */
  a->config = train_preset_studio ();
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--preset") == 0 && !train_preset_from_name (argv[i + 1], &a->config))
      return cli_usage_error ("train", "--preset is tutorial or studio, not '%s'", argv[i + 1]);
  a->out = "hydranet.safetensors";
  a->threads = cli_default_threads ();
  a->config.seed = 0;
  int opt;
  unsigned long long seed;
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    {
      bool ok = true;
      HnTrainConfig *c = &a->config;
      switch (opt)
        {
        case OPT_DATA: a->data = optarg; break;
        case OPT_SYNTHETIC: ok = cli_parse_int (optarg, 10, 10000000, &a->synthetic); break;
        case OPT_SIZE:
          ok = cli_parse_int (optarg, 32, 128, &c->size) && c->size % 32 == 0;
          break;
        case OPT_BACKBONE: ok = backbone_from_name (optarg, &c->backbone); break;
        case OPT_EPOCHS: ok = cli_parse_int (optarg, 1, 100000, &c->epochs); break;
        case OPT_BATCH: ok = cli_parse_int (optarg, 2, 4096, &c->batch); break;
        case OPT_OPTIMIZER:
          {
            HnOptimizerKind kind;
            ok = optimizer_from_name (optarg, &kind);
            if (ok)
              {
                float lr = c->optimizer.lr;
                c->optimizer = optimizer_defaults (kind, lr);
              }
            break;
          }
        case OPT_LR: ok = parse_float (optarg, 1e-12, 100, &c->optimizer.lr); break;
        case OPT_MOMENTUM: ok = parse_float (optarg, 0, 1, &c->optimizer.momentum); break;
        case OPT_WD: ok = parse_float (optarg, 0, 1, &c->optimizer.weight_decay); break;
        case OPT_AGE_LOSS: ok = age_loss_from_name (optarg, &c->loss.age_loss); break;
        case OPT_W_AGE: ok = parse_float (optarg, 0, 1000, &c->loss.weight[HEAD_AGE]); break;
        case OPT_W_GENDER: ok = parse_float (optarg, 0, 1000, &c->loss.weight[HEAD_GENDER]); break;
        case OPT_W_RACE: ok = parse_float (optarg, 0, 1000, &c->loss.weight[HEAD_RACE]); break;
        case OPT_VAL: ok = cli_parse_int (optarg, 0, 90, &c->val_percent); break;
        case OPT_SEED:
          ok = cli_parse_u64 (optarg, &seed);
          c->seed = seed;
          break;
        case OPT_THREADS: ok = cli_parse_int (optarg, 1, 256, &a->threads); break;
        case OPT_PRESET: break; /* applied above */
        case OPT_INIT: a->init = optarg; break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_LOG: a->log = optarg; break;
        case OPT_JSON: a->json = true; break;
        case OPT_AUGMENT: ok = parse_augment (optarg, &c->augment); break;
        case OPT_CACHE_DIR: a->cache_dir = optarg; break;
        case 'h':
          fputs (help, stdout);
          return -1;
        default: return cli_usage_error ("train", "unknown option");
        }
      if (!ok)
        for (const struct option *o = options; o->name; o++)
          if (o->val == opt)
            return cli_usage_error ("train", "bad value '%s' for --%s", optarg, o->name);
    }
  if (optind < argc)
    return cli_usage_error ("train", "unexpected argument '%s'", argv[optind]);
  if ((a->data != NULL) == (a->synthetic > 0))
    return cli_usage_error ("train", "give either --data DIR or --synthetic N");
  if (a->init && a->resume)
    return cli_usage_error ("train", "--init starts a new run and --resume continues one: not both");
  return EXIT_OK;
}

/* Reads what a resumed run must keep: size, backbone and seed (which also draws the
 * synthetic faces, so a resumed synthetic run sees the same data). */
static bool
peek_checkpoint (const char *path, HnTrainConfig *config, HnError *err)
{
  HnSafetensors *st = safetensors_read (path, err);
  HnCheckpointInfo info;
  bool ok = st && checkpoint_info (st, &info, err);
  if (ok)
    {
      const char *seed = safetensors_meta (st, "train.seed");
      config->size = info.input_size;
      config->backbone = info.backbone;
      if (seed != NULL)
        config->seed = strtoull (seed, NULL, 10);
    }
  else if (st)
    hn_error_prefix (err, "%s", path);
  safetensors_free (st);
  return ok;
}

static HnDataset *
load_data (const TrainArgs *a, HnError *err)
{
  HnLoadProgress progress = { 0 };
  HnDataset *ds;
  if (a->data)
    {
      fprintf (stderr, "loading %s at %d×%d…\n", a->data, a->config.size, a->config.size);
      ds = dataset_open_folder (a->data, a->config.size, a->cache_dir, a->threads, &progress, err);
    }
  else
    ds = dataset_new_synthetic (a->synthetic, a->config.seed, a->config.size, a->threads,
                                &progress, err);
  if (ds && ds->n_skipped > 0)
    fprintf (stderr, "%d files skipped (see hydranet-cli dataset for the list)\n", ds->n_skipped);
  return ds;
}

int
cli_train (int argc, char **argv)
{
  TrainArgs a = { 0 };
  int status = parse (argc, argv, &a);
  if (status != EXIT_OK)
    return status < 0 ? EXIT_OK : status;
  engine_set_threads (a.threads);
  a.config.checkpoint_path = a.out;

  HnError err;
  if (a.resume && !peek_checkpoint (a.resume, &a.config, &err))
    return cli_fail ("%s", err.message);
  HnModel *init = NULL;
  if (a.init)
    {
      HnCheckpointInfo info;
      if ((init = checkpoint_load_init (a.init, &info, &err)) == NULL)
        return cli_fail ("%s", err.message);
      a.config.backbone = info.backbone;
    }

  HnDataset *ds = load_data (&a, &err);
  if (ds == NULL)
    {
      model_free (init);
      return cli_fail ("%s", err.message);
    }
  HnTrainer *t = a.resume ? trainer_resume (a.resume, &a.config, ds, &err)
                          : trainer_new (&a.config, ds, init, NULL, &err);
  FILE *log = NULL;
  if (t != NULL && a.log != NULL)
    {
      if ((log = fopen (a.log, a.resume ? "a" : "w")) == NULL)
        hn_error_set (&err, "cannot write %s: %m", a.log);
      else if (!a.resume || ftell (log) == 0)
        fputs (csv_header, log);
    }
  if (t == NULL || (a.log && log == NULL) || !trainer_start (t, &err))
    {
      trainer_free (t);
      dataset_free (ds);
      if (log)
        fclose (log);
      return cli_fail ("%s", err.message);
    }

  struct sigaction sa = { .sa_handler = on_sigint };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  Progress p = { .tty = isatty (STDERR_FILENO), .epochs = a.config.epochs,
                 .started = hn_seconds () };
  HnEvalResult final = { 0 };
  bool have_final = false, stopping = false;
  int64_t last_step = 0;
  uint64_t images = 0;
  HnTrainerState end = TRAINER_RUNNING;
  char end_message[256] = "";
  HnEvent events[256];
  while (end == TRAINER_RUNNING || end == TRAINER_PAUSED)
    {
      if (interrupted && !stopping)
        {
          stopping = true;
          end_line (&p);
          fprintf (stderr, "interrupted: stopping after this step and saving…\n");
          trainer_stop (t);
        }
      trainer_wait_event (t, 200);
      uint64_t dropped;
      int n = trainer_poll (t, events, 256, &dropped);
      for (int i = 0; i < n; i++)
        {
          const HnEvent *e = &events[i];
          switch (e->kind)
            {
            case EVENT_STEP:
              last_step = e->step;
              images += (uint64_t) e->train.images;
              show_step (&p, e, a.config.batch);
              if (log)
                csv_row (log, e);
              break;
            case EVENT_EPOCH:
              end_line (&p);
              final = e->val;
              have_final = e->val.n > 0;
              if (have_final)
                fprintf (stderr, "epoch %d: validation (%d images) age MAE %.2f years, gender "
                                 "%.1f%%, race %.1f%%\n",
                         e->epoch, e->val.n, e->val.age_mae, 100 * e->val.gender_acc,
                         100 * e->val.race_acc);
              break;
            case EVENT_CHECKPOINT:
              if (e->state.error)
                fprintf (stderr, "checkpoint not saved: %s\n", e->state.message);
              break;
            case EVENT_SETTING:
              break;
            case EVENT_STATE:
              if (e->state.state == TRAINER_DIVERGED)
                {
                  /* no one to ask here: report and stop, keeping the last good checkpoint */
                  end_line (&p);
                  fprintf (stderr, "training diverged: %s\n", e->state.message);
                  trainer_stop (t);
                  end = TRAINER_DIVERGED;
                  snprintf (end_message, sizeof end_message, "%s", e->state.message);
                }
              else if (e->state.state != TRAINER_RUNNING && e->state.state != TRAINER_PAUSED
                       && end != TRAINER_DIVERGED)
                {
                  end = e->state.state;
                  snprintf (end_message, sizeof end_message, "%s", e->state.message);
                }
              break;
            }
        }
    }
  trainer_join (t);
  end_line (&p);
  double seconds = hn_seconds () - p.started;

  if (end == TRAINER_STOPPED && interrupted)
    {
      if (trainer_save (t, a.out, &err))
        fprintf (stderr, "saved %s at step %lld; continue with --resume %s\n", a.out,
                 (long long) trainer_step (t), a.out);
      else
        fprintf (stderr, "could not save: %s\n", err.message);
      status = 130;
    }
  else if (end == TRAINER_FINISHED)
    fprintf (stderr, "%s; model saved to %s\n", end_message, a.out);
  else
    status = EXIT_FAILED;

  if (a.json)
    {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "state", trainer_state_name (end));
      if (end_message[0])
        cJSON_AddStringToObject (o, "message", end_message);
      int n_train = 0, n_val = 0;
      for (int i = 0; i < ds->n; i++)
        dataset_is_val (ds, i, a.config.val_percent) ? n_val++ : n_train++;
      cJSON_AddNumberToObject (o, "n_train", n_train);
      cJSON_AddNumberToObject (o, "n_val", n_val);
      cJSON_AddNumberToObject (o, "steps", (double) last_step);
      cJSON_AddNumberToObject (o, "train_seconds", seconds);
      cJSON_AddNumberToObject (o, "img_per_s", seconds > 0 ? images / seconds : 0);
      cJSON_AddStringToObject (o, "model", a.out);
      if (have_final)
        cJSON_AddItemToObject (o, "final", cli_eval_json (&final));
      cli_print_json (o);
    }
  if (log)
    fclose (log);
  trainer_free (t);
  dataset_free (ds);
  return status;
}
