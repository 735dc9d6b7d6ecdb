/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRC's answer to a re-offer of the SRS (sr_sdp_reoffer): see answer.h.
 * The offer named one codec per stream, so the answer is read against the
 * stream itself, not against the SRS's codec table. */
#include "answer.h"

#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "formats.h"
#include "media.h"
#include "parse.h"
#include "text.h"

/* The payload type the SRC gave the offered codec: the offered one when it
 * kept it, else the first of the same encoding and rate; -1 when none. */
static int answered_pt(const sr_sdp_fmts *t, const sr_sdp_stream *st)
{
  int first = -1;
  for (size_t i = 0; i < t->n; i++) {
    int pt = t->order[i];
    const sr_sdp_fmt *f = &t->pt[pt];
    if (!f->enc || !sr_span_ieq(sr_sdp_fmt_enc(f), st->codec) || f->rate != st->clock_rate)
      continue;
    if (pt == st->pt)
      return pt;
    if (first < 0)
      first = pt;
  }
  return first;
}

/* The SRC's key: the a=crypto line with the offered tag and suite. 1 when
 * it is usable (st->remote_key set). */
static int answered_key(const sdp_media_t *m, sr_sdp_suite_ok_cb suite_ok, sr_sdp_stream *st)
{
  for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
    if (!a->a_name || strcasecmp(a->a_name, "crypto") != 0)
      continue;
    sr_sdp_stream k = *st;
    if (sr_sdp_crypto_parse(a->a_value, suite_ok, &k) == 0 || k.crypto_tag != st->crypto_tag ||
        strcmp(k.crypto_suite, st->crypto_suite) != 0) {
      explicit_bzero(k.remote_key, sizeof k.remote_key);
      continue;
    }
    memcpy(st->remote_key, k.remote_key, sizeof st->remote_key);
    explicit_bzero(k.remote_key, sizeof k.remote_key);
    return 1;
  }
  return 0;
}

/* One answered m-line: the stream keeps what the answer does not change. */
static void read_media(const sdp_session_t *s, const sdp_media_t *m, sr_sdp_suite_ok_cb suite_ok,
                       sr_sdp_stream *st)
{
  if (!st->accepted)
    return; /* declined in the offer: stays declined */
  const char *proto = sr_sdp_proto_name(m);
  sr_sdp_fmts t;
  int pt = -1;
  if (m->m_port > 0 && m->m_port <= 65535 &&
      (st->srtp ? sr_sdp_proto_is_srtp(proto) : sr_sdp_proto_is_rtp(proto) &&
                                                    !sr_sdp_proto_is_srtp(proto))) {
    sr_sdp_fmts_read(m, &t);
    pt = answered_pt(&t, st);
  }
  if (pt < 0 || (st->srtp && !answered_key(m, suite_ok, st))) {
    st->accepted = 0; /* the SRC declined it: its port is the caller's to take back */
    return;
  }
  st->pt = (int16_t)pt;
  if (st->te_pt >= 0) {
    unsigned long rate = st->te_clock ? st->te_clock : 8000;
    int te = sr_sdp_fmts_telephone_event(&t, &rate);
    st->te_pt = (int16_t)te;
    st->te_clock = te >= 0 ? (uint32_t)t.pt[te].rate : 0;
  }
  st->remote_addr[0] = '\0';
  sr_sdp_remote_addr(sr_sdp_media_conn(s, m), st);
  st->remote_port = (uint16_t)m->m_port;
  st->remote_rtcp_port = sr_sdp_media_rtcp_port(m);
  st->rtcp_mux = st->rtcp_mux && sr_sdp_attr(m->m_attributes, "rtcp-mux") != NULL;
  uint32_t ptime = sr_sdp_media_ptime(s, m);
  if (ptime)
    st->ptime = ptime;
  st->offer_dir = sr_sdp_media_dir(s, m);
  st->paused = st->answer_dir == SR_SDP_INACTIVE || st->offer_dir == SR_SDP_INACTIVE ||
               st->offer_dir == SR_SDP_RECVONLY || sr_sdp_conn_is_hold(sr_sdp_media_conn(s, m));
  st->answer_dir = st->paused ? SR_SDP_INACTIVE : SR_SDP_RECVONLY;
}

int sr_sdp_read_reanswer(const char *answer, size_t len, sr_sdp_suite_ok_cb suite_ok,
                         sr_sdp_stream *streams, size_t n, const char **why)
{
  sr_sdp_parsed p;
  int rc = sr_sdp_parse_answer(answer, len, streams ? n : 0, SR_SDP_MAX_STREAMS, &p, why);
  if (rc < 0)
    return rc;
  sr_sdp_stream next[SR_SDP_MAX_STREAMS];
  memcpy(next, streams, n * sizeof *next);
  int usable = 0;
  size_t i = 0;
  for (const sdp_media_t *m = p.sdp->sdp_media; m; m = m->m_next, i++) {
    read_media(p.sdp, m, suite_ok, &next[i]);
    usable += next[i].accepted != 0;
  }
  sr_sdp_parsed_free(&p);
  memcpy(streams, next, n * sizeof *next);
  explicit_bzero(next, sizeof next);
  return usable;
}
