#include "checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocale.h"
#include "input.h"

#define OPTIM_PREFIX "optim."

bool
checkpoint_save (HnModel *model, int input_size, const char *path, const StMeta *extra,
                 int n_extra, HnError *err)
{
  const HnParamTable *table = model_params (model);
  StTensor *tensors = calloc (table->n, sizeof *tensors);
  StMeta *meta = calloc (7 + n_extra, sizeof *meta);
  /* the parameters in PyTorch's layout (params.h) */
  float *params = malloc (table->n_params * sizeof *params);
  if (tensors == NULL || meta == NULL || params == NULL)
    {
      free (tensors);
      free (meta);
      free (params);
      return hn_error_set (err, "%s: out of memory", path);
    }
  params_to_torch (table, params, model_param_data (model));
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      StTensor *st = &tensors[i];
      st->name = t->name;
      st->ndim = t->ndim;
      for (int d = 0; d < t->ndim; d++)
        st->shape[d] = t->shape[d];
      switch (tensor_role_kind (t->role))
        {
        case TENSOR_PARAM:
          st->dtype = ST_F32;
          st->data = params + t->offset;
          break;
        case TENSOR_BUFFER:
          st->dtype = ST_F32;
          st->data = model_buffer_data (model) + t->offset;
          break;
        case TENSOR_COUNT:
          st->dtype = ST_I64;
          st->data = model_count_data (model) + t->offset;
          break;
        }
      st->nbytes = t->numel * st_dtype_size (st->dtype);
    }
  char size[16], mean[64], std[64], age_mean[32], age_std[32];
  float a_mean, a_std;
  model_get_age_scale (model, &a_mean, &a_std);
  locale_t previous = c_locale_enter ();
  snprintf (size, sizeof size, "%d", input_size);
  snprintf (mean, sizeof mean, "[%g, %g, %g]", input_mean[0], input_mean[1], input_mean[2]);
  snprintf (std, sizeof std, "[%g, %g, %g]", input_std[0], input_std[1], input_std[2]);
  snprintf (age_mean, sizeof age_mean, "%.9g", a_mean);
  snprintf (age_std, sizeof age_std, "%.9g", a_std);
  c_locale_leave (previous);
  int n_meta = 0;
  meta[n_meta++] = (StMeta) { "format", CHECKPOINT_FORMAT };
  meta[n_meta++] = (StMeta) { "backbone", backbone_name (model_backbone (model)) };
  meta[n_meta++] = (StMeta) { "input_size", size };
  meta[n_meta++] = (StMeta) { "mean", mean };
  meta[n_meta++] = (StMeta) { "std", std };
  if (a_mean != 0.0f || a_std != 1.0f)
    {
      meta[n_meta++] = (StMeta) { "age_mean", age_mean };
      meta[n_meta++] = (StMeta) { "age_std", age_std };
    }
  for (int i = 0; i < n_extra; i++)
    meta[n_meta++] = extra[i];
  bool ok = safetensors_write (path, tensors, table->n, meta, n_meta, err);
  free (tensors);
  free (meta);
  free (params);
  return ok;
}

/* age_mean and age_std, both or neither; a plain head (0, 1) when neither. */
static bool
read_age_scale (const HnSafetensors *st, HnCheckpointInfo *info, HnError *err)
{
  const char *m = safetensors_meta (st, "age_mean"), *s = safetensors_meta (st, "age_std");
  info->age_mean = 0.0f;
  info->age_std = 1.0f;
  if (m == NULL && s == NULL)
    return true;
  char *end_m = NULL, *end_s = NULL;
  locale_t previous = c_locale_enter ();
  double mean = m ? strtod (m, &end_m) : NAN, std = s ? strtod (s, &end_s) : NAN;
  c_locale_leave (previous);
  if (m == NULL || s == NULL || end_m == m || *end_m || end_s == s || *end_s
      || !isfinite (mean) || !(std > 0 && std < 1e6) || fabs (mean) > 1e6)
    return hn_error_set (err, "age_mean and age_std do not describe a standardised age");
  info->age_mean = (float) mean;
  info->age_std = (float) std;
  return true;
}

