/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hamt.h"

#include <stdatomic.h>
#include <string.h>

#include "../common/alloc.h"

/* A slot is a leaf, (value << 1) | 1, or a child node's address. Below the
 * hash's 64 bits a node holds the leaves of equal hashes (`coll`). */
struct md_hnode {
  atomic_uint refs;
  uint32_t bitmap;
  uint64_t owner;
  uint32_t n;
  uint32_t coll;
  uintptr_t s[];
};

#define LEAF(v) (((uintptr_t)(v) << 1) | 1u)

static unsigned slot_of(uint64_t h, unsigned shift)
{
  return (unsigned)(h >> shift) & 31u;
}

static unsigned pos_of(uint32_t bitmap, uint32_t bit)
{
  return (unsigned)__builtin_popcount(bitmap & (bit - 1));
}

uint32_t md_hamt_find(const md_hamt *t, uint64_t h, md_hamt_eq eq, const void *ctx)
{
  const md_hnode *p = t->root;
  for (unsigned shift = 0; p; shift += 5) {
    if (p->coll) {
      for (uint32_t k = 0; k < p->n; k++)
        if (eq(ctx, (uint32_t)(p->s[k] >> 1)))
          return (uint32_t)(p->s[k] >> 1);
      return MD_HAMT_NONE;
    }
    uint32_t bit = 1u << slot_of(h, shift);
    if (!(p->bitmap & bit))
      return MD_HAMT_NONE;
    uintptr_t e = p->s[pos_of(p->bitmap, bit)];
    if (e & 1u)
      return eq(ctx, (uint32_t)(e >> 1)) ? (uint32_t)(e >> 1) : MD_HAMT_NONE;
    p = (const md_hnode *)e;
  }
  return MD_HAMT_NONE;
}

static void node_unref(const siprec_allocator *mem, md_hnode *p)
{
  if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
    return;
  for (uint32_t k = 0; k < p->n; k++)
    if (!(p->s[k] & 1u))
      node_unref(mem, (md_hnode *)p->s[k]);
  sr_free(mem, p);
}

static md_hnode *node_new(const siprec_allocator *mem, uint64_t owner, uint32_t n)
{
  md_hnode *p = sr_malloc(mem, sizeof *p + n * sizeof(uintptr_t));
  if (!p)
    return NULL;
  atomic_init(&p->refs, 1);
  p->bitmap = 0;
  p->owner = owner;
  p->n = n;
  p->coll = 0;
  return p;
}

/* `p` writable for this build, with a free slot opened at `at` when
 * `at` <= p->n (no new slot when `at` is UINT32_MAX). */
static md_hnode *own(const siprec_allocator *mem, uint64_t owner, md_hnode *p, uint32_t at)
{
  uint32_t add = at != UINT32_MAX;
  if (p->owner == owner) {
    if (!add)
      return p;
    md_hnode *np = sr_realloc(mem, p, sizeof *np + (p->n + 1) * sizeof(uintptr_t));
    if (!np)
      return NULL;
    memmove(np->s + at + 1, np->s + at, (np->n - at) * sizeof(uintptr_t));
    np->n++;
    return np;
  }
  md_hnode *np = node_new(mem, owner, p->n + add);
  if (!np)
    return NULL;
  np->bitmap = p->bitmap;
  np->coll = p->coll;
  uint32_t at0 = add ? at : p->n;
  memcpy(np->s, p->s, at0 * sizeof(uintptr_t));
  memcpy(np->s + at0 + add, p->s + at0, (p->n - at0) * sizeof(uintptr_t));
  for (uint32_t k = 0; k < p->n; k++)
    if (!(p->s[k] & 1u))
      atomic_fetch_add_explicit(&((md_hnode *)p->s[k])->refs, 1, memory_order_relaxed);
  return np;
}

