#include "utf8.h"

#include <stdint.h>
#include <string.h>

/* The length of the valid UTF-8 character at p (1…4), or 0 when p does not start one. */
static int
valid_char (const unsigned char *p)
{
  int len = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
  uint32_t cp = len == 1 ? *p : len == 2 ? *p & 0x1F : len == 3 ? *p & 0x0F : *p & 0x07;
  for (int i = 1; i < len; i++) /* a NUL is not a continuation byte: never reads past it */
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    else
      cp = cp << 6 | (p[i] & 0x3F);
  static const uint32_t least[5] = { 0, 0, 0x80, 0x800, 0x10000 };
  if (len == 0 || cp < least[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
    return 0;
  return len;
}

size_t
utf8_copy_valid (char *dst, size_t cap, const char *src)
{
  const unsigned char *p = (const unsigned char *) src;
  size_t n = 0;
  while (*p != '\0')
    {
      int len = valid_char (p);
      const void *from = len > 0 ? (const void *) p : "\xEF\xBF\xBD";
      size_t bytes = len > 0 ? (size_t) len : 3;
      if (n + bytes >= cap)
        break;
      memcpy (dst + n, from, bytes);
      n += bytes;
      p += len > 0 ? len : 1;
    }
  dst[n] = '\0';
  return n;
}
