/* test-faces.c — faces found and aligned (engine/face), and photos turned upright (exif.h).
 *
 * The suite has no real faces: what needs one (how many faces dlib finds, how well the chips
 * agree) is measured on the dev chips by tests/bench/bench_faces.py. Here: the alignment
 * against known landmarks, the warp's pixels, boxes mapped back through scaling and EXIF
 * turns, the no-face path, and hostile and huge images.
 */
#include "test-util.h"

#include "align.h"
#include "exif.h"
#include "faces-private.h"
#include "faces.h"
#include "fileio.h"
#include "image.h"

#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

static HnFaceFinder *finder;

static void
finder_setup (void)
{
  HnError err;
  finder = face_finder_new (NULL, &err);
  ck_assert_msg (finder != NULL, "%s", err.message);
}

static void
finder_teardown (void)
{
  face_finder_free (finder);
}

/* ---- alignment ------------------------------------------------------------------------- */

/* The chip's landmarks moved by q = [c −s; s c]·p + t. */
static void
moved_template (double scale, double degrees, double tx, double ty, HnPoint *out)
{
  double c = scale * cos (degrees * M_PI / 180), s = scale * sin (degrees * M_PI / 180);
  for (int i = 0; i < FACE_LANDMARKS; i++)
    {
      HnPoint p = face_chip_landmarks[i];
      out[i] = (HnPoint){ (float) (c * p.x - s * p.y + tx), (float) (s * p.x + c * p.y + ty) };
    }
}

START_TEST (test_fit_recovers_similarity)
{
  /* A face 2.3 times a chip's size, turned 17°, somewhere in a photo: the fit is the inverse. */
  HnPoint photo[FACE_LANDMARKS];
  moved_template (2.3, 17, 315, -40, photo);
  HnFace f;
  face_fit_similarity (photo, face_chip_landmarks, &f.a, &f.b, &f.tx, &f.ty);
  ck_assert (fabs (sqrt (f.a * f.a + f.b * f.b) - 1 / 2.3) < 1e-5);
  ck_assert (fabs (atan2 (f.b, f.a) * 180 / M_PI + 17) < 1e-3);
  for (int i = 0; i < FACE_LANDMARKS; i++)
    {
      HnPoint p = photo[i], q = face_chip_landmarks[i];
      ck_assert (fabs (f.a * p.x - f.b * p.y + f.tx - q.x) < 1e-2);
      ck_assert (fabs (f.b * p.x + f.a * p.y + f.ty - q.y) < 1e-2);
    }
}
END_TEST

START_TEST (test_fit_ignores_the_jaw_and_brows)
{
  /* The jaw follows the head's turn, brows and inner lips the expression: moving them
   * changes nothing. */
  HnPoint photo[FACE_LANDMARKS];
  moved_template (0.7, -9, 12, 30, photo);
  HnFace want, got;
  face_fit_similarity (photo, face_chip_landmarks, &want.a, &want.b, &want.tx, &want.ty);
  for (int i = 0; i < FACE_LANDMARKS; i++)
    if (i <= 26 || i >= 60) /* the jaw's 17 points, the brows' 10, the inner lips' 8 */
      photo[i].x += 25 * (i % 3), photo[i].y -= 40;
  face_fit_similarity (photo, face_chip_landmarks, &got.a, &got.b, &got.tx, &got.ty);
  ck_assert (got.a == want.a && got.b == want.b && got.tx == want.tx && got.ty == want.ty);
}
END_TEST

START_TEST (test_chip_template_is_a_face)
{
  /* The measured geometry: eyes level and apart, nose between, mouth below, inside the chip. */
  const HnPoint *t = face_chip_landmarks;
  HnPoint right_eye = { (t[36].x + t[39].x) / 2, (t[36].y + t[39].y) / 2 };
  HnPoint left_eye = { (t[42].x + t[45].x) / 2, (t[42].y + t[45].y) / 2 };
  ck_assert (left_eye.x - right_eye.x > 40 && fabs (left_eye.y - right_eye.y) < 3);
  ck_assert (t[30].x > right_eye.x && t[30].x < left_eye.x && t[30].y > left_eye.y);
  ck_assert (t[57].y > t[30].y);
  for (int i = 0; i < FACE_LANDMARKS; i++)
    ck_assert (t[i].x > 0 && t[i].x < FACE_CHIP_SIZE && t[i].y > 0 && t[i].y < FACE_CHIP_SIZE);
}
END_TEST