/* A subtree holding two leaves whose hashes agree below `shift`. */
static md_hnode *pair(const siprec_allocator *mem, uint64_t owner, uint32_t a, uint64_t ha,
                      uint32_t b, uint64_t hb, unsigned shift)
{
  if (shift >= 64 || ha == hb) {
    md_hnode *p = node_new(mem, owner, 2);
    if (p) {
      p->coll = 1;
      p->s[0] = LEAF(a);
      p->s[1] = LEAF(b);
    }
    return p;
  }
  unsigned ia = slot_of(ha, shift), ib = slot_of(hb, shift);
  if (ia == ib) {
    md_hnode *c = pair(mem, owner, a, ha, b, hb, shift + 5);
    md_hnode *p = c ? node_new(mem, owner, 1) : NULL;
    if (!p) {
      node_unref(mem, c);
      return NULL;
    }
    p->bitmap = 1u << ia;
    p->s[0] = (uintptr_t)c;
    return p;
  }
  md_hnode *p = node_new(mem, owner, 2);
  if (p) {
    p->bitmap = (1u << ia) | (1u << ib);
    p->s[ia < ib ? 0 : 1] = LEAF(a);
    p->s[ia < ib ? 1 : 0] = LEAF(b);
  }
  return p;
}

static md_hnode *ins(const siprec_allocator *mem, uint64_t owner, md_hnode *p, unsigned shift,
                     uint64_t h, uint32_t v, md_hamt_rehash rehash, const void *ctx, int *err)
{
  if (p->coll) {
    md_hnode *np = own(mem, owner, p, p->n);
    if (!np) {
      *err = 1;
      return p;
    }
    np->s[np->n - 1] = LEAF(v);
    return np;
  }
  uint32_t bit = 1u << slot_of(h, shift);
  unsigned pos = pos_of(p->bitmap, bit);
  if (!(p->bitmap & bit)) {
    md_hnode *np = own(mem, owner, p, pos);
    if (!np) {
      *err = 1;
      return p;
    }
    np->bitmap |= bit;
    np->s[pos] = LEAF(v);
    return np;
  }
  uintptr_t e = p->s[pos];
  if (e & 1u) {
    uint32_t o = (uint32_t)(e >> 1);
    md_hnode *sub = pair(mem, owner, o, rehash(ctx, o), v, h, shift + 5);
    md_hnode *np = sub ? own(mem, owner, p, UINT32_MAX) : NULL;
    if (!np) {
      node_unref(mem, sub);
      *err = 1;
      return p;
    }
    np->s[pos] = (uintptr_t)sub;
    return np;
  }
  md_hnode *np = own(mem, owner, p, UINT32_MAX);
  if (!np) {
    *err = 1;
    return p;
  }
  md_hnode *child = (md_hnode *)e;
  int child_owned = child->owner == owner;
  md_hnode *nc = ins(mem, owner, child, shift + 5, h, v, rehash, ctx, err);
  if (nc != child && !child_owned)
    node_unref(mem, child);
  np->s[pos] = (uintptr_t)nc;
  return np;
}

int md_hamt_add(const siprec_allocator *mem, uint64_t owner, md_hamt *t, uint64_t h, uint32_t v,
                md_hamt_rehash rehash, const void *ctx)
{
  if (!t->root) {
    md_hnode *p = node_new(mem, owner, 1);
    if (!p)
      return SIPREC_ENOMEM;
    p->bitmap = 1u << slot_of(h, 0);
    p->s[0] = LEAF(v);
    t->root = p;
    return 0;
  }
  int err = 0;
  md_hnode *root = t->root;
  int root_owned = root->owner == owner;
  md_hnode *nr = ins(mem, owner, root, 0, h, v, rehash, ctx, &err);
  if (nr != root && !root_owned)
    node_unref(mem, root);
  t->root = nr;
  return err ? SIPREC_ENOMEM : 0;
}

md_hamt md_hamt_share(const md_hamt *t)
{
  if (t->root)
    atomic_fetch_add_explicit(&t->root->refs, 1, memory_order_relaxed);
  return *t;
}

void md_hamt_drop(const siprec_allocator *mem, md_hamt *t)
{
  node_unref(mem, t->root);
  t->root = NULL;
}
