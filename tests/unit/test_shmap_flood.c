/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hash flooding: keys crafted against FNV-1a (equal low bits, full 32-bit
 * multicollisions) must spread over shards and probe chains like random keys
 * do, with a fixed hash key and with a random one. Measured by counting
 * (shard sizes, probe distances), never by timing. */
/* The experimental section: the shard probe statistics, headers-only models. */
#define SIPREC_EXPERIMENTAL
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siprec/shmap.h>

#include "crafted_keys.h"

#include "fast_check.h"
#include "check_main.h"

static int under_valgrind(void)
{
  const char *v = getenv("SIPREC_UNDER_VALGRIND");
  return v && *v && strcmp(v, "0") != 0;
}

static size_t n_keys(void)
{
  return under_valgrind() ? 20000 : 100000;
}

enum { SHARDS = SIPREC_SHMAP_DEFAULT_SHARDS };

/* ---------------------------------------------------------------------- */
/* The key sets themselves                                                  */

START_TEST(test_fnv1a32_reference)
{
  /* Published FNV-1a 32-bit values. */
  ck_assert_uint_eq(fnv1a32("", 0), 0x811c9dc5u);
  ck_assert_uint_eq(fnv1a32("a", 1), 0xe40c292cu);
  ck_assert_uint_eq(fnv1a32("foobar", 6), 0xbf9cf968u);
}
END_TEST

/* Keys of a set are pairwise distinct: sort their indices by content. */
static const key_set *cmp_set;

static int cmp_keys(const void *a, const void *b)
{
  size_t i = *(const size_t *)a, j = *(const size_t *)b, li, lj;
  const unsigned char *ki = key_at(cmp_set, i, &li), *kj = key_at(cmp_set, j, &lj);
  if (li != lj)
    return li < lj ? -1 : 1;
  return memcmp(ki, kj, li);
}

static void assert_distinct(const key_set *ks)
{
  size_t *idx = malloc((ks->n ? ks->n : 1) * sizeof *idx);
  ck_assert_ptr_nonnull(idx);
  for (size_t i = 0; i < ks->n; i++)
    idx[i] = i;
  cmp_set = ks;
  qsort(idx, ks->n, sizeof *idx, cmp_keys);
  for (size_t i = 1; i < ks->n; i++)
    ck_assert_msg(cmp_keys(&idx[i - 1], &idx[i]) != 0, "keys %zu and %zu are equal",
                  idx[i - 1], idx[i]);
  cmp_set = NULL;
  free(idx);
}

/* How the keys would spread over SHARDS shards picked by FNV-1a's low bits
 * (the design the product description asked for). */
static size_t fnv_masked_max_shard(const key_set *ks)
{
  size_t c[SHARDS] = { 0 };
  for (size_t i = 0; i < ks->n; i++) {
    size_t l;
    const unsigned char *k = key_at(ks, i, &l);
    c[fnv1a32(k, l) & (SHARDS - 1)]++;
  }
  size_t m = 0;
  for (int i = 0; i < SHARDS; i++)
    if (c[i] > m)
      m = c[i];
  return m;
}

START_TEST(test_crafted_keys_are_an_attack)
{
  const size_t n = n_keys();
  key_set low, col, rnd;
  ck_assert_int_eq(keys_fnv_low_bits(&low, n, 40, 7, 1), 0);
  ck_assert_int_eq(keys_fnv_collisions(&col, n, 2), 0);
  ck_assert_int_eq(keys_random(&rnd, n, 40, 3), 0);
  ck_assert_uint_eq(low.n, n);
  ck_assert_uint_eq(col.n, n);
  ck_assert_uint_eq(rnd.n, n);

  size_t l0, c0;
  const unsigned char *k0 = key_at(&low, 0, &l0);
  uint32_t low_h = fnv1a32(k0, l0);
  k0 = key_at(&col, 0, &c0);
  uint32_t col_h = fnv1a32(k0, c0);
  unsigned stages = 0;
  while (((size_t)1 << stages) < n)
    stages++;
  ck_assert_uint_eq(c0, 4 * stages); /* 4-byte blocks: see crafted_keys.c */
  for (size_t i = 0; i < n; i++) {
    size_t l;
    const unsigned char *k = key_at(&low, i, &l);
    ck_assert_uint_eq(l, 40);
    ck_assert_msg((fnv1a32(k, l) & 0x7f) == (low_h & 0x7f), "low-bits key %zu", i);
    /* The pure form of the attack: only the bit FNV-1a's low 7 bits ignore
     * (bit 7 of each byte) differs between keys. */
    for (size_t j = 0; j < l; j++)
      ck_assert_msg((k[j] & 0x7f) == (key_at(&low, 0, &l0)[j] & 0x7f), "low-bits key %zu byte %zu",
                    i, j);
    k = key_at(&col, i, &l);
    ck_assert_uint_eq(l, c0);
    ck_assert_msg(fnv1a32(k, l) == col_h, "collision key %zu: %08x != %08x", i, fnv1a32(k, l),
                  col_h);
    k = key_at(&rnd, i, &l);
    ck_assert_uint_eq(l, 40);
    for (size_t j = 0; j < l; j++)
      ck_assert_msg(k[j] >= 0x21 && k[j] <= 0x7e, "random key %zu not printable", i);
  }
  assert_distinct(&low);
  assert_distinct(&col);
  assert_distinct(&rnd);
  /* Against FNV-masked shards every crafted key lands in one shard;
   * random keys do not. */
  ck_assert_uint_eq(fnv_masked_max_shard(&low), n);
  ck_assert_uint_eq(fnv_masked_max_shard(&col), n);
  ck_assert_uint_lt(fnv_masked_max_shard(&rnd), n / SHARDS * 2);

  /* Same seed, same keys; another seed, other keys. */
  key_set again;
  ck_assert_int_eq(keys_fnv_low_bits(&again, n, 40, 7, 1), 0);
  ck_assert(memcmp(again.data, low.data, n * 40) == 0);
  key_set_free(&again);
  ck_assert_int_eq(keys_random(&again, n, 40, 4), 0);
  ck_assert(memcmp(again.data, rnd.data, n * 40) != 0);
  key_set_free(&again);

  key_set_free(&low);
  key_set_free(&col);
  key_set_free(&rnd);
}
END_TEST

