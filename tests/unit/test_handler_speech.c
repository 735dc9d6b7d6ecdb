/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Real speech through a real handler session, for each codec an SRC may
 * offer besides G.711 (test_handler_media.c has PCMU): G.722 (PT 9),
 * G.726-32 as bare static PT 2 (Metaswitch) and as "AAL2-G726-32", Opus
 * (at the library's default decode rate, 48 kHz, and at 16 kHz when the
 * host's audio rate is 16 kHz, which Opus decodes to itself) and, when the
 * build has bcg729, G.729 (PT 18).
 *
 * pocketsphinx-testdata's goforward.raw is encoded here by the codec's own
 * library (spandsp, libopus, bcg729) in 20 ms packets, and the payloads
 * are decoded here by the same library, never through lib/media: that is
 * the reference. G.726 is packed and unpacked here by hand, RFC 3551
 * section 4.5.4 for "G726-32" (the first code word in an octet's least
 * significant bits) and ITU-T I.366.2 Annex E for "AAL2-G726-32" (the
 * most significant bits first), so spandsp's names for its packings are
 * not what the test trusts. The packets go as RTP to the port the handler
 * answered, through siprec_handler_media(), and what the audio and
 * stream-event callbacks deliver is checked against the reference:
 *   a. in order: sample for sample, no flag set;
 *   b. 10 % of the packets swapped with a neighbour (within the jitter
 *      depth): the same;
 *   c. 5 % of the packets dropped, and again with one loss longer than
 *      the library conceals (SR_MS_DEFAULT_CONCEAL_MS): the timeline is
 *      exact (positions contiguous and increasing, every lost span either
 *      concealed and flagged CONCEALED or, when longer than concealment
 *      covers, a GAP event of its length, the total what was sent), and
 *      the audio is compared wherever the codec decides it:
 *      - G.729 and Opus conceal with their own library (bcg729's frame
 *        erasure; libopus's PLC and, with the next packet at hand, its
 *        decode_fec): everything, concealed spans included, equals the same
 *        library's decode of the same loss pattern;
 *      - G.722 and G.726 have no concealment of their own: lib/media's
 *        concealer makes the lost spans and cross-fades the next packet's
 *        first quarter pitch period with them, so those samples cannot be
 *        compared. Their ADPCM state simply goes on over a loss, so every
 *        other sample after a loss equals the reference decoder that
 *        skipped the lost payloads;
 *      - after a GAP the decoder starts afresh: all of it compares with a
 *        fresh reference decoder.
 * And Opus with in-band FEC: a single lost packet is rebuilt from the
 * next packet's LBRR (flagged CONCEALED, as media.h says), exactly
 * libopus's decode_fec of that packet, and not its plain PLC. */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#include <spandsp/g726.h>
#include <spandsp/plc.h>

#ifdef SR_HAVE_OPUS
#include <opus.h>
#endif
#ifdef SR_HAVE_BCG729
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#endif

#include "check_main.h"
#include "det_random.h"
#include "handler_fixture.h"
#include "media/stream.h" /* SR_MS_DEFAULT_CONCEAL_MS: the longest loss concealed */
#include "rtp_build.h"
#include "speech.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define S (1000 * MS)
#define PTIME_MS 20
#define MAXP 160   /* packets: goforward.raw makes 139, the made-up speech 150 */
#define MAXPAY 400 /* octets of one payload */
#define MAX_ITEMS 1024

static speech sp;

static void setup(void)
{
  ck_assert_int_eq(speech_load(&sp), 0);
}

static void teardown(void)
{
  speech_free(&sp);
}

/* ---------------------------------------------------------------------- */
/* Encoded speech                                                           */

typedef struct pkts {
  size_t n;
  size_t len[MAXP];
  uint8_t data[MAXP][MAXPAY];
} pkts;

static pkts P; /* the case's packets */
/* What made P: the Opus cases share theirs, and encoding is the most
 * costly part of this test (under valgrind above all). */
static void (*P_made_by)(pkts *p);

static void encode_case(void (*encode)(pkts *p))
{
  if (P_made_by != encode)
    encode(&P);
  P_made_by = encode;
}

/* Under valgrind (its test setup sets SIPREC_UNDER_VALGRIND) the first
 * 1.6 s of the speech only, to stay well within its time: memcheck looks
 * for memory errors, which the shorter run walks into as well; the whole
 * recording is checked in every other run. */
static size_t packets_of(size_t samples, size_t per_packet)
{
  size_t n = samples / per_packet, max = getenv("SIPREC_UNDER_VALGRIND") ? 80 : MAXP;
  return n < max ? n : max;
}

static void encode_g722(pkts *p)
{
  g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
  ck_assert_ptr_nonnull(enc);
  p->n = packets_of(sp.n16, 320);
  for (size_t k = 0; k < p->n; k++) {
    p->len[k] = (size_t)g722_encode(enc, p->data[k], sp.s16 + k * 320, 320);
    ck_assert_uint_eq(p->len[k], 160); /* 8 bits a sample pair: 64 kbit/s */
  }
  g722_encode_free(enc);
}

/* G.726-32: spandsp's encoder gives one 4-bit code per octet (unpacked);
 * two codes go in an octet, the first in its low nibble (RFC 3551 section
 * 4.5.4) or, for AAL2, in its high nibble. */
static void encode_g726(pkts *p, bool aal2)
{
  g726_state_t *enc = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_NONE);
  ck_assert_ptr_nonnull(enc);
  p->n = packets_of(sp.n8, 160);
  for (size_t k = 0; k < p->n; k++) {
    uint8_t codes[160];
    ck_assert_int_eq(g726_encode(enc, codes, sp.s8 + k * 160, 160), 160);
    for (size_t i = 0; i < 80; i++) {
      uint8_t first = codes[2 * i], second = codes[2 * i + 1];
      ck_assert_uint_lt(first | second, 16);
      p->data[k][i] = aal2 ? (uint8_t)(first << 4 | second) : (uint8_t)(second << 4 | first);
    }
    p->len[k] = 80;
  }
  g726_free(enc);
}

