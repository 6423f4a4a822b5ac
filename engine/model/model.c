#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "avgpool2d.h"
#include "batchnorm2d.h"
#include "conv2d.h"
#include "linear.h"
#include "maxpool2d.h"
#include "relu.h"
#include "residual.h"
#include "rng.h"
#include "vecops.h"


/* ---- layers: where their tensors live in the flat blocks ---- */

typedef struct
{
  int c_in, c_out, k, stride, pad;
  size_t w; /* params: (OC, K, K, C), the engine's layout (params.h) */
} Conv;

typedef struct
{
  int c;
  size_t gamma, beta;   /* params: (C) */
  size_t mean, var;     /* buffers: (C) */
  size_t count;         /* counts: () */
  float *batch_mean;    /* (C) cached by the train forward for the backward */
  float *batch_invstd;  /* (C) */
} BatchNorm;

typedef struct
{
  int in, out;
  size_t w, b; /* params: (OUT, IN), (OUT) */
} Linear;

/* torchvision's BasicBlock: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
 * shortcut = bn(conv1×1/stride(x)) where the shape changes, else x. */
typedef struct
{
  Conv conv1, conv2, down;
  BatchNorm bn1, bn2, down_bn;
  bool has_down;
  /* for the planned batch */
  Conv2dShape s1, s2, sd;
  float *a1;  /* (C', N, H', W') conv1 output, BN1's input */
  float *h1;  /* (C', N, H', W') relu(bn1(a1)), conv2's input */
  float *a2;  /* conv2 output, BN2's input */
  float *ad;  /* downsample conv output, its BN's input */
  float *hd;  /* downsample BN output, the shortcut */
  float *out; /* the block's output, after the final ReLU */
} Block;

typedef struct
{
  Linear linear, final;
  float *hidden; /* (512, N) relu(linear(f)), final's input */
  float *out;    /* (K, N) */
  float *dout;   /* (K, N) seeded by model_loss */
  float *dfeat;  /* (512, N) this head's gradient on the shared feature */
} Head;

struct HnModel
{
  HnBackbone backbone;
  HnParamTable table;
  float *params;  /* (n_params) */
  float *grads;   /* (n_params) */
  float *buffers; /* (n_buffers) */
  int64_t *counts;

  Conv conv1;
  BatchNorm bn1;
  Block blocks[16];
  int n_blocks;
  Head heads[N_HEADS];

  /* the plan: sizes and the arena carved for them */
  int batch, size, n; /* n: images in the last forward */
  bool training;
  HnArena arena;
  float *x;            /* (3, N, S, S) the input, channel-major */
  Conv2dShape s_stem;
  float *stem_a;       /* (64, N, S1, S1) conv1 output */
  float *stem_h;       /* relu(bn1(stem_a)) */
  MaxPool2dShape s_pool;
  float *pool;         /* (64, N, S2, S2) */
  int32_t *pool_argmax;
  int last_hw;         /* H·W of layer4's output */
  float *feat;         /* (512, N) */
  float *col;          /* im2col scratch, the largest any convolution needs */
  float *grad[4];      /* four gradient buffers of the largest activation size */
  float *dfeat;        /* (512, N) */
  float *head_dhidden; /* (512, N) */
  float age_mean, age_std; /* model_set_age_scale */
  float *age_years;    /* (N) mean + std·z, the age output when standardised */
  float *targets;      /* (N) standardised age or smoothed gender targets, for model_loss */
};

static bool
age_standardised (const HnModel *m)
{
  return m->age_mean != 0.0f || m->age_std != 1.0f;
}

/* ---- building the table (state_dict order) ---- */

static Conv
add_conv (HnParamTable *t, const char *name, int c_in, int c_out, int k, int stride, int pad)
{
  char full[PARAM_NAME_MAX + 32];
  snprintf (full, sizeof full, "%s.weight", name);
  Conv conv = { .c_in = c_in, .c_out = c_out, .k = k, .stride = stride, .pad = pad };
  conv.w = param_table_add (t, ROLE_CONV_WEIGHT, full, 4, (int[]) { c_out, c_in, k, k });
  return conv;
}

