/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A session writes and reads its own snapshot records (lib/store knows only
 * the bytes): the dialog, its transactions, the session timer, the SDP
 * answer's streams, the metadata documents, the header participants, and
 * the media's resume points. SRTP keys go in the secrets, which the store
 * seals.
 *
 * Times: the host's monotonic clock means nothing in another process or on
 * another machine, so every deadline is written as an offset from the
 * writer's `now` (sr_snap_put_time), and read back against a base the
 * handler computes (the reader's now minus the wall-clock time that passed
 * since the writing).
 *
 * Tags are forever: a field that goes away leaves its tag unused, a new
 * field takes a new tag, so every snapshot ever written stays readable. */
#include <string.h>

#include "../common/alloc.h"
#include "../store/snap.h"
#include "session_internal.h"
#include "session_snapshot.h"

/* Body records. */
enum {
  T_ID = 1, T_IS_SIPREC, T_STATE, T_AWAITING_ANSWER, T_DIALOG, T_INVITE_TX, T_UAC_TX, T_TIMER,
  T_PING_AT, T_LAST_ACTIVITY, T_STREAM, T_LAST_ANSWER, T_SDP_SESSION_ID, T_SDP_VERSION,
  T_MD_DOC, T_HEADER_PARTY, T_BIB_LEG, T_BIB_KEY, T_BIB_REFCI, T_BIB_FAREND_REFCI, T_MEDIA,
  T_CS_KEY, T_CONTINUES, T_ACK_TX, T_REOFFER_AT,
};
/* Dialog records. */
enum {
  D_CALL_ID = 1, D_LOCAL_TAG, D_REMOTE_TAG, D_REMOTE_TARGET, D_ROUTE_SET, D_REMOTE_FROM,
  D_LOCAL_TO, D_REMOTE_CSEQ, D_LOCAL_CSEQ, D_TRANSPORT, D_REMOTE, D_LOCAL, D_CONN_ID,
};
/* Transaction records (the INVITE server one and the SRS's client one). */
enum {
  X_BRANCH = 1, X_CSEQ, X_SETTLED_CSEQ, X_ECHO, X_MESSAGE, X_ACTIVE, X_CANCELLED, X_RETX_AT,
  X_INTERVAL, X_DEADLINE, X_BUDGET, X_PURPOSE, X_INVITE,
};
/* Session timer records. */
enum { ST_SE = 1, ST_SRS_REFRESHER, ST_EXPIRE_AT, ST_REFRESH_AT };
/* Stream records (an sr_sdp_stream). */
enum {
  S_MEDIA = 1, S_LABEL, S_HAS_LABEL, S_ACCEPTED, S_PORT, S_PAUSED, S_OFFER_DIR, S_ANSWER_DIR,
  S_CODEC, S_PT, S_TE_PT, S_CLOCK, S_TE_CLOCK, S_CHANNELS, S_SRTP, S_RTCP_MUX, S_REMOTE_ADDR,
  S_REMOTE_PORT, S_REMOTE_RTCP_PORT, S_PTIME, S_CRYPTO_TAG, S_CRYPTO_SUITE, S_ALT,
};
/* One alternative codec of a stream. */
enum { A_CLOCK = 1, A_CODEC, A_PT, A_CHANNELS };
/* Secrets: per stream, its keys. */
enum { K_STREAM = 1 };
enum { KS_INDEX = 1, KS_REMOTE_KEY, KS_LOCAL_KEY };

/* ---------------------------------------------------------------------- */
/* Writing                                                                  */

static void put_addr(sr_snap_w *w, unsigned tag, const sr_sockaddr *a)
{
  /* family (4 or 6), port (big-endian), address bytes */
  uint8_t b[1 + 2 + 16];
  size_t n;
  if (a->ss_family == AF_INET) {
    b[0] = 4;
    memcpy(b + 1, &a->in.sin_port, 2);
    memcpy(b + 3, &a->in.sin_addr, 4);
    n = 7;
  } else if (a->ss_family == AF_INET6) {
    b[0] = 6;
    memcpy(b + 1, &a->in6.sin6_port, 2);
    memcpy(b + 3, &a->in6.sin6_addr, 16);
    n = 19;
  } else {
    return;
  }
  sr_snap_put_bytes(w, tag, b, n);
}