START_TEST(test_crafted_keys_variants)
{
  /* Fewer low bits: the keys differ only in the high bits of their bytes. */
  for (unsigned lb = 0; lb <= 8; lb++) {
    key_set ks;
    ck_assert_int_eq(keys_fnv_low_bits(&ks, 1000, 24, lb, 7), 0);
    uint32_t mask = lb == 32 ? UINT32_MAX : (1u << lb) - 1;
    size_t l0;
    const unsigned char *k0 = key_at(&ks, 0, &l0);
    uint32_t h0 = fnv1a32(k0, l0) & mask;
    for (size_t i = 0; i < ks.n; i++) {
      size_t l;
      const unsigned char *k = key_at(&ks, i, &l);
      ck_assert_uint_eq(l, 24);
      ck_assert_uint_eq(fnv1a32(k, l) & mask, h0);
      if (lb < 8) /* only the high bits vary */
        for (size_t j = 0; j < l; j++)
          ck_assert_uint_eq(k[j] & mask, k0[j] & mask);
    }
    assert_distinct(&ks);
    key_set_free(&ks);
  }
  /* Impossible requests fail cleanly. */
  key_set ks;
  ck_assert_int_eq(keys_fnv_low_bits(&ks, 2, 1, 8, 1), -1);
  ck_assert_int_eq(keys_fnv_low_bits(&ks, 5, 40, 9, 1), -1);
  /* Small collision sets. */
  static const size_t sizes[] = { 1, 2, 3, 4, 5, 64, 100 };
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
    ck_assert_int_eq(keys_fnv_collisions(&ks, sizes[s], 9), 0);
    ck_assert_uint_eq(ks.n, sizes[s]);
    size_t l0;
    const unsigned char *k0 = key_at(&ks, 0, &l0);
    for (size_t i = 0; i < ks.n; i++) {
      size_t l;
      const unsigned char *k = key_at(&ks, i, &l);
      ck_assert_uint_eq(l, l0);
      ck_assert_uint_eq(fnv1a32(k, l), fnv1a32(k0, l0));
    }
    assert_distinct(&ks);
    key_set_free(&ks);
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* The map against them                                                     */

typedef struct spread {
  size_t max_shard, min_shard;
  double chi2;
  double mean_dist;
  size_t max_dist;
} spread;

static spread measure(const key_set *ks, const uint8_t *hkey)
{
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  if (hkey)
    ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, hkey), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), SHARDS);
  for (size_t i = 0; i < ks->n; i++) {
    size_t l;
    const unsigned char *k = key_at(ks, i, &l);
    ck_assert_int_eq(siprec_shmap_store(m, k, l, NULL), 0);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), ks->n); /* distinct keys, all kept */
  size_t c[SHARDS];
  ck_assert_int_eq(siprec_shmap_shard_lens(m, c, SHARDS), SHARDS);
  spread s = { 0, SIZE_MAX, 0, 0, 0 };
  double mean = (double)ks->n / SHARDS;
  size_t entries = 0, dist_sum = 0;
  for (unsigned i = 0; i < SHARDS; i++) {
    if (c[i] > s.max_shard)
      s.max_shard = c[i];
    if (c[i] < s.min_shard)
      s.min_shard = c[i];
    s.chi2 += ((double)c[i] - mean) * ((double)c[i] - mean) / mean;
    size_t e, sl, ds, dm;
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, i, &e, &sl, &ds, &dm), 0);
    ck_assert_uint_eq(e, c[i]);
    entries += e;
    dist_sum += ds;
    if (dm > s.max_dist)
      s.max_dist = dm;
  }
  ck_assert_uint_eq(entries, ks->n);
  s.mean_dist = (double)dist_sum / (double)entries;
  siprec_shmap_free(m);
  return s;
}

