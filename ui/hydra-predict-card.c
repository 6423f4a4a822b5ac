/* hydra-predict-card.c — one image and what the model predicts for it. */

#include "hydra-predict-card.h"

#include <math.h>

struct _HydraPredictCard
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkStack *thumb_stack;
  GtkSpinner *spinner;
  GtkImage *picture; /* an image, not a GtkPicture: a fixed square whatever the aspect */
  GtkLabel *name_label;
  GtkStack *body_stack;
  GtkLabel *error_label;
  GtkGrid *grid;
  GtkLabel *age_label;
  GtkLabel *gender_label;
  GtkLevelBar *gender_bar;
  GtkLabel *gender_percent;

  /* built in init: one row per race class */
  GtkLabel *race_label[N_RACES];
  GtkLevelBar *race_bar[N_RACES];
  GtkLabel *race_percent[N_RACES];

  /* owned */
  HydraPredictItem *item;
};

G_DEFINE_FINAL_TYPE (HydraPredictCard, hydra_predict_card, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static const char *const race_titles[N_RACES] = { "White", "Black", "Asian", "Indian", "Other" };

/* A bar that is just a proportion: no low/high/full colours. */
static void
plain_level_bar (GtkLevelBar *bar)
{
  gtk_level_bar_remove_offset_value (bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (bar, GTK_LEVEL_BAR_OFFSET_FULL);
}

static void
set_emphasis (GtkWidget *widget, gboolean top)
{
  if (top)
    gtk_widget_add_css_class (widget, "predict-top");
  else
    gtk_widget_remove_css_class (widget, "predict-top");
}

static void
set_percent (GtkLabel *label, double p)
{
  char text[16];

  if (isfinite (p))
    g_snprintf (text, sizeof text, "%ld%%", lround (100.0 * p));
  else
    g_strlcpy (text, "–", sizeof text);
  gtk_label_set_label (label, text);
}

static void
show_prediction (HydraPredictCard *self, const HnPrediction *p)
{
  double mae = hydra_predict_item_get_age_mae (self->item);
  gboolean female = p->p_female >= 0.5f;
  double p_gender = female ? p->p_female : 1.0 - p->p_female;
  g_autofree char *age = NULL;
  g_autofree char *tooltip = NULL;

  /* Whole years: the model's error is several years, decimals would claim more. */
  /* A diverged model can output NaN; say so rather than print a number. */
  if (!isfinite (p->age))
    age = g_strdup ("Age: not a number");
  else if (mae >= 0 && isfinite (mae))
    age = g_strdup_printf ("%ld ± %ld years", lround (p->age), lround (mae));
  else
    age = g_strdup_printf (lround (p->age) == 1 ? "%ld year" : "%ld years", lround (p->age));
  gtk_label_set_label (self->age_label, age);
  if (mae >= 0)
    tooltip = g_strdup_printf ("Predicted age %.1f years. The model's mean absolute error on the "
                               "validation set is %.1f years.",
                               p->age, mae);
  else
    tooltip = g_strdup_printf ("Predicted age %.1f years. The model has not been validated "
                               "yet, so its error is unknown.",
                               p->age);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->age_label), tooltip);

  gtk_label_set_label (self->gender_label, female ? "Female" : "Male");
  gtk_level_bar_set_value (self->gender_bar, isfinite (p_gender) ? p_gender : 0);
  set_percent (self->gender_percent, p_gender);

  for (int c = 0; c < N_RACES; c++)
    {
      gboolean top = c == p->race;

      gtk_level_bar_set_value (
          self->race_bar[c], isfinite (p->race_probs[c]) ? CLAMP (p->race_probs[c], 0.0, 1.0) : 0);
      set_percent (self->race_percent[c], p->race_probs[c]);
      set_emphasis (GTK_WIDGET (self->race_label[c]), top);
      set_emphasis (GTK_WIDGET (self->race_bar[c]), top);
      set_emphasis (GTK_WIDGET (self->race_percent[c]), top);
    }
}

static void
sync_thumbnail (HydraPredictCard *self)
{
  GdkTexture *thumbnail = hydra_predict_item_get_thumbnail (self->item);
  HydraPredictState state = hydra_predict_item_get_state (self->item);
  const char *page;

  gtk_image_set_from_paintable (self->picture, GDK_PAINTABLE (thumbnail));
  if (thumbnail != NULL)
    page = "picture";
  else if (state == HYDRA_PREDICT_PENDING)
    page = "waiting";
  else
    page = "broken";
  gtk_stack_set_visible_child_name (self->thumb_stack, page);
  gtk_spinner_set_spinning (self->spinner, g_str_equal (page, "waiting"));
}

