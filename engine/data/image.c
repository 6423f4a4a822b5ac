/* image.c — the one way an image file becomes pixels (libjpeg-turbo for JPEGs, stb_image for
 * the rest), and the reference's preprocessing, bit for bit.
 *
 * The resize is Pillow 9.4's 8-bit resampler (libImaging/Resample.c) specialised to BILINEAR
 * and to a square: same double-precision coefficients, same fixed-point rounding, same
 * horizontal-then-vertical order through an 8-bit intermediate. Any deviation, even one
 * rounding done differently, changes some output bytes, so the code keeps Pillow's exact
 * expressions and evaluation order; tests/test-image.c compares against Pillow's output.
 */
#include "image.h"
#include "exif.h"

#include "fileio.h"
#include "input.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libstb already holds the implementation; we set none of its global flags, so decoding is
 * safe from several threads (its failure reason is thread-local). */
#include <stb_image.h>

/* Pillow's fixed point: 8 bits of pixel, 2 bits of headroom, 22 bits of fraction. Sums start
 * at HALF so that the final shift rounds to nearest. */
#define PRECISION_BITS (32 - 8 - 2)
#define HALF (1 << (PRECISION_BITS - 1))

static bool
refuse_byte_count (unsigned long long bytes, HnError *err)
{
  return hn_error_set (err, "%llu bytes is over the %u MiB limit for an image file", bytes,
                       IMAGE_MAX_FILE_BYTES >> 20);
}

/* False, with a message, unless w×h is within IMAGE_MAX_SIDE and IMAGE_MAX_PIXELS (and not
 * empty: stb_image decodes a BMP whose header says 0 wide). */
static bool
within_limits (unsigned w, unsigned h, HnError *err)
{
  if (w == 0 || h == 0)
    return hn_error_set (err, "empty image (%u×%u pixels)", w, h);
  if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
    return hn_error_set (err, "%u×%u pixels is larger than the %d-pixel limit", w, h,
                         IMAGE_MAX_SIDE);
  if ((uint64_t) w * h > IMAGE_MAX_PIXELS)
    return hn_error_set (err, "%u×%u pixels is more than the %u-megapixel limit", w, h,
                         IMAGE_MAX_PIXELS >> 20);
  return true;
}

bool
image_check_size (int w, int h, HnError *err)
{
  if (w < 0 || h < 0)
    return hn_error_set (err, "damaged image: %d×%d pixels", w, h);
  return within_limits ((unsigned) w, (unsigned) h, err);
}

static unsigned
be16 (const uint8_t *p)
{
  return (unsigned) p[0] << 8 | p[1];
}

static unsigned
be32 (const uint8_t *p)
{
  return be16 (p) << 16 | be16 (p + 2);
}

/* The offset just past a JPEG's start-of-image marker, or 0 if buf is not a JPEG. Like stb,
 * accepts fill bytes: any run of FF before the D8. */
static size_t
jpeg_start (const uint8_t *buf, size_t len)
{
  size_t i = 0;
  while (i < len && buf[i] == 0xFF)
    i++;
  return i > 0 && i < len && buf[i] == 0xD8 ? i + 1 : 0;
}

static bool
is_png (const uint8_t *buf, size_t len)
{
  return len >= 8 && memcmp (buf, "\x89PNG\r\n\x1a\n", 8) == 0;
}

/* The formats we need and test, by their signatures. stb_image 2.27 also reads PNM, TGA,
 * PSD, PIC and HDR: less-travelled code with bugs on hostile files (its 16-bit PNM path
 * reads past its buffer), kept away from it. None of their signatures can pass for these. */
static bool
is_known_format (const uint8_t *buf, size_t len)
{
  return jpeg_start (buf, len) > 0 || is_png (buf, len) || (len >= 2 && memcmp (buf, "BM", 2) == 0)
         || (len >= 6 && (memcmp (buf, "GIF87a", 6) == 0 || memcmp (buf, "GIF89a", 6) == 0));
}

