/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Requests inside a recording session's dialog, its end, and its timers. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>


#include "../common/alloc.h"
#include "../sip/response.h"
#include "dialog.h"

#define NS_PER_MS UINT64_C(1000000)

/* ---------------------------------------------------------------------- */
/* Who may speak in a dialog                                                */

static int same_host(const struct sockaddr *a, const struct sockaddr_storage *b)
{
  if (a->sa_family != b->ss_family)
    return 0;
  if (a->sa_family == AF_INET)
    return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                  &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
  if (a->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
  return 0;
}

/* The request belongs to this dialog and comes from its SRC. Leniency (a
 * missing To-tag on ACK or BYE) never relaxes the source check. */
static int dialog_match(siprec_handler *h, const siprec_session *s, const sr_request_ctx *rq)
{
  const sr_sip_msg *m = rq->msg;
  if (!s->remote_tag || strlen(s->remote_tag) != m->from_tag.n ||
      memcmp(s->remote_tag, m->from_tag.p, m->from_tag.n) != 0)
    return 0;
  if (m->to_tag.n) {
    if (m->to_tag.n != SR_TAG_LEN || memcmp(m->to_tag.p, s->local_tag, SR_TAG_LEN) != 0)
      return 0;
  } else {
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s: %s without To-tag tolerated", s->id,
                   sr_method_name(m->method));
  }
  int stream = rq->transport != SIPREC_TRANSPORT_UDP;
  if ((stream && s->transport != SIPREC_TRANSPORT_UDP && rq->conn_id == s->conn_id) ||
      same_host(rq->remote, &s->remote))
    return 1;
  sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: %s from another address refused", s->id,
                 sr_method_name(m->method));
  return 0;
}

/* The session a request names, locked, with a reference; NULL (and the 481
 * written) when there is none. */
static siprec_session *dialog_lookup(siprec_handler *h, sr_request_ctx *rq, int *rc)
{
  siprec_session *s = sr_handler_find(h, &rq->msg->call_id);
  if (s) {
    sr_session_lock(s);
    if (s->state != SR_SESSION_ENDED && dialog_match(h, s, rq))
      return s;
    sr_session_unlock(s);
    siprec_session_unref(s);
  }
  *rc = rq->msg->method == SR_M_ACK
            ? 0
            : sr_handler_simple(h, rq, 481, "Call/Transaction Does Not Exist", NULL);
  return NULL;
}

