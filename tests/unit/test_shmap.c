/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec_shmap against its documentation (include/siprec/shmap.h): every
 * operation and edge, the destructor contract, range, inspect/update,
 * EBUSY from callbacks, threads, and allocation failure at every point. */
/* The experimental section: the shard probe statistics, headers-only models. */
#define SIPREC_EXPERIMENTAL
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <siprec/shmap.h>

#include "failalloc.h"
#include "fast_check.h"
#include "check_main.h"

static int under_valgrind(void)
{
  const char *v = getenv("SIPREC_UNDER_VALGRIND");
  return v && *v && strcmp(v, "0") != 0;
}

static const uint8_t fixed_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* ---------------------------------------------------------------------- */
/* Keys: key i starts with i (4 bytes, little-endian), then a pattern; the
 * lengths cycle through 4..103 so that inline and external keys mix. */

#define KEY_MAX 128
/* What a call that needs the key returns: 1 when present, else
 * SIPREC_ENOTFOUND (shmap.h, "Return values"). */
#define FOUND(present) ((present) ? 1 : SIPREC_ENOTFOUND)

static size_t key_len_for(size_t i)
{
  return 4 + (i * 7) % 100;
}

static size_t make_key(unsigned char *buf, size_t i)
{
  size_t len = key_len_for(i);
  buf[0] = (unsigned char)(i & 0xff);
  buf[1] = (unsigned char)((i >> 8) & 0xff);
  buf[2] = (unsigned char)((i >> 16) & 0xff);
  buf[3] = (unsigned char)((i >> 24) & 0xff);
  for (size_t j = 4; j < len; j++)
    buf[j] = (unsigned char)(i * 31 + j * 17);
  return len;
}

/* The index of a key made by make_key, or -1 when it is not one. */
static long key_index(const void *key, size_t len)
{
  const unsigned char *k = key;
  if (len < 4)
    return -1;
  size_t i = (size_t)k[0] | (size_t)k[1] << 8 | (size_t)k[2] << 16 | (size_t)k[3] << 24;
  unsigned char buf[KEY_MAX];
  if (make_key(buf, i) != len || memcmp(buf, key, len) != 0)
    return -1;
  return (long)i;
}

/* ---------------------------------------------------------------------- */
/* Values and the destructor: a value is a pointer to its own destruction
 * counter, so each value's destructions are counted individually. */

typedef struct tracker {
  size_t nvals;
  int *destroyed;
  int null_destroyed;
  int foreign_destroyed;
  long total;
  /* Values handed to range callbacks now running (nested walks stack). */
  const void *visiting[16];
  int depth;
  int destroyed_while_visited;
  /* Set while an inspect/update/equal callback runs (under a lock). */
  int in_locked_cb;
  int destroyed_under_lock;
  /* When set, the destructor calls the map (allowed: no lock is held). */
  siprec_shmap *call_map;
  long dtor_map_calls;
  int dtor_map_bad;
} tracker;

static void tracker_init(tracker *t, size_t nvals)
{
  memset(t, 0, sizeof *t);
  t->nvals = nvals;
  t->destroyed = calloc(nvals, sizeof *t->destroyed);
  ck_assert_ptr_nonnull(t->destroyed);
}

static void tracker_fini(tracker *t)
{
  free(t->destroyed);
  t->destroyed = NULL;
}

static void *val(tracker *t, size_t id)
{
  ck_assert_uint_lt(id, t->nvals);
  return &t->destroyed[id];
}

static int destroyed(const tracker *t, size_t id)
{
  return t->destroyed[id];
}

static void track_free(void *value, void *user)
{
  tracker *t = user;
  t->total++;
  if (!value) {
    t->null_destroyed++;
  } else {
    int *p = value;
    if (p < t->destroyed || p >= t->destroyed + t->nvals)
      t->foreign_destroyed++;
    else
      (*p)++;
  }
  for (int i = 0; i < t->depth; i++)
    if (t->visiting[i] == value)
      t->destroyed_while_visited++;
  if (t->in_locked_cb)
    t->destroyed_under_lock++;
  if (t->call_map && value) {
    t->dtor_map_calls++;
    /* Any call would fail with EBUSY if this thread held a lock of the
     * map (and a lookup changes nothing the tests look at). */
    int rc = siprec_shmap_load(t->call_map, "probe", 5, NULL);
    if (rc != SIPREC_ENOTFOUND && rc != 1)
      t->dtor_map_bad++;
  }
}

static siprec_shmap *new_map(tracker *t, unsigned shards, const uint8_t *hkey)
{
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_ptr_nonnull(o);
  if (shards)
    ck_assert_int_eq(siprec_shmap_options_set_shards(o, shards), 0);
  if (t)
    ck_assert_int_eq(siprec_shmap_options_set_value_free(o, track_free, t), 0);
  if (hkey)
    ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, hkey), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  ck_assert_ptr_nonnull(m);
  siprec_shmap_options_free(o);
  return m;
}

static size_t sum_shard_lens(const siprec_shmap *m)
{
  unsigned n = siprec_shmap_shard_count(m);
  size_t *c = calloc(n, sizeof *c);
  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(siprec_shmap_shard_lens(m, c, n), (int)n);
  size_t s = 0;
  for (unsigned i = 0; i < n; i++)
    s += c[i];
  free(c);
  return s;
}

/* ---------------------------------------------------------------------- */
/* Options and creation                                                     */

static void *plain_malloc(size_t n, void *user)
{
  (void)user;
  return malloc(n);
}

static void *plain_realloc(void *p, size_t n, void *user)
{
  (void)user;
  return realloc(p, n);
}

static void plain_free(void *p, void *user)
{
  (void)user;
  free(p);
}

START_TEST(test_options)
{
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(NULL, NULL), SIPREC_EINVAL);
  siprec_allocator bad = { plain_malloc, NULL, plain_free, NULL };
  ck_assert_int_eq(siprec_shmap_options_new(&o, &bad), SIPREC_EINVAL);
  bad.realloc = plain_realloc;
  bad.free = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, &bad), SIPREC_EINVAL);
  bad.free = plain_free;
  bad.malloc = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, &bad), SIPREC_EINVAL);

  siprec_allocator good = { plain_malloc, plain_realloc, plain_free, NULL };
  ck_assert_int_eq(siprec_shmap_options_new(&o, &good), 0);
  ck_assert_ptr_nonnull(o);

  ck_assert_int_eq(siprec_shmap_options_set_shards(NULL, 4), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 0), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 3), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 48), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 65535), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 131072), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 65537), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 0x80000000u), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 0xffffffffu), SIPREC_EINVAL);

  /* Failed setters changed nothing: the default is still 32. */
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), SIPREC_SHMAP_DEFAULT_SHARDS);
  siprec_shmap_free(m);

  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 1), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 3), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), 1);
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "b", 1, NULL), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 2);
  siprec_shmap_free(m);

  ck_assert_int_eq(siprec_shmap_options_set_shards(o, SIPREC_SHMAP_MAX_SHARDS), 0);
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), 65536);
  for (int i = 0; i < 100; i++) {
    char k[16];
    int n = snprintf(k, sizeof k, "k%d", i);
    ck_assert_int_eq(siprec_shmap_store(m, k, (size_t)n, NULL), 0);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 100);
  ck_assert_uint_eq(sum_shard_lens(m), 100);
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, 65535, NULL, NULL, NULL, NULL), 0);
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, 65536, NULL, NULL, NULL, NULL),
                   SIPREC_EINVAL);
  siprec_shmap_free(m);

  ck_assert_int_eq(siprec_shmap_options_set_value_free(NULL, track_free, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, NULL, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_equal(NULL, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_value_equal(o, NULL, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(NULL, fixed_key), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, fixed_key), 0);

  siprec_shmap_options_free(o);
  siprec_shmap_options_free(NULL);
}
END_TEST

START_TEST(test_new_and_free)
{
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(NULL, NULL, NULL), SIPREC_EINVAL);

  /* NULL options: the defaults. */
  ck_assert_int_eq(siprec_shmap_new(&m, NULL, NULL), 0);
  ck_assert_ptr_nonnull(m);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), SIPREC_SHMAP_DEFAULT_SHARDS);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "x", 1, &m), 0);
  void *v = NULL;
  ck_assert_int_eq(siprec_shmap_load(m, "x", 1, &v), 1);
  ck_assert_ptr_eq(v, &m);
  siprec_shmap_free(m);

  /* A hook lacking a function. */
  siprec_allocator bad[3] = {
    { NULL, plain_realloc, plain_free, NULL },
    { plain_malloc, NULL, plain_free, NULL },
    { plain_malloc, plain_realloc, NULL, NULL },
  };
  for (int i = 0; i < 3; i++) {
    m = NULL;
    ck_assert_int_eq(siprec_shmap_new(&m, NULL, &bad[i]), SIPREC_EINVAL);
    ck_assert_ptr_null(m);
  }

  /* A complete hook. */
  siprec_allocator good = { plain_malloc, plain_realloc, plain_free, NULL };
  ck_assert_int_eq(siprec_shmap_new(&m, NULL, &good), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "y", 1, NULL), 0);
  siprec_shmap_free(m);

  siprec_shmap_free(NULL);
  ck_assert_uint_eq(siprec_shmap_len(NULL), 0);
  ck_assert_uint_eq(siprec_shmap_shard_count(NULL), 0);
}
END_TEST

START_TEST(test_options_copied)
{
  /* The map copies the options: changing or freeing them later has no
   * effect on it. */
  tracker t;
  tracker_init(&t, 4);
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 4), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 8), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, track_free, &t), 0);
  siprec_shmap_options_free(o);
  ck_assert_uint_eq(siprec_shmap_shard_count(m), 4);
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, val(&t, 1)), 0);
  ck_assert_int_eq(siprec_shmap_delete(m, "a", 1), 1);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, 0); /* this map has no destructor */
  tracker_fini(&t);
}
END_TEST

static int range_count_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  (*(size_t *)user)++;
  return 0;
}

static int inspect_ret5(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  (void)user;
  return 5;
}

static int update_ret5(const void *k, size_t l, void **v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  (void)user;
  return 5;
}

