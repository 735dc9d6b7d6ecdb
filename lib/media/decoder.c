/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The codec-independent half of a decoder: which codec a payload type
 * names, argument checks and the output bound; each codec's work is in
 * its dec_*.c behind sr_decoder_ops. */
#include "decoder.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "../common/prefetch.h"
#include "../common/static_pt.h"
#include "codecs_built.h"
#include "decoder_impl.h"

typedef struct codec_entry {
  const char *prefix; /* the encoding name, or its start for G.726 rates */
  sr_codec codec;
  const sr_decoder_ops *ops;
  uint32_t clock_rate;   /* 0: the SDP's (L16, CN) */
  uint32_t default_rate; /* with clock_rate 0: when the SDP names none */
  unsigned max_channels;
} codec_entry;

/* AAL2- before G726-: a prefix match must not take the longer name for the
 * shorter. */
static const codec_entry codecs[] = {
  {"PCMU", SR_CODEC_PCMU, &sr_dec_g711_ops, 8000, 0, 8},
  {"PCMA", SR_CODEC_PCMA, &sr_dec_g711_ops, 8000, 0, 8},
  {"G722", SR_CODEC_G722, &sr_dec_g722_ops, 8000, 0, 1},
  {"AAL2-G726-", SR_CODEC_G726_AAL2, &sr_dec_g726_ops, 8000, 0, 1},
  {"G726-", SR_CODEC_G726, &sr_dec_g726_ops, 8000, 0, 1},
  {"L16", SR_CODEC_L16, &sr_dec_l16_ops, 0, 0, 8},
  /* RFC 3389: CN/8000 is PT 13; wideband senders offer CN/16000 and up
   * on a dynamic type, matching their speech codec's clock. */
  {"CN", SR_CODEC_CN, &sr_dec_cn_ops, 0, 8000, 1},
#ifdef SR_HAVE_OPUS
  /* RFC 7587: always opus/48000/2, whatever the sender sends. */
  {"opus", SR_CODEC_OPUS, &sr_dec_opus_ops, 48000, 0, 2},
#endif
#ifdef SR_HAVE_BCG729
  {"G729", SR_CODEC_G729, &sr_dec_g729_ops, 8000, 0, 1},
#endif
};

static const codec_entry *find_codec(const char *name)
{
  for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
    size_t n = strlen(codecs[i].prefix);
    int prefix = codecs[i].prefix[n - 1] == '-';
    if (prefix ? strncasecmp(name, codecs[i].prefix, n) == 0
               : strcasecmp(name, codecs[i].prefix) == 0)
      return &codecs[i];
  }
  return NULL;
}

/* The parameters with the encoding, clock rate and channels filled from
 * RFC 3551's table when the SDP left them out. */
static int resolve(const sr_decoder_params *p, sr_decoder_params *r)
{
  *r = *p;
  if (!r->encoding) {
    const sr_static_pt *st = sr_static_pt_get((unsigned)p->payload_type);
    if (!st)
      return SIPREC_ENOTFOUND;
    r->encoding = st->name;
    if (!r->clock_rate)
      r->clock_rate = st->rate;
    if (!r->channels)
      r->channels = st->channels;
  }
  if (!r->channels)
    r->channels = 1;
  return 0;
}

static int check_rates(const codec_entry *c, sr_decoder_params *r)
{
  if (c->clock_rate) {
    if (r->clock_rate && r->clock_rate != c->clock_rate)
      return SIPREC_EINVAL;
    r->clock_rate = c->clock_rate;
  } else if (!r->clock_rate && c->default_rate) {
    r->clock_rate = c->default_rate;
  } else if (r->clock_rate < 1000 || r->clock_rate > 192000) {
    return SIPREC_EINVAL;
  }
  return r->channels <= c->max_channels ? 0 : SIPREC_EINVAL;
}

