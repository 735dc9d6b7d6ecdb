/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's media resume point as snapshot records. */
#include <string.h>

#include "session_snapshot.h"

enum {
  M_INDEX = 1, M_LATCHED, M_ADDR, M_SSRC, M_SRTP_SEQ, M_ROC, M_TS, M_POSITION, M_RATE, M_CLOCK,
  M_END, M_HAS_AUDIO, M_HAS_ROC,
};

void sr_session_media_resume_put(sr_snap_w *w, const sr_session_media_resume *r, uint64_t now)
{
  const sr_media_resume *m = &r->m;
  sr_snap_put_u64(w, M_INDEX, r->index);
  if (m->latched) {
    uint8_t b[1 + 2 + 16];
    size_t alen = m->family == 6 ? 16 : 4;
    b[0] = m->family;
    b[1] = (uint8_t)(m->port >> 8);
    b[2] = (uint8_t)m->port;
    memcpy(b + 3, m->ip, alen);
    sr_snap_put_u64(w, M_LATCHED, 1);
    sr_snap_put_bytes(w, M_ADDR, b, 3 + alen);
  }
  if (m->has_audio) {
    sr_snap_put_u64(w, M_HAS_AUDIO, 1);
    sr_snap_put_u64(w, M_SSRC, m->ssrc);
    sr_snap_put_u64(w, M_TS, m->next_ts);
    sr_snap_put_u64(w, M_CLOCK, m->clock);
    sr_snap_put_u64(w, M_POSITION, m->position);
    sr_snap_put_u64(w, M_RATE, m->rate);
    sr_snap_put_time(w, M_END, m->end_ns, now);
  }
  if (r->has_roc) {
    sr_snap_put_u64(w, M_HAS_ROC, 1);
    sr_snap_put_u64(w, M_ROC, r->roc);
    sr_snap_put_u64(w, M_SRTP_SEQ, r->srtp_seq);
  }
}

typedef struct resume_rd {
  sr_session_media_resume *r;
  uint64_t base;
} resume_rd;

static int get_bool(const sr_snap_val *x, bool *out)
{
  uint8_t b;
  if (sr_snap_u8(x, &b) || b > 1)
    return SIPREC_EPARSE;
  *out = b;
  return 0;
}

static int resume_field(void *ctx, unsigned tag, const sr_snap_val *x)
{
  resume_rd *c = ctx;
  sr_session_media_resume *r = c->r;
  sr_media_resume *m = &r->m;
  switch (tag) {
  case M_INDEX: return sr_snap_u32(x, &r->index);
  case M_LATCHED: return get_bool(x, &m->latched);
  case M_ADDR:
    if ((x->len != 7 || x->p[0] != 4) && (x->len != 19 || x->p[0] != 6))
      return SIPREC_EPARSE;
    m->family = x->p[0];
    m->port = (uint16_t)(x->p[1] << 8 | x->p[2]);
    memcpy(m->ip, x->p + 3, x->len - 3);
    return 0;
  case M_HAS_AUDIO: return get_bool(x, &m->has_audio);
  case M_SSRC: return sr_snap_u32(x, &m->ssrc);
  case M_TS: return sr_snap_u32(x, &m->next_ts);
  case M_CLOCK: return sr_snap_u32(x, &m->clock);
  case M_POSITION: return sr_snap_u64(x, UINT64_MAX, &m->position);
  case M_RATE: return sr_snap_u32(x, &m->rate);
  case M_END: return sr_snap_get_time(x, c->base, &m->end_ns);
  case M_HAS_ROC: return sr_snap_u8(x, &r->has_roc) || r->has_roc > 1 ? SIPREC_EPARSE : 0;
  case M_ROC: return sr_snap_u32(x, &r->roc);
  case M_SRTP_SEQ: return sr_snap_u16(x, &r->srtp_seq);
  default: return 0;
  }
}

int sr_session_media_resume_get(sr_session_media_resume *r, const sr_snap_val *v, uint64_t base)
{
  memset(r, 0, sizeof *r);
  r->index = UINT32_MAX;
  resume_rd c = { r, base };
  int rc = sr_snap_each(v, resume_field, &c);
  if (rc || r->index == UINT32_MAX || (r->m.latched && !r->m.family) ||
      (r->m.has_audio && (!r->m.clock || !r->m.rate)))
    return SIPREC_EPARSE;
  return 0;
}
