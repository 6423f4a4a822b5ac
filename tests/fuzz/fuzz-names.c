/* fuzz-names.c — UTKFace file names: utkface_parse_name. */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "names.h"

const char fuzz_target_name[] = "names";

#define WHY_LEN 48 /* shorter than most reasons: they must be cut, not overflow */

int
fuzz_target (const uint8_t *data, size_t size)
{
  /* a file name is a C string: the input up to its first NUL */
  char *name = strndup ((const char *) data, size);
  char *why = malloc (WHY_LEN); /* on the heap, exactly WHY_LEN, so ASan sees an overrun */
  if (name == NULL || why == NULL)
    abort ();
  HnFaceLabels labels;
  memset (why, 'x', WHY_LEN);
  if (utkface_parse_name (name, &labels, why, WHY_LEN))
    FUZZ_CHECK (labels.age <= LABEL_MAX_AGE && labels.gender <= 1 && labels.race <= 4
                && !labels.never_val && labels.split_key == 0);
  else
    FUZZ_CHECK (why[0] != '\0' && memchr (why, '\0', WHY_LEN) != NULL);
  fuzz_note (why[0] == 'x' ? "" : why);
  free (why);
  free (name);
  return 0;
}