static void dialog_release(siprec_session *s)
{
  sr_session_unlock(s);
  siprec_session_unref(s);
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                   */

static void timer_unlink(siprec_handler *h, siprec_session *s)
{
  pthread_mutex_lock(&h->timers_lock);
  if (s->on_timer_list) {
    if (s->timer_prev)
      s->timer_prev->timer_next = s->timer_next;
    else
      h->timers = s->timer_next;
    if (s->timer_next)
      s->timer_next->timer_prev = s->timer_prev;
    s->timer_next = s->timer_prev = NULL;
    s->on_timer_list = 0;
    pthread_mutex_unlock(&h->timers_lock);
    siprec_session_unref(s); /* the list's reference */
    return;
  }
  pthread_mutex_unlock(&h->timers_lock);
}

/* Publish the session's next deadline (its lock held) for readers that
 * hold only the timer list's lock. */
static void publish_deadline(siprec_session *s)
{
  uint64_t d = s->ack_deadline;
  if (s->transport == SIPREC_TRANSPORT_UDP && s->retx_at < d)
    d = s->retx_at;
  atomic_store_explicit(&s->deadline, d, memory_order_relaxed);
}

static uint64_t session_deadline(const siprec_session *s)
{
  return atomic_load_explicit(&s->deadline, memory_order_relaxed);
}

void sr_dialog_arm_ack_timer(siprec_handler *h, siprec_session *s, uint64_t now_ns)
{
  uint64_t t1 = (uint64_t)h->cfg.t1_ms * NS_PER_MS;
  s->retx_interval = t1;
  s->retx_at = now_ns + t1;
  s->ack_deadline = now_ns + 64 * t1;
  publish_deadline(s);
  pthread_mutex_lock(&h->timers_lock);
  if (!s->on_timer_list) {
    siprec_session_ref(s);
    s->on_timer_list = 1;
    s->timer_prev = NULL;
    s->timer_next = h->timers;
    if (h->timers)
      h->timers->timer_prev = s;
    h->timers = s;
  }
  pthread_mutex_unlock(&h->timers_lock);
}

SIPREC_API uint64_t siprec_handler_next_deadline(siprec_handler *h)
{
  if (!h)
    return UINT64_MAX;
  uint64_t next = UINT64_MAX;
  pthread_mutex_lock(&h->timers_lock);
  for (siprec_session *s = h->timers; s; s = s->timer_next) {
    uint64_t d = session_deadline(s);
    if (d < next)
      next = d;
  }
  pthread_mutex_unlock(&h->timers_lock);
  return next;
}

static void send_to_src(siprec_handler *h, siprec_session *s, const char *data, size_t len)
{
  if (h->cbs.send)
    h->cbs.send(h->user, data, len, s->transport, (const struct sockaddr *)&s->remote, s->conn_id);
}

SIPREC_API int siprec_handler_expire(siprec_handler *h, uint64_t now_ns)
{
  if (!h)
    return SIPREC_EINVAL;
  /* Collect the due sessions with a reference each, then act on them
   * without the list lock (callbacks must not run under it). */
  enum { BATCH = 64 };
  int actions = 0;
  for (;;) {
    siprec_session *due[BATCH];
    size_t n = 0;
    pthread_mutex_lock(&h->timers_lock);
    for (siprec_session *s = h->timers; s && n < BATCH; s = s->timer_next) {
      if (session_deadline(s) <= now_ns) {
        siprec_session_ref(s);
        due[n++] = s;
      }
    }
    pthread_mutex_unlock(&h->timers_lock);
    for (size_t i = 0; i < n; i++) {
      siprec_session *s = due[i];
      sr_session_lock(s);
      if (s->state == SR_SESSION_ANSWERED) {
        if (now_ns >= s->ack_deadline) {
          sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no ACK, ending it", s->id);
          sr_dialog_end(h, s, SIPREC_END_ACK_TIMEOUT, 1);
          actions++;
        } else if (s->transport == SIPREC_TRANSPORT_UDP && now_ns >= s->retx_at) {
          send_to_src(h, s, s->last_2xx, s->last_2xx_len);
          uint64_t t2 = (uint64_t)h->cfg.t2_ms * NS_PER_MS;
          s->retx_interval = s->retx_interval * 2 > t2 ? t2 : s->retx_interval * 2;
          s->retx_at = now_ns + s->retx_interval;
          publish_deadline(s);
          actions++;
        }
      } else {
        timer_unlink(h, s);
      }
      sr_session_unlock(s);
      siprec_session_unref(s);
    }
    if (n < BATCH)
      break;
  }
  return actions;
}

/* ---------------------------------------------------------------------- */
/* Ending                                                                   */

static void send_bye(siprec_handler *h, siprec_session *s)
{
  char buf[4096], local[80], branch[SR_TAG_LEN + 1];
  if (sr_addr_text((const struct sockaddr *)&s->local, local, sizeof local, 1) < 0)
    return;
  sr_handler_tag(h, branch);
  static const char *const tp[] = { "UDP", "TCP", "TLS" };
  sr_strbuf b = sr_strbuf_on(buf, sizeof buf);
  sr_strbuf_printf(&b, "BYE %s SIP/2.0\r\n", s->remote_target && *s->remote_target
                                                 ? s->remote_target
                                                 : "sip:invalid");
  sr_strbuf_printf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s\r\n", tp[s->transport], local, branch);
  sr_strbuf_str(&b, "Max-Forwards: 70\r\n");
  if (s->route_set)
    sr_strbuf_str(&b, s->route_set);
  sr_strbuf_printf(&b, "From: %s\r\nTo: %s\r\n", s->local_to ? s->local_to : "",
                   s->remote_from ? s->remote_from : "");
  sr_strbuf_printf(&b, "Call-ID: %s\r\nCSeq: %u BYE\r\n", s->call_id, ++s->local_cseq);
  sr_strbuf_printf(&b, "User-Agent: %s\r\nContent-Length: 0\r\n\r\n", h->cfg.user_agent);
  if (!b.overflow)
    send_to_src(h, s, b.p, b.len);
}

void sr_dialog_end(siprec_handler *h, siprec_session *s, siprec_end_reason reason, int bye)
{
  if (s->state == SR_SESSION_ENDED)
    return;
  s->state = SR_SESSION_ENDED;
  if (bye)
    send_bye(h, s);
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s ended: %s", s->id, siprec_end_reason_name(reason));
  if (h->cbs.ended)
    h->cbs.ended(h->user, s, reason);
  sr_handler_release_ports(h, s->streams, s->n_streams);
  timer_unlink(h, s);
  /* The map's reference goes with the entry (its destructor unrefs); the
   * caller still holds its own, so the session outlives this call. */
  (void)siprec_shmap_compare_and_delete(h->sessions, s->call_id, s->call_id_len, s);
}

/* ---------------------------------------------------------------------- */
/* Methods                                                                  */

int sr_dialog_bye(siprec_handler *h, sr_request_ctx *rq)
{
  int rc;
  siprec_session *s = dialog_lookup(h, rq, &rc);
  if (!s)
    return rc;
  rc = sr_handler_simple(h, rq, 200, "OK", NULL);
  sr_dialog_end(h, s, SIPREC_END_BYE, 0);
  dialog_release(s);
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
  if (metadata.p && sr_session_set_str(s, &s->metadata, metadata.p, metadata.n) == 0)
    s->metadata_len = metadata.n;
  for (size_t i = 0; i < s->n_streams && accepted >= 0; i++) {
    sr_sdp_stream *st = &s->streams[i];
    if (!st->accepted) {
      sr_handler_port_free(h, st->port); /* declined by the SRC */
      st->port = 0;
    } else {
      st->answer_dir = st->paused ? SR_SDP_INACTIVE : SR_SDP_RECVONLY;
    }
  }
  if (accepted <= 0) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: %s", s->id,
                   accepted < 0 ? why : "the answer accepted no stream");
    sr_dialog_end(h, s, SIPREC_END_NO_MEDIA, 1);
    return;
  }
  if (h->cbs.updated)
    h->cbs.updated(h->user, s);
}

