#include "augment.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clocale.h"
#include "image.h"
#include "input.h"
#include "rng.h"

#define STREAM_AUGMENT 0x41554721ULL /* "AUG!": the seed's stream for augmentation */

bool
augment_is_none (const HnAugment *a)
{
  return !a->flip && a->crop == 0 && a->rotate == 0 && a->brightness == 0 && a->contrast == 0
         && a->saturation == 0;
}

uint64_t
augment_seed (uint64_t seed, int epoch, int item)
{
  return rng_splitmix64 (seed ^ STREAM_AUGMENT, ((uint64_t) (uint32_t) epoch << 32) | (uint32_t) item);
}

/* What one image's draws came to: where each output pixel samples the source, and the
 * colour changes. */
typedef struct
{
  float cx, cy;     /* the crop's centre, in source pixels */
  float ux, uy;     /* source displacement per output pixel along x (rotated, flipped) */
  float vx, vy;     /* and along y */
  float brightness, contrast, saturation;
} Draw;

static float
jitter (HnRng *rng, float x)
{
  return x > 0 ? (float) (1.0 - x + 2.0 * x * rng_uniform (rng)) : 1.0f;
}

static Draw
draw (const HnAugment *a, int size, uint64_t seed)
{
  HnRng rng = { .seed = seed };
  const bool flip = a->flip && rng_below (&rng, 2);
  float w = (float) size, h = (float) size;
  if (a->crop > 0)
    {
      double area = 1.0 - a->crop * rng_uniform (&rng);
      double log_r = log (1.0 + a->aspect), r = exp ((2 * rng_uniform (&rng) - 1) * log_r);
      w = (float) fmin (size * sqrt (area * r), size);
      h = (float) fmin (size * sqrt (area / r), size);
    }
  Draw d = { .cx = (float) (w / 2 + rng_uniform (&rng) * (size - w)),
             .cy = (float) (h / 2 + rng_uniform (&rng) * (size - h)) };
  const double angle = a->rotate > 0 ? (2 * rng_uniform (&rng) - 1) * a->rotate * M_PI / 180 : 0;
  const float c = (float) cos (angle), s = (float) sin (angle);
  const float sx = (flip ? -w : w) / size, sy = h / size;
  d.ux = c * sx, d.uy = s * sx;
  d.vx = -s * sy, d.vy = c * sy;
  d.brightness = jitter (&rng, a->brightness);
  d.contrast = jitter (&rng, a->contrast);
  d.saturation = jitter (&rng, a->saturation);
  return d;
}

/* Bilinear sample of channel c at (fx, fy) in pixel-centre coordinates, edges repeated. */
static float
sample (const uint8_t *rgb, int size, float fx, float fy, int c)
{
  fx = fminf (fmaxf (fx, 0.0f), (float) (size - 1));
  fy = fminf (fmaxf (fy, 0.0f), (float) (size - 1));
  int x0 = (int) fx, y0 = (int) fy;
  int x1 = x0 + 1 < size ? x0 + 1 : x0, y1 = y0 + 1 < size ? y0 + 1 : y0;
  float ax = fx - x0, ay = fy - y0;
  float top = rgb[(y0 * size + x0) * 3 + c] * (1 - ax) + rgb[(y0 * size + x1) * 3 + c] * ax;
  float bottom = rgb[(y1 * size + x0) * 3 + c] * (1 - ax) + rgb[(y1 * size + x1) * 3 + c] * ax;
  return top * (1 - ay) + bottom * ay;
}

/* ITU-R 601 luma, as PIL's convert("L") and torchvision's rgb_to_grayscale. */
static float
luma (float r, float g, float b)
{
  return 0.299f * r + 0.587f * g + 0.114f * b;
}