static void encode_g726_rfc3551(pkts *p)
{
  encode_g726(p, false);
}

static void encode_g726_aal2(pkts *p)
{
  encode_g726(p, true);
}

#ifdef SR_HAVE_OPUS
/* 20 ms of 16 kHz speech a packet, as a VoIP client sends it (SILK); with
 * `fec`, in-band FEC for an expected loss of 20 %. */
static void encode_opus_as(pkts *p, bool fec)
{
  int err;
  OpusEncoder *enc = opus_encoder_create(16000, 1, OPUS_APPLICATION_VOIP, &err);
  ck_assert_int_eq(err, OPUS_OK);
  ck_assert_int_eq(opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000)), OPUS_OK);
  /* A phone's effort, not the default's highest: half the cost. */
  ck_assert_int_eq(opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(5)), OPUS_OK);
  if (fec) {
    ck_assert_int_eq(opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1)), OPUS_OK);
    ck_assert_int_eq(opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20)), OPUS_OK);
  }
  p->n = packets_of(sp.n16, 320);
  for (size_t k = 0; k < p->n; k++) {
    int len = opus_encode(enc, sp.s16 + k * 320, 320, p->data[k], MAXPAY);
    ck_assert_int_gt(len, 0);
    p->len[k] = (size_t)len;
  }
  opus_encoder_destroy(enc);
}

static void encode_opus(pkts *p)
{
  encode_opus_as(p, false);
}
#endif

#ifdef SR_HAVE_BCG729
/* Two 10-byte frames of 10 ms a packet (RFC 3551 section 4.5.6), no VAD. */
static void encode_g729(pkts *p)
{
  bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
  ck_assert_ptr_nonnull(enc);
  p->n = packets_of(sp.n8, 160);
  for (size_t k = 0; k < p->n; k++) {
    uint8_t len;
    bcg729Encoder(enc, sp.s8 + k * 160, p->data[k], &len);
    ck_assert_uint_eq(len, 10);
    bcg729Encoder(enc, sp.s8 + k * 160 + 80, p->data[k] + 10, &len);
    ck_assert_uint_eq(len, 10);
    p->len[k] = 20;
  }
  closeBcg729EncoderChannel(enc);
}
#endif

/* ---------------------------------------------------------------------- */
/* Reference decoders: the codec's library called directly                 */

typedef struct ref_ops {
  void *(*open)(uint32_t rate);
  void (*close)(void *r);
  /* One payload's audio into out; returns the samples. */
  size_t (*decode)(void *r, const uint8_t *p, size_t len, int16_t *out);
  /* `n` samples lost right before `next`: true with what the codec's own
   * library makes of them in out (what lib/media must deliver), false when
   * the codec has no concealment of its own (lib/media's concealer makes
   * them: nothing to compare). */
  bool (*conceal)(void *r, const uint8_t *next, size_t len, size_t n, int16_t *out);
  /* After a loss lib/media concealed itself: the samples at the start of
   * the next packet it cross-fades with the concealment (an upper bound:
   * a quarter of its concealer's longest pitch period). */
  size_t blend;
} ref_ops;

