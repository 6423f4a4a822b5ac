/* params.h — the parameter table: one {name, shape, offset} entry per tensor.
 *
 * All trainable parameters live in one flat float block, their gradients in a second block of
 * the same size, and the batch-norm running statistics in a third; the batch-norm batch
 * counters (PyTorch's int64 num_batches_tracked) in a small fourth. Zeroing the gradients is
 * one memset and an optimizer step is one loop. Checkpoint I/O, initialisation, the optimizer
 * and the tests all walk this same table, and its names are the checkpoint's tensor names —
 * PyTorch's state_dict keys, in state_dict order.
 */
#pragma once

#include <stddef.h>

typedef enum
{
  ROLE_CONV_WEIGHT,   /* (OC, C, KH, KW)  parameter, stored (OC, KH, KW, C): see below */
  ROLE_BN_WEIGHT,     /* (C)  γ, parameter */
  ROLE_BN_BIAS,       /* (C)  β, parameter */
  ROLE_BN_MEAN,       /* (C)  running mean, buffer */
  ROLE_BN_VAR,        /* (C)  running variance, buffer */
  ROLE_BN_COUNT,      /* ()   num_batches_tracked, int64 counter */
  ROLE_LINEAR_WEIGHT, /* (OUT, IN)  parameter */
  ROLE_LINEAR_BIAS,   /* (OUT)  parameter */
} HnTensorRole;

typedef enum
{
  TENSOR_PARAM,  /* trainable: offset into params and grads */
  TENSOR_BUFFER, /* float state: offset into buffers */
  TENSOR_COUNT,  /* int64 state: offset into counts */
} HnTensorKind;

#define PARAM_NAME_MAX 64

typedef struct
{
  char name[PARAM_NAME_MAX];
  HnTensorRole role;
  int ndim;
  int shape[4];
  size_t numel;
  size_t offset;
} HnTensorInfo;

typedef struct
{
  HnTensorInfo *items;
  int n, capacity;
  size_t n_params, n_buffers, n_counts; /* sizes of the four blocks */
} HnParamTable;

HnTensorKind tensor_role_kind (HnTensorRole role);

/* Appends an entry and returns its offset in the block its role belongs to. */
size_t param_table_add (HnParamTable *table, HnTensorRole role, const char *name, int ndim,
                        const int *shape);

const HnTensorInfo *param_table_find (const HnParamTable *table, const char *name);

void param_table_clear (HnParamTable *table);

/* The shapes above are PyTorch's, and so is the layout of every tensor in a checkpoint, but
 * inside the engine a convolution's weights (and their gradients and optimizer moments) are
 * stored (OC, KH, KW, C): then each kernel tap's (OC, C) matrix is a GEMM operand in place,
 * a row stride of KH·KW·C apart (conv2d.h), instead of a copy strided out of every filter.
 * These convert one tensor, or the whole parameter block (n_params floats: the parameters,
 * gradients or moments), between the two; other tensors are copied as they are. dst and src
 * must not overlap; the src of the two from_torch need not be aligned (a checkpoint's data). */
void tensor_from_torch (const HnTensorInfo *t, float *dst, const void *src);
void tensor_to_torch (const HnTensorInfo *t, float *dst, const float *src);
void params_from_torch (const HnParamTable *table, float *dst, const void *src);
void params_to_torch (const HnParamTable *table, float *dst, const float *src);
