/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler's life cycle, its entry point and dispatch by method. Calls
 * go one way: from here to the method handlers (invite.c, dialog.c,
 * uac_response.c), and from them to the pieces they share (reply.c,
 * body.c, ports.c, end.c, uac.c, timers.c, pending.c, log.c, base.c). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>


#include "../common/alloc.h"
#include "dialog.h"
#include "handler_internal.h"

/* ---------------------------------------------------------------------- */
/* Ports                                                                    */

/* ---------------------------------------------------------------------- */
/* Life cycle                                                               */

static void session_value_free(void *value, void *user)
{
  (void)user;
  siprec_session_unref(value);
}

SIPREC_API int siprec_handler_new(siprec_handler **out, const siprec_handler_config *cfg,
                                  const siprec_handler_callbacks *cbs, void *user,
                                  const siprec_allocator *mem)
{
  if (!out)
    return SIPREC_EINVAL;
  *out = NULL;
  int rc;
  siprec_allocator a;
  siprec_handler *h = sr_object_new(mem, sizeof *h, &a, &rc);
  if (!h)
    return rc;
  h->mem = a;
  h->user = user;
  struct siprec_handler_config defaults;
  memset(&defaults, 0, sizeof defaults);
  sr_handler_config_defaults(&defaults);
  rc = sr_handler_config_copy(&h->cfg, cfg ? cfg : &defaults, &h->mem);
  if (rc < 0) {
    sr_free(&a, h);
    return rc;
  }
  if (cbs)
    h->cbs = *cbs;
  for (size_t i = 0; i < h->cfg.n_codecs; i++)
    h->codec_list[i] = h->cfg.codec_names[i];
  h->codec_list[h->cfg.n_codecs] = NULL;

  h->n_ports = ((size_t)h->cfg.rtp_high - h->cfg.rtp_low + 1) / 2;
  h->port_used = h->cbs.port_alloc ? NULL : sr_calloc(&h->mem, h->n_ports ? h->n_ports : 1, 1);
  siprec_shmap_options *o = NULL;
  rc = siprec_shmap_options_new(&o, &h->mem);
  if (rc == 0)
    rc = siprec_shmap_options_set_shards(o, h->cfg.shards);
  if (rc == 0)
    rc = siprec_shmap_options_set_value_free(o, session_value_free, NULL);
  if (rc == 0)
    rc = siprec_shmap_new(&h->sessions, o, &h->mem);
  if (rc == 0)
    rc = siprec_shmap_new(&h->failover, o, &h->mem);
  siprec_shmap_options_free(o);
  if (rc == 0 && !h->cbs.port_alloc && !h->port_used)
    rc = SIPREC_ENOMEM;
  uint8_t key[16];
  if (rc == 0 && sr_handler_random(h, key, sizeof key) < 0)
    rc = SIPREC_ERANDOM;
  if (rc < 0) {
    siprec_shmap_free(h->failover);
    siprec_shmap_free(h->sessions);
    sr_free(&h->mem, h->port_used);
    sr_handler_config_release(&h->cfg, &h->mem);
    sr_free(&a, h);
    return rc;
  }
  h->pending_key = sr_siphash_key_from_bytes(key);
  pthread_mutex_init(&h->ports_lock, NULL);
  pthread_mutex_init(&h->timers_lock, NULL);
  pthread_mutex_init(&h->pending_lock, NULL);
  pthread_mutex_init(&h->log_lock, NULL);
  pthread_mutex_init(&h->readers.lock, NULL);
  sr_media_timers_init(h);
  sr_pending_init(h);
  *out = h;
  return 0;
}

static int end_for_shutdown(const void *key, size_t len, void *value, void *user)
{
  (void)key;
  (void)len;
  siprec_handler *h = user;
  siprec_session *s = value;
  sr_session_lock(s);
  sr_dialog_end(h, s, SIPREC_END_SHUTDOWN, 1, 0);
  sr_session_unlock(s);
  return 0;
}

SIPREC_API void siprec_handler_free(siprec_handler *h)
{
  if (!h)
    return;
  h->shutting_down = 1; /* BYEs go out once: nobody is left to wait for their answers */
  (void)siprec_shmap_range(h->sessions, end_for_shutdown, h);
  sr_timers_free(h);
  sr_media_ports_free(h);
  sr_media_timers_free(h);
  siprec_shmap_free(h->failover); /* emptied by the ends above; references go */
  siprec_shmap_free(h->sessions);
  sr_pending_free(h);
  pthread_mutex_destroy(&h->ports_lock);
  pthread_mutex_destroy(&h->timers_lock);
  pthread_mutex_destroy(&h->pending_lock);
  pthread_mutex_destroy(&h->log_lock);
  pthread_mutex_destroy(&h->readers.lock);
  sr_free(&h->mem, h->port_used);
  sr_handler_config_release(&h->cfg, &h->mem);
  siprec_allocator a = h->mem;
  sr_free(&a, h);
}

