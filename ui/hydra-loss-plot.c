/* hydra-loss-plot.c — the live loss and balance charts: the widget.
 *
 * Properties, the snapshot (a cached static picture and an overlay), the controllers and
 * the public setters. The drawing, the data cache, hover and zoom and export live in plot/;
 * plot/hydra-loss-plot-private.h lists them and describes the data path.
 */

#include "hydra-loss-plot.h"

#include "plot/hydra-loss-plot-private.h"

G_DEFINE_FINAL_TYPE (HydraLossPlot, hydra_loss_plot, GTK_TYPE_WIDGET)

G_DEFINE_ENUM_TYPE (HydraPlotView, hydra_plot_view, G_DEFINE_ENUM_VALUE (HYDRA_PLOT_LOSS, "loss"),
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_BALANCE, "balance"))

G_DEFINE_ENUM_TYPE (HydraPlotXAxis, hydra_plot_x_axis,
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_X_STEPS, "steps"),
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_X_EPOCHS, "epochs"),
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_X_IMAGES, "images"),
                    G_DEFINE_ENUM_VALUE (HYDRA_PLOT_X_TIME, "time"))

enum
{
  PROP_0,
  PROP_SERIES,
  PROP_VIEW,
  PROP_SMOOTHING,
  PROP_LOG_SCALE,
  PROP_X_AXIS,
  PROP_X_EPOCHS,
  PROP_SHOW_TRAINING,
  PROP_SHOW_VALIDATION,
  PROP_SHOW_LEARNING_RATE,
  PROP_ZOOMED,
  N_PROPS
};

enum
{
  CURVE_TOGGLED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

void
hydra_plot_invalidate (HydraLossPlot *self)
{
  g_clear_pointer (&self->static_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
hydra_plot_notify_zoomed (HydraLossPlot *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOMED]);
}

/* Every panel's y fits what it shows again. */
static void
y_autoscale (HydraLossPlot *self)
{
  for (guint p = 0; p < MAX_PANELS; p++)
    self->y_auto[p] = TRUE;
}

/* New points redraw the picture at most this often: a Cairo frame of the plot takes 12–20 ms
 * on two cores, and redrawn at each of the trainer's polls it took those cores from the
 * training it shows (docs/performance.md, "The studio"). */
#define DATA_REDRAW_INTERVAL_US (250 * G_TIME_SPAN_MILLISECOND)

static void
redraw_for_data (HydraLossPlot *self)
{
  self->data_redrawn_at = g_get_monotonic_time ();
  hydra_plot_invalidate (self);
}

static gboolean
data_redraw_due (gpointer data)
{
  HydraLossPlot *self = data;

  self->data_redraw_id = 0;
  redraw_for_data (self);
  return G_SOURCE_REMOVE;
}

/* New points, of the session or of a compared run: drawn at most every
 * DATA_REDRAW_INTERVAL_US. */
static void
redraw_for_new_points (HydraLossPlot *self)
{
  if (self->data_redraw_id != 0)
    return; /* a redraw is already due, and will show these points too */
  gint64 due = self->data_redrawn_at + DATA_REDRAW_INTERVAL_US;
  gint64 now = g_get_monotonic_time ();
  if (now >= due)
    redraw_for_data (self);
  else
    self->data_redraw_id = g_timeout_add ((guint) ((due - now + 999) / 1000), data_redraw_due, self);
}

static void
on_series_changed (HydraLossPlot *self, HydraSeries *series)
{
  /* fewer points than drawn: a new run or a rollback, shown at once */
  if (hydra_series_get_n_steps (series) < self->main.n_cached)
    {
      hydra_plot_cache_reset (self);
      g_clear_handle_id (&self->data_redraw_id, g_source_remove);
      redraw_for_data (self);
      return;
    }
  redraw_for_new_points (self);
}

static void
on_age_loss_changed (HydraLossPlot *self, GParamSpec *pspec, HydraSeries *series)
{
  hydra_plot_invalidate (self);
}

static void
hydra_loss_plot_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, width, height);
  Style st;

  if (width <= 0 || height <= 0)
    return;
  hydra_plot_style_init_widget (self, &st);
  if (self->static_node == NULL || self->frame.width != width || self->frame.height != height)
    {
      GtkSnapshot *s = gtk_snapshot_new ();
      cairo_t *cr = gtk_snapshot_append_cairo (s, &bounds);

      g_clear_pointer (&self->static_node, gsk_render_node_unref);
      hydra_plot_draw_static (self, cr, width, height, &st, &self->frame, self->legend_hits);
      cairo_destroy (cr);
      self->static_node = gtk_snapshot_free_to_node (s);
    }
  if (self->static_node != NULL)
    gtk_snapshot_append_node (snapshot, self->static_node);
  if (!self->frame.empty && (self->hovering || self->drag_mode == DRAG_BOX))
    {
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &bounds);

      hydra_plot_draw_overlay (self, cr, &st);
      cairo_destroy (cr);
    }
  hydra_plot_style_clear (&st, FALSE);
}

