/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client's SDP: its offers and answers (one sendonly m=audio per
 * stream, a=label, SDES a=crypto with --srtp) and the SRS's SDP read back
 * (each m-line's port, address, direction, payload types, a=crypto,
 * a=rtcp-mux, a=rtcp). */
#ifndef CL_SDP_H
#define CL_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "codec.h"

#define CL_SDP_MAX_MEDIA 16

typedef enum { CL_DIR_SENDRECV, CL_DIR_SENDONLY, CL_DIR_RECVONLY, CL_DIR_INACTIVE } cl_dir;

/* One m-line of the SRS's SDP. */
typedef struct cl_sdp_media {
  char media[16];
  unsigned port;
  char proto[32];
  char fmts[128];   /* the payload types as written */
  char addr[64];    /* c= of the m-line, else of the session */
  int family;       /* AF_INET or AF_INET6, 0 when no c= */
  cl_dir dir;
  char crypto[256]; /* the first a=crypto's value, "" when none */
  int rtcp_mux;
  unsigned rtcp_port; /* a=rtcp's port, 0 when none */
  char label[64];
} cl_sdp_media;

typedef struct cl_sdp {
  cl_sdp_media m[CL_SDP_MAX_MEDIA];
  size_t n;
} cl_sdp;

/* 0, or -1 with a reason on stderr (no v=, no m-line, too many, bad port). */
int cl_sdp_parse(const char *text, size_t len, cl_sdp *out);
/* Whether payload type pt is among the m-line's. */
int cl_sdp_has_pt(const cl_sdp_media *m, unsigned pt);

/* One m-line of the client's SDP. */
typedef struct cl_sdp_local_media {
  const cl_codec *codec; /* NULL: a rejected line, written with reject_fmt */
  unsigned port;         /* 0: rejected */
  unsigned rtcp_port;    /* written as a=rtcp when not port + 1 (0: none) */
  const char *label;
  cl_dir dir;
  const char *crypto_key; /* base64 inline key, NULL without SRTP */
  unsigned crypto_tag;    /* 0 is written as 1 */
  int rtcp_mux;
  const char *reject_media, *reject_proto, *reject_fmt; /* a rejected line's copy */
} cl_sdp_local_media;

typedef struct cl_sdp_local {
  const char *addr; /* the media address */
  int family;
  uint64_t sess_id, version;
  size_t n;
  cl_sdp_local_media m[CL_SDP_MAX_MEDIA];
} cl_sdp_local;

/* The SDP text into out; its length, or -1 when it does not fit. */
int cl_sdp_write(const cl_sdp_local *l, char *out, size_t cap);

#endif
