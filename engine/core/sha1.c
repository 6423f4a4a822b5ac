/* sha1.c — SHA-1 as FIPS 180-4 §6.1 states it, one 64-byte block at a time.
 *
 * A plain rolling implementation: the 80-word schedule is kept as a 16-word ring, which is
 * all the recurrence W[t] = rotl1(W[t−3] ^ W[t−8] ^ W[t−14] ^ W[t−16]) ever looks back on.
 * Hashing a face image costs a small fraction of decoding it, so nothing faster is needed.
 */
#include "sha1.h"

#include <string.h>

static inline uint32_t
rotl (uint32_t x, int n)
{
  return x << n | x >> (32 - n);
}

/* One block into the chaining state (FIPS 180-4 §6.1.2 steps 1–4). */
static void
sha1_block (uint32_t h[5], const uint8_t *p)
{
  uint32_t w[16];
  for (int t = 0; t < 16; t++)
    w[t] = (uint32_t) p[4 * t] << 24 | (uint32_t) p[4 * t + 1] << 16 | (uint32_t) p[4 * t + 2] << 8
           | p[4 * t + 3];

  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
  for (int t = 0; t < 80; t++)
    {
      if (t >= 16)
        w[t & 15] = rotl (w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
      /* f and K change every 20 rounds: Ch, Parity, Maj, Parity. */
      uint32_t f, k;
      if (t < 20)
        f = (b & c) | (~b & d), k = 0x5a827999;
      else if (t < 40)
        f = b ^ c ^ d, k = 0x6ed9eba1;
      else if (t < 60)
        f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
      else
        f = b ^ c ^ d, k = 0xca62c1d6;
      uint32_t tmp = rotl (a, 5) + f + e + k + w[t & 15];
      e = d;
      d = c;
      c = rotl (b, 30);
      b = a;
      a = tmp;
    }
  h[0] += a;
  h[1] += b;
  h[2] += c;
  h[3] += d;
  h[4] += e;
}

void
sha1_init (HnSha1 *ctx)
{
  *ctx = (HnSha1){ .h = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 } };
}

void
sha1_update (HnSha1 *ctx, const void *data, size_t len)
{
  const uint8_t *p = data;
  ctx->bytes += len;
  if (ctx->used > 0)
    {
      size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
      memcpy (ctx->block + ctx->used, p, take);
      ctx->used += take;
      p += take;
      len -= take;
      if (ctx->used < 64)
        return;
      sha1_block (ctx->h, ctx->block);
      ctx->used = 0;
    }
  for (; len >= 64; p += 64, len -= 64)
    sha1_block (ctx->h, p);
  memcpy (ctx->block, p, len);
  ctx->used = len;
}

void
sha1_final (HnSha1 *ctx, uint8_t digest[SHA1_DIGEST_BYTES])
{
  /* Padding (§5.1.1): a 1 bit, zeros up to 56 mod 64 bytes, the length in bits as a
   * big-endian 64-bit number. */
  uint64_t bits = ctx->bytes * 8;
  uint8_t pad[72] = { 0x80 };
  size_t zeros = (ctx->used < 56 ? 56 : 120) - ctx->used;
  for (int i = 0; i < 8; i++)
    pad[zeros + i] = (uint8_t) (bits >> (56 - 8 * i));
  sha1_update (ctx, pad, zeros + 8);

  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 4; j++)
      digest[4 * i + j] = (uint8_t) (ctx->h[i] >> (24 - 8 * j));
  *ctx = (HnSha1){ 0 };
}

void
sha1 (const void *data, size_t len, uint8_t digest[SHA1_DIGEST_BYTES])
{
  HnSha1 ctx;
  sha1_init (&ctx);
  sha1_update (&ctx, data, len);
  sha1_final (&ctx, digest);
}

void
sha1_hex (const uint8_t digest[SHA1_DIGEST_BYTES], char hex[2 * SHA1_DIGEST_BYTES + 1])
{
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < SHA1_DIGEST_BYTES; i++)
    {
      hex[2 * i] = digits[digest[i] >> 4];
      hex[2 * i + 1] = digits[digest[i] & 15];
    }
  hex[2 * SHA1_DIGEST_BYTES] = '\0';
}
