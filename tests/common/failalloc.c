/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "failalloc.h"

#include <stdlib.h>
#include <string.h>

/* Each block carries its size in front, for the byte count. */
#define FA_HDR 16

void *fa_malloc(size_t n, void *user)
{
  failalloc *f = user;
  pthread_mutex_lock(&f->mu);
  if (n == 0)
    f->zero_size++;
  long idx = f->calls++;
  if (idx == f->fail_at) {
    f->failures++;
    pthread_mutex_unlock(&f->mu);
    return NULL;
  }
  unsigned char *p = malloc(FA_HDR + n);
  if (p) {
    memcpy(p, &n, sizeof n);
    f->outstanding++;
    f->bytes += n;
  }
  pthread_mutex_unlock(&f->mu);
  return p ? p + FA_HDR : NULL;
}

void *fa_realloc(void *ptr, size_t n, void *user)
{
  failalloc *f = user;
  pthread_mutex_lock(&f->mu);
  if (n == 0)
    f->zero_size++;
  long idx = f->calls++;
  if (idx == f->fail_at) {
    f->failures++;
    pthread_mutex_unlock(&f->mu);
    return NULL;
  }
  unsigned char *h = (unsigned char *)ptr - FA_HDR;
  size_t old;
  memcpy(&old, h, sizeof old);
  unsigned char *p = realloc(h, FA_HDR + n);
  if (p) {
    memcpy(p, &n, sizeof n);
    f->bytes = f->bytes - old + n;
  }
  pthread_mutex_unlock(&f->mu);
  return p ? p + FA_HDR : NULL;
}

void fa_free(void *ptr, void *user)
{
  failalloc *f = user;
  unsigned char *h = (unsigned char *)ptr - FA_HDR;
  size_t n;
  memcpy(&n, h, sizeof n);
  pthread_mutex_lock(&f->mu);
  f->outstanding--;
  f->bytes -= n;
  pthread_mutex_unlock(&f->mu);
  free(h);
}

void failalloc_init(failalloc *f, siprec_allocator *hook)
{
  memset(f, 0, sizeof *f);
  pthread_mutex_init(&f->mu, NULL);
  f->fail_at = -1;
  hook->malloc = fa_malloc;
  hook->realloc = fa_realloc;
  hook->free = fa_free;
  hook->user = f;
}

void failalloc_destroy(failalloc *f)
{
  pthread_mutex_destroy(&f->mu);
}

void failalloc_arm(failalloc *f, long k)
{
  pthread_mutex_lock(&f->mu);
  f->calls = 0;
  f->failures = 0;
  f->fail_at = k;
  pthread_mutex_unlock(&f->mu);
}
