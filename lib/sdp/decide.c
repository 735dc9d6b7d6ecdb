/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One m-line of an offer, step by step: what it says, whether the SRS can
 * record it (audio over RTP, a codec it accepts, a usable key for SRTP),
 * then the codec, telephone-event and direction of the answer. */
#include "decide.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "crypto.h"
#include "formats.h"
#include "media.h"
#include "text.h"

/* What the offer says of the stream, accepted or not. */
static int describe(const sdp_session_t *s, const sdp_media_t *m, sr_sdp_stream *st,
                    const char **why)
{
  memset(st, 0, sizeof *st);
  st->pt = -1;
  st->te_pt = -1;
  st->answer_dir = SR_SDP_INACTIVE;
  snprintf(st->media, sizeof st->media, "%s", sr_sdp_media_name(m));
  const sdp_attribute_t *lab = sr_sdp_attr(m->m_attributes, "label");
  if (lab && lab->a_value && lab->a_value[0]) {
    if (sr_sdp_copy(st->label, sizeof st->label, lab->a_value) < 0) {
      *why = "SDP: a=label too long";
      return SIPREC_EINVAL;
    }
    st->has_label = 1;
  }
  st->offer_dir = sr_sdp_media_dir(s, m);
  st->ptime = sr_sdp_media_ptime(s, m);
  st->rtcp_mux = sr_sdp_attr(m->m_attributes, "rtcp-mux") != NULL;
  st->remote_rtcp_port = sr_sdp_media_rtcp_port(m);
  sr_sdp_remote_addr(sr_sdp_media_conn(s, m), st);
  if (m->m_port > 0 && m->m_port <= 65535)
    st->remote_port = (uint16_t)m->m_port;
  return 0;
}

/* The payload type of the codec to take, or -1: the offer's first accepted
 * one, unless the configuration's own order decides. */
static int choose_codec(const sr_sdp_config *cfg, const sr_sdp_fmts *t)
{
  int best = -1, best_rank = INT_MAX;
  for (size_t i = 0; i < t->n; i++) {
    const sr_sdp_fmt *f = &t->pt[t->order[i]];
    if (!f->enc)
      continue;
    int r = sr_sdp_codec_rank(cfg, sr_sdp_fmt_enc(f));
    if (r < 0)
      continue;
    if (cfg->codecs == NULL || cfg->prefer_offer_order)
      return t->order[i];
    if (r < best_rank)
      best_rank = r, best = t->order[i];
  }
  return best;
}

/* The first usable a=crypto line into `st`; 1 when there is one. */
static int take_crypto(const sr_sdp_config *cfg, const sdp_media_t *m, sr_sdp_stream *st)
{
  size_t bytes = 0;
  for (const sdp_attribute_t *a = m->m_attributes; a && !bytes; a = a->a_next)
    if (a->a_name && !strcasecmp(a->a_name, "crypto"))
      bytes = sr_sdp_crypto_parse(a->a_value, cfg->suite_ok, st);
  return bytes != 0;
}

static void take_codec(const sr_sdp_fmts *t, int pt, sr_sdp_stream *st)
{
  const sr_sdp_fmt *f = &t->pt[pt];
  st->accepted = 1;
  st->pt = (int16_t)pt; /* 0..127 */
  memcpy(st->codec, f->enc, f->enc_len);
  st->codec[f->enc_len] = '\0';
  st->clock_rate = (uint32_t)f->rate;
  st->channels = (uint8_t)(f->channels ? f->channels : 1);
}

/* The offer's other accepted codecs, in its order. */
static void take_alternatives(const sr_sdp_config *cfg, const sr_sdp_fmts *t, int chosen,
                              sr_sdp_stream *st)
{
  for (size_t i = 0; i < t->n && st->n_alt < SR_SDP_ALT_MAX; i++) {
    int pt = t->order[i];
    const sr_sdp_fmt *f = &t->pt[pt];
    int rank = pt == chosen || !f->enc ? -1 : sr_sdp_codec_rank(cfg, sr_sdp_fmt_enc(f));
    if (rank < 0)
      continue;
    struct sr_sdp_alt_codec *a = &st->alt[st->n_alt++];
    a->codec = (uint8_t)rank; /* < 64: the accepted list is read that far only */
    a->pt = (uint8_t)pt;      /* a format's payload type: 0..127 */
    a->clock_rate = (uint32_t)f->rate;
    a->channels = (uint8_t)(f->channels ? f->channels : 1);
  }
}

/* telephone-event at the codec's clock rate if offered, else the first. */
static void take_telephone_event(const sr_sdp_fmts *t, sr_sdp_stream *st)
{
  int te = sr_sdp_fmts_telephone_event(t, &t->pt[st->pt].rate);
  if (te >= 0) {
    st->te_pt = (int16_t)te;
    st->te_clock = (uint32_t)t->pt[te].rate;
  }
}

/* The SRS only receives: recvonly to a sender, inactive (and paused) to a
 * stream that sends nothing; c= 0.0.0.0 pauses too. */
static void set_direction(sr_sdp_stream *st, int hold)
{
  switch (st->offer_dir) {
  case SR_SDP_SENDONLY:
  case SR_SDP_SENDRECV:
    st->answer_dir = SR_SDP_RECVONLY;
    break;
  case SR_SDP_RECVONLY:
  case SR_SDP_INACTIVE:
    st->answer_dir = SR_SDP_INACTIVE;
    st->paused = 1;
    break;
  }
  if (hold)
    st->paused = 1;
}

int sr_sdp_decide(const sr_sdp_config *cfg, const sdp_session_t *s, const sdp_media_t *m,
                  sr_sdp_stream *st, const char **why)
{
  int rc = describe(s, m, st, why);
  if (rc < 0)
    return rc;
  const char *proto = sr_sdp_proto_name(m);
  if (m->m_type != sdp_media_audio || st->remote_port == 0 || !sr_sdp_proto_is_rtp(proto))
    return 0;
  sr_sdp_fmts t;
  sr_sdp_fmts_read(m, &t);
  int pt = choose_codec(cfg, &t);
  if (pt < 0)
    return 0;
  if (sr_sdp_proto_is_srtp(proto)) {
    if (!take_crypto(cfg, m, st))
      return 0;
    st->srtp = 1;
  }
  take_codec(&t, pt, st);
  take_alternatives(cfg, &t, pt, st);
  take_telephone_event(&t, st);
  set_direction(st, sr_sdp_conn_is_hold(sr_sdp_media_conn(s, m)));
  return 0;
}