static HnImage
random_image (int w, int h, uint32_t seed)
{
  HnImage img = { w, h, malloc ((size_t) w * h * 3) };
  for (size_t i = 0; i < (size_t) w * h * 3; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      img.rgb[i] = (uint8_t) (seed >> 24);
    }
  return img;
}

static const uint8_t *
pixel (const HnImage *img, int x, int y)
{
  return img->rgb + ((size_t) y * img->w + x) * 3;
}

START_TEST (test_warp_identity_and_turn)
{
  HnImage img = random_image (FACE_CHIP_SIZE, FACE_CHIP_SIZE, 7);
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3];
  HnFace same = { .a = 1, .b = 0 };
  face_chip (&img, &same, chip);
  ck_assert (memcmp (chip, img.rgb, sizeof chip) == 0);

  /* chip = [0 −1; 1 0]·p + (199, 0): chip pixel (u, v) is the photo's (v, 199 − u). */
  HnFace turned = { .a = 0, .b = 1, .tx = FACE_CHIP_SIZE - 1, .ty = 0 };
  face_chip (&img, &turned, chip);
  for (int v = 0; v < FACE_CHIP_SIZE; v++)
    for (int u = 0; u < FACE_CHIP_SIZE; u++)
      ck_assert (memcmp (chip + ((size_t) v * FACE_CHIP_SIZE + u) * 3,
                         pixel (&img, v, FACE_CHIP_SIZE - 1 - u), 3) == 0);

  /* Shifted by 100: the chip's left half lies outside the photo and repeats its left edge. */
  HnFace shifted = { .a = 1, .b = 0, .tx = 100 };
  face_chip (&img, &shifted, chip);
  for (int v = 0; v < FACE_CHIP_SIZE; v++)
    for (int u = 0; u < FACE_CHIP_SIZE; u++)
      ck_assert (memcmp (chip + ((size_t) v * FACE_CHIP_SIZE + u) * 3,
                         pixel (&img, u < 100 ? 0 : u - 100, v), 3) == 0);
  image_clear (&img);
}
END_TEST

START_TEST (test_warp_averages_a_large_face)
{
  /* A one-pixel checkerboard at twice the chip's size: each chip pixel covers 2×2 of it and
   * must be their mean, not one of them (which a single bilinear sample at 2u would give). */
  HnImage img = { 2 * FACE_CHIP_SIZE, 2 * FACE_CHIP_SIZE, malloc ((size_t) 4 * FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3) };
  for (int y = 0; y < img.h; y++)
    for (int x = 0; x < img.w; x++)
      memset (img.rgb + ((size_t) y * img.w + x) * 3, (x + y) % 2 ? 255 : 0, 3);
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3];
  HnFace half = { .a = 0.5f, .b = 0 }; /* chip pixel u is the photo's 2u, between 4 pixels */
  face_chip (&img, &half, chip);
  for (int v = 1; v < FACE_CHIP_SIZE - 1; v++)
    for (int u = 1; u < FACE_CHIP_SIZE - 1; u++)
      ck_assert_int_le (abs (chip[((size_t) v * FACE_CHIP_SIZE + u) * 3] - 128), 1);
  image_clear (&img);
}
END_TEST

START_TEST (test_face_input_is_a_chip_file)
{
  /* A photo that is a chip, aligned as itself, reaches the network as the chip's file would. */
  HnImage img = random_image (FACE_CHIP_SIZE, FACE_CHIP_SIZE, 11);
  const int size = 64;
  uint8_t chip[FACE_CHIP_SIZE * FACE_CHIP_SIZE * 3], rgb[64 * 64 * 3];
  float got[3 * 64 * 64], want[3 * 64 * 64];
  HnFace same = { .a = 1, .b = 0 };
  HnError err;
  ck_assert (face_load_input (&img, &same, size, chip, got, &err));
  ck_assert (image_crop_resize (&img, size, rgb, &err));
  image_normalize (rgb, size, want);
  ck_assert (memcmp (got, want, sizeof got) == 0);
  image_clear (&img);
}
END_TEST

/* ---- where the detector looks, and boxes mapped back ------------------------------------ */