START_TEST(test_invalid_arguments)
{
  siprec_shmap *m = new_map(NULL, 0, NULL);
  void *v = NULL;
  /* NULL map. */
  ck_assert_int_eq(siprec_shmap_load(NULL, "a", 1, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_store(NULL, "a", 1, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_or_store(NULL, "a", 1, NULL, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_and_delete(NULL, "a", 1, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_delete(NULL, "a", 1), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_swap(NULL, "a", 1, NULL, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(NULL, "a", 1, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(NULL, "a", 1, NULL), SIPREC_EINVAL);
  size_t cnt = 0;
  ck_assert_int_eq(siprec_shmap_range(NULL, range_count_cb, &cnt), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_clear(NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_inspect(NULL, "a", 1, inspect_ret5, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_update(NULL, "a", 1, update_ret5, NULL), SIPREC_EINVAL);
  size_t lens[4];
  ck_assert_int_eq(siprec_shmap_shard_lens(NULL, lens, 4), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(NULL, 0, NULL, NULL, NULL, NULL),
                   SIPREC_EINVAL);

  /* NULL key with a non-zero length. */
  ck_assert_int_eq(siprec_shmap_load(m, NULL, 1, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_store(m, NULL, 1, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_or_store(m, NULL, 1, NULL, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, NULL, 1, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_delete(m, NULL, 1), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_swap(m, NULL, 1, NULL, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, NULL, 1, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, NULL, 1, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_inspect(m, NULL, 1, inspect_ret5, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_update(m, NULL, 1, update_ret5, NULL), SIPREC_EINVAL);

  /* NULL callbacks. */
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_range(m, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_inspect(m, "a", 1, NULL, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_update(m, "a", 1, NULL, NULL), SIPREC_EINVAL);

  /* shard_lens: counts NULL only with n == 0. */
  ck_assert_int_eq(siprec_shmap_shard_lens(m, NULL, 1), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_shard_lens(m, NULL, 0), 0);

  /* Nothing above changed the map. */
  ck_assert_uint_eq(siprec_shmap_len(m), 1);
  siprec_shmap_free(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Keys                                                                     */

START_TEST(test_empty_and_binary_keys)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *v = NULL;

  /* Empty key and NULL key with length 0 are the same (valid) key. */
  ck_assert_int_eq(siprec_shmap_load(m, "", 0, &v), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_store(m, "", 0, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_load(m, NULL, 0, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  ck_assert_int_eq(siprec_shmap_load(m, "zzz", 0, &v), 1); /* bytes beyond len ignored */
  ck_assert_int_eq(siprec_shmap_store(m, NULL, 0, val(&t, 1)), 0);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_uint_eq(siprec_shmap_len(m), 1);

  /* Keys with NUL bytes: all bytes count. */
  ck_assert_int_eq(siprec_shmap_store(m, "a\0b", 3, val(&t, 2)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "a\0c", 3, val(&t, 3)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, val(&t, 4)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "a\0", 2, val(&t, 5)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "\0", 1, val(&t, 6)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "\0\0", 2, val(&t, 7)), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 7);
  ck_assert_int_eq(siprec_shmap_load(m, "a\0b", 3, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 2));
  ck_assert_int_eq(siprec_shmap_load(m, "a\0c", 3, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 3));
  ck_assert_int_eq(siprec_shmap_load(m, "a", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 4));
  ck_assert_int_eq(siprec_shmap_load(m, "a\0", 2, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 5));
  ck_assert_int_eq(siprec_shmap_load(m, "\0", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 6));
  ck_assert_int_eq(siprec_shmap_load(m, "\0\0", 2, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 7));
  ck_assert_int_eq(siprec_shmap_load(m, "a\0d", 3, &v), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_load(m, "\0\0\0", 3, &v), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_delete(m, "a\0b", 3), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "a\0c", 3, &v), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "a", 1, &v), 1);
  ck_assert_int_eq(destroyed(&t, 2), 1);
  ck_assert_int_eq(destroyed(&t, 3), 0);

  /* A NULL value is a value. */
  ck_assert_int_eq(siprec_shmap_store(m, "null", 4, NULL), 0);
  v = &v;
  ck_assert_int_eq(siprec_shmap_load(m, "null", 4, &v), 1);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(siprec_shmap_load(m, "null", 4, NULL), 1);
  ck_assert_int_eq(siprec_shmap_delete(m, "null", 4), 1);
  ck_assert_int_eq(t.null_destroyed, 1);
  ck_assert_int_eq(siprec_shmap_load(m, "null", 4, NULL), SIPREC_ENOTFOUND);

  /* The key is copied: the caller's buffer may change afterwards. */
  char buf[8] = "mutable";
  ck_assert_int_eq(siprec_shmap_store(m, buf, 7, val(&t, 8)), 0);
  memcpy(buf, "changed", 7);
  ck_assert_int_eq(siprec_shmap_load(m, "mutable", 7, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 8));
  ck_assert_int_eq(siprec_shmap_load(m, buf, 7, &v), SIPREC_ENOTFOUND);

  siprec_shmap_free(m);
  for (int i = 0; i < 9; i++)
    ck_assert_msg(destroyed(&t, (size_t)i) == 1, "value %d destroyed %d times", i,
                  destroyed(&t, (size_t)i));
  ck_assert_int_eq(t.null_destroyed, 1);
  ck_assert_int_eq(t.foreign_destroyed, 0);
  tracker_fini(&t);
}
END_TEST

typedef struct seen_key {
  const unsigned char *want;
  size_t len;
  int seen;
} seen_key;

static int range_find_key(const void *k, size_t l, void *v, void *user)
{
  (void)v;
  seen_key *s = user;
  if (l == s->len && memcmp(k, s->want, l) == 0)
    s->seen++;
  return 0;
}

static const size_t test_lens[] = { 1, 8, 53, 54, 55, 56, 200, 100000 };

static int is_test_len(size_t l)
{
  for (size_t i = 0; i < sizeof test_lens / sizeof test_lens[0]; i++)
    if (test_lens[i] == l)
      return 1;
  return 0;
}

START_TEST(test_key_lengths)
{
  /* Around the inline limit (54) and far beyond it. */
  const size_t *lens = test_lens;
  const size_t nl = sizeof test_lens / sizeof test_lens[0];
  tracker t;
  tracker_init(&t, 64);
  siprec_shmap *m = new_map(&t, 4, fixed_key);
  unsigned char *buf = malloc(100001);
  ck_assert_ptr_nonnull(buf);
  for (size_t i = 0; i < 100001; i++)
    buf[i] = (unsigned char)(i * 131 + 7);

  for (size_t i = 0; i < nl; i++)
    ck_assert_int_eq(siprec_shmap_store(m, buf, lens[i], val(&t, i)), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), nl);
  /* Same long prefix, differing only in the last byte. */
  for (size_t i = 0; i < nl; i++) {
    unsigned char save = buf[lens[i] - 1];
    buf[lens[i] - 1] ^= 0x40;
    ck_assert_int_eq(siprec_shmap_load(m, buf, lens[i], NULL), SIPREC_ENOTFOUND);
    ck_assert_int_eq(siprec_shmap_store(m, buf, lens[i], val(&t, nl + i)), 0);
    buf[lens[i] - 1] = save;
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 2 * nl);
  for (size_t i = 0; i < nl; i++) {
    void *v = NULL;
    ck_assert_int_eq(siprec_shmap_load(m, buf, lens[i], &v), 1);
    ck_assert_ptr_eq(v, val(&t, i));
    buf[lens[i] - 1] ^= 0x40;
    ck_assert_int_eq(siprec_shmap_load(m, buf, lens[i], &v), 1);
    ck_assert_ptr_eq(v, val(&t, nl + i));
    buf[lens[i] - 1] ^= 0x40;
    /* One byte longer or shorter: other keys (absent unless stored). */
    if (!is_test_len(lens[i] + 1))
      ck_assert_int_eq(siprec_shmap_load(m, buf, lens[i] + 1, &v), SIPREC_ENOTFOUND);
    if (!is_test_len(lens[i] - 1))
      ck_assert_int_eq(siprec_shmap_load(m, buf, lens[i] - 1, &v), SIPREC_ENOTFOUND);
    /* Range hands back exactly the key bytes. */
    seen_key s = { buf, lens[i], 0 };
    ck_assert_int_eq(siprec_shmap_range(m, range_find_key, &s), 0);
    ck_assert_int_eq(s.seen, 1);
  }
  /* Every operation on a long key. */
  void *prev = NULL;
  ck_assert_int_eq(siprec_shmap_swap(m, buf, 100000, val(&t, 40), &prev), 1);
  ck_assert_ptr_eq(prev, val(&t, nl - 1));
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, buf, 100000, val(&t, 40), val(&t, 41)), 1);
  ck_assert_int_eq(destroyed(&t, 40), 1);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, buf, 100000, val(&t, 41)), 1);
  ck_assert_int_eq(destroyed(&t, 41), 1);
  ck_assert_int_eq(siprec_shmap_load(m, buf, 100000, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_load_or_store(m, buf, 200, val(&t, 42), &prev), 1);
  ck_assert_ptr_eq(prev, val(&t, 6));
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, buf, 55, &prev), 1);
  ck_assert_ptr_eq(prev, val(&t, 4));
  ck_assert_int_eq(siprec_shmap_delete(m, buf, 54), 1);
  ck_assert_int_eq(siprec_shmap_delete(m, buf, 53), 1);
  ck_assert_uint_eq(siprec_shmap_len(m), 2 * nl - 4);

  siprec_shmap_free(m);
  free(buf);
  /* Exactly once, except the values handed back (7 by swap, 4 by
   * load_and_delete) and the one never stored (42). */
  for (size_t i = 0; i < 2 * nl; i++)
    ck_assert_int_eq(destroyed(&t, i), (i == nl - 1 || i == 4) ? 0 : 1);
  ck_assert_int_eq(destroyed(&t, 42), 0);
  tracker_fini(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Single-key operations and the destructor                                 */

START_TEST(test_store_load_delete)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *v = NULL;
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), SIPREC_ENOTFOUND);
  ck_assert_ptr_null(v); /* untouched when absent */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  ck_assert_int_eq(t.total, 0);
  /* Overwrite destroys the old value only. */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 1)), 0);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_int_eq(destroyed(&t, 1), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 1));
  /* Delete destroys; deleting again finds nothing. */
  ck_assert_int_eq(siprec_shmap_delete(m, "k", 1), 1);
  ck_assert_int_eq(destroyed(&t, 1), 1);
  ck_assert_int_eq(siprec_shmap_delete(m, "k", 1), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  ck_assert_int_eq(t.total, 2);
  /* Free destroys what is left, once. */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 2)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "l", 1, val(&t, 3)), 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(destroyed(&t, 2), 1);
  ck_assert_int_eq(destroyed(&t, 3), 1);
  ck_assert_int_eq(t.total, 4);
  tracker_fini(&t);
}
END_TEST

/* A value stored over itself stays in the map, so nothing may destroy it. */
START_TEST(test_store_over_itself)
{
  tracker t;
  tracker_init(&t, 4);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *v = NULL;
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 0)), 0);
  ck_assert_int_eq(destroyed(&t, 0), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, val(&t, 0), val(&t, 0)), 1);
  ck_assert_int_eq(destroyed(&t, 0), 0);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  siprec_shmap_free(m);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_int_eq(t.total, 1);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_load_or_store)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *actual = NULL;
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "k", 1, val(&t, 0), &actual), 0);
  ck_assert_ptr_eq(actual, val(&t, 0));
  actual = NULL;
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "k", 1, val(&t, 1), &actual), 1);
  ck_assert_ptr_eq(actual, val(&t, 0));
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "k", 1, val(&t, 2), NULL), 1);
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "j", 1, val(&t, 3), NULL), 0);
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "n", 1, NULL, &actual), 0);
  ck_assert_ptr_null(actual);
  actual = &actual;
  ck_assert_int_eq(siprec_shmap_load_or_store(m, "n", 1, val(&t, 4), &actual), 1);
  ck_assert_ptr_null(actual);
  /* Offered values that were not stored stay the caller's. */
  ck_assert_int_eq(t.total, 0);
  void *v;
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  ck_assert_uint_eq(siprec_shmap_len(m), 3);
  siprec_shmap_free(m);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_int_eq(destroyed(&t, 1), 0);
  ck_assert_int_eq(destroyed(&t, 2), 0);
  ck_assert_int_eq(destroyed(&t, 3), 1);
  ck_assert_int_eq(destroyed(&t, 4), 0);
  ck_assert_int_eq(t.null_destroyed, 1);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_load_and_delete)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *v = &v;
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, &v), SIPREC_ENOTFOUND);
  ck_assert_ptr_eq(v, &v); /* untouched */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, NULL), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  /* value == NULL: forgotten, not destroyed. */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 1)), 0);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, NULL), 1);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(t.total, 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, 0);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_swap)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *prev = &prev;
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, val(&t, 0), &prev), 0);
  ck_assert_ptr_null(prev);
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, val(&t, 1), &prev), 1);
  ck_assert_ptr_eq(prev, val(&t, 0));
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, val(&t, 2), NULL), 1);
  /* Nobody took value 1: destroyed, as by store (issue 9: it leaked). */
  ck_assert_int_eq(destroyed(&t, 1), 1);
  /* The same pointer again is no replacement. */
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, val(&t, 2), NULL), 1);
  ck_assert_int_eq(destroyed(&t, 2), 0);
  ck_assert_int_eq(siprec_shmap_swap(m, "j", 1, val(&t, 3), NULL), 0);
  void *v;
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 2));
  ck_assert_int_eq(t.total, 1); /* swap with `previous` destroys nothing */
  ck_assert_uint_eq(siprec_shmap_len(m), 2);
  siprec_shmap_free(m);
  ck_assert_int_eq(destroyed(&t, 0), 0);
  ck_assert_int_eq(destroyed(&t, 1), 1);
  ck_assert_int_eq(destroyed(&t, 2), 1);
  ck_assert_int_eq(destroyed(&t, 3), 1);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_compare_identity)
{
  tracker t;
  tracker_init(&t, 16);
  siprec_shmap *m = new_map(&t, 0, NULL);
  void *v;
  /* Absent. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, NULL, val(&t, 0)), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, NULL), SIPREC_ENOTFOUND);

  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, val(&t, 0)), 0);
  /* Not equal: nothing happens. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, val(&t, 1), val(&t, 2)), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, val(&t, 1)), 0);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 0));
  ck_assert_int_eq(t.total, 0);
  /* Identity: the int the pointers point to is irrelevant. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, val(&t, 0), val(&t, 2)), 1);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 2));
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, val(&t, 2)), 1);
  ck_assert_int_eq(destroyed(&t, 2), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, NULL), SIPREC_ENOTFOUND);
  /* NULL values compare too. */
  ck_assert_int_eq(siprec_shmap_store(m, "n", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "n", 1, val(&t, 3), val(&t, 4)), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "n", 1, NULL, val(&t, 4)), 1);
  ck_assert_int_eq(t.null_destroyed, 1);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "n", 1, val(&t, 4), NULL), 1);
  ck_assert_int_eq(destroyed(&t, 4), 1);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "n", 1, NULL), 1);
  ck_assert_int_eq(t.null_destroyed, 2);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, 5);
  tracker_fini(&t);
}
END_TEST

typedef struct item {
  int id;
  int destroyed;
} item;

typedef struct eq_ctx {
  int calls;
  const void *last_stored, *last_expected;
} eq_ctx;

static int item_equal(const void *stored, const void *expected, void *user)
{
  eq_ctx *e = user;
  e->calls++;
  e->last_stored = stored;
  e->last_expected = expected;
  return ((const item *)stored)->id == ((const item *)expected)->id;
}

static void item_free(void *value, void *user)
{
  (void)user;
  ((item *)value)->destroyed++;
}

START_TEST(test_compare_equal_callback)
{
  eq_ctx e = { 0, NULL, NULL };
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_equal(o, item_equal, &e), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, item_free, NULL), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);

  item a = { 1, 0 }, a2 = { 1, 0 }, b = { 2, 0 }, c = { 3, 0 }, c2 = { 3, 0 };
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, &a), 0);
  /* Different pointer, different id: not equal. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, &b, &c), 0);
  ck_assert_int_eq(e.calls, 1);
  ck_assert_ptr_eq(e.last_stored, &a); /* argument order: stored, expected */
  ck_assert_ptr_eq(e.last_expected, &b);
  /* Different pointer, same id: equal. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, &a2, &c), 1);
  ck_assert_ptr_eq(e.last_stored, &a);
  ck_assert_ptr_eq(e.last_expected, &a2);
  ck_assert_int_eq(a.destroyed, 1); /* the stored one leaves */
  ck_assert_int_eq(a2.destroyed, 0);
  void *v;
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), 1);
  ck_assert_ptr_eq(v, &c);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, &b), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, &c2), 1);
  ck_assert_int_eq(c.destroyed, 1);
  ck_assert_int_eq(c2.destroyed, 0);
  /* Absent key: the callback is not needed. */
  int before = e.calls;
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, &c), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, &c, &a), SIPREC_ENOTFOUND);
  ck_assert_int_eq(e.calls, before);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(b.destroyed, 0);
}
END_TEST

