#include "winograd.h"

#include <string.h>

#include "error.h"
#include "gemm.h"
#include "parallel.h"

/* Tiles of m×m outputs: TH = ⌈H/m⌉ per column, TW = ⌈W/m⌉ per row, T = N·TH·TW in all;
 * tile t = (n·TH + th)·TW + tw covers output rows m·th … m·th + m − 1 and reads the α = m + 2
 * input rows m·th − 1 … m·th + m (columns alike). Its transformed tile has α² values, one
 * per plane ξ of U, V and M. */
typedef struct
{
  int m, th, tw;
  size_t t;
} Tiles;

static Tiles
tiles_of (const Conv2dShape *s, int m)
{
  HN_ASSERT (m == 2 || m == 4);
  Tiles tl = { .m = m, .th = (s->h + m - 1) / m, .tw = (s->w + m - 1) / m };
  tl.t = (size_t) s->n * tl.th * tl.tw;
  return tl;
}

/* α²: the planes of U, V and M. */
static int
planes_of (int m)
{
  return (m + 2) * (m + 2);
}

bool
winograd_fits (const Conv2dShape *s)
{
  return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->pad == 1;
}

/* The α² planes of U, V and M lie a cache line more than their size apart: at a power-of-two
 * distance (OC·C or C·T floats, as in ResNet) the α² rows a transform writes at once would
 * all map to the same cache sets and evict each other. */
static size_t
plane_stride (size_t size)
{
  return size + 16;
}

size_t
winograd_scratch_size (const Conv2dShape *s, int m)
{
  const Tiles tl = tiles_of (s, m);
  return planes_of (m)
         * (plane_stride ((size_t) s->oc * s->c) + plane_stride ((size_t) s->c * tl.t)
            + plane_stride ((size_t) s->oc * tl.t));
}

/* ---- the transforms, each followed by its adjoint: F(2×2, 3×3), then F(4×4, 3×3) ---- */

/* The weight transforms go LANES filter planes (o, c … c + LANES − 1) at a time, as
 * g[tap][lane] and u[ξ][lane], so that every step is a loop over lanes, which vectorizes; in
 * w (OC, 3, 3, C) a tap's lanes are contiguous. */
#define LANES 8

/* The input and output transforms go a row of tiles at a time, CHUNK tiles at most, so that
 * each is a few loops over contiguous rows that the compiler vectorizes: the α² values of
 * tile k of the row are v[ξ·ld + k], contiguous over k in V and M. Tile k reads columns
 * m·k … m·k + m + 1 of its rows (from −1 in the plane) and writes output columns m·k …
 * m·k + m − 1. */
#define CHUNK 32

/* u (4×4) = G g Gᵀ, g (3×3); G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]. */
static void
f2_weight_transform (float u[16][LANES], const float g[9][LANES])
{
  float t[12][LANES]; /* G g (4×3) */
  for (int j = 0; j < 3; j++)
    for (int l = 0; l < LANES; l++)
      {
        t[0 + j][l] = g[j][l];
        t[3 + j][l] = 0.5f * (g[j][l] + g[3 + j][l] + g[6 + j][l]);
        t[6 + j][l] = 0.5f * (g[j][l] - g[3 + j][l] + g[6 + j][l]);
        t[9 + j][l] = g[6 + j][l];
      }
  for (int i = 0; i < 4; i++) /* (G g) Gᵀ: G along each row */
    for (int l = 0; l < LANES; l++)
      {
        const float a = t[3 * i][l], b = t[3 * i + 1][l], c = t[3 * i + 2][l];
        u[4 * i + 0][l] = a;
        u[4 * i + 1][l] = 0.5f * (a + b + c);
        u[4 * i + 2][l] = 0.5f * (a - b + c);
        u[4 * i + 3][l] = c;
      }
}

/* dg (3×3) = Gᵀ du G, du (4×4): Gᵀ v = [v0 + ½(v1 + v2), ½(v1 − v2), ½(v1 + v2) + v3]. */
static void
f2_weight_transform_adjoint (float dg[9][LANES], const float du[16][LANES])
{
  float t[12][LANES]; /* Gᵀ du (3×4) */
  for (int j = 0; j < 4; j++)
    for (int l = 0; l < LANES; l++)
      {
        const float a = du[j][l], b = du[4 + j][l], c = du[8 + j][l], d = du[12 + j][l];
        t[0 + j][l] = a + 0.5f * (b + c);
        t[4 + j][l] = 0.5f * (b - c);
        t[8 + j][l] = 0.5f * (b + c) + d;
      }
  for (int i = 0; i < 3; i++) /* (Gᵀ du) G: Gᵀ along each row */
    for (int l = 0; l < LANES; l++)
      {
        const float a = t[4 * i][l], b = t[4 * i + 1][l], c = t[4 * i + 2][l];
        const float d = t[4 * i + 3][l];
        dg[3 * i + 0][l] = a + 0.5f * (b + c);
        dg[3 * i + 1][l] = 0.5f * (b - c);
        dg[3 * i + 2][l] = 0.5f * (b + c) + d;
      }
}