int sr_decoder_new(const siprec_allocator *alloc, const sr_decoder_params *p,
                   sr_decoder **out)
{
  if (!p || !out || p->payload_type < 0 || p->payload_type > 127)
    return SIPREC_EINVAL;
  *out = NULL;
  sr_decoder_params r;
  int rc = resolve(p, &r);
  if (rc < 0)
    return rc;
  if (!sr_media_codec_built(r.encoding))
    return SIPREC_ENOTFOUND;
  const codec_entry *c = find_codec(r.encoding);
  if (!c)
    return SIPREC_ENOTFOUND;
  if ((rc = check_rates(c, &r)) < 0)
    return rc;
  siprec_allocator a;
  sr_decoder *d = sr_object_new(alloc, sizeof *d, &a, &rc);
  if (!d)
    return rc;
  *d = (sr_decoder){.ops = c->ops, .alloc = a, .codec = c->codec, .rate = r.clock_rate,
                    .clock_rate = r.clock_rate, .channels = r.channels};
  if ((rc = d->ops->init(d, &r)) < 0) {
    sr_free(&a, d);
    return rc;
  }
  *out = d;
  return 0;
}

void sr_decoder_free(sr_decoder *d)
{
  if (!d)
    return;
  d->ops->fini(d);
  siprec_allocator a = d->alloc;
  sr_free(&a, d);
}

sr_codec sr_decoder_codec(const sr_decoder *d)
{
  return d->codec;
}

uint32_t sr_decoder_rate(const sr_decoder *d)
{
  return d->rate;
}

uint32_t sr_decoder_clock_rate(const sr_decoder *d)
{
  return d->clock_rate;
}

int sr_decoder_samples(const sr_decoder *d, const uint8_t *payload, size_t len)
{
  if (!d || (!payload && len))
    return SIPREC_EINVAL;
  /* An empty payload is no frame of any codec; a length past any RTP
   * packet is no payload either (and would overflow the counts). */
  if (len == 0 || len > 65536)
    return SIPREC_EPARSE;
  return d->ops->samples(d, payload, len);
}

int sr_decoder_decode(sr_decoder *d, const uint8_t *payload, size_t len, int16_t *out,
                      size_t cap, unsigned *flags)
{
  unsigned f = 0;
  if (flags)
    *flags = 0;
  if (!out && cap)
    return SIPREC_EINVAL;
  int n = sr_decoder_samples(d, payload, len);
  if (n < 0)
    return n;
  if ((size_t)n > cap)
    return SIPREC_ETOOBIG;
  n = d->ops->decode(d, payload, len, out, &f);
  if (flags && n >= 0)
    *flags = f;
  return n;
}

static int check_conceal(const sr_decoder *d, size_t n, const int16_t *out, size_t cap)
{
  if (!d || (!out && cap) || n > INT32_MAX)
    return SIPREC_EINVAL;
  return n > cap ? SIPREC_ETOOBIG : 0;
}

int sr_decoder_conceal(sr_decoder *d, size_t n, int16_t *out, size_t cap, unsigned *flags)
{
  unsigned f = 0;
  if (flags)
    *flags = 0;
  int rc = check_conceal(d, n, out, cap);
  if (rc < 0 || n == 0)
    return rc;
  d->ops->conceal(d, n, out, &f);
  if (flags)
    *flags = f;
  return (int)n;
}

int sr_decoder_conceal_fec(sr_decoder *d, const uint8_t *next, size_t next_len, size_t n,
                           int16_t *out, size_t cap, unsigned *flags)
{
  unsigned f = 0;
  if (flags)
    *flags = 0;
  int rc = check_conceal(d, n, out, cap);
  if (rc < 0)
    return rc;
  if (!d->ops->conceal_fec || n == 0)
    return sr_decoder_conceal(d, n, out, cap, flags);
  if ((rc = sr_decoder_samples(d, next, next_len)) < 0)
    return rc;
  rc = d->ops->conceal_fec(d, next, next_len, n, out, &f);
  if (flags && rc >= 0)
    *flags = f;
  return rc;
}

void sr_decoder_reset(sr_decoder *d)
{
  if (d)
    d->ops->reset(d);
}

/* The bytes of a codec's state a packet touches, at most (G.711's
 * concealer header and code ring: 296; the others' hot fields come first
 * in their states too). */
#define HOT_STATE_BYTES 320

void sr_decoder_prefetch_at(const void *dec, const void *state)
{
  if (dec)
    sr_prefetch_range(dec, offsetof(sr_decoder, alloc), false); /* its per-packet fields */
  if (state)
    sr_prefetch_range(state, HOT_STATE_BYTES, true);
}

const void *sr_decoder_state(const sr_decoder *d)
{
  return d ? d->state : NULL;
}
