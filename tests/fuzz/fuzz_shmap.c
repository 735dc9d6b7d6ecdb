/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness for siprec_shmap: the input is decoded as a sequence of
 * map operations, each checked against a plain reference model (an array of
 * (key, value) pairs searched linearly).
 *
 * Input layout
 *   byte 0   shard count 1 << (b % 7) (1..64); bit 3: equality callback
 *            (values with the same 2-bit tag are equal); bit 4: failing
 *            allocator; bit 5: the destructor calls the map; bit 6: counting
 *            allocator even without failures
 *   byte 1,2 failing allocator: 1 in 2..64 allocations fails (byte 1), PRNG
 *            seed (byte 2)
 *   then     operations: an opcode byte and its arguments (keys, values,
 *            flags), read on demand; missing bytes read as 0.
 *
 * Keys: empty (sometimes passed as a NULL pointer), short, around the 54-byte
 * inline limit, or long (55..300 bytes), with NUL-rich contents; or a key seen
 * before (a pool of recent keys, or one currently in the model).
 * Values: NULL, tagged integers ((id << 1) | 1) or small heap objects; each is
 * fresh when offered to the map, so it belongs to at most one key.
 *
 * Checked, besides every return code and output value:
 * - the destructor runs exactly once per value that leaves the map (and never
 *   for values handed back to the caller), never while the model still holds
 *   the value, immediately when no range walk pins the value's shard and only
 *   when the walk leaves it otherwise;
 * - range walks shards in order; the entries visited in a shard are exactly
 *   the ones it held when the walk reached it, with the values they had then,
 *   each once; values handed to the callback are alive; the callback may
 *   store, delete (its own key too), clear, range again, or stop the walk;
 * - inspect/update callbacks see the model's value, calls to the map from
 *   them fail with SIPREC_EBUSY; update may replace the value;
 * - shard_lens and probe stats agree with the model shard by shard (the shard
 *   of a key is the top bits of SipHash-1-3 under the fixed hash key);
 * - with the failing allocator, a call that returns SIPREC_ENOMEM did see an
 *   allocation fail and left the map equal to the model;
 * - no allocation made through the allocator hook outlives the map.
 */
/* The experimental section: the shard probe statistics, headers-only models. */
#define SIPREC_EXPERIMENTAL
#include <siprec/shmap.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/siphash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
  do {                                                                                             \
    if (!(c))                                                                                      \
      __builtin_trap();                                                                            \
  } while (0)

enum {
  MAX_OPS = 1000,      /* operations (and callback actions) per input */
  MAX_KEY = 300,       /* longest generated key */
  MODEL_CAP = 256,     /* most keys in the model at once */
  POOL = 32,           /* recently used keys */
  MAX_WALKS = 3,       /* nested range depth */
  MAX_RANGES = 80,     /* range calls per input */
  MAX_SHARDS = 64,
  ARENA_CAP = 1 << 20, /* key bytes per input */
};

static const uint8_t hash_key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                      0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

/* ---------------------------------------------------------------------- */
/* Values                                                                   */

#define HOBJ_LIVE 0x51a9b0b1u
#define HOBJ_DEAD 0xdeadbeefu

typedef struct hobj {
  uint32_t magic;
  uint32_t id;
} hobj;

enum vstate { V_HARNESS, V_MODEL, V_LIMBO, V_DEAD };

typedef struct vrec {
  void *ptr;
  hobj *heap; /* NULL for a tagged integer */
  uint8_t state;
  uint8_t tag;
  uint8_t has_key;
  unsigned shard;
  uint32_t koff, klen;
} vrec;

typedef struct model_ent {
  uint32_t koff, klen;
  unsigned shard;
  void *val;
} model_ent;

typedef struct snap_ent {
  uint32_t koff, klen;
  void *val;
  int visited;
} snap_ent;

typedef struct walk {
  int cur; /* shard being visited, -1 before the first visit */
  int stop_code;
  size_t nsnap;
  snap_ent snap[MODEL_CAP + 8];
} walk;

static struct {
  /* input */
  const uint8_t *in;
  size_t in_len, in_pos;
  int ops_left;
  int ranges_left;

  /* map */
  siprec_shmap *map;
  unsigned nshards;
  unsigned shift;
  sr_siphash_key hkey;
  int use_equal;
  int dtor_calls_map;
  int freeing;

  /* allocator */
  int fail_mode;
  int fail_on;
  unsigned fail_den;
  uint64_t fail_rng;
  unsigned long fails;
  long live_allocs;

  /* values */
  vrec *recs;
  size_t nrecs, caprecs;
  long null_limbo;
  unsigned long dtor_calls, expected_dtors;

  /* keys */
  uint8_t *arena;
  size_t arena_used;
  uint32_t pool_off[POOL], pool_len[POOL];
  unsigned pool_n, pool_next;

  /* model */
  model_ent model[MODEL_CAP + 8];
  size_t nmodel;

  /* walks */
  walk walks[MAX_WALKS];
  int nwalks;

  /* callbacks */
  int cb_calls;
} g;

static uint8_t rd(void)
{
  return g.in_pos < g.in_len ? g.in[g.in_pos++] : 0;
}

