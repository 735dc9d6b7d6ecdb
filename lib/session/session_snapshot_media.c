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

int sr_session_media_resume_get(sr_session_media_resume *m, const sr_snap_val *v)
{
  memset(m, 0, sizeof *m);
  sr_snap_r r = sr_snap_sub(v);
  unsigned tag;
  sr_snap_val x;
  int rc, e, have_index = 0;
  while ((rc = sr_snap_next(&r, &tag, &x)) > 0) {
    e = 0;
    switch (tag) {
    case M_INDEX:
      e = sr_snap_u32(&x, &m->index);
      have_index = !e;
      break;
    case M_LATCHED: e = sr_snap_u8(&x, &m->latched); break;
    case M_ADDR:
      if ((x.len != 7 || x.p[0] != 4) && (x.len != 19 || x.p[0] != 6))
        return SIPREC_EPARSE;
      m->family = x.p[0];
      m->port = (uint16_t)(x.p[1] << 8 | x.p[2]);
      memcpy(m->ip, x.p + 3, x.len - 3);
      break;
    case M_SSRC: e = sr_snap_u32(&x, &m->ssrc); m->has_rtp = 1; break;
    case M_EXT_SEQ: e = sr_snap_u32(&x, &m->ext_seq); break;
    case M_ROC: e = sr_snap_u32(&x, &m->roc); break;
    case M_TS: e = sr_snap_u32(&x, &m->ts); break;
    case M_POSITION: e = sr_snap_u64(&x, UINT64_MAX, &m->position); break;
    case M_RATE: e = sr_snap_u32(&x, &m->rate); break;
    default: break;
    }
    if (e)
      return SIPREC_EPARSE;
  }
  if (rc < 0 || !have_index || (m->latched && !m->family))
    return SIPREC_EPARSE;
  return 0;
}