static BatchNorm
add_bn (HnParamTable *t, const char *name, int c)
{
  char full[PARAM_NAME_MAX + 32];
  BatchNorm bn = { .c = c };
#define ADD(field, role, suffix, ndim)                                                             \
  snprintf (full, sizeof full, "%s." suffix, name);                                                \
  bn.field = param_table_add (t, role, full, ndim, &c)
  ADD (gamma, ROLE_BN_WEIGHT, "weight", 1);
  ADD (beta, ROLE_BN_BIAS, "bias", 1);
  ADD (mean, ROLE_BN_MEAN, "running_mean", 1);
  ADD (var, ROLE_BN_VAR, "running_var", 1);
  ADD (count, ROLE_BN_COUNT, "num_batches_tracked", 0);
#undef ADD
  return bn;
}

static Linear
add_linear (HnParamTable *t, const char *name, int in, int out)
{
  char full[PARAM_NAME_MAX + 32];
  Linear l = { .in = in, .out = out };
  snprintf (full, sizeof full, "%s.weight", name);
  l.w = param_table_add (t, ROLE_LINEAR_WEIGHT, full, 2, (int[]) { out, in });
  snprintf (full, sizeof full, "%s.bias", name);
  l.b = param_table_add (t, ROLE_LINEAR_BIAS, full, 1, &out);
  return l;
}

static void
build (HnModel *m)
{
  static const int depth18[4] = { 2, 2, 2, 2 }, depth34[4] = { 3, 4, 6, 3 };
  const int *depth = m->backbone == BACKBONE_RESNET34 ? depth34 : depth18;
  HnParamTable *t = &m->table;
  char name[PARAM_NAME_MAX];

  m->conv1 = add_conv (t, "net.conv1", 3, 64, 7, 2, 3);
  m->bn1 = add_bn (t, "net.bn1", 64);
  int c_in = 64;
  for (int stage = 0; stage < 4; stage++)
    {
      int c_out = 64 << stage;
      for (int i = 0; i < depth[stage]; i++)
        {
          Block *b = &m->blocks[m->n_blocks++];
          int stride = (stage > 0 && i == 0) ? 2 : 1;
#define NAME(suffix) (snprintf (name, sizeof name, "net.layer%d.%d." suffix, stage + 1, i), name)
          b->conv1 = add_conv (t, NAME ("conv1"), c_in, c_out, 3, stride, 1);
          b->bn1 = add_bn (t, NAME ("bn1"), c_out);
          b->conv2 = add_conv (t, NAME ("conv2"), c_out, c_out, 3, 1, 1);
          b->bn2 = add_bn (t, NAME ("bn2"), c_out);
          b->has_down = stride != 1 || c_in != c_out;
          if (b->has_down)
            {
              b->down = add_conv (t, NAME ("downsample.0"), c_in, c_out, 1, stride, 0);
              b->down_bn = add_bn (t, NAME ("downsample.1"), c_out);
            }
#undef NAME
          c_in = c_out;
        }
    }
  static const int head_k[N_HEADS] = { 1, 1, N_RACES };
  for (int h = 0; h < N_HEADS; h++)
    {
      snprintf (name, sizeof name, "net.fc%d.linear", h + 1);
      m->heads[h].linear = add_linear (t, name, FEATURES, FEATURES);
      snprintf (name, sizeof name, "net.fc%d.final", h + 1);
      m->heads[h].final = add_linear (t, name, FEATURES, head_k[h]);
    }
}

/* PyTorch's defaults: torchvision's ResNet sets conv weights kaiming-normal with
 * mode='fan_out', nonlinearity='relu' (std = √(2 / (OC·KH·KW))) and BN γ = 1, β = 0;
 * nn.Linear's kaiming_uniform(a=√5) works out to uniform(±1/√fan_in), as does its bias. */
