/* hydra-settings-panel.c — the window's settings: the live ones and the run's own. */

#include "hydra-settings-panel.h"

#include <math.h>

#define WEIGHT_MAX 10.0

struct _HydraSettingsPanel
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkGrid *weights_grid;
  GtkSpinButton *lr_spin;
  GtkAdjustment *lr_adjustment;
  GtkWidget *run_grid;
  GtkDropDown *preset_dropdown;
  GtkDropDown *optimizer_dropdown;
  GtkSpinButton *batch_spin;
  GtkSpinButton *epochs_spin;
  GtkDropDown *size_dropdown;
  GtkDropDown *backbone_dropdown;

  /* built in init: one row per head */
  GtkAdjustment *weight_spin[N_HEADS];   /* the weight itself, 0…10 */
  GtkAdjustment *weight_slider[N_HEADS]; /* √(w/10): fine steps near zero */

  /* owned */
  GSettings *settings;
  gboolean syncing_weights;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (HydraSettingsPanel, hydra_settings_panel, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum
{
  WEIGHT_CHANGED,
  AGE_LOSS_CHANGED,
  LR_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const weight_keys[N_HEADS] = { "w-age", "w-gender", "w-race" };
static const int input_sizes[] = { 32, 64, 96, 128 };

/* the enum keys' nicks, in the order of their drop-downs */
static const char *const optimizer_nicks[] = { "sgd", "adam", "adamw", NULL };
static const char *const backbone_nicks[] = { "resnet18", "resnet34", NULL };
static const char *const preset_nicks[] = { "studio", "tutorial", NULL };

/* ---- the run the controls describe ---- */

int
hydra_settings_panel_get_input_size (HydraSettingsPanel *self)
{
  g_return_val_if_fail (HYDRA_IS_SETTINGS_PANEL (self), input_sizes[0]);

  guint i = gtk_drop_down_get_selected (self->size_dropdown);
  return input_sizes[MIN (i, G_N_ELEMENTS (input_sizes) - 1)];
}

void
hydra_settings_panel_get_config (HydraSettingsPanel *self, HnTrainConfig *out)
{
  g_return_if_fail (HYDRA_IS_SETTINGS_PANEL (self));
  g_return_if_fail (out != NULL);

  GSettings *s = self->settings;
  HnTrainConfig c = train_preset_studio ();

  if (gtk_drop_down_get_selected (self->preset_dropdown) == 1)
    c = train_preset_tutorial ();
  c.backbone = g_settings_get_enum (s, "backbone") == 1 ? BACKBONE_RESNET34 : BACKBONE_RESNET18;
  c.size = hydra_settings_panel_get_input_size (self);
  c.batch = g_settings_get_int (s, "batch-size");
  c.epochs = g_settings_get_int (s, "epochs");
  HnOptimizerKind kind = (HnOptimizerKind) g_settings_get_enum (s, "optimizer");
  float momentum = c.optimizer.momentum;
  c.optimizer = optimizer_defaults (kind, (float) g_settings_get_double (s, "learning-rate"));
  if (kind == OPTIMIZER_SGD)
    c.optimizer.momentum = momentum;
  c.loss.age_loss = (HnAgeLoss) g_settings_get_enum (s, "age-loss");
  for (int h = 0; h < N_HEADS; h++)
    c.loss.weight[h] = (float) g_settings_get_double (s, weight_keys[h]);
  *out = c;
}

/* A preset sets every control it has an opinion on; the user can change any of them after. */
static void
apply_preset (HydraSettingsPanel *self)
{
  HnTrainConfig c = gtk_drop_down_get_selected (self->preset_dropdown) == 1
                        ? train_preset_tutorial ()
                        : train_preset_studio ();

  /* one change, not eight; on an object of its own, as delay mode cannot be left */
  g_autoptr (GSettings) batch = g_settings_new (HYDRA_APP_ID);
  g_settings_delay (batch);
  g_settings_set_enum (batch, "optimizer", c.optimizer.kind);
  g_settings_set_double (batch, "learning-rate", c.optimizer.lr);
  g_settings_set_int (batch, "batch-size", c.batch);
  g_settings_set_int (batch, "epochs", c.epochs);
  g_settings_set_enum (batch, "age-loss", c.loss.age_loss);
  for (int h = 0; h < N_HEADS; h++)
    g_settings_set_double (batch, weight_keys[h], c.loss.weight[h]);
  g_settings_apply (batch);
}

/* ---- loss weights: a slider and a spin button per head, kept in step ---- */

/* Keeps each row's slider and spin button on one weight, whichever the user moved. */
static void
weight_row_changed (GtkAdjustment *changed, HydraSettingsPanel *self)
{
  if (self->syncing_weights)
    return;
  self->syncing_weights = TRUE;
  for (int h = 0; h < N_HEADS; h++)
    if (changed == self->weight_spin[h])
      {
        double w = gtk_adjustment_get_value (changed);
        gtk_adjustment_set_value (self->weight_slider[h], sqrt (w / WEIGHT_MAX));
      }
    else if (changed == self->weight_slider[h])
      {
        double p = gtk_adjustment_get_value (changed);
        /* round to what the spin shows, so the slider lands on readable values */
        gtk_adjustment_set_value (self->weight_spin[h], round (WEIGHT_MAX * p * p * 1000) / 1000);
      }
  self->syncing_weights = FALSE;
}

/* Three rows of one shape, so built here rather than written three times in the template. */
static void
build_weight_rows (HydraSettingsPanel *self)
{
  static const char *const names[N_HEADS] = { "_Age", "_Gender", "_Race" };
  static const char *const classes[N_HEADS] = { "age", "gender", "race" };
  static const char *const tips[N_HEADS] = {
    "w_age: weight of the age loss (regression, in years)",
    "w_gender: weight of the gender loss (binary cross-entropy)",
    "w_race: weight of the race loss (5-class cross-entropy)",
  };

  for (int h = 0; h < N_HEADS; h++)
    {
      GtkWidget *label = gtk_label_new_with_mnemonic (names[h]);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "hydra-head-label");
      gtk_widget_add_css_class (label, classes[h]);

      self->weight_spin[h]
          = g_object_ref_sink (gtk_adjustment_new (1, 0, WEIGHT_MAX, 0.01, 0.1, 0));
      self->weight_slider[h]
          = g_object_ref_sink (gtk_adjustment_new (sqrt (0.1), 0, 1, 0.005, 0.05, 0));
      GtkWidget *scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, self->weight_slider[h]);
      gtk_scale_set_draw_value (GTK_SCALE (scale), FALSE);
      gtk_widget_set_hexpand (scale, TRUE);
      gtk_widget_set_tooltip_text (scale,
                                   "Finer near zero: the first half of the slider covers 0 to 2.5");
      gtk_scale_add_mark (GTK_SCALE (scale), sqrt (1 / WEIGHT_MAX), GTK_POS_BOTTOM, NULL);
      GtkWidget *spin = gtk_spin_button_new (self->weight_spin[h], 0.01, 3);
      gtk_widget_set_tooltip_text (spin, tips[h]);
      gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
      gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);

      gtk_grid_attach (self->weights_grid, label, 0, h, 1, 1);
      gtk_grid_attach (self->weights_grid, scale, 1, h, 1, 1);
      gtk_grid_attach (self->weights_grid, spin, 2, h, 1, 1);

      g_signal_connect (self->weight_spin[h], "value-changed", G_CALLBACK (weight_row_changed),
                        self);
      g_signal_connect (self->weight_slider[h], "value-changed", G_CALLBACK (weight_row_changed),
                        self);
      g_settings_bind (self->settings, weight_keys[h], self->weight_spin[h], "value",
                       G_SETTINGS_BIND_DEFAULT);
      weight_row_changed (self->weight_spin[h], self);
    }
}

