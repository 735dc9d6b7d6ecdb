/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Concurrency stress tests of siprec_shmap:
 *  - load_or_store races: for each key exactly one thread stores, the others
 *    load the winner's value;
 *  - a mixed run: each worker owns a disjoint key range and checks every
 *    result against its own model, all workers also churn a shared key range,
 *    and a monitor thread walks, inspects and updates meanwhile; at the end
 *    the map holds exactly the expected entries and every value left the map
 *    exactly once (destroyed, or handed back);
 *  - readers and writers on one shard (the lock itself);
 *  - more threads than the lock's per-thread reader slots, and waves of
 *    short-lived threads (slot recycling).
 * Values carry a magic word: a value used after its destruction, destroyed
 * twice or destroyed after being handed back is reported. Values are freed
 * only at the end of a test, so a stale pointer never aliases a new value.
 *
 * Worker threads never call ck_assert (not safe outside the test's thread in
 * CK_FORK=no mode): they record the first failure, which the test asserts
 * after joining them.
 *
 * Iterations are scaled down under valgrind (SIPREC_UNDER_VALGRIND or
 * RUNNING_ON_VALGRIND) and ThreadSanitizer. SIPREC_STRESS_SCALE (a percentage)
 * scales them further.
 */
#include <siprec/shmap.h>

#include <check.h>

#include "check_main.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static const uint8_t hash_key[16] = "stress-hash-key";

/* What a call that needs the key returns (shmap.h, "Return values"). */
#define FOUND(present) ((present) ? 1 : SIPREC_ENOTFOUND)

/* ---------------------------------------------------------------------- */
/* Scaling, failures                                                        */

static int under_valgrind(void)
{
  const char *e = getenv("SIPREC_UNDER_VALGRIND");
  return (e && *e && strcmp(e, "0") != 0) || RUNNING_ON_VALGRIND;
}

/* n iterations, scaled for the environment (at least `min`). */
static unsigned scaled(unsigned n, unsigned min)
{
  double f = 1.0;
  if (under_valgrind())
    f = 1.0 / 40;
  else if (UNDER_TSAN)
    f = 1.0 / 4;
  const char *e = getenv("SIPREC_STRESS_SCALE");
  if (e && *e)
    f *= atof(e) / 100.0;
  unsigned v = (unsigned)(n * f);
  return v < min ? min : v;
}

static atomic_int failed;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_msg[512];

