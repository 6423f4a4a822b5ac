/* synth.c — the built-in synthetic faces.
 *
 * These faces are a teaching aid: a cartoon whose labels a network can learn, so that the
 * app and the CLI do something useful on a machine without UTKFace. They are not a
 * depiction of real groups of people. The race classes are tied only to things that are
 * not the person (the background's hue family and the clothing's pattern); skin tone, hair
 * and eye colour are drawn independently of every label.
 *
 * One face, from (seed, index, size):
 *  1. labels, from the stream splitmix64 (seed ^ LABEL_SALT, index): age from UTKFace's
 *     age histogram, gender 50/50, race class with UTKFace's frequencies;
 *  2. its look (Look), from a second stream: traits that follow the labels, each with its
 *     own noise, and nuisances (pose, expression, colours, light) that follow nothing;
 *  3. drawn at k× the target size (k = 2 from 64 px up, else enough for ≥ 128 px) as soft
 *     signed-distance shapes into a float canvas, then resized to size×size with
 *     image_crop_resize (Pillow's antialiased bilinear filter, the data loader's own);
 *  4. light gradient, colour cast, contrast and sensor noise at the target size.
 * The split key is the top 32 bits of splitmix64 (seed ^ SYNTH_SPLIT_SALT, index), a third
 * stream. The streams are separate so that labels and split keys do not change when the
 * drawing does, and every face is a pure function of its inputs: threads may draw them in
 * any order and the bytes are the same.
 *
 * Face coordinates: the head's centre near (0, 0), y down, one unit ≈ the frame's
 * half-width before the pose (a scale of ≈ 1.1, a rotation and an offset) maps them into
 * the frame [−1, 1]².
 */
#include "synth.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stb_image_write.h>

#include "image.h"
#include "rng.h"

#define LABEL_SALT 0x6C6162656C732D31ull /* "labels-1" */
#define LOOK_SALT 0x6C6F6F6B2D2D2D31ull  /* "look---1" */
#define NOISE_SALT 0x6E6F6973652D2D31ull /* "noise--1" */

#define JPEG_QUALITY 90
#define CHUNK 8 /* faces a worker takes at a time */

/* ---------------------------------------------------------------------------------------
 * Small maths
 */