/* v = Bᵀ d B for nt tiles, d (4, 2·nt + 2); Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]. */
static void
f2_input_row_transform (float *v, size_t ld, const float *d, int nt)
{
  const int width = 2 * nt + 2;
  float t[4][2 * CHUNK + 2]; /* Bᵀ d */
  for (int k = 0; k < width; k++)
    {
      t[0][k] = d[k] - d[2 * width + k];
      t[1][k] = d[width + k] + d[2 * width + k];
      t[2][k] = d[2 * width + k] - d[width + k];
      t[3][k] = d[width + k] - d[3 * width + k];
    }
  for (int i = 0; i < 4; i++) /* (Bᵀ d) B: Bᵀ again along each row */
    {
      float *v0 = v + 4 * i * ld, *v1 = v0 + ld, *v2 = v1 + ld, *v3 = v2 + ld;
      const float *r = t[i];
      for (int k = 0; k < nt; k++)
        {
          v0[k] = r[2 * k] - r[2 * k + 2];
          v1[k] = r[2 * k + 1] + r[2 * k + 2];
          v2[k] = r[2 * k + 2] - r[2 * k + 1];
          v3[k] = r[2 * k + 1] - r[2 * k + 3];
        }
    }
}

/* The adjoint: d (4, 2·nt + 2) = Σ over the tiles of B dv Bᵀ, each at its columns (tiles
 * overlap by two); B v = [v0, v1 − v2 + v3, −v0 + v1 + v2, −v3]. */
static void
f2_input_row_transform_adjoint (float *d, const float *v, size_t ld, int nt)
{
  const int width = 2 * nt + 2;
  float t[4][4][CHUNK + 1]; /* B dv: row i, column j, tile k; tile nt is zero */
  for (int j = 0; j < 4; j++)
    {
      const float *a = v + j * ld, *b = a + 4 * ld, *c = b + 4 * ld, *e = c + 4 * ld;
      for (int k = 0; k < nt; k++)
        {
          t[0][j][k] = a[k];
          t[1][j][k] = b[k] - c[k] + e[k];
          t[2][j][k] = b[k] + c[k] - a[k];
          t[3][j][k] = -e[k];
        }
      for (int i = 0; i < 4; i++)
        t[i][j][nt] = 0.0f;
    }
  for (int i = 0; i < 4; i++) /* (B dv) Bᵀ: column 2k gets tile k's first and tile k − 1's third */
    {
      const float *r0 = t[i][0], *r1 = t[i][1], *r2 = t[i][2], *r3 = t[i][3];
      float *row = d + i * width;
      row[0] = r0[0];
      row[1] = r1[0] - r2[0] + r3[0];
      for (int k = 1; k <= nt; k++)
        {
          row[2 * k] = r0[k] + r1[k - 1] + r2[k - 1] - r0[k - 1];
          row[2 * k + 1] = r1[k] - r2[k] + r3[k] - r3[k - 1];
        }
    }
}

/* y (2, 2·nt) = Aᵀ m A for nt tiles; Aᵀ = [[1,1,1,0],[0,1,−1,−1]]. */
static void
f2_output_row_transform (float *y, const float *m, size_t ld, int nt)
{
  float t[2][4][CHUNK]; /* Aᵀ m */
  for (int j = 0; j < 4; j++)
    {
      const float *a = m + j * ld, *b = a + 4 * ld, *c = b + 4 * ld, *e = c + 4 * ld;
      for (int k = 0; k < nt; k++)
        {
          t[0][j][k] = a[k] + b[k] + c[k];
          t[1][j][k] = b[k] - c[k] - e[k];
        }
    }
  for (int i = 0; i < 2; i++, y += 2 * nt)
    {
      const float *r0 = t[i][0], *r1 = t[i][1], *r2 = t[i][2], *r3 = t[i][3];
      for (int k = 0; k < nt; k++)
        {
          y[2 * k] = r0[k] + r1[k] + r2[k];
          y[2 * k + 1] = r1[k] - r2[k] - r3[k];
        }
    }
}