static void record_failure(const char *file, int line, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

static void record_failure(const char *file, int line, const char *fmt, ...)
{
  pthread_mutex_lock(&fail_lock);
  if (!atomic_load(&failed)) {
    int n = snprintf(fail_msg, sizeof fail_msg, "%s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof fail_msg)
      vsnprintf(fail_msg + n, sizeof fail_msg - (size_t)n, fmt, ap);
    va_end(ap);
    atomic_store(&failed, 1);
  }
  pthread_mutex_unlock(&fail_lock);
}

/* Check from any thread; the test asserts `failed` after joining. */
#define TCHECK(cond, ...)                                                                          \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      record_failure(__FILE__, __LINE__, __VA_ARGS__);                                             \
  } while (0)

static void reset_failures(void)
{
  atomic_store(&failed, 0);
  fail_msg[0] = 0;
}

#define ASSERT_NO_FAILURE() ck_assert_msg(!atomic_load(&failed), "%s", fail_msg)

static uint64_t rnd(uint64_t *s)
{
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* ---------------------------------------------------------------------- */
/* Values                                                                   */

#define MAGIC_LIVE 0x11fe11feu
#define MAGIC_HANDED 0x4a4d4a4du /* handed back to a caller, or never stored */
#define MAGIC_DEAD 0xdeaddeadu

typedef struct sval {
  _Atomic uint32_t magic;
  _Atomic uint32_t touches; /* in-place updates */
  uint32_t owner;           /* worker number, or SHARED_OWNER */
  uint32_t key;             /* key index within the owner's range */
} sval;

#define SHARED_OWNER 0xffffu

/* Every value a thread creates, so the test can check and free them all. */
typedef struct vlist {
  sval **v;
  size_t n, cap;
} vlist;

typedef struct counters {
  atomic_ulong created, destroyed, handed;
} counters;

static sval *new_val(vlist *l, counters *c, uint32_t owner, uint32_t key)
{
  sval *v = malloc(sizeof *v);
  if (!v)
    abort();
  atomic_init(&v->magic, MAGIC_LIVE);
  atomic_init(&v->touches, 0);
  v->owner = owner;
  v->key = key;
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 1024;
    sval **nv = realloc(l->v, l->cap * sizeof *nv);
    if (!nv)
      abort();
    l->v = nv;
  }
  l->v[l->n++] = v;
  atomic_fetch_add(&c->created, 1);
  return v;
}

/* The caller now owns a value that was in the map (or never got in). */
static void hand_back(counters *c, sval *v)
{
  uint32_t m = atomic_exchange(&v->magic, MAGIC_HANDED);
  TCHECK(m == MAGIC_LIVE, "handed-back value %p had magic %#x", (void *)v, m);
  atomic_fetch_add(&c->handed, 1);
}

static void val_free_cb(void *value, void *user)
{
  counters *c = user;
  sval *v = value;
  if (!v) {
    TCHECK(0, "destructor called with NULL (no NULL value is ever stored)");
    return;
  }
  uint32_t m = atomic_exchange(&v->magic, MAGIC_DEAD);
  TCHECK(m == MAGIC_LIVE, "destructor on value %p with magic %#x (%s)", value, m,
         m == MAGIC_DEAD ? "destroyed twice" : "handed back");
  atomic_fetch_add(&c->destroyed, 1);
}

static void vlist_free(vlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

static siprec_shmap *make_map(unsigned shards, counters *c)
{
  siprec_shmap_options *o = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  ck_assert_int_eq(siprec_shmap_options_set_shards(o, shards), 0);
  ck_assert_int_eq(siprec_shmap_options_set_hash_key(o, hash_key), 0);
  if (c)
    ck_assert_int_eq(siprec_shmap_options_set_value_free(o, val_free_cb, c), 0);
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_new(&m, o, NULL), 0);
  siprec_shmap_options_free(o);
  return m;
}

/* Keys: binary, with a NUL in them; every 5th key is longer than the 54
 * bytes kept inline in a slot. */
enum { KEY_MAX = 80 };

static size_t make_key(uint8_t *buf, uint32_t owner, uint32_t idx)
{
  memset(buf, 0, KEY_MAX);
  buf[0] = 'k';
  buf[1] = (uint8_t)(owner >> 8);
  buf[2] = (uint8_t)owner;
  buf[3] = 0;
  memcpy(buf + 4, &idx, sizeof idx);
  if (idx % 5 == 0) {
    for (size_t i = 8; i < KEY_MAX; i++)
      buf[i] = (uint8_t)(i * 7 + idx);
    return KEY_MAX;
  }
  return 8 + idx % 11;
}

/* Owner and index of a key made by make_key (0 when it is not one). */
static int parse_key(const void *key, size_t len, uint32_t *owner, uint32_t *idx)
{
  const uint8_t *k = key;
  if (len < 8 || k[0] != 'k' || k[3] != 0)
    return 0;
  *owner = (uint32_t)k[1] << 8 | k[2];
  memcpy(idx, k + 4, sizeof *idx);
  uint8_t ref[KEY_MAX];
  return make_key(ref, *owner, *idx) == len && memcmp(ref, key, len) == 0;
}

/* ---------------------------------------------------------------------- */
/* (a) load_or_store races                                                  */

typedef struct los_ctx {
  siprec_shmap *map;
  pthread_barrier_t *start;
  unsigned nkeys;
  unsigned tid;
  sval *vals;    /* this thread's offer for each key */
  int *rc;       /* per key */
  void **actual; /* per key */
} los_ctx;

static void *los_thread(void *arg)
{
  los_ctx *c = arg;
  uint8_t key[KEY_MAX];
  pthread_barrier_wait(c->start);
  /* Threads walk the keys from different starting points, half of them
   * backwards, so that every key sees real races. */
  for (unsigned j = 0; j < c->nkeys; j++) {
    unsigned i = (c->tid & 1) ? (c->nkeys - 1 - (j + c->tid * 7) % c->nkeys)
                              : (j + c->tid * 13) % c->nkeys;
    size_t len = make_key(key, 0, i);
    c->actual[i] = NULL;
    c->rc[i] = siprec_shmap_load_or_store(c->map, key, len, &c->vals[i], &c->actual[i]);
  }
  return NULL;
}

START_TEST(test_load_or_store_race)
{
  reset_failures();
  enum { NT = 12 };
  static const unsigned shard_choices[] = { 1, 4, 32 };
  unsigned nkeys = scaled(4000, 200);
  unsigned rounds = scaled(6, 2);
  for (unsigned round = 0; round < rounds; round++) {
    counters cnt;
    atomic_init(&cnt.created, 0);
    atomic_init(&cnt.destroyed, 0);
    atomic_init(&cnt.handed, 0);
    siprec_shmap *map = make_map(shard_choices[round % 3], &cnt);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, NT);
    los_ctx ctx[NT];
    pthread_t th[NT];
    for (unsigned t = 0; t < NT; t++) {
      ctx[t].map = map;
      ctx[t].start = &start;
      ctx[t].nkeys = nkeys;
      ctx[t].tid = t;
      ctx[t].vals = calloc(nkeys, sizeof(sval));
      ctx[t].rc = calloc(nkeys, sizeof(int));
      ctx[t].actual = calloc(nkeys, sizeof(void *));
      ck_assert(ctx[t].vals && ctx[t].rc && ctx[t].actual);
      for (unsigned i = 0; i < nkeys; i++) {
        atomic_init(&ctx[t].vals[i].magic, MAGIC_LIVE);
        ctx[t].vals[i].owner = t;
        ctx[t].vals[i].key = i;
      }
    }
    for (unsigned t = 0; t < NT; t++)
      ck_assert_int_eq(pthread_create(&th[t], NULL, los_thread, &ctx[t]), 0);
    for (unsigned t = 0; t < NT; t++)
      pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);

    uint8_t key[KEY_MAX];
    for (unsigned i = 0; i < nkeys; i++) {
      int winner = -1;
      for (unsigned t = 0; t < NT; t++) {
        ck_assert_msg(ctx[t].rc[i] == 0 || ctx[t].rc[i] == 1, "key %u thread %u: rc %d", i, t,
                      ctx[t].rc[i]);
        if (ctx[t].rc[i] == 0) {
          ck_assert_msg(winner < 0, "key %u stored by threads %d and %u", i, winner, t);
          winner = (int)t;
        }
      }
      ck_assert_msg(winner >= 0, "key %u: no thread stored it", i);
      void *wv = &ctx[winner].vals[i];
      for (unsigned t = 0; t < NT; t++)
        ck_assert_msg(ctx[t].actual[i] == wv, "key %u thread %u: actual is not the winner's", i,
                      t);
      void *v = NULL;
      size_t len = make_key(key, 0, i);
      ck_assert_int_eq(siprec_shmap_load(map, key, len, &v), 1);
      ck_assert_ptr_eq(v, wv);
    }
    ck_assert_uint_eq(siprec_shmap_len(map), nkeys);
    ck_assert_uint_eq(atomic_load(&cnt.destroyed), 0);
    siprec_shmap_free(map);
    ck_assert_uint_eq(atomic_load(&cnt.destroyed), nkeys);
    /* Exactly the winners were destroyed. */
    for (unsigned t = 0; t < NT; t++) {
      for (unsigned i = 0; i < nkeys; i++) {
        uint32_t m = atomic_load(&ctx[t].vals[i].magic);
        ck_assert_uint_eq(m, ctx[t].rc[i] == 0 ? MAGIC_DEAD : MAGIC_LIVE);
      }
      free(ctx[t].vals);
      free(ctx[t].rc);
      free(ctx[t].actual);
    }
    ASSERT_NO_FAILURE();
  }
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (b) mixed run                                                            */

