/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* G.729 and G.729A (bcg729, GPL-3+: built only with the meson feature
 * `bcg729`). RFC 3551 section 4.5.6: a payload is whole 10-byte frames of
 * 10 ms, possibly followed by one 2-byte Annex B SID frame, which bcg729
 * turns into comfort noise. Concealment is bcg729's frame erasure.
 * bcg729 allocates its state with malloc: it has no allocator hook. */
#include <bcg729/decoder.h>
#include <string.h>

#include "decoder_impl.h"

#define G729_FRAME 80 /* samples of one 10-byte frame */

typedef struct g729 {
  bcg729DecoderChannelContextStruct *dec;
  int16_t scratch[G729_FRAME];
} g729;

static int g729_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  g729 *g = sr_calloc(&d->alloc, 1, sizeof *g);
  if (!g)
    return SIPREC_ENOMEM;
  g->dec = initBcg729DecoderChannel();
  if (!g->dec) {
    sr_free(&d->alloc, g);
    return SIPREC_ENOMEM;
  }
  d->state = g;
  return 0;
}

static int g729_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  (void)d;
  (void)payload;
  size_t rest = len % 10;
  if (rest != 0 && rest != 2)
    return SIPREC_EPARSE;
  return (int)((len / 10 + (rest == 2)) * G729_FRAME);
}

static int g729_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                       unsigned *flags)
{
  g729 *g = d->state;
  size_t n = 0;
  for (; len >= 10; len -= 10, payload += 10, n += G729_FRAME)
    bcg729Decoder(g->dec, payload, 10, 0, 0, 0, out + n);
  if (len == 2) {
    bcg729Decoder(g->dec, payload, 2, 0, 1, 0, out + n);
    n += G729_FRAME;
    *flags |= SR_DEC_COMFORT_NOISE;
  }
  return (int)n;
}

static void g729_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  g729 *g = d->state;
  for (; n >= G729_FRAME; n -= G729_FRAME, out += G729_FRAME)
    bcg729Decoder(g->dec, NULL, 0, 1, 0, 0, out);
  if (n) {
    bcg729Decoder(g->dec, NULL, 0, 1, 0, 0, g->scratch);
    memcpy(out, g->scratch, n * sizeof *out);
  }
  *flags |= SR_DEC_CONCEALED;
}

static void g729_reset(sr_decoder *d)
{
  g729 *g = d->state;
  bcg729DecoderChannelContextStruct *fresh = initBcg729DecoderChannel();
  /* Without memory for a fresh state, the old one goes on: a reset is
   * an improvement, not a need. */
  if (fresh) {
    closeBcg729DecoderChannel(g->dec);
    g->dec = fresh;
  }
}

static void g729_fini(sr_decoder *d)
{
  g729 *g = d->state;
  closeBcg729DecoderChannel(g->dec);
  sr_free(&d->alloc, g);
}

const sr_decoder_ops sr_dec_g729_ops = {
  .init = g729_init_state,
  .samples = g729_samples,
  .decode = g729_decode,
  .conceal = g729_conceal,
  .reset = g729_reset,
  .fini = g729_fini,
};