static bool no_own_concealment(void *r, const uint8_t *next, size_t len, size_t n, int16_t *out)
{
  (void)r;
  (void)next;
  (void)len;
  (void)n;
  (void)out;
  return false;
}

static void *g722_open(uint32_t rate)
{
  (void)rate;
  return g722_decode_init(NULL, 64000, 0);
}

static void g722_close(void *r)
{
  g722_decode_free(r);
}

static size_t g722_dec(void *r, const uint8_t *p, size_t len, int16_t *out)
{
  return (size_t)g722_decode(r, out, p, (int)len);
}

/* lib/media/plc.c at 16 kHz: pitch periods up to 15 ms, 240 samples. */
static const ref_ops ref_g722 = { g722_open, g722_close, g722_dec, no_own_concealment, 240 / 4 };

typedef struct g726_ref {
  g726_state_t *dec;
  bool aal2;
} g726_ref;

static void *g726_open(bool aal2)
{
  g726_ref *g = calloc(1, sizeof *g);
  ck_assert_ptr_nonnull(g);
  g->dec = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_NONE);
  ck_assert_ptr_nonnull(g->dec);
  g->aal2 = aal2;
  return g;
}

static void *g726_open_rfc3551(uint32_t rate)
{
  (void)rate;
  return g726_open(false);
}

static void *g726_open_aal2(uint32_t rate)
{
  (void)rate;
  return g726_open(true);
}

static void g726_close(void *r)
{
  g726_ref *g = r;
  g726_free(g->dec);
  free(g);
}

/* Unpacked by hand (see encode_g726), decoded one code an octet. */
static size_t g726_dec(void *r, const uint8_t *p, size_t len, int16_t *out)
{
  g726_ref *g = r;
  uint8_t codes[2 * MAXPAY];
  for (size_t i = 0; i < len; i++) {
    uint8_t lo = p[i] & 0x0f, hi = p[i] >> 4;
    codes[2 * i] = g->aal2 ? hi : lo;
    codes[2 * i + 1] = g->aal2 ? lo : hi;
  }
  return (size_t)g726_decode(g->dec, out, codes, (int)(2 * len));
}

/* spandsp's PLC, which lib/media uses for G.726, overlaps a quarter of
 * its pitch period, PLC_PITCH_OVERLAP_MAX at most. */
static const ref_ops ref_g726_rfc3551 = { g726_open_rfc3551, g726_close, g726_dec,
                                          no_own_concealment, PLC_PITCH_OVERLAP_MAX };
static const ref_ops ref_g726_aal2 = { g726_open_aal2, g726_close, g726_dec,
                                       no_own_concealment, PLC_PITCH_OVERLAP_MAX };

#ifdef SR_HAVE_OPUS
static void *opus_open(uint32_t rate)
{
  int err;
  OpusDecoder *d = opus_decoder_create((opus_int32)rate, 1, &err);
  ck_assert_int_eq(err, OPUS_OK);
  return d;
}

static void opus_close(void *r)
{
  opus_decoder_destroy(r);
}

static size_t opus_dec(void *r, const uint8_t *p, size_t len, int16_t *out)
{
  int n = opus_decode(r, p, (opus_int32)len, out, 5760, 0);
  ck_assert_int_gt(n, 0);
  return (size_t)n;
}

/* libopus's own: the frame just before `next` from its in-band FEC
 * (decode_fec; without LBRR in it libopus conceals that frame itself),
 * the frames before that from its PLC, in one call (the spans here stay
 * within SR_MS_DEFAULT_CONCEAL_MS, under libopus's 120 ms). */
static bool opus_conceal_ref(void *r, const uint8_t *next, size_t len, size_t n, int16_t *out)
{
  int dur = opus_decoder_get_nb_samples(r, next, (opus_int32)len);
  ck_assert_int_gt(dur, 0);
  ck_assert_uint_ge(n, (size_t)dur);
  if (n > (size_t)dur)
    ck_assert_int_eq(opus_decode(r, NULL, 0, out, (int)(n - (size_t)dur), 0), n - (size_t)dur);
  ck_assert_int_eq(opus_decode(r, next, (opus_int32)len, out + n - (size_t)dur, dur, 1), dur);
  return true;
}

