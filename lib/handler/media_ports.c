/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The media's port table: local port -> (session, stream index, RTP or
 * RTCP), read by every datagram without a handler-wide lock.
 *
 * The scheme. 65536 cells in 256 pages of 256 ports, each page allocated
 * at its first use (CAS; pages live until the handler is freed). A cell is
 * one cache line: an atomic pointer to the port's entry and the port's
 * hints (sr_port_hints), so that a datagram's first miss tells where all
 * its other lines are (16.5 KiB a page in use).
 * An entry is an allocated sr_port_ent holding a reference to its session
 * and counting its own users: the table's one, and one per datagram being
 * processed with it. A lookup increments its thread's reader count of the
 * page, loads the entry, takes a use of it, and decrements the count. A
 * writer swaps the pointer (to NULL or a new entry) and then waits until no
 * thread's count of the page is up before it drops the table's use; the
 * last use frees the entry and drops its session reference. All steps are
 * sequentially consistent: a reader that came after the swap in that order
 * sees the new pointer; one that came before it is counted and waited for.
 * Readers hold the count for a few instructions, so the wait is short;
 * writers (answers, port frees) are rare next to datagrams.
 *
 * Why uses of the entry rather than references to the session: the entry
 * is in the cache line the lookup has just read, the session's count is
 * not, and a datagram then touches the session no more (the entry caches
 * the stream's media slot). Why a count per thread slot: threads feeding
 * streams whose ports share a page would otherwise bounce one line. */
#include <sched.h>

#include "../common/alloc.h"
#include "../common/prefetch.h"
#include "../media/stream.h"
#include "dialog.h"

/* The thread's reader slot, handed out in turn at its first datagram. */
static _Atomic unsigned next_slot;
static _Thread_local unsigned my_slot; /* 0: none yet; else slot + 1 */

static unsigned reader_slot(void)
{
  if (!my_slot)
    my_slot = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) % SR_PORT_SLOTS + 1;
  return my_slot - 1;
}

unsigned sr_media_thread_slot(void)
{
  return reader_slot();
}

/* A port's entry and hints in one cache line: a datagram's first miss
 * gives the addresses of everything else it touches. */
typedef struct sr_port_cell {
  sr_port_ent *_Atomic ent;
  const void *_Atomic hint[4]; /* sr_port_hints' order */
  char pad[64 - 5 * sizeof(void *)];
} sr_port_cell;
_Static_assert(sizeof(sr_port_cell) == 64, "a port's cell is one cache line");

static void read_hints(const sr_port_cell *c, sr_port_hints *out)
{
  out->m = atomic_load_explicit(&c->hint[0], memory_order_relaxed);
  out->stream = atomic_load_explicit(&c->hint[1], memory_order_relaxed);
  out->dec = atomic_load_explicit(&c->hint[2], memory_order_relaxed);
  out->state = atomic_load_explicit(&c->hint[3], memory_order_relaxed);
}

/* The slot's per-datagram lines: from its lock to the counters a
 * datagram moves (packets and bytes). */
#define SLOT_HOT_BYTES offsetof(sr_session_media, count[SR_MSTAT_BYTES + 1])

void sr_media_slot_prefetch(const sr_session_media *m)
{
  if (m)
    sr_prefetch_range(m, SLOT_HOT_BYTES, true);
}

/* The cell's entry and every line its hints name (the media slot's, the
 * stream's, its decoder's and the decoder state's per-packet lines): only
 * hints, nothing is read through them. The entry, read without a use, may
 * be freed meanwhile: a prefetch of it is harmless. */
static void hint_lines(const sr_port_cell *c, const sr_port_hints *hints)
{
  sr_prefetch_range(atomic_load_explicit(&c->ent, memory_order_relaxed), 1, true);
  sr_media_slot_prefetch(hints->m);
  const sr_ms_hints ms = { hints->stream, hints->dec, hints->state };
  sr_media_stream_prefetch_hints(&ms);
}