static void
sync_state (HydraPredictCard *self)
{
  HnPrediction p;

  gtk_label_set_label (self->name_label, hydra_predict_item_get_name (self->item));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label),
                               hydra_predict_item_get_name (self->item));

  switch (hydra_predict_item_get_state (self->item))
    {
    case HYDRA_PREDICT_PENDING:
      gtk_stack_set_visible_child_name (self->body_stack, "pending");
      gtk_widget_remove_css_class (GTK_WIDGET (self), "failed");
      break;
    case HYDRA_PREDICT_FAILED:
      gtk_label_set_label (self->error_label, hydra_predict_item_get_error (self->item));
      gtk_stack_set_visible_child_name (self->body_stack, "error");
      gtk_widget_add_css_class (GTK_WIDGET (self), "failed");
      break;
    case HYDRA_PREDICT_DONE:
      hydra_predict_item_get_prediction (self->item, &p);
      show_prediction (self, &p);
      gtk_stack_set_visible_child_name (self->body_stack, "result");
      gtk_widget_remove_css_class (GTK_WIDGET (self), "failed");
      break;
    default:
      g_assert_not_reached ();
    }
  sync_thumbnail (self);
}

static void
on_item_notify (HydraPredictCard *self, GParamSpec *pspec, HydraPredictItem *item)
{
  if (g_str_equal (pspec->name, "thumbnail"))
    sync_thumbnail (self);
  else
    sync_state (self);
}

static void
hydra_predict_card_constructed (GObject *object)
{
  HydraPredictCard *self = HYDRA_PREDICT_CARD (object);

  G_OBJECT_CLASS (hydra_predict_card_parent_class)->constructed (object);

  g_return_if_fail (self->item != NULL);
  g_signal_connect_object (self->item, "notify", G_CALLBACK (on_item_notify), self,
                           G_CONNECT_SWAPPED);
  sync_state (self);
}

static void
hydra_predict_card_dispose (GObject *object)
{
  HydraPredictCard *self = HYDRA_PREDICT_CARD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_PREDICT_CARD);
  if (self->item != NULL)
    g_signal_handlers_disconnect_by_data (self->item, self);
  g_clear_object (&self->item);

  G_OBJECT_CLASS (hydra_predict_card_parent_class)->dispose (object);
}

static void
hydra_predict_card_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  HydraPredictCard *self = HYDRA_PREDICT_CARD (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_card_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  HydraPredictCard *self = HYDRA_PREDICT_CARD (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      self->item = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
hydra_predict_card_class_init (HydraPredictCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = hydra_predict_card_constructed;
  object_class->dispose = hydra_predict_card_dispose;
  object_class->get_property = hydra_predict_card_get_property;
  object_class->set_property = hydra_predict_card_set_property;

  props[PROP_ITEM]
      = g_param_spec_object ("item", NULL, NULL, HYDRA_TYPE_PREDICT_ITEM,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-predict-card.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, content);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, thumb_stack);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, spinner);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, picture);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, name_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, body_stack);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, error_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, grid);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, age_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, gender_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, gender_bar);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, gender_percent);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrapredictcard");
}

static void
hydra_predict_card_init (HydraPredictCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  plain_level_bar (self->gender_bar);
  for (int c = 0; c < N_RACES; c++)
    {
      self->race_label[c] = GTK_LABEL (gtk_label_new (race_titles[c]));
      gtk_label_set_xalign (self->race_label[c], 0);
      self->race_bar[c] = GTK_LEVEL_BAR (gtk_level_bar_new_for_interval (0, 1));
      plain_level_bar (self->race_bar[c]);
      gtk_widget_set_hexpand (GTK_WIDGET (self->race_bar[c]), TRUE);
      gtk_widget_set_valign (GTK_WIDGET (self->race_bar[c]), GTK_ALIGN_CENTER);
      self->race_percent[c] = GTK_LABEL (gtk_label_new (NULL));
      gtk_label_set_xalign (self->race_percent[c], 1);
      gtk_label_set_width_chars (self->race_percent[c], 4);
      gtk_widget_add_css_class (GTK_WIDGET (self->race_percent[c]), "predict-percent");
      gtk_grid_attach (self->grid, GTK_WIDGET (self->race_label[c]), 0, 3 + c, 1, 1);
      gtk_grid_attach (self->grid, GTK_WIDGET (self->race_bar[c]), 1, 3 + c, 1, 1);
      gtk_grid_attach (self->grid, GTK_WIDGET (self->race_percent[c]), 2, 3 + c, 1, 1);
    }
}

GtkWidget *
hydra_predict_card_new (HydraPredictItem *item)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_ITEM (item), NULL);
  return g_object_new (HYDRA_TYPE_PREDICT_CARD, "item", item, NULL);
}

HydraPredictItem *
hydra_predict_card_get_item (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  return self->item;
}

gboolean
hydra_predict_card_get_prediction (HydraPredictCard *self, HnPrediction *out)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), FALSE);
  return hydra_predict_item_get_prediction (self->item, out);
}

const char *
hydra_predict_card_get_error (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  if (hydra_predict_item_get_state (self->item) != HYDRA_PREDICT_FAILED)
    return NULL;
  return gtk_label_get_label (self->error_label);
}

gboolean
hydra_predict_card_is_pending (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), FALSE);
  return hydra_predict_item_get_state (self->item) == HYDRA_PREDICT_PENDING;
}

const char *
hydra_predict_card_get_age_text (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  if (hydra_predict_item_get_state (self->item) != HYDRA_PREDICT_DONE)
    return NULL;
  return gtk_label_get_label (self->age_label);
}