static uint64_t xorshift64(uint64_t *s)
{
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* ---------------------------------------------------------------------- */
/* Allocator                                                                */

static int should_fail(void)
{
  if (!g.fail_on)
    return 0;
  if (xorshift64(&g.fail_rng) % g.fail_den == 0) {
    g.fails++;
    return 1;
  }
  return 0;
}

static void *fa_malloc(size_t n, void *user)
{
  CHECK(user == &g);
  CHECK(n > 0);
  if (should_fail())
    return NULL;
  void *p = malloc(n);
  if (p)
    g.live_allocs++;
  return p;
}

static void *fa_realloc(void *p, size_t n, void *user)
{
  CHECK(user == &g);
  CHECK(p != NULL && n > 0);
  if (should_fail())
    return NULL;
  return realloc(p, n);
}

static void fa_free(void *p, void *user)
{
  CHECK(user == &g);
  CHECK(p != NULL);
  g.live_allocs--;
  free(p);
}

static const siprec_allocator fail_alloc = { fa_malloc, fa_realloc, fa_free, &g };

/* ---------------------------------------------------------------------- */
/* Keys                                                                     */

static unsigned shard_of(const void *key, size_t len)
{
  if (g.nshards == 1)
    return 0;
  return (unsigned)(sr_siphash13(g.hkey, len ? key : "", len) >> g.shift);
}

static const uint8_t *kptr(uint32_t off)
{
  return g.arena + off;
}

/* Copy a key into the arena (it may already be there). */
static uint32_t arena_add(const void *key, size_t len)
{
  CHECK(g.arena_used + len <= ARENA_CAP);
  uint32_t off = (uint32_t)g.arena_used;
  if (len)
    memmove(g.arena + off, key, len);
  g.arena_used += len;
  return off;
}

static void pool_add(uint32_t off, uint32_t len)
{
  g.pool_off[g.pool_next] = off;
  g.pool_len[g.pool_next] = len;
  g.pool_next = (g.pool_next + 1) % POOL;
  if (g.pool_n < POOL)
    g.pool_n++;
}

static int key_eq(uint32_t off, uint32_t len, const void *key, size_t klen)
{
  return len == klen && (len == 0 || memcmp(kptr(off), key, len) == 0);
}

static ptrdiff_t model_find(const void *key, size_t len)
{
  for (size_t i = 0; i < g.nmodel; i++)
    if (key_eq(g.model[i].koff, g.model[i].klen, key, len))
      return (ptrdiff_t)i;
  return -1;
}

/* A key for the next operation: new, from the pool or from the model. When
 * the model is full, always one of the model's keys. */
typedef struct fkey {
  uint32_t off, len;
  const void *ptr; /* what is passed to the map (NULL for some empty keys) */
} fkey;

static fkey get_key(void)
{
  fkey k;
  uint8_t b = rd();
  if (g.nmodel >= MODEL_CAP || ((b & 0xc0) == 0xc0 && g.nmodel)) {
    model_ent *e = &g.model[rd() % g.nmodel];
    k.off = e->koff;
    k.len = e->klen;
  } else if ((b & 0xc0) == 0x80 && g.pool_n) {
    unsigned i = rd() % g.pool_n;
    k.off = g.pool_off[i];
    k.len = g.pool_len[i];
  } else {
    size_t len;
    uint8_t lb = rd();
    switch (b & 3) {
    case 0: len = 0; break;
    case 1: len = 1 + lb % 8; break;
    case 2: len = 48 + lb % 14; break; /* around the 54-byte inline limit */
    default: len = 55 + lb % (MAX_KEY - 54); break;
    }
    uint8_t mask = (b & 0x0c) == 0 ? 0x00 : (b & 0x0c) == 4 ? 0x01 : 0xff;
    uint64_t s = 0x9e3779b97f4a7c15ull ^ (uint64_t)rd() * 0x100000001b3ull;
    CHECK(g.arena_used + len <= ARENA_CAP);
    k.off = (uint32_t)g.arena_used;
    k.len = (uint32_t)len;
    uint8_t *p = g.arena + g.arena_used;
    for (size_t i = 0; i < len; i++)
      p[i] = (uint8_t)(xorshift64(&s) >> 24) & mask;
    if (len && (b & 0x10))
      p[0] = rd();
    g.arena_used += len;
    pool_add(k.off, k.len);
  }
  k.ptr = (k.len == 0 && (b & 0x20)) ? NULL : kptr(k.off);
  return k;
}

/* ---------------------------------------------------------------------- */
/* Value records                                                            */

static vrec *rec_of(const void *v)
{
  if (!v)
    return NULL;
  uintptr_t u = (uintptr_t)v;
  size_t id;
  if (u & 1) {
    id = (size_t)(u >> 1);
  } else {
    const hobj *h = v;
    CHECK(h->magic == HOBJ_LIVE || h->magic == HOBJ_DEAD);
    id = h->id;
  }
  CHECK(id < g.nrecs);
  CHECK(g.recs[id].ptr == v);
  return &g.recs[id];
}

static void *new_value(void)
{
  uint8_t b = rd();
  if ((b & 7) == 0)
    return NULL;
  if (g.nrecs == g.caprecs) {
    size_t cap = g.caprecs ? g.caprecs * 2 : 256;
    vrec *r = realloc(g.recs, cap * sizeof *r);
    CHECK(r != NULL);
    g.recs = r;
    g.caprecs = cap;
  }
  size_t id = g.nrecs++;
  vrec *r = &g.recs[id];
  memset(r, 0, sizeof *r);
  r->state = V_HARNESS;
  r->tag = (uint8_t)((b >> 3) & 3);
  if ((b & 7) <= 3) {
    r->ptr = (void *)(((uintptr_t)id << 1) | 1);
  } else {
    r->heap = malloc(sizeof *r->heap);
    CHECK(r->heap != NULL);
    r->heap->magic = HOBJ_LIVE;
    r->heap->id = (uint32_t)id;
    r->ptr = r->heap;
  }
  return r->ptr;
}

static unsigned tag_of(const void *v)
{
  return v ? rec_of(v)->tag : 0;
}

/* Whether `stored` counts as equal to `expected` for CAS / CAD. */
static int model_equal(const void *stored, const void *expected)
{
  if (g.use_equal)
    return tag_of(stored) == tag_of(expected);
  return stored == expected;
}

static int equal_cb(const void *stored, const void *expected, void *user)
{
  CHECK(user == &g.walks);
  const vrec *r = rec_of(stored);
  CHECK(!r || r->state == V_MODEL || r->state == V_LIMBO);
  return tag_of(stored) == tag_of(expected);
}

/* Is `shard` being visited by one of the active walks (other than `skip`)? */
static int pinned_except(unsigned shard, const walk *skip)
{
  for (int i = 0; i < g.nwalks; i++)
    if (&g.walks[i] != skip && g.walks[i].cur == (int)shard)
      return 1;
  return 0;
}

static int pinned(unsigned shard)
{
  return pinned_except(shard, NULL);
}

/* A fresh value enters the model under a key. */
static void v_enter(void *v, const fkey *k, unsigned shard)
{
  vrec *r = rec_of(v);
  if (!r)
    return;
  CHECK(r->state == V_HARNESS && !r->has_key);
  r->state = V_MODEL;
  r->has_key = 1;
  r->koff = k->off;
  r->klen = k->len;
  r->shard = shard;
}

/* A value offered to the map stays with the caller. */
static void v_keep(void *v)
{
  vrec *r = rec_of(v);
  CHECK(!r || r->state == V_HARNESS);
}

/* The map hands a model value back to the caller. */
static void v_handed_back(void *v)
{
  vrec *r = rec_of(v);
  if (r) {
    CHECK(r->state == V_MODEL);
    r->state = V_HARNESS;
  }
}

/* A model value is about to leave through the destructor (before the call). */
static void v_leave_begin(void *v)
{
  vrec *r = rec_of(v);
  if (r) {
    CHECK(r->state == V_MODEL);
    r->state = V_LIMBO;
  } else {
    g.null_limbo++;
  }
}

/* The call succeeded: destroyed now, or deferred while a walk pins the shard. */
static void v_leave_commit(void *v, unsigned shard)
{
  g.expected_dtors++;
  vrec *r = rec_of(v);
  if (!r)
    return;
  CHECK(r->shard == shard);
  if (pinned(shard))
    CHECK(r->state == V_LIMBO); /* not before the walk leaves the shard */
  else
    CHECK(r->state == V_DEAD);
}

/* The call failed: the value stays in the map, alive. */
static void v_leave_abort(void *v)
{
  vrec *r = rec_of(v);
  if (r) {
    CHECK(r->state == V_LIMBO);
    r->state = V_MODEL;
  } else {
    CHECK(g.null_limbo > 0);
    g.null_limbo--;
  }
}

static void value_free_cb(void *v, void *user)
{
  CHECK(user == &g);
  g.dtor_calls++;
  vrec *r = rec_of(v);
  if (r) {
    CHECK(r->state == V_LIMBO); /* never while the model holds it, never twice */
    r->state = V_DEAD;
    if (r->heap)
      r->heap->magic = HOBJ_DEAD;
  } else {
    CHECK(g.null_limbo > 0);
    g.null_limbo--;
  }
  if (g.dtor_calls_map && !g.freeing) {
    /* Destructors run with no lock held: the map is usable. */
    int rc = siprec_shmap_load(g.map, NULL, 0, NULL);
    CHECK(rc == SIPREC_ENOTFOUND || rc == 1);
    CHECK(siprec_shmap_len(g.map) <= MODEL_CAP + 8);
  }
}

/* ---------------------------------------------------------------------- */
/* Model                                                                    */

static void model_insert(const fkey *k, unsigned shard, void *v)
{
  CHECK(g.nmodel < MODEL_CAP + 8);
  model_ent *e = &g.model[g.nmodel++];
  e->koff = k->off;
  e->klen = k->len;
  e->shard = shard;
  e->val = v;
  v_enter(v, k, shard);
}

static void model_remove(size_t i)
{
  g.model[i] = g.model[--g.nmodel];
}

static size_t model_shard_count(unsigned shard)
{
  size_t n = 0;
  for (size_t i = 0; i < g.nmodel; i++)
    n += g.model[i].shard == shard;
  return n;
}

/* The map holds exactly the model (loads allocate nothing). */
static void full_check(void)
{
  CHECK(siprec_shmap_len(g.map) == g.nmodel);
  for (size_t i = 0; i < g.nmodel; i++) {
    void *v = (void *)&g;
    CHECK(siprec_shmap_load(g.map, kptr(g.model[i].koff), g.model[i].klen, &v) == 1);
    CHECK(v == g.model[i].val);
  }
  size_t counts[MAX_SHARDS];
  CHECK(siprec_shmap_shard_lens(g.map, counts, MAX_SHARDS) == (int)g.nshards);
  for (unsigned s = 0; s < g.nshards; s++)
    CHECK(counts[s] == model_shard_count(s));
}

/* An ENOMEM result: only with an allocation that failed during the call. */
static void check_enomem(unsigned long fails_before)
{
  CHECK(g.fail_mode);
  CHECK(g.fails > fails_before);
}

/* No walk: nothing may be waiting for its destructor. */
static void check_quiescent(void)
{
  if (g.nwalks)
    return;
  CHECK(g.null_limbo == 0);
  CHECK(g.dtor_calls == g.expected_dtors);
}

/* ---------------------------------------------------------------------- */
/* Operations                                                               */

static void do_op(void);

static void op_store(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  void *v = new_value();
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  if (i < 0 && g.nmodel >= MODEL_CAP) {
    v_keep(v);
    return;
  }
  void *old = i >= 0 ? g.model[i].val : NULL;
  /* Storing the pointer already there (only NULL repeats) destroys nothing. */
  int replaces = i >= 0 && old != v;
  if (replaces)
    v_leave_begin(old);
  unsigned long f = g.fails;
  int rc = siprec_shmap_store(g.map, k->ptr, k->len, v);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(i < 0 || replaces); /* an insert, or a retire of the replaced value */
    if (replaces)
      v_leave_abort(old);
    v_keep(v);
    full_check();
    return;
  }
  CHECK(rc == 0);
  if (i >= 0 && !replaces) {
    v_keep(v);
  } else if (i >= 0) {
    g.model[i].val = v;
    v_enter(v, k, shard);
    v_leave_commit(old, shard);
  } else {
    model_insert(k, shard, v);
  }
}