struct session_list {
  siprec_session **out;
  size_t max, n;
};

/* Offered and not ended yet (the map also holds sessions that ended and
 * wait for the last message of their transaction). */
static int session_is_open(siprec_session *s)
{
  sr_session_lock(s);
  int open = s->state == SR_SESSION_PENDING || s->state == SR_SESSION_ANSWERED ||
             s->state == SR_SESSION_CONFIRMED;
  sr_session_unlock(s);
  return open;
}

static int list_open(const void *key, size_t len, void *value, void *user)
{
  (void)key;
  (void)len;
  struct session_list *l = user;
  siprec_session *s = value;
  if (!session_is_open(s))
    return 0;
  if (l->n < l->max) {
    siprec_session_ref(s);
    l->out[l->n] = s;
  }
  l->n++;
  return 0;
}

SIPREC_API size_t siprec_handler_sessions(siprec_handler *h, siprec_session **out, size_t max)
{
  struct session_list l = { out, out ? max : 0, 0 };
  if (h)
    (void)siprec_shmap_range(h->sessions, list_open, &l);
  return l.n;
}

SIPREC_API siprec_session *siprec_handler_find_session(siprec_handler *h, const char *call_id,
                                                       size_t len)
{
  if (!h || (!call_id && len))
    return NULL;
  sr_span id = { call_id, len };
  siprec_session *s = sr_handler_find(h, &id);
  if (s && !session_is_open(s)) {
    siprec_session_unref(s);
    s = NULL;
  }
  return s;
}

struct drain {
  siprec_handler *h;
  uint64_t now;
  siprec_shutdown_mode mode;
};

/* A live session let go: for the next process (its last snapshot out,
 * `emit`), or to the node that took it over; ended here without a BYE,
 * its snapshot left in the store. */
void sr_session_hand_over(siprec_handler *h, siprec_session *s, uint64_t now, int emit)
{
  if (emit)
    sr_snapshot_emit(h, s, now);
  s->state = SR_SESSION_ENDED;
  s->invite_tx.active = 0;
  sr_session_finish(h, s, SIPREC_END_HANDOVER);
  sr_dialog_forget(h, s);
}

static int end_for_drain(const void *key, size_t len, void *value, void *user)
{
  (void)key;
  (void)len;
  struct drain *d = user;
  siprec_session *s = value;
  sr_session_lock(s);
  if (s->state == SR_SESSION_LINGER)
    sr_dialog_forget(d->h, s); /* ended already; its BYE's copies would only delay the end */
  else if (d->mode == SIPREC_SHUTDOWN_HANDOVER &&
           (s->state == SR_SESSION_ANSWERED || s->state == SR_SESSION_CONFIRMED))
    sr_session_hand_over(d->h, s, d->now, 1);
  else
    sr_dialog_end(d->h, s, SIPREC_END_SHUTDOWN, 1, d->now);
  sr_session_unlock(s);
  return 0;
}

