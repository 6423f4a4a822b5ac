#include "balance.h"

#include <math.h>
#include <string.h>

#include "error.h"
#include "nametable.h"

static const char *const names[N_BALANCE] = {
  "manual", "scale-invariant", "uncertainty", "famo", "mgda-ub", "imtl-g", "pcgrad", "rlw",
};
static const char *const titles[N_BALANCE] = {
  "Manual", "Scale-Invariant", "Uncertainty", "FAMO", "MGDA-UB", "IMTL-G", "PCGrad", "Random (RLW)",
};

const char *
balance_name (HnBalance method)
{
  HN_ASSERT (method >= 0 && method < N_BALANCE);
  return names[method];
}

const char *
balance_title (HnBalance method)
{
  HN_ASSERT (method >= 0 && method < N_BALANCE);
  return titles[method];
}

bool
balance_from_name (const char *name, HnBalance *method)
{
  int k = name_index (names, N_BALANCE, name);
  if (k >= 0)
    *method = (HnBalance) k;
  return k >= 0;
}

bool
balance_uses_gradients (HnBalance method)
{
  return method == BALANCE_MGDA_UB || method == BALANCE_IMTL_G || method == BALANCE_PCGRAD;
}

/* ---- starting ---- */

void
balance_start (HnBalanceState *s, HnBalance method, const float weight[BALANCE_HEADS])
{
  *s = (HnBalanceState) { 0 };
  for (int i = 0; i < BALANCE_HEADS; i++)
    {
      const double w = fmax (weight[i], 1e-6);
      s->base[i] = weight[i];
      if (method == BALANCE_UNCERTAINTY)
        s->param[i] = (float) -log (2 * w);
      else if (method == BALANCE_FAMO)
        s->param[i] = (float) log (w);
    }
}

/* ---- the loss-based methods ---- */

/* One step of torch.optim.Adam (β 0.9, 0.999, ε 10⁻⁸, L2 decay) on param from grad. */
static void
adam_step (HnBalanceState *s, const double grad[BALANCE_HEADS], float lr, float decay)
{
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  s->t++;
  const double c1 = 1 - pow (b1, (double) s->t), c2 = 1 - pow (b2, (double) s->t);
  for (int i = 0; i < BALANCE_HEADS; i++)
    {
      const double g = grad[i] + decay * s->param[i];
      s->m[i] = (float) (b1 * s->m[i] + (1 - b1) * g);
      s->v[i] = (float) (b2 * s->v[i] + (1 - b2) * g * g);
      s->param[i] -= (float) (lr * (s->m[i] / c1) / (sqrt (s->v[i] / c2) + eps));
    }
}

static void
softmax3 (const double x[BALANCE_HEADS], double z[BALANCE_HEADS])
{
  const double mx = fmax (x[0], fmax (x[1], x[2]));
  double sum = 0;
  for (int i = 0; i < BALANCE_HEADS; i++)
    sum += z[i] = exp (x[i] - mx);
  for (int i = 0; i < BALANCE_HEADS; i++)
    z[i] /= sum;
}

/* Kendall et al. in LibMTL's form: Σ Lᵢ / (2e^{sᵢ}) + sᵢ / 2, whose gradient on sᵢ is
 * ½ − Lᵢ / (2e^{sᵢ}). */
static void
uncertainty_step (HnBalanceState *s, const float loss[BALANCE_HEADS], float lr,
                  float weight[BALANCE_HEADS])
{
  double grad[BALANCE_HEADS];
  for (int i = 0; i < BALANCE_HEADS; i++)
    {
      const double w = 0.5 * exp (-(double) s->param[i]);
      weight[i] = (float) w;
      grad[i] = 0.5 - w * loss[i];
    }
  adam_step (s, grad, lr, 0.0f);
}

/* FAMO: ξ moves along the softmax's Jacobian times the decrease of the log-losses, then the
 * weights are zᵢ / Dᵢ normalised, D = L + 10⁻⁸ (LibMTL's min_losses are 0). */
