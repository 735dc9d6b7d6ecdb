/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* G.726 at 16, 24, 32 or 40 kbit/s (spandsp). The two packings differ in
 * which end of an octet the first code word takes:
 * - "G726-32" (and static payload type 2): RFC 3551 section 4.5.4 puts the
 *   first code word in the octet's least significant bits. spandsp's
 *   G726_PACKING_RIGHT shifts each octet in above the bits left over and
 *   takes a code from the bottom: that layout.
 * - "AAL2-G726-32": ITU-T I.366.2 Annex E (RFC 3551 ditto) puts the first
 *   code word in the most significant bits: G726_PACKING_LEFT, which
 *   shifts octets in from the right and takes codes from the top.
 * The unit test holds both to a hand-packed vector. There is no G.726
 * concealment of its own: spandsp's PLC at 8 kHz, as for G.711. */
#include <stdlib.h>
#include <string.h>

#include "decoder_impl.h"
#include "spandsp_plc.h"

typedef struct g726 {
  g726_state_t dec;
  plc_state_t plc;
  int bitrate;
  int packing;
} g726;

static int g726_bitrate(const char *encoding)
{
  const char *dash = strrchr(encoding, '-');
  if (!dash)
    return 0;
  char *end;
  long kbit = strtol(dash + 1, &end, 10);
  if (*end || (kbit != 16 && kbit != 24 && kbit != 32 && kbit != 40))
    return 0;
  return (int)kbit * 1000;
}

static void g726_start(g726 *g)
{
  g726_init(&g->dec, g->bitrate, G726_ENCODING_LINEAR, g->packing);
  plc_init(&g->plc);
}

static int g726_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  int bitrate = g726_bitrate(p->encoding);
  if (!bitrate)
    return SIPREC_ENOTFOUND;
  g726 *g = sr_calloc(&d->alloc, 1, sizeof *g);
  if (!g)
    return SIPREC_ENOMEM;
  g->bitrate = bitrate;
  g->packing = d->codec == SR_CODEC_G726_AAL2 ? G726_PACKING_LEFT : G726_PACKING_RIGHT;
  g726_start(g);
  d->state = g;
  return 0;
}

/* A payload must hold whole code words: then no bits are left over in
 * spandsp's bit buffer for the next packet, whose first code word is its
 * own first, as RFC 3551 wants. */
static int g726_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  const g726 *g = d->state;
  size_t bits = (size_t)g->bitrate / 8000;
  (void)payload;
  if ((len * 8) % bits)
    return SIPREC_EPARSE;
  return (int)(len * 8 / bits);
}

static int g726_decode_payload(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                               unsigned *flags)
{
  g726 *g = d->state;
  (void)flags;
  int n = g726_decode(&g->dec, out, payload, (int)len);
  if (n > 0)
    plc_rx(&g->plc, out, n);
  return n;
}

static void g726_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  g726 *g = d->state;
  sr_spandsp_plc_fillin(&g->plc, out, (int)n);
  *flags |= SR_DEC_CONCEALED;
}

static void g726_reset(sr_decoder *d)
{
  g726_start(d->state);
}

static void g726_fini(sr_decoder *d)
{
  sr_free(&d->alloc, d->state);
}

const sr_decoder_ops sr_dec_g726_ops = {
  .init = g726_init_state,
  .samples = g726_samples,
  .decode = g726_decode_payload,
  .conceal = g726_conceal,
  .reset = g726_reset,
  .fini = g726_fini,
};
