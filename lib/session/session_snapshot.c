/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A session writes and reads its own snapshot records (lib/store knows only
 * the bytes): the dialog, its transactions, the session timer, the SDP
 * answer's streams, the metadata documents, the header participants, and
 * the media's resume points. SRTP keys go in the secrets, which the store
 * seals.
 *
 * Times: the host's monotonic clock means nothing in another process or on
 * another machine, so every deadline is written as an offset from the
 * writer's `now`, and read back against a base the handler computes (the
 * reader's now minus the wall-clock time that passed since the writing).
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
};
/* Dialog records. */
enum {
  D_CALL_ID = 1, D_LOCAL_TAG, D_REMOTE_TAG, D_REMOTE_TARGET, D_ROUTE_SET, D_REMOTE_FROM,
  D_LOCAL_TO, D_REMOTE_CSEQ, D_LOCAL_CSEQ, D_TRANSPORT, D_REMOTE, D_LOCAL, D_CONN_ID,
};
/* Transaction records (the INVITE server one and the SRS's client one). */
enum {
  X_BRANCH = 1, X_CSEQ, X_SETTLED_CSEQ, X_ECHO, X_MESSAGE, X_ACTIVE, X_CANCELLED, X_RETX_AT,
  X_INTERVAL, X_DEADLINE, X_BUDGET, X_PURPOSE,
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
/* Times                                                                    */

/* 0 (unset) and UINT64_MAX (never) stay what they are; any other time is
 * an offset from `now`. Encoded as one varint: 0, 1, or 2 + zigzag. */
static void put_time(sr_snap_w *w, unsigned tag, uint64_t t, uint64_t now)
{
  if (t == 0)
    return; /* the default */
  if (t == UINT64_MAX) {
    sr_snap_put_u64(w, tag, 1);
    return;
  }
  int64_t off = (int64_t)(t - now);
  uint64_t z = ((uint64_t)off << 1) ^ (uint64_t)(off >> 63);
  sr_snap_put_u64(w, tag, z + 2 < z ? UINT64_MAX : z + 2);
}

static int get_time(const sr_snap_val *v, uint64_t base, uint64_t *out)
{
  uint64_t z;
  if (sr_snap_u64(v, UINT64_MAX, &z))
    return SIPREC_EPARSE;
  if (z <= 1) {
    *out = z ? UINT64_MAX : 0;
    return 0;
  }
  z -= 2;
  int64_t off = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
  uint64_t t = base + (uint64_t)off;
  /* A deadline before the clock's start is simply due; 0 and UINT64_MAX
   * keep their meanings. */
  if (off < 0 && (uint64_t)-off >= base)
    t = 1;
  if (t == 0 || t == UINT64_MAX)
    t = 1;
  *out = t;
  return 0;
}

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
  put_time(w, X_RETX_AT, t->retx_at, now);
  sr_snap_put_u64(w, X_INTERVAL, t->interval);
  put_time(w, X_DEADLINE, t->deadline, now);
  sr_snap_put_u64(w, X_BUDGET, t->budget == SIZE_MAX ? UINT64_MAX : (uint64_t)t->budget);
}

static void put_client_tx(sr_snap_w *w, const sr_client_tx *t, uint64_t now)
{
  if (!t->purpose)
    return;
  sr_snap_put_i64(w, X_PURPOSE, (int64_t)t->purpose);
  if (t->request)
    sr_snap_put_bytes(w, X_MESSAGE, t->request, t->request_len);
  sr_snap_put_u64(w, X_CSEQ, t->cseq);
  sr_snap_put_str(w, X_BRANCH, t->branch);
  put_time(w, X_RETX_AT, t->retx_at, now);
  sr_snap_put_u64(w, X_INTERVAL, t->interval);
  put_time(w, X_DEADLINE, t->deadline, now);
}