static void put_dialog(sr_snap_w *w, const sr_dialog *d)
{
  sr_snap_put_bytes(w, D_CALL_ID, d->call_id, d->call_id_len);
  sr_snap_put_str(w, D_LOCAL_TAG, d->local_tag);
  sr_snap_put_str(w, D_REMOTE_TAG, d->remote_tag);
  sr_snap_put_str(w, D_REMOTE_TARGET, d->remote_target);
  sr_snap_put_str(w, D_ROUTE_SET, d->route_set);
  sr_snap_put_str(w, D_REMOTE_FROM, d->remote_from);
  sr_snap_put_str(w, D_LOCAL_TO, d->local_to);
  sr_snap_put_u64(w, D_REMOTE_CSEQ, d->remote_cseq);
  sr_snap_put_u64(w, D_LOCAL_CSEQ, d->local_cseq);
  sr_snap_put_u64(w, D_TRANSPORT, (uint64_t)d->transport);
  put_addr(w, D_REMOTE, &d->remote);
  put_addr(w, D_LOCAL, &d->local);
  sr_snap_put_u64(w, D_CONN_ID, d->conn_id);
}

static void put_invite_tx(sr_snap_w *w, const sr_invite_tx *t, uint64_t now)
{
  sr_snap_put_str(w, X_BRANCH, t->branch);
  sr_snap_put_u64(w, X_CSEQ, t->cseq);
  sr_snap_put_u64(w, X_SETTLED_CSEQ, t->settled_cseq);
  sr_snap_put_str(w, X_ECHO, t->echo);
  if (t->response)
    sr_snap_put_bytes(w, X_MESSAGE, t->response, t->response_len);
  sr_snap_put_i64(w, X_ACTIVE, (int64_t)t->active);
  sr_snap_put_i64(w, X_CANCELLED, (int64_t)t->cancelled);
  sr_snap_put_time(w, X_RETX_AT, t->retx_at, now);
  sr_snap_put_u64(w, X_INTERVAL, t->interval);
  sr_snap_put_time(w, X_DEADLINE, t->deadline, now);
  sr_snap_put_u64(w, X_BUDGET, t->budget == SIZE_MAX ? UINT64_MAX : (uint64_t)t->budget);
}

static void put_client_tx(sr_snap_w *w, const sr_client_tx *t, uint64_t now)
{
  if (!t->purpose)
    return;
  sr_snap_put_i64(w, X_PURPOSE, (int64_t)t->purpose);
  if (t->invite)
    sr_snap_put_i64(w, X_INVITE, 1);
  if (t->request)
    sr_snap_put_bytes(w, X_MESSAGE, t->request, t->request_len);
  sr_snap_put_u64(w, X_CSEQ, t->cseq);
  sr_snap_put_str(w, X_BRANCH, t->branch);
  sr_snap_put_time(w, X_RETX_AT, t->retx_at, now);
  sr_snap_put_u64(w, X_INTERVAL, t->interval);
  sr_snap_put_time(w, X_DEADLINE, t->deadline, now);
}

/* The kept ACK of the SRS's re-INVITE (a transaction record of its own). */
static void put_ack_tx(sr_snap_w *w, const sr_ack_tx *t, uint64_t now)
{
  sr_snap_put_bytes(w, X_MESSAGE, t->ack, t->ack_len);
  sr_snap_put_u64(w, X_CSEQ, t->cseq);
  sr_snap_put_str(w, X_BRANCH, t->branch);
  sr_snap_put_time(w, X_DEADLINE, t->deadline, now);
}

static void put_timer(sr_snap_w *w, const sr_session_timer *t, uint64_t now)
{
  sr_snap_put_u64(w, ST_SE, t->se_s);
  sr_snap_put_i64(w, ST_SRS_REFRESHER, (int64_t)t->srs_refresher);
  sr_snap_put_time(w, ST_EXPIRE_AT, t->expire_at, now);
  sr_snap_put_time(w, ST_REFRESH_AT, t->refresh_at, now);
}

