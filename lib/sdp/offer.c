/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRS's own offers: for an INVITE without SDP (delayed offer), and a
 * new offer in a dialog it holds (a re-INVITE): see answer.h. */
#include "answer.h"

#include <stdio.h>
#include <string.h>

#include "../common/strbuf.h"
#include "codecs.h"
#include "config.h"
#include "crypto.h"
#include "write.h"

/* telephone-event's payload type in the SRS's offers. */
#define OFFER_TE_PT 101
#define OFFER_MAX_CODECS 16

/* The codecs of the configuration the SRS can offer, in its order, each
 * once. */
static size_t offer_codecs(const sr_sdp_config *cfg, sr_codec *list)
{
  size_t n = 0;
  const char *name;
  for (size_t i = 0; (name = sr_sdp_accepted_codec(cfg, i)) != NULL; i++) {
    sr_codec c;
    if (!sr_codec_offered(sr_span_cstr(name), &c))
      continue;
    size_t j; /* the same codec twice names the same table entry */
    for (j = 0; j < n && list[j].name != c.name; j++)
      ;
    if (j == n && n < OFFER_MAX_CODECS)
      list[n++] = c;
  }
  return n;
}

/* Every stream recvonly audio, labelled 1, 2, ... with a new port. */
static int offer_streams(const sr_sdp_config *cfg, size_t n_streams, sr_sdp_stream *streams)
{
  for (size_t i = 0; i < n_streams; i++) {
    sr_sdp_stream *st = &streams[i];
    memset(st, 0, sizeof *st);
    memcpy(st->media, "audio", 6);
    snprintf(st->label, sizeof st->label, "%zu", i + 1);
    st->has_label = 1;
    st->accepted = 1;
    st->offer_dir = SR_SDP_RECVONLY;
    st->answer_dir = SR_SDP_SENDONLY;
    st->pt = -1;
    st->te_pt = -1;
    uint16_t port = 0;
    if (cfg->port(cfg->port_user, i, st, &port) < 0 || port == 0)
      return SIPREC_EAGAIN;
    st->port = port;
    st->new_port = 1;
  }
  return 0;
}

static void write_offer_media(sr_strbuf *b, const sr_sdp_stream *st, const sr_codec *list,
                              size_t nc)
{
  sr_strbuf_printf(b, "m=audio %u RTP/AVP", (unsigned)st->port);
  for (size_t k = 0; k < nc; k++)
    sr_strbuf_printf(b, " %d", list[k].pt);
  sr_strbuf_printf(b, " %d\r\n", OFFER_TE_PT);
  for (size_t k = 0; k < nc; k++)
    sr_sdp_write_rtpmap(b, list[k].pt, sr_span_cstr(list[k].name), list[k].rate,
                        list[k].channels);
  sr_strbuf_printf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-15\r\n", OFFER_TE_PT,
                   OFFER_TE_PT);
  sr_strbuf_printf(b, "a=recvonly\r\na=label:%s\r\n", st->label);
}

int sr_sdp_offer(const sr_sdp_config *cfg, size_t n_streams, sr_sdp_stream *streams, char *out,
                 size_t out_size)
{
  sr_codec list[OFFER_MAX_CODECS];
  if (!sr_sdp_config_ok(cfg) || n_streams == 0 || !streams || !out || out_size == 0)
    return SIPREC_EINVAL;
  out[0] = '\0';
  size_t nc = offer_codecs(cfg, list);
  if (nc == 0)
    return SIPREC_EINVAL;
  int rc = offer_streams(cfg, n_streams, streams);
  if (rc < 0)
    return rc;
  sr_strbuf b = sr_strbuf_on(out, out_size);
  sr_sdp_write_session(&b, cfg);
  for (size_t i = 0; i < n_streams; i++)
    write_offer_media(&b, &streams[i], list, nc);
  return sr_sdp_write_end(&b);
}

/* ---------------------------------------------------------------------- */
/* A re-offer in an established dialog                                      */

