/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One received media stream's whole pipeline: source latching, RTP/RTCP
 * demultiplexing, (optional) unprotection, sequence state, the recording
 * jitter buffer, decoding, concealment, comfort noise, DTMF, resampling,
 * and audio cut into frames of one duration, with the stream's timeline
 * kept exact across loss, gaps, discontinuities and pauses.
 *
 * Plain C: no lock is taken (the caller serialises calls per stream), no
 * clock is read (every time is the caller's monotonic clock in ns), no
 * thread is started. Callbacks run inside feed, expire, pause, resume,
 * reconfigure and end; they must not call back into the same stream.
 *
 * The timeline. `position` counts output samples since the stream started.
 * Audio (decoded, concealed or comfort noise) advances it by what was
 * delivered. A loss up to `conceal_ms` is concealed by the decoder and
 * delivered, flagged. A longer gap, a discontinuity and a pause deliver
 * nothing for their span: the stream reports the span as an event with
 * its length in samples and moves the position by that length, so a host
 * that writes a file writes that many samples of silence, and a
 * recogniser just sees the jump. Frames are always exactly the frame
 * duration: before such an event (and at the end) the partial frame is
 * completed with silence (SR_MS_F_PADDED) and that padding is taken out
 * of the event's length, so the total stays exact; only when the span is
 * shorter than the padding (a seamless SSRC change) does the timeline run
 * ahead, by less than one frame. Without a fixed output rate, a codec of
 * another rate (PCMU to G.722) closes the span the same way and converts
 * the position into the new rate's samples; with one, nothing moves.
 *
 * What lies between two packets is judged from their timestamps: nothing;
 * a loss up to conceal_ms (concealed, Opus from in-band FEC); after a CN
 * packet, comfort noise (up to 30 s, the rest a gap); a longer loss or a
 * silence (GAP). A new SSRC, or a timestamp more than a second off that
 * the arrival times do not bear out (a transfer, an SBC failover), is a
 * DISCONTINUITY whose length is estimated from the arrival times, never
 * from the timestamps, so it is never hours. The decoder is reset after
 * each, and a codec's concealment never runs into a new source.
 *
 * Host time: the arrival time of the first packet after the start or the
 * last break, extrapolated at the output rate; sender clock drift of a
 * long span is not followed (a later issue may re-anchor on each span).
 *
 * Latching: datagrams are taken only from the IP the SDP's c= line names
 * or, when the caller gave it and it differs (NAT), from the IP the
 * signalling came from; the first such RTP packet latches IP and port, and
 * from then on only that address's packets are taken (RTCP: that IP, any
 * port). Everything else is dropped and counted. Without either address
 * the first packet from anywhere latches. Reconfiguring with a different
 * expected source unlatches (an SBC failover). */
#ifndef SR_MEDIA_STREAM_H
#define SR_MEDIA_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <siprec/common.h>

#include "decoder.h"

#define SR_MS_MAX_CODECS 8
#define SR_MS_DEFAULT_FRAME_MS 20
#define SR_MS_DEFAULT_JITTER_MS 200
#define SR_MS_DEFAULT_NO_MEDIA_MS 10000
#define SR_MS_DEFAULT_CONCEAL_MS 120
/* A packet decoding to more audio than this is refused (a decode error):
 * it bounds the scratch memory. */
#define SR_MS_MAX_PACKET_MS 200

/* Unprotects (SRTP/SRTCP) buf[0..len) in place: 0 with *out_len set, or a
 * negative code (the datagram is dropped and counted as an SRTP failure). */
typedef int (*sr_ms_unprotect_fn)(void *ctx, uint8_t *buf, size_t len, bool rtcp,
                                  size_t *out_len);

typedef struct sr_media_stream_config {
  /* The payload types the sender may use (the offer's rtpmaps); strings are
   * copied. Telephone-event and CN need no entry here. */
  const sr_decoder_params *codecs;
  size_t n_codecs;
  int dtmf_pt; /* telephone-event PT; 0 or -1: none */
  int cn_pt;   /* comfort-noise PT; 0: 13, -1: none */
  /* The SDP c= address (text, IPv4 or IPv6) and m= port; NULL, "",
   * unparsable or unspecified (0.0.0.0): not a candidate. */
  const char *expected_ip;
  uint16_t expected_port;
  const char *signalling_ip; /* NAT fallback; NULL: none */
  uint32_t jitter_ms;   /* 0: 200 */
  uint32_t frame_ms;    /* 0: 20 */
  uint32_t out_rate;    /* 0: the decoder's rate; else resampled to it */
  uint32_t no_media_ms; /* 0: 10000 */
  uint32_t conceal_ms;  /* longest gap concealed; 0: 120 */
  sr_ms_unprotect_fn unprotect; /* NULL: plain RTP */
  void *unprotect_ctx;
} sr_media_stream_config;