static void op_load(const fkey *k)
{
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  void *v = (void *)&g;
  int with_out = rd() & 1;
  int rc = siprec_shmap_load(g.map, k->ptr, k->len, with_out ? &v : NULL);
  CHECK(rc == (i >= 0 ? 1 : SIPREC_ENOTFOUND));
  if (with_out)
    CHECK(v == (i >= 0 ? g.model[i].val : (void *)&g));
}

static void op_load_or_store(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  void *v = new_value();
  int with_out = rd() & 1;
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  if (i < 0 && g.nmodel >= MODEL_CAP) {
    v_keep(v);
    return;
  }
  void *actual = (void *)&g;
  unsigned long f = g.fails;
  int rc = siprec_shmap_load_or_store(g.map, k->ptr, k->len, v, with_out ? &actual : NULL);
  if (i >= 0) {
    CHECK(rc == 1);
    if (with_out)
      CHECK(actual == g.model[i].val);
    v_keep(v);
    return;
  }
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    v_keep(v);
    full_check();
    return;
  }
  CHECK(rc == 0);
  if (with_out)
    CHECK(actual == v);
  model_insert(k, shard, v);
}

/* load_or_compute: the factory runs only for an absent key, after the room
 * for it was made (so never before SIPREC_ENOMEM), may fail, and finds the
 * map busy. */
