/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "srtp.h"

#include <string.h>
#include <strings.h>

#include "../common/alloc.h"
#include "../common/base64.h"
#include "../common/sdes_key.h"

#ifdef SR_HAVE_SRTP
#include <arpa/inet.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#endif
#ifdef SR_HAVE_SRTP_NETTLE
#include "srtp_kernel.h"
#endif

/* ---------------------------------------------------------------------- */
/* Suites and keys (no libsrtp2 needed)                                    */

_Static_assert(SR_SRTP_MAX_MKI == SR_SDES_MAX_MKI, "an MKI the grammar takes fits sr_srtp_key");

typedef enum suite_id {
  S_AES128_80 = 0,
  S_AES128_32,
  S_AES256_80,
  S_AES256_32,
  S_GCM128,
  S_GCM256,
  S_COUNT
} suite_id;

static const struct {
  const char *name;
  size_t key_len;  /* master key + salt */
  size_t rtp_tag;  /* octets of the SRTP tag */
  size_t rtcp_tag; /* of the SRTCP tag (after the 4-octet index) */
} suites[S_COUNT] = {
  [S_AES128_80] = { "AES_CM_128_HMAC_SHA1_80", 30, 10, 10 },
  [S_AES128_32] = { "AES_CM_128_HMAC_SHA1_32", 30, 4, 10 },
  [S_AES256_80] = { "AES_256_CM_HMAC_SHA1_80", 46, 10, 10 },
  [S_AES256_32] = { "AES_256_CM_HMAC_SHA1_32", 46, 4, 10 },
  [S_GCM128] = { "AEAD_AES_128_GCM", 28, 16, 16 },
  [S_GCM256] = { "AEAD_AES_256_GCM", 44, 16, 16 },
};

static int find_suite(const char *name)
{
  if (!name)
    return -1;
  for (int i = 0; i < S_COUNT; i++)
    if (!strcasecmp(name, suites[i].name))
      return i;
  return -1;
}

size_t sr_srtp_suite_key_len(const char *suite)
{
  int s = find_suite(suite);
  return s < 0 ? 0 : suites[s].key_len;
}

int sr_srtp_parse_key(const char *suite, const char *text, sr_srtp_key *out)
{
  if (!suite || !text || !out)
    return SIPREC_EINVAL;
  memset(out, 0, sizeof *out);
  int s = find_suite(suite);
  if (s < 0)
    return SIPREC_ENOTFOUND;
  if (!strncasecmp(text, "inline:", 7))
    text += 7;
  sr_sdes_key_info ki;
  long got = -1;
  if (sr_sdes_key_info_parse(sr_span_cstr(text), &ki) == 0)
    got = sr_b64_decode(ki.key.p, ki.key.n, out->key, sizeof out->key);
  if (got < 0 || (size_t)got != suites[s].key_len) {
    explicit_bzero(out, sizeof *out);
    return SIPREC_EPARSE;
  }
  out->key_len = (size_t)got;
  out->lifetime = ki.lifetime;
  /* The value big-endian in mki_len octets (leading zeros past 8). */
  out->mki_len = ki.mki_len;
  for (size_t i = 0; i < ki.mki_len && i < 8; i++)
    out->mki[ki.mki_len - 1 - i] = (uint8_t)(ki.mki >> (8 * i));
  return 0;
}

const char *sr_srtp_result_name(sr_srtp_result r)
{
  switch (r) {
  case SR_SRTP_OK:
    return "ok";
  case SR_SRTP_AUTH_FAIL:
    return "auth failure";
  case SR_SRTP_REPLAY:
    return "replay";
  case SR_SRTP_BAD_FORMAT:
    return "bad format";
  case SR_SRTP_KEY_EXPIRED:
    return "key expired";
  case SR_SRTP_OTHER:
    return "other";
  case SR_SRTP_RESULT_COUNT:
    break;
  }
  return "unknown";
}

#ifndef SR_HAVE_SRTP

/* ---------------------------------------------------------------------- */
/* Built without libsrtp2                                                   */

bool sr_media_srtp_built(void)
{
  return false;
}

bool sr_media_srtp_suite_supported(const char *suite)
{
  (void)suite;
  return false;
}

