/* hydra-window.c — the studio's main window.
 *
 * Left, the data set and the settings panel (the live settings and the run's fixed ones);
 * centre, the plots, metrics and data set; right, prediction. Settings live in GSettings;
 * the panel announces live ones as they change, the window hands them to the trainer, and
 * the trainer answers with markers on the curves. Nothing slow happens here: the data set
 * loads, the run starts, models load and save on workers.
 */

#include "hydra-window.h"
#include "hydra-application.h"
#include "hydra-settings.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "hydra-dataset-loader.h"
#include "hydra-dataset-pane.h"
#include "hydra-metrics-view.h"
#include "hydra-runs-view.h"
#include "hydra-settings-panel.h"

#define SYNTHETIC_SEED 1
#define VAL_PERCENT 20

struct _HydraWindow
{
  GtkApplicationWindow parent_instance;

  /* template widgets */
  GtkWidget *start_button;
  GtkImage *start_icon;
  GtkLabel *start_label;
  GtkRevealer *banner_revealer;
  GtkWidget *banner;
  GtkLabel *banner_label;
  GtkImage *banner_icon;
  GtkWidget *banner_rollback;
  GtkWidget *banner_close;
  GtkLabel *data_label;
  GtkRevealer *loading_revealer;
  GtkProgressBar *loading_bar;
  HydraSettingsPanel *settings_panel;
  GtkStack *view_stack;
  HydraLossPlot *loss_plot;
  HydraLossPlot *balance_plot;
  HydraMetricsView *metrics_view;
  HydraDatasetPane *dataset_pane;
  HydraRunsView *runs_view;
  HydraPredictPane *predict_pane;
  GtkLabel *state_label;
  GtkProgressBar *epoch_bar;
  GtkLabel *speed_label;
  GtkLabel *eta_label;
  GtkAdjustment *smoothing_adjustment;
  GtkMenuButton *x_axis_button;
  GtkRevealer *compare_revealer;
  GtkLabel *compare_label;

  /* owned */
  GSettings *settings;
  HydraTrainer *trainer;
  HydraDatasetLoader *loader;
  GCancellable *load_cancellable;
  HydraDataset *dataset;
  GtkNativeDialog *chooser;
  GBinding *busy_binding; /* the trainer's "busy" locks the panel's run settings */
  gboolean start_after_load;
  double train_pressed; /* hn_seconds () at the press of Train: a time budget starts there */
  gboolean closing;
  gboolean fork_current_pending; /* Fork This Run waits for the Runs view to read the folder */
  guint64 synthetic_seed;        /* the loaded synthetic faces' */
  gboolean syncing_panel;        /* the panel shows a fork's settings: nothing to send */
  gboolean fork_starting;        /* the fork's settings in force to show once it exists */
  HydraRunRow *fork_row;         /* a fork waiting for its parent's data to load… */
  char *fork_checkpoint;         /* …from this checkpoint */
  guint banner_timeout;
  GCancellable *compare_cancellable; /* the records being read for win.compare-runs */
};

G_DEFINE_FINAL_TYPE (HydraWindow, hydra_window, GTK_TYPE_APPLICATION_WINDOW)

/* ---- the banner: guard messages, errors, confirmations ---- */

static gboolean
hide_banner_cb (gpointer data)
{
  HydraWindow *self = data;

  self->banner_timeout = 0;
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

typedef enum
{
  BANNER_INFO, /* hides itself after a few seconds */
  BANNER_NOTE, /* an info that stays until dismissed: a folder to go to, and what to do there */
  BANNER_ERROR,
  BANNER_DIVERGED /* offers Roll Back */
} BannerKind;

static void
show_banner (HydraWindow *self, BannerKind kind, const char *text)
{
  /* the engine's messages start in lower case, to be embedded; the banner is a sentence */
  g_autofree char *sentence = g_strdup (text);
  if (g_ascii_islower (sentence[0]))
    sentence[0] = g_ascii_toupper (sentence[0]);
  gtk_label_set_text (self->banner_label, sentence);
  gboolean info = kind == BANNER_INFO || kind == BANNER_NOTE;
  gtk_image_set_from_icon_name (self->banner_icon,
                                info ? "emblem-ok-symbolic" : "dialog-warning-symbolic");
  gtk_widget_set_visible (self->banner_rollback, kind == BANNER_DIVERGED);
  if (info)
    gtk_widget_remove_css_class (self->banner, "error");
  else
    gtk_widget_add_css_class (self->banner, "error");
  gtk_revealer_set_reveal_child (self->banner_revealer, TRUE);
  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  if (kind == BANNER_INFO)
    self->banner_timeout = g_timeout_add_seconds (6, hide_banner_cb, self);
}

static void
show_error (HydraWindow *self, const char *prefix, const GError *error)
{
  g_autofree char *text = g_strdup_printf ("%s: %s", prefix, error->message);

  show_banner (self, BANNER_ERROR, text);
}

static void
banner_close_clicked (HydraWindow *self)
{
  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
}

/* ---- data sets ---- */

static void
update_data_label (HydraWindow *self)
{
  if (self->dataset == NULL)
    {
      gtk_label_set_text (self->data_label, "No data set");
      return;
    }
  const HnDataset *ds = hydra_dataset_get (self->dataset);
  int n_train = 0, n_val = 0;
  dataset_split (ds, VAL_PERCENT, NULL, &n_train, NULL, &n_val);
  g_autofree char *train = hydra_format_count (n_train);
  g_autofree char *val = hydra_format_count (n_val);
  g_autofree char *text
      = g_strdup_printf ("%s\n%s for training · %s for validation · %d×%d",
                         hydra_dataset_get_title (self->dataset), train, val, ds->size, ds->size);
  gtk_label_set_text (self->data_label, text);
  const char *folder = hydra_dataset_get_folder (self->dataset);
  g_autofree char *shown = folder ? g_filename_display_name (folder) : NULL;
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->data_label), shown);
}

static void start_run (HydraWindow *self);

/* The remembered folder, kept as a file:// URI so that any file name survives GSettings'
 * UTF-8 strings; NULL when there is none. */
static char *
last_folder (HydraWindow *self)
{
  g_autofree char *uri = g_settings_get_string (self->settings, "last-folder");

  return *uri != '\0' ? g_filename_from_uri (uri, NULL, NULL) : NULL;
}

static void update_status (HydraWindow *self);

static void
set_dataset (HydraWindow *self, HydraDataset *dataset)
{
  /* the pane borrows the engine's data set: hand it the new one before the old can go */
  hydra_dataset_pane_set_dataset (self->dataset_pane, dataset ? hydra_dataset_get (dataset) : NULL,
                                  dataset ? hydra_dataset_get_title (dataset) : NULL, VAL_PERCENT);
  g_clear_pointer (&self->dataset, hydra_dataset_unref);
  self->dataset = dataset;
  update_data_label (self);
  update_status (self);
}

typedef struct
{
  HydraWindow *self;
  char *folder; /* NULL: synthetic */
  guint64 seed; /* the synthetic faces' */
} LoadData;

static void runs_fork (HydraWindow *self, HydraRunRow *row, const char *checkpoint);
static void show_fork_settings (HydraWindow *self, const HnTrainConfig *c);

