/* faces-private.h — how face_find scales and pads a photo for the detector, for the tests. */
#pragma once

#include "dlib.h"
#include "faces.h"

/* The detector's cost grows with the pixels it scans: about 75 ms a megapixel on one core.
 * A photo larger than this is averaged down by an integer factor. One of at most a quarter of
 * it is scanned twice: as it is, and doubled, which finds faces of 40 to 80 pixels (the
 * detector's window is 80) — in web photos and in chips pasted small. */
#define FACE_FIND_MAX_PIXELS (2000 * 1000)
/* Pixels of its own edge around what the detector scans: a face cut by the border still
 * shows it enough of itself. With one scan at dlib's threshold, 24 found the most of two sets
 * of 1000 dev chips (987 and 971; 40: 978 and 960; no padding: 978 of the first). */
#define FIND_PAD 24

/* Faces scoring above FACE_FIND_THRESHOLD are candidates (dlib's own threshold is 0); one
 * scoring under FACE_FIND_SURE is kept only when the detector finds a face again in its
 * aligned chip, upright and centred. On 400 dev chips pasted into 640×480 pictures,
 * threshold 0 finds 371; −0.3 finds 391 and 10 blobs of the background besides, and a second
 * look at those under 0 keeps 16 of the 17 doubtful faces and none of the 10 blobs. The
 * doubled scan finds 3 more blobs, scoring 0.03–0.14: a second look up to 0.2 keeps them out
 * (up to 0.5 would also lose 8 in 1000 dev chips). */
#define FACE_FIND_THRESHOLD (-0.3)
#define FACE_FIND_SURE 0.2

typedef struct
{
  int factor;  /* each pixel the mean of factor × factor (1: as it is); 0: doubled */
  int w, h;    /* the scaled photo, before padding */
  float scale; /* w / the photo's width, about */
} FindPlan;

/* The copies the detector scans: their number (1 or 2) in plans. */
int face_find_plans (int w, int h, FindPlan plans[2]);

/* A box the detector found in the padded, scaled photo, in the photo's pixels: full as it is
 * (for the landmarks, may reach outside), face's box clipped to the photo. False when the
 * box lies in the padding alone. */
bool face_box_to_image (const FindPlan *plan, const HnDlibBox *box, int w, int h,
                        HnDlibBox *full, HnFace *face);
