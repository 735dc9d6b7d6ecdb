/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media's packet readers on packets built here: the RTP header and its
 * every optional part, RTP/RTCP demultiplexing on one port, compound RTCP
 * and its validation, and the sender-report wall clock. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include <siprec/common.h>

#include "check_main.h"
#include "media/rtcp.h"
#include "media/rtp.h"
#include "media/wallclock.h"
#include "rtp_build.h"

static uint8_t buf[SR_RTP_MAX_PACKET + 64];

static int parse(const rtpb *o, sr_rtp_packet *p, sr_rtp_reason *why)
{
  size_t n = rtpb_build(buf, sizeof buf, o);
  ck_assert_uint_gt(n, 0);
  return sr_rtp_parse(buf, n, p, why);
}

static void check_payload(const sr_rtp_packet *p, uint16_t seq, size_t len)
{
  ck_assert_uint_eq(p->payload_len, len);
  for (size_t i = 0; i < len; i++)
    ck_assert_uint_eq(p->payload[i], rtpb_fill(seq, i));
}

/* ---------------------------------------------------------------------- */
/* RTP                                                                      */

START_TEST(test_rtp_fixed_header)
{
  rtpb o = rtpb_audio(4321, 0xDEADBEEF, 0x11223344);
  o.pt = 8;
  sr_rtp_packet p;
  sr_rtp_reason why = SR_RTP_REASON_COUNT;
  ck_assert_int_eq(parse(&o, &p, &why), 0);
  ck_assert_int_eq(why, SR_RTP_OK);
  ck_assert(!p.marker);
  ck_assert_uint_eq(p.pt, 8);
  ck_assert_uint_eq(p.seq, 4321);
  ck_assert_uint_eq(p.ts, 0xDEADBEEF);
  ck_assert_uint_eq(p.ssrc, 0x11223344);
  ck_assert_uint_eq(p.csrc_count, 0);
  ck_assert(!p.has_ext);
  ck_assert_uint_eq(p.pad_len, 0);
  ck_assert_ptr_eq(p.payload, buf + 12);
  check_payload(&p, 4321, 160);
}
END_TEST

START_TEST(test_rtp_marker_and_dynamic_pt)
{
  rtpb o = rtpb_audio(1, 2, 3);
  o.marker = true;
  o.pt = 111;
  sr_rtp_packet p;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert(p.marker);
  ck_assert_uint_eq(p.pt, 111);
  /* PT 127 with the marker: second octet 255, not RTCP. */
  o.pt = 127;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.pt, 127);
}
END_TEST

START_TEST(test_rtp_empty_payload)
{
  rtpb o = rtpb_audio(1, 2, 3);
  o.payload_len = 0;
  sr_rtp_packet p;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

START_TEST(test_rtp_csrc)
{
  rtpb o = rtpb_audio(7, 8, 9);
  o.cc = 3;
  o.csrc[0] = 0xA0A0A0A0;
  o.csrc[1] = 2;
  o.csrc[2] = 0xFFFFFFFF;
  sr_rtp_packet p;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.csrc_count, 3);
  ck_assert_uint_eq(p.csrc[0], 0xA0A0A0A0);
  ck_assert_uint_eq(p.csrc[1], 2);
  ck_assert_uint_eq(p.csrc[2], 0xFFFFFFFF);
  ck_assert_ptr_eq(p.payload, buf + 24);
  check_payload(&p, 7, 160);

  /* Fifteen CSRCs and no payload: exactly 72 octets. */
  o.cc = 15;
  o.payload_len = 0;
  size_t n = rtpb_build(buf, sizeof buf, &o);
  ck_assert_uint_eq(n, 72);
  ck_assert_int_eq(sr_rtp_parse(buf, n, &p, NULL), 0);
  ck_assert_uint_eq(p.payload_len, 0);
  /* One octet short of the CSRC list. */
  sr_rtp_reason why;
  ck_assert_int_eq(sr_rtp_parse(buf, n - 1, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_TRUNCATED);
}
END_TEST

START_TEST(test_rtp_header_extension)
{
  rtpb o = rtpb_audio(10, 20, 30);
  o.cc = 1;
  o.ext = true;
  o.ext_profile = 0xBEDE;
  o.ext_words = o.ext_real_words = 2;
  sr_rtp_packet p;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert(p.has_ext);
  ck_assert_uint_eq(p.ext_profile, 0xBEDE);
  ck_assert_uint_eq(p.ext_len, 8);
  ck_assert_ptr_eq(p.ext, buf + 12 + 4 + 4);
  ck_assert_uint_eq(p.ext[0], 0xE0);
  ck_assert_ptr_eq(p.payload, buf + 12 + 4 + 4 + 8);
  check_payload(&p, 10, 160);

  /* An empty extension (length 0) is valid. */
  o.ext_words = o.ext_real_words = 0;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert(p.has_ext);
  ck_assert_uint_eq(p.ext_len, 0);
  check_payload(&p, 10, 160);
}
END_TEST

START_TEST(test_rtp_bad_extension)
{
  sr_rtp_packet p;
  sr_rtp_reason why;
  /* The length field says 100 words, the datagram has 2 and no payload. */
  rtpb o = rtpb_audio(10, 20, 30);
  o.ext = true;
  o.ext_words = 100;
  o.ext_real_words = 2;
  o.payload_len = 0;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_EXTENSION);
  /* Largest length field: 65535 words. */
  o.ext_words = 0xFFFF;
  o.payload_len = 160;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_EXTENSION);
  /* X set, but the extension header itself is cut. */
  o = rtpb_audio(10, 20, 30);
  o.ext = true;
  o.payload_len = 0;
  size_t n = rtpb_build(buf, sizeof buf, &o);
  ck_assert_uint_eq(n, 16);
  ck_assert_int_eq(sr_rtp_parse(buf, 14, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_TRUNCATED);
}
END_TEST