static void put_timer(sr_snap_w *w, const sr_session_timer *t, uint64_t now)
{
  sr_snap_put_u64(w, ST_SE, t->se_s);
  sr_snap_put_i64(w, ST_SRS_REFRESHER, (int64_t)t->srs_refresher);
  put_time(w, ST_EXPIRE_AT, t->expire_at, now);
  put_time(w, ST_REFRESH_AT, t->refresh_at, now);
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
  PUT_SUB(body, T_TIMER, put_timer, &s->timer, now);
  put_time(body, T_PING_AT, s->ping_at, now);
  put_time(body, T_LAST_ACTIVITY, atomic_load_explicit(&((siprec_session *)s)->last_activity,
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
    PUT_SUB(body, T_MEDIA, sr_session_media_resume_put, &media[i]);
  if (body->err)
    return body->err;
  return secrets ? secrets->err : 0;
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                  */

/* One record's value into a field, or EPARSE: each reader below is a
 * switch of these, so a malformed value anywhere refuses the snapshot. */
#define TRY(x)                                                                                     \
  do {                                                                                             \
    if ((x) != 0)                                                                                  \
      return SIPREC_EPARSE;                                                                        \
  } while (0)

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

static int read_dialog(siprec_session *s, const sr_snap_val *val)
{
  sr_dialog *d = &s->dialog;
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc, have_call_id = 0;
  uint64_t x;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case D_CALL_ID:
      e = get_bytes(s, &v, &d->call_id, &d->call_id_len);
      have_call_id = !e && v.len > 0;
      break;
    case D_LOCAL_TAG: e = sr_snap_strcpy(&v, d->local_tag, sizeof d->local_tag); break;
    case D_REMOTE_TAG: e = get_str(s, &v, &d->remote_tag); break;
    case D_REMOTE_TARGET: e = get_str(s, &v, &d->remote_target); break;
    case D_ROUTE_SET: e = get_str(s, &v, &d->route_set); break;
    case D_REMOTE_FROM: e = get_str(s, &v, &d->remote_from); break;
    case D_LOCAL_TO: e = get_str(s, &v, &d->local_to); break;
    case D_REMOTE_CSEQ: e = sr_snap_u32(&v, &d->remote_cseq); break;
    case D_LOCAL_CSEQ: e = sr_snap_u32(&v, &d->local_cseq); break;
    case D_TRANSPORT:
      e = sr_snap_u64(&v, SIPREC_TRANSPORT_TLS, &x);
      d->transport = (siprec_transport)x;
      break;
    case D_REMOTE: e = get_addr(&v, &d->remote); break;
    case D_LOCAL: e = get_addr(&v, &d->local); break;
    case D_CONN_ID: e = sr_snap_u64(&v, UINT64_MAX, &d->conn_id); break;
    default: break;
    }
    if (e)
      return e;
  }
  if (rc < 0 || !have_call_id || !d->local_tag[0] || !d->remote_tag ||
      d->remote.ss_family == 0 || d->local.ss_family == 0)
    return SIPREC_EPARSE;
  return 0;
}

static int read_invite_tx(siprec_session *s, const sr_snap_val *val, uint64_t base)
{
  sr_invite_tx *t = &s->invite_tx;
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc;
  uint64_t x;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case X_BRANCH: e = get_str(s, &v, &t->branch); break;
    case X_CSEQ: e = sr_snap_u32(&v, &t->cseq); break;
    case X_SETTLED_CSEQ: e = sr_snap_u32(&v, &t->settled_cseq); break;
    case X_ECHO: e = get_str(s, &v, &t->echo); break;
    case X_MESSAGE: e = get_bytes(s, &v, &t->response, &t->response_len); break;
    case X_ACTIVE: e = sr_snap_int(&v, 0, 1, &t->active); break;
    case X_CANCELLED: e = sr_snap_int(&v, 0, 1, &t->cancelled); break;
    case X_RETX_AT: e = get_time(&v, base, &t->retx_at); break;
    case X_INTERVAL: e = sr_snap_u64(&v, UINT64_MAX, &t->interval); break;
    case X_DEADLINE: e = get_time(&v, base, &t->deadline); break;
    case X_BUDGET:
      e = sr_snap_u64(&v, UINT64_MAX, &x);
      t->budget = x >= SIZE_MAX ? SIZE_MAX : (size_t)x;
      break;
    default: break;
    }
    if (e)
      return e;
  }
  return rc < 0 ? SIPREC_EPARSE : 0;
}

