/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests inside a recording session's dialog: finding the dialog, ACK,
 * BYE, CANCEL, OPTIONS (re-INVITE and UPDATE: reinvite.c; its end: end.c). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>


#include "../common/alloc.h"
#include "../sip/response.h"
#include "dialog.h"
#include "media.h"

/* ---------------------------------------------------------------------- */
/* Who may speak in a dialog                                                */

/* The request's From-tag is the dialog's remote tag. */
static int sr_from_src(const siprec_session *s, const sr_sip_msg *m)
{
  return sr_dialog_from_remote(&s->dialog, m);
}

/* The request comes from the dialog's SRC by the source rule (handler.h,
 * "Who may send in a dialog"; sip/dialog.c), or else the host's ACL
 * callback allows its address (an SBC pair that failed over); once allowed,
 * that address is the SRC's from then on. */
static int sr_dialog_source_ok(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq)
{
  if (sr_dialog_source_rule(&s->dialog, &rq->path))
    return 1;
  int allowed = 0;
  if (h->cbs.acl)
    SR_CALLBACK(s, allowed = h->cbs.acl(h->user, s, &rq->path));
  const char *method = sr_method_name(rq->msg->method);
  if (allowed) {
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s: %s from another address allowed; it is the "
                   "SRC's address from now on", s->id, method);
    sr_dialog_set_source(&s->dialog, &rq->path);
    return 1;
  }
  sr_handler_log_limited(h, SR_LOG_FOREIGN_SOURCE, rq->now_ns, SIPREC_LOG_WARNING,
                         "session %s: %s from another address refused", s->id, method);
  return 0;
}

/* The request belongs to this dialog and comes from its SRC.
 * Leniency (a missing To-tag on ACK or BYE) never relaxes the source check. */
static int dialog_match(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq)
{
  const sr_sip_msg *m = rq->msg;
  int tags = sr_dialog_match_tags(&s->dialog, m);
  if (tags == SR_DIALOG_TAGS_NO)
    return 0;
  if (tags == SR_DIALOG_TAGS_NO_TO_TAG)
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s: %s without To-tag tolerated", s->id,
                   sr_method_name(m->method));
  return sr_dialog_source_ok(h, s, rq);
}

/* The session a request's Call-ID names, in whatever state, locked and with
 * a reference; NULL when there is none. */
static siprec_session *dialog_find(siprec_handler *h, const sr_request_ctx *rq)
{
  siprec_session *s = sr_handler_find(h, &rq->msg->call_id);
  if (s)
    sr_session_lock(s);
  return s;
}

/* A found session takes the request: its dialog is up and the request is
 * its SRC's. Any request taken proves the SRC alive. */
static int dialog_takes(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq)
{
  int up = s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED;
  if (!up || !dialog_match(h, s, rq))
    return 0;
  atomic_store_explicit(&s->last_activity, rq->now_ns, memory_order_relaxed);
  if (s->state == SR_SESSION_CONFIRMED && h->cfg.ping_ms)
    s->ping_at = rq->now_ns + sr_ms(h->cfg.ping_ms);
  return 1;
}

int sr_dialog_state_wanted(siprec_handler *h, sr_request_ctx *rq)
{
  if (!h->cfg.snapshots || !h->cbs.snapshot || rq->absent || rq->msg->to_tag.n == 0)
    return 0;
  rq->out.len = 0;
  rq->out.overflow = 0;
  sr_strbuf_add(&rq->out, rq->msg->call_id.p, rq->msg->call_id.n);
  rq->wanted = 1;
  return 1;
}

/* 481 for a dialog the handler does not hold (or 0 with its state wanted
 * from the host; `held`: it holds the Call-ID, whose dialog did not take
 * the request, so no store has another state for it). */
static int no_dialog_held(siprec_handler *h, sr_request_ctx *rq, int held)
{
  if (!held && sr_dialog_state_wanted(h, rq))
    return rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
  return sr_handler_simple(h, rq, 481, "Call/Transaction Does Not Exist", NULL);
}

static int no_dialog(siprec_handler *h, sr_request_ctx *rq)
{
  return no_dialog_held(h, rq, 1);
}

/* The session whose dialog takes the request, locked, with a reference;
 * NULL (and the 481 written) when there is none. */