enum { MIX_WORKERS = 8, MIX_SHARED = 48 };

typedef struct mix_shared {
  siprec_shmap *map;
  counters cnt;
  pthread_barrier_t start;
  atomic_int stop;
  unsigned keys_per_worker;
  unsigned ops;
  atomic_ulong walks, walk_visits, inspects, updates;
} mix_shared;

typedef struct mix_worker {
  mix_shared *sh;
  unsigned id;
  uint64_t seed;
  vlist vals;
  sval **model; /* keys_per_worker entries, NULL when absent */
} mix_worker;

static int inspect_own_cb(const void *key, size_t len, void *value, void *user)
{
  const sval *expect = user;
  const sval *v = value;
  uint32_t owner = 0, idx = 0;
  TCHECK(parse_key(key, len, &owner, &idx), "inspect: bad key");
  TCHECK(v == expect, "inspect: value %p, model %p", value, (const void *)expect);
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "inspect: value not live (%#x)",
         atomic_load(&v->magic));
  return 7;
}

typedef struct upd_arg {
  sval *expect;
  sval *replace;
} upd_arg;

static int update_own_cb(const void *key, size_t len, void **value, void *user)
{
  upd_arg *a = user;
  (void)key;
  (void)len;
  TCHECK(*value == a->expect, "update: value is not the model's");
  TCHECK(atomic_load(&a->expect->magic) == MAGIC_LIVE, "update: value not live");
  *value = a->replace;
  return 3;
}

/* A random operation on a shared key: anything goes, results are only
 * checked for consistency (valid codes, live values handed back). */
static void shared_op(mix_worker *w, uint64_t r)
{
  siprec_shmap *m = w->sh->map;
  counters *c = &w->sh->cnt;
  uint8_t key[KEY_MAX];
  uint32_t idx = (uint32_t)(r >> 8) % MIX_SHARED;
  size_t len = make_key(key, SHARED_OWNER, idx);
  void *out = NULL;
  int rc;
  switch ((r >> 20) % 6) {
  case 0:
    rc = siprec_shmap_store(m, key, len, new_val(&w->vals, c, SHARED_OWNER, idx));
    TCHECK(rc == 0, "shared store: %d", rc);
    break;
  case 1: {
    sval *nv = new_val(&w->vals, c, SHARED_OWNER, idx);
    rc = siprec_shmap_load_or_store(m, key, len, nv, &out);
    TCHECK(rc == 0 || rc == 1, "shared load_or_store: %d", rc);
    if (rc == 1)
      hand_back(c, nv); /* never stored: ours */
    break;
  }
  case 2:
    rc = siprec_shmap_load_and_delete(m, key, len, &out);
    TCHECK(rc == SIPREC_ENOTFOUND || rc == 1, "shared load_and_delete: %d", rc);
    if (rc == 1)
      hand_back(c, out);
    break;
  case 3:
    rc = siprec_shmap_delete(m, key, len);
    TCHECK(rc == SIPREC_ENOTFOUND || rc == 1, "shared delete: %d", rc);
    break;
  case 4:
    rc = siprec_shmap_swap(m, key, len, new_val(&w->vals, c, SHARED_OWNER, idx), &out);
    TCHECK(rc == 0 || rc == 1, "shared swap: %d", rc);
    if (rc == 1)
      hand_back(c, out);
    break;
  default: {
    /* CAS against a value we just loaded (it may be gone already: only the
     * pointer is compared, never dereferenced). */
    if (siprec_shmap_load(m, key, len, &out) == 1) {
      sval *nv = new_val(&w->vals, c, SHARED_OWNER, idx);
      rc = siprec_shmap_compare_and_swap(m, key, len, out, nv);
      TCHECK(rc == 0 || rc == 1 || rc == SIPREC_ENOTFOUND, "shared CAS: %d", rc);
      if (rc != 1)
        hand_back(c, nv);
    } else {
      rc = siprec_shmap_compare_and_delete(m, key, len, NULL);
      TCHECK(rc == 0 || rc == SIPREC_ENOTFOUND, "shared CAD of NULL: %d", rc);
    }
    break;
  }
  }
}