typedef struct compute_arg {
  int calls;
  int fail;
  void *made;
} compute_arg;

static int fuzz_compute(const void *key, size_t len, void **value, void *user)
{
  compute_arg *a = user;
  a->calls++;
  CHECK(*value == NULL);
  CHECK(siprec_shmap_load(g.map, key, len, NULL) == SIPREC_EBUSY);
  if (a->fail)
    return -99;
  a->made = new_value();
  *value = a->made;
  return 0;
}

static void op_load_or_compute(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  int with_out = rd() & 1;
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  if (i < 0 && g.nmodel >= MODEL_CAP)
    return;
  compute_arg a = { 0, (rd() & 7) == 0, NULL };
  void *actual = (void *)&g;
  unsigned long f = g.fails;
  int rc = siprec_shmap_load_or_compute(g.map, k->ptr, k->len, fuzz_compute, &a,
                                        with_out ? &actual : NULL);
  if (i >= 0) {
    CHECK(rc == 1 && a.calls == 0);
    if (with_out)
      CHECK(actual == g.model[i].val);
    return;
  }
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(a.calls == 0);
    full_check();
    return;
  }
  CHECK(a.calls == 1);
  if (a.fail) {
    CHECK(rc == -99 && actual == (void *)&g);
    CHECK(siprec_shmap_len(g.map) == g.nmodel);
    return;
  }
  CHECK(rc == 0);
  if (with_out)
    CHECK(actual == a.made);
  model_insert(k, shard, a.made);
}

static void op_load_and_delete(const fkey *k)
{
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  int with_out = rd() & 1;
  void *v = (void *)&g;
  unsigned long f = g.fails;
  int rc = siprec_shmap_load_and_delete(g.map, k->ptr, k->len, with_out ? &v : NULL);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    full_check();
    return;
  }
  if (i < 0) {
    CHECK(rc == SIPREC_ENOTFOUND);
    if (with_out)
      CHECK(v == (void *)&g);
    return;
  }
  CHECK(rc == 1);
  if (with_out)
    CHECK(v == g.model[i].val);
  v_handed_back(g.model[i].val);
  model_remove((size_t)i);
}