SIPREC_API int siprec_handler_shutdown(siprec_handler *h, siprec_shutdown_mode mode,
                                       uint64_t now_ns)
{
  if (!h || (mode != SIPREC_SHUTDOWN_BYE && mode != SIPREC_SHUTDOWN_HANDOVER))
    return SIPREC_EINVAL;
  /* Handing over without snapshots would drop every session unannounced. */
  if (mode == SIPREC_SHUTDOWN_HANDOVER && (!h->cfg.snapshots || !h->cbs.snapshot))
    return SIPREC_EINVAL;
  if (sr_in_callback)
    return SIPREC_EBUSY;
  atomic_store_explicit(&h->draining, 1, memory_order_relaxed);
  struct drain d = { h, now_ns ? now_ns : 1, mode }; /* now 0 would mean "no retransmission" */
  (void)siprec_shmap_range(h->sessions, end_for_drain, &d);
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Dispatch                                                                 */

/* The option tags of Require the SRS does not know, as an Unsupported
 * line (RFC 3261 8.2.2.3: every one of them), or 0 when there is none. */
static int unsupported_require(const sr_sip_msg *m, char *line, size_t size)
{
  sr_strbuf b = sr_strbuf_on(line, size);
  int n = 0;
  for (unsigned i = 0; i < m->n_require; i++) {
    if (sr_span_ieq(m->require[i], "siprec") || sr_span_ieq(m->require[i], "timer"))
      continue;
    sr_strbuf_str(&b, n++ ? ", " : "Unsupported: ");
    sr_strbuf_add(&b, m->require[i].p, m->require[i].n > 64 ? 64 : m->require[i].n);
  }
  if (n)
    sr_strbuf_str(&b, "\r\n");
  return n && !b.overflow;
}

static int dispatch(siprec_handler *h, sr_request_ctx *rq)
{
  const sr_sip_msg *m = rq->msg;
  if (m->method != SR_M_ACK && m->method != SR_M_CANCEL) {
    char extra[1200];
    if (unsupported_require(m, extra, sizeof extra))
      return sr_handler_simple(h, rq, 420, "Bad Extension", extra);
  }
  switch (m->method) {
  case SR_M_INVITE:
    return m->to_tag.n ? sr_dialog_reinvite(h, rq) : sr_invite_new(h, rq);
  case SR_M_UPDATE:
    return sr_dialog_reinvite(h, rq);
  case SR_M_ACK:
    return sr_dialog_ack(h, rq);
  case SR_M_BYE:
    return sr_dialog_bye(h, rq);
  case SR_M_CANCEL:
    return sr_dialog_cancel(h, rq);
  case SR_M_OPTIONS:
    return sr_dialog_options(h, rq);
  case SR_M_UNKNOWN:
    return sr_handler_simple(h, rq, 501, "Not Implemented", NULL);
  default:
    return sr_handler_simple(h, rq, 405, "Method Not Allowed", NULL);
  }
}

static int path_ok(const siprec_path *p)
{
  return p && p->remote && p->local && (unsigned)p->transport <= SIPREC_TRANSPORT_TLS &&
         (p->remote->sa_family == AF_INET || p->remote->sa_family == AF_INET6) &&
         (p->local->sa_family == AF_INET || p->local->sa_family == AF_INET6);
}

/* One message in: the response's length, 0 for none, or a SIPREC_E* code;
 * *wanted set when the output is instead the Call-ID whose state is wanted. */
static int receive(siprec_handler *h, const void *data, size_t len, const siprec_path *path,
                   uint64_t now_ns, void *response, size_t response_size, int absent,
                   int *wanted)
{
  sr_sip_msg msg;
  const char *why;
  int prc = sr_sip_parse(&h->mem, data, len, &msg, &why);
  if (prc == SIPREC_ENOMEM)
    return SIPREC_ENOMEM;
  if (prc == SR_SIP_DROP) {
    sr_handler_log_limited(h, SR_LOG_DROPPED, now_ns, SIPREC_LOG_WARNING,
                           "dropped %zu bytes: %s", len,
                           why && *why ? why : "not an answerable SIP message");
    atomic_fetch_add_explicit(&h->stats.dropped[SIPREC_DROP_UNPARSABLE], 1, memory_order_relaxed);
    return 0;
  }
  sr_request_ctx rq = { &msg, *path, now_ns, len, sr_strbuf_on(response, response_size), absent,
                        0 };
  int rc;
  if (!msg.is_request) {
    rc = prc == SR_SIP_OK ? sr_uac_response(h, &msg, now_ns) : 0;
  } else if (prc == SR_SIP_BAD) {
    rc = msg.method == SR_M_ACK
             ? 0
             : sr_handler_simple(h, &rq, msg.bad_status ? msg.bad_status : 400, why, NULL);
  } else if (len > h->cfg.max_message) {
    rc = msg.method == SR_M_ACK ? 0 : sr_handler_simple(h, &rq, 513, "Message Too Large", NULL);
  } else {
    rc = dispatch(h, &rq);
  }
  sr_sip_msg_free(&msg);
  *wanted = rq.wanted;
  if (rc > 0 && !rq.wanted)
    sr_handler_count_message(h, response, (size_t)rc);
  return rc;
}

static int process(siprec_handler *h, const void *data, size_t len, const siprec_path *path,
                   uint64_t now_ns, void *out, size_t out_size, size_t *out_len, int absent)
{
  if (out_len)
    *out_len = 0;
  if (!h || (!data && len) || !path_ok(path) || !out || out_size == 0 || !out_len)
    return SIPREC_EINVAL;
  int wanted = 0;
  int rc = receive(h, data, len, path, now_ns, out, out_size, absent, &wanted);
  if (rc <= 0)
    return rc;
  *out_len = (size_t)rc;
  return wanted ? SIPREC_PROCESS_STATE_WANTED : SIPREC_PROCESS_RESPONSE;
}

SIPREC_API int siprec_handler_process(siprec_handler *h, const void *data, size_t len,
                                      const siprec_path *path, uint64_t now_ns, void *out,
                                      size_t out_size, size_t *out_len)
{
  return process(h, data, len, path, now_ns, out, out_size, out_len, 0);
}

SIPREC_API int siprec_handler_process_absent(siprec_handler *h, const void *data, size_t len,
                                             const siprec_path *path, uint64_t now_ns, void *out,
                                             size_t out_size, size_t *out_len)
{
  return process(h, data, len, path, now_ns, out, out_size, out_len, 1);
}
