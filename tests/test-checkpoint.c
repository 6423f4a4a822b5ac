/* test-checkpoint.c — models to files and back, and every malformed checkpoint refused.
 *
 * The container-level cases (header length, JSON, offsets, dtypes) are exercised on small
 * files in test-safetensors.c; here they are repeated on a real 48 MB checkpoint, and the
 * model-level ones added: missing, unexpected, wrong-dtype, wrong-shape and non-finite
 * tensors. A refused file never changes the model it was applied to.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "rng.h"
#include "fileio.h"
#include "test-util.h"

static char *dir;
static char *good;        /* a valid checkpoint, written once */
static uint8_t *good_bytes;
static size_t good_len;

static char *
path_in_dir (const char *name)
{
  char *p = NULL;
  ck_assert (asprintf (&p, "%s/%s", dir, name) > 0);
  return p;
}

static uint8_t *
read_all (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  ck_assert_ptr_nonnull (f);
  fseek (f, 0, SEEK_END);
  *len = (size_t) ftell (f);
  fseek (f, 0, SEEK_SET);
  uint8_t *buf = malloc (*len);
  ck_assert_uint_eq (fread (buf, 1, *len, f), *len);
  fclose (f);
  return buf;
}

static void
setup (void)
{
  dir = test_tmpdir ();
  good = path_in_dir ("good.safetensors");
  HnModel *m = model_new (BACKBONE_RESNET18, 42);
  HnError err;
  StMeta extra[] = { { "epoch", "3" } };
  ck_assert_msg (checkpoint_save (m, 32, good, extra, 1, &err), "%s", err.message);
  model_free (m);
  good_bytes = read_all (good, &good_len);
}

static void
teardown (void)
{
  test_rmtree (dir);
  free (dir);
  free (good);
  free (good_bytes);
}

/* Loading `bytes` must fail with a message containing `expect`. */
static void
assert_refused (const uint8_t *bytes, size_t len, const char *expect)
{
  char *p = path_in_dir ("bad.safetensors");
  test_write_file (p, bytes, len);
  HnError err = { { 0 } };
  HnCheckpointInfo info;
  HnModel *m = checkpoint_load (p, &info, &err);
  ck_assert_msg (m == NULL, "a malformed checkpoint loaded (expected: %s)", expect);
  ck_assert_msg (strstr (err.message, expect) != NULL, "message \"%s\" lacks \"%s\"",
                 err.message, expect);
  ck_assert_msg (strstr (err.message, "bad.safetensors") != NULL, "message \"%s\" lacks the file",
                 err.message);
  free (p);
}

static size_t
header_len (void)
{
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | good_bytes[i];
  return (size_t) n;
}

/* The good file with the first occurrence of `from` in its header replaced by `to` (same
 * length, so offsets stay valid). */
static uint8_t *
patched (const char *from, const char *to)
{
  ck_assert_uint_eq (strlen (from), strlen (to));
  uint8_t *b = malloc (good_len);
  memcpy (b, good_bytes, good_len);
  char *h = (char *) b + 8, *end = h + header_len ();
  char *at = memmem (h, (size_t) (end - h), from, strlen (from));
  ck_assert_msg (at != NULL, "header lacks %s", from);
  memcpy (at, to, strlen (to));
  return b;
}

