/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's configuration checked and copied: the codec table (strings
 * copied, so the caller's SDP may go), the addresses parsed once, the
 * defaults resolved. */
#include <string.h>
#include <strings.h>

#include "../common/static_pt.h"
#include "stream_impl.h"

static bool rate_ok(uint32_t r)
{
  return r == 0 || (r >= 1000 && r <= 192000);
}

/* The RTP clock of a table entry: what the SDP said, else the encoding's
 * usual one (sequence state and jitter buffer need it before any decoder). */
uint32_t sr_ms_nominal_clock(const sr_ms_codec *c)
{
  if (c->clock_rate)
    return c->clock_rate;
  if (strcasecmp(c->encoding, "opus") == 0)
    return 48000;
  const sr_static_pt *st = c->encoding[0] ? NULL : sr_static_pt_get((unsigned)c->pt);
  return st ? st->rate : 8000;
}

static void free_codecs(const siprec_allocator *a, sr_ms_codec *c, unsigned n)
{
  for (unsigned i = 0; i < n; i++) {
    sr_free(a, c[i].fmtp);
    c[i].fmtp = NULL;
  }
}

static int copy_codec(const siprec_allocator *a, const sr_decoder_params *p, sr_ms_codec *c)
{
  size_t n = p->encoding ? strlen(p->encoding) : 0;
  if (p->payload_type < 0 || p->payload_type > 127 || n >= SR_MS_ENC_MAX ||
      !rate_ok(p->clock_rate))
    return SIPREC_EINVAL;
  *c = (sr_ms_codec){ .pt = p->payload_type, .clock_rate = p->clock_rate,
                      .channels = p->channels, .opus_rate = p->opus_rate };
  memcpy(c->encoding, p->encoding ? p->encoding : "", n + 1);
  if (p->fmtp) {
    size_t f = strlen(p->fmtp);
    if (!(c->fmtp = sr_malloc(a, f + 1)))
      return SIPREC_ENOMEM;
    memcpy(c->fmtp, p->fmtp, f + 1);
  }
  return 0;
}

/* Copies the codec table into out[]; all or nothing. */
int sr_ms_copy_codecs(const siprec_allocator *a, const sr_media_stream_config *cfg,
                      sr_ms_codec *out, unsigned *n_out)
{
  if (!cfg->codecs || cfg->n_codecs == 0 || cfg->n_codecs > SR_MS_MAX_CODECS)
    return SIPREC_EINVAL;
  for (unsigned i = 0; i < cfg->n_codecs; i++) {
    int rc = copy_codec(a, &cfg->codecs[i], &out[i]);
    if (rc < 0) {
      free_codecs(a, out, i);
      return rc;
    }
  }
  *n_out = (unsigned)cfg->n_codecs;
  return 0;
}

void sr_ms_free_codecs(sr_media_stream *s)
{
  free_codecs(&s->alloc, s->codecs, s->n_codecs);
  s->n_codecs = 0;
}

int sr_ms_check_config(const sr_media_stream_config *cfg)
{
  if (!cfg || !rate_ok(cfg->out_rate) || cfg->frame_ms > SR_MS_MAX_PACKET_MS ||
      cfg->jitter_ms > 10000 || cfg->conceal_ms > SR_MS_MAX_PACKET_MS ||
      cfg->dtmf_pt > 127 || cfg->cn_pt > 127)
    return SIPREC_EINVAL;
  return 0;
}

/* The settings a re-INVITE may change (frame duration and output rate are
 * the host's and stay). */
void sr_ms_apply_settings(sr_media_stream *s, const sr_media_stream_config *cfg)
{
  s->dtmf_pt = cfg->dtmf_pt > 0 ? cfg->dtmf_pt : -1;
  s->cn_pt = cfg->cn_pt == 0 ? 13 : cfg->cn_pt;
  s->no_media_ms = cfg->no_media_ms ? cfg->no_media_ms : SR_MS_DEFAULT_NO_MEDIA_MS;
  s->conceal_ms = cfg->conceal_ms ? cfg->conceal_ms : SR_MS_DEFAULT_CONCEAL_MS;
  s->unprotect = cfg->unprotect;
  s->unprotect_ctx = cfg->unprotect_ctx;
}

static bool addr_eq(const sr_ms_addr *a, const sr_ms_addr *b)
{
  return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, 16) == 0;
}

/* Parses the addresses; true when they differ from the ones before. */
bool sr_ms_apply_source(sr_media_stream *s, const sr_media_stream_config *cfg)
{
  sr_ms_addr e, g;
  sr_ms_addr_parse(cfg->expected_ip, &e);
  e.port = cfg->expected_port;
  sr_ms_addr_parse(cfg->signalling_ip, &g);
  bool changed = !addr_eq(&e, &s->expected) || !addr_eq(&g, &s->signalling);
  s->expected = e;
  s->signalling = g;
  return changed;
}
