/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The media side of tests/bench/loadgen: 20 ms PCMU streams (160-byte
 * payloads, each stream its own SSRC, random first sequence number and
 * timestamp), optionally SRTP (AES_CM_128_HMAC_SHA1_80, a libsrtp2 context
 * per stream), sent with sendmmsg.
 *
 * Pacing: time is cut into 1 ms ticks and stream i sends on the ticks
 * congruent to i modulo LG_SLOTS (20), so the packets of all streams are
 * spread evenly over each 20 ms instead of leaving in one burst (calls
 * start at random moments on a real network). One tick's packets go out in
 * as few sendmmsg calls as the sockets allow.
 *
 * Sockets: every stream keeps one source IP:port for its whole life (the
 * server latches each stream to its first source). With per_socket 1 each
 * stream has a socket (and port) of its own, as an SBC sends; with K > 1
 * the K streams of a tick share one socket, so one sendmmsg carries K
 * packets (each stream still always from the same port, to its own server
 * port). */
#ifndef SIPREC_BENCH_LOADGEN_RTP_H
#define SIPREC_BENCH_LOADGEN_RTP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define LG_SLOTS 20        /* ticks per packet interval */
#define LG_TICK_NS 1000000 /* 1 ms */
#define LG_PAYLOAD 160     /* 20 ms of 8 kHz G.711 */
#define LG_KEY_B64 41      /* 30-byte SDES key+salt in base64, NUL-terminated */

typedef struct lg_stream lg_stream;

typedef struct lg_media {
  size_t nstreams;
  lg_stream *st;
  int *fds; /* by socket index; -1 where no stream uses it */
  size_t nfds, open_fds;
  unsigned per_socket;
  int srtp;
  /* One tick's batch. */
  struct mmsghdr *msgs;
  struct iovec *iov;
  uint8_t *bufs;
  size_t batch_cap;
  /* Totals. */
  uint64_t sent, send_errors, sendmmsg_calls;
  size_t active;
} lg_media;

/* Open the sockets of `nstreams` streams on local_ip (ephemeral ports),
 * and with `srtp` a key per stream. 0, or -1 with a message on stderr. */
int lg_media_open(lg_media *m, size_t nstreams, unsigned per_socket, const char *local_ip,
                  int srtp);
void lg_media_close(lg_media *m);

/* The source port of stream i (what its m-line offers). */
uint16_t lg_media_port(const lg_media *m, size_t i);
/* Stream i's SDES key in base64 (NULL without SRTP). */
const char *lg_media_key(const lg_media *m, size_t i);

/* Begin sending stream i to dest (from its next tick on); stop it. */
int lg_media_start(lg_media *m, size_t i, const struct sockaddr_in *dest);
void lg_media_stop(lg_media *m, size_t i);

/* Send the packets of tick `tick`: the active streams of its slot. Returns
 * how many it sent. */
size_t lg_media_tick(lg_media *m, uint64_t tick);

/* Whether this build can protect SRTP. */
int lg_media_srtp_available(void);

#endif