bool
checkpoint_info (const HnSafetensors *st, HnCheckpointInfo *info, HnError *err)
{
  const char *format = safetensors_meta (st, "format");
  const char *backbone = safetensors_meta (st, "backbone");
  const char *size = safetensors_meta (st, "input_size");
  if (format != NULL && strcmp (format, CHECKPOINT_FORMAT) != 0)
    return hn_error_set (err, "unsupported checkpoint format \"%s\" (expected \"%s\")", format,
                         CHECKPOINT_FORMAT);
  if (backbone != NULL)
    {
      if (!backbone_from_name (backbone, &info->backbone))
        return hn_error_set (err, "unknown backbone \"%s\" (expected resnet18 or resnet34)",
                             backbone);
    }
  else /* a bare state_dict: ResNet-34's first stage has a third block */
    info->backbone = safetensors_find (st, "net.layer1.2.conv1.weight") ? BACKBONE_RESNET34
                                                                        : BACKBONE_RESNET18;
  if (!read_age_scale (st, info, err))
    return false;
  info->input_size = CHECKPOINT_DEFAULT_SIZE;
  if (size != NULL)
    {
      char *end;
      errno = 0;
      long v = strtol (size, &end, 10);
      if (errno != 0 || end == size || *end != '\0' || v < MODEL_MIN_SIZE || v > MODEL_MAX_SIZE)
        return hn_error_set (err, "input_size \"%s\" is not a size between %d and %d", size,
                             MODEL_MIN_SIZE, MODEL_MAX_SIZE);
      info->input_size = (int) v;
    }
  return true;
}

static bool
shape_matches (const StTensor *st, const HnTensorInfo *t)
{
  if (st->ndim != t->ndim)
    return false;
  for (int d = 0; d < t->ndim; d++)
    if (st->shape[d] != t->shape[d])
      return false;
  return true;
}

static void
format_shape (char *buf, size_t len, int ndim, const int64_t *shape)
{
  size_t used = (size_t) snprintf (buf, len, "[");
  for (int d = 0; d < ndim && used < len; d++)
    used += (size_t) snprintf (buf + used, len - used, d ? ",%lld" : "%lld", (long long) shape[d]);
  if (used < len)
    snprintf (buf + used, len - used, "]");
}

static bool
is_head (const char *name)
{
  return strncmp (name, "net.fc", 6) == 0;
}

/* Every check runs before the first byte is copied, so a refused file changes nothing.
 * for_init: heads may be missing and torchvision's own classifier (net.fc.) is ignored. */
static bool
validate (const HnModel *model, const HnSafetensors *st, bool for_init, HnError *err)
{
  const HnParamTable *table = model_params (model);
  const char *arch = backbone_name (model_backbone (model));
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      const StTensor *s = safetensors_find (st, t->name);
      if (s == NULL && for_init && is_head (t->name))
        continue;
      if (s == NULL)
        {
          int missing = 0;
          for (int j = i; j < table->n; j++)
            missing += safetensors_find (st, table->items[j].name) == NULL;
          return hn_error_set (err, "missing tensor %s (%d of the %d tensors of a %s HydraNet "
                                    "are missing)", t->name, missing, table->n, arch);
        }
      StDtype want = tensor_role_kind (t->role) == TENSOR_COUNT ? ST_I64 : ST_F32;
      if (s->dtype != want)
        return hn_error_set (err, "tensor %s has dtype %s, expected %s", t->name,
                             st_dtype_name (s->dtype), st_dtype_name (want));
      if (!shape_matches (s, t))
        {
          char got[96], expected[96];
          int64_t shape[4];
          for (int d = 0; d < t->ndim; d++)
            shape[d] = t->shape[d];
          format_shape (got, sizeof got, s->ndim, s->shape);
          format_shape (expected, sizeof expected, t->ndim, shape);
          return hn_error_set (err, "tensor %s has shape %s, expected %s for a %s HydraNet",
                               t->name, got, expected, arch);
        }
      if (want == ST_F32)
        for (size_t j = 0; j < t->numel; j++)
          {
            float v;
            memcpy (&v, (const char *) s->data + j * sizeof v, sizeof v);
            if (!isfinite (v))
              return hn_error_set (err, "tensor %s holds a non-finite value (%g at index %zu)",
                                   t->name, v, j);
          }
    }
  for (int i = 0; i < safetensors_count (st); i++)
    {
      const char *name = safetensors_at (st, i)->name;
      if (strncmp (name, OPTIM_PREFIX, strlen (OPTIM_PREFIX)) != 0
          && param_table_find (table, name) == NULL && !(for_init && strncmp (name, "net.fc.", 7) == 0))
        return hn_error_set (err, "unexpected tensor %s: not part of a %s HydraNet", name, arch);
    }
  return true;
}

