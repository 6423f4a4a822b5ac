/* align.h — a face's landmarks to the chip's: the similarity between them, and the warp.
 *
 * Coordinates are dlib's: pixel (x, y) is centred at (x, y), in the image and in the chip.
 */
#pragma once

#include <stdint.h>

#include "faces.h"

/* Where the landmarks sit in UTKFace's 200×200 chips: their mean over the dev chips,
 * measured by tools/measure_chip_geometry (chip.c). */
extern const HnPoint face_chip_landmarks[FACE_LANDMARKS];

/* The first landmark the fit uses: the jaw (0–16) follows the head's turn and the face's
 * shape, brows, nose, eyes and mouth (17–67) place the face (as dlib's own chips do). */
#define FACE_FIT_FIRST 17

/* The least-squares similarity (scale, rotation, translation; no reflection) taking
 * from[FACE_FIT_FIRST..] onto to[FACE_FIT_FIRST..]: to ≈ [a −b; b a]·from + (tx, ty)
 * (Umeyama's closed form, in 2-D). */
void face_fit_similarity (const HnPoint *from, const HnPoint *to, float *a, float *b, float *tx,
                          float *ty);

/* chip (size, size, 3): img seen through the inverse of the face's similarity, bilinear, black
 * outside img; each pixel averages n×n samples when one chip pixel covers n image pixels. */
void face_warp (const HnImage *img, const HnFace *face, int size, uint8_t *chip);
