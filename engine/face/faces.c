/* faces.c — find the faces of a photo (dlib.h) and fit each to the chip (align.h).
 *
 * The detector looks at a grey copy of the photo averaged down so that it holds at most
 * FACE_FIND_MAX_PIXELS (each pixel the mean of f×f) and, for a small photo, at a doubled
 * copy too; each is padded by FIND_PAD pixels of its own edge so that a face cut by the
 * border still shows the detector enough of itself. The landmarks are placed on the
 * full-size grey photo, as precise as the photo allows.
 */
#include "faces.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "faces-private.h"

struct HnFaceFinder
{
  HnDlib *dlib;
  uint8_t *grey; /* (h, w) the photo in grey, as dlib makes it: (r + g + b) / 3 */
  uint8_t *work; /* (wh + 2·FIND_PAD, ww + 2·FIND_PAD) what the detector scans */
  size_t grey_cap, work_cap;
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3]; /* a doubtful face's second look */
  uint8_t chip_grey[FACE_CHIP_SIZE * FACE_CHIP_SIZE];
};

HnFaceFinder *
face_finder_new (const char *landmarks_path, HnError *err)
{
  HnFaceFinder *f = calloc (1, sizeof *f);
  if (f == NULL)
    {
      hn_error_set (err, "out of memory");
      return NULL;
    }
  f->dlib = dlib_faces_new (landmarks_path ? landmarks_path : FACE_LANDMARKS_PATH, err);
  if (f->dlib == NULL)
    {
      free (f);
      return NULL;
    }
  return f;
}

void
face_finder_free (HnFaceFinder *f)
{
  if (f == NULL)
    return;
  dlib_faces_free (f->dlib);
  free (f->grey);
  free (f->work);
  free (f);
}

void
faces_clear (HnFaces *faces)
{
  free (faces->faces);
  *faces = (HnFaces){ 0 };
}

static bool
reserve (uint8_t **buf, size_t *cap, size_t bytes)
{
  if (bytes <= *cap)
    return true;
  free (*buf);
  *buf = malloc (bytes);
  *cap = *buf ? bytes : 0;
  return *buf != NULL;
}

static void
to_grey (const HnImage *img, uint8_t *grey)
{
  size_t n = (size_t) img->w * img->h;
  for (size_t i = 0; i < n; i++)
    grey[i] = (uint8_t) (((unsigned) img->rgb[3 * i] + img->rgb[3 * i + 1] + img->rgb[3 * i + 2]) / 3);
}

/* work's inside (ww, wh) from grey (w, h): the mean of each f×f block. */
static void
shrink_grey (const uint8_t *grey, int w, int f, uint8_t *work, int ww, int wh, int stride)
{
  for (int y = 0; y < wh; y++)
    {
      uint8_t *out = work + (size_t) y * stride;
      for (int x = 0; x < ww; x++)
        {
          unsigned sum = 0;
          for (int j = 0; j < f; j++)
            {
              const uint8_t *row = grey + (size_t) (y * f + j) * w + (size_t) x * f;
              for (int i = 0; i < f; i++)
                sum += row[i];
            }
          out[x] = (uint8_t) ((sum + f * f / 2) / (f * f));
        }
    }
}

/* work's inside (2w, 2h) from grey (w, h), bilinear: work pixel i samples grey at
 * (i + ½)/2 − ½, clamped to the edge. */
static void
double_grey (const uint8_t *grey, int w, int h, uint8_t *work, int stride)
{
  for (int y = 0; y < 2 * h; y++)
    {
      float sy = fmaxf (0, (y + 0.5f) / 2 - 0.5f);
      int y0 = (int) sy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
      float fy = sy - y0;
      const uint8_t *r0 = grey + (size_t) y0 * w, *r1 = grey + (size_t) y1 * w;
      uint8_t *out = work + (size_t) y * stride;
      for (int x = 0; x < 2 * w; x++)
        {
          float sx = fmaxf (0, (x + 0.5f) / 2 - 0.5f);
          int x0 = (int) sx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
          float fx = sx - x0;
          float top = r0[x0] + fx * (r0[x1] - r0[x0]);
          float bottom = r1[x0] + fx * (r1[x1] - r1[x0]);
          out[x] = (uint8_t) (top + fy * (bottom - top) + 0.5f);
        }
    }
}