/* The adjoint: m = A dy Aᵀ for nt tiles, dy (2, 2·nt); A v = [v0, v0 + v1, v0 − v1, −v1]. */
static void
f2_output_row_transform_adjoint (float *m, size_t ld, const float *dy, int nt)
{
  float t[2][4][CHUNK]; /* dy Aᵀ */
  for (int i = 0; i < 2; i++)
    {
      const float *r = dy + i * 2 * nt;
      for (int k = 0; k < nt; k++)
        {
          t[i][0][k] = r[2 * k];
          t[i][1][k] = r[2 * k] + r[2 * k + 1];
          t[i][2][k] = r[2 * k] - r[2 * k + 1];
          t[i][3][k] = -r[2 * k + 1];
        }
    }
  for (int j = 0; j < 4; j++)
    {
      float *a = m + j * ld, *b = a + 4 * ld, *c = b + 4 * ld, *e = c + 4 * ld;
      for (int k = 0; k < nt; k++)
        {
          a[k] = t[0][j][k];
          b[k] = t[0][j][k] + t[1][j][k];
          c[k] = t[0][j][k] - t[1][j][k];
          e[k] = -t[1][j][k];
        }
    }
}

/* F(4×4, 3×3) at the points 0, ±1, ±2, ∞. */

/* u (6×6) = G g Gᵀ, g (3×3); G = [[¼,0,0],[−⅙,−⅙,−⅙],[−⅙,⅙,−⅙],[1/24,1/12,⅙],[1/24,−1/12,⅙],
 * [0,0,1]], i.e. G v = [¼v0, −⅙(v0 + v1 + v2), −⅙(v0 − v1 + v2), ⅙(¼v0 + ½v1 + v2),
 * ⅙(¼v0 − ½v1 + v2), v2]. */
static void
f4_weight_transform (float u[36][LANES], const float g[9][LANES])
{
  const float sixth = 1.0f / 6.0f;
  float t[18][LANES]; /* G g (6×3) */
  for (int j = 0; j < 3; j++)
    for (int l = 0; l < LANES; l++)
      {
        const float a = g[j][l], b = g[3 + j][l], c = g[6 + j][l];
        t[0 + j][l] = 0.25f * a;
        t[3 + j][l] = -sixth * (a + b + c);
        t[6 + j][l] = -sixth * (a - b + c);
        t[9 + j][l] = sixth * (0.25f * a + 0.5f * b + c);
        t[12 + j][l] = sixth * (0.25f * a - 0.5f * b + c);
        t[15 + j][l] = c;
      }
  for (int i = 0; i < 6; i++) /* (G g) Gᵀ: G along each row */
    for (int l = 0; l < LANES; l++)
      {
        const float a = t[3 * i][l], b = t[3 * i + 1][l], c = t[3 * i + 2][l];
        u[6 * i + 0][l] = 0.25f * a;
        u[6 * i + 1][l] = -sixth * (a + b + c);
        u[6 * i + 2][l] = -sixth * (a - b + c);
        u[6 * i + 3][l] = sixth * (0.25f * a + 0.5f * b + c);
        u[6 * i + 4][l] = sixth * (0.25f * a - 0.5f * b + c);
        u[6 * i + 5][l] = c;
      }
}

/* dg (3×3) = Gᵀ du G, du (6×6): with p = v1 + v2, q = v3 + v4,
 * Gᵀ v = [¼v0 + ⅙(¼q − p), ⅙((v2 − v1) + ½(v3 − v4)), ⅙(q − p) + v5]. */
static void
f4_weight_transform_adjoint (float dg[9][LANES], const float du[36][LANES])
{
  const float sixth = 1.0f / 6.0f;
  float t[18][LANES]; /* Gᵀ du (3×6) */
  for (int j = 0; j < 6; j++)
    for (int l = 0; l < LANES; l++)
      {
        const float v0 = du[j][l], v1 = du[6 + j][l], v2 = du[12 + j][l];
        const float v3 = du[18 + j][l], v4 = du[24 + j][l], v5 = du[30 + j][l];
        const float p = v1 + v2, q = v3 + v4;
        t[0 + j][l] = 0.25f * v0 + sixth * (0.25f * q - p);
        t[6 + j][l] = sixth * ((v2 - v1) + 0.5f * (v3 - v4));
        t[12 + j][l] = sixth * (q - p) + v5;
      }
  for (int i = 0; i < 3; i++) /* (Gᵀ du) G: Gᵀ along each row */
    for (int l = 0; l < LANES; l++)
      {
        const float v0 = t[6 * i][l], v1 = t[6 * i + 1][l], v2 = t[6 * i + 2][l];
        const float v3 = t[6 * i + 3][l], v4 = t[6 * i + 4][l], v5 = t[6 * i + 5][l];
        const float p = v1 + v2, q = v3 + v4;
        dg[3 * i + 0][l] = 0.25f * v0 + sixth * (0.25f * q - p);
        dg[3 * i + 1][l] = sixth * ((v2 - v1) + 0.5f * (v3 - v4));
        dg[3 * i + 2][l] = sixth * (q - p) + v5;
      }
}