static void *mix_worker_thread(void *arg)
{
  mix_worker *w = arg;
  mix_shared *sh = w->sh;
  siprec_shmap *m = sh->map;
  counters *c = &sh->cnt;
  uint8_t key[KEY_MAX];
  pthread_barrier_wait(&sh->start);
  for (unsigned n = 0; n < sh->ops && !atomic_load(&failed); n++) {
    uint64_t r = rnd(&w->seed);
    uint32_t idx = (uint32_t)(r >> 32) % sh->keys_per_worker;
    size_t len = make_key(key, w->id, idx);
    sval **slot = &w->model[idx];
    sval *cur = *slot;
    void *out = (void *)&out;
    int rc;
    switch (r % 14) {
    case 0: {
      sval *nv = new_val(&w->vals, c, w->id, idx);
      rc = siprec_shmap_store(m, key, len, nv);
      TCHECK(rc == 0, "store: %d", rc);
      *slot = nv;
      break;
    }
    case 1:
    case 2:
      rc = siprec_shmap_load(m, key, len, &out);
      TCHECK(rc == FOUND(cur != NULL), "load: %d, model has %p", rc, (void *)cur);
      if (cur)
        TCHECK(out == cur, "load: wrong value");
      break;
    case 3: {
      sval *nv = new_val(&w->vals, c, w->id, idx);
      rc = siprec_shmap_load_or_store(m, key, len, nv, &out);
      if (cur) {
        TCHECK(rc == 1 && out == cur, "load_or_store on a present key: %d", rc);
        hand_back(c, nv);
      } else {
        TCHECK(rc == 0 && out == nv, "load_or_store on an absent key: %d", rc);
        *slot = nv;
      }
      break;
    }
    case 4:
      rc = siprec_shmap_load_and_delete(m, key, len, &out);
      TCHECK(rc == FOUND(cur != NULL), "load_and_delete: %d", rc);
      if (cur && rc == 1) {
        TCHECK(out == cur, "load_and_delete: wrong value");
        hand_back(c, cur);
      }
      *slot = NULL;
      break;
    case 5:
      rc = siprec_shmap_delete(m, key, len);
      TCHECK(rc == FOUND(cur != NULL), "delete: %d", rc);
      *slot = NULL;
      break;
    case 6: {
      sval *nv = new_val(&w->vals, c, w->id, idx);
      rc = siprec_shmap_swap(m, key, len, nv, &out);
      TCHECK(rc == (cur != NULL), "swap: %d", rc);
      TCHECK(out == (void *)cur, "swap: previous %p, model %p", out, (void *)cur);
      if (cur && out == cur)
        hand_back(c, cur);
      *slot = nv;
      break;
    }
    case 7: {
      sval *nv = new_val(&w->vals, c, w->id, idx);
      rc = siprec_shmap_compare_and_swap(m, key, len, cur, nv);
      TCHECK(rc == FOUND(cur != NULL), "CAS with the current value: %d", rc);
      if (cur)
        *slot = nv;
      else
        hand_back(c, nv);
      break;
    }
    case 8: {
      sval *nv = new_val(&w->vals, c, w->id, idx);
      rc = siprec_shmap_compare_and_swap(m, key, len, nv, nv); /* never equal */
      TCHECK(rc == (cur ? 0 : SIPREC_ENOTFOUND), "CAS with a wrong value: %d", rc);
      hand_back(c, nv);
      break;
    }
    case 9:
      rc = siprec_shmap_compare_and_delete(m, key, len, (r & 0x100) ? cur : (void *)&out);
      TCHECK(rc == (!cur ? SIPREC_ENOTFOUND : (r & 0x100) ? 1 : 0), "compare_and_delete: %d", rc);
      if (rc == 1)
        *slot = NULL;
      break;
    case 10:
      rc = siprec_shmap_inspect(m, key, len, inspect_own_cb, cur);
      TCHECK(rc == (cur ? 7 : SIPREC_ENOTFOUND), "inspect: %d", rc);
      break;
    case 11: {
      upd_arg a = { cur, new_val(&w->vals, c, w->id, idx) };
      rc = siprec_shmap_update(m, key, len, update_own_cb, &a);
      TCHECK(rc == (cur ? 3 : SIPREC_ENOTFOUND), "update: %d", rc);
      if (cur)
        *slot = a.replace;
      else
        hand_back(c, a.replace);
      break;
    }
    default:
      shared_op(w, r);
      break;
    }
  }
  return NULL;
}

static int monitor_range_cb(const void *key, size_t len, void *value, void *user)
{
  mix_shared *sh = user;
  const sval *v = value;
  uint32_t owner = 0, idx = 0;
  TCHECK(parse_key(key, len, &owner, &idx), "range: bad key");
  TCHECK(v && v->owner == owner && v->key == idx, "range: value of another key");
  uint32_t mg = atomic_load(&v->magic);
  /* Alive: never destroyed while the walk visits (it may have been handed
   * back to a worker meanwhile, which is not a destruction). */
  TCHECK(mg == MAGIC_LIVE || mg == MAGIC_HANDED, "range: value %p has magic %#x", value, mg);
  atomic_fetch_add(&sh->walk_visits, 1);
  /* Sometimes delete the shared key being visited, from the callback. */
  if (owner == SHARED_OWNER && (idx & 7) == 3) {
    int rc = siprec_shmap_delete(sh->map, key, len);
    TCHECK(rc == SIPREC_ENOTFOUND || rc == 1, "delete from a range callback: %d", rc);
  }
  return 0;
}

static int monitor_inspect_cb(const void *key, size_t len, void *value, void *user)
{
  (void)user;
  const sval *v = value;
  uint32_t owner = 0, idx = 0;
  TCHECK(parse_key(key, len, &owner, &idx), "monitor inspect: bad key");
  TCHECK(v && v->owner == owner && v->key == idx, "monitor inspect: value of another key");
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "monitor inspect: value not live");
  return 1;
}

/* Owned keys: an in-place change only (the owner's model stays right);
 * shared keys: the value is replaced. */
static int monitor_update_cb(const void *key, size_t len, void **value, void *user)
{
  sval *v = *value;
  uint32_t owner = 0, idx = 0;
  TCHECK(parse_key(key, len, &owner, &idx), "monitor update: bad key");
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "monitor update: value not live");
  atomic_fetch_add(&v->touches, 1);
  if (owner == SHARED_OWNER)
    *value = user;
  return 1;
}

typedef struct monitor_ctx {
  mix_shared *sh;
  vlist vals;
} monitor_ctx;

