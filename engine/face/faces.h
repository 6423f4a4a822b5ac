/* faces.h — every face in a photo, found and aligned as UTKFace's chips are.
 *
 * The model has only seen chips: a face found, aligned by its landmarks and cropped to
 * 200×200. face_find finds the faces of a photo with dlib's frontal face detector (HOG) and
 * places its 68 landmarks on each (dlib's shape predictor, libdlib-data's model); face_chip
 * then warps each face onto the chip geometry measured from the chips themselves (align.h,
 * chip.c), so that an aligned face reaches the network as a chip would — and goes on through
 * the usual preprocessing (face_load_input).
 *
 * Large photos are scaled down for finding and small ones also up (faces-private.h), the
 * image is padded so that faces cut by its border are still found, and everything returned is
 * in the given image's pixels. Give it an upright image (image_decode_file_upright), so that
 * faces stand as the detector expects and boxes are where a viewer sees them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "image.h"

#define FACE_CHIP_SIZE 200 /* a chip's side, as UTKFace's */
#define FACE_LANDMARKS 68  /* dlib's (iBUG 300-W) points: jaw 0–16, brows, nose, eyes, mouth */
#define FACE_MAX 64        /* faces kept per image, the detector's most confident first */

typedef struct
{
  float x, y;
} HnPoint;

typedef struct
{
  int x, y, w, h;                   /* the detector's box, clipped to the image */
  float score;                      /* the detector's confidence (> 0) */
  HnPoint landmarks[FACE_LANDMARKS]; /* may lie outside the image for a face at its edge */
  /* The similarity from the image to the chip: chip = [a −b; b a]·p + (tx, ty). */
  float a, b, tx, ty;
} HnFace;

typedef struct
{
  HnFace *faces; /* n of them, left to right by box; owned */
  int n;
} HnFaces;

/* The detector and the landmark model (about 0.8 s and 100 MB to load). A finder keeps
 * buffers from one image to the next: one finder per thread. */
typedef struct HnFaceFinder HnFaceFinder;

/* landmarks_path: dlib's shape_predictor_68_face_landmarks.dat, or NULL for where
 * libdlib-data installs it (FACE_LANDMARKS_PATH). */
HnFaceFinder *face_finder_new (const char *landmarks_path, HnError *err);
void face_finder_free (HnFaceFinder *finder);

/* The faces of img, left to right; none found is not an error (out->n == 0). Fails when
 * memory runs out or dlib fails. */
bool face_find (HnFaceFinder *finder, const HnImage *img, HnFaces *out, HnError *err);
void faces_clear (HnFaces *faces);

/* The face's chip: chip (FACE_CHIP_SIZE, FACE_CHIP_SIZE, 3). Where it reaches past the photo,
 * the photo's edge is repeated: UTKFace's own chips are black there, but black moved the
 * predictions of dev chips given back to the finder (500 chips, 64 px model: race agreeing
 * in 95.0% against 97.8%, age 1.19 years apart against 0.78). Pixels are averaged over the
 * area each covers when the face is larger than the chip. */
void face_chip (const HnImage *img, const HnFace *face, uint8_t *chip);

/* The face as the network takes it: its chip (into chip, (FACE_CHIP_SIZE, FACE_CHIP_SIZE, 3),
 * kept for showing), then the preprocessing of a chip file (image_crop_resize,
 * image_normalize) into dst (3, size, size). Fails only when memory runs out. */
bool face_load_input (const HnImage *img, const HnFace *face, int size, uint8_t *chip, float *dst,
                      HnError *err);
