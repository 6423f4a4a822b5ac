/* test-runs.h — short real training runs for the trainer's suites: a dozen random 32×32
 * images with labels that vary, a config that trains them in three steps an epoch, and a
 * loop that follows a run to its end. */
#pragma once

#include "dataset.h"
#include "trainer.h"

#define TINY_IMAGES 12
#define TINY_SIZE 32

HnDataset *tiny_dataset (void); /* split keys 0, 37, 74, …: val_percent picks which */
void free_tiny (HnDataset *ds);

/* The studio preset on the tiny set: no validation, batches of 4, 2 epochs, SGD lr 0.01,
 * no augmentation, seed 3. */
HnTrainConfig tiny_config (void);

/* Polls until the run ends (any state but running and paused); keeps its first `cap` step
 * events in steps (steps and n_steps may be NULL with cap 0). Returns the end state. */
HnTrainerState collect_steps (HnTrainer *t, HnEvent *steps, int *n_steps, int cap);
