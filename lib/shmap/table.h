/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One shard's table: open addressing with Robin Hood linear probing, one
 * 64-byte slot per entry, keys up to SR_TABLE_INLINE_MAX bytes inline. No
 * locking here: the caller holds the shard's lock. */
#ifndef SR_SHMAP_TABLE_H
#define SR_SHMAP_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <siprec/common.h>

#include "../common/siphash.h"

#define SR_TABLE_INLINE_MAX 54
#define SR_TABLE_LEN_EXTERNAL 255
/* Longest probe distance a slot can record (dist byte holds distance + 1). */
#define SR_TABLE_MAX_DIST 254

/* Keys longer than the inline room: the slot keeps the full hash (to reject
 * mismatches and to rehash without touching the key) and a pointer. */
typedef struct sr_external_key {
  uint64_t hash;
  size_t len;
  unsigned char *bytes;
} sr_external_key;

typedef struct sr_slot {
  void *value;
  uint8_t dist; /* 0: empty; else probe distance + 1 */
  uint8_t len;  /* key length, or SR_TABLE_LEN_EXTERNAL */
  /* The key bytes, or an sr_external_key (unaligned here: use the accessors). */
  unsigned char key[SR_TABLE_INLINE_MAX];
} sr_slot;

_Static_assert(sizeof(sr_slot) == 64, "a slot is one cache line");

typedef struct sr_table {
  sr_slot *slots; /* NULL until the first insert */
  size_t mask;    /* capacity - 1 */
  size_t count;
} sr_table;

typedef struct sr_table_ctx {
  const siprec_allocator *mem;
  sr_siphash_key hkey;
} sr_table_ctx;

static inline uint64_t sr_table_hash(const sr_table_ctx *ctx, const void *key, size_t len)
{
  return sr_siphash13(ctx->hkey, key, len);
}

/* Index of the key's slot, or -1 when absent. */
ptrdiff_t sr_table_find(const sr_table *t, uint64_t hash, const void *key, size_t len);

/* Insert a key known to be absent. Grows the table first when needed; on
 * SIPREC_ENOMEM nothing changed. Returns 0 and the slot index in *pos. */
int sr_table_insert(sr_table *t, const sr_table_ctx *ctx, uint64_t hash, const void *key,
                    size_t len, void *value, size_t *pos);

/* Remove the entry at `pos` (which must be occupied): frees its external key
 * and returns its value. May shrink the table (best effort, never fails). */
void *sr_table_remove_at(sr_table *t, const sr_table_ctx *ctx, size_t pos);

/* Release the table's memory; the values are left to the caller, who must
 * have collected them (sr_table_for_each) first. */
void sr_table_release(sr_table *t, const sr_table_ctx *ctx);

static inline sr_external_key sr_slot_ext(const sr_slot *s)
{
  sr_external_key e;
  memcpy(&e, s->key, sizeof e);
  return e;
}

static inline void sr_slot_set_ext(sr_slot *s, const sr_external_key *e)
{
  memcpy(s->key, e, sizeof *e);
}

static inline const unsigned char *sr_slot_key(const sr_slot *s, size_t *len)
{
  if (s->len == SR_TABLE_LEN_EXTERNAL) {
    sr_external_key e = sr_slot_ext(s);
    *len = e.len;
    return e.bytes;
  }
  *len = s->len;
  return s->key;
}

static inline size_t sr_table_capacity(const sr_table *t)
{
  return t->slots ? t->mask + 1 : 0;
}

#endif
