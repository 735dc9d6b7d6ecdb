/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCMU and PCMA (G.711), concealed with spandsp's PLC, which was made for
 * 8 kHz G.711 (its history kept lazily: g711_plc.h). Several channels
 * (rare, but RFC 3551 allows them) are averaged into one. */
#include <pthread.h>

#include "decoder_impl.h"
#include "g711_plc.h"

/* Both laws as tables made once from spandsp's own functions (the same
 * values, a load per sample instead of the bit arithmetic: G.711 decoding
 * was a third of the media path's time). */
static int16_t ulaw_table[256], alaw_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
  for (int i = 0; i < 256; i++) {
    ulaw_table[i] = ulaw_to_linear((uint8_t)i);
    alaw_table[i] = alaw_to_linear((uint8_t)i);
  }
}

typedef struct g711 {
  sr_g711_plc plc;
} g711;

/* The table the concealer decodes its code bytes with: mono only (several
 * channels' samples are averages, kept by plain plc_rx). */
static const int16_t *plc_law(const sr_decoder *d)
{
  if (d->channels != 1)
    return NULL;
  return d->codec == SR_CODEC_PCMU ? ulaw_table : alaw_table;
}

static int g711d_init_state(sr_decoder *d, const sr_decoder_params *p)
{
  (void)p;
  pthread_once(&tables_once, tables_init);
  g711 *g = sr_calloc(&d->alloc, 1, sizeof *g);
  if (!g)
    return SIPREC_ENOMEM;
  d->state = g;
  sr_g711_plc_init(&g->plc, plc_law(d));
  return 0;
}

static int g711d_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  (void)payload;
  if (d->channels == 1)
    return (int)len; /* the usual case, without a division a packet */
  if (len % d->channels)
    return SIPREC_EPARSE;
  return (int)(len / d->channels);
}

static int g711d_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                       unsigned *flags)
{
  g711 *g = d->state;
  size_t n = d->channels == 1 ? len : len / d->channels;
  const int16_t *law = d->codec == SR_CODEC_PCMU ? ulaw_table : alaw_table;
  (void)flags;
  if (d->channels == 1) {
    /* Eight at a time: the loads of one group do not wait on the stores
     * of the last (out may not alias the table or the payload). */
    int16_t *restrict o = out;
    const uint8_t *restrict in = payload;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      int16_t v[8];
      for (size_t j = 0; j < 8; j++)
        v[j] = law[in[i + j]];
      for (size_t j = 0; j < 8; j++)
        o[i + j] = v[j];
    }
    for (; i < n; i++)
      o[i] = law[in[i]];
  } else {
    for (size_t i = 0; i < n; i++) {
      int32_t sum = 0;
      for (unsigned c = 0; c < d->channels; c++)
        sum += law[payload[i * d->channels + c]];
      out[i] = (int16_t)(sum / (int32_t)d->channels);
    }
  }
  sr_g711_plc_rx(&g->plc, payload, out, n);
  return (int)n;
}

static void g711d_conceal(sr_decoder *d, size_t n, int16_t *out, unsigned *flags)
{
  g711 *g = d->state;
  sr_g711_plc_fillin(&g->plc, out, n);
  *flags |= SR_DEC_CONCEALED;
}

static void g711d_reset(sr_decoder *d)
{
  g711 *g = d->state;
  sr_g711_plc_init(&g->plc, plc_law(d));
}

static void g711d_fini(sr_decoder *d)
{
  sr_free(&d->alloc, d->state);
}

const sr_decoder_ops sr_dec_g711_ops = {
  .init = g711d_init_state,
  .samples = g711d_samples,
  .decode = g711d_decode,
  .conceal = g711d_conceal,
  .reset = g711d_reset,
  .fini = g711d_fini,
};
