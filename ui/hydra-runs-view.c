/* hydra-runs-view.c — the Runs view: the studio's run folders in a table and a scatter.
 *
 * The folder is read on a worker (run_list_read) at most once at a time: a refresh asked for
 * while one is under way reads again when it ends. Renames, trashing, exports and imports go
 * to workers too; each reads the folder again when done. The table is a GtkColumnView over a sort
 * model whose sorter keeps folders that are not runs last, whatever the column's order.
 */

#include "hydra-runs-view.h"
#include "hydra-application.h"
#include "hydra-settings.h"

#include <math.h>

#include "checkpoint.h"
#include "export.h"
#include "runmeta.h"

#define DELTA_FIRST HYDRA_RUN_COL_MAE
#define N_DELTAS 3 /* MAE, gender, race */

struct _HydraRunsView
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkCheckButton *differences_check;
  GtkToggleButton *baseline_button;
  GtkMenuButton *rename_button;
  GtkPopover *rename_popover;
  GtkEntry *rename_entry;
  GtkWidget *rename_apply;
  GtkMenuButton *fork_button;
  GtkPopover *fork_popover;
  GtkLabel *fork_title;
  GtkDropDown *fork_dropdown;
  GtkWidget *fork_start;
  GtkWidget *compare_button;
  GtkLabel *count_label;
  GtkColumnView *column_view;
  HydraRunsScatter *scatter;
  GMenuModel *context_menu_model;

  /* owned */
  GtkPopover *context_menu; /* a child of the view, pointed at the row's cell */
  GListStore *store;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
  GtkColumnViewColumn *columns[HYDRA_RUN_N_COLUMNS];
  GtkColumnViewColumn *deltas[N_DELTAS];
  GtkColumnViewColumn *compare_column;
  GSettings *settings;
  char *directory;
  char *baseline;
  GCancellable *cancellable;
  gboolean reading, read_again;
  GHashTable *compare; /* folders checked for comparison, kept across reads */
  gboolean updating_baseline;
  gboolean epoch_ended; /* read again at the trainer's next step, when run.json has it */
  GtkNativeDialog *chooser; /* Export as PyTorch Project's or Import Run's */
  char *projects;           /* where the last project went: both choosers open there */
  char *imported;           /* a run just imported, selected once the table shows it */

  /* borrowed */
  HydraTrainer *trainer;
};

G_DEFINE_FINAL_TYPE (HydraRunsView, hydra_runs_view, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_LOADED,
  SIGNAL_FORK,
  SIGNAL_FAILED,
  SIGNAL_NOTICE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static HydraRunRow *
selected_row (HydraRunsView *self)
{
  return gtk_single_selection_get_selected_item (self->selection);
}

static HydraRunRow *
find_row (HydraRunsView *self, const char *folder, guint *position)
{
  GListModel *rows = G_LIST_MODEL (self->sorted);

  for (guint i = 0; folder != NULL && i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (HydraRunRow) row = g_list_model_get_item (rows, i);
      if (g_strcmp0 (hydra_run_row_get_folder (row), folder) == 0)
        {
          if (position != NULL)
            *position = i;
          return row; /* the model holds it */
        }
    }
  return NULL;
}

static gboolean
is_live (HydraRunsView *self, const char *folder)
{
  return self->trainer != NULL
         && (hydra_trainer_get_busy (self->trainer) || hydra_trainer_get_saving (self->trainer))
         && g_strcmp0 (hydra_trainer_get_run_folder (self->trainer), folder) == 0;
}

static void
update_actions (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);
  const HnRunInfo *info = row ? hydra_run_row_get_info (row) : NULL;
  GtkWidget *widget = GTK_WIDGET (self);
  guint n_compare = g_hash_table_size (self->compare);

  gtk_widget_action_set_enabled (widget, "runs.pin-baseline", info != NULL);
  gtk_widget_action_set_enabled (widget, "runs.rename", info != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->rename_button), info != NULL);
  gtk_widget_action_set_enabled (widget, "runs.trash",
                                 row != NULL && !is_live (self, hydra_run_row_get_folder (row)));
  gboolean can_fork = info != NULL && info->summary.n_checkpoints > 0;
  gtk_widget_action_set_enabled (widget, "runs.fork", can_fork);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fork_button), can_fork);
  gtk_widget_action_set_enabled (widget, "runs.compare", n_compare > 0);
  gtk_widget_action_set_enabled (widget, "runs.export-pytorch", info != NULL);

  self->updating_baseline = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->baseline_button), info != NULL || self->baseline);
  gtk_toggle_button_set_active (self->baseline_button,
                                self->baseline != NULL && row != NULL
                                    && g_strcmp0 (self->baseline, hydra_run_row_get_folder (row))
                                           == 0);
  self->updating_baseline = FALSE;
  g_autofree char *compare
      = n_compare > 0 ? g_strdup_printf ("_Compare %u", n_compare) : g_strdup ("_Compare");
  gtk_button_set_label (GTK_BUTTON (self->compare_button), compare);
}

/* ---- the columns ---- */

/* "Differences only": a setting column every run shows alike is hidden. */
static void
update_columns (HydraRunsView *self)
{
  gboolean differences = gtk_check_button_get_active (self->differences_check);
  GListModel *rows = G_LIST_MODEL (self->store);
  guint n = g_list_model_get_n_items (rows);

  for (int col = HYDRA_RUN_COL_FIRST_SETTING; col <= HYDRA_RUN_COL_LAST_SETTING; col++)
    {
      gboolean same = TRUE;
      g_autofree char *first = NULL;
      for (guint i = 0; i < n && same; i++)
        {
          g_autoptr (HydraRunRow) row = g_list_model_get_item (rows, i);
          if (hydra_run_row_get_info (row) == NULL)
            continue;
          g_autofree char *text = hydra_run_row_dup_text (row, col);
          if (first == NULL)
            first = g_steal_pointer (&text);
          else
            same = g_strcmp0 (first, text) == 0;
        }
      gtk_column_view_column_set_visible (self->columns[col], !(differences && same));
    }
  for (int d = 0; d < N_DELTAS; d++)
    gtk_column_view_column_set_visible (self->deltas[d], self->baseline != NULL);
}