START_TEST (test_round_trip)
{
  HnError err;
  HnCheckpointInfo info;
  HnModel *a = model_new (BACKBONE_RESNET18, 42);
  HnModel *b = checkpoint_load (good, &info, &err);
  ck_assert_msg (b != NULL, "%s", err.message);
  ck_assert_int_eq (info.backbone, BACKBONE_RESNET18);
  ck_assert_int_eq (info.input_size, 32);
  const HnParamTable *t = model_params (a);
  ck_assert (memcmp (model_param_data (a), model_param_data (b), t->n_params * 4) == 0);
  ck_assert (memcmp (model_buffer_data (a), model_buffer_data (b), t->n_buffers * 4) == 0);

  /* metadata as engine/io/runmeta.h lists it, plus the caller's */
  HnSafetensors *st = safetensors_read (good, &err);
  ck_assert_str_eq (safetensors_meta (st, "format"), "hydranet-1");
  ck_assert_str_eq (safetensors_meta (st, "backbone"), "resnet18");
  ck_assert_str_eq (safetensors_meta (st, "input_size"), "32");
  ck_assert_ptr_nonnull (safetensors_meta (st, "mean"));
  ck_assert_ptr_nonnull (safetensors_meta (st, "std"));
  ck_assert_str_eq (safetensors_meta (st, "epoch"), "3");
  const StTensor *count = safetensors_find (st, "net.bn1.num_batches_tracked");
  ck_assert_int_eq (count->dtype, ST_I64);
  ck_assert_int_eq (count->ndim, 0);
  safetensors_free (st);

  /* same predictions */
  float x[2 * 3 * 32 * 32];
  HnRng rng = { .seed = 5 };
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = (float) rng_normal (&rng);
  ck_assert (model_plan (a, 2, 32, &err) && model_plan (b, 2, 32, &err));
  model_forward (a, x, 2, false);
  model_forward (b, x, 2, false);
  for (int h = 0; h < N_HEADS; h++)
    ck_assert (memcmp (model_output (a, h), model_output (b, h), 2 * 4) == 0);
  model_free (a);
  model_free (b);
}
END_TEST

/* A checkpoint holds PyTorch's layout (OC, C, KH, KW); the engine keeps (OC, KH, KW, C)
 * (params.h). Every element of every convolution in the file is where PyTorch has it, and
 * the two conversions undo each other. */
START_TEST (test_conv_layout)
{
  HnError err;
  HnModel *m = model_new (BACKBONE_RESNET18, 42);
  HnSafetensors *st = safetensors_read (good, &err);
  ck_assert_msg (st != NULL, "%s", err.message);
  const HnParamTable *t = model_params (m);
  int convs = 0;
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      if (e->role != ROLE_CONV_WEIGHT)
        continue;
      convs++;
      const StTensor *s = safetensors_find (st, e->name);
      const float *engine = model_param_data (m) + e->offset;
      const int oc = e->shape[0], c = e->shape[1], kh = e->shape[2], kw = e->shape[3];
      size_t misplaced = 0;
      for (int o = 0; o < oc; o++)
        for (int ci = 0; ci < c; ci++)
          for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
              {
                float in_file;
                memcpy (&in_file,
                        (const char *) s->data + ((((size_t) o * c + ci) * kh + y) * kw + x) * 4, 4);
                misplaced += in_file != engine[(((size_t) o * kh + y) * kw + x) * c + ci];
              }
      ck_assert_msg (misplaced == 0, "%s: %zu elements misplaced", e->name, misplaced);
      float *torch = malloc (e->numel * sizeof *torch), *back = malloc (e->numel * sizeof *back);
      tensor_to_torch (e, torch, engine);
      tensor_from_torch (e, back, torch);
      ck_assert (memcmp (back, engine, e->numel * sizeof *back) == 0);
      ck_assert (memcmp (torch, s->data, e->numel * sizeof *torch) == 0);
      free (torch), free (back);
    }
  ck_assert_int_eq (convs, 20);
  safetensors_free (st);
  model_free (m);
}
END_TEST