static void
famo_step (HnBalanceState *s, const float loss[BALANCE_HEADS], float weight[BALANCE_HEADS])
{
  const double eps = 1e-8;
  double xi[BALANCE_HEADS], z[BALANCE_HEADS];
  if (s->has_prev)
    {
      for (int i = 0; i < BALANCE_HEADS; i++)
        xi[i] = s->param[i];
      softmax3 (xi, z);
      double delta[BALANCE_HEADS], zd = 0, grad[BALANCE_HEADS];
      for (int i = 0; i < BALANCE_HEADS; i++)
        {
          delta[i] = log (s->prev_loss[i] + eps) - log (loss[i] + eps);
          zd += z[i] * delta[i];
        }
      for (int j = 0; j < BALANCE_HEADS; j++)
        grad[j] = z[j] * (delta[j] - zd);
      adam_step (s, grad, FAMO_LR, FAMO_DECAY);
    }
  for (int i = 0; i < BALANCE_HEADS; i++)
    {
      xi[i] = s->param[i];
      s->prev_loss[i] = loss[i];
    }
  s->has_prev = true;
  softmax3 (xi, z);
  double c = 0;
  for (int i = 0; i < BALANCE_HEADS; i++)
    c += z[i] / (loss[i] + eps);
  for (int i = 0; i < BALANCE_HEADS; i++)
    weight[i] = (float) (z[i] / (loss[i] + eps) / c);
}

void
balance_loss_step (HnBalance method, HnBalanceState *s, const float loss[BALANCE_HEADS], float lr,
                   const float normal[BALANCE_HEADS], float weight[BALANCE_HEADS])
{
  switch (method)
    {
    case BALANCE_SCALE_INVARIANT:
      /* d(wᵢ log Lᵢ) = (wᵢ / Lᵢ) dLᵢ */
      for (int i = 0; i < BALANCE_HEADS; i++)
        weight[i] = (float) (s->base[i] / ((double) loss[i] + 1e-8));
      break;
    case BALANCE_UNCERTAINTY:
      uncertainty_step (s, loss, lr, weight);
      break;
    case BALANCE_FAMO:
      famo_step (s, loss, weight);
      break;
    case BALANCE_RLW:
      {
        double x[BALANCE_HEADS], z[BALANCE_HEADS];
        for (int i = 0; i < BALANCE_HEADS; i++)
          x[i] = normal[i];
        softmax3 (x, z);
        for (int i = 0; i < BALANCE_HEADS; i++)
          weight[i] = (float) z[i];
      }
      break;
    default:
      HN_ASSERT (!"not a loss-based method");
    }
}

/* ---- the gradient-based methods, on the Gram matrix G = [gᵢ·gⱼ] ---- */

/* min over γ ∈ [0,1] of ‖γ·v1 + (1−γ)·v2‖², from the three dot products (Sener & Koltun's
 * MinNormSolver, as LibMTL). */
static double
min_norm_pair (double v1v1, double v1v2, double v2v2, double *cost)
{
  if (v1v2 >= v1v1)
    {
      *cost = v1v1;
      return 0.999;
    }
  if (v1v2 >= v2v2)
    {
      *cost = v2v2;
      return 0.001;
    }
  const double gamma = -(v1v2 - v2v2) / (v1v1 + v2v2 - 2 * v1v2);
  *cost = v2v2 + gamma * (v1v2 - v2v2);
  return gamma;
}

/* Euclidean projection onto the simplex, as LibMTL's _projection2simplex. */
static void
project_to_simplex (double y[BALANCE_HEADS])
{
  const int n = BALANCE_HEADS;
  double sorted[BALANCE_HEADS] = { y[0], y[1], y[2] };
  for (int i = 0; i < n; i++) /* descending */
    for (int j = i + 1; j < n; j++)
      if (sorted[j] > sorted[i])
        {
          double tmp = sorted[i];
          sorted[i] = sorted[j];
          sorted[j] = tmp;
        }
  double sum = y[0] + y[1] + y[2], tmax = (sum - 1.0) / n, partial = 0;
  for (int i = 0; i < n - 1; i++)
    {
      partial += sorted[i];
      const double t = (partial - 1) / (i + 1.0);
      if (t > sorted[i + 1])
        {
          tmax = t;
          break;
        }
    }
  for (int i = 0; i < n; i++)
    y[i] = fmax (y[i] - tmax, 0.0);
}

