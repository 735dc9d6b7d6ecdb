/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/media's decoder building blocks, each alone: every decoder against
 * its reference library called directly here (spandsp, libopus, bcg729),
 * sample for sample, on real speech (pocketsphinx-testdata's 16 kHz
 * recording, or a speech-like signal made here when it is missing);
 * concealment lengths and flags, Opus FEC, G.726's two packings against
 * hand-packed nibbles, L16's byte order, comfort noise, DTMF, the
 * resampler's lengths, and bad payloads. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/bitstream.h>
#include <spandsp/g711.h>
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
#include "failalloc.h"
#include "speech.h"
#include "media/cn.h"
#include "media/codecs_built.h"
#include "media/decoder.h"
#include "media/dtmf.h"
#include "media/plc.h"
#include "media/resample.h"

#define MAXS 8000

/* ---------------------------------------------------------------------- */
/* Speech                                                                   */

static speech voice; /* tests/common/speech.h */
static int16_t *speech16; /* 16 kHz */
static size_t nspeech16;
static int16_t *speech8; /* the same at 8 kHz */
static size_t nspeech8;

static void setup(void)
{
  ck_assert_int_eq(speech_load(&voice), 0);
  speech16 = voice.s16;
  nspeech16 = voice.n16;
  speech8 = voice.s8;
  nspeech8 = voice.n8;
}

static void teardown(void)
{
  speech_free(&voice);
  speech16 = speech8 = NULL;
}

static sr_decoder *new_decoder(const char *enc, int pt, uint32_t clock, unsigned ch)
{
  sr_decoder_params p = {.encoding = enc, .payload_type = pt, .clock_rate = clock,
                         .channels = ch};
  sr_decoder *d = NULL;
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), 0);
  ck_assert_ptr_nonnull(d);
  return d;
}

static void assert_same(const int16_t *a, const int16_t *b, size_t n, const char *what, size_t pkt)
{
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(a[i] == b[i], "%s: packet %zu sample %zu: %d != %d", what, pkt, i, a[i], b[i]);
}

static double rms(const int16_t *s, size_t n)
{
  double e = 0;
  for (size_t i = 0; i < n; i++)
    e += (double)s[i] * s[i];
  return n ? sqrt(e / (double)n) : 0;
}

/* ---------------------------------------------------------------------- */
/* G.711                                                                    */

static void g711_exact(const char *name, int law, int pt)
{
  sr_decoder *d = new_decoder(name, pt, 8000, 1);
  ck_assert_uint_eq(sr_decoder_rate(d), 8000);
  g711_state_t *enc = g711_init(NULL, law), *ref = g711_init(NULL, law);
  uint8_t pay[160];
  int16_t got[MAXS], want[160];
  for (size_t off = 0, k = 0; off + 160 <= nspeech8; off += 160, k++) {
    ck_assert_int_eq(g711_encode(enc, pay, speech8 + off, 160), 160);
    g711_decode(ref, want, pay, 160);
    unsigned flags = 99;
    ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, &flags), 160);
    ck_assert_uint_eq(flags, 0);
    assert_same(got, want, 160, name, k);
  }
  g711_free(enc);
  g711_free(ref);
  sr_decoder_free(d);
}

/* Every code byte of both laws, both ways the module decodes (16 at a time
 * with AVX2 where the CPU has it, and the table), against spandsp's
 * decode: 263 bytes, so the vector loop's tail goes the table's way. */
START_TEST(test_g711_every_code)
{
  static const struct { const char *name; int law, pt; } laws[] = {
    { "PCMU", G711_ULAW, 0 }, { "PCMA", G711_ALAW, 8 },
  };
  uint8_t pay[263];
  int16_t got[MAXS], want[263];
  for (size_t i = 0; i < sizeof pay; i++)
    pay[i] = (uint8_t)(i * 167 + 3); /* 167 is odd: every byte in the first 256 */
  for (int simd = 0; simd < 2; simd++) {
    sr_decoder_g711_simd(simd);
    for (size_t l = 0; l < 2; l++) {
      sr_decoder *d = new_decoder(laws[l].name, laws[l].pt, 8000, 1);
      g711_state_t *ref = g711_init(NULL, laws[l].law);
      g711_decode(ref, want, pay, (int)sizeof pay);
      ck_assert_int_eq(sr_decoder_decode(d, pay, sizeof pay, got, MAXS, NULL), (int)sizeof pay);
      assert_same(got, want, sizeof pay, laws[l].name, (size_t)simd);
      g711_free(ref);
      sr_decoder_free(d);
    }
  }
  sr_decoder_g711_simd(1);
}
END_TEST

START_TEST(test_pcmu_exact)
{
  g711_exact("PCMU", G711_ULAW, 0);
}
END_TEST

START_TEST(test_pcma_exact)
{
  g711_exact("PCMA", G711_ALAW, 8);
}
END_TEST

/* spandsp 0.0.6's plc_fillin rotates its history with an overlapping
 * memcpy (lib/media/spandsp_plc.c); the reference here rotates it first,
 * as the module does, so the comparison runs under AddressSanitizer. */
static void ref_plc_fillin(plc_state_t *s, int16_t *amp, int len)
{
  if (s->missing_samples == 0 && s->buf_ptr > 0) {
    int16_t tmp[PLC_HISTORY_LEN];
    int p = s->buf_ptr;
    memcpy(tmp, s->history + p, sizeof(int16_t) * (size_t)(PLC_HISTORY_LEN - p));
    memcpy(tmp + PLC_HISTORY_LEN - p, s->history, sizeof(int16_t) * (size_t)p);
    memcpy(s->history, tmp, sizeof tmp);
    s->buf_ptr = 0;
  }
  plc_fillin(s, amp, len);
}

/* The concealment is spandsp's PLC fed what the module decoded: the same
 * samples as a reference PLC fed the reference decode. */