static inline float
clampf (float x, float lo, float hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

static inline float
lerpf (float a, float b, float t)
{
  return a + (b - a) * t;
}

static inline float
smoothstepf (float e0, float e1, float x)
{
  float t = clampf ((x - e0) / (e1 - e0), 0.0f, 1.0f);
  return t * t * (3.0f - 2.0f * t);
}

static inline float
sigmoidf (float x)
{
  return 1.0f / (1.0f + expf (-x));
}

static float
uniform (HnRng *r, float lo, float hi)
{
  return lo + (hi - lo) * (float) rng_uniform (r);
}

static float
normal (HnRng *r, float mean, float sd)
{
  return mean + sd * (float) rng_normal (r);
}

static bool
chance (HnRng *r, float p)
{
  return rng_uniform (r) < p;
}

static void
mix3 (float *out, const float *a, const float *b, float t)
{
  for (int c = 0; c < 3; c++)
    out[c] = lerpf (a[c], b[c], t);
}

static void
scale3 (float *out, const float *a, float f)
{
  for (int c = 0; c < 3; c++)
    out[c] = clampf (a[c] * f, 0.0f, 1.0f);
}

/* h in degrees, s and v in [0, 1]. */
static void
hsv_to_rgb (float h, float s, float v, float *rgb)
{
  h = fmodf (h, 360.0f);
  if (h < 0.0f)
    h += 360.0f;
  float c = v * s, x = c * (1.0f - fabsf (fmodf (h / 60.0f, 2.0f) - 1.0f)), m = v - c;
  int sector = (int) (h / 60.0f) % 6;
  float r[6] = { c, x, 0, 0, x, c }, g[6] = { x, c, c, x, 0, 0 }, b[6] = { 0, 0, x, c, c, x };
  rgb[0] = r[sector] + m;
  rgb[1] = g[sector] + m;
  rgb[2] = b[sector] + m;
}

/* ---------------------------------------------------------------------------------------
 * Labels
 */

/* UTKFace's ages, per mille, in bins [edge[i], edge[i+1]); uniform within a bin. */
static const int age_edges[]
    = { 1, 2, 3, 4, 6, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 101 };
static const int age_weights[]
    = { 48, 21, 13, 20, 30, 25, 39, 97, 212, 97, 95, 49, 45, 56, 40, 31, 25, 16, 14, 10, 11, 7 };

/* UTKFace's race frequencies, per mille: white, black, asian, indian, other. */
static const int race_weights[] = { 425, 190, 147, 166, 72 };

void
synth_labels (uint64_t seed, uint32_t index, HnFaceLabels *labels)
{
  HnRng r = { rng_splitmix64 (seed ^ LABEL_SALT, index), 0 };
  int n_bins = (int) (sizeof age_weights / sizeof age_weights[0]), total = 0;
  for (int i = 0; i < n_bins; i++)
    total += age_weights[i];
  int pick = (int) rng_below (&r, (uint32_t) total), bin = 0;
  while (pick >= age_weights[bin])
    pick -= age_weights[bin++];
  int width = age_edges[bin + 1] - age_edges[bin];
  labels->age = (uint8_t) (age_edges[bin] + (int) rng_below (&r, (uint32_t) width));
  labels->gender = (uint8_t) rng_below (&r, 2);
  pick = (int) rng_below (&r, 1000);
  int race = 0;
  while (race < 4 && pick >= race_weights[race])
    pick -= race_weights[race++];
  labels->race = (uint8_t) race;
  labels->never_val = false;
  labels->split_key = (uint32_t) (rng_splitmix64 (seed ^ SYNTH_SPLIT_SALT, index) >> 32);
}

/* ---------------------------------------------------------------------------------------
 * The look of one face: every number the drawing needs, in face coordinates.
 */

typedef enum
{
  PATTERN_STRIPES,
  PATTERN_DOTS,
  PATTERN_PLAIN,
  PATTERN_PLAID,
  PATTERN_ZIGZAG,
  N_PATTERNS
} Pattern;

typedef enum
{
  BEARD_NONE,
  BEARD_STUBBLE,
  BEARD_FULL,
  BEARD_GOATEE,
  BEARD_MOUSTACHE
} Beard;

typedef struct
{
  /* head: a cranium ellipse smoothly joined to a jaw ellipse */
  float cran_cy, cran_rx, cran_ry;
  float jaw_cy, jaw_rx, jaw_ry;
  float ear_y, ear_rx, ear_ry;
  float neck_r;
  float yaw; /* −1…1: inner features shift sideways, the far ear shrinks */

  /* features */
  float eye_y, eye_dx, eye_rx, eye_ry, eye_open, eye_tilt, iris_r, gaze_x, gaze_y;
  float brow_y, brow_t, brow_len, brow_arch, brow_tilt;
  float nose_y, nose_w;
  float mouth_y, mouth_w, lip_t, smile, mouth_open;
  bool lashes;

  /* hair */
  float hair_len; /* 0 cropped … 1 past the shoulders */
  float hair_vol; /* how far the hair stands off the cranium */
  float hair_alpha;
  float hairline_y, hairline_k, hairline_x, hairline_tilt;
  int n_strands;

  /* age marks, 0…1 */
  float wrinkles, folds, bags, crows, blush;
  bool glasses, round_glasses;

  /* beard and accessories */
  Beard beard;
  float beard_alpha;
  bool earrings, hoops;
  Pattern pattern;
  float pattern_period, pattern_angle;
  int neckline; /* 0 round, 1 V, 2 high */

  /* colours, sRGB in [0, 1] */
  float skin[3], hair[3], brow[3], iris[3], lip[3], cloth[3], cloth2[3], frame[3], metal[3];
  float bg_top[3], bg_bottom[3], bg_glow[3];
  float glow_x, glow_y;

  /* pose: face → frame is (dx, dy) + scale·R(angle) */
  float angle, scale, dx, dy;

  /* photo: applied at the target size */
  float light_angle, light_grad, bright, contrast, gain[3], noise_sd;
  bool greyscale;
  uint64_t noise_seed;
} Look;

/* A continuum of skin tones, light to dark, drawn uniformly and independently of every
 * label. */
static const float skin_ramp[][3] = {
  { 0.97f, 0.84f, 0.74f }, { 0.90f, 0.72f, 0.58f }, { 0.78f, 0.57f, 0.42f },
  { 0.60f, 0.42f, 0.29f }, { 0.43f, 0.29f, 0.20f }, { 0.30f, 0.20f, 0.14f },
};

/* Natural hair colours (and one dyed), again independent of every label. */
static const float hair_palette[][3] = {
  { 0.07f, 0.06f, 0.05f }, { 0.16f, 0.11f, 0.07f }, { 0.30f, 0.19f, 0.11f },
  { 0.45f, 0.30f, 0.16f }, { 0.74f, 0.58f, 0.34f }, { 0.55f, 0.25f, 0.12f },
  { 0.35f, 0.22f, 0.45f },
};
static const int hair_weights[] = { 30, 25, 18, 10, 9, 6, 2 };

static const float iris_palette[][3] = {
  { 0.25f, 0.15f, 0.08f }, { 0.12f, 0.08f, 0.05f }, { 0.40f, 0.32f, 0.15f },
  { 0.30f, 0.45f, 0.65f }, { 0.30f, 0.45f, 0.30f },
};

/* The background hue family of each race class, degrees: five hues about 72° apart, with
 * no meaning beyond telling the classes apart. */
static const float class_hue[5] = { 210.0f, 280.0f, 345.0f, 55.0f, 130.0f };

/* The clothing pattern each class favours. */
static const Pattern class_pattern[5] = {
  PATTERN_STRIPES, PATTERN_DOTS, PATTERN_PLAIN, PATTERN_PLAID, PATTERN_ZIGZAG,
};

static int
pick_weighted (HnRng *r, const int *weights, int n)
{
  int total = 0;
  for (int i = 0; i < n; i++)
    total += weights[i];
  int pick = (int) rng_below (r, (uint32_t) total), i = 0;
  while (i < n - 1 && pick >= weights[i])
    pick -= weights[i++];
  return i;
}

static void
sample_look (uint64_t seed, uint32_t index, const HnFaceLabels *labels, Look *f)
{
  HnRng r = { rng_splitmix64 (seed ^ LOOK_SALT, index), 0 };
  memset (f, 0, sizeof *f);
  bool female = labels->gender == 1;
  float male = female ? 0.0f : 1.0f;

  /* People look older or younger than they are: every age trait reads an apparent age
   * whose spread grows with age (±0.6 years at 1, ±9 at 70). */
  float age = fmaxf (0.5f, normal (&r, labels->age, 0.5f + 0.12f * labels->age));
  float youth = 1.0f - smoothstepf (1.0f, 16.0f, age); /* 1 for a baby, 0 from 16 */
  float old = clampf ((age - 25.0f) / 55.0f, 0.0f, 1.0f);

  /* Proportions. A baby's cranium is large and round with the eyes near its middle, the
   * nose and chin small; the face lengthens through childhood; jowls widen the jaw late
   * in life, and men's jaws are a little wider on average. */
  f->cran_rx = lerpf (0.50f, 0.60f, youth) + normal (&r, 0, 0.018f);
  f->cran_ry = lerpf (0.56f, 0.60f, youth) + normal (&r, 0, 0.018f);
  f->cran_cy = lerpf (-0.14f, -0.10f, youth);
  f->jaw_rx = lerpf (0.40f, 0.50f, youth) + 0.03f * male * (1 - youth) + 0.04f * old
              + normal (&r, 0, 0.022f);
  f->jaw_ry = lerpf (0.46f, 0.38f, youth) + normal (&r, 0, 0.02f);
  f->jaw_cy = lerpf (0.16f, 0.12f, youth);
  f->eye_y = lerpf (-0.10f, 0.05f, youth) + normal (&r, 0, 0.015f);
  f->eye_dx = lerpf (0.20f, 0.22f, youth) + normal (&r, 0, 0.01f);
  f->eye_rx = lerpf (0.085f, 0.095f, youth) + normal (&r, 0, 0.006f);
  f->eye_ry = lerpf (0.042f, 0.058f, youth) + normal (&r, 0, 0.004f);
  f->eye_open = clampf (normal (&r, 1.0f - 0.25f * old, 0.12f), 0.45f, 1.15f);
  f->eye_tilt = normal (&r, 0, 0.08f);
  f->iris_r = lerpf (0.034f, 0.046f, youth);
  f->gaze_x = clampf (normal (&r, 0, 0.35f), -0.8f, 0.8f);
  f->gaze_y = clampf (normal (&r, 0, 0.2f), -0.5f, 0.5f);
  f->nose_y = f->eye_y + lerpf (0.25f, 0.15f, youth) + normal (&r, 0, 0.012f);
  f->nose_w = lerpf (0.055f, 0.04f, youth) + 0.012f * old + normal (&r, 0, 0.006f);
  f->mouth_y = f->nose_y + lerpf (0.16f, 0.12f, youth) + normal (&r, 0, 0.01f);
  f->mouth_w = lerpf (0.12f, 0.08f, youth) + normal (&r, 0, 0.01f);
  f->lip_t = clampf (lerpf (0.022f, 0.018f, youth) - 0.008f * old + normal (&r, 0, 0.003f), 0.008f,
                     0.03f);
  f->smile = clampf (normal (&r, 0.35f, 0.45f), -0.4f, 1.0f);
  f->mouth_open = f->smile > 0.5f && chance (&r, 0.5f) ? uniform (&r, 0.012f, 0.035f) : 0.0f;
  f->ear_y = f->eye_y + 0.1f;
  f->ear_rx = 0.08f;
  f->ear_ry = lerpf (0.12f, 0.10f, youth) + 0.025f * old + normal (&r, 0, 0.008f);
  f->neck_r = lerpf (0.21f, 0.17f, youth) + 0.02f * male + normal (&r, 0, 0.015f);
  f->yaw = clampf (normal (&r, 0, 0.3f), -0.7f, 0.7f);

  /* Brows: heavier and flatter on average for men, thinner and more arched for women —
   * two overlapping distributions. */
  f->brow_y = f->eye_y - lerpf (0.10f, 0.11f, youth) + normal (&r, 0, 0.01f);
  f->brow_t = clampf (normal (&r, lerpf (0.012f, 0.021f, male), 0.004f), 0.006f, 0.03f)
              * lerpf (1.0f, 0.7f, youth);
  f->brow_len = lerpf (0.10f, 0.085f, youth) + normal (&r, 0, 0.008f);
  f->brow_arch = normal (&r, lerpf (2.0f, 1.0f, male), 0.6f);
  f->brow_tilt = normal (&r, 0, 0.08f);
  f->lashes = chance (&r, female ? lerpf (0.75f, 0.3f, youth) : 0.08f);

  /* Hair length follows gender with a sizeable overlap (about one man in eight wears it
   * long, one woman in six short); babies have little hair whatever their gender. */
  if (female)
    f->hair_len = chance (&r, 0.16f) ? uniform (&r, 0.0f, 0.3f)
                                     : clampf (normal (&r, 0.7f, 0.2f), 0.3f, 1.0f);
  else
    f->hair_len = chance (&r, 0.12f) ? uniform (&r, 0.35f, 0.9f)
                                     : clampf (normal (&r, 0.08f, 0.08f), 0.0f, 0.3f);
  f->hair_len *= 1.0f - smoothstepf (6.0f, 1.0f, age);
  f->hair_vol = lerpf (clampf (normal (&r, lerpf (0.09f, 0.06f, male), 0.025f), 0.02f, 0.16f),
                       0.015f, youth * youth);
  f->hair_alpha = lerpf (1.0f, uniform (&r, 0.3f, 0.9f), smoothstepf (4.0f, 1.0f, age));

  /* The hairline: a parabola over the forehead, its vertex at hairline_y. It recedes with
   * age (far more often for men), rising and curving more steeply at the temples until
   * only the sides are left; some people have a fringe. */
  float recede = sigmoidf ((age - 42.0f + normal (&r, 0, 12.0f)) / 7.0f)
                 * fminf (1.0f, uniform (&r, 0.3f, 1.2f));
  if (female || chance (&r, 0.3f))
    recede *= 0.2f;
  float forehead_top = f->cran_cy - f->cran_ry;
  f->hairline_y = lerpf (f->brow_y - 0.28f, forehead_top - 0.02f, recede);
  f->hairline_y -= 0.06f * youth;
  f->hairline_k = fmaxf (0.5f, lerpf (0.9f, 2.6f, recede) + normal (&r, 0, 0.2f));
  if (recede < 0.3f && f->hair_len > 0.3f && chance (&r, 0.35f))
    {
      f->hairline_y = f->brow_y - uniform (&r, 0.06f, 0.14f); /* a fringe */
      f->hairline_k = uniform (&r, 0.2f, 0.8f);
    }
  f->hairline_x = normal (&r, 0, 0.06f);
  f->hairline_tilt
      = normal (&r, 0, 0.15f) / fmaxf (1.0f, f->hairline_k); /* steep lines tilt less */
  f->n_strands = (int) rng_below (&r, 3) + 2;

  /* Lines come with age. */
  float line_scale = uniform (&r, 0.6f, 1.2f);
  f->wrinkles = clampf ((age - 32.0f) / 40.0f, 0, 1) * line_scale;
  f->folds = clampf ((age - 22.0f) / 45.0f, 0, 1) * uniform (&r, 0.5f, 1.1f);
  f->bags = clampf ((age - 38.0f) / 40.0f, 0, 1) * uniform (&r, 0.5f, 1.2f);
  f->crows = clampf ((age - 40.0f) / 35.0f, 0, 1) * line_scale;
  f->blush = youth * uniform (&r, 0.3f, 1.0f) + uniform (&r, 0.0f, 0.25f);
  f->glasses = age > 8.0f && chance (&r, 0.05f + 0.35f * sigmoidf ((age - 55.0f) / 8.0f));
  f->round_glasses = chance (&r, 0.5f);

  /* Beards: men only, more likely once grown up. */
  f->beard = BEARD_NONE;
  if (!female && chance (&r, 0.4f * smoothstepf (15.0f, 24.0f, age)))
    {
      static const int beard_weights[] = { 35, 25, 20, 20 };
      f->beard = (Beard) (1 + pick_weighted (&r, beard_weights, 4));
      f->beard_alpha
          = f->beard == BEARD_STUBBLE ? uniform (&r, 0.15f, 0.3f) : uniform (&r, 0.75f, 0.95f);
    }
  f->earrings = chance (&r, female ? (age > 12.0f ? 0.45f : 0.12f) : 0.05f);
  f->hoops = chance (&r, 0.5f);

  /* Race class: the background's hue family (one face in eight borrows another class's
   * family) and the clothing pattern (the class's own two times in three). */
  int hue_class = chance (&r, 0.12f) ? (int) rng_below (&r, 5) : labels->race;
  float bg_hue = normal (&r, class_hue[hue_class], 14.0f);
  f->pattern
      = chance (&r, 0.65f) ? class_pattern[labels->race] : (Pattern) rng_below (&r, N_PATTERNS);
  f->pattern_period = uniform (&r, 0.16f, 0.26f);
  f->pattern_angle = normal (&r, 0, 0.12f);
  f->neckline = (int) rng_below (&r, 3);

  /* Colours: skin, hair, eyes and clothes follow no label; only greying (age) and
   * lipstick (gender) do. */
  float s = uniform (&r, 0.0f, 5.0f);
  int i = (int) s < 5 ? (int) s : 4;
  mix3 (f->skin, skin_ramp[i], skin_ramp[i + 1], s - (float) i);
  f->skin[0] = clampf (f->skin[0] * normal (&r, 1.0f, 0.03f), 0, 1);
  f->skin[2] = clampf (f->skin[2] * normal (&r, 1.0f, 0.04f), 0, 1);

  const float grey[3] = { 0.72f, 0.71f, 0.69f }, white[3] = { 0.92f, 0.91f, 0.89f };
  int h = pick_weighted (&r, hair_weights, (int) (sizeof hair_weights / sizeof hair_weights[0]));
  float shade = normal (&r, 1.0f, 0.1f);
  scale3 (f->hair, hair_palette[h], shade);
  if (age < 6.0f) /* babies' hair is often lighter */
    mix3 (f->hair, f->hair, hair_palette[3], 0.3f * youth);
  float greying = sigmoidf ((age - 52.0f + normal (&r, 0, 9.0f)) / 6.0f);
  if (chance (&r, 0.1f))
    greying *= 0.2f; /* dyed */
  float grey_now[3];
  mix3 (grey_now, grey, white, smoothstepf (65.0f, 90.0f, age));
  mix3 (f->hair, f->hair, grey_now, greying);
  scale3 (f->brow, f->hair, 0.8f);
  mix3 (f->brow, f->brow, grey_now, 0.5f * greying);
  memcpy (f->iris, iris_palette[rng_below (&r, 5)], sizeof f->iris);

  const float natural_lip[3] = { 0.72f, 0.36f, 0.36f };
  mix3 (f->lip, f->skin, natural_lip, 0.35f);
  scale3 (f->lip, f->lip, 0.85f);
  if (chance (&r, female ? (age > 15.0f ? 0.45f : 0.05f) : 0.02f))
    hsv_to_rgb (normal (&r, 350.0f, 12.0f), uniform (&r, 0.5f, 0.8f), uniform (&r, 0.45f, 0.8f),
                f->lip); /* lipstick */

  hsv_to_rgb (uniform (&r, 0, 360), uniform (&r, 0.15f, 0.75f), uniform (&r, 0.2f, 0.85f),
              f->cloth);
  float cloth_v = (f->cloth[0] + f->cloth[1] + f->cloth[2]) / 3.0f;
  hsv_to_rgb (uniform (&r, 0, 360), uniform (&r, 0.0f, 0.5f),
              cloth_v > 0.5f ? uniform (&r, 0.05f, 0.3f) : uniform (&r, 0.75f, 0.98f), f->cloth2);
  hsv_to_rgb (uniform (&r, 0, 360), uniform (&r, 0.0f, 0.6f), uniform (&r, 0.05f, 0.5f), f->frame);
  if (chance (&r, 0.5f))
    memcpy (f->metal, (float[3]){ 0.92f, 0.76f, 0.32f }, sizeof f->metal);
  else
    memcpy (f->metal, (float[3]){ 0.85f, 0.86f, 0.9f }, sizeof f->metal);

  float bg_s = uniform (&r, 0.2f, 0.6f), bg_v = uniform (&r, 0.45f, 0.92f);
  hsv_to_rgb (bg_hue, bg_s, bg_v, f->bg_top);
  hsv_to_rgb (bg_hue + normal (&r, 0, 8.0f), bg_s * uniform (&r, 0.8f, 1.2f),
              bg_v * uniform (&r, 0.65f, 1.0f), f->bg_bottom);
  hsv_to_rgb (bg_hue, bg_s * 0.5f, fminf (1.0f, bg_v * 1.25f), f->bg_glow);
  f->glow_x = uniform (&r, -1, 1);
  f->glow_y = uniform (&r, -1, 0);

  /* Pose and photo. */
  f->angle = clampf (normal (&r, 0, 0.09f), -0.22f, 0.22f);
  f->scale = 1.1f * uniform (&r, 0.92f, 1.08f);
  f->dx = normal (&r, 0, 0.035f);
  f->dy = normal (&r, -0.04f, 0.035f);
  f->light_angle = uniform (&r, 0, 2.0f * (float) M_PI);
  f->light_grad = uniform (&r, 0.0f, 0.35f);
  f->bright = expf (normal (&r, 0.0f, 0.1f));
  f->contrast = uniform (&r, 0.85f, 1.15f);
  for (int c = 0; c < 3; c++)
    f->gain[c] = normal (&r, 1.0f, 0.04f);
  f->noise_sd = uniform (&r, 1.5f, 6.0f) / 255.0f;
  f->greyscale = chance (&r, 0.04f);
  f->noise_seed = rng_splitmix64 (seed ^ NOISE_SALT, index);
}

/* ---------------------------------------------------------------------------------------
 * Shapes: signed distances in face units, negative inside. Primitives live in a local
 * frame (origin cx, cy; x axis at `angle`); composites combine two shapes' distances.
 * Each shape carries a box (in face coordinates) that holds its inside, so painting
 * visits only the pixels that can change.
 */

typedef enum
{
  SHAPE_ELLIPSE, /* radii rx, ry */
  SHAPE_BOX,     /* half sizes rx, ry, corners rounded by r */
  SHAPE_SEGMENT, /* from x = −rx to x = rx, radius r */
  SHAPE_ARC,     /* a stroke along y = k·x², |x| ≤ rx, half-width r thinning by `taper` */
  SHAPE_ABOVE,   /* the side y < k·x² of that parabola: above it, y being down */
  SHAPE_STRIPES, /* endless bands |y − nearest multiple of period| < r */
  SHAPE_DOTS,    /* endless discs of radius r on a staggered grid of pitch `period` */
  SHAPE_ZIGZAG,  /* stripes bent into a zigzag */
  SHAPE_UNION,   /* a ∪ b: min, rounded over k */
  SHAPE_INTERSECT,
  SHAPE_MINUS,   /* a − b */
  SHAPE_OUTLINE, /* a band of half-width r along a's edge */
} ShapeKind;

typedef struct
{
  float x0, y0, x1, y1;
} Bounds;

static const Bounds endless = { -INFINITY, -INFINITY, INFINITY, INFINITY };

typedef struct Shape Shape;
struct Shape
{
  ShapeKind kind;
  float cx, cy, cosa, sina;
  float rx, ry, r, k, taper, period;
  const Shape *a, *b;
  Bounds bounds;
};

static inline float
maxf (float a, float b)
{
  return a > b ? a : b;
}

static inline float
minf (float a, float b)
{
  return a < b ? a : b;
}

static inline float
length2 (float x, float y)
{
  return sqrtf (x * x + y * y);
}

/* The box around a rectangle of half sizes (hx, hy) turned by the shape's angle. */
static Bounds
turned_box (float cx, float cy, float hx, float hy, float c, float s)
{
  float ex = fabsf (c) * hx + fabsf (s) * hy, ey = fabsf (s) * hx + fabsf (c) * hy;
  return (Bounds){ cx - ex, cy - ey, cx + ex, cy + ey };
}

static Shape
shape_prim (ShapeKind kind, float cx, float cy, float angle)
{
  return (Shape){
    .kind = kind, .cx = cx, .cy = cy, .cosa = cosf (angle), .sina = sinf (angle), .bounds = endless
  };
}

static Shape
ellipse (float cx, float cy, float rx, float ry, float angle)
{
  Shape s = shape_prim (SHAPE_ELLIPSE, cx, cy, angle);
  s.rx = rx, s.ry = ry;
  /* Exact: the extents of a turned ellipse are √((rx·c)² + (ry·s)²) and the like. */
  float ex = length2 (rx * s.cosa, ry * s.sina), ey = length2 (rx * s.sina, ry * s.cosa);
  s.bounds = (Bounds){ cx - ex, cy - ey, cx + ex, cy + ey };
  return s;
}

static Shape
circle (float cx, float cy, float radius)
{
  return ellipse (cx, cy, radius, radius, 0.0f);
}

static Shape
box (float cx, float cy, float rx, float ry, float corner, float angle)
{
  Shape s = shape_prim (SHAPE_BOX, cx, cy, angle);
  s.rx = rx, s.ry = ry, s.r = corner;
  s.bounds = turned_box (cx, cy, rx, ry, s.cosa, s.sina);
  return s;
}

static Shape
segment (float x0, float y0, float x1, float y1, float radius)
{
  Shape s
      = shape_prim (SHAPE_SEGMENT, 0.5f * (x0 + x1), 0.5f * (y0 + y1), atan2f (y1 - y0, x1 - x0));
  s.rx = 0.5f * length2 (x1 - x0, y1 - y0), s.r = radius;
  s.bounds = (Bounds){ minf (x0, x1) - radius, minf (y0, y1) - radius, maxf (x0, x1) + radius,
                       maxf (y0, y1) + radius };
  return s;
}

static Shape
arc (float cx, float cy, float half_len, float k, float half_width, float taper, float angle)
{
  Shape s = shape_prim (SHAPE_ARC, cx, cy, angle);
  s.rx = half_len, s.k = k, s.r = half_width, s.taper = taper;
  /* In the local frame the stroke spans |x| ≤ rx and y between 0 and k·rx². */
  float sag = k * half_len * half_len;
  Bounds local
      = turned_box (0, 0, half_len + half_width, 0.5f * fabsf (sag) + half_width, s.cosa, s.sina);
  float mx = -s.sina * 0.5f * sag, my = s.cosa * 0.5f * sag; /* the local (0, sag/2) */
  s.bounds
      = (Bounds){ cx + mx + local.x0, cy + my + local.y0, cx + mx + local.x1, cy + my + local.y1 };
  return s;
}

/* The region above y = cy + k·(x − cx)² (turned by angle): endless, clip it. */
static Shape
above (float cx, float cy, float k, float angle)
{
  Shape s = shape_prim (SHAPE_ABOVE, cx, cy, angle);
  s.k = k;
  return s;
}

/* The region below y = cy + k·(x − cx)². */
static Shape
below (float cx, float cy, float k)
{
  return above (cx, cy, -k, (float) M_PI);
}

static Shape
pattern_shape (ShapeKind kind, float period, float r, float angle)
{
  Shape s = shape_prim (kind, 0.0f, 0.0f, angle);
  s.period = period, s.r = r;
  return s;
}

static Shape
shape_union (const Shape *a, const Shape *b, float smooth)
{
  const Bounds *p = &a->bounds, *q = &b->bounds;
  return (Shape){ .kind = SHAPE_UNION,
                  .a = a,
                  .b = b,
                  .k = smooth,
                  .bounds = { minf (p->x0, q->x0) - smooth, minf (p->y0, q->y0) - smooth,
                              maxf (p->x1, q->x1) + smooth, maxf (p->y1, q->y1) + smooth } };
}

static Shape
shape_intersect (const Shape *a, const Shape *b)
{
  const Bounds *p = &a->bounds, *q = &b->bounds;
  return (Shape){ .kind = SHAPE_INTERSECT,
                  .a = a,
                  .b = b,
                  .bounds = { maxf (p->x0, q->x0), maxf (p->y0, q->y0), minf (p->x1, q->x1),
                              minf (p->y1, q->y1) } };
}

static Shape
shape_minus (const Shape *a, const Shape *b)
{
  return (Shape){ .kind = SHAPE_MINUS, .a = a, .b = b, .bounds = a->bounds };
}

static Shape
outline (const Shape *a, float half_width)
{
  const Bounds *p = &a->bounds;
  return (Shape){ .kind = SHAPE_OUTLINE,
                  .a = a,
                  .r = half_width,
                  .bounds = { p->x0 - half_width, p->y0 - half_width, p->x1 + half_width,
                              p->y1 + half_width } };
}

/* y minus the nearest multiple of p. */
static inline float
wrap (float y, float p)
{
  return y - p * floorf (y / p + 0.5f);
}

static float
shape_sdf (const Shape *s, float u, float v)
{
  switch (s->kind)
    {
    case SHAPE_UNION:
      {
        float da = shape_sdf (s->a, u, v), db = shape_sdf (s->b, u, v);
        float h = s->k > 0 ? maxf (s->k - fabsf (da - db), 0.0f) / s->k : 0.0f;
        return minf (da, db) - 0.25f * h * h * s->k; /* polynomial smooth minimum */
      }
    case SHAPE_INTERSECT:
      return maxf (shape_sdf (s->a, u, v), shape_sdf (s->b, u, v));
    case SHAPE_MINUS:
      return maxf (shape_sdf (s->a, u, v), -shape_sdf (s->b, u, v));
    case SHAPE_OUTLINE:
      return fabsf (shape_sdf (s->a, u, v)) - s->r;
    default:
      break;
    }

  float du = u - s->cx, dv = v - s->cy;
  float x = s->cosa * du + s->sina * dv, y = -s->sina * du + s->cosa * dv;
  switch (s->kind)
    {
    case SHAPE_ELLIPSE:
      {
        /* First-order distance (|q| − 1)·|q| / |∇(|q|²)/2|, q = (x/rx, y/ry): exact on the
         * edge and a fair estimate near it, which is all antialiasing and rims need. */
        float qx = x / s->rx, qy = y / s->ry;
        float k0 = length2 (qx, qy), k1 = length2 (qx / s->rx, qy / s->ry);
        return k1 > 1e-12f ? k0 * (k0 - 1.0f) / k1 : -minf (s->rx, s->ry);
      }
    case SHAPE_BOX:
      {
        float qx = fabsf (x) - s->rx + s->r, qy = fabsf (y) - s->ry + s->r;
        return length2 (maxf (qx, 0), maxf (qy, 0)) + minf (maxf (qx, qy), 0) - s->r;
      }
    case SHAPE_SEGMENT:
      return length2 (maxf (fabsf (x) - s->rx, 0.0f), y) - s->r;
    case SHAPE_ARC:
      {
        /* Vertical offset from the parabola over its slope's length: the distance to first
         * order. Past the ends, the distance to the end point. */
        float ax = fabsf (x);
        if (ax > s->rx)
          return length2 (ax - s->rx, y - s->k * s->rx * s->rx) - s->r * (1.0f - s->taper);
        float t = ax / s->rx;
        return fabsf (y - s->k * x * x) / sqrtf (1.0f + 4.0f * s->k * s->k * x * x)
               - s->r * (1.0f - s->taper * t * t);
      }
    case SHAPE_ABOVE:
      return (y - s->k * x * x) / sqrtf (1.0f + 4.0f * s->k * s->k * x * x);
    case SHAPE_STRIPES:
      return fabsf (wrap (y, s->period)) - s->r;
    case SHAPE_DOTS:
      {
        float row = floorf (y / s->period + 0.5f);
        float shift = fmodf (row, 2.0f) != 0.0f ? 0.5f * s->period : 0.0f; /* staggered rows */
        return length2 (wrap (x + shift, s->period), wrap (y, s->period)) - s->r;
      }
    case SHAPE_ZIGZAG:
      {
        /* A triangle wave of slope ±1 added to y bends the stripes; dividing by √2 keeps
         * the result a distance across the slanted bands. */
        float tri = fabsf (wrap (x, s->period));
        return (fabsf (wrap (y + tri, s->period)) - s->r) * (float) M_SQRT1_2;
      }
    default:
      return INFINITY;
    }
}

/* ---------------------------------------------------------------------------------------
 * The canvas: a float RGB square with the face's pose.
 */

typedef struct
{
  int side;
  float *rgb;   /* (side, side, 3), values in [0, 1] */
  uint8_t *u8;  /* (side, side, 3): the canvas quantised for the resize */
  float ox, oy; /* canvas position of the face origin, pixels */
  float m;      /* pixels per face unit */
  float cosa, sina;
  float px; /* one pixel in face units */
} Canvas;

typedef struct
{
  float rgb[3];
  float alpha;
  float soft; /* extra edge blur, face units */
  float rim;  /* shading: darken by `dark` at the edge, fading out over `rim` inwards */
  float dark;
} Ink;

static Ink
ink (const float rgb[3], float alpha)
{
  return (Ink){ { rgb[0], rgb[1], rgb[2] }, alpha, 0, 0, 0 };
}

static Ink
ink_scaled (const float rgb[3], float f, float alpha)
{
  Ink i = ink (rgb, alpha);
  scale3 (i.rgb, rgb, f);
  return i;
}

#define TILE 8

/* Face coordinates of the centre of canvas pixel (x, y). */
static inline void
canvas_to_face (const Canvas *cv, float x, float y, float *u, float *v)
{
  float du = (x + 0.5f - cv->ox) / cv->m, dv = (y + 0.5f - cv->oy) / cv->m;
  *u = cv->cosa * du + cv->sina * dv;
  *v = -cv->sina * du + cv->cosa * dv;
}

/* Blends ink into one pixel at distance d from the shape's edge. Coverage is ½ − d/w
 * clamped to [0, 1], w one pixel (plus any softness): a linear ramp across the edge,
 * which antialiases about as well as 4×4 supersampling for shapes larger than a pixel,
 * at the cost of one distance per pixel. */
static inline void
blend (float *p, const Ink *ink_, float d, float w)
{
  float cover = 0.5f - d / w;
  if (cover <= 0.0f)
    return;
  float a = minf (cover, 1.0f) * ink_->alpha, f = 1.0f;
  if (ink_->rim > 0.0f)
    {
      float t = 1.0f - clampf (-d / ink_->rim, 0.0f, 1.0f);
      f = 1.0f - ink_->dark * t * t;
    }
  for (int c = 0; c < 3; c++)
    p[c] += (ink_->rgb[c] * f - p[c]) * a;
}

/* Paints a shape over the pixels its bounds can reach, TILE×TILE pixels at a time. One
 * distance at a tile's centre decides most tiles whole: the distances here change by at
 * most about one unit per unit moved, so a centre farther than twice the tile's radius
 * (plus the edge ramp) from the edge leaves the whole tile outside, or inside past the
 * rim shading, where every pixel gets the same colour. */
static void
paint (Canvas *cv, const Shape *s, const Ink *ink_)
{
  const Bounds *b = &s->bounds;
  if (ink_->alpha <= 0.0f || b->x0 > b->x1 || b->y0 > b->y1)
    return;
  float w = cv->px + ink_->soft;
  int x0 = 0, y0 = 0, x1 = cv->side, y1 = cv->side;
  if (isfinite (b->x0) && isfinite (b->x1) && isfinite (b->y0) && isfinite (b->y1))
    {
      /* The canvas box around the four turned corners of the face box, widened by the
       * edge ramp. */
      float X0 = INFINITY, Y0 = INFINITY, X1 = -INFINITY, Y1 = -INFINITY;
      for (int corner = 0; corner < 4; corner++)
        {
          float u = corner & 1 ? b->x1 : b->x0, v = corner & 2 ? b->y1 : b->y0;
          float X = cv->ox + cv->m * (cv->cosa * u - cv->sina * v);
          float Y = cv->oy + cv->m * (cv->sina * u + cv->cosa * v);
          X0 = minf (X0, X), X1 = maxf (X1, X), Y0 = minf (Y0, Y), Y1 = maxf (Y1, Y);
        }
      float pad = w * cv->m + 1.0f;
      x0 = (int) maxf (0.0f, floorf (X0 - pad)),
      x1 = (int) minf ((float) cv->side, ceilf (X1 + pad));
      y0 = (int) maxf (0.0f, floorf (Y0 - pad)),
      y1 = (int) minf ((float) cv->side, ceilf (Y1 + pad));
    }

  float reach = 2.0f * (TILE * (float) M_SQRT1_2) * cv->px + w;
  float step_u = cv->cosa * cv->px, step_v = -cv->sina * cv->px;
  for (int ty = y0; ty < y1; ty += TILE)
    for (int tx = x0; tx < x1; tx += TILE)
      {
        int ex = tx + TILE < x1 ? tx + TILE : x1, ey = ty + TILE < y1 ? ty + TILE : y1;
        float u, v;
        canvas_to_face (cv, 0.5f * (float) (tx + ex) - 0.5f, 0.5f * (float) (ty + ey) - 0.5f, &u,
                        &v);
        float dc = shape_sdf (s, u, v);
        if (dc > reach)
          continue;
        bool solid = dc < -reach - ink_->rim;
        for (int y = ty; y < ey; y++)
          {
            float *p = cv->rgb + ((size_t) y * cv->side + tx) * 3;
            if (solid)
              {
                for (int x = tx; x < ex; x++, p += 3)
                  for (int c = 0; c < 3; c++)
                    p[c] += (ink_->rgb[c] - p[c]) * ink_->alpha;
                continue;
              }
            /* One pixel right is (cos, −sin)/m in face coordinates. */
            canvas_to_face (cv, (float) tx, (float) y, &u, &v);
            for (int x = tx; x < ex; x++, p += 3, u += step_u, v += step_v)
              blend (p, ink_, shape_sdf (s, u, v), w);
          }
      }
}

/* Vertical gradient and a soft glow, in frame coordinates (the background does not turn
 * with the head). */
static void
paint_background (Canvas *cv, const Look *f)
{
  float inv = 2.0f / cv->side;
  for (int y = 0; y < cv->side; y++)
    {
      float fy = (y + 0.5f) * inv - 1.0f, t = 0.5f * (fy + 1.0f);
      float *p = cv->rgb + (size_t) y * cv->side * 3;
      for (int x = 0; x < cv->side; x++, p += 3)
        {
          float fx = (x + 0.5f) * inv - 1.0f;
          float d2 = (fx - f->glow_x) * (fx - f->glow_x) + (fy - f->glow_y) * (fy - f->glow_y);
          float g = 1.0f / (1.0f + 3.0f * d2 * d2);
          for (int c = 0; c < 3; c++)
            p[c] = lerpf (lerpf (f->bg_top[c], f->bg_bottom[c], t), f->bg_glow[c], 0.5f * g);
        }
    }
}

/* ---------------------------------------------------------------------------------------
 * The face, back to front.
 */

static void
draw_hair_back (Canvas *cv, const Look *f)
{
  if (f->hair_len < 0.15f)
    return;
  /* A mass behind the head from the crown down to hair_len: wide enough to frame the
   * face, rounded at the bottom. */
  float wide = f->cran_rx + f->hair_vol + 0.04f;
  float top = f->cran_cy, bottom = f->cran_cy + 0.35f + 1.1f * f->hair_len;
  Shape crown = ellipse (0, f->cran_cy - 0.3f * f->hair_vol, wide, f->cran_ry + f->hair_vol, 0);
  Shape fall
      = box (0, 0.5f * (top + bottom), wide + 0.03f * f->hair_len, 0.5f * (bottom - top), 0.18f, 0);
  Shape mass = shape_union (&crown, &fall, 0.1f);
  Ink i = ink_scaled (f->hair, 0.78f, f->hair_alpha);
  i.rim = 0.08f, i.dark = 0.3f;
  paint (cv, &mass, &i);
}

static void
draw_body (Canvas *cv, const Look *f)
{
  float chin = f->jaw_cy + f->jaw_ry;
  Shape neck = segment (0, chin - 0.2f, 0, 1.4f, f->neck_r);
  Ink skin = ink_scaled (f->skin, 0.88f, 1.0f);
  skin.rim = 0.06f, skin.dark = 0.25f;
  paint (cv, &neck, &skin);
  Shape jaw_shadow = ellipse (0, chin + 0.02f, f->jaw_rx * 0.7f, 0.08f, 0);
  Shape neck_shadow = shape_intersect (&jaw_shadow, &neck);
  Ink shadow = ink_scaled (f->skin, 0.6f, 0.5f);
  shadow.soft = 0.04f;
  paint (cv, &neck_shadow, &shadow);

  /* Shoulders and clothing: a wide ellipse with a neckline cut out of it. */
  float top = chin + 0.16f;
  float shoulders = 1.25f + 0.15f * (f->neck_r - 0.17f) / 0.04f;
  Shape torso = ellipse (0, top + 0.5f, shoulders, 0.5f, 0);
  Shape cut = f->neckline == 0   ? ellipse (0, top, f->neck_r * 1.3f, 0.12f, 0)
              : f->neckline == 1 ? box (0, top, f->neck_r * 0.9f, 0.2f, 0.02f, (float) M_PI / 4)
                                 : ellipse (0, top, f->neck_r * 1.05f, 0.04f, 0);
  Shape cloth = shape_minus (&torso, &cut);
  Ink c = ink (f->cloth, 1.0f);
  c.rim = 0.1f, c.dark = 0.25f;
  paint (cv, &cloth, &c);

  Shape a, b;
  float p = f->pattern_period, angle = f->pattern_angle;
  switch (f->pattern)
    {
    case PATTERN_STRIPES:
      a = pattern_shape (SHAPE_STRIPES, p, 0.25f * p, angle);
      break;
    case PATTERN_DOTS:
      a = pattern_shape (SHAPE_DOTS, p, 0.25f * p, angle);
      break;
    case PATTERN_PLAID:
      {
        Shape h = pattern_shape (SHAPE_STRIPES, p, 0.16f * p, angle);
        Shape vert = pattern_shape (SHAPE_STRIPES, p, 0.16f * p, angle + (float) M_PI / 2);
        a = shape_union (&h, &vert, 0);
        Shape on = shape_intersect (&a, &cloth);
        Ink pi = ink (f->cloth2, 0.8f);
        paint (cv, &on, &pi);
        return;
      }
    case PATTERN_ZIGZAG:
      a = pattern_shape (SHAPE_ZIGZAG, p, 0.2f * p, angle);
      break;
    default:
      return;
    }
  b = shape_intersect (&a, &cloth);
  Ink pi = ink (f->cloth2, 0.9f);
  paint (cv, &b, &pi);
}

static void
draw_ears (Canvas *cv, const Look *f)
{
  for (int side = -1; side <= 1; side += 2)
    {
      /* The ear on the side the head turns away from looks smaller. */
      float size = 1.0f + 0.3f * f->yaw * (float) side;
      float x = (float) side * (f->cran_rx + 0.02f - 0.02f * f->yaw * (float) side);
      Shape ear = ellipse (x, f->ear_y, f->ear_rx * size, f->ear_ry, (float) side * 0.15f);
      Ink i = ink_scaled (f->skin, 0.93f, 1.0f);
      i.rim = 0.03f, i.dark = 0.3f;
      paint (cv, &ear, &i);
      Shape inner = arc (x + (float) side * 0.012f, f->ear_y, f->ear_ry * 0.6f, 0.0f, 0.01f, 0.6f,
                         (float) M_PI / 2 + (float) side * 0.15f);
      Ink in = ink_scaled (f->skin, 0.7f, 0.6f);
      paint (cv, &inner, &in);
      if (f->earrings)
        {
          float y = f->ear_y + f->ear_ry * 0.95f;
          Shape ring = circle (x, y + (f->hoops ? 0.035f : 0.0f), f->hoops ? 0.035f : 0.018f);
          Shape hoop = outline (&ring, 0.007f);
          Ink m = ink (f->metal, 1.0f);
          m.rim = 0.01f, m.dark = 0.3f;
          paint (cv, f->hoops ? &hoop : &ring, &m);
        }
    }
}

static Shape
head_shape (const Look *f, Shape *cranium, Shape *jaw)
{
  *cranium = ellipse (0, f->cran_cy, f->cran_rx, f->cran_ry, 0);
  *jaw = ellipse (0, f->jaw_cy, f->jaw_rx, f->jaw_ry, 0);
  return shape_union (cranium, jaw, 0.12f);
}

static void
draw_head (Canvas *cv, const Look *f)
{
  Shape cranium, jaw;
  Shape head = head_shape (f, &cranium, &jaw);
  Ink i = ink (f->skin, 1.0f);
  i.rim = 0.12f, i.dark = 0.22f;
  paint (cv, &head, &i);
}

/* Lines and shadows that age brings, and cheeks. */
static void
draw_marks (Canvas *cv, const Look *f)
{
  float shift = 0.05f * f->yaw;
  Ink line = ink_scaled (f->skin, 0.62f, 0.0f);
  line.soft = 0.006f;

  for (int side = -1; side <= 1; side += 2)
    {
      float sd = (float) side;
      Shape cheek = circle (sd * 0.25f + shift, f->mouth_y - 0.1f, 0.09f);
      Ink b = ink ((float[3]){ 0.95f, 0.45f, 0.45f }, 0.25f * f->blush);
      b.soft = 0.07f;
      paint (cv, &cheek, &b);

      /* Folds from the nose's wings to past the mouth's corners. */
      float x0 = sd * (f->nose_w * 1.3f) + shift, y0 = f->nose_y - 0.01f;
      float x1 = sd * (f->mouth_w + 0.04f) + shift, y1 = f->mouth_y + 0.04f;
      Shape fold = arc (0.5f * (x0 + x1), 0.5f * (y0 + y1), 0.5f * hypotf (x1 - x0, y1 - y0),
                        -sd * 1.5f, 0.009f, 0.7f, atan2f (y1 - y0, x1 - x0));
      line.alpha = 0.7f * f->folds;
      paint (cv, &fold, &line);

      /* Lines from the mouth's corners down to the chin line. */
      Shape marionette = segment (sd * (f->mouth_w + 0.01f) + shift, f->mouth_y + 0.03f,
                                  sd * (f->mouth_w + 0.03f) + shift, f->mouth_y + 0.12f, 0.006f);
      line.alpha = 0.6f * f->wrinkles;
      paint (cv, &marionette, &line);

      /* Bags under the eyes and crow's feet at their outer corners. */
      float ex = sd * f->eye_dx + shift, ey = f->eye_y + f->eye_ry * f->eye_open;
      Shape bag = arc (ex, ey + 0.035f, f->eye_rx * 0.8f, 4.0f, 0.008f, 0.8f, 0);
      line.alpha = 0.8f * f->bags;
      paint (cv, &bag, &line);
      for (int j = -1; j <= 1; j++)
        {
          float ox = ex + sd * (f->eye_rx + 0.035f), oy = f->eye_y + 0.022f * (float) j;
          Shape crow = segment (ox, oy, ox + sd * 0.045f, oy + 0.018f * (float) j, 0.005f);
          line.alpha = 0.6f * f->crows;
          paint (cv, &crow, &line);
        }
    }

  /* Forehead lines, under the hair. */
  for (int j = 0; j < 3; j++)
    {
      float y = f->brow_y - 0.07f - 0.055f * (float) j;
      Shape l = arc (shift * 0.5f, y, 0.2f - 0.02f * (float) j, 0.8f, 0.007f, 0.8f, 0);
      line.alpha = clampf (1.2f * f->wrinkles - 0.3f * (float) j, 0.0f, 0.75f);
      paint (cv, &l, &line);
    }
}

static void
draw_eyes (Canvas *cv, const Look *f)
{
  float shift = 0.05f * f->yaw;
  const float dark[3] = { 0.1f, 0.07f, 0.06f };
  for (int side = -1; side <= 1; side += 2)
    {
      float sd = (float) side, ex = sd * f->eye_dx + shift, ey = f->eye_y;
      float rx = f->eye_rx * (1.0f + 0.15f * f->yaw * sd), ry = f->eye_ry * f->eye_open;
      float angle = -sd * f->eye_tilt;

      /* A crease above the eye, deeper with age. */
      Shape crease = arc (ex, ey - ry - 0.02f, rx * 0.9f, 3.0f, 0.006f, 0.8f, angle);
      Ink c = ink_scaled (f->skin, 0.7f, 0.35f + 0.4f * f->bags);
      c.soft = 0.006f;
      paint (cv, &crease, &c);

      Shape white = ellipse (ex, ey, rx, ry, angle);
      Ink w = ink ((float[3]){ 0.95f, 0.94f, 0.92f }, 1.0f);
      w.rim = 0.015f, w.dark = 0.2f;
      paint (cv, &white, &w);

      float ix = ex + f->gaze_x * rx * 0.35f, iy = ey + f->gaze_y * ry * 0.3f;
      Shape iris = circle (ix, iy, f->iris_r);
      Shape iris_in = shape_intersect (&iris, &white);
      Ink ii = ink (f->iris, 1.0f);
      ii.rim = f->iris_r * 0.5f, ii.dark = 0.45f;
      paint (cv, &iris_in, &ii);
      Shape pupil = circle (ix, iy, f->iris_r * 0.45f);
      Shape pupil_in = shape_intersect (&pupil, &white);
      Ink pi = ink (dark, 1.0f);
      paint (cv, &pupil_in, &pi);
      Shape glint = circle (ix + 0.3f * f->iris_r, iy - 0.35f * f->iris_r, f->iris_r * 0.22f);
      Ink g = ink ((float[3]){ 1, 1, 1 }, 0.85f);
      paint (cv, &glint, &g);

      /* Lids: the upper edge drawn strong, the lower faint. */
      Shape edge = outline (&white, 0.006f);
      Shape upper_half = above (ex, ey + ry * 0.3f, 0.0f, angle);
      Shape upper = shape_intersect (&edge, &upper_half);
      Ink lid = ink (dark, 0.9f);
      paint (cv, &upper, &lid);
      Shape lower_half = below (ex, ey + ry * 0.3f, 0.0f);
      Shape lower = shape_intersect (&edge, &lower_half);
      Ink lower_ink = ink_scaled (f->skin, 0.6f, 0.4f);
      paint (cv, &lower, &lower_ink);

      if (f->lashes)
        for (int j = 0; j < 3; j++)
          {
            float t = 0.55f + 0.2f * (float) j;
            float lx = ex + sd * rx * t, ly = ey - ry * sqrtf (fmaxf (0.0f, 1.0f - t * t));
            Shape lash = segment (lx, ly, lx + sd * 0.025f, ly - 0.02f, 0.005f);
            paint (cv, &lash, &lid);
          }

      /* Brows. */
      float bx = sd * (f->eye_dx + 0.01f) + shift;
      Shape brow = arc (bx, f->brow_y, f->brow_len, f->brow_arch, f->brow_t, 0.6f,
                        -sd * (f->brow_tilt + 0.08f));
      Ink bi = ink (f->brow, 0.95f);
      paint (cv, &brow, &bi);
    }
}

static void
draw_nose_mouth (Canvas *cv, const Look *f)
{
  float shift = 0.05f * f->yaw, nx = 0.08f * f->yaw;
  Ink shadow = ink_scaled (f->skin, 0.7f, 0.45f);
  shadow.soft = 0.02f;

  /* The nose: a shadow down one side of the bridge, a rounded tip, two nostrils. */
  float side = f->yaw >= 0 ? -1.0f : 1.0f;
  Shape bridge = segment (nx + side * f->nose_w * 0.55f, f->eye_y + 0.06f,
                          nx + side * f->nose_w * 0.8f, f->nose_y - 0.02f, 0.012f);
  paint (cv, &bridge, &shadow);
  Shape tip = arc (nx, f->nose_y + 0.01f, f->nose_w * 0.9f, -6.0f, 0.008f, 0.6f, 0);
  Ink tip_ink = ink_scaled (f->skin, 0.65f, 0.6f);
  tip_ink.soft = 0.006f;
  paint (cv, &tip, &tip_ink);
  for (int s = -1; s <= 1; s += 2)
    {
      Shape nostril
          = ellipse (nx + (float) s * f->nose_w * 0.5f, f->nose_y, 0.017f, 0.01f, (float) s * 0.3f);
      Ink n = ink_scaled (f->skin, 0.4f, 0.8f);
      paint (cv, &nostril, &n);
    }

  /* Moustache and beard, under the lips. */
  Ink beard = ink_scaled (f->hair, 0.85f, f->beard_alpha);
  beard.soft = 0.01f;
  float chin = f->jaw_cy + f->jaw_ry;
  if (f->beard == BEARD_FULL || f->beard == BEARD_STUBBLE)
    {
      Shape jaw = ellipse (0, f->jaw_cy, f->jaw_rx + 0.015f, f->jaw_ry + 0.02f, 0);
      Shape lower = below (0, f->nose_y + 0.05f, -0.9f);
      Shape mouth = ellipse (shift, f->mouth_y + 0.01f, f->mouth_w * 1.05f, 0.035f, 0);
      Shape region = shape_intersect (&jaw, &lower);
      Shape beard_shape = shape_minus (&region, &mouth);
      paint (cv, &beard_shape, &beard);
    }
  if (f->beard == BEARD_GOATEE)
    {
      Shape goatee = ellipse (shift * 0.7f, chin - 0.07f, 0.08f, 0.09f, 0);
      paint (cv, &goatee, &beard);
    }
  if (f->beard == BEARD_FULL || f->beard == BEARD_GOATEE || f->beard == BEARD_MOUSTACHE)
    {
      Shape moustache
          = arc (shift, f->mouth_y - f->lip_t - 0.02f, f->mouth_w * 1.05f, 2.0f, 0.022f, 0.5f, 0);
      paint (cv, &moustache, &beard);
    }

  /* The mouth: upper lip along the smile's curve, a fuller lower lip, and when it is open
   * a dark inside with a row of teeth. */
  float k = -2.5f * f->smile, mx = shift, my = f->mouth_y, mw = f->mouth_w;
  if (f->mouth_open > 0.0f)
    {
      Shape inside = ellipse (mx, my + f->mouth_open * 0.6f, mw * 0.85f, f->mouth_open + 0.008f, 0);
      Ink in = ink ((float[3]){ 0.35f, 0.1f, 0.1f }, 1.0f);
      paint (cv, &inside, &in);
      Shape teeth_band = above (mx, my + f->mouth_open * 0.5f, 0.0f, 0);
      Shape teeth = shape_intersect (&inside, &teeth_band);
      Ink t = ink ((float[3]){ 0.95f, 0.93f, 0.88f }, 1.0f);
      paint (cv, &teeth, &t);
    }
  Shape lower_lip
      = ellipse (mx, my + f->mouth_open + f->lip_t * 1.2f, mw * 0.65f, f->lip_t * 1.1f, 0);
  Ink lower = ink_scaled (f->lip, 1.08f, 1.0f);
  lower.rim = 0.012f, lower.dark = 0.15f;
  paint (cv, &lower_lip, &lower);
  Shape upper_lip = arc (mx, my - 0.004f, mw, k, f->lip_t * 0.9f, 0.7f, 0);
  Ink upper = ink (f->lip, 1.0f);
  paint (cv, &upper_lip, &upper);
  Shape line = arc (mx, my + 0.004f + f->mouth_open * 0.3f, mw * 0.95f, k, 0.004f, 0.5f, 0);
  Ink li = ink_scaled (f->lip, 0.5f, 0.9f);
  paint (cv, &line, &li);
}

static void
draw_hair_front (Canvas *cv, const Look *f)
{
  /* The cap: the cranium grown by the hair's volume, above the hairline. */
  Shape grown = ellipse (0, f->cran_cy - 0.3f * f->hair_vol, f->cran_rx + f->hair_vol,
                         f->cran_ry + f->hair_vol, 0);
  Shape line = above (f->hairline_x, f->hairline_y, f->hairline_k, f->hairline_tilt);
  Shape temples = above (0, f->eye_y + 0.02f, 0, 0); /* sideburns end at eye level */
  Shape sides = shape_intersect (&grown, &temples);
  Shape cap = shape_intersect (&sides, &line);
  Ink i = ink (f->hair, f->hair_alpha);
  i.rim = 0.07f, i.dark = 0.35f;
  paint (cv, &cap, &i);

  /* Strands: darker and lighter strokes sweeping from the parting, clipped to the cap. */
  for (int j = 0; j < f->n_strands; j++)
    {
      float t = ((float) j + 0.5f) / (float) f->n_strands * 2.0f - 1.0f;
      Shape strand = arc (t * f->cran_rx * 0.8f, f->cran_cy - f->cran_ry * 0.75f, 0.25f, 2.5f,
                          0.01f, 0.7f, t * 0.8f);
      Shape on = shape_intersect (&strand, &cap);
      Ink s = ink_scaled (f->hair, j % 2 ? 1.3f : 0.7f, 0.4f * f->hair_alpha);
      paint (cv, &on, &s);
    }
}

static void
draw_glasses (Canvas *cv, const Look *f)
{
  if (!f->glasses)
    return;
  float shift = 0.05f * f->yaw;
  Ink frame = ink (f->frame, 1.0f);
  Ink lens = ink ((float[3]){ 0.85f, 0.9f, 0.95f }, 0.12f);
  float rx = f->eye_rx * 1.6f, ry = f->eye_rx * (f->round_glasses ? 1.35f : 1.05f);
  for (int side = -1; side <= 1; side += 2)
    {
      float ex = (float) side * f->eye_dx + shift;
      Shape rim = f->round_glasses ? ellipse (ex, f->eye_y, rx, ry, 0)
                                   : box (ex, f->eye_y, rx, ry, 0.03f, 0);
      Shape ring = outline (&rim, 0.012f);
      paint (cv, &rim, &lens);
      paint (cv, &ring, &frame);
      Shape arm = segment (ex + (float) side * rx, f->eye_y - 0.02f,
                           (float) side * (f->cran_rx * 0.97f), f->eye_y - 0.01f, 0.01f);
      paint (cv, &arm, &frame);
    }
  Shape bridge = arc (shift, f->eye_y - 0.01f, f->eye_dx - rx, -3.0f, 0.01f, 0.0f, 0);
  paint (cv, &bridge, &frame);
}

/* Canvas side for a target size: ≥ 2× and ≥ 128 px, a whole multiple of the target. */
static int
canvas_side (int size)
{
  int k = size >= 64 ? 2 : (128 + size - 1) / size;
  return k * size;
}

static bool
canvas_init (Canvas *cv, int size, HnError *err)
{
  cv->side = canvas_side (size);
  size_t n = (size_t) cv->side * cv->side * 3;
  cv->rgb = malloc (n * sizeof *cv->rgb);
  cv->u8 = malloc (n);
  if (cv->rgb == NULL || cv->u8 == NULL)
    {
      free (cv->rgb), free (cv->u8);
      cv->rgb = NULL, cv->u8 = NULL;
      return hn_error_set (err, "out of memory for a %d×%d drawing canvas", cv->side, cv->side);
    }
  return true;
}

static void
canvas_clear (Canvas *cv)
{
  free (cv->rgb);
  free (cv->u8);
  cv->rgb = NULL, cv->u8 = NULL;
}

/* Photo effects at the target size: a linear light gradient, exposure, contrast, a
 * colour cast, sometimes black and white, then Gaussian sensor noise (the sum of four
 * uniforms from one splitmix64 value per sample, close enough to Gaussian for noise). */
static void
develop (const Look *f, int size, uint8_t *rgb)
{
  float lc = cosf (f->light_angle), ls = sinf (f->light_angle);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        uint8_t *p = rgb + ((size_t) y * size + x) * 3;
        float fx = 2.0f * (x + 0.5f) / size - 1.0f, fy = 2.0f * (y + 0.5f) / size - 1.0f;
        float light = f->bright * (1.0f + f->light_grad * (fx * lc + fy * ls));
        float v[3];
        for (int c = 0; c < 3; c++)
          v[c] = ((p[c] / 255.0f * light - 0.5f) * f->contrast + 0.5f) * f->gain[c];
        if (f->greyscale)
          v[0] = v[1] = v[2] = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
        for (int c = 0; c < 3; c++)
          {
            uint64_t z = rng_splitmix64 (f->noise_seed, ((uint64_t) y * size + x) * 3 + c);
            float sum = (float) (z & 0xFFFF) + (float) ((z >> 16) & 0xFFFF)
                        + (float) ((z >> 32) & 0xFFFF) + (float) (z >> 48);
            /* Four uniforms on [0, 65536): mean 131072, sd 65536·√(4/12). */
            float gauss = (sum - 131072.0f) / (65536.0f * 0.57735027f);
            float out = (v[c] + f->noise_sd * gauss) * 255.0f + 0.5f;
            p[c] = (uint8_t) clampf (out, 0.0f, 255.0f);
          }
      }
}

