/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SIP side of tests/bench/loadgen: the few requests a SIPREC client
 * sends (INVITE with a multipart SDP + rs-metadata body, ACK, BYE), a 200
 * for the server's own requests, and just enough parsing of what comes back
 * (status, Call-ID, CSeq, To, Via, the answer's media ports). Not a SIP
 * stack: it reads the answers of siprec-server on loopback, and refuses
 * (returns -1 for) anything it cannot read rather than guessing. */
#ifndef SIPREC_BENCH_LOADGEN_SIP_H
#define SIPREC_BENCH_LOADGEN_SIP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define LG_SIP_MAX_VIA 8
#define LG_MAX_STREAMS 2 /* streams per call: two-stream G.711 calls */

/* A header value: a pointer into the parsed datagram and its length. */
typedef struct lg_span {
  const char *p;
  size_t n;
} lg_span;

typedef struct lg_sip_msg {
  int status;         /* a response's status code; 0 for a request */
  lg_span method;     /* a request's method */
  lg_span call_id;
  unsigned long cseq; /* the CSeq number */
  lg_span cseq_method;
  lg_span from, to;
  lg_span via[LG_SIP_MAX_VIA];
  int nvia;
  lg_span body; /* Content-Length bytes after the blank line */
} lg_sip_msg;

/* What a call needs to place its INVITE. */
typedef struct lg_offer {
  const char *local_ip;  /* our signalling and media address (IPv4 text) */
  uint16_t sip_port;     /* our signalling port */
  const char *server;    /* the server's host:port, for the Request-URI */
  unsigned call;         /* the call's index (goes into Call-ID and tags) */
  int pid;               /* makes Call-IDs unique across runs */
  uint16_t media_port[LG_MAX_STREAMS];
  const char *crypto[LG_MAX_STREAMS]; /* base64 SDES key per stream, NULL for RTP/AVP */
} lg_offer;

/* The media an SDP answer accepted: per m-line in order, the address and
 * port to send to (port 0: declined). */
typedef struct lg_answer {
  int nstreams;
  struct sockaddr_in dest[LG_MAX_STREAMS];
} lg_answer;

/* Parse one datagram. 0, or -1 when it is not a SIP message this reads. */
int lg_sip_parse(const char *buf, size_t len, lg_sip_msg *m);

/* The call index from a Call-ID this generator made ("lg-PID-CALL@..."),
 * or -1 when it is not one of ours (another run's, or garbage). */
long lg_sip_call_of(const lg_span *call_id, int pid);

/* Read an SDP answer's m=audio lines and their c= address (media-level
 * over session-level). 0, or -1 when it has no usable IPv4 media. */
int lg_sdp_answer(const lg_span *body, lg_answer *a);

/* Writers: each returns the length written, or 0 when `cap` is too small. */
size_t lg_sip_invite(char *buf, size_t cap, const lg_offer *o, const char *branch);
/* ACK (for a 2xx: a new branch; for a failure: the INVITE's branch) and
 * BYE, within the dialog whose To (with the server's tag) is `to`. */
size_t lg_sip_in_dialog(char *buf, size_t cap, const lg_offer *o, const char *method,
                        unsigned long cseq, const char *branch, const lg_span *to);
/* A final response to a request of the server's, echoing its Via, From, To,
 * Call-ID and CSeq. */
size_t lg_sip_response(char *buf, size_t cap, const lg_sip_msg *req, int status,
                       const char *reason);

/* base64 of n bytes into out (4*ceil(n/3)+1 bytes), NUL-terminated. */
void lg_base64(const uint8_t *in, size_t n, char *out);

#endif
