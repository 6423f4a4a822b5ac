/* hydra-series.c — everything a training session measured, kept for plotting and export. */

#include "hydra-series.h"

#include <string.h>

struct _HydraSeries
{
  GObject parent_instance;

  GArray *steps;      /* HydraStepPoint */
  GArray *segments;   /* guint: index of each segment's first step point */
  GArray *epochs;     /* HydraEpochPoint */
  GArray *epoch_pos;  /* guint: n_steps when each epoch point came, for chronological CSV */
  GArray *markers;    /* HydraMarker, labels owned */
  GArray *marker_pos; /* guint: as epoch_pos */
  HnAgeLoss age_loss;
  gboolean pending; /* something was appended since the last commit */
};

G_DEFINE_FINAL_TYPE (HydraSeries, hydra_series, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_AGE_LOSS,
  N_PROPS
};

enum
{
  CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
clear_marker (gpointer data)
{
  HydraMarker *marker = data;

  g_clear_pointer (&marker->label, g_free);
}

static GArray *
marker_array_new (void)
{
  GArray *markers = g_array_new (FALSE, TRUE, sizeof (HydraMarker));

  g_array_set_clear_func (markers, clear_marker);
  return markers;
}

static void
hydra_series_finalize (GObject *object)
{
  HydraSeries *self = HYDRA_SERIES (object);

  g_clear_pointer (&self->steps, g_array_unref);
  g_clear_pointer (&self->segments, g_array_unref);
  g_clear_pointer (&self->epochs, g_array_unref);
  g_clear_pointer (&self->epoch_pos, g_array_unref);
  g_clear_pointer (&self->markers, g_array_unref);
  g_clear_pointer (&self->marker_pos, g_array_unref);

  G_OBJECT_CLASS (hydra_series_parent_class)->finalize (object);
}

static void
hydra_series_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraSeries *self = HYDRA_SERIES (object);

  switch (prop_id)
    {
    case PROP_AGE_LOSS:
      g_value_set_int (value, self->age_loss);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_series_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  HydraSeries *self = HYDRA_SERIES (object);

  switch (prop_id)
    {
    case PROP_AGE_LOSS:
      hydra_series_set_age_loss (self, g_value_get_int (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_series_class_init (HydraSeriesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = hydra_series_finalize;
  object_class->get_property = hydra_series_get_property;
  object_class->set_property = hydra_series_set_property;

  properties[PROP_AGE_LOSS]
      = g_param_spec_int ("age-loss", NULL, NULL, AGE_LOSS_L1, AGE_LOSS_HUBER, AGE_LOSS_L1,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 0);
}

static void
hydra_series_init (HydraSeries *self)
{
  self->steps = g_array_new (FALSE, TRUE, sizeof (HydraStepPoint));
  self->segments = g_array_new (FALSE, TRUE, sizeof (guint));
  self->epochs = g_array_new (FALSE, TRUE, sizeof (HydraEpochPoint));
  self->epoch_pos = g_array_new (FALSE, TRUE, sizeof (guint));
  self->markers = marker_array_new ();
  self->marker_pos = g_array_new (FALSE, TRUE, sizeof (guint));
  self->age_loss = AGE_LOSS_L1;
}

HydraSeries *
hydra_series_new (void)
{
  return g_object_new (HYDRA_TYPE_SERIES, NULL);
}

void
hydra_series_clear (HydraSeries *self)
{
  g_return_if_fail (HYDRA_IS_SERIES (self));

  g_array_set_size (self->steps, 0);
  g_array_set_size (self->segments, 0);
  g_array_set_size (self->epochs, 0);
  g_array_set_size (self->epoch_pos, 0);
  g_array_set_size (self->markers, 0);
  g_array_set_size (self->marker_pos, 0);
  self->pending = FALSE;
  g_signal_emit (self, signals[CHANGED], 0);
}

void
hydra_series_add_step (HydraSeries *self, const HydraStepPoint *point)
{
  guint n;

  g_return_if_fail (HYDRA_IS_SERIES (self));
  g_return_if_fail (point != NULL);

  n = self->steps->len;
  if (n == 0 || point->step <= g_array_index (self->steps, HydraStepPoint, n - 1).step)
    g_array_append_val (self->segments, n);
  g_array_append_val (self->steps, *point);
  self->pending = TRUE;
}

void
hydra_series_add_epoch (HydraSeries *self, const HydraEpochPoint *point)
{
  g_return_if_fail (HYDRA_IS_SERIES (self));
  g_return_if_fail (point != NULL);

  g_array_append_val (self->epochs, *point);
  g_array_append_val (self->epoch_pos, self->steps->len);
  self->pending = TRUE;
}

void
hydra_series_add_marker (HydraSeries *self, int64_t step, HydraMarkerKind kind, const char *label)
{
  HydraMarker marker = { step, kind, g_strdup (label ? label : "") };

  g_return_if_fail (HYDRA_IS_SERIES (self));

  g_array_append_val (self->markers, marker);
  g_array_append_val (self->marker_pos, self->steps->len);
  self->pending = TRUE;
}

void
hydra_series_commit (HydraSeries *self)
{
  g_return_if_fail (HYDRA_IS_SERIES (self));

  if (!self->pending)
    return;
  self->pending = FALSE;
  g_signal_emit (self, signals[CHANGED], 0);
}

guint
hydra_series_get_n_steps (HydraSeries *self)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);
  return self->steps->len;
}

const HydraStepPoint *
hydra_series_get_step (HydraSeries *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), NULL);
  g_return_val_if_fail (i < self->steps->len, NULL);
  return &g_array_index (self->steps, HydraStepPoint, i);
}

guint
hydra_series_get_n_epochs (HydraSeries *self)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);
  return self->epochs->len;
}

