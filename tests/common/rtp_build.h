/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RTP and RTCP packets built byte by byte for the media tests and the RTP
 * fuzz harness's seeds: every field set on purpose, so a test says which
 * edge it walks. Header-only (static inline): each user takes what it needs. */
#ifndef SIPREC_TESTS_RTP_BUILD_H
#define SIPREC_TESTS_RTP_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rtpb {
  uint8_t version; /* 0 means 2 */
  uint8_t pt;
  bool marker;
  uint16_t seq;
  uint32_t ts;
  uint32_t ssrc;
  uint8_t cc;
  uint32_t csrc[15];
  bool ext;
  uint16_t ext_profile;
  uint16_t ext_words;     /* the length field written */
  uint16_t ext_real_words; /* words actually written (== ext_words unless lying) */
  uint8_t pad;      /* padding octets appended (0: none) */
  bool pad_bit;     /* set P even without padding (to write a lying count) */
  uint8_t pad_last; /* with pad_bit: the count octet written, when not pad */
  size_t payload_len;
} rtpb;

static inline void rtpb_put16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static inline void rtpb_put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The payload's octet i of packet `seq`: tests check content survives. */
static inline uint8_t rtpb_fill(uint16_t seq, size_t i)
{
  return (uint8_t)(seq * 7u + i);
}

/* Write the packet into buf (cap octets); returns its length, 0 if it does
 * not fit. */
static inline size_t rtpb_build(uint8_t *buf, size_t cap, const rtpb *o)
{
  size_t need = 12 + 4u * o->cc + (o->ext ? 4 + 4u * o->ext_real_words : 0) + o->payload_len +
                o->pad + (o->pad_bit && !o->pad ? 1 : 0);
  if (need > cap)
    return 0;
  bool p_bit = o->pad || o->pad_bit;
  buf[0] = (uint8_t)(((o->version ? o->version : 2) << 6) | (p_bit ? 0x20 : 0) |
                     (o->ext ? 0x10 : 0) | (o->cc & 0x0f));
  buf[1] = (uint8_t)((o->marker ? 0x80 : 0) | (o->pt & 0x7f));
  rtpb_put16(buf + 2, o->seq);
  rtpb_put32(buf + 4, o->ts);
  rtpb_put32(buf + 8, o->ssrc);
  size_t off = 12;
  for (unsigned i = 0; i < o->cc; i++, off += 4)
    rtpb_put32(buf + off, o->csrc[i]);
  if (o->ext) {
    rtpb_put16(buf + off, o->ext_profile);
    rtpb_put16(buf + off + 2, o->ext_words);
    off += 4;
    for (unsigned i = 0; i < 4u * o->ext_real_words; i++)
      buf[off++] = (uint8_t)(0xE0 + i);
  }
  for (size_t i = 0; i < o->payload_len; i++)
    buf[off++] = rtpb_fill(o->seq, i);
  if (o->pad) {
    memset(buf + off, 0, o->pad);
    off += o->pad;
    buf[off - 1] = o->pad_bit && o->pad_last ? o->pad_last : o->pad;
  } else if (o->pad_bit) {
    buf[off++] = o->pad_last;
  }
  return off;
}

/* A G.711-like packet: PT 0, 160 octets. */
static inline rtpb rtpb_audio(uint16_t seq, uint32_t ts, uint32_t ssrc)
{
  rtpb o = { 0 };
  o.seq = seq;
  o.ts = ts;
  o.ssrc = ssrc;
  o.payload_len = 160;
  return o;
}

/* A plain RTP packet (no CSRC, extension or padding) carrying `payload`:
 * encoded speech. Returns its length, 0 if it does not fit. */
