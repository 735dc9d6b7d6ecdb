/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <siprec/shmap.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/random.h"
#include "../common/siphash.h"
#include "shard_lock.h"
#include "table.h"

struct siprec_shmap_options {
  siprec_allocator mem;
  unsigned shards;
  siprec_shmap_value_free_cb value_free;
  void *value_free_user;
  siprec_shmap_value_equal_cb value_equal;
  void *value_equal_user;
  bool fixed_key;
  uint8_t hash_key[16];
};

/* One shard per two cache lines: in the first, what every operation on the
 * shard reads (the lock word, the table header); in the second, what only
 * walks use. */
typedef struct sr_shard {
  sr_lock lock;
  sr_table table;
  /* Entry count readable without the lock, for len(). */
  _Atomic size_t count;
  /* Range walks between copying this shard and finishing its callbacks:
   * while non-zero, values leaving the shard are retired, not destroyed. */
  _Atomic unsigned pins;
  /* Second line: what walks, inspect and retiring use; read by overwrites
   * under the read lock, written seldom. */
  void **retired __attribute__((aligned(64)));
  size_t n_retired, cap_retired;
  /* Inspect callbacks running on this shard (see overwrite_shared()). */
  _Atomic unsigned inspectors;
} __attribute__((aligned(64))) sr_shard;

#ifndef SR_SHMAP_PTHREAD_LOCK /* (the benchmark's baseline: a 56-byte lock) */
_Static_assert(offsetof(sr_shard, pins) + sizeof(unsigned) <= 64,
               "what every operation reads fits one cache line");
#endif

struct siprec_shmap {
  sr_table_ctx ctx;
  siprec_allocator mem;
  unsigned nshards;
  unsigned shard_shift; /* 64 - log2(nshards); the shard is hash >> shift */
  siprec_shmap_value_free_cb value_free;
  void *value_free_user;
  siprec_shmap_value_equal_cb value_equal;
  void *value_equal_user;
  sr_reader *readers; /* SR_THREAD_SLOTS lines */
  sr_shard *shards;
  /* Read by every operation and written by none: lines of its own, so that
   * no neighbouring heap block written often makes those reads miss. */
} __attribute__((aligned(64)));

/* ---------------------------------------------------------------------- */
/* Options                                                                  */

SIPREC_API int siprec_shmap_options_new(siprec_shmap_options **out, const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  int rc;
  siprec_allocator a;
  siprec_shmap_options *o = sr_object_new(mem, sizeof *o, &a, &rc);
  if (!o)
    return rc;
  o->mem = a;
  o->shards = SIPREC_SHMAP_DEFAULT_SHARDS;
  *out = o;
  return 0;
}

SIPREC_API void siprec_shmap_options_free(siprec_shmap_options *opts)
{
  if (opts) {
    siprec_allocator a = opts->mem;
    sr_free(&a, opts);
  }
}

static int check_shards(unsigned shards)
{
  if (shards == 0 || shards > SIPREC_SHMAP_MAX_SHARDS)
    return SIPREC_EINVAL;
  if (shards & (shards - 1))
    return SIPREC_EINVAL;
  return 0;
}

SIPREC_API int siprec_shmap_options_set_shards(siprec_shmap_options *opts, unsigned shards)
{
  if (!opts)
    return SIPREC_EINVAL;
  int rc = check_shards(shards);
  if (rc == 0)
    opts->shards = shards;
  return rc;
}

SIPREC_API int siprec_shmap_options_set_value_free(siprec_shmap_options *opts,
                                                   siprec_shmap_value_free_cb fn, void *user)
{
  if (!opts)
    return SIPREC_EINVAL;
  opts->value_free = fn;
  opts->value_free_user = user;
  return 0;
}

SIPREC_API int siprec_shmap_options_set_value_equal(siprec_shmap_options *opts,
                                                    siprec_shmap_value_equal_cb fn, void *user)
{
  if (!opts)
    return SIPREC_EINVAL;
  opts->value_equal = fn;
  opts->value_equal_user = user;
  return 0;
}