static void
hydra_loss_plot_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                         int *natural, int *minimum_baseline, int *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 240;
      *natural = 640;
    }
  else
    {
      *minimum = 180;
      *natural = 360;
    }
}

static void
hydra_loss_plot_css_changed (GtkWidget *widget, GtkCssStyleChange *change)
{
  GTK_WIDGET_CLASS (hydra_loss_plot_parent_class)->css_changed (widget, change);
  hydra_plot_invalidate (HYDRA_LOSS_PLOT (widget));
}

static void
hydra_loss_plot_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (widget);

  if (self->frame.width != width || self->frame.height != height)
    g_clear_pointer (&self->static_node, gsk_render_node_unref);
}

static void
hydra_loss_plot_dispose (GObject *object)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  hydra_loss_plot_set_series (self, NULL);
  hydra_loss_plot_set_overlay (self, NULL, NULL, 0);
  g_clear_handle_id (&self->data_redraw_id, g_source_remove);
  g_clear_pointer (&self->static_node, gsk_render_node_unref);

  G_OBJECT_CLASS (hydra_loss_plot_parent_class)->dispose (object);
}

static void
hydra_loss_plot_finalize (GObject *object)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  hydra_plot_cache_free (self);
  g_clear_pointer (&self->main.name, g_free);
  g_clear_pointer (&self->legend_hits, g_array_unref);

  G_OBJECT_CLASS (hydra_loss_plot_parent_class)->finalize (object);
}

