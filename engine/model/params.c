#include "params.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

HnTensorKind
tensor_role_kind (HnTensorRole role)
{
  switch (role)
    {
    case ROLE_BN_MEAN:
    case ROLE_BN_VAR:
      return TENSOR_BUFFER;
    case ROLE_BN_COUNT:
      return TENSOR_COUNT;
    default:
      return TENSOR_PARAM;
    }
}

size_t
param_table_add (HnParamTable *table, HnTensorRole role, const char *name, int ndim,
                 const int *shape)
{
  HN_ASSERT (ndim >= 0 && ndim <= 4 && strlen (name) < PARAM_NAME_MAX);
  if (table->n == table->capacity)
    {
      table->capacity = table->capacity ? 2 * table->capacity : 64;
      table->items = realloc (table->items, sizeof *table->items * table->capacity);
      HN_ASSERT (table->items != NULL);
    }
  HnTensorInfo *t = &table->items[table->n++];
  *t = (HnTensorInfo) { .role = role, .ndim = ndim, .numel = 1 };
  strcpy (t->name, name);
  for (int i = 0; i < ndim; i++)
    {
      t->shape[i] = shape[i];
      t->numel *= (size_t) shape[i];
    }
  size_t *block = tensor_role_kind (role) == TENSOR_PARAM    ? &table->n_params
                  : tensor_role_kind (role) == TENSOR_BUFFER ? &table->n_buffers
                                                             : &table->n_counts;
  t->offset = *block;
  *block += t->numel;
  return t->offset;
}

const HnTensorInfo *
param_table_find (const HnParamTable *table, const char *name)
{
  for (int i = 0; i < table->n; i++)
    if (strcmp (table->items[i].name, name) == 0)
      return &table->items[i];
  return NULL;
}

void
param_table_clear (HnParamTable *table)
{
  free (table->items);
  *table = (HnParamTable) { 0 };
}

/* (OC, C, KK) in PyTorch's order ↔ (OC, KK, C) in the engine's, KK = KH·KW. src is read
 * with memcpy: a checkpoint's tensor data need not be aligned for float. */
static void
conv_relayout (const HnTensorInfo *t, float *dst, const void *src, bool to_torch)
{
  const size_t oc = t->shape[0], c = t->shape[1], kk = (size_t) t->shape[2] * t->shape[3];
  const char *bytes = src;
  for (size_t o = 0; o < oc; o++)
    for (size_t k = 0; k < kk; k++)
      for (size_t i = 0; i < c; i++)
        {
          const size_t torch = (o * c + i) * kk + k, engine = (o * kk + k) * c + i;
          if (to_torch)
            memcpy (dst + torch, bytes + engine * sizeof (float), sizeof (float));
          else
            memcpy (dst + engine, bytes + torch * sizeof (float), sizeof (float));
        }
}

static void
tensor_relayout (const HnTensorInfo *t, float *dst, const void *src, bool to_torch)
{
  if (t->role == ROLE_CONV_WEIGHT)
    conv_relayout (t, dst, src, to_torch);
  else
    memcpy (dst, src, t->numel * sizeof (float));
}

void
tensor_from_torch (const HnTensorInfo *t, float *dst, const void *src)
{
  tensor_relayout (t, dst, src, false);
}

void
tensor_to_torch (const HnTensorInfo *t, float *dst, const float *src)
{
  tensor_relayout (t, dst, src, true);
}

static void
params_relayout (const HnParamTable *table, float *dst, const void *src, bool to_torch)
{
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      if (tensor_role_kind (t->role) == TENSOR_PARAM)
        tensor_relayout (t, dst + t->offset, (const char *) src + t->offset * sizeof (float),
                         to_torch);
    }
}

void
params_from_torch (const HnParamTable *table, float *dst, const void *src)
{
  params_relayout (table, dst, src, false);
}

void
params_to_torch (const HnParamTable *table, float *dst, const float *src)
{
  params_relayout (table, dst, src, true);
}
