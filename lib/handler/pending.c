/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unsettled INVITE transactions per source address (deferred, or answered
 * and not ACKed yet), so a flood from one address cannot hold every port for
 * 64*T1. A small chained table under one mutex: it is touched twice per
 * session, never per packet of media. */
#include <netinet/in.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/siphash.h"
#include "dialog.h"

struct sr_pending_entry {
  struct sr_pending_entry *next;
  uint8_t addr[16];
  uint8_t len;
  size_t count;
};

/* The host part only: one source with many ports is still one source. */
static size_t addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
  if (sa->sa_family == AF_INET) {
    memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    return 4;
  }
  if (sa->sa_family == AF_INET6) {
    memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    return 16;
  }
  return 0;
}

static sr_pending_entry **bucket(siprec_handler *h, const uint8_t *a, size_t n)
{
  return &h->pending[sr_siphash13(h->pending_key, a, n) % SR_PENDING_BUCKETS];
}

int sr_pending_take(siprec_handler *h, const struct sockaddr *addr)
{
  uint8_t a[16];
  size_t n = addr_bytes(addr, a);
  if (!h->cfg.max_pending_per_source || !n)
    return 0;
  int rc = 0;
  pthread_mutex_lock(&h->pending_lock);
  sr_pending_entry **b = bucket(h, a, n), *e = *b;
  while (e && (e->len != n || memcmp(e->addr, a, n)))
    e = e->next;
  if (!e) {
    e = sr_calloc(&h->mem, 1, sizeof *e);
    if (e) {
      memcpy(e->addr, a, n);
      e->len = (uint8_t)n;
      e->next = *b;
      *b = e;
    }
  }
  if (!e)
    rc = SIPREC_ENOMEM;
  else if (e->count >= h->cfg.max_pending_per_source)
    rc = SIPREC_EAGAIN;
  else
    e->count++;
  pthread_mutex_unlock(&h->pending_lock);
  return rc;
}

void sr_pending_give(siprec_handler *h, const struct sockaddr *addr)
{
  uint8_t a[16];
  size_t n = addr_bytes(addr, a);
  if (!h->cfg.max_pending_per_source || !n)
    return;
  pthread_mutex_lock(&h->pending_lock);
  sr_pending_entry **p = bucket(h, a, n);
  while (*p && ((*p)->len != n || memcmp((*p)->addr, a, n)))
    p = &(*p)->next;
  sr_pending_entry *e = *p;
  if (e && e->count && --e->count == 0) {
    *p = e->next;
    sr_free(&h->mem, e);
  }
  pthread_mutex_unlock(&h->pending_lock);
}

void sr_pending_free(siprec_handler *h)
{
  for (size_t i = 0; i < SR_PENDING_BUCKETS; i++) {
    while (h->pending[i]) {
      sr_pending_entry *e = h->pending[i];
      h->pending[i] = e->next;
      sr_free(&h->mem, e);
    }
  }
}
