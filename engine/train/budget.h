/* budget.h — a run that must end by a deadline, and how far through its time it is.
 *
 * With a time budget the run is sized by the clock, not by its epochs: the schedule's
 * progress is the share of the training time done, and training stops when none is left.
 * The training time left is the time left, less the validations and checkpoints at each
 * epoch's end still to come and one more at the very end: an end's cost measured once an
 * epoch has ended, estimated before that. What has passed counts as it was measured, so a
 * slow stretch (the machine shared for a while) is not forgotten when the ends get faster.
 * A step's speed drifts, so the estimate is taken again at every step.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct
{
  double deadline;      /* hn_seconds () by which everything has ended; 0: no budget */
  double start;         /* when training began */
  double train_seconds; /* spent in step cycles (a step and what follows it) */
  double end_seconds;   /* spent in epochs' ends */
  int64_t steps;        /* taken since start */
  int batches;          /* steps per epoch */
  double extra_ratio;   /* an epoch's end against an epoch's training, until measured */
  double extra;         /* seconds a validating end took, once measured (< 0: not yet) */
  double plain;         /* seconds an end without validation took (the checkpoint), or 0 */
} HnBudget;

void budget_start (HnBudget *b, double deadline, double now, int batches, double extra_ratio);
void budget_step (HnBudget *b, double seconds);
/* An epoch's end took seconds. One that validated sets the estimate of the ends to come
 * (reserving that much for each end that will not validate errs on the safe side); until
 * one has, the guess from extra_ratio is topped up with what an end without one took. */
void budget_epoch_end (HnBudget *b, double seconds, bool validated);

/* The share of the training time done, in [0, 1]; 1: stop. */
double budget_progress (const HnBudget *b);
