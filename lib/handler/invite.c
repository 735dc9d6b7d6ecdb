/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new recording session: an INVITE outside any dialog. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>


#include "../common/alloc.h"
#include "../sip/multipart.h"
#include "../sip/response.h"
#include "dialog.h"
#include "media.h"

/* Fill the dialog state of a new session from its INVITE. */
static int session_fill(siprec_handler *h, siprec_session *s, const sr_request_ctx *rq, int siprec)
{
  const sr_sip_msg *m = rq->msg;
  s->is_siprec = siprec;
  s->invite_tx.cseq = m->cseq;
  char tag[SR_TAG_LEN + 1];
  sr_handler_tag(h, tag);
  uint8_t r[8];
  if (sr_handler_random(h, r, sizeof r) < 0)
    return SIPREC_ERANDOM;
  memcpy(&s->sdp_session_id, r, sizeof r);
  s->sdp_session_id &= UINT64_C(0x7fffffffffffffff);
  s->sdp_version = 1;
  int rc = sr_dialog_init_uas(&s->dialog, &s->mem, m, &rq->path, tag);
  rc |= sr_session_set_str(s, &s->invite_tx.branch, m->branch.p, m->branch.n);
  for (unsigned i = 0; i < m->n_cisco_participants && i < SR_SESSION_MAX_HEADER_PARTICIPANTS; i++)
    rc |= sr_session_add_header_participant(s, m->cisco_participants[i].p,
                                            m->cisco_participants[i].n);
  return rc ? SIPREC_ENOMEM : 0;
}

/* The Via..CSeq lines of a response to this INVITE, To tagged, for the
 * final response a deferred session sends later. */
static int keep_invite_echo(siprec_session *s, const sr_sip_msg *m)
{
  char buf[4096];
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  sr_strbuf_add(&b, m->echo_via.p, m->echo_via.n);
  sr_strbuf_add(&b, m->echo_from.p, m->echo_from.n);
  sr_strbuf_add(&b, m->echo_to.p, m->echo_to.n);
  if (m->to_tag.n == 0)
    sr_strbuf_printf(&b, ";tag=%s", s->dialog.local_tag);
  sr_strbuf_str(&b, "\r\n");
  sr_strbuf_add(&b, m->echo_call_id.p, m->echo_call_id.n);
  sr_strbuf_add(&b, m->echo_cseq.p, m->echo_cseq.n);
  return b.overflow ? SIPREC_ETOOBIG : sr_session_set_str(s, &s->invite_tx.echo, b.p, b.len);
}

/* A retransmitted INVITE for a session already known: the same answer. */
static int invite_retransmission(siprec_handler *h, sr_request_ctx *rq, siprec_session *s)
{
  int rc = 0;
  sr_session_lock(s);
  int same = s->invite_tx.cseq == rq->msg->cseq && sr_invite_tx_is_branch(&s->invite_tx, rq->msg);
  if (!same) {
    /* The same Call-ID, another INVITE without a To-tag: a loop or a bug. */
    rc = sr_handler_simple(h, rq, 482, "Loop Detected (Call-ID already in use)", NULL);
  } else if (s->state == SR_SESSION_PENDING) {
    rc = sr_handler_simple(h, rq, 100, "Trying", NULL); /* RFC 3261 17.2.1 */
  } else if ((s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_REJECTED) &&
             s->invite_tx.response) {
    sr_strbuf_add(&rq->out, s->invite_tx.response, s->invite_tx.response_len);
    rc = rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
  } else {
    /* ACKed already: a late copy, absorbed. */
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_RETRANSMISSION], 1,
                              memory_order_relaxed);
  }
  sr_session_unlock(s);
  return rc;
}

/* A session that never made it into the map: give back what it holds. */
static int discard(siprec_handler *h, siprec_session *s, int rc)
{
  sr_handler_release_new_ports(h, s, s->streams, s->n_streams);
  s->n_streams = 0;
  sr_pending_leave(h, s);
  sr_session_unlock(s);
  siprec_session_unref(s);
  return rc;
}

/* Make room for a new INVITE: the oldest session answered 200 and still
 * waiting for its ACK ends, without a BYE (its SRC never proved its
 * address). A real SRC ACKs within a round trip, so under a flood of
 * INVITEs that are never ACKed the oldest is a flooder's. Called with no
 * session lock held, or only the new session's, which nobody else can see
 * yet.
 * Returns 1 when one was shed. */