static void
clear_pending_fork (HydraWindow *self)
{
  g_clear_object (&self->fork_row);
  g_clear_pointer (&self->fork_checkpoint, g_free);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LoadData *d = user_data;
  g_autoptr (GError) error = NULL;
  HnDataset *ds = hydra_dataset_loader_load_finish (HYDRA_DATASET_LOADER (source), result, &error);
  HydraWindow *self = d->self;

  if (ds == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          show_error (self, d->folder ? "The folder could not be opened" : "No synthetic faces",
                      error);
          self->start_after_load = FALSE;
        }
      clear_pending_fork (self);
    }
  else
    {
      g_autofree char *title = NULL;
      if (d->folder != NULL)
        {
          g_autofree char *name = g_filename_display_basename (d->folder);
          g_autofree char *uri = g_filename_to_uri (d->folder, NULL, NULL);
          title = g_strdup_printf ("UTKFace folder “%s”", name);
          g_settings_set_string (self->settings, "last-folder", uri ? uri : "");
        }
      else
        {
          title = g_strdup ("Synthetic faces");
          g_settings_set_string (self->settings, "last-folder", "");
        }
      set_dataset (self, hydra_dataset_new (ds, title, d->folder));
      self->synthetic_seed = d->seed;
      if (ds->n_skipped > 0 && d->folder != NULL)
        {
          g_autofree char *text = g_strdup_printf ("%d files of the folder are not used — the "
                                                   "Data Set view lists them with their reasons",
                                                   ds->n_skipped);
          show_banner (self, BANNER_INFO, text);
        }
      if (self->start_after_load)
        {
          self->start_after_load = FALSE;
          start_run (self);
        }
      else if (self->fork_row != NULL)
        {
          /* the parent's data, loaded for its fork */
          g_autoptr (HydraRunRow) row = g_steal_pointer (&self->fork_row);
          g_autofree char *checkpoint = g_steal_pointer (&self->fork_checkpoint);
          runs_fork (self, row, checkpoint);
        }
    }
  g_free (d->folder);
  g_object_unref (d->self);
  g_free (d);
}

/* Loads folder (NULL: count synthetic faces drawn from seed) at size×size. */
static void
load_dataset_full (HydraWindow *self, const char *folder, int count, guint64 seed, int size)
{
  LoadData *d = g_new0 (LoadData, 1);
  d->self = g_object_ref (self);
  d->folder = g_strdup (folder);
  d->seed = seed;

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();

  if (folder != NULL)
    hydra_dataset_loader_load_folder_async (self->loader, folder, size, self->load_cancellable,
                                            load_done, d);
  else
    hydra_dataset_loader_load_synthetic_async (self->loader, count, seed, size,
                                               self->load_cancellable, load_done, d);
}

static void
load_dataset (HydraWindow *self, const char *folder)
{
  clear_pending_fork (self); /* the user chose other data */
  load_dataset_full (self, folder, g_settings_get_int (self->settings, "synthetic-count"),
                     SYNTHETIC_SEED, hydra_settings_panel_get_input_size (self->settings_panel));
}

/* ---- running ---- */

static void
start_run (HydraWindow *self)
{
  int size = hydra_settings_panel_get_input_size (self->settings_panel);
  g_autoptr (GError) error = NULL;
  HnTrainConfig config;

  if (hydra_trainer_get_busy (self->trainer)) /* a model is loading, or a run exists */
    return;
  if (!hydra_settings_panel_get_config (self->settings_panel, &config, &error))
    {
      self->start_after_load = FALSE;
      show_banner (self, BANNER_ERROR, error->message);
      hydra_settings_panel_reveal_problem (self->settings_panel);
      return;
    }
  if (hydra_dataset_loader_get_loading (self->loader))
    {
      self->start_after_load = TRUE;
      return;
    }
  if (self->dataset == NULL || hydra_dataset_get (self->dataset)->size != size)
    {
      /* a new input size means preprocessing again (the folder's cache makes it quick) */
      self->start_after_load = TRUE;
      load_dataset (self, self->dataset ? hydra_dataset_get_folder (self->dataset) : NULL);
      return;
    }
  config.val_percent = VAL_PERCENT;             /* the split the window shows */
  config.synthetic_seed = self->synthetic_seed; /* for the run's run.json, when the faces are */
  /* The budget counts from the press of Train, as the CLI's from its start: the folder was
   * loaded (from its cache) when it was opened, so only a reload for a new size falls in it. */
  config.clock_start = self->train_pressed;
  banner_close_clicked (self);
  hydra_trainer_start (self->trainer, &config, self->dataset);
  gtk_stack_set_visible_child_name (self->view_stack, "loss");
}

/* ---- forks: a new run from a run's epoch checkpoint, on the same data ---- */

typedef enum
{
  FORK_DATA_SAME,  /* the loaded data set is the parent's */
  FORK_DATA_LOAD,  /* the parent's data can be loaded here: its synthetic faces, its folder
                    * at its size */
  FORK_DATA_OTHER, /* the user must open the parent's folder */
} ForkData;

/* Whether the loaded data set is the one parent trained on; FORK_DATA_OTHER with what to do
 * in *problem (free it). */
static ForkData
fork_data (HydraWindow *self, const HnRunInfo *parent, char **problem)
{
  const HnDataset *ds = self->dataset ? hydra_dataset_get (self->dataset) : NULL;
  const char *folder = self->dataset ? hydra_dataset_get_folder (self->dataset) : NULL;
  const HnTrainConfig *was = &parent->settings;

  if (parent->data_folder != NULL)
    {
      g_autofree char *name = g_filename_display_name (parent->data_folder);
      char *real = folder ? realpath (folder, NULL) : NULL;
      gboolean same = real != NULL && strcmp (real, parent->data_folder) == 0;
      free (real);
      if (!same)
        {
          *problem = g_strdup_printf ("“%s” trained on the folder %s: open that folder (Open "
                                      "Data Set Folder…), then fork again — a fork trains on "
                                      "its parent's data",
                                      parent->name, name);
          return FORK_DATA_OTHER;
        }
      return ds->size == was->size ? FORK_DATA_SAME : FORK_DATA_LOAD;
    }
  if (was->synthetic > 0)
    return folder == NULL && ds != NULL && ds->n == was->synthetic
                   && self->synthetic_seed == was->synthetic_seed && ds->size == was->size
               ? FORK_DATA_SAME
               : FORK_DATA_LOAD;
  *problem = g_strdup_printf ("The run.json of “%s” does not say what it trained on", parent->name);
  return FORK_DATA_OTHER;
}