static void
init_default (HnModel *m, uint64_t seed)
{
  HnRng rng = { .seed = seed };
  for (int i = 0; i < m->table.n; i++)
    {
      const HnTensorInfo *t = &m->table.items[i];
      float *p = m->params + t->offset, *buf = m->buffers + t->offset;
      double bound;
      switch (t->role)
        {
        case ROLE_CONV_WEIGHT:
          {
            /* drawn in PyTorch's order (OC, C, KH, KW), stored in the engine's (params.h) */
            const int oc = t->shape[0], c = t->shape[1], kk = t->shape[2] * t->shape[3];
            bound = sqrt (2.0 / (oc * kk));
            for (int o = 0; o < oc; o++)
              for (int ci = 0; ci < c; ci++)
                for (int k = 0; k < kk; k++)
                  p[((size_t) o * kk + k) * c + ci] = (float) (bound * rng_normal (&rng));
          }
          break;
        case ROLE_BN_WEIGHT:
          for (size_t j = 0; j < t->numel; j++)
            p[j] = 1.0f;
          break;
        case ROLE_BN_BIAS:
        case ROLE_BN_MEAN:
          memset (t->role == ROLE_BN_BIAS ? p : buf, 0, t->numel * sizeof (float));
          break;
        case ROLE_BN_VAR:
          for (size_t j = 0; j < t->numel; j++)
            buf[j] = 1.0f;
          break;
        case ROLE_BN_COUNT:
          m->counts[t->offset] = 0;
          break;
        case ROLE_LINEAR_WEIGHT:
        case ROLE_LINEAR_BIAS:
          bound = 1.0 / sqrt (FEATURES); /* every linear layer here has fan_in 512 */
          for (size_t j = 0; j < t->numel; j++)
            p[j] = (float) (bound * (2.0 * rng_uniform (&rng) - 1.0));
          break;
        }
    }
}

const char *
backbone_name (HnBackbone backbone)
{
  return backbone == BACKBONE_RESNET34 ? "resnet34" : "resnet18";
}

bool
backbone_from_name (const char *name, HnBackbone *backbone)
{
  if (strcmp (name, "resnet18") == 0)
    *backbone = BACKBONE_RESNET18;
  else if (strcmp (name, "resnet34") == 0)
    *backbone = BACKBONE_RESNET34;
  else
    return false;
  return true;
}

HnModel *
model_new (HnBackbone backbone, uint64_t seed)
{
  HnModel *m = calloc (1, sizeof *m);
  if (m == NULL)
    return NULL;
  m->backbone = backbone;
  m->age_std = 1.0f;
  build (m);
  m->params = aligned_alloc (64, ((m->table.n_params * sizeof (float) + 63) & ~(size_t) 63));
  m->grads = aligned_alloc (64, ((m->table.n_params * sizeof (float) + 63) & ~(size_t) 63));
  m->buffers = calloc (m->table.n_buffers, sizeof (float));
  m->counts = calloc (m->table.n_counts, sizeof (int64_t));
  if (!m->params || !m->grads || !m->buffers || !m->counts)
    {
      model_free (m);
      return NULL;
    }
  memset (m->grads, 0, m->table.n_params * sizeof (float));
  init_default (m, seed);
  return m;
}

void
model_copy_weights (HnModel *dst, const HnModel *src)
{
  HN_ASSERT (dst->backbone == src->backbone);
  const HnParamTable *t = &src->table;
  memcpy (dst->params, src->params, t->n_params * sizeof (float));
  memcpy (dst->buffers, src->buffers, t->n_buffers * sizeof (float));
  memcpy (dst->counts, src->counts, t->n_counts * sizeof (int64_t));
  dst->age_mean = src->age_mean;
  dst->age_std = src->age_std;
}

void
model_free (HnModel *m)
{
  if (m == NULL)
    return;
  free (m->params);
  free (m->grads);
  free (m->buffers);
  free (m->counts);
  arena_release (&m->arena);
  param_table_clear (&m->table);
  free (m);
}

HnBackbone
model_backbone (const HnModel *m)
{
  return m->backbone;
}

const HnParamTable *
model_params (const HnModel *m)
{
  return &m->table;
}

float *
model_param_data (HnModel *m)
{
  return m->params;
}

float *
model_grad_data (HnModel *m)
{
  return m->grads;
}

float *
model_buffer_data (HnModel *m)
{
  return m->buffers;
}

int64_t *
model_count_data (HnModel *m)
{
  return m->counts;
}

/* ---- the plan: every buffer a step needs, measured then carved from one arena ---- */

static size_t
max_size (size_t a, size_t b)
{
  return a > b ? a : b;
}

static void
plan_bn (HnArena *a, BatchNorm *bn)
{
  bn->batch_mean = arena_take (a, bn->c);
  bn->batch_invstd = arena_take (a, bn->c);
}