START_TEST(test_g711_conceal_is_spandsp_plc)
{
  sr_decoder *d = new_decoder(NULL, 0, 0, 0);
  ck_assert_int_eq(sr_decoder_codec(d), SR_CODEC_PCMU);
  plc_state_t *plc = plc_init(NULL);
  uint8_t pay[160];
  int16_t got[MAXS], want[MAXS];
  size_t off = 8000; /* inside speech */
  for (int k = 0; k < 10; k++, off += 160) {
    for (int i = 0; i < 160; i++)
      pay[i] = linear_to_ulaw(speech8[off + (size_t)i]);
    for (int i = 0; i < 160; i++)
      want[i] = ulaw_to_linear(pay[i]);
    plc_rx(plc, want, 160);
    ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, NULL), 160);
  }
  unsigned flags = 0;
  ck_assert_int_eq(sr_decoder_conceal(d, 240, got, MAXS, &flags), 240);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  ref_plc_fillin(plc, want, 240);
  assert_same(got, want, 240, "plc", 0);
  ck_assert(rms(got, 80) > 10.0);
  /* Speech resumes: blended into the concealment as spandsp does. */
  for (int i = 0; i < 160; i++)
    pay[i] = linear_to_ulaw(speech8[off + 240 + (size_t)i]);
  for (int i = 0; i < 160; i++)
    want[i] = ulaw_to_linear(pay[i]);
  plc_rx(plc, want, 160);
  ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, &flags), 160);
  ck_assert_uint_eq(flags, 0);
  assert_same(got, want, 160, "after plc", 0);
  /* n > cap: refused, nothing written. */
  ck_assert_int_eq(sr_decoder_conceal(d, 100, got, 99, &flags), SIPREC_ETOOBIG);
  ck_assert_int_eq(sr_decoder_conceal(d, 0, got, MAXS, &flags), 0);
  plc_free(plc);
  sr_decoder_free(d);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* G.722                                                                    */

START_TEST(test_g722_exact)
{
  sr_decoder *d = new_decoder(NULL, 9, 0, 0); /* static PT 9, no rtpmap */
  ck_assert_int_eq(sr_decoder_codec(d), SR_CODEC_G722);
  ck_assert_uint_eq(sr_decoder_rate(d), 16000);
  ck_assert_uint_eq(sr_decoder_clock_rate(d), 8000);
  g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
  g722_decode_state_t *ref = g722_decode_init(NULL, 64000, 0);
  uint8_t pay[160];
  int16_t got[MAXS], want[320];
  for (size_t off = 0, k = 0; off + 320 <= nspeech16; off += 320, k++) {
    ck_assert_int_eq(g722_encode(enc, pay, speech16 + off, 320), 160);
    ck_assert_int_eq(g722_decode(ref, want, pay, 160), 320);
    ck_assert_int_eq(sr_decoder_samples(d, pay, 160), 320);
    ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, NULL), 320);
    assert_same(got, want, 320, "G722", k);
  }
  g722_encode_free(enc);
  g722_decode_free(ref);
  sr_decoder_free(d);
}
END_TEST

/* plc.h at 16 kHz: full level for 10 ms, silence from 60 ms, and a
 * concealed span that carries on the speech's pitch (its level near the
 * last packet's). */
START_TEST(test_g722_conceal)
{
  sr_decoder *d = new_decoder("G722", 9, 8000, 1);
  g722_encode_state_t *enc = g722_encode_init(NULL, 64000, 0);
  uint8_t pay[160];
  int16_t got[MAXS];
  size_t off = 16000;
  double last = 0;
  /* Find a voiced stretch: a loud packet. */
  for (int k = 0; k < 40 && last < 1000.0; k++, off += 320) {
    g722_encode(enc, pay, speech16 + off, 320);
    ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, NULL), 320);
    last = rms(got, 320);
  }
  ck_assert(last >= 1000.0);
  unsigned flags = 0;
  ck_assert_int_eq(sr_decoder_conceal(d, 1600, got, MAXS, &flags), 1600);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  double first = rms(got, 160);
  ck_assert_msg(first > last * 0.2 && first < last * 3.0, "first 10 ms %f vs %f", first, last);
  for (size_t i = 960; i < 1600; i++)
    ck_assert_int_eq(got[i], 0);
  /* Speech resumes: decodes normally, the right length. */
  g722_encode(enc, pay, speech16 + off, 320);
  ck_assert_int_eq(sr_decoder_decode(d, pay, 160, got, MAXS, &flags), 320);
  ck_assert_uint_eq(flags, 0);
  g722_encode_free(enc);
  sr_decoder_free(d);
}
END_TEST


/* Why G.722 is concealed with plc.h rather than spandsp's PLC: on a voiced
 * sound at 16 kHz, the first 10 ms of concealment against the true
 * continuation. spandsp's pitch search (40..120 samples) cannot see a
 * period above 7.5 ms at 16 kHz, so voices below 133 Hz (most men's) are
 * continued with the wrong period; plc.h searches 2.5..15 ms at any rate. */
static double conceal_error(double f0, int use_spandsp)
{
  static int16_t x[16000];
  for (int i = 0; i < 16000; i++) {
    double v = 0;
    for (int h = 1; h <= 10; h++)
      v += sin(2 * M_PI * f0 * h * i / 16000.0 + h) / h;
    x[i] = (int16_t)(5000 * v);
  }
  int16_t buf[8000], got[160];
  memcpy(buf, x, sizeof buf);
  if (use_spandsp) {
    plc_state_t sp;
    plc_init(&sp);
    plc_rx(&sp, buf, 8000);
    ref_plc_fillin(&sp, got, 160);
  } else {
    sr_plc *p = sr_plc_new(NULL, 16000);
    ck_assert_ptr_nonnull(p);
    sr_plc_rx(p, buf, 8000);
    sr_plc_fillin(p, got, 160);
    sr_plc_free(p);
  }
  double err = 0, energy = 0;
  for (int i = 0; i < 160; i++) {
    double t = x[8000 + i];
    err += (got[i] - t) * (got[i] - t);
    energy += t * t;
  }
  return err / energy;
}

START_TEST(test_plc_16k_low_voices)
{
  for (double f0 = 80; f0 <= 120; f0 += 20) {
    double ours = conceal_error(f0, 0), theirs = conceal_error(f0, 1);
    ck_assert_msg(ours < 0.05, "plc.h at %.0f Hz: %f", f0, ours);
    ck_assert_msg(theirs > 0.5, "spandsp at %.0f Hz: %f (no longer worse?)", f0, theirs);
  }
  for (double f0 = 160; f0 <= 300; f0 += 70)
    ck_assert_msg(conceal_error(f0, 0) < 0.05, "plc.h at %.0f Hz", f0);
  ck_assert_ptr_null(sr_plc_new(NULL, 999));
}
END_TEST

