/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's timers: every session with something due later sits in one
 * binary min-heap keyed on its earliest deadline, so next_deadline is O(1)
 * and expire touches only what is due, however many sessions are open.
 * Which timers a session runs in its state, and when each falls due (as its
 * transactions report it), is the one table sr_timer_at(); what an expiry
 * does is decided in expire.c, from the same table. */
#include <string.h>

#include "../common/alloc.h"
#include "dialog.h"

/* ---------------------------------------------------------------------- */
/* The heap (h->timers_lock held)                                           */

static void heap_set(siprec_handler *h, size_t i, siprec_session *s)
{
  h->heap[i] = s;
  s->heap_index = i;
}

static void heap_up(siprec_handler *h, size_t i)
{
  siprec_session *s = h->heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (h->heap[parent]->heap_key <= s->heap_key)
      break;
    heap_set(h, i, h->heap[parent]);
    i = parent;
  }
  heap_set(h, i, s);
}

static void heap_down(siprec_handler *h, size_t i)
{
  siprec_session *s = h->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->heap_len)
      break;
    if (c + 1 < h->heap_len && h->heap[c + 1]->heap_key < h->heap[c]->heap_key)
      c++;
    if (h->heap[c]->heap_key >= s->heap_key)
      break;
    heap_set(h, i, h->heap[c]);
    i = c;
  }
  heap_set(h, i, s);
}

/* Take s out of the heap; the heap's reference becomes the caller's. */
static void heap_take(siprec_handler *h, siprec_session *s)
{
  size_t i = s->heap_index;
  s->heap_index = SIZE_MAX;
  siprec_session *last = h->heap[--h->heap_len];
  if (last != s) {
    heap_set(h, i, last);
    heap_up(h, i);
    heap_down(h, last->heap_index);
  }
}

