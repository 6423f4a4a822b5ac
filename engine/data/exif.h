/* exif.h — a JPEG's EXIF orientation, and an image turned by it.
 *
 * Orientation (EXIF tag 0x0112) says how the stored pixels are to be shown:
 *   1 as stored        2 mirrored            3 turned 180°        4 flipped upside down
 *   5 transposed       6 turned 90° clockwise 7 transversed        8 turned 90° anticlockwise
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* 1 to 8 from the JPEG's first APP1 Exif segment; 1 when there is none, or it is broken or
 * says anything else. Reads only within buf. */
int exif_orientation (const uint8_t *buf, size_t len);

/* img, turned as orientation says (1 to 8) so that it stands as a viewer shows it.
 * Fails only when memory runs out (img unchanged). */
bool image_orient (HnImage *img, int orientation, HnError *err);

/* Where the pixel (x, y) of the stored image (w, h) lands in the upright one. */
void exif_map_point (int orientation, int w, int h, int x, int y, int *ux, int *uy);
