/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Comfort noise (RFC 3389, payload type 13): the sender stops sending
 * speech and says how loud the background is; the receiver fills the gap
 * until the next packet with noise at that level.
 *
 * What this module outputs: white noise whose RMS is the reported level
 * (0 dBov taken as the RMS of a full-scale sine, 23170; each step of the
 * level byte is -1 dB), from a fixed-seed generator so a recording is
 * reproducible. Not zeros, because a recording should sound like the call
 * did and some recognisers' endpointing reacts to digital silence as to a
 * cut line; the frames are flagged (SR_DEC_COMFORT_NOISE) so a host that
 * wants zeros writes zeros. The spectral coefficients (RFC 3389 section
 * 3.2) are parsed and reported but do not shape the noise: at the levels
 * senders report (typically -60 to -80 dBov) the shape is inaudible and
 * means nothing to a transcript. */
#ifndef SR_MEDIA_CN_H
#define SR_MEDIA_CN_H

#include <stddef.h>
#include <stdint.h>

typedef struct sr_cn_info {
  uint8_t level;          /* 0..127: the noise level is -level dBov */
  const uint8_t *coeffs;  /* the reflection coefficients, in the payload */
  size_t n_coeffs;
} sr_cn_info;

/* Reads a CN payload: the level byte, then any coefficients. The level
 * byte's top bit is reserved (0) and ignored. Returns 0, or SIPREC_EPARSE
 * for an empty payload, SIPREC_EINVAL for NULL arguments. */
int sr_cn_parse(const uint8_t *payload, size_t len, sr_cn_info *out);

typedef struct sr_cn {
  uint32_t seed;
  int32_t amplitude; /* peak of the uniform noise; 0: digital silence */
} sr_cn;

/* Starts a generator at level 127 (silence, before any CN packet). */
void sr_cn_init(sr_cn *c);

/* Sets the level noise is generated at. */
void sr_cn_set_level(sr_cn *c, uint8_t level);

/* The RMS, in linear 16-bit units, of noise at `level` -dBov. */
double sr_cn_rms(uint8_t level);

/* Writes n samples of noise at the current level. */
void sr_cn_generate(sr_cn *c, int16_t *out, size_t n);

#endif
