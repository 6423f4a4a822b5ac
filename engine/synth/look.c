/* look.c — what a synthetic face looks like: traits that follow its labels, each with its
 * own noise, and nuisances that follow nothing. synth.h says which label drives what.
 *
 * Every value comes from one stream, so the order of the draws is part of every face. C
 * leaves open the order in which a call's arguments and an operator's operands are
 * evaluated: where one expression would draw twice with nothing (&&, ?:) to order the
 * draws, they are named first, in the order GCC drew them when these faces were first made
 * (a call's arguments last to first), so that every compiler draws the same faces.
 */
#include "synth-private.h"

#include <string.h>

#include "labels.h"

#define LOOK_SALT 0x6C6F6F6B2D2D2D31ull  /* "look---1" */
#define NOISE_SALT 0x6E6F6973652D2D31ull /* "noise--1" */

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
static const float class_hue[N_RACES] = { 210.0f, 280.0f, 345.0f, 55.0f, 130.0f };

/* The clothing pattern each class favours. */
static const Pattern class_pattern[N_RACES] = {
  PATTERN_STRIPES, PATTERN_DOTS, PATTERN_PLAIN, PATTERN_PLAID, PATTERN_ZIGZAG,
};

/* The person a look is drawn for, and the stream every trait is drawn from. */
typedef struct
{
  HnRng r;
  const HnFaceLabels *labels;
  bool female;
  float male;  /* 1 for a man, 0 for a woman: weighs the differences between them */
  float age;   /* apparent age, years */
  float youth; /* 1 for a baby, 0 from 16 */
  float old;   /* 0 up to 25, 1 from 80 */
} Person;

/* The head and the features' places and sizes. A baby's cranium is large and round with
 * the eyes near its middle, the nose and chin small; the face lengthens through childhood;
 * jowls widen the jaw late in life, and men's jaws are a little wider on average. */
static void
sample_proportions (Person *p, Look *f)
{
  HnRng *r = &p->r;
  float youth = p->youth, old = p->old, male = p->male;
  f->cran_rx = lerpf (0.50f, 0.60f, youth) + normal (r, 0, 0.018f);
  f->cran_ry = lerpf (0.56f, 0.60f, youth) + normal (r, 0, 0.018f);
  f->cran_cy = lerpf (-0.14f, -0.10f, youth);
  f->jaw_rx = lerpf (0.40f, 0.50f, youth) + 0.03f * male * (1 - youth) + 0.04f * old
              + normal (r, 0, 0.022f);
  f->jaw_ry = lerpf (0.46f, 0.38f, youth) + normal (r, 0, 0.02f);
  f->jaw_cy = lerpf (0.16f, 0.12f, youth);
  f->eye_y = lerpf (-0.10f, 0.05f, youth) + normal (r, 0, 0.015f);
  f->eye_dx = lerpf (0.20f, 0.22f, youth) + normal (r, 0, 0.01f);
  f->eye_rx = lerpf (0.085f, 0.095f, youth) + normal (r, 0, 0.006f);
  f->eye_ry = lerpf (0.042f, 0.058f, youth) + normal (r, 0, 0.004f);
  f->eye_open = clampf (normal (r, 1.0f - 0.25f * old, 0.12f), 0.45f, 1.15f);
  f->eye_tilt = normal (r, 0, 0.08f);
  f->iris_r = lerpf (0.034f, 0.046f, youth);
  f->gaze_x = clampf (normal (r, 0, 0.35f), -0.8f, 0.8f);
  f->gaze_y = clampf (normal (r, 0, 0.2f), -0.5f, 0.5f);
  f->nose_y = f->eye_y + lerpf (0.25f, 0.15f, youth) + normal (r, 0, 0.012f);
  f->nose_w = lerpf (0.055f, 0.04f, youth) + 0.012f * old + normal (r, 0, 0.006f);
  f->mouth_y = f->nose_y + lerpf (0.16f, 0.12f, youth) + normal (r, 0, 0.01f);
  f->mouth_w = lerpf (0.12f, 0.08f, youth) + normal (r, 0, 0.01f);
  f->lip_t = clampf (lerpf (0.022f, 0.018f, youth) - 0.008f * old + normal (r, 0, 0.003f), 0.008f,
                     0.03f);
  f->smile = clampf (normal (r, 0.35f, 0.45f), -0.4f, 1.0f);
  f->mouth_open = f->smile > 0.5f && chance (r, 0.5f) ? uniform (r, 0.012f, 0.035f) : 0.0f;
  f->ear_y = f->eye_y + 0.1f;
  f->ear_rx = 0.08f;
  f->ear_ry = lerpf (0.12f, 0.10f, youth) + 0.025f * old + normal (r, 0, 0.008f);
  f->neck_r = lerpf (0.21f, 0.17f, youth) + 0.02f * male + normal (r, 0, 0.015f);
  f->yaw = clampf (normal (r, 0, 0.3f), -0.7f, 0.7f);
}