/* ---- the learning rate spans decades: the spin button works on log10(lr) and shows lr ---- */

static gboolean
lr_output (GtkSpinButton *spin, gpointer user_data)
{
  char text[32];

  g_snprintf (text, sizeof text, "%.3g",
              pow (10, gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin))));
  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
lr_input (GtkSpinButton *spin, double *new_value, gpointer user_data)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (spin));
  char *end = NULL;
  double lr = g_ascii_strtod (text, &end);

  if (end == text || !(lr > 0) || !isfinite (lr))
    return GTK_INPUT_ERROR;
  *new_value = log10 (lr);
  return TRUE;
}

static gboolean
lr_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_double (value, log10 (g_variant_get_double (variant)));
  return TRUE;
}

static GVariant *
lr_set_mapping (const GValue *value, const GVariantType *type, gpointer user_data)
{
  /* three significant digits, so 10^x round trips to what the field shows */
  char text[32];

  g_snprintf (text, sizeof text, "%.3g", pow (10, g_value_get_double (value)));
  return g_variant_new_double (g_ascii_strtod (text, NULL));
}

static void
bind_learning_rate (HydraSettingsPanel *self)
{
  g_signal_connect (self->lr_spin, "output", G_CALLBACK (lr_output), NULL);
  g_signal_connect (self->lr_spin, "input", G_CALLBACK (lr_input), NULL);
  /* 10^-7 to 1; each arrow click halves or doubles */
  gtk_adjustment_configure (self->lr_adjustment, -3, -7, 0, G_LOG_2_BASE_10, 1, 0);
  gtk_spin_button_set_digits (self->lr_spin, 2);
  g_settings_bind_with_mapping (self->settings, "learning-rate", self->lr_adjustment, "value",
                                G_SETTINGS_BIND_DEFAULT, lr_get_mapping, lr_set_mapping, NULL,
                                NULL);
}

