#include "optimizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "nametable.h"
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
  int k = name_index (names, OPTIMIZER_ADAMW + 1, name);
  if (k >= 0)
    *kind = (HnOptimizerKind) k;
  return k >= 0;
}

HnOptimizerConfig
optimizer_defaults (HnOptimizerKind kind, float lr)
{
  return (HnOptimizerConfig) {
    .kind = kind,
    .lr = lr,
    .momentum = 0.0f,
    .weight_decay = kind == OPTIMIZER_ADAMW ? 0.01f : 0.0f,
    .decay_all = true,
    .beta1 = 0.9f,
    .beta2 = 0.999f,
    .eps = 1e-8f,
  };
}

/* n zeros, starting on a cache line as the parameter and gradient blocks do (the guard's
 * sample below reads whole lines); NULL when out of memory. */
static float *
zeroed_lines (size_t n)
{
  const size_t bytes = (n * sizeof (float) + 63) & ~(size_t) 63;
  float *p = aligned_alloc (64, bytes ? bytes : 64);
  if (p != NULL)
    memset (p, 0, bytes);
  return p;
}

HnOptimizer *
optimizer_new (const HnOptimizerConfig *config, size_t n)
{
  HnOptimizer *opt = calloc (1, sizeof *opt);
  if (opt == NULL)
    return NULL;
  opt->config = *config;
  opt->n = n;
  opt->m = zeroed_lines (n);
  opt->v = config->kind == OPTIMIZER_SGD ? NULL : zeroed_lines (n);
  const HnDecayRange all = { 0, n, true };
  if (opt->m == NULL || (config->kind != OPTIMIZER_SGD && opt->v == NULL)
      || !optimizer_set_decay_ranges (opt, &all, 1))
    {
      optimizer_free (opt);
      return NULL;
    }
  return opt;
}

bool
optimizer_set_decay_ranges (HnOptimizer *opt, const HnDecayRange *ranges, int n_ranges)
{
  HN_ASSERT (n_ranges >= 1 && ranges[0].begin == 0 && ranges[n_ranges - 1].end == opt->n);
  for (int i = 1; i < n_ranges; i++)
    HN_ASSERT (ranges[i].begin == ranges[i - 1].end);
  HnDecayRange *copy = malloc (sizeof *copy * (size_t) n_ranges);
  if (copy == NULL)
    return false;
  memcpy (copy, ranges, sizeof *copy * (size_t) n_ranges);
  free (opt->ranges);
  opt->ranges = copy;
  opt->n_ranges = n_ranges;
  return true;
}

bool
optimizer_decay_weights_only (HnOptimizer *opt, const HnParamTable *table)
{
  HnDecayRange *ranges = malloc (sizeof *ranges * (size_t) (table->n + 1));
  int n = 0;
  if (ranges == NULL)
    return false;
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      if (tensor_role_kind (t->role) != TENSOR_PARAM)
        continue;
      bool decay = t->role == ROLE_CONV_WEIGHT || t->role == ROLE_LINEAR_WEIGHT;
      if (n > 0 && ranges[n - 1].decay == decay && ranges[n - 1].end == t->offset)
        ranges[n - 1].end = t->offset + t->numel;
      else
        ranges[n++] = (HnDecayRange) { t->offset, t->offset + t->numel, decay };
    }
  bool ok = optimizer_set_decay_ranges (opt, ranges, n);
  free (ranges);
  return ok;
}

void
optimizer_free (HnOptimizer *opt)
{
  if (opt == NULL)
    return;
  free (opt->m);
  free (opt->v);
  free (opt->ranges);
  free (opt);
}

/* The update rules below are written as one branch-free loop per case, over restrict
 * pointers, so that GCC vectorizes them at -O2 (a test inside the loop, such as "is this
 * AdamW", kept them scalar: GCC 12 unswitches loops only at -O3). Each loop does exactly
 * the float operations of the rule, so the results are the same bits either way. */

/* torch.optim.SGD (dampening 0):
 *   g ← g + wd·p;  b ← g on the first step, else μ·b + g;
 *   p ← p − lr·b, or with Nesterov p ← p − lr·(g + μ·b) */
