/* hydra-predict-pane.h — drop face photos, see what the model predicts for each.
 *
 * Images come in by drag and drop (a GdkFileList or a GFile), "Open Image…", or the
 * clipboard (image data or files). Each becomes a card, newest first; decoding and
 * inference run off the main thread (hydra-predictor.h) with the trainer's current model,
 * during training too. Before any model exists the pane says so, and predicts what it was
 * given as soon as one appears.
 *
 * Actions (group "predict"): predict.open, predict.paste (Ctrl+V in the pane),
 * predict.clear, predict.again, predict.flip (the "flip" property's).
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predict-card.h"
#include "hydra-trainer.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_PREDICT_PANE (hydra_predict_pane_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictPane, hydra_predict_pane, HYDRA, PREDICT_PANE, GtkWidget)

GtkWidget *hydra_predict_pane_new (void);

/* Property "trainer": where the model comes from (held by reference; NULL: none). */
void hydra_predict_pane_set_trainer (HydraPredictPane *self, HydraTrainer *trainer);
HydraTrainer *hydra_predict_pane_get_trainer (HydraPredictPane *self);

/* Property "flip": predictions average each image with its mirror (test-time flip, as
 * `hydranet-cli predict --tta flip`); changing it predicts the cards again. */
void hydra_predict_pane_set_flip (HydraPredictPane *self, gboolean flip);
gboolean hydra_predict_pane_get_flip (HydraPredictPane *self);

/* Adds one card per file, in this order, above the existing ones, and predicts them. */
void hydra_predict_pane_add_files (HydraPredictPane *self, GFile *const *files, guint n);
/* Adds a card for a picture (for instance pasted), predicted from its pixels. */
void hydra_predict_pane_add_texture (HydraPredictPane *self, GdkTexture *texture, const char *name);

/* Shows the file chooser (several images at once). */
void hydra_predict_pane_open_images (HydraPredictPane *self);
/* Adds what the clipboard holds: image data or image files. */
void hydra_predict_pane_paste (HydraPredictPane *self);
/* Removes every card and cancels work in progress. */
void hydra_predict_pane_clear (HydraPredictPane *self);
/* Predicts every card again with the current model. */
void hydra_predict_pane_predict_again (HydraPredictPane *self);

guint hydra_predict_pane_get_n_cards (HydraPredictPane *self);
/* Card i, newest first (i = 0 is the card added last), or NULL. */
HydraPredictCard *hydra_predict_pane_get_card (HydraPredictPane *self, guint i);
/* Property "busy": predictions are being computed, or a drop's cards are still going in (a
 * few per frame, so that a large drop does not stall the main loop). */
gboolean hydra_predict_pane_get_busy (HydraPredictPane *self);

G_END_DECLS