struct sr_port_page {
  /* 64 bytes apart: no two slots' counts share a cache line */
  struct {
    _Atomic unsigned n;
    char pad[60];
  } readers[SR_PORT_SLOTS];
  sr_port_cell cell[256];
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

void sr_media_ports_release(siprec_handler *h, sr_port_ent *e)
{
  if (atomic_fetch_sub(&e->uses, 1) == 1) {
    siprec_session_unref(e->s);
    sr_free(&h->mem, e);
  }
}

/* The old entry swapped out of `pg`: the table's use dropped once no
 * reader can be between loading it and taking its own. */
static void retire(siprec_handler *h, struct sr_port_page *pg, sr_port_ent *old)
{
  if (!old)
    return;
  for (unsigned i = 0; i < SR_PORT_SLOTS; i++)
    while (atomic_load(&pg->readers[i].n) != 0)
      sched_yield();
  sr_media_ports_release(h, old);
}

sr_port_ent *sr_media_ports_acquire(siprec_handler *h, uint16_t port, bool hinted,
                                    sr_port_hints *hints)
{
  struct sr_port_page *pg = page_of(h, port, 0);
  if (!pg)
    return NULL;
  sr_port_cell *c = &pg->cell[port & 255];
  /* Hinted before the first locked instruction, which later loads (and
   * so these misses) would wait behind. */
  read_hints(c, hints);
  if (!hinted)
    hint_lines(c, hints);
  _Atomic unsigned *mine = &pg->readers[reader_slot()].n;
  atomic_fetch_add(mine, 1);
  sr_port_ent *e = atomic_load(&c->ent);
  if (e)
    atomic_fetch_add_explicit(&e->uses, 1, memory_order_relaxed);
  atomic_fetch_sub(mine, 1);
  return e;
}

/* Port `port`'s cell, NULL when its page was never made. */
static sr_port_cell *cell_of(siprec_handler *h, uint16_t port)
{
  struct sr_port_page *pg = page_of(h, port, 0);
  return pg ? &pg->cell[port & 255] : NULL;
}

void sr_media_ports_prefetch_cell(siprec_handler *h, uint16_t port)
{
  sr_port_cell *c = cell_of(h, port);
  if (c)
    sr_prefetch_range(c, sizeof *c, false);
}

void sr_media_ports_prefetch_lines(siprec_handler *h, uint16_t port)
{
  sr_port_cell *c = cell_of(h, port);
  if (!c)
    return;
  sr_port_hints hints;
  read_hints(c, &hints);
  hint_lines(c, &hints);
}

void sr_media_ports_hint(siprec_handler *h, uint16_t port, const sr_port_hints *was,
                         const sr_port_hints *now)
{
  if (was->m == now->m && was->stream == now->stream && was->dec == now->dec &&
      was->state == now->state)
    return;
  sr_port_cell *c = cell_of(h, port);
  if (!c)
    return;
  atomic_store_explicit(&c->hint[0], now->m, memory_order_relaxed);
  atomic_store_explicit(&c->hint[1], now->stream, memory_order_relaxed);
  atomic_store_explicit(&c->hint[2], now->dec, memory_order_relaxed);
  atomic_store_explicit(&c->hint[3], now->state, memory_order_relaxed);
}

static int set_port(siprec_handler *h, siprec_session *s, size_t index, uint16_t port,
                    uint16_t rtp_port, int rtcp)
{
  struct sr_port_page *pg = page_of(h, port, 1);
  if (!pg)
    return SIPREC_ENOMEM;
  sr_port_ent *cur = atomic_load(&pg->cell[port & 255].ent);
  if (cur && cur->s == s && cur->index == index && cur->rtp_port == rtp_port && cur->rtcp == rtcp)
    return 0;
  sr_port_ent *e = sr_malloc(&h->mem, sizeof *e);
  if (!e)
    return SIPREC_ENOMEM;
  siprec_session_ref(s);
  atomic_init(&e->uses, 1); /* the table's */
  atomic_init(&e->m, NULL);
  e->s = s;
  e->index = index;
  e->rtp_port = rtp_port;
  e->rtcp = rtcp;
  retire(h, pg, atomic_exchange(&pg->cell[port & 255].ent, e));
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
  sr_port_ent *cur = atomic_load(&pg->cell[port & 255].ent);
  while (cur && cur->s == s) {
    if (atomic_compare_exchange_weak(&pg->cell[port & 255].ent, &cur, NULL)) {
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
      retire(h, pg, atomic_exchange(&pg->cell[i].ent, NULL));
    sr_free(&h->mem, pg);
    atomic_store(&h->port_pages[p], NULL);
  }
}
