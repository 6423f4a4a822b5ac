/* image.h — decoding face images and turning them into network input.
 *
 * Preprocessing, identical for training, validation and prediction (ARCHITECTURE.md): decode
 * to 8-bit RGB (grey, grey+alpha, RGBA, 16-bit are converted; alpha dropped), centre-crop to a
 * square ((w-s)/2, (h-s)/2 as PIL's crop in the reference), resize to S×S with PIL's
 * antialiased BILINEAR filter (bit-exact with Pillow's 8-bit resampler), scale to [0,1],
 * normalise with the ImageNet mean and std (bit-exact with the reference's float32 math).
 * Decoding matches Pillow's too: JPEGs go through libjpeg-turbo (jpeg.h), the decoder Pillow
 * uses, and PNG, BMP and GIF through stb_image, which decodes them as Pillow does — except
 * 16-bit grey, where we keep the high byte and Pillow saturates at 255. So our inputs equal
 * the reference's. (CMYK JPEGs, which TurboJPEG cannot convert, go through stb_image.)
 *
 * Files are untrusted: only JPEG, PNG, BMP and GIF are accepted, sizes and dimensions are
 * capped, and JPEG Huffman tables are checked, all before stb_image decodes anything.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "jpeg.h"

#define IMAGE_MAX_FILE_BYTES (64u << 20) /* 64 MiB */
#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS (64u << 20) /* 64 Mpx */

typedef struct
{
  int w, h;
  uint8_t *rgb; /* (h, w, 3), row-major, owned */
} HnImage;

/* On failure *out is empty and err says why (image_decode_file starts it with the path). */
bool image_decode_memory (const uint8_t *buf, size_t len, HnImage *out, HnError *err);
bool image_decode_file (const char *path, HnImage *out, HnError *err);
void image_clear (HnImage *img); /* frees rgb and empties img; fine on an empty image */

/* What a thread that decodes many images keeps from one to the next: the JPEG decoder and
 * the pixel buffer. image_decode_memory is one image through one of these, so every image
 * takes the same path. A zeroed decoder is ready (its JPEG decoder made on the first JPEG). */
typedef struct
{
  HnJpeg jpeg; /* jpeg.tj: NULL before the first JPEG (without image_decoder_init), and
                * after a failed one if no new decoder could be made (out of memory) */
  HnImage img; /* the last image decoded; empty after a failure */
  size_t cap;  /* bytes img.rgb holds: reused while the next image fits */
} HnDecoder;

/* Makes the JPEG decoder now, so that running out of memory shows here rather than as the
 * first JPEG's error. */
bool image_decoder_init (HnDecoder *d, HnError *err);
void image_decoder_clear (HnDecoder *d);

/* image_decode_memory into d->img, which stays d's: valid until the next call. */
bool image_decoder_decode (HnDecoder *d, const uint8_t *buf, size_t len, HnError *err);

/* False, with a message naming the limit, unless w×h is a non-empty image within
 * IMAGE_MAX_SIDE and IMAGE_MAX_PIXELS. */
bool image_check_size (int w, int h, HnError *err);

/* Centre crop to a square, then PIL-BILINEAR resize to size×size. dst (size, size, 3).
 * When the crop is already size×size the pixels are copied unchanged (as PIL does).
 * Resizing needs scratch memory (coefficients and an 8-bit intermediate of up to
 * (s, size, 3)), so it returns false and fills err only when that allocation fails. */
bool image_crop_resize (const HnImage *src, int size, uint8_t *dst, HnError *err);

/* dst (3, size, size) planar floats: (v/255 − mean[c]) / std[c]. */
void image_normalize (const uint8_t *rgb, int size, float *dst);

/* crop/resize + normalise, for an image already decoded. dst (3, size, size). */
bool image_input (const HnImage *img, int size, float *dst, HnError *err);

/* decode + crop/resize + normalise. dst (3, size, size). */
bool image_load_input (const char *path, int size, float *dst, HnError *err);

/* As image_decode_memory and image_decode_file, then turned upright as the file's EXIF
 * orientation says (a JPEG's APP1 Exif; 1 to 8, anything else is taken as 1): what a viewer
 * shows, and what faces.h wants. Training and the whole-image preprocessing do not turn
 * images, as the reference's PIL.Image.open does not. */
bool image_decode_memory_upright (const uint8_t *buf, size_t len, HnImage *out, HnError *err);
bool image_decode_file_upright (const char *path, HnImage *out, HnError *err);
