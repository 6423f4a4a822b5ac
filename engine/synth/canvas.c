/* canvas.c — the raster a face is drawn on, and painting a shape into it with an ink. */
#include "synth-private.h"

#include <stdlib.h>

#define TILE 8

/* Canvas side for a target size: ≥ 2× and ≥ 128 px, a whole multiple of the target. */
static int
canvas_side (int size)
{
  int k = size >= 64 ? 2 : (128 + size - 1) / size;
  return k * size;
}

bool
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

void
canvas_clear (Canvas *cv)
{
  free (cv->rgb);
  free (cv->u8);
  cv->rgb = NULL, cv->u8 = NULL;
}

void
canvas_pose (Canvas *cv, float scale, float dx, float dy, float angle)
{
  cv->m = 0.5f * (float) cv->side * scale;
  cv->px = 1.0f / cv->m;
  cv->ox = 0.5f * (float) cv->side * (1.0f + dx);
  cv->oy = 0.5f * (float) cv->side * (1.0f + dy);
  cv->cosa = cosf (angle), cv->sina = sinf (angle);
}

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
void
canvas_paint (Canvas *cv, const Shape *s, const Ink *ink_)
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
