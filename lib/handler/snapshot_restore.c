/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A snapshot taken back into a handler (siprec_handler_restore): the
 * session rebuilt from its records, its ports claimed again, its streams'
 * media set to go on where they were. Or taken over from another node
 * (siprec_handler_take_over): new ports and this node's address, and a
 * re-INVITE moves the SRC here; siprec_handler_reoffer sends that same
 * re-INVITE for a session the handler holds. */
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

/* Taken over from another node: every accepted stream a new port of this
 * handler (the old ones are the other node's); on failure those taken go
 * back and the streams keep the snapshot's. */
static int new_ports(siprec_handler *h, siprec_session *s)
{
  uint16_t got[SR_SDP_MAX_STREAMS] = { 0 };
  for (size_t i = 0; i < s->n_streams && i < SR_SDP_MAX_STREAMS; i++) {
    if (!s->streams[i].accepted || !s->streams[i].port)
      continue;
    if (sr_handler_port_alloc(h, s, i, &got[i]) < 0 || !got[i]) {
      for (size_t k = 0; k < i; k++)
        if (got[k])
          sr_handler_port_free(h, s, k, got[k]);
      return SIPREC_EAGAIN;
    }
  }
  for (size_t i = 0; i < s->n_streams && i < SR_SDP_MAX_STREAMS; i++)
    if (got[i])
      s->streams[i].port = got[i];
  return 0;
}

/* The dialog's local address becomes this node's. */
static int move_here(siprec_session *s, const struct sockaddr *local)
{
  if (local->sa_family == AF_INET)
    memcpy(&s->dialog.local.in, local, sizeof s->dialog.local.in);
  else if (local->sa_family == AF_INET6)
    memcpy(&s->dialog.local.in6, local, sizeof s->dialog.local.in6);
  else
    return SIPREC_EINVAL;
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

/* Restore (local NULL), or take over onto `local`. */
static int restore(siprec_handler *h, const void *data, size_t len, const struct sockaddr *local,
                   uint64_t now_ns, siprec_session **out)
{
  if (out)
    *out = NULL;
  if (!h || !data)
    return SIPREC_EINVAL;
  if (local && local->sa_family != AF_INET && local->sa_family != AF_INET6)
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
  rc = local ? move_here(s, local) : 0;
  if (!rc)
    rc = local ? new_ports(h, s) : claim_ports(h, s);
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
  if (local && (s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED)) {
    /* The SRC still sends to the other node: our offer moves it here, at
     * once when nothing is in the way, else as soon as that is over (the
     * SRS's re-INVITE timer: after an open INVITE transaction, after the
     * ACK of a 2xx that waits for it). */
    s->reoffer_at = now_ns ? now_ns : 1;
    if (s->state == SR_SESSION_CONFIRMED && !s->invite_tx.active &&
        s->uac_tx.purpose == SR_UAC_NONE && sr_uac_start(h, s, SR_UAC_REOFFER, now_ns) == 0)
      s->reoffer_at = 0;
    sr_session_changed(h, s, now_ns); /* the new ports and state to the store at once */
  }
  sr_timers_schedule(h, s);
  sr_handler_log(h, SIPREC_LOG_INFO, "session %s %s", s->id,
                 local ? "taken over from another node" : "restored from its snapshot");
  sr_session_unlock(s);
  sr_failover_take_over(h, s, now_ns); /* its key's latest again (it supersedes nobody twice) */
  if (out)
    *out = s;
  else
    siprec_session_unref(s);
  return 0;
}

SIPREC_API int siprec_handler_restore(siprec_handler *h, const void *data, size_t len,
                                      uint64_t now_ns, siprec_session **out)
{
  return restore(h, data, len, NULL, now_ns, out);
}

SIPREC_API int siprec_handler_take_over(siprec_handler *h, const void *data, size_t len,
                                        const struct sockaddr *local, uint64_t now_ns,
                                        siprec_session **out)
{
  if (!local) {
    if (out)
      *out = NULL;
    return SIPREC_EINVAL;
  }
  return restore(h, data, len, local, now_ns, out);
}

SIPREC_API int siprec_handler_reoffer(siprec_handler *h, siprec_session *s, uint64_t now_ns)
{
  if (!h || !s)
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  sr_session_lock(s);
  int rc;
  if (s->state != SR_SESSION_CONFIRMED)
    rc = s->state == SR_SESSION_ANSWERED ? SIPREC_EAGAIN : SIPREC_ENOTFOUND;
  else if (s->invite_tx.active || s->uac_tx.purpose != SR_UAC_NONE)
    rc = SIPREC_EAGAIN; /* RFC 3261 14.1: one INVITE transaction at a time */
  else
    rc = sr_uac_start(h, s, SR_UAC_REOFFER, now_ns);
  if (rc == 0)
    s->reoffer_at = 0;
  if (s->state != SR_SESSION_ENDED)
    sr_session_changed(h, s, now_ns);
  sr_session_unlock(s);
  return rc;
}
