/* clocale.h — numbers in files are written and read the C way ("0.5"), whatever the
 * process's locale: the studio runs in the user's, where printf may write "0,5" and strtod
 * stop at the point. Every writer and parser of a text format brackets its work with these.
 */
#pragma once

#include <locale.h>

/* Switches the calling thread to the C locale; returns what c_locale_leave restores. */
locale_t c_locale_enter (void);
void c_locale_leave (locale_t previous);

/* f in the fewest digits that read back as the same float, in the C locale the caller has
 * entered: a learning rate of 1e-3 is "0.001", not "0.00100000005" (9 digits always do).
 * Non-finite: "nan", "inf", "-inf". */
#define C_FLOAT_MAX 32
void c_format_float (float f, char buf[C_FLOAT_MAX]);