siprec_session *sr_dialog_lookup(siprec_handler *h, sr_request_ctx *rq, int *rc)
{
  siprec_session *s = dialog_find(h, rq);
  if (s && dialog_takes(h, s, rq))
    return s;
  int held = s != NULL;
  if (s) {
    sr_session_unlock(s);
    siprec_session_unref(s);
  }
  *rc = no_dialog_held(h, rq, held);
  return NULL;
}

/* Done with a session found by dialog_lookup: its timers follow its state. */
void sr_dialog_done(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (s->state != SR_SESSION_ENDED)
    sr_session_changed(h, s, now);
  sr_session_unlock(s);
  siprec_session_unref(s);
}

/* ---------------------------------------------------------------------- */
/* Ending                                                                   */

/* ---------------------------------------------------------------------- */
/* Methods                                                                  */

/* The SRC's BYE over UDP may come again: the session stays, ended, to
 * answer its copies with the same 200 until Timer J (RFC 3261 17.2.2). */
static void linger(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq)
{
  s->dialog.remote_cseq = rq->msg->cseq;
  sr_invite_tx_settle(&s->invite_tx, &s->mem);
  sr_client_tx_clear(&s->uac_tx, &s->mem);
  s->state = SR_SESSION_LINGER;
  sr_session_finish(h, s, SIPREC_END_BYE);
  /* Held by the map, this request and maybe the timer heap: then no host
   * can read it any more, and it lingers small. */
  sr_session_shed(s, 2u + (unsigned)sr_timers_holds(h, s));
}

int sr_dialog_bye(siprec_handler *h, sr_request_ctx *rq)
{
  siprec_session *s = dialog_find(h, rq);
  if (!s)
    return no_dialog_held(h, rq, 0);
  int rc;
  int ours = sr_from_src(s, rq->msg);
  if (ours && s->state == SR_SESSION_LINGER && sr_request_tx_is_copy(&s->bye_tx, rq->msg->cseq)) {
    /* A copy of the BYE already answered gets that answer. */
    sr_strbuf_add(&rq->out, s->bye_tx.response, s->bye_tx.response_len);
    rc = rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
  } else if (ours && s->state == SR_SESSION_CLOSING) {
    rc = sr_handler_simple(h, rq, 200, "OK", NULL); /* it crossed ours (RFC 3261 15.1.2) */
  } else if (dialog_takes(h, s, rq)) {
    rc = sr_handler_simple(h, rq, 200, "OK", NULL);
    sr_tx_timers tm = sr_handler_tx_timers(h);
    /* While the handler drains, nobody waits 64*T1 for copies of a BYE. */
    if (rc > 0 && rq->path.transport == SIPREC_TRANSPORT_UDP && !h->shutting_down &&
        !atomic_load_explicit(&h->draining, memory_order_relaxed) &&
        sr_request_tx_complete(&s->bye_tx, &s->mem, rq->msg->cseq, rq->out.p, rq->out.len, &tm,
                               rq->now_ns) == 0)
      linger(h, s, rq);
    else
      sr_dialog_end(h, s, SIPREC_END_BYE, 0, rq->now_ns);
  } else {
    rc = no_dialog(h, rq);
  }
  sr_dialog_done(h, s, rq->now_ns);
  return rc;
}

/* The ACK carries the answer to the offer our 2xx made (delayed offer). */
static void ack_answer(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq)
{
  s->awaiting_answer = 0;
  const char *why = "no SDP answer in the ACK";
  sr_span sdp, metadata;
  int accepted = -1;
  if (sr_handler_body(rq->msg, &sdp, &metadata, &why) == 0 && sdp.p)
    accepted = sr_sdp_read_answer(sdp.p, sdp.n, s->streams, s->n_streams, &why);
  s->changes = 0;
  int changed = 0;
  if (metadata.p &&
      sr_handler_apply_metadata(h, s, metadata, &changed) == 0 &&
      changed)
    s->changes |= SIPREC_CHANGE_METADATA;
  for (size_t i = 0; i < s->n_streams && accepted >= 0; i++) {
    sr_sdp_stream *st = &s->streams[i];
    if (!st->accepted) {
      sr_handler_port_free(h, s, i, st->port); /* declined by the SRC */
      st->port = 0;
      s->stream_changes[i] = SIPREC_CHANGE_STREAMS_REMOVED;
    } else {
      st->answer_dir = st->paused ? SR_SDP_INACTIVE : SR_SDP_RECVONLY;
      s->stream_changes[i] = SIPREC_CHANGE_CODEC;
    }
    s->changes |= s->stream_changes[i];
  }
  if (accepted <= 0) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: %s", s->id,
                   accepted < 0 ? why : "the answer accepted no stream");
    sr_dialog_end(h, s, SIPREC_END_NO_MEDIA, 1, rq->now_ns);
    return;
  }
  sr_media_sync(h, s, rq->now_ns); /* the SRC's codec and source */
  sr_media_watch(h, s, rq->now_ns);
  if (h->cbs.updated)
    SR_CALLBACK(s, h->cbs.updated(h->user, s));
  sr_session_flush_retired(s);
}