/* The same loss with libopus's PLC only: what FEC must differ from. */
static bool opus_plc_ref(void *r, const uint8_t *next, size_t len, size_t n, int16_t *out)
{
  (void)next;
  (void)len;
  ck_assert_int_eq(opus_decode(r, NULL, 0, out, (int)n, 0), n);
  return true;
}

static const ref_ops ref_opus = { opus_open, opus_close, opus_dec, opus_conceal_ref, 0 };
static const ref_ops ref_opus_plc_only = { opus_open, opus_close, opus_dec, opus_plc_ref, 0 };
#endif

#ifdef SR_HAVE_BCG729
static void *g729_open(uint32_t rate)
{
  (void)rate;
  void *d = initBcg729DecoderChannel();
  ck_assert_ptr_nonnull(d);
  return d;
}

static void g729_close(void *r)
{
  closeBcg729DecoderChannel(r);
}

static size_t g729_dec(void *r, const uint8_t *p, size_t len, int16_t *out)
{
  size_t n = 0;
  for (; len >= 10; len -= 10, p += 10, n += 80)
    bcg729Decoder(r, p, 10, 0, 0, 0, out + n);
  return n;
}

/* bcg729's frame erasure, 10 ms at a time. */
static bool g729_conceal_ref(void *r, const uint8_t *next, size_t len, size_t n, int16_t *out)
{
  (void)next;
  (void)len;
  ck_assert_uint_eq(n % 80, 0);
  for (size_t i = 0; i < n; i += 80)
    bcg729Decoder(r, NULL, 0, 1, 0, 0, out + i);
  return true;
}

static const ref_ops ref_g729 = { g729_open, g729_close, g729_dec, g729_conceal_ref, 0 };
#endif

/* ---------------------------------------------------------------------- */
/* The cases                                                                */

typedef struct speech_case {
  const char *name;
  const char *media;   /* the m-line's formats, then its rtpmap/fmtp lines */
  const char *codec;   /* the codec the answer takes (siprec_stream_info) */
  int pt;
  uint32_t audio_rate; /* siprec_handler_config_set_audio_rate; 0: not set */
  uint32_t rate;       /* what frames come at */
  uint32_t ticks;      /* RTP timestamp units of a 20 ms packet */
  void (*encode)(pkts *p);
  const ref_ops *ref;
} speech_case;

static const speech_case cases[] = {
  { "G.722", "9\r\na=rtpmap:9 G722/8000", "G722", 9, 0, 16000, 160, encode_g722, &ref_g722 },
  /* Metaswitch: the static payload type alone, no rtpmap. */
  { "G.726-32 PT 2", "2", "G726-32", 2, 0, 8000, 160, encode_g726_rfc3551, &ref_g726_rfc3551 },
  { "AAL2-G726-32", "112\r\na=rtpmap:112 AAL2-G726-32/8000", "AAL2-G726-32", 112, 0, 8000, 160,
    encode_g726_aal2, &ref_g726_aal2 },
#ifdef SR_HAVE_OPUS
  /* No audio rate set: libopus decodes at 48 kHz (lib/media/dec_opus.c). */
  { "Opus", "111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1", "opus", 111, 0,
    48000, 960, encode_opus, &ref_opus },
  /* A 16 kHz host: libopus decodes at 16 kHz itself, no resampler. */
  { "Opus at 16 kHz", "111\r\na=rtpmap:111 opus/48000/2", "opus", 111, 16000, 16000, 960,
    encode_opus, &ref_opus },
#endif
#ifdef SR_HAVE_BCG729
  { "G.729", "18\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no", "G729", 18, 0, 8000, 160,
    encode_g729, &ref_g729 },
#endif
};
#define N_CASES (sizeof cases / sizeof cases[0])

static size_t frame_of(const speech_case *sc)
{
  return (size_t)sc->rate * PTIME_MS / 1000;
}

/* ---------------------------------------------------------------------- */
/* What the callbacks deliver, in the order they came                      */

typedef struct item {
  bool is_event;
  siprec_stream_event_type type;
  uint64_t position, samples; /* an event's */
  uint32_t rate;
  size_t n;       /* a frame's samples */
  unsigned flags; /* a frame's */
  size_t at;      /* where its samples start in R.audio */
} item;

static struct record {
  item items[MAX_ITEMS];
  size_t n_items;
  int16_t *audio; /* the frames' samples, concatenated */
  size_t n_audio, cap;
  bool overflow;
} R;