/* v = Bᵀ d B for nt tiles, d (6, 4·nt + 2); Bᵀ = [[4,0,−5,0,1,0],[0,−4,−4,1,1,0],
 * [0,4,−4,−1,1,0],[0,−2,−1,2,1,0],[0,2,−1,−2,1,0],[0,4,0,−5,0,1]], i.e. with
 * a = v4 − 4v2, b = v3 − 4v1, c = v4 − v2, e = 2(v3 − v1):
 * Bᵀ v = [4v0 − 5v2 + v4, a + b, a − b, c + e, c − e, 4v1 − 5v3 + v5]. */
static void
f4_input_row_transform (float *v, size_t ld, const float *d, int nt)
{
  const int width = 4 * nt + 2;
  const float *d0 = d, *d1 = d0 + width, *d2 = d1 + width, *d3 = d2 + width;
  const float *d4 = d3 + width, *d5 = d4 + width;
  float t[6][4 * CHUNK + 2]; /* Bᵀ d */
  for (int k = 0; k < width; k++)
    {
      const float a = d4[k] - 4.0f * d2[k], b = d3[k] - 4.0f * d1[k];
      const float c = d4[k] - d2[k], e = 2.0f * (d3[k] - d1[k]);
      t[0][k] = 4.0f * d0[k] - 5.0f * d2[k] + d4[k];
      t[1][k] = a + b;
      t[2][k] = a - b;
      t[3][k] = c + e;
      t[4][k] = c - e;
      t[5][k] = 4.0f * d1[k] - 5.0f * d3[k] + d5[k];
    }
  for (int i = 0; i < 6; i++) /* (Bᵀ d) B: Bᵀ again along each row */
    {
      float *v0 = v + 6 * i * ld, *v1 = v0 + ld, *v2 = v1 + ld, *v3 = v2 + ld, *v4 = v3 + ld;
      float *v5 = v4 + ld;
      const float *r = t[i];
      for (int k = 0; k < nt; k++)
        {
          const float *x = r + 4 * k;
          const float a = x[4] - 4.0f * x[2], b = x[3] - 4.0f * x[1];
          const float c = x[4] - x[2], e = 2.0f * (x[3] - x[1]);
          v0[k] = 4.0f * x[0] - 5.0f * x[2] + x[4];
          v1[k] = a + b;
          v2[k] = a - b;
          v3[k] = c + e;
          v4[k] = c - e;
          v5[k] = 4.0f * x[1] - 5.0f * x[3] + x[5];
        }
    }
}

/* The adjoint: d (6, 4·nt + 2) = Σ over the tiles of B dv Bᵀ, each at its columns (tiles
 * overlap by two); with p = v1 + v2, q = v1 − v2, s = v3 + v4, r = v3 − v4:
 * B v = [4v0, 4(v5 − q) − 2r, −5v0 − 4p − s, q + 2r − 5v5, v0 + p + s, v5]. */
