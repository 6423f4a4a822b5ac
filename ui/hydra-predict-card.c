/* hydra-predict-card.c — one face of a photo and what the model predicts for it. */

#include "hydra-predict-card.h"

#include <math.h>

#include "hydra-predict-bars.h"

struct _HydraPredictCard
{
  GtkWidget parent_instance;

  /* template widgets */
  GtkWidget *content;
  GtkImage *chip; /* an image, not a picture: a fixed square */
  GtkLabel *title_label;
  GtkLabel *age_label;
  HydraPredictBars *bars;

  /* owned */
  HydraPredictFace *face;
  gboolean highlighted;
};

G_DEFINE_FINAL_TYPE (HydraPredictCard, hydra_predict_card, GTK_TYPE_WIDGET)

enum
{
  SIGNAL_ACTIVATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *const race_titles[N_RACES] = { "White", "Black", "Asian", "Indian", "Other" };

static void
show_age (HydraPredictCard *self, const HnPrediction *p, double mae)
{
  g_autofree char *age = NULL;
  g_autofree char *tooltip = NULL;

  /* Whole years: the model's error is several years, decimals would claim more. A diverged
   * model can output NaN; say so rather than print a number. */
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
}

static void
show_bars (HydraPredictCard *self, const HnPrediction *p)
{
  gboolean female = p->p_female >= 0.5f;
  HydraPredictBarsRow rows[1 + N_RACES] = {
    { female ? "Female" : "Male", female ? p->p_female : 1.0 - p->p_female, TRUE, FALSE },
  };

  for (int c = 0; c < N_RACES; c++)
    rows[1 + c] = (HydraPredictBarsRow){ race_titles[c], p->race_probs[c], c == p->race, c == 0 };
  hydra_predict_bars_set_rows (self->bars, rows, G_N_ELEMENTS (rows));
}

void
hydra_predict_card_set_face (HydraPredictCard *self, HydraPredictFace *face, guint number,
                             double age_mae)
{
  const HnPrediction *p;
  g_autofree char *title = NULL;
  g_autofree char *tooltip = NULL;

  g_return_if_fail (HYDRA_IS_PREDICT_CARD (self));
  g_return_if_fail (HYDRA_IS_PREDICT_FACE (face));

  g_set_object (&self->face, face);
  p = hydra_predict_face_get_prediction (face);

  if (!hydra_predict_face_is_whole (face))
    {
      title = g_strdup_printf ("Face %u", number);
      tooltip = g_strdup_printf ("Face %u, aligned as the network saw it. Click to show it in "
                                 "the photo.",
                                 number);
    }
  else if (hydra_predict_face_get_none_found (face))
    {
      title = g_strdup ("No face found — whole image");
      tooltip = g_strdup ("No face was found, so the whole image was predicted, centre-cropped "
                          "as the network saw it.");
    }
  else
    {
      title = g_strdup ("Whole image");
      tooltip = g_strdup ("Faces are not being looked for, so the whole image was predicted, "
                          "centre-cropped as the network saw it.");
    }
  gtk_label_set_label (self->title_label, title);
  gtk_image_set_from_paintable (self->chip, GDK_PAINTABLE (hydra_predict_face_get_chip (face)));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->chip), tooltip);
  if (hydra_predict_face_is_whole (face))
    gtk_widget_add_css_class (GTK_WIDGET (self), "whole");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "whole");

  show_age (self, p, age_mae);
  show_bars (self, p);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  gtk_label_get_label (self->age_label), -1);
}

HydraPredictFace *
hydra_predict_card_get_face (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  return self->face;
}

void
hydra_predict_card_set_highlighted (HydraPredictCard *self, gboolean highlighted)
{
  g_return_if_fail (HYDRA_IS_PREDICT_CARD (self));

  self->highlighted = !!highlighted;
  if (highlighted)
    gtk_widget_add_css_class (GTK_WIDGET (self), "highlighted");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "highlighted");
}

gboolean
hydra_predict_card_get_highlighted (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), FALSE);
  return self->highlighted;
}

const char *
hydra_predict_card_get_title (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  return gtk_label_get_label (self->title_label);
}

const char *
hydra_predict_card_get_age_text (HydraPredictCard *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_CARD (self), NULL);
  return gtk_label_get_label (self->age_label);
}

static void
on_released (HydraPredictCard *self, int n_press, double x, double y, GtkGestureClick *gesture)
{
  gtk_widget_activate (GTK_WIDGET (self));
}

static void
hydra_predict_card_dispose (GObject *object)
{
  HydraPredictCard *self = HYDRA_PREDICT_CARD (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), HYDRA_TYPE_PREDICT_CARD);
  g_clear_object (&self->face);

  G_OBJECT_CLASS (hydra_predict_card_parent_class)->dispose (object);
}

static void
hydra_predict_card_class_init (HydraPredictCardClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = hydra_predict_card_dispose;

  signals[SIGNAL_ACTIVATE]
      = g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_activate_signal (widget_class, signals[SIGNAL_ACTIVATE]);
  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_Return, 0, "activate", NULL);
  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_KP_Enter, 0, "activate", NULL);
  gtk_widget_class_add_binding_signal (widget_class, GDK_KEY_space, 0, "activate", NULL);

  g_type_ensure (HYDRA_TYPE_PREDICT_BARS);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/hydranet/Studio/ui/hydra-predict-card.ui");
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, content);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, chip);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, title_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, age_label);
  gtk_widget_class_bind_template_child (widget_class, HydraPredictCard, bars);
  gtk_widget_class_bind_template_callback (widget_class, on_released);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "hydrapredictcard");
}

static void
hydra_predict_card_init (HydraPredictCard *self)
{
  static const char *const genders[] = { "Female", "Male", NULL };

  gtk_widget_init_template (GTK_WIDGET (self));
  hydra_predict_bars_reserve_names (self->bars, genders);
}

GtkWidget *
hydra_predict_card_new (void)
{
  return g_object_new (HYDRA_TYPE_PREDICT_CARD, NULL);
}
