/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What shmap.h promises beyond the basics (issue 9, part 3), one test each:
 * the not-found convention of every function that needs the key; swap with
 * `previous` NULL (the replaced value is destroyed, even under a walk); the
 * destructor called for NULL values on every path; a value destroyed before
 * delete/overwrite returns when no walk runs; len, shard_count and
 * shard_lens inside callbacks; a range callback's negative return; and
 * siprec_shmap_load_or_compute (found, computed, factory failure, factory
 * calling the map, allocation failure, NULL values).
 */
#include <siprec/shmap.h>

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "failalloc.h"

/* The destructor's record: how often each of a few values left the map,
 * how often NULL did, and whether the call happened inside an operation. */
typedef struct dtor_log {
  int vals[8];
  int nulls;
  int total;
} dtor_log;

static int obj[8]; /* the values: &obj[i] */

static void log_free(void *value, void *user)
{
  dtor_log *d = user;
  d->total++;
  if (!value) {
    d->nulls++;
    return;
  }
  ptrdiff_t i = (int *)value - obj;
  ck_assert(i >= 0 && i < 8);
  d->vals[i]++;
}

static siprec_shmap *new_map(dtor_log *d, unsigned shards, const siprec_allocator *mem)
{
  siprec_shmap_options *o;
  siprec_shmap *m = NULL;
  ck_assert_int_eq(siprec_shmap_options_new(&o, NULL), 0);
  if (shards)
    ck_assert_int_eq(siprec_shmap_options_set_shards(o, shards), 0);
  ck_assert_int_eq(siprec_shmap_options_set_value_free(o, log_free, d), 0);
  int rc = siprec_shmap_new(&m, o, mem);
  siprec_shmap_options_free(o);
  return rc == 0 ? m : NULL;
}

static int inspect_noop(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v, (void)u;
  return 3;
}

static int update_noop(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l, (void)v, (void)u;
  return 4;
}

/* Every function that needs the key says SIPREC_ENOTFOUND, the same way,
 * and leaves what it was given alone. */
START_TEST(test_not_found_convention)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 0, NULL);
  ck_assert_int_eq(siprec_shmap_store(m, "other", 5, &obj[0]), 0);
  void *v = &obj[7];
  ck_assert_int_eq(siprec_shmap_load(m, "k", 1, &v), SIPREC_ENOTFOUND);
  ck_assert_ptr_eq(v, &obj[7]);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, &v), SIPREC_ENOTFOUND);
  ck_assert_ptr_eq(v, &obj[7]);
  ck_assert_int_eq(siprec_shmap_delete(m, "k", 1), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, NULL, &obj[1]), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_inspect(m, "k", 1, inspect_noop, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_update(m, "k", 1, update_noop, NULL), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(siprec_shmap_len(m), 1);
  /* Present: 1 (done); present but not equal: 0. */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "other", 5, &obj[1], &obj[2]), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "other", 5, &obj[1]), 0);
  ck_assert_int_eq(siprec_shmap_load(m, "other", 5, &v), 1);
  ck_assert_ptr_eq(v, &obj[0]);
  ck_assert_int_eq(siprec_shmap_inspect(m, "other", 5, inspect_noop, NULL), 3);
  ck_assert_int_eq(siprec_shmap_update(m, "other", 5, update_noop, NULL), 4);
  ck_assert_int_eq(siprec_shmap_delete(m, "other", 5), 1);
  ck_assert_int_eq(d.total, 1);
  siprec_shmap_free(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* A walk visiting a shard defers destruction: swap with `previous` NULL
 * follows the same rule as store. One shard, so every key is in it. */

typedef struct walk_ctx {
  siprec_shmap *m;
  dtor_log *d;
  int during;
  int rc;
} walk_ctx;

static int swap_in_walk(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v;
  walk_ctx *w = u;
  w->rc = siprec_shmap_swap(w->m, "a", 1, &obj[2], NULL);
  w->during = w->d->vals[1];
  return 1; /* stop: one visit */
}

START_TEST(test_swap_without_previous)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 1, NULL);
  ck_assert_int_eq(siprec_shmap_swap(m, "a", 1, &obj[0], NULL), 0); /* inserted */
  ck_assert_int_eq(siprec_shmap_swap(m, "a", 1, &obj[1], NULL), 1);
  ck_assert_int_eq(d.vals[0], 1); /* destroyed before swap returned */
  ck_assert_int_eq(siprec_shmap_swap(m, "a", 1, &obj[1], NULL), 1);
  ck_assert_int_eq(d.vals[1], 0); /* the same pointer: no replacement */
  walk_ctx w = { m, &d, -1, 12345 };
  ck_assert_int_eq(siprec_shmap_range(m, swap_in_walk, &w), 1);
  ck_assert_int_eq(w.rc, 1);
  ck_assert_int_eq(w.during, 0); /* retired while the walk visited the shard */
  ck_assert_int_eq(d.vals[1], 1); /* destroyed when the walk left it */
  void *v;
  ck_assert_int_eq(siprec_shmap_load(m, "a", 1, &v), 1);
  ck_assert_ptr_eq(v, &obj[2]);
  siprec_shmap_free(m);
  ck_assert_int_eq(d.vals[2], 1);
  ck_assert_int_eq(d.total, 3);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* NULL is a value like any other: the destructor is called for it, once,
 * on every path that destroys a value. */

