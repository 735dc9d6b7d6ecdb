/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cn.h"

#include <siprec/common.h>

/* The RMS of a full-scale sine: 0 dBov (RFC 3389 refers to G.711's
 * overload point, which a full-scale sine reaches). */
#define CN_FULL_SCALE_RMS 23170.0
#define CN_SEED 0x2545f491u

int sr_cn_parse(const uint8_t *payload, size_t len, sr_cn_info *out)
{
  if ((!payload && len) || !out)
    return SIPREC_EINVAL;
  if (len == 0)
    return SIPREC_EPARSE;
  out->level = payload[0] & 0x7f;
  out->coeffs = payload + 1;
  out->n_coeffs = len - 1;
  return 0;
}

double sr_cn_rms(uint8_t level)
{
  /* 10^(-level/20) by repeated steps of -1 dB: no libm for one number. */
  double rms = CN_FULL_SCALE_RMS;
  for (unsigned i = 0; i < (level & 0x7fu); i++)
    rms *= 0.8912509381337456;
  return rms;
}

void sr_cn_init(sr_cn *c)
{
  c->seed = CN_SEED;
  c->amplitude = 0;
}

void sr_cn_set_level(sr_cn *c, uint8_t level)
{
  /* Uniform noise on [-a, a] has an RMS of a / sqrt(3). */
  double a = sr_cn_rms(level) * 1.7320508075688772 + 0.5;
  c->amplitude = a > 32767.0 ? 32767 : (int32_t)a;
}

static uint32_t xorshift32(uint32_t *s)
{
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

void sr_cn_generate(sr_cn *c, int16_t *out, size_t n)
{
  int32_t span = 2 * c->amplitude + 1;
  for (size_t i = 0; i < n; i++)
    out[i] = c->amplitude ? (int16_t)((int32_t)(xorshift32(&c->seed) % (uint32_t)span) - c->amplitude) : 0;
}
