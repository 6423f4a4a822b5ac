/* config.h — what a training run is: model, data, optimizer, losses, and the presets.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "batches.h"
#include "model.h"
#include "optimizer.h"
#include "schedule.h"

#define VAL_AT_END INT_MAX

typedef struct
{
  HnBackbone backbone;
  int size;       /* input side; must equal the data set's */
  int batch;
  int epochs;     /* stop after this many (counting those a resumed run already did) */
  int val_percent;
  uint64_t seed;  /* initialisation, shuffling, augmentation */
  HnAugment augment;
  HnOptimizerConfig optimizer; /* its lr is the schedule's peak (its base) */
  HnSchedule schedule;
  HnLossConfig loss;
  bool standardize_age;        /* the age head learns the training split's standardised age
                                * (model_set_age_scale) */
  float ema_decay;             /* > 0: validation, prediction and the saved model use a moving
                                * average of the weights (ema.h) */
  bool tta;                    /* validation averages each image with its mirror */
  int val_every;               /* validate every this many epochs, and at the run's end;
                                * 0 or 1: at every epoch's end; VAL_AT_END: there only */
  double time_budget;          /* > 0: seconds from clock_start in which the run, validations
                                * and saving included, must end; the schedule spans what fits
                                * and epochs is only an upper bound */
  double clock_start;          /* hn_seconds () when the budget began (before loading) */
  const char *checkpoint_path; /* autosave at each epoch's end; NULL: none */
  const char *records_path;    /* every event as a row of CSV (records.h), appended to when
                                * the run resumes; NULL: none */
  const char *source;          /* who trains, for the checkpoints ("hydranet-cli 0.1.0") */
  int event_capacity;          /* step events held for a slow consumer; 0: 4096 */

  /* The run's own folder (runfolder.h), made by run_folder_create; NULL: none. When set, the
   * trainer keeps the run there — run.json, curves.csv, checkpoints/epoch-NNN.safetensors —
   * and checkpoint_path and records_path are not used. */
  const char *run_dir;
  const char *fork_of;         /* the checkpoint a forked run branched from (run.json's
                                * parent); NULL: a run of its own */
  /* What run.json says of the run, besides the settings above: */
  const char *preset;          /* the preset the settings started from; NULL: none */
  const char *data_folder;     /* the UTKFace folder trained on; NULL: synthetic faces, */
  int synthetic;               /* …this many (synth.h), */
  uint64_t synthetic_seed;     /* …drawn from this seed */
} HnTrainConfig;

/* The presets (README.md has what each reaches and how fast):
 *   tutorial  the article's setup: ResNet-18, 32×32, SGD lr 1e-4 momentum 0.09 (as printed),
 *             L1 + BCE + CE with weights 1/1/1, batch 64, 50 epochs
 *   studio    learns visibly within minutes on two cores: Adam lr 1e-3, flips, 10 epochs
 *   quick     the reference's quality as fast as possible
 *   quality   the best model within a time budget (--time-budget, 60 minutes by default) */
HnTrainConfig train_preset_tutorial (void);
HnTrainConfig train_preset_studio (void);
HnTrainConfig train_preset_quick (void);
HnTrainConfig train_preset_quality (void);
bool train_preset_from_name (const char *name, HnTrainConfig *config);

/* "tutorial", …: the names train_preset_from_name takes, in order, NULL-terminated. */
extern const char *const train_preset_names[];