static inline size_t rtpb_media(uint8_t *buf, size_t cap, uint8_t pt, bool marker, uint16_t seq,
                                uint32_t ts, uint32_t ssrc, const uint8_t *payload, size_t len)
{
  if (len > cap || cap - len < 12)
    return 0;
  buf[0] = 0x80;
  buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  rtpb_put16(buf + 2, seq);
  rtpb_put32(buf + 4, ts);
  rtpb_put32(buf + 8, ssrc);
  memcpy(buf + 12, payload, len);
  return 12 + len;
}

/* RTCP builders: each appends one packet at buf + *off and moves *off. */
static inline void rtcpb_header(uint8_t *p, uint8_t count, uint8_t pt, size_t total, bool pad)
{
  p[0] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | (count & 0x1f));
  p[1] = pt;
  rtpb_put16(p + 2, (uint16_t)(total / 4 - 1));
}

/* SR with `rc` report blocks. */
static inline void rtcpb_sr(uint8_t *buf, size_t *off, uint32_t ssrc, uint64_t ntp,
                            uint32_t rtp_ts, uint32_t pc, uint32_t oc, uint8_t rc)
{
  uint8_t *p = buf + *off;
  size_t total = 28 + 24u * rc;
  rtcpb_header(p, rc, 200, total, false);
  rtpb_put32(p + 4, ssrc);
  rtpb_put32(p + 8, (uint32_t)(ntp >> 32));
  rtpb_put32(p + 12, (uint32_t)ntp);
  rtpb_put32(p + 16, rtp_ts);
  rtpb_put32(p + 20, pc);
  rtpb_put32(p + 24, oc);
  for (unsigned i = 0; i < rc; i++)
    memset(p + 28 + 24 * i, (int)(0x10 + i), 24);
  *off += total;
}

static inline void rtcpb_rr(uint8_t *buf, size_t *off, uint32_t ssrc, uint8_t rc)
{
  uint8_t *p = buf + *off;
  size_t total = 8 + 24u * rc;
  rtcpb_header(p, rc, 201, total, false);
  rtpb_put32(p + 4, ssrc);
  for (unsigned i = 0; i < rc; i++)
    memset(p + 8 + 24 * i, (int)(0x20 + i), 24);
  *off += total;
}

/* SDES with one chunk: a CNAME item, then the null item and padding. */
static inline void rtcpb_sdes_cname(uint8_t *buf, size_t *off, uint32_t ssrc, const char *cname)
{
  uint8_t *p = buf + *off;
  size_t n = strlen(cname);
  size_t chunk = 4 + 2 + n + 1;
  chunk = (chunk + 3) & ~(size_t)3;
  size_t total = 4 + chunk;
  memset(p, 0, total);
  rtcpb_header(p, 1, 202, total, false);
  rtpb_put32(p + 4, ssrc);
  p[8] = 1;
  p[9] = (uint8_t)n;
  memcpy(p + 10, cname, n);
  *off += total;
}

static inline void rtcpb_bye(uint8_t *buf, size_t *off, const uint32_t *ssrc, uint8_t sc,
                             const char *reason)
{
  uint8_t *p = buf + *off;
  size_t rn = reason ? strlen(reason) : 0;
  size_t total = 4 + 4u * sc + (reason ? ((1 + rn + 3) & ~(size_t)3) : 0);
  memset(p, 0, total);
  rtcpb_header(p, sc, 203, total, false);
  for (unsigned i = 0; i < sc; i++)
    rtpb_put32(p + 4 + 4 * i, ssrc[i]);
  if (reason) {
    p[4 + 4 * sc] = (uint8_t)rn;
    memcpy(p + 5 + 4 * sc, reason, rn);
  }
  *off += total;
}

static inline void rtcpb_app(uint8_t *buf, size_t *off, uint32_t ssrc, const char name[4])
{
  uint8_t *p = buf + *off;
  rtcpb_header(p, 0, 204, 16, false);
  rtpb_put32(p + 4, ssrc);
  memcpy(p + 8, name, 4);
  memset(p + 12, 0xAA, 4);
  *off += 16;
}

#endif