static void
f4_input_row_transform_adjoint (float *d, const float *v, size_t ld, int nt)
{
  const int width = 4 * nt + 2;
  float t[6][6][CHUNK + 1]; /* B dv: row i, column j, tile k at k + 1; tile −1 is zero */
  for (int j = 0; j < 6; j++)
    {
      const float *v0 = v + j * ld, *v1 = v0 + 6 * ld, *v2 = v1 + 6 * ld, *v3 = v2 + 6 * ld;
      const float *v4 = v3 + 6 * ld, *v5 = v4 + 6 * ld;
      for (int i = 0; i < 6; i++)
        t[i][j][0] = 0.0f;
      for (int k = 0; k < nt; k++)
        {
          const float p = v1[k] + v2[k], q = v1[k] - v2[k];
          const float s = v3[k] + v4[k], r = v3[k] - v4[k];
          t[0][j][k + 1] = 4.0f * v0[k];
          t[1][j][k + 1] = 4.0f * (v5[k] - q) - 2.0f * r;
          t[2][j][k + 1] = -5.0f * v0[k] - 4.0f * p - s;
          t[3][j][k + 1] = q + 2.0f * r - 5.0f * v5[k];
          t[4][j][k + 1] = v0[k] + p + s;
          t[5][j][k + 1] = v5[k];
        }
    }
  for (int i = 0; i < 6; i++) /* (B dv) Bᵀ: columns 4k, 4k + 1 also get tile k − 1's last two */
    {
      const float *c0 = t[i][0], *c1 = t[i][1], *c2 = t[i][2], *c3 = t[i][3], *c4 = t[i][4];
      const float *c5 = t[i][5];
      float *row = d + i * width;
      for (int k = 0; k < nt; k++)
        {
          const int a = k + 1, b = k; /* tile k, tile k − 1 */
          const float p = c1[a] + c2[a], q = c1[a] - c2[a], s = c3[a] + c4[a], r = c3[a] - c4[a];
          const float pb = c1[b] + c2[b], sb = c3[b] + c4[b];
          row[4 * k] = 4.0f * c0[a] + c0[b] + pb + sb;
          row[4 * k + 1] = 4.0f * (c5[a] - q) - 2.0f * r + c5[b];
          row[4 * k + 2] = -5.0f * c0[a] - 4.0f * p - s;
          row[4 * k + 3] = q + 2.0f * r - 5.0f * c5[a];
        }
      row[4 * nt] = c0[nt] + c1[nt] + c2[nt] + c3[nt] + c4[nt];
      row[4 * nt + 1] = c5[nt];
    }
}

/* y (4, 4·nt) = Aᵀ m A for nt tiles; Aᵀ = [[1,1,1,1,1,0],[0,1,−1,2,−2,0],[0,1,1,4,4,0],
 * [0,1,−1,8,−8,1]], i.e. with p = v1 + v2, q = v1 − v2, s = v3 + v4, r = v3 − v4:
 * Aᵀ v = [v0 + p + s, q + 2r, p + 4s, q + 8r + v5]. */
static void
f4_output_row_transform (float *y, const float *m, size_t ld, int nt)
{
  float t[4][6][CHUNK]; /* Aᵀ m */
  for (int j = 0; j < 6; j++)
    {
      const float *m0 = m + j * ld, *m1 = m0 + 6 * ld, *m2 = m1 + 6 * ld, *m3 = m2 + 6 * ld;
      const float *m4 = m3 + 6 * ld, *m5 = m4 + 6 * ld;
      for (int k = 0; k < nt; k++)
        {
          const float p = m1[k] + m2[k], q = m1[k] - m2[k];
          const float s = m3[k] + m4[k], r = m3[k] - m4[k];
          t[0][j][k] = m0[k] + p + s;
          t[1][j][k] = q + 2.0f * r;
          t[2][j][k] = p + 4.0f * s;
          t[3][j][k] = q + 8.0f * r + m5[k];
        }
    }
  for (int i = 0; i < 4; i++, y += 4 * nt)
    {
      const float *r0 = t[i][0], *r1 = t[i][1], *r2 = t[i][2], *r3 = t[i][3], *r4 = t[i][4];
      const float *r5 = t[i][5];
      for (int k = 0; k < nt; k++)
        {
          const float p = r1[k] + r2[k], q = r1[k] - r2[k];
          const float s = r3[k] + r4[k], r = r3[k] - r4[k];
          y[4 * k] = r0[k] + p + s;
          y[4 * k + 1] = q + 2.0f * r;
          y[4 * k + 2] = p + 4.0f * s;
          y[4 * k + 3] = q + 8.0f * r + r5[k];
        }
    }
}

/* The adjoint: m = A dy Aᵀ for nt tiles, dy (4, 4·nt); with e = v0 + v2, o = v1 + v3,
 * E = v0 + 4v2, O = 2v1 + 8v3: A v = [v0, e + o, e − o, E + O, E − O, v3]. */