const HydraEpochPoint *
hydra_series_get_epoch (HydraSeries *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), NULL);
  g_return_val_if_fail (i < self->epochs->len, NULL);
  return &g_array_index (self->epochs, HydraEpochPoint, i);
}

guint
hydra_series_get_n_markers (HydraSeries *self)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);
  return self->markers->len;
}

const HydraMarker *
hydra_series_get_marker (HydraSeries *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), NULL);
  g_return_val_if_fail (i < self->markers->len, NULL);
  return &g_array_index (self->markers, HydraMarker, i);
}

guint
hydra_series_get_n_segments (HydraSeries *self)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);
  return self->segments->len;
}

guint
hydra_series_get_segment_start (HydraSeries *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);
  g_return_val_if_fail (i < self->segments->len, 0);
  return g_array_index (self->segments, guint, i);
}

static guint
find_step_in (const HydraStepPoint *points, guint n_segments, const guint *segments, guint n,
              int64_t step)
{
  guint best = 0;
  int64_t best_step = G_MININT64;

  for (guint s = n_segments; s-- > 0;)
    {
      guint lo = segments[s];
      guint hi = s + 1 < n_segments ? segments[s + 1] : n;

      if (points[lo].step > step)
        continue;
      if (points[hi - 1].step < step)
        {
          /* the segment ends before `step`: a candidate if nothing covers it */
          if (points[hi - 1].step > best_step)
            best = hi - 1, best_step = points[hi - 1].step;
          continue;
        }
      /* invariant: points[lo].step ≤ step; the answer is in [lo, hi) */
      while (hi - lo > 1)
        {
          guint mid = lo + (hi - lo) / 2;

          if (points[mid].step <= step)
            lo = mid;
          else
            hi = mid;
        }
      return lo;
    }
  return best;
}

guint
hydra_series_find_step (HydraSeries *self, int64_t step)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), 0);

  return find_step_in ((const HydraStepPoint *) self->steps->data, self->segments->len,
                       (const guint *) self->segments->data, self->steps->len, step);
}

HnAgeLoss
hydra_series_get_age_loss (HydraSeries *self)
{
  g_return_val_if_fail (HYDRA_IS_SERIES (self), AGE_LOSS_L1);
  return self->age_loss;
}

void
hydra_series_set_age_loss (HydraSeries *self, HnAgeLoss kind)
{
  g_return_if_fail (HYDRA_IS_SERIES (self));
  g_return_if_fail (kind >= AGE_LOSS_L1 && kind <= AGE_LOSS_HUBER);

  if (self->age_loss == kind)
    return;
  self->age_loss = kind;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AGE_LOSS]);
}

const char *
hydra_curve_name (HydraCurve curve)
{
  static const char *names[HYDRA_N_CURVES] = {
    "age", "gender", "race", "w·age", "w·gender", "w·race", "total",
  };

  g_return_val_if_fail (curve < HYDRA_N_CURVES, "");
  return names[curve];
}

