/* hydranet-cli train — the trainer without a window: progress on stderr, the run's record
 * (--log) or its run folder (--run-dir), forks of a run (--fork), a JSON summary, and Ctrl-C
 * that saves before it leaves. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "clock.h"
#include "parallel.h"
#include "progress.h"
#include "runfolder.h"
#include "runinfo.h"
#include "runmeta.h"
#include "synth.h"
#include "trainer.h"

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
}

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

typedef struct
{
  bool tty;
  HnProgress progress;
} Progress;

/* A live bar on a terminal; otherwise about ten plain lines an epoch. */
static void
show_step (Progress *p, const HnEvent *e)
{
  const HnStepEvent *s = &e->train;
  progress_step (&p->progress, e);
  char eta[32];
  format_eta (eta, sizeof eta, progress_eta (&p->progress));
  char epochs[16] = ""; /* " of E", unless a time budget decides */
  if (p->progress.epochs > 0)
    snprintf (epochs, sizeof epochs, "/%d", p->progress.epochs);
  const double rate = p->progress.img_per_s;
  if (p->tty)
    {
      char bar[21];
      int filled = (s->batch_index + 1) * 20 / s->batches;
      for (int i = 0; i < 20; i++)
        bar[i] = i < filled ? '#' : '.';
      bar[20] = '\0';
      fprintf (stderr, "\r\033[Kepoch %d%s [%s] %d/%d  age %.3g  gender %.3f  race %.3f  "
                       "total %.4g  %.0f img/s  ETA %s",
               e->epoch + 1, epochs, bar, s->batch_index + 1, s->batches, s->raw[0], s->raw[1],
               s->raw[2], s->total, rate, eta);
      return;
    }
  int every = s->batches >= 10 ? s->batches / 10 : 1;
  if ((s->batch_index + 1) % every == 0 || s->batch_index + 1 == s->batches)
    fprintf (stderr, "epoch %d%s step %lld batch %d/%d: age %.4g gender %.4f race %.4f total "
                     "%.4g, %.0f img/s, ETA %s\n",
             e->epoch + 1, epochs, (long long) e->step, s->batch_index + 1, s->batches,
             s->raw[0], s->raw[1], s->raw[2], s->total, rate, eta);
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
  OPT_AUGMENT, OPT_CACHE_DIR, OPT_SCHEDULE, OPT_WARMUP, OPT_NESTEROV, OPT_DECAY, OPT_SMOOTHING,
  OPT_AGE_TARGET, OPT_EMA, OPT_TTA, OPT_VAL_EVERY, OPT_TIME_BUDGET, OPT_BALANCE, OPT_RUN_DIR,
  OPT_FORK, OPT_END
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
  { "schedule", required_argument, NULL, OPT_SCHEDULE },
  { "warmup", required_argument, NULL, OPT_WARMUP },
  { "nesterov", no_argument, NULL, OPT_NESTEROV },
  { "decay", required_argument, NULL, OPT_DECAY },
  { "label-smoothing", required_argument, NULL, OPT_SMOOTHING },
  { "age-target", required_argument, NULL, OPT_AGE_TARGET },
  { "ema", required_argument, NULL, OPT_EMA },
  { "tta", required_argument, NULL, OPT_TTA },
  { "val-every", required_argument, NULL, OPT_VAL_EVERY },
  { "time-budget", required_argument, NULL, OPT_TIME_BUDGET },
  { "balance", required_argument, NULL, OPT_BALANCE },
  { "run-dir", required_argument, NULL, OPT_RUN_DIR },
  { "fork", required_argument, NULL, OPT_FORK },
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
  "Training:  --preset studio|tutorial|quick|quality (applied first; options override it)\n"
  "           --epochs E  --batch 64  --time-budget MINUTES (loading, training, validation)\n"
  "           --optimizer sgd|adam|adamw  --lr LR (the schedule's peak)  --momentum M\n"
  "           --nesterov  --weight-decay WD  --decay weights|all (weights: none on\n"
  "           batch-norm parameters and biases)  --schedule constant|step|cosine|onecycle\n"
  "           --warmup SHARE  --ema DECAY (average the weights; 0: off)  --seed S  --threads T\n"
  "Data aug.: --augment none | flip,crop[=AREA],aspect[=R],rotate[=DEG],color[=X],\n"
  "           brightness[=X],contrast[=X],saturation[=X] (the list replaces the preset's)\n"
  "Losses:    --age-loss l1|mse|huber  --w-age A  --w-gender G  --w-race R\n"
  "           --age-target years|standardized  --label-smoothing EPS\n"
  "           --balance manual|scale-invariant|uncertainty|famo|mgda-ub|imtl-g|pcgrad|rlw\n"
  "           (who sets the weights; a method starts from the weights given)\n"
  "Validation: --tta none|flip (each image averaged with its mirror)\n"
  "           --val-every E|end (epochs between validations; the run's end always has one)\n"
  "Output:    --out M.safetensors (default hydranet.safetensors; saved at every epoch's end)\n"
  "           --log steps.csv (every event of the run)  --json (a summary on stdout)\n"
  "Runs:      --run-dir DIR (the run gets a folder in DIR: run.json, curves.csv, a checkpoint\n"
  "           per epoch in checkpoints/, model.safetensors; --out is then written only when\n"
  "           given)  --fork CKPT (a new run from a run folder's epoch checkpoint, in --run-dir\n"
  "           or beside its parent, with the options given changed: --w-age, --w-gender,\n"
  "           --w-race, --age-loss, --lr and --balance as changes at the branch point,\n"
  "           --epochs to go further, --augment, --tta, --val-every; nothing changed\n"
  "           repeats the parent)\n"
  "           hydranet-cli runs lists the runs of a folder.\n"
  "\n"
  "Presets: studio = Adam lr 1e-3, batch 64, 10 epochs, flips; tutorial = the article's\n"
  "SGD lr 1e-4 momentum 0.09 (as printed), batch 64, 50 epochs, both at 32x32 with\n"
  "L1 + BCE + CE and weights 1/1/1; quick = the reference's quality fast; quality = the\n"
  "best model in --time-budget minutes (60). README.md has what each reaches.\n"
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

typedef struct
{
  HnTrainConfig config;
  const char *data, *init, *resume, *out, *log, *cache_dir, *run_dir, *fork;
  int synthetic, threads;
  bool json;
  bool given[OPT_END - OPT_DATA]; /* which options the command line has */
} TrainArgs;

static bool
given (const TrainArgs *a, int opt)
{
  return a->given[opt - OPT_DATA];
}

/* An option that shapes the run (the model, optimizer, schedule, losses, data): into c. */
static bool
set_run_option (HnTrainConfig *c, int opt, const char *arg)
{
  unsigned long long seed;
  float minutes = 0;
  switch (opt)
    {
    case OPT_SIZE: return cli_parse_int (arg, 32, 128, &c->size) && c->size % 32 == 0;
    case OPT_BACKBONE: return backbone_from_name (arg, &c->backbone);
    case OPT_EPOCHS: return cli_parse_int (arg, 1, 100000, &c->epochs);
    case OPT_BATCH: return cli_parse_int (arg, 2, 4096, &c->batch);
    case OPT_OPTIMIZER:
      {
        HnOptimizerKind kind;
        if (!optimizer_from_name (arg, &kind))
          return false;
        /* another kind brings its own momentum and decay; the rate and the choices that are
         * not the kind's stay as given */
        HnOptimizerConfig was = c->optimizer;
        if (kind == was.kind)
          return true;
        c->optimizer = optimizer_defaults (kind, was.lr);
        c->optimizer.decay_all = was.decay_all;
        c->optimizer.nesterov = was.nesterov;
        return true;
      }
    case OPT_LR: return parse_float (arg, 1e-12, 100, &c->optimizer.lr);
    case OPT_MOMENTUM: return parse_float (arg, 0, 1, &c->optimizer.momentum);
    case OPT_WD: return parse_float (arg, 0, 1, &c->optimizer.weight_decay);
    case OPT_NESTEROV: return c->optimizer.nesterov = true;
    case OPT_DECAY:
      c->optimizer.decay_all = strcmp (arg, "all") == 0;
      return c->optimizer.decay_all || strcmp (arg, "weights") == 0;
    case OPT_SCHEDULE:
      {
        HnScheduleKind kind;
        if (!schedule_from_name (arg, &kind))
          return false;
        c->schedule = schedule_defaults (kind);
        return true;
      }
    case OPT_WARMUP: return parse_float (arg, 0, 1, &c->schedule.warmup);
    case OPT_EMA: return parse_float (arg, 0, 0.99999, &c->ema_decay);
    case OPT_TIME_BUDGET:
      if (!parse_float (arg, 0.05, 10080, &minutes))
        return false;
      c->time_budget = 60.0 * minutes;
      return true;
    case OPT_AGE_LOSS: return age_loss_from_name (arg, &c->loss.age_loss);
    case OPT_BALANCE: return balance_from_name (arg, &c->loss.balance);
    case OPT_W_AGE: return parse_float (arg, 0, 1000, &c->loss.weight[HEAD_AGE]);
    case OPT_W_GENDER: return parse_float (arg, 0, 1000, &c->loss.weight[HEAD_GENDER]);
    case OPT_W_RACE: return parse_float (arg, 0, 1000, &c->loss.weight[HEAD_RACE]);
    case OPT_SMOOTHING: return parse_float (arg, 0, 0.5, &c->loss.smoothing);
    case OPT_AGE_TARGET:
      c->standardize_age = strcmp (arg, "standardized") == 0;
      return c->standardize_age || strcmp (arg, "years") == 0;
    case OPT_TTA: return cli_parse_tta (arg, &c->tta);
    case OPT_VAL_EVERY:
      if (strcmp (arg, "end") == 0)
        {
          c->val_every = VAL_AT_END;
          return true;
        }
      return cli_parse_int (arg, 1, 100000, &c->val_every);
    case OPT_AUGMENT: return augment_from_names (arg, &c->augment);
    case OPT_VAL: return cli_parse_int (arg, 0, 90, &c->val_percent);
    case OPT_SEED:
      if (!cli_parse_u64 (arg, &seed))
        return false;
      c->seed = seed;
      return true;
    default: HN_ASSERT (!"an option of the run");
    }
  return false;
}

static int
parse (int argc, char **argv, TrainArgs *a)
{
  /* the preset first, so that every other option overrides it wherever it stands */
  a->config = train_preset_studio ();
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--preset") == 0 && !train_preset_from_name (argv[i + 1], &a->config))
      return cli_usage_error ("train", "--preset is tutorial, studio, quick or quality, not '%s'",
                              argv[i + 1]);
  a->out = "hydranet.safetensors";
  a->threads = cli_default_threads ();
  a->config.seed = 0;
  /* then the optimizer's and the schedule's kinds, whose defaults the other options refine
   * wherever they stand (--weight-decay 0.1 --optimizer adamw keeps the 0.1) */
  int opt;
  opterr = 0; /* the second pass reports unknown options */
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    if ((opt == OPT_OPTIMIZER || opt == OPT_SCHEDULE) && !set_run_option (&a->config, opt, optarg))
      return cli_bad_value ("train", options, opt, optarg);
  opterr = 1;
  optind = 0; /* glibc: start the scan again */
  while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
    {
      bool ok = true;
      if (opt >= OPT_DATA && opt < OPT_END)
        a->given[opt - OPT_DATA] = true;
      switch (opt)
        {
        case OPT_DATA: a->data = optarg; break;
        case OPT_SYNTHETIC: ok = cli_parse_int (optarg, 10, 10000000, &a->synthetic); break;
        case OPT_THREADS: ok = cli_parse_int (optarg, 1, 256, &a->threads); break;
        case OPT_PRESET: /* applied above */
        case OPT_OPTIMIZER:
        case OPT_SCHEDULE: break;
        case OPT_INIT: a->init = optarg; break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_OUT: a->out = optarg; break;
        case OPT_LOG: a->log = optarg; break;
        case OPT_JSON: a->json = true; break;
        case OPT_CACHE_DIR: a->cache_dir = optarg; break;
        case OPT_RUN_DIR: a->run_dir = optarg; break;
        case OPT_FORK: a->fork = optarg; break;
        case 'h':
          fputs (help, stdout);
          return -1;
        case '?': return cli_usage_error ("train", "unknown option");
        default: ok = set_run_option (&a->config, opt, optarg); break;
        }
      if (!ok)
        return cli_bad_value ("train", options, opt, optarg);
    }
  if (optind < argc)
    return cli_usage_error ("train", "unexpected argument '%s'", argv[optind]);
  if (a->data != NULL && a->synthetic > 0)
    return cli_usage_error ("train", "give either --data DIR or --synthetic N, not both");
  if (a->data == NULL && a->synthetic == 0 && a->fork == NULL)
    return cli_usage_error ("train", "give either --data DIR or --synthetic N");
  if (a->init && a->resume)
    return cli_usage_error ("train", "--init starts a new run and --resume continues one: not both");
  if (a->fork && (a->init || a->resume || given (a, OPT_PRESET)))
    return cli_usage_error ("train", "--fork takes its parent's weights and settings: not with "
                                     "--init, --resume or --preset");
  if (a->resume && a->run_dir)
    return cli_usage_error ("train", "--resume continues a run where its checkpoint is; to "
                                     "branch it into a run folder, --fork CKPT --run-dir DIR");
  if (a->log && (a->run_dir || a->fork))
    return cli_usage_error ("train", "a run folder keeps the run's record as curves.csv: no --log");
  if (a->config.optimizer.nesterov
      && (a->config.optimizer.kind != OPTIMIZER_SGD || a->config.optimizer.momentum <= 0))
    return cli_usage_error ("train", "--nesterov is SGD's, with a --momentum above 0");
  return EXIT_OK;
}

/* Reads what a resumed run must keep: size, backbone and seed (which also draws the
 * synthetic faces, so a resumed synthetic run sees the same data). */
static bool
peek_checkpoint (const char *path, HnTrainConfig *config, HnError *err)
{
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_HEADER, err);
  HnRunMeta meta;
  bool ok = c != NULL && (run_meta_read (c->st, &meta, err) || hn_error_prefix (err, "%s", path));
  if (ok)
    {
      config->size = c->info.input_size;
      config->backbone = c->info.backbone;
      if (meta.has_progress)
        config->seed = meta.seed;
    }
  checkpoint_close (c);
  return ok;
}