static void
runs_fork (HydraWindow *self, HydraRunRow *row, const char *checkpoint)
{
  const HnRunInfo *parent = hydra_run_row_get_info (row);
  const HnRunCheckpoint *from = NULL;

  if (parent == NULL)
    return;
  if (hydra_trainer_get_busy (self->trainer))
    {
      show_banner (self, BANNER_ERROR, "Stop the current run before starting a fork");
      return;
    }
  for (int i = 0; i < parent->summary.n_checkpoints; i++)
    {
      g_autofree char *path
          = g_build_filename (parent->folder, parent->summary.checkpoints[i].file, NULL);
      if (g_strcmp0 (path, checkpoint) == 0)
        from = &parent->summary.checkpoints[i];
    }
  g_autofree char *problem = NULL;
  int epochs = 0; /* the parent's */
  if (self->dataset == NULL || hydra_dataset_loader_get_loading (self->loader))
    problem = g_strdup ("The data set is still loading: fork again once it is there");
  else if (from == NULL)
    problem = g_strdup ("That checkpoint is no longer in the run's folder");
  else if (from->batch == 0 && parent->settings.epochs > 0
           && from->epoch >= parent->settings.epochs)
    {
      /* the parent's end: the fork trains on to the sidebar's count, as --fork --epochs */
      epochs = g_settings_get_int (self->settings, "epochs");
      if (epochs <= from->epoch)
        problem = g_strdup_printf ("Epoch %d is where “%s” ended: set Epochs above %d in the "
                                   "sidebar to train on from it, or fork from an earlier "
                                   "checkpoint",
                                   from->epoch, parent->name, from->epoch);
    }
  if (problem == NULL)
    switch (fork_data (self, parent, &problem))
      {
      case FORK_DATA_SAME:
        break;
      case FORK_DATA_LOAD:
        {
          /* the parent's own data (never other data), then the fork */
          const HnTrainConfig *was = &parent->settings;
          g_autofree char *text
              = parent->data_folder
                    ? g_strdup_printf ("Loading the folder “%s” trained on, at %d×%d…",
                                       parent->name, was->size, was->size)
                    : g_strdup_printf ("Loading the %d synthetic faces “%s” trained on…",
                                       was->synthetic, parent->name);
          show_banner (self, BANNER_INFO, text);
          load_dataset_full (self, parent->data_folder, was->synthetic, was->synthetic_seed,
                             was->size);
          self->fork_row = g_object_ref (row);
          self->fork_checkpoint = g_strdup (checkpoint);
          return;
        }
      case FORK_DATA_OTHER:
        break;
      }
  if (problem != NULL)
    {
      show_banner (self, BANNER_ERROR, problem);
      return;
    }
  banner_close_clicked (self);
  hydra_trainer_fork (self->trainer, checkpoint, parent, epochs, self->dataset);
  show_fork_settings (self, &parent->settings); /* at once; the checkpoint's when it is read */
  self->fork_starting = TRUE;
  g_autofree char *text
      = g_strdup_printf ("Forked “%s” at epoch %d — paused at step %" G_GINT64_FORMAT ": change "
                         "the weights, balancing, age loss or rate, then Resume",
                         parent->name, from->epoch, (gint64) from->step);
  show_banner (self, BANNER_INFO, text);
  gtk_stack_set_visible_child_name (self->view_stack, "loss");
}

/* Fork This Run: the Runs view, with the current run picked and its checkpoints offered. */
static void
fork_current_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  gtk_stack_set_visible_child_name (self->view_stack, "runs");
  self->fork_current_pending = TRUE;
  hydra_runs_view_refresh (self->runs_view);
}

static void
runs_failed (HydraWindow *self, const char *message)
{
  show_banner (self, BANNER_ERROR, message);
}

static void
runs_notice (HydraWindow *self, const char *message)
{
  show_banner (self, BANNER_NOTE, message);
}

/* The current run's project and an import: the Runs view's, which the table then shows. */
static void
export_pytorch_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  const char *folder = hydra_trainer_get_run_folder (self->trainer);

  if (folder != NULL)
    hydra_runs_view_choose_export (self->runs_view, folder);
}

static void
import_run_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  gtk_stack_set_visible_child_name (self->view_stack, "runs");
  hydra_runs_view_choose_import (self->runs_view);
}

static void
runs_loaded (HydraWindow *self)
{
  if (!self->fork_current_pending)
    return;
  self->fork_current_pending = FALSE;
  if (hydra_runs_view_select (self->runs_view, hydra_trainer_get_run_folder (self->trainer)))
    gtk_widget_activate_action (GTK_WIDGET (self->runs_view), "runs.fork", NULL);
}

static void
start_pause_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  switch (hydra_trainer_get_state (self->trainer))
    {
    case HYDRA_RUN_RUNNING:
      hydra_trainer_pause (self->trainer);
      break;
    case HYDRA_RUN_PAUSED:
    case HYDRA_RUN_DIVERGED:
      hydra_trainer_resume (self->trainer);
      break;
    case HYDRA_RUN_STARTING:
      break;
    default:
      if (!self->start_after_load) /* a second press while the data loads is the same run */
        self->train_pressed = hn_seconds ();
      start_run (self);
    }
}

static void
stop_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  self->start_after_load = FALSE;
  hydra_trainer_stop (self->trainer);
}

static void
reset_action (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_trainer_reset (HYDRA_WINDOW (widget)->trainer);
}

static void
rollback_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  banner_close_clicked (self);
  hydra_trainer_rollback (self->trainer);
}

