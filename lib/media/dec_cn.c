/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Comfort noise as a decoder: a CN packet only sets the level (it decodes
 * to no samples, having no duration of its own); the gap up to the next
 * packet is then "concealed" with noise at that level, flagged as comfort
 * noise rather than as concealment. What the noise is: cn.h. */
#include "cn.h"
#include "decoder_impl.h"

static int cn_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  sr_cn *c = sr_calloc(&d->alloc, 1, sizeof *c);
  if (!c)
    return SIPREC_ENOMEM;
  sr_cn_init(c);
  d->state = c;
  return 0;
}

static int cn_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  sr_cn_info info;
  (void)d;
  return sr_cn_parse(payload, len, &info) < 0 ? SIPREC_EPARSE : 0;
}

static int cn_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                     unsigned *flags)
{
  sr_cn_info info;
  (void)out;
  if (sr_cn_parse(payload, len, &info) < 0)
    return SIPREC_EPARSE;
  sr_cn_set_level(d->state, info.level);
  *flags |= SR_DEC_COMFORT_NOISE;
  return 0;
}

static void cn_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  sr_cn_generate(d->state, out, n);
  *flags |= SR_DEC_COMFORT_NOISE;
}

static void cn_reset(sr_decoder *d)
{
  sr_cn_init(d->state);
}

static void cn_fini(sr_decoder *d)
{
  sr_free(&d->alloc, d->state);
}

const sr_decoder_ops sr_dec_cn_ops = {
  .init = cn_init_state,
  .samples = cn_samples,
  .decode = cn_decode,
  .conceal = cn_conceal,
  .reset = cn_reset,
  .fini = cn_fini,
};