/* ---- forks ---- */

/* Whether opt is one of the run's settings (set_run_option's), not where it reads or writes. */
static bool
is_run_option (int opt)
{
  switch (opt)
    {
    case OPT_DATA: case OPT_SYNTHETIC: case OPT_THREADS: case OPT_PRESET: case OPT_INIT:
    case OPT_RESUME: case OPT_OUT: case OPT_LOG: case OPT_JSON: case OPT_CACHE_DIR:
    case OPT_RUN_DIR: case OPT_FORK: case 'h': case '?':
      return false;
    default:
      return true;
    }
}

/* The command line's run options applied to c as parse applies them: the kinds first.
 * parse has checked every value. */
static void
apply_run_options (int argc, char **argv, HnTrainConfig *c)
{
  opterr = 0;
  for (int pass = 0; pass < 2; pass++)
    {
      int opt;
      optind = 0;
      while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1)
        if (is_run_option (opt) && (opt == OPT_OPTIMIZER || opt == OPT_SCHEDULE) == (pass == 0))
          set_run_option (c, opt, optarg);
    }
  opterr = 1;
}

static int
refuse_change (const char *option, const char *was, const char *why)
{
  return cli_usage_error ("train", "--fork: %s is not the parent's (%s): %s", option, was, why);
}

static const char keep_order[] = "a fork keeps its parent's data order, so that the branches "
                                 "differ by the change alone";

