/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shard table (lib/shmap/table.h) on its own: Robin Hood invariants
 * after random operations against a reference, growth and shrink, external
 * keys, long clusters, and allocation failure. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "shmap/table.h"

#include "fast_check.h"
#include "check_main.h"

static int under_valgrind(void)
{
  const char *v = getenv("SIPREC_UNDER_VALGRIND");
  return v && *v && strcmp(v, "0") != 0;
}

/* ---------------------------------------------------------------------- */
/* Keys: "t<i>" then '#' padding up to a length cycling through 0..129, so
 * inline (<= 54) and external keys mix; the digits make them distinct. */

#define TKEY_MAX 160

static size_t tkey(unsigned char *buf, size_t i)
{
  int n = snprintf((char *)buf, TKEY_MAX, "t%zu", i);
  size_t len = (size_t)n;
  size_t want = (i * 37) % 130;
  while (len < want)
    buf[len++] = '#';
  return len;
}

static void *tval(size_t i)
{
  return (void *)(uintptr_t)(0x1000 + i * 8);
}

typedef struct fixture {
  siprec_allocator mem;
  sr_table_ctx ctx;
  sr_table t;
} fixture;

static void fixture_init(fixture *f, const siprec_allocator *hook)
{
  memset(f, 0, sizeof *f);
  ck_assert_int_eq(sr_alloc_init(&f->mem, hook), 0);
  f->ctx.mem = &f->mem;
  uint8_t k[16];
  for (int i = 0; i < 16; i++)
    k[i] = (uint8_t)(0xa0 + i);
  f->ctx.hkey = sr_siphash_key_from_bytes(k);
}

static uint64_t slot_hash_of(const fixture *f, const sr_slot *s)
{
  if (s->len == SR_TABLE_LEN_EXTERNAL)
    return sr_slot_ext(s).hash;
  return sr_table_hash(&f->ctx, s->key, s->len);
}

/* Structural invariants of a Robin Hood table. */
static void check_invariants(const fixture *f)
{
  const sr_table *t = &f->t;
  size_t cap = sr_table_capacity(t);
  if (!t->slots) {
    ck_assert_uint_eq(t->count, 0);
    return;
  }
  ck_assert_msg((cap & (cap - 1)) == 0, "capacity %zu is not a power of two", cap);
  ck_assert_uint_eq(t->mask, cap - 1);
  ck_assert_msg(((uintptr_t)t->slots & 63) == 0, "slots not cache-line aligned");
  size_t occupied = 0;
  for (size_t pos = 0; pos < cap; pos++) {
    const sr_slot *s = &t->slots[pos];
    if (!s->dist)
      continue;
    occupied++;
    uint64_t h = slot_hash_of(f, s);
    size_t home = (size_t)h & t->mask;
    ck_assert_msg((size_t)(s->dist - 1) == ((pos - home) & t->mask),
                  "slot %zu: dist %u but home %zu", pos, s->dist, home);
    ck_assert_uint_le(s->dist - 1u, SR_TABLE_MAX_DIST);
    /* Robin Hood: an entry is never further from home than its predecessor
     * plus one (so clusters have no holes and probes can stop early). */
    if (s->dist > 1) {
      const sr_slot *p = &t->slots[(pos - 1) & t->mask];
      ck_assert_msg(p->dist >= s->dist - 1, "slot %zu: dist %u after dist %u", pos, s->dist,
                    p->dist);
    }
    if (s->len == SR_TABLE_LEN_EXTERNAL) {
      sr_external_key e = sr_slot_ext(s);
      ck_assert_uint_gt(e.len, SR_TABLE_INLINE_MAX);
      ck_assert_ptr_nonnull(e.bytes);
    } else {
      ck_assert_uint_le(s->len, SR_TABLE_INLINE_MAX);
    }
  }
  ck_assert_uint_eq(occupied, t->count);
  ck_assert_msg(t->count * 4 <= cap * 3, "load %zu/%zu above 3/4", t->count, cap);
}

