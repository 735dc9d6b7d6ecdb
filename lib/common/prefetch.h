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

/* Every cache line of [p, p + n), for reading or (write) for writing: a
 * hint every 64 bytes from p and one at the last byte, so that no line is
 * skipped whatever p's alignment (a line hinted twice costs nothing).
 * Every caller's n is a constant: the loop unrolls into straight hints. */
#define SR_PREFETCH_ONE(a, write)                                                                  \
  ((write) ? __builtin_prefetch((a), 1, 3) : __builtin_prefetch((a), 0, 3))

static inline void sr_prefetch_range(const void *p, size_t n, bool write)
{
#if defined(__GNUC__) || defined(__clang__)
  /* In integers: p may be NULL or stale (a hint), where pointer
   * arithmetic would be undefined. */
  uintptr_t a = (uintptr_t)p;
  if (!n)
    return;
  for (size_t k = 0; k <= (n - 1) / SR_CACHE_LINE; k++)
    SR_PREFETCH_ONE((const void *)(a + k * SR_CACHE_LINE), write);
  SR_PREFETCH_ONE((const void *)(a + n - 1), write);
#else
  (void)p;
  (void)n;
  (void)write;
#endif
}

#endif
