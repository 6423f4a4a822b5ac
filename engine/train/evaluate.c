#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The outputs of one batch, as model_infer lays them out, and the scratch it needs. */
typedef struct
{
  float *age, *gender, *race, *mirrored;
} Outputs;

static bool
outputs_alloc (Outputs *o, int batch, int size, bool flip)
{
  o->age = malloc (sizeof (float) * batch);
  o->gender = malloc (sizeof (float) * batch);
  o->race = malloc (sizeof (float) * N_RACES * batch);
  o->mirrored = flip ? malloc (sizeof (float) * 3 * size * size * batch) : NULL;
  return o->age && o->gender && o->race && (!flip || o->mirrored);
}

static void
outputs_free (Outputs *o)
{
  free (o->age);
  free (o->gender);
  free (o->race);
  free (o->mirrored);
}

bool
evaluate (HnModel *model, HnBatcher *batches, HnAgeLoss age_loss, bool flip, HnEvalResult *out)
{
  memset (out, 0, sizeof *out);
  Outputs o;
  if (!outputs_alloc (&o, batcher_batch_size (batches), batcher_image_size (batches), flip))
    {
      outputs_free (&o);
      return false;
    }
  double abs_sum = 0, sq_sum = 0, loss_sum[N_HEADS] = { 0 };
  int gender_right = 0, race_right = 0;
  for (int k = 0; k < batcher_batches_per_epoch (batches); k++)
    {
      const HnBatch *b = batcher_get (batches, 0, k);
      model_infer (model, b->x, b->n, flip, o.mirrored, o.age, o.gender, o.race);
      /* per-batch means, weighted back into sums */
      loss_sum[HEAD_AGE] += (double) age_loss_forward (age_loss, o.age, b->age, b->n) * b->n;
      loss_sum[HEAD_GENDER] += (double) bce_logits_forward (o.gender, b->gender, b->n) * b->n;
      loss_sum[HEAD_RACE]
          += (double) cross_entropy_forward (o.race, b->race, N_RACES, b->n) * b->n;
      for (int i = 0; i < b->n; i++)
        {
          double d = (double) o.age[i] - b->age[i];
          abs_sum += fabs (d);
          sq_sum += d * d;
          gender_right += (o.gender[i] > 0.0f) == (b->gender[i] > 0.5f);
          HnPrediction p;
          model_prediction_of (o.age, o.gender, o.race, b->n, i, &p);
          race_right += p.race == b->race[i];
          out->race_confusion[b->race[i]][p.race]++;
        }
      out->n += b->n;
    }
  outputs_free (&o);
  if (out->n == 0)
    return true;
  out->age_mae = abs_sum / out->n;
  out->age_rmse = sqrt (sq_sum / out->n);
  out->gender_acc = (double) gender_right / out->n;
  out->race_acc = (double) race_right / out->n;
  for (int h = 0; h < N_HEADS; h++)
    out->loss[h] = loss_sum[h] / out->n;
  return true;
}
