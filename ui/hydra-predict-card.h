/* hydra-predict-card.h — one image and what the model predicts for it.
 *
 * Shows a HydraPredictItem: its thumbnail and name, then, once predicted, the age with the
 * model's validation MAE as its ±, the gender with a probability bar and the five race
 * classes with theirs (the most likely emphasised); or, when the image could not be read,
 * the reason. Follows the item as it changes.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predictor.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_PREDICT_CARD (hydra_predict_card_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictCard, hydra_predict_card, HYDRA, PREDICT_CARD, GtkWidget)

GtkWidget *hydra_predict_card_new (HydraPredictItem *item);
HydraPredictItem *hydra_predict_card_get_item (HydraPredictCard *self);

/* What the card shows, for tests and accessibility. */
gboolean hydra_predict_card_get_prediction (HydraPredictCard *self, HnPrediction *out);
const char *hydra_predict_card_get_error (HydraPredictCard *self);
gboolean hydra_predict_card_is_pending (HydraPredictCard *self);
/* The age line as displayed ("31 ± 7 years"). */
const char *hydra_predict_card_get_age_text (HydraPredictCard *self);

G_END_DECLS
