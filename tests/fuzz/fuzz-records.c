/* fuzz-records.c — a run's record (CSV): records_read, as the studio opens a curves.csv or a
 * `--log` file the user picks. Each row read is formatted again (records_format), as Export
 * Plot writes what it plotted. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "records.h"

const char fuzz_target_name[] = "records";

static bool
on_row (const HnEvent *e, void *ctx)
{
  char row[RECORDS_MAX_ROW];
  FUZZ_CHECK (e->kind >= EVENT_STEP && e->kind <= EVENT_CHECKPOINT);
  if (e->kind == EVENT_SETTING)
    FUZZ_CHECK (e->setting.what >= 0 && e->setting.what < N_SETTINGS);
  if (e->kind == EVENT_STATE || e->kind == EVENT_CHECKPOINT)
    FUZZ_CHECK (memchr (e->state.message, '\0', sizeof e->state.message) != NULL);
  if (e->kind == EVENT_STATE)
    FUZZ_CHECK (e->state.state >= 0 && e->state.state < N_TRAINER_STATES);
  int len = records_format (e, row, sizeof row);
  FUZZ_CHECK (len > 0 && len < (int) sizeof row && row[len - 1] == '\n');
  (*(int64_t *) ctx)++;
  return true;
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  fuzz_put ("curves.csv", data, size);
  char *path = fuzz_path ("curves.csv");
  HnError err = { { 0 } };
  int64_t seen = 0, rows = -1;
  if (records_read (path, on_row, &seen, &rows, &err))
    FUZZ_CHECK (rows == seen);
  else
    FUZZ_CHECK (err.message[0] != '\0' && rows == seen);
  fuzz_note (err.message);
  free (path);
  return 0;
}