static int read_client_tx(siprec_session *s, const sr_snap_val *val, uint64_t base)
{
  sr_client_tx *t = &s->uac_tx;
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case X_PURPOSE: e = sr_snap_int(&v, SR_UAC_PING, SR_UAC_BYE, &t->purpose); break;
    case X_MESSAGE: e = get_bytes(s, &v, &t->request, &t->request_len); break;
    case X_CSEQ: e = sr_snap_u32(&v, &t->cseq); break;
    case X_BRANCH: e = sr_snap_strcpy(&v, t->branch, sizeof t->branch); break;
    case X_RETX_AT: e = get_time(&v, base, &t->retx_at); break;
    case X_INTERVAL: e = sr_snap_u64(&v, UINT64_MAX, &t->interval); break;
    case X_DEADLINE: e = get_time(&v, base, &t->deadline); break;
    default: break;
    }
    if (e)
      return e;
  }
  /* An outstanding request is retransmitted: it must be whole. */
  if (rc < 0 || (t->purpose && (!t->request || !t->branch[0])))
    return SIPREC_EPARSE;
  return 0;
}

static int read_timer(siprec_session *s, const sr_snap_val *val, uint64_t base)
{
  sr_session_timer *t = &s->timer;
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case ST_SE: e = sr_snap_u32(&v, &t->se_s); break;
    case ST_SRS_REFRESHER: e = sr_snap_int(&v, 0, 1, &t->srs_refresher); break;
    case ST_EXPIRE_AT: e = get_time(&v, base, &t->expire_at); break;
    case ST_REFRESH_AT: e = get_time(&v, base, &t->refresh_at); break;
    default: break;
    }
    if (e)
      return e;
  }
  return rc < 0 ? SIPREC_EPARSE : 0;
}

static int read_alt(struct sr_sdp_alt_codec *a, const sr_snap_val *val)
{
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case A_CLOCK: e = sr_snap_u32(&v, &a->clock_rate); break;
    case A_CODEC: e = sr_snap_u8(&v, &a->codec); break;
    case A_PT: e = sr_snap_u8(&v, &a->pt); break;
    case A_CHANNELS: e = sr_snap_u8(&v, &a->channels); break;
    default: break;
    }
    if (e)
      return e;
  }
  return rc < 0 || a->pt > 127 ? SIPREC_EPARSE : 0;
}

