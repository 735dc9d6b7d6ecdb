/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests the SRS originates inside a recording session's dialog (BYE,
 * OPTIONS pings, UPDATE refreshes and metadata-snapshot requests), sent as
 * the one client transaction a session keeps for them (the SRC's answers
 * are uac_response.c's, their timeouts expire.c's). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "../sip/response.h"
#include "dialog.h"

/* Write an in-dialog request (CSeq incremented, a new branch) into b. */
static int uac_write(siprec_handler *h, siprec_session *s, const char *method, const char *extra,
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
  if (uac_write(h, s, "BYE", NULL, NULL, NULL, 0, &b, branch) > 0)
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
    rc = uac_write(h, s, "BYE", NULL, NULL, NULL, 0, &b, s->uac_tx.branch);
    break;
  case SR_UAC_PING:
    rc = uac_write(h, s, "OPTIONS", "Accept: application/sdp\r\n", NULL, NULL, 0, &b,
                   s->uac_tx.branch);
    break;
  case SR_UAC_REFRESH:
    /* RFC 4028 7.4: an UPDATE without a body refreshes the session. */
    snprintf(extra, sizeof extra,
             "Session-Expires: %u;refresher=uas\r\nSupported: timer\r\nMin-SE: %u\r\n",
             s->timer.se_s, h->cfg.min_se_s);
    rc = uac_write(h, s, "UPDATE", extra, NULL, NULL, 0, &b, s->uac_tx.branch);
    break;
  case SR_UAC_METADATA: {
    /* RFC 7866 6.3.2: the body is a reason for the snapshot request. */
    static const char reason[] = "SRS requests a full metadata snapshot\r\n";
    rc = uac_write(h, s, "UPDATE", "Content-Disposition: recording-session\r\n",
                   "application/rs-metadata-request", reason, sizeof reason - 1, &b,
                   s->uac_tx.branch);
    break;
  }
  case SR_UAC_REOFFER: {
    char sdp[8192], hdr[512];
    rc = sr_reoffer_body(h, s, sdp, sizeof sdp);
    if (rc <= 0)
      break;
    /* An INVITE names the SRS's Contact (RFC 3261 8.1.1.8): this node's
     * address, which a take-over made the dialog's. */
    sr_strbuf hb = sr_strbuf_on(hdr, sizeof hdr);
    sr_handler_contact(h, &s->dialog.local.sa, s->dialog.transport, &hb);
    sr_strbuf_str(&hb, SR_ALLOW_HEADER SR_SUPPORTED_HEADER);
    rc = uac_write(h, s, "INVITE", hdr, "application/sdp", sdp, (size_t)rc, &b,
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
      s->timer.refresh_at = later;
    if (purpose == SR_UAC_REOFFER && rc != SIPREC_EINVAL)
      s->reoffer_at = later;
    return rc;
  }
  s->uac_tx.request_len = b.len;
  s->uac_tx.cseq = s->dialog.local_cseq;
  sr_tx_timers tm = sr_handler_tx_timers(h);
  s->uac_tx.invite = purpose == SR_UAC_REOFFER;
  sr_client_tx_start(&s->uac_tx, purpose, &tm, now);
  sr_dialog_send(h, s, s->uac_tx.request, s->uac_tx.request_len);
  return 0;
}