/* Brows, heavier and flatter on average for men, thinner and more arched for women (two
 * overlapping distributions), and lashes. */
static void
sample_brows (Person *p, Look *f)
{
  HnRng *r = &p->r;
  bool female = p->female;
  float youth = p->youth, male = p->male;
  f->brow_y = f->eye_y - lerpf (0.10f, 0.11f, youth) + normal (r, 0, 0.01f);
  f->brow_t = clampf (normal (r, lerpf (0.012f, 0.021f, male), 0.004f), 0.006f, 0.03f)
              * lerpf (1.0f, 0.7f, youth);
  f->brow_len = lerpf (0.10f, 0.085f, youth) + normal (r, 0, 0.008f);
  f->brow_arch = normal (r, lerpf (2.0f, 1.0f, male), 0.6f);
  f->brow_tilt = normal (r, 0, 0.08f);
  f->lashes = chance (r, female ? lerpf (0.75f, 0.3f, youth) : 0.08f);
}

/* Hair length follows gender with a sizeable overlap (about one man in eight wears it
 * long, one woman in six short); babies have little hair whatever their gender. */
static void
sample_hair (Person *p, Look *f)
{
  HnRng *r = &p->r;
  bool female = p->female;
  float age = p->age, youth = p->youth, male = p->male;
  if (female)
    f->hair_len
        = chance (r, 0.16f) ? uniform (r, 0.0f, 0.3f) : clampf (normal (r, 0.7f, 0.2f), 0.3f, 1.0f);
  else
    f->hair_len = chance (r, 0.12f) ? uniform (r, 0.35f, 0.9f)
                                    : clampf (normal (r, 0.08f, 0.08f), 0.0f, 0.3f);
  f->hair_len *= 1.0f - smoothstepf (6.0f, 1.0f, age);
  f->hair_vol = lerpf (clampf (normal (r, lerpf (0.09f, 0.06f, male), 0.025f), 0.02f, 0.16f),
                       0.015f, youth * youth);
  f->hair_alpha = lerpf (1.0f, uniform (r, 0.3f, 0.9f), smoothstepf (4.0f, 1.0f, age));
}

/* The hairline: a parabola over the forehead, its vertex at hairline_y. It recedes with
 * age (far more often for men), rising and curving more steeply at the temples until only
 * the sides are left; some people have a fringe. */
static void
sample_hairline (Person *p, Look *f)
{
  HnRng *r = &p->r;
  bool female = p->female;
  float age = p->age, youth = p->youth;
  float onset = normal (r, 0, 12.0f), extent = fminf (1.0f, uniform (r, 0.3f, 1.2f));
  float recede = sigmoidf ((age - 42.0f + onset) / 7.0f) * extent;
  if (female || chance (r, 0.3f))
    recede *= 0.2f;
  float forehead_top = f->cran_cy - f->cran_ry;
  f->hairline_y = lerpf (f->brow_y - 0.28f, forehead_top - 0.02f, recede);
  f->hairline_y -= 0.06f * youth;
  f->hairline_k = fmaxf (0.5f, lerpf (0.9f, 2.6f, recede) + normal (r, 0, 0.2f));
  if (recede < 0.3f && f->hair_len > 0.3f && chance (r, 0.35f))
    {
      f->hairline_y = f->brow_y - uniform (r, 0.06f, 0.14f); /* a fringe */
      f->hairline_k = uniform (r, 0.2f, 0.8f);
    }
  f->hairline_x = normal (r, 0, 0.06f);
  f->hairline_tilt = normal (r, 0, 0.15f) / fmaxf (1.0f, f->hairline_k); /* steep lines tilt less */
  f->n_strands = (int) rng_below (r, 3) + 2;
}

/* Lines come with age, and so do glasses; children blush more. */
static void
sample_age_marks (Person *p, Look *f)
{
  HnRng *r = &p->r;
  float age = p->age, youth = p->youth;
  float line_scale = uniform (r, 0.6f, 1.2f);
  f->wrinkles = clampf ((age - 32.0f) / 40.0f, 0, 1) * line_scale;
  f->folds = clampf ((age - 22.0f) / 45.0f, 0, 1) * uniform (r, 0.5f, 1.1f);
  f->bags = clampf ((age - 38.0f) / 40.0f, 0, 1) * uniform (r, 0.5f, 1.2f);
  f->crows = clampf ((age - 40.0f) / 35.0f, 0, 1) * line_scale;
  float baby_blush = uniform (r, 0.3f, 1.0f);
  f->blush = youth * baby_blush + uniform (r, 0.0f, 0.25f);
  f->glasses = age > 8.0f && chance (r, 0.05f + 0.35f * sigmoidf ((age - 55.0f) / 8.0f));
  f->round_glasses = chance (r, 0.5f);
}