static int read_stream(sr_sdp_stream *st, const sr_snap_val *val)
{
  memset(st, 0, sizeof *st);
  st->pt = -1;
  st->te_pt = -1;
  st->channels = 1;
  sr_snap_r r = sr_snap_sub(val);
  unsigned tag;
  sr_snap_val v;
  int rc, x;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case S_MEDIA: e = sr_snap_strcpy(&v, st->media, sizeof st->media); break;
    case S_LABEL: e = sr_snap_strcpy(&v, st->label, sizeof st->label); break;
    case S_HAS_LABEL: e = sr_snap_u8(&v, &st->has_label); break;
    case S_ACCEPTED: e = sr_snap_u8(&v, &st->accepted); break;
    case S_PORT: e = sr_snap_u16(&v, &st->port); break;
    case S_PAUSED: e = sr_snap_u8(&v, &st->paused); break;
    case S_OFFER_DIR:
      e = sr_snap_int(&v, SR_SDP_SENDRECV, SR_SDP_INACTIVE, &x);
      st->offer_dir = (sr_sdp_dir)x;
      break;
    case S_ANSWER_DIR:
      e = sr_snap_int(&v, SR_SDP_SENDRECV, SR_SDP_INACTIVE, &x);
      st->answer_dir = (sr_sdp_dir)x;
      break;
    case S_CODEC: e = sr_snap_strcpy(&v, st->codec, sizeof st->codec); break;
    case S_PT:
      e = sr_snap_int(&v, -1, 127, &x);
      st->pt = (int16_t)x;
      break;
    case S_TE_PT:
      e = sr_snap_int(&v, -1, 127, &x);
      st->te_pt = (int16_t)x;
      break;
    case S_CLOCK: e = sr_snap_u32(&v, &st->clock_rate); break;
    case S_TE_CLOCK: e = sr_snap_u32(&v, &st->te_clock); break;
    case S_CHANNELS: e = sr_snap_u8(&v, &st->channels); break;
    case S_SRTP: e = sr_snap_u8(&v, &st->srtp); break;
    case S_RTCP_MUX: e = sr_snap_u8(&v, &st->rtcp_mux); break;
    case S_REMOTE_ADDR: e = sr_snap_strcpy(&v, st->remote_addr, sizeof st->remote_addr); break;
    case S_REMOTE_PORT: e = sr_snap_u16(&v, &st->remote_port); break;
    case S_REMOTE_RTCP_PORT: e = sr_snap_u16(&v, &st->remote_rtcp_port); break;
    case S_PTIME: e = sr_snap_u32(&v, &st->ptime); break;
    case S_CRYPTO_TAG: e = sr_snap_int(&v, -1, 999999999, &st->crypto_tag); break;
    case S_CRYPTO_SUITE: e = sr_snap_strcpy(&v, st->crypto_suite, sizeof st->crypto_suite); break;
    case S_ALT:
      if (st->n_alt >= SR_SDP_ALT_MAX)
        return SIPREC_EPARSE;
      e = read_alt(&st->alt[st->n_alt++], &v);
      break;
    default: break;
    }
    if (e)
      return e;
  }
  return rc < 0 ? SIPREC_EPARSE : 0;
}

/* The keys of the secrets into the streams they name. */
static int read_keys(siprec_session *s, sr_sdp_stream *streams, size_t n,
                     const uint8_t *secrets, size_t secrets_len)
{
  sr_snap_val all = { secrets, secrets_len };
  sr_snap_r r = sr_snap_sub(&all);
  unsigned tag;
  sr_snap_val v;
  int rc;
  (void)s;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    if (tag != K_STREAM)
      continue;
    sr_snap_r k = sr_snap_sub(&v);
    unsigned t2;
    sr_snap_val v2;
    uint64_t index = UINT64_MAX;
    sr_snap_val remote = { NULL, 0 }, local = { NULL, 0 };
    int rc2;
    while ((rc2 = sr_snap_next(&k, &t2, &v2)) > 0) {
      if (t2 == KS_INDEX)
        TRY(sr_snap_u64(&v2, SR_SDP_MAX_STREAMS - 1, &index));
      else if (t2 == KS_REMOTE_KEY)
        remote = v2;
      else if (t2 == KS_LOCAL_KEY)
        local = v2;
    }
    if (rc2 < 0 || index >= n)
      return SIPREC_EPARSE;
    sr_sdp_stream *st = &streams[index];
    if (remote.p)
      TRY(sr_snap_strcpy(&remote, st->remote_key, sizeof st->remote_key));
    if (local.p)
      TRY(sr_snap_strcpy(&local, st->local_key, sizeof st->local_key));
  }
  return rc < 0 ? SIPREC_EPARSE : 0;
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