int sr_srtp_new(const siprec_allocator *alloc, const char *suite, const char *key_text,
                sr_srtp **out)
{
  (void)alloc;
  (void)suite;
  (void)key_text;
  if (out)
    *out = NULL;
  return SIPREC_ENOTFOUND;
}

int sr_srtp_new_key(const siprec_allocator *alloc, const char *suite, const sr_srtp_key *key,
                    sr_srtp **out)
{
  (void)alloc;
  (void)suite;
  (void)key;
  if (out)
    *out = NULL;
  return SIPREC_ENOTFOUND;
}

void sr_srtp_free(sr_srtp *ctx)
{
  (void)ctx;
}

int sr_srtp_unprotect(sr_srtp *ctx, uint8_t *buf, size_t *len, sr_srtp_result *why)
{
  (void)ctx;
  (void)buf;
  (void)len;
  (void)why;
  return SIPREC_EINVAL;
}

int sr_srtp_unprotect_rtcp(sr_srtp *ctx, uint8_t *buf, size_t *len, sr_srtp_result *why)
{
  return sr_srtp_unprotect(ctx, buf, len, why);
}

void sr_srtp_get_counters(const sr_srtp *ctx, sr_srtp_counters *out)
{
  (void)ctx;
  if (out)
    memset(out, 0, sizeof *out);
}

int sr_srtp_get_roc(const sr_srtp *ctx, uint32_t ssrc, uint32_t *roc, uint16_t *seq)
{
  (void)ctx;
  (void)ssrc;
  (void)roc;
  (void)seq;
  return SIPREC_EINVAL;
}

int sr_srtp_set_roc(sr_srtp *ctx, uint32_t ssrc, uint32_t roc, uint16_t seq)
{
  (void)ctx;
  (void)ssrc;
  (void)roc;
  (void)seq;
  return SIPREC_EINVAL;
}

#else

/* ---------------------------------------------------------------------- */
/* libsrtp2                                                                 */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;
static bool suite_ok[S_COUNT];

static void set_policy(suite_id s, srtp_policy_t *p)
{
  switch (s) {
  case S_AES128_80:
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    break;
  case S_AES128_32:
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    break;
  case S_AES256_80:
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    break;
  case S_AES256_32:
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    break;
  case S_GCM128:
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    break;
  case S_GCM256:
  case S_COUNT:
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
    break;
  }
}

/* Each suite is tried once: a libsrtp2 without a cipher (GCM without a
 * crypto backend) refuses the session. With srtp_nettle, Nettle's AES-CM
 * and HMAC-SHA1 go into libsrtp2's kernel first (srtp_kernel.h), before
 * any srtp_create of ours, the probes included. */
static void init_srtp(void)
{
  if (srtp_init() != srtp_err_status_ok)
    return;
  init_ok = true;
#ifdef SR_HAVE_SRTP_NETTLE
  /* A type libsrtp2 refuses keeps its own implementation: as correct,
   * only slower, so the result changes nothing here. */
  (void)sr_srtp_kernel_install();
#endif
  uint8_t key[SR_SRTP_MAX_KEY] = { 0 };
  for (int s = 0; s < S_COUNT; s++) {
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    set_policy((suite_id)s, &p);
    p.ssrc.type = ssrc_any_inbound;
    p.key = key;
    p.window_size = SR_SRTP_REPLAY_WINDOW;
    srtp_t sess = NULL;
    if (srtp_create(&sess, &p) == srtp_err_status_ok) {
      suite_ok[s] = true;
      srtp_dealloc(sess);
    }
  }
}

static bool srtp_ready(void)
{
  return pthread_once(&init_once, init_srtp) == 0 && init_ok;
}

bool sr_media_srtp_built(void)
{
  return true;
}

bool sr_media_srtp_suite_supported(const char *suite)
{
  int s = find_suite(suite);
  return s >= 0 && srtp_ready() && suite_ok[s];
}

typedef struct ssrc_entry {
  uint32_t ssrc;
  bool used;
  bool rtp_seen; /* an SRTP packet of it was delivered: roc/seq are its */
  bool restored; /* roc/seq restored by sr_srtp_set_roc, no packet yet */
  uint32_t roc;
  uint16_t seq;
  uint64_t last_use;
} ssrc_entry;