static char *
format_duration (double seconds)
{
  long s = lround (seconds);

  if (s >= 3600)
    return g_strdup_printf ("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return g_strdup_printf ("%ld:%02ld", s / 60, s % 60);
}

static void
update_status (HydraWindow *self)
{
  HydraTrainer *t = self->trainer;
  HydraRunState state = hydra_trainer_get_state (t);
  g_autofree char *text = NULL;
  int epoch, epochs;
  gint64 step;

  g_object_get (t, "epoch", &epoch, "epochs", &epochs, "step", &step, NULL);
  g_autofree char *steps = hydra_format_count (step);
  switch (state)
    {
    case HYDRA_RUN_IDLE:
      text = g_strdup (self->dataset ? "Ready to train" : "Loading the data set…");
      break;
    case HYDRA_RUN_STARTING:
      text = g_strdup ("Starting…");
      break;
    case HYDRA_RUN_RUNNING:
      /* with a time budget the clock decides, not a count of epochs (epochs is 0 then) */
      text = epochs > 0 ? g_strdup_printf ("Epoch %d of %d · step %s", MIN (epoch + 1, epochs),
                                           epochs, steps)
                        : g_strdup_printf ("Epoch %d · step %s", epoch + 1, steps);
      break;
    case HYDRA_RUN_PAUSED:
      text = g_strdup_printf ("Paused at step %s", steps);
      break;
    case HYDRA_RUN_DIVERGED:
      text = g_strdup_printf ("Diverged at step %s", steps);
      break;
    case HYDRA_RUN_FINISHED:
      text = g_strdup_printf ("Finished %d epochs · %s steps", epochs > 0 ? epochs : epoch, steps);
      break;
    case HYDRA_RUN_STOPPED:
      text = g_strdup_printf ("Stopped at step %s", steps);
      break;
    case HYDRA_RUN_FAILED:
      text = g_strdup ("Training failed");
      break;
    }
  gtk_label_set_text (self->state_label, text);

  double progress, img_per_s, eta;
  g_object_get (t, "progress", &progress, "img-per-s", &img_per_s, "eta", &eta, NULL);
  gtk_progress_bar_set_fraction (self->epoch_bar, progress);
  g_autofree char *speed
      = img_per_s > 0 ? g_strdup_printf ("%.0f img/s", img_per_s) : g_strdup ("");
  gtk_label_set_text (self->speed_label, speed);
  g_autofree char *left = eta >= 0 ? format_duration (eta) : NULL;
  g_autofree char *eta_text = left ? g_strdup_printf ("%s left", left) : g_strdup ("");
  gtk_label_set_text (self->eta_label, eta_text);
}

static void
update_actions (HydraWindow *self)
{
  HydraRunState state = hydra_trainer_get_state (self->trainer);
  gboolean busy = hydra_trainer_get_busy (self->trainer);
  gboolean loading = hydra_dataset_loader_get_loading (self->loader);
  gboolean active = state == HYDRA_RUN_RUNNING || state == HYDRA_RUN_PAUSED
                    || state == HYDRA_RUN_DIVERGED || state == HYDRA_RUN_STARTING;
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_action_set_enabled (widget, "win.start-pause",
                                 state != HYDRA_RUN_STARTING && (active || !busy));
  gtk_widget_action_set_enabled (widget, "win.stop", active || self->start_after_load);
  gtk_widget_action_set_enabled (widget, "win.rollback",
                                 state == HYDRA_RUN_PAUSED || state == HYDRA_RUN_DIVERGED);
  gtk_widget_action_set_enabled (widget, "win.open-folder", !busy);
  gtk_widget_action_set_enabled (widget, "win.use-synthetic", !busy);
  gtk_widget_action_set_enabled (widget, "win.open-model", !busy);
  gtk_widget_action_set_enabled (widget, "win.open-record", !busy);
  gtk_widget_action_set_enabled (widget, "win.save-model",
                                 hydra_trainer_get_has_model (self->trainer));
  gtk_widget_action_set_enabled (widget, "win.cancel-load", loading);
  gtk_widget_action_set_enabled (widget, "win.show-run-folder",
                                 hydra_trainer_get_run_folder (self->trainer) != NULL);
  /* a run's checkpoints can be forked once it has ended */
  gtk_widget_action_set_enabled (widget, "win.fork-current",
                                 hydra_trainer_get_run_folder (self->trainer) != NULL && !busy);
  gtk_widget_action_set_enabled (widget, "win.export-pytorch",
                                 hydra_trainer_get_run_folder (self->trainer) != NULL);

  const char *icon = "media-playback-start-symbolic";
  const char *label = "_Train";
  const char *tip = "Start training (Ctrl+Return)";
  if (state == HYDRA_RUN_RUNNING || state == HYDRA_RUN_STARTING)
    icon = "media-playback-pause-symbolic", label = "_Pause",
    tip = "Pause after this step (Ctrl+Return)";
  else if (state == HYDRA_RUN_PAUSED || state == HYDRA_RUN_DIVERGED)
    label = "_Resume", tip = "Resume training (Ctrl+Return)";
  gtk_image_set_from_icon_name (self->start_icon, icon);
  gtk_label_set_text_with_mnemonic (self->start_label, label);
  gtk_widget_set_tooltip_text (self->start_button, tip);
}

static void
trainer_state_changed (HydraWindow *self)
{
  HydraRunState state = hydra_trainer_get_state (self->trainer);
  const char *message = hydra_trainer_get_message (self->trainer);
  HnTrainConfig in_force;
  double lr;

  if (self->fork_starting && state != HYDRA_RUN_STARTING)
    {
      self->fork_starting = FALSE;
      if ((state == HYDRA_RUN_RUNNING || state == HYDRA_RUN_PAUSED)
          && hydra_trainer_get_start_settings (self->trainer, &in_force.loss, &lr))
        {
          in_force.optimizer.lr = (float) lr;
          show_fork_settings (self, &in_force);
        }
    }

  if (state == HYDRA_RUN_DIVERGED && message != NULL)
    show_banner (self, BANNER_DIVERGED, message);
  else if (state == HYDRA_RUN_FAILED && message != NULL)
    show_banner (self, BANNER_ERROR, message);
  else if (state == HYDRA_RUN_FINISHED)
    {
      g_autofree char *text
          = g_strdup_printf ("Training finished. Checkpoints and curves are in %s",
                             hydra_trainer_get_run_folder (self->trainer));
      show_banner (self, BANNER_INFO, text);
    }
  update_actions (self);
  update_status (self);
}

static void
trainer_message_changed (HydraWindow *self)
{
  const char *message = hydra_trainer_get_message (self->trainer);
  HydraRunState state = hydra_trainer_get_state (self->trainer);

  /* a checkpoint that failed to write, a rollback that failed: shown, training goes on */
  if (message != NULL && state != HYDRA_RUN_DIVERGED && state != HYDRA_RUN_FAILED)
    show_banner (self, BANNER_ERROR, message);
}

/* ---- live settings: from the panel to the trainer, applied at its next step ---- */

static void
weight_changed (HydraWindow *self, int head, double weight)
{
  if (!self->syncing_panel)
    hydra_trainer_set_weight (self->trainer, head, weight);
}

static void
age_loss_changed (HydraWindow *self, int kind)
{
  if (self->syncing_panel)
    return;
  hydra_trainer_set_age_loss (self->trainer, kind);
  /* a run names its age curve through its own events; between runs, the plot names the loss
   * the next run will use */
  if (!hydra_trainer_get_busy (self->trainer))
    hydra_series_set_age_loss (hydra_trainer_get_series (self->trainer), kind);
}

static void
lr_changed (HydraWindow *self, double lr)
{
  if (!self->syncing_panel)
    hydra_trainer_set_lr (self->trainer, lr);
}

static void
balance_changed (HydraWindow *self, int method)
{
  if (!self->syncing_panel)
    hydra_trainer_set_balance (self->trainer, method);
}

/* The panel's live settings set to a fork's, without sending them: they are in force. What
 * the user changes from there reaches the fork's first step. */
static void
set_double_in_range (GSettings *s, const char *key, double v)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_object_get (s, "settings-schema", &schema, NULL);
  g_autoptr (GSettingsSchemaKey) k = g_settings_schema_get_key (schema, key);
  g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new_double (v));

  if (g_settings_schema_key_range_check (k, value))
    g_settings_set_value (s, key, value);
}

static void
show_fork_settings (HydraWindow *self, const HnTrainConfig *c)
{
  static const char *const weight_keys[N_HEADS] = { "w-age", "w-gender", "w-race" };
  GSettings *s = self->settings;

  self->syncing_panel = TRUE;
  for (int h = 0; h < N_HEADS; h++)
    set_double_in_range (s, weight_keys[h], c->loss.weight[h]);
  g_settings_set_string (s, "age-loss", age_loss_name (c->loss.age_loss));
  g_settings_set_string (s, "balance", balance_name (c->loss.balance));
  set_double_in_range (s, "learning-rate", c->optimizer.lr);
  self->syncing_panel = FALSE;
}

/* A run that has ended leaves the weight controls to the user's own weights. */
static void
busy_changed (HydraWindow *self)
{
  if (!hydra_trainer_get_busy (self->trainer))
    hydra_settings_panel_show_weights (self->settings_panel, BALANCE_MANUAL, NULL);
}

/* A number typed that a field does not take: the field keeps its value and is marked; why is
 * said here. */
static void
number_refused (HydraWindow *self, const char *message)
{
  show_banner (self, BANNER_ERROR, message);
}

static void
connect_settings_panel (HydraWindow *self)
{
  HydraSettingsPanel *panel = self->settings_panel;
  HnTrainConfig config;

  hydra_settings_panel_get_config (panel, &config, NULL); /* only the age loss, which is valid */
  hydra_series_set_age_loss (hydra_trainer_get_series (self->trainer), config.loss.age_loss);
  g_signal_connect_swapped (panel, "weight-changed", G_CALLBACK (weight_changed), self);
  g_signal_connect_swapped (panel, "age-loss-changed", G_CALLBACK (age_loss_changed), self);
  g_signal_connect_swapped (panel, "lr-changed", G_CALLBACK (lr_changed), self);
  g_signal_connect_swapped (panel, "balance-changed", G_CALLBACK (balance_changed), self);
  g_signal_connect_swapped (panel, "refused", G_CALLBACK (number_refused), self);
  g_signal_connect_swapped (self->metrics_view, "refused", G_CALLBACK (number_refused), self);
  g_signal_connect_swapped (self->trainer, "notify::busy", G_CALLBACK (busy_changed), self);
  self->busy_binding
      = g_object_bind_property (self->trainer, "busy", panel, "busy", G_BINDING_SYNC_CREATE);
}

/* ---- the plots' settings, and the settings that are window actions ---- */

