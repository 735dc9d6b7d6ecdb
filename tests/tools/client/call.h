/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* siprec-client's SIP side over UDP: the recording INVITE and its ACK, one
 * client transaction at a time after it (the client's pause and resume
 * re-INVITEs, a metadata snapshot UPDATE, the BYE), each retransmitted per
 * RFC 3261 (T1 doubling, T2 cap, 64*T1 timeout), and a UAS for what the SRS
 * sends in the dialog (OPTIONS, re-INVITE, UPDATE, BYE), whose SDP moves
 * the streams. Sans threads: the caller's loop feeds datagrams and time. */
#ifndef CL_CALL_H
#define CL_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "opts.h"
#include "stream.h"
#include "util.h"

typedef enum {
  CL_CALL_INVITING,
  CL_CALL_ESTABLISHED,
  CL_CALL_ENDING, /* our BYE sent */
  CL_CALL_DONE,   /* ended by a BYE, ours answered or the SRS's */
  CL_CALL_FAILED,
} cl_call_state;

typedef enum { CL_UAC_NONE, CL_UAC_INVITE, CL_UAC_PAUSE, CL_UAC_RESUME, CL_UAC_METADATA, CL_UAC_BYE } cl_uac_purpose;

typedef struct cl_uac {
  cl_uac_purpose purpose;
  char method[16];
  uint32_t cseq;
  char branch[40];
  char *msg;
  size_t len;
  int64_t next_retx, interval, deadline;
  int proceeding;
} cl_uac;

typedef struct cl_call {
  const cl_opts *o;
  cl_stream *streams;
  size_t n;
  int fd;
  struct sockaddr_storage local;
  char host[72];  /* the local address as in a URI */
  char media_addr[64];
  char call_id[128], local_tag[24], remote_tag[128];
  char from_uri[320], to_uri[320], remote_target[512], contact[320];
  /* The dialog's route set as our requests carry it: the 2xx's
   * Record-Route entries reversed, one "Route: <uri>\r\n" line each (RFC
   * 3261 12.1.2); empty without Record-Route. */
  char route_set[4096];
  uint32_t local_cseq, remote_cseq;
  int have_remote_cseq;
  cl_rng rng;
  cl_uac uac;

  char *ack; /* the ACK of the last 2xx, sent again to its retransmissions */
  size_t ack_len;
  uint32_t ack_cseq;

  char *resp; /* the last response sent, sent again to a retransmitted request */
  size_t resp_len;
  uint32_t resp_cseq;
  char resp_method[32];
  /* Where responses go: the source of the request they answer (RFC 3261
   * 18.2.2), which after a take-over is the new node, or its proxy. */
  struct sockaddr_storage reply_to;
  int uas_2xx; /* our 2xx to the SRS's INVITE awaits its ACK */
  int uas_offerless; /* that 2xx carried our offer: the ACK has the answer */
  int64_t uas_next, uas_interval, uas_deadline;

  char *metadata;
  size_t metadata_len;
  uint64_t sdp_id, sdp_version;
  char last_sdp[8192];

  int paused;        /* ours: no media sent (from the pause offer on) */
  int want_paused;   /* what the caller asked */
  int pause_gave_up; /* the SRS refused: stop asking */
  int64_t retry_at;  /* after a 491, the re-INVITE waits until then */
  int want_metadata; /* the SRS asked for a snapshot */

  cl_call_state state;
  int status; /* the INVITE's final status */
  const char *bye; /* "sent", "received" or NULL */
  int bye_status;  /* the final status of our BYE, 0 without one */
  unsigned reinvites_answered, updates_answered, options_answered;
  int64_t answer_deadline;
  char error[256];
} cl_call;

/* Bind the SIP socket, draw the identifiers, write the metadata. 0 or -1. */
int cl_call_init(cl_call *c, const cl_opts *o, cl_stream *streams, size_t n);
void cl_call_free(cl_call *c);
/* Send the INVITE. 0 or -1. */
int cl_call_start(cl_call *c, int64_t now);
/* Read every datagram waiting on the socket. */
void cl_call_read(cl_call *c, int64_t now);
/* Retransmissions, timeouts, and a waiting re-INVITE or UPDATE. */
void cl_call_timers(cl_call *c, int64_t now);
int64_t cl_call_next_deadline(const cl_call *c);
/* Ask for media paused or not: the re-INVITE goes when it may. */
void cl_call_want_paused(cl_call *c, int paused);
/* Whether the media clock waits for the pause or resume to settle. */
int cl_call_media_waits(const cl_call *c);
/* End the call with a BYE once no other client transaction is open. */
void cl_call_hangup(cl_call *c, int64_t now);
int cl_call_over(const cl_call *c);

#endif