START_TEST(test_rtp_padding_valid)
{
  rtpb o = rtpb_audio(5, 6, 7);
  o.pad = 4;
  sr_rtp_packet p;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.pad_len, 4);
  check_payload(&p, 5, 160);
  /* Padding of one octet: the count alone. */
  o.pad = 1;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.pad_len, 1);
  check_payload(&p, 5, 160);
  /* Padding that is the whole payload. */
  o.payload_len = 0;
  o.pad = 255;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  ck_assert_uint_eq(p.payload_len, 0);
  ck_assert_uint_eq(p.pad_len, 255);
  /* Padding after an extension and CSRCs. */
  o = rtpb_audio(5, 6, 7);
  o.cc = 2;
  o.ext = true;
  o.ext_words = o.ext_real_words = 1;
  o.pad = 3;
  ck_assert_int_eq(parse(&o, &p, NULL), 0);
  check_payload(&p, 5, 160);
  ck_assert_uint_eq(p.ext_len, 4);
}
END_TEST

START_TEST(test_rtp_padding_bad)
{
  sr_rtp_packet p;
  sr_rtp_reason why;
  /* A count of 0. */
  rtpb o = rtpb_audio(5, 6, 7);
  o.pad_bit = true;
  o.pad_last = 0;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_PADDING);
  /* A count past the payload's start (into the header). */
  o.payload_len = 10;
  o.pad_last = 12;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_PADDING);
  /* One past: payload 10 + the count octet = 11 available. */
  o.pad_last = 11;
  ck_assert_int_eq(parse(&o, &p, &why), 0);
  ck_assert_uint_eq(p.payload_len, 0);
  /* A count that would eat into the extension. */
  o = rtpb_audio(5, 6, 7);
  o.ext = true;
  o.ext_words = o.ext_real_words = 2;
  o.payload_len = 3;
  o.pad_bit = true;
  o.pad_last = 5;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_PADDING);
  /* P set on a bare header: the count octet would be the SSRC's last, and
   * nothing follows the header for it to count. */
  o = rtpb_audio(5, 6, 0x01020304);
  o.payload_len = 0;
  size_t n = rtpb_build(buf, sizeof buf, &o);
  buf[0] |= 0x20;
  ck_assert_int_eq(sr_rtp_parse(buf, n, &p, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTP_BAD_PADDING);
}
END_TEST

