/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
#include <spandsp/g722.h>
#include <spandsp/g726.h>
#ifdef CL_HAVE_BCG729
#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#endif
#ifdef CL_HAVE_SPEEXDSP
#include <speex/speex_resampler.h>
#endif

enum { K_PCMU, K_PCMA, K_G722, K_G726, K_OPUS, K_G729 };

/* The payload types: the static ones of RFC 3551, dynamic ones for Opus
 * (RFC 7587: opus/48000/2 whatever is sent) and G.726-32 (RFC 3551's
 * packing, the first code word in an octet's low bits). */
static const cl_codec codecs[] = {
  [K_PCMU] = { "pcmu", "PCMU", 0, 8000, 0, 8000, NULL },
  [K_PCMA] = { "pcma", "PCMA", 8, 8000, 0, 8000, NULL },
  /* RFC 3551: G.722's RTP clock is 8000 although it samples at 16 kHz. */
  [K_G722] = { "g722", "G722", 9, 8000, 0, 16000, NULL },
  [K_G726] = { "g726", "G726-32", 97, 8000, 0, 8000, NULL },
  [K_OPUS] = { "opus", "opus", 96, 48000, 2, 48000, "stereo=0; sprop-stereo=0" },
  [K_G729] = { "g729", "G729", 18, 8000, 0, 8000, "annexb=no" },
};

const cl_codec *cl_codec_find(const char *cli)
{
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
#ifndef CL_HAVE_BCG729
    if (i == K_G729)
      continue;
#endif
    if (strcmp(codecs[i].cli, cli) == 0)
      return &codecs[i];
  }
  return NULL;
}

const char *cl_codec_names(void)
{
#ifdef CL_HAVE_BCG729
  return "pcmu|pcma|g722|g726|opus|g729";
#else
  return "pcmu|pcma|g722|g726|opus (g729: not in this build, no bcg729)";
#endif
}

static int kind_of(const cl_codec *c)
{
  return (int)(c - codecs);
}

struct cl_encoder {
  int kind;
  g722_encode_state_t *g722;
  g726_state_t *g726;
  OpusEncoder *opus;
#ifdef CL_HAVE_BCG729
  bcg729EncoderChannelContextStruct *g729;
#endif
};

struct cl_decoder {
  int kind;
  g722_decode_state_t *g722;
  g726_state_t *g726;
  OpusDecoder *opus;
#ifdef CL_HAVE_BCG729
  bcg729DecoderChannelContextStruct *g729;
#endif
};

cl_encoder *cl_encoder_new(const cl_codec *c)
{
  cl_encoder *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  e->kind = kind_of(c);
  int ok = 1;
  switch (e->kind) {
  case K_G722:
    ok = (e->g722 = g722_encode_init(NULL, 64000, 0)) != NULL;
    break;
  case K_G726:
    ok = (e->g726 = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_RIGHT)) != NULL;
    break;
  case K_OPUS: {
    int err;
    e->opus = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    ok = e->opus != NULL;
    /* A fixed bit rate and complexity: the same input gives the same bytes. */
    if (ok && (opus_encoder_ctl(e->opus, OPUS_SET_BITRATE(32000)) != OPUS_OK ||
               opus_encoder_ctl(e->opus, OPUS_SET_COMPLEXITY(5)) != OPUS_OK))
      ok = 0;
    break;
  }
#ifdef CL_HAVE_BCG729
  case K_G729:
    ok = (e->g729 = initBcg729EncoderChannel(0)) != NULL;
    break;
#endif
  default:
    break;
  }
  if (!ok) {
    fprintf(stderr, "siprec-client: cannot create the %s encoder\n", c->cli);
    cl_encoder_free(e);
    return NULL;
  }
  return e;
}

int cl_encode(cl_encoder *e, const int16_t *pcm, uint8_t *out, size_t cap)
{
  switch (e->kind) {
  case K_PCMU:
  case K_PCMA:
    if (cap < 160)
      return -1;
    for (size_t i = 0; i < 160; i++)
      out[i] = e->kind == K_PCMU ? linear_to_ulaw(pcm[i]) : linear_to_alaw(pcm[i]);
    return 160;
  case K_G722:
    return cap < 160 ? -1 : g722_encode(e->g722, out, pcm, 320);
  case K_G726:
    return cap < 80 ? -1 : g726_encode(e->g726, out, pcm, 160);
  case K_OPUS: {
    opus_int32 n = opus_encode(e->opus, pcm, 960, out, (opus_int32)(cap > 1275 ? 1275 : cap));
    return n < 0 ? -1 : (int)n;
  }
#ifdef CL_HAVE_BCG729
  case K_G729: {
    if (cap < 20)
      return -1;
    uint8_t len1 = 0, len2 = 0;
    bcg729Encoder(e->g729, pcm, out, &len1);
    bcg729Encoder(e->g729, pcm + 80, out + len1, &len2);
    return len1 + len2;
  }
#endif
  default:
    return -1;
  }
}

