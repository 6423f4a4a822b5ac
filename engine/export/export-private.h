/* export-private.h — what the export's files share: the project's files, built in. */
#pragma once

#include <stddef.h>

typedef struct
{
  const char *name;          /* "train.py" */
  const unsigned char *data;
  size_t len;
} HnProjectFile;

/* engine/export/project/, embedded by embed.py; ends with { 0 }. */
extern const HnProjectFile project_files[];