SIPREC_API int siprec_shmap_options_set_hash_key(siprec_shmap_options *opts, const uint8_t key[16])
{
  if (!opts || !key)
    return SIPREC_EINVAL;
  memcpy(opts->hash_key, key, 16);
  opts->fixed_key = true;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                               */

SIPREC_API int siprec_shmap_new(siprec_shmap **out, const siprec_shmap_options *opts,
                                const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  *out = NULL;
  siprec_allocator a;
  if (sr_alloc_init(&a, mem) < 0)
    return SIPREC_EINVAL;
  unsigned nshards = opts ? opts->shards : SIPREC_SHMAP_DEFAULT_SHARDS;
  int rc = check_shards(nshards);
  if (rc < 0)
    return rc;

  uint8_t hkey[16];
  if (opts && opts->fixed_key)
    memcpy(hkey, opts->hash_key, sizeof hkey);
  else if (sr_random_bytes(hkey, sizeof hkey) < 0)
    return SIPREC_ERANDOM;

  siprec_shmap *m = sr_calloc_aligned(&a, sizeof *m, 64);
  if (!m)
    return SIPREC_ENOMEM;
  m->mem = a;
  m->ctx.mem = &m->mem;
  m->ctx.hkey = sr_siphash_key_from_bytes(hkey);
  m->nshards = nshards;
  m->shard_shift = 64 - (unsigned)__builtin_ctz(nshards);
  if (opts) {
    m->value_free = opts->value_free;
    m->value_free_user = opts->value_free_user;
    m->value_equal = opts->value_equal;
    m->value_equal_user = opts->value_equal_user;
  }
  m->readers = sr_calloc_aligned(&a, SR_THREAD_SLOTS * sizeof(sr_reader), 64);
  m->shards = sr_calloc_aligned(&a, nshards * sizeof(sr_shard), 64);
  if (!m->readers || !m->shards)
    goto nomem;
  unsigned i;
  for (i = 0; i < nshards; i++) {
    if (sr_lock_init(&m->shards[i].lock) < 0)
      break;
  }
  if (i < nshards) {
    while (i--)
      sr_lock_destroy(&m->shards[i].lock);
    goto nomem;
  }
  *out = m;
  return 0;

nomem:
  sr_free_aligned(&a, m->readers);
  sr_free_aligned(&a, m->shards);
  sr_free_aligned(&a, m);
  return SIPREC_ENOMEM;
}

static void destroy_value(const siprec_shmap *m, void *value)
{
  if (m->value_free)
    m->value_free(value, m->value_free_user);
}

/* Destroy every value of a detached table, then release it. */
static void destroy_table(siprec_shmap *m, sr_table *t)
{
  for (size_t i = 0; i < sr_table_capacity(t); i++)
    if (t->slots[i].dist)
      destroy_value(m, t->slots[i].value);
  sr_table_release(t, &m->ctx);
}

SIPREC_API void siprec_shmap_free(siprec_shmap *map)
{
  if (!map)
    return;
  for (unsigned i = 0; i < map->nshards; i++) {
    sr_shard *sh = &map->shards[i];
    destroy_table(map, &sh->table);
    for (size_t j = 0; j < sh->n_retired; j++)
      destroy_value(map, sh->retired[j]);
    sr_free(&map->mem, sh->retired);
    sr_lock_destroy(&sh->lock);
  }
  siprec_allocator a = map->mem;
  sr_free_aligned(&a, map->readers);
  sr_free_aligned(&a, map->shards);
  sr_free_aligned(&a, map);
}

/* ---------------------------------------------------------------------- */
/* Locking a shard as this thread; the hold is recorded so that a call from a
 * callback run under the lock fails with SIPREC_EBUSY instead of deadlocking. */

static inline void shard_rlock(siprec_shmap *m, sr_shard *sh, sr_reader *self, uint32_t id,
                               sr_hold *hold)
{
  sr_lock_hold(hold, m->readers);
  sr_lock_read(&sh->lock, self, id);
}

static inline void shard_runlock(sr_shard *sh, sr_reader *self, const sr_hold *hold)
{
  sr_unlock_read(&sh->lock, self);
  sr_lock_release(hold);
}

static inline void shard_wlock(siprec_shmap *m, sr_shard *sh, uint32_t id, sr_hold *hold)
{
  sr_lock_hold(hold, m->readers);
  sr_lock_write(&sh->lock, m->readers, id);
}

static inline void shard_wunlock(sr_shard *sh, const sr_hold *hold)
{
  sr_unlock_write(&sh->lock);
  sr_lock_release(hold);
}

/* ---------------------------------------------------------------------- */
/* Slot values                                                              */

/* Under a shard's write lock a slot is this thread's alone. Under the read
 * lock, the value word of a present key may be replaced by an overwrite
 * (overwrite_shared()) while other readers read it: readers read it with
 * slot_value(), and the overwrite exchanges it atomically. Acquire pairs
 * with the exchange's release, so what the storing thread wrote into the
 * value's object before storing it is visible to whoever loads it. */
static inline void *slot_value(const sr_slot *s)
{
  return __atomic_load_n(&s->value, __ATOMIC_ACQUIRE);
}

/* ---------------------------------------------------------------------- */
/* Single-key operations                                                    */

/* What one operation does under its shard's lock; values it removes are
 * destroyed after the lock is released (or retired while a walk pins the
 * shard). */
typedef struct op {
  siprec_shmap *m;
  sr_shard *sh;
  sr_reader *self;
  uint32_t id;
  uint64_t hash;
  const void *key;
  size_t len;
  sr_hold hold;
  void *dead;
  bool has_dead;
} op;

static int op_begin(op *o, siprec_shmap *m, const void *key, size_t len)
{
  if (!m || (!key && len))
    return SIPREC_EINVAL;
  o->m = m;
  o->key = len ? key : "";
  o->len = len;
  o->hash = sr_table_hash(&m->ctx, o->key, len);
  uint32_t idx = m->shard_shift == 64 ? 0 : (uint32_t)(o->hash >> m->shard_shift);
  o->sh = &m->shards[idx];
  o->id = idx + 1;
  o->self = sr_lock_self(m->readers);
  o->has_dead = false;
  o->dead = NULL;
  if (sr_lock_nested(m->readers))
    return SIPREC_EBUSY;
  return 0;
}

static inline void op_lock_write(op *o)
{
  shard_wlock(o->m, o->sh, o->id, &o->hold);
}

static inline void op_lock_read(op *o)
{
  shard_rlock(o->m, o->sh, o->self, o->id, &o->hold);
}

static inline void op_unlock_read(op *o)
{
  shard_runlock(o->sh, o->self, &o->hold);
}

/* Make room to retire `extra` more values of a pinned shard (write lock held). */
static int reserve_retired(siprec_shmap *map, sr_shard *sh, size_t extra)
{
  size_t need = sh->n_retired + extra;
  if (need <= sh->cap_retired)
    return 0;
  void **r = sr_realloc(&map->mem, sh->retired, need * sizeof *r);
  if (!r)
    return SIPREC_ENOMEM;
  sh->retired = r;
  sh->cap_retired = need;
  return 0;
}

/* Make sure a value removed now can be kept until the walks pinning the
 * shard are done. Call before changing anything. */
static int op_reserve_retire(op *o)
{
  if (!atomic_load_explicit(&o->sh->pins, memory_order_acquire))
    return 0;
  return reserve_retired(o->m, o->sh, 1);
}

/* A value leaves the map (with op_reserve_retire already done). */
static void op_drop(op *o, void *value)
{
  sr_shard *sh = o->sh;
  if (atomic_load_explicit(&sh->pins, memory_order_acquire)) {
    sh->retired[sh->n_retired++] = value;
  } else {
    o->dead = value;
    o->has_dead = true;
  }
}

/* Put `value` in an occupied slot; the value it replaces leaves the map.
 * The same pointer again is no replacement. 0 or SIPREC_ENOMEM (unchanged). */
static int op_replace(op *o, sr_slot *s, void *value)
{
  if (s->value == value)
    return 0;
  int rc = op_reserve_retire(o);
  if (rc == 0) {
    op_drop(o, s->value);
    s->value = value;
  }
  return rc;
}

static void op_unlock_write(op *o)
{
  atomic_store_explicit(&o->sh->count, o->sh->table.count, memory_order_relaxed);
  shard_wunlock(o->sh, &o->hold);
  if (o->has_dead)
    destroy_value(o->m, o->dead);
}

static inline ptrdiff_t op_find(const op *o)
{
  return sr_table_find(&o->sh->table, o->hash, o->key, o->len);
}

static int op_insert(op *o, void *value)
{
  size_t pos;
  return sr_table_insert(&o->sh->table, &o->m->ctx, o->hash, o->key, o->len, value, &pos);
}

static bool values_equal(const siprec_shmap *m, const void *stored, const void *expected)
{
  if (m->value_equal)
    return m->value_equal(stored, expected, m->value_equal_user) != 0;
  return stored == expected;
}

SIPREC_API int siprec_shmap_load(siprec_shmap *map, const void *key, size_t key_len, void **value)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  op_lock_read(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos >= 0 && value)
    *value = slot_value(&o.sh->table.slots[pos]);
  op_unlock_read(&o);
  return pos >= 0 ? 1 : SIPREC_ENOTFOUND;
}