/* Walks the network for (batch, size), taking every buffer from the arena. Run once to
 * measure (a->base == NULL) and once to carve, so the two can never disagree. */
static void
layout (HnModel *m, HnArena *a, int batch, int size)
{
  const int n = batch;
  size_t largest = 0, scratch = 0; /* largest activation, largest im2col */

  m->x = arena_take (a, (size_t) 3 * n * size * size);
  m->s_stem = conv2d_shape (n, 3, size, size, 64, 7, 2, 3);
  size_t stem = (size_t) 64 * n * m->s_stem.oh * m->s_stem.ow;
  m->stem_a = arena_take (a, stem);
  m->stem_h = arena_take (a, stem);
  plan_bn (a, &m->bn1);
  scratch = conv2d_scratch_size (&m->s_stem);
  largest = stem;

  m->s_pool = maxpool2d_shape (64 * n, m->s_stem.oh, m->s_stem.ow, 3, 2, 1);
  size_t pooled = (size_t) 64 * n * m->s_pool.oh * m->s_pool.ow;
  m->pool = arena_take (a, pooled);
  m->pool_argmax = (int32_t *) arena_take (a, pooled);

  int h = m->s_pool.oh, w = m->s_pool.ow;
  for (int i = 0; i < m->n_blocks; i++)
    {
      Block *b = &m->blocks[i];
      b->s1 = conv2d_shape (n, b->conv1.c_in, h, w, b->conv1.c_out, 3, b->conv1.stride, 1);
      b->s2 = conv2d_shape (n, b->conv2.c_in, b->s1.oh, b->s1.ow, b->conv2.c_out, 3, 1, 1);
      size_t act = (size_t) b->conv1.c_out * n * b->s1.oh * b->s1.ow;
      b->a1 = arena_take (a, act);
      b->h1 = arena_take (a, act);
      b->a2 = arena_take (a, act);
      b->out = arena_take (a, act);
      plan_bn (a, &b->bn1);
      plan_bn (a, &b->bn2);
      scratch = max_size (scratch, conv2d_scratch_size (&b->s1));
      scratch = max_size (scratch, conv2d_scratch_size (&b->s2));
      if (b->has_down)
        {
          b->sd = conv2d_shape (n, b->down.c_in, h, w, b->down.c_out, 1, b->down.stride, 0);
          b->ad = arena_take (a, act);
          b->hd = arena_take (a, act);
          plan_bn (a, &b->down_bn);
          scratch = max_size (scratch, conv2d_scratch_size (&b->sd));
        }
      largest = max_size (largest, max_size (act, (size_t) b->conv1.c_in * n * h * w));
      h = b->s1.oh;
      w = b->s1.ow;
    }
  m->last_hw = h * w;

  m->feat = arena_take (a, (size_t) FEATURES * n);
  m->dfeat = arena_take (a, (size_t) FEATURES * n);
  m->head_dhidden = arena_take (a, (size_t) FEATURES * n);
  for (int i = 0; i < N_HEADS; i++)
    {
      Head *hd = &m->heads[i];
      hd->hidden = arena_take (a, (size_t) FEATURES * n);
      hd->out = arena_take (a, (size_t) hd->final.out * n);
      hd->dout = arena_take (a, (size_t) hd->final.out * n);
      hd->dfeat = arena_take (a, (size_t) FEATURES * n);
    }
  m->col = arena_take (a, scratch);
  for (int i = 0; i < 4; i++)
    m->grad[i] = arena_take (a, largest);
  m->age_years = arena_take (a, (size_t) n);
  m->targets = arena_take (a, (size_t) n);
}

bool
model_plan (HnModel *m, int batch, int size, HnError *err)
{
  if (batch < 1)
    return hn_error_set (err, "batch size %d: must be at least 1", batch);
  if (size < MODEL_MIN_SIZE || size > MODEL_MAX_SIZE)
    return hn_error_set (err, "input size %d: must be between %d and %d pixels", size,
                         MODEL_MIN_SIZE, MODEL_MAX_SIZE);
  if (m->arena.base != NULL && batch <= m->batch && size == m->size)
    return true;
  HnArena a = { 0 };
  layout (m, &a, batch, size);
  size_t floats = a.used;
  if (!arena_commit (&a))
    return hn_error_set (err, "out of memory: batch %d at %d×%d needs %.0f MB of activations",
                         batch, size, size, floats * 4.0 / 1e6);
  arena_release (&m->arena);
  m->arena = a;
  layout (m, &m->arena, batch, size);
  m->batch = batch;
  m->size = size;
  return true;
}