void
augment_image (const uint8_t *rgb, int size, const HnAugment *a, uint64_t seed, float *dst)
{
  if (augment_is_none (a))
    {
      image_normalize (rgb, size, dst);
      return;
    }
  const Draw d = draw (a, size, seed);
  const size_t plane = (size_t) size * size;
  double gray_sum = 0;
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        const float u = x + 0.5f - size / 2.0f, v = y + 0.5f - size / 2.0f;
        const float fx = d.cx + u * d.ux + v * d.vx - 0.5f, fy = d.cy + u * d.uy + v * d.vy - 0.5f;
        float px[3];
        for (int c = 0; c < 3; c++)
          px[c] = fminf (sample (rgb, size, fx, fy, c) / 255.0f * d.brightness, 1.0f);
        for (int c = 0; c < 3; c++)
          dst[c * plane + (size_t) y * size + x] = px[c];
        gray_sum += luma (px[0], px[1], px[2]);
      }
  const float mean = (float) (gray_sum / plane);
  const bool jitter_colour = d.contrast != 1.0f || d.saturation != 1.0f;
  for (size_t i = 0; i < plane; i++)
    {
      if (!jitter_colour)
        {
          for (int c = 0; c < 3; c++)
            dst[c * plane + i] = (dst[c * plane + i] - input_mean[c]) / input_std[c];
          continue;
        }
      float px[3];
      for (int c = 0; c < 3; c++)
        px[c] = fminf (fmaxf ((dst[c * plane + i] - mean) * d.contrast + mean, 0.0f), 1.0f);
      const float g = luma (px[0], px[1], px[2]);
      for (int c = 0; c < 3; c++)
        {
          const float v = fminf (fmaxf ((px[c] - g) * d.saturation + g, 0.0f), 1.0f);
          dst[c * plane + i] = (v - input_mean[c]) / input_std[c];
        }
    }
}

/* ---- names ---- */

typedef struct
{
  const char *name;
  float fallback, max; /* the value without "=X", and the largest one taken */
  size_t offset;       /* of the float in HnAugment */
} Knob;

static const Knob knobs[] = {
  { "crop", 0.3f, 0.95f, offsetof (HnAugment, crop) },
  { "aspect", 0.33f, 3.0f, offsetof (HnAugment, aspect) },
  { "rotate", 10.0f, 45.0f, offsetof (HnAugment, rotate) },
  { "brightness", 0.2f, 0.95f, offsetof (HnAugment, brightness) },
  { "contrast", 0.2f, 0.95f, offsetof (HnAugment, contrast) },
  { "saturation", 0.2f, 0.95f, offsetof (HnAugment, saturation) },
};

#define N_KNOBS ((int) (sizeof knobs / sizeof knobs[0]))

static float *
knob (HnAugment *a, int k)
{
  return (float *) ((char *) a + knobs[k].offset);
}

/* Sets knob k to value (NAN: its fallback) if in range. */
static bool
set_knob (HnAugment *a, int k, float value)
{
  if (isnan (value))
    value = knobs[k].fallback;
  if (!(value >= 0 && value <= knobs[k].max))
    return false;
  *knob (a, k) = value;
  return true;
}

/* One "name" or "name=value" of the list, spaces around it ignored. */
static bool
parse_one (char *tok, HnAugment *a)
{
  while (*tok == ' ')
    tok++;
  for (char *end = tok + strlen (tok); end > tok && end[-1] == ' ';)
    *--end = '\0';
  char *eq = strchr (tok, '=');
  float value = NAN;
  if (eq != NULL)
    {
      char *end;
      *eq = '\0';
      value = strtof (eq + 1, &end);
      if (end == eq + 1 || *end != '\0' || isnan (value))
        return false;
    }
  if (strcmp (tok, "flip") == 0)
    {
      a->flip = true;
      return eq == NULL;
    }
  if (strcmp (tok, "color") == 0) /* the three jitters at once */
    return set_knob (a, 3, value) && set_knob (a, 4, value) && set_knob (a, 5, value);
  for (int k = 0; k < N_KNOBS; k++)
    if (strcmp (tok, knobs[k].name) == 0)
      return set_knob (a, k, value);
  return false;
}

bool
augment_from_names (const char *names, HnAugment *a)
{
  *a = (HnAugment) { 0 };
  if (strcmp (names, "none") == 0)
    return true;
  char copy[160];
  if (snprintf (copy, sizeof copy, "%s", names) >= (int) sizeof copy)
    return false;
  locale_t previous = c_locale_enter ();
  bool ok = true;
  for (char *save, *tok = strtok_r (copy, ",", &save); ok && tok; tok = strtok_r (NULL, ",", &save))
    ok = parse_one (tok, a);
  c_locale_leave (previous);
  return ok;
}

void
augment_to_names (const HnAugment *a, char *buf, int len)
{
  locale_t previous = c_locale_enter ();
  int used = snprintf (buf, (size_t) len, "%s", a->flip ? "flip" : "");
  for (int k = 0; k < N_KNOBS; k++)
    {
      float v = *knob ((HnAugment *) a, k);
      if (v != 0 && used < len)
        used += snprintf (buf + used, (size_t) (len - used), "%s%s=%g", used ? "," : "",
                          knobs[k].name, v);
    }
  if (used == 0)
    snprintf (buf, (size_t) len, "none");
  c_locale_leave (previous);
}