START_TEST(test_destructor_exactly_once)
{
  /* A long mixed sequence against a reference. */
  enum { NK = 300, NV = 20000 };
  tracker t;
  tracker_init(&t, NV);
  int *expected = calloc(NV, sizeof *expected);
  long *cur = malloc(NK * sizeof *cur); /* value id in the map, -1 absent */
  ck_assert_ptr_nonnull(expected);
  ck_assert_ptr_nonnull(cur);
  for (int i = 0; i < NK; i++)
    cur[i] = -1;
  siprec_shmap *m = new_map(&t, 4, fixed_key);
  uint64_t rs = 88172645463325252ULL;
  size_t next = 0;
  unsigned char kb[KEY_MAX];
  for (int step = 0; step < 15000; step++) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    size_t k = (size_t)(rs % NK);
    size_t kl = make_key(kb, k);
    size_t nv = next++;
    void *prev = NULL;
    int rc;
    switch ((rs >> 20) % 9) {
    case 0: /* store */
      ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, nv)), 0);
      if (cur[k] >= 0)
        expected[cur[k]]++;
      cur[k] = (long)nv;
      break;
    case 1: /* delete */
      rc = siprec_shmap_delete(m, kb, kl);
      ck_assert_int_eq(rc, FOUND(cur[k] >= 0));
      if (cur[k] >= 0)
        expected[cur[k]]++;
      cur[k] = -1;
      break;
    case 2: /* load_or_store */
      rc = siprec_shmap_load_or_store(m, kb, kl, val(&t, nv), &prev);
      ck_assert_int_eq(rc, cur[k] >= 0);
      if (cur[k] < 0)
        cur[k] = (long)nv;
      ck_assert_ptr_eq(prev, val(&t, (size_t)cur[k]));
      break;
    case 3: /* load_and_delete: handed back */
      rc = siprec_shmap_load_and_delete(m, kb, kl, &prev);
      ck_assert_int_eq(rc, FOUND(cur[k] >= 0));
      if (cur[k] >= 0)
        ck_assert_ptr_eq(prev, val(&t, (size_t)cur[k]));
      cur[k] = -1;
      break;
    case 4: /* swap: handed back */
      rc = siprec_shmap_swap(m, kb, kl, val(&t, nv), &prev);
      ck_assert_int_eq(rc, cur[k] >= 0);
      if (cur[k] >= 0)
        ck_assert_ptr_eq(prev, val(&t, (size_t)cur[k]));
      else
        ck_assert_ptr_null(prev);
      cur[k] = (long)nv;
      break;
    case 5: /* CAS, right or wrong old value */
      if (cur[k] >= 0 && (rs & 1)) {
        ck_assert_int_eq(
          siprec_shmap_compare_and_swap(m, kb, kl, val(&t, (size_t)cur[k]), val(&t, nv)), 1);
        expected[cur[k]]++;
        cur[k] = (long)nv;
      } else {
        ck_assert_int_eq(siprec_shmap_compare_and_swap(m, kb, kl, val(&t, nv), val(&t, nv)),
                         cur[k] >= 0 ? 0 : SIPREC_ENOTFOUND);
      }
      break;
    case 6: /* CAD */
      if (cur[k] >= 0 && (rs & 1)) {
        ck_assert_int_eq(siprec_shmap_compare_and_delete(m, kb, kl, val(&t, (size_t)cur[k])),
                         1);
        expected[cur[k]]++;
        cur[k] = -1;
      } else {
        ck_assert_int_eq(siprec_shmap_compare_and_delete(m, kb, kl, val(&t, nv)), cur[k] >= 0 ? 0 : SIPREC_ENOTFOUND);
      }
      break;
    case 7: /* load */
      rc = siprec_shmap_load(m, kb, kl, &prev);
      ck_assert_int_eq(rc, FOUND(cur[k] >= 0));
      if (rc == 1)
        ck_assert_ptr_eq(prev, val(&t, (size_t)cur[k]));
      break;
    default: /* an occasional clear */
      if ((rs >> 40) % 64 == 0) {
        ck_assert_int_eq(siprec_shmap_clear(m), 0);
        for (int i = 0; i < NK; i++) {
          if (cur[i] >= 0)
            expected[cur[i]]++;
          cur[i] = -1;
        }
        ck_assert_uint_eq(siprec_shmap_len(m), 0);
      }
      break;
    }
    if (step % 1000 == 0) {
      for (size_t i = 0; i < next; i++)
        ck_assert_msg(t.destroyed[i] == expected[i], "step %d value %zu: %d != %d", step, i,
                      t.destroyed[i], expected[i]);
      size_t n = 0;
      for (int i = 0; i < NK; i++)
        n += cur[i] >= 0;
      ck_assert_uint_eq(siprec_shmap_len(m), n);
      ck_assert_uint_eq(sum_shard_lens(m), n);
    }
  }
  ck_assert_int_eq(siprec_shmap_clear(m), 0);
  for (int i = 0; i < NK; i++) {
    if (cur[i] >= 0)
      expected[cur[i]]++;
    cur[i] = -1;
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  /* Refill a little; free destroys the rest. */
  for (size_t i = 0; i < 50; i++) {
    size_t kl = make_key(kb, i);
    size_t nv = next++;
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, nv)), 0);
    expected[nv]++;
  }
  siprec_shmap_free(m);
  for (size_t i = 0; i < next; i++)
    ck_assert_msg(t.destroyed[i] == expected[i], "value %zu: %d != %d", i, t.destroyed[i],
                  expected[i]);
  ck_assert_int_eq(t.foreign_destroyed, 0);
  free(expected);
  free(cur);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_len_and_shard_lens)
{
  siprec_shmap *m = new_map(NULL, 8, NULL);
  size_t c[16];
  ck_assert_int_eq(siprec_shmap_shard_lens(m, c, 16), 8);
  for (int i = 0; i < 8; i++)
    ck_assert_uint_eq(c[i], 0);
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < 1000; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, NULL), 0);
    ck_assert_uint_eq(siprec_shmap_len(m), i + 1);
  }
  ck_assert_uint_eq(sum_shard_lens(m), 1000);
  /* Fewer counts than shards: only n written. */
  size_t few[3] = { 99, 99, 99 };
  ck_assert_int_eq(siprec_shmap_shard_lens(m, few, 2), 2);
  ck_assert_int_eq(siprec_shmap_shard_lens(m, c, 16), 8);
  ck_assert_uint_eq(few[0], c[0]);
  ck_assert_uint_eq(few[1], c[1]);
  ck_assert_uint_eq(few[2], 99);
  /* With 8 shards and 1000 keys every shard has some. */
  for (int i = 0; i < 8; i++) {
    ck_assert_uint_gt(c[i], 0);
    size_t e = 0, s = 0, ds = 0, dm = 0;
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, (unsigned)i, &e, &s, &ds, &dm), 0);
    ck_assert_uint_eq(e, c[i]);
  }
  for (size_t i = 0; i < 1000; i += 2) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_delete(m, kb, kl), 1);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 500);
  ck_assert_uint_eq(sum_shard_lens(m), 500);
  ck_assert_int_eq(siprec_shmap_clear(m), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  ck_assert_uint_eq(sum_shard_lens(m), 0);
  ck_assert_int_eq(siprec_shmap_clear(m), 0); /* clearing an empty map */
  siprec_shmap_free(m);
}
END_TEST

START_TEST(test_clear_destroys_all)
{
  tracker t;
  tracker_init(&t, 2000);
  siprec_shmap *m = new_map(&t, 0, NULL);
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < 1000; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, i)), 0);
  }
  ck_assert_int_eq(siprec_shmap_clear(m), 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  for (size_t i = 0; i < 1000; i++) {
    ck_assert_int_eq(destroyed(&t, i), 1);
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_load(m, kb, kl, NULL), SIPREC_ENOTFOUND);
  }
  size_t cnt = 0;
  ck_assert_int_eq(siprec_shmap_range(m, range_count_cb, &cnt), 0);
  ck_assert_uint_eq(cnt, 0);
  /* Usable afterwards. */
  for (size_t i = 0; i < 1000; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, 1000 + i)), 0);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 1000);
  siprec_shmap_free(m);
  for (size_t i = 0; i < 2000; i++)
    ck_assert_int_eq(destroyed(&t, i), 1);
  ck_assert_int_eq(t.total, 2000);
  tracker_fini(&t);
}
END_TEST


/* ---------------------------------------------------------------------- */
/* Range                                                                    */

typedef struct walk {
  siprec_shmap *m;
  tracker *t;
  size_t n;      /* keys 0..n-1 were in the map at the start */
  int *visits;   /* per key index, for indices < cap */
  size_t cap;
  long bad_key, bad_value, dead_value;
  size_t calls;
  int mode;
  int stop_at;
  int stop_value;
  size_t nested_calls;
  int nested_rc;
  int op_rc_bad;
} walk;

static void walk_init(walk *w, siprec_shmap *m, tracker *t, size_t n, size_t cap)
{
  memset(w, 0, sizeof *w);
  w->m = m;
  w->t = t;
  w->n = n;
  w->cap = cap;
  w->visits = calloc(cap, sizeof *w->visits);
  ck_assert_ptr_nonnull(w->visits);
}

static int nested_cb(const void *k, size_t l, void *v, void *user)
{
  walk *w = user;
  (void)v;
  long i = key_index(k, l);
  if (i < 0 || (size_t)i >= w->n)
    w->bad_key++;
  w->nested_calls++;
  return 0;
}

enum {
  WALK_PLAIN,
  WALK_DELETE_SELF,
  WALK_DELETE_PARTNER,
  WALK_STORE_NEW,
  WALK_OVERWRITE_SELF,
  WALK_NESTED,
  WALK_CLEAR,
  WALK_STOP,
};

static int walk_cb(const void *k, size_t l, void *v, void *user)
{
  walk *w = user;
  tracker *t = w->t;
  w->calls++;
  long i = key_index(k, l);
  if (i < 0 || (size_t)i >= w->cap) {
    w->bad_key++;
    return 0;
  }
  w->visits[i]++;
  /* The value is the one stored for this key (value id == key index in
   * these tests), and alive. */
  if (v != &t->destroyed[i])
    w->bad_value++;
  else if (t->destroyed[i] != 0)
    w->dead_value++;
  t->visiting[t->depth++] = v;
  unsigned char kb[KEY_MAX];
  size_t kl;
  int rc;
  switch (w->mode) {
  case WALK_DELETE_SELF:
    if (siprec_shmap_delete(w->m, k, l) != 1)
      w->op_rc_bad++;
    break;
  case WALK_DELETE_PARTNER:
    kl = make_key(kb, (size_t)i ^ 1);
    rc = siprec_shmap_delete(w->m, kb, kl);
    if (rc != 0 && rc != 1)
      w->op_rc_bad++;
    break;
  case WALK_STORE_NEW:
    if ((size_t)i < w->n) {
      kl = make_key(kb, w->n + (size_t)i);
      if (siprec_shmap_store(w->m, kb, kl, &t->destroyed[w->n + (size_t)i]) != 0)
        w->op_rc_bad++;
    }
    break;
  case WALK_OVERWRITE_SELF:
    /* Replace the visited value in three ways; the old value must stay
     * alive until the walk leaves the shard. */
    if (i % 3 == 0)
      rc = siprec_shmap_store(w->m, k, l, NULL);
    else if (i % 3 == 1)
      rc = siprec_shmap_compare_and_swap(w->m, k, l, v, NULL) == 1 ? 0 : -1;
    else
      rc = siprec_shmap_compare_and_delete(w->m, k, l, v) == 1 ? 0 : -1;
    if (rc != 0)
      w->op_rc_bad++;
    if (t->destroyed[i] != 0)
      w->dead_value++;
    break;
  case WALK_NESTED:
    if (w->calls == 1 || w->calls == w->n) {
      size_t before = w->nested_calls;
      w->nested_rc |= siprec_shmap_range(w->m, nested_cb, w);
      if (w->nested_calls - before != w->n)
        w->op_rc_bad++;
    }
    break;
  case WALK_CLEAR:
    if (w->calls == 1 && siprec_shmap_clear(w->m) != 0)
      w->op_rc_bad++;
    break;
  default:
    break;
  }
  /* Still alive after whatever the callback did. */
  if (t->destroyed[i] != 0)
    w->dead_value++;
  t->depth--;
  if (w->mode == WALK_STOP && (int)w->calls == w->stop_at)
    return w->stop_value;
  return 0;
}

static siprec_shmap *filled_map(tracker *t, size_t n, unsigned shards)
{
  siprec_shmap *m = new_map(t, shards, fixed_key);
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(t, i)), 0);
  }
  return m;
}

static void walk_check_common(const walk *w, const tracker *t)
{
  ck_assert_int_eq(w->bad_key, 0);
  ck_assert_int_eq(w->bad_value, 0);
  ck_assert_int_eq(w->dead_value, 0);
  ck_assert_int_eq(w->op_rc_bad, 0);
  ck_assert_int_eq(t->destroyed_while_visited, 0);
  ck_assert_int_eq(t->foreign_destroyed, 0);
}

