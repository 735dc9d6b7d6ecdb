/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One recorded stream of siprec-client: its audio at the codec's rate, its
 * encoder, its UDP sockets, the RTP (SRTP with --srtp) it sends to wherever
 * the SDP said, the loss and reordering it plays, RTCP sender reports, and
 * the payload and reference-decode files. */
#ifndef CL_STREAM_H
#define CL_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "codec.h"
#include "opts.h"
#include "sdp.h"
#include "util.h"

typedef struct cl_stream {
  const cl_stream_opt *opt;
  const cl_codec *codec;
  int16_t *pcm; /* the file at the codec's rate */
  size_t n, pos;
  int finished; /* every sample sent (or skipped) */
  cl_encoder *enc;
  cl_decoder *dec;
  FILE *payloads, *decoded;

  int family;
  double loss_pct, reorder_pct;
  int rtp_fd, rtcp_fd; /* rtcp_fd: -1 without --rtcp */
  unsigned port, rtcp_port;

  /* Where the SDP says to send, and whether it lets us. */
  struct sockaddr_storage dest, rtcp_dest;
  int have_dest;
  int rejected;        /* port 0 in the answer */
  int remote_inactive; /* the SRS's side says inactive (or sendonly) */
  char remote_crypto[256];

  uint32_t ssrc, ts;
  uint16_t seq;
  int marker; /* the next packet sent starts a talkspurt */
  cl_rng net; /* loss and reordering */
  uint8_t held[1600];
  size_t held_len;
  int holding;

  uint64_t packets, bytes, lost, reordered, encoded; /* bytes: RTP payload octets */
  uint64_t rtcp_sent;

  int srtp_on;
  void *srtp; /* srtp_t */
  uint8_t key[30];
  char key_b64[41];
} cl_stream;

/* Load and resample the file, make the encoder, bind the sockets on the
 * local address (port 0), draw SSRC, sequence, timestamp and key from seed,
 * open the output files. 0, or -1 with a message on stderr. */
int cl_stream_open(cl_stream *s, const cl_stream_opt *opt, const cl_opts *o, unsigned index);
void cl_stream_close(cl_stream *s);

/* What the SRS's SDP (an answer, or its own offer) says for this stream:
 * address and ports, direction, crypto. offered_mux: whether ours carried
 * a=rtcp-mux. 0, or -1 when the line cannot be used (a message on stderr). */
int cl_stream_remote(cl_stream *s, const cl_sdp_media *m, int offered_mux);

/* Whether a packet now would go out. */
int cl_stream_can_send(const cl_stream *s);

/* One 20 ms packet: encoded and sent when send is true (through loss and
 * reordering), else the audio is skipped (a pause keeps the clock). */
void cl_stream_tick(cl_stream *s, int send);
/* Send the packet held back for reordering, if any. */
void cl_stream_flush(cl_stream *s);
/* An RTCP sender report with SDES CNAME (and BYE when bye), when the stream
 * has an RTCP socket and a destination. */
void cl_stream_rtcp(cl_stream *s, int bye);

#endif
