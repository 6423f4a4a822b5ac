#include "jpeg.h"

#include <string.h>
#include <turbojpeg.h>

bool
jpeg_open (HnJpeg *j, HnError *err)
{
  j->tj = tjInitDecompress ();
  return j->tj != NULL || hn_error_set (err, "out of memory (JPEG decoder)");
}

void
jpeg_close (HnJpeg *j)
{
  if (j->tj != NULL)
    tjDestroy (j->tj);
  j->tj = NULL;
}

/* Fills err, then replaces the handle: TurboJPEG 2.1 leaves it mid-header after a failure,
 * and the next file would fail with "two SOI markers". */
static bool
failed (HnJpeg *j, bool truncated, HnError *err)
{
  if (truncated)
    hn_error_set (err, "truncated JPEG: the file ends before the image does");
  else
    hn_error_set (err, "damaged JPEG (%s)", tjGetErrorStr2 (j->tj));
  tjDestroy (j->tj);
  j->tj = tjInitDecompress ();
  return false;
}

bool
jpeg_read_header (HnJpeg *j, const uint8_t *buf, size_t len, int *w, int *h, bool *cmyk,
                  HnError *err)
{
  int subsamp, colorspace;
  if (j->tj == NULL)
    return hn_error_set (err, "out of memory (JPEG decoder)");
  if (tjDecompressHeader3 (j->tj, buf, (unsigned long) len, w, h, &subsamp, &colorspace) != 0)
    return failed (j, false, err);
  *cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  return true;
}

bool
jpeg_read_pixels (HnJpeg *j, const uint8_t *buf, size_t len, uint8_t *rgb, int w, int h,
                  HnError *err)
{
  /* Flags 0 = Pillow's settings: accurate integer IDCT, fancy upsampling. LIMITSCANS refuses
   * progressive files of over 500 scans, a way to make a small file decode for minutes. */
  if (tjDecompress2 (j->tj, buf, (unsigned long) len, rgb, w, 0, h, TJPF_RGB, TJFLAG_LIMITSCANS)
      == 0)
    return true;
  /* Refused: data that ends early (libjpeg pads it with grey; Pillow refuses it too, "image
   * file is truncated"), and any other failure or warning (damaged data comes out as garbled
   * pixels). TurboJPEG 2.1 reports a fatal error that follows a warning as a warning, so the
   * message decides, not tjGetErrorCode. Kept: stray bytes before a marker. UTKFace's 20,762
   * files raise no warning at all. */
  const char *why = tjGetErrorStr2 (j->tj);
  if (strstr (why, "Premature end of JPEG file") != NULL)
    return failed (j, true, err);
  if (tjGetErrorCode (j->tj) != TJERR_WARNING || strstr (why, "extraneous bytes") == NULL)
    return failed (j, false, err);
  return true;
}
