/* guard.h — the trainer's guard: a step that would wreck the weights is not applied.
 *
 * Three checks, cheapest first: a loss (raw or weighted) that is NaN or infinite; a total
 * loss GUARD_EXPLODE times its recent average (once GUARD_WARMUP steps have passed since the
 * last settings change, which may rescale the loss legitimately); and an update ‖Δp‖ / ‖p‖
 * above GUARD_UPDATE, or gradients that are not finite. A refused step is reported in words
 * that name the head and the step; training then pauses, and the last checkpoint is the way
 * back.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

#define GUARD_WARMUP 5      /* steps after a change before the explosion test applies */
#define GUARD_EXPLODE 100.0 /* a loss this many times its recent average has exploded */
#define GUARD_UPDATE 1.0    /* an update as large as all the weights is not a step */

typedef struct
{
  double loss_avg;        /* the recent total loss: a plain mean at first, then an EMA */
  int steps_since_change;
} HnGuard;

/* After a settings change: the loss scale may jump, so the average starts again. */
void guard_reset (HnGuard *g);

/* Before the backward pass. step is the number the step would have (1-based). */
bool guard_check_loss (const HnGuard *g, const HnLossReport *r, int64_t step, char *why, int len);

/* Before the update. ratio: the optimizer's ‖Δp‖ / ‖p‖ estimate; grad_norm_sum: the heads'
 * gradient norms at the shared feature, through which every trunk gradient passes, so a
 * non-finite one shows there in full and not only in the ratio's sample. */
bool guard_check_update (double ratio, double grad_norm_sum, float lr, int64_t step, char *why,
                         int len);

/* After an applied step. */
void guard_observe (HnGuard *g, const HnLossReport *r);