static void put_stream(sr_snap_w *w, const sr_sdp_stream *st)
{
  sr_snap_put_str(w, S_MEDIA, st->media);
  sr_snap_put_str(w, S_LABEL, st->label);
  sr_snap_put_u64(w, S_HAS_LABEL, st->has_label);
  sr_snap_put_u64(w, S_ACCEPTED, st->accepted);
  sr_snap_put_u64(w, S_PORT, st->port);
  sr_snap_put_u64(w, S_PAUSED, st->paused);
  sr_snap_put_i64(w, S_OFFER_DIR, (int64_t)st->offer_dir);
  sr_snap_put_i64(w, S_ANSWER_DIR, (int64_t)st->answer_dir);
  sr_snap_put_str(w, S_CODEC, st->codec);
  sr_snap_put_i64(w, S_PT, st->pt);
  sr_snap_put_i64(w, S_TE_PT, st->te_pt);
  sr_snap_put_u64(w, S_CLOCK, st->clock_rate);
  sr_snap_put_u64(w, S_TE_CLOCK, st->te_clock);
  sr_snap_put_u64(w, S_CHANNELS, st->channels);
  sr_snap_put_u64(w, S_SRTP, st->srtp);
  sr_snap_put_u64(w, S_RTCP_MUX, st->rtcp_mux);
  sr_snap_put_str(w, S_REMOTE_ADDR, st->remote_addr);
  sr_snap_put_u64(w, S_REMOTE_PORT, st->remote_port);
  sr_snap_put_u64(w, S_REMOTE_RTCP_PORT, st->remote_rtcp_port);
  sr_snap_put_u64(w, S_PTIME, st->ptime);
  sr_snap_put_i64(w, S_CRYPTO_TAG, st->crypto_tag);
  sr_snap_put_str(w, S_CRYPTO_SUITE, st->crypto_suite);
  for (unsigned i = 0; i < st->n_alt && i < SR_SDP_ALT_MAX; i++) {
    sr_snap_w a;
    sr_snap_w_init(&a, &w->mem);
    sr_snap_put_u64(&a, A_CLOCK, st->alt[i].clock_rate);
    sr_snap_put_u64(&a, A_CODEC, st->alt[i].codec);
    sr_snap_put_u64(&a, A_PT, st->alt[i].pt);
    sr_snap_put_u64(&a, A_CHANNELS, st->alt[i].channels);
    sr_snap_put_sub(w, S_ALT, &a);
    sr_snap_w_free(&a);
  }
}

/* A record list written by `fn` as one nested record of w. */
#define PUT_SUB(w, tag, fn, ...)                                                                   \
  do {                                                                                             \
    sr_snap_w sub_;                                                                                \
    sr_snap_w_init(&sub_, &(w)->mem);                                                              \
    fn(&sub_, __VA_ARGS__);                                                                        \
    sr_snap_put_sub((w), (tag), &sub_);                                                            \
    sr_snap_w_free(&sub_);                                                                         \
  } while (0)

static void put_keys(sr_snap_w *w, size_t index, const sr_sdp_stream *st)
{
  sr_snap_put_u64(w, KS_INDEX, index);
  sr_snap_put_str(w, KS_REMOTE_KEY, st->remote_key);
  sr_snap_put_str(w, KS_LOCAL_KEY, st->local_key);
}

static void put_md_docs(sr_snap_w *w, const siprec_session *s)
{
  if (s->md_chain) {
    for (size_t i = 0; i < s->md_chain->n; i++)
      sr_snap_put_bytes(w, T_MD_DOC, s->md_chain->doc[i], s->md_chain->len[i]);
    return;
  }
  /* One complete document made the model (the usual case): its own raw. */
  if (!s->model || siprec_metadata_get_status(s->model) == SIPREC_METADATA_HEADERS)
    return;
  size_t n = 0;
  const char *raw = siprec_metadata_raw(s->model, &n);
  if (raw)
    sr_snap_put_bytes(w, T_MD_DOC, raw, n);
}

