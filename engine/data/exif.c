/* exif.c — the orientation tag of a JPEG's Exif segment, and images turned by it. */
#include "exif.h"

#include <stdlib.h>
#include <string.h>

/* A TIFF integer of n bytes at p, in the byte order the TIFF header named. */
static uint32_t
tiff_uint (const uint8_t *p, int n, bool big)
{
  uint32_t v = 0;
  for (int i = 0; i < n; i++)
    v |= (uint32_t) p[big ? i : n - 1 - i] << (8 * (n - 1 - i));
  return v;
}

/* The orientation in a TIFF block (the Exif payload after "Exif\0\0"): IFD0's tag 0x0112. */
static int
tiff_orientation (const uint8_t *t, size_t len)
{
  if (len < 8)
    return 1;
  bool big;
  if (memcmp (t, "MM\0*", 4) == 0)
    big = true;
  else if (memcmp (t, "II*\0", 4) == 0)
    big = false;
  else
    return 1;
  uint32_t ifd = tiff_uint (t + 4, 4, big);
  if (ifd > len - 2)
    return 1;
  uint32_t count = tiff_uint (t + ifd, 2, big);
  for (uint32_t i = 0; i < count; i++)
    {
      size_t entry = ifd + 2 + (size_t) i * 12;
      if (entry + 12 > len)
        return 1;
      const uint8_t *e = t + entry;
      /* type 3 is SHORT: the value sits in the entry's first two value bytes */
      if (tiff_uint (e, 2, big) == 0x0112 && tiff_uint (e + 2, 2, big) == 3
          && tiff_uint (e + 4, 4, big) >= 1)
        {
          uint32_t v = tiff_uint (e + 8, 2, big);
          return v >= 1 && v <= 8 ? (int) v : 1;
        }
    }
  return 1;
}

int
exif_orientation (const uint8_t *buf, size_t len)
{
  if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
    return 1;
  /* Markers up to the first scan: each FF xx followed by a big-endian length that counts
   * itself. Exif must come early, in APP1 (FF E1). */
  size_t p = 2;
  while (p + 4 <= len)
    {
      if (buf[p] != 0xFF)
        return 1;
      uint8_t marker = buf[p + 1];
      if (marker == 0xFF) /* fill byte */
        {
          p++;
          continue;
        }
      if (marker == 0xDA || marker == 0xD9) /* start of scan, end of image */
        return 1;
      size_t seg = ((size_t) buf[p + 2] << 8) | buf[p + 3];
      if (seg < 2 || p + 2 + seg > len)
        return 1;
      const uint8_t *body = buf + p + 4;
      if (marker == 0xE1 && seg >= 8 && memcmp (body, "Exif\0\0", 6) == 0)
        return tiff_orientation (body + 6, seg - 8);
      p += 2 + seg;
    }
  return 1;
}

void
exif_map_point (int orientation, int w, int h, int x, int y, int *ux, int *uy)
{
  switch (orientation)
    {
    case 2: *ux = w - 1 - x, *uy = y; break;
    case 3: *ux = w - 1 - x, *uy = h - 1 - y; break;
    case 4: *ux = x, *uy = h - 1 - y; break;
    case 5: *ux = y, *uy = x; break;
    case 6: *ux = h - 1 - y, *uy = x; break;
    case 7: *ux = h - 1 - y, *uy = w - 1 - x; break;
    case 8: *ux = y, *uy = w - 1 - x; break;
    default: *ux = x, *uy = y; break;
    }
}

bool
image_orient (HnImage *img, int orientation, HnError *err)
{
  if (orientation < 2 || orientation > 8)
    return true;
  const int w = img->w, h = img->h;
  const bool swap = orientation >= 5;
  const int uw = swap ? h : w;
  uint8_t *rgb = malloc ((size_t) w * h * 3);
  if (rgb == NULL)
    return hn_error_set (err, "out of memory turning a %d×%d image upright", w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int ux, uy;
        exif_map_point (orientation, w, h, x, y, &ux, &uy);
        memcpy (rgb + ((size_t) uy * uw + ux) * 3, img->rgb + ((size_t) y * w + x) * 3, 3);
      }
  free (img->rgb);
  img->rgb = rgb;
  img->w = uw;
  img->h = swap ? w : h;
  return true;
}
