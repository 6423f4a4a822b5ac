/* hydra-settings-panel.c — the window's settings: the live ones and the run's own. */

#include "hydra-settings-panel.h"
#include "hydra-number-input.h"
#include "hydra-settings.h"

#include <math.h>
#include <string.h>

#include "augment.h"

#define WEIGHT_MAX 10.0
#define WEIGHTS_CAPTION "Total = w_age·L_age + w_gender·L_gender + w_race·L_race. Changes apply " \
                        "at the next step."

struct _HydraSettingsPanel
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkDropDown *balance_dropdown;
  GtkLabel *weights_caption;
  GtkGrid *weights_grid;
  GtkSpinButton *lr_spin;
  GtkAdjustment *lr_adjustment;
  GtkWidget *run_grid;
  GtkDropDown *preset_dropdown;
  GtkStringList *preset_blurbs;
  GtkDropDown *optimizer_dropdown;
  GtkSpinButton *batch_spin;
  GtkSpinButton *epochs_spin;
  GtkDropDown *size_dropdown;
  GtkDropDown *backbone_dropdown;
  GtkExpander *recipe_expander;
  GtkWidget *recipe_grid;
  GtkDropDown *schedule_dropdown;
  GtkSpinButton *budget_spin;
  GtkSpinButton *decay_spin;
  GtkSpinButton *label_smoothing_spin;
  GtkEditable *augment_entry;
  GtkLabel *augment_message;
  GtkCheckButton *standardize_check;
  GtkCheckButton *ema_check;
  GtkCheckButton *tta_check;

  /* built in init: one row per head */
  GtkAdjustment *weight_spin[N_HEADS];   /* the weight itself, 0…10 */
  GtkAdjustment *weight_slider[N_HEADS]; /* √(w/10): fine steps near zero */

  /* owned */
  GSettings *settings;
  gboolean syncing_weights;
  gboolean showing_chosen; /* the weight controls show a method's, unbound from their keys */
  double shown[N_HEADS];   /* …these */
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
  BALANCE_CHANGED,
  REFUSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const weight_keys[N_HEADS] = { "w-age", "w-gender", "w-race" };
static const int input_sizes[] = { 32, 64, 96, 128 };

/* the enum keys' nicks, in the order of their drop-downs */
static const char *const optimizer_nicks[] = { "sgd", "adam", "adamw", NULL };
static const char *const backbone_nicks[] = { "resnet18", "resnet34", NULL };
static const char *const schedule_nicks[] = { "constant", "step", "cosine", "onecycle", NULL };
static const char *balance_nicks[N_BALANCE + 1]; /* balance_name's, filled in class_init */
/* the preset drop-down lists train_preset_names, in the engine's order */

/* under the augmentation field while its list reads well; the tooltip has them all */
#define AUGMENT_HINT "Such as flip,crop,rotate=10 or none"

/* ---- the augmentations: a list as hydranet-cli train --augment takes it ---- */

/* Parses text, spaces allowed. On failure, *message says which item is wrong. */
static gboolean
parse_augment (const char *text, HnAugment *out, char **message)
{
  g_autofree char *list = g_strdup (text);
  char *w = list;

  for (const char *r = text; *r != '\0'; r++)
    if (!g_ascii_isspace (*r))
      *w++ = *r;
  *w = '\0';
  if (augment_from_names (list, out))
    return TRUE;

  /* the engine says only yes or no: try the items one at a time to name the culprit */
  g_auto (GStrv) items = g_strsplit (list, ",", -1);
  HnAugment one;
  for (int i = 0; items[i] != NULL; i++)
    {
      if (g_str_equal (items[i], "none"))
        {
          *message = g_strdup ("“none” stands alone");
          return FALSE;
        }
      if (items[i][0] == '\0' || augment_from_names (items[i], &one))
        continue;
      g_auto (GStrv) name = g_strsplit (items[i], "=", 2);
      *message = augment_from_names (name[0], &one)
                     ? g_strdup_printf ("“%s”: not a value it takes", items[i])
                     : g_strdup_printf ("“%s” is not an augmentation", name[0]);
      return FALSE;
    }
  *message = g_strdup ("The list is too long");
  return FALSE;
}