START_TEST(test_rtp_truncated)
{
  rtpb o = rtpb_audio(1, 2, 3);
  size_t n = rtpb_build(buf, sizeof buf, &o);
  sr_rtp_packet p;
  sr_rtp_reason why;
  for (size_t len = 0; len < 12; len++) {
    why = SR_RTP_OK;
    ck_assert_int_eq(sr_rtp_parse(buf, len, &p, &why), SIPREC_EPARSE);
    ck_assert_int_eq(why, SR_RTP_TRUNCATED);
  }
  /* Cut inside the payload is just a shorter payload. */
  ck_assert_int_eq(sr_rtp_parse(buf, n - 100, &p, &why), 0);
  ck_assert_uint_eq(p.payload_len, 60);
  ck_assert_int_eq(sr_rtp_parse(NULL, 12, &p, NULL), SIPREC_EINVAL);
  ck_assert_int_eq(sr_rtp_parse(buf, 12, NULL, NULL), SIPREC_EINVAL);
}
END_TEST

START_TEST(test_rtp_oversized)
{
  rtpb o = rtpb_audio(1, 2, 3);
  o.payload_len = SR_RTP_MAX_PACKET - 12;
  sr_rtp_packet p;
  sr_rtp_reason why;
  ck_assert_int_eq(parse(&o, &p, &why), 0);
  ck_assert_uint_eq(p.payload_len, SR_RTP_MAX_PACKET - 12);
  o.payload_len++;
  ck_assert_int_eq(parse(&o, &p, &why), SIPREC_ETOOBIG);
  ck_assert_int_eq(why, SR_RTP_OVERSIZED);
}
END_TEST

START_TEST(test_rtp_bad_version)
{
  sr_rtp_packet p;
  sr_rtp_reason why;
  for (uint8_t v = 0; v < 4; v++) {
    if (v == 2)
      continue;
    rtpb o = rtpb_audio(1, 2, 3);
    o.version = v;
    size_t n = rtpb_build(buf, sizeof buf, &o);
    if (v == 0)
      buf[0] &= 0x3f;
    ck_assert_int_eq(sr_rtp_parse(buf, n, &p, &why), SIPREC_EPARSE);
    ck_assert_int_eq(why, SR_RTP_BAD_VERSION);
  }
}
END_TEST

START_TEST(test_rtp_refuses_rtcp_types)
{
  sr_rtp_packet p;
  sr_rtp_reason why;
  for (unsigned pt = 64; pt <= 95; pt++) {
    rtpb o = rtpb_audio(1, 2, 3);
    o.pt = (uint8_t)pt;
    o.marker = pt & 1;
    ck_assert_int_eq(parse(&o, &p, &why), SIPREC_EPARSE);
    ck_assert_int_eq(why, SR_RTP_RTCP_TYPE);
  }
  rtpb o = rtpb_audio(1, 2, 3);
  o.pt = 63;
  ck_assert_int_eq(parse(&o, &p, &why), 0);
  o.pt = 96;
  ck_assert_int_eq(parse(&o, &p, &why), 0);
}
END_TEST

START_TEST(test_rtp_reason_names)
{
  for (int r = 0; r < SR_RTP_REASON_COUNT; r++) {
    ck_assert_ptr_nonnull(sr_rtp_reason_name((sr_rtp_reason)r));
    ck_assert_str_ne(sr_rtp_reason_name((sr_rtp_reason)r), "unknown");
  }
  ck_assert_str_eq(sr_rtp_reason_name(SR_RTP_REASON_COUNT), "unknown");
  for (int r = 0; r < SR_RTCP_REASON_COUNT; r++)
    ck_assert_str_ne(sr_rtcp_reason_name((sr_rtcp_reason)r), "unknown");
  ck_assert_str_eq(sr_rtcp_reason_name(SR_RTCP_REASON_COUNT), "unknown");
}
END_TEST

/* ---------------------------------------------------------------------- */
/* RTP and RTCP on one port (RFC 5761)                                      */

