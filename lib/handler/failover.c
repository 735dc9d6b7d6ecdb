/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An SRC that fails over on its own (an SBC pair, a restarted SRC) sends a
 * new INVITE, with a new Call-ID, for the communication session it was
 * recording: the same metadata session id (RFC 7865 <session session_id>)
 * or, without metadata, the same Session-ID (RFC 7989). When the recording
 * session that had that communication session has gone silent, the new
 * one continues it (siprec_session_continues()) and the old one ends as
 * SIPREC_END_SUPERSEDED once the new one is answered.
 *
 * Not a failover: several live recording sessions of one call (RFC 7866
 * allows them), which the silence rule tells apart (the other one still
 * has media), and Cisco's built-in-bridge legs, which are never matched.
 *
 * The index from a communication session's key to its latest recording
 * session is a map of its own, so that a new INVITE costs one lookup. */
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "dialog.h"

/* The communication session's key of a new session (its lock held): "m:"
 * and the metadata's first session id, else "s:" and the Session-ID
 * header's UUID (its parameters left out). 0 with it set, or none. */
int sr_failover_key(siprec_handler *h, siprec_session *s, const sr_sip_msg *m)
{
  if (!h->cfg.failover_silence_ms || s->bib_leg != SIPREC_BIB_NONE)
    return 0;
  const char *id = NULL;
  if (s->model && siprec_metadata_session_count(s->model) > 0)
    (void)siprec_metadata_session(s->model, 0, &id, NULL, NULL, NULL);
  char key[300];
  int n = 0;
  if (id && *id) {
    n = snprintf(key, sizeof key, "m:%.256s", id);
  } else if (m->session_id.n) {
    size_t k = 0;
    while (k < m->session_id.n && k < 256 && m->session_id.p[k] != ';' &&
           m->session_id.p[k] != ' ' && m->session_id.p[k] != '\t')
      k++;
    /* RFC 7989's null UUID says nothing about the session. */
    if (k && strspn(m->session_id.p, "0") < k)
      n = snprintf(key, sizeof key, "s:%.*s", (int)k, m->session_id.p);
  }
  if (n <= 0)
    return 0;
  return sr_session_set_str(s, &s->cs_key, key, (size_t)n);
}

static int take_ref(const void *key, size_t len, void *value, void *user)
{
  (void)key;
  (void)len;
  siprec_session_ref(value);
  *(siprec_session **)user = value;
  return 1;
}

static siprec_session *latest(siprec_handler *h, const char *key)
{
  siprec_session *s = NULL;
  if (siprec_shmap_inspect(h->failover, key, strlen(key), take_ref, &s) != 1)
    return NULL;
  return s;
}

/* `old` (its lock held) is live, another dialog, had media and has had
 * none for the silence limit. */
static int gone_silent(siprec_handler *h, siprec_session *old, uint64_t now)
{
  if (old->state != SR_SESSION_CONFIRMED && old->state != SR_SESSION_ANSWERED)
    return 0;
  uint64_t last = 0;
  for (size_t i = 0; i < SR_SDP_MAX_STREAMS; i++) {
    sr_session_media *m = atomic_load_explicit(&old->media[i], memory_order_acquire);
    if (!m)
      continue;
    pthread_mutex_lock(&m->lock);
    if (m->last_packet_ns > last)
      last = m->last_packet_ns;
    pthread_mutex_unlock(&m->lock);
  }
  return last && now > last && now - last >= sr_ms(h->cfg.failover_silence_ms);
}

void sr_failover_match(siprec_handler *h, siprec_session *s, uint64_t now)
{
  if (!s->cs_key)
    return;
  siprec_session *old = latest(h, s->cs_key);
  if (!old)
    return;
  /* `s` is not in any map yet: no other thread can hold its lock, so
   * holding both cannot deadlock. */
  sr_session_lock(old);
  int same_dialog = old->dialog.call_id_len == s->dialog.call_id_len &&
                    memcmp(old->dialog.call_id, s->dialog.call_id, s->dialog.call_id_len) == 0;
  if (!same_dialog && gone_silent(h, old, now) &&
      sr_session_set_str(s, &s->continues, old->id, strlen(old->id)) == 0)
    sr_handler_log(h, SIPREC_LOG_INFO, "session %s continues session %s (its SRC failed over)",
                   s->id, old->id);
  sr_session_unlock(old);
  siprec_session_unref(old);
}

void sr_failover_take_over(siprec_handler *h, siprec_session *s, uint64_t now)
{
  char key[300], continues[33] = "";
  sr_session_lock(s);
  int live = s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED;
  if (!s->cs_key || !live) {
    sr_session_unlock(s);
    return;
  }
  snprintf(key, sizeof key, "%s", s->cs_key);
  if (s->continues)
    snprintf(continues, sizeof continues, "%s", s->continues);
  sr_session_unlock(s);
  if (continues[0]) {
    siprec_session *old = latest(h, key);
    if (old && strcmp(old->id, continues) == 0) {
      sr_session_lock(old);
      /* Still silent: a BYE (its SRC may answer 481: it is another box now). */
      if (gone_silent(h, old, now))
        sr_dialog_end(h, old, SIPREC_END_SUPERSEDED, 1, now);
      sr_session_unlock(old);
    }
    siprec_session_unref(old);
  }
  siprec_session_ref(s); /* the index's */
  if (siprec_shmap_store(h->failover, key, strlen(key), s) < 0)
    siprec_session_unref(s); /* not indexed: a later failover of it goes unnoticed */
}
