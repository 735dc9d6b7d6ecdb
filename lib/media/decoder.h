/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One interface over the audio codecs a recording can carry: created from
 * what the SDP says of a payload type (rtpmap encoding, clock rate,
 * channels, fmtp), it turns one RTP payload into mono int16 samples and
 * fills short gaps with the codec's concealment. RTP itself (sequence,
 * timestamps, jitter) is not its business: the caller says when a packet
 * is missing and how many samples it stood for.
 *
 * Every count is in samples of the decoder's output rate
 * (sr_decoder_rate), which is not always the RTP clock: G.722 gives
 * 16 kHz audio on an 8 kHz clock, Opus decodes at the rate asked for on a
 * 48 kHz clock. A decoder is not thread-safe: one stream, one thread at a
 * time.
 *
 * Memory: the decoder and every codec state live in allocations of the
 * allocator hook, except bcg729's (G.729), which allocates its own state
 * with malloc and offers no hook. */
#ifndef SR_MEDIA_DECODER_H
#define SR_MEDIA_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siprec/common.h>

typedef enum sr_codec {
  SR_CODEC_PCMU = 1,
  SR_CODEC_PCMA,
  SR_CODEC_G722,
  SR_CODEC_G726,      /* RFC 3551 packing (first sample in the low bits) */
  SR_CODEC_G726_AAL2, /* I.366.2 packing (first sample in the high bits) */
  SR_CODEC_OPUS,
  SR_CODEC_L16,
  SR_CODEC_G729,
  SR_CODEC_CN,
} sr_codec;

/* Flags a decode or concealment sets on what it produced. */
enum {
  /* Made up by concealment, not decoded from a packet. */
  SR_DEC_CONCEALED = 1u << 0,
  /* Comfort noise (RFC 3389): silence or noise at the level the sender
   * reported, not speech. */
  SR_DEC_COMFORT_NOISE = 1u << 1,
  /* Rebuilt from the next packet's in-band FEC (Opus); where that packet
   * carried no redundancy, libopus falls back to its concealment, so
   * SR_DEC_CONCEALED is set as well. */
  SR_DEC_FEC = 1u << 2,
};

typedef struct sr_decoder_params {
  /* The rtpmap encoding name, case-insensitive ("PCMU", "G726-32",
   * "AAL2-G726-32", "opus", ...). NULL for a static payload type offered
   * without rtpmap: the encoding then comes from RFC 3551's table (0 PCMU,
   * 2 G726-32, 8 PCMA, 9 G722, 10 and 11 L16/44100, 13 CN, 18 G729). */
  const char *encoding;
  int payload_type; /* 0..127 */
  /* The rtpmap clock rate; 0 for the encoding's usual one. L16 decodes at
   * this rate; for the others it must be the one RFC 3551 / RFC 7587 name
   * (8000, or 48000 for Opus); comfort noise takes any (8000 when 0). */
  uint32_t clock_rate;
  /* The rtpmap channel count; 0 means 1. Stereo is downmixed to mono. */
  unsigned channels;
  /* The fmtp parameters, or NULL. None changes decoding today (Opus's
   * stereo and useinbandfec concern the sender); kept so a codec that
   * needs one (G.722's bitrate, say) has it. */
  const char *fmtp;
  /* Opus only: 8000, 12000, 16000, 24000 or 48000; 0 means 48000. Other
   * host rates go through the resampler. Ignored by the other codecs. */
  uint32_t opus_rate;
} sr_decoder_params;

typedef struct sr_decoder sr_decoder;

/* A decoder for `p`, allocated with `alloc` (NULL: libc). Returns 0, or
 * SIPREC_EINVAL (bad arguments, an unusable rate or channel count),
 * SIPREC_ENOTFOUND (an encoding this build cannot decode) or
 * SIPREC_ENOMEM. */
int sr_decoder_new(const siprec_allocator *alloc, const sr_decoder_params *p,
                   sr_decoder **out);
void sr_decoder_free(sr_decoder *d);

sr_codec sr_decoder_codec(const sr_decoder *d);
/* Samples per second of what decode and conceal produce. */
uint32_t sr_decoder_rate(const sr_decoder *d);
/* The RTP timestamp rate (G.722: 8000 while the audio is 16 kHz). */
uint32_t sr_decoder_clock_rate(const sr_decoder *d);

/* How many samples `payload` decodes to, without decoding it: a count
 * >= 0, or SIPREC_EPARSE for a payload the codec cannot hold (empty, a
 * length that is no whole number of frames, a malformed Opus packet).
 * Comfort noise decodes to 0 samples: its duration is the gap until the
 * next packet, filled by sr_decoder_conceal. */
int sr_decoder_samples(const sr_decoder *d, const uint8_t *payload, size_t len);

/* Decodes one RTP payload into out[0..cap). Returns the sample count, or
 * SIPREC_EPARSE (as sr_decoder_samples), SIPREC_ETOOBIG (more samples than
 * cap: nothing decoded, the state unchanged) or SIPREC_EINVAL. `*flags`
 * (may be NULL) gets SR_DEC_* flags. */
int sr_decoder_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                      size_t cap, unsigned *flags);

/* Fills a gap of exactly `n` samples with the codec's concealment (or
 * comfort noise, for CN): G.711 and G.726 with spandsp's PLC, G.722 and
 * L16 with the pitch-repeating PLC of plc.h at their own rate, Opus and
 * G.729 with their decoder's. Returns n, SIPREC_ETOOBIG (n > cap) or
 * SIPREC_EINVAL. Concealment fades to silence after some tens of
 * milliseconds, so a long gap is best reported as one by the caller. */
int sr_decoder_conceal(sr_decoder *d, size_t n, int16_t *out, size_t cap, unsigned *flags);

/* Opus: fills a gap of `n` samples when the packet after it, `next`, is
 * at hand: all but its last frame's duration concealed, the last rebuilt
 * from `next`'s in-band FEC. `next` is decoded again normally afterwards
 * by sr_decoder_decode. Other codecs conceal. Returns as
 * sr_decoder_conceal, or SIPREC_EPARSE for a malformed `next`. */
int sr_decoder_conceal_fec(sr_decoder *d, const uint8_t *next, size_t next_len, size_t n,
                           int16_t *out, size_t cap, unsigned *flags);

/* Forgets the stream's history (after a discontinuity: a new SSRC, a
 * timestamp jump), as a new decoder would start. */
void sr_decoder_reset(sr_decoder *d);

/* For tests: whether mono G.711 may decode with the CPU's vector unit (it
 * does by default when the CPU has AVX2), so that both ways are compared
 * with spandsp on one machine. Not for use while decoders run. */
void sr_decoder_g711_simd(bool allow);

/* The codec's state of `d` (for sr_decoder_prefetch_at), NULL for none. */
const void *sr_decoder_state(const sr_decoder *d);
/* Asks the CPU to start loading what decoding a packet touches (the
 * decoder's per-packet fields and the start of its codec's state), from
 * their addresses alone (either may be NULL): a hint, nothing is read. */
void sr_decoder_prefetch_at(const void *dec, const void *state);

#endif