static void
sgd_step (HnOptimizer *opt, float *restrict p, const float *restrict grads, size_t begin,
          size_t end, float wd)
{
  const float lr = opt->config.lr, mu = opt->config.momentum;
  float *restrict b = opt->m;
  if (mu == 0.0f)
    for (size_t i = begin; i < end; i++)
      p[i] -= lr * (grads[i] + wd * p[i]);
  else if (opt->config.nesterov)
    for (size_t i = begin; i < end; i++)
      {
        const float g = grads[i] + wd * p[i];
        b[i] = opt->step == 1 ? g : mu * b[i] + g;
        p[i] -= lr * (g + mu * b[i]);
      }
  else if (opt->step == 1)
    for (size_t i = begin; i < end; i++)
      {
        b[i] = grads[i] + wd * p[i];
        p[i] -= lr * b[i];
      }
  else
    for (size_t i = begin; i < end; i++)
      {
        b[i] = mu * b[i] + (grads[i] + wd * p[i]);
        p[i] -= lr * b[i];
      }
}

/* Adam's constants at step t (1-based): the bias corrections folded into the step size. */
typedef struct
{
  float beta1, beta2, one_minus_beta1, one_minus_beta2, step_size, bc2_sqrt, eps;
} AdamRule;

static AdamRule
adam_rule (const HnOptimizerConfig *c, int64_t t)
{
  return (AdamRule) {
    .beta1 = c->beta1,
    .beta2 = c->beta2,
    .one_minus_beta1 = 1.0f - c->beta1,
    .one_minus_beta2 = 1.0f - c->beta2,
    .step_size = c->lr / (float) (1.0 - pow (c->beta1, (double) t)),
    .bc2_sqrt = (float) sqrt (1.0 - pow (c->beta2, (double) t)),
    .eps = c->eps,
  };
}

/* The step taken from the moments m and v (already updated with this step's gradient). */
static inline float
adam_delta (const AdamRule *r, float m, float v)
{
  return r->step_size * m / (sqrtf (v) / r->bc2_sqrt + r->eps);
}

/* torch.optim.Adam / AdamW (no amsgrad), step t:
 *   Adam:  g ← g + wd·p          AdamW: p ← p·(1 − lr·wd)
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε) */
static void
adam_step (HnOptimizer *opt, float *restrict p, const float *restrict grads, size_t begin,
           size_t end, float wd)
{
  const HnOptimizerConfig *c = &opt->config;
  const AdamRule r = adam_rule (c, opt->step);
  float *restrict m = opt->m, *restrict v = opt->v;
  if (c->kind == OPTIMIZER_ADAMW)
    {
      const float decay = 1.0f - c->lr * wd;
      for (size_t i = begin; i < end; i++)
        {
          const float g = grads[i];
          p[i] *= decay;
          m[i] = r.beta1 * m[i] + r.one_minus_beta1 * g;
          v[i] = r.beta2 * v[i] + r.one_minus_beta2 * g * g;
          p[i] -= adam_delta (&r, m[i], v[i]);
        }
    }
  else
    {
      for (size_t i = begin; i < end; i++)
        {
          const float g = grads[i] + wd * p[i];
          m[i] = r.beta1 * m[i] + r.one_minus_beta1 * g;
          v[i] = r.beta2 * v[i] + r.one_minus_beta2 * g * g;
          p[i] -= adam_delta (&r, m[i], v[i]);
        }
    }
}

/* The guard's sample: RATIO_RUN consecutive coordinates out of every RATIO_STRIDE (each
 * run starts on a cache line). The guard asks whether the update is anywhere near the size
 * of the weights (normal steps are a few percent of it), which a 1-in-16 sample of 11 million
 * coordinates answers with room to spare. Runs of 1 KB per array let the prefetcher stream
 * them: with 64-byte runs every one was a cache miss in four arrays, and the sample cost 80%
 * of a full optimizer step.
 * The runs are summed in RATIO_CHUNKS fixed chunks, on the pool, and the chunks' sums in
 * order, so the ratio does not depend on the thread count. */
#define RATIO_RUN 256
#define RATIO_STRIDE 4096
#define RATIO_CHUNKS 16

/* d2[k] = Δp² and w2[k] = p² at coordinate i0 + k of the next step, without taking it, for
 * k < n ≤ RATIO_RUN: element-wise, so that it vectorizes; the caller sums them. r is Adam's
 * rule for that step. */
