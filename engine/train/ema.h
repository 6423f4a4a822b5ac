/* ema.h — an exponential moving average of a model's weights, for validation, prediction and
 * the saved model: it smooths the last steps' noise out of the weights, which is worth a
 * little accuracy at no cost in training.
 *
 * After each step, avg ← d·avg + (1 − d)·w with d = min(decay, (1 + k)/(10 + k)) at the k-th
 * update (TensorFlow's ExponentialMovingAverage given num_updates): early on the average follows the weights
 * closely. The batch-norm running statistics are averaged the same way; the batch counters
 * are the model's.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

typedef struct
{
  float decay;
  int64_t updates;
  float *params;  /* (n_params) in the engine's layout, as the model's block */
  float *buffers; /* (n_buffers) */
} HnEma;

/* Starts the average at the model's weights. False when out of memory. */
bool ema_init (HnEma *ema, float decay, HnModel *model);
void ema_clear (HnEma *ema);

void ema_update (HnEma *ema, HnModel *model);

/* Exchanges the model's weights and running statistics with the average: done twice, it puts
 * everything back. */
void ema_swap (HnEma *ema, HnModel *model);
