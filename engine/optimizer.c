#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "parallel.h"

static const char *const names[] = { "sgd", "adam", "adamw" };

const char *
optimizer_name (HnOptimizerKind kind)
{
  HN_ASSERT (kind >= OPTIMIZER_SGD && kind <= OPTIMIZER_ADAMW);
  return names[kind];
}

bool
optimizer_from_name (const char *name, HnOptimizerKind *kind)
{
  for (int i = 0; i <= OPTIMIZER_ADAMW; i++)
    if (strcmp (name, names[i]) == 0)
      {
        *kind = (HnOptimizerKind) i;
        return true;
      }
  return false;
}

HnOptimizerConfig
optimizer_defaults (HnOptimizerKind kind, float lr)
{
  return (HnOptimizerConfig) {
    .kind = kind,
    .lr = lr,
    .momentum = 0.0f,
    .weight_decay = kind == OPTIMIZER_ADAMW ? 0.01f : 0.0f,
    .beta1 = 0.9f,
    .beta2 = 0.999f,
    .eps = 1e-8f,
  };
}

HnOptimizer *
optimizer_new (const HnOptimizerConfig *config, size_t n)
{
  HnOptimizer *opt = calloc (1, sizeof *opt);
  if (opt == NULL)
    return NULL;
  opt->config = *config;
  opt->n = n;
  opt->m = calloc (n, sizeof (float));
  opt->v = config->kind == OPTIMIZER_SGD ? NULL : calloc (n, sizeof (float));
  if (opt->m == NULL || (config->kind != OPTIMIZER_SGD && opt->v == NULL))
    {
      optimizer_free (opt);
      return NULL;
    }
  return opt;
}

void
optimizer_free (HnOptimizer *opt)
{
  if (opt == NULL)
    return;
  free (opt->m);
  free (opt->v);
  free (opt);
}

/* torch.optim.SGD (dampening 0, no Nesterov):
 *   g ← g + wd·p;  b ← g on the first step, else μ·b + g;  p ← p − lr·b */
static void
sgd_step (HnOptimizer *opt, float *p, const float *grads, size_t begin, size_t end)
{
  const HnOptimizerConfig *c = &opt->config;
  for (size_t i = begin; i < end; i++)
    {
      float g = grads[i] + c->weight_decay * p[i];
      if (c->momentum != 0.0f)
        {
          opt->m[i] = opt->step == 1 ? g : c->momentum * opt->m[i] + g;
          g = opt->m[i];
        }
      p[i] -= c->lr * g;
    }
}

/* torch.optim.Adam / AdamW (no amsgrad), step t:
 *   Adam:  g ← g + wd·p          AdamW: p ← p·(1 − lr·wd)
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε) */
static void
adam_step (HnOptimizer *opt, float *p, const float *grads, size_t begin, size_t end)
{
  const HnOptimizerConfig *c = &opt->config;
  const bool decoupled = c->kind == OPTIMIZER_ADAMW;
  const float bc1 = (float) (1.0 - pow (c->beta1, (double) opt->step));
  const float bc2_sqrt = (float) sqrt (1.0 - pow (c->beta2, (double) opt->step));
  const float step_size = c->lr / bc1;
  const float decay = 1.0f - c->lr * c->weight_decay;
  for (size_t i = begin; i < end; i++)
    {
      float g = grads[i];
      if (decoupled)
        p[i] *= decay;
      else
        g += c->weight_decay * p[i];
      opt->m[i] = c->beta1 * opt->m[i] + (1.0f - c->beta1) * g;
      opt->v[i] = c->beta2 * opt->v[i] + (1.0f - c->beta2) * g * g;
      float denom = sqrtf (opt->v[i]) / bc2_sqrt + c->eps;
      p[i] -= step_size * opt->m[i] / denom;
    }
}

/* Every RATIO_STRIDE-th coordinate: the guard asks whether the update is anywhere near the
 * size of the weights (normal steps are a few percent of it), which a 1-in-8 sample of 11
 * million coordinates answers with room to spare, at an eighth of a full pass's cost (a full
 * pass over parameters, gradients and both moments took 11% of a training step). */
#define RATIO_STRIDE 8

double
optimizer_update_ratio (const HnOptimizer *opt, const float *p, const float *grads)
{
  const HnOptimizerConfig *c = &opt->config;
  const int64_t t = opt->step + 1;
  const bool first = opt->step == 0, adam = c->kind != OPTIMIZER_SGD;
  const float step_size = (float) (c->lr / (1.0 - pow (c->beta1, (double) t)));
  const float bc2_sqrt = (float) sqrt (1.0 - pow (c->beta2, (double) t));
  double update = 0.0, weights = 0.0;
  for (size_t i = 0; i < opt->n; i += RATIO_STRIDE)
    {
      float g = grads[i], d;
      if (c->kind != OPTIMIZER_ADAMW)
        g += c->weight_decay * p[i];
      if (adam)
        {
          float m = c->beta1 * opt->m[i] + (1.0f - c->beta1) * g;
          float v = c->beta2 * opt->v[i] + (1.0f - c->beta2) * g * g;
          d = step_size * m / (sqrtf (v) / bc2_sqrt + c->eps);
          if (c->kind == OPTIMIZER_ADAMW)
            d += c->lr * c->weight_decay * p[i];
        }
      else
        d = c->lr * (c->momentum != 0.0f && !first ? c->momentum * opt->m[i] + g : g);
      update += (double) d * d;
      weights += (double) p[i] * p[i];
    }
  return sqrt (update) / sqrt (weights > 0.0 ? weights : 1.0);
}

typedef struct
{
  HnOptimizer *opt;
  float *params;
  const float *grads;
} StepJob;

static void
step_part (void *ctx, size_t begin, size_t end)
{
  StepJob *j = ctx;
  if (j->opt->config.kind == OPTIMIZER_SGD)
    sgd_step (j->opt, j->params, j->grads, begin, end);
  else
    adam_step (j->opt, j->params, j->grads, begin, end);
}

/* Every coordinate's update is independent: the parameters are cut into one range per
 * thread (the result does not depend on the cut). */
void
optimizer_step (HnOptimizer *opt, float *params, const float *grads)
{
  opt->step++;
  StepJob j = { opt, params, grads };
  parallel_for (opt->n, 1 << 16, step_part, &j);
}
