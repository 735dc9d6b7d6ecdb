/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pvec.h"

#include <string.h>

#include "../common/alloc.h"

#define PV_BITS 5u
#define PV_W (1u << PV_BITS)

/* A node holds `n` slots (no slack: a model keeps its nodes for the whole
 * call); leaves hold values, inner nodes children. */
struct md_pnode {
  atomic_uint refs;
  uint32_t n;
  uint64_t owner;
  void *s[];
};

static atomic_uint_fast64_t next_token = 1;

uint64_t md_token_new(void)
{
  return atomic_fetch_add_explicit(&next_token, 1, memory_order_relaxed);
}

void *md_pvec_get(const md_pvec *v, size_t i)
{
  const md_pnode *p = v->root;
  for (unsigned sh = v->shift; sh > 0; sh -= PV_BITS)
    p = p->s[(i >> sh) & (PV_W - 1)];
  return p->s[i & (PV_W - 1)];
}

static void node_unref(const siprec_allocator *mem, md_pnode *p, unsigned shift)
{
  if (!p || atomic_fetch_sub_explicit(&p->refs, 1, memory_order_acq_rel) != 1)
    return;
  if (shift > 0)
    for (uint32_t k = 0; k < p->n; k++)
      node_unref(mem, p->s[k], shift - PV_BITS);
  sr_free(mem, p);
}

/* `p` made writable for this build with at least `n` slots: changed in
 * place when this build made it, otherwise copied (its children gain the
 * copy as a second parent). NULL: no memory (`p` untouched). */
static md_pnode *own(const siprec_allocator *mem, uint64_t owner, md_pnode *p, uint32_t n,
                     unsigned shift)
{
  uint32_t have = p ? p->n : 0;
  if (n < have)
    n = have;
  if (p && p->owner == owner) {
    if (n == have)
      return p;
    md_pnode *np = sr_realloc(mem, p, sizeof *np + n * sizeof(void *));
    if (!np)
      return NULL;
    memset(np->s + have, 0, (n - have) * sizeof(void *));
    np->n = n;
    return np;
  }
  md_pnode *np = sr_malloc(mem, sizeof *np + n * sizeof(void *));
  if (!np)
    return NULL;
  atomic_init(&np->refs, 1);
  np->owner = owner;
  np->n = n;
  memset(np->s, 0, n * sizeof(void *));
  if (have) {
    memcpy(np->s, p->s, have * sizeof(void *));
    if (shift > 0)
      for (uint32_t k = 0; k < have; k++)
        if (np->s[k])
          atomic_fetch_add_explicit(&((md_pnode *)np->s[k])->refs, 1, memory_order_relaxed);
  }
  return np;
}

/* The subtree `p` with element i set. On no memory *err is set and the
 * tree returned is still whole (a node may have been copied or grown). */
static md_pnode *set_rec(const siprec_allocator *mem, uint64_t owner, md_pnode *p,
                         unsigned shift, size_t i, void *x, int *err)
{
  uint32_t k = (uint32_t)(i >> shift) & (PV_W - 1);
  md_pnode *np = own(mem, owner, p, k + 1, shift);
  if (!np) {
    *err = 1;
    return p;
  }
  if (shift == 0) {
    np->s[k] = x;
    return np;
  }
  md_pnode *child = np->s[k];
  /* A child of this build is changed in place (and may move); another one
   * is copied, and the reference to the original is dropped. */
  int child_owned = child && child->owner == owner;
  md_pnode *nc = set_rec(mem, owner, child, shift - PV_BITS, i, x, err);
  if (nc != child && child && !child_owned)
    node_unref(mem, child, shift - PV_BITS);
  np->s[k] = nc;
  return np;
}

int md_pvec_set(const siprec_allocator *mem, uint64_t owner, md_pvec *v, size_t i, void *x)
{
  if (i > v->n || i >= UINT32_MAX)
    return SIPREC_ENOMEM;
  if (v->root && i == v->n && (i >> v->shift) >= PV_W) {
    /* Full: a new root above the old one, which it takes over. */
    md_pnode *top = own(mem, owner, NULL, 1, v->shift + PV_BITS);
    if (!top)
      return SIPREC_ENOMEM;
    top->s[0] = v->root;
    v->root = top;
    v->shift += PV_BITS;
  }
  md_pnode *root = v->root;
  int err = 0, root_owned = root && root->owner == owner;
  md_pnode *nr = set_rec(mem, owner, root, v->shift, i, x, &err);
  if (nr != root && root && !root_owned)
    node_unref(mem, root, v->shift);
  v->root = nr;
  if (err)
    return SIPREC_ENOMEM;
  if (i == v->n)
    v->n++;
  return 0;
}

md_pvec md_pvec_share(const md_pvec *v)
{
  if (v->root)
    atomic_fetch_add_explicit(&v->root->refs, 1, memory_order_relaxed);
  return *v;
}

void md_pvec_drop(const siprec_allocator *mem, md_pvec *v)
{
  node_unref(mem, v->root, v->shift);
  v->root = NULL;
  v->n = 0;
  v->shift = 0;
}
