/* utf8.h — text for people (messages, JSON) from bytes that need not be UTF-8.
 *
 * File names are bytes: a folder copied from an old Windows disk has Latin-1 names, and
 * nothing stops a name from holding any byte but '/' and NUL. Messages quote them, and a
 * GTK label or a JSON parser refuses what is not UTF-8, so whatever quotes a name passes
 * through here.
 */
#pragma once

#include <stddef.h>

/* Copies src into dst (cap bytes, NUL included, cap ≥ 1) with each byte that is not part of
 * valid UTF-8 — a stray byte, a sequence cut short, an overlong form, a surrogate, past
 * U+10FFFF — replaced by U+FFFD, as g_utf8_make_valid does. A character that does not fit
 * whole is left out, so the copy stays valid when cut short. Returns its length; dst and
 * src may not overlap. Needs at most 3 × strlen (src) + 1 bytes to copy everything. */
size_t utf8_copy_valid (char *dst, size_t cap, const char *src);
