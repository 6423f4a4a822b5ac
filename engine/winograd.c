#include "winograd.h"

#include <string.h>

#include "error.h"
#include "gemm.h"
#include "parallel.h"

/* Tiles of 2×2 outputs: TH = ⌈H/2⌉ per column, TW = ⌈W/2⌉ per row, T = N·TH·TW in all;
 * tile t = (n·TH + th)·TW + tw covers output rows 2·th, 2·th + 1 and reads input rows
 * 2·th − 1 … 2·th + 2 (columns alike). */
typedef struct
{
  int th, tw;
  size_t t;
} Tiles;

static Tiles
tiles_of (const Conv2dShape *s)
{
  Tiles tl = { .th = (s->h + 1) / 2, .tw = (s->w + 1) / 2 };
  tl.t = (size_t) s->n * tl.th * tl.tw;
  return tl;
}

bool
winograd_fits (const Conv2dShape *s)
{
  return s->kh == 3 && s->kw == 3 && s->stride == 1 && s->pad == 1;
}

/* The 16 planes of U, V and M lie a cache line more than their size apart: at a power-of-two
 * distance (OC·C or C·T floats, as in ResNet) the 16 rows a transform writes at once would
 * all map to the same cache sets and evict each other. */
static size_t
plane_stride (size_t size)
{
  return size + 16;
}

size_t
winograd_scratch_size (const Conv2dShape *s)
{
  const Tiles tl = tiles_of (s);
  return 16
         * (plane_stride ((size_t) s->oc * s->c) + plane_stride ((size_t) s->c * tl.t)
            + plane_stride ((size_t) s->oc * tl.t));
}

/* ---- the transforms, each followed by its adjoint ---- */

/* The weight transforms go LANES filter planes (o, c … c + LANES − 1) at a time, as
 * g[tap][lane] and u[ξ][lane], so that every step is a loop over lanes, which vectorizes. */
#define LANES 8

/* u (4×4) = G g Gᵀ, g (3×3); G = [[1,0,0],[½,½,½],[½,−½,½],[0,0,1]]. */
static void
weight_transform (float u[16][LANES], const float g[9][LANES])
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
weight_transform_adjoint (float dg[9][LANES], const float du[16][LANES])
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

/* The input and output transforms go a row of tiles at a time, CHUNK tiles at most, so that
 * each is a few loops over contiguous rows that the compiler vectorizes: the 16 values of
 * tile k of the row are v[ξ·ld + k], contiguous over k in V and M. Tile k reads columns
 * 2k … 2k + 3 of its rows (from −1 in the plane) and writes output columns 2k, 2k + 1. */
#define CHUNK 32

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

/* v = Bᵀ d B for nt tiles, d (4, 2·nt + 2); Bᵀ = [[1,0,−1,0],[0,1,1,0],[0,−1,1,0],[0,1,0,−1]]. */
static void
input_row_transform (float *v, size_t ld, const float *d, int nt)
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
input_row_transform_adjoint (float *d, const float *v, size_t ld, int nt)
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
output_row_transform (float *y, const float *m, size_t ld, int nt)
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
output_row_transform_adjoint (float *m, size_t ld, const float *dy, int nt)
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

/* ---- the transforms over a whole layer, each parallel over channels ---- */

typedef struct WinoJob WinoJob;

/* Transforms one chunk of a row of tiles: channel c, image n, tile row th, tiles tw0 … tw0 +
 * nt − 1, the first of which is tile t of the layer. */
typedef void (*RowFn) (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t);

struct WinoJob
{
  const Conv2dShape *s;
  Tiles tl;
  float *u, *v, *m;  /* U (16, OC, C), V (16, C, T), M (16, OC, T) */
  size_t lu, lv, lm; /* the distance between their 16 planes */
  float *out;        /* y, dx or dw */
  const float *in;   /* x, dy or w */
  RowFn row;         /* the row transform run_rows is running */
};