struct sr_srtp {
  siprec_allocator alloc;
  srtp_t sess;
  suite_id suite;
  sr_srtp_key key; /* kept for streams added on restore; wiped on free */
  sr_srtp_counters counters;
  uint64_t tick;
  ssrc_entry ssrc[SR_SRTP_MAX_SSRC];
};

static void fill_policy(const sr_srtp *c, srtp_policy_t *p, srtp_master_key_t *mk,
                        srtp_master_key_t **mks)
{
  memset(p, 0, sizeof *p);
  set_policy(c->suite, p);
  p->ssrc.type = ssrc_any_inbound;
  p->window_size = SR_SRTP_REPLAY_WINDOW;
  if (c->key.mki_len) {
    mk->key = (unsigned char *)c->key.key;
    mk->mki_id = (unsigned char *)c->key.mki;
    mk->mki_size = (unsigned)c->key.mki_len;
    mks[0] = mk;
    p->keys = mks;
    p->num_master_keys = 1;
  } else {
    p->key = (unsigned char *)c->key.key;
  }
}

int sr_srtp_new_key(const siprec_allocator *alloc, const char *suite, const sr_srtp_key *key,
                    sr_srtp **out)
{
  if (!out || !key)
    return SIPREC_EINVAL;
  *out = NULL;
  int s = find_suite(suite);
  if (s < 0 || key->key_len != suites[s].key_len || key->mki_len > SR_SRTP_MAX_MKI)
    return s < 0 ? SIPREC_ENOTFOUND : SIPREC_EINVAL;
  if (!srtp_ready())
    return SIPREC_EAGAIN;
  if (!suite_ok[s])
    return SIPREC_ENOTFOUND;
  siprec_allocator a;
  int rc;
  sr_srtp *c = sr_object_new(alloc, sizeof *c, &a, &rc);
  if (!c)
    return rc;
  c->alloc = a;
  c->suite = (suite_id)s;
  c->key = *key;
  srtp_policy_t p;
  srtp_master_key_t mk, *mks[1];
  fill_policy(c, &p, &mk, mks);
  srtp_err_status_t st = srtp_create(&c->sess, &p);
  if (st != srtp_err_status_ok) {
    explicit_bzero(c, sizeof *c);
    sr_free(&a, c);
    return st == srtp_err_status_alloc_fail ? SIPREC_ENOMEM : SIPREC_EINVAL;
  }
  *out = c;
  return 0;
}

int sr_srtp_new(const siprec_allocator *alloc, const char *suite, const char *key_text,
                sr_srtp **out)
{
  if (!out)
    return SIPREC_EINVAL;
  *out = NULL;
  sr_srtp_key k;
  int rc = sr_srtp_parse_key(suite, key_text, &k);
  if (rc == 0)
    rc = sr_srtp_new_key(alloc, suite, &k, out);
  explicit_bzero(&k, sizeof k);
  return rc;
}

void sr_srtp_free(sr_srtp *ctx)
{
  if (!ctx)
    return;
  if (ctx->sess)
    srtp_dealloc(ctx->sess);
  siprec_allocator a = ctx->alloc;
  explicit_bzero(ctx, sizeof *ctx);
  sr_free(&a, ctx);
}

static uint32_t get32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static ssrc_entry *find_ssrc(const sr_srtp *c, uint32_t ssrc)
{
  for (size_t i = 0; i < SR_SRTP_MAX_SSRC; i++)
    if (c->ssrc[i].used && c->ssrc[i].ssrc == ssrc)
      return (ssrc_entry *)&c->ssrc[i];
  return NULL;
}

/* A slot for `ssrc`: a free one, or the least recently used one, whose
 * libsrtp2 stream is removed. */
static ssrc_entry *add_ssrc(sr_srtp *c, uint32_t ssrc)
{
  ssrc_entry *victim = &c->ssrc[0];
  for (size_t i = 0; i < SR_SRTP_MAX_SSRC; i++) {
    ssrc_entry *e = &c->ssrc[i];
    if (!e->used) {
      victim = e;
      break;
    }
    if (e->last_use < victim->last_use)
      victim = e;
  }
  if (victim->used)
    srtp_remove_stream(c->sess, htonl(victim->ssrc));
  memset(victim, 0, sizeof *victim);
  victim->used = true;
  victim->ssrc = ssrc;
  return victim;
}