typedef struct
{
  HydraRunsView *self;
  HydraRunColumn col;
  gboolean delta;
} CellSpec;

static double
baseline_number (HydraRunsView *self, HydraRunColumn col)
{
  HydraRunRow *base = find_row (self, self->baseline, NULL);

  return base ? hydra_run_row_get_number (base, col) : NAN;
}

/* What a cell shows: for a folder that is not a run, its name and why, and no Δ. */
static char *
cell_text (HydraRunsView *self, HydraRunRow *row, HydraRunColumn col, gboolean delta)
{
  const char *reason = hydra_run_row_get_reason (row);

  if (!delta && reason != NULL && col == HYDRA_RUN_COL_NAME)
    {
      g_autofree char *name = hydra_run_row_dup_text (row, col);
      return g_strdup_printf ("%s — %s", name, reason);
    }
  if (!delta)
    return hydra_run_row_dup_text (row, col);
  if (g_strcmp0 (hydra_run_row_get_folder (row), self->baseline) == 0)
    return g_strdup ("baseline");
  if (reason != NULL)
    return g_strdup ("");
  return hydra_run_format_delta (col, hydra_run_row_get_number (row, col)
                                          - baseline_number (self, col));
}

char *
hydra_runs_view_dup_cell (HydraRunsView *self, guint position, HydraRunColumn col, gboolean delta)
{
  g_autoptr (HydraRunRow) row = g_list_model_get_item (G_LIST_MODEL (self->sorted), position);

  g_return_val_if_fail (row != NULL, NULL);
  return cell_text (self, row, col, delta);
}

/* A right click on a row: it is selected, and its menu opens where the pointer is. The
 * column view has no way to name the row at a point, so its cells carry their list item. */
static void
context_pressed (GtkGestureClick *gesture, int n_press, double x, double y, HydraRunsView *self)
{
  GtkWidget *table = GTK_WIDGET (self->column_view);
  GtkListItem *item = NULL;
  graphene_point_t p;

  for (GtkWidget *w = gtk_widget_pick (table, x, y, GTK_PICK_DEFAULT); w && w != table && !item;
       w = gtk_widget_get_parent (w))
    item = g_object_get_data (G_OBJECT (w), "hydra-list-item");
  guint position = item ? gtk_list_item_get_position (item) : GTK_INVALID_LIST_POSITION;
  if (position == GTK_INVALID_LIST_POSITION
      || !gtk_widget_compute_point (table, GTK_WIDGET (self), &GRAPHENE_POINT_INIT (x, y), &p))
    return;
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  gtk_single_selection_set_selected (self->selection, position);
  gtk_popover_set_pointing_to (self->context_menu, &(GdkRectangle){ p.x, p.y, 1, 1 });
  gtk_popover_popup (self->context_menu);
}

static void
cell_setup (GtkSignalListItemFactory *factory, GtkListItem *item, CellSpec *spec)
{
  GtkWidget *label = gtk_label_new (NULL);

  gboolean number = spec->delta
                    || (spec->col >= HYDRA_RUN_COL_W_AGE && spec->col <= HYDRA_RUN_COL_LR)
                    || spec->col >= HYDRA_RUN_COL_STEPS;
  gtk_label_set_xalign (GTK_LABEL (label), number ? 1 : 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE); /* the whole cell answers a right click */
  if (number)
    gtk_widget_add_css_class (label, "numeric");
  g_object_set_data (G_OBJECT (label), "hydra-list-item", item);
  gtk_list_item_set_child (item, label);
}

static void
cell_bind (GtkSignalListItemFactory *factory, GtkListItem *item, CellSpec *spec)
{
  HydraRunsView *self = spec->self;
  GtkWidget *label = gtk_list_item_get_child (item);
  HydraRunRow *row = gtk_list_item_get_item (item);
  const char *reason = hydra_run_row_get_reason (row);
  g_autofree char *text = NULL;

  /* a right click on the cell's margin finds its row too */
  if (gtk_widget_get_parent (label) != NULL)
    g_object_set_data (G_OBJECT (gtk_widget_get_parent (label)), "hydra-list-item", item);
  gtk_widget_remove_css_class (label, "hydra-better");
  gtk_widget_remove_css_class (label, "hydra-worse");
  gtk_widget_remove_css_class (label, "hydra-baseline");
  text = cell_text (self, row, spec->col, spec->delta);
  if (spec->delta)
    {
      double delta = hydra_run_row_get_number (row, spec->col) - baseline_number (self, spec->col);
      gboolean is_base = g_strcmp0 (hydra_run_row_get_folder (row), self->baseline) == 0;
      /* better: a lower MAE, a higher accuracy; a change under the shown precision is none */
      double shown = hydra_run_column_lower_is_better (spec->col) ? -delta : delta;
      double epsilon = hydra_run_column_lower_is_better (spec->col) ? 0.005 : 0.0005;
      if (!is_base && !isnan (shown) && fabs (shown) >= epsilon)
        gtk_widget_add_css_class (label, shown > 0 ? "hydra-better" : "hydra-worse");
    }
  if (spec->col == HYDRA_RUN_COL_NAME && !spec->delta
      && g_strcmp0 (hydra_run_row_get_folder (row), self->baseline) == 0)
    gtk_widget_add_css_class (label, "hydra-baseline");
  gtk_label_set_text (GTK_LABEL (label), text);
  if (reason != NULL)
    gtk_widget_add_css_class (label, "dim-label");
  else
    gtk_widget_remove_css_class (label, "dim-label");
  g_autofree char *folder = g_filename_display_name (hydra_run_row_get_folder (row));
  gtk_widget_set_tooltip_text (label, spec->col == HYDRA_RUN_COL_NAME ? folder : NULL);
}

static int
sort_cb (gconstpointer a, gconstpointer b, gpointer data)
{
  CellSpec *spec = data;

  return hydra_run_row_compare ((HydraRunRow *) a, (HydraRunRow *) b, spec->col);
}

