/* fuzz-history.c — a run's history of live changes, as an export reads it: run_history_read
 * over run.json and curves.csv of runs/a and, for a fork ("parent": {"folder":
 * "@DIR@/runs/b", …}), of its parent runs/b (fuzz_put_runs lays the input out). */
#include "fuzz.h"

#include <stdlib.h>

#include "history.h"

const char fuzz_target_name[] = "history";

int
fuzz_target (const uint8_t *data, size_t size)
{
  fuzz_put_runs (data, size);
  char *run = fuzz_path ("runs/a");
  HnError err = { { 0 } };
  HnHistory h;
  if (run_history_read (run, &h, &err))
    {
      FUZZ_CHECK (h.n >= 0 && h.n_segments >= 1);
      for (int i = 0; i < h.n; i++)
        FUZZ_CHECK (h.items[i].what >= SETTING_W_AGE && h.items[i].what <= SETTING_BALANCE);
      for (int i = 0; i < h.n_segments; i++)
        FUZZ_CHECK (h.segments[i].folder != NULL);
    }
  else
    FUZZ_CHECK (err.message[0] != '\0');
  fuzz_note (err.message);
  run_history_clear (&h);
  free (run);
  return 0;
}