/* Draws one face into rgb (size, size, 3) using the canvas's scratch. */
static bool
render_face (const Look *f, Canvas *cv, int size, uint8_t *rgb, HnError *err)
{
  cv->m = 0.5f * (float) cv->side * f->scale;
  cv->px = 1.0f / cv->m;
  cv->ox = 0.5f * (float) cv->side * (1.0f + f->dx);
  cv->oy = 0.5f * (float) cv->side * (1.0f + f->dy);
  cv->cosa = cosf (f->angle), cv->sina = sinf (f->angle);

  paint_background (cv, f);
  draw_hair_back (cv, f);
  draw_body (cv, f);
  draw_ears (cv, f);
  draw_head (cv, f);
  draw_marks (cv, f);
  draw_eyes (cv, f);
  draw_nose_mouth (cv, f);
  draw_hair_front (cv, f);
  draw_glasses (cv, f);

  size_t n = (size_t) cv->side * cv->side * 3;
  for (size_t i = 0; i < n; i++)
    cv->u8[i] = (uint8_t) (clampf (cv->rgb[i], 0.0f, 1.0f) * 255.0f + 0.5f);
  HnImage img = { cv->side, cv->side, cv->u8 };
  if (!image_crop_resize (&img, size, rgb, err))
    return false;
  develop (f, size, rgb);
  return true;
}