/* ---------------------------------------------------------------------- */
/* G.726                                                                    */

static void g726_exact(const char *name, int pt, int bitrate, int packing)
{
  sr_decoder *d = new_decoder(name, pt, 8000, 1);
  g726_state_t *enc = g726_init(NULL, bitrate, G726_ENCODING_LINEAR, packing);
  g726_state_t *ref = g726_init(NULL, bitrate, G726_ENCODING_LINEAR, packing);
  uint8_t pay[200];
  int16_t got[MAXS], want[160];
  int bytes = 160 * (bitrate / 8000) / 8;
  for (size_t off = 0, k = 0; off + 160 <= nspeech8; off += 160, k++) {
    ck_assert_int_eq(g726_encode(enc, pay, speech8 + off, 160), bytes);
    ck_assert_int_eq(g726_decode(ref, want, pay, bytes), 160);
    ck_assert_int_eq(sr_decoder_decode(d, pay, (size_t)bytes, got, MAXS, NULL), 160);
    assert_same(got, want, 160, name, k);
  }
  g726_free(enc);
  g726_free(ref);
  sr_decoder_free(d);
}

START_TEST(test_g726_exact)
{
  g726_exact("G726-32", 2, 32000, G726_PACKING_RIGHT);
  g726_exact(NULL, 2, 32000, G726_PACKING_RIGHT); /* Metaswitch: PT 2, no rtpmap */
  g726_exact("AAL2-G726-32", 112, 32000, G726_PACKING_LEFT);
  g726_exact("g726-16", 97, 16000, G726_PACKING_RIGHT);
  g726_exact("G726-24", 97, 24000, G726_PACKING_RIGHT);
  g726_exact("G726-40", 97, 40000, G726_PACKING_RIGHT);
  g726_exact("AAL2-G726-24", 97, 24000, G726_PACKING_LEFT);
}
END_TEST

/* RFC 3551 section 4.5.4 by hand: with 4-bit codes, the first sample's
 * code in the octet's low nibble, the second's in the high one; AAL2 the
 * other way round. The codes come from spandsp's encoder unpacked (one code
 * an octet), the expected audio from its decoder unpacked. */
START_TEST(test_g726_nibble_order)
{
  g726_state_t *enc = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_NONE);
  g726_state_t *ref = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_NONE);
  sr_decoder *rfc = new_decoder("G726-32", 2, 8000, 1);
  sr_decoder *aal2 = new_decoder("AAL2-G726-32", 100, 8000, 1);
  sr_decoder *wrong = new_decoder("AAL2-G726-32", 100, 8000, 1);
  uint8_t codes[160], low_first[80], high_first[80];
  int16_t want[160], got[MAXS];
  int differs = 0;
  for (size_t off = 8000, k = 0; k < 25; off += 160, k++) {
    ck_assert_int_eq(g726_encode(enc, codes, speech8 + off, 160), 160);
    g726_decode(ref, want, codes, 160);
    for (int i = 0; i < 80; i++) {
      ck_assert_uint_lt(codes[2 * i], 16);
      low_first[i] = (uint8_t)(codes[2 * i] | codes[2 * i + 1] << 4);
      high_first[i] = (uint8_t)(codes[2 * i] << 4 | codes[2 * i + 1]);
    }
    ck_assert_int_eq(sr_decoder_decode(rfc, low_first, 80, got, MAXS, NULL), 160);
    assert_same(got, want, 160, "G726-32 low nibble first", k);
    ck_assert_int_eq(sr_decoder_decode(aal2, high_first, 80, got, MAXS, NULL), 160);
    assert_same(got, want, 160, "AAL2-G726-32 high nibble first", k);
    /* And the packings are not interchangeable. */
    ck_assert_int_eq(sr_decoder_decode(wrong, low_first, 80, got, MAXS, NULL), 160);
    differs += memcmp(got, want, sizeof want) != 0;
  }
  ck_assert_int_gt(differs, 20);
  /* A single hand-computed octet: codes 0x3 then 0xC are 0xC3 in RFC
   * 3551's packing, 0x3C in AAL2's. */
  ck_assert_uint_eq((uint8_t)(0x3 | 0xC << 4), 0xC3);
  g726_free(enc);
  g726_free(ref);
  sr_decoder_free(rfc);
  sr_decoder_free(aal2);
  sr_decoder_free(wrong);
}
END_TEST

START_TEST(test_g726_conceal_and_lengths)
{
  sr_decoder *d = new_decoder("G726-24", 97, 8000, 1);
  uint8_t pay[60] = {0};
  int16_t got[MAXS];
  /* 24 kbit/s: 3 octets hold 8 codes; 4 octets hold no whole number. */
  ck_assert_int_eq(sr_decoder_samples(d, pay, 3), 8);
  ck_assert_int_eq(sr_decoder_samples(d, pay, 4), SIPREC_EPARSE);
  ck_assert_int_eq(sr_decoder_decode(d, pay, 60, got, MAXS, NULL), 160);
  unsigned flags = 0;
  ck_assert_int_eq(sr_decoder_conceal(d, 160, got, MAXS, &flags), 160);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  sr_decoder_free(d);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Opus                                                                     */

#ifdef SR_HAVE_OPUS
typedef struct opus_pkts {
  uint8_t data[200][400];
  int len[200];
  int n;
} opus_pkts;

/* 20 ms packets of the speech, SILK with in-band FEC on: at 16 kHz
 * (`fullband` 0), or, to reach CELT too, repeated to 48 kHz and coded as
 * audio at 64 kbit/s. */
static void opus_encode_speech_as(opus_pkts *p, int fullband)
{
  int err;
  int rate = fullband ? 48000 : 16000, frame = rate / 50;
  OpusEncoder *enc = opus_encoder_create(rate, 1,
                                         fullband ? OPUS_APPLICATION_AUDIO : OPUS_APPLICATION_VOIP, &err);
  ck_assert_int_eq(err, OPUS_OK);
  opus_encoder_ctl(enc, OPUS_SET_BITRATE(fullband ? 64000 : 24000));
  opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
  opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20));
  int16_t pcm[960];
  p->n = 0;
  for (size_t off = 0; off + 320 <= nspeech16 && p->n < 200; off += 320, p->n++) {
    for (int i = 0; i < frame; i++)
      pcm[i] = speech16[off + (size_t)(i * 320 / frame)];
    p->len[p->n] = opus_encode(enc, pcm, frame, p->data[p->n], 400);
    ck_assert_int_gt(p->len[p->n], 0);
  }
  opus_encoder_destroy(enc);
}

