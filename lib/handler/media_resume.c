/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Streams in snapshots: their resume points read for a snapshot, kept for
 * a restored session until its stream is made, applied then; and when a
 * datagram moved a stream enough to write a snapshot. */
#include <string.h>

#include "../common/alloc.h"
#include "../media/srtp.h"
#include "../session/session_snapshot.h"
#include "media.h"

/* One stream's point (m's lock held). */
static void point_of(const sr_session_media *m, sr_session_media_resume *out)
{
  memset(out, 0, sizeof *out);
  out->index = (uint32_t)m->index;
  if (m->ms)
    sr_media_stream_resume_point(m->ms, &out->m);
  else if (m->resume)
    *out = *m->resume; /* not made again yet since the restore: what it had */
  if (m->srtp_ctx && out->m.has_audio &&
      sr_srtp_get_roc(m->srtp_ctx, out->m.ssrc, &out->roc, &out->srtp_seq) == 0)
    out->has_roc = 1;
}

size_t sr_media_resume_collect(siprec_handler *h, siprec_session *s,
                               struct sr_session_media_resume *out, size_t max)
{
  (void)h;
  size_t n = 0;
  for (size_t i = 0; i < s->n_streams && i < SR_SDP_MAX_STREAMS && n < max; i++) {
    sr_session_media *m = atomic_load_explicit(&s->media[i], memory_order_acquire);
    if (!m)
      continue;
    sr_media_lock(s, m);
    if (m->ms || m->resume)
      point_of(m, &out[n++]);
    pthread_mutex_unlock(&m->lock);
  }
  return n;
}

int sr_media_resume_keep(siprec_handler *h, siprec_session *s,
                         const struct sr_session_media_resume *in, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (in[i].index >= s->n_streams || in[i].index >= SR_SDP_MAX_STREAMS)
      continue; /* a stream the snapshot no longer has */
    sr_session_media *m = sr_media_slot(h, s, in[i].index);
    if (!m)
      return SIPREC_ENOMEM;
    sr_media_lock(s, m);
    if (!m->resume)
      m->resume = sr_malloc(&s->mem, sizeof *m->resume);
    if (m->resume)
      *m->resume = in[i];
    pthread_mutex_unlock(&m->lock);
    if (!m->resume)
      return SIPREC_ENOMEM;
  }
  return 0;
}

void sr_media_resume_apply(siprec_session *s, sr_session_media *m)
{
  sr_session_media_resume *r = m->resume;
  if (!r || !m->ms)
    return;
  sr_media_stream_resume_from(m->ms, &r->m);
  /* The rollover counter of the SSRC it had; a new SSRC starts at 0 as
   * RFC 3711 says. A context that already saw that SSRC keeps its own. */
  if (m->srtp_ctx && r->has_roc)
    (void)sr_srtp_set_roc(m->srtp_ctx, r->m.ssrc, r->roc, r->srtp_seq);
  m->snap_latched = r->m.latched;
  m->snap_ssrc = r->m.seq_ssrc;
  m->resume = NULL;
  sr_free(&s->mem, r);
}

int sr_media_resume_due(siprec_handler *h, sr_session_media *m, uint64_t now)
{
  if (!m->ms)
    return 0;
  sr_media_resume r;
  sr_media_stream_resume_point(m->ms, &r);
  int moved = (int)r.latched != m->snap_latched || r.seq_ssrc != m->snap_ssrc ||
              r.seq_cycles != m->snap_cycles;
  if (!moved && now - m->snap_at < (uint64_t)h->cfg.snapshot_media_ms * 1000000u)
    return 0;
  m->snap_latched = r.latched;
  m->snap_ssrc = r.seq_ssrc;
  m->snap_cycles = r.seq_cycles;
  m->snap_at = now;
  return 1;
}
