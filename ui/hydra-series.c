/* hydra-series.c — everything a training session measured, kept for plotting and export. */

#include "hydra-series.h"

#include <string.h>

#include "records.h"

struct _HydraSeries
{
  GObject parent_instance;

  GArray *steps;      /* HydraStepPoint */
  GArray *segments;   /* guint: index of each segment's first step point */
  GArray *epochs;     /* HydraEpochPoint */
  GArray *epoch_pos;  /* guint: n_steps when each epoch point came, for chronological CSV */
  GArray *markers;    /* HydraMarker, labels owned */
  GArray *marker_pos; /* guint: as epoch_pos */
  GArray *events;     /* HnEvent: settings, states and checkpoints as reported, for the record */
  GArray *event_pos;  /* guint: as epoch_pos */
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
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->event_pos, g_array_unref);

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
  self->events = g_array_new (FALSE, TRUE, sizeof (HnEvent));
  self->event_pos = g_array_new (FALSE, TRUE, sizeof (guint));
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
  g_array_set_size (self->events, 0);
  g_array_set_size (self->event_pos, 0);
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

  HydraEpochPoint p = *point;
  const HydraStepPoint *last
      = self->steps->len > 0 ? &g_array_index (self->steps, HydraStepPoint, self->steps->len - 1)
                             : NULL;
  /* inside an epoch when the last step was of the epoch not yet completed */
  p.at = last != NULL && last->epochs_done == p.epoch && last->step <= p.step ? last->epoch
                                                                             : p.epoch;
  g_array_append_val (self->epochs, p);
  g_array_append_val (self->epoch_pos, self->steps->len);
  self->pending = TRUE;
}

int
hydra_epoch_point_number (const HydraEpochPoint *point)
{
  return point->at > point->epoch ? point->epoch + 1 : point->epoch;
}

