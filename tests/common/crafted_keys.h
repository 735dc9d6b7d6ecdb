/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key sets for hash-flooding tests and the benchmark: keys an attacker would
 * send against a map that picks shards and slots from FNV-1a's low bits, and
 * random keys of the same lengths to compare them with. Deterministic: the
 * same seed gives the same keys. */
#ifndef SIPREC_TESTS_CRAFTED_KEYS_H
#define SIPREC_TESTS_CRAFTED_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* n keys stored back to back: key i is data + off[i], off[i+1] - off[i] bytes. */
typedef struct key_set {
  unsigned char *data;
  size_t *off; /* n + 1 entries */
  size_t n;
} key_set;

/* 32-bit FNV-1a, byte-wise (offset basis 2166136261, prime 16777619). */
uint32_t fnv1a32(const void *data, size_t len);

/* n distinct keys of `len` bytes that differ only in the high bits of their
 * bytes, so every key has the same low `low_bits` bits of 32-bit FNV-1a
 * (low_bits <= 8; at 8 no high bits are free, so the last byte is chosen to
 * hit the target instead). Returns 0, or -1 on allocation failure or when n such keys
 * do not exist at that length. */
int keys_fnv_low_bits(key_set *out, size_t n, size_t len, unsigned low_bits, uint64_t seed);

/* n distinct keys with one and the same 32-bit FNV-1a value (a Joux-style
 * multicollision built from colliding 4-byte blocks, so keys are 4 * ceil(log2 n)
 * bytes long: no two 3-byte blocks collide from the offset basis). Returns 0
 * or -1. */
int keys_fnv_collisions(key_set *out, size_t n, uint64_t seed);

/* n distinct random printable keys of `len` bytes. Returns 0 or -1. */
int keys_random(key_set *out, size_t n, size_t len, uint64_t seed);

void key_set_free(key_set *ks);

static inline const unsigned char *key_at(const key_set *ks, size_t i, size_t *len)
{
  *len = ks->off[i + 1] - ks->off[i];
  return ks->data + ks->off[i];
}

#endif