START_TEST (test_plans_shrink_large_photos_and_double_small)
{
  FindPlan p[2];
  ck_assert_int_eq (face_find_plans (640, 480, p), 2); /* as it is, and doubled */
  ck_assert (p[0].factor == 1 && p[0].w == 640 && p[0].h == 480 && p[0].scale == 1);
  ck_assert (p[1].factor == 0 && p[1].w == 1280 && p[1].h == 960 && p[1].scale == 2);
  ck_assert_int_eq (face_find_plans (1155, 866, p), 1); /* 1 MP: scanned as it is */
  ck_assert_int_eq (p[0].factor, 1);
  ck_assert_int_eq (face_find_plans (4000, 3000, p), 1); /* 12 MP: the mean of 3×3, 1.33 MP */
  ck_assert (p[0].factor == 3 && p[0].w == 1333 && p[0].h == 1000);
  ck_assert ((size_t) p[0].w * p[0].h <= FACE_FIND_MAX_PIXELS);
  ck_assert_int_eq (face_find_plans (8192, 8192, p), 1);
  ck_assert ((size_t) p[0].w * p[0].h <= FACE_FIND_MAX_PIXELS && p[0].factor == 6);
  ck_assert_int_eq (face_find_plans (1, IMAGE_MAX_SIDE, p), 2); /* a sliver, small */
  ck_assert (p[0].factor == 1 && p[0].w == 1 && p[1].w == 2);
}
END_TEST

START_TEST (test_box_maps_back_through_scaling)
{
  FindPlan plans[2], plan;
  face_find_plans (4000, 3000, plans);
  plan = plans[0];
  HnDlibBox work = { FIND_PAD + 100, FIND_PAD + 50, FIND_PAD + 179, FIND_PAD + 129, 1.5 }, full;
  HnFace f;
  ck_assert (face_box_to_image (&plan, &work, 4000, 3000, &full, &f));
  ck_assert (f.x == 300 && f.y == 150 && f.w == 240 && f.h == 240 && f.score == 1.5f);
  ck_assert (full.left == 300 && full.right == 539);

  /* Cut by the left edge: the landmarks get the whole box, the caller the part inside. */
  work = (HnDlibBox){ FIND_PAD - 20, FIND_PAD, FIND_PAD + 59, FIND_PAD + 79, 1 };
  ck_assert (face_box_to_image (&plan, &work, 4000, 3000, &full, &f));
  ck_assert (full.left == -60 && f.x == 0 && f.w == 180 && f.h == 240);

  /* In the padding alone: no face. */
  work = (HnDlibBox){ 0, 0, FIND_PAD - 1, FIND_PAD - 1, 1 };
  ck_assert (!face_box_to_image (&plan, &work, 4000, 3000, &full, &f));

  /* From the doubled copy of a small photo: halved. */
  FindPlan doubled[2];
  face_find_plans (300, 200, doubled);
  work = (HnDlibBox){ FIND_PAD + 80, FIND_PAD + 40, FIND_PAD + 159, FIND_PAD + 119, 0.5 };
  ck_assert (face_box_to_image (&doubled[1], &work, 300, 200, &full, &f));
  ck_assert (f.x == 40 && f.y == 20 && f.w == 40 && f.h == 40);
}
END_TEST

/* ---- EXIF orientation ------------------------------------------------------------------- */

/* A JPEG's first bytes: SOI, an APP0, then APP1 Exif whose IFD0 holds the orientation. */
static size_t
exif_jpeg (uint8_t *buf, bool big_endian, int orientation)
{
  static const uint8_t app0[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0,
                                  0, 1, 0, 1, 0, 0 };
  size_t n = sizeof app0;
  memcpy (buf, app0, n);
  uint8_t tiff[26] = { 0 };
  memcpy (tiff, big_endian ? "MM\0*" : "II*\0", 4);
  /* IFD at 8; one entry: tag 0x0112, type 3 (SHORT), count 1, value */
  uint8_t le[] = { 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t) orientation, 0 };
  uint8_t be[] = { 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (uint8_t) orientation };
  memcpy (tiff + 4, big_endian ? be : le, sizeof le);
  size_t seg = 2 + 6 + sizeof tiff;
  uint8_t head[] = { 0xFF, 0xE1, (uint8_t) (seg >> 8), (uint8_t) seg, 'E', 'x', 'i', 'f', 0, 0 };
  memcpy (buf + n, head, sizeof head);
  memcpy (buf + n + sizeof head, tiff, sizeof tiff);
  return n + sizeof head + sizeof tiff;
}

