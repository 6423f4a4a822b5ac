/* model.h — the tutorial's HydraNet: a torchvision ResNet trunk and three heads.
 *
 *   x (N,3,S,S) ─ conv 7×7/2 ─ BN ─ ReLU ─ maxpool 3×3/2 ─ layer1…layer4 ─ avgpool ─ f (512,N)
 *   f ─ fc1: Linear 512→512 ─ ReLU ─ Linear 512→1   age in years
 *   f ─ fc2: Linear 512→512 ─ ReLU ─ Linear 512→1   logit of P(female)
 *   f ─ fc3: Linear 512→512 ─ ReLU ─ Linear 512→5   race logits
 *
 * Inside, every activation is channel-major (C, N, H, W) so each convolution over the batch is
 * one GEMM (see conv2d.h). The model owns four flat blocks (params.h) and, once planned for a
 * batch size and input size, an arena holding every activation and scratch buffer.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "balance.h"
#include "error.h"
#include "labels.h"
#include "losses.h"
#include "params.h"

typedef enum
{
  BACKBONE_RESNET18,
  BACKBONE_RESNET34,
} HnBackbone;

const char *backbone_name (HnBackbone backbone); /* "resnet18", "resnet34" */
bool backbone_from_name (const char *name, HnBackbone *backbone);

enum
{
  HEAD_AGE,
  HEAD_GENDER,
  HEAD_RACE,
  N_HEADS
};

#define FEATURES 512
#define MODEL_MIN_SIZE 16
#define MODEL_MAX_SIZE 512

typedef struct HnModel HnModel;

/* A model with PyTorch's default initialisation drawn from `seed`: convolutions
 * kaiming-normal (fan_out, ReLU), BN γ=1 β=0, running mean 0 / var 1, linear layers
 * uniform(±1/√fan_in). NULL when out of memory. */
HnModel *model_new (HnBackbone backbone, uint64_t seed);
void model_free (HnModel *model);

/* Everything that makes dst predict as src does: parameters, running statistics, counters and
 * the age scale. Both of one backbone. */
void model_copy_weights (HnModel *dst, const HnModel *src);

HnBackbone model_backbone (const HnModel *model);
const HnParamTable *model_params (const HnModel *model);

/* The four blocks the table's offsets point into. */
float *model_param_data (HnModel *model);   /* (n_params) */
float *model_grad_data (HnModel *model);    /* (n_params) */
float *model_buffer_data (HnModel *model);  /* (n_buffers) */
int64_t *model_count_data (HnModel *model); /* (n_counts) */

/* Lays out activations for batches of up to `batch` images of size×size. Needed before
 * forward; cheap to call again with the same or smaller sizes. */
bool model_plan (HnModel *model, int batch, int size, HnError *err);

/* x (N, 3, S, S) as preprocessed images; n ≤ the planned batch, S the planned size.
 * Train mode uses batch statistics and updates the running ones; eval mode uses them. */
void model_forward (HnModel *model, const float *x, int n, bool training);

/* Outputs of the last forward, class-major: age (N) in years, gender logit (N), race logits
 * (5, N). */
const float *model_output (const HnModel *model, int head);

/* The age standardised inside the model: its head predicts z = (age − mean) / std, the
 * model's age output is mean + std·z, and the age loss trains on z — so its gradient has the
 * scale of the other heads' whatever the spread of the ages, while losses and errors are
 * still given in years. mean 0, std 1 (a new model's) is the plain head. Checkpoints keep the
 * two numbers (checkpoint.h). */
void model_set_age_scale (HnModel *model, float mean, float std);
void model_get_age_scale (const HnModel *model, float *mean, float *std);

typedef struct
{
  const float *age;    /* (N) years */
  const float *gender; /* (N) 0 male, 1 female */
  const int32_t *race; /* (N) 0…4 */
} HnTargets;

typedef struct
{
  HnAgeLoss age_loss;
  float weight[N_HEADS]; /* w_age, w_gender, w_race */
  float smoothing;       /* label smoothing of the gender and race targets, in [0, 1) */
  HnBalance balance;     /* who sets the weights: the user (manual) or a method (balance.h) */
} HnLossConfig;

typedef struct
{
  float raw[N_HEADS];      /* each head's loss; the age loss in years */
  float weighted[N_HEADS]; /* weight · the loss trained on (the age's in standard deviations
                            * when the age is standardised) */
  float total;             /* Σ weighted */
} HnLossReport;

/* Losses of the last forward against targets; also seeds the backward pass with each head's
 * output gradient scaled by its weight. */
HnLossReport model_loss (HnModel *model, const HnTargets *targets, const HnLossConfig *config);

void model_zero_grad (HnModel *model);

/* Accumulates into the gradient block, from the gradients model_loss left on the outputs.
 * The heads' gradients meet at the shared 512-d feature, already weighted. */
void model_backward (HnModel *model);

/* The same in two halves, for a method that weighs the heads' gradients at the feature itself
 * (balance.h): after model_loss with unit weights, the heads' backward — each head's own
 * gradients, and the one it sends into the trunk (model_head_feature_grad), unweighted — then
 * the trunk's from Σ wₕ·gₕ; with weigh_heads, each head's own gradients are scaled by wₕ too
 * (a weighted sum of losses), without, they stay unweighted (a gradient method's weights are
 * the trunk's, as in LibMTL). weight NULL: the gradients are weighted already
 * (model_backward). */
void model_backward_heads (HnModel *model);
void model_backward_trunk (HnModel *model, const float weight[N_HEADS], bool weigh_heads);

/* The gradient head h sent into the trunk in the last backward: (512, N). */
const float *model_head_feature_grad (const HnModel *model, int head);

typedef struct
{
  float age;
  float p_female;
  float race_probs[N_RACES];
  int race;
} HnPrediction;

/* Sample i of the last forward, turned into what a person reads. */
void model_prediction (const HnModel *model, int i, HnPrediction *out);

/* Eval-mode outputs for x (N, 3, S, S), laid out as model_output's: age (N) in years, gender
 * (N) logits, race (5, N) logits. With flip, each image's are averaged with its mirror's
 * (test-time augmentation): the ages, and the probabilities, given back as the logit and the
 * log-probabilities of the averages; scratch then holds N·3·S·S floats (NULL otherwise). */
void model_infer (HnModel *model, const float *x, int n, bool flip, float *scratch, float *age,
                  float *gender, float *race);

/* Sample i of outputs laid out as model_infer's (n samples), turned into what a person reads. */
void model_prediction_of (const float *age, const float *gender, const float *race, int n, int i,
                          HnPrediction *out);
