/* jpeg.h — JPEG decoding through libjpeg-turbo, the decoder (and settings) Pillow uses, so
 * a JPEG's pixels here equal the reference's bit for bit (stb_image's decoder differs in
 * about 7% of the bytes, by up to 2). One HnJpeg per thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct
{
  void *tj; /* a TurboJPEG decompressor */
} HnJpeg;

bool jpeg_open (HnJpeg *j, HnError *err);
void jpeg_close (HnJpeg *j);

/* The size the JPEG's header declares. *cmyk: TurboJPEG 2.1 cannot turn CMYK or YCCK into
 * RGB (stb_image can, as Pillow does) — the caller decodes those another way. */
bool jpeg_read_header (HnJpeg *j, const uint8_t *buf, size_t len, int *w, int *h, bool *cmyk,
                       HnError *err);

/* Decodes into rgb (h, w, 3). Refuses a file that ends before its image does and one whose
 * data is damaged; accepts stray bytes between markers, which change no pixel (as Pillow). */
bool jpeg_read_pixels (HnJpeg *j, const uint8_t *buf, size_t len, uint8_t *rgb, int w, int h,
                       HnError *err);
