/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Session snapshots (siprec/store.h) from the handler's side: written to
 * the host at every change of a session and dropped when it ends
 * (restoring: snapshot_restore.c). The bytes are lib/store's, the records
 * the session's own (lib/session/session_snapshot.c). */
#include <string.h>
#include <time.h>

#include <siprec/store.h>

#include "../common/alloc.h"
#include "../session/session_snapshot.h"
#include "../store/envelope.h"
#include "dialog.h"
#include "media.h"

uint64_t sr_handler_wallclock(siprec_handler *h)
{
  if (h->cbs.wallclock)
    return h->cbs.wallclock(h->user);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static int snapshotting(const siprec_handler *h)
{
  return h->cfg.snapshots && h->cbs.snapshot;
}

/* The secrets' buffer held SRTP keys: cleared before it is freed. */
static void wipe(sr_snap_w *w)
{
  if (w->p)
    explicit_bzero(w->p, w->cap);
  sr_snap_w_free(w);
}

void sr_snapshot_emit(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (!snapshotting(h) || s->state > SR_SESSION_CONFIRMED)
    return;
  sr_snap_w body, secrets, out;
  sr_snap_w_init(&body, &h->mem);
  sr_snap_w_init(&secrets, &h->mem);
  sr_snap_w_init(&out, &h->mem);
  int sealing = h->cfg.has_seal_key;
  sr_session_media_resume media[SR_SDP_MAX_STREAMS];
  size_t n_media = sr_media_resume_collect(h, s, media, SR_SDP_MAX_STREAMS);
  int rc = sr_session_snapshot_write(s, now, media, n_media, &body, sealing ? &secrets : NULL);
  if (!rc) {
    sr_snap_envelope env = { s->dialog.call_id, s->dialog.call_id_len, s->id,
                             sr_handler_wallclock(h) };
    rc = sr_snap_write(&env, &body, &secrets, sealing ? h->cfg.seal_key : NULL, &out);
  }
  if (rc) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no snapshot: %s", s->id,
                   siprec_strerror(rc));
  } else {
    s->snap_live = 1;
    SR_CALLBACK(s, h->cbs.snapshot(h->user, s, s->dialog.call_id, s->dialog.call_id_len, out.p,
                                   out.len));
  }
  sr_snap_w_free(&body);
  wipe(&secrets);
  sr_snap_w_free(&out);
}

void sr_session_changed(siprec_handler *h, siprec_session *s, uint64_t now)
{
  sr_timers_schedule(h, s);
  sr_snapshot_emit(h, s, now);
}

void sr_snapshot_drop(siprec_handler *h, siprec_session *s)
{
  if (!snapshotting(h) || !s->snap_live)
    return;
  s->snap_live = 0;
  SR_CALLBACK(s, h->cbs.snapshot(h->user, s, s->dialog.call_id, s->dialog.call_id_len, NULL, 0));
}