static void check_balanced(const spread *s, size_t n, const char *what)
{
  double mean = (double)n / SHARDS;
  double slack = 6 * sqrt(mean);
  ck_assert_msg((double)s->max_shard <= mean + slack, "%s: largest shard %zu, mean %.0f", what,
                s->max_shard, mean);
  ck_assert_msg((double)s->min_shard >= mean - slack, "%s: smallest shard %zu, mean %.0f",
                what, s->min_shard, mean);
  /* Chi-square with 31 degrees of freedom: mean 31, sd ~7.9; random keys
   * exceed 120 with probability below 1e-10. */
  ck_assert_msg(s->chi2 < 120.0, "%s: chi-square %.1f", what, s->chi2);
}

static void check_like_random(const spread *crafted, const spread *random, const char *what)
{
  ck_assert_msg(crafted->mean_dist <= 1.5 * random->mean_dist + 0.1,
                "%s: mean probe distance %.3f vs %.3f for random keys", what, crafted->mean_dist,
                random->mean_dist);
  ck_assert_msg(crafted->max_dist <= 2 * random->max_dist + 4,
                "%s: longest probe distance %zu vs %zu for random keys", what, crafted->max_dist,
                random->max_dist);
}

static void flood(const uint8_t *hkey)
{
  const size_t n = n_keys();
  key_set low, col, rnd40, rndcol;
  ck_assert_int_eq(keys_fnv_low_bits(&low, n, 40, 7, 11), 0);
  ck_assert_int_eq(keys_fnv_collisions(&col, n, 12), 0);
  size_t col_len;
  (void)key_at(&col, 0, &col_len);
  ck_assert_int_eq(keys_random(&rnd40, n, 40, 13), 0);
  ck_assert_int_eq(keys_random(&rndcol, n, col_len, 14), 0);

  /* The attack is real: one FNV-masked shard, one 32-bit FNV value. */
  ck_assert_uint_eq(fnv_masked_max_shard(&low), n);
  ck_assert_uint_eq(fnv_masked_max_shard(&col), n);
  size_t l;
  const unsigned char *k0 = key_at(&col, 0, &l);
  uint32_t h0 = fnv1a32(k0, l);
  for (size_t i = 0; i < n; i++) {
    const unsigned char *k = key_at(&col, i, &l);
    ck_assert_uint_eq(fnv1a32(k, l), h0);
  }

  spread s_low = measure(&low, hkey);
  spread s_col = measure(&col, hkey);
  spread s_r40 = measure(&rnd40, hkey);
  spread s_rcol = measure(&rndcol, hkey);
  if (getenv("SIPREC_TEST_VERBOSE"))
    fprintf(stderr,
            "%s key: shards max/min  low %zu/%zu  col %zu/%zu  rnd %zu/%zu  rnd %zu/%zu\n"
            "  chi2 %.1f %.1f %.1f %.1f; mean dist %.3f %.3f %.3f %.3f; max dist %zu %zu "
            "%zu %zu\n",
            hkey ? "fixed" : "random", s_low.max_shard, s_low.min_shard, s_col.max_shard,
            s_col.min_shard, s_r40.max_shard, s_r40.min_shard, s_rcol.max_shard,
            s_rcol.min_shard, s_low.chi2, s_col.chi2, s_r40.chi2, s_rcol.chi2, s_low.mean_dist,
            s_col.mean_dist, s_r40.mean_dist, s_rcol.mean_dist, s_low.max_dist, s_col.max_dist,
            s_r40.max_dist, s_rcol.max_dist);
  /* Random keys pass the bounds (so the bounds mean something)... */
  check_balanced(&s_r40, n, "random keys (40 bytes)");
  check_balanced(&s_rcol, n, "random keys (collision length)");
  /* ...and so do the crafted ones. */
  check_balanced(&s_low, n, "FNV low-bits keys");
  check_balanced(&s_col, n, "FNV multicollision keys");
  check_like_random(&s_low, &s_r40, "FNV low-bits keys");
  check_like_random(&s_col, &s_rcol, "FNV multicollision keys");

  key_set_free(&low);
  key_set_free(&col);
  key_set_free(&rnd40);
  key_set_free(&rndcol);
}

START_TEST(test_flood_fixed_hash_key)
{
  static const uint8_t k[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };
  flood(k);
}
END_TEST

START_TEST(test_flood_random_hash_key)
{
  flood(NULL);
}
END_TEST

static Suite *flood_suite(void)
{
  Suite *s = suite_create("shmap_flood");
  TCase *tc = tcase_create("keys");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_fnv1a32_reference);
  tcase_add_test(tc, test_crafted_keys_are_an_attack);
  tcase_add_test(tc, test_crafted_keys_variants);
  suite_add_tcase(s, tc);
  tc = tcase_create("flood");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_flood_fixed_hash_key);
  tcase_add_test(tc, test_flood_random_hash_key);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(flood_suite());
}
