#include "budget.h"

void
budget_start (HnBudget *b, double deadline, double now, int batches, double extra_ratio)
{
  *b = (HnBudget) { .deadline = deadline, .start = now, .batches = batches,
                    .extra_ratio = extra_ratio, .extra = -1, .plain = 0 };
}

void
budget_step (HnBudget *b, double seconds)
{
  b->train_seconds += seconds;
  b->steps++;
}

void
budget_epoch_end (HnBudget *b, double seconds, bool validated)
{
  b->end_seconds += seconds;
  if (validated) /* the dearer kind, as the last end is */
    b->extra = seconds;
  else
    b->plain = seconds;
}

double
budget_progress (const HnBudget *b)
{
  if (b->steps == 0)
    return b->deadline > b->start ? 0.0 : 1.0;
  /* an epoch's training time at the speed so far, and what its end takes */
  const double epoch = b->train_seconds / b->steps * b->batches;
  const double extra = b->extra >= 0 ? b->extra : b->extra_ratio * epoch + b->plain;
  /* R + extra·R/epoch = the time left, less the last end: R is the training still to fit */
  const double now = b->start + b->train_seconds + b->end_seconds;
  const double left = (b->deadline - now - extra) / (1.0 + extra / epoch);
  if (left <= 0)
    return 1.0;
  return b->train_seconds / (b->train_seconds + left);
}