static int
refuse_number (const char *option, unsigned long long was)
{
  char text[32];
  snprintf (text, sizeof text, "%llu", was);
  return refuse_change (option, text, keep_order);
}

static int
refuse_value (const char *option, double was, const char *why)
{
  char text[32];
  snprintf (text, sizeof text, "%g", was);
  return refuse_change (option, text, why);
}

/* What a fork may not change, as the parent's settings were and the fork's would be: the
 * data order (the fork must see the batches its parent would have, so that the branches
 * differ by the change alone), and what the checkpoint's optimizer state and schedule go on
 * with. */
static int
check_fork (const HnTrainConfig *was, const HnTrainConfig *c)
{
  static const char state[] = "the optimizer's state and the schedule go on from the checkpoint";
  if (c->size != was->size)
    return refuse_number ("--size", (unsigned) was->size);
  if (c->batch != was->batch)
    return refuse_number ("--batch", (unsigned) was->batch);
  if (c->val_percent != was->val_percent)
    return refuse_number ("--val-percent", (unsigned) was->val_percent);
  if (c->seed != was->seed)
    return refuse_number ("--seed", was->seed);
  if (c->backbone != was->backbone)
    return refuse_change ("--backbone", backbone_name (was->backbone), keep_order);
  const HnOptimizerConfig *o = &c->optimizer, *p = &was->optimizer;
  if (o->kind != p->kind)
    return refuse_change ("--optimizer", optimizer_name (p->kind), state);
  if (o->momentum != p->momentum)
    return refuse_value ("--momentum", p->momentum, state);
  if (o->nesterov != p->nesterov)
    return refuse_change ("--nesterov", p->nesterov ? "on" : "off", state);
  if (o->weight_decay != p->weight_decay)
    return refuse_value ("--weight-decay", p->weight_decay, state);
  if (o->decay_all != p->decay_all)
    return refuse_change ("--decay", p->decay_all ? "all" : "weights", state);
  const HnSchedule *s = &c->schedule, *q = &was->schedule;
  if (s->kind != q->kind)
    return refuse_change ("--schedule", schedule_name (q->kind), state);
  if (s->warmup != q->warmup)
    return refuse_value ("--warmup", q->warmup, state);
  if (c->ema_decay != was->ema_decay)
    return refuse_value ("--ema", was->ema_decay, state);
  if (c->loss.smoothing != was->loss.smoothing)
    return refuse_value ("--label-smoothing", was->loss.smoothing, state);
  if (c->standardize_age != was->standardize_age)
    return refuse_change ("--age-target", was->standardize_age ? "standardized" : "years", state);
  return EXIT_OK;
}

