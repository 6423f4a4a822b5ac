/* names.c — UTKFace file names, parsed strictly. */
#include "names.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits from *p on: how many, and the pointer past them. */
static int
digit_run (const char **p)
{
  int n = 0;
  while (**p >= '0' && **p <= '9')
    (*p)++, n++;
  return n;
}

/* ASCII case-insensitive, as the reference's re.I on these words: does s start with the
 * lower-case word w? Then skip it. */
static bool
skip_word (const char **s, const char *w)
{
  size_t n = strlen (w);
  for (size_t i = 0; i < n; i++)
    {
      char c = (*s)[i];
      if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) != w[i]) /* stops at the NUL too */
        return false;
    }
  *s += n;
  return true;
}

/* The name is checked in two steps so that one of the right shape with a label out of range
 * says which label (the regex alone would only say "no match"). Digits are ASCII only;
 * Python's \d would also take other scripts' digits, which no UTKFace name has. */
bool
utkface_parse_name (const char *name, HnFaceLabels *labels, char *why, size_t why_len)
{
  const char *p = name, *field[3];
  int digits[3];
  for (int i = 0; i < 3; i++)
    {
      field[i] = p;
      digits[i] = digit_run (&p);
      if (digits[i] == 0 || *p++ != '_')
        goto shape;
    }
  if (digit_run (&p) == 0 || *p++ != '.')
    goto shape;
  if (!skip_word (&p, "jpeg") && !skip_word (&p, "jpg") && !skip_word (&p, "png"))
    goto shape;
  if (*p != '\0' && (!skip_word (&p, ".chip.jpg") || *p != '\0'))
    goto shape;

  int age = digits[0] <= 3 ? atoi (field[0]) : INT_MAX;
  if (age > LABEL_MAX_AGE)
    {
      snprintf (why, why_len, "age %.*s is out of range (0 to %d)", digits[0] > 12 ? 12 : digits[0],
                field[0], LABEL_MAX_AGE);
      return false;
    }
  if (digits[1] != 1 || field[1][0] > '1')
    {
      snprintf (why, why_len, "gender %.*s is out of range (0 male, 1 female)",
                digits[1] > 12 ? 12 : digits[1], field[1]);
      return false;
    }
  if (digits[2] != 1 || field[2][0] > '4')
    {
      snprintf (why, why_len, "race %.*s is out of range (0 to 4)", digits[2] > 12 ? 12 : digits[2],
                field[2]);
      return false;
    }
  *labels = (HnFaceLabels){ .age = (uint8_t) age,
                            .gender = (uint8_t) (field[1][0] - '0'),
                            .race = (uint8_t) (field[2][0] - '0') };
  return true;

shape:
  snprintf (why, why_len,
            "name is not AGE_GENDER_RACE_DATETIME.jpg (nor .jpeg, .png, .jpg.chip.jpg)");
  return false;
}
