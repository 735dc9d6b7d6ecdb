/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time passes: the due sessions come out of the timer heap, and for each,
 * its due timers (sr_timer_at, timers.c) are acted on here, the one place
 * that decides what an expiry does. */
#include "dialog.h"
#include "media.h"

/* The SRC never answered the SRS's request (its lock held). Returns 1 when
 * the session ended. */
static int uac_timeout(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_uac_purpose p = (sr_uac_purpose)s->uac_tx.purpose;
  sr_client_tx_clear(&s->uac_tx, &s->mem);
  switch (p) {
  case SR_UAC_BYE:
    sr_dialog_forget(h, s); /* the SRC never answered our BYE: nothing more to do */
    return 1;
  case SR_UAC_PING:
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no answer to OPTIONS, ending it", s->id);
    sr_dialog_end(h, s, SIPREC_END_KEEPALIVE, 1, now);
    return 1;
  case SR_UAC_REFRESH:
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no answer to the refresh, ending it", s->id);
    sr_dialog_end(h, s, SIPREC_END_SESSION_TIMER, 1, now);
    return 1;
  case SR_UAC_REOFFER:
    /* Timer B: the SRC is gone, or no longer reachable from this node. */
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no answer to our re-INVITE, ending it",
                   s->id);
    sr_dialog_end(h, s, SIPREC_END_KEEPALIVE, 1, now);
    return 1;
  default:
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no answer to the metadata request", s->id);
    return 0;
  }
}

/* The host did not decide on a deferred session in time, or a CANCEL came. */
static int decision_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (s->invite_tx.cancelled) {
    sr_invite_reject(h, s, 487, "Request Terminated", NULL, SIPREC_END_CANCEL, now, NULL);
    return 1;
  }
  sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no decision from the host in time", s->id);
  sr_invite_reject(h, s, 503, "Recorder did not decide in time", "Retry-After: 10\r\n",
                   SIPREC_END_REFUSED, now, NULL);
  return 1;
}

/* The INVITE transaction's final response: again, or its ACK never came. */
static int invite_tx_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_tx_timers tm = sr_handler_tx_timers(h);
  int reliable = s->dialog.transport != SIPREC_TRANSPORT_UDP;
  switch (sr_invite_tx_due(&s->invite_tx, reliable, &tm, now)) {
  case SR_TX_GIVE_UP:
    if (s->state == SR_SESSION_REJECTED) {
      sr_dialog_forget(h, s); /* RFC 3261 Timer H: the ACK never came; nothing more to do */
      return 1;
    }
    /* sr_dialog_end sends the BYE only to a dialog confirmed once (a
     * re-INVITE's 2xx unACKed), never to an address that never ACKed. */
    sr_handler_log_limited(h, SR_LOG_SHED, now, SIPREC_LOG_WARNING,
                           "session %s: no ACK, ending it", s->id);
    sr_dialog_end(h, s, SIPREC_END_ACK_TIMEOUT, 1, now);
    return 1;
  case SR_TX_SEND:
    sr_dialog_send(h, s, s->invite_tx.response, s->invite_tx.response_len);
    return 0;
  default:
    return 0; /* its budget is spent: silent until it times out */
  }
}

/* The SRS's own request: again, or the SRC never answered. */
static int client_tx_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_tx_timers tm = sr_handler_tx_timers(h);
  int reliable = s->dialog.transport != SIPREC_TRANSPORT_UDP;
  switch (sr_client_tx_due(&s->uac_tx, reliable, &tm, now)) {
  case SR_TX_GIVE_UP:
    return uac_timeout(h, s, now);
  case SR_TX_SEND:
    sr_dialog_send(h, s, s->uac_tx.request, s->uac_tx.request_len);
    return 0;
  default:
    return 0;
  }
}

/* Keep the dialog alive: refresh the session timer when the SRS is its
 * refresher, else ping. */
static int keepalive_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (s->timer.se_s) {
    sr_uac_start(h, s, SR_UAC_REFRESH, now);
  } else {
    sr_uac_start(h, s, SR_UAC_PING, now);
    s->ping_at = now + sr_ms(h->cfg.ping_ms);
  }
  return 0;
}

/* What timer k falling due does (its lock held). Returns 1 when the
 * session is over for this round (ended, or handed to its last transaction). */
static int fire(siprec_handler *h, siprec_session *s, sr_timer k, uint64_t now)
{
  switch (k) {
  case SR_TIMER_DECISION:
    return decision_due(h, s, now);
  case SR_TIMER_INVITE_TX:
    return invite_tx_due(h, s, now);
  case SR_TIMER_BYE_TX:
    sr_dialog_forget(h, s); /* Timer J: no more copies of the BYE to answer */
    return 1;
  case SR_TIMER_CLIENT_TX:
    return client_tx_due(h, s, now);
  case SR_TIMER_SESSION_EXPIRES:
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: session timer expired", s->id);
    sr_dialog_end(h, s, SIPREC_END_SESSION_TIMER, 1, now);
    return 1;
  case SR_TIMER_IDLE:
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: idle limit reached", s->id);
    sr_dialog_end(h, s, SIPREC_END_IDLE, 1, now);
    return 1;
  case SR_TIMER_KEEPALIVE:
    return keepalive_due(h, s, now);
  case SR_TIMER_ACK_KEPT:
    sr_ack_tx_release(&s->ack_tx, &s->mem); /* no more copies of that response to ACK */
    return 0;
  case SR_TIMER_REOFFER:
    s->reoffer_at = 0;
    if (sr_uac_start(h, s, SR_UAC_REOFFER, now) < 0)
      sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: our re-INVITE could not be sent", s->id);
    return 0;
  case SR_TIMERS:
    break;
  }
  return 0;
}

/* Act on every timer of one session due at `now`, in the table's order,
 * each seen in the state the ones before left (its lock held). Returns the
 * actions. */
static int run_due(siprec_handler *h, siprec_session *s, uint64_t now)
{
  int actions = 0;
  for (int k = 0; k < SR_TIMERS; k++) {
    if (sr_timer_at(h, s, (sr_timer)k) > now)
      continue;
    actions++;
    if (fire(h, s, (sr_timer)k, now))
      break;
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
  size_t budget = 2 * sr_timers_count(h) + BATCH; /* a session that stays due is not run for ever */
  for (;;) {
    siprec_session *due[BATCH];
    size_t n = sr_timers_take_due(h, now_ns, due, budget < BATCH ? budget : BATCH);
    budget -= n;
    for (size_t i = 0; i < n; i++) {
      siprec_session *s = due[i];
      sr_session_lock(s);
      actions += run_due(h, s, now_ns);
      if (s->state != SR_SESSION_ENDED)
        sr_session_changed(h, s, now_ns);
      sr_session_unlock(s);
      siprec_session_unref(s);
    }
    if (n < BATCH)
      break;
  }
  actions += sr_media_expire(h, now_ns); /* jitter buffers' holes, no-media watchdogs */
  sr_media_ports_reclaim(h);             /* port entries no datagram can hold any more */
  return actions;
}
