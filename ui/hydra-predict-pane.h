/* hydra-predict-pane.h — drop face photos, see what the model predicts for each.
 *
 * Images come in by drag and drop (a GdkFileList or a GFile), "Open Image…", or the
 * clipboard (image data or files). Each becomes a photo (hydra-predict-photo.h) with a card
 * per face found in it, newest first; decoding, face finding and inference run off the main
 * thread (hydra-predictor.h) with the trainer's current model, during training too. Before
 * any model exists the pane says so, and predicts what it was given as soon as one appears.
 *
 * Actions (group "predict"): predict.open, predict.paste (Ctrl+V in the pane),
 * predict.clear, predict.again, predict.flip and predict.find-faces (the properties').
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predict-photo.h"
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

/* Property "find-faces": each photo's faces are found and predicted one by one; off, or
 * when none is found, the whole photo is. Changing it predicts the photos again. */
void hydra_predict_pane_set_find_faces (HydraPredictPane *self, gboolean find_faces);
gboolean hydra_predict_pane_get_find_faces (HydraPredictPane *self);

/* Adds one photo per file, in this order, above the existing ones, and predicts them. */
void hydra_predict_pane_add_files (HydraPredictPane *self, GFile *const *files, guint n);
/* Adds a photo for a picture (for instance pasted), predicted from its pixels. */
void hydra_predict_pane_add_texture (HydraPredictPane *self, GdkTexture *texture, const char *name);

/* Shows the file chooser (several images at once). */
void hydra_predict_pane_open_images (HydraPredictPane *self);
/* Adds what the clipboard holds: image data or image files. */
void hydra_predict_pane_paste (HydraPredictPane *self);
/* Removes every photo and cancels work in progress. */
void hydra_predict_pane_clear (HydraPredictPane *self);
/* Predicts every photo again with the current model. */
void hydra_predict_pane_predict_again (HydraPredictPane *self);

guint hydra_predict_pane_get_n_photos (HydraPredictPane *self);
/* Photo i, newest first (i = 0 is the photo added last), or NULL. */
HydraPredictPhoto *hydra_predict_pane_get_photo (HydraPredictPane *self, guint i);
/* Property "busy": predictions are being computed, or a drop's photos are still going in (a
 * few per frame, so that a large drop does not stall the main loop). */
gboolean hydra_predict_pane_get_busy (HydraPredictPane *self);

G_END_DECLS
