/* optimizer.h — SGD with momentum, Adam and AdamW, each with PyTorch's exact update rule,
 * over the model's flat parameter block (one loop for the whole network).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "params.h"

typedef enum
{
  OPTIMIZER_SGD,
  OPTIMIZER_ADAM,
  OPTIMIZER_ADAMW,
} HnOptimizerKind;

const char *optimizer_name (HnOptimizerKind kind); /* "sgd", "adam", "adamw" */
bool optimizer_from_name (const char *name, HnOptimizerKind *kind);

typedef struct
{
  HnOptimizerKind kind;
  float lr;
  float momentum;     /* SGD */
  bool nesterov;      /* SGD: Nesterov momentum */
  float weight_decay; /* L2 added to the gradient (SGD, Adam); decoupled (AdamW) */
  bool decay_all;     /* weight decay on every parameter (torch.optim's one group); false:
                       * only on convolution and linear weights, none on batch-norm
                       * parameters and biases (the usual second parameter group) */
  float beta1, beta2, eps;
} HnOptimizerConfig;

/* PyTorch's defaults for the kind: SGD momentum 0, Adam(W) betas (0.9, 0.999), eps 1e-8,
 * AdamW weight decay 0.01. */
HnOptimizerConfig optimizer_defaults (HnOptimizerKind kind, float lr);

/* A run of coordinates [begin, end) and whether weight decay applies to it. */
typedef struct
{
  size_t begin, end;
  bool decay;
} HnDecayRange;

typedef struct
{
  HnOptimizerConfig config;
  size_t n;
  int64_t step;   /* steps taken */
  float *m;       /* (n) SGD momentum buffer, or Adam's first moment */
  float *v;       /* (n) Adam's second moment; NULL for SGD */
  HnDecayRange *ranges; /* covering [0, n) in order: where decay applies */
  int n_ranges;
} HnOptimizer;

/* NULL when out of memory. The state starts empty, as a fresh torch.optim instance. Weight
 * decay applies everywhere until optimizer_set_decay_ranges says otherwise. */
HnOptimizer *optimizer_new (const HnOptimizerConfig *config, size_t n);

/* Where weight decay applies: ranges cover [0, n) in order (copied). False when out of memory. */
bool optimizer_set_decay_ranges (HnOptimizer *opt, const HnDecayRange *ranges, int n_ranges);

/* The usual parameter groups: decay on the convolution and linear weights of table, none on
 * batch-norm parameters and biases. False when out of memory. */
bool optimizer_decay_weights_only (HnOptimizer *opt, const HnParamTable *table);
void optimizer_free (HnOptimizer *opt);

/* What the next optimizer_step would do, without doing it: ‖Δp‖ / ‖p‖, the size of the
 * update against the weights, estimated on a regular sample of the coordinates (NaN or ∞
 * when the sampled gradients are not finite). Read-only — the trainer's guard against a
 * step that would wreck the weights. */
double optimizer_update_ratio (const HnOptimizer *opt, const float *params, const float *grads);

/* One update of params (n) from grads (n). The config may change between steps (a live
 * learning-rate change); the state carries over. */
void optimizer_step (HnOptimizer *opt, float *params, const float *grads);
