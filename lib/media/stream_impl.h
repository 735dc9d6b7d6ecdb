/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of sr_media_stream share: the object and the steps each
 * file offers the others (stream.c: lifecycle and timers; stream_latch.c:
 * addresses; stream_feed.c: datagrams in; stream_audio.c: released
 * packets to audio; stream_frames.c: audio to frames and events). */
#ifndef SR_MEDIA_STREAM_IMPL_H
#define SR_MEDIA_STREAM_IMPL_H

#include "../common/alloc.h"
#include "cn.h"
#include "dtmf.h"
#include "jitter.h"
#include "resample.h"
#include "seq.h"
#include "stream.h"
#include "wallclock.h"

#define SR_MS_ENC_MAX 32

/* An address reduced to what latching compares: IPv4-mapped IPv6 counts as
 * IPv4, so a dual-stack socket latches the same peer as a v4 one. */
typedef struct sr_ms_addr {
  uint8_t family; /* 0: none, 4 or 6 */
  uint8_t ip[16]; /* IPv4: the first 4, the rest zero (sr_ms_same_ip compares all) */
  uint16_t port;
} sr_ms_addr;

typedef struct sr_ms_codec {
  int pt;
  uint32_t clock_rate;
  unsigned channels;
  uint32_t opus_rate;
  char encoding[SR_MS_ENC_MAX]; /* "" for a static PT without rtpmap */
  char *fmtp;                   /* heap copy, or NULL */
} sr_ms_codec;

struct sr_media_stream {
  /* What every packet reads or writes is together, in as few cache lines
   * as it fits (a server with thousands of streams has evicted a stream's
   * state by its next packet): the jitter buffer's per-packet fields (the
   * end of sr_jb), the stream's own, then the sequence state's (the start
   * of sr_seq). The configuration, the codec table and what only rarer
   * events touch follow. */
  sr_jb jb;
  /* Receiving. */
  bool ended, paused, latched, started;
  bool has_prev;        /* an audio packet before, in this span */
  bool in_cn;           /* the last was comfort noise: fill until the next */
  bool need_anchor;
  bool no_media_raised;
  sr_ms_addr latch;
  uint32_t clock; /* the RTP clock of sequence state and jitter buffer */
  int dtmf_pt, cn_pt;
  sr_ms_unprotect_fn unprotect;
  void *unprotect_ctx;
  sr_media_stream_callbacks cb;
  /* Decoding. */
  sr_decoder *dec;
  int dec_pt; /* -1: none */
  uint32_t dec_rate, dec_clock;
  uint32_t prev_ts;  /* the previous audio packet's timestamp */
  uint32_t next_ts;  /* where the audio delivered so far ends */
  uint32_t prev_ssrc;
  uint64_t prev_arrival, prev_dur_ns;
  sr_resampler *rs;
  /* Timeline and frames. */
  uint32_t rate; /* output samples per second */
  unsigned frame_flags, pending_flags;
  size_t frame_len;
  int16_t *frame;
  size_t fill;
  uint64_t frame_pos; /* position of frame[0] */
  uint64_t anchor_pos, anchor_ns; /* host time of a position */
  uint64_t frame_arrival; /* the first received packet in the frame: its arrival (0: none yet) */
  uint64_t ts_pos;                /* output position of RTP timestamp ts_at */
  uint32_t ts_at, ts_ssrc;
  /* No media, and the counters that move with every packet (the others
   * are in `c`, which leaves these four at 0). */
  uint32_t no_media_ms;
  uint64_t last_media_ns;
  uint64_t packets, bytes, last_packet_ns, rtcp_packets;
  uint64_t gen; /* moves with every counter but packets and bytes (SR_MS_COUNT) */
  sr_seq seq;
  /* Configuration. */
  siprec_allocator alloc;
  unsigned n_codecs;
  sr_ms_addr expected, signalling; /* family 0: not a candidate */
  uint32_t frame_ms, out_rate_cfg, conceal_ms, jitter_ms;
  /* Rarer state. */
  sr_jb_stats jb_base; /* of jitter buffers replaced on a clock change */
  sr_wallclock wc;
  sr_dtmf dtmf;
  sr_cn cn;
  int16_t *scratch, *rs_buf;
  size_t scratch_cap, rs_cap;
  uint64_t pause_ns, pause_pad;
  sr_ms_counters c;
  sr_ms_codec codecs[SR_MS_MAX_CODECS];
};

