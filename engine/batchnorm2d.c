#include "batchnorm2d.h"

#include <math.h>

void
batchnorm2d_forward_train (float *y, float *mean, float *invstd, float *running_mean,
                           float *running_var, const float *x, const float *gamma,
                           const float *beta, int c, size_t m)
{
  for (int ch = 0; ch < c; ch++)
    {
      const float *xc = x + (size_t) ch * m;
      float *yc = y + (size_t) ch * m;
      /* Two passes in double: the one-pass E[x²] − E[x]² loses everything when the mean is
       * large against the spread. */
      double sum = 0.0;
      for (size_t i = 0; i < m; i++)
        sum += xc[i];
      double mu = sum / (double) m;
      double ss = 0.0;
      for (size_t i = 0; i < m; i++)
        {
          double d = xc[i] - mu;
          ss += d * d;
        }
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
batchnorm2d_forward_eval (float *y, const float *x, const float *gamma, const float *beta,
                          const float *running_mean, const float *running_var, int c, size_t m)
{
  for (int ch = 0; ch < c; ch++)
    {
      float a = gamma[ch] / sqrtf (running_var[ch] + BN_EPS);
      float b = beta[ch] - running_mean[ch] * a;
      const float *xc = x + (size_t) ch * m;
      float *yc = y + (size_t) ch * m;
      for (size_t i = 0; i < m; i++)
        yc[i] = xc[i] * a + b;
    }
}

/* With x̂ = (x − μ)·σ⁻¹ and y = γ·x̂ + β, over the M values of one channel:
 *   dβ = Σ dy,   dγ = Σ dy·x̂,
 *   dx = γ·σ⁻¹ · (dy − dβ/M − x̂·dγ/M)
 * (the two subtracted terms are the gradient flowing through μ and through σ). */
void
batchnorm2d_backward (float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                      const float *mean, const float *invstd, const float *gamma, int c,
                      size_t m)
{
  for (int ch = 0; ch < c; ch++)
    {
      const float *xc = x + (size_t) ch * m;
      const float *dyc = dy + (size_t) ch * m;
      float *dxc = dx + (size_t) ch * m;
      const float mu = mean[ch], is = invstd[ch];
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (size_t i = 0; i < m; i++)
        {
          sum_dy += dyc[i];
          sum_dy_xhat += dyc[i] * ((xc[i] - mu) * is);
        }
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