int sr_dialog_ack(siprec_handler *h, sr_request_ctx *rq)
{
  int rc;
  siprec_session *s = dialog_lookup(h, rq, &rc);
  if (!s)
    return 0; /* an ACK for a non-2xx, or late: absorbed */
  if (s->state == SR_SESSION_ANSWERED && rq->msg->cseq == s->invite_cseq) {
    s->state = SR_SESSION_CONFIRMED;
    timer_unlink(h, s);
    if (s->awaiting_answer)
      ack_answer(h, s, rq);
  }
  dialog_release(s);
  return 0;
}

int sr_dialog_cancel(siprec_handler *h, sr_request_ctx *rq)
{
  /* Every INVITE is answered at once, so a CANCEL finds its transaction
   * completed (200 to the CANCEL, nothing else, RFC 3261 9.2) or none. */
  siprec_session *s = sr_handler_find(h, &rq->msg->call_id);
  int known = 0;
  if (s) {
    sr_session_lock(s);
    known = s->invite_branch && strlen(s->invite_branch) == rq->msg->branch.n &&
            memcmp(s->invite_branch, rq->msg->branch.p, rq->msg->branch.n) == 0;
    dialog_release(s);
  }
  return known ? sr_handler_simple(h, rq, 200, "OK", NULL)
               : sr_handler_simple(h, rq, 481, "Call/Transaction Does Not Exist", NULL);
}

int sr_dialog_options(siprec_handler *h, sr_request_ctx *rq)
{
  if (rq->msg->to_tag.n == 0)
    return sr_handler_simple(h, rq, 200, "OK", NULL);
  int rc;
  siprec_session *s = dialog_lookup(h, rq, &rc);
  if (!s)
    return rc;
  rc = sr_handler_simple(h, rq, 200, "OK", NULL);
  dialog_release(s);
  return rc;
}

