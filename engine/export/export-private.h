/* export-private.h — what the export's files share: the project's files, built in, and the
 * file operations of an export and an import (files.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define MODEL_MAX (2ull << 30) /* the largest model read: a ResNet-34 is 85 MB */

typedef struct
{
  const char *name;          /* "train.py" */
  const unsigned char *data;
  size_t len;
} HnProjectFile;

/* engine/export/project/, embedded by embed.py; ends with { 0 }. */
extern const HnProjectFile project_files[];

/* FOLDER/NAME exists. */
bool folder_has (const char *folder, const char *name);

/* Replaces DIR/NAME with len bytes of data, atomically and durably (fileio.h). */
bool write_into (const char *dir, const char *name, const void *data, size_t len, HnError *err);

/* The file at `from` (at most max bytes of `what`, "a model") written as DIR/NAME. */
bool copy_into (const char *from, const char *dir, const char *name, uint64_t max,
                const char *what, HnError *err);

/* Removes DIR/NAME for each of the n names; what is not there does not matter. */
void remove_from (const char *dir, const char *const *names, int n);
