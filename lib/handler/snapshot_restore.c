/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A snapshot taken back into a handler (siprec_handler_restore): the
 * session rebuilt from its records, its ports claimed again, its streams'
 * media set to go on where they were. */
#include <string.h>

#include <siprec/store.h>

#include "../common/alloc.h"
#include "../session/session_snapshot.h"
#include "../store/envelope.h"
#include "dialog.h"
#include "media.h"

/* ---------------------------------------------------------------------- */
/* Restoring                                                                */

/* The ports of the restored streams, claimed again; on failure those
 * claimed go back. */
static int claim_ports(siprec_handler *h, siprec_session *s)
{
  for (size_t i = 0; i < s->n_streams; i++) {
    sr_sdp_stream *st = &s->streams[i];
    if (!st->accepted || !st->port)
      continue;
    if (sr_handler_port_claim(h, s, i, st->port) < 0) {
      for (size_t k = 0; k < i; k++)
        if (s->streams[k].accepted && s->streams[k].port)
          sr_handler_port_free(h, s, k, s->streams[k].port);
      return SIPREC_EAGAIN;
    }
  }
  return 0;
}

/* The session from the snapshot's parts, not yet in the handler. */
static int build(siprec_handler *h, const sr_snap_parsed *p, uint64_t now,
                 siprec_session **out)
{
  uint8_t id_bytes[16] = { 0 }; /* the snapshot's id replaces the one made from these */
  siprec_session *s = sr_session_new(&h->mem, (const char *)p->key.p, p->key.len, id_bytes);
  if (!s)
    return SIPREC_ENOMEM;
  /* Deadlines: offsets from the writer's now, which lies as far back as
   * the wall clock moved since (never in the future: a clock set back
   * counts as no time). */
  uint64_t wall = sr_handler_wallclock(h);
  uint64_t elapsed = wall > p->wall_ns ? wall - p->wall_ns : 0;
  uint64_t base = now > elapsed ? now - elapsed : 0;
  uint8_t *secrets = NULL;
  size_t secrets_len = 0;
  int rc = 0;
  if (p->sealed.p && h->cfg.has_seal_key) {
    secrets = sr_malloc(&h->mem, p->sealed.len ? p->sealed.len : 1);
    if (!secrets)
      rc = SIPREC_ENOMEM;
    else
      rc = sr_snap_unseal(p, h->cfg.seal_key, secrets, &secrets_len);
  } else if (p->sealed.p) {
    sr_handler_log(h, SIPREC_LOG_WARNING, "restoring a snapshot with sealed SRTP keys, but no "
                   "snapshot key is configured: its SRTP streams cannot be decrypted");
  }
  sr_session_media_resume media[SR_SDP_MAX_STREAMS];
  size_t n_media = SR_SDP_MAX_STREAMS;
  if (!rc)
    rc = sr_session_snapshot_read(s, p->body.p, p->body.len, secrets, secrets_len, base,
                                  &h->cfg.md_limits, media, &n_media);
  if (!rc)
    rc = sr_media_resume_keep(h, s, media, n_media);
  if (secrets) {
    explicit_bzero(secrets, p->sealed.len);
    sr_free(&h->mem, secrets);
  }
  /* The key the snapshot is stored under is its dialog's Call-ID. */
  if (!rc && (s->dialog.call_id_len != p->key.len ||
              memcmp(s->dialog.call_id, p->key.p, p->key.len) != 0))
    rc = SIPREC_EPARSE;
  if (rc) {
    siprec_session_unref(s);
    return rc == SIPREC_ENOMEM ? rc : SIPREC_EPARSE;
  }
  *out = s;
  return 0;
}

SIPREC_API int siprec_handler_restore(siprec_handler *h, const void *data, size_t len,
                                      uint64_t now_ns, siprec_session **out)
{
  if (out)
    *out = NULL;
  if (!h || !data)
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  sr_snap_parsed p;
  int rc = sr_snap_read(data, len, &p);
  if (rc)
    return rc;
  sr_span call_id = { (const char *)p.key.p, p.key.len };
  siprec_session *held = sr_handler_find(h, &call_id);
  if (held) {
    siprec_session_unref(held);
    return SIPREC_EEXIST;
  }
  if (h->cfg.max_sessions &&
      atomic_load_explicit(&h->stats.active, memory_order_relaxed) >= h->cfg.max_sessions)
    return SIPREC_EAGAIN;
  siprec_session *s = NULL;
  rc = build(h, &p, now_ns, &s);
  if (rc)
    return rc;
  sr_session_lock(s);
  rc = claim_ports(h, s);
  if (rc) {
    sr_session_unlock(s);
    siprec_session_unref(s);
    return rc;
  }
  void *actual = NULL;
  rc = siprec_shmap_load_or_store(h->sessions, s->dialog.call_id, s->dialog.call_id_len, s,
                                  &actual);
  if (rc != 0) {
    sr_handler_release_ports(h, s, s->streams, s->n_streams);
    sr_session_unlock(s);
    siprec_session_unref(s);
    return rc < 0 ? SIPREC_ENOMEM : SIPREC_EEXIST;
  }
  siprec_session_ref(s); /* the map keeps the first reference; this one is `out`'s */
  atomic_fetch_add_explicit(&h->stats.active, 1, memory_order_relaxed);
  if (sr_media_ports_register(h, s) < 0)
    sr_handler_log(h, SIPREC_LOG_WARNING, "session %s: no memory for its media ports", s->id);
  s->snap_live = 1; /* the store holds it: its end deletes it */
  if (s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED)
    sr_media_watch(h, s, now_ns); /* no media from now on is noticed as at the start */
  sr_timers_schedule(h, s);
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s restored from its snapshot", s->id);
  sr_session_unlock(s);
  sr_failover_take_over(h, s, now_ns); /* its key's latest again (it supersedes nobody twice) */
  if (out)
    *out = s;
  else
    siprec_session_unref(s);
  return 0;
}
