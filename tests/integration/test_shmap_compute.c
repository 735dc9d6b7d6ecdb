/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * siprec_shmap_load_or_compute under races (issue 9, part 3): threads ask
 * for the same keys at the same time; for each key the factory must succeed
 * exactly once, every caller must get the value it made, and what the
 * factory wrote into the value (plain, non-atomic stores) must be visible to
 * every thread that gets the value (ThreadSanitizer checks the ordering).
 * For every fourth key the factory fails the first time it is called: that
 * caller gets the factory's error, nothing is stored, and a later caller
 * makes the value. Worker threads record failures; the test asserts after
 * joining them.
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

#if defined(__SANITIZE_THREAD__)
#define SCALE 4
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCALE 4
#endif
#endif
#ifndef SCALE
#define SCALE 1
#endif

enum { NT = 8, NKEYS = 20000 / SCALE, ROUNDS = 4, FACTORY_FAIL = -77 };

typedef struct made {
  unsigned key;   /* written by the factory, plainly */
  unsigned maker; /* the thread whose call made it */
} made;

typedef struct shared {
  siprec_shmap *map;
  made vals[NKEYS];
  atomic_int calls[NKEYS];     /* factory calls per key */
  atomic_int successes[NKEYS]; /* ... that returned a value */
  atomic_int stored[NKEYS];    /* callers told "computed and stored" */
  atomic_int destroyed[NKEYS];
  pthread_barrier_t start;
  atomic_int bad;
  char why[200];
  pthread_mutex_t mu;
} shared;

typedef struct worker {
  shared *sh;
  unsigned tid;
  unsigned key; /* the key being asked for (factory argument) */
} worker;

static void report(shared *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(shared *sh, const char *fmt, ...)
{
  pthread_mutex_lock(&sh->mu);
  if (!atomic_exchange(&sh->bad, 1)) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sh->why, sizeof sh->why, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_unlock(&sh->mu);
}

static size_t make_key(char *buf, unsigned i)
{
  /* Every third key is longer than a slot's inline room. */
  return (size_t)snprintf(buf, 96, i % 3 ? "call-%u@host" : "call-%u@%070u", i, i);
}

static int factory(const void *k, size_t l, void **v, void *user)
{
  worker *w = user;
  shared *sh = w->sh;
  char ref[96];
  if (make_key(ref, w->key) != l || memcmp(ref, k, l) != 0)
    report(sh, "key %u: the factory got another key (length %zu)", w->key, l);
  int n = atomic_fetch_add(&sh->calls[w->key], 1);
  if (w->key % 4 == 0 && n == 0)
    return FACTORY_FAIL;
  made *m = &sh->vals[w->key];
  m->key = w->key;
  m->maker = w->tid;
  atomic_fetch_add(&sh->successes[w->key], 1);
  *v = m;
  return 0;
}

static void destroy(void *value, void *user)
{
  shared *sh = user;
  made *m = value;
  atomic_fetch_add(&sh->destroyed[m - sh->vals], 1);
}

static void *worker_main(void *arg)
{
  worker *w = arg;
  shared *sh = w->sh;
  char key[96];
  pthread_barrier_wait(&sh->start);
  for (unsigned j = 0; j < NKEYS; j++) {
    /* Different starting points and directions: real races on every key. */
    unsigned i = w->tid & 1 ? NKEYS - 1 - (j + w->tid * 7) % NKEYS : (j + w->tid * 13) % NKEYS;
    w->key = i;
    size_t len = make_key(key, i);
    void *got = NULL;
    int rc;
    do {
      rc = siprec_shmap_load_or_compute(sh->map, key, len, factory, w, &got);
    } while (rc == FACTORY_FAIL);
    if (rc != 0 && rc != 1) {
      report(sh, "key %u: load_or_compute returned %d", i, rc);
      continue;
    }
    if (rc == 0)
      atomic_fetch_add(&sh->stored[i], 1);
    made *m = got;
    if (m != &sh->vals[i] || m->key != i)
      report(sh, "key %u: got another value (rc %d)", i, rc);
    else if (rc == 0 && m->maker != w->tid)
      report(sh, "key %u: stored, but made by thread %u", i, m->maker);
  }
  return NULL;
}

START_TEST(test_compute_race)
{
  static const unsigned shard_choices[ROUNDS] = { 1, 4, 32, 32 };
  for (unsigned round = 0; round < ROUNDS; round++) {
    shared *sh = calloc(1, sizeof *sh);
    ck_assert_ptr_nonnull(sh);
    pthread_mutex_init(&sh->mu, NULL);
    siprec_shmap_options *o;
    ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
    ck_assert_int_eq(siprec_shmap_options_set_shards(o, shard_choices[round]), 0);
    ck_assert_int_eq(siprec_shmap_options_set_value_free(o, destroy, sh), 0);
    ck_assert_int_eq(siprec_shmap_new(&sh->map, o, NULL), 0);
    siprec_shmap_options_free(o);
    pthread_barrier_init(&sh->start, NULL, NT);
    worker w[NT];
    pthread_t th[NT];
    for (unsigned t = 0; t < NT; t++) {
      w[t] = (worker){ sh, t, 0 };
      ck_assert_int_eq(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (unsigned t = 0; t < NT; t++)
      pthread_join(th[t], NULL);
    pthread_barrier_destroy(&sh->start);
    ck_assert_msg(!atomic_load(&sh->bad), "round %u: %s", round, sh->why);
    for (unsigned i = 0; i < NKEYS; i++) {
      ck_assert_msg(atomic_load(&sh->successes[i]) == 1, "key %u: the factory made %d values", i,
                    atomic_load(&sh->successes[i]));
      ck_assert_int_eq(atomic_load(&sh->stored[i]), 1);
      ck_assert_int_eq(atomic_load(&sh->calls[i]), i % 4 == 0 ? 2 : 1);
    }
    ck_assert_uint_eq(siprec_shmap_len(sh->map), NKEYS);
    siprec_shmap_free(sh->map);
    for (unsigned i = 0; i < NKEYS; i++)
      ck_assert_int_eq(atomic_load(&sh->destroyed[i]), 1);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
  }
}
END_TEST

static Suite *compute_suite(void)
{
  Suite *s = suite_create("shmap_compute");
  TCase *tc = tcase_create("compute");
  tcase_set_timeout(tc, 280);
  tcase_add_test(tc, test_compute_race);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(compute_suite());
}
