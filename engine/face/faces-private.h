/* faces-private.h — how face_find scales and pads a photo for the detector, for the tests. */
#pragma once

#include "dlib.h"
#include "faces.h"

/* The detector's cost grows with the pixels it scans: about 75 ms a megapixel on one core.
 * A photo larger than this is averaged down by an integer factor. Smaller ones are not
 * doubled: that would find faces under 80 pixels (the detector's window) at four times the
 * cost, and it finds fewer of the chips' own faces (971 of 1000 dev chips against 978). */
#define FACE_FIND_MAX_PIXELS (2000 * 1000)
/* Pixels of its own edge around what the detector scans: a face cut by the border still
 * shows it enough of itself. 24 found the most of 2 × 1000 dev chips (987 and 971; 40: 978
 * and 960; none: 978 of the first). */
#define FIND_PAD 24

typedef struct
{
  int factor;  /* each pixel the mean of factor × factor (1: as it is) */
  int w, h;    /* the scaled photo, before padding */
  float scale; /* w / the photo's width, about */
} FindPlan;

FindPlan face_find_plan (int w, int h);

/* A box the detector found in the padded, scaled photo, in the photo's pixels: full as it is
 * (for the landmarks, may reach outside), face's box clipped to the photo. False when the
 * box lies in the padding alone. */
bool face_box_to_image (const FindPlan *plan, const HnDlibBox *box, int w, int h,
                        HnDlibBox *full, HnFace *face);