static void
hydra_loss_plot_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      g_value_set_object (value, self->series);
      break;
    case PROP_VIEW:
      g_value_set_enum (value, self->view);
      break;
    case PROP_SMOOTHING:
      g_value_set_double (value, self->smoothing);
      break;
    case PROP_LOG_SCALE:
      g_value_set_boolean (value, self->log_scale);
      break;
    case PROP_X_AXIS:
      g_value_set_enum (value, self->x_axis);
      break;
    case PROP_X_EPOCHS:
      g_value_set_boolean (value, self->x_axis == HYDRA_PLOT_X_EPOCHS);
      break;
    case PROP_SHOW_TRAINING:
      g_value_set_boolean (value, self->show_training);
      break;
    case PROP_SHOW_VALIDATION:
      g_value_set_boolean (value, self->show_validation);
      break;
    case PROP_SHOW_LEARNING_RATE:
      g_value_set_boolean (value, self->show_lr);
      break;
    case PROP_ZOOMED:
      g_value_set_boolean (value, hydra_loss_plot_get_zoomed (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_loss_plot_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  HydraLossPlot *self = HYDRA_LOSS_PLOT (object);

  switch (prop_id)
    {
    case PROP_SERIES:
      hydra_loss_plot_set_series (self, g_value_get_object (value));
      break;
    case PROP_VIEW:
      hydra_loss_plot_set_view (self, g_value_get_enum (value));
      break;
    case PROP_SMOOTHING:
      hydra_loss_plot_set_smoothing (self, g_value_get_double (value));
      break;
    case PROP_LOG_SCALE:
      hydra_loss_plot_set_log_scale (self, g_value_get_boolean (value));
      break;
    case PROP_X_AXIS:
      hydra_loss_plot_set_x_axis (self, g_value_get_enum (value));
      break;
    case PROP_X_EPOCHS:
      hydra_loss_plot_set_x_epochs (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_TRAINING:
      hydra_loss_plot_set_show_training (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_VALIDATION:
      hydra_loss_plot_set_show_validation (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_LEARNING_RATE:
      hydra_loss_plot_set_show_learning_rate (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_loss_plot_class_init (HydraLossPlotClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_loss_plot_dispose;
  object_class->finalize = hydra_loss_plot_finalize;
  object_class->get_property = hydra_loss_plot_get_property;
  object_class->set_property = hydra_loss_plot_set_property;

  widget_class->snapshot = hydra_loss_plot_snapshot;
  widget_class->measure = hydra_loss_plot_measure;
  widget_class->css_changed = hydra_loss_plot_css_changed;
  widget_class->size_allocate = hydra_loss_plot_size_allocate;

  properties[PROP_SERIES]
      = g_param_spec_object ("series", NULL, NULL, HYDRA_TYPE_SERIES,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VIEW]
      = g_param_spec_enum ("view", NULL, NULL, HYDRA_TYPE_PLOT_VIEW, HYDRA_PLOT_LOSS,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SMOOTHING]
      = g_param_spec_double ("smoothing", NULL, NULL, 0.0, 0.999, 0.6,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOG_SCALE]
      = g_param_spec_boolean ("log-scale", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_X_AXIS]
      = g_param_spec_enum ("x-axis", NULL, NULL, HYDRA_TYPE_PLOT_X_AXIS, HYDRA_PLOT_X_STEPS,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_X_EPOCHS]
      = g_param_spec_boolean ("x-epochs", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS
                                  | G_PARAM_DEPRECATED);
  properties[PROP_SHOW_TRAINING]
      = g_param_spec_boolean ("show-training", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_VALIDATION]
      = g_param_spec_boolean ("show-validation", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_LEARNING_RATE]
      = g_param_spec_boolean ("show-learning-rate", NULL, NULL, TRUE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOMED] = g_param_spec_boolean ("zoomed", NULL, NULL, FALSE,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CURVE_TOGGLED]
      = g_signal_new ("curve-toggled", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 3, HYDRA_TYPE_PLOT_VIEW, G_TYPE_UINT, G_TYPE_BOOLEAN);

  gtk_widget_class_set_css_name (widget_class, "hydra-loss-plot");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
hydra_loss_plot_init (HydraLossPlot *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->legend_hits = g_array_new (FALSE, FALSE, sizeof (LegendHit));
  self->main.name = g_strdup ("this run");
  self->view = HYDRA_PLOT_LOSS;
  self->smoothing = 0.6;
  self->show_training = TRUE;
  self->show_validation = TRUE;
  self->show_lr = TRUE;
  self->curve_visible[HYDRA_CURVE_AGE] = TRUE;
  self->curve_visible[HYDRA_CURVE_GENDER] = TRUE;
  self->curve_visible[HYDRA_CURVE_RACE] = TRUE;
  self->curve_visible[HYDRA_CURVE_TOTAL] = TRUE;
  for (guint b = 0; b < HYDRA_N_BALANCE_CURVES; b++)
    self->balance_visible[b] = TRUE;
  self->x_auto = TRUE;
  y_autoscale (self);
  self->drag_panel = -1;

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (hydra_plot_on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (hydra_plot_on_motion), self);
  g_signal_connect (controller, "motion", G_CALLBACK (hydra_plot_on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (hydra_plot_on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), 0);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (hydra_plot_on_drag_begin), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (hydra_plot_on_drag_update), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (hydra_plot_on_drag_end), self);
  g_signal_connect (gesture, "cancel", G_CALLBACK (hydra_plot_on_drag_cancel), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect (gesture, "pressed", G_CALLBACK (hydra_plot_on_click_pressed), self);
  g_signal_connect (gesture, "released", G_CALLBACK (hydra_plot_on_click_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  "Training losses", -1);
}

GtkWidget *
hydra_loss_plot_new (void)
{
  return g_object_new (HYDRA_TYPE_LOSS_PLOT, NULL);
}

HydraSeries *
hydra_loss_plot_get_series (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), NULL);
  return self->series;
}

void
hydra_loss_plot_set_series (HydraLossPlot *self, HydraSeries *series)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (series == NULL || HYDRA_IS_SERIES (series));

  if (self->series == series)
    return;
  if (self->series != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->series, self);
      g_clear_object (&self->series);
    }
  if (series != NULL)
    {
      self->series = g_object_ref (series);
      g_signal_connect_object (series, "changed", G_CALLBACK (on_series_changed), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (series, "notify::age-loss", G_CALLBACK (on_age_loss_changed), self,
                               G_CONNECT_SWAPPED);
    }
  hydra_plot_cache_reset (self);
  self->x_auto = TRUE;
  y_autoscale (self);
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERIES]);
  hydra_plot_notify_zoomed (self);
}

static void
on_overlay_changed (HydraLossPlot *self, HydraSeries *series)
{
  for (guint k = 0; k < self->n_overlay; k++)
    if (self->overlay[k]->series == series
        && hydra_series_get_n_steps (series) < self->overlay[k]->n_cached)
      hydra_plot_track_reset (self->overlay[k]);
  redraw_for_new_points (self);
}

void
hydra_loss_plot_set_overlay (HydraLossPlot *self, HydraSeries *const *series,
                             const char *const *names, guint n)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (n == 0 || (series != NULL && names != NULL));

  if (n == 0 && self->n_overlay == 0)
    return;
  if (n > MAX_RUNS - 1)
    {
      g_warning ("an overlay of %u runs: the plot draws the first %u", n, MAX_RUNS - 1);
      n = MAX_RUNS - 1;
    }
  for (guint k = 0; k < self->n_overlay; k++)
    {
      Track *t = self->overlay[k];

      g_signal_handlers_disconnect_by_data (t->series, self);
      g_clear_object (&t->series);
      g_free (t->name);
      hydra_plot_track_free (t);
      g_free (t);
    }
  self->n_overlay = 0;
  for (guint k = 0; k < n; k++)
    {
      Track *t = g_new0 (Track, 1);

      g_return_if_fail (HYDRA_IS_SERIES (series[k]));
      t->series = g_object_ref (series[k]);
      t->name = g_strdup (names[k] != NULL ? names[k] : "");
      t->run = k + 1;
      g_signal_connect_object (t->series, "changed", G_CALLBACK (on_overlay_changed), self,
                               G_CONNECT_SWAPPED);
      self->overlay[self->n_overlay++] = t;
    }
  self->x_auto = TRUE;
  y_autoscale (self);
  hydra_plot_invalidate (self);
  hydra_plot_notify_zoomed (self);
}

guint
hydra_loss_plot_get_n_overlay (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), 0);
  return self->n_overlay;
}

void
hydra_loss_plot_set_primary_name (HydraLossPlot *self, const char *name)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (name != NULL);

  g_free (self->main.name);
  self->main.name = g_strdup (name);
  hydra_plot_invalidate (self);
}

HydraPlotView
hydra_loss_plot_get_view (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), HYDRA_PLOT_LOSS);
  return self->view;
}