/* The table holds exactly the reference's keys (present[i] != 0). */
static void check_content(const fixture *f, const unsigned char *present, size_t n)
{
  unsigned char kb[TKEY_MAX];
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    size_t kl = tkey(kb, i);
    uint64_t h = sr_table_hash(&f->ctx, kb, kl);
    ptrdiff_t pos = sr_table_find(&f->t, h, kb, kl);
    if (!present[i]) {
      ck_assert_msg(pos < 0, "key %zu found but absent", i);
      continue;
    }
    count++;
    ck_assert_msg(pos >= 0, "key %zu not found", i);
    const sr_slot *s = &f->t.slots[pos];
    ck_assert_ptr_eq(s->value, tval(i));
    size_t sl;
    const unsigned char *sk = sr_slot_key(s, &sl);
    ck_assert_uint_eq(sl, kl);
    ck_assert_msg(kl == 0 || memcmp(sk, kb, kl) == 0, "key %zu bytes differ", i);
    ck_assert_uint_eq(s->len == SR_TABLE_LEN_EXTERNAL, kl > SR_TABLE_INLINE_MAX);
    if (s->len == SR_TABLE_LEN_EXTERNAL)
      ck_assert_uint_eq(sr_slot_ext(s).hash, h);
  }
  ck_assert_uint_eq(count, f->t.count);
}

static void insert_key(fixture *f, size_t i)
{
  unsigned char kb[TKEY_MAX];
  size_t kl = tkey(kb, i);
  uint64_t h = sr_table_hash(&f->ctx, kb, kl);
  ck_assert_int_lt(sr_table_find(&f->t, h, kb, kl), 0);
  size_t pos = (size_t)-1;
  ck_assert_int_eq(sr_table_insert(&f->t, &f->ctx, h, kb, kl, tval(i), &pos), 0);
  ck_assert_uint_lt(pos, sr_table_capacity(&f->t));
  ck_assert_int_eq(sr_table_find(&f->t, h, kb, kl), (ptrdiff_t)pos);
  ck_assert_ptr_eq(f->t.slots[pos].value, tval(i));
}

static void remove_key(fixture *f, size_t i)
{
  unsigned char kb[TKEY_MAX];
  size_t kl = tkey(kb, i);
  uint64_t h = sr_table_hash(&f->ctx, kb, kl);
  ptrdiff_t pos = sr_table_find(&f->t, h, kb, kl);
  ck_assert_int_ge(pos, 0);
  size_t before = f->t.count;
  ck_assert_ptr_eq(sr_table_remove_at(&f->t, &f->ctx, (size_t)pos), tval(i));
  ck_assert_uint_eq(f->t.count, before - 1);
  ck_assert_int_lt(sr_table_find(&f->t, h, kb, kl), 0);
}

START_TEST(test_empty_table)
{
  fixture f;
  fixture_init(&f, NULL);
  ck_assert_uint_eq(sr_table_capacity(&f.t), 0);
  ck_assert_int_lt(sr_table_find(&f.t, 12345, "x", 1), 0);
  sr_table_release(&f.t, &f.ctx); /* releasing an empty table is fine */
  ck_assert_ptr_null(f.t.slots);

  /* The empty key. */
  uint64_t h = sr_table_hash(&f.ctx, "", 0);
  size_t pos;
  ck_assert_int_eq(sr_table_insert(&f.t, &f.ctx, h, "", 0, tval(1), &pos), 0);
  ck_assert_uint_ge(sr_table_capacity(&f.t), 1);
  ck_assert_int_eq(sr_table_find(&f.t, h, "", 0), (ptrdiff_t)pos);
  ck_assert_int_lt(sr_table_find(&f.t, sr_table_hash(&f.ctx, "\0", 1), "\0", 1), 0);
  check_invariants(&f);
  ck_assert_ptr_eq(sr_table_remove_at(&f.t, &f.ctx, pos), tval(1));
  ck_assert_uint_eq(f.t.count, 0);
  ck_assert_int_lt(sr_table_find(&f.t, h, "", 0), 0);
  sr_table_release(&f.t, &f.ctx);
}
END_TEST

