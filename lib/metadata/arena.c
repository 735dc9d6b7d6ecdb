/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "arena.h"

#include <stdint.h>
#include <string.h>

#include "../common/alloc.h"

struct md_chunk {
  md_chunk *next;
  size_t size;
};

#define MD_ARENA_MIN 512u

void md_arena_init(md_arena *a, size_t hint)
{
  a->head = NULL;
  a->cur = NULL;
  a->left = 0;
  a->next = hint < MD_ARENA_MIN ? MD_ARENA_MIN : hint;
  a->bytes = 0;
}

void md_arena_free(const siprec_allocator *mem, md_arena *a)
{
  md_chunk *c = a->head;
  while (c) {
    md_chunk *n = c->next;
    sr_free(mem, c);
    c = n;
  }
  a->head = NULL;
  a->cur = NULL;
  a->left = 0;
  a->bytes = 0;
}

/* Room for `n` bytes at a->cur: a new chunk when the current one is full. */
static int reserve(const siprec_allocator *mem, md_arena *a, size_t n)
{
  if (a->left < n) {
    size_t size = a->next > n ? a->next : n;
    md_chunk *c = sr_malloc(mem, sizeof *c + size);
    if (!c)
      return SIPREC_ENOMEM;
    c->size = size;
    c->next = a->head;
    a->head = c;
    a->cur = (char *)(c + 1);
    a->left = size;
    a->bytes += size;
    /* Later chunks double, so a long document needs few of them. */
    if (a->next < (SIZE_MAX >> 2))
      a->next *= 2;
  }
  return 0;
}

void md_arena_expect(md_arena *a, size_t n)
{
  if (n > a->left)
    a->next = n - a->left + 64 > MD_ARENA_MIN ? n - a->left + 64 : MD_ARENA_MIN;
}

void *md_arena_alloc(const siprec_allocator *mem, md_arena *a, size_t n)
{
  if (n >= SIZE_MAX / 2)
    return NULL;
  size_t pad = (size_t)(-(uintptr_t)a->cur & 7u);
  if (a->left < pad + n) {
    /* Always a new chunk here (it starts at malloc's alignment): with room
     * for n but not for the padding, the old one would give an unaligned
     * block. */
    if (reserve(mem, a, pad + n) < 0)
      return NULL;
    pad = 0;
  }
  char *p = a->cur + pad;
  a->cur += pad + n;
  a->left -= pad + n;
  return p;
}

char *md_arena_strndup(const siprec_allocator *mem, md_arena *a, const char *p, size_t n)
{
  if (n >= SIZE_MAX / 2 || reserve(mem, a, n + 1) < 0)
    return NULL;
  char *s = a->cur;
  if (n)
    memcpy(s, p, n);
  s[n] = '\0';
  a->cur += n + 1;
  a->left -= n + 1;
  return s;
}