/* Folders that are not runs go last, whichever way a column sorts. */
static int
runs_first_cb (gconstpointer a, gconstpointer b, gpointer data)
{
  gboolean x = hydra_run_row_get_info ((HydraRunRow *) a) == NULL;
  gboolean y = hydra_run_row_get_info ((HydraRunRow *) b) == NULL;

  return x - y;
}

static GtkColumnViewColumn *
add_column (HydraRunsView *self, HydraRunColumn col, gboolean delta)
{
  CellSpec *spec = g_new0 (CellSpec, 1);
  spec->self = self;
  spec->col = col;
  spec->delta = delta;

  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup), spec);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind), spec);
  g_object_set_data_full (G_OBJECT (factory), "hydra-cell-spec", spec, g_free);
  g_autofree char *title = delta ? g_strdup_printf ("Δ %s", hydra_run_column_title (col))
                                 : g_strdup (hydra_run_column_title (col));
  GtkColumnViewColumn *column = gtk_column_view_column_new (title, factory);
  g_autoptr (GtkSorter) sorter = GTK_SORTER (gtk_custom_sorter_new (sort_cb, spec, NULL));
  gtk_column_view_column_set_sorter (column, sorter);
  gtk_column_view_column_set_resizable (column, TRUE);
  /* room for what people read first; the figures size to their numbers */
  static const int widths[HYDRA_RUN_N_COLUMNS] = {
    [HYDRA_RUN_COL_NAME] = 190,
    [HYDRA_RUN_COL_CREATED] = 130,
    [HYDRA_RUN_COL_BALANCE] = 110,
    [HYDRA_RUN_COL_BEST] = 120,
  };
  if (!delta && widths[col] > 0)
    gtk_column_view_column_set_fixed_width (column, widths[col]);
  gtk_column_view_append_column (self->column_view, column);
  g_object_unref (column); /* the view holds it */
  return column;
}

/* The check box that picks a run for comparison. */
static void
compare_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *check = gtk_check_button_new ();

  gtk_widget_set_halign (check, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (check, "Compare this run with the other checked ones");
  gtk_list_item_set_child (item, check);
}

static void
compare_toggled (GtkCheckButton *check, HydraRunsView *self)
{
  HydraRunRow *row = g_object_get_data (G_OBJECT (check), "row");

  if (row == NULL)
    return;
  const char *folder = hydra_run_row_get_folder (row);
  hydra_run_row_set_compare (row, gtk_check_button_get_active (check));
  if (gtk_check_button_get_active (check))
    g_hash_table_add (self->compare, g_strdup (folder));
  else
    g_hash_table_remove (self->compare, folder);
  update_actions (self);
}

static void
compare_bind (GtkSignalListItemFactory *factory, GtkListItem *item, HydraRunsView *self)
{
  GtkWidget *check = gtk_list_item_get_child (item);
  HydraRunRow *row = gtk_list_item_get_item (item);

  g_object_set_data (G_OBJECT (check), "row", NULL);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), hydra_run_row_get_compare (row));
  gtk_widget_set_visible (check, hydra_run_row_get_info (row) != NULL);
  g_object_set_data (G_OBJECT (check), "row", row);
  g_signal_connect (check, "toggled", G_CALLBACK (compare_toggled), self);
}

static void
compare_unbind (GtkSignalListItemFactory *factory, GtkListItem *item, HydraRunsView *self)
{
  GtkWidget *check = gtk_list_item_get_child (item);

  g_signal_handlers_disconnect_by_func (check, compare_toggled, self);
  g_object_set_data (G_OBJECT (check), "row", NULL);
}

static void
build_columns (HydraRunsView *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (compare_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (compare_bind), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (compare_unbind), self);
  self->compare_column = gtk_column_view_column_new (NULL, factory);
  gtk_column_view_append_column (self->column_view, self->compare_column);
  g_object_unref (self->compare_column);

  /* who, how it went (each final figure with its Δ), then what it was set to */
  static const HydraRunColumn order[] = {
    HYDRA_RUN_COL_NAME,     HYDRA_RUN_COL_CREATED, HYDRA_RUN_COL_STATE,    HYDRA_RUN_COL_MAE,
    HYDRA_RUN_COL_GENDER,   HYDRA_RUN_COL_RACE,    HYDRA_RUN_COL_BEST,     HYDRA_RUN_COL_EPOCHS,
    HYDRA_RUN_COL_STEPS,    HYDRA_RUN_COL_BALANCE, HYDRA_RUN_COL_AGE_LOSS, HYDRA_RUN_COL_W_AGE,
    HYDRA_RUN_COL_W_GENDER, HYDRA_RUN_COL_W_RACE,  HYDRA_RUN_COL_LR,       HYDRA_RUN_COL_PRESET,
    HYDRA_RUN_COL_DATA,
  };
  G_STATIC_ASSERT (G_N_ELEMENTS (order) == HYDRA_RUN_N_COLUMNS);
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      HydraRunColumn col = order[i];
      self->columns[col] = add_column (self, col, FALSE);
      if (col >= DELTA_FIRST && col < DELTA_FIRST + N_DELTAS)
        self->deltas[col - DELTA_FIRST] = add_column (self, col, TRUE);
    }

  /* the table's order: runs, then the column the user clicked, newest first until then */
  GtkMultiSorter *sorter = gtk_multi_sorter_new ();
  gtk_multi_sorter_append (sorter, GTK_SORTER (gtk_custom_sorter_new (runs_first_cb, NULL, NULL)));
  gtk_multi_sorter_append (sorter, g_object_ref (gtk_column_view_get_sorter (self->column_view)));
  gtk_sort_list_model_set_sorter (self->sorted, GTK_SORTER (sorter));
  g_object_unref (sorter);
  gtk_column_view_sort_by_column (self->column_view, self->columns[HYDRA_RUN_COL_CREATED],
                                  GTK_SORT_DESCENDING);
}

/* ---- reading the folder ---- */

/* What a read of the folder found: the runs, and which of them had their loss settings
 * changed live (changed[i] for list.runs[i]). */
typedef struct
{
  HnRunList list;
  gboolean *changed;
} RunsRead;

static void
runs_read_free (RunsRead *read)
{
  run_list_clear (&read->list);
  g_free (read->changed);
  g_free (read);
}

