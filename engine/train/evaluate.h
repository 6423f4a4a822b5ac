/* evaluate.h — the model's quality on a set of images, in eval mode. */
#pragma once

#include <stdbool.h>

#include "batches.h"
#include "losses.h"
#include "model.h"

typedef struct
{
  int n;
  double age_mae, age_rmse;  /* years */
  double gender_acc;         /* in [0, 1] */
  double race_acc;
  int race_confusion[N_RACES][N_RACES]; /* [true][predicted] */
  double loss[N_HEADS];      /* age (with the given kind, in years), gender BCE, race CE — means */
  double trained[N_HEADS];   /* the same as training weighs them: the age in the model's own
                              * units (standard deviations when it is standardised) */
} HnEvalResult;

/* Runs every batch of `batches` (built without shuffling or augmentation) through the model
 * in eval mode; with flip, each image's outputs are averaged with its mirror's (test-time
 * augmentation, model_infer). The model must be planned for the batcher's batch size. False
 * only when out of memory. */
bool evaluate (HnModel *model, HnBatcher *batches, HnAgeLoss age_loss, bool flip,
               HnEvalResult *out);

/* weight · the loss trained on, per head; returns their sum: the validation on the scale of
 * the training losses it is plotted beside. */
float eval_weighted (const HnEvalResult *r, const HnLossConfig *loss, float weighted[N_HEADS]);