START_TEST(test_external_keys)
{
  fixture f;
  fixture_init(&f, NULL);
  static const size_t lens[] = { 53, 54, 55, 56, 255, 256, 1000, 70000 };
  unsigned char *buf = malloc(70000);
  ck_assert_ptr_nonnull(buf);
  memset(buf, 'e', 70000);
  size_t pos[8];
  for (size_t i = 0; i < 8; i++) {
    uint64_t h = sr_table_hash(&f.ctx, buf, lens[i]);
    ck_assert_int_eq(sr_table_insert(&f.t, &f.ctx, h, buf, lens[i], tval(i), &pos[i]), 0);
  }
  /* Positions may move on later inserts: look them up again. */
  for (size_t i = 0; i < 8; i++) {
    uint64_t h = sr_table_hash(&f.ctx, buf, lens[i]);
    ptrdiff_t p = sr_table_find(&f.t, h, buf, lens[i]);
    ck_assert_int_ge(p, 0);
    const sr_slot *s = &f.t.slots[p];
    ck_assert_ptr_eq(s->value, tval(i));
    if (lens[i] > SR_TABLE_INLINE_MAX) {
      ck_assert_uint_eq(s->len, SR_TABLE_LEN_EXTERNAL);
      sr_external_key e = sr_slot_ext(s);
      ck_assert_uint_eq(e.hash, h);
      ck_assert_uint_eq(e.len, lens[i]);
      ck_assert_ptr_ne(e.bytes, buf); /* copied */
      ck_assert(memcmp(e.bytes, buf, lens[i]) == 0);
    } else {
      ck_assert_uint_eq(s->len, lens[i]);
    }
    size_t kl;
    const unsigned char *k = sr_slot_key(s, &kl);
    ck_assert_uint_eq(kl, lens[i]);
    ck_assert(memcmp(k, buf, kl) == 0);
  }
  /* An external key with the right hash but other bytes is not found. */
  buf[999] = 'f';
  ck_assert_int_lt(sr_table_find(&f.t, sr_table_hash(&f.ctx, buf, 1000), buf, 1000), 0);
  buf[999] = 'e';
  check_invariants(&f);
  /* Remove some (their key copies are freed: ASan/valgrind would see leaks);
   * release frees the rest. */
  for (size_t i = 0; i < 8; i += 2) {
    uint64_t h = sr_table_hash(&f.ctx, buf, lens[i]);
    ptrdiff_t p = sr_table_find(&f.t, h, buf, lens[i]);
    ck_assert_int_ge(p, 0);
    ck_assert_ptr_eq(sr_table_remove_at(&f.t, &f.ctx, (size_t)p), tval(i));
  }
  check_invariants(&f);
  ck_assert_uint_eq(f.t.count, 4);
  sr_table_release(&f.t, &f.ctx);
  ck_assert_ptr_null(f.t.slots);
  ck_assert_uint_eq(f.t.count, 0);
  free(buf);
}
END_TEST

START_TEST(test_random_ops_vs_reference)
{
  const size_t n = 3000;
  const size_t steps = under_valgrind() ? 20000 : 120000;
  fixture f;
  fixture_init(&f, NULL);
  unsigned char *present = calloc(n, 1);
  ck_assert_ptr_nonnull(present);
  uint64_t rs = 0x243f6a8885a308d3ULL;
  size_t count = 0;
  for (size_t step = 0; step < steps; step++) {
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    /* Phases: mostly inserting, then mostly removing, so the table grows
     * and shrinks several times. */
    int grow = (step / 15000) % 2 == 0;
    size_t i = (size_t)(rs % n);
    unsigned r = (unsigned)((rs >> 40) % 100);
    if (!present[i] && r < (grow ? 80u : 20u)) {
      insert_key(&f, i);
      present[i] = 1;
      count++;
    } else if (present[i] && r >= (grow ? 80u : 20u)) {
      remove_key(&f, i);
      present[i] = 0;
      count--;
    } else {
      unsigned char kb[TKEY_MAX];
      size_t kl = tkey(kb, i);
      ptrdiff_t p = sr_table_find(&f.t, sr_table_hash(&f.ctx, kb, kl), kb, kl);
      ck_assert_int_eq(p >= 0, present[i]);
    }
    ck_assert_uint_eq(f.t.count, count);
    if (step % 2000 == 0) {
      check_invariants(&f);
      check_content(&f, present, n);
    }
  }
  check_invariants(&f);
  check_content(&f, present, n);
  sr_table_release(&f.t, &f.ctx);
  free(present);
}
END_TEST

