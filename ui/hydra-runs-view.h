/* hydra-runs-view.h — the Runs view: every run folder of the studio, side by side.
 *
 * A table of the runs in $XDG_DATA_HOME/hydranet-studio/runs (read with run_list_read on a
 * worker), sortable by any column, with "Differences only" (settings every run shares are
 * hidden), a pinned baseline with Δ columns, rename, Move to Trash, check boxes that pick
 * runs for win.compare-runs, Fork, Export as PyTorch Project and Import Run. Under the table,
 * the trade-off scatter of the runs' final age MAE against race accuracy. Folders that are not
 * runs are dim lines with the reader's reason.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-run-row.h"
#include "hydra-runs-scatter.h"
#include "hydra-trainer.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_RUNS_VIEW (hydra_runs_view_get_type ())
G_DECLARE_FINAL_TYPE (HydraRunsView, hydra_runs_view, HYDRA, RUNS_VIEW, GtkWidget)

GtkWidget *hydra_runs_view_new (void);

/* The folder of runs; by default $XDG_DATA_HOME/hydranet-studio/runs, where the studio's
 * runs go. Setting it reads it again. */
void hydra_runs_view_set_directory (HydraRunsView *self, const char *directory);
const char *hydra_runs_view_get_directory (HydraRunsView *self);

/* The trainer whose runs start, end and write checkpoints (each reads the folder again), and
 * whose live run cannot be trashed. */
void hydra_runs_view_set_trainer (HydraRunsView *self, HydraTrainer *trainer);

/* Reads the folder again on a worker; "loaded" is emitted when the table shows it. */
void hydra_runs_view_refresh (HydraRunsView *self);
gboolean hydra_runs_view_get_loading (HydraRunsView *self);

/* The rows as shown, in the table's order (HydraRunRow). */
GListModel *hydra_runs_view_get_rows (HydraRunsView *self);
GtkColumnView *hydra_runs_view_get_column_view (HydraRunsView *self);
/* The column of a run figure or setting; delta: its Δ column (MAE, gender, race only). */
GtkColumnViewColumn *hydra_runs_view_get_column (HydraRunsView *self, HydraRunColumn col,
                                                 gboolean delta);
/* The cell's text as the table shows it; position in the table's order. */
char *hydra_runs_view_dup_cell (HydraRunsView *self, guint position, HydraRunColumn col,
                                gboolean delta);
HydraRunsScatter *hydra_runs_view_get_scatter (HydraRunsView *self);

/* Selects the run of folder (FALSE: not shown). */
gboolean hydra_runs_view_select (HydraRunsView *self, const char *folder);
/* The selected run's folder, or NULL. */
const char *hydra_runs_view_get_selected (HydraRunsView *self);

/* Export as PyTorch Project (engine/export/export.h): the project of run (a run folder) is
 * written on a worker into out_dir when that is new or empty, else into a new folder in it
 * named after the run ("NAME-pytorch"); "notice" says where, or "failed" why not. */
void hydra_runs_view_export_pytorch (HydraRunsView *self, const char *run, const char *out_dir);
/* The same, after asking for the folder in a file chooser. */
void hydra_runs_view_choose_export (HydraRunsView *self, const char *run);

/* Import Run: what an exported project trained (PROJECT/output) or any run folder, copied on a
 * worker into the folder of runs as a new run, which the table then selects; "notice" or
 * "failed" says how it went. */
void hydra_runs_view_import_run (HydraRunsView *self, const char *project);
/* The same, after asking for the project in a file chooser. */
void hydra_runs_view_choose_import (HydraRunsView *self);

/* The baseline's folder (NULL: none); the Δ columns show final figures minus its. */
void hydra_runs_view_set_baseline (HydraRunsView *self, const char *folder);
const char *hydra_runs_view_get_baseline (HydraRunsView *self);

/* Signals:
 *   "loaded" ()                       the table shows what the folder held
 *   "fork" (HydraRunRow *run, const char *checkpoint)
 *                                     the user asked for a fork of run from checkpoint
 *                                     (absolute); the window checks the data and starts it
 *   "failed" (const char *message)    reading the folder, a rename, a move to the trash, an
 *                                     export or an import failed; the window says so in its
 *                                     banner
 *   "notice" (const char *message)    an export or an import is done: where it went, and
 *                                     what comes next
 * Actions (the view's toolbar, and keys): runs.refresh (F5), runs.pin-baseline,
 * runs.rename (F2), runs.trash (Delete), runs.compare, runs.fork, runs.export-pytorch
 * (Ctrl+Shift+E), runs.import (Insert). */

G_END_DECLS
