/* hydra-predict-card.h — one face of a photo and what the model predicts for it.
 *
 * Shows a HydraPredictFace: the crop the network saw, the face's number (the one on its box
 * in the photo) or that it is the whole image, the age with the model's validation MAE as
 * its ±, and the gender and race probabilities as bars (hydra-predict-bars.h), the most
 * likely emphasised. Activating the card (a click, Enter or Space) emits "activate", which
 * the photo answers by highlighting the card and the face's box.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predict-face.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_PREDICT_CARD (hydra_predict_card_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictCard, hydra_predict_card, HYDRA, PREDICT_CARD, GtkWidget)

GtkWidget *hydra_predict_card_new (void);

/* number: the face's, from 1 (ignored for the whole image); age_mae: the model's validation
 * MAE, or < 0 when unknown. */
void hydra_predict_card_set_face (HydraPredictCard *self, HydraPredictFace *face, guint number,
                                  double age_mae);
HydraPredictFace *hydra_predict_card_get_face (HydraPredictCard *self);

/* Highlighted: the face the user picked, in the card list and in the photo (CSS class
 * "highlighted"). */
void hydra_predict_card_set_highlighted (HydraPredictCard *self, gboolean highlighted);
gboolean hydra_predict_card_get_highlighted (HydraPredictCard *self);

/* What the card shows, for tests and accessibility: its title ("Face 2", or that no face
 * was found and the whole image was predicted) and its age line ("31 ± 7 years"). */
const char *hydra_predict_card_get_title (HydraPredictCard *self);
const char *hydra_predict_card_get_age_text (HydraPredictCard *self);

G_END_DECLS