START_TEST(test_range_plain)
{
  enum { N = 3000 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 0);
  walk w;
  walk_init(&w, m, &t, N, N);
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  ck_assert_uint_eq(w.calls, N);
  for (size_t i = 0; i < N; i++)
    ck_assert_int_eq(w.visits[i], 1);
  ck_assert_int_eq(t.total, 0);
  free(w.visits);

  /* Empty map: no calls. */
  siprec_shmap *e = new_map(NULL, 0, NULL);
  size_t cnt = 0;
  ck_assert_int_eq(siprec_shmap_range(e, range_count_cb, &cnt), 0);
  ck_assert_uint_eq(cnt, 0);
  siprec_shmap_free(e);

  siprec_shmap_free(m);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_stop)
{
  enum { N = 500 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 0);
  static const int stops[][2] = { { 10, 7 }, { 1, -100 }, { N, 1 }, { 250, 0x7fffffff } };
  for (size_t s = 0; s < sizeof stops / sizeof stops[0]; s++) {
    walk w;
    walk_init(&w, m, &t, N, N);
    w.mode = WALK_STOP;
    w.stop_at = stops[s][0];
    w.stop_value = stops[s][1];
    ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), stops[s][1]);
    ck_assert_uint_eq(w.calls, (size_t)stops[s][0]);
    walk_check_common(&w, &t);
    free(w.visits);
  }
  siprec_shmap_free(m);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_delete_self)
{
  enum { N = 2000 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 0);
  walk w;
  walk_init(&w, m, &t, N, N);
  w.mode = WALK_DELETE_SELF;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  for (size_t i = 0; i < N; i++) {
    ck_assert_int_eq(w.visits[i], 1);
    ck_assert_int_eq(destroyed(&t, i), 1);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  free(w.visits);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, N);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_delete_others)
{
  enum { N = 2000 };
  tracker t;
  tracker_init(&t, N);
  /* Few shards: partners often share the walked shard. */
  siprec_shmap *m = filled_map(&t, N, 2);
  walk w;
  walk_init(&w, m, &t, N, N);
  w.mode = WALK_DELETE_PARTNER;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  size_t left = 0;
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < N; i += 2) {
    /* At least one of each pair was visited (it was deleted only by its
     * partner's visit, and the first visit of a pair comes while both are
     * present); none twice. */
    ck_assert_int_le(w.visits[i], 1);
    ck_assert_int_le(w.visits[i + 1], 1);
    ck_assert_int_ge(w.visits[i] + w.visits[i + 1], 1);
    for (size_t j = i; j < i + 2; j++) {
      size_t kl = make_key(kb, j);
      int present = siprec_shmap_load(m, kb, kl, NULL) == 1;
      ck_assert_int_eq(present + destroyed(&t, j), 1);
      left += (size_t)present;
    }
  }
  ck_assert_uint_eq(siprec_shmap_len(m), left);
  ck_assert_uint_lt(left, N);
  free(w.visits);
  siprec_shmap_free(m);
  for (size_t i = 0; i < N; i++)
    ck_assert_int_eq(destroyed(&t, i), 1);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_store_new)
{
  enum { N = 2000 };
  tracker t;
  tracker_init(&t, 2 * N);
  siprec_shmap *m = filled_map(&t, N, 4);
  walk w;
  walk_init(&w, m, &t, N, 2 * N);
  w.mode = WALK_STORE_NEW;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  for (size_t i = 0; i < N; i++)
    ck_assert_int_eq(w.visits[i], 1);
  for (size_t i = N; i < 2 * N; i++)
    ck_assert_int_le(w.visits[i], 1);
  ck_assert_uint_eq(siprec_shmap_len(m), 2 * N);
  ck_assert_int_eq(t.total, 0);
  free(w.visits);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, 2 * N);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_overwrite_self)
{
  enum { N = 1500 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 4);
  walk w;
  walk_init(&w, m, &t, N, N);
  w.mode = WALK_OVERWRITE_SELF;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  for (size_t i = 0; i < N; i++) {
    ck_assert_int_eq(w.visits[i], 1);
    ck_assert_int_eq(destroyed(&t, i), 1); /* destroyed once the walk is over */
  }
  ck_assert_uint_eq(siprec_shmap_len(m), N - N / 3);
  free(w.visits);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.null_destroyed, N - N / 3);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_nested)
{
  enum { N = 1000 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 0);
  walk w;
  walk_init(&w, m, &t, N, N);
  w.mode = WALK_NESTED;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  ck_assert_int_eq(w.nested_rc, 0);
  ck_assert_uint_eq(w.nested_calls, 2 * N);
  for (size_t i = 0; i < N; i++)
    ck_assert_int_eq(w.visits[i], 1);
  free(w.visits);
  siprec_shmap_free(m);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_range_clear_inside)
{
  enum { N = 2000 };
  tracker t;
  tracker_init(&t, N);
  siprec_shmap *m = filled_map(&t, N, 8);
  size_t lens[8];
  ck_assert_int_eq(siprec_shmap_shard_lens(m, lens, 8), 8);
  size_t first = 0;
  while (first < 8 && lens[first] == 0)
    first++;
  ck_assert_uint_lt(first, 8);
  walk w;
  walk_init(&w, m, &t, N, N);
  w.mode = WALK_CLEAR;
  ck_assert_int_eq(siprec_shmap_range(m, walk_cb, &w), 0);
  walk_check_common(&w, &t);
  /* The walked shard was copied before the clear: all its entries are
   * visited, alive; later shards are empty when reached. */
  ck_assert_uint_eq(w.calls, lens[first]);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  for (size_t i = 0; i < N; i++)
    ck_assert_int_eq(destroyed(&t, i), 1);
  free(w.visits);
  siprec_shmap_free(m);
  ck_assert_int_eq(t.total, N);
  tracker_fini(&t);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* inspect / update                                                         */

typedef struct cbctx {
  tracker *t;
  siprec_shmap *m;
  const void *want_key;
  size_t want_len;
  void *seen_value;
  void *replace_with;
  int do_replace;
  int calls;
  int key_ok;
  int ret;
  int rcs[16];
  int nrcs;
  size_t len_inside;
} cbctx;

static int insp_cb(const void *k, size_t l, void *v, void *user)
{
  cbctx *c = user;
  c->calls++;
  c->seen_value = v;
  c->key_ok = l == c->want_len && (l == 0 || memcmp(k, c->want_key, l) == 0);
  return c->ret;
}

static int upd_cb(const void *k, size_t l, void **v, void *user)
{
  cbctx *c = user;
  c->calls++;
  c->seen_value = *v;
  c->key_ok = l == c->want_len && (l == 0 || memcmp(k, c->want_key, l) == 0);
  if (c->t)
    c->t->in_locked_cb = 1;
  if (c->do_replace)
    *v = c->replace_with;
  if (c->t)
    c->t->in_locked_cb = 0;
  return c->ret;
}

START_TEST(test_inspect_update)
{
  tracker t;
  tracker_init(&t, 8);
  siprec_shmap *m = new_map(&t, 0, NULL);
  /* The destructor calls the map: under the shard's lock that would fail
   * with EBUSY, so this checks the old value is destroyed after unlocking. */
  t.call_map = m;
  cbctx c;
  memset(&c, 0, sizeof c);
  c.t = &t;
  c.want_key = "key";
  c.want_len = 3;
  c.ret = 42;
  /* Absent key: ENOTFOUND, callback not called. */
  ck_assert_int_eq(siprec_shmap_inspect(m, "key", 3, insp_cb, &c), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, upd_cb, &c), SIPREC_ENOTFOUND);
  ck_assert_int_eq(c.calls, 0);
  ck_assert_uint_eq(siprec_shmap_len(m), 0);

  ck_assert_int_eq(siprec_shmap_store(m, "key", 3, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_inspect(m, "key", 3, insp_cb, &c), 42);
  ck_assert_int_eq(c.calls, 1);
  ck_assert_ptr_eq(c.seen_value, val(&t, 0));
  ck_assert(c.key_ok);
  c.ret = 0;
  ck_assert_int_eq(siprec_shmap_inspect(m, "key", 3, insp_cb, &c), 0);

  /* update without replacing: nothing destroyed. */
  c.ret = 7;
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, upd_cb, &c), 7);
  ck_assert_ptr_eq(c.seen_value, val(&t, 0));
  ck_assert(c.key_ok);
  ck_assert_int_eq(t.total, 0);
  /* update replacing: the old value is destroyed, after the callback. */
  c.do_replace = 1;
  c.replace_with = val(&t, 1);
  c.ret = 3;
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, upd_cb, &c), 3);
  ck_assert_int_eq(destroyed(&t, 0), 1);
  ck_assert_int_eq(destroyed(&t, 1), 0);
  ck_assert_int_eq(t.destroyed_under_lock, 0);
  void *v;
  ck_assert_int_eq(siprec_shmap_load(m, "key", 3, &v), 1);
  ck_assert_ptr_eq(v, val(&t, 1));
  /* Replacing by the same value is not a replacement. */
  c.replace_with = val(&t, 1);
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, upd_cb, &c), 3);
  ck_assert_int_eq(destroyed(&t, 1), 0);
  /* Replace by NULL. */
  c.replace_with = NULL;
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, upd_cb, &c), 3);
  ck_assert_int_eq(destroyed(&t, 1), 1);
  ck_assert_int_eq(siprec_shmap_load(m, "key", 3, &v), 1);
  ck_assert_ptr_null(v);

  /* Empty key and a long key. */
  c.want_key = "";
  c.want_len = 0;
  c.do_replace = 0;
  ck_assert_int_eq(siprec_shmap_store(m, NULL, 0, val(&t, 2)), 0);
  ck_assert_int_eq(siprec_shmap_inspect(m, NULL, 0, insp_cb, &c), 3);
  ck_assert(c.key_ok);
  ck_assert_ptr_eq(c.seen_value, val(&t, 2));
  unsigned char big[300];
  memset(big, 'q', sizeof big);
  c.want_key = big;
  c.want_len = sizeof big;
  ck_assert_int_eq(siprec_shmap_store(m, big, sizeof big, val(&t, 3)), 0);
  c.do_replace = 1;
  c.replace_with = val(&t, 4);
  ck_assert_int_eq(siprec_shmap_update(m, big, sizeof big, upd_cb, &c), 3);
  ck_assert(c.key_ok);
  ck_assert_int_eq(destroyed(&t, 3), 1);
  ck_assert_int_eq(t.dtor_map_calls, 3);
  ck_assert_int_eq(t.dtor_map_bad, 0);
  t.call_map = NULL;
  siprec_shmap_free(m);
  ck_assert_int_eq(destroyed(&t, 2), 1);
  ck_assert_int_eq(destroyed(&t, 4), 1);
  tracker_fini(&t);
}
END_TEST

static int noop_range(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  (void)user;
  return 0;
}

/* Calls every locking function of the map from inside a callback. */
static void call_everything(cbctx *c)
{
  siprec_shmap *m = c->m;
  void *v = NULL;
  int n = 0;
  c->rcs[n++] = siprec_shmap_load(m, "other", 5, &v);
  c->rcs[n++] = siprec_shmap_store(m, "other", 5, NULL);
  c->rcs[n++] = siprec_shmap_load_or_store(m, "other", 5, NULL, &v);
  c->rcs[n++] = siprec_shmap_load_and_delete(m, "key", 3, &v);
  c->rcs[n++] = siprec_shmap_delete(m, "key", 3);
  c->rcs[n++] = siprec_shmap_swap(m, "key", 3, NULL, &v);
  c->rcs[n++] = siprec_shmap_compare_and_swap(m, "key", 3, c->seen_value, NULL);
  c->rcs[n++] = siprec_shmap_compare_and_delete(m, "key", 3, c->seen_value);
  c->rcs[n++] = siprec_shmap_range(m, noop_range, NULL);
  c->rcs[n++] = siprec_shmap_clear(m);
  c->rcs[n++] = siprec_shmap_inspect(m, "key", 3, inspect_ret5, NULL);
  c->rcs[n++] = siprec_shmap_update(m, "key", 3, update_ret5, NULL);
  c->rcs[n++] = siprec_shmap_shard_probe_stats(m, 0, NULL, NULL, NULL, NULL);
  c->nrcs = n;
  /* The lock-free ones work. */
  c->len_inside = siprec_shmap_len(m);
}

static int busy_inspect(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  cbctx *c = user;
  c->seen_value = v;
  c->calls++;
  call_everything(c);
  return 11;
}

static int busy_update(const void *k, size_t l, void **v, void *user)
{
  (void)k;
  (void)l;
  cbctx *c = user;
  c->seen_value = *v;
  c->calls++;
  call_everything(c);
  return 12;
}

static int busy_equal(const void *stored, const void *expected, void *user)
{
  cbctx *c = user;
  c->seen_value = (void *)(uintptr_t)stored;
  c->calls++;
  call_everything(c);
  return stored == expected;
}

static void assert_all_busy(const cbctx *c, const char *where)
{
  ck_assert_int_eq(c->nrcs, 13);
  for (int i = 0; i < c->nrcs; i++)
    ck_assert_msg(c->rcs[i] == SIPREC_EBUSY, "%s: call %d returned %d, not SIPREC_EBUSY", where,
                  i, c->rcs[i]);
}