static int shed_oldest(siprec_handler *h, uint64_t now)
{
  for (int tries = 0; tries < 4; tries++) {
    siprec_session *v = sr_pending_victim(h);
    if (!v)
      return 0;
    sr_session_lock(v);
    int ok = v->state == SR_SESSION_ANSWERED && sr_pending_is_sheddable(h, v);
    if (ok) {
      sr_handler_log_limited(h, SR_LOG_SHED, now, SIPREC_LOG_WARNING,
                             "session %s shed before its ACK: unsettled INVITEs at their bound",
                             v->id);
      sr_dialog_end(h, v, SIPREC_END_OVERLOAD, 0, now);
    }
    sr_session_unlock(v);
    siprec_session_unref(v);
    if (ok)
      return 1;
  }
  return 0;
}

/* A 503 for the unsettled-INVITE bounds, with the seconds after which a
 * slot is sure to be free again: an answered INVITE settles within 64*T1,
 * a deferred one within the defer timeout. */
static int refuse_pending(siprec_handler *h, sr_request_ctx *rq, const char *reason)
{
  uint64_t ms = 64 * (uint64_t)h->cfg.t1_ms;
  if (h->cfg.defer_ms > ms)
    ms = h->cfg.defer_ms;
  char line[64];
  snprintf(line, sizeof line, "Retry-After: %llu\r\n", (unsigned long long)((ms + 999) / 1000));
  return sr_handler_simple(h, rq, 503, reason, line);
}

/* The SDP answer (or, without an offer, the SRS's offer) for new session
 * `s`, into streams[]/answer; when the port pool is dry, unsettled
 * sessions are shed for ports a few times. Returns the length or a
 * SIPREC_E* code with *why. */
static int first_answer(siprec_handler *h, siprec_session *s, sr_request_ctx *rq, sr_span sdp,
                        size_t n_offer, sr_sdp_stream *streams, size_t *n, char *answer,
                        size_t size, const char **why)
{
  char addr[SR_SDP_ADDR_MAX];
  sr_sdp_config cfg;
  void *port_ctx[2];
  sr_handler_sdp_config(h, s, rq->path.local, &cfg, addr, sizeof addr, port_ctx);
  int alen;
  for (int tries = 0;; tries++) {
    /* A failed offer leaves the streams after the failing one untouched. */
    memset(streams, 0, SR_SDP_MAX_STREAMS * sizeof streams[0]);
    *n = 0;
    if (sdp.p) {
      alen = sr_sdp_answer(sdp.p, sdp.n, &cfg, streams, SR_SDP_MAX_STREAMS, n, answer, size, why);
    } else {
      *n = n_offer;
      alen = sr_sdp_offer(&cfg, n_offer, streams, answer, size);
      *why = "Cannot make an offer";
    }
    if (alen >= 0)
      return alen;
    /* Ports handed out before the failure are ours to return. */
    sr_handler_release_new_ports(h, s, streams, *n);
    if (alen != SIPREC_EAGAIN || tries == 3 || !shed_oldest(h, rq->now_ns))
      return alen;
  }
}

static size_t new_ports(const sr_sdp_stream *streams, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += streams[i].new_port != 0;
  return k;
}

/* The session's 2xx is sent (now, or when the host accepts it). */
static void session_answered(siprec_handler *h, siprec_session *s, uint64_t now)
{
  s->state = SR_SESSION_ANSWERED;
  sr_session_drop_str(s, &s->invite_tx.echo);
  atomic_store_explicit(&s->last_activity, now, memory_order_relaxed);
  sr_session_timer_restart(&s->timer, now);
  sr_dialog_arm_tx(h, s, now);
  sr_invite_tx_charge(&s->invite_tx, s->invite_tx.response_len);
  sr_pending_sheddable(h, s);
  atomic_fetch_add_explicit(&h->stats.started, 1, memory_order_relaxed);
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s started: %zu streams, %s", s->id, s->n_streams,
                 s->is_siprec ? "SIPREC" : "recording headers");
  sr_media_watch(h, s, now); /* NO_MEDIA even when not one datagram comes */
  if (h->cbs.started)
    SR_CALLBACK(s, h->cbs.started(h->user, s));
}

/* A Cisco built-in-bridge leg: the pairing key and refci values, and the
 * leg's speaker as its one header participant. */
