/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's resume point (stream.h): read for a snapshot, taken by the
 * stream a restored session makes for its first packet. */
#include <string.h>

#include "stream_impl.h"

void sr_media_stream_resume_point(const sr_media_stream *s, sr_media_resume *out)
{
  memset(out, 0, sizeof *out);
  if (s->latched && s->latch.family) {
    out->latched = true;
    out->family = s->latch.family;
    memcpy(out->ip, s->latch.ip, sizeof out->ip);
    out->port = s->latch.port;
  }
  out->seq_ssrc = s->seq.ssrc;
  out->seq_cycles = s->seq.cycles;
  if (s->has_prev && s->dec_clock) {
    out->has_audio = true;
    out->ssrc = s->prev_ssrc;
    out->next_ts = s->next_ts;
    out->clock = s->dec_clock;
    out->position = s->frame_pos + s->fill;
    out->rate = s->rate;
    out->end_ns = s->prev_arrival + s->prev_dur_ns;
  }
}

void sr_media_stream_resume_from(sr_media_stream *s, const sr_media_resume *r)
{
  if (s->started || s->packets)
    return; /* it has begun on its own: its own state stands */
  if (r->latched && (r->family == 4 || r->family == 6)) {
    s->latch.family = r->family;
    memcpy(s->latch.ip, r->ip, sizeof s->latch.ip);
    s->latch.port = r->port;
    s->latched = true;
  }
  if (!r->has_audio || !r->clock || r->rate != s->rate)
    return;
  /* As if the audio so far had just been delivered here: the first packet
   * then finds a gap of the downtime after it (continuity()). */
  s->frame_pos = r->position;
  s->fill = 0;
  s->has_prev = true;
  s->prev_ssrc = r->ssrc;
  s->next_ts = r->next_ts;
  s->prev_ts = r->next_ts;
  s->dec_clock = r->clock;
  s->prev_arrival = r->end_ns;
  s->prev_dur_ns = 0;
}
