/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the handler's method files share. */
#ifndef SR_HANDLER_DIALOG_H
#define SR_HANDLER_DIALOG_H

#include "../common/strbuf.h"
#include "handler_internal.h"

/* One request being handled: the parsed message, where it came from, and
 * the caller's response buffer. */
typedef struct sr_request_ctx {
  const sr_sip_msg *msg;
  siprec_transport transport;
  const struct sockaddr *remote;
  const struct sockaddr *local;
  uint64_t conn_id;
  uint64_t now_ns;
  sr_strbuf out;
} sr_request_ctx;

/* A response without a body (a To-tag is made up when needed). Returns the
 * response length or SIPREC_ETOOBIG. */
int sr_handler_simple(siprec_handler *h, sr_request_ctx *rq, int status, const char *reason,
                      const char *extra);

int sr_handler_port_alloc(siprec_handler *h, const siprec_session *s, size_t index, uint16_t *port);
void sr_handler_port_free(siprec_handler *h, uint16_t port);
void sr_handler_release_ports(siprec_handler *h, const sr_sdp_stream *streams, size_t n);

/* sr_sdp_config's port callback; user is { siprec_handler *, siprec_session * }. */
int sr_handler_port_cb(void *user, size_t index, const sr_sdp_stream *stream, uint16_t *port);

/* The SDP config for answering an offer in session `s`. */
void sr_handler_sdp_config(siprec_handler *h, siprec_session *s, const struct sockaddr *local,
                           sr_sdp_config *cfg, char *addr_buf, size_t addr_size);

/* Split an INVITE/UPDATE body into its SDP and metadata parts. Returns 0,
 * or a status code (400, 415) with *why set. */
int sr_handler_body(const sr_sip_msg *m, sr_span *sdp, sr_span *metadata, const char **why);

/* Write the 2xx carrying `answer` for the request in rq (Contact with
 * +sip.srs, Record-Route copied, To-tag `local_tag`). */
int sr_handler_answer_2xx(siprec_handler *h, sr_request_ctx *rq, const char *local_tag,
                          const char *answer, size_t answer_len);

/* The session with this Call-ID, with a reference the caller drops, or NULL. */
siprec_session *sr_handler_find(siprec_handler *h, const sr_span *call_id);

/* Streams offered in the 2xx to an INVITE without SDP: the two sides of the
 * recorded call. */
#define SR_DELAYED_OFFER_STREAMS 2

int sr_invite_new(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_reinvite(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_ack(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_bye(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_cancel(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_options(siprec_handler *h, sr_request_ctx *rq);

/* End a session (its lock held): the ended callback, a BYE to the SRC when
 * `send_bye`, ports released, out of the map and the timer list. */
void sr_dialog_end(siprec_handler *h, siprec_session *s, siprec_end_reason reason, int send_bye);

/* The 2xx of `s` waits for its ACK: (re)arm its timers. */
void sr_dialog_arm_ack_timer(siprec_handler *h, siprec_session *s, uint64_t now_ns);

#endif
