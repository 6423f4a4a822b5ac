#include "losses.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "error.h"
#include "nametable.h"

static const char *const age_loss_names[] = { "l1", "mse", "huber" };
static const char *const age_loss_titles[] = { "L1", "MSE", "Huber" };

const char *
age_loss_name (HnAgeLoss kind)
{
  HN_ASSERT (kind >= AGE_LOSS_L1 && kind <= AGE_LOSS_HUBER);
  return age_loss_names[kind];
}

const char *
age_loss_title (HnAgeLoss kind)
{
  HN_ASSERT (kind >= AGE_LOSS_L1 && kind <= AGE_LOSS_HUBER);
  return age_loss_titles[kind];
}

bool
age_loss_from_name (const char *name, HnAgeLoss *kind)
{
  int k = name_index (age_loss_names, AGE_LOSS_HUBER + 1, name);
  if (k >= 0)
    *kind = (HnAgeLoss) k;
  return k >= 0;
}

float
age_loss_forward (HnAgeLoss kind, const float *pred, const float *target, int n)
{
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    {
      double d = (double) pred[i] - target[i];
      switch (kind)
        {
        case AGE_LOSS_L1:
          sum += fabs (d);
          break;
        case AGE_LOSS_MSE:
          sum += d * d;
          break;
        case AGE_LOSS_HUBER:
          sum += fabs (d) < 1.0 ? 0.5 * d * d : fabs (d) - 0.5;
          break;
        }
    }
  return (float) (sum / n);
}

void
age_loss_backward (HnAgeLoss kind, float *dpred, const float *pred, const float *target, int n,
                   float scale)
{
  const float s = scale / (float) n;
  for (int i = 0; i < n; i++)
    {
      float d = pred[i] - target[i];
      float sign = (float) ((d > 0.0f) - (d < 0.0f));
      switch (kind)
        {
        case AGE_LOSS_L1:
          dpred[i] += s * sign;
          break;
        case AGE_LOSS_MSE:
          dpred[i] += s * 2.0f * d;
          break;
        case AGE_LOSS_HUBER:
          dpred[i] += s * (fabsf (d) < 1.0f ? d : sign);
          break;
        }
    }
}

float
bce_logits_forward (const float *logit, const float *target, int n)
{
  double sum = 0.0;
  for (int i = 0; i < n; i++)
    {
      double x = logit[i];
      sum += fmax (x, 0.0) - x * target[i] + log1p (exp (-fabs (x)));
    }
  return (float) (sum / n);
}

void
bce_logits_backward (float *dlogit, const float *logit, const float *target, int n, float scale)
{
  /* d/dx = σ(x) − y */
  for (int i = 0; i < n; i++)
    {
      double sigma = 1.0 / (1.0 + exp (-(double) logit[i]));
      dlogit[i] += (float) (scale * (sigma - target[i]) / n);
    }
}

/* log Σ_k exp(x_k) for sample j of class-major logits, shifted by the max for stability. */
static double
logsumexp (const float *logits, int k, int n, int j, double *max_out)
{
  double mx = logits[j];
  for (int c = 1; c < k; c++)
    mx = fmax (mx, logits[(size_t) c * n + j]);
  double sum = 0.0;
  for (int c = 0; c < k; c++)
    sum += exp (logits[(size_t) c * n + j] - mx);
  *max_out = mx;
  return mx + log (sum);
}

float
cross_entropy_smoothed_forward (const float *logits, const int32_t *target, int k, int n,
                                float eps)
{
  double total = 0.0;
  for (int j = 0; j < n; j++)
    {
      HN_ASSERT (target[j] >= 0 && target[j] < k);
      double mx;
      double loss = logsumexp (logits, k, n, j, &mx);
      if (eps == 0.0f)
        loss -= logits[(size_t) target[j] * n + j];
      else
        {
          double sum = 0.0;
          for (int c = 0; c < k; c++)
            sum += logits[(size_t) c * n + j];
          loss -= (1.0 - eps) * logits[(size_t) target[j] * n + j] + eps * sum / k;
        }
      total += loss;
    }
  return (float) (total / n);
}

void
cross_entropy_smoothed_backward (float *dlogits, const float *logits, const int32_t *target,
                                 int k, int n, float eps, float scale)
{
  const double on = 1.0 - eps, off = (double) eps / k;
  for (int j = 0; j < n; j++)
    {
      double mx;
      double lse = logsumexp (logits, k, n, j, &mx);
      for (int c = 0; c < k; c++)
        {
          double p = exp (logits[(size_t) c * n + j] - lse);
          double y = eps == 0.0f ? (c == target[j]) : on * (c == target[j]) + off;
          dlogits[(size_t) c * n + j] += (float) (scale * (p - y) / n);
        }
    }
}

float
cross_entropy_forward (const float *logits, const int32_t *target, int k, int n)
{
  return cross_entropy_smoothed_forward (logits, target, k, n, 0.0f);
}

void
cross_entropy_backward (float *dlogits, const float *logits, const int32_t *target, int k, int n,
                        float scale)
{
  cross_entropy_smoothed_backward (dlogits, logits, target, k, n, 0.0f, scale);
}