void
hydra_loss_plot_set_view (HydraLossPlot *self, HydraPlotView view)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (view == HYDRA_PLOT_LOSS || view == HYDRA_PLOT_BALANCE);

  if (self->view == view)
    return;
  self->view = view;
  y_autoscale (self);
  gtk_accessible_update_property (
      GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
      view == HYDRA_PLOT_LOSS ? "Training losses" : "Gradient balance of the heads", -1);
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
  hydra_plot_notify_zoomed (self);
}

double
hydra_loss_plot_get_smoothing (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), 0);
  return self->smoothing;
}

void
hydra_loss_plot_set_smoothing (HydraLossPlot *self, double smoothing)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  smoothing = CLAMP (smoothing, 0.0, 0.999);
  if (self->smoothing == smoothing)
    return;
  self->smoothing = smoothing;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SMOOTHING]);
}

gboolean
hydra_loss_plot_get_log_scale (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->log_scale;
}

void
hydra_loss_plot_set_log_scale (HydraLossPlot *self, gboolean log_scale)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  log_scale = !!log_scale;
  if (self->log_scale == log_scale)
    return;
  self->log_scale = log_scale;
  self->y_auto[0] = TRUE;
  self->y_auto[PANEL_WEIGHT] = TRUE;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOG_SCALE]);
  hydra_plot_notify_zoomed (self);
}

