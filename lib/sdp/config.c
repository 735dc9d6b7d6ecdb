/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "codecs.h"

/* Longest accepted-codec list read: more would only slow every answer. */
#define ACCEPTED_MAX 64

/* A token we write into SDP from the configuration: printable, no space. */
static int token_ok(const char *s)
{
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s == 0x7f)
      return 0;
  return 1;
}

int sr_sdp_config_ok(const sr_sdp_config *cfg)
{
  return cfg && cfg->port && token_ok(cfg->media_addr) &&
         strlen(cfg->media_addr) < SR_SDP_ADDR_MAX && (!cfg->user || token_ok(cfg->user)) &&
         (cfg->current || cfg->n_current == 0);
}

const char *sr_sdp_accepted_codec(const sr_sdp_config *cfg, size_t i)
{
  if (i >= ACCEPTED_MAX)
    return NULL;
  return cfg->codecs ? cfg->codecs[i] : sr_codec_default(i);
}

int sr_sdp_codec_rank(const sr_sdp_config *cfg, sr_span enc)
{
  if (enc.n == 0 || enc.n >= SR_SDP_CODEC_MAX || sr_span_ieq(enc, "telephone-event"))
    return -1;
  const char *name;
  for (int i = 0; (name = sr_sdp_accepted_codec(cfg, (size_t)i)) != NULL; i++)
    if (sr_span_ieq(enc, name))
      return i;
  return -1;
}

const char *sr_sdp_alt_encoding(const char *const *codecs, const struct sr_sdp_alt_codec *alt)
{
  if (!alt)
    return NULL;
  /* Walked, not indexed: an index past the list's end must not read past it. */
  const sr_sdp_config cfg = { .codecs = codecs };
  const char *name = NULL;
  for (size_t i = 0; i <= alt->codec; i++)
    if (!(name = sr_sdp_accepted_codec(&cfg, i)))
      return NULL;
  return name;
}
