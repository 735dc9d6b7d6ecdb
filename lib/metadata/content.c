/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The records, lists and extension entries of one model, and their life. */
#include <stdint.h>
#include <string.h>

#include "../common/alloc.h"
#include "model.h"

void *md_grow(const siprec_allocator *mem, void *p, size_t *cap, size_t need, size_t elem)
{
  size_t ncap = *cap ? *cap : 4;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2)
      return NULL;
    ncap *= 2;
  }
  if (ncap > SIZE_MAX / elem)
    return NULL;
  void *np = sr_realloc(mem, p, ncap * elem);
  if (np)
    *cap = ncap;
  return np;
}

md_content *md_content_new(const siprec_allocator *mem, size_t arena_hint)
{
  md_content *c = sr_calloc(mem, 1, sizeof *c);
  if (!c)
    return NULL;
  atomic_init(&c->refs, 1);
  c->mem = *mem;
  md_arena_init(&c->arena, arena_hint);
  return c;
}

md_content *md_content_ref(md_content *c)
{
  if (c)
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
  return c;
}

void md_content_unref(md_content *c)
{
  if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
    return;
  const siprec_allocator *mem = &c->mem;
  for (int k = 0; k < MD_KINDS; k++)
    sr_free(mem, c->recs[k]);
  sr_free(mem, c->strs);
  sr_free(mem, c->ext);
  md_arena_free(mem, &c->arena);
  siprec_allocator copy = *mem;
  sr_free(&copy, c);
}

size_t md_rec_add(md_content *c, int kind)
{
  /* Indexes are 32-bit (slots, CSR values): the element limit keeps far below. */
  if (c->n[kind] >= UINT32_MAX - 1)
    return MD_NONE;
  if (c->n[kind] == c->cap[kind]) {
    md_rec *np = md_grow(&c->mem, c->recs[kind], &c->cap[kind], c->n[kind] + 1, sizeof *np);
    if (!np)
      return MD_NONE;
    c->recs[kind] = np;
  }
  md_rec *r = &c->recs[kind][c->n[kind]];
  memset(r, 0, sizeof *r);
  return c->n[kind]++;
}

int md_strs_add(md_content *c, const char *const *v, size_t n)
{
  if (c->n_strs + n >= UINT32_MAX)
    return SIPREC_ENOMEM;
  if (c->n_strs + n > c->cap_strs) {
    const char **np = md_grow(&c->mem, c->strs, &c->cap_strs, c->n_strs + n, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    c->strs = np;
  }
  if (n)
    memcpy(c->strs + c->n_strs, v, n * sizeof *v);
  c->n_strs += n;
  return 0;
}

int md_ext_add(md_content *c, const md_ext *e)
{
  if (c->n_ext == c->cap_ext) {
    md_ext *np = md_grow(&c->mem, c->ext, &c->cap_ext, c->n_ext + 1, sizeof *np);
    if (!np)
      return SIPREC_ENOMEM;
    c->ext = np;
  }
  c->ext[c->n_ext++] = *e;
  return 0;
}