HydraPlotXAxis
hydra_loss_plot_get_x_axis (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), HYDRA_PLOT_X_STEPS);
  return self->x_axis;
}

void
hydra_loss_plot_set_x_axis (HydraLossPlot *self, HydraPlotXAxis x_axis)
{
  gboolean was_epochs;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (x_axis <= HYDRA_PLOT_X_TIME);

  if (self->x_axis == x_axis)
    return;
  was_epochs = self->x_axis == HYDRA_PLOT_X_EPOCHS;
  self->x_axis = x_axis;
  self->x_auto = TRUE;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_AXIS]);
  if (was_epochs != (x_axis == HYDRA_PLOT_X_EPOCHS))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_X_EPOCHS]);
  hydra_plot_notify_zoomed (self);
}

gboolean
hydra_loss_plot_get_x_epochs (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->x_axis == HYDRA_PLOT_X_EPOCHS;
}

void
hydra_loss_plot_set_x_epochs (HydraLossPlot *self, gboolean x_epochs)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  if (x_epochs)
    hydra_loss_plot_set_x_axis (self, HYDRA_PLOT_X_EPOCHS);
  else if (self->x_axis == HYDRA_PLOT_X_EPOCHS)
    hydra_loss_plot_set_x_axis (self, HYDRA_PLOT_X_STEPS);
}

double
hydra_loss_plot_get_step_x (HydraLossPlot *self, guint i)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), NAN);

  hydra_plot_cache_sync (self);
  g_return_val_if_fail (i < self->main.n_cached, NAN);
  return self->main.xs[i];
}

gboolean
hydra_loss_plot_get_show_training (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->show_training;
}

void
hydra_loss_plot_set_show_training (HydraLossPlot *self, gboolean show)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  show = !!show;
  if (self->show_training == show)
    return;
  self->show_training = show;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_TRAINING]);
}

gboolean
hydra_loss_plot_get_show_validation (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->show_validation;
}

void
hydra_loss_plot_set_show_validation (HydraLossPlot *self, gboolean show)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  show = !!show;
  if (self->show_validation == show)
    return;
  self->show_validation = show;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_VALIDATION]);
}

gboolean
hydra_loss_plot_get_show_learning_rate (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  return self->show_lr;
}

void
hydra_loss_plot_set_show_learning_rate (HydraLossPlot *self, gboolean show)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  show = !!show;
  if (self->show_lr == show)
    return;
  self->show_lr = show;
  if (self->view == HYDRA_PLOT_LOSS)
    self->y_auto[1] = TRUE;
  hydra_plot_invalidate (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_LEARNING_RATE]);
  hydra_plot_notify_zoomed (self);
}

