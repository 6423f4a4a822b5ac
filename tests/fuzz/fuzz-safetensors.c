/* fuzz-safetensors.c — a checkpoint's container and metadata: safetensors_parse_owned, then
 * what opening a checkpoint reads from it (checkpoint_info, run_meta_read) and what a run
 * writes back from that (run_meta_format).
 *
 * checkpoint_apply is left out: it needs a ResNet-18 (11 M parameters) built and filled on
 * every input, some 50 ms under ASan, and it only compares names, dtypes and shapes with the
 * parameter table — the container's hostile part is the parse fuzzed here. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "runmeta.h"

const char fuzz_target_name[] = "safetensors";

/* What safetensors.h promises of a file it accepted. */
static void
check_tensors (const HnSafetensors *st, const uint8_t *buf, size_t len)
{
  for (int i = 0; i < safetensors_count (st); i++)
    {
      const StTensor *t = safetensors_at (st, i);
      const uint8_t *data = t->data;
      FUZZ_CHECK (data >= buf + 8 && data + t->nbytes <= buf + len);
      FUZZ_CHECK (t->ndim >= 0 && t->ndim <= ST_MAX_DIMS);
      FUZZ_CHECK ((uint64_t) st_numel (t) * st_dtype_size (t->dtype) == t->nbytes);
      FUZZ_CHECK (i == 0 || strcmp (safetensors_at (st, i - 1)->name, t->name) < 0);
      FUZZ_CHECK (safetensors_find (st, t->name) == t);
    }
  for (int i = 0; i < safetensors_meta_count (st); i++)
    {
      const StMeta *m = safetensors_meta_at (st, i);
      FUZZ_CHECK (safetensors_meta (st, m->key) == m->value);
    }
}

int
fuzz_target (const uint8_t *data, size_t size)
{
  uint8_t *buf = malloc (size > 0 ? size : 1);
  if (buf == NULL)
    return 0;
  memcpy (buf, data, size);
  HnError err = { { 0 } };
  HnSafetensors *st = safetensors_parse_owned (buf, size, &err);
  if (st == NULL)
    {
      FUZZ_CHECK (err.message[0] != '\0');
      fuzz_note (err.message);
      return 0;
    }
  check_tensors (st, buf, size);

  HnCheckpointInfo info;
  if (checkpoint_info (st, &info, &err))
    FUZZ_CHECK (info.input_size >= MODEL_MIN_SIZE && info.input_size <= MODEL_MAX_SIZE);
  HnRunMeta meta;
  err.message[0] = '\0';
  if (run_meta_read (st, &meta, &err))
    {
      /* what a fork or a resumed run writes back from what it read */
      HnMetaList list;
      run_meta_format (&meta, &list);
      FUZZ_CHECK (list.n <= RUN_META_MAX);
      for (int i = 0; i < list.n; i++)
        FUZZ_CHECK (list.items[i].key != NULL && list.items[i].value != NULL);
    }
  fuzz_note (err.message);
  safetensors_free (st);
  return 0;
}
