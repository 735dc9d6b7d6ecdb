/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* New records and index lists of a model being built, in its arena: what
 * the fold (fold.c) and the resolution of references (resolve.c) both
 * allocate, kept apart so neither calls back into the other. */
#include <string.h>

#include "model.h"

md_rec *md_build_rec(md_build *b, const md_rec *from)
{
  md_rec *r = md_arena_alloc(&b->r->mem, &b->r->store->arena, sizeof *r);
  if (r)
    *r = *from;
  return r;
}

md_ilist *md_build_ilist(md_build *b, const uint32_t *v, size_t n)
{
  md_ilist *l = md_arena_alloc(&b->r->mem, &b->r->store->arena, sizeof *l + n * sizeof *v);
  if (l) {
    l->n = (uint32_t)n;
    if (n)
      memcpy(l->v, v, n * sizeof *v);
  }
  return l;
}

md_ilist *md_build_ilist_append(md_build *b, const md_ilist *old, uint32_t x)
{
  /* Room for one more, but only old's entries copied: reading n + 1 from
   * old would run past its end. */
  md_ilist *l = md_arena_alloc(&b->r->mem, &b->r->store->arena,
                               sizeof *l + ((size_t)old->n + 1) * sizeof x);
  if (l) {
    l->n = old->n + 1;
    if (old->n)
      memcpy(l->v, old->v, old->n * sizeof x);
    l->v[old->n] = x;
  }
  return l;
}