static bool
face_with_canvas (uint64_t seed, uint32_t index, int size, Canvas *cv, uint8_t *rgb,
                  HnFaceLabels *labels, HnError *err)
{
  Look look;
  synth_labels (seed, index, labels);
  sample_look (seed, index, labels, &look);
  return render_face (&look, cv, size, rgb, err);
}

bool
synth_face (uint64_t seed, uint32_t index, int size, uint8_t *rgb, HnFaceLabels *labels,
            HnError *err)
{
  HN_ASSERT (size >= SYNTH_MIN_SIZE && size <= SYNTH_MAX_SIZE);
  Canvas cv;
  if (!canvas_init (&cv, size, err))
    return false;
  bool ok = face_with_canvas (seed, index, size, &cv, rgb, labels, err);
  canvas_clear (&cv);
  return ok;
}

/* ---------------------------------------------------------------------------------------
 * Many faces on many threads. Workers take CHUNK indices at a time from a shared counter;
 * since each face is a pure function of its index, which thread draws it changes nothing.
 */

typedef struct
{
  uint64_t seed;
  int count, size;
  /* in memory: */
  uint8_t *pixels;      /* (count, size, size, 3) */
  HnFaceLabels *labels; /* (count) */
  /* or into a folder: */
  const char *dir;
  HnSynthFormat format;

  HnLoadProgress *progress;
  atomic_int next;
  atomic_bool stop;     /* a worker failed or the caller cancelled */
  pthread_mutex_t lock; /* guards err and failed */
  bool failed;
  HnError err;
} Job;