/* Whether the loss settings in force at the run's last checkpoint (its metadata) are not
 * those run.json says it started with: the method, the age loss or (weighed by hand) a
 * weight changed live. Such a run is no static choice of weights. */
static gboolean
changed_live (const HnRunInfo *info)
{
  const HnRunSummary *s = &info->summary;
  HnError err;

  if (s->n_checkpoints == 0)
    return FALSE;
  g_autofree char *path
      = g_build_filename (info->folder, s->checkpoints[s->n_checkpoints - 1].file, NULL);
  HnCheckpoint *c = checkpoint_open (path, CHECKPOINT_HEADER, &err);
  HnRunMeta meta;
  gboolean changed = FALSE;
  if (c != NULL && run_meta_read (c->st, &meta, &err) && meta.has_loss)
    {
      const HnLossConfig *a = &info->settings.loss, *b = &meta.loss;
      changed = a->balance != b->balance || a->age_loss != b->age_loss;
      /* under a method the weights in force are the method's, not a change */
      for (int h = 0; h < N_HEADS && b->balance == BALANCE_MANUAL; h++)
        changed |= a->weight[h] != b->weight[h];
    }
  checkpoint_close (c);
  return changed;
}

static void
read_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunsRead *read = g_new0 (RunsRead, 1);
  HnError err;

  if (!run_list_read (task_data, &read->list, &err))
    {
      g_free (read);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      return;
    }
  read->changed = g_new0 (gboolean, MAX (read->list.n_runs, 1));
  for (int i = 0; i < read->list.n_runs; i++)
    read->changed[i] = changed_live (&read->list.runs[i]);
  g_task_return_pointer (task, read, (GDestroyNotify) runs_read_free);
}

/* GTK 4.8's column view cannot scroll to a row (4.12 can); its list view can. */
static void
scroll_to_selected (HydraRunsView *self)
{
  guint position = gtk_single_selection_get_selected (self->selection);

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->column_view)); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (GTK_IS_LIST_VIEW (c) && position != GTK_INVALID_LIST_POSITION)
      gtk_widget_activate_action (c, "list.scroll-to-item", "u", position);
}

static void
show_list (HydraRunsView *self, HnRunList *list, const gboolean *changed)
{
  g_autofree char *selected = g_strdup (hydra_runs_view_get_selected (self));
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);

  for (int i = 0; i < list->n_runs; i++)
    {
      HydraRunRow *row = hydra_run_row_new (&list->runs[i]);
      hydra_run_row_set_changed_live (row, changed[i]);
      hydra_run_row_set_compare (
          row, g_hash_table_contains (self->compare, hydra_run_row_get_folder (row)));
      g_ptr_array_add (rows, row);
    }
  for (int i = 0; i < list->n_skipped; i++)
    g_ptr_array_add (rows,
                     hydra_run_row_new_skipped (list->skipped[i].folder, list->skipped[i].reason));
  /* forget what is gone: checked runs, the baseline */
  GHashTableIter iter;
  const char *folder;
  g_hash_table_iter_init (&iter, self->compare);
  while (g_hash_table_iter_next (&iter, (gpointer *) &folder, NULL))
    {
      gboolean found = FALSE;
      for (guint i = 0; i < rows->len && !found; i++)
        found = g_strcmp0 (hydra_run_row_get_folder (rows->pdata[i]), folder) == 0;
      if (!found)
        g_hash_table_iter_remove (&iter);
    }
  g_list_store_splice (self->store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->store)),
                       rows->pdata, rows->len);
  if (self->baseline != NULL && find_row (self, self->baseline, NULL) == NULL)
    g_clear_pointer (&self->baseline, g_free);
  if (selected == NULL || !hydra_runs_view_select (self, selected))
    gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  if (self->imported != NULL && hydra_runs_view_select (self, self->imported))
    {
      scroll_to_selected (self);
      g_clear_pointer (&self->imported, g_free);
    }

  g_autofree char *runs = g_strdup_printf (list->n_runs == 1 ? "%d run" : "%d runs", list->n_runs);
  g_autofree char *text
      = list->n_skipped == 0
            ? g_strdup (runs)
            : g_strdup_printf (list->n_skipped == 1 ? "%s · %d folder that is not a run"
                                                    : "%s · %d folders that are not runs",
                               runs, list->n_skipped);
  gtk_label_set_text (self->count_label, text);
  update_columns (self);
  update_actions (self);
}

static void read_folder (HydraRunsView *self);

static void
read_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  RunsRead *read = g_task_propagate_pointer (G_TASK (result), &error);

  if (read == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the view is gone */
  HydraRunsView *self = HYDRA_RUNS_VIEW (source);
  self->reading = FALSE;
  if (read != NULL)
    {
      show_list (self, &read->list, read->changed);
      runs_read_free (read);
    }
  else
    {
      g_autofree char *text = g_strdup_printf ("The runs could not be read: %s", error->message);
      g_signal_emit (self, signals[SIGNAL_FAILED], 0, text);
    }
  if (self->read_again)
    read_folder (self);
  else
    {
      g_clear_pointer (&self->imported, g_free); /* gone again before it was shown */
      g_signal_emit (self, signals[SIGNAL_LOADED], 0);
    }
}

static void
read_folder (HydraRunsView *self)
{
  self->read_again = FALSE;
  self->reading = TRUE;
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, read_done, NULL);
  g_task_set_source_tag (task, read_folder);
  g_task_set_task_data (task, g_strdup (self->directory), g_free);
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, read_thread);
}

void
hydra_runs_view_refresh (HydraRunsView *self)
{
  g_return_if_fail (HYDRA_IS_RUNS_VIEW (self));

  if (self->reading)
    self->read_again = TRUE;
  else
    read_folder (self);
}

gboolean
hydra_runs_view_get_loading (HydraRunsView *self)
{
  return self->reading;
}

/* ---- selection, baseline ---- */

gboolean
hydra_runs_view_select (HydraRunsView *self, const char *folder)
{
  guint position;

  if (find_row (self, folder, &position) == NULL)
    return FALSE;
  gtk_single_selection_set_selected (self->selection, position);
  return TRUE;
}

const char *
hydra_runs_view_get_selected (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);

  return row ? hydra_run_row_get_folder (row) : NULL;
}

