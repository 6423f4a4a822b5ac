/* config.h — what a training run is: model, data, optimizer, losses, and the presets.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "batches.h"
#include "model.h"
#include "optimizer.h"

typedef struct
{
  HnBackbone backbone;
  int size;       /* input side; must equal the data set's */
  int batch;
  int epochs;     /* stop after this many (counting those a resumed run already did) */
  int val_percent;
  uint64_t seed;  /* initialisation, shuffling, augmentation */
  HnAugment augment;
  HnOptimizerConfig optimizer;
  HnLossConfig loss;
  const char *checkpoint_path; /* autosave at each epoch's end; NULL: none */
  const char *records_path;    /* every event as a row of CSV (records.h), appended to when
                                * the run resumes; NULL: none */
  const char *source;          /* who trains, for the checkpoints ("hydranet-cli 0.1.0") */
  int event_capacity;          /* step events held for a slow consumer; 0: 4096 */
} HnTrainConfig;

/* The article's setup (ResNet-18, 32×32, SGD lr 1e-4 momentum 0.09 — as printed —,
 * L1 + BCE + CE, weights 1/1/1, batch 64) and the studio's default, which learns visibly
 * within minutes on two cores (Adam lr 1e-3, flips, 10 epochs). */
HnTrainConfig train_preset_tutorial (void);
HnTrainConfig train_preset_studio (void);
bool train_preset_from_name (const char *name, HnTrainConfig *config);

/* "none" or a comma-separated list of flip, crop, color. */
bool augment_from_names (const char *names, HnAugment *augment);
