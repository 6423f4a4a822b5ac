#include "guard.h"

#include <math.h>
#include <stdio.h>

static const char *const head_names[N_HEADS] = { "age", "gender", "race" };

void
guard_reset (HnGuard *g)
{
  g->steps_since_change = 0;
}

bool
guard_check_loss (const HnGuard *g, const HnLossReport *r, int64_t step, char *why, int len)
{
  for (int h = 0; h < N_HEADS; h++)
    if (!isfinite (r->raw[h]) || !isfinite (r->weighted[h]))
      {
        float bad = isfinite (r->raw[h]) ? r->weighted[h] : r->raw[h];
        snprintf (why, (size_t) len, "the %s%s loss became %s at step %lld",
                  isfinite (r->raw[h]) ? "weighted " : "", head_names[h],
                  isnan (bad) ? "NaN" : "infinite", (long long) step);
        return false;
      }
  if (g->steps_since_change >= GUARD_WARMUP && r->total > GUARD_EXPLODE * g->loss_avg)
    {
      int worst = 0;
      for (int h = 1; h < N_HEADS; h++)
        if (r->weighted[h] > r->weighted[worst])
          worst = h;
      snprintf (why, (size_t) len, "the loss exploded at step %lld: %.4g, %.0f× its recent "
                                   "average (the %s loss is %.4g)", (long long) step, r->total,
                r->total / g->loss_avg, head_names[worst], r->raw[worst]);
      return false;
    }
  return true;
}

bool
guard_check_update (double ratio, double grad_norm_sum, float lr, int64_t step, char *why, int len)
{
  if (!isfinite (grad_norm_sum))
    ratio = grad_norm_sum;
  if (ratio <= GUARD_UPDATE) /* false for NaN too */
    return true;
  if (isfinite (ratio))
    snprintf (why, (size_t) len, "step %lld would change the weights by %.0f%% of their size "
                                 "(learning rate %.3g is too high)", (long long) step,
              100.0 * ratio, lr);
  else
    snprintf (why, (size_t) len, "the gradient became %s at step %lld",
              isnan (ratio) ? "NaN" : "infinite", (long long) step);
  return false;
}

void
guard_observe (HnGuard *g, const HnLossReport *r)
{
  g->steps_since_change++;
  double k = g->steps_since_change < 20 ? 1.0 / g->steps_since_change : 0.05;
  g->loss_avg = g->steps_since_change == 1 ? r->total : (1 - k) * g->loss_avg + k * r->total;
}