static void
f4_output_row_transform_adjoint (float *m, size_t ld, const float *dy, int nt)
{
  float t[4][6][CHUNK]; /* dy Aᵀ */
  for (int i = 0; i < 4; i++)
    {
      const float *r = dy + i * 4 * nt;
      for (int k = 0; k < nt; k++)
        {
          const float *x = r + 4 * k;
          const float e = x[0] + x[2], o = x[1] + x[3];
          const float ee = x[0] + 4.0f * x[2], oo = 2.0f * x[1] + 8.0f * x[3];
          t[i][0][k] = x[0];
          t[i][1][k] = e + o;
          t[i][2][k] = e - o;
          t[i][3][k] = ee + oo;
          t[i][4][k] = ee - oo;
          t[i][5][k] = x[3];
        }
    }
  for (int j = 0; j < 6; j++)
    {
      float *m0 = m + j * ld, *m1 = m0 + 6 * ld, *m2 = m1 + 6 * ld, *m3 = m2 + 6 * ld;
      float *m4 = m3 + 6 * ld, *m5 = m4 + 6 * ld;
      const float *x0 = t[0][j], *x1 = t[1][j], *x2 = t[2][j], *x3 = t[3][j];
      for (int k = 0; k < nt; k++)
        {
          const float e = x0[k] + x2[k], o = x1[k] + x3[k];
          const float ee = x0[k] + 4.0f * x2[k], oo = 2.0f * x1[k] + 8.0f * x3[k];
          m0[k] = x0[k];
          m1[k] = e + o;
          m2[k] = e - o;
          m3[k] = ee + oo;
          m4[k] = ee - oo;
          m5[k] = x3[k];
        }
    }
}

/* The six transforms of one F(m×m, 3×3). */
typedef struct
{
  void (*weight) (float (*u)[LANES], const float (*g)[LANES]);
  void (*weight_adjoint) (float (*dg)[LANES], const float (*du)[LANES]);
  void (*input) (float *v, size_t ld, const float *d, int nt);
  void (*input_adjoint) (float *d, const float *v, size_t ld, int nt);
  void (*output) (float *y, const float *m, size_t ld, int nt);
  void (*output_adjoint) (float *m, size_t ld, const float *dy, int nt);
} Transforms;

static const Transforms f2 = { f2_weight_transform,     f2_weight_transform_adjoint,
                               f2_input_row_transform,  f2_input_row_transform_adjoint,
                               f2_output_row_transform, f2_output_row_transform_adjoint };

static const Transforms f4 = { f4_weight_transform,     f4_weight_transform_adjoint,
                               f4_input_row_transform,  f4_input_row_transform_adjoint,
                               f4_output_row_transform, f4_output_row_transform_adjoint };

/* ---- the transforms over a whole layer, each parallel over channels ---- */

/* d (rows, width) = rows ih0 … of the plane (H, W), columns iw0 …; zero outside it. */
static void
rows_load (float *d, int rows, int width, const float *plane, const Conv2dShape *s, int ih0,
           int iw0)
{
  const int lo = iw0 < 0 ? -iw0 : 0, end = s->w - iw0 < width ? s->w - iw0 : width;
  const int hi = end > lo ? end : lo; /* columns [lo, hi) of d are inside the plane */
  for (int i = 0; i < rows; i++, d += width)
    {
      const int ih = ih0 + i;
      if (ih < 0 || ih >= s->h)
        {
          memset (d, 0, sizeof (float) * width);
          continue;
        }
      memset (d, 0, sizeof (float) * lo);
      memcpy (d + lo, plane + (size_t) ih * s->w + iw0 + lo, sizeof (float) * (hi - lo));
      memset (d + hi, 0, sizeof (float) * (width - hi));
    }
}

/* The adjoint, accumulating: the plane += d at the positions inside it; the rest (padding)
 * is dropped. */
static void
rows_add (float *plane, const float *d, int rows, int width, const Conv2dShape *s, int ih0, int iw0)
{
  const int lo = iw0 < 0 ? -iw0 : 0, hi = s->w - iw0 < width ? s->w - iw0 : width;
  for (int i = 0; i < rows; i++, d += width)
    {
      const int ih = ih0 + i;
      if (ih < 0 || ih >= s->h)
        continue;
      float *p = plane + (size_t) ih * s->w + iw0;
      for (int k = lo; k < hi; k++)
        p[k] += d[k];
    }
}

typedef struct WinoJob WinoJob;

/* Transforms one chunk of a row of tiles: channel c, image n, tile row th, tiles tw0 … tw0 +
 * nt − 1, the first of which is tile t of the layer. */
typedef void (*RowFn) (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t);

struct WinoJob
{
  const Conv2dShape *s;
  Tiles tl;
  const Transforms *f; /* F(m×m, 3×3)'s transforms, m = tl.m */
  int planes;          /* α² */
  float *u, *v, *m;    /* U (α², OC, C), V (α², C, T), M (α², OC, T) */
  size_t lu, lv, lm;   /* the distance between their α² planes */
  float *out;          /* y, dx or dw */
  const float *in;     /* x, dy or w */
  RowFn row;           /* the row transform run_rows is running */
};

/* U[ξ][o][c] = (G w[o][·][·][c] Gᵀ)_ξ, output channels [o0, o1). Lanes past C transform
 * zeros. */
