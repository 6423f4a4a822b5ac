/* face.c — one synthetic face: drawn from its look, back to front, then resized. */
#include "synth.h"
#include "synth-private.h"

#include "image.h"

/* How far the inner features (eyes, brows, mouth, lines) move sideways as the head turns. */
static inline float
yaw_shift (const Look *f)
{
  return 0.05f * f->yaw;
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

static void
draw_hair_back (Canvas *cv, const Look *f)
{
  if (f->hair_len < 0.15f)
    return;
  /* A mass behind the head from the crown down to hair_len: wide enough to frame the
   * face, rounded at the bottom. */
  float wide = f->cran_rx + f->hair_vol + 0.04f;
  float top = f->cran_cy, bottom = f->cran_cy + 0.35f + 1.1f * f->hair_len;
  Shape crown
      = shape_ellipse (0, f->cran_cy - 0.3f * f->hair_vol, wide, f->cran_ry + f->hair_vol, 0);
  Shape fall = shape_box (0, 0.5f * (top + bottom), wide + 0.03f * f->hair_len,
                          0.5f * (bottom - top), 0.18f, 0);
  Shape mass = shape_union (&crown, &fall, 0.1f);
  Ink i = ink_scaled (f->hair, 0.78f, f->hair_alpha);
  i.rim = 0.08f, i.dark = 0.3f;
  canvas_paint (cv, &mass, &i);
}

static void
draw_body (Canvas *cv, const Look *f)
{
  float chin = f->jaw_cy + f->jaw_ry;
  Shape neck = shape_segment (0, chin - 0.2f, 0, 1.4f, f->neck_r);
  Ink skin = ink_scaled (f->skin, 0.88f, 1.0f);
  skin.rim = 0.06f, skin.dark = 0.25f;
  canvas_paint (cv, &neck, &skin);
  Shape jaw_shadow = shape_ellipse (0, chin + 0.02f, f->jaw_rx * 0.7f, 0.08f, 0);
  Shape neck_shadow = shape_intersect (&jaw_shadow, &neck);
  Ink shadow = ink_scaled (f->skin, 0.6f, 0.5f);
  shadow.soft = 0.04f;
  canvas_paint (cv, &neck_shadow, &shadow);

  /* Shoulders and clothing: a wide ellipse with a neckline cut out of it. */
  float top = chin + 0.16f;
  float shoulders = 1.25f + 0.15f * (f->neck_r - 0.17f) / 0.04f;
  Shape torso = shape_ellipse (0, top + 0.5f, shoulders, 0.5f, 0);
  Shape cut = f->neckline == 0 ? shape_ellipse (0, top, f->neck_r * 1.3f, 0.12f, 0)
              : f->neckline == 1
                  ? shape_box (0, top, f->neck_r * 0.9f, 0.2f, 0.02f, (float) M_PI / 4)
                  : shape_ellipse (0, top, f->neck_r * 1.05f, 0.04f, 0);
  Shape cloth = shape_minus (&torso, &cut);
  Ink c = ink (f->cloth, 1.0f);
  c.rim = 0.1f, c.dark = 0.25f;
  canvas_paint (cv, &cloth, &c);

  Shape a, b;
  float p = f->pattern_period, angle = f->pattern_angle;
  switch (f->pattern)
    {
    case PATTERN_STRIPES:
      a = shape_pattern (SHAPE_STRIPES, p, 0.25f * p, angle);
      break;
    case PATTERN_DOTS:
      a = shape_pattern (SHAPE_DOTS, p, 0.25f * p, angle);
      break;
    case PATTERN_PLAID:
      {
        Shape h = shape_pattern (SHAPE_STRIPES, p, 0.16f * p, angle);
        Shape vert = shape_pattern (SHAPE_STRIPES, p, 0.16f * p, angle + (float) M_PI / 2);
        a = shape_union (&h, &vert, 0);
        Shape on = shape_intersect (&a, &cloth);
        Ink pi = ink (f->cloth2, 0.8f);
        canvas_paint (cv, &on, &pi);
        return;
      }
    case PATTERN_ZIGZAG:
      a = shape_pattern (SHAPE_ZIGZAG, p, 0.2f * p, angle);
      break;
    default:
      return;
    }
  b = shape_intersect (&a, &cloth);
  Ink pi = ink (f->cloth2, 0.9f);
  canvas_paint (cv, &b, &pi);
}

static void
draw_ears (Canvas *cv, const Look *f)
{
  for (int side = -1; side <= 1; side += 2)
    {
      /* The ear on the side the head turns away from looks smaller. */
      float size = 1.0f + 0.3f * f->yaw * (float) side;
      float x = (float) side * (f->cran_rx + 0.02f - 0.02f * f->yaw * (float) side);
      Shape ear = shape_ellipse (x, f->ear_y, f->ear_rx * size, f->ear_ry, (float) side * 0.15f);
      Ink i = ink_scaled (f->skin, 0.93f, 1.0f);
      i.rim = 0.03f, i.dark = 0.3f;
      canvas_paint (cv, &ear, &i);
      Shape inner = shape_arc (x + (float) side * 0.012f, f->ear_y, f->ear_ry * 0.6f, 0.0f, 0.01f,
                               0.6f, (float) M_PI / 2 + (float) side * 0.15f);
      Ink in = ink_scaled (f->skin, 0.7f, 0.6f);
      canvas_paint (cv, &inner, &in);
      if (f->earrings)
        {
          float y = f->ear_y + f->ear_ry * 0.95f;
          Shape ring = shape_circle (x, y + (f->hoops ? 0.035f : 0.0f), f->hoops ? 0.035f : 0.018f);
          Shape hoop = shape_outline (&ring, 0.007f);
          Ink m = ink (f->metal, 1.0f);
          m.rim = 0.01f, m.dark = 0.3f;
          canvas_paint (cv, f->hoops ? &hoop : &ring, &m);
        }
    }
}

static Shape
head_shape (const Look *f, Shape *cranium, Shape *jaw)
{
  *cranium = shape_ellipse (0, f->cran_cy, f->cran_rx, f->cran_ry, 0);
  *jaw = shape_ellipse (0, f->jaw_cy, f->jaw_rx, f->jaw_ry, 0);
  return shape_union (cranium, jaw, 0.12f);
}

static void
draw_head (Canvas *cv, const Look *f)
{
  Shape cranium, jaw;
  Shape head = head_shape (f, &cranium, &jaw);
  Ink i = ink (f->skin, 1.0f);
  i.rim = 0.12f, i.dark = 0.22f;
  canvas_paint (cv, &head, &i);
}

/* Lines and shadows that age brings, and cheeks. */
static void
draw_marks (Canvas *cv, const Look *f)
{
  float shift = yaw_shift (f);
  Ink line = ink_scaled (f->skin, 0.62f, 0.0f);
  line.soft = 0.006f;

  for (int side = -1; side <= 1; side += 2)
    {
      float sd = (float) side;
      Shape cheek = shape_circle (sd * 0.25f + shift, f->mouth_y - 0.1f, 0.09f);
      Ink b = ink ((float[3]){ 0.95f, 0.45f, 0.45f }, 0.25f * f->blush);
      b.soft = 0.07f;
      canvas_paint (cv, &cheek, &b);

      /* Folds from the nose's wings to past the mouth's corners. */
      float x0 = sd * (f->nose_w * 1.3f) + shift, y0 = f->nose_y - 0.01f;
      float x1 = sd * (f->mouth_w + 0.04f) + shift, y1 = f->mouth_y + 0.04f;
      Shape fold = shape_arc (0.5f * (x0 + x1), 0.5f * (y0 + y1), 0.5f * hypotf (x1 - x0, y1 - y0),
                              -sd * 1.5f, 0.009f, 0.7f, atan2f (y1 - y0, x1 - x0));
      line.alpha = 0.7f * f->folds;
      canvas_paint (cv, &fold, &line);

      /* Lines from the mouth's corners down to the chin line. */
      Shape marionette
          = shape_segment (sd * (f->mouth_w + 0.01f) + shift, f->mouth_y + 0.03f,
                           sd * (f->mouth_w + 0.03f) + shift, f->mouth_y + 0.12f, 0.006f);
      line.alpha = 0.6f * f->wrinkles;
      canvas_paint (cv, &marionette, &line);

      /* Bags under the eyes and crow's feet at their outer corners. */
      float ex = sd * f->eye_dx + shift, ey = f->eye_y + f->eye_ry * f->eye_open;
      Shape bag = shape_arc (ex, ey + 0.035f, f->eye_rx * 0.8f, 4.0f, 0.008f, 0.8f, 0);
      line.alpha = 0.8f * f->bags;
      canvas_paint (cv, &bag, &line);
      for (int j = -1; j <= 1; j++)
        {
          float ox = ex + sd * (f->eye_rx + 0.035f), oy = f->eye_y + 0.022f * (float) j;
          Shape crow = shape_segment (ox, oy, ox + sd * 0.045f, oy + 0.018f * (float) j, 0.005f);
          line.alpha = 0.6f * f->crows;
          canvas_paint (cv, &crow, &line);
        }
    }

  /* Forehead lines, under the hair. */
  for (int j = 0; j < 3; j++)
    {
      float y = f->brow_y - 0.07f - 0.055f * (float) j;
      Shape l = shape_arc (shift * 0.5f, y, 0.2f - 0.02f * (float) j, 0.8f, 0.007f, 0.8f, 0);
      line.alpha = clampf (1.2f * f->wrinkles - 0.3f * (float) j, 0.0f, 0.75f);
      canvas_paint (cv, &l, &line);
    }
}

static void
draw_eyes (Canvas *cv, const Look *f)
{
  float shift = yaw_shift (f);
  const float dark[3] = { 0.1f, 0.07f, 0.06f };
  for (int side = -1; side <= 1; side += 2)
    {
      float sd = (float) side, ex = sd * f->eye_dx + shift, ey = f->eye_y;
      float rx = f->eye_rx * (1.0f + 0.15f * f->yaw * sd), ry = f->eye_ry * f->eye_open;
      float angle = -sd * f->eye_tilt;

      /* A crease above the eye, deeper with age. */
      Shape crease = shape_arc (ex, ey - ry - 0.02f, rx * 0.9f, 3.0f, 0.006f, 0.8f, angle);
      Ink c = ink_scaled (f->skin, 0.7f, 0.35f + 0.4f * f->bags);
      c.soft = 0.006f;
      canvas_paint (cv, &crease, &c);

      Shape white = shape_ellipse (ex, ey, rx, ry, angle);
      Ink w = ink ((float[3]){ 0.95f, 0.94f, 0.92f }, 1.0f);
      w.rim = 0.015f, w.dark = 0.2f;
      canvas_paint (cv, &white, &w);

      float ix = ex + f->gaze_x * rx * 0.35f, iy = ey + f->gaze_y * ry * 0.3f;
      Shape iris = shape_circle (ix, iy, f->iris_r);
      Shape iris_in = shape_intersect (&iris, &white);
      Ink ii = ink (f->iris, 1.0f);
      ii.rim = f->iris_r * 0.5f, ii.dark = 0.45f;
      canvas_paint (cv, &iris_in, &ii);
      Shape pupil = shape_circle (ix, iy, f->iris_r * 0.45f);
      Shape pupil_in = shape_intersect (&pupil, &white);
      Ink pi = ink (dark, 1.0f);
      canvas_paint (cv, &pupil_in, &pi);
      Shape glint = shape_circle (ix + 0.3f * f->iris_r, iy - 0.35f * f->iris_r, f->iris_r * 0.22f);
      Ink g = ink ((float[3]){ 1, 1, 1 }, 0.85f);
      canvas_paint (cv, &glint, &g);

      /* Lids: the upper edge drawn strong, the lower faint. */
      Shape edge = shape_outline (&white, 0.006f);
      Shape upper_half = shape_above (ex, ey + ry * 0.3f, 0.0f, angle);
      Shape upper = shape_intersect (&edge, &upper_half);
      Ink lid = ink (dark, 0.9f);
      canvas_paint (cv, &upper, &lid);
      Shape lower_half = shape_below (ex, ey + ry * 0.3f, 0.0f);
      Shape lower = shape_intersect (&edge, &lower_half);
      Ink lower_ink = ink_scaled (f->skin, 0.6f, 0.4f);
      canvas_paint (cv, &lower, &lower_ink);

      if (f->lashes)
        for (int j = 0; j < 3; j++)
          {
            float t = 0.55f + 0.2f * (float) j;
            float lx = ex + sd * rx * t, ly = ey - ry * sqrtf (fmaxf (0.0f, 1.0f - t * t));
            Shape lash = shape_segment (lx, ly, lx + sd * 0.025f, ly - 0.02f, 0.005f);
            canvas_paint (cv, &lash, &lid);
          }

      /* Brows. */
      float bx = sd * (f->eye_dx + 0.01f) + shift;
      Shape brow = shape_arc (bx, f->brow_y, f->brow_len, f->brow_arch, f->brow_t, 0.6f,
                              -sd * (f->brow_tilt + 0.08f));
      Ink bi = ink (f->brow, 0.95f);
      canvas_paint (cv, &brow, &bi);
    }
}

/* The nose: a shadow down one side of the bridge, a rounded tip, two nostrils. */
static void
draw_nose (Canvas *cv, const Look *f)
{
  float nx = 0.08f * f->yaw;
  Ink shadow = ink_scaled (f->skin, 0.7f, 0.45f);
  shadow.soft = 0.02f;
  float side = f->yaw >= 0 ? -1.0f : 1.0f;
  Shape bridge = shape_segment (nx + side * f->nose_w * 0.55f, f->eye_y + 0.06f,
                                nx + side * f->nose_w * 0.8f, f->nose_y - 0.02f, 0.012f);
  canvas_paint (cv, &bridge, &shadow);
  Shape tip = shape_arc (nx, f->nose_y + 0.01f, f->nose_w * 0.9f, -6.0f, 0.008f, 0.6f, 0);
  Ink tip_ink = ink_scaled (f->skin, 0.65f, 0.6f);
  tip_ink.soft = 0.006f;
  canvas_paint (cv, &tip, &tip_ink);
  for (int s = -1; s <= 1; s += 2)
    {
      Shape nostril = shape_ellipse (nx + (float) s * f->nose_w * 0.5f, f->nose_y, 0.017f, 0.01f,
                                     (float) s * 0.3f);
      Ink n = ink_scaled (f->skin, 0.4f, 0.8f);
      canvas_paint (cv, &nostril, &n);
    }
}

/* Moustache and beard, under the lips. */
static void
draw_beard (Canvas *cv, const Look *f)
{
  float shift = yaw_shift (f);
  Ink beard = ink_scaled (f->hair, 0.85f, f->beard_alpha);
  beard.soft = 0.01f;
  float chin = f->jaw_cy + f->jaw_ry;
  if (f->beard == BEARD_FULL || f->beard == BEARD_STUBBLE)
    {
      Shape jaw = shape_ellipse (0, f->jaw_cy, f->jaw_rx + 0.015f, f->jaw_ry + 0.02f, 0);
      Shape lower = shape_below (0, f->nose_y + 0.05f, -0.9f);
      Shape mouth = shape_ellipse (shift, f->mouth_y + 0.01f, f->mouth_w * 1.05f, 0.035f, 0);
      Shape region = shape_intersect (&jaw, &lower);
      Shape beard_shape = shape_minus (&region, &mouth);
      canvas_paint (cv, &beard_shape, &beard);
    }
  if (f->beard == BEARD_GOATEE)
    {
      Shape goatee = shape_ellipse (shift * 0.7f, chin - 0.07f, 0.08f, 0.09f, 0);
      canvas_paint (cv, &goatee, &beard);
    }
  if (f->beard == BEARD_FULL || f->beard == BEARD_GOATEE || f->beard == BEARD_MOUSTACHE)
    {
      Shape moustache = shape_arc (shift, f->mouth_y - f->lip_t - 0.02f, f->mouth_w * 1.05f, 2.0f,
                                   0.022f, 0.5f, 0);
      canvas_paint (cv, &moustache, &beard);
    }
}

/* The mouth: upper lip along the smile's curve, a fuller lower lip, and when it is open a
 * dark inside with a row of teeth. */
static void
draw_mouth (Canvas *cv, const Look *f)
{
  float k = -2.5f * f->smile, mx = yaw_shift (f), my = f->mouth_y, mw = f->mouth_w;
  if (f->mouth_open > 0.0f)
    {
      Shape inside
          = shape_ellipse (mx, my + f->mouth_open * 0.6f, mw * 0.85f, f->mouth_open + 0.008f, 0);
      Ink in = ink ((float[3]){ 0.35f, 0.1f, 0.1f }, 1.0f);
      canvas_paint (cv, &inside, &in);
      Shape teeth_band = shape_above (mx, my + f->mouth_open * 0.5f, 0.0f, 0);
      Shape teeth = shape_intersect (&inside, &teeth_band);
      Ink t = ink ((float[3]){ 0.95f, 0.93f, 0.88f }, 1.0f);
      canvas_paint (cv, &teeth, &t);
    }
  Shape lower_lip
      = shape_ellipse (mx, my + f->mouth_open + f->lip_t * 1.2f, mw * 0.65f, f->lip_t * 1.1f, 0);
  Ink lower = ink_scaled (f->lip, 1.08f, 1.0f);
  lower.rim = 0.012f, lower.dark = 0.15f;
  canvas_paint (cv, &lower_lip, &lower);
  Shape upper_lip = shape_arc (mx, my - 0.004f, mw, k, f->lip_t * 0.9f, 0.7f, 0);
  Ink upper = ink (f->lip, 1.0f);
  canvas_paint (cv, &upper_lip, &upper);
  Shape line = shape_arc (mx, my + 0.004f + f->mouth_open * 0.3f, mw * 0.95f, k, 0.004f, 0.5f, 0);
  Ink li = ink_scaled (f->lip, 0.5f, 0.9f);
  canvas_paint (cv, &line, &li);
}

static void
draw_hair_front (Canvas *cv, const Look *f)
{
  /* The cap: the cranium grown by the hair's volume, above the hairline. */
  Shape grown = shape_ellipse (0, f->cran_cy - 0.3f * f->hair_vol, f->cran_rx + f->hair_vol,
                               f->cran_ry + f->hair_vol, 0);
  Shape line = shape_above (f->hairline_x, f->hairline_y, f->hairline_k, f->hairline_tilt);
  Shape temples = shape_above (0, f->eye_y + 0.02f, 0, 0); /* sideburns end at eye level */
  Shape sides = shape_intersect (&grown, &temples);
  Shape cap = shape_intersect (&sides, &line);
  Ink i = ink (f->hair, f->hair_alpha);
  i.rim = 0.07f, i.dark = 0.35f;
  canvas_paint (cv, &cap, &i);

  /* Strands: darker and lighter strokes sweeping from the parting, clipped to the cap. */
  for (int j = 0; j < f->n_strands; j++)
    {
      float t = ((float) j + 0.5f) / (float) f->n_strands * 2.0f - 1.0f;
      Shape strand = shape_arc (t * f->cran_rx * 0.8f, f->cran_cy - f->cran_ry * 0.75f, 0.25f, 2.5f,
                                0.01f, 0.7f, t * 0.8f);
      Shape on = shape_intersect (&strand, &cap);
      Ink s = ink_scaled (f->hair, j % 2 ? 1.3f : 0.7f, 0.4f * f->hair_alpha);
      canvas_paint (cv, &on, &s);
    }
}

static void
draw_glasses (Canvas *cv, const Look *f)
{
  if (!f->glasses)
    return;
  float shift = yaw_shift (f);
  Ink frame = ink (f->frame, 1.0f);
  Ink lens = ink ((float[3]){ 0.85f, 0.9f, 0.95f }, 0.12f);
  float rx = f->eye_rx * 1.6f, ry = f->eye_rx * (f->round_glasses ? 1.35f : 1.05f);
  for (int side = -1; side <= 1; side += 2)
    {
      float ex = (float) side * f->eye_dx + shift;
      Shape rim = f->round_glasses ? shape_ellipse (ex, f->eye_y, rx, ry, 0)
                                   : shape_box (ex, f->eye_y, rx, ry, 0.03f, 0);
      Shape ring = shape_outline (&rim, 0.012f);
      canvas_paint (cv, &rim, &lens);
      canvas_paint (cv, &ring, &frame);
      Shape arm = shape_segment (ex + (float) side * rx, f->eye_y - 0.02f,
                                 (float) side * (f->cran_rx * 0.97f), f->eye_y - 0.01f, 0.01f);
      canvas_paint (cv, &arm, &frame);
    }
  Shape bridge = shape_arc (shift, f->eye_y - 0.01f, f->eye_dx - rx, -3.0f, 0.01f, 0.0f, 0);
  canvas_paint (cv, &bridge, &frame);
}

/* Draws one face into rgb (size, size, 3) using the canvas's scratch. */
static bool
render_face (const Look *f, Canvas *cv, int size, uint8_t *rgb, HnError *err)
{
  canvas_pose (cv, f->scale, f->dx, f->dy, f->angle);
  paint_background (cv, f);
  draw_hair_back (cv, f);
  draw_body (cv, f);
  draw_ears (cv, f);
  draw_head (cv, f);
  draw_marks (cv, f);
  draw_eyes (cv, f);
  draw_nose (cv, f);
  draw_beard (cv, f);
  draw_mouth (cv, f);
  draw_hair_front (cv, f);
  draw_glasses (cv, f);

  size_t n = (size_t) cv->side * cv->side * 3;
  for (size_t i = 0; i < n; i++)
    cv->u8[i] = (uint8_t) (clampf (cv->rgb[i], 0.0f, 1.0f) * 255.0f + 0.5f);
  HnImage img = { cv->side, cv->side, cv->u8 };
  if (!image_crop_resize (&img, size, rgb, err))
    return false;
  photo_develop (f, size, rgb);
  return true;
}

bool
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