static int update_to_obj0(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l, (void)u;
  *v = &obj[0];
  return 0;
}

static int update_to_null(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l, (void)u;
  *v = NULL;
  return 0;
}

typedef struct null_walk {
  siprec_shmap *m;
  dtor_log *d;
  int during;
} null_walk;

static int delete_null_in_walk(const void *k, size_t l, void *v, void *u)
{
  (void)v;
  null_walk *w = u;
  ck_assert_int_eq(siprec_shmap_delete(w->m, k, l), 1);
  w->during = w->d->nulls;
  return 0;
}

START_TEST(test_destructor_null_values)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 1, NULL);
  int expect = 0;
  /* delete */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_delete(m, "k", 1), 1);
  ck_assert_int_eq(d.nulls, ++expect);
  /* overwrite by store, by swap without previous, by update */
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, &obj[0]), 0);
  ck_assert_int_eq(d.nulls, ++expect);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, &obj[0], NULL), 1);
  ck_assert_int_eq(d.nulls, ++expect);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_update(m, "k", 1, update_to_obj0, NULL), 0);
  ck_assert_int_eq(d.nulls, ++expect);
  /* NULL over NULL: no replacement */
  ck_assert_int_eq(siprec_shmap_update(m, "k", 1, update_to_null, NULL), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(d.nulls, expect);
  /* compare-and-swap, compare-and-delete */
  ck_assert_int_eq(siprec_shmap_compare_and_swap(m, "k", 1, NULL, &obj[1]), 1);
  ck_assert_int_eq(d.nulls, ++expect);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_compare_and_delete(m, "k", 1, NULL), 1);
  ck_assert_int_eq(d.nulls, ++expect);
  /* handed back: no call */
  void *v = &obj[7];
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_load_and_delete(m, "k", 1, &v), 1);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_swap(m, "k", 1, &obj[2], &v), 1);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(d.nulls, expect);
  /* retired during a walk, destroyed when it leaves */
  ck_assert_int_eq(siprec_shmap_store(m, "n", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_delete(m, "k", 1), 1); /* &obj[2] */
  null_walk w = { m, &d, -1 };
  ck_assert_int_eq(siprec_shmap_range(m, delete_null_in_walk, &w), 0);
  ck_assert_int_eq(w.during, expect);
  ck_assert_int_eq(d.nulls, ++expect);
  /* clear, free */
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, NULL), 0);
  ck_assert_int_eq(siprec_shmap_clear(m), 0);
  ck_assert_int_eq(d.nulls, ++expect);
  ck_assert_int_eq(siprec_shmap_store(m, "a", 1, NULL), 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(d.nulls, ++expect);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* len, shard_count and shard_lens take no lock: callable from callbacks of
 * the map, where they do not count the change under way yet. */

typedef struct count_ctx {
  siprec_shmap *m;
  size_t len;
  unsigned shards;
  int nlens;
  size_t lens_sum;
  int busy;
} count_ctx;

static void count_now(count_ctx *c)
{
  size_t lens[4] = { 0 };
  c->len = siprec_shmap_len(c->m);
  c->shards = siprec_shmap_shard_count(c->m);
  c->nlens = siprec_shmap_shard_lens(c->m, lens, 4);
  c->lens_sum = lens[0] + lens[1] + lens[2] + lens[3];
  c->busy = siprec_shmap_load(c->m, "k", 1, NULL);
}

static int count_inspect(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v;
  count_now(u);
  return 0;
}

static int count_compute(const void *k, size_t l, void **v, void *u)
{
  (void)k, (void)l;
  count_now(u);
  *v = &obj[3];
  return 0;
}

START_TEST(test_counts_inside_callbacks)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 4, NULL);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, &obj[0]), 0);
  ck_assert_int_eq(siprec_shmap_store(m, "j", 1, &obj[1]), 0);
  count_ctx c = { m, 0, 0, 0, 0, 0 };
  ck_assert_int_eq(siprec_shmap_inspect(m, "k", 1, count_inspect, &c), 0);
  ck_assert_uint_eq(c.len, 2);
  ck_assert_uint_eq(c.shards, 4);
  ck_assert_int_eq(c.nlens, 4);
  ck_assert_uint_eq(c.lens_sum, 2);
  ck_assert_int_eq(c.busy, SIPREC_EBUSY); /* the locking calls do not work */
  memset(&c, 0, sizeof c);
  c.m = m;
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "new", 3, count_compute, &c, NULL), 0);
  ck_assert_uint_eq(c.len, 2); /* the insert under way is not counted yet */
  ck_assert_uint_eq(c.lens_sum, 2);
  ck_assert_int_eq(c.busy, SIPREC_EBUSY);
  ck_assert_uint_eq(siprec_shmap_len(m), 3); /* published on unlock */
  siprec_shmap_free(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* A range callback's return value comes back as it is, negative included. */

static int stop_with(const void *k, size_t l, void *v, void *u)
{
  (void)k, (void)l, (void)v;
  return *(int *)u;
}

START_TEST(test_range_callback_return)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 0, NULL);
  ck_assert_int_eq(siprec_shmap_store(m, "k", 1, NULL), 0);
  int r = 0;
  ck_assert_int_eq(siprec_shmap_range(m, stop_with, &r), 0);
  r = 9;
  ck_assert_int_eq(siprec_shmap_range(m, stop_with, &r), 9);
  r = -1000;
  ck_assert_int_eq(siprec_shmap_range(m, stop_with, &r), -1000);
  /* Indistinguishable from range's own error, as the header says. */
  r = SIPREC_ENOMEM;
  ck_assert_int_eq(siprec_shmap_range(m, stop_with, &r), SIPREC_ENOMEM);
  siprec_shmap_free(m);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* load_or_compute                                                          */