static void opus_encode_speech(opus_pkts *p)
{
  opus_encode_speech_as(p, 0);
}

static void opus_exact_at(const opus_pkts *p, uint32_t rate)
{
  sr_decoder_params prm = {.encoding = "opus", .payload_type = 111, .clock_rate = 48000,
                           .channels = 2, .fmtp = "useinbandfec=1", .opus_rate = rate};
  sr_decoder *d = NULL;
  ck_assert_int_eq(sr_decoder_new(NULL, &prm, &d), 0);
  ck_assert_uint_eq(sr_decoder_rate(d), rate ? rate : 48000);
  ck_assert_uint_eq(sr_decoder_clock_rate(d), 48000);
  int err;
  OpusDecoder *ref = opus_decoder_create((opus_int32)sr_decoder_rate(d), 1, &err);
  int16_t got[MAXS], want[MAXS];
  int frame = (int)sr_decoder_rate(d) / 50;
  for (int k = 0; k < p->n; k++) {
    ck_assert_int_eq(opus_decode(ref, p->data[k], p->len[k], want, MAXS, 0), frame);
    ck_assert_int_eq(sr_decoder_decode(d, p->data[k], (size_t)p->len[k], got, MAXS, NULL), frame);
    assert_same(got, want, (size_t)frame, "opus", (size_t)k);
  }
  opus_decoder_destroy(ref);
  sr_decoder_free(d);
}

START_TEST(test_opus_exact)
{
  static opus_pkts p;
  opus_encode_speech(&p);
  ck_assert_int_gt(p.n, 100);
  opus_exact_at(&p, 0);
  opus_exact_at(&p, 8000);
  opus_exact_at(&p, 12000);
  opus_exact_at(&p, 16000);
  opus_exact_at(&p, 24000);
  opus_encode_speech_as(&p, 1);
  int not_silk = 0; /* TOC configurations 12 and up: hybrid or CELT */
  for (int k = 0; k < p.n; k++)
    not_silk += (p.data[k][0] >> 3) >= 12;
  ck_assert_int_gt(not_silk, p.n / 2);
  opus_exact_at(&p, 0);
  opus_exact_at(&p, 16000);
  sr_decoder_params prm = {.encoding = "opus", .payload_type = 111, .opus_rate = 44100};
  sr_decoder *d = NULL;
  ck_assert_int_eq(sr_decoder_new(NULL, &prm, &d), SIPREC_EINVAL);
  prm.opus_rate = 16000;
  prm.clock_rate = 16000; /* RFC 7587: always 48000 */
  ck_assert_int_eq(sr_decoder_new(NULL, &prm, &d), SIPREC_EINVAL);
}
END_TEST

/* A lost packet: libopus's PLC, or its FEC from the next packet, the same
 * as libopus called directly; flags and lengths as documented. */
START_TEST(test_opus_plc_and_fec)
{
  static opus_pkts p;
  opus_encode_speech(&p);
  sr_decoder_params prm = {.encoding = "OPUS", .payload_type = 111, .channels = 2,
                           .opus_rate = 16000};
  sr_decoder *d = NULL;
  ck_assert_int_eq(sr_decoder_new(NULL, &prm, &d), 0);
  int err;
  OpusDecoder *ref = opus_decoder_create(16000, 1, &err);
  int16_t got[MAXS], want[MAXS];
  unsigned flags;
  int fec_differs_from_plc = 0;
  for (int k = 0; k + 1 < p.n; k++) {
    if (k % 10 == 5) { /* lost: FEC from packet k+1 */
      ck_assert_int_eq(sr_decoder_conceal_fec(d, p.data[k + 1], (size_t)p.len[k + 1], 320, got,
                                              MAXS, &flags), 320);
      ck_assert_uint_eq(flags, SR_DEC_CONCEALED | SR_DEC_FEC);
      ck_assert_int_eq(opus_decode(ref, p.data[k + 1], p.len[k + 1], want, 320, 1), 320);
      assert_same(got, want, 320, "opus fec", (size_t)k);
      fec_differs_from_plc += rms(got, 320) > 50.0;
    } else if (k % 10 == 8) { /* lost: plain PLC, 20 ms */
      ck_assert_int_eq(sr_decoder_conceal(d, 320, got, MAXS, &flags), 320);
      ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
      ck_assert_int_eq(opus_decode(ref, NULL, 0, want, 320, 0), 320);
      assert_same(got, want, 320, "opus plc", (size_t)k);
    } else {
      ck_assert_int_eq(sr_decoder_decode(d, p.data[k], (size_t)p.len[k], got, MAXS, NULL), 320);
      ck_assert_int_eq(opus_decode(ref, p.data[k], p.len[k], want, MAXS, 0), 320);
      assert_same(got, want, 320, "opus", (size_t)k);
    }
  }
  ck_assert_int_gt(fec_differs_from_plc, 0);
  /* A gap of two packets: 20 ms PLC, then 20 ms FEC. */
  ck_assert_int_eq(sr_decoder_conceal_fec(d, p.data[3], (size_t)p.len[3], 640, got, MAXS,
                                          &flags), 640);
  /* Gaps that are no multiple of 2.5 ms still give exactly n samples. */
  ck_assert_int_eq(sr_decoder_conceal(d, 333, got, MAXS, &flags), 333);
  ck_assert_int_eq(sr_decoder_conceal_fec(d, p.data[4], (size_t)p.len[4], 100, got, MAXS,
                                          &flags), 100);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  /* A malformed next packet. */
  uint8_t bad[2] = {0x03, 0xff}; /* code 3 with no frame count byte room */
  ck_assert_int_eq(sr_decoder_conceal_fec(d, bad, 1, 320, got, MAXS, &flags), SIPREC_EPARSE);
  opus_decoder_destroy(ref);
  sr_decoder_free(d);
}
END_TEST
#endif

/* ---------------------------------------------------------------------- */
/* G.729                                                                    */