/* ---- the run's settings: drop-down positions ↔ keys ---- */

static gboolean
size_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  int size = g_variant_get_int32 (variant);

  for (guint i = 0; i < G_N_ELEMENTS (input_sizes); i++)
    if (input_sizes[i] == size)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  g_value_set_uint (value, 0);
  return TRUE;
}

static GVariant *
size_set_mapping (const GValue *value, const GVariantType *type, gpointer user_data)
{
  guint i = g_value_get_uint (value);

  return g_variant_new_int32 (input_sizes[MIN (i, G_N_ELEMENTS (input_sizes) - 1)]);
}

/* enum keys ↔ a drop-down's position (the enum's values are the positions) */
static gboolean
enum_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *const *nicks = user_data;
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; nicks[i] != NULL; i++)
    if (g_str_equal (nicks[i], nick))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
enum_set_mapping (const GValue *value, const GVariantType *type, gpointer user_data)
{
  const char *const *nicks = user_data;
  guint i = g_value_get_uint (value);

  return i < g_strv_length ((char **) nicks) ? g_variant_new_string (nicks[i]) : NULL;
}

static void
bind_enum (HydraSettingsPanel *self, const char *key, GtkDropDown *dropdown,
           const char *const *nicks)
{
  g_settings_bind_with_mapping (self->settings, key, dropdown, "selected", G_SETTINGS_BIND_DEFAULT,
                                enum_get_mapping, enum_set_mapping, (gpointer) nicks, NULL);
}

