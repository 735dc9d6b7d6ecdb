/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's timers: every session with something due later sits in one
 * binary min-heap keyed on its earliest deadline, so next_deadline is O(1)
 * and expire touches only what is due, however many sessions are open.
 * What falls due for a session is decided here; the actions live with the
 * code they belong to (dialog.c, uac.c, invite.c). */
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
/* A session's deadlines                                                    */

static uint64_t min_u64(uint64_t a, uint64_t b)
{
  return a < b ? a : b;
}

static uint64_t idle_deadline(const siprec_handler *h, const siprec_session *s)
{
  if (!h->cfg.idle_ms)
    return UINT64_MAX;
  return atomic_load_explicit(&s->last_activity, memory_order_relaxed) +
         sr_ms(h->cfg.idle_ms);
}

static uint64_t next_deadline(const siprec_handler *h, const siprec_session *s)
{
  int udp = s->dialog.transport == SIPREC_TRANSPORT_UDP;
  uint64_t d = UINT64_MAX;
  switch (s->state) {
  case SR_SESSION_PENDING:
    return s->invite_tx.deadline;
  case SR_SESSION_REJECTED:
    return udp ? min_u64(s->invite_tx.deadline, s->invite_tx.retx_at) : s->invite_tx.deadline;
  case SR_SESSION_CLOSING:
    return s->uac_tx.purpose == SR_UAC_NONE ? UINT64_MAX : min_u64(s->uac_tx.deadline, s->uac_tx.retx_at);
  case SR_SESSION_LINGER:
    return sr_request_tx_next(&s->bye_tx);
  case SR_SESSION_ENDED:
    return UINT64_MAX;
  case SR_SESSION_ANSWERED:
  case SR_SESSION_CONFIRMED:
    break;
  }
  if (s->invite_tx.active)
    d = udp ? min_u64(s->invite_tx.deadline, s->invite_tx.retx_at) : s->invite_tx.deadline;
  if (s->uac_tx.purpose != SR_UAC_NONE)
    d = min_u64(d, udp ? min_u64(s->uac_tx.deadline, s->uac_tx.retx_at) : s->uac_tx.deadline);
  if (s->se_s) {
    d = min_u64(d, s->se_expire_at);
    if (s->srs_refresher && s->uac_tx.purpose == SR_UAC_NONE)
      d = min_u64(d, s->se_refresh_at);
  } else if (s->state == SR_SESSION_CONFIRMED && h->cfg.ping_ms && s->uac_tx.purpose == SR_UAC_NONE) {
    d = min_u64(d, s->ping_at);
  }
  return min_u64(d, idle_deadline(h, s));
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
  return next;
}

/* ---------------------------------------------------------------------- */
/* What falls due                                                           */

/* Send a message again, the next time after twice the interval, capped at
 * T2 (RFC 3261 17). */
static void retransmit(siprec_handler *h, siprec_session *s, const char *msg, size_t len,
                       uint64_t *interval, uint64_t *at, uint64_t now)
{
  sr_dialog_send(h, s, msg, len);
  uint64_t t2 = sr_ms(h->cfg.t2_ms);
  *interval = *interval * 2 > t2 ? t2 : *interval * 2;
  *at = now + *interval;
}

/* A final response to the session's INVITE falls due again: sent while
 * its byte budget (a flood's share, pending.c) lasts, then no more. */
static void retransmit_final(siprec_handler *h, siprec_session *s, uint64_t now)
{
  size_t len = s->invite_tx.response_len;
  if (s->invite_tx.budget != SIZE_MAX) {
    if (s->invite_tx.budget < len) {
      s->invite_tx.retx_at = s->invite_tx.deadline; /* silent until the transaction times out */
      return;
    }
    s->invite_tx.budget -= len;
  }
  retransmit(h, s, s->invite_tx.response, len, &s->invite_tx.interval, &s->invite_tx.retx_at, now);
}