void
hydra_epoch_point_label (const HydraEpochPoint *point, char *label, gsize size)
{
  if (point->at > point->epoch)
    g_snprintf (label, size, "%.1f", CLAMP (point->at, point->epoch + 0.1, point->epoch + 0.9));
  else
    g_snprintf (label, size, "%d", point->epoch);
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

static void
add_step_event (HydraSeries *self, const HnEvent *e)
{
  const HnStepEvent *s = &e->train;
  HydraStepPoint p = {
    .step = e->step, .lr = s->lr, .img_per_s = s->img_per_s, .age_loss = e->loss.age_loss,
    .balance = e->loss.balance, .epochs_done = e->epoch, .batch = s->batch_index,
    .batches = s->batches, .images = s->images,
  };
  p.epoch = e->epoch + (s->batch_index + 1.0) / MAX (1, s->batches);
  for (int h = 0; h < N_HEADS; h++)
    {
      p.loss[HYDRA_CURVE_AGE + h] = s->raw[h];
      p.loss[HYDRA_CURVE_AGE_WEIGHTED + h] = s->weighted[h];
      p.grad_norm[h] = s->grad_norm[h];
      p.weight[h] = e->loss.weight[h];
    }
  p.loss[HYDRA_CURVE_TOTAL] = s->total;
  memcpy (p.cosine, s->cosine, sizeof p.cosine);
  hydra_series_add_step (self, &p);
  hydra_series_set_age_loss (self, e->loss.age_loss);
}

static void
add_val_event (HydraSeries *self, const HnEvent *e)
{
  HydraEpochPoint p = { .step = e->step, .epoch = e->epoch, .eval = e->val, .settings = e->loss };
  float weighted[N_HEADS];

  p.loss[HYDRA_CURVE_TOTAL] = eval_weighted (&e->val, &e->loss, weighted);
  for (int h = 0; h < N_HEADS; h++)
    {
      p.loss[HYDRA_CURVE_AGE + h] = (float) e->val.loss[h];
      p.loss[HYDRA_CURVE_AGE_WEIGHTED + h] = weighted[h];
    }
  hydra_series_add_epoch (self, &p);
}

/* The marker an event leaves on the plots, if any. */
static void
add_event_marker (HydraSeries *self, const HnEvent *e)
{
  char label[160];

  if (e->kind == EVENT_SETTING)
    {
      HnSettingKind what = e->setting.what;
      HydraMarkerKind kind = what == SETTING_ROLLBACK                          ? HYDRA_MARKER_ROLLBACK
                             : what == SETTING_PAUSE || what == SETTING_RESUME ? HYDRA_MARKER_STATE
                                                                               : HYDRA_MARKER_SETTING;
      setting_describe (what, e->setting.value, e->setting.old_value, label, sizeof label);
      hydra_series_add_marker (self, e->step, kind, label);
      if (what == SETTING_AGE_LOSS)
        hydra_series_set_age_loss (self, (HnAgeLoss) e->setting.value);
    }
  else if (e->kind == EVENT_STATE
           && (e->state.state == TRAINER_DIVERGED || e->state.state == TRAINER_STOPPED))
    hydra_series_add_marker (self, e->step, HYDRA_MARKER_STATE,
                             trainer_state_name (e->state.state));
}

void
hydra_series_add_event (HydraSeries *self, const HnEvent *e)
{
  g_return_if_fail (HYDRA_IS_SERIES (self));
  g_return_if_fail (e != NULL);

  switch (e->kind)
    {
    case EVENT_STEP:
      add_step_event (self, e);
      return;
    case EVENT_EPOCH:
      if (e->val.n > 0) /* none without a validation split */
        add_val_event (self, e);
      return;
    case EVENT_SETTING:
    case EVENT_STATE:
    case EVENT_CHECKPOINT:
      add_event_marker (self, e);
      g_array_append_val (self->events, *e);
      g_array_append_val (self->event_pos, self->steps->len);
      self->pending = TRUE;
      return;
    }
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

/* ---- the record: the session as CSV, in the engine's format (records.h) ---- */

typedef struct
{
  GArray *steps;
  GArray *epochs;
  GArray *epoch_pos;
  GArray *events;
  GArray *event_pos;
  char *path;
} CsvJob;

static void
csv_job_free (CsvJob *job)
{
  g_clear_pointer (&job->steps, g_array_unref);
  g_clear_pointer (&job->epochs, g_array_unref);
  g_clear_pointer (&job->epoch_pos, g_array_unref);
  g_clear_pointer (&job->events, g_array_unref);
  g_clear_pointer (&job->event_pos, g_array_unref);
  g_free (job->path);
  g_free (job);
}

/* The step event a point was made from. */
static void
step_event (const HydraStepPoint *p, HnEvent *e)
{
  HnStepEvent *s = &e->train;

  *e = (HnEvent) { .kind = EVENT_STEP, .step = p->step, .epoch = p->epochs_done };
  e->loss.age_loss = (HnAgeLoss) p->age_loss;
  e->loss.balance = (HnBalance) p->balance;
  for (int h = 0; h < N_HEADS; h++)
    {
      e->loss.weight[h] = p->weight[h];
      s->raw[h] = p->loss[HYDRA_CURVE_AGE + h];
      s->weighted[h] = p->loss[HYDRA_CURVE_AGE_WEIGHTED + h];
      s->grad_norm[h] = p->grad_norm[h];
    }
  s->total = p->loss[HYDRA_CURVE_TOTAL];
  memcpy (s->cosine, p->cosine, sizeof s->cosine);
  s->lr = p->lr;
  s->img_per_s = p->img_per_s;
  s->batch_index = p->batch;
  s->batches = p->batches;
  s->images = p->images;
}

static void
val_event (const HydraEpochPoint *p, HnEvent *e)
{
  *e = (HnEvent) { .kind = EVENT_EPOCH, .step = p->step, .epoch = p->epoch, .loss = p->settings };
  e->val = p->eval;
}

static void
append_row (GString *out, const HnEvent *e)
{
  char row[RECORDS_MAX_ROW];
  int n = records_format (e, row, sizeof row);

  g_string_append_len (out, row, n);
}

/* Rows in the order they happened: at one step position, a validation came before the
 * events that followed it (its checkpoint, then the next settings). Each row starts with
 * prefix (a comparison's run cell and its comma) when there is one. */
static gboolean
csv_job_format (CsvJob *job, GString *out, const char *prefix, GCancellable *cancellable,
                GError **error)
{
  guint v = 0, k = 0;
  HnEvent e;

  for (guint i = 0; i <= job->steps->len; i++)
    {
      for (; v < job->epochs->len && g_array_index (job->epoch_pos, guint, v) <= i; v++)
        {
          val_event (&g_array_index (job->epochs, HydraEpochPoint, v), &e);
          g_string_append (out, prefix);
          append_row (out, &e);
        }
      for (; k < job->events->len && g_array_index (job->event_pos, guint, k) <= i; k++)
        {
          g_string_append (out, prefix);
          append_row (out, &g_array_index (job->events, HnEvent, k));
        }
      if (i < job->steps->len)
        {
          step_event (&g_array_index (job->steps, HydraStepPoint, i), &e);
          g_string_append (out, prefix);
          append_row (out, &e);
        }
      if (i % 8192 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
csv_job_write (CsvJob *job, GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) out = g_string_sized_new (256 + (gsize) job->steps->len * 200);

  g_string_append (out, records_header ());
  if (!csv_job_format (job, out, "", cancellable, error))
    return FALSE;
  return g_file_set_contents (job->path, out->str, (gssize) out->len, error);
}

static CsvJob *
csv_job_new (HydraSeries *self, const char *path, gboolean copy)
{
  CsvJob *job = g_new0 (CsvJob, 1);
  GArray *(*take) (GArray *) = copy ? g_array_copy : g_array_ref;

  job->path = g_strdup (path);
  job->steps = take (self->steps);
  job->epochs = take (self->epochs);
  job->epoch_pos = take (self->epoch_pos);
  job->events = take (self->events);
  job->event_pos = take (self->event_pos);
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

/* A comparison's record: each run's, in turn, behind a run column. */
typedef struct
{
  GPtrArray *jobs; /* CsvJob */
  GStrv names;
  char *path;
} CsvManyJob;

static void
csv_many_job_free (CsvManyJob *many)
{
  g_ptr_array_unref (many->jobs);
  g_strfreev (many->names);
  g_free (many->path);
  g_free (many);
}

static gboolean
csv_many_job_write (CsvManyJob *many, GCancellable *cancellable, GError **error)
{
  g_autoptr (GString) out = g_string_sized_new (4096);

  g_string_append (out, "run,");
  g_string_append (out, records_header ());
  for (guint r = 0; r < many->jobs->len; r++)
    {
      const int room = 2 * (int) strlen (many->names[r]) + 4;
      g_autofree char *prefix = g_malloc (room);
      int n = records_quote_cell (prefix, room, many->names[r]);
      prefix[n] = ',', prefix[n + 1] = '\0';
      if (!csv_job_format (g_ptr_array_index (many->jobs, r), out, prefix, cancellable, error))
        return FALSE;
    }
  return g_file_set_contents (many->path, out->str, (gssize) out->len, error);
}

static CsvManyJob *
csv_many_job_new (HydraSeries *const *series, const char *const *names, guint n, const char *path,
                  gboolean copy)
{
  CsvManyJob *many = g_new0 (CsvManyJob, 1);

  many->jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) csv_job_free);
  many->names = g_new0 (char *, n + 1);
  many->path = g_strdup (path);
  for (guint r = 0; r < n; r++)
    {
      g_ptr_array_add (many->jobs, csv_job_new (series[r], path, copy));
      many->names[r] = g_strdup (names[r] != NULL ? names[r] : "");
    }
  return many;
}

gboolean
hydra_series_write_csv_many (HydraSeries *const *series, const char *const *names, guint n,
                             const char *path, GError **error)
{
  CsvManyJob *many;
  gboolean ok;

  g_return_val_if_fail (n > 0 && series != NULL && names != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  many = csv_many_job_new (series, names, n, path, FALSE);
  ok = csv_many_job_write (many, NULL, error);
  csv_many_job_free (many);
  return ok;
}

static void
write_csv_many_thread (GTask *task, gpointer source, gpointer task_data,
                       GCancellable *cancellable)
{
  GError *error = NULL;

  if (csv_many_job_write (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
hydra_series_write_csv_many_async (HydraSeries *const *series, const char *const *names, guint n,
                                   const char *path, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (n > 0 && series != NULL && names != NULL);
  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, hydra_series_write_csv_many_async);
  g_task_set_task_data (task, csv_many_job_new (series, names, n, path, TRUE),
                        (GDestroyNotify) csv_many_job_free);
  g_task_run_in_thread (task, write_csv_many_thread);
}

gboolean
hydra_series_write_csv_many_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  HydraSeries *series;
  GCancellable *cancellable;
} ReadJob;

static bool
read_row_cb (const HnEvent *e, void *data)
{
  ReadJob *job = data;

  hydra_series_add_event (job->series, e);
  return !g_cancellable_is_cancelled (job->cancellable);
}

/* The series is built here, on the worker, before anyone else can see it. */
static void
read_csv_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ReadJob job = { hydra_series_new (), cancellable };
  HnError err;

  if (!records_read (task_data, read_row_cb, &job, NULL, &err))
    {
      g_object_unref (job.series);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s", err.message);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (job.series);
      return;
    }
  job.series->pending = FALSE;
  g_task_return_pointer (task, job.series, g_object_unref);
}

void
hydra_series_read_csv_async (const char *path, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_return_if_fail (path != NULL);
  g_task_set_source_tag (task, hydra_series_read_csv_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, read_csv_thread);
}

HydraSeries *
hydra_series_read_csv_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
hydra_series_take (HydraSeries *self, HydraSeries *from)
{
  g_return_if_fail (HYDRA_IS_SERIES (self) && HYDRA_IS_SERIES (from) && self != from);

#define TAKE(field) (g_array_unref (self->field), self->field = g_steal_pointer (&from->field))
  TAKE (steps);
  TAKE (segments);
  TAKE (epochs);
  TAKE (epoch_pos);
  TAKE (markers);
  TAKE (marker_pos);
  TAKE (events);
  TAKE (event_pos);
#undef TAKE
  HnAgeLoss age_loss = from->age_loss;
  hydra_series_init (from); /* empty, and usable */
  self->pending = FALSE;
  hydra_series_set_age_loss (self, age_loss);
  g_signal_emit (self, signals[CHANGED], 0);
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