static void
job_fail (Job *job, const HnError *err)
{
  pthread_mutex_lock (&job->lock);
  if (!job->failed)
    job->err = *err, job->failed = true;
  pthread_mutex_unlock (&job->lock);
  atomic_store (&job->stop, true);
}

typedef struct
{
  uint8_t *data;
  size_t len, cap;
  bool oom;
} Buffer;

static void
buffer_append (void *context, void *data, int len)
{
  Buffer *b = context;
  if (b->oom || len <= 0)
    return;
  if (b->len + (size_t) len > b->cap)
    {
      size_t cap = b->cap ? b->cap : 4096;
      while (cap < b->len + (size_t) len)
        cap *= 2;
      uint8_t *grown = realloc (b->data, cap);
      if (grown == NULL)
        {
          b->oom = true;
          return;
        }
      b->data = grown, b->cap = cap;
    }
  memcpy (b->data + b->len, data, (size_t) len);
  b->len += (size_t) len;
}

static bool
write_all (const char *path, const uint8_t *data, size_t len, HnError *err)
{
  char why[128];
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    return hn_error_set (err, "cannot create %s: %s", path, strerror_r (errno, why, sizeof why));
  size_t done = 0;
  while (done < len)
    {
      ssize_t n = write (fd, data + done, len - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          hn_error_set (err, "cannot write %s: %s", path,
                        n < 0 ? strerror_r (errno, why, sizeof why) : "nothing written");
          close (fd);
          unlink (path);
          return false;
        }
      done += (size_t) n;
    }
  if (close (fd) != 0)
    {
      hn_error_set (err, "cannot write %s: %s", path, strerror_r (errno, why, sizeof why));
      unlink (path);
      return false;
    }
  return true;
}