static void *monitor_thread(void *arg)
{
  monitor_ctx *mc = arg;
  mix_shared *sh = mc->sh;
  uint64_t seed = 0x1234567;
  uint8_t key[KEY_MAX];
  size_t lens[64];
  pthread_barrier_wait(&sh->start);
  while (!atomic_load(&sh->stop) && !atomic_load(&failed)) {
    uint64_t r = rnd(&seed);
    switch (r % 4) {
    case 0: {
      int rc = siprec_shmap_range(sh->map, monitor_range_cb, sh);
      TCHECK(rc == 0, "range: %d", rc);
      atomic_fetch_add(&sh->walks, 1);
      break;
    }
    case 1: {
      uint32_t owner = (uint32_t)(r >> 8) % (MIX_WORKERS + 1);
      if (owner == MIX_WORKERS)
        owner = SHARED_OWNER;
      uint32_t idx = (uint32_t)(r >> 24) %
                     (owner == SHARED_OWNER ? MIX_SHARED : sh->keys_per_worker);
      size_t len = make_key(key, owner, idx);
      int rc = siprec_shmap_inspect(sh->map, key, len, monitor_inspect_cb, NULL);
      TCHECK(rc == 1 || rc == SIPREC_ENOTFOUND, "monitor inspect: %d", rc);
      atomic_fetch_add(&sh->inspects, 1);
      break;
    }
    case 2: {
      uint32_t owner = (r & 0x100) ? SHARED_OWNER : (uint32_t)(r >> 8) % MIX_WORKERS;
      uint32_t idx = (uint32_t)(r >> 24) %
                     (owner == SHARED_OWNER ? MIX_SHARED : sh->keys_per_worker);
      size_t len = make_key(key, owner, idx);
      sval *nv = new_val(&mc->vals, &sh->cnt, owner, idx);
      int rc = siprec_shmap_update(sh->map, key, len, monitor_update_cb, nv);
      TCHECK(rc == 1 || rc == SIPREC_ENOTFOUND, "monitor update: %d", rc);
      if (rc != 1 || owner != SHARED_OWNER)
        hand_back(&sh->cnt, nv);
      atomic_fetch_add(&sh->updates, 1);
      break;
    }
    default: {
      size_t total = siprec_shmap_len(sh->map);
      int n = siprec_shmap_shard_lens(sh->map, lens, 64);
      TCHECK(n == 16, "shard_lens: %d", n);
      size_t bound = (size_t)MIX_WORKERS * sh->keys_per_worker + MIX_SHARED;
      TCHECK(total <= bound, "len %zu > %zu", total, bound);
      break;
    }
    }
  }
  return NULL;
}

typedef struct count_ctx {
  size_t n;
  unsigned char *seen; /* owned keys */
  unsigned kpw;
  int dup;
} count_ctx;

static int count_cb(const void *key, size_t len, void *value, void *user)
{
  count_ctx *c = user;
  uint32_t owner = 0, idx = 0;
  (void)value;
  c->n++;
  if (parse_key(key, len, &owner, &idx) && owner < MIX_WORKERS) {
    size_t i = (size_t)owner * c->kpw + idx;
    c->dup |= c->seen[i];
    c->seen[i] = 1;
  }
  return 0;
}

START_TEST(test_mixed)
{
  reset_failures();
  mix_shared sh;
  memset(&sh, 0, sizeof sh);
  atomic_init(&sh.cnt.created, 0);
  atomic_init(&sh.cnt.destroyed, 0);
  atomic_init(&sh.cnt.handed, 0);
  sh.map = make_map(16, &sh.cnt);
  sh.keys_per_worker = 300;
  sh.ops = scaled(60000, 1500);
  pthread_barrier_init(&sh.start, NULL, MIX_WORKERS + 2);

  mix_worker w[MIX_WORKERS];
  pthread_t th[MIX_WORKERS], mon;
  monitor_ctx mc;
  memset(&mc, 0, sizeof mc);
  mc.sh = &sh;
  for (unsigned i = 0; i < MIX_WORKERS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].sh = &sh;
    w[i].id = i;
    w[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
    w[i].model = calloc(sh.keys_per_worker, sizeof *w[i].model);
    ck_assert_ptr_nonnull(w[i].model);
    ck_assert_int_eq(pthread_create(&th[i], NULL, mix_worker_thread, &w[i]), 0);
  }
  ck_assert_int_eq(pthread_create(&mon, NULL, monitor_thread, &mc), 0);
  pthread_barrier_wait(&sh.start);
  for (unsigned i = 0; i < MIX_WORKERS; i++)
    pthread_join(th[i], NULL);
  atomic_store(&sh.stop, 1);
  pthread_join(mon, NULL);
  pthread_barrier_destroy(&sh.start);
  ASSERT_NO_FAILURE();
  ck_assert_uint_gt(atomic_load(&sh.walks), 0);

  /* Quiescent: the map holds exactly the owners' models plus some shared
   * keys. */
  uint8_t key[KEY_MAX];
  size_t owned = 0, shared = 0;
  for (unsigned i = 0; i < MIX_WORKERS; i++) {
    for (unsigned k = 0; k < sh.keys_per_worker; k++) {
      void *v = NULL;
      size_t len = make_key(key, i, k);
      int rc = siprec_shmap_load(sh.map, key, len, &v);
      ck_assert_int_eq(rc, FOUND(w[i].model[k] != NULL));
      if (rc == 1) {
        ck_assert_ptr_eq(v, w[i].model[k]);
        owned++;
      }
    }
  }
  for (unsigned k = 0; k < MIX_SHARED; k++) {
    size_t len = make_key(key, SHARED_OWNER, k);
    void *v = NULL;
    if (siprec_shmap_load(sh.map, key, len, &v) == 1) {
      ck_assert_uint_eq(((sval *)v)->key, k);
      shared++;
    }
  }
  size_t total = siprec_shmap_len(sh.map);
  ck_assert_uint_eq(total, owned + shared);
  size_t lens[16], sum = 0;
  ck_assert_int_eq(siprec_shmap_shard_lens(sh.map, lens, 16), 16);
  for (unsigned i = 0; i < 16; i++)
    sum += lens[i];
  ck_assert_uint_eq(sum, total);
  count_ctx cc = { 0, calloc((size_t)MIX_WORKERS * sh.keys_per_worker, 1), sh.keys_per_worker, 0 };
  ck_assert_ptr_nonnull(cc.seen);
  ck_assert_int_eq(siprec_shmap_range(sh.map, count_cb, &cc), 0);
  ck_assert_uint_eq(cc.n, total);
  ck_assert_int_eq(cc.dup, 0);
  free(cc.seen);

  /* Every value created is live (in the map), destroyed or handed back. */
  size_t live = 0;
  vlist *lists[MIX_WORKERS + 1];
  for (unsigned i = 0; i < MIX_WORKERS; i++)
    lists[i] = &w[i].vals;
  lists[MIX_WORKERS] = &mc.vals;
  for (unsigned l = 0; l <= MIX_WORKERS; l++)
    for (size_t j = 0; j < lists[l]->n; j++)
      live += atomic_load(&lists[l]->v[j]->magic) == MAGIC_LIVE;
  ck_assert_uint_eq(live, total);
  unsigned long created = atomic_load(&sh.cnt.created);
  ck_assert_uint_eq(atomic_load(&sh.cnt.destroyed) + atomic_load(&sh.cnt.handed) + total, created);

  ck_assert_int_eq(siprec_shmap_clear(sh.map), 0);
  ck_assert_uint_eq(siprec_shmap_len(sh.map), 0);
  ck_assert_uint_eq(atomic_load(&sh.cnt.destroyed) + atomic_load(&sh.cnt.handed), created);
  for (unsigned l = 0; l <= MIX_WORKERS; l++)
    for (size_t j = 0; j < lists[l]->n; j++)
      ck_assert_uint_ne(atomic_load(&lists[l]->v[j]->magic), MAGIC_LIVE);
  unsigned long destroyed = atomic_load(&sh.cnt.destroyed);
  siprec_shmap_free(sh.map);
  ck_assert_uint_eq(atomic_load(&sh.cnt.destroyed), destroyed);
  ASSERT_NO_FAILURE();
  for (unsigned l = 0; l <= MIX_WORKERS; l++)
    vlist_free(lists[l]);
  for (unsigned i = 0; i < MIX_WORKERS; i++)
    free(w[i].model);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* (c), (d): readers and writers                                            */

/* Readers check "stable" keys, stored before the threads start and never
 * changed (in-place touches apart): they must always be found, with their
 * value, however the writers grow, shrink and churn the same shard. Writers
 * own disjoint key ranges and check every result. */
typedef struct rw_shared {
  siprec_shmap *map;
  counters cnt;
  unsigned nstable;
  sval *stable; /* nstable values */
  unsigned iters;
  unsigned writer_keys;
  atomic_int stop;
  atomic_uint next_writer;
} rw_shared;

typedef struct rw_thread {
  rw_shared *sh;
  pthread_barrier_t *start;
  int writer;
  int until_stop; /* run until sh->stop rather than sh->iters steps */
  uint32_t owner;
  uint64_t seed;
  vlist vals;
} rw_thread;

static int stable_inspect_cb(const void *key, size_t len, void *value, void *user)
{
  const rw_shared *sh = user;
  uint32_t owner = 0, idx = 0;
  const sval *v = value;
  TCHECK(parse_key(key, len, &owner, &idx), "stable inspect: bad key");
  TCHECK(v == &sh->stable[idx], "stable inspect: wrong value");
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "stable inspect: not live");
  return 5;
}