static void assert_unchanged(siprec_shmap *m, tracker *t, void *value)
{
  void *v = NULL;
  ck_assert_int_eq(siprec_shmap_load(m, "key", 3, &v), 1);
  ck_assert_ptr_eq(v, value);
  ck_assert_int_eq(siprec_shmap_load(m, "other", 5, NULL), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(siprec_shmap_len(m), 2);
  ck_assert_int_eq(t->total, 0);
}

START_TEST(test_ebusy_from_callbacks)
{
  tracker t;
  tracker_init(&t, 8);
  cbctx c;
  memset(&c, 0, sizeof c);
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, track_free, &t), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_equal(o, busy_equal, &c), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);
  c.m = m;
  ck_assert_int_eq(siprec_shmap_store(m, "key", 3, val(&t, 0)), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "zzz", 3, val(&t, 1)), 0);

  ck_assert_int_eq(siprec_shmap_inspect(m, "key", 3, busy_inspect, &c), 11);
  assert_all_busy(&c, "inspect");
  ck_assert_uint_eq(c.len_inside, 2);
  assert_unchanged(m, &t, val(&t, 0));

  memset(c.rcs, 0, sizeof c.rcs);
  c.nrcs = 0;
  ck_assert_int_eq(siprec_shmap_update(m, "key", 3, busy_update, &c), 12);
  assert_all_busy(&c, "update");
  ck_assert_uint_eq(c.len_inside, 2);
  assert_unchanged(m, &t, val(&t, 0));

  /* The equality callback runs under the write lock too. */
  memset(c.rcs, 0, sizeof c.rcs);
  c.nrcs = 0;
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "key", 3, val(&t, 5), val(&t, 6)), 0);
  assert_all_busy(&c, "equal (CAS)");
  assert_unchanged(m, &t, val(&t, 0));
  memset(c.rcs, 0, sizeof c.rcs);
  c.nrcs = 0;
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "key", 3, val(&t, 5)), 0);
  assert_all_busy(&c, "equal (CAD)");
  assert_unchanged(m, &t, val(&t, 0));

  /* After the callbacks the thread is no longer "inside": calls work. */
  ck_assert_int_eq(siprec_shmap_store(m, "other", 5, NULL), 0);
  ck_assert_int_eq(siprec_shmap_delete(m, "other", 5), 1);
  siprec_shmap_free(m);
  tracker_fini(&t);
}
END_TEST

typedef struct two_maps {
  siprec_shmap *other;
  int rc_store, rc_load;
} two_maps;

static int insp_other_map(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  two_maps *tm = user;
  tm->rc_store = siprec_shmap_store(tm->other, "x", 1, NULL);
  tm->rc_load = siprec_shmap_load(tm->other, "x", 1, NULL);
  return 0;
}

START_TEST(test_callback_may_call_other_map)
{
  siprec_shmap *a = new_map(NULL, 0, NULL);
  siprec_shmap *b = new_map(NULL, 0, NULL);
  ck_assert_int_eq(siprec_shmap_store(a, "k", 1, NULL), 0);
  two_maps tm = { b, -99, -99 };
  ck_assert_int_eq(siprec_shmap_inspect(a, "k", 1, insp_other_map, &tm), 0);
  ck_assert_int_eq(tm.rc_store, 0);
  ck_assert_int_eq(tm.rc_load, 1);
  siprec_shmap_free(a);
  siprec_shmap_free(b);
}
END_TEST

START_TEST(test_destructor_may_call_map)
{
  tracker t;
  tracker_init(&t, 64);
  siprec_shmap *m = new_map(&t, 2, fixed_key);
  t.call_map = m;
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < 20; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, i)), 0);
  }
  size_t kl = make_key(kb, 0);
  ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, 20)), 0); /* overwrite */
  kl = make_key(kb, 1);
  ck_assert_int_eq(siprec_shmap_delete(m, kb, kl), 1);
  kl = make_key(kb, 2);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, kb, kl, val(&t, 2), val(&t, 21)), 1);
  kl = make_key(kb, 3);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, kb, kl, val(&t, 3)), 1);
  ck_assert_int_eq(t.dtor_map_calls, 4);
  ck_assert_int_eq(t.dtor_map_bad, 0);
  /* update replacing the value */
  cbctx c;
  memset(&c, 0, sizeof c);
  c.do_replace = 1;
  c.replace_with = val(&t, 22);
  kl = make_key(kb, 4);
  c.want_key = kb;
  c.want_len = kl;
  ck_assert_int_eq(siprec_shmap_update(m, kb, kl, upd_cb, &c), 0);
  ck_assert_int_eq(destroyed(&t, 4), 1);
  ck_assert_int_eq(t.dtor_map_calls, 5);
  ck_assert_int_eq(t.dtor_map_bad, 0);
  ck_assert_int_eq(siprec_shmap_clear(m), 0);
  ck_assert_int_eq(t.dtor_map_bad, 0);
  ck_assert_int_gt(t.dtor_map_calls, 4);
  t.call_map = NULL; /* not during free: free must be the last call */
  siprec_shmap_free(m);
  ck_assert_int_eq(t.foreign_destroyed, 0);
  tracker_fini(&t);

  /* Values retired during a walk are destroyed when it leaves the shard,
   * with no lock held either. */
  tracker t2;
  tracker_init(&t2, 64);
  siprec_shmap *m2 = filled_map(&t2, 40, 2);
  t2.call_map = m2;
  walk w;
  walk_init(&w, m2, &t2, 40, 64);
  w.mode = WALK_DELETE_SELF;
  ck_assert_int_eq(siprec_shmap_range(m2, walk_cb, &w), 0);
  walk_check_common(&w, &t2);
  ck_assert_int_eq(t2.dtor_map_calls, 40);
  ck_assert_int_eq(t2.dtor_map_bad, 0);
  free(w.visits);
  t2.call_map = NULL;
  siprec_shmap_free(m2);
  for (size_t i = 0; i < 40; i++)
    ck_assert_int_eq(destroyed(&t2, i), 1);
  tracker_fini(&t2);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Growth, shrink, probe statistics, hash key                               */

typedef struct stats {
  size_t entries, slots, dist_sum, dist_max;
} stats;

static stats total_stats(siprec_shmap *m)
{
  stats s = { 0, 0, 0, 0 };
  unsigned n = siprec_shmap_shard_count(m);
  for (unsigned i = 0; i < n; i++) {
    size_t e = 99, sl = 99, ds = 99, dm = 99;
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, i, &e, &sl, &ds, &dm), 0);
    ck_assert_uint_le(e, sl);
    ck_assert(sl == 0 || (sl & (sl - 1)) == 0);
    ck_assert_uint_le(dm, ds);
    if (e == 0)
      ck_assert_uint_eq(ds, 0);
    s.entries += e;
    s.slots += sl;
    s.dist_sum += ds;
    if (dm > s.dist_max)
      s.dist_max = dm;
  }
  return s;
}

START_TEST(test_many_keys_grow_shrink)
{
  const size_t n = under_valgrind() ? 50000 : 200000;
  tracker t;
  tracker_init(&t, n);
  siprec_shmap *m = new_map(&t, 0, NULL);
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, val(&t, i)), 0);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), n);
  stats s = total_stats(m);
  ck_assert_uint_eq(s.entries, n);
  ck_assert_uint_ge(s.slots, n);
  ck_assert_uint_le(s.dist_sum, 4 * n); /* sanity: mean probe distance stays small */
  for (size_t i = 0; i < n; i++) {
    size_t kl = make_key(kb, i);
    void *v = NULL;
    ck_assert_int_eq(siprec_shmap_load(m, kb, kl, &v), 1);
    ck_assert_ptr_eq(v, val(&t, i));
  }
  /* Delete all but every 1000th key, in an order unrelated to insertion. */
  size_t kept = 0;
  for (size_t j = 0; j < n; j++) {
    size_t i = (j * 7919) % n; /* 7919 is prime and does not divide n */
    size_t kl = make_key(kb, i);
    if (i % 1000 == 0) {
      kept++;
      continue;
    }
    ck_assert_int_eq(siprec_shmap_delete(m, kb, kl), 1);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), kept);
  stats s2 = total_stats(m);
  ck_assert_uint_eq(s2.entries, kept);
  ck_assert_uint_lt(s2.slots, s.slots / 16); /* the tables shrank */
  for (size_t i = 0; i < n; i++) {
    size_t kl = make_key(kb, i);
    void *v = NULL;
    int rc = siprec_shmap_load(m, kb, kl, &v);
    ck_assert_int_eq(rc, FOUND(i % 1000 == 0));
    if (rc == 1)
      ck_assert_ptr_eq(v, val(&t, i));
    ck_assert_int_eq(destroyed(&t, i), i % 1000 != 0);
  }
  /* Delete the rest: empty, and still correct afterwards. */
  for (size_t i = 0; i < n; i += 1000) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_delete(m, kb, kl), 1);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 0);
  stats s3 = total_stats(m);
  ck_assert_uint_eq(s3.entries, 0);
  ck_assert_uint_le(s3.slots, 64 * siprec_shmap_shard_count(m));
  for (size_t i = 0; i < 1000; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_load(m, kb, kl, NULL), SIPREC_ENOTFOUND);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, NULL), 0);
  }
  ck_assert_uint_eq(siprec_shmap_len(m), 1000);
  for (size_t i = 0; i < 1000; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_load(m, kb, kl, NULL), 1);
  }
  siprec_shmap_free(m);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_eq(destroyed(&t, i), 1);
  ck_assert_int_eq(t.null_destroyed, 1000);
  tracker_fini(&t);
}
END_TEST

START_TEST(test_probe_stats_args)
{
  siprec_shmap *m = new_map(NULL, 4, fixed_key);
  size_t e = 99, s = 99, ds = 99, dm = 99;
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, 4, &e, &s, &ds, &dm), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, 0xffffffffu, &e, &s, &ds, &dm),
                   SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_shard_probe_stats(NULL, 0, &e, &s, &ds, &dm), SIPREC_EINVAL);
  for (unsigned i = 0; i < 4; i++) {
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, i, &e, &s, &ds, &dm), 0);
    ck_assert_uint_eq(e, 0);
    ck_assert_uint_eq(ds, 0);
    ck_assert_uint_eq(dm, 0);
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, i, NULL, NULL, NULL, NULL), 0);
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m, i, NULL, &s, NULL, &dm), 0);
  }
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < 100; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, NULL), 0);
  }
  stats st = total_stats(m);
  ck_assert_uint_eq(st.entries, 100);
  ck_assert_uint_ge(st.slots, 100);
  siprec_shmap_free(m);
}
END_TEST

static void fill_plain(siprec_shmap *m, size_t n)
{
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < n; i++) {
    size_t kl = make_key(kb, i);
    ck_assert_int_eq(siprec_shmap_store(m, kb, kl, NULL), 0);
  }
}

START_TEST(test_hash_key_determinism)
{
  enum { N = 2000, S = 32 };
  size_t a[S], b[S], c[S], d[S];
  siprec_shmap *m1 = new_map(NULL, S, fixed_key);
  siprec_shmap *m2 = new_map(NULL, S, fixed_key);
  uint8_t other_key[16];
  memcpy(other_key, fixed_key, 16);
  other_key[15] ^= 1;
  siprec_shmap *m3 = new_map(NULL, S, other_key);
  siprec_shmap *m4 = new_map(NULL, S, NULL); /* random key */
  fill_plain(m1, N);
  fill_plain(m2, N);
  fill_plain(m3, N);
  fill_plain(m4, N);
  ck_assert_int_eq(siprec_shmap_shard_lens(m1, a, S), S);
  ck_assert_int_eq(siprec_shmap_shard_lens(m2, b, S), S);
  ck_assert_int_eq(siprec_shmap_shard_lens(m3, c, S), S);
  ck_assert_int_eq(siprec_shmap_shard_lens(m4, d, S), S);
  ck_assert_mem_eq(a, b, sizeof a);
  for (unsigned i = 0; i < S; i++) {
    size_t e1, s1, ds1, dm1, e2, s2, ds2, dm2;
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m1, i, &e1, &s1, &ds1, &dm1), 0);
    ck_assert_int_eq(siprec_shmap_shard_probe_stats(m2, i, &e2, &s2, &ds2, &dm2), 0);
    ck_assert_uint_eq(e1, e2);
    ck_assert_uint_eq(s1, s2);
    ck_assert_uint_eq(ds1, ds2);
    ck_assert_uint_eq(dm1, dm2);
  }
  /* A different key (one bit) or a random one places keys differently:
   * with 2000 keys in 32 shards, equal counts by chance are impossible in
   * practice. */
  ck_assert(memcmp(a, c, sizeof a) != 0);
  ck_assert(memcmp(a, d, sizeof a) != 0);
  siprec_shmap_free(m1);
  siprec_shmap_free(m2);
  siprec_shmap_free(m3);
  siprec_shmap_free(m4);

  /* Two maps with random keys differ from each other too. */
  siprec_shmap *r1 = new_map(NULL, S, NULL);
  siprec_shmap *r2 = new_map(NULL, S, NULL);
  fill_plain(r1, N);
  fill_plain(r2, N);
  ck_assert_int_eq(siprec_shmap_shard_lens(r1, a, S), S);
  ck_assert_int_eq(siprec_shmap_shard_lens(r2, b, S), S);
  ck_assert(memcmp(a, b, sizeof a) != 0);
  siprec_shmap_free(r1);
  siprec_shmap_free(r2);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Threads                                                                  */

typedef struct atomic_tracker {
  size_t n;
  _Atomic int *destroyed;
  _Atomic long total;
} atomic_tracker;

static void atomic_free(void *value, void *user)
{
  atomic_tracker *t = user;
  _Atomic int *p = value;
  if (p >= t->destroyed && p < t->destroyed + t->n)
    atomic_fetch_add(p, 1);
  atomic_fetch_add(&t->total, 1);
}

