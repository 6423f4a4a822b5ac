/* clocale.h — numbers in files are written and read the C way ("0.5"), whatever the
 * process's locale: the studio runs in the user's, where printf may write "0,5" and strtod
 * stop at the point. Every writer and parser of a text format brackets its work with these.
 */
#pragma once

#include <locale.h>

/* Switches the calling thread to the C locale; returns what c_locale_leave restores. */
locale_t c_locale_enter (void);
void c_locale_leave (locale_t previous);