static void on_audio(void *user, const siprec_audio_frame *fr)
{
  (void)user;
  if (R.n_items == MAX_ITEMS) {
    R.overflow = true;
    return;
  }
  if (R.n_audio + fr->n_samples > R.cap) {
    size_t cap = 2 * (R.n_audio + fr->n_samples);
    int16_t *a = realloc(R.audio, cap * sizeof *a);
    if (!a) {
      R.overflow = true;
      return;
    }
    R.audio = a;
    R.cap = cap;
  }
  item *it = &R.items[R.n_items++];
  *it = (item){ .position = fr->position, .rate = fr->sample_rate, .n = fr->n_samples,
                .flags = fr->flags, .at = R.n_audio };
  memcpy(R.audio + R.n_audio, fr->samples, fr->n_samples * sizeof *fr->samples);
  R.n_audio += fr->n_samples;
}

static void on_stream_event(void *user, const siprec_stream_event *e)
{
  (void)user;
  if (R.n_items == MAX_ITEMS) {
    R.overflow = true;
    return;
  }
  R.items[R.n_items++] = (item){ .is_event = true, .type = e->type, .position = e->position,
                                 .samples = e->samples, .rate = e->sample_rate };
}

static void media_callbacks(siprec_handler_callbacks *cbs)
{
  siprec_handler_callbacks_set_audio(cbs, on_audio);
  siprec_handler_callbacks_set_stream_event(cbs, on_stream_event);
}

static void record_reset(void)
{
  free(R.audio);
  memset(&R, 0, sizeof R);
}

/* ---------------------------------------------------------------------- */
/* What should come out                                                     */

typedef struct expect {
  size_t total;      /* samples of the timeline: every packet's span */
  int16_t *audio;    /* [total] */
  bool *compare;     /* [total]: whether the codec decides that sample */
  unsigned *flags;   /* per frame of the timeline */
  size_t n_gaps;
  uint64_t gap_at[MAXP], gap_len[MAXP];
  size_t compared, concealed;
} expect;

/* The reference's account of packets 0..n-1 with lost[k] set for those the
 * handler never gets (neither the first nor the last). A run of losses up
 * to SR_MS_DEFAULT_CONCEAL_MS is concealed; a longer one is a GAP, after
 * which the decoder starts afresh (lib/media/stream.h). */
static void model(const speech_case *sc, const ref_ops *ops, const bool *lost, expect *e)
{
  size_t frame = frame_of(sc);
  memset(e, 0, sizeof *e);
  e->total = P.n * frame;
  e->audio = calloc(e->total + 5760, sizeof *e->audio); /* room for one odd decode */
  e->compare = calloc(e->total + 5760, sizeof *e->compare);
  e->flags = calloc(P.n, sizeof *e->flags);
  ck_assert(e->audio && e->compare && e->flags);
  ck_assert(!lost[0] && !lost[P.n - 1]);
  void *ref = ops->open(sc->rate);
  size_t pos = 0, run = 0, blend = 0;
  for (size_t k = 0; k < P.n; k++) {
    if (lost[k]) {
      run++;
      continue;
    }
    if (run) {
      size_t span = run * frame;
      if (run * PTIME_MS <= SR_MS_DEFAULT_CONCEAL_MS) {
        bool own = ops->conceal(ref, P.data[k], P.len[k], span, e->audio + pos);
        for (size_t i = 0; i < span; i++)
          e->compare[pos + i] = own;
        for (size_t f = pos / frame; f < (pos + span) / frame; f++)
          e->flags[f] = SIPREC_AUDIO_CONCEALED;
        e->concealed += span;
        blend = own ? 0 : ops->blend;
      } else {
        e->gap_at[e->n_gaps] = pos;
        e->gap_len[e->n_gaps++] = span;
        e->flags[(pos + span) / frame] |= SIPREC_AUDIO_AFTER_GAP;
        ops->close(ref);
        ref = ops->open(sc->rate);
        blend = 0;
      }
      pos += span;
      run = 0;
    }
    size_t n = ops->decode(ref, P.data[k], P.len[k], e->audio + pos);
    ck_assert_uint_eq(n, frame);
    for (size_t i = blend; i < n; i++)
      e->compare[pos + i] = true;
    blend = 0;
    pos += n;
  }
  ops->close(ref);
  ck_assert_uint_eq(pos, e->total);
  for (size_t i = 0; i < e->total; i++)
    e->compared += e->compare[i];
}

static void expect_free(expect *e)
{
  free(e->audio);
  free(e->compare);
  free(e->flags);
}

