/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "call.h"

#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "call_build.h"
#include "metadata.h"
#include "sipmsg.h"

#define T2_MS 4000
#define SDP_MAX 8192

static void fail(cl_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(cl_call *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->error, sizeof c->error, fmt, ap);
  va_end(ap);
  fprintf(stderr, "siprec-client: %s\n", c->error);
  c->state = CL_CALL_FAILED;
}

static void send_to(cl_call *c, const char *msg, size_t len, const struct sockaddr_storage *to)
{
  if (c->o->verbose)
    fprintf(stderr, "--- sent to the SRS:\n%.*s\n", (int)len, msg);
  if (sendto(c->fd, msg, len, 0, (const struct sockaddr *)to,
             cl_addr_len((const struct sockaddr *)to)) < 0)
    fprintf(stderr, "siprec-client: sendto the SRS: %s\n", strerror(errno));
}

/* Requests (and ACKs) go to --server: the SRS, or the proxy in front. */
static void send_raw(cl_call *c, const char *msg, size_t len)
{
  send_to(c, msg, len, &c->o->server);
}

/* Responses go where their request came from. */
static void send_response(cl_call *c, const char *msg, size_t len)
{
  send_to(c, msg, len, c->reply_to.ss_family ? &c->reply_to : &c->o->server);
}