/* Repeats the inside's edge pixels over the FIND_PAD border around it. */
static void
pad_edges (uint8_t *work, int ww, int wh)
{
  int stride = ww + 2 * FIND_PAD;
  for (int y = FIND_PAD; y < FIND_PAD + wh; y++)
    {
      uint8_t *row = work + (size_t) y * stride;
      memset (row, row[FIND_PAD], FIND_PAD);
      memset (row + FIND_PAD + ww, row[FIND_PAD + ww - 1], FIND_PAD);
    }
  for (int y = 0; y < FIND_PAD; y++)
    {
      memcpy (work + (size_t) y * stride, work + (size_t) FIND_PAD * stride, stride);
      memcpy (work + (size_t) (FIND_PAD + wh + y) * stride,
              work + (size_t) (FIND_PAD + wh - 1) * stride, stride);
    }
}

static int
by_left (const void *pa, const void *pb)
{
  const HnFace *a = pa, *b = pb;
  return (a->x > b->x) - (a->x < b->x);
}

/* dlib's detectors (front, left, right, turned) may each find the same face at scales of
 * their own: a box whose centre lies in a more confident one's, or holds its centre, is
 * the same face. */
static bool
overlaps_a_kept_face (const HnFace *face, const HnFace *kept, int n)
{
  for (int i = 0; i < n; i++)
    {
      const HnFace *k = &kept[i];
      if (2 * k->x <= 2 * face->x + face->w && 2 * face->x + face->w <= 2 * (k->x + k->w)
          && 2 * k->y <= 2 * face->y + face->h && 2 * face->y + face->h <= 2 * (k->y + k->h))
        return true;
      if (2 * face->x <= 2 * k->x + k->w && 2 * k->x + k->w <= 2 * (face->x + face->w)
          && 2 * face->y <= 2 * k->y + k->h && 2 * k->y + k->h <= 2 * (face->y + face->h))
        return true;
    }
  return false;
}

/* A face the detector doubted (score < FACE_FIND_SURE), aligned as a chip and shown to it again: the faces
 * it finds there (0 or 1), or −1 with err set (FACE_FIND_THRESHOLD). */
static int
second_look (HnFaceFinder *f, const HnImage *img, const HnFace *face, HnError *err)
{
  face_chip (img, face, f->chip);
  HnImage chip = { FACE_CHIP_SIZE, FACE_CHIP_SIZE, f->chip };
  to_grey (&chip, f->chip_grey);
  HnDlibBox again;
  return dlib_faces_detect (f->dlib, f->chip_grey, FACE_CHIP_SIZE, FACE_CHIP_SIZE, 0.0, &again, 1,
                            err);
}