/* Text the SRS copies into an SDP line from a stream: printable ASCII,
 * no spaces (a snapshot from a store is not trusted to hold only that). */
static int word_ok(const char *s, int may_be_empty)
{
  if (!*s)
    return may_be_empty;
  for (; *s; s++)
    if (*s <= ' ' || *s > '~')
      return 0;
  return 1;
}

static int reoffer_stream_ok(const sr_sdp_stream *st)
{
  if (!word_ok(st->media, 0) || !word_ok(st->label, 1))
    return 0;
  if (!st->accepted)
    return 1;
  return word_ok(st->codec, 0) && st->pt >= 0 && st->pt < 128 && st->te_pt < 128 &&
         st->clock_rate && (!st->srtp || sr_sdp_suite_key_bytes(st->crypto_suite) != 0);
}

/* The SRS's key of an SRTP stream that has none yet (a stream made by an
 * older snapshot, or sealed keys the reader could not open). */
static int reoffer_key(const sr_sdp_config *cfg, sr_sdp_stream *st)
{
  if (!st->accepted || !st->srtp || st->local_key[0])
    return 0;
  return sr_sdp_key_make(cfg, sr_sdp_suite_key_bytes(st->crypto_suite), st->local_key);
}

static void write_reoffer_media(sr_strbuf *b, const sr_sdp_stream *st)
{
  const char *proto = st->srtp ? " RTP/SAVP " : " RTP/AVP ";
  sr_strbuf_str(b, "m=");
  sr_strbuf_str(b, st->media);
  sr_strbuf_str(b, " ");
  if (!st->accepted) {
    /* RFC 3264 8.2: a removed stream stays in place with port 0. */
    sr_strbuf_printf(b, "0%s%d\r\n", proto, st->pt >= 0 && st->pt < 128 ? st->pt : 0);
    return;
  }
  sr_strbuf_uint(b, st->port);
  sr_strbuf_str(b, proto);
  sr_strbuf_uint(b, (unsigned)st->pt);
  if (st->te_pt >= 0)
    sr_strbuf_printf(b, " %d", st->te_pt);
  sr_strbuf_str(b, "\r\n");
  sr_sdp_write_rtpmap(b, st->pt, sr_span_cstr(st->codec), st->clock_rate, st->channels);
  if (st->te_pt >= 0) {
    sr_sdp_write_rtpmap(b, st->te_pt, sr_span_cstr("telephone-event"),
                        st->te_clock ? st->te_clock : 8000, 1);
    sr_strbuf_printf(b, "a=fmtp:%d 0-15\r\n", st->te_pt);
  }
  if (st->srtp)
    sr_strbuf_printf(b, "a=crypto:%d %s inline:%s\r\n", st->crypto_tag, st->crypto_suite,
                     st->local_key);
  sr_strbuf_str(b, st->paused ? "a=inactive\r\n" : "a=recvonly\r\n");
  if (st->rtcp_mux)
    sr_strbuf_str(b, "a=rtcp-mux\r\n");
  if (st->has_label && st->label[0])
    sr_strbuf_printf(b, "a=label:%s\r\n", st->label);
}

int sr_sdp_reoffer(const sr_sdp_config *cfg, sr_sdp_stream *streams, size_t n, char *out,
                   size_t out_size)
{
  if (!out || out_size == 0)
    return SIPREC_EINVAL;
  out[0] = '\0';
  if (!sr_sdp_config_ok(cfg) || !streams || n == 0 || n > SR_SDP_MAX_STREAMS)
    return SIPREC_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (!reoffer_stream_ok(&streams[i]))
      return SIPREC_EINVAL;
  for (size_t i = 0; i < n; i++)
    if (reoffer_key(cfg, &streams[i]) < 0)
      return SIPREC_ERANDOM;
  sr_strbuf b = sr_strbuf_on(out, out_size);
  sr_sdp_write_session(&b, cfg);
  for (size_t i = 0; i < n; i++)
    write_reoffer_media(&b, &streams[i]);
  return sr_sdp_write_end(&b);
}
