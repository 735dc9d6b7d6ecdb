/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* G.722 at 64 kbit/s (spandsp): each byte carries two samples of 16 kHz
 * audio while the RTP clock counts 8 kHz (RFC 3551's historical error,
 * kept by everyone). Concealed with plc.h at 16 kHz, not spandsp's PLC:
 * see plc.h for why. The ADPCM state simply continues over a gap, as in
 * every G.722 receiver without Appendix III/IV: it re-adapts within a few
 * milliseconds. */
#include "decoder_impl.h"
#include "plc.h"
#include "spandsp_inc.h"

typedef struct g722 {
  g722_decode_state_t dec;
  sr_plc *plc;
} g722;

static int g722_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  g722 *g = sr_calloc(&d->alloc, 1, sizeof *g);
  if (!g)
    return SIPREC_ENOMEM;
  g->plc = sr_plc_new(&d->alloc, 16000);
  if (!g->plc) {
    sr_free(&d->alloc, g);
    return SIPREC_ENOMEM;
  }
  g722_decode_init(&g->dec, 64000, 0);
  d->state = g;
  d->rate = 16000;
  return 0;
}

static int g722_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  (void)d;
  (void)payload;
  return (int)(2 * len);
}

static int g722_decode_payload(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                               unsigned *flags)
{
  g722 *g = d->state;
  (void)flags;
  int n = g722_decode(&g->dec, out, payload, (int)len);
  if (n > 0)
    sr_plc_rx(g->plc, out, (size_t)n);
  return n;
}

static void g722_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  g722 *g = d->state;
  sr_plc_fillin(g->plc, out, n);
  *flags |= SR_DEC_CONCEALED;
}

static void g722_reset(sr_decoder *d)
{
  g722 *g = d->state;
  g722_decode_init(&g->dec, 64000, 0);
  sr_plc_reset(g->plc);
}

static void g722_fini(sr_decoder *d)
{
  g722 *g = d->state;
  sr_plc_free(g->plc);
  sr_free(&d->alloc, g);
}

const sr_decoder_ops sr_dec_g722_ops = {
  .init = g722_init_state,
  .samples = g722_samples,
  .decode = g722_decode_payload,
  .conceal = g722_conceal,
  .reset = g722_reset,
  .fini = g722_fini,
};
