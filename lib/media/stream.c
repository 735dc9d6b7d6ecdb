/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sr_media_stream's lifecycle: creation and re-INVITEs, pause and resume,
 * the end, timers and counters. */
#include <stddef.h>
#include <string.h>

#include "../common/prefetch.h"
#include "stream_impl.h"

size_t sr_media_stream_sizeof(void)
{
  return sizeof(sr_media_stream);
}

/* Sequence state and jitter buffer on the RTP clock `clock`. Probation is
 * one packet: latching already keeps strangers out, and the first packet
 * of a recording (or of a new SSRC) is audio worth keeping. */
static int init_receive(sr_media_stream *s, uint32_t clock)
{
  sr_seq_config sc = { .clock_rate = clock, .min_sequential = 1 };
  sr_jb_config jc = { .clock_rate = clock, .depth_ms = s->jitter_ms };
  int rc = sr_seq_init(&s->seq, &sc);
  if (rc == 0)
    rc = sr_jb_init(&s->jb, &jc, &s->alloc);
  s->clock = clock;
  return rc;
}

static int setup(sr_media_stream *s, const sr_media_stream_config *cfg, uint64_t now_ns)
{
  int rc = sr_ms_copy_codecs(&s->alloc, cfg, s->codecs, &s->n_codecs);
  if (rc < 0)
    return rc;
  sr_ms_apply_settings(s, cfg);
  sr_ms_apply_source(s, cfg);
  s->jitter_ms = cfg->jitter_ms ? cfg->jitter_ms : SR_MS_DEFAULT_JITTER_MS;
  s->frame_ms = cfg->frame_ms ? cfg->frame_ms : SR_MS_DEFAULT_FRAME_MS;
  s->out_rate_cfg = cfg->out_rate;
  uint32_t clock = sr_ms_nominal_clock(&s->codecs[0]);
  s->rate = cfg->out_rate ? cfg->out_rate : clock;
  s->dec_pt = -1;
  s->need_anchor = true;
  s->last_media_ns = now_ns;
  sr_dtmf_init(&s->dtmf);
  sr_cn_init(&s->cn);
  return init_receive(s, clock);
}