/* Overwrite the value of a present key under the shard's READ lock, so that
 * overwrites exclude neither loads nor each other. Only where no value has to
 * be destroyed by the map: a map without a destructor, or a swap that hands
 * the previous value back. Other readers only copy the value word, except
 * inspect, whose callback uses the value while the lock is held: a value
 * replaced here may be the one such a callback is using, and whoever gets it
 * (the swap's caller, or the host that frees what it stored once the store
 * returns) must be able to rely on "cannot be removed or destroyed meanwhile".
 * So after the exchange, when an inspect runs on the shard, wait for every
 * reader of the shard to leave (take and drop the write lock) before
 * returning. The inspect announces itself (a seq_cst increment) before it
 * reads the value and the exchange comes before the check (seq_cst): either
 * this sees the inspector, or the inspector reads the new value.
 *
 * Returns 1 and the previous value in *previous when the key was present
 * (the value is replaced), 0 when it is absent (nothing done). */
static int overwrite_shared(op *o, void *value, void **previous)
{
#ifdef SR_SHMAP_PTHREAD_LOCK
  /* The benchmark's single-rwlock baseline stands for the classic design
   * this map is measured against, one table under one rwlock whose writers
   * all take it exclusively: it keeps overwrites under the write lock. */
  (void)o;
  (void)value;
  (void)previous;
  return 0;
#endif
  op_lock_read(o);
  ptrdiff_t pos = op_find(o);
  if (pos < 0) {
    op_unlock_read(o);
    return 0;
  }
  *previous = __atomic_exchange_n(&o->sh->table.slots[pos].value, value, __ATOMIC_SEQ_CST);
  bool inspected = atomic_load(&o->sh->inspectors) != 0;
  op_unlock_read(o);
  if (inspected) {
    op_lock_write(o);
    shard_wunlock(o->sh, &o->hold);
  }
  return 1;
}

