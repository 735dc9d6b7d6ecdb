/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing SIP responses to a parsed request (RFC 3261 8.2.6). */
#ifndef SR_SIP_RESPONSE_H
#define SR_SIP_RESPONSE_H

#include "../common/strbuf.h"
#include "message.h"

/* Write a response to `req`: status line, the request's Via, From, To (with
 * `to_tag` added when the request's To has none and to_tag is not NULL),
 * Call-ID, CSeq, then `extra` (header lines each ending in CRLF, may be
 * NULL), Content-Type when `body` is given, Content-Length, the body. With
 * `record_route`, the request's Record-Route lines are copied (dialog-making
 * 2xx). The reason phrase is cleaned of CR/LF. Overflow shows in b->overflow. */
void sr_sip_write_response(sr_strbuf *b, const sr_sip_msg *req, int status, const char *reason,
                           const char *to_tag, int record_route, const char *extra,
                           const char *content_type, const char *body, size_t body_len);

/* The status line alone ("SIP/2.0 487 Request Terminated" and CRLF), the
 * reason cleaned of CR/LF (NULL: the standard one). */
void sr_sip_write_status_line(sr_strbuf *b, int status, const char *reason);

/* The end of any message: `extra` header lines (may be NULL), Content-Type
 * when there is a body, Content-Length, the blank line, the body. */
void sr_sip_write_tail(sr_strbuf *b, const char *extra, const char *content_type,
                       const char *body, size_t body_len);

/* The standard reason phrase of a status code ("OK", "Not Found", ...). */
const char *sr_sip_reason(int status);

#endif
