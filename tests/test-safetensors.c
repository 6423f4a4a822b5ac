/* test-safetensors.c — the container: round trips, byte compatibility with the reference's
 * Python writer, one refusal per kind of damage, a fuzz loop, and the writer's atomicity. */
#include "fileio.h"
#include "safetensors.h"
#include "test-util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One header entry, spelled as Python's json.dumps (separators=(",", ":")) spells it. */
#define ENTRY(name, dtype, shape, offsets)                                                        \
  "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

/* A file in memory, laid out as the reference's st_save lays it out: u64 little-endian header
 * length, the header padded with spaces to a multiple of 8, then data_len bytes 0, 1, 2, … */
static uint8_t *
make_file (const char *json, size_t data_len, size_t *len)
{
  size_t n = strlen (json), padded = (n + 7) / 8 * 8;
  *len = 8 + padded + data_len;
  uint8_t *buf = malloc (*len);
  ck_assert_ptr_nonnull (buf);
  for (int i = 0; i < 8; i++)
    buf[i] = (uint8_t) ((uint64_t) padded >> (8 * i));
  memcpy (buf + 8, json, n);
  memset (buf + 8 + n, ' ', padded - n);
  for (size_t i = 0; i < data_len; i++)
    buf[8 + padded + i] = (uint8_t) i;
  return buf;
}

static HnSafetensors *
parse_json (const char *json, size_t data_len, HnError *err)
{
  size_t len;
  uint8_t *buf = make_file (json, data_len, &len);
  return safetensors_parse_owned (buf, len, err);
}

static uint8_t *
read_bytes (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  ck_assert_msg (f != NULL, "cannot open %s", path);
  ck_assert_int_eq (fseek (f, 0, SEEK_END), 0);
  *len = (size_t) ftell (f);
  rewind (f);
  uint8_t *buf = malloc (*len + 1);
  ck_assert_ptr_nonnull (buf);
  ck_assert_uint_eq (fread (buf, 1, *len, f), *len);
  fclose (f);
  return buf;
}

static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  ck_assert_ptr_nonnull (d);
  int n = 0;
  for (struct dirent *e; (e = readdir (d)) != NULL;)
    n += strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0;
  closedir (d);
  return n;
}

static void
assert_refused (HnSafetensors *st, const HnError *err, const char *needle)
{
  ck_assert_msg (st == NULL, "accepted a file that should be refused (\"%s\")", needle);
  ck_assert_msg (strstr (err->message, needle) != NULL, "message \"%s\" does not mention \"%s\"",
                 err->message, needle);
}

/* ---- reading what writers produce ---- */