static void op_delete(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  if (i < 0) {
    CHECK(siprec_shmap_delete(g.map, k->ptr, k->len) == SIPREC_ENOTFOUND);
    return;
  }
  void *old = g.model[i].val;
  v_leave_begin(old);
  unsigned long f = g.fails;
  int rc = siprec_shmap_delete(g.map, k->ptr, k->len);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(pinned(shard)); /* documented: only while a walk visits the shard */
    v_leave_abort(old);
    full_check();
    return;
  }
  CHECK(rc == 1);
  model_remove((size_t)i);
  v_leave_commit(old, shard);
}

static void op_swap(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  void *v = new_value();
  int with_out = rd() & 1;
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  if (i < 0 && g.nmodel >= MODEL_CAP) {
    v_keep(v);
    return;
  }
  void *prev = (void *)&g;
  void *old = i >= 0 ? g.model[i].val : NULL;
  /* Without `previous` nobody takes the old value: destroyed as by store
   * (not when it is the same pointer: only NULL repeats). */
  int replaces = i >= 0 && !with_out && old != v;
  if (replaces)
    v_leave_begin(old);
  unsigned long f = g.fails;
  int rc = siprec_shmap_swap(g.map, k->ptr, k->len, v, with_out ? &prev : NULL);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(i < 0 || replaces); /* an insert, or a retire of the replaced value */
    if (replaces)
      v_leave_abort(old);
    v_keep(v);
    full_check();
    return;
  }
  if (i >= 0) {
    CHECK(rc == 1);
    if (with_out) {
      CHECK(prev == old);
      v_handed_back(old);
    } else if (!replaces) {
      v_keep(v);
      return;
    }
    g.model[i].val = v;
    v_enter(v, k, shard);
    if (replaces)
      v_leave_commit(old, shard);
  } else {
    CHECK(rc == 0);
    if (with_out)
      CHECK(prev == NULL);
    model_insert(k, shard, v);
  }
}

/* An "expected" value for CAS / CAD: the current one, or another. */
static void *pick_expected(ptrdiff_t i)
{
  uint8_t b = rd();
  if ((b & 3) != 0 && i >= 0)
    return g.model[i].val;
  if ((b & 3) == 0 && g.nrecs)
    return g.recs[rd() % g.nrecs].ptr;
  return NULL;
}

static void op_cas(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  void *expected = pick_expected(i);
  void *v = new_value();
  int hit = i >= 0 && model_equal(g.model[i].val, expected);
  void *old = hit ? g.model[i].val : NULL;
  /* Swapping a value for itself (only NULL repeats) destroys nothing. */
  int replaces = hit && old != v;
  if (replaces)
    v_leave_begin(old);
  unsigned long f = g.fails;
  int rc = siprec_shmap_compare_and_swap(g.map, k->ptr, k->len, expected, v);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(replaces);
    v_leave_abort(old);
    v_keep(v);
    full_check();
    return;
  }
  CHECK(rc == (i < 0 ? SIPREC_ENOTFOUND : hit));
  if (!replaces) {
    v_keep(v);
    return;
  }
  g.model[i].val = v;
  v_enter(v, k, shard);
  v_leave_commit(old, shard);
}

static void op_cad(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  void *expected = pick_expected(i);
  int hit = i >= 0 && model_equal(g.model[i].val, expected);
  void *old = hit ? g.model[i].val : NULL;
  if (hit)
    v_leave_begin(old);
  unsigned long f = g.fails;
  int rc = siprec_shmap_compare_and_delete(g.map, k->ptr, k->len, expected);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(hit);
    v_leave_abort(old);
    full_check();
    return;
  }
  CHECK(rc == (i < 0 ? SIPREC_ENOTFOUND : hit));
  if (!hit)
    return;
  model_remove((size_t)i);
  v_leave_commit(old, shard);
}

/* ---- range ---- */

/* Everything retired from `shard` must be destroyed once no walk pins it. */
static void check_unpinned(unsigned shard, const walk *w)
{
  if (pinned_except(shard, w))
    return;
  for (size_t i = 0; i < g.nrecs; i++)
    CHECK(!(g.recs[i].state == V_LIMBO && g.recs[i].shard == shard));
}

/* The walk leaves its current shard (complete: every entry was visited). */
static void walk_leave(walk *w, int complete)
{
  if (w->cur < 0)
    return;
  if (complete)
    for (size_t i = 0; i < w->nsnap; i++)
      CHECK(w->snap[i].visited);
  check_unpinned((unsigned)w->cur, w);
}

/* The walk reaches `shard` (nshards: the end): the shards in between were
 * empty, and the new shard's entries are the model's now. */
static void walk_enter(walk *w, unsigned shard)
{
  for (unsigned s = (unsigned)(w->cur + 1); s < shard; s++)
    CHECK(model_shard_count(s) == 0);
  w->cur = (int)shard;
  w->nsnap = 0;
  if (shard >= g.nshards)
    return;
  for (size_t i = 0; i < g.nmodel; i++) {
    if (g.model[i].shard != shard)
      continue;
    CHECK(w->nsnap < sizeof w->snap / sizeof w->snap[0]);
    snap_ent *e = &w->snap[w->nsnap++];
    e->koff = g.model[i].koff;
    e->klen = g.model[i].klen;
    e->val = g.model[i].val;
    e->visited = 0;
  }
  CHECK(w->nsnap > 0); /* an empty shard is skipped */
}

