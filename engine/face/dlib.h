/* dlib.h — the two parts of dlib faces.c uses, behind C: the frontal face detector (HOG and
 * linear SVMs over an image pyramid) and the 68-point shape predictor (a cascade of
 * regression trees). Images are 8-bit grey, (h, w) row-major; dlib reads them in place.
 * The only C++ of the engine is dlib.cc; nothing it throws gets past this header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "error.h" /* C declarations, so inside the extern "C" */

typedef struct HnDlib HnDlib;

typedef struct
{
  long left, top, right, bottom; /* inclusive, as dlib::rectangle */
  double score;
} HnDlibBox;

/* Loads the detector (built into dlib) and the shape predictor from landmarks_path. */
HnDlib *dlib_faces_new (const char *landmarks_path, HnError *err);
void dlib_faces_free (HnDlib *d);

/* Faces of at least 80×80 pixels scoring above threshold (dlib's own is 0), most confident
 * first, at most max of them: their number, or −1 with err set. */
int dlib_faces_detect (HnDlib *d, const uint8_t *grey, int w, int h, double threshold,
                       HnDlibBox *boxes, int max, HnError *err);

/* The 68 landmarks (x, y pairs, xy (68, 2)) of the face in box; pixels outside the image read
 * as black. */
bool dlib_faces_landmarks (const HnDlib *d, const uint8_t *grey, int w, int h,
                           const HnDlibBox *box, float *xy, HnError *err);

#ifdef __cplusplus
}
#endif
