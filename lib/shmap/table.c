/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "table.h"

#include <string.h>

#include "../common/alloc.h"

#define MIN_CAPACITY 8

/* Grow at 3/4 full: Robin Hood keeps probes short up to ~0.9, but each slot
 * is a cache line and a shorter cluster is fewer lines per miss. */
static inline int over_load(size_t count, size_t cap)
{
  return count * 4 > cap * 3;
}

static inline int key_equal(const sr_slot *s, uint64_t hash, const void *key, size_t len)
{
  if (s->len == SR_TABLE_LEN_EXTERNAL) {
    sr_external_key e = sr_slot_ext(s);
    return e.hash == hash && e.len == len && memcmp(e.bytes, key, len) == 0;
  }
  return s->len == len && memcmp(s->key, key, len) == 0;
}

ptrdiff_t sr_table_find(const sr_table *t, uint64_t hash, const void *key, size_t len)
{
  if (!t->slots)
    return -1;
  size_t mask = t->mask;
  size_t pos = hash & mask;
  for (unsigned d = 1;; d++, pos = (pos + 1) & mask) {
    const sr_slot *s = &t->slots[pos];
    /* Robin Hood order: an entry closer to its home than we are to ours
     * means our key would have displaced it, so it is absent. */
    if (s->dist < d)
      return -1;
    if (key_equal(s, hash, key, len))
      return (ptrdiff_t)pos;
  }
}

static uint64_t slot_hash(const sr_slot *s, const sr_table_ctx *ctx)
{
  if (s->len == SR_TABLE_LEN_EXTERNAL)
    return sr_slot_ext(s).hash;
  return sr_table_hash(ctx, s->key, s->len);
}

/* Where a new entry with this hash goes and where the cluster it shifts
 * ends (the first empty slot). Returns 0, or -1 when a distance would
 * overflow the dist byte. */
static int plan_insert(const sr_table *t, uint64_t hash, size_t *at, size_t *empty, unsigned *dist)
{
  size_t mask = t->mask;
  size_t pos = hash & mask;
  unsigned d = 1;
  for (;; d++, pos = (pos + 1) & mask) {
    const sr_slot *s = &t->slots[pos];
    if (s->dist < d)
      break;
  }
  if (d > SR_TABLE_MAX_DIST + 1)
    return -1;
  *at = pos;
  *dist = d;
  for (size_t n = 0;; n++, pos = (pos + 1) & mask) {
    const sr_slot *s = &t->slots[pos];
    if (s->dist == 0)
      break;
    if (s->dist > SR_TABLE_MAX_DIST || n > mask)
      return -1;
  }
  *empty = pos;
  return 0;
}

/* Place a slot's content into a table being rebuilt (no duplicates, room
 * guaranteed). Returns -1 when a distance would overflow. */
static int place(sr_table *t, uint64_t hash, const sr_slot *src)
{
  size_t at, empty;
  unsigned dist;
  if (plan_insert(t, hash, &at, &empty, &dist) < 0)
    return -1;
  size_t mask = t->mask;
  for (size_t pos = empty; pos != at; pos = (pos - 1) & mask) {
    t->slots[pos] = t->slots[(pos - 1) & mask];
    t->slots[pos].dist++;
  }
  t->slots[at] = *src;
  t->slots[at].dist = (uint8_t)dist;
  t->count++;
  return 0;
}

static int rebuild(sr_table *t, const sr_table_ctx *ctx, size_t new_cap)
{
  for (;;) {
    sr_table nt = { sr_calloc_aligned(ctx->mem, new_cap * sizeof(sr_slot), 64), new_cap - 1, 0 };
    if (!nt.slots)
      return SIPREC_ENOMEM;
    int ok = 1;
    for (size_t i = 0; ok && i < sr_table_capacity(t); i++) {
      const sr_slot *s = &t->slots[i];
      if (s->dist)
        ok = place(&nt, slot_hash(s, ctx), s) == 0;
    }
    if (ok) {
      sr_free_aligned(ctx->mem, t->slots);
      *t = nt;
      return 0;
    }
    /* A probe chain too long for the dist byte: spread wider. */
    sr_free_aligned(ctx->mem, nt.slots);
    if (new_cap > (SIZE_MAX / sizeof(sr_slot)) / 2)
      return SIPREC_ENOMEM;
    new_cap *= 2;
  }
}