int sr_session_snapshot_write(const siprec_session *s, uint64_t now,
                              const sr_session_media_resume *media, size_t n_media,
                              sr_snap_w *body, sr_snap_w *secrets)
{
  sr_snap_put_str(body, T_ID, s->id);
  sr_snap_put_i64(body, T_IS_SIPREC, (int64_t)s->is_siprec);
  sr_snap_put_i64(body, T_STATE, (int64_t)s->state);
  sr_snap_put_i64(body, T_AWAITING_ANSWER, (int64_t)s->awaiting_answer);
  PUT_SUB(body, T_DIALOG, put_dialog, &s->dialog);
  PUT_SUB(body, T_INVITE_TX, put_invite_tx, &s->invite_tx, now);
  if (s->uac_tx.purpose)
    PUT_SUB(body, T_UAC_TX, put_client_tx, &s->uac_tx, now);
  if (s->ack_tx.ack)
    PUT_SUB(body, T_ACK_TX, put_ack_tx, &s->ack_tx, now);
  sr_snap_put_time(body, T_REOFFER_AT, s->reoffer_at, now);
  PUT_SUB(body, T_TIMER, put_timer, &s->timer, now);
  sr_snap_put_time(body, T_PING_AT, s->ping_at, now);
  sr_snap_put_time(body, T_LAST_ACTIVITY, atomic_load_explicit(&((siprec_session *)s)->last_activity,
                                                       memory_order_relaxed), now);
  for (size_t i = 0; i < s->n_streams; i++) {
    PUT_SUB(body, T_STREAM, put_stream, &s->streams[i]);
    if (secrets && s->streams[i].srtp)
      PUT_SUB(secrets, K_STREAM, put_keys, i, &s->streams[i]);
  }
  if (s->last_answer)
    sr_snap_put_bytes(body, T_LAST_ANSWER, s->last_answer, s->last_answer_len);
  sr_snap_put_u64(body, T_SDP_SESSION_ID, s->sdp_session_id);
  sr_snap_put_u64(body, T_SDP_VERSION, s->sdp_version);
  put_md_docs(body, s);
  for (size_t i = 0; i < sr_session_header_participants(s); i++)
    sr_snap_put_bytes(body, T_HEADER_PARTY, s->cisco->value[i], s->cisco->len[i]);
  if (s->bib_leg != SIPREC_BIB_NONE) {
    sr_snap_put_i64(body, T_BIB_LEG, (int64_t)s->bib_leg);
    sr_snap_put_str(body, T_BIB_KEY, s->bib_key);
    sr_snap_put_str(body, T_BIB_REFCI, s->bib_refci);
    sr_snap_put_str(body, T_BIB_FAREND_REFCI, s->bib_farend_refci);
  }
  for (size_t i = 0; i < n_media; i++)
    PUT_SUB(body, T_MEDIA, sr_session_media_resume_put, &media[i], now);
  sr_snap_put_str(body, T_CS_KEY, s->cs_key);
  sr_snap_put_str(body, T_CONTINUES, s->continues);
  if (body->err)
    return body->err;
  return secrets ? secrets->err : 0;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                  */

static int get_addr(const sr_snap_val *v, sr_sockaddr *a)
{
  memset(a, 0, sizeof *a);
  if (v->len == 7 && v->p[0] == 4) {
    a->in.sin_family = AF_INET;
    memcpy(&a->in.sin_port, v->p + 1, 2);
    memcpy(&a->in.sin_addr, v->p + 3, 4);
    return 0;
  }
  if (v->len == 19 && v->p[0] == 6) {
    a->in6.sin6_family = AF_INET6;
    memcpy(&a->in6.sin6_port, v->p + 1, 2);
    memcpy(&a->in6.sin6_addr, v->p + 3, 16);
    return 0;
  }
  return SIPREC_EPARSE;
}

/* A string value into an owned field: EPARSE or ENOMEM as they are. */
static int get_str(siprec_session *s, const sr_snap_val *v, char **dst)
{
  return sr_snap_strdup(v, &s->mem, dst);
}

/* A byte string with its length (messages may hold NULs in bodies). */
static int get_bytes(siprec_session *s, const sr_snap_val *v, char **dst, size_t *len)
{
  int rc = sr_session_set_str(s, dst, (const char *)v->p, v->len);
  if (!rc)
    *len = v->len;
  return rc;
}

/* What a record reader works on: the session, the time base, and the
 * part being read; `have` counts what must be there. */
typedef struct rd {
  siprec_session *s;
  uint64_t base;
  void *obj;
  int have;
} rd;

static int dialog_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  rd *c = ctx;
  siprec_session *s = c->s;
  sr_dialog *d = &s->dialog;
  uint64_t x;
  int e = 0;
  switch (tag) {
  case D_CALL_ID:
    e = get_bytes(s, v, &d->call_id, &d->call_id_len);
    c->have = !e && v->len > 0;
    break;
  case D_LOCAL_TAG: e = sr_snap_strcpy(v, d->local_tag, sizeof d->local_tag); break;
  case D_REMOTE_TAG: e = get_str(s, v, &d->remote_tag); break;
  case D_REMOTE_TARGET: e = get_str(s, v, &d->remote_target); break;
  case D_ROUTE_SET: e = get_str(s, v, &d->route_set); break;
  case D_REMOTE_FROM: e = get_str(s, v, &d->remote_from); break;
  case D_LOCAL_TO: e = get_str(s, v, &d->local_to); break;
  case D_REMOTE_CSEQ: e = sr_snap_u32(v, &d->remote_cseq); break;
  case D_LOCAL_CSEQ: e = sr_snap_u32(v, &d->local_cseq); break;
  case D_TRANSPORT:
    e = sr_snap_u64(v, SIPREC_TRANSPORT_TLS, &x);
    d->transport = (siprec_transport)x;
    break;
  case D_REMOTE: e = get_addr(v, &d->remote); break;
  case D_LOCAL: e = get_addr(v, &d->local); break;
  case D_CONN_ID: e = sr_snap_u64(v, UINT64_MAX, &d->conn_id); break;
  default: break;
  }
  return e;
}