typedef struct factory {
  siprec_shmap *m;
  int calls;
  int fail;       /* < 0: return it */
  void *make;     /* the value made */
  int inner[4];   /* calls to the map from the factory */
  char key[256];  /* the key the factory saw */
  size_t key_len;
} factory;

static int compute_cb(const void *k, size_t l, void **v, void *u)
{
  factory *f = u;
  f->calls++;
  ck_assert_ptr_null(*v);
  ck_assert_uint_lt(l, sizeof f->key);
  memcpy(f->key, k, l);
  f->key_len = l;
  if (f->m) {
    void *x;
    f->inner[0] = siprec_shmap_load(f->m, k, l, &x);
    f->inner[1] = siprec_shmap_store(f->m, "other", 5, NULL);
    f->inner[2] = siprec_shmap_load_or_compute(f->m, "other", 5, compute_cb, f, NULL);
    f->inner[3] = siprec_shmap_delete(f->m, "present", 7);
  }
  if (f->fail < 0)
    return f->fail;
  *v = f->make;
  return 0;
}

START_TEST(test_load_or_compute)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 0, NULL);
  factory f = { 0 };
  f.make = &obj[0];
  void *v = &obj[7];
  /* Absent: made once, stored, returned. */
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "k\0x", 3, compute_cb, &f, &v), 0);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_ptr_eq(v, &obj[0]);
  ck_assert_uint_eq(f.key_len, 3);
  ck_assert_mem_eq(f.key, "k\0x", 3);
  /* Present: loaded, the factory not called. */
  f.make = &obj[1];
  v = NULL;
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "k\0x", 3, compute_cb, &f, &v), 1);
  ck_assert_int_eq(f.calls, 1);
  ck_assert_ptr_eq(v, &obj[0]);
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "k\0x", 3, compute_cb, &f, NULL), 1);
  ck_assert_int_eq(f.calls, 1);
  /* The factory fails: its value comes back, nothing is stored. */
  f.fail = -4242;
  v = &obj[7];
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "bad", 3, compute_cb, &f, &v), -4242);
  ck_assert_int_eq(f.calls, 2);
  ck_assert_ptr_eq(v, &obj[7]);
  ck_assert_int_eq(siprec_shmap_load(m, "bad", 3, NULL), SIPREC_ENOTFOUND);
  ck_assert_uint_eq(siprec_shmap_len(m), 1);
  /* A NULL value can be made, and a positive return stores too. */
  f.fail = 0;
  f.make = NULL;
  v = &obj[7];
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "", 0, compute_cb, &f, &v), 0);
  ck_assert_ptr_null(v);
  ck_assert_int_eq(siprec_shmap_load(m, NULL, 0, &v), 1);
  /* Errors. */
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "k", 1, NULL, &f, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_or_compute(NULL, "k", 1, compute_cb, &f, &v), SIPREC_EINVAL);
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, NULL, 1, compute_cb, &f, &v), SIPREC_EINVAL);
  ck_assert_int_eq(f.calls, 3);
  ck_assert_int_eq(d.total, 0);
  siprec_shmap_free(m);
  ck_assert_int_eq(d.vals[0], 1);
  ck_assert_int_eq(d.nulls, 1);
}
END_TEST

