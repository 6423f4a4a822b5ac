/* losses.h — the three heads' losses, each mean-reduced over the batch as PyTorch's defaults.
 *
 * Every loss has a forward that returns its value and a backward that accumulates
 * `scale · dL/dinput` — the scale is the head's loss weight, so the weighted sum of the
 * losses is differentiated without ever forming it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum
{
  AGE_LOSS_L1,
  AGE_LOSS_MSE,
  AGE_LOSS_HUBER, /* SmoothL1 with beta 1 */
} HnAgeLoss;

const char *age_loss_name (HnAgeLoss kind);  /* "l1", "mse", "huber": files and options */
const char *age_loss_title (HnAgeLoss kind); /* "L1", "MSE", "Huber": for people */
bool age_loss_from_name (const char *name, HnAgeLoss *kind);

/* pred (N), target (N) */
float age_loss_forward (HnAgeLoss kind, const float *pred, const float *target, int n);
void age_loss_backward (HnAgeLoss kind, float *dpred, const float *pred, const float *target,
                        int n, float scale);

/* Binary cross-entropy on logits, in the stable form max(x,0) − x·y + log(1 + e^−|x|).
 * logit (N), target (N) in {0, 1}. */
float bce_logits_forward (const float *logit, const float *target, int n);
void bce_logits_backward (float *dlogit, const float *logit, const float *target, int n,
                          float scale);

/* Softmax cross-entropy. logits (K, N) class-major, as the heads produce them;
 * target (N) class indices in [0, K). */
float cross_entropy_forward (const float *logits, const int32_t *target, int k, int n);
void cross_entropy_backward (float *dlogits, const float *logits, const int32_t *target, int k,
                             int n, float scale);

/* The same against smoothed labels, as PyTorch's label_smoothing: the target distribution is
 * (1 − eps)·onehot + eps/K, so loss_j = logsumexp(x) − (1 − eps)·x_t − (eps/K)·Σ_c x_c and
 * d/dx_c = softmax(x)_c − (1 − eps)·[c = t] − eps/K. eps = 0 is the plain loss, bit for bit.
 * (Binary cross-entropy takes soft targets as they are: y(1 − eps) + eps/2.) */
float cross_entropy_smoothed_forward (const float *logits, const int32_t *target, int k, int n,
                                      float eps);
void cross_entropy_smoothed_backward (float *dlogits, const float *logits, const int32_t *target,
                                      int k, int n, float eps, float scale);