static int read_dialog(siprec_session *s, const sr_snap_val *val)
{
  rd c = { s, 0, NULL, 0 };
  int rc = sr_snap_each(val, dialog_field, &c);
  if (rc)
    return rc;
  const sr_dialog *d = &s->dialog;
  if (!c.have || !d->local_tag[0] || !d->remote_tag || d->remote.ss_family == 0 ||
      d->local.ss_family == 0)
    return SIPREC_EPARSE;
  return 0;
}

static int invite_tx_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  rd *c = ctx;
  sr_invite_tx *t = &c->s->invite_tx;
  uint64_t x;
  int e = 0;
  switch (tag) {
  case X_BRANCH: e = get_str(c->s, v, &t->branch); break;
  case X_CSEQ: e = sr_snap_u32(v, &t->cseq); break;
  case X_SETTLED_CSEQ: e = sr_snap_u32(v, &t->settled_cseq); break;
  case X_ECHO: e = get_str(c->s, v, &t->echo); break;
  case X_MESSAGE: e = get_bytes(c->s, v, &t->response, &t->response_len); break;
  case X_ACTIVE: e = sr_snap_int(v, 0, 1, &t->active); break;
  case X_CANCELLED: e = sr_snap_int(v, 0, 1, &t->cancelled); break;
  case X_RETX_AT: e = sr_snap_get_time(v, c->base, &t->retx_at); break;
  case X_INTERVAL: e = sr_snap_u64(v, UINT64_MAX, &t->interval); break;
  case X_DEADLINE: e = sr_snap_get_time(v, c->base, &t->deadline); break;
  case X_BUDGET:
    e = sr_snap_u64(v, UINT64_MAX, &x);
    t->budget = x >= SIZE_MAX ? SIZE_MAX : (size_t)x;
    break;
  default: break;
  }
  return e;
}

static int client_tx_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  rd *c = ctx;
  sr_client_tx *t = &c->s->uac_tx;
  switch (tag) {
  case X_PURPOSE: return sr_snap_int(v, SR_UAC_PING, SR_UAC_REOFFER, &t->purpose);
  case X_INVITE: return sr_snap_int(v, 0, 1, &t->invite);
  case X_MESSAGE: return get_bytes(c->s, v, &t->request, &t->request_len);
  case X_CSEQ: return sr_snap_u32(v, &t->cseq);
  case X_BRANCH: return sr_snap_strcpy(v, t->branch, sizeof t->branch);
  case X_RETX_AT: return sr_snap_get_time(v, c->base, &t->retx_at);
  case X_INTERVAL: return sr_snap_u64(v, UINT64_MAX, &t->interval);
  case X_DEADLINE: return sr_snap_get_time(v, c->base, &t->deadline);
  default: return 0;
  }
}