START_TEST (test_exif_orientation_read)
{
  uint8_t buf[128];
  for (int big = 0; big < 2; big++)
    for (int o = 1; o <= 8; o++)
      ck_assert_int_eq (exif_orientation (buf, exif_jpeg (buf, big, o)), o);
  size_t n = exif_jpeg (buf, false, 6);
  /* Hostile or broken: every one reads as 1, nothing past the buffer is touched. */
  for (size_t cut = 0; cut < n; cut++)
    {
      uint8_t *copy = malloc (cut ? cut : 1);
      memcpy (copy, buf, cut);
      int o = exif_orientation (copy, cut);
      ck_assert_msg (o == 1, "cut at %zu read %d", cut, o);
      free (copy);
    }
  ck_assert_int_eq (exif_orientation (buf, exif_jpeg (buf, false, 9)), 1);
  n = exif_jpeg (buf, false, 6);
  buf[20 + 10 + 4] = 0xF0; /* IFD offset far past the segment */
  ck_assert_int_eq (exif_orientation (buf, n), 1);
  n = exif_jpeg (buf, true, 6);
  buf[20 + 10 + 8] = 0xFF; /* 65 000 entries in 26 bytes, the orientation not among them */
  buf[20 + 10 + 11] = 0x13;
  ck_assert_int_eq (exif_orientation (buf, n), 1);
  n = exif_jpeg (buf, false, 6);
  buf[20 + 4] = 'X'; /* an APP1 that is not Exif (XMP, say) */
  ck_assert_int_eq (exif_orientation (buf, n), 1);
  ck_assert_int_eq (exif_orientation ((const uint8_t *) "\x89PNG\r\n\x1a\n", 8), 1);
}
END_TEST

START_TEST (test_orient_moves_every_pixel)
{
  const int w = 3, h = 2;
  for (int o = 1; o <= 8; o++)
    {
      HnImage img = random_image (w, h, 3), copy = random_image (w, h, 3);
      HnError err;
      ck_assert (image_orient (&img, o, &err));
      ck_assert_int_eq (img.w, o >= 5 ? h : w);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            int ux, uy;
            exif_map_point (o, w, h, x, y, &ux, &uy);
            ck_assert (memcmp (pixel (&img, ux, uy), pixel (&copy, x, y), 3) == 0);
          }
      image_clear (&img);
      image_clear (&copy);
    }
  /* Where the stored top-left and top-right corners are shown, from the EXIF specification's
   * "0th row / 0th column" table, independently of exif_map_point. */
  static const int corners[9][4] = {
    [1] = { 0, 0, w - 1, 0 },         [2] = { w - 1, 0, 0, 0 },
    [3] = { w - 1, h - 1, 0, h - 1 }, [4] = { 0, h - 1, w - 1, h - 1 },
    [5] = { 0, 0, 0, w - 1 },         [6] = { h - 1, 0, h - 1, w - 1 },
    [7] = { h - 1, w - 1, h - 1, 0 }, [8] = { 0, w - 1, 0, 0 },
  };
  for (int o = 1; o <= 8; o++)
    {
      HnImage img = random_image (w, h, 5), copy = random_image (w, h, 5);
      HnError err;
      ck_assert (image_orient (&img, o, &err));
      ck_assert_msg (memcmp (pixel (&img, corners[o][0], corners[o][1]), pixel (&copy, 0, 0), 3)
                         == 0, "orientation %d: top-left", o);
      ck_assert_msg (memcmp (pixel (&img, corners[o][2], corners[o][3]), pixel (&copy, w - 1, 0),
                             3) == 0, "orientation %d: top-right", o);
      image_clear (&img);
      image_clear (&copy);
    }
}
END_TEST