/* The size a PNG or JPEG header claims, read without stb_image (see image_decode_memory). */
static bool
header_size (const uint8_t *buf, size_t len, unsigned *w, unsigned *h)
{
  /* PNG: 8-byte signature, then the IHDR chunk: length, "IHDR", width, height (big-endian). */
  if (len >= 24 && is_png (buf, len) && memcmp (buf + 12, "IHDR", 4) == 0)
    {
      *w = be32 (buf + 16);
      *h = be32 (buf + 20);
      return true;
    }
  /* JPEG: SOI, then segments FF xx + 16-bit length, up to a start of frame (C0–CF except
   * C4 DHT, C8 JPG, CC DAC) whose payload is precision, height, width. */
  size_t start = jpeg_start (buf, len);
  if (start == 0)
    return false;
  for (size_t i = start; i + 9 <= len && buf[i] == 0xFF; i += 2 + be16 (buf + i + 2))
    {
      uint8_t m = buf[i + 1];
      if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
        {
          *h = be16 (buf + i + 5);
          *w = be16 (buf + i + 7);
          return true;
        }
    }
  return false;
}

/* buf[k], or 0 past the end, which is what stb_image reads there. */
static unsigned
byte_at (const uint8_t *buf, size_t len, size_t k)
{
  return k < len ? buf[k] : 0;
}

/* stb_image 2.27 (Debian 12's libstb) trusts a JPEG's Huffman tables, which hostile or
 * damaged files abuse in two ways, so both are refused before stb sees the file:
 *  - a table's sixteen code counts are summed (up to 4080) and that many entries written into
 *    257-entry arrays (stb 2.28 checks the sum);
 *  - a scan may use a table no DHT segment defined: stb then decodes with uninitialised heap
 *    memory and, depending on what the heap held, reads out of bounds or fails an assert(),
 *    which aborts the whole process.
 * Markers are walked as stb walks them: segments FF xx + 16-bit length (counting itself) are
 * skipped whole; entropy-coded data is scanned for the next marker, where FF 00 (a stuffed
 * FF), FF FF (fill) and FF D0–D7 (restarts) do not count. NULL when the tables are sound. */
static const char *
jpeg_table_problem (const uint8_t *buf, size_t len)
{
  unsigned defined = 0; /* bit 4·class + id for each table defined so far (class 0 DC, 1 AC) */
  bool progressive = false;
  size_t i = jpeg_start (buf, len);
  while (i > 0 && i + 4 <= len)
    {
      uint8_t m = buf[i + 1];
      if (buf[i] != 0xFF || m == 0xFF)
        i++;
      else if (m == 0x00 || (m >= 0xD0 && m <= 0xD7))
        i += 2;
      else if (m == 0xD9) /* end of image */
        break;
      else
        {
          size_t end = i + 2 + be16 (buf + i + 2);
          progressive |= m == 0xC2;
          /* DHT: tables of class·16 + id, 16 counts, then that many symbols; stb reads
           * another table while any of the segment remains. */
          for (size_t t = i + 4; m == 0xC4 && t < end && t < len;)
            {
              unsigned q = buf[t], n = 0;
              for (size_t b = t + 1; b <= t + 16; b++)
                n += byte_at (buf, len, b);
              if (n > 256)
                return "a Huffman table lists more than 256 codes";
              if (q >> 4 <= 1 && (q & 15) <= 3) /* stb refuses other ids */
                defined |= 1u << ((q >> 4) * 4 + (q & 15));
              t += 17 + n;
            }
          /* SOS: count, then (component, DC·16 + AC table) each, then Ss, Se, Ah·16 + Al.
           * Sequential scans use both tables; progressive ones the DC table in a first DC
           * scan (Ss = Ah = 0), none in a DC refinement, the AC table in AC scans (Ss > 0). */
          if (m == 0xDA)
            {
              unsigned ns = byte_at (buf, len, i + 4);
              unsigned ss = byte_at (buf, len, i + 5 + 2 * ns);
              unsigned ah = byte_at (buf, len, i + 7 + 2 * ns) >> 4;
              bool dc = !progressive || (ss == 0 && ah == 0), ac = !progressive || ss > 0;
              for (unsigned c = 0; c < ns; c++)
                {
                  unsigned q = byte_at (buf, len, i + 6 + 2 * c);
                  bool dc_ok = defined >> (q >> 4) & 1, ac_ok = defined >> (4 + (q & 15)) & 1;
                  if ((dc && !dc_ok) || (ac && !ac_ok))
                    return "a scan uses a Huffman table that was never defined";
                }
            }
          i = end;
        }
    }
  return NULL;
}