static bool
save_face (const Job *job, uint32_t index, const uint8_t *rgb, const HnFaceLabels *labels,
           Buffer *buf, HnError *err)
{
  char name[64], *path = NULL;
  synth_file_name (labels, index, job->format, name, sizeof name);
  buf->len = 0;
  int s = job->size;
  int ok = job->format == SYNTH_PNG
               ? stbi_write_png_to_func (buffer_append, buf, s, s, 3, rgb, s * 3)
               : stbi_write_jpg_to_func (buffer_append, buf, s, s, 3, rgb, JPEG_QUALITY);
  if (!ok || buf->oom)
    return hn_error_set (err, "cannot encode %s (out of memory)", name);
  if (asprintf (&path, "%s/%s", job->dir, name) < 0)
    return hn_error_set (err, "out of memory");
  bool written = write_all (path, buf->data, buf->len, err);
  free (path);
  return written;
}

static void *
worker_main (void *data)
{
  Job *job = data;
  HnError err;
  Canvas cv;
  if (!canvas_init (&cv, job->size, &err))
    {
      job_fail (job, &err);
      return NULL;
    }
  uint8_t *scratch = NULL;
  HnFaceLabels scratch_labels;
  Buffer buf = { 0 };
  if (job->pixels == NULL && (scratch = malloc ((size_t) job->size * job->size * 3)) == NULL)
    {
      hn_error_set (&err, "out of memory");
      job_fail (job, &err);
      canvas_clear (&cv);
      return NULL;
    }

  size_t face_bytes = (size_t) job->size * job->size * 3;
  while (!atomic_load (&job->stop))
    {
      int first = atomic_fetch_add (&job->next, CHUNK);
      if (first >= job->count)
        break;
      int last = first + CHUNK < job->count ? first + CHUNK : job->count;
      for (int i = first; i < last; i++)
        {
          if (atomic_load (&job->progress->cancel))
            {
              hn_error_set (&err, "cancelled");
              job_fail (job, &err);
              break;
            }
          if (atomic_load (&job->stop))
            break;
          uint8_t *rgb = scratch ? scratch : job->pixels + (size_t) i * face_bytes;
          HnFaceLabels *labels = scratch ? &scratch_labels : job->labels + i;
          if (!face_with_canvas (job->seed, (uint32_t) i, job->size, &cv, rgb, labels, &err)
              || (scratch && !save_face (job, (uint32_t) i, rgb, labels, &buf, &err)))
            {
              job_fail (job, &err);
              break;
            }
          atomic_fetch_add (&job->progress->done, 1);
        }
    }
  free (buf.data);
  free (scratch);
  canvas_clear (&cv);
  return NULL;
}

