/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's own re-INVITE (a new offer in a dialog it holds: another node
 * took the session over, or the host asked): its offer, and what the SRC's
 * final response to it does (RFC 3261 13.2.2.4, 14.1, 17.1.1.3). It goes
 * out as the session's one client transaction (uac.c); this file writes the
 * body and reads the answer. */
#include <stdio.h>
#include <string.h>

#include "../media/srtp.h"
#include "dialog.h"
#include "media.h"

int sr_reoffer_body(siprec_handler *h, siprec_session *s, char *out, size_t size)
{
  char addr[SR_SDP_ADDR_MAX];
  void *port_ctx[2];
  sr_sdp_config cfg;
  /* c= is this node's media address, else its SIP address (the dialog's
   * local one, which a take-over set). */
  sr_handler_sdp_config(h, s, &s->dialog.local.sa, &cfg, addr, sizeof addr, port_ctx);
  cfg.version = s->sdp_version + 1; /* RFC 3264 8: every new offer, the next version */
  int n = sr_sdp_reoffer(&cfg, s->streams, s->n_streams, out, size);
  if (n > 0)
    s->sdp_version++;
  return n;
}

/* An ACK for the final response to the INVITE of `cseq`: for a 2xx a new
 * transaction (a new branch), for a non-2xx the INVITE's own (`branch`);
 * both through the route set to the remote target (in a dialog the two
 * coincide). Sent, and kept for the copies of that response. */
