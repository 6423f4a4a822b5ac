/* synth-private.h — what the files of the synthetic faces share (synth.h says what they are).
 *
 * One face, from (seed, index, size):
 *  1. labels.c: its labels, from the stream splitmix64 (seed ^ LABEL_SALT, index): age from
 *     UTKFace's age histogram, gender 50/50, race class with UTKFace's frequencies;
 *  2. look.c: its look (Look), from a second stream: traits that follow the labels, each
 *     with its own noise, and nuisances (pose, expression, colours, light) that follow
 *     nothing;
 *  3. face.c: drawn at k× the target size (k = 2 from 64 px up, else enough for ≥ 128 px) as
 *     soft signed-distance shapes (shapes.c) painted into a float canvas (canvas.c), then
 *     resized to size×size with image_crop_resize (Pillow's antialiased bilinear filter, the
 *     data loader's own);
 *  4. photo.c: light gradient, colour cast, contrast and sensor noise at the target size.
 * The split key is the top 32 bits of splitmix64 (seed ^ SYNTH_SPLIT_SALT, index), a third
 * stream. The streams are separate so that labels and split keys do not change when the
 * drawing does, and every face is a pure function of its inputs: jobs.c's threads may draw
 * them in any order and the bytes are the same.
 *
 * Face coordinates: the head's centre near (0, 0), y down, one unit ≈ the frame's
 * half-width before the pose (a scale of ≈ 1.1, a rotation and an offset) maps them into
 * the frame [−1, 1]².
 */
#pragma once

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "error.h"
#include "rng.h"

/* ---------------------------------------------------------------------------------------
 * Small maths
 */

#define N_ELEMENTS(a) ((int) (sizeof (a) / sizeof (a)[0]))

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

static inline void
mix3 (float *out, const float *a, const float *b, float t)
{
  for (int c = 0; c < 3; c++)
    out[c] = lerpf (a[c], b[c], t);
}

static inline void
scale3 (float *out, const float *a, float f)
{
  for (int c = 0; c < 3; c++)
    out[c] = clampf (a[c] * f, 0.0f, 1.0f);
}

/* ---------------------------------------------------------------------------------------
 * labels.c: the labels' distributions, and the weighted pick the look uses too.
 */

/* An index in [0, n) drawn with the given integer weights: one rng_below of their sum. */
int pick_weighted (HnRng *r, const int *weights, int n);

/* ---------------------------------------------------------------------------------------
 * look.c: the look of one face, every number the drawing needs, in face coordinates.
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

void sample_look (uint64_t seed, uint32_t index, const HnFaceLabels *labels, Look *f);

/* ---------------------------------------------------------------------------------------
 * shapes.c: signed distances in face units, negative inside. Primitives live in a local
 * frame (origin cx, cy; x axis at `angle`); composites combine two shapes' distances.
 * Each shape carries a box (in face coordinates) that holds its inside, so painting
 * visits only the pixels that can change. A composite points to its parts: they must
 * outlive it.
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

typedef struct Shape Shape;
struct Shape
{
  ShapeKind kind;
  float cx, cy, cosa, sina;
  float rx, ry, r, k, taper, period;
  const Shape *a, *b;
  Bounds bounds;
};

Shape shape_ellipse (float cx, float cy, float rx, float ry, float angle);
Shape shape_circle (float cx, float cy, float radius);
Shape shape_box (float cx, float cy, float rx, float ry, float corner, float angle);
Shape shape_segment (float x0, float y0, float x1, float y1, float radius);
Shape shape_arc (float cx, float cy, float half_len, float k, float half_width, float taper,
                 float angle);
Shape shape_above (float cx, float cy, float k, float angle);
Shape shape_below (float cx, float cy, float k);
Shape shape_pattern (ShapeKind kind, float period, float r, float angle);
Shape shape_union (const Shape *a, const Shape *b, float smooth);
Shape shape_intersect (const Shape *a, const Shape *b);
Shape shape_minus (const Shape *a, const Shape *b);
Shape shape_outline (const Shape *a, float half_width);

/* The signed distance of face point (u, v) to s's edge. */
float shape_sdf (const Shape *s, float u, float v);

/* ---------------------------------------------------------------------------------------
 * canvas.c: a float RGB square that knows the face's pose, and the inks shapes are painted with.
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

static inline Ink
ink (const float rgb[3], float alpha)
{
  return (Ink){ { rgb[0], rgb[1], rgb[2] }, alpha, 0, 0, 0 };
}

static inline Ink
ink_scaled (const float rgb[3], float f, float alpha)
{
  Ink i = ink (rgb, alpha);
  scale3 (i.rgb, rgb, f);
  return i;
}

/* Scratch for drawing faces of size×size; fails only for want of memory. */
bool canvas_init (Canvas *cv, int size, HnError *err);
void canvas_clear (Canvas *cv);

/* Sets the face's pose on the canvas: pixels per unit, origin and angle. */
void canvas_pose (Canvas *cv, float scale, float dx, float dy, float angle);

void canvas_paint (Canvas *cv, const Shape *s, const Ink *ink_);

/* ---------------------------------------------------------------------------------------
 * face.c and photo.c
 */

/* synth_face with the caller's canvas, which a worker reuses from face to face. */
bool face_with_canvas (uint64_t seed, uint32_t index, int size, Canvas *cv, uint8_t *rgb,
                       HnFaceLabels *labels, HnError *err);

/* The photo's light, colours and sensor noise, applied to rgb (size, size, 3) in place. */
void photo_develop (const Look *f, int size, uint8_t *rgb);
