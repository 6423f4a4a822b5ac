#include "relu.h"

#include "parallel.h"

/* Elementwise, so each thread takes a contiguous range (parallel.h). */
typedef struct
{
  float *out;
  const float *in, *y;
} ReluJob;

static void
forward_part (void *ctx, size_t begin, size_t end)
{
  const ReluJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    j->out[i] = j->in[i] > 0.0f ? j->in[i] : 0.0f;
}

void
relu_forward (float *y, const float *x, size_t n)
{
  ReluJob j = { .out = y, .in = x };
  parallel_for (n, parallel_grain (1), forward_part, &j);
}

static void
mask_part (void *ctx, size_t begin, size_t end)
{
  const ReluJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    j->out[i] = j->y[i] > 0.0f ? j->out[i] : 0.0f;
}

static void
backward_part (void *ctx, size_t begin, size_t end)
{
  const ReluJob *j = ctx;
  for (size_t i = begin; i < end; i++)
    j->out[i] += j->y[i] > 0.0f ? j->in[i] : 0.0f;
}

void
relu_backward (float *dx, const float *dy, const float *y, size_t n)
{
  ReluJob j = { .out = dx, .in = dy, .y = y };
  parallel_for (n, parallel_grain (1), dx == dy ? mask_part : backward_part, &j);
}
