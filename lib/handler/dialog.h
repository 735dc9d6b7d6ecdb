/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the handler's files share, in the order calls go: the entry point
 * (handler.c) dispatches to the method handlers (invite.c, reinvite.c,
 * dialog.c, uac_response.c; host.c and expire.c are entry points of their
 * own), and these use the shared pieces below them. No piece calls back up. */
#ifndef SR_HANDLER_DIALOG_H
#define SR_HANDLER_DIALOG_H

#include "../common/strbuf.h"
#include "handler_internal.h"

/* One request being handled: the parsed message, where it came from, and
 * the caller's response buffer. */
typedef struct sr_request_ctx {
  const sr_sip_msg *msg;
  siprec_path path; /* where it came from */
  uint64_t now_ns;
  size_t len; /* of the request as received */
  sr_strbuf out;
  int absent;  /* siprec_handler_process_absent(): the host's store has no state for it */
  int wanted;  /* out holds the Call-ID whose state is wanted (SIPREC_PROCESS_STATE_WANTED) */
} sr_request_ctx;

/* A request for a dialog the handler does not hold: with snapshots on (and
 * the store not already asked), its Call-ID goes into rq->out and the
 * host is asked for the state (1 returned, rq->wanted set); else 0. */
int sr_dialog_state_wanted(siprec_handler *h, sr_request_ctx *rq);

/* Streams offered in the 2xx to an INVITE without SDP: the two sides of the
 * recorded call. */
#define SR_DELAYED_OFFER_STREAMS 2

/* Run a host callback about session `s` (NULL: none in particular),
 * marking it so host requests from inside it get SIPREC_EBUSY. */
#define SR_CALLBACK(s, call)                                                                       \
  do {                                                                                             \
    const void *sr_prev_cb_ = sr_in_callback;                                            \
    sr_in_callback = (s);                                                                          \
    call;                                                                                          \
    sr_in_callback = sr_prev_cb_;                                                                  \
  } while (0)

/* ---------------------------------------------------------------------- */
/* Method handlers (called from handler.c's dispatch)                       */

