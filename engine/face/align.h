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

/* The landmarks the fit uses: the nose, eyes and outer lips (27–59). The jaw (0–16) follows
 * the head's turn and the face's shape, the brows (17–26) and inner lips (60–67) the
 * expression. Fitted to the dev chips, which are aligned already, this subset moves them
 * least: 3.34 pixels at the corners on average over 20,529 chips, against 3.52 for 27–67,
 * 3.90 for 17–67 and 5.62 for all 68 (tools/measure_chip_geometry.py). */
#define FACE_FIT_FIRST 27
#define FACE_FIT_LAST 59

/* The least-squares similarity (scale, rotation, translation; no reflection) taking
 * from[FACE_FIT_FIRST..FACE_FIT_LAST] onto the same points of to: to ≈ [a −b; b a]·from + (tx, ty)
 * (Umeyama's closed form, in 2-D). */
void face_fit_similarity (const HnPoint *from, const HnPoint *to, float *a, float *b, float *tx,
                          float *ty);

/* chip (size, size, 3): img seen through the inverse of the face's similarity, bilinear, its
 * edge repeated outside; each pixel averages n×n samples when one chip pixel covers n image
 * pixels. */
void face_warp (const HnImage *img, const HnFace *face, int size, uint8_t *chip);