static void
rebind_rows (HydraRunsView *self)
{
  /* the cells that show the baseline's Δ read it when bound: bind them all again */
  GListModel *model = G_LIST_MODEL (self->store);
  guint n = g_list_model_get_n_items (model);
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *selected = g_strdup (hydra_runs_view_get_selected (self));

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (rows, g_list_model_get_item (model, i));
  g_list_store_splice (self->store, 0, n, rows->pdata, rows->len);
  hydra_runs_view_select (self, selected);
}

void
hydra_runs_view_set_baseline (HydraRunsView *self, const char *folder)
{
  if (g_strcmp0 (self->baseline, folder) == 0)
    return;
  g_free (self->baseline);
  self->baseline = g_strdup (folder);
  rebind_rows (self);
  update_columns (self);
  update_actions (self);
}

const char *
hydra_runs_view_get_baseline (HydraRunsView *self)
{
  return self->baseline;
}

static void
baseline_toggled (HydraRunsView *self)
{
  if (self->updating_baseline)
    return;
  gboolean active = gtk_toggle_button_get_active (self->baseline_button);
  const char *folder = hydra_runs_view_get_selected (self);
  hydra_runs_view_set_baseline (self, active ? folder : NULL);
}

static void
pin_baseline_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (widget);
  const char *folder = hydra_runs_view_get_selected (self);

  hydra_runs_view_set_baseline (self, g_strcmp0 (folder, self->baseline) == 0 ? NULL : folder);
}

static void
selection_changed (HydraRunsView *self)
{
  hydra_runs_scatter_set_selected (self->scatter, hydra_runs_view_get_selected (self));
  update_actions (self);
}

static void
dot_activated (HydraRunsView *self, const char *folder)
{
  guint position;

  if (find_row (self, folder, &position) == NULL)
    return;
  gtk_single_selection_set_selected (self->selection, position);
}

/* ---- rename ---- */

typedef struct
{
  char *folder, *name;
} RenameData;

static void
rename_data_free (gpointer data)
{
  RenameData *d = data;

  g_free (d->folder);
  g_free (d->name);
  g_free (d);
}

static void
rename_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RenameData *d = task_data;
  HnError err;

  if (!run_info_rename (d->folder, d->name, &err))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
  else
    g_task_return_boolean (task, TRUE);
}

static void
file_job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_signal_emit (source, signals[SIGNAL_FAILED], 0, error->message);
    }
  hydra_runs_view_refresh (HYDRA_RUNS_VIEW (source));
}

static void
rename_apply (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->rename_entry));

  /* the entry gives up the focus before its popover goes, so its cursor stops blinking */
  gtk_widget_grab_focus (GTK_WIDGET (self->column_view));
  gtk_popover_popdown (self->rename_popover);
  if (row == NULL || hydra_run_row_get_info (row) == NULL || *name == '\0')
    return;
  RenameData *d = g_new0 (RenameData, 1);
  d->folder = g_strdup (hydra_run_row_get_folder (row));
  d->name = g_strdup (name);
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, file_job_done, NULL);
  g_task_set_source_tag (task, rename_apply);
  g_task_set_task_data (task, d, rename_data_free);
  g_task_run_in_thread (task, rename_thread);
}

static void
rename_popover_shown (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);
  const HnRunInfo *info = row ? hydra_run_row_get_info (row) : NULL;

  gtk_editable_set_text (GTK_EDITABLE (self->rename_entry), info && info->name ? info->name : "");
  gtk_widget_grab_focus (GTK_WIDGET (self->rename_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->rename_entry), 0, -1);
}

static void
rename_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_menu_button_popup (HYDRA_RUNS_VIEW (widget)->rename_button);
}

/* ---- move to the trash ---- */

static void
trash_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  g_autoptr (GFile) file = g_file_new_for_path (task_data);
  GError *error = NULL;

  if (!g_file_trash (file, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
trash_response (GtkDialog *dialog, int response, HydraRunsView *self)
{
  const char *folder = g_object_get_data (G_OBJECT (dialog), "folder");

  if (response == GTK_RESPONSE_ACCEPT && !is_live (self, folder))
    {
      g_autoptr (GTask) task = g_task_new (self, self->cancellable, file_job_done, NULL);
      g_task_set_source_tag (task, trash_response);
      g_task_set_task_data (task, g_strdup (folder), g_free);
      g_task_run_in_thread (task, trash_thread);
    }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

static void
trash_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (widget);
  HydraRunRow *row = selected_row (self);

  if (row == NULL || is_live (self, hydra_run_row_get_folder (row)))
    return;
  g_autofree char *title = hydra_run_row_dup_text (row, HYDRA_RUN_COL_NAME);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog = gtk_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                              "Move “%s” to the Trash?", title);
  gtk_message_dialog_format_secondary_text (
      GTK_MESSAGE_DIALOG (dialog),
      "Its checkpoints, curves and model go with it. You can restore it from the trash.");
  gtk_dialog_add_button (GTK_DIALOG (dialog), "_Cancel", GTK_RESPONSE_CANCEL);
  GtkWidget *button
      = gtk_dialog_add_button (GTK_DIALOG (dialog), "_Move to Trash", GTK_RESPONSE_ACCEPT);
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  g_object_set_data_full (G_OBJECT (dialog), "folder", g_strdup (hydra_run_row_get_folder (row)),
                          g_free);
  g_object_set_data (G_OBJECT (dialog), "hydra-trash-confirmation", self);
  g_signal_connect_object (dialog, "response", G_CALLBACK (trash_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- compare, fork ---- */

static void
compare_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (widget);
  g_autoptr (GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("as"));
  GListModel *rows = G_LIST_MODEL (self->sorted);

  /* in the table's order */
  for (guint i = 0; i < g_list_model_get_n_items (rows); i++)
    {
      g_autoptr (HydraRunRow) row = g_list_model_get_item (rows, i);
      if (g_hash_table_contains (self->compare, hydra_run_row_get_folder (row)))
        g_variant_builder_add (builder, "s", hydra_run_row_get_folder (row));
    }
  /* the window's overlay: a build without it has nothing to show, and says so */
  if (!gtk_widget_activate_action_variant (widget, "win.compare-runs",
                                           g_variant_builder_end (builder)))
    gtk_widget_set_tooltip_text (self->compare_button,
                                 "Comparing runs is not available in this version");
}

static void
fork_popover_shown (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);
  const HnRunInfo *info = row ? hydra_run_row_get_info (row) : NULL;
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);

  if (info == NULL)
    {
      gtk_popover_popdown (self->fork_popover);
      return;
    }
  g_autofree char *title = g_strdup_printf ("Fork “%s”", info->name);
  gtk_label_set_text (self->fork_title, title);
  for (int i = 0; i < info->summary.n_checkpoints; i++)
    {
      const HnRunCheckpoint *c = &info->summary.checkpoints[i];
      g_autofree char *text
          = c->batch > 0
                ? g_strdup_printf ("Epoch %d, batch %d · step %" G_GINT64_FORMAT, c->epoch,
                                   c->batch, (gint64) c->step)
                : g_strdup_printf ("Epoch %d · step %" G_GINT64_FORMAT, c->epoch, (gint64) c->step);
      gtk_string_list_append (list, text);
    }
  gtk_drop_down_set_model (self->fork_dropdown, G_LIST_MODEL (list));
  /* the newest checkpoint before the run's end: where a change most often branches */
  guint pick = info->summary.n_checkpoints > 1 ? info->summary.n_checkpoints - 2 : 0;
  gtk_drop_down_set_selected (self->fork_dropdown, pick);
  gtk_widget_grab_focus (self->fork_start);
}

static void
fork_start (HydraRunsView *self)
{
  HydraRunRow *row = selected_row (self);
  const HnRunInfo *info = row ? hydra_run_row_get_info (row) : NULL;
  guint i = gtk_drop_down_get_selected (self->fork_dropdown);

  gtk_popover_popdown (self->fork_popover);
  if (info == NULL || i >= (guint) info->summary.n_checkpoints)
    return;
  g_autofree char *path = g_build_filename (info->folder, info->summary.checkpoints[i].file, NULL);
  g_signal_emit (self, signals[SIGNAL_FORK], 0, row, path);
}

static void
fork_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_menu_button_popup (HYDRA_RUNS_VIEW (widget)->fork_button);
}

