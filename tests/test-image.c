/* test-image.c — decoding, refusals, and the reference's preprocessing bit for bit.
 *
 * The oracles are Pillow and PyTorch, through golden files written by
 * tests/golden/make_image_golden.py. The other test images are written here with
 * stb_image_write, so their pixels are known exactly.
 */
#include "test-util.h"

#include "image.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image_write.h> /* the implementation is in libstb */

/* Reads a whole golden file, which must hold exactly len bytes. */
static uint8_t *
read_golden (const char *name, size_t len)
{
  char *path = test_data_path (name);
  FILE *f = fopen (path, "rb");
  ck_assert_msg (f != NULL, "cannot open %s (run tests/golden/make_image_golden.py)", path);
  uint8_t *buf = malloc (len + 1);
  ck_assert_uint_eq (fread (buf, 1, len + 1, f), len);
  fclose (f);
  free (path);
  return buf;
}

/* Fails unless got equals want byte for byte, naming the first differing byte. */
static void
assert_same_bytes (const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; i++)
    if (got[i] != want[i] && bad++ == 0)
      first = i;
  ck_assert_msg (bad == 0,
                 "%s: %zu of %zu bytes differ; first [%zu] (pixel %zu, channel %zu) "
                 "got %u want %u",
                 what, bad, n, first, first / 3, first % 3, got[first], want[first]);
}

/* Fails unless got and want are the same float32 bit patterns (0 ulp). */
static void
assert_same_floats (const char *what, const float *got, const float *want, size_t n)
{
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += memcmp (&got[i], &want[i], sizeof (float)) != 0;
  assert_close (what, got, want, n, 0.0, 0.0); /* prints the first and worst mismatch */
  ck_assert_msg (bad == 0, "%s: %zu of %zu floats differ in their bits", what, bad, n);
}

/* Resize cases of make_image_golden.py: source w×h → size. */
static const struct
{
  int w, h, size;
} resize_cases[] = {
  { 101, 77, 32 }, { 45, 123, 32 },  { 13, 20, 32 }, { 1, 1, 32 },
  { 70, 64, 64 },  { 200, 200, 32 }, { 9, 7, 64 },   { 67, 65, 64 },
};

START_TEST (test_resize_matches_pillow)
{
  int w = resize_cases[_i].w, h = resize_cases[_i].h, size = resize_cases[_i].size;
  char name[64];
  snprintf (name, sizeof name, "golden/image-%dx%d.png", w, h);
  char *path = test_data_path (name);
  HnImage img;
  HnError err;
  ck_assert_msg (image_decode_file (path, &img, &err), "%s", err.message);
  ck_assert_int_eq (img.w, w);
  ck_assert_int_eq (img.h, h);

  snprintf (name, sizeof name, "golden/image-%dx%d-%d.rgb", w, h, size);
  size_t n = (size_t) size * size * 3;
  uint8_t *want = read_golden (name, n);
  uint8_t *got = malloc (n);
  ck_assert_msg (image_crop_resize (&img, size, got, &err), "%s", err.message);
  assert_same_bytes (name, got, want, n);

  free (got);
  free (want);
  image_clear (&img);
  free (path);
}
END_TEST

/* Decode, crop, resize and normalise against the reference's preprocess() in PyTorch. */
START_TEST (test_load_input_matches_reference)
{
  const int size = 32;
  size_t n = 3 * size * size;
  char *path = test_data_path ("golden/image-101x77.png");
  float *want = (float *) read_golden ("golden/image-101x77-32.f32", n * sizeof (float));
  float *got = malloc (n * sizeof (float));
  HnError err;
  ck_assert_msg (image_load_input (path, size, got, &err), "%s", err.message);
  assert_same_floats ("image-101x77 → (3, 32, 32)", got, want, n);
  free (got);
  free (want);
  free (path);
}
END_TEST

/* Every byte value in every channel, against numpy/PyTorch's float32 arithmetic. */
START_TEST (test_normalize_every_value)
{
  uint8_t rgb[256 * 3];
  for (int i = 0; i < 256; i++)
    for (int c = 0; c < 3; c++)
      rgb[i * 3 + c] = (uint8_t) (i + 85 * c);
  float got[3 * 256];
  float *want = (float *) read_golden ("golden/image-all-values.f32", sizeof got);
  image_normalize (rgb, 16, got);
  assert_same_floats ("all values", got, want, 3 * 256);
  free (want);
}
END_TEST

