/* labels.h — the three tasks' labels and their names, for files, JSON and people.
 *
 * Gender 0 male, 1 female (the gender head's logit is of P(female)); race 0 white, 1 black,
 * 2 asian, 3 indian, 4 other; age in whole years up to LABEL_MAX_AGE, UTKFace's oldest.
 * The names are the CLI's (README.md, Prediction), used as they are in JSON keys and values.
 */
#pragma once

#define N_GENDERS 2
#define N_RACES 5
#define LABEL_MAX_AGE 116

static const char *const gender_names[N_GENDERS] = { "male", "female" };
static const char *const race_names[N_RACES] = { "white", "black", "asian", "indian", "other" };