/* ---- forward ---- */

static void
bn_forward (HnModel *m, BatchNorm *bn, float *y, const float *x, size_t per_channel)
{
  const float *gamma = m->params + bn->gamma, *beta = m->params + bn->beta;
  float *mean = m->buffers + bn->mean, *var = m->buffers + bn->var;
  if (m->training)
    {
      batchnorm2d_forward_train (y, bn->batch_mean, bn->batch_invstd, mean, var, x, gamma, beta,
                                 bn->c, per_channel);
      m->counts[bn->count]++;
    }
  else
    batchnorm2d_forward_eval (y, x, gamma, beta, mean, var, bn->c, per_channel);
}

static size_t
per_channel (const Conv2dShape *s)
{
  return (size_t) s->n * s->oh * s->ow;
}

static void
block_forward (HnModel *m, Block *b, const float *x)
{
  const size_t pc = per_channel (&b->s1), act = (size_t) b->conv1.c_out * pc;
  conv2d_forward (b->a1, m->col, x, m->params + b->conv1.w, NULL, &b->s1);
  bn_forward (m, &b->bn1, b->h1, b->a1, pc);
  relu_forward (b->h1, b->h1, act);
  conv2d_forward (b->a2, m->col, b->h1, m->params + b->conv2.w, NULL, &b->s2);
  bn_forward (m, &b->bn2, b->out, b->a2, pc);
  const float *shortcut = x;
  if (b->has_down)
    {
      conv2d_forward (b->ad, m->col, x, m->params + b->down.w, NULL, &b->sd);
      bn_forward (m, &b->down_bn, b->hd, b->ad, pc);
      shortcut = b->hd;
    }
  residual_add_relu_forward (b->out, shortcut, act);
}

static void
head_forward (HnModel *m, Head *h, int n)
{
  linear_forward (h->hidden, m->feat, m->params + h->linear.w, m->params + h->linear.b,
                  FEATURES, FEATURES, n);
  relu_forward (h->hidden, h->hidden, (size_t) FEATURES * n);
  linear_forward (h->out, h->hidden, m->params + h->final.w, m->params + h->final.b, FEATURES,
                  h->final.out, n);
}

/* The layer shapes were planned for the full batch; a smaller batch only changes n, so the
 * shapes are re-derived for it (buffers are large enough by construction). */
static void
shapes_for_batch (HnModel *m, int n)
{
  if (n == m->s_stem.n)
    return;
  HnArena carve = m->arena;
  carve.used = 0;
  layout (m, &carve, n, m->size);
}

void
model_forward (HnModel *m, const float *x, int n, bool training)
{
  HN_ASSERT (m->arena.base != NULL && n >= 1 && n <= m->batch);
  shapes_for_batch (m, n);
  m->n = n;
  m->training = training;

  /* (N, 3, S, S) → (3, N, S, S) */
  const size_t plane = (size_t) m->size * m->size;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      memcpy (m->x + ((size_t) c * n + i) * plane, x + ((size_t) i * 3 + c) * plane,
              plane * sizeof (float));

  const size_t stem = (size_t) 64 * per_channel (&m->s_stem);
  conv2d_forward (m->stem_a, m->col, m->x, m->params + m->conv1.w, NULL, &m->s_stem);
  bn_forward (m, &m->bn1, m->stem_h, m->stem_a, per_channel (&m->s_stem));
  relu_forward (m->stem_h, m->stem_h, stem);
  maxpool2d_forward (m->pool, m->pool_argmax, m->stem_h, &m->s_pool);

  const float *h = m->pool;
  for (int i = 0; i < m->n_blocks; i++)
    {
      block_forward (m, &m->blocks[i], h);
      h = m->blocks[i].out;
    }
  avgpool2d_forward (m->feat, h, FEATURES * n, m->last_hw);

  for (int i = 0; i < N_HEADS; i++)
    head_forward (m, &m->heads[i], n);
  if (age_standardised (m))
    for (int i = 0; i < n; i++)
      m->age_years[i] = m->age_mean + m->age_std * m->heads[HEAD_AGE].out[i];
}