START_TEST(test_mux_classify)
{
  rtpb o = rtpb_audio(1, 2, 3);
  size_t n = rtpb_build(buf, sizeof buf, &o);
  ck_assert_int_eq(sr_mux_classify(buf, n), SR_MUX_RTP);
  /* RTP payload types 0-63 and 96-127, with and without the marker. */
  for (unsigned pt = 0; pt < 128; pt++)
    for (int m = 0; m < 2; m++) {
      buf[1] = (uint8_t)(pt | (m ? 0x80 : 0));
      sr_mux_kind want = (m && pt >= 64 && pt <= 95) ? SR_MUX_RTCP : SR_MUX_RTP;
      ck_assert_msg(sr_mux_classify(buf, n) == want, "pt %u marker %d", pt, m);
    }
  /* Real RTCP: an SR + SDES compound. */
  size_t off = 0;
  rtcpb_sr(buf, &off, 3, 0, 0, 0, 0, 0);
  rtcpb_sdes_cname(buf, &off, 3, "a@b");
  ck_assert_int_eq(sr_mux_classify(buf, off), SR_MUX_RTCP);
  /* Each RTCP type 192-223 (FIR, NACK, SR, RR, SDES, BYE, APP, RTPFB...). */
  for (unsigned t = 192; t <= 223; t++) {
    buf[1] = (uint8_t)t;
    ck_assert_int_eq(sr_mux_classify(buf, off), SR_MUX_RTCP);
  }
  /* STUN (first two bits 00), DTLS (20-63), short datagrams. */
  static const uint8_t stun[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42 };
  ck_assert_int_eq(sr_mux_classify(stun, sizeof stun), SR_MUX_OTHER);
  static const uint8_t dtls[13] = { 22, 0xFE, 0xFD };
  ck_assert_int_eq(sr_mux_classify(dtls, sizeof dtls), SR_MUX_OTHER);
  ck_assert_int_eq(sr_mux_classify(buf, 1), SR_MUX_OTHER);
  ck_assert_int_eq(sr_mux_classify(buf, 3), SR_MUX_OTHER);
  ck_assert_int_eq(sr_mux_classify(NULL, 100), SR_MUX_OTHER);
  o = rtpb_audio(1, 2, 3);
  rtpb_build(buf, sizeof buf, &o);
  ck_assert_int_eq(sr_mux_classify(buf, 11), SR_MUX_OTHER);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* RTCP                                                                     */

START_TEST(test_rtcp_sr_sdes)
{
  size_t off = 0;
  uint64_t ntp = ((uint64_t)3908988800u << 32) | 0x80000000u;
  rtcpb_sr(buf, &off, 0xCAFEBABE, ntp, 123456, 500, 80000, 1);
  rtcpb_sdes_cname(buf, &off, 0xCAFEBABE, "alice@example.com");
  sr_rtcp_info info;
  sr_rtcp_reason why = SR_RTCP_REASON_COUNT;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), 0);
  ck_assert_int_eq(why, SR_RTCP_OK);
  ck_assert_uint_eq(info.packets, 2);
  ck_assert(info.has_sr);
  ck_assert_uint_eq(info.sr.ssrc, 0xCAFEBABE);
  ck_assert_uint_eq(info.sr.ntp, ntp);
  ck_assert_uint_eq(info.sr.rtp_ts, 123456);
  ck_assert_uint_eq(info.sr.packets, 500);
  ck_assert_uint_eq(info.sr.octets, 80000);
  ck_assert_uint_eq(info.report_blocks, 1);
  ck_assert(!info.has_rr);
  ck_assert_uint_eq(info.sdes_chunks, 1);
  ck_assert(info.has_cname);
  ck_assert_uint_eq(info.cname_ssrc, 0xCAFEBABE);
  ck_assert_uint_eq(info.cname_len, strlen("alice@example.com"));
  ck_assert(memcmp(info.cname, "alice@example.com", info.cname_len) == 0);
  ck_assert_uint_eq(info.bye_count, 0);
}
END_TEST

START_TEST(test_rtcp_rr_sdes_bye)
{
  size_t off = 0;
  rtcpb_rr(buf, &off, 42, 2);
  rtcpb_sdes_cname(buf, &off, 42, "x");
  static const uint32_t gone[2] = { 7, 9 };
  rtcpb_bye(buf, &off, gone, 2, "transfer");
  sr_rtcp_info info;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, NULL), 0);
  ck_assert(!info.has_sr);
  ck_assert(info.has_rr);
  ck_assert_uint_eq(info.rr_ssrc, 42);
  ck_assert_uint_eq(info.report_blocks, 2);
  ck_assert_uint_eq(info.bye_count, 2);
  ck_assert_uint_eq(info.bye_ssrc[0], 7);
  ck_assert_uint_eq(info.bye_ssrc[1], 9);
  /* An empty RR (no blocks) followed by a BYE without reason. */
  off = 0;
  rtcpb_rr(buf, &off, 42, 0);
  rtcpb_bye(buf, &off, gone, 1, NULL);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, NULL), 0);
  ck_assert_uint_eq(info.bye_count, 1);
  ck_assert_uint_eq(info.bye_ssrc[0], 7);
}
END_TEST

