#include "params.h"

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