/* A fork's settings: its parent's (run.json, beside the checkpoint's folder), with the
 * options given changed; its data set, the parent's. parent keeps the strings a->config and
 * a->data then point to. */
static int
prepare_fork (TrainArgs *a, int argc, char **argv, HnRunInfo *parent)
{
  HnError err;
  char *folder = run_folder_of (a->fork, &err);
  if (folder == NULL)
    return cli_fail ("--fork %s", err.message);
  bool ok = run_info_read (folder, parent, &err);
  free (folder);
  if (!ok)
    return cli_fail ("--fork %s: not a checkpoint of a run folder (%s); continue a checkpoint of "
                     "your own with --resume", a->fork, err.message);
  const HnTrainConfig *was = &parent->settings;

  /* the checkpoint says where it stands, and must be one of that run's */
  HnCheckpoint *ck = checkpoint_open (a->fork, CHECKPOINT_HEADER, &err);
  HnRunMeta meta;
  if (ck == NULL || !run_meta_read (ck->st, &meta, &err))
    {
      checkpoint_close (ck);
      return cli_fail ("--fork %s: %s", a->fork, err.message);
    }
  ok = ck->info.input_size == was->size && ck->info.backbone == was->backbone
       && meta.has_progress && meta.seed == was->seed;
  checkpoint_close (ck);
  if (!ok)
    return cli_fail ("--fork %s: its size, backbone or seed are not those of the run folder it "
                     "lies in (%s)", a->fork, parent->folder);

  HnTrainConfig c = *was;
  apply_run_options (argc, argv, &c);
  int status = check_fork (was, &c);
  if (status != EXIT_OK)
    return status;
  if (c.epochs <= meta.epoch && meta.batch_index == 0)
    return cli_usage_error ("train", "--fork: the checkpoint stands at the end of epoch %d; give "
                                     "--epochs above %d for the fork to train", meta.epoch,
                            meta.epoch);

  /* the data: the parent's, or the same given again */
  const char *data = parent->data_folder;
  const int synthetic = was->synthetic;
  if (data == NULL && synthetic <= 0 && a->data == NULL && a->synthetic == 0)
    return cli_fail ("--fork: the parent's run.json does not say what it trained on; give --data "
                     "or --synthetic");
  if (a->data != NULL && data != NULL)
    {
      char *real = realpath (a->data, NULL);
      ok = real != NULL && strcmp (real, data) == 0;
      free (real);
    }
  else if (a->data != NULL || a->synthetic > 0)
    ok = data == NULL && (synthetic <= 0 || a->synthetic == synthetic);
  if (!ok)
    {
      char faces[48];
      snprintf (faces, sizeof faces, "%d synthetic faces", synthetic);
      return refuse_change ("--data or --synthetic", data != NULL ? data : faces, keep_order);
    }
  if (a->data == NULL && a->synthetic == 0)
    {
      a->data = data;
      a->synthetic = data == NULL ? synthetic : 0;
    }
  c.synthetic_seed = data == NULL && synthetic > 0 ? was->synthetic_seed : c.seed;
  a->config = c;
  return EXIT_OK;
}

