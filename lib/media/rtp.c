/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RTP header parsing: every length is checked against what remains before
 * it is used, so a hostile datagram can at worst be refused. */
#include "rtp.h"

#include <siprec/common.h>

static uint16_t rd16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int refuse(sr_rtp_reason r, sr_rtp_reason *why)
{
  if (why)
    *why = r;
  return r == SR_RTP_OVERSIZED ? SIPREC_ETOOBIG : SIPREC_EPARSE;
}

/* Fixed header fields; the caller checked the 12 octets are there. */
static void read_fixed(const uint8_t *b, sr_rtp_packet *out)
{
  out->marker = (b[1] & 0x80) != 0;
  out->pt = b[1] & 0x7f;
  out->seq = rd16(b + 2);
  out->ts = rd32(b + 4);
  out->ssrc = rd32(b + 8);
  out->csrc_count = b[0] & 0x0f;
}

/* The extension at b[*off]: 16-bit profile, 16-bit length in words. */
static sr_rtp_reason read_ext(const uint8_t *b, size_t len, size_t *off, sr_rtp_packet *out)
{
  if (len - *off < 4)
    return SR_RTP_TRUNCATED;
  out->ext_profile = rd16(b + *off);
  size_t words = rd16(b + *off + 2);
  *off += 4;
  if (words * 4 > len - *off)
    return SR_RTP_BAD_EXTENSION;
  out->has_ext = true;
  out->ext = b + *off;
  out->ext_len = words * 4;
  *off += words * 4;
  return SR_RTP_OK;
}

int sr_rtp_parse(const uint8_t *buf, size_t len, sr_rtp_packet *out, sr_rtp_reason *why)
{
  if (!buf || !out)
    return SIPREC_EINVAL;
  if (len > SR_RTP_MAX_PACKET)
    return refuse(SR_RTP_OVERSIZED, why);
  if (len < SR_RTP_HEADER_LEN)
    return refuse(SR_RTP_TRUNCATED, why);
  if ((buf[0] >> 6) != 2)
    return refuse(SR_RTP_BAD_VERSION, why);
  *out = (sr_rtp_packet){ 0 };
  read_fixed(buf, out);
  if (out->pt >= 64 && out->pt <= 95)
    return refuse(SR_RTP_RTCP_TYPE, why);
  size_t off = SR_RTP_HEADER_LEN;
  if ((size_t)out->csrc_count * 4 > len - off)
    return refuse(SR_RTP_TRUNCATED, why);
  for (unsigned i = 0; i < out->csrc_count; i++, off += 4)
    out->csrc[i] = rd32(buf + off);
  if (buf[0] & 0x10) {
    sr_rtp_reason r = read_ext(buf, len, &off, out);
    if (r != SR_RTP_OK)
      return refuse(r, why);
  }
  size_t end = len;
  if (buf[0] & 0x20) {
    /* The last octet counts itself, so 0 is malformed (RFC 3550 5.1). */
    uint8_t pad = buf[len - 1];
    if (pad == 0 || pad > len - off)
      return refuse(SR_RTP_BAD_PADDING, why);
    out->pad_len = pad;
    end -= pad;
  }
  out->payload = buf + off;
  out->payload_len = end - off;
  if (why)
    *why = SR_RTP_OK;
  return 0;
}

const char *sr_rtp_reason_name(sr_rtp_reason why)
{
  static const char *const names[SR_RTP_REASON_COUNT] = {
    [SR_RTP_OK] = "ok",
    [SR_RTP_TRUNCATED] = "truncated",
    [SR_RTP_OVERSIZED] = "oversized",
    [SR_RTP_BAD_VERSION] = "bad version",
    [SR_RTP_BAD_PADDING] = "bad padding",
    [SR_RTP_BAD_EXTENSION] = "bad header extension",
    [SR_RTP_RTCP_TYPE] = "RTCP payload type",
  };
  if ((unsigned)why >= SR_RTP_REASON_COUNT)
    return "unknown";
  return names[why];
}

sr_mux_kind sr_mux_classify(const uint8_t *buf, size_t len)
{
  if (!buf || len < 2 || (buf[0] >> 6) != 2)
    return SR_MUX_OTHER;
  if (buf[1] >= 192 && buf[1] <= 223)
    return len >= 4 ? SR_MUX_RTCP : SR_MUX_OTHER;
  return len >= SR_RTP_HEADER_LEN ? SR_MUX_RTP : SR_MUX_OTHER;
}