SIPREC_API int siprec_shmap_store(siprec_shmap *map, const void *key, size_t key_len, void *value)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  void *previous;
  if (!map->value_free && overwrite_shared(&o, value, &previous))
    return 0;
  op_lock_write(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos >= 0) {
    rc = op_replace(&o, &o.sh->table.slots[pos], value);
  } else {
    rc = op_insert(&o, value);
  }
  op_unlock_write(&o);
  return rc;
}

/* Load-or-store (`fn` NULL: insert `value`) and load-or-compute (insert what
 * `fn` makes). 1 and the present value, or 0 and the inserted one. */
static int load_or_insert(siprec_shmap *map, const void *key, size_t key_len, void *value,
                          siprec_shmap_compute_cb fn, void *user, void **actual)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  /* Most of these calls in a SIP handler find the key (retransmissions,
   * in-dialog requests): try under the read lock first. */
  op_lock_read(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos >= 0) {
    if (actual)
      *actual = slot_value(&o.sh->table.slots[pos]);
    op_unlock_read(&o);
    return 1;
  }
  op_unlock_read(&o);

  op_lock_write(&o);
  pos = op_find(&o);
  if (pos >= 0) {
    if (actual)
      *actual = o.sh->table.slots[pos].value;
    rc = 1;
  } else {
    /* The slot first, so that once `fn` has made a value nothing can fail
     * and leave the host's value with nobody to free it. */
    size_t at;
    rc = sr_table_insert(&o.sh->table, &o.m->ctx, o.hash, o.key, o.len, value, &at);
    if (rc == 0 && fn) {
      value = NULL;
      int r = fn(o.key, o.len, &value, user);
      if (r < 0) {
        (void)sr_table_remove_at(&o.sh->table, &o.m->ctx, at);
        rc = r;
      } else {
        o.sh->table.slots[at].value = value;
      }
    }
    if (rc == 0 && actual)
      *actual = value;
  }
  op_unlock_write(&o);
  return rc;
}

