/* test-dataset.c — UTKFace folders: names, broken files, conversions, duplicates, the split,
 * the cache and every way it can be wrong, cancellation, errors; and SHA-1 itself.
 *
 * Every folder is made here, in a temporary directory, with stb_image_write (PNG, JPEG) or
 * by hand (16-bit PNGs, and PNGs whose bytes must be known exactly: stored deflate blocks,
 * so no compressor can change them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "dataset.h"
#include "image.h"
#include "sha1.h"
#include "test-util.h"

/* ---- making files ---- */

static char *
path_in (const char *dir, const char *name)
{
  char *p = NULL;
  ck_assert (asprintf (&p, "%s/%s", dir, name) > 0);
  return p;
}

/* Pixels that differ from seed to seed: smooth enough to stay recognisable through JPEG,
 * with a seed-dependent offset so no two files are alike. px (h, w, comp). */
static uint8_t *
pattern (int w, int h, int comp, unsigned seed)
{
  uint8_t *px = malloc ((size_t) w * h * comp);
  ck_assert_ptr_nonnull (px);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < comp; c++)
        px[((size_t) y * w + x) * comp + c]
            = (uint8_t) (x * (3 + c) + y * (5 - c) + seed * 37 + c * 80 + ((x ^ y) & seed & 15));
  return px;
}

static void
write_png (const char *dir, const char *name, int w, int h, int comp, unsigned seed)
{
  char *path = path_in (dir, name);
  uint8_t *px = pattern (w, h, comp, seed);
  ck_assert_msg (stbi_write_png (path, w, h, comp, px, w * comp), "cannot write %s", path);
  free (px);
  free (path);
}

static void
write_jpg (const char *dir, const char *name, int w, int h, unsigned seed)
{
  char *path = path_in (dir, name);
  uint8_t *px = pattern (w, h, 3, seed);
  ck_assert_msg (stbi_write_jpg (path, w, h, 3, px, 90), "cannot write %s", path);
  free (px);
  free (path);
}

static void
write_text (const char *dir, const char *name, const char *text)
{
  char *path = path_in (dir, name);
  test_write_file (path, text, strlen (text));
  free (path);
}

static uint8_t *
read_all (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  ck_assert_msg (f != NULL, "cannot open %s", path);
  ck_assert_int_eq (fseek (f, 0, SEEK_END), 0);
  long n = ftell (f);
  rewind (f);
  uint8_t *buf = malloc (n > 0 ? n : 1);
  ck_assert_ptr_nonnull (buf);
  ck_assert_uint_eq (fread (buf, 1, n, f), (size_t) n);
  fclose (f);
  *len = (size_t) n;
  return buf;
}

static void
copy_file (const char *from, const char *to)
{
  size_t len;
  uint8_t *buf = read_all (from, &len);
  test_write_file (to, buf, len);
  free (buf);
}

static uint32_t
crc32 (const uint8_t *p, size_t len, uint32_t crc)
{
  crc = ~crc;
  for (size_t i = 0; i < len; i++)
    {
      crc ^= p[i];
      for (int k = 0; k < 8; k++)
        crc = crc >> 1 ^ (0xEDB88320u & -(crc & 1));
    }
  return ~crc;
}

static void
put_be32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16), p[2] = (uint8_t) (v >> 8),
  p[3] = (uint8_t) v;
}

static size_t
png_chunk (uint8_t *out, const char *type, const uint8_t *data, size_t len)
{
  put_be32 (out, (uint32_t) len);
  memcpy (out + 4, type, 4);
  if (len > 0)
    memcpy (out + 8, data, len);
  put_be32 (out + 8 + len, crc32 (out + 4, len + 4, 0));
  return len + 12;
}

/* A PNG of w×h samples of `depth` bits (8 or 16), colour type `type` (0 grey, 2 RGB, 4 grey
 * and alpha, 6 RGBA), written with stored (uncompressed) deflate blocks: its bytes depend on
 * nothing but the arguments. samples (h, w, channels), big-endian when 16-bit. */
static void
write_png_raw (const char *path, int w, int h, int type, int depth, const uint8_t *samples)
{
  static const int channels[7] = { 1, 0, 3, 0, 2, 0, 4 };
  size_t row = (size_t) w * channels[type] * depth / 8;
  size_t raw_len = (row + 1) * h; /* each row: filter byte 0, then the samples */
  size_t n_blocks = raw_len / 65535 + 1;
  size_t z_len = 2 + raw_len + 5 * n_blocks + 4;
  uint8_t *raw = malloc (raw_len), *z = malloc (z_len), *png = malloc (z_len + 128);
  ck_assert (raw != NULL && z != NULL && png != NULL);
  for (int y = 0; y < h; y++)
    {
      raw[y * (row + 1)] = 0;
      memcpy (raw + y * (row + 1) + 1, samples + y * row, row);
    }
  /* zlib: header 78 01, stored blocks (BFINAL, LEN, ~LEN, bytes), Adler-32. */
  size_t o = 0;
  z[o++] = 0x78, z[o++] = 0x01;
  for (size_t at = 0, b = 0; b < n_blocks; b++)
    {
      size_t len = raw_len - at < 65535 ? raw_len - at : 65535;
      z[o++] = b + 1 == n_blocks;
      z[o++] = (uint8_t) len, z[o++] = (uint8_t) (len >> 8);
      z[o++] = (uint8_t) ~len, z[o++] = (uint8_t) (~len >> 8);
      memcpy (z + o, raw + at, len);
      o += len, at += len;
    }
  uint32_t a = 1, bsum = 0;
  for (size_t i = 0; i < raw_len; i++)
    a = (a + raw[i]) % 65521, bsum = (bsum + a) % 65521;
  put_be32 (z + o, bsum << 16 | a);
  o += 4;

  uint8_t ihdr[13];
  put_be32 (ihdr, (uint32_t) w);
  put_be32 (ihdr + 4, (uint32_t) h);
  ihdr[8] = (uint8_t) depth, ihdr[9] = (uint8_t) type, ihdr[10] = ihdr[11] = ihdr[12] = 0;
  size_t n = 0;
  memcpy (png, "\x89PNG\r\n\x1a\n", 8);
  n = 8;
  n += png_chunk (png + n, "IHDR", ihdr, sizeof ihdr);
  n += png_chunk (png + n, "IDAT", z, o);
  n += png_chunk (png + n, "IEND", NULL, 0);
  test_write_file (path, png, n);
  free (raw);
  free (z);
  free (png);
}

/* ---- looking at a data set ---- */

static HnDataset *
open_ok (const char *dir, int size, const char *cache, int threads)
{
  HnError err = { 0 };
  HnDataset *ds = dataset_open_folder (dir, size, cache, threads, NULL, &err);
  ck_assert_msg (ds != NULL, "dataset_open_folder (%s) failed: %s", dir, err.message);
  return ds;
}

