/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Audio to frames of one duration, and the timeline they sit on. */
#include <string.h>

#include "stream_impl.h"

uint64_t sr_ms_ns_to_samples(uint64_t ns, uint32_t rate)
{
  /* Split so that days of nanoseconds times 192 kHz cannot overflow. */
  return ns / 1000000000u * rate + ns % 1000000000u * rate / 1000000000u;
}

static uint64_t samples_to_ns(uint64_t n, uint32_t rate)
{
  return rate ? n / rate * 1000000000u + n % rate * 1000000000u / rate : 0;
}

/* The output rate becomes `rate` (a codec of another rate without a fixed
 * output rate): the position is converted, the frame buffer resized. The
 * caller closed the span first, so the frame is empty. */
int sr_ms_set_rate(sr_media_stream *s, uint32_t rate)
{
  size_t len = (size_t)rate * s->frame_ms / 1000;
  if (len == 0)
    return SIPREC_EINVAL;
  if (len != s->frame_len || !s->frame) {
    int16_t *f = sr_malloc(&s->alloc, len * sizeof *f);
    if (!f)
      return SIPREC_ENOMEM;
    sr_free(&s->alloc, s->frame);
    s->frame = f;
    s->frame_len = len;
  }
  if (s->rate && s->rate != rate) {
    s->frame_pos = s->frame_pos * rate / s->rate;
    s->need_anchor = true;
  }
  s->rate = rate;
  s->fill = 0;
  s->frame_arrival = 0;
  return 0;
}

uint64_t sr_ms_ts_position(const sr_media_stream *s, uint32_t ts)
{
  int64_t d = (int32_t)(ts - s->ts_at);
  int64_t off = s->dec_clock ? d * (int64_t)s->rate / (int64_t)s->dec_clock : 0;
  return off < 0 && (uint64_t)-off > s->ts_pos ? 0 : (uint64_t)((int64_t)s->ts_pos + off);
}

static int64_t frame_wallclock(const sr_media_stream *s)
{
  if (!s->rtcp_packets)
    return 0; /* no sender report yet: spare the table's cache lines */
  const sr_sr_ref *ref = sr_wallclock_find(&s->wc, s->ts_ssrc);
  if (!ref || !s->rate || !s->dec_clock)
    return 0;
  int64_t d = (int64_t)s->frame_pos - (int64_t)s->ts_pos;
  uint32_t ts = s->ts_at + (uint32_t)(d * (int64_t)s->dec_clock / (int64_t)s->rate);
  return sr_ntp_to_unix_ns(sr_rtp_to_ntp(ref, ts, s->dec_clock));
}

/* The frame at `samples` (the stream's buffer, or a direct decode's). */
static void emit_frame(sr_media_stream *s, const int16_t *samples)
{
  sr_ms_frame f = {
    .samples = samples, .count = s->frame_len, .rate = s->rate, .position = s->frame_pos,
    .ssrc = s->ts_ssrc, .pt = s->dec_pt, .flags = s->frame_flags,
  };
  int64_t d = (int64_t)s->frame_pos - (int64_t)s->anchor_pos;
  f.time_ns = d < 0 ? s->anchor_ns - samples_to_ns((uint64_t)-d, s->rate)
                    : s->anchor_ns + samples_to_ns((uint64_t)d, s->rate);
  f.wallclock_ns = frame_wallclock(s);
  f.arrival_ns = s->frame_arrival;
  if (s->cb.on_frame)
    s->cb.on_frame(s->cb.user, &f);
  s->frame_pos += s->frame_len;
  s->fill = 0;
  s->frame_flags = 0;
  s->frame_arrival = 0;
}

/* Output-rate samples into frames; `arrival_ns` 0 for made-up audio. */
static void push_out(sr_media_stream *s, const int16_t *pcm, size_t n, unsigned flags,
                     uint64_t arrival_ns)
{
  while (n) {
    s->frame_flags |= flags | s->pending_flags;
    s->pending_flags = 0;
    if (!s->frame_arrival)
      s->frame_arrival = arrival_ns;
    size_t k = s->frame_len - s->fill;
    if (k > n)
      k = n;
    memcpy(s->frame + s->fill, pcm, k * sizeof *pcm);
    s->fill += k;
    pcm += k;
    n -= k;
    if (s->fill == s->frame_len)
      emit_frame(s, s->frame);
  }
}

