#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The outputs of one batch, as model_infer lays them out, and the scratch it needs. */
typedef struct
{
  float *age, *gender, *race, *mirrored;
  float *age_z, *target_z; /* the ages in the model's own units, for the trained loss */
} Outputs;

static bool
outputs_alloc (Outputs *o, int batch, int size, bool flip)
{
  o->age = malloc (sizeof (float) * batch);
  o->gender = malloc (sizeof (float) * batch);
  o->race = malloc (sizeof (float) * N_RACES * batch);
  o->mirrored = flip ? malloc (sizeof (float) * 3 * size * size * batch) : NULL;
  o->age_z = malloc (sizeof (float) * batch);
  o->target_z = malloc (sizeof (float) * batch);
  return o->age && o->gender && o->race && (!flip || o->mirrored) && o->age_z && o->target_z;
}

static void
outputs_free (Outputs *o)
{
  free (o->age);
  free (o->gender);
  free (o->race);
  free (o->mirrored);
  free (o->age_z);
  free (o->target_z);
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
  float age_mean, age_std;
  model_get_age_scale (model, &age_mean, &age_std);
  double abs_sum = 0, sq_sum = 0, loss_sum[N_HEADS] = { 0 }, trained_age_sum = 0;
  int gender_right = 0, race_right = 0;
  for (int k = 0; k < batcher_batches_per_epoch (batches); k++)
    {
      const HnBatch *b = batcher_get (batches, 0, k);
      model_infer (model, b->x, b->n, flip, o.mirrored, o.age, o.gender, o.race);
      /* per-batch means, weighted back into sums */
      loss_sum[HEAD_AGE] += (double) age_loss_forward (age_loss, o.age, b->age, b->n) * b->n;
      for (int i = 0; i < b->n; i++)
        {
          o.age_z[i] = (o.age[i] - age_mean) / age_std;
          o.target_z[i] = (b->age[i] - age_mean) / age_std;
        }
      trained_age_sum += (double) age_loss_forward (age_loss, o.age_z, o.target_z, b->n) * b->n;
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
    out->loss[h] = out->trained[h] = loss_sum[h] / out->n;
  out->trained[HEAD_AGE] = trained_age_sum / out->n;
  return true;
}

float
eval_weighted (const HnEvalResult *r, const HnLossConfig *loss, float weighted[N_HEADS])
{
  float total = 0;
  for (int h = 0; h < N_HEADS; h++)
    {
      weighted[h] = loss->weight[h] * (float) r->trained[h];
      total += weighted[h];
    }
  return total;
}
