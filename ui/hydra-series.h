/* hydra-series.h — everything a training session measured, kept for plotting and export.
 *
 * Main thread only. The trainer facade (hydra-trainer.h) appends what the engine reports;
 * the plots read it and redraw on "changed", which is emitted once per batch of appends
 * (hydra_series_commit), not once per point. Nothing is ever dropped: plots decimate for
 * drawing, export writes every point.
 */
#pragma once

#include <gio/gio.h>
#include <math.h>
#include <stdint.h>

#include "trainer.h"

G_BEGIN_DECLS

/* The seven loss curves, in legend order. */
typedef enum
{
  HYDRA_CURVE_AGE,           /* raw loss of each head */
  HYDRA_CURVE_GENDER,
  HYDRA_CURVE_RACE,
  HYDRA_CURVE_AGE_WEIGHTED,  /* weight · raw */
  HYDRA_CURVE_GENDER_WEIGHTED,
  HYDRA_CURVE_RACE_WEIGHTED,
  HYDRA_CURVE_TOTAL,         /* Σ weighted */
  HYDRA_N_CURVES
} HydraCurve;

/* One optimizer step. */
typedef struct
{
  int64_t step;                /* optimizer steps done after this one (1-based) */
  double epoch;                /* fractional: epochs done + (batch + 1) / batches */
  float loss[HYDRA_N_CURVES];
  float grad_norm[N_HEADS];    /* ‖∂(w·L_h)/∂feature‖ */
  float cosine[3];             /* age·gender, age·race, gender·race */
  float lr;
  float img_per_s;
  float weight[N_HEADS];       /* the loss weights of the step */
  int32_t age_loss;            /* its age loss, an HnAgeLoss */
  int32_t balance;             /* who chose its weights, an HnBalance */
  int32_t epochs_done, batch, batches; /* its place: epoch, batch index (from 0), per epoch */
  int32_t images;              /* in its batch; 0 when unknown (a record from before the
                                  record's images column) */
} HydraStepPoint;

/* One validation pass, at an epoch's end or where a time budget ended the run inside one. */
typedef struct
{
  int64_t step;
  int epoch;                   /* epochs completed (1-based), as the event had it */
  double at;                   /* epochs done, fractional inside one (set by add_epoch) */
  float loss[HYDRA_N_CURVES];  /* validation losses, weighted with the weights then in force */
  HnEvalResult eval;           /* MAE, RMSE, accuracies, race confusion */
  HnLossConfig settings;       /* the loss settings then in force */
} HydraEpochPoint;

typedef enum
{
  HYDRA_MARKER_SETTING,  /* a weight, the age loss or the learning rate changed */
  HYDRA_MARKER_STATE,    /* start, pause, resume, stop, divergence */
  HYDRA_MARKER_ROLLBACK,
} HydraMarkerKind;

/* A vertical line on the plots: something the user (or the guard) did, and when. */
typedef struct
{
  int64_t step;
  HydraMarkerKind kind;
  char *label;           /* short: "w_age 1 → 0.1", "age L1 → MSE", "paused" */
} HydraMarker;

#define HYDRA_TYPE_SERIES (hydra_series_get_type ())
G_DECLARE_FINAL_TYPE (HydraSeries, hydra_series, HYDRA, SERIES, GObject)

HydraSeries *hydra_series_new (void);

/* Forgets everything (a new run); emits "changed". */
void hydra_series_clear (HydraSeries *self);

/* Appends what a trainer reported (engine/train/events.h): a step point, a validation
 * point (when there was a validation split), a marker for a setting change, a pause, a
 * resume, a rollback, a divergence or a stop. Every event but a step or a validation is also
 * kept as it is, for the record (hydra_series_write_csv). Does not emit. */
void hydra_series_add_event (HydraSeries *self, const HnEvent *event);

/* Appends without emitting; call hydra_series_commit after a batch of appends. Points and
 * markers added this way are drawn; only events are written to the record. */
void hydra_series_add_step (HydraSeries *self, const HydraStepPoint *point);
void hydra_series_add_epoch (HydraSeries *self, const HydraEpochPoint *point);
/* A validation's number as users count them: the epoch it ended (1-based), or the one it
 * stopped inside. *label gets "15", or "15.8" inside one. */
