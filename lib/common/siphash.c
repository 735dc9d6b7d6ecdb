/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "siphash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b)
{
  return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const unsigned char *p)
{
  uint64_t v;
  memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

sr_siphash_key sr_siphash_key_from_bytes(const uint8_t bytes[16])
{
  sr_siphash_key k = { load_le64(bytes), load_le64(bytes + 8) };
  return k;
}

#define SIPROUND                                                                        \
  do {                                                                                  \
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                           \
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                              \
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                              \
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                           \
  } while (0)

/* Inlined into both variants so the round counts are constants. */
static inline __attribute__((always_inline)) uint64_t siphash(sr_siphash_key key, const void *data,
                                                              size_t len, int crounds, int drounds)
{
  const unsigned char *in = data;
  uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ key.k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0;
  uint64_t v3 = 0x7465646279746573ULL ^ key.k1;
  const unsigned char *end = in + (len & ~(size_t)7);

  for (; in != end; in += 8) {
    uint64_t m = load_le64(in);
    v3 ^= m;
    for (int i = 0; i < crounds; i++)
      SIPROUND;
    v0 ^= m;
  }

  uint64_t b = (uint64_t)len << 56;
  switch (len & 7) {
  case 7: b |= (uint64_t)in[6] << 48; /* fall through */
  case 6: b |= (uint64_t)in[5] << 40; /* fall through */
  case 5: b |= (uint64_t)in[4] << 32; /* fall through */
  case 4: b |= (uint64_t)in[3] << 24; /* fall through */
  case 3: b |= (uint64_t)in[2] << 16; /* fall through */
  case 2: b |= (uint64_t)in[1] << 8; /* fall through */
  case 1: b |= (uint64_t)in[0]; break;
  default: break;
  }
  v3 ^= b;
  for (int i = 0; i < crounds; i++)
    SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < drounds; i++)
    SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t sr_siphash13(sr_siphash_key key, const void *data, size_t len)
{
  return siphash(key, data, len, 1, 3);
}

uint64_t sr_siphash24(sr_siphash_key key, const void *data, size_t len)
{
  return siphash(key, data, len, 2, 4);
}
