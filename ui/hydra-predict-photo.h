/* hydra-predict-photo.h — one dropped photo: the picture with its faces boxed, and a card
 * per face.
 *
 * Follows a HydraPredictItem: its name; the photo (hydra-photo-view.h) once decoded, with a
 * numbered box on each face found; then one HydraPredictCard per face, or one for the whole
 * image when none was found; or, when the image could not be read or predicted, the reason.
 * While it is predicted again the previous cards stay, dimmed. Activating a box highlights
 * its card, and activating a card its box.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-photo-view.h"
#include "hydra-predict-card.h"
#include "hydra-predictor.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_PREDICT_PHOTO (hydra_predict_photo_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictPhoto, hydra_predict_photo, HYDRA, PREDICT_PHOTO, GtkWidget)

GtkWidget *hydra_predict_photo_new (HydraPredictItem *item);
HydraPredictItem *hydra_predict_photo_get_item (HydraPredictPhoto *self);

HydraPhotoView *hydra_predict_photo_get_view (HydraPredictPhoto *self);
guint hydra_predict_photo_get_n_cards (HydraPredictPhoto *self);
/* Card i, in the faces' order (left to right), or NULL. */
HydraPredictCard *hydra_predict_photo_get_card (HydraPredictPhoto *self, guint i);

/* The face highlighted in the photo and among the cards, or -1. */
void hydra_predict_photo_set_highlight (HydraPredictPhoto *self, int index);
int hydra_predict_photo_get_highlight (HydraPredictPhoto *self);

/* What the photo shows, for tests and accessibility. */
const char *hydra_predict_photo_get_error (HydraPredictPhoto *self);
gboolean hydra_predict_photo_is_pending (HydraPredictPhoto *self);

G_END_DECLS