/* ---------------------------------------------------------------------- */
/* A call with one stream of the case's codec                               */

typedef struct call {
  fixture f;
  siprec_session *s; /* referenced */
  char tag[64];
  uint16_t port;
} call;

static void call_start(call *c, const speech_case *sc)
{
  record_reset();
  memset(c, 0, sizeof *c);
  siprec_handler_config *cfg = NULL;
  if (sc->audio_rate) {
    ck_assert_int_eq(siprec_handler_config_new(&cfg, NULL), 0);
    ck_assert_int_eq(siprec_handler_config_set_audio_rate(cfg, sc->audio_rate), 0);
  }
  fx_callbacks_hook = media_callbacks;
  fx_init(&c->f, cfg, 0);
  fx_callbacks_hook = NULL;
  siprec_handler_config_free(cfg);
  char sdp[1024], msg[4096];
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=SRC 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
           "m=audio 10000 RTP/AVP %s\r\na=sendonly\r\na=label:1\r\n",
           sc->media);
  fx_request(msg, sizeof msg, "INVITE", "speech", NULL, 1, "inv", "Require: siprec\r\n", sdp);
  ck_assert_int_gt(fx_feed(&c->f, msg, 1 * S), 0);
  ck_assert_msg(c->f.status == 200, "%s: the offer got %d", sc->name, c->f.status);
  fx_to_tag(&c->f, c->tag, sizeof c->tag);
  fx_request(msg, sizeof msg, "ACK", "speech", c->tag, 1, "ack", NULL, NULL);
  fx_feed(&c->f, msg, 1 * S);
  ck_assert_uint_eq(siprec_handler_sessions(c->f.h, &c->s, 1), 1);
  siprec_stream_info info = { .size = sizeof info };
  ck_assert_int_eq(siprec_session_stream(c->s, 0, &info), 0);
  ck_assert_str_eq(info.codec, sc->codec);
  ck_assert_int_eq(info.payload_type, sc->pt);
  ck_assert_uint_ne(info.port, 0);
  c->port = info.port;
}

/* Packet k of P at `now`, from the SRC's media address (the offer's c=
 * and port), to the answered port. */
static void send_pkt(call *c, const speech_case *sc, size_t k, uint64_t now)
{
  uint8_t buf[12 + MAXPAY];
  size_t len = rtpb_media(buf, sizeof buf, (uint8_t)sc->pt, k == 0, (uint16_t)(60000 + k),
                          (uint32_t)(123456 + k * sc->ticks), 0x5eec4, P.data[k], P.len[k]);
  ck_assert_uint_gt(len, 0);
  struct sockaddr_in local = c->f.srs, remote = c->f.src;
  local.sin_port = htons(c->port);
  remote.sin_port = htons(10000);
  siprec_path path = { SIPREC_TRANSPORT_UDP, (struct sockaddr *)&local,
                       (struct sockaddr *)&remote, 0 };
  ck_assert_int_eq(siprec_handler_media(c->f.h, buf, len, &path, now), 0);
}

/* The handler's timers up to `now`, as a host's timer loop runs them. */
static void run_timers(call *c, uint64_t now)
{
  for (int i = 0; i < 16; i++) {
    uint64_t d = siprec_handler_next_deadline(c->f.h);
    if (d > now)
      return;
    siprec_handler_expire(c->f.h, d);
  }
}

/* order[i]: the packet sent in 20 ms slot i; lost[k]: packet k never sent
 * (its slot stays empty). Then the holes' deadlines, and a BYE. */
static void call_run(call *c, const speech_case *sc, const size_t *order, const bool *lost)
{
  uint64_t t = 2 * S;
  for (size_t i = 0; i < P.n; i++, t += PTIME_MS * MS) {
    if (!lost[order[i]])
      send_pkt(c, sc, order[i], t);
    run_timers(c, t);
  }
  run_timers(c, t + 1 * S);
  char msg[2048];
  fx_request(msg, sizeof msg, "BYE", "speech", c->tag, 2, "bye", NULL, NULL);
  fx_feed(&c->f, msg, t + 1 * S);
  ck_assert_int_eq(c->f.status, 200);
  ck_assert_int_eq(c->f.ev.ended, 1);
  ck_assert(!R.overflow);
}

static void call_free(call *c)
{
  siprec_session_unref(c->s);
  siprec_handler_free(c->f.h);
  record_reset();
}

/* ---------------------------------------------------------------------- */
/* The checks                                                               */