static int bib_fill(siprec_session *s, const sr_sip_bib *b)
{
  enum { PART = 128 };
  char key[3 * PART + 3];
  int n = snprintf(key, sizeof key, "%.*s/%.*s/%.*s", (int)(b->cluster.n < PART ? b->cluster.n : PART),
                   b->cluster.p, (int)(b->refci.n < PART ? b->refci.n : PART), b->refci.p,
                   (int)(b->farend_refci.n < PART ? b->farend_refci.n : PART), b->farend_refci.p);
  int rc = sr_session_set_str(s, &s->bib_key, key, n > 0 ? (size_t)n : 0);
  rc |= sr_session_set_str(s, &s->bib_refci, b->refci.p, b->refci.n);
  rc |= sr_session_set_str(s, &s->bib_farend_refci, b->farend_refci.p, b->farend_refci.n);
  sr_span who = b->leg == SR_BIB_NEAR_END ? b->nearend_addr : b->farend_addr;
  if (who.n && sr_session_header_participants(s) == 0)
    rc |= sr_session_add_header_participant(s, who.p, who.n);
  s->bib_leg = b->leg == SR_BIB_NEAR_END ? SIPREC_BIB_NEAR_END : SIPREC_BIB_FAR_END;
  return rc ? SIPREC_ENOMEM : 0;
}

/* A new INVITE on its way to a session: what it asks for, then what the
 * SRS answers and the host decides. */
typedef struct new_call {
  sr_span sdp, metadata;
  int siprec;
  uint32_t se;
  int srs_refresher;
  char timer_hdrs[256];
  sr_strbuf tb;
  char answer[8192];
  int alen;
  siprec_decision decision;
  int refuse_status;
} new_call;

/* What a new INVITE is checked for before any session exists: 0 to go on,
 * or 1 with the response written (*rc). */
static int invite_precheck(siprec_handler *h, sr_request_ctx *rq, new_call *c, int *rc)
{
  const sr_sip_msg *m = rq->msg;
  const char *why = NULL;
  int status = sr_handler_body(m, &c->sdp, &c->metadata, &why);
  *rc = 0;
  c->tb = sr_strbuf_on(c->timer_hdrs, sizeof c->timer_hdrs);
  if (status) {
    *rc = sr_handler_simple(h, rq, status, why, status == 415 ? SR_ACCEPT_HEADER : NULL);
    return 1;
  }
  c->siprec = m->require_siprec || m->contact_src || c->metadata.p != NULL;
  int other = m->n_cisco_participants > 0 || m->bib.leg != SR_BIB_NONE;
  if (!c->siprec && !other && h->cfg.refuse_plain)
    *rc = sr_handler_simple(h, rq, 403, "Not a SIPREC recording session", NULL);
  else if (!m->accepts_sdp)
    *rc = sr_handler_simple(h, rq, 406, "The answer is SDP, which Accept does not take",
                            "Accept: application/sdp\r\n");
  else if (atomic_load_explicit(&h->draining, memory_order_relaxed))
    *rc = sr_handler_simple(h, rq, 503, "Shutting down", "Retry-After: 30\r\n");
  else if (h->cfg.max_sessions &&
           atomic_load_explicit(&h->stats.active, memory_order_relaxed) >= h->cfg.max_sessions &&
           !shed_oldest(h, rq->now_ns))
    *rc = sr_handler_simple(h, rq, 503, "Too many recording sessions", "Retry-After: 30\r\n");
  else if (sr_session_timer_negotiate(m, h->cfg.session_expires_s, h->cfg.min_se_s, &c->se,
                                      &c->srs_refresher, &c->tb) == 422)
    *rc = sr_handler_simple(h, rq, 422, "Session Interval Too Small", c->timer_hdrs);
  else
    return 0;
  return 1;
}

/* The new session, locked, holding its source's slot, its dialog filled
 * in; or NULL with the response written (*rc). */
static siprec_session *invite_session(siprec_handler *h, sr_request_ctx *rq, const new_call *c,
                                      int *rc)
{
  const sr_sip_msg *m = rq->msg;
  uint8_t id[16];
  siprec_session *s = NULL;
  if (sr_handler_random(h, id, sizeof id) == 0)
    s = sr_session_new(&h->mem, m->call_id.p, m->call_id.n, id);
  if (!s) {
    *rc = sr_handler_simple(h, rq, 500, "Out of memory", NULL);
    return NULL;
  }
  sr_session_lock(s);
  int r = sr_pending_take(h, s, rq->path.remote);
  if (r < 0) {
    *rc = discard(h, s,
                  r == SIPREC_EAGAIN
                      ? refuse_pending(h, rq, "Too many unanswered INVITEs from this source")
                      : sr_handler_simple(h, rq, 500, "Out of memory", NULL));
    return NULL;
  }
  r = session_fill(h, s, rq, c->siprec);
  if (r == 0 && m->bib.leg != SR_BIB_NONE)
    r = bib_fill(s, &m->bib);
  s->timer.se_s = c->se;
  s->timer.srs_refresher = c->srs_refresher;
  if (r < 0) {
    *rc = discard(h, s, sr_handler_simple(h, rq, 500, "Out of memory", NULL));
    return NULL;
  }
  return s;
}