static int ack_tx_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  rd *c = ctx;
  sr_ack_tx *t = &c->s->ack_tx;
  switch (tag) {
  case X_MESSAGE: return get_bytes(c->s, v, &t->ack, &t->ack_len);
  case X_CSEQ: return sr_snap_u32(v, &t->cseq);
  case X_BRANCH: return sr_snap_strcpy(v, t->branch, sizeof t->branch);
  case X_DEADLINE: return sr_snap_get_time(v, c->base, &t->deadline);
  default: return 0;
  }
}

static int timer_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  rd *c = ctx;
  sr_session_timer *t = &c->s->timer;
  switch (tag) {
  case ST_SE: return sr_snap_u32(v, &t->se_s);
  case ST_SRS_REFRESHER: return sr_snap_int(v, 0, 1, &t->srs_refresher);
  case ST_EXPIRE_AT: return sr_snap_get_time(v, c->base, &t->expire_at);
  case ST_REFRESH_AT: return sr_snap_get_time(v, c->base, &t->refresh_at);
  default: return 0;
  }
}

static int alt_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  struct sr_sdp_alt_codec *a = ctx;
  switch (tag) {
  case A_CLOCK: return sr_snap_u32(v, &a->clock_rate);
  case A_CODEC: return sr_snap_u8(v, &a->codec);
  case A_PT: return sr_snap_u8(v, &a->pt) || a->pt > 127 ? SIPREC_EPARSE : 0;
  case A_CHANNELS: return sr_snap_u8(v, &a->channels);
  default: return 0;
  }
}

/* A small signed field into a narrower one. */
static int get_i16(const sr_snap_val *v, int min, int max, int16_t *out)
{
  int x;
  int e = sr_snap_int(v, min, max, &x);
  if (!e)
    *out = (int16_t)x;
  return e;
}

static int get_dir(const sr_snap_val *v, sr_sdp_dir *out)
{
  int x;
  int e = sr_snap_int(v, SR_SDP_SENDRECV, SR_SDP_INACTIVE, &x);
  if (!e)
    *out = (sr_sdp_dir)x;
  return e;
}

static int stream_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  sr_sdp_stream *st = ctx;
  switch (tag) {
  case S_MEDIA: return sr_snap_strcpy(v, st->media, sizeof st->media);
  case S_LABEL: return sr_snap_strcpy(v, st->label, sizeof st->label);
  case S_HAS_LABEL: return sr_snap_u8(v, &st->has_label);
  case S_ACCEPTED: return sr_snap_u8(v, &st->accepted);
  case S_PORT: return sr_snap_u16(v, &st->port);
  case S_PAUSED: return sr_snap_u8(v, &st->paused);
  case S_OFFER_DIR: return get_dir(v, &st->offer_dir);
  case S_ANSWER_DIR: return get_dir(v, &st->answer_dir);
  case S_CODEC: return sr_snap_strcpy(v, st->codec, sizeof st->codec);
  case S_PT: return get_i16(v, -1, 127, &st->pt);
  case S_TE_PT: return get_i16(v, -1, 127, &st->te_pt);
  case S_CLOCK: return sr_snap_u32(v, &st->clock_rate);
  case S_TE_CLOCK: return sr_snap_u32(v, &st->te_clock);
  case S_CHANNELS: return sr_snap_u8(v, &st->channels);
  case S_SRTP: return sr_snap_u8(v, &st->srtp);
  case S_RTCP_MUX: return sr_snap_u8(v, &st->rtcp_mux);
  case S_REMOTE_ADDR: return sr_snap_strcpy(v, st->remote_addr, sizeof st->remote_addr);
  case S_REMOTE_PORT: return sr_snap_u16(v, &st->remote_port);
  case S_REMOTE_RTCP_PORT: return sr_snap_u16(v, &st->remote_rtcp_port);
  case S_PTIME: return sr_snap_u32(v, &st->ptime);
  case S_CRYPTO_TAG: return sr_snap_int(v, -1, 999999999, &st->crypto_tag);
  case S_CRYPTO_SUITE: return sr_snap_strcpy(v, st->crypto_suite, sizeof st->crypto_suite);
  case S_ALT:
    if (st->n_alt >= SR_SDP_ALT_MAX)
      return SIPREC_EPARSE;
    return sr_snap_each(v, alt_field, &st->alt[st->n_alt++]);
  default: return 0;
  }
}

