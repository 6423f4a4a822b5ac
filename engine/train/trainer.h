/* trainer.h — training on a thread of its own, steered while it runs.
 *
 * The trainer owns the model while it trains. Other threads talk to it in two directions
 * only (ARCHITECTURE.md, Threads):
 *  - settings go in — loss weights, the age-loss kind, the learning rate, pause, resume,
 *    stop — and take effect at the next step; every change comes back as an event stamped
 *    with the step it took effect at, so a plot can mark it and a run can be replayed;
 *  - events come out (events.h): per step (each head's raw and weighted loss, the total,
 *    learning rate, images/s, the balance diagnostics), per epoch (validation), settings and
 *    state changes, through a bounded channel that never blocks training.
 *
 * Balance diagnostics: the gradient each head sends into the shared 512-d feature (already
 * scaled by its weight) — its norm, and the cosines between the three. They say which head
 * steers the trunk, and whether the heads pull together or against each other. A balancing
 * method (balance.h) may set the weights instead of the user, from the losses or from those
 * gradients.
 *
 * Safety: the guard (guard.h) refuses a step that would wreck the weights and pauses. Each
 * epoch ends with an atomic checkpoint (runstate.h) that rollback returns to, and every
 * event is appended to the run's record (records.h) when a path is set. With a run folder
 * (HnTrainConfig.run_dir), the trainer keeps all of it there, one checkpoint per epoch, with
 * run.json (runfolder.h, runinfo.h).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dataset.h"
#include "events.h"
#include "optimizer.h"

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

/* Live settings: applied at the start of the next step and reported as events. Set before
 * trainer_start (a fork's changes), they are applied by it, at the step the run starts from,
 * and the first checkpoint holds them. */
void trainer_set_weight (HnTrainer *t, int head, float weight);
void trainer_set_age_loss (HnTrainer *t, HnAgeLoss kind);
/* lr is the schedule's peak, as config.optimizer.lr: the schedule goes on, scaled to it. */
void trainer_set_lr (HnTrainer *t, float lr);
/* The method that sets the weights from the next step, warm-started from the weights then in
 * force (balance.h); each step's weights come out in the step events' loss settings. */
void trainer_set_balance (HnTrainer *t, HnBalance method);

/* Returns to the last checkpoint (or to the weights training started from) — the way out
 * after a divergence. The trainer stays paused afterwards. */
void trainer_rollback (HnTrainer *t);

/* Copies up to max events, oldest first; returns how many. *dropped (if not NULL) receives
 * the number of step events dropped since the last call because nobody read them. */
int trainer_poll (HnTrainer *t, HnEvent *events, int max, uint64_t *dropped);

/* The thread has ended: the events after the last state (a record that failed to close,
 * run.json's summary not written) are all in the channel. */
bool trainer_ended (HnTrainer *t);

/* Blocks until an event is pending or timeout_ms passes; true when one is. */
bool trainer_wait_event (HnTrainer *t, int timeout_ms);

HnTrainerState trainer_state (HnTrainer *t);

/* A consistent copy of the weights and running statistics into dst (a model of the same
 * backbone), taken between two steps: the trainer pauses for the copy only. With a moving
 * average of the weights (HnTrainConfig.ema_decay), the average. */
void trainer_snapshot (HnTrainer *t, HnModel *dst);

/* Writes a checkpoint now (between steps) with optimizer state and history. */
bool trainer_save (HnTrainer *t, const char *path, HnError *err);

/* Writes the model now with the run's metadata, without the optimizer state beside it. */
bool trainer_save_model (HnTrainer *t, const char *path, HnError *err);

/* How long the trainer has run, counted in optimizer steps. */
int64_t trainer_step (HnTrainer *t);
