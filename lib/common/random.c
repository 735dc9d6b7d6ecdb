/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's CSPRNG, drawn a few hundred bytes at a time into a
 * per-thread pool: a call takes several small draws (tags, ids, keys), and
 * one getrandom() each would be a syscall each. A child after fork() starts
 * with an empty pool, so parent and child never hand out the same bytes. */
#include "random.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include <siprec/common.h>

#define POOL 256

static _Thread_local unsigned char pool[POOL];
static _Thread_local size_t pool_left;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void forget_pool(void)
{
  memset(pool, 0, sizeof pool);
  pool_left = 0;
}

static void register_atfork(void)
{
  (void)pthread_atfork(NULL, NULL, forget_pool);
}

static int fill(unsigned char *p, size_t len)
{
  while (len) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return SIPREC_ERANDOM;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int sr_random_bytes(void *buf, size_t len)
{
  if (len > POOL / 2)
    return fill(buf, len);
  (void)pthread_once(&atfork_once, register_atfork);
  if (pool_left < len) {
    if (fill(pool, POOL) < 0)
      return SIPREC_ERANDOM;
    pool_left = POOL;
  }
  /* Bytes handed out are wiped from the pool: they are someone's key now. */
  unsigned char *from = pool + POOL - pool_left;
  memcpy(buf, from, len);
  memset(from, 0, len);
  pool_left -= len;
  return 0;
}