/* LibMTL's _next_point: a step along the projected direction, to the simplex's border. */
static void
next_point (const double cur[BALANCE_HEADS], const double grad[BALANCE_HEADS], double out[BALANCE_HEADS])
{
  const int n = BALANCE_HEADS;
  const double mean = (grad[0] + grad[1] + grad[2]) / n;
  double proj[BALANCE_HEADS];
  for (int i = 0; i < n; i++)
    proj[i] = grad[i] - mean;
  /* the step to where a coordinate leaves [0, 1]: the nearest one that falls to 0 sets t
   * (else 1), then the nearest that rises to 1 may shorten it */
  double t = 1.0, to_zero = INFINITY, to_one = INFINITY;
  for (int i = 0; i < n; i++)
    {
      const double tm = proj[i] < 0 ? -cur[i] / proj[i] : (1.0 - cur[i]) / proj[i];
      if (proj[i] != 0 && tm > 1e-7)
        {
          if (proj[i] < 0)
            to_zero = fmin (to_zero, tm);
          else
            to_one = fmin (to_one, tm);
        }
    }
  if (isfinite (to_zero))
    t = to_zero;
  t = fmin (t, to_one);
  for (int i = 0; i < n; i++)
    out[i] = proj[i] * t + cur[i];
  project_to_simplex (out);
}

static double
quad (const double a[BALANCE_HEADS], const double b[BALANCE_HEADS],
      const double g[BALANCE_HEADS][BALANCE_HEADS])
{
  double s = 0;
  for (int i = 0; i < BALANCE_HEADS; i++)
    for (int j = 0; j < BALANCE_HEADS; j++)
      s += a[i] * b[j] * g[i][j];
  return s;
}

/* MGDA's min-norm element of the convex hull: the best pair, then Frank–Wolfe steps. */
static void
mgda_weights (const double g[BALANCE_HEADS][BALANCE_HEADS], double sol[BALANCE_HEADS])
{
  double dmin = INFINITY, gamma = 0;
  int bi = 0, bj = 1;
  for (int i = 0; i < BALANCE_HEADS; i++)
    for (int j = i + 1; j < BALANCE_HEADS; j++)
      {
        double cost, c = min_norm_pair (g[i][i], g[i][j], g[j][j], &cost);
        if (cost < dmin)
          {
            dmin = cost;
            gamma = c;
            bi = i;
            bj = j;
          }
      }
  sol[0] = sol[1] = sol[2] = 0;
  sol[bi] = gamma;
  sol[bj] = 1 - gamma;
  for (int iter = 0; iter < 250; iter++)
    {
      double dir[BALANCE_HEADS], np[BALANCE_HEADS], next[BALANCE_HEADS], cost;
      for (int i = 0; i < BALANCE_HEADS; i++)
        dir[i] = -(g[i][0] * sol[0] + g[i][1] * sol[1] + g[i][2] * sol[2]);
      next_point (sol, dir, np);
      const double nc = min_norm_pair (quad (sol, sol, g), quad (sol, np, g), quad (np, np, g), &cost);
      double change = 0;
      for (int i = 0; i < BALANCE_HEADS; i++)
        {
          next[i] = nc * sol[i] + (1 - nc) * np[i];
          change += fabs (next[i] - sol[i]);
        }
      if (change < 1e-5)
        return;
      memcpy (sol, next, sizeof next);
    }
}

/* IMTL-G: α with equal projections of Σ αᵢgᵢ on every unit gradient uᵢ, Σ αᵢ = 1. With
 * D = [g₀ − gₖ], U = [u₀ − uₖ] (k = 1, 2): α₁…₂ = g₀Uᵀ (DUᵀ)⁻¹, α₀ = 1 − α₁ − α₂. */
