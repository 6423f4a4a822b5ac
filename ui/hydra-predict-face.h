/* hydra-predict-face.h — one face of a predicted photo, as the network saw it.
 *
 * A HydraPredictFace is immutable: where the face is in the photo, the aligned chip that went
 * through the network and what it predicted. A photo in which no face was found (or that was
 * not searched) has one "whole" face: the whole image, centre-cropped, with no box.
 * Made by the predictor's worker, read on the main thread.
 */
#pragma once

#include <gtk/gtk.h>

#include "model.h"

G_BEGIN_DECLS

#define HYDRA_TYPE_PREDICT_FACE (hydra_predict_face_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictFace, hydra_predict_face, HYDRA, PREDICT_FACE, GObject)

/* A face found: box in the upright photo's pixels; chip, the aligned crop the network was
 * given (held by reference). */
HydraPredictFace *hydra_predict_face_new (const GdkRectangle *box, GdkTexture *chip,
                                          const HnPrediction *prediction);
/* The whole image, centre-cropped: searched says faces were looked for and none was found. */
HydraPredictFace *hydra_predict_face_new_whole (GdkTexture *chip, const HnPrediction *prediction,
                                                gboolean searched);

gboolean hydra_predict_face_is_whole (HydraPredictFace *self);
/* TRUE for a whole image that stands for a search that found no face. */
gboolean hydra_predict_face_get_none_found (HydraPredictFace *self);
/* FALSE (and *out untouched) for the whole image. */
gboolean hydra_predict_face_get_box (HydraPredictFace *self, GdkRectangle *out);
GdkTexture *hydra_predict_face_get_chip (HydraPredictFace *self);
const HnPrediction *hydra_predict_face_get_prediction (HydraPredictFace *self);

G_END_DECLS
