/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The answer is written with plain appends, no printf: an SDP answer is
 * some twenty lines on every INVITE, and printf made a tenth of its cost. */
#include "write.h"

#include <limits.h>
#include <string.h>

#include "formats.h"
#include "media.h"

int sr_sdp_write_end(sr_strbuf *b)
{
  if (b->overflow || b->len > INT_MAX) {
    if (b->cap)
      b->p[0] = '\0';
    return SIPREC_ETOOBIG;
  }
  return (int)b->len;
}

void sr_sdp_write_session(sr_strbuf *b, const sr_sdp_config *cfg)
{
  const char *ipv = strchr(cfg->media_addr, ':') ? " IN IP6 " : " IN IP4 ";
  sr_strbuf_str(b, "v=0\r\no=");
  sr_strbuf_str(b, cfg->user ? cfg->user : "libsiprec");
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, cfg->session_id);
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, cfg->version);
  sr_strbuf_str(b, ipv);
  sr_strbuf_str(b, cfg->media_addr);
  sr_strbuf_str(b, "\r\ns=-\r\nc=");
  sr_strbuf_str(b, ipv + 1);
  sr_strbuf_str(b, cfg->media_addr);
  sr_strbuf_str(b, "\r\nt=0 0\r\n");
}

/* "a=NAME:PT " */
static void write_pt_attr(sr_strbuf *b, const char *name, int pt)
{
  sr_strbuf_str(b, name);
  sr_strbuf_uint(b, (unsigned)pt);
  sr_strbuf_str(b, " ");
}

void sr_sdp_write_rtpmap(sr_strbuf *b, int pt, sr_span enc, unsigned long rate, unsigned channels)
{
  write_pt_attr(b, "a=rtpmap:", pt);
  sr_strbuf_add(b, enc.p, enc.n);
  sr_strbuf_str(b, "/");
  sr_strbuf_uint(b, rate);
  if (channels > 1) {
    sr_strbuf_str(b, "/");
    sr_strbuf_uint(b, channels);
  }
  sr_strbuf_str(b, "\r\n");
}

static void write_fmt_rtpmap(sr_strbuf *b, int pt, const sr_sdp_fmt *f)
{
  sr_sdp_write_rtpmap(b, pt, sr_sdp_fmt_enc(f), f->rate, f->channels);
}

static const char *dir_attr(sr_sdp_dir d)
{
  switch (d) {
  case SR_SDP_SENDRECV:
    return "sendrecv";
  case SR_SDP_SENDONLY:
    return "sendonly";
  case SR_SDP_RECVONLY:
    return "recvonly";
  case SR_SDP_INACTIVE:
    break;
  }
  return "inactive";
}

/* "m=MEDIA PORT PROTO " */
static void write_m_start(sr_strbuf *b, const sdp_media_t *m, unsigned port)
{
  sr_strbuf_str(b, "m=");
  sr_strbuf_str(b, sr_sdp_media_name(m));
  sr_strbuf_str(b, " ");
  sr_strbuf_uint(b, port);
  sr_strbuf_str(b, " ");
  sr_strbuf_str(b, sr_sdp_proto_name(m));
  sr_strbuf_str(b, " ");
}

/* A declined m-line: port 0 and the offer's first format, which RFC 3264
 * 6 asks for (at least one format, any). */
static void write_declined(sr_strbuf *b, const sdp_media_t *m)
{
  write_m_start(b, m, 0);
  if (m->m_rtpmaps)
    sr_strbuf_uint(b, m->m_rtpmaps->rm_pt);
  else if (m->m_format && m->m_format->l_text)
    sr_strbuf_str(b, m->m_format->l_text);
  else
    sr_strbuf_str(b, "0");
  sr_strbuf_str(b, "\r\n");
}

/* The m= line with the codec and telephone-event, their rtpmaps (names as
 * offered) and telephone-event's fmtp echoed. */
static void write_formats(sr_strbuf *b, const sdp_media_t *m, const sr_sdp_stream *st)
{
  sr_sdp_fmts t;
  sr_sdp_fmts_read(m, &t);
  write_m_start(b, m, st->port);
  sr_strbuf_uint(b, (unsigned)st->pt);
  if (st->te_pt >= 0) {
    sr_strbuf_str(b, " ");
    sr_strbuf_uint(b, (unsigned)st->te_pt);
  }
  sr_strbuf_str(b, "\r\n");
  write_fmt_rtpmap(b, st->pt, &t.pt[st->pt]);
  if (st->te_pt < 0)
    return;
  const sr_sdp_fmt *g = &t.pt[st->te_pt];
  write_fmt_rtpmap(b, st->te_pt, g);
  if (g->fmtp && g->fmtp[0]) {
    write_pt_attr(b, "a=fmtp:", st->te_pt);
    sr_strbuf_str(b, g->fmtp);
    sr_strbuf_str(b, "\r\n");
  }
}

/* PREFIX VALUE CRLF: the end of an attribute line. */
static void write_ending(sr_strbuf *b, const char *prefix, const char *value)
{
  sr_strbuf_str(b, prefix);
  sr_strbuf_str(b, value);
  sr_strbuf_str(b, "\r\n");
}

/* ptime, the SRS's key, direction and label. */
static void write_stream_attrs(sr_strbuf *b, const sr_sdp_stream *st)
{
  if (st->ptime) {
    sr_strbuf_str(b, "a=ptime:");
    sr_strbuf_uint(b, st->ptime);
    sr_strbuf_str(b, "\r\n");
  }
  if (st->srtp) {
    write_pt_attr(b, "a=crypto:", st->crypto_tag);
    sr_strbuf_str(b, st->crypto_suite);
    write_ending(b, " inline:", st->local_key);
  }
  write_ending(b, "a=", dir_attr(st->answer_dir));
  if (st->rtcp_mux)
    sr_strbuf_str(b, "a=rtcp-mux\r\n");
  if (st->has_label)
    write_ending(b, "a=label:", st->label);
}

void sr_sdp_write_answer_media(sr_strbuf *b, const sdp_media_t *m, const sr_sdp_stream *st)
{
  if (!st->accepted) {
    write_declined(b, m);
    return;
  }
  write_formats(b, m, st);
  write_stream_attrs(b, st);
}