int hydra_epoch_point_number (const HydraEpochPoint *point);
void hydra_epoch_point_label (const HydraEpochPoint *point, char *label, gsize size);
void hydra_series_add_marker (HydraSeries *self, int64_t step, HydraMarkerKind kind,
                              const char *label);
/* Emits "changed" when anything was appended since the last commit. */
void hydra_series_commit (HydraSeries *self);

guint hydra_series_get_n_steps (HydraSeries *self);
const HydraStepPoint *hydra_series_get_step (HydraSeries *self, guint i);
guint hydra_series_get_n_epochs (HydraSeries *self);
const HydraEpochPoint *hydra_series_get_epoch (HydraSeries *self, guint i);
guint hydra_series_get_n_markers (HydraSeries *self);
const HydraMarker *hydra_series_get_marker (HydraSeries *self, guint i);

/* The index of the last step point with step ≤ `step` (0 when none is). Binary search.
 * After a rollback the steps start again from an earlier one, so the points form several
 * runs of increasing step ("segments"); the latest segment that covers `step` answers, and
 * when none does, the point with the greatest step below it. */
guint hydra_series_find_step (HydraSeries *self, int64_t step);

/* Segments: maximal runs of step points with increasing step. Segment 0 starts at point 0;
 * each rollback starts a new one. A plot draws each as its own line. */
guint hydra_series_get_n_segments (HydraSeries *self);
/* The first point of segment i; its end is the next segment's start (or n_steps). */
guint hydra_series_get_segment_start (HydraSeries *self, guint i);

/* The age-loss kind in force now, for legends ("age (L1)"). Property "age-loss". */
HnAgeLoss hydra_series_get_age_loss (HydraSeries *self);
void hydra_series_set_age_loss (HydraSeries *self, HnAgeLoss kind);

/* The whole session as a run's record (engine/train/records.h: the format hydranet-cli's
 * --log writes too), written atomically. */
gboolean hydra_series_write_csv (HydraSeries *self, const char *path, GError **error);
/* The same, formatted and written on a worker thread from a copy taken now. */
void hydra_series_write_csv_async (HydraSeries *self, const char *path,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean hydra_series_write_csv_finish (HydraSeries *self, GAsyncResult *result,
                                        GError **error);

/* Several runs in one file, for a comparison's export: a first column "run" (each run's
 * name) before the record's columns (records.h), then each run's rows in turn, in the order
 * given. Each run's rows, without the run column, are that run's record. Atomic; the async
 * one formats and writes on a worker thread from copies taken now. */
gboolean hydra_series_write_csv_many (HydraSeries *const *series, const char *const *names,
                                      guint n, const char *path, GError **error);
void hydra_series_write_csv_many_async (HydraSeries *const *series, const char *const *names,
                                        guint n, const char *path, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
gboolean hydra_series_write_csv_many_finish (GAsyncResult *result, GError **error);

/* A series read from a run's record (the CLI's --log or the studio's own) on a worker
 * thread. */
void hydra_series_read_csv_async (const char *path, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
HydraSeries *hydra_series_read_csv_finish (GAsyncResult *result, GError **error);

/* Moves everything from `from` into self, which forgets what it had; emits "changed". */
void hydra_series_take (HydraSeries *self, HydraSeries *from);

/* Legend names: "age", "gender", "race", "w·age", …, "total". */
const char *hydra_curve_name (HydraCurve curve);

/* TensorBoard's smoothing: an exponential moving average debiased for its start, so the
 * first points are not pulled toward zero. weight in [0, 1): 0 copies x. NaN/Inf inputs are
 * skipped (their output repeats the last smoothed value, or is NaN before the first finite
 * one). `stride` is the distance between inputs in floats: 1 for a plain array, or
 * sizeof (HydraStepPoint) / sizeof (float) to read one field of consecutive step points. */
void hydra_smooth_ema (const float *x, gsize stride, guint n, double weight, float *out);

/* The same, one value at a time, for curves that grow: start from HYDRA_EMA_INIT. */
typedef struct
{
  double last;     /* the biased running average */
  double debias;   /* weight^(number of finite inputs so far) */
  float value;     /* the last output */
} HydraEma;

#define HYDRA_EMA_INIT ((HydraEma) { 0.0, 1.0, NAN })

float hydra_ema_push (HydraEma *ema, double weight, float x);

G_END_DECLS
