/* runmeta.h — what a checkpoint says about the run that made it: the one metadata schema.
 *
 * safetensors metadata is a map of string to string. checkpoint_save writes the model's own
 * keys; a run (the CLI's or the studio's) adds the ones below, all through run_meta_format,
 * and everything that reads them goes through run_meta_read:
 *
 *   key                 value                                  present
 *   format              "hydranet-1"                           always (checkpoint.h)
 *   backbone            "resnet18" | "resnet34"                always
 *   input_size          the side S of the input, "32" … "128"  always
 *   mean, std           "[0.485, 0.456, 0.406]", …             always
 *   source              "hydranet-cli 0.1.0", "HydraNet Studio 0.1.0"
 *   train.step          optimizer steps done                   after training
 *   train.epoch         epochs done
 *   train.batch_index   the next batch in the epoch
 *   train.seed          initialisation, shuffling, augmentation
 *   train.history       JSON: [{"step": S, "setting": "w_age", "value": V}, …], every
 *                       live change, pause, resume and rollback in order
 *   loss.age_loss       "l1" | "mse" | "huber"                 the settings in force
 *   loss.w_age, loss.w_gender, loss.w_race
 *   loss.smoothing      label smoothing of gender and race (absent: 0)
 *   loss.balance        the balancing method (balance.h; absent: manual), whose state is
 *                       in PATH.optim as balance.state
 *   optim.kind          "sgd" | "adam" | "adamw"               resumable checkpoints, whose
 *   optim.lr, optim.momentum, optim.weight_decay, optim.step   moments are in PATH.optim;
 *                       optim.lr is the schedule's base rate
 *   optim.nesterov, optim.decay_all   "1" | "0" (absent: 0 and 1, torch.optim's defaults)
 *   schedule.kind       "constant" | "step" | "cosine" | "onecycle" (schedule.h), with
 *   schedule.warmup, schedule.gamma, schedule.div, schedule.final_div, and
 *   train.lr_scale      the live learning-rate control's factor on the schedule
 *   train.schedule_done the share of the schedule done at the last step, in [0, 1]
 *   train.ema_decay     > 0 when the weights of PATH are a moving average (ema.h); the
 *                       weights trained on are then in PATH.optim
 *   val.n, val.age_mae, val.gender_acc, val.race_acc           the last validation
 *
 * The model's own keys (checkpoint.h) also include age_mean and age_std when its age head is
 * standardised (model_set_age_scale): its output is then age_mean + age_std · z.
 *
 * Numbers are written in C notation with enough digits to read back the same float. Models
 * saved by the studio before this schema said train.w_age, train.w_gender, train.w_race and
 * train.age_loss; they are read as the loss.* keys.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "model.h"
#include "optimizer.h"
#include "safetensors.h"
#include "schedule.h"

typedef struct
{
  const char *source;         /* NULL: not written / not in the file */

  bool has_progress;          /* train.step, train.epoch and train.batch_index */
  int64_t step;
  int epoch, batch_index;
  uint64_t seed;
  const char *history;        /* JSON text; NULL: none */

  bool has_loss;              /* every loss.* key */
  HnLossConfig loss;

  bool has_optimizer;         /* every optim.* key but the two optional ones */
  HnOptimizerConfig optimizer;
  int64_t optimizer_step;

  bool has_schedule;          /* schedule.kind */
  HnSchedule schedule;
  float lr_scale;             /* 1 when absent */
  float schedule_done;        /* 0 when absent */
  float ema_decay;            /* 0 when absent */

  int val_n;                  /* 0: unknown */
  double val_age_mae, val_gender_acc, val_race_acc; /* NaN: unknown */
} HnRunMeta;

/* Reads every key above that is present; a group with a key missing is left out (has_*
 * false), and so is a value the old studio left empty. A value that is there but malformed
 * or out of range is an error naming the key. Strings point into st. */
bool run_meta_read (const HnSafetensors *st, HnRunMeta *meta, HnError *err);

#define RUN_META_MAX 40

/* The entries to write for meta, for checkpoint_save's extra metadata. */
typedef struct
{
  StMeta items[RUN_META_MAX];
  int n;
  char text[RUN_META_MAX][32]; /* the formatted numbers the items point to */
} HnMetaList;

void run_meta_format (const HnRunMeta *meta, HnMetaList *out);