static void
augment_changed (HydraSettingsPanel *self)
{
  g_autofree char *message = NULL;
  HnAugment augment;
  gboolean ok = parse_augment (gtk_editable_get_text (self->augment_entry), &augment, &message);

  gtk_label_set_text (self->augment_message, ok ? AUGMENT_HINT : message);
  if (ok)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->augment_entry), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->augment_message), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->augment_message), "dim-label");
    }
  else
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->augment_entry), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->augment_message), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->augment_message), "dim-label");
    }
}

/* ---- the run the controls describe ---- */

int
hydra_settings_panel_get_input_size (HydraSettingsPanel *self)
{
  g_return_val_if_fail (HYDRA_IS_SETTINGS_PANEL (self), input_sizes[0]);

  guint i = gtk_drop_down_get_selected (self->size_dropdown);
  return input_sizes[MIN (i, G_N_ELEMENTS (input_sizes) - 1)];
}

/* The optimizer: the kind and rate the controls show, the decay the control shows, and what
 * no control shows (SGD's momentum, which parameters decay) as the preset has it. */
static HnOptimizerConfig
optimizer_config (GSettings *s, const HnOptimizerConfig *preset)
{
  HnOptimizerKind kind = (HnOptimizerKind) g_settings_get_enum (s, "optimizer");
  HnOptimizerConfig o
      = optimizer_defaults (kind, (float) g_settings_get_double (s, "learning-rate"));

  if (kind == OPTIMIZER_SGD)
    {
      o.momentum = preset->momentum;
      o.nesterov = preset->nesterov;
    }
  o.decay_all = preset->decay_all;
  o.weight_decay = (float) g_settings_get_double (s, "weight-decay");
  return o;
}

gboolean
hydra_settings_panel_get_config (HydraSettingsPanel *self, HnTrainConfig *out, GError **error)
{
  g_return_val_if_fail (HYDRA_IS_SETTINGS_PANEL (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  GSettings *s = self->settings;
  g_autofree char *preset = g_settings_get_string (s, "preset");
  g_autofree char *augment = g_settings_get_string (s, "augment");
  g_autofree char *message = NULL;
  HnTrainConfig c;
  HnScheduleKind schedule = (HnScheduleKind) g_settings_get_enum (s, "schedule");

  if (!train_preset_from_name (preset, &c))
    g_return_val_if_reached (FALSE); /* the schema's nicks are the engine's names */
  c.backbone = g_settings_get_enum (s, "backbone") == 1 ? BACKBONE_RESNET34 : BACKBONE_RESNET18;
  c.size = hydra_settings_panel_get_input_size (self);
  c.batch = g_settings_get_int (s, "batch-size");
  c.epochs = g_settings_get_int (s, "epochs");
  c.optimizer = optimizer_config (s, &c.optimizer);
  if (schedule != c.schedule.kind) /* the preset's own keeps its warm-up */
    c.schedule = schedule_defaults (schedule);
  c.time_budget = 60 * g_settings_get_double (s, "time-budget");
  c.standardize_age = g_settings_get_boolean (s, "standardize-age");
  /* on: the preset's decay, or the quality recipe's for a preset without one */
  c.ema_decay = !g_settings_get_boolean (s, "ema") ? 0
                : c.ema_decay > 0                  ? c.ema_decay
                                                   : train_preset_quality ().ema_decay;
  c.tta = g_settings_get_boolean (s, "tta");
  c.loss.age_loss = (HnAgeLoss) g_settings_get_enum (s, "age-loss");
  c.loss.balance = (HnBalance) g_settings_get_enum (s, "balance");
  for (int h = 0; h < N_HEADS; h++)
    c.loss.weight[h] = (float) g_settings_get_double (s, weight_keys[h]);
  c.loss.smoothing = (float) g_settings_get_double (s, "label-smoothing");
  /* a list that does not parse leaves the preset's augmentation, and says so */
  HnAugment parsed;
  gboolean ok = parse_augment (augment, &parsed, &message);
  if (ok)
    c.augment = parsed;
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "Check the recipe's augmentations: %s", message);
  *out = c;
  return ok;
}

void
hydra_settings_panel_reveal_problem (HydraSettingsPanel *self)
{
  g_return_if_fail (HYDRA_IS_SETTINGS_PANEL (self));

  gtk_expander_set_expanded (self->recipe_expander, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->augment_entry));
}