#ifdef SR_HAVE_BCG729
START_TEST(test_g729_exact)
{
  sr_decoder *d = new_decoder(NULL, 18, 0, 0);
  bcg729EncoderChannelContextStruct *enc = initBcg729EncoderChannel(0);
  bcg729DecoderChannelContextStruct *ref = initBcg729DecoderChannel();
  uint8_t pay[20];
  int16_t got[MAXS], want[160];
  for (size_t off = 0, k = 0; off + 160 <= nspeech8; off += 160, k++) {
    uint8_t len;
    bcg729Encoder(enc, speech8 + off, pay, &len);
    bcg729Encoder(enc, speech8 + off + 80, pay + 10, &len);
    bcg729Decoder(ref, pay, 10, 0, 0, 0, want);
    bcg729Decoder(ref, pay + 10, 10, 0, 0, 0, want + 80);
    ck_assert_int_eq(sr_decoder_decode(d, pay, 20, got, MAXS, NULL), 160);
    assert_same(got, want, 160, "G729", k);
  }
  unsigned flags;
  ck_assert_int_eq(sr_decoder_conceal(d, 100, got, MAXS, &flags), 100);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  ck_assert_int_eq(sr_decoder_samples(d, pay, 12), 160); /* a frame and a SID */
  ck_assert_int_eq(sr_decoder_samples(d, pay, 11), SIPREC_EPARSE);
  closeBcg729EncoderChannel(enc);
  closeBcg729DecoderChannel(ref);
  sr_decoder_free(d);
}
END_TEST
#endif

/* ---------------------------------------------------------------------- */
/* L16                                                                      */

START_TEST(test_l16_byte_order_and_downmix)
{
  sr_decoder *d = new_decoder("L16", 96, 16000, 1);
  ck_assert_uint_eq(sr_decoder_rate(d), 16000);
  uint8_t pay[6] = {0x12, 0x34, 0xff, 0xfe, 0x80, 0x00};
  int16_t got[MAXS];
  ck_assert_int_eq(sr_decoder_decode(d, pay, 6, got, MAXS, NULL), 3);
  ck_assert_int_eq(got[0], 0x1234);
  ck_assert_int_eq(got[1], -2);
  ck_assert_int_eq(got[2], -32768);
  ck_assert_int_eq(sr_decoder_samples(d, pay, 5), SIPREC_EPARSE);
  sr_decoder_free(d);

  d = new_decoder("L16", 96, 48000, 2);
  uint8_t st[8] = {0x03, 0xe8, 0x0b, 0xb8, 0xff, 0x38, 0x00, 0x00}; /* (1000,3000) (-200,0) */
  ck_assert_int_eq(sr_decoder_decode(d, st, 8, got, MAXS, NULL), 2);
  ck_assert_int_eq(got[0], 2000);
  ck_assert_int_eq(got[1], -100);
  ck_assert_int_eq(sr_decoder_samples(d, st, 6), SIPREC_EPARSE);
  unsigned flags;
  ck_assert_int_eq(sr_decoder_conceal(d, 960, got, MAXS, &flags), 960);
  ck_assert_uint_eq(flags, SR_DEC_CONCEALED);
  sr_decoder_free(d);

  /* Static PT 10 and 11: 44.1 kHz stereo and mono. */
  d = new_decoder(NULL, 10, 0, 0);
  ck_assert_uint_eq(sr_decoder_rate(d), 44100);
  ck_assert_int_eq(sr_decoder_samples(d, st, 8), 2);
  sr_decoder_free(d);
  d = new_decoder(NULL, 11, 0, 0);
  ck_assert_int_eq(sr_decoder_samples(d, st, 8), 4);
  sr_decoder_free(d);

  /* L16 needs a rate. */
  sr_decoder_params p = {.encoding = "L16", .payload_type = 96};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_EINVAL);
}
END_TEST