/* Makes d->img.rgb hold at least `bytes`, growing it if need be. */
static bool
reserve (HnDecoder *d, size_t bytes)
{
  if (bytes <= d->cap)
    return true;
  uint8_t *p = realloc (d->img.rgb, bytes);
  if (p == NULL)
    return false;
  d->img.rgb = p;
  d->cap = bytes;
  return true;
}

/* A JPEG through libjpeg-turbo, as Pillow decodes it (jpeg.h), into d->img. *done is false
 * for the CMYK files TurboJPEG leaves to stb. */
static bool
decode_jpeg (HnDecoder *d, const uint8_t *buf, size_t len, bool *done, HnError *err)
{
  int w, h;
  bool cmyk = false;
  *done = true;
  if ((d->jpeg.tj == NULL && !jpeg_open (&d->jpeg, err))
      || !jpeg_read_header (&d->jpeg, buf, len, &w, &h, &cmyk, err))
    return false;
  if (cmyk)
    return *done = false;
  if (!image_check_size (w, h, err))
    return false;
  if (!reserve (d, (size_t) w * h * 3))
    return hn_error_set (err, "out of memory decoding a %d×%d image", w, h);
  if (!jpeg_read_pixels (&d->jpeg, buf, len, d->img.rgb, w, h, err))
    return false;
  d->img.w = w;
  d->img.h = h;
  return true;
}

static const char *
stb_reason (void)
{
  const char *reason = stbi_failure_reason ();
  return reason != NULL ? reason : "no reason given";
}

bool
image_decoder_init (HnDecoder *d, HnError *err)
{
  *d = (HnDecoder){ 0 };
  return jpeg_open (&d->jpeg, err);
}

void
image_decoder_clear (HnDecoder *d)
{
  jpeg_close (&d->jpeg);
  free (d->img.rgb);
  *d = (HnDecoder){ 0 };
}

bool
image_decoder_decode (HnDecoder *d, const uint8_t *buf, size_t len, HnError *err)
{
  d->img.w = d->img.h = 0;
  if (len == 0)
    return hn_error_set (err, "empty file");
  if (len > IMAGE_MAX_FILE_BYTES) /* also keeps len within stb_image's int */
    return refuse_byte_count (len, err);
  if (!is_known_format (buf, len))
    return hn_error_set (err, "not a JPEG, PNG, BMP or GIF image");
  const char *problem = jpeg_table_problem (buf, len);
  if (problem != NULL)
    return hn_error_set (err, "damaged JPEG: %s", problem);
  if (jpeg_start (buf, len) > 0)
    {
      bool done = false, ok = decode_jpeg (d, buf, len, &done, err);
      if (done)
        return ok;
    }

  /* The header alone: a few bytes can claim 100000×100000, so check before stb allocates. */
  int w, h, channels;
  if (!stbi_info_from_memory (buf, (int) len, &w, &h, &channels))
    {
      /* stbi_info's only reason is "unknown image type", even for a PNG or JPEG it merely
       * finds too large (over 2^30 or INT_MAX bytes decoded): read those sizes ourselves. */
      unsigned hw, hh;
      if (header_size (buf, len, &hw, &hh) && !within_limits (hw, hh, err))
        return false;
      return hn_error_set (err, "damaged image header");
    }
  if (!within_limits ((unsigned) w, (unsigned) h, err))
    return false;

  /* 3 requested channels: grey is replicated, alpha dropped, 16-bit samples keep their high
   * byte. stb allocates with malloc (STBI_MALLOC's default), so its buffer becomes d's. */
  uint8_t *rgb = stbi_load_from_memory (buf, (int) len, &w, &h, &channels, 3);
  if (rgb == NULL)
    return hn_error_set (err, "damaged or truncated image (stb_image: %s)", stb_reason ());
  free (d->img.rgb);
  d->img = (HnImage){ .w = w, .h = h, .rgb = rgb };
  d->cap = (size_t) w * h * 3;
  return true;
}

bool
image_decode_memory (const uint8_t *buf, size_t len, HnImage *out, HnError *err)
{
  HnDecoder d = { 0 };
  bool ok = image_decoder_decode (&d, buf, len, err);
  *out = ok ? d.img : (HnImage){ 0 };
  if (ok)
    d.img.rgb = NULL; /* now the caller's */
  image_decoder_clear (&d);
  return ok;
}