int sr_dialog_reinvite(siprec_handler *h, sr_request_ctx *rq)
{
  int rc;
  siprec_session *s = dialog_lookup(h, rq, &rc);
  if (!s)
    return rc;
  const sr_sip_msg *m = rq->msg;
  int is_invite = m->method == SR_M_INVITE;
  if (is_invite && s->state == SR_SESSION_ANSWERED && m->cseq == s->invite_cseq) {
    /* A retransmitted re-INVITE: the same 2xx again. */
    sr_strbuf_add(&rq->out, s->last_2xx, s->last_2xx_len);
    rc = rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
    dialog_release(s);
    return rc;
  }
  if (m->cseq <= s->remote_cseq) {
    rc = sr_handler_simple(h, rq, 500, "CSeq out of order", "Retry-After: 1\r\n");
    dialog_release(s);
    return rc;
  }
  if (is_invite && s->state == SR_SESSION_ANSWERED) {
    /* RFC 3261 14.2: our 2xx to the previous INVITE is not ACKed yet. */
    rc = sr_handler_simple(h, rq, 491, "Request Pending", NULL);
    dialog_release(s);
    return rc;
  }
  s->remote_cseq = m->cseq;

  const char *why = NULL;
  sr_span sdp, metadata;
  int status = sr_handler_body(m, &sdp, &metadata, &why);
  if (status) {
    rc = sr_handler_simple(h, rq, status, why, NULL);
    dialog_release(s);
    return rc;
  }
  if (metadata.p && sr_session_set_str(s, &s->metadata, metadata.p, metadata.n) == 0)
    s->metadata_len = metadata.n;

  char answer[8192];
  int alen = 0;
  if (sdp.p) {
    char addr[SR_SDP_ADDR_MAX];
    sr_sdp_config cfg;
    s->sdp_version++;
    sr_handler_sdp_config(h, s, rq->local, &cfg, addr, sizeof addr);
    void *ctx[2] = { h, s };
    cfg.port = sr_handler_port_cb;
    cfg.port_user = ctx;
    sr_sdp_stream next[SR_SDP_MAX_STREAMS];
    size_t n = 0;
    alen = sr_sdp_answer(sdp.p, sdp.n, &cfg, next, SR_SDP_MAX_STREAMS, &n, answer, sizeof answer,
                         &why);
    if (alen < 0) {
      /* Ports newly handed out for this failed offer go back; the session
       * keeps its streams. */
      for (size_t i = 0; i < n; i++)
        if (next[i].new_port)
          sr_handler_port_free(h, next[i].port);
      s->sdp_version--;
      status = alen == SIPREC_ENOTFOUND ? 488 : alen == SIPREC_EAGAIN ? 503 : 400;
      rc = sr_handler_simple(h, rq, status, why, status == 503 ? "Retry-After: 10\r\n" : NULL);
      dialog_release(s);
      return rc;
    }
    /* Streams dropped by this offer give their ports back. */
    for (size_t j = 0; j < s->n_streams; j++) {
      int kept = 0;
      for (size_t i = 0; i < n; i++)
        kept |= next[i].accepted && next[i].port == s->streams[j].port;
      if (!kept && s->streams[j].accepted)
        sr_handler_port_free(h, s->streams[j].port);
    }
    memcpy(s->streams, next, n * sizeof next[0]);
    s->n_streams = n;
  } else if (is_invite && s->last_answer) {
    /* No offer (a metadata-only re-INVITE): the 2xx must carry one; the
     * current answer, unchanged and with the same version, is it. */
    memcpy(answer, s->last_answer, s->last_answer_len);
    alen = (int)s->last_answer_len;
  }
  if (sdp.p && alen > 0 && sr_session_set_str(s, &s->last_answer, answer, (size_t)alen) == 0)
    s->last_answer_len = (size_t)alen;

  if (is_invite || alen > 0) {
    rc = sr_handler_answer_2xx(h, rq, s->local_tag, alen > 0 ? answer : NULL, (size_t)alen);
  } else {
    rc = sr_handler_simple(h, rq, 200, "OK", NULL);
  }
  if (rc > 0 && is_invite) {
    if (sr_session_set_str(s, &s->last_2xx, rq->out.p, rq->out.len) == 0) {
      s->last_2xx_len = rq->out.len;
      s->invite_cseq = m->cseq;
      sr_session_set_str(s, &s->invite_branch, m->branch.p, m->branch.n);
      s->state = SR_SESSION_ANSWERED;
      sr_dialog_arm_ack_timer(h, s, rq->now_ns);
    }
  }
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s updated by %s", s->id, sr_method_name(m->method));
  if (h->cbs.updated)
    h->cbs.updated(h->user, s);
  dialog_release(s);
  return rc;
}