int sr_table_insert(sr_table *t, const sr_table_ctx *ctx, uint64_t hash, const void *key,
                    size_t len, void *value, size_t *pos)
{
  sr_slot entry;
  memset(&entry, 0, sizeof entry);
  entry.value = value;
  unsigned char *ext = NULL;
  if (len > SR_TABLE_INLINE_MAX) {
    ext = sr_malloc(ctx->mem, len);
    if (!ext)
      return SIPREC_ENOMEM;
    memcpy(ext, key, len);
    entry.len = SR_TABLE_LEN_EXTERNAL;
    sr_external_key e = { hash, len, ext };
    sr_slot_set_ext(&entry, &e);
  } else {
    entry.len = (uint8_t)len;
    if (len)
      memcpy(entry.key, key, len);
  }

  size_t cap = sr_table_capacity(t);
  if (!t->slots || over_load(t->count + 1, cap)) {
    if (rebuild(t, ctx, cap ? cap * 2 : MIN_CAPACITY) < 0)
      goto nomem;
  }
  for (;;) {
    size_t at, empty;
    unsigned dist;
    if (plan_insert(t, hash, &at, &empty, &dist) == 0) {
      size_t mask = t->mask;
      for (size_t p = empty; p != at; p = (p - 1) & mask) {
        t->slots[p] = t->slots[(p - 1) & mask];
        t->slots[p].dist++;
      }
      entry.dist = (uint8_t)dist;
      t->slots[at] = entry;
      t->count++;
      *pos = at;
      return 0;
    }
    if (rebuild(t, ctx, sr_table_capacity(t) * 2) < 0)
      goto nomem;
  }
nomem:
  sr_free(ctx->mem, ext);
  return SIPREC_ENOMEM;
}

void *sr_table_remove_at(sr_table *t, const sr_table_ctx *ctx, size_t pos)
{
  size_t mask = t->mask;
  sr_slot *s = &t->slots[pos];
  void *value = s->value;
  if (s->len == SR_TABLE_LEN_EXTERNAL)
    sr_free(ctx->mem, sr_slot_ext(s).bytes);
  /* Backward shift: pull the rest of the cluster one step towards home, so
   * no tombstones are needed and probes stay short after churn. */
  size_t next = (pos + 1) & mask;
  while (t->slots[next].dist > 1) {
    t->slots[pos] = t->slots[next];
    t->slots[pos].dist--;
    pos = next;
    next = (next + 1) & mask;
  }
  memset(&t->slots[pos], 0, sizeof(sr_slot));
  t->count--;

  size_t cap = mask + 1;
  if (t->count == 0 && cap > MIN_CAPACITY * 8) {
    sr_table_release(t, ctx);
  } else if (cap > MIN_CAPACITY && t->count * 16 < cap) {
    (void)rebuild(t, ctx, cap / 4); /* best effort: a failed shrink keeps the table */
  }
  return value;
}

void sr_table_release(sr_table *t, const sr_table_ctx *ctx)
{
  for (size_t i = 0; i < sr_table_capacity(t); i++) {
    sr_slot *s = &t->slots[i];
    if (s->dist && s->len == SR_TABLE_LEN_EXTERNAL)
      sr_free(ctx->mem, sr_slot_ext(s).bytes);
  }
  sr_free_aligned(ctx->mem, t->slots);
  t->slots = NULL;
  t->mask = 0;
  t->count = 0;
}