static void
weights_part (void *ctx, size_t o0, size_t o1)
{
  const WinoJob *j = ctx;
  const size_t c = j->s->c;
  for (size_t o = o0; o < o1; o++)
    for (size_t c0 = 0; c0 < c; c0 += LANES)
      {
        const int nl = c - c0 < LANES ? (int) (c - c0) : LANES;
        const float *w = j->in + o * 9 * c + c0; /* w[o][k][c0 …], (OC, 3, 3, C) */
        float g[9][LANES] = { { 0 } }, u[36][LANES];
        for (int k = 0; k < 9; k++)
          memcpy (g[k], w + k * c, sizeof (float) * nl);
        j->f->weight (u, g);
        for (int xi = 0; xi < j->planes; xi++)
          memcpy (j->u + xi * j->lu + o * c + c0, u[xi], sizeof (float) * nl);
      }
}

/* dw[o][c] += Gᵀ dU[·][o][c] G, output channels [o0, o1); dU is in U's place. */
static void
weights_adjoint_part (void *ctx, size_t o0, size_t o1)
{
  const WinoJob *j = ctx;
  const size_t c = j->s->c;
  for (size_t o = o0; o < o1; o++)
    for (size_t c0 = 0; c0 < c; c0 += LANES)
      {
        const int nl = c - c0 < LANES ? (int) (c - c0) : LANES;
        float du[36][LANES] = { { 0 } }, dg[9][LANES];
        for (int xi = 0; xi < j->planes; xi++)
          memcpy (du[xi], j->u + xi * j->lu + o * c + c0, sizeof (float) * nl);
        j->f->weight_adjoint (dg, du);
        float *dw = j->out + o * 9 * c + c0;
        for (int k = 0; k < 9; k++)
          for (int l = 0; l < nl; l++)
            dw[k * c + l] += dg[k][l];
      }
}

/* Runs j->row on every chunk of a row of tiles of channels [c0, c1). */
static void
rows_part (void *ctx, size_t c0, size_t c1)
{
  const WinoJob *j = ctx;
  for (size_t c = c0; c < c1; c++)
    {
      size_t t = 0;
      for (int n = 0; n < j->s->n; n++)
        for (int th = 0; th < j->tl.th; th++)
          for (int tw0 = 0; tw0 < j->tl.tw; tw0 += CHUNK)
            {
              const int nt = j->tl.tw - tw0 < CHUNK ? j->tl.tw - tw0 : CHUNK;
              j->row (j, c, n, th, tw0, nt, t);
              t += nt;
            }
    }
}

/* The largest row of input tiles, α × (m·CHUNK + 2), and of output tiles, m × m·CHUNK. */
#define INPUT_ROWS_MAX (6 * (4 * CHUNK + 2))
#define OUTPUT_ROWS_MAX (4 * 4 * CHUNK)

/* V[·][c][t …] from x[c][n], the input rows m·th − 1 … m·th + m. */
static void
input_row (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  const int m = j->tl.m;
  float d[INPUT_ROWS_MAX];
  rows_load (d, m + 2, m * nt + 2, j->in + (c * s->n + n) * s->h * s->w, s, m * th - 1,
             m * tw0 - 1);
  j->f->input (j->v + c * j->tl.t + t, j->lv, d, nt);
}

/* dx[c][n] += the adjoint, from dV in V's place. */
static void
input_adjoint_row (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  const int m = j->tl.m;
  float d[INPUT_ROWS_MAX];
  j->f->input_adjoint (d, j->v + c * j->tl.t + t, j->lv, nt);
  rows_add (j->out + (c * s->n + n) * s->h * s->w, d, m + 2, m * nt + 2, s, m * th - 1,
            m * tw0 - 1);
}

/* y[o][n] at output rows m·th … m·th + m − 1 from M[·][o][t …]; outputs past the edge are
 * not stored. */
static void
output_row (const WinoJob *j, size_t o, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  const int m = j->tl.m;
  float y[OUTPUT_ROWS_MAX];
  j->f->output (y, j->m + o * j->tl.t + t, j->lm, nt);
  float *plane = j->out + (o * s->n + n) * s->h * s->w;
  const int ow0 = m * tw0, cols = s->w - ow0 < m * nt ? s->w - ow0 : m * nt;
  for (int i = 0; i < m && m * th + i < s->h; i++)
    memcpy (plane + (size_t) (m * th + i) * s->w + ow0, y + i * m * nt, sizeof (float) * cols);
}