/* The x axis was a boolean, x-epochs: a true one an older version left becomes 'epochs'. */
static void
migrate_x_epochs (GSettings *s)
{
  g_autoptr (GVariant) old = g_settings_get_user_value (s, "x-epochs");

  if (old == NULL)
    return;
  if (g_variant_get_boolean (old))
    g_settings_set_enum (s, "x-axis", HYDRA_PLOT_X_EPOCHS);
  g_settings_reset (s, "x-epochs");
}

/* The status bar's button names the axis; win.x-epochs is on for epochs. */
static void
x_axis_changed (HydraWindow *self)
{
  static const char *const labels[] = { "Steps", "Epochs", "Images", "Time" };
  int axis = g_settings_get_enum (self->settings, "x-axis");
  GAction *x_epochs = g_action_map_lookup_action (G_ACTION_MAP (self), "x-epochs");

  if (axis >= 0 && axis < (int) G_N_ELEMENTS (labels))
    gtk_menu_button_set_label (self->x_axis_button, labels[axis]);
  if (x_epochs != NULL)
    g_simple_action_set_state (G_SIMPLE_ACTION (x_epochs),
                               g_variant_new_boolean (axis == HYDRA_PLOT_X_EPOCHS));
}

static void
x_epochs_change_state (GSimpleAction *action, GVariant *value, HydraWindow *self)
{
  g_settings_set_enum (self->settings, "x-axis",
                       g_variant_get_boolean (value) ? HYDRA_PLOT_X_EPOCHS : HYDRA_PLOT_X_STEPS);
}

static void
x_epochs_activate (GSimpleAction *action, GVariant *parameter, HydraWindow *self)
{
  g_autoptr (GVariant) state = g_action_get_state (G_ACTION (action));

  x_epochs_change_state (action, g_variant_new_boolean (!g_variant_get_boolean (state)), self);
}

static void
bind_settings (HydraWindow *self)
{
  GSettings *s = self->settings;

  g_settings_bind (s, "smoothing", self->smoothing_adjustment, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "smoothing", self->loss_plot, "smoothing", G_SETTINGS_BIND_GET);
  g_settings_bind (s, "smoothing", self->balance_plot, "smoothing", G_SETTINGS_BIND_GET);
  g_settings_bind (s, "log-scale", self->loss_plot, "log-scale", G_SETTINGS_BIND_GET);
  g_settings_bind (s, "log-scale", self->balance_plot, "log-scale", G_SETTINGS_BIND_GET);
  migrate_x_epochs (s);
  g_settings_bind (s, "x-axis", self->loss_plot, "x-axis", G_SETTINGS_BIND_GET);
  g_settings_bind (s, "x-axis", self->balance_plot, "x-axis", G_SETTINGS_BIND_GET);
  g_signal_connect_object (s, "changed::x-axis", G_CALLBACK (x_axis_changed), self,
                           G_CONNECT_SWAPPED);
  x_axis_changed (self);
  g_settings_bind (s, "predict-tta", self->predict_pane, "flip", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "predict-faces", self->predict_pane, "find-faces", G_SETTINGS_BIND_DEFAULT);
  /* the data set pane shows what the run's augmentation will make of the images */
  g_settings_bind (s, "augment", self->dataset_pane, "augment", G_SETTINGS_BIND_GET);

  /* the panel's age-loss buttons name win.age-loss */
  GActionMap *map = G_ACTION_MAP (self);
  static const char *const actions[] = { "age-loss", "log-scale", "x-axis" };
  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_autoptr (GAction) action = g_settings_create_action (s, actions[i]);
      g_action_map_add_action (map, action);
    }
  /* the toggle the x axis used to be: on is epochs, off is steps */
  g_autoptr (GSimpleAction) x_epochs
      = g_simple_action_new_stateful ("x-epochs", NULL, g_variant_new_boolean (FALSE));
  g_signal_connect_object (x_epochs, "activate", G_CALLBACK (x_epochs_activate), self, 0);
  g_signal_connect_object (x_epochs, "change-state", G_CALLBACK (x_epochs_change_state), self, 0);
  g_action_map_add_action (map, G_ACTION (x_epochs));
  x_axis_changed (self);
}

/* Exporting needs something to export. */
static void
series_changed (HydraWindow *self, HydraSeries *series)
{
  guint n = hydra_series_get_n_steps (series);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-plot",
                                 n > 0 || hydra_series_get_n_markers (series) > 0);
  /* the weights a live run's method chose; between runs, the user's own */
  const HydraStepPoint *last = n > 0 ? hydra_series_get_step (series, n - 1) : NULL;
  if (last != NULL && hydra_trainer_get_busy (self->trainer))
    hydra_settings_panel_show_weights (self->settings_panel, last->balance, last->weight);
  else if (n == 0)
    hydra_settings_panel_show_weights (self->settings_panel, BALANCE_MANUAL, NULL);
}

/* ---- curves: the plot's legend toggles them; the choice is remembered ---- */

static void
curve_toggled (HydraWindow *self, HydraPlotView view, guint curve, gboolean visible)
{
  g_autoptr (GStrvBuilder) hidden = g_strv_builder_new ();

  if (view != HYDRA_PLOT_LOSS)
    return;
  for (int c = 0; c < HYDRA_N_CURVES; c++)
    if (!hydra_loss_plot_get_curve_visible (self->loss_plot, c))
      g_strv_builder_add (hidden, hydra_curve_name (c));
  g_auto (GStrv) names = g_strv_builder_end (hidden);
  g_settings_set_strv (self->settings, "hidden-curves", (const char *const *) names);
}

static void
restore_hidden_curves (HydraWindow *self)
{
  g_auto (GStrv) hidden = g_settings_get_strv (self->settings, "hidden-curves");

  for (int c = 0; c < HYDRA_N_CURVES; c++)
    hydra_loss_plot_set_curve_visible (
        self->loss_plot, c, !g_strv_contains ((const char *const *) hidden, hydra_curve_name (c)));
  g_signal_connect_swapped (self->loss_plot, "curve-toggled", G_CALLBACK (curve_toggled), self);
}

/* ---- files ---- */

static void
open_folder_response (GtkNativeDialog *dialog, int response, HydraWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      if (path != NULL)
        load_dataset (self, path);
    }
  g_clear_object (&self->chooser);
}

static GtkFileChooserNative *
new_chooser (HydraWindow *self, const char *title, GtkFileChooserAction action, const char *accept)
{
  g_clear_object (&self->chooser);
  GtkFileChooserNative *chooser
      = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, accept, "_Cancel");
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  return chooser;
}

static void
open_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkFileChooserNative *chooser
      = new_chooser (self, "Open a UTKFace Folder", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Open");
  g_autofree char *last = last_folder (self);

  if (last != NULL)
    {
      g_autoptr (GFile) folder = g_file_new_for_path (last);
      g_autoptr (GFile) parent = g_file_get_parent (folder);
      if (parent != NULL)
        gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), parent, NULL);
    }
  g_signal_connect (chooser, "response", G_CALLBACK (open_folder_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
use_synthetic_action (GtkWidget *widget, const char *name, GVariant *param)
{
  load_dataset (HYDRA_WINDOW (widget), NULL);
}

static void
cancel_load_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  self->start_after_load = FALSE;
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
}

static void
model_loaded (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!hydra_trainer_load_finish (HYDRA_TRAINER (source), result, &error))
    show_error (self, "The model could not be opened", error);
  else
    show_banner (self, BANNER_INFO, "Model opened — drop face images on the right to predict");
}

