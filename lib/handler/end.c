/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ending a session: what every end shares, the SRS's BYE or, before the
 * dialog, the INVITE's final non-2xx answer, and forgetting it once its
 * last transaction is over. */
#include <string.h>

#include "../sip/response.h"
#include "dialog.h"
#include "media.h"

void sr_dialog_arm_tx(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_tx_timers tm = sr_handler_tx_timers(h);
  sr_invite_tx_arm(&s->invite_tx, &tm, now);
  sr_timers_schedule(h, s);
}

void sr_session_finish(siprec_handler *h, siprec_session *s, siprec_end_reason reason)
{
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s ended: %s", s->id, siprec_end_reason_name(reason));
  /* Every stream's last frames and ENDED before the session's ended. */
  sr_media_end_all(h, s, atomic_load_explicit(&s->last_activity, memory_order_relaxed));
  if (reason != SIPREC_END_HANDOVER)
    sr_snapshot_drop(h, s); /* a handed-over session's stays for the next process */
  if (h->cbs.ended)
    SR_CALLBACK(s, h->cbs.ended(h->user, s, reason));
  if ((unsigned)reason < SR_END_REASONS)
    atomic_fetch_add_explicit(&h->stats.ended[reason], 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&h->stats.active, 1, memory_order_relaxed);
  sr_handler_release_ports(h, s, s->streams, s->n_streams);
  for (size_t i = 0; i < s->n_streams; i++)
    s->streams[i].accepted = 0; /* given back once */
  sr_pending_leave(h, s);
  /* Out of the failover index (failover.c) when it is its key's latest. */
  if (s->cs_key)
    (void)siprec_shmap_compare_and_delete(h->failover, s->cs_key, strlen(s->cs_key), s);
}

void sr_dialog_forget(siprec_handler *h, siprec_session *s)
{
  s->state = SR_SESSION_ENDED;
  s->invite_tx.active = 0;
  sr_timers_remove(h, s);
  /* The map's reference goes with the entry (its destructor unrefs); the
   * caller still holds its own, so the session outlives this call. */
  (void)siprec_shmap_compare_and_delete(h->sessions, s->dialog.call_id, s->dialog.call_id_len, s);
}

void sr_dialog_end(siprec_handler *h, siprec_session *s, siprec_end_reason reason, int bye,
                   uint64_t now)
{
  if (s->state == SR_SESSION_ENDED || s->state == SR_SESSION_REJECTED ||
      s->state == SR_SESSION_CLOSING || s->state == SR_SESSION_LINGER)
    return;
  if (s->state == SR_SESSION_PENDING) {
    /* No dialog yet: the INVITE gets its final answer instead of a BYE. */
    sr_invite_reject(h, s, 480, "Recording ended", NULL, reason, 0, NULL);
    sr_dialog_forget(h, s);
    return;
  }
  /* RFC 3261 15: no BYE before the 2xx's ACK; and an address that never
   * ACKed never proved it is the SRC (it may be forged): none at all. */
  if (s->state == SR_SESSION_ANSWERED)
    bye = 0;
  s->state = SR_SESSION_ENDED;
  s->invite_tx.active = 0;
  if (bye && sr_uac_send_bye(h, s, now))
    s->state = SR_SESSION_CLOSING;
  sr_session_finish(h, s, reason);
  if (s->state == SR_SESSION_CLOSING)
    sr_timers_schedule(h, s);
  else
    sr_dialog_forget(h, s);
}

void sr_invite_reject(siprec_handler *h, siprec_session *s, int status, const char *reason,
                      const char *extra, siprec_end_reason end, uint64_t now, sr_strbuf *out)
{
  char buf[4096];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  sr_sip_write_status_line(&b, status, reason);
  if (s->invite_tx.echo)
    sr_strbuf_str(&b, s->invite_tx.echo);
  sr_strbuf_printf(&b, "Server: %s\r\n", h->cfg.user_agent);
  sr_sip_write_tail(&b, extra, NULL, NULL, 0);
  sr_session_drop_str(s, &s->invite_tx.echo);
  if (b.overflow || sr_session_set_str(s, &s->invite_tx.response, b.p, b.len) < 0) {
    sr_session_drop_str(s, &s->invite_tx.response);
    s->invite_tx.response_len = 0;
  } else {
    s->invite_tx.response_len = b.len;
  }
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s refused: %d %s", s->id, status,
                 reason ? reason : sr_sip_reason(status));
  sr_session_finish(h, s, end);
  s->state = SR_SESSION_REJECTED;
  if (out)
    sr_strbuf_add(out, s->invite_tx.response, s->invite_tx.response_len);
  else
    sr_dialog_send(h, s, s->invite_tx.response, s->invite_tx.response_len);
  sr_dialog_arm_tx(h, s, now);
}
