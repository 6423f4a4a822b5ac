/* align.c — the similarity from a face's landmarks to the chip's, and the chip's pixels. */
#include "align.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void
face_fit_similarity (const HnPoint *from, const HnPoint *to, float *a, float *b, float *tx,
                     float *ty)
{
  const int n = FACE_FIT_LAST + 1 - FACE_FIT_FIRST;
  double fx = 0, fy = 0, qx = 0, qy = 0;
  for (int i = FACE_FIT_FIRST; i <= FACE_FIT_LAST; i++)
    {
      fx += from[i].x, fy += from[i].y;
      qx += to[i].x, qy += to[i].y;
    }
  fx /= n, fy /= n, qx /= n, qy /= n;

  /* With p = from − mean and q = to − mean as complex numbers, the best z = a + ib in
   * q ≈ z·p is Σ conj(p)·q / Σ |p|². */
  double re = 0, im = 0, norm = 0;
  for (int i = FACE_FIT_FIRST; i <= FACE_FIT_LAST; i++)
    {
      double px = from[i].x - fx, py = from[i].y - fy;
      double ux = to[i].x - qx, uy = to[i].y - qy;
      re += px * ux + py * uy;
      im += px * uy - py * ux;
      norm += px * px + py * py;
    }
  double za = norm > 0 ? re / norm : 0, zb = norm > 0 ? im / norm : 0;
  *a = (float) za;
  *b = (float) zb;
  *tx = (float) (qx - (za * fx - zb * fy));
  *ty = (float) (qy - (zb * fx + za * fy));
}