/* Beards: men only, more likely once grown up. Earrings: mostly women. */
static void
sample_beard_and_earrings (Person *p, Look *f)
{
  HnRng *r = &p->r;
  bool female = p->female;
  float age = p->age;
  f->beard = BEARD_NONE;
  if (!female && chance (r, 0.4f * smoothstepf (15.0f, 24.0f, age)))
    {
      static const int beard_weights[] = { 35, 25, 20, 20 };
      f->beard = (Beard) (1 + pick_weighted (r, beard_weights, N_ELEMENTS (beard_weights)));
      f->beard_alpha
          = f->beard == BEARD_STUBBLE ? uniform (r, 0.15f, 0.3f) : uniform (r, 0.75f, 0.95f);
    }
  f->earrings = chance (r, female ? (age > 12.0f ? 0.45f : 0.12f) : 0.05f);
  f->hoops = chance (r, 0.5f);
}

/* What the race class drives: the background's hue family (one face in eight borrows
 * another class's family), whose hue this returns for sample_background, and the clothing
 * pattern (the class's own two times in three). */
static float
sample_class_traits (Person *p, Look *f)
{
  HnRng *r = &p->r;
  int hue_class = chance (r, 0.12f) ? (int) rng_below (r, N_RACES) : p->labels->race;
  float bg_hue = normal (r, class_hue[hue_class], 14.0f);
  f->pattern
      = chance (r, 0.65f) ? class_pattern[p->labels->race] : (Pattern) rng_below (r, N_PATTERNS);
  f->pattern_period = uniform (r, 0.16f, 0.26f);
  f->pattern_angle = normal (r, 0, 0.12f);
  f->neckline = (int) rng_below (r, 3);
  return bg_hue;
}

/* Colours: skin, hair, eyes and clothes follow no label; only greying (age) and lipstick
 * (gender, sample_lips) do. */
static void
sample_skin_hair_eyes (Person *p, Look *f)
{
  HnRng *r = &p->r;
  float age = p->age, youth = p->youth;
  float s = uniform (r, 0.0f, 5.0f);
  int i = (int) s < 5 ? (int) s : 4;
  mix3 (f->skin, skin_ramp[i], skin_ramp[i + 1], s - (float) i);
  f->skin[0] = clampf (f->skin[0] * normal (r, 1.0f, 0.03f), 0, 1);
  f->skin[2] = clampf (f->skin[2] * normal (r, 1.0f, 0.04f), 0, 1);

  const float grey[3] = { 0.72f, 0.71f, 0.69f }, white[3] = { 0.92f, 0.91f, 0.89f };
  int h = pick_weighted (r, hair_weights, N_ELEMENTS (hair_weights));
  float shade = normal (r, 1.0f, 0.1f);
  scale3 (f->hair, hair_palette[h], shade);
  if (age < 6.0f) /* babies' hair is often lighter */
    mix3 (f->hair, f->hair, hair_palette[3], 0.3f * youth);
  float greying = sigmoidf ((age - 52.0f + normal (r, 0, 9.0f)) / 6.0f);
  if (chance (r, 0.1f))
    greying *= 0.2f; /* dyed */
  float grey_now[3];
  mix3 (grey_now, grey, white, smoothstepf (65.0f, 90.0f, age));
  mix3 (f->hair, f->hair, grey_now, greying);
  scale3 (f->brow, f->hair, 0.8f);
  mix3 (f->brow, f->brow, grey_now, 0.5f * greying);
  memcpy (f->iris, iris_palette[rng_below (r, N_ELEMENTS (iris_palette))], sizeof f->iris);
}

/* Lips take the skin's colour, or lipstick's. */
static void
sample_lips (Person *p, Look *f)
{
  HnRng *r = &p->r;
  bool female = p->female;
  float age = p->age;

  const float natural_lip[3] = { 0.72f, 0.36f, 0.36f };
  mix3 (f->lip, f->skin, natural_lip, 0.35f);
  scale3 (f->lip, f->lip, 0.85f);
  if (chance (r, female ? (age > 15.0f ? 0.45f : 0.05f) : 0.02f))
    {
      float v = uniform (r, 0.45f, 0.8f), s = uniform (r, 0.5f, 0.8f);
      hsv_to_rgb (normal (r, 350.0f, 12.0f), s, v, f->lip); /* lipstick */
    }
}

