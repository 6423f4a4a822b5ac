/* nametable.h — the names a kind of thing goes by in files and options, looked up. */
#pragma once

/* The index of name in names[0…n), or −1. */
int name_index (const char *const *names, int n, const char *name);