/* Run what is due for one session (its lock held). Returns the actions. */
static int run_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  int udp = s->dialog.transport == SIPREC_TRANSPORT_UDP;
  switch (s->state) {
  case SR_SESSION_PENDING:
    if (now < s->invite_tx.deadline)
      return 0;
    if (s->invite_tx.cancelled) {
      sr_invite_reject(h, s, 487, "Request Terminated", NULL, SIPREC_END_CANCEL, now, NULL);
      return 1;
    }
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no decision from the host in time", s->id);
    sr_invite_reject(h, s, 503, "Recorder did not decide in time", "Retry-After: 10\r\n",
                     SIPREC_END_REFUSED, now, NULL);
    return 1;
  case SR_SESSION_REJECTED:
    if (now >= s->invite_tx.deadline) {
      sr_dialog_forget(h, s); /* RFC 3261 Timer H: the ACK never came; nothing more to do */
      return 1;
    }
    if (udp && now >= s->invite_tx.retx_at) {
      retransmit_final(h, s, now);
      return 1;
    }
    return 0;
  case SR_SESSION_LINGER:
    if (sr_request_tx_due(&s->bye_tx, now) == SR_TX_WAIT)
      return 0;
    sr_dialog_forget(h, s); /* Timer J: no more copies of the BYE to answer */
    return 1;
  case SR_SESSION_ENDED:
    return 0;
  case SR_SESSION_CLOSING:
  case SR_SESSION_ANSWERED:
  case SR_SESSION_CONFIRMED:
    break;
  }
  int actions = 0;
  if (s->invite_tx.active) {
    if (now >= s->invite_tx.deadline) {
      /* sr_dialog_end sends the BYE only to a dialog confirmed once (a
       * re-INVITE's 2xx unACKed), never to an address that never ACKed. */
      sr_handler_log_limited(h, SR_LOG_SHED, now, SIPREC_LOG_WARNING,
                             "session %s: no ACK, ending it", s->id);
      sr_dialog_end(h, s, SIPREC_END_ACK_TIMEOUT, 1, now);
      return 1;
    }
    if (udp && now >= s->invite_tx.retx_at) {
      retransmit_final(h, s, now);
      actions++;
    }
  }
  if (s->uac_tx.purpose != SR_UAC_NONE) {
    if (now >= s->uac_tx.deadline) {
      actions++;
      if (sr_uac_timeout(h, s, now))
        return actions; /* the session ended */
    } else if (udp && now >= s->uac_tx.retx_at) {
      retransmit(h, s, s->uac_tx.request, s->uac_tx.request_len, &s->uac_tx.interval, &s->uac_tx.retx_at,
                 now);
      actions++;
    }
  }
  if (s->state == SR_SESSION_CLOSING)
    return actions;
  if (s->se_s && now >= s->se_expire_at) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: session timer expired", s->id);
    sr_dialog_end(h, s, SIPREC_END_SESSION_TIMER, 1, now);
    return actions + 1;
  }
  if (now >= idle_deadline(h, s)) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: idle limit reached", s->id);
    sr_dialog_end(h, s, SIPREC_END_IDLE, 1, now);
    return actions + 1;
  }
  if (s->uac_tx.purpose == SR_UAC_NONE) {
    if (s->se_s && s->srs_refresher && now >= s->se_refresh_at) {
      sr_uac_start(h, s, SR_UAC_REFRESH, now);
      actions++;
    } else if (!s->se_s && s->state == SR_SESSION_CONFIRMED && h->cfg.ping_ms &&
               now >= s->ping_at) {
      sr_uac_start(h, s, SR_UAC_PING, now);
      s->ping_at = now + sr_ms(h->cfg.ping_ms);
      actions++;
    }
  }
  return actions;
}

SIPREC_API int siprec_handler_expire(siprec_handler *h, uint64_t now_ns)
{
  if (!h)
    return SIPREC_EINVAL;
  /* Take the due sessions out of the heap (their references become ours),
   * then act on each without the heap lock: callbacks never run under it. */
  enum { BATCH = 64 };
  int actions = 0;
  pthread_mutex_lock(&h->timers_lock);
  size_t budget = 2 * h->heap_len + BATCH; /* a session that stays due is not run for ever */
  pthread_mutex_unlock(&h->timers_lock);
  for (;;) {
    siprec_session *due[BATCH];
    size_t n = 0;
    pthread_mutex_lock(&h->timers_lock);
    while (n < BATCH && budget && h->heap_len && h->heap[0]->heap_key <= now_ns) {
      budget--;
      siprec_session *s = h->heap[0];
      heap_take(h, s);
      due[n++] = s;
    }
    pthread_mutex_unlock(&h->timers_lock);
    for (size_t i = 0; i < n; i++) {
      siprec_session *s = due[i];
      sr_session_lock(s);
      actions += run_due(h, s, now_ns);
      if (s->state != SR_SESSION_ENDED)
        sr_timers_schedule(h, s);
      sr_session_unlock(s);
      siprec_session_unref(s);
    }
    if (n < BATCH)
      break;
  }
  return actions;
}
