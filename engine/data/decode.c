/* decode.c — one file of a folder to S×S RGB: read whole (core/fileio.h), hashed (the copies
 * and the split key), decoded by image.h's decoder, centre-cropped and resized.
 *
 * Each decoding thread keeps its scratch: the file's buffer and a decoder whose TurboJPEG
 * handle and pixel buffer are reused from one file to the next.
 */
#include "dataset-private.h"

bool
decode_scratch_init (DecodeScratch *s)
{
  *s = (DecodeScratch){ 0 };
  return image_decoder_init (&s->decoder, NULL);
}

void
decode_scratch_clear (DecodeScratch *s)
{
  bytes_clear (&s->file);
  image_decoder_clear (&s->decoder);
}

bool
decode_scratch_broken (const DecodeScratch *s)
{
  return s->decoder.jpeg.tj == NULL;
}

bool
decode_entry (int dfd, FolderEntry *e, int size, DecodeScratch *s, uint8_t *dst, HnError *err)
{
  if (!file_read (dfd, e->name, IMAGE_MAX_FILE_BYTES, "an image file", &s->file, err))
    return false;
  sha1 (s->file.data, s->file.len, e->digest);
  return image_decoder_decode (&s->decoder, s->file.data, s->file.len, err)
         && image_crop_resize (&s->decoder.img, size, dst, err);
}
