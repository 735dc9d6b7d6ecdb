/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "formats.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../common/static_pt.h"
#include "text.h"

static void static_pt(sr_sdp_fmt *f, unsigned pt)
{
  const sr_static_pt *c = sr_static_pt_get(pt);
  if (!c)
    return;
  f->enc = c->name;
  f->enc_len = strlen(c->name);
  f->rate = c->rate;
  /* Mono as without rtpmap ("no channel count given", read as 1); L16 at
   * PT 10 is RFC 3551's stereo, as Sofia-SIP's own table says too. */
  f->channels = c->channels > 1 ? c->channels : 0;
  f->mapped = 1;
}

/* "<pt> <enc>/<rate>[/<channels>]" */
static void parse_rtpmap_value(sr_sdp_fmts *t, const char *v)
{
  unsigned long pt, rate, ch = 0;
  if (!v || sr_sdp_uint(&v, 127, &pt) < 0 || !sr_sdp_is_ws(*v))
    return;
  sr_sdp_fmt *f = &t->pt[pt];
  if (!f->present || f->mapped)
    return;
  while (sr_sdp_is_ws(*v))
    v++;
  const char *enc = v;
  while (*v && *v != '/' && !sr_sdp_is_ws(*v))
    v++;
  size_t enc_len = (size_t)(v - enc);
  if (enc_len == 0 || *v != '/')
    return;
  v++;
  if (sr_sdp_uint(&v, UINT32_MAX, &rate) < 0)
    return;
  if (*v == '/') {
    v++;
    if (sr_sdp_uint(&v, 255, &ch) < 0)
      ch = 0;
  }
  f->enc = enc;
  f->enc_len = enc_len;
  f->rate = rate;
  f->channels = (unsigned)ch;
  f->mapped = 1;
}

static void parse_fmtp_value(sr_sdp_fmts *t, const char *v)
{
  unsigned long pt;
  if (!v || sr_sdp_uint(&v, 127, &pt) < 0)
    return;
  sr_sdp_fmt *f = &t->pt[pt];
  if (!f->present || f->fmtp)
    return;
  while (sr_sdp_is_ws(*v))
    v++;
  f->fmtp = v;
}

/* RTP/AVP and RTP/SAVP: Sofia-SIP has read the formats and their rtpmap and
 * fmtp attributes. */
static void read_sofia_rtpmaps(const sdp_media_t *m, sr_sdp_fmts *t)
{
  for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
    unsigned pt = rm->rm_pt & 127;
    sr_sdp_fmt *f = &t->pt[pt];
    if (f->present)
      continue;
    f->present = 1;
    t->order[t->n++] = (unsigned char)pt;
    if (rm->rm_encoding && rm->rm_encoding[0]) {
      f->enc = rm->rm_encoding;
      f->enc_len = strlen(rm->rm_encoding);
      f->rate = rm->rm_rate;
      if (f->rate > UINT32_MAX)
        f->enc = NULL, f->enc_len = 0;
      unsigned long ch = 0;
      const char *pp = rm->rm_params;
      if (pp && sr_sdp_uint(&pp, 255, &ch) == 0)
        f->channels = (unsigned)ch;
      f->mapped = f->enc != NULL;
      /* A static payload type offered without rtpmap: RFC 3551's name as
       * our table gives it (Sofia-SIP's own calls PT 2 "G721", the name it
       * had before G.726-32 took the number). */
      if (rm->rm_predef && sr_static_pt_get(pt))
        static_pt(f, pt);
    }
    f->fmtp = rm->rm_fmtp;
  }
}

/* RTP/AVPF and RTP/SAVPF: Sofia-SIP leaves the formats and attributes as
 * plain text. */
static void read_text_formats(const sdp_media_t *m, sr_sdp_fmts *t)
{
  for (const sdp_list_t *l = m->m_format; l; l = l->l_next) {
    const char *s = l->l_text;
    unsigned long pt;
    if (!s || sr_sdp_uint(&s, 127, &pt) < 0 || *s)
      continue;
    if (t->pt[pt].present)
      continue;
    t->pt[pt].present = 1;
    t->order[t->n++] = (unsigned char)pt;
  }
  for (const sdp_attribute_t *a = m->m_attributes; a; a = a->a_next) {
    if (!a->a_name)
      continue;
    if (!strcasecmp(a->a_name, "rtpmap"))
      parse_rtpmap_value(t, a->a_value);
    else if (!strcasecmp(a->a_name, "fmtp"))
      parse_fmtp_value(t, a->a_value);
  }
  for (size_t i = 0; i < t->n; i++)
    if (!t->pt[t->order[i]].mapped)
      static_pt(&t->pt[t->order[i]], t->order[i]);
}

void sr_sdp_fmts_read(const sdp_media_t *m, sr_sdp_fmts *t)
{
  memset(t, 0, sizeof *t);
  if (m->m_rtpmaps)
    read_sofia_rtpmaps(m, t);
  else
    read_text_formats(m, t);
}

int sr_sdp_fmts_telephone_event(const sr_sdp_fmts *t, const unsigned long *rate)
{
  int te = -1;
  for (size_t i = 0; i < t->n; i++) {
    const sr_sdp_fmt *g = &t->pt[t->order[i]];
    if (!g->enc || !sr_span_ieq(sr_sdp_fmt_enc(g), "telephone-event"))
      continue;
    if (te < 0)
      te = t->order[i];
    if (!rate || g->rate == *rate)
      return t->order[i];
  }
  return te;
}