static siprec_shmap *new_atomic_map(atomic_tracker *t, unsigned shards)
{
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, atomic_free, t), 0);
  if (shards)
    ck_assert_int_eq(siprec_shmap_options_set_shards(o, shards), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);
  return m;
}

enum { CAS_THREADS = 8 };

typedef struct cas_race {
  siprec_shmap *m;
  atomic_tracker *t;
  pthread_barrier_t bar;
  int rounds;
  void *current;
  void *winner_value;
  _Atomic int winners;
  _Atomic int errors;
} cas_race;

typedef struct cas_arg {
  cas_race *r;
  int id;
} cas_arg;

static void *cas_thread(void *arg)
{
  cas_arg *a = arg;
  cas_race *r = a->r;
  for (int round = 0; round < r->rounds; round++) {
    pthread_barrier_wait(&r->bar);
    void *expected = r->current;
    void *mine = (void *)&r->t->destroyed[1 + (size_t)round * CAS_THREADS + (size_t)a->id];
    int rc = siprec_shmap_compare_and_swap(r->m, "race", 4, expected, mine);
    if (rc == 1) {
      atomic_fetch_add(&r->winners, 1);
      r->winner_value = mine;
    } else if (rc != 0) {
      atomic_fetch_add(&r->errors, 1);
    }
    pthread_barrier_wait(&r->bar);
    if (a->id == 0) {
      void *v = NULL;
      if (atomic_load(&r->winners) != 1)
        atomic_fetch_add(&r->errors, 1);
      if (siprec_shmap_load(r->m, "race", 4, &v) != 1 || v != r->winner_value)
        atomic_fetch_add(&r->errors, 1);
      /* The previous value was destroyed exactly once. */
      if (atomic_load((_Atomic int *)expected) != 1)
        atomic_fetch_add(&r->errors, 1);
      r->current = v;
      atomic_store(&r->winners, 0);
    }
    pthread_barrier_wait(&r->bar);
  }
  return NULL;
}

START_TEST(test_threads_cas_race)
{
  const int rounds = under_valgrind() ? 200 : 2000;
  atomic_tracker t;
  t.n = 1 + (size_t)rounds * CAS_THREADS;
  t.destroyed = calloc(t.n, sizeof *t.destroyed);
  ck_assert_ptr_nonnull(t.destroyed);
  atomic_init(&t.total, 0);
  cas_race r;
  r.m = new_atomic_map(&t, 4);
  r.t = &t;
  r.rounds = rounds;
  r.current = (void *)&t.destroyed[0];
  r.winner_value = NULL;
  atomic_init(&r.winners, 0);
  atomic_init(&r.errors, 0);
  ck_assert_int_eq(siprec_shmap_store(r.m, "race", 4, r.current), 0);
  ck_assert_int_eq(pthread_barrier_init(&r.bar, NULL, CAS_THREADS), 0);
  pthread_t th[CAS_THREADS];
  cas_arg args[CAS_THREADS];
  for (int i = 0; i < CAS_THREADS; i++) {
    args[i].r = &r;
    args[i].id = i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, cas_thread, &args[i]), 0);
  }
  for (int i = 0; i < CAS_THREADS; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&r.bar);
  ck_assert_int_eq(atomic_load(&r.errors), 0);
  ck_assert_int_eq(atomic_load(&t.total), rounds);
  siprec_shmap_free(r.m);
  ck_assert_int_eq(atomic_load(&t.total), rounds + 1);
  for (size_t i = 0; i < t.n; i++) {
    int d = atomic_load(&t.destroyed[i]);
    ck_assert_int_le(d, 1);
  }
  free((void *)t.destroyed);
}
END_TEST

enum { CU_WORKERS = 4, CU_KEYS = 256 };

typedef struct clear_use {
  siprec_shmap *m;
  atomic_tracker *t;
  _Atomic int *entered; /* per value: stored into the map */
  _Atomic int *handed;  /* per value: handed back by load_and_delete/swap */
  size_t ops;
  _Atomic int workers_left;
  _Atomic long clears, walks, walked;
  _Atomic int errors;
  _Atomic int dead_in_walk;
} clear_use;

typedef struct cu_arg {
  clear_use *c;
  int id;
} cu_arg;

static void mark_handed(clear_use *c, void *v)
{
  _Atomic int *p = v;
  if (p >= c->t->destroyed && p < c->t->destroyed + c->t->n)
    atomic_fetch_add(&c->handed[p - c->t->destroyed], 1);
  else
    atomic_fetch_add(&c->errors, 1);
}

static void *cu_worker(void *arg)
{
  cu_arg *a = arg;
  clear_use *c = a->c;
  uint64_t rs = 0x9e3779b97f4a7c15ULL * (uint64_t)(a->id + 1);
  for (size_t i = 0; i < c->ops; i++) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    char key[16];
    int kl = snprintf(key, sizeof key, "c%u", (unsigned)(rs % CU_KEYS));
    size_t vid = (size_t)a->id * c->ops + i;
    void *nv = (void *)&c->t->destroyed[vid];
    void *out = NULL;
    int rc;
    switch ((rs >> 32) % 6) {
    case 0:
      rc = siprec_shmap_store(c->m, key, (size_t)kl, nv);
      if (rc == 0)
        atomic_store(&c->entered[vid], 1);
      else
        atomic_fetch_add(&c->errors, 1);
      break;
    case 1:
      rc = siprec_shmap_load(c->m, key, (size_t)kl, &out);
      if (rc < 0 && rc != SIPREC_ENOTFOUND)
        atomic_fetch_add(&c->errors, 1);
      break;
    case 2:
      rc = siprec_shmap_delete(c->m, key, (size_t)kl);
      if (rc < 0 && rc != SIPREC_ENOTFOUND)
        atomic_fetch_add(&c->errors, 1);
      break;
    case 3:
      rc = siprec_shmap_load_or_store(c->m, key, (size_t)kl, nv, &out);
      if (rc == 0)
        atomic_store(&c->entered[vid], 1);
      else if (rc != 1)
        atomic_fetch_add(&c->errors, 1);
      break;
    case 4:
      rc = siprec_shmap_load_and_delete(c->m, key, (size_t)kl, &out);
      if (rc == 1)
        mark_handed(c, out);
      else if (rc != SIPREC_ENOTFOUND)
        atomic_fetch_add(&c->errors, 1);
      break;
    default:
      rc = siprec_shmap_swap(c->m, key, (size_t)kl, nv, &out);
      if (rc < 0) {
        atomic_fetch_add(&c->errors, 1);
      } else {
        atomic_store(&c->entered[vid], 1);
        if (rc == 1)
          mark_handed(c, out);
      }
      break;
    }
  }
  atomic_fetch_sub(&c->workers_left, 1);
  return NULL;
}

static void *cu_clearer(void *arg)
{
  clear_use *c = arg;
  do {
    if (siprec_shmap_clear(c->m) != 0)
      atomic_fetch_add(&c->errors, 1);
    atomic_fetch_add(&c->clears, 1);
  } while (atomic_load(&c->workers_left) > 0);
  return NULL;
}

static int cu_walk_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  clear_use *c = user;
  /* Values handed to a walk are alive during the callback. */
  if (atomic_load((_Atomic int *)v) != 0)
    atomic_fetch_add(&c->dead_in_walk, 1);
  atomic_fetch_add(&c->walked, 1);
  if (atomic_load((_Atomic int *)v) != 0)
    atomic_fetch_add(&c->dead_in_walk, 1);
  return 0;
}

static void *cu_walker(void *arg)
{
  clear_use *c = arg;
  do {
    if (siprec_shmap_range(c->m, cu_walk_cb, c) != 0)
      atomic_fetch_add(&c->errors, 1);
    atomic_fetch_add(&c->walks, 1);
  } while (atomic_load(&c->workers_left) > 0);
  return NULL;
}

START_TEST(test_threads_clear_during_use)
{
  clear_use c;
  memset(&c, 0, sizeof c);
  c.ops = under_valgrind() ? 3000 : 40000;
  atomic_tracker t;
  t.n = CU_WORKERS * c.ops;
  t.destroyed = calloc(t.n, sizeof *t.destroyed);
  c.entered = calloc(t.n, sizeof *c.entered);
  c.handed = calloc(t.n, sizeof *c.handed);
  ck_assert_ptr_nonnull(t.destroyed);
  ck_assert_ptr_nonnull(c.entered);
  ck_assert_ptr_nonnull(c.handed);
  atomic_init(&t.total, 0);
  c.t = &t;
  c.m = new_atomic_map(&t, 4);
  atomic_init(&c.workers_left, CU_WORKERS);
  pthread_t w[CU_WORKERS], cl, wk;
  cu_arg args[CU_WORKERS];
  ck_assert_int_eq(pthread_create(&cl, NULL, cu_clearer, &c), 0);
  ck_assert_int_eq(pthread_create(&wk, NULL, cu_walker, &c), 0);
  for (int i = 0; i < CU_WORKERS; i++) {
    args[i].c = &c;
    args[i].id = i;
    ck_assert_int_eq(pthread_create(&w[i], NULL, cu_worker, &args[i]), 0);
  }
  for (int i = 0; i < CU_WORKERS; i++)
    pthread_join(w[i], NULL);
  pthread_join(cl, NULL);
  pthread_join(wk, NULL);
  ck_assert_int_eq(atomic_load(&c.errors), 0);
  ck_assert_int_eq(atomic_load(&c.dead_in_walk), 0);
  ck_assert_int_gt(atomic_load(&c.clears), 0);
  ck_assert_int_eq(siprec_shmap_clear(c.m), 0);
  ck_assert_uint_eq(siprec_shmap_len(c.m), 0);
  ck_assert_uint_eq(sum_shard_lens(c.m), 0);
  /* Every value that entered the map left it exactly once, destroyed or
   * handed back; the others were never destroyed. */
  long left = 0;
  for (size_t i = 0; i < t.n; i++) {
    int d = atomic_load(&t.destroyed[i]), h = atomic_load(&c.handed[i]);
    int e = atomic_load(&c.entered[i]);
    ck_assert_msg(d + h == e, "value %zu: entered %d destroyed %d handed back %d", i, e, d, h);
    left += d;
  }
  ck_assert_int_eq(atomic_load(&t.total), left);
  siprec_shmap_free(c.m);
  ck_assert_int_eq(atomic_load(&t.total), left);
  free((void *)t.destroyed);
  free((void *)c.entered);
  free((void *)c.handed);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocation failure                                                       */

enum { OOM_KEYS = 160, OOM_VALS = 4096 };

typedef struct oom_ref {
  failalloc *fa;
  siprec_shmap *m;
  tracker t;
  long cur[OOM_KEYS]; /* value id in the map, -1 absent */
  int expected[OOM_VALS];
  size_t next_val;
  int in_walk;
  size_t walk_visits;
  int walk_mode;
} oom_ref;

static size_t ref_len(const oom_ref *r)
{
  size_t n = 0;
  for (int i = 0; i < OOM_KEYS; i++)
    n += r->cur[i] >= 0;
  return n;
}

/* The map holds exactly the reference's content; destructor counts agree
 * (during a walk, values retired from walked shards may still be pending). */
static void oom_verify(oom_ref *r)
{
  ck_assert_uint_eq(siprec_shmap_len(r->m), ref_len(r));
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < OOM_KEYS; i++) {
    size_t kl = make_key(kb, i);
    void *v = NULL;
    int rc = siprec_shmap_load(r->m, kb, kl, &v);
    ck_assert_msg(rc == FOUND(r->cur[i] >= 0), "key %zu: load %d, reference %ld", i, rc, r->cur[i]);
    if (rc == 1)
      ck_assert_ptr_eq(v, val(&r->t, (size_t)r->cur[i]));
  }
  for (size_t i = 0; i < r->next_val; i++) {
    if (r->in_walk)
      ck_assert_msg(r->t.destroyed[i] <= r->expected[i], "value %zu destroyed %d > %d", i,
                    r->t.destroyed[i], r->expected[i]);
    else
      ck_assert_msg(r->t.destroyed[i] == r->expected[i], "value %zu destroyed %d != %d", i,
                    r->t.destroyed[i], r->expected[i]);
  }
}

/* Run `call` until it does not fail with ENOMEM; each failure must be an
 * injected one and must have changed nothing. */
