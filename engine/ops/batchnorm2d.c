#include "batchnorm2d.h"

#include <math.h>

#include "parallel.h"

/* Channels are independent, so each function cuts them into one range per thread; a
 * channel's sums are always taken by one thread in one order, whatever the thread count. */
typedef struct
{
  float *y, *mean, *invstd, *running_mean, *running_var, *dx, *dgamma, *dbeta;
  const float *x, *dy, *gamma, *beta, *cmean, *cinvstd, *cvar;
  size_t m;
} BnJob;


/* The channel sums are taken in double over LANES independent partial sums, added in a
 * fixed order at the end: LANES short dependency chains (which the compiler also vectorizes)
 * instead of one as long as the channel, and the same result on any thread. */
#define LANES 8

static double
add_lanes (const double *lane)
{
  double total = 0.0;
  for (int l = 0; l < LANES; l++)
    total += lane[l];
  return total;
}

static double
sum_of (const float *x, size_t m)
{
  double lane[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= m; i += LANES)
    for (int l = 0; l < LANES; l++)
      lane[l] += x[i + l];
  for (; i < m; i++)
    lane[i % LANES] += x[i];
  return add_lanes (lane);
}

/* Σ (x − mu)² */
static double
squared_deviations (const float *x, size_t m, double mu)
{
  double lane[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= m; i += LANES)
    for (int l = 0; l < LANES; l++)
      {
        const double d = x[i + l] - mu;
        lane[l] += d * d;
      }
  for (; i < m; i++)
    {
      const double d = x[i] - mu;
      lane[i % LANES] += d * d;
    }
  return add_lanes (lane);
}

/* Σ dy and Σ dy·x̂, x̂ = (x − mu)·is */
static void
backward_sums (const float *dy, const float *x, size_t m, float mu, float is, double *sum_dy,
               double *sum_dy_xhat)
{
  double a[LANES] = { 0 }, b[LANES] = { 0 };
  size_t i = 0;
  for (; i + LANES <= m; i += LANES)
    for (int l = 0; l < LANES; l++)
      {
        a[l] += dy[i + l];
        b[l] += dy[i + l] * ((x[i + l] - mu) * is);
      }
  for (; i < m; i++)
    {
      a[i % LANES] += dy[i];
      b[i % LANES] += dy[i] * ((x[i] - mu) * is);
    }
  *sum_dy = add_lanes (a);
  *sum_dy_xhat = add_lanes (b);
}

static void
forward_train_part (void *ctx, size_t begin, size_t end)
{
  const BnJob *j = ctx;
  float *y = j->y, *mean = j->mean, *invstd = j->invstd;
  float *running_mean = j->running_mean, *running_var = j->running_var;
  const float *x = j->x, *gamma = j->gamma, *beta = j->beta;
  const size_t m = j->m;
  for (size_t ch = begin; ch < end; ch++)
    {
      const float *xc = x + (size_t) ch * m;
      float *yc = y + (size_t) ch * m;
      /* Two passes in double: the one-pass E[x²] − E[x]² loses everything when the mean is
       * large against the spread. */
      double mu = sum_of (xc, m) / (double) m;
      double ss = squared_deviations (xc, m, mu);
      double var = ss / (double) m;
      float is = (float) (1.0 / sqrt (var + BN_EPS));
      mean[ch] = (float) mu;
      invstd[ch] = is;
      double unbiased = m > 1 ? ss / (double) (m - 1) : var;
      running_mean[ch] = (1.0f - BN_MOMENTUM) * running_mean[ch] + BN_MOMENTUM * (float) mu;
      running_var[ch] = (1.0f - BN_MOMENTUM) * running_var[ch] + BN_MOMENTUM * (float) unbiased;
      /* y = a·x + b with a = γ·invstd, b = β − mean·a */
      float a = gamma[ch] * is;
      float b = beta[ch] - (float) mu * a;
      for (size_t i = 0; i < m; i++)
        yc[i] = xc[i] * a + b;
    }
}

