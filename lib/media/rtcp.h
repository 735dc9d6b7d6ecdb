/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compound RTCP (RFC 3550 section 6) read without copying: validated as
 * appendix A.2 says, then summarised into what a recorder needs (the sender
 * report that ties RTP time to wall-clock time, and who said BYE). */
#ifndef SR_MEDIA_RTCP_H
#define SR_MEDIA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SR_RTCP_SR 200
#define SR_RTCP_RR 201
#define SR_RTCP_SDES 202
#define SR_RTCP_BYE 203
#define SR_RTCP_APP 204

/* Larger compounds are refused: a sender's report with 31 blocks, SDES and
 * BYE fits in well under 2 KiB. */
#define SR_RTCP_MAX_PACKET 8192
/* BYE sources kept in the summary; further ones are counted only. */
#define SR_RTCP_MAX_BYE 8

typedef enum sr_rtcp_reason {
  SR_RTCP_OK = 0,
  SR_RTCP_TRUNCATED,   /* shorter than a header, or a length runs past the end */
  SR_RTCP_OVERSIZED,   /* longer than SR_RTCP_MAX_PACKET */
  SR_RTCP_BAD_VERSION, /* a packet of the compound is not version 2 */
  SR_RTCP_BAD_FIRST,   /* the first packet is not SR or RR, or is padded */
  SR_RTCP_BAD_PADDING, /* padding on a packet other than the last, or a bad count */
  SR_RTCP_BAD_BODY,    /* a count (report blocks, chunks, sources) past the length */
  SR_RTCP_REASON_COUNT
} sr_rtcp_reason;

/* One packet of a compound: its header and body (after the 4-octet header,
 * padding excluded). */
typedef struct sr_rtcp_header {
  uint8_t pt;
  uint8_t count; /* RC, SC or subtype: the low 5 bits of the first octet */
  bool padding;
  const uint8_t *body;
  size_t body_len;
} sr_rtcp_header;

/* A sender report's sender info. `ntp` is the 64-bit NTP timestamp (seconds
 * since 1900 in the high 32 bits, fraction in the low 32). */
typedef struct sr_rtcp_sr {
  uint32_t ssrc;
  uint64_t ntp;
  uint32_t rtp_ts;
  uint32_t packets;
  uint32_t octets;
} sr_rtcp_sr;

/* What a compound says. Pointers point into the caller's datagram. */
typedef struct sr_rtcp_info {
  unsigned packets; /* packets in the compound */
  bool has_sr;      /* the first SR's sender info is in `sr` */
  sr_rtcp_sr sr;
  bool has_rr;
  uint32_t rr_ssrc; /* the first RR's reporter */
  unsigned report_blocks;
  unsigned sdes_chunks;
  bool has_cname; /* the first CNAME item, and the chunk's SSRC */
  uint32_t cname_ssrc;
  const uint8_t *cname;
  size_t cname_len;
  unsigned bye_count; /* every SSRC said BYE; the first SR_RTCP_MAX_BYE in bye_ssrc */
  uint32_t bye_ssrc[SR_RTCP_MAX_BYE];
  unsigned app_count;
  unsigned other_count; /* packet types this module skips (RTPFB, PSFB, XR, ...) */
} sr_rtcp_info;

/* Walk the compound at buf[0..len): 1 with the next packet in *h and *off
 * moved past it, 0 at the end, SIPREC_EPARSE (*why set when not NULL) when
 * the packet at *off is malformed. Checks version, length and padding only;
 * the first-packet rule is sr_rtcp_parse's. */
int sr_rtcp_next(const uint8_t *buf, size_t len, size_t *off, sr_rtcp_header *h,
                 sr_rtcp_reason *why);

/* Validate the whole compound (RFC 3550 A.2: version 2 throughout, the
 * first packet SR or RR without padding, lengths adding up to the datagram)
 * and summarise it into *out. Returns 0, or SIPREC_EPARSE (SIPREC_ETOOBIG
 * when oversized) with *why, when not NULL, saying which rule it broke;
 * *out is then unspecified. */
int sr_rtcp_parse(const uint8_t *buf, size_t len, sr_rtcp_info *out, sr_rtcp_reason *why);

const char *sr_rtcp_reason_name(sr_rtcp_reason why);

#endif