/* stb_image_write makes each layout; decoding must give the RGB we expect from it. */
START_TEST (test_decode_layouts)
{
  const int w = 5, h = 3;
  uint8_t px[5 * 3 * 4], rgb[5 * 3 * 3];
  for (size_t i = 0; i < sizeof px; i++)
    px[i] = (uint8_t) (i * 37 + 11);
  char *dir = test_tmpdir ();

  static const struct
  {
    const char *name;
    int channels; /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
  } cases[] = {
    { "grey.png", 1 }, { "grey-alpha.png", 2 }, { "rgba.png", 4 },
    { "rgb.bmp", 3 },  { "rgba.bmp", 4 },
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    {
      int ch = cases[k].channels;
      char *path = test_path (dir, cases[k].name);
      if (strstr (path, ".png") != NULL)
        ck_assert (stbi_write_png (path, w, h, ch, px, w * ch));
      else
        ck_assert (stbi_write_bmp (path, w, h, ch, px));

      /* Grey (channel 0) is replicated; alpha (the last of 2 or 4) is dropped. */
      for (int i = 0; i < w * h; i++)
        for (int c = 0; c < 3; c++)
          rgb[i * 3 + c] = px[i * ch + (ch < 3 ? 0 : c)];
      HnImage img;
      HnError err;
      ck_assert_msg (image_decode_file (path, &img, &err), "%s", err.message);
      ck_assert_int_eq (img.w, w);
      ck_assert_int_eq (img.h, h);
      assert_same_bytes (cases[k].name, img.rgb, rgb, sizeof rgb);
      image_clear (&img);
      ck_assert_ptr_null (img.rgb);
      free (path);
    }
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* JPEG is lossy: flat 8×8 blocks (one colour per DCT block) come back within ±2. */
START_TEST (test_decode_jpeg)
{
  static const uint8_t colours[4][3] = {
    { 200, 30, 40 },
    { 20, 180, 60 },
    { 10, 20, 230 },
    { 128, 128, 128 },
  };
  uint8_t px[16 * 16 * 3]; /* 2×2 blocks of 8×8 */
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      memcpy (px + (y * 16 + x) * 3, colours[(y / 8) * 2 + x / 8], 3);
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "blocks.jpg");
  ck_assert (stbi_write_jpg (path, 16, 16, 3, px, 100));

  HnImage img;
  HnError err;
  ck_assert_msg (image_decode_file (path, &img, &err), "%s", err.message);
  ck_assert_int_eq (img.w, 16);
  ck_assert_int_eq (img.h, 16);
  for (size_t i = 0; i < sizeof px; i++)
    ck_assert_msg (abs (img.rgb[i] - px[i]) <= 2, "byte %zu: got %u want %u", i, img.rgb[i], px[i]);
  image_clear (&img);
  free (path);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* What stb_image_write cannot make (palette GIF, 16-bit RGBA and 16-bit grey PNG), and JPEGs
 * that must decode to exactly Pillow's bytes. */
START_TEST (test_decode_committed)
{
  static const struct
  {
    const char *name;
    int w, h;
  } cases[] = {
    { "image-palette.gif", 5, 3 },
    { "image-rgba16.png", 3, 2 },
    { "image-grey16.png", 4, 2 },
    { "image-photo.jpg", 61, 47 },
    { "image-photo-progressive.jpg", 61, 47 },
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    {
      char name[64];
      snprintf (name, sizeof name, "golden/%s", cases[k].name);
      char *path = test_data_path (name);
      size_t n = (size_t) cases[k].w * cases[k].h * 3;
      snprintf (strrchr (name, '.'), 5, ".rgb");
      uint8_t *want = read_golden (name, n);

      HnImage img;
      HnError err;
      ck_assert_msg (image_decode_file (path, &img, &err), "%s: %s", path, err.message);
      ck_assert_int_eq (img.w, cases[k].w);
      ck_assert_int_eq (img.h, cases[k].h);
      assert_same_bytes (cases[k].name, img.rgb, want, n);
      image_clear (&img);
      free (want);
      free (path);
    }
}
END_TEST

/* Decoding path must fail with exactly "path: why" and leave the image empty. */
static void
assert_refused (const char *path, const char *why)
{
  HnImage img;
  HnError err = { "" };
  ck_assert_msg (!image_decode_file (path, &img, &err), "%s was accepted", path);
  ck_assert_ptr_null (img.rgb);
  char *want = NULL;
  ck_assert (asprintf (&want, "%s: %s", path, why) > 0);
  ck_assert_str_eq (err.message, want);

  /* The whole pipeline reports the same message, once. */
  float out[3 * 4 * 4];
  ck_assert (!image_load_input (path, 4, out, &err));
  ck_assert_str_eq (err.message, want);
  free (want);
}

/* A PNG signature and an IHDR chunk claiming w×h RGB. Its CRC is left zero: stb_image skips
 * chunk CRCs, and a hostile file could carry valid ones anyway. */
static void
write_png_header (const char *path, uint32_t w, uint32_t h)
{
  uint8_t png[33] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', /* signature */
                      0,    0,   0,   13,  'I',  'H',  'D',  'R' };
  for (int i = 0; i < 4; i++)
    {
      png[16 + i] = (uint8_t) (w >> (24 - 8 * i));
      png[20 + i] = (uint8_t) (h >> (24 - 8 * i));
    }
  png[24] = 8; /* bits per sample; then colour type 2 (RGB), compression, filter, interlace */
  png[25] = 2;
  test_write_file (path, png, sizeof png);
}

/* Keeps the first half of a file. */
static void
truncate_to_half (const char *path)
{
  struct stat st;
  ck_assert_int_eq (stat (path, &st), 0);
  ck_assert_int_eq (truncate (path, st.st_size / 2), 0);
}

/* The offset of the first segment with marker m in a JPEG written by stb_image_write. */
static size_t
find_segment (const uint8_t *jpg, size_t n, uint8_t m)
{
  size_t i = 2;
  while (i + 9 <= n && jpg[i + 1] != m)
    i += 2 + (jpg[i + 2] << 8 | jpg[i + 3]);
  ck_assert_uint_le (i + 9, n);
  return i;
}

START_TEST (test_refusals)
{
  char *dir = test_tmpdir ();
  const int side = 64;
  uint8_t px[64 * 64 * 3];
  for (size_t i = 0; i < sizeof px; i++)
    px[i] = (uint8_t) ((i * 7919) >> 3);

  char *missing = test_path (dir, "missing.jpg");
  assert_refused (missing, "cannot open (No such file or directory)");

  char *empty = test_path (dir, "empty.png");
  test_write_file (empty, "", 0);
  assert_refused (empty, "empty file");

  char *folder = test_path (dir, "folder.jpg");
  ck_assert_int_eq (mkdir (folder, 0700), 0);
  assert_refused (folder, "is a folder, not an image file");

  char *text = test_path (dir, "face.jpg");
  const char *words = "not a JPEG at all, just some words\n";
  test_write_file (text, words, strlen (words));
  assert_refused (text, "not a JPEG, PNG, BMP or GIF image");

  /* Formats stb_image reads but we refuse: a 16-bit PGM makes stb 2.27 read past its buffer. */
  char *pgm = test_path (dir, "deep.pgm");
  test_write_file (pgm, "P5\n2 1\n65535\n\1\2\3\4", 17);
  assert_refused (pgm, "not a JPEG, PNG, BMP or GIF image");

  char *header = test_path (dir, "header.png");
  test_write_file (header, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16); /* ends mid-chunk */
  assert_refused (header, "damaged image header");

  char *short_png = test_path (dir, "truncated.png");
  ck_assert (stbi_write_png (short_png, side, side, 3, px, side * 3));
  truncate_to_half (short_png);
  assert_refused (short_png, "damaged or truncated image (stb_image: outofdata)");

  char *short_jpg = test_path (dir, "truncated.jpg");
  ck_assert (stbi_write_jpg (short_jpg, side, side, 3, px, 90));
  truncate_to_half (short_jpg);
  assert_refused (short_jpg, "truncated JPEG: the file ends before the image does");

  /* Headers claiming huge images, refused before anything is allocated. stb_image itself
   * finds 100000×100000 too large and calls it an unknown type; 16000×16000 it would
   * decode. */
  char *huge = test_path (dir, "huge.png");
  write_png_header (huge, 100000, 100000);
  assert_refused (huge, "100000×100000 pixels is larger than the 16384-pixel limit");
  write_png_header (huge, 16000, 16000);
  assert_refused (huge, "16000×16000 pixels is more than the 64-megapixel limit");

  /* stb_image decodes a BMP 0 pixels wide; the engine must not accept it. */
  char *thin = test_path (dir, "thin.bmp");
  ck_assert (stbi_write_bmp (thin, side, side, 3, px));
  FILE *f = fopen (thin, "r+b");
  ck_assert_ptr_nonnull (f);
  ck_assert_int_eq (fseek (f, 18, SEEK_SET), 0); /* BITMAPINFOHEADER width, int32 LE */
  ck_assert_uint_eq (fwrite ("\0\0\0\0", 1, 4, f), 4);
  ck_assert_int_eq (fclose (f), 0);
  assert_refused (thin, "empty image (0×64 pixels)");

  /* A real JPEG, patched: its start of frame claims 60000×60000; a scan uses an undefined
   * Huffman table (stb_image 2.27 would decode with uninitialised memory); a table's sixteen
   * code counts add up to 16 × 255 (stb_image 2.27 would write past its arrays). */
  char *jpg_path = test_path (dir, "real.jpg");
  ck_assert (stbi_write_jpg (jpg_path, side, side, 3, px, 90));
  uint8_t jpg[16384];
  f = fopen (jpg_path, "rb");
  ck_assert_ptr_nonnull (f);
  size_t n = fread (jpg, 1, sizeof jpg, f);
  ck_assert (feof (f));
  fclose (f);

  char *wide = test_path (dir, "wide.jpg");
  size_t sof = find_segment (jpg, n, 0xC0);
  uint8_t sof_bytes[4];
  memcpy (sof_bytes, jpg + sof + 5, 4);
  jpg[sof + 5] = jpg[sof + 7] = 60000 >> 8;
  jpg[sof + 6] = jpg[sof + 8] = 60000 & 0xff;
  test_write_file (wide, jpg, n);
  assert_refused (wide, "60000×60000 pixels is larger than the 16384-pixel limit");
  memcpy (jpg + sof + 5, sof_bytes, 4);

  char *undefined = test_path (dir, "undefined.jpg");
  size_t sos = find_segment (jpg, n, 0xDA);
  jpg[sos + 6] = 0x33; /* first component: DC and AC table 3, which no DHT defines */
  test_write_file (undefined, jpg, n);
  assert_refused (undefined, "damaged JPEG: a scan uses a Huffman table that was never defined");

  char *dht = test_path (dir, "dht.jpg");
  memset (jpg + find_segment (jpg, n, 0xC4) + 5, 0xFF, 16);
  test_write_file (dht, jpg, n);
  assert_refused (dht, "damaged JPEG: a Huffman table lists more than 256 codes");

  /* One byte over the cap, sparse so that it costs nothing: refused before reading. */
  char *big = test_path (dir, "big.png");
  int fd = open (big, O_CREAT | O_WRONLY, 0600);
  ck_assert_int_ge (fd, 0);
  ck_assert_int_eq (ftruncate (fd, (off_t) IMAGE_MAX_FILE_BYTES + 1), 0);
  close (fd);
  assert_refused (big, "67108865 bytes is over the 64 MiB limit for an image file");

  HnImage img;
  HnError err;
  ck_assert (!image_decode_memory ((const uint8_t *) "", 0, &img, &err));
  ck_assert_str_eq (err.message, "empty file");

  char *paths[] = { missing, empty, folder,   text, pgm,       header, short_png, short_jpg,
                    huge,    thin,  jpg_path, wide, undefined, dht,    big };
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
    free (paths[i]);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* stb_image keeps its failure reason per thread and we set none of its global flags, so
 * threads decoding at once each get their own pixels and their own messages. */
typedef struct
{
  const char *good, *bad;
  int failures;
} DecodeJob;

static void *
decode_many (void *arg)
{
  DecodeJob *job = arg;
  for (int i = 0; i < 200; i++)
    {
      HnImage img;
      HnError err;
      if (!image_decode_file (job->good, &img, &err) || img.w != 101 || img.h != 77)
        job->failures++;
      image_clear (&img);
      if (image_decode_file (job->bad, &img, &err)
          || strstr (err.message, "not a JPEG, PNG, BMP or GIF image") == NULL)
        job->failures++;
    }
  return NULL;
}

START_TEST (test_decode_from_threads)
{
  char *dir = test_tmpdir ();
  char *good = test_data_path ("golden/image-101x77.png");
  char *bad = test_path (dir, "bad.png");
  test_write_file (bad, "no image", 8);
  pthread_t threads[4];
  DecodeJob jobs[4];
  for (int t = 0; t < 4; t++)
    {
      jobs[t] = (DecodeJob){ good, bad, 0 };
      ck_assert_int_eq (pthread_create (&threads[t], NULL, decode_many, &jobs[t]), 0);
    }
  for (int t = 0; t < 4; t++)
    {
      ck_assert_int_eq (pthread_join (threads[t], NULL), 0);
      ck_assert_int_eq (jobs[t].failures, 0);
    }
  free (bad);
  free (good);
  test_rmtree (dir);
  free (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("image");
  TCase *tc = tcase_create ("preprocess");
  tcase_add_loop_test (tc, test_resize_matches_pillow, 0,
                       sizeof resize_cases / sizeof resize_cases[0]);
  tcase_add_test (tc, test_load_input_matches_reference);
  tcase_add_test (tc, test_normalize_every_value);
  suite_add_tcase (s, tc);

  tc = tcase_create ("decode");
  tcase_add_test (tc, test_decode_layouts);
  tcase_add_test (tc, test_decode_jpeg);
  tcase_add_test (tc, test_decode_committed);
  tcase_add_test (tc, test_refusals);
  tcase_add_test (tc, test_decode_from_threads);
  suite_add_tcase (s, tc);
  return test_run_suite (s);
}
