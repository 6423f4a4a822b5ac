/* safetensors.c — the reader proves every offset before it hands out a pointer; the writer
 * never leaves a half-written file under the target name. Format: see safetensors.h.
 */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"

/* The header cap is the reference implementation's; the file cap is far above any checkpoint
 * this app makes (ResNet-34 is about 90 MB) and keeps a hostile path from eating memory. */
#define ST_MAX_HEADER ((uint64_t) 100 * 1000 * 1000)
#define ST_MAX_FILE ((uint64_t) 4 << 30)

struct HnSafetensors
{
  uint8_t *buf;       /* the whole file: every StTensor.data points into it */
  cJSON *header;      /* owns the strings that names, keys and values point to */
  StTensor *tensors;  /* sorted by name, for bsearch */
  int n_tensors;
  StMeta *meta;       /* sorted by key; NULL until "__metadata__" is seen */
  int n_meta;
};

static const struct
{
  const char *name;
  size_t size;
} dtypes[] = {
  [ST_F64] = { "F64", 8 }, [ST_F32] = { "F32", 4 }, [ST_F16] = { "F16", 2 },
  [ST_BF16] = { "BF16", 2 }, [ST_I64] = { "I64", 8 }, [ST_I32] = { "I32", 4 },
  [ST_I16] = { "I16", 2 }, [ST_I8] = { "I8", 1 }, [ST_U8] = { "U8", 1 },
  [ST_BOOL] = { "BOOL", 1 },
};

#define N_DTYPES ((int) (sizeof dtypes / sizeof dtypes[0]))


const char *
st_dtype_name (StDtype dtype)
{
  HN_ASSERT ((unsigned) dtype < N_DTYPES);
  return dtypes[dtype].name;
}

size_t
st_dtype_size (StDtype dtype)
{
  HN_ASSERT ((unsigned) dtype < N_DTYPES);
  return dtypes[dtype].size;
}

/* numel × element size. False for a bad rank, a negative dimension, or a product past
 * INT64_MAX, so that st_numel of anything accepted here fits its return type. */
static bool
checked_nbytes (const StTensor *t, uint64_t *nbytes)
{
  uint64_t n = st_dtype_size (t->dtype);
  if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
    return false;
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] < 0 || __builtin_mul_overflow (n, (uint64_t) t->shape[i], &n))
      return false;
  *nbytes = n;
  return n <= INT64_MAX;
}

int64_t
st_numel (const StTensor *t)
{
  uint64_t nbytes;
  HN_ASSERT (checked_nbytes (t, &nbytes));
  return (int64_t) (nbytes / st_dtype_size (t->dtype));
}

/* ---- reading ---- */

/* cJSON keeps every number as a double, which holds integers exactly only below 2^53: take
 * nothing fractional, negative or larger, so that what we check is what the file says. */
static bool
json_uint (const cJSON *item, uint64_t *out)
{
  if (!cJSON_IsNumber (item))
    return false;
  double v = item->valuedouble;
  if (!(v >= 0 && v < 9007199254740992.0) || v != (double) (uint64_t) v)
    return false;
  *out = (uint64_t) v;
  return true;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (((const StTensor *) a)->name, ((const StTensor *) b)->name);
}

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (((const StMeta *) a)->key, ((const StMeta *) b)->key);
}

/* By start, then by size, so that an empty tensor sorts before one starting at the same byte. */
static int
compare_offsets (const void *a, const void *b)
{
  const StTensor *x = a, *y = b;
  const uint8_t *px = x->data, *py = y->data;
  if (px != py)
    return px < py ? -1 : 1;
  return (x->nbytes > y->nbytes) - (x->nbytes < y->nbytes);
}

static bool
parse_meta (HnSafetensors *st, const cJSON *item, HnError *err)
{
  if (st->meta != NULL)
    return hn_error_set (err, "duplicate \"__metadata__\"");
  if (!cJSON_IsObject (item))
    return hn_error_set (err, "\"__metadata__\" is not an object");
  st->meta = calloc (cJSON_GetArraySize (item) + 1, sizeof *st->meta);
  if (st->meta == NULL)
    return hn_error_set (err, "out of memory");
  const cJSON *v;
  cJSON_ArrayForEach (v, item)
    {
      if (!cJSON_IsString (v))
        return hn_error_set (err, "metadata \"%s\" is not a string", v->string);
      st->meta[st->n_meta++] = (StMeta) { v->string, v->valuestring };
    }
  /* cJSON keeps repeated keys; sorting brings them side by side (and serves bsearch later). */
  qsort (st->meta, st->n_meta, sizeof *st->meta, compare_keys);
  for (int i = 1; i < st->n_meta; i++)
    if (strcmp (st->meta[i - 1].key, st->meta[i].key) == 0)
      return hn_error_set (err, "duplicate metadata key \"%s\"", st->meta[i].key);
  return true;
}