/* A preset sets every control it has an opinion on; the user can change any of them after. */
static void
apply_preset (HydraSettingsPanel *self)
{
  guint i = gtk_drop_down_get_selected (self->preset_dropdown);
  HnTrainConfig c;
  char augment[160];

  if (i >= g_strv_length ((char **) train_preset_names)
      || !train_preset_from_name (train_preset_names[i], &c))
    return;
  augment_to_names (&c.augment, augment, sizeof augment);

  /* one change, not twenty; on an object of its own, as delay mode cannot be left */
  g_autoptr (GSettings) batch = hydra_settings_new ();
  g_settings_delay (batch);
  g_settings_set_enum (batch, "backbone", c.backbone == BACKBONE_RESNET34 ? 1 : 0);
  g_settings_set_int (batch, "input-size", c.size);
  g_settings_set_enum (batch, "optimizer", c.optimizer.kind);
  g_settings_set_double (batch, "learning-rate", c.optimizer.lr);
  g_settings_set_double (batch, "weight-decay", c.optimizer.weight_decay);
  g_settings_set_int (batch, "batch-size", c.batch);
  g_settings_set_int (batch, "epochs", c.epochs);
  g_settings_set_string (batch, "schedule", schedule_name (c.schedule.kind));
  g_settings_set_double (batch, "time-budget", c.time_budget / 60);
  g_settings_set_string (batch, "augment", augment);
  g_settings_set_boolean (batch, "standardize-age", c.standardize_age);
  g_settings_set_boolean (batch, "ema", c.ema_decay > 0);
  g_settings_set_boolean (batch, "tta", c.tta);
  g_settings_set_enum (batch, "age-loss", c.loss.age_loss);
  g_settings_set_double (batch, "label-smoothing", c.loss.smoothing);
  for (int h = 0; h < N_HEADS; h++)
    g_settings_set_double (batch, weight_keys[h], c.loss.weight[h]);
  g_settings_apply (batch);
}

/* ---- loss weights: a slider and a spin button per head, kept in step ---- */

static void bind_weights (HydraSettingsPanel *self, gboolean from_controls);
static double shown_value (double w);

/* Keeps each row's slider and spin button on one weight, whichever the user moved. A weight
 * moved while a method chooses them takes them back: the method becomes manual, from the
 * weights shown. */
static void
weight_row_changed (GtkAdjustment *changed, HydraSettingsPanel *self)
{
  if (self->syncing_weights)
    return;
  /* a spin button that loses focus reads its text back: a method's weight rounded for
   * display is not a move */
  for (int h = 0; h < N_HEADS; h++)
    if (self->showing_chosen && changed == self->weight_spin[h]
        && gtk_adjustment_get_value (changed) == shown_value (self->shown[h]))
      return;
  self->syncing_weights = TRUE;
  for (int h = 0; h < N_HEADS; h++)
    if (changed == self->weight_spin[h])
      {
        double w = gtk_adjustment_get_value (changed);
        gtk_adjustment_set_value (self->weight_slider[h], sqrt (MAX (w, 0) / WEIGHT_MAX));
      }
    else if (changed == self->weight_slider[h])
      {
        double p = gtk_adjustment_get_value (changed);
        /* round to what the spin shows, so the slider lands on readable values */
        gtk_adjustment_set_value (self->weight_spin[h], round (WEIGHT_MAX * p * p * 1000) / 1000);
      }
  self->syncing_weights = FALSE;
  if (self->showing_chosen)
    {
      self->showing_chosen = FALSE;
      g_settings_set_enum (self->settings, "balance", BALANCE_MANUAL);
      bind_weights (self, TRUE); /* each key from its control, the moved one too */
      gtk_label_set_text (self->weights_caption, WEIGHTS_CAPTION);
    }
}

/* Three decimals, and below 0.01 two significant digits: a method's weight under MSE on
 * years is near 0.001, which three decimals would show as nothing. */
static void
format_weight (double w, char *text, gsize size)
{
  g_snprintf (text, size, w > 0 && w < 0.01 ? "%.2g" : "%.3f", w);
}

/* What a weight reads back as from its spin button's text. */
static double
shown_value (double w)
{
  char text[32];

  format_weight (w, text, sizeof text);
  return g_ascii_strtod (text, NULL);
}

