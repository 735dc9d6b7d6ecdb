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

static sr_rtp_reason read_csrc(const uint8_t *b, size_t len, size_t *off, sr_rtp_packet *out)
{
  if ((size_t)out->csrc_count * 4 > len - *off)
    return SR_RTP_TRUNCATED;
  for (unsigned i = 0; i < out->csrc_count; i++, *off += 4)
    out->csrc[i] = rd32(b + *off);
  return SR_RTP_OK;
}

/* The payload from `off` to the end, less the padding when P is set. */
static sr_rtp_reason read_payload(const uint8_t *b, size_t len, size_t off, sr_rtp_packet *out)
{
  size_t end = len;
  if (b[0] & 0x20) {
    /* The last octet counts itself, so 0 is malformed (RFC 3550 5.1). */
    uint8_t pad = b[len - 1];
    if (pad == 0 || pad > len - off)
      return SR_RTP_BAD_PADDING;
    out->pad_len = pad;
    end -= pad;
  }
  out->payload = b + off;
  out->payload_len = end - off;
  return SR_RTP_OK;
}

/* Everything after the size checks: the 12 octets are there. */
static sr_rtp_reason read_packet(const uint8_t *b, size_t len, sr_rtp_packet *out)
{
  if ((b[0] >> 6) != 2)
    return SR_RTP_BAD_VERSION;
  /* Field by field, not the whole struct: its CSRC list would make that a
   * 112-byte clear (a `rep stos`) on every packet, for entries that
   * csrc_count says are not there. */
  out->csrc_count = 0;
  out->pad_len = 0;
  out->has_ext = false;
  out->ext_profile = 0;
  out->ext = NULL;
  out->ext_len = 0;
  out->payload = NULL;
  out->payload_len = 0;
  read_fixed(b, out);
  if (out->pt >= 64 && out->pt <= 95)
    return SR_RTP_RTCP_TYPE;
  size_t off = SR_RTP_HEADER_LEN;
  sr_rtp_reason r = read_csrc(b, len, &off, out);
  if (r == SR_RTP_OK && (b[0] & 0x10))
    r = read_ext(b, len, &off, out);
  return r == SR_RTP_OK ? read_payload(b, len, off, out) : r;
}

int sr_rtp_parse(const uint8_t *buf, size_t len, sr_rtp_packet *out, sr_rtp_reason *why)
{
  if (!buf || !out)
    return SIPREC_EINVAL;
  sr_rtp_reason r = len > SR_RTP_MAX_PACKET   ? SR_RTP_OVERSIZED
                    : len < SR_RTP_HEADER_LEN ? SR_RTP_TRUNCATED
                                              : read_packet(buf, len, out);
  if (r != SR_RTP_OK)
    return refuse(r, why);
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
