/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dtmf.h"

#include <siprec/common.h>

int sr_dtmf_parse(const uint8_t *payload, size_t len, sr_dtmf_payload *out)
{
  if ((!payload && len) || !out)
    return SIPREC_EINVAL;
  if (len < 4)
    return SIPREC_EPARSE;
  out->event = payload[0];
  out->end = (payload[1] & 0x80) != 0;
  out->volume = payload[1] & 0x3f;
  out->duration = (uint16_t)((unsigned)payload[2] << 8 | payload[3]);
  return 0;
}

char sr_dtmf_digit(uint8_t event)
{
  static const char keys[16] = "0123456789*#ABCD";
  return event < 16 ? keys[event] : '\0';
}

void sr_dtmf_init(sr_dtmf *s)
{
  *s = (sr_dtmf){0};
}

/* A timestamp before the current press's: a straggler of an older one.
 * Serial-number arithmetic, as RTP timestamps wrap. */
static bool older(const sr_dtmf *s, uint32_t ts)
{
  return s->seen && (int32_t)(ts - s->timestamp) < 0;
}

int sr_dtmf_feed(sr_dtmf *s, uint32_t rtp_timestamp, const uint8_t *payload, size_t len,
                 sr_dtmf_event *ev)
{
  sr_dtmf_payload p;
  if (!s || !ev)
    return SIPREC_EINVAL;
  int rc = sr_dtmf_parse(payload, len, &p);
  if (rc < 0)
    return rc;
  char digit = sr_dtmf_digit(p.event);
  if (!digit || older(s, rtp_timestamp))
    return 0;
  int what = 0;
  if (!s->seen || rtp_timestamp != s->timestamp) {
    *s = (sr_dtmf){.timestamp = rtp_timestamp, .active = true, .seen = true};
    what |= SR_DTMF_START;
  }
  if (p.end && !s->ended) {
    s->ended = true;
    s->active = false;
    what |= SR_DTMF_END;
  }
  if (what)
    *ev = (sr_dtmf_event){.digit = digit, .code = p.event, .volume = p.volume,
                          .duration = p.duration, .timestamp = rtp_timestamp};
  return what;
}
