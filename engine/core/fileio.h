/* fileio.h — the engine's one way to read a whole file, replace a file and make a folder.
 *
 * Every file the engine reads may be hostile: only regular files are read (a FIFO, a device
 * or a socket could block or never end), with a size cap checked before anything is
 * allocated. Every file it writes — a model, the data set cache, a synthetic face, a run's
 * records — replaces the old one atomically: it is written under a temporary name beside
 * the target and renamed over it, so a reader, or the next start after a crash or a full
 * disk, sees the old file or the new one, never a mix, and no temporary is left behind.
 * The new file gets the permissions open(2) would give it (0666 less the umask).
 */
#pragma once

#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* A growable byte buffer, reused from one read to the next. */
typedef struct
{
  uint8_t *data;
  size_t len, cap;
} HnBytes;

void bytes_clear (HnBytes *b); /* frees data; the buffer is empty and reusable after */

/* Reads the whole of regular file `name` (relative to dir_fd, or AT_FDCWD) into buf, which
 * then holds len bytes and one spare byte after them. `what` names the expected content for
 * messages ("an image file"); `max` caps the size. A file that shrinks while it is read
 * yields what is there, one that grows the size it had when opened. On failure err says why,
 * without the file's name: "cannot open (…)", "is a folder, not an image file", "not a
 * regular file", "N bytes is over the 64 MiB limit for an image file". */
bool file_read (int dir_fd, const char *name, uint64_t max, const char *what, HnBytes *buf,
                HnError *err);

/* What file_read checks of a file's type before reading it: true for a regular file;
 * otherwise false, and err says what the file is instead, as a person would call it: "is a
 * folder, not WHAT", "a named pipe (FIFO), not a regular file", "a socket, …", "a device, …".
 * For whoever decides from a stat (st_mode) which files to read at all. */
bool file_check_regular (unsigned mode, const char *what, HnError *err);

/* One piece of a file to write. */
typedef struct
{
  const void *data;
  size_t len;
} HnChunk;

/* Replaces path with the chunks, in order, atomically (above). `durable`: the data reaches
 * the disk before the rename and the rename before this returns (fsync of the file and of
 * its folder), for what must survive a power cut; a cache that checks its own hashes can
 * skip that. `cancel` (may be NULL), when set by the time the file is written, keeps the old
 * file and fails with "cancelled". Messages read "cannot write PATH: reason". */
bool file_replace (const char *path, const HnChunk *chunks, int n_chunks, bool durable,
                   const atomic_bool *cancel, HnError *err);

/* Renames from over to, the last step of a replace made in two (a file written whole under
 * another name first); `durable` as above. Messages read "cannot write TO: reason". */
bool file_rename (const char *from, const char *to, bool durable, HnError *err);

/* write(2) until every byte is written; false with errno set otherwise. */
bool file_write_all (int fd, const void *buf, size_t len);

/* mkdir -p with `mode` for the folders it creates. True when dir is a folder at the end;
 * otherwise err says which part could not be made and why. */
bool file_make_dirs (const char *dir, unsigned mode, HnError *err);

/* Tests only: each file_replace fails with ENOSPC after writing max_bytes bytes, as on a
 * full disk; −1 turns this off (the default). Process-wide, not thread-safe. */
void file_set_write_limit_for_testing (long long max_bytes);
