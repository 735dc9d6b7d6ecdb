/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests the SRS originates inside a recording session's dialog (BYE,
 * OPTIONS pings, UPDATE refreshes and metadata-snapshot requests), the one
 * client transaction a session keeps for them, and the SRC's responses. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "../sip/response.h"
#include "dialog.h"

#define NS_PER_S UINT64_C(1000000000)

void sr_dialog_send(siprec_handler *h, siprec_session *s, const char *data, size_t len)
{
  if (!data || !len)
    return;
  sr_handler_count_message(h, data, len);
  siprec_path path = sr_dialog_path(&s->dialog);
  if (h->cbs.send)
    h->cbs.send(h->user, data, len, &path);
}

int sr_uac_write(siprec_handler *h, siprec_session *s, const char *method, const char *extra,
                 const char *content_type, const char *body, size_t body_len, sr_strbuf *b,
                 char branch[SR_TAG_LEN + 1])
{
  /* No branch (nor randomness) spent on a request that cannot be written. */
  if (s->dialog.local.ss_family != AF_INET && s->dialog.local.ss_family != AF_INET6)
    return SIPREC_EINVAL;
  sr_handler_tag(h, branch);
  return sr_dialog_write_request(&s->dialog, method, branch, h->cfg.user_agent, extra,
                                 content_type, body, body_len, b);
}

static void uac_clear(siprec_session *s)
{
  sr_client_tx_clear(&s->uac_tx, &s->mem);
}

int sr_uac_send_bye(siprec_handler *h, siprec_session *s, uint64_t now)
{
  /* Over UDP the BYE is retransmitted until answered (a lost BYE would
   * leave the SRC streaming to a closed port); on a stream it goes once. */
  if (now && !h->shutting_down && s->dialog.transport == SIPREC_TRANSPORT_UDP) {
    uac_clear(s);
    if (sr_uac_start(h, s, SR_UAC_BYE, now) == 0)
      return 1;
  }
  char buf[4096], branch[SR_TAG_LEN + 1];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  if (sr_uac_write(h, s, "BYE", NULL, NULL, NULL, 0, &b, branch) > 0)
    sr_dialog_send(h, s, b.p, b.len);
  return 0;
}

int sr_uac_start(siprec_handler *h, siprec_session *s, sr_uac_purpose purpose, uint64_t now)
{
  if (s->uac_tx.purpose != SR_UAC_NONE)
    return SIPREC_EAGAIN;
  char buf[4096], extra[256];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  int rc;
  switch (purpose) {
  case SR_UAC_BYE:
    rc = sr_uac_write(h, s, "BYE", NULL, NULL, NULL, 0, &b, s->uac_tx.branch);
    break;
  case SR_UAC_PING:
    rc = sr_uac_write(h, s, "OPTIONS", "Accept: application/sdp\r\n", NULL, NULL, 0, &b,
                      s->uac_tx.branch);
    break;
  case SR_UAC_REFRESH:
    /* RFC 4028 7.4: an UPDATE without a body refreshes the session. */
    snprintf(extra, sizeof extra,
             "Session-Expires: %u;refresher=uas\r\nSupported: timer\r\nMin-SE: %u\r\n", s->se_s,
             h->cfg.min_se_s);
    rc = sr_uac_write(h, s, "UPDATE", extra, NULL, NULL, 0, &b, s->uac_tx.branch);
    break;
  case SR_UAC_METADATA: {
    /* RFC 7866 6.3.2: the body is a reason for the snapshot request. */
    static const char reason[] = "SRS requests a full metadata snapshot\r\n";
    rc = sr_uac_write(h, s, "UPDATE", "Content-Disposition: recording-session\r\n",
                      "application/rs-metadata-request", reason, sizeof reason - 1, &b,
                      s->uac_tx.branch);
    break;
  }
  default:
    return SIPREC_EINVAL;
  }
  if (rc > 0)
    rc = sr_session_set_str(s, &s->uac_tx.request, b.p, b.len);
  if (rc < 0) {
    /* Try again later rather than at once: a deadline that stays due would spin. */
    uint64_t later = now + sr_ms(h->cfg.t2_ms);
    if (purpose == SR_UAC_REFRESH)
      s->se_refresh_at = later;
    return rc;
  }
  s->uac_tx.request_len = b.len;
  s->uac_tx.cseq = s->dialog.local_cseq;
  sr_tx_timers tm = sr_handler_tx_timers(h);
  sr_client_tx_start(&s->uac_tx, purpose, &tm, now);
  sr_dialog_send(h, s, s->uac_tx.request, s->uac_tx.request_len);
  return 0;
}

/* A final response to the session's outstanding request (its lock held). */
static void uac_final(siprec_handler *h, siprec_session *s, const sr_sip_msg *m, uint64_t now)
{
  sr_uac_purpose p = s->uac_tx.purpose;
  uac_clear(s);
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
        s->se_s = m->session_expires;
      sr_session_timer_restart(h, s, now);
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
      s->se_s = 0;
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
                                         [SR_UAC_METADATA] = "UPDATE", [SR_UAC_BYE] = "BYE" };
    if (s->uac_tx.purpose != SR_UAC_NONE && s->state != SR_SESSION_ENDED &&
        sr_client_tx_matches(&s->uac_tx, m, names[s->uac_tx.purpose])) {
      matched = 1;
      if (m->status >= 200) {
        uac_final(h, s, m, now);
      } else {
        sr_tx_timers tm = sr_handler_tx_timers(h);
        sr_client_tx_provisional(&s->uac_tx, &tm, now);
      }
      if (s->state != SR_SESSION_ENDED)
        sr_timers_schedule(h, s);
    }
    sr_session_unlock(s);
    siprec_session_unref(s);
  }
  if (!matched)
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_RESPONSE], 1, memory_order_relaxed);
  return 0;
}

void sr_session_timer_restart(siprec_handler *h, siprec_session *s, uint64_t now)
{
  (void)h;
  if (!s->se_s)
    return;
  uint64_t se = (uint64_t)s->se_s * NS_PER_S;
  /* RFC 4028 10: the side that is not the refresher sends BYE at
   * SE - min(32 s, SE/3); the refresher refreshes at SE/2. */
  uint64_t margin = se / 3 < 32 * NS_PER_S ? se / 3 : 32 * NS_PER_S;
  s->se_expire_at = now + (s->srs_refresher ? se : se - margin);
  s->se_refresh_at = now + se / 2;
}
