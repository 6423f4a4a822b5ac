/* sha1.h — SHA-1 (FIPS 180-4), for content identity, not for security.
 *
 * The data set uses it twice: byte-identical files are found by their digests, and the
 * train/validation split key is the digest's first 8 hex digits (the reference script's
 * `int(hashlib.sha1(raw).hexdigest()[:8], 16)`). SHA-1 is broken for collision resistance,
 * which matters to neither use: nobody gains by making two face images collide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_BYTES 20

typedef struct
{
  uint32_t h[5];     /* chaining state */
  uint64_t bytes;    /* message length so far */
  uint8_t block[64]; /* a partial block waiting for more input */
  size_t used;       /* bytes in block */
} HnSha1;

void sha1_init (HnSha1 *ctx);
void sha1_update (HnSha1 *ctx, const void *data, size_t len);
void sha1_final (HnSha1 *ctx, uint8_t digest[SHA1_DIGEST_BYTES]);

/* The digest of one buffer. */
void sha1 (const void *data, size_t len, uint8_t digest[SHA1_DIGEST_BYTES]);

/* 40 lower-case hex digits and a NUL, as hashlib's hexdigest(). */
void sha1_hex (const uint8_t digest[SHA1_DIGEST_BYTES], char hex[2 * SHA1_DIGEST_BYTES + 1]);

/* The first 8 hex digits as a number: the digest's first four bytes, big-endian. */
static inline uint32_t
sha1_prefix32 (const uint8_t digest[SHA1_DIGEST_BYTES])
{
  return (uint32_t) digest[0] << 24 | (uint32_t) digest[1] << 16 | (uint32_t) digest[2] << 8
         | digest[3];
}
