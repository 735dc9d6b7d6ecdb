/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Packets released by the jitter buffer, in sequence order, to audio:
 * DTMF and comfort noise apart, codec changes, and what lies between one
 * packet and the next (nothing, a concealable loss, a gap, or a
 * discontinuity). */
#include <string.h>

#include "stream_impl.h"

/* A timestamp more than a second off where the audio so far ends is a
 * silence (DTX, a sender that stopped) when the arrival times moved alike,
 * within the jitter depth and this slack; otherwise a jump. */
#define REALTIME_SLACK_MS 500
/* Comfort noise fills a silence up to this long; the rest is a gap, so a
 * sender that sent CN and vanished does not make minutes of noise. */
#define CN_FILL_MAX_MS 30000

const sr_ms_codec *sr_ms_find_codec(const sr_media_stream *s, int pt)
{
  for (unsigned i = 0; i < s->n_codecs; i++)
    if (s->codecs[i].pt == pt)
      return &s->codecs[i];
  return NULL;
}

static bool opus_rate_ok(uint32_t r)
{
  return r == 8000 || r == 12000 || r == 16000 || r == 24000 || r == 48000;
}

static int make_decoder(const sr_media_stream *s, const sr_ms_codec *c, sr_decoder **out)
{
  sr_decoder_params p = {
    .encoding = c->encoding[0] ? c->encoding : NULL, .payload_type = c->pt,
    .clock_rate = c->clock_rate, .channels = c->channels, .fmtp = c->fmtp,
    .opus_rate = c->opus_rate,
  };
  /* Opus decodes at the host's rate itself when it can: no resampler. */
  if (!p.opus_rate && opus_rate_ok(s->out_rate_cfg))
    p.opus_rate = s->out_rate_cfg;
  return sr_decoder_new(&s->alloc, &p, out);
}

/* The output rate and resampler for a decoder of `rate`. */
static int fit_output(sr_media_stream *s, uint32_t rate)
{
  uint32_t out = s->out_rate_cfg ? s->out_rate_cfg : rate;
  if (out == s->rate && (s->rs ? rate == s->dec_rate : rate == out) && s->frame)
    return 0;
  sr_ms_close_span(s);
  sr_resampler *rs = NULL;
  if (rate != out) {
    int rc = sr_resampler_new(&s->alloc, rate, out, -1, &rs);
    if (rc < 0)
      return rc;
  }
  int rc = sr_ms_set_rate(s, out);
  if (rc < 0) {
    sr_resampler_free(rs);
    return rc;
  }
  sr_resampler_free(s->rs);
  s->rs = rs;
  return 0;
}

int sr_ms_use_codec(sr_media_stream *s, int pt, uint64_t now_ns)
{
  const sr_ms_codec *c = sr_ms_find_codec(s, pt);
  if (!c)
    return SIPREC_ENOTFOUND;
  sr_decoder *d;
  int rc = make_decoder(s, c, &d);
  if (rc < 0)
    return rc;
  if ((rc = fit_output(s, sr_decoder_rate(d))) < 0) {
    sr_decoder_free(d);
    return rc;
  }
  bool change = s->dec != NULL;
  sr_decoder_free(s->dec);
  s->dec = d;
  s->dec_pt = pt;
  s->dec_rate = sr_decoder_rate(d);
  if (s->dec_clock != sr_decoder_clock_rate(d))
    s->has_prev = false; /* timestamps of two clocks do not compare */
  s->dec_clock = sr_decoder_clock_rate(d);
  if (change) {
    sr_ms_raise(s, SR_MS_EV_CODEC_CHANGED, 0, now_ns);
    s->pending_flags |= SR_MS_F_CODEC_CHANGED;
  }
  return 0;
}

static bool ensure_scratch(sr_media_stream *s, size_t n)
{
  if (n <= s->scratch_cap)
    return true;
  int16_t *b = sr_realloc(&s->alloc, s->scratch, n * sizeof *b);
  if (!b)
    return false;
  s->scratch = b;
  s->scratch_cap = n;
  return true;
}

static unsigned ms_flags(unsigned dec_flags)
{
  return (dec_flags & SR_DEC_CONCEALED ? SR_MS_F_CONCEALED : 0u) |
         (dec_flags & SR_DEC_COMFORT_NOISE ? SR_MS_F_COMFORT_NOISE : 0u);
}