bool
image_decode_memory_upright (const uint8_t *buf, size_t len, HnImage *out, HnError *err)
{
  if (!image_decode_memory (buf, len, out, err))
    return false;
  if (image_orient (out, exif_orientation (buf, len), err))
    return true;
  image_clear (out);
  return false;
}

static bool
decode_file_with (bool (*decode) (const uint8_t *, size_t, HnImage *, HnError *),
                  const char *path, HnImage *out, HnError *err)
{
  HnBytes buf = { 0 };
  *out = (HnImage){ 0 };
  bool ok = file_read (AT_FDCWD, path, IMAGE_MAX_FILE_BYTES, "an image file", &buf, err)
            && decode (buf.data, buf.len, out, err);
  bytes_clear (&buf);
  return ok || hn_error_prefix (err, "%s", path);
}

bool
image_decode_file (const char *path, HnImage *out, HnError *err)
{
  return decode_file_with (image_decode_memory, path, out, err);
}

bool
image_decode_file_upright (const char *path, HnImage *out, HnError *err)
{
  return decode_file_with (image_decode_memory_upright, path, out, err);
}

void
image_clear (HnImage *img)
{
  free (img->rgb); /* stb_image allocates with malloc too (STBI_MALLOC's default) */
  *img = (HnImage){ 0 };
}

/* Output sample o of a resampled axis reads inputs [first, first + count). */
typedef struct
{
  int first, count;
} Taps;