/* Runs the job on `threads` threads (≤ 0: one per online CPU), the caller's included. */
static bool
job_run (Job *job, int threads, HnLoadProgress *progress, HnError *err)
{
  HnLoadProgress local = { 0 };
  job->progress = progress ? progress : &local;
  atomic_store (&job->progress->total, job->count);
  atomic_store (&job->progress->done, 0);
  atomic_init (&job->next, 0);
  atomic_init (&job->stop, false);
  job->failed = false;
  pthread_mutex_init (&job->lock, NULL);

  if (threads <= 0)
    {
      long online = sysconf (_SC_NPROCESSORS_ONLN);
      threads = online > 0 ? (int) online : 1;
    }
  int max_useful = (job->count + CHUNK - 1) / CHUNK;
  if (threads > max_useful)
    threads = max_useful;
  if (threads > 256)
    threads = 256;

  /* If a thread cannot be started the others simply take its share. */
  pthread_t tids[256];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create (&tids[started], NULL, worker_main, job) == 0)
      started++;
  worker_main (job);
  for (int t = 0; t < started; t++)
    pthread_join (tids[t], NULL);
  pthread_mutex_destroy (&job->lock);

  if (job->failed)
    {
      if (err)
        *err = job->err;
      return false;
    }
  return true;
}