/* Frame flags: the union of what produced the frame's samples. */
enum {
  SR_MS_F_CONCEALED = 1u << 0,
  SR_MS_F_COMFORT_NOISE = 1u << 1,
  SR_MS_F_AFTER_GAP = 1u << 2, /* the first frame after a gap or a pause */
  SR_MS_F_AFTER_DISCONTINUITY = 1u << 3,
  SR_MS_F_CODEC_CHANGED = 1u << 4, /* the first frame of a new codec */
  SR_MS_F_PADDED = 1u << 5,        /* completed with silence before a break */
};

typedef struct sr_ms_frame {
  const int16_t *samples; /* mono; valid during the callback only */
  size_t count;           /* always the frame duration at `rate` */
  uint32_t rate;
  uint64_t position;   /* of the first sample, in samples at `rate` */
  uint64_t time_ns;    /* the caller's monotonic time of the first sample */
  int64_t wallclock_ns; /* Unix time of the first sample from RTCP SR; 0: none */
  /* When the first received packet whose audio is in the frame arrived;
   * 0 when none is (concealment, comfort noise). Unlike time_ns it is not
   * smoothed by the RTP clock, so a host can read the SRC's clock drift
   * from it, whenever it gets the frame. */
  uint64_t arrival_ns;
  uint32_t ssrc;
  int pt; /* the audio codec's payload type */
  /* A codec change at the same rate does not close the frame: the frame
   * holding the new codec's first sample carries CODEC_CHANGED (and the
   * event came before it). */
  unsigned flags;
} sr_ms_frame;

typedef enum sr_ms_event_type {
  SR_MS_EV_STARTED = 1, /* the first audio */
  SR_MS_EV_PAUSED,
  SR_MS_EV_RESUMED,       /* samples: the pause's length (less padding) */
  SR_MS_EV_CODEC_CHANGED, /* pt: the new payload type */
  SR_MS_EV_DISCONTINUITY, /* samples: the span skipped (an estimate) */
  SR_MS_EV_GAP,           /* samples: the span lost, not concealed */
  SR_MS_EV_NO_MEDIA,      /* nothing for no_media_ms; once per silence */
  SR_MS_EV_ENDED,         /* the last callback; samples: a pause's length */
} sr_ms_event_type;

typedef struct sr_ms_event {
  sr_ms_event_type type;
  uint64_t samples;  /* the position moves by this much after the event */
  uint64_t position; /* where the event happens, in samples at `rate` */
  uint32_t rate;
  uint64_t time_ns; /* the caller's time of the call that raised it */
  int pt;
  uint32_t ssrc;
} sr_ms_event;

typedef struct sr_ms_dtmf {
  char digit;
  uint8_t code;
  bool start, end;     /* both when only the end was heard */
  uint8_t volume;      /* -dBm0 */
  uint32_t duration_ms;
  uint64_t position; /* of the press's start, in output samples */
  uint64_t time_ns;  /* when the packet telling it arrived */
} sr_ms_dtmf;

typedef struct sr_media_stream_callbacks {
  void (*on_frame)(void *user, const sr_ms_frame *f);
  void (*on_event)(void *user, const sr_ms_event *e);
  void (*on_dtmf)(void *user, const sr_ms_dtmf *d);
  void *user;
} sr_media_stream_callbacks;

typedef struct sr_ms_counters {
  uint64_t packets, bytes; /* RTP taken from the latched source */
  uint64_t rtcp_packets;
  uint64_t lost, reordered, duplicates, late;
  uint64_t latch_drops, srtp_failures, decode_errors;
  uint64_t malformed, dropped_paused;
  double jitter_ms; /* RFC 3550 A.8, of the current source */
  uint64_t last_packet_ns; /* 0: none yet */
} sr_ms_counters;

typedef struct sr_media_stream sr_media_stream;

/* A stream started at `now_ns` (the no-media timer runs from there).
 * Returns 0, SIPREC_EINVAL (bad configuration: no codec, a bad rate or
 * duration, a hook lacking a function), SIPREC_ENOTFOUND (a resampler to
 * out_rate is not built) or SIPREC_ENOMEM. */
int sr_media_stream_new(const siprec_allocator *alloc, const sr_media_stream_config *cfg,
                        const sr_media_stream_callbacks *cb, uint64_t now_ns,
                        sr_media_stream **out);
void sr_media_stream_free(sr_media_stream *s);

/* A re-INVITE: new codecs (a new decoder when the one in use changed:
 * CODEC_CHANGED) and expected source (a different one unlatches). Frame
 * duration and output rate stay; the rest is taken. 0 or as _new. */
int sr_media_stream_reconfigure(sr_media_stream *s, const sr_media_stream_config *cfg,
                                uint64_t now_ns);

/* A datagram from `from` (a sockaddr_in or sockaddr_in6) on the RTP port;
 * RTCP muxed there is told apart (RFC 5761). Returns 0 when taken, 1 when
 * dropped (and counted), SIPREC_EINVAL. Frames, events and DTMF of the
 * packets it releases are delivered before it returns. */