int cl_call_init(cl_call *c, const cl_opts *o, cl_stream *streams, size_t n)
{
  memset(c, 0, sizeof *c);
  c->o = o;
  c->streams = streams;
  c->n = n;
  c->local = o->local;
  c->fd = socket(c->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  socklen_t sl = sizeof c->local;
  if (c->fd < 0 ||
      bind(c->fd, (struct sockaddr *)&c->local, cl_addr_len((struct sockaddr *)&c->local)) != 0 ||
      getsockname(c->fd, (struct sockaddr *)&c->local, &sl) != 0) {
    fprintf(stderr, "siprec-client: cannot bind the SIP socket: %s\n", strerror(errno));
    return -1;
  }
  cl_addr_uri_host((struct sockaddr *)&c->local, c->host, sizeof c->host);
  cl_addr_host((struct sockaddr *)&c->local, c->media_addr, sizeof c->media_addr);
  char server[80];
  cl_addr_uri_host((const struct sockaddr *)&o->server, server, sizeof server);
  /* The SIP identifiers (Call-ID, tags, branches, metadata ids) are fresh
   * on every run, --seed or not: two runs against one SRS must not look
   * like one call retransmitted. */
  uint64_t fresh;
  if (getrandom(&fresh, sizeof fresh, 0) != (ssize_t)sizeof fresh)
    fresh = (uint64_t)cl_now_ms() ^ ((uint64_t)getpid() << 32);
  cl_rng_for(&c->rng, fresh, "sip", 0);
  char tok[33];
  cl_rng_token(&c->rng, tok, 24);
  snprintf(c->call_id, sizeof c->call_id, "%s@%s", tok, c->media_addr);
  cl_rng_token(&c->rng, c->local_tag, 16);
  snprintf(c->from_uri, sizeof c->from_uri, "sip:siprec-client@%s", c->host);
  snprintf(c->to_uri, sizeof c->to_uri, "sip:%s@%s:%u", o->user, server,
           cl_addr_port((const struct sockaddr *)&o->server));
  snprintf(c->remote_target, sizeof c->remote_target, "%s", c->to_uri);
  snprintf(c->contact, sizeof c->contact, "sip:siprec-client@%s:%u", c->host,
           cl_addr_port((struct sockaddr *)&c->local));
  c->sdp_id = cl_rng_next(&c->rng) >> 12;
  c->sdp_version = 1;
  c->local_cseq = 1 + cl_rng_u32(&c->rng) % 1000;

  cl_md_stream md[CL_MAX_STREAMS];
  for (size_t i = 0; i < n; i++)
    md[i] = (cl_md_stream){ streams[i].opt->label, streams[i].opt->name, streams[i].opt->aor };
  size_t cap = 4096 + n * 2048;
  c->metadata = malloc(cap);
  cl_rng md_rng;
  cl_rng_for(&md_rng, fresh, "metadata", 0);
  int len = c->metadata ? cl_metadata_write(md, n, &md_rng, c->metadata, cap) : -1;
  if (len < 0) {
    fprintf(stderr, "siprec-client: cannot write the metadata\n");
    return -1;
  }
  c->metadata_len = (size_t)len;
  c->state = CL_CALL_INVITING;
  return 0;
}

void cl_call_free(cl_call *c)
{
  if (c->fd >= 0)
    close(c->fd);
  free(c->uac.msg);
  free(c->ack);
  free(c->resp);
  free(c->metadata);
  c->fd = -1;
  c->uac.msg = c->ack = c->resp = c->metadata = NULL;
}

/* ---------------------------------------------------------------------- */
/* The client transaction                                                   */

static void uac_clear(cl_call *c)
{
  free(c->uac.msg);
  memset(&c->uac, 0, sizeof c->uac);
}

static int uac_start(cl_call *c, cl_uac_purpose purpose, const char *method, const char *extra,
                     const char *type, const char *body, size_t body_len, int64_t now)
{
  char branch[40] = "z9hG4bK";
  cl_rng_token(&c->rng, branch + 7, 20);
  uint32_t cseq = c->local_cseq++;
  size_t len;
  char *msg = cl_build_request(c, method, cseq, branch, extra, type, body, body_len, &len);
  if (!msg) {
    fail(c, "out of memory writing a %s", method);
    return -1;
  }
  uac_clear(c);
  c->uac.purpose = purpose;
  snprintf(c->uac.method, sizeof c->uac.method, "%s", method);
  c->uac.cseq = cseq;
  memcpy(c->uac.branch, branch, sizeof branch);
  c->uac.msg = msg;
  c->uac.len = len;
  c->uac.interval = c->o->t1_ms;
  c->uac.next_retx = now + c->uac.interval;
  c->uac.deadline = now + 64 * (int64_t)c->o->t1_ms;
  send_raw(c, msg, len);
  return 0;
}

int cl_call_start(cl_call *c, int64_t now)
{
  char sdp[SDP_MAX], type[96];
  int sl = cl_build_offer(c, 0, sdp, sizeof sdp);
  size_t bl;
  char *body = sl < 0 ? NULL : cl_build_invite_body(c, sdp, (size_t)sl, type, sizeof type, &bl);
  if (!body) {
    fail(c, "cannot write the INVITE's body");
    return -1;
  }
  int rc = uac_start(c, CL_UAC_INVITE, "INVITE",
                     "Require: siprec\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n"
                     "Accept: application/sdp, application/rs-metadata-request\r\n"
                     "MIME-Version: 1.0\r\n",
                     type, body, bl, now);
  free(body);
  return rc;
}

static int reinvite(cl_call *c, int paused, int64_t now)
{
  char sdp[SDP_MAX];
  int sl = cl_build_offer(c, paused, sdp, sizeof sdp);
  if (sl < 0) {
    fail(c, "cannot write the re-INVITE's SDP");
    return -1;
  }
  int rc = uac_start(c, paused ? CL_UAC_PAUSE : CL_UAC_RESUME, "INVITE",
                     "Require: siprec\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n",
                     "application/sdp", sdp, (size_t)sl, now);
  /* Pausing stops the media with the offer (RFC 3264 8.4: we may stop
   * sending once inactive is offered); resuming waits for the answer. */
  if (rc == 0 && paused)
    c->paused = 1;
  return rc;
}

/* Send the ACK for a final answer: a 2xx's in a transaction of its own,
 * a failure's in the INVITE's (same branch). */
static void send_ack(cl_call *c, const cl_sip_msg *resp)
{
  char branch[40] = "z9hG4bK";
  int ok = resp->status < 300;
  if (ok)
    cl_rng_token(&c->rng, branch + 7, 20);
  else
    memcpy(branch, c->uac.branch, sizeof branch);
  /* The ACK's To is the answer's, tag included, also for a failed
   * initial INVITE (RFC 3261 17.1.1.3). */
  int borrowed = 0;
  if (!c->remote_tag[0] &&
      cl_sip_param(cl_sip_hdr(resp, "To", 0), "tag", c->remote_tag, sizeof c->remote_tag))
    borrowed = !ok;
  size_t len;
  char *ack = cl_build_request(c, "ACK", c->uac.cseq, branch, NULL, NULL, NULL, 0, &len);
  if (borrowed)
    c->remote_tag[0] = '\0';
  if (!ack)
    return;
  send_raw(c, ack, len);
  free(c->ack);
  c->ack = ack;
  c->ack_len = len;
  c->ack_cseq = c->uac.cseq;
}

/* The SRS's SDP answer applied to the streams. 0 or -1. */
static int take_answer(cl_call *c, const char *sdp, size_t len)
{
  cl_sdp a;
  if (!sdp || cl_sdp_parse(sdp, len, &a) != 0)
    return -1;
  if (a.n < c->n) {
    fprintf(stderr, "siprec-client: the answer has %zu m-lines for %zu streams\n", a.n, c->n);
    return -1;
  }
  for (size_t i = 0; i < c->n; i++) {
    cl_stream *s = &c->streams[i];
    if (a.m[i].port != 0 && !cl_sdp_has_pt(&a.m[i], s->codec->pt)) {
      fprintf(stderr, "siprec-client: stream %s: the answer drops payload type %u, not sent\n",
              s->opt->label, s->codec->pt);
      s->rejected = 1;
      s->have_dest = 0;
      continue;
    }
    if (cl_stream_remote(s, &a.m[i], c->o->rtcp_mux) != 0)
      return -1;
  }
  return 0;
}

/* A target refresh (RFC 3261 12.2.1.2 for the 2xx to our re-INVITE or
 * UPDATE, 12.2.2 for the SRS's accepted re-INVITE or UPDATE): the
 * message's Contact becomes the remote target, so that our next request
 * reaches the SRS that sent it (after a takeover, another node). */
static void refresh_target(cl_call *c, const cl_sip_msg *m)
{
  char target[sizeof c->remote_target];
  const char *contact = cl_sip_hdr(m, "Contact", 0);
  if (contact && cl_sip_uri(contact, target, sizeof target) == 0)
    memcpy(c->remote_target, target, sizeof target);
}

static void hangup_now(cl_call *c, int64_t now)
{
  if (uac_start(c, CL_UAC_BYE, "BYE", NULL, NULL, NULL, 0, now) == 0) {
    c->state = c->state == CL_CALL_FAILED ? CL_CALL_FAILED : CL_CALL_ENDING;
    if (!c->bye)
      c->bye = "sent";
  }
}

static void on_invite_final(cl_call *c, const cl_sip_msg *r, int64_t now)
{
  cl_uac_purpose purpose = c->uac.purpose;
  if (purpose == CL_UAC_INVITE) {
    c->status = r->status;
    if (r->status >= 300) {
      send_ack(c, r);
      uac_clear(c);
      fail(c, "the SRS answered %d", r->status);
      return;
    }
    char tag[128];
    if (!cl_sip_param(cl_sip_hdr(r, "To", 0), "tag", tag, sizeof tag) || !tag[0]) {
      uac_clear(c);
      fail(c, "the 2xx has no To tag");
      return;
    }
    memcpy(c->remote_tag, tag, sizeof tag);
    refresh_target(c, r);
    int routes = cl_build_route_set(c, r);
    send_ack(c, r);
    size_t sl = 0;
    const char *sdp = cl_sip_sdp(r, &sl);
    uac_clear(c);
    if (routes != 0) {
      fail(c, "the 2xx's Record-Route does not fit in a route set");
      hangup_now(c, now);
      return;
    }
    if (take_answer(c, sdp, sl) != 0) {
      fail(c, "the 2xx's SDP answer cannot be used");
      hangup_now(c, now);
      return;
    }
    c->state = CL_CALL_ESTABLISHED;
    return;
  }
  /* Our pause or resume. */
  if (r->status >= 300) {
    send_ack(c, r);
    uac_clear(c);
    if (r->status == 491) {
      /* RFC 3261 14.1: the Call-ID's owner waits 2.1 to 4 s. */
      c->retry_at = now + 2100 + (int64_t)(cl_rng_u32(&c->rng) % 1900);
      if (purpose == CL_UAC_PAUSE)
        c->paused = 0;
      return;
    }
    fprintf(stderr, "siprec-client: the SRS answered %d to our %s; the media goes on as before\n",
            r->status, purpose == CL_UAC_PAUSE ? "pause" : "resume");
    c->paused = purpose == CL_UAC_RESUME;
    c->pause_gave_up = 1;
    return;
  }
  refresh_target(c, r);
  send_ack(c, r);
  size_t sl = 0;
  const char *sdp = cl_sip_sdp(r, &sl);
  uac_clear(c);
  if (take_answer(c, sdp, sl) != 0) {
    fail(c, "the answer to our re-INVITE cannot be used");
    hangup_now(c, now);
    return;
  }
  c->paused = purpose == CL_UAC_PAUSE;
}

static void on_response(cl_call *c, const cl_sip_msg *r, int64_t now)
{
  char branch[48];
  const char *via = cl_sip_hdr(r, "Via", 0);
  int ours = c->uac.purpose != CL_UAC_NONE && cl_sip_param(via, "branch", branch, sizeof branch) &&
             strcmp(branch, c->uac.branch) == 0 && r->cseq == c->uac.cseq &&
             strcmp(r->cseq_method, c->uac.method) == 0;
  if (!ours) {
    /* A 2xx to an INVITE already answered: it lost our ACK. */
    if (strcmp(r->cseq_method, "INVITE") == 0 && r->status < 300 && r->status >= 200 && c->ack &&
        r->cseq == c->ack_cseq)
      send_raw(c, c->ack, c->ack_len);
    return;
  }
  if (r->status < 200) {
    c->uac.proceeding = 1;
    if (strcmp(c->uac.method, "INVITE") == 0) {
      c->uac.next_retx = INT64_MAX;
      c->uac.deadline = now + (int64_t)(c->o->answer_timeout * 1000);
    }
    return;
  }
  if (strcmp(c->uac.method, "INVITE") == 0) {
    on_invite_final(c, r, now);
    return;
  }
  cl_uac_purpose purpose = c->uac.purpose;
  uac_clear(c);
  if (purpose == CL_UAC_METADATA && r->status < 300)
    refresh_target(c, r); /* UPDATE is a target refresh (RFC 3311 5.1) */
  if (purpose == CL_UAC_BYE) {
    c->bye_status = r->status;
    /* 481: the SRS had ended it already; the call is over either way. */
    if (r->status < 300 || r->status == 481) {
      if (c->state != CL_CALL_FAILED)
        c->state = CL_CALL_DONE;
    } else {
      fail(c, "the SRS answered %d to our BYE", r->status);
    }
  } else if (purpose == CL_UAC_METADATA && r->status >= 300) {
    fprintf(stderr, "siprec-client: the SRS answered %d to our metadata UPDATE\n", r->status);
  }
}

/* ---------------------------------------------------------------------- */
/* The SRS's requests                                                       */

static void respond(cl_call *c, const cl_sip_msg *req, int status, const char *reason,
                    const char *extra, const char *sdp, size_t sdp_len)
{
  size_t len;
  char *msg = cl_build_response(c, req, status, reason, extra, sdp, sdp_len, &len);
  if (!msg)
    return;
  send_response(c, msg, len);
  free(c->resp);
  c->resp = msg;
  c->resp_len = len;
  c->resp_cseq = req->cseq;
  snprintf(c->resp_method, sizeof c->resp_method, "%s", req->method);
}

/* An offer from the SRS (re-INVITE or UPDATE), or none (offerless INVITE). */
static void on_offer(cl_call *c, const cl_sip_msg *req, int64_t now)
{
  int invite = strcmp(req->method, "INVITE") == 0;
  char sdp[SDP_MAX];
  size_t ol = 0;
  const char *offer = cl_sip_sdp(req, &ol);
  int sl;
  if (offer) {
    cl_sdp o;
    if (cl_sdp_parse(offer, ol, &o) != 0 || (sl = cl_build_answer(c, &o, sdp, sizeof sdp)) < 0) {
      respond(c, req, 488, "Not Acceptable Here", NULL, NULL, 0);
      return;
    }
  } else if (invite) {
    /* RFC 3261 14.2: no offer in the re-INVITE, ours in the 2xx. */
    sl = cl_build_offer(c, c->paused, sdp, sizeof sdp);
    if (sl < 0) {
      respond(c, req, 500, "Server Internal Error", NULL, NULL, 0);
      return;
    }
  } else {
    sl = -1; /* an UPDATE without SDP: a refresh */
  }
  respond(c, req, 200, "OK", NULL, sl >= 0 ? sdp : NULL, sl >= 0 ? (size_t)sl : 0);
  refresh_target(c, req);
  if (invite) {
    c->reinvites_answered++;
    c->uas_2xx = 1;
    c->uas_offerless = offer == NULL;
    c->uas_interval = c->o->t1_ms;
    c->uas_next = now + c->uas_interval;
    c->uas_deadline = now + 64 * (int64_t)c->o->t1_ms;
  } else {
    c->updates_answered++;
  }
}

static void on_ack(cl_call *c, const cl_sip_msg *req)
{
  if (!c->uas_2xx || req->cseq != c->resp_cseq)
    return;
  c->uas_2xx = 0;
  if (c->uas_offerless) {
    size_t sl = 0;
    const char *sdp = cl_sip_sdp(req, &sl);
    if (take_answer(c, sdp, sl) != 0)
      fprintf(stderr, "siprec-client: the ACK's SDP answer cannot be used; streams unchanged\n");
  }
}

static void on_request(cl_call *c, const cl_sip_msg *req, int64_t now)
{
  const char *m = req->method;
  int ack = strcmp(m, "ACK") == 0;
  char to_tag[128] = "", from_tag[128] = "";
  cl_sip_param(cl_sip_hdr(req, "To", 0), "tag", to_tag, sizeof to_tag);
  cl_sip_param(cl_sip_hdr(req, "From", 0), "tag", from_tag, sizeof from_tag);
  int in_dialog = strcmp(cl_sip_hdr(req, "Call-ID", 0), c->call_id) == 0 && c->remote_tag[0] &&
                  strcmp(to_tag, c->local_tag) == 0 && strcmp(from_tag, c->remote_tag) == 0;
  if (!in_dialog) {
    if (ack)
      return;
    /* A keep-alive OPTIONS outside any dialog is answered as well. */
    if (strcmp(m, "OPTIONS") == 0 && !to_tag[0])
      respond(c, req, 200, "OK", "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n", NULL, 0);
    else
      respond(c, req, 481, "Call/Transaction Does Not Exist", NULL, NULL, 0);
    return;
  }
  if (ack) {
    on_ack(c, req);
    return;
  }
  if (c->have_remote_cseq && req->cseq <= c->remote_cseq) {
    /* A retransmission gets our answer again; an older request a 500. */
    if (req->cseq == c->resp_cseq && strcmp(m, c->resp_method) == 0 && c->resp)
      send_response(c, c->resp, c->resp_len);
    else if (strcmp(m, "CANCEL") == 0)
      respond(c, req, 200, "OK", NULL, NULL, 0); /* its INVITE was answered already */
    else
      respond(c, req, 500, "Server Internal Error", "Retry-After: 1\r\n", NULL, 0);
    return;
  }
  c->remote_cseq = req->cseq;
  c->have_remote_cseq = 1;
  int invite = strcmp(m, "INVITE") == 0, update = strcmp(m, "UPDATE") == 0;
  if (strcmp(m, "OPTIONS") == 0) {
    c->options_answered++;
    respond(c, req, 200, "OK",
            "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n"
            "Accept: application/sdp, application/rs-metadata-request\r\n",
            NULL, 0);
  } else if (strcmp(m, "BYE") == 0) {
    respond(c, req, 200, "OK", NULL, NULL, 0);
    if (!c->bye)
      c->bye = "received";
    if (c->state != CL_CALL_FAILED)
      c->state = CL_CALL_DONE;
  } else if ((invite || update) && cl_sip_body_is(req, "application/rs-metadata-request")) {
    /* RFC 7866 6.3.2: answer, then send the complete metadata. */
    respond(c, req, 200, "OK", NULL, NULL, 0);
    refresh_target(c, req);
    c->want_metadata = 1;
    c->updates_answered += update;
  } else if (invite || update) {
    /* RFC 3261 14.2 and RFC 3311: one offer at a time each way. */
    if (c->uac.purpose == CL_UAC_PAUSE || c->uac.purpose == CL_UAC_RESUME)
      respond(c, req, 491, "Request Pending", NULL, NULL, 0);
    else if (c->uas_2xx)
      respond(c, req, 500, "Server Internal Error", "Retry-After: 1\r\n", NULL, 0);
    else
      on_offer(c, req, now);
  } else {
    respond(c, req, 501, "Not Implemented",
            "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE\r\n", NULL, 0);
  }
}

void cl_call_read(cl_call *c, int64_t now)
{
  static char data[CL_SIP_MAX + 1];
  static cl_sip_msg msg;
  for (;;) {
    struct sockaddr_storage from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(c->fd, data, sizeof data, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNREFUSED)
        fprintf(stderr, "siprec-client: recvfrom: %s\n", strerror(errno));
      if (errno == EINTR)
        continue;
      return;
    }
    if (c->o->verbose)
      fprintf(stderr, "--- received:\n%.*s\n", (int)n, data);
    if ((size_t)n > CL_SIP_MAX || cl_sip_parse(&msg, data, (size_t)n) != 0) {
      /* Not a keep-alive; said a few times only, a flood must not flood stderr. */
      static unsigned said;
      if (n > 4 && said < 10) {
        said++;
        fprintf(stderr, "siprec-client: dropped a datagram that is not SIP we read\n");
      }
      continue;
    }
    if (msg.is_request) {
      memcpy(&c->reply_to, &from, sizeof from);
      on_request(c, &msg, now);
    } else
      on_response(c, &msg, now);
  }
}

