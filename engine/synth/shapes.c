/* shapes.c — signed distances to the shapes a face is drawn with (synth-private.h). */
#include "synth-private.h"

static const Bounds endless = { -INFINITY, -INFINITY, INFINITY, INFINITY };

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

Shape
shape_ellipse (float cx, float cy, float rx, float ry, float angle)
{
  Shape s = shape_prim (SHAPE_ELLIPSE, cx, cy, angle);
  s.rx = rx, s.ry = ry;
  /* Exact: the extents of a turned ellipse are √((rx·c)² + (ry·s)²) and the like. */
  float ex = length2 (rx * s.cosa, ry * s.sina), ey = length2 (rx * s.sina, ry * s.cosa);
  s.bounds = (Bounds){ cx - ex, cy - ey, cx + ex, cy + ey };
  return s;
}

Shape
shape_circle (float cx, float cy, float radius)
{
  return shape_ellipse (cx, cy, radius, radius, 0.0f);
}

Shape
shape_box (float cx, float cy, float rx, float ry, float corner, float angle)
{
  Shape s = shape_prim (SHAPE_BOX, cx, cy, angle);
  s.rx = rx, s.ry = ry, s.r = corner;
  s.bounds = turned_box (cx, cy, rx, ry, s.cosa, s.sina);
  return s;
}

Shape
shape_segment (float x0, float y0, float x1, float y1, float radius)
{
  Shape s
      = shape_prim (SHAPE_SEGMENT, 0.5f * (x0 + x1), 0.5f * (y0 + y1), atan2f (y1 - y0, x1 - x0));
  s.rx = 0.5f * length2 (x1 - x0, y1 - y0), s.r = radius;
  s.bounds = (Bounds){ minf (x0, x1) - radius, minf (y0, y1) - radius, maxf (x0, x1) + radius,
                       maxf (y0, y1) + radius };
  return s;
}

Shape
shape_arc (float cx, float cy, float half_len, float k, float half_width, float taper, float angle)
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
Shape
shape_above (float cx, float cy, float k, float angle)
{
  Shape s = shape_prim (SHAPE_ABOVE, cx, cy, angle);
  s.k = k;
  return s;
}

/* The region below y = cy + k·(x − cx)². */
Shape
shape_below (float cx, float cy, float k)
{
  return shape_above (cx, cy, -k, (float) M_PI);
}

Shape
shape_pattern (ShapeKind kind, float period, float r, float angle)
{
  Shape s = shape_prim (kind, 0.0f, 0.0f, angle);
  s.period = period, s.r = r;
  return s;
}

Shape
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

Shape
shape_intersect (const Shape *a, const Shape *b)
{
  const Bounds *p = &a->bounds, *q = &b->bounds;
  return (Shape){ .kind = SHAPE_INTERSECT,
                  .a = a,
                  .b = b,
                  .bounds = { maxf (p->x0, q->x0), maxf (p->y0, q->y0), minf (p->x1, q->x1),
                              minf (p->y1, q->y1) } };
}

Shape
shape_minus (const Shape *a, const Shape *b)
{
  return (Shape){ .kind = SHAPE_MINUS, .a = a, .b = b, .bounds = a->bounds };
}

Shape
shape_outline (const Shape *a, float half_width)
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

float
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