static bool
parse_tensor (StTensor *t, const cJSON *item, const uint8_t *data, size_t data_len, HnError *err)
{
  const char *name = item->string;
  if (!cJSON_IsObject (item))
    return hn_error_set (err, "tensor \"%s\" is not an object", name);
  const cJSON *dtype = cJSON_GetObjectItemCaseSensitive (item, "dtype");
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive (item, "shape");
  const cJSON *offsets = cJSON_GetObjectItemCaseSensitive (item, "data_offsets");

  if (!cJSON_IsString (dtype))
    return hn_error_set (err, "tensor \"%s\": \"dtype\" is missing or not a string", name);
  int code = 0;
  while (code < N_DTYPES && strcmp (dtype->valuestring, dtypes[code].name) != 0)
    code++;
  if (code == N_DTYPES)
    return hn_error_set (err, "tensor \"%s\": unknown dtype \"%s\"", name, dtype->valuestring);
  t->dtype = (StDtype) code;

  if (!cJSON_IsArray (shape))
    return hn_error_set (err, "tensor \"%s\": \"shape\" is missing or not an array", name);
  t->ndim = cJSON_GetArraySize (shape);
  if (t->ndim > ST_MAX_DIMS)
    return hn_error_set (err, "tensor \"%s\": shape has %d dimensions, more than the %d supported",
                         name, t->ndim, ST_MAX_DIMS);
  const cJSON *dim;
  uint64_t v, begin, end, nbytes;
  int d = 0;
  cJSON_ArrayForEach (dim, shape)
    {
      if (!json_uint (dim, &v))
        return hn_error_set (err, "tensor \"%s\": shape[%d] is not a non-negative integer "
                             "below 2^53", name, d);
      t->shape[d++] = (int64_t) v;
    }
  if (!checked_nbytes (t, &nbytes))
    return hn_error_set (err, "tensor \"%s\": shape is too large (the byte count overflows)", name);

  if (!cJSON_IsArray (offsets) || cJSON_GetArraySize (offsets) != 2
      || !json_uint (offsets->child, &begin) || !json_uint (offsets->child->next, &end))
    return hn_error_set (err, "tensor \"%s\": \"data_offsets\" is not a pair of non-negative "
                         "integers below 2^53", name);
  if (end < begin)
    return hn_error_set (err, "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] end before "
                         "they begin", name, begin, end);
  if (end > data_len)
    return hn_error_set (err, "tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] run past the "
                         "end of the data (%zu bytes)", name, begin, end, data_len);
  if (end - begin != nbytes)
    return hn_error_set (err, "tensor \"%s\": data_offsets span %" PRIu64 " bytes but its %s "
                         "shape needs %" PRIu64, name, end - begin, dtypes[t->dtype].name, nbytes);
  t->name = name;
  t->data = data + begin;
  t->nbytes = end - begin;
  return true;
}

