/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Responses of the SRC to the SRS's own requests: the session's client
 * transaction ends, and what the request was for follows the answer. */
#include "dialog.h"

/* A final response to the session's outstanding request (its lock held). */
static void uac_final(siprec_handler *h, siprec_session *s, const sr_sip_msg *m, uint64_t now)
{
  sr_uac_purpose p = s->uac_tx.purpose;
  sr_client_tx_clear(&s->uac_tx, &s->mem);
  int gone = m->status == 481 || m->status == 408;
  switch (p) {
  case SR_UAC_BYE:
    sr_dialog_forget(h, s); /* any final answer ends our BYE's transaction */
    return;
  case SR_UAC_PING:
    if (gone) {
      sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: OPTIONS answered %d, ending it", s->id,
                     m->status);
      sr_dialog_end(h, s, SIPREC_END_KEEPALIVE, 1, now);
      return;
    }
    /* Any other answer, 405 and 501 included, shows the SRC alive. */
    s->ping_at = now + sr_ms(h->cfg.ping_ms);
    break;
  case SR_UAC_REFRESH:
    if (m->status >= 200 && m->status < 300) {
      if (m->session_expires)
        s->timer.se_s = m->session_expires;
      sr_session_timer_restart(&s->timer, now);
    } else if (gone) {
      sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: refresh answered %d, ending it", s->id,
                     m->status);
      sr_dialog_end(h, s, SIPREC_END_SESSION_TIMER, 1, now);
      return;
    } else {
      /* The SRC takes no UPDATE: drop the session timer, keep the SRC
       * under OPTIONS pings instead (RFC 4028 leaves the session up). */
      sr_handler_log(h, SIPREC_LOG_INFO, "session %s: refresh answered %d; pinging instead",
                     s->id, m->status);
      s->timer.se_s = 0;
      s->ping_at = now + sr_ms(h->cfg.ping_ms);
    }
    break;
  case SR_UAC_METADATA:
    sr_handler_log(h, m->status < 300 ? SIPREC_LOG_INFO : SIPREC_LOG_WARNING,
                   "session %s: metadata request answered %d", s->id, m->status);
    break;
  default:
    break;
  }
}

int sr_uac_response(siprec_handler *h, const sr_sip_msg *m, uint64_t now)
{
  siprec_session *s = sr_handler_find(h, &m->call_id);
  int matched = 0;
  if (s) {
    sr_session_lock(s);
    static const char *const names[] = { [SR_UAC_PING] = "OPTIONS", [SR_UAC_REFRESH] = "UPDATE",
                                         [SR_UAC_METADATA] = "UPDATE", [SR_UAC_BYE] = "BYE",
                                         [SR_UAC_REOFFER] = "INVITE" };
    if (s->state != SR_SESSION_ENDED && sr_reoffer_copy(h, s, m)) {
      matched = 1; /* a copy of the final response our ACK answered: the ACK again */
    } else if (s->uac_tx.purpose != SR_UAC_NONE && s->state != SR_SESSION_ENDED &&
               sr_client_tx_matches(&s->uac_tx, m, names[s->uac_tx.purpose])) {
      matched = 1;
      if (m->status >= 200 && s->uac_tx.purpose == SR_UAC_REOFFER) {
        if (sr_reoffer_final(h, s, m, now)) {
          sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: nothing left after our re-INVITE "
                         "(%d), ending it", s->id, m->status);
          sr_dialog_end(h, s, m->status < 300 ? SIPREC_END_NO_MEDIA : SIPREC_END_KEEPALIVE, 1,
                        now);
        }
      } else if (m->status >= 200) {
        uac_final(h, s, m, now);
      } else {
        sr_tx_timers tm = sr_handler_tx_timers(h);
        sr_client_tx_provisional(&s->uac_tx, &tm, now);
      }
      if (s->state != SR_SESSION_ENDED)
        sr_session_changed(h, s, now);
    }
    sr_session_unlock(s);
    siprec_session_unref(s);
  }
  if (!matched)
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_RESPONSE], 1, memory_order_relaxed);
  return 0;
}