int sr_session_snapshot_read(siprec_session *s, const void *body, size_t body_len,
                             const void *secrets, size_t secrets_len, uint64_t base,
                             const siprec_metadata_limits *limits,
                             sr_session_media_resume *media, size_t *n_media)
{
  sr_snap_val all = { body, body_len };
  sr_snap_r r = sr_snap_sub(&all);
  unsigned tag;
  sr_snap_val v;
  int rc, x;
  sr_sdp_stream streams[SR_SDP_MAX_STREAMS];
  size_t n_streams = 0, n_docs = 0, media_cap = *n_media;
  sr_snap_val docs[MAX_DOCS];
  int have_dialog = 0, have_state = 0;
  uint64_t u;
  *n_media = 0;
  while ((rc = sr_snap_next(&r, &tag, &v)) > 0) {
    int e = 0;
    switch (tag) {
    case T_ID:
      e = sr_snap_strcpy(&v, s->id, sizeof s->id);
      break;
    case T_IS_SIPREC: e = sr_snap_int(&v, 0, 1, &s->is_siprec); break;
    case T_STATE:
      /* Only states a live session is written in. */
      e = sr_snap_int(&v, SR_SESSION_PENDING, SR_SESSION_CONFIRMED, &x);
      s->state = (sr_session_state)x;
      have_state = !e;
      break;
    case T_AWAITING_ANSWER: e = sr_snap_int(&v, 0, 1, &s->awaiting_answer); break;
    case T_DIALOG:
      e = read_dialog(s, &v);
      have_dialog = !e;
      break;
    case T_INVITE_TX: e = read_invite_tx(s, &v, base); break;
    case T_UAC_TX: e = read_client_tx(s, &v, base); break;
    case T_TIMER: e = read_timer(s, &v, base); break;
    case T_PING_AT: e = get_time(&v, base, &s->ping_at); break;
    case T_LAST_ACTIVITY:
      e = get_time(&v, base, &u);
      atomic_store_explicit(&s->last_activity, u, memory_order_relaxed);
      break;
    case T_STREAM:
      if (n_streams >= SR_SDP_MAX_STREAMS)
        return SIPREC_EPARSE;
      e = read_stream(&streams[n_streams++], &v);
      break;
    case T_LAST_ANSWER: e = get_bytes(s, &v, &s->last_answer, &s->last_answer_len); break;
    case T_SDP_SESSION_ID: e = sr_snap_u64(&v, UINT64_MAX, &s->sdp_session_id); break;
    case T_SDP_VERSION: e = sr_snap_u64(&v, UINT64_MAX, &s->sdp_version); break;
    case T_MD_DOC:
      if (n_docs >= MAX_DOCS)
        return SIPREC_EPARSE;
      docs[n_docs++] = v;
      break;
    case T_HEADER_PARTY:
      e = sr_session_add_header_participant(s, (const char *)v.p, v.len);
      break;
    case T_BIB_LEG:
      e = sr_snap_int(&v, SIPREC_BIB_NONE, SIPREC_BIB_FAR_END, &x);
      s->bib_leg = (siprec_bib_leg)x;
      break;
    case T_BIB_KEY: e = get_str(s, &v, &s->bib_key); break;
    case T_BIB_REFCI: e = get_str(s, &v, &s->bib_refci); break;
    case T_BIB_FAREND_REFCI: e = get_str(s, &v, &s->bib_farend_refci); break;
    case T_MEDIA:
      if (*n_media < media_cap) {
        e = sr_session_media_resume_get(&media[*n_media], &v);
        if (!e)
          (*n_media)++;
      }
      break;
    default: break;
    }
    if (e)
      return e == SIPREC_ENOMEM ? e : SIPREC_EPARSE;
  }
  if (rc < 0 || !have_dialog || !have_state || !s->id[0])
    return SIPREC_EPARSE;
  if (secrets && secrets_len) {
    rc = read_keys(s, streams, n_streams, secrets, secrets_len);
    if (rc)
      return rc;
  }
  rc = sr_session_set_streams(s, streams, n_streams);
  if (rc)
    return rc;
  sr_session_flush_retired(s);
  rc = read_md_docs(s, docs, n_docs, limits);
  if (rc)
    return rc;
  if (!n_docs && sr_session_header_participants(s))
    rc = sr_session_metadata_from_headers(s);
  return rc;
}
