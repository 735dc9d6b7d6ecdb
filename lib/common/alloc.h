/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The allocator hook as the library's internals use it. */
#ifndef SR_COMMON_ALLOC_H
#define SR_COMMON_ALLOC_H

#include <stddef.h>

#include <siprec/common.h>

/* Copy the host's allocator into `dst`, or libc's when `src` is NULL.
 * Returns SIPREC_EINVAL when `src` lacks one of its three functions. */
int sr_alloc_init(siprec_allocator *dst, const siprec_allocator *src);

static inline void *sr_malloc(const siprec_allocator *a, size_t n)
{
  return a->malloc(n ? n : 1, a->user);
}

static inline void *sr_realloc(const siprec_allocator *a, void *p, size_t n)
{
  return p ? a->realloc(p, n ? n : 1, a->user) : a->malloc(n ? n : 1, a->user);
}

static inline void sr_free(const siprec_allocator *a, void *p)
{
  if (p)
    a->free(p, a->user);
}

/* The start of every constructor: resolve the host's hook (NULL: libc) into
 * `*resolved` and allocate the zeroed object with it. Returns the object, or
 * NULL with *rc set to SIPREC_EINVAL (a hook lacking a function) or
 * SIPREC_ENOMEM. */
void *sr_object_new(const siprec_allocator *hook, size_t size, siprec_allocator *resolved,
                    int *rc);

/* Zeroed allocation of n * size bytes; NULL on overflow or failure. */
void *sr_calloc(const siprec_allocator *a, size_t n, size_t size);

/* Allocation aligned to `align` (a power of two, at most 4096) through a hook
 * that only promises malloc's alignment: over-allocates and keeps the real
 * pointer just before the aligned block. Release with sr_free_aligned. The
 * block is zeroed. */
void *sr_calloc_aligned(const siprec_allocator *a, size_t size, size_t align);
void sr_free_aligned(const siprec_allocator *a, void *p);

#endif