static void send_ack(siprec_handler *h, siprec_session *s, uint32_t cseq,
                     const char invite_branch[SR_TAG_LEN + 1], int is_2xx, uint64_t now)
{
  char buf[4096], branch[SR_TAG_LEN + 1];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  if (is_2xx)
    sr_handler_tag(h, branch);
  else
    memcpy(branch, invite_branch, sizeof branch);
  /* The ACK carries the INVITE's CSeq number: the writer numbers the
   * request local_cseq + 1, so it is set one below and put back after. */
  uint32_t keep = s->dialog.local_cseq;
  s->dialog.local_cseq = cseq - 1;
  int rc = sr_dialog_write_request(&s->dialog, "ACK", branch, h->cfg.user_agent, NULL, NULL, NULL,
                                   0, &b);
  s->dialog.local_cseq = keep;
  if (rc <= 0)
    return;
  sr_dialog_send(h, s, b.p, b.len);
  sr_tx_timers tm = sr_handler_tx_timers(h);
  if (sr_ack_tx_keep(&s->ack_tx, &s->mem, b.p, b.len, cseq, invite_branch, &tm, now) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory to keep the ACK", s->id);
}

int sr_reoffer_copy(siprec_handler *h, siprec_session *s, const sr_sip_msg *m)
{
  if (!sr_ack_tx_matches(&s->ack_tx, m))
    return 0;
  sr_dialog_send(h, s, s->ack_tx.ack, s->ack_tx.ack_len);
  return 1;
}

/* The offer the SRS sent: the body of its INVITE, kept as the session's
 * current SDP (offered again to an SRC re-INVITE without an offer). */
static void keep_offer(siprec_session *s, const char *req, size_t len)
{
  const char *end = req + len;
  for (const char *p = req; p + 4 <= end; p++) {
    if (memcmp(p, "\r\n\r\n", 4) == 0) {
      p += 4;
      if (p < end && sr_session_set_str(s, &s->last_answer, p, (size_t)(end - p)) == 0)
        s->last_answer_len = (size_t)(end - p);
      return;
    }
  }
}

/* The SRC's answer in the 2xx: the streams move to where it now sends
 * from, the media re-latches. 1 when nothing is left to record. */
static int apply_answer(siprec_handler *h, siprec_session *s, const sr_sip_msg *m,
                        const char *offer, size_t offer_len, uint64_t now)
{
  sr_span sdp, md;
  const char *why = NULL;
  if (sr_handler_body(m, &sdp, &md, &why) != 0 || !sdp.p) {
    sr_handler_log(h, SIPREC_LOG_WARNING,
                   "session %s: the 2xx to our re-INVITE has no SDP answer; streams kept", s->id);
    return 0;
  }
  sr_sdp_stream next[SR_SDP_MAX_STREAMS];
  size_t n = s->n_streams;
  memcpy(next, s->streams, n * sizeof *next);
  int usable = sr_sdp_read_reanswer(sdp.p, sdp.n, sr_media_srtp_suite_supported, next, n, &why);
  if (usable < 0) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: unreadable answer to our re-INVITE (%s)",
                   s->id, why ? why : "?");
    explicit_bzero(next, sizeof next);
    return 0;
  }
  uint8_t per_stream[SR_SDP_MAX_STREAMS] = { 0 };
  s->changes = sr_streams_diff(s->streams, n, next, n, per_stream);
  /* Streams the SRC declined give their ports back. */
  for (size_t i = 0; i < n; i++)
    if (s->streams[i].accepted && !next[i].accepted && next[i].port)
      sr_handler_port_free(h, s, i, next[i].port);
  if (sr_session_set_streams(s, next, n) < 0)
    sr_handler_log(h, SIPREC_LOG_ERROR, "session %s: no memory for its answered streams", s->id);
  else if (n)
    memcpy(s->stream_changes, per_stream, n);
  explicit_bzero(next, sizeof next);
  keep_offer(s, offer, offer_len);
  if (sr_session_bind_metadata(s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory to bind its metadata", s->id);
  if (!s->changes)
    s->changes = SIPREC_CHANGE_REFRESH;
  sr_media_sync(h, s, now); /* new addresses: reconfigured, latched again */
  sr_media_watch(h, s, now);
  if (h->cbs.updated)
    SR_CALLBACK(s, h->cbs.updated(h->user, s));
  sr_session_flush_retired(s);
  return usable == 0;
}

/* 491 (RFC 3261 14.1): the SRC was sending its own offer; ours again
 * after a random 2.1 to 4 s (the SRS owns no Call-ID, so the range of a
 * side that did not make the dialog's Call-ID). */
static void retry_later(siprec_handler *h, siprec_session *s, uint64_t now)
{
  uint16_t r = 0;
  if (sr_handler_random(h, &r, sizeof r) < 0)
    r = 0;
  s->reoffer_at = now + sr_ms(2100 + (uint32_t)r % 1901u);
}

int sr_reoffer_final(siprec_handler *h, siprec_session *s, const sr_sip_msg *m, uint64_t now)
{
  uint32_t cseq = s->uac_tx.cseq;
  char branch[SR_TAG_LEN + 1];
  memcpy(branch, s->uac_tx.branch, sizeof branch);
  char *offer = s->uac_tx.request;
  size_t offer_len = s->uac_tx.request_len;
  s->uac_tx.request = NULL; /* ours now, until the answer is applied */
  sr_client_tx_clear(&s->uac_tx, &s->mem);
  int is_2xx = m->status < 300;
  /* RFC 3261 12.2.1.2: the 2xx to a target refresh names the SRC's target
   * from now on (its ACK goes there already); out of memory, the old one
   * stays. */
  if (is_2xx && m->contact_uri.n)
    (void)sr_sip_str_set(&s->mem, &s->dialog.remote_target, m->contact_uri.p, m->contact_uri.n);
  send_ack(h, s, cseq, branch, is_2xx, now);
  int nothing_left = 0;
  if (is_2xx) {
    nothing_left = apply_answer(h, s, m, offer, offer_len, now);
  } else if (m->status == 491) {
    retry_later(h, s, now);
  } else {
    /* RFC 3261 14.1: a failed re-INVITE leaves the session as it was. */
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: our re-INVITE answered %d", s->id,
                   m->status);
    nothing_left = m->status == 481 || m->status == 408;
  }
  sr_session_drop_str(s, &offer);
  return nothing_left;
}