static int heap_insert(siprec_handler *h, siprec_session *s)
{
  if (h->heap_len == h->heap_cap) {
    size_t cap = h->heap_cap ? 2 * h->heap_cap : 64;
    siprec_session **grown = sr_realloc(&h->mem, h->heap, cap * sizeof *grown);
    if (!grown)
      return SIPREC_ENOMEM;
    h->heap = grown;
    h->heap_cap = cap;
  }
  siprec_session_ref(s);
  heap_set(h, h->heap_len++, s);
  heap_up(h, s->heap_index);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* A session's timers                                                       */

static uint64_t idle_deadline(const siprec_handler *h, const siprec_session *s)
{
  if (!h->cfg.idle_ms)
    return UINT64_MAX;
  return atomic_load_explicit(&s->last_activity, memory_order_relaxed) +
         sr_ms(h->cfg.idle_ms);
}

uint64_t sr_timer_at(const siprec_handler *h, const siprec_session *s, sr_timer k)
{
  int reliable = s->dialog.transport != SIPREC_TRANSPORT_UDP;
  int up = s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED;
  switch (k) {
  case SR_TIMER_DECISION:
    return s->state == SR_SESSION_PENDING ? s->invite_tx.deadline : UINT64_MAX;
  case SR_TIMER_INVITE_TX:
    if (s->state == SR_SESSION_REJECTED || (up && s->invite_tx.active))
      return sr_invite_tx_next(&s->invite_tx, reliable);
    return UINT64_MAX;
  case SR_TIMER_BYE_TX:
    return s->state == SR_SESSION_LINGER ? sr_request_tx_next(&s->bye_tx) : UINT64_MAX;
  case SR_TIMER_CLIENT_TX:
    return up || s->state == SR_SESSION_CLOSING ? sr_client_tx_next(&s->uac_tx, reliable)
                                                : UINT64_MAX;
  case SR_TIMER_SESSION_EXPIRES:
    return up ? sr_session_timer_expires(&s->timer) : UINT64_MAX;
  case SR_TIMER_IDLE:
    return up ? idle_deadline(h, s) : UINT64_MAX;
  case SR_TIMER_KEEPALIVE:
    if (!up || s->uac_tx.purpose != SR_UAC_NONE)
      return UINT64_MAX;
    if (s->timer.se_s)
      return sr_session_timer_refresh(&s->timer);
    return s->state == SR_SESSION_CONFIRMED && h->cfg.ping_ms ? s->ping_at : UINT64_MAX;
  case SR_TIMER_ACK_KEPT:
    return up ? sr_ack_tx_next(&s->ack_tx) : UINT64_MAX;
  case SR_TIMER_REOFFER:
    /* RFC 3261 14.1: not while an INVITE transaction of either side is
     * open (our 2xx waiting for its ACK, or our own request). */
    if (s->state != SR_SESSION_CONFIRMED || !s->reoffer_at || s->invite_tx.active ||
        s->uac_tx.purpose != SR_UAC_NONE)
      return UINT64_MAX;
    return s->reoffer_at;
  case SR_TIMERS:
    break;
  }
  return UINT64_MAX;
}

static uint64_t next_deadline(const siprec_handler *h, const siprec_session *s)
{
  uint64_t d = UINT64_MAX;
  for (int k = 0; k < SR_TIMERS; k++) {
    uint64_t at = sr_timer_at(h, s, (sr_timer)k);
    if (at < d)
      d = at;
  }
  return d;
}

void sr_timers_schedule(siprec_handler *h, siprec_session *s)
{
  uint64_t d = next_deadline(h, s);
  pthread_mutex_lock(&h->timers_lock);
  siprec_session *drop = NULL;
  if (d == UINT64_MAX) {
    if (s->heap_index != SIZE_MAX) {
      heap_take(h, s);
      drop = s;
    }
  } else if (s->heap_index != SIZE_MAX) {
    uint64_t old = s->heap_key;
    s->heap_key = d;
    if (d < old)
      heap_up(h, s->heap_index);
    else
      heap_down(h, s->heap_index);
  } else {
    s->heap_key = d;
    if (heap_insert(h, s) < 0)
      sr_handler_log(h, SIPREC_LOG_ERROR, "session %s: out of memory for its timer", s->id);
  }
  pthread_mutex_unlock(&h->timers_lock);
  if (drop)
    siprec_session_unref(drop); /* the heap's reference; the caller still holds one */
}

void sr_timers_remove(siprec_handler *h, siprec_session *s)
{
  pthread_mutex_lock(&h->timers_lock);
  int in = s->heap_index != SIZE_MAX;
  if (in)
    heap_take(h, s);
  pthread_mutex_unlock(&h->timers_lock);
  if (in)
    siprec_session_unref(s);
}

int sr_timers_holds(siprec_handler *h, siprec_session *s)
{
  pthread_mutex_lock(&h->timers_lock);
  int in = s->heap_index != SIZE_MAX;
  pthread_mutex_unlock(&h->timers_lock);
  return in;
}

void sr_timers_free(siprec_handler *h)
{
  for (size_t i = 0; i < h->heap_len; i++) {
    h->heap[i]->heap_index = SIZE_MAX;
    siprec_session_unref(h->heap[i]);
  }
  sr_free(&h->mem, h->heap);
  h->heap = NULL;
  h->heap_len = h->heap_cap = 0;
}

SIPREC_API uint64_t siprec_handler_next_deadline(siprec_handler *h)
{
  if (!h)
    return UINT64_MAX;
  pthread_mutex_lock(&h->timers_lock);
  uint64_t next = h->heap_len ? h->heap[0]->heap_key : UINT64_MAX;
  pthread_mutex_unlock(&h->timers_lock);
  uint64_t media = sr_media_timers_next(h);
  return media < next ? media : next;
}

size_t sr_timers_count(siprec_handler *h)
{
  pthread_mutex_lock(&h->timers_lock);
  size_t n = h->heap_len;
  pthread_mutex_unlock(&h->timers_lock);
  return n;
}

size_t sr_timers_take_due(siprec_handler *h, uint64_t now, siprec_session **due, size_t max)
{
  size_t n = 0;
  pthread_mutex_lock(&h->timers_lock);
  while (n < max && h->heap_len && h->heap[0]->heap_key <= now) {
    siprec_session *s = h->heap[0];
    heap_take(h, s);
    due[n++] = s;
  }
  pthread_mutex_unlock(&h->timers_lock);
  return n;
}
