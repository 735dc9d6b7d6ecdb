/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cache prefetch hints for the media path. A server with thousands of
 * streams has evicted a stream's state from the cache by its next packet;
 * the state is reached through pointers (port entry, media slot, stream,
 * decoder), and touched in program order each line's miss would wait for
 * the one before. Hinting every line as soon as its address is known
 * makes the misses overlap. A hint never faults (an address past an
 * allocation is harmless) and changes nothing observable. */
#ifndef SR_COMMON_PREFETCH_H
#define SR_COMMON_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SR_CACHE_LINE 64

/* Every cache line of [p, p + n), for reading or (write) for writing. */
static inline void sr_prefetch_range(const void *p, size_t n, bool write)
{
#if defined(__GNUC__) || defined(__clang__)
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)(SR_CACHE_LINE - 1);
  uintptr_t end = (uintptr_t)p + n;
  for (; a < end; a += SR_CACHE_LINE) {
    if (write)
      __builtin_prefetch((const void *)a, 1, 3);
    else
      __builtin_prefetch((const void *)a, 0, 3);
  }
#else
  (void)p;
  (void)n;
  (void)write;
#endif
}

#endif
