/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* L16 (RFC 3551 section 4.5.11): 16-bit two's complement samples in
 * network byte order, channels interleaved, at the rate the SDP names.
 * Several channels are averaged into one. Concealed with plc.h at the
 * stream's rate (spandsp's PLC is tuned for 8 kHz only). */
#include "decoder_impl.h"
#include "plc.h"

static int l16_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  d->state = sr_plc_new(&d->alloc, d->rate);
  return d->state ? 0 : SIPREC_ENOMEM;
}

static int l16_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  (void)payload;
  size_t frame = 2 * (size_t)d->channels;
  if (len % frame)
    return SIPREC_EPARSE;
  return (int)(len / frame);
}

static int16_t be16(const uint8_t *b)
{
  return (int16_t)(uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static int l16_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                      unsigned *flags)
{
  size_t n = len / (2 * (size_t)d->channels);
  (void)flags;
  for (size_t i = 0; i < n; i++) {
    int32_t sum = 0;
    for (unsigned c = 0; c < d->channels; c++)
      sum += be16(payload + 2 * (i * d->channels + c));
    out[i] = (int16_t)(sum / (int32_t)d->channels);
  }
  sr_plc_rx(d->state, out, n);
  return (int)n;
}

static void l16_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  sr_plc_fillin(d->state, out, n);
  *flags |= SR_DEC_CONCEALED;
}

static void l16_reset(sr_decoder *d)
{
  sr_plc_reset(d->state);
}

static void l16_fini(sr_decoder *d)
{
  sr_plc_free(d->state);
}

const sr_decoder_ops sr_dec_l16_ops = {
  .init = l16_init_state,
  .samples = l16_samples,
  .decode = l16_decode,
  .conceal = l16_conceal,
  .reset = l16_reset,
  .fini = l16_fini,
};