static int range_cb(const void *kp, size_t len, void *value, void *user)
{
  walk *w = user;
  CHECK(g.nwalks > 0 && w == &g.walks[g.nwalks - 1]);
  CHECK(kp != NULL);
  unsigned shard = shard_of(kp, len);
  CHECK((int)shard >= w->cur);
  if ((int)shard != w->cur) {
    walk_leave(w, 1);
    walk_enter(w, shard);
  }
  size_t i;
  for (i = 0; i < w->nsnap; i++)
    if (!w->snap[i].visited && key_eq(w->snap[i].koff, w->snap[i].klen, kp, len))
      break;
  CHECK(i < w->nsnap);
  CHECK(w->snap[i].val == value);
  w->snap[i].visited = 1;
  const vrec *r = rec_of(value);
  if (r) {
    CHECK(r->state != V_DEAD); /* alive during the callback */
    CHECK(r->has_key && key_eq(r->koff, r->klen, kp, len));
  }

  if (g.ops_left <= 0)
    return 0;
  g.ops_left--;
  uint8_t a = rd();
  switch (a % 12) {
  case 4: {
    w->stop_code = 1 + rd() % 100;
    return w->stop_code;
  }
  case 5:
  case 6:
    do_op();
    break;
  case 7:
  case 8: {
    /* Delete / overwrite / load the visited key through the callback's own
     * key pointer. */
    fkey k;
    k.off = arena_add(kp, len);
    k.len = (uint32_t)len;
    k.ptr = kp;
    if (a % 12 == 7)
      op_delete(&k);
    else
      op_store(&k);
    break;
  }
  case 9: {
    fkey k;
    k.off = arena_add(kp, len);
    k.len = (uint32_t)len;
    k.ptr = kp;
    op_load(&k);
    break;
  }
  default:
    break;
  }
  return 0;
}

static void op_range(void)
{
  if (g.nwalks >= MAX_WALKS || g.ranges_left <= 0) {
    CHECK(siprec_shmap_len(g.map) == g.nmodel);
    return;
  }
  g.ranges_left--;
  walk *w = &g.walks[g.nwalks++];
  w->cur = -1;
  w->stop_code = 0;
  w->nsnap = 0;
  unsigned long f = g.fails;
  int rc = siprec_shmap_range(g.map, range_cb, w);
  if (rc == 0) {
    CHECK(w->stop_code == 0);
    walk_leave(w, 1);
    walk_enter(w, g.nshards);
  } else if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(w->stop_code == 0);
    walk_leave(w, 1);
    /* copying a later, non-empty shard failed */
    int later = 0;
    for (unsigned s = (unsigned)(w->cur + 1); s < g.nshards; s++)
      later |= model_shard_count(s) != 0;
    CHECK(later);
  } else {
    CHECK(rc > 0 && rc == w->stop_code);
    walk_leave(w, 0);
  }
  g.nwalks--;
  check_quiescent();
  if (rc == SIPREC_ENOMEM)
    full_check();
}

/* ---- clear ---- */

static void op_clear(void)
{
  for (size_t i = 0; i < g.nmodel; i++)
    v_leave_begin(g.model[i].val);
  unsigned long f = g.fails;
  int rc = siprec_shmap_clear(g.map);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    /* A failed call changes nothing (clear is all or nothing). */
    for (size_t i = 0; i < g.nmodel; i++)
      v_leave_abort(g.model[i].val);
    full_check();
    return;
  }
  CHECK(rc == 0);
  size_t n = g.nmodel;
  g.nmodel = 0;
  for (size_t i = 0; i < n; i++)
    v_leave_commit(g.model[i].val, g.model[i].shard);
  CHECK(siprec_shmap_len(g.map) == 0);
}

/* ---- inspect / update ---- */

typedef struct cb_ctx {
  const fkey *k;
  void *expect;
  void *replace; /* update: new value, or the same pointer to keep it */
  int ret;
} cb_ctx;

/* From under a shard lock every call that locks must fail with EBUSY. */
static void check_busy(const fkey *k)
{
  void *v = NULL;
  CHECK(siprec_shmap_load(g.map, k->ptr, k->len, &v) == SIPREC_EBUSY);
  CHECK(siprec_shmap_store(g.map, k->ptr, k->len, NULL) == SIPREC_EBUSY);
  CHECK(siprec_shmap_delete(g.map, k->ptr, k->len) == SIPREC_EBUSY);
  CHECK(siprec_shmap_range(g.map, range_cb, NULL) == SIPREC_EBUSY);
  CHECK(siprec_shmap_clear(g.map) == SIPREC_EBUSY);
  CHECK(siprec_shmap_len(g.map) == g.nmodel);
}

static int inspect_cb(const void *kp, size_t len, void *value, void *user)
{
  cb_ctx *c = user;
  g.cb_calls++;
  CHECK(kp != NULL && key_eq(c->k->off, c->k->len, kp, len));
  CHECK(value == c->expect);
  const vrec *r = rec_of(value);
  CHECK(!r || r->state == V_MODEL);
  if (rd() & 1)
    check_busy(c->k);
  return c->ret;
}

