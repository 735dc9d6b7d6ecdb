/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's SIP transactions (RFC 3261 17) as plain state: the INVITE
 * server transaction, the non-INVITE server transaction that absorbs copies
 * of a request already answered, and the client transaction of a request
 * the SRS sends. Each is a struct (owned strings, no pointers into message
 * buffers) plus functions of (state, event, now) that say what to do: send
 * again, give up, and when it next falls due. Sending, and what giving up
 * means, are the caller's. Times are the host's clock in ns. */
#ifndef SR_SIP_TRANSACTION_H
#define SR_SIP_TRANSACTION_H

#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

#include "dialog.h"
#include "message.h"

/* What a transaction that falls due asks for. */
typedef enum sr_tx_do {
  SR_TX_WAIT = 0, /* nothing due */
  SR_TX_SEND,     /* send its message again (the schedule moved on) */
  SR_TX_HOLD,     /* a retransmission was due, but its byte budget is spent:
                   * nothing sent, silent until it times out */
  SR_TX_GIVE_UP,  /* it timed out */
} sr_tx_do;

/* RFC 3261's T1 and T2. */
typedef struct sr_tx_timers {
  uint64_t t1, t2;
} sr_tx_timers;

/* ---------------------------------------------------------------------- */
/* The INVITE server transaction: a final response waits for its ACK, or,
 * deferred, for the host's decision. */
typedef struct sr_invite_tx {
  char *branch;          /* top Via branch of the INVITE */
  uint32_t cseq;
  uint32_t settled_cseq; /* an INVITE whose 2xx a later INVITE settled: its late ACK is not
                          * the ACK of the next 2xx (0: none) */
  char *echo;            /* Via..CSeq lines for a final response written later (deferred) */
  char *response;        /* the final response as sent (or to send), for retransmissions */
  size_t response_len;
  int active;            /* the final response is out and waits for its ACK */
  int cancelled;         /* deferred: a CANCEL came; the 487 goes out when it falls due */
  uint64_t retx_at, interval, deadline;
  size_t budget;         /* bytes the final response may still be retransmitted with (a
                          * flood's share; SIZE_MAX: RFC 3261's full schedule) */
} sr_invite_tx;

/* A fresh transaction: no budget limit. */
void sr_invite_tx_init(sr_invite_tx *t);
void sr_invite_tx_release(sr_invite_tx *t, const siprec_allocator *mem);

/* The final response went out at `now`: it waits for its ACK, retransmitted
 * (unreliable transports) from T1 on, for 64*T1 (Timer H / L). */
void sr_invite_tx_arm(sr_invite_tx *t, const sr_tx_timers *tm, uint64_t now);

/* Deferred: the host decides until `until`. A CANCEL brings that to `now`
 * (1 when it was the first CANCEL). */
void sr_invite_tx_defer(sr_invite_tx *t, uint64_t until);
int sr_invite_tx_cancel(sr_invite_tx *t, uint64_t now);

/* Its first send of the final response spent `len` bytes of the budget. */
void sr_invite_tx_charge(sr_invite_tx *t, size_t len);

/* When the armed transaction next falls due: its timeout, and over an
 * unreliable transport its next retransmission. */
uint64_t sr_invite_tx_next(const sr_invite_tx *t, int reliable);

/* It falls due at `now`: GIVE_UP at its timeout; SEND when a retransmission
 * is due (interval doubled up to T2, the budget charged), HOLD when the
 * budget cannot pay for it; WAIT otherwise. */
sr_tx_do sr_invite_tx_due(sr_invite_tx *t, int reliable, const sr_tx_timers *tm, uint64_t now);

/* The ACK (or a later INVITE) showed the 2xx arrived: over, its response
 * dropped; the branch stays so later copies of the INVITE are absorbed. */
void sr_invite_tx_settle(sr_invite_tx *t, const siprec_allocator *mem);

/* The request's top Via branch is this INVITE's. */
int sr_invite_tx_is_branch(const sr_invite_tx *t, const sr_sip_msg *m);

/* ACK matching, with `waits_2xx` saying whether the armed response is a
 * 2xx of an established dialog: an in-dialog ACK is the one the waiting
 * 2xx needs whatever its CSeq (some SBCs number ACKs on their own), except
 * the late ACK of a 2xx a later INVITE settled; a new INVITE with a higher
 * CSeq than the one whose 2xx waits shows that 2xx arrived. */
int sr_invite_tx_acks_2xx(const sr_invite_tx *t, int waits_2xx, uint32_t ack_cseq);
int sr_invite_tx_settled_by(const sr_invite_tx *t, int waits_2xx, uint32_t invite_cseq);

/* ---------------------------------------------------------------------- */
/* The non-INVITE server transaction of a request answered with a final
 * response that copies of it must get again (the SRC's BYE over UDP):
 * completed, it absorbs them until Timer J (64*T1). */
