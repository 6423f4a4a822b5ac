#include "progress.h"

#include "clock.h"

void
progress_init (HnProgress *p, int epochs, int batch_size)
{
  *p = (HnProgress) { .epochs = epochs, .batch_size = batch_size };
}

void
progress_set_budget (HnProgress *p, double clock_start, double time_budget)
{
  if (time_budget <= 0)
    return;
  p->deadline = clock_start + time_budget;
  p->epochs = 0;
}

void
progress_step (HnProgress *p, const HnEvent *e)
{
  if (e->kind != EVENT_STEP)
    return;
  const HnStepEvent *s = &e->train;
  p->step = e->step;
  p->epoch = e->epoch;
  p->batches = s->batches;
  p->fraction = (s->batch_index + 1.0) / (s->batches > 0 ? s->batches : 1);
  if (s->images > p->batch_size)
    p->batch_size = s->images;
  p->img_per_s = p->img_per_s > 0 ? 0.9 * p->img_per_s + 0.1 * s->img_per_s : s->img_per_s;
}

void
progress_epoch (HnProgress *p, int epochs_done)
{
  p->epoch = epochs_done;
  p->fraction = 0;
}

double
progress_eta (const HnProgress *p)
{
  if (p->deadline > 0)
    {
      double left = p->deadline - hn_seconds ();
      return left > 0 ? left : 0;
    }
  if (p->img_per_s <= 0 || p->batches <= 0)
    return -1;
  double steps_left = (p->epochs - p->epoch - p->fraction) * p->batches;
  return (steps_left > 0 ? steps_left : 0) * p->batch_size / p->img_per_s;
}
