/* hydra-predictor.h — predictions for face images, decoded and computed off the main thread.
 *
 * A HydraPredictItem is one image the user gave (a file, or a pasted picture) and what became
 * of it: pending, predicted — a list of faces (hydra-predict-face.h), or the whole image when
 * none was found — or failed with a message. Items live on the main thread and notify there;
 * the prediction pane shows one photo per item and one card per face.
 *
 * A HydraPredictor runs the work. Queued items go to one worker at a time, which takes one
 * copy of the trainer's model for everything queued (hydra_trainer_dup_model), decodes each
 * image, makes a thumbnail and, when "find-faces" is on, turns it upright (as its EXIF
 * orientation says) and finds and aligns its faces (faces.h). Each face's chip — or the whole
 * image — goes through the same preprocessing as training and `hydranet-cli predict --faces
 * auto` (or `--faces whole` with find-faces off), so the numbers agree, in batches: with flip
 * on, each averaged with its mirror, as `hydranet-cli predict --tta flip`.
 * Results come back through at most one pending idle, which applies a few milliseconds'
 * worth at a time so that frames come between when many arrive at once.
 */
#pragma once

#include <gtk/gtk.h>

#include "hydra-predict-face.h"
#include "hydra-trainer.h"
#include "model.h"

G_BEGIN_DECLS

/* Thumbnails fit in a square of this side, keeping their aspect: the photo the pane shows
 * with its faces' boxes. */
#define HYDRA_THUMBNAIL_SIZE 240

typedef enum
{
  HYDRA_PREDICT_PENDING,
  HYDRA_PREDICT_DONE,
  HYDRA_PREDICT_FAILED,
} HydraPredictState;

#define HYDRA_TYPE_PREDICT_ITEM (hydra_predict_item_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictItem, hydra_predict_item, HYDRA, PREDICT_ITEM, GObject)

HydraPredictItem *hydra_predict_item_new_for_file (GFile *file);
/* A pasted picture, predicted from its pixels; name is what the card calls it. */
HydraPredictItem *hydra_predict_item_new_for_texture (GdkTexture *texture, const char *name);

/* Properties (notify on the main thread):
 *   "name"       string: the file's display name, or the name given for a texture
 *   "state"      HydraPredictState
 *   "thumbnail"  GdkTexture ≤ HYDRA_THUMBNAIL_SIZE, or NULL until decoded (or undecodable)
 *   "error"      string: why the image could not be predicted, or NULL
 *   "age-mae"    double: the validation MAE of the model when it predicted, or -1
 * The faces (hydra_predict_item_get_faces) change as one splice of the list model, just
 * before "state" becomes HYDRA_PREDICT_DONE; they stay as they were while the item is
 * predicted again, and are emptied when it fails. */
const char *hydra_predict_item_get_name (HydraPredictItem *self);
GFile *hydra_predict_item_get_file (HydraPredictItem *self); /* NULL for a texture */
HydraPredictState hydra_predict_item_get_state (HydraPredictItem *self);
GdkTexture *hydra_predict_item_get_thumbnail (HydraPredictItem *self);
const char *hydra_predict_item_get_error (HydraPredictItem *self);
double hydra_predict_item_get_age_mae (HydraPredictItem *self);
/* HydraPredictFace, left to right; one whole-image face when none was found. */
GListModel *hydra_predict_item_get_faces (HydraPredictItem *self);
/* The decoded image's size (upright when faces were looked for), which the faces' boxes are
 * in; FALSE before it was decoded. */
gboolean hydra_predict_item_get_image_size (HydraPredictItem *self, int *width, int *height);
/* What the predictor does once the item is predicted: the faces found in the width × height
 * image, age_mae as "age-mae", and the state HYDRA_PREDICT_DONE. Also how tests give an item
 * faces, since their photos have none. */
void hydra_predict_item_set_result (HydraPredictItem *self, int width, int height,
                                    HydraPredictFace *const *faces, guint n_faces, double age_mae);
/* TRUE when the item failed only because no model existed yet. */
gboolean hydra_predict_item_get_needs_model (HydraPredictItem *self);

#define HYDRA_TYPE_PREDICTOR (hydra_predictor_get_type ())
G_DECLARE_FINAL_TYPE (HydraPredictor, hydra_predictor, HYDRA, PREDICTOR, GObject)

HydraPredictor *hydra_predictor_new (void);

/* Where models come from; NULL: none (items fail with "no model"). Held by reference. */
void hydra_predictor_set_trainer (HydraPredictor *self, HydraTrainer *trainer);
HydraTrainer *hydra_predictor_get_trainer (HydraPredictor *self);

/* With flip, each image is predicted as it is and mirrored, and the two averaged
 * (model_infer's test-time flip). Batches started after the change use it. */
void hydra_predictor_set_flip (HydraPredictor *self, gboolean flip);
gboolean hydra_predictor_get_flip (HydraPredictor *self);

/* With find-faces, each image's faces are found, aligned and predicted one by one; without,
 * or when none is found, the whole image is. The face finder is made the first time it is
 * needed (it loads for about a second); if that fails, images are predicted whole and
 * "finder-error" says why. Batches started after the change use it. */
void hydra_predictor_set_find_faces (HydraPredictor *self, gboolean find_faces);
gboolean hydra_predictor_get_find_faces (HydraPredictor *self);
/* Where dlib's 68-landmark model is read from when the finder is made; NULL (the default):
 * where libdlib-data installs it. */
void hydra_predictor_set_landmarks_path (HydraPredictor *self, const char *path);
/* Property "finder-error": why the face finder could not be made, or NULL. */
const char *hydra_predictor_get_finder_error (HydraPredictor *self);

/* Makes the items pending and queues them. Items already queued or being predicted are
 * predicted again (with the model of the next batch); late results of the old request are
 * dropped. */
void hydra_predictor_queue (HydraPredictor *self, HydraPredictItem *const *items, guint n);

/* Drops everything queued and cancels the running batch: its items stop changing. */
void hydra_predictor_cancel (HydraPredictor *self);

/* Property "busy": a batch is running or queued. */
gboolean hydra_predictor_get_busy (HydraPredictor *self);

G_END_DECLS