/* The live settings a fork changes, given through the trainer's live controls before it
 * starts: they take effect at the branch point, where the record and the history mark them,
 * as if they had been changed there in the studio. The one place a fork's changes go. A
 * weight given to a run under a method takes the weights back by hand (trainer.h); a method
 * given starts from the weights then in force. */
static void
apply_fork_changes (HnTrainer *t, const TrainArgs *a)
{
  static const int weights[N_HEADS] = { OPT_W_AGE, OPT_W_GENDER, OPT_W_RACE };
  const HnLossConfig *loss = &a->config.loss;
  for (int h = 0; h < N_HEADS; h++)
    if (given (a, weights[h]))
      trainer_set_weight (t, h, loss->weight[h]);
  if (given (a, OPT_AGE_LOSS))
    trainer_set_age_loss (t, loss->age_loss);
  if (given (a, OPT_LR))
    trainer_set_lr (t, a->config.optimizer.lr);
  if (given (a, OPT_BALANCE))
    trainer_set_balance (t, loss->balance);
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
      /* a cache not written is no reason to stop, but the next start decodes again: said */
      if (ds != NULL)
        fprintf (stderr, "%d images (cache: %s)\n", ds->n, dataset_cache_status (ds));
    }
  else
    ds = dataset_new_synthetic (a->synthetic, a->config.synthetic_seed, a->config.size,
                                a->threads, &progress, err);
  if (ds && ds->n_skipped > 0)
    fprintf (stderr, "%d files skipped (see hydranet-cli dataset for the list)\n", ds->n_skipped);
  return ds;
}

