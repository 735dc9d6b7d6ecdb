/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The media's port table: local port -> (session, stream index, RTP or
 * RTCP), read by every datagram without a handler-wide lock.
 *
 * The scheme. 65536 atomic pointers in 256 pages of 256 ports, each page
 * allocated at its first use (CAS; pages live until the handler is freed).
 * An entry is an allocated, immutable sr_port_ent holding a reference to
 * its session. A page counts its readers: a lookup increments the count,
 * loads the entry, takes its own reference to the session, and decrements
 * the count; the entry is never read after that. A writer swaps the
 * pointer (to NULL or a new entry) and then waits until the page has no
 * readers before it frees the old entry and drops its reference. All four
 * steps are sequentially consistent: a reader that came after the swap in
 * that order sees the new pointer; one that came before it is counted and
 * waited for. Readers hold the count for a few instructions, so the wait
 * is short; writers (answers, port frees) are rare next to datagrams. */
#include <sched.h>

#include "../common/alloc.h"
#include "dialog.h"

typedef struct sr_port_ent {
  siprec_session *s;
  size_t index;
  uint16_t rtp_port;
  int rtcp;
} sr_port_ent;

struct sr_port_page {
  _Atomic unsigned readers;
  sr_port_ent *_Atomic ent[256];
};

static struct sr_port_page *page_of(siprec_handler *h, uint16_t port, int make)
{
  struct sr_port_page *pg = atomic_load(&h->port_pages[port >> 8]);
  if (pg || !make)
    return pg;
  struct sr_port_page *fresh = sr_calloc(&h->mem, 1, sizeof *fresh);
  if (!fresh)
    return NULL;
  if (atomic_compare_exchange_strong(&h->port_pages[port >> 8], &pg, fresh))
    return fresh;
  sr_free(&h->mem, fresh); /* another thread made it: pg is that one */
  return pg;
}

/* The old entry swapped out of `pg`: freed once no reader can hold it. */
static void retire(siprec_handler *h, struct sr_port_page *pg, sr_port_ent *old)
{
  if (!old)
    return;
  while (atomic_load(&pg->readers) != 0)
    sched_yield();
  siprec_session_unref(old->s);
  sr_free(&h->mem, old);
}

int sr_media_ports_lookup(siprec_handler *h, uint16_t port, sr_port_hit *hit)
{
  struct sr_port_page *pg = page_of(h, port, 0);
  if (!pg)
    return SIPREC_ENOTFOUND;
  atomic_fetch_add(&pg->readers, 1);
  sr_port_ent *e = atomic_load(&pg->ent[port & 255]);
  if (e) {
    siprec_session_ref(e->s);
    hit->s = e->s;
    hit->index = e->index;
    hit->rtp_port = e->rtp_port;
    hit->rtcp = e->rtcp;
  }
  atomic_fetch_sub(&pg->readers, 1);
  return e ? 0 : SIPREC_ENOTFOUND;
}

static int set_port(siprec_handler *h, siprec_session *s, size_t index, uint16_t port,
                    uint16_t rtp_port, int rtcp)
{
  struct sr_port_page *pg = page_of(h, port, 1);
  if (!pg)
    return SIPREC_ENOMEM;
  sr_port_ent *cur = atomic_load(&pg->ent[port & 255]);
  if (cur && cur->s == s && cur->index == index && cur->rtp_port == rtp_port && cur->rtcp == rtcp)
    return 0;
  sr_port_ent *e = sr_malloc(&h->mem, sizeof *e);
  if (!e)
    return SIPREC_ENOMEM;
  siprec_session_ref(s);
  e->s = s;
  e->index = index;
  e->rtp_port = rtp_port;
  e->rtcp = rtcp;
  retire(h, pg, atomic_exchange(&pg->ent[port & 255], e));
  return 0;
}

int sr_media_ports_register(siprec_handler *h, siprec_session *s)
{
  int rc = 0;
  for (size_t i = 0; i < s->n_streams && i < SR_SDP_MAX_STREAMS; i++) {
    const sr_sdp_stream *st = &s->streams[i];
    if (!st->accepted || !st->port)
      continue;
    if (set_port(h, s, i, st->port, st->port, 0) < 0)
      rc = SIPREC_ENOMEM;
    if (st->port < UINT16_MAX && set_port(h, s, i, (uint16_t)(st->port + 1), st->port, 1) < 0)
      rc = SIPREC_ENOMEM;
  }
  return rc;
}

static void clear_port(siprec_handler *h, siprec_session *s, uint16_t port)
{
  struct sr_port_page *pg = page_of(h, port, 0);
  if (!pg)
    return;
  sr_port_ent *cur = atomic_load(&pg->ent[port & 255]);
  while (cur && cur->s == s) {
    if (atomic_compare_exchange_weak(&pg->ent[port & 255], &cur, NULL)) {
      retire(h, pg, cur);
      return;
    }
  }
}

void sr_media_ports_clear(siprec_handler *h, siprec_session *s, uint16_t port)
{
  if (!port)
    return;
  clear_port(h, s, port);
  if (port < UINT16_MAX)
    clear_port(h, s, (uint16_t)(port + 1));
}

void sr_media_ports_free(siprec_handler *h)
{
  for (size_t p = 0; p < 256; p++) {
    struct sr_port_page *pg = atomic_load(&h->port_pages[p]);
    if (!pg)
      continue;
    for (size_t i = 0; i < 256; i++)
      retire(h, pg, atomic_exchange(&pg->ent[i], NULL));
    sr_free(&h->mem, pg);
    atomic_store(&h->port_pages[p], NULL);
  }
}