/* The L16 round trip on speech at 16 kHz: exact. */
START_TEST(test_l16_speech_exact)
{
  sr_decoder *d = new_decoder("L16", 96, 16000, 1);
  uint8_t pay[640];
  int16_t got[MAXS];
  for (size_t off = 0; off + 320 <= nspeech16; off += 320) {
    for (size_t i = 0; i < 320; i++) {
      pay[2 * i] = (uint8_t)((uint16_t)speech16[off + i] >> 8);
      pay[2 * i + 1] = (uint8_t)speech16[off + i];
    }
    ck_assert_int_eq(sr_decoder_decode(d, pay, 640, got, MAXS, NULL), 320);
    assert_same(got, speech16 + off, 320, "L16", off / 320);
  }
  sr_decoder_free(d);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Comfort noise                                                            */

START_TEST(test_cn)
{
  sr_cn_info info;
  uint8_t pay[4] = {40, 1, 2, 3};
  ck_assert_int_eq(sr_cn_parse(pay, 4, &info), 0);
  ck_assert_uint_eq(info.level, 40);
  ck_assert_uint_eq(info.n_coeffs, 3);
  ck_assert_uint_eq(info.coeffs[2], 3);
  ck_assert_int_eq(sr_cn_parse(pay, 0, &info), SIPREC_EPARSE);
  uint8_t reserved = 0x80 | 50;
  ck_assert_int_eq(sr_cn_parse(&reserved, 1, &info), 0);
  ck_assert_uint_eq(info.level, 50);
  ck_assert(fabs(sr_cn_rms(0) - 23170.0) < 1.0);
  ck_assert(fabs(sr_cn_rms(20) - 2317.0) < 1.0);

  sr_decoder *d = new_decoder(NULL, 13, 0, 0);
  int16_t got[MAXS];
  unsigned flags = 0;
  /* Before any CN packet: silence. */
  ck_assert_int_eq(sr_decoder_conceal(d, 160, got, MAXS, &flags), 160);
  ck_assert_uint_eq(flags, SR_DEC_COMFORT_NOISE);
  ck_assert(rms(got, 160) == 0.0);
  ck_assert_int_eq(sr_decoder_samples(d, pay, 4), 0);
  ck_assert_int_eq(sr_decoder_decode(d, pay, 4, got, MAXS, &flags), 0);
  ck_assert_uint_eq(flags, SR_DEC_COMFORT_NOISE);
  ck_assert_int_eq(sr_decoder_conceal(d, 8000, got, MAXS, &flags), 8000);
  ck_assert_uint_eq(flags, SR_DEC_COMFORT_NOISE);
  double r = rms(got, 8000), want = sr_cn_rms(40);
  ck_assert_msg(fabs(r - want) < want * 0.1, "noise rms %f, want %f", r, want);
  /* Level 127: digital silence. */
  uint8_t quiet = 127;
  ck_assert_int_eq(sr_decoder_decode(d, &quiet, 1, got, MAXS, &flags), 0);
  ck_assert_int_eq(sr_decoder_conceal(d, 160, got, MAXS, &flags), 160);
  ck_assert(rms(got, 160) == 0.0);
  ck_assert_int_eq(sr_decoder_decode(d, pay, 0, got, MAXS, &flags), SIPREC_EPARSE);
  sr_decoder_free(d);
  /* Wideband comfort noise on a dynamic type. */
  d = new_decoder("CN", 105, 16000, 1);
  ck_assert_uint_eq(sr_decoder_rate(d), 16000);
  sr_decoder_free(d);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* DTMF                                                                     */

static int feed(sr_dtmf *s, uint32_t ts, uint8_t ev, int end, uint16_t dur, sr_dtmf_event *out)
{
  uint8_t p[4] = {ev, (uint8_t)((end ? 0x80 : 0) | 10), (uint8_t)(dur >> 8), (uint8_t)dur};
  return sr_dtmf_feed(s, ts, p, 4, out);
}

START_TEST(test_dtmf)
{
  sr_dtmf s;
  sr_dtmf_init(&s);
  sr_dtmf_event ev;
  ck_assert_int_eq(feed(&s, 1000, 5, 0, 160, &ev), SR_DTMF_START);
  ck_assert_int_eq(ev.digit, '5');
  ck_assert_uint_eq(ev.code, 5);
  ck_assert_uint_eq(ev.volume, 10);
  ck_assert_uint_eq(ev.timestamp, 1000);
  ck_assert_uint_eq(ev.duration, 160);
  ck_assert_int_eq(feed(&s, 1000, 5, 0, 320, &ev), 0);
  ck_assert_int_eq(feed(&s, 1000, 5, 0, 480, &ev), 0);
  ck_assert_int_eq(feed(&s, 1000, 5, 1, 800, &ev), SR_DTMF_END);
  ck_assert_uint_eq(ev.duration, 800);
  /* The end's two repeats: nothing new. */
  ck_assert_int_eq(feed(&s, 1000, 5, 1, 800, &ev), 0);
  ck_assert_int_eq(feed(&s, 1000, 5, 1, 800, &ev), 0);
  /* The next press; its start lost: its first packet is an end. */
  ck_assert_int_eq(feed(&s, 5000, 11, 1, 640, &ev), SR_DTMF_START | SR_DTMF_END);
  ck_assert_int_eq(ev.digit, '#');
  ck_assert_int_eq(feed(&s, 5000, 11, 1, 640, &ev), 0);
  /* A straggler of the first press. */
  ck_assert_int_eq(feed(&s, 1000, 5, 1, 800, &ev), 0);
  /* Star, A-D, and an event that is no key (16: flash). */
  ck_assert_int_eq(feed(&s, 9000, 10, 0, 160, &ev), SR_DTMF_START);
  ck_assert_int_eq(ev.digit, '*');
  ck_assert_int_eq(feed(&s, 12000, 16, 0, 160, &ev), 0);
  ck_assert_int_eq(sr_dtmf_digit(15), 'D');
  ck_assert_int_eq(sr_dtmf_digit(12), 'A');
  /* Timestamps wrap. */
  ck_assert_int_eq(feed(&s, 0xfffffff0u, 1, 0, 160, &ev), 0); /* older than 12000? no: */
  sr_dtmf_init(&s);
  ck_assert_int_eq(feed(&s, 0xfffffff0u, 1, 0, 160, &ev), SR_DTMF_START);
  ck_assert_int_eq(feed(&s, 0x10u, 2, 0, 160, &ev), SR_DTMF_START);
  ck_assert_int_eq(ev.digit, '2');
  /* Short payloads. */
  uint8_t p[3] = {1, 2, 3};
  ck_assert_int_eq(sr_dtmf_feed(&s, 1, p, 3, &ev), SIPREC_EPARSE);
  ck_assert_int_eq(sr_dtmf_feed(&s, 1, p, 0, &ev), SIPREC_EPARSE);
  /* A payload with a redundant block after the first: the first counts. */
  uint8_t red[8] = {3, 0x8a, 0, 160, 2, 0x8a, 1, 0};
  sr_dtmf_payload pl;
  ck_assert_int_eq(sr_dtmf_parse(red, 8, &pl), 0);
  ck_assert_uint_eq(pl.event, 3);
  ck_assert(pl.end);
  ck_assert_uint_eq(pl.duration, 160);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Resampler                                                                */

static size_t resample_all(uint32_t in_rate, uint32_t out_rate, size_t chunk, int16_t *out,
                           size_t *before_flush)
{
  sr_resampler *r = NULL;
  ck_assert_int_eq(sr_resampler_new(NULL, in_rate, out_rate, -1, &r), 0);
  size_t n = in_rate, total = 0; /* one second */
  int16_t *in = calloc(n, sizeof *in);
  for (size_t i = 0; i < n; i++)
    in[i] = (int16_t)(8000.0 * sin(2 * M_PI * 440.0 * (double)i / in_rate));
  for (size_t off = 0; off < n; off += chunk) {
    size_t k = n - off < chunk ? n - off : chunk;
    int got = sr_resampler_process(r, in + off, k, out + total, sr_resampler_out_max(r, k));
    ck_assert_int_ge(got, 0);
    total += (size_t)got;
  }
  *before_flush = total;
  int got = sr_resampler_flush(r, out + total, sr_resampler_flush_max(r));
  ck_assert_int_ge(got, 0);
  total += (size_t)got;
  free(in);
  sr_resampler_free(r);
  return total;
}

#ifdef SR_HAVE_SPEEXDSP
START_TEST(test_resample_lengths)
{
  static int16_t out[200000];
  size_t before;
  ck_assert_uint_eq(resample_all(8000, 16000, 160, out, &before), 16000);
  ck_assert_uint_le(before, 16000);
  ck_assert_uint_ge(before, 16000 - 200); /* the filter's latency, far below */
  /* Aligned, not delayed: the 440 Hz sine where it should be. */
  double err = 0;
  for (size_t i = 1000; i < 15000; i++) {
    double want = 8000.0 * sin(2 * M_PI * 440.0 * (double)i / 16000.0);
    err += (out[i] - want) * (out[i] - want);
  }
  ck_assert_msg(sqrt(err / 14000.0) < 80.0, "rms error %f", sqrt(err / 14000.0));
  ck_assert_uint_eq(resample_all(48000, 16000, 960, out, &before), 16000);
  ck_assert_uint_eq(resample_all(16000, 8000, 333, out, &before), 8000);
  ck_assert_uint_eq(resample_all(8000, 44100, 160, out, &before), 44100);
  ck_assert_uint_eq(resample_all(16000, 16000, 320, out, &before), 16000);
  ck_assert_uint_eq(before, 16000);
}
END_TEST
#else
/* Without speexdsp only equal rates, a copy. */
START_TEST(test_resample_lengths)
{
  sr_resampler *r = NULL;
  ck_assert_int_eq(sr_resampler_new(NULL, 8000, 16000, -1, &r), SIPREC_ENOTFOUND);
  static int16_t out[20000];
  size_t before;
  ck_assert_uint_eq(resample_all(16000, 16000, 320, out, &before), 16000);
}
END_TEST
#endif

START_TEST(test_resample_errors)
{
  sr_resampler *r = NULL;
  ck_assert_int_eq(sr_resampler_new(NULL, 8000, 16000, 11, &r), SIPREC_EINVAL);
  ck_assert_int_eq(sr_resampler_new(NULL, 0, 16000, 5, &r), SIPREC_EINVAL);
  uint32_t to = 16000;
#ifndef SR_HAVE_SPEEXDSP
  to = 8000;
#endif
  ck_assert_int_eq(sr_resampler_new(NULL, 8000, to, 3, &r), 0);
  int16_t in[160] = {0}, out[400];
  ck_assert_int_eq(sr_resampler_process(r, in, 160, out, 100), SIPREC_ETOOBIG);
  ck_assert_int_eq(sr_resampler_flush(r, out, 1), SIPREC_ETOOBIG);
  ck_assert_int_eq(sr_resampler_process(r, in, 0, out, 400), 0);
  sr_resampler_reset(r);
  sr_resampler_free(r);
  sr_resampler_free(NULL);
}
END_TEST

/* ---------------------------------------------------------------------- */
/* Which codecs, creation errors, bad payloads, the allocator               */

START_TEST(test_codecs_built)
{
  ck_assert(sr_media_codec_built("PCMU"));
  ck_assert(sr_media_codec_built("pcma"));
  ck_assert(sr_media_codec_built("G722"));
  ck_assert(sr_media_codec_built("G726-32"));
  ck_assert(sr_media_codec_built("AAL2-G726-32"));
  ck_assert(sr_media_codec_built("L16"));
  ck_assert(sr_media_codec_built("CN"));
  ck_assert(sr_media_codec_built("telephone-event"));
  ck_assert(!sr_media_codec_built("GSM"));
  ck_assert(!sr_media_codec_built("G726-33"));
  ck_assert(!sr_media_codec_built(NULL));
#ifdef SR_HAVE_OPUS
  ck_assert(sr_media_codec_built("opus"));
#else
  ck_assert(!sr_media_codec_built("opus"));
#endif
#ifdef SR_HAVE_BCG729
  ck_assert(sr_media_codec_built("G729"));
#else
  ck_assert(!sr_media_codec_built("G729"));
  sr_decoder *g = NULL;
  sr_decoder_params gp = {.payload_type = 18};
  ck_assert_int_eq(sr_decoder_new(NULL, &gp, &g), SIPREC_ENOTFOUND);
#endif
  /* Without an encoding, RFC 3551's table (lib/common/static_pt.h) names
   * it: PT 2 is G726-32, PT 10 L16 at 44100 Hz; PT 3 is GSM, which
   * no build decodes. */
  sr_decoder *d = NULL;
  sr_decoder_params sp = {.payload_type = 2};
  ck_assert_int_eq(sr_decoder_new(NULL, &sp, &d), 0);
  ck_assert_int_eq(sr_decoder_codec(d), SR_CODEC_G726);
  ck_assert_uint_eq(sr_decoder_clock_rate(d), 8000);
  sr_decoder_free(d);
  sp.payload_type = 10;
  ck_assert_int_eq(sr_decoder_new(NULL, &sp, &d), 0);
  ck_assert_int_eq(sr_decoder_codec(d), SR_CODEC_L16);
  ck_assert_uint_eq(sr_decoder_clock_rate(d), 44100);
  sr_decoder_free(d);
  sp.payload_type = 3;
  ck_assert_int_eq(sr_decoder_new(NULL, &sp, &d), SIPREC_ENOTFOUND);
  sp.payload_type = 5; /* DVI4: a static number no entry names */
  ck_assert_int_eq(sr_decoder_new(NULL, &sp, &d), SIPREC_ENOTFOUND);

  sr_decoder_params p = {.encoding = "GSM", .payload_type = 3};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_ENOTFOUND);
  p = (sr_decoder_params){.encoding = "telephone-event", .payload_type = 101};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_ENOTFOUND);
  p = (sr_decoder_params){.payload_type = 96}; /* dynamic without rtpmap */
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_ENOTFOUND);
  p = (sr_decoder_params){.encoding = "PCMU", .payload_type = 128};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_EINVAL);
  p = (sr_decoder_params){.encoding = "PCMU", .payload_type = 0, .clock_rate = 16000};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_EINVAL);
  p = (sr_decoder_params){.encoding = "G722", .payload_type = 9, .channels = 2};
  ck_assert_int_eq(sr_decoder_new(NULL, &p, &d), SIPREC_EINVAL);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(sr_decoder_new(NULL, NULL, &d), SIPREC_EINVAL);
}
END_TEST