typedef struct sr_request_tx {
  uint32_t cseq;
  char *response; /* owned */
  size_t response_len;
  uint64_t deadline;
} sr_request_tx;

void sr_request_tx_release(sr_request_tx *t, const siprec_allocator *mem);

/* Completed at `now` with `response` (0 or SIPREC_ENOMEM). */
int sr_request_tx_complete(sr_request_tx *t, const siprec_allocator *mem, uint32_t cseq,
                           const char *response, size_t len, const sr_tx_timers *tm, uint64_t now);

/* A copy of the request (same CSeq) gets the same response. */
int sr_request_tx_is_copy(const sr_request_tx *t, uint32_t cseq);

/* Timer J: when it falls due, and GIVE_UP once it is over. */
uint64_t sr_request_tx_next(const sr_request_tx *t);
sr_tx_do sr_request_tx_due(const sr_request_tx *t, uint64_t now);

/* ---------------------------------------------------------------------- */
/* The client transaction of a request the SRS sends (BYE, OPTIONS,
 * UPDATE): retransmitted over unreliable transports from T1 on, doubling to
 * T2 (at T2 after a provisional), given up at Timer F (64*T1). An INVITE
 * (`invite` set, RFC 3261 17.1.1.2) doubles without the T2 cap until any
 * response, and is given up at Timer B (64*T1); after a provisional it is
 * no longer retransmitted and waits for its final response 64*T1 from the
 * last provisional (a UAC's Timer C stand-in: an SRC that never answers
 * does not hold the session's one request for ever). */
typedef struct sr_client_tx {
  int purpose; /* the owner's name for what it is for; 0: none outstanding */
  int invite;  /* an INVITE client transaction (set before sr_client_tx_start) */
  char *request; /* owned */
  size_t request_len;
  uint32_t cseq;
  char branch[SR_TAG_LEN + 1]; /* after the z9hG4bK prefix */
  uint64_t retx_at, interval, deadline;
} sr_client_tx;

void sr_client_tx_release(sr_client_tx *t, const siprec_allocator *mem);

/* The request (request/request_len/cseq/branch already set) was sent at `now`. */
void sr_client_tx_start(sr_client_tx *t, int purpose, const sr_tx_timers *tm, uint64_t now);

/* Over (answered or given up): none outstanding, the request dropped. */
void sr_client_tx_clear(sr_client_tx *t, const siprec_allocator *mem);

/* A response is this transaction's: its CSeq, method and branch. */
int sr_client_tx_matches(const sr_client_tx *t, const sr_sip_msg *m, const char *method);

/* A provisional response came: retransmit at T2 from now (RFC 3261
 * 17.1.2.2); an INVITE stops retransmitting (17.1.1.2, Proceeding). */
void sr_client_tx_provisional(sr_client_tx *t, const sr_tx_timers *tm, uint64_t now);

/* When it next falls due (UINT64_MAX: none outstanding), and what is due
 * at `now`: GIVE_UP (Timer F), SEND, or WAIT. */
uint64_t sr_client_tx_next(const sr_client_tx *t, int reliable);
sr_tx_do sr_client_tx_due(sr_client_tx *t, int reliable, const sr_tx_timers *tm, uint64_t now);

/* ---------------------------------------------------------------------- */
/* The ACK the SRS sent for a final response to its own INVITE, kept so
 * that each retransmission of that response gets it again: for a 2xx, the
 * ACK is end to end and the 2xx may come again for 64*T1 (RFC 3261
 * 13.2.2.4); for a non-2xx, the ACK is hop by hop and Timer D (32 s over
 * UDP, at least 64*T1) covers the copies (17.1.1.3). */
typedef struct sr_ack_tx {
  char *ack; /* owned; NULL: none kept */
  size_t ack_len;
  uint32_t cseq;                /* the INVITE's */
  char branch[SR_TAG_LEN + 1];  /* the INVITE's branch, after z9hG4bK */
  uint64_t deadline;
} sr_ack_tx;

void sr_ack_tx_release(sr_ack_tx *t, const siprec_allocator *mem);

/* Keep `ack` (0 or SIPREC_ENOMEM: then none is kept) for the INVITE of
 * `cseq` and `branch`, from `now` on. */
int sr_ack_tx_keep(sr_ack_tx *t, const siprec_allocator *mem, const char *ack, size_t len,
                   uint32_t cseq, const char branch[SR_TAG_LEN + 1], const sr_tx_timers *tm,
                   uint64_t now);

/* A response (a final one) is a copy of the one the kept ACK answered. */
int sr_ack_tx_matches(const sr_ack_tx *t, const sr_sip_msg *m);

/* When the kept ACK is dropped (UINT64_MAX: none kept); GIVE_UP once due. */
uint64_t sr_ack_tx_next(const sr_ack_tx *t);
sr_tx_do sr_ack_tx_due(const sr_ack_tx *t, uint64_t now);

#endif