START_TEST(test_rtcp_many_bye_sources)
{
  uint32_t ssrc[31];
  for (unsigned i = 0; i < 31; i++)
    ssrc[i] = 100 + i;
  size_t off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  rtcpb_bye(buf, &off, ssrc, 31, NULL);
  sr_rtcp_info info;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, NULL), 0);
  ck_assert_uint_eq(info.bye_count, 31);
  for (unsigned i = 0; i < SR_RTCP_MAX_BYE; i++)
    ck_assert_uint_eq(info.bye_ssrc[i], 100 + i);
}
END_TEST

START_TEST(test_rtcp_app_and_unknown_types)
{
  size_t off = 0;
  rtcpb_sr(buf, &off, 1, 2, 3, 4, 5, 0);
  rtcpb_app(buf, &off, 1, "test");
  /* A PSFB (206) packet: header and 8 octets. */
  rtcpb_header(buf + off, 1, 206, 12, false);
  memset(buf + off + 4, 0, 8);
  off += 12;
  sr_rtcp_info info;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, NULL), 0);
  ck_assert_uint_eq(info.packets, 3);
  ck_assert_uint_eq(info.app_count, 1);
  ck_assert_uint_eq(info.other_count, 1);
  /* An APP too short for its name. */
  off = 0;
  rtcpb_sr(buf, &off, 1, 2, 3, 4, 5, 0);
  rtcpb_header(buf + off, 0, 204, 8, false);
  off += 8;
  sr_rtcp_reason why;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
}
END_TEST

START_TEST(test_rtcp_bad_first)
{
  sr_rtcp_info info;
  sr_rtcp_reason why;
  size_t off = 0;
  rtcpb_sdes_cname(buf, &off, 1, "a");
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_FIRST);
  off = 0;
  static const uint32_t one = 1;
  rtcpb_bye(buf, &off, &one, 1, NULL);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_FIRST);
  /* A padded first packet. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  buf[0] |= 0x20;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_FIRST);
  /* Not version 2. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  buf[0] = (uint8_t)(buf[0] & 0x3f) | 0x40;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_VERSION);
}
END_TEST

START_TEST(test_rtcp_bad_lengths)
{
  sr_rtcp_info info;
  sr_rtcp_reason why;
  size_t off = 0;
  rtcpb_sr(buf, &off, 1, 2, 3, 4, 5, 0);
  rtcpb_sdes_cname(buf, &off, 1, "abc");
  /* The datagram ends inside the second packet. */
  ck_assert_int_eq(sr_rtcp_parse(buf, off - 4, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_TRUNCATED);
  /* Two stray octets after the last packet. */
  buf[off] = buf[off + 1] = 0;
  ck_assert_int_eq(sr_rtcp_parse(buf, off + 2, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_TRUNCATED);
  /* The first packet's length runs past the datagram. */
  rtpb_put16(buf + 2, 200);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_TRUNCATED);
  /* The first packet's length is short: an SR of 16 octets has no room
   * for its sender info. */
  rtpb_put16(buf + 2, 3);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* An SR claiming 2 report blocks with room for none. */
  off = 0;
  rtcpb_sr(buf, &off, 1, 2, 3, 4, 5, 0);
  buf[0] |= 2;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* An RR claiming a block. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  buf[0] |= 1;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* A BYE naming 3 sources in 1 word. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  static const uint32_t one = 1;
  size_t bye = off;
  rtcpb_bye(buf, &off, &one, 1, NULL);
  buf[bye] = (uint8_t)((buf[bye] & 0xe0) | 3);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* An SDES item whose length runs past its packet. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  size_t sdes = off;
  rtcpb_sdes_cname(buf, &off, 1, "abc");
  buf[sdes + 9] = 40;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* An SDES with two chunks announced, one present. */
  buf[sdes + 9] = 3;
  buf[sdes] = (uint8_t)((buf[sdes] & 0xe0) | 2);
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* Fewer than 4 octets. */
  ck_assert_int_eq(sr_rtcp_parse(buf, 3, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_TRUNCATED);
  ck_assert_int_eq(sr_rtcp_parse(buf, SR_RTCP_MAX_PACKET + 1, &info, &why), SIPREC_ETOOBIG);
  ck_assert_int_eq(why, SR_RTCP_OVERSIZED);
}
END_TEST

START_TEST(test_rtcp_padding)
{
  sr_rtcp_info info;
  sr_rtcp_reason why;
  /* Padding on the last packet: a BYE with 4 octets of padding. */
  size_t off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  size_t bye = off;
  static const uint32_t one = 77;
  rtcpb_bye(buf, &off, &one, 1, NULL);
  memset(buf + off, 0, 4);
  buf[off + 3] = 4;
  off += 4;
  rtpb_put16(buf + bye + 2, 2);
  buf[bye] |= 0x20;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), 0);
  ck_assert_uint_eq(info.bye_ssrc[0], 77);
  /* A count of 0, or past the packet's body. */
  buf[off - 1] = 0;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_PADDING);
  buf[off - 1] = 9;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_PADDING);
  /* Padding that eats the BYE's SSRC leaves a BYE too short for its count. */
  buf[off - 1] = 8;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_BODY);
  /* Padding on a packet that is not the last. */
  off = 0;
  rtcpb_rr(buf, &off, 1, 0);
  size_t mid = off;
  rtcpb_sdes_cname(buf, &off, 1, "ab");
  rtcpb_bye(buf, &off, &one, 1, NULL);
  buf[mid] |= 0x20;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, &why), SIPREC_EPARSE);
  ck_assert_int_eq(why, SR_RTCP_BAD_PADDING);
}
END_TEST