static int
copy_tensors (HnModel *model, const HnSafetensors *st)
{
  const HnParamTable *table = model_params (model);
  int copied = 0;
  for (int i = 0; i < table->n; i++)
    {
      const HnTensorInfo *t = &table->items[i];
      const StTensor *s = safetensors_find (st, t->name);
      if (s == NULL)
        continue;
      copied++;
      switch (tensor_role_kind (t->role))
        {
        case TENSOR_PARAM:
          tensor_from_torch (t, model_param_data (model) + t->offset, s->data);
          break;
        case TENSOR_BUFFER:
          memcpy (model_buffer_data (model) + t->offset, s->data, s->nbytes);
          break;
        case TENSOR_COUNT:
          memcpy (model_count_data (model) + t->offset, s->data, s->nbytes);
          break;
        }
    }
  return copied;
}

bool
checkpoint_apply (HnModel *model, const HnSafetensors *st, HnError *err)
{
  if (!validate (model, st, false, err))
    return false;
  copy_tensors (model, st);
  return true;
}

static HnModel *
new_model (HnBackbone backbone, HnError *err)
{
  HnModel *model = model_new (backbone, 0);
  if (model == NULL)
    hn_error_set (err, "out of memory");
  return model;
}

HnCheckpoint *
checkpoint_open (const char *path, HnCheckpointUse use, HnError *err)
{
  HnCheckpoint *c = calloc (1, sizeof *c);
  if (c == NULL)
    {
      hn_error_set (err, "%s: out of memory", path);
      return NULL;
    }
  bool ok = (c->st = safetensors_read (path, err)) != NULL;
  if (!ok)
    {
      free (c);
      return NULL; /* the reader's message names the file already */
    }
  ok = checkpoint_info (c->st, &c->info, err);
  if (ok && use != CHECKPOINT_HEADER)
    ok = (c->model = new_model (c->info.backbone, err)) != NULL
         && validate (c->model, c->st, use == CHECKPOINT_INIT, err);
  if (!ok)
    {
      hn_error_prefix (err, "%s", path);
      checkpoint_close (c);
      return NULL;
    }
  if (c->model != NULL)
    {
      c->loaded = copy_tensors (c->model, c->st);
      model_set_age_scale (c->model, c->info.age_mean, c->info.age_std);
    }
  return c;
}

HnModel *
checkpoint_take_model (HnCheckpoint *c)
{
  HnModel *model = c->model;
  c->model = NULL;
  return model;
}

void
checkpoint_close (HnCheckpoint *c)
{
  if (c == NULL)
    return;
  model_free (c->model);
  safetensors_free (c->st);
  free (c);
}

HnModel *
checkpoint_load (const char *path, HnCheckpointInfo *info, HnError *err)
{
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_MODEL, err);
  if (c == NULL)
    return NULL;
  *info = c->info;
  HnModel *model = checkpoint_take_model (c);
  checkpoint_close (c);
  return model;
}
