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
}

char *md_arena_strndup(const siprec_allocator *mem, md_arena *a, const char *p, size_t n)
{
  if (n >= SIZE_MAX / 2)
    return NULL;
  if (a->left < n + 1) {
    size_t size = a->next > n + 1 ? a->next : n + 1;
    md_chunk *c = sr_malloc(mem, sizeof *c + size);
    if (!c)
      return NULL;
    c->size = size;
    c->next = a->head;
    a->head = c;
    a->cur = (char *)(c + 1);
    a->left = size;
    /* Later chunks double, so a long document needs few of them. */
    if (a->next < (SIZE_MAX >> 2))
      a->next *= 2;
  }
  char *s = a->cur;
  if (n)
    memcpy(s, p, n);
  s[n] = '\0';
  a->cur += n + 1;
  a->left -= n + 1;
  return s;
}