/* Pillow's BILINEAR filter: the triangle 1 − |x| on (−1, 1). */
static double
triangle (double x)
{
  x = fabs (x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* Coefficients per output sample, as many as any sample may need: Pillow's ksize. */
static int
coeff_stride (int in, int out)
{
  double scale = (double) in / out;
  double support = scale > 1.0 ? scale : 1.0; /* triangle support 1, stretched when shrinking */
  return (int) ceil (support) * 2 + 1;
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for in → out samples along one axis.
 * taps (out), k (out, stride): fixed-point weights summing to ≈ 1 << PRECISION_BITS.
 *
 * Sample o is centred at input coordinate c = (o + ½)·in/out; input i (centred at i + ½)
 * weighs triangle((i + ½ − c) / filterscale), where filterscale = max(in/out, 1) widens the
 * filter when shrinking so that it averages (antialiases) rather than skips. Weights are
 * normalised in double, then rounded half up to 22 fractional bits. All weights are ≥ 0,
 * so Pillow's round-half-down branch for negative weights never applies. */
static void
bilinear_coeffs (int in, int out, int stride, Taps *taps, int32_t *k)
{
  double scale = (double) in / out;
  double filterscale = scale > 1.0 ? scale : 1.0;
  double support = filterscale;
  double ss = 1.0 / filterscale; /* Pillow multiplies by this rather than dividing */

  for (int o = 0; o < out; o++)
    {
      double center = (o + 0.5) * scale;
      /* (int) truncates toward zero, as in Pillow; the clamps then bound the window. */
      int first = (int) (center - support + 0.5);
      int last = (int) (center + support + 0.5);
      if (first < 0)
        first = 0;
      if (last > in)
        last = in;
      int count = last - first;

      /* The nearest input always weighs > 0, so ww > 0 (Pillow checks anyway). */
      double ww = 0.0;
      for (int i = 0; i < count; i++)
        ww += triangle ((i + first - center + 0.5) * ss);
      for (int i = 0; i < count; i++)
        {
          double w = triangle ((i + first - center + 0.5) * ss) / ww;
          k[(size_t) o * stride + i] = (int32_t) (0.5 + w * (1 << PRECISION_BITS));
        }
      taps[o] = (Taps){ first, count };
    }
}

/* Fixed-point sum → byte. Sums are ≥ 0 (weights and pixels are), so only the top needs
 * clamping: rounded weights may sum to a little over 1. */
static inline uint8_t
clip8 (int32_t acc)
{
  int32_t v = acc >> PRECISION_BITS;
  return v > 255 ? 255 : (uint8_t) v;
}

bool
image_crop_resize (const HnImage *src, int size, uint8_t *dst, HnError *err)
{
  HN_ASSERT (src->w > 0 && src->h > 0 && size > 0 && size <= IMAGE_MAX_SIDE);

  /* The centre square, as PIL's crop((l, t, l + s, t + s)): read in place, never copied. */
  int s = src->w < src->h ? src->w : src->h;
  const uint8_t *crop = src->rgb + ((size_t) ((src->h - s) / 2) * src->w + (src->w - s) / 2) * 3;
  size_t src_row = (size_t) src->w * 3, dst_row = (size_t) size * 3;

  if (s == size) /* the reference skips resize() then: an exact copy */
    {
      for (int y = 0; y < size; y++)
        memcpy (dst + y * dst_row, crop + y * src_row, dst_row);
      return true;
    }

  /* Both axes map s → size, so one table of coefficients serves both passes. The vertical
   * pass reads only source rows [row0, row1), so the horizontal pass makes only those (as
   * Pillow's ybox does; the other rows would be discarded anyway).
   *   taps (size) · k (size, stride) · tmp (row1 − row0 ≤ s, size, 3) */
  int stride = coeff_stride (s, size);
  size_t taps_bytes = (size_t) size * sizeof (Taps);
  size_t k_bytes = (size_t) size * stride * sizeof (int32_t);
  uint8_t *scratch = malloc (taps_bytes + k_bytes + (size_t) s * dst_row);
  if (scratch == NULL)
    return hn_error_set (err, "out of memory resizing a %d×%d image", src->w, src->h);
  Taps *taps = (Taps *) scratch;
  int32_t *k = (int32_t *) (scratch + taps_bytes);
  uint8_t *tmp = scratch + taps_bytes + k_bytes;
  bilinear_coeffs (s, size, stride, taps, k);
  int row0 = taps[0].first;
  int row1 = taps[size - 1].first + taps[size - 1].count;

  /* Horizontal: tmp[y − row0][o] = Σ_i crop[y][first_o + i] · k[o][i]. */
  for (int y = row0; y < row1; y++)
    {
      const uint8_t *in = crop + y * src_row;
      uint8_t *out = tmp + (y - row0) * dst_row;
      for (int o = 0; o < size; o++)
        {
          const int32_t *ko = k + (size_t) o * stride;
          const uint8_t *p = in + (size_t) taps[o].first * 3;
          int32_t acc[3] = { HALF, HALF, HALF };
          for (int i = 0; i < taps[o].count; i++)
            for (int c = 0; c < 3; c++)
              acc[c] += p[i * 3 + c] * ko[i];
          for (int c = 0; c < 3; c++)
            out[o * 3 + c] = clip8 (acc[c]);
        }
    }

  /* Vertical: dst[o][x] = Σ_i tmp[first_o + i − row0][x] · k[o][i]. */
  for (int o = 0; o < size; o++)
    {
      const int32_t *ko = k + (size_t) o * stride;
      const uint8_t *in = tmp + (taps[o].first - row0) * dst_row;
      for (size_t x = 0; x < dst_row; x++)
        {
          int32_t acc = HALF;
          for (int i = 0; i < taps[o].count; i++)
            acc += in[i * dst_row + x] * ko[i];
          dst[o * dst_row + x] = clip8 (acc);
        }
    }
  free (scratch);
  return true;
}

void
image_normalize (const uint8_t *rgb, int size, float *dst)
{
  size_t n = (size_t) size * size;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      {
        /* As the reference rounds: numpy's float32 / 255.0 stays float32, then torch's
         * float32 (x − mean) / std. Three roundings in this order, nothing fused. */
        float x = (float) rgb[i * 3 + c] / 255.0f;
        dst[c * n + i] = (x - input_mean[c]) / input_std[c];
      }
}

bool
image_input (const HnImage *img, int size, float *dst, HnError *err)
{
  uint8_t *rgb = malloc ((size_t) size * size * 3); /* (size, size, 3) */
  bool ok = rgb != NULL ? image_crop_resize (img, size, rgb, err)
                        : hn_error_set (err, "out of memory");
  if (ok)
    image_normalize (rgb, size, dst);
  free (rgb);
  return ok;
}

bool
image_load_input (const char *path, int size, float *dst, HnError *err)
{
  HnImage img;
  if (!image_decode_file (path, &img, err))
    return false;
  bool ok = image_input (&img, size, dst, err);
  image_clear (&img);
  return ok || hn_error_prefix (err, "%s", path);
}