const float *
model_output (const HnModel *m, int head)
{
  HN_ASSERT (head >= 0 && head < N_HEADS);
  return head == HEAD_AGE && age_standardised (m) ? m->age_years : m->heads[head].out;
}

void
model_set_age_scale (HnModel *m, float mean, float std)
{
  HN_ASSERT (isfinite (mean) && isfinite (std) && std > 0);
  m->age_mean = mean;
  m->age_std = std;
}

void
model_get_age_scale (const HnModel *m, float *mean, float *std)
{
  *mean = m->age_mean;
  *std = m->age_std;
}

/* ---- losses ---- */

/* The age head's loss and its gradient on z, the head's own output: in years for a plain
 * head, in standard deviations when standardised (then r->raw gets the loss in years too). */
static float
age_loss (HnModel *m, const HnTargets *t, const HnLossConfig *cfg, HnLossReport *r)
{
  const int n = m->n;
  Head *age = &m->heads[HEAD_AGE];
  const float *target = t->age;
  if (age_standardised (m))
    {
      for (int i = 0; i < n; i++)
        m->targets[i] = (t->age[i] - m->age_mean) / m->age_std;
      target = m->targets;
      r->raw[HEAD_AGE] = age_loss_forward (cfg->age_loss, m->age_years, t->age, n);
    }
  float loss = age_loss_forward (cfg->age_loss, age->out, target, n);
  if (!age_standardised (m))
    r->raw[HEAD_AGE] = loss;
  age_loss_backward (cfg->age_loss, age->dout, age->out, target, n, cfg->weight[HEAD_AGE]);
  return loss;
}

/* BCE takes soft targets as they are: smoothing moves them to y(1 − eps) + eps/2. */
static float
gender_loss (HnModel *m, const HnTargets *t, const HnLossConfig *cfg)
{
  const int n = m->n;
  Head *gender = &m->heads[HEAD_GENDER];
  const float *target = t->gender;
  if (cfg->smoothing > 0)
    {
      for (int i = 0; i < n; i++)
        m->targets[i] = t->gender[i] * (1 - cfg->smoothing) + 0.5f * cfg->smoothing;
      target = m->targets;
    }
  float loss = bce_logits_forward (gender->out, target, n);
  bce_logits_backward (gender->dout, gender->out, target, n, cfg->weight[HEAD_GENDER]);
  return loss;
}

HnLossReport
model_loss (HnModel *m, const HnTargets *t, const HnLossConfig *cfg)
{
  const int n = m->n;
  HnLossReport r = { 0 };
  Head *race = &m->heads[HEAD_RACE];
  float trained[N_HEADS];
  for (int h = 0; h < N_HEADS; h++)
    memset (m->heads[h].dout, 0, sizeof (float) * m->heads[h].final.out * n);
  trained[HEAD_AGE] = age_loss (m, t, cfg, &r);
  trained[HEAD_GENDER] = r.raw[HEAD_GENDER] = gender_loss (m, t, cfg);
  trained[HEAD_RACE] = r.raw[HEAD_RACE]
      = cross_entropy_smoothed_forward (race->out, t->race, N_RACES, n, cfg->smoothing);
  cross_entropy_smoothed_backward (race->dout, race->out, t->race, N_RACES, n, cfg->smoothing,
                                   cfg->weight[HEAD_RACE]);
  for (int h = 0; h < N_HEADS; h++)
    {
      r.weighted[h] = cfg->weight[h] * trained[h];
      r.total += r.weighted[h];
    }
  return r;
}

/* ---- backward: the forward read in reverse ---- */

void
model_zero_grad (HnModel *m)
{
  vec_zero (m->grads, m->table.n_params);
}

static void
bn_backward (HnModel *m, BatchNorm *bn, float *dx, const float *dy, const float *x,
             size_t per_channel)
{
  batchnorm2d_backward (dx, m->grads + bn->gamma, m->grads + bn->beta, dy, x, bn->batch_mean,
                        bn->batch_invstd, m->params + bn->gamma, bn->c, per_channel);
}