gboolean
hydra_loss_plot_get_zoomed (HydraLossPlot *self)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  hydra_plot_cache_sync (self);
  return !self->x_auto || !self->y_auto[0]
         || ((self->view == HYDRA_PLOT_BALANCE || hydra_plot_has_lr_strip (self))
             && !self->y_auto[1])
         || (hydra_plot_has_weight_panel (self) && !self->y_auto[PANEL_WEIGHT]);
}

gboolean
hydra_loss_plot_get_curve_visible (HydraLossPlot *self, HydraCurve curve)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (curve < HYDRA_N_CURVES, FALSE);
  return self->curve_visible[curve];
}

void
hydra_loss_plot_set_curve_visible (HydraLossPlot *self, HydraCurve curve, gboolean visible)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (curve < HYDRA_N_CURVES);

  visible = !!visible;
  if (self->curve_visible[curve] == visible)
    return;
  self->curve_visible[curve] = visible;
  hydra_plot_invalidate (self);
  g_signal_emit (self, signals[CURVE_TOGGLED], 0, HYDRA_PLOT_LOSS, (guint) curve, visible);
}

gboolean
hydra_loss_plot_get_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve)
{
  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);
  g_return_val_if_fail (curve < HYDRA_N_BALANCE_CURVES, FALSE);
  return self->balance_visible[curve];
}

void
hydra_loss_plot_set_balance_curve_visible (HydraLossPlot *self, HydraBalanceCurve curve,
                                           gboolean visible)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (curve < HYDRA_N_BALANCE_CURVES);

  visible = !!visible;
  if (self->balance_visible[curve] == visible)
    return;
  self->balance_visible[curve] = visible;
  hydra_plot_invalidate (self);
  g_signal_emit (self, signals[CURVE_TOGGLED], 0, HYDRA_PLOT_BALANCE, (guint) curve, visible);
}

void
hydra_loss_plot_reset_view (HydraLossPlot *self)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  self->x_auto = TRUE;
  y_autoscale (self);
  hydra_plot_invalidate (self);
  hydra_plot_notify_zoomed (self);
}

void
hydra_loss_plot_get_x_range (HydraLossPlot *self, double *x0, double *x1)
{
  double lo, hi;

  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));

  hydra_plot_cache_sync (self);
  hydra_plot_x_range (self, &lo, &hi);
  if (x0 != NULL)
    *x0 = lo;
  if (x1 != NULL)
    *x1 = hi;
}

void
hydra_loss_plot_set_x_range (HydraLossPlot *self, double x0, double x1)
{
  g_return_if_fail (HYDRA_IS_LOSS_PLOT (self));
  g_return_if_fail (isfinite (x0) && isfinite (x1) && x1 > x0);

  hydra_plot_set_x_view (self, x0, x1);
  hydra_plot_invalidate (self);
  hydra_plot_notify_zoomed (self);
}

gboolean
hydra_loss_plot_get_lr_range (HydraLossPlot *self, double *lr0, double *lr1)
{
  Panel panel = { .ch_first = CH_LR, .ch_end = CH_LR + 1, .log = TRUE };
  double x0, x1;

  g_return_val_if_fail (HYDRA_IS_LOSS_PLOT (self), FALSE);

  hydra_plot_cache_sync (self);
  if (!hydra_plot_has_lr_strip (self))
    return FALSE;
  hydra_plot_x_range (self, &x0, &x1);
  if (self->y_auto[1])
    hydra_plot_y_auto_range (self, 1, &panel, x0, x1, 2);
  else
    panel.ty0 = self->vy0[1], panel.ty1 = self->vy1[1];
  if (lr0 != NULL)
    *lr0 = pow (10, panel.ty0);
  if (lr1 != NULL)
    *lr1 = pow (10, panel.ty1);
  return TRUE;
}