static bool
parse (HnSafetensors *st, size_t len, HnError *err)
{
  if (len == 0)
    return hn_error_set (err, "the file is empty");
  if (len < 8)
    return hn_error_set (err, "the file is %zu bytes, too short for the 8-byte header length", len);
  /* Bytewise, so that neither the host's byte order nor alignment matters. */
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--)
    n = n << 8 | st->buf[i];
  if (n > len - 8)
    return hn_error_set (err, "header length %" PRIu64 " runs past the end of the file (%zu bytes)",
                         n, len);
  if (n > ST_MAX_HEADER)
    return hn_error_set (err, "header length %" PRIu64 " is over the 100 MB limit", n);

  /* The header is not NUL-terminated: cJSON gets its length and must stop there. */
  const char *json = (const char *) st->buf + 8, *end = NULL;
  st->header = cJSON_ParseWithLengthOpts (json, n, &end, false);
  if (st->header == NULL)
    return hn_error_set (err, "header is not valid JSON (error near byte %td of %" PRIu64 ")",
                         end != NULL ? end - json : 0, n);
  /* Writers pad with spaces; anything else after the JSON value means corruption. */
  for (; end < json + n; end++)
    if (memchr (" \t\r\n", *end, 4) == NULL)
      return hn_error_set (err, "header has stray bytes after the JSON (at byte %td)", end - json);
  if (!cJSON_IsObject (st->header))
    return hn_error_set (err, "header is not a JSON object");

  const uint8_t *data = st->buf + 8 + n;
  size_t data_len = len - 8 - n;
  st->tensors = calloc (cJSON_GetArraySize (st->header) + 1, sizeof *st->tensors);
  if (st->tensors == NULL)
    return hn_error_set (err, "out of memory");
  const cJSON *item;
  cJSON_ArrayForEach (item, st->header)
    {
      if (strcmp (item->string, "__metadata__") == 0)
        {
          if (!parse_meta (st, item, err))
            return false;
        }
      else if (parse_tensor (&st->tensors[st->n_tensors], item, data, data_len, err))
        st->n_tensors++;
      else
        return false;
    }

  /* Sorted by start, two tensors overlap exactly when one starts before its predecessor ends. */
  qsort (st->tensors, st->n_tensors, sizeof *st->tensors, compare_offsets);
  for (int i = 1; i < st->n_tensors; i++)
    {
      const StTensor *a = &st->tensors[i - 1], *b = &st->tensors[i];
      if ((const uint8_t *) a->data + a->nbytes > (const uint8_t *) b->data)
        return hn_error_set (err, "tensors \"%s\" and \"%s\" overlap in the data region",
                             a->name, b->name);
    }
  /* Then by name: cJSON keeps repeated keys, and this puts them side by side. */
  qsort (st->tensors, st->n_tensors, sizeof *st->tensors, compare_names);
  for (int i = 1; i < st->n_tensors; i++)
    if (strcmp (st->tensors[i - 1].name, st->tensors[i].name) == 0)
      return hn_error_set (err, "duplicate tensor name \"%s\"", st->tensors[i].name);
  return true;
}

HnSafetensors *
safetensors_parse_owned (uint8_t *buf, size_t len, HnError *err)
{
  HN_ASSERT (buf != NULL || len == 0);
  HnSafetensors *st = calloc (1, sizeof *st);
  if (st == NULL)
    {
      free (buf);
      hn_error_set (err, "out of memory");
      return NULL;
    }
  st->buf = buf;
  if (!parse (st, len, err))
    {
      safetensors_free (st);
      return NULL;
    }
  return st;
}

HnSafetensors *
safetensors_read (const char *path, HnError *err)
{
  HN_ASSERT (path != NULL);
  HnBytes buf = { 0 };
  if (!file_read (AT_FDCWD, path, ST_MAX_FILE, "a safetensors file", &buf, err))
    {
      bytes_clear (&buf);
      return hn_error_prefix (err, "%s", path), NULL;
    }
  HnSafetensors *st = safetensors_parse_owned (buf.data, buf.len, err);
  if (st == NULL)
    hn_error_prefix (err, "%s", path);
  return st;
}

void
safetensors_free (HnSafetensors *st)
{
  if (st == NULL)
    return;
  cJSON_Delete (st->header);
  free (st->tensors);
  free (st->meta);
  free (st->buf);
  free (st);
}

int
safetensors_count (const HnSafetensors *st)
{
  HN_ASSERT (st != NULL);
  return st->n_tensors;
}

const StTensor *
safetensors_at (const HnSafetensors *st, int i)
{
  HN_ASSERT (st != NULL && i >= 0 && i < st->n_tensors);
  return &st->tensors[i];
}

const StTensor *
safetensors_find (const HnSafetensors *st, const char *name)
{
  HN_ASSERT (st != NULL && name != NULL);
  StTensor key = { .name = name };
  return bsearch (&key, st->tensors, st->n_tensors, sizeof key, compare_names);
}

const char *
safetensors_meta (const HnSafetensors *st, const char *key)
{
  HN_ASSERT (st != NULL && key != NULL);
  if (st->meta == NULL)
    return NULL;
  StMeta probe = { .key = key };
  const StMeta *m = bsearch (&probe, st->meta, st->n_meta, sizeof probe, compare_keys);
  return m != NULL ? m->value : NULL;
}

int
safetensors_meta_count (const HnSafetensors *st)
{
  HN_ASSERT (st != NULL);
  return st->n_meta;
}