static void
bind_run_settings (HydraSettingsPanel *self)
{
  GSettings *s = self->settings;

  bind_enum (self, "optimizer", self->optimizer_dropdown, optimizer_nicks);
  bind_enum (self, "backbone", self->backbone_dropdown, backbone_nicks);
  g_settings_bind_with_mapping (s, "input-size", self->size_dropdown, "selected",
                                G_SETTINGS_BIND_DEFAULT, size_get_mapping, size_set_mapping, NULL,
                                NULL);
  g_settings_bind (s, "batch-size", gtk_spin_button_get_adjustment (self->batch_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "epochs", gtk_spin_button_get_adjustment (self->epochs_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
}

/* ---- live changes, announced ---- */

static void
setting_changed (GSettings *settings, const char *key, HydraSettingsPanel *self)
{
  for (int h = 0; h < N_HEADS; h++)
    if (g_str_equal (key, weight_keys[h]))
      g_signal_emit (self, signals[WEIGHT_CHANGED], 0, h, g_settings_get_double (settings, key));
  if (g_str_equal (key, "age-loss"))
    g_signal_emit (self, signals[AGE_LOSS_CHANGED], 0, g_settings_get_enum (settings, key));
  else if (g_str_equal (key, "learning-rate"))
    g_signal_emit (self, signals[LR_CHANGED], 0, g_settings_get_double (settings, key));
}

/* ---- busy: the settings that shape a run stay put while it exists ---- */

gboolean
hydra_settings_panel_get_busy (HydraSettingsPanel *self)
{
  g_return_val_if_fail (HYDRA_IS_SETTINGS_PANEL (self), FALSE);

  return self->busy;
}

void
hydra_settings_panel_set_busy (HydraSettingsPanel *self, gboolean busy)
{
  g_return_if_fail (HYDRA_IS_SETTINGS_PANEL (self));

  busy = !!busy;
  if (self->busy == busy)
    return;
  self->busy = busy;
  gtk_widget_set_sensitive (self->run_grid, !busy);
  gtk_widget_set_tooltip_text (self->run_grid,
                               busy ? "These are fixed for the whole run. Stop training to "
                                      "change them; the loss weights, age loss and learning "
                                      "rate above change live."
                                    : NULL);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BUSY]);
}

/* ---- the widget ---- */

static void
hydra_settings_panel_dispose (GObject *object)
{
  HydraSettingsPanel *self = HYDRA_SETTINGS_PANEL (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_SETTINGS_PANEL);
  g_clear_object (&self->settings);
  for (int h = 0; h < N_HEADS; h++)
    {
      g_clear_object (&self->weight_spin[h]);
      g_clear_object (&self->weight_slider[h]);
    }

  G_OBJECT_CLASS (hydra_settings_panel_parent_class)->dispose (object);
}

static void
hydra_settings_panel_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraSettingsPanel *self = HYDRA_SETTINGS_PANEL (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_settings_panel_set_property (GObject *object, guint prop_id, const GValue *value,
                                   GParamSpec *pspec)
{
  HydraSettingsPanel *self = HYDRA_SETTINGS_PANEL (object);

  switch (prop_id)
    {
    case PROP_BUSY:
      hydra_settings_panel_set_busy (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_settings_panel_class_init (HydraSettingsPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_settings_panel_dispose;
  object_class->get_property = hydra_settings_panel_get_property;
  object_class->set_property = hydra_settings_panel_set_property;

  props[PROP_BUSY]
      = g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                              G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[WEIGHT_CHANGED]
      = g_signal_new ("weight-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_DOUBLE);
  signals[AGE_LOSS_CHANGED]
      = g_signal_new ("age-loss-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  signals[LR_CHANGED] = g_signal_new ("lr-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_DOUBLE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-settings-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, HydraSettingsPanel, name)
  BIND (content);
  BIND (weights_grid);
  BIND (lr_spin);
  BIND (lr_adjustment);
  BIND (run_grid);
  BIND (preset_dropdown);
  BIND (optimizer_dropdown);
  BIND (batch_spin);
  BIND (epochs_spin);
  BIND (size_dropdown);
  BIND (backbone_dropdown);
#undef BIND
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrasettingspanel");
}

static void
hydra_settings_panel_init (HydraSettingsPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = g_settings_new (HYDRA_APP_ID);
  build_weight_rows (self);
  bind_learning_rate (self);
  bind_run_settings (self);
  g_signal_connect (self->settings, "changed", G_CALLBACK (setting_changed), self);
  /* bound first, so restoring the remembered preset does not re-apply it over the settings */
  bind_enum (self, "preset", self->preset_dropdown, preset_nicks);
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected", G_CALLBACK (apply_preset),
                            self);
}

GtkWidget *
hydra_settings_panel_new (void)
{
  return g_object_new (HYDRA_TYPE_SETTINGS_PANEL, NULL);
}