/* Counts one in counter `field` of s->c (not packets, bytes or RTCP
 * packets, which are the stream's own): the generation readers compare
 * moves with it (sr_media_stream_quick). */
#define SR_MS_COUNT(s, field) ((s)->c.field++, (s)->gen++)

/* stream_latch.c */
void sr_ms_addr_parse(const char *text, sr_ms_addr *out);
void sr_ms_addr_from(const struct sockaddr *sa, sr_ms_addr *out);
bool sr_ms_same_ip(const sr_ms_addr *a, const sr_ms_addr *b);
/* Whether a datagram from `from` is taken (RTP: the latched port too; RTCP:
 * the latched IP). Latching waits until the packet proved valid. */
bool sr_ms_latch_check(const sr_media_stream *s, const sr_ms_addr *from, bool rtp);
void sr_ms_latch(sr_media_stream *s, const sr_ms_addr *from);

/* stream_config.c */
uint32_t sr_ms_nominal_clock(const sr_ms_codec *c);
int sr_ms_copy_codecs(const siprec_allocator *a, const sr_media_stream_config *cfg,
                      sr_ms_codec *out, unsigned *n_out);
void sr_ms_free_codecs(sr_media_stream *s);
int sr_ms_check_config(const sr_media_stream_config *cfg);
void sr_ms_apply_settings(sr_media_stream *s, const sr_media_stream_config *cfg);
bool sr_ms_apply_source(sr_media_stream *s, const sr_media_stream_config *cfg);

/* stream_audio.c */
void sr_ms_on_release(void *user, const sr_jb_packet *p);
int sr_ms_use_codec(sr_media_stream *s, int pt, uint64_t now_ns);
const sr_ms_codec *sr_ms_find_codec(const sr_media_stream *s, int pt);

/* stream_frames.c */
int sr_ms_set_rate(sr_media_stream *s, uint32_t rate);
void sr_ms_audio(sr_media_stream *s, const int16_t *pcm, size_t n, unsigned flags,
                 uint64_t arrival_ns);
/* Whether `n` decoder-rate samples are exactly one frame (no resampler,
 * nothing pending in the stream's frame): then the caller decodes them into
 * a buffer of its own (on its stack, which stays in cache where 4,000
 * streams' frame buffers do not) and sr_ms_audio_direct() delivers that
 * buffer as the frame, as sr_ms_audio would. */
#define SR_MS_DIRECT_MAX 960 /* 20 ms at 48 kHz */
bool sr_ms_direct_ok(const sr_media_stream *s, size_t n);
void sr_ms_audio_direct(sr_media_stream *s, const int16_t *pcm, size_t n, unsigned flags,
                        uint64_t arrival_ns);
/* Ends the span: resampler tail, partial frame padded; returns the padding. */
uint64_t sr_ms_close_span(sr_media_stream *s);
/* close_span, then the event with `span` less the padding; the position moves. */
void sr_ms_break(sr_media_stream *s, sr_ms_event_type type, uint64_t span, uint64_t now_ns);
void sr_ms_raise(sr_media_stream *s, sr_ms_event_type type, uint64_t samples,
                 uint64_t now_ns);
uint64_t sr_ms_ns_to_samples(uint64_t ns, uint32_t rate);
/* The output position of RTP timestamp `ts` (from the last decoded one). */
uint64_t sr_ms_ts_position(const sr_media_stream *s, uint32_t ts);

#endif
