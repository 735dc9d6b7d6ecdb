/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The media's port table: local port -> (session, stream index, RTP or
 * RTCP), read by every datagram without a handler-wide lock.
 *
 * The table. 65536 cells in 256 pages of 256 ports, each page allocated at
 * its first use (CAS; pages live until the handler is freed). A cell is one
 * cache line: an atomic pointer to the port's entry and the port's hints
 * (sr_port_hints), so that a datagram's first miss tells where all its
 * other lines are (16 KiB a page in use). An entry is an allocated
 * sr_port_ent holding a reference to its session; a change of a port swaps
 * its cell's pointer (to NULL or a new entry).
 *
 * Readers: sections, not uses. A reader enters a section (a count of its
 * thread slot, in the current phase, up), loads entries and works with
 * them, and leaves (the count down): a batch of datagrams is one section,
 * so a datagram costs no locked instruction for the table (it cost four:
 * two on a page's reader count, two on the entry's use count, a tenth of
 * a datagram's time at 4,000 streams).
 *
 * Writers never wait for readers (a section can run the host's audio
 * callbacks, and a port change waiting for them could wait on the host).
 * A swapped-out entry is parked: `retired`, then, when the epoch moves on
 * (the phase new sections count in flips), `draining`, freed once every
 * slot's count of the phase before the move has been seen at 0 (each at
 * its own moment: a section that began after the move cannot have found
 * it). All steps are sequentially consistent. A reader checks that the
 * epoch did not move between reading it and counting itself, so a reader
 * delayed across two moves is never counted in a phase nobody waits for.
 * Parked entries are freed by the next change of the table or the next
 * siprec_handler_expire(); with one thread feeding media and changing
 * ports (a host's loop) at once, as no section is open then.
 *
 * Why a count per thread slot: threads feeding media would otherwise
 * bounce one line. */
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

void sr_media_ports_enter(siprec_handler *h, sr_port_section *sec)
{
  struct sr_port_readers *r = &h->readers;
  sec->slot = reader_slot();
  for (;;) {
    uint64_t e = atomic_load_explicit(&r->epoch, memory_order_acquire);
    sec->phase = (unsigned)(e & 1);
    atomic_fetch_add(&r->count[sec->phase][sec->slot].n, 1);
    if (atomic_load(&r->epoch) == e)
      return;
    /* The epoch moved meanwhile: counted again in the new phase. */
    atomic_fetch_sub_explicit(&r->count[sec->phase][sec->slot].n, 1, memory_order_release);
  }
}

void sr_media_ports_leave(siprec_handler *h, const sr_port_section *sec)
{
  atomic_fetch_sub_explicit(&h->readers.count[sec->phase][sec->slot].n, 1,
                            memory_order_release);
}

/* Port `port`'s cell, NULL when its page was never made. */
static sr_port_cell *cell_of(siprec_handler *h, uint16_t port)
{
  struct sr_port_page *pg = page_of(h, port, 0);
  return pg ? &pg->cell[port & 255] : NULL;
}

sr_port_ent *sr_media_ports_find(siprec_handler *h, uint16_t port, bool hinted,
                                 sr_port_hints *hints)
{
  sr_port_cell *c = cell_of(h, port);
  if (!c)
    return NULL;
  read_hints(c, hints);
  if (!hinted)
    hint_lines(c, hints);
  return atomic_load_explicit(&c->ent, memory_order_acquire);
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

static void ent_free(siprec_handler *h, sr_port_ent *e)
{
  while (e) {
    sr_port_ent *next = e->next_retired;
    siprec_session_unref(e->s);
    sr_free(&h->mem, e);
    e = next;
  }
}

static bool phase_idle(struct sr_port_readers *r, unsigned phase)
{
  for (unsigned i = 0; i < SR_PORT_SLOTS; i++)
    if (atomic_load(&r->count[phase][i].n) != 0)
      return false;
  return true;
}

static sr_port_ent *append(sr_port_ent *list, sr_port_ent *tail)
{
  if (!list)
    return tail;
  sr_port_ent *e = list;
  while (e->next_retired)
    e = e->next_retired;
  e->next_retired = tail;
  return list;
}

/* r's lock held: the parked entries no section can hold any more,
 * unlinked. Moves the epoch on when nothing drains, then looks again at
 * once: without a section open (a host's loop) an entry goes right away. */
static sr_port_ent *collect_free(struct sr_port_readers *r)
{
  sr_port_ent *done = NULL;
  for (int round = 0; round < 2; round++) {
    if (r->draining) {
      if (!phase_idle(r, r->drain_phase))
        break;
      done = append(r->draining, done);
      r->draining = NULL;
    }
    if (!r->retired)
      break;
    r->drain_phase = (unsigned)(atomic_fetch_add(&r->epoch, 1) & 1);
    r->draining = r->retired;
    r->retired = NULL;
  }
  atomic_store_explicit(&r->parked, r->retired || r->draining, memory_order_relaxed);
  return done;
}

/* `old`, swapped out of the table, parked until no section can hold it. */
static void retire(siprec_handler *h, sr_port_ent *old)
{
  struct sr_port_readers *r = &h->readers;
  pthread_mutex_lock(&r->lock);
  if (old) {
    old->next_retired = r->retired;
    r->retired = old;
  }
  sr_port_ent *done = collect_free(r);
  pthread_mutex_unlock(&r->lock);
  ent_free(h, done); /* outside the lock: a session's last reference may go */
}

void sr_media_ports_reclaim(siprec_handler *h)
{
  if (atomic_load_explicit(&h->readers.parked, memory_order_relaxed))
    retire(h, NULL);
}

/* The session, index and ports of entry e are these. Only in a section:
 * another writer may swap e out and park it meanwhile. */
static bool ent_is(const sr_port_ent *e, const siprec_session *s, size_t index,
                   uint16_t rtp_port, int rtcp)
{
  return e && e->s == s && e->index == index && e->rtp_port == rtp_port && e->rtcp == rtcp;
}

static int set_port(siprec_handler *h, siprec_session *s, size_t index, uint16_t port,
                    uint16_t rtp_port, int rtcp)
{
  struct sr_port_page *pg = page_of(h, port, 1);
  if (!pg)
    return SIPREC_ENOMEM;
  sr_port_section sec;
  sr_media_ports_enter(h, &sec);
  bool same = ent_is(atomic_load(&pg->cell[port & 255].ent), s, index, rtp_port, rtcp);
  sr_media_ports_leave(h, &sec);
  if (same)
    return 0;
  sr_port_ent *e = sr_malloc(&h->mem, sizeof *e);
  if (!e)
    return SIPREC_ENOMEM;
  siprec_session_ref(s);
  atomic_init(&e->m, NULL);
  e->s = s;
  e->index = index;
  e->rtp_port = rtp_port;
  e->rtcp = rtcp;
  e->next_retired = NULL;
  retire(h, atomic_exchange(&pg->cell[port & 255].ent, e));
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
  sr_port_ent *_Atomic *cell = &pg->cell[port & 255].ent;
  sr_port_section sec;
  sr_media_ports_enter(h, &sec);
  sr_port_ent *cur = atomic_load(cell);
  bool swapped = false;
  while (!swapped && cur && cur->s == s)
    swapped = atomic_compare_exchange_weak(cell, &cur, NULL);
  sr_media_ports_leave(h, &sec);
  if (swapped)
    retire(h, cur);
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
  /* No section is open any more (the handler is being freed): everything
   * goes at once. */
  struct sr_port_readers *r = &h->readers;
  for (size_t p = 0; p < 256; p++) {
    struct sr_port_page *pg = atomic_load(&h->port_pages[p]);
    if (!pg)
      continue;
    for (size_t i = 0; i < 256; i++) {
      sr_port_ent *e = atomic_exchange(&pg->cell[i].ent, NULL);
      if (e) {
        e->next_retired = NULL;
        ent_free(h, e);
      }
    }
    sr_free(&h->mem, pg);
    atomic_store(&h->port_pages[p], NULL);
  }
  ent_free(h, r->retired);
  ent_free(h, r->draining);
  r->retired = r->draining = NULL;
  atomic_store(&r->parked, false);
}