static uint64_t span_samples(const sr_media_stream *s, uint64_t ticks)
{
  return s->dec_clock ? ticks * s->rate / s->dec_clock : 0;
}

/* A new SSRC or a jump: the span skipped is estimated from the arrival
 * times (the sender's timestamps no longer say anything). */
static void discontinuity(sr_media_stream *s, const sr_jb_packet *p)
{
  uint64_t end = s->prev_arrival + s->prev_dur_ns;
  uint64_t est = p->arrival_ns > end ? p->arrival_ns - end : 0;
  sr_ms_break(s, SR_MS_EV_DISCONTINUITY, sr_ms_ns_to_samples(est, s->rate), p->arrival_ns);
  s->pending_flags |= SR_MS_F_AFTER_DISCONTINUITY;
  s->has_prev = false;
  s->in_cn = false;
}

static bool moved_in_real_time(const sr_media_stream *s, const sr_jb_packet *p)
{
  int32_t dts = (int32_t)(p->ts - s->prev_ts);
  if (dts <= 0 || p->arrival_ns < s->prev_arrival)
    return false;
  uint64_t ts_ns = (uint64_t)dts * 1000000000u / s->dec_clock;
  uint64_t arr = p->arrival_ns - s->prev_arrival;
  uint64_t slack = (uint64_t)(REALTIME_SLACK_MS + s->jitter_ms) * 1000000u;
  return ts_ns > arr ? ts_ns - arr <= slack : arr - ts_ns <= slack;
}

/* Ticks between the audio so far and `p` (0 when none or it overlaps), or
 * -1 after a discontinuity was reported. */
static int64_t continuity(sr_media_stream *s, const sr_jb_packet *p)
{
  if (!s->has_prev)
    return 0;
  int64_t gap = (int32_t)(p->ts - s->next_ts);
  bool jump = gap > (int64_t)s->dec_clock || gap < -(int64_t)s->dec_clock;
  if ((p->flags & SR_JB_F_NEW_SOURCE) || p->ssrc != s->prev_ssrc ||
      (jump && !moved_in_real_time(s, p))) {
    discontinuity(s, p);
    return -1;
  }
  return gap > 0 ? gap : 0;
}

/* When the audio so far ended: where concealment and noise start. */
static uint64_t prev_end(const sr_media_stream *s)
{
  return s->prev_arrival + s->prev_dur_ns;
}

static void fill_cn(sr_media_stream *s, uint64_t n, uint64_t now_ns)
{
  uint64_t max = (uint64_t)CN_FILL_MAX_MS * s->dec_rate / 1000;
  uint64_t fill = n < max ? n : max;
  while (fill) {
    size_t k = fill < s->scratch_cap ? (size_t)fill : s->scratch_cap;
    sr_cn_generate(&s->cn, s->scratch, k);
    sr_ms_audio(s, s->scratch, k, SR_MS_F_COMFORT_NOISE, prev_end(s));
    fill -= k;
  }
  if (n > max) {
    sr_ms_break(s, SR_MS_EV_GAP, (n - max) * s->rate / s->dec_rate, now_ns);
    s->pending_flags |= SR_MS_F_AFTER_GAP;
  }
}

/* What lies between the audio so far and `p`: comfort noise after CN,
 * concealment when short, else a gap. */
static void fill_gap(sr_media_stream *s, uint64_t ticks, const sr_jb_packet *p)
{
  uint64_t n = ticks * s->dec_rate / s->dec_clock;
  if (n == 0)
    return;
  if (s->in_cn && ensure_scratch(s, s->dec_rate / 50 + 1)) {
    fill_cn(s, n, p->arrival_ns);
    return;
  }
  unsigned flags = 0;
  if (n * 1000 <= (uint64_t)s->conceal_ms * s->dec_rate && ensure_scratch(s, (size_t)n) &&
      sr_decoder_conceal_fec(s->dec, p->payload, p->payload_len, (size_t)n, s->scratch,
                             s->scratch_cap, &flags) == (int)n) {
    sr_ms_audio(s, s->scratch, (size_t)n, ms_flags(flags) | SR_MS_F_CONCEALED, prev_end(s));
    return;
  }
  sr_ms_break(s, SR_MS_EV_GAP, span_samples(s, ticks), p->arrival_ns);
  s->pending_flags |= SR_MS_F_AFTER_GAP;
}