START_TEST(test_rtcp_walk)
{
  size_t len = 0;
  rtcpb_sr(buf, &len, 1, 2, 3, 4, 5, 2);
  rtcpb_sdes_cname(buf, &len, 1, "abcd");
  rtcpb_app(buf, &len, 1, "name");
  static const uint8_t want[3] = { SR_RTCP_SR, SR_RTCP_SDES, SR_RTCP_APP };
  size_t off = 0;
  sr_rtcp_header h;
  for (unsigned i = 0; i < 3; i++) {
    ck_assert_int_eq(sr_rtcp_next(buf, len, &off, &h, NULL), 1);
    ck_assert_uint_eq(h.pt, want[i]);
  }
  ck_assert_uint_eq(off, len);
  ck_assert_int_eq(sr_rtcp_next(buf, len, &off, &h, NULL), 0);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Wall clock                                                               */

START_TEST(test_ntp_to_unix)
{
  /* 1970-01-01 is NTP second 2208988800. */
  ck_assert_int_eq(sr_ntp_to_unix_ns((uint64_t)2208988800u << 32), 0);
  /* 2023-11-14T22:13:20Z = Unix 1700000000, and half a second. */
  uint64_t ntp = ((uint64_t)(1700000000u + 2208988800u) << 32) | 0x80000000u;
  ck_assert_int_eq(sr_ntp_to_unix_ns(ntp), 1700000000LL * 1000000000LL + 500000000LL);
  /* Era 1: NTP second 0 after the 2036 wrap is Unix 2085978496. */
  ck_assert_int_eq(sr_ntp_to_unix_ns(0), 2085978496LL * 1000000000LL);
  ck_assert_int_eq(sr_ntp_to_unix_ns(((uint64_t)10 << 32)), 2085978506LL * 1000000000LL);
}
END_TEST

START_TEST(test_rtp_to_ntp)
{
  uint64_t base = ((uint64_t)3908988800u << 32);
  sr_sr_ref ref = { true, 1, 1000, base, 0 };
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 1000, 8000), base);
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 9000, 8000), base + ((uint64_t)1 << 32));
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 1000 - 4000u, 8000), base - ((uint64_t)1 << 31));
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 1000 + 48000u * 60, 48000), base + ((uint64_t)60 << 32));
  /* Across the RTP timestamp's wrap. */
  ref.rtp_ts = 0xFFFFFF00u;
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 0x100, 512), base + ((uint64_t)1 << 32));
  ck_assert_uint_eq(sr_rtp_to_ntp(&ref, 0xFFFFFE00u, 256), base - ((uint64_t)1 << 32));
}
END_TEST

