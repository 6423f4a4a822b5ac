/* progress.h — how far a run has come and how long it has left, from its step events: the
 * one reckoning behind the CLI's progress line and the studio's status bar.
 */
#pragma once

#include <stdint.h>

#include "events.h"

typedef struct
{
  int epochs;        /* planned; 0 when a time budget decides */
  double deadline;   /* hn_seconds () when a time budget ends the run, or 0 */
  int batch_size;    /* the largest batch seen */
  int64_t step;      /* optimizer steps done */
  int epoch;         /* epochs done */
  int batches;       /* per epoch (0 before the first step) */
  double fraction;   /* of the current epoch done, in [0, 1] */
  double img_per_s;  /* a short moving average: one slow step (a snapshot, a save) does not
                      * swing the estimate */
} HnProgress;

/* With a time budget (time_budget > 0 seconds from clock_start), the budget's end is the
 * estimate and the epochs are not counted. */
void progress_init (HnProgress *p, int epochs, int batch_size);
void progress_set_budget (HnProgress *p, double clock_start, double time_budget);

/* Takes in a step event; other events change nothing. */
void progress_step (HnProgress *p, const HnEvent *e);

/* At an epoch's end. */
void progress_epoch (HnProgress *p, int epochs_done);

/* Seconds left in the run at the current speed, or −1 before it is known. */
double progress_eta (const HnProgress *p);
