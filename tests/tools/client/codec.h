/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The codecs siprec-client sends, each with the real library that encodes
 * it (spandsp for G.711, G.722 and G.726, libopus, bcg729 when built with
 * it), the decoder of the same library for the reference decode, and the
 * resampler that brings a file's audio to a codec's rate. */
#ifndef CL_CODEC_H
#define CL_CODEC_H

#include <stddef.h>
#include <stdint.h>

typedef struct cl_codec {
  const char *cli;      /* its name on the command line: "g722" */
  const char *encoding; /* a=rtpmap's encoding name: "G722" */
  unsigned pt;          /* payload type offered */
  unsigned clock;       /* RTP clock rate (a=rtpmap's, also the timestamp's) */
  unsigned channels;    /* a=rtpmap's channel count, 0: not written */
  unsigned rate;        /* the PCM rate the encoder takes and the decoder gives */
  const char *fmtp;     /* a=fmtp's parameters, or NULL */
} cl_codec;

/* The codec by command-line name, or NULL (also for g729 without bcg729). */
const cl_codec *cl_codec_find(const char *cli);
/* The names this build knows, for --help: "pcmu|pcma|...". */
const char *cl_codec_names(void);

/* Samples in one 20 ms packet at the codec's PCM rate. */
static inline size_t cl_codec_frame(const cl_codec *c)
{
  return c->rate / 50;
}
/* RTP timestamp units in one 20 ms packet. */
static inline uint32_t cl_codec_ts_step(const cl_codec *c)
{
  return c->clock / 50;
}

typedef struct cl_encoder cl_encoder;
typedef struct cl_decoder cl_decoder;

/* NULL with a message on stderr when the library refuses. */
cl_encoder *cl_encoder_new(const cl_codec *c);
/* One 20 ms frame (cl_codec_frame samples) into out; the payload's length,
 * or -1 on an encoder error. */
int cl_encode(cl_encoder *e, const int16_t *pcm, uint8_t *out, size_t cap);
void cl_encoder_free(cl_encoder *e);

/* opus_rate: the rate libopus decodes Opus to (8000, 12000, 16000, 24000 or
 * 48000; 0: 48000, the codec's own), as an SRS that asks libopus for its
 * recording rate does; other codecs ignore it. */
cl_decoder *cl_decoder_new(const cl_codec *c, unsigned opus_rate);
/* One payload into out (cap samples at the codec's rate): the sample count,
 * or -1. */
int cl_decode(cl_decoder *d, const uint8_t *payload, size_t len, int16_t *out, size_t cap);
void cl_decoder_free(cl_decoder *d);

/* in (n samples at from Hz) at to Hz, in a new allocation (*out_n samples),
 * through speexdsp when built with it, else linear interpolation; NULL when
 * out of memory. */
int16_t *cl_resample(const int16_t *in, size_t n, unsigned from, unsigned to, size_t *out_n);

#endif
