/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key sets for the hash-flooding tests and the benchmark (see crafted_keys.h).
 *
 * Why the attacks work against an FNV-1a-indexed table:
 * - FNV-1a is h = (h ^ byte) * prime mod 2^32. Both the xor and the
 *   multiplication only carry upwards, so the low k bits of the state after a
 *   byte depend only on the low k bits of the previous state and of the byte.
 *   Keys whose bytes agree in their low k bits therefore agree in the low k
 *   bits of their hash, whatever their high bits are.
 * - For low_bits == 8 there are no free high bits: the last byte is then
 *   chosen so that the low 8 bits of the final state hit the target (the prime
 *   is odd, hence invertible mod 256), which is what an attacker would do.
 * - 32-bit multicollisions (Joux): two different 4-byte blocks that map one
 *   state to the same state are found by a birthday search; chaining s such
 *   pairs gives 2^s keys with one and the same hash. The blocks are 4 bytes,
 *   not the 3 that crafted_keys.h mentions: an exhaustive search shows that
 *   no two 3-byte blocks collide from the FNV offset basis (the three
 *   multiplications by the prime are too close to linear for 24 input bits
 *   to fold onto each other), so keys are 4 * ceil(log2 n) bytes long. */
#include "crafted_keys.h"

#include <stdlib.h>
#include <string.h>

#define FNV_BASIS 2166136261u
#define FNV_PRIME 16777619u

uint32_t fnv1a32(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint32_t h = FNV_BASIS;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= FNV_PRIME;
  }
  return h;
}

static inline uint32_t fnv_step(uint32_t h, unsigned char b)
{
  return (h ^ b) * FNV_PRIME;
}

/* xorshift64*: small, deterministic, good enough for test data. */
typedef struct rng {
  uint64_t s;
} rng;

static void rng_seed(rng *r, uint64_t seed)
{
  /* splitmix64 of the seed, so that seed 0 works and close seeds differ. */
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  r->s = z ? z : 0x2545f4914f6cdd1dULL;
}

static uint64_t rng_next(rng *r)
{
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545f4914f6cdd1dULL;
}