/* dM[·][o][t …] from dy[o][n]; outputs past the edge do not exist and read as zero. */
static void
output_adjoint_row (const WinoJob *j, size_t o, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  const int m = j->tl.m;
  float dy[OUTPUT_ROWS_MAX];
  rows_load (dy, m, m * nt, j->in + (o * s->n + n) * s->h * s->w, s, m * th, m * tw0);
  j->f->output_adjoint (j->m + o * j->tl.t + t, j->lm, dy, nt);
}

/* A transform over channels, each with α²·per_channel floats of transformed data. */
static void
run_transform (ParallelFn fn, WinoJob *j, size_t channels, size_t per_channel)
{
  parallel_for (channels, parallel_grain (j->planes * per_channel), fn, j);
}

/* A row transform over channels, each with a row of α² values per tile. */
static void
run_rows (RowFn row, WinoJob *j, size_t channels)
{
  j->row = row;
  run_transform (rows_part, j, channels, j->tl.t);
}

/* The α² products C_ξ (M, N) = op(A_ξ) (M, K) · op(B_ξ) (K, N), dense row-major matrices
 * whose planes lie la, lb, lc floats apart. Each ξ goes to one thread whole: gemm() called
 * inside a part runs serially there (parallel.h), so the threads meet once for all α² rather
 * than once per product, and each packs only its own operands. */
typedef struct
{
  bool ta, tb;
  int m, n, k;
  const float *a, *b;
  float *c;
  size_t la, lb, lc;
} Products;

static void
products_part (void *ctx, size_t x0, size_t x1)
{
  const Products *p = ctx;
  for (size_t x = x0; x < x1; x++)
    gemm (p->ta, p->tb, p->m, p->n, p->k, 1.0f, p->a + x * p->la, p->ta ? p->m : p->k,
          p->b + x * p->lb, p->tb ? p->k : p->n, 0.0f, p->c + x * p->lc, p->n);
}

static void
products (const WinoJob *j, bool ta, bool tb, int m, int n, int k, const float *a, size_t la,
          const float *b, size_t lb, float *c, size_t lc)
{
  Products p = { ta, tb, m, n, k, a, b, c, la, lb, lc };
  parallel_for (j->planes, 1, products_part, &p);
}

static WinoJob
job_of (float *scratch, const Conv2dShape *s, int m)
{
  HN_ASSERT (winograd_fits (s) && s->oh == s->h && s->ow == s->w);
  WinoJob j = { .s = s, .tl = tiles_of (s, m), .f = m == 4 ? &f4 : &f2, .planes = planes_of (m) };
  j.lu = plane_stride ((size_t) s->oc * s->c);
  j.lv = plane_stride ((size_t) s->c * j.tl.t);
  j.lm = plane_stride ((size_t) s->oc * j.tl.t);
  j.u = scratch;
  j.v = j.u + j.planes * j.lu;
  j.m = j.v + j.planes * j.lv;
  return j;
}

void
winograd_forward (float *y, float *scratch, const float *x, const float *w, const Conv2dShape *s,
                  int m)
{
  WinoJob j = job_of (scratch, s, m);
  const int oc = s->oc, c = s->c, t = (int) j.tl.t;
  j.in = w;
  run_transform (weights_part, &j, oc, c);
  j.in = x;
  run_rows (input_row, &j, c);
  /* M_ξ (OC, T) = U_ξ (OC, C) · V_ξ (C, T) */
  products (&j, false, false, oc, t, c, j.u, j.lu, j.v, j.lv, j.m, j.lm);
  j.out = y;
  run_rows (output_row, &j, oc);
}

/* dU goes where U would, and is folded into dw before U is needed for dx; dV then takes V's
 * place once dU no longer needs V. */
void
winograd_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                   const float *w, const Conv2dShape *s, int m)
{
  WinoJob j = job_of (scratch, s, m);
  const int oc = s->oc, c = s->c, t = (int) j.tl.t;
  j.in = x;
  run_rows (input_row, &j, c);
  j.in = dy;
  run_rows (output_adjoint_row, &j, oc);
  /* dU_ξ (OC, C) = dM_ξ (OC, T) · V_ξᵀ (T, C) */
  products (&j, false, true, oc, c, t, j.m, j.lm, j.v, j.lv, j.u, j.lu);
  j.out = dw;
  run_transform (weights_adjoint_part, &j, oc, c);
  if (dx == NULL)
    return;
  j.in = w;
  run_transform (weights_part, &j, oc, c);
  /* dV_ξ (C, T) = U_ξᵀ (C, OC) · dM_ξ (OC, T) */
  products (&j, true, false, c, t, oc, j.u, j.lu, j.m, j.lm, j.v, j.lv);
  j.out = dx;
  run_rows (input_adjoint_row, &j, c);
}