#define OOM_CALL(r, rc, call)                                                             \
  do {                                                                                    \
    for (;;) {                                                                            \
      long f0_ = (r)->fa->failures;                                                       \
      (rc) = (call);                                                                      \
      if ((rc) != SIPREC_ENOMEM)                                                          \
        break;                                                                            \
      ck_assert_msg((r)->fa->failures > f0_, "ENOMEM without an allocation failure: %s", \
                    #call);                                                               \
      if ((r)->m)                                                                         \
        oom_verify(r);                                                                    \
    }                                                                                     \
  } while (0)

static size_t oom_new_val(oom_ref *r)
{
  ck_assert_uint_lt(r->next_val, OOM_VALS);
  return r->next_val++;
}

static void oom_insert(oom_ref *r, size_t i, int how)
{
  unsigned char kb[KEY_MAX];
  size_t kl = make_key(kb, i);
  size_t nv = oom_new_val(r);
  void *out = &out;
  int rc;
  ck_assert_int_lt(r->cur[i], 0);
  switch (how % 3) {
  case 0:
    OOM_CALL(r, rc, siprec_shmap_store(r->m, kb, kl, val(&r->t, nv)));
    ck_assert_int_eq(rc, 0);
    break;
  case 1:
    OOM_CALL(r, rc, siprec_shmap_load_or_store(r->m, kb, kl, val(&r->t, nv), &out));
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_eq(out, val(&r->t, nv));
    break;
  default:
    OOM_CALL(r, rc, siprec_shmap_swap(r->m, kb, kl, val(&r->t, nv), &out));
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_null(out);
    break;
  }
  r->cur[i] = (long)nv;
}

static int oom_walk_cb(const void *k, size_t l, void *v, void *user)
{
  oom_ref *r = user;
  long i = key_index(k, l);
  ck_assert_int_ge(i, 0);
  ck_assert_int_lt(i, OOM_KEYS);
  r->walk_visits++;
  /* Alive, whatever happened to the key since the shard was copied. */
  ck_assert_int_eq(*(int *)v, 0);
  if (r->cur[i] < 0) {
    /* Deleted by an earlier callback after its shard was copied. */
    ck_assert_int_eq(r->walk_mode, 1);
    return 0;
  }
  ck_assert_ptr_eq(v, val(&r->t, (size_t)r->cur[i]));
  if (r->walk_mode == 0)
    return 0;
  int rc;
  size_t nv;
  unsigned char kb[KEY_MAX];
  switch (i % 5) {
  case 0: /* delete the visited entry */
    OOM_CALL(r, rc, siprec_shmap_delete(r->m, k, l));
    ck_assert_int_eq(rc, 1);
    r->expected[r->cur[i]]++;
    r->cur[i] = -1;
    break;
  case 1: /* overwrite it */
    nv = oom_new_val(r);
    OOM_CALL(r, rc, siprec_shmap_store(r->m, k, l, val(&r->t, nv)));
    ck_assert_int_eq(rc, 0);
    r->expected[r->cur[i]]++;
    r->cur[i] = (long)nv;
    break;
  case 2: /* compare-and-swap it */
    nv = oom_new_val(r);
    OOM_CALL(r, rc, siprec_shmap_compare_and_swap(r->m, k, l, v, val(&r->t, nv)));
    ck_assert_int_eq(rc, 1);
    r->expected[r->cur[i]]++;
    r->cur[i] = (long)nv;
    break;
  case 3: /* delete another key, if present */
  {
    size_t j = ((size_t)i * 7 + 3) % OOM_KEYS;
    size_t kl = make_key(kb, j);
    OOM_CALL(r, rc, siprec_shmap_compare_and_delete(
                      r->m, kb, kl, r->cur[j] >= 0 ? val(&r->t, (size_t)r->cur[j]) : NULL));
    ck_assert_int_eq(rc, FOUND(r->cur[j] >= 0));
    if (r->cur[j] >= 0)
      r->expected[r->cur[j]]++;
    r->cur[j] = -1;
    break;
  }
  default: /* load_and_delete: handed back, never retired */
  {
    void *out = NULL;
    OOM_CALL(r, rc, siprec_shmap_load_and_delete(r->m, k, l, &out));
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_eq(out, v);
    r->cur[i] = -1;
    break;
  }
  }
  oom_verify(r);
  return 0;
}

static void oom_script(oom_ref *r)
{
  int rc;
  siprec_shmap_options *o = NULL;
  siprec_allocator hook = { fa_malloc, fa_realloc, fa_free, r->fa };
  OOM_CALL(r, rc, siprec_shmap_options_new(&o, &hook));
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 2), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, track_free, &r->t), 0);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, fixed_key), 0);
  siprec_shmap *m = NULL;
  OOM_CALL(r, rc, siprec_shmap_new(&m, o, &hook));
  ck_assert_int_eq(rc, 0);
  siprec_shmap_options_free(o);
  r->m = m;

  /* Inserts: inline and external keys, tables grow. */
  for (size_t i = 0; i < OOM_KEYS; i++)
    oom_insert(r, i, (int)i);
  oom_verify(r);

  unsigned char kb[KEY_MAX];
  /* Overwrites, load_or_store on present keys, swaps, CAS. */
  for (size_t i = 0; i < OOM_KEYS; i += 4) {
    size_t kl = make_key(kb, i);
    size_t nv = oom_new_val(r);
    OOM_CALL(r, rc, siprec_shmap_store(m, kb, kl, val(&r->t, nv)));
    ck_assert_int_eq(rc, 0);
    r->expected[r->cur[i]]++;
    r->cur[i] = (long)nv;
    void *out = NULL;
    size_t offered = oom_new_val(r);
    kl = make_key(kb, i + 1);
    OOM_CALL(r, rc, siprec_shmap_load_or_store(m, kb, kl, val(&r->t, offered), &out));
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_eq(out, val(&r->t, (size_t)r->cur[i + 1]));
    kl = make_key(kb, i + 2);
    nv = oom_new_val(r);
    OOM_CALL(r, rc, siprec_shmap_swap(m, kb, kl, val(&r->t, nv), &out));
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_eq(out, val(&r->t, (size_t)r->cur[i + 2]));
    r->cur[i + 2] = (long)nv;
    kl = make_key(kb, i + 3);
    nv = oom_new_val(r);
    OOM_CALL(r, rc, siprec_shmap_compare_and_swap(m, kb, kl, val(&r->t, (size_t)r->cur[i + 3]),
                                                  val(&r->t, nv)));
    ck_assert_int_eq(rc, 1);
    r->expected[r->cur[i + 3]]++;
    r->cur[i + 3] = (long)nv;
  }
  oom_verify(r);

  /* Deletes: the tables shrink (a failed shrink is not an error). Outside a
   * walk, delete and compare-and-delete have no reason to fail. */
  for (size_t i = 0; i < OOM_KEYS - 10; i++) {
    size_t kl = make_key(kb, i);
    void *out = NULL;
    if (i % 3 == 0) {
      rc = siprec_shmap_delete(m, kb, kl);
      ck_assert_int_eq(rc, 1);
      r->expected[r->cur[i]]++;
    } else if (i % 3 == 1) {
      rc = siprec_shmap_compare_and_delete(m, kb, kl, val(&r->t, (size_t)r->cur[i]));
      ck_assert_int_eq(rc, 1);
      r->expected[r->cur[i]]++;
    } else {
      OOM_CALL(r, rc, siprec_shmap_load_and_delete(m, kb, kl, &out));
      ck_assert_int_eq(rc, 1);
      ck_assert_ptr_eq(out, val(&r->t, (size_t)r->cur[i]));
    }
    r->cur[i] = -1;
  }
  oom_verify(r);

  /* A read-only walk (its copy buffer may fail). */
  r->walk_mode = 0;
  r->in_walk = 1;
  for (;;) {
    r->walk_visits = 0;
    long f0 = r->fa->failures;
    rc = siprec_shmap_range(m, oom_walk_cb, r);
    if (rc != SIPREC_ENOMEM)
      break;
    ck_assert_int_gt(r->fa->failures, f0);
  }
  r->in_walk = 0;
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(r->walk_visits, ref_len(r));
  oom_verify(r);

  /* Grow again, then clear: all or nothing, so a failed clear leaves every
   * entry in place and is retried. */
  for (size_t i = 0; i < 100; i++)
    if (r->cur[i] < 0)
      oom_insert(r, i, (int)i + 1);
  for (;;) {
    long f0 = r->fa->failures;
    rc = siprec_shmap_clear(m);
    if (rc != SIPREC_ENOMEM)
      break;
    ck_assert_int_gt(r->fa->failures, f0);
    oom_verify(r);
  }
  ck_assert_int_eq(rc, 0);
  for (size_t i = 0; i < OOM_KEYS; i++) {
    if (r->cur[i] >= 0)
      r->expected[r->cur[i]]++;
    r->cur[i] = -1;
  }
  oom_verify(r);

  /* Refill, then a walk whose callback removes and replaces entries: the
   * retire array (and the copy buffer) may fail. */
  for (size_t i = 0; i < 120; i++)
    oom_insert(r, i, (int)i + 2);
  r->walk_mode = 1;
  r->in_walk = 1;
  for (;;) {
    r->walk_visits = 0;
    long f0 = r->fa->failures;
    rc = siprec_shmap_range(m, oom_walk_cb, r);
    if (rc != SIPREC_ENOMEM)
      break;
    ck_assert_int_gt(r->fa->failures, f0);
  }
  r->in_walk = 0;
  ck_assert_int_eq(rc, 0);
  oom_verify(r);

  /* A few more, then free destroys what is left. */
  for (size_t i = 120; i < OOM_KEYS; i++)
    if (r->cur[i] < 0)
      oom_insert(r, i, (int)i);
  oom_verify(r);
  siprec_shmap_free(m);
  r->m = NULL;
  for (size_t i = 0; i < OOM_KEYS; i++) {
    if (r->cur[i] >= 0)
      r->expected[r->cur[i]]++;
    r->cur[i] = -1;
  }
  for (size_t i = 0; i < r->next_val; i++)
    ck_assert_msg(r->t.destroyed[i] == r->expected[i], "after free: value %zu destroyed %d != %d",
                  i, r->t.destroyed[i], r->expected[i]);
  ck_assert_int_eq(r->t.foreign_destroyed, 0);
  ck_assert_int_eq(r->t.null_destroyed, 0);
}

START_TEST(test_out_of_memory)
{
  failalloc fa;
  memset(&fa, 0, sizeof fa);
  ck_assert_int_eq(pthread_mutex_init(&fa.mu, NULL), 0);
  oom_ref *r = malloc(sizeof *r);
  ck_assert_ptr_nonnull(r);
  long injected_runs = 0, final_calls = -1;
  for (long k = 0; k < 100000; k++) {
    memset(r, 0, sizeof *r);
    tracker_init(&r->t, OOM_VALS);
    for (int i = 0; i < OOM_KEYS; i++)
      r->cur[i] = -1;
    r->fa = &fa;
    fa.calls = 0;
    fa.fail_at = k;
    fa.failures = 0;
    oom_script(r);
    tracker_fini(&r->t);
    ck_assert_msg(fa.outstanding == 0 && fa.bytes == 0,
                  "k=%ld: %ld allocations (%zu bytes) outstanding", k, fa.outstanding, fa.bytes);
    ck_assert_int_eq(fa.zero_size, 0);
    if (fa.failures == 0) {
      final_calls = fa.calls;
      break;
    }
    ck_assert_int_eq(fa.failures, 1);
    injected_runs++;
  }
  ck_assert_int_gt(final_calls, 0);
  if (getenv("SIPREC_TEST_VERBOSE"))
    fprintf(stderr, "oom: %ld allocations per run, %ld runs with a failure\n", final_calls,
            injected_runs);
  /* Every allocation of a complete run was made to fail once. */
  ck_assert_int_ge(injected_runs, final_calls);
  pthread_mutex_destroy(&fa.mu);
  free(r);
}
END_TEST

/* A clear() called from a range callback that fails with ENOMEM must change
 * nothing ("A failed call changes nothing unless its documentation says
 * otherwise", siprec/common.h; clear documents no partial effect). */
typedef struct clear_oom {
  failalloc *fa;
  siprec_shmap *m;
  size_t first_shard_len;
  size_t calls;
  int clear_rc;
} clear_oom;

static int clear_oom_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)v;
  clear_oom *c = user;
  /* Shard 0 has been walked: this is the first entry of shard 1. */
  if (c->calls++ == c->first_shard_len) {
    pthread_mutex_lock(&c->fa->mu);
    c->fa->fail_at = c->fa->calls; /* the next allocation fails */
    pthread_mutex_unlock(&c->fa->mu);
    c->clear_rc = siprec_shmap_clear(c->m);
    c->fa->fail_at = -1;
  }
  return 0;
}

START_TEST(test_clear_enomem_in_walk_changes_nothing)
{
  failalloc fa;
  memset(&fa, 0, sizeof fa);
  fa.fail_at = -1;
  ck_assert_int_eq(pthread_mutex_init(&fa.mu, NULL), 0);
  siprec_allocator hook = { fa_malloc, fa_realloc, fa_free, &fa };
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 4), 0);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, fixed_key), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, &hook), 0);
  siprec_shmap_options_free(o);
  enum { N = 400 };
  fill_plain(m, N);
  size_t lens[4];
  ck_assert_int_eq(siprec_shmap_shard_lens(m, lens, 4), 4);
  ck_assert_uint_gt(lens[0], 0);
  ck_assert_uint_gt(lens[1], 0);
  clear_oom c = { &fa, m, lens[0], 0, 12345 };
  int range_rc = siprec_shmap_range(m, clear_oom_cb, &c);
  size_t len_after = siprec_shmap_len(m);
  size_t missing = 0;
  unsigned char kb[KEY_MAX];
  for (size_t i = 0; i < N; i++) {
    size_t kl = make_key(kb, i);
    missing += siprec_shmap_load(m, kb, kl, NULL) != 1;
  }
  /* Release everything before asserting, so that a failure here leaves no
   * leak behind under CK_FORK=no. */
  siprec_shmap_free(m);
  pthread_mutex_destroy(&fa.mu);
  ck_assert_int_eq(fa.outstanding, 0);
  ck_assert_int_eq(range_rc, 0);
  ck_assert_int_eq(fa.failures, 1);
  ck_assert_int_eq(c.clear_rc, SIPREC_ENOMEM);
  /* Nothing may have been removed. */
  ck_assert_msg(len_after == N && missing == 0,
                "clear failed with ENOMEM but removed %zu of %d entries (shard 0 had %zu)",
                missing, N, lens[0]);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Overwrites and inspect: "run fn on a key's value under the shard's read
 * lock, so the value cannot be removed or destroyed meanwhile". A store or
 * swap that replaces the value an inspect callback is using must not return
 * before the callback does: the host may free what it gets back (swap) or
 * what it knows it replaced (store, in a map without a destructor) as soon as
 * the call returns. Overwrites of a present key run under the read lock
 * (lib/shmap/shmap.c, overwrite_shared()), so this is checked for each kind
 * of overwrite, with and without a destructor. */