static int update_cb(const void *kp, size_t len, void **value, void *user)
{
  cb_ctx *c = user;
  g.cb_calls++;
  CHECK(kp != NULL && key_eq(c->k->off, c->k->len, kp, len));
  CHECK(value && *value == c->expect);
  const vrec *r = rec_of(*value);
  CHECK(!r || r->state == V_MODEL || r->state == V_LIMBO);
  if (rd() & 1) {
    CHECK(siprec_shmap_inspect(g.map, kp, len, inspect_cb, c) == SIPREC_EBUSY);
    check_busy(c->k);
  }
  *value = c->replace;
  return c->ret;
}

static void op_inspect(const fkey *k)
{
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  cb_ctx c = { k, i >= 0 ? g.model[i].val : NULL, NULL, rd() % 101 };
  g.cb_calls = 0;
  int rc = siprec_shmap_inspect(g.map, k->ptr, k->len, inspect_cb, &c);
  if (i < 0) {
    CHECK(rc == SIPREC_ENOTFOUND && g.cb_calls == 0);
  } else {
    CHECK(rc == c.ret && g.cb_calls == 1);
  }
}

static void op_update(const fkey *k)
{
  unsigned shard = shard_of(k->ptr, k->len);
  ptrdiff_t i = model_find(kptr(k->off), k->len);
  int replace = rd() & 1;
  cb_ctx c = { k, i >= 0 ? g.model[i].val : NULL, NULL, rd() % 101 };
  void *nv = replace ? new_value() : NULL;
  /* Replacing NULL by NULL is no replacement. */
  if (replace && i >= 0 && nv == g.model[i].val)
    replace = 0;
  c.replace = replace ? nv : c.expect;
  void *old = c.expect;
  if (i >= 0 && replace)
    v_leave_begin(old);
  g.cb_calls = 0;
  unsigned long f = g.fails;
  int rc = siprec_shmap_update(g.map, k->ptr, k->len, update_cb, &c);
  if (i < 0) {
    CHECK(rc == SIPREC_ENOTFOUND && g.cb_calls == 0);
    if (replace)
      v_keep(nv);
    return;
  }
  CHECK(g.cb_calls == 1);
  if (rc == SIPREC_ENOMEM) {
    check_enomem(f);
    CHECK(replace && pinned(shard)); /* documented */
    v_leave_abort(old);
    v_keep(nv);
    full_check();
    return;
  }
  CHECK(rc == c.ret);
  if (replace) {
    g.model[i].val = nv;
    v_enter(nv, k, shard);
    v_leave_commit(old, shard);
  }
}

/* ---- whole-map queries, argument checks ---- */

static void op_stats(void)
{
  size_t counts[MAX_SHARDS + 4];
  size_t n = rd() % (MAX_SHARDS + 4);
  for (size_t i = 0; i < n; i++)
    counts[i] = (size_t)-1;
  int rc = siprec_shmap_shard_lens(g.map, counts, n);
  size_t expect = n < g.nshards ? n : g.nshards;
  CHECK(rc == (int)expect);
  size_t sum = 0;
  for (size_t i = 0; i < expect; i++) {
    CHECK(counts[i] == model_shard_count((unsigned)i));
    sum += counts[i];
  }
  for (size_t i = expect; i < n; i++)
    CHECK(counts[i] == (size_t)-1);
  if (expect == g.nshards)
    CHECK(sum == g.nmodel);
  CHECK(siprec_shmap_shard_lens(g.map, NULL, 0) == 0);
  CHECK(siprec_shmap_shard_count(g.map) == g.nshards);
  CHECK(siprec_shmap_len(g.map) == g.nmodel);

  unsigned s = rd() % (g.nshards + 1);
  size_t entries, slots, dsum, dmax;
  rc = siprec_shmap_shard_probe_stats(g.map, s, &entries, &slots, &dsum, &dmax);
  if (s == g.nshards) {
    CHECK(rc == SIPREC_EINVAL);
  } else {
    CHECK(rc == 0);
    CHECK(entries == model_shard_count(s));
    CHECK(slots >= entries && (slots == 0 || (slots & (slots - 1)) == 0));
    CHECK(dmax <= dsum && (entries || dsum == 0));
    CHECK(siprec_shmap_shard_probe_stats(g.map, s, NULL, NULL, NULL, NULL) == 0);
  }
}