/* The arrival a frame takes from this audio: none for made-up audio. */
static uint64_t received(unsigned flags, uint64_t arrival_ns)
{
  return flags & (SR_MS_F_CONCEALED | SR_MS_F_COMFORT_NOISE) ? 0 : arrival_ns;
}

static void start_if_needed(sr_media_stream *s, uint64_t arrival_ns)
{
  if (!s->started) {
    s->started = true;
    sr_ms_raise(s, SR_MS_EV_STARTED, 0, arrival_ns);
  }
  if (s->need_anchor) {
    s->need_anchor = false;
    s->anchor_pos = s->frame_pos + s->fill;
    s->anchor_ns = arrival_ns;
  }
}

bool sr_ms_direct_ok(const sr_media_stream *s, size_t n)
{
  return !s->rs && s->fill == 0 && n == s->frame_len && n <= SR_MS_DIRECT_MAX && s->frame;
}

void sr_ms_audio_direct(sr_media_stream *s, const int16_t *pcm, size_t n, unsigned flags,
                        uint64_t arrival_ns)
{
  start_if_needed(s, arrival_ns);
  s->frame_flags |= flags | s->pending_flags;
  s->pending_flags = 0;
  s->frame_arrival = received(flags, arrival_ns);
  s->fill = n;
  emit_frame(s, pcm);
}

/* Decoder-rate samples: resampled when the output rate differs. A
 * resampler's failure cannot happen with the buffer sized by its out_max;
 * should it, the samples are dropped rather than the stream stalled. */
void sr_ms_audio(sr_media_stream *s, const int16_t *pcm, size_t n, unsigned flags,
                 uint64_t arrival_ns)
{
  start_if_needed(s, arrival_ns);
  uint64_t arrived = received(flags, arrival_ns);
  if (!s->rs) {
    push_out(s, pcm, n, flags, arrived);
    return;
  }
  size_t need = sr_resampler_out_max(s->rs, n);
  if (need > s->rs_cap) {
    int16_t *b = sr_realloc(&s->alloc, s->rs_buf, need * sizeof *b);
    if (!b)
      return;
    s->rs_buf = b;
    s->rs_cap = need;
  }
  int m = sr_resampler_process(s->rs, pcm, n, s->rs_buf, s->rs_cap);
  if (m > 0)
    push_out(s, s->rs_buf, (size_t)m, flags, arrived);
}

static void flush_resampler(sr_media_stream *s)
{
  if (!s->rs)
    return;
  size_t need = sr_resampler_flush_max(s->rs);
  if (need > s->rs_cap) {
    int16_t *b = sr_realloc(&s->alloc, s->rs_buf, need * sizeof *b);
    if (!b) {
      sr_resampler_reset(s->rs);
      return;
    }
    s->rs_buf = b;
    s->rs_cap = need;
  }
  int m = sr_resampler_flush(s->rs, s->rs_buf, s->rs_cap);
  if (m > 0)
    push_out(s, s->rs_buf, (size_t)m, 0, 0);
}

uint64_t sr_ms_close_span(sr_media_stream *s)
{
  flush_resampler(s);
  if (s->fill == 0)
    return 0;
  uint64_t pad = s->frame_len - s->fill;
  memset(s->frame + s->fill, 0, pad * sizeof *s->frame);
  s->fill = s->frame_len;
  s->frame_flags |= SR_MS_F_PADDED;
  emit_frame(s, s->frame);
  return pad;
}

void sr_ms_raise(sr_media_stream *s, sr_ms_event_type type, uint64_t samples, uint64_t now_ns)
{
  sr_ms_event e = {
    .type = type, .samples = samples, .position = s->frame_pos + s->fill, .rate = s->rate,
    .time_ns = now_ns, .pt = s->dec_pt, .ssrc = s->ts_ssrc,
  };
  if (s->cb.on_event)
    s->cb.on_event(s->cb.user, &e);
}

void sr_ms_break(sr_media_stream *s, sr_ms_event_type type, uint64_t span, uint64_t now_ns)
{
  uint64_t pad = sr_ms_close_span(s);
  uint64_t samples = span > pad ? span - pad : 0;
  sr_ms_raise(s, type, samples, now_ns);
  s->frame_pos += samples;
  s->need_anchor = true;
  if (s->dec)
    sr_decoder_reset(s->dec);
}