static gboolean
weight_output (GtkSpinButton *spin, gpointer user_data)
{
  char text[32];

  format_weight (gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin)), text,
                 sizeof text);
  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static void
number_refused (const char *message, gpointer self)
{
  g_signal_emit (self, signals[REFUSED], 0, message);
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
      g_signal_connect (spin, "output", G_CALLBACK (weight_output), NULL);
      gtk_widget_set_tooltip_text (spin, tips[h]);
      hydra_number_input_attach (GTK_SPIN_BUTTON (spin), names[h] + 1, "a weight from 0 to 10",
                                 NULL, number_refused, self);
      gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
      gtk_label_set_mnemonic_widget (GTK_LABEL (label), spin);

      gtk_grid_attach (self->weights_grid, label, 0, h, 1, 1);
      gtk_grid_attach (self->weights_grid, scale, 1, h, 1, 1);
      gtk_grid_attach (self->weights_grid, spin, 2, h, 1, 1);

      g_signal_connect (self->weight_spin[h], "value-changed", G_CALLBACK (weight_row_changed),
                        self);
      g_signal_connect (self->weight_slider[h], "value-changed", G_CALLBACK (weight_row_changed),
                        self);
    }
  bind_weights (self, FALSE);
  gtk_label_set_text (self->weights_caption, WEIGHTS_CAPTION);
}

/* The weight controls on their keys (again), the keys first taking what the controls show
 * when from_controls. */
static void
bind_weights (HydraSettingsPanel *self, gboolean from_controls)
{
  for (int h = 0; h < N_HEADS; h++)
    {
      double shown = gtk_adjustment_get_value (self->weight_spin[h]);
      gtk_adjustment_set_upper (self->weight_spin[h], WEIGHT_MAX);
      gtk_adjustment_set_lower (self->weight_spin[h], 0);
      if (from_controls)
        g_settings_set_double (self->settings, weight_keys[h], CLAMP (shown, 0, WEIGHT_MAX));
      g_settings_bind (self->settings, weight_keys[h], self->weight_spin[h], "value",
                       G_SETTINGS_BIND_DEFAULT);
      weight_row_changed (self->weight_spin[h], self);
    }
}

void
hydra_settings_panel_show_weights (HydraSettingsPanel *self, HnBalance method,
                                   const float weight[N_HEADS])
{
  g_return_if_fail (HYDRA_IS_SETTINGS_PANEL (self));

  /* a step taken before the last change of method (the trainer runs ahead of the poll) is
   * not shown: it would undo what the user just chose */
  if (weight != NULL && method != (HnBalance) g_settings_get_enum (self->settings, "balance"))
    return;
  if (weight == NULL || method == BALANCE_MANUAL)
    {
      if (!self->showing_chosen)
        return;
      if (weight == NULL) /* no run: the user's own weights, from their keys */
        {
          self->showing_chosen = FALSE;
          bind_weights (self, FALSE);
          gtk_label_set_text (self->weights_caption, WEIGHTS_CAPTION);
          return;
        }
      /* the method was switched off: manual goes on from its last weights */
      self->showing_chosen = FALSE;
      for (int h = 0; h < N_HEADS; h++)
        g_settings_set_double (self->settings, weight_keys[h], CLAMP (weight[h], 0, WEIGHT_MAX));
      bind_weights (self, FALSE);
      gtk_label_set_text (self->weights_caption, WEIGHTS_CAPTION);
      return;
    }
  if (!self->showing_chosen)
    for (int h = 0; h < N_HEADS; h++)
      g_settings_unbind (self->weight_spin[h], "value");
  self->showing_chosen = TRUE;
  self->syncing_weights = TRUE; /* no hand-back for what the method did */
  for (int h = 0; h < N_HEADS; h++)
    {
      /* a method's weight may pass 10 (scale-invariant) or fall below 0 (IMTL-G) */
      self->shown[h] = weight[h];
      gtk_adjustment_set_upper (self->weight_spin[h], MAX (WEIGHT_MAX, weight[h]));
      gtk_adjustment_set_lower (self->weight_spin[h], MIN (0, weight[h]));
      gtk_adjustment_set_value (self->weight_spin[h], weight[h]);
      gtk_adjustment_set_value (self->weight_slider[h],
                                sqrt (CLAMP (weight[h], 0, WEIGHT_MAX) / WEIGHT_MAX));
    }
  self->syncing_weights = FALSE;
  g_autofree char *caption
      = g_strdup_printf ("%s chooses the weights at every step; move one to take them back.",
                         balance_title (method));
  gtk_label_set_text (self->weights_caption, caption);
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

static gboolean
lr_read (const char *text, double *value)
{
  g_autofree char *t = g_strstrip (g_strdup (text));
  char *end = NULL;
  double lr = g_ascii_strtod (t, &end);

  if (end == t || *end != '\0' || !(lr > 0) || !isfinite (lr))
    return FALSE;
  *value = log10 (lr);
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

/* ---- the presets: a name on the button; in the list, what each is for ---- */

static void
preset_item_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *name = gtk_label_new (NULL);
  GtkWidget *blurb = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_xalign (GTK_LABEL (blurb), 0);
  gtk_widget_add_css_class (blurb, "caption");
  gtk_widget_add_css_class (blurb, "dim-label");
  gtk_box_append (GTK_BOX (box), name);
  gtk_box_append (GTK_BOX (box), blurb);
  gtk_list_item_set_child (item, box);
}

static void
preset_item_bind (GtkSignalListItemFactory *factory, GtkListItem *item, HydraSettingsPanel *self)
{
  GtkWidget *name = gtk_widget_get_first_child (gtk_list_item_get_child (item));
  GtkStringObject *preset = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (name), gtk_string_object_get_string (preset));
  gtk_label_set_text (
      GTK_LABEL (gtk_widget_get_next_sibling (name)),
      gtk_string_list_get_string (self->preset_blurbs, gtk_list_item_get_position (item)));
}