static void
open_model (HydraWindow *self, GFile *file)
{
  hydra_trainer_load_async (self->trainer, file, NULL, model_loaded, g_object_ref (self));
}

static void
add_model_filter (GtkFileChooser *chooser)
{
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Models (safetensors)");
  gtk_file_filter_add_pattern (filter, "*.safetensors");
  gtk_file_chooser_add_filter (chooser, filter);
}

static void
open_model_response (GtkNativeDialog *dialog, int response, HydraWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      open_model (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
open_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkFileChooserNative *chooser
      = new_chooser (self, "Open a Model", GTK_FILE_CHOOSER_ACTION_OPEN, "_Open");

  add_model_filter (GTK_FILE_CHOOSER (chooser));
  g_signal_connect (chooser, "response", G_CALLBACK (open_model_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
record_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (HydraWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!hydra_trainer_open_record_finish (HYDRA_TRAINER (source), result, &error))
    show_error (self, "The record could not be opened", error);
  else
    show_banner (self, BANNER_INFO, "Record opened — its curves, markers and validations are shown");
}

/* A run's record: a run folder's curves.csv, or hydranet-cli train --log. */
static void
open_record (HydraWindow *self, GFile *file)
{
  hydra_trainer_open_record_async (self->trainer, file, NULL, record_opened, g_object_ref (self));
}

static void
open_record_response (GtkNativeDialog *dialog, int response, HydraWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      open_record (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
open_record_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkFileChooserNative *chooser
      = new_chooser (self, "Open a Run's Record", GTK_FILE_CHOOSER_ACTION_OPEN, "_Open");
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, "Run records (CSV)");
  gtk_file_filter_add_pattern (filter, "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (open_record_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* A file being written in the background: the window to tell, and the name to tell it. */
typedef struct
{
  HydraWindow *self;
  char *name; /* for people: UTF-8, whatever the file name's bytes */
} WriteJob;

static WriteJob *
write_job_new (HydraWindow *self, GFile *file)
{
  WriteJob *job = g_new0 (WriteJob, 1);

  job->self = g_object_ref (self);
  job->name = g_file_get_parse_name (file);
  hydra_application_hold_while_writing (TRUE); /* the process stays until the file is written */
  return job;
}

static void
write_job_finish (WriteJob *job, gboolean ok, const GError *error, const char *failed,
                  const char *done)
{
  hydra_application_hold_while_writing (FALSE);
  if (!ok)
    show_error (job->self, failed, error);
  else
    {
      g_autofree char *text = g_strdup_printf ("%s %s", done, job->name);
      show_banner (job->self, BANNER_INFO, text);
    }
  g_object_unref (job->self);
  g_free (job->name);
  g_free (job);
}

static void
model_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = hydra_trainer_save_finish (HYDRA_TRAINER (source), result, &error);

  write_job_finish (user_data, ok, error, "The model was not saved", "Saved the model to");
}

static void
save_model_response (GtkNativeDialog *dialog, int response, HydraWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      hydra_trainer_save_async (self->trainer, file, NULL, model_saved, write_job_new (self, file));
    }
  g_clear_object (&self->chooser);
}

static void
save_model_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkFileChooserNative *chooser
      = new_chooser (self, "Save the Model", GTK_FILE_CHOOSER_ACTION_SAVE, "_Save");

  add_model_filter (GTK_FILE_CHOOSER (chooser));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "hydranet.safetensors");
  g_signal_connect (chooser, "response", G_CALLBACK (save_model_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
export_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = hydra_loss_plot_export_finish (HYDRA_LOSS_PLOT (source), result, &error);

  write_job_finish (user_data, ok, error, "The plot was not exported", "Exported to");
}

static void
export_response (GtkNativeDialog *dialog, int response, HydraWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      HydraLossPlot *plot
          = g_str_equal (gtk_stack_get_visible_child_name (self->view_stack), "balance")
                ? self->balance_plot
                : self->loss_plot;
      if (path == NULL)
        show_banner (self, BANNER_ERROR, "The plot can only be exported to a local file");
      else
        hydra_loss_plot_export_async (plot, path, 1600, 900, NULL, export_done,
                                      write_job_new (self, file));
    }
  g_clear_object (&self->chooser);
}

static void
export_plot_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkFileChooserNative *chooser
      = new_chooser (self, "Export the Plot", GTK_FILE_CHOOSER_ACTION_SAVE, "_Export");
  static const struct
  {
    const char *name, *pattern;
  } formats[] = {
    { "PNG image", "*.png" },
    { "SVG drawing", "*.svg" },
    { "CSV table (every point and settings change)", "*.csv" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
      gtk_file_filter_set_name (filter, formats[i].name);
      gtk_file_filter_add_pattern (filter, formats[i].pattern);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), "hydranet-losses.png");
  g_signal_connect (chooser, "response", G_CALLBACK (export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
show_run_folder_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  const char *folder = hydra_trainer_get_run_folder (self->trainer);
  g_autofree char *uri = folder ? g_filename_to_uri (folder, NULL, NULL) : NULL;

  if (uri != NULL)
    gtk_show_uri (GTK_WINDOW (self), uri, GDK_CURRENT_TIME);
}

static void
open_images_action (GtkWidget *widget, const char *name, GVariant *param)
{
  hydra_predict_pane_open_images (HYDRA_WINDOW (widget)->predict_pane);
}

static void
paste_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  /* text fields keep their own paste */
  if (focus != NULL && GTK_IS_EDITABLE (focus))
    {
      gtk_widget_activate_action (focus, "clipboard.paste", NULL);
      return;
    }
  hydra_predict_pane_paste (self->predict_pane);
}

static void
reset_zoom_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  hydra_loss_plot_reset_view (self->loss_plot);
  hydra_loss_plot_reset_view (self->balance_plot);
}

static void
view_action (GtkWidget *widget, const char *name, GVariant *param)
{
  gtk_stack_set_visible_child_name (HYDRA_WINDOW (widget)->view_stack,
                                    g_variant_get_string (param, NULL));
}

void
hydra_window_open_files (HydraWindow *self, GFile **files, int n_files)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new ();

  for (int i = 0; i < n_files; i++)
    {
      GFileType type = g_file_query_file_type (files[i], G_FILE_QUERY_INFO_NONE, NULL);
      g_autofree char *path = g_file_get_path (files[i]);
      g_autofree char *basename = g_file_get_basename (files[i]);

      if (type == G_FILE_TYPE_DIRECTORY && path != NULL)
        load_dataset (self, path);
      else if (basename != NULL && g_str_has_suffix (basename, ".safetensors"))
        open_model (self, files[i]);
      else if (basename != NULL && g_str_has_suffix (basename, ".csv"))
        open_record (self, files[i]);
      else
        g_ptr_array_add (images, files[i]);
    }
  if (images->len > 0)
    hydra_predict_pane_add_files (self->predict_pane, (GFile **) images->pdata, images->len);
}

/* ---- life cycle ---- */

static void
loader_changed (HydraWindow *self)
{
  gboolean loading = hydra_dataset_loader_get_loading (self->loader);

  gtk_revealer_set_reveal_child (self->loading_revealer, loading);
  gtk_progress_bar_set_fraction (self->loading_bar,
                                 hydra_dataset_loader_get_fraction (self->loader));
  gtk_progress_bar_set_text (self->loading_bar, hydra_dataset_loader_get_text (self->loader));
  update_actions (self);
  update_status (self);
}

/* Closing while a run is active: stop it and let the run folder get its final model and
 * curves before the window (and with it, perhaps the process) goes. */