START_TEST (test_round_trip)
{
  float f32[6] = { 1, -2, 3.5f, 0, 1e-30f, -7 };
  double f64[3] = { 0.1, -1e300, 42 };
  int64_t scalar = 1234567890123;
  uint16_t bf16[4] = { 0x3f80, 0xbf80, 0x0000, 0x7f80 };
  uint8_t flags[4] = { 1, 0, 0, 1 };
  int8_t i8[4] = { -128, 127, 0, -1 };
  int32_t i32[2] = { -5, 1 << 30 };
  StTensor in[] = {
    { "net.conv1.weight", ST_F32, 2, { 2, 3 }, f32, sizeof f32 },
    { "net.bn1.num_batches_tracked", ST_I64, 0, { 0 }, &scalar, sizeof scalar },
    { "b64", ST_F64, 1, { 3 }, f64, sizeof f64 },
    { "empty", ST_U8, 1, { 0 }, NULL, 0 },
    { "bf", ST_BF16, 2, { 2, 2 }, bf16, sizeof bf16 },
    { "flags", ST_BOOL, 1, { 4 }, flags, sizeof flags },
    { "i8", ST_I8, 3, { 2, 1, 2 }, i8, sizeof i8 },
    { "deep", ST_I32, 8, { 1, 1, 1, 1, 1, 1, 1, 2 }, i32, sizeof i32 },
  };
  int n = (int) (sizeof in / sizeof in[0]);
  StMeta meta[] = {
    { "format", "hydranet-1" },
    { "backbone", "resnet18" },
    { "note", "quotes \" and \\ and é, newline\n" },
  };
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "m.safetensors");
  HnError err = { "" };
  ck_assert_msg (safetensors_write (path, in, n, meta, 3, &err), "%s", err.message);

  HnSafetensors *st = safetensors_read (path, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (safetensors_count (st), n);
  for (int i = 0; i < n; i++)
    {
      const StTensor *t = safetensors_find (st, in[i].name);
      ck_assert_msg (t != NULL, "%s missing", in[i].name);
      ck_assert_str_eq (t->name, in[i].name);
      ck_assert_int_eq (t->dtype, in[i].dtype);
      ck_assert_int_eq (t->ndim, in[i].ndim);
      for (int d = 0; d < t->ndim; d++)
        ck_assert_int_eq (t->shape[d], in[i].shape[d]);
      ck_assert_uint_eq (t->nbytes, in[i].nbytes);
      ck_assert_int_eq (st_numel (t), st_numel (&in[i]));
      ck_assert (t->nbytes == 0 || memcmp (t->data, in[i].data, t->nbytes) == 0);
      /* Contiguous, in the order given to the writer. */
      if (i > 0)
        {
          const StTensor *prev = safetensors_find (st, in[i - 1].name);
          ck_assert_ptr_eq (t->data, (const uint8_t *) prev->data + prev->nbytes);
        }
    }
  ck_assert_int_eq (st_numel (safetensors_find (st, "net.bn1.num_batches_tracked")), 1);
  for (int i = 1; i < n; i++)
    ck_assert (strcmp (safetensors_at (st, i - 1)->name, safetensors_at (st, i)->name) < 0);
  for (int i = 0; i < 3; i++)
    ck_assert_str_eq (safetensors_meta (st, meta[i].key), meta[i].value);
  ck_assert_ptr_null (safetensors_meta (st, "epoch"));
  ck_assert_int_eq (safetensors_meta_count (st), 3);
  ck_assert_str_eq (safetensors_meta_at (st, 0)->key, "backbone");
  ck_assert_str_eq (safetensors_meta_at (st, 1)->key, "format");
  ck_assert_str_eq (safetensors_meta_at (st, 2)->value, meta[2].value);
  ck_assert_ptr_null (safetensors_find (st, "net.conv2.weight"));
  safetensors_free (st);

  /* The layout the reference reads: the data region starts 8-aligned after space padding, and
   * the file ends with the last tensor. */
  size_t len;
  uint8_t *raw = read_bytes (path, &len);
  uint64_t header = 0;
  for (int i = 7; i >= 0; i--)
    header = header << 8 | raw[i];
  ck_assert_uint_eq ((8 + header) % 8, 0);
  ck_assert_int_eq (raw[8], '{');
  size_t json_end = 8 + header;
  while (raw[json_end - 1] == ' ')
    json_end--;
  ck_assert_int_eq (raw[json_end - 1], '}');
  ck_assert_uint_lt (8 + header - json_end, 8);
  size_t total = 0;
  for (int i = 0; i < n; i++)
    total += in[i].nbytes;
  ck_assert_uint_eq (len, 8 + header + total);
  free (raw);
  ck_assert_int_eq (count_entries (dir), 1);

  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

/* Exactly what the reference's st_save writes for these tensors: sorted names, compact JSON,
 * "__metadata__" last, spaces to a multiple of 8. */
static const char reference_json[] =
  "{" ENTRY ("a.bias", "F32", "[3]", "[0,12]") ","
  ENTRY ("a.weight", "F32", "[2,3]", "[12,36]") ","
  ENTRY ("n", "I64", "[]", "[36,44]") ","
  "\"__metadata__\":{\"format\":\"hydranet-1\"}}";

START_TEST (test_reads_reference_file)
{
  HnError err = { "" };
  HnSafetensors *st = parse_json (reference_json, 44, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (safetensors_count (st), 3);
  const StTensor *w = safetensors_find (st, "a.weight");
  ck_assert_ptr_nonnull (w);
  ck_assert_int_eq (w->dtype, ST_F32);
  ck_assert_int_eq (w->ndim, 2);
  ck_assert_int_eq (w->shape[0], 2);
  ck_assert_int_eq (w->shape[1], 3);
  ck_assert_int_eq (st_numel (w), 6);
  ck_assert_uint_eq (w->nbytes, 24);
  for (int i = 0; i < 24; i++)
    ck_assert_int_eq (((const uint8_t *) w->data)[i], 12 + i);
  const StTensor *n = safetensors_find (st, "n");
  ck_assert_int_eq (n->ndim, 0);
  ck_assert_int_eq (n->dtype, ST_I64);
  ck_assert_int_eq (((const uint8_t *) n->data)[0], 36);
  ck_assert_str_eq (safetensors_meta (st, "format"), "hydranet-1");
  safetensors_free (st);
}
END_TEST

START_TEST (test_writer_matches_reference)
{
  size_t want_len, got_len;
  uint8_t *want = make_file (reference_json, 44, &want_len);
  const uint8_t *data = want + want_len - 44;
  StTensor t[] = {
    { "a.bias", ST_F32, 1, { 3 }, data, 12 },
    { "a.weight", ST_F32, 2, { 2, 3 }, data + 12, 24 },
    { "n", ST_I64, 0, { 0 }, data + 36, 8 },
  };
  StMeta meta = { "format", "hydranet-1" };
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "ref.safetensors");
  HnError err = { "" };
  ck_assert_msg (safetensors_write (path, t, 3, &meta, 1, &err), "%s", err.message);
  uint8_t *got = read_bytes (path, &got_len);
  ck_assert_uint_eq (got_len, want_len);
  ck_assert_msg (memcmp (got, want, want_len) == 0, "written bytes differ from the reference's");
  free (got);
  free (want);
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_metadata_only)
{
  HnError err = { "" };
  HnSafetensors *st = parse_json ("{\"__metadata__\":{\"format\":\"hydranet-1\"}}", 0, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (safetensors_count (st), 0);
  ck_assert_ptr_null (safetensors_find (st, "x"));
  ck_assert_str_eq (safetensors_meta (st, "format"), "hydranet-1");
  safetensors_free (st);

  st = parse_json ("{}", 0, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (safetensors_count (st), 0);
  ck_assert_ptr_null (safetensors_meta (st, "format"));
  ck_assert_int_eq (safetensors_meta_count (st), 0);
  safetensors_free (st);
}
END_TEST

/* Empty tensors may share a start with each other and with a neighbour's end or start. */
START_TEST (test_empty_tensors_at_boundaries)
{
  HnError err = { "" };
  HnSafetensors *st = parse_json ("{" ENTRY ("a", "F32", "[2]", "[0,8]") ","
                                  ENTRY ("e1", "F32", "[0,5]", "[8,8]") ","
                                  ENTRY ("e2", "U8", "[0]", "[8,8]") ","
                                  ENTRY ("b", "U8", "[1]", "[8,9]") "}", 9, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (safetensors_count (st), 4);
  ck_assert_int_eq (st_numel (safetensors_find (st, "e1")), 0);
  safetensors_free (st);
}
END_TEST

/* ---- refusing damaged headers: one row per problem ---- */

static const struct
{
  const char *what;
  const char *json;
  size_t data_len;
  const char *needle;
} bad_headers[] = {
  { "broken JSON", "{\"a\":{\"dtype\":\"F32\"", 0, "not valid JSON" },
  { "empty header", "", 0, "not valid JSON" },
  { "stray bytes after the JSON", "{}x", 0, "stray bytes after the JSON" },
  { "header is an array", "[1,2,3]", 0, "not a JSON object" },
  { "entry is a number", "{\"a\":5}", 0, "tensor \"a\" is not an object" },
  { "entry is a string", "{\"a\":\"x\"}", 0, "tensor \"a\" is not an object" },
  { "unknown dtype", "{" ENTRY ("a", "F8", "[2]", "[0,2]") "}", 2, "unknown dtype \"F8\"" },
  { "dtype missing", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
    "\"dtype\" is missing" },
  { "shape not an array", "{" ENTRY ("a", "U8", "1", "[0,1]") "}", 1, "\"shape\" is missing" },
  { "negative dimension", "{" ENTRY ("a", "U8", "[-1]", "[0,1]") "}", 1,
    "shape[0] is not a non-negative integer" },
  { "fractional dimension", "{" ENTRY ("a", "U8", "[1,2.5]", "[0,1]") "}", 1,
    "shape[1] is not a non-negative integer" },
  { "string dimension", "{" ENTRY ("a", "U8", "[\"2\"]", "[0,2]") "}", 2,
    "shape[0] is not a non-negative integer" },
  { "dimension of 2^53", "{" ENTRY ("a", "U8", "[9007199254740992]", "[0,1]") "}", 1,
    "shape[0] is not a non-negative integer" },
  { "too many dimensions", "{" ENTRY ("a", "U8", "[1,1,1,1,1,1,1,1,1]", "[0,1]") "}", 1,
    "shape has 9 dimensions" },
  { "element count overflows", "{" ENTRY ("a", "F32", "[4294967296,4294967296]", "[0,4]") "}",
    4, "overflows" },
  { "offsets past the data", "{" ENTRY ("a", "F32", "[25]", "[0,100]") "}", 24,
    "run past the end of the data (24 bytes)" },
  { "offsets end before begin", "{" ENTRY ("a", "F32", "[1]", "[8,4]") "}", 24,
    "end before they begin" },
  { "negative offset", "{" ENTRY ("a", "F32", "[1]", "[-4,0]") "}", 24,
    "\"data_offsets\" is not a pair" },
  { "fractional offset", "{" ENTRY ("a", "F32", "[1]", "[0,4.5]") "}", 24,
    "\"data_offsets\" is not a pair" },
  { "offset of 2^53", "{" ENTRY ("a", "U8", "[1]", "[9007199254740992,9007199254740993]") "}",
    24, "\"data_offsets\" is not a pair" },
  { "offset of 1e999", "{" ENTRY ("a", "U8", "[1]", "[0,1e999]") "}", 24,
    "\"data_offsets\" is not a pair" },
  { "three offsets", "{" ENTRY ("a", "U8", "[1]", "[0,1,2]") "}", 24,
    "\"data_offsets\" is not a pair" },
  { "size mismatch", "{" ENTRY ("a", "F32", "[2,3]", "[0,20]") "}", 24,
    "span 20 bytes but its F32 shape needs 24" },
  { "overlapping tensors", "{" ENTRY ("a", "F32", "[4]", "[0,16]") ","
    ENTRY ("b", "F32", "[4]", "[8,24]") "}", 24, "\"a\" and \"b\" overlap" },
  { "empty tensor inside another", "{" ENTRY ("a", "F32", "[4]", "[0,16]") ","
    ENTRY ("b", "F32", "[0]", "[8,8]") "}", 24, "\"a\" and \"b\" overlap" },
  { "duplicate names", "{" ENTRY ("a", "F32", "[2]", "[0,8]") ","
    ENTRY ("a", "F32", "[2]", "[8,16]") "}", 24, "duplicate tensor name \"a\"" },
  { "metadata value not a string", "{\"__metadata__\":{\"epoch\":3}}", 0,
    "metadata \"epoch\" is not a string" },
  { "metadata value null", "{\"__metadata__\":{\"epoch\":null}}", 0,
    "metadata \"epoch\" is not a string" },
  { "metadata not an object", "{\"__metadata__\":[\"a\"]}", 0,
    "\"__metadata__\" is not an object" },
  { "duplicate metadata key", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0,
    "duplicate metadata key \"k\"" },
  { "two metadata objects", "{\"__metadata__\":{},\"__metadata__\":{}}", 0,
    "duplicate \"__metadata__\"" },
};

START_TEST (test_bad_header)
{
  HnError err = { "" };
  HnSafetensors *st = parse_json (bad_headers[_i].json, bad_headers[_i].data_len, &err);
  ck_assert_msg (st == NULL, "%s: accepted", bad_headers[_i].what);
  ck_assert_msg (strstr (err.message, bad_headers[_i].needle) != NULL,
                 "%s: message \"%s\" does not mention \"%s\"", bad_headers[_i].what, err.message,
                 bad_headers[_i].needle);
}
END_TEST

/* ---- refusing damaged files ---- */

START_TEST (test_truncated)
{
  size_t len;
  uint8_t *whole = make_file (reference_json, 44, &len);
  const struct
  {
    size_t keep;
    const char *needle;
  } cuts[] = {
    { 3, "the file is 3 bytes, too short for the 8-byte header length" },
    { 7, "too short" },
    { 8, "runs past the end of the file (8 bytes)" },
    { 8 + 40, "runs past the end of the file (48 bytes)" },
    { len - 44, "run past the end of the data (0 bytes)" },
    { len - 1, "\"n\": data_offsets [36, 44] run past the end of the data (43 bytes)" },
  };
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    {
      /* An exact-size copy, so that the sanitizers see any read past the cut. */
      uint8_t *buf = malloc (cuts[i].keep);
      memcpy (buf, whole, cuts[i].keep);
      HnError err = { "" };
      assert_refused (safetensors_parse_owned (buf, cuts[i].keep, &err), &err, cuts[i].needle);
    }
  free (whole);
}
END_TEST

START_TEST (test_header_length_past_end)
{
  size_t len;
  uint8_t *buf = make_file (reference_json, 0, &len);
  buf[0]++;
  HnError err = { "" };
  assert_refused (safetensors_parse_owned (buf, len, &err), &err, "runs past the end of the file");
}
END_TEST

START_TEST (test_header_length_huge)
{
  size_t len;
  uint8_t *buf = make_file (reference_json, 44, &len);
  memset (buf, 0, 8);
  buf[7] = 0x80;
  HnError err = { "" };
  assert_refused (safetensors_parse_owned (buf, len, &err), &err,
                  "header length 9223372036854775808 runs past the end of the file");
}
END_TEST

START_TEST (test_header_over_limit)
{
  /* Inside the file but over the cap: refused before cJSON sees a byte. */
  size_t n = 100 * 1000 * 1000 + 8;
  uint8_t *buf = calloc (8 + n, 1);
  ck_assert_ptr_nonnull (buf);
  for (int i = 0; i < 8; i++)
    buf[i] = (uint8_t) ((uint64_t) n >> (8 * i));
  HnError err = { "" };
  assert_refused (safetensors_parse_owned (buf, 8 + n, &err), &err, "over the 100 MB limit");
}
END_TEST

START_TEST (test_empty_file)
{
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "empty.safetensors");
  test_write_file (path, "", 0);
  HnError err = { "" };
  assert_refused (safetensors_read (path, &err), &err, "the file is empty");
  ck_assert_msg (strncmp (err.message, path, strlen (path)) == 0, "no file name in \"%s\"",
                 err.message);
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_damaged_file_names_path)
{
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "model.safetensors");
  size_t len;
  uint8_t *buf = make_file (reference_json, 44, &len);
  buf[1] = 0x27;
  test_write_file (path, buf, len);
  char *want = NULL;
  ck_assert (asprintf (&want, "%s: header length %d runs past the end of the file (%zu bytes)",
                       path, 0x2700 + buf[0], len) > 0);
  free (buf);
  HnError err = { "" };
  assert_refused (safetensors_read (path, &err), &err, want);
  free (want);
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_directory)
{
  char *dir = test_tmpdir ();
  HnError err = { "" };
  assert_refused (safetensors_read (dir, &err), &err, "is a folder, not a safetensors file");
  ck_assert_ptr_nonnull (strstr (err.message, dir));
  test_rmtree (dir);
  free (dir);
}
END_TEST

START_TEST (test_fifo)
{
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "pipe");
  ck_assert_int_eq (mkfifo (path, 0600), 0);
  HnError err = { "" };
  assert_refused (safetensors_read (path, &err), &err, "not a regular file");
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_missing_file)
{
  HnError err = { "" };
  assert_refused (safetensors_read ("/nonexistent/hydranet/model.safetensors", &err), &err,
                  "/nonexistent/hydranet/model.safetensors: cannot open (No such file or directory)");
}
END_TEST

START_TEST (test_file_over_limit)
{
  /* Sparse, so it costs no disk: refused from its size before anything is read. */
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "big.safetensors");
  test_write_file (path, "", 0);
  ck_assert_int_eq (truncate (path, ((off_t) 4 << 30) + 1), 0);
  HnError err = { "" };
  assert_refused (safetensors_read (path, &err), &err, "4294967297 bytes is over the 4 GiB limit");
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

/* ---- fuzz ---- */

/* splitmix64: a fixed seed gives the same 2000 files on every run. */
static uint64_t
next_random (uint64_t *state)
{
  uint64_t z = (*state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

START_TEST (test_fuzz)
{
  size_t base_len;
  uint8_t *base = make_file (reference_json, 44, &base_len);
  uint64_t rng = 20240601;
  int accepted = 0;
  for (int iter = 0; iter < 2000; iter++)
    {
      uint8_t work[512];
      size_t len = base_len;
      ck_assert_uint_le (base_len + 8, sizeof work);
      memcpy (work, base, base_len);
      for (int edits = 1 + (int) (next_random (&rng) % 4); edits > 0; edits--)
        {
          uint64_t r = next_random (&rng);
          size_t pos = (size_t) (r >> 8) % (len + 1);
          switch (r % 3)
            {
            case 0: /* flip one bit */
              if (pos < len)
                work[pos] ^= (uint8_t) (1u << ((r >> 4) % 8));
              break;
            case 1: /* insert a byte */
              if (len < sizeof work)
                {
                  memmove (work + pos + 1, work + pos, len - pos);
                  work[pos] = (uint8_t) (r >> 40);
                  len++;
                }
              break;
            default: /* delete a byte */
              if (pos < len)
                {
                  memmove (work + pos, work + pos + 1, len - pos - 1);
                  len--;
                }
              break;
            }
        }
      /* An exact-size heap copy, so that the sanitizers catch a read one byte too far. */
      uint8_t *buf = malloc (len > 0 ? len : 1);
      memcpy (buf, work, len);
      HnError err = { "" };
      HnSafetensors *st = safetensors_parse_owned (buf, len, &err);
      if (st == NULL)
        {
          ck_assert_msg (err.message[0] != '\0', "iteration %d: refused without a message", iter);
          continue;
        }
      accepted++;
      for (int i = 0; i < safetensors_count (st); i++)
        {
          const StTensor *t = safetensors_at (st, i);
          const uint8_t *p = t->data;
          ck_assert (p >= buf && p + t->nbytes <= buf + len);
          ck_assert_uint_eq (t->nbytes, (size_t) st_numel (t) * st_dtype_size (t->dtype));
          ck_assert_ptr_eq (safetensors_find (st, t->name), t);
          unsigned sum = 0;
          for (size_t b = 0; b < t->nbytes; b++)
            sum += p[b];
          (void) sum;
        }
      safetensors_free (st);
    }
  free (base);
  /* Both outcomes must occur, or the loop is not testing what it claims to. */
  ck_assert_int_gt (accepted, 0);
  ck_assert_int_lt (accepted, 2000);
}
END_TEST

/* ---- the writer's failures ---- */

START_TEST (test_write_failure_keeps_old_file)
{
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "m.safetensors");
  float old_w[2] = { 1, 2 }, new_w[64];
  for (int i = 0; i < 64; i++)
    new_w[i] = (float) i;
  StTensor old_t = { "w", ST_F32, 1, { 2 }, old_w, sizeof old_w };
  StTensor new_t = { "w", ST_F32, 2, { 8, 8 }, new_w, sizeof new_w };
  StMeta meta = { "epoch", "7" };
  HnError err = { "" };
  ck_assert_msg (safetensors_write (path, &old_t, 1, &meta, 1, &err), "%s", err.message);
  size_t old_len;
  uint8_t *old_bytes = read_bytes (path, &old_len);

  /* Full disk inside the length, inside the header, at the data, and inside the data. */
  const long long limits[] = { 0, 5, 40, 80, 200 };
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
    {
      file_set_write_limit_for_testing (limits[i]);
      bool ok = safetensors_write (path, &new_t, 1, &meta, 1, &err);
      file_set_write_limit_for_testing (-1);
      ck_assert_msg (!ok, "write with limit %lld succeeded", limits[i]);
      ck_assert_msg (strstr (err.message, "cannot write ") && strstr (err.message, path)
                       && strstr (err.message, "No space left on device"),
                     "limit %lld: unexpected message \"%s\"", limits[i], err.message);
      size_t len;
      uint8_t *bytes = read_bytes (path, &len);
      ck_assert_msg (len == old_len && memcmp (bytes, old_bytes, len) == 0,
                     "limit %lld: the old file changed", limits[i]);
      free (bytes);
      ck_assert_msg (count_entries (dir) == 1, "limit %lld: temporary file left behind",
                     limits[i]);
    }

  ck_assert_msg (safetensors_write (path, &new_t, 1, &meta, 1, &err), "%s", err.message);
  HnSafetensors *st = safetensors_read (path, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_uint_eq (safetensors_find (st, "w")->nbytes, sizeof new_w);
  safetensors_free (st);
  ck_assert_int_eq (count_entries (dir), 1);
  /* an ordinary file, as open (O_CREAT, 0666) makes one, not the temporary's 0600 */
  struct stat sb;
  mode_t mask = umask (022);
  umask (mask);
  ck_assert_int_eq (stat (path, &sb), 0);
  ck_assert_uint_eq (sb.st_mode & 0777, 0666 & ~mask);

  free (old_bytes);
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

static void
assert_write_refused (const char *path, const char *needle)
{
  float w[1] = { 1 };
  StTensor t = { "w", ST_F32, 1, { 1 }, w, sizeof w };
  HnError err = { "" };
  ck_assert_msg (!safetensors_write (path, &t, 1, NULL, 0, &err), "wrote %s", path);
  char *want = NULL;
  ck_assert (asprintf (&want, "cannot write %s: %s", path, needle) > 0);
  ck_assert_str_eq (err.message, want);
  free (want);
}

START_TEST (test_write_missing_directory)
{
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "no/such/dir/m.safetensors");
  assert_write_refused (path, "No such file or directory");
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_write_parent_is_file)
{
  /* Root ignores permission bits, so a regular file as the parent is the portable way to make
   * a directory unwritable. */
  char *dir = test_tmpdir ();
  char *file = test_path (dir, "file");
  char *path = test_path (file, "m.safetensors");
  test_write_file (file, "x", 1);
  assert_write_refused (path, "Not a directory");
  test_rmtree (dir);
  free (path);
  free (file);
  free (dir);
}
END_TEST

START_TEST (test_write_over_directory)
{
  /* The failure comes at rename, after the data is written: the temporary file must go. */
  char *dir = test_tmpdir ();
  char *path = test_path (dir, "m.safetensors");
  ck_assert_int_eq (mkdir (path, 0700), 0);
  assert_write_refused (path, "Is a directory");
  ck_assert_int_eq (count_entries (dir), 1);
  test_rmtree (dir);
  free (path);
  free (dir);
}
END_TEST

START_TEST (test_write_relative_path)
{
  char *dir = test_tmpdir ();
  char *cwd = getcwd (NULL, 0);
  ck_assert_int_eq (chdir (dir), 0);
  uint8_t b[3] = { 1, 2, 3 };
  StTensor t = { "b", ST_U8, 1, { 3 }, b, sizeof b };
  HnError err = { "" };
  bool ok = safetensors_write ("rel.safetensors", &t, 1, NULL, 0, &err);
  HnSafetensors *st = ok ? safetensors_read ("rel.safetensors", &err) : NULL;
  ck_assert_int_eq (chdir (cwd), 0);
  ck_assert_msg (st != NULL, "%s", err.message);
  ck_assert_int_eq (memcmp (safetensors_find (st, "b")->data, b, 3), 0);
  safetensors_free (st);
  test_rmtree (dir);
  free (cwd);
  free (dir);
}
END_TEST

int
main (void)
{
  Suite *s = suite_create ("safetensors");

  TCase *tc = tcase_create ("read");
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_reads_reference_file);
  tcase_add_test (tc, test_writer_matches_reference);
  tcase_add_test (tc, test_metadata_only);
  tcase_add_test (tc, test_empty_tensors_at_boundaries);
  suite_add_tcase (s, tc);

  tc = tcase_create ("refuse");
  tcase_add_loop_test (tc, test_bad_header, 0, (int) (sizeof bad_headers / sizeof bad_headers[0]));
  tcase_add_test (tc, test_truncated);
  tcase_add_test (tc, test_header_length_past_end);
  tcase_add_test (tc, test_header_length_huge);
  tcase_add_test (tc, test_header_over_limit);
  tcase_add_test (tc, test_empty_file);
  tcase_add_test (tc, test_damaged_file_names_path);
  tcase_add_test (tc, test_directory);
  tcase_add_test (tc, test_fifo);
  tcase_add_test (tc, test_missing_file);
  tcase_add_test (tc, test_file_over_limit);
  suite_add_tcase (s, tc);

  tc = tcase_create ("fuzz");
  tcase_add_test (tc, test_fuzz);
  suite_add_tcase (s, tc);

  tc = tcase_create ("write");
  tcase_add_test (tc, test_write_failure_keeps_old_file);
  tcase_add_test (tc, test_write_missing_directory);
  tcase_add_test (tc, test_write_parent_is_file);
  tcase_add_test (tc, test_write_over_directory);
  tcase_add_test (tc, test_write_relative_path);
  suite_add_tcase (s, tc);

  return test_run_suite (s);
}