START_TEST(test_grow_and_shrink)
{
  const size_t n = under_valgrind() ? 20000 : 100000;
  fixture f;
  fixture_init(&f, NULL);
  unsigned char *present = calloc(n, 1);
  ck_assert_ptr_nonnull(present);
  size_t last_cap = 0;
  int grew = 0;
  for (size_t i = 0; i < n; i++) {
    insert_key(&f, i);
    present[i] = 1;
    size_t cap = sr_table_capacity(&f.t);
    ck_assert_uint_ge(cap, last_cap); /* inserting never shrinks */
    grew += cap > last_cap;
    last_cap = cap;
    ck_assert_msg(f.t.count * 4 <= cap * 3, "load %zu/%zu", f.t.count, cap);
  }
  ck_assert_int_ge(grew, 10);
  /* Not absurdly large either: grown at 3/4, so at most 8/3 slots per entry. */
  ck_assert_uint_le(last_cap * 3, n * 8);
  check_invariants(&f);
  check_content(&f, present, n);

  /* Remove all but 100: the table shrinks. */
  for (size_t i = 100; i < n; i++) {
    remove_key(&f, i);
    present[i] = 0;
  }
  check_invariants(&f);
  check_content(&f, present, n);
  ck_assert_uint_le(sr_table_capacity(&f.t), 100 * 16);
  ck_assert_uint_ge(sr_table_capacity(&f.t), 100);

  /* Remove the rest: (nearly) nothing left allocated. */
  for (size_t i = 0; i < 100; i++) {
    remove_key(&f, i);
    present[i] = 0;
  }
  ck_assert_uint_eq(f.t.count, 0);
  ck_assert_uint_le(sr_table_capacity(&f.t), 64);
  check_invariants(&f);
  /* Usable again. */
  for (size_t i = 0; i < 1000; i++) {
    insert_key(&f, i);
    present[i] = 1;
  }
  check_invariants(&f);
  check_content(&f, present, n);
  sr_table_release(&f.t, &f.ctx);
  free(present);
}
END_TEST

/* Long clusters: external keys carry their own hash, so a test can give
 * many of them the same home slot. */