static void
finish_close (HydraWindow *self)
{
  if (hydra_trainer_get_busy (self->trainer) || hydra_trainer_get_saving (self->trainer))
    return;
  g_signal_handlers_disconnect_by_func (self->trainer, finish_close, self);
  GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));
  gtk_window_destroy (GTK_WINDOW (self));
  if (app != NULL)
    g_application_release (app);
}

static gboolean
hydra_window_close_request (GtkWindow *window)
{
  HydraWindow *self = HYDRA_WINDOW (window);
  int width, height;

  if (self->closing)
    return TRUE;
  if (hydra_trainer_get_busy (self->trainer) || hydra_trainer_get_saving (self->trainer))
    {
      self->closing = TRUE;
      g_application_hold (G_APPLICATION (gtk_window_get_application (window)));
      gtk_widget_set_visible (GTK_WIDGET (window), FALSE);
      g_signal_connect_swapped (self->trainer, "notify::busy", G_CALLBACK (finish_close), self);
      g_signal_connect_swapped (self->trainer, "notify::saving", G_CALLBACK (finish_close), self);
      self->start_after_load = FALSE;
      hydra_trainer_stop (self->trainer);
      finish_close (self);
    }

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  if (self->closing)
    return TRUE;

  return GTK_WINDOW_CLASS (hydra_window_parent_class)->close_request (window);
}

/* ---- comparison: other runs drawn with this session ---- */

#define MAX_COMPARED 7 /* the plots' palette has the session's colour and 7 more */

/* What win.compare-runs reads: one record per run, each on a worker thread. */
typedef struct
{
  HydraWindow *self;
  GCancellable *cancellable;
  guint n, pending;
  char **names;          /* the runs' names: their folders' */
  HydraSeries **series;  /* NULL where the record could not be read */
  GString *errors;       /* one sentence per unreadable record */
} CompareJob;

static void
compare_job_free (CompareJob *job)
{
  for (guint i = 0; i < job->n; i++)
    g_clear_object (&job->series[i]);
  g_free (job->series);
  g_strfreev (job->names);
  g_string_free (job->errors, TRUE);
  g_object_unref (job->cancellable);
  g_object_unref (job->self);
  g_free (job);
}

static void
set_comparison (HydraWindow *self, HydraSeries **series, const char *const *names, guint n)
{
  hydra_loss_plot_set_overlay (self->loss_plot, series, names, n);
  hydra_loss_plot_set_overlay (self->balance_plot, series, names, n);
  hydra_metrics_view_set_overlay (self->metrics_view, series, names, n);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.clear-comparison", n > 0);
  if (n > 0)
    {
      g_autofree char *list = g_strjoinv (", ", (char **) names);
      g_autofree char *text = g_strdup_printf (n == 1 ? "Comparing this session with %u run: %s"
                                                      : "Comparing this session with %u runs: %s",
                                               n, list);

      gtk_label_set_text (self->compare_label, text);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->compare_label), list);
    }
  gtk_revealer_set_reveal_child (self->compare_revealer, n > 0);
}

static void
compare_job_done (CompareJob *job)
{
  HydraWindow *self = job->self;
  HydraSeries *series[MAX_COMPARED];
  const char *names[MAX_COMPARED + 1];
  guint n = 0;

  for (guint i = 0; i < job->n; i++)
    if (job->series[i] != NULL)
      {
        series[n] = job->series[i];
        names[n++] = job->names[i];
      }
  names[n] = NULL;
  set_comparison (self, series, names, n);
  if (job->errors->len > 0)
    show_banner (self, BANNER_ERROR, job->errors->str);
}

static void
compare_record_read (CompareJob *job, guint i, GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;
  HydraSeries *series = hydra_series_read_csv_finish (result, &error);

  if (series != NULL)
    job->series[i] = series;
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_string_append_printf (job->errors, "%sThe record of “%s” could not be read: %s",
                            job->errors->len > 0 ? "\n" : "", job->names[i], error->message);
  if (--job->pending > 0)
    return;
  if (!g_cancellable_is_cancelled (job->cancellable))
    compare_job_done (job);
  compare_job_free (job);
}

/* A run's record: the folder's curves.csv, or the file itself (a --log). */
static char *
run_record_path (const char *path, char **name)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      *name = g_path_get_basename (path);
      return g_build_filename (path, "curves.csv", NULL);
    }
  {
    g_autofree char *base = g_path_get_basename (path);

    if (g_strcmp0 (base, "curves.csv") == 0)
      {
        g_autofree char *dir = g_path_get_dirname (path);

        *name = g_path_get_basename (dir);
      }
    else
      *name = g_steal_pointer (&base);
  }
  return g_strdup (path);
}

typedef struct
{
  CompareJob *job;
  guint index;
} CompareRead;

static void
compare_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CompareRead *read = user_data;

  compare_record_read (read->job, read->index, result);
  g_free (read);
}

/* win.compare-runs (as): run folders (or record files) to draw with this session in the
 * loss, balance and metrics views. Their records are read off the main thread; one that
 * cannot be read is named in the banner, and the others are still shown. */
static void
compare_runs_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);
  g_autofree const char **paths = g_variant_get_strv (param, NULL);
  guint n = g_strv_length ((char **) paths);
  CompareJob *job;

  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  if (n == 0)
    {
      set_comparison (self, NULL, NULL, 0);
      return;
    }
  self->compare_cancellable = g_cancellable_new ();
  job = g_new0 (CompareJob, 1);
  job->self = g_object_ref (self);
  job->cancellable = g_object_ref (self->compare_cancellable);
  job->errors = g_string_new (NULL);
  if (n > MAX_COMPARED)
    {
      g_string_append_printf (job->errors, "Only %d runs can be compared at once: the first %d are shown",
                              MAX_COMPARED, MAX_COMPARED);
      n = MAX_COMPARED;
    }
  job->n = job->pending = n;
  job->names = g_new0 (char *, n + 1);
  job->series = g_new0 (HydraSeries *, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *record = run_record_path (paths[i], &job->names[i]);
      CompareRead *read = g_new (CompareRead, 1);

      read->job = job;
      read->index = i;
      hydra_series_read_csv_async (record, job->cancellable, compare_read_cb, read);
    }
}

static void
clear_comparison_action (GtkWidget *widget, const char *name, GVariant *param)
{
  HydraWindow *self = HYDRA_WINDOW (widget);

  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  set_comparison (self, NULL, NULL, 0);
}

const char *
hydra_window_get_comparison_text (HydraWindow *self)
{
  g_return_val_if_fail (HYDRA_IS_WINDOW (self), NULL);

  if (!gtk_revealer_get_reveal_child (self->compare_revealer))
    return NULL;
  return gtk_label_get_text (self->compare_label);
}

static void
hydra_window_dispose (GObject *object)
{
  HydraWindow *self = HYDRA_WINDOW (object);

  g_clear_handle_id (&self->banner_timeout, g_source_remove);
  g_cancellable_cancel (self->compare_cancellable);
  g_clear_object (&self->compare_cancellable);
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  g_clear_object (&self->chooser);
  clear_pending_fork (self);
  g_clear_pointer (&self->busy_binding, g_binding_unbind);
  if (self->trainer != NULL)
    {
      g_signal_handlers_disconnect_by_data (hydra_trainer_get_series (self->trainer), self);
      g_signal_handlers_disconnect_by_data (self->trainer, self);
    }
  if (self->loader != NULL)
    g_signal_handlers_disconnect_by_data (self->loader, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_WINDOW);
  /* the panes are gone: the data set can go, and the trainer (whose run holds its own ref) */
  g_clear_pointer (&self->dataset, hydra_dataset_unref);
  g_clear_object (&self->trainer);
  g_clear_object (&self->loader);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (hydra_window_parent_class)->dispose (object);
}