enum { OW_STORE, OW_SWAP_PREV, OW_SWAP_NOPREV };

typedef struct ow_wait {
  siprec_shmap *m;
  _Atomic int in_cb;    /* 1 once the callback runs, 2 once it returned */
  _Atomic int returned; /* the overwrite returned */
  _Atomic int seen_returned;
  void *seen_value;
} ow_wait;

static void sleep_ms(long ms)
{
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

static int ow_inspect_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  ow_wait *w = user;
  w->seen_value = v;
  atomic_store(&w->in_cb, 1);
  /* Long enough for the overwrite to have returned if it did not wait. */
  for (int i = 0; i < 20; i++) {
    sleep_ms(5);
    if (atomic_load(&w->returned))
      atomic_store(&w->seen_returned, 1);
  }
  atomic_store(&w->in_cb, 2);
  return 7;
}

static void *ow_inspector(void *arg)
{
  ow_wait *w = arg;
  int rc = siprec_shmap_inspect(w->m, "k", 1, ow_inspect_cb, w);
  return (void *)(intptr_t)rc;
}

static void check_overwrite_waits(bool with_free, int kind)
{
  atomic_tracker t;
  t.n = 2;
  t.destroyed = calloc(t.n, sizeof *t.destroyed);
  ck_assert_ptr_nonnull(t.destroyed);
  atomic_init(&t.total, 0);
  siprec_shmap *m = NULL;
  if (with_free) {
    m = new_atomic_map(&t, 1);
  } else {
    ck_assert_int_eq(siprec_shmap_new(&m, NULL, NULL), 0);
  }
  void *v0 = (void *)&t.destroyed[0], *v1 = (void *)&t.destroyed[1];
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, v0), 0);
  /* A second key, so that the inspected one is not alone in its shard. */
  ck_assert_int_eq(siprec_shmap_store(m, "other", 5, NULL), 0);

  ow_wait w;
  memset(&w, 0, sizeof w);
  w.m = m;
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, ow_inspector, &w), 0);
  while (atomic_load(&w.in_cb) == 0)
    sleep_ms(1);
  void *prev = NULL;
  int rc;
  switch (kind) {
  case OW_STORE:
    rc = siprec_shmap_store(m, "k", 1, v1);
    ck_assert_int_eq(rc, 0);
    break;
  case OW_SWAP_PREV:
    rc = siprec_shmap_swap(m, "k", 1, v1, &prev);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_eq(prev, v0);
    break;
  default:
    rc = siprec_shmap_swap(m, "k", 1, v1, NULL);
    ck_assert_int_eq(rc, 1);
    break;
  }
  /* The callback had returned before the overwrite did. */
  ck_assert_int_eq(atomic_load(&w.in_cb), 2);
  atomic_store(&w.returned, 1);
  void *ret;
  pthread_join(th, &ret);
  ck_assert_int_eq((int)(intptr_t)ret, 7);
  ck_assert_ptr_eq(w.seen_value, v0);
  ck_assert_int_eq(atomic_load(&w.seen_returned), 0);
  void *now = NULL;
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &now), 1);
  ck_assert_ptr_eq(now, v1);
  if (with_free) {
    /* Destroyed once when the map destroys it, never when handed back. */
    ck_assert_int_eq(atomic_load(&t.destroyed[0]), kind == OW_SWAP_PREV ? 0 : 1);
    ck_assert_int_eq(atomic_load(&t.destroyed[1]), 0);
  }
  siprec_shmap_free(m);
  free((void *)t.destroyed);
}

START_TEST(test_threads_overwrite_waits_for_inspect)
{
  for (int with_free = 0; with_free < 2; with_free++) {
    check_overwrite_waits(with_free, OW_STORE);
    check_overwrite_waits(with_free, OW_SWAP_PREV);
    check_overwrite_waits(with_free, OW_SWAP_NOPREV);
  }
}
END_TEST

/* Many threads overwriting and reading the same few keys of a map without a
 * destructor, the values heap objects: loads, load_or_store and walks see
 * only values that were stored, inspect callbacks see only live objects, and
 * swap's previous values, freed at once by the thread that got them, are
 * each handed back exactly once. Under ASan a callback touching a freed
 * object fails; under TSan an unordered access does. */

enum { OWS_THREADS = 4, OWS_KEYS = 8, OWS_POOL = 64 };
#define OWS_LIVE 0x4c495645u

typedef struct ows_obj {
  unsigned magic; /* plain: the checks are for ordering, not for atomics */
  unsigned id;    /* its index in ows_ctx.heap */
} ows_obj;

typedef struct ows_ctx {
  siprec_shmap *m;
  size_t ops;
  /* Values never freed, for stores (a store's previous value is nobody's: in
   * a map without a destructor it is simply forgotten). */
  ows_obj pool[OWS_POOL];
  /* Every heap value made, until the swap that gets it back frees it; a
   * value lost by a store (nobody's) is freed at the end. */
  ows_obj *_Atomic *heap;
  _Atomic size_t n_heap;
  _Atomic int errors;
  _Atomic long inspected, swapped;
  _Atomic int stop;
} ows_ctx;

static bool ows_known(const ows_ctx *c, const void *v)
{
  const ows_obj *o = v;
  if (o >= c->pool && o < c->pool + OWS_POOL)
    return true;
  return o && o->magic == OWS_LIVE;
}

static int ows_inspect_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  (void)user;
  const ows_obj *o = v;
  if (!o || o->magic != OWS_LIVE)
    return 1;
  for (volatile int i = 0; i < 50; i++) {
  }
  return o->magic == OWS_LIVE ? 0 : 1;
}

static int ows_walk_cb(const void *k, size_t l, void *v, void *user)
{
  (void)k;
  (void)l;
  ows_ctx *c = user;
  const ows_obj *o = v;
  /* A walk may see values freed since by a swap's caller (shmap.h, "Range"):
   * only the pointer is checked against what could have been stored. */
  if (!o)
    atomic_fetch_add(&c->errors, 1);
  return 0;
}

static void *ows_worker(void *arg)
{
  ows_ctx *c = ((void **)arg)[0];
  unsigned id = (unsigned)(uintptr_t)((void **)arg)[1];
  uint64_t rs = 0x9e3779b97f4a7c15ULL * (id + 1);
  for (size_t i = 0; i < c->ops; i++) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    char key[8];
    int kl = snprintf(key, sizeof key, "o%u", (unsigned)(rs % OWS_KEYS));
    void *out = NULL;
    int rc;
    switch ((rs >> 40) % 5) {
    case 0:
      rc = siprec_shmap_store(c->m, key, (size_t)kl, &c->pool[(rs >> 20) % OWS_POOL]);
      if (rc != 0)
        atomic_fetch_add(&c->errors, 1);
      break;
    case 1: {
      ows_obj *o = malloc(sizeof *o);
      if (!o) {
        atomic_fetch_add(&c->errors, 1);
        break;
      }
      o->magic = OWS_LIVE;
      o->id = (unsigned)atomic_fetch_add(&c->n_heap, 1);
      atomic_store(&c->heap[o->id], o);
      rc = siprec_shmap_swap(c->m, key, (size_t)kl, o, &out);
      if (rc != 1) {
        atomic_fetch_add(&c->errors, 1);
        break;
      }
      atomic_fetch_add(&c->swapped, 1);
      ows_obj *p = out;
      if (!ows_known(c, p)) {
        atomic_fetch_add(&c->errors, 1);
      } else if (!(p >= c->pool && p < c->pool + OWS_POOL)) {
        p->magic = 0; /* no inspect callback may be using it any more */
        if (atomic_exchange(&c->heap[p->id], NULL) != p)
          atomic_fetch_add(&c->errors, 1); /* handed back twice */
        free(p);
      }
      break;
    }
    case 2:
      rc = siprec_shmap_inspect(c->m, key, (size_t)kl, ows_inspect_cb, c);
      if (rc != 0)
        atomic_fetch_add(&c->errors, 1);
      atomic_fetch_add(&c->inspected, 1);
      break;
    case 3:
      rc = siprec_shmap_load(c->m, key, (size_t)kl, &out);
      if (rc != 1 || !out)
        atomic_fetch_add(&c->errors, 1);
      break;
    default:
      rc = siprec_shmap_load_or_store(c->m, key, (size_t)kl, &c->pool[0], &out);
      if (rc != 1 || !out)
        atomic_fetch_add(&c->errors, 1);
      break;
    }
  }
  return NULL;
}

static void *ows_walker(void *arg)
{
  ows_ctx *c = arg;
  while (!atomic_load(&c->stop))
    if (siprec_shmap_range(c->m, ows_walk_cb, c) != 0)
      atomic_fetch_add(&c->errors, 1);
  return NULL;
}

START_TEST(test_threads_overwrite_shared)
{
  ows_ctx *c = calloc(1, sizeof *c);
  ck_assert_ptr_nonnull(c);
  c->ops = under_valgrind() ? 5000 : 100000;
  c->heap = calloc(OWS_THREADS * c->ops, sizeof *c->heap);
  ck_assert_ptr_nonnull(c->heap);
  for (unsigned i = 0; i < OWS_POOL; i++) {
    c->pool[i].magic = OWS_LIVE;
    c->pool[i].id = i;
  }
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, 2), 0);
  ck_assert_int_eq(siprec_shmap_new(&c->m, o, NULL), 0);
  siprec_shmap_options_free(o);
  for (unsigned k = 0; k < OWS_KEYS; k++) {
    char key[8];
    int kl = snprintf(key, sizeof key, "o%u", k);
    ck_assert_int_eq(siprec_shmap_store(c->m, key, (size_t)kl, &c->pool[k]), 0);
  }
  pthread_t th[OWS_THREADS], wk;
  void *args[OWS_THREADS][2];
  ck_assert_int_eq(pthread_create(&wk, NULL, ows_walker, c), 0);
  for (unsigned i = 0; i < OWS_THREADS; i++) {
    args[i][0] = c;
    args[i][1] = (void *)(uintptr_t)i;
    ck_assert_int_eq(pthread_create(&th[i], NULL, ows_worker, args[i]), 0);
  }
  for (unsigned i = 0; i < OWS_THREADS; i++)
    pthread_join(th[i], NULL);
  atomic_store(&c->stop, 1);
  pthread_join(wk, NULL);
  ck_assert_int_eq(atomic_load(&c->errors), 0);
  ck_assert_int_gt(atomic_load(&c->inspected), 0);
  ck_assert_int_gt(atomic_load(&c->swapped), 0);
  ck_assert_uint_eq(siprec_shmap_len(c->m), OWS_KEYS);
  siprec_shmap_free(c->m);
  for (size_t i = 0; i < atomic_load(&c->n_heap); i++)
    free(atomic_load(&c->heap[i]));
  free((void *)c->heap);
  free(c);
}
END_TEST

/* ---------------------------------------------------------------------- */

static Suite *shmap_suite(void)
{
  Suite *s = suite_create("shmap");
  TCase *tc = tcase_create("api");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_options);
  tcase_add_test(tc, test_new_and_free);
  tcase_add_test(tc, test_options_copied);
  tcase_add_test(tc, test_invalid_arguments);
  tcase_add_test(tc, test_empty_and_binary_keys);
  tcase_add_test(tc, test_key_lengths);
  tcase_add_test(tc, test_store_load_delete);
  tcase_add_test(tc, test_store_over_itself);
  tcase_add_test(tc, test_load_or_store);
  tcase_add_test(tc, test_load_and_delete);
  tcase_add_test(tc, test_swap);
  tcase_add_test(tc, test_compare_identity);
  tcase_add_test(tc, test_compare_equal_callback);
  tcase_add_test(tc, test_destructor_exactly_once);
  tcase_add_test(tc, test_len_and_shard_lens);
  tcase_add_test(tc, test_clear_destroys_all);
  suite_add_tcase(s, tc);

  tc = tcase_create("range");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_range_plain);
  tcase_add_test(tc, test_range_stop);
  tcase_add_test(tc, test_range_delete_self);
  tcase_add_test(tc, test_range_delete_others);
  tcase_add_test(tc, test_range_store_new);
  tcase_add_test(tc, test_range_overwrite_self);
  tcase_add_test(tc, test_range_nested);
  tcase_add_test(tc, test_range_clear_inside);
  suite_add_tcase(s, tc);

  tc = tcase_create("callbacks");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_inspect_update);
  tcase_add_test(tc, test_ebusy_from_callbacks);
  tcase_add_test(tc, test_callback_may_call_other_map);
  tcase_add_test(tc, test_destructor_may_call_map);
  suite_add_tcase(s, tc);

  tc = tcase_create("scale");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_many_keys_grow_shrink);
  tcase_add_test(tc, test_probe_stats_args);
  tcase_add_test(tc, test_hash_key_determinism);
  suite_add_tcase(s, tc);

  tc = tcase_create("threads");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_threads_cas_race);
  tcase_add_test(tc, test_threads_clear_during_use);
  tcase_add_test(tc, test_threads_overwrite_waits_for_inspect);
  tcase_add_test(tc, test_threads_overwrite_shared);
  suite_add_tcase(s, tc);

  tc = tcase_create("oom");
  tcase_set_timeout(tc, 900);
  tcase_add_test(tc, test_out_of_memory);
  tcase_add_test(tc, test_clear_enomem_in_walk_changes_nothing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(shmap_suite());
}
