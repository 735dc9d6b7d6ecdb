/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unsettled INVITE transactions (deferred, or answered and not ACKed yet):
 * bounded per source address, so one address cannot hold every port for
 * 64*T1, and bounded overall in sessions and ports, because UDP source
 * addresses cost nothing to forge. The overall queue is kept in arrival
 * order so that, at a bound, the oldest answered-but-unACKed session can be
 * shed for a new INVITE: a real SRC ACKs within a round trip, long before
 * its turn comes, while a forged source never does.
 * Everything here is under one mutex, touched a few times per session,
 * never per media packet. */
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

void sr_pending_init(siprec_handler *h)
{
  const struct siprec_handler_config *c = &h->cfg;
  size_t sessions = c->max_pending;
  if (sessions == 0)
    sessions = c->max_sessions ? (c->max_sessions + 3) / 4 : SR_PENDING_DEFAULT;
  size_t ports = c->max_pending_ports;
  if (ports == 0)
    ports = h->cbs.port_alloc ? SIZE_MAX : (h->n_ports + 3) / 4;
  h->pq_max = sessions;
  h->pq_max_ports = ports;
}

int sr_pending_take(siprec_handler *h, siprec_session *s, const struct sockaddr *addr)
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
  if (!e) {
    rc = SIPREC_ENOMEM;
  } else if (e->count >= h->cfg.max_pending_per_source) {
    rc = SIPREC_EAGAIN;
  } else {
    e->count++;
    s->counts_pending = 1;
    memcpy(s->pq_src, a, n);
    s->pq_src_len = (uint8_t)n;
  }
  pthread_mutex_unlock(&h->pending_lock);
  return rc;
}

static void source_give(siprec_handler *h, siprec_session *s)
{
  size_t n = s->pq_src_len;
  sr_pending_entry **p = bucket(h, s->pq_src, n);
  while (*p && ((*p)->len != n || memcmp((*p)->addr, s->pq_src, n)))
    p = &(*p)->next;
  sr_pending_entry *e = *p;
  if (e && e->count && --e->count == 0) {
    *p = e->next;
    sr_free(&h->mem, e);
  }
}

static int over(size_t used, size_t add, size_t max)
{
  return max != SIZE_MAX && (add > max || used > max - add);
}

int sr_pending_enter(siprec_handler *h, siprec_session *s, size_t ports, size_t request_len)
{
  int rc = 0;
  pthread_mutex_lock(&h->pending_lock);
  if (over(h->pq_count, 1, h->pq_max) || over(h->pq_ports, ports, h->pq_max_ports)) {
    rc = SIPREC_EAGAIN;
  } else {
    /* Above half a bound is a flood: the 2xx may cost the SRC's claimed
     * address at most 4 bytes per byte it sent. */
    int flood = over(h->pq_count, 1, h->pq_max / 2) ||
                over(h->pq_ports, ports, h->pq_max_ports / 2);
    s->invite_tx.budget = flood ? 4 * request_len : SIZE_MAX;
    s->pq_in = 1;
    s->pq_ports = ports;
    s->pq_sheddable = 0;
    s->pq_next = NULL;
    s->pq_prev = h->pq_tail;
    if (h->pq_tail)
      h->pq_tail->pq_next = s;
    else
      h->pq_head = s;
    h->pq_tail = s;
    h->pq_count++;
    h->pq_ports += ports;
  }
  pthread_mutex_unlock(&h->pending_lock);
  return rc;
}

void sr_pending_sheddable(siprec_handler *h, siprec_session *s)
{
  pthread_mutex_lock(&h->pending_lock);
  s->pq_sheddable = s->pq_in;
  pthread_mutex_unlock(&h->pending_lock);
}

siprec_session *sr_pending_victim(siprec_handler *h)
{
  pthread_mutex_lock(&h->pending_lock);
  siprec_session *v = h->pq_head;
  while (v && !v->pq_sheddable)
    v = v->pq_next;
  if (v)
    siprec_session_ref(v);
  pthread_mutex_unlock(&h->pending_lock);
  return v;
}

int sr_pending_is_sheddable(siprec_handler *h, siprec_session *s)
{
  pthread_mutex_lock(&h->pending_lock);
  int yes = s->pq_in && s->pq_sheddable;
  pthread_mutex_unlock(&h->pending_lock);
  return yes;
}

void sr_pending_leave(siprec_handler *h, siprec_session *s)
{
  if (!s->counts_pending && !s->pq_in)
    return;
  pthread_mutex_lock(&h->pending_lock);
  if (s->counts_pending) {
    s->counts_pending = 0;
    source_give(h, s);
  }
  if (s->pq_in) {
    if (s->pq_prev)
      s->pq_prev->pq_next = s->pq_next;
    else
      h->pq_head = s->pq_next;
    if (s->pq_next)
      s->pq_next->pq_prev = s->pq_prev;
    else
      h->pq_tail = s->pq_prev;
    s->pq_prev = s->pq_next = NULL;
    s->pq_in = s->pq_sheddable = 0;
    h->pq_count--;
    h->pq_ports -= s->pq_ports;
    s->pq_ports = 0;
  }
  pthread_mutex_unlock(&h->pending_lock);
}

size_t sr_pending_count(siprec_handler *h)
{
  pthread_mutex_lock(&h->pending_lock);
  size_t n = h->pq_count;
  pthread_mutex_unlock(&h->pending_lock);
  return n;
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
