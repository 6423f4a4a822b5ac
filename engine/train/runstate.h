/* runstate.h — where a run stands, and its checkpoints.
 *
 * A checkpoint is the model with the run's metadata (runmeta.h: position, seed, the loss
 * settings in force and the history of every change, the optimizer's settings, the last
 * validation), so that it loads strictly in PyTorch, and the optimizer's moments beside it
 * in PATH.optim. Each file is written atomically and both carry the step. The sidecar is
 * written first, as .PATH.optim.pending, and renamed into place once PATH is: a failed write
 * (a full disk) leaves the old pair, and a crash between the two renames a pair that resuming
 * recognises as mismatched rather than one it trusts.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ema.h"
#include "events.h"
#include "safetensors.h"

typedef struct
{
  int64_t step;
  HnSettingKind what;
  double value;
} HnHistoryEntry;

typedef struct
{
  int64_t step;             /* optimizer steps done */
  int epoch, batch_index;   /* epochs done, and the next batch of the current one */
  HnLossConfig loss;        /* in force: under a balancing method, the weights it chose last */
  HnBalanceState balance;   /* what the method in force has learned (balance.h) */
  float lr_scale;           /* the live learning-rate control's factor on the schedule */
  double schedule_done;     /* the share of the schedule at the last step, in [0, 1] */
  HnEvalResult val;         /* the last validation (n = 0: none yet) */
  HnHistoryEntry *history;  /* every change, pause, resume and rollback, in order */
  int n_history, cap_history;
} HnRunState;

/* Appends to the history at the current step. Losing an entry to a failed allocation is
 * survivable: the history is a record, not a control path. */
void run_state_record (HnRunState *s, HnSettingKind what, double value);
void run_state_clear (HnRunState *s); /* frees the history */

/* Where checkpoint path's optimizer state lives: PATH.optim. Caller frees; NULL: no memory. */
char *run_state_optimizer_path (const char *path);

/* Writes the model with the run's metadata to path; with opt, its moments to PATH.optim
 * first, which makes the checkpoint one a run can resume from. With an average of the weights
 * (ema, may be NULL), PATH holds the average, the model to use, and PATH.optim the weights
 * trained on as well. */
bool run_state_save (const HnRunState *s, HnModel *model, const HnOptimizer *opt, HnEma *ema,
                     const HnTrainConfig *config, const char *path, HnError *err);

/* Reads back what run_state_save wrote: the position, settings and history into s, the
 * optimizer (with config's optimizer and schedule replaced by the file's) into *opt, and with
 * an average, the average into ema and the weights trained on into model. st is the
 * checkpoint at path, whose weights the caller has applied to model. On failure nothing is
 * changed. */
bool run_state_restore (HnRunState *s, HnOptimizer **opt, HnEma *ema, HnModel *model,
                        HnTrainConfig *config, const HnSafetensors *st, const char *path,
                        HnError *err);