/* RFC 3711 section 3.3.1: the ROC of sequence number s given the highest
 * (roc, s_l) seen. */
static uint32_t estimate_roc(uint32_t roc, uint16_t s_l, uint16_t s)
{
  if (s_l < 32768)
    return (s > s_l && s - s_l > 32768 && roc > 0) ? roc - 1 : roc;
  return (s < s_l - 32768) ? roc + 1 : roc;
}

static sr_srtp_result classify(srtp_err_status_t st)
{
  switch (st) {
  case srtp_err_status_ok:
    return SR_SRTP_OK;
  case srtp_err_status_auth_fail:
  case srtp_err_status_bad_mki:
    return SR_SRTP_AUTH_FAIL;
  case srtp_err_status_replay_fail:
  case srtp_err_status_replay_old:
  case srtp_err_status_pkt_idx_old:
    return SR_SRTP_REPLAY;
  case srtp_err_status_bad_param:
  case srtp_err_status_parse_err:
    return SR_SRTP_BAD_FORMAT;
  case srtp_err_status_key_expired:
    return SR_SRTP_KEY_EXPIRED;
  default:
    return SR_SRTP_OTHER;
  }
}

static int failed(uint64_t *counters, uint8_t *buf, size_t *len, sr_srtp_result r,
                  sr_srtp_result *why)
{
  counters[r]++;
  memset(buf, 0, *len);
  *len = 0;
  if (why)
    *why = r;
  return r == SR_SRTP_OTHER ? SIPREC_ENOMEM : SIPREC_EPARSE;
}

/* The SDP's lifetime used up in one direction: as many packets delivered
 * under the key (RFC 4568 section 6.1: the most SRTP, or SRTCP, packets
 * the master key may protect). */
static bool expired(const sr_srtp *c, const uint64_t *counters)
{
  return c->key.lifetime && counters[SR_SRTP_OK] >= c->key.lifetime;
}

static size_t mki_len(const sr_srtp *c)
{
  return c->key.mki_len;
}

/* After a delivered SRTP packet of seq s: remember the ROC and the highest
 * sequence number. */
static void note_rtp(sr_srtp *c, ssrc_entry *e, uint16_t s)
{
  uint32_t roc = 0;
  if (srtp_get_stream_roc(c->sess, e->ssrc, &roc) != srtp_err_status_ok)
    return;
  if (!e->rtp_seen || roc != e->roc || (int16_t)(uint16_t)(s - e->seq) > 0) {
    e->roc = roc;
    e->seq = s;
  }
  e->rtp_seen = true;
  e->restored = false;
}

int sr_srtp_unprotect(sr_srtp *c, uint8_t *buf, size_t *len, sr_srtp_result *why)
{
  if (!c || !buf || !len)
    return SIPREC_EINVAL;
  size_t n = *len;
  if (n > SR_SRTP_MAX_PACKET || n < 12 + suites[c->suite].rtp_tag + mki_len(c) ||
      (buf[0] >> 6) != 2)
    return failed(c->counters.rtp, buf, len, SR_SRTP_BAD_FORMAT, why);
  if (expired(c, c->counters.rtp))
    return failed(c->counters.rtp, buf, len, SR_SRTP_KEY_EXPIRED, why);
  uint32_t ssrc = get32(buf + 8);
  uint16_t s = (uint16_t)(buf[2] << 8 | buf[3]);
  ssrc_entry *e = find_ssrc(c, ssrc);
  if (e && e->restored)
    srtp_set_stream_roc(c->sess, ssrc, estimate_roc(e->roc, e->seq, s));
  int l = (int)n;
  srtp_err_status_t st = c->key.mki_len ? srtp_unprotect_mki(c->sess, buf, &l, 1)
                                        : srtp_unprotect(c->sess, buf, &l);
  sr_srtp_result r = classify(st);
  if (r != SR_SRTP_OK || l < 12 || (size_t)l > n)
    return failed(c->counters.rtp, buf, len, r != SR_SRTP_OK ? r : SR_SRTP_OTHER, why);
  if (!e)
    e = add_ssrc(c, ssrc);
  e->last_use = ++c->tick;
  note_rtp(c, e, s);
  c->counters.rtp[SR_SRTP_OK]++;
  *len = (size_t)l;
  if (why)
    *why = SR_SRTP_OK;
  return 0;
}