/* The error message of an open that must fail. */
static void
open_fails (const char *dir, int size, const char *cache, const char *expect)
{
  HnError err = { 0 };
  HnDataset *ds = dataset_open_folder (dir, size, cache, 1, NULL, &err);
  ck_assert_msg (ds == NULL, "opening %s should have failed", dir);
  ck_assert_msg (strstr (err.message, expect) != NULL, "error '%s' should mention '%s'",
                 err.message, expect);
}

static void
assert_usable (const HnDataset *ds, const char *name, int age, int gender, int race)
{
  int i = dataset_find (ds, name);
  ck_assert_msg (i >= 0, "'%s' should be usable (skipped: %s)", name, dataset_skip_reason (ds, name));
  ck_assert_int_eq (ds->labels[i].age, age);
  ck_assert_int_eq (ds->labels[i].gender, gender);
  ck_assert_int_eq (ds->labels[i].race, race);
}

/* Everything but from_cache and priv. */
static void
assert_same (const HnDataset *a, const HnDataset *b)
{
  ck_assert_int_eq (a->size, b->size);
  ck_assert_int_eq (a->n, b->n);
  ck_assert_int_eq (a->n_skipped, b->n_skipped);
  ck_assert_int_eq (a->n_duplicates, b->n_duplicates);
  ck_assert_msg (memcmp (a->pixels, b->pixels, (size_t) a->n * a->size * a->size * 3) == 0,
                 "pixels differ");
  for (int i = 0; i < a->n; i++)
    {
      ck_assert_str_eq (a->names[i], b->names[i]);
      ck_assert_mem_eq (&a->labels[i], &b->labels[i], sizeof a->labels[i]);
    }
  for (int i = 0; i < a->n_skipped; i++)
    {
      ck_assert_str_eq (a->skipped[i].file, b->skipped[i].file);
      ck_assert_str_eq (a->skipped[i].reason, b->skipped[i].reason);
    }
  for (int i = 0; i < a->n_duplicates; i++)
    {
      ck_assert_int_eq (a->duplicates[i].n_files, b->duplicates[i].n_files);
      ck_assert_int_eq (a->duplicates[i].conflicting, b->duplicates[i].conflicting);
      for (int j = 0; j < a->duplicates[i].n_files; j++)
        ck_assert_str_eq (a->duplicates[i].files[j], b->duplicates[i].files[j]);
    }
}

static int
count_files (const char *dir)
{
  char *cmd = NULL;
  ck_assert (asprintf (&cmd, "ls -A '%s' | wc -l", dir) > 0);
  FILE *p = popen (cmd, "r");
  int n = -1;
  ck_assert (p != NULL && fscanf (p, "%d", &n) == 1);
  pclose (p);
  free (cmd);
  return n;
}

/* ---- SHA-1 ---- */

static void
assert_sha1 (const void *data, size_t len, const char *want)
{
  uint8_t d[SHA1_DIGEST_BYTES];
  char hex[41];
  sha1 (data, len, d);
  sha1_hex (d, hex);
  ck_assert_str_eq (hex, want);
}

