/* faces.c — find the faces of a photo (dlib.h) and fit each to the chip (align.h).
 *
 * The detector looks at a grey copy of the photo averaged down so that it holds at most
 * FACE_FIND_MAX_PIXELS (each pixel the mean of f×f), padded by FIND_PAD pixels of its own
 * edge so that a face cut by the border still shows the detector enough of itself. The
 * landmarks are placed on the full-size grey photo, as precise as the photo allows.
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

static long
clamp_long (long v, long lo, long hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

FindPlan
face_find_plan (int w, int h)
{
  const size_t pixels = (size_t) w * h;
  FindPlan p = { .factor = 1 };
  if (pixels > FACE_FIND_MAX_PIXELS)
    p.factor = (int) ceil (sqrt ((double) pixels / FACE_FIND_MAX_PIXELS));
  p.w = w / p.factor;
  p.h = h / p.factor;
  if (p.w < 1 || p.h < 1) /* a sliver: nothing the detector could see, scanned as it is */
    p = (FindPlan){ .factor = 1, .w = w, .h = h };
  p.scale = 1.0f / p.factor;
  return p;
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

bool
face_find (HnFaceFinder *f, const HnImage *img, HnFaces *out, HnError *err)
{
  HN_ASSERT (img->w > 0 && img->h > 0);
  *out = (HnFaces){ 0 };
  const size_t pixels = (size_t) img->w * img->h;

  const FindPlan plan = face_find_plan (img->w, img->h);
  const int factor = plan.factor, ww = plan.w, wh = plan.h;
  const int stride = ww + 2 * FIND_PAD;

  if (!reserve (&f->grey, &f->grey_cap, pixels)
      || !reserve (&f->work, &f->work_cap, (size_t) stride * (wh + 2 * FIND_PAD)))
    return hn_error_set (err, "out of memory finding faces in a %d×%d image", img->w, img->h);
  to_grey (img, f->grey);
  shrink_grey (f->grey, img->w, factor, f->work + (size_t) FIND_PAD * stride + FIND_PAD, ww, wh,
               stride);
  pad_edges (f->work, ww, wh);

  HnDlibBox boxes[FACE_MAX];
  int found = dlib_faces_detect (f->dlib, f->work, stride, wh + 2 * FIND_PAD, boxes, FACE_MAX,
                                 err);
  if (found < 0)
    return false;
  out->scale = plan.scale;
  if (found == 0)
    return true;
  out->faces = calloc ((size_t) found, sizeof (HnFace));
  if (out->faces == NULL)
    return hn_error_set (err, "out of memory");

  for (int i = 0; i < found; i++)
    {
      HnFace *face = &out->faces[out->n];
      HnDlibBox full;
      if (!face_box_to_image (&plan, &boxes[i], img->w, img->h, &full, face))
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
  uint8_t *rgb = malloc ((size_t) size * size * 3); /* (size, size, 3) */
  if (rgb == NULL)
    return hn_error_set (err, "out of memory");
  HnImage as_file = { FACE_CHIP_SIZE, FACE_CHIP_SIZE, chip };
  bool ok = image_crop_resize (&as_file, size, rgb, err);
  if (ok)
    image_normalize (rgb, size, dst);
  free (rgb);
  return ok;
}