static void op_invalid(void)
{
  void *v = NULL;
  CHECK(siprec_shmap_load(NULL, "a", 1, &v) == SIPREC_EINVAL);
  CHECK(siprec_shmap_load(g.map, NULL, 3, &v) == SIPREC_EINVAL);
  CHECK(siprec_shmap_store(g.map, NULL, 1, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_load_or_store(g.map, NULL, 1, NULL, &v) == SIPREC_EINVAL);
  CHECK(siprec_shmap_load_and_delete(g.map, NULL, 1, &v) == SIPREC_EINVAL);
  CHECK(siprec_shmap_delete(g.map, NULL, 1) == SIPREC_EINVAL);
  CHECK(siprec_shmap_swap(g.map, NULL, 1, NULL, &v) == SIPREC_EINVAL);
  CHECK(siprec_shmap_compare_and_swap(g.map, NULL, 1, NULL, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_compare_and_delete(g.map, NULL, 1, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_range(g.map, NULL, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_range(NULL, range_cb, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_clear(NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_inspect(g.map, "", 0, NULL, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_update(g.map, "", 0, NULL, NULL) == SIPREC_EINVAL);
  CHECK(siprec_shmap_shard_lens(NULL, NULL, 0) == SIPREC_EINVAL);
  CHECK(siprec_shmap_shard_lens(g.map, NULL, 1) == SIPREC_EINVAL);
  CHECK(siprec_shmap_len(NULL) == 0);
  CHECK(siprec_shmap_shard_count(NULL) == 0);
  CHECK(siprec_shmap_len(g.map) == g.nmodel);
}

static void do_op(void)
{
  if (g.ops_left <= 0)
    return;
  g.ops_left--;
  uint8_t op = rd();
  fkey k;
  switch (op % 16) {
  case 0: k = get_key(); op_store(&k); break;
  case 1: k = get_key(); op_load(&k); break;
  case 2: k = get_key(); op_load_or_store(&k); break;
  case 3: k = get_key(); op_load_and_delete(&k); break;
  case 4: k = get_key(); op_delete(&k); break;
  case 5: k = get_key(); op_swap(&k); break;
  case 6: k = get_key(); op_cas(&k); break;
  case 7: k = get_key(); op_cad(&k); break;
  case 8: op_range(); break;
  case 9:
    if ((op >> 4) == 9)
      op_clear();
    else
      CHECK(siprec_shmap_len(g.map) == g.nmodel);
    break;
  case 10: k = get_key(); op_inspect(&k); break;
  case 11: k = get_key(); op_update(&k); break;
  case 12: op_stats(); break;
  case 13:
    if ((op >> 4) & 1)
      op_invalid();
    else
      full_check();
    break;
  case 14: k = get_key(); op_store(&k); break;
  default:
    k = get_key();
    if ((op >> 4) & 1)
      op_load_or_compute(&k);
    else
      op_load_or_store(&k);
    break;
  }
  check_quiescent();
}

/* ---------------------------------------------------------------------- */

static void reset(const uint8_t *data, size_t size)
{
  vrec *recs = g.recs;
  size_t caprecs = g.caprecs;
  uint8_t *arena = g.arena;
  memset(&g, 0, sizeof g);
  g.recs = recs;
  g.caprecs = caprecs;
  g.arena = arena;
  if (!g.arena) {
    g.arena = malloc(ARENA_CAP);
    CHECK(g.arena != NULL);
  }
  g.in = data;
  g.in_len = size;
  g.ops_left = MAX_OPS;
  g.ranges_left = MAX_RANGES;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  reset(data, size);
  uint8_t b0 = rd();
  g.nshards = 1u << (b0 % 7);
  g.shift = 64 - (unsigned)__builtin_ctz(g.nshards);
  g.use_equal = (b0 >> 3) & 1;
  g.fail_mode = (b0 >> 4) & 1;
  g.dtor_calls_map = (b0 >> 5) & 1;
  int counting = g.fail_mode || ((b0 >> 6) & 1);
  uint8_t b1 = rd(), b2 = rd();
  g.fail_den = 2u << (b1 % 6);
  g.fail_rng = 0x2545f4914f6cdd1dull ^ ((uint64_t)b1 << 8 | b2);
  g.hkey = sr_siphash_key_from_bytes(hash_key);

  const siprec_allocator *mem = counting ? &fail_alloc : NULL;
  siprec_shmap_options *opts = NULL;
  CHECK(siprec_shmap_options_new(&opts, mem) == 0);
  CHECK(siprec_shmap_options_set_shards(opts, g.nshards) == 0);
  CHECK(siprec_shmap_options_set_value_free(opts, value_free_cb, &g) == 0);
  CHECK(siprec_shmap_options_set_hash_key(opts, hash_key) == 0);
  if (g.use_equal)
    CHECK(siprec_shmap_options_set_value_equal(opts, equal_cb, &g.walks) == 0);

  /* Creation may fail too; it must then leave nothing allocated. */
  g.fail_on = g.fail_mode;
  int rc = siprec_shmap_new(&g.map, opts, mem);
  if (rc == SIPREC_ENOMEM) {
    CHECK(g.map == NULL);
    CHECK(g.live_allocs == 1); /* the options object */
    g.fail_on = 0;
    rc = siprec_shmap_new(&g.map, opts, mem);
  }
  CHECK(rc == 0 && g.map != NULL);
  siprec_shmap_options_free(opts);
  g.fail_on = g.fail_mode;
  CHECK(siprec_shmap_shard_count(g.map) == g.nshards);

  while (g.in_pos < g.in_len && g.ops_left > 0)
    do_op();

  g.fail_on = 0;
  full_check();
  CHECK(g.null_limbo == 0);
  CHECK(g.dtor_calls == g.expected_dtors);

  /* Free: every value still held is destroyed, once. */
  for (size_t i = 0; i < g.nmodel; i++)
    v_leave_begin(g.model[i].val);
  g.freeing = 1;
  siprec_shmap_free(g.map);
  g.map = NULL;
  g.expected_dtors += g.nmodel;
  CHECK(g.dtor_calls == g.expected_dtors);
  CHECK(g.null_limbo == 0);
  for (size_t i = 0; i < g.nrecs; i++) {
    CHECK(g.recs[i].state == V_DEAD || g.recs[i].state == V_HARNESS);
    free(g.recs[i].heap);
  }
  if (counting)
    CHECK(g.live_allocs == 0);
  siprec_shmap_free(NULL);
  return 0;
}
