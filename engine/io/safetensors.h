/* safetensors.h — read and write the safetensors container, model-agnostic.
 *
 * Layout of a file: u64 little-endian header length N, N bytes of UTF-8 JSON, then the data
 * region. The JSON maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
 * (offsets relative to the start of the data region) and may hold "__metadata__", a map of
 * string to string.
 *
 * The reader treats the file as hostile: it reads the whole file (with a size cap), parses the
 * header with cJSON, and refuses — with a message naming the file and the problem — a header
 * length past the end, malformed or non-object JSON, unknown dtypes, bad shapes, offsets out
 * of range, sizes that do not match dtype × shape, overlapping tensors, and duplicate names.
 * After safetensors_read succeeds every StTensor's bytes are inside the buffer.
 *
 * The writer is atomic: temporary file in the same directory, fsync, rename, fsync of the
 * directory. A failed write leaves the previous file untouched.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define ST_MAX_DIMS 8

typedef enum
{
  ST_F64,
  ST_F32,
  ST_F16,
  ST_BF16,
  ST_I64,
  ST_I32,
  ST_I16,
  ST_I8,
  ST_U8,
  ST_BOOL,
} StDtype;

typedef struct
{
  const char *name;
  StDtype dtype;
  int ndim;                      /* 0 for a scalar */
  int64_t shape[ST_MAX_DIMS];
  const void *data;              /* may be unaligned: copy out with memcpy */
  size_t nbytes;
} StTensor;

typedef struct
{
  const char *key;
  const char *value;
} StMeta;

typedef struct HnSafetensors HnSafetensors;

/* Reads and validates a whole file. Returns NULL and fills err on any problem. */
HnSafetensors *safetensors_read (const char *path, HnError *err);

/* Validates a file already in memory. Takes ownership of buf (malloc'd) in every case. */
HnSafetensors *safetensors_parse_owned (uint8_t *buf, size_t len, HnError *err);

void safetensors_free (HnSafetensors *st);

/* Tensors in name order, whatever their order in the file. */
int safetensors_count (const HnSafetensors *st);
const StTensor *safetensors_at (const HnSafetensors *st, int i);
const StTensor *safetensors_find (const HnSafetensors *st, const char *name);

/* NULL when the key is absent. */
const char *safetensors_meta (const HnSafetensors *st, const char *key);

/* Metadata entries in key order. */
int safetensors_meta_count (const HnSafetensors *st);
const StMeta *safetensors_meta_at (const HnSafetensors *st, int i);

const char *st_dtype_name (StDtype dtype);
size_t st_dtype_size (StDtype dtype);
int64_t st_numel (const StTensor *t);

/* Writes tensors (in the given order) and metadata atomically to path. Each tensor's nbytes
 * must equal st_numel × st_dtype_size (checked). */
bool safetensors_write (const char *path,
                        const StTensor *tensors,
                        int n_tensors,
                        const StMeta *meta,
                        int n_meta,
                        HnError *err);
