/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The SRC's answer (in its ACK) to the SRS's delayed offer: see answer.h. */
#include "answer.h"

#include <string.h>
#include <strings.h>

#include "codecs.h"
#include "formats.h"
#include "media.h"
#include "parse.h"

/* What the answer says of the stream before its formats are read. */
static void reset_from_answer(const sdp_session_t *s, const sdp_media_t *m, sr_sdp_stream *st)
{
  st->accepted = 0;
  st->codec[0] = '\0';
  st->pt = -1;
  st->clock_rate = 0;
  st->channels = 0;
  st->te_pt = -1;
  st->te_clock = 0;
  st->paused = 0;
  st->remote_addr[0] = '\0';
  st->remote_port = 0;
  st->answer_dir = sr_sdp_media_dir(s, m);
  st->ptime = sr_sdp_media_ptime(s, m);
  sr_sdp_remote_addr(sr_sdp_media_conn(s, m), st);
}

/* The SRC's first format that the SRS offered (the SRC may answer with
 * several). 1 when there is one. */
static int take_offered_codec(const sr_sdp_fmts *t, sr_sdp_stream *st)
{
  for (size_t i = 0; i < t->n; i++) {
    const sr_sdp_fmt *f = &t->pt[t->order[i]];
    if (!f->enc || f->enc_len >= SR_SDP_CODEC_MAX)
      continue;
    sr_codec c;
    if (!sr_codec_offered(sr_sdp_fmt_enc(f), &c))
      continue;
    st->pt = t->order[i];
    memcpy(st->codec, f->enc, f->enc_len);
    st->codec[f->enc_len] = '\0';
    st->clock_rate = (uint32_t)f->rate;
    st->channels = (uint8_t)(f->channels ? f->channels : 1);
    return 1;
  }
  return 0;
}

static void read_answer_media(const sdp_session_t *s, const sdp_media_t *m, sr_sdp_stream *st)
{
  reset_from_answer(s, m, st);
  if (m->m_port == 0 || m->m_port > 65535 || m->m_type != sdp_media_audio ||
      strcasecmp(sr_sdp_proto_name(m), "RTP/AVP") != 0)
    return;
  st->remote_port = (uint16_t)m->m_port;
  sr_sdp_fmts t;
  sr_sdp_fmts_read(m, &t);
  if (!take_offered_codec(&t, st))
    return;
  int te = sr_sdp_fmts_telephone_event(&t, NULL);
  if (te >= 0) {
    st->te_pt = (int16_t)te;
    st->te_clock = (uint32_t)t.pt[te].rate;
  }
  st->accepted = 1;
  if (st->answer_dir == SR_SDP_INACTIVE || st->answer_dir == SR_SDP_RECVONLY ||
      sr_sdp_conn_is_hold(sr_sdp_media_conn(s, m)))
    st->paused = 1;
}

int sr_sdp_read_answer(const char *answer, size_t len, sr_sdp_stream *streams, size_t n,
                       const char **why)
{
  sr_sdp_parsed p;
  int rc = sr_sdp_parse_answer(answer, len, streams ? n : 0, SIZE_MAX, &p, why);
  if (rc < 0)
    return rc;
  int usable = 0;
  size_t i = 0;
  for (const sdp_media_t *m = p.sdp->sdp_media; m; m = m->m_next, i++) {
    read_answer_media(p.sdp, m, &streams[i]);
    usable += streams[i].accepted != 0;
  }
  sr_sdp_parsed_free(&p);
  return usable;
}