static void
zero (float *p, size_t n)
{
  vec_zero (p, n);
}

/* dout: the gradient on the block's output (masked in place); dx: accumulates the gradient on
 * its input x; t1, t2: scratch. */
static void
block_backward (HnModel *m, Block *b, const float *x, float *dout, float *dx, float *t1,
                float *t2)
{
  const size_t pc = per_channel (&b->s1), act = (size_t) b->conv1.c_out * pc;
  residual_add_relu_backward (dout, b->out, act);

  /* main branch: bn2 ← conv2 ← relu ← bn1 ← conv1 */
  zero (t1, act);
  bn_backward (m, &b->bn2, t1, dout, b->a2, pc);
  zero (t2, act);
  conv2d_backward (t2, m->grads + b->conv2.w, NULL, m->col, t1, b->h1, m->params + b->conv2.w,
                   &b->s2);
  relu_backward (t2, t2, b->h1, act);
  zero (t1, act);
  bn_backward (m, &b->bn1, t1, t2, b->a1, pc);
  conv2d_backward (dx, m->grads + b->conv1.w, NULL, m->col, t1, x, m->params + b->conv1.w,
                   &b->s1);

  /* shortcut: the same gradient, through the downsample or straight through */
  if (b->has_down)
    {
      zero (t1, act);
      bn_backward (m, &b->down_bn, t1, dout, b->ad, pc);
      conv2d_backward (dx, m->grads + b->down.w, NULL, m->col, t1, x, m->params + b->down.w,
                       &b->sd);
    }
  else
    vec_add (dx, dout, act);
}

static void
head_backward (HnModel *m, Head *h, int n)
{
  zero (m->head_dhidden, (size_t) FEATURES * n);
  linear_backward (m->head_dhidden, m->grads + h->final.w, m->grads + h->final.b, h->dout,
                   h->hidden, m->params + h->final.w, FEATURES, h->final.out, n);
  relu_backward (m->head_dhidden, m->head_dhidden, h->hidden, (size_t) FEATURES * n);
  zero (h->dfeat, (size_t) FEATURES * n);
  linear_backward (h->dfeat, m->grads + h->linear.w, m->grads + h->linear.b, m->head_dhidden,
                   m->feat, m->params + h->linear.w, FEATURES, FEATURES, n);
}

void
model_backward_heads (HnModel *m)
{
  HN_ASSERT (m->training);
  for (int i = 0; i < N_HEADS; i++)
    head_backward (m, &m->heads[i], m->n);
}

/* A head's own gradients times w. */
static void
scale_head (HnModel *m, Head *h, float w)
{
  vec_scale (m->grads + h->linear.w, w, (size_t) FEATURES * FEATURES);
  vec_scale (m->grads + h->linear.b, w, FEATURES);
  vec_scale (m->grads + h->final.w, w, (size_t) h->final.out * FEATURES);
  vec_scale (m->grads + h->final.b, w, (size_t) h->final.out);
}

void
model_backward_trunk (HnModel *m, const float weight[N_HEADS], bool weigh_heads)
{
  HN_ASSERT (m->training);
  const int n = m->n;

  /* The three heads meet at the shared feature: their (weighted) gradients add. */
  zero (m->dfeat, (size_t) FEATURES * n);
  for (int i = 0; i < N_HEADS; i++)
    {
      if (weight != NULL && weigh_heads)
        scale_head (m, &m->heads[i], weight[i]);
      if (weight != NULL)
        vec_scale (m->heads[i].dfeat, weight[i], (size_t) FEATURES * n);
      vec_add (m->dfeat, m->heads[i].dfeat, (size_t) FEATURES * n);
    }

  /* Gradient buffers rotate: g_out holds the gradient on the current block's output, g_in
   * receives the gradient on its input and becomes the next g_out. */
  float *g_out = m->grad[0], *g_in = m->grad[1], *t1 = m->grad[2], *t2 = m->grad[3];
  zero (g_out, (size_t) FEATURES * n * m->last_hw);
  avgpool2d_backward (g_out, m->dfeat, FEATURES * n, m->last_hw);

  for (int i = m->n_blocks - 1; i >= 0; i--)
    {
      Block *b = &m->blocks[i];
      const float *x = i > 0 ? m->blocks[i - 1].out : m->pool;
      zero (g_in, (size_t) b->conv1.c_in * n * b->s1.h * b->s1.w);
      block_backward (m, b, x, g_out, g_in, t1, t2);
      float *swap = g_out;
      g_out = g_in;
      g_in = swap;
    }

  /* stem: maxpool ← relu ← bn1 ← conv1 (no gradient for the input image) */
  const size_t stem = (size_t) 64 * per_channel (&m->s_stem);
  zero (g_in, stem);
  maxpool2d_backward (g_in, g_out, m->pool_argmax, &m->s_pool);
  relu_backward (g_in, g_in, m->stem_h, stem);
  zero (t1, stem);
  bn_backward (m, &m->bn1, t1, g_in, m->stem_a, per_channel (&m->s_stem));
  conv2d_backward (NULL, m->grads + m->conv1.w, NULL, m->col, t1, m->x, m->params + m->conv1.w,
                   &m->s_stem);
}