int sr_media_stream_new(const siprec_allocator *alloc, const sr_media_stream_config *cfg,
                        const sr_media_stream_callbacks *cb, uint64_t now_ns,
                        sr_media_stream **out)
{
  if (!out || sr_ms_check_config(cfg) < 0)
    return SIPREC_EINVAL;
  int rc;
  siprec_allocator a;
  sr_media_stream *s = sr_object_new(alloc, sizeof *s, &a, &rc);
  if (!s)
    return rc;
  s->alloc = a;
  if (cb)
    s->cb = *cb;
  if ((rc = setup(s, cfg, now_ns)) < 0) {
    sr_media_stream_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void sr_media_stream_free(sr_media_stream *s)
{
  if (!s)
    return;
  sr_jb_free(&s->jb);
  sr_decoder_free(s->dec);
  sr_resampler_free(s->rs);
  sr_free(&s->alloc, s->scratch);
  sr_free(&s->alloc, s->rs_buf);
  sr_free(&s->alloc, s->frame);
  sr_ms_free_codecs(s);
  siprec_allocator a = s->alloc;
  sr_free(&a, s);
}

static void add_stats(sr_jb_stats *base, const sr_jb_stats *st)
{
  base->lost_packets += st->lost_packets;
  base->duplicates += st->duplicates;
  base->late += st->late;
}

/* A new RTP clock (a codec of another clock rate by re-INVITE): what the
 * old buffer holds goes out first, then ordering starts again. */
static int change_clock(sr_media_stream *s, uint32_t clock)
{
  if (!s->paused)
    sr_jb_flush(&s->jb, sr_ms_on_release, s);
  add_stats(&s->jb_base, &s->jb.stats);
  /* The new buffer counts its changes from 0: the sum stays monotonic. */
  s->gen += s->jb.changes + 1u;
  sr_jb_free(&s->jb);
  s->has_prev = false;
  return init_receive(s, clock);
}

/* The decoder in use was replaced by the re-INVITE when its PT is gone or
 * now names another codec: the next packet makes a new one. */
static bool same_codec(const sr_ms_codec *a, const sr_ms_codec *b)
{
  return a && b && a->clock_rate == b->clock_rate && a->channels == b->channels &&
         strcmp(a->encoding, b->encoding) == 0;
}

int sr_media_stream_reconfigure(sr_media_stream *s, const sr_media_stream_config *cfg,
                                uint64_t now_ns)
{
  if (!s || sr_ms_check_config(cfg) < 0)
    return SIPREC_EINVAL;
  sr_ms_codec table[SR_MS_MAX_CODECS];
  unsigned n = 0;
  int rc = sr_ms_copy_codecs(&s->alloc, cfg, table, &n);
  if (rc < 0)
    return rc;
  uint32_t clock = sr_ms_nominal_clock(&table[0]);
  if (clock != s->clock && (rc = change_clock(s, clock)) < 0) {
    for (unsigned i = 0; i < n; i++)
      sr_free(&s->alloc, table[i].fmtp);
    return rc;
  }
  const sr_ms_codec *old = sr_ms_find_codec(s, s->dec_pt);
  sr_ms_codec kept = old ? *old : (sr_ms_codec){ 0 };
  sr_ms_free_codecs(s);
  memcpy(s->codecs, table, sizeof table[0] * n);
  s->n_codecs = n;
  if (!same_codec(old ? &kept : NULL, sr_ms_find_codec(s, s->dec_pt)))
    s->dec_pt = -1;
  sr_ms_apply_settings(s, cfg);
  if (sr_ms_apply_source(s, cfg))
    s->latched = false; /* the SRC moved (an SBC failover): latch again */
  (void)now_ns;
  return 0;
}

void sr_media_stream_pause(sr_media_stream *s, uint64_t now_ns)
{
  if (!s || s->paused || s->ended)
    return;
  sr_jb_flush(&s->jb, sr_ms_on_release, s);
  s->pause_pad = sr_ms_close_span(s);
  sr_ms_raise(s, SR_MS_EV_PAUSED, 0, now_ns);
  s->paused = true;
  s->pause_ns = now_ns;
}

/* The pause's length in output samples, less the padding its start gave. */
static uint64_t pause_span(const sr_media_stream *s, uint64_t now_ns)
{
  uint64_t n = now_ns > s->pause_ns ? sr_ms_ns_to_samples(now_ns - s->pause_ns, s->rate) : 0;
  return n > s->pause_pad ? n - s->pause_pad : 0;
}

void sr_media_stream_resume(sr_media_stream *s, uint64_t now_ns)
{
  if (!s || !s->paused || s->ended)
    return;
  uint64_t n = pause_span(s, now_ns);
  sr_ms_raise(s, SR_MS_EV_RESUMED, n, now_ns);
  s->frame_pos += n;
  s->paused = false;
  s->has_prev = false; /* the pause accounted for the time: no gap after it */
  s->in_cn = false;
  s->need_anchor = true;
  s->pending_flags |= SR_MS_F_AFTER_GAP;
  s->last_media_ns = now_ns;
  s->no_media_raised = false;
  if (s->dec)
    sr_decoder_reset(s->dec);
}

void sr_media_stream_end(sr_media_stream *s, uint64_t now_ns)
{
  if (!s || s->ended)
    return;
  uint64_t n = 0;
  if (s->paused) {
    n = pause_span(s, now_ns);
  } else {
    sr_jb_flush(&s->jb, sr_ms_on_release, s);
    sr_ms_close_span(s);
  }
  s->ended = true;
  sr_ms_raise(s, SR_MS_EV_ENDED, n, now_ns);
}

static bool no_media_due(const sr_media_stream *s, uint64_t *at)
{
  if (s->paused || s->ended || s->no_media_raised)
    return false;
  *at = s->last_media_ns + (uint64_t)s->no_media_ms * 1000000u;
  return true;
}

bool sr_media_stream_next_deadline(const sr_media_stream *s, uint64_t *deadline)
{
  if (!s || !deadline || s->ended)
    return false;
  uint64_t jb = 0, nm = 0;
  bool has_jb = !s->paused && sr_jb_next_deadline(&s->jb, &jb);
  bool has_nm = no_media_due(s, &nm);
  if (!has_jb && !has_nm)
    return false;
  *deadline = !has_jb ? nm : !has_nm ? jb : jb < nm ? jb : nm;
  return true;
}

void sr_media_stream_expire(sr_media_stream *s, uint64_t now_ns)
{
  if (!s || s->ended)
    return;
  if (!s->paused)
    sr_jb_expire(&s->jb, now_ns, sr_ms_on_release, s);
  uint64_t at;
  if (no_media_due(s, &at) && now_ns >= at) {
    s->no_media_raised = true;
    sr_ms_raise(s, SR_MS_EV_NO_MEDIA, 0, now_ns);
  }
}

void sr_media_stream_counters(const sr_media_stream *s, sr_ms_counters *out)
{
  if (!s || !out)
    return;
  *out = s->c;
  out->packets = s->packets;
  out->bytes = s->bytes;
  out->rtcp_packets = s->rtcp_packets;
  out->last_packet_ns = s->last_packet_ns;
  out->lost = s->jb_base.lost_packets + s->jb.stats.lost_packets;
  out->duplicates = s->jb_base.duplicates + s->jb.stats.duplicates;
  out->late = s->jb_base.late + s->jb.stats.late;
  out->jitter_ms = s->clock ? sr_seq_jitter(&s->seq) * 1000.0 / s->clock : 0;
}

/* The stream's per-datagram bytes: from the jitter buffer's per-packet
 * tail to sr_seq's per-packet head (stream_impl.h's layout). */
#define HOT_LO offsetof(sr_media_stream, jb.stats.released)
#define HOT_HI (offsetof(sr_media_stream, seq.received) + sizeof(((sr_media_stream *)0)->seq.received))

void sr_media_stream_hints(const sr_media_stream *s, sr_ms_hints *out)
{
  out->stream = s;
  out->dec = s ? s->dec : NULL;
  out->state = s ? sr_decoder_state(s->dec) : NULL;
}

void sr_media_stream_prefetch_hints(const sr_ms_hints *h)
{
  if (h->stream)
    sr_prefetch_range((const char *)h->stream + HOT_LO, HOT_HI - HOT_LO, true);
  sr_decoder_prefetch_at(h->dec, h->state);
}

/* One way to hint a stream's lines: its hints, taken now. */
void sr_media_stream_prefetch(const sr_media_stream *s)
{
  sr_ms_hints h;
  sr_media_stream_hints(s, &h);
  sr_media_stream_prefetch_hints(&h);
}

void sr_media_stream_quick(const sr_media_stream *s, sr_ms_quick *out)
{
  out->packets = s->packets;
  out->bytes = s->bytes;
  out->last_packet_ns = s->last_packet_ns;
  out->gen = s->gen + s->jb.changes;
  out->jitter_ticks = sr_seq_jitter(&s->seq);
  out->clock = s->clock;
}