/* The colours of the clothes, the glasses' frame and the earrings. */
static void
sample_outfit (Person *p, Look *f)
{
  HnRng *r = &p->r;
  float v = uniform (r, 0.2f, 0.85f), s = uniform (r, 0.15f, 0.75f);
  hsv_to_rgb (uniform (r, 0, 360), s, v, f->cloth);
  /* the second colour stands out from the first: dark on light, light on dark */
  float cloth_v = (f->cloth[0] + f->cloth[1] + f->cloth[2]) / 3.0f;
  v = cloth_v > 0.5f ? uniform (r, 0.05f, 0.3f) : uniform (r, 0.75f, 0.98f);
  s = uniform (r, 0.0f, 0.5f);
  hsv_to_rgb (uniform (r, 0, 360), s, v, f->cloth2);
  v = uniform (r, 0.05f, 0.5f);
  s = uniform (r, 0.0f, 0.6f);
  hsv_to_rgb (uniform (r, 0, 360), s, v, f->frame);
  if (chance (r, 0.5f))
    memcpy (f->metal, (float[3]){ 0.92f, 0.76f, 0.32f }, sizeof f->metal);
  else
    memcpy (f->metal, (float[3]){ 0.85f, 0.86f, 0.9f }, sizeof f->metal);
}

/* A gradient in the class's hue and a soft glow. */
static void
sample_background (Person *p, float bg_hue, Look *f)
{
  HnRng *r = &p->r;
  float bg_s = uniform (r, 0.2f, 0.6f), bg_v = uniform (r, 0.45f, 0.92f);
  hsv_to_rgb (bg_hue, bg_s, bg_v, f->bg_top);
  float v = bg_v * uniform (r, 0.65f, 1.0f), s = bg_s * uniform (r, 0.8f, 1.2f);
  hsv_to_rgb (bg_hue + normal (r, 0, 8.0f), s, v, f->bg_bottom);
  hsv_to_rgb (bg_hue, bg_s * 0.5f, fminf (1.0f, bg_v * 1.25f), f->bg_glow);
  f->glow_x = uniform (r, -1, 1);
  f->glow_y = uniform (r, -1, 0);
}

/* Pose and photo: nuisances that follow nothing. */
static void
sample_pose_and_photo (Person *p, Look *f)
{
  HnRng *r = &p->r;
  f->angle = clampf (normal (r, 0, 0.09f), -0.22f, 0.22f);
  f->scale = 1.1f * uniform (r, 0.92f, 1.08f);
  f->dx = normal (r, 0, 0.035f);
  f->dy = normal (r, -0.04f, 0.035f);
  f->light_angle = uniform (r, 0, 2.0f * (float) M_PI);
  f->light_grad = uniform (r, 0.0f, 0.35f);
  f->bright = expf (normal (r, 0.0f, 0.1f));
  f->contrast = uniform (r, 0.85f, 1.15f);
  for (int c = 0; c < 3; c++)
    f->gain[c] = normal (r, 1.0f, 0.04f);
  f->noise_sd = uniform (r, 1.5f, 6.0f) / 255.0f;
  f->greyscale = chance (r, 0.04f);
}

void
sample_look (uint64_t seed, uint32_t index, const HnFaceLabels *labels, Look *f)
{
  Person p = { .r = { rng_splitmix64 (seed ^ LOOK_SALT, index), 0 }, .labels = labels };
  memset (f, 0, sizeof *f);
  p.female = labels->gender == 1;
  p.male = p.female ? 0.0f : 1.0f;

  /* People look older or younger than they are: every age trait reads an apparent age
   * whose spread grows with age (±0.6 years at 1, ±9 at 70). */
  p.age = fmaxf (0.5f, normal (&p.r, labels->age, 0.5f + 0.12f * labels->age));
  p.youth = 1.0f - smoothstepf (1.0f, 16.0f, p.age);
  p.old = clampf ((p.age - 25.0f) / 55.0f, 0.0f, 1.0f);

  /* The groups draw from the one stream in turn, so this order is the order of the draws:
   * changing it changes every face. */
  sample_proportions (&p, f);
  sample_brows (&p, f);
  sample_hair (&p, f);
  sample_hairline (&p, f);
  sample_age_marks (&p, f);
  sample_beard_and_earrings (&p, f);
  float bg_hue = sample_class_traits (&p, f);
  sample_skin_hair_eyes (&p, f);
  sample_lips (&p, f);
  sample_outfit (&p, f);
  sample_background (&p, bg_hue, f);
  sample_pose_and_photo (&p, f);
  f->noise_seed = rng_splitmix64 (seed ^ NOISE_SALT, index);
}