static void
run_squares (const HnOptimizer *opt, const AdamRule *r, const float *restrict p,
             const float *restrict grads, size_t i0, int n, float decay, double *restrict d2,
             double *restrict w2)
{
  const HnOptimizerConfig *c = &opt->config;
  const float *restrict m = opt->m + i0, *restrict v = opt->v ? opt->v + i0 : NULL;
  const float wd = c->kind == OPTIMIZER_ADAMW ? 0.0f : decay;
  p += i0, grads += i0;
  if (c->kind == OPTIMIZER_SGD)
    {
      const float mu = opt->step == 0 ? 0.0f : c->momentum; /* the buffer starts at g */
      for (int k = 0; k < n; k++)
        {
          const float g = grads[k] + wd * p[k], b = mu * m[k] + g;
          const float d = c->lr * (c->nesterov ? g + c->momentum * b : b);
          d2[k] = (double) d * d;
          w2[k] = (double) p[k] * p[k];
        }
      return;
    }
  const float decoupled = c->kind == OPTIMIZER_ADAMW ? c->lr * decay : 0.0f;
  for (int k = 0; k < n; k++)
    {
      const float g = grads[k] + wd * p[k];
      const float mk = r->beta1 * m[k] + r->one_minus_beta1 * g;
      const float vk = r->beta2 * v[k] + r->one_minus_beta2 * g * g;
      const float d = adam_delta (r, mk, vk) + decoupled * p[k];
      d2[k] = (double) d * d;
      w2[k] = (double) p[k] * p[k];
    }
}

/* The index of the decay range holding coordinate i. */
static int
range_at (const HnOptimizer *opt, size_t i)
{
  int lo = 0, hi = opt->n_ranges - 1;
  while (lo < hi)
    {
      int mid = (lo + hi + 1) / 2;
      if (opt->ranges[mid].begin <= i)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}

/* The weight decay of range r. */
static float
range_decay (const HnOptimizer *opt, int r)
{
  return opt->ranges[r].decay ? opt->config.weight_decay : 0.0f;
}

typedef struct
{
  const HnOptimizer *opt;
  AdamRule rule; /* of the next step */
  const float *params, *grads;
  size_t runs;
  double update[RATIO_CHUNKS], weights[RATIO_CHUNKS];
} RatioJob;

static void
ratio_part (void *ctx, size_t k0, size_t k1)
{
  RatioJob *j = ctx;
  const size_t n = j->opt->n;
  for (size_t k = k0; k < k1; k++)
    {
      double update = 0.0, weights = 0.0;
      for (size_t r = j->runs * k / RATIO_CHUNKS; r < j->runs * (k + 1) / RATIO_CHUNKS; r++)
        {
          const size_t i = r * RATIO_STRIDE;
          const int len = n - i < RATIO_RUN ? (int) (n - i) : RATIO_RUN;
          double d2[RATIO_RUN], w2[RATIO_RUN];
          /* a run may straddle two decay ranges: each part with its own decay */
          for (int done = 0, g = range_at (j->opt, i); done < len; g++)
            {
              const size_t end = j->opt->ranges[g].end;
              const int part = end - (i + done) < (size_t) (len - done) ? (int) (end - i - done)
                                                                        : len - done;
              run_squares (j->opt, &j->rule, j->params, j->grads, i + done, part,
                           range_decay (j->opt, g), d2 + done, w2 + done);
              done += part;
            }
          for (int e = 0; e < len; e++)
            {
              update += d2[e];
              weights += w2[e];
            }
        }
      j->update[k] = update;
      j->weights[k] = weights;
    }
}

double
optimizer_update_ratio (const HnOptimizer *opt, const float *p, const float *grads)
{
  RatioJob j = { .opt = opt, .rule = adam_rule (&opt->config, opt->step + 1), .params = p,
                 .grads = grads, .runs = (opt->n + RATIO_STRIDE - 1) / RATIO_STRIDE };
  parallel_for (RATIO_CHUNKS, 1, ratio_part, &j);
  double update = 0.0, weights = 0.0;
  for (int k = 0; k < RATIO_CHUNKS; k++)
    {
      update += j.update[k];
      weights += j.weights[k];
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
  for (int g = range_at (j->opt, begin); begin < end; g++)
    {
      const size_t stop = j->opt->ranges[g].end < end ? j->opt->ranges[g].end : end;
      const float wd = range_decay (j->opt, g);
      if (j->opt->config.kind == OPTIMIZER_SGD)
        sgd_step (j->opt, j->params, j->grads, begin, stop, wd);
      else
        adam_step (j->opt, j->params, j->grads, begin, stop, wd);
      begin = stop;
    }
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
