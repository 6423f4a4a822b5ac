/* trainer.h — training on a thread of its own, steered while it runs.
 *
 * The trainer owns the model while it trains. Other threads talk to it in two directions
 * only (DESIGN.md, Threads):
 *  - settings go in — loss weights, the age-loss kind, the learning rate, pause, resume,
 *    stop — and take effect at the next step; every change comes back as an event stamped
 *    with the step it took effect at, so a plot can mark it and a run can be replayed;
 *  - events come out through a bounded channel: per step (each head's raw and weighted loss,
 *    the total, learning rate, images/s, the balance diagnostics), per epoch (validation
 *    metrics), settings and state changes. A slow or absent consumer never blocks training
 *    and never grows memory: step events are dropped oldest-first (and counted) once the
 *    channel is full; the rare others have a channel of their own.
 *
 * Balance diagnostics: the gradient each head sends into the shared 512-d feature (already
 * scaled by its weight) — its norm, and the cosines between the three. They say which head
 * steers the trunk, and whether the heads pull together or against each other.
 *
 * Safety: a step whose loss or gradient is NaN/Inf, or whose loss explodes, is not applied;
 * training pauses with a message naming the head. Each epoch ends with an atomic checkpoint:
 * the model with step, epoch, settings and their history as metadata (so it loads strictly in
 * PyTorch), and the optimizer state beside it in PATH.optim; rollback returns to it.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "batches.h"
#include "dataset.h"
#include "evaluate.h"
#include "model.h"
#include "optimizer.h"

typedef struct
{
  HnBackbone backbone;
  int size;       /* input side; must equal the data set's */
  int batch;
  int epochs;     /* stop after this many (counting those a resumed run already did) */
  int val_percent;
  uint64_t seed;  /* initialisation, shuffling, augmentation */
  HnAugment augment;
  HnOptimizerConfig optimizer;
  HnLossConfig loss;
  const char *checkpoint_path; /* autosave at each epoch's end; NULL: none */
  int event_capacity;          /* step events held for a slow consumer; 0: 4096 */
} HnTrainConfig;

/* The article's setup (ResNet-18, 32×32, SGD lr 1e-4 momentum 0.09 — as printed —,
 * L1 + BCE + CE, weights 1/1/1, batch 64) and the studio's default, which learns visibly
 * within minutes on two cores (Adam lr 1e-3, flips, 10 epochs). */
HnTrainConfig train_preset_tutorial (void);
HnTrainConfig train_preset_studio (void);
bool train_preset_from_name (const char *name, HnTrainConfig *config);

typedef enum
{
  SETTING_W_AGE,
  SETTING_W_GENDER,
  SETTING_W_RACE,
  SETTING_AGE_LOSS, /* value: an HnAgeLoss */
  SETTING_LR,
  SETTING_PAUSE,
  SETTING_RESUME,
  SETTING_ROLLBACK, /* value: the step returned to */
  N_SETTINGS
} HnSettingKind;

const char *setting_name (HnSettingKind kind); /* "w_age", …, "age_loss", "lr", "pause", … */

typedef enum
{
  TRAINER_RUNNING,
  TRAINER_PAUSED,
  TRAINER_DIVERGED,  /* paused by the guard; message says why */
  TRAINER_FINISHED,  /* all epochs done */
  TRAINER_STOPPED,   /* stopped on request */
  TRAINER_FAILED,    /* an error (message); training cannot go on */
} HnTrainerState;

const char *trainer_state_name (HnTrainerState state);

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
  HnAgeLoss age_loss;
  float weight[N_HEADS];
} HnStepEvent;

typedef struct
{
  HnEventKind kind;
  uint64_t seq;  /* order of all events */
  int64_t step;  /* optimizer steps done when it happened */
  int epoch;     /* epochs completed */
  union
  {
    HnStepEvent train;
    HnEvalResult val;
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

typedef struct HnTrainer HnTrainer;

/* Takes ownership of model (NULL: a fresh one from config->seed) and of optimizer (NULL: a
 * fresh one from config->optimizer); borrows ds, which must outlive the trainer. Does not
 * start. */
HnTrainer *trainer_new (const HnTrainConfig *config, const HnDataset *ds, HnModel *model,
                        HnOptimizer *optimizer, HnError *err);

/* Continues a checkpoint written by a trainer: weights, optimizer state, step, epoch and the
 * settings history (whose last values become the current settings). */
HnTrainer *trainer_resume (const char *checkpoint, const HnTrainConfig *config,
                           const HnDataset *ds, HnError *err);

/* Joins the thread (stopping it first) and frees everything. */
void trainer_free (HnTrainer *t);

bool trainer_start (HnTrainer *t, HnError *err);
void trainer_pause (HnTrainer *t);
void trainer_resume_training (HnTrainer *t);
void trainer_stop (HnTrainer *t); /* returns at once; the thread ends within a step */
void trainer_join (HnTrainer *t); /* waits for the thread to end */

/* Live settings: applied at the start of the next step and reported as events. */
void trainer_set_weight (HnTrainer *t, int head, float weight);
void trainer_set_age_loss (HnTrainer *t, HnAgeLoss kind);
void trainer_set_lr (HnTrainer *t, float lr);

/* Returns to the last checkpoint (or to the weights training started from) — the way out
 * after a divergence. The trainer stays paused afterwards. */
void trainer_rollback (HnTrainer *t);

/* Copies up to max events, oldest first; returns how many. *dropped (if not NULL) receives
 * the number of step events dropped since the last call because nobody read them. */
int trainer_poll (HnTrainer *t, HnEvent *events, int max, uint64_t *dropped);

/* Blocks until an event is pending or timeout_ms passes; true when one is. */
bool trainer_wait_event (HnTrainer *t, int timeout_ms);

HnTrainerState trainer_state (HnTrainer *t);

/* A consistent copy of the weights and running statistics into dst (a model of the same
 * backbone), taken between two steps: the trainer pauses for the copy only. */
void trainer_snapshot (HnTrainer *t, HnModel *dst);

/* Writes a checkpoint now (between steps) with optimizer state and history. */
bool trainer_save (HnTrainer *t, const char *path, HnError *err);

/* How long the trainer has run, counted in optimizer steps. */
int64_t trainer_step (HnTrainer *t);
