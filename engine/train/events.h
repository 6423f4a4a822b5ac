/* events.h — what a training run reports, and the bounded channel it reports through.
 *
 * The trainer thread pushes events; any other thread polls them (ARCHITECTURE.md, Threads).
 * A slow or absent reader never blocks training and never grows memory: step events, many a
 * second, go in a ring of their own and the oldest are dropped (and counted) once it is full;
 * the rare others (validation, settings, states) have a second ring, and a poll merges the
 * two by sequence number, so events come out in the order they happened.
 */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "evaluate.h"
#include "model.h"

typedef enum
{
  SETTING_W_AGE,
  SETTING_W_GENDER,
  SETTING_W_RACE,
  SETTING_AGE_LOSS, /* value: an HnAgeLoss */
  SETTING_LR,
  SETTING_BALANCE,  /* value: an HnBalance */
  SETTING_PAUSE,
  SETTING_RESUME,
  SETTING_ROLLBACK, /* value: the step returned to */
  N_SETTINGS
} HnSettingKind;

const char *setting_name (HnSettingKind kind); /* "w_age", …, "age_loss", "lr", "balance", … */
bool setting_from_name (const char *name, HnSettingKind *kind);

/* A change as a person reads it: "w_age 1 → 0.25", "age L1 → MSE", "balance Manual → FAMO",
 * "paused". */
void setting_describe (HnSettingKind kind, double value, double old_value, char *buf, int len);

typedef enum
{
  TRAINER_RUNNING,
  TRAINER_PAUSED,
  TRAINER_DIVERGED, /* paused by the guard; message says why */
  TRAINER_FINISHED, /* all epochs done */
  TRAINER_STOPPED,  /* stopped on request */
  TRAINER_FAILED,   /* an error (message); training cannot go on */
  N_TRAINER_STATES
} HnTrainerState;

const char *trainer_state_name (HnTrainerState state); /* "running", "paused", … */
bool trainer_state_from_name (const char *name, HnTrainerState *state);

typedef enum
{
  EVENT_STEP,
  EVENT_EPOCH,
  EVENT_SETTING,
  EVENT_STATE,
  EVENT_CHECKPOINT, /* a checkpoint was written (message: its path) or failed (error set) */
} HnEventKind;

typedef struct
{
  float raw[N_HEADS];
  float weighted[N_HEADS];
  float total;
  float lr;
  float img_per_s;
  float grad_norm[N_HEADS]; /* ‖∂(w·L_h)/∂feature‖ over the batch */
  float cosine[3];          /* age·gender, age·race, gender·race */
  int images;               /* in this step's batch */
  int batch_index, batches; /* position in the epoch */
} HnStepEvent;

typedef struct
{
  HnEventKind kind;
  uint64_t seq;       /* order of all events */
  int64_t step;       /* optimizer steps done when it happened */
  int epoch;          /* epochs completed */
  HnLossConfig loss;  /* the loss settings in force */
  union
  {
    HnStepEvent train;
    HnEvalResult val; /* EVENT_EPOCH: n is 0 when there is no validation split */
    struct
    {
      HnSettingKind what;
      double value, old_value;
    } setting;
    struct
    {
      HnTrainerState state;
      bool error;
      char message[256];
    } state;
  };
} HnEvent;

typedef struct
{
  HnEvent *items;
  int capacity, head, count;
  uint64_t dropped;
} HnEventRing;

typedef struct
{
  pthread_mutex_t lock;
  pthread_cond_t pushed;
  HnEventRing steps, others;
  uint64_t seq;
} HnEventChannel;

/* step_capacity: step events held for a slow reader. False when out of memory. */
bool event_channel_init (HnEventChannel *ch, int step_capacity);
void event_channel_clear (HnEventChannel *ch);

/* Stamps e with the next sequence number and queues it. Any thread. */
void event_channel_push (HnEventChannel *ch, HnEvent *e);

/* Copies up to max events, oldest first; returns how many. *dropped (if not NULL) receives
 * the number of events dropped since the last poll because nobody read them. */
int event_channel_poll (HnEventChannel *ch, HnEvent *out, int max, uint64_t *dropped);

/* Blocks until an event is pending or timeout_ms passes; true when one is. */
bool event_channel_wait (HnEventChannel *ch, int timeout_ms);