/* The factory runs under the write lock: calls to the map fail with
 * SIPREC_EBUSY and change nothing; after it, the map works. */
START_TEST(test_load_or_compute_busy)
{
  dtor_log d = { 0 };
  siprec_shmap *m = new_map(&d, 0, NULL);
  ck_assert_int_eq(siprec_shmap_store(m, "present", 7, &obj[1]), 0);
  factory f = { 0 };
  f.m = m;
  f.make = &obj[0];
  ck_assert_int_eq(siprec_shmap_load_or_compute(m, "k", 1, compute_cb, &f, NULL), 0);
  ck_assert_int_eq(f.calls, 1); /* the nested load_or_compute did not call it */
  for (int i = 0; i < 4; i++)
    ck_assert_msg(f.inner[i] == SIPREC_EBUSY, "call %d from the factory gave %d", i, f.inner[i]);
  ck_assert_uint_eq(siprec_shmap_len(m), 2);
  ck_assert_int_eq(siprec_shmap_load(m, "other", 5, NULL), SIPREC_ENOTFOUND);
  ck_assert_int_eq(siprec_shmap_load(m, "present", 7, NULL), 1);
  ck_assert_int_eq(d.total, 0);
  siprec_shmap_free(m);
}
END_TEST

/* Allocation failures: every allocation of an insert (a growing table, an
 * external key) fails before the factory runs, so a value made is never
 * lost; the map stays consistent and leaks nothing. */
START_TEST(test_load_or_compute_oom)
{
  char long_key[200];
  memset(long_key, 'x', sizeof long_key);
  for (long k = 0;; k++) {
    failalloc fa;
    siprec_allocator hook;
    failalloc_init(&fa, &hook);
    dtor_log d = { 0 };
    siprec_shmap *m = new_map(&d, 1, &hook);
    ck_assert_ptr_nonnull(m);
    failalloc_arm(&fa, k);
    factory f = { 0 };
    f.make = &obj[0];
    int stored = 0, failed = 0;
    for (int i = 0; i < 40; i++) {
      size_t len = (size_t)(i % 2 ? 100 + i : 1 + i); /* inline and external keys */
      long_key[0] = (char)('a' + i);
      int calls = f.calls;
      int rc = siprec_shmap_load_or_compute(m, long_key, len, compute_cb, &f, NULL);
      if (rc == SIPREC_ENOMEM) {
        ck_assert_int_eq(f.calls, calls); /* before the factory */
        ck_assert_int_eq(siprec_shmap_load(m, long_key, len, NULL), SIPREC_ENOTFOUND);
        failed++;
      } else {
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(f.calls, calls + 1);
        ck_assert_int_eq(siprec_shmap_load(m, long_key, len, NULL), 1);
        stored++;
      }
    }
    ck_assert_uint_eq(siprec_shmap_len(m), (size_t)stored);
    ck_assert_int_eq(f.calls, stored);
    siprec_shmap_free(m);
    ck_assert_int_eq(d.vals[0], stored);
    ck_assert_int_eq(fa.outstanding, 0);
    long failures = fa.failures;
    failalloc_destroy(&fa);
    if (failures == 0) {
      ck_assert_int_eq(failed, 0);
      break; /* every allocation has been failed once */
    }
  }
}
END_TEST

static Suite *contract_suite(void)
{
  Suite *s = suite_create("shmap_contract");
  TCase *tc = tcase_create("contract");
  tcase_add_test(tc, test_not_found_convention);
  tcase_add_test(tc, test_swap_without_previous);
  tcase_add_test(tc, test_destructor_null_values);
  tcase_add_test(tc, test_counts_inside_callbacks);
  tcase_add_test(tc, test_range_callback_return);
  tcase_add_test(tc, test_load_or_compute);
  tcase_add_test(tc, test_load_or_compute_busy);
  tcase_add_test(tc, test_load_or_compute_oom);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(contract_suite());
}