/* The session's streams and answer (c->answer), within the overall bounds
 * of unsettled INVITEs, and its metadata: 0 to go on, or 1 with the
 * session discarded and the response written (*rc). */
static int invite_media(siprec_handler *h, siprec_session *s, sr_request_ctx *rq, new_call *c,
                        int *rc)
{
  const char *why = NULL;
  sr_sdp_stream streams[SR_SDP_MAX_STREAMS];
  size_t n = 0;
  /* Delayed offer: the 2xx offers recvonly streams and the ACK answers;
   * one per recorded party (SIPREC), or the leg's one (built-in bridge). */
  size_t n_offer = rq->msg->bib.leg != SR_BIB_NONE ? 1 : SR_DELAYED_OFFER_STREAMS;
  c->alen = first_answer(h, s, rq, c->sdp, n_offer, streams, &n, c->answer, sizeof c->answer,
                         &why);
  if (c->alen < 0) {
    int status = sr_handler_sdp_status(c->alen);
    *rc = discard(h, s,
                  sr_handler_simple(h, rq, status, why ? why : sr_sip_reason(status),
                                    status == 503 ? "Retry-After: 10\r\n" : NULL));
    return 1;
  }
  s->awaiting_answer = !c->sdp.p;
  if (sr_session_set_streams(s, streams, n) < 0) {
    sr_handler_release_new_ports(h, s, streams, n);
    *rc = discard(h, s, sr_handler_simple(h, rq, 500, "Out of memory", NULL));
    return 1;
  }
  if (sr_media_ports_register(h, s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory for its media ports", s->id);
  /* The overall bounds, shedding the oldest unACKed sessions for room. */
  size_t ports = new_ports(streams, n);
  int r;
  for (int tries = 0; (r = sr_pending_enter(h, s, ports, rq->len)) == SIPREC_EAGAIN && tries < 8;
       tries++)
    if (!shed_oldest(h, rq->now_ns))
      break;
  if (r < 0) {
    *rc = discard(h, s, refuse_pending(h, rq, "Too many unsettled INVITEs"));
    return 1;
  }
  if (sr_session_set_str(s, &s->last_answer, c->answer, (size_t)c->alen) == 0)
    s->last_answer_len = (size_t)c->alen;
  /* Metadata never fails the call: unreadable, it is a model saying so. */
  int changed;
  if (c->metadata.p && sr_handler_apply_metadata(h, s, c->metadata, &changed) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory for its metadata", s->id);
  else if (!c->metadata.p && sr_session_header_participants(s) &&
           sr_session_metadata_from_headers(s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory for its participants", s->id);
  sr_session_flush_retired(s);
  return 0;
}

/* The host's decision on the offered session (accept without a callback). */
static void invite_offered(siprec_handler *h, siprec_session *s, new_call *c)
{
  c->decision = SIPREC_DECISION_ACCEPT;
  c->refuse_status = 603;
  if (!h->cbs.offered)
    return;
  SR_CALLBACK(s, c->decision = h->cbs.offered(h->user, s, &c->refuse_status));
  if (c->decision != SIPREC_DECISION_ACCEPT && c->decision != SIPREC_DECISION_DEFER)
    c->decision = SIPREC_DECISION_REFUSE;
  if (c->refuse_status < 400 || c->refuse_status > 699)
    c->refuse_status = 500;
}

/* The 2xx (unless refused) kept as the INVITE transaction's response, and
 * what a later final response needs when it is not sent now: 0 to go on,
 * or 1 with the session discarded (*rc). */
static int invite_prepare(siprec_handler *h, siprec_session *s, sr_request_ctx *rq,
                          const new_call *c, int *rc)
{
  int r = 0;
  if (c->decision != SIPREC_DECISION_REFUSE) {
    r = sr_handler_answer_2xx(h, rq, s->dialog.local_tag, c->tb.len ? c->timer_hdrs : NULL,
                              c->answer, (size_t)c->alen);
    if (r > 0)
      r = sr_session_set_str(s, &s->invite_tx.response, rq->out.p, rq->out.len) < 0
              ? SIPREC_ENOMEM
              : r;
  }
  if (r >= 0 && c->decision != SIPREC_DECISION_ACCEPT)
    r = keep_invite_echo(s, rq->msg) < 0 ? SIPREC_ENOMEM : r;
  if (r < 0) {
    *rc = discard(h, s, r);
    return 1;
  }
  s->invite_tx.response_len = rq->out.len;
  s->state = SR_SESSION_PENDING;
  return 0;
}

static void out_reset(sr_request_ctx *rq)
{
  rq->out.len = 0;
  rq->out.overflow = 0;
}

/* Into the map (a refused session too: it reaches the ended callback, and
 * its INVITE's copies and ACK find the same final answer). 0 to go on, or
 * 1 with the response written (*rc): another thread took the Call-ID first
 * and this INVITE is its retransmission. */
static int invite_store(siprec_handler *h, siprec_session *s, sr_request_ctx *rq, int *rc)
{
  const sr_sip_msg *m = rq->msg;
  void *actual = NULL;
  int r = siprec_shmap_load_or_store(h->sessions, m->call_id.p, m->call_id.n, s, &actual);
  if (r == 0) {
    atomic_fetch_add_explicit(&h->stats.active, 1, memory_order_relaxed);
    return 0;
  }
  discard(h, s, 0);
  out_reset(rq);
  if (r < 0) {
    *rc = sr_handler_simple(h, rq, 500, "Out of memory", NULL);
    return 1;
  }
  siprec_session *other = sr_handler_find(h, &m->call_id);
  *rc = other ? invite_retransmission(h, rq, other) : 0;
  siprec_session_unref(other);
  return 1;
}

/* The stored session as the host decided (its lock released): refused
 * (the final answer goes out), deferred (100 Trying), or answered. */
static int invite_decided(siprec_handler *h, siprec_session *s, sr_request_ctx *rq,
                          const new_call *c)
{
  if (c->decision == SIPREC_DECISION_REFUSE) {
    out_reset(rq);
    sr_invite_reject(h, s, c->refuse_status, "Refused by the recorder", NULL, SIPREC_END_REFUSED,
                     rq->now_ns, &rq->out);
    sr_session_unlock(s);
    return rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
  }
  if (c->decision == SIPREC_DECISION_DEFER) {
    sr_invite_tx_defer(&s->invite_tx, rq->now_ns + sr_ms(h->cfg.defer_ms));
    sr_session_changed(h, s, rq->now_ns);
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s deferred", s->id);
    sr_session_unlock(s);
    out_reset(rq);
    return sr_handler_simple(h, rq, 100, "Trying", NULL);
  }
  session_answered(h, s, rq->now_ns);
  sr_snapshot_emit(h, s, rq->now_ns);
  /* The map holds the only reference: another thread may end and free it
   * once it is unlocked, so the failover index takes it with one of ours. */
  int indexed = s->cs_key != NULL;
  if (indexed)
    siprec_session_ref(s);
  sr_session_unlock(s);
  if (indexed) {
    sr_failover_take_over(h, s, rq->now_ns);
    siprec_session_unref(s);
  }
  return (int)rq->out.len;
}

int sr_invite_new(siprec_handler *h, sr_request_ctx *rq)
{
  siprec_session *existing = sr_handler_find(h, &rq->msg->call_id);
  if (existing) {
    int rc = invite_retransmission(h, rq, existing);
    siprec_session_unref(existing);
    return rc;
  }
  new_call c;
  int rc;
  if (invite_precheck(h, rq, &c, &rc))
    return rc;
  siprec_session *s = invite_session(h, rq, &c, &rc);
  if (!s || invite_media(h, s, rq, &c, &rc))
    return rc;
  if (sr_failover_key(h, s, rq->msg) == 0)
    sr_failover_match(h, s, rq->now_ns);
  invite_offered(h, s, &c);
  if (invite_prepare(h, s, rq, &c, &rc) || invite_store(h, s, rq, &rc))
    return rc;
  return invite_decided(h, s, rq, &c);
}

int sr_invite_accept(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (s->state != SR_SESSION_PENDING || s->invite_tx.cancelled)
    return SIPREC_EINVAL;
  sr_dialog_send(h, s, s->invite_tx.response, s->invite_tx.response_len);
  session_answered(h, s, now);
  return 0;
}

