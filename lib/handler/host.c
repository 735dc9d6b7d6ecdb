/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the host asks of the handler about one session (accept or refuse a
 * deferred one, end one, ask for a metadata snapshot, report media), and
 * the counters it reads. */
#include "dialog.h"
#include "media.h"

/* The session locked for a host request, or an error: a request from inside
 * a callback would wait on a lock its own thread holds. */
static int host_lock(siprec_handler *h, siprec_session *s)
{
  if (!h || !s)
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  sr_session_lock(s);
  return 0;
}

static void host_unlock(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (s->state != SR_SESSION_ENDED)
    sr_session_changed(h, s, now);
  sr_session_unlock(s);
}

SIPREC_API int siprec_handler_accept_session(siprec_handler *h, siprec_session *s, uint64_t now_ns)
{
  int rc = host_lock(h, s);
  if (rc < 0)
    return rc;
  rc = sr_invite_accept(h, s, now_ns);
  host_unlock(h, s, now_ns);
  if (rc == 0)
    sr_failover_take_over(h, s, now_ns);
  return rc;
}

SIPREC_API int siprec_handler_refuse_session(siprec_handler *h, siprec_session *s, int status,
                                             uint64_t now_ns)
{
  if (status < 400 || status > 699)
    return SIPREC_EINVAL;
  int rc = host_lock(h, s);
  if (rc < 0)
    return rc;
  if (s->state == SR_SESSION_PENDING && !s->invite_tx.cancelled)
    sr_invite_reject(h, s, status, "Refused by the recorder", NULL, SIPREC_END_REFUSED, now_ns, NULL);
  else
    rc = SIPREC_EINVAL;
  host_unlock(h, s, now_ns);
  return rc;
}

SIPREC_API int siprec_handler_end_session(siprec_handler *h, siprec_session *s, uint64_t now_ns)
{
  int rc = host_lock(h, s);
  if (rc < 0)
    return rc;
  if (s->state == SR_SESSION_PENDING)
    sr_invite_reject(h, s, 480, "Recording ended by the recorder", NULL, SIPREC_END_HOST, now_ns, NULL);
  else if (s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED)
    sr_dialog_end(h, s, SIPREC_END_HOST, 1, now_ns);
  else
    rc = SIPREC_EINVAL;
  host_unlock(h, s, now_ns);
  return rc;
}

SIPREC_API int siprec_handler_release_session(siprec_handler *h, siprec_session *s,
                                              uint64_t now_ns)
{
  int rc = host_lock(h, s);
  if (rc < 0)
    return rc;
  if (s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED)
    sr_session_hand_over(h, s, now_ns, 0);
  else
    rc = SIPREC_EINVAL;
  host_unlock(h, s, now_ns);
  return rc;
}

SIPREC_API int siprec_handler_request_metadata(siprec_handler *h, siprec_session *s,
                                               uint64_t now_ns)
{
  int rc = host_lock(h, s);
  if (rc < 0)
    return rc;
  if (s->state != SR_SESSION_CONFIRMED && s->state != SR_SESSION_ANSWERED)
    rc = SIPREC_EINVAL;
  else
    rc = sr_uac_start(h, s, SR_UAC_METADATA, now_ns);
  host_unlock(h, s, now_ns);
  return rc;
}

SIPREC_API int siprec_handler_touch_session(siprec_handler *h, siprec_session *s, uint64_t now_ns)
{
  if (!h || !s)
    return SIPREC_EINVAL;
  /* Lock-free: the idle deadline is checked again when it falls due. */
  uint64_t was = atomic_load_explicit(&s->last_activity, memory_order_relaxed);
  if (now_ns > was)
    atomic_store_explicit(&s->last_activity, now_ns, memory_order_relaxed);
  return 0;
}

SIPREC_API uint64_t siprec_handler_stat(siprec_handler *h, siprec_stat stat, unsigned index)
{
  if (!h)
    return 0;
  const sr_handler_stats *st = &h->stats;
  switch (stat) {
  case SIPREC_STAT_SESSIONS_ACTIVE: return atomic_load(&st->active);
  case SIPREC_STAT_SESSIONS_STARTED: return atomic_load(&st->started);
  case SIPREC_STAT_SESSIONS_ENDED: return index < SR_END_REASONS ? atomic_load(&st->ended[index]) : 0;
  case SIPREC_STAT_RESPONSES: return index >= 1 && index <= 6 ? atomic_load(&st->responses[index]) : 0;
  case SIPREC_STAT_DROPPED: return index < SR_DROP_REASONS ? atomic_load(&st->dropped[index]) : 0;
  case SIPREC_STAT_REQUESTS_SENT: return atomic_load(&st->requests_sent);
  case SIPREC_STAT_LOG_SUPPRESSED: return atomic_load(&st->log_suppressed);
  case SIPREC_STAT_PENDING: return sr_pending_count(h);
  case SIPREC_STAT_MEDIA: return sr_media_stat(h, index);
  default: return 0;
  }
}