static int any_inspect_cb(const void *key, size_t len, void *value, void *user)
{
  (void)user;
  uint32_t owner = 0, idx = 0;
  const sval *v = value;
  TCHECK(parse_key(key, len, &owner, &idx), "inspect: bad key");
  TCHECK(v->owner == owner && v->key == idx, "inspect: value of another key");
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "inspect: value not live (%#x)",
         atomic_load(&v->magic));
  return 0;
}

static int touch_cb(const void *key, size_t len, void **value, void *user)
{
  (void)key;
  (void)len;
  (void)user;
  sval *v = *value;
  TCHECK(atomic_load(&v->magic) == MAGIC_LIVE, "update: value not live");
  atomic_fetch_add(&v->touches, 1);
  return 2;
}

static void reader_step(rw_thread *t, uint64_t r)
{
  rw_shared *sh = t->sh;
  uint8_t key[KEY_MAX];
  uint32_t idx = (uint32_t)(r >> 16) % sh->nstable;
  size_t len = make_key(key, 0, idx);
  void *out = NULL;
  int rc;
  switch (r % 6) {
  case 0:
  case 1:
    rc = siprec_shmap_load(sh->map, key, len, &out);
    TCHECK(rc == 1 && out == &sh->stable[idx], "stable key %u: load %d", idx, rc);
    break;
  case 2:
    rc = siprec_shmap_inspect(sh->map, key, len, stable_inspect_cb, sh);
    TCHECK(rc == 5, "stable key %u: inspect %d", idx, rc);
    break;
  case 3: {
    /* The offered value is never stored: a stack object is fine. */
    sval dummy;
    rc = siprec_shmap_load_or_store(sh->map, key, len, &dummy, &out);
    TCHECK(rc == 1 && out == &sh->stable[idx], "stable key %u: load_or_store %d", idx, rc);
    break;
  }
  case 4:
    rc = siprec_shmap_update(sh->map, key, len, touch_cb, NULL);
    TCHECK(rc == 2, "stable key %u: update %d", idx, rc);
    break;
  default: {
    /* A writer's key: whatever is there must be alive under the lock. */
    uint32_t owner = 1 + (uint32_t)(r >> 40) % 16;
    len = make_key(key, owner, (uint32_t)(r >> 48) % sh->writer_keys);
    rc = siprec_shmap_inspect(sh->map, key, len, any_inspect_cb, NULL);
    TCHECK(rc == 0 || rc == SIPREC_ENOTFOUND, "inspect of a writer key: %d", rc);
    break;
  }
  }
}

/* Fill the writer's range, then empty it, again and again: the shard's
 * table grows and shrinks under the readers. */
