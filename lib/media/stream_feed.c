/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Datagrams in: latching, RTP/RTCP demultiplexing, unprotection, parse,
 * sequence state, and into the jitter buffer, whose releases go on to
 * stream_audio.c. */
#include <string.h>

#include "rtcp.h"
#include "rtp.h"
#include "stream_impl.h"

/* SRTP's auth tag and MKI come on top of the largest packet taken. */
#define PROTECTED_MAX (SR_RTP_MAX_PACKET + 64)

/* Unprotect into `copy` when a hook is set: the host's buffer is const.
 * Returns the plain datagram's length, or a negative code. */
static int unprotect(sr_media_stream *s, const uint8_t **buf, size_t *len, bool rtcp,
                     uint8_t *copy)
{
  if (!s->unprotect)
    return 0;
  if (*len > PROTECTED_MAX) {
    SR_MS_COUNT(s, malformed);
    return SIPREC_ETOOBIG;
  }
  memcpy(copy, *buf, *len);
  size_t out = 0;
  int rc = s->unprotect(s->unprotect_ctx, copy, *len, rtcp, &out);
  if (rc < 0 || out > *len) {
    SR_MS_COUNT(s, srtp_failures);
    return rc < 0 ? rc : SIPREC_EPARSE;
  }
  *buf = copy;
  *len = out;
  return 0;
}

static int rtcp_in(sr_media_stream *s, const uint8_t *buf, size_t len, uint64_t now_ns)
{
  uint8_t copy[PROTECTED_MAX];
  if (unprotect(s, &buf, &len, true, copy) < 0)
    return 1;
  sr_rtcp_info info;
  if (sr_rtcp_parse(buf, len, &info, NULL) < 0) {
    SR_MS_COUNT(s, malformed);
    return 1;
  }
  s->rtcp_packets++;
  s->gen++; /* as SR_MS_COUNT */
  if (info.has_sr)
    sr_wallclock_note(&s->wc, &info.sr, now_ns);
  for (unsigned i = 0; i < info.bye_count && i < SR_RTCP_MAX_BYE; i++)
    sr_wallclock_forget(&s->wc, info.bye_ssrc[i]);
  return 0;
}

static void media_seen(sr_media_stream *s, uint64_t now_ns)
{
  s->last_media_ns = now_ns;
  s->no_media_raised = false;
  s->last_packet_ns = now_ns;
}

static int rtp_in(sr_media_stream *s, const uint8_t *buf, size_t len, const sr_ms_addr *from,
                  uint64_t now_ns)
{
  uint8_t copy[PROTECTED_MAX];
  if (unprotect(s, &buf, &len, false, copy) < 0)
    return 1;
  sr_rtp_packet p;
  if (sr_rtp_parse(buf, len, &p, NULL) < 0) {
    SR_MS_COUNT(s, malformed);
    return 1;
  }
  sr_ms_latch(s, from); /* only a valid (authenticated) packet latches */
  if (s->paused) {
    SR_MS_COUNT(s, dropped_paused);
    return 1;
  }
  s->packets++;
  s->bytes += len;
  media_seen(s, now_ns);
  sr_seq_result r;
  sr_seq_update(&s->seq, &p, now_ns, &r);
  if (r.verdict != SR_SEQ_ACCEPT)
    return 0; /* sr_seq counts it (probation, bad, stale) */
  if (r.flags & SR_SEQ_F_REORDERED)
    SR_MS_COUNT(s, reordered);
  sr_jb_push(&s->jb, &p, r.ext_seq, r.flags, now_ns, sr_ms_on_release, s);
  return 0;
}

static int entry_checks(sr_media_stream *s, const uint8_t *buf, const struct sockaddr *from)
{
  if (!s || !buf || !from)
    return SIPREC_EINVAL;
  return s->ended ? 1 : 0;
}

int sr_media_stream_feed(sr_media_stream *s, const uint8_t *buf, size_t len,
                         const struct sockaddr *from, uint64_t now_ns)
{
  int rc = entry_checks(s, buf, from);
  if (rc)
    return rc;
  sr_ms_addr a;
  sr_ms_addr_from(from, &a);
  sr_mux_kind kind = sr_mux_classify(buf, len);
  if (!sr_ms_latch_check(s, &a, kind != SR_MUX_RTCP)) {
    SR_MS_COUNT(s, latch_drops);
    return 1;
  }
  if (kind == SR_MUX_RTCP)
    return rtcp_in(s, buf, len, now_ns);
  if (kind == SR_MUX_RTP)
    return rtp_in(s, buf, len, &a, now_ns);
  SR_MS_COUNT(s, malformed); /* STUN, DTLS, noise */
  return 1;
}

int sr_media_stream_feed_rtcp(sr_media_stream *s, const uint8_t *buf, size_t len,
                              const struct sockaddr *from, uint64_t now_ns)
{
  int rc = entry_checks(s, buf, from);
  if (rc)
    return rc;
  sr_ms_addr a;
  sr_ms_addr_from(from, &a);
  if (!sr_ms_latch_check(s, &a, false)) {
    SR_MS_COUNT(s, latch_drops);
    return 1;
  }
  return rtcp_in(s, buf, len, now_ns);
}