static const sr_decoder_params all_params[] = {
  {.encoding = "PCMU", .payload_type = 0},
  {.encoding = "PCMA", .payload_type = 8, .channels = 2},
  {.encoding = "G722", .payload_type = 9},
  {.encoding = "G726-32", .payload_type = 2},
  {.encoding = "AAL2-G726-40", .payload_type = 97},
  {.encoding = "G726-24", .payload_type = 97},
  {.encoding = "L16", .payload_type = 96, .clock_rate = 8000, .channels = 2},
  {.encoding = "CN", .payload_type = 13},
#ifdef SR_HAVE_OPUS
  {.encoding = "opus", .payload_type = 111, .channels = 2},
  {.encoding = "opus", .payload_type = 111, .opus_rate = 8000},
#endif
#ifdef SR_HAVE_BCG729
  {.encoding = "G729", .payload_type = 18},
#endif
};
#define NPARAMS (sizeof all_params / sizeof all_params[0])

/* Empty, odd, oversized and random payloads: documented codes, never a
 * crash or a write past the bound. */
START_TEST(test_bad_payloads)
{
  static uint8_t big[70000];
  static int16_t out[MAXS * 4];
  uint32_t seed = 7;
  for (size_t i = 0; i < sizeof big; i++) {
    seed = seed * 1664525u + 1013904223u;
    big[i] = (uint8_t)(seed >> 24);
  }
  for (size_t c = 0; c < NPARAMS; c++) {
    sr_decoder *d = NULL;
    ck_assert_int_eq(sr_decoder_new(NULL, &all_params[c], &d), 0);
    ck_assert_int_eq(sr_decoder_decode(d, big, 0, out, MAXS, NULL), SIPREC_EPARSE);
    ck_assert_int_eq(sr_decoder_decode(d, NULL, 0, out, MAXS, NULL), SIPREC_EPARSE);
    ck_assert_int_eq(sr_decoder_decode(d, NULL, 5, out, MAXS, NULL), SIPREC_EINVAL);
    ck_assert_int_eq(sr_decoder_decode(d, big, 65537, out, MAXS, NULL), SIPREC_EPARSE);
    ck_assert_int_eq(sr_decoder_decode(d, big, 10, NULL, 5, NULL), SIPREC_EINVAL);
    for (size_t len = 1; len < 1500; len += 1 + len / 7) {
      int n = sr_decoder_samples(d, big + len, len);
      int16_t guard = 0x5a5a;
      size_t cap = n > 0 ? (size_t)n : 0;
      out[cap] = guard;
      int got = sr_decoder_decode(d, big + len, len, out, cap, NULL);
      ck_assert_msg(got == n || (n >= 0 && got == SIPREC_EPARSE),
                    "codec %zu len %zu: %d vs %d", c, len, got, n);
      ck_assert_int_eq(out[cap], guard);
      if (n > 0)
        ck_assert_int_eq(sr_decoder_decode(d, big + len, len, out, cap - 1, NULL),
                         SIPREC_ETOOBIG);
    }
    ck_assert_int_eq(sr_decoder_conceal(d, 777, out, MAXS, NULL), 777);
    ck_assert_int_eq(sr_decoder_conceal_fec(d, big, 3, 960, out, MAXS, NULL) >= 0 ||
                         sr_decoder_conceal_fec(d, big, 3, 960, out, MAXS, NULL) == SIPREC_EPARSE,
                     1);
    sr_decoder_reset(d);
    sr_decoder_free(d);
  }
  sr_decoder_free(NULL);
}
END_TEST

