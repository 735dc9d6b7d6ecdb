/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "srtp_fixture.h"

#include <check.h>
#include <string.h>

#include "base64.h"

void srtp_fx_make_key(uint8_t *k, size_t n, uint8_t seed)
{
  for (size_t i = 0; i < n; i++)
    k[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

#ifdef SR_HAVE_SRTP

_Static_assert(sizeof(((srtp_fx_pkt *)0)->prot) > SR_SRTP_MAX_PACKET,
               "room for a packet over the module's bound");

typedef void (*policy_set)(srtp_crypto_policy_t *);

/* Each SDES suite's RTP policy; SRTCP takes the 80-bit tag of the same
 * cipher (RFC 4568), GCM its own. */
static const struct {
  const char *suite;
  policy_set rtp, rtcp;
} policies[] = {
  /* srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80 is a macro for the
   * default, which a table cannot point to. */
  { "AES_CM_128_HMAC_SHA1_80", srtp_crypto_policy_set_rtp_default,
    srtp_crypto_policy_set_rtp_default },
  { "AES_CM_128_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32,
    srtp_crypto_policy_set_rtp_default },
  { "AES_256_CM_HMAC_SHA1_80", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80,
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
  { "AES_256_CM_HMAC_SHA1_32", srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32,
    srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80 },
  { "AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth,
    srtp_crypto_policy_set_aes_gcm_128_16_auth },
  { "AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth,
    srtp_crypto_policy_set_aes_gcm_256_16_auth },
};

int srtp_fx_policy(const char *suite, srtp_policy_t *p)
{
  memset(p, 0, sizeof *p);
  for (size_t i = 0; i < sizeof policies / sizeof policies[0]; i++)
    if (!strcmp(suite, policies[i].suite)) {
      policies[i].rtp(&p->rtp);
      policies[i].rtcp(&p->rtcp);
      p->window_size = 1024;
      return 0;
    }
  return -1;
}

int srtp_fx_tx_create(const char *suite, uint8_t *key, uint32_t ssrc, srtp_t *out)
{
  *out = NULL;
  srtp_policy_t p;
  if (srtp_fx_policy(suite, &p) != 0)
    return -1;
  p.key = key;
  if (ssrc) {
    p.ssrc.type = ssrc_specific;
    p.ssrc.value = ssrc;
  } else {
    p.ssrc.type = ssrc_any_outbound;
  }
  return srtp_create(out, &p) == srtp_err_status_ok ? 0 : -1;
}

int srtp_fx_protect(srtp_t tx, srtp_fx_pkt *p, int how)
{
  memcpy(p->prot, p->plain, p->plain_n);
  int len = (int)p->plain_n;
  bool mki = how & SRTP_FX_MKI;
  srtp_err_status_t st;
  if (how & SRTP_FX_RTCP)
    st = mki ? srtp_protect_rtcp_mki(tx, p->prot, &len, 1, 0) : srtp_protect_rtcp(tx, p->prot, &len);
  else
    st = mki ? srtp_protect_mki(tx, p->prot, &len, 1, 0) : srtp_protect(tx, p->prot, &len);
  p->prot_n = st == srtp_err_status_ok ? (size_t)len : 0;
  return st == srtp_err_status_ok ? 0 : -1;
}

sr_srtp_result srtp_fx_rx(sr_srtp *c, const srtp_fx_pkt *p, bool rtcp)
{
  uint8_t buf[sizeof p->prot];
  memcpy(buf, p->prot, p->prot_n);
  size_t n = p->prot_n;
  sr_srtp_result why = SR_SRTP_RESULT_COUNT;
  int rc = rtcp ? sr_srtp_unprotect_rtcp(c, buf, &n, &why) : sr_srtp_unprotect(c, buf, &n, &why);
  if (why == SR_SRTP_OK) {
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(n, p->plain_n);
    ck_assert_mem_eq(buf, p->plain, n);
  } else {
    ck_assert_int_lt(rc, 0);
    ck_assert_uint_eq(n, 0);
    for (size_t i = 0; i < p->prot_n; i++)
      ck_assert_uint_eq(buf[i], 0); /* nothing delivered */
  }
  return why;
}

sr_srtp *srtp_fx_rx_new(const char *suite, const char *text)
{
  sr_srtp *c = NULL;
  ck_assert_int_eq(sr_srtp_new(NULL, suite, text, &c), 0);
  ck_assert_ptr_nonnull(c);
  return c;
}

sr_srtp *srtp_fx_rx_new_key(const char *suite, const uint8_t *key)
{
  char text[96];
  size_t n = sr_srtp_suite_key_len(suite);
  ck_assert_uint_gt(n, 0);
  base64_encode(key, n, text, true);
  return srtp_fx_rx_new(suite, text);
}

#endif /* SR_HAVE_SRTP */