/* What a run ended as, for the exit status and the summary. */
typedef struct
{
  HnTrainerState state;
  char message[256];
  int64_t steps;
  uint64_t images;
  bool have_final;
  HnEvalResult final;
  double seconds;
} Outcome;

static void
show_epoch (const HnEvent *e, Outcome *out)
{
  if (e->val.n == 0) /* no validation split, or not this epoch (--val-every) */
    return;
  out->final = e->val;
  out->have_final = true;
  fprintf (stderr, "epoch %d: validation (%d images) age MAE %.2f years, gender %.1f%%, race "
                   "%.1f%%\n",
           e->epoch, e->val.n, e->val.age_mae, 100 * e->val.gender_acc, 100 * e->val.race_acc);
}

/* A diverging run stops here, with no one to ask: the last good checkpoint stays. */
static void
take_state (HnTrainer *t, Progress *p, const HnEvent *e, Outcome *out)
{
  HnTrainerState state = e->state.state;
  if (state == TRAINER_DIVERGED)
    {
      end_line (p);
      fprintf (stderr, "training diverged: %s\n", e->state.message);
      trainer_stop (t);
    }
  else if (e->state.error)
    {
      end_line (p);
      fprintf (stderr, "%s\n", e->state.message);
      /* a failure the run goes on after (a file not written) is no change of state, and
       * must not take the place of the message the run ends with */
      if (state == out->state)
        return;
    }
  if (state == TRAINER_RUNNING || state == TRAINER_PAUSED || out->state == TRAINER_DIVERGED)
    return;
  out->state = state;
  snprintf (out->message, sizeof out->message, "%s", e->state.message);
}

/* Takes the events that are in; returns how many. */
static int
take_events (HnTrainer *t, Progress *p, Outcome *out)
{
  HnEvent events[256];
  int n = trainer_poll (t, events, 256, NULL);
  for (int i = 0; i < n; i++)
    {
      const HnEvent *e = &events[i];
      switch (e->kind)
        {
        case EVENT_STEP:
          out->steps = e->step;
          out->images += (uint64_t) e->train.images;
          show_step (p, e);
          break;
        case EVENT_EPOCH:
          end_line (p);
          show_epoch (e, out);
          break;
        case EVENT_CHECKPOINT:
          if (e->state.error)
            fprintf (stderr, "checkpoint not saved: %s\n", e->state.message);
          break;
        case EVENT_STATE:
          take_state (t, p, e, out);
          break;
        case EVENT_SETTING:
          break;
        }
    }
  return n;
}

