/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Opus (libopus), decoded to mono at the rate asked for (libopus downmixes
 * a stereo stream itself). The state is allocated through the hook with
 * opus_decoder_get_size and set up by opus_decoder_init, so libopus
 * allocates nothing. Concealment is libopus's own PLC; with the next
 * packet at hand, its in-band FEC (LBRR) rebuilds the frame just before
 * it. */
#include <opus.h>
#include <string.h>

#include "decoder_impl.h"

typedef struct opus {
  OpusDecoder *dec;
  int16_t scratch[120]; /* 2.5 ms at 48 kHz, for a gap's odd remainder */
} opus;

static int opus_rate_ok(uint32_t rate)
{
  return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

static int opus_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  uint32_t rate = p->opus_rate ? p->opus_rate : 48000;
  if (!opus_rate_ok(rate))
    return SIPREC_EINVAL;
  opus *o = sr_calloc(&d->alloc, 1, sizeof *o);
  if (!o)
    return SIPREC_ENOMEM;
  o->dec = sr_malloc(&d->alloc, (size_t)opus_decoder_get_size(1));
  int rc = !o->dec ? SIPREC_ENOMEM
           : opus_decoder_init(o->dec, (opus_int32)rate, 1) != OPUS_OK ? SIPREC_EINVAL
                                                                      : 0;
  if (rc < 0) {
    sr_free(&d->alloc, o->dec);
    sr_free(&d->alloc, o);
    return rc;
  }
  d->rate = rate;
  d->state = o;
  return 0;
}

static int opus_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  int n = opus_packet_get_nb_samples(payload, (opus_int32)len, (opus_int32)d->rate);
  /* A packet's duration is at most 120 ms (RFC 6716 section 3.2.5). */
  if (n <= 0 || n > (int)(d->rate / 1000 * 120))
    return SIPREC_EPARSE;
  return n;
}

static int opus_decode_payload(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                               unsigned *flags)
{
  opus *o = d->state;
  (void)flags;
  int n = opus_samples(d, payload, len);
  int got = opus_decode(o->dec, payload, (opus_int32)len, out, n, 0);
  return got < 0 ? SIPREC_EPARSE : got;
}

/* libopus's PLC over exactly n samples: whole 2.5 ms steps of at most
 * 120 ms in place, the remainder from one more step through scratch. */
static void opus_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  opus *o = d->state;
  size_t step = d->rate / 400, max = d->rate / 1000 * 120;
  while (n >= step) {
    size_t k = n < max ? n - n % step : max;
    int got = opus_decode(o->dec, NULL, 0, out, (int)k, 0);
    if (got <= 0)
      memset(out, 0, k * sizeof *out);
    out += k;
    n -= k;
  }
  if (n) {
    int got = opus_decode(o->dec, NULL, 0, o->scratch, (int)step, 0);
    if (got <= 0)
      memset(o->scratch, 0, sizeof o->scratch);
    memcpy(out, o->scratch, n * sizeof *out);
  }
  *flags |= SR_DEC_CONCEALED;
}

static int opus_conceal_fec(sr_decoder *d, const uint8_t *next, size_t len, size_t n,
                            int16_t *out, unsigned *flags)
{
  opus *o = d->state;
  size_t dur = (size_t)opus_samples(d, next, len);
  /* FEC rebuilds exactly the frame before `next`, of its duration: a gap
   * shorter than that (or not in 2.5 ms steps) is only concealed. */
  if (n < dur || (n - dur) % (d->rate / 400)) {
    opus_conceal(d, n, out, flags);
    return (int)n;
  }
  if (n > dur)
    opus_conceal(d, n - dur, out, flags);
  int got = opus_decode(o->dec, next, (opus_int32)len, out + (n - dur), (int)dur, 1);
  if (got != (int)dur)
    memset(out + (n - dur), 0, dur * sizeof *out);
  *flags |= SR_DEC_CONCEALED | SR_DEC_FEC;
  return (int)n;
}

static void opus_reset(sr_decoder *d)
{
  opus *o = d->state;
  opus_decoder_ctl(o->dec, OPUS_RESET_STATE);
}

static void opus_fini(sr_decoder *d)
{
  opus *o = d->state;
  sr_free(&d->alloc, o->dec);
  sr_free(&d->alloc, o);
}

const sr_decoder_ops sr_dec_opus_ops = {
  .init = opus_init_state,
  .samples = opus_samples,
  .decode = opus_decode_payload,
  .conceal = opus_conceal,
  .conceal_fec = opus_conceal_fec,
  .reset = opus_reset,
  .fini = opus_fini,
};