static long
clamp_long (long v, long lo, long hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

int
face_find_plans (int w, int h, FindPlan plans[2])
{
  const size_t pixels = (size_t) w * h;
  FindPlan p = { .factor = 1 };
  if (pixels > FACE_FIND_MAX_PIXELS)
    p.factor = (int) ceil (sqrt ((double) pixels / FACE_FIND_MAX_PIXELS));
  /* ≥ 1: a photo shrunk by f ≥ 2 holds over (f − 1)² · 2 MP in sides of at most
   * IMAGE_MAX_SIDE, so its shorter side is over 122 · (f − 1)² ≥ f */
  p.w = w / p.factor;
  p.h = h / p.factor;
  p.scale = 1.0f / p.factor;
  plans[0] = p;
  if (pixels * 4 > FACE_FIND_MAX_PIXELS)
    return 1;
  plans[1] = (FindPlan){ .factor = 0, .w = 2 * w, .h = 2 * h, .scale = 2.0f };
  return 2;
}

/* The plan's copy of the photo, padded, into f->work; f->grey holds the photo. */
static bool
make_work (HnFaceFinder *f, int w, const FindPlan *plan, HnError *err)
{
  const int stride = plan->w + 2 * FIND_PAD;
  if (!reserve (&f->work, &f->work_cap, (size_t) stride * (plan->h + 2 * FIND_PAD)))
    return hn_error_set (err, "out of memory finding faces");
  uint8_t *inside = f->work + (size_t) FIND_PAD * stride + FIND_PAD;
  if (plan->factor == 0)
    double_grey (f->grey, w, plan->h / 2, inside, stride);
  else if (plan->factor == 1)
    for (int y = 0; y < plan->h; y++)
      memcpy (inside + (size_t) y * stride, f->grey + (size_t) y * w, (size_t) w);
  else
    shrink_grey (f->grey, w, plan->factor, inside, plan->w, plan->h, stride);
  pad_edges (f->work, plan->w, plan->h);
  return true;
}

bool
face_box_to_image (const FindPlan *plan, const HnDlibBox *b, int w, int h, HnDlibBox *full,
                   HnFace *face)
{
  /* Work pixel i is centred on the photo's (i − pad + ½)/scale − ½, so a box's edges map to
   * (edge − pad)/scale. */
  long left = lroundf ((b->left - FIND_PAD) / plan->scale);
  long top = lroundf ((b->top - FIND_PAD) / plan->scale);
  long side_w = lroundf ((b->right - b->left + 1) / plan->scale);
  long side_h = lroundf ((b->bottom - b->top + 1) / plan->scale);
  *full = (HnDlibBox){ left, top, left + side_w - 1, top + side_h - 1, b->score };
  long x0 = clamp_long (left, 0, w), y0 = clamp_long (top, 0, h);
  long x1 = clamp_long (left + side_w, 0, w), y1 = clamp_long (top + side_h, 0, h);
  *face = (HnFace){ .x = (int) x0, .y = (int) y0, .w = (int) (x1 - x0), .h = (int) (y1 - y0),
                    .score = (float) b->score };
  return x1 > x0 && y1 > y0; /* else found in the padding alone */
}

typedef struct
{
  HnDlibBox box;
  const FindPlan *plan;
} Candidate;

static int
by_score (const void *pa, const void *pb)
{
  const Candidate *a = pa, *b = pb;
  return (a->box.score < b->box.score) - (a->box.score > b->box.score);
}

bool
face_find (HnFaceFinder *f, const HnImage *img, HnFaces *out, HnError *err)
{
  HN_ASSERT (img->w > 0 && img->h > 0);
  *out = (HnFaces){ 0 };
  if (!reserve (&f->grey, &f->grey_cap, (size_t) img->w * img->h))
    return hn_error_set (err, "out of memory finding faces in a %d×%d image", img->w, img->h);
  to_grey (img, f->grey);

  /* Every pass's boxes, then the most confident first: where two passes find the same face,
   * the better box is kept. */
  FindPlan plans[2];
  int n_plans = face_find_plans (img->w, img->h, plans), found = 0;
  Candidate candidates[2 * FACE_MAX];
  for (int p = 0; p < n_plans; p++)
    {
      HnDlibBox boxes[FACE_MAX];
      if (!make_work (f, img->w, &plans[p], err))
        return false;
      int n = dlib_faces_detect (f->dlib, f->work, plans[p].w + 2 * FIND_PAD,
                                 plans[p].h + 2 * FIND_PAD, FACE_FIND_THRESHOLD, boxes, FACE_MAX,
                                 err);
      if (n < 0)
        return false;
      for (int i = 0; i < n; i++)
        candidates[found++] = (Candidate){ boxes[i], &plans[p] };
    }
  if (found == 0)
    return true;
  qsort (candidates, (size_t) found, sizeof (Candidate), by_score);
  out->faces = calloc ((size_t) found, sizeof (HnFace));
  if (out->faces == NULL)
    return hn_error_set (err, "out of memory");

  for (int i = 0; i < found && out->n < FACE_MAX; i++)
    {
      HnFace *face = &out->faces[out->n];
      HnDlibBox full;
      if (!face_box_to_image (candidates[i].plan, &candidates[i].box, img->w, img->h, &full, face)
          || overlaps_a_kept_face (face, out->faces, out->n))
        continue;
      if (!dlib_faces_landmarks (f->dlib, f->grey, img->w, img->h, &full,
                                 &face->landmarks[0].x, err))
        {
          faces_clear (out);
          return false;
        }
      face_fit_similarity (face->landmarks, face_chip_landmarks, &face->a, &face->b, &face->tx,
                           &face->ty);
      if (!(face->a * face->a + face->b * face->b > 1e-6f)) /* landmarks all in one spot */
        continue;
      int seen = face->score < FACE_FIND_SURE ? second_look (f, img, face, err) : 1;
      if (seen < 0)
        {
          faces_clear (out);
          return false;
        }
      if (seen > 0)
        out->n++;
    }
  qsort (out->faces, (size_t) out->n, sizeof (HnFace), by_left);
  return true;
}

void
face_chip (const HnImage *img, const HnFace *face, uint8_t *chip)
{
  face_warp (img, face, FACE_CHIP_SIZE, chip);
}

bool
face_load_input (const HnImage *img, const HnFace *face, int size, uint8_t *chip, float *dst,
                 HnError *err)
{
  face_chip (img, face, chip);
  HnImage as_file = { FACE_CHIP_SIZE, FACE_CHIP_SIZE, chip };
  return image_input (&as_file, size, dst, err);
}