static void writer_run(rw_thread *t, unsigned iters)
{
  rw_shared *sh = t->sh;
  uint8_t key[KEY_MAX];
  sval **model = calloc(sh->writer_keys, sizeof *model);
  if (!model)
    abort();
  for (unsigned n = 0; (n < iters || (t->until_stop && !atomic_load(&sh->stop))) &&
                      !atomic_load(&failed);
       n++) {
    uint64_t r = rnd(&t->seed);
    unsigned phase = (n / sh->writer_keys) & 1; /* 0: filling, 1: emptying */
    uint32_t idx = n % sh->writer_keys;
    size_t len = make_key(key, t->owner, idx);
    sval *cur = model[idx];
    void *out = NULL;
    int rc;
    if (!phase) {
      sval *nv = new_val(&t->vals, &sh->cnt, t->owner, idx);
      if (r & 1) {
        rc = siprec_shmap_swap(sh->map, key, len, nv, &out);
        TCHECK(rc == (cur != NULL) && out == (void *)cur, "writer swap: %d", rc);
        if (cur)
          hand_back(&sh->cnt, cur);
      } else {
        rc = siprec_shmap_store(sh->map, key, len, nv);
        TCHECK(rc == 0, "writer store: %d", rc);
      }
      model[idx] = nv;
    } else {
      if (r & 1) {
        rc = siprec_shmap_load_and_delete(sh->map, key, len, &out);
        TCHECK(rc == FOUND(cur != NULL), "writer load_and_delete: %d", rc);
        if (rc == 1) {
          TCHECK(out == cur, "writer load_and_delete: wrong value");
          hand_back(&sh->cnt, cur);
        }
      } else {
        rc = siprec_shmap_delete(sh->map, key, len);
        TCHECK(rc == FOUND(cur != NULL), "writer delete: %d", rc);
      }
      model[idx] = NULL;
    }
    if ((r >> 8) % 4 == 0)
      reader_step(t, r >> 3);
  }
  /* Leave the range empty and check it. */
  for (uint32_t idx = 0; idx < sh->writer_keys; idx++) {
    size_t len = make_key(key, t->owner, idx);
    int rc = siprec_shmap_delete(sh->map, key, len);
    TCHECK(rc == FOUND(model[idx] != NULL), "writer final delete: %d", rc);
  }
  free(model);
}

static void *rw_thread_main(void *arg)
{
  rw_thread *t = arg;
  rw_shared *sh = t->sh;
  if (t->start)
    pthread_barrier_wait(t->start);
  if (t->writer) {
    writer_run(t, sh->iters);
  } else {
    for (unsigned n = 0; (n < sh->iters || (t->until_stop && !atomic_load(&sh->stop))) &&
                        !atomic_load(&failed);
         n++)
      reader_step(t, rnd(&t->seed));
  }
  return NULL;
}

static void rw_setup(rw_shared *sh, unsigned shards, unsigned nstable)
{
  memset(sh, 0, sizeof *sh);
  atomic_init(&sh->cnt.created, 0);
  atomic_init(&sh->cnt.destroyed, 0);
  atomic_init(&sh->cnt.handed, 0);
  sh->map = make_map(shards, &sh->cnt);
  sh->nstable = nstable;
  sh->stable = calloc(nstable, sizeof *sh->stable);
  ck_assert_ptr_nonnull(sh->stable);
  uint8_t key[KEY_MAX];
  for (unsigned i = 0; i < nstable; i++) {
    atomic_init(&sh->stable[i].magic, MAGIC_LIVE);
    sh->stable[i].owner = 0;
    sh->stable[i].key = i;
    size_t len = make_key(key, 0, i);
    ck_assert_int_eq(siprec_shmap_store(sh->map, key, len, &sh->stable[i]), 0);
  }
}

/* Writers emptied their ranges: only the stable keys are left, and every
 * writer value was destroyed or handed back exactly once. */
static void rw_finish(rw_shared *sh, rw_thread *t, unsigned nt)
{
  ASSERT_NO_FAILURE();
  ck_assert_uint_eq(siprec_shmap_len(sh->map), sh->nstable);
  ck_assert_uint_eq(atomic_load(&sh->cnt.destroyed) + atomic_load(&sh->cnt.handed),
                    atomic_load(&sh->cnt.created));
  for (unsigned i = 0; i < nt; i++) {
    for (size_t j = 0; j < t[i].vals.n; j++)
      ck_assert_uint_ne(atomic_load(&t[i].vals.v[j]->magic), MAGIC_LIVE);
    vlist_free(&t[i].vals);
  }
  unsigned long before = atomic_load(&sh->cnt.destroyed);
  siprec_shmap_free(sh->map);
  ck_assert_uint_eq(atomic_load(&sh->cnt.destroyed), before + sh->nstable);
  for (unsigned i = 0; i < sh->nstable; i++)
    ck_assert_uint_eq(atomic_load(&sh->stable[i].magic), MAGIC_DEAD);
  free(sh->stable);
  ASSERT_NO_FAILURE();
}

START_TEST(test_one_shard_readers_writers)
{
  reset_failures();
  enum { NR = 6, NW = 3 };
  rw_shared sh;
  rw_setup(&sh, 1, 100);
  sh.iters = scaled(100000, 2000);
  sh.writer_keys = 200;
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, NR + NW);
  rw_thread t[NR + NW];
  pthread_t th[NR + NW];
  for (unsigned i = 0; i < NR + NW; i++) {
    memset(&t[i], 0, sizeof t[i]);
    t[i].sh = &sh;
    t[i].start = &start;
    t[i].writer = i < NW;
    t[i].owner = 1 + i;
    t[i].seed = 0xabcdef12345ull + i * 0x1000193ull;
    ck_assert_int_eq(pthread_create(&th[i], NULL, rw_thread_main, &t[i]), 0);
  }
  for (unsigned i = 0; i < NR + NW; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&start);
  rw_finish(&sh, t, NR + NW);
}
END_TEST

/* ~80 threads at once: more than SR_THREAD_SLOTS (64), so some take the
 * shared overflow path of the lock. */
START_TEST(test_more_threads_than_slots)
{
  reset_failures();
  enum { NT = 80, EVERY_WRITER = 8 };
  rw_shared sh;
  rw_setup(&sh, 4, 64);
  sh.iters = scaled(40000, 500);
  sh.writer_keys = 120;
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, NT);
  rw_thread *t = calloc(NT, sizeof *t);
  pthread_t th[NT];
  ck_assert_ptr_nonnull(t);
  for (unsigned i = 0; i < NT; i++) {
    t[i].sh = &sh;
    t[i].start = &start;
    t[i].writer = i % EVERY_WRITER == 0;
    t[i].owner = 1 + i;
    t[i].seed = 0x5555aaaa1234ull + i * 0x9e3779b9ull;
    ck_assert_int_eq(pthread_create(&th[i], NULL, rw_thread_main, &t[i]), 0);
  }
  for (unsigned i = 0; i < NT; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&start);
  rw_finish(&sh, t, NT);
  free(t);
}
END_TEST

