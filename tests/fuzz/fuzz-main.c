/* fuzz-main.c — a target under libFuzzer (the fuzz build only). */
#include "fuzz.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_target (data, size);
}