static bool
check_request (int count, int size, HnError *err)
{
  if (count < 1)
    return hn_error_set (err, "asked for %d synthetic faces; at least 1 is needed", count);
  if (size < SYNTH_MIN_SIZE || size > SYNTH_MAX_SIZE)
    return hn_error_set (err, "synthetic faces are %d to %d pixels wide, not %d", SYNTH_MIN_SIZE,
                         SYNTH_MAX_SIZE, size);
  return true;
}

HnDataset *
dataset_new_synthetic (int count, uint64_t seed, int size, int threads, HnLoadProgress *progress,
                       HnError *err)
{
  if (!check_request (count, size, err))
    return NULL;
  size_t face_bytes = (size_t) size * size * 3;
  HnDataset *ds = calloc (1, sizeof *ds);
  uint8_t *pixels = malloc ((size_t) count * face_bytes);
  HnFaceLabels *labels = malloc ((size_t) count * sizeof *labels);
  if (ds == NULL || pixels == NULL || labels == NULL)
    {
      free (ds), free (pixels), free (labels);
      hn_error_set (err, "out of memory for %d synthetic faces of %d×%d", count, size, size);
      return NULL;
    }
  Job job = { .seed = seed, .count = count, .size = size, .pixels = pixels, .labels = labels };
  if (!job_run (&job, threads, progress, err))
    {
      free (ds), free (pixels), free (labels);
      return NULL;
    }
  /* Everything else stays NULL / 0: no names, nothing skipped, no duplicates, no priv. */
  ds->size = size;
  ds->n = count;
  ds->pixels = pixels;
  ds->labels = labels;
  return ds;
}

/* ---------------------------------------------------------------------------------------
 * Folders
 */

void
synth_file_name (const HnFaceLabels *labels, uint32_t index, HnSynthFormat format, char *name,
                 int len)
{
  time_t t = (time_t) 1483228800 + (time_t) index; /* 2017-01-01 00:00:00 UTC */
  struct tm tm;
  gmtime_r (&t, &tm);
  snprintf (name, (size_t) len, "%d_%d_%d_%04d%02d%02d%02d%02d%02d%03u%s", labels->age,
            labels->gender, labels->race, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, index % 1000u, format == SYNTH_PNG ? ".png" : ".jpg.chip.jpg");
}

/* mkdir -p: each missing component in turn, then dir must be a folder. */
static bool
make_dirs (const char *dir, HnError *err)
{
  char why[128];
  if (dir[0] == '\0')
    return hn_error_set (err, "no output folder given");
  char *path = strdup (dir);
  if (path == NULL)
    return hn_error_set (err, "out of memory");
  for (char *p = path + 1;; p++)
    if (*p == '/' || *p == '\0')
      {
        char c = *p;
        *p = '\0';
        if (mkdir (path, 0777) != 0 && errno != EEXIST)
          {
            hn_error_set (err, "cannot create folder %s: %s", path,
                          strerror_r (errno, why, sizeof why));
            free (path);
            return false;
          }
        *p = c;
        if (c == '\0')
          break;
      }
  free (path);
  struct stat st;
  if (stat (dir, &st) != 0)
    return hn_error_set (err, "cannot use folder %s: %s", dir, strerror_r (errno, why, sizeof why));
  if (!S_ISDIR (st.st_mode))
    return hn_error_set (err, "cannot use %s as the output folder: it is a file", dir);
  return true;
}

bool
synth_write_folder (const char *dir, int count, uint64_t seed, int size, HnSynthFormat format,
                    int threads, HnLoadProgress *progress, HnError *err)
{
  if (!check_request (count, size, err) || !make_dirs (dir, err))
    return false;
  Job job = { .seed = seed, .count = count, .size = size, .dir = dir, .format = format };
  return job_run (&job, threads, progress, err);
}