START_TEST (test_truncated)
{
  const size_t h = header_len ();
  const struct
  {
    size_t cut;
    const char *why;
  } cases[] = {
    { 0, "the file is empty" },
    { 4, "too short for the 8-byte header length" },
    { 7, "too short for the 8-byte header length" },
    { 8, "runs past the end of the file" },
    { 8 + h / 2, "runs past the end of the file" },
    { 8 + h, "run past the end of the data" },
    { 8 + h + 1000, "run past the end of the data" },
    { good_len / 2, "run past the end of the data" },
    { good_len - 1, "run past the end of the data" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    assert_refused (good_bytes, cases[i].cut, cases[i].why);
}
END_TEST

START_TEST (test_header_length_past_end)
{
  uint8_t *b = malloc (good_len);
  memcpy (b, good_bytes, good_len);
  uint64_t n = good_len; /* 8 + n > file size */
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t) (n >> (8 * i));
  assert_refused (b, good_len, "runs past the end of the file");
  free (b);
}
END_TEST

START_TEST (test_broken_json)
{
  uint8_t *b = patched ("{\"", "[\"");
  assert_refused (b, good_len, "header is not valid JSON");
  free (b);
}
END_TEST

START_TEST (test_unknown_and_wrong_dtype)
{
  uint8_t *b = patched ("\"dtype\":\"F32\"", "\"dtype\":\"Q32\"");
  assert_refused (b, good_len, "Q32");
  free (b);
  /* a float tensor stored as I32 (same size, so the container is well formed) */
  b = patched ("\"dtype\":\"F32\"", "\"dtype\":\"I32\"");
  assert_refused (b, good_len, "dtype I32, expected F32");
  free (b);
}
END_TEST

START_TEST (test_wrong_shape)
{
  /* conv1 [64,3,7,7] declared [64,7,3,7]: same size, wrong shape */
  uint8_t *b = patched ("\"shape\":[64,3,7,7]", "\"shape\":[64,7,3,7]");
  assert_refused (b, good_len, "shape [64,7,3,7], expected [64,3,7,7]");
  free (b);
}
END_TEST

START_TEST (test_offsets_out_of_range_and_overlapping)
{
  /* conv1 comes first, at [0, 37632]: shifted, it overlaps bn1. The last tensor, fc3's final
   * bias, stretched past the data region, is out of range. */
  uint8_t *b = patched ("\"data_offsets\":[0,37632]", "\"data_offsets\":[9,37641]");
  assert_refused (b, good_len, "overlap in the data region");
  free (b);
  b = patched ("\"data_offsets\":[47910824,47910844]", "\"data_offsets\":[47910824,97910844]");
  assert_refused (b, good_len, "run past the end of the data");
  free (b);
}
END_TEST

/* Writes the model's tensors with one of them dropped, one more added, or a NaN. */
static void
write_variant (const char *path, const char *drop, const char *extra, bool nan)
{
  HnModel *m = model_new (BACKBONE_RESNET18, 1);
  const HnParamTable *t = model_params (m);
  if (nan)
    model_param_data (m)[5] = NAN;
  float *params = malloc (t->n_params * sizeof *params); /* in a checkpoint's layout */
  params_to_torch (t, params, model_param_data (m));
  StTensor *ts = calloc (t->n + 1, sizeof *ts);
  int n = 0;
  for (int i = 0; i < t->n; i++)
    {
      const HnTensorInfo *e = &t->items[i];
      if (drop && strcmp (e->name, drop) == 0)
        continue;
      StTensor *s = &ts[n++];
      s->name = e->name;
      s->ndim = e->ndim;
      for (int d = 0; d < e->ndim; d++)
        s->shape[d] = e->shape[d];
      HnTensorKind k = tensor_role_kind (e->role);
      s->dtype = k == TENSOR_COUNT ? ST_I64 : ST_F32;
      s->data = k == TENSOR_PARAM    ? (void *) (params + e->offset)
                : k == TENSOR_BUFFER ? (void *) (model_buffer_data (m) + e->offset)
                                     : (void *) (model_count_data (m) + e->offset);
      s->nbytes = e->numel * st_dtype_size (s->dtype);
    }
  if (extra)
    {
      ts[n] = ts[n - 1];
      ts[n++].name = extra;
    }
  HnError err;
  ck_assert_msg (safetensors_write (path, ts, n, NULL, 0, &err), "%s", err.message);
  free (ts);
  free (params);
  model_free (m);
}

static void
assert_path_refused (const char *path, const char *expect)
{
  HnError err;
  HnCheckpointInfo info;
  ck_assert (checkpoint_load (path, &info, &err) == NULL);
  ck_assert_msg (strstr (err.message, expect) != NULL, "\"%s\" lacks \"%s\"", err.message, expect);
}

START_TEST (test_model_level_refusals)
{
  char *p = path_in_dir ("variant.safetensors");
  write_variant (p, "net.layer3.1.bn2.running_var", NULL, false);
  assert_path_refused (p, "missing tensor net.layer3.1.bn2.running_var");
  write_variant (p, NULL, "net.fc4.final.bias", false);
  assert_path_refused (p, "net.fc4.final.bias");
  write_variant (p, NULL, NULL, true);
  assert_path_refused (p, "non-finite");

  /* a bare state_dict (no metadata) is accepted: backbone inferred, size 32 */
  write_variant (p, NULL, NULL, false);
  HnError err;
  HnCheckpointInfo info;
  HnModel *m = checkpoint_load (p, &info, &err);
  ck_assert_msg (m != NULL, "%s", err.message);
  ck_assert_int_eq (info.input_size, 32);
  model_free (m);

  /* apply leaves the model untouched when it refuses */
  write_variant (p, "net.fc3.final.bias", NULL, false);
  HnSafetensors *st = safetensors_read (p, &err);
  HnModel *target = model_new (BACKBONE_RESNET18, 99);
  float before = model_param_data (target)[0];
  ck_assert (!checkpoint_apply (target, st, &err));
  ck_assert_float_eq (model_param_data (target)[0], before);
  /* and a resnet18 file does not load into a resnet34 */
  HnModel *r34 = model_new (BACKBONE_RESNET34, 0);
  ck_assert (!checkpoint_apply (r34, st, &err));
  model_free (r34);
  model_free (target);
  safetensors_free (st);
  free (p);
}
END_TEST

START_TEST (test_metadata_refusals)
{
  uint8_t *b = patched ("\"backbone\":\"resnet18\"", "\"backbone\":\"resnet99\"");
  assert_refused (b, good_len, "resnet99");
  free (b);
  b = patched ("\"input_size\":\"32\"", "\"input_size\":\"3x\"");
  assert_refused (b, good_len, "input_size");
  free (b);
  b = patched ("\"format\":\"hydranet-1\"", "\"format\":\"hydranet-9\"");
  assert_refused (b, good_len, "hydranet-9");
  free (b);
}
END_TEST

START_TEST (test_failed_write_keeps_previous)
{
  HnModel *m = model_new (BACKBONE_RESNET18, 7);
  HnError err;
  file_set_write_limit_for_testing (1 << 20); /* the disk fills after 1 MB */
  ck_assert (!checkpoint_save (m, 32, good, NULL, 0, &err));
  file_set_write_limit_for_testing (-1);
  ck_assert_msg (strstr (err.message, "No space left") != NULL, "%s", err.message);
  size_t len;
  uint8_t *now = read_all (good, &len);
  ck_assert_uint_eq (len, good_len);
  ck_assert (memcmp (now, good_bytes, len) == 0);
  free (now);
  char *p = path_in_dir ("no/such/dir/m.safetensors");
  ck_assert (!checkpoint_save (m, 32, p, NULL, 0, &err));
  free (p);
  model_free (m);
}
END_TEST

static Suite *
checkpoint_suite (void)
{
  Suite *s = suite_create ("checkpoint");
  TCase *tc = tcase_create ("checkpoint");
  tcase_set_timeout (tc, 120);
  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_conv_layout);
  tcase_add_test (tc, test_truncated);
  tcase_add_test (tc, test_header_length_past_end);
  tcase_add_test (tc, test_broken_json);
  tcase_add_test (tc, test_unknown_and_wrong_dtype);
  tcase_add_test (tc, test_wrong_shape);
  tcase_add_test (tc, test_offsets_out_of_range_and_overlapping);
  tcase_add_test (tc, test_model_level_refusals);
  tcase_add_test (tc, test_metadata_refusals);
  tcase_add_test (tc, test_failed_write_keeps_previous);
  suite_add_tcase (s, tc);
  return s;
}

int
main (void)
{
  return test_run_suite (checkpoint_suite ());
}