/* invite.c: a new INVITE. */
int sr_invite_new(siprec_handler *h, sr_request_ctx *rq);
/* reinvite.c: a re-INVITE or UPDATE; dialog.c: the other requests inside a dialog. */
int sr_dialog_reinvite(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_ack(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_bye(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_cancel(siprec_handler *h, sr_request_ctx *rq);
int sr_dialog_options(siprec_handler *h, sr_request_ctx *rq);
/* dialog.c, for reinvite.c: the session whose dialog takes the request
 * (locked, with a reference; NULL with the 481 written), and done with it
 * (its timers follow its state); whether a 2xx of it waits for an ACK that
 * would confirm the dialog; the 2xx that waited arrived. */
siprec_session *sr_dialog_lookup(siprec_handler *h, sr_request_ctx *rq, int *rc);
void sr_dialog_done(siprec_handler *h, siprec_session *s, uint64_t now);
int sr_dialog_up(const siprec_session *s);
void sr_dialog_settle_2xx(siprec_handler *h, siprec_session *s, uint64_t now);
/* uac_response.c: a response the host fed in, for a request of the SRS. */
int sr_uac_response(siprec_handler *h, const sr_sip_msg *m, uint64_t now);

/* invite.c, for host.c: a deferred session (PENDING, its lock held) the
 * host accepts: its 2xx goes out, the started callback runs. */
int sr_invite_accept(siprec_handler *h, siprec_session *s, uint64_t now);

/* ---------------------------------------------------------------------- */
/* Ending a session (end.c)                                                 */

/* A deferred session refused with a final non-2xx response (ended
 * callback with `end`; the session stays, REJECTED, until that response's
 * ACK or Timer H). The response goes into `out`, or through the send
 * callback when `out` is NULL. */
void sr_invite_reject(siprec_handler *h, siprec_session *s, int status, const char *reason,
                      const char *extra, siprec_end_reason end, uint64_t now, sr_strbuf *out);

/* End a session (its lock held): the ended callback, a BYE to the SRC when
 * `send_bye` and the SRC ever ACKed (never to an unconfirmed dialog), ports
 * released, out of the map and the timer heap (over UDP, once the BYE is
 * answered: CLOSING until then; `now` 0: at once). */
void sr_dialog_end(siprec_handler *h, siprec_session *s, siprec_end_reason reason, int send_bye,
                   uint64_t now);

/* A session's last transaction is over: out of the map and the heap. */
void sr_dialog_forget(siprec_handler *h, siprec_session *s);

/* What every end shares (its lock held): the ended callback, counters,
 * ports and the source's slot given back. */
void sr_session_finish(siprec_handler *h, siprec_session *s, siprec_end_reason reason);

/* Let a live session go without a BYE (SIPREC_END_HANDOVER), its snapshot
 * kept in the host's store; `emit`: write it once more first (handler.c). */
void sr_session_hand_over(siprec_handler *h, siprec_session *s, uint64_t now, int emit);

/* A final response to an INVITE of `s` waits for its ACK from `now` on:
 * retransmissions (UDP) and the 64*T1 limit, in the timer heap. */
void sr_dialog_arm_tx(siprec_handler *h, siprec_session *s, uint64_t now);

/* ---------------------------------------------------------------------- */
/* Requests of the SRS (uac.c)                                              */

/* sr_uac_start sends an in-dialog request as the session's client
 * transaction (SIPREC_EAGAIN while another is pending); sr_uac_send_bye
 * sends the BYE (1: retransmitted until answered, the session CLOSING). */
int sr_uac_send_bye(siprec_handler *h, siprec_session *s, uint64_t now);
int sr_uac_start(siprec_handler *h, siprec_session *s, sr_uac_purpose purpose, uint64_t now);

/* ---------------------------------------------------------------------- */
/* The SRS's re-INVITE (reoffer.c)                                          */

/* Its offer into out (the session's SDP version moves on when written):
 * the length or a negative SIPREC_E* code. */
int sr_reoffer_body(siprec_handler *h, siprec_session *s, char *out, size_t size);
/* The SRC's final response `m` to it (the session's client transaction,
 * cleared here): ACKed and the ACK kept; a 2xx's answer applied (updated
 * callback), a 491 retried later, any other leaves the session as it was.
 * 1 when the session should end (no stream left, or 481/408). */
int sr_reoffer_final(siprec_handler *h, siprec_session *s, const sr_sip_msg *m, uint64_t now);
/* A copy of the final response the kept ACK answered gets it again: 1. */
int sr_reoffer_copy(siprec_handler *h, siprec_session *s, const sr_sip_msg *m);

/* ---------------------------------------------------------------------- */
/* What goes out (reply.c)                                                  */

/* A response without a body (a To-tag is made up when needed). Returns the
 * response length or SIPREC_ETOOBIG. */
int sr_handler_simple(siprec_handler *h, sr_request_ctx *rq, int status, const char *reason,
                      const char *extra);

/* Write the 2xx carrying `answer` for the request in rq (Contact with
 * +sip.srs, Record-Route copied, To-tag `local_tag`, then `extra` header
 * lines or NULL). */
int sr_handler_answer_2xx(siprec_handler *h, sr_request_ctx *rq, const char *local_tag,
                          const char *extra, const char *answer, size_t answer_len);

/* The SRS's Contact line (with +sip.srs) for `local` over `transport`. */
void sr_handler_contact(siprec_handler *h, const struct sockaddr *local,
                        siprec_transport transport, sr_strbuf *b);

/* The status that answers a failed SDP answer or offer (its SIPREC_E* code). */
int sr_handler_sdp_status(int rc);

/* Send something the handler originated to the session's SRC. */
void sr_dialog_send(siprec_handler *h, siprec_session *s, const char *data, size_t len);

/* ---------------------------------------------------------------------- */
/* Bodies (body.c)                                                          */

/* Split an INVITE/UPDATE body into its SDP and metadata parts. Returns 0,
 * or a status code (400, 415) with *why set. */
int sr_handler_body(const sr_sip_msg *m, sr_span *sdp, sr_span *metadata, const char **why);

/* The SDP config for answering an offer in session `s`, ports from the
 * handler's source; `port_ctx` is the caller's storage for that source's
 * context and must live as long as `cfg`. */
void sr_handler_sdp_config(siprec_handler *h, siprec_session *s, const struct sockaddr *local,
                           sr_sdp_config *cfg, char *addr_buf, size_t addr_size,
                           void *port_ctx[2]);

/* sr_session_apply_metadata() with the handler's limits, logging an update
 * the merged model's limits refused (the call goes on with the previous
 * model). 0 or SIPREC_ENOMEM. */
int sr_handler_apply_metadata(siprec_handler *h, siprec_session *s, sr_span metadata,
                              int *changed);

/* ---------------------------------------------------------------------- */
/* Ports (ports.c)                                                          */

/* Receive ports of session `s` (stream `index`): the host's callbacks or
 * the built-in pool. */
int sr_handler_port_alloc(siprec_handler *h, siprec_session *s, size_t index, uint16_t *port);
/* Port `port` for stream `index` again (a restored session): 0, or
 * SIPREC_EAGAIN when it is taken (or the port callback gave another). */
int sr_handler_port_claim(siprec_handler *h, siprec_session *s, size_t index, uint16_t port);
void sr_handler_port_free(siprec_handler *h, siprec_session *s, size_t index, uint16_t port);
void sr_handler_release_ports(siprec_handler *h, siprec_session *s, const sr_sdp_stream *streams,
                              size_t n);
/* The ports one answer handed out (new_port), back after it failed. */
void sr_handler_release_new_ports(siprec_handler *h, siprec_session *s,
                                  const sr_sdp_stream *streams, size_t n);

/* ---------------------------------------------------------------------- */
/* Stream changes (changes.c)                                               */

/* The stream changes between two answers: per-stream siprec_change bits
 * into per_stream[0..n) and their OR, plus STREAMS_REMOVED for old streams
 * no new one continues. */
unsigned sr_streams_diff(const sr_sdp_stream *old, size_t n_old, const sr_sdp_stream *next,
                         size_t n, uint8_t *per_stream);

/* ---------------------------------------------------------------------- */
/* Base (base.c)                                                            */

/* The session with this Call-ID, with a reference the caller drops, or NULL. */
siprec_session *sr_handler_find(siprec_handler *h, const sr_span *call_id);

#endif