/* Every allocation through the hook and returned; each failing one gives
 * SIPREC_ENOMEM and leaks nothing. */
START_TEST(test_decoder_allocator)
{
  failalloc fa;
  siprec_allocator hook;
  failalloc_init(&fa, &hook);
  int16_t out[MAXS];
  uint8_t pay[160] = {0};
  for (size_t c = 0; c < NPARAMS; c++) {
#ifdef SR_HAVE_BCG729
    if (strcmp(all_params[c].encoding, "G729") == 0)
      continue; /* bcg729 mallocs its own state */
#endif
    for (long k = 0;; k++) {
      failalloc_arm(&fa, k);
      sr_decoder *d = NULL;
      int rc = sr_decoder_new(&hook, &all_params[c], &d);
      if (rc == SIPREC_ENOMEM) {
        ck_assert_ptr_null(d);
        ck_assert_int_eq(fa.outstanding, 0);
        continue;
      }
      ck_assert_int_eq(rc, 0);
      ck_assert_int_gt(fa.outstanding, 0);
      sr_decoder_decode(d, pay, 160, out, MAXS, NULL);
      sr_decoder_conceal(d, 160, out, MAXS, NULL);
      sr_decoder_free(d);
      ck_assert_int_eq(fa.outstanding, 0);
      break;
    }
  }
  failalloc_destroy(&fa);
}
END_TEST

static Suite *media_codecs_suite(void)
{
  Suite *s = suite_create("media_codecs");
  TCase *tc = tcase_create("decoders");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, test_pcmu_exact);
  tcase_add_test(tc, test_pcma_exact);
  tcase_add_test(tc, test_g711_conceal_is_spandsp_plc);
  tcase_add_test(tc, test_g711_every_code);
  tcase_add_test(tc, test_g722_exact);
  tcase_add_test(tc, test_g722_conceal);
  tcase_add_test(tc, test_plc_16k_low_voices);
  tcase_add_test(tc, test_g726_exact);
  tcase_add_test(tc, test_g726_nibble_order);
  tcase_add_test(tc, test_g726_conceal_and_lengths);
#ifdef SR_HAVE_OPUS
  tcase_add_test(tc, test_opus_exact);
  tcase_add_test(tc, test_opus_plc_and_fec);
#endif
#ifdef SR_HAVE_BCG729
  tcase_add_test(tc, test_g729_exact);
#endif
  tcase_add_test(tc, test_l16_byte_order_and_downmix);
  tcase_add_test(tc, test_l16_speech_exact);
  suite_add_tcase(s, tc);

  tc = tcase_create("cn_dtmf");
  tcase_add_test(tc, test_cn);
  tcase_add_test(tc, test_dtmf);
  suite_add_tcase(s, tc);

  tc = tcase_create("resample");
  tcase_add_test(tc, test_resample_lengths);
  tcase_add_test(tc, test_resample_errors);
  suite_add_tcase(s, tc);

  tc = tcase_create("robustness");
  tcase_add_test(tc, test_codecs_built);
  tcase_add_test(tc, test_bad_payloads);
  tcase_add_test(tc, test_decoder_allocator);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return run_suite(media_codecs_suite());
}