int sr_srtp_unprotect_rtcp(sr_srtp *c, uint8_t *buf, size_t *len, sr_srtp_result *why)
{
  if (!c || !buf || !len)
    return SIPREC_EINVAL;
  size_t n = *len;
  if (n > SR_SRTP_MAX_PACKET || n < 8 + 4 + suites[c->suite].rtcp_tag + mki_len(c) ||
      (buf[0] >> 6) != 2)
    return failed(c->counters.rtcp, buf, len, SR_SRTP_BAD_FORMAT, why);
  if (expired(c, c->counters.rtcp))
    return failed(c->counters.rtcp, buf, len, SR_SRTP_KEY_EXPIRED, why);
  uint32_t ssrc = get32(buf + 4);
  int l = (int)n;
  srtp_err_status_t st = c->key.mki_len ? srtp_unprotect_rtcp_mki(c->sess, buf, &l, 1)
                                        : srtp_unprotect_rtcp(c->sess, buf, &l);
  sr_srtp_result r = classify(st);
  if (r != SR_SRTP_OK || l < 8 || (size_t)l > n)
    return failed(c->counters.rtcp, buf, len, r != SR_SRTP_OK ? r : SR_SRTP_OTHER, why);
  ssrc_entry *e = find_ssrc(c, ssrc);
  if (!e)
    e = add_ssrc(c, ssrc);
  e->last_use = ++c->tick;
  c->counters.rtcp[SR_SRTP_OK]++;
  *len = (size_t)l;
  if (why)
    *why = SR_SRTP_OK;
  return 0;
}

void sr_srtp_get_counters(const sr_srtp *c, sr_srtp_counters *out)
{
  if (!out)
    return;
  if (c)
    *out = c->counters;
  else
    memset(out, 0, sizeof *out);
}

int sr_srtp_get_roc(const sr_srtp *c, uint32_t ssrc, uint32_t *roc, uint16_t *seq)
{
  if (!c || !roc || !seq)
    return SIPREC_EINVAL;
  const ssrc_entry *e = find_ssrc(c, ssrc);
  if (!e || !e->rtp_seen)
    return SIPREC_ENOTFOUND;
  *roc = e->roc;
  *seq = e->seq;
  return 0;
}

int sr_srtp_set_roc(sr_srtp *c, uint32_t ssrc, uint32_t roc, uint16_t seq)
{
  if (!c)
    return SIPREC_EINVAL;
  ssrc_entry *e = find_ssrc(c, ssrc);
  if (e && e->rtp_seen)
    return SIPREC_EEXIST;
  if (!e) {
    size_t used = 0;
    for (size_t i = 0; i < SR_SRTP_MAX_SSRC; i++)
      used += c->ssrc[i].used;
    if (used == SR_SRTP_MAX_SSRC)
      return SIPREC_ETOOBIG;
  }
  /* A fresh stream of its own (an SRTCP packet may have made one: it
   * knows no ROC), on which libsrtp2's pending ROC places the next
   * packets. */
  srtp_remove_stream(c->sess, htonl(ssrc));
  srtp_policy_t p;
  srtp_master_key_t mk, *mks[1];
  fill_policy(c, &p, &mk, mks);
  p.ssrc.type = ssrc_specific;
  p.ssrc.value = ssrc;
  srtp_err_status_t st = srtp_add_stream(c->sess, &p);
  if (st != srtp_err_status_ok) {
    if (e)
      memset(e, 0, sizeof *e);
    return st == srtp_err_status_alloc_fail ? SIPREC_ENOMEM : SIPREC_EINVAL;
  }
  if (!e)
    e = add_ssrc(c, ssrc);
  e->restored = true;
  e->roc = roc;
  e->seq = seq;
  e->last_use = ++c->tick;
  return 0;
}

#endif
