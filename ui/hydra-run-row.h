/* hydra-run-row.h — one line of the Runs view: a run folder as run.json says, or a folder of
 * the runs folder that is not a run, with the reader's reason.
 *
 * The columns are named here, with how each cell reads (text) and sorts (a number, or the
 * text when a column has none), so the table, its sorters and the tests read the same.
 */
#pragma once

#include <gio/gio.h>

#include "runinfo.h"

G_BEGIN_DECLS

typedef enum
{
  HYDRA_RUN_COL_NAME,
  HYDRA_RUN_COL_CREATED,
  HYDRA_RUN_COL_STATE,
  HYDRA_RUN_COL_BALANCE, /* the settings at the start: "Differences only" may hide these… */
  HYDRA_RUN_COL_AGE_LOSS,
  HYDRA_RUN_COL_W_AGE,
  HYDRA_RUN_COL_W_GENDER,
  HYDRA_RUN_COL_W_RACE,
  HYDRA_RUN_COL_LR,
  HYDRA_RUN_COL_PRESET,
  HYDRA_RUN_COL_DATA, /* …up to here */
  HYDRA_RUN_COL_EPOCHS,
  HYDRA_RUN_COL_STEPS,
  HYDRA_RUN_COL_MAE, /* the final validation */
  HYDRA_RUN_COL_GENDER,
  HYDRA_RUN_COL_RACE,
  HYDRA_RUN_COL_BEST, /* the lowest age MAE, and its epoch */
  HYDRA_RUN_N_COLUMNS
} HydraRunColumn;

#define HYDRA_RUN_COL_FIRST_SETTING HYDRA_RUN_COL_BALANCE
#define HYDRA_RUN_COL_LAST_SETTING HYDRA_RUN_COL_DATA

/* The column's header, for people. */
const char *hydra_run_column_title (HydraRunColumn col);

/* Whether lower values of the column are better (age MAE) — for the Δ columns' colours. */
gboolean hydra_run_column_lower_is_better (HydraRunColumn col);

#define HYDRA_TYPE_RUN_ROW (hydra_run_row_get_type ())
G_DECLARE_FINAL_TYPE (HydraRunRow, hydra_run_row, HYDRA, RUN_ROW, GObject)

/* Takes info (its contents: the caller's struct is zeroed). */
HydraRunRow *hydra_run_row_new (HnRunInfo *info);
/* A folder that is not a run. */
HydraRunRow *hydra_run_row_new_skipped (const char *folder, const char *reason);

const char *hydra_run_row_get_folder (HydraRunRow *self);
/* NULL for a skipped folder. */
const HnRunInfo *hydra_run_row_get_info (HydraRunRow *self);
/* NULL for a run. */
const char *hydra_run_row_get_reason (HydraRunRow *self);

/* Picked for comparison: the "compare" property, bound to the row's check box. */
gboolean hydra_run_row_get_compare (HydraRunRow *self);
void hydra_run_row_set_compare (HydraRunRow *self, gboolean compare);

/* Whether its loss settings (weights, method, age loss) were changed live after its start:
 * then it is no static choice of weights. Found by the view's reader. */
gboolean hydra_run_row_get_changed_live (HydraRunRow *self);
void hydra_run_row_set_changed_live (HydraRunRow *self, gboolean changed);

/* The cell as shown (free it); "" when the run has no such figure. */
char *hydra_run_row_dup_text (HydraRunRow *self, HydraRunColumn col);
/* The cell as a number, for sorting and Δ; NAN when it has none or is not a number. */
double hydra_run_row_get_number (HydraRunRow *self, HydraRunColumn col);

/* Orders two rows by col, runs without the figure after those with it, then by name. */
int hydra_run_row_compare (HydraRunRow *a, HydraRunRow *b, HydraRunColumn col);

/* How a Δ against a baseline reads: "−0.31", "+2.5 pts" (free it). */
char *hydra_run_format_delta (HydraRunColumn col, double delta);

G_END_DECLS