static void
hydra_window_class_init (HydraWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_window_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = hydra_window_close_request;

  g_type_ensure (HYDRA_TYPE_LOSS_PLOT);
  g_type_ensure (HYDRA_TYPE_METRICS_VIEW);
  g_type_ensure (HYDRA_TYPE_DATASET_PANE);
  g_type_ensure (HYDRA_TYPE_RUNS_VIEW);
  g_type_ensure (HYDRA_TYPE_PREDICT_PANE);
  g_type_ensure (HYDRA_TYPE_SETTINGS_PANEL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, HydraWindow, name)
  BIND (start_button);
  BIND (start_icon);
  BIND (start_label);
  BIND (banner_revealer);
  BIND (banner);
  BIND (banner_label);
  BIND (banner_icon);
  BIND (banner_rollback);
  BIND (banner_close);
  BIND (data_label);
  BIND (loading_revealer);
  BIND (loading_bar);
  BIND (settings_panel);
  BIND (view_stack);
  BIND (loss_plot);
  BIND (balance_plot);
  BIND (metrics_view);
  BIND (dataset_pane);
  BIND (runs_view);
  BIND (predict_pane);
  BIND (state_label);
  BIND (epoch_bar);
  BIND (speed_label);
  BIND (eta_label);
  BIND (smoothing_adjustment);
  BIND (x_axis_button);
  BIND (compare_revealer);
  BIND (compare_label);
#undef BIND

  gtk_widget_class_install_action (widget_class, "win.start-pause", NULL, start_pause_action);
  gtk_widget_class_install_action (widget_class, "win.stop", NULL, stop_action);
  gtk_widget_class_install_action (widget_class, "win.reset", NULL, reset_action);
  gtk_widget_class_install_action (widget_class, "win.rollback", NULL, rollback_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL, open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.use-synthetic", NULL, use_synthetic_action);
  gtk_widget_class_install_action (widget_class, "win.cancel-load", NULL, cancel_load_action);
  gtk_widget_class_install_action (widget_class, "win.open-model", NULL, open_model_action);
  gtk_widget_class_install_action (widget_class, "win.open-record", NULL, open_record_action);
  gtk_widget_class_install_action (widget_class, "win.save-model", NULL, save_model_action);
  gtk_widget_class_install_action (widget_class, "win.export-plot", NULL, export_plot_action);
  gtk_widget_class_install_action (widget_class, "win.show-run-folder", NULL,
                                   show_run_folder_action);
  gtk_widget_class_install_action (widget_class, "win.fork-current", NULL, fork_current_action);
  gtk_widget_class_install_action (widget_class, "win.export-pytorch", NULL, export_pytorch_action);
  gtk_widget_class_install_action (widget_class, "win.import-run", NULL, import_run_action);
  gtk_widget_class_install_action (widget_class, "win.open-images", NULL, open_images_action);
  gtk_widget_class_install_action (widget_class, "win.paste", NULL, paste_action);
  gtk_widget_class_install_action (widget_class, "win.reset-zoom", NULL, reset_zoom_action);
  gtk_widget_class_install_action (widget_class, "win.view", "s", view_action);
  gtk_widget_class_install_action (widget_class, "win.compare-runs", "as", compare_runs_action);
  gtk_widget_class_install_action (widget_class, "win.clear-comparison", NULL,
                                   clear_comparison_action);
}

static void
hydra_window_init (HydraWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = hydra_settings_new ();
  self->trainer = hydra_trainer_new ();
  self->loader = hydra_dataset_loader_new ();

  HydraSeries *series = hydra_trainer_get_series (self->trainer);
  hydra_loss_plot_set_series (self->loss_plot, series);
  hydra_loss_plot_set_series (self->balance_plot, series);
  g_object_set (self->balance_plot, "view", HYDRA_PLOT_BALANCE, NULL);
  hydra_metrics_view_set_series (self->metrics_view, series);
  hydra_predict_pane_set_trainer (self->predict_pane, self->trainer);
  hydra_runs_view_set_trainer (self->runs_view, self->trainer);
  g_signal_connect_swapped (self->runs_view, "fork", G_CALLBACK (runs_fork), self);
  g_signal_connect_swapped (self->runs_view, "loaded", G_CALLBACK (runs_loaded), self);
  g_signal_connect_swapped (self->runs_view, "failed", G_CALLBACK (runs_failed), self);
  g_signal_connect_swapped (self->runs_view, "notice", G_CALLBACK (runs_notice), self);

  connect_settings_panel (self);
  bind_settings (self);
  hydra_loss_plot_set_primary_name (self->loss_plot, "this session");
  hydra_loss_plot_set_primary_name (self->balance_plot, "this session");
  hydra_metrics_view_set_primary_name (self->metrics_view, "this session");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.clear-comparison", FALSE);
  restore_hidden_curves (self);
  g_signal_connect_swapped (series, "changed", G_CALLBACK (series_changed), self);
  series_changed (self, series);
  g_signal_connect_swapped (self->banner_close, "clicked", G_CALLBACK (banner_close_clicked), self);

  g_signal_connect_swapped (self->trainer, "notify::state", G_CALLBACK (trainer_state_changed),
                            self);
  g_signal_connect_swapped (self->trainer, "notify::message", G_CALLBACK (trainer_message_changed),
                            self);
  g_signal_connect_swapped (self->trainer, "notify::busy", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->trainer, "notify::has-model", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->trainer, "notify::run-folder", G_CALLBACK (update_actions), self);
  g_signal_connect_swapped (self->trainer, "notify::progress", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (self->trainer, "notify::epoch", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (self->trainer, "notify::img-per-s", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (self->loader, "notify::loading", G_CALLBACK (loader_changed), self);
  g_signal_connect_swapped (self->loader, "notify::fraction", G_CALLBACK (loader_changed), self);

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  update_actions (self);
  update_status (self);
  update_data_label (self);

  /* the last folder, or the built-in faces: one click on Train is all it takes */
  g_autofree char *last = last_folder (self);
  load_dataset (self, last != NULL && g_file_test (last, G_FILE_TEST_IS_DIR) ? last : NULL);

  /* the controls work either way; where their settings go is said once */
  const char *problem = hydra_settings_take_problem ();
  if (problem != NULL)
    show_banner (self, BANNER_NOTE, problem);
}

HydraWindow *
hydra_window_new (HydraApplication *app)
{
  return g_object_new (HYDRA_TYPE_WINDOW, "application", app, NULL);
}

HydraTrainer *
hydra_window_get_trainer (HydraWindow *self)
{
  return self->trainer;
}

HydraDataset *
hydra_window_get_dataset (HydraWindow *self)
{
  return self->dataset;
}

HydraLossPlot *
hydra_window_get_loss_plot (HydraWindow *self)
{
  return self->loss_plot;
}

HydraRunsView *
hydra_window_get_runs_view (HydraWindow *self)
{
  return self->runs_view;
}

HydraPredictPane *
hydra_window_get_predict_pane (HydraWindow *self)
{
  return self->predict_pane;
}

const char *
hydra_window_get_banner_text (HydraWindow *self)
{
  if (!gtk_revealer_get_reveal_child (self->banner_revealer))
    return NULL;
  return gtk_label_get_text (self->banner_label);
}