SIPREC_API int siprec_shmap_load_or_store(siprec_shmap *map, const void *key, size_t key_len,
                                          void *value, void **actual)
{
  return load_or_insert(map, key, key_len, value, NULL, NULL, actual);
}

SIPREC_API int siprec_shmap_load_or_compute(siprec_shmap *map, const void *key, size_t key_len,
                                            siprec_shmap_compute_cb fn, void *user, void **actual)
{
  if (!fn)
    return SIPREC_EINVAL;
  return load_or_insert(map, key, key_len, NULL, fn, user, actual);
}

/* Remove the key; hand the value back (`give_back`) or drop it. */
static int remove_key(siprec_shmap *map, const void *key, size_t key_len, void **value,
                      bool give_back, bool compare, void *expected)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  op_lock_write(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos < 0) {
    rc = SIPREC_ENOTFOUND;
  } else if (compare && !values_equal(map, o.sh->table.slots[pos].value, expected)) {
    rc = 0;
  } else if (!give_back && (rc = op_reserve_retire(&o)) < 0) {
    /* rc set */
  } else {
    void *v = sr_table_remove_at(&o.sh->table, &map->ctx, (size_t)pos);
    if (give_back) {
      if (value)
        *value = v;
    } else {
      op_drop(&o, v);
    }
    rc = 1;
  }
  op_unlock_write(&o);
  return rc;
}

SIPREC_API int siprec_shmap_load_and_delete(siprec_shmap *map, const void *key, size_t key_len,
                                            void **value)
{
  return remove_key(map, key, key_len, value, true, false, NULL);
}

SIPREC_API int siprec_shmap_delete(siprec_shmap *map, const void *key, size_t key_len)
{
  return remove_key(map, key, key_len, NULL, false, false, NULL);
}

SIPREC_API int siprec_shmap_compare_and_delete(siprec_shmap *map, const void *key,
                                               size_t key_len, void *old_value)
{
  return remove_key(map, key, key_len, NULL, false, true, old_value);
}

SIPREC_API int siprec_shmap_swap(siprec_shmap *map, const void *key, size_t key_len, void *value,
                                 void **previous)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  void *prev;
  if ((previous || !map->value_free) && overwrite_shared(&o, value, &prev)) {
    if (previous)
      *previous = prev;
    return 1;
  }
  op_lock_write(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos >= 0) {
    sr_slot *s = &o.sh->table.slots[pos];
    if (previous) {
      *previous = s->value;
      s->value = value;
      rc = 1;
    } else if ((rc = op_replace(&o, s, value)) == 0) {
      /* Nobody takes the previous value: it is destroyed, as by store. */
      rc = 1;
    }
  } else {
    rc = op_insert(&o, value);
    if (rc == 0 && previous)
      *previous = NULL;
  }
  op_unlock_write(&o);
  return rc;
}

SIPREC_API int siprec_shmap_compare_and_swap(siprec_shmap *map, const void *key, size_t key_len,
                                             void *old_value, void *new_value)
{
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  op_lock_write(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos < 0) {
    rc = SIPREC_ENOTFOUND;
  } else if (!values_equal(map, o.sh->table.slots[pos].value, old_value)) {
    rc = 0;
  } else if ((rc = op_replace(&o, &o.sh->table.slots[pos], new_value)) == 0) {
    rc = 1;
  }
  op_unlock_write(&o);
  return rc;
}

SIPREC_API int siprec_shmap_inspect(siprec_shmap *map, const void *key, size_t key_len,
                                    siprec_shmap_inspect_cb fn, void *user)
{
  if (!fn)
    return SIPREC_EINVAL;
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  op_lock_read(&o);
  /* Announced before the value is read: an overwrite under the read lock
   * that replaced it after this then waits for this callback (see
   * overwrite_shared()). */
  atomic_fetch_add(&o.sh->inspectors, 1);
  ptrdiff_t pos = op_find(&o);
  rc = pos >= 0 ? fn(o.key, o.len, __atomic_load_n(&o.sh->table.slots[pos].value, __ATOMIC_SEQ_CST),
                     user)
                 : SIPREC_ENOTFOUND;
  atomic_fetch_sub_explicit(&o.sh->inspectors, 1, memory_order_release);
  op_unlock_read(&o);
  return rc;
}

