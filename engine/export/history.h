/* history.h — a run's live changes as a replay needs them: each setting changed by hand (or a
 * fork's changes at its branch), at the point of training where it took effect, counted in
 * optimizer steps and in images seen.
 *
 * Images seen is what carries over to another number of processes or another batch size:
 * the exported train.py applies a change before the first step whose images seen reach it.
 *
 * Only the changes still in force on the path to the run's end are kept:
 *   - a rollback returns to the newest checkpoint and restores the settings it holds, so
 *     the changes recorded after that checkpoint are dropped;
 *   - a fork starts from a parent's checkpoint, so its history is the parent's up to that
 *     checkpoint, then its own (its changes are marked at the branch step).
 * Pause, resume and rollback themselves are not settings of the recipe and are left out.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "events.h"

typedef struct
{
  int64_t step;        /* optimizer steps done when it took effect */
  uint64_t images;     /* images the weights had seen then */
  HnSettingKind what;  /* SETTING_W_AGE … SETTING_BALANCE */
  double value, old_value;
} HnChange;

/* One run of a chain of forks: the settings that are a run's own (its epochs, which the
 * schedule spans, and its augmentation) hold from where it starts. */
typedef struct
{
  char *folder;        /* the run, absolute */
  int64_t step;        /* where it starts: 0 for the first, a fork's branch step */
  uint64_t images;     /* the images seen there */
} HnSegment;

typedef struct
{
  HnChange *items;
  int n, cap;
  HnSegment *segments; /* the chain, the run it starts from first */
  int n_segments;
} HnHistory;

/* Reads the history of the run in folder (its curves.csv, and its parents' for a fork); a
 * step row without its images (records written before the column) counts a whole batch.
 * False and err when a record is missing or not a record, or a fork's parent cannot be read;
 * clear h after, whatever this returns. */
bool run_history_read (const char *folder, HnHistory *h, HnError *err);
void run_history_clear (HnHistory *h);