void
batchnorm2d_forward_train (float *y, float *mean, float *invstd, float *running_mean,
                           float *running_var, const float *x, const float *gamma,
                           const float *beta, int c, size_t m)
{
  BnJob j = { .y = y, .mean = mean, .invstd = invstd, .running_mean = running_mean,
              .running_var = running_var, .x = x, .gamma = gamma, .beta = beta, .m = m };
  parallel_for ((size_t) c, parallel_grain (m), forward_train_part, &j);
}

static void
forward_eval_part (void *ctx, size_t begin, size_t end)
{
  const BnJob *j = ctx;
  const size_t m = j->m;
  for (size_t ch = begin; ch < end; ch++)
    {
      float a = j->gamma[ch] / sqrtf (j->cvar[ch] + BN_EPS);
      float b = j->beta[ch] - j->cmean[ch] * a;
      const float *xc = j->x + ch * m;
      float *yc = j->y + ch * m;
      for (size_t i = 0; i < m; i++)
        yc[i] = xc[i] * a + b;
    }
}

void
batchnorm2d_forward_eval (float *y, const float *x, const float *gamma, const float *beta,
                          const float *running_mean, const float *running_var, int c, size_t m)
{
  BnJob j = { .y = y, .x = x, .gamma = gamma, .beta = beta, .cmean = running_mean,
              .cvar = running_var, .m = m };
  parallel_for ((size_t) c, parallel_grain (m), forward_eval_part, &j);
}

/* With x̂ = (x − μ)·σ⁻¹ and y = γ·x̂ + β, over the M values of one channel:
 *   dβ = Σ dy,   dγ = Σ dy·x̂,
 *   dx = γ·σ⁻¹ · (dy − dβ/M − x̂·dγ/M)
 * (the two subtracted terms are the gradient flowing through μ and through σ). */
static void
backward_part (void *ctx, size_t begin, size_t end)
{
  const BnJob *j = ctx;
  float *dx = j->dx, *dgamma = j->dgamma, *dbeta = j->dbeta;
  const float *x = j->x, *dy = j->dy, *gamma = j->gamma, *mean = j->cmean, *invstd = j->cinvstd;
  const size_t m = j->m;
  for (size_t ch = begin; ch < end; ch++)
    {
      const float *xc = x + (size_t) ch * m;
      const float *dyc = dy + (size_t) ch * m;
      float *dxc = dx + (size_t) ch * m;
      const float mu = mean[ch], is = invstd[ch];
      double sum_dy, sum_dy_xhat;
      backward_sums (dyc, xc, m, mu, is, &sum_dy, &sum_dy_xhat);
      dbeta[ch] += (float) sum_dy;
      dgamma[ch] += (float) sum_dy_xhat;
      const float k = gamma[ch] * is;
      const float mean_dy = (float) (sum_dy / (double) m);
      const float mean_dy_xhat = (float) (sum_dy_xhat / (double) m);
      for (size_t i = 0; i < m; i++)
        {
          float xhat = (xc[i] - mu) * is;
          dxc[i] += k * (dyc[i] - mean_dy - xhat * mean_dy_xhat);
        }
    }
}

void
batchnorm2d_backward (float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                      const float *mean, const float *invstd, const float *gamma, int c,
                      size_t m)
{
  BnJob j = { .dx = dx, .dgamma = dgamma, .dbeta = dbeta, .x = x, .dy = dy, .gamma = gamma,
              .cmean = mean, .cinvstd = invstd, .m = m };
  parallel_for ((size_t) c, parallel_grain (m), backward_part, &j);
}

void
batchnorm2d_forward_ref (double *y, const double *x, const double *gamma, const double *beta,
                         int c, size_t m)
{
  for (int ch = 0; ch < c; ch++)
    {
      const double *xc = x + (size_t) ch * m;
      double mu = 0.0, var = 0.0;
      for (size_t i = 0; i < m; i++)
        mu += xc[i];
      mu /= (double) m;
      for (size_t i = 0; i < m; i++)
        var += (xc[i] - mu) * (xc[i] - mu);
      var /= (double) m;
      for (size_t i = 0; i < m; i++)
        y[(size_t) ch * m + i] = gamma[ch] * (xc[i] - mu) / sqrt (var + BN_EPS) + beta[ch];
    }
}