/* Everything delivered against `e`: the events (STARTED first, ENDED last,
 * the expected GAPs and no other), every frame of the case's rate and
 * duration at the next position, the expected flags, the total, and the
 * samples the codec decides. */
static void check_delivered(const speech_case *sc, const char *scenario, const expect *e)
{
  size_t frame = frame_of(sc), gaps = 0, frames = 0;
  uint64_t next = 0;
  ck_assert_uint_ge(R.n_items, 2);
  ck_assert(R.items[0].is_event && R.items[0].type == SIPREC_STREAM_STARTED);
  ck_assert(R.items[R.n_items - 1].is_event &&
            R.items[R.n_items - 1].type == SIPREC_STREAM_ENDED);
  for (size_t i = 1; i + 1 < R.n_items; i++) {
    const item *it = &R.items[i];
    if (it->is_event) {
      ck_assert_msg(it->type == SIPREC_STREAM_GAP, "%s, %s: unexpected event %d", sc->name,
                    scenario, (int)it->type);
      ck_assert_uint_lt(gaps, e->n_gaps);
      ck_assert_uint_eq(it->position, next);
      ck_assert_uint_eq(it->position, e->gap_at[gaps]);
      ck_assert_uint_eq(it->samples, e->gap_len[gaps]);
      ck_assert_uint_eq(it->rate, sc->rate);
      next += it->samples;
      gaps++;
      continue;
    }
    ck_assert_uint_eq(it->rate, sc->rate);
    ck_assert_uint_eq(it->n, frame);
    ck_assert_msg(it->position == next, "%s, %s: frame at %llu, expected at %llu", sc->name,
                  scenario, (unsigned long long)it->position, (unsigned long long)next);
    ck_assert_uint_le(it->position + it->n, e->total);
    size_t f = (size_t)(it->position / frame);
    ck_assert_msg(it->flags == e->flags[f], "%s, %s: frame %zu flags %#x, expected %#x",
                  sc->name, scenario, f, it->flags, e->flags[f]);
    for (size_t j = 0; j < it->n; j++) {
      size_t p = (size_t)it->position + j;
      if (e->compare[p] && R.audio[it->at + j] != e->audio[p])
        ck_abort_msg("%s, %s: packet %zu sample %zu: %d, the reference %d", sc->name, scenario,
                     p / frame, p % frame, R.audio[it->at + j], e->audio[p]);
    }
    next += it->n;
    frames++;
  }
  ck_assert_uint_eq(gaps, e->n_gaps);
  ck_assert_msg(next == e->total, "%s, %s: %llu samples in all, sent %zu", sc->name, scenario,
                (unsigned long long)next, e->total);
  ck_assert_uint_eq(frames * frame, R.n_audio);
}

/* Neighbours swapped: for about 5 % of the slots, the packet and the next
 * change places (10 % of the packets out of order, each 20 ms late at
 * most: within the jitter depth). */
static size_t pattern_reorder(size_t *order, size_t n, uint64_t seed)
{
  det_random_seed(seed);
  size_t swaps = 0;
  for (size_t k = 0; k < n; k++)
    order[k] = k;
  for (size_t k = 1; k + 1 < n; k++) {
    uint8_t r;
    det_random(NULL, &r, 1);
    if (r < 13) { /* 13/256: 5 % */
      order[k] = k + 1;
      order[k + 1] = k;
      swaps++;
      k++;
    }
  }
  return swaps;
}

/* About 5 % of the packets lost, never the first or the last (whose loss
 * no receiver can tell). */
static size_t pattern_loss(bool *lost, size_t n, uint64_t seed)
{
  det_random_seed(seed);
  size_t count = 0;
  memset(lost, 0, n * sizeof *lost);
  for (size_t k = 1; k + 1 < n; k++) {
    uint8_t r;
    det_random(NULL, &r, 1);
    lost[k] = r < 13;
    count += lost[k];
  }
  return count;
}

/* One scenario of a case: a call, the packets sent, the result checked. */
static void scenario(const speech_case *sc, const char *name, const size_t *order,
                     const bool *lost, const expect *e)
{
  call c;
  call_start(&c, sc);
  call_run(&c, sc, order, lost);
  check_delivered(sc, name, e);
  siprec_stream_stats st = { .size = sizeof st };
  ck_assert_int_eq(siprec_session_stream_stats(c.s, 0, &st), 0);
  size_t sent = 0, n_lost = 0;
  for (size_t k = 0; k < P.n; k++) {
    if (lost[k])
      n_lost++;
    else
      sent++;
  }
  ck_assert_uint_eq(st.packets, sent);
  ck_assert_uint_eq(st.lost, n_lost);
  ck_assert_uint_eq(st.decode_errors, 0);
  ck_assert_uint_eq(st.late, 0);
  call_free(&c);
}

