/* runinfo.h — a run folder's run.json: what the run is, where it came from and how it went.
 *
 * One JSON object, written by the trainer (HnTrainConfig.run_dir) and read by anything that
 * lists or compares runs (hydranet-cli runs, the studio):
 *
 *   format     "hydranet-run-1"
 *   name       the folder's name at first; renaming the run edits it (run_info_rename)
 *   created    when the run started: ISO 8601 in UTC, "2026-12-07T06:45:12.345Z"
 *   source     who trained: "hydranet-cli 0.1.0", "HydraNet Studio 0.1.0"
 *   data       {"folder": "/abs/UTKFace"} or {"synthetic": 2000, "seed": 1}
 *   settings   every setting at the start: preset (or null), backbone, size, batch, epochs,
 *              optimizer {kind, lr (the peak in force), momentum, nesterov, weight_decay,
 *              decay "all"|"weights", beta1, beta2, eps}, schedule {kind, warmup, gamma,
 *              div, final_div}, augment {flip, crop, aspect, rotate, brightness, contrast,
 *              saturation}, ema (the decay; 0: off), tta, val_percent, val_every (a number or
 *              "end"), seed, age_target "years"|"standardized", time_budget_s,
 *              loss {age_loss, w_age, w_gender, w_race, smoothing, balance}; the loss
 *              settings and the rate are those in force at the start (a fork's, changed)
 *   parent     null, or for a fork {folder, checkpoint, step, epoch}: the run and the
 *              checkpoint it branched from, as absolute paths, and where that stood
 *   summary    rewritten at each epoch's end and at the run's end: state (running,
 *              finished, stopped, diverged, failed), updated (as created), steps, epochs,
 *              batch (batches into the next epoch), images (seen by the weights: epochs ×
 *              the epoch's images + those of the batches since), final (the last validation)
 *              and best (the lowest age MAE) — each null or {epoch, step, n, age_mae,
 *              age_rmse, gender_acc, race_acc, loss {age, gender, race}, race_confusion} —
 *              and checkpoints [{file (relative to the folder), epoch, batch, step}]
 *
 * Numbers are JSON numbers; floats have the fewest digits that read back as the same float;
 * the seed is a number up to 2^53 and a decimal string above. A run whose process died
 * mid-run stays "running".
 *
 * The reader treats the file as hostile: at most RUN_INFO_MAX bytes; a key that is missing
 * takes its default (a preset-less studio run's settings, no parent, an empty summary); a
 * key of the wrong type or out of range is an error that names it. Keys it does not know
 * are ignored, and kept when the file is rewritten.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "error.h"
#include "evaluate.h"
#include "events.h"

#define RUN_INFO_FORMAT "hydranet-run-1"
#define RUN_INFO_MAX (4u << 20)
#define RUN_INFO_TIME 32 /* room for a time as run.json writes it */

/* The current time as run.json writes it, in UTC: "2026-12-07T06:45:12.345Z". */
void run_info_format_now (char buf[RUN_INFO_TIME]);

typedef struct
{
  char *folder;     /* the parent run's folder, absolute */
  char *checkpoint; /* the checkpoint branched from, absolute */
  int64_t step;     /* where it stood */
  int epoch;
} HnRunParent;

typedef struct
{
  int epoch;        /* epochs done when it was taken */
  int64_t step;
  HnEvalResult val; /* n = 0: none (its `trained` losses are not kept) */
} HnRunValidation;

typedef struct
{
  char *file;       /* relative to the run folder: "checkpoints/epoch-001.safetensors" */
  int epoch, batch; /* epochs done, and batches of the next */
  int64_t step;
} HnRunCheckpoint;

typedef struct
{
  HnTrainerState state;
  int64_t steps;
  int epochs, batch;
  uint64_t images;
  HnRunValidation final, best;
  HnRunCheckpoint *checkpoints; /* in the order they were written */
  int n_checkpoints, cap_checkpoints;
} HnRunSummary;

typedef struct
{
  char *folder;            /* absolute (as given when it cannot be resolved) */
  char *name, *created, *source, *preset, *data_folder;
  HnTrainConfig settings;  /* its source, preset and data_folder point to the strings above;
                            * the other paths are NULL */
  bool has_parent;
  HnRunParent parent;
  HnRunSummary summary;    /* its checkpoints: those whose file is there */
  bool has_model;          /* FOLDER/model.safetensors is there */
} HnRunInfo;

/* ---- reading ---- */

/* Reads FOLDER/run.json into info (cleared first; clear it after, whatever this returns).
 * False and err, naming the key at fault, when it is missing, too big, not JSON, not a
 * run.json or holds a value of the wrong type or out of range. */
bool run_info_read (const char *folder, HnRunInfo *info, HnError *err);
void run_info_clear (HnRunInfo *info);

/* A folder of dir that is not a run: its path, and why. */
typedef struct
{
  char *folder;
  char *reason;
} HnSkippedRun;

typedef struct
{
  HnRunInfo *runs;         /* by creation time, then by folder */
  int n_runs;
  HnSkippedRun *skipped;   /* by folder */
  int n_skipped;
} HnRunList;

/* Reads every folder of dir (hidden ones aside) as a run; those that are not are listed as
 * skipped with the reader's message. A dir that does not exist is an empty list; one that
 * cannot be read is an error. */
bool run_list_read (const char *dir, HnRunList *list, HnError *err);
void run_list_clear (HnRunList *list);

/* info as run.json would hold it, with "folder" added (and "model": the final model's path,
 * or null), as a JSON tree (cJSON_Delete it, or add it to another); NULL when out of memory. */
cJSON *run_info_to_cjson (const HnRunInfo *info);

/* ---- writing ---- */

/* The run.json of a run that starts now in folder, without its summary, as JSON text (free
 * it): the name (the folder's), the time, config's source, data and settings — with the loss
 * settings and peak learning rate in force (loss, lr), which a fork may have changed at its
 * start — and parent (NULL: none). NULL and err when out of memory. */
char *run_info_begin (const char *folder, const HnTrainConfig *config, const HnLossConfig *loss,
                      float lr, const HnRunParent *parent, HnError *err);

/* Replaces FOLDER/run.json atomically with summary s and, from the file as it is, every other
 * key (its name after a rename, keys a later version added) — or, when the file is missing or
 * not a run.json, those of `start` (run_info_begin's). Serialised with run_info_rename
 * (flock on the folder), so a rename during a run is not lost. */
bool run_info_write_summary (const char *folder, const char *start, const HnRunSummary *s,
                             HnError *err);

/* Renames the run: its run.json's name (1 to 200 bytes, no control characters). */
bool run_info_rename (const char *folder, const char *name, HnError *err);

/* ---- the summary, as a run goes ---- */

/* Follows a run's events: state changes (a run stopped after it diverged stays
 * "diverged") and validations (final, and best by age MAE). */
void run_summary_observe (HnRunSummary *s, const HnEvent *e);

/* Adds a checkpoint, or updates the one with the same file (written again after a
 * rollback). False when out of memory. */
bool run_summary_add_checkpoint (HnRunSummary *s, const char *file, int epoch, int batch,
                                 int64_t step);
void run_summary_clear (HnRunSummary *s);