START_TEST(test_wallclock_table)
{
  sr_wallclock w = { 0 };
  int64_t ns;
  ck_assert_int_eq(sr_wallclock_unix_ns(&w, 5, 0, 8000, &ns), SIPREC_ENOTFOUND);
  ck_assert_int_eq(sr_wallclock_unix_ns(&w, 5, 0, 0, &ns), SIPREC_EINVAL);
  uint64_t ntp0 = (uint64_t)(1700000000u + 2208988800u) << 32;
  /* An SR read from a compound feeds the table. */
  size_t off = 0;
  rtcpb_sr(buf, &off, 5, ntp0, 16000, 0, 0, 0);
  rtcpb_sdes_cname(buf, &off, 5, "c");
  sr_rtcp_info info;
  ck_assert_int_eq(sr_rtcp_parse(buf, off, &info, NULL), 0);
  sr_wallclock_note(&w, &info.sr, 100);
  ck_assert_int_eq(sr_wallclock_unix_ns(&w, 5, 16000 + 8000 * 3, 8000, &ns), 0);
  ck_assert_int_eq(ns, 1700000003LL * 1000000000LL);
  /* A newer report of the same SSRC replaces it. */
  sr_rtcp_sr sr = { 5, ntp0 + ((uint64_t)10 << 32), 16000, 0, 0 };
  sr_wallclock_note(&w, &sr, 200);
  ck_assert_int_eq(sr_wallclock_unix_ns(&w, 5, 16000, 8000, &ns), 0);
  ck_assert_int_eq(ns, 1700000010LL * 1000000000LL);
  /* Four more SSRCs: the oldest (5, received at 200) goes. */
  for (uint32_t s = 10; s < 14; s++) {
    sr.ssrc = s;
    sr_wallclock_note(&w, &sr, 300 + s);
  }
  ck_assert_ptr_null(sr_wallclock_find(&w, 5));
  for (uint32_t s = 10; s < 14; s++)
    ck_assert_ptr_nonnull(sr_wallclock_find(&w, s));
  /* BYE forgets. */
  sr_wallclock_forget(&w, 11);
  ck_assert_ptr_null(sr_wallclock_find(&w, 11));
  ck_assert_int_eq(sr_wallclock_unix_ns(&w, 11, 0, 8000, &ns), SIPREC_ENOTFOUND);
  sr.ssrc = 99;
  sr_wallclock_note(&w, &sr, 1000);
  ck_assert_ptr_nonnull(sr_wallclock_find(&w, 99));
  ck_assert_ptr_nonnull(sr_wallclock_find(&w, 10));
}
END_TEST

static Suite *media_rtp_suite(void)
{
  Suite *s = suite_create("media_rtp");
  TCase *tc = tcase_create("rtp");
  tcase_add_test(tc, test_rtp_fixed_header);
  tcase_add_test(tc, test_rtp_marker_and_dynamic_pt);
  tcase_add_test(tc, test_rtp_empty_payload);
  tcase_add_test(tc, test_rtp_csrc);
  tcase_add_test(tc, test_rtp_header_extension);
  tcase_add_test(tc, test_rtp_bad_extension);
  tcase_add_test(tc, test_rtp_padding_valid);
  tcase_add_test(tc, test_rtp_padding_bad);
  tcase_add_test(tc, test_rtp_truncated);
  tcase_add_test(tc, test_rtp_oversized);
  tcase_add_test(tc, test_rtp_bad_version);
  tcase_add_test(tc, test_rtp_refuses_rtcp_types);
  tcase_add_test(tc, test_rtp_reason_names);
  tcase_add_test(tc, test_mux_classify);
  suite_add_tcase(s, tc);

  tc = tcase_create("rtcp");
  tcase_add_test(tc, test_rtcp_sr_sdes);
  tcase_add_test(tc, test_rtcp_rr_sdes_bye);
  tcase_add_test(tc, test_rtcp_many_bye_sources);
  tcase_add_test(tc, test_rtcp_app_and_unknown_types);
  tcase_add_test(tc, test_rtcp_bad_first);
  tcase_add_test(tc, test_rtcp_bad_lengths);
  tcase_add_test(tc, test_rtcp_padding);
  tcase_add_test(tc, test_rtcp_walk);
  suite_add_tcase(s, tc);

  tc = tcase_create("wallclock");
  tcase_add_test(tc, test_ntp_to_unix);
  tcase_add_test(tc, test_rtp_to_ntp);
  tcase_add_test(tc, test_wallclock_table);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(media_rtp_suite());
}