void
model_backward (HnModel *m)
{
  model_backward_heads (m);
  model_backward_trunk (m, NULL, false);
}

const float *
model_head_feature_grad (const HnModel *m, int head)
{
  HN_ASSERT (head >= 0 && head < N_HEADS);
  return m->heads[head].dfeat;
}

void
model_prediction_of (const float *age, const float *gender, const float *logits, int n, int i,
                     HnPrediction *p)
{
  HN_ASSERT (i >= 0 && i < n);
  p->age = age[i];
  p->p_female = (float) (1.0 / (1.0 + exp (-(double) gender[i])));
  double mx = logits[i], sum = 0.0;
  for (int c = 1; c < N_RACES; c++)
    mx = fmax (mx, logits[(size_t) c * n + i]);
  for (int c = 0; c < N_RACES; c++)
    sum += exp (logits[(size_t) c * n + i] - mx);
  p->race = 0;
  for (int c = 0; c < N_RACES; c++)
    {
      p->race_probs[c] = (float) (exp (logits[(size_t) c * n + i] - mx) / sum);
      if (p->race_probs[c] > p->race_probs[p->race])
        p->race = c;
    }
}

void
model_prediction (const HnModel *m, int i, HnPrediction *p)
{
  model_prediction_of (model_output (m, HEAD_AGE), model_output (m, HEAD_GENDER),
                       model_output (m, HEAD_RACE), m->n, i, p);
}

/* dst: the images of x (N, 3, S, S) mirrored left–right. */
static void
mirror (const float *x, int n, int size, float *dst)
{
  for (size_t row = 0; row < (size_t) n * 3 * size; row++)
    for (int col = 0; col < size; col++)
      dst[row * size + col] = x[row * size + size - 1 - col];
}

void
model_infer (HnModel *m, const float *x, int n, bool flip, float *scratch, float *age,
             float *gender, float *race)
{
  model_forward (m, x, n, false);
  memcpy (age, model_output (m, HEAD_AGE), sizeof (float) * n);
  memcpy (gender, model_output (m, HEAD_GENDER), sizeof (float) * n);
  memcpy (race, model_output (m, HEAD_RACE), sizeof (float) * N_RACES * n);
  if (!flip)
    return;
  mirror (x, n, m->size, scratch);
  model_forward (m, scratch, n, false);
  const float *age2 = model_output (m, HEAD_AGE), *gender2 = model_output (m, HEAD_GENDER);
  const float *race2 = model_output (m, HEAD_RACE);
  for (int i = 0; i < n; i++)
    {
      HnPrediction a, b;
      model_prediction_of (age, gender, race, n, i, &a); /* sample i only: safe to overwrite after */
      model_prediction_of (age2, gender2, race2, n, i, &b);
      /* a saturated probability would give an infinite logit, and a NaN loss after it */
      const double tiny = 1e-7;
      double p = fmin (fmax (0.5 * ((double) a.p_female + b.p_female), tiny), 1 - tiny);
      age[i] = 0.5f * (a.age + b.age);
      gender[i] = (float) log (p / (1.0 - p));
      for (int c = 0; c < N_RACES; c++)
        race[(size_t) c * n + i]
            = (float) log (fmax (0.5 * ((double) a.race_probs[c] + b.race_probs[c]), tiny));
    }
}
