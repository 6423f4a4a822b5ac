#include "evaluate.h"

#include <math.h>
#include <string.h>

void
evaluate (HnModel *model, HnBatcher *batches, HnAgeLoss age_loss, HnEvalResult *out)
{
  memset (out, 0, sizeof *out);
  double abs_sum = 0, sq_sum = 0, loss_sum[N_HEADS] = { 0 };
  int gender_right = 0, race_right = 0;
  for (int k = 0; k < batcher_batches_per_epoch (batches); k++)
    {
      const HnBatch *b = batcher_get (batches, 0, k);
      model_forward (model, b->x, b->n, false);
      const float *age = model_output (model, HEAD_AGE);
      const float *gender = model_output (model, HEAD_GENDER);
      /* per-batch means, weighted back into sums */
      loss_sum[HEAD_AGE] += (double) age_loss_forward (age_loss, age, b->age, b->n) * b->n;
      loss_sum[HEAD_GENDER] += (double) bce_logits_forward (gender, b->gender, b->n) * b->n;
      loss_sum[HEAD_RACE] += (double) cross_entropy_forward (model_output (model, HEAD_RACE),
                                                             b->race, N_RACES, b->n) * b->n;
      for (int i = 0; i < b->n; i++)
        {
          double d = (double) age[i] - b->age[i];
          abs_sum += fabs (d);
          sq_sum += d * d;
          gender_right += (gender[i] > 0.0f) == (b->gender[i] > 0.5f);
          HnPrediction p;
          model_prediction (model, i, &p);
          race_right += p.race == b->race[i];
          out->race_confusion[b->race[i]][p.race]++;
        }
      out->n += b->n;
    }
  if (out->n == 0)
    return;
  out->age_mae = abs_sum / out->n;
  out->age_rmse = sqrt (sq_sum / out->n);
  out->gender_acc = (double) gender_right / out->n;
  out->race_acc = (double) race_right / out->n;
  for (int h = 0; h < N_HEADS; h++)
    out->loss[h] = loss_sum[h] / out->n;
}