START_TEST(test_long_clusters)
{
  fixture f;
  fixture_init(&f, NULL);
  enum { NC = 200, NI = 300 };
  unsigned char kb[100];
  memset(kb, 'c', sizeof kb);
  /* NC external keys, all with hash 5 (and so the same home at every
   * capacity), interleaved with ordinary inline keys. */
  for (size_t i = 0; i < NC + NI; i++) {
    size_t pos;
    if (i % 5 < 2 && i / 5 * 2 + i % 5 < NC) {
      size_t c = i / 5 * 2 + i % 5;
      memcpy(kb, &c, sizeof c);
      ck_assert_int_eq(sr_table_insert(&f.t, &f.ctx, 5, kb, sizeof kb, tval(c), &pos), 0);
    } else {
      char sk[16];
      int sl = snprintf(sk, sizeof sk, "s%zu", i);
      ck_assert_int_eq(sr_table_insert(&f.t, &f.ctx, sr_table_hash(&f.ctx, sk, (size_t)sl), sk,
                                       (size_t)sl, tval(100000 + i), &pos),
                       0);
    }
  }
  check_invariants(&f);
  size_t found = 0, maxd = 0;
  for (size_t c = 0; c < NC; c++) {
    memcpy(kb, &c, sizeof c);
    ptrdiff_t p = sr_table_find(&f.t, 5, kb, sizeof kb);
    if (p < 0)
      continue;
    found++;
    ck_assert_ptr_eq(f.t.slots[p].value, tval(c));
    if (f.t.slots[p].dist - 1u > maxd)
      maxd = f.t.slots[p].dist - 1u;
    /* The same bytes under another hash: not found. */
    ck_assert_int_lt(sr_table_find(&f.t, 6, kb, sizeof kb), 0);
  }
  ck_assert_uint_eq(found, NC);
  ck_assert_uint_ge(maxd, NC - 1); /* they really share one probe chain */
  /* Remove the colliding keys in a scrambled order, checking as we go. */
  for (size_t j = 0; j < NC; j++) {
    size_t c = (j * 37) % NC;
    memcpy(kb, &c, sizeof c);
    ptrdiff_t p = sr_table_find(&f.t, 5, kb, sizeof kb);
    if (p < 0)
      continue;
    ck_assert_ptr_eq(sr_table_remove_at(&f.t, &f.ctx, (size_t)p), tval(c));
    ck_assert_int_lt(sr_table_find(&f.t, 5, kb, sizeof kb), 0);
    if (j % 10 == 0)
      check_invariants(&f);
  }
  check_invariants(&f);
  for (size_t i = 0; i < NC + NI; i++) {
    char sk[16];
    int sl = snprintf(sk, sizeof sk, "s%zu", i);
    ptrdiff_t p = sr_table_find(&f.t, sr_table_hash(&f.ctx, sk, (size_t)sl), sk, (size_t)sl);
    if (p >= 0)
      ck_assert_ptr_eq(f.t.slots[p].value, tval(100000 + i));
  }
  sr_table_release(&f.t, &f.ctx);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Allocation failure: a failed insert changes nothing; a failed shrink is
 * harmless. */

typedef struct failing {
  long calls, fail_at, failures, outstanding;
} failing;

static void *f_malloc(size_t n, void *user)
{
  failing *f = user;
  if (f->calls++ == f->fail_at) {
    f->failures++;
    return NULL;
  }
  void *p = malloc(n);
  if (p)
    f->outstanding++;
  return p;
}

static void *f_realloc(void *p, size_t n, void *user)
{
  failing *f = user;
  if (f->calls++ == f->fail_at) {
    f->failures++;
    return NULL;
  }
  return realloc(p, n);
}

static void f_free(void *p, void *user)
{
  failing *f = user;
  f->outstanding--;
  free(p);
}

START_TEST(test_allocation_failure)
{
  const size_t n = 400;
  unsigned char *present = calloc(n, 1);
  ck_assert_ptr_nonnull(present);
  long runs = 0, total = -1;
  for (long k = 0; k < 100000; k++) {
    failing fl = { 0, k, 0, 0 };
    siprec_allocator hook = { f_malloc, f_realloc, f_free, &fl };
    fixture f;
    fixture_init(&f, &hook);
    memset(present, 0, n);
    for (size_t i = 0; i < n; i++) {
      unsigned char kb[TKEY_MAX];
      size_t kl = tkey(kb, i);
      uint64_t h = sr_table_hash(&f.ctx, kb, kl);
      size_t pos;
      int rc = sr_table_insert(&f.t, &f.ctx, h, kb, kl, tval(i), &pos);
      if (rc == SIPREC_ENOMEM) {
        ck_assert_int_eq(fl.failures, 1);
        check_invariants(&f);
        check_content(&f, present, n);
        rc = sr_table_insert(&f.t, &f.ctx, h, kb, kl, tval(i), &pos);
      }
      ck_assert_int_eq(rc, 0);
      present[i] = 1;
    }
    for (size_t i = 0; i < n; i++) {
      if (i % 10 == 0)
        continue;
      remove_key(&f, i); /* a failed shrink keeps the table as it is */
      present[i] = 0;
    }
    check_invariants(&f);
    check_content(&f, present, n);
    sr_table_release(&f.t, &f.ctx);
    ck_assert_int_eq(fl.outstanding, 0);
    if (fl.failures == 0) {
      total = fl.calls;
      break;
    }
    runs++;
  }
  ck_assert_int_gt(total, 0);
  ck_assert_int_ge(runs, total);
  free(present);
}
END_TEST

static Suite *table_suite(void)
{
  Suite *s = suite_create("shmap_table");
  TCase *tc = tcase_create("table");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_empty_table);
  tcase_add_test(tc, test_external_keys);
  tcase_add_test(tc, test_random_ops_vs_reference);
  tcase_add_test(tc, test_grow_and_shrink);
  tcase_add_test(tc, test_long_clusters);
  tcase_add_test(tc, test_allocation_failure);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(table_suite());
}