/* ---- export as a PyTorch project, import a run ---- */

/* What an export or an import answers: the folder it made, and what to tell. */
typedef struct
{
  char *folder, *message;
} JobDone;

static void
job_done_free (gpointer data)
{
  JobDone *done = data;

  g_free (done->folder);
  g_free (done->message);
  g_free (done);
}

/* Starts an export or an import on a worker, the application held until it ends. */
static void
run_job (HydraRunsView *self, gpointer tag, gpointer data, GDestroyNotify free_data,
         GTaskThreadFunc thread, GAsyncReadyCallback done)
{
  hydra_application_hold_while_writing (TRUE);
  g_autoptr (GTask) task = g_task_new (self, self->cancellable, done, NULL);
  g_task_set_source_tag (task, tag);
  g_task_set_task_data (task, data, free_data);
  g_task_run_in_thread (task, thread);
}

/* An export's or an import's answer, told as "notice" or "failed"; NULL when it failed or was
 * cancelled (free it). */
static JobDone *
finish_job (HydraRunsView *self, GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;
  JobDone *done = g_task_propagate_pointer (G_TASK (result), &error);

  hydra_application_hold_while_writing (FALSE);
  if (done != NULL)
    g_signal_emit (self, signals[SIGNAL_NOTICE], 0, done->message);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, error->message);
  return done;
}

static GtkFileChooserNative *
new_chooser (HydraRunsView *self, const char *title, const char *accept)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_clear_object (&self->chooser);
  GtkFileChooserNative *chooser
      = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                     GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, accept, "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (self->projects != NULL)
    {
      g_autoptr (GFile) folder = g_file_new_for_path (self->projects);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
    }
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  return chooser;
}

/* The chooser's folder, or NULL and "failed" when it is not a local one. */
static char *
chosen_path (HydraRunsView *self, GtkNativeDialog *dialog)
{
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  char *path = file != NULL ? g_file_get_path (file) : NULL;

  if (path == NULL)
    g_signal_emit (self, signals[SIGNAL_FAILED], 0, "Pick a folder on this computer");
  return path;
}

typedef struct
{
  char *run, *picked;
} ExportData;

static void
export_data_free (gpointer data)
{
  ExportData *d = data;

  g_free (d->run);
  g_free (d->picked);
  g_free (d);
}

/* Where a project goes: the folder picked when it is new or empty; else a new folder in it
 * named after the run, "NAME-pytorch" (then "-2", "-3"…), since a chooser of folders cannot
 * suggest a name. */
static char *
project_folder (const char *picked, const char *name)
{
  g_autoptr (GDir) dir = g_dir_open (picked, 0, NULL);

  if (dir == NULL || g_dir_read_name (dir) == NULL)
    return g_strdup (picked); /* new, empty, or not a folder: the engine says which */
  g_autofree char *base = g_strdup_printf ("%s-pytorch", name);
  g_strdelimit (base, G_DIR_SEPARATOR_S, '-');
  for (int i = 1;; i++)
    {
      g_autofree char *leaf = i == 1 ? g_strdup (base) : g_strdup_printf ("%s-%d", base, i);
      char *path = g_build_filename (picked, leaf, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
}

static void
export_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ExportData *d = task_data;
  HnRunInfo info = { 0 };
  HnProjectSummary summary;
  HnError err;

  gboolean ok = run_info_read (d->run, &info, &err);
  g_autofree char *name = g_strdup (info.name);
  run_info_clear (&info);
  g_autofree char *out = ok ? project_folder (d->picked, name) : NULL;
  HnExport what = { .run = d->run, .exporter = HYDRA_SOURCE };
  if (!ok || !export_pytorch_project (&what, out, &summary, &err))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               "The project was not exported: %s", err.message);
      return;
    }
  JobDone *done = g_new0 (JobDone, 1);
  done->folder = g_strdup (summary.folder);
  free (summary.folder);
  g_autofree char *shown = g_filename_display_name (done->folder);
  done->message = g_strdup_printf ("Exported “%s” to %s. Train it with torchrun as its README.md "
                                   "says, then bring the result back with Import Run…",
                                   name, shown);
  g_task_return_pointer (task, done, job_done_free);
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (source);
  JobDone *done = finish_job (self, result);

  if (done == NULL)
    return;
  g_free (self->projects);
  self->projects = g_path_get_dirname (done->folder);
  job_done_free (done);
}