/* U[ξ][o][c] = (G w[o][c] Gᵀ)_ξ, output channels [o0, o1). Lanes past C transform zeros. */
static void
weights_part (void *ctx, size_t o0, size_t o1)
{
  const WinoJob *j = ctx;
  const size_t c = j->s->c;
  for (size_t o = o0; o < o1; o++)
    for (size_t c0 = 0; c0 < c; c0 += LANES)
      {
        const int nl = c - c0 < LANES ? (int) (c - c0) : LANES;
        const float *w = j->in + (o * c + c0) * 9;
        float g[9][LANES] = { { 0 } }, u[16][LANES];
        for (int l = 0; l < nl; l++)
          for (int k = 0; k < 9; k++)
            g[k][l] = w[l * 9 + k];
        weight_transform (u, g);
        for (int xi = 0; xi < 16; xi++)
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
        float du[16][LANES] = { { 0 } }, dg[9][LANES];
        for (int xi = 0; xi < 16; xi++)
          memcpy (du[xi], j->u + xi * j->lu + o * c + c0, sizeof (float) * nl);
        weight_transform_adjoint (dg, du);
        float *dw = j->out + (o * c + c0) * 9;
        for (int l = 0; l < nl; l++)
          for (int k = 0; k < 9; k++)
            dw[l * 9 + k] += dg[k][l];
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

/* V[·][c][t …] from x[c][n], the input rows 2·th − 1 … 2·th + 2. */
static void
input_row (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  float d[4 * (2 * CHUNK + 2)];
  rows_load (d, 4, 2 * nt + 2, j->in + (c * s->n + n) * s->h * s->w, s, 2 * th - 1, 2 * tw0 - 1);
  input_row_transform (j->v + c * j->tl.t + t, j->lv, d, nt);
}

/* dx[c][n] += the adjoint, from dV in V's place. */
static void
input_adjoint_row (const WinoJob *j, size_t c, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  float d[4 * (2 * CHUNK + 2)];
  input_row_transform_adjoint (d, j->v + c * j->tl.t + t, j->lv, nt);
  rows_add (j->out + (c * s->n + n) * s->h * s->w, d, 4, 2 * nt + 2, s, 2 * th - 1, 2 * tw0 - 1);
}

/* y[o][n] at output rows 2·th, 2·th + 1 from M[·][o][t …]; outputs past the edge are not
 * stored. */
static void
output_row (const WinoJob *j, size_t o, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  float y[2 * 2 * CHUNK];
  output_row_transform (y, j->m + o * j->tl.t + t, j->lm, nt);
  float *plane = j->out + (o * s->n + n) * s->h * s->w;
  const int ow0 = 2 * tw0, cols = s->w - ow0 < 2 * nt ? s->w - ow0 : 2 * nt;
  for (int i = 0; i < 2 && 2 * th + i < s->h; i++)
    memcpy (plane + (size_t) (2 * th + i) * s->w + ow0, y + i * 2 * nt, sizeof (float) * cols);
}

/* dM[·][o][t …] from dy[o][n]; outputs past the edge do not exist and read as zero. */
static void
output_adjoint_row (const WinoJob *j, size_t o, int n, int th, int tw0, int nt, size_t t)
{
  const Conv2dShape *s = j->s;
  float dy[2 * 2 * CHUNK];
  rows_load (dy, 2, 2 * nt, j->in + (o * s->n + n) * s->h * s->w, s, 2 * th, 2 * tw0);
  output_row_transform_adjoint (j->m + o * j->tl.t + t, j->lm, dy, nt);
}





/* A transform over channels, each with 16·per_channel floats of transformed data. */
static void
run_transform (ParallelFn fn, WinoJob *j, size_t channels, size_t per_channel)
{
  parallel_for (channels, parallel_grain (16 * per_channel), fn, j);
}

/* A row transform over channels, each with a row of 16 values per tile. */
static void
run_rows (RowFn row, WinoJob *j, size_t channels)
{
  j->row = row;
  run_transform (rows_part, j, channels, j->tl.t);
}

/* The 16 products C_ξ (M, N) = op(A_ξ) (M, K) · op(B_ξ) (K, N), dense row-major matrices
 * whose planes lie la, lb, lc floats apart. Each ξ goes to one thread whole: gemm() called
 * inside a part runs serially there (parallel.h), so the threads meet once for all 16 rather
 * than once per product, and each packs only its own operands. Measured against one threaded
 * gemm() per ξ: as fast on the widest layers, up to 20% faster on narrow ones. */
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
products (bool ta, bool tb, int m, int n, int k, const float *a, size_t la, const float *b,
          size_t lb, float *c, size_t lc)
{
  Products p = { ta, tb, m, n, k, a, b, c, la, lb, lc };
  parallel_for (16, 1, products_part, &p);
}

static WinoJob
job_of (float *scratch, const Conv2dShape *s)
{
  HN_ASSERT (winograd_fits (s) && s->oh == s->h && s->ow == s->w);
  WinoJob j = { .s = s, .tl = tiles_of (s) };
  j.lu = plane_stride ((size_t) s->oc * s->c);
  j.lv = plane_stride ((size_t) s->c * j.tl.t);
  j.lm = plane_stride ((size_t) s->oc * j.tl.t);
  j.u = scratch;
  j.v = j.u + 16 * j.lu;
  j.m = j.v + 16 * j.lv;
  return j;
}

void
winograd_forward (float *y, float *scratch, const float *x, const float *w, const Conv2dShape *s)
{
  WinoJob j = job_of (scratch, s);
  const int oc = s->oc, c = s->c, t = (int) j.tl.t;
  j.in = w;
  run_transform (weights_part, &j, oc, c);
  j.in = x;
  run_rows (input_row, &j, c);
  /* M_ξ (OC, T) = U_ξ (OC, C) · V_ξ (C, T) */
  products (false, false, oc, t, c, j.u, j.lu, j.v, j.lv, j.m, j.lm);
  j.out = y;
  run_rows (output_row, &j, oc);
}

/* dU goes where U would, and is folded into dw before U is needed for dx; dV then takes V's
 * place once dU no longer needs V. */
void
winograd_backward (float *dx, float *dw, float *scratch, const float *dy, const float *x,
                   const float *w, const Conv2dShape *s)
{
  WinoJob j = job_of (scratch, s);
  const int oc = s->oc, c = s->c, t = (int) j.tl.t;
  j.in = x;
  run_rows (input_row, &j, c);
  j.in = dy;
  run_rows (output_adjoint_row, &j, oc);
  /* dU_ξ (OC, C) = dM_ξ (OC, T) · V_ξᵀ (T, C) */
  products (false, true, oc, c, t, j.m, j.lm, j.v, j.lv, j.u, j.lu);
  j.out = dw;
  run_transform (weights_adjoint_part, &j, oc, c);
  if (dx == NULL)
    return;
  j.in = w;
  run_transform (weights_part, &j, oc, c);
  /* dV_ξ (C, T) = U_ξᵀ (C, OC) · dM_ξ (OC, T) */
  products (true, false, c, t, oc, j.u, j.lu, j.m, j.lm, j.v, j.lv);
  j.out = dx;
  run_rows (input_adjoint_row, &j, c);
}