START_TEST(test_speech)
{
  const speech_case *sc = &cases[_i];
  encode_case(sc->encode);
  ck_assert_uint_ge(P.n, 80);
  size_t order[MAXP], straight[MAXP];
  bool none[MAXP] = { false }, lost[MAXP];
  for (size_t k = 0; k < P.n; k++)
    straight[k] = k;

  /* a. In order: every sample the library's decode, nothing flagged. */
  expect e;
  model(sc, sc->ref, none, &e);
  ck_assert_uint_eq(e.compared, e.total);
  scenario(sc, "in order", straight, none, &e);

  /* b. Reordered within the depth: the same. */
  ck_assert_uint_ge(pattern_reorder(order, P.n, 0x5eed1), 3);
  scenario(sc, "reordered", order, none, &e);
  expect_free(&e);

  /* c. 5 % lost: concealed, flagged, the rest as the codec decides. */
  ck_assert_uint_ge(pattern_loss(lost, P.n, 0x5eed2), 3);
  model(sc, sc->ref, lost, &e);
  ck_assert_uint_gt(e.concealed, 0);
  ck_assert_uint_eq(e.n_gaps, 0);
  ck_assert_uint_ge(e.compared, e.total * 9 / 10);
  scenario(sc, "5 % lost", straight, lost, &e);
  expect_free(&e);

  /* And one loss longer than concealment covers: a GAP of its length,
   * the decoder afresh after it; single losses before and after it. */
  size_t long_run = SR_MS_DEFAULT_CONCEAL_MS / PTIME_MS + 1;
  memset(lost, 0, sizeof lost);
  lost[P.n / 4] = true;
  for (size_t k = 0; k < long_run; k++)
    lost[P.n / 2 + k] = true;
  lost[3 * P.n / 4] = true;
  model(sc, sc->ref, lost, &e);
  ck_assert_uint_eq(e.n_gaps, 1);
  ck_assert_uint_eq(e.gap_len[0], long_run * frame_of(sc));
  scenario(sc, "a long loss", straight, lost, &e);
  expect_free(&e);
}
END_TEST

#ifdef SR_HAVE_OPUS
/* In-band FEC: every tenth packet lost alone. Each is rebuilt from the
 * next packet's LBRR, flagged CONCEALED, exactly libopus's decode_fec of
 * that packet; and that is not what its PLC alone would have made. */
START_TEST(test_opus_fec)
{
  const speech_case *sc = NULL;
  for (size_t i = 0; i < N_CASES && !sc; i++)
    if (cases[i].ref == &ref_opus && cases[i].audio_rate == 16000)
      sc = &cases[i];
  ck_assert_ptr_nonnull(sc);
  encode_opus_as(&P, true);
  P_made_by = NULL;
  size_t straight[MAXP];
  bool lost[MAXP] = { false };
  size_t n_lost = 0;
  for (size_t k = 0; k < P.n; k++) {
    straight[k] = k;
    lost[k] = k % 10 == 5 && k + 1 < P.n;
    n_lost += lost[k];
  }
  expect fec, plc;
  model(sc, &ref_opus, lost, &fec);
  model(sc, &ref_opus_plc_only, lost, &plc);
  ck_assert_uint_eq(fec.compared, fec.total);
  ck_assert_uint_eq(fec.concealed, n_lost * frame_of(sc));
  /* FEC carried speech: most lost frames differ from plain PLC. */
  size_t frame = frame_of(sc), differ = 0;
  for (size_t k = 0; k < P.n; k++)
    differ += lost[k] &&
              memcmp(fec.audio + k * frame, plc.audio + k * frame, frame * sizeof *fec.audio) != 0;
  ck_assert_uint_ge(differ, n_lost * 3 / 4);
  /* Every sample compared, the lost frames' flags CONCEALED alone. */
  scenario(sc, "in-band FEC", straight, lost, &fec);
  expect_free(&fec);
  expect_free(&plc);
}
END_TEST
#endif

static Suite *suite(void)
{
  Suite *s = suite_create("handler_speech");
  TCase *tc = tcase_create("speech");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_speech, 0, (int)N_CASES);
#ifdef SR_HAVE_OPUS
  tcase_add_test(tc, test_opus_fec);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(suite());
}