static bool
imtl_weights (const double g[BALANCE_HEADS][BALANCE_HEADS], double alpha[BALANCE_HEADS])
{
  double norm[BALANCE_HEADS];
  for (int i = 0; i < BALANCE_HEADS; i++)
    if (!((norm[i] = sqrt (g[i][i])) > 0))
      return false;
  /* x·uₖ = (x·gₖ)/‖gₖ‖ */
  double du[2][2], gu[2];
  for (int k = 1; k <= 2; k++)
    {
      gu[k - 1] = g[0][0] / norm[0] - g[0][k] / norm[k];
      for (int j = 1; j <= 2; j++)
        du[j - 1][k - 1] = g[0][0] / norm[0] - g[0][k] / norm[k] - g[j][0] / norm[0] + g[j][k] / norm[k];
    }
  /* relative to its terms: nearly parallel gradients would give weights of 10⁶ */
  const double det = du[0][0] * du[1][1] - du[0][1] * du[1][0];
  if (!(fabs (det) > 1e-12 * (fabs (du[0][0] * du[1][1]) + fabs (du[0][1] * du[1][0]))))
    return false;
  /* row vector gu times the inverse of du */
  alpha[1] = (gu[0] * du[1][1] - gu[1] * du[1][0]) / det;
  alpha[2] = (-gu[0] * du[0][1] + gu[1] * du[0][0]) / det;
  alpha[0] = 1 - alpha[1] - alpha[2];
  return isfinite (alpha[1]) && isfinite (alpha[2]);
}

/* PCGrad: each gᵢ, in turn projected off every gⱼ (the originals, in order[i]) it conflicts
 * with; the sum of the projections is Σ βⱼgⱼ with βⱼ = 1 − Σᵢ (its projections' factors).
 * pcᵢ is tracked as coefficients on the originals, so its dot products come from G. */
static void
pcgrad_weights (const double g[BALANCE_HEADS][BALANCE_HEADS],
                const int order[BALANCE_HEADS][BALANCE_HEADS], double beta[BALANCE_HEADS])
{
  for (int j = 0; j < BALANCE_HEADS; j++)
    beta[j] = 1;
  for (int i = 0; i < BALANCE_HEADS; i++)
    {
      double c[BALANCE_HEADS] = { 0 };
      c[i] = 1;
      for (int k = 0; k < BALANCE_HEADS; k++)
        {
          const int j = order[i][k];
          const double gij = c[0] * g[0][j] + c[1] * g[1][j] + c[2] * g[2][j];
          if (gij < 0)
            {
              const double f = gij / (g[j][j] + 1e-8);
              c[j] -= f;
              beta[j] -= f;
            }
        }
    }
}

void
balance_gradient_weights (HnBalance method, const double gram[BALANCE_HEADS][BALANCE_HEADS],
                          const int order[BALANCE_HEADS][BALANCE_HEADS],
                          float weight[BALANCE_HEADS])
{
  double w[BALANCE_HEADS];
  bool ok = true;
  switch (method)
    {
    case BALANCE_MGDA_UB: mgda_weights (gram, w); break;
    case BALANCE_IMTL_G: ok = imtl_weights (gram, w); break;
    case BALANCE_PCGRAD: pcgrad_weights (gram, order, w); break;
    default: HN_ASSERT (!"not a gradient-based method");
    }
  for (int i = 0; i < BALANCE_HEADS; i++)
    ok = ok && isfinite (w[i]);
  if (ok)
    for (int i = 0; i < BALANCE_HEADS; i++)
      weight[i] = (float) w[i];
}

/* ---- the state in a checkpoint: base, param, m, v, prev_loss, then t and has_prev ---- */

void
balance_pack (const HnBalanceState *s, float out[BALANCE_PACKED])
{
  const float *parts[] = { s->base, s->param, s->m, s->v, s->prev_loss };
  for (int p = 0; p < 5; p++)
    memcpy (out + 3 * p, parts[p], 3 * sizeof (float));
  out[15] = (float) s->t;
  out[16] = s->has_prev ? 1.0f : 0.0f;
}

bool
balance_unpack (HnBalanceState *s, const float in[BALANCE_PACKED])
{
  for (int i = 0; i < BALANCE_PACKED; i++)
    if (!isfinite (in[i]))
      return false;
  if (in[15] < 0 || in[15] > 16777216.0f || in[15] != floorf (in[15])
      || (in[16] != 0 && in[16] != 1))
    return false;
  for (int i = 0; i < 3; i++)
    if (in[9 + i] < 0) /* Adam's second moment */
      return false;
  float *parts[] = { s->base, s->param, s->m, s->v, s->prev_loss };
  for (int p = 0; p < 5; p++)
    memcpy (parts[p], in + 3 * p, 3 * sizeof (float));
  s->t = (int64_t) in[15];
  s->has_prev = in[16] != 0;
  return true;
}