/* img at (x, y), bilinear; outside, its nearest edge pixel. sum (3) += the sample. */
static inline void
add_sample (const HnImage *img, float x, float y, float *sum)
{
  float x0f = floorf (x), y0f = floorf (y);
  float fx = x - x0f, fy = y - y0f;
  long x0 = (long) x0f, y0 = (long) y0f;
  float w[4] = { (1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy };
  if (x0 >= 0 && y0 >= 0 && x0 + 1 < img->w && y0 + 1 < img->h) /* all four inside */
    {
      const uint8_t *p = img->rgb + ((size_t) y0 * img->w + x0) * 3;
      const uint8_t *q = p + (size_t) img->w * 3;
      for (int c = 0; c < 3; c++)
        sum[c] += w[0] * p[c] + w[1] * p[c + 3] + w[2] * q[c] + w[3] * q[c + 3];
      return;
    }
  for (int k = 0; k < 4; k++)
    {
      long xi = x0 + (k & 1), yi = y0 + (k >> 1);
      xi = xi < 0 ? 0 : xi >= img->w ? img->w - 1 : xi;
      yi = yi < 0 ? 0 : yi >= img->h ? img->h - 1 : yi;
      const uint8_t *p = img->rgb + ((size_t) yi * img->w + xi) * 3;
      for (int c = 0; c < 3; c++)
        sum[c] += w[k] * p[c];
    }
}

/* img seen through chip = [a −b; b a]·p + t, n×n samples a pixel. */
static void
warp (const HnImage *img, float a, float b, float tx, float ty, int n, int size, uint8_t *chip)
{
  /* p = M⁻¹(chip − t), M⁻¹ = [a b; −b a] / (a² + b²) */
  double det = (double) a * a + (double) b * b;
  float ia = (float) (a / det), ib = (float) (b / det);
  const float step = 1.0f / n, inv = 1.0f / (n * n);
  for (int v = 0; v < size; v++)
    for (int u = 0; u < size; u++)
      {
        float sum[3] = { 0, 0, 0 };
        for (int j = 0; j < n; j++)
          for (int i = 0; i < n; i++)
            {
              float cx = u - 0.5f + (i + 0.5f) * step - tx;
              float cy = v - 0.5f + (j + 0.5f) * step - ty;
              add_sample (img, ia * cx + ib * cy, -ib * cx + ia * cy, sum);
            }
        uint8_t *out = chip + ((size_t) v * size + u) * 3;
        for (int c = 0; c < 3; c++)
          {
            float value = sum[c] * inv + 0.5f;
            out[c] = value >= 255.0f ? 255 : (uint8_t) value;
          }
      }
}

/* region (the part of img at x0, y0 of (w, h), whole blocks) averaged k×k into out. */
static void
shrink_region (const HnImage *img, int x0, int y0, int k, HnImage *out)
{
  const unsigned area = (unsigned) k * k;
  for (int y = 0; y < out->h; y++)
    for (int x = 0; x < out->w; x++)
      {
        unsigned sum[3] = { 0, 0, 0 };
        for (int j = 0; j < k; j++)
          {
            const uint8_t *p = img->rgb + ((size_t) (y0 + y * k + j) * img->w + x0 + x * k) * 3;
            for (int i = 0; i < k * 3; i += 3)
              sum[0] += p[i], sum[1] += p[i + 1], sum[2] += p[i + 2];
          }
        uint8_t *o = out->rgb + ((size_t) y * out->w + x) * 3;
        for (int c = 0; c < 3; c++)
          o[c] = (uint8_t) ((sum[c] + area / 2) / area);
      }
}

void
face_warp (const HnImage *img, const HnFace *face, int size, uint8_t *chip)
{
  double det = (double) face->a * face->a + (double) face->b * face->b;
  HN_ASSERT (det > 0);
  /* One chip pixel spans 1/√det image pixels. A face k or more times the chip's size is first
   * averaged k×k over the part of the photo the chip sees, so that the warp reads a few
   * samples a pixel instead of k² (97 ms → a few for a 1100-pixel face). */
  double span = 1.0 / sqrt (det);
  int k = (int) floor (span);
  if (k >= 2)
    {
      /* the chip's corners in the photo, widened by a block */
      float ia = (float) (face->a / det), ib = (float) (face->b / det);
      float lo_x = INFINITY, lo_y = INFINITY, hi_x = -INFINITY, hi_y = -INFINITY;
      for (int corner = 0; corner < 4; corner++)
        {
          float cx = (corner & 1 ? size : -1) - face->tx, cy = (corner & 2 ? size : -1) - face->ty;
          float px = ia * cx + ib * cy, py = -ib * cx + ia * cy;
          lo_x = fminf (lo_x, px), hi_x = fmaxf (hi_x, px);
          lo_y = fminf (lo_y, py), hi_y = fmaxf (hi_y, py);
        }
      int x0 = (int) fmaxf (0, floorf (lo_x) - k), y0 = (int) fmaxf (0, floorf (lo_y) - k);
      int x1 = (int) fminf (img->w, ceilf (hi_x) + k), y1 = (int) fminf (img->h, ceilf (hi_y) + k);
      HnImage small = { (x1 - x0) / k, (y1 - y0) / k, NULL };
      /* whole blocks: cut at the photo's right or bottom edge, they end at it, so that the
       * edge repeated past it is the photo's own */
      if (x1 == img->w)
        x0 = x1 - k * small.w;
      if (y1 == img->h)
        y0 = y1 - k * small.h;
      if (small.w > 0 && small.h > 0)
        small.rgb = malloc ((size_t) small.w * small.h * 3);
      if (small.rgb != NULL)
        {
          shrink_region (img, x0, y0, k, &small);
          /* small's pixel s is centred on the photo's x0 + (k − 1)/2 + k·s:
           * chip = M·(k·s + o) + t = (k·M)·s + (M·o + t) */
          float ox = x0 + (k - 1) * 0.5f, oy = y0 + (k - 1) * 0.5f;
          float tx = face->a * ox - face->b * oy + face->tx;
          float ty = face->b * ox + face->a * oy + face->ty;
          int n = (int) ceil (span / k);
          warp (&small, k * face->a, k * face->b, tx, ty, n, size, chip);
          free (small.rgb);
          return;
        }
      /* out of memory for the small copy, or the chip sees nothing of the photo: sample the
       * photo itself, slower */
    }
  int n = (int) ceil (span);
  warp (img, face->a, face->b, face->tx, face->ty, n < 1 ? 1 : n > 16 ? 16 : n, size, chip);
}