int sr_media_stream_feed(sr_media_stream *s, const uint8_t *buf, size_t len,
                         const struct sockaddr *from, uint64_t now_ns);
/* A datagram on the RTCP port (port + 1). Returns as _feed. */
int sr_media_stream_feed_rtcp(sr_media_stream *s, const uint8_t *buf, size_t len,
                              const struct sockaddr *from, uint64_t now_ns);

/* a=inactive and back: pause flushes what is buffered (PAUSED after the
 * frames); resume reports the pause's length (RESUMED) and the next audio
 * starts a new span without a gap or discontinuity of its own. */
void sr_media_stream_pause(sr_media_stream *s, uint64_t now_ns);
void sr_media_stream_resume(sr_media_stream *s, uint64_t now_ns);

/* Flushes the jitter buffer and the last partial frame, then ENDED. Later
 * calls do nothing. */
void sr_media_stream_end(sr_media_stream *s, uint64_t now_ns);

/* The earliest time expire has work: the jitter buffer's deadline (while
 * it holds a hole) or the no-media deadline. False: no timer needed. */
bool sr_media_stream_next_deadline(const sr_media_stream *s, uint64_t *deadline);
void sr_media_stream_expire(sr_media_stream *s, uint64_t now_ns);

void sr_media_stream_counters(const sr_media_stream *s, sr_ms_counters *out);

/* Asks the CPU to start loading what a datagram will touch (the stream's
 * per-packet fields, its decoder's): a hint for a caller about to feed it,
 * nothing changes. */
void sr_media_stream_prefetch(const sr_media_stream *s);

/* Where a datagram's work will go: the stream, its decoder and the
 * decoder's state. A caller that keeps them beside its own lookup (the
 * handler's port entry) hints all three levels at once with
 * sr_media_stream_prefetch_hints() instead of waiting for each pointer's
 * line before it can ask for the next: a busy server misses every level. */
typedef struct sr_ms_hints {
  const void *stream, *dec, *state;
} sr_ms_hints;
void sr_media_stream_hints(const sr_media_stream *s, sr_ms_hints *out);
/* Hints the lines sr_media_stream_prefetch() would, from the addresses in
 * `h` alone: nothing is read, so stale or NULL hints are harmless. */
void sr_media_stream_prefetch_hints(const sr_ms_hints *h);

/* What a reader of the counters needs after every datagram, from the
 * stream's hot lines only (sr_media_stream_counters reads five more):
 * packets and bytes, which move with every packet; `gen`, which moves
 * whenever any other counter of sr_ms_counters does, so a reader diffing
 * the counters reads them all again only then; the jitter in timestamp
 * units of `clock` (sr_ms_counters' jitter_ms is jitter_ticks * 1000.0 /
 * clock, 0 without a clock). */
typedef struct sr_ms_quick {
  uint64_t packets, bytes, last_packet_ns, gen;
  uint32_t jitter_ticks, clock;
} sr_ms_quick;
void sr_media_stream_quick(const sr_media_stream *s, sr_ms_quick *out);

/* Where a stream stands, for a snapshot (its session's, lib/session), and
 * what a new stream made after a restore takes from it: the latched source
 * (nobody else may inject), and where the audio delivered so far ended
 * (its SSRC, RTP timestamp and clock, output position and rate, host
 * time), so that the first packet after the restore continues the timeline
 * across the downtime as one gap (or a discontinuity when the SRC moved)
 * instead of starting again at position 0. */
typedef struct sr_media_resume {
  bool latched;
  uint8_t family; /* 4 or 6 (latched only) */
  uint8_t ip[16];
  uint16_t port;
  bool has_audio; /* audio was delivered: the fields below are set */
  uint32_t ssrc;
  uint32_t next_ts; /* the RTP timestamp where the audio delivered so far ends */
  uint32_t clock;   /* the RTP clock of next_ts */
  uint64_t position; /* output samples delivered so far (the next frame's position) */
  uint32_t rate;    /* the output rate of position */
  uint64_t end_ns;  /* host time where that audio ended */
  /* Not carried across: what a host watches to write a snapshot when they
   * move (a new source, a sequence wrap: the SRTP rollover counter). */
  uint32_t seq_ssrc, seq_cycles;
} sr_media_resume;

void sr_media_stream_resume_point(const sr_media_stream *s, sr_media_resume *out);

/* A stream that has taken no packet yet continues from `r` (its end_ns in
 * this stream's host clock). The timeline is taken only at the same output
 * rate; a later first packet of another clock or SSRC makes a
 * discontinuity, as it would have in the first process. */
void sr_media_stream_resume_from(sr_media_stream *s, const sr_media_resume *r);

/* The stream object's own size (its allocations come on top: see
 * docs/media.md's budget or measure with the allocator hook). */
size_t sr_media_stream_sizeof(void);

#endif
