/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An allocator hook for allocation-failure tests: counts the calls, fails
 * the one numbered `fail_at` (malloc and realloc counted together, from 0),
 * and keeps the outstanding blocks and bytes so a test can prove no leak. */
#ifndef SIPREC_TESTS_FAILALLOC_H
#define SIPREC_TESTS_FAILALLOC_H

#include <pthread.h>
#include <stddef.h>

#include <siprec/common.h>

typedef struct failalloc {
  pthread_mutex_t mu;
  long calls;   /* malloc + realloc calls this run */
  long fail_at; /* the call to fail, or -1 */
  long failures;
  long outstanding;
  size_t bytes;
  int zero_size; /* calls asking for 0 bytes (the hook promises none) */
} failalloc;

void *fa_malloc(size_t n, void *user);
void *fa_realloc(void *ptr, size_t n, void *user);
void fa_free(void *ptr, void *user);

/* A zeroed failalloc with no failure planned, and its hook. */
void failalloc_init(failalloc *f, siprec_allocator *hook);
void failalloc_destroy(failalloc *f);

/* Start a run that fails call `k` (-1: none). */
void failalloc_arm(failalloc *f, long k);

#endif
