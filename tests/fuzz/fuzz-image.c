/* fuzz-image.c — image files as a dropped photo and a data set's file are read:
 * image_decode_memory_upright (JPEG through TurboJPEG, PNG, BMP and GIF through stb_image,
 * EXIF orientation), then image_crop_resize and image_input at small sizes; and the same bytes
 * through one HnDecoder kept from input to input, as a data set's decoding thread keeps it.
 * Images declaring huge dimensions must be refused by the engine (image_check_size), not here:
 * run it with a modest -max_len so that each input stays fast. */
#include "fuzz.h"

#include <stdlib.h>

#include "image.h"

const char fuzz_target_name[] = "image";

static void
check_image (const HnImage *img)
{
  HnError err;
  FUZZ_CHECK (img->rgb != NULL && image_check_size (img->w, img->h, &err));
  uint8_t small[7 * 7 * 3];
  float input[3 * 16 * 16];
  FUZZ_CHECK (image_crop_resize (img, 7, small, &err));
  FUZZ_CHECK (image_input (img, 16, input, &err));
  for (int i = 0; i < 3 * 16 * 16; i++)
    FUZZ_CHECK (input[i] > -3.0f && input[i] < 3.0f); /* (v/255 − mean) / std, ImageNet's */
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  static HnDecoder decoder; /* zeroed: ready, its JPEG decoder made on the first JPEG */
  HnImage img;
  HnError err = { { 0 } };
  if (image_decode_memory_upright (data, size, &img, &err))
    {
      check_image (&img);
      image_clear (&img);
    }
  else
    FUZZ_CHECK (err.message[0] != '\0' && img.rgb == NULL);
  fuzz_note (err.message);

  err = (HnError){ { 0 } };
  if (image_decoder_decode (&decoder, data, size, &err))
    check_image (&decoder.img);
  else
    FUZZ_CHECK (err.message[0] != '\0' && decoder.img.w == 0 && decoder.img.h == 0);
  return 0;
}