/* The 2xx that waited for its ACK (the session's lock held) got it, or a
 * later INVITE of the dialog showed that it arrived: the INVITE
 * transaction is over and its response no longer needed. */
void sr_dialog_settle_2xx(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_invite_tx_settle(&s->invite_tx, &s->mem); /* later INVITE copies are still absorbed */
  if (s->state == SR_SESSION_ANSWERED) {
    s->state = SR_SESSION_CONFIRMED;
    sr_pending_leave(h, s);
    if (h->cfg.ping_ms)
      s->ping_at = now + sr_ms(h->cfg.ping_ms);
  }
}

/* A 2xx of the session would be what its INVITE transaction waits for. */
int sr_dialog_up(const siprec_session *s)
{
  return s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED;
}

int sr_dialog_ack(siprec_handler *h, sr_request_ctx *rq)
{
  siprec_session *s = dialog_find(h, rq);
  if (!s) {
    if (sr_dialog_state_wanted(h, rq))
      return rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_ACK], 1, memory_order_relaxed);
    return 0; /* late, or for another server: absorbed */
  }
  /* A non-2xx's ACK is part of its transaction (RFC 3261 17.1.1.3): same CSeq. */
  int for_tx = rq->msg->cseq == s->invite_tx.cseq;
  if (s->state == SR_SESSION_REJECTED && for_tx && sr_from_src(s, rq->msg)) {
    sr_dialog_forget(h, s); /* the ACK for our non-2xx: the transaction is over */
  } else if (sr_invite_tx_acks_2xx(&s->invite_tx, sr_dialog_up(s), rq->msg->cseq) &&
             dialog_takes(h, s, rq)) {
    if (!for_tx)
      sr_handler_log(h, SIPREC_LOG_INFO, "session %s: ACK with CSeq %u for the 2xx to CSeq %u "
                     "taken", s->id, rq->msg->cseq, s->invite_tx.cseq);
    sr_dialog_settle_2xx(h, s, rq->now_ns);
    if (s->awaiting_answer)
      ack_answer(h, s, rq);
  } else {
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_ACK], 1, memory_order_relaxed);
  }
  sr_dialog_done(h, s, rq->now_ns);
  return 0;
}

int sr_dialog_cancel(siprec_handler *h, sr_request_ctx *rq)
{
  /* RFC 3261 9.2: a CANCEL names its INVITE by branch. A deferred INVITE is
   * still proceeding: 200 here, 487 for it (sent at the next expire, so it
   * follows this 200 on the wire). One already answered: 200 and no more. */
  siprec_session *s = sr_handler_find(h, &rq->msg->call_id);
  int known = 0;
  if (s) {
    sr_session_lock(s);
    /* Only the SRC cancels its INVITE: its From-tag, from its address. */
    known = sr_invite_tx_is_branch(&s->invite_tx, rq->msg) && s->state != SR_SESSION_ENDED &&
            sr_from_src(s, rq->msg) && sr_dialog_source_ok(h, s, rq);
    if (known && s->state == SR_SESSION_PENDING && sr_invite_tx_cancel(&s->invite_tx, rq->now_ns))
      sr_timers_schedule(h, s);
    sr_session_unlock(s);
    siprec_session_unref(s);
  }
  return known ? sr_handler_simple(h, rq, 200, "OK", NULL)
               : sr_handler_simple(h, rq, 481, "Call/Transaction Does Not Exist", NULL);
}

int sr_dialog_options(siprec_handler *h, sr_request_ctx *rq)
{
  if (rq->msg->to_tag.n == 0)
    return sr_handler_simple(h, rq, 200, "OK", NULL);
  int rc;
  siprec_session *s = sr_dialog_lookup(h, rq, &rc);
  if (!s)
    return rc;
  rc = sr_handler_simple(h, rq, 200, "OK", NULL);
  sr_dialog_done(h, s, rq->now_ns);
  return rc;
}