SIPREC_API int siprec_shmap_update(siprec_shmap *map, const void *key, size_t key_len,
                                   siprec_shmap_update_cb fn, void *user)
{
  if (!fn)
    return SIPREC_EINVAL;
  op o;
  int rc = op_begin(&o, map, key, key_len);
  if (rc < 0)
    return rc;
  op_lock_write(&o);
  ptrdiff_t pos = op_find(&o);
  if (pos < 0) {
    rc = SIPREC_ENOTFOUND;
  } else {
    sr_slot *s = &o.sh->table.slots[pos];
    void *v = s->value;
    rc = fn(o.key, o.len, &v, user);
    int r2 = op_replace(&o, s, v);
    if (r2 < 0)
      rc = r2; /* the slot still holds the old value: the replacement is undone */
  }
  op_unlock_write(&o);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* Whole-map operations                                                     */

SIPREC_API size_t siprec_shmap_len(const siprec_shmap *map)
{
  if (!map)
    return 0;
  size_t n = 0;
  for (unsigned i = 0; i < map->nshards; i++)
    n += atomic_load_explicit(&map->shards[i].count, memory_order_relaxed);
  return n;
}

SIPREC_API unsigned siprec_shmap_shard_count(const siprec_shmap *map)
{
  return map ? map->nshards : 0;
}

SIPREC_API int siprec_shmap_shard_lens(const siprec_shmap *map, size_t *counts, size_t n)
{
  if (!map || (!counts && n))
    return SIPREC_EINVAL;
  size_t k = n < map->nshards ? n : map->nshards;
  for (size_t i = 0; i < k; i++)
    counts[i] = atomic_load_explicit(&map->shards[i].count, memory_order_relaxed);
  return (int)k;
}

static sr_reader *whole_map_begin(siprec_shmap *map, int *rc)
{
  *rc = sr_lock_nested(map->readers) ? SIPREC_EBUSY : 0;
  return sr_lock_self(map->readers);
}

SIPREC_API int siprec_shmap_clear(siprec_shmap *map)
{
  if (!map)
    return SIPREC_EINVAL;
  int rc;
  (void)whole_map_begin(map, &rc);
  if (rc < 0)
    return rc;
  /* All or nothing: every shard is locked (in order, so clears cannot
   * deadlock each other) and every allocation made before anything is
   * emptied. */
  sr_table *detached = sr_calloc(&map->mem, map->nshards, sizeof *detached);
  if (!detached)
    return SIPREC_ENOMEM;
  sr_hold hold;
  sr_lock_hold(&hold, map->readers);
  for (unsigned i = 0; i < map->nshards; i++)
    sr_lock_write(&map->shards[i].lock, map->readers, i + 1);
  for (unsigned i = 0; i < map->nshards && rc == 0; i++) {
    sr_shard *sh = &map->shards[i];
    if (atomic_load_explicit(&sh->pins, memory_order_acquire))
      rc = reserve_retired(map, sh, sh->table.count);
  }
  for (unsigned i = 0; i < map->nshards && rc == 0; i++) {
    sr_shard *sh = &map->shards[i];
    detached[i] = sh->table;
    memset(&sh->table, 0, sizeof sh->table);
    atomic_store_explicit(&sh->count, 0, memory_order_relaxed);
    if (!atomic_load_explicit(&sh->pins, memory_order_acquire))
      continue;
    /* A walk is visiting this shard: its values outlive the walk's visit. */
    for (size_t j = 0; j < sr_table_capacity(&detached[i]); j++)
      if (detached[i].slots[j].dist)
        sh->retired[sh->n_retired++] = detached[i].slots[j].value;
    sr_table_release(&detached[i], &map->ctx);
  }
  for (unsigned i = map->nshards; i-- > 0;)
    sr_unlock_write(&map->shards[i].lock);
  sr_lock_release(&hold);
  /* Destructors run with no lock held. */
  for (unsigned i = 0; i < map->nshards; i++)
    destroy_table(map, &detached[i]);
  sr_free(&map->mem, detached);
  return rc;
}

/* A shard's entries copied out for a walk: [len][value][key bytes], packed. */
typedef struct walk_buf {
  unsigned char *data;
  size_t used, cap;
} walk_buf;

typedef struct walk_rec {
  size_t len;
  void *value;
} walk_rec;

static int walk_copy(siprec_shmap *map, const sr_table *t, walk_buf *b)
{
  size_t need = 0;
  for (size_t i = 0; i < sr_table_capacity(t); i++) {
    if (t->slots[i].dist) {
      size_t len;
      (void)sr_slot_key(&t->slots[i], &len);
      need += sizeof(walk_rec) + ((len + 7) & ~(size_t)7);
    }
  }
  if (need > b->cap) {
    unsigned char *d = sr_realloc(&map->mem, b->data, need);
    if (!d)
      return SIPREC_ENOMEM;
    b->data = d;
    b->cap = need;
  }
  b->used = 0;
  for (size_t i = 0; i < sr_table_capacity(t); i++) {
    const sr_slot *s = &t->slots[i];
    if (!s->dist)
      continue;
    walk_rec r;
    const unsigned char *k = sr_slot_key(s, &r.len);
    r.value = slot_value(s);
    memcpy(b->data + b->used, &r, sizeof r);
    memcpy(b->data + b->used + sizeof r, k, r.len);
    b->used += sizeof r + ((r.len + 7) & ~(size_t)7);
  }
  return 0;
}

/* The last walk to leave a shard destroys what was retired meanwhile. */
static void walk_unpin(siprec_shmap *map, sr_shard *sh, uint32_t id)
{
  if (atomic_fetch_sub(&sh->pins, 1) != 1)
    return;
  sr_hold hold;
  shard_wlock(map, sh, id, &hold);
  void **dead = NULL;
  size_t n = 0;
  if (atomic_load_explicit(&sh->pins, memory_order_acquire) == 0) {
    dead = sh->retired;
    n = sh->n_retired;
    sh->retired = NULL;
    sh->n_retired = sh->cap_retired = 0;
  }
  shard_wunlock(sh, &hold);
  for (size_t i = 0; i < n; i++)
    destroy_value(map, dead[i]);
  sr_free(&map->mem, dead);
}

SIPREC_API int siprec_shmap_range(siprec_shmap *map, siprec_shmap_range_cb fn, void *user)
{
  if (!map || !fn)
    return SIPREC_EINVAL;
  int rc;
  sr_reader *self = whole_map_begin(map, &rc);
  if (rc < 0)
    return rc;
  walk_buf b = { NULL, 0, 0 };
  for (unsigned i = 0; i < map->nshards && rc == 0; i++) {
    sr_shard *sh = &map->shards[i];
    if (!atomic_load_explicit(&sh->count, memory_order_relaxed))
      continue; /* empty when looked at: nothing this walk must visit */
    sr_hold hold;
    shard_rlock(map, sh, self, i + 1, &hold);
    rc = walk_copy(map, &sh->table, &b);
    if (rc == 0)
      atomic_fetch_add(&sh->pins, 1);
    shard_runlock(sh, self, &hold);
    if (rc < 0)
      break;
    for (size_t off = 0; off < b.used && rc == 0;) {
      walk_rec r;
      memcpy(&r, b.data + off, sizeof r);
      rc = fn(b.data + off + sizeof r, r.len, r.value, user);
      off += sizeof r + ((r.len + 7) & ~(size_t)7);
    }
    walk_unpin(map, sh, i + 1);
  }
  sr_free(&map->mem, b.data);
  return rc;
}

SIPREC_API int siprec_shmap_shard_probe_stats(siprec_shmap *map, unsigned shard, size_t *entries,
                                              size_t *slots, size_t *dist_sum, size_t *dist_max)
{
  if (!map || shard >= map->nshards)
    return SIPREC_EINVAL;
  int rc;
  sr_reader *self = whole_map_begin(map, &rc);
  if (rc < 0)
    return rc;
  sr_shard *sh = &map->shards[shard];
  size_t sum = 0, max = 0;
  sr_hold hold;
  shard_rlock(map, sh, self, shard + 1, &hold);
  const sr_table *t = &sh->table;
  for (size_t i = 0; i < sr_table_capacity(t); i++) {
    size_t d = t->slots[i].dist;
    if (d) {
      sum += d - 1;
      if (d - 1 > max)
        max = d - 1;
    }
  }
  if (entries)
    *entries = t->count;
  if (slots)
    *slots = sr_table_capacity(t);
  shard_runlock(sh, self, &hold);
  if (dist_sum)
    *dist_sum = sum;
  if (dist_max)
    *dist_max = max;
  return 0;
}