/* CSV export.
 *
 * One table, one row per step point, validation pass and marker, in the order they happened
 * (so a rollback's abandoned steps come before the steps that replaced them). Columns:
 *
 *   kind             "step", "val" or "marker"
 *   step             optimizer steps done
 *   epoch            step: fractional epoch; val: epochs completed; marker: the epoch of the
 *                    step point at that step (empty before the first)
 *   age_loss gender_loss race_loss               raw loss of each head (step, val)
 *   w_age_loss w_gender_loss w_race_loss         weight · raw (step, val)
 *   total_loss                                   their sum (step, val)
 *   grad_age grad_gender grad_race               ‖∂(w·L_h)/∂feature‖ (step)
 *   cos_age_gender cos_age_race cos_gender_race  cosines between those gradients (step)
 *   lr img_per_s                                 (step)
 *   val_n val_age_mae val_age_rmse val_gender_acc val_race_acc   (val)
 *   marker           "setting", "state" or "rollback" (marker)
 *   label            the marker's text, quoted as RFC 4180 says when it needs to be (marker)
 *
 * Cells that do not apply to a row are empty. Numbers use the C locale ("0.5", never "0,5");
 * floats are written with the fewest digits (at most 9) that read back as the same float; a
 * non-finite loss is written "nan" or "inf".
 */
#define CSV_HEADER                                                                                 \
  "kind,step,epoch,age_loss,gender_loss,race_loss,w_age_loss,w_gender_loss,w_race_loss,"           \
  "total_loss,grad_age,grad_gender,grad_race,cos_age_gender,cos_age_race,cos_gender_race,"         \
  "lr,img_per_s,val_n,val_age_mae,val_age_rmse,val_gender_acc,val_race_acc,marker,label\n"

typedef struct
{
  GArray *steps;
  GArray *segments;
  GArray *epochs;
  GArray *epoch_pos;
  GArray *markers;
  GArray *marker_pos;
  char *path;
} CsvJob;

static void
csv_job_free (CsvJob *job)
{
  g_clear_pointer (&job->steps, g_array_unref);
  g_clear_pointer (&job->segments, g_array_unref);
  g_clear_pointer (&job->epochs, g_array_unref);
  g_clear_pointer (&job->epoch_pos, g_array_unref);
  g_clear_pointer (&job->markers, g_array_unref);
  g_clear_pointer (&job->marker_pos, g_array_unref);
  g_free (job->path);
  g_free (job);
}

static void
csv_number (GString *out, double value, const char *format)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_c (out, ',');
  if (isnan (value))
    g_string_append (out, "nan");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "inf" : "-inf");
  else
    g_string_append (out, g_ascii_formatd (buf, sizeof buf, format, value));
}

static void
csv_float (GString *out, float value)
{
  static const char *formats[] = { "%.6g", "%.7g", "%.8g" };
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* the shortest that reads back as the same float: a learning rate of 1e-3 is "0.001",
   * not "0.00100000005"; 9 digits always do */
  if (isfinite (value))
    for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
      {
        g_ascii_formatd (buf, sizeof buf, formats[i], value);
        if ((float) g_ascii_strtod (buf, NULL) == value)
          {
            g_string_append_c (out, ',');
            g_string_append (out, buf);
            return;
          }
      }
  csv_number (out, value, "%.9g");
}

static void
csv_empty (GString *out, guint n)
{
  for (guint i = 0; i < n; i++)
    g_string_append_c (out, ',');
}

static void
csv_text (GString *out, const char *text)
{
  g_string_append_c (out, ',');
  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (out, text);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *c);
    }
  g_string_append_c (out, '"');
}

static void
csv_step_row (GString *out, const HydraStepPoint *p)
{
  g_string_append_printf (out, "step,%" G_GINT64_FORMAT, (gint64) p->step);
  csv_number (out, p->epoch, "%.12g");
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    csv_float (out, p->loss[c]);
  for (guint h = 0; h < N_HEADS; h++)
    csv_float (out, p->grad_norm[h]);
  for (guint k = 0; k < 3; k++)
    csv_float (out, p->cosine[k]);
  csv_float (out, p->lr);
  csv_float (out, p->img_per_s);
  csv_empty (out, 5 + 2);
  g_string_append_c (out, '\n');
}

static void
csv_val_row (GString *out, const HydraEpochPoint *p)
{
  g_string_append_printf (out, "val,%" G_GINT64_FORMAT ",%d", (gint64) p->step, p->epoch);
  for (guint c = 0; c < HYDRA_N_CURVES; c++)
    csv_float (out, p->loss[c]);
  csv_empty (out, N_HEADS + 3 + 2);
  g_string_append_printf (out, ",%d", p->eval.n);
  csv_number (out, p->eval.age_mae, "%.9g");
  csv_number (out, p->eval.age_rmse, "%.9g");
  csv_number (out, p->eval.gender_acc, "%.9g");
  csv_number (out, p->eval.race_acc, "%.9g");
  csv_empty (out, 2);
  g_string_append_c (out, '\n');
}