static int read_stream(sr_sdp_stream *st, const sr_snap_val *val)
{
  memset(st, 0, sizeof *st);
  st->pt = -1;
  st->te_pt = -1;
  st->channels = 1;
  return sr_snap_each(val, stream_field, st);
}

/* One stream's keys in the secrets. */
typedef struct keys_rd {
  uint64_t index;
  sr_snap_val remote, local;
} keys_rd;

static int key_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  keys_rd *k = ctx;
  if (tag == KS_INDEX)
    return sr_snap_u64(v, SR_SDP_MAX_STREAMS - 1, &k->index);
  if (tag == KS_REMOTE_KEY)
    k->remote = *v;
  else if (tag == KS_LOCAL_KEY)
    k->local = *v;
  return 0;
}

typedef struct streams_rd {
  sr_sdp_stream *streams;
  size_t n;
} streams_rd;

static int secrets_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  streams_rd *c = ctx;
  if (tag != K_STREAM)
    return 0;
  keys_rd k = { UINT64_MAX, { NULL, 0 }, { NULL, 0 } };
  int rc = sr_snap_each(v, key_field, &k);
  if (rc || k.index >= c->n)
    return SIPREC_EPARSE;
  sr_sdp_stream *st = &c->streams[k.index];
  if (k.remote.p && sr_snap_strcpy(&k.remote, st->remote_key, sizeof st->remote_key))
    return SIPREC_EPARSE;
  if (k.local.p && sr_snap_strcpy(&k.local, st->local_key, sizeof st->local_key))
    return SIPREC_EPARSE;
  return 0;
}

/* The metadata documents applied again, in order, to an empty model. */
static int read_md_docs(siprec_session *s, const sr_snap_val *docs, size_t n,
                        const siprec_metadata_limits *limits)
{
  for (size_t i = 0; i < n; i++) {
    int changed;
    int rc = sr_session_apply_metadata(s, (const char *)docs[i].p, docs[i].len, limits, &changed);
    if (rc < 0)
      return rc;
  }
  sr_session_flush_retired(s);
  return 0;
}

#define MAX_DOCS SR_SESSION_MD_CHAIN_MAX

/* The body's reader: the session's own fields, the parts that are read
 * later (streams, documents, resume points) collected. */
typedef struct body_rd {
  rd c;
  sr_sdp_stream streams[SR_SDP_MAX_STREAMS];
  size_t n_streams;
  sr_snap_val docs[MAX_DOCS];
  size_t n_docs;
  sr_session_media_resume *media;
  size_t n_media, media_cap;
  int have_dialog, have_state;
} body_rd;

