/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A re-INVITE or UPDATE in a recording session's dialog: the new offer
 * answered, metadata and session timer updated, a re-INVITE's 2xx kept as
 * the session's INVITE transaction. */
#include <string.h>

#include "dialog.h"
#include "media.h"

/* Answer the offer of a re-INVITE or UPDATE: the session's streams follow
 * it, ports of dropped streams go back. Returns the answer length, or a
 * status code (negated) to answer instead with *why. */
static int reoffer(siprec_handler *h, siprec_session *s, sr_request_ctx *rq, sr_span sdp,
                   char *answer, size_t answer_size, const char **why)
{
  char addr[SR_SDP_ADDR_MAX];
  sr_sdp_config cfg;
  s->sdp_version++;
  void *port_ctx[2];
  sr_handler_sdp_config(h, s, rq->path.local, &cfg, addr, sizeof addr, port_ctx);
  sr_sdp_stream next[SR_SDP_MAX_STREAMS];
  size_t n = 0;
  int alen = sr_sdp_answer(sdp.p, sdp.n, &cfg, next, SR_SDP_MAX_STREAMS, &n, answer, answer_size,
                           why);
  uint8_t per_stream[SR_SDP_MAX_STREAMS] = { 0 };
  unsigned changes = alen >= 0 ? sr_streams_diff(s->streams, s->n_streams, next, n, per_stream) : 0;
  const sr_sdp_stream *old = s->streams; /* retired by the set, readable until the flush */
  size_t n_old = s->n_streams;
  if (alen >= 0 && sr_session_set_streams(s, next, n) < 0)
    alen = SIPREC_ENOMEM;
  if (alen >= 0 && sr_media_ports_register(h, s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory for its media ports", s->id);
  if (alen >= 0) {
    /* Streams this offer dropped give their ports back. */
    for (size_t j = 0; j < n_old; j++) {
      int kept = 0;
      for (size_t i = 0; i < n; i++)
        kept |= next[i].accepted && next[i].port == old[j].port;
      if (!kept && old[j].accepted)
        sr_handler_port_free(h, s, j, old[j].port);
    }
  }
  if (alen < 0) {
    /* Ports newly handed out for this failed offer go back; the session
     * keeps its streams. */
    sr_handler_release_new_ports(h, s, next, n);
    s->sdp_version--;
    if (alen == SIPREC_ENOMEM)
      *why = "Out of memory";
    return -sr_handler_sdp_status(alen);
  }
  if (sr_session_set_str(s, &s->last_answer, answer, (size_t)alen) == 0)
    s->last_answer_len = (size_t)alen; /* else the old one is offered again when asked */
  if (n)
    memcpy(s->stream_changes, per_stream, n);
  s->changes |= changes;
  return alen;
}

/* An INVITE, or an UPDATE with an offer, while the SRS's own re-INVITE
 * waits for its answer: glare. */
static int glare(const siprec_session *s, const sr_sip_msg *m)
{
  if (s->uac_tx.purpose != SR_UAC_REOFFER)
    return 0;
  if (m->method == SR_M_INVITE)
    return 1;
  sr_span sdp, md;
  const char *why;
  return sr_handler_body(m, &sdp, &md, &why) == 0 && sdp.p != NULL;
}

/* Where a re-INVITE or UPDATE stands against the session's INVITE
 * transaction: a copy of the one answered, out of order, settling the 2xx
 * that waits, or refused while it waits. 1 with the response written, or 0
 * to go on (its CSeq taken). */
static int reinvite_order(siprec_handler *h, siprec_session *s, sr_request_ctx *rq, int *rc)
{
  const sr_sip_msg *m = rq->msg;
  int is_invite = m->method == SR_M_INVITE;
  if (is_invite && s->invite_tx.active && m->cseq == s->invite_tx.cseq) {
    /* A retransmitted re-INVITE: the same 2xx again. */
    sr_strbuf_add(&rq->out, s->invite_tx.response, s->invite_tx.response_len);
    *rc = rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
    return 1;
  }
  if (m->cseq <= s->dialog.remote_cseq) {
    *rc = sr_handler_simple(h, rq, 500, "CSeq out of order", "Retry-After: 1\r\n");
    return 1;
  }
  if (is_invite && sr_invite_tx_settled_by(&s->invite_tx, sr_dialog_up(s), m->cseq)) {
    /* A new INVITE of the dialog after the one whose 2xx waits: the SRC
     * got that 2xx (its ACK went astray or carried a CSeq of its own). */
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s: INVITE CSeq %u settles the 2xx to CSeq %u",
                   s->id, m->cseq, s->invite_tx.cseq);
    s->invite_tx.settled_cseq = s->invite_tx.cseq;
    sr_dialog_settle_2xx(h, s, rq->now_ns);
    s->awaiting_answer = 0;
  }
  if ((is_invite && s->invite_tx.active) || glare(s, m)) {
    /* RFC 3261 14.2: our 2xx to the previous INVITE is not ACKed yet, or
     * our own re-INVITE is pending (RFC 3311 5.2 for an UPDATE's offer). */
    *rc = sr_handler_simple(h, rq, 491, "Request Pending", NULL);
    return 1;
  }
  s->dialog.remote_cseq = m->cseq;
  return 0;
}

/* What a re-INVITE or UPDATE asks for, checked before anything changes. */
typedef struct reinvite_req {
  sr_span sdp, metadata;
  uint32_t se;
  int srs_refresher;
  char timer_hdrs[256];
  sr_strbuf tb;
} reinvite_req;

/* Its body and session timer: 0 to go on, or 1 with the refusal written. */
static int reinvite_check(siprec_handler *h, sr_request_ctx *rq, reinvite_req *r, int *rc)
{
  const char *why = NULL;
  int status = sr_handler_body(rq->msg, &r->sdp, &r->metadata, &why);
  r->tb = sr_strbuf_on(r->timer_hdrs, sizeof r->timer_hdrs);
  r->se = 0;
  r->srs_refresher = 0;
  if (!status &&
      sr_session_timer_negotiate(rq->msg, h->cfg.session_expires_s, h->cfg.min_se_s,
                                 &r->se, &r->srs_refresher, &r->tb) == 422) {
    *rc = sr_handler_simple(h, rq, 422, "Session Interval Too Small", r->timer_hdrs);
    return 1;
  }
  if (status) {
    *rc = sr_handler_simple(h, rq, status, why, status == 415 ? SR_ACCEPT_HEADER : NULL);
    return 1;
  }
  return 0;
}

/* The session takes the request: streams, metadata and session timer. The
 * answer (or the current one, for an INVITE without an offer) into
 * answer[]; returns its length, or 1 with the refusal written (*rc). */
static int reinvite_apply(siprec_handler *h, siprec_session *s, sr_request_ctx *rq,
                          const reinvite_req *r, char *answer, size_t size, int *alen, int *rc)
{
  s->changes = 0;
  if (s->stream_changes)
    memset(s->stream_changes, 0, s->n_streams);
  *alen = 0;
  if (r->sdp.p) {
    const char *why = NULL;
    *alen = reoffer(h, s, rq, r->sdp, answer, size, &why);
    if (*alen < 0) {
      *rc = sr_handler_simple(h, rq, -*alen, why, -*alen == 503 ? "Retry-After: 10\r\n" : NULL);
      return 1;
    }
  } else if (rq->msg->method == SR_M_INVITE && s->last_answer) {
    /* No offer (a metadata-only re-INVITE): the 2xx must carry one; the
     * current answer, unchanged and with the same version, is it. */
    memcpy(answer, s->last_answer, s->last_answer_len);
    *alen = (int)s->last_answer_len;
  }
  /* The metadata only once the request is taken: a refused offer leaves the
   * session as it was. Applying binds it to the new streams; unchanged, it
   * is bound again when the streams changed. */
  int md_changed = 0;
  if (r->metadata.p && sr_handler_apply_metadata(h, s, r->metadata, &md_changed) == 0 &&
      md_changed)
    s->changes |= SIPREC_CHANGE_METADATA;
  else if (r->sdp.p && sr_session_bind_metadata(s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory to bind its metadata", s->id);
  if (!s->changes)
    s->changes = SIPREC_CHANGE_REFRESH;
  sr_media_sync(h, s, rq->now_ns); /* pause, resume, reconfigure, end, speaker */
  sr_media_watch(h, s, rq->now_ns); /* new or resumed streams */
  s->timer.se_s = r->se;
  s->timer.srs_refresher = r->srs_refresher;
  sr_session_timer_restart(&s->timer, rq->now_ns);
  /* RFC 3261 12.2.2: a target refresh the SRS takes names the SRC's target
   * from now on (an SBC pair that failed over sends from, and names, its
   * new address): the SRS's BYE and re-INVITEs go there. Out of memory,
   * the old one stays. */
  if (rq->msg->contact_uri.n)
    (void)sr_sip_str_set(&s->mem, &s->dialog.remote_target, rq->msg->contact_uri.p,
                         rq->msg->contact_uri.n);
  return 0;
}

/* The 2xx (a re-INVITE's waits for its ACK as the session's INVITE
 * transaction), then the updated callback. */
static int reinvite_answer(siprec_handler *h, siprec_session *s, sr_request_ctx *rq,
                           const reinvite_req *r, const char *answer, int alen)
{
  const sr_sip_msg *m = rq->msg;
  int is_invite = m->method == SR_M_INVITE;
  const char *extra = r->tb.len ? r->timer_hdrs : NULL;
  int rc;
  if (is_invite || alen > 0)
    rc = sr_handler_answer_2xx(h, rq, s->dialog.local_tag, extra, alen > 0 ? answer : NULL,
                               (size_t)alen);
  else
    rc = sr_handler_simple(h, rq, 200, "OK", extra);
  if (rc > 0 && is_invite &&
      sr_session_set_str(s, &s->invite_tx.response, rq->out.p, rq->out.len) == 0 &&
      sr_session_set_str(s, &s->invite_tx.branch, m->branch.p, m->branch.n) == 0) {
    s->invite_tx.response_len = rq->out.len;
    s->invite_tx.cseq = m->cseq;
    sr_dialog_arm_tx(h, s, rq->now_ns);
  }
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s updated by %s (changes 0x%x)", s->id,
                 sr_method_name(m->method), s->changes);
  if (h->cbs.updated)
    SR_CALLBACK(s, h->cbs.updated(h->user, s));
  return rc;
}

/* A re-INVITE or UPDATE in the session's dialog (its lock held). */
static int reinvite(siprec_handler *h, siprec_session *s, sr_request_ctx *rq)
{
  int rc = 0;
  if (reinvite_order(h, s, rq, &rc))
    return rc;
  reinvite_req r;
  if (reinvite_check(h, rq, &r, &rc))
    return rc;
  char answer[8192];
  int alen;
  if (!reinvite_apply(h, s, rq, &r, answer, sizeof answer, &alen, &rc))
    rc = reinvite_answer(h, s, rq, &r, answer, alen);
  sr_session_flush_retired(s);
  return rc;
}

int sr_dialog_reinvite(siprec_handler *h, sr_request_ctx *rq)
{
  int rc;
  siprec_session *s = sr_dialog_lookup(h, rq, &rc);
  if (!s)
    return rc;
  rc = reinvite(h, s, rq);
  sr_dialog_done(h, s, rq->now_ns);
  return rc;
}