const StMeta *
safetensors_meta_at (const HnSafetensors *st, int i)
{
  HN_ASSERT (st != NULL && i >= 0 && i < st->n_meta);
  return &st->meta[i];
}

/* ---- writing ---- */

/* The reference's layout: tensors in order with contiguous offsets, then "__metadata__". NULL
 * when cJSON runs out of memory (an Add given a NULL parent or item fails without leaking). */
static char *
build_header (const StTensor *tensors, int n_tensors, const StMeta *meta, int n_meta)
{
  cJSON *root = cJSON_CreateObject ();
  bool ok = root != NULL;
  uint64_t offset = 0;
  for (int i = 0; ok && i < n_tensors; i++)
    {
      const StTensor *t = &tensors[i];
      cJSON *entry = cJSON_AddObjectToObject (root, t->name);
      cJSON *dtype = cJSON_AddStringToObject (entry, "dtype", st_dtype_name (t->dtype));
      cJSON *shape = cJSON_AddArrayToObject (entry, "shape");
      cJSON *offsets = cJSON_AddArrayToObject (entry, "data_offsets");
      ok = dtype != NULL && shape != NULL && offsets != NULL;
      for (int d = 0; ok && d < t->ndim; d++)
        ok = cJSON_AddItemToArray (shape, cJSON_CreateNumber ((double) t->shape[d]));
      ok = ok && cJSON_AddItemToArray (offsets, cJSON_CreateNumber ((double) offset))
           && cJSON_AddItemToArray (offsets, cJSON_CreateNumber ((double) (offset + t->nbytes)));
      offset += t->nbytes;
    }
  if (ok && n_meta > 0)
    {
      cJSON *m = cJSON_AddObjectToObject (root, "__metadata__");
      ok = m != NULL;
      for (int i = 0; ok && i < n_meta; i++)
        ok = cJSON_AddStringToObject (m, meta[i].key, meta[i].value) != NULL;
    }
  char *json = ok ? cJSON_PrintUnformatted (root) : NULL;
  cJSON_Delete (root);
  return json;
}

bool
safetensors_write (const char *path,
                   const StTensor *tensors,
                   int n_tensors,
                   const StMeta *meta,
                   int n_meta,
                   HnError *err)
{
  HN_ASSERT (path != NULL && n_tensors >= 0 && n_meta >= 0);
  HN_ASSERT ((tensors != NULL || n_tensors == 0) && (meta != NULL || n_meta == 0));
  /* A file we would refuse to read back is a bug in the caller, not a runtime failure. */
  for (int i = 0; i < n_tensors; i++)
    {
      const StTensor *t = &tensors[i];
      uint64_t nbytes;
      HN_ASSERT (t->name != NULL && strcmp (t->name, "__metadata__") != 0);
      HN_ASSERT (checked_nbytes (t, &nbytes) && nbytes == t->nbytes);
      HN_ASSERT (t->data != NULL || t->nbytes == 0);
      for (int j = 0; j < i; j++)
        HN_ASSERT (strcmp (t->name, tensors[j].name) != 0);
    }
  for (int i = 0; i < n_meta; i++)
    HN_ASSERT (meta[i].key != NULL && meta[i].value != NULL);

  char *json = build_header (tensors, n_tensors, meta, n_meta);
  if (json == NULL)
    return hn_error_set (err, "cannot write %s: out of memory", path);
  /* Pad with spaces so that the data region starts 8-aligned, as the reference does. */
  size_t json_len = strlen (json), padded = (json_len + 7) & ~(size_t) 7;
  uint8_t len8[8];
  for (int i = 0; i < 8; i++)
    len8[i] = (uint8_t) ((uint64_t) padded >> (8 * i));

  HnChunk *chunks = malloc ((size_t) (n_tensors + 3) * sizeof *chunks);
  if (chunks == NULL)
    {
      free (json);
      return hn_error_set (err, "cannot write %s: out of memory", path);
    }
  chunks[0] = (HnChunk) { len8, 8 };
  chunks[1] = (HnChunk) { json, json_len };
  chunks[2] = (HnChunk) { "       ", padded - json_len };
  for (int i = 0; i < n_tensors; i++)
    chunks[3 + i] = (HnChunk) { tensors[i].data, tensors[i].nbytes };
  bool ok = file_replace (path, chunks, n_tensors + 3, true, NULL, err);
  free (chunks);
  free (json);
  return ok;
}
