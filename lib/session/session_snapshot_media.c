/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stream's media resume point as snapshot records. */
#include <string.h>

#include "session_snapshot.h"

enum { M_INDEX = 1, M_LATCHED, M_ADDR, M_SSRC, M_EXT_SEQ, M_ROC, M_TS, M_POSITION, M_RATE };

void sr_session_media_resume_put(sr_snap_w *w, const sr_session_media_resume *m)
{
  sr_snap_put_u64(w, M_INDEX, m->index);
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
  if (m->has_rtp) {
    sr_snap_put_u64(w, M_SSRC, m->ssrc);
    sr_snap_put_u64(w, M_EXT_SEQ, m->ext_seq);
    sr_snap_put_u64(w, M_ROC, m->roc);
    sr_snap_put_u64(w, M_TS, m->ts);
    sr_snap_put_u64(w, M_POSITION, m->position);
    sr_snap_put_u64(w, M_RATE, m->rate);
  }
}

static int resume_field(void *ctx, unsigned tag, const sr_snap_val *x)
{
  sr_session_media_resume *m = ctx;
  switch (tag) {
  case M_INDEX: return sr_snap_u32(x, &m->index);
  case M_LATCHED: return sr_snap_u8(x, &m->latched);
  case M_ADDR:
    if ((x->len != 7 || x->p[0] != 4) && (x->len != 19 || x->p[0] != 6))
      return SIPREC_EPARSE;
    m->family = x->p[0];
    m->port = (uint16_t)(x->p[1] << 8 | x->p[2]);
    memcpy(m->ip, x->p + 3, x->len - 3);
    return 0;
  case M_SSRC:
    m->has_rtp = 1;
    return sr_snap_u32(x, &m->ssrc);
  case M_EXT_SEQ: return sr_snap_u32(x, &m->ext_seq);
  case M_ROC: return sr_snap_u32(x, &m->roc);
  case M_TS: return sr_snap_u32(x, &m->ts);
  case M_POSITION: return sr_snap_u64(x, UINT64_MAX, &m->position);
  case M_RATE: return sr_snap_u32(x, &m->rate);
  default: return 0;
  }
}

int sr_session_media_resume_get(sr_session_media_resume *m, const sr_snap_val *v)
{
  memset(m, 0, sizeof *m);
  m->index = UINT32_MAX;
  int rc = sr_snap_each(v, resume_field, m);
  if (rc || m->index == UINT32_MAX || (m->latched && !m->family))
    return SIPREC_EPARSE;
  return 0;
}