static void
preset_selected (HydraSettingsPanel *self)
{
  gtk_widget_set_tooltip_text (
      GTK_WIDGET (self->preset_dropdown),
      gtk_string_list_get_string (self->preset_blurbs,
                                  gtk_drop_down_get_selected (self->preset_dropdown)));
}

static void
set_up_presets (HydraSettingsPanel *self)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (preset_item_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (preset_item_bind), self);
  gtk_drop_down_set_list_factory (self->preset_dropdown, factory);
  /* bound before apply_preset listens, so restoring the remembered preset does not re-apply
   * it over the settings */
  bind_enum (self, "preset", self->preset_dropdown, train_preset_names);
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected", G_CALLBACK (apply_preset),
                            self);
  g_signal_connect_swapped (self->preset_dropdown, "notify::selected", G_CALLBACK (preset_selected),
                            self);
  preset_selected (self);
}

/* ---- the time budget: minutes, or none ---- */

static gboolean
budget_output (GtkSpinButton *spin, gpointer user_data)
{
  double minutes = gtk_adjustment_get_value (gtk_spin_button_get_adjustment (spin));
  g_autofree char *text = minutes > 0 ? g_strdup_printf ("%g min", minutes) : g_strdup ("None");

  gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

/* "90", "90 min", "1.5 minutes"; "none" or nothing: no budget */
static gboolean
budget_read (const char *typed, double *value)
{
  g_autofree char *text = g_strstrip (g_strdup (typed));
  char *end = NULL;
  double minutes = g_ascii_strtod (text, &end);

  if (*text == '\0' || g_ascii_strcasecmp (text, "none") == 0)
    minutes = 0, end = text + strlen (text);
  while (end != NULL && g_ascii_isspace (*end))
    end++;
  if (end == text || !(minutes >= 0) || !isfinite (minutes)
      || (*end != '\0' && !g_str_has_prefix ("minutes", end)))
    return FALSE;
  *value = minutes;
  return TRUE;
}

static void
bind_recipe (HydraSettingsPanel *self)
{
  GSettings *s = self->settings;

  bind_enum (self, "schedule", self->schedule_dropdown, schedule_nicks);
  g_signal_connect (self->budget_spin, "output", G_CALLBACK (budget_output), NULL);
  g_settings_bind (s, "time-budget", gtk_spin_button_get_adjustment (self->budget_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "weight-decay", gtk_spin_button_get_adjustment (self->decay_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "label-smoothing",
                   gtk_spin_button_get_adjustment (self->label_smoothing_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_swapped (self->augment_entry, "changed", G_CALLBACK (augment_changed), self);
  g_settings_bind (s, "augment", self->augment_entry, "text", G_SETTINGS_BIND_DEFAULT);
  augment_changed (self);
  g_settings_bind (s, "standardize-age", self->standardize_check, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "ema", self->ema_check, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "tta", self->tta_check, "active", G_SETTINGS_BIND_DEFAULT);
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
  else if (g_str_equal (key, "balance"))
    g_signal_emit (self, signals[BALANCE_CHANGED], 0, g_settings_get_enum (settings, key));
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
  /* the recipe stays open to read; its controls lock with the others */
  GtkWidget *locked[] = { self->run_grid, self->recipe_grid };
  for (guint i = 0; i < G_N_ELEMENTS (locked); i++)
    {
      gtk_widget_set_sensitive (locked[i], !busy);
      gtk_widget_set_tooltip_text (locked[i],
                                   busy ? "These are fixed for the whole run. Stop training to "
                                          "change them; the loss weights, age loss and learning "
                                          "rate above change live."
                                        : NULL);
    }
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
  signals[BALANCE_CHANGED]
      = g_signal_new ("balance-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  /* a number typed that a field does not take: the message says which and why */
  signals[REFUSED] = g_signal_new ("refused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                   NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  for (int i = 0; i < N_BALANCE; i++)
    balance_nicks[i] = balance_name ((HnBalance) i);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-settings-panel.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, HydraSettingsPanel, name)
  BIND (content);
  BIND (balance_dropdown);
  BIND (weights_caption);
  BIND (weights_grid);
  BIND (lr_spin);
  BIND (lr_adjustment);
  BIND (run_grid);
  BIND (preset_dropdown);
  BIND (preset_blurbs);
  BIND (optimizer_dropdown);
  BIND (batch_spin);
  BIND (epochs_spin);
  BIND (size_dropdown);
  BIND (backbone_dropdown);
  BIND (recipe_expander);
  BIND (recipe_grid);
  BIND (schedule_dropdown);
  BIND (budget_spin);
  BIND (decay_spin);
  BIND (label_smoothing_spin);
  BIND (augment_entry);
  BIND (augment_message);
  BIND (standardize_check);
  BIND (ema_check);
  BIND (tta_check);
#undef BIND
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrasettingspanel");
}

/* Every number field reads what is typed strictly (hydra-number-input.h). */
static void
check_typed_numbers (HydraSettingsPanel *self)
{
  hydra_number_input_attach (self->lr_spin, "Learning rate", "a rate from 1e-07 to 1", lr_read,
                             number_refused, self);
  hydra_number_input_attach (self->batch_spin, "Batch size", NULL, hydra_number_read_whole,
                             number_refused, self);
  hydra_number_input_attach (self->epochs_spin, "Epochs", NULL, hydra_number_read_whole,
                             number_refused, self);
  hydra_number_input_attach (self->budget_spin, "Time budget",
                             "a number of minutes, or None", budget_read, number_refused, self);
  hydra_number_input_attach (self->decay_spin, "Weight decay", NULL, NULL, number_refused, self);
  hydra_number_input_attach (self->label_smoothing_spin, "Label smoothing", NULL, NULL,
                             number_refused, self);
}

static void
hydra_settings_panel_init (HydraSettingsPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->settings = hydra_settings_new ();
  g_autoptr (GtkStringList) methods = gtk_string_list_new (NULL);
  for (int i = 0; i < N_BALANCE; i++)
    gtk_string_list_append (methods, balance_title ((HnBalance) i));
  gtk_drop_down_set_model (self->balance_dropdown, G_LIST_MODEL (methods));
  bind_enum (self, "balance", self->balance_dropdown, balance_nicks);
  build_weight_rows (self);
  bind_learning_rate (self);
  bind_run_settings (self);
  bind_recipe (self);
  check_typed_numbers (self);
  g_signal_connect (self->settings, "changed", G_CALLBACK (setting_changed), self);
  set_up_presets (self);
}

GtkWidget *
hydra_settings_panel_new (void)
{
  return g_object_new (HYDRA_TYPE_SETTINGS_PANEL, NULL);
}
