/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The RTP fixed header (RFC 3550 section 5.1) read from a datagram without
 * copying, and the first-octet test that tells RTP from RTCP when both share
 * one port (RFC 5761 section 4). */
#ifndef SR_MEDIA_RTP_H
#define SR_MEDIA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A datagram longer than this is refused: no audio codec we record sends
 * more in one packet (L16 48 kHz mono, 40 ms, is 3840 bytes), and the jitter
 * buffer's memory bound starts from here. */
#define SR_RTP_MAX_PACKET 8192
#define SR_RTP_HEADER_LEN 12
#define SR_RTP_MAX_CSRC 15

/* Why a datagram was refused; the media counters are indexed by it. */
typedef enum sr_rtp_reason {
  SR_RTP_OK = 0,
  SR_RTP_TRUNCATED,     /* shorter than the header, CSRC list or extension */
  SR_RTP_OVERSIZED,     /* longer than SR_RTP_MAX_PACKET */
  SR_RTP_BAD_VERSION,   /* version is not 2 */
  SR_RTP_BAD_PADDING,   /* padding count 0 or past the payload's start */
  SR_RTP_BAD_EXTENSION, /* header extension runs past the datagram */
  SR_RTP_RTCP_TYPE,     /* payload type 64-95: RTCP on a muxed port */
  SR_RTP_REASON_COUNT
} sr_rtp_reason;

/* A parsed packet. Pointers point into the caller's datagram. */
typedef struct sr_rtp_packet {
  bool marker;
  uint8_t pt;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint8_t csrc_count;
  uint8_t pad_len; /* octets of padding removed from the end (0 when none) */
  bool has_ext;
  uint16_t ext_profile;   /* the extension's "defined by profile" field */
  const uint8_t *ext;     /* extension data after its 4-octet header */
  size_t ext_len;         /* in octets (4 * the length field) */
  uint32_t csrc[SR_RTP_MAX_CSRC]; /* the first csrc_count only: the rest is not set */
  const uint8_t *payload; /* after header, CSRCs and extension; */
  size_t payload_len;     /* padding excluded; may be 0 */
} sr_rtp_packet;

/* Parse `len` octets at `buf` into *out. Returns 0, or SIPREC_EPARSE
 * (SIPREC_ETOOBIG for an oversized one) with *why, when not NULL, saying
 * which rule the datagram broke; *out is then unspecified. */
int sr_rtp_parse(const uint8_t *buf, size_t len, sr_rtp_packet *out, sr_rtp_reason *why);

/* A short English name of a reason ("truncated"), for counters and logs. */
const char *sr_rtp_reason_name(sr_rtp_reason why);

/* What arrived on a port that may carry RTP and RTCP multiplexed. */
typedef enum sr_mux_kind {
  SR_MUX_OTHER = 0, /* not version 2, or too short: STUN, DTLS, noise */
  SR_MUX_RTP,
  SR_MUX_RTCP,
} sr_mux_kind;

/* RFC 5761 section 4: a version-2 datagram whose second octet is 192-223
 * (RTCP packet types 192-223, i.e. RTP payload types 64-95 with the marker
 * set) is RTCP; other version-2 datagrams of at least 12 octets are RTP. Only
 * the first two octets (and the length) are read. */
sr_mux_kind sr_mux_classify(const uint8_t *buf, size_t len);

#endif
