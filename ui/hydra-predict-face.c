/* hydra-predict-face.c — one face of a predicted photo, as the network saw it. */

#include "hydra-predict-face.h"

struct _HydraPredictFace
{
  GObject parent_instance;

  /* owned */
  GdkRectangle box;
  gboolean whole;
  gboolean none_found;
  GdkTexture *chip;
  HnPrediction prediction;
};

G_DEFINE_FINAL_TYPE (HydraPredictFace, hydra_predict_face, G_TYPE_OBJECT)

static void
hydra_predict_face_finalize (GObject *object)
{
  HydraPredictFace *self = HYDRA_PREDICT_FACE (object);

  g_clear_object (&self->chip);

  G_OBJECT_CLASS (hydra_predict_face_parent_class)->finalize (object);
}

static void
hydra_predict_face_class_init (HydraPredictFaceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hydra_predict_face_finalize;
}

static void
hydra_predict_face_init (HydraPredictFace *self)
{
}

static HydraPredictFace *
face_new (GdkTexture *chip, const HnPrediction *prediction)
{
  HydraPredictFace *self = g_object_new (HYDRA_TYPE_PREDICT_FACE, NULL);

  self->chip = chip != NULL ? g_object_ref (chip) : NULL;
  self->prediction = *prediction;
  return self;
}

HydraPredictFace *
hydra_predict_face_new (const GdkRectangle *box, GdkTexture *chip, const HnPrediction *prediction)
{
  g_return_val_if_fail (box != NULL, NULL);
  g_return_val_if_fail (chip == NULL || GDK_IS_TEXTURE (chip), NULL);
  g_return_val_if_fail (prediction != NULL, NULL);

  HydraPredictFace *self = face_new (chip, prediction);
  self->box = *box;
  return self;
}

HydraPredictFace *
hydra_predict_face_new_whole (GdkTexture *chip, const HnPrediction *prediction, gboolean searched)
{
  g_return_val_if_fail (chip == NULL || GDK_IS_TEXTURE (chip), NULL);
  g_return_val_if_fail (prediction != NULL, NULL);

  HydraPredictFace *self = face_new (chip, prediction);
  self->whole = TRUE;
  self->none_found = !!searched;
  return self;
}

gboolean
hydra_predict_face_is_whole (HydraPredictFace *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_FACE (self), TRUE);
  return self->whole;
}

gboolean
hydra_predict_face_get_none_found (HydraPredictFace *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_FACE (self), FALSE);
  return self->none_found;
}

gboolean
hydra_predict_face_get_box (HydraPredictFace *self, GdkRectangle *out)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_FACE (self), FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (self->whole)
    return FALSE;
  *out = self->box;
  return TRUE;
}

GdkTexture *
hydra_predict_face_get_chip (HydraPredictFace *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_FACE (self), NULL);
  return self->chip;
}

const HnPrediction *
hydra_predict_face_get_prediction (HydraPredictFace *self)
{
  g_return_val_if_fail (HYDRA_IS_PREDICT_FACE (self), NULL);
  return &self->prediction;
}
