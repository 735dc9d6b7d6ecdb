/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "response.h"

#include <string.h>

const char *sr_sip_reason(int status)
{
  switch (status) {
  case 100: return "Trying";
  case 180: return "Ringing";
  case 200: return "OK";
  case 400: return "Bad Request";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 415: return "Unsupported Media Type";
  case 406: return "Not Acceptable";
  case 416: return "Unsupported URI Scheme";
  case 420: return "Bad Extension";
  case 422: return "Session Interval Too Small";
  case 481: return "Call/Transaction Does Not Exist";
  case 482: return "Loop Detected";
  case 483: return "Too Many Hops";
  case 486: return "Busy Here";
  case 487: return "Request Terminated";
  case 488: return "Not Acceptable Here";
  case 491: return "Request Pending";
  case 500: return "Server Internal Error";
  case 501: return "Not Implemented";
  case 503: return "Service Unavailable";
  case 505: return "Version Not Supported";
  case 513: return "Message Too Large";
  default:
    return status < 200 ? "Trying" : status < 300 ? "OK" : status < 500 ? "Request Failed"
                                                                     : "Server Error";
  }
}

void sr_sip_write_status_line(sr_strbuf *b, int status, const char *reason)
{
  sr_strbuf_printf(b, "SIP/2.0 %03d ", status);
  for (const char *r = reason ? reason : sr_sip_reason(status); *r; r++) {
    char c = (*r == '\r' || *r == '\n') ? ' ' : *r;
    sr_strbuf_add(b, &c, 1);
  }
  sr_strbuf_str(b, "\r\n");
}

void sr_sip_write_tail(sr_strbuf *b, const char *extra, const char *content_type,
                       const char *body, size_t body_len)
{
  if (extra)
    sr_strbuf_str(b, extra);
  if (body && content_type)
    sr_strbuf_printf(b, "Content-Type: %s\r\n", content_type);
  sr_strbuf_printf(b, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
  if (body)
    sr_strbuf_add(b, body, body_len);
}

void sr_sip_write_response(sr_strbuf *b, const sr_sip_msg *req, int status, const char *reason,
                           const char *to_tag, int record_route, const char *extra,
                           const char *content_type, const char *body, size_t body_len)
{
  sr_sip_write_status_line(b, status, reason);
  sr_strbuf_add(b, req->echo_via.p, req->echo_via.n);
  sr_strbuf_add(b, req->echo_from.p, req->echo_from.n);
  /* A request without a To (a 400 for it) gets none back, not a bare tag. */
  if (req->echo_to.n) {
    sr_strbuf_add(b, req->echo_to.p, req->echo_to.n);
    if (req->to_tag.n == 0 && to_tag)
      sr_strbuf_printf(b, ";tag=%s", to_tag);
    sr_strbuf_str(b, "\r\n");
  }
  sr_strbuf_add(b, req->echo_call_id.p, req->echo_call_id.n);
  sr_strbuf_add(b, req->echo_cseq.p, req->echo_cseq.n);
  if (record_route)
    sr_strbuf_add(b, req->echo_record_route.p, req->echo_record_route.n);
  sr_sip_write_tail(b, extra, content_type, body, body_len);
}
