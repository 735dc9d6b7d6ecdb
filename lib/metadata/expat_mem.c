/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "expat_mem.h"

#include <stddef.h>

#include "../common/alloc.h"

static _Thread_local md_expat_mem *current;

static void *x_malloc(size_t n)
{
  void *p = sr_malloc(current->mem, n);
  if (!p)
    current->failed = 1;
  return p;
}

static void *x_realloc(void *p, size_t n)
{
  void *np = sr_realloc(current->mem, p, n);
  if (!np)
    current->failed = 1;
  return np;
}

static void x_free(void *p)
{
  sr_free(current->mem, p);
}

void md_expat_begin(md_expat_mem *m, const siprec_allocator *mem)
{
  m->mem = mem;
  m->failed = 0;
  m->prev = current;
  current = m;
}

void md_expat_end(md_expat_mem *m)
{
  current = m->prev;
}

XML_Parser md_expat_create(char ns_sep)
{
  static const XML_Memory_Handling_Suite suite = { x_malloc, x_realloc, x_free };
  const XML_Char sep[2] = { ns_sep, '\0' };
  return XML_ParserCreate_MM(NULL, &suite, sep);
}
