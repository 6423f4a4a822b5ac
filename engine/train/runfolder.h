/* runfolder.h — a folder per run, where everything the run makes is kept side by side.
 */
#pragma once

#include "error.h"

#define RUN_CHECKPOINT "checkpoint.safetensors" /* at each epoch's end, with .optim beside it */
#define RUN_RECORD "curves.csv"                 /* every event (records.h) */
#define RUN_MODEL "model.safetensors"           /* the weights when the run ended */

/* Makes a new folder for a run under parent (created if missing), named after the local
 * time, "2026-12-07-064512", with "-2", "-3"… when two runs start within a second, so that
 * no run ever writes into another's. Returns its path (free it), or NULL and err. */
char *run_folder_create (const char *parent, HnError *err);

/* FOLDER/NAME (free it); NULL when out of memory. */
char *run_folder_file (const char *folder, const char *name);