START_TEST (test_sha1_fips180_vectors)
{
  assert_sha1 ("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  assert_sha1 ("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
  const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  assert_sha1 (two_blocks, strlen (two_blocks), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  const char *long896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjk"
                        "lmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
  assert_sha1 (long896, strlen (long896), "a49b2446a02c645bf419f995b67091253a04a259");

  /* A million 'a's, fed in uneven pieces. */
  static char a[1000];
  memset (a, 'a', sizeof a);
  HnSha1 ctx;
  sha1_init (&ctx);
  for (int done = 0, step = 1; done < 1000000; done += step, step = step % 997 + 1)
    sha1_update (&ctx, a, done + step <= 1000000 ? step : 1000000 - done);
  uint8_t d[SHA1_DIGEST_BYTES];
  char hex[41];
  sha1_final (&ctx, d);
  sha1_hex (d, hex);
  ck_assert_str_eq (hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}
END_TEST

START_TEST (test_sha1_pieces_equal_whole)
{
  uint8_t buf[300], whole[SHA1_DIGEST_BYTES], pieces[SHA1_DIGEST_BYTES];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (uint8_t) (i * 7 + 3);
  /* Every length around the 55/56/64-byte padding edges, split at every point. */
  for (size_t len = 0; len <= 130; len++)
    for (size_t cut = 0; cut <= len; cut += len / 7 + 1)
      {
        HnSha1 ctx;
        sha1 (buf, len, whole);
        sha1_init (&ctx);
        sha1_update (&ctx, buf, cut);
        sha1_update (&ctx, buf + cut, len - cut);
        sha1_final (&ctx, pieces);
        ck_assert_mem_eq (whole, pieces, SHA1_DIGEST_BYTES);
      }
}
END_TEST

START_TEST (test_split_key_is_the_reference_formula)
{
  /* int(hashlib.sha1(b"abc").hexdigest()[:8], 16) = int("a9993e36", 16) */
  uint8_t d[SHA1_DIGEST_BYTES];
  sha1 ("abc", 3, d);
  ck_assert_uint_eq (sha1_prefix32 (d), 2845392438u);
  ck_assert_uint_eq (sha1_prefix32 (d) % 100, 38);

  /* A file whose bytes are fixed (stored deflate): sha1sum and the reference's formula give
   * 307171387ec6e1b3fc7b705f892503efc77ec7d3 and int("30717138", 16) = 812740920, so
   * 812740920 % 100 = 20: just outside validation at the default 20%, inside at 21%. */
  char *dir = test_tmpdir ();
  uint8_t rgb[4 * 4 * 3];
  for (int i = 0; i < 48; i++)
    rgb[i] = (uint8_t) (i * 5);
  char *path = path_in (dir, "30_1_2_20170101000000000.png");
  write_png_raw (path, 4, 4, 2, 8, rgb);
  size_t len;
  uint8_t *bytes = read_all (path, &len);
  char hex[41];
  sha1 (bytes, len, d);
  sha1_hex (d, hex);
  ck_assert_str_eq (hex, "307171387ec6e1b3fc7b705f892503efc77ec7d3");

  HnDataset *ds = open_ok (dir, 32, "", 1);
  ck_assert_int_eq (ds->n, 1);
  ck_assert_uint_eq (ds->labels[0].split_key, 812740920u);
  ck_assert (!dataset_is_val (ds, 0, 20));
  ck_assert (dataset_is_val (ds, 0, 21));
  dataset_free (ds);
  free (bytes);
  free (path);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- names ---- */

START_TEST (test_names_parsed_strictly)
{
  char *dir = test_tmpdir ();
  static const struct
  {
    const char *name;
    int age, gender, race; /* -1: must be skipped, reason containing `why` */
    const char *why;
  } cases[] = {
    { "1_0_0_20170101.jpg", 1, 0, 0, NULL },
    { "25_1_4_1.png", 25, 1, 4, NULL },
    { "116_1_2_3.jpg.chip.jpg", 116, 1, 2, NULL },
    { "30_0_1_5.JPG", 30, 0, 1, NULL },
    { "31_0_1_6.JPEG", 31, 0, 1, NULL },
    { "32_1_3_7.Png", 32, 1, 3, NULL },
    { "33_0_2_8.jpg.CHIP.JPG", 33, 0, 2, NULL },
    { "007_0_0_9.jpeg", 7, 0, 0, NULL },
    { "0_1_0_10.png.chip.jpg", 0, 1, 0, NULL },
    { "117_0_0_1.jpg", -1, 0, 0, "age 117 is out of range" },
    { "1000_0_0_2.jpg", -1, 0, 0, "age 1000 is out of range" },
    { "999_1_1_3.jpg.chip.jpg", -1, 0, 0, "age 999" },
    { "1_2_0_4.jpg", -1, 0, 0, "gender 2 is out of range" },
    { "1_00_0_5.jpg", -1, 0, 0, "gender 00" },
    { "1_0_5_6.jpg", -1, 0, 0, "race 5 is out of range" },
    { "1_1_12_7.png", -1, 0, 0, "race 12" },
    { "x.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "notes.txt", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_123.gif", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_123.jpg.chip.png", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_123.jpgx", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_123.chip.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_123", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "a_0_0_1.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "-1_0_0_1.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1__0_0_1.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_1.jpg ", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { " 1_0_0_1.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_1.jpg.chip.jpg.chip.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "1_0_0_1\x0e"
      "jpg",
      -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    /* Three real ones from UTKFace. */
    { "24_0_1_20170116220224657 .jpg.chip.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "39_1_20170116174525125.jpg.chip.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
    { "55_0_0_20170116232725357jpg.chip.jpg", -1, 0, 0, "AGE_GENDER_RACE_DATETIME" },
  };
  int n = sizeof cases / sizeof cases[0];
  for (int i = 0; i < n; i++)
    write_png (dir, cases[i].name, 20, 20, 3, (unsigned) i);
  /* Hidden files and entries are ignored without a word; subfolders are listed. */
  write_png (dir, ".hidden.png", 20, 20, 3, 100);
  write_png (dir, ".2_0_0_1.jpg", 20, 20, 3, 101);
  char *sub = path_in (dir, "sub"), *sub_named = path_in (dir, "2_0_0_1.jpg");
  ck_assert_int_eq (mkdir (sub, 0755), 0);
  ck_assert_int_eq (mkdir (sub_named, 0755), 0);
  write_png (sub, "3_0_0_1.jpg", 20, 20, 3, 102);

  HnDataset *ds = open_ok (dir, 32, "", 2);
  int usable = 0;
  for (int i = 0; i < n; i++)
    if (cases[i].age >= 0)
      assert_usable (ds, cases[i].name, cases[i].age, cases[i].gender, cases[i].race), usable++;
    else
      assert_dataset_skipped (ds, cases[i].name, cases[i].why);
  ck_assert_int_eq (ds->n, usable);
  assert_dataset_skipped (ds, "sub", "folder");
  assert_dataset_skipped (ds, "2_0_0_1.jpg", "folder");
  ck_assert_int_eq (ds->n_skipped, n - usable + 2); /* nothing hidden, nothing from sub/ */
  ck_assert_int_eq (ds->n_duplicates, 0);
  /* Name order, as the reference's sorted(), for both lists. */
  for (int i = 1; i < ds->n; i++)
    ck_assert_int_lt (strcmp (ds->names[i - 1], ds->names[i]), 0);
  for (int i = 1; i < ds->n_skipped; i++)
    ck_assert_int_lt (strcmp (ds->skipped[i - 1].file, ds->skipped[i].file), 0);
  dataset_free (ds);
  free (sub);
  free (sub_named);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- broken files ---- */

START_TEST (test_broken_files_skipped_with_reasons)
{
  char *dir = test_tmpdir (), *path;
  write_png (dir, "40_0_0_1.png", 32, 32, 3, 1); /* one good image */

  write_text (dir, "1_0_0_1.jpg", "");
  write_text (dir, "2_0_0_2.jpg", "just some notes, not a picture\n");
  write_text (dir, "2_0_0_3.png", "\x89PNG\r\n\x1a\n but nothing after");

  /* A JPEG and a PNG cut in half. */
  write_jpg (dir, "full.jpg", 64, 64, 7);
  write_png (dir, "full.png", 64, 64, 3, 8);
  size_t len;
  path = path_in (dir, "full.jpg");
  uint8_t *jpg = read_all (path, &len);
  free (path);
  path = path_in (dir, "3_0_0_4.jpg");
  test_write_file (path, jpg, len / 2);
  free (path);
  /* A JPEG with its entropy-coded data overwritten by noise. */
  uint8_t *noisy = malloc (len);
  memcpy (noisy, jpg, len);
  for (size_t i = len / 3; i + 2 < len; i++)
    noisy[i] = (uint8_t) (i * 131 + 17) | 0x01;
  path = path_in (dir, "3_0_0_5.jpg");
  test_write_file (path, noisy, len);
  free (path);
  free (noisy);
  /* Stray bytes before the end-of-image marker: libjpeg warns, the pixels are whole. */
  uint8_t *padded = malloc (len + 5);
  memcpy (padded, jpg, len - 2);
  memcpy (padded + len - 2, "\x01\x02\x03\x04\x05\xFF\xD9", 7);
  path = path_in (dir, "3_1_0_9.jpg");
  test_write_file (path, padded, len + 5);
  free (path);
  free (padded);
  /* The same JPEG claiming 60000×60000 in its start of frame, and with 99-bit samples. */
  size_t sof = 0;
  for (size_t i = 2; sof == 0 && i + 9 < len; i++)
    if (jpg[i] == 0xFF && jpg[i + 1] == 0xC0)
      sof = i;
  ck_assert_uint_gt (sof, 0);
  jpg[sof + 4] = 99;
  path = path_in (dir, "3_0_0_7.jpg");
  test_write_file (path, jpg, len);
  free (path);
  jpg[sof + 4] = 8;
  jpg[sof + 5] = 0xEA, jpg[sof + 6] = 0x60, jpg[sof + 7] = 0xEA, jpg[sof + 8] = 0x60;
  path = path_in (dir, "3_0_0_6.jpg");
  test_write_file (path, jpg, len);
  free (path);
  free (jpg);

  path = path_in (dir, "full.png");
  uint8_t *png = read_all (path, &len);
  free (path);
  path = path_in (dir, "4_0_0_4.png");
  test_write_file (path, png, len / 2);
  free (path);
  free (png);

  /* A PNG header claiming 100000×100000: refused before anything is allocated. */
  uint8_t huge[64];
  uint8_t ihdr[13] = { 0, 0x01, 0x86, 0xA0, 0, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0 };
  memcpy (huge, "\x89PNG\r\n\x1a\n", 8);
  size_t n = 8 + png_chunk (huge + 8, "IHDR", ihdr, sizeof ihdr);
  n += png_chunk (huge + n, "IEND", NULL, 0);
  path = path_in (dir, "5_0_0_5.png");
  test_write_file (path, huge, n);
  free (path);

  /* Not regular files: a FIFO (must not hang the load) and a dangling symbolic link. */
  path = path_in (dir, "6_0_0_6.jpg");
  ck_assert_int_eq (mkfifo (path, 0644), 0);
  free (path);
  path = path_in (dir, "7_0_0_7.jpg");
  ck_assert_int_eq (symlink ("/nonexistent/hydranet/face.jpg", path), 0);
  free (path);
  /* Unreadable: only meaningful when not root, who reads anything. */
  bool as_root = geteuid () == 0;
  if (!as_root)
    {
      write_png (dir, "8_0_0_8.png", 16, 16, 3, 9);
      path = path_in (dir, "8_0_0_8.png");
      ck_assert_int_eq (chmod (path, 0), 0);
      free (path);
    }
  /* Formats by content, not by name: a PNG called .jpg and a JPEG called .png are fine. */
  write_png (dir, "9_1_1_9.jpg", 24, 24, 3, 10);
  write_jpg (dir, "9_1_1_10.png", 24, 24, 11);

  HnDataset *ds = open_ok (dir, 32, "", 2);
  assert_usable (ds, "40_0_0_1.png", 40, 0, 0);
  assert_usable (ds, "9_1_1_9.jpg", 9, 1, 1);
  assert_usable (ds, "9_1_1_10.png", 9, 1, 1);
  assert_dataset_skipped (ds, "1_0_0_1.jpg", "empty file");
  assert_dataset_skipped (ds, "2_0_0_2.jpg", "not a JPEG, PNG, BMP or GIF image");
  assert_dataset_skipped (ds, "2_0_0_3.png", "");
  assert_dataset_skipped (ds, "3_0_0_4.jpg", "truncated JPEG");
  assert_dataset_skipped (ds, "3_0_0_5.jpg", "damaged JPEG");
  assert_dataset_skipped (ds, "3_0_0_7.jpg", "damaged JPEG");
  assert_usable (ds, "3_1_0_9.jpg", 3, 1, 0);
  assert_dataset_skipped (ds, "3_0_0_6.jpg", "60000×60000 pixels is larger than the 16384-pixel limit");
  assert_dataset_skipped (ds, "4_0_0_4.png", "");
  assert_dataset_skipped (ds, "5_0_0_5.png", "100000×100000 pixels is larger");
  assert_dataset_skipped (ds, "6_0_0_6.jpg", "not a regular file");
  assert_dataset_skipped (ds, "7_0_0_7.jpg", "No such file");
  if (!as_root)
    assert_dataset_skipped (ds, "8_0_0_8.png", "Permission denied");
  ck_assert_int_eq (ds->n, 4);
  for (int i = 0; i < ds->n_skipped; i++)
    ck_assert_msg (ds->skipped[i].reason[0] != '\0', "%s: empty reason", ds->skipped[i].file);
  dataset_free (ds);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- conversions ---- */

START_TEST (test_grey_alpha_16bit_converted)
{
  char *dir = test_tmpdir ();
  const int s = 32; /* already S×S: the pixels come through the crop and resize unchanged */
  uint8_t *grey = pattern (s, s, 1, 1), *ga = pattern (s, s, 2, 2), *rgba = pattern (s, s, 4, 3);
  char *path = path_in (dir, "10_0_0_1.png");
  ck_assert (stbi_write_png (path, s, s, 1, grey, s));
  free (path);
  path = path_in (dir, "10_0_0_2.png");
  ck_assert (stbi_write_png (path, s, s, 2, ga, 2 * s));
  free (path);
  path = path_in (dir, "10_0_0_3.png");
  ck_assert (stbi_write_png (path, s, s, 4, rgba, 4 * s));
  free (path);
  /* 16-bit grey and RGBA: each sample's high byte is what counts. */
  uint8_t *g16 = pattern (s, s, 2, 4), *rgba16 = pattern (s, s, 8, 5);
  path = path_in (dir, "10_0_0_4.png");
  write_png_raw (path, s, s, 0, 16, g16);
  free (path);
  path = path_in (dir, "10_0_0_5.png");
  write_png_raw (path, s, s, 6, 16, rgba16);
  free (path);

  HnDataset *ds = open_ok (dir, s, "", 1);
  ck_assert_int_eq (ds->n, 5);
  ck_assert_int_eq (ds->n_skipped, 0);
  for (int i = 0; i < s * s; i++)
    for (int c = 0; c < 3; c++)
      {
        ck_assert_uint_eq (ds->pixels[(0 * s * s + i) * 3 + c], grey[i]);
        ck_assert_uint_eq (ds->pixels[(1 * s * s + i) * 3 + c], ga[2 * i]);
        ck_assert_uint_eq (ds->pixels[(2 * s * s + i) * 3 + c], rgba[4 * i + c]);
        ck_assert_uint_eq (ds->pixels[(3 * s * s + i) * 3 + c], g16[2 * i]);
        ck_assert_uint_eq (ds->pixels[(4 * s * s + i) * 3 + c], rgba16[8 * i + 2 * c]);
      }
  dataset_free (ds);
  free (grey);
  free (ga);
  free (rgba);
  free (g16);
  free (rgba16);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* Non-square PNGs at every size equal image.c's crop and resize; JPEGs (TurboJPEG here,
 * stb in image.c: different IDCTs) come within a few levels of it. */
START_TEST (test_sizes_match_image_c)
{
  static const int sizes[] = { 32, 64, 96, 128 };
  char *dir = test_tmpdir ();
  write_png (dir, "20_0_0_1.png", 101, 77, 3, 1);
  write_jpg (dir, "20_0_0_2.jpg", 77, 140, 2);
  for (int k = 0; k < 4; k++)
    {
      int s = sizes[k];
      HnDataset *ds = open_ok (dir, s, "", 2);
      ck_assert_int_eq (ds->n, 2);
      ck_assert_int_eq (ds->size, s);
      uint8_t *want = malloc ((size_t) s * s * 3);
      for (int i = 0; i < 2; i++)
        {
          char *path = path_in (dir, ds->names[i]);
          HnImage img;
          HnError err;
          ck_assert_msg (image_decode_file (path, &img, &err), "%s", err.message);
          ck_assert (image_crop_resize (&img, s, want, &err));
          int worst = 0;
          for (int j = 0; j < s * s * 3; j++)
            {
              int d = abs (ds->pixels[(size_t) i * s * s * 3 + j] - want[j]);
              worst = d > worst ? d : worst;
            }
          ck_assert_msg (worst <= (strstr (path, ".jpg") ? 4 : 0), "%s at %d: off by %d",
                         ds->names[i], s, worst);
          image_clear (&img);
          free (path);
        }
      free (want);
      dataset_free (ds);
    }
  open_fails (dir, 48, "", "32, 64, 96 or 128");
  open_fails (dir, 0, "", "32, 64, 96 or 128");
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- duplicates and the split ---- */

START_TEST (test_duplicates)
{
  char *dir = test_tmpdir (), *a, *b;
  /* Two copies whose labels disagree, three that agree, and one on its own. */
  write_png (dir, "20_0_0_1.jpg", 40, 40, 3, 1);
  a = path_in (dir, "20_0_0_1.jpg"), b = path_in (dir, "21_0_0_2.jpg");
  copy_file (a, b);
  free (a), free (b);
  write_jpg (dir, "30_1_2_3.png", 40, 40, 2);
  a = path_in (dir, "30_1_2_3.png");
  b = path_in (dir, "30_1_2_4.png");
  copy_file (a, b);
  free (b);
  b = path_in (dir, "30_1_2_5.jpg.chip.jpg");
  copy_file (a, b);
  free (a), free (b);
  write_png (dir, "50_1_3_6.png", 40, 40, 3, 3);
  /* A copy of a skipped file is just skipped: no group for unusable bytes. */
  write_text (dir, "60_0_0_7.jpg", "");
  write_text (dir, "60_0_0_8.jpg", "");

  HnDataset *ds = open_ok (dir, 32, "", 2);
  ck_assert_int_eq (ds->n, 3);
  ck_assert_int_eq (ds->n_duplicates, 2);
  ck_assert_int_eq (ds->n + ds->n_skipped, 8); /* every file is accounted for */

  const HnDuplicateGroup *g = &ds->duplicates[0];
  ck_assert_int_eq (g->n_files, 2);
  ck_assert_str_eq (g->files[0], "20_0_0_1.jpg");
  ck_assert_str_eq (g->files[1], "21_0_0_2.jpg");
  ck_assert (g->conflicting);
  g = &ds->duplicates[1];
  ck_assert_int_eq (g->n_files, 3);
  ck_assert_str_eq (g->files[0], "30_1_2_3.png");
  ck_assert_str_eq (g->files[1], "30_1_2_4.png");
  ck_assert_str_eq (g->files[2], "30_1_2_5.jpg.chip.jpg");
  ck_assert (!g->conflicting);

  /* The first copy by name is used; conflicting labels keep it out of validation. */
  int first = dataset_find (ds, "20_0_0_1.jpg"), agreed = dataset_find (ds, "30_1_2_3.png"),
      alone = dataset_find (ds, "50_1_3_6.png");
  ck_assert (first >= 0 && agreed >= 0 && alone >= 0);
  ck_assert (ds->labels[first].never_val);
  ck_assert (!ds->labels[agreed].never_val);
  ck_assert (!ds->labels[alone].never_val);
  ck_assert (!dataset_is_val (ds, first, 100));
  ck_assert (dataset_is_val (ds, agreed, 100));
  assert_dataset_skipped (ds, "21_0_0_2.jpg", "same bytes as 20_0_0_1.jpg");
  assert_dataset_skipped (ds, "21_0_0_2.jpg", "training only");
  assert_dataset_skipped (ds, "30_1_2_4.png", "same bytes as 30_1_2_3.png, which is used");
  assert_dataset_skipped (ds, "30_1_2_5.jpg.chip.jpg", "same bytes as 30_1_2_3.png");
  assert_dataset_skipped (ds, "60_0_0_7.jpg", "empty");
  assert_dataset_skipped (ds, "60_0_0_8.jpg", "empty");

  int train[3], val[3], n_train, n_val;
  dataset_split (ds, 100, train, &n_train, val, &n_val);
  ck_assert_int_eq (n_train, 1);
  ck_assert_int_eq (train[0], first);
  ck_assert_int_eq (n_val, 2);
  dataset_free (ds);
  test_rmtree (dir);
  free (dir);
}
END_TEST

START_TEST (test_split_rule)
{
  char *dir = test_tmpdir ();
  for (int i = 0; i < 60; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "%d_%d_%d_%d.png", 20 + i, i % 2, i % 5, i);
      write_png (dir, name, 16 + i % 5, 16, 3, (unsigned) i);
    }
  HnDataset *ds = open_ok (dir, 32, "", 2);
  ck_assert_int_eq (ds->n, 60);
  for (int i = 0; i < ds->n; i++)
    {
      /* split_key is the SHA-1 prefix of the file's bytes. */
      char *path = path_in (dir, ds->names[i]);
      size_t len;
      uint8_t *bytes = read_all (path, &len), d[SHA1_DIGEST_BYTES];
      sha1 (bytes, len, d);
      ck_assert_uint_eq (ds->labels[i].split_key, sha1_prefix32 (d));
      free (bytes);
      free (path);
    }
  int train[60], val[60], n_train, n_val;
  static const int percents[] = { 0, 1, 20, 50, 99, 100 };
  int seen_val_20 = 0;
  for (int p = 0; p < 6; p++)
    {
      int vp = percents[p];
      dataset_split (ds, vp, train, &n_train, val, &n_val);
      ck_assert_int_eq (n_train + n_val, ds->n);
      int t = 0, v = 0;
      for (int i = 0; i < ds->n; i++)
        {
          bool is_val = ds->labels[i].split_key % 100 < (unsigned) vp;
          ck_assert_int_eq (dataset_is_val (ds, i, vp), is_val);
          if (is_val)
            ck_assert_int_eq (val[v++], i);
          else
            ck_assert_int_eq (train[t++], i);
        }
      if (vp == 20)
        seen_val_20 = n_val;
      if (vp == 0)
        ck_assert_int_eq (n_val, 0);
      if (vp == 100)
        ck_assert_int_eq (n_train, 0);
    }
  ck_assert (seen_val_20 > 0 && seen_val_20 < 30); /* about 12 of 60 */
  int n_train2, n_val2;
  dataset_split (ds, 20, NULL, &n_train2, NULL, &n_val2);
  ck_assert_int_eq (n_val2, seen_val_20);
  dataset_free (ds);
  test_rmtree (dir);
  free (dir);
}
END_TEST

/* ---- the cache ---- */

/* A folder with images, a skipped file and a duplicate group, so that every part of the
 * cache has something in it. */
static char *
cache_fixture (void)
{
  char *dir = test_tmpdir ();
  for (int i = 0; i < 12; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "%d_%d_%d_2017%04d.jpg.chip.jpg", 10 + 7 * i, i % 2, i % 5, i);
      if (i % 3 == 0)
        write_jpg (dir, name, 60 + i, 50, (unsigned) i);
      else
        write_png (dir, name, 50, 60 + i, 3, (unsigned) i);
    }
  char *a = path_in (dir, "10_0_0_20170000.jpg.chip.jpg"), *b = path_in (dir, "90_1_0_1.jpg");
  copy_file (a, b);
  free (a), free (b);
  write_text (dir, "README.txt", "UTKFace, a few of them\n");
  return dir;
}

START_TEST (test_cache_round_trip)
{
  char *dir = cache_fixture (), *cache = test_tmpdir ();
  HnDataset *fresh = open_ok (dir, 32, "", 2);
  ck_assert (!fresh->from_cache);
  ck_assert_str_eq (dataset_cache_status (fresh), "disabled");
  ck_assert_ptr_null (dataset_cache_file (fresh));

  HnDataset *first = open_ok (dir, 32, cache, 2);
  ck_assert (!first->from_cache);
  ck_assert_str_eq (dataset_cache_status (first), "written");
  ck_assert_ptr_nonnull (dataset_cache_file (first));
  ck_assert_int_eq (count_files (cache), 1);
  HnLoadProgress progress = { 0 };
  HnError err = { 0 };
  HnDataset *second = dataset_open_folder (dir, 32, cache, 2, &progress, &err);
  ck_assert_msg (second != NULL, "%s", err.message);
  ck_assert (second->from_cache);
  ck_assert_str_eq (dataset_cache_status (second), "read");
  ck_assert_str_eq (dataset_cache_file (first), dataset_cache_file (second));
  ck_assert_int_eq (atomic_load (&progress.done), second->n);
  ck_assert_int_eq (atomic_load (&progress.total), second->n);
  ck_assert_int_eq (second->n_duplicates, 1);
  ck_assert_int_eq (second->n_skipped, 2);
  assert_same (fresh, first);
  assert_same (fresh, second);

  /* Another size is another cache file; the first one stays valid. */
  HnDataset *big = open_ok (dir, 64, cache, 2);
  ck_assert (!big->from_cache);
  ck_assert_int_eq (count_files (cache), 2);
  HnDataset *again = open_ok (dir, 32, cache, 1);
  ck_assert (again->from_cache);
  dataset_free (again);
  dataset_free (big);
  dataset_free (fresh);
  dataset_free (first);
  dataset_free (second);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

/* The XDG default: $XDG_CACHE_HOME/hydranet-studio, else ~/.cache/hydranet-studio. */
START_TEST (test_cache_default_location)
{
  char *dir = cache_fixture (), *home = test_tmpdir (), *xdg = path_in (home, "xdg");
  char *saved_home = getenv ("HOME") ? strdup (getenv ("HOME")) : NULL;
  char *saved_xdg = getenv ("XDG_CACHE_HOME") ? strdup (getenv ("XDG_CACHE_HOME")) : NULL;
  setenv ("HOME", home, 1);
  setenv ("XDG_CACHE_HOME", xdg, 1);
  HnDataset *ds = open_ok (dir, 32, NULL, 1);
  char *want = path_in (xdg, "hydranet-studio/");
  ck_assert_msg (strncmp (dataset_cache_file (ds), want, strlen (want)) == 0, "cache at %s",
                 dataset_cache_file (ds));
  dataset_free (ds);
  free (want);

  setenv ("XDG_CACHE_HOME", "relative/is/ignored", 1);
  ds = open_ok (dir, 32, NULL, 1);
  want = path_in (home, ".cache/hydranet-studio/");
  ck_assert_msg (strncmp (dataset_cache_file (ds), want, strlen (want)) == 0, "cache at %s",
                 dataset_cache_file (ds));
  ck_assert_str_eq (dataset_cache_status (ds), "written");
  dataset_free (ds);
  free (want);

  if (saved_home != NULL)
    setenv ("HOME", saved_home, 1);
  if (saved_xdg != NULL)
    setenv ("XDG_CACHE_HOME", saved_xdg, 1);
  else
    unsetenv ("XDG_CACHE_HOME");
  free (saved_home);
  free (saved_xdg);
  test_rmtree (dir);
  test_rmtree (home);
  free (dir);
  free (home);
  free (xdg);
}
END_TEST

typedef enum
{
  ADD_FILE,
  REMOVE_FILE,
  TOUCH_FILE,
  SWAP_CONTENT_KEEP_SIZE_AND_MTIME,
  TRUNCATE_CACHE,
  CACHE_TEN_BYTES,
  EMPTY_CACHE,
  GARBAGE_CACHE,
  FLIP_PIXEL,
  FLIP_LABEL,
  FLIP_KEY,
  WRONG_VERSION,
  OTHER_SIZE,
  OTHER_FOLDER,
  PADDED_CACHE,
  N_BREAKAGES
} Breakage;

static void
set_bytes (const char *path, long at, const void *bytes, size_t n)
{
  FILE *f = fopen (path, "r+b");
  ck_assert (f != NULL);
  if (at < 0)
    fseek (f, at, SEEK_END);
  else
    fseek (f, at, SEEK_SET);
  ck_assert_uint_eq (fwrite (bytes, 1, n, f), n);
  fclose (f);
}

static void
flip_byte (const char *path, long at)
{
  FILE *f = fopen (path, "r+b");
  ck_assert (f != NULL);
  fseek (f, at, at < 0 ? SEEK_END : SEEK_SET);
  int c = fgetc (f);
  fseek (f, at, at < 0 ? SEEK_END : SEEK_SET);
  fputc (c ^ 0x40, f);
  fclose (f);
}

/* Each way a cache can be stale or broken: the next open decodes again (from_cache false,
 * the same data as with no cache at all, or the folder's new data), and the open after
 * that reads the rebuilt cache. */
START_TEST (test_cache_stale_or_broken_is_rebuilt)
{
  Breakage how = (Breakage) _i;
  char *dir = cache_fixture (), *cache = test_tmpdir ();
  HnDataset *before = open_ok (dir, 32, cache, 2);
  char *file = strdup (dataset_cache_file (before));
  ck_assert_str_eq (dataset_cache_status (before), "written");
  char *victim = path_in (dir, "17_1_1_20170001.jpg.chip.jpg");
  bool folder_changed = how <= SWAP_CONTENT_KEEP_SIZE_AND_MTIME;
  size_t len;
  uint8_t *bytes;
  switch (how)
    {
    case ADD_FILE:
      write_png (dir, "99_1_4_1.png", 30, 30, 3, 99);
      break;
    case REMOVE_FILE:
      ck_assert_int_eq (unlink (victim), 0);
      break;
    case TOUCH_FILE:
      {
        struct timespec t[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
        ck_assert_int_eq (utimensat (AT_FDCWD, victim, t, 0), 0);
        break;
      }
    case SWAP_CONTENT_KEEP_SIZE_AND_MTIME:
      {
        /* Another picture of exactly the same length (a flat one, zero-padded after its
         * IEND, which decoders ignore), mtime put back as cp -p would: only ctime tells. */
        struct stat st;
        ck_assert_int_eq (stat (victim, &st), 0);
        len = (size_t) st.st_size;
        uint8_t *flat = malloc (50 * 61 * 3);
        memset (flat, 200, 50 * 61 * 3);
        ck_assert (stbi_write_png (victim, 50, 61, 3, flat, 50 * 3));
        free (flat);
        size_t new_len;
        bytes = read_all (victim, &new_len);
        ck_assert_uint_lt (new_len, len);
        bytes = realloc (bytes, len);
        memset (bytes + new_len, 0, len - new_len);
        test_write_file (victim, bytes, len);
        free (bytes);
        struct timespec t[2] = { st.st_atim, st.st_mtim };
        ck_assert_int_eq (utimensat (AT_FDCWD, victim, t, 0), 0);
        ck_assert_int_eq (stat (victim, &st), 0);
        ck_assert_int_eq (st.st_size, (off_t) len);
        break;
      }
    case TRUNCATE_CACHE:
      ck_assert_int_eq (stat (file, &(struct stat){ 0 }), 0);
      bytes = read_all (file, &len);
      test_write_file (file, bytes, len / 2);
      free (bytes);
      break;
    case CACHE_TEN_BYTES:
      test_write_file (file, "HNDSCACH\1\0", 10);
      break;
    case EMPTY_CACHE:
      test_write_file (file, "", 0);
      break;
    case GARBAGE_CACHE:
      bytes = read_all (file, &len);
      for (size_t i = 0; i < len; i++)
        bytes[i] = (uint8_t) (i * 2654435761u >> 13);
      test_write_file (file, bytes, len);
      free (bytes);
      break;
    case FLIP_PIXEL:
      flip_byte (file, -100);
      break;
    case FLIP_LABEL:
      flip_byte (file, 112 + 2); /* the first image's race */
      break;
    case FLIP_KEY:
      flip_byte (file, 20);
      break;
    case WRONG_VERSION:
      set_bytes (file, 8, "\x02\0\0\0", 4);
      break;
    case OTHER_SIZE:
      {
        /* The 64×64 cache of the same folder, under the 32×32 name. */
        HnDataset *big = open_ok (dir, 64, cache, 2);
        copy_file (dataset_cache_file (big), file);
        dataset_free (big);
        break;
      }
    case OTHER_FOLDER:
      {
        /* A good cache of another folder, under this folder's name. */
        char *other = test_tmpdir ();
        write_png (other, "33_0_0_1.png", 40, 40, 3, 5);
        HnDataset *ods = open_ok (other, 32, cache, 1);
        copy_file (dataset_cache_file (ods), file);
        dataset_free (ods);
        test_rmtree (other);
        free (other);
        break;
      }
    case PADDED_CACHE:
      bytes = read_all (file, &len);
      bytes = realloc (bytes, len + 7);
      memset (bytes + len, 0, 7);
      test_write_file (file, bytes, len + 7);
      free (bytes);
      break;
    case N_BREAKAGES:
      break;
    }

  HnDataset *after = open_ok (dir, 32, cache, 2);
  ck_assert_msg (!after->from_cache, "breakage %d: a stale or broken cache was trusted", how);
  ck_assert_msg (strncmp (dataset_cache_status (after), "rebuilt (", 9) == 0,
                 "breakage %d: status '%s'", how, dataset_cache_status (after));
  HnDataset *truth = open_ok (dir, 32, "", 1);
  assert_same (after, truth);
  if (folder_changed)
    ck_assert (before->n != truth->n
               || memcmp (before->pixels, truth->pixels, (size_t) truth->n * 32 * 32 * 3) != 0
               || how == TOUCH_FILE);
  else
    assert_same (before, truth);
  HnDataset *rebuilt = open_ok (dir, 32, cache, 2);
  ck_assert_msg (rebuilt->from_cache, "breakage %d: the rebuilt cache was not used", how);
  assert_same (rebuilt, truth);

  dataset_free (before);
  dataset_free (after);
  dataset_free (truth);
  dataset_free (rebuilt);
  free (victim);
  free (file);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

/* Every byte of the header and the labels, and pixels here and there, is checked: flipping
 * any one of them makes the next open decode again (and write a good cache back). */
START_TEST (test_cache_every_byte_matters)
{
  char *dir = cache_fixture (), *cache = test_tmpdir ();
  HnDataset *truth = open_ok (dir, 32, cache, 2);
  char *file = strdup (dataset_cache_file (truth));
  struct stat st;
  ck_assert_int_eq (stat (file, &st), 0);
  size_t pixel_bytes = (size_t) truth->n * 32 * 32 * 3;
  long meta_end = (long) ((size_t) st.st_size - pixel_bytes);
  int tried = 0;
  for (long at = 0; at < st.st_size; at += at < meta_end ? 1 : 997, tried++)
    {
      flip_byte (file, at);
      HnDataset *ds = open_ok (dir, 32, cache, 2);
      ck_assert_msg (!ds->from_cache, "a cache with byte %ld flipped was trusted", at);
      assert_same (ds, truth);
      dataset_free (ds);
    }
  ck_assert_int_gt (tried, 112 + 12 * 8 + 30);
  HnDataset *back = open_ok (dir, 32, cache, 2);
  ck_assert (back->from_cache);
  dataset_free (back);
  dataset_free (truth);
  free (file);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

/* Failing to write the cache costs the next open its speed, nothing else. */
START_TEST (test_cache_write_failure_not_fatal)
{
  char *dir = cache_fixture (), *tmp = test_tmpdir ();
  char *blocker = path_in (tmp, "a-file");
  write_text (tmp, "a-file", "in the way");
  char *under_file = path_in (blocker, "cache"); /* a folder that cannot be made */
  HnDataset *ds = open_ok (dir, 32, under_file, 2);
  ck_assert (!ds->from_cache);
  ck_assert_msg (strncmp (dataset_cache_status (ds), "not written (", 13) == 0, "%s",
                 dataset_cache_status (ds));
  HnDataset *truth = open_ok (dir, 32, "", 2);
  assert_same (ds, truth);
  dataset_free (ds);

  /* The cache file's name taken by a folder: read fails, write fails, data is fine. */
  char *cache = path_in (tmp, "c");
  ck_assert_int_eq (mkdir (cache, 0700), 0);
  ds = open_ok (dir, 32, cache, 2);
  char *file = strdup (dataset_cache_file (ds));
  dataset_free (ds);
  ck_assert_int_eq (unlink (file), 0);
  ck_assert_int_eq (mkdir (file, 0700), 0);
  ds = open_ok (dir, 32, cache, 2);
  ck_assert (!ds->from_cache);
  ck_assert_msg (strstr (dataset_cache_status (ds), "not written") != NULL, "%s",
                 dataset_cache_status (ds));
  assert_same (ds, truth);
  ck_assert_int_eq (count_files (cache), 1); /* no temporary file left behind */
  dataset_free (ds);
  dataset_free (truth);
  free (file);
  free (cache);
  free (blocker);
  free (under_file);
  test_rmtree (dir);
  test_rmtree (tmp);
  free (dir);
  free (tmp);
}
END_TEST

/* ---- cancelling, errors, threads ---- */

START_TEST (test_cancel_before_start)
{
  char *dir = cache_fixture (), *cache = test_tmpdir ();
  HnLoadProgress progress = { 0 };
  atomic_store (&progress.cancel, true);
  HnError err = { 0 };
  HnDataset *ds = dataset_open_folder (dir, 32, cache, 2, &progress, &err);
  ck_assert_ptr_null (ds);
  ck_assert_str_eq (err.message, "cancelled");
  ck_assert_int_eq (count_files (cache), 0);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

typedef struct
{
  HnLoadProgress *progress;
  int at;
} Canceller;

static void *
cancel_when (void *data)
{
  Canceller *c = data;
  while (atomic_load (&c->progress->done) < c->at)
    sched_yield ();
  atomic_store (&c->progress->cancel, true);
  return NULL;
}

START_TEST (test_cancel_midway_leaves_no_cache)
{
  char *dir = test_tmpdir (), *cache = test_tmpdir ();
  for (int i = 0; i < 400; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "%d_%d_%d_%d.jpg", i % 100, i % 2, i % 5, i);
      write_jpg (dir, name, 200, 200, (unsigned) i);
    }
  HnLoadProgress progress = { 0 };
  Canceller c = { &progress, 5 };
  pthread_t t;
  ck_assert_int_eq (pthread_create (&t, NULL, cancel_when, &c), 0);
  HnError err = { 0 };
  HnDataset *ds = dataset_open_folder (dir, 32, cache, 1, &progress, &err);
  pthread_join (t, NULL);
  ck_assert_ptr_null (ds);
  ck_assert_str_eq (err.message, "cancelled");
  ck_assert_int_lt (atomic_load (&progress.done), 400); /* it stopped early */
  ck_assert_int_eq (count_files (cache), 0);
  test_rmtree (dir);
  test_rmtree (cache);
  free (dir);
  free (cache);
}
END_TEST

START_TEST (test_folder_errors)
{
  char *dir = test_tmpdir (), *path;
  path = path_in (dir, "missing");
  open_fails (path, 32, "", "no such folder");
  free (path);

  write_png (dir, "20_0_0_1.png", 20, 20, 3, 1);
  path = path_in (dir, "20_0_0_1.png");
  open_fails (path, 32, "", "is a file, not a folder");
  free (path);

  path = path_in (dir, "empty");
  ck_assert_int_eq (mkdir (path, 0755), 0);
  open_fails (path, 32, "", "is empty");
  write_text (path, ".DS_Store", "x");
  open_fails (path, 32, "", "only hidden files");
  write_text (path, "notes.txt", "x");
  open_fails (path, 32, "", "no usable face image");
  write_text (path, "1_0_0_1.jpg", "");
  open_fails (path, 32, "", "all 2 files were skipped");
  free (path);

  if (geteuid () != 0) /* root lists any folder */
    {
      path = path_in (dir, "locked");
      ck_assert_int_eq (mkdir (path, 0), 0);
      open_fails (path, 32, "", "permission denied");
      free (path);
    }
  test_rmtree (dir);
  free (dir);
}
END_TEST

START_TEST (test_threads_give_identical_results)
{
  char *dir = cache_fixture ();
  for (int i = 0; i < 30; i++)
    {
      char name[64];
      snprintf (name, sizeof name, "%d_1_3_%d.png", i, i);
      write_png (dir, name, 30 + i, 45, i % 2 ? 3 : 4, (unsigned) (i + 50));
    }
  HnDataset *one = open_ok (dir, 64, "", 1);
  HnDataset *two = open_ok (dir, 64, "", 2);
  HnDataset *all = open_ok (dir, 64, "", 0);
  HnDataset *many = open_ok (dir, 64, "", 7);
  assert_same (one, two);
  assert_same (one, all);
  assert_same (one, many);
  dataset_free (one);
  dataset_free (two);
  dataset_free (all);
  dataset_free (many);
  dataset_free (NULL);
  dataset_private_free (NULL);
  test_rmtree (dir);
  free (dir);
}
END_TEST

static Suite *
dataset_suite (void)
{
  Suite *s = suite_create ("dataset");
  TCase *sha = tcase_create ("sha1");
  tcase_add_test (sha, test_sha1_fips180_vectors);
  tcase_add_test (sha, test_sha1_pieces_equal_whole);
  tcase_add_test (sha, test_split_key_is_the_reference_formula);
  suite_add_tcase (s, sha);

  TCase *files = tcase_create ("files");
  tcase_set_timeout (files, 60);
  tcase_add_test (files, test_names_parsed_strictly);
  tcase_add_test (files, test_broken_files_skipped_with_reasons);
  tcase_add_test (files, test_grey_alpha_16bit_converted);
  tcase_add_test (files, test_sizes_match_image_c);
  tcase_add_test (files, test_duplicates);
  tcase_add_test (files, test_split_rule);
  suite_add_tcase (s, files);

  TCase *cache = tcase_create ("cache");
  tcase_set_timeout (cache, 60);
  tcase_add_test (cache, test_cache_round_trip);
  tcase_add_test (cache, test_cache_default_location);
  tcase_add_loop_test (cache, test_cache_stale_or_broken_is_rebuilt, 0, N_BREAKAGES);
  tcase_add_test (cache, test_cache_every_byte_matters);
  tcase_add_test (cache, test_cache_write_failure_not_fatal);
  suite_add_tcase (s, cache);

  TCase *load = tcase_create ("load");
  tcase_set_timeout (load, 120);
  tcase_add_test (load, test_cancel_before_start);
  tcase_add_test (load, test_cancel_midway_leaves_no_cache);
  tcase_add_test (load, test_folder_errors);
  tcase_add_test (load, test_threads_give_identical_results);
  suite_add_tcase (s, load);
  return s;
}

int
main (void)
{
  return test_run_suite (dataset_suite ());
}
