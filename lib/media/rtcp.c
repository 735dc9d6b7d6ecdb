/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Compound RTCP validation and summary. Each packet type has a small reader
 * that checks its counts against its own length before reading, so a
 * compound that passes the A.2 checks but lies inside one packet is still
 * refused rather than read past. */
#include "rtcp.h"

#include <siprec/common.h>

static uint32_t rd32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int refuse(sr_rtcp_reason r, sr_rtcp_reason *why)
{
  if (why)
    *why = r;
  return r == SR_RTCP_OVERSIZED ? SIPREC_ETOOBIG : SIPREC_EPARSE;
}

int sr_rtcp_next(const uint8_t *buf, size_t len, size_t *off, sr_rtcp_header *h,
                 sr_rtcp_reason *why)
{
  if (*off >= len)
    return 0;
  const uint8_t *p = buf + *off;
  size_t left = len - *off;
  if (left < 4)
    return refuse(SR_RTCP_TRUNCATED, why);
  if ((p[0] >> 6) != 2)
    return refuse(SR_RTCP_BAD_VERSION, why);
  size_t total = 4 + 4 * (size_t)((p[2] << 8) | p[3]);
  if (total > left)
    return refuse(SR_RTCP_TRUNCATED, why);
  h->pt = p[1];
  h->count = p[0] & 0x1f;
  h->padding = (p[0] & 0x20) != 0;
  h->body = p + 4;
  h->body_len = total - 4;
  if (h->padding) {
    /* Only the last packet of a compound may be padded (RFC 3550 6.4.1). */
    uint8_t pad = p[total - 1];
    if (total != left || pad == 0 || pad > h->body_len)
      return refuse(SR_RTCP_BAD_PADDING, why);
    h->body_len -= pad;
  }
  *off += total;
  return 1;
}

static bool read_sr(const sr_rtcp_header *h, sr_rtcp_info *out)
{
  if (h->body_len < 24 + 24 * (size_t)h->count)
    return false;
  out->report_blocks += h->count;
  if (out->has_sr)
    return true;
  const uint8_t *b = h->body;
  out->has_sr = true;
  out->sr.ssrc = rd32(b);
  out->sr.ntp = ((uint64_t)rd32(b + 4) << 32) | rd32(b + 8);
  out->sr.rtp_ts = rd32(b + 12);
  out->sr.packets = rd32(b + 16);
  out->sr.octets = rd32(b + 20);
  return true;
}

static bool read_rr(const sr_rtcp_header *h, sr_rtcp_info *out)
{
  if (h->body_len < 4 + 24 * (size_t)h->count)
    return false;
  out->report_blocks += h->count;
  if (!out->has_rr) {
    out->has_rr = true;
    out->rr_ssrc = rd32(h->body);
  }
  return true;
}

/* One SDES chunk at b[*i]: SSRC, items up to a null item, padding to the
 * next 32-bit boundary (chunks start aligned in the body). */
static bool read_chunk(const uint8_t *b, size_t n, size_t *i, sr_rtcp_info *out)
{
  if (n - *i < 4)
    return false;
  uint32_t ssrc = rd32(b + *i);
  size_t k = *i + 4;
  for (;;) {
    if (k >= n)
      return false;
    uint8_t type = b[k];
    if (type == 0)
      break;
    if (n - k < 2 || (size_t)b[k + 1] > n - k - 2)
      return false;
    if (type == 1 && !out->has_cname) {
      out->has_cname = true;
      out->cname_ssrc = ssrc;
      out->cname = b + k + 2;
      out->cname_len = b[k + 1];
    }
    k += 2 + (size_t)b[k + 1];
  }
  k = (k + 4) & ~(size_t)3; /* past the null octet, to the boundary */
  if (k > n)
    return false;
  *i = k;
  return true;
}

static bool read_sdes(const sr_rtcp_header *h, sr_rtcp_info *out)
{
  size_t i = 0;
  for (unsigned c = 0; c < h->count; c++)
    if (!read_chunk(h->body, h->body_len, &i, out))
      return false;
  out->sdes_chunks += h->count;
  return true;
}

static bool read_bye(const sr_rtcp_header *h, sr_rtcp_info *out)
{
  if (h->body_len < 4 * (size_t)h->count)
    return false;
  for (unsigned s = 0; s < h->count; s++, out->bye_count++)
    if (out->bye_count < SR_RTCP_MAX_BYE)
      out->bye_ssrc[out->bye_count] = rd32(h->body + 4 * s);
  return true;
}

static bool read_packet(const sr_rtcp_header *h, sr_rtcp_info *out)
{
  out->packets++;
  switch (h->pt) {
  case SR_RTCP_SR:
    return read_sr(h, out);
  case SR_RTCP_RR:
    return read_rr(h, out);
  case SR_RTCP_SDES:
    return read_sdes(h, out);
  case SR_RTCP_BYE:
    return read_bye(h, out);
  case SR_RTCP_APP:
    out->app_count++;
    return h->body_len >= 8; /* SSRC and the 4-character name */
  default:
    out->other_count++;
    return true;
  }
}

int sr_rtcp_parse(const uint8_t *buf, size_t len, sr_rtcp_info *out, sr_rtcp_reason *why)
{
  if (!buf || !out)
    return SIPREC_EINVAL;
  if (len > SR_RTCP_MAX_PACKET)
    return refuse(SR_RTCP_OVERSIZED, why);
  if (len < 4)
    return refuse(SR_RTCP_TRUNCATED, why);
  /* A.2: the first packet is SR or RR and unpadded, whatever follows. */
  if ((buf[0] >> 6) == 2 && ((buf[0] & 0x20) || (buf[1] != SR_RTCP_SR && buf[1] != SR_RTCP_RR)))
    return refuse(SR_RTCP_BAD_FIRST, why);
  *out = (sr_rtcp_info){ 0 };
  size_t off = 0;
  sr_rtcp_header h;
  int rc;
  while ((rc = sr_rtcp_next(buf, len, &off, &h, why)) == 1)
    if (!read_packet(&h, out))
      return refuse(SR_RTCP_BAD_BODY, why);
  if (rc < 0)
    return rc;
  if (why)
    *why = SR_RTCP_OK;
  return 0;
}

const char *sr_rtcp_reason_name(sr_rtcp_reason why)
{
  static const char *const names[SR_RTCP_REASON_COUNT] = {
    [SR_RTCP_OK] = "ok",
    [SR_RTCP_TRUNCATED] = "truncated",
    [SR_RTCP_OVERSIZED] = "oversized",
    [SR_RTCP_BAD_VERSION] = "bad version",
    [SR_RTCP_BAD_FIRST] = "first packet not SR or RR",
    [SR_RTCP_BAD_PADDING] = "bad padding",
    [SR_RTCP_BAD_BODY] = "count past the packet's length",
  };
  if ((unsigned)why >= SR_RTCP_REASON_COUNT)
    return "unknown";
  return names[why];
}
