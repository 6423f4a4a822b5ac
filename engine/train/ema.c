#include "ema.h"

#include <stdlib.h>
#include <string.h>

#include "parallel.h"

static float *
copy_of (const float *src, size_t n)
{
  float *p = aligned_alloc (64, ((n ? n : 1) * sizeof (float) + 63) & ~(size_t) 63);
  if (p != NULL)
    memcpy (p, src, n * sizeof (float));
  return p;
}

bool
ema_init (HnEma *ema, float decay, HnModel *model)
{
  const HnParamTable *table = model_params (model);
  *ema = (HnEma) { .decay = decay };
  ema->params = copy_of (model_param_data (model), table->n_params);
  ema->buffers = copy_of (model_buffer_data (model), table->n_buffers);
  if (ema->params == NULL || ema->buffers == NULL)
    {
      ema_clear (ema);
      return false;
    }
  return true;
}

void
ema_clear (HnEma *ema)
{
  free (ema->params);
  free (ema->buffers);
  *ema = (HnEma) { 0 };
}

typedef struct
{
  float *avg;
  const float *w;
  float d;
} Blend;

static void
blend_part (void *ctx, size_t begin, size_t end)
{
  const Blend *b = ctx;
  float *restrict avg = b->avg;
  const float *restrict w = b->w;
  const float d = b->d, e = 1.0f - b->d;
  for (size_t i = begin; i < end; i++)
    avg[i] = d * avg[i] + e * w[i];
}

static void
blend (float *avg, const float *w, size_t n, float d)
{
  Blend b = { avg, w, d };
  parallel_for (n, parallel_grain (1), blend_part, &b);
}

void
ema_update (HnEma *ema, HnModel *model)
{
  const HnParamTable *table = model_params (model);
  const double k = (double) ema->updates++;
  const float d = (float) ((1 + k) / (10 + k) < ema->decay ? (1 + k) / (10 + k) : ema->decay);
  blend (ema->params, model_param_data (model), table->n_params, d);
  blend (ema->buffers, model_buffer_data (model), table->n_buffers, d);
}

static void
exchange (float *a, float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float t = a[i];
      a[i] = b[i];
      b[i] = t;
    }
}

void
ema_swap (HnEma *ema, HnModel *model)
{
  const HnParamTable *table = model_params (model);
  exchange (ema->params, model_param_data (model), table->n_params);
  exchange (ema->buffers, model_buffer_data (model), table->n_buffers);
}