/* ---------------------------------------------------------------------- */
/* Time                                                                     */

void cl_call_timers(cl_call *c, int64_t now)
{
  if (c->uac.purpose != CL_UAC_NONE) {
    if (now >= c->uac.deadline) {
      cl_uac_purpose p = c->uac.purpose;
      const char *what = c->uac.proceeding ? "no final answer" : "no answer";
      char method[16];
      snprintf(method, sizeof method, "%s", c->uac.method);
      uac_clear(c);
      if (p == CL_UAC_INVITE) {
        c->status = 408; /* RFC 3261 8.1.3.1: a timeout is a 408 */
        fail(c, "%s to the INVITE", what);
      } else if (p == CL_UAC_BYE) {
        fail(c, "no answer to our BYE");
      } else if (p == CL_UAC_METADATA) {
        fprintf(stderr, "siprec-client: no answer to our metadata UPDATE\n");
      } else {
        /* RFC 3261 14.1: a re-INVITE that times out ends the dialog. */
        fail(c, "no answer to our re-INVITE");
        hangup_now(c, now);
      }
    } else if (now >= c->uac.next_retx) {
      send_raw(c, c->uac.msg, c->uac.len);
      /* INVITE: T1 doubling without a cap (timer A); others capped at T2. */
      c->uac.interval *= 2;
      if (strcmp(c->uac.method, "INVITE") != 0 && c->uac.interval > T2_MS)
        c->uac.interval = T2_MS;
      c->uac.next_retx = now + c->uac.interval;
    }
  }
  if (c->uas_2xx) {
    if (now >= c->uas_deadline) {
      c->uas_2xx = 0;
      fprintf(stderr, "siprec-client: no ACK for our 2xx to the SRS's re-INVITE\n");
    } else if (now >= c->uas_next && c->resp) {
      send_response(c, c->resp, c->resp_len);
      c->uas_interval = c->uas_interval * 2 > T2_MS ? T2_MS : c->uas_interval * 2;
      c->uas_next = now + c->uas_interval;
    }
  }
  if (c->state != CL_CALL_ESTABLISHED || c->uac.purpose != CL_UAC_NONE || c->uas_2xx)
    return;
  if (c->want_metadata) {
    c->want_metadata = 0;
    uac_start(c, CL_UAC_METADATA, "UPDATE", "Content-Disposition: recording-session\r\n",
              "application/rs-metadata+xml", c->metadata, c->metadata_len, now);
    return;
  }
  int target = c->want_paused;
  int current = c->paused;
  if (target != current && !c->pause_gave_up && now >= c->retry_at)
    reinvite(c, target, now);
}