static int body_field(void *ctx, unsigned tag, const sr_snap_val *v)
{
  body_rd *b = ctx;
  siprec_session *s = b->c.s;
  int x, e = 0;
  uint64_t u;
  switch (tag) {
  case T_ID: return sr_snap_strcpy(v, s->id, sizeof s->id);
  case T_IS_SIPREC: return sr_snap_int(v, 0, 1, &s->is_siprec);
  case T_STATE:
    /* Only states a live session is written in. */
    e = sr_snap_int(v, SR_SESSION_PENDING, SR_SESSION_CONFIRMED, &x);
    s->state = (sr_session_state)x;
    b->have_state = !e;
    return e;
  case T_AWAITING_ANSWER: return sr_snap_int(v, 0, 1, &s->awaiting_answer);
  case T_DIALOG:
    e = read_dialog(s, v);
    b->have_dialog = !e;
    return e;
  case T_INVITE_TX: return sr_snap_each(v, invite_tx_field, &b->c);
  case T_UAC_TX: return sr_snap_each(v, client_tx_field, &b->c);
  case T_TIMER: return sr_snap_each(v, timer_field, &b->c);
  case T_ACK_TX: return sr_snap_each(v, ack_tx_field, &b->c);
  case T_REOFFER_AT: return sr_snap_get_time(v, b->c.base, &s->reoffer_at);
  case T_PING_AT: return sr_snap_get_time(v, b->c.base, &s->ping_at);
  case T_LAST_ACTIVITY:
    e = sr_snap_get_time(v, b->c.base, &u);
    atomic_store_explicit(&s->last_activity, u, memory_order_relaxed);
    return e;
  case T_STREAM:
    if (b->n_streams >= SR_SDP_MAX_STREAMS)
      return SIPREC_EPARSE;
    return read_stream(&b->streams[b->n_streams++], v);
  case T_LAST_ANSWER: return get_bytes(s, v, &s->last_answer, &s->last_answer_len);
  case T_SDP_SESSION_ID: return sr_snap_u64(v, UINT64_MAX, &s->sdp_session_id);
  case T_SDP_VERSION: return sr_snap_u64(v, UINT64_MAX, &s->sdp_version);
  case T_MD_DOC:
    if (b->n_docs >= MAX_DOCS)
      return SIPREC_EPARSE;
    b->docs[b->n_docs++] = *v;
    return 0;
  case T_HEADER_PARTY: return sr_session_add_header_participant(s, (const char *)v->p, v->len);
  case T_BIB_LEG:
    e = sr_snap_int(v, SIPREC_BIB_NONE, SIPREC_BIB_FAR_END, &x);
    s->bib_leg = (siprec_bib_leg)x;
    return e;
  case T_BIB_KEY: return get_str(s, v, &s->bib_key);
  case T_BIB_REFCI: return get_str(s, v, &s->bib_refci);
  case T_BIB_FAREND_REFCI: return get_str(s, v, &s->bib_farend_refci);
  case T_CS_KEY: return get_str(s, v, &s->cs_key);
  case T_CONTINUES: return v->len < sizeof s->id ? get_str(s, v, &s->continues) : SIPREC_EPARSE;
  case T_MEDIA:
    if (b->n_media >= b->media_cap)
      return 0; /* more than the caller keeps: left out */
    e = sr_session_media_resume_get(&b->media[b->n_media], v, b->c.base);
    if (!e)
      b->n_media++;
    return e;
  default: return 0;
  }
}

int sr_session_snapshot_read(siprec_session *s, const void *body, size_t body_len,
                             const void *secrets, size_t secrets_len, uint64_t base,
                             const siprec_metadata_limits *limits,
                             sr_session_media_resume *media, size_t *n_media)
{
  /* Large (the streams): not on the stack of a host's thread. */
  body_rd *b = sr_calloc(&s->mem, 1, sizeof *b);
  if (!b)
    return SIPREC_ENOMEM;
  b->c = (rd){ s, base, NULL, 0 };
  b->media = media;
  b->media_cap = media ? *n_media : 0;
  sr_snap_val all = { body, body_len };
  int rc = sr_snap_each(&all, body_field, b);
  if (!rc && (!b->have_dialog || !b->have_state || !s->id[0]))
    rc = SIPREC_EPARSE;
  if (!rc && secrets && secrets_len) {
    sr_snap_val sv = { secrets, secrets_len };
    streams_rd sc = { b->streams, b->n_streams };
    rc = sr_snap_each(&sv, secrets_field, &sc);
  }
  if (!rc)
    rc = sr_session_set_streams(s, b->streams, b->n_streams);
  if (!rc) {
    sr_session_flush_retired(s);
    rc = read_md_docs(s, b->docs, b->n_docs, limits);
  }
  if (!rc && !b->n_docs && sr_session_header_participants(s))
    rc = sr_session_metadata_from_headers(s);
  if (n_media)
    *n_media = b->n_media;
  explicit_bzero(b->streams, sizeof b->streams); /* the keys */
  sr_free(&s->mem, b);
  return rc == SIPREC_ENOMEM || rc == 0 ? rc : SIPREC_EPARSE;
}