/* Waves of short-lived threads (slots released at exit and reused) while
 * long-lived threads keep reading and writing. */
START_TEST(test_thread_churn)
{
  reset_failures();
  enum { LONG = 4, WAVE = 24 };
  unsigned waves = scaled(20, 3);
  rw_shared sh;
  rw_setup(&sh, 8, 64);
  sh.iters = scaled(2000, 100);
  sh.writer_keys = 64;
  unsigned total = LONG + waves * WAVE;
  rw_thread *t = calloc(total, sizeof *t);
  pthread_t *th = calloc(total, sizeof *th);
  ck_assert(t && th);
  for (unsigned i = 0; i < total; i++) {
    t[i].sh = &sh;
    t[i].writer = i < LONG ? (int)(i & 1) : (i % 3 == 0);
    t[i].until_stop = i < LONG; /* the long-lived ones run until all waves are done */
    t[i].owner = 1 + i;
    t[i].seed = 0x77777777ull + i * 0x100000001b3ull;
  }
  for (unsigned i = 0; i < LONG; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, rw_thread_main, &t[i]), 0);
  for (unsigned w = 0; w < waves; w++) {
    /* Writers of one wave use distinct owners from the long-lived ones. */
    for (unsigned j = 0; j < WAVE; j++) {
      unsigned i = LONG + w * WAVE + j;
      t[i].owner = 1 + LONG + j;
      ck_assert_int_eq(pthread_create(&th[i], NULL, rw_thread_main, &t[i]), 0);
    }
    for (unsigned j = 0; j < WAVE; j++)
      pthread_join(th[LONG + w * WAVE + j], NULL);
    if (atomic_load(&failed))
      break;
  }
  atomic_store(&sh.stop, 1);
  for (unsigned i = 0; i < LONG; i++)
    pthread_join(th[i], NULL);
  /* Threads of unstarted waves (after a failure) have empty lists. */
  rw_finish(&sh, t, total);
  free(t);
  free(th);
}
END_TEST

/* A thread beyond the slots calling the map from an inspect callback must
 * get SIPREC_EBUSY like any other thread (shmap.h: "such calls fail with
 * SIPREC_EBUSY instead of deadlocking"). 64 parked threads hold all slots. */
typedef struct park_ctx {
  siprec_shmap *map;
  pthread_barrier_t *ready, *release;
} park_ctx;

static void *park_thread(void *arg)
{
  park_ctx *p = arg;
  (void)siprec_shmap_load(p->map, "x", 1, NULL); /* claims a slot */
  pthread_barrier_wait(p->ready);
  pthread_barrier_wait(p->release);
  return NULL;
}

typedef struct nested_ctx {
  siprec_shmap *map;
  int inner_rc;
  int outer_rc;
} nested_ctx;

static int nested_inspect_cb(const void *key, size_t len, void *value, void *user)
{
  nested_ctx *n = user;
  (void)value;
  n->inner_rc = siprec_shmap_load(n->map, key, len, NULL);
  return 0;
}

static void *overflow_nested_thread(void *arg)
{
  nested_ctx *n = arg;
  n->outer_rc = siprec_shmap_inspect(n->map, "k", 1, nested_inspect_cb, n);
  return NULL;
}

START_TEST(test_overflow_thread_nested_call)
{
  reset_failures();
  enum { NP = 64 };
  siprec_shmap *map = make_map(4, NULL);
  ck_assert_int_eq(siprec_shmap_store(map, "k", 1, NULL), 0);
  pthread_barrier_t ready, release;
  pthread_barrier_init(&ready, NULL, NP + 1);
  pthread_barrier_init(&release, NULL, NP + 1);
  park_ctx p = { map, &ready, &release };
  pthread_t th[NP], nt;
  for (unsigned i = 0; i < NP; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, park_thread, &p), 0);
  pthread_barrier_wait(&ready);
  nested_ctx n = { map, 12345, 12345 };
  ck_assert_int_eq(pthread_create(&nt, NULL, overflow_nested_thread, &n), 0);
  pthread_join(nt, NULL);
  pthread_barrier_wait(&release);
  for (unsigned i = 0; i < NP; i++)
    pthread_join(th[i], NULL);
  pthread_barrier_destroy(&ready);
  pthread_barrier_destroy(&release);
  siprec_shmap_free(map);
  ck_assert_int_eq(n.outer_rc, 0);
  ck_assert_msg(n.inner_rc == SIPREC_EBUSY,
                "load from an inspect callback in a thread without a reader slot returned %d, "
                "not SIPREC_EBUSY",
                n.inner_rc);
}
END_TEST

/* One test case each, so CK_RUN_CASE can pick one. */
static void add_case(Suite *s, const char *name, const TTest *test)
{
  TCase *tc = tcase_create(name);
  /* Generous: valgrind and TSan runs are slow (iterations are scaled). */
  tcase_set_timeout(tc, 280);
  tcase_add_test(tc, test);
  suite_add_tcase(s, tc);
}

static Suite *stress_suite(void)
{
  Suite *s = suite_create("shmap_stress");
  add_case(s, "load_or_store_race", test_load_or_store_race);
  add_case(s, "mixed", test_mixed);
  add_case(s, "one_shard", test_one_shard_readers_writers);
  add_case(s, "more_threads_than_slots", test_more_threads_than_slots);
  add_case(s, "thread_churn", test_thread_churn);
  add_case(s, "overflow_nested_call", test_overflow_thread_nested_call);
  return s;
}

int main(void)
{
  return run_suite(stress_suite());
}