/* Reads the trainer's events until the run ends; Ctrl-C asks it to stop after the step. Then
 * those of its last writes (the record closed, run.json's summary): their failures too are
 * the user's to see. */
static void
follow (HnTrainer *t, Progress *p, Outcome *out)
{
  bool stopping = false;
  out->state = TRAINER_RUNNING;
  while (out->state == TRAINER_RUNNING || out->state == TRAINER_PAUSED)
    {
      if (interrupted && !stopping)
        {
          stopping = true;
          end_line (p);
          fprintf (stderr, "interrupted: stopping after this step and saving…\n");
          trainer_stop (t);
        }
      trainer_wait_event (t, 200);
      take_events (t, p, out);
    }
  trainer_join (t);
  while (take_events (t, p, out) > 0)
    ;
}

static void
print_summary (const TrainArgs *a, const HnDataset *ds, const Outcome *out,
               const char *run_folder, const char *model)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "state", trainer_state_name (out->state));
  if (out->message[0])
    cJSON_AddStringToObject (o, "message", out->message);
  int n_train = 0, n_val = 0;
  dataset_split (ds, a->config.val_percent, NULL, &n_train, NULL, &n_val);
  cJSON_AddNumberToObject (o, "n_train", n_train);
  cJSON_AddNumberToObject (o, "n_val", n_val);
  cJSON_AddNumberToObject (o, "steps", (double) out->steps);
  cJSON_AddNumberToObject (o, "train_seconds", out->seconds);
  cJSON_AddNumberToObject (o, "img_per_s", out->seconds > 0 ? out->images / out->seconds : 0);
  if (run_folder != NULL)
    {
      cJSON_AddItemToObject (o, "run_dir", cli_json_string (run_folder));
      if (model != NULL)
        cJSON_AddStringToObject (o, "model", model);
    }
  else
    cJSON_AddStringToObject (o, "model", a->out);
  if (out->have_final)
    cJSON_AddItemToObject (o, "final", cli_eval_json (&out->final));
  cli_print_json (o);
}

/* After the run: what it leaves besides what the trainer wrote, and the exit status. Without
 * a run folder, --out is the checkpoint the trainer kept at each epoch's end, saved once more
 * where Ctrl-C stopped it; in a run folder, its model.safetensors, and --out when given. */
static int
save_results (HnTrainer *t, const TrainArgs *a, const char *run_folder, const Outcome *out,
              char **model)
{
  HnError err;
  const bool stopped = out->state == TRAINER_STOPPED && interrupted;
  if (out->state != TRAINER_FINISHED && !stopped)
    return EXIT_FAILED;
  const int status = stopped ? 130 : EXIT_OK;
  if (run_folder == NULL)
    {
      if (!stopped)
        fprintf (stderr, "%s; model saved to %s\n", out->message, a->out);
      else if (trainer_save (t, a->out, &err))
        fprintf (stderr, "saved %s at step %lld; continue with --resume %s\n", a->out,
                 (long long) trainer_step (t), a->out);
      else
        fprintf (stderr, "could not save: %s\n", err.message);
      return status;
    }
  *model = run_folder_file (run_folder, RUN_MODEL);
  if (*model == NULL || !trainer_save_model (t, *model, &err)
      || (given (a, OPT_OUT) && !trainer_save (t, a->out, &err)))
    {
      fprintf (stderr, "could not save: %s\n", *model ? err.message : "out of memory");
      return EXIT_FAILED;
    }
  if (!stopped)
    fprintf (stderr, "%s; model saved to %s\n", out->message, *model);
  else
    {
      const bool out_too = given (a, OPT_OUT);
      fprintf (stderr, "stopped at step %lld; %s keeps a checkpoint of each epoch's end to "
                       "--fork from%s%s\n", (long long) trainer_step (t), run_folder,
               out_too ? ", and --resume continues " : "", out_too ? a->out : "");
    }
  return status;
}