void
hydra_runs_view_export_pytorch (HydraRunsView *self, const char *run, const char *out_dir)
{
  g_return_if_fail (HYDRA_IS_RUNS_VIEW (self));
  g_return_if_fail (run != NULL && out_dir != NULL);

  ExportData *d = g_new0 (ExportData, 1);
  d->run = g_strdup (run);
  d->picked = g_strdup (out_dir);
  run_job (self, hydra_runs_view_export_pytorch, d, export_data_free, export_thread, export_done);
}

static void
export_response (GtkNativeDialog *dialog, int response, HydraRunsView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = chosen_path (self, dialog);
      if (path != NULL)
        hydra_runs_view_export_pytorch (self, g_object_get_data (G_OBJECT (dialog), "run"), path);
    }
  g_clear_object (&self->chooser);
}

void
hydra_runs_view_choose_export (HydraRunsView *self, const char *run)
{
  g_return_if_fail (HYDRA_IS_RUNS_VIEW (self));
  g_return_if_fail (run != NULL);

  HydraRunRow *row = find_row (self, run, NULL);
  const HnRunInfo *info = row ? hydra_run_row_get_info (row) : NULL;
  g_autofree char *title = info ? g_strdup_printf ("Export “%s” as a PyTorch Project", info->name)
                                : g_strdup ("Export the Run as a PyTorch Project");
  GtkFileChooserNative *chooser = new_chooser (self, title, "_Export");
  g_object_set_data_full (G_OBJECT (chooser), "run", g_strdup (run), g_free);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (widget);
  HydraRunRow *row = selected_row (self);

  if (row != NULL && hydra_run_row_get_info (row) != NULL)
    hydra_runs_view_choose_export (self, hydra_run_row_get_folder (row));
}

typedef struct
{
  char *project, *runs;
} ImportData;

static void
import_data_free (gpointer data)
{
  ImportData *d = data;

  g_free (d->project);
  g_free (d->runs);
  g_free (d);
}

static void
import_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ImportData *d = task_data;
  HnRunInfo info = { 0 };
  HnError err;
  char *folder;

  if (!import_pytorch_run (d->project, d->runs, HYDRA_SOURCE, &folder, &err))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "The run was not imported: %s",
                               err.message);
      return;
    }
  JobDone *done = g_new0 (JobDone, 1);
  done->folder = g_strdup (folder);
  free (folder);
  /* it was read whole before it was copied: its name is there */
  run_info_read (done->folder, &info, &err);
  g_autofree char *shown = g_filename_display_name (d->project);
  done->message
      = g_strdup_printf ("Imported “%s” from %s", info.name ? info.name : "the run", shown);
  run_info_clear (&info);
  g_task_return_pointer (task, done, job_done_free);
}

static void
import_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (source);
  JobDone *done = finish_job (self, result);

  if (done == NULL)
    return;
  g_free (self->imported);
  self->imported = g_steal_pointer (&done->folder);
  job_done_free (done);
  hydra_runs_view_refresh (self);
}

void
hydra_runs_view_import_run (HydraRunsView *self, const char *project)
{
  g_return_if_fail (HYDRA_IS_RUNS_VIEW (self));
  g_return_if_fail (project != NULL);

  ImportData *d = g_new0 (ImportData, 1);
  d->project = g_strdup (project);
  d->runs = g_strdup (self->directory);
  run_job (self, hydra_runs_view_import_run, d, import_data_free, import_thread, import_done);
}

static void
import_response (GtkNativeDialog *dialog, int response, HydraRunsView *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = chosen_path (self, dialog);
      if (path != NULL)
        hydra_runs_view_import_run (self, path);
    }
  g_clear_object (&self->chooser);
}

void
hydra_runs_view_choose_import (HydraRunsView *self)
{
  g_return_if_fail (HYDRA_IS_RUNS_VIEW (self));

  GtkFileChooserNative *chooser
      = new_chooser (self, "Import a Trained Project or a Run Folder", "_Import");
  g_signal_connect (chooser, "response", G_CALLBACK (import_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
import_action (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_runs_view_choose_import (HYDRA_RUNS_VIEW (widget));
}

static void
refresh_action (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_runs_view_refresh (HYDRA_RUNS_VIEW (widget));
}

/* ---- the trainer's run: its start, checkpoints and end change the folder ---- */

static void
trainer_changed (HydraRunsView *self)
{
  update_actions (self);
  hydra_runs_view_refresh (self);
}

/* An epoch's end is announced before its checkpoint and run.json's summary are written; the
 * trainer's next step (or pause, or end: trainer_changed) comes after them. */
static void
trainer_epoch_ended (HydraRunsView *self)
{
  self->epoch_ended = TRUE;
}

static void
trainer_stepped (HydraRunsView *self)
{
  if (!self->epoch_ended)
    return;
  self->epoch_ended = FALSE;
  hydra_runs_view_refresh (self);
}

void
hydra_runs_view_set_trainer (HydraRunsView *self, HydraTrainer *trainer)
{
  if (self->trainer != NULL)
    g_signal_handlers_disconnect_by_data (self->trainer, self);
  g_set_object (&self->trainer, trainer);
  if (trainer == NULL)
    return;
  g_signal_connect_swapped (trainer, "notify::state", G_CALLBACK (trainer_changed), self);
  g_signal_connect_swapped (trainer, "notify::epoch", G_CALLBACK (trainer_epoch_ended), self);
  g_signal_connect_swapped (trainer, "notify::step", G_CALLBACK (trainer_stepped), self);
  g_signal_connect_swapped (trainer, "notify::saving", G_CALLBACK (trainer_changed), self);
}

/* ---- getters, life cycle ---- */

void
hydra_runs_view_set_directory (HydraRunsView *self, const char *directory)
{
  g_free (self->directory);
  self->directory = g_strdup (directory);
  hydra_runs_view_refresh (self);
}

const char *
hydra_runs_view_get_directory (HydraRunsView *self)
{
  return self->directory;
}

GListModel *
hydra_runs_view_get_rows (HydraRunsView *self)
{
  return G_LIST_MODEL (self->sorted);
}

GtkColumnView *
hydra_runs_view_get_column_view (HydraRunsView *self)
{
  return self->column_view;
}

GtkColumnViewColumn *
hydra_runs_view_get_column (HydraRunsView *self, HydraRunColumn col, gboolean delta)
{
  g_return_val_if_fail (col < HYDRA_RUN_N_COLUMNS, NULL);
  if (delta)
    return col >= DELTA_FIRST && col < DELTA_FIRST + N_DELTAS ? self->deltas[col - DELTA_FIRST]
                                                              : NULL;
  return self->columns[col];
}

HydraRunsScatter *
hydra_runs_view_get_scatter (HydraRunsView *self)
{
  return self->scatter;
}

GtkWidget *
hydra_runs_view_new (void)
{
  return g_object_new (HYDRA_TYPE_RUNS_VIEW, NULL);
}

static void
hydra_runs_view_dispose (GObject *object)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->chooser);
  hydra_runs_view_set_trainer (self, NULL);
  /* the column view drops its selection as it goes: nothing left to tell */
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_RUNS_VIEW);
  GtkWidget *child; /* the toolbar and the paned, which have no field */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hydra_runs_view_parent_class)->dispose (object);
}

