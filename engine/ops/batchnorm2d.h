/* batchnorm2d.h — batch normalisation over channel-major activations.
 *
 * x (C, M) where M = N·H·W: each channel is one contiguous run, so the statistics are a
 * single pass over memory. PyTorch semantics: train mode normalises with the batch mean and
 * the biased variance and updates the running statistics with momentum 0.1 using the
 * unbiased variance; eval mode uses the running statistics.
 */
#pragma once

#include <stddef.h>

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

/* y = γ·(x − mean)·invstd + β with batch statistics; caches mean (C) and invstd (C) for the
 * backward pass, and updates running_mean / running_var (C) in place. y may alias x. */
void batchnorm2d_forward_train (float *y,
                                float *mean,
                                float *invstd,
                                float *running_mean,
                                float *running_var,
                                const float *x,
                                const float *gamma,
                                const float *beta,
                                int c,
                                size_t m);

/* y = γ·(x − running_mean)/sqrt(running_var + eps) + β. y may alias x. */
void batchnorm2d_forward_eval (float *y,
                               const float *x,
                               const float *gamma,
                               const float *beta,
                               const float *running_mean,
                               const float *running_var,
                               int c,
                               size_t m);

/* Accumulates dx (C, M), dγ (C), dβ (C) from dy (C, M), using the forward's input x and its
 * cached mean and invstd (train mode). */
void batchnorm2d_backward (float *dx,
                           float *dgamma,
                           float *dbeta,
                           const float *dy,
                           const float *x,
                           const float *mean,
                           const float *invstd,
                           const float *gamma,
                           int c,
                           size_t m);

/* Train-mode forward in double, without running statistics: the gradient-check oracle. */
void batchnorm2d_forward_ref (double *y, const double *x, const double *gamma,
                              const double *beta, int c, size_t m);