static void note_prev(sr_media_stream *s, const sr_jb_packet *p, size_t n)
{
  s->has_prev = true;
  s->prev_ts = p->ts;
  s->next_ts = p->ts + (uint32_t)((uint64_t)n * s->dec_clock / s->dec_rate);
  s->prev_ssrc = p->ssrc;
  s->prev_arrival = p->arrival_ns;
  s->prev_dur_ns = (uint64_t)n * 1000000000u / s->dec_rate;
}

static void decode(sr_media_stream *s, const sr_jb_packet *p)
{
  int n = sr_decoder_samples(s->dec, p->payload, p->payload_len);
  unsigned flags = 0;
  if (n < 0 || (uint64_t)n * 1000 > (uint64_t)SR_MS_MAX_PACKET_MS * s->dec_rate) {
    SR_MS_COUNT(s, decode_errors); /* its span becomes the next packet's gap */
    return;
  }
  /* A packet of one frame's length (20 ms packets, 20 ms frames: the usual
   * case) is decoded on the stack and delivered from there: no copy, and
   * no write to the stream's own buffer, which a busy server has long
   * evicted from the cache since its last packet. */
  int16_t direct_buf[SR_MS_DIRECT_MAX];
  int16_t *direct = n && sr_ms_direct_ok(s, (size_t)n) ? direct_buf : NULL;
  if (direct) {
    n = sr_decoder_decode(s->dec, p->payload, p->payload_len, direct, (size_t)n, &flags);
  } else if (ensure_scratch(s, n ? (size_t)n : 1)) {
    n = sr_decoder_decode(s->dec, p->payload, p->payload_len, s->scratch, s->scratch_cap,
                          &flags);
  } else {
    n = -1;
  }
  if (n < 0) {
    SR_MS_COUNT(s, decode_errors);
    return;
  }
  s->ts_pos = s->frame_pos + s->fill;
  s->ts_at = p->ts;
  s->ts_ssrc = p->ssrc;
  s->in_cn = false;
  if (n && direct)
    sr_ms_audio_direct(s, direct, (size_t)n, ms_flags(flags), p->arrival_ns);
  else if (n)
    sr_ms_audio(s, s->scratch, (size_t)n, ms_flags(flags), p->arrival_ns);
  note_prev(s, p, (size_t)n);
}

static void comfort_noise(sr_media_stream *s, const sr_jb_packet *p)
{
  sr_cn_info info;
  if (sr_cn_parse(p->payload, p->payload_len, &info) < 0) {
    SR_MS_COUNT(s, decode_errors);
    return;
  }
  sr_cn_set_level(&s->cn, info.level);
  s->in_cn = true;
  note_prev(s, p, 0);
}

static void dtmf(sr_media_stream *s, const sr_jb_packet *p)
{
  sr_dtmf_event ev;
  int rc = sr_dtmf_feed(&s->dtmf, p->ts, p->payload, p->payload_len, &ev);
  if (rc < 0)
    SR_MS_COUNT(s, decode_errors);
  if (rc <= 0 || !s->cb.on_dtmf)
    return;
  sr_ms_dtmf d = {
    .digit = ev.digit, .code = ev.code, .start = rc & SR_DTMF_START, .end = rc & SR_DTMF_END,
    .volume = ev.volume, .duration_ms = (uint32_t)((uint64_t)ev.duration * 1000 / s->clock),
    .position = s->dec ? sr_ms_ts_position(s, ev.timestamp) : s->frame_pos + s->fill,
    .time_ns = p->arrival_ns,
  };
  s->cb.on_dtmf(s->cb.user, &d);
}

void sr_ms_on_release(void *user, const sr_jb_packet *p)
{
  sr_media_stream *s = user;
  if (p->pt == s->dtmf_pt) {
    dtmf(s, p);
    return;
  }
  bool cn = p->pt == s->cn_pt;
  /* CN before any audio (a sender silent from the start) sets up the
   * offer's first codec, whose rate the noise is made at. */
  int want = cn ? (s->dec ? s->dec_pt : s->codecs[0].pt) : p->pt;
  if (want != s->dec_pt && sr_ms_use_codec(s, want, p->arrival_ns) < 0) {
    SR_MS_COUNT(s, decode_errors); /* a PT nobody offered, or one not built */
    return;
  }
  int64_t gap = continuity(s, p);
  if (gap > 0)
    fill_gap(s, (uint64_t)gap, p);
  if (cn)
    comfort_noise(s, p);
  else
    decode(s, p);
}
