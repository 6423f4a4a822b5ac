#include "arena.h"

#include <stdlib.h>

#include "error.h"

float *
arena_take (HnArena *arena, size_t n)
{
  size_t start = (arena->used + 15) & ~(size_t) 15;
  arena->used = start + n;
  if (arena->base == NULL)
    return NULL;
  HN_ASSERT (arena->used <= arena->capacity);
  return arena->base + start;
}

bool
arena_commit (HnArena *arena)
{
  size_t n = (arena->used + 15) & ~(size_t) 15;
  free (arena->base);
  arena->base = aligned_alloc (64, (n > 0 ? n : 16) * sizeof (float));
  arena->capacity = arena->base ? n : 0;
  arena->used = 0;
  return arena->base != NULL;
}

void
arena_release (HnArena *arena)
{
  free (arena->base);
  *arena = (HnArena) { 0 };
}
