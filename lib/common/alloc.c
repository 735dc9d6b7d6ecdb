/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n, void *user)
{
  (void)user;
  return malloc(n);
}

static void *libc_realloc(void *p, size_t n, void *user)
{
  (void)user;
  return realloc(p, n);
}

static void libc_free(void *p, void *user)
{
  (void)user;
  free(p);
}

int sr_alloc_init(siprec_allocator *dst, const siprec_allocator *src)
{
  if (!src) {
    dst->malloc = libc_malloc;
    dst->realloc = libc_realloc;
    dst->free = libc_free;
    dst->user = NULL;
    return 0;
  }
  if (!src->malloc || !src->realloc || !src->free)
    return SIPREC_EINVAL;
  *dst = *src;
  return 0;
}

void *sr_calloc(const siprec_allocator *a, size_t n, size_t size)
{
  if (size && n > SIZE_MAX / size)
    return NULL;
  void *p = sr_malloc(a, n * size);
  if (p)
    memset(p, 0, n * size);
  return p;
}

void *sr_calloc_aligned(const siprec_allocator *a, size_t size, size_t align)
{
  size_t extra = align - 1 + sizeof(void *);
  if (size > SIZE_MAX - extra)
    return NULL;
  unsigned char *raw = sr_malloc(a, size + extra);
  if (!raw)
    return NULL;
  uintptr_t p = ((uintptr_t)raw + sizeof(void *) + align - 1) & ~(uintptr_t)(align - 1);
  memcpy((void *)(p - sizeof(void *)), &raw, sizeof raw);
  memset((void *)p, 0, size);
  return (void *)p;
}

void sr_free_aligned(const siprec_allocator *a, void *p)
{
  if (!p)
    return;
  void *raw;
  memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
  sr_free(a, raw);
}

void *sr_object_new(const siprec_allocator *hook, size_t size, siprec_allocator *resolved,
                    int *rc)
{
  if (sr_alloc_init(resolved, hook) < 0) {
    *rc = SIPREC_EINVAL;
    return NULL;
  }
  void *obj = sr_calloc(resolved, 1, size);
  *rc = obj ? 0 : SIPREC_ENOMEM;
  return obj;
}