static void
csv_marker_row (GString *out, const CsvJob *job, const HydraMarker *m)
{
  static const char *kinds[] = { "setting", "state", "rollback" };
  const HydraStepPoint *points = (const HydraStepPoint *) job->steps->data;
  guint n = job->steps->len;

  g_string_append_printf (out, "marker,%" G_GINT64_FORMAT, (gint64) m->step);
  if (n > 0)
    {
      guint i = find_step_in (points, job->segments->len, (const guint *) job->segments->data, n,
                              m->step);

      if (points[i].step <= m->step)
        csv_number (out, points[i].epoch, "%.12g");
      else
        csv_empty (out, 1);
    }
  else
    csv_empty (out, 1);
  csv_empty (out, HYDRA_N_CURVES + N_HEADS + 3 + 2 + 5);
  csv_text (out, m->kind <= HYDRA_MARKER_ROLLBACK ? kinds[m->kind] : "");
  csv_text (out, m->label ? m->label : "");
  g_string_append_c (out, '\n');
}

static gboolean
csv_job_write (CsvJob *job, GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) out = g_string_sized_new (256 + (gsize) job->steps->len * 200);
  guint e = 0, m = 0;

  g_string_append (out, CSV_HEADER);
  for (guint i = 0; i <= job->steps->len; i++)
    {
      while (e < job->epochs->len && g_array_index (job->epoch_pos, guint, e) <= i)
        csv_val_row (out, &g_array_index (job->epochs, HydraEpochPoint, e++));
      while (m < job->markers->len && g_array_index (job->marker_pos, guint, m) <= i)
        csv_marker_row (out, job, &g_array_index (job->markers, HydraMarker, m++));
      if (i < job->steps->len)
        csv_step_row (out, &g_array_index (job->steps, HydraStepPoint, i));
      if (i % 8192 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
    }
  return g_file_set_contents (job->path, out->str, out->len, error);
}

static CsvJob *
csv_job_new (HydraSeries *self, const char *path, gboolean copy)
{
  CsvJob *job = g_new0 (CsvJob, 1);

  job->path = g_strdup (path);
  if (!copy)
    {
      job->steps = g_array_ref (self->steps);
      job->segments = g_array_ref (self->segments);
      job->epochs = g_array_ref (self->epochs);
      job->epoch_pos = g_array_ref (self->epoch_pos);
      job->markers = g_array_ref (self->markers);
      job->marker_pos = g_array_ref (self->marker_pos);
      return job;
    }
  job->steps = g_array_copy (self->steps);
  job->segments = g_array_copy (self->segments);
  job->epochs = g_array_copy (self->epochs);
  job->epoch_pos = g_array_copy (self->epoch_pos);
  job->marker_pos = g_array_copy (self->marker_pos);
  job->markers = marker_array_new ();
  for (guint i = 0; i < self->markers->len; i++)
    {
      HydraMarker m = g_array_index (self->markers, HydraMarker, i);

      m.label = g_strdup (m.label);
      g_array_append_val (job->markers, m);
    }
  return job;
}

gboolean
hydra_series_write_csv (HydraSeries *self, const char *path, GError **error)
{
  CsvJob *job;
  gboolean ok;

  g_return_val_if_fail (HYDRA_IS_SERIES (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = csv_job_new (self, path, FALSE);
  ok = csv_job_write (job, NULL, error);
  csv_job_free (job);
  return ok;
}

static void
write_csv_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  GError *error = NULL;

  if (csv_job_write (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
hydra_series_write_csv_async (HydraSeries *self, const char *path, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (HYDRA_IS_SERIES (self));
  g_return_if_fail (path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_series_write_csv_async);
  g_task_set_task_data (task, csv_job_new (self, path, TRUE), (GDestroyNotify) csv_job_free);
  g_task_run_in_thread (task, write_csv_thread);
}

gboolean
hydra_series_write_csv_finish (HydraSeries *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

float
hydra_ema_push (HydraEma *ema, double weight, float x)
{
  if (!isfinite (x))
    return ema->value;
  ema->last = ema->last * weight + (1.0 - weight) * x;
  ema->debias *= weight;
  ema->value = (float) (ema->last / (1.0 - ema->debias));
  return ema->value;
}

void
hydra_smooth_ema (const float *x, gsize stride, guint n, double weight, float *out)
{
  HydraEma ema = HYDRA_EMA_INIT;

  g_return_if_fail (n == 0 || (x != NULL && out != NULL));
  g_return_if_fail (stride >= 1);

  weight = CLAMP (weight, 0.0, 0.9999);
  for (guint i = 0; i < n; i++)
    out[i] = hydra_ema_push (&ema, weight, x[(gsize) i * stride]);
}
