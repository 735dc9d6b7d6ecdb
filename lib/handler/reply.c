/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the handler sends: responses written for a request (a simple one,
 * a 2xx with an answer), the status for a failed SDP answer, and messages it
 * originates to a session's SRC. */
#include <stdio.h>
#include <string.h>

#include "../sip/response.h"
#include "dialog.h"

int sr_handler_simple(siprec_handler *h, sr_request_ctx *rq, int status, const char *reason,
                      const char *extra)
{
  char headers[2048];
  sr_strbuf hb = sr_strbuf_on(headers, sizeof headers);
  sr_strbuf_printf(&hb, "Server: %s\r\n", h->cfg.user_agent);
  if (status == 405 || status == 501 || (status == 200 && rq->msg->method == SR_M_OPTIONS))
    sr_strbuf_str(&hb, SR_ALLOW_HEADER);
  if (status == 200 && rq->msg->method == SR_M_OPTIONS)
    sr_strbuf_str(&hb, SR_ACCEPT_HEADER SR_SUPPORTED_HEADER);
  if (extra)
    sr_strbuf_str(&hb, extra);
  char tag[SR_TAG_LEN + 1];
  const char *to_tag = NULL;
  if (status > 100 && rq->msg->to_tag.n == 0) {
    sr_handler_tag(h, tag);
    to_tag = tag;
  }
  sr_strbuf *b = &rq->out;
  sr_sip_write_response(b, rq->msg, status, reason, to_tag, 0, hb.overflow ? NULL : headers, NULL,
                        NULL, 0);
  const char *method = sr_method_name(rq->msg->method);
  const char *why = reason ? reason : sr_sip_reason(status);
  int cid_len = rq->msg->call_id.n > 128 ? 128 : (int)rq->msg->call_id.n;
  if (status >= 500)
    sr_handler_log_limited(h, SR_LOG_REFUSED, rq->now_ns, SIPREC_LOG_WARNING, "%s %.*s: %d %s",
                           method, cid_len, rq->msg->call_id.p, status, why);
  else
    sr_handler_log(h, SIPREC_LOG_DEBUG, "%s %.*s: %d %s", method, cid_len, rq->msg->call_id.p,
                   status, why);
  return b->overflow ? SIPREC_ETOOBIG : (int)b->len;
}

void sr_handler_contact(siprec_handler *h, const struct sockaddr *local,
                        siprec_transport transport, sr_strbuf *b)
{
  char addr[80];
  if (sr_addr_text(local, addr, sizeof addr, 1) < 0)
    snprintf(addr, sizeof addr, "invalid");
  static const char *const tp_param[] = { "", ";transport=tcp", ";transport=tls" };
  sr_strbuf_printf(b, "Contact: <sip:%s@%s%s>;+sip.srs\r\n",
                   h->cfg.contact_user ? h->cfg.contact_user : "srs", addr,
                   tp_param[(unsigned)transport <= SIPREC_TRANSPORT_TLS ? transport : 0]);
}

int sr_handler_answer_2xx(siprec_handler *h, sr_request_ctx *rq, const char *local_tag,
                          const char *extra, const char *answer, size_t answer_len)
{
  char headers[1024];
  sr_strbuf hb = sr_strbuf_on(headers, sizeof headers);
  sr_handler_contact(h, rq->path.local, rq->path.transport, &hb);
  sr_strbuf_printf(&hb, "Server: %s\r\n", h->cfg.user_agent);
  sr_strbuf_str(&hb, SR_ALLOW_HEADER SR_SUPPORTED_HEADER SR_ACCEPT_HEADER);
  if (extra)
    sr_strbuf_str(&hb, extra);
  if (hb.overflow)
    return SIPREC_ETOOBIG;
  sr_sip_write_response(&rq->out, rq->msg, 200, "OK", local_tag, 1, headers, "application/sdp",
                        answer, answer_len);
  return rq->out.overflow ? SIPREC_ETOOBIG : (int)rq->out.len;
}

int sr_handler_sdp_status(int rc)
{
  switch (rc) {
  case SIPREC_ENOTFOUND: return 488;
  case SIPREC_EAGAIN: return 503;
  case SIPREC_ENOMEM: return 500;
  case SIPREC_ETOOBIG: return 488;
  default: return 400;
  }
}

void sr_dialog_send(siprec_handler *h, siprec_session *s, const char *data, size_t len)
{
  if (!data || !len)
    return;
  sr_handler_count_message(h, data, len);
  siprec_path path = sr_dialog_path(&s->dialog);
  if (h->cbs.send)
    SR_CALLBACK(s, h->cbs.send(h->user, data, len, &path));
}