void cl_encoder_free(cl_encoder *e)
{
  if (!e)
    return;
  if (e->g722)
    g722_encode_free(e->g722);
  if (e->g726)
    g726_free(e->g726);
  if (e->opus)
    opus_encoder_destroy(e->opus);
#ifdef CL_HAVE_BCG729
  if (e->g729)
    closeBcg729EncoderChannel(e->g729);
#endif
  free(e);
}

cl_decoder *cl_decoder_new(const cl_codec *c, unsigned opus_rate)
{
  cl_decoder *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->kind = kind_of(c);
  int ok = 1;
  switch (d->kind) {
  case K_G722:
    ok = (d->g722 = g722_decode_init(NULL, 64000, 0)) != NULL;
    break;
  case K_G726:
    ok = (d->g726 = g726_init(NULL, 32000, G726_ENCODING_LINEAR, G726_PACKING_RIGHT)) != NULL;
    break;
  case K_OPUS: {
    int err;
    ok = (d->opus = opus_decoder_create(opus_rate ? (opus_int32)opus_rate : 48000, 1, &err)) != NULL;
    break;
  }
#ifdef CL_HAVE_BCG729
  case K_G729:
    ok = (d->g729 = initBcg729DecoderChannel()) != NULL;
    break;
#endif
  default:
    break;
  }
  if (!ok) {
    fprintf(stderr, "siprec-client: cannot create the %s decoder\n", c->cli);
    cl_decoder_free(d);
    return NULL;
  }
  return d;
}

int cl_decode(cl_decoder *d, const uint8_t *payload, size_t len, int16_t *out, size_t cap)
{
  switch (d->kind) {
  case K_PCMU:
  case K_PCMA:
    if (len > cap)
      return -1;
    for (size_t i = 0; i < len; i++)
      out[i] = d->kind == K_PCMU ? ulaw_to_linear(payload[i]) : alaw_to_linear(payload[i]);
    return (int)len;
  case K_G722:
    return len * 2 > cap ? -1 : g722_decode(d->g722, out, payload, (int)len);
  case K_G726:
    /* 4 bits a sample at 32 kbit/s: two samples an octet. */
    return len * 2 > cap ? -1 : g726_decode(d->g726, out, payload, (int)len);
  case K_OPUS: {
    int n = opus_decode(d->opus, payload, (opus_int32)len, out, (int)cap, 0);
    return n < 0 ? -1 : n;
  }
#ifdef CL_HAVE_BCG729
  case K_G729: {
    /* 10-octet frames, 80 samples each (a 2-octet SID would be CN, never sent). */
    size_t frames = len / 10;
    if (len % 10 || frames * 80 > cap)
      return -1;
    for (size_t f = 0; f < frames; f++)
      bcg729Decoder(d->g729, payload + 10 * f, 10, 0, 0, 0, out + 80 * f);
    return (int)(frames * 80);
  }
#endif
  default:
    return -1;
  }
}

void cl_decoder_free(cl_decoder *d)
{
  if (!d)
    return;
  if (d->g722)
    g722_decode_free(d->g722);
  if (d->g726)
    g726_free(d->g726);
  if (d->opus)
    opus_decoder_destroy(d->opus);
#ifdef CL_HAVE_BCG729
  if (d->g729)
    closeBcg729DecoderChannel(d->g729);
#endif
  free(d);
}

int16_t *cl_resample(const int16_t *in, size_t n, unsigned from, unsigned to, size_t *out_n)
{
  size_t cap = (size_t)((unsigned long long)n * to / from) + 1;
  int16_t *out = calloc(cap ? cap : 1, sizeof *out);
  if (!out)
    return NULL;
  if (from == to) {
    memcpy(out, in, n * sizeof *in);
    *out_n = n;
    return out;
  }
#ifdef CL_HAVE_SPEEXDSP
  int err = 0;
  SpeexResamplerState *rs = speex_resampler_init(1, from, to, 5, &err);
  if (rs) {
    /* The whole file in one call, then its filter's tail from silence, so
     * the last samples come out too (the output keeps the input's length). */
    spx_uint32_t in_len = (spx_uint32_t)n, got = (spx_uint32_t)cap;
    speex_resampler_skip_zeros(rs);
    speex_resampler_process_int(rs, 0, in, &in_len, out, &got);
    size_t total = got;
    int16_t zeros[256] = { 0 };
    while (total < cap - 1) {
      spx_uint32_t zl = sizeof zeros / sizeof zeros[0], ol = (spx_uint32_t)(cap - 1 - total);
      speex_resampler_process_int(rs, 0, zeros, &zl, out + total, &ol);
      if (ol == 0)
        break;
      total += ol;
    }
    speex_resampler_destroy(rs);
    *out_n = total;
    return out;
  }
#endif
  /* Linear interpolation: crude (no low-pass before decimating) but enough
   * for a test signal when speexdsp is not there. */
  size_t m = cap - 1;
  for (size_t i = 0; i < m; i++) {
    double pos = (double)i * from / to;
    size_t k = (size_t)pos;
    double f = pos - (double)k;
    int a = in[k < n ? k : n - 1], b = in[k + 1 < n ? k + 1 : n - 1];
    out[i] = (int16_t)(a + (b - a) * f);
  }
  *out_n = m;
  return out;
}