int
cli_train (int argc, char **argv)
{
  TrainArgs a = { 0 };
  HnRunInfo parent = { 0 };
  int status = parse (argc, argv, &a);
  if (status == EXIT_OK && a.fork)
    status = prepare_fork (&a, argc, argv, &parent);
  if (status != EXIT_OK)
    {
      run_info_clear (&parent);
      return status < 0 ? EXIT_OK : status;
    }
  engine_set_threads (a.threads);
  const bool in_folder = a.run_dir != NULL || a.fork != NULL;
  if (!in_folder)
    {
      a.config.checkpoint_path = a.out;
      a.config.records_path = a.log;
    }
  a.config.source = "hydranet-cli " HYDRA_VERSION;
  a.config.clock_start = hn_seconds (); /* a time budget counts the loading too */

  /* the checkpoints first, so that a bad one is refused before the data loads for nothing */
  HnError err;
  HnModel *init = NULL;
  if (a.init)
    {
      HnCheckpoint *c = checkpoint_open (a.init, CHECKPOINT_INIT, &err);
      if (c == NULL)
        return cli_fail ("%s", err.message);
      a.config.backbone = c->info.backbone;
      init = checkpoint_take_model (c);
      checkpoint_close (c);
    }
  if (a.resume && !peek_checkpoint (a.resume, &a.config, &err))
    return cli_fail ("%s", err.message);
  if (!a.fork)
    a.config.synthetic_seed = a.config.seed; /* the faces are drawn from the run's seed */
  HnDataset *ds = load_data (&a, &err);
  if (ds == NULL)
    {
      model_free (init);
      run_info_clear (&parent);
      return cli_fail ("%s", err.message);
    }

  /* the run folder: in --run-dir, or a fork's beside its parent */
  char *run_folder = NULL;
  if (in_folder)
    {
      char *runs = a.run_dir ? strdup (a.run_dir) : strdup (parent.folder);
      char *slash = runs && !a.run_dir ? strrchr (runs, '/') : NULL;
      if (slash != NULL)
        *slash = '\0';
      char *made = runs ? run_folder_create (runs[0] ? runs : "/", &err) : NULL;
      free (runs);
      /* named as `runs` lists it, and as a fork's run.json names its parent */
      run_folder = made ? realpath (made, NULL) : NULL;
      if (made != NULL && run_folder == NULL)
        hn_error_set (&err, "%s: %s", made, strerror (errno));
      free (made);
      if (run_folder == NULL)
        {
          model_free (init);
          dataset_free (ds);
          run_info_clear (&parent);
          return cli_fail ("%s", err.message);
        }
      fprintf (stderr, "run folder: %s\n", run_folder);
      a.config.run_dir = run_folder;
      a.config.fork_of = a.fork;
      a.config.data_folder = a.data;
      a.config.synthetic = a.data ? 0 : a.synthetic;
    }

  const char *from = a.resume ? a.resume : a.fork;
  HnTrainer *t = from ? trainer_resume (from, &a.config, ds, &err)
                      : trainer_new (&a.config, ds, init, NULL, &err);
  if (t != NULL && a.fork)
    apply_fork_changes (t, &a);
  if (t == NULL || !trainer_start (t, &err))
    {
      trainer_free (t);
      if (run_folder != NULL)
        run_folder_remove_unstarted (run_folder); /* nothing to list */
      dataset_free (ds);
      free (run_folder);
      run_info_clear (&parent);
      return cli_fail ("%s", err.message);
    }

  struct sigaction sa = { .sa_handler = on_sigint };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);

  Progress p = { .tty = isatty (STDERR_FILENO) };
  progress_init (&p.progress, a.config.epochs, a.config.batch);
  progress_set_budget (&p.progress, a.config.clock_start, a.config.time_budget);
  Outcome out = { 0 };
  const double started = hn_seconds ();
  follow (t, &p, &out);
  end_line (&p);
  out.seconds = hn_seconds () - started;

  char *model = NULL;
  status = save_results (t, &a, run_folder, &out, &model);
  if (a.json)
    print_summary (&a, ds, &out, run_folder, model);
  trainer_free (t);
  dataset_free (ds);
  free (model);
  free (run_folder);
  run_info_clear (&parent);
  return status;
}
