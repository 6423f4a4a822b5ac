/* arena.h — one block of floats carved into the buffers of a training step.
 *
 * A model lays out every activation, cached statistic and scratch buffer once for a given
 * batch size and input size, then reuses them step after step: nothing is allocated in the
 * loop. Layout is done in two passes over the same code — first measuring (base == NULL:
 * arena_take only counts), then for real — so the sizes can never disagree.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct
{
  float *base; /* NULL while measuring */
  size_t used; /* floats handed out so far */
  size_t capacity;
} HnArena;

/* n floats, 16-float (64-byte) aligned; NULL while measuring. */
float *arena_take (HnArena *arena, size_t n);

/* Allocates arena->used floats (the measured size) and rewinds. False when out of memory. */
bool arena_commit (HnArena *arena);

void arena_release (HnArena *arena);
