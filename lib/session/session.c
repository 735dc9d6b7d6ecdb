/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sched.h>
#include <string.h>

#include "../common/alloc.h"
#include "../common/hex.h"
#include "../media/srtp.h"
#include "../media/stream.h"
#include "session_internal.h"

siprec_session *sr_session_new(const siprec_allocator *mem, const char *call_id, size_t len,
                               const uint8_t id_bytes[16])
{
  siprec_session *s = sr_calloc(mem, 1, sizeof *s);
  if (!s)
    return NULL;
  s->mem = *mem; /* a copy: a session the host holds may outlive its handler */
  atomic_init(&s->refs, 1);
  atomic_init(&s->last_activity, 0);
  s->heap_index = SIZE_MAX;
  sr_invite_tx_init(&s->invite_tx);
  s->heap_key = UINT64_MAX;
  /* Recursive: accessors lock too, also from inside callbacks that run
   * with the lock held. */
  pthread_mutexattr_t attr;
  int rc = pthread_mutexattr_init(&attr);
  if (rc == 0) {
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    rc = pthread_mutex_init(&s->lock, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  if (rc != 0) {
    sr_free(mem, s);
    return NULL;
  }
  if (sr_session_set_str(s, &s->dialog.call_id, call_id, len) < 0) {
    pthread_mutex_destroy(&s->lock);
    sr_free(mem, s);
    return NULL;
  }
  s->dialog.call_id_len = len;
  sr_hex_encode(id_bytes, 16, s->id);
  return s;
}

int sr_session_set_str(siprec_session *s, char **dst, const char *p, size_t n)
{
  char *c = sr_malloc(&s->mem, n + 1);
  if (!c)
    return SIPREC_ENOMEM;
  if (n)
    memcpy(c, p, n);
  c[n] = '\0';
  sr_free(&s->mem, *dst);
  *dst = c;
  return 0;
}

void sr_session_drop_str(siprec_session *s, char **dst)
{
  sr_free(&s->mem, *dst);
  *dst = NULL;
}

int sr_session_add_header_participant(siprec_session *s, const char *p, size_t n)
{
  if (sr_session_header_participants(s) == SR_SESSION_MAX_HEADER_PARTICIPANTS)
    return 0;
  if (!s->cisco && !(s->cisco = sr_calloc(&s->mem, 1, sizeof *s->cisco)))
    return SIPREC_ENOMEM;
  sr_header_parties *h = s->cisco;
  h->value[h->n] = NULL;
  if (sr_session_set_str(s, &h->value[h->n], p, n) < 0)
    return SIPREC_ENOMEM;
  h->len[h->n++] = n;
  return 0;
}

int sr_session_set_streams(siprec_session *s, const sr_sdp_stream *streams, size_t n)
{
  sr_sdp_stream *copy = NULL;
  uint8_t *changes = NULL;
  if (n) {
    copy = sr_malloc(&s->mem, n * sizeof *copy);
    changes = sr_calloc(&s->mem, n, 1);
    if (!copy || !changes) {
      sr_free(&s->mem, copy);
      sr_free(&s->mem, changes);
      return SIPREC_ENOMEM;
    }
    memcpy(copy, streams, n * sizeof *copy);
  }
  sr_free(&s->mem, s->retired_streams);
  sr_free(&s->mem, s->retired_changes);
  s->retired_streams = s->streams;
  s->retired_changes = s->stream_changes;
  s->streams = copy;
  s->stream_changes = changes;
  s->n_streams = n;
  return 0;
}

void sr_session_shed(siprec_session *s, unsigned handler_refs)
{
  if (atomic_load_explicit(&s->refs, memory_order_acquire) != handler_refs)
    return;
  sr_session_flush_retired(s);
  sr_free(&s->mem, s->streams);
  sr_free(&s->mem, s->stream_changes);
  s->streams = NULL;
  s->stream_changes = NULL;
  s->n_streams = 0;
  siprec_metadata_unref(s->model);
  siprec_metadata_changes_free(s->md_changes);
  sr_session_md_chain_clear(s);
  s->model = NULL;
  s->md_changes = NULL;
  char **strs[] = { &s->last_answer,        &s->dialog.route_set, &s->dialog.remote_target,
                    &s->dialog.remote_from, &s->dialog.local_to,  &s->invite_tx.echo,
                    &s->uac_tx.request };
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    sr_session_drop_str(s, strs[i]);
  s->last_answer_len = 0;
  sr_ack_tx_release(&s->ack_tx, &s->mem);
}

void sr_session_flush_retired(siprec_session *s)
{
  sr_free(&s->mem, s->retired_streams);
  sr_free(&s->mem, s->retired_changes);
  siprec_metadata_unref(s->retired_model);
  siprec_metadata_changes_free(s->retired_md_changes);
  s->retired_streams = NULL;
  s->retired_changes = NULL;
  s->retired_model = NULL;
  s->retired_md_changes = NULL;
}

static void session_destroy(siprec_session *s)
{
  siprec_allocator a = s->mem, *mem = &a;
  sr_dialog_release(&s->dialog, mem);
  sr_invite_tx_release(&s->invite_tx, mem);
  sr_request_tx_release(&s->bye_tx, mem);
  sr_client_tx_release(&s->uac_tx, mem);
  sr_ack_tx_release(&s->ack_tx, mem);
  char **strs[] = { &s->last_answer, &s->bib_key, &s->bib_refci, &s->bib_farend_refci,
                    &s->cs_key, &s->continues };
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
    sr_free(mem, *strs[i]);
  sr_free(mem, s->streams);
  sr_free(mem, s->stream_changes);
  for (size_t i = 0; i < SR_SDP_MAX_STREAMS; i++) {
    sr_session_media *m = atomic_load_explicit(&s->media[i], memory_order_acquire);
    if (!m)
      continue;
    sr_media_stream_free(m->ms);
    sr_srtp_free(m->srtp_ctx);
    sr_free(mem, m->resume);
    siprec_metadata_unref(m->model);
    pthread_mutex_destroy(&m->lock);
    sr_free(mem, m);
  }
  sr_session_flush_retired(s);
  siprec_metadata_unref(s->model);
  siprec_metadata_changes_free(s->md_changes);
  sr_session_md_chain_clear(s);
  for (size_t i = 0; i < sr_session_header_participants(s); i++)
    sr_free(mem, s->cisco->value[i]);
  sr_free(mem, s->cisco);
  pthread_mutex_destroy(&s->lock);
  sr_free(mem, s);
}

SIPREC_API void siprec_session_ref(siprec_session *s)
{
  if (s)
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

SIPREC_API void siprec_session_unref(siprec_session *s)
{
  if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
    session_destroy(s);
}

SIPREC_API const char *siprec_end_reason_name(siprec_end_reason reason)
{
  switch (reason) {
  case SIPREC_END_BYE: return "bye";
  case SIPREC_END_CANCEL: return "cancel";
  case SIPREC_END_ACK_TIMEOUT: return "ack-timeout";
  case SIPREC_END_SESSION_TIMER: return "session-timer";
  case SIPREC_END_IDLE: return "idle";
  case SIPREC_END_HOST: return "host";
  case SIPREC_END_SHUTDOWN: return "shutdown";
  case SIPREC_END_REFUSED: return "refused";
  case SIPREC_END_NO_MEDIA: return "no-media";
  case SIPREC_END_KEEPALIVE: return "keepalive";
  case SIPREC_END_OVERLOAD: return "overload";
  case SIPREC_END_HANDOVER: return "handover";
  case SIPREC_END_SUPERSEDED: return "superseded";
  default: return "unknown";
  }
}

SIPREC_API const char *siprec_session_call_id(const siprec_session *s, size_t *len)
{
  if (!s) {
    if (len)
      *len = 0;
    return NULL;
  }
  if (len)
    *len = s->dialog.call_id_len;
  return s->dialog.call_id;
}

SIPREC_API const char *siprec_session_id(const siprec_session *s)
{
  return s ? s->id : NULL;
}

SIPREC_API int siprec_session_is_siprec(const siprec_session *s)
{
  return s ? s->is_siprec : 0;
}

/* Accessors read under the session's (recursive) lock, so a host thread
 * never sees an update half made. */
_Thread_local const siprec_session *sr_media_holder;
_Thread_local size_t sr_media_holder_index;
static _Thread_local unsigned unlocked_reads;

static void read_lock(const siprec_session *s)
{
  if (sr_media_holder != s) {
    pthread_mutex_lock((pthread_mutex_t *)&s->lock);
    return;
  }
  /* Inside a media callback of `s` (session_internal.h: sr_media_holder). */
  for (;;) {
    if (pthread_mutex_trylock((pthread_mutex_t *)&s->lock) == 0)
      return;
    if ((size_t)atomic_load(&((siprec_session *)s)->media_waiting) == sr_media_holder_index + 1) {
      unlocked_reads++;
      return;
    }
    sched_yield();
  }
}

static void read_unlock(const siprec_session *s)
{
  if (sr_media_holder == s && unlocked_reads) {
    unlocked_reads--;
    return;
  }
  pthread_mutex_unlock((pthread_mutex_t *)&s->lock);
}

SIPREC_API size_t siprec_session_stream_count(const siprec_session *s)
{
  if (!s)
    return 0;
  read_lock(s);
  size_t n = s->n_streams;
  read_unlock(s);
  return n;
}

/* The public view of one stream, filled completely (the caller copies
 * what fits its version of the struct). */
static void stream_info(const siprec_session *s, size_t index, siprec_stream_info *o)
{
  const sr_sdp_stream *st = &s->streams[index];
  int on = st->accepted;
  o->media = st->media;
  o->label = st->has_label ? st->label : NULL;
  o->direction = on && st->answer_dir == SR_SDP_RECVONLY && !st->paused ? SIPREC_DIR_RECVONLY
                                                                        : SIPREC_DIR_INACTIVE;
  o->port = on ? st->port : 0;
  o->rtcp_mux = on && st->rtcp_mux;
  o->rtcp_port = !on || !st->port ? 0 : st->rtcp_mux ? st->port : (uint16_t)(st->port + 1);
  o->codec = on && st->codec[0] ? st->codec : NULL;
  o->payload_type = on ? st->pt : -1;
  o->clock_rate = on ? st->clock_rate : 0;
  o->channels = on ? (st->channels ? st->channels : 1) : 0;
  o->telephone_event_pt = on ? st->te_pt : -1;
  o->ptime_ms = st->ptime;
  o->srtp_suite = on && st->srtp && st->crypto_suite[0] ? st->crypto_suite : NULL;
  o->remote_address = st->remote_addr;
  o->remote_port = st->remote_port;
  o->remote_rtcp_port = st->remote_rtcp_port ? st->remote_rtcp_port
                        : !st->remote_port   ? 0
                        : st->rtcp_mux       ? st->remote_port
                                             : (uint16_t)(st->remote_port + 1);
  o->changes = s->stream_changes ? s->stream_changes[index] : 0;
}

SIPREC_API int siprec_session_stream(const siprec_session *s, size_t index,
                                     siprec_stream_info *info)
{
  /* This is the struct's first version: nothing smaller is valid. Later
   * versions keep accepting this size and fill only its fields. */
  if (!s || !info || info->size < sizeof(siprec_stream_info))
    return SIPREC_EINVAL;
  read_lock(s);
  if (index >= s->n_streams) {
    read_unlock(s);
    return SIPREC_EINVAL;
  }
  siprec_stream_info full;
  memset(&full, 0, sizeof full);
  stream_info(s, index, &full);
  read_unlock(s);
  size_t size = info->size;
  memcpy(info, &full, sizeof full); /* info->size >= sizeof full, checked above */
  info->size = size;
  return 0;
}

SIPREC_API const char *siprec_session_metadata_xml(const siprec_session *s, size_t *len)
{
  if (!s) {
    if (len)
      *len = 0;
    return NULL;
  }
  read_lock(s);
  const char *m = siprec_metadata_raw(s->model, len);
  read_unlock(s);
  return m;
}

SIPREC_API siprec_metadata *siprec_session_metadata(const siprec_session *s)
{
  if (!s)
    return NULL;
  read_lock(s);
  siprec_metadata *m = siprec_metadata_ref(s->model);
  read_unlock(s);
  return m;
}

SIPREC_API const siprec_metadata_changes *siprec_session_metadata_changes(const siprec_session *s)
{
  if (!s)
    return NULL;
  read_lock(s);
  const siprec_metadata_changes *c = s->changes & SIPREC_CHANGE_METADATA ? s->md_changes : NULL;
  read_unlock(s);
  return c;
}

SIPREC_API siprec_bib_leg siprec_session_bib_leg(const siprec_session *s, const char **pairing_key,
                                                 const char **refci, const char **farend_refci)
{
  if (!s || s->bib_leg == SIPREC_BIB_NONE)
    return SIPREC_BIB_NONE;
  /* Set once when the session is made, before any host sees it. */
  if (pairing_key)
    *pairing_key = s->bib_key;
  if (refci)
    *refci = s->bib_refci;
  if (farend_refci)
    *farend_refci = s->bib_farend_refci;
  return s->bib_leg;
}

SIPREC_API const char *siprec_session_continues(const siprec_session *s)
{
  /* Set once, before the offered callback, before any host sees it. */
  return s ? s->continues : NULL;
}

SIPREC_API size_t siprec_session_header_participant(const siprec_session *s, size_t index,
                                                    const char **value, size_t *len)
{
  if (!s)
    return 0;
  size_t n = sr_session_header_participants(s);
  if (index < n) {
    if (value)
      *value = s->cisco->value[index];
    if (len)
      *len = s->cisco->len[index];
  }
  return n;
}

SIPREC_API unsigned siprec_session_changes(const siprec_session *s)
{
  if (!s)
    return 0;
  read_lock(s);
  unsigned c = s->changes;
  read_unlock(s);
  return c;
}

SIPREC_API int siprec_session_is_pending(const siprec_session *s)
{
  if (!s)
    return 0;
  read_lock(s);
  int pending = s->state == SR_SESSION_PENDING;
  read_unlock(s);
  return pending;
}

SIPREC_API uint32_t siprec_session_timer(const siprec_session *s, int *srs_refreshes)
{
  if (!s) {
    if (srs_refreshes)
      *srs_refreshes = 0;
    return 0;
  }
  read_lock(s);
  uint32_t se = s->timer.se_s;
  if (srs_refreshes)
    *srs_refreshes = s->timer.srs_refresher;
  read_unlock(s);
  return se;
}

SIPREC_API void *siprec_session_user(const siprec_session *s)
{
  return s ? s->user : NULL;
}

SIPREC_API void siprec_session_set_user(siprec_session *s, void *user)
{
  if (s)
    s->user = user;
}