int64_t cl_call_next_deadline(const cl_call *c)
{
  int64_t d = INT64_MAX;
  if (c->uac.purpose != CL_UAC_NONE) {
    d = c->uac.deadline;
    if (c->uac.next_retx < d)
      d = c->uac.next_retx;
  }
  if (c->uas_2xx) {
    if (c->uas_next < d)
      d = c->uas_next;
    if (c->uas_deadline < d)
      d = c->uas_deadline;
  }
  if (c->state == CL_CALL_ESTABLISHED && c->want_paused != c->paused && !c->pause_gave_up &&
      c->retry_at < d)
    d = c->retry_at;
  return d;
}

void cl_call_want_paused(cl_call *c, int paused)
{
  if (c->want_paused != paused) {
    c->want_paused = paused;
    c->pause_gave_up = 0;
  }
}

int cl_call_media_waits(const cl_call *c)
{
  if (c->state != CL_CALL_ESTABLISHED)
    return 0;
  return c->uac.purpose == CL_UAC_PAUSE || c->uac.purpose == CL_UAC_RESUME ||
         (c->want_paused != c->paused && !c->pause_gave_up);
}

void cl_call_hangup(cl_call *c, int64_t now)
{
  if (c->state == CL_CALL_ESTABLISHED && c->uac.purpose == CL_UAC_NONE)
    hangup_now(c, now);
}

int cl_call_over(const cl_call *c)
{
  return c->state == CL_CALL_DONE ||
         (c->state == CL_CALL_FAILED && c->uac.purpose != CL_UAC_BYE);
}