START_TEST (test_decode_upright_turns_a_jpeg)
{
  char *path = test_data_path ("golden/image-photo.jpg");
  HnBytes file = { 0 };
  HnError err;
  ck_assert_msg (file_read (AT_FDCWD, path, IMAGE_MAX_FILE_BYTES, "a test image", &file, &err),
                 "%s", err.message);
  /* The photo with an Exif segment saying 6 put in after its SOI. */
  uint8_t head[128];
  size_t n = exif_jpeg (head, true, 6);
  uint8_t *turned = malloc (file.len + n);
  memcpy (turned, head, n);
  memcpy (turned + n, file.data + 2, file.len - 2);
  size_t len = file.len - 2 + n;

  HnImage stored, upright;
  ck_assert (image_decode_memory (turned, len, &stored, &err));
  ck_assert (image_decode_memory_upright (turned, len, &upright, &err));
  ck_assert (upright.w == stored.h && upright.h == stored.w);
  for (int y = 0; y < stored.h; y += 7)
    for (int x = 0; x < stored.w; x += 5)
      ck_assert (memcmp (pixel (&upright, stored.h - 1 - y, x), pixel (&stored, x, y), 3) == 0);
  image_clear (&stored);
  image_clear (&upright);
  free (turned);
  bytes_clear (&file);
  free (path);
}
END_TEST

/* ---- finding ----------------------------------------------------------------------------- */

START_TEST (test_no_face_in_flat_or_noisy_images)
{
  HnFaces faces;
  HnError err;
  HnImage flat = { 640, 480, malloc (640 * 480 * 3) };
  memset (flat.rgb, 128, 640 * 480 * 3);
  ck_assert (face_find (finder, &flat, &faces, &err));
  ck_assert (faces.n == 0 && faces.faces == NULL);
  image_clear (&flat);
  for (uint32_t seed = 0; seed < 2; seed++)
    {
      HnImage noise = random_image (400, 300, seed);
      ck_assert (face_find (finder, &noise, &faces, &err));
      ck_assert_int_eq (faces.n, 0);
      image_clear (&noise);
    }
}
END_TEST

START_TEST (test_huge_and_thin_images)
{
  /* The largest image the decoder lets through, and slivers: no face, no crash, and the
   * detector scans no more than FACE_FIND_MAX_PIXELS. */
  static const int sizes[][2] = { { 8192, 8192 }, { 1, IMAGE_MAX_SIDE }, { IMAGE_MAX_SIDE, 1 },
                                  { 1, 1 }, { 3, 2 } };
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    {
      HnImage img = random_image (sizes[i][0], sizes[i][1], (uint32_t) i);
      HnFaces faces;
      HnError err;
      ck_assert (face_find (finder, &img, &faces, &err));
      ck_assert_int_eq (faces.n, 0);
      faces_clear (&faces);
      image_clear (&img);
    }
}
END_TEST

START_TEST (test_finder_refuses_a_bad_model)
{
  HnError err;
  ck_assert (face_finder_new ("/nonexistent/landmarks.dat", &err) == NULL);
  ck_assert_msg (strstr (err.message, "libdlib-data") != NULL, "%s", err.message);
  char *jpeg = test_data_path ("golden/image-photo.jpg");
  ck_assert (face_finder_new (jpeg, &err) == NULL);
  ck_assert_msg (strstr (err.message, "not a dlib 68-point landmark model") != NULL, "%s",
                 err.message);
  free (jpeg);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("faces");
  TCase *align = tcase_create ("align");
  tcase_add_test (align, test_fit_recovers_similarity);
  tcase_add_test (align, test_fit_ignores_the_jaw_and_brows);
  tcase_add_test (align, test_chip_template_is_a_face);
  tcase_add_test (align, test_warp_identity_and_turn);
  tcase_add_test (align, test_warp_averages_a_large_face);
  tcase_add_test (align, test_face_input_is_a_chip_file);
  tcase_add_test (align, test_plans_shrink_large_photos_and_double_small);
  tcase_add_test (align, test_box_maps_back_through_scaling);
  suite_add_tcase (s, align);
  TCase *upright = tcase_create ("upright");
  tcase_add_test (upright, test_exif_orientation_read);
  tcase_add_test (upright, test_orient_moves_every_pixel);
  tcase_add_test (upright, test_decode_upright_turns_a_jpeg);
  suite_add_tcase (s, upright);
  TCase *find = tcase_create ("find");
  tcase_add_unchecked_fixture (find, finder_setup, finder_teardown);
  tcase_set_timeout (find, 120);
  tcase_add_test (find, test_no_face_in_flat_or_noisy_images);
  tcase_add_test (find, test_huge_and_thin_images);
  tcase_add_test (find, test_finder_refuses_a_bad_model);
  suite_add_tcase (s, find);
  return test_run_suite (s);
}