/* Uniform-ish in [0, n), n > 0. */
static uint32_t rng_below(rng *r, uint32_t n)
{
  return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static int printable(unsigned c)
{
  return c >= 0x21 && c <= 0x7e;
}

/* ---------------------------------------------------------------------- */
/* Building a key set with distinct keys                                    */

/* A set of 64-bit fingerprints of the keys accepted so far. Two keys with
 * different fingerprints are different keys; a (harmless) fingerprint
 * collision only makes us reject a distinct key and draw another. */
typedef struct fp_set {
  uint64_t *slots; /* 0 = empty; fingerprints are forced non-zero */
  size_t mask;
} fp_set;

static int fp_init(fp_set *s, size_t n)
{
  size_t cap = 16;
  while (cap < n * 2 + 16)
    cap *= 2;
  s->slots = calloc(cap, sizeof *s->slots);
  s->mask = cap - 1;
  return s->slots ? 0 : -1;
}

static uint64_t fingerprint(const unsigned char *p, size_t len)
{
  /* FNV-1a 64 then a finalizer: independent of the 32-bit hash attacked. */
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  h ^= (uint64_t)len * 0x9e3779b97f4a7c15ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h ? h : 1;
}

/* Returns 1 when newly added, 0 when already present. */
static int fp_add(fp_set *s, uint64_t fp)
{
  size_t pos = (size_t)fp & s->mask;
  for (;;) {
    if (s->slots[pos] == 0) {
      s->slots[pos] = fp;
      return 1;
    }
    if (s->slots[pos] == fp)
      return 0;
    pos = (pos + 1) & s->mask;
  }
}

static int ks_alloc(key_set *out, size_t n, size_t total_bytes)
{
  out->n = n;
  out->data = malloc(total_bytes ? total_bytes : 1);
  out->off = malloc((n + 1) * sizeof *out->off);
  if (!out->data || !out->off) {
    key_set_free(out);
    return -1;
  }
  out->off[0] = 0;
  return 0;
}

void key_set_free(key_set *ks)
{
  if (!ks)
    return;
  free(ks->data);
  free(ks->off);
  ks->data = NULL;
  ks->off = NULL;
  ks->n = 0;
}

/* Fills `key` (len bytes) with a candidate; returns 0, or -1 to give up. */
typedef int (*gen_fn)(unsigned char *key, size_t len, rng *r, void *ctx);

/* n distinct keys of `len` bytes from `gen`; -1 if too many duplicates are
 * drawn (fewer than n distinct keys exist, in practice). */
static int build_fixed_len(key_set *out, size_t n, size_t len, uint64_t seed, gen_fn gen,
                           void *ctx)
{
  memset(out, 0, sizeof *out);
  if (n && len && n > SIZE_MAX / len)
    return -1;
  if (ks_alloc(out, n, n * len) < 0)
    return -1;
  fp_set seen;
  if (fp_init(&seen, n) < 0) {
    key_set_free(out);
    return -1;
  }
  rng r;
  rng_seed(&r, seed);
  size_t budget = n * 64 + 1024; /* draws allowed before giving up */
  size_t i = 0;
  while (i < n) {
    unsigned char *k = out->data + i * len;
    if (budget-- == 0 || gen(k, len, &r, ctx) < 0)
      goto fail;
    if (fp_add(&seen, fingerprint(k, len))) {
      out->off[i + 1] = (i + 1) * len;
      i++;
    }
  }
  free(seen.slots);
  return 0;
fail:
  free(seen.slots);
  key_set_free(out);
  return -1;
}

/* ---------------------------------------------------------------------- */
/* Equal low bits of FNV-1a                                                 */

typedef struct low_bits_ctx {
  unsigned low_bits;
  unsigned char *base;    /* len bytes: the fixed low bits of each position */
  unsigned char *choices; /* len * 256: the allowed high parts per position */
  unsigned *n_choices;    /* per position */
  uint32_t target;        /* low bits of the hash every key must have */
} low_bits_ctx;

/* Allowed bytes at a position whose low bits are `low`: every byte with
 * those low bits, restricted to printable ones when there are at least two
 * (printable-ish keys where possible, correctness first). */
static unsigned byte_choices(unsigned low, unsigned low_bits, unsigned char *out)
{
  unsigned step = 1u << low_bits, n = 0, np = 0;
  for (unsigned b = low; b < 256; b += step)
    if (printable(b))
      np++;
  for (unsigned b = low; b < 256; b += step)
    if (np < 2 || printable(b))
      out[n++] = (unsigned char)b;
  return n;
}

static int gen_low_bits(unsigned char *key, size_t len, rng *r, void *vctx)
{
  const low_bits_ctx *c = vctx;
  for (size_t i = 0; i < len; i++)
    key[i] = c->choices[i * 256 + rng_below(r, c->n_choices[i])];
  return 0;
}

/* Modular inverse of an odd number mod 2^32 (Newton). */
static uint32_t inv_odd(uint32_t a)
{
  uint32_t x = a; /* correct to 3 bits */
  for (int i = 0; i < 5; i++)
    x *= 2 - a * x;
  return x;
}

/* When the free high bits do not give enough keys (low_bits == 8 leaves
 * none): random printable bytes, then the last byte forced so that the low
 * bits of the final state equal the target. */
static int gen_fix_last(unsigned char *key, size_t len, rng *r, void *vctx)
{
  const low_bits_ctx *c = vctx;
  uint32_t m = c->low_bits >= 32 ? UINT32_MAX : (1u << c->low_bits) - 1;
  uint32_t need = (c->target * inv_odd(FNV_PRIME)) & m; /* low bits of h ^ last */
  for (int attempt = 0; attempt < 64; attempt++) {
    uint32_t h = FNV_BASIS;
    for (size_t i = 0; i + 1 < len; i++) {
      key[i] = (unsigned char)(0x21 + rng_below(r, 94));
      h = fnv_step(h, key[i]);
    }
    unsigned low = (need ^ h) & m;
    unsigned char opts[256];
    unsigned n = byte_choices(low, c->low_bits, opts);
    int ok_printable = printable(opts[0]);
    if (ok_printable || attempt == 63) {
      key[len - 1] = opts[rng_below(r, n)];
      return 0;
    }
  }
  return -1;
}

int keys_fnv_low_bits(key_set *out, size_t n, size_t len, unsigned low_bits, uint64_t seed)
{
  memset(out, 0, sizeof *out);
  if (low_bits > 8)
    return -1;
  low_bits_ctx c;
  c.low_bits = low_bits;
  c.base = malloc(len ? len : 1);
  c.choices = malloc((len ? len : 1) * 256);
  c.n_choices = malloc((len ? len : 1) * sizeof *c.n_choices);
  int rc = -1;
  if (!c.base || !c.choices || !c.n_choices)
    goto done;

  rng r;
  rng_seed(&r, seed ^ 0x6c6f77626974730aULL);
  unsigned step = 1u << low_bits;
  /* How many keys the free high bits allow (saturating at 2^62). */
  uint64_t space = 1;
  for (size_t i = 0; i < len; i++) {
    /* Low bits whose byte set contains printable bytes, when possible. */
    unsigned low = 0;
    for (int tries = 0; tries < 64; tries++) {
      low = rng_below(&r, step);
      unsigned char tmp[256];
      unsigned k = byte_choices(low, low_bits, tmp);
      if (k >= 2 && printable(tmp[0]))
        break;
    }
    c.base[i] = (unsigned char)low;
    c.n_choices[i] = byte_choices(low, low_bits, c.choices + i * 256);
    if (space < (UINT64_C(1) << 62))
      space *= c.n_choices[i];
  }
  /* Draw from the high-bit space when it is large enough (the draw budget
   * of build_fixed_len covers a coupon-collector run); beyond it, fix the
   * last byte instead. */
  if (n <= space) {
    rc = build_fixed_len(out, n, len, seed, gen_low_bits, &c);
  } else if (len >= 2) {
    uint32_t m = low_bits >= 32 ? UINT32_MAX : (1u << low_bits) - 1;
    c.target = (uint32_t)rng_next(&r) & m;
    rc = build_fixed_len(out, n, len, seed, gen_fix_last, &c);
  }
done:
  free(c.base);
  free(c.choices);
  free(c.n_choices);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Full 32-bit multicollisions                                              */

#define BLOCK_LEN 4

typedef struct bday_entry {
  uint32_t state;
  uint32_t block; /* BLOCK_LEN bytes, little-endian */
  uint32_t stamp; /* which search the entry belongs to (0: never used) */
} bday_entry;

#define BDAY_BITS 19
#define BDAY_MAX_FILL (1u << (BDAY_BITS - 1))

static uint32_t block_step(uint32_t h, uint32_t block)
{
  for (int i = 0; i < BLOCK_LEN; i++)
    h = fnv_step(h, (unsigned char)((block >> (8 * i)) & 0xff));
  return h;
}

static uint32_t random_block(rng *r)
{
  uint32_t b = 0;
  for (int i = 0; i < BLOCK_LEN; i++)
    b |= (uint32_t)(0x21 + rng_below(r, 94)) << (8 * i);
  return b;
}

/* Two different printable blocks taking `h` to the same state. */
static int find_block_pair(bday_entry *tab, uint32_t *stamp, uint32_t h, rng *r,
                           uint32_t pair[2])
{
  const uint32_t mask = (1u << BDAY_BITS) - 1;
  for (int round = 0; round < 16; round++) {
    uint32_t st = ++*stamp;
    for (uint32_t fill = 0; fill < BDAY_MAX_FILL; fill++) {
      uint32_t b = random_block(r);
      uint32_t s = block_step(h, b);
      uint32_t pos = (s * 0x9e3779b1u) >> (32 - BDAY_BITS);
      for (;; pos = (pos + 1) & mask) {
        bday_entry *e = &tab[pos];
        if (e->stamp != st) {
          e->stamp = st;
          e->state = s;
          e->block = b;
          break;
        }
        if (e->state == s) {
          if (e->block != b) {
            pair[0] = e->block;
            pair[1] = b;
            return 0;
          }
          break; /* the same block drawn twice */
        }
      }
    }
  }
  return -1;
}

int keys_fnv_collisions(key_set *out, size_t n, uint64_t seed)
{
  memset(out, 0, sizeof *out);
  unsigned stages = 0;
  while (stages < 63 && ((size_t)1 << stages) < n)
    stages++;
  if (((size_t)1 << stages) < n)
    return -1;
  size_t len = BLOCK_LEN * (size_t)stages;
  uint32_t *pairs = malloc((stages ? stages : 1) * 2 * sizeof *pairs);
  bday_entry *tab = stages ? calloc((size_t)1 << BDAY_BITS, sizeof *tab) : NULL;
  int rc = -1;
  if (!pairs || (stages && !tab))
    goto done;
  rng r;
  rng_seed(&r, seed ^ 0x636f6c6c6973696fULL);
  uint32_t stamp = 0, h = FNV_BASIS;
  for (unsigned s = 0; s < stages; s++) {
    if (find_block_pair(tab, &stamp, h, &r, pairs + 2 * s) < 0)
      goto done;
    h = block_step(h, pairs[2 * s]);
  }
  if (n && len && n > SIZE_MAX / len)
    goto done;
  if (ks_alloc(out, n, n * len) < 0)
    goto done;
  for (size_t i = 0; i < n; i++) {
    unsigned char *k = out->data + i * len;
    for (unsigned s = 0; s < stages; s++) {
      uint32_t b = pairs[2 * s + ((i >> s) & 1)];
      for (int j = 0; j < BLOCK_LEN; j++)
        k[BLOCK_LEN * s + (unsigned)j] = (unsigned char)((b >> (8 * j)) & 0xff);
    }
    out->off[i + 1] = (i + 1) * len;
  }
  rc = 0;
done:
  free(pairs);
  free(tab);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Random keys                                                              */

static int gen_random(unsigned char *key, size_t len, rng *r, void *ctx)
{
  (void)ctx;
  for (size_t i = 0; i < len; i++)
    key[i] = (unsigned char)(0x21 + rng_below(r, 94));
  return 0;
}

int keys_random(key_set *out, size_t n, size_t len, uint64_t seed)
{
  return build_fixed_len(out, n, len, seed ^ 0x72616e646f6d6b65ULL, gen_random, NULL);
}