static void
hydra_runs_view_finalize (GObject *object)
{
  HydraRunsView *self = HYDRA_RUNS_VIEW (object);

  g_free (self->directory);
  g_free (self->baseline);
  g_free (self->projects);
  g_free (self->imported);
  g_hash_table_unref (self->compare);

  G_OBJECT_CLASS (hydra_runs_view_parent_class)->finalize (object);
}

static void
hydra_runs_view_class_init (HydraRunsViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_runs_view_dispose;
  object_class->finalize = hydra_runs_view_finalize;

  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_FORK]
      = g_signal_new ("fork", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, HYDRA_TYPE_RUN_ROW, G_TYPE_STRING);
  signals[SIGNAL_FAILED]
      = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_NOTICE] = g_signal_new ("notice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  g_type_ensure (HYDRA_TYPE_RUNS_SCATTER);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-runs-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, HydraRunsView, name)
  BIND (differences_check);
  BIND (baseline_button);
  BIND (rename_button);
  BIND (rename_popover);
  BIND (rename_entry);
  BIND (rename_apply);
  BIND (fork_button);
  BIND (fork_popover);
  BIND (fork_title);
  BIND (fork_dropdown);
  BIND (fork_start);
  BIND (compare_button);
  BIND (count_label);
  BIND (column_view);
  BIND (scatter);
  BIND (context_menu_model);
#undef BIND

  gtk_widget_class_install_action (widget_class, "runs.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "runs.pin-baseline", NULL, pin_baseline_action);
  gtk_widget_class_install_action (widget_class, "runs.rename", NULL, rename_action);
  gtk_widget_class_install_action (widget_class, "runs.trash", NULL, trash_action);
  gtk_widget_class_install_action (widget_class, "runs.compare", NULL, compare_action);
  gtk_widget_class_install_action (widget_class, "runs.fork", NULL, fork_action);
  gtk_widget_class_install_action (widget_class, "runs.export-pytorch", NULL, export_action);
  gtk_widget_class_install_action (widget_class, "runs.import", NULL, import_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "runs.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F2, 0, "runs.rename", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "runs.trash", NULL);
  /* beside Delete, which takes a run out of the table, Insert brings one in (Ctrl+Shift+I is
   * GTK's inspector, Ctrl+I predicts images) */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Insert, 0, "runs.import", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "runs.export-pytorch", NULL);
}

static void
hydra_runs_view_init (HydraRunsView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->compare = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
  self->store = g_list_store_new (HYDRA_TYPE_RUN_ROW);
  self->sorted = gtk_sort_list_model_new (G_LIST_MODEL (self->store), NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->sorted));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  build_columns (self);
  self->context_menu = GTK_POPOVER (gtk_popover_menu_new_from_model (self->context_menu_model));
  gtk_popover_set_has_arrow (self->context_menu, FALSE);
  gtk_widget_set_halign (GTK_WIDGET (self->context_menu), GTK_ALIGN_START);
  gtk_widget_set_parent (GTK_WIDGET (self->context_menu), GTK_WIDGET (self));
  GtkGesture *click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
  g_signal_connect (click, "pressed", G_CALLBACK (context_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (self->column_view), GTK_EVENT_CONTROLLER (click));
  hydra_runs_scatter_set_model (self->scatter, G_LIST_MODEL (self->sorted));

  self->settings = hydra_settings_new ();
  g_settings_bind (self->settings, "runs-differences-only", self->differences_check, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_swapped (self->differences_check, "toggled", G_CALLBACK (update_columns), self);
  g_signal_connect_swapped (self->baseline_button, "toggled", G_CALLBACK (baseline_toggled), self);
  g_signal_connect_swapped (self->selection, "notify::selected-item",
                            G_CALLBACK (selection_changed), self);
  g_signal_connect_swapped (self->rename_popover, "show", G_CALLBACK (rename_popover_shown), self);
  g_signal_connect_swapped (self->rename_entry, "activate", G_CALLBACK (rename_apply), self);
  g_signal_connect_swapped (self->rename_apply, "clicked", G_CALLBACK (rename_apply), self);
  g_signal_connect_swapped (self->fork_popover, "show", G_CALLBACK (fork_popover_shown), self);
  g_signal_connect_swapped (self->fork_start, "clicked", G_CALLBACK (fork_start), self);
  g_signal_connect_swapped (self->scatter, "run-activated", G_CALLBACK (dot_activated), self);

  self->directory = g_build_filename (g_get_user_data_dir (), "hydranet-studio", "runs", NULL);
  update_actions (self);
  hydra_runs_view_refresh (self);
}
